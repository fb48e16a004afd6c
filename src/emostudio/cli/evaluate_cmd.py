"""`emostudio evaluate MANIFEST`: metrics, calibration and stability of one or more models on a labelled set."""

from __future__ import annotations

import argparse
import json

from rich.table import Table
from rich.text import Text

from emostudio.cli.common import (
    add_lang_arg,
    add_runtime_args,
    console,
    err_console,
    progress_bar,
    say,
    say_model_error,
)
from emostudio.messages import t

EPILOG = """\
exit codes:
  0  evaluated; stable against the baseline (when one was given)
  1  evaluated, but some rows were not (missing file, unknown label, corrupt audio; listed by line)
  2  could not run: bad options, unreadable manifest or baseline, no model weights, no file evaluable
  3  internal error (a bug)
  4  changed past a stability threshold against --baseline (flips, score drift, metric drop, new failures);
     wins over 1
"""


def register(sub) -> None:
    from emostudio.evaluate.metrics import DEFAULT_ECE_BINS
    from emostudio.evaluate.stability import StabilityThresholds

    t = StabilityThresholds()
    p = sub.add_parser(
        "evaluate",
        help="accuracy, calibration and stability on your own labelled test set",
        description="Evaluate one or more models on a labelled test set: WA, UA, macro-F1, per-class scores, "
        "confusion matrix, calibration (ECE, reliability diagram), accuracy per confidence band, per speaker, "
        "audio quality of errors vs hits; compare with an earlier report (--baseline). Writes metrics.json, "
        "predictions.csv, report.html and charts to the report folder, and appends the run to the test set's "
        "history.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "manifest",
        metavar="MANIFEST",
        help="CSV/TSV/JSONL with path and label (optional id, speaker, text, start_s/end_s), a Label Studio JSON "
        "export, a folder ROOT/<label>/<files>, or a folder of audio files each with a same-named .TextGrid/.eaf",
    )
    p.add_argument(
        "--tier",
        default=None,
        metavar="NAME",
        help="annotated folders: the tier whose intervals are the items (default: the first tier whose labels "
        "are emotions)",
    )
    p.add_argument(
        "--audio-root",
        default=None,
        metavar="DIR",
        help="where relative audio paths of the manifest / Label Studio export are (default: its folder)",
    )
    p.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="ID|DIR",
        help="model to evaluate; repeat for a side-by-side table (one decode per file shared by all). "
        "Add @fp32/@bf16/@fp16/@int8 for a per-model precision, e.g. --model large --model large@int8 "
        "(default: iic/emotion2vec_plus_large)",
    )
    add_runtime_args(
        p, "where the models run", "precision of every --model without its own @dtype (default fp32)"
    )
    p.add_argument(
        "--classes",
        choices=["all", "4"],
        default="all",
        help="all 9 classes, or 4 (angry/happy/neutral/sad as EmoBox: other rows left out, prediction "
        "restricted to the 4 by renormalising their scores)",
    )
    _add_report_args(p)
    p.add_argument(
        "--ece-bins",
        type=int,
        default=DEFAULT_ECE_BINS,
        help=f"equal-width calibration bins for ECE (default {DEFAULT_ECE_BINS})",
    )
    _add_thresholds(p, t)
    _add_scoring_args(p)
    p.add_argument("--json", action="store_true", help="print metrics.json on stdout")
    add_lang_arg(p)
    _add_adapter_args(p)
    p.set_defaults(func=run)


def _add_scoring_args(p: argparse.ArgumentParser) -> None:
    """How the files are scored: --enhance, --chunk-seconds, --workers."""
    from emostudio.evaluate.runner import DEFAULT_CHUNK_SECONDS

    p.add_argument("--enhance", action="store_true", help="high-pass, denoise and normalise before scoring")
    p.add_argument(
        "--chunk-seconds",
        type=float,
        default=DEFAULT_CHUNK_SECONDS,
        help=f"audio decoded and held at once, shared by all models (default {DEFAULT_CHUNK_SECONDS:g})",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="decode workers: threads that decode and prepare files while the models score (default 2)",
    )


