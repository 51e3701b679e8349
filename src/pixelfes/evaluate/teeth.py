"""What the teeth of an open mouth look like, relative to the face: for lent teeth against real ones.

:func:`teeth_look` measures one photo with its own 68 landmarks, in the judge's regions
(:func:`pixelfes.mouth_regions.mouth_regions`): inside an open inner-lip outline the
*teeth* are the pixels that are not lip-coloured (a* under half the lips' own) and lighter
than Otsu's split of those pixels' L* (teeth against the dark cavity). Every figure is
relative to the same face, so it reads the same on every skin tone and exposure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["teeth_look", "teeth_pixels", "summarise_teeth", "TEETH_KEYS"]

#: the figures :func:`teeth_look` returns for an open mouth
TEETH_KEYS = ("teeth_rel", "spread", "teeth_b", "outline", "gap", "share", "detail")
_MIN_TEETH = 30  # pixels: fewer and the mouth has no teeth to measure
_RING = 0.025  # mouth widths: the ring just inside the inner lips (the outline)
_GAP_HALF = 0.06  # mouth widths each side of the inner lips' middle where a gap is looked for


def otsu(values: np.ndarray) -> float:
    """Otsu's threshold of 1-D ``values`` (256 bins over their range): the split that maximises
    the between-class variance."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        return lo
    hist, edges = np.histogram(v, bins=256, range=(lo, hi))
    mids = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * mids)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[int(np.argmax(between[:-1])) + 1])


def teeth_pixels(lab_window: np.ndarray, interior: np.ndarray, lip_a: float) -> np.ndarray:
    """``(H, W) bool``: the teeth among ``interior`` pixels of a CIELAB window ``(H, W, 3)``:
    a* under half ``lip_a`` (the lips' median a*), L* at or above Otsu's split of those pixels
    (all of them when their L* is one value)."""
    cand = interior & (lab_window[..., 1] < 0.5 * max(lip_a, 4.0))
    if cand.sum() < _MIN_TEETH:
        return np.zeros_like(interior)
    return cand & (lab_window[..., 0] >= otsu(lab_window[..., 0][cand]))


@dataclass(frozen=True)
class FoundTeeth:
    """The teeth :func:`find_teeth` found: the mouth's regions, its window ``win`` (RGB) and
    ``lab`` (CIELAB, float64), ``teeth`` ``(H, W) bool`` in that window, ``off`` its corner."""

    regions: Any
    win: np.ndarray
    lab: np.ndarray
    teeth: np.ndarray
    off: np.ndarray


def find_teeth(rgb: np.ndarray, landmarks: np.ndarray) -> FoundTeeth | None:
    """The teeth of one photo (``(H, W, 3) uint8``, its ``(68, 2)`` landmarks) in the mouth's
    window, by :func:`teeth_pixels` with the lips' median a*; None for a closed mouth or one
    with under ``_MIN_TEETH`` teeth pixels."""
    import cv2

    from ..mouth_regions import _fixed, mouth_regions, srgb_to_lab

    lm = np.asarray(landmarks, dtype=np.float64)
    reg = mouth_regions(lm, np.shape(rgb))
    if not reg.open:
        return None
    x0, y0, x1, y1 = reg.window
    win = np.asarray(rgb)[y0:y1, x0:x1]
    labw = srgb_to_lab(win.reshape(-1, 3)).reshape(win.shape).astype(np.float64)
    off = np.array([x0, y0], dtype=np.float64)
    lips = np.zeros(win.shape[:2], np.uint8)
    cv2.fillPoly(lips, [_fixed(lm[48:60], off)], 1, shift=4)
    lips[reg.interior] = 0
    lip_a = float(np.median(labw[..., 1][lips > 0])) if lips.any() else 10.0
    teeth = teeth_pixels(labw, reg.interior, lip_a)
    if teeth.sum() < _MIN_TEETH:
        return None
    return FoundTeeth(reg, win, labw, teeth, off)


