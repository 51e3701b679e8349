"""A blind real-vs-edited test: pairs of one person's real photo and edited photo, at face size.

``make``: for held-out London people (5 identity-disjoint folds, as in scripts/mouth_eval.py:
the engine of each person's fold never saw them), the real photo of the target expression
and the engine's output from the person's source photo, each cropped to the same face-size
box around its own face (1:1 pixels, no resampling), side by side in a random order (A | B).
The answer key goes to a separate file; ``READY`` beside the pairs holds the rater's
instructions: give a rater only the pairs folder and ``READY``.

``score``: the rater's answers (JSON ``{"pair_01": {"edited": "A", "confidence": 4,
"natural_A": 3, "natural_B": 4}, ...}``) against the key: how often the edited photo was
picked out, mean confidence, mean naturalness of real and edited photos, per direction.

``--match-detail``: the London Face Set's smiling photos hold about 1.5x the fine detail of
its neutral ones (mean |Laplacian| over the face, 20 people: 8.55 against 5.72; an edit
keeps 0.98 of its source photo's), so a rater can pick the edited photo by softness alone,
whatever the edit. With the flag the real photo is blurred (a Gaussian, its sigma found by
bisection) to the source photo's fine detail over the face, mouth left out of the measure:
the pair then differs in what the edit did, not in how the two photos were taken. The key
records each sigma. The background's grain still differs (the neutral photos have less:
a rater who measured it found the edited photo by it in 19 of 20 matched pairs), so the
instructions ask raters to judge by eye and not to measure the pixels.

Examples:
    PIXELFES_DATA=../shared/data PYTHONPATH=src python scripts/blind_pairs.py make \\
        --people 10 --directions neutral:happy,happy:neutral -o /tmp/blind/pairs --key /tmp/blind/key.json
    PYTHONPATH=src python scripts/blind_pairs.py score --key /tmp/blind/key.json --answers answers.json

London photos are CC BY 4.0 (DeBruine & Jones 2017).
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

REPO = Path(__file__).resolve().parents[1]
#: the crop around a face, in face widths (jaw to jaw): the whole face and some hair
FACE_BOX = 1.6


INSTRUCTIONS = """\
Blind real-vs-edited test
=========================

The folder {folder} holds {n} images, blind_01.png ... Each shows two photos of the same
person side by side: the left one is "A", the right one is "B". In each pair one photo is
a real, unedited photo of the person; the other was made by a program that edited another
photo of the same person. Look at each image on its own, at 1:1 (mouth, teeth, lips,
cheeks, eyes, skin; do not guess from file names, sizes or the order), and say which of the
two is edited. Judge by eye, as a person looking at the photos would: do not measure the
pixels (noise, grain, sharpness, histograms): the two photos were taken at different
moments of a photo session and differ in grain and focus for that reason alone, which says
nothing about editing. The numbers of A and B answers need not be equal. Confidence: 1 (a guess)
to 5 (certain); naturalness of each photo: 1 (clearly fake) to 5 (fully natural).

Write your answers as one JSON object into {answers}:

{{
  "blind_01": {{"edited": "A", "confidence": 4, "natural_A": 2, "natural_B": 4, "note": "what gave it away"}},
  ...
}}

with one entry for every image in the folder.
"""


def default_data() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"


def face_crop(rgb: np.ndarray, landmarks: np.ndarray, side: int) -> np.ndarray:
    """A ``side`` x ``side`` crop centred on the face (landmarks' centre), grey past the edge."""
    c = np.round(landmarks.mean(0)).astype(int)
    out = np.full((side, side, 3), 128, np.uint8)
    x0, y0 = c[0] - side // 2, c[1] - side // 2
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side, rgb.shape[1]), min(y0 + side, rgb.shape[0])
    out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out


