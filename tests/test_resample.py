"""The photo-resolution warp's last step: resampling only what moves, and the gain on it.

Pinned against plain references: one cubic ``cv2.remap`` of the whole box, numpy's
``rint(v * g)`` for a channel gain, and the per-pixel (``(N, 1, 3)`` column) CIELAB pass
that ``apply_gain`` used before it gathered its pixels into one row.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from pixelfes import native


def _photo(h: int = 120, w: int = 150, chans: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, chans)).astype(np.float32), (0, 0), 0.8)
    return np.clip(img * 1.6 - 80, 0, 255).astype(np.uint8).reshape(h, w, chans)


def _map_and_masks(h: int, w: int, box: tuple[int, int, int, int], seed: int = 1):
    """A smooth sub-pixel map over ``box`` with a ragged, holed moving region and a gain."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = box
    bh, bw = y1 - y0, x1 - x0
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    sx = xx + 2.3 * np.sin(yy / 9.0).astype(np.float32) + 0.37
    sy = yy + 1.7 * np.cos(xx / 7.0).astype(np.float32) - 0.61
    maps = np.ascontiguousarray(np.stack([sx, sy], -1), dtype=np.float32)
    # moving: an ellipse with holes and a ragged right edge (spans that are not one run)
    cy, cx = bh / 2, bw / 2
    ell = ((yy - y0 - cy) / (0.45 * bh)) ** 2 + ((xx - x0 - cx) / (0.4 * bw)) ** 2 <= 1
    holes = rng.random((bh, bw)) < 0.05
    still = ~ell | holes
    still[:, -3:] = rng.random((bh, 3)) < 0.5
    gain = (0.25 * np.sin(xx / 11.0) * np.cos(yy / 13.0)).astype(np.float32)
    gain[still] = 0.0  # a shaded pixel is never still (photo_map's contract)
    gain[np.abs(gain) < 2e-3] = 0.0
    return maps, still, gain


