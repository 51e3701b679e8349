"""Model files: round trip, metadata, and clear errors for damaged or foreign files."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import pixelfes
from conftest import make_pairs
from pixelfes import GlobalRR, MaskedRR, ModelFileError, PixelKR, PixelRR
from pixelfes.modelfile import read_metadata


@pytest.mark.parametrize("cls", [PixelRR, PixelKR, MaskedRR, GlobalRR])
def test_round_trip_float64_is_exact(tmp_path, rng, cls):
    x, t = make_pairs(rng, n=12)
    model = cls().fit(x, t)
    model.info.update(source="neutral", target="happy", template="test-template")
    path = model.save(tmp_path / "m.safetensors", precision="float64")
    loaded = pixelfes.load(path)
    assert type(loaded) is cls and loaded.get_params() == model.get_params()
    assert_array_equal(loaded.predict(x), model.predict(x))
    xf = x.astype(float) / 255
    assert_allclose(loaded.predict(xf), model.predict(xf), atol=1e-12)
    meta = read_metadata(path)
    assert meta["model_type"] == cls.model_type
    assert meta["info"]["target"] == "happy" and meta["info"]["template"] == "test-template"
    assert meta["learned"]["image_shape"] == [6, 5, 3]
    assert meta["pixelfes_version"] == pixelfes.__version__
    assert not list(tmp_path.glob("*.tmp"))  # nothing half-written left behind


def test_float32_and_float16_round_trip_close(tmp_path, rng):
    x, t = make_pairs(rng, n=12)
    model = PixelRR().fit(x, t)
    xf = x.astype(float) / 255
    for precision, tol in (("float32", 1e-6), ("float16", 2e-3)):
        loaded = pixelfes.load(model.save(tmp_path / f"{precision}.safetensors", precision=precision))
        assert_allclose(loaded.predict(xf), model.predict(xf), atol=tol)


def test_truncated_file_is_refused(tmp_path, rng):
    x, t = make_pairs(rng)
    path = PixelRR().fit(x, t).save(tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        pixelfes.load(path)


def test_tampered_tensor_is_refused(tmp_path, rng):
    x, t = make_pairs(rng)
    path = PixelRR().fit(x, t).save(tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        pixelfes.load(path)


def _rewrite_meta(path, **changes):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["pixelfes"])
    meta.update(changes)
    header["__metadata__"]["pixelfes"] = json.dumps(meta)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    path.write_bytes(struct.pack("<Q", len(new)) + new + data[8 + n :])


def test_wrong_version_and_foreign_files_are_refused(tmp_path, rng):
    x, t = make_pairs(rng)
    path = PixelRR().fit(x, t).save(tmp_path / "m.safetensors")
    _rewrite_meta(path, format_version=99)
    with pytest.raises(ModelFileError, match="format version 99"):
        pixelfes.load(path)
    _rewrite_meta(path, format_version=1, model_type="stargan")
    with pytest.raises(ModelFileError, match="unknown model type"):
        pixelfes.load(path)
    from safetensors.numpy import save_file

    save_file({"a": np.zeros(3)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelFileError, match="not a pixelfes model"):
        pixelfes.load(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"hello")
    with pytest.raises(ModelFileError):
        pixelfes.load(tmp_path / "junk.safetensors")
    with pytest.raises(ModelFileError, match="does not exist"):
        pixelfes.load(tmp_path / "missing.safetensors")


def test_failed_save_leaves_existing_file_untouched(tmp_path, rng, monkeypatch):
    x, t = make_pairs(rng)
    path = PixelRR().fit(x, t).save(tmp_path / "m.safetensors")
    before = path.read_bytes()
    import safetensors.numpy

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.numpy, "save_file", boom)
    with pytest.raises(OSError, match="disk full"):
        PixelKR().fit(x, t).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(pixelfes.NotFittedError):
        PixelRR().save(tmp_path / "m.safetensors")
