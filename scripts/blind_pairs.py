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

``make --both-orders``: each person twice, once each way round (the same two crops, sides
swapped), the images shuffled; the key's ``identity`` marks which two images are one person.
A rater who leans on one side then finds every edit on that side and none on the other, and
``score`` shows it: for any key, the answers by side (how often A, how often B) and the hits
on pairs whose edit (or candidate) is on A and on B separately; for a both-orders key, the
people whose edit was picked out in both orders, the side-bias-free figure (a rater who
always answers B scores 0 there, a perfect one every person), beside the old lines.

``versus``: a blind A/B test of two engines, for a change judged by eye: for the same
held-out people, ``--factory``'s output (the baseline) and ``--against``'s (the candidate)
from the same source photo, each cropped to the same face-size box around its own face,
side by side in a random order, each person twice (once each way round) with the region
where the two differ enlarged under them; the rater says which looks more natural. No real
photo is shown. People whose two outputs are the same pixels are left out (and listed): a
rater can only guess on them. ``score`` reads either kind of key: for a versus key, how often the candidate was
judged more natural, with the one-sided sign-test p-value (the chance of at least that many
under no preference), mean confidence and each engine's mean naturalness. Both factories run
in one process, so a candidate must be chosen per engine (its factory), not by a global.

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
    PIXELFES_DATA=../shared/data PYTHONPATH=src python scripts/blind_pairs.py versus \\
        --factory native --against mypkg.mod:candidate --people 20 --directions happy:neutral \\
        -o /tmp/ab/pairs --key /tmp/ab-key/key.json

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
nothing about editing. {repeats}The numbers of A and B answers need not be equal. Confidence: 1 (a guess)
to 5 (certain); naturalness of each photo: 1 (clearly fake) to 5 (fully natural).

Write your answers as one JSON object into {answers}:

{{
  "blind_01": {{"edited": "A", "confidence": 4, "natural_A": 2, "natural_B": 4, "note": "what gave it away"}},
  ...
}}

with one entry for every image in the folder.
"""

VERSUS_INSTRUCTIONS = """\
Blind A/B test: which edit looks more natural
=============================================

The folder {folder} holds {n} images, versus_01.png ... Each shows two photos of the same
person side by side: the left one is "A", the right one is "B". Both were made by programs
that edited the same photo of the person, in the same frame: outside the region where they
differ the two are the same pixels. Under the two photos, that region is shown again,
enlarged (A's left, B's right). Look at each image on its own, at 1:1 and in the enlarged
strip (do not guess from file names, sizes or the order), and say which of the two looks
more natural, more like an unedited photo of a real person. Judge by eye, as a person
looking at the photos would: do not measure the pixels. A difference in overall tone or
contrast that you think you see outside that region is not in the photos: judge what differs.
Pick one even when the difference is small (say so with a low confidence). A person may
appear more than once; judge each image on its own. The numbers of A and B answers need
not be equal. Confidence: 1 (a guess) to 5 (certain); naturalness of each
photo: 1 (clearly fake) to 5 (fully natural).

Write your answers as one JSON object into {answers}:

