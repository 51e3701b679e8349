"""A smile's texture change as a relative change in linear light (pixelfes.native): the mean
face's ratio on every face, its colour per channel, and the canvas layer that carries it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from pixelfes import native
from pixelfes.mouth_regions import srgb_to_lab
from plain_reference import srgb_to_linear as _linear


def _skin_pixels(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = rng.uniform(0.15, 1.0, (n, 1)) * np.array([[230.0, 175.0, 150.0]])
    return np.clip(base + rng.normal(0, 6, (n, 3)), 0, 255).astype(np.uint8)[None]


def test_tinted_without_tint_is_a_shadow_at_the_new_lightness():
    """Tint 0: L* times the gain (CIELAB by other code, within a level's rounding) and the
    chromaticity kept (each channel in linear light scaled alike, as light does)."""
    px = _skin_pixels()
    gain = np.random.default_rng(4).uniform(0.7, 1.2, px.shape[:2]).astype(np.float32)
    out = native._tinted(px, gain, np.zeros(px.shape, np.float32))
    lin_in, lin_out = _linear(px), _linear(out)
    ok = (lin_out.max(axis=2) < 0.99) & (lin_in.min(axis=2) > 0.02)  # (not clipped, not in the 8-bit toe)
    assert ok.mean() > 0.8
    want_l = np.minimum(srgb_to_lab(px)[..., 0] * gain, 100.0)
    assert_allclose(srgb_to_lab(out)[..., 0][ok], want_l[ok], atol=0.35)
    chroma_in = lin_in / lin_in.sum(axis=2, keepdims=True)
    chroma_out = lin_out / lin_out.sum(axis=2, keepdims=True)
    assert_allclose(chroma_out[ok], chroma_in[ok], atol=0.01)  # (constant a*b* moves it up to 0.058)


def test_tinted_scales_each_channel_and_keeps_the_luminance():
    px = _skin_pixels()
    tint = np.zeros(px.shape, np.float32)
    tint[..., 0] = 0.08  # red up 8 % against green and blue
    out = native._tinted(px, np.ones(px.shape[:2], np.float32), tint)
    lin_in, lin_out = _linear(px), _linear(out)
    ok = (lin_out.max(axis=2) < 0.99) & (lin_in.min(axis=2) > 0.02)
    ratio = (lin_out[..., 0] / lin_out[..., 1]) / (lin_in[..., 0] / lin_in[..., 1])
    assert_allclose(ratio[ok], np.exp(0.08), rtol=0.03)
    assert_allclose(srgb_to_lab(out)[..., 0][ok], srgb_to_lab(px)[..., 0][ok], atol=0.35)
    # redder: a* up on every unclipped pixel
    assert (srgb_to_lab(out)[..., 1][ok] > srgb_to_lab(px)[..., 1][ok]).all()
    # apply_gain takes the same path when given a tint
    assert_array_equal(native.apply_gain(px, np.ones(px.shape[:2], np.float32), True, tint), out)


def test_mean_tint_is_the_colour_of_the_change_without_its_luminance():
    mean = np.full((24, 24, 3), (200.0, 150.0, 130.0), np.float32)

    def blur(a):
        return np.asarray(cv2.GaussianBlur(a, (0, 0), 2.0), dtype=np.float32)

    def encode(lin):
        return 255.0 * np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)

    lin = _linear(np.rint(mean).astype(np.uint8))
    shadow = encode(0.8 * lin).astype(np.float32) - mean  # a pure shadow: no colour
    assert np.abs(native._mean_tint(mean, shadow, blur)).max() < 0.01
    redder = lin * np.array([1.0, 0.9, 0.9])  # green and blue darken, red does not
    t = native._mean_tint(mean, encode(redder).astype(np.float32) - mean, blur)
    assert_allclose(t[..., 0] - t[..., 1], np.log(1 / 0.9), atol=0.01)
    assert_allclose(t[..., 1], t[..., 2], atol=2e-3)
    # no luminance in it: the luminance-weighted mean of exp(tint) over the channels is ~1
    y = lin * native._Y
    assert_allclose((y * np.exp(t)).sum(axis=2) / y.sum(axis=2), 1.0, atol=0.01)


@pytest.fixture(scope="module")
def model():
    from pixelfes.pipeline import resolve_model

    return resolve_model("neutral-to-happy")


def test_the_mean_faces_ratio_is_the_same_on_every_face(model):
    """``own=False``: the ratio does not depend on the face's pixels (the pixel model's pull
    towards the average face is left out); ``own=True`` does."""
    ref = model.reference_
    raster = model.warp_.triangulation.raster(ref)  # the identity map
    light = np.full((192, 192, 3), 210, np.uint8)
    dark = np.full((192, 192, 3), 60, np.uint8)
    a = native._texture_ratio(model, light, ref, raster, 1.0, 1.5, own=False)
    assert_array_equal(native._texture_ratio(model, dark, ref, raster, 1.0, 1.5, own=False), a)
    assert np.abs(a - 1).max() > 0.05
    own_light = native._texture_ratio(model, light, ref, raster, 1.0, 1.5, own=True, level="off")
    own_dark = native._texture_ratio(model, dark, ref, raster, 1.0, 1.5, own=True, level="off")
    # w < 1: the pixel model darkens the light face and lightens the dark one
    assert own_light.mean() < a.mean() < own_dark.mean()
    # at the mean face's level (level="mean", not the default) both get the same change (to rounding)
    lv_light = native._texture_ratio(model, light, ref, raster, 1.0, 1.5, own=True, level="mean")
    lv_dark = native._texture_ratio(model, dark, ref, raster, 1.0, 1.5, own=True, level="mean")
    assert np.abs(lv_light - lv_dark).max() < 2e-3 < np.abs(own_light - own_dark).max()
    gain, tint = native._texture_ratio(model, light, ref, raster, 1.0, 1.5, own=False, colour=True)
    assert_array_equal(gain, a)
    assert tint.shape == (192, 192, 3) and np.abs(tint).max() <= native._TINT_LIMIT
    assert np.abs(tint).max() > 0.01
    # no tint outside the learned region
    assert np.abs(tint[model.region_ == 0]).max() < 1e-6


def test_a_layer_of_several_channels_goes_through_the_photo_map(model):
    """Channel 0 is the gain as a one-channel layer would be; a pixel whose only change is
    in another channel is not still; the shade gets every channel."""
    tri = model.warp_.triangulation
    ref = model.reference_
    matrix = np.array([[0.5, 0.0, 10.0], [0.0, 0.5, 12.0]])
    gain = np.zeros((192, 192), np.float32)
    gain[60:100, 50:90] = 0.1
    extra = np.zeros((192, 192, 4), np.float32)
    extra[..., 0] = gain
    extra[120:140, 60:80, 2] = 0.05  # colour only
    args = (matrix, tri, ref, ref + 0.8, model.alignment_, (500, 500))
    one = native.plan_photo_map(*args, also=np.abs(gain) > 1e-3, extra=gain)
    four = native.plan_photo_map(*args, also=~native._quiet(extra), extra=extra)
    assert one is not None and four is not None
    mx1, my1, l1, s1 = one.rows(0, one.shape[0])
    oy, ox = four.box[1] - one.box[1], four.box[0] - one.box[0]
    mx4, my4, l4, s4 = four.rows(0, four.shape[0])
    h, w = one.shape
    assert l4.shape == s4.shape + (4,)
    sub = l4[-oy:-oy + h, -ox:-ox + w] if (oy or ox) else l4[:h, :w]
    assert_allclose(sub[..., 0], l1, atol=1e-6)
    assert (~s4 & native._quiet(l4[..., :1]) & ~native._quiet(l4)).sum() > 50
    photo = np.random.default_rng(0).integers(0, 255, (500, 500, 3)).astype(np.uint8)
    seen = []

    def shade(px, layer):
        seen.append(layer.shape)
        return px

    out = photo.copy()
    native.resample_photo_map(photo, out[four.box[1]:four.box[3], four.box[0]:four.box[2]], four, shade)
    assert seen and all(s[0] == 1 and s[2] == 4 for s in seen)
    with pytest.raises(ValueError, match="shade function"):
        native.resample_photo_map(photo, out[four.box[1]:four.box[3], four.box[0]:four.box[2]], four)


def test_a_gray_photo_gets_no_tint(model, monkeypatch):
    """A gray photo stored as RGB keeps equal channels beside the nose (the tint is skipped)."""
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes.face import detect_faces

    rgb = skimage_data.astronaut()
    gray = np.repeat(np.rint(rgb @ [0.299, 0.587, 0.114]).astype(np.uint8)[..., None], 3, axis=2)
    face = detect_faces(gray)[0]
    out = gray.copy()
    native.synthesize_face(gray, out, face.landmarks, model, 1.0, mouth="closed")
    lm = face.landmarks
    x0, x1 = int(lm[31, 0] - 40), int(lm[35, 0] + 40)
    y0, y1 = int(lm[31, 1]), int(lm[48, 1])
    region = out[y0:y1, x0:x1].astype(int)
    assert (region != gray[y0:y1, x0:x1]).any()  # the smile changed it
    assert np.abs(region - region[..., :1]).max() <= 1
    # the same face in colour goes through the tint
    spy = []
    monkeypatch.setattr(native, "_shade_tinted", lambda px, layer: spy.append(1) or px)
    native.synthesize_face(rgb, rgb.copy(), detect_faces(rgb)[0].landmarks, model, 1.0, mouth="closed")
    assert spy
