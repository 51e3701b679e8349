"""Argument helpers shared by several subcommands (one definition each)."""

from __future__ import annotations

import argparse
from typing import Any

from ..alignment import DEFAULT_ALIGNMENT, Alignment


def floats(text: str) -> list[float]:
    """argparse type: comma-separated numbers (``"1,1.25,1.5"``); an empty string is no numbers."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers; got {text!r}") from None


def nonempty_floats(text: str) -> list[float]:
    """argparse type: at least one comma-separated number."""
    values = floats(text)
    if not values:
        raise argparse.ArgumentTypeError("expected at least one number")
    return values


def add_alignment_arguments(group: Any, prefix: str = "") -> None:
    """``--size`` and ``--margin`` (template: the default one), defaults shown from one place."""
    d = DEFAULT_ALIGNMENT
    group.add_argument("--size", type=int, default=None,
                       help=f"{prefix}aligned crop side in pixels (default {d.size})")
    group.add_argument("--margin", type=float, default=None,
                       help=f"{prefix}canvas / face-frame ratio (default {d.margin:g}; 1 = the "
                       f"paper's tight framing, 1.5 keeps chin and forehead inside)")


def alignment_from_args(args: argparse.Namespace, size: int | None = None) -> Alignment:
    """The alignment ``--size``/``--margin`` ask for, on top of the one default.

    ``size``: the crop side to assume when ``--size`` is not given.
    """
    chosen = args.size if args.size is not None else (size or DEFAULT_ALIGNMENT.size)
    margin = args.margin if args.margin is not None else DEFAULT_ALIGNMENT.margin
    return Alignment(size=int(chosen), margin=float(margin))


def asked_alignment(args: argparse.Namespace, size: int | None = None) -> Alignment | None:
    """As :func:`alignment_from_args`, but None when neither option is given (the data knows)."""
    if args.size is None and args.margin is None:
        return None
    return alignment_from_args(args, size)
