"""``pixelfes prepare``: align every image of a data set once and cache the crops."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._args import add_alignment_arguments, alignment_from_args, check_alignment_args

EXAMPLES = """examples:
  pixelfes prepare ../shared/data/london-face-set -o aligned/london
  pixelfes prepare KDEF/ -o aligned/kdef192 --size 192 --margin 1.5   # whole face, same scale
  pixelfes prepare pairs.csv -o aligned/mine --no-progress

Layouts are detected: KDEF, RaFD, JAFFE, CK+, London (neutral_front/ smiling_front/),
trainA/ + trainB/, a CSV with source,target columns, DIR/<identity>/<expression>.<ext>.
Writes crops/*.png, manifest.json, manifest.csv and failures.csv (images without a face).
Prints a JSON summary to stdout; exit status 1 when some images failed and --strict is set.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``prepare`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "prepare",
        help="align a data set once and cache the crops",
        description="Detect, align and cache every face of a data set (crops + manifest).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dataset", type=Path, metavar="DATASET_DIR", help="data set folder or CSV manifest")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="ALIGNED_DIR",
                   help="folder for the aligned crops and manifest")
    add_alignment_arguments(p)
    p.add_argument("--layout", default=None, help="force a layout instead of detecting it")
    p.add_argument("--overwrite", action="store_true", help="redo crops already in ALIGNED_DIR")
    p.add_argument("--strict", action="store_true", help="exit 1 if any image has no face")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``pixelfes prepare``; returns the exit status."""
    from ..datasets import DatasetLayoutError, open_dataset, prepare

    try:
        check_alignment_args(args)
        ds = open_dataset(args.dataset, layout=args.layout)
        print(f"{ds.layout}: {len(ds.records)} images, {len(ds.identities())} identities",
              file=sys.stderr)
        for path, reason in ds.skipped:
            print(f"not used: {path}: {reason}", file=sys.stderr)
        report = prepare(ds, args.output, alignment_from_args(args),
                         progress=not args.no_progress, overwrite=args.overwrite)
    except (DatasetLayoutError, FileNotFoundError, ValueError) as exc:
        print(f"pixelfes prepare: error: {exc}", file=sys.stderr)
        return 2
    for path, reason in report.failures:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    summary = report.as_dict()
    summary.pop("failures")
    summary["failures_file"] = str(Path(args.output) / "failures.csv")
    print(json.dumps(summary))
    if report.failures and args.strict:
        return 1
    return 0 if report.n_aligned + report.n_reused > 0 else 1