def teeth_look(rgb: np.ndarray, landmarks: np.ndarray) -> dict[str, Any]:
    """The teeth figures of one photo (``(H, W, 3) uint8``, its ``(68, 2)`` landmarks).

    ``{"open": False}`` for a closed mouth or one with under ``_MIN_TEETH`` teeth pixels;
    else ``open`` True and: ``teeth_rel`` the teeth's median L* minus the cheeks';
    ``spread`` their L* 90th minus 10th percentile (flat teeth: small); ``teeth_b`` their
    median b* (yellow > 0); ``outline`` the teeth's median L* minus that of the interior's
    ring ``_RING`` mouth widths wide along the inner lips (a dark outline: large);
    ``gap`` the teeth's median L* minus the darkest column median of the interior's upper
    half within ``_GAP_HALF`` of its middle (a dark gap between the front teeth: large);
    ``share`` teeth pixels / interior pixels; ``detail`` the mean ``|Laplacian|`` (3 x 3, the
    4-neighbour kernel) of L* over the teeth eroded by one pixel (soft, run-together teeth:
    small; in photo pixels, so compare photos of one size: the London photos' mouths are
    ~200 px wide). NaN when the erosion leaves no pixel.
    """
    import cv2

    from ..mouth_regions import srgb_to_lightness

    found = find_teeth(rgb, landmarks)
    if found is None:
        return {"open": False}
    lm = np.asarray(landmarks, dtype=np.float64)
    reg, win, labw, teeth, off = found.regions, found.win, found.lab, found.teeth, found.off
    L = labw[..., 0]
    tl = L[teeth]
    cheek = float(np.median(srgb_to_lightness(win[reg.cheeks])))
    med = float(np.median(tl))
    k = max(1, round(_RING * reg.mouth_width))
    inner = cv2.erode(reg.interior.astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    ring = reg.interior & (inner == 0)
    # the gap: columns of the interior's upper half (above the inner lips' mean y) near its middle
    mid = lm[[62, 66]].mean(axis=0) - off
    rows = np.arange(win.shape[0])[:, None]
    upper = reg.interior & (rows < mid[1])
    cols = np.arange(max(0, int(mid[0] - _GAP_HALF * reg.mouth_width)),
                     min(win.shape[1], int(mid[0] + _GAP_HALF * reg.mouth_width) + 1))
    col_l = [float(np.median(L[upper[:, c], c])) for c in cols if upper[:, c].sum() >= 3]
    core = cv2.erode(teeth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    lap = np.abs(cv2.Laplacian(L.astype(np.float32), cv2.CV_32F, ksize=1))
    return {"open": True, "teeth_rel": med - cheek, "spread": float(np.percentile(tl, 90) - np.percentile(tl, 10)),
            "teeth_b": float(np.median(labw[..., 2][teeth])),
            "outline": med - float(np.median(L[ring])) if ring.any() else float("nan"),
            "gap": med - min(col_l) if col_l else float("nan"),
            "share": float(teeth.sum() / reg.interior.sum()), "cheek": cheek,
            "detail": float(lap[core].mean()) if core.any() else float("nan")}


def summarise_teeth(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means of each figure over rows where output and real are both open (``output`` and
    ``real`` :func:`teeth_look` dicts), output and real side by side, and the mean |output -
    real| per figure; per group of people too."""
    both = [r for r in rows if r["output"].get("open") and r["real"].get("open")]

    def means(sel: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(sel)}
        for key in TEETH_KEYS:
            o = np.array([r["output"].get(key, np.nan) for r in sel], dtype=np.float64)
            t = np.array([r["real"].get(key, np.nan) for r in sel], dtype=np.float64)
            ok = np.isfinite(o) & np.isfinite(t)
            if ok.any():
                out[key] = {"output": float(o[ok].mean()), "real": float(t[ok].mean()),
                            "abs_error": float(np.abs(o[ok] - t[ok]).mean())}
        return out

    summary = {"all": means(both)}
    for g in sorted({r["group"] for r in both}):
        summary[g] = means([r for r in both if r["group"] == g])
    return summary
