"""Who the closed-lip crease goal comes from: leave-one-out within the bank's own people.

For each London person with a smile and a neutral photo, the neutral lip line's crease profile
(:func:`pixelfes.mouth.crease.crease_profile`, at the darkest row, as the bank keeps it) is
predicted from the *other* people's profiles by each rule below (median of the chosen people's
profiles) and scored as crease depth in L*: L*(lip Y x profile centre) - L*(lip Y), lip Y the
smile's lip luminance (what the engine knows). The rule is chosen by the mean |error| over all
people (ties within 0.1 L*: the simpler rule); the same is then shown with each 5-fold split's
training people only (the people each held-out fold's bank holds), to see the choice is not an
artefact of the people it is later measured on. Held-out output figures play no part.

    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/crease_predictor.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pixelfes.evaluate.engines import _photo
from pixelfes.evaluate.mouth_protocol import london_people
from pixelfes.mouth.colour import lab, person_colours
from pixelfes.mouth.crease import crease_profile
from pixelfes.splits import kfold_splits

_CENTRE = 6  # OFFSETS[6] == 0: the crease itself


def _l_of_y(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return np.where(y > 0.008856, 116.0 * np.cbrt(y) - 16.0, 903.3 * y)


def _y_of_l(light: np.ndarray) -> np.ndarray:
    light = np.asarray(light, dtype=np.float64)
    return np.where(light > 8.0, ((light + 16.0) / 116.0) ** 3, light / 903.3)


def rules() -> dict[str, tuple[str, int]]:
    """name -> (features, k); k = 0: everyone within 16 cheek L* (the lent-teeth window); k < 0: a kernel."""
    out = {"cheek L* within 16 (before)": ("cheek", 0), "everyone": ("none", 0)}
    for feats in ("cheek", "lip", "cheek+lip", "cheek+contrast"):
        for k in (5, 10, 20):
            out[f"{k} nearest in {feats}"] = (feats, k)
    for h in (2, 3, 4):  # k < 0: the geometric mean, Gaussian weights of width -k L* in lip L*
        out[f"lip kernel {h} L*, geometric mean"] = ("lip", -h)
    return out


def features(name: str, cheek: np.ndarray, lip: np.ndarray) -> np.ndarray:
    cols = {"cheek": [cheek], "lip": [lip], "cheek+lip": [cheek, lip],
            "cheek+contrast": [cheek, lip - cheek], "none": [np.zeros_like(cheek)]}[name]
    return np.stack(cols, axis=1)


def predict(rule: tuple[str, int], i: int, among: np.ndarray, cheek: np.ndarray, lip: np.ndarray,
            prof: np.ndarray) -> np.ndarray:
    """Goal profile for person ``i`` from the people ``among`` (indices, ``i`` not in it)."""
    feats, k = rule
    if k < 0:  # the creasedepth candidate (branch creasedepth, b3be287; not adopted)
        w = np.exp(-0.5 * ((lip[among] - lip[i]) / k) ** 2)
        return np.asarray(np.exp(w @ np.log(prof[among]) / w.sum()))
    if feats == "none":
        return np.asarray(np.median(prof[among], axis=0))
    if k == 0:
        dl = np.abs(cheek[among] - cheek[i])
        near = among[dl <= max(16.0, float(dl.min()))]
        return np.asarray(np.median(prof[near], axis=0))
    f = features(feats, cheek, lip)
    sd = f[among].std(axis=0)
    d = np.linalg.norm((f[among] - f[i]) / np.where(sd > 0, sd, 1.0), axis=1)
    near = among[np.argsort(d, kind="stable")[:k]]
    return np.asarray(np.median(prof[near], axis=0))


def main() -> None:
    data = Path(os.environ["PIXELFES_DATA"]) / "london-face-set"
    people = london_people(data, source="happy", target="neutral")
    cache = Path("/tmp/crease_predictor.npz")
    if cache.is_file():
        z = np.load(cache)
        cheek, lip, lip_y, prof = z["cheek"], z["lip"], z["lip_y"], z["prof"]
    else:
        cheek, lip, lip_y, prof = [], [], [], []
        for p in people:
            rgb, lm = _photo(str(p.photos["happy"]))
            c = person_colours(rgb, lm)
            cheek.append(float(lab(c.skin)[0]))
            lip.append(float(lab(c.lips)[0]))
            lip_y.append(float(_y_of_l(lab(c.lips)[0])))
            nrgb, nlm = _photo(str(p.photos["neutral"]))
            prof.append(crease_profile(nrgb, nlm, darkest=True))
        cheek, lip, lip_y, prof = map(np.array, (cheek, lip, lip_y, prof))
        np.savez(cache, cheek=cheek, lip=lip, lip_y=lip_y, prof=prof)
    ok = np.isfinite(prof).all(axis=1)
    groups = np.array([p.group for p in people])
    real = _l_of_y(lip_y * prof[:, _CENTRE]) - _l_of_y(lip_y)
    print(f"{ok.sum()} people; real crease depth mean {real[ok].mean():.2f} L*; per group",
          {g: round(float(real[ok & (groups == g)].mean()), 2) for g in sorted(set(groups))})
    ids = [p.identity for p in people]
    splits = list(kfold_splits(ids, 5, 0))
    table = []
    for name, rule in rules().items():
        err = np.full(len(people), np.nan)
        for i in np.flatnonzero(ok):
            among = np.flatnonzero(ok & (np.arange(len(people)) != i))
            goal = predict(rule, i, among, cheek, lip, prof)
            err[i] = _l_of_y(lip_y[i] * goal[_CENTRE]) - _l_of_y(lip_y[i]) - real[i]
        folds = []
        for tr, _ in splits:
            tr = np.array([t for t in tr if ok[t]])
            e = [abs(_l_of_y(lip_y[i] * predict(rule, i, tr[tr != i], cheek, lip, prof)[_CENTRE])
                     - _l_of_y(lip_y[i]) - real[i]) for i in tr]
            folds.append(float(np.mean(e)))
        by = {g: float(np.nanmean(np.abs(err[ok & (groups == g)]))) for g in sorted(set(groups))}
        signed = {g: float(np.nanmean(err[ok & (groups == g)])) for g in sorted(set(groups))}
        table.append((float(np.nanmean(np.abs(err))), name, by, signed, folds))
    for m, name, by, signed, folds in sorted(table):
        print(f"{m:5.2f}  {name:30s} |err| " + " ".join(f"{g} {v:.2f}" for g, v in by.items())
              + "  signed " + " ".join(f"{g} {v:+.2f}" for g, v in signed.items())
              + "  folds' training LOO " + " ".join(f"{v:.2f}" for v in folds))


if __name__ == "__main__":
    main()
