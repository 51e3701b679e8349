"""imageio: every input kind comes back in its own mode, dtype, size and precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from pixelfes.imageio import from_luminance, load_image, read_rgb, save_image, to_luminance


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _brighten(rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    out[:4, :4] = np.clip(out[:4, :4].astype(int) + 40, 0, 255)
    return out


def test_rgb_array_roundtrip_and_change(rng: np.random.Generator) -> None:
    a = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    li = load_image(a)
    assert li.rgb.shape == (12, 16, 3) and li.rgb.dtype == np.uint8
    assert_array_equal(li.to_output(li.rgb), a)
    assert_array_equal(li.to_output(_brighten(li.rgb)), _brighten(a))


def test_rgba_keeps_alpha_and_mode(rng: np.random.Generator) -> None:
    a = rng.integers(0, 256, (12, 16, 4), dtype=np.uint8)
    li = load_image(Image.fromarray(a, mode="RGBA"))
    out = li.to_output(_brighten(li.rgb))
    assert isinstance(out, Image.Image) and out.mode == "RGBA"
    arr = np.asarray(out)
    assert_array_equal(arr[..., 3], a[..., 3])
    assert_array_equal(arr[..., :3], _brighten(a[..., :3]))
    out_arr = load_image(a).to_output(load_image(a).rgb)
    assert_array_equal(out_arr, a)


def test_grayscale_in_grayscale_out(rng: np.random.Generator) -> None:
    g = rng.integers(0, 256, (10, 14), dtype=np.uint8)
    li = load_image(Image.fromarray(g, mode="L"))
    assert li.is_gray and li.rgb.shape == (10, 14, 3)
    out = li.to_output(li.rgb)
    assert out.mode == "L"
    assert_array_equal(np.asarray(out), g)
    res = li.rgb.copy()
    res[0, 0] = (255, 0, 0)
    assert np.asarray(li.to_output(res))[0, 0] == to_luminance(np.array([255, 0, 0], np.uint8))
    for arr in (g, g[..., None]):
        la = load_image(arr)
        back = la.to_output(la.rgb)
        assert back.shape == arr.shape and back.dtype == np.uint8
        assert_array_equal(back, arr)
    la = np.dstack([g, 255 - g])
    lil = load_image(Image.fromarray(la, mode="LA"))
    out = lil.to_output(lil.rgb)
    assert out.mode == "LA"
    assert_array_equal(np.asarray(out), la)


def test_palette_image(rng: np.random.Generator) -> None:
    p = Image.fromarray(rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)).quantize(8)
    li = load_image(p)
    out = li.to_output(li.rgb)
    assert out.mode == "P"
    assert_array_equal(np.asarray(out), np.asarray(p))
    changed = li.to_output(np.zeros_like(li.rgb))
    assert changed.mode == "P" and changed.getpalette() == p.getpalette()


def test_sixteen_bit_keeps_precision(tmp_path: Path, rng: np.random.Generator) -> None:
    a16 = rng.integers(0, 65536, (10, 14), dtype=np.uint16)
    li = load_image(a16)
    out = li.to_output(li.rgb)
    assert out.dtype == np.uint16
    assert_array_equal(out, a16)  # untouched values keep all 16 bits
    res = li.rgb.copy()
    res[0, 0] = np.clip(res[0, 0].astype(int) + 10, 0, 255)
    changed = li.to_output(res)
    assert_array_equal(changed[1:], a16[1:])
    delta = int(to_luminance(res[0, 0])) - int(li.rgb[0, 0, 0])
    assert changed[0, 0] == np.clip(int(a16[0, 0]) + delta * 257, 0, 65535)
    path = tmp_path / "g16.png"
    Image.fromarray(a16).save(path)
    lp = load_image(path)
    assert lp.mode.startswith("I")
    pil = lp.to_output(lp.rgb)
    assert pil.mode == lp.mode
    assert_array_equal(np.asarray(pil).astype(np.uint16), a16)
    save_image(pil, tmp_path / "back.png")
    assert_array_equal(np.asarray(Image.open(tmp_path / "back.png")).astype(np.uint16), a16)
    rgb16 = rng.integers(0, 65536, (4, 5, 3), dtype=np.uint16)
    l3 = load_image(rgb16)
    assert_array_equal(l3.to_output(l3.rgb), rgb16)


def test_float_array(rng: np.random.Generator) -> None:
    f = rng.uniform(0, 1, (6, 7, 3))
    li = load_image(f)
    assert_array_equal(li.to_output(li.rgb), f)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        load_image(f * 2)


def test_exif_rotated_jpeg_is_read_upright(tmp_path: Path, rng: np.random.Generator) -> None:
    raw = np.zeros((20, 30, 3), np.uint8)
    raw[:5, :5] = 255  # a white block in the stored top-left corner
    img = Image.fromarray(raw)
    exif = img.getexif()
    exif[0x0112] = 6  # stored image must be rotated 90 degrees clockwise to display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif.tobytes(), quality=95)
    li = load_image(path)
    assert li.rgb.shape == (30, 20, 3)  # displayed: 20 wide, 30 tall
    assert li.rgb[:5, -5:].mean() > 200  # the block is at the displayed top-right
    out = li.to_output(li.rgb)
    assert out.size == (20, 30) and out.getexif().get(0x0112, 1) == 1
    save_image(out, tmp_path / "out.jpg")
    again = load_image(tmp_path / "out.jpg")
    assert again.rgb.shape == (30, 20, 3) and again.rgb[:5, -5:].mean() > 200
    small, scale = read_rgb(path)
    assert small.shape == (30, 20, 3) and scale == 1.0


def test_jpeg_quality_and_atomic_save(tmp_path: Path, rng: np.random.Generator) -> None:
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    hi = save_image(a, tmp_path / "hi.jpg", quality=95)
    lo = save_image(a, tmp_path / "lo.jpg", quality=20)
    assert lo.stat().st_size < hi.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hi.jpg", "lo.jpg"]  # no temp files left
    with pytest.raises(ValueError, match="extension"):
        save_image(a, tmp_path / "x.unknown")
    rgba = Image.fromarray(rng.integers(0, 256, (8, 8, 4), dtype=np.uint8), "RGBA")
    save_image(rgba, tmp_path / "a.jpg")  # JPEG has no alpha: written as RGB
    assert Image.open(tmp_path / "a.jpg").mode == "RGB"


def test_read_rgb_draft_is_reduced(tmp_path: Path, rng: np.random.Generator) -> None:
    a = rng.integers(0, 256, (800, 1200, 3), dtype=np.uint8)
    save_image(a, tmp_path / "big.jpg")
    small, scale = read_rgb(tmp_path / "big.jpg", min_side=500)
    assert scale == 0.5 and small.shape == (400, 600, 3)


def test_luminance_is_bt601_on_known_colours() -> None:
    """Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), rounded: pinned on primaries and greys."""
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0],
                        [10, 200, 30], [128, 128, 128]], np.uint8)
    # 76.245, 149.685, 29.07, 255, 0, 123.83, 128 rounded
    assert to_luminance(colours).tolist() == [76, 150, 29, 255, 0, 124, 128]


def test_luminance_pair(rng: np.random.Generator) -> None:
    c = rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)
    y = to_luminance(c)
    assert_array_equal(from_luminance(y, c), c)
    brighter = from_luminance(np.clip(y.astype(int) + 10, 0, 255).astype(np.uint8), c)
    ok = (c.max(2) < 240) & (y < 245)
    assert_array_equal(to_luminance(brighter)[ok], y[ok] + 10)


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path, a PIL image or a numpy array"):
        load_image(3)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="expected an image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        load_image(np.zeros((4, 4, 5), np.uint8))
    li = load_image(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="rgb_result must be"):
        li.to_output(np.zeros((5, 4, 3), np.uint8))


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_rgb_jpeg_fast_path_equals_pillows(tmp_path, monkeypatch, orientation) -> None:
    """RGB JPEGs are decoded by OpenCV into the array directly: the same upright pixels and
    the same metadata as Pillow's path, for every EXIF orientation."""
    from PIL import Image

    from pixelfes import imageio

    rng = np.random.default_rng(orientation)
    arr = np.clip(rng.normal(128, 60, (37, 53, 3)), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "pixelfes test"  # Make: kept in the output
    path = tmp_path / "o.jpg"
    Image.fromarray(arr).save(path, quality=90, exif=exif.tobytes(), dpi=(200, 200))
    calls = []
    real = imageio._load_rgb_jpeg
    monkeypatch.setattr(imageio, "_load_rgb_jpeg", lambda *a: calls.append(1) or real(*a))
    fast = imageio.load_image(path)
    monkeypatch.setattr(imageio, "_load_rgb_jpeg", lambda *a: None)
    slow = imageio.load_image(path)
    assert calls and fast.kind == slow.kind == "path" and fast.format == slow.format == "JPEG"
    assert fast.rgb.flags.c_contiguous and np.array_equal(fast.rgb, slow.rgb)
    assert fast.rgb.shape == ((53, 37, 3) if orientation >= 5 else (37, 53, 3))
    assert fast.info.keys() == slow.info.keys() and fast.info == slow.info
    assert fast.mode == slow.mode == "RGB"


@pytest.mark.parametrize("orientation", [1, 6])
def test_rgb_jpeg_fast_path_without_opencvs_rgb_flag(tmp_path, monkeypatch, orientation) -> None:
    """OpenCV before 4.10 decodes only to BGR: the fast path then swaps the channels itself,
    to the same pixels as OpenCV's own RGB output and Pillow's."""
    import cv2
    from PIL import Image

    from pixelfes import imageio

    rng = np.random.default_rng(orientation)
    arr = np.clip(rng.normal(128, 60, (41, 29, 3)), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    Image.fromarray(arr).save(path, quality=90, exif=exif.tobytes())
    direct = imageio.load_image(path).rgb
    with Image.open(path) as im:
        pillow = imageio.load_image(im).rgb
    monkeypatch.delattr(cv2, "IMREAD_COLOR_RGB", raising=False)
    swapped = imageio.load_image(path).rgb
    assert np.array_equal(direct, swapped) and np.array_equal(direct, pillow)
    assert swapped.flags.c_contiguous


def test_a_cut_off_jpeg_is_refused_not_padded(tmp_path) -> None:
    """A file cut off mid-scan is an error (OpenCV before 4.10 pads it with grey: the fast
    path checks the end marker first; 4.14 refuses by itself)."""
    from PIL import Image

    from pixelfes.imageio import load_image

    path = tmp_path / "cut.jpg"
    noise = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # cut in the middle of the scan
    with pytest.raises(ValueError):
        load_image(path)


def test_a_photo_without_exif_is_read_and_written_without_pillows_tiff_code(tmp_path: Path) -> None:
    """No EXIF, nothing to keep: reading and writing such a JPEG imports no TIFF plugin (the
    EXIF copy's writer, 8-20 ms of a cold start); a photo with EXIF keeps it (tests above)."""
    import subprocess
    import sys

    from conftest import REPO

    path = tmp_path / "plain.jpg"
    Image.fromarray(np.full((16, 24, 3), 90, np.uint8)).save(path, quality=95)
    code = (f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); "
            "from pixelfes.imageio import load_image, save_image; "
            f"li = load_image({str(path)!r}); assert 'exif' not in li.info; "
            f"save_image(li.to_output(li.rgb), {str(tmp_path / 'out.jpg')!r}); "
            "print('PIL.TiffImagePlugin' in sys.modules)")
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"
