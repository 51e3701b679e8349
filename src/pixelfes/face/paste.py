"""Paste a synthesized crop back into its photo: inverse warp + feathered face mask.

Only the bounding box of the mask (mapped into the photo) is touched, and every photo pixel
where the warped mask is zero stays byte-identical.
"""

from __future__ import annotations

import numpy as np

from ..alignment import DEFAULT_ALIGNMENT, Alignment
from .align import AlignedFace, get_template, invert_affine, to_crop_coords, transform_points

__all__ = ["face_mask", "paste_back", "paste_change"]

# Face ellipse in the unit face frame of the default template: from the brows' upper edge
# down past the chin, jaw to jaw (see the London mean shape in align.py).
_ELLIPSE_CENTRE = (0.5, 0.60)
_ELLIPSE_AXES = (0.37, 0.47)


def face_mask(alignment: Alignment = DEFAULT_ALIGNMENT, feather: float | None = None) -> np.ndarray:
    """Soft face mask ``(size, size) float32`` in ``[0, 1]`` in the coordinates of a crop
    aligned with ``alignment``.

    An ellipse over the face (forehead to chin, jaw to jaw) blurred by a Gaussian of
    ``feather`` pixels (default 4 % of the face frame), cut to the crop and exactly 0 on the
    crop's border so the replicated border of a warp never leaks into the photo.
    """
    get_template(alignment.template)  # validates; the ellipse is defined in the face frame
    size, margin = alignment.size, alignment.margin
    face_px = size / margin
    sigma = 0.04 * face_px if feather is None else float(feather)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c = to_crop_coords(np.array([_ELLIPSE_CENTRE]), size, margin)[0]
    ax = np.array(_ELLIPSE_AXES) * face_px
    # shrink by one sigma so the blurred mask is ~1 over the whole face ellipse
    inside = ((xx - c[0]) / max(ax[0] - sigma, 1)) ** 2 + ((yy - c[1]) / max(ax[1] - sigma, 1)) ** 2
    hard = (inside <= 1.0).astype(np.float32)
    return _feather(hard, sigma)


def _feather(hard: np.ndarray, sigma: float) -> np.ndarray:
    """Blur a crop-space mask, keeping it zero on the crop border."""
    import cv2

    m = np.clip(hard.astype(np.float32), 0.0, 1.0)
    if sigma > 0:
        inset = int(np.ceil(2 * sigma)) + 1
        m[:inset] = 0
        m[-inset:] = 0
        m[:, :inset] = 0
        m[:, -inset:] = 0
        m = np.asarray(cv2.GaussianBlur(m, (0, 0), sigmaX=sigma, sigmaY=sigma,
                                        borderType=cv2.BORDER_CONSTANT), dtype=np.float32)
    m[m < 1.0 / 1024] = 0.0
    m[0, :] = m[-1, :] = 0.0
    m[:, 0] = m[:, -1] = 0.0
    return np.clip(m, 0.0, 1.0)


