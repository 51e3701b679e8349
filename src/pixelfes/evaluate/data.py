"""Aligned evaluation pairs of a data set, each image aligned once into a cache folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from pixelfes.alignment import DEFAULT_ALIGNMENT, Alignment
from pixelfes.expressions import normalize_expression


def _default_cache() -> Path:
    env = os.environ.get("PIXELFES_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "pixelfes" / "aligned"


def aligned_pairs(data: str | os.PathLike[str], from_: str, to: str,
                  alignment: Alignment = DEFAULT_ALIGNMENT,
                  cache_dir: str | os.PathLike[str] | None = None,
                  combine: str = "all", progress: bool = False) -> Any:
    """Aligned pairs of a data set, aligning each image once into a cache folder.

    A folder written by ``pixelfes prepare`` is read as it is. Any other data set is
    prepared into ``cache_dir`` (default ``$PIXELFES_CACHE`` or ``~/.cache/pixelfes/aligned``)
    under a name made of the folder name, a hash of its path, size and margin, so a
    rerun reads the crops back without detecting again. Returns
    :class:`pixelfes.datasets.PairArrays`.
    """
    from pixelfes.datasets import load_pairs, open_dataset, prepare

    ds = open_dataset(data)
    if ds.layout != "aligned":
        root = Path(data).resolve()
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:8]
        out = Path(cache_dir) if cache_dir is not None else _default_cache()
        out = out / f"{root.name}-{digest}-{alignment.size}-{alignment.margin:g}"
        prepare(ds, out, alignment, progress=progress)
        ds = open_dataset(out)
    return load_pairs(ds, normalize_expression(from_), normalize_expression(to), alignment,
                      combine=combine, progress=progress)  # type: ignore[arg-type]
