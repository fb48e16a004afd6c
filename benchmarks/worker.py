"""One benchmark task for one system, in its own process: `python -m benchmarks.worker '<json spec>'`.

Each task runs in a fresh interpreter so import time, memory and thread pools are never shared between
systems. The child prints one line `RESULT <json>` on stdout; peak RSS comes from `resource.getrusage`.

spec: {"system": "ours" | "funasr", "task": "session" | "engine" | "serve", "model": DIR,
       "precision": "fp32" | "bf16" | "int8" (ours), "threads": N, ...task fields}
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "MODELSCOPE_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def proc_status_kb(status: str | os.PathLike, field_: str) -> int:
    """One `Vm*` field (e.g. "VmHWM:") of a /proc/<pid>/status file in KiB; 0 when absent or the process is gone."""
    try:
        with open(status) as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field_))
    except (OSError, StopIteration, ValueError):
        return 0


def own_peak_rss_kb() -> int:
    """This process's own peak resident memory, KiB: VmHWM of its address space. `ru_maxrss` would not do: Linux
    carries a parent's high-water mark into a child across fork + exec, so a worker started by a parent that once
    held a model would report the parent's peak."""
    # no /proc (not Linux): the rusage figure
    return proc_status_kb("/proc/self/status", "VmHWM:") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_mb() -> dict:
    """Peak resident memory of this process and of its (waited-for) children, MiB."""
    own = own_peak_rss_kb() / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(own, 1), "children_peak_rss_mb": round(kids, 1)}


