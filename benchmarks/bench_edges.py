"""Faces cut by the photo's edge: how many the pyramid finds and changes.

Run:  python benchmarks/bench_edges.py [--cases 120] [--cut 0.5] [--pad 16,0] [--float]

Each case: a 1350 x 1350 photo of one flat colour with one London Face Set face (neutral,
``../shared/data``) of 40-300 px (log-uniform), placed so that a share of its width up to
``--cut`` lies beyond a random edge of the photo (fixed seed). A face is *detected* when
a BlazeFace detection's centre is near it, *changed* when ``search_faces`` keeps it (the
plausibility check passed). ``--pad`` compares grey margins (``blazeface.PAD``);
``--float`` runs the cheap look with the float net too (``blazeface.QUANTIZED = False``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from london_groups import face_centre, face_width, london_neutral, read_tem  # noqa: E402


def cases(n: int, max_cut: float, data: Path) -> list[tuple[np.ndarray, tuple[float, float], float]]:
    import cv2

    from pixelfes.imageio import load_image

    sources = london_neutral(data)
    rng = np.random.default_rng(1)
    out = []
    size = 1350
    for k in range(n):
        jpg, tem = sources[k % len(sources)]
        rgb, pts = load_image(jpg).rgb, read_tem(tem)
        width = float(np.exp(rng.uniform(np.log(40), np.log(300))))
        s = width / face_width(pts)
        face = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        cx, cy = face_centre(pts) * s
        photo = np.empty((size, size, 3), np.uint8)
        photo[:] = rng.integers(40, 200, 3)
        cut, side = rng.uniform(0.0, max_cut), rng.integers(4)
        off = (0.5 - cut) * width  # the face centre's distance from the cut edge
        mid = rng.uniform(200, size - 200)
        px = {0: off, 1: size - off}.get(int(side), mid)
        py = {2: off, 3: size - off}.get(int(side), rng.uniform(200, size - 200))
        x0, y0 = int(round(px - cx)), int(round(py - cy))
        sx, sy, dx, dy = max(0, -x0), max(0, -y0), max(0, x0), max(0, y0)
        w = min(face.shape[1] - sx, size - dx)
        h = min(face.shape[0] - sy, size - dy)
        photo[dy:dy + h, dx:dx + w] = face[sy:sy + h, sx:sx + w]
        out.append((photo, (px, py), width))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=120)
    ap.add_argument("--cut", type=float, default=0.5, help="largest share of a face's width cut off")
    ap.add_argument("--pad", default="16", help="comma-separated grey margins to compare")
    ap.add_argument("--float", action="store_true", help="also with the float cheap look")
    args = ap.parse_args()
    data = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data")) / "london-face-set"
    import cv2

    cv2.setNumThreads(1)
    from pixelfes.face import blazeface as bf
    from pixelfes.face.detect import search_faces

    made = cases(args.cases, args.cut, data)
    looks = [True, False] if args.float else [True]
    for pad in (int(v) for v in args.pad.split(",")):
        for quantized in looks:
            bf.PAD, bf.QUANTIZED = pad, quantized
            detected = changed = 0
            for photo, (px, py), width in made:
                def near(box: tuple[float, float, float, float], px: float = px,
                         py: float = py, width: float = width) -> bool:
                    return (abs(0.5 * (box[0] + box[2]) - px) < 0.4 * width
                            and abs(0.5 * (box[1] + box[3]) - py) < 0.5 * width)
                detected += any(near(d.box) for d in bf.blazeface_detect(photo, 40.0))
                changed += any(near(f.box) for f in search_faces(photo, min_size=40).faces)
            look = "8-bit" if quantized else "float"
            print(f"PAD {pad:2d}, {look} cheap look: detected {detected}/{len(made)}, "
                  f"changed {changed}/{len(made)} (faces cut by up to {args.cut:.0%} of their width)")


if __name__ == "__main__":
    main()
