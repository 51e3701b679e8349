"""Closing a mouth only over teeth it shows (pixelfes.mouth.shows_opening, native._TEETH_SEEN):
dlib spreads the inner points of some full, closed lips apart; such a mouth has nothing to close."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.path import Path as PolyPath

from pixelfes import native
from pixelfes.mouth import PersonColours, shows_opening
from pixelfes.mouth import close as close_mod
from pixelfes.mouth_regions import srgb_to_lab

_LIP = np.array([150, 80, 80], np.uint8)  # L* ~42, a* ~27: a red lip
_SKIN = np.array([190, 150, 130], np.uint8)


def _mouth(kind: str, share: float, lip: np.ndarray = _LIP) -> tuple[np.ndarray, np.ndarray]:
    """A 200 x 200 photo: skin, lips, and ``share`` of the inner lens filled with ``kind``
    (``"tooth"`` light grey, ``"cavity"`` near black, ``"light-lip"`` a light red highlight)."""
    img = np.empty((200, 200, 3), np.uint8)
    img[:] = _SKIN
    img[80:120, 40:160] = lip
    lm = np.zeros((68, 2))
    lm[48], lm[54] = (40, 100), (160, 100)
    # a lens: upper inner points at y 94, lower at y 106
    lm[60], lm[64] = (50, 100), (150, 100)
    lm[61:64] = [(75, 94), (100, 93), (125, 94)]
    lm[65:68] = [(125, 106), (100, 107), (75, 106)]
    lm[49:54] = [(60, 86), (80, 82), (100, 84), (120, 82), (140, 86)]
    lm[55:60] = [(140, 114), (120, 118), (100, 119), (80, 118), (60, 114)]
    colour = {"tooth": (235, 232, 225), "cavity": (12, 8, 8), "light-lip": (235, 150, 150)}[kind]
    yy, xx = np.mgrid[93:108, 50:151]
    inside = PolyPath(lm[60:68]).contains_points(np.c_[xx.ravel() + 0.0, yy.ravel() + 0.0]).reshape(xx.shape)
    pts = np.argwhere(inside)
    n = int(round(share * len(pts)))
    for y, x in pts[:n]:
        img[93 + y, 50 + x] = colour
    return img, lm


def _plain_share(img: np.ndarray, lm: np.ndarray, colours: PersonColours) -> float:
    """Share of pixel centres inside the inner polygon (matplotlib) that are tooth or cavity."""
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    inside = PolyPath(lm[60:68]).contains_points(np.c_[xx.ravel(), yy.ravel()]).reshape(yy.shape)
    px = srgb_to_lab(img[inside])
    lip = srgb_to_lab(colours.lips.astype(np.uint8))
    grey = px[:, 1] < close_mod._GREY * lip[1] if lip[1] >= close_mod._RED_LIP else np.ones(len(px), bool)
    odd = ((px[:, 0] > lip[0] + close_mod._BRIGHTER) & grey) | (px[:, 0] < lip[0] - close_mod._DARKER)
    return float(odd.mean())


@pytest.mark.parametrize(("kind", "share", "want"), [
    ("tooth", 0.0, False), ("tooth", 0.01, False), ("tooth", 0.05, True), ("tooth", 0.5, True),
    ("cavity", 0.01, False), ("cavity", 0.04, True),
    ("light-lip", 0.5, False),  # a light but red lower lip is lip, not a tooth
])
def test_shows_opening_counts_teeth_and_cavity_against_a_plain_reference(kind, share, want):
    img, lm = _mouth(kind, share)
    colours = PersonColours(skin=_SKIN, lips=_LIP)
    plain = _plain_share(img, lm, colours)
    assert (plain >= close_mod._OPEN_SHARE) is want
    assert shows_opening(img, lm, colours) is want


def test_a_grey_photo_counts_light_pixels_as_teeth():
    grey_lip = np.array([100, 100, 100], np.uint8)
    img, lm = _mouth("tooth", 0.05, lip=grey_lip)
    img = img.mean(axis=2, keepdims=True).repeat(3, axis=2).astype(np.uint8)
    assert shows_opening(img, lm, PersonColours(skin=_SKIN, lips=grey_lip))
    empty = np.zeros((68, 2))
    assert not shows_opening(img, empty, PersonColours(skin=_SKIN, lips=grey_lip))


@pytest.fixture(scope="module")
def model():
    from pixelfes.pipeline import resolve_model

    return resolve_model("happy-to-neutral")


def test_closed_without_teeth_lets_the_lips_follow(model):
    """``teeth=False``: the inner lips move with their columns and keep their parting (a lens of
    closed lips stays as it is); ``teeth=True``: each inner pair pressed to one point."""
    lm = np.array(model.reference_, dtype=np.float64)
    for a, b in ((61, 67), (62, 66), (63, 65)):  # part the lips by ~0.06 mouth widths
        lm[a, 1] -= 1.0
        lm[b, 1] += 1.0
    assert native.inner_gap(lm) > native._OPEN_SOURCE
    pressed, mode, _ = native.target_shape(model, lm, 1.0, "closed")
    followed, mode2, _ = native.target_shape(model, lm, 1.0, "closed", teeth=False)
    assert mode == mode2 == "closed"
    for a, b in ((61, 67), (62, 66), (63, 65)):
        np.testing.assert_allclose(pressed[a], pressed[b])
        assert followed[b, 1] - followed[a, 1] > 1.0  # still apart
    assert native._TEETH_SEEN is True