# ---------------------------------------------------------------------------------------------------- systems
class Ours:
    """emostudio: Recognizer on the native engine (optionally CPU-accelerated); run_batch for corpora."""

    name = "ours"

    def __init__(self, spec: dict):
        from emostudio.model.checkpoint import load_model
        from emostudio.recognize import Recognizer

        device = spec.get("device", "cpu")
        precision = spec.get("precision", "fp32")
        if device == "cpu":
            from emostudio.model.accel import optimise_for_cpu

            loaded = optimise_for_cpu(
                load_model(spec["model"], device="cpu", allow_download=False),
                precision=precision,
                threads=spec.get("threads"),
                lanes=spec.get("lanes"),
            )
        else:
            loaded = load_model(spec["model"], device=device, dtype=precision, allow_download=False)
        self.rec = Recognizer(model=loaded)
        self.decode_workers = int(spec.get("decode_workers", 1))
        self.decode_executor = spec.get("decode_executor", "process")
        if spec.get("batch_seconds"):
            self.rec.settings.batch_seconds = float(spec["batch_seconds"])

    def long(self, path: str, granularity: str, out_dir: str) -> dict:
        """One long recording the way `emostudio analyze FILE --out DIR` does it: decode, VAD, quality, split,
        score, run folder (result.json, frames.csv, processed audio) written."""
        r = self.rec.analyze(path, granularity=granularity, output_dir=out_dir)
        return {"probs": r.probs.tolist(), "segments": len(r.segments), "audio_s": r.audio["duration_s"]}

    def network(self):
        return self.rec.model.encoder

    def encoder(self):
        """waveform (samples,) float32 16 kHz -> utterance logits: the model alone, no decoding."""
        enc = self.rec.model.encoder
        return lambda w: enc.encode([w]).logits

    def one(self, path: str, granularity: str) -> list[float]:
        return self.rec.analyze(path, granularity=granularity, quality=False).probs.tolist()

    def corpus(self, paths: list[str], granularity: str) -> dict:
        from emostudio.batch import InputItem, run_batch

        items = [InputItem(id=f"{i:05d}", path=p) for i, p in enumerate(paths)]
        # where the wall time goes: seconds inside the model's batched scoring (both lanes busy or waiting for
        # a group's last batch) against the whole run (decode, result files, scheduling around it)
        score, model_s = self.rec.score_waveforms, [0.0]

        def timed_score(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return score(*args, **kwargs)
            finally:
                model_s[0] += time.perf_counter() - t0

        self.rec.score_waveforms = timed_score  # type: ignore[method-assign]
        with tempfile.TemporaryDirectory() as out:
            s = run_batch(
                items,
                out,
                recognizer=self.rec,
                granularity=granularity,
                quality=False,
                workers=self.decode_workers,
                executor=self.decode_executor,
            )
        if s.failed:
            raise RuntimeError(f"run_batch: {s.failed} inputs failed: {s.errors}")
        return {
            "runner": "emostudio.batch.run_batch",
            "files": s.processed,
            "audio_s": s.audio_s,
            "wall_s": s.wall_s,
            "model_s": model_s[0],
        }


class FunASR:
    """FunASR 1.4.16 `AutoModel(model=DIR).generate`, offline, CPU."""

    name = "funasr"

    def __init__(self, spec: dict):
        os.environ.update(OFFLINE_ENV)
        from funasr import AutoModel

        # ncpu: FunASR's thread count (its default 4 oversubscribes small machines); same count as ours
        threads = spec.get("threads") or len(os.sched_getaffinity(0))
        self.model = AutoModel(
            model=spec["model"],
            disable_update=True,
            device=spec.get("device", "cpu"),
            hub="ms",
            log_level="ERROR",
            ncpu=threads,
        )

    def _generate(self, inp, granularity: str) -> list:
        return self.model.generate(
            input=inp, granularity=granularity, extract_embedding=False, disable_pbar=True
        )

    def one(self, path: str, granularity: str) -> list[float]:
        return list(self._generate(path, granularity)[0]["scores"])

    def long(self, path: str, granularity: str, out_dir: str) -> dict:
        """One long recording through `generate(input=path)`: FunASR scores the whole file in one pass."""
        import soundfile

        return {"probs": self.one(path, granularity), "segments": 1, "audio_s": soundfile.info(path).duration}

    def network(self):
        return self.model.model

    def encoder(self):
        """waveform (samples,) float32 16 kHz -> utterance logits, as `Emotion2vec.inference` computes them
        (layer norm over the waveform, extract_features, mean over frames, proj), without file loading."""
        import torch
        import torch.nn.functional as F

        net = self.model.model

        def run(w):
            with torch.no_grad():
                source = torch.from_numpy(w)
                source = F.layer_norm(source, source.shape).view(1, -1)
                x = net.extract_features(source, padding_mask=None)["x"]
                return net.proj(x.mean(dim=1))

        return run

    def corpus(self, paths: list[str], granularity: str) -> dict:
        t0 = time.perf_counter()
        out = self._generate(paths, granularity)
        wall = time.perf_counter() - t0
        if len(out) != len(paths):
            raise RuntimeError(f"FunASR returned {len(out)} results for {len(paths)} inputs")
        import soundfile

        audio_s = sum(soundfile.info(p).duration for p in paths)
        return {
            "runner": "AutoModel.generate(list of paths)",
            "files": len(paths),
            "audio_s": audio_s,
            "wall_s": wall,
        }


SYSTEMS = {"ours": Ours, "funasr": FunASR}


# ---------------------------------------------------------------------------------------------------- tasks
def task_session(spec: dict, t_start: float) -> dict:
    """Import + load + first result on `clip` (the cold start, timed from the parent's spawn), then, in the same
    process, one pass over the corpus `paths` when given. (Per-clip latency is timed by `task_serve`.)"""
    system = SYSTEMS[spec["system"]](spec)
    probs = system.one(spec["clip"], "utterance")
    now = time.time()
    out = {"cold_start_s": now - spec["spawn_unix"], "in_process_s": now - t_start, "probs": probs}
    if spec.get("paths"):
        r = system.corpus(spec["paths"], spec.get("granularity", "utterance"))
        r["audio_s_per_s"] = r["audio_s"] / r["wall_s"]
        out["throughput"] = r
    return out


def task_engine(spec: dict) -> dict:
    """Encoder-only throughput on in-memory waveforms (the GPU suite; also runnable on CPU with a tiny model):
    length-sorted batches bounded by total padded seconds, per precision and budget; MFU against the bf16 peak."""
    import numpy as np
    import torch

    from benchmarks.corpus import lognormal_durations, voiced
    from benchmarks.flops import bf16_peak, count_flops
    from emostudio.model.checkpoint import load_model

    device = spec.get("device", "cuda")
    durs = lognormal_durations(spec["count"], seed=11)
    waves = [voiced(d, 1000 + i) for i, d in enumerate(durs)]
    order = sorted(range(len(waves)), key=lambda i: waves[i].size)
    audio_s = sum(w.size for w in waves) / 16000
    peak = bf16_peak(torch.cuda.get_device_name()) if device == "cuda" else None
    runs = []
    for precision in spec["precisions"]:
        loaded = load_model(spec["model"], device=device, dtype=precision, allow_download=False)
        enc = loaded.encoder
        flops = sum(count_flops(enc.config, w.size).total for w in waves)
        for budget in spec["budgets_s"]:
            batches, cur = [], []
            for i in order:
                if cur and (len(cur) + 1) * waves[i].size > budget * 16000:
                    batches.append(cur)
                    cur = []
                cur.append(i)
            batches.append(cur)
            enc.encode([waves[i] for i in batches[0]])  # warm-up
            if device == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            for b in batches:
                out = enc.encode([waves[i] for i in b])
                assert np.isfinite(out.logits.numpy()).all()
            if device == "cuda":
                torch.cuda.synchronize()
            wall = time.perf_counter() - t0
            run = {
                "precision": precision,
                "budget_s": budget,
                "batches": len(batches),
                "wall_s": wall,
                "audio_s_per_s": audio_s / wall,
                "achieved_flops": flops / wall,
                "mfu_bf16": (flops / wall / peak) if peak else None,
            }
            if device == "cuda":
                run["peak_gpu_mem_mb"] = torch.cuda.max_memory_allocated() / 2**20
            runs.append(run)
        del loaded, enc
    return {
        "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "clips": len(waves),
        "audio_s": audio_s,
        "flops_total": flops,
        "bf16_peak_flops": peak,
        "runs": runs,
    }


def task_long(spec: dict, t_start: float) -> dict:
    """Load the system, then analyse one long recording (`path`); times the load and the analysis apart."""
    system = SYSTEMS[spec["system"]](spec)
    loaded = time.time()
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        r = system.long(spec["path"], spec.get("granularity", "utterance"), out)
        r["analyze_s"] = time.perf_counter() - t0
    r["load_s"] = loaded - spec["spawn_unix"]
    return r


# transformer Linears by (in_features, out_features): qkv, attention output, MLP in, MLP out (plus_large: 1024 / 4096)
def linear_shapes(embed_dim: int, mlp_ratio: float) -> set[tuple[int, int]]:
    hidden = int(embed_dim * mlp_ratio)
    return {(embed_dim, 3 * embed_dim), (embed_dim, embed_dim), (embed_dim, hidden), (hidden, embed_dim)}


def gemm_rate(threads: int, clock=time.perf_counter, n: int = 3072, reps: int = 5) -> float:
    """This machine's practical fp32 GEMM rate right now, FLOP/s: best of `reps` (n × n) @ (n × n) torch.mm on
    `threads` intra-op threads, timed by `clock` (wall clock; or `time.thread_time` with one thread: CPU time,
    which other tenants of the machine do not inflate)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t0 = clock()
        torch.mm(a, b)
        best = min(best, clock() - t0)
    torch.set_num_threads(before)
    return 2 * n**3 / best


BLOCK_CLASSES = (
    "Block",
    "AltBlock",
)  # a transformer block: ours (emostudio.model.encoder), FunASR's emotion2vec


class LinearClock:
    """Seconds spent inside the transformer Linears of a network (forward hooks on every nn.Linear of a block
    whose (in, out) features are qkv, attention output or MLP ones), by `clock`."""

    def __init__(self, net, shapes: set[tuple[int, int]], clock):
        from torch import nn

        self.total, self.clock, self._t0 = 0.0, clock, 0.0
        blocks = [m for m in net.modules() if type(m).__name__ in BLOCK_CLASSES]
        mods = [
            m
            for b in blocks
            for m in b.modules()
            if isinstance(m, nn.Linear) and (m.in_features, m.out_features) in shapes
        ]
        self.count = len(mods)
        self.handles = [
            h
            for m in mods
            for h in (m.register_forward_pre_hook(self._pre), m.register_forward_hook(self._post))
        ]

    def _pre(self, *_):
        self._t0 = self.clock()

    def _post(self, *_):
        self.total += self.clock() - self._t0

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def task_efficiency(spec: dict) -> dict:
    """fp32 efficiency of the model alone, one clip per duration, measured two ways:

    - `wall`: on the model's threads, by the wall clock: the whole encode (median of `reps`) and the time inside
      the transformer Linears (forward hooks, one call), each as GFLOP/s and as a share of a large torch.mm timed
      the same way just before;
    - `cpu`: on one thread, by that thread's CPU time (`time.thread_time`), against a one-thread torch.mm timed
      the same way: what one core achieves, which other work on a shared machine does not distort.
    Also the top operators of one profiled call (wall, model threads)."""
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile

    from benchmarks.corpus import voiced
    from benchmarks.flops import count_flops
    from emostudio.model.checkpoint import load_model

    system = SYSTEMS[spec["system"]](spec)
    threads = torch.get_num_threads()
    cfg = load_model(spec["model"], device="cpu", allow_download=False).encoder.config
    shapes = linear_shapes(cfg.embed_dim, cfg.mlp_ratio)
    encode, net = system.encoder(), system.network()
    rows = []
    for i, clip_s in enumerate(spec["clips_s"]):
        w = voiced(clip_s, 500 + i)
        flops = count_flops(cfg, w.size)
        row: dict = {"clip_s": clip_s, "flops": flops.total, "linear_flops": flops.transformer_linear}
        for mode, n_threads, clock, reps in (
            ("wall", threads, time.perf_counter, spec.get("reps", 5)),
            ("cpu", 1, time.thread_time, 2),
        ):
            torch.set_num_threads(n_threads)
            encode(w)  # warm-up
            rate = gemm_rate(n_threads, clock)
            times = []
            for _ in range(reps):
                t0 = clock()
                encode(w)
                times.append(clock() - t0)
            hooks = LinearClock(net, shapes, clock)
            t0 = clock()
            encode(w)
            hooked = clock() - t0
            hooks.remove()
            took = float(np.median(times)) if mode == "wall" else min(times)
            row[mode] = {
                "threads": n_threads, "gemm_flops_per_s": rate, "s": took, "times_s": times,
                "flops_per_s": flops.total / took, "share_of_gemm": flops.total / took / rate,
                "linears": hooks.count, "linear_s": hooks.total,
                "linear_flops_per_s": flops.transformer_linear / hooks.total,
                "linear_share_of_gemm": flops.transformer_linear / hooks.total / rate,
                "linear_share_of_time": hooks.total / hooked,
            }  # fmt: skip
        torch.set_num_threads(threads)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            encode(w)
        top: dict[str, float] = {}
        for ev in prof.events():
            top[ev.name] = top.get(ev.name, 0.0) + ev.self_cpu_time_total / 1e6
        row["top_ops_s"] = dict(sorted(top.items(), key=lambda kv: -kv[1])[:12])
        rows.append(row)
    return {"threads": threads, "rows": rows}


def task_serve(spec: dict) -> dict:
    """Load the system and warm it up on `clip`, print READY, then time one call per request line on stdin
    (`{"path": ..., "granularity": ...}` -> `TIMED {"s": seconds, "probs": [...]}`) until stdin closes. The
    parent keeps every system's server loaded at once and asks them in turn (`run.interleaved_latency`), so
    the systems are timed in the same minutes of machine time while each keeps its own process."""
    system = SYSTEMS[spec["system"]](spec)
    system.one(spec["clip"], "utterance")
    print("READY", flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        t0 = time.perf_counter()
        probs = system.one(req["path"], req["granularity"])
        print("TIMED " + json.dumps({"s": time.perf_counter() - t0, "probs": probs}), flush=True)
    return {}


def main(argv: list[str]) -> int:
    t_start = time.time()
    spec = json.loads(argv[0])
    task = spec["task"]
    if task == "session":
        out = task_session(spec, t_start)
    elif task == "engine":
        out = task_engine(spec)
    elif task == "serve":
        out = task_serve(spec)
    elif task == "long":
        out = task_long(spec, t_start)
    elif task == "efficiency":
        out = task_efficiency(spec)
    else:
        raise SystemExit(f"unknown task {task!r}")
    out.update(peak_rss_mb())
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
