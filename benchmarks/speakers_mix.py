"""Each speaker's reading against the mixed recording's: `python -m benchmarks.speakers_mix [--model ID|DIR]
[--arch tiny|plus_large] [--append]`.

A two-voice conversation whose voices differ in pitch and level (tests/conversations.py: a low male voice at
espeak pitch 35 and 0 dB gain, a high female one at pitch 70 and -3 dB; 60 s, clean) is analysed twice with the
same model: mixed (what the product did before speaker turns) and with `speakers="auto"`. Printed: each speaker's
talk time, level (dBFS of its turns' samples), label, confidence and the total-variation distance of its 9 scores
from the mix's (0 = the same reading, 1 = nothing in common); and the largest difference between a scored turn's
scores and `analyze` of the same cut turn (must be 0). Default model: a random-weight checkpoint (`--arch`), so
which emotion wins means nothing; what is measured is how far the per-speaker readings are from the mix and that
they are the cut turns' own. No assertions; `--append` adds the table to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SR = 16_000


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level of (samples,) float32 in dBFS."""
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-12))


def total_variation(a: dict[str, float], b: dict[str, float]) -> float:
    """Half the L1 distance of two score dicts over the same classes (0..1)."""
    return 0.5 * sum(abs(a[k] - b[k]) for k in a)


def measure(model: str) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from conversations import VOICES, Spec, build

    from emostudio.recognize import Recognizer

    spec = Spec("pitch-energy", (0, 1), 60, seed=11)
    conv = build(spec)
    x = conv.waveform
    rec = Recognizer(model=model, device="cpu")
    mixed = rec.analyze(x, sample_rate=SR).to_dict()
    turned = rec.analyze(x, sample_rate=SR, speakers="auto").to_dict()
    worst = 0.0
    for turn in (t for t in turned["turns"] if t["scored"]):
        a, b = int(round(turn["start_s"] * SR)), int(round(turn["end_s"] * SR))
        alone = rec.analyze(x[a:b], sample_rate=SR)
        worst = max(worst, max(abs(turn["scores"][k] - alone.scores[k]) for k in alone.scores))
    rows = []
    for sp in turned["speakers"]:
        mine = [t for t in turned["turns"] if t["speaker"] == sp["id"]]
        samples = np.concatenate([x[int(t["start_s"] * SR) : int(t["end_s"] * SR)] for t in mine])
        rows.append(
            {
                "reading": sp["id"],
                "seconds": sp["seconds"],
                "level": level_dbfs(samples),
                "label": sp["label"],
                "confidence": sp["confidence"],
                "tv": total_variation(sp["scores"], mixed["scores"]) if sp["scores"] else None,
            }
        )
    rows.append(
        {
            "reading": "mixed recording",
            "seconds": turned["diarization"]["speech_s"],
            "level": level_dbfs(x),
            "label": mixed["label"]["key"] if isinstance(mixed["label"], dict) else mixed["label"],
            "confidence": mixed["confidence"],
            "tv": 0.0,
        }
    )
    voices = [VOICES[i] for i in spec.voices]
    return {"rows": rows, "worst_turn_diff": worst, "voices": voices, "found": turned["diarization"]["found"]}


def table(m: dict) -> str:
    lines = [
        "| reading | seconds | level dBFS | label | confidence | TV distance from the mix |",
        "|---|---|---|---|---|---|",
    ]
    for r in m["rows"]:
        tv = "–" if r["tv"] is None else f"{r['tv']:.3f}"
        conf = "–" if r["confidence"] is None else f"{r['confidence']:.1%}"
        lines.append(
            f"| {r['reading']} | {r['seconds']:.1f} | {r['level']:.1f} | {r['label']} | {conf} | {tv} |"
        )
    voices = "; ".join(f"{v[0]} pitch {v[2]}, gain {v[4]:+.0f} dB" for v in m["voices"])
    return (
        "\n".join(lines)
        + f"\n\nVoices: {voices}; speakers found: {m['found']}. Largest difference between a scored turn's score "
        f"and `analyze` of the same cut turn: {m['worst_turn_diff']:.2g}.\n"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--model", default=None, help="model id or folder (default: a random checkpoint of --arch)"
    )
    p.add_argument("--arch", default="tiny", help="architecture of the random checkpoint (tiny, plus_large)")
    p.add_argument("--append", action="store_true", help="add the table to benchmarks/RESULTS.md")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    from benchmarks.profiles_bench import cpu_model
    from benchmarks.speakers_bench import publish
    from emostudio.model.checkpoint import init_random

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(init_random(Path(tmp) / "model", args.arch, 0))
        m = measure(model)
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    which = args.model or f"random-weight {args.arch} (scores meaningless: the distances are the measure)"
    text = (
        f"## Per-speaker readings vs the mixed recording (issue 28): {when}, {cpu_model()}, {os.cpu_count()} cores\n\n"
        f"`python -m benchmarks.speakers_mix{' --model ' + args.model if args.model else ' --arch ' + args.arch}`"
        f" — model: {which}\n\n" + table(m)
    )
    publish(text, args.append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
