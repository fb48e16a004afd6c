"""The `emostudio` command: thin sub-commands that parse arguments, call the Python API and print.

Exit codes (every command): 0 done; 1 done but some inputs failed; 2 nothing done (bad options, no inputs, no
model, unwritable output); 3 internal error; 130 interrupted. No traceback reaches the console unless
EMOSTUDIO_DEBUG=1 is set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from emostudio import __version__

# each module exposes register(subparsers) and run(args) -> int
COMMANDS = (
    "analyze",
    "quality",
    "enhance",
    "model",
    "batch",
    "serve",
    "similar",
    "cluster",
    "profile",
    "evaluate",
    "adapt",
    "compare",
    "live",
    "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emostudio",
        description="Speech emotion recognition with emotion2vec+ (Emotion Studio).",
        epilog="exit codes: 0 done · 1 some inputs failed · 2 nothing done (bad options, no inputs, no model, "
        "unwritable output) · 3 internal error · 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"emostudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"emostudio.cli.{name}_cmd").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from emostudio.cli.common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, fail
    from emostudio.errors import EmoStudioError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        fail("interrupted")
        return EXIT_INTERRUPTED
    except EmoStudioError as exc:  # a typed error that no command caught: a setup or usage problem
        fail(str(exc))
        return EXIT_USAGE
    except Exception as exc:  # a bug: one clear line, the traceback only on request
        if os.environ.get("EMOSTUDIO_DEBUG"):
            traceback.print_exc()
        fail(
            f"internal error: {type(exc).__name__}: {exc} (please report it; EMOSTUDIO_DEBUG=1 shows the traceback)"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
