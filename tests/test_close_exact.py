"""Closing a smile made cheaper without changing a byte: each shortcut against the plain way."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pixelfes.mouth import relief


def _read_grid_plain(grid, u, v, which):
    """relief._read_grid as it was: a 3-index gather of each corner."""
    nv, nu = grid.shape[-2:]
    gx = np.clip(u * nu - 0.5, 0, nu - 1)
    gy = np.clip(v * nv - 0.5, 0, nv - 1)
    x0 = np.minimum(np.floor(gx).astype(np.intp), nu - 2)
    y0 = np.minimum(np.floor(gy).astype(np.intp), nv - 2)
    fx, fy = gx - x0, gy - y0
    flat = np.asarray(grid, dtype=np.float64).reshape((-1, nv, nu))
    g = np.stack([relief._fill_nan(m) for m in flat]).reshape(grid.shape)
    j = which.astype(np.intp)
    top = g[..., j, y0, x0] * (1 - fx) + g[..., j, y0, x0 + 1] * fx
    bot = g[..., j, y0 + 1, x0] * (1 - fx) + g[..., j, y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bot * fy


@pytest.mark.parametrize("lead", [(), (2,)])
@pytest.mark.parametrize("grid_shape", [relief.GRID, relief.TINT_GRID])
def test_read_grid_is_the_plain_gather_bit_for_bit(lead, grid_shape):
    rng = np.random.default_rng(len(lead) * 7 + grid_shape[1])
    grid = rng.normal(size=lead + (2,) + grid_shape)
    grid[(..., 0, 3, slice(2, 9))] = np.nan  # (nan cells: their row's mean)
    k = 5000
    u, v = rng.uniform(-0.1, 1.1, k), rng.uniform(-0.1, 1.1, k)
    u[:4], v[:4] = (0.0, 1.0, 0.5, 1.0), (0.0, 1.0, 1.0, 0.0)  # (the edges held)
    which = rng.integers(0, 2, k).astype(np.int8)
    got = relief._read_grid(grid, u, v, which)
    want = _read_grid_plain(grid, u, v, which)
    assert got.shape == want.shape == lead + (k,)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))


skimage_data = pytest.importorskip("skimage.data")

#: sha256 of the whole photo closed by the native engine (happy -> neutral, the bundled model and bank,
#: the lips' relief on, the red wedge's calming and the outlines' narrowing off: they came later), computed with main at 7959700
#: before the closing was made cheaper (numpy 2.4.6, OpenCV 4.14.0): the shortcuts change no byte.
#: Another OpenCV may round a pixel otherwise. With the inpainting at half resolution off
#: (``close._INPAINT_HALF``): it changes bytes on purpose
_PINNED = {
    "astronaut": "089bb9176156e9818424c6fcf2e6110d316ecf75eb8c63c70d01375b85397bc2",
    "004_08": "61bc87ff2b89e3792e7123c178d6bea0a855698fc2ad0ffd7b9df142c8ccf9fb",
}
#: the same with the inpainting at half resolution (``close._INPAINT_HALF``, off by default: docs/mouth.md,
#: "Speed: closing a smile, second pass"), computed on branch closefast (numpy 2.4.6, OpenCV 4.14.0);
#: the astronaut's mouth is too small for it (a radius under 6: OpenCV's own inpainting, the same bytes)
_PINNED_HALF = {
    "astronaut": "089bb9176156e9818424c6fcf2e6110d316ecf75eb8c63c70d01375b85397bc2",
    "004_08": "68afa6e7bf3124d8dc3909213083a4b87cc640843b53b12defc43b8d4292d738",
}


@pytest.mark.parametrize("half", [False, True])
@pytest.mark.parametrize("name", sorted(_PINNED))
def test_a_closing_is_main_s_byte_for_byte(name, half, monkeypatch):
    import hashlib

    from conftest import real_data, spy_calls
    from pixelfes import native
    from pixelfes.face import detect_faces
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import resolve_model

    if cv2.__version__ != "4.14.0":
        pytest.skip(f"pinned with OpenCV 4.14.0, this is {cv2.__version__}")
    if name == "astronaut":
        rgb = np.ascontiguousarray(skimage_data.astronaut())
    else:
        rgb = load_image(real_data("london-face-set") / "smiling_front" / f"{name}.jpg").rgb
    from pixelfes.mouth import close

    monkeypatch.setattr(native, "_CALM_LINE", "off")  # (calm_line runs after close_mouth: tests/test_red_wedge.py)
    monkeypatch.setattr(close, "_INPAINT_HALF", half)
    closes = spy_calls(monkeypatch, native, "close_mouth")
    out = rgb.copy()
    got = native.synthesize_face(rgb, out, detect_faces(rgb)[0].landmarks,
                                 resolve_model(None, "happy", "neutral"), 1.0)
    assert got.mouth == "closed" and len(closes) == 1  # (a closing, with the relief: the default)
    assert native._LIP_RELIEF and closes[0][1].get("relief") is not None
    assert hashlib.sha256(out.tobytes()).hexdigest() == (_PINNED_HALF if half else _PINNED)[name]


@pytest.fixture(scope="module")
def closing():
    """The astronaut's closing as close_mouth gets it (the default native engine, happy -> neutral)."""
    from pixelfes import native
    from pixelfes.face import detect_faces
    from pixelfes.pipeline import resolve_model

    rgb = np.ascontiguousarray(skimage_data.astronaut())
    got = []
    real = native.close_mouth

    def spy(image, lips, colours, **kw):
        got.append((image.copy(), np.array(lips), colours, kw))
        return real(image, lips, colours, **kw)

    native.close_mouth = spy
    try:
        native.synthesize_face(rgb, rgb.copy(), detect_faces(rgb)[0].landmarks, resolve_model(None, "happy", "neutral"), 1.0)
    finally:
        native.close_mouth = real
    assert len(got) == 1
    return got[0]


