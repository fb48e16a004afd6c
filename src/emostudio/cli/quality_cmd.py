"""`emostudio quality FILE...`: the audio quality report (verdicts, advice, hints) for each file."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text

from emostudio.cli.common import EXIT_FAILED_INPUTS, EXIT_OK, EXIT_USAGE, console, expand_inputs, fail, say
from emostudio.errors import EmoStudioError
from emostudio.messages import t

MARK = {"ok": "[green]✓[/]", "warn": "[yellow]⚠[/]", "bad": "[red]✗[/]", "info": "[dim]·[/]"}


def register(sub) -> None:
    p = sub.add_parser(
        "quality",
        help="check audio quality (SNR, clipping, loudness, …) with advice",
        description="Measure each file's quality, judge it against the thresholds and give advice (en/zh).",
    )
    p.add_argument("inputs", nargs="+", metavar="FILE", help="audio/video files, folders or glob patterns")
    p.add_argument("--json", action="store_true", help="print the reports as JSON on stdout")
    p.set_defaults(func=run)


def value_text(m) -> str:
    if m.value is None:
        return "–"
    if isinstance(m.value, float):
        v = f"{m.value:.2f}" if abs(m.value) < 10 else f"{m.value:.1f}"
    else:
        v = str(m.value)
    return f"{v}{m.unit}" if m.unit == "%" else f"{v} {m.unit}".strip()


def report_table(report, title: str | Text) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("", width=1)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column(f"{t('cli_advice', 'en')} / {t('cli_advice', 'zh')}", overflow="fold")
    for m in report.metrics:
        advice = f"{m.advice_en}\n{m.advice_zh}" if m.advice_en else ""
        table.add_row(
            MARK.get(m.verdict, m.verdict),
            Text(f"{m.label_en} {m.label_zh}"),
            Text(value_text(m)),
            Text(advice),
        )
    return table


def print_report(report, title: str) -> None:
    heading = Text(f"{title}  ") + Text.from_markup(MARK[report.verdict]) + Text(f" {report.verdict}")
    console.print(report_table(report, heading))
    for h in report.hints:
        say(f"  hint: {h.en} {h.zh}", "cyan")


def run(args) -> int:
    from emostudio.audio import AUDIO_EXTENSIONS, decode
    from emostudio.quality import assess

    expanded = expand_inputs(args.inputs, AUDIO_EXTENSIONS)
    failed = len(expanded.problems)
    out: list[dict] = []
    for problem in expanded.problems:
        fail(str(problem))
        out.append({"file": problem.path, "error": str(problem), "code": problem.code})
    if not expanded.files:
        fail("nothing to check: no audio files among the inputs")
        return EXIT_USAGE
    for path in expanded.files:
        try:
            audio = decode(path)
            report = assess(audio.waveform, audio.source)
        except EmoStudioError as exc:
            failed += 1
            fail(str(exc))
            out.append({"file": path, "error": str(exc), "code": exc.code})
            continue
        for warning in audio.warnings:
            say(f"⚠ {warning}", "yellow", err=True)
        if args.json:
            out.append({"file": path, "source": audio.source.to_dict(), "quality": report.to_dict()})
        else:
            print_report(report, path)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_FAILED_INPUTS if failed else EXIT_OK
