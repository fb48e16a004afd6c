"""The `emostudio` command: thin sub-commands that parse arguments, call the Python API and print."""

from __future__ import annotations

import argparse
import importlib
import sys

from emostudio import __version__

# each module exposes register(subparsers) and run(args) -> int
COMMANDS = ("analyze", "quality", "enhance", "model", "batch", "serve", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emostudio", description="Speech emotion recognition with emotion2vec+ (Emotion Studio)."
    )
    parser.add_argument("--version", action="version", version=f"emostudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"emostudio.cli.{name}_cmd").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
