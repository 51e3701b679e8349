"""A smile's lower lip given the lender's fine relief (pixelfes.mouth.smilelip), against plain
formulas: the lip frame's inverse, the masked high-pass, the relative change; the engine switch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import pixelfes.mouth.smilelip as smilelip
from pixelfes import native
from pixelfes.mouth.colour import lab, lab_to_srgb
from pixelfes.mouth.relief import lip_uv
from plain_reference import gaussian_blur
from test_lip_relief import _lips, _reference_uv


@pytest.mark.parametrize("tilt", [0.0, 0.12])
def test_lender_points_are_the_plain_lip_frames_inverse(tilt: float) -> None:
    # points placed at lower-lip (u, v) read back as that (u, v) by the per-pixel plain reference
    lips = _lips(tilt)[48:68]
    rng = np.random.default_rng(3)
    u, v = rng.uniform(0.05, 0.95, 40), rng.uniform(0.0, 1.0, 40)
    pts = smilelip.lender_points(u, v, lips)
    for k in range(len(u)):
        ru, rv, which = _reference_uv(float(pts[k, 0]), float(pts[k, 1]), lips)
        assert which == 1
        assert ru == pytest.approx(u[k], abs=1e-9) and rv == pytest.approx(v[k], abs=1e-9)


def test_bilinear_by_hand() -> None:
    img = np.arange(12, dtype=np.float64).reshape(3, 4) ** 1.5
    pts = np.array([[1.25, 0.5], [0.0, 0.0], [3.0, 2.0], [2.5, 1.75], [-2.0, 1.0], [1.0, 5.0]])
    got = smilelip.bilinear(img, pts)
    want = [0.5 * (0.75 * img[0, 1] + 0.25 * img[0, 2]) + 0.5 * (0.75 * img[1, 1] + 0.25 * img[1, 2]),
            img[0, 0], img[2, 3],
            0.25 * (0.5 * img[1, 2] + 0.5 * img[1, 3]) + 0.75 * (0.5 * img[2, 2] + 0.5 * img[2, 3]), 0.0, 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_fine_relief_is_the_capped_ratio_to_a_masked_gaussian() -> None:
    rng = np.random.default_rng(5)
    light = rng.uniform(20, 80, (60, 80)).astype(np.float32)
    use = np.zeros((60, 80), bool)
    use[18:42, 20:60] = True  # (off the border by more than the kernel's reach: its zeros are a constant border)
    width = 75.0  # sigma 1.5 px
    fine, low = smilelip.fine_relief(light, use, width)
    m = use.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want_low = gaussian_blur(light * m, 1.5) / gaussian_blur(m, 1.5)
    rel = light / want_low - 1.0
    cap = np.where(rel > 0, 0.4, 0.3)
    want = np.where(use, cap * np.tanh(rel / cap), 0.0)
    # (float32 Gaussians against float64: ~1e-6 of the lip L*)
    np.testing.assert_allclose(low[use], want_low[use], rtol=2e-5)
    np.testing.assert_allclose(fine, want, atol=2e-5)


def _lip_image(lm: np.ndarray, lip_l: float, texture: np.ndarray | None = None) -> np.ndarray:
    """Skin with pink lips of L* ``lip_l`` (``texture``: a relative L* change on the lips)."""
    shape = (110, 160)
    c = np.zeros(shape + (3,), np.float32)
    c[...] = (70.0, 12.0, 16.0)
    lips = np.zeros(shape, np.uint8)
    cv2.fillPoly(lips, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    on = lips > 0
    c[on] = (lip_l, 24.0, 10.0)
    if texture is not None:
        c[..., 0] = np.where(on, c[..., 0] * (1.0 + texture), c[..., 0])
    return np.clip(np.rint(lab_to_srgb(c.reshape(-1, 3))), 0, 255).astype(np.uint8).reshape(shape + (3,))


def _core(lm: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Lower-lip pixels of full weight: v 0.25-0.75, u 0.15-0.85 (the fades end at 0.2 / 0.12)."""
    u, v, which = lip_uv(shape, lm[48:68])
    return (which == 1) & (v > 0.25) & (v < 0.75) & (u > 0.15) & (u < 0.85)


