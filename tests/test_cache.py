"""Delaunay triangulations come from the cache folder after the first run: the same triangles."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from pixelfes import _cache


def test_delaunay_equals_scipy_and_is_kept(tmp_path, monkeypatch) -> None:
    from scipy.spatial import Delaunay

    monkeypatch.setenv("PIXELFES_CACHE", str(tmp_path))
    monkeypatch.setattr(_cache, "_TRIANGLES", {})
    pts = np.random.default_rng(0).uniform(0, 100, size=(40, 2))
    tri = _cache.delaunay(pts)
    assert np.array_equal(tri, Delaunay(pts).simplices)
    files = list((tmp_path / "delaunay").glob("*.npy"))
    assert len(files) == 1 and np.array_equal(np.load(files[0]), tri)
    # another process (empty memory) reads the file: no scipy import
    code = (f"import sys, numpy as np; sys.path.insert(0, {str(_cache.__file__.rsplit('/', 2)[0])!r}); "
            "from pixelfes import _cache; "
            f"t = _cache.delaunay(np.load({str(tmp_path / 'pts.npy')!r})); "
            "print(int('scipy.spatial' in sys.modules), t.sum())")
    np.save(tmp_path / "pts.npy", pts)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PIXELFES_CACHE": str(tmp_path), "PATH": ""}, timeout=60)
    assert out.stdout.split() == ["0", str(int(tri.sum()))], out.stderr
    # a broken file is recomputed and replaced
    files[0].write_bytes(b"not an array")
    monkeypatch.setattr(_cache, "_TRIANGLES", {})
    assert np.array_equal(_cache.delaunay(pts), tri)
    assert np.array_equal(np.load(files[0]), tri)


def test_an_unwritable_cache_is_not_an_error(tmp_path, monkeypatch) -> None:
    ro = tmp_path / "ro"
    ro.write_text("a file, not a folder")
    monkeypatch.setenv("PIXELFES_CACHE", str(ro))
    monkeypatch.setattr(_cache, "_TRIANGLES", {})
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.5]])
    assert _cache.delaunay(pts).shape == (2, 3)


def test_the_package_ships_every_triangulation_it_needs_equal_to_scipy() -> None:
    """Each mouth exemplar's and the action units' point sets: shipped, and the triangles
    scipy gives (rebuild with scripts/build_triangulations.py after changing them)."""
    from conftest import load_script

    mod = load_script("build_triangulations", "bt")
    need = mod.point_sets()  # computed by scipy now
    shipped = _cache._shipped()
    missing = sorted(set(need) - set(shipped))
    assert not missing, f"{len(missing)} triangulations not shipped: run scripts/build_triangulations.py"
    for k, tri in need.items():
        assert np.array_equal(shipped[k], tri)


def test_synthesis_and_analysis_run_without_scipy(tmp_path) -> None:
    """A new process with scipy unimportable and an empty cache: a smile (mouth bank), an
    action-unit expression and the analysis all run (shipped triangles, numpy NNLS)."""
    from PIL import Image

    from conftest import REPO
    from test_detect import astronaut_group

    Image.fromarray(astronaut_group([260], size=(700, 700))[0]).save(tmp_path / "face.png")
    code = f"""
import sys, numpy as np
sys.modules['scipy'] = None
sys.path.insert(0, {str(REPO / 'src')!r})
import pixelfes
from pixelfes.actions import estimate_units
from pixelfes.imageio import load_image
from pixelfes.pipeline import find_faces
rgb = load_image({str(tmp_path / 'face.png')!r}).rgb
for to in ("happy", "sad", "surprised"):
    out = np.asarray(pixelfes.synthesize(rgb, to=to))
    assert out.shape == rgb.shape and (out != rgb).any(), to
face = find_faces(rgb)[0]
print(sorted(estimate_units(face.landmarks).units)[:2], 'scipy' in sys.modules and sys.modules['scipy'] is not None)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PIXELFES_CACHE": str(tmp_path), "PATH": ""}, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("False"), out.stdout


def test_a_new_point_set_without_scipy_names_the_fix(tmp_path, monkeypatch) -> None:
    import pytest

    monkeypatch.setenv("PIXELFES_CACHE", str(tmp_path))
    monkeypatch.setattr(_cache, "_TRIANGLES", {})
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.spatial", None)
    with pytest.raises(ImportError, match="pip install scipy"):
        _cache.delaunay(np.random.default_rng(3).uniform(0, 9, size=(12, 2)))


def test_a_shipped_triangulation_read_alone_is_the_one_read_with_all() -> None:
    """delaunay reads only the point set asked for: the same triangles and dtype as the whole
    file read at once; a set the package does not ship is None (scipy or the cache then)."""
    shipped = _cache._shipped()
    assert len(shipped) > 10
    for key, tri in shipped.items():
        one = _cache._shipped_one(key)
        assert one is not None and one.dtype == np.intp and np.array_equal(one, tri)
    assert _cache._shipped_one("0" * 40) is None


def test_every_file_in_the_package_folder_is_in_git():
    """A shipped file that .gitignore hides passes here and is missing from every clone."""
    import shutil

    import pytest

    from conftest import REPO

    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run([git, "ls-files", "--others", "--ignored", "--exclude-standard",
                             "--", "src/pixelfes"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    hidden = [p for p in listed if "__pycache__" not in p and not p.endswith(".pyc")]
    assert hidden == [], "ignored by git but inside the package: " + ", ".join(hidden)
