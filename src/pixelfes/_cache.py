"""The user cache folder, and Delaunay triangulations kept so that synthesis needs no scipy.

The point sets the package itself triangulates (each mouth exemplar's lips, the action
units' canvas) ship with their triangles (``assets/shape/triangulations.safetensors``, built by
``scripts/build_triangulations.py`` with scipy); any other set (a model or canvas of your
own) is triangulated by scipy once and kept in the cache folder.

Folder: ``$PIXELFES_CACHE``, else ``$XDG_CACHE_HOME/pixelfes``, else ``~/.cache/pixelfes``.
Everything in it can be deleted at any time: it is rebuilt on use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

__all__ = ["SHIPPED", "cache_dir", "delaunay", "point_key"]

_LOCK = threading.Lock()
_TRIANGLES: dict[str, np.ndarray] = {}
_MAX_IN_MEMORY = 1024
#: the package's own triangulations, by :func:`point_key`
SHIPPED = Path(__file__).resolve().parent / "assets" / "shape" / "triangulations.safetensors"
_SHIPPED: list[dict[str, np.ndarray]] = []


def point_key(points: np.ndarray) -> str:
    """The name of a point set's triangulation (SHA-1 of its float64 values and shape)."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    return hashlib.sha1(pts.tobytes() + str(pts.shape).encode()).hexdigest()


_SHIPPED_NAMES: list[frozenset[str]] = []


def _shipped_one(key: str) -> np.ndarray | None:
    """The shipped triangles of one point set (``None``: not shipped), read alone: a cold start
    needs 3 of the file's 39 sets (reading them all took 14 ms at load 3). A safetensors file
    (its header names them all; safetensors is loaded for the models anyway): an ``.npz``
    imported zipfile, shutil, bz2 and lzma, 5 ms of a cold start."""
    if _SHIPPED_NAMES and key not in _SHIPPED_NAMES[0]:
        return None
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(SHIPPED), framework="numpy") as f:
            if not _SHIPPED_NAMES:
                _SHIPPED_NAMES.append(frozenset(f.keys()))
            if key not in _SHIPPED_NAMES[0]:
                return None
            return f.get_tensor(key).astype(np.intp)
    except (OSError, SafetensorError):
        if not _SHIPPED_NAMES:
            _SHIPPED_NAMES.append(frozenset())
        return None


def _shipped() -> dict[str, np.ndarray]:
    """Every shipped triangulation by :func:`point_key` (the tests compare them with scipy's)."""
    if not _SHIPPED:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            _SHIPPED.append({k: v.astype(np.intp) for k, v in load_file(str(SHIPPED)).items()})
        except (OSError, SafetensorError):
            _SHIPPED.append({})
    return _SHIPPED[0]


def cache_dir() -> Path:
    """Where converted models and triangulations are kept (created on first use)."""
    env = os.environ.get("PIXELFES_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pixelfes"


def delaunay(points: np.ndarray) -> np.ndarray:
    """``scipy.spatial.Delaunay(points).simplices`` as ``(T, 3)`` intp: the shipped triangles
    of the package's own point sets, else computed once and read from the cache folder (the
    same triangles, bit for bit)."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    key = point_key(pts)
    with _LOCK:
        got = _TRIANGLES.get(key)
    if got is not None:
        return got
    tri = _shipped_one(key)
    path = cache_dir() / "delaunay" / f"{key}.npy"
    if tri is None:
        try:
            tri = np.load(path).astype(np.intp)
        except (OSError, ValueError):
            tri = None
    if tri is None or tri.ndim != 2 or tri.shape[1] != 3 or (len(tri) and tri.max() >= len(pts)):
        try:
            from scipy.spatial import Delaunay
        except ImportError as exc:
            raise ImportError("triangulating a point set the package does not ship (a canvas "
                              "or model of your own) needs scipy: pip install scipy "
                              "(or pip install 'pixelfes[train]')") from exc
        tri = Delaunay(pts).simplices.astype(np.intp)
        _save(path, tri)
    with _LOCK:
        if len(_TRIANGLES) >= _MAX_IN_MEMORY:
            _TRIANGLES.clear()
        _TRIANGLES[key] = tri
    return tri


def _save(path: Path, tri: np.ndarray) -> None:
    """Write atomically (readers see the whole file or none); a read-only cache is not an error."""
    import tempfile  # only here: a cold start reads shipped triangles and writes none

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npy", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, tri.astype(np.int32))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        logging.getLogger("pixelfes").debug("pixelfes: cannot write %s (%s)", path, exc)
