"""Side-by-side labelled image grids (for the CLI's --grid and the figures)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def labelled_grid(images: Sequence[np.ndarray], labels: Sequence[str], height: int = 384,
                  label_px: int = 28) -> np.ndarray:
    """One RGB row of ``images`` (each ``(H, W[, 3]) uint8``), scaled to ``height``, labelled."""
    tiles = []
    for img, label in zip(images, labels, strict=True):
        arr = np.asarray(img)
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=2)
        pil = Image.fromarray(arr[..., :3])
        w = max(1, round(pil.width * height / pil.height))
        pil = pil.resize((w, height), Image.Resampling.LANCZOS)
        tile = Image.new("RGB", (w, height + label_px), "white")
        tile.paste(pil, (0, label_px))
        draw = ImageDraw.Draw(tile)
        font = _font(label_px - 8)
        draw.text((6, 4), label, fill="black", font=font)
        tiles.append(np.asarray(tile))
    gap = np.full((height + label_px, 4, 3), 255, np.uint8)
    row: list[np.ndarray] = []
    for t in tiles:
        row += [t, gap]
    return np.concatenate(row[:-1], axis=1)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()
