"""Make the small face crops the face-api port is tested on (tests/fixtures/faceapi/*.png).

Six crops of London Set photos (CC BY 4.0: DeBruine & Jones 2017, Face Research Lab London
Set, doi:10.6084/m9.figshare.5047666.v5), cut around dlib's face box and area-reduced to
small sizes (square and not, so the port's pad-to-square and resize are both exercised),
plus two generated images (a smooth gradient and seeded noise).

    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/faceapi_fixtures.py
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from pixelfes.evaluate._faces import detect_box
from pixelfes.imageio import read_rgb

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "faceapi"
# (London photo, crop (width, height), widening of the dlib box per side)
LONDON = [
    ("neutral_front/001_03.jpg", (112, 112), 0.15),
    ("smiling_front/001_08.jpg", (112, 112), 0.15),
    ("neutral_front/010_03.jpg", (96, 120), 0.10),
    ("smiling_front/010_08.jpg", (120, 100), 0.20),
    ("smiling_front/021_08.jpg", (80, 80), 0.05),
    ("neutral_front/031_03.jpg", (131, 117), 0.25),
]


def main() -> None:
    root = Path(os.environ.get("PIXELFES_DATA", "")) / "london-face-set"
    OUT.mkdir(parents=True, exist_ok=True)
    for rel, (w, h), grow in LONDON:
        rgb, _ = read_rgb(root / rel)
        box = detect_box(rgb)
        assert box is not None, rel
        x0, y0, x1, y1 = box
        cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * (1 + 2 * grow)
        sx, sy = side * w / max(w, h), side * h / max(w, h)
        crop = rgb[int(cy - sy / 2):int(cy + sy / 2), int(cx - sx / 2):int(cx + sx / 2)]
        small = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
        name = f"london_{Path(rel).stem}_{w}x{h}.png"
        Image.fromarray(small).save(OUT / name, optimize=True)
    yy, xx = np.mgrid[0:90, 0:150]
    grad = np.stack([xx * 255 / 149, yy * 255 / 89, 255 - xx * 255 / 149], -1).round().astype(np.uint8)
    Image.fromarray(grad).save(OUT / "generated_gradient_150x90.png", optimize=True)
    noise = np.random.default_rng(16).integers(0, 256, (64, 56, 3), dtype=np.uint8)
    Image.fromarray(noise).save(OUT / "generated_noise_56x64.png", optimize=True)


if __name__ == "__main__":
    main()
