"""The landmark plausibility check: its measures on real faces and on squeezed, tilted ones.

Run:  python benchmarks/bench_plausible.py [--build] [--n 300]

1. Real faces (London neutral + smiling, JAFFE's seven expressions, the wild crops): the
   distribution of each measure of :mod:`pixelfes.face.plausible` for the detections that
   are faces (detector score >= 0.8) and how many are skipped (should be none), and what
   happens to the other detections (false positives: should be skipped).
2. London neutral photos squeezed to 45-100 % in one direction and tilted by up to 40
   degrees: the landmark error against the equally transformed ``.tem`` points, and how many
   bad fits (error > 0.1 pupil distances) the check catches and good fits (< 0.06) it loses.
``--build`` rewrites ``src/pixelfes/assets/shape/london_mean_68.npy`` (the mean of the
London fits, similarity-aligned) before measuring. JAFFE and the wild crops are used for
measuring only; nothing learned from them is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from london_groups import DLIB_IDX, TEM_IDX, london_neutral, read_tem, squeeze_tilt  # noqa: E402

DATA = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data"))
MEASURES = ("instability", "disagreement", "yaw", "residual")


def fits(rgb: np.ndarray, min_size: float = 40.0):
    """(detection, landmarks, plausibility, skipped?) of every candidate in ``rgb``; skipped
    as :func:`~pixelfes.face.search_faces` decides (stricter for unsure detections)."""
    from pixelfes.face.detect import UNSURE_STRICT, PyramidBackend, fit_landmarks
    from pixelfes.face.plausible import assess

    backend = PyramidBackend()
    out = []
    for d in backend.candidates(rgb, min_size=min_size):
        lm, again = fit_landmarks(rgb, d.keypoints, 68)
        pl = assess(lm, refit=again, keypoints=d.keypoints)
        strict = 1.0 if d.score >= backend.sure else UNSURE_STRICT
        out.append((d, lm, pl, pl.reason(strict) is not None))
    return out


def build_mean(shapes: list[np.ndarray]) -> np.ndarray:
    from pixelfes.face.plausible import normalise

    def align(p: np.ndarray, m: np.ndarray) -> np.ndarray:
        p = normalise(p)
        u, s, vt = np.linalg.svd(m.T @ p)
        d = np.sign(np.linalg.det(u @ vt))
        r = u @ np.diag([1.0, d]) @ vt
        return p @ r.T * float((s * np.array([1.0, d])).sum())

    mean = normalise(shapes[0])
    for _ in range(10):
        mean = normalise(np.mean([align(p, mean) for p in shapes], axis=0))
    return mean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="store_true", help="rebuild the London mean shape first")
    ap.add_argument("--verbose", action="store_true", help="quantiles of each measure")
    ap.add_argument("--n", type=int, default=300, help="squeezed-tilted photos in part 2")
    args = ap.parse_args()
    import cv2

    from pixelfes.face import plausible
    from pixelfes.imageio import load_image

    london = sorted((DATA / "london-face-set").glob("*_front/*.jpg"))
    if not london:
        sys.exit(f"no London photos under {DATA} (set PIXELFES_DATA)")
    if args.build:
        plausible._MEAN[:] = [plausible.normalise(np.random.default_rng(0).normal(size=(68, 2)))]
        shapes = [max(fits(load_image(p).rgb), key=lambda t: t[0].score)[1] for p in london]
        path = REPO / "src" / "pixelfes" / "assets" / "shape" / "london_mean_68.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, build_mean(shapes).astype(np.float64))
        plausible._MEAN.clear()
        print(f"wrote {path.relative_to(REPO)} from {len(shapes)} London fits")

    print("1. real faces (detector score >= 0.8) and other detections")
    sets = {"london": london, "jaffe": sorted((DATA / "jaffe").glob("*.tiff")),
            "wild": sorted((DATA / "wild-crops").glob("*.*"))}
    print(f"  {'set':8s} {'faces':>5s} " + " ".join(f"{m + ' max':>16s}" for m in MEASURES)
          + f" {'skipped':>8s}   {'others':>6s} {'skipped':>8s}")
    for name, files in sets.items():
        real, other = [], []
        for p in files:
            try:
                rgb = load_image(p).rgb
            except (ValueError, OSError):
                continue
            for d, _, pl, skip in fits(rgb, 20.0 if name == "wild" else 40.0):
                (real if d.score >= 0.8 else other).append((pl, skip))
        if not real:
            continue
        mx = [np.nanmax([abs(getattr(p, m)) for p, _ in real]) for m in MEASURES]
        if args.verbose:
            for m in MEASURES:
                v = np.array([abs(getattr(p, m)) for p, _ in real])
                print(f"    {m}: q50 {np.median(v):.3f} q90 {np.quantile(v, 0.9):.3f} q99 {np.quantile(v, 0.99):.3f}")
        print(f"  {name:8s} {len(real):5d} " + " ".join(f"{v:16.3f}" for v in mx)
              + f" {sum(skip for _, skip in real):8d}   {len(other):6d}"
              + f" {sum(skip for _, skip in other):8d}")

    print(f"\n2. {args.n} squeezed (45-100 %) and tilted (<= 40 deg) London neutral photos at 675 px")
    rng = np.random.default_rng(0)
    src = london_neutral(DATA / "london-face-set")
    rows = []
    for k in range(args.n):
        photo, tem = src[k % len(src)]
        rgb = cv2.resize(load_image(photo).rgb, (675, 675), interpolation=cv2.INTER_AREA)
        t = read_tem(tem) * 0.5 - 0.25
        sq = rng.uniform(0.45, 1.0)
        sx, sy = (sq, 1.0) if rng.random() < 0.5 else (1.0, sq)
        img, m = squeeze_tilt(rgb, sx, sy, rng.uniform(-40, 40))
        t = t @ m[:, :2].T + m[:, 2]
        iod = float(np.hypot(*(t[0] - t[1])))
        cands = fits(img)
        if not cands:
            rows.append((np.nan, True))
            continue
        d, lm, pl, skip = min(cands, key=lambda c: np.hypot(*(c[0].keypoints[:2].mean(0) - t[:2].mean(0))))
        err = float(np.linalg.norm(lm[DLIB_IDX] - t[TEM_IDX], axis=1).mean() / iod)
        rows.append([err, skip] + [abs(getattr(pl, m)) for m in MEASURES])
    r = np.array(rows, dtype=float)
    e, skip = r[:, 0], r[:, 1].astype(bool)
    print("  " + " " * 37 + " ".join(f"{m + ' q50/max':>22s}" for m in MEASURES))
    for lo, hi, what in ((0, 0.06, "good"), (0.06, 0.1, "fair"), (0.1, 9, "bad")):
        sel = (e >= lo) & (e < hi)
        q = " ".join(f"{np.median(r[sel, 2 + i]):10.3f}/{r[sel, 2 + i].max():<11.3f}"
                     for i in range(len(MEASURES))) if sel.any() else ""
        print(f"  {what:5s} fits (error {lo:.2f}-{min(hi, 9):.2f}): {sel.sum():4d}, skipped {skip[sel].sum():4d} {q}")
    print(f"  not found: {int(np.isnan(e).sum())};  median error {np.nanmedian(e):.4f}")


if __name__ == "__main__":
    main()
