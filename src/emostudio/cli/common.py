"""Pieces shared by several sub-commands: model options, input expansion, console."""

from __future__ import annotations

import argparse
import glob
import os
from pathlib import Path

from rich.console import Console

console = Console(soft_wrap=True)  # never break paths or messages across lines
err_console = Console(stderr=True, soft_wrap=True)


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default="iic/emotion2vec_plus_large",
        help="hub id (iic/emotion2vec_plus_large, large, base, seed), a local model dir, or 'demo' "
        "(random weights, for trying the workflow offline; scores are meaningless)",
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where the model runs")
    p.add_argument(
        "--dtype",
        default=None,
        choices=["fp32", "bf16", "fp16", "int8"],
        help="precision (default fp32); int8: CPU only, about 2x faster, probabilities move ~1e-3",
    )
    p.add_argument("--offline", action="store_true", help="never try a hub download")


def load_recognizer(args: argparse.Namespace):
    """A Recognizer for the CLI's model options, or None after printing where we looked and how to get weights."""
    from emostudio.errors import ModelError
    from emostudio.model.checkpoint import ModelNotFoundError
    from emostudio.recognize import Recognizer

    try:
        with err_console.status(f"loading model {args.model} …"):
            rec = Recognizer(
                model=args.model,
                device=args.device,
                dtype=args.dtype,
                allow_download=not getattr(args, "offline", False),
            )
    except ModelNotFoundError as exc:
        err_console.print(f"[bold red]No model weights found.[/]\n{exc}", markup=True, highlight=False)
        return None
    except ModelError as exc:
        err_console.print(f"[bold red]Cannot load the model:[/] {exc}", markup=True, highlight=False)
        return None
    if rec.model.is_random:
        err_console.print(
            f"[yellow]⚠ random weights: scores are meaningless (model {rec.model.model_id})[/]",
            highlight=False,
        )
    return rec


def expand_inputs(patterns: list[str], extensions: frozenset[str]) -> list[str]:
    """Files from paths, directories (recursive, audio extensions only) and glob patterns, in a stable order.

    A path that matches nothing is kept as is, so that it is reported as missing instead of silently dropped.
    """
    out: list[str] = []
    for pat in patterns:
        if os.path.isdir(pat):
            found = sorted(
                str(p) for p in Path(pat).rglob("*") if p.is_file() and p.suffix.lower() in extensions
            )
            out += found
        elif any(ch in pat for ch in "*?[") and not os.path.exists(pat):
            out += sorted(glob.glob(pat, recursive=True)) or [pat]
        else:
            out.append(pat)
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]
