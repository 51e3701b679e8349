"""Benchmark: piecewise-affine warp to the reference shape and back, per face.

Target (``docs/design.md`` section 4): both warps together at most 10 ms per face on a 192 x 192
canvas. Prints the median over repeats of each step, in milliseconds.

Faces are synthetic: a real 68-point layout (dlib on skimage's astronaut, as in
tests/test_warp.py) with random per-face landmark jitter and a smile-like motion, and a
random-texture uint8 RGB image. Run: ``python benchmarks/bench_warp.py [--size 192]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys  # noqa: E402
import time
from pathlib import Path  # noqa: E402

import numpy as np

from pixelfes.warp import PiecewiseAffineWarp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import median_ms  # noqa: E402
from conftest import face_layout as layout  # noqa: E402  (dlib's 68 points on the astronaut)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--faces", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    ref = layout(args.size)
    t0 = time.perf_counter()
    warp = PiecewiseAffineWarp(ref, args.size)
    setup = 1e3 * (time.perf_counter() - t0)
    unit = args.size / 192.0
    faces = [ref + rng.normal(0, 1.5 * unit, ref.shape) for _ in range(args.faces)]
    images = [rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8) for _ in faces]

    rows: dict[str, list[float]] = {k: [] for k in ("to_ref", "from_ref", "to_ref_linear", "map_other", "both")}
    for face, img in zip(faces, images, strict=True):
        ref_img = warp.to_reference(img, face)
        rows["to_ref"].append(median_ms(lambda: warp.to_reference(img, face), args.repeats))  # noqa: B023
        rows["from_ref"].append(median_ms(lambda: warp.from_reference(ref_img, face), args.repeats))  # noqa: B023
        rows["to_ref_linear"].append(
            median_ms(lambda: warp.to_reference(img, face, interpolation="linear"), args.repeats)  # noqa: B023
        )
        rows["map_other"].append(median_ms(lambda: warp.backward_map(face, face + 1.0), args.repeats))  # noqa: B023

        def both(img: np.ndarray = img, face: np.ndarray = face) -> None:
            warp.from_reference(warp.to_reference(img, face), face)

        rows["both"].append(median_ms(both, args.repeats))

    print(f"canvas {args.size}x{args.size}, {warp.triangulation.n_triangles} triangles, "
          f"{args.faces} faces, setup {setup:.1f} ms")
    for k, v in rows.items():
        print(f"{k:>14}: median {statistics.median(v):6.2f} ms  (max over faces {max(v):6.2f})")
    print(f"target: to_ref + from_ref <= 10 ms -> {'OK' if statistics.median(rows['both']) <= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
