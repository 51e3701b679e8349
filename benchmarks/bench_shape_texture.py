"""Speed of the shape + texture model at the default 192 px canvas (after landmarks).

Run:  python benchmarks/bench_shape_texture.py [--data ../shared/data/london-face-set]

Reports: training time on the London set's 82 pairs (alignment excluded: it is the
face pipeline's job and is cached by `pixelfes prepare`), and per face the median
time of the two warps (input onto the predicted shape, texture change from the
reference frame) and of the whole model. Falls back to generated faces when the data
is absent (the timings do not depend on the pictures).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from pixelfes.models.shape_texture import ShapeTextureModel
from pixelfes.warp import remap

REPO = Path(__file__).resolve().parents[1]


def data(path: Path):
    if path.is_dir():
        from pixelfes.datasets import load_pairs

        p = load_pairs(path, "neutral", "happy", progress=False)
        return p.X, p.T, p.landmarks_source, p.landmarks_target, p.identities, "London (82 pairs)"
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from test_shape_texture import synthetic_pairs  # generated faces, 96 px

    X, T, Ls, Lt = synthetic_pairs(82)
    return X, T, Ls, Lt, list(range(82)), "generated (82 pairs, 96 px)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "london-face-set")
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    X, T, Ls, Lt, ids, what = data(args.data)
    t0 = time.perf_counter()
    model = ShapeTextureModel().fit(X, T, Ls, Lt, groups=ids)
    fit_s = time.perf_counter() - t0
    warps, whole = [], []
    for i in range(args.repeat):
        x, lm = X[i % len(X)], Ls[i % len(X)]
        target = model.predict_shape(lm)
        tri = model.warp_.triangulation
        t0 = time.perf_counter()
        raster = tri.raster(target)
        remap(x, raster.backward_map(tri.full_points(lm)))
        ref = model.warp_.to_reference(x, lm)
        remap(ref.astype(np.float32), raster.backward_map(tri.full_points(model.reference_)),
              interpolation="linear")
        warps.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        model.predict(x[None], landmarks=lm[None])
        whole.append((time.perf_counter() - t0) * 1000)
    print(f"data: {what}, canvas {X.shape[1]} px, texture {model.texture}, shape {model.shape_model_.method_}")
    print(f"training: {fit_s:.2f} s")
    print(f"per face, median of {args.repeat}: warps {statistics.median(warps):.1f} ms, "
          f"whole model {statistics.median(whole):.1f} ms")


if __name__ == "__main__":
    main()
