"""Cold start (issue 13): what a new process loads for its first photo, OpenBLAS's threads in
the command line, and the NumPy replacements that keep ``numpy.ma`` out (the same values)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pixelfes import cli
from pixelfes._nomask import has_duplicate_rows, median

SRC = Path(__file__).resolve().parents[1] / "src"

#: Modules the first photo (neutral -> happy, the bundled learned model, a JPEG in and out)
#: does not need, each once seen in a cold start: scipy/skimage (triangulations now ship),
#: tqdm (bars only when shown), numpy.ma (np.median, np.unique: pixelfes._nomask), numpy's
#: random, zipfile (the triangulations ship as safetensors, not .npz), the action units and
#: the evaluation, the grid (PIL's ImageDraw), Pillow's other image plugins (``Image.preinit``:
#: BMP, GIF, PPM, PNG) and ImageOps (only for a photo turned by its EXIF).
NOT_LOADED = ("scipy", "skimage", "matplotlib", "tqdm", "numpy.ma", "numpy.random", "zipfile",
              "pixelfes.actions", "pixelfes.evaluate", "pixelfes.training", "pixelfes.grid",
              "PIL.PngImagePlugin", "PIL.BmpImagePlugin", "PIL.GifImagePlugin",
              "PIL.PpmImagePlugin", "PIL.TiffImagePlugin", "PIL.ImageDraw", "PIL.ImageOps")
#: ... and through the API, which writes no file of its own: tempfile (the command line's
#: atomic writes need it) and shutil (argparse's help formatter imports it)
NOT_LOADED_API = ("tempfile", "shutil")


def _env(**extra: str) -> dict[str, str]:
    """This environment with ``src`` first on the path and no BLAS thread variable set."""
    env = {k: v for k, v in os.environ.items() if k not in cli._BLAS_THREAD_VARS}
    env["PYTHONPATH"] = str(SRC)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """The 640 x 480 astronaut of ``benchmarks/bench_synthesize.py`` (a JPEG, no EXIF)."""
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image

    frame = np.full((480, 640, 3), 200, np.uint8)
    frame[:, 64:576] = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((512, 512)))[16:496]
    path = tmp_path_factory.mktemp("cold") / "astronaut.jpg"
    Image.fromarray(frame).save(path, quality=95)
    return path


def _loaded(code: str, env: dict[str, str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nprint(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


def _unwanted(modules: list[str], names: tuple[str, ...] = NOT_LOADED) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_importing_pixelfes_loads_no_numpy() -> None:
    """``import pixelfes`` (and the command line's module) import no NumPy: each public name
    loads its module when first asked for, so ``cli.main`` can choose OpenBLAS's threads."""
    for code in ("import sys, pixelfes", "import sys, pixelfes.cli"):
        got = _loaded(code, _env())
        assert "numpy" not in got and "pixelfes.pipeline" not in got, code
    import pixelfes

    assert pixelfes.load is pixelfes.modelfile.load_model and pixelfes.PixelRR.model_type == "pixel-rr"
    assert set(pixelfes.__all__) <= set(dir(pixelfes))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pixelfes.nope  # noqa: B018


def test_the_first_photo_loads_none_of_the_heavy_modules(photo, tmp_path) -> None:
    """A new process's first photo, through the API and through ``pixelfes synthesize``."""
    out = tmp_path / "out.jpg"
    api = (f"import sys, pixelfes\npixelfes.synthesize({str(photo)!r}, to='happy')"
           f".save({str(out)!r}, quality=95)")
    assert _unwanted(_loaded(api, _env()), NOT_LOADED + NOT_LOADED_API) == []
    command = (f"import sys\nfrom pixelfes.cli import main\nassert main(['synthesize', "
               f"{str(photo)!r}, '--to', 'happy', '-q', '--overwrite', '-o', {str(out)!r}]) == 0")
    assert _unwanted(_loaded(command, _env())) == []


def test_one_blas_thread_only_for_photos_and_only_when_not_chosen(monkeypatch) -> None:
    env: dict[str, str] = {}
    monkeypatch.setattr(cli.os, "environ", env)
    assert cli.one_blas_thread("synthesize") is False  # NumPy is loaded here: too late
    monkeypatch.delitem(sys.modules, "numpy")
    assert cli.one_blas_thread("train") is False and env == {}
    assert cli.one_blas_thread(None) is False and env == {}
    env["OMP_NUM_THREADS"] = "2"
    assert cli.one_blas_thread("synthesize") is False and env == {"OMP_NUM_THREADS": "2"}
    del env["OMP_NUM_THREADS"]
    assert cli.one_blas_thread("synthesize") is True and env == {"OPENBLAS_NUM_THREADS": "1"}


#: Each photo command, its arguments after the photo (``{out}``: a path to write) and what it
#: writes; ``None``: its standard output.
_PHOTO_COMMANDS = {
    "synthesize": (["--to", "happy", "-q", "-o", "{out}.png"], ".png"),
    "analyze": (["--json"], None),
    "augment": (["--to", "happy,surprised", "-q", "-o", "{out}"], "dir"),
}


@pytest.mark.parametrize("command", sorted(_PHOTO_COMMANDS))
def test_the_command_line_gives_openblas_one_thread_and_the_same_bytes(command, photo, tmp_path) -> None:
    """A photo command in a new process: OpenBLAS on one thread unless the caller set a thread
    variable; what it writes is byte for byte what it writes with OpenBLAS on every core."""
    assert command in cli._ONE_BLAS_THREAD
    extra_args, kind = _PHOTO_COMMANDS[command]
    outs = []
    for extra in ({}, {"OPENBLAS_NUM_THREADS": str(max(2, os.cpu_count() or 2))}):
        out = tmp_path / f"out{len(outs)}"
        target = photo
        if command == "augment":  # a data set: a folder holding the photo
            target = tmp_path / f"set{len(outs)}"
            target.mkdir()
            (target / photo.name).write_bytes(photo.read_bytes())
        argv = [command, str(target)] + [a.replace("{out}", str(out)) for a in extra_args]
        code = ("import os, sys\nfrom pixelfes.cli import main\n"
                f"code = main({argv!r})\n"
                "print('BLAS', os.environ.get('OPENBLAS_NUM_THREADS'))\nassert code == 0")
        got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=_env(**extra), timeout=300)
        assert got.returncode == 0, got.stderr[-2000:]
        assert got.stdout.split()[-1] == extra.get("OPENBLAS_NUM_THREADS", "1")
        if kind is None:
            outs.append(got.stdout.rsplit("BLAS", 1)[0].replace(str(target), "PHOTO"))
        elif kind == "dir":  # the photos it wrote, and its labels with this run's paths taken out
            files = {str(p.relative_to(out)): p for p in sorted(out.rglob("*")) if p.is_file()}
            assert any(name.endswith(".jpg") for name in files), f"{command} wrote no photo"
            outs.append({name: p.read_text().replace(str(out), "OUT").replace(str(target), "SET")
                         if name == "labels.csv" else p.read_bytes()
                         for name, p in files.items() if name != "pixelfes-manifest.jsonl"})
        else:
            outs.append(out.with_suffix(kind).read_bytes())
    assert outs[0] == outs[1]


