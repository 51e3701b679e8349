"""Training on shards: each worker sums its pairs' statistics, the sums merge by addition.

The pixel models learn from per pixel-channel sums (:class:`pixelfes.stats.PixelStats`).
Here the sums are taken over the crops' integer levels (uint8 ``k``, ``m``: ``Σk, Σk², Σm,
Σkm`` and the value histograms) in int64, which is exact whatever the order of addition.
So the merged statistics, and the fitted model, are the same bit for bit however the
pairs are cut into shards and whichever worker finishes first; only the final division
by 255 (one rounding) turns them into :class:`PixelStats`. Against one float ``fit`` the
statistics differ by float64 rounding only (about 1e-16 relative).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .alignment import Alignment
from .stats import LEVELS, PixelStats

_MAX = LEVELS - 1
_BLOCK = 64  # pairs per block in ExactSums.update


@dataclass
class ExactSums:
    """Integer sufficient statistics of uint8 (source, target) crops of ``image_shape`` (H, W, C)."""

    image_shape: tuple[int, int, int]
    histograms: bool = True
    n: int = 0
    sk: np.ndarray | None = None  # (P,) int64: Σ k
    skk: np.ndarray | None = None  # Σ k²
    sm: np.ndarray | None = None  # Σ m
    skm: np.ndarray | None = None  # Σ k m
    counts: np.ndarray | None = None  # (P, 256) int64: pairs whose input level is v
    msums: np.ndarray | None = None  # (P, 256) int64: Σ m over those pairs

    def __post_init__(self) -> None:
        p = int(np.prod(self.image_shape))
        for name in ("sk", "skk", "sm", "skm"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(p, dtype=np.int64))
        if self.histograms and self.counts is None:
            self.counts = np.zeros((p, LEVELS), dtype=np.int64)
            self.msums = np.zeros((p, LEVELS), dtype=np.int64)

    def update(self, x: np.ndarray, t: np.ndarray) -> ExactSums:
        """Add pairs ``x``, ``t``: ``(N, H, W, C) uint8``. Returns self."""
        if x.dtype != np.uint8 or t.dtype != np.uint8:
            raise TypeError(f"exact sums need uint8 crops; got {x.dtype} and {t.dtype}")
        if x.shape != t.shape or tuple(x.shape[1:]) != tuple(self.image_shape):
            raise ValueError(f"pairs must be shaped (N, {', '.join(map(str, self.image_shape))}); "
                             f"got {x.shape} and {t.shape}")
        for i in range(0, len(x), _BLOCK):  # int64 copies of a block at a time
            self._add(x[i : i + _BLOCK], t[i : i + _BLOCK])
        return self

    def _add(self, x: np.ndarray, t: np.ndarray) -> None:
        assert self.sk is not None and self.skk is not None
        assert self.sm is not None and self.skm is not None
        p = self.sk.size
        k = x.reshape(len(x), p).astype(np.int64)
        m = t.reshape(len(t), p).astype(np.int64)
        self.n += len(k)
        self.sk += k.sum(axis=0)
        self.skk += (k * k).sum(axis=0)
        self.sm += m.sum(axis=0)
        self.skm += (k * m).sum(axis=0)
        if self.histograms:
            assert self.counts is not None and self.msums is not None
            idx = (k + np.arange(p, dtype=np.int64) * LEVELS).ravel()
            self.counts += np.bincount(idx, minlength=p * LEVELS).reshape(p, LEVELS)
            # float64 weights of integers below 2^53: exact, so the cast back loses nothing
            sums = np.bincount(idx, weights=m.ravel().astype(np.float64), minlength=p * LEVELS)
            self.msums += sums.astype(np.int64).reshape(p, LEVELS)

    def __add__(self, other: ExactSums) -> ExactSums:
        """The sums of both sets of pairs (exact)."""
        if (self.image_shape, self.histograms) != (other.image_shape, other.histograms):
            raise ValueError(f"cannot merge sums of {self.image_shape} (histograms="
                             f"{self.histograms}) and {other.image_shape} "
                             f"(histograms={other.histograms}) crops")
        assert self.sk is not None and other.sk is not None

        def add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
            return None if a is None or b is None else a + b

        return ExactSums(self.image_shape, self.histograms, self.n + other.n,
                         add(self.sk, other.sk), add(self.skk, other.skk), add(self.sm, other.sm),
                         add(self.skm, other.skm), add(self.counts, other.counts),
                         add(self.msums, other.msums))

    def to_stats(self) -> PixelStats:
        """The :class:`PixelStats` of the same pairs as values in [0, 1] (one division each)."""
        assert self.sk is not None and self.skk is not None
        assert self.sm is not None and self.skm is not None
        q, q2 = float(_MAX), float(_MAX * _MAX)
        return PixelStats(
            image_shape=self.image_shape, histograms=self.histograms, n=self.n,
            sx=self.sk / q, sxx=self.skk / q2, st=self.sm / q, sxt=self.skm / q2,
            counts=None if self.counts is None else self.counts.astype(np.float64),
            tsums=None if self.msums is None else self.msums / q,
        )


def fit_exact(model: Any, X: np.ndarray, T: np.ndarray, *,
              alignment: Alignment | None = None) -> Any:
    """Fit a ``fits_from_stats`` model on uint8 ``X``, ``T`` ``(N, H, W, C)`` through exact sums.

    The one-process counterpart of training on shards: both give the same model bit for bit.
    """
    x = X if X.ndim == 4 else X[..., None]
    t = T if T.ndim == 4 else T[..., None]
    sums = ExactSums(tuple(x.shape[1:]), histograms=type(model).needs_histograms)
    return model.fit_stats(sums.update(x, t).to_stats(), alignment=alignment)


@dataclass(frozen=True)
class ShardJob:
    """What a training shard's worker needs: how to read crops, or align photos."""

    histograms: bool
    channels: int | None = None  # crops: 1 or 3; None keeps each file's own
    alignment: Alignment | None = None  # photos of a data set: align them like this
    aligned: bool = False  # the data set is a prepared folder of crops (no detection)
    max_pixels: int | None = None  # the driver's pixel budget, applied on every worker


