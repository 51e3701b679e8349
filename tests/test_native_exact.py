"""The native step made cheaper without changing a byte: each shortcut against the plain way."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import spy_calls
from pixelfes import native
from pixelfes.mouth import fill_mouth, load_bank, person_colours
from pixelfes.mouth.fill import MouthPaint, blend_paint, interior_paint
from pixelfes.mouth_regions import masked_pixels, srgb_to_lab, srgb_to_lightness

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def model():
    from pixelfes.pipeline import resolve_model

    return resolve_model(None, "neutral", "happy")


def _opened(lm: np.ndarray, dy: float = 6.0) -> np.ndarray:
    lips = np.array(lm[48:68], dtype=np.float64, copy=True)
    lips[13:16, 1] -= dy  # upper inner lip (61-63) up, lower (65-67) down
    lips[17:20, 1] += dy
    return lips


@pytest.mark.parametrize("index", [0, 7])
def test_a_paint_blended_is_a_fill(face, index):
    # interior_paint + blend_paint is fill_mouth, into the whole photo and into a crop of it
    rgb, lm = face
    bank, colours, lips = load_bank(), person_colours(rgb, lm), _opened(lm)
    want = rgb.copy()
    fill = fill_mouth(want, lips, colours, bank, index=index)
    paint = interior_paint(rgb.shape, lips, colours, bank, index=index)
    assert isinstance(paint, MouthPaint) and paint.box == fill.box
    got = rgb.copy()
    assert blend_paint(got, paint).box == fill.box
    assert np.array_equal(got, want) and not np.array_equal(got, rgb)
    x0, y0, x1, y1 = fill.box
    crop = rgb[y0 - 5:y1 + 3, x0 - 4:x1 + 6].copy()
    blend_paint(crop, paint, offset=(x0 - 4, y0 - 5))
    assert np.array_equal(crop, want[y0 - 5:y1 + 3, x0 - 4:x1 + 6])


def test_nothing_to_paint_off_the_photo(face):
    rgb, lm = face
    got = interior_paint((20, 20, 3), _opened(lm), person_colours(rgb, lm), load_bank(), index=0)
    assert not isinstance(got, MouthPaint) and got.box is None


def test_the_chosen_teeth_are_not_painted_twice(face, model, monkeypatch):
    # the paint painted_look measured is blended into the output: the same bytes as the
    # second fill it replaces (that fill forced by dropping the paints), one fill fewer; so
    # without crisp teeth (a smile's default paints them crisp: one fill, test_teeth_crisp.py)
    rgb, lm = face
    want = rgb.copy()
    real = native._painted
    with monkeypatch.context() as m:
        m.setattr(native, "_painted", lambda *a: (real(*a)[0], None))
        fills = spy_calls(m, native, "fill_mouth")
        before = native.synthesize_face(rgb, want, lm, model, 1.0, crisp=False)
        assert before.mouth == "open" and len(fills) == 1
    paints = spy_calls(monkeypatch, native, "interior_paint")
    fills = spy_calls(monkeypatch, native, "fill_mouth")
    got = rgb.copy()
    after = native.synthesize_face(rgb, got, lm, model, 1.0, crisp=False)
    assert after == before and not fills and len(paints) >= 2  # every candidate painted once
    assert np.array_equal(got, want)


def test_painted_look_is_unchanged_by_keeping_its_paint(face):
    rgb, lm = face
    bank, colours = load_bank(), person_colours(rgb, lm)
    cheek = native.cheek_lightness(rgb, lm)
    look, paint = native._painted(rgb, lm, _opened(lm), colours, bank, 3, cheek)
    assert paint is not None and paint.index == 3
    assert np.array_equal(look, native.painted_look(rgb, lm, _opened(lm), colours, bank, 3, cheek))


def test_masked_pixels_are_boolean_indexing():
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (60, 70, 3), np.uint8)
    view = big[5:50, 7:61]  # a view, not contiguous
    mask = rng.random(view.shape[:2]) < 0.3
    assert np.array_equal(masked_pixels(view, mask), view[mask])
    assert np.array_equal(masked_pixels(view[..., 0], mask), view[..., 0][mask])
    assert masked_pixels(view, np.zeros(view.shape[:2], bool)).shape == (0, 3)


def test_lightness_alone_is_lab_lightness():
    rng = np.random.default_rng(4)
    rgb = np.concatenate([rng.integers(0, 256, (20000, 3)), np.repeat(np.arange(256), 3).reshape(-1, 3),
                          [[0, 0, 0], [255, 255, 255], [1, 0, 0], [0, 0, 1]]]).astype(np.uint8)
    assert np.array_equal(srgb_to_lightness(rgb), srgb_to_lab(rgb)[:, 0])
    assert np.array_equal(srgb_to_lightness(rgb.reshape(2, -1, 3)), srgb_to_lab(rgb.reshape(2, -1, 3))[..., 0])


def test_mouth_triangles_as_a_plain_loop(model):
    simplices = model.warp_.triangulation.simplices
    inside = set(range(60, 68)) | {48, 54}
    want = np.array([all(int(v) in inside for v in t) for t in simplices])
    got = native._mouth_triangles(simplices)
    assert got.dtype == bool and want.any() and np.array_equal(got, want)
    assert not native._mouth_triangles(np.array([[60, 61, 30], [0, 1, 2]])).any()
    # made once per triangle list: asked again, the same read-only answer; another list its own
    assert native._mouth_triangles(simplices) is got and not got.flags.writeable
    assert native._mouth_triangles(np.array([[60, 61, 62]])).tolist() == [True]


@pytest.mark.parametrize("rows", [1, 15, 16, 17, 64, 61, 33])
def test_band_spans_are_reduceat_at_the_band_starts(rows):
    rng = np.random.default_rng(rows)
    for share in (0.0, 0.002, 0.3, 1.0):
        move = rng.random((rows, 37)) < share
        want = np.logical_or.reduceat(move, np.arange(0, rows, native._BAND), axis=0)
        got = native._band_any(move)
        assert got.dtype == bool and np.array_equal(got, want)


_F = np.float32(1e-3)
_EDGES = np.array([0.0, -0.0, _F, -_F, np.nextafter(_F, np.float32(1)), -np.nextafter(_F, np.float32(1)),
                   np.nextafter(_F, np.float32(0)), 1e-30, -1e-30, 0.05, -0.2, np.inf, -np.inf, np.nan],
                  np.float32)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 8])
def test_quiet_is_every_channel_within_1e_3(k):
    # the booleans read as one integer: the plain reduction over channels, and OpenCV's
    # inRange as main had it (up to 4 channels), at the boundary, NaN and on a strided view
    rng = np.random.default_rng(k)
    big = rng.choice(_EDGES, size=(19, 29, k + 1), p=[0.6] + [0.4 / 13] * 13).astype(np.float32)
    for layer in (np.ascontiguousarray(big[..., :k]), big[..., 1:], big[2:17:2, 3:, :k]):
        want = np.all(np.abs(layer) <= _F, axis=2)
        got = native._quiet(layer)
        assert got.dtype == bool and got.shape == layer.shape[:2]
        assert np.array_equal(got, want) and want.any() and not want.all()
        if k <= 4:
            main = cv2.inRange(np.ascontiguousarray(layer), (-1e-3,) * k, (1e-3,) * k) > 0
            assert np.array_equal(got, main)
    flat = big[..., 0]
    assert np.array_equal(native._quiet(flat), cv2.inRange(np.ascontiguousarray(flat), -1e-3, 1e-3) > 0)


def _tint_case(n: int, seed: int):
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, (1, n, 3)).astype(np.uint8)
    px[0, :256] = np.arange(256, dtype=np.uint8)[:, None]  # greys, black, white
    layer = np.empty((1, n, 4), np.float32)
    layer[..., 0] = rng.uniform(0.6, 1.6, n)
    layer[0, :64, 0] = 3.0  # L* capped at 100
    layer[..., 1:] = rng.uniform(-0.25, 0.25, (n, 3))
    layer[0, 300:340, 1:] = 0.0
    return px, layer


def test_tinted_on_planes_is_the_plain_way():
    # every pixel, on contiguous planes and in place: the same bytes as over a last axis of 3
    px, layer = _tint_case(200_000, 5)
    want = native._tinted_plain(px, layer[..., 0], layer[..., 1:])
    assert np.array_equal(native._shade_tinted(px, layer), want)
    assert np.array_equal(native._tinted(px, layer[..., 0], layer[..., 1:]), want)
    assert (want != px).any(axis=2).mean() > 0.9
    img = px.reshape(400, 500, 3)[::2, 1::2]  # an image, strided
    gain, tint = layer[..., 0].reshape(400, 500)[::2, 1::2], layer[..., 1:].reshape(400, 500, 3)[::2, 1::2]
    got = native.apply_gain(img, gain, dark_in_lab=True, tint=tint)
    assert got.shape == img.shape and np.array_equal(got, native._tinted_plain(img, gain, tint))


def test_photo_map_rows_find_the_quiet_mask_once(model):
    # the quiet mask handed to the shading is _quiet of the rows' layer; a chunk the layer
    # fills is the layer's warp itself, the same values as a chunk reaching past it
    tri, ref = model.warp_.triangulation, model.reference_
    extra = np.zeros((192, 192, 4), np.float32)
    extra[60:130, 50:120, 0] = 0.1 * np.sin(np.arange(70, dtype=np.float32) / 7.0)
    extra[70:140, 60:80, 2] = 0.05
    matrix = np.array([[0.5, 0.0, 10.0], [0.0, 0.5, 12.0]])
    for motion in (0.8, 0.0):  # moving, and still: then a pixel is still exactly where it is quiet
        pmap = native.plan_photo_map(matrix, tri, ref, ref + motion, model.alignment_, (500, 500),
                                     also=~native._quiet(extra), extra=extra)
        assert pmap is not None
        a, b = pmap.extra_rows
        assert 0 <= a < b - 40 < pmap.shape[0] - 30
        for r0, r1 in ((0, pmap.shape[0]), (a + 3, b), (a + 3, b + 20), (a + 1, a + 20), (b - 9, b + 30)):
            mx, my, layer, still, quiet = pmap._rows(r0, r1)
            assert layer is not None and quiet is not None
            assert np.array_equal(quiet, native._quiet(layer))
            assert not (~quiet & still).any() and not (motion == 0 and (still != quiet).any())
            assert all(np.array_equal(x, y) for x, y in zip(pmap.rows(r0, r1), (mx, my, layer, still), strict=True))
    filled, past = pmap._rows(a + 3, b)[2], pmap._rows(a + 3, b + 20)[2]
    assert filled is not None and past is not None and np.abs(filled).max() > 0.05
    assert np.array_equal(past[:b - a - 3], filled) and not past[b - a - 3:].any()


def _crop_is_gray(img, lm):
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import align_face, crop_matrix, transform_points

    m = crop_matrix(lm, DEFAULT_ALIGNMENT)
    crop_lm = transform_points(m, lm)
    sure = native._surely_colour(img, m, crop_lm, DEFAULT_ALIGNMENT.size)
    return sure, native._gray_face(align_face(img, lm, DEFAULT_ALIGNMENT).crop, crop_lm)


@pytest.fixture(scope="module")
def big_face(face):
    # the astronaut at 4x: a face about 480 px wide, as on a London photo (the area step
    # shrinks it ~4.3x)
    rgb, lm = face
    return cv2.resize(rgb, None, fx=4.0, fy=4.0, interpolation=cv2.INTER_CUBIC), lm * 4 + 1.5


def test_surely_colour_never_calls_a_gray_crop_colour(face, big_face):
    # the photo's bound against the crop's own test: sure only where the crop is not gray,
    # through the area step (4x) and without it (1x, 0.6x), on near-gray photos, colour that
    # averages out (a checkerboard), clipped highlights and noise
    rgb, lm = face
    rng = np.random.default_rng(7)
    small = cv2.resize(rgb, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA), lm * 0.6 - 0.2
    seen = {True: 0, False: 0}
    for img, pts in (big_face, (rgb, lm), small):
        g = img.mean(axis=2, dtype=np.float32)[..., None]
        sign = np.where(np.indices(img.shape[:2]).sum(axis=0) % 2 == 0, 1.0, -1.0)[..., None]
        cases = [img, np.clip(img.astype(np.int16) + 90, 0, 255), img // 6,
                 np.clip(g + rng.normal(0, 6, img.shape), 0, 255)]
        cases += [np.clip(g + sign * np.array([a, 0, -a]), 0, 255) for a in (3, 8, 20)]
        cases += [np.clip(g + np.array([k, 0, -k]), 0, 255) for k in (0, 3, 5, 6, 8)]
        cases += [np.clip(g + s * (img - g), 0, 255) for s in (0.03, 0.08, 0.15)]
        for case in cases:
            sure, gray = _crop_is_gray(np.ascontiguousarray(case, dtype=np.uint8), pts)
            assert not (sure and gray)
            seen[sure] += 1
        assert _crop_is_gray(np.repeat(g.astype(np.uint8), 3, axis=2), pts) == (False, True)
    assert _crop_is_gray(*big_face) == (True, False)  # a colour photo: told
    assert seen[True] >= 8 and seen[False] >= 20


def test_surely_colour_reads_every_pixel_its_crop_pixel_reads(big_face):
    # a gray photo with a 2 x 2 coloured dot at the photo point of every probe: the crop stays
    # gray (a dot is a small part of what a crop pixel reads), so no probe may be told colour
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, invert_affine, transform_points

    rgb, pts = big_face
    img = np.repeat(rgb.mean(axis=2).astype(np.uint8)[..., None], 3, axis=2).clip(10, 200)
    m = crop_matrix(pts, DEFAULT_ALIGNMENT)
    probes = native._colour_probes(transform_points(m, pts), DEFAULT_ALIGNMENT.size)
    assert len(probes) > 20
    for qx, qy in np.floor(transform_points(invert_affine(m), np.array(probes, float))).astype(int):
        img[qy:qy + 2, qx:qx + 2, 0] += 6
    assert _crop_is_gray(img, pts) == (False, True)


def test_a_smile_without_its_crop_is_the_same_bytes(face, model, monkeypatch):
    # told from the photo (no crop made) or from the crop (the plain way): the same output
    rgb, lm = face
    aligns = spy_calls(monkeypatch, native, "_surely_colour")
    fast = rgb.copy()
    native.synthesize_face(rgb, fast, lm, model, 1.0)
    assert len(aligns) == 1
    monkeypatch.setattr(native, "_surely_colour", lambda *a: False)
    plain = rgb.copy()
    native.synthesize_face(rgb, plain, lm, model, 1.0)
    assert np.array_equal(fast, plain) and not np.array_equal(fast, rgb)
