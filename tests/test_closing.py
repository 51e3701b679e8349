"""Closing a smile (happy -> neutral): slivers of pressed lips, shadowed teeth, lightened folds."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from pixelfes import native
from pixelfes.evaluate.mouth import srgb_to_lab
from pixelfes.mouth import PersonColours, close_mouth
from pixelfes.mouth.colour import lab
from pixelfes.pipeline import resolve_model
from pixelfes.warp import box_backward_map
from warp_reference import brute_force_map

# -- lightening keeps a* and b* ------------------------------------------------------------

_M = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_WHITE = _M.sum(axis=1)


def _lab_to_srgb(L, a, b):
    """Plain CIELAB (D65) -> sRGB floats in [0, 1], the textbook formulas."""
    fy = (L + 16) / 116
    f = np.stack([fy + a / 500, fy, fy - b / 200], -1)
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE
    lin = xyz @ np.linalg.inv(_M).T
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def test_apply_gain_darkens_by_channels_and_lightens_l_star_at_constant_a_b():
    rng = np.random.default_rng(0)
    # skin-like colours, light and dark, with the red channel high (saturates first)
    base = np.array([[232, 190, 165], [200, 150, 120], [120, 80, 60], [90, 60, 50]], float)
    rgb = np.clip(base[rng.integers(0, 4, (6, 50))] + rng.normal(0, 6, (6, 50, 3)), 0, 255).astype(np.uint8)
    gain = rng.uniform(0.6, 1.6, (6, 50)).astype(np.float32)
    out = native.apply_gain(rgb, gain)
    down = gain <= 1.0
    want_down = np.clip(np.rint(rgb.astype(np.float64) * gain[..., None]), 0, 255)
    assert np.abs(out[down] - want_down[down]).max() <= 1  # OpenCV rounds in float32
    # lightening: the plain reference raises L* at the same a*, b*
    lab_in = srgb_to_lab(rgb)
    L = np.minimum(lab_in[..., 0] * gain, 100.0)
    want_up = np.clip(np.rint(_lab_to_srgb(L, lab_in[..., 1], lab_in[..., 2]) * 255), 0, 255)
    up = ~down
    assert np.abs(out[up].astype(float) - want_up[up]).max() <= 2
    # and so chroma does not rise with lightness as it does under a channel gain
    lab_out = srgb_to_lab(out)
    plain = np.clip(np.rint(rgb * gain[..., None]), 0, 255).astype(np.uint8)
    lab_plain = srgb_to_lab(plain)
    chroma = np.hypot(lab_out[..., 1], lab_out[..., 2]) - np.hypot(lab_in[..., 1], lab_in[..., 2])
    chroma_plain = np.hypot(lab_plain[..., 1], lab_plain[..., 2]) - np.hypot(lab_in[..., 1], lab_in[..., 2])
    assert chroma[up].max() < 2.0  # rounding (out of gamut, clipping lowers it)
    assert np.median(np.abs(chroma[up])) < 0.5
    assert chroma_plain[up].mean() > 1.0  # the channel gain raises it: what turned folds orange


def test_apply_gain_dark_in_lab_darkens_l_star_at_constant_a_b():
    rng = np.random.default_rng(3)
    base = np.array([[232, 190, 165], [200, 150, 120], [120, 80, 60], [90, 60, 50]], float)
    rgb = np.clip(base[rng.integers(0, 4, (6, 50))] + rng.normal(0, 6, (6, 50, 3)), 0, 255).astype(np.uint8)
    gain = rng.uniform(0.6, 1.6, (6, 50)).astype(np.float32)
    out = native.apply_gain(rgb, gain, dark_in_lab=True)
    lab_in = srgb_to_lab(rgb)
    L = np.minimum(lab_in[..., 0] * gain, 100.0)
    want = np.clip(np.rint(_lab_to_srgb(L, lab_in[..., 1], lab_in[..., 2]) * 255), 0, 255)
    assert np.abs(out.astype(float) - want).max() <= 2  # both directions: the plain reference
    down = gain < 0.9
    # a fold keeps the skin's chroma; the channel scale takes it down with the lightness
    plain = native.apply_gain(rgb, gain)
    c_lab = np.hypot(*srgb_to_lab(out)[..., 1:].transpose(2, 0, 1))
    c_plain = np.hypot(*srgb_to_lab(plain)[..., 1:].transpose(2, 0, 1))
    c_in = np.hypot(lab_in[..., 1], lab_in[..., 2])
    assert np.median(np.abs(c_lab - c_in)[down]) < 0.5
    assert (c_in - c_plain)[down].mean() > 2.0
    assert_array_equal(native.apply_gain(rgb, np.ones((6, 50), np.float32), dark_in_lab=True), rgb)


def test_apply_gain_is_identity_at_one():
    rgb = np.random.default_rng(1).integers(0, 256, (8, 9, 3), dtype=np.uint8)
    assert_array_equal(native.apply_gain(rgb, np.ones((8, 9), np.float32)), rgb)


# -- slivers of lips that meet own no pixel ------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return resolve_model("happy-to-neutral")


def test_pressed_lips_take_a_neighbours_map_not_a_line_across_the_teeth(model):
    tri = model.warp_.triangulation
    ref = model.reference_.astype(np.float64)
    src = ref.copy()
    for a, b in ((61, 67), (62, 66), (63, 65)):  # an open smile ...
        src[a, 1] -= 2.0
        src[b, 1] += 2.0
    dst = native.close_lips(ref)  # ... closed: the triangles between the inner lips are flat
    a = np.array([[5.7, 0.4], [-0.4, 5.7]])
    off = np.array([30.0, 60.0])
    fs, fd = tri.full_points(src) @ a.T + off, tri.full_points(dst) @ a.T + off
    lips = fd[60:68]
    x0, y0 = np.floor(lips.min(0) - 6).astype(int)
    x1, y1 = np.ceil(lips.max(0) + 6).astype(int)
    mx, my = box_backward_map(tri, fs, fd, (x0, y0, x1, y1))
    # every pixel along the meeting line (the polyline 60-64, 3 px either side)
    xs = np.arange(x0, x1)
    line_y = np.interp(xs, fd[60:65, 0], fd[60:65, 1])
    px = np.array([(x, int(round(y)) + d) for x, y in zip(xs, line_y, strict=True) for d in range(-3, 4)
                   if lips[0, 0] < x < lips[4, 0]], float)
    want = brute_force_map(tri, fs, fd, px, thin=0.5)
    got = np.stack([mx[px[:, 1].astype(int) - y0, px[:, 0].astype(int) - x0],
                    my[px[:, 1].astype(int) - y0, px[:, 0].astype(int) - x0]], 1)
    assert_allclose(got, want, atol=2e-3)


# -- shadowed teeth in the corners are painted over ---------------------------------------


def _mouth(width=240.0, cx=160.0, cy=90.0):
    t = np.linspace(0, 2 * np.pi, 13)[:-1]
    outer = np.stack([cx - 0.5 * width * np.cos(t), cy - 0.18 * width * np.sin(t)], 1)
    xs = cx + np.array([-0.45, -0.2, 0.0, 0.2, 0.45]) * width
    upper = np.stack([xs, np.full(5, cy)], 1)
    inner = np.concatenate([upper, upper[[3, 2, 1]]])  # closed: lower inner = upper inner
    return np.concatenate([outer, inner])


def test_close_mouth_paints_greyish_teeth_as_light_as_the_lip():
    lip = np.array([165, 95, 100], np.uint8)
    img = np.zeros((180, 320, 3), np.uint8)
    img[:] = (205, 160, 140)  # skin
    pts = _mouth()
    import cv2

    cv2.fillPoly(img, [np.rint(pts[:12]).astype(np.int32)], lip.tolist())
    lip_lab = lab(lip)
    # a greyish-yellow tooth at the left corner, as light as the lip (no L* test catches it)
    tooth = np.array([134, 120, 100], np.uint8)  # a* 2.2: greyish, not green
    assert abs(float(lab(tooth)[0]) - float(lip_lab[0])) < 5 and lab(tooth)[1] < 0.3 * lip_lab[1]
    corner = (slice(86, 95), slice(70, 86))
    img[corner] = tooth
    # a darker red crease elsewhere on the line: lip, left alone
    crease = (slice(86, 95), slice(200, 216))
    img[crease] = (140, 70, 78)
    colours = PersonColours(skin=np.array([205, 160, 140], np.uint8), lips=lip)
    out = img.copy()
    close_mouth(out, pts, colours)
    a_out = lab(out[corner])[..., 1]
    assert np.median(a_out) > 0.6 * lip_lab[1]  # lip-red now
    # the crease only gets the seam's faint darkening
    assert np.abs(out[crease].astype(int) - img[crease].astype(int)).max() <= 0.15 * 255
    assert lab(out[crease])[..., 1].mean() > 0.8 * lab(img[crease])[..., 1].mean()


def test_close_mouth_leaves_a_grey_photo_s_lips_alone_but_for_the_seam():
    import cv2

    pts = _mouth()
    grey = PersonColours(skin=np.array([170, 170, 170], np.uint8), lips=np.array([120, 120, 120], np.uint8))

    def photo(striped):
        img = np.full((180, 320, 3), 170, np.uint8)
        cv2.fillPoly(img, [np.rint(pts[:12]).astype(np.int32)], (120, 120, 120))
        if striped:  # grey lip creases across the meeting line
            img[80:100, 60:260:6] = 100
        return img

    flat = photo(False)
    seam = flat.copy()
    close_mouth(seam, pts, grey)
    factor = seam.astype(float) / flat  # the seam alone (nothing to inpaint on a flat lip)
    img = photo(True)
    out = img.copy()
    close_mouth(out, pts, grey)
    # no inpainting: the creases are only darkened by the seam, as the flat lip was
    assert np.abs(out - np.rint(img * factor)).max() <= 1


# -- the inpainting at half resolution ---------------------------------------------------------


def _inpaint_half_plain(region, mask, radius):
    """close._inpaint at half resolution written out: block means by loops, Telea, a bilinear read."""
    import cv2

    h, w = mask.shape
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    small = np.zeros((h2, w2, 3), np.uint8)
    hole = np.zeros((h2, w2), np.uint8)
    for i in range(h2):
        for j in range(w2):
            px = [region[y, x].astype(float) for y in (2 * i, 2 * i + 1) for x in (2 * j, 2 * j + 1)
                  if y < h and x < w and not mask[y, x]]
            if px:
                small[i, j] = np.clip(np.rint(np.mean(px, axis=0)), 0, 255)
            else:
                hole[i, j] = 255
    small = cv2.inpaint(small, hole, max(3, radius // 2), cv2.INPAINT_TELEA)
    out = region.copy()
    for y, x in zip(*np.nonzero(mask), strict=True):
        gy, gx = (y + 0.5) / 2 - 0.5, (x + 0.5) / 2 - 0.5  # (half-pixel centres, edges held)
        y0, x0 = int(np.floor(gy)), int(np.floor(gx))
        fy, fx = gy - y0, gx - x0
        ya, yb = min(max(y0, 0), h2 - 1), min(max(y0 + 1, 0), h2 - 1)
        xa, xb = min(max(x0, 0), w2 - 1), min(max(x0 + 1, 0), w2 - 1)
        s = small.astype(float)
        v = (s[ya, xa] * (1 - fx) + s[ya, xb] * fx) * (1 - fy) + (s[yb, xa] * (1 - fx) + s[yb, xb] * fx) * fy
        out[y, x] = np.clip(np.rint(v), 0, 255)
    return out


@pytest.mark.parametrize("shape", [(30, 44), (31, 43)])
def test_inpaint_at_half_resolution_is_the_plain_block_mean_telea_and_bilinear_read(shape, monkeypatch):
    from pixelfes.mouth import close

    monkeypatch.setattr(close, "_INPAINT_HALF", True)  # (off by default: docs/mouth.md, "second pass")
    rng = np.random.default_rng(shape[1])
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    region = np.clip(np.dstack([60 + 3 * xx, 90 + 2 * yy, 120 + xx - yy]) + rng.normal(0, 4, (h, w, 3)),
                     0, 255).astype(np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[11:19, 9:30] = 1  # (a band, as the meeting line's leftover teeth)
    mask[3, 40 if w > 40 else 5] = 1  # (a lone pixel: its block keeps three known pixels)
    got = close._inpaint(region, mask, 8)
    want = _inpaint_half_plain(region, mask, 8)
    assert_array_equal(got[mask == 0], region[mask == 0])  # (the rest keep their bytes)
    # (resize's bilinear weights are fixed point: a level at most on a rare pixel)
    assert np.abs(got.astype(int) - want).max() <= 1
    # the fill follows the ramp under it (a smooth, textureless fill of the right level)
    assert np.abs(got[mask > 0].astype(float) - region[mask > 0]).mean() < 8


def test_inpaint_below_radius_6_is_opencv_s_own(monkeypatch):
    import cv2

    from pixelfes.mouth import close

    monkeypatch.setattr(close, "_INPAINT_HALF", True)
    rng = np.random.default_rng(3)
    region = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
    mask = np.zeros((20, 24), np.uint8)
    mask[8:12, 5:19] = 1
    assert_array_equal(close._inpaint(region, mask, 5), cv2.inpaint(region, mask * 255, 5, cv2.INPAINT_TELEA))
