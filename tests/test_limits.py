"""Limits and faithful reads: the pixel budget, crop-size and strength bounds, float/16-bit/animated images."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

import pixelfes
from pixelfes.cli import main
from pixelfes.imageio import (
    MAX_PIXELS,
    ImageTooLargeError,
    ImageWarning,
    check_pixels,
    load_image,
    max_pixels,
    save_image,
    set_max_pixels,
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory):
    """A valid 13000 x 13000 black grayscale PNG of ~170 KB (what the issue's 20 KB PNG was)."""
    side = 13000
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body)
                     + _png_chunk(b"IEND", b""))
    return path


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if Pillow decodes pixel data."""
    from PIL import ImageFile

    def refuse(self):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.fixture(autouse=True)
def _reset_budget():
    yield
    set_max_pixels(None)


def test_budget_default_env_and_override(monkeypatch):
    monkeypatch.delenv("PIXELFES_MAX_PIXELS", raising=False)
    assert max_pixels() == MAX_PIXELS == 50_000_000
    monkeypatch.setenv("PIXELFES_MAX_PIXELS", "1000")
    assert max_pixels() == 1000
    set_max_pixels(2000)
    assert max_pixels() == 2000
    set_max_pixels(None)
    monkeypatch.setenv("PIXELFES_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="PIXELFES_MAX_PIXELS must be a whole number"):
        max_pixels()
    monkeypatch.delenv("PIXELFES_MAX_PIXELS")
    with pytest.raises(ImageTooLargeError, match="--max-pixels"):
        check_pixels((8000, 8000))
    with pytest.raises(ValueError, match="no pixels"):
        check_pixels((0, 5))


def test_huge_png_is_refused_from_its_header(huge_png, no_decoding):
    assert huge_png.stat().st_size < 300_000
    with pytest.raises(ImageTooLargeError, match="13000 x 13000 = 169,000,000 pixels"):
        load_image(huge_png)
    from pixelfes.crops import read_crop
    from pixelfes.imageio import read_rgb

    with pytest.raises(ImageTooLargeError):
        read_rgb(huge_png)
    with pytest.raises(ImageTooLargeError):
        read_crop(huge_png)


def test_huge_png_through_the_cli(huge_png, tmp_path, capsys, no_decoding):
    code = main(["synthesize", str(huge_png), "--to", "happy", "--no-detect", "-o",
                 str(tmp_path / "o.png"), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "pixel budget" in err and "--max-pixels" in err
    assert "Traceback" not in err and "DecompressionBomb" not in err


def test_budget_from_the_command_line_and_environment(tmp_path, capsys, monkeypatch):
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(photo)
    out = tmp_path / "o.png"
    assert main(["synthesize", str(photo), "--to", "happy", "--max-pixels", "5000", "-o", str(out), "-q"]) == 1
    assert "over the pixel budget of 5,000" in capsys.readouterr().err
    monkeypatch.setenv("PIXELFES_MAX_PIXELS", "5000")
    assert main(["synthesize", str(photo), "--to", "happy", "-o", str(out), "-q"]) == 1
    assert "over the pixel budget of 5,000" in capsys.readouterr().err
    assert max_pixels() == 5000 and not out.exists()


def test_arrays_count_too():
    set_max_pixels(50)
    with pytest.raises(ImageTooLargeError):
        load_image(np.zeros((10, 10, 3), np.uint8))


def test_no_detect_padding_is_within_the_budget():
    crop = np.full((100, 100, 3), 120, np.uint8)
    set_max_pixels(15_000)  # the image fits (10,000), its padded canvas (22,500) does not
    with pytest.raises(ImageTooLargeError, match="padded --no-detect canvas"):
        pixelfes.synthesize(crop, to="happy", detect=False)


@pytest.mark.parametrize("command", [
    ["train", "--data", "D", "--to", "happy", "--size", "20000", "-o", "m.safetensors"],
    ["train", "--data", "D", "--to", "happy", "--size", "4", "-o", "m.safetensors"],
    ["prepare", "D", "-o", "OUT", "--size", "20000"],
    ["evaluate", "--data", "D", "--to", "happy", "--size", "20000", "--report", "R"],
    ["cv", "--data", "D", "--to", "happy", "--size", "20000"],
])
def test_size_bounds_are_checked_before_any_work(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(command) in (1, 2)
    err = capsys.readouterr().err
    assert "--size must be in 8..512" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("margin", ["0", "-1", "nan", "100"])
def test_margin_bounds(margin, tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--to", "happy", "--margin", margin,
                 "-o", str(tmp_path / "m.safetensors")]) == 1
    assert "--margin must be in [0.5, 4]" in capsys.readouterr().err


def test_training_crops_too_large_are_refused_from_their_headers(tmp_path, capsys):
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        Image.new("RGB", (600, 600)).save(tmp_path / side / "x.png")
    assert main(["train", "--source", str(tmp_path / "a"), "--target", str(tmp_path / "b"),
                 "-o", str(tmp_path / "m.safetensors"), "-q"]) == 1
    assert "at most 512 px" in capsys.readouterr().err


@pytest.mark.parametrize("strength", [1e9, -0.5, 3.01, float("inf")])
def test_strength_outside_the_documented_range_is_refused(strength, rng):
    x = rng.integers(0, 255, (3, 4, 4, 3), dtype=np.uint8)
    model = pixelfes.PixelRR().fit(x, x)
    with pytest.raises(ValueError, match=r"strength must be (in \[0, 3\]|finite)"):
        model.predict(x, strength=strength)
    assert model.predict(x, strength=3.0).shape == x.shape


# -- faithful reads -------------------------------------------------------------------------
@pytest.mark.parametrize("top", [1.0, 255.0, 65535.0])
def test_float_tiff_is_read_in_its_own_range(tmp_path, top):
    ramp = np.linspace(0, 1, 40 * 30, dtype=np.float32).reshape(30, 40) * np.float32(top)
    path = tmp_path / "f.tif"
    Image.fromarray(ramp, mode="F").save(path)
    loaded = load_image(path)
    assert loaded.float_scale == top
    assert abs(float(loaded.rgb.mean()) - 127.5) < 1  # not black
    out = loaded.to_output(loaded.rgb)  # unchanged result: the original float values back
    assert out.mode == "F"
    assert_array_equal(np.asarray(out), ramp)
    changed = loaded.rgb.copy()
    changed[0, 0] += 10
    out = np.asarray(loaded.to_output(changed))
    assert out[0, 0] == pytest.approx(ramp[0, 0] + 10 * top / 255, rel=1e-6)
    save_image(loaded.to_output(changed), tmp_path / "o.tif")
    assert Image.open(tmp_path / "o.tif").mode == "F"


def test_float_tiff_out_of_range_is_an_error(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(np.full((4, 4), -2.0, np.float32), mode="F").save(path)
    with pytest.raises(ValueError, match="negative"):
        load_image(path)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_rgb_stays_16_bit(tmp_path, rng, ext):
    import cv2

    rgb16 = rng.integers(0, 65535 - 300, (20, 30, 3), dtype=np.uint16)
    src = tmp_path / f"in{ext}"
    cv2.imwrite(str(src), rgb16[..., ::-1])
    loaded = load_image(src)
    assert loaded.mode == "RGB;16"
    back = loaded.to_output(loaded.rgb)
    assert back.dtype == np.uint16
    assert_array_equal(back, rgb16)
    bumped = np.clip(loaded.rgb.astype(int) + 1, 0, 255).astype(np.uint8)
    dest = tmp_path / f"out{ext}"
    save_image(loaded.to_output(bumped), dest)
    written = cv2.imread(str(dest), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert written.dtype == np.uint16
    moved = loaded.rgb < 255
    assert_array_equal(written[moved].astype(int), rgb16[moved].astype(int) + 257)


def test_16_bit_rgb_through_synthesize(tmp_path, rng, monkeypatch):
    import cv2

    monkeypatch.setattr("pixelfes.pipeline.synthesize_rgb", lambda rgb, *a, **k: rgb.copy())
    rgb16 = rng.integers(0, 65535, (20, 30, 3), dtype=np.uint16)
    src = tmp_path / "in.png"
    cv2.imwrite(str(src), rgb16[..., ::-1])
    assert main(["synthesize", str(src), "--to", "happy", "-o", str(tmp_path / "o.png"), "-q"]) == 0
    assert_array_equal(cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED)[..., ::-1], rgb16)


def test_animated_gif_warns_that_one_frame_is_used(tmp_path, capsys, monkeypatch):
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue", "green")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.warns(ImageWarning, match="3 frames"):
        load_image(path)
    monkeypatch.setattr("pixelfes.pipeline.synthesize_rgb", lambda rgb, *a, **k: rgb.copy())
    assert main(["synthesize", str(path), "--to", "happy", "-o", str(tmp_path / "o.png"), "-q"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "frames" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "ImageWarning" not in lines[0]


def test_single_frame_images_do_not_warn(tmp_path):
    path = tmp_path / "still.gif"
    Image.new("RGB", (8, 8), "red").save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image(path)


@pytest.mark.parametrize("command, needle", [
    (["train", "--data", "D", "--to", "happy", "--lam", "-1", "-o", "m.safetensors"], "lam must be"),
    (["train", "--model", "pixel-kr", "--data", "D", "--to", "happy", "--sigma", "0",
      "-o", "m.safetensors"], "sigma"),
    (["train", "--model", "mr", "--data", "D", "--to", "happy", "--k", "0", "-o", "m.safetensors"], "k"),
    (["cv", "--data", "D", "--to", "happy", "--lams=-1,1"], "--lams must be positive"),
    (["cv", "--data", "D", "--to", "happy", "--sigmas", "0"], "--sigmas must be positive"),
    (["cv", "--data", "D", "--to", "happy", "--plot", "curve.xyz"], "'.xyz'"),
    (["evaluate", "--data", "D", "--to", "happy", "--report", "taken.txt"], "is a file"),
])
def test_model_parameters_are_checked_before_any_work(command, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken.txt").write_text("x")
    assert main(command) == 1
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and "not found" not in err
