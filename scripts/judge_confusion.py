"""Know the judges: what fer and face-api's net call real JAFFE and London photos.

For every photo of each data set (JAFFE: 7 posed expressions; London: neutral and smiling),
the judges classify several crops (:data:`ROWS`):

- on the photo: dlib's HOG face box (the scorers' ``face_box="detect"``), and face-api's
  own box for a face with landmarks (``alignedRect``: dlib's 68 landmarks' bounding box
  grown by 10 % a side);
- on the face aligned on the 192 px / margin 1.5 canvas: the paper's framing (the central
  128 px, fer's box in ``pixelfes evaluate``) and :func:`pixelfes.evaluate.protocol.faceapi_box`
  (face-api's box for the mean London face, faceapi's box in ``pixelfes evaluate``).

Prints a markdown section (share of each true expression named correctly, mean P(true),
the confusion matrices) and writes every number as JSON. Only numbers leave this script:
JAFFE is research-use only, never write its crops anywhere public.

    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/judge_confusion.py \\
        [--sets jaffe,london-face-set] [--json /tmp/judge_confusion.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from pixelfes.alignment import Alignment
from pixelfes.datasets import align_image_file, open_dataset
from pixelfes.evaluate import ExpressionClassifier, confusion_matrix
from pixelfes.evaluate._faces import detect_box
from pixelfes.evaluate.protocol import faceapi_box, framing_box
from pixelfes.evaluate.report import confusion_table
from pixelfes.expressions import EXPRESSIONS
from pixelfes.face.detect import landmarks_for_box
from pixelfes.imageio import read_rgb

SIZE, MARGIN = 192, 1.5
JUDGES = ("fer", "faceapi")
ORDER = ("neutral", "happy", "sad", "surprised", "fearful", "disgusted", "angry")
#: (row name, judge, crop): "photo" = dlib box on the photo, "photo-landmarks" = face-api's
#: own box from 68 landmarks on the photo, "framing" / "faceapi-box" = boxes on the canvas.
ROWS = (
    ("fer, photo, dlib box", "fer", "photo"),
    ("faceapi, photo, dlib box", "faceapi", "photo"),
    ("faceapi, photo, landmark box (face-api's alignedRect)", "faceapi", "photo-landmarks"),
    ("fer, canvas, paper framing (pixelfes evaluate)", "fer", "framing"),
    ("faceapi, canvas, paper framing", "faceapi", "framing"),
    ("faceapi, canvas, faceapi_box (pixelfes evaluate)", "faceapi", "faceapi-box"),
)
EVALUATE_ROWS = (ROWS[3][0], ROWS[5][0])


def data_dir() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def aligned_rect(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """face-api's ``alignedRect``: the landmarks' bounding box grown by 10 % a side."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    pad = 0.1 * (hi - lo)
    return (*(lo - pad), *(hi + pad))  # type: ignore[return-value]


def judge_set(root: Path) -> dict[str, object]:
    """Probabilities of every row's judge and crop on every labelled photo of one data set."""
    ds = open_dataset(root)
    recs = [r for r in ds.records if r.expression is not None]
    photos, boxes, lm_boxes, canvases = [], [], [], []
    for r in recs:
        rgb, _ = read_rgb(r.path)
        box = detect_box(rgb)
        if box is None:
            raise SystemExit(f"no face found by dlib in {r.path}")
        photos.append(rgb)
        boxes.append(box)
        lm_boxes.append(aligned_rect(landmarks_for_box(rgb, box)))
        canvases.append(align_image_file(r.path, Alignment(SIZE, MARGIN)).crop)
    canvas = np.stack([np.repeat(c, 3, -1) if c.shape[-1] == 1 else c for c in canvases])
    fixed = {"framing": framing_box(SIZE, MARGIN), "faceapi-box": faceapi_box(SIZE, MARGIN)}
    probs: dict[str, np.ndarray] = {}
    for name, judge, crop in ROWS:
        if crop in fixed:
            probs[name] = ExpressionClassifier(judge, face_box=fixed[crop]).predict_proba(canvas)  # type: ignore[arg-type]
        else:
            clf = ExpressionClassifier(judge)  # type: ignore[arg-type]
            bx = boxes if crop == "photo" else lm_boxes
            probs[name] = np.concatenate([clf.predict_proba(p, b) for p, b in zip(photos, bx, strict=True)])
    return {"labels": [str(r.expression) for r in recs], "people": sorted({r.identity for r in recs}),
            "probs": probs}


def summarise(labels: list[str], p: np.ndarray) -> dict[str, object]:
    pred = [EXPRESSIONS[i] for i in p.argmax(1)]
    y = np.array(labels)
    cm = confusion_matrix(labels, pred)
    present = [e for e in ORDER if np.any(y == e)]
    share = {e: float(np.mean(np.array(pred)[y == e] == e)) for e in present}
    p_true = {e: float(p[y == e, EXPRESSIONS.index(e)].mean()) for e in present}
    return {"n": {e: int(np.sum(y == e)) for e in present}, "share_named": share,
            "mean_p_true": p_true, "accuracy": float(np.mean(np.array(pred) == y)),
            "confusion": cm.tolist()}


def markdown(name: str, people: list[str], summary: dict[str, dict]) -> str:
    first = summary[ROWS[0][0]]
    present = list(first["n"])
    n = sum(first["n"].values())
    lines = [f"### {name}: {n} photos of {len(people)} people", "",
             "Share of each true expression the judge names correctly (mean P(true) in brackets).", "",
             "| judge, crop | " + " | ".join(f"{e} ({first['n'][e]})" for e in present) + " | all |",
             "|" + "---|" * (len(present) + 2)]
    for row, _, _ in ROWS:
        s = summary[row]
        cells = [f"{s['share_named'][e]:.2f} ({s['mean_p_true'][e]:.2f})" for e in present]
        lines.append(f"| {row} | " + " | ".join(cells) + f" | {s['accuracy']:.2f} |")
    lines.append("")
    for row in EVALUATE_ROWS:
        cm = np.array(summary[row]["confusion"])
        rows = {e: cm[EXPRESSIONS.index(e)].tolist() for e in present}
        lines += [f"What {row.split(',')[0]} calls the real {name} photos ({row.split(', ', 1)[1]}; "
                  "share of each row):", "", confusion_table(rows), ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="jaffe,london-face-set", help="data set folders under the data root")
    ap.add_argument("--data", type=Path, default=None, help="data root (default $PIXELFES_DATA)")
    ap.add_argument("--json", type=Path, default=Path("/tmp/judge_confusion.json"),
                    help="where to write every number (default /tmp/judge_confusion.json)")
    args = ap.parse_args()
    root = args.data or data_dir()
    out: dict[str, object] = {"size": SIZE, "margin": MARGIN, "faceapi_box": faceapi_box(SIZE, MARGIN),
                              "fer_box": framing_box(SIZE, MARGIN), "sets": {}}
    t0 = time.perf_counter()
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        path = root / name
        if not path.is_dir():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        result = judge_set(path)
        labels, people = result["labels"], result["people"]
        summary = {row: summarise(labels, result["probs"][row]) for row, _, _ in ROWS}  # type: ignore[arg-type,index]
        out["sets"][name] = {"people": people, "summary": summary}  # type: ignore[index]
        print(markdown(name, people, summary))  # type: ignore[arg-type]
    out["seconds"] = time.perf_counter() - t0
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"every number: {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