@dataclass
class ShardResult:
    """A shard's sums, the people of the pairs it used, and images left out (path, reason)."""

    sums: ExactSums | None
    identities: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __add__(self, other: ShardResult) -> ShardResult:
        if self.sums is None or other.sums is None:
            sums = self.sums if other.sums is None else other.sums
        else:
            sums = self.sums + other.sums
        return ShardResult(sums, self.identities + other.identities, self.failed + other.failed)


Pair = tuple[str, str, str]  # (source path, target path, identity)


def shard_sums(job: ShardJob, shard: Sequence[Pair]) -> ShardResult:
    """Worker side: read (or align) a shard's images and sum its pairs.

    Pairs whose source or target has no usable face are left out and listed, as
    :func:`pixelfes.datasets.load_pairs` leaves them out.
    """
    from .imageio import set_max_pixels

    set_max_pixels(job.max_pixels)  # a worker process has no --max-pixels of its own
    crops: dict[str, np.ndarray] = {}
    failed: list[tuple[str, str]] = []
    for path in dict.fromkeys(p for a, b, _ in shard for p in (a, b)):
        try:
            crops[path] = _crop(job, path)
        except (ValueError, OSError) as exc:
            failed.append((path, str(exc)))
    used = [(a, b, who) for a, b, who in shard if a in crops and b in crops]
    if not used:
        return ShardResult(None, [], failed)
    x = np.stack([crops[a] for a, _, _ in used])
    t = np.stack([crops[b] for _, b, _ in used])
    sums = ExactSums(tuple(x.shape[1:]), histograms=job.histograms).update(x, t)
    return ShardResult(sums, [who for _, _, who in used], failed)


def _crop(job: ShardJob, path: str) -> np.ndarray:
    from .crops import read_crop

    if job.alignment is None or job.aligned:
        return read_crop(path, job.channels)
    from .datasets.prepare import align_image_file

    crop = align_image_file(path, job.alignment).crop
    if job.channels == 3 and crop.shape[2] == 1:
        crop = np.repeat(crop, 3, axis=2)
    return crop


def sum_shards(pairs: Sequence[Pair], job: ShardJob, runner: Any, shard_size: int = 64,
               progress: bool = False) -> ShardResult:
    """All pairs' sums, shard by shard on ``runner``, merged by addition (order-free, exact)."""
    from tqdm import tqdm

    if shard_size < 1:
        raise ValueError(f"shard size must be 1 or more; got {shard_size}")
    shards = [list(pairs[i : i + shard_size]) for i in range(0, len(pairs), shard_size)]
    total = ShardResult(None)
    with tqdm(total=len(pairs), desc="summing shards", unit="pair", disable=not progress) as bar:
        for result in runner.imap_unordered(shard_sums, job, shards, _lost_shard):
            total = total + result
            bar.update(len(result.identities) + len({p for p, _ in result.failed}))
    return total


def _lost_shard(shard: Sequence[Pair], message: str) -> ShardResult:
    raise RuntimeError(f"a training shard could not be run ({message}); nothing was written")


@functools.lru_cache(maxsize=4096)
def is_gray_file(path: str) -> bool:
    """Whether an image file holds one channel (read from its header)."""
    from .datasets.prepare import _is_gray

    return _is_gray(Path(path))
