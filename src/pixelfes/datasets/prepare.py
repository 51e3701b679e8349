"""Align a data set once and cache the crops; load aligned training pairs as arrays."""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from .._atomic import atomic_path
from .._version import __version__
from ..alignment import DEFAULT_ALIGNMENT, Alignment
from ..crops import read_crop
from ..face.align import align_face
from ..face.detect import NoFaceError, detect_faces
from ..imageio import is_grayscale, read_rgb, save_image
from .base import Combine, Dataset, ImageRecord
from .readers import ALIGNED_FORMAT, open_dataset

__all__ = ["AlignedImage", "FailedImageWarning", "PairArrays", "PrepareReport", "align_image_file", "load_pairs", "prepare"]


class FailedImageWarning(UserWarning):
    """Some images of a data set gave no face and were left out (listed in the message)."""


@dataclass(frozen=True)
class AlignedImage:
    """One aligned image: crop ``(S, S, C) uint8`` and how it was made (photo coordinates)."""

    crop: np.ndarray = field(repr=False)
    matrix: np.ndarray = field(repr=False)  # (2, 3) photo -> crop, full-resolution photo pixels
    landmarks: np.ndarray = field(repr=False)  # (68, 2) crop coordinates
    score: float
    box: tuple[float, float, float, float]  # full-resolution photo pixels
    gray: bool


def _is_gray(path: Path) -> bool:
    with Image.open(path) as im:
        return is_grayscale(im)


def align_image_file(path: str | os.PathLike[str], alignment: Alignment = DEFAULT_ALIGNMENT,
                     min_side: int = 640, min_size: float = 40.0) -> AlignedImage:
    """Detect the largest face of an image file and align it (68 landmarks).

    JPEGs are decoded reduced (``draft``) to a longest side >= ``min_side``: the crop is far
    smaller than the face anyway. Grayscale files give ``(S, S, 1)`` crops. Raises
    :class:`NoFaceError` naming the file when no face is found.
    """
    path = Path(path)
    rgb, scale = read_rgb(path, min_side=min_side)
    face = detect_faces(rgb, landmarks=68, max_faces=1, min_size=min_size * scale, path=path)[0]
    gray = _is_gray(path)
    image = rgb[..., :1] if gray else rgb
    a = align_face(image, face.landmarks, alignment)
    # photo pixel p (full size) -> decoded pixel q = (p + 0.5) * scale - 0.5
    to_small = np.array([[scale, 0, 0.5 * scale - 0.5], [0, scale, 0.5 * scale - 0.5]])
    m_full = np.hstack([a.matrix[:, :2] @ to_small[:, :2],
                        (a.matrix[:, :2] @ to_small[:, 2] + a.matrix[:, 2])[:, None]])
    box = tuple(float((v + 0.5) / scale - 0.5) for v in face.box)
    return AlignedImage(crop=a.crop, matrix=m_full, landmarks=a.landmarks, score=face.score,
                        box=box, gray=gray)  # type: ignore[arg-type]


@dataclass
class PrepareReport:
    """What :func:`prepare` did: counts, and every image that failed with the reason."""

    out_dir: Path
    n_images: int
    n_aligned: int
    n_reused: int
    failures: list[tuple[Path, str]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"out_dir": str(self.out_dir), "images": self.n_images, "aligned": self.n_aligned,
                "reused": self.n_reused, "failed": len(self.failures),
                "failures": [{"source": str(p), "reason": r} for p, r in self.failures]}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _crop_name(rec: ImageRecord, root: Path) -> str:
    try:
        rel = rec.path.resolve().relative_to(root.resolve())
    except ValueError:  # CSV rows may point outside the CSV's folder
        rel = Path(rec.identity) / rec.path.name
    return (Path("crops") / rel.with_suffix(".png")).as_posix()


def _progress(iterable: Any, enabled: bool, total: int, desc: str) -> Any:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="img")


