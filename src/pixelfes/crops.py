"""Folders of already aligned crops: read them as batches, write results beside their names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .imageio import is_grayscale

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


class CropError(ValueError):
    """One or more crops could not be used; ``problems`` lists each file with its reason."""

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        lines = [message] + [f"  {name}: {why}" for name, why in problems]
        super().__init__("\n".join(lines))
        self.problems = list(problems)


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CropError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def read_crop(path: str | Path, channels: int | None = None) -> np.ndarray:
    """One crop as (H, W, C) uint8; ``channels`` 1 or 3 converts, None keeps L as 1 and else 3."""
    from .imageio import _decode_errors, decoded

    with decoded(path) as im:
        with _decode_errors(Path(path)):
            im.load()
        if channels is None:
            channels = 1 if is_grayscale(im) else 3
        arr = np.asarray(im.convert("L" if channels == 1 else "RGB"), dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def read_crops(paths: Iterable[str | Path], channels: int | None = None,
               progress: bool = False, desc: str = "reading crops") -> np.ndarray:
    """Read crops of one size into an (N, H, W, C) uint8 batch; every failure is listed."""
    from tqdm import tqdm

    paths = list(paths)
    arrays: list[np.ndarray] = []
    problems: list[tuple[str, str]] = []
    for path in tqdm(paths, desc=desc, disable=not progress, unit="img"):
        try:
            arrays.append(read_crop(path, channels))
        except Exception as exc:  # noqa: BLE001 - collected and reported together
            problems.append((str(path), f"unreadable ({exc})"))
    if problems:
        raise CropError("some crops could not be read:", problems)
    if not arrays:
        raise CropError("no crops to read")
    if channels is None and len({a.shape[2] for a in arrays}) > 1:
        arrays = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        first = arrays[0].shape
        odd = [(str(p), f"size {a.shape[1]}x{a.shape[0]}, expected {first[1]}x{first[0]}")
               for p, a in zip(paths, arrays, strict=True) if a.shape != first]
        raise CropError("crops must all have the same size:", odd)
    return np.stack(arrays)


def paired_files(source_dir: str | Path, target_dir: str | Path) -> list[tuple[Path, Path]]:
    """Pairs of files with the same name (stem) in both folders; any unmatched file is an error."""
    src = {p.stem: p for p in list_images(source_dir)}
    tgt = {p.stem: p for p in list_images(target_dir)}
    problems = [(str(src[s]), f"no file of that name in {target_dir}") for s in sorted(src.keys() - tgt.keys())]
    problems += [(str(tgt[s]), f"no file of that name in {source_dir}") for s in sorted(tgt.keys() - src.keys())]
    if problems:
        raise CropError("source and target folders must hold the same file names:", problems)
    if not src:
        raise CropError(f"no images found in {source_dir}")
    return [(src[s], tgt[s]) for s in sorted(src)]


def write_crop(array: np.ndarray, path: str | Path) -> None:
    """Write an (H, W, C) uint8 crop atomically (format from the suffix)."""
    from ._atomic import atomic_path

    path = Path(path)
    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    with atomic_path(path, suffix=path.suffix) as tmp:
        img.save(tmp)
