"""Fuzzing the three kinds of files users hand pixelfes: images, model files, CSV manifests.

Each is mutated by truncation, byte flips, overwritten bytes and header/metadata edits
(Hypothesis; seeded and derandomised, so CI runs the same cases every time). The only
exceptions allowed are the documented ones:

- images (``load_image``, ``read_rgb``, ``read_crop``): ``ValueError`` (unreadable,
  ``ImageTooLargeError`` over the budget); an image that loads must give its result
  back and save (``ValueError`` only for a size its format cannot store);
- model files (``load``): ``ModelFileError``; a model that loads must predict; the model
  folder listing never raises (bad files are skipped with a ``ModelFileWarning``);
- CSV manifests (``open_dataset``, pairs) and aligned folders' ``manifest.json``
  (``open_dataset``, ``load_pairs``): ``ValueError`` (``DatasetLayoutError``), and
  ``FileNotFoundError`` / ``IsADirectoryError`` when a crop the manifest names is not a file.

``PIXELFES_FUZZ_EXAMPLES`` sets the examples per test (default small, for CI);
``scripts/fuzz.py`` runs longer, with fresh seeds.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import rewrite_model  # noqa: E402
from pixelfes import GlobalRR, MaskedRR, ModelFileError, PixelKR, PixelRR  # noqa: E402
from pixelfes.imageio import load_image, save_image, set_max_pixels  # noqa: E402

EXAMPLES = int(os.environ.get("PIXELFES_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize=os.environ.get("PIXELFES_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
BUDGET = 2_000_000  # small, so header edits to huge sizes are refused quickly


# -- mutations -----------------------------------------------------------------------------
@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes, header: int = 64) -> bytes:
    """``data`` truncated, bit-flipped, overwritten or with header integers rewritten."""
    out = bytearray(data)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        if not out:
            break
        kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "header-int", "insert"]))
        pos = draw(st.integers(0, len(out) - 1))
        if kind == "truncate":
            del out[pos:]
        elif kind == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            out[pos : pos + len(chunk)] = chunk
        elif kind == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:  # a 2- or 4-byte integer in the header: sizes, counts, offsets
            at = draw(st.integers(0, max(0, min(header, len(out)) - 4)))
            fmt = draw(st.sampled_from([">I", "<I", ">H", "<H"]))
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 13000, 65536])
                         if fmt.endswith("I") else st.sampled_from([0, 1, 0xFFFF, 13000]))
            out[at : at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(out)


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    """A PNG with its IHDR width/height replaced and the chunk's CRC fixed (a valid header)."""
    ihdr = bytearray(data[12:29])
    ihdr[4:12] = struct.pack(">II", width, height)
    return data[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(bytes(ihdr))) + data[33:]


# -- images --------------------------------------------------------------------------------
def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _image_seeds() -> dict[str, bytes]:
    import cv2

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (12, 10, 3), dtype=np.uint8)
    pil = Image.fromarray(rgb)
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:])
    exif = Image.Exif()
    exif[0x0112] = 6
    ok, png16 = cv2.imencode(".png", rng.integers(0, 65535, (9, 7, 3), dtype=np.uint16))
    ok2, tif16 = cv2.imencode(".tif", rng.integers(0, 65535, (9, 7, 3), dtype=np.uint16))
    assert ok and ok2
    return {
        "rgb.png": _encode(pil, "PNG"),
        "gray.png": _encode(pil.convert("L"), "PNG"),
        "rgba.png": _encode(pil.convert("RGBA"), "PNG"),
        "palette.png": _encode(pil.convert("P"), "PNG"),
        "gray16.png": _encode(Image.fromarray(rng.integers(0, 65535, (9, 7), dtype=np.uint16)), "PNG"),
        "rgb16.png": png16.tobytes(),
        "rgb16.tif": tif16.tobytes(),
        "float.tif": _encode(Image.fromarray(rng.random((9, 7), dtype=np.float32), mode="F"), "TIFF"),
        "rgb.jpg": _encode(pil, "JPEG", exif=exif.tobytes()),
        "cmyk.jpg": _encode(pil.convert("CMYK"), "JPEG"),
        "anim.gif": gif.getvalue(),
        "rgb.bmp": _encode(pil, "BMP"),
        "rgb.webp": _encode(pil, "WEBP"),
        "rgb.tif": _encode(pil, "TIFF", compression="tiff_lzw"),
    }


