"""Engines tried against our default CPU engine and measured before choosing: `python -m benchmarks.alternatives`.

    python -m benchmarks.alternatives onnx    --precision fp32|int8   # ONNX Runtime export (pip install .[onnx])
    python -m benchmarks.alternatives compile --precision fp32|int8   # torch.compile of every transformer block

Each candidate and our engine (`accel.optimise_for_cpu(load_model(...), precision)`, what `Recognizer` runs)
are loaded in one process and timed on the same waveform (`encode` only, no decoding) in blocks: ours, the
candidate, ours again (see `compare`), medians. ONNX Runtime keeps its default thread settings (its workers
busy-wait between runs, which is why the blocks are separated by a pause rather than interleaved). Also reported: the one-off cost (export + session / compilation) and the largest change in the
utterance probabilities against our engine. Prints a table and writes `benchmarks/results/<time>-alt-<kind>.json`.

The ONNX graph is the encoder's forward with the key-padding mask always built (so one graph serves padded
batches), exported by `torch.onnx.export(dynamo=True)` with dynamic batch and length; int8 is ONNX Runtime's
dynamic quantisation of every MatMul (per-channel int8 weights), the counterpart of our int8 engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.run import RESULTS_DIR, ensure_model, machine

Encode = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # waveform -> (features (frames, dim), probs)


class ExportableEncoder(nn.Module):
    """Emotion2vecEncoder.forward with the padding mask always applied (no data-dependent branch), for
    torch.export. (batch, samples) normalised 16 kHz waveforms + (batch,) lengths -> (batch, frames, dim)
    features and (batch,) frame lengths."""

    def __init__(self, encoder):
        super().__init__()
        self.e = encoder

    def forward(self, wav: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.e(wav, lengths, always_mask=True)


def ours(model_dir: Path, precision: str):
    """Our default CPU engine for `precision` (what Recognizer loads)."""
    from emostudio.model.accel import optimise_for_cpu
    from emostudio.model.checkpoint import load_model

    loaded = load_model(str(model_dir), device="cpu", allow_download=False)
    return optimise_for_cpu(loaded, precision, threads=torch.get_num_threads()).encoder


def torch_encode(encoder) -> Encode:
    def run(w: np.ndarray):
        out = encoder.encode([w])
        return out.features[0].numpy(), torch.softmax(out.logits[0], -1).numpy()

    return run


def onnx_candidate(model_dir: Path, precision: str, work: Path) -> tuple[Encode, dict]:
    """Export the fp32 model to ONNX (and quantise it for int8); an ONNX Runtime session on all cores."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:
        raise SystemExit(f"onnx probe: {e}; install the extra first: pip install -e '.[onnx]'") from e
    from emostudio.model.checkpoint import load_model
    from emostudio.model.encoder import normalize_waveforms

    encoder = load_model(str(model_dir), device="cpu", allow_download=False).encoder.requires_grad_(False)
    head = encoder.head
    cost = {}
    t0 = time.perf_counter()
    wav, lengths = torch.randn(1, 48_000) * 0.1, torch.tensor([48_000])
    dims = {"wav": {0: torch.export.Dim("batch", max=64), 1: torch.export.Dim("samples", min=800)}}
    dims["lengths"] = {0: dims["wav"][0]}
    path = work / "encoder.onnx"
    torch.onnx.export(
        ExportableEncoder(encoder).eval(), (wav, lengths), str(path), dynamo=True, external_data=True,
        input_names=["wav", "lengths"], output_names=["features", "frame_lengths"], dynamic_shapes=dims,
    )  # fmt: skip
    cost["export_s"] = time.perf_counter() - t0
    if precision == "int8":
        t0 = time.perf_counter()
        quantized = work / "encoder-int8.onnx"
        quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        cost["quantise_s"] = time.perf_counter() - t0
        path = quantized
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    cost["session_s"] = time.perf_counter() - t0
    cost["onnxruntime"] = ort.__version__

    def run(w: np.ndarray):
        x, n = torch.from_numpy(w)[None], torch.tensor([w.size])
        feats, _ = session.run(None, {"wav": normalize_waveforms(x, n).numpy(), "lengths": n.numpy()})
        with torch.inference_mode():
            probs = torch.softmax(head(torch.from_numpy(feats[0]).mean(0)), -1)
        return feats[0], probs.numpy()

    return run, cost


def compile_candidate(model_dir: Path, precision: str) -> tuple[Encode, dict]:
    """Our engine with every transformer block wrapped by torch.compile (inductor, dynamic shapes)."""
    encoder = ours(model_dir, precision)
    for blk in [*encoder.prenet, *encoder.blocks]:
        blk.compile(dynamic=True)
    run = torch_encode(encoder)
    t0 = time.perf_counter()
    run(np.zeros(16_000, np.float32) + 1e-3)  # first call compiles
    return run, {"compile_s": time.perf_counter() - t0, "torch": torch.__version__}