def _same(a: object, b: object) -> bool:
    """The same type, dtype, shape and bits (NaN equal to NaN)."""
    x, y = np.asarray(a), np.asarray(b)
    return (type(a) is type(b) and x.dtype == y.dtype and x.shape == y.shape
            and x.tobytes() == y.tobytes())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.uint8, np.int64, bool])
def test_median_is_numpys_bit_for_bit(dtype) -> None:
    rng = np.random.default_rng(13)
    for n in (1, 2, 3, 4, 7, 10, 101, 1000):
        for shape, axes in (((n,), (None, 0, -1)), ((n, 3), (None, 0, 1, -1)),
                            ((3, n, 2), (None, 0, 1, 2, -2))):
            a = (rng.normal(0, 50, size=shape) if dtype not in (np.uint8, bool)
                 else rng.integers(0, 256, size=shape)).astype(dtype)
            if np.issubdtype(dtype, np.floating) and n > 2:
                a.flat[rng.integers(0, a.size, size=2)] = np.nan  # NaN wins the slices it is in
                a.flat[rng.integers(0, a.size)] = np.inf
            for axis in axes:
                assert _same(median(a, axis=axis), np.median(a, axis=axis)), (dtype, shape, axis)
    assert _same(median([3, 1, 2]), np.median([3, 1, 2]))  # a list
    assert median(np.float32(2.5)) == 2.5


def test_median_leaves_the_odd_cases_to_numpy() -> None:
    with pytest.warns(RuntimeWarning):
        assert np.isnan(median(np.zeros(0, np.float32)))
    masked = np.ma.masked_array([1.0, 2.0, 50.0], mask=[False, False, True])
    with pytest.warns(UserWarning, match="mask"):  # np.median's own warning: it ignores masks
        assert median(masked) == np.median(masked)
    with pytest.raises(np.exceptions.AxisError):
        median(np.zeros((2, 2)), axis=2)


def test_has_duplicate_rows_is_numpys_unique() -> None:
    rng = np.random.default_rng(4)
    for n in (0, 1, 2, 5, 40):
        for _ in range(20):
            p = rng.integers(0, 4, size=(n, 2)).astype(np.float64) / 2
            assert has_duplicate_rows(p) == (len(np.unique(p, axis=0)) != len(p)), p
    assert has_duplicate_rows(np.array([[0.0, 1.0], [-0.0, 1.0]]))
    nan = np.array([[np.nan, 1.0], [np.nan, 1.0]])
    assert has_duplicate_rows(nan) == (len(np.unique(nan, axis=0)) != 2) is False
    assert not has_duplicate_rows(np.array([[1.0, 2.0], [2.0, 1.0]]))
