#!/usr/bin/env python
"""Golden outputs: record what the product writes for a fixed set of inputs, to prove a refactor changed nothing.

    python scripts/golden.py record DIR      # run every case with a seeded tiny random model, normalise, write DIR
    python scripts/golden.py compare A B     # exit 0 when the two recordings are identical, else list differences

Cases go through the public surfaces only (the `emostudio` CLI and `Recognizer`), so they survive moving code:
analyze in both granularities, with embeddings, enhancement, a long recording split at pauses, two-party channels
with roles, a transcript; a batch job (Parquet rows); an evaluation (metrics.json, predictions.csv); the closing
result of a live stream. What legitimately differs between two runs is removed before writing: timestamps,
absolute paths, run ids and folder names, timings and throughput.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VOLATILE_KEYS = {
    "timestamp",
    "run_id",
    "created",
    "created_at",
    "started",
    "finished",
    "elapsed_s",
    "wall_s",
    "seconds",
    "throughput",
    "rtf",
    "latency_ms",
    "output_dir",
    "started_at",
    "finished_at",
    "time_s_total",
    "audio_h_per_h",
    "files_per_s",
}


def _voice(seconds: float, seed: int) -> np.ndarray:
    """The test suite's speech-like voice (tests/signals.py), float32 at 16 kHz."""
    sys.path.insert(0, str(ROOT / "tests"))
    from signals import voice

    return voice(seconds, seed=seed)[0].astype(np.float32)


def _write_wav(path: Path, x: np.ndarray, rate: int = 16000) -> Path:
    x = np.asarray(x)
    channels = 1 if x.ndim == 1 else x.shape[1]
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def _normalise(obj, tmp: str):
    """Drop volatile keys; replace the temporary folder in strings by <tmp>."""
    if isinstance(obj, dict):
        return {
            k.replace(tmp, "<tmp>"): _normalise(v, tmp)
            for k, v in sorted(obj.items())
            if k not in VOLATILE_KEYS
        }
    if isinstance(obj, list):
        return [_normalise(v, tmp) for v in obj]
    if isinstance(obj, str):
        s = obj.replace(tmp, "<tmp>")
        return "<run>" if s.startswith("outputs_") and len(s) <= 24 else s
    return obj


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = ROOT / ".venv" / "bin" / "emostudio"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, check=False)


def _run_folder(out: Path) -> Path:
    runs = sorted(p for p in out.iterdir() if p.is_dir() and p.name.startswith("outputs_"))
    if len(runs) != 1:
        raise SystemExit(f"expected one run folder in {out}, found {[p.name for p in runs]}")
    return runs[0]


