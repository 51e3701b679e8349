"""Canonical alignment: a similarity transform from stable landmarks onto a fixed template.

Pixel models read one fixed input pixel per output pixel, so every crop must put the face at
the same place. The template uses only points an expression hardly moves (the four eye
corners and the base of the nose, not the mouth corners a smile pulls), so a person's neutral
and smiling photos get the same transform. Measured on the London set (82 neutral/smile
pairs, alignment on these points): eye corners move 0.8 % of the outer-eye distance between
the two photos of a pair; including the mouth corners triples that.

Coordinates: ``(x, y)`` with pixel centres on integers (OpenCV's and dlib's convention). A
template lives in a unit *face frame* ``[0, 1]^2``; a crop of ``size`` pixels with ``margin``
``m`` shows the face frame scaled by ``1/m`` about its centre, so ``size=192, margin=1.5``
has the same face scale as ``size=128, margin=1`` with chin and forehead inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..alignment import DEFAULT_ALIGNMENT, DEFAULT_TEMPLATE_ID, Alignment

__all__ = [
    "DEFAULT_ALIGNMENT",
    "DEFAULT_TEMPLATE",
    "Alignment",
    "AlignedFace",
    "Template",
    "align_face",
    "crop_matrix",
    "estimate_similarity",
    "get_template",
    "invert_affine",
    "transform_points",
]


@dataclass(frozen=True)
class Template:
    """Fixed template points in the unit face frame and which landmarks they correspond to."""

    id: str
    points: np.ndarray = field(repr=False)  # (M, 2) float64, unit face frame
    index68: tuple[int, ...]  # indices of the M points in dlib's 68-point scheme
    index5: tuple[int, ...]  # indices of the M points in dlib's 5-point scheme

    def select(self, landmarks: np.ndarray) -> np.ndarray:
        """Pick the template's points from ``(68, 2)``, ``(5, 2)`` or ``(M, 2)`` landmarks."""
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.ndim != 2 or lm.shape[1] != 2:
            raise ValueError(f"landmarks must be shaped (K, 2) as (x, y); got shape {lm.shape}")
        k = lm.shape[0]
        if k == 68:
            return lm[list(self.index68)]
        if k == 5:
            return lm[list(self.index5)]
        if k == len(self.points):
            return lm
        raise ValueError(
            f"landmarks must hold 68 or 5 dlib points (or the template's {len(self.points)}); "
            f"got {k} points"
        )

    def crop_points(self, alignment: Alignment = DEFAULT_ALIGNMENT) -> np.ndarray:
        """Template points in pixel coordinates of a crop aligned with ``alignment``."""
        return to_crop_coords(self.points, alignment.size, alignment.margin)


def to_crop_coords(unit: np.ndarray, size: int, margin: float) -> np.ndarray:
    """Map unit-face-frame points to pixel coordinates of a crop (pixel centres on integers)."""
    return ((np.asarray(unit, dtype=np.float64) - 0.5) / margin + 0.5) * size - 0.5


# Provenance: mean 68-point dlib landmarks of the 164 London photos (neutral + smiling),
# generalised-Procrustes-aligned on these five points, mirror-symmetrised, placed with the
# eye centres 0.315 apart at height 0.46 (the ArcFace 112 px framing, face centred). With it
# the chin sits at y = 1.035 (median): inside a 128 px crop for half the faces, as in the
# paper's framing; margin 1.5 keeps every chin inside.
DEFAULT_TEMPLATE = Template(
    id=DEFAULT_TEMPLATE_ID,
    points=np.array(
        [
            [0.2809, 0.4630],  # outer corner of the eye on the image's left (68: 36, 5: 2)
            [0.4079, 0.4674],  # inner corner, image left (68: 39, 5: 3)
            [0.5921, 0.4674],  # inner corner, image right (68: 42, 5: 1)
            [0.7191, 0.4630],  # outer corner, image right (68: 45, 5: 0)
            [0.5000, 0.6837],  # base of the nose (68: 33, 5: 4)
        ]
    ),
    index68=(36, 39, 42, 45, 33),
    index5=(2, 3, 1, 0, 4),
)

_TEMPLATES = {DEFAULT_TEMPLATE.id: DEFAULT_TEMPLATE}


