"""Voice activity detection: the product's silero-vad (its ONNX model on onnxruntime, emostudio.segment) against
the package's TorchScript copy of the same network (what the product ran before), in one process.

The set: the speaker benchmark's 16 synthetic conversations (espeak-ng voices, pauses, overlap, noise; tests/
conversations.py) and one 20-minute speech-like clip (benchmarks/corpus.py). Per engine: the time for the speech
spans (`speech_spans`, as `prepare` and the speaker engine call it) and for the per-32 ms probabilities, as a
real-time factor; and how far the ONNX model's readings are from TorchScript's: the largest probability
difference, the recordings whose spans are identical, and the seconds labelled differently.

    python -m benchmarks.vad_bench [--quick] [--append]   (--append: also add the table to RESULTS.md)
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks.profiles_bench import cpu_model
from benchmarks.speakers_bench import publish

ROOT = Path(__file__).resolve().parent.parent
SR = 16000


def recordings(quick: bool) -> list[tuple[str, np.ndarray]]:
    """(name, (samples,) float32 16 kHz) of the set."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conversations import build, conversation_set

    from benchmarks.corpus import voiced

    out = [(spec.name, build(spec).waveform.astype(np.float32)) for spec in conversation_set(quick)]
    return [*out, ("voiced-20min" if not quick else "voiced-2min", voiced(120.0 if quick else 1200.0, 11))]


def torchscript_readers():
    """(spans, probabilities) of the package's TorchScript model, called as emostudio.segment calls silero."""
    import silero_vad
    import torch
    from silero_vad import get_speech_timestamps

    from emostudio.segment import speech_spans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = silero_vad.load_silero_vad(onnx=False)
    defaults = {
        k: p.default for k, p in inspect.signature(speech_spans).parameters.items() if k != "waveform16k"
    }

    def spans(x: np.ndarray) -> list[tuple[float, float]]:
        with torch.inference_mode():
            stamps = get_speech_timestamps(
                torch.from_numpy(x),
                model,
                threshold=defaults["threshold"],
                sampling_rate=SR,
                min_speech_duration_ms=int(round(defaults["min_speech_s"] * 1000)),
                min_silence_duration_ms=int(round(defaults["min_silence_s"] * 1000)),
            )
        return [(s["start"] / SR, min(len(x), s["end"]) / SR) for s in stamps]

    def probabilities(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            p = model.audio_forward(torch.from_numpy(x), SR)[0].numpy()
        model.reset_states()
        return p

    return spans, probabilities


def product_readers():
    from emostudio.segment import speech_probabilities, speech_spans

    def spans(x: np.ndarray) -> list[tuple[float, float]]:
        return [(s.start_s, s.end_s) for s in speech_spans(x)]

    return spans, speech_probabilities


def _mask(spans: list[tuple[float, float]], n: int) -> np.ndarray:
    mask = np.zeros(n, bool)
    for a, b in spans:
        mask[round(a * SR) : round(b * SR)] = True
    return mask


def measure(quick: bool) -> dict:
    import torch

    torch.set_num_threads(1)  # as the product runs the VAD (emostudio.segment._one_thread)
    recs = recordings(quick)
    engines = {"torchscript (before)": torchscript_readers(), "onnx (emostudio)": product_readers()}
    warm = recs[0][1][: 5 * SR]
    for spans, probs in engines.values():  # first-call costs are not the engine's speed
        spans(warm), probs(warm)
    seconds = {name: [0.0, 0.0] for name in engines}
    readings: dict[str, list] = {name: [] for name in engines}
    for _, x in recs:
        for name, (spans, probs) in engines.items():
            t0 = time.perf_counter()
            s = spans(x)
            t1 = time.perf_counter()
            p = probs(x)
            t2 = time.perf_counter()
            seconds[name][0] += t1 - t0
            seconds[name][1] += t2 - t1
            readings[name].append((s, p))
    (base, ours) = engines
    same = sum(a[0] == b[0] for a, b in zip(readings[base], readings[ours], strict=True))
    differing_s = sum(
        float(np.sum(_mask(a[0], len(x)) != _mask(b[0], len(x)))) / SR
        for (_, x), a, b in zip(recs, readings[base], readings[ours], strict=True)
    )
    max_diff = max(
        float(np.max(np.abs(a[1] - b[1]))) for a, b in zip(readings[base], readings[ours], strict=True)
    )
    return {
        "audio_s": sum(len(x) for _, x in recs) / SR,
        "count": len(recs),
        "seconds": seconds,
        "same": same,
        "differing_s": differing_s,
        "max_diff": max_diff,
    }


def table(m: dict) -> str:
    audio = m["audio_s"]
    base = m["seconds"]["torchscript (before)"][0]
    lines = [
        "| engine | spans s | spans RTF | probabilities s | probabilities RTF | speed-up (spans) |",
        "|---|---|---|---|---|---|",
    ]
    for name, (spans_s, probs_s) in m["seconds"].items():
        lines.append(
            f"| {name} | {spans_s:.1f} | {spans_s / audio:.4f} | {probs_s:.1f} | {probs_s / audio:.4f} | "
            f"{base / spans_s:.2f}× |"
        )
    lines += [
        "",
        f"Agreement on {m['count']} recordings ({audio:.0f} s): identical speech spans on {m['same']} of "
        f"{m['count']}; {m['differing_s']:.2f} s labelled differently; largest probability difference "
        f"{m['max_diff']:.1e}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vad_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="the speaker benchmark's quick set and 2 minutes"
    )
    parser.add_argument(
        "--append", action="store_true", help="also append the table to benchmarks/RESULTS.md"
    )
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    m = measure(args.quick)
    title = (
        f"## Voice activity detection: silero-vad ONNX vs TorchScript{' — quick set' if args.quick else ''}: "
        f"{when}, {cpu_model()}, {os.cpu_count()} cores (load average {load_before:.1f} before the run), one "
        f"thread, {m['audio_s']:.0f} s of audio\n\n`python -m benchmarks.vad_bench{' --quick' if args.quick else ''}`\n\n"
    )
    publish(title + table(m), args.append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
