"""How the smile's eye part moves the eyes, brows and cheeks, against the London smiles, on training people.

For one outer fold of ``scripts/choose_smile.py`` (5 folds, seed 0), its *training* people
only are run as the nested choice's inner 4-fold run does (engine and mouth bank from 3/4,
the other 1/4 changed at full size), for each candidate of ``choose_smile.CANDIDATES``.
68 landmarks are detected on the neutral photo, on the real smile and on every output;
each set is aligned by its own landmarks (the template the shape model is trained in, 192
px canvas) and compared by region: mean vertical motion from the neutral photo (canvas px,
+ down), the eyes' aperture (lid gap / eye width), and the RMS distance of the region's
points to the person's real smile; and the nasolabial band's lightness against the nose
bridge's (:func:`crease_lightness`, L*), its change from the neutral photo and its distance
to the real smile's. Printed with the canvas judges' scores (fer, identity).

Examples:
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/smile_eye_motion.py \\
        --candidates off,eyes8,move8,shade8 --json /tmp/eye_motion.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from pixelfes._atomic import atomic_path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: landmark regions compared (dlib's 68-point numbering)
REGIONS: dict[str, tuple[int, ...]] = {
    "brows": tuple(range(17, 27)),
    "upper lids": (37, 38, 43, 44),
    "lower lids": (40, 41, 46, 47),
    "eye corners": (36, 39, 42, 45),
    "cheek contour": (1, 2, 3, 4, 5, 11, 12, 13, 14, 15),
}


def _choose_smile() -> Any:
    """scripts/choose_smile.py, imported as the other scripts import their neighbours."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import choose_smile

    return choose_smile


def aperture(lm: np.ndarray) -> float:
    """Mean of both eyes' lid gap (two lid pairs) over the eye's width."""
    def one(c0: int, u: tuple[int, int], low: tuple[int, int], c1: int) -> float:
        gap = (np.linalg.norm(lm[u[0]] - lm[low[1]]) + np.linalg.norm(lm[u[1]] - lm[low[0]])) / 2
        return float(gap / np.linalg.norm(lm[c0] - lm[c1]))

    return (one(36, (37, 38), (40, 41), 39) + one(42, (43, 44), (46, 47), 45)) / 2


def eye_measures(lm: np.ndarray) -> dict[str, float]:
    """Eye opening (mean of the four lid gaps 37-41, 38-40, 43-47, 44-46), the lower lids' (40, 41,
    46, 47) and upper lids' (37, 38, 43, 44) mean height, in eye distances (between the eyes'
    centres), ``lm`` in its own template frame (:func:`own_frame`): y down."""
    f = own_frame(np.asarray(lm, dtype=np.float64))
    ed = float(np.linalg.norm(f[36:42].mean(0) - f[42:48].mean(0)))
    gap = np.mean([np.linalg.norm(f[u] - f[v]) for u, v in ((37, 41), (38, 40), (43, 47), (44, 46))])
    return {"opening": float(gap / ed), "lower": float(f[[40, 41, 46, 47], 1].mean() / ed),
            "upper": float(f[[37, 38, 43, 44], 1].mean() / ed)}


#: lower-lid profile offsets (pixelfes.lids.OFFSETS) over which eye_table compares the shading
SHADING_SPAN = (0.03, 0.35)


