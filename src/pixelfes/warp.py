"""Piecewise-affine warping between two landmark sets on a square canvas.

Why: the pixel models can only change the value at a fixed place, so every face is
moved into one *reference shape* before a pixel model sees it, and the expression's
change of shape is applied by moving pixels. The canvas is cut into triangles once
(Delaunay of the reference landmarks plus fixed points on the canvas border); the same
triangle list is used for every face, so triangle ``t`` is the same patch of every face.

Conventions: points are ``(x, y)`` pixel coordinates with pixel centres at integers,
so the canvas covers ``[-0.5, size - 0.5]`` on both axes. Images are ``(H, W)`` or
``(H, W, C)`` with ``H = W = size``, ``uint8`` or floating point (floats are not
clipped: a warped texture *change* may be negative). A backward map ``(map_x, map_y)``
(each ``(size, size) float32``) says, for every destination pixel, where to read in the
source image, as ``cv2.remap`` expects.

A *fold* is a triangle whose signed area has turned non-positive relative to the
reference orientation (a triangle flipped over or squashed flat): the warp is then no
longer one-to-one. :meth:`Triangulation.find_folds` reports folds and
:func:`limit_motion` shortens a motion so that it creates none.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from ._nomask import has_duplicate_rows

__all__ = [
    "FoldError",
    "Triangulation",
    "PiecewiseAffineWarp",
    "Raster",
    "border_points",
    "box_backward_map",
    "limit_motion",
    "remap",
]

_INTERPOLATION = {"cubic": cv2.INTER_CUBIC, "linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}

# A triangle whose area falls below this fraction of its reference area counts as folded:
# flat (or nearly flat) triangles make the backward map ill-conditioned before they flip.
DEFAULT_MIN_AREA_RATIO = 1e-3


class FoldError(ValueError):
    """A landmark configuration folds the triangulation where that is not allowed."""


def border_points(size: int, per_side: int = 3, margin: float = 0.0) -> np.ndarray:
    """Fixed points on the canvas border: 4 corners + ``per_side`` evenly spaced per side.

    The border is the outer edge of the canvas (``-0.5`` and ``size - 0.5``) moved out by
    ``margin`` pixels, so every pixel centre lies inside the triangulated area and the
    warp is the identity along the canvas border (paste-back then has no seam there).

    Returns ``(4 + 4 * per_side, 2) float64`` points ``(x, y)``.
    """
    size = _check_size(size)
    if int(per_side) != per_side or per_side < 0:
        raise ValueError(f"per_side must be a non-negative integer; got {per_side!r}")
    lo, hi = -0.5 - float(margin), size - 0.5 + float(margin)
    inner = np.linspace(lo, hi, int(per_side) + 2)[1:-1]
    corners = [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]
    sides = (
        [(x, lo) for x in inner]
        + [(hi, y) for y in inner]
        + [(x, hi) for x in inner[::-1]]
        + [(lo, y) for y in inner[::-1]]
    )
    return np.array(corners + sides, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Triangulation:
    """One triangle list over ``K`` landmarks + fixed border points of a ``size`` canvas.

    Build it with :meth:`from_reference`; ``simplices`` index the *full* point list
    (landmarks first, then ``border``), ordered counter-clockwise in image coordinates
    (positive signed area, y pointing down) on the reference shape.
    """

    simplices: np.ndarray  # (T, 3) intp into the full point list
    border: np.ndarray  # (B, 2) float64 fixed points
    n_landmarks: int
    size: int
    reference_areas: np.ndarray = field(repr=False)  # (T,) float64, > 0
    neighbours: np.ndarray = field(repr=False)  # (T, 3): triangle across the edge opposite vertex i, or -1

    @classmethod
    def from_reference(
        cls,
        reference: np.ndarray,
        size: int,
        *,
        per_side: int = 3,
        margin: float = 0.0,
        simplices: np.ndarray | None = None,
    ) -> Triangulation:
        """Triangulate ``reference`` (``(K, 2)`` landmarks ``(x, y)``) plus the canvas border.

        ``simplices`` (``(T, 3)`` ints) reuses a saved triangle list instead of running
        Delaunay again (a loaded model must use exactly the triangles it was trained with).
        Raises ``FoldError`` if the reference itself has a flat triangle.
        """
        size = _check_size(size)
        ref = _check_points(reference, "reference")
        border = border_points(size, per_side, margin)
        full = np.concatenate([ref, border])
        if simplices is None:
            if has_duplicate_rows(np.round(full, 9)):  # np.unique imports numpy.ma
                raise ValueError("reference has duplicate points (or points on the border points)")
            from ._cache import delaunay

            tri = delaunay(full)
        else:
            tri = np.asarray(simplices)
            if tri.ndim != 2 or tri.shape[1] != 3 or not np.issubdtype(tri.dtype, np.integer):
                raise ValueError(f"simplices must be a (T, 3) integer array; got {tri.dtype} {tri.shape}")
            if tri.min() < 0 or tri.max() >= len(full):
                raise ValueError(
                    f"simplices index points 0..{tri.max()}, but there are {len(full)} points "
                    f"({len(ref)} landmarks + {len(border)} border points)"
                )
            tri = tri.astype(np.intp, copy=True)
        areas = _signed_areas(full, tri)
        flip = areas < 0
        tri[flip] = tri[flip][:, [0, 2, 1]]
        areas = np.abs(areas)
        if np.any(areas <= 1e-9 * size * size):
            raise FoldError("the reference shape has a flat triangle; use a reference without collinear points")
        return cls(
            simplices=tri,
            border=border,
            n_landmarks=len(ref),
            size=size,
            reference_areas=areas,
            neighbours=_neighbours(tri),
        )

    @property
    def n_triangles(self) -> int:
        return len(self.simplices)

    def full_points(self, points: np.ndarray, name: str = "points") -> np.ndarray:
        """``(K, 2)`` landmarks -> ``(K + B, 2) float64`` landmarks followed by the border points."""
        pts = _check_points(points, name)
        if len(pts) != self.n_landmarks:
            raise ValueError(f"{name} must have {self.n_landmarks} points (K, 2); got shape {pts.shape}")
        return np.concatenate([pts, self.border])

    def signed_areas(self, points: np.ndarray) -> np.ndarray:
        """Signed area of every triangle for landmarks ``points`` ``(K, 2)``; positive = not flipped."""
        return _signed_areas(self.full_points(points), self.simplices)

    def find_folds(self, points: np.ndarray, min_area_ratio: float = DEFAULT_MIN_AREA_RATIO) -> np.ndarray:
        """``(T,) bool``: triangles flipped or flattened (area below ``min_area_ratio`` x reference area)."""
        return self.signed_areas(points) < min_area_ratio * self.reference_areas

    # -- rasterisation ---------------------------------------------------------------
    def raster(self, points: np.ndarray) -> Raster:
        """Which triangle of the *destination* shape ``points`` ``(K, 2)`` each pixel centre is in.

        ``cv2.fillConvexPoly`` gives a first answer fast, but it also takes pixels up to
        about one pixel outside a triangle; every pixel is then checked with its
        barycentric coordinates and walked to the neighbouring triangle across the edge
        it lies beyond, so the map is exactly piecewise affine even for sliver triangles
        (a closed mouth). Folded triangles are drawn first so that, where triangles
        overlap, the ones that are not folded win.
        """
        full = self.full_points(points)
        n = self.size
        inv = _affine_inverse(full, self.simplices)
        tri_map = np.full((n, n), -1, dtype=np.int32)
        areas = _signed_areas(full, self.simplices)
        order = np.lexsort((areas, areas > 0))  # folded first, then by area
        # fillConvexPoly takes integer vertices (pixel centres at integers, as ours);
        # shift=4 keeps 1/16 px precision.
        polys = np.rint(full * 16).astype(np.int32)[self.simplices]  # (T, 3, 2), gathered once
        for t in order.tolist():
            cv2.fillConvexPoly(tri_map, polys[t], t, lineType=cv2.LINE_8, shift=4)
        missing = tri_map < 0
        if missing.any():  # slivers thinner than a pixel can leave gaps: pick the best triangle
            ys, xs = np.nonzero(missing)
            p = np.stack([xs, ys], axis=1).astype(np.float64)
            ph = np.concatenate([p, np.ones((len(p), 1))], axis=1)
            lam = np.einsum("mi,tij->mtj", ph, inv)  # barycentrics in every triangle (M, T, 3)
            score = lam.min(axis=2)
            score[:, np.abs(2 * areas) < 1e-9] = -np.inf  # a flat triangle holds no pixel
            tri_map[ys, xs] = np.argmax(score, axis=1)
        tri_map = _walk_to_containing(tri_map, inv, self.neighbours)
        return Raster(triangle=tri_map, dest_full=full, simplices=self.simplices, dest_inverse=inv)


@dataclass(frozen=True, eq=False)
class Raster:
    """The triangle of every pixel of one destination shape, plus what maps need from it."""

    triangle: np.ndarray  # (S, S) int32 triangle index per pixel
    dest_full: np.ndarray  # (K + B, 2) destination points incl. border
    simplices: np.ndarray  # (T, 3)
    dest_inverse: np.ndarray = field(repr=False)  # (T, 3, 3): [x, y, 1] @ inv = barycentrics

    @functools.cached_property
    def _flat_triangle(self) -> np.ndarray:
        """``triangle`` flattened as ``intp``, made once: ``take`` converts an int32 index on every
        call (a face's raster is read by two or three maps)."""
        return self.triangle.ravel().astype(np.intp)

    def coefficients(self, source_full: np.ndarray) -> np.ndarray:
        """``(T, 3, 2)`` affine map per triangle: ``[x, y, 1] @ C[t]`` = source ``(x, y)``."""
        return self.dest_inverse @ source_full[self.simplices]

    def backward_map(self, source_full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source coordinates of every destination pixel: ``(map_x, map_y)`` ``(S, S) float32``."""
        # coefficients in float64, per-pixel evaluation in float32: coordinates below a
        # few thousand pixels keep ~1e-4 px precision, and it halves the cost
        c = self.coefficients(source_full).reshape(len(self.simplices), 6).astype(np.float32).T
        tri = self._flat_triangle
        g = [np.ascontiguousarray(row).take(tri) for row in c]  # rows x, y, 1 of the 3x2 matrix
        xx, yy = _pixel_grid(self.triangle.shape[0])
        shape = self.triangle.shape
        mx = xx * g[0] + yy * g[2] + g[4]
        my = xx * g[1] + yy * g[3] + g[5]
        return mx.reshape(shape), my.reshape(shape)

    def barycentric(self) -> tuple[np.ndarray, np.ndarray]:
        """Per pixel, the 3 point indices of its triangle and their barycentric weights.

        ``(weights * source_full[indices]).sum(1)`` is the backward map: worth keeping for a
        destination used many times (the reference shape), where it replaces rasterising.
        Returns ``(indices (S*S, 3) intp, weights (S*S, 3) float64)``.
        """
        xx, yy = _pixel_grid(self.triangle.shape[0])
        tri = self.triangle.ravel()
        p = np.stack([xx, yy, np.ones_like(xx)], axis=1).astype(np.float64)
        w = np.einsum("pi,pij->pj", p, self.dest_inverse[tri])
        return self.simplices[tri], w


@functools.lru_cache(maxsize=8)
def _pixel_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flattened float32 pixel-centre coordinates ``(x, y)`` of an ``n x n`` canvas (read-only)."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    xx, yy = xx.ravel(), yy.ravel()
    xx.flags.writeable = False
    yy.flags.writeable = False
    return xx, yy


class PiecewiseAffineWarp:
    """Warp images between landmark shapes on a ``size`` x ``size`` canvas.

    ``reference`` ``(K, 2)`` fixes the triangle list (and is the shape the texture model
    works in); its raster is computed once, so warping *to* the reference costs one
    gather + one ``cv2.remap``. Warping to any other shape rasterises that shape first.
    """

    def __init__(
        self,
        reference: np.ndarray,
        size: int,
        *,
        per_side: int = 3,
        margin: float = 0.0,
        simplices: np.ndarray | None = None,
    ) -> None:
        self.triangulation = Triangulation.from_reference(
            reference, size, per_side=per_side, margin=margin, simplices=simplices
        )
        self.reference = _check_points(reference, "reference").copy()
        self.size = self.triangulation.size
        self._reference_raster = self.triangulation.raster(self.reference)
        cols, weights = self._reference_raster.barycentric()
        # one contiguous float32 column per triangle corner: three gathers and multiply-adds
        # per coordinate beat a scipy.sparse product once scipy's import time is counted
        self._reference_cols = [np.ascontiguousarray(cols[:, k]) for k in range(3)]
        self._reference_weights = [np.ascontiguousarray(weights[:, k], dtype=np.float32)
                                   for k in range(3)]

    @property
    def simplices(self) -> np.ndarray:
        """``(T, 3)`` triangle list (indices into landmarks + border points); save it with a model."""
        return self.triangulation.simplices

    def backward_map(
        self, src: np.ndarray, dst: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Map for warping an image from shape ``src`` to shape ``dst`` (default: the reference).

        Both are ``(K, 2)`` landmarks. Returns ``(map_x, map_y)`` ``(size, size) float32``:
        destination pixel ``(x, y)`` reads the source at ``(map_x[y, x], map_y[y, x])``.
        """
        tri = self.triangulation
        src_full = tri.full_points(src, "src")
        if dst is None:
            n = self.size
            out = []
            for coord in (src_full[:, 0].astype(np.float32), src_full[:, 1].astype(np.float32)):
                m = self._reference_weights[0] * coord.take(self._reference_cols[0])
                for k in (1, 2):
                    m += self._reference_weights[k] * coord.take(self._reference_cols[k])
                out.append(m.reshape(n, n))
            return out[0], out[1]
        return tri.raster(dst).backward_map(src_full)

    def warp(
        self,
        image: np.ndarray,
        src: np.ndarray,
        dst: np.ndarray | None = None,
        *,
        interpolation: str = "cubic",
    ) -> np.ndarray:
        """Warp ``image`` (``(S, S[, C])`` uint8 or float) from shape ``src`` to ``dst`` (default reference)."""
        _check_image(image, self.size)
        return remap(image, self.backward_map(src, dst), interpolation=interpolation)

    def to_reference(self, image: np.ndarray, src: np.ndarray, *, interpolation: str = "cubic") -> np.ndarray:
        """Warp ``image`` with landmarks ``src`` into the reference shape."""
        return self.warp(image, src, None, interpolation=interpolation)

    def from_reference(self, image: np.ndarray, dst: np.ndarray, *, interpolation: str = "cubic") -> np.ndarray:
        """Warp ``image`` given in the reference shape onto landmarks ``dst``."""
        return self.warp(image, self.reference, dst, interpolation=interpolation)

    def find_folds(self, points: np.ndarray, min_area_ratio: float = DEFAULT_MIN_AREA_RATIO) -> np.ndarray:
        """``(T,) bool`` folded triangles of ``points``; see :meth:`Triangulation.find_folds`."""
        return self.triangulation.find_folds(points, min_area_ratio)

    def limit_motion(
        self, start: np.ndarray, target: np.ndarray, min_area_ratio: float = DEFAULT_MIN_AREA_RATIO
    ) -> float:
        """Largest ``a`` in [0, 1] so that ``start + a (target - start)`` adds no fold; see :func:`limit_motion`."""
        return limit_motion(self.triangulation, start, target, min_area_ratio)


def remap(
    image: np.ndarray,
    maps: tuple[np.ndarray, np.ndarray],
    *,
    interpolation: str = "cubic",
) -> np.ndarray:
    """Resample ``image`` (``(H, W[, C])``, any channel count) once with a backward map.

    Border pixels are replicated. uint8 stays uint8 (OpenCV saturates); floats are
    resampled in float32/float64 and *not* clipped (cubic overshoots slightly).
    """
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}; got {interpolation!r}")
    img = np.asarray(image)
    if img.dtype != np.uint8 and not np.issubdtype(img.dtype, np.floating):
        raise TypeError(f"image must be uint8 or floating point; got {img.dtype}")
    if img.dtype == np.float16:
        img = img.astype(np.float32)
    map_x, map_y = (np.asarray(m, dtype=np.float32) for m in maps)
    if map_x.shape != map_y.shape or map_x.ndim != 2:
        raise ValueError(f"maps must be two 2-D arrays of one shape; got {map_x.shape} and {map_y.shape}")
    flag = _INTERPOLATION[interpolation]

    def one(a: np.ndarray) -> np.ndarray:
        return cv2.remap(np.ascontiguousarray(a), map_x, map_y, flag, borderMode=cv2.BORDER_REPLICATE)

    if img.ndim == 2 or img.shape[2] <= 4:
        out = one(img)
        if img.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
            out = out[..., None]
        return out
    # OpenCV remaps at most 4 channels at once
    parts = [one(img[..., c : c + 4]).reshape(*map_x.shape, -1) for c in range(0, img.shape[2], 4)]
    return np.concatenate(parts, axis=2)


def limit_motion(
    triangulation: Triangulation,
    start: np.ndarray,
    target: np.ndarray,
    min_area_ratio: float = DEFAULT_MIN_AREA_RATIO,
    ignore: np.ndarray | None = None,
) -> float:
    """Largest ``a`` in [0, 1] such that ``start + b (target - start)`` adds no fold for all ``b <= a``.

    Choice: one global factor rather than per-point damping. Shrinking the whole motion
    keeps its shape (the expression just gets weaker); damping single points would bend
    the motion into a shape the model never predicted. The answer is exact, not a
    bisection: with vertices moving linearly, every triangle's signed area is a quadratic
    in ``b``, so the first ``b`` where it reaches the fold threshold is a root.

    Triangles already folded at ``start`` (e.g. crossed inner-lip points of a closed
    mouth) are ignored: they may unfold, and they do not block the motion. ``ignore``
    ``(T,) bool`` names more triangles allowed to fold (e.g. inside lips that close).
    """
    full0 = triangulation.full_points(start, "start")
    full1 = triangulation.full_points(target, "target")
    tri = triangulation.simplices
    p0, p1 = full0[tri], full1[tri]  # (T, 3, 2)
    d = p1 - p0
    # area(b) = 0.5 * cross(e1 + b f1, e2 + b f2) with e = edge at start, f = edge change
    e1, e2 = p0[:, 1] - p0[:, 0], p0[:, 2] - p0[:, 0]
    f1, f2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]

    def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]

    thr = min_area_ratio * triangulation.reference_areas
    c0 = 0.5 * cross(e1, e2) - thr
    c1 = 0.5 * (cross(e1, f2) + cross(f1, e2))
    c2 = 0.5 * cross(f1, f2)
    ok = c0 >= 0  # not folded at the start: these must stay unfolded
    if ignore is not None:
        ok &= ~np.asarray(ignore, dtype=bool)
    first = _first_root_in_unit(c2[ok], c1[ok], c0[ok])
    a = float(first.min(initial=1.0))
    if a < 1.0:
        # step back a hair so the returned shape is strictly unfolded in floating point
        a = max(0.0, a * (1.0 - 1e-9) - 1e-12)
    return a


