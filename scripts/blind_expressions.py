"""A blind expression-naming test: which of seven expressions does a rater see on each face?

``make``: for held-out London people (``BLIND_PEOPLE``: never used for any choice of the
action-unit recipes; ``scripts/choose_intensities.py`` leaves them out), each of the six
recipes of :mod:`pixelfes.actions` applied to the person's neutral photo at the photo's own
resolution (``ActionUnitModel.synthesize_in_photo``; happy too: the bundled learned smile
was trained on every London person), plus the neutral photo itself. Each is cropped at 1:1
(no resampling) to the same face-size box around the input's face (1.6 face widths), and
all are shuffled into one set of numbered PNGs; the answer key goes to a separate file,
and ``READY`` beside the set holds the rater's instructions. Give a rater only the set
folder and ``READY``.

``score``: the rater's answers (JSON ``{"img_001": {"expression": "angry", "confidence": 3},
...}``) against the key: the confusion matrix (truth x answer), per-expression accuracy,
mean confidence, and accuracy by the person's self-reported ethnicity (London's
``face_eth``, a stand-in for skin tone).

Examples:
    PIXELFES_DATA=../shared/data PYTHONPATH=src python scripts/blind_expressions.py make \\
        -o /tmp/blind-expr/set --key /tmp/blind-expr-key/key.json
    python scripts/blind_expressions.py score --key /tmp/blind-expr-key/key.json \\
        --answers /tmp/blind-expr/answers.json

London photos are CC BY 4.0 (DeBruine & Jones 2017).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_pairs import FACE_BOX, blind_parser, face_crop  # noqa: E402

#: The seven answers, in the order of the confusion matrix.
EXPRESSIONS = ("neutral", "happy", "sad", "surprised", "fearful", "angry", "disgusted")

#: Held-out people for blind tests of the recipes: London ids above 020 (the first 20 were
#: looked at when the by-eye ratios were set), drawn once per self-reported ethnicity with
#: numpy's default_rng(16) (black 4, east_asian 2, west_asian 2, white 6; ``blind_people``
#: redraws them). The recipes' intensities are chosen without them.
BLIND_PEOPLE = ("022", "024", "027", "033", "034", "037", "043", "062", "064", "099",
                "131", "132", "137", "138")
_STRATA = {"black": 4, "east_asian": 2, "west_asian": 2, "white": 6}

INSTRUCTIONS = """\
Blind expression-naming test
============================

The folder {folder} holds {n} numbered face photos (img_001.png ...). Look at each one
on its own, at 1:1 (do not guess from file names, sizes or the order), and say which
expression the face shows. Answer with exactly one of these seven words:

    neutral, happy, sad, surprised, fearful, angry, disgusted

If none fits well, give the nearest one and a low confidence. The numbers of each answer
need not be equal; judge every image by itself. Confidence: 1 (a guess) to 5 (certain).
You may add a short free-text note (what you saw) per image.

Write your answers as one JSON object into {answers}:

{{
  "img_001": {{"expression": "sad", "confidence": 3, "note": "inner brows up, mouth corners down"}},
  "img_002": {{"expression": "neutral", "confidence": 4}},
  ...
}}

with one entry for every image in the folder.
"""


def london_info(data: Path) -> dict[str, dict[str, str]]:
    """``face_id`` -> the row of London's ``london_info.csv`` (age, gender, ethnicity)."""
    with open(data / "london_info.csv", newline="", encoding="utf-8") as f:
        return {r["face_id"]: r for r in csv.DictReader(f)}


def blind_people(data: Path, seed: int = 16) -> list[str]:
    """Redraw :data:`BLIND_PEOPLE`: ids above 020 with a neutral photo, per ethnicity."""
    have = {p.name[:3] for p in (data / "neutral_front").glob("*.jpg")}
    rows = [r for r in london_info(data).values() if r["face_id"] in have and int(r["face_id"]) > 20]
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for eth, n in _STRATA.items():
        ids = sorted(r["face_id"] for r in rows if r["face_eth"] == eth)
        out += [str(i) for i in rng.choice(ids, n, replace=False)]
    return sorted(out)