def eye_table(marks: dict[tuple[str, str], np.ndarray], profiles: dict[tuple[str, str], np.ndarray],
              methods: list[str]) -> dict[str, dict[str, Any]]:
    """Per method (``input`` and ``real target`` included) over the people every method has: the
    eye opening, its change from the input and the lids' motion (eye distances, lower lids up
    negative), the per-person distance of the opening to the real smile's (and the per-person
    values, for paired standard errors), and the lower-lid shading: the log L* profile below
    the lower lids (:func:`pixelfes.lids.lid_profile`) over the input's, relative to the cheek band,
    its RMS distance to the real smile's over ``SHADING_SPAN``."""
    from pixelfes.lids import OFFSETS, _relative

    every = ["input", *methods, "real target"]
    people = sorted({i for i, m in marks if m == "real target"})
    people = [p for p in people if all((p, m) in marks and (p, m) in profiles for m in every)]
    span = (OFFSETS >= SHADING_SPAN[0]) & (OFFSETS <= SHADING_SPAN[1])
    got = {(p, m): eye_measures(marks[(p, m)]) for p in people for m in every}
    rel = {(p, m): _relative(np.log(profiles[(p, m)] + 1.0) - np.log(profiles[(p, "input")] + 1.0))
           for p in people for m in every}
    out: dict[str, dict[str, Any]] = {}
    for m in every:
        d_open = [got[(p, m)]["opening"] - got[(p, "input")]["opening"] for p in people]
        to_real = [abs(got[(p, m)]["opening"] - got[(p, "real target")]["opening"]) for p in people]
        shade = [float(np.sqrt(np.mean((rel[(p, m)][span] - rel[(p, "real target")][span]) ** 2)))
                 for p in people]
        out[m] = {"n": len(people),
                  "opening": float(np.mean([got[(p, m)]["opening"] for p in people])) if people else float("nan"),
                  "opening_change": float(np.mean(d_open)) if people else float("nan"),
                  "lower_dy": float(np.mean([got[(p, m)]["lower"] - got[(p, "input")]["lower"] for p in people]))
                  if people else float("nan"),
                  "upper_dy": float(np.mean([got[(p, m)]["upper"] - got[(p, "input")]["upper"] for p in people]))
                  if people else float("nan"),
                  "opening_to_real": float(np.mean(to_real)) if people else float("nan"),
                  "shading_to_real": float(np.mean(shade)) if people else float("nan"),
                  "profile": np.mean([rel[(p, m)] for p in people], axis=0).tolist() if people else [],
                  "people": {p: {"opening_to_real": a, "shading_to_real": b}
                             for p, a, b in zip(people, to_real, shade, strict=True)}}
    return out


