"""Measure the action-unit engine on JAFFE (landmark motion vs real) and London (fer, identity).

JAFFE (research use only): outputs stay under --out, nothing is committed. For each of the
six expressions and each person with a neutral and that expression, the recipe's landmark
motion (placed with the person's pose, in the aligned 192 px frame) is compared with the
person's real neutral -> expression motion: mean point error in pixels and as a fraction
of the outer-eye-corner distance, next to "no motion" and next to a shape model trained on
the other people (leave-one-person-out, ``ShapeModel(method="mean")``). fer and face-api's
expression net then judge the recipe's outputs on JAFFE's neutral crops next to the real
expression crops.

London (CC BY; all 82 people are held out for the action units, which learn nothing):
each expression at strength 1: fer's and face-api's share called the target, mean P(target) in -> out and
the share of people whose P(target) rose, dlib identity distance to the input, sharpness
(gradient energy ratio output / input).

Run: PYTHONPATH=src python scripts/measure_actions.py --out /tmp/au/measure
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from pixelfes.actions import RECIPES, ActionUnitModel
from pixelfes.evaluate.data import aligned_pairs
from pixelfes.evaluate.expression import ExpressionClassifier
from pixelfes.evaluate.framing import faceapi_box
from pixelfes.evaluate.identity import IdentityEmbedder, identity_distance
from pixelfes.evaluate.quality import gradient_energy
from pixelfes.expressions import EXPRESSIONS
from pixelfes.models.shape import ShapeModel

DATA = Path(os.environ.get("PIXELFES_DATA", "/work/shared/data"))
FACE_BOX = (0.17, 0.17, 0.83, 0.83)  # the face in a 192 px, margin-1.5 crop (fixed box)


def _eye_dist(lm: np.ndarray) -> np.ndarray:
    return np.linalg.norm(lm[..., 45, :] - lm[..., 36, :], axis=-1)


def _judge(clf: ExpressionClassifier, images: np.ndarray, p_in: np.ndarray, k: int) -> dict:
    """Share called class ``k``, mean P(k), share whose P(k) rose over the input's."""
    pr = clf.predict_proba(images)
    return {"called": float((pr.argmax(1) == k).mean()), "p_out": float(pr[:, k].mean()),
            "p_in": float(p_in[:, k].mean()), "rose": float((pr[:, k] > p_in[:, k]).mean()),
            "rose_005": float((pr[:, k] > p_in[:, k] + 0.05).mean()),
            "top": {e: float((pr.argmax(1) == j).mean()) for j, e in enumerate(EXPRESSIONS)
                    if (pr.argmax(1) == j).any()}}


def jaffe(cache: Path, fer: ExpressionClassifier, variants: dict[str, dict],
          faceapi: ExpressionClassifier, expressions: list[str] | None = None) -> dict:
    out: dict = {}
    for expr in expressions or list(RECIPES):
        p = aligned_pairs(DATA / "jaffe", "neutral", expr, cache_dir=cache)
        ids = np.array(p.identities)
        ls, lt = p.landmarks_source, p.landmarks_target
        model = ActionUnitModel(expr).fit()
        rec = np.stack([model.predict_shape(lm) for lm in ls])
        loo = np.empty_like(lt)
        for person in np.unique(ids):
            train, test = ids != person, ids == person
            sm = ShapeModel(method="mean").fit(ls[train], lt[train])
            loo[test] = np.stack([sm.predict(lm) for lm in ls[test]])
        eye = _eye_dist(ls)

        def err(pred: np.ndarray, lt: np.ndarray = lt, ids: np.ndarray = ids,
                eye: np.ndarray = eye) -> dict:
            e = np.linalg.norm(pred - lt, axis=2).mean(axis=1)
            # per person first (JAFFE has 2-4 photos of each expression per person)
            per = np.array([e[ids == q].mean() for q in np.unique(ids)])
            rel = np.array([(e / eye)[ids == q].mean() for q in np.unique(ids)])
            return {"px": float(per.mean()), "eye_frac": float(rel.mean())}

        # diagnostic only (one number fitted on JAFFE, not used anywhere): the strength
        # that best matches the real motion, and the error there
        m, d = rec - ls, lt - ls
        best = float((m * d).sum() / max((m * m).sum(), 1e-12))
        cos = float((m.mean(0) * d.mean(0)).sum() / (np.linalg.norm(m.mean(0)) * np.linalg.norm(d.mean(0)) + 1e-12))
        # --to neutral from the real expression photo, against the same person's neutral
        neutral = ActionUnitModel("neutral").fit()
        back = np.stack([neutral.predict_shape(lm) for lm in lt])
        e_back = np.linalg.norm(back - ls, axis=2).mean(axis=1)
        e_keep = np.linalg.norm(lt - ls, axis=2).mean(axis=1)
        to_neutral = {"removed_px": float(np.mean([e_back[ids == q].mean() for q in np.unique(ids)])),
                      "no_motion_px": float(np.mean([e_keep[ids == q].mean() for q in np.unique(ids)]))}
        row = {"pairs": int(len(ids)), "people": int(len(np.unique(ids))), "to_neutral": to_neutral,
               "no_motion": err(ls), "recipe": err(rec), "shape_loo": err(loo),
               "best_strength": best, "recipe_at_best": err(ls + best * m),
               "cosine_mean_motion": cos}
        crops = p.X if p.X.shape[-1] == 3 else np.repeat(p.X, 3, axis=-1)
        real = p.T if p.T.shape[-1] == 3 else np.repeat(p.T, 3, axis=-1)
        k = EXPRESSIONS.index(expr)
        for name, params in variants.items():
            m = ActionUnitModel(expr, **params).fit()
            y = m.predict(crops, landmarks=ls)
            prob = fer.predict_proba(y)[:, k]
            row[f"fer_{name}"] = {"called": float((fer.predict_proba(y).argmax(1) == k).mean()),
                                  "p_target": float(prob.mean())}
        fa_in = faceapi.predict_proba(crops)
        for name, params in variants.items():
            y = ActionUnitModel(expr, **params).fit().predict(crops, landmarks=ls)
            row[f"faceapi_{name}"] = _judge(faceapi, y, fa_in, k)
        row["faceapi_real"] = _judge(faceapi, real, fa_in, k)
        row["faceapi_input"] = _judge(faceapi, crops, fa_in, k)
        pin = fer.predict_proba(crops)
        preal = fer.predict_proba(real)
        row["fer_input"] = {"called": float((pin.argmax(1) == k).mean()), "p_target": float(pin[:, k].mean())}
        row["fer_real"] = {"called": float((preal.argmax(1) == k).mean()), "p_target": float(preal[:, k].mean())}
        out[expr] = row
        print(expr, json.dumps(row), flush=True)
    return out