def prepare(dataset_dir: str | os.PathLike[str] | Dataset, out_dir: str | os.PathLike[str],
            alignment: Alignment = DEFAULT_ALIGNMENT, progress: bool = True,
            min_side: int = 640, overwrite: bool = False) -> PrepareReport:
    """Align every image of a data set once and cache the crops (PNG) with a manifest.

    Writes ``out_dir/crops/...png``, ``manifest.json`` (per image: identity, expression,
    source path, photo->crop matrix, detection score, box, 68 landmarks in crop
    coordinates; settings; pairs for paired layouts), ``manifest.csv`` and ``failures.csv``
    (every image without a face, with the reason). All files are written atomically. A
    second run with the same settings reuses crops already made (``overwrite`` redoes them).
    ``open_dataset(out_dir)`` reads the result back without detecting again.
    """
    ds = dataset_dir if isinstance(dataset_dir, Dataset) else open_dataset(dataset_dir)
    if ds.layout == "aligned":
        raise ValueError(f"{ds.root} is already an aligned folder; pass the original data set")
    out = Path(out_dir)
    settings = alignment.as_dict()
    root = ds.root.parent if ds.root.is_file() else ds.root
    old: dict[str, dict[str, Any]] = {}
    mpath = out / "manifest.json"
    if mpath.is_file() and not overwrite:
        try:
            prev = json.loads(mpath.read_text(encoding="utf-8"))
            if prev.get("format") == ALIGNED_FORMAT and all(prev.get(k) == v for k, v in settings.items()):
                old = {it["source"]: it for it in prev["images"] if (out / it["file"]).is_file()}
        except (ValueError, KeyError, OSError):
            old = {}

    unique: dict[Path, ImageRecord] = {}
    for r in ds.records:
        unique.setdefault(r.path, r)
    items: dict[Path, dict[str, Any]] = {}
    failures: list[tuple[Path, str]] = []
    grays: list[bool] = []
    reused = 0
    for rec in _progress(unique.values(), progress, len(unique), "aligning"):
        src = str(rec.path)
        name = _crop_name(rec, root)
        base = {"file": name, "source": src, "identity": rec.identity,
                "expression": rec.expression, "group": rec.group, "take": rec.take}
        if src in old and old[src]["file"] == name:
            item = {**old[src], **base}
            reused += 1
        else:
            try:
                a = align_image_file(rec.path, alignment, min_side=min_side)
            except NoFaceError as exc:
                failures.append((rec.path, str(exc)))
                continue
            except (ValueError, OSError) as exc:
                failures.append((rec.path, f"cannot read: {exc}"))
                continue
            crop = a.crop[..., 0] if a.gray else a.crop
            save_image(crop, out / name)
            item = {**base, "gray": a.gray, "score": round(a.score, 4),
                    "box": [round(v, 2) for v in a.box],
                    "matrix": a.matrix.round(8).tolist(),
                    "landmarks": a.landmarks.round(3).tolist()}
        grays.append(bool(item.get("gray", False)))
        items[rec.path] = item

    channels = 1 if grays and all(grays) else 3
    pairs = None
    if ds.explicit_pairs is not None:
        pairs = [[items[a.path]["file"], items[b.path]["file"]] for a, b in ds.explicit_pairs
                 if a.path in items and b.path in items]
    manifest = {"format": ALIGNED_FORMAT, "format_version": 1, "pixelfes_version": __version__,
                **settings, "channels": channels, "layout": ds.layout, "source_root": str(root),
                "images": list(items.values()), "pairs": pairs,
                "failures": [{"source": str(p), "reason": r} for p, r in failures]}
    _write_atomic(mpath, json.dumps(manifest, indent=1).encode("utf-8"))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["file", "identity", "expression", "source", "score"])
    for it in items.values():
        w.writerow([it["file"], it["identity"], it["expression"] or "", it["source"], it.get("score", "")])
    _write_atomic(out / "manifest.csv", buf.getvalue().encode("utf-8"))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["source", "reason"])
    w.writerows([[str(p), r] for p, r in failures])
    _write_atomic(out / "failures.csv", buf.getvalue().encode("utf-8"))
    return PrepareReport(out, len(unique), len(items) - reused, reused, failures)