def make(args: argparse.Namespace) -> int:
    from PIL import Image

    from pixelfes.actions import ActionUnitModel
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces

    people = args.ids.split(",") if args.ids else list(BLIND_PEOPLE)
    rng = np.random.default_rng(args.seed)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("img_*.png")):
        raise SystemExit(f"error: {out} already holds img_*.png; give an empty folder")
    models = {e: ActionUnitModel(e).fit() for e in EXPRESSIONS if e != "neutral"}
    items: list[tuple[np.ndarray, dict[str, Any]]] = []
    for ident in people:
        photo = args.data / "neutral_front" / f"{ident}_03.jpg"
        rgb = load_image(photo).rgb
        faces = find_faces(rgb, max_faces=1)
        if not faces:
            print(f"skipped {ident}: no face found", file=sys.stderr)
            continue
        lm = faces[0].landmarks
        side = int(round(FACE_BOX * float(np.ptp(lm[:17, 0]))))
        for expr in EXPRESSIONS:
            img = rgb if expr == "neutral" else models[expr].synthesize_in_photo(rgb, lm, args.strength)
            items.append((face_crop(img, lm, side), {"identity": ident, "expression": expr,
                                                     "face_px": side}))
        if not args.quiet:
            print(f"{ident}: 7 images", file=sys.stderr)
    order = rng.permutation(len(items))
    key: dict[str, Any] = {}
    for n, i in enumerate(order, 1):
        name = f"img_{n:03d}"
        img, truth = items[i]
        Image.fromarray(img).save(out / f"{name}.png")
        key[name] = truth
    Path(args.key).parent.mkdir(parents=True, exist_ok=True)
    Path(args.key).write_text(json.dumps({"strength": args.strength, "images": key}, indent=1),
                              encoding="utf-8")
    ready = out.parent / "READY"
    ready.write_text(INSTRUCTIONS.format(folder=out, n=len(key), answers=out.parent / "answers.json"),
                     encoding="utf-8")
    print(f"wrote {len(key)} images to {out}, key {args.key}, instructions {ready}", file=sys.stderr)
    return 0


def confusion(key: dict[str, dict[str, Any]], answers: dict[str, Any]
              ) -> tuple[np.ndarray, list[str]]:
    """``(7, 7)`` counts, truth (rows) x answer (columns), and the images with no valid answer."""
    m = np.zeros((len(EXPRESSIONS), len(EXPRESSIONS)), dtype=int)
    missing = []
    for name, truth in key.items():
        a = answers.get(name)
        said = str(a.get("expression", "")).strip().lower() if isinstance(a, dict) else ""
        if said not in EXPRESSIONS:
            missing.append(name)
            continue
        m[EXPRESSIONS.index(truth["expression"]), EXPRESSIONS.index(said)] += 1
    return m, missing


def score(args: argparse.Namespace) -> int:
    saved = json.loads(Path(args.key).read_text(encoding="utf-8"))
    key = saved["images"]
    answers = json.loads(Path(args.answers).read_text(encoding="utf-8"))
    m, missing = confusion(key, answers)
    for name in missing:
        print(f"no valid answer for {name}", file=sys.stderr)
    short = [e[:4] for e in EXPRESSIONS]
    print(f"strength {saved.get('strength', 1.0)}; {int(m.sum())} answered of {len(key)}\n")
    print("| truth \\ answer | " + " | ".join(short) + " | accuracy | confidence |")
    print("|---|" + "---|" * (len(EXPRESSIONS) + 2))
    for i, e in enumerate(EXPRESSIONS):
        conf = [float(answers[n].get("confidence", np.nan)) for n, t in key.items()
                if t["expression"] == e and n not in missing]
        acc = m[i, i] / max(int(m[i].sum()), 1)
        known = [c for c in conf if c == c]  # no confidence given: not averaged
        mean_conf = f"{np.mean(known):.1f}" if known else "-"
        print(f"| {e} | " + " | ".join(str(v) for v in m[i]) +
              f" | **{m[i, i]} of {int(m[i].sum())}** ({acc:.0%}) | {mean_conf} |")
    print(f"\noverall: {int(np.trace(m))} of {int(m.sum())} ({np.trace(m) / max(int(m.sum()), 1):.0%})")
    info = london_info(Path(args.data)) if Path(args.data, "london_info.csv").is_file() else {}
    if info:
        by: dict[str, list[int]] = {}
        for n, t in key.items():
            if n in missing:
                continue
            eth = info.get(t["identity"], {}).get("face_eth", "?")
            ok = str(answers[n]["expression"]).strip().lower() == t["expression"]
            by.setdefault(eth, []).append(int(ok))
        print("by ethnicity (self-reported): " + ", ".join(
            f"{k} {sum(v)} of {len(v)}" for k, v in sorted(by.items())))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap, m, _ = blind_parser(__doc__, "write the shuffled set, its key and the instructions",
                            "folder for the images (give only this to the rater)")
    m.add_argument("--ids", help="comma-separated London ids (default: BLIND_PEOPLE)")
    m.add_argument("--strength", type=float, default=1.0)
    args = ap.parse_args(argv)
    return make(args) if args.cmd == "make" else score(args)


if __name__ == "__main__":
    sys.exit(main())