IMAGE_SEEDS = _image_seeds()


@st.composite
def mutated_images(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(IMAGE_SEEDS)))
    data = IMAGE_SEEDS[name]
    if name.endswith(".png") and draw(st.integers(0, 3)) == 0:  # valid header, any size
        data = _png_with_size(data, draw(st.sampled_from([0, 1, 7, 5000, 13000, 2**31 - 1])),
                              draw(st.sampled_from([0, 1, 9, 5000, 13000, 2**31 - 1])))
    if draw(st.integers(0, 9)) > 0:
        data = draw(byte_mutations(data))
        if name.endswith(".png") and draw(st.booleans()):
            data = _fix_png_crcs(data)  # past the CRC check, into the decoder
    return name, data


def _fix_png_crcs(data: bytes) -> bytes:
    """Recompute every chunk's CRC of a (possibly damaged) PNG, as far as its chunks parse."""
    out = bytearray(data)
    pos = 8
    while pos + 12 <= len(out):
        length = struct.unpack(">I", out[pos : pos + 4])[0]
        end = pos + 8 + length
        if end + 4 > len(out):
            break
        out[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(out[pos + 4 : end])))
        pos = end + 4
    return bytes(out)


def _check_image_file(path: Path, out_dir: Path) -> str:
    """The image oracle; returns "refused" or "read"."""
    from pixelfes.crops import read_crop
    from pixelfes.imageio import read_rgb

    try:
        loaded = load_image(path)
    except ValueError:
        outcome = "refused"
    else:
        back = loaded.to_output(loaded.rgb)
        changed = loaded.to_output(np.ascontiguousarray(255 - loaded.rgb))
        outcome = "read"
        for img, dest in ((back, out_dir / "o.png"), (changed, out_dir / f"o{path.suffix}")):
            try:
                save_image(img, dest)
            except ValueError as exc:  # documented: a size the format cannot store
                assert "stores at most" in str(exc), exc
                outcome = "read, format too small to write it"
    for reader in (read_rgb, read_crop):
        try:
            reader(path)
        except ValueError:
            pass
    return outcome


@FUZZ
@given(case=mutated_images())
def test_fuzz_images(case, tmp_path_factory):
    name, data = case
    folder = tmp_path_factory.mktemp("img")
    path = folder / name
    path.write_bytes(data)
    set_max_pixels(BUDGET)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are allowed; exceptions are the test
            event(f"image {name}: {_check_image_file(path, folder)}")
    finally:
        set_max_pixels(None)
        shutil.rmtree(folder, ignore_errors=True)


# -- model files ---------------------------------------------------------------------------
def _model_seeds(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (6, 6, 5, 3), dtype=np.uint8)
    t = np.clip(x.astype(int) + 20, 0, 255).astype(np.uint8)
    seeds = {}
    for cls in (PixelRR, PixelKR, MaskedRR, GlobalRR):
        m = cls().fit(x, t)
        m.info.update(source="neutral", target="happy")
        seeds[cls.model_type] = m.save(folder / f"{cls.model_type}.safetensors")
    from pixelfes.zoo import BUNDLED_DIR

    seeds["shape-texture"] = BUNDLED_DIR / "neutral-to-happy.safetensors"
    return seeds


@pytest.fixture(scope="module")
def model_seeds(tmp_path_factory):
    return _model_seeds(tmp_path_factory.mktemp("model-seeds"))


