"""How lent teeth look on held-out people, against their own real smiles (issue 11, the teeth).

For each of 5 identity-disjoint folds (as scripts/mouth_eval.py: seed 0) the native engine
with a mouth bank of the fold's training people changes each held-out person's neutral
photo; the output and the person's real smile are measured with 68 landmarks found on each
(pixelfes.evaluate.mouth.detect_landmarks), and where the mouth is open
(:func:`pixelfes.evaluate.teeth.teeth_look`): the teeth's L* minus the cheeks' L*, the
teeth's internal L* spread (10th to 90th percentile), their b* (yellowness), the outline
(the ring just inside the inner lips, L* against the teeth's) and the darkest column near
the middle of the teeth (a gap between the front teeth), plus which exemplar lent the teeth
(reuse counts). ``--crops DIR`` writes input | output | real mouth crops at 1:1 and 3x.

Examples:
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/teeth_look.py --json /tmp/teeth/look.json
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/teeth_look.py --people 12 \\
        --crops /tmp/teeth/crops --json /tmp/teeth/look12.json

London photos are CC BY 4.0 (DeBruine & Jones 2017).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def default_data() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"


def _crop(rgb: np.ndarray, lm: np.ndarray, scale: int) -> np.ndarray:
    """The mouth at 1:1 (1.3 x 0.7 mouth widths about the lips' centre), enlarged ``scale`` x (nearest)."""
    width = float(np.linalg.norm(lm[54] - lm[48]))
    cx, cy = lm[48:68].mean(axis=0)
    hw, hh = int(0.65 * width), int(0.35 * width)
    y0, x0 = max(0, int(cy) - hh), max(0, int(cx) - hw)
    c = rgb[y0:int(cy) + hh, x0:int(cx) + hw]
    return np.repeat(np.repeat(c, scale, axis=0), scale, axis=1) if scale > 1 else c


def _row(images: list[np.ndarray]) -> np.ndarray:
    h = max(i.shape[0] for i in images)
    padded = [np.pad(i, ((0, h - i.shape[0]), (0, 6), (0, 0)), constant_values=255) for i in images]
    return np.concatenate(padded, axis=1)


def main(argv: list[str] | None = None) -> int:
    """Run the folds, print the per-person table and the exemplar counts, write JSON and crops."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=None, help="London Face Set folder")
    p.add_argument("--people", type=int, default=None, help="only the first N of a seeded shuffle")
    p.add_argument("--only", default=None, help="comma-separated identities (overrides --people)")
    p.add_argument("--crops", type=Path, default=None, help="write mouth crops (PNG) here")
    p.add_argument("--json", type=Path, default=None, help="write per-person rows here")
    p.add_argument("--crisp", action="store_true",
                   help="lent teeth with their finest detail restored (synthesize_face(crisp=True))")
    args = p.parse_args(argv)

    import cv2

    from pixelfes._atomic import atomic_path
    from pixelfes.evaluate.engines import _model, _photo
    from pixelfes.evaluate.mouth import detect_landmarks
    from pixelfes.evaluate.mouth_protocol import TrainingFold, london_people, pairs_loader
    from pixelfes.evaluate.teeth import summarise_teeth, teeth_look
    from pixelfes.mouth import MouthBank
    from pixelfes.native import synthesize_face
    from pixelfes.splits import kfold_splits

    data = args.data or default_data()
    people = london_people(data, "neutral", "happy")
    ids = [q.identity for q in people]
    only = None
    if args.only:
        only = set(args.only.split(","))
    elif args.people:
        order = np.random.default_rng(0).permutation(len(people))
        only = {ids[i] for i in order[: args.people]}
    load = pairs_loader(data)
    rows = []
    for j, (train, test) in enumerate(kfold_splits(ids, 5, 0)):
        if only is not None and not any(ids[i] in only for i in test):
            continue
        fold = TrainingFold("neutral", "happy", j, tuple(people[i] for i in train), load)
        model = _model(fold)
        tp = [q for q in fold.people if "happy" in q.photos and "neutral" in q.photos]
        smiles = [_photo(str(q.photos["happy"])) for q in tp]
        bank = MouthBank.build([s[0] for s in smiles], [s[1] for s in smiles], [q.identity for q in tp],
                               neutral_landmarks=[_photo(str(q.photos["neutral"]))[1] for q in tp],
                               neutral_photos=[_photo(str(q.photos["neutral"]))[0] for q in tp])
        for i in test:
            person = people[i]
            if only is not None and person.identity not in only:
                continue
            rgb, lm_in = _photo(str(person.photos["neutral"]))
            real, _ = _photo(str(person.photos["happy"]))
            out = rgb.copy()
            res = synthesize_face(rgb, out, lm_in, model, 1.0, bank=bank, crisp=args.crisp)
            row = {"identity": person.identity, "group": person.group, "fold": j,
                   "mode": res.mouth, "exemplar": res.exemplar}
            lm_out, lm_real = detect_landmarks(out), detect_landmarks(real)
            row["output"] = teeth_look(out, lm_out)
            row["real"] = teeth_look(real, lm_real)
            rows.append(row)
            if args.crops:
                args.crops.mkdir(parents=True, exist_ok=True)
                for scale in (1, 3):
                    strip = _row([_crop(rgb, lm_in, scale), _crop(out, lm_out, scale),
                                  _crop(real, lm_real, scale)])
                    cv2.imwrite(str(args.crops / f"{person.identity}-x{scale}.png"),
                                cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
            o, r = row["output"], row["real"]
            print(f"{person.identity} {person.group:10s} {res.mouth:6s} {res.exemplar or '-':4s} "
                  + " ".join(f"{k}={o.get(k, float('nan')):6.1f}/{r.get(k, float('nan')):6.1f}"
                             for k in ("teeth_rel", "spread", "teeth_b", "outline", "gap", "detail")), flush=True)
    counts = collections.Counter(r["exemplar"] for r in rows if r["exemplar"])
    summary = summarise_teeth(rows)
    print("exemplar uses:", dict(counts.most_common()))
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps({"rows": rows, "summary": summary,
                                       "exemplar_counts": dict(counts)}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
