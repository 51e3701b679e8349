"""The native engine against today's canvas engine on full-size London photos, identity-disjoint.

Run:  PYTHONPATH=src python scripts/native_eval.py --json /tmp/native.json \
          --grid docs/figures/native-mouth-{dir}.jpg

For each of 5 folds over the 82 people: a shape + texture model is trained on the other
4/5 (aligned crops), and the native engine's mouth bank is built from those people's
photos only; the held-out people's 1350 px photos are changed by the canvas engine
(``native=False``, the model's crop pasted back: today's default) and the native engine
(``mouth=auto``). The mouth is measured on each output with 68 landmarks found on the
output itself, against the same person's real photo of the target expression:

- contrast error: |(L* of the inner-lip region - L* of the cheeks) output - the same, real|
  (a closed mouth's inner region is a 3 px band along the inner-lip line);
- tint error: a*b* distance of the inner-lip region's median colour to the real one's;
- detail: mean |Laplacian| of the gray image in the outer-lip box, output / real.

Numbers are means over people, and per ``london_info.csv`` ethnicity group. ``--grid``
writes a 1:1 mouth grid (input | canvas | native | real, 440 x 260 px crops of the
photos at their own size) for ``--grid-people`` (default: 12 held-out people, the six
darkest-skinned first). Needs $PIXELFES_DATA (or ../shared/data) with london-face-set.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DIRECTIONS = {"nh": ("neutral", "happy"), "hn": ("happy", "neutral")}


def data_dir() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"


def mouth_measures(img: np.ndarray, lm: np.ndarray) -> dict:
    """Contrast (L*), median a*b* of the inner-lip region, detail in the outer-lip box."""
    from pixelfes.mouth.colour import lab

    inner = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.rint(lm[60:68] * 16).astype(np.int32)], 1, shift=4)
    if inner.sum() < 20:  # closed: a thin band along the inner-lip line
        cv2.polylines(inner, [np.rint(lm[60:68]).astype(np.int32)], True, 1, 3)
    cheeks = np.zeros(img.shape[:2], np.uint8)
    r = int(round(0.07 * np.linalg.norm(lm[45] - lm[36])))
    for a, b, c in ((2, 31, 41), (14, 35, 46)):
        cc = 0.4 * lm[a] + 0.3 * lm[b] + 0.3 * lm[c]
        cv2.circle(cheeks, (int(cc[0]), int(cc[1])), r, 1, -1)
    x0, y0 = np.floor(lm[48:60].min(0)).astype(int)
    x1, y1 = np.ceil(lm[48:60].max(0)).astype(int)
    box = (slice(max(0, y0 - r), y1 + r), slice(max(0, x0 - r), x1 + r))
    sub = lab(img[box])
    mi = np.median(sub[inner[box] > 0], 0)
    ck = np.median(lab(img[cheeks > 0]), 0)
    gray = cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32)
    return {"contrast": float(mi[0] - ck[0]), "ab": [float(mi[1]), float(mi[2])],
            "detail": float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean())}


def summarise(rows: list[dict], engine: str) -> dict:
    ce, te, de = [], [], []
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        o, real = r[engine], r["real"]
        c = abs(o["contrast"] - real["contrast"])
        ce.append(c)
        groups[r["eth"]].append(c)
        te.append(float(np.hypot(*(np.array(o["ab"]) - real["ab"]))))
        de.append(o["detail"] / real["detail"])
    per = {g: round(float(np.mean(v)), 1) for g, v in sorted(groups.items()) if len(v) >= 3}
    return {"n": len(rows), "contrast_error": round(float(np.mean(ce)), 1),
            "tint_error": round(float(np.mean(te)), 1), "detail": round(float(np.mean(de)), 2),
            "detail_median": round(float(np.median(de)), 2), "contrast_by_group": per,
            "worst_over_best_group": round(max(per.values()) / min(per.values()), 2),
            "ms_median": round(float(np.median([r[engine + "_ms"] for r in rows])), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None, help="write every person's numbers here")
    ap.add_argument("--grid", default=None, help="mouth grid path with {dir} (nh / hn)")
    ap.add_argument("--grid-people", default=None, help="comma-separated ids for the grid")
    ap.add_argument("--out", type=Path, default=None, help="also save every output photo here")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()

    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.datasets import load_pairs
    from pixelfes.evaluate.protocol import kfold_splits
    from pixelfes.face import Face
    from pixelfes.imageio import load_image
    from pixelfes.models import make_model
    from pixelfes.mouth import MouthBank, person_colours
    from pixelfes.mouth.colour import lab
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import find_faces, synthesize_rgb

    root = data_dir()
    eth = {r["face_id"]: r["face_eth"] for r in csv.DictReader(open(root / "london_info.csv"))}
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def photo(pid: str, expr: str) -> tuple[np.ndarray, np.ndarray]:
        name = f"neutral_front/{pid}_03.jpg" if expr == "neutral" else f"smiling_front/{pid}_08.jpg"
        if name not in cache:
            rgb = load_image(root / name).rgb
            cache[name] = (rgb, find_faces(rgb, max_faces=1)[0].landmarks)
        return cache[name]

    pairs = {d: load_pairs(root, s, t, DEFAULT_ALIGNMENT, progress=False) for d, (s, t) in DIRECTIONS.items()}
    people = sorted(set(pairs["nh"].identities))
    rows: list[dict] = []
    outputs: dict[tuple[str, str, str], np.ndarray] = {}
    for fold, (tr, te) in enumerate(kfold_splits(people, args.folds, seed=0)):
        train = [people[i] for i in tr]
        bank = MouthBank.build([photo(p, "happy")[0] for p in train], [photo(p, "happy")[1] for p in train],
                               train, neutral_landmarks=[photo(p, "neutral")[1] for p in train])
        for d, (s, t) in DIRECTIONS.items():
            pa = pairs[d]
            keep = np.isin(pa.identities, train)
            model = make_model("shape-texture").fit(
                pa.X[keep], pa.T[keep], landmarks_source=pa.landmarks_source[keep],
                landmarks_target=pa.landmarks_target[keep], groups=np.asarray(pa.identities)[keep],
                alignment=pa.alignment)
            model.info["target"] = t
            for i in te:
                pid = people[i]
                rgb, lm = photo(pid, s)
                real, real_lm = photo(pid, t)
                row = {"fold": fold, "dir": d, "pid": pid, "eth": eth.get(pid, "?"),
                       "real": mouth_measures(real, real_lm)}
                t0 = time.perf_counter()
                canvas = synthesize_rgb(rgb, model, 1.0, faces=[Face((0.0, 0.0, 1.0, 1.0), 1.0, lm)],
                                        native=False)
                row["canvas_ms"] = 1000 * (time.perf_counter() - t0)
                t0 = time.perf_counter()
                new = rgb.copy()
                info = synthesize_face(rgb, new, lm, model, 1.0, mouth="auto", bank=bank)
                row["native_ms"] = 1000 * (time.perf_counter() - t0)
                row["mode"], row["exemplar"] = info.mouth, info.exemplar
                for name, img in (("canvas", canvas), ("native", new)):
                    row[name] = mouth_measures(img, find_faces(img, max_faces=1)[0].landmarks)
                    outputs[(d, pid, name)] = img
                    if args.out:
                        from PIL import Image

                        (args.out / d).mkdir(parents=True, exist_ok=True)
                        Image.fromarray(img).save(args.out / d / f"{pid}-{name}.png")
                rows.append(row)
                print(fold, d, pid, row["eth"], info.mouth, info.exemplar, flush=True)
    summary = {d: {e: summarise([r for r in rows if r["dir"] == d], e) for e in ("canvas", "native")}
               for d in DIRECTIONS}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    if args.grid:
        dark = sorted(people, key=lambda p: float(lab(person_colours(*photo(p, "neutral")).skin)[0]))
        chosen = args.grid_people.split(",") if args.grid_people else \
            dark[:6] + [p for p in people[::7] if p not in dark[:6]][:6]
        for d, (s, t) in DIRECTIONS.items():
            grid_rows = []
            for pid in chosen:
                rgb, lm = photo(pid, s)
                c = lm[48:68].mean(0) + (0, 10)
                x0, y0 = int(c[0] - 220), int(c[1] - 130)
                tiles = [rgb, outputs[(d, pid, "canvas")], outputs[(d, pid, "native")], photo(pid, t)[0]]
                grid_rows.append(np.concatenate([im[y0:y0 + 260, x0:x0 + 440] for im in tiles], 1))
            path = Path(args.grid.format(dir=d))
            path.parent.mkdir(parents=True, exist_ok=True)
            from PIL import Image

            Image.fromarray(np.concatenate(grid_rows, 0)).save(path, quality=88)
            print("wrote", path, "people", ",".join(chosen))


if __name__ == "__main__":
    main()
