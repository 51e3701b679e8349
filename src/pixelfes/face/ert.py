"""dlib's 68-point shape predictor in numpy, loaded in milliseconds from a memory-mapped cache.

dlib parses its 100 MB ``shape_predictor_68_face_landmarks.dat`` on every start (0.5-0.8 s).
This module reads the same ensemble of regression trees (Kazemi & Sullivan 2014) once, writes
it as plain ``.npy`` arrays into a user cache folder, and later maps them into memory: a
cold start costs a few milliseconds. Inference follows dlib's ``shape_predictor`` step by
step (similarity transform to the reference shape, feature pixels rounded to the nearest
pixel, trees evaluated in order, leaf values summed in float32), vectorised over the 500
trees of each cascade level; its points are dlib's before rounding: rounded, they are
dlib's whole-pixel points (``tests/test_ert.py``).

Cache folder: ``$PIXELFES_CACHE``, else ``$XDG_CACHE_HOME/pixelfes``, else
``~/.cache/pixelfes``; one sub-folder per model file (name, size and modification time).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._cache import cache_dir

__all__ = ["ShapePredictor", "cache_dir", "load_predictor", "parse_dat"]

_FORMAT = 1  # bump when the cached layout changes


# dlib's integers: one control byte (bit 7: negative, low bits: byte count 1-8), then the
# value's bytes, little-endian. A float is two of them: mantissa and exponent. The whole
# model file is such tokens, so one regular expression cuts it into them at C speed.
_TOKEN = re.compile(b"|".join(b"[" + bytes([k, 0x80 | k]) + b"]" + b"." * k for k in range(1, 9)),
                    re.S)


def _token_starts(buf: bytes) -> np.ndarray:
    """Start offsets ``(N,) int64`` of every integer token in ``buf``."""
    out, pos, n, chunk = [], 0, len(buf), 1 << 22
    while pos < n:
        end = min(n, pos + chunk)
        lens = np.fromiter(map(len, _TOKEN.findall(buf, pos, end)), dtype=np.int64)
        ends = np.cumsum(lens)
        # a token cut by the chunk's end is not matched as a whole: stop before the last ones
        keep = len(lens) if end == n else int(np.searchsorted(ends, end - pos - 16, side="right"))
        if keep == 0 or (end == n and ends[-1] != n - pos):
            raise ValueError("not a dlib shape predictor file (unexpected bytes)")
        out.append(pos + np.concatenate([[0], ends[: keep - 1]]))
        pos += int(ends[keep - 1])
    return np.concatenate(out)


def _values(buf: bytes, starts: np.ndarray) -> np.ndarray:
    """The integers ``(N,) int64`` of the tokens at ``starts``."""
    b = np.frombuffer(buf, dtype=np.uint8)
    ctrl = b[starts]
    size = (ctrl & 0x0F).astype(np.int64)
    val = np.zeros(len(starts), dtype=np.int64)
    for k in range(1, 9):
        has = size >= k
        if not has.any():
            break
        idx = np.minimum(starts + k, len(b) - 1)
        val |= np.where(has, b[idx].astype(np.int64) << (8 * (k - 1)), 0)
    return np.where(ctrl & 0x80, -val, val)


class _Reader:
    """Walks the token values in the order dlib's ``serialize`` wrote them."""

    def __init__(self, values: np.ndarray) -> None:
        self.v = values
        self.i = 0

    def one(self) -> int:
        x = int(self.v[self.i])
        self.i += 1
        return x

    def ints(self, n: int, stride: int = 1) -> np.ndarray:
        out = self.v[self.i: self.i + n * stride]
        self.i += n * stride
        return out.reshape(n, stride) if stride > 1 else out

    def floats(self, n: int) -> np.ndarray:
        """``n`` floats (mantissa, exponent pairs) as float32."""
        pairs = self.ints(n, 2)
        return np.ldexp(pairs[:, 0].astype(np.float64), pairs[:, 1]).astype(np.float32)

    def column(self) -> np.ndarray:
        nr, nc = -self.one(), -self.one()  # dlib writes matrix sizes negated
        if nc != 1 or nr < 0:
            raise ValueError(f"expected a column vector in the model file; got {nr}x{nc}")
        return self.floats(nr)