def _photo_roi(matrix: np.ndarray, xs: np.ndarray, ys: np.ndarray, shape: tuple[int, ...]
               ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Photo box ``(x0, y0, x1, y1)`` covering crop pixels ``xs, ys``, and the crop -> box matrix.

    ``None`` when there are no such pixels or the box falls outside the photo.
    """
    if xs.size == 0:
        return None
    inv = invert_affine(matrix)
    box = np.array([[xs.min() - 1, ys.min() - 1], [xs.max() + 1, ys.min() - 1],
                    [xs.min() - 1, ys.max() + 1], [xs.max() + 1, ys.max() + 1]], dtype=np.float64)
    corners = transform_points(inv, box)
    h, w = shape
    x0 = int(np.clip(np.floor(corners[:, 0].min()), 0, w))
    y0 = int(np.clip(np.floor(corners[:, 1].min()), 0, h))
    x1 = int(np.clip(np.ceil(corners[:, 0].max()) + 1, 0, w))
    y1 = int(np.clip(np.ceil(corners[:, 1].max()) + 1, 0, h))
    if x1 <= x0 or y1 <= y0:
        return None
    roi_m = inv.copy()
    roi_m[:, 2] -= (x0, y0)
    return (x0, y0, x1, y1), roi_m


def paste_back(photo: np.ndarray, crop: np.ndarray, matrix: np.ndarray,
               mask: np.ndarray | None = None, *, alignment: Alignment = DEFAULT_ALIGNMENT,
               feather: float | None = None) -> np.ndarray:
    """Blend ``crop`` (S, S[, C]) uint8 back into ``photo`` (H, W[, C]) uint8; return a new photo.

    ``matrix`` is the photo -> crop ``(2, 3)`` matrix from :func:`align_face`. ``mask`` is an
    optional crop-space ``(S, S)`` float mask in ``[0, 1]`` (default :func:`face_mask` of the
    crop's ``alignment``); a custom mask is blurred by ``feather`` pixels when given. Pixels
    where the warped mask is zero are returned byte-identical.
    """
    import cv2

    if not isinstance(photo, np.ndarray) or not isinstance(crop, np.ndarray):
        raise TypeError("photo and crop must be numpy arrays of dtype uint8")
    if photo.dtype != np.uint8 or crop.dtype != np.uint8:
        raise ValueError(f"photo and crop must be uint8; got {photo.dtype} and {crop.dtype}")
    pc = 1 if photo.ndim == 2 else photo.shape[2]
    cc = 1 if crop.ndim == 2 else crop.shape[2]
    if photo.ndim not in (2, 3) or crop.ndim not in (2, 3) or pc != cc:
        raise ValueError(
            f"photo (H, W, C) and crop (S, S, C) must have the same channels; "
            f"got shapes {photo.shape} and {crop.shape}"
        )
    s_h, s_w = crop.shape[:2]
    if mask is None:
        if (s_h, s_w) != (alignment.size, alignment.size):
            raise ValueError(f"the crop is {s_w}x{s_h} but its alignment says {alignment.size} px; "
                             "pass the crop's alignment= (or mask=)")
        m = face_mask(alignment, feather=feather)
    else:
        m = np.asarray(mask, dtype=np.float32)
        if m.ndim == 3 and m.shape[2] == 1:
            m = m[..., 0]
        if m.shape != (s_h, s_w):
            raise ValueError(f"mask must be shaped like the crop {(s_h, s_w)}; got {m.shape}")
        m = _feather(m, float(feather) if feather else 0.0)

    out = photo.copy()
    ys, xs = np.nonzero(m)
    roi = _photo_roi(matrix, xs, ys, photo.shape[:2])
    if roi is None:
        return out
    (x0, y0, x1, y1), roi_m = roi
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop, roi_m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(m, roi_m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=0)
    region = out[y0:y1, x0:x1]
    if region.ndim == 3 and warped.ndim == 2:
        warped = warped[..., None]
    a = alpha[..., None] if region.ndim == 3 else alpha
    # convex combination of uint8 values: stays in [0, 255], no clipping needed
    r = region.astype(np.float32)
    blended = warped.astype(np.float32)
    blended -= r
    blended *= a
    blended += r
    np.rint(blended, out=blended)
    np.copyto(region, blended.astype(np.uint8), where=np.broadcast_to(a > 0, region.shape))
    return out


def paste_change(photo: np.ndarray, aligned: AlignedFace, after: np.ndarray,
                 mask: np.ndarray | None = None, *, out: np.ndarray | None = None) -> np.ndarray:
    """Add the change ``after - aligned.crop`` of an aligned face back into ``photo``; a new photo.

    Unlike :func:`paste_back`, only the *difference* is warped back (linear, it is smooth),
    so pixels the model did not change keep their exact values and the face is not
    resampled twice. ``aligned`` comes from :func:`align_face` on this photo; ``after`` is
    the changed ``(S, S[, C]) uint8`` crop; ``mask`` an optional crop-space ``(S, S)``
    weight in [0, 1] (default :func:`face_mask` of the face's alignment). ``out``: write
    the result there instead of into a new copy (``out=photo`` changes ``photo`` in place:
    one copy for all the faces of a photo, not one per face).
    """
    import cv2

    before, matrix = aligned.crop, aligned.matrix
    if before.shape != after.shape:
        raise ValueError(f"before and after crops differ in shape: {before.shape} vs {after.shape}")
    if photo.dtype != np.uint8 or before.dtype != np.uint8 or after.dtype != np.uint8:
        raise ValueError("photo and crops must be uint8")
    s_h, s_w = before.shape[:2]
    m = face_mask(aligned.alignment) if mask is None else np.asarray(mask, dtype=np.float32)
    delta = (after.astype(np.float32) - before.astype(np.float32))
    if delta.ndim == 3 and delta.shape[2] == 1:
        delta = delta[..., 0]
    delta *= m if delta.ndim == 2 else m[..., None]
    ys, xs = np.nonzero(np.abs(delta).reshape(s_h, s_w, -1).max(axis=2) > 0)
    if out is None:
        out = photo.copy()
    elif out.shape != photo.shape or out.dtype != photo.dtype:
        raise ValueError(f"out must be shaped like photo {photo.shape} {photo.dtype}; got "
                         f"{out.shape} {out.dtype}")
    elif out is not photo:
        np.copyto(out, photo)
    roi = _photo_roi(matrix, xs, ys, photo.shape[:2])
    if roi is None:
        return out
    (x0, y0, x1, y1), roi_m = roi
    back = cv2.warpAffine(delta, roi_m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = out[y0:y1, x0:x1]
    if region.ndim == 3 and back.ndim == 2:
        back = back[..., None]
    elif region.ndim == 2 and back.ndim == 3:
        back = back.mean(axis=2)
    out[y0:y1, x0:x1] = np.clip(np.rint(region + back), 0, 255).astype(np.uint8)
    return out
