"""Argument helpers shared by several subcommands (one definition each)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._validation import (
    CROP_SIZE_MAX,
    CROP_SIZE_MIN,
    MARGIN_MAX,
    MARGIN_MIN,
    check_crop_size,
    check_margin,
)
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
                       help=f"{prefix}aligned crop side in pixels, {CROP_SIZE_MIN}..{CROP_SIZE_MAX} "
                       f"(default {d.size})")
    group.add_argument("--margin", type=float, default=None,
                       help=f"{prefix}canvas / face-frame ratio, {MARGIN_MIN:g}..{MARGIN_MAX:g} "
                       f"(default {d.margin:g}; 1 = the paper's tight framing, 1.5 keeps chin "
                       f"and forehead inside)")


def check_alignment_args(args: argparse.Namespace) -> None:
    """``--size`` and ``--margin`` within their documented bounds (before any work)."""
    if getattr(args, "size", None) is not None:
        check_crop_size(args.size, "--size")
    if getattr(args, "margin", None) is not None:
        check_margin(args.margin, "--margin")


def alignment_from_args(args: argparse.Namespace, size: int | None = None) -> Alignment:
    """The alignment ``--size``/``--margin`` ask for, on top of the one default.

    ``size``: the crop side to assume when ``--size`` is not given.
    """
    check_alignment_args(args)
    chosen = args.size if args.size is not None else (size or DEFAULT_ALIGNMENT.size)
    margin = args.margin if args.margin is not None else DEFAULT_ALIGNMENT.margin
    return Alignment(size=int(chosen), margin=float(margin))


def asked_alignment(args: argparse.Namespace, size: int | None = None) -> Alignment | None:
    """As :func:`alignment_from_args`, but None when neither option is given (the data knows)."""
    if args.size is None and args.margin is None:
        return None
    return alignment_from_args(args, size)


def add_action_arguments(p: Any, *, au_help: str, like_help: str) -> None:
    """``--au``, ``--engine`` and ``--like``: the facial-action options ``synthesize`` and
    ``augment`` share (their help differs in what the units and the photo apply to)."""
    p.add_argument("--au", default=None, metavar="UNITS", help=au_help)
    p.add_argument("--engine", choices=("auto", "learned", "actions"), default="auto",
                   help="auto: a learned model where one exists, else action units (default); "
                   "learned: only learned models; actions: the action-unit recipes")
    p.add_argument("--like", type=Path, default=None, metavar="PHOTO", help=like_help)
