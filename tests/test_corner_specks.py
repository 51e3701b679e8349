"""A smile's corner specks toned down (pixelfes.mouth.specks) against a plain per-pixel reference."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes import native
from pixelfes.mouth import specks
from pixelfes.mouth.colour import lab, lab_to_srgb
from pixelfes.mouth.specks import clear_corner_specks, speck_pull

skimage_data = pytest.importorskip("skimage.data")


def _lips() -> np.ndarray:
    """A 60 px wide mouth, corners (20, 40) and (80, 40), an open inner outline."""
    outer = [(20, 40), (30, 34), (40, 31), (50, 32), (60, 31), (70, 34), (80, 40),
             (70, 48), (60, 51), (50, 52), (40, 51), (30, 48)]
    inner = [(28, 40), (40, 36), (50, 36), (60, 36), (72, 40), (60, 45), (50, 46), (40, 45)]
    return np.array(outer + inner, dtype=np.float64)


def _reference(image: np.ndarray, lips: np.ndarray, kept: set[tuple[int, int]]) -> np.ndarray:
    """The change written plainly, pixel by pixel; ``kept``: the pixels ``(x, y)`` of the test
    image inside the inner lips (grown), left out by hand."""
    width = float(np.linalg.norm(lips[6] - lips[0]))
    k = max(3, int(round(specks._WINDOW * width)) | 1)
    half = k // 2
    own = lab(image).astype(np.float64)
    q = np.empty(own.shape)
    q[..., 0] = np.clip(np.rint(own[..., 0] * np.float32(255.0 / 100.0)), 0, 255)
    q[..., 1:] = np.clip(np.rint(own[..., 1:] + 128.0), 0, 255)
    out = image.copy()
    h, w = image.shape[:2]
    for y in range(h):
        for x in range(w):
            d = min(np.hypot(x - c[0], y - c[1]) for c in lips[[0, 6]])
            wgt = min(1.0, max(0.0, ((specks._RADIUS + specks._FADE) * width - d) / (specks._FADE * width)))
            if wgt <= 0 or (x, y) in kept:
                continue
            ys = np.clip(np.arange(y - half, y + half + 1), 0, h - 1)  # the border replicated
            xs = np.clip(np.arange(x - half, x + half + 1), 0, w - 1)
            med = np.median(q[np.ix_(ys, xs)].reshape(-1, 3), axis=0)
            med = np.array([med[0] * 100.0 / 255.0, med[1] - 128.0, med[2] - 128.0])
            rise = own[y, x, 0] - med[0]
            if rise <= specks._RISE:
                continue
            s = wgt * (rise - specks._RISE) / rise
            new = own[y, x] + s * (med - own[y, x])
            out[y, x] = np.clip(np.rint(lab_to_srgb(new.astype(np.float32)[None, None])[0, 0]), 0, 255)
    return out


def test_speck_pull_is_the_share_beyond_the_rise():
    light = np.array([50.0, 56.0, 56.5, 70.0, 30.0], np.float32)
    med = np.full(5, 50.0, np.float32)
    got = speck_pull(light, med, rise=6.0)
    want = [0.0, 0.0, 0.5 / 6.5, 14.0 / 20.0, 0.0]
    assert np.allclose(got, want, atol=1e-7)
    # pulled by that share, a pixel ends exactly `rise` above the median
    assert np.allclose(light + got * (med - light), [50, 56, 56, 56, 30], atol=1e-5)


def test_corner_specks_against_the_plain_reference():
    rng = np.random.default_rng(3)
    image = np.empty((80, 100, 3), np.uint8)
    image[...] = (96, 70, 58)  # dark skin
    image = np.clip(image.astype(int) + rng.integers(-6, 7, image.shape), 0, 255).astype(np.uint8)
    lips = _lips()
    for x, y in [(18, 41), (22, 38), (84, 40), (78, 44), (20, 47), (90, 40), (12, 40)]:
        image[y, x] = (235, 228, 220)  # white specks by the corners, one at the fade (90, 40)
    image[39:41, 16:18] = (200, 190, 180)  # a 2 x 2 speck
    image[40, 50] = (250, 250, 250)  # between the lips: never touched
    image[40, 30] = (250, 250, 250)  # ... nor near a corner (a lent tooth's edge)
    image[40, 27] = (250, 250, 250)  # ... nor within 2 px of the inner outline
    image[10, 50] = (250, 250, 250)  # far from the corners: never touched
    image[42, 24] = (10, 10, 10)  # a dark speck: never touched
    want = _reference(image, lips, {(30, 40), (27, 40)})
    got = image.copy()
    n = clear_corner_specks(got, lips)
    assert n == int(np.any(got != image, axis=2).sum()) and n >= 8
    # (the float32 conversions of OpenCV's vector path and the reference's may round a level apart)
    assert np.abs(got.astype(int) - want).max() <= 1
    assert np.array_equal(got[40, 30], image[40, 30]) and np.array_equal(got[40, 27], image[40, 27])
    assert np.array_equal(got[40, 50], image[40, 50]) and np.array_equal(got[10, 50], image[10, 50])
    assert np.array_equal(got[42, 24], image[42, 24])
    assert lab(got[41:42, 18:19])[0, 0, 0] < lab(image[41:42, 18:19])[0, 0, 0] - 20


def test_a_smile_with_and_without_the_specks_cleared(face, monkeypatch):
    # on (the default since adopted): the smile without it, then the corners' specks toned down
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    rgb = rgb.copy()
    for c in (48, 54):  # a wet highlight at each corner of the closed mouth (the astronaut has none)
        x, y = np.rint(lm[c]).astype(int)
        rgb[y - 1:y + 1, x - 1:x + 1] = 250
    model = resolve_model(None, "neutral", "happy")
    assert native._CORNER_SPECKS is True
    plain = rgb.copy()
    res = native.synthesize_face(rgb, plain, lm, model, 1.0, specks=False)
    default = rgb.copy()
    assert native.synthesize_face(rgb, default, lm, model, 1.0) == res
    on = rgb.copy()
    calls = []
    real = specks.clear_corner_specks
    monkeypatch.setattr(specks, "clear_corner_specks", lambda im, lips: calls.append(lips) or real(im, lips))
    native.synthesize_face(rgb, on, lm, model, 1.0, specks=True)
    assert len(calls) == 1
    again = plain.copy()
    real(again, calls[0])
    assert np.array_equal(on, again)  # the smile, then the corners' specks toned down
    assert np.array_equal(default, on)
    lips = calls[0]
    changed = np.argwhere(np.any(on != plain, axis=2))[:, ::-1]
    width = float(np.linalg.norm(lips[6] - lips[0]))
    assert len(changed) >= 4  # the highlights, carried to the new corners, toned down
    if len(changed):
        d = np.min([np.hypot(*(changed - c).T) for c in lips[[0, 6]]], axis=0)
        assert d.max() <= (specks._RADIUS + specks._FADE) * width + 1
