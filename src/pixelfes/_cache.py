"""The user cache folder, and Delaunay triangulations kept there so synthesis needs no scipy
import (0.3-0.4 s) after the first run.

Folder: ``$PIXELFES_CACHE``, else ``$XDG_CACHE_HOME/pixelfes``, else ``~/.cache/pixelfes``.
Everything in it can be deleted at any time: it is rebuilt on use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

__all__ = ["cache_dir", "delaunay"]

_LOCK = threading.Lock()
_TRIANGLES: dict[str, np.ndarray] = {}
_MAX_IN_MEMORY = 1024


def cache_dir() -> Path:
    """Where converted models and triangulations are kept (created on first use)."""
    env = os.environ.get("PIXELFES_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pixelfes"


def delaunay(points: np.ndarray) -> np.ndarray:
    """``scipy.spatial.Delaunay(points).simplices`` as ``(T, 3)`` intp, computed once per
    point set and then read from the cache folder (the same triangles, bit for bit)."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    key = hashlib.sha1(pts.tobytes() + str(pts.shape).encode()).hexdigest()
    with _LOCK:
        got = _TRIANGLES.get(key)
    if got is not None:
        return got
    path = cache_dir() / "delaunay" / f"{key}.npy"
    tri: np.ndarray | None = None
    try:
        tri = np.load(path).astype(np.intp)
    except (OSError, ValueError):
        tri = None
    if tri is None or tri.ndim != 2 or tri.shape[1] != 3 or (len(tri) and tri.max() >= len(pts)):
        from scipy.spatial import Delaunay

        tri = Delaunay(pts).simplices.astype(np.intp)
        _save(path, tri)
    with _LOCK:
        if len(_TRIANGLES) >= _MAX_IN_MEMORY:
            _TRIANGLES.clear()
        _TRIANGLES[key] = tri
    return tri


def _save(path: Path, tri: np.ndarray) -> None:
    """Write atomically (readers see the whole file or none); a read-only cache is not an error."""
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