def _lip_uv_plain(shape, lips):
    """relief.lip_uv as it was: over a grid of both coordinates."""
    h, w = shape[:2]
    m = relief._frame(lips)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    xf = m[0, 0] * xx + m[0, 1] * yy + m[0, 2]
    yf = m[1, 0] * xx + m[1, 1] * yy + m[1, 2]
    f = np.asarray(lips, dtype=np.float64) @ m[:, :2].T + m[:, 2]
    uo, ui, lo, li = relief.lip_curves(f, xf)
    with np.errstate(divide="ignore", invalid="ignore"):
        vu = (yf - uo) / (ui - uo)
        vl = (lo - yf) / (lo - li)
    u = xf + 0.5
    inu = (u >= 0) & (u <= 1)
    up = inu & (ui - uo > 1e-9) & (vu >= 0) & (vu <= 1)
    low = inu & ~up & (lo - li > 1e-9) & (vl >= 0) & (vl <= 1)
    which = np.where(up, 0, np.where(low, 1, -1)).astype(np.int8)
    v = np.where(up, vu, np.where(low, vl, 0.0))
    return u, np.nan_to_num(v), which


@pytest.mark.parametrize("tilt", [0.0, 0.3, -0.5])
def test_lip_uv_is_the_plain_grid_bit_for_bit(tilt, closing):
    lips = closing[1] - closing[1].min(0) + 9
    c, s = np.cos(tilt), np.sin(tilt)
    lips = (lips - lips.mean(0)) @ np.array([[c, -s], [s, c]]).T * 1.7 + (70, 50)
    plain = _lip_uv_plain((100, 140), lips)
    for got, want in zip(relief.lip_uv((100, 140), lips), plain, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)
    assert (plain[2] == 0).sum() > 100 and (plain[2] == 1).sum() > 100


def test_lip_uv_memo_gives_the_fresh_frame_and_only_for_the_same_lips(closing):
    """relief.lip_uv's one-entry memo (the relief and the red wedge's calming ask for the same
    region's frame): a hit is the fresh frame bit for bit, read only; other lips (one ulp off) or
    another shape are made afresh."""
    lips = closing[1] - closing[1].min(0) + 9
    relief._UV_LAST[0] = None
    first = relief.lip_uv((100, 140), lips)
    again = relief.lip_uv((100, 140), lips.copy())
    assert all(a is b for a, b in zip(first, again, strict=True))  # (a hit)
    for got, want in zip(again, _lip_uv_plain((100, 140), lips), strict=True):
        assert np.array_equal(got, want) and not got.flags.writeable
    nudged = lips.copy()
    nudged[3, 1] = np.nextafter(nudged[3, 1], np.inf)
    for other, shape in ((nudged, (100, 140)), (lips, (101, 140)), (lips, (100, 139))):
        got = relief.lip_uv(shape, other)
        for g, want in zip(got, _lip_uv_plain(shape, other), strict=True):
            assert np.array_equal(g, want)
    assert not np.array_equal(relief.lip_uv((100, 140), nudged)[1], first[1])  # (the nudge is seen)


def test_a_calmed_closing_is_the_same_with_the_frame_made_afresh(closing, monkeypatch):
    """native.close_on_crease with the red wedge's calming (the default): the calming reads the
    relief's lip frame from the memo; with the memo off (every frame made afresh) the same bytes."""
    from pixelfes import native

    image, lips, colours, kw = closing
    assert kw.get("relief") is not None and kw.get("tint") is not None
    base = np.zeros((image.shape[0] + 40, image.shape[1] + 40, 3), np.uint8)
    base[20:-20, 20:-20] = image
    calls = []
    real = relief._lip_uv

    def counted(shape, pts):
        calls.append(1)
        return real(shape, pts)

    monkeypatch.setattr(relief, "_lip_uv", counted)
    outs = []
    for memo in (True, False):
        relief._UV_LAST[0] = None
        calls.clear()
        if not memo:  # (every call a miss)
            monkeypatch.setattr(relief, "_UV_LAST", type("Miss", (list,), {"__setitem__": lambda s, i, v: None})([None]))
        out = base.copy()
        box = native.close_on_crease(out, lips + 20, colours, relief=kw["relief"], tint=kw["tint"], calm="level")
        assert box is not None
        outs.append(out)
        assert len(calls) == (1 if memo else 2)
    assert np.array_equal(outs[0], outs[1])
