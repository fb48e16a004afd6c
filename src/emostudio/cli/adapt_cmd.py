"""`emostudio adapt MANIFEST --model M --out DIR`: calibration and a head for your own labels, cross-validated."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator, Sequence

from rich.table import Table
from rich.text import Text

from emostudio.cli.common import (
    EXIT_USAGE,
    add_lang_arg,
    add_model_args,
    console,
    fail,
    load_recognizer,
    progress_bar,
    say,
)

EPILOG = """\
exit codes:
  0  adapter written, every row used
  1  adapter written, but some rows could not be used (missing file, corrupt audio, bad label; listed by line)
  2  nothing written: bad options, unreadable manifest, too few examples per class (at least --min-per-class),
     fewer speakers than folds, no model weights, an output folder that is not empty
  3  internal error (a bug)
"""


def register(sub) -> None:
    from emostudio.adapt.labelset import MIN_PER_CLASS
    from emostudio.adapt.train import DEFAULT_FOLDS
    from emostudio.evaluate.intervals import DEFAULT_BOOTSTRAP

    p = sub.add_parser(
        "adapt",
        help="calibrate the confidence and train a head for your own labels, with a cross-validated report",
        description="Train an adapter on a labelled set: temperature scaling of the model's 9 scores (so the "
        "confidence bands mean what they say) and a logistic-regression head on the utterance embeddings for "
        "the set's own labels (the 9 classes, EmoBox's 4, or any names such as frustrated / satisfied). Every "
        "figure in the report (base vs calibrated vs adapted, with bootstrap 95 % intervals) is cross-validated: "
        "k folds grouped by speaker when the set has a speaker column, out-of-fold predictions only. Scores and "
        "embeddings are cached per audio file, so a second run scores nothing.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "manifest",
        metavar="MANIFEST",
        help="labelled set as `emostudio evaluate` reads it: CSV/TSV/JSONL with path and label (optional id, "
        "speaker, text) or a folder ROOT/<label>/<files>; labels that are none of the 9 classes are your own",
    )
    add_model_args(p, limits=False)
    p.add_argument("--out", required=True, metavar="DIR", help="adapter folder to write (new or empty)")
    p.add_argument(
        "--folds", type=int, default=DEFAULT_FOLDS, help=f"cross-validation folds (default {DEFAULT_FOLDS})"
    )
    p.add_argument(
        "--classes",
        choices=["all", "4"],
        default="all",
        help="all labels in the set, or 4 (angry/happy/neutral/sad as EmoBox; other rows left out)",
    )
    p.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help="cache of scores and embeddings (default $EMOSTUDIO_CACHE/embeddings or ~/.cache/emostudio/embeddings)",
    )
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds and the bootstrap (default 0)")
    p.add_argument(
        "--min-per-class",
        type=int,
        default=MIN_PER_CLASS,
        help=f"refuse a class with fewer labelled files (default {MIN_PER_CLASS}, at least 2)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=DEFAULT_BOOTSTRAP,
        metavar="N",
        help=f"bootstrap resamples for the 95 %% intervals (default {DEFAULT_BOOTSTRAP})",
    )
    p.add_argument("--workers", type=int, default=2, help="decoding threads (default 2)")
    p.add_argument("--overwrite", action="store_true", help="write into an --out folder that is not empty")
    p.add_argument("--json", action="store_true", help="print the report's metrics.json on stdout")
    add_lang_arg(p, "the report's chart texts")
    p.set_defaults(func=run)


def _pct(x, ci=None) -> str:
    if x is None:
        return "–"
    return f"{x * 100:.1f}%" + (f" [{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]" if ci else "")


def readings_table(doc: dict, title: str) -> Table:
    """Base / calibrated / adapted: n, UA and WA with 95 % intervals, macro-F1, ECE, NLL."""
    t = Table(title=Text(title))
    for col in ("reading", "n", "UA [95 %]", "WA [95 %]", "macro-F1", f"ECE ({doc['ece_bins']} bins)", "NLL"):
        t.add_column(col, justify="left" if col == "reading" else "right")
    for name, m in doc["models"].items():
        ci = m.get("ci") or {}
        t.add_row(
            Text(name),
            str(m["n"]),
            _pct(m["ua"], ci.get("ua")),
            _pct(m["wa"], ci.get("wa")),
            _pct(m["macro_f1"]),
            _pct(m["ece"]),
            "–" if m.get("nll") is None else f"{m['nll']:.3f}",
        )
    return t


@contextlib.contextmanager
def scoring_bar(label: str) -> Iterator:
    """A progress bar on stderr for `embed_items` (files from the cache or scored); yields the callback."""
    with progress_bar(label) as (bar, task):

        def progress(p) -> None:
            bar.update(task, completed=p.done, total=p.total, info=f"{p.cached} cached · {p.failed} failed")

        yield progress, (lambda text: bar.update(task, description=f"{label} · {text}"))


def print_outcome(doc: dict, bad_rows: Sequence[dict], warnings: Sequence[str]) -> int:
    """Warnings, rows not used, the exit line; returns the exit code."""
    for w in warnings:
        say(f"⚠ {w}", "yellow", err=True)
    for b in bad_rows[:50]:
        say(f"✗ {b['message']}", "red", err=True)
    total = int(doc.get("bad_rows_total", len(bad_rows)))
    if total > 50:
        say(f"… {total - 50} more rows not used (see metrics.json)", err=True)
    status = doc["status"]
    colour = "green" if status["code"] == 0 else "yellow"
    say(f"exit {status['code']}: {status['en']} / {status['zh']}", colour, err=True)
    return int(status["code"])


def run(args: argparse.Namespace) -> int:
    from emostudio.adapt import adapt
    from emostudio.errors import EmoStudioError

    if args.bootstrap < 0:
        fail(f"--bootstrap must be 0 or more, not {args.bootstrap}")
        return EXIT_USAGE
    rec = load_recognizer(args)
    if rec is None:
        return EXIT_USAGE
    try:
        with scoring_bar("adapting") as (progress, stage):
            run_ = adapt(
                args.manifest,
                rec,
                args.out,
                folds=args.folds,
                classes=args.classes,
                cache_dir=False if args.no_cache else args.cache,
                seed=args.seed,
                min_per_class=args.min_per_class,
                workers=args.workers,
                overwrite=args.overwrite,
                n_boot=args.bootstrap,
                progress=progress,
                on_stage=stage,
                lang=args.lang,
            )
    except EmoStudioError as exc:
        fail(str(exc))
        return EXIT_USAGE
    doc = run_.doc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        folds = doc["adaptation"]["folds"]
        console.print(
            readings_table(
                doc, f"adapt · {doc['manifest']['source']} · {folds['k']}-fold CV by {folds['grouped_by']}"
            )
        )
        if not doc["adaptation"]["base_applicable"]:
            say("base / calibrated: not applicable (the labels are not the model's 9 classes)")
        cal = doc["adaptation"]["calibration"]
        if cal["fitted"]:
            say(f"temperature T = {cal['temperature']:.3f}")
        say(
            f"labels: {', '.join(run_.adapter.labels)} · {run_.scored} file(s) scored, {run_.cached} from the cache"
        )
        say(f"adapter: {run_.folder} (id {run_.adapter.id})")
        say(f"report: {run_.report_dir / 'report.html'}")
    return print_outcome(doc, run_.bad_rows, run_.warnings)
