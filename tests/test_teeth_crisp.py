"""Lent teeth keeping their own detail (pixelfes.mouth.fill.restore_detail) against plain references."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes import native
from pixelfes.mouth import fill, load_bank, person_colours
from pixelfes.mouth.fill import MouthPaint, detail_amplitude, interior_paint, restore_detail
from plain_reference import gaussian_blur as _gauss_plain

skimage_data = pytest.importorskip("skimage.data")


def _gray_plain(rgb: np.ndarray) -> np.ndarray:
    f = np.asarray(rgb, dtype=np.float64)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def _amplitude_plain(rgb: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> float:
    """detail_amplitude of an axis-aligned rectangle outline with integer corners: the filled
    rectangle holds columns x0..x1 and rows y0..y1, the 5 x 5 erosion leaves 2 fewer each side."""
    y = _gray_plain(rgb)
    band = np.abs(y - _gauss_plain(y, fill._DETAIL_SIGMA))
    e = fill._DETAIL_ERODE
    return float(band[y0 + e:y1 - e + 1, x0 + e:x1 - e + 1].mean())


def _rect(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _textured(seed: int, shape: tuple[int, int] = (24, 30)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(60, 200, size=(*shape, 3)).astype(np.uint8)


def test_detail_amplitude_against_the_plain_formula():
    img = _textured(0)
    got = detail_amplitude(img, _rect(3, 4, 25, 19))
    assert got == pytest.approx(_amplitude_plain(img, 3, 4, 25, 19), rel=1e-4)  # float32 blur
    # a flat image: 0 up to the float32 blur's rounding
    assert detail_amplitude(np.full((24, 30, 3), 90, np.uint8), _rect(3, 4, 25, 19)) == pytest.approx(0, abs=1e-4)
    assert detail_amplitude(img, _rect(3, 4, 5, 6)) == 0.0  # nothing left after the erosion


def test_restore_detail_puts_back_the_patch_amplitude():
    patch = _textured(1)
    box = _rect(3, 4, 25, 19)
    f0 = patch.astype(np.float64)
    soft = np.clip(np.rint(0.6 * f0 + 0.4 * _gauss_plain(f0, 0.8)), 0, 255).astype(np.uint8)  # a softer copy
    a_p, a_s = _amplitude_plain(patch, 3, 4, 25, 19), _amplitude_plain(soft, 3, 4, 25, 19)
    k = min(max(a_p / a_s - 1.0, 0.0), fill._DETAIL_MAX)
    assert 0 < k < fill._DETAIL_MAX  # the example is not at the clip
    f = soft.astype(np.float64)
    want = np.clip(f + k * (f - _gauss_plain(f, fill._DETAIL_SIGMA)), 0, 255)
    got = restore_detail(soft, box, patch, box)
    assert got.dtype == np.float32 and got.shape == soft.shape
    np.testing.assert_allclose(got, want, atol=2e-3)  # float32 against float64
    # a sample as detailed as its patch (or more) is left alone, and so is a flat one
    assert np.array_equal(restore_detail(patch, box, soft, box), patch.astype(np.float32))
    flat = np.full_like(patch, 120)
    np.testing.assert_allclose(restore_detail(flat, box, patch, box), flat, atol=1e-3)


def test_restore_detail_caps_its_gain():
    patch, box = _textured(2), _rect(3, 4, 25, 19)
    faint = (120 + (patch.astype(np.int16) - 128) // 40).astype(np.uint8)  # a 40x fainter copy
    got = restore_detail(faint, box, patch, box)
    f = faint.astype(np.float64)
    want = np.clip(f + fill._DETAIL_MAX * (f - _gauss_plain(f, fill._DETAIL_SIGMA)), 0, 255)
    np.testing.assert_allclose(got, want, atol=2e-3)


def _opened(lm: np.ndarray, dy: float = 6.0) -> np.ndarray:
    lips = np.array(lm[48:68], dtype=np.float64, copy=True)
    lips[13:16, 1] -= dy
    lips[17:20, 1] += dy
    return lips


def test_a_mouth_smaller_than_the_patch_is_not_sharpened(face):
    # the astronaut's mouth is ~45 px wide: the 160 px patch is shrunk, not smoothed, so the
    # sample is as detailed as the patch and crisp paints main's bytes
    rgb, lm = face
    bank, colours, lips = load_bank(), person_colours(rgb, lm), _opened(lm)
    a = interior_paint(rgb.shape, lips, colours, bank, index=3)
    b = interior_paint(rgb.shape, lips, colours, bank, index=3, crisp=True)
    assert isinstance(a, MouthPaint) and isinstance(b, MouthPaint)
    assert np.array_equal(a.painted, b.painted)


def test_a_crisp_paint_sharpens_the_teeth_and_only_inside(face):
    import cv2

    rgb, lm = face
    rgb = cv2.resize(rgb, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)  # a ~180 px mouth, as London's
    lm = (np.asarray(lm, dtype=np.float64) + 0.5) * 4 - 0.5
    bank, colours, lips = load_bank(), person_colours(rgb, lm), _opened(lm, 30.0)
    plain = interior_paint(rgb.shape, lips, colours, bank, index=3)
    sharp = interior_paint(rgb.shape, lips, colours, bank, index=3, crisp=True)
    assert isinstance(plain, MouthPaint) and isinstance(sharp, MouthPaint)
    assert sharp.box == plain.box and np.array_equal(sharp.alpha, plain.alpha)  # same outline
    x0, y0 = plain.box[:2]
    inner = lips[12:] - (x0, y0)
    assert detail_amplitude(sharp.painted, inner) > 1.05 * detail_amplitude(plain.painted, inner)
    # the band is zero-mean: the interior's mean colour barely moves
    inside = plain.alpha > 0.99
    d = sharp.painted[inside].astype(np.float64).mean(0) - plain.painted[inside].astype(np.float64).mean(0)
    assert np.abs(d).max() < 1.5


def test_a_flat_patch_paints_the_same_bytes_crisp(face):
    # nothing to restore (no detail in the patch): crisp is main's paint byte for byte, so the
    # float path (to_linear, lab of a float sample) equals the uint8 one
    rgb, lm = face
    bank = load_bank()
    flat = bank.patches.copy()
    flat[3] = np.median(bank.patches[3].reshape(-1, 3), axis=0).astype(np.uint8)
    import dataclasses

    bank2 = dataclasses.replace(bank, patches=flat)
    colours, lips = person_colours(rgb, lm), _opened(lm, 10.0)
    a = interior_paint(rgb.shape, lips, colours, bank2, index=3)
    b = interior_paint(rgb.shape, lips, colours, bank2, index=3, crisp=True)
    assert isinstance(a, MouthPaint) and isinstance(b, MouthPaint)
    assert np.array_equal(a.painted, b.painted)


def test_synthesize_face_crisp_is_on_for_smiles_and_output_only(face, monkeypatch):
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    assert native._CRISP_TEETH is True  # adopted (docs/mouth.md)
    default, off, on = rgb.copy(), rgb.copy(), rgb.copy()
    r0 = native.synthesize_face(rgb, off, lm, model, 1.0, crisp=False)
    calls = []
    real_fill = fill.interior_paint
    with monkeypatch.context() as m:
        m.setattr(fill, "interior_paint", lambda *a, **k: calls.append(k.get("crisp")) or real_fill(*a, **k))
        r1 = native.synthesize_face(rgb, default, lm, model, 1.0)
    assert r0 == r1
    if r0.mouth == "open":
        assert calls == [True]  # the smile's teeth laid crisp by default
    seen = []
    real = fill.interior_paint
    monkeypatch.setattr(native, "interior_paint", lambda *a, **k: seen.append(k.get("crisp", False)) or real(*a, **k))
    r2 = native.synthesize_face(rgb, on, lm, model, 1.0, crisp=True)
    assert r2 == r0  # the same kind of mouth and lender: chosen on main's paint
    assert seen and not any(seen)  # the looks the medoid weighs are main's
    # the astronaut's ~45 px mouth shrinks the patch (nothing smoothed to restore): main's bytes
    assert np.array_equal(on, off)


def test_the_warp_cache_gives_the_plain_warp(face):
    # a smile's chosen teeth are painted twice from one cached warp: the same bytes as a fresh
    # warp, and another bank's patch under the same index is never served from it
    import dataclasses

    rgb, lm = face
    bank, colours, lips = load_bank(), person_colours(rgb, lm), _opened(lm, 10.0)
    fill._WARPED.clear()
    first = interior_paint(rgb.shape, lips, colours, bank, index=3)
    assert len(fill._WARPED) == 1
    again = interior_paint(rgb.shape, lips, colours, bank, index=3)
    fill._WARPED.clear()
    fresh = interior_paint(rgb.shape, lips, colours, bank, index=3)
    assert isinstance(first, MouthPaint) and isinstance(again, MouthPaint) and isinstance(fresh, MouthPaint)
    assert np.array_equal(first.painted, fresh.painted) and np.array_equal(again.painted, fresh.painted)
    flipped = bank.patches.copy()
    flipped[3] = flipped[3][:, ::-1]
    other = interior_paint(rgb.shape, lips, colours, dataclasses.replace(bank, patches=flipped), index=3)
    assert isinstance(other, MouthPaint) and not np.array_equal(other.painted, fresh.painted)
