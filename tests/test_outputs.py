"""Nothing lost: output names planned before any work, no silent overwrite, honest counts.

The face pipeline is replaced by a fake (adds 1 to every pixel, counts its calls) so these
tests check the file handling alone, fast; test_pipeline.py runs the real thing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

import pixelfes
from pixelfes.cli import main
from pixelfes.outputs import OutputError, distinct_stems, synthesis_outputs


@pytest.fixture
def fake_synth(monkeypatch):
    """Replace the face pipeline: +1 on every pixel; ``calls`` counts the photos processed."""
    calls: list[int] = []

    def synth(rgb, model, strength=1.0, **kwargs):
        calls.append(1)
        return np.clip(rgb.astype(np.int16) + 1, 0, 255).astype(np.uint8)

    monkeypatch.setattr("pixelfes.pipeline.synthesize_rgb", synth)
    return calls


@pytest.fixture
def model_file(tmp_path):
    model = pixelfes.PixelRR().fit(np.zeros((2, 8, 8, 3), np.uint8), np.full((2, 8, 8, 3), 9, np.uint8))
    model.info.update(source="neutral", target="happy")
    return model.save(tmp_path / "tiny.safetensors")


def _photo(path: Path, value: int = 100, size=(24, 20)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def _synth(*args: str) -> list[str]:
    return ["synthesize", *args, "--to", "happy", "-q"]


def test_distinct_stems_add_folders_then_extensions():
    assert distinct_stems([Path("a/photo.png"), Path("b/photo.png"), Path("c.jpg")]) == \
        ["a_photo", "b_photo", "c"]
    names = distinct_stems([Path("d/x.png"), Path("d/x.jpg")])
    assert len(set(names)) == 2 and all(n.endswith(("_png", "_jpg")) for n in names)


def test_same_base_name_in_two_folders_gives_two_files(tmp_path, fake_synth, model_file, capsys):
    a = _photo(tmp_path / "a" / "photo.png", 10)
    b = _photo(tmp_path / "b" / "photo.png", 200)
    out = tmp_path / "out"
    assert main(_synth(str(a), str(b), "--model", str(model_file), "-o", f"{out}/")) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["a_photo_happy.png", "b_photo_happy.png"]
    assert np.asarray(Image.open(out / "a_photo_happy.png"))[0, 0, 0] == 11
    assert np.asarray(Image.open(out / "b_photo_happy.png"))[0, 0, 0] == 201
    assert "wrote 2 file(s) for 2 of 2 photo(s)" in capsys.readouterr().err


def test_the_same_photo_twice_is_done_once(tmp_path, fake_synth, model_file):
    a = _photo(tmp_path / "a.png")
    assert main(_synth(str(a), str(a), "--model", str(model_file), "-o", str(tmp_path / "o.png"))) == 0
    assert len(fake_synth) == 1


def test_output_over_the_input_is_refused_before_any_work(tmp_path, fake_synth, model_file, capsys):
    x = _photo(tmp_path / "x.png", 50)
    before = x.read_bytes()
    assert main(_synth(str(x), "--model", str(model_file), "-o", str(x))) == 1
    err = capsys.readouterr().err
    assert "one of the inputs" in err and "--overwrite" in err
    assert x.read_bytes() == before and fake_synth == []
    assert main(_synth(str(x), "--model", str(model_file), "-o", str(x), "--overwrite")) == 0
    assert np.asarray(Image.open(x))[0, 0, 0] == 51


def test_existing_output_is_refused_unless_overwrite(tmp_path, fake_synth, model_file, capsys):
    x = _photo(tmp_path / "x.png")
    out = _photo(tmp_path / "out.png", 7)
    assert main(_synth(str(x), "--model", str(model_file), "-o", str(out))) == 1
    assert "already exists" in capsys.readouterr().err and fake_synth == []
    assert np.asarray(Image.open(out))[0, 0, 0] == 7


def test_one_existing_output_among_many_stops_everything(tmp_path, fake_synth, model_file):
    photos = [_photo(tmp_path / f"p{i}.png") for i in range(3)]
    out = tmp_path / "out"
    _photo(out / "p1_happy.png", 7)
    assert main(_synth(*map(str, photos), "--model", str(model_file), "-o", str(out))) == 1
    assert fake_synth == [] and sorted(p.name for p in out.iterdir()) == ["p1_happy.png"]


def test_one_photo_into_a_folder_with_trailing_slash(tmp_path, fake_synth, model_file):
    x = _photo(tmp_path / "x.jpg")
    out = tmp_path / "new"
    assert main(_synth(str(x), "--model", str(model_file), "-o", f"{out}/")) == 0
    assert [p.name for p in out.iterdir()] == ["x_happy.jpg"]


def test_many_photos_into_a_file_name_is_refused_and_creates_nothing(tmp_path, fake_synth, model_file, capsys):
    photos = [_photo(tmp_path / f"p{i}.png") for i in range(2)]
    target = tmp_path / "x.jpg"
    assert main(_synth(*map(str, photos), "--model", str(model_file), "-o", str(target))) == 1
    assert "give a folder" in capsys.readouterr().err
    assert not target.exists() and fake_synth == []


@pytest.mark.parametrize("extra, needle", [
    (["--quality", "0"], "--quality"),
    (["--quality", "101"], "--quality"),
    (["--strength", "1e9"], "--strength"),
    (["--strength", "-1"], "--strength"),
    (["--strength", "nan"], "--strength"),
    (["--max-faces", "0"], "--max-faces"),
    (["--min-face", "-3"], "--min-face"),
])
def test_bad_options_fail_before_any_work(tmp_path, fake_synth, model_file, capsys, extra, needle):
    x = _photo(tmp_path / "x.png")
    out = tmp_path / "o.png"
    assert main(_synth(str(x), "--model", str(model_file), "-o", str(out), *extra)) == 1
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert fake_synth == [] and not out.exists()


def test_bad_output_extension_fails_before_any_work(tmp_path, fake_synth, model_file, capsys):
    x = _photo(tmp_path / "x.png")
    assert main(_synth(str(x), "--model", str(model_file), "-o", str(tmp_path / "out.xyz"))) == 1
    assert "'.xyz'" in capsys.readouterr().err and fake_synth == []
    with pytest.raises(OutputError, match="does not exist"):
        synthesis_outputs([x], tmp_path / "nope" / "o.png", ["happy"], grid=False)


def test_summary_counts_files_really_written(tmp_path, fake_synth, model_file, capsys):
    good = _photo(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "out"
    assert main(_synth(str(good), str(bad), "--model", str(model_file), "-o", str(out))) == 1
    err = capsys.readouterr().err
    assert "wrote 1 file(s) for 1 of 2 photo(s)" in err and "bad.png" in err


def test_a_folder_given_as_a_photo_says_so(tmp_path, fake_synth, model_file, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    assert main(_synth(str(folder), "--model", str(model_file), "-o", str(tmp_path / "o.png"))) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "not found" not in err


# -- apply -------------------------------------------------------------------------------
def test_apply_same_base_names_and_no_overwrite_of_inputs(tmp_path, model_file, capsys):
    d = tmp_path / "d"
    a = _photo(tmp_path / "a" / "001.png", 10, (8, 8))
    b = _photo(tmp_path / "b" / "001.png", 20, (8, 8))
    assert main(["apply", str(model_file), str(a), str(b), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_001.png", "b_001.png"]
    crop = _photo(d / "001.png", 30, (8, 8))
    before = crop.read_bytes()
    assert main(["apply", str(model_file), str(crop), "-o", str(d), "-q"]) == 1
    assert "one of the inputs" in capsys.readouterr().err and crop.read_bytes() == before
    assert main(["apply", str(model_file), str(crop), "-o", str(d), "-q", "--overwrite"]) == 0
    model = pixelfes.load(model_file)
    assert_array_equal(np.asarray(Image.open(crop)), model.predict(np.full((1, 8, 8, 3), 30, np.uint8))[0])


def test_apply_takes_a_model_name_and_checks_strength(tmp_path, model_file, capsys):
    crop = _photo(tmp_path / "c.png", 30, (128, 128))
    assert main(["apply", "neutral-to-happy-pixel-rr", str(crop), "-o", str(tmp_path / "o"), "-q"]) == 0
    assert main(["apply", str(model_file), str(crop), "-o", str(tmp_path / "o2"), "--strength", "5"]) == 1
    assert "--strength must be in [0, 3]" in capsys.readouterr().err


def test_apply_into_a_file_name_is_refused(tmp_path, model_file, capsys):
    crop = _photo(tmp_path / "c.png", 30, (8, 8))
    assert main(["apply", str(model_file), str(crop), "-o", str(tmp_path / "x.png"), "-q"]) == 1
    assert "names a file" in capsys.readouterr().err and not (tmp_path / "x.png").exists()


def test_max_pixels_before_or_after_the_command(tmp_path, capsys):
    photo = _photo(tmp_path / "p.png", 10, (100, 100))
    for args in (["--max-pixels", "5000", "synthesize", str(photo)],
                 ["synthesize", str(photo), "--max-pixels", "5000"]):
        assert main([*args, "--to", "happy", "-o", str(tmp_path / "o.png"), "-q"]) == 1
        assert "pixel budget of 5,000" in capsys.readouterr().err
