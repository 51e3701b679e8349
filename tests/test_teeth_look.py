"""The teeth measure (pixelfes.evaluate.teeth): Otsu's split against a plain loop, known answers on drawn mouths."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from conftest import face_layout
from pixelfes.evaluate.teeth import otsu, summarise_teeth, teeth_look

SIZE = 512
SKIN, LIP, TEETH = (200, 150, 120), (150, 60, 70), (235, 230, 215)
CAVITY, GAP, RIM = (50, 25, 30), (70, 60, 55), (95, 85, 80)


def _lightness(rgb):
    """CIE L* of one sRGB colour, by the textbook formulas (D65 luminance weights)."""
    lin = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.0721750 * lin[2]
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else 24389 / 27 * y


def _poly(img, pts, colour):
    cv2.fillPoly(img, [np.rint(pts * 16).astype(np.int32).reshape(-1, 1, 2)], colour, shift=4)


def _mouth(lm, interior=TEETH):
    img = np.empty((SIZE, SIZE, 3), np.uint8)
    img[:] = SKIN
    _poly(img, lm[48:60], LIP)
    _poly(img, lm[60:68], interior)
    return img


def test_otsu_is_the_split_of_most_between_class_variance(rng):
    values = np.r_[rng.normal(30, 5, 400), rng.normal(80, 8, 250)]
    hist, edges = np.histogram(values, bins=256, range=(values.min(), values.max()))
    mids = (edges[:-1] + edges[1:]) / 2
    best, best_var = None, -1.0
    for k in range(1, 256):  # class 0: bins below k
        w0, w1 = hist[:k].sum(), hist[k:].sum()
        if w0 == 0 or w1 == 0:
            continue
        m0 = (hist[:k] * mids[:k]).sum() / w0
        m1 = (hist[k:] * mids[k:]).sum() / w1
        var = w0 * w1 * (m0 - m1) ** 2
        if var > best_var:
            best, best_var = edges[k], var
    assert otsu(values) == pytest.approx(best)
    assert 40 < otsu(values) < 70
    assert otsu(np.full(10, 3.0)) == 3.0


def test_flat_teeth_give_the_analytic_figures():
    lm = face_layout(SIZE)
    got = teeth_look(_mouth(lm), lm)
    assert got["open"] and got["share"] == pytest.approx(1.0)
    assert got["teeth_rel"] == pytest.approx(_lightness(TEETH) - _lightness(SKIN), abs=0.02)
    assert got["cheek"] == pytest.approx(_lightness(SKIN), abs=0.02)
    assert got["spread"] == pytest.approx(0.0, abs=1e-6) and got["outline"] == pytest.approx(0.0, abs=1e-6)
    assert got["gap"] == pytest.approx(0.0, abs=1e-6)
    # a darker face, the same teeth: teeth over the cheeks by that much more
    dark = _mouth(lm)
    dark[np.all(dark == SKIN, axis=2)] = (90, 60, 50)
    assert teeth_look(dark, lm)["teeth_rel"] == pytest.approx(_lightness(TEETH) - _lightness((90, 60, 50)), abs=0.02)


def test_the_cavity_is_not_teeth_and_a_dark_gap_between_the_front_teeth_shows():
    lm = face_layout(SIZE)
    img = _mouth(lm)
    mid_y = float(lm[[62, 66], 1].mean())
    inner = np.zeros((SIZE, SIZE), np.uint8)
    _poly(inner, lm[60:68], 1)
    rows = np.arange(SIZE)[:, None]
    img[(inner > 0) & (rows >= mid_y + 1)] = CAVITY  # the lower half: dark cavity
    got = teeth_look(img, lm)
    assert got["teeth_rel"] == pytest.approx(_lightness(TEETH) - _lightness(SKIN), abs=0.02)
    assert 0.6 < got["share"] < 0.95 and got["gap"] == pytest.approx(0.0, abs=1e-6)  # the lens is fuller above
    x = int(round(float(lm[[62, 66], 0].mean())))
    cols = np.abs(np.arange(SIZE)[None, :] - x) <= 1
    img[(inner > 0) & (rows < mid_y) & cols] = GAP  # a 3 px dark gap across the upper teeth
    got = teeth_look(img, lm)
    assert got["gap"] == pytest.approx(_lightness(TEETH) - _lightness(GAP), abs=0.02)
    assert got["teeth_rel"] == pytest.approx(_lightness(TEETH) - _lightness(SKIN), abs=0.02)


def test_a_dark_rim_inside_the_lips_is_the_outline():
    lm = face_layout(SIZE)
    img = _mouth(lm, interior=RIM)
    inner = lm[60:68]
    _poly(img, inner.mean(axis=0) + 0.5 * (inner - inner.mean(axis=0)), TEETH)  # teeth inside a dark rim
    got = teeth_look(img, lm)
    assert got["outline"] == pytest.approx(_lightness(TEETH) - _lightness(RIM), abs=0.02)
    assert got["spread"] == pytest.approx(0.0, abs=1e-6)


def test_a_closed_mouth_has_no_teeth_figures():
    lm = face_layout(SIZE)
    shut = lm.copy()
    shut[[67, 66, 65]] = lm[[61, 62, 63]]
    assert teeth_look(_mouth(shut), shut) == {"open": False}
    # open, but all lip-coloured inside: no teeth
    assert teeth_look(_mouth(lm, interior=LIP), lm) == {"open": False}


def test_summarise_teeth_by_hand():
    def row(group, o, r):
        keys = ("teeth_rel", "spread", "teeth_b", "outline", "gap", "share")
        return {"group": group, "output": {"open": True, **dict(zip(keys, o, strict=True))},
                "real": {"open": True, **dict(zip(keys, r, strict=True))}}
    rows = [row("a", (10, 12, 4, 20, 30, 0.5), (6, 16, 5, 22, 10, 0.6)),
            row("b", (20, 14, 2, 24, math.nan, 0.4), (26, 18, 3, 20, 12, 0.5)),
            {"group": "a", "output": {"open": False}, "real": {"open": True, "teeth_rel": 1.0}}]
    s = summarise_teeth(rows)
    assert s["all"]["n"] == 2 and s["a"]["n"] == 1 and s["b"]["n"] == 1
    assert s["all"]["teeth_rel"] == {"output": 15.0, "real": 16.0, "abs_error": 5.0}
    assert s["all"]["gap"] == {"output": 30.0, "real": 10.0, "abs_error": 20.0}  # nan left out
    assert s["b"]["spread"] == {"output": 14.0, "real": 18.0, "abs_error": 4.0}
    assert "gap" not in s["b"]


def test_two_shades_of_teeth_spread_by_their_difference():
    lm = face_layout(SIZE)
    img = _mouth(lm)
    inner = np.zeros((SIZE, SIZE), np.uint8)
    _poly(inner, lm[60:68], 1)
    rows, cols = np.arange(SIZE)[:, None], np.arange(SIZE)[None, :]
    mid_x, mid_y = lm[[62, 66]].mean(axis=0)
    img[(inner > 0) & (rows >= mid_y + 1)] = CAVITY
    shade = (200, 190, 170)  # the right-hand teeth darker (stained): a third to a half of the teeth
    img[(inner > 0) & (rows < mid_y + 1) & (cols > mid_x + 8)] = shade
    got = teeth_look(img, lm)
    assert got["spread"] == pytest.approx(_lightness(TEETH) - _lightness(shade), abs=0.02)
    assert got["teeth_b"] > 0  # both shades are yellowish