def _lower_read(lm: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The lower lip's pixels off the outline by 0.012 mouth widths and out of the inner lips, by hand."""
    _, _, which = lip_uv(shape, lm[48:68])
    width = float(np.linalg.norm(lm[54] - lm[48]))
    outer = np.zeros(shape, np.uint8)
    cv2.fillPoly(outer, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    k = max(1, int(round(0.012 * width)))
    clear = cv2.erode(outer, np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
    inner = np.zeros(shape, np.uint8)
    cv2.fillPoly(inner, [np.rint(lm[60:68] * 16).astype(np.int32)], 1, shift=4)
    return clear & (inner == 0) & (which == 1)


@pytest.mark.parametrize("lip_l", [50.0, 25.0])
def test_the_lenders_relief_is_laid_relative_to_the_own_lip(lip_l: float) -> None:
    lm = _lips()
    rng = np.random.default_rng(7)
    tex = cv2.GaussianBlur(rng.normal(0, 0.12, (110, 160)).astype(np.float32), (0, 0), 0.8)
    patch = _lip_image(lm, 55.0, tex)  # the lender: the same lips, a textured lower lip
    img = _lip_image(lm, lip_l)
    out = img.copy()
    assert smilelip.lend_lower_lip(out, lm, patch, lm[48:68])
    core = _core(lm, img.shape[:2])
    # plain: the lender's L* over its own masked low-pass on its read pixels, capped
    _, v, which = lip_uv(img.shape[:2], lm[48:68])
    pl = lab(patch)[..., 0].astype(np.float64)
    s = 0.02 * float(np.linalg.norm(lm[54] - lm[48]))
    read = _lower_read(lm, img.shape[:2]) & (v >= 0.05) & (v <= 0.9)
    m = read.astype(np.float64)
    with np.errstate(invalid="ignore"):
        rel = pl / (gaussian_blur(pl * m, s) / gaussian_blur(m, s)) - 1.0
    rel = np.where(rel > 0, 0.4 * np.tanh(rel / 0.4), 0.3 * np.tanh(rel / 0.3))
    own = lab(img)[..., 0].astype(np.float64)
    got = lab(out)[..., 0].astype(np.float64)
    # (each pixel's own point read back at itself: the bilinear of the lender's map at a pixel
    # centre; its neighbours read too, so only pixels whose 8 neighbours are read pixels)
    full = cv2.erode(read.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    sel = core & full
    assert sel.sum() > 300
    # (uint8 rounding of the result: within 0.6 L*)
    np.testing.assert_allclose(got[sel], own[sel] * (1.0 + rel[sel]), atol=0.6)
    assert float(np.abs(got[sel] - own[sel]).mean()) > 0.05 * lip_l * 0.5  # a visible change, relative
    # colour kept (rounding), everything but the lower lip byte for byte
    np.testing.assert_allclose(lab(out)[..., 1:][sel], lab(img)[..., 1:][sel], atol=1.5)
    assert not (np.any(out != img, axis=2) & (which != 1)).any()


def test_the_own_stretched_texture_is_replaced() -> None:
    lm = _lips()
    rng = np.random.default_rng(9)
    streaks = np.repeat(rng.normal(0, 0.15, (1, 160)), 110, axis=0).astype(np.float32)  # vertical streaks
    img = _lip_image(lm, 50.0, streaks)
    out = img.copy()
    assert smilelip.lend_lower_lip(out, lm, _lip_image(lm, 60.0), lm[48:68])  # a flat lender
    sel = _core(lm, img.shape[:2])
    own = lab(img)[..., 0].astype(np.float64)
    m = _lower_read(lm, img.shape[:2]).astype(np.float64)
    s = 0.02 * float(np.linalg.norm(lm[54] - lm[48]))
    with np.errstate(invalid="ignore"):
        low = gaussian_blur(own * m, s) / gaussian_blur(m, s)
    after = lab(out)[..., 0].astype(np.float64)
    # the lender is flat: what is left is the own masked low-pass, its high-pass gone
    np.testing.assert_allclose(after[sel], low[sel], atol=0.6)
    assert float(after[sel].std()) < 0.5 * float(own[sel].std())


def test_off_by_default_and_the_factory() -> None:
    import inspect

    from pixelfes.evaluate import engines
    from pixelfes.evaluate.mouth_protocol import FACTORIES

    assert native._SMILE_LIP is False
    assert inspect.signature(native.synthesize_face).parameters["smile_lip"].default is None
    assert "native-smilelip" in FACTORIES and callable(engines.native_smilelip_factory)


def test_a_smile_with_and_without_the_lenders_lower_lip(face, monkeypatch) -> None:
    from pixelfes.mouth import load_bank
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    plain = rgb.copy()
    res = native.synthesize_face(rgb, plain, lm, model, 1.0)
    assert res.mouth == "open" and res.exemplar is not None
    off = rgb.copy()
    assert native.synthesize_face(rgb, off, lm, model, 1.0, smile_lip=False) == res
    assert np.array_equal(off, plain)
    calls = []
    real = smilelip.lend_lower_lip

    def spy(im, lips, patch, pts):
        before = im.copy()
        done = real(im, lips, patch, pts)
        calls.append((np.array(lips), patch, pts, before, im.copy()))
        return done
    monkeypatch.setattr(smilelip, "lend_lower_lip", spy)
    on = rgb.copy()
    assert native.synthesize_face(rgb, on, lm, model, 1.0, smile_lip=True) == res
    assert len(calls) == 1
    bank = load_bank()
    k = bank.ids.index(res.exemplar)
    assert calls[0][1] is bank.patches[k] or np.array_equal(calls[0][1], bank.patches[k])
    assert np.array_equal(calls[0][2], bank.points[k])
    assert np.any(on != plain)
    # the step itself changes the lower lip only (the corner specks' clean-up after it reads a
    # neighbourhood, so the finished smile may differ a pixel or two beside it)
    changed = np.any(calls[0][3] != calls[0][4], axis=2)
    _, _, which = lip_uv(rgb.shape[:2], calls[0][0])
    assert changed.sum() > 50 and not (changed & (which != 1)).any()
