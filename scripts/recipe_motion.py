"""A recipe's landmark motion next to JAFFE's real neutral -> expression motion, by face region.

JAFFE (research use only: nothing written, nothing committed): for each neutral/expression
pair, the motion of groups of landmarks on the aligned 192 px canvas (x outwards from the
face's midline, y down; mean over the pairs), the real one and the recipe's placed on the
neutral photo with its pose, plus any ``--units`` given (``NAME=AU1:0.6,AU2:0.36,...``, e.g.
the recipe before a change); the mouth's widening and opening, the eyes' opening, and the
mean point error per person (as ``measure_actions.py``) over all 68 points and by region,
next to "no motion". A diagnostic: nothing is fitted to JAFFE.

Run: PIXELFES_DATA=../shared/data PYTHONPATH=src python scripts/recipe_motion.py fearful \\
         --units last=AU1:0.6,AU2:0.36,AU4:0.3,AU5:0.6,AU7:0.18,AU20:0.81,AU26:0.54
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from pixelfes.actions import ActionUnitModel
from pixelfes.evaluate.data import aligned_pairs

DATA = Path(os.environ.get("PIXELFES_DATA", "/work/shared/data"))
GROUPS = {"inner brow heads (21, 22)": [21, 22], "brow middles (19, 24)": [19, 24],
          "outer brow ends (17, 26)": [17, 26], "upper lids": [37, 38, 43, 44],
          "lower lids": [40, 41, 46, 47], "mouth corners": [48, 54], "upper lip (outer)": [50, 51, 52],
          "upper lip (inner)": [61, 62, 63], "lower lip (inner)": [65, 66, 67],
          "lower lip (outer)": [56, 57, 58], "chin": [7, 8, 9]}
REGIONS = {"all": np.arange(68), "brows": np.arange(17, 27), "eyes": np.arange(36, 48),
           "mouth": np.arange(48, 68), "jaw": np.arange(0, 17)}


def outward(d: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """``(N, 68, 2)`` motion with x made positive away from the face's midline (27-30)."""
    side = np.sign(lm[..., 0] - lm[..., 27:31, 0].mean(-1, keepdims=True))
    return np.stack([d[..., 0] * side, d[..., 1]], -1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expression")
    ap.add_argument("--units", action="append", default=[], metavar="NAME=AU1:0.6,...")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/au/cache"))
    args = ap.parse_args()
    p = aligned_pairs(DATA / "jaffe", "neutral", args.expression, cache_dir=args.cache)
    ls, lt, ids = p.landmarks_source, p.landmarks_target, np.array(p.identities)
    models = {"recipe": ActionUnitModel(args.expression).fit()}
    for spec in args.units:
        name, units = spec.split("=", 1)
        models[name] = ActionUnitModel(au={k: float(v) for k, v in (kv.split(":") for kv in units.split(","))}).fit()
    moved = {"real": lt, **{n: np.stack([m.predict_shape(x) for x in ls]) for n, m in models.items()}}
    print(f"{args.expression}: {len(ls)} pairs, {len(set(ids))} people; px on the 192 px canvas "
          "(x outwards, y down)\n")
    print("| landmarks | " + " | ".join(moved) + " |\n|---|" + "---|" * len(moved))
    for g, idx in GROUPS.items():
        cells = [outward(t - ls, ls)[:, idx].mean((0, 1)) for t in moved.values()]
        print(f"| {g} | " + " | ".join(f"{c[0]:+.2f}, {c[1]:+.2f}" for c in cells) + " |")

    def width(t: np.ndarray) -> np.ndarray:
        return np.linalg.norm(t[:, 54] - t[:, 48], axis=1)

    def eye_open(t: np.ndarray) -> np.ndarray:
        return (t[:, [40, 41, 46, 47], 1].mean(1) - t[:, [37, 38, 43, 44], 1].mean(1))

    print("| mouth width (x) | " + " | ".join(f"{(width(t) / width(ls)).mean():.3f}" for t in moved.values()) + " |")
    print("| inner gap 62-66 (px) | " + " | ".join(f"{(t[:, 66, 1] - t[:, 62, 1]).mean():.2f}" for t in moved.values()) + " |")
    print("| eyes opened by (px) | " + " | ".join(f"{(eye_open(t) - eye_open(ls)).mean():+.2f}" for t in moved.values()) + " |")

    def error(t: np.ndarray, idx: np.ndarray) -> float:
        e = np.linalg.norm(t[:, idx] - lt[:, idx], axis=2).mean(1)
        return float(np.mean([e[ids == q].mean() for q in np.unique(ids)]))

    print("\nmean point error (px, per person then averaged): " + ", ".join(REGIONS))
    for name, t in [("no motion", ls)] + [(n, moved[n]) for n in models]:
        print(f"  {name}: " + " / ".join(f"{error(t, idx):.2f}" for idx in REGIONS.values()))


if __name__ == "__main__":
    main()