{{
  "versus_01": {{"more_natural": "A", "confidence": 3, "natural_A": 3, "natural_B": 4, "note": "what you saw"}},
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


def held_out_outputs(args: argparse.Namespace, factories: dict[str, Any], direction: str,
                     rng: np.random.Generator, used: set[str]
                     ) -> tuple[list[str], dict[str, dict[str, tuple[np.ndarray, np.ndarray | None]]]]:
    """The people drawn for one ``source:target`` direction (none of ``used``, which grows)
    and, per person, each factory's output, the input and the real target with landmarks."""
    from pixelfes.evaluate.mouth_protocol import london_people, pairs_loader, run_mouth_folds

    source, target = direction.split(":")
    people = london_people(args.data, source, target)
    # different people in each direction: one person's two pairs would hint at each other
    free = [p.identity for p in people if p.identity not in used]
    if getattr(args, "ids", None):
        wanted = [i.strip() for i in args.ids.split(",") if i.strip()]
        missing = sorted(set(wanted) - set(free))
        if missing:
            raise SystemExit(f"--ids: no {direction} pair (or already used) for {', '.join(missing)}")
        chosen = sorted(wanted)
    else:
        chosen = sorted(rng.choice(free, min(args.people, len(free)), replace=False))
    used.update(chosen)
    seen: dict[str, dict[str, tuple[np.ndarray, np.ndarray | None]]] = {}

    def keep(person: Any, method: str, rgb: np.ndarray, lm: np.ndarray | None) -> None:
        if method in factories or method in ("real target", "input"):
            seen.setdefault(person.identity, {})[method] = (rgb, lm)

    run_mouth_folds(people, factories, source=source, target=target,
                    load_pairs=pairs_loader(args.data), only=set(chosen), on_output=keep,
                    progress=not args.quiet)
    return chosen, seen


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two crops of one size with a 12 px white gap between them (A | B)."""
    gap = np.full((left.shape[0], 12, 3), 255, np.uint8)
    return np.concatenate([left, gap, right], 1)


#: the sentence a rater reads when one person's pair is shown more than once
REPEATS = "A person may appear more than once; judge each image on its own. "


def both_ways(first: bool, both: bool) -> tuple[bool, ...]:
    """The sides to show one person's pair in: ``first`` (True: the edit, or the candidate, on
    A) and, with ``both``, the other way round as well, so that a rater's leaning on one side
    finds the edit in one order and misses it in the other instead of passing for an eye."""
    return (first, not first) if both else (first,)


def write_shuffled(out: Path, key: dict[str, Any], prefix: str, rng: np.random.Generator,
                   key_path: str, instructions: str, **fields: str) -> int:
    """Rename ``out``'s images to ``<prefix>_NN.png`` in a random order (numbers in the order
    made would tell the rater which is which), write the key and ``READY`` (``instructions``
    formatted with the folder, the count, the answers' path and ``fields``)."""
    order = list(key)
    rng.shuffle(order)
    renamed = {}
    for i, old in enumerate(order, 1):
        new = f"{prefix}_{i:02d}"
        (out / f"{old}.png").rename(out / f"{new}.png")
        renamed[new] = key[old]
    Path(key_path).parent.mkdir(parents=True, exist_ok=True)
    Path(key_path).write_text(json.dumps(renamed, indent=1), encoding="utf-8")
    ready = out.parent / "READY"
    ready.write_text(instructions.format(folder=out, n=len(renamed), answers=out.parent / "answers.json",
                                         **fields), encoding="utf-8")
    print(f"wrote {len(renamed)} images to {out}, key {key_path}, instructions {ready}", file=sys.stderr)
    return 0


#: a pixel differs when a channel moves by more than this (JPEG-free PNG crops: 8 levels is seen)
_DIFFERS = 8
#: the zoomed box's margin around what differs, in face-box sides
_ZOOM_MARGIN = 0.04


def differing_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)``: the box around every pixel where ``a`` and ``b`` differ by more than
    :data:`_DIFFERS` in a channel, grown by :data:`_ZOOM_MARGIN` of the side; None if none do."""
    ys, xs = np.nonzero(np.abs(a.astype(np.int16) - b).max(axis=2) > _DIFFERS)
    if not len(xs):
        return None
    m = int(round(_ZOOM_MARGIN * a.shape[1]))
    return (max(int(xs.min()) - m, 0), max(int(ys.min()) - m, 0),
            min(int(xs.max()) + 1 + m, a.shape[1]), min(int(ys.max()) + 1 + m, a.shape[0]))


def versus_image(a: np.ndarray, b: np.ndarray, zoom: tuple[int, int, int, int] | None) -> np.ndarray:
    """A | B side by side and, under them, the box where they differ from each, enlarged by
    whole pixels (nearest, at most 3x, to fit the width): shows the rater where to look, not
    which is which."""
    top = side_by_side(a, b)
    if zoom is None:
        return top
    x0, y0, x1, y1 = zoom
    k = max(1, min(3, (a.shape[1] - 6) // max(x1 - x0, 1)))
    za, zb = (np.repeat(np.repeat(c[y0:y1, x0:x1], k, 0), k, 1) for c in (a, b))
    strip = side_by_side(za, zb)
    pad = np.full((strip.shape[0], top.shape[1] - strip.shape[1], 3), 255, np.uint8)
    gap = np.full((12, top.shape[1], 3), 255, np.uint8)
    return np.concatenate([top, gap, np.concatenate([strip, pad], 1)], 0)


def _has_all(got: dict[str, tuple[np.ndarray, np.ndarray | None]], methods: tuple[str, ...]) -> bool:
    return all(m in got and got[m][1] is not None for m in methods)


def make(args: argparse.Namespace) -> int:
    from PIL import Image

    from pixelfes.evaluate.mouth_protocol import resolve_factory

    rng = np.random.default_rng(args.seed)
    label, factory = resolve_factory(args.factory)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    key: dict[str, Any] = {}
    used: set[str] = set()
    for direction in args.directions.split(","):
        chosen, seen = held_out_outputs(args, {label: factory}, direction, rng, used)
        for ident in chosen:
            got = seen.get(ident, {})
            if not _has_all(got, (label, "real target")):
                print(f"skipped {ident} ({direction}): no face on an output", file=sys.stderr)
                continue
            (real, real_lm), (edit, edit_lm) = got["real target"], got[label]
            assert real_lm is not None and edit_lm is not None
            sigma = 0.0
            if args.match_detail and got.get("input", (None, None))[1] is not None:
                source_rgb, source_lm = got["input"]
                real, sigma = match_detail(real, real_lm, face_detail(source_rgb, source_lm))
            width = float(np.ptp(real_lm[:17, 0]))
            side = int(round(FACE_BOX * width))
            first = bool(rng.integers(2))
            edit_crop, real_crop = face_crop(edit, edit_lm, side), face_crop(real, real_lm, side)
            for a_is_edited in both_ways(first, args.both_orders):
                pair = side_by_side(edit_crop, real_crop) if a_is_edited else side_by_side(real_crop, edit_crop)
                name = f"pair_{len(key) + 1:02d}"
                Image.fromarray(pair).save(out / f"{name}.png")
                key[name] = {"identity": ident, "direction": direction, "edited": "A" if a_is_edited else "B",
                             "face_px": round(width), "real_blur_sigma": round(sigma, 3)}
    return write_shuffled(out, key, "blind", rng, args.key, INSTRUCTIONS,
                          repeats=REPEATS if args.both_orders else "")


def versus_outputs(args: argparse.Namespace, factories: dict[str, Any], direction: str,
                   rng: np.random.Generator, used: set[str], identical: list[str]
                   ) -> Any:
    """``(identity, outputs)`` of the people drawn for ``direction``; with ``args.fill``, people
    whose two outputs turn out the same pixels (appended to ``identical`` by the caller) are
    replaced by fresh draws until ``args.people`` differ or no held-out person is left, so a
    faint candidate is judged on as many people as asked for, not on the few it moved."""
    shown_before = len(identical)
    wanted = getattr(args, "people", None)
    while True:
        chosen, seen = held_out_outputs(args, factories, direction, rng, used)
        for ident in chosen:
            yield ident, seen.get(ident, {})
        if not getattr(args, "fill", False) or getattr(args, "ids", None) or not chosen:
            return
        # people shown so far = drawn - left out as identical (a face missing counts as shown:
        # rare, and a retry would draw the same photo's twin)
        missing = len(identical) - shown_before
        if missing == 0:
            return
        shown_before = len(identical)
        args = argparse.Namespace(**{**vars(args), "people": missing})
        if not args.quiet:
            print(f"--fill: {missing} of {wanted} drawn for {direction} were the same pixels; "
                  "drawing more", file=sys.stderr)


def make_versus(args: argparse.Namespace) -> int:
    from PIL import Image

    from pixelfes.evaluate.mouth_protocol import resolve_factory

    rng = np.random.default_rng(args.seed)
    base_label, base = resolve_factory(args.factory)
    cand_label, cand = resolve_factory(args.against)
    factories = {"baseline": base, "candidate": cand}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    key: dict[str, Any] = {}
    used: set[str] = set()
    identical: list[str] = []
    for direction in args.directions.split(","):
        for ident, got in versus_outputs(args, factories, direction, rng, used, identical):
            if not _has_all(got, ("baseline", "candidate", "input")):
                print(f"skipped {ident} ({direction}): no face on an output", file=sys.stderr)
                continue
            src_lm = got["input"][1]
            assert src_lm is not None
            side = int(round(FACE_BOX * float(np.ptp(src_lm[:17, 0]))))
            # one box for both (the input's face): the two edits of one photo stay registered
            crops = {m: face_crop(got[m][0], src_lm, side) for m in factories}
            zoom = differing_box(crops["baseline"], crops["candidate"])
            first = bool(rng.integers(2))
            if zoom is None and not args.show_identical:  # nothing to judge
                identical.append(ident)
                continue
            for a_is_candidate in both_ways(first, args.both_orders):
                a, b = ((crops["candidate"], crops["baseline"]) if a_is_candidate
                        else (crops["baseline"], crops["candidate"]))
                name = f"pair_{len(key) + 1:02d}"
                Image.fromarray(versus_image(a, b, zoom)).save(out / f"{name}.png")
                key[name] = {"kind": "versus", "identity": ident, "direction": direction,
                             "candidate": "A" if a_is_candidate else "B",
                             "baseline_factory": base_label, "candidate_factory": cand_label,
                             "face_px": side, "zoom_box": list(zoom) if zoom else None}
    if identical:
        print(f"not shown: the two engines' outputs are the same pixels for {', '.join(identical)}",
              file=sys.stderr)
    if not key:
        raise SystemExit("versus: every person's two outputs are the same pixels; nothing to judge")
    return write_shuffled(out, key, "versus", rng, args.key, VERSUS_INSTRUCTIONS)


def sign_test_p(k: int, n: int) -> float:
    """One-sided sign test: P(at least ``k`` of ``n`` fair coin flips), the chance of ``k``
    or more preferences for the candidate when the rater has none."""
    from math import comb

    return sum(comb(n, i) for i in range(k, n + 1)) / 2.0 ** n


#: a versus rater who picks one side in at least this share of the images is void (a side
#: preference, not an engine's: 17 of 20 or 34 of 40 is p < 0.0013 for a rater without one)
SIDE_BIAS_VOID = 0.85


def side_counts(rows: list[dict[str, Any]], hits: str) -> dict[str, float]:
    """Answers and hits by side: how often the rater said A and B, how many images had the
    edit (or the candidate) on A and on B, and the hits (``rows[i][hits]``) on each: a rater
    who leans on B finds every B edit and misses the A ones, which the total hides."""
    on_a = [r for r in rows if r["target_a"]]
    on_b = [r for r in rows if not r["target_a"]]
    return {"answers_a": float(sum(r["said_a"] for r in rows)),
            "answers_b": float(sum(1 - r["said_a"] for r in rows)),
            "shown_a": float(len(on_a)), "shown_b": float(len(on_b)),
            "hits_a": float(sum(r[hits] for r in on_a)), "hits_b": float(sum(r[hits] for r in on_b))}


def person_counts(people: dict[str, list[float]]) -> dict[str, float]:
    """Of the people shown more than once (both orders), how many had the edit picked out in
    every image, in some and in none: the first is the figure a side bias cannot lift (a rater
    who always answers B finds each person's edit in one order only)."""
    twice = [v for v in people.values() if len(v) > 1]
    return {"people_twice": float(len(twice)), "people_both": float(sum(all(v) for v in twice)),
            "people_one": float(sum(any(v) and not all(v) for v in twice)),
            "people_neither": float(sum(not any(v) for v in twice))}


def tally(key: dict[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per direction: for real-vs-edited keys, how often the edit was picked out, mean
    confidence and naturalness of edit and real; for versus keys, how often the candidate
    was judged more natural (images, and people whose every image says so), the sign test's
    p on the images, the share of answers ``A`` and whether that side preference voids the
    rater (:data:`SIDE_BIAS_VOID`), confidence and each engine's naturalness. For either kind,
    by side (:func:`side_counts`): ``answers_a`` / ``answers_b``, ``shown_a`` / ``shown_b``
    (images with the edit, or the candidate, on that side) and ``hits_a`` / ``hits_b``; for a
    real-vs-edited key, per person (:func:`person_counts`): ``people_twice`` (shown in both
    orders) and of them ``people_both`` / ``people_one`` / ``people_neither`` (edit picked out
    in both orders, in one, in neither)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for name, truth in key.items():
        a = answers.get(name)
        if a is None:
            print(f"no answer for {name}", file=sys.stderr)
            continue
        if truth.get("kind") == "versus":
            cand = truth["candidate"]
            base = "B" if cand == "A" else "A"
            said = str(a["more_natural"]).strip().upper()
            row = {"preferred": float(said == cand), "said_a": float(said == "A"), "target_a": cand == "A",
                   "confidence": float(a["confidence"]),
                   "natural_candidate": float(a[f"natural_{cand}"]),
                   "natural_baseline": float(a[f"natural_{base}"]), "identity": truth["identity"]}
        else:
            edited = truth["edited"]
            real = "B" if edited == "A" else "A"
            said = str(a["edited"]).strip().upper()
            row = {"caught": float(said == edited), "said_a": float(said == "A"), "target_a": edited == "A",
                   "identity": truth.get("identity", name), "confidence": float(a["confidence"]),
                   "natural_edited": float(a[f"natural_{edited}"]),
                   "natural_real": float(a[f"natural_{real}"])}
        by.setdefault(truth["direction"], []).append(row)
    result = {}
    for d, rows in by.items():
        m = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k not in ("identity", "target_a")}
        m["n"] = float(len(rows))
        hits = "preferred" if "preferred" in rows[0] else "caught"
        m[hits] = float(sum(r[hits] for r in rows))
        m.update(side_counts(rows, hits))
        people: dict[str, list[float]] = {}
        for r in rows:
            people.setdefault(r["identity"], []).append(r[hits])
        if hits == "preferred":
            m["sign_p"] = sign_test_p(int(m["preferred"]), len(rows))
            m["people"] = float(len(people))
            m["people_won"] = float(sum(all(v) for v in people.values()))
            m["people_lost"] = float(sum(not any(v) for v in people.values()))
            m["side_void"] = float(max(m["said_a"], 1 - m["said_a"]) >= SIDE_BIAS_VOID)
        else:
            m.update(person_counts(people))
        result[d] = m
    return result


def score(args: argparse.Namespace) -> int:
    key = json.loads(Path(args.key).read_text(encoding="utf-8"))
    answers = json.loads(Path(args.answers).read_text(encoding="utf-8"))
    for d, m in tally(key, answers).items():
        n = int(m["n"])
        if "preferred" in m:
            print("| direction | images | candidate judged more natural | sign test p (one-sided) | "
                  "people: candidate in every image / baseline in every image | answers A | "
                  "confidence (1-5) | naturalness candidate | naturalness baseline |")
            print("|---|---|---|---|---|---|---|---|---|")
            print(f"| {d} | {n} | {int(m['preferred'])} of {n} | {m['sign_p']:.3f} | "
                  f"{int(m['people_won'])} / {int(m['people_lost'])} of {int(m['people'])} | "
                  f"{m['said_a']:.2f}{' (VOID: a side preference)' if m['side_void'] else ''} | "
                  f"{m['confidence']:.1f} | {m['natural_candidate']:.2f} | {m['natural_baseline']:.2f} |")
        else:
            print("| direction | pairs | edited picked out | confidence (1-5) | naturalness edited | naturalness real |")
            print("|---|---|---|---|---|---|")
            print(f"| {d} | {n} | {int(m['caught'])} of {n} | {m['confidence']:.1f} | "
                  f"{m['natural_edited']:.2f} | {m['natural_real']:.2f} |")
        what = "candidate" if "preferred" in m else "edited"
        print(f"\n| direction | answers A / B | {what} on A: hits | {what} on B: hits |")
        print("|---|---|---|---|")
        print(f"| {d} | {int(m['answers_a'])} / {int(m['answers_b'])} | {int(m['hits_a'])} of "
              f"{int(m['shown_a'])} | {int(m['hits_b'])} of {int(m['shown_b'])} |")
        if m.get("people_twice"):
            k = int(m["people_twice"])
            print("\n| direction | people shown in both orders | edit picked out in both orders "
                  "(side-bias-free) | in one | in neither | naturalness edited | naturalness real |")
            print("|---|---|---|---|---|---|---|")
            print(f"| {d} | {k} | {int(m['people_both'])} of {k} | {int(m['people_one'])} | "
                  f"{int(m['people_neither'])} | {m['natural_edited']:.2f} | {m['natural_real']:.2f} |")
    return 0


def blind_parser(doc: str, make_help: str, folder_help: str
                 ) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser, Any]:
    """The ``make`` / ``score`` command line every blind test shares (``--data``, ``--seed``,
    ``-o``, ``--key``, ``-q``; ``score --key --answers --data``): the parser, its ``make``
    subparser, for the test's own options, and the subparsers, for more commands."""
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
    return ap, m, sub


def main(argv: list[str] | None = None) -> int:
    ap, m, sub = blind_parser(__doc__, "write blind pairs, their key and the rater's instructions",
                              "folder for the pairs (give only this and READY beside it to the rater)")
    v = sub.add_parser("versus", help="write blind A/B pairs of two engines' outputs (which looks more "
                                      "natural), their key and the rater's instructions")
    v.add_argument("--data", type=Path, default=default_data())
    v.add_argument("--seed", type=int, default=2026)
    v.add_argument("-o", "--output", required=True,
                   help="folder for the pairs (give only this and READY beside it to the rater)")
    v.add_argument("--key", required=True, help="answer key JSON (keep it from the rater)")
    v.add_argument("-q", "--quiet", action="store_true")
    v.add_argument("--factory", default="native", help="the baseline engine factory (see scripts/mouth_eval.py)")
    v.add_argument("--against", required=True,
                   help="the candidate engine factory: a name or module:function")
    v.add_argument("--ids", help="comma-separated London ids to show instead of --people drawn at "
                                 "random (one direction)")
    v.add_argument("--fill", action="store_true",
                   help="draw further held-out people in place of those whose two outputs are the "
                        "same pixels, until --people differ (or none is left): for a candidate that "
                        "changes only some faces")
    v.add_argument("--show-identical", action="store_true",
                   help="also show people whose two outputs are the same pixels (default: left out "
                        "and listed, since a rater can only guess on them)")
    v.add_argument("--one-order", dest="both_orders", action="store_false",
                   help="show each person once (default: twice, once each way round, so a rater's "
                        "preference for a side cannot pass for a preference for an engine)")
    for p in (m, v):
        p.add_argument("--people", type=int, default=10, help="held-out people per direction")
        p.add_argument("--directions", default="neutral:happy,happy:neutral")
    m.add_argument("--factory", default="native", help="engine factory (see scripts/mouth_eval.py)")
    m.add_argument("--both-orders", action="store_true",
                   help="show each person twice, once each way round (images shuffled; the key's "
                        "identity marks the two), so that score can count the people whose edit was "
                        "picked out in both orders, which a rater's leaning on one side cannot lift")
    m.add_argument("--match-detail", action="store_true",
                   help="blur each real photo to its source photo's fine detail over the face (the "
                        "London smiling photos are sharper than the neutral ones: module docstring)")
    args = ap.parse_args(argv)
    return {"make": make, "versus": make_versus, "score": score}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
