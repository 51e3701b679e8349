"""Per pixel-channel sufficient statistics of training pairs: streaming and mergeable by addition.

Every pixel model here reads one input value per output value, so what training needs
from N pairs is, for each pixel-channel ``p``: the exact moment sums
``N, Σx, Σx², Σt, Σxt`` (Pixel-RR) and, optionally, value histograms over the ``Q``
input levels: the count ``n[p, v]`` and target sum ``s[p, v]`` of samples whose input
is level ``v`` (Pixel-KR, ``docs/design.md`` section 2). Both are sums, so fitting in batches,
or on shards merged with ``+``, gives exactly the same statistics as fitting once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEVELS = 256  # 8-bit crops: every input value is one of 256 levels


@dataclass
class PixelStats:
    """Sufficient statistics of (source, target) values per pixel-channel.

    ``image_shape`` is ``(H, W, C)``; arrays have one row per pixel-channel
    (``P = H * W * C``). Histograms are kept only when ``histograms=True``.
    """

    image_shape: tuple[int, int, int]
    histograms: bool = True
    levels: int = LEVELS
    n: int = 0
    sx: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sxx: np.ndarray = field(default_factory=lambda: np.zeros(0))
    st: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sxt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    counts: np.ndarray | None = None  # (P, Q) float64
    tsums: np.ndarray | None = None  # (P, Q) float64

    def __post_init__(self) -> None:
        p = self.n_values
        for name in ("sx", "sxx", "st", "sxt"):
            if getattr(self, name).size == 0:
                setattr(self, name, np.zeros(p, dtype=np.float64))
        if self.histograms and self.counts is None:
            self.counts = np.zeros((p, self.levels), dtype=np.float64)
            self.tsums = np.zeros((p, self.levels), dtype=np.float64)

    @property
    def n_values(self) -> int:
        """Number of pixel-channels P."""
        h, w, c = self.image_shape
        return h * w * c

    def update(self, x: np.ndarray, t: np.ndarray, chunk: int = 64) -> PixelStats:
        """Add pairs: ``x``, ``t`` float64 in [0, 1] shaped (N, H, W, C). Returns self."""
        if x.shape != t.shape or tuple(x.shape[1:]) != tuple(self.image_shape):
            raise ValueError(
                f"pairs must be shaped (N, {', '.join(map(str, self.image_shape))}); "
                f"got {x.shape} and {t.shape}"
            )
        p = self.n_values
        xf = x.reshape(len(x), p)
        tf = t.reshape(len(t), p)
        self.n += len(xf)
        self.sx += xf.sum(axis=0)
        self.sxx += np.einsum("np,np->p", xf, xf)
        self.st += tf.sum(axis=0)
        self.sxt += np.einsum("np,np->p", xf, tf)
        if self.histograms:
            assert self.counts is not None and self.tsums is not None
            offsets = np.arange(p, dtype=np.int64) * self.levels
            size = p * self.levels
            for i in range(0, len(xf), chunk):
                q = np.rint(xf[i : i + chunk] * (self.levels - 1)).astype(np.int64)
                idx = (q + offsets).ravel()
                self.counts += np.bincount(idx, minlength=size).reshape(p, self.levels)
                self.tsums += np.bincount(
                    idx, weights=tf[i : i + chunk].ravel(), minlength=size
                ).reshape(p, self.levels)
        return self

    def __add__(self, other: PixelStats) -> PixelStats:
        """Statistics of the union of both training sets."""
        if not isinstance(other, PixelStats):
            return NotImplemented
        if (self.image_shape, self.histograms, self.levels) != (
            other.image_shape,
            other.histograms,
            other.levels,
        ):
            raise ValueError(
                "can only merge statistics of the same image shape and kind; got "
                f"{self.image_shape} (histograms={self.histograms}) and "
                f"{other.image_shape} (histograms={other.histograms})"
            )
        return PixelStats(
            image_shape=self.image_shape,
            histograms=self.histograms,
            levels=self.levels,
            n=self.n + other.n,
            sx=self.sx + other.sx,
            sxx=self.sxx + other.sxx,
            st=self.st + other.st,
            sxt=self.sxt + other.sxt,
            counts=None if self.counts is None else self.counts + other.counts,
            tsums=None if self.tsums is None else self.tsums + other.tsums,
        )

    def copy(self) -> PixelStats:
        """A deep copy (statistics are mutated in place by ``update``)."""
        return PixelStats(
            image_shape=self.image_shape,
            histograms=self.histograms,
            levels=self.levels,
            n=self.n,
            sx=self.sx.copy(),
            sxx=self.sxx.copy(),
            st=self.st.copy(),
            sxt=self.sxt.copy(),
            counts=None if self.counts is None else self.counts.copy(),
            tsums=None if self.tsums is None else self.tsums.copy(),
        )