def london(cache: Path, fer: ExpressionClassifier, variants: dict[str, dict], out_dir: Path,
           faceapi: ExpressionClassifier) -> dict:
    p = aligned_pairs(DATA / "london-face-set", "neutral", "happy", cache_dir=cache)
    x, lm = p.X, p.landmarks_source
    emb = IdentityEmbedder(face_box=FACE_BOX)
    e_in = emb.embed(x)
    p_in = fer.predict_proba(x)
    fa_in = faceapi.predict_proba(x)
    g_in = gradient_energy(x)
    res: dict = {"people": len(x),
                 "real_smile_identity": float(identity_distance(e_in, emb.embed(p.T)).mean()),
                 "real_smile_fer": _judge(fer, p.T, p_in, EXPRESSIONS.index("happy")),
                 "real_smile_faceapi": _judge(faceapi, p.T, fa_in, EXPRESSIONS.index("happy"))}
    for expr in RECIPES:
        k = EXPRESSIONS.index(expr)
        for name, params in variants.items():
            m = ActionUnitModel(expr, **params).fit()
            t0 = time.perf_counter()
            y = m.predict(x, landmarks=lm)
            dt = (time.perf_counter() - t0) / len(x)
            pr = fer.predict_proba(y)
            idd = identity_distance(e_in, emb.embed(y))
            row = {"called": float((pr.argmax(1) == k).mean()),
                   "p_in": float(p_in[:, k].mean()), "p_out": float(pr[:, k].mean()),
                   "rose": float((pr[:, k] > p_in[:, k]).mean()),
                   "rose_005": float((pr[:, k] > p_in[:, k] + 0.05).mean()),
                   "identity": float(idd.mean()), "identity_max": float(idd.max()),
                   "sharpness": float((gradient_energy(y) / g_in).mean()),
                   "ms_per_face": 1e3 * dt,
                   "top": {e: float((pr.argmax(1) == j).mean()) for j, e in enumerate(EXPRESSIONS)
                           if (pr.argmax(1) == j).any()}}
            row["faceapi"] = _judge(faceapi, y, fa_in, k)
            res[f"{expr}/{name}"] = row
            print(expr, name, json.dumps(row), flush=True)
            if name == "default":
                np.save(out_dir / f"london_{expr}.npy", y)
                for a in (0.5, 0.75):
                    ya = m.predict(x, landmarks=lm, strength=a)
                    pa = fer.predict_proba(ya)
                    res[f"{expr}/strength{a}"] = {
                        "called": float((pa.argmax(1) == k).mean()), "p_out": float(pa[:, k].mean()),
                        "rose": float((pa[:, k] > p_in[:, k]).mean()),
                        "identity": float(identity_distance(e_in, emb.embed(ya)).mean()),
                        "faceapi": _judge(faceapi, ya, fa_in, k)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/au/measure"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/au/cache"))
    ap.add_argument("--skip-jaffe", action="store_true")
    ap.add_argument("--skip-london", action="store_true")
    ap.add_argument("--expressions", default=",".join(RECIPES), help="JAFFE: these recipes only")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    fer = ExpressionClassifier("fer", face_box=FACE_BOX)
    # face-api reads a tight face box (its own landmark box of the mean face; evaluate.framing)
    faceapi = ExpressionClassifier("faceapi", face_box=faceapi_box(192, 1.5))
    variants = {"default": {}, "no_folds": {"fold_gain": 0.0}, "no_mouth": {"mouth": False}}
    result: dict = {}
    if not args.skip_london:
        result["london"] = london(args.cache, fer, variants, args.out, faceapi)
    if not args.skip_jaffe:
        result["jaffe"] = jaffe(args.cache, fer, variants, faceapi, args.expressions.split(","))
    (args.out / "results.json").write_text(json.dumps(result, indent=1))
    print("wrote", args.out / "results.json")


if __name__ == "__main__":
    main()