def _meta_paths(meta: object, prefix: tuple = (), depth: int = 3) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(meta, dict) and depth:
        for k, v in meta.items():
            out += _meta_paths(v, (*prefix, k), depth - 1)
    return out


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=6)


@st.composite
def metadata_edits(draw: st.DrawFn, meta: dict) -> list[tuple[tuple, object]]:
    """Edits ``(key path, new value or ...)`` at existing or new places (``...`` deletes)."""
    paths = _meta_paths(meta)
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths))
        if draw(st.integers(0, 4)) == 0:
            where = (*where[:-1], draw(st.sampled_from(["bogus", "alignment", "size", "margin", ""])))
        value = draw(st.just(...) | JSON_VALUES
                     | st.sampled_from([[8, 8, 3], [1, 1, 1], [9, 9, 3], 0, -1, 1e308, "float16"]))
        edits.append((where, value))
    return edits


def _apply_edits(meta: dict, edits: list[tuple[tuple, object]]) -> dict:
    for where, value in edits:
        obj = meta
        for k in where[:-1]:
            if not isinstance(obj, dict):
                break
            obj = obj.setdefault(k, {})
        if isinstance(obj, dict):
            if value is Ellipsis:
                obj.pop(where[-1], None)
            else:
                obj[where[-1]] = value
    return meta


def _check_model_file(path: Path, user_dir: Path) -> str:
    """The model oracle; returns "refused" or "loaded"."""
    import pixelfes
    from pixelfes import zoo

    try:
        model = pixelfes.load(path)
    except ModelFileError:
        outcome = "refused"
    else:
        h, w, c = model.image_shape_
        kwargs = {}
        if getattr(model, "uses_landmarks", False) or getattr(model, "requires_landmarks", False):
            kwargs["landmarks"] = model.shape_model_.mean_src_[None]
        model.predict(np.zeros((1, h, w, c), np.uint8), **kwargs)
        outcome = "loaded"
    shutil.copy(path, user_dir / path.name)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for entry in zoo.list_models():  # never raises; the listing's fields are usable
            assert isinstance(entry.training, dict) and isinstance(entry.default, bool)
            assert isinstance(entry.model_type, str)
            assert all(v is None or isinstance(v, str) for v in (entry.source, entry.target))
    (user_dir / path.name).unlink()
    return outcome


@st.composite
def mutated_models(draw: st.DrawFn, seeds: dict[str, Path]) -> tuple[str, str, object]:
    kind = draw(st.sampled_from(sorted(seeds)))
    how = draw(st.sampled_from(["bytes", "metadata", "metadata-unsigned"]))
    if how == "bytes":
        return kind, how, draw(byte_mutations(seeds[kind].read_bytes(), header=16))
    from pixelfes.modelfile import read_metadata

    return kind, how, draw(metadata_edits(read_metadata(seeds[kind])))


@FUZZ
@given(data=st.data())
def test_fuzz_model_files(data, model_seeds, tmp_path_factory, monkeypatch):
    kind, how, change = data.draw(mutated_models(model_seeds))
    folder = tmp_path_factory.mktemp("model")
    user_dir = folder / "user"
    user_dir.mkdir()
    monkeypatch.setenv("PIXELFES_MODELS", str(user_dir))
    path = folder / f"fuzz-{kind}.safetensors"
    try:
        if how == "bytes":
            path.write_bytes(change)
        else:
            rewrite_model(model_seeds[kind], path, meta_edit=lambda m: _apply_edits(m, change),
                          resign=how == "metadata")
        event(f"model {kind} {how}: {_check_model_file(path, user_dir)}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- CSV manifests -------------------------------------------------------------------------
def _csv_seed(folder: Path) -> bytes:
    rng = np.random.default_rng(2)
    for name in ("a1", "a2", "b1", "b2"):
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(folder / f"{name}.png")
    return (b"source,target,identity,from,to\n"
            b"a1.png,a2.png,anna,neutral,happy\n"
            b"b1.png,b2.png,ben,neutral,happy\n"
            b'"b1.png","a2.png","x, y",NE,HA\n')


HEADER_NAMES = ["source", "target", "identity", "from", "to", "id", "Source", " target ", "", "x",
                "source", '"source"', "target\x00"]


@st.composite
def mutated_csvs(draw: st.DrawFn, seed: bytes) -> bytes:
    data = seed
    if draw(st.integers(0, 2)) == 0:  # a new header line
        cols = draw(st.lists(st.sampled_from(HEADER_NAMES), min_size=0, max_size=6))
        sep = draw(st.sampled_from([",", ";", "\t"]))
        data = sep.join(cols).encode() + b"\n" + data.split(b"\n", 1)[1]
    if draw(st.integers(0, 3)) == 0:
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b""])) + data
    if draw(st.booleans()):
        data = draw(byte_mutations(data, header=40))
    if draw(st.integers(0, 3)) == 0:
        data += draw(st.sampled_from([b'"unterminated', b"\x00\x00", b"\n\n\n", b",,,,,,,,",
                                      b"/abs/path.png,../up.png,p\n", "é,ü\n".encode("latin-1")]))
    return data


