"""`emostudio enhance FILE -o OUT`: high-pass, denoise and normalise one file; show quality before/after."""

from __future__ import annotations

import argparse

from rich.table import Table

from emostudio.cli.common import EXIT_FAILED_INPUTS, EXIT_OK, EXIT_USAGE, console, fail, say
from emostudio.cli.quality_cmd import MARK, value_text
from emostudio.errors import EmoStudioError

COMPARED = ("snr", "peak", "loudness", "hum")


def _range(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START-END in seconds, e.g. 0-1.5, got {text!r}") from None
    if not 0 <= a < b:
        raise argparse.ArgumentTypeError(f"noise range must have 0 ≤ START < END, got {text!r}")
    return a, b


def register(sub) -> None:
    p = sub.add_parser(
        "enhance",
        help="high-pass, denoise and peak-normalise a recording",
        description="Enhance one file (100 Hz high-pass → spectral-gating denoise → peak normalisation) and "
        "write a 16 kHz WAV. The noise profile comes from the non-speech parts unless given.",
    )
    p.add_argument("input", metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output WAV path")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("--noise-from", type=_range, metavar="START-END", help="seconds holding only noise")
    noise.add_argument("--noise-file", metavar="F", help="a recording of the noise alone")
    p.add_argument("--no-denoise", action="store_true", help="skip noise reduction")
    p.add_argument("--no-highpass", action="store_true", help="skip the high-pass filter")
    p.add_argument("--peak", type=float, default=-1.0, help="peak target in dBFS, ≤ 0 (−1…−3 recommended)")
    p.set_defaults(func=run)


def compare_table(before, after) -> Table:
    table = Table(title="quality before → after", title_justify="left")
    for col in ("metric", "before", "after", "change"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for name in COMPARED:
        b, a = before.get(name), after.get(name)
        delta = (
            f"{a.value - b.value:+.1f}" if isinstance(a.value, float) and isinstance(b.value, float) else "–"
        )
        table.add_row(
            f"{b.label_en} {b.label_zh}",
            f"{MARK[b.verdict]} {value_text(b)}",
            f"{MARK[a.verdict]} {value_text(a)}",
            delta,
        )
    return table


def check_output_file(path: str) -> str | None:
    """Why `path` cannot be written as the output file (None when it can), checked before any work."""
    import os
    import tempfile
    from pathlib import Path

    out = Path(path)
    if out.is_dir():
        return f"{path}: cannot write the output there (it is a folder; give a file name such as clean.wav)"
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        return f"{path}: cannot write the output there ({parent} is a file, not a folder)"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        return f"{path}: cannot write the output there ({e.strerror or e})"
    return None


def run(args) -> int:
    from emostudio.audio import decode, write_wav
    from emostudio.enhance import enhance
    from emostudio.quality import assess
    from emostudio.segment import speech_spans
    from emostudio.settings import EnhanceSettings

    if args.peak > 0:
        fail(f"--peak must be ≤ 0 dBFS, got {args.peak}")
        return EXIT_USAGE
    problem = check_output_file(args.output)
    if problem:
        fail(problem)
        return EXIT_USAGE
    try:
        audio = decode(args.input)
        profile = decode(args.noise_file).waveform if args.noise_file else None
        settings = EnhanceSettings(
            highpass=not args.no_highpass,
            denoise=not args.no_denoise,
            noise_from=args.noise_from,
            noise_profile=profile,
            peak_dbfs=args.peak,
        )
        spans = speech_spans(audio.waveform)
        before = assess(audio.waveform, audio.source, spans=spans)
        result = enhance(audio.waveform, settings, spans=spans)
        after = assess(result.waveform, audio.source, spans=spans)
    except (EmoStudioError, ValueError) as exc:
        fail(str(exc))
        return EXIT_FAILED_INPUTS
    try:
        write_wav(args.output, result.waveform, audio.sample_rate)
    except OSError as exc:
        fail(f"{args.output}: the output could not be written ({exc.strerror or exc})")
        return EXIT_FAILED_INPUTS
    console.print(compare_table(before, after))
    say(f"steps: {' → '.join(result.steps) or 'none'}   noise profile: {result.noise_source}")
    for warning in audio.warnings:
        say(f"⚠ {warning}", "yellow")
    say(f"wrote {args.output}")
    return EXIT_OK
