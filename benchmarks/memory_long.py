"""Peak memory of long recordings: `emostudio analyze` on 20-minute, 1-hour and 3-hour files, each in a fresh child.

    python -m benchmarks.memory_long                      # tiny random model, 20 min, 1 h, 3 h
    python -m benchmarks.memory_long --minutes 20 60 --model demo --as-limit-gb 3
    python -m benchmarks.memory_long --minutes 60 --speakers auto   # who spoke when on a 60-minute conversation

Files are 8 kHz Opus voice at 6 kb/s (one encoded minute repeated, so they build in seconds), like a long call
recording. With `--speakers`, the file is instead a two-voice conversation of that length (tests/conversations.py,
16 kHz FLAC) analysed with `--speakers MODE` (`off`: the same file without speaker turns, the baseline), so the
speaker engine's memory is in the figure. Each run is a separate `python -m emostudio analyze` child; its peak RSS
comes from `wait4` (the kernel's own high-water mark), its wall time from the clock. With `--as-limit-gb` the child
runs under `prlimit --as` (address space) and a kill by the limit is reported, not hidden. Prints a table; `--md`
appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the long-file builders live with the tests that use them


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


# Runs argv[2:] and writes "<ru_maxrss KB> <exit code>" of it to argv[1]. Linux starts a child's peak RSS at its
# parent's RSS when it forks (exec keeps that high-water mark), so a child of a big process (a pytest run that has
# loaded models, ~1.3 GB) would report at least that. Started from this small launcher, the measured process
# carries only the launcher's few MB.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_child(cmd: list[str], as_limit_gb: float | None) -> dict:
    """Run `cmd`; its exit code, wall seconds and peak RSS (MB) from wait4, measured by a small launcher
    process so the peak is the command's own, not inherited from this (possibly large) process."""
    if as_limit_gb:
        cmd = ["prlimit", f"--as={int(as_limit_gb * 1024**3)}", *cmd]
    # output goes to files, not pipes: a child that writes more than a pipe holds (the JSON of a long frame-mode
    # run) would block forever while we wait for it to exit
    with (
        tempfile.TemporaryFile() as out_f,
        tempfile.TemporaryFile() as err_f,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "rusage"
        t0 = time.perf_counter()
        launcher = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(report), *cmd], stdout=out_f, stderr=err_f, check=False
        )
        wall = time.perf_counter() - t0
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read().decode(), err_f.read().decode()
        if launcher.returncode != 0 or not report.is_file():
            raise RuntimeError(f"the measuring launcher failed ({launcher.returncode}): {err[-2000:]}")
        maxrss_kb, rc = (int(x) for x in report.read_text().split())
    return {
        "rc": rc,
        "wall_s": wall,
        "rss_mb": maxrss_kb / 1024,
        "stdout": out,
        "stderr": err,
    }


def long_conversation(path: Path, seconds: float) -> None:
    """A two-voice conversation of `seconds` (tests/conversations.py, 20 dB pink noise) written as 16 kHz FLAC."""
    import soundfile as sf
    from conversations import Spec, build

    conv = build(Spec("long", (0, 4), seconds, overlap=0.1, snr_db=20, seed=16))
    sf.write(str(path), conv.waveform, 16000, format="FLAC", subtype="PCM_16")


def main(argv: list[str] | None = None) -> int:
    from hostile import long_opus

    from emostudio.model.checkpoint import init_random

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[20, 60, 180])
    p.add_argument("--model", default=None, help="model id or folder (default: a tiny random checkpoint)")
    p.add_argument("--granularity", default="utterance", choices=["utterance", "frame"])
    p.add_argument("--as-limit-gb", type=float, default=None, help="run each child under prlimit --as")
    p.add_argument(
        "--speakers", default=None, help="auto|N: a two-voice conversation, analysed with --speakers"
    )
    p.add_argument("--work-dir", default=None)
    p.add_argument("--md", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = p.parse_args(argv)
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="emostudio-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    model = args.model or str(init_random(work / "tiny", "tiny", 0))
    rows = []
    for minutes in args.minutes:
        if args.speakers:
            audio = work / f"conversation_{minutes:g}min.flac"
            if not audio.exists():
                long_conversation(audio, minutes * 60)
        else:
            audio = work / f"call_{minutes:g}min.opus"
            if not audio.exists():
                long_opus(audio, minutes * 60)
        cmd = [
            sys.executable, "-m", "emostudio", "analyze", str(audio), "--model", model, "--offline",
            "--device", "cpu", "--granularity", args.granularity, "--out", str(work / "runs"), "--json",
        ]  # fmt: skip
        if args.speakers and args.speakers != "off":
            cmd += ["--speakers", args.speakers]
        r = run_child(cmd, args.as_limit_gb)
        errors = [ln for ln in r["stderr"].splitlines() if ln.startswith(("✗", "Traceback", "MemoryError"))]
        outcome = (
            "ok" if r["rc"] == 0 else f"exit {r['rc']}: {' / '.join(errors)[:300] or r['stderr'][-300:]}"
        )
        rows.append((minutes, r["rss_mb"], r["wall_s"], r["wall_s"] / (minutes * 60), outcome))
        print(f"{minutes:g} min: peak RSS {r['rss_mb']:.0f} MB, {r['wall_s']:.0f} s ({outcome})", flush=True)
    table = [
        f"\n### Long-recording memory ({time.strftime('%Y-%m-%d %H:%M')}, `python -m benchmarks.memory_long "
        f"{' '.join(argv or sys.argv[1:])}`)\n",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores. Model: {'tiny random' if not args.model else model}, "
        f"{args.granularity}; "
        + (
            f"two-voice conversation (16 kHz FLAC), `--speakers {args.speakers}`"
            if args.speakers
            else "8 kHz Opus voice at 6 kb/s"
        )
        + "; each run a fresh `emostudio analyze` child"
        + (f" under `prlimit --as={args.as_limit_gb:g}G`" if args.as_limit_gb else "")
        + ".\n",
        "| length | peak RSS (MB) | wall (s) | real-time factor | outcome |",
        "|---|---|---|---|---|",
        *[f"| {m:g} min | {rss:.0f} | {wall:.1f} | {rtf:.4f} | {o} |" for m, rss, wall, rtf, o in rows],
    ]
    print("\n".join(table))
    if args.md:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write("\n".join(table) + "\n")
    return 0 if all(r[4] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