@pytest.fixture(scope="module")
def csv_seed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv-seed")
    return folder, _csv_seed(folder)


@FUZZ
@given(data=st.data())
def test_fuzz_csv_manifests(data, csv_seed):
    from pixelfes.datasets import open_dataset

    folder, seed = csv_seed
    path = folder / "pairs.csv"
    path.write_bytes(data.draw(mutated_csvs(seed)))
    try:
        ds = open_dataset(path)
    except ValueError:
        event("csv: refused")
        return
    event(f"csv: read ({'pairs' if ds.explicit_pairs else 'no pairs'})")
    for from_, to in ((None, None), ("neutral", "happy")):
        try:
            ds.pairs(from_, to)
        except ValueError:
            pass
    ds.identities()


# -- aligned folders (``pixelfes prepare`` output): manifest.json ------------------------------
def _aligned_seed(folder: Path) -> bytes:
    from pixelfes.datasets.readers import ALIGNED_FORMAT

    rng = np.random.default_rng(3)
    (folder / "crops").mkdir()
    images = []
    for person in ("anna", "ben"):
        for expr in ("neutral", "happy"):
            name = f"crops/{person}_{expr}.png"
            Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / name)
            landmarks = (rng.random((68, 2)) * 16).round(3).tolist()
            images.append({"identity": person, "expression": expr, "file": name,
                           "source": f"/data/{person}/{expr}.jpg", "score": 1.0,
                           "landmarks": landmarks})
    manifest = {"format": ALIGNED_FORMAT, "format_version": 1, "template": "pixelfes-eyes-nose-v1",
                "size": 16, "margin": 1.5, "channels": 3, "layout": "generic", "images": images,
                "pairs": None, "failures": [{"source": "/data/x.jpg", "reason": "no face"}]}
    return json.dumps(manifest).encode()


@pytest.fixture(scope="module")
def aligned_seed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aligned-seed")
    return folder, _aligned_seed(folder)


@FUZZ
@given(data=st.data())
def test_fuzz_aligned_manifests(data, aligned_seed):
    from pixelfes.datasets import load_pairs, open_dataset

    folder, seed = aligned_seed
    if data.draw(st.booleans()):
        text = data.draw(byte_mutations(seed, header=40))
    else:
        meta = json.loads(seed)
        text = json.dumps(_apply_edits(meta, data.draw(metadata_edits(meta)))).encode()
    (folder / "manifest.json").write_bytes(text)
    try:
        ds = open_dataset(folder)
    except ValueError:
        event("aligned: refused")
        return
    try:
        load_pairs(ds, "neutral", "happy", progress=False)
        event("aligned: pairs loaded")
    except ValueError:
        event("aligned: read, pairs refused")
    except (FileNotFoundError, IsADirectoryError):  # documented: a crop the manifest names is gone
        event("aligned: read, a crop missing")


