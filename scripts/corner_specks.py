"""Bright specks at the mouth corners of held-out outputs, against the real photos.

For held-out London people (5 identity-disjoint folds, as in scripts/mouth_eval.py: each
person changed by an engine that never saw them), each image (input, each factory's output,
the real target) is measured with dlib's 68 points found **on that image**: the specks are
the pixels within ``--radius`` mouth widths of the outer corners (48, 54), outside the
inner-lip polygon (60-67, grown by 1 px), whose L* exceeds the median of the ``--window`` x
``--window`` px neighbourhood by more than ``--rise`` (L* quantised to 0.4 for the median).
Prints per person and the mean per method, with the paired difference of each factory
against the first (standard error sd / sqrt(n)); with ``--diff``, also per person the number
of pixels where the first two factories' outputs differ by more than 5 levels in a channel.

    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/corner_specks.py \\
        --factory native --factory native-specks --json /tmp/specks.json

London photos are CC BY 4.0 (DeBruine & Jones 2017).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def corner_specks(rgb: np.ndarray, landmarks: np.ndarray, rise: float = 15.0, radius: float = 0.2,
                  window: int = 9) -> int:
    """Bright specks near the corners of ``rgb`` ``(H, W, 3) uint8`` with its ``(68, 2)`` landmarks."""
    from pixelfes.mouth_regions import srgb_to_lab

    lm = np.asarray(landmarks, dtype=np.float64)
    w = float(np.linalg.norm(lm[54] - lm[48]))
    h_, w_ = rgb.shape[:2]
    x0, y0 = np.maximum(0, np.floor(lm[48:68].min(0) - (radius * w + window))).astype(int)
    x1, y1 = np.minimum((w_, h_), np.ceil(lm[48:68].max(0) + (radius * w + window))).astype(int)
    sub = rgb[y0:y1, x0:x1]
    L = srgb_to_lab(sub)[..., 0].astype(np.float32)
    q = np.clip(np.rint(L * 2.55), 0, 255).astype(np.uint8)
    med = cv2.medianBlur(q, window).astype(np.float32) / np.float32(2.55)
    bright = (L - med) > rise
    yy, xx = np.mgrid[y0:y1, x0:x1]
    near = np.zeros(bright.shape, bool)
    for c in (48, 54):
        near |= (xx - lm[c, 0]) ** 2 + (yy - lm[c, 1]) ** 2 < (radius * w) ** 2
    inner = np.zeros(bright.shape, np.uint8)
    cv2.fillPoly(inner, [np.rint(lm[60:68] - (x0, y0)).astype(np.int32)], 1)
    inner = cv2.dilate(inner, np.ones((3, 3), np.uint8)).astype(bool)
    return int((bright & near & ~inner).sum())


def main(argv: list[str] | None = None) -> int:
    from pixelfes.evaluate.mouth_protocol import (
        london_people,
        pairs_loader,
        resolve_factory,
        run_mouth_folds,
    )

    env = os.environ.get("PIXELFES_DATA")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=(Path(env) if env else REPO.parent / "shared" / "data")
                   / "london-face-set")
    p.add_argument("--factory", action="append", required=True, help="engine factory (repeat)")
    p.add_argument("--direction", default="neutral:happy")
    p.add_argument("--ids", help="comma-separated London ids (default: all)")
    p.add_argument("--rise", type=float, default=15.0)
    p.add_argument("--radius", type=float, default=0.2)
    p.add_argument("--window", type=int, default=9)
    p.add_argument("--diff", action="store_true", help="also count the pixels where the first two factories differ")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    source, target = args.direction.split(":")
    factories = dict(resolve_factory(f) for f in args.factory)
    labels = list(factories)
    people = london_people(args.data, source, target)
    only = {i.strip() for i in args.ids.split(",")} if args.ids else None
    counts: dict[str, dict[str, int]] = {}
    outputs: dict[str, dict[str, np.ndarray]] = {}
    diffs: dict[str, int] = {}

    def hook(person: Any, method: str, rgb: np.ndarray, lm: np.ndarray | None) -> None:
        if lm is not None:
            counts.setdefault(method, {})[person.identity] = corner_specks(rgb, lm, args.rise, args.radius,
                                                                           args.window)
        if args.diff and method in labels[:2]:  # (one output held per person at a time)
            got = outputs.setdefault(person.identity, {})
            got[method] = rgb
            if len(got) == 2:
                a, b = (got.pop(m).astype(np.int16) for m in labels[:2])
                diffs[person.identity] = int((np.abs(a - b).max(axis=2) > 5).sum())

    run_mouth_folds(people, factories, source=source, target=target, load_pairs=pairs_loader(args.data),
                    only=only, on_output=hook, progress=True)
    methods = ["input", *labels, "real target"]
    ids = sorted(set.intersection(*(set(counts.get(m, {})) for m in methods)))
    print("| id | " + " | ".join(methods) + (" | differing px |" if diffs else " |"))
    for pid in ids:
        print(f"| {pid} | " + " | ".join(str(counts[m][pid]) for m in methods)
              + (f" | {diffs.get(pid, '')} |" if diffs else " |"))
    print()
    base = np.array([counts[labels[0]][i] for i in ids], dtype=float)
    for m in methods:
        v = np.array([counts[m][i] for i in ids], dtype=float)
        line = f"{m}: mean {v.mean():.2f}, people with any {int((v > 0).sum())} of {len(v)}"
        if m in labels[1:]:
            d = v - base
            line += f", paired vs {labels[0]} {d.mean():+.2f} (se {d.std(ddof=1) / np.sqrt(len(d)):.2f})"
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "diffs": diffs, "args": {
            k: str(v) for k, v in vars(args).items()}}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