def _save_run(run: Path, dest: Path, tmp: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(run.iterdir()):
        if f.name == "result.json":
            doc = json.loads(f.read_text(encoding="utf-8"))
            (dest / f.name).write_text(json.dumps(_normalise(doc, tmp), ensure_ascii=False, indent=1))
        elif f.suffix == ".csv":
            (dest / f.name).write_text(f.read_text(encoding="utf-8"))
        elif f.suffix == ".npy":
            a = np.load(f, allow_pickle=False)
            (dest / (f.name + ".txt")).write_text(
                f"{a.shape} {a.dtype} {np.round(a.astype(np.float64), 6).sum():.6f}\n"
            )
        elif f.suffix == ".wav":
            (dest / (f.name + ".txt")).write_text(f"{f.stat().st_size}\n")


def record(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        model = tmp / "model"
        r = _cli("model", "init-random", str(model), "--arch", "tiny", "--seed", "0", cwd=tmp)
        if r.returncode:
            raise SystemExit(r.stderr)
        clips = tmp / "clips"
        clips.mkdir()
        short = _write_wav(clips / "short.wav", _voice(4.0, 1))
        other = _write_wav(clips / "other.wav", _voice(6.0, 2))
        long = _write_wav(clips / "long.wav", _voice(75.0, 3))
        a, b = _voice(8.0, 4), _voice(8.0, 5)
        stereo = _write_wav(clips / "call.wav", np.stack([a, 0.6 * b], axis=1))
        copy = _write_wav(clips / "copy.wav", np.stack([a, a], axis=1))
        common = ["--model", str(model), "--device", "cpu", "--offline"]
        cases = {
            "utt": [str(short)],
            "frame": [str(short), "--granularity", "frame"],
            "utt_emb": [str(other), "--embedding"],
            "frame_emb": [str(other), "--granularity", "frame", "--embedding"],
            "enhance": [str(other), "--enhance"],
            "enhance_frame": [str(short), "--enhance", "--granularity", "frame"],
            "long": [str(long)],
            "long_frame": [str(long), "--granularity", "frame"],
            "channels": [str(stereo), "--channels", "separate", "--roles", "agent,customer"],
            "channels_frame": [
                str(stereo),
                "--channels",
                "separate",
                "--granularity",
                "frame",
                "--embedding",
            ],
            "copy_channel": [str(copy), "--channels", "separate"],
            "text": [str(short), "--text", "太好了，谢谢你们的服务！"],
            "text_en": [str(other), "--text", "This is terrible, I want a refund.", "--text-weight", "0.5"],
        }
        for name, args in cases.items():
            out = tmp / f"out_{name}"
            r = _cli("analyze", *args, *common, "--out", str(out), cwd=tmp)
            if r.returncode:
                raise SystemExit(f"{name}: exit {r.returncode}\n{r.stderr}")
            _save_run(_run_folder(out), dest / "analyze" / name, tmpdir)

        # batch: a manifest with a speaker, text and a two-party row
        manifest = tmp / "manifest.csv"
        with manifest.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "path", "speaker", "label", "text", "roles"])
            w.writerow(["s1", str(short), "alice", "happy", "太好了", ""])
            w.writerow(["s2", str(other), "bob", "sad", "", ""])
            w.writerow(["s3", str(long), "bob", "neutral", "", ""])
            w.writerow(["c1", str(stereo), "carol", "angry", "", "agent,customer"])
            w.writerow(["bad", str(tmp / "missing.wav"), "dave", "sad", "", ""])
        bout = tmp / "batch"
        r = _cli("batch", str(manifest), "--out", str(bout), "--embedding", *common, cwd=tmp)
        if r.returncode not in (0, 1):
            raise SystemExit(f"batch: exit {r.returncode}\n{r.stderr}")
        import pyarrow.parquet as pq

        rows = []
        for part in sorted(bout.glob("part-*.parquet")):
            rows += pq.read_table(part).to_pylist()
        rows.sort(key=lambda row: str(row.get("id")))
        (dest / "batch").mkdir(parents=True, exist_ok=True)
        (dest / "batch" / "rows.json").write_text(
            json.dumps(_normalise(rows, tmpdir), ensure_ascii=False, indent=1, default=str)
        )
        summary = json.loads((bout / "summary.json").read_text(encoding="utf-8"))
        (dest / "batch" / "summary.json").write_text(
            json.dumps(_normalise(summary, tmpdir), ensure_ascii=False, indent=1)
        )

        # evaluation: a folder of label folders
        ev = tmp / "evalset"
        for i, (label, seed) in enumerate(
            [("happy", 11), ("happy", 12), ("sad", 13), ("angry", 14), ("neutral", 15)]
        ):
            (ev / label).mkdir(parents=True, exist_ok=True)
            _write_wav(ev / label / f"c{i}.wav", _voice(3.0 + i, seed))
        report = tmp / "report"
        r = _cli("evaluate", str(ev), "--report", str(report), "--no-history", *common, cwd=tmp)
        if r.returncode not in (0, 1):
            raise SystemExit(f"evaluate: exit {r.returncode}\n{r.stderr}")
        metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
        (dest / "evaluate").mkdir(parents=True, exist_ok=True)
        (dest / "evaluate" / "metrics.json").write_text(
            json.dumps(_normalise(metrics, tmpdir), ensure_ascii=False, indent=1)
        )
        (dest / "evaluate" / "predictions.csv").write_text(
            (report / "predictions.csv").read_text(encoding="utf-8").replace(tmpdir, "<tmp>")
        )

        # live: the closing pass of a stream replayed as fast as possible (mix and two-party)
        for name, extra in {
            "live": [],
            "live_channels": ["--channels", "separate", "--roles", "a,b"],
        }.items():
            src = stereo if extra else other
            out = tmp / f"out_{name}"
            live_model = ["--model", str(model), "--model-device", "cpu", "--offline"]
            r = _cli(
                "live", "--input", str(src), "--speed", "0", *extra, "--out", str(out), *live_model, cwd=tmp
            )
            if r.returncode:
                raise SystemExit(f"{name}: exit {r.returncode}\n{r.stderr}")
            _save_run(_run_folder(out), dest / name, tmpdir)
    print(f"golden outputs written to {dest}")


def compare(a: Path, b: Path) -> int:
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    bad = 0
    for rel in sorted(fa ^ fb):
        print(f"only in one recording: {rel}")
        bad += 1
    for rel in sorted(fa & fb):
        if (a / rel).read_bytes() != (b / rel).read_bytes():
            print(f"differs: {rel}")
            bad += 1
    print(f"{len(fa & fb)} files compared, {bad} difference(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        raise SystemExit(__doc__)