def _add_adapter_args(p: argparse.ArgumentParser) -> None:
    """`--adapter DIR` (evaluate an adapter on a held-out set) and its score cache."""
    g = p.add_argument_group("an adapter (see `emostudio adapt`)")
    g.add_argument(
        "--adapter",
        metavar="DIR",
        default=None,
        help="evaluate this adapter on the set (held-out): base vs calibrated vs adapted with 95 %% intervals; "
        "--model defaults to the model it was trained on; no --baseline / history",
    )
    g.add_argument(
        "--cache", metavar="DIR", default=None, help="score and embedding cache (as `emostudio adapt`)"
    )
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def _add_report_args(p: argparse.ArgumentParser) -> None:
    """Where the report goes and what it is compared with: --report, --overwrite, --baseline, history."""
    p.add_argument(
        "--report",
        metavar="DIR",
        default=None,
        help="report folder to write (new or empty); default evaluations/eval_YYYYMMDD_HHMMSS",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a --report folder that is not empty (same-named files are replaced)",
    )
    p.add_argument("--baseline", metavar="DIR", default=None, help="an earlier report folder to compare with")
    p.add_argument(
        "--history",
        metavar="DIR",
        default=None,
        help="history folder (one JSONL file per test set); default <report folder's parent>/history",
    )
    p.add_argument("--no-history", action="store_true", help="neither read nor append the run history")


_THRESHOLDS = (  # (StabilityThresholds field, type, help before its default)
    ("max_flip_rate", float, "share of files whose label may change"),
    ("max_drift", float, "largest |score change| of any class on any file"),
    ("max_mean_drift", float, "mean over files of the largest score change"),
    ("max_drop", float, "largest drop of WA, UA or macro-F1"),
    ("max_new_failures", int, "files the baseline scored that may fail now"),
)


def _add_thresholds(p: argparse.ArgumentParser, t) -> None:
    """The stability thresholds a run is judged by against its --baseline (defaults from StabilityThresholds)."""
    g = p.add_argument_group("stability thresholds (with --baseline; scores and metrics are 0-1)")
    for name, kind, text in _THRESHOLDS:
        default = getattr(t, name)
        shown = f"{default:g}" if kind is float else f"{default}"
        g.add_argument(
            "--" + name.replace("_", "-"), type=kind, default=default, help=f"{text} (default {shown})"
        )


def _pct(x) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


