"""Where one encode spends its time: torch.profiler self CPU time by operator and input shape.

    python -m benchmarks.profile_encode                          # plus_large fp32, 10 s clip, 1 thread
    python -m benchmarks.profile_encode --threads 2 --precision int8 --clip-s 3

Uses the benchmark's random-weight checkpoint and synthetic clip (built on first use, like `benchmarks.run`),
encodes twice to warm up, then profiles `--reps` encodes (waveform in, logits out; no decoding). Each row gives an
operator with its input shapes, seconds per encode, share of the profiled time and, for matrix products, the
achieved GFLOP/s: this is what explains the fp32 efficiency table of `benchmarks.run` (RESULTS.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.corpus import fixed_clips


def matmul_flops(op: str, shapes: list) -> float:
    """FLOPs of one mm/addmm call from its recorded input shapes (0 for other operators)."""
    if op == "aten::mm" and len(shapes) >= 2 and len(shapes[0]) == 2 and len(shapes[1]) == 2:
        (m, k), (_, n) = shapes[0], shapes[1]
    elif op == "aten::addmm" and len(shapes) >= 3 and len(shapes[1]) == 2 and len(shapes[2]) == 2:
        (m, k), (_, n) = shapes[1], shapes[2]
    else:
        return 0.0
    return 2.0 * m * k * n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_encode", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--arch", default="plus_large")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "int8", "bf16"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clip-s", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--top", type=int, default=14)
    ap.add_argument("--work-dir", default=str(Path.home() / ".cache" / "emostudio-bench"))
    args = ap.parse_args(argv)

    import numpy as np
    import scipy.io.wavfile
    import torch
    from torch.profiler import ProfilerActivity, profile

    from benchmarks.run import ensure_model
    from benchmarks.worker import Ours

    work = Path(args.work_dir)
    model = ensure_model(work, args.arch)
    clip = fixed_clips(work / "clips", [args.clip_s])[0]
    torch.set_num_threads(args.threads)
    ours = Ours({"model": str(model), "precision": args.precision, "threads": args.threads})
    _, pcm = scipy.io.wavfile.read(clip.path)
    wave = (pcm / 32768.0).astype(np.float32)
    encode = ours.encoder()
    with torch.inference_mode():
        encode(wave)
        encode(wave)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            for _ in range(args.reps):
                encode(wave)
    events = prof.key_averages(group_by_input_shape=True)
    total = sum(e.self_cpu_time_total for e in events) / 1e6 / args.reps
    print(
        f"{args.arch} {args.precision}, {args.clip_s:g} s clip, {torch.get_num_threads()} thread(s): "
        f"{total:.3f} s of profiled self CPU time per encode"
    )
    print(
        f"{'operator':44s} {'input shapes':60s} {'s/encode':>9s} {'share':>6s} {'calls':>5s} {'GFLOP/s':>8s}"
    )
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[: args.top]:
        seconds = e.self_cpu_time_total / 1e6 / args.reps
        calls = e.count // args.reps
        flops = matmul_flops(e.key, e.input_shapes) * calls
        rate = f"{flops / seconds / 1e9:8.1f}" if flops and seconds > 0 else f"{'':8s}"
        shapes = str([s for s in e.input_shapes if s])[:60]
        print(f"{e.key[:44]:44s} {shapes:60s} {seconds:9.3f} {100 * seconds / total:5.1f}% {calls:5d} {rate}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