def compare(ref: Encode, cand: Encode, clips_s: list[float], reps: int, say=print) -> list[dict]:
    """Per clip: one warm-up call each, then blocks of `reps` calls, ours / candidate / ours, with a 1 s pause
    between blocks (ONNX Runtime's worker threads busy-wait after a run and would slow whatever runs next).
    Ours is the median over both of its blocks, so a drift in machine speed during the clip averages out."""
    rows = []
    for secs in clips_s:
        w = (np.random.default_rng(0).standard_normal(int(16_000 * secs)) * 0.1).astype(np.float32)
        times: dict[str, list[float]] = {"ours": [], "candidate": []}
        outs = {"ours": ref(w), "candidate": cand(w)}
        for key, fn, n in (
            ("ours", ref, (reps + 1) // 2),
            ("candidate", cand, reps),
            ("ours", ref, reps // 2),
        ):
            time.sleep(1.0)
            for _ in range(n):
                t0 = time.perf_counter()
                outs[key] = fn(w)
                times[key].append(time.perf_counter() - t0)
        ours_s, cand_s = statistics.median(times["ours"]), statistics.median(times["candidate"])
        row = {
            "clip_s": secs,
            "ours_s": ours_s,
            "candidate_s": cand_s,
            "candidate_vs_ours": cand_s / ours_s,
            "ours_times_s": times["ours"],
            "candidate_times_s": times["candidate"],
            "max_prob_diff": float(np.abs(outs["ours"][1] - outs["candidate"][1]).max()),
            "max_feature_diff": float(np.abs(outs["ours"][0] - outs["candidate"][0]).max()),
        }
        say(f"{secs:g} s: ours {ours_s:.3f} s, candidate {cand_s:.3f} s ({row['candidate_vs_ours']:.2f}x)")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.alternatives", description=__doc__.splitlines()[0]
    )
    ap.add_argument("kind", choices=["onnx", "compile"])
    ap.add_argument("--precision", choices=["fp32", "int8"], default="fp32")
    ap.add_argument("--arch", default="plus_large", help="random-weight architecture (default plus_large)")
    ap.add_argument("--clips", default="3,10,30", help="clip lengths in seconds, comma-separated")
    ap.add_argument("--reps", type=int, default=5, help="timed rounds per clip after 2 warm-up rounds")
    ap.add_argument("--work-dir", default=str(Path.home() / ".cache" / "emostudio-bench"))
    ap.add_argument("--results-dir", default=str(RESULTS_DIR))
    args = ap.parse_args(argv)
    say = lambda s: print(f"[alt] {s}", file=sys.stderr, flush=True)  # noqa: E731
    started = dt.datetime.now().astimezone()
    model_dir = ensure_model(Path(args.work_dir), args.arch)
    ref = torch_encode(ours(model_dir, args.precision))
    with tempfile.TemporaryDirectory() as tmp:
        if args.kind == "onnx":
            cand, cost = onnx_candidate(model_dir, args.precision, Path(tmp))
        else:
            cand, cost = compile_candidate(model_dir, args.precision)
        say(
            f"{args.kind} ready: "
            + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in cost.items())
        )
        rows = compare(ref, cand, [float(s) for s in args.clips.split(",")], args.reps, say)
    command = "python -m benchmarks.alternatives " + " ".join(argv if argv is not None else sys.argv[1:])
    r = {"started": started.isoformat(timespec="seconds"), "command": command, "kind": args.kind,
         "precision": args.precision, "arch": args.arch, "machine": machine(), "one_off": cost, "rows": rows}  # fmt: skip
    print(f"\n{args.kind} ({args.precision}) against ours ({args.precision}), {args.arch}, same process, "
          f"median of {args.reps} each; one-off: " + ", ".join(f"{k} {v:.1f} s" for k, v in cost.items() if isinstance(v, float)))  # fmt: skip
    print("| clip | ours s | candidate s | candidate / ours | max prob. diff | max feature diff |")
    print("|---|---|---|---|---|---|")
    for x in rows:
        print(f"| {x['clip_s']:g} s | {x['ours_s']:.3f} | {x['candidate_s']:.3f} | {x['candidate_vs_ours']:.2f} "
              f"| {x['max_prob_diff']:.1e} | {x['max_feature_diff']:.1e} |")  # fmt: skip
    from emostudio.atomic import write_json

    out = Path(args.results_dir) / f"{started:%Y%m%d-%H%M%S}-alt-{args.kind}-{args.precision}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, r)
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