def box_backward_map(
    triangulation: Triangulation,
    src_full: np.ndarray,
    dst_full: np.ndarray,
    box: tuple[int, int, int, int],
    *,
    rows: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact piecewise-affine backward map over the pixel box ``(x0, y0, x1, y1)`` of any frame.

    ``src_full``/``dst_full`` (``(K + B, 2)``: landmarks then border points, as
    :meth:`Triangulation.full_points` gives on the canvas) may be expressed in *any* frame
    reached from the canvas by a similarity or affine map (e.g. a photo): an affine map
    sends triangles to triangles, so ``photo -> crop``, the canvas warp and ``crop -> photo``
    composed is again piecewise affine over the same triangle list, and it is evaluated
    here directly at every pixel centre of the box, with no intermediate grid. Pixels
    outside the triangulated area (beyond the canvas border) do not move; pixels in
    sub-pixel gaps between slivers take the least-outside triangle's map. Triangles
    thinner than ``_THIN_PX`` (lips pressed together: their source triangle is a whole
    strip of teeth) own no pixel: drawn, they would paint a one-pixel line sampled across
    that strip (the dark dashes at closed lip corners); their pixels go to a neighbour.
    Processed in bands of ``rows`` rows so memory stays bounded on huge photos.
    Returns ``(map_x, map_y)`` ``(y1 - y0, x1 - x0) float32`` in the same frame.
    """
    x0, y0, x1, y1 = (int(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0; got {box}")
    src = np.asarray(src_full, dtype=np.float64)
    dst = np.asarray(dst_full, dtype=np.float64)
    simp = triangulation.simplices
    inv = _affine_inverse(dst, simp)
    coef = (inv @ src[simp]).reshape(len(simp), 6)  # [x, y, 1] @ C = source (x, y)
    areas = _signed_areas(dst, simp)
    usable = _heights(dst, simp) >= _THIN_PX
    order = np.lexsort((areas, areas > 0))  # folded first: unfolded triangles win overlaps
    order = order[usable[order]]
    w = x1 - x0
    map_x = np.empty((y1 - y0, w), np.float32)
    map_y = np.empty((y1 - y0, w), np.float32)
    for r0 in range(y0, y1, max(1, int(rows))):
        r1 = min(y1, r0 + max(1, int(rows)))
        h = r1 - r0
        # band-local coordinates keep float32 precise on huge photos
        shift = np.array([x0, r0], dtype=np.float64)
        local = dst - shift
        tri_map = np.full((h, w), -1, dtype=np.int32)
        fixed = np.rint(local * 16).astype(np.int64)
        lo = local[simp].min(axis=1)
        hi = local[simp].max(axis=1)
        touches = (hi[:, 1] >= -1) & (lo[:, 1] <= h) & (hi[:, 0] >= -1) & (lo[:, 0] <= w)
        polys = fixed[simp].astype(np.int32)  # (T, 3, 2), gathered once
        for t in order[touches[order]].tolist():
            cv2.fillConvexPoly(tri_map, polys[t], t, lineType=cv2.LINE_8, shift=4)
        # flattened pixel centres (the same values as np.mgrid's, without its int64 pass)
        grid = (np.tile(np.arange(w, dtype=np.float32), h), np.repeat(np.arange(h, dtype=np.float32), w))
        inv_local = _affine_inverse(local, simp)
        missing = tri_map < 0
        outside = np.zeros((h, w), dtype=bool)
        if missing.any():
            hull = np.zeros((h, w), dtype=np.uint8)
            cv2.fillConvexPoly(hull, cv2.convexHull(fixed.astype(np.int32)), 1,
                               lineType=cv2.LINE_8, shift=4)
            outside = missing & (hull == 0)
            missing &= ~outside
        cand = np.flatnonzero(usable & (np.abs(2 * areas) >= 1e-9))
        if missing.any():  # sub-pixel gaps between slivers: the least-outside triangle
            ys, xs = np.nonzero(missing)
            tri_map[ys, xs] = _least_outside(xs, ys, inv_local, cand)
        tri_map[outside] = 0
        tri_map = _walk_to_containing(tri_map, inv_local, triangulation.neighbours, grid=grid,
                                       skip=outside)
        flat = tri_map.ravel().astype(np.intp)  # (indexed once: take converts int32 on every call)
        thin = ~usable.take(flat).reshape(h, w) & ~outside  # the walk may step into a sliver: step back out
        if thin.any() and len(cand):
            ys, xs = np.nonzero(thin)
            picked = _least_outside(xs, ys, inv_local, cand)
            tri_map[ys, xs] = picked
            flat[ys * w + xs] = picked
        # evaluate in band-local destination coordinates: C' = shifted rows of C
        c = coef.copy()
        c[:, 4] += x0 * coef[:, 0] + r0 * coef[:, 2]
        c[:, 5] += x0 * coef[:, 1] + r0 * coef[:, 3]
        cols = [np.ascontiguousarray(c[:, k], dtype=np.float64).take(flat) for k in range(6)]
        gx, gy = grid
        map_x[r0 - y0 : r1 - y0] = (gx * cols[0] + gy * cols[2] + cols[4]).reshape(h, w)
        map_y[r0 - y0 : r1 - y0] = (gx * cols[1] + gy * cols[3] + cols[5]).reshape(h, w)
        if outside.any():  # beyond the triangulated area (the canvas border) nothing moves
            oy, ox = np.nonzero(outside)
            map_x[r0 - y0 + oy, ox] = ox + x0
            map_y[r0 - y0 + oy, ox] = oy + r0
    return map_x, map_y


# -- helpers ------------------------------------------------------------------------------

_THIN_PX = 0.5  # destination triangles lower than this (pixels) own no pixel of their own


def _heights(full: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    """``(T,)`` smallest height of each triangle (twice its area over its longest edge), >= 0."""
    v = full[simplices]
    edges = np.linalg.norm(v - np.roll(v, 1, axis=1), axis=2).max(axis=1)
    return np.abs(2 * _signed_areas(full, simplices)) / np.maximum(edges, 1e-12)


def _least_outside(xs: np.ndarray, ys: np.ndarray, inv: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Per pixel ``(xs, ys)``, the triangle of ``cand`` whose smallest barycentric is largest
    (the first of ``cand`` on a tie)."""
    px = np.asarray(xs, dtype=np.float64)[:, None]
    py = np.asarray(ys, dtype=np.float64)[:, None]
    best = np.full(len(px), -np.inf)
    pick = np.zeros(len(px), dtype=np.int32)
    # each barycentric as its own (M, B) plane: [x, y, 1] @ inv summed as einsum("mi,tij->mtj")
    # sums it (the same products in the same order: the same floats), without a last axis of 3
    # (numpy's broadcasts and its min over it took ~30x the arithmetic)
    planes = [[np.ascontiguousarray(inv[:, r, k]) for r in range(3)] for k in range(3)]
    step = max(32, (1 << 18) // max(len(px), 1))  # bounded (M, B) blocks
    for start in range(0, len(cand), step):
        c = cand[start:start + step]
        lam = [px * ax.take(c)[None] + py * ay.take(c)[None] + a1.take(c)[None] for ax, ay, a1 in planes]
        score = np.minimum(np.minimum(lam[0], lam[1]), lam[2])
        j = np.argmax(score, axis=1)
        s = score[np.arange(len(px)), j]
        better = s > best
        best = np.where(better, s, best)
        pick = np.where(better, c[j], pick).astype(np.int32)
    return pick



def _first_root_in_unit(c2: np.ndarray, c1: np.ndarray, c0: np.ndarray) -> np.ndarray:
    """Smallest root in (0, 1] of ``c2 b^2 + c1 b + c0`` per row (``c0 >= 0``), else 1."""
    out = np.ones_like(c0)
    tiny = 1e-12 * (np.abs(c0) + np.abs(c1) + np.abs(c2) + 1e-300)
    lin = np.abs(c2) <= tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        r_lin = np.where(c1 < 0, -c0 / c1, np.inf)
        disc = c1 * c1 - 4 * c2 * c0
        sq = np.sqrt(np.maximum(disc, 0.0))
        # numerically stable pair of roots
        q = -0.5 * (c1 + np.copysign(sq, c1))
        r1 = np.where(q != 0, c0 / q, np.inf)
        r2 = np.where(c2 != 0, q / c2, np.inf)
    roots = np.stack([r1, r2], axis=1)
    roots = np.where((disc >= 0)[:, None] & (roots >= 0), roots, np.inf)
    r_quad = roots.min(axis=1)
    r = np.where(lin, r_lin, r_quad)
    r = np.where(c0 == 0, 0.0, r)  # exactly at the threshold already: no room to move
    return np.minimum(out, r)


def _affine_inverse(full: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` inverses of ``[[x, y, 1]]`` per triangle: ``[x, y, 1] @ inv`` = barycentrics.

    Closed form (adjugate / determinant). A flat triangle gets a constant map to its
    centroid (it covers no pixel of its own).
    """
    v = full[simplices]
    x0, y0 = v[:, 0, 0], v[:, 0, 1]
    x1, y1 = v[:, 1, 0], v[:, 1, 1]
    x2, y2 = v[:, 2, 0], v[:, 2, 1]
    det = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    flat = np.abs(det) < 1e-9
    det = np.where(flat, 1.0, det)
    inv = np.empty((len(v), 3, 3))
    # row r of inv: coefficient of x (r=0), y (r=1), 1 (r=2); column i: barycentric i
    inv[:, 0, 0], inv[:, 0, 1], inv[:, 0, 2] = y1 - y2, y2 - y0, y0 - y1
    inv[:, 1, 0], inv[:, 1, 1], inv[:, 1, 2] = x2 - x1, x0 - x2, x1 - x0
    inv[:, 2, 0] = x1 * y2 - x2 * y1
    inv[:, 2, 1] = x2 * y0 - x0 * y2
    inv[:, 2, 2] = x0 * y1 - x1 * y0
    inv /= det[:, None, None]
    inv[flat] = 0.0
    inv[flat, 2, :] = 1.0 / 3.0
    return inv


def _neighbours(simplices: np.ndarray) -> np.ndarray:
    """``(T, 3)``: the triangle sharing the edge opposite local vertex ``i`` (-1 on the hull)."""
    t = len(simplices)
    edges = np.stack([simplices[:, [1, 2]], simplices[:, [2, 0]], simplices[:, [0, 1]]], axis=1)
    edges = np.sort(edges.reshape(-1, 2), axis=1)  # (3T, 2), row 3 * t + i
    key = edges[:, 0] * (simplices.max() + 1) + edges[:, 1]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = np.nonzero(ks[1:] == ks[:-1])[0]
    out = np.full(3 * t, -1, dtype=np.intp)
    a, b = order[same], order[same + 1]
    out[a] = b // 3
    out[b] = a // 3
    return out.reshape(t, 3)


def _walk_to_containing(
    tri_map: np.ndarray, inv: np.ndarray, neighbours: np.ndarray, max_steps: int = 6,
    grid: tuple[np.ndarray, np.ndarray] | None = None, skip: np.ndarray | None = None,
) -> np.ndarray:
    """Move every pixel that lies outside its triangle to the neighbour across that edge.

    Keeps, per pixel, the triangle with the largest smallest barycentric coordinate seen
    (so folded, overlapping configurations still end in a sensible triangle). ``grid``:
    flattened pixel-centre coordinates ``(x, y)`` of ``tri_map`` (default: the square canvas);
    ``skip``: pixels (bool, shaped like ``tri_map``) left where they are.
    """
    xx, yy = _pixel_grid(tri_map.shape[0]) if grid is None else grid
    # columns 1 and 2 of each inverse (barycentrics 1 and 2); barycentric 0 = 1 - the others
    cols = [np.ascontiguousarray(inv[:, r, c], dtype=np.float32) for c in (1, 2) for r in range(3)]
    tol = -1e-4  # float32 barycentrics of coordinates < 1e4 are good to ~1e-6

    def bary(x: np.ndarray, y: np.ndarray, tri: np.ndarray) -> np.ndarray:
        g = [c.take(tri) for c in cols]  # 1-D gathers are faster than one 2-D gather
        l1 = x * g[0] + y * g[1] + g[2]
        l2 = x * g[3] + y * g[4] + g[5]
        return np.stack([1.0 - l1 - l2, l1, l2])

    t = tri_map.ravel().astype(np.intp)
    # the first pass over every pixel without stacking (N, 3): only the few outside stack
    g = [c.take(t) for c in cols]
    l1 = xx * g[0] + yy * g[1] + g[2]
    l2 = xx * g[3] + yy * g[4] + g[5]
    l0 = 1.0 - l1 - l2
    worst = np.minimum(np.minimum(l0, l1), l2)
    bad = worst < tol
    if skip is not None:
        bad &= ~skip.ravel()
    idx = np.flatnonzero(bad)
    cur, best_w, lam = t[idx], worst[idx], np.stack([l0[idx], l1[idx], l2[idx]])
    best_t = cur.copy()
    for _ in range(max_steps):
        if len(idx) == 0:
            break
        nxt = neighbours[cur, np.argmin(lam, axis=0)]
        go = nxt >= 0
        idx, cur, best_t, best_w = idx[go], nxt[go], best_t[go], best_w[go]
        lam = bary(xx[idx], yy[idx], cur)
        w = lam.min(axis=0)
        better = w > best_w
        best_t = np.where(better, cur, best_t)
        best_w = np.where(better, w, best_w)
        t[idx] = best_t
        still = w < tol
        idx, cur, best_t, best_w, lam = idx[still], cur[still], best_t[still], best_w[still], lam[:, still]
    return t.reshape(tri_map.shape).astype(np.int32)


def _signed_areas(full: np.ndarray, simplices: np.ndarray) -> np.ndarray:
    p = full[simplices]
    e1 = p[:, 1] - p[:, 0]
    e2 = p[:, 2] - p[:, 0]
    return 0.5 * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])


def _check_size(size: object) -> int:
    try:
        s = int(size)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"size must be an integer number of pixels; got {size!r}") from exc
    if s != size or s < 2:
        raise ValueError(f"size must be an integer >= 2; got {size!r}")
    return s


def _check_points(points: object, name: str) -> np.ndarray:
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of (x, y) points; got {type(points).__name__}") from exc
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError(f"{name} must be shaped (K, 2) with K >= 3 (x, y) points; got shape {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ValueError(f"{name} contains NaN or infinite coordinates")
    return pts


def _check_image(image: object, size: int) -> None:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array (S, S[, C]); got {type(image).__name__}")
    if image.ndim not in (2, 3) or image.shape[:2] != (size, size):
        raise ValueError(f"image must be shaped ({size}, {size}[, C]) to match the canvas; got {image.shape}")
