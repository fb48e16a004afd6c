"""`emostudio model init-random | convert | info`: make, convert and inspect emotion2vec checkpoints."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from emostudio.cli.common import console, err_console, say
from emostudio.errors import ModelError
from emostudio.messages import t


def register(sub) -> None:
    p = sub.add_parser(
        "model",
        help="make, convert and inspect emotion2vec checkpoints",
        description="Make a random checkpoint (official layout), convert a checkpoint to safetensors, or show "
        "what a model folder or id holds.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = actions.add_parser(
        "init-random",
        help="write a randomly initialised checkpoint (scores meaningless; for tests/demos/benchmarks)",
    )
    r.add_argument("directory", metavar="DIR")
    r.add_argument("--arch", choices=["tiny", "base", "plus_large"], default="tiny")
    r.add_argument("--seed", type=int, default=0)
    c = actions.add_parser("convert", help="check a checkpoint strictly and write model.safetensors + config")
    c.add_argument("src", metavar="SRC", help="model folder or id found in a local cache")
    c.add_argument("dst", metavar="DST", help="output folder")
    i = actions.add_parser("info", help="architecture, parameter count, labels, source, random or not")
    i.add_argument(
        "model", metavar="DIR|ID", help="model folder, hub id or alias in a local cache, or 'demo'"
    )
    i.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run)


def info_table(info: dict) -> Table:
    t = Table(title=f"model {info['model_id']}", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value")
    a = info["arch"]
    t.add_row("source", info["source"])
    t.add_row(
        "weights",
        "[yellow]RANDOM (scores are meaningless)[/]" if info["is_random"] else "trained",
    )
    t.add_row(
        "architecture",
        f"{a['name']}: dim {a['embed_dim']}, {a['num_heads']} heads, {a['prenet_depth']} prenet + "
        f"{a['depth']} blocks, extractor {a['extractor_mode']}",
    )
    t.add_row("parameters", f"{info['params']:,}")
    labels = [f"{tok} → {lab or 'unused'}" for tok, lab in zip(info["tokens"], info["labels"], strict=True)]
    t.add_row("labels", ", ".join(labels) if labels else "(no head: embeddings only)")
    return t


def run(args: argparse.Namespace) -> int:
    from emostudio.model.checkpoint import convert, init_random, model_info

    try:
        if args.action == "init-random":
            with err_console.status(f"writing random {args.arch} checkpoint …"):
                out = init_random(args.directory, args.arch, args.seed)
            say(f"wrote random {args.arch} checkpoint (seed {args.seed}) to {out}")
            err_console.print(f"[yellow]⚠ {t('random_note', 'en')}[/]")
        elif args.action == "convert":
            with err_console.status(f"converting {args.src} …"):
                out = convert(args.src, args.dst)
            say(f"wrote {out / 'model.safetensors'} (+ config.yaml, tokens.txt)")
        else:
            with err_console.status(f"loading {args.model} …"):
                info = model_info(args.model)
            if args.json:
                print(json.dumps(info, ensure_ascii=False, indent=2))
            else:
                console.print(info_table(info))
    except ModelError as exc:
        err_console.print(f"error: {exc}", style="bold red", markup=False, highlight=False)
        return 1
    return 0