def summary_table(doc: dict) -> Table:
    t = Table(title=Text(f"evaluation · {doc['manifest']['source']} · classes {doc['classes']}"))
    for col in ("model", "n", "WA", "UA", "macro-F1", f"ECE ({doc['ece_bins']} bins)", "failed"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for name, m in doc["models"].items():
        t.add_row(
            Text(name),
            str(m["n"]),
            _pct(m["wa"]),
            _pct(m["ua"]),
            _pct(m["macro_f1"]),
            _pct(m["ece"]),
            str(m["failed"]),
        )
    return t


def stability_table(st: dict) -> Table:
    t = Table(title=Text(f"stability vs {st['baseline']}: {'passed' if st['passed'] else 'FAILED'}"))
    for col in ("model", "compared", "flipped", "drift mean", "drift max", "ΔWA", "ΔUA", "ΔF1"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for m in st["models"]:
        d = m.get("deltas", {})
        t.add_row(
            Text(m["model"]),
            str(m["compared"]),
            str(len(m["flipped"])),
            f"{m['drift_mean']:.4f}",
            f"{m['drift_max']:.4f}",
            *(f"{d[k] * 100:+.1f}" if k in d else "–" for k in ("wa", "ua", "macro_f1")),
        )
    return t


def run(args: argparse.Namespace) -> int:
    from emostudio.errors import EmoStudioError, ModelError
    from emostudio.evaluate import EXIT_ERROR, StabilityThresholds, evaluate, load_manifest, load_models
    from emostudio.model.checkpoint import DEFAULT_MODEL

    if args.adapter is not None:
        return run_adapter(args)
    specs = args.model or [DEFAULT_MODEL]
    try:
        thresholds = StabilityThresholds(
            args.max_flip_rate, args.max_drift, args.max_mean_drift, args.max_drop, args.max_new_failures
        )
        manifest = load_manifest(args.manifest, args.classes, tier=args.tier, audio_root=args.audio_root)
        with err_console.status(f"loading {len(specs)} model(s) …"):
            models = load_models(specs, device=args.device, dtype=args.dtype, allow_download=not args.offline)
    except ModelError as exc:
        say_model_error(exc)
        return EXIT_ERROR
    except EmoStudioError as exc:
        say(f"✗ {exc}", "bold red", err=True)
        return EXIT_ERROR
    for m in models:
        if m.info.get("is_random"):
            say(f"⚠ {t('random_note', 'en')} ({m.name})", "yellow", err=True)
    with progress_bar(f"evaluating × {len(models)} model(s)", len(manifest.items)) as (bar, task):

        def progress(p) -> None:
            bar.update(
                task,
                completed=p.done,
                total=p.total,
                info=f"{p.audio_s / 60:.1f} min audio · {p.failed} failed",
            )

        try:
            ev = evaluate(
                manifest,
                models,
                report_dir=args.report,
                baseline=args.baseline,
                thresholds=thresholds,
                history_dir=False if args.no_history else args.history,
                ece_bins=args.ece_bins,
                enhance=args.enhance,
                chunk_seconds=args.chunk_seconds,
                workers=args.workers,
                progress=progress,
                overwrite=args.overwrite,
                lang=args.lang,
            )
        except EmoStudioError as exc:
            say(f"✗ {exc}", "bold red", err=True)
            return EXIT_ERROR
    doc = ev.doc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        _print_report(ev)
    for b in ev.bad_rows[:50]:
        say(f"✗ {b['message']}", "red", err=True)
    if ev.bad_rows_total > 50:
        say(f"… {ev.bad_rows_total - 50} more rows not evaluated (see metrics.json)", err=True)
    status = doc["status"]
    colour = "green" if status["code"] == 0 else "yellow" if status["code"] == 1 else "red"
    say(f"exit {status['code']}: {status['en']} / {status['zh']}", colour, err=True)
    for reason in status["reasons"]:
        say(f"  • {reason}", err=True)
    return status["code"]


def run_adapter(args: argparse.Namespace) -> int:
    """`evaluate MANIFEST --adapter DIR`: the adapter's reading on a held-out set (emostudio.adapt)."""
    from emostudio.adapt import evaluate_adapter, load_adapter
    from emostudio.cli.adapt_cmd import print_outcome, readings_table, scoring_bar
    from emostudio.cli.common import EXIT_USAGE, load_recognizer
    from emostudio.errors import EmoStudioError

    if args.baseline is not None or (args.model and len(args.model) > 1):
        say(
            "✗ --adapter evaluates one model's adapter: give at most one --model and no --baseline",
            "bold red",
            err=True,
        )
        return EXIT_USAGE
    try:
        adapter = load_adapter(args.adapter)
    except EmoStudioError as exc:
        say(f"✗ {exc}", "bold red", err=True)
        return EXIT_USAGE
    trained = str(adapter.info.get("classes", "all"))
    if args.classes != "all" and args.classes != trained:
        say(
            f"✗ the adapter was trained with --classes {trained}; evaluate it with the same",
            "bold red",
            err=True,
        )
        return EXIT_USAGE
    spec = args.model[0] if args.model else str(adapter.info.get("model", {}).get("id") or "")
    rec = load_recognizer(
        argparse.Namespace(model=spec, device=args.device, dtype=args.dtype, offline=args.offline)
    )
    if rec is None:
        return EXIT_USAGE
    try:
        with scoring_bar("evaluating the adapter") as (progress, _):
            ev = evaluate_adapter(
                args.manifest,
                rec,
                adapter,
                report_dir=args.report,
                cache_dir=False if args.no_cache else args.cache,
                workers=args.workers,
                overwrite=args.overwrite,
                ece_bins=args.ece_bins,
                progress=progress,
                lang=args.lang,
            )
    except EmoStudioError as exc:
        say(f"✗ {exc}", "bold red", err=True)
        return EXIT_USAGE
    doc = ev.doc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        console.print(readings_table(doc, f"adapter {adapter.id} · held-out {doc['manifest']['source']}"))
        if not doc["adaptation"]["base_applicable"]:
            say("base / calibrated: not applicable (the labels are not the model's 9 classes)")
        say(f"report: {ev.report_dir / 'report.html'}")
    return print_outcome(doc, ev.bad_rows, doc["adaptation"]["warnings"])


def _print_report(ev) -> None:
    """The metrics table, what was left out, the stability comparison and where the report is."""
    doc = ev.doc
    console.print(summary_table(doc))
    if doc["manifest"]["excluded"]:
        say(
            f"{doc['manifest']['excluded']} row(s) outside the {doc['classes']} classes left out "
            f"({', '.join(doc['manifest']['excluded_labels'])})"
        )
    if ev.stability:
        console.print(stability_table(ev.stability))
        for m in ev.stability["models"]:
            for f in m["flipped"][:20]:
                say(f"  flipped {f['id']}: {f['before']} → {f['after']} (reference {f['label']})")
            if len(m["flipped"]) > 20:
                say(f"  … {len(m['flipped']) - 20} more in metrics.json")
    say(f"report: {ev.report_dir / 'report.html'}")
