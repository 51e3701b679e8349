"""Crease depth of closed smiles (happy -> neutral), held out: the fold engines that never saw a person.

Depth = median over the columns between the inner corners of the darkest L* within 0.03 mouth
widths of the inner lips' mid line, minus the lips' median L*, each image on its own dlib
landmarks (docs/mouth.md, "The smeared lips of a closed smile"). For each person: input smile,
the native engine with the seam (the bank's crease goal withheld, as before the crease), with
the bank's crease (the default), and the real neutral; with ``--crops DIR`` also mouth crops input | seam | crease | real at 1:1 and 3x.
``--engine actions``: the action-unit neutral (``--engine actions --to neutral``: the estimated
actions removed) instead of the native engine, its crease goal from the same fold bank.

    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/crease_depth.py \\
        --people 062,096,126,099,134,091,016,128 --crops /tmp/crease --json /tmp/crease/depth.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
from PIL import Image

from pixelfes.evaluate.engines import _photo, fold_bank, native_factory
from pixelfes.evaluate.mouth import detect_landmarks
from pixelfes.evaluate.mouth_protocol import TrainingFold, london_people, pairs_loader
from pixelfes.face.detect import Face
from pixelfes.mouth.bank import MouthBank
from pixelfes.mouth.colour import lab
from pixelfes.splits import kfold_splits


def lip_mask(lm: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    inner = np.zeros_like(m)
    cv2.fillPoly(inner, [np.rint(lm[60:68] * 16).astype(np.int32)], 1, shift=4)
    return (cv2.erode(m, np.ones((3, 3), np.uint8)) > 0) & (inner == 0)


def crease_depth(rgb: np.ndarray, lm: np.ndarray) -> float:
    """Darkest L* within 0.03 mouth widths of the lip line (median over columns) minus the lips' median L*."""
    light = lab(rgb)[..., 0].astype(np.float32)
    w = float(np.linalg.norm(lm[54] - lm[48]))
    r = max(1, int(round(0.03 * w)))
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    xs = np.arange(int(np.ceil(lm[60, 0])), int(np.floor(lm[64, 0])) + 1)
    yl = 0.5 * (np.interp(xs, up[:, 0], up[:, 1]) + np.interp(xs, lo[:, 0], lo[:, 1]))
    ys = np.rint(yl).astype(int)[None] + np.arange(-r, r + 1)[:, None]
    dark = light[np.clip(ys, 0, light.shape[0] - 1), xs[None]].min(0)
    return float(np.median(dark) - np.median(light[lip_mask(lm, rgb.shape)]))


def crop_box(lm: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    c = lm[48:68].mean(0)
    w = float(np.linalg.norm(lm[54] - lm[48]))
    return (int(max(c[0] - 0.8 * w, 0)), int(max(c[1] - 0.5 * w, 0)),
            int(min(c[0] + 0.8 * w, shape[1])), int(min(c[1] + 0.5 * w, shape[0])))


def actions_neutral(fold: TrainingFold):  # noqa: ANN201 - an engine(rgb, faces, strength)
    """The action-unit neutral, its lips closing on the crease goal of the fold's bank."""
    from pixelfes.pipeline import resolve_model, synthesize_rgb

    model = resolve_model(None, "happy", "neutral", engine="actions")
    bank = fold_bank(fold)

    def engine(rgb: np.ndarray, faces: list[Face], strength: float) -> np.ndarray:
        with mock.patch("pixelfes.native.load_bank", return_value=bank):
            return synthesize_rgb(rgb, model, strength, faces=faces)

    return engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", default="all", help="comma-separated ids, or 'all'")
    ap.add_argument("--crops", type=Path, help="directory for the 1:1 and 3x crops")
    ap.add_argument("--json", type=Path, help="per-person depths")
    ap.add_argument("--engine", choices=("native", "actions"), default="native",
                    help="native (the fold's shape + texture model) or the action-unit neutral")
    a = ap.parse_args()
    data = Path(os.environ["PIXELFES_DATA"]) / "london-face-set"
    people = london_people(data, source="happy", target="neutral")
    ids = [p.identity for p in people]
    want = None if a.people == "all" else set(a.people.split(","))
    load = pairs_loader(data)
    rows: dict[str, dict[str, object]] = {}
    for j, (tr, te) in enumerate(kfold_splits(ids, 5, 0)):
        mine = [i for i in te if want is None or ids[i] in want]
        if not mine:
            continue
        fold = TrainingFold("happy", "neutral", j, tuple(people[i] for i in tr), load)
        engine = native_factory(fold) if a.engine == "native" else actions_neutral(fold)
        for i in mine:
            p = people[i]
            rgb, lm = _photo(str(p.photos["happy"]))
            real, rlm = _photo(str(p.photos["neutral"]))
            face = [Face(box=(0, 0, 1, 1), score=1.0, landmarks=lm)]
            with mock.patch.object(MouthBank, "crease_goal", return_value=None):
                outs = {"seam": engine(rgb, face, 1.0)}
            outs["crease"] = engine(rgb, face, 1.0)
            r: dict[str, object] = {"group": p.group}
            for k, im in (("input", rgb), *outs.items(), ("real", real)):
                try:
                    r[k] = crease_depth(im, detect_landmarks(im))
                except ValueError:
                    r[k] = None
            rows[p.identity] = r
            print(p.identity, {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
            if a.crops is None:
                continue
            x0, y0, x1, y1 = crop_box(lm, rgb.shape)
            b = crop_box(rlm, real.shape)
            rr = cv2.resize(real[b[1]:b[3], b[0]:b[2]], (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
            panels = [rgb[y0:y1, x0:x1], outs["seam"][y0:y1, x0:x1], outs["crease"][y0:y1, x0:x1], rr]
            strip = np.concatenate([np.pad(q, ((0, 0), (0, 4), (0, 0)), constant_values=255) for q in panels], 1)
            a.crops.mkdir(parents=True, exist_ok=True)
            Image.fromarray(strip).save(a.crops / f"{p.identity}_1x.png")
            big = cv2.resize(strip, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
            Image.fromarray(big).save(a.crops / f"{p.identity}_3x.png")
    if a.json is not None:
        a.json.write_text(json.dumps(rows, indent=1))
    for k in ("input", "seam", "crease", "real"):
        vals = [float(v[k]) for v in rows.values() if isinstance(v[k], float)]  # type: ignore[arg-type]
        print(k, "mean", round(float(np.mean(vals)), 2) if vals else None, "n", len(vals))


if __name__ == "__main__":
    main()
