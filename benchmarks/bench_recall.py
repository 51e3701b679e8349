"""Recall of face detection on group photos with faces 40-800 px wide, and time per megapixel.

Run:  python benchmarks/bench_recall.py [--quick] [--sweep]

Group photos are made at run time from London Face Set photos (``tests/london_groups.py``):
faces scaled to the given widths, turned by up to 10 degrees, pasted onto a smooth random
background. A face counts as found when a box's centre is within half a face width of the
true centre and its size is 0.5-2x the face width; "extra" counts boxes that match no face.
Detectors:
- ``today``: dlib HOG on a copy reduced to 640 px (the detector before issue 13);
- ``hog-full``: dlib HOG on the full photo (finds faces >= ~80 px; too slow for 8000 px);
- ``hog-up1``: dlib HOG on the photo upsampled 2x (finds >= ~40 px; 2600 px photos only);
- ``pyramid``: BlazeFace on a pyramid (``pixelfes.face.blazeface``), boxes only;
- ``pyramid+check``: the default search (``search_faces``: pyramid, 68 landmarks, plausibility
  check); "extra" here are false detections that were *not* rejected.
Times are detection only: CPU time of this process (OpenCV single-threaded), medians over
the scenes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from london_groups import log_widths, london_neutral, make_group, match  # noqa: E402

BINS = [(40, 80), (80, 160), (160, 320), (320, 801)]


def detectors(min_face: float = 40.0):
    from pixelfes.face.detect import DlibBackend, PyramidBackend, search_faces

    def boxes_of(backend):
        return lambda rgb: [b for b, _ in backend.boxes(rgb, min_size=min_face)]

    def checked(rgb):
        return [f.box for f in search_faces(rgb, min_size=min_face).faces]

    return {
        "today": (boxes_of(DlibBackend()), 1e9),
        "hog-full": (boxes_of(DlibBackend(max_side=None, upsample=0)), 4000),
        "hog-up1": (boxes_of(DlibBackend(max_side=None, upsample=1)), 2600),
        "pyramid": (boxes_of(PyramidBackend(min_size=min_face)), 1e9),
        "pyramid+check": (checked, 1e9),
    }


def scenes(quick: bool):
    data = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data")) / "london-face-set"
    sources = london_neutral(data)
    if not sources:
        sys.exit(f"no London photos with .tem under {data} (set PIXELFES_DATA)")
    rng = np.random.default_rng(13)
    plan = [("2600x1300, 4 faces 120-600 px (the issue's photo)", (2600, 1300),
             lambda: [600, 450, 190, 120], 2 if quick else 5),
            ("4000x3000, 16 faces 40-800 px", (4000, 3000), lambda: log_widths(rng, 16),
             1 if quick else 3),
            ("8000x6000, 40 faces 40-800 px", (8000, 6000), lambda: log_widths(rng, 40),
             0 if quick else 1)]
    for name, size, widths, n in plan:
        if n:
            yield name, size, [make_group(rng, sources, size, widths()) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer and smaller scenes")
    ap.add_argument("--only", default=None, help="comma-separated detector names")
    ap.add_argument("--sweep", default=None,
                    help="comma-separated PIXELS_PER_MIN_FACE values to compare (pyramid)")
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    from pixelfes.face import blazeface

    dets = detectors()
    if args.only:
        dets = {k: dets[k] for k in args.only.split(",")}
    variants: list[tuple[str, object]] = [("", None)]
    if args.sweep:
        dets = {"pyramid": dets["pyramid"]}
        variants = [(f" ppf={v}", float(v)) for v in args.sweep.split(",")]
    for title, (w, h), group in scenes(args.quick):
        n_true = sum(len(t) for _, t in group)
        print(f"\n{title}: {len(group)} photo(s), {n_true} faces, {w * h / 1e6:.1f} MP each")
        print(f"  {'detector':18s} {'recall':>7s} " + " ".join(f"{a:>4d}-{min(b, 800):<4d}" for a, b in BINS)
              + f" {'extra':>5s} {'ms/photo':>9s} {'ms/MP':>7s}")
        for suffix, ppf in variants:
            if ppf is not None:
                blazeface.PIXELS_PER_MIN_FACE = ppf
            for name, (find, max_side) in dets.items():
                if max(w, h) > max_side:
                    continue
                find(group[0][0][:64, :64].copy())  # models loaded before timing
                hits = {b: [0, 0] for b in BINS}
                extra, times = 0, []
                for rgb, truths in group:
                    t0 = time.process_time()
                    boxes = find(rgb)
                    times.append(time.process_time() - t0)
                    idx = match(truths, boxes)
                    extra += len(boxes) - sum(i is not None for i in idx)
                    for t, i in zip(truths, idx, strict=True):
                        for b in BINS:
                            if b[0] <= t.width < b[1]:
                                hits[b][0] += i is not None
                                hits[b][1] += 1
                found = sum(v[0] for v in hits.values())
                ms = statistics.median(times) * 1000
                print(f"  {name + suffix:18s} {found / n_true:7.1%} "
                      + " ".join(f"{v[0]:>4d}/{v[1]:<4d}" for v in hits.values())
                      + f" {extra:5d} {ms:9.0f} {ms / (w * h / 1e6):7.1f}")


if __name__ == "__main__":
    main()
