"""The face's own texture change at the mean face's level (pixelfes.native._OWN_LEVEL, measured
and not adopted: off by default): the happy -> neutral gain then does not depend on how light
or dark the skin is."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial import Delaunay

from pixelfes import native

_LUMA = np.array([0.299, 0.587, 0.114])


@pytest.fixture(scope="module")
def model():
    from pixelfes.pipeline import resolve_model

    return resolve_model("happy-to-neutral")


@pytest.fixture(scope="module")
def face(model):
    """A textured face in the reference frame: the mean face, a little darker, with a
    structure of its own (a darker band across the cheeks)."""
    img = model.mean_source_.astype(np.float64) * 0.8
    img[100:115] *= 0.8
    img += np.random.default_rng(0).normal(0, 3, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _plain_hull(reference: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixel centres inside the convex hull of the 68 points (scipy, a plain reference)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return Delaunay(reference[:68]).find_simplex(np.c_[xx.ravel(), yy.ravel()]).reshape(shape) >= 0


def test_face_hull_is_the_landmarks_convex_hull(model):
    hull = native.face_hull(model.reference_, (192, 192))
    plain = _plain_hull(model.reference_, (192, 192))
    assert not hull.flags.writeable
    # the same pixels but for the outline's own row of pixels (rasterisation at the edge)
    assert (hull != plain).sum() < 0.06 * plain.sum()
    assert hull.sum() > 0.15 * hull.size


def test_level_factor_is_the_ratio_of_median_lumas(model, face):
    hull = native.face_hull(model.reference_, (192, 192))
    mean_level = float(np.median((model.mean_source_.astype(np.float64) @ _LUMA)[hull]))
    want = mean_level / float(np.median((face.astype(np.float64) @ _LUMA)[hull]))
    assert_allclose(native.level_factor(face, hull, mean_level), want, rtol=1e-5)
    assert 1.1 < want < 1.5  # the face is darker than the mean face
    assert native.level_factor(np.zeros_like(face), hull, mean_level) == 1.0


def test_at_the_mean_level_the_change_is_that_of_the_face_scaled_to_it(model, face):
    """The level path is the old path on the face scaled by the plain factor, then rounded."""
    ref = model.reference_
    raster = model.warp_.triangulation.raster(ref)  # the identity map: crop = reference frame
    hull = _plain_hull(ref, (192, 192)) & native.face_hull(ref, (192, 192))
    k = np.median((model.mean_source_.astype(np.float64) @ _LUMA)[native.face_hull(ref, (192, 192))]) \
        / np.median((face.astype(np.float64) @ _LUMA)[native.face_hull(ref, (192, 192))])
    assert hull.any()
    scaled = np.clip(np.rint(face.astype(np.float32) * np.float32(k)), 0, 255).astype(np.uint8)
    got = native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="mean")
    assert_array_equal(got, native._texture_ratio(model, scaled, ref, raster, 1.0, 1.0, level="off"))
    assert np.abs(got - native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="off")).max() > 0.01


def test_the_gain_does_not_depend_on_exposure(model, face):
    """The same face at 60 % exposure: the same gain at the mean level (to 8-bit rounding and
    the ratio's +8 floor), a lighter one without it (the pixel model lightens a darker face)."""
    ref = model.reference_
    raster = model.warp_.triangulation.raster(ref)
    dim = np.clip(np.rint(face * 0.6), 0, 255).astype(np.uint8)
    changed = np.abs(native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="off") - 1) > 0.01
    assert changed.mean() > 0.05
    a = native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="mean")
    b = native._texture_ratio(model, dim, ref, raster, 1.0, 1.0, level="mean")
    assert np.abs(a - b)[changed].mean() < 0.004
    old_a = native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="off")
    old_b = native._texture_ratio(model, dim, ref, raster, 1.0, 1.0, level="off")
    assert (old_b - old_a)[changed].mean() > 0.02  # the pull: the dim face lightened more


def test_lesser_is_the_lower_of_the_two_ratios_per_pixel(model, face):
    """``"lesser"``: the own change of this face or of it at the mean level, whichever lightens
    less, pixel by pixel (a plain reference: the gains of both forms, then their minimum)."""
    ref = model.reference_
    raster = model.warp_.triangulation.raster(ref)
    off = native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="off")
    mean = native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="mean")
    got = native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="lesser")
    # the identity map and ratio gain 1: gain = clip(1 + keep * (own + (g - 1) avg)); keep >= 0
    # and the clip are monotone, so the minimum passes through them
    assert_allclose(got, np.minimum(off, mean), atol=2e-6)
    assert (got < off - 0.005).any()  # (the fixture is darker than the mean face)
    # a face darker than the mean: the pull lightened it; at the mean level it does not
    dark = np.clip(np.rint(face * 0.5), 0, 255).astype(np.uint8)
    d_off = native._texture_ratio(model, dark, ref, raster, 1.0, 1.0, level="off")
    d_less = native._texture_ratio(model, dark, ref, raster, 1.0, 1.0, level="lesser")
    assert (d_off - d_less).mean() > 0.01 and (d_less <= d_off + 2e-6).all()
    # a face lighter than the mean keeps its own change nearly everywhere (where the model's
    # intercept is negative the order of the two flips, and there the lower one is taken)
    light = np.clip(np.rint(face * 1.3), 0, 255).astype(np.uint8)
    l_off = native._texture_ratio(model, light, ref, raster, 1.0, 1.0, level="off")
    l_less = native._texture_ratio(model, light, ref, raster, 1.0, 1.0, level="lesser")
    assert np.mean(np.abs(l_off - l_less) < 1e-6) > 0.75
    assert (l_off - l_less).mean() < 0.2 * (d_off - d_less).mean()


def test_the_default_is_the_module_switch(model, face, monkeypatch):
    ref = model.reference_
    raster = model.warp_.triangulation.raster(ref)
    for level in native.OWN_LEVELS:
        monkeypatch.setattr(native, "_OWN_LEVEL", level)
        assert_array_equal(native._texture_ratio(model, face, ref, raster, 1.0, 1.0),
                           native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level=level))
        # the mean face's change (a smile's) has no level to take
        assert_array_equal(native._texture_ratio(model, face, ref, raster, 1.0, 1.0, own=False, level=level),
                           native._texture_ratio(model, face, ref, raster, 1.0, 1.0, own=False, level="off"))
    with pytest.raises(ValueError, match="level must be one of"):
        native._texture_ratio(model, face, ref, raster, 1.0, 1.0, level="on")


def test_the_shipped_level_is_lesser():
    """Adopted by its pre-registered rule (docs/mouth.md, "The ashy cheeks of a closed smile")."""
    assert native._OWN_LEVEL == "lesser"
