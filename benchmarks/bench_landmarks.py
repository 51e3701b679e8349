"""Landmark accuracy against the hand-placed points of the London Face Set's ``.tem`` templates.

Run:  python benchmarks/bench_landmarks.py [--methods today,pyramid] [--groups 6]

Error of a face = mean distance over the 18 points that mean the same in both schemes
(``tests/london_groups.py``: brow ends, eye corners, nose base and wings, mouth corners and
lip centres, chin) divided by the distance between the pupils; reported as the median and
mean over faces. Part of it is the schemes' different definitions (a constant offset, the
same for every method): compare methods, not the absolute figure.

1. the 82 neutral photos as they are (1350 px, faces ~460 px wide);
2. the same faces pasted into group photos (``make_group``) at widths 40-800 px, by width.
A face no method found counts as a miss, not as an error.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from london_groups import (  # noqa: E402
    DLIB_IDX,
    TrueFace,
    face_centre,
    face_width,
    log_widths,
    london_neutral,
    make_group,
    match,
    read_tem,
)

Finder = Callable[[np.ndarray], list[tuple[tuple[float, float, float, float], np.ndarray]]]


def finders() -> dict[str, Finder]:
    from pixelfes.face.detect import DlibBackend, PyramidBackend, search_faces

    def using(backend) -> Finder:
        def run(rgb: np.ndarray):
            found = search_faces(rgb, min_size=30, backend=backend, check=False)
            return [(f.box, f.landmarks) for f in found.faces]
        return run

    return {"today": using(DlibBackend()), "pyramid": using(PyramidBackend(min_size=30)), "pyramid+check": lambda rgb: [(f.box, f.landmarks) for f in search_faces(rgb, min_size=30).faces]}


def errors(truths: list[TrueFace], found) -> list[float | None]:
    idx = match(truths, [b for b, _ in found])
    out: list[float | None] = []
    for t, i in zip(truths, idx, strict=True):
        if i is None:
            out.append(None)
            continue
        d = np.linalg.norm(found[i][1][DLIB_IDX] - t.dlib_points, axis=1)
        out.append(float(d.mean() / t.interocular))
    return out


def summary(errs: list[float | None]) -> str:
    got = [e for e in errs if e is not None]
    if not got:
        return f"found 0/{len(errs)}"
    return (f"median {statistics.median(got):.4f}  mean {statistics.fmean(got):.4f}  "
            f"found {len(got)}/{len(errs)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=None, help="comma-separated (default: all)")
    ap.add_argument("--groups", type=int, default=6, help="group photos per method (part 2)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N photos")
    args = ap.parse_args()
    data = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data")) / "london-face-set"
    sources = london_neutral(data)[: args.limit]
    if not sources:
        sys.exit(f"no London photos with .tem under {data} (set PIXELFES_DATA)")
    from PIL import Image

    methods = finders()
    if args.methods:
        methods = {k: methods[k] for k in args.methods.split(",")}
    print(f"1. {len(sources)} neutral London photos, 1350 px (error / pupil distance)")
    photos = []
    for p, t in sources:
        tem = read_tem(t)
        photos.append((np.asarray(Image.open(p).convert("RGB")),
                       TrueFace(width=face_width(tem), centre=face_centre(tem), tem=tem)))
    for name, find in methods.items():
        t0 = time.perf_counter()
        errs = [errors([t], find(rgb))[0] for rgb, t in photos]
        print(f"   {name:10s} {summary(errs)}   ({(time.perf_counter() - t0) / len(photos) * 1000:.0f} ms/photo)")

    print(f"\n2. {args.groups} group photos 3000x2000, 12 faces each, widths 40-800 px (log-spaced)")
    bins = [(40, 80), (80, 160), (160, 320), (320, 801)]
    rng = np.random.default_rng(2026)
    scenes = [make_group(rng, sources, (3000, 2000), log_widths(rng, 12)) for _ in range(args.groups)]
    for name, find in methods.items():
        by_bin: dict[tuple[int, int], list[float | None]] = {b: [] for b in bins}
        for rgb, truths in scenes:
            for t, e in zip(truths, errors(truths, find(rgb)), strict=True):
                for b in bins:
                    if b[0] <= t.width < b[1]:
                        by_bin[b].append(e)
        print(f"   {name}")
        for b, errs in by_bin.items():
            print(f"     width {b[0]:3d}-{min(b[1], 800):3d} px: {summary(errs)}")


if __name__ == "__main__":
    main()