# -- the seeds themselves are valid (so the fuzz starts from real files) ---------------------
def test_every_seed_is_readable(tmp_path, model_seeds):
    set_max_pixels(BUDGET)
    try:
        for name, data in IMAGE_SEEDS.items():
            (tmp_path / name).write_bytes(data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert _check_image_file(tmp_path / name, tmp_path) == "read", name
    finally:
        set_max_pixels(None)
    import pixelfes

    for path in model_seeds.values():
        pixelfes.load(path)
    assert json.loads(json.dumps(sorted(IMAGE_SEEDS)))


# -- what the fuzz found, kept as plain regression tests ------------------------------------
@pytest.mark.parametrize("mode, fmt", [("CMYK", "PNG"), ("CMYK", "BMP"), ("LA", "JPEG"),
                                       ("I", "PNG"), ("YCbCr", "GIF"), ("PA", "PNG")])
def test_found_modes_a_format_cannot_hold_are_converted(tmp_path, mode, fmt):
    ext = {"PNG": ".png", "BMP": ".bmp", "JPEG": ".jpg", "GIF": ".gif"}[fmt]
    save_image(Image.new(mode, (6, 4)), tmp_path / f"o{ext}")
    assert Image.open(tmp_path / f"o{ext}").size == (6, 4)


def test_found_gif_canvas_too_tall_for_gif_is_a_clear_error(tmp_path):
    tall = Image.new("P", (8, 65543))
    with pytest.raises(ValueError, match="GIF stores at most 65535 px"):
        save_image(tall, tmp_path / "o.gif")


def test_found_decoder_errors_are_value_errors(tmp_path):
    from pixelfes.crops import read_crop

    path = tmp_path / "t.webp"
    path.write_bytes(IMAGE_SEEDS["rgb.webp"][:40])
    with pytest.raises(ValueError, match="cannot read"):
        read_crop(path)


def test_found_precision_of_the_wrong_type(model_seeds, tmp_path):
    bad = rewrite_model(model_seeds["mr"], tmp_path / "p.safetensors",
                        meta_edit=lambda m: {**m, "precision": []})
    with pytest.raises(ModelFileError, match="precision"):
        pixelfes_load(bad)


def test_found_csv_field_over_the_csv_limit(tmp_path):
    from pixelfes.datasets import DatasetLayoutError, open_dataset

    path = tmp_path / "pairs.csv"
    path.write_text("source,target\n" + "a" * 200_000 + ",b\n")
    with pytest.raises(DatasetLayoutError, match="not a readable CSV"):
        open_dataset(path)


@pytest.mark.parametrize("edit, field", [
    (lambda m: m["images"][0].pop("landmarks"), "landmarks"),
    (lambda m: m["images"][1].update(identity=3), "identity"),
    (lambda m: m.update(images={}), "images"),
    (lambda m: m.update(channels=[3]), "channels"),
    (lambda m: m.update(pairs=[["a"]]), "pairs"),
    (lambda m: m.update(failures=[1]), "failures"),
])
def test_found_damaged_aligned_manifests(aligned_seed, edit, field):
    from pixelfes.datasets import DatasetLayoutError, open_dataset

    folder, seed = aligned_seed
    meta = json.loads(seed)
    edit(meta)
    (folder / "manifest.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetLayoutError, match=field):
        open_dataset(folder)


def pixelfes_load(path):
    import pixelfes

    return pixelfes.load(path)


@pytest.mark.parametrize("text", [b"9", b"[1]", b'"x"', b"[" * 50000 + b"]" * 50000, b"\xff"])
def test_found_a_manifest_that_is_not_an_object_is_not_an_aligned_folder(tmp_path, text):
    from pixelfes.datasets import detect_layout

    (tmp_path / "manifest.json").write_bytes(text)
    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    try:
        layout = detect_layout(tmp_path)
    except ValueError:
        return
    assert layout != "aligned"
