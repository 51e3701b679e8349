"""A small bank of real mouth interiors (London Face Set smiles, CC BY 4.0) and retrieval.

Each exemplar is one smiling photo's mouth, resampled into a *mouth frame* (outer mouth
corners 48 and 54 at ``(-0.5, 0)`` and ``(0.5, 0)``, ``PX`` pixels per mouth width), with
its 20 lip landmarks (48-67) in patch pixels and the person's cheek and lip colours. Only
open smiles (inner-lip gap above ``MIN_GAP`` of the mouth width) are kept. Retrieval is a
deterministic nearest neighbour on the outer-lip shape (the smile's curve) and skin colour.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .colour import PersonColours, lab, person_colours

__all__ = ["MouthBank", "load_bank", "BANK_PATH", "PX", "X_RANGE", "Y_RANGE", "MIN_GAP"]

BANK_PATH = Path(__file__).with_name("london-mouths.safetensors")
PX = 160  # patch pixels per mouth width
X_RANGE = (-0.6, 0.6)  # mouth-frame extent of a patch (mouth widths)
Y_RANGE = (-0.35, 0.4)
MIN_GAP = 0.08  # inner-lip gap / mouth width above which a smile counts as open
_FORMAT = 1
_SHAPE_SCALE = 0.06  # mouth widths: outer-lip shape difference worth one colour unit
_COLOUR_SCALE = 8.0  # L*a*b* units: typical skin colour difference that matters


def patch_size() -> tuple[int, int]:
    """(width, height) of a patch in pixels."""
    return (round((X_RANGE[1] - X_RANGE[0]) * PX), round((Y_RANGE[1] - Y_RANGE[0]) * PX))


def frame_to_patch() -> np.ndarray:
    """``(2, 3)`` affine from mouth-frame units to patch pixel coordinates."""
    return np.array([[PX, 0.0, -X_RANGE[0] * PX - 0.5], [0.0, PX, -Y_RANGE[0] * PX - 0.5]])


@dataclass(frozen=True, eq=False)
class MouthBank:
    """Exemplar mouths: ``patches`` ``(N, H, W, 3) uint8``, ``points`` ``(N, 20, 2) float32``
    (landmarks 48-67 in patch pixels), ``skin``/``lips`` ``(N, 3) uint8`` sRGB, ``ids``."""

    patches: np.ndarray
    points: np.ndarray
    skin: np.ndarray
    lips: np.ndarray
    ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.patches)

    def frame_points(self) -> np.ndarray:
        """``(N, 20, 2)`` lip landmarks in mouth-frame units."""
        m = frame_to_patch()
        return (self.points.astype(np.float64) - m[:, 2]) / PX

    def gaps(self) -> np.ndarray:
        """``(N,)`` inner-lip gap of every exemplar, in mouth widths."""
        from .fill import inner_gap

        full = np.zeros((len(self), 68, 2))
        full[:, 48:68] = self.frame_points()
        return np.array([inner_gap(f) for f in full])

    def retrieve(self, outer_frame: np.ndarray, colours: PersonColours,
                 exclude: str | None = None) -> int:
        """Index of the exemplar nearest to outer lips ``(12, 2)`` (mouth frame) and skin colour.

        Deterministic: ties go to the lower index. ``exclude``: an id never returned (the
        person's own smile, when testing on the bank's own people).
        """
        if len(self) == 0:
            raise ValueError("the mouth bank is empty")
        d_shape = ((self.frame_points()[:, :12] - np.asarray(outer_frame)[None]) ** 2).sum(axis=(1, 2))
        d_col = ((lab(self.skin) - colours.skin_lab[None]) ** 2).sum(axis=1)
        cost = d_shape / _SHAPE_SCALE**2 + d_col / _COLOUR_SCALE**2
        if exclude is not None:
            cost = np.where(np.array(self.ids) == exclude, np.inf, cost)
        return int(np.argmin(cost))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bank as one safetensors file (uint8 patches, float32 points)."""
        from safetensors.numpy import save_file

        from .._atomic import atomic_path

        meta = {"format": str(_FORMAT), "px": str(PX), "x_range": json.dumps(X_RANGE),
                "y_range": json.dumps(Y_RANGE), "ids": json.dumps(list(self.ids)),
                "source": "Face Research Lab London Set (DeBruine & Jones 2017), CC BY 4.0"}
        out = Path(path)
        with atomic_path(out) as tmp:
            save_file({"patches": np.ascontiguousarray(self.patches),
                       "points": self.points.astype(np.float32), "skin": self.skin,
                       "lips": self.lips}, str(tmp), metadata=meta)
        return out

    @classmethod
    def build(cls, photos: list[np.ndarray], landmarks: list[np.ndarray], ids: list[str]) -> MouthBank:
        """Bank of the open smiles among ``photos`` (``(H, W, 3) uint8``) with ``(68, 2)`` landmarks."""
        from ..face.align import transform_points, warp_to_crop
        from .fill import inner_gap, mouth_frame

        size = patch_size()
        fp = frame_to_patch()
        patches, points, skins, lips, kept = [], [], [], [], []
        for rgb, lm, pid in zip(photos, landmarks, ids, strict=True):
            lm = np.asarray(lm, dtype=np.float64)
            if inner_gap(lm) < MIN_GAP:
                continue
            tf = mouth_frame(lm)
            m = np.hstack([fp[:, :2] @ tf[:, :2], (fp[:, :2] @ tf[:, 2] + fp[:, 2])[:, None]])
            patches.append(warp_to_crop(rgb, m, size))
            points.append(transform_points(m, lm[48:68]).astype(np.float32))
            c = person_colours(rgb, lm)
            skins.append(c.skin)
            lips.append(c.lips)
            kept.append(str(pid))
        if not patches:
            return cls(np.zeros((0, size[1], size[0], 3), np.uint8), np.zeros((0, 20, 2), np.float32),
                       np.zeros((0, 3), np.uint8), np.zeros((0, 3), np.uint8), ())
        return cls(np.stack(patches), np.stack(points), np.stack(skins), np.stack(lips), tuple(kept))


def _read(path: str) -> MouthBank:
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        if meta.get("format") != str(_FORMAT) or int(meta.get("px", -1)) != PX:
            raise ValueError(f"{path} is not a mouth bank of format {_FORMAT} at {PX} px per mouth "
                             "width; rebuild it with scripts/build_bundled_models.py")
        t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    return MouthBank(t["patches"], t["points"], t["skin"], t["lips"], tuple(json.loads(meta["ids"])))


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> MouthBank:
    return _read(path)


def load_bank(path: str | os.PathLike[str] | None = None) -> MouthBank:
    """The bundled bank (default) or one saved with :meth:`MouthBank.save`; cached per file."""
    p = Path(path) if path is not None else BANK_PATH
    if not p.is_file():
        raise FileNotFoundError(f"mouth bank {p} not found; build it with "
                                "python scripts/build_bundled_models.py")
    return _cached(str(p), p.stat().st_mtime)