def own_frame(lm: np.ndarray) -> np.ndarray:
    """Landmarks in the canvas frame their own template alignment gives them."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, transform_points

    return transform_points(crop_matrix(lm, DEFAULT_ALIGNMENT), lm)


def crease_lightness(rgb: np.ndarray, lm: np.ndarray, reference: bool = True) -> float:
    """L* of the nasolabial bands minus L* of the nose bridge (medians).

    The bands: 0.2 eye distances wide, outside the lines from the nostrils' outer points
    (31 / 35) to the mouth corners (48 / 54), where a smile's fold lies; the
    nose bridge (a disc of 0.08 eye distances at point 28) barely changes in a smile and
    takes out the photos' exposure (``reference=False``: the band's median L* alone).
    """
    import cv2

    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    x0, y0 = np.floor(lm[[2, 14, 27, 57]].min(0)).astype(int).clip(0)
    x1, y1 = np.ceil(lm[[2, 14, 27, 57]].max(0)).astype(int)
    box = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    lab = cv2.cvtColor(box, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float64) * (100 / 255)
    pts = lm - (x0, y0)
    mask = np.zeros(lab.shape, np.uint8)
    mid = pts[27:31, 0].mean()
    for a, b in ((31, 48), (35, 54)):
        d = pts[b] - pts[a]
        n = np.array([d[1], -d[0]]) / max(np.linalg.norm(d), 1e-9)
        if n[0] * (pts[a, 0] - mid) < 0:
            n = -n  # outward, away from the nose
        inner, outer = pts[[a, b]], pts[[a, b]] + 0.2 * eye * n
        cv2.fillPoly(mask, [np.rint(np.concatenate([inner, outer[::-1]])).astype(np.int32)], 1)
    bridge = np.zeros(lab.shape, np.uint8)
    cv2.circle(bridge, tuple(int(v) for v in np.rint(pts[28])), max(int(0.08 * eye), 2), 1, -1)
    return float(np.median(lab[mask > 0]) - (np.median(lab[bridge > 0]) if reference else 0.0))


def motion_table(marks: dict[tuple[str, str], np.ndarray], methods: list[str]) -> dict[str, dict[str, float]]:
    """Per method (``real target`` included): region motion, aperture and distance to the real smile."""
    people = sorted({i for i, m in marks if m == "real target"})
    people = [p for p in people if all((p, m) in marks for m in ["input", *methods])]
    out: dict[str, dict[str, float]] = {}
    for m in ["input", *methods, "real target"]:
        row: dict[str, float] = {"n": float(len(people))}
        lm = np.stack([own_frame(marks[(p, m)]) for p in people])
        n0 = np.stack([own_frame(marks[(p, "input")]) for p in people])
        real = np.stack([own_frame(marks[(p, "real target")]) for p in people])
        for name, idx in REGIONS.items():
            ix = list(idx)
            row[f"{name}.dy"] = float((lm[:, ix, 1] - n0[:, ix, 1]).mean())
            row[f"{name}.to_real"] = float(np.sqrt(((lm[:, ix] - real[:, ix]) ** 2).sum(-1).mean()))
        row["aperture"] = float(np.mean([aperture(x) for x in lm]))
        out[m] = row
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", default="off,eyes8,move8,shade8")
    p.add_argument("--outer-fold", type=int, default=0, help="whose training people are measured (0-4)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    cs = _choose_smile()
    from pixelfes.evaluate.mouth import summarise_mouths
    from pixelfes.evaluate.mouth_protocol import london_people, pairs_loader, run_mouth_folds
    from pixelfes.evaluate.photo_scores import CropCollector, score_crops
    from pixelfes.splits import kfold_splits

    env = os.environ.get("PIXELFES_DATA")
    data = (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"
    names = args.candidates.split(",")
    for n in names:
        if n not in cs.CANDIDATES:
            p.error(f"--candidates: unknown {n!r}; known: {', '.join(cs.CANDIDATES)}")
    people = london_people(data, "neutral", "happy")
    train, _ = kfold_splits([q.identity for q in people], 5, 0)[args.outer_fold]
    chosen = [people[i] for i in train]
    collector = CropCollector()
    marks: dict[tuple[str, str], np.ndarray] = {}
    crease: dict[tuple[str, str], float] = {}
    band: dict[tuple[str, str], float] = {}

    def hook(person: Any, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        collector(person, method, rgb, landmarks)
        if landmarks is not None:
            marks[(person.identity, method)] = np.asarray(landmarks, dtype=np.float64)
            crease[(person.identity, method)] = crease_lightness(rgb, marks[(person.identity, method)])
            band[(person.identity, method)] = crease_lightness(rgb, marks[(person.identity, method)], False)

    factories = {n: cs.configured(cs.CANDIDATES[n]) for n in names}
    rows = run_mouth_folds(chosen, factories, load_pairs=pairs_loader(data), n_folds=4, seed=0, on_output=hook)
    summary = summarise_mouths(rows)
    judges = score_crops(collector.crops, "happy", ["input", *names, "real target"])
    motion = motion_table(marks, names)
    ids = sorted({i for i, m in crease if m == "real target"})
    ids = [i for i in ids if all((i, m) in crease for m in ["input", *names])]
    for m in ["input", *names, "real target"]:
        motion[m]["crease.dL"] = float(np.mean([crease[(i, m)] - crease[(i, "input")] for i in ids]))
        motion[m]["band.dL"] = float(np.mean([band[(i, m)] - band[(i, "input")] for i in ids]))
        motion[m]["crease.to_real"] = float(np.mean([abs(crease[(i, m)] - crease[(i, "real target")])
                                                     for i in ids]))
    report: dict[str, Any] = {"outer_fold": args.outer_fold, "people": len(chosen), "rows": {}}
    cols = ["fer", "face-api", "identity", "contrast", "tint", "aperture", "crease dL*", "crease ->real",
            "band dL* (no reference)",
            *(f"{r} dy" for r in REGIONS), *(f"{r} ->real" for r in REGIONS)]
    print("| method | " + " | ".join(cols) + " |")
    for m in ["input", *names, "real target"]:
        j, mo = judges[m], motion[m]
        s = summary.get(m, {})
        row = {"fer": j.get("fer.accuracy"), "face-api": j.get("faceapi.accuracy"),
               "identity": j.get("identity.distance"), "contrast": s.get("contrast_error"),
               "tint": s.get("tint_error"), **mo}
        report["rows"][m] = row
        vals = [row["fer"], row["face-api"], row["identity"], row["contrast"], row["tint"], mo["aperture"],
                mo["crease.dL"], mo["crease.to_real"], mo["band.dL"],
                *(mo[f"{r}.dy"] for r in REGIONS), *(mo[f"{r}.to_real"] for r in REGIONS)]
        print(f"| {m} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in vals) + " |", flush=True)
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
