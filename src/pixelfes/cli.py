"""The ``pixelfes`` command: a thin layer over the library (one module per subcommand)."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from . import __version__
from ._errors import DEBUG_ENV, clean_warnings, report, set_debug

# Subcommands in the order --help lists them; each module has add_parser() and run().
_COMMANDS = ["synthesize", "analyze", "augment", "models", "train", "apply", "info", "prepare",
             "evaluate", "cv", "serve"]

DESCRIPTION = """pixelfes: give a face in a photo another expression, with tiny pixel models
(Akram & Khan, "Pixel-based Facial Expression Synthesis")."""

EPILOG = f"""every command also takes:
  --debug          show the full traceback of an error (or set {DEBUG_ENV}=1)
  --max-pixels N   pixel budget per image (default 50000000; or $PIXELFES_MAX_PIXELS)
  -q, --quiet, --no-progress   no progress bars"""


def _max_pixels(text: str) -> int:
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels; got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of pixels; got {text!r}")
    return n


def _add_common(p: argparse.ArgumentParser) -> None:
    """Options every subcommand takes (added here so command modules stay small)."""
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help=f"show the full traceback of an error (or set {DEBUG_ENV}=1)")
    p.add_argument("--max-pixels", type=_max_pixels, default=argparse.SUPPRESS, metavar="N",
                   help="refuse images with more pixels than this (default 50000000; "
                        "or $PIXELFES_MAX_PIXELS)")
    # one spelling for "no progress bars" everywhere: -q, --quiet and --no-progress
    opts = p._option_string_actions
    if "--no-progress" in opts and "--quiet" not in opts:
        p.add_argument("-q", "--quiet", dest="no_progress", action="store_true",
                       help="same as --no-progress")
    elif "--quiet" in opts and "--no-progress" not in opts:
        p.add_argument("--no-progress", dest=opts["--quiet"].dest, action="store_true",
                       help="same as --quiet")
    elif "--quiet" not in opts and "--no-progress" not in opts:  # no bars here: accepted anyway
        p.add_argument("-q", "--quiet", "--no-progress", dest="quiet", action="store_true",
                       help="no progress bars (this command has none)")


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word after the top-level options), if known."""
    it = iter(argv)
    for word in it:
        if word == "--max-pixels":
            next(it, None)  # its value
        elif word == "--debug" or word.startswith("--max-pixels="):
            continue
        else:
            return word if word in _COMMANDS else None
    return None


#: Commands whose work is photos, one at a time: NumPy's OpenBLAS gets one thread in them
#: (analyze: 0.45 -> 0.37 s CPU a cold run, 2026-12-03; augment: a data set of photos).
_ONE_BLAS_THREAD = frozenset({"synthesize", "analyze", "augment"})
#: The variables OpenBLAS reads for its thread count (the first one set wins).
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def one_blas_thread(command: str | None) -> bool:
    """Before NumPy loads, for ``command`` in :data:`_ONE_BLAS_THREAD`: OpenBLAS on one thread
    (``OPENBLAS_NUM_THREADS=1``, inherited by ``--jobs`` workers), unless one of
    :data:`_BLAS_THREAD_VARS` is set already. Returns whether it set it.

    When NumPy loads, OpenBLAS starts a worker thread per further core, and each spins
    (``sched_yield``) for about 0.1 s waiting for work: 40-100 ms of CPU of a 0.4 s cold start,
    on the core where OpenCV builds its CIELAB tables meanwhile (``pipeline.warm_lab_tables``).
    A photo gives it nothing worth a thread: its matrices are small (the same bytes either
    way: tests/test_cold_start.py), and from 8 photos the run is one process per core anyway.
    Too late once NumPy is imported (a program calling :func:`main`): nothing is changed then.
    """
    if command not in _ONE_BLAS_THREAD or "numpy" in sys.modules:
        return False
    if any(os.environ.get(v) for v in _BLAS_THREAD_VARS):
        return False
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    return True


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; ``only``: with that one subcommand (a run of it: importing and
    building the other ten cost 10-20 ms of a cold start). Top-level help and errors about
    an unknown command use the whole one."""
    parser = argparse.ArgumentParser(prog="pixelfes", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"pixelfes {__version__}")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help=f"show the full traceback of an error (or set {DEBUG_ENV}=1)")
    parser.add_argument("--max-pixels", type=_max_pixels, default=argparse.SUPPRESS, metavar="N",
                        help="refuse images with more pixels than this (default 50000000)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS if only is None else [only]:
        try:
            module = importlib.import_module(f"pixelfes.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pixelfes.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(sub)
    for p in sub.choices.values():
        _add_common(p)
    return parser


class Terminated(BaseException):
    """SIGTERM arrived: unwind (so temporary files are removed), then exit 143."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into an exception while a command runs, so no write is left half-done."""
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main(argv: Sequence[str] | None = None) -> int:
    command = _command_of(sys.argv[1:] if argv is None else argv)
    one_blas_thread(command)  # before the command's parser imports NumPy
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from . import imageio

    set_debug(bool(getattr(args, "debug", False)))
    old_budget = imageio._max_pixels_override
    if getattr(args, "max_pixels", None) is not None:
        imageio.set_max_pixels(args.max_pixels)
    try:
        with clean_warnings(), _sigterm_unwinds():
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except Exception as exc:  # noqa: BLE001 - the CLI's last line: one clear line, never a traceback
        report(exc)
        return 1
    finally:
        imageio._max_pixels_override = old_budget
        set_debug(False)


if __name__ == "__main__":
    sys.exit(main())
