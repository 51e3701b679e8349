"""One validation of model files: every malformed field is a ModelFileError naming file and field.

Each damaged file is also put in the user's model folder: ``pixelfes models`` still works
(one warning line), ``info`` and ``models --add`` refuse it without a traceback.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import pixelfes
from conftest import rewrite_model
from pixelfes import ModelFileError
from pixelfes.cli import main
from pixelfes.modelfile import read_metadata, validate_metadata


def _set(path, value):
    """A meta edit setting ``meta[a][b]... = value`` (``path`` "a.b"), or deleting it (value ...)."""
    keys = path.split(".")

    def edit(meta):
        obj = meta
        for k in keys[:-1]:
            obj = obj.setdefault(k, {})
        if value is Ellipsis:
            del obj[keys[-1]]
        else:
            obj[keys[-1]] = value
        return meta
    return edit


def _drop_tensor(name):
    return lambda t: {k: v for k, v in t.items() if k != name}


CASES = {
    # id: (rewrite_model kwargs, text the error must contain)
    "params-a-list": ({"meta_edit": _set("params", [1, 2])}, "params"),
    "params-unknown-key": ({"meta_edit": _set("params.bogus", 1)}, "'bogus'"),
    "params-lam-a-string": ({"meta_edit": _set("params.lam", "abc")}, "params.lam"),
    "params-lam-negative": ({"meta_edit": _set("params.lam", -1.0)}, "lam"),
    "metadata-a-list": ({"raw_meta": "[1, 2]"}, "metadata"),
    "metadata-a-string": ({"raw_meta": '"hello"'}, "metadata"),
    "metadata-not-json": ({"raw_meta": "{oops"}, "corrupt"),
    "metadata-deep-nesting": ({"raw_meta": "[" * 100000 + "]" * 100000}, "metadata"),
    "info-a-string": ({"meta_edit": _set("info", "hello")}, "info"),
    "info-source-a-number": ({"meta_edit": _set("info.source", 3)}, "info.source"),
    "info-training-a-list": ({"meta_edit": _set("info.training", [1])}, "info.training"),
    "missing-learned": ({"meta_edit": _set("learned", ...)}, "learned"),
    "missing-params": ({"meta_edit": _set("params", ...)}, "params"),
    "missing-sha256": ({"meta_edit": _set("sha256", ...)}, "sha256"),
    "missing-tensor": ({"tensors_edit": _drop_tensor("coef")}, "coef"),
    "learned-a-string": ({"meta_edit": _set("learned", "x")}, "learned"),
    "image-shape-mismatch": ({"meta_edit": _set("learned.image_shape", [16, 16, 3])}, "do not fit"),
    "image-shape-strings": ({"meta_edit": _set("learned.image_shape", ["a", 8, 3])}, "image_shape"),
    "image-shape-two-values": ({"meta_edit": _set("learned.image_shape", [8, 8])}, "image_shape"),
    "image-shape-huge": ({"meta_edit": _set("learned.image_shape", [10**6, 10**6, 3])}, "image_shape"),
    "image-shape-4-channels": ({"meta_edit": _set("learned.image_shape", [8, 8, 4])}, "image_shape"),
    "n-samples-negative": ({"meta_edit": _set("learned.n_samples_seen", -1)}, "n_samples_seen"),
    "model-type-unknown": ({"meta_edit": _set("model_type", "nope")}, "model_type"),
    "model-type-a-number": ({"meta_edit": _set("model_type", 3)}, "model_type"),
    "model-type-other-class": ({"meta_edit": _set("model_type", "rr")}, "'train_inputs'"),
    "format-version-3": ({"meta_edit": _set("format_version", 3)}, "version 3"),
    "format-version-true": ({"meta_edit": _set("format_version", True)}, "version True"),
    "format-foreign": ({"meta_edit": _set("format", "other")}, "not a pixelfes model"),
    "precision-bogus": ({"meta_edit": _set("precision", "int4")}, "precision"),
    "sha256-wrong": ({"meta_edit": _set("sha256", "0" * 64)}, "checksum"),
    "sha256-a-number": ({"meta_edit": _set("sha256", 5)}, "sha256"),
    "tensor-nan": ({"tensors_edit": lambda t: {**t, "coef": np.full_like(t["coef"], np.nan)}}, "NaN"),
    "tensor-wrong-shape": ({"tensors_edit": lambda t: {**t, "coef": t["coef"].reshape(-1)[:10]}},
                           "do not fit"),
    "tensor-changed-no-resign": ({"tensors_edit": lambda t: {**t, "coef": t["coef"] + 1},
                                  "resign": False}, "checksum"),
    "alignment-a-list": ({"meta_edit": _set("alignment", [1])}, "alignment"),
    "alignment-size-small": ({"meta_edit": _set("alignment", {"size": 4})}, "alignment.size"),
    "alignment-size-float": ({"meta_edit": _set("alignment", {"size": 8.5})}, "alignment.size"),
    "alignment-margin-negative": ({"meta_edit": _set("alignment", {"margin": -1})}, "alignment.margin"),
    "alignment-margin-string": ({"meta_edit": _set("alignment", {"margin": "x"})}, "alignment.margin"),
    "alignment-template-number": ({"meta_edit": _set("alignment", {"template": 3})},
                                  "alignment.template"),
    "alignment-size-mismatch": ({"meta_edit": _set("alignment", {"size": 16, "margin": 1.0,
                                                                  "template": "t"})}, "16"),
    "alignment-lacks-template": ({"meta_edit": _set("alignment", {"size": 8, "margin": 1.0})},
                                 "template"),
    "info-alignment-bad": ({"meta_edit": _set("info.alignment", {"size": "big"})},
                           "info.alignment.size"),
}


@pytest.fixture
def user_dir(_own_model_folder):
    return _own_model_folder


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_model_file(case, tiny_model_path, tmp_path, user_dir, capsys):
    kwargs, needle = CASES[case]
    bad = rewrite_model(tiny_model_path, tmp_path / f"bad-{case}.safetensors", **kwargs)
    # the API: only ModelFileError, naming the file and the field
    with pytest.raises(ModelFileError) as err:
        pixelfes.load(bad)
    assert bad.name in str(err.value) and needle in str(err.value)
    # `info`: an error line, no traceback
    capsys.readouterr()
    assert main(["info", str(bad)]) == 1
    out = capsys.readouterr().err
    assert out.startswith("error:") and bad.name in out and "Traceback" not in out
    # `models --add` refuses it and installs nothing
    assert main(["models", "--add", str(bad), "--name", "x"]) == 1
    assert not (user_dir / "x.safetensors").exists()
    # in the user's folder: skipped with one warning line, the rest still listed
    shutil.copy(bad, user_dir / bad.name)
    capsys.readouterr()
    assert main(["models", "--json"]) == 0
    captured = capsys.readouterr()
    names = {r["name"] for r in json.loads(captured.out)}
    assert "neutral-to-happy" in names and bad.stem not in names
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and bad.name in warnings[0]
    assert "Traceback" not in captured.err


def test_valid_alignment_field_is_accepted(tiny_model_path, tmp_path):
    good = rewrite_model(tiny_model_path, tmp_path / "aligned.safetensors",
                         meta_edit=_set("alignment", {"size": 8, "margin": 1.5, "template": "t"}))
    assert read_metadata(good)["alignment"]["size"] == 8
    assert pixelfes.load(good).image_shape_ == (8, 8, 3)


def test_bundled_models_pass_the_validation():
    from pixelfes.zoo import BUNDLED_DIR

    for path in BUNDLED_DIR.glob("*.safetensors"):
        pixelfes.load(path)


def test_validate_metadata_names_the_field_of_a_dict():
    with pytest.raises(ModelFileError, match=r"m\.safetensors: bad model file: params must be a JSON object"):
        validate_metadata({"format": "pixelfes-model", "format_version": 1, "model_type": "pixel-rr",
                           "params": "x", "learned": {}, "sha256": "0" * 64}, "m.safetensors")


def test_a_bad_file_in_the_folder_does_not_break_synthesize(tmp_path, user_dir, tiny_model_path,
                                                            monkeypatch, capsys):
    (user_dir / "broken.safetensors").write_bytes(b"\x00" * 100)
    rewrite_model(tiny_model_path, user_dir / "badinfo.safetensors", meta_edit=_set("info", "s"))
    monkeypatch.setattr("pixelfes.pipeline.synthesize_rgb", lambda rgb, *a, **k: rgb.copy())
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(photo)
    assert main(["synthesize", str(photo), "--to", "happy", "-o", str(tmp_path / "o.png"), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: skipped a model file that cannot be used") == 2
    assert "Traceback" not in err
    assert (tmp_path / "o.png").is_file()


def test_info_takes_the_names_models_lists(capsys):
    assert main(["info", "neutral-to-happy-pixel-rr"]) == 0
    assert json.loads(capsys.readouterr().out)["model_type"] == "pixel-rr"
    assert main(["info", "no-such-model"]) == 1
    assert "known models" in capsys.readouterr().err


def test_info_on_a_folder_says_folder(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "does not exist" not in err


def test_user_model_check_is_cached_per_file_version(tiny_model_path, user_dir, monkeypatch):
    from pixelfes import zoo

    shutil.copy(tiny_model_path, user_dir / "mine.safetensors")
    calls = []
    real = zoo.load_model
    monkeypatch.setattr(zoo, "load_model", lambda p: calls.append(p) or real(p))
    zoo._verified.cache_clear()
    zoo.list_models()
    zoo.list_models()
    assert len(calls) == 1
    os.utime(user_dir / "mine.safetensors", ns=(1, 1))
    zoo.list_models()
    assert len(calls) == 2
