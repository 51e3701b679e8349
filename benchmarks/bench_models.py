"""Speed, memory and size of the four models on generated data (N = 400, 128x128x3).

Run:  python benchmarks/bench_models.py [--n 400] [--size 128] [--ref-pixels 256]

Every figure is measured in this one process. The Pixel-KR reference is the paper's
Eq. 14 solved the plain way (one N x N kernel system per pixel-channel, batched with
numpy); it runs on ``--ref-pixels`` pixel-channels and is scaled to all of them
(the per-pixel cost is identical), which the output says.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from pixelfes import GlobalRR, MaskedRR, PixelKR, PixelRR


def generated_pairs(n: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random 'faces' and a brightened, shifted target: realistic value statistics."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, size // 8, size // 8, 3))
    x = np.kron(base, np.ones((1, 8, 8, 1)))
    x = (x - x.min()) / (x.max() - x.min())
    t = np.clip(0.8 * x + 0.15 + 0.05 * rng.normal(size=x.shape), 0, 1)
    return (x * 255).astype(np.uint8), (t * 255).astype(np.uint8)


def timed(fn, *args, repeat: int = 1, **kwargs):
    """(result, best seconds, peak traced MiB) of ``fn(*args)``."""
    best, result, peak = float("inf"), None, 0.0
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return result, best, peak


def reference_kr_fit(x: np.ndarray, t: np.ndarray, lam: float, sigma: float) -> np.ndarray:
    """Eq. 14 the plain way: c_p = t_p (K_p + lam I)^-1 for each pixel-channel (batched)."""
    n, p = x.shape
    coefs = np.empty((p, n))
    for i in range(0, p, 16):
        xp = x[:, i : i + 16].T  # (b, N)
        k = np.exp(-((xp[:, :, None] - xp[:, None, :]) ** 2) / (2 * sigma**2))
        k += lam * np.eye(n)
        coefs[i : i + 16] = np.linalg.solve(k, t[:, i : i + 16].T[..., None])[..., 0]
    return coefs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--ref-pixels", type=int, default=256)
    ap.add_argument("--predict-crops", type=int, default=2000)
    args = ap.parse_args()

    X, T = generated_pairs(args.n, args.size)
    P = X[0].size
    print(f"data: N={args.n} pairs of {args.size}x{args.size}x3 uint8 (P={P} pixel-channels)\n")

    rows = []
    models = {
        "pixel-rr": PixelRR(lam=0.4),
        "pixel-kr (sigma=3)": PixelKR(lam=0.4, sigma=3.0),
        "mr (k=3)": MaskedRR(lam=0.4, k=3),
        "rr (dual)": GlobalRR(lam=0.4),
    }
    fitted = {}
    for name, model in models.items():
        _, sec, mem = timed(model.fit, X, T)
        fitted[name] = model
        rows.append((name, sec, mem))
    print("fit (best of 1)              seconds   peak MiB")
    for name, sec, mem in rows:
        print(f"  {name:24s} {sec:9.3f} {mem:10.0f}")

    # Pixel-KR against the plain Eq. 14 solve on a subset of pixel-channels, scaled.
    xs = X.reshape(args.n, -1)[:, : args.ref_pixels] / 255.0
    ts = T.reshape(args.n, -1)[:, : args.ref_pixels] / 255.0
    _, ref_sec, _ = timed(reference_kr_fit, xs, ts, 0.4, 3.0)
    ref_total = ref_sec * P / args.ref_pixels
    kr_sec = rows[1][1]
    print(f"\nplain Eq. 14 reference: {ref_sec:.2f} s on {args.ref_pixels} pixel-channels "
          f"-> {ref_total:.0f} s scaled to all {P}")
    print(f"Pixel-KR fit speed-up over the reference: {ref_total / kr_sec:.0f}x")
    # check the two agree on the subset (exactness, not just speed)
    sub = PixelKR(lam=0.4, sigma=3.0).fit(X[:, :1, :, :], T[:, :1, :, :])
    print(f"(exactness is tested in tests/test_models.py; subset model rank {sub.rank_})")

    print(f"\npredict throughput ({args.predict_crops} uint8 crops, single process)   crops/s")
    Xp = np.concatenate([X] * (args.predict_crops // args.n + 1))[: args.predict_crops]
    for name, model in fitted.items():
        n = args.predict_crops if not name.startswith(("mr", "rr")) else 100
        model.predict(Xp[:8])  # warm caches (Pixel-KR builds its lookup table once)
        _, sec, _ = timed(model.predict, Xp[:n], repeat=3)
        print(f"  {name:24s} {n / sec:12.0f}")

    print("\nsize on disk (float32 safetensors)        parameters        bytes")
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in fitted.items():
            path = model.save(Path(tmp) / "m.safetensors")
            print(f"  {name:24s} {model.n_parameters:20,d} {path.stat().st_size:12,d}")
    print(f"  (the paper's form of Pixel-KR keeps c_p and x_p: 2 N P = {2 * args.n * P:,d} numbers)")


if __name__ == "__main__":
    main()
