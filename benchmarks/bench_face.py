"""Face pipeline timings: detect + 68 landmarks + align, and paste-back (median per photo).

Run: python benchmarks/bench_face.py [--repeat 15]
Photos: skimage's astronaut resized and padded to 640x480, and a 1350x1350 London photo when
../shared/data is present (full decode, and the JPEG draft decode that prepare uses).
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from _common import DATA, median_ms
from pixelfes.alignment import Alignment
from pixelfes.face import align_face, detect_faces, paste_back
from pixelfes.imageio import read_rgb


def astronaut_640x480() -> np.ndarray:
    """The astronaut photo scaled to 480 px high and padded to 640x480."""
    from skimage import data

    img = cv2.resize(data.astronaut(), (480, 480), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(cv2.copyMakeBorder(img, 0, 0, 80, 80, cv2.BORDER_REPLICATE))


def bench(name: str, rgb: np.ndarray, repeat: int, size: int = 128) -> list[tuple[str, float]]:
    """Rows of (step, ms) for one photo."""
    face = detect_faces(rgb)[0]
    a = align_face(rgb, face.landmarks, Alignment(size=size, margin=1.0))

    def full() -> object:
        f = detect_faces(rgb)[0]
        return align_face(rgb, f.landmarks, Alignment(size=size, margin=1.0))

    return [
        (f"{name}: detect + 68 landmarks + align {size}", median_ms(full, repeat)),
        (f"{name}: align only", median_ms(lambda: align_face(rgb, face.landmarks, Alignment(size=size, margin=1.0)), repeat)),
        (f"{name}: paste-back", median_ms(lambda: paste_back(rgb, a.crop, a.matrix, alignment=a.alignment), repeat)),
    ]


def main() -> None:
    """Print the timing table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rows = bench("640x480 astronaut", astronaut_640x480(), args.repeat)
    photo = DATA / "london-face-set" / "neutral_front" / "001_03.jpg"
    if photo.is_file():
        full, _ = read_rgb(photo)
        rows += bench("1350x1350 London", full, args.repeat)
        rows.append(("1350x1350 London: JPEG decode (full)", median_ms(lambda: read_rgb(photo), args.repeat)))

        def draft() -> object:
            small, _ = read_rgb(photo, min_side=640)
            f = detect_faces(small)[0]
            return align_face(small, f.landmarks, Alignment(size=128, margin=1.0))

        rows.append(("1350x1350 London: draft decode + detect + align (prepare)", median_ms(draft, args.repeat)))
    else:
        rows.append((f"London photo not found at {photo}: skipped", float("nan")))
    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  median ms")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:9.1f}")


if __name__ == "__main__":
    main()