def parse_dat(path: str | Path) -> dict[str, np.ndarray]:
    """Read a dlib ``shape_predictor`` file into arrays (several seconds: done once).

    Returns ``initial (L, 2)``, ``split_idx (C, T, S, 2) int32``, ``split_thresh (C, T, S)``,
    ``leaves (C, T, S + 1, L, 2) float32``, ``anchor (C, P) int32``, ``deltas (C, P, 2)``:
    C cascade levels of T trees with S splits, L landmarks, P feature pixels per level.
    """
    buf = Path(path).read_bytes()
    r = _Reader(_values(buf, _token_starts(buf)))
    if r.one() != 1:
        raise ValueError(f"{path}: unknown shape predictor version")
    initial = r.column()
    n_casc = r.one()
    idx, thr, leaves = [], [], []
    for _ in range(n_casc):
        n_trees = r.one()
        for _ in range(n_trees):
            n_splits = r.one()
            sp = r.ints(n_splits, 4)  # idx1, idx2, thresh mantissa, thresh exponent
            idx.append(sp[:, :2])
            thr.append(np.ldexp(sp[:, 2].astype(np.float64), sp[:, 3]).astype(np.float32))
            n_leaves = r.one()
            leaves.append(np.stack([r.column() for _ in range(n_leaves)]))
    if r.one() != n_casc:
        raise ValueError(f"{path}: anchor lists do not match the cascade")
    anchor = [r.ints(r.one()) for _ in range(n_casc)]
    if r.one() != n_casc:
        raise ValueError(f"{path}: delta lists do not match the cascade")
    deltas = [r.floats(2 * r.one()).reshape(-1, 2) for _ in range(n_casc)]
    if r.i != len(r.v):
        raise ValueError(f"{path}: {len(r.v) - r.i} values left over")
    t = len(idx) // n_casc
    n_lm = len(initial) // 2
    return {
        "initial": initial.reshape(n_lm, 2),
        "split_idx": np.stack(idx).reshape(n_casc, t, -1, 2).astype(np.int32),
        "split_thresh": np.stack(thr).reshape(n_casc, t, -1),
        "leaves": np.stack(leaves).reshape(n_casc, t, -1, n_lm, 2),
        "anchor": np.stack(anchor).astype(np.int32),
        "deltas": np.stack(deltas),
    }


def _cached_arrays(dat: Path) -> dict[str, np.ndarray]:
    """The model's arrays, memory-mapped from the cache (converted on the first call)."""
    st = dat.stat()
    folder = cache_dir() / f"{dat.stem}-{st.st_size}-{st.st_mtime_ns}-v{_FORMAT}"
    names = ("initial", "split_idx", "split_thresh", "leaves", "anchor", "deltas")
    if not all((folder / f"{n}.npy").is_file() for n in names):
        logging.getLogger("pixelfes").warning(
            "pixelfes: converting %s for fast loading (once, about 15 s) into %s", dat.name, folder)
        arrays = parse_dat(dat)
        import shutil  # here: a cold start reads the cache and writes none (tempfile: 5 ms)
        import tempfile

        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
            try:
                for n in names:
                    np.save(tmp / f"{n}.npy", np.ascontiguousarray(arrays[n]))
                try:
                    os.replace(tmp, folder)  # atomic: readers see all files or none
                except OSError:  # another process won the race: use its copy
                    if not folder.is_dir():
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError as exc:
            logging.getLogger("pixelfes").warning(
                "pixelfes: cannot write the model cache %s (%s); set PIXELFES_CACHE to a writable "
                "folder, or every process converts the model again", folder, exc)
            return arrays
    # plain array views of the maps (indexing a np.memmap object costs more)
    return {n: np.asarray(np.load(folder / f"{n}.npy", mmap_mode="r")) for n in names}


