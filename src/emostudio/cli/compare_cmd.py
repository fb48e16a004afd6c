"""`emostudio compare A B`: two takes side by side, and which is the more reliable reading — and why."""

from __future__ import annotations

import argparse
import json

from rich.table import Table
from rich.text import Text

from emostudio.cli.common import (
    EXIT_FAILED_INPUTS,
    EXIT_OK,
    EXIT_USAGE,
    add_lang_arg,
    add_model_args,
    check_out_dir,
    console,
    fail,
    load_recognizer,
    say,
)
from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare two takes: labels, scores, quality, and which reading is more reliable",
        description="Analyse two recordings of the same thing (e.g. before and after moving to a quiet room) "
        "and put them side by side: label, confidence, band, the 9 scores, the quality metrics with their "
        "deltas, and which take is the more reliable reading and why.",
    )
    p.add_argument("take_a", metavar="A", help="the first recording")
    p.add_argument("take_b", metavar="B", help="the second recording")
    add_lang_arg(p, "the verdict")
    p.add_argument("--out", default=None, help="also save both run folders here")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON on stdout")
    add_model_args(p)
    p.set_defaults(func=run)


def _fmt(v, unit: str) -> str:
    if v is None:
        return "n/a"
    text = f"{v:.1f}" if isinstance(v, float) else str(v)
    return f"{text}%" if unit == "%" else f"{text} {unit}".strip()


def comparison_table(cmp: dict, lang: str) -> Table:
    table = Table(title=Text(cmp["verdict"][lang]), title_justify="left", show_lines=False)
    table.add_column("")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("B − A", justify="right")
    a, b = cmp["a"], cmp["b"]
    table.add_row("file", Text(str(a.get("source") or "")), Text(str(b.get("source") or "")), "")
    table.add_row("emotion", Text(a["label"][lang]), Text(b["label"][lang]), "")
    table.add_row(
        "confidence",
        f"{a['confidence'] * 100:.1f}% ({a['band'][lang]})",
        f"{b['confidence'] * 100:.1f}% ({b['band'][lang]})",
        f"{(b['confidence'] - a['confidence']) * 100:+.1f}",
    )
    table.add_section()
    for k in KEYS:
        table.add_row(
            Text(BY_KEY[k].display()),
            f"{a['scores'][k] * 100:.1f}%",
            f"{b['scores'][k] * 100:.1f}%",
            f"{cmp['score_delta'][k] * 100:+.1f}",
        )
    table.add_section()
    for q in cmp["quality"]:
        unit = q.get("unit") or ""
        table.add_row(
            Text(q.get(f"label_{lang}") or q["name"]),
            f"{_fmt(q['a'], unit)} {q.get('verdict_a') or ''}",
            f"{_fmt(q['b'], unit)} {q.get('verdict_b') or ''}",
            "" if q["delta"] is None else f"{q['delta']:+.1f}",
        )
    return table


def run(args: argparse.Namespace) -> int:
    from emostudio.compare import compare_takes

    if args.out and not check_out_dir(args.out):
        return EXIT_USAGE
    rec = load_recognizer(args)
    if rec is None:
        return EXIT_USAGE
    outcomes = rec.analyze_many([args.take_a, args.take_b], embedding=True, output_dir=args.out)
    failed = [o for o in outcomes if o.result is None]
    for o in failed:
        fail(str(o.error))
    if failed:
        return EXIT_FAILED_INPUTS
    a, b = (o.result for o in outcomes)
    cmp = compare_takes(a, b)
    if args.json:
        print(json.dumps(cmp, ensure_ascii=False, indent=2))
        return EXIT_OK
    console.print(comparison_table(cmp, args.lang))
    say(cmp["agreement"][args.lang])
    if cmp.get("similarity") is not None:
        say(f"cosine similarity of the embeddings: {cmp['similarity']:.3f}")
    if cmp["is_random"]:
        say("⚠ " + t("random_note", "en"), "yellow")
    return EXIT_OK