@pytest.mark.parametrize("chans", [3, 1])
def test_resample_moving_equals_one_plain_remap_of_the_box(chans):
    photo = _photo(chans=chans)
    box = (17, 9, 131, 104)
    x0, y0, x1, y1 = box
    maps, still, gain = _map_and_masks(*photo.shape[:2], box)
    out = photo.copy()
    native.resample_moving(photo, out[y0:y1, x0:x1], maps, still, gain)
    # the reference: the whole box resampled at once (float maps), times 1 + gain by numpy
    ref = cv2.remap(photo, maps, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    ref = ref.reshape(y1 - y0, x1 - x0, chans).astype(np.float32)
    ref = np.clip(np.rint(ref * (1.0 + gain)[..., None]), 0, 255).astype(np.uint8)
    want = photo.copy()
    want[y0:y1, x0:x1][~still] = ref[~still]
    assert_array_equal(out, want)
    assert (out != photo).any(axis=-1).sum() > 0.5 * (~still).sum()  # it moved


def test_resample_moving_shades_with_the_given_function_only_where_shaded():
    photo = _photo()
    box = (0, 0, 150, 120)
    maps, still, gain = _map_and_masks(120, 150, box, seed=4)
    seen = []

    def shade(px, ratio):
        seen.append((px.shape, ratio.shape))
        assert np.abs(ratio - 1).min() > 1e-3
        return native.apply_gain(px, ratio, dark_in_lab=True)

    out = photo.copy()
    native.resample_moving(photo, out, maps, still, gain, shade)
    n = int((np.abs(gain) > 1e-3).sum())
    # rows of the shaded pixels, one per chunk of bands that holds any, each pixel once
    assert len(seen) >= 2 and all(p[0] == 1 and p[2] == 3 and r == p[:2] for p, r in seen)
    assert sum(p[1] for p, _ in seen) == n
    plain = photo.copy()
    native.resample_moving(photo, plain, maps, still)
    lab = native.apply_gain(plain, gain + np.float32(1.0), dark_in_lab=True)
    assert_array_equal(out, np.where(still[..., None], photo, lab))


def test_resample_moving_default_gain_shades_in_place_as_the_gathered_pass():
    """``shade=apply_gain`` (closing a smile's shade) is done in the chunk's buffer: the channel
    scale over its columns, only the lightened pixels gathered for CIELAB; the same bytes as
    apply_gain on the gathered shaded pixels and as apply_gain of the whole resampled box."""
    photo = _photo(seed=2)
    box = (0, 0, 150, 120)
    maps, still, gain = _map_and_masks(120, 150, box, seed=4)
    assert (gain > 1e-3).sum() > 1000 and (gain < -1e-3).sum() > 1000  # both lightened and darkened
    inplace = photo.copy()
    native.resample_moving(photo, inplace, maps, still, gain, native.apply_gain)
    gathered = photo.copy()
    native.resample_moving(photo, gathered, maps, still, gain, lambda px, r: native.apply_gain(px, r))
    assert_array_equal(inplace, gathered)
    plain = photo.copy()
    native.resample_moving(photo, plain, maps, still)
    want = np.where(still[..., None], photo, native.apply_gain(plain, gain + np.float32(1.0)))
    assert_array_equal(inplace, want)


def _apply_gain_by_column(rgb, gain, dark_in_lab):
    """apply_gain as it was: a channel scale of every pixel, the CIELAB pass per pixel."""
    out = cv2.multiply(rgb, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
    up = (np.abs(gain - np.float32(1.0)) > native._LAB_MIN) if dark_in_lab else gain > 1.0
    px = rgb[up].astype(np.float32)[:, None] / np.float32(255.0)
    lab = cv2.cvtColor(px, cv2.COLOR_RGB2LAB)
    lab[..., 0] = np.minimum(lab[..., 0] * gain[up][:, None], 100.0)
    out[up] = np.clip(np.rint(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)[:, 0] * 255.0), 0, 255)
    return out


@pytest.mark.parametrize("dark_in_lab", [False, True])
def test_apply_gain_equals_the_per_pixel_pass(dark_in_lab):
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (90, 110, 3), dtype=np.uint8)
    gain = (1.0 + rng.normal(0, 0.05, (90, 110))).astype(np.float32)
    gain[::5] = 1.0 + rng.uniform(-5e-3, 5e-3, gain[::5].shape).astype(np.float32)  # near both thresholds
    out = native.apply_gain(rgb, gain, dark_in_lab)
    ref = _apply_gain_by_column(rgb, gain, dark_in_lab)
    diff = np.abs(out.astype(int) - ref.astype(int))
    # LAB -> RGB's vector path (a row) differs from the scalar one (a column) by < 1e-5,
    # which can move a rounding by one level: on 2 of 0.33 M changed pixels of a London face
    assert diff.max() <= 1 and (diff > 0).any(axis=2).mean() < 1e-3
    up = (np.abs(gain - 1) > native._LAB_MIN) if dark_in_lab else gain > 1.0
    assert_array_equal(out[~up], ref[~up])  # the channel scale exactly
    # a channel gain within 1e-3 of 1 changes no byte (a lightening by L* may: 1 level)
    same = ~up & (np.abs(gain - 1) <= 1e-3)
    assert same.sum() > 200
    assert_array_equal(out[same], rgb[same])


def test_resample_moving_in_place_reads_only_the_photo_before_it():
    """``region`` may be a view of ``photo`` itself: every pixel is read before any is written."""
    photo = _photo(seed=7)
    box = (0, 0, 150, 120)
    maps, still, gain = _map_and_masks(120, 150, box, seed=8)
    maps[..., 1] -= 20.0  # read from rows that an earlier chunk writes
    out = photo.copy()
    native.resample_moving(photo, out, maps, still, gain)
    inplace = photo.copy()
    native.resample_moving(inplace, inplace, maps, still, gain)
    assert_array_equal(inplace, out)


def _keys(t: np.ndarray) -> np.ndarray:
    """OpenCV's cubic convolution weight (Keys, a = -0.75) at distance ``t``."""
    a, t = -0.75, np.abs(t)
    return np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                    np.where(t < 2, a * (t**3 - 5 * t**2 + 8 * t - 4), 0.0))


