"""emostudio vs FunASR, side by side, in one run: `python -m benchmarks.run --suite smoke|cpu|long|gpu`.

Both systems score the same random-weight checkpoint (`init_random`, official layout, which FunASR's
`AutoModel(model=DIR)` loads) on the same synthetic voiced clips. Every measurement runs in a fresh child
process per system (`benchmarks.worker`), so imports, memory and threads are never shared. Prints a table,
writes `benchmarks/results/<time>-<suite>.json` and (cpu/gpu suites) appends a dated section to RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import corpus, fixed_clips
from benchmarks.worker import proc_status_kb

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"


@dataclass(frozen=True)
class Suite:
    """What one suite measures. Durations in seconds."""

    name: str
    arch: str
    cold_reps: int
    latency_clips_s: tuple[float, ...]
    latency_reps: int
    corpus_count: int
    corpus_median_s: float
    corpus_high_s: float
    ours_precisions: tuple[str, ...]
    engine: dict = field(default_factory=dict)  # the encoder-throughput (GPU) task; empty: not run
    funasr_gpu_clips: int = 0
    # ours on CPU: padded seconds per model batch (smaller batches keep the 512-channel front-end activations
    # in cache and RSS low) and run_batch decode worker processes (0: decode inline; on 2 cores the model
    # already uses both, so a worker process only adds memory)
    ours_batch_seconds: float | None = None  # None: the library's CPU default (Recognizer.batch_seconds)
    ours_decode_workers: int = 1  # one thread decodes the next files while the model scores (emostudio batch)
    ours_decode_executor: str = "thread"
    efficiency_clips_s: tuple[float, ...] = ()  # fp32 GFLOP/s of the model alone vs the machine's GEMM rate
    efficiency_rounds: int = 2  # each round: ours then FunASR (every other round the other way round)
    long_minutes: tuple[float, ...] = ()  # long recordings, each system in a fresh process per length
    long_mem_gb: float = 8.0  # a long-form child whose RSS passes this is stopped (and recorded as stopped)
    long_time_s: float = 1800.0  # ... or whose analysis runs longer than this
    long_precisions: tuple[str, ...] | None = None  # ours in the long-form runs (None: ours_precisions)
    # frame/utterance cost: back-to-back (utterance, frame) pairs of ours on the shortest clip, in one process,
    # order flipped every pair; the median of the per-pair ratios (0: not measured)
    frame_pairs: int = 0


SUITES = {
    "smoke": Suite("smoke", "tiny", 1, (1.0, 2.0), 1, 4, 2.0, 4.0, ("fp32", "int8"), frame_pairs=2,
                   engine={"device": "cpu", "count": 6, "precisions": ["fp32", "bf16"], "budgets_s": [8, 30]},
                   efficiency_clips_s=(2.0,), efficiency_rounds=1, long_minutes=(0.25, 0.5), long_time_s=300,
                   long_precisions=("fp32",)),
    "cpu": Suite("cpu", "plus_large", 3, (3.0, 10.0, 30.0), 7, 200, 5.0, 30.0, ("fp32", "int8"),
                 efficiency_clips_s=(3.0, 10.0, 30.0), frame_pairs=15),
    "long": Suite("long", "plus_large", 0, (), 0, 0, 5.0, 30.0, ("fp32", "int8"),
                  long_minutes=(1.0, 5.0, 10.0, 15.0, 60.0)),
    "gpu": Suite("gpu", "plus_large", 3, (3.0, 10.0, 30.0), 3, 0, 5.0, 30.0, (),
                 engine={"device": "cuda", "count": 2000, "precisions": ["fp32", "bf16"],
                         "budgets_s": [60, 120, 240, 480, 960]}, funasr_gpu_clips=200),
}  # fmt: skip


class WorkerError(RuntimeError):
    """A benchmark child process failed; carries its stderr tail."""


def _child_env() -> dict:
    """Environment for a `benchmarks.worker` child: this checkout's `benchmarks` and `src` importable."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }


