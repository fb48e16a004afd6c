"""Adapting on cached embeddings: `python -m benchmarks.adapt_bench [--clips 1000] [--arch plus_large] [--append]`.

What a second `emostudio adapt` run costs once every clip's scores and embedding are in the cache: the clips are
hashed and read from the cache, then 5-fold grouped cross-validation (temperature + head with C chosen by 3
inner folds, per outer fold), the final fit, bootstrap intervals, charts and the report are made, exactly as
`emostudio.adapt.adapt` does. The cache is filled beforehand with synthetic entries under the real cache key of
a random-weight model of `--arch` (embeddings of its size: 1024 for plus_large), class means apart by
`--separation` standard deviations, so the head has something to learn; nothing is scored by the model.

Baseline, measured in the same run on the same embeddings: what one would write by hand with scikit-learn —
`cross_val_predict(GridSearchCV(StandardScaler → LogisticRegression, same C grid, 3 inner folds), 5 outer folds)`
plus the final `GridSearchCV.fit` (no calibration, intervals, charts or report; BLAS threads as they come).
Prints a table; `--append` adds a section to benchmarks/RESULTS.md. No assertions: the figures are the result.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

import numpy as np

from emostudio.adapt import adapt
from emostudio.adapt.cache import EmbeddingCache, file_sha256, model_key
from emostudio.adapt.head import C_GRID, INNER_FOLDS
from emostudio.audio import write_wav
from emostudio.evaluate.manifest import FOUR_CLASSES
from emostudio.model.checkpoint import init_random
from emostudio.model.labels import KEYS
from emostudio.recognize import Recognizer

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


def cpu_pressure() -> str:
    """The `some avg10/avg60` line of /proc/pressure/cpu (how much of the time tasks waited for a CPU)."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "n/a"


def make_set(folder: Path, clips: int, speakers: int, seed: int) -> tuple[Path, list[str], list[str]]:
    """`clips` distinct 0.4 s WAVs with 4-class labels and speakers; returns (manifest, labels, speakers)."""
    rng = np.random.default_rng(seed)
    labels = [FOUR_CLASSES[i % 4] for i in range(clips)]
    spk = [f"spk{int(s):03d}" for s in rng.integers(0, speakers, clips)]
    rows = []
    for i in range(clips):
        path = folder / f"clip{i:05d}.wav"
        write_wav(path, (0.05 * rng.standard_normal(6400)).astype(np.float32))
        rows.append({"id": f"c{i}", "path": path.name, "label": labels[i], "speaker": spk[i]})
    manifest = folder / "train.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["id", "path", "label", "speaker"])
        w.writeheader()
        w.writerows(rows)
    return manifest, labels, spk


