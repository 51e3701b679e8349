"""The CLI end to end on generated crops: train, apply, info, and its error messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

import pixelfes
from pixelfes.cli import main


@pytest.fixture
def crop_dirs(tmp_path, rng):
    """Eight 12x10 RGB pairs: the target is a brightened copy of the source."""
    src, tgt = tmp_path / "neutral", tmp_path / "happy"
    src.mkdir()
    tgt.mkdir()
    for i in range(8):
        x = rng.integers(0, 200, size=(12, 10, 3), dtype=np.uint8)
        Image.fromarray(x).save(src / f"p{i}.png")
        Image.fromarray((x + 40).astype(np.uint8)).save(tgt / f"p{i}.png")
    return src, tgt


@pytest.mark.parametrize("kind", ["pixel-rr", "pixel-kr", "mr", "rr"])
def test_train_apply_info(tmp_path, crop_dirs, capsys, kind):
    src, tgt = crop_dirs
    model_path = tmp_path / "m.safetensors"
    assert main(["train", "--model", kind, "--source", str(src), "--target", str(tgt),
                 "-o", str(model_path), "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pairs"] == 8 and out["type"] == kind
    model = pixelfes.load(model_path)
    assert model.image_shape_ == (12, 10, 3)

    assert main(["apply", str(model_path), *map(str, sorted(src.iterdir())), "-o",
                 str(tmp_path / "out"), "-q"]) == 0
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == [f"p{i}.png" for i in range(8)]
    x0 = np.asarray(Image.open(src / "p0.png"))
    assert_array_equal(np.asarray(Image.open(written[0])), model.predict(x0[None])[0])

    assert main(["apply", str(model_path), str(src / "p0.png"), "-o", str(tmp_path / "s0"),
                 "--strength", "0", "-q"]) == 0
    assert_array_equal(np.asarray(Image.open(tmp_path / "s0" / "p0.png")), x0)

    capsys.readouterr()
    assert main(["info", str(model_path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model_type"] == kind and info["parameters"] == model.n_parameters


def test_train_lists_unmatched_and_unreadable_files_and_writes_nothing(tmp_path, crop_dirs, capsys):
    src, tgt = crop_dirs
    (tgt / "p0.png").unlink()
    (src / "extra.png").write_bytes(b"not an image")
    out = tmp_path / "m.safetensors"
    assert main(["train", "--source", str(src), "--target", str(tgt), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "p0.png" in err and "extra.png" in err
    assert not out.exists()
    (src / "p0.png").unlink()
    (tgt / "extra.png").write_bytes(b"not an image either")
    assert main(["train", "--source", str(src), "--target", str(tgt), "-o", str(out), "-q"]) == 1
    assert "unreadable" in capsys.readouterr().err and not out.exists()


def test_apply_reports_bad_crop_and_finishes_the_others(tmp_path, crop_dirs, capsys):
    src, tgt = crop_dirs
    model_path = tmp_path / "m.safetensors"
    main(["train", "--source", str(src), "--target", str(tgt), "-o", str(model_path), "-q"])
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "small.png")
    code = main(["apply", str(model_path), str(tmp_path / "small.png"), str(src / "p1.png"),
                 "-o", str(tmp_path / "out"), "-q"])
    assert code == 1
    assert "small.png" in capsys.readouterr().err
    assert (tmp_path / "out" / "p1.png").exists() and not (tmp_path / "out" / "small.png").exists()


def test_help_teaches(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "examples:" in capsys.readouterr().out


def test_synthesize_help_lists_the_units_without_loading_them_for_other_runs(capsys):
    """The units are read when help is shown; building the parser (every run) imports no
    part of the action-unit engine (~50 ms of a cold start)."""
    import subprocess
    import sys

    code = "import sys, pixelfes.cli as c; c.build_parser(); print('pixelfes.actions' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
    with pytest.raises(SystemExit):
        main(["synthesize", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "12 lip corner puller (+L/R)" in out and "26 jaw drop" in out


def test_bad_model_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "bad.safetensors").write_bytes(b"xx")
    assert main(["info", str(tmp_path / "bad.safetensors")]) == 1
    assert "bad.safetensors" in capsys.readouterr().err


def test_train_from_a_data_set_folder(tmp_path, capsys):
    """`train --data` on a generic DIR/<person>/<expression>.png set of real face photos."""
    skimage_data = pytest.importorskip("skimage.data")
    face = skimage_data.astronaut()[20:260, 100:340]
    for person, shift in (("p1", 0), ("p2", 6)):
        folder = tmp_path / "data" / person
        folder.mkdir(parents=True)
        img = np.roll(face, shift, axis=1)
        Image.fromarray(img).save(folder / "neutral.png")
        Image.fromarray(np.clip(img.astype(int) + 30, 0, 255).astype(np.uint8)).save(folder / "happy.png")
    out = tmp_path / "m.safetensors"
    assert main(["train", "--data", str(tmp_path / "data"), "--to", "happy", "--size", "64",
                 "--margin", "1", "-o", str(out), "-q"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pairs"] == 2
    model = pixelfes.load(out)
    assert model.image_shape_ == (64, 64, 3)
    assert model.info["source"] == "neutral" and model.info["target"] == "happy"
    assert model.alignment_ == pixelfes.Alignment(size=64, margin=1.0)
    assert main(["info", str(out)]) == 0
    shown = json.loads(capsys.readouterr().out)["alignment"]
    assert shown == {"template": "pixelfes-eyes-nose-v1", "size": 64, "margin": 1.0}