def _cubic2x_plain(img: np.ndarray, sharpen: float = native.CUBIC2X_SHARPEN) -> np.ndarray:
    """The 2x source written plainly: the [-a, 1 + 2a, -a] x and y sharpening (edges replicated,
    rounded to bytes), then sample k of each axis the Keys cubic at source k / 2 - 1/4 (indices
    clamped), in float64."""
    f = img.astype(np.float64)
    for axis in (0, 1):
        p = np.take(f, np.clip(np.arange(-1, f.shape[axis] + 1), 0, f.shape[axis] - 1), axis=axis)
        n = f.shape[axis]
        f = (1 + 2 * sharpen) * np.take(p, np.arange(1, n + 1), axis=axis) \
            - sharpen * (np.take(p, np.arange(0, n), axis=axis) + np.take(p, np.arange(2, n + 2), axis=axis))
    f = np.clip(np.rint(f), 0, 255)
    for axis in (0, 1):
        n = f.shape[axis]
        pos = np.arange(2 * n) / 2.0 - 0.25
        base = np.floor(pos).astype(int)
        acc = 0.0
        for j in range(-1, 3):
            idx = np.clip(base + j, 0, n - 1)
            w = _keys(pos - (base + j))
            shape = [1] * f.ndim
            shape[axis] = 2 * n
            acc = acc + np.take(f, idx, axis=axis) * w.reshape(shape)
        f = acc
    return f


def _bilinear_plain(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``img`` (float) at ``(x, y)`` by bilinear interpolation, edges replicated."""
    h, w = img.shape[:2]
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        return img[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
    return ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
            + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))


def test_upsample_cubic2x_is_the_sharpened_cubic_at_quarter_pixels():
    """OpenCV's sharpening and 2x cubic resize (fixed point) are the plain formula to a level."""
    img = _photo(23, 31, seed=3)
    got = native.upsample_cubic2x(img).astype(np.float64)
    want = _cubic2x_plain(img)
    assert got.shape == (46, 62, 3)
    diff = np.abs(got - np.clip(np.rint(want), 0, 255))
    assert diff.max() <= 1 and diff.mean() < 0.1
    # without sharpening it is the plain cubic upsample
    diff0 = np.abs(native.upsample_cubic2x(img, 0.0) - np.clip(np.rint(_cubic2x_plain(img, 0.0)), 0, 255))
    assert diff0.max() <= 1 and diff0.mean() < 0.1


def test_resample_photo_map_cubic2x_is_a_linear_look_up_of_the_2x_source():
    """interpolation="cubic2x": each moving pixel is the bilinear value, at 2 u + 1/2, of the
    plain 2x source of the whole photo in bytes (to 2 levels: the 2x source's fixed point and
    the remap's 1/32 px steps); near the cubic; in place the same bytes."""
    photo = _photo(60, 70, seed=5)
    x0, y0, x1, y1 = box = (9, 7, 61, 52)
    bh, bw = y1 - y0, x1 - x0
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    dx = (2.3 * np.sin(yy / 6.0) + 0.37 * (xx > 20)).astype(np.float32)
    dy = (1.7 * np.cos(xx / 5.0) - 0.61).astype(np.float32)
    eye = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    pm = native.PhotoMap(box, dx, dy, None, eye, None)
    mx, my, _, still = pm.rows(0, bh)
    assert (~still).mean() > 0.9
    out = photo.copy()
    native.resample_photo_map(photo, out[y0:y1, x0:x1], pm, interpolation="cubic2x")
    source = np.clip(np.rint(_cubic2x_plain(photo)), 0, 255)  # the 2x source is bytes
    want = _bilinear_plain(source, 2 * mx.astype(np.float64) + 0.5, 2 * my.astype(np.float64) + 0.5)
    got = out[y0:y1, x0:x1].astype(np.float64)
    diff = np.abs(got - np.clip(want, 0, 255))[~still]
    assert diff.max() <= 2 and diff.mean() < 0.35
    assert_array_equal(out[y0:y1, x0:x1][still], photo[y0:y1, x0:x1][still])  # still pixels keep their bytes
    assert_array_equal(out[:y0], photo[:y0])
    cubic = photo.copy()
    native.resample_photo_map(photo, cubic[y0:y1, x0:x1], pm)
    linear = photo.copy()
    native.resample_photo_map(photo, linear[y0:y1, x0:x1], pm, interpolation="linear")
    near, far = (np.abs(o.astype(int) - cubic.astype(int))[y0:y1, x0:x1][~still] for o in (out, linear))
    # a different kernel, much nearer the cubic than linear is (this texture is grainier than skin)
    assert (near > 0).mean() > 0.1 and near.mean() < 0.5 * far.mean()
    inplace = photo.copy()  # in place: the 2x source is made before anything is written
    native.resample_photo_map(inplace, inplace[y0:y1, x0:x1], pm, interpolation="cubic2x")
    assert_array_equal(inplace, out)