def fill_cache(
    cache: EmbeddingCache, folder: Path, labels: list[str], dim: int, separation: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A cache entry per clip: an embedding around its class's mean and 9 scores leaning to its class."""
    rng = np.random.default_rng(seed + 1)
    means = rng.standard_normal((4, dim)) * separation / np.sqrt(dim) * 4
    X = np.empty((len(labels), dim), dtype=np.float32)
    y = np.array([FOUR_CLASSES.index(label) for label in labels])
    for i, label in enumerate(labels):
        X[i] = means[y[i]] + rng.standard_normal(dim)
        logits = rng.normal(0, 1, 9)
        logits[KEYS.index(label)] += 1.0
        probs = np.exp(logits) / np.exp(logits).sum()
        sha = file_sha256(folder / f"clip{i:05d}.wav")
        assert sha is not None
        cache.put(sha, None, probs, X[i])
    return X, y


def baseline(X: np.ndarray, y: np.ndarray, groups: list[str], folds: int, seed: int) -> float:
    """Seconds for the hand-written scikit-learn nested CV and final fit on the same embeddings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    t = time.perf_counter()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
        {"logisticregression__C": list(C_GRID)},
        cv=StratifiedGroupKFold(INNER_FOLDS, shuffle=True, random_state=seed),
        scoring="neg_log_loss",
    )
    outer = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    cross_val_predict(
        search, X, y, groups=groups, cv=outer, method="predict_proba", params={"groups": groups}
    )
    search.fit(X, y, groups=groups)
    return time.perf_counter() - t


def ours(
    manifest: Path, rec: Recognizer, cache_dir: Path, out: Path, folds: int, n_boot: int, seed: int
) -> dict:
    """Seconds of one `adapt` run on a warm cache, split by stage."""
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    run = adapt(
        manifest,
        rec,
        out,
        folds=folds,
        cache_dir=cache_dir,
        seed=seed,
        n_boot=n_boot,
        on_stage=lambda s: marks.append((s, time.perf_counter())),
    )
    end = time.perf_counter()
    if run.scored:
        raise RuntimeError(f"{run.scored} clip(s) were scored: the cache was not warm")
    at = dict(marks)
    first_fold = next(t for s, t in marks if s.startswith("fold "))
    return {
        "total_s": end - t0,
        "cache_s": first_fold - at["scoring"],  # hashing the clips + reading the cache + checks
        "cv_s": at["fitting on every file"] - first_fold,
        "final_s": at["report"] - at["fitting on every file"],
        "report_s": end - at["report"],  # bootstrap, charts, report.html, metrics.json, adapter files
        "ua": run.doc["models"]["adapted"]["ua"],
        "C": run.adapter.head.C,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=1000, help="labelled clips (4 classes, default 1000)")
    p.add_argument(
        "--speakers", type=int, default=50, help="speakers the clips are spread over (folds group them)"
    )
    p.add_argument("--arch", default="plus_large", choices=["tiny", "base", "plus_large"], help="model size")
    p.add_argument(
        "--separation", type=float, default=1.0, help="class means apart, in noise standard deviations"
    )
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (the CLI's default)")
    p.add_argument("--repeats", type=int, default=1, help="adapt runs on the warm cache (median reported)")
    p.add_argument("--no-baseline", action="store_true", help="skip the scikit-learn baseline")
    p.add_argument("--dir", default=None, help="where the clips, model and cache go (default: a temp folder)")
    p.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    p.add_argument("--note", default="", help="a line of context for RESULTS.md")
    args = p.parse_args(argv)
    pressure_before, load_before = cpu_pressure(), os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="adapt-bench-") as tmp:
        root = Path(tmp)
        (root / "clips").mkdir()
        manifest, labels, spk = make_set(root / "clips", args.clips, args.speakers, seed=0)
        t = time.perf_counter()
        rec = Recognizer(model=str(init_random(root / "model", arch=args.arch, seed=0)), device="cpu")
        load_s = time.perf_counter() - t
        dim = int(rec.model.arch.get("embed_dim") or 0)
        cache = EmbeddingCache(root / "cache", model_key(rec))
        X, y = fill_cache(cache, root / "clips", labels, dim, args.separation, seed=0)
        runs = [
            ours(manifest, rec, root / "cache", root / f"adapter{i}", args.folds, args.bootstrap, 0)
            for i in range(args.repeats)
        ]
        runs.sort(key=lambda r: r["total_s"])
        row = runs[len(runs) // 2]
        base_s = None if args.no_baseline else baseline(X.astype(np.float64), y, spk, args.folds, 0)
    pressure_after, load_after = cpu_pressure(), os.getloadavg()
    text = (
        f"| clips | dim | folds | model load s | adapt total s | hash + cache s | CV s | final fit s | "
        f"report s | sklearn nested CV s | adapted UA (CV) | C |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {args.clips:,} | {dim} | {args.folds} | {load_s:.1f} | **{row['total_s']:.1f}** | {row['cache_s']:.1f} | "
        f"{row['cv_s']:.1f} | {row['final_s']:.1f} | {row['report_s']:.1f} | "
        f"{'–' if base_s is None else f'{base_s:.1f}'} | {row['ua']:.3f} | {row['C']:g} |"
    )
    print(text)
    print(f"cpu pressure before: {pressure_before}\ncpu pressure after:  {pressure_after}")
    if args.append:
        cmd = "python -m benchmarks.adapt_bench " + " ".join(argv if argv is not None else sys.argv[1:])
        section = (
            f"\n## {dt.datetime.now(timezone.utc).isoformat(timespec='seconds')} — adapt on cached embeddings "
            "(`benchmarks/adapt_bench.py`)\n\n"
            f"- command: `{cmd.strip()}`\n"
            f"- machine: {os.cpu_count()} cores; load average before / after: "
            f"{', '.join(f'{x:.2f}' for x in load_before)} / {', '.join(f'{x:.2f}' for x in load_after)}; "
            f"/proc/pressure/cpu before: `{pressure_before}`, after: `{pressure_after}`\n"
            f"- {args.clips} clips, 4 classes, {args.speakers} speakers (folds grouped by speaker), random-weight "
            f"{args.arch} ({dim}-d embeddings), synthetic cache entries; bootstrap {args.bootstrap}; median of "
            f"{args.repeats} run(s)\n" + (f"- note: {args.note}\n" if args.note else "") + f"\n{text}\n"
        )
        with RESULTS_MD.open("a", encoding="utf-8") as f:
            f.write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
