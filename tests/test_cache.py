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