class PairArrays(NamedTuple):
    """Aligned training pairs: ``X``/``T`` ``(N, S, S, C) uint8``, landmarks ``(N, 68, 2)``,
    and the ``alignment`` the crops were made with (hand it to ``fit``)."""

    identities: list[str]
    X: np.ndarray
    T: np.ndarray
    landmarks_source: np.ndarray
    landmarks_target: np.ndarray
    alignment: Alignment

    def fit_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``model.fit(pairs.X, pairs.T, **pairs.fit_kwargs())``."""
        return {"landmarks_source": self.landmarks_source, "landmarks_target": self.landmarks_target,
                "groups": self.identities, "alignment": self.alignment}


def load_pairs(data_dir: str | os.PathLike[str] | Dataset, from_: str = "neutral", to: str = "happy",
               alignment: Alignment | None = None, combine: Combine = "all", progress: bool = True,
               min_side: int = 640) -> PairArrays:
    """Aligned (source, target) training arrays of the same people, ``from_`` -> ``to``.

    A folder written by :func:`prepare` is read directly (no detection; ``alignment``,
    when given, must match the one it was prepared with). Any other data set is aligned
    on the fly with ``alignment`` (default :data:`DEFAULT_ALIGNMENT`). Grayscale data sets (all images single-channel, e.g. JAFFE) give ``C = 1``,
    others ``C = 3``. Images without a face are left out with a :class:`FailedImageWarning`
    naming them; pairing follows :meth:`Dataset.pairs` (``combine``).
    """
    ds = data_dir if isinstance(data_dir, Dataset) else open_dataset(data_dir)
    recs = ds.pair_records(from_, to, combine)
    if not recs:
        raise ValueError(
            f"no {from_} -> {to} pairs in {ds.root} (layout {ds.layout}); "
            f"expressions present: {', '.join(ds.expressions()) or 'none labelled'}"
        )
    if ds.layout == "aligned":
        meta = ds.meta
        try:
            have = Alignment.from_dict(meta)
        except ValueError as exc:
            raise ValueError(f"{ds.root}/manifest.json does not say how it was aligned ({exc}); "
                             "prepare it again with pixelfes prepare") from None
        if alignment is not None and alignment != have:
            raise ValueError(
                f"{ds.root} was prepared with {have}; asked for {alignment}. "
                "Prepare it again with that setting, or leave the alignment out."
            )
        alignment = have
        channels = int(meta.get("channels", 3))
        needed = {r.path: r for pair in recs for r in pair}
        crops = {p: read_crop(p, channels)
                 for p in _progress(needed, progress and len(needed) > 200, len(needed), "reading")}
        lms = {p: np.asarray(r.extra["landmarks"], dtype=np.float64) for p, r in needed.items()}
    else:
        alignment = DEFAULT_ALIGNMENT if alignment is None else alignment
        needed = {r.path: r for pair in recs for r in pair}
        crops, lms, grays, failed = {}, {}, [], []
        for p in _progress(needed, progress, len(needed), "aligning"):
            try:
                a = align_image_file(p, alignment, min_side=min_side)
            except (NoFaceError, ValueError, OSError) as exc:
                failed.append((p, str(exc)))
                continue
            crops[p], lms[p] = a.crop, a.landmarks
            grays.append(a.gray)
        if failed:
            warnings.warn(
                f"{len(failed)} image(s) without a usable face were left out: "
                + "; ".join(f"{p}: {r.split(';')[0]}" for p, r in failed[:10])
                + (" ..." if len(failed) > 10 else ""),
                FailedImageWarning, stacklevel=2,
            )
        channels = 1 if grays and all(grays) else 3
        if channels == 3:
            crops = {p: np.repeat(c, 3, axis=2) if c.shape[2] == 1 else c for p, c in crops.items()}
    recs = [(a, b) for a, b in recs if a.path in crops and b.path in crops]
    if not recs:
        raise ValueError(f"no {from_} -> {to} pair of {ds.root} has a face found on both sides")
    x = np.stack([crops[a.path] for a, _ in recs])
    t = np.stack([crops[b.path] for _, b in recs])
    ls = np.stack([lms[a.path] for a, _ in recs])
    lt = np.stack([lms[b.path] for _, b in recs])
    return PairArrays([a.identity for a, _ in recs], x, t, ls, lt, alignment)
