"""Benchmark: piecewise-affine warp to the reference shape and back, per face.

Target (DESIGN.md section 4): both warps together at most 10 ms per face on a 192 x 192
canvas. Prints the median over repeats of each step, in milliseconds.

Faces are synthetic: a real 68-point layout (dlib on skimage's astronaut, as in
tests/test_warp.py) with random per-face landmark jitter and a smile-like motion, and a
random-texture uint8 RGB image. Run: ``python benchmarks/bench_warp.py [--size 192]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from pixelfes.warp import PiecewiseAffineWarp

ASTRONAUT_68 = np.array([
    [179, 104], [180, 116], [181, 127], [182, 139], [185, 150], [191, 160], [200, 168],
    [209, 176], [220, 178], [232, 177], [243, 171], [253, 163], [260, 154], [265, 143],
    [268, 131], [270, 120], [272, 108], [186, 94], [192, 88], [200, 87], [208, 89],
    [216, 92], [236, 93], [244, 91], [252, 91], [260, 92], [265, 99], [226, 102],
    [225, 111], [225, 119], [225, 127], [214, 131], [219, 133], [224, 134], [229, 133],
    [234, 132], [195, 101], [200, 98], [207, 98], [212, 104], [206, 104], [199, 104],
    [237, 106], [243, 100], [250, 100], [255, 105], [250, 107], [244, 107], [201, 139],
    [209, 139], [218, 139], [224, 141], [230, 140], [238, 140], [246, 141], [238, 151],
    [229, 155], [222, 156], [216, 155], [208, 150], [204, 141], [218, 143], [223, 144],
    [230, 143], [243, 142], [229, 150], [223, 151], [217, 150],
], dtype=np.float64)


def layout(size: int) -> np.ndarray:
    pts = ASTRONAUT_68
    scale = 0.6 * size / (pts[16, 0] - pts[0, 0])
    centre = np.array([0.5 * (pts[0, 0] + pts[16, 0]), 0.5 * (pts[19, 1] + pts[8, 1])])
    return (pts - centre) * scale + np.array([size / 2, 0.54 * size])


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


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
