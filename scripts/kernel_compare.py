"""How a photo resampling kernel differs from the cubic: London photos x the six recipes.

Run: PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/kernel_compare.py \\
         --kernel cubic2x --ids 003,034,062,096,126,134,001,004,013,025,099,137 \\
         --json /tmp/kc/stats.json [--crops /tmp/kc/crops --crop-ids 062,096,126,134,034,003]

For each person's 1350 px neutral photo and each recipe, the action-unit step
(``ActionUnitModel.synthesize_in_photo``) with the cubic and with ``--kernel``; over the
pixels either changes: mean |diff| (levels, every channel), its 99.9th percentile and
largest, the share above 2 levels, and the face's sharpness there (mean |Laplacian| of
gray, as docs/actions.md's fourth pass) as a ratio to the cubic's (and the input's own).
``--coarse 2,3,4`` instead measures the other lever, a coarser map: the canvas displacement
warped to every S-th box pixel and brought up with a linear warp, against the map as made
(every pixel), outside the lips' exact box, over the moving pixels (px, per recipe), and the
CPU time of the two warps both ways, alternating. ``--crops`` writes 1:1 crops at 3x (eyes with brows, lips): input | cubic | kernel side by
side, for looking at; London photos (CC BY 4.0) only, scratch output outside the repo.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np

from pixelfes.imageio import load_image, save_image
from pixelfes.pipeline import find_faces, resolve_model

DATA = Path(os.environ.get("PIXELFES_DATA", "/work/shared/data"))
RECIPES = ("happy", "sad", "surprised", "fearful", "angry", "disgusted")


def sharpness(img: np.ndarray, mask: np.ndarray) -> float:
    """Mean |Laplacian| of the gray image over ``mask``."""
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(g, cv2.CV_32F))[mask].mean())


def crops(photo: np.ndarray, lm: np.ndarray, outs: list[np.ndarray], path: Path) -> None:
    """Eyes with brows and lips at 3x (nearest), each row: input | cubic | kernel."""
    rows = []
    for pts, pad in ((lm[17:27].tolist() + lm[36:48].tolist(), 12), (lm[48:68].tolist(), 25)):
        p = np.array(pts)
        x0, y0 = (p.min(0) - pad).astype(int).clip(0)
        x1, y1 = (p.max(0) + pad).astype(int)
        tiles = [cv2.resize(o[y0:y1, x0:x1], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
                 for o in [photo] + outs]
        rows.append(np.concatenate([np.pad(t, ((4, 4), (4, 4), (0, 0)), constant_values=255) for t in tiles], 1))
    w = max(r.shape[1] for r in rows)
    save_image(np.concatenate([np.pad(r, ((0, 0), (0, w - r.shape[1]), (0, 0)), constant_values=255)
                                     for r in rows], 0), path)


def coarse_map(model: object, photo: np.ndarray, lm: np.ndarray, steps: list[int], repeat: int = 11
               ) -> list[dict[str, float]]:
    """The map's displacement made on every ``S``-th box pixel and upsampled linearly, against
    the map as made (``PhotoMap.rows``), outside the exact box over the lips, where it moves:
    error percentiles (px) and CPU ms of the two displacement warps both ways (alternating)."""
    import time

    import pixelfes.native as nat
    from pixelfes.face.align import crop_matrix, transform_points

    m = crop_matrix(np.asarray(lm, np.float64), model.alignment_)  # type: ignore[attr-defined]
    clm = transform_points(m, np.asarray(lm, np.float64))
    target, raster, _, _ = model._plan(clm, 1.0, with_map=False)  # type: ignore[attr-defined]
    pm = nat.plan_photo_map(m, model.warp_.triangulation, model.warp_source(clm, target),  # type: ignore[attr-defined]
                            target, model.alignment_, photo.shape[:2], raster=raster)  # type: ignore[attr-defined]
    assert pm is not None
    x0, y0, x1, y1 = pm.box
    h, w = y1 - y0, x1 - x0
    mx, my, _, still = pm.rows(0, h)
    dx = mx - np.arange(x0, x1, dtype=np.float32)[None]
    dy = my - np.arange(y0, y1, dtype=np.float32)[:, None]
    keep = ~still
    if pm.exact is not None:
        ex0, ey0, ex1, ey1 = pm.exact[0]
        keep[ey0:ey1, ex0:ex1] = False
    flags = cv2.INTER_LINEAR
    rows = []
    for s in steps:
        cm = np.vstack([pm.matrix, [0, 0, 1]])[:2] / s  # crop -> coarse grid (box pixel s j is j)
        hc, wc = (h - 1) // s + 2, (w - 1) // s + 2
        up = np.array([[1 / s, 0, 0], [0, 1 / s, 0]], np.float64)  # box pixel i reads coarse i / s

        def fine() -> list[np.ndarray]:
            return [cv2.warpAffine(a, pm.matrix, (w, h), flags=flags) for a in (pm.dx, pm.dy)]

        def coarse(cm: np.ndarray = cm, wc: int = wc, hc: int = hc, up: np.ndarray = up) -> list[np.ndarray]:
            return [cv2.warpAffine(cv2.warpAffine(a, cm, (wc, hc), flags=flags), up, (w, h),
                                   flags=flags | cv2.WARP_INVERSE_MAP) for a in (pm.dx, pm.dy)]
        cx, cy = coarse()
        err = np.hypot(cx - dx, cy - dy)[keep]
        t: dict[str, list[float]] = {"fine": [], "coarse": []}
        for _ in range(repeat):
            for k, fn in (("fine", fine), ("coarse", coarse)):
                t0 = time.process_time()
                fn()
                t[k].append(time.process_time() - t0)
        rows.append({"step": s, "p50": float(np.median(err)), "p99": float(np.percentile(err, 99)),
                     "p999": float(np.percentile(err, 99.9)), "max": float(err.max()),
                     "fine_ms": 1000 * float(np.median(t["fine"])), "coarse_ms": 1000 * float(np.median(t["coarse"]))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel", default="cubic2x")
    ap.add_argument("--ids", default="003,034,062,096,126,134,001,004,013,025,099,137")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--crops", type=Path)
    ap.add_argument("--crop-ids", default="062,096,126,134,034,003")
    ap.add_argument("--crop-recipes", default="surprised,disgusted")
    ap.add_argument("--coarse", default="", help="only the coarse map's error and time, at these grid steps")
    args = ap.parse_args()
    folder = DATA / "london-face-set" / "neutral_front"
    models = {r: resolve_model(None, "neutral", r, engine="actions") for r in RECIPES}
    rows = []
    for pid in args.ids.split(","):
        photo = load_image(next(folder.glob(f"{pid}_*.jpg"))).rgb
        lm = find_faces(photo)[0].landmarks
        if args.coarse:
            for r, m in models.items():
                for c in coarse_map(m, photo, lm, [int(v) for v in args.coarse.split(",")]):
                    rows.append({"id": pid, "recipe": r, **c})
                    print(f"{pid} {r:9s} every {c['step']:.0f} px: error p50 {c['p50']:.4f}, p99 {c['p99']:.3f}, "
                          f"p99.9 {c['p999']:.3f}, max {c['max']:.2f} px; warps {c['fine_ms']:.2f} -> "
                          f"{c['coarse_ms']:.2f} ms", flush=True)
            continue
        for r, m in models.items():
            cubic = m.synthesize_in_photo(photo, lm, interpolation="cubic")
            other = m.synthesize_in_photo(photo, lm, interpolation=args.kernel)
            changed = (cubic != photo).any(2) | (other != photo).any(2)
            d = np.abs(other.astype(np.int16) - cubic.astype(np.int16))[changed]
            s_c = sharpness(cubic, changed)
            row = {"id": pid, "recipe": r, "changed_mp": float(changed.sum() / 1e6),
                   "mean": float(d.mean()), "p999": float(np.percentile(d, 99.9)), "max": int(d.max()),
                   "over2": float((d > 2).mean()), "sharp": sharpness(other, changed) / s_c,
                   "input_sharp": sharpness(photo, changed) / s_c}
            rows.append(row)
            print(f"{pid} {r:9s} {row['changed_mp']:.2f} MP: mean {row['mean']:.3f}, p99.9 {row['p999']:.0f}, "
                  f"max {row['max']}, >2 {100 * row['over2']:.2f} %, sharpness {row['sharp']:.3f} "
                  f"(input {row['input_sharp']:.3f})", flush=True)
            if args.crops and pid in args.crop_ids.split(",") and r in args.crop_recipes.split(","):
                args.crops.mkdir(parents=True, exist_ok=True)
                crops(photo, lm, [cubic, other], args.crops / f"{pid}_{r}.png")
    if args.coarse:
        for step in sorted({row["step"] for row in rows}):
            sub = [row for row in rows if row["step"] == step]
            print(f"every {step:.0f} px: " + ", ".join(
                f"{k} {min(r[k] for r in sub):.3f}-{max(r[k] for r in sub):.3f}"
                for k in ("p99", "p999", "max", "fine_ms", "coarse_ms")))
    else:
        for key in ("mean", "p999", "max", "over2", "sharp", "input_sharp"):
            v = [row[key] for row in rows]
            print(f"{key:12s} min {min(v):.3f} median {np.median(v):.3f} max {max(v):.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