def _similarity_2x2(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Linear part of dlib's ``find_similarity_transform(src, dst)`` (Umeyama), as float32.

    In 2-D, Umeyama's rotation-only optimum (reflections excluded) is the closed form
    ``[[p, -q], [q, p]] / sum |a|^2`` with ``p = sum a . b``, ``q = sum a x b`` of the centred
    points: the SVD's result without an SVD (equal to float rounding; ``tests/test_ert.py``)."""
    s = src.astype(np.float64)
    d = dst.astype(np.float64)
    a = s - s.mean(0)
    b = d - d.mean(0)
    norm = float((a * a).sum())
    if norm == 0:
        return np.eye(2, dtype=np.float32)
    p = float((a * b).sum())
    q = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum())
    return (np.array([[p, -q], [q, p]]) / norm).astype(np.float32)


@dataclass
class ShapePredictor:
    """A dlib shape predictor's trees as arrays; call it like ``dlib.shape_predictor``."""

    initial: np.ndarray
    split_idx: np.ndarray
    split_thresh: np.ndarray
    leaves: np.ndarray
    anchor: np.ndarray
    deltas: np.ndarray

    @property
    def n_landmarks(self) -> int:
        return int(self.initial.shape[0])

    def __post_init__(self) -> None:
        c, t, n_splits = self.split_idx.shape[:3]
        # flat, contiguous views for np.take (the leaves stay memory-mapped); both feature
        # pixels of every split in one index array: the first t * n_splits, then the second
        self._idx12 = np.ascontiguousarray(np.concatenate(
            [self.split_idx[..., 0].reshape(c, t * n_splits),
             self.split_idx[..., 1].reshape(c, t * n_splits)], axis=1)).astype(np.intp)
        self._thr = np.ascontiguousarray(self.split_thresh).reshape(c, t * n_splits)
        self._leaves = self.leaves.reshape(c, t * (n_splits + 1), -1)
        self._initial = np.ascontiguousarray(self.initial, dtype=np.float32)
        # the reference shape's centred points and norm (the constant half of every
        # similarity fit, :func:`_similarity_2x2`)
        init = self._initial.astype(np.float64)
        self._centred = init - init.mean(0)
        self._norm = float((self._centred * self._centred).sum())
        self._leaf_of = _leaf_table(n_splits)

    def __call__(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """``(L, 2)`` float64 (x, y) points for the face in ``box`` = dlib's
        ``(left, top, right, bottom)`` (inclusive) of ``image`` ``(H, W, 3) uint8`` RGB or
        ``(H, W)`` gray; dlib's own points are these rounded to whole pixels."""
        img = np.asarray(image)
        height, width = img.shape[:2]

        def pixels(px: np.ndarray, py: np.ndarray) -> np.ndarray:
            inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
            vals = np.zeros(len(px), np.float32)
            vals[inside] = _intensity(img[py[inside], px[inside]])
            return vals

        return self.fit(pixels, box)

    def fit(self, pixels: Callable[[np.ndarray, np.ndarray], np.ndarray],
            box: tuple[float, float, float, float]) -> np.ndarray:
        """The fit of :meth:`__call__` on an image given only by ``pixels(px, py)``: the
        ``(N,)`` float32 intensities at whole-pixel ``(N,)`` coordinates (0 outside the
        image). Lets a caller sample a turned or zoomed view of a photo at the few thousand
        pixels the trees read, instead of making that view whole."""
        left, top, right, bottom = (float(v) for v in box)
        w, h = right - left, bottom - top
        n_casc, n_trees, n_splits = self.split_idx.shape[:3]
        n = n_trees * n_splits
        trees = np.arange(n_trees)
        first_leaf = trees * (n_splits + 1)
        scale, offset = np.array([w, h]), np.array([left, top])
        a, norm = self._centred, self._norm
        shape = self._initial.copy()
        # row 0: the shape so far, rows 1..: the leaves of this level's trees (one buffer,
        # summed in place below)
        stack = np.empty((n_trees + 1, shape.size), np.float32)
        for c in range(n_casc):
            # _similarity_2x2(self._initial, shape) with the constant half computed once
            if norm == 0:
                m = np.eye(2, dtype=np.float32)
            else:
                d = shape.astype(np.float64)
                b = d - np.add.reduce(d, axis=0) / len(d)  # = d.mean(0), bit for bit
                p = float((a * b).sum())
                q = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum())
                m = (np.array([[p, -q], [q, p]]) / norm).astype(np.float32)
            pts = self.deltas[c] @ m.T
            pts += shape[self.anchor[c]]
            # dlib: point(tform_to_img(p)), rounding to the nearest pixel
            xy = pts.astype(np.float64)
            xy *= scale
            xy += offset
            xy += 0.5
            ij = np.floor(xy).astype(np.intp)
            vals = np.asarray(pixels(ij[:, 0], ij[:, 1]), dtype=np.float32)
            # every split of every tree at once; the leaf each tree's outcomes lead to
            f = np.take(vals, self._idx12[c])
            go = (f[:n] - f[n:]) > self._thr[c]
            leaf = first_leaf + self._leaf_of(go.reshape(n_trees, n_splits))
            stack[0] = shape.reshape(-1)
            np.take(self._leaves[c], leaf, axis=0, out=stack[1:], mode="clip")
            # float32 sum in dlib's order: a reduction over the rows (axis 0) of a C-ordered
            # array adds them one after another (no pairwise reordering; tested)
            shape = np.add.reduce(stack, axis=0, dtype=np.float32).reshape(-1, 2)
        out = np.empty(shape.shape, np.float64)
        out[:, 0] = left + shape[:, 0].astype(np.float64) * w
        out[:, 1] = top + shape[:, 1].astype(np.float64) * h
        return out


