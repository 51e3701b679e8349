"""The ``pixelfes`` command: a thin layer over the library (one module per subcommand)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

# Subcommands in the order --help lists them; each module has add_parser() and run().
_COMMANDS = ["synthesize", "models", "train", "apply", "info", "prepare", "evaluate", "cv",
             "serve"]

DESCRIPTION = """pixelfes: give a face in a photo another expression, with tiny pixel models
(Akram & Khan, "Pixel-based Facial Expression Synthesis")."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixelfes", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"pixelfes {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f"pixelfes.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pixelfes.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, LookupError, OSError, RuntimeError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