def get_template(template: str | Template | None = None) -> Template:
    """Return a template by id (or pass a :class:`Template` through); ``None`` = default."""
    if template is None:
        return DEFAULT_TEMPLATE
    if isinstance(template, Template):
        return template
    try:
        return _TEMPLATES[str(template)]
    except KeyError:
        raise ValueError(
            f"unknown template {template!r}; expected one of {', '.join(sorted(_TEMPLATES))}"
        ) from None


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) mapping ``src`` onto ``dst``.

    Closed form of Umeyama (1991); ``src`` and ``dst`` are ``(M, 2)`` (x, y), M >= 2.
    Returns the ``(2, 3)`` float64 matrix ``A`` with ``dst ~ src @ A[:, :2].T + A[:, 2]``.
    """
    s = np.asarray(src, dtype=np.float64)
    d = np.asarray(dst, dtype=np.float64)
    if s.shape != d.shape or s.ndim != 2 or s.shape[1] != 2 or s.shape[0] < 2:
        raise ValueError(f"src and dst must both be (M, 2) with M >= 2; got {s.shape} and {d.shape}")
    mu_s, mu_d = s.mean(0), d.mean(0)
    a, b = s - mu_s, d - mu_d
    var = (a**2).sum() / len(s)
    if var <= 0:
        raise ValueError("src points are all identical; cannot estimate a similarity transform")
    u, sig, vt = np.linalg.svd(b.T @ a / len(s))
    e = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1] = -1.0
    r = u @ np.diag(e) @ vt
    scale = float((sig * e).sum() / var)
    m = np.empty((2, 3))
    m[:, :2] = scale * r
    m[:, 2] = mu_d - scale * r @ mu_s
    return m


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to ``(K, 2)`` (x, y) points."""
    m = np.asarray(matrix, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    return p @ m[:, :2].T + m[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a ``(2, 3)`` affine matrix (crop -> photo for an alignment matrix)."""
    m = np.asarray(matrix, dtype=np.float64)
    a_inv = np.linalg.inv(m[:, :2])
    return np.hstack([a_inv, -(a_inv @ m[:, 2])[:, None]])


def crop_matrix(landmarks: np.ndarray, alignment: Alignment = DEFAULT_ALIGNMENT) -> np.ndarray:
    """The ``(2, 3)`` photo -> crop similarity matrix for 5- or 68-point landmarks."""
    tpl = get_template(_check_alignment(alignment).template)
    return estimate_similarity(tpl.select(landmarks), tpl.crop_points(alignment))


@dataclass(frozen=True)
class AlignedFace:
    """An aligned crop and how it was made: ``matrix`` maps photo (x, y) to crop (x, y)."""

    crop: np.ndarray = field(repr=False)  # (S, S, C) uint8 (C as in the photo)
    matrix: np.ndarray = field(repr=False)  # (2, 3) float64, photo -> crop
    landmarks: np.ndarray = field(repr=False)  # (K, 2) float64, crop coordinates
    alignment: Alignment


def _check_alignment(alignment: object) -> Alignment:
    if not isinstance(alignment, Alignment):
        raise TypeError("alignment must be a pixelfes.Alignment(size=..., margin=..., template=...); "
                        f"got {type(alignment).__name__}")
    return alignment


def warp_to_crop(image: np.ndarray, matrix: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Warp ``image`` (H, W[, C]) with the photo->crop ``matrix`` into a crop, anti-aliased.

    Cubic interpolation, border replicated. When the crop is much smaller than the face in
    the photo, the needed region is first area-downscaled (cubic alone would alias).
    """
    import cv2

    m = np.asarray(matrix, dtype=np.float64)
    out_w, out_h = (size, size) if isinstance(size, int) else size
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    src = image
    if scale < 0.75:
        inv = invert_affine(m)
        corners = transform_points(inv, np.array([[-0.5, -0.5], [out_w, -0.5], [-0.5, out_h],
                                                  [out_w, out_h]]))
        pad = int(np.ceil(3.0 / scale)) + 2
        h, w = image.shape[:2]
        x0 = int(np.clip(np.floor(corners[:, 0].min()) - pad, 0, w - 1))
        y0 = int(np.clip(np.floor(corners[:, 1].min()) - pad, 0, h - 1))
        x1 = int(np.clip(np.ceil(corners[:, 0].max()) + pad, x0 + 1, w))
        y1 = int(np.clip(np.ceil(corners[:, 1].max()) + pad, y0 + 1, h))
        roi = image[y0:y1, x0:x1]
        rw = max(1, round((x1 - x0) * scale))
        rh = max(1, round((y1 - y0) * scale))
        src = cv2.resize(roi, (rw, rh), interpolation=cv2.INTER_AREA)
        if src.ndim == 2 and image.ndim == 3:
            src = src[..., None]
        fx, fy = rw / (x1 - x0), rh / (y1 - y0)
        # resized pixel q <-> photo pixel p: p = (q + 0.5) / f - 0.5 + offset
        back = np.array([[1 / fx, 0, 0.5 / fx - 0.5 + x0], [0, 1 / fy, 0.5 / fy - 0.5 + y0]])
        m = np.hstack([m[:, :2] @ back[:, :2], (m[:, :2] @ back[:, 2] + m[:, 2])[:, None]])
    out = cv2.warpAffine(src, m, (out_w, out_h), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REPLICATE)
    if image.ndim == 3 and out.ndim == 2:
        out = out[..., None]
    return out


def align_face(image: np.ndarray, landmarks: np.ndarray,
               alignment: Alignment = DEFAULT_ALIGNMENT) -> AlignedFace:
    """Warp the face given by its 5- or 68-point (x, y) landmarks onto ``alignment``'s template.

    ``image`` is ``(H, W, C)`` or ``(H, W)`` uint8; the crop is ``(size, size, C)`` (same
    channels). The returned matrix maps photo to crop; :func:`pixelfes.face.paste_back` uses
    its inverse.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array (H, W, C) uint8; got {type(image).__name__}")
    if image.ndim not in (2, 3) or image.dtype != np.uint8:
        raise ValueError(
            f"image must be (H, W) or (H, W, C) uint8; got shape {image.shape}, dtype {image.dtype}"
        )
    m = crop_matrix(landmarks, alignment)
    crop = warp_to_crop(image, m, alignment.size)
    lm = transform_points(m, np.asarray(landmarks, dtype=np.float64))
    return AlignedFace(crop=crop, matrix=m, landmarks=lm, alignment=alignment)
