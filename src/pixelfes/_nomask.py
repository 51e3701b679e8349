"""NumPy functions whose NumPy versions import ``numpy.ma``: the same results without it.

``numpy.ma`` costs 12 ms of a new process's first photo (25 ms under cProfile), and two
NumPy functions the synthesis path calls import it even for a plain array: ``np.median``
checks its result for NaN through ``np.ma.isMaskedArray``, and ``np.unique`` asks
``np.ma.is_masked`` first. :func:`median` is NumPy's own algorithm (``numpy.lib._function_base_impl.
_median``, NumPy 2.x) less that check: the same partition, the middle one or two values
averaged by ``np.mean`` in the input's type, NaN wherever a slice holds one. Empty inputs,
array subclasses (masked arrays) and datetimes go to ``np.median`` itself (its warnings and
types).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["has_duplicate_rows", "median"]


def median(a: Any, axis: int | None = None) -> Any:
    """``np.median(a, axis=axis)``, bit for bit, without importing ``numpy.ma``.

    ``a``: an array-like of any shape (ints, bools or floats); ``axis``: one axis or
    ``None`` (the flattened array). Returns a NumPy scalar (``axis=None`` or 1-D) or an
    array, of the type ``np.median`` returns (float64 for integers, the float's own type
    otherwise).
    """
    arr = np.asanyarray(a)
    if (type(arr) is not np.ndarray or arr.size == 0 or arr.ndim == 0 or arr.dtype.kind in "Mm"
            or (axis is not None and not -arr.ndim <= axis < arr.ndim)):
        return np.median(arr, axis=axis)  # subclasses (masked), empty, datetimes, a bad axis
    ax = 0 if axis is None else axis % arr.ndim
    size = arr.size if axis is None else arr.shape[ax]
    half = size // 2
    kth = [half - 1, half] if size % 2 == 0 else [half]
    nans = bool(np.issubdtype(arr.dtype, np.inexact))
    if nans:
        kth.append(-1)  # a NaN sorts last: the last place tells whether a slice holds one
    part = np.partition(arr, kth, axis=axis)
    index = [slice(None)] * part.ndim
    index[ax] = slice(half, half + 1) if size % 2 == 1 else slice(half - 1, half + 1)
    out = np.mean(part[tuple(index)], axis=ax)
    if nans:
        last = part.take(-1, axis=ax)
        bad = np.isnan(last)
        if bad.any():
            if isinstance(out, np.generic):
                return last
            np.copyto(out, last, where=bad)
    return out


def has_duplicate_rows(points: np.ndarray) -> bool:
    """Whether two rows of ``points`` ``(N, D)`` are equal: ``len(np.unique(points, axis=0)) !=
    len(points)`` for rows without NaN (rows sorted, neighbours compared; ``-0.0 == 0.0``
    as there)."""
    p = np.asarray(points)
    if len(p) < 2:
        return False
    s = p[np.lexsort(p.T[::-1])]
    return bool((s[1:] == s[:-1]).all(axis=1).any())