def _leaf_table(n_splits: int) -> Callable[[np.ndarray], np.ndarray]:
    """For complete trees of ``n_splits`` splits (nodes breadth-first, children ``2i+1``
    when a split holds, else ``2i+2``): a function from the outcomes ``(T, n_splits) bool``
    of every split of T trees to the leaf ``(T,)`` each reaches (0 = leftmost). Up to 20
    splits the outcomes' bits index a table of every pattern's leaf (one lookup instead of
    walking down the levels)."""
    depth = int(np.log2(n_splits + 1))

    def walk(go: np.ndarray) -> np.ndarray:
        rows = np.arange(len(go))
        node = np.zeros(len(go), np.intp)
        for _ in range(depth):
            node = 2 * node + 2 - go[rows, node]
        return node - n_splits

    if n_splits > 20:
        return walk
    codes = np.arange(1 << n_splits)
    node = np.zeros(len(codes), np.intp)
    for _ in range(depth):
        node = 2 * node + 2 - ((codes >> node) & 1)
    table = (node - n_splits).astype(np.intp)
    # split i of a tree is bit i of its code; a float32 product is exact below 2^24 and
    # one BLAS call (3x faster than packing bits)
    weights = (2.0 ** np.arange(n_splits)).astype(np.float32)

    def lookup(go: np.ndarray) -> np.ndarray:
        return table[(go.astype(np.float32) @ weights).astype(np.intp)]

    return lookup


def _intensity(pixels: np.ndarray) -> np.ndarray:
    """dlib's ``get_pixel_intensity``: ``(N,)`` gray values, or ``(N, 3)`` RGB -> (r + g + b) // 3."""
    if pixels.ndim == 1:
        return pixels
    # the channels added one after the other: a sum over the short last axis is slower
    total = pixels[:, 0].astype(np.uint16)
    total += pixels[:, 1]
    total += pixels[:, 2]
    return total // 3


_LOCK = threading.Lock()
_LOADED: dict[str, ShapePredictor] = {}


def load_predictor(dat: str | Path) -> ShapePredictor:
    """The predictor of a dlib ``.dat`` file, from the cache (built on first use: seconds)."""
    key = str(Path(dat).resolve())
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = ShapePredictor(**_cached_arrays(Path(dat)))
        return _LOADED[key]
