"""Train Pixel-RR on generated 'faces' and write input | output | target as one PNG.

Run: python examples/generated_demo.py -o demo.png   (no data needed)
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

import pixelfes


def make_faces(n: int, size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Grey discs with eyes and a flat mouth (source) or an upturned one (target)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size
    src = np.empty((n, size, size, 3), np.uint8)
    tgt = np.empty_like(src)
    for i in range(n):
        skin = rng.uniform(120, 220)
        face = ((xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.16) * skin
        eyes = (((xx - 0.35) ** 2 + (yy - 0.4) ** 2 < 0.003) | ((xx - 0.65) ** 2 + (yy - 0.4) ** 2 < 0.003))
        flat = (np.abs(yy - 0.68) < 0.02) & (np.abs(xx - 0.5) < 0.15)
        smile = (np.abs(yy - (0.66 + 2.0 * (xx - 0.5) ** 2 * -1 + 0.04)) < 0.02) & (np.abs(xx - 0.5) < 0.17)
        for out, mouth in ((src, flat), (tgt, smile)):
            img = np.where(eyes | mouth, 40.0, face) + rng.normal(0, 3, (size, size))
            out[i] = np.clip(img, 0, 255).astype(np.uint8)[..., None]
    return src, tgt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="demo.png")
    args = ap.parse_args()
    x, t = make_faces(60)
    model = pixelfes.PixelRR(lam=0.4).fit(x[:50], t[:50])
    y = model.predict(x[50:55])
    rows = [np.concatenate([a, b, c], axis=1) for a, b, c in zip(x[50:55], y, t[50:55], strict=True)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.output)
    print(f"wrote {args.output}: input | Pixel-RR output | target, 5 unseen faces")


if __name__ == "__main__":
    main()