def face_detail(rgb: np.ndarray, landmarks: np.ndarray) -> float:
    """Mean |Laplacian| of the grey image over the face (brows to chin, jaw to jaw), the
    mouth's box left out: how much fine detail the photo holds where the edit does not paint."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
    keep = np.zeros(grey.shape, bool)
    x0, x1 = (int(v) for v in (landmarks[:, 0].min(), landmarks[:, 0].max()))
    y0, y1 = int(landmarks[17:27, 1].min()), int(landmarks[:, 1].max())
    keep[max(y0, 0):y1, max(x0, 0):x1] = True
    m0, m1 = landmarks[48:].min(0) - 10, landmarks[48:].max(0) + 10
    keep[max(int(m0[1]), 0):int(m1[1]), max(int(m0[0]), 0):int(m1[0])] = False
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[keep].mean())


def match_detail(rgb: np.ndarray, landmarks: np.ndarray, goal: float) -> tuple[np.ndarray, float]:
    """``rgb`` blurred by the Gaussian whose sigma makes :func:`face_detail` ``goal`` (to 1 %),
    and that sigma; unchanged (sigma 0) when it holds no more detail than ``goal``."""
    import cv2

    if face_detail(rgb, landmarks) <= goal:
        return rgb, 0.0
    lo, hi = 0.0, 4.0
    for _ in range(20):
        mid = (lo + hi) / 2
        d = face_detail(cv2.GaussianBlur(rgb, (0, 0), mid), landmarks)
        if abs(d - goal) <= 0.01 * goal:
            break
        lo, hi = (mid, hi) if d > goal else (lo, mid)
    return cv2.GaussianBlur(rgb, (0, 0), mid), mid


def make(args: argparse.Namespace) -> int:
    from PIL import Image

    from pixelfes.evaluate.mouth_protocol import (
        london_people,
        pairs_loader,
        resolve_factory,
        run_mouth_folds,
    )

    rng = np.random.default_rng(args.seed)
    label, factory = resolve_factory(args.factory)
    loader = pairs_loader(args.data)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    key: dict[str, Any] = {}
    used: set[str] = set()
    n = 0
    for direction in args.directions.split(","):
        source, target = direction.split(":")
        people = london_people(args.data, source, target)
        # different people in each direction: one person's two pairs would hint at each other
        free = [p.identity for p in people if p.identity not in used]
        chosen = sorted(rng.choice(free, min(args.people, len(free)), replace=False))
        used.update(chosen)
        seen: dict[str, dict[str, tuple[np.ndarray, np.ndarray | None]]] = {}

        def keep(person: Any, method: str, rgb: np.ndarray, lm: np.ndarray | None,
                 seen: dict = seen) -> None:
            if method in (label, "real target", "input"):
                seen.setdefault(person.identity, {})[method] = (rgb, lm)

        run_mouth_folds(people, {label: factory}, source=source, target=target,
                        load_pairs=loader, only=set(chosen), on_output=keep,
                        progress=not args.quiet)
        for ident in chosen:
            got = seen.get(ident, {})
            if label not in got or "real target" not in got or any(
                    v[1] is None for v in got.values()):
                print(f"skipped {ident} ({direction}): no face on an output", file=sys.stderr)
                continue
            (real, real_lm), (edit, edit_lm) = got["real target"], got[label]
            sigma = 0.0
            if args.match_detail and got.get("input", (None, None))[1] is not None:
                source_rgb, source_lm = got["input"]
                real, sigma = match_detail(real, real_lm, face_detail(source_rgb, source_lm))
            width = float(np.ptp(real_lm[:17, 0]))
            side = int(round(FACE_BOX * width))
            a_is_edited = bool(rng.integers(2))
            left, right = ((face_crop(edit, edit_lm, side), face_crop(real, real_lm, side))
                           if a_is_edited else
                           (face_crop(real, real_lm, side), face_crop(edit, edit_lm, side)))
            gap = np.full((side, 12, 3), 255, np.uint8)
            n += 1
            name = f"pair_{n:02d}"
            Image.fromarray(np.concatenate([left, gap, right], 1)).save(out / f"{name}.png")
            key[name] = {"identity": ident, "direction": direction, "edited": "A" if a_is_edited else "B",
                         "face_px": round(width), "real_blur_sigma": round(sigma, 3)}
    order = list(key)
    rng.shuffle(order)  # pair numbers by direction would tell the rater which is which
    renamed = {}
    for i, old in enumerate(order, 1):
        new = f"blind_{i:02d}"
        (out / f"{old}.png").rename(out / f"{new}.png")
        renamed[new] = key[old]
    Path(args.key).parent.mkdir(parents=True, exist_ok=True)
    Path(args.key).write_text(json.dumps(renamed, indent=1), encoding="utf-8")
    ready = out.parent / "READY"
    ready.write_text(INSTRUCTIONS.format(folder=out, n=len(renamed), answers=out.parent / "answers.json"),
                     encoding="utf-8")
    print(f"wrote {len(renamed)} pairs to {out}, key {args.key}, instructions {ready}", file=sys.stderr)
    return 0


def score(args: argparse.Namespace) -> int:
    key = json.loads(Path(args.key).read_text(encoding="utf-8"))
    answers = json.loads(Path(args.answers).read_text(encoding="utf-8"))
    by: dict[str, list[dict[str, float]]] = {}
    for name, truth in key.items():
        a = answers.get(name)
        if a is None:
            print(f"no answer for {name}", file=sys.stderr)
            continue
        edited = truth["edited"]
        real = "B" if edited == "A" else "A"
        by.setdefault(truth["direction"], []).append({
            "caught": float(str(a["edited"]).strip().upper() == edited),
            "confidence": float(a["confidence"]),
            "natural_edited": float(a[f"natural_{edited}"]),
            "natural_real": float(a[f"natural_{real}"]),
        })
    print("| direction | pairs | edited picked out | confidence (1-5) | naturalness edited | naturalness real |")
    print("|---|---|---|---|---|---|")
    for d, rows in by.items():
        m = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        print(f"| {d} | {len(rows)} | {int(sum(r['caught'] for r in rows))} of {len(rows)} | "
              f"{m['confidence']:.1f} | {m['natural_edited']:.2f} | {m['natural_real']:.2f} |")
    return 0


def blind_parser(doc: str, make_help: str, folder_help: str
                 ) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The ``make`` / ``score`` command line every blind test shares (``--data``, ``--seed``,
    ``-o``, ``--key``, ``-q``; ``score --key --answers --data``): the parser and its ``make``
    subparser, for the test's own options."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(doc.splitlines()[1:]))
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help=make_help)
    m.add_argument("--data", type=Path, default=default_data())
    m.add_argument("--seed", type=int, default=2026)
    m.add_argument("-o", "--output", required=True, help=folder_help)
    m.add_argument("--key", required=True, help="answer key JSON (keep it from the rater)")
    m.add_argument("-q", "--quiet", action="store_true")
    s = sub.add_parser("score", help="score a rater's answers against the key")
    s.add_argument("--key", required=True)
    s.add_argument("--answers", required=True)
    s.add_argument("--data", type=Path, default=default_data())
    return ap, m


def main(argv: list[str] | None = None) -> int:
    ap, m = blind_parser(__doc__, "write blind pairs, their key and the rater's instructions",
                         "folder for the pairs (give only this and READY beside it to the rater)")
    m.add_argument("--people", type=int, default=10, help="held-out people per direction")
    m.add_argument("--directions", default="neutral:happy,happy:neutral")
    m.add_argument("--factory", default="native", help="engine factory (see scripts/mouth_eval.py)")
    m.add_argument("--match-detail", action="store_true",
                   help="blur each real photo to its source photo's fine detail over the face (the "
                        "London smiling photos are sharper than the neutral ones: module docstring)")
    args = ap.parse_args(argv)
    return make(args) if args.cmd == "make" else score(args)


if __name__ == "__main__":
    sys.exit(main())