def child(spec: dict, timeout_s: float = 1800) -> dict:
    """Run one `benchmarks.worker` task in a new interpreter and return its RESULT json."""
    spec = {**spec, "spawn_unix": time.time()}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
        cwd=ROOT,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise WorkerError(
            f"{spec['system']}/{spec['task']} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len("RESULT ") :])


class Server:
    """A `benchmarks.worker` "serve" child: one system loaded, timing one call per request."""

    def __init__(self, spec: dict):
        self.name = f"{spec['system']}/serve"
        self.stderr = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty child cannot block
        spec = {**spec, "task": "serve", "spawn_unix": time.time()}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
            cwd=ROOT, env=_child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
        )  # fmt: skip
        self._read("READY")

    def _read(self, prefix: str) -> str:
        for line in self.proc.stdout:  # FunASR prints its own lines to stdout: skip them
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        self.stderr.seek(0)
        raise WorkerError(f"{self.name} stopped (exit {self.proc.wait()}):\n{self.stderr.read()[-3000:]}")

    def call(self, path: str, granularity: str) -> dict:
        self.proc.stdin.write(json.dumps({"path": path, "granularity": granularity}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._read("TIMED "))

    def close(self) -> dict:
        """End the child; returns its RESULT (peak RSS)."""
        self.proc.stdin.close()
        result = json.loads(self._read("RESULT "))
        self.proc.wait()
        self.stderr.close()
        return result


def frame_cost_pairs(server: Server, path: str, pairs: int) -> list[float]:
    """frame/utterance cost of one loaded system: `pairs` back-to-back (utterance, frame) calls on `path`, the
    order flipped every pair; returns the per-pair ratios. Two calls a second apart see the same machine speed,
    so the ratio holds where medians of calls spread over minutes drift with the other tenants of the VM."""
    ratios = []
    for k in range(pairs):
        grans = ("utterance", "frame") if k % 2 == 0 else ("frame", "utterance")
        t = {g: server.call(path, g)["s"] for g in grans}
        ratios.append(t["frame"] / t["utterance"])
    return ratios


def interleaved_latency(
    specs: dict[str, dict], clips: list[dict], reps: int, say=print, frame_pairs: int = 0
) -> dict:
    """Per-clip latency of every system, interleaved: all systems stay loaded in their own processes and take
    turns call by call (systems rotated and granularities flipped every repeat), so a change in machine speed
    falls on all of them alike. Systems are started one after the other, so no load overlaps a timed call.
    With `frame_pairs`, each system then measures its frame/utterance cost on the first clip (`frame_cost_pairs`).
    Returns {key: {"latency": rows, "frame_pairs": {...}, "peak_rss_mb": ..., "children_peak_rss_mb": ...}}."""
    servers: dict[str, Server] = {}
    try:
        for key, spec in specs.items():
            say(f"{key}: loading for the interleaved latency runs")
            servers[key] = Server(spec)
        keys, grans = list(servers), ["utterance", "frame"]
        rows: dict[str, list[dict]] = {k: [] for k in keys}
        for clip in clips:
            say(f"latency: {clip['duration_s']:g} s clip, {reps} rounds")
            times = {(k, g): [] for k in keys for g in grans}
            probs: dict = {}
            for rep in range(reps):
                for gran in grans if rep % 2 == 0 else grans[::-1]:
                    for k in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
                        r = servers[k].call(clip["path"], gran)
                        times[(k, gran)].append(r["s"])
                        probs[(k, gran)] = r["probs"]
            for k in keys:
                for gran in grans:
                    t = times[(k, gran)]
                    rows[k].append({"clip_s": clip["duration_s"], "granularity": gran,
                                    "median_s": _median(t), "times_s": t, "probs": probs[(k, gran)]})  # fmt: skip
        paired: dict[str, dict] = {}
        if frame_pairs and clips:
            for k in keys:
                say(
                    f"{k}: frame/utterance cost, {frame_pairs} back-to-back pairs on the {clips[0]['duration_s']:g} s clip"
                )
                ratios = frame_cost_pairs(servers[k], clips[0]["path"], frame_pairs)
                paired[k] = {"clip_s": clips[0]["duration_s"], "ratios": ratios, "median": _median(ratios)}
        return {k: {"latency": rows[k], "frame_pairs": paired.get(k), **servers.pop(k).close()} for k in keys}
    finally:
        for server in servers.values():
            server.proc.kill()


def cpu_pressure_us() -> float | None:
    """Linux PSI: total microseconds in which some runnable task waited for a CPU (None where unavailable)."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return float(first.rsplit("total=", 1)[1])


class Load:
    """How busy the machine was over a stretch of time: load average at both ends and the share of wall time in
    which some task was waiting for a CPU (PSI "some"; 0 % on an idle machine, near 100 % when it is
    oversubscribed — other engineers' jobs share these cores)."""

    def __init__(self):
        self.before, self.t0, self.p0 = os.getloadavg(), time.monotonic(), cpu_pressure_us()

    def done(self) -> dict:
        p1, wall = cpu_pressure_us(), time.monotonic() - self.t0
        waiting = None if p1 is None or self.p0 is None or wall <= 0 else (p1 - self.p0) / 1e6 / wall
        return {"load_before": self.before, "load_after": os.getloadavg(), "cpu_waiting_share": waiting}


def _watch(proc: subprocess.Popen, mem_bytes: float, time_s: float, stopped: dict) -> None:
    """Poll the child's resident memory every 20 ms; SIGKILL it past `mem_bytes` or `time_s` (noting why).
    Keeps the child's own high-water mark seen so far in `stopped["hwm_bytes"]`."""
    t0 = time.monotonic()
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        rss = proc_status_kb(status, "VmRSS:") * 1024
        stopped["hwm_bytes"] = max(stopped.get("hwm_bytes", 0), proc_status_kb(status, "VmHWM:") * 1024, rss)
        elapsed = time.monotonic() - t0
        if rss > mem_bytes or elapsed > time_s:
            why = f"RSS passed {mem_bytes / 1e9:g} GB" if rss > mem_bytes else f"ran past {time_s:g} s"
            stopped.update(reason=why, after_s=elapsed, rss_bytes=rss)
            proc.kill()
            return
        time.sleep(0.02)


def bounded_child(spec: dict, mem_gb: float, time_s: float) -> dict:
    """Run one `benchmarks.worker` task under a memory and a time bound. Returns its RESULT (or `stopped`),
    the child's own peak RSS (its VmHWM: reported by the worker, or the last one seen when it was stopped) and the
    wall time from spawn to exit. Not wait4's ru_maxrss: that includes this parent's high-water mark, carried
    into the child across fork + exec (this process may have built the random checkpoint)."""
    import threading

    spec = {**spec, "spawn_unix": time.time()}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
            cwd=ROOT, env=_child_env(), stdout=out, stderr=err, text=True,
        )  # fmt: skip
        stopped: dict = {}
        watcher = threading.Thread(target=_watch, args=(proc, mem_gb * 1e9, time_s, stopped), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        watcher.join()
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        lines = [ln for ln in out.read().splitlines() if ln.startswith("RESULT ")]
        seen_hwm = stopped.pop("hwm_bytes", 0)
        r = {"peak_rss_bytes": seen_hwm, "process_wall_s": wall, "wait4_maxrss_bytes": usage.ru_maxrss * 1024}
        if stopped:
            return {**r, "stopped": stopped}
        if proc.returncode != 0 or not lines:
            raise WorkerError(
                f"{spec['system']}/{spec['task']} failed (exit {proc.returncode}):\n{err.read()[-3000:]}"
            )
        result = json.loads(lines[-1][len("RESULT ") :])
        r["peak_rss_bytes"] = max(seen_hwm, int(result["peak_rss_mb"] * 1024 * 1024))
        return {**r, **result}


def run_long(suite: Suite, work: Path, model: str, say=print) -> dict:
    """Long recordings (`suite.long_minutes`): each system analyses each file in a fresh process, lengths in
    increasing order, systems in a rotating order at each length. A system stopped by the memory or time bound
    is not started on the longer files (recorded as such)."""
    from benchmarks.corpus import long_wav

    precisions = suite.ours_precisions if suite.long_precisions is None else suite.long_precisions
    systems = [(f"ours-{p}", {"system": "ours", "precision": p}) for p in precisions]
    systems.append(("funasr", {"system": "funasr", "precision": "fp32"}))
    rows: list[dict] = []
    stopped_at: dict[str, float] = {}
    for k, minutes in enumerate(suite.long_minutes):
        path = long_wav(work / "long" / f"voice_{minutes:g}min.wav", minutes * 60)
        order = systems[k % len(systems) :] + systems[: k % len(systems)]
        for key, base in order:
            row = {"system": key, "minutes": minutes, "audio_s": minutes * 60}
            if key in stopped_at:
                row["not_run"] = f"stopped at {stopped_at[key]:g} min"
                rows.append(row)
                continue
            say(f"long-form: {key}, {minutes:g} min")
            load = Load()
            spec = {**base, "task": "long", "model": model, "path": str(path), "granularity": "utterance"}
            r = bounded_child(spec, suite.long_mem_gb, suite.long_time_s)
            row.update(r, **load.done())
            if "stopped" in r:
                stopped_at[key] = minutes
            else:
                row["rtf"] = r["analyze_s"] / row["audio_s"]
                row["rtf_with_load"] = r["process_wall_s"] / row["audio_s"]
            rows.append(row)
    return {"rows": rows, "mem_bound_gb": suite.long_mem_gb, "time_bound_s": suite.long_time_s}


def run_efficiency(suite: Suite, model: str, say=print) -> dict:
    """fp32 GFLOP/s of the model alone (whole encode and its Linears) against a large torch.mm, each system in
    its own process, one after the other (`efficiency_rounds` rounds in turn: ours, FunASR, FunASR, ours...)."""
    out: dict = {}
    pair = [("ours-fp32", "ours"), ("funasr", "funasr")]
    order = [x for k in range(suite.efficiency_rounds) for x in (pair if k % 2 == 0 else pair[::-1])]
    for key, system in order:
        say(f"fp32 efficiency: {key}")
        load = Load()
        r = child({"system": system, "task": "efficiency", "model": model, "precision": "fp32",
                   "clips_s": list(suite.efficiency_clips_s), "reps": 5})  # fmt: skip
        r.update(load.done())
        out.setdefault(key, []).append(r)
    return out


def machine() -> dict:
    """CPU, cores, SIMD extensions, memory, load and library versions."""
    import numpy
    import torch

    flags = ""
    model = platform.processor()
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(
            (ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), model
        )
        flags = next((ln.split(":", 1)[1] for ln in info.splitlines() if ln.startswith("flags")), "")
    except OSError:
        pass
    simd = sorted(
        {f for f in flags.split() if f.startswith(("avx512", "amx")) or f in ("avx2", "avx_vnni", "fma")}
    )
    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    for mod in ("funasr", "emostudio"):
        try:
            from importlib.metadata import version

            versions[mod] = version(mod)
        except Exception as e:  # noqa: BLE001 - a missing distribution is recorded, not fatal
            versions[mod] = f"unknown ({type(e).__name__})"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {
        "cpu": model,
        "cpu_flags": flags.split(),
        "cores": os.cpu_count(),
        "simd": simd,
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "gpu": gpu,
        "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "versions": versions,
        "git": commit.stdout.strip() or None,
    }


def ensure_model(work: Path, arch: str) -> Path:
    """The random-weight checkpoint for `arch` (seed 0), written once into `work`."""
    from emostudio.model.checkpoint import init_random

    folder = work / f"model-{arch}-seed0"
    if not (folder / "model.pt").is_file():
        init_random(folder, arch=arch, seed=0)
    return folder


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def run_suite(suite: Suite, work: Path, say=print) -> dict:
    """Run every measurement of `suite`; returns the raw results plus derived ratios and targets."""
    work.mkdir(parents=True, exist_ok=True)
    model = str(ensure_model(work, suite.arch))
    out: dict = {"suite": suite.name, "arch": suite.arch, "model_dir": model, "load_before": os.getloadavg()}
    run_load = Load()
    fixed = fixed_clips(work / "clips", list(suite.latency_clips_s))
    ours = [("ours", p) for p in suite.ours_precisions]
    sessions = suite.ours_precisions and (suite.cold_reps or suite.latency_clips_s or suite.corpus_count)
    systems = [*ours, ("funasr", "fp32")] if sessions else []

    if systems:
        clips = [{"path": str(c.path), "duration_s": c.duration_s} for c in fixed]
        paths: list[str] = []
        if suite.corpus_count:
            files = corpus(
                work / f"corpus-{suite.corpus_count}-{suite.corpus_median_s:g}",
                suite.corpus_count,
                median_s=suite.corpus_median_s,
                high_s=suite.corpus_high_s,
            )
            paths = [str(c.path) for c in files]
            out["corpus"] = {
                "clips": len(files),
                "audio_s": sum(c.duration_s for c in files),
                "min_s": min(c.duration_s for c in files),
                "max_s": max(c.duration_s for c in files),
                "median_s": _median([c.duration_s for c in files]),
            }
        cold, latency, thr, specs, rss = {}, {}, {}, {}, {}
        for name, prec in systems:
            key = f"{name}-{prec}" if name == "ours" else name
            base = {
                "system": name,
                "task": "session",
                "model": model,
                "precision": prec,
                "clip": str(fixed[0].path),
                "batch_seconds": suite.ours_batch_seconds,
                "decode_workers": suite.ours_decode_workers,
                "decode_executor": suite.ours_decode_executor,
            }
            say(f"{key}: cold start, throughput on {len(paths)} clips")
            load = Load()
            s = child({**base, "paths": paths, "granularity": "utterance"}, timeout_s=3600)
            if "throughput" in s:
                s["throughput"].update(load.done())
            runs = [s["cold_start_s"]]
            for _ in range(suite.cold_reps - 1):
                say(f"{key}: cold start")
                runs.append(child(base)["cold_start_s"])
            cold[key] = {"runs_s": runs, "median_s": _median(runs)}
            specs[key] = base
            rss[key] = s
            if "throughput" in s:
                thr[key] = s["throughput"]
        for key, lat in (
            interleaved_latency(specs, clips, suite.latency_reps, say, suite.frame_pairs) if clips else {}
        ).items():
            # peak RSS: the larger of the session (cold start + throughput) and the latency server
            for field_ in ("peak_rss_mb", "children_peak_rss_mb"):
                lat[field_] = max(lat[field_], rss[key][field_])
            latency[key] = lat
        out["cold_start"], out["latency"] = cold, latency
        if thr:
            out["throughput"] = thr

    if suite.efficiency_clips_s:
        out["efficiency"] = run_efficiency(suite, model, say)
    if suite.long_minutes:
        out["long"] = run_long(suite, work, model, say)

    if suite.engine:
        import torch

        if suite.engine["device"] == "cuda" and not torch.cuda.is_available():
            out["engine"] = {"measured": False, "why": "no CUDA device on this machine"}
        else:
            say(f"encoder throughput on {suite.engine['device']}")
            out["engine"] = {
                "measured": True,
                **child({"system": "ours", "task": "engine", "model": model, **suite.engine}, timeout_s=3600),
            }
            if suite.funasr_gpu_clips:
                files = corpus(work / f"corpus-{suite.funasr_gpu_clips}-gpu", suite.funasr_gpu_clips, seed=11)
                paths = [str(c.path) for c in files]
                spec = {
                    "system": "funasr",
                    "task": "session",
                    "model": model,
                    "device": "cuda",
                    "clip": paths[0],
                }
                out["engine"]["funasr"] = child({**spec, "paths": paths}, timeout_s=3600)["throughput"]
    out["load_after"] = os.getloadavg()
    out["cpu_waiting_share"] = run_load.done()["cpu_waiting_share"]
    out["derived"] = derive(out)
    return out


def _rss(session: dict) -> float:
    """Peak RSS of a session's main process plus that of its children (decode workers), MiB: an upper bound."""
    return session["peak_rss_mb"] + session["children_peak_rss_mb"]


def _drift(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def derive(r: dict) -> dict:
    """Ratios against FunASR (same run), frame/utterance cost, probability drift, and the issue's targets."""
    d: dict = {"targets": []}
    targets = d["targets"]

    def target(
        name: str, ratio: float | None, limit: float, higher_is_better: bool = False, note: str = ""
    ) -> None:
        met = None if ratio is None else (ratio >= limit if higher_is_better else ratio <= limit)
        targets.append(
            {
                "name": name,
                "ratio": ratio,
                "target": ("≥ " if higher_is_better else "≤ ") + f"{limit:g}",
                "met": met,
                "note": note,
            }
        )

    lat = r.get("latency", {})
    fa = lat.get("funasr")
    for key, res in lat.items():
        if key == "funasr":
            continue
        rows = {(x["clip_s"], x["granularity"]): x for x in res["latency"]}
        for (clip, gran), x in rows.items():
            y = next(z for z in fa["latency"] if z["clip_s"] == clip and z["granularity"] == gran)
            x["ratio_vs_funasr"] = x["median_s"] / y["median_s"]
            x["prob_drift_vs_funasr"] = _drift(x["probs"], y["probs"])
            if gran == "frame":
                x["frame_over_utterance"] = x["median_s"] / rows[(clip, "utterance")]["median_s"]
        if key != "ours-fp32" and "ours-fp32" in lat:
            base = {(x["clip_s"], x["granularity"]): x["probs"] for x in lat["ours-fp32"]["latency"]}
            res["prob_drift_vs_ours_fp32"] = max(_drift(x["probs"], base[k]) for k, x in rows.items())
        res["peak_rss_ratio_vs_funasr"] = _rss(res) / _rss(fa)
    for key in [k for k in lat if k != "funasr"]:
        rows = lat[key]["latency"]
        for x in rows:
            target(f"CPU latency {x['clip_s']:g} s {x['granularity']} ({key})", x["ratio_vs_funasr"], 0.5)
        for x in rows:
            if x["granularity"] == "frame":
                target(f"frame/utterance cost {x['clip_s']:g} s, medians of the rounds ({key})",
                       x["frame_over_utterance"], 1.1)  # fmt: skip
        pairs = lat[key].get("frame_pairs")
        if pairs:
            target(f"frame/utterance cost {pairs['clip_s']:g} s, median of {len(pairs['ratios'])} back-to-back "
                   f"pairs ({key})", pairs["median"], 1.1)  # fmt: skip
        target(
            f"peak RSS, whole session incl. decode workers ({key})", lat[key]["peak_rss_ratio_vs_funasr"], 1.0
        )
        cold = r["cold_start"]
        target(f"cold start ({key})", cold[key]["median_s"] / cold["funasr"]["median_s"], 0.5)
    default = default_precision_key(lat)
    thr = r.get("throughput", {})
    if "funasr" in thr:
        for key, x in thr.items():
            if key != "funasr":
                x["ratio_vs_funasr"] = x["audio_s_per_s"] / thr["funasr"]["audio_s_per_s"]
        if default in thr:
            d["cpu_throughput_ratio"] = thr[default]["ratio_vs_funasr"]
    for key, ratio_wanted in (("ours-int8", 2.0), ("ours-fp32", 1.3)):
        if key in thr and "ratio_vs_funasr" in thr[key]:
            target(f"corpus throughput vs FunASR ({key})", thr[key]["ratio_vs_funasr"], ratio_wanted, True)
    eff = r.get("efficiency", {})
    if eff:
        # the machine's practical GEMM rate: the best torch.mm seen in the run (a single measurement is as noisy
        # as the machine: on this shared VM it moved between 135 and 176 GFLOP/s on 2 threads within minutes)
        best = {
            mode: max(
                x[mode]["gemm_flops_per_s"] for runs in eff.values() for run in runs for x in run["rows"]
            )
            for mode in ("wall", "cpu")
        }
        d["gemm_best_flops_per_s"] = best
        for key, runs in eff.items():
            for run in runs:
                for x in run["rows"]:
                    for mode in ("wall", "cpu"):
                        m = x[mode]
                        m["share_of_best_gemm"] = m["flops_per_s"] / best[mode]
                        m["linear_share_of_best_gemm"] = m["linear_flops_per_s"] / best[mode]
            for i, clip in enumerate(runs[0]["rows"]):
                for mode in ("wall", "cpu"):
                    share = statistics.mean(run["rows"][i][mode]["share_of_best_gemm"] for run in runs)
                    lin = statistics.mean(run["rows"][i][mode]["linear_share_of_best_gemm"] for run in runs)
                    if key.startswith("ours") and clip["clip_s"] >= 10:
                        how = f"{clip['clip_s']:g} s, {'model threads, wall' if mode == 'wall' else '1 thread, CPU time'}"
                        target(f"fp32 encode, share of GEMM rate, {how} ({key})", share, 0.8, True)
                        target(f"fp32 Linears, share of GEMM rate, {how} ({key})", lin, 0.8, True)
    long = r.get("long")
    if long:
        rows = [x for x in long["rows"] if x["system"].startswith("ours") and "rtf" in x]
        for key in sorted({x["system"] for x in rows}):
            mine = sorted((x for x in rows if x["system"] == key), key=lambda x: x["minutes"])
            if len(mine) >= 2:
                first, last = mine[0], mine[-1]
                target(f"long-form RTF {last['minutes']:g} min / {first['minutes']:g} min ({key})",
                       last["rtf"] / first["rtf"], 1.2)  # fmt: skip
                target(f"peak RSS GB at {last['minutes']:g} min ({key})", last["peak_rss_bytes"] / 1e9, 2.0)
            for x in mine:
                if x["minutes"] == 10:
                    target(f"peak RSS GB at 10 min ({key})", x["peak_rss_bytes"] / 1e9, 2.0)
    eng = r.get("engine")
    if eng is not None:
        if not eng.get("measured"):
            target("GPU throughput vs FunASR", None, 20, True, "not measured: " + eng["why"])
            target("GPU MFU bf16", None, 0.25, True, "not measured: " + eng["why"])
        elif eng.get("device") == "cuda":
            best = max((x for x in eng["runs"] if x["precision"] == "bf16"), key=lambda x: x["audio_s_per_s"])
            fa_gpu = eng.get("funasr", {}).get("audio_s_per_s")
            target(
                "GPU throughput vs FunASR (bf16, best budget)",
                best["audio_s_per_s"] / fa_gpu if fa_gpu else None,
                20,
                True,
            )
            target("GPU MFU bf16 (best budget)", best["mfu_bf16"], 0.25, True)
    return d


def default_precision_key(latency: dict) -> str | None:
    """The latency entry for the CPU default precision (`accel.DEFAULT_CPU_PRECISION`), else fp32."""
    from emostudio.model.accel import DEFAULT_CPU_PRECISION

    for key in (f"ours-{DEFAULT_CPU_PRECISION}", "ours-fp32"):
        if key in latency:
            return key
    return next((k for k in latency if k.startswith("ours")), None)


# ---------------------------------------------------------------------------------------------------- output
def _fmt(x, spec: str = ".3f") -> str:
    return "—" if x is None else format(x, spec)


def _busy(x: dict) -> str:
    """'34 % (1.2 → 1.9)': share of the time some task waited for a CPU, and the 1-minute load average."""
    if "load_before" not in x:
        return "—"
    share = x.get("cpu_waiting_share")
    return (f"{_fmt(None if share is None else 100 * share, '.0f')} % "
            f"({x['load_before'][0]:.1f} → {x['load_after'][0]:.1f})")  # fmt: skip


def efficiency_markdown(r: dict) -> list[str]:
    eff = r.get("efficiency")
    if not eff:
        return []
    best = r["derived"]["gemm_best_flops_per_s"]
    lines = [
        "fp32 efficiency of the model alone (waveform in, logits out; no decoding), each system in its own process, "
        "runs in turn ours, FunASR, FunASR, ours. *wall*: on the model's threads, wall clock. *cpu*: one thread, "
        "timed by its own CPU time (`time.thread_time`): what one core achieves, which other work on the machine "
        "cannot inflate. GEMM rate: best of 5 (3072²)·(3072²) `torch.mm`, same threads and clock, just before each "
        f"clip; shares are of the best rate of the whole run ({best['wall'] / 1e9:.0f} GFLOP/s wall on the model's "
        f"threads, {best['cpu'] / 1e9:.0f} GFLOP/s on one core). Linears: the blocks' qkv / attention output / MLP "
        "layers (forward hooks; FLOPs from `benchmarks/flops.py`).",
        "",
        "| system | run | clip | mode | GEMM GFLOP/s just before | encode s | encode GFLOP/s | share of GEMM rate | "
        "Linears s | Linears GFLOP/s | share of GEMM rate | Linears' share of time | CPU waiting (load) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, runs in eff.items():
        for n, run in enumerate(runs, 1):
            for x in run["rows"]:
                for mode in ("wall", "cpu"):
                    m = x[mode]
                    lines.append(
                        f"| {key} | {n} | {x['clip_s']:g} s | {mode} ({m['threads']} thr.) | "
                        f"{m['gemm_flops_per_s'] / 1e9:.0f} | {m['s']:.3f} | {m['flops_per_s'] / 1e9:.0f} | "
                        f"{m['share_of_best_gemm']:.0%} | {m['linear_s']:.3f} | {m['linear_flops_per_s'] / 1e9:.0f} | "
                        f"{m['linear_share_of_best_gemm']:.0%} | {m['linear_share_of_time']:.0%} | {_busy(run)} |"
                    )
    return lines + [""]


def long_markdown(r: dict) -> list[str]:
    long = r.get("long")
    if not long:
        return []
    lines = [
        f"Long recordings (16 kHz WAV, one 60 s voiced block repeated), each system and length in a fresh process; "
        f"ours: `Recognizer.analyze(path, output_dir=...)` as `emostudio analyze FILE --out DIR` runs it (decode, VAD, "
        f"quality, 30 s segments, scoring, run folder written); FunASR: `generate(input=path)` (one pass over the "
        f"whole file). RTF: analysis wall time / audio time (process start and model load excluded; the next "
        f"column includes them). Peak RSS: the child's high-water mark from wait4. A child is stopped when its RSS "
        f"passes {long['mem_bound_gb']:g} GB or its run passes {long['time_bound_s']:g} s.",
        "",
        "| length | system | analysis s | RTF | RTF incl. start + load | peak RSS GB | segments | CPU waiting (load) "
        "| outcome |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for x in long["rows"]:
        if "not_run" in x:
            lines.append(
                f"| {x['minutes']:g} min | {x['system']} | — | — | — | — | — | — | not run: {x['not_run']} |"
            )
        elif "stopped" in x:
            st = x["stopped"]
            lines.append(
                f"| {x['minutes']:g} min | {x['system']} | — | — | — | {x['peak_rss_bytes'] / 1e9:.2f} | — | "
                f"{_busy(x)} | **stopped**: {st['reason']} after {st['after_s']:.0f} s |"
            )
        else:
            lines.append(
                f"| {x['minutes']:g} min | {x['system']} | {x['analyze_s']:.1f} | {x['rtf']:.3f} | "
                f"{x['rtf_with_load']:.3f} | {x['peak_rss_bytes'] / 1e9:.2f} | {x['segments']} | {_busy(x)} | "
                "finished |"
            )
    return lines + [""]


def markdown(r: dict, command: str) -> str:
    """A dated RESULTS.md section: machine, versions, command, tables, targets."""
    m = r["machine"]
    lines = [
        f"## {r['started']} — suite `{r['suite']}` ({r['arch']}, random weights)",
        "",
        f"- command: `{command}`",
        f"- machine: {m['cpu']}, {m['cores']} cores ({m['cpu_capability']}; {', '.join(m['simd']) or 'no AVX'}), "
        f"{m['mem_gb']} GB RAM, GPU: {m['gpu'] or 'none'}; torch threads {m['torch_threads']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; git {m['git']}",
        *(
            [f"- `lscpu` model name: {m['cpu']}; flags: {' '.join(m['cpu_flags'])}"]
            if m.get("cpu_flags")
            else []
        ),
        f"- load average before / after: {', '.join(f'{x:.2f}' for x in r['load_before'])} / "
        f"{', '.join(f'{x:.2f}' for x in r['load_after'])}"
        + (
            # the load average counts the benchmark's own threads; PSI (tasks kept waiting for a CPU) tells
            # whether anything competed with them, where the kernel has it
            " — **machine was loaded by other processes; timings are disturbed**"
            if (
                r["load_before"][0] > 0.5 * m["cores"]
                if r.get("cpu_waiting_share") is None
                else r["cpu_waiting_share"] > 0.1
            )
            else ""
        )
        + (
            f"; over the whole run some task was waiting for a CPU {100 * r['cpu_waiting_share']:.0f} % of the time"
            " (Linux PSI)"
            if r.get("cpu_waiting_share") is not None
            else ""
        ),
        f"- JSON: `benchmarks/results/{r['json_name']}`",
        "",
    ]
    if "cold_start" in r:
        lines += ["| cold start (new process → first result) | median s | runs s |", "|---|---|---|"]
        for k, v in r["cold_start"].items():
            lines.append(f"| {k} | {v['median_s']:.2f} | {', '.join(f'{x:.2f}' for x in v['runs_s'])} |")
        lines.append("")
    if "latency" in r:
        keys = list(r["latency"])
        lines += [
            "| clip | mode | "
            + " | ".join(f"{k} s" for k in keys)
            + " | "
            + " | ".join(f"{k}/funasr" for k in keys if k != "funasr")
            + " |",
            "|---|---|" + "---|" * (2 * len(keys) - 1),
        ]
        for i, x0 in enumerate(r["latency"][keys[0]]["latency"]):
            cells = [f"{r['latency'][k]['latency'][i]['median_s']:.3f}" for k in keys]
            ratios = [
                _fmt(r["latency"][k]["latency"][i].get("ratio_vs_funasr"), ".2f")
                for k in keys
                if k != "funasr"
            ]
            lines.append(f"| {x0['clip_s']:g} s | {x0['granularity']} | " + " | ".join(cells + ratios) + " |")
        lines += [
            "",
            "| session | peak RSS MB (main + workers) | vs FunASR | max prob. drift vs ours-fp32 |",
            "|---|---|---|---|",
        ]
        for k, v in r["latency"].items():
            lines.append(
                f"| {k} | {v['peak_rss_mb']:.0f} + {v['children_peak_rss_mb']:.0f} | "
                f"{_fmt(v.get('peak_rss_ratio_vs_funasr'), '.2f')} | "
                f"{_fmt(v.get('prob_drift_vs_ours_fp32'), '.2e')} |"
            )
        lines.append("")
        for k, v in r["latency"].items():
            if v.get("frame_pairs"):
                fp = v["frame_pairs"]
                lines.append(
                    f"- frame/utterance cost of {k} on the {fp['clip_s']:g} s clip, {len(fp['ratios'])} back-to-back "
                    f"pairs: median {fp['median']:.3f} (pairs: {', '.join(f'{x:.2f}' for x in fp['ratios'])})"
                )
        lines.append("")
    if "throughput" in r:
        c = r["corpus"]
        lines += [
            f"Corpus: {c['clips']} clips, {c['audio_s']:.0f} s of audio ({c['min_s']:.1f}–{c['max_s']:.1f} s, "
            f"median {c['median_s']:.1f} s).",
            "",
            "| corpus throughput | audio s / s | vs FunASR | wall s | in the model s (share) | runner "
            "| CPU waiting (load before → after) |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, v in r["throughput"].items():
            inside = f"{v['model_s']:.1f} ({v['model_s'] / v['wall_s']:.0%})" if v.get("model_s") else "—"
            lines.append(
                f"| {k} | {v['audio_s_per_s']:.2f} | {_fmt(v.get('ratio_vs_funasr'), '.2f')} | "
                f"{v['wall_s']:.1f} | {inside} | {v['runner']} | {_busy(v)} |"
            )
        lines.append("")
    eng = r.get("engine")
    if eng is not None:
        if not eng.get("measured"):
            lines += [f"Encoder (GPU) throughput: **not measured** — {eng['why']}.", ""]
        else:
            lines += [
                f"Encoder throughput on {eng['device_name']} ({eng['clips']} clips, {eng['audio_s']:.0f} s):",
                "",
                "| precision | budget s | audio s / s | MFU (bf16 peak) | peak GPU MB |",
                "|---|---|---|---|---|",
            ]
            for x in eng["runs"]:
                lines.append(
                    f"| {x['precision']} | {x['budget_s']} | {x['audio_s_per_s']:.1f} | "
                    f"{_fmt(x['mfu_bf16'], '.1%')} | {_fmt(x.get('peak_gpu_mem_mb'), '.0f')} |"
                )
            lines.append("")
    lines += efficiency_markdown(r) + long_markdown(r)
    lines += ["| target | measured | wanted | met |", "|---|---|---|---|"]
    for t in r["derived"]["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['name']} | {_fmt(t['ratio'], '.2f')} | {t['target']} | {met} {t['note']} |")
    return "\n".join(lines) + "\n"


def print_table(r: dict) -> None:
    """The targets and headline numbers as a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"emostudio vs FunASR — suite {r['suite']} ({r['arch']})")
    for col in ("measurement", "value", "target", "met"):
        table.add_column(col)
    for k, v in r.get("cold_start", {}).items():
        table.add_row(f"cold start {k}", f"{v['median_s']:.2f} s", "", "")
    for k, v in r.get("latency", {}).items():
        for x in v["latency"]:
            table.add_row(
                f"latency {k} {x['clip_s']:g} s {x['granularity']}", f"{x['median_s']:.3f} s", "", ""
            )
    for k, v in r.get("throughput", {}).items():
        table.add_row(f"throughput {k}", f"{v['audio_s_per_s']:.2f} audio s/s", "", "")
    for t in r["derived"]["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "NO")
        table.add_row(
            t["name"],
            _fmt(t["ratio"], ".2f") + "×",
            t["target"],
            met + (" " + t["note"] if t["note"] else ""),
        )
    Console(width=140).print(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=sorted(SUITES), default="smoke")
    ap.add_argument(
        "--work-dir",
        default=str(Path.home() / ".cache" / "emostudio-bench"),
        help="where the random checkpoint and the synthetic clips are kept (reused between runs)",
    )
    ap.add_argument("--results-dir", default=str(RESULTS_DIR), help="JSON per run goes here")
    ap.add_argument(
        "--results-md",
        default=None,
        help="append a dated section here (default: benchmarks/RESULTS.md for cpu/gpu, none for smoke)",
    )
    ap.add_argument("--note", default="", help="a line added to the RESULTS.md section")
    ap.add_argument(
        "--precisions",
        default=None,
        help="comma-separated CPU precisions of ours to run (fp32,int8,bf16; default: the suite's)",
    )
    args = ap.parse_args(argv)
    suite = SUITES[args.suite]
    if args.precisions:
        suite = dataclasses.replace(suite, ours_precisions=tuple(args.precisions.split(",")))
    started = dt.datetime.now().astimezone()
    r = {"started": started.isoformat(timespec="seconds"), "machine": machine()}
    r.update(
        run_suite(
            suite, Path(args.work_dir), say=lambda s: print(f"[bench] {s}", file=sys.stderr, flush=True)
        )
    )
    r["wall_s"] = (dt.datetime.now().astimezone() - started).total_seconds()
    r["command"] = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    r["json_name"] = f"{started:%Y%m%d-%H%M%S}-{suite.name}.json"
    from emostudio.atomic import write_json, write_text

    write_json(results_dir / r["json_name"], r)
    print_table(r)
    md = args.results_md or (str(RESULTS_MD) if suite.name != "smoke" else None)
    if md:
        section = markdown(r, r["command"]) + (f"\nNote: {args.note}\n" if args.note else "")
        old = (
            Path(md).read_text(encoding="utf-8")
            if Path(md).is_file()
            else "# Benchmark results\n\nNewest last.\n"
        )
        write_text(md, old.rstrip("\n") + "\n\n" + section)
    print(f"results: {results_dir / r['json_name']}" + (f"; appended to {md}" if md else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
