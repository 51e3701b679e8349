"""How the smile's eye part moves the eyes, brows and cheeks, against the London smiles, on training people.

For one outer fold of ``scripts/choose_smile.py`` (5 folds, seed 0), its *training* people
only are run as the nested choice's inner 4-fold run does (engine and mouth bank from 3/4,
the other 1/4 changed at full size), for each candidate of ``choose_smile.CANDIDATES``.
68 landmarks are detected on the neutral photo, on the real smile and on every output;
each set is aligned by its own landmarks (the template the shape model is trained in, 192
px canvas) and compared by region: mean vertical motion from the neutral photo (canvas px,
+ down), the eyes' aperture (lid gap / eye width), and the RMS distance of the region's
points to the person's real smile. Printed with the canvas judges' scores (fer, identity).

Examples:
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/smile_eye_motion.py \\
        --candidates off,eyes8,move8,shade8 --json /tmp/eye_motion.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
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
    spec = importlib.util.spec_from_file_location("choose_smile", REPO / "scripts" / "choose_smile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def aperture(lm: np.ndarray) -> float:
    """Mean of both eyes' lid gap (two lid pairs) over the eye's width."""
    def one(c0: int, u: tuple[int, int], low: tuple[int, int], c1: int) -> float:
        gap = (np.linalg.norm(lm[u[0]] - lm[low[1]]) + np.linalg.norm(lm[u[1]] - lm[low[0]])) / 2
        return float(gap / np.linalg.norm(lm[c0] - lm[c1]))

    return (one(36, (37, 38), (40, 41), 39) + one(42, (43, 44), (46, 47), 45)) / 2


def own_frame(lm: np.ndarray) -> np.ndarray:
    """Landmarks in the canvas frame their own template alignment gives them."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, transform_points

    return transform_points(crop_matrix(lm, DEFAULT_ALIGNMENT), lm)


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

    def hook(person: Any, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        collector(person, method, rgb, landmarks)
        if landmarks is not None:
            marks[(person.identity, method)] = np.asarray(landmarks, dtype=np.float64)

    factories = {n: cs.configured(cs.CANDIDATES[n]) for n in names}
    rows = run_mouth_folds(chosen, factories, load_pairs=pairs_loader(data), n_folds=4, seed=0, on_output=hook)
    summary = summarise_mouths(rows)
    judges = score_crops(collector.crops, "happy", ["input", *names, "real target"])
    motion = motion_table(marks, names)
    report: dict[str, Any] = {"outer_fold": args.outer_fold, "people": len(chosen), "rows": {}}
    cols = ["fer", "face-api", "identity", "contrast", "tint", "aperture",
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
                *(mo[f"{r}.dy"] for r in REGIONS), *(mo[f"{r}.to_real"] for r in REGIONS)]
        print(f"| {m} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in vals) + " |", flush=True)
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
