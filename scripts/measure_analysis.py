"""How ``pixelfes analyze`` reads real expressions: JAFFE and London, per expression.

For each photo pair (same person, neutral and expression) the estimated unit intensities
of the expression minus those of the neutral photo, averaged over pairs; the neutral
photos' own mean intensities show the noise floor; how many pose rounds the fit took. JAFFE
is research-only: numbers only, printed and written under --out.

``--to-neutral`` adds what depends on the analysis: ``--to neutral`` from each real
expression photo against the same person's neutral photo (mean landmark error, px on the
192 px canvas, per person then averaged; "no motion" next to it), and the choice of
``NEUTRAL_FLOOR`` on London's smiles made on training people only: 5 identity-disjoint
folds (``pixelfes.splits.group_kfold``, seed 0) of the people outside the blind test
(``scripts/blind_expressions.py`` ``BLIND_PEOPLE``); each fold's floor is the one with the
least error on the other four, reported on the held-out fold; the shipped floor is the one
chosen on all of those people; the blind-test people are reported, never chosen on.

Run: PYTHONPATH=src python scripts/measure_analysis.py --out /tmp/au/analysis.json
     PYTHONPATH=src python scripts/measure_analysis.py --to-neutral --ridges 0.001,0.01,0.03,0.1,inf \\
         --out /tmp/au/analysis.json     # ~1 min
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from pixelfes.actions import ANALYSIS_UNITS, ActionUnitModel, analysis, estimate_units
from pixelfes.actions import model as au_model
from pixelfes.evaluate.data import aligned_pairs
from pixelfes.splits import group_kfold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_expressions import BLIND_PEOPLE  # noqa: E402

DATA = Path(os.environ.get("PIXELFES_DATA", "/work/shared/data"))
SETS = [("london-face-set", "happy"), ("jaffe", "happy"), ("jaffe", "sad"), ("jaffe", "surprised"),
        ("jaffe", "fearful"), ("jaffe", "angry"), ("jaffe", "disgusted")]
FLOORS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def _to_neutral_errors(ls: np.ndarray, lt: np.ndarray, floor: float) -> np.ndarray:
    """Per pair: mean landmark error of ``--to neutral`` (with ``floor``) from ``lt`` to ``ls``."""
    keep = au_model.NEUTRAL_FLOOR
    au_model.NEUTRAL_FLOOR = floor  # read at call time by ActionUnitModel.face_weights
    try:
        neutral = ActionUnitModel("neutral").fit()
        back = np.stack([neutral.predict_shape(lm) for lm in lt])
    finally:
        au_model.NEUTRAL_FLOOR = keep
    return np.linalg.norm(back - ls, axis=2).mean(axis=1)


def _per_person(e: np.ndarray, ids: np.ndarray) -> float:
    return float(np.mean([e[ids == q].mean() for q in np.unique(ids)]))


def choose_floor(ls: np.ndarray, lt: np.ndarray, ids: np.ndarray) -> dict:
    """NEUTRAL_FLOOR chosen on training folds of the people outside the blind test."""
    errs = {f: _to_neutral_errors(ls, lt, f) for f in FLOORS}
    blind = np.isin(ids, BLIND_PEOPLE)
    usable = np.flatnonzero(~blind)
    folds = group_kfold(ids[usable], 5, seed=0)
    held = np.empty(len(ids))
    chosen = []
    for f in folds:
        test = usable[f]
        train = np.setdiff1d(usable, test)
        best = min(FLOORS, key=lambda fl: _per_person(errs[fl][train], ids[train]))
        chosen.append(best)
        held[test] = errs[best][test]
    shipped = min(FLOORS, key=lambda fl: _per_person(errs[fl][usable], ids[usable]))
    no_motion = np.linalg.norm(lt - ls, axis=2).mean(axis=1)
    return {"floors": list(FLOORS), "fold_choices": chosen, "shipped": shipped,
            "held_out_px": _per_person(held[usable], ids[usable]),
            "train_px_by_floor": {str(fl): _per_person(errs[fl][usable], ids[usable]) for fl in FLOORS},
            "no_motion_px": _per_person(no_motion[usable], ids[usable]),
            "blind_people_px_at_shipped": _per_person(errs[shipped][blind], ids[blind]) if blind.any() else None,
            "blind_people_no_motion_px": _per_person(no_motion[blind], ids[blind]) if blind.any() else None}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="example: PYTHONPATH=src python scripts/measure_analysis.py --to-neutral --out /tmp/au/analysis.json")
    ap.add_argument("--out", type=Path, default=Path("/tmp/au/analysis.json"), help="JSON written here")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/au/cache"), help="aligned crops' cache")
    ap.add_argument("--to-neutral", action="store_true",
                    help="also measure --to neutral and choose NEUTRAL_FLOOR on training folds")
    ap.add_argument("--ridges", default="",
                    help="with --to-neutral: also the floor's choice and held-out error with these "
                         "identity ridges (comma-separated, 'inf' = no identity), e.g. 0.001,0.01,0.1,inf")
    args = ap.parse_args()
    res: dict = {}
    for data, expr in SETS:
        p = aligned_pairs(DATA / data, "neutral", expr, cache_dir=args.cache)
        es = [estimate_units(lm) for lm in p.landmarks_source]
        et = [estimate_units(lm) for lm in p.landmarks_target]
        n = np.array([[e.units[u] for u in ANALYSIS_UNITS] for e in es])
        t = np.array([[e.units[u] for u in ANALYSIS_UNITS] for e in et])
        rounds = np.array([e.rounds for e in es + et])
        d = (t - n).mean(0)
        row: dict = {"pairs": len(n), "neutral_mean": dict(zip(ANALYSIS_UNITS, n.mean(0).round(3).tolist(), strict=True)),
                     "change": dict(zip(ANALYSIS_UNITS, d.round(3).tolist(), strict=True)),
                     "rose_share": dict(zip(ANALYSIS_UNITS, ((t - n) > 0).mean(0).round(3).tolist(), strict=True)),
                     "rounds_median": float(np.median(rounds)), "rounds_max": int(rounds.max()),
                     "not_converged": int(sum(not e.converged for e in es + et))}
        top = sorted(row["change"].items(), key=lambda kv: -kv[1])[:5]
        msg = (f"{data:16s} {expr:10s} n={len(n):3d} neutral sum {n.mean(0).sum():.2f}; rises: "
               + ", ".join(f"{k} {v:+.2f}" for k, v in top)
               + f"; rounds {row['rounds_median']:.0f} (max {row['rounds_max']}, not converged {row['not_converged']})")
        if args.to_neutral:
            ids = np.array(p.identities)
            ls, lt = p.landmarks_source, p.landmarks_target
            e_back = _to_neutral_errors(ls, lt, au_model.NEUTRAL_FLOOR)
            e_keep = np.linalg.norm(lt - ls, axis=2).mean(axis=1)
            row["to_neutral"] = {"removed_px": _per_person(e_back, ids), "no_motion_px": _per_person(e_keep, ids)}
            msg += (f"\n    --to neutral {row['to_neutral']['removed_px']:.2f} px "
                    f"(no motion {row['to_neutral']['no_motion_px']:.2f})")
            if data == "london-face-set":
                row["neutral_floor"] = choose_floor(ls, lt, ids)
                msg += "\n    NEUTRAL_FLOOR: " + json.dumps(row["neutral_floor"])
                row["by_ridge"] = {}
                for ridge in [float(v) for v in args.ridges.split(",") if v]:
                    keep = analysis.IDENTITY_RIDGE
                    # the identity ridge as ActionUnitModel's call of estimate_units sees it
                    analysis.IDENTITY_RIDGE = ridge
                    try:
                        r = choose_floor(ls, lt, ids)
                    finally:
                        analysis.IDENTITY_RIDGE = keep
                    row["by_ridge"][str(ridge)] = r
                    msg += (f"\n    identity ridge {ridge}: floors chosen {r['fold_choices']}, held-out "
                            f"{r['held_out_px']:.3f} px, blind-test people {r['blind_people_px_at_shipped']:.3f}")
        res[f"{data}/{expr}"] = row
        print(msg, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from pixelfes._atomic import atomic_path

    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
