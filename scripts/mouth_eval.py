"""Mouth contrast, tint and detail on full-size London photos, identity-disjoint (issue 11).

For each direction (neutral -> happy, happy -> neutral), each of 5 folds over people
trains the engine under test on the other 4/5 of the people and changes the held-out
people's full-size photos; each output's mouth (landmarks found on the output) is compared
with the same person's real photo of the target expression (pixelfes.evaluate.mouth).
Rows ``input`` (no change) and ``real target`` (the real photo: all zero) come with every run.

Examples:
    PYTHONPATH=src python scripts/mouth_eval.py --json /tmp/mouth.json
    PYTHONPATH=src python scripts/mouth_eval.py --model-factory new=mypkg.engine:factory
    PYTHONPATH=src python scripts/mouth_eval.py --directions neutral:happy --people 10
    PYTHONPATH=src python scripts/mouth_eval.py --people 3 --save-mouths /tmp/mouths

A factory is ``factory(fold) -> engine``: ``fold`` is a pixelfes.evaluate.mouth_protocol.
TrainingFold (``fold.pairs(alignment=None)`` the training people's aligned pairs,
``fold.people`` their photo files); the engine is a fitted ExpressionModel (applied with
pixelfes.pipeline.synthesize_rgb) or a callable ``engine(rgb, faces, strength) -> rgb``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # same float rounding on every run
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from pixelfes._atomic import atomic_path  # noqa: E402
from pixelfes.evaluate.mouth import (  # noqa: E402
    DETAIL_GOAL,
    DETAIL_WIDTH,
    GROUP_RATIO_GOAL,
    MOUTH_CALLS,
    summarise_mouths,
)
from pixelfes.evaluate.mouth_protocol import (  # noqa: E402
    london_people,
    pairs_loader,
    resolve_factory,
    run_mouth_folds,
)
from pixelfes.evaluate.photo_scores import CropCollector, score_crops  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def default_data() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"


def _f(v: float | None, fmt: str = ".2f") -> str:
    return "-" if v is None else format(v, fmt)


def table(summary: dict, direction: str) -> str:
    """Markdown table of one direction's summary (rows: methods)."""
    groups = sorted({g for s in summary.values() for g in s["groups"]})
    head = (["method", "n", "contrast err", "signed", "real open / closed",
             *[f"{g} (n)" for g in groups], "worst/best",
             "tint err", "detail ratio (median)", "in 0.85-1.2", "open out/real"])
    lines = [f"### {direction}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, s in summary.items():
        per = [f"{_f(s['groups'][g]['contrast_error'])} ({s['groups'][g]['n']})" if g in s["groups"]
               else "-" for g in groups]
        cells = [method, f"{s['n']}" + (f" (+{s['failed']} failed)" if s["failed"] else ""),
                 _f(s["contrast_error"]), _f(s["contrast_difference"], "+.2f"),
                 f"{_f(s['contrast_error_real_open'])} / {_f(s['contrast_error_real_closed'])}", *per, _f(s["group_ratio"]), _f(s["tint_error"]),
                 f"{_f(s['detail_ratio'])} ({_f(s['detail_ratio_median'])})",
                 _f(s["detail_in_goal"]), f"{_f(s['open_output'])}/{_f(s['open_real'])}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fold_table(summary: dict) -> str:
    """Markdown table of the region beside the nose (rows: methods): a*b* distance of its
    median to the real photo's, signed chroma and L* (output minus real), per group too."""
    groups = sorted({g for s in summary.values() for g in s["groups"]})
    head = ["method", "fold tint err", "chroma out - real", "L* out - real",
            *[f"{g} tint / chroma" for g in groups]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, s in summary.items():
        per = [f"{_f(s['groups'][g].get('fold_tint_error'))} / "
               f"{_f(s['groups'][g].get('fold_chroma_difference'), '+.2f')}" if g in s["groups"] else "-"
               for g in groups]
        lines.append("| " + " | ".join([method, _f(s.get("fold_tint_error")),
                                        _f(s.get("fold_chroma_difference"), "+.2f"),
                                        _f(s.get("fold_L_difference"), "+.2f"), *per]) + " |")
    return "\n".join(lines)


def judges_table(scores: dict) -> str:
    """Markdown table of :func:`score_crops`' means (rows: methods)."""
    keys = [k for k in next(iter(scores.values())) if k != "n"]
    lines = ["| method | n | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 2)]
    for method, s in scores.items():
        lines.append(f"| {method} | {int(s['n'])} | " + " | ".join(_f(s.get(k), ".3f") for k in keys) + " |")
    return "\n".join(lines)


class StreakCollector:
    """An ``on_output`` hook: each measured image's lip streak ratio
    (:func:`pixelfes.evaluate.streaks.streak_ratio`), ``ratios[method][identity]``, and the lower
    lip's alone, ``lower[method][identity]``."""

    def __init__(self) -> None:
        self.ratios: dict[str, dict[str, float]] = {}
        self.lower: dict[str, dict[str, float]] = {}

    def __call__(self, person: object, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        from pixelfes.evaluate.streaks import streak_ratio

        ident = str(getattr(person, "identity", "?"))
        for lip, into in (("both", self.ratios), ("lower", self.lower)):
            ratio = float("nan") if landmarks is None else streak_ratio(rgb, landmarks, lip)
            into.setdefault(method, {})[ident] = ratio


def streaks_table(summary: dict) -> str:
    """Markdown table of :func:`pixelfes.evaluate.streaks.summarise_streaks` (rows: methods)."""
    lines = ["| method | n | streak ratio (median) | \\|log(out / real)\\| median | mean |", "|---|---|---|---|---|"]
    for method, s in summary.items():
        lines.append(f"| {method} | {s['n']} | {_f(s['ratio_median'])} | {_f(s['error_median'], '.3f')} | "
                     f"{_f(s['error_mean'], '.3f')} |")
    return "\n".join(lines)


class EyeCollector:
    """An ``on_output`` hook: each measured image's landmarks and lower-lid luminance profile
    (:func:`pixelfes.lids.lid_profile`), for ``smile_eye_motion.eye_table``."""

    def __init__(self) -> None:
        self.marks: dict[tuple[str, str], np.ndarray] = {}
        self.profiles: dict[tuple[str, str], np.ndarray] = {}

    def __call__(self, person: object, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        from pixelfes.lids import lid_profile

        if landmarks is not None:
            key = (str(getattr(person, "identity", "?")), method)
            self.marks[key] = np.asarray(landmarks, dtype=np.float64)
            self.profiles[key] = lid_profile(rgb, self.marks[key])


def eye_part(eyes: EyeCollector, methods: list[str]) -> dict:
    """``smile_eye_motion.eye_table`` of the collected images (scripts/smile_eye_motion.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from smile_eye_motion import eye_table

    return eye_table(eyes.marks, eyes.profiles, methods)


def eyes_table(table: dict) -> str:
    """Markdown table of :func:`eye_part` (rows: methods; eye distances)."""
    lines = ["| method | n | eye opening | change | lower lids dy | upper lids dy | \\|opening - real\\| | "
             "lower-lid shading RMS to real |", "|---|---|---|---|---|---|---|---|"]
    for m, r in table.items():
        lines.append(f"| {m} | {r['n']} | {_f(r['opening'], '.4f')} | {_f(r['opening_change'], '+.4f')} | "
                     f"{_f(r['lower_dy'], '+.4f')} | {_f(r['upper_dy'], '+.4f')} | {_f(r['opening_to_real'], '.4f')} | "
                     f"{_f(r['shading_to_real'], '.4f')} |")
    return "\n".join(lines)


class JunctionCollector:
    """An ``on_output`` hook: each measured image's lip junction numbers (level, onset:
    :func:`pixelfes.evaluate.junction.junction_numbers`), ``numbers[method][identity]``, and each
    person's group (``groups[identity]``)."""

    def __init__(self) -> None:
        self.numbers: dict[str, dict[str, dict[str, float]]] = {}
        self.groups: dict[str, str] = {}

    def __call__(self, person: object, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        from pixelfes.evaluate.junction import junction_numbers, junction_profile

        if landmarks is None:
            return
        ident = str(getattr(person, "identity", "?"))
        self.groups[ident] = str(getattr(person, "group", "?"))
        self.numbers.setdefault(method, {})[ident] = junction_numbers(junction_profile(rgb, landmarks))


def junction_table(junction: JunctionCollector, methods: list[str]) -> tuple[dict, str]:
    """Each method's paired junction gaps against the real smile (all people, and by group:
    :func:`pixelfes.evaluate.junction.junction_gaps`) and their markdown table."""
    from pixelfes.evaluate.junction import junction_gaps

    gaps = {m: junction_gaps(junction.numbers, m, groups=junction.groups) for m in ["input", *methods]}
    lines = ["| method | n | level (real) | level gap (se) | onset (real) | onset gap (se) | black: level gap | onset gap |",
             "|---|---|---|---|---|---|---|---|"]
    for m, g in gaps.items():
        if "level" not in g:
            continue
        lv, on = g["level"], g.get("onset", {})
        bl, bo = g.get("level@black"), g.get("onset@black")
        lines.append(f"| {m} | {int(lv['n'])} | {lv['method']:.3f} ({lv['real']:.3f}) | {lv['gap']:+.3f} ({lv['se']:.3f}) | "
                     f"{on.get('method', float('nan')):.3f} ({on.get('real', float('nan')):.3f}) | "
                     f"{on.get('gap', float('nan')):+.3f} ({on.get('se', float('nan')):.3f}) | "
                     + (f"{bl['gap']:+.3f} ({bl['se']:.3f}), n {int(bl['n'])}" if bl else "-") + " | "
                     + (f"{bo['gap']:+.3f} ({bo['se']:.3f})" if bo else "-") + " |")
    return gaps, "\n".join(lines)


class MouthSaver:
    """An ``on_output`` hook saving each measured image's mouth at 1:1: ``DIR/<direction>/
    <identity>_<method>.png`` (the outer lips' box padded by half the mouth width) and, in
    ``landmarks.json``, the 68 landmarks found on the image, shifted into that crop."""

    def __init__(self, folder: Path, direction: str) -> None:
        self.folder = folder / direction.replace(":", "-")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.landmarks: dict[str, list[list[float]]] = {}

    def __call__(self, person: object, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        from PIL import Image

        if landmarks is None:
            return
        lm = np.asarray(landmarks, dtype=np.float64)
        pad = 0.5 * float(np.linalg.norm(lm[54] - lm[48]))
        h, w = rgb.shape[:2]
        x0, y0 = np.maximum(np.floor(lm[48:68].min(axis=0) - pad).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(lm[48:68].max(axis=0) + pad).astype(int) + 1, (w, h))
        name = f"{getattr(person, 'identity', '?')}_{method.replace(' ', '-')}"
        with atomic_path(self.folder / f"{name}.png") as tmp:
            Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1])).save(tmp, format="PNG")
        self.landmarks[name] = (lm - [x0, y0]).round(2).tolist()

    def close(self) -> None:
        with atomic_path(self.folder / "landmarks.json") as tmp:
            tmp.write_text(json.dumps(self.landmarks), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the folds for each direction, print tables, write JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=None,
                   help="London Face Set folder (default $PIXELFES_DATA/london-face-set)")
    p.add_argument("--model-factory", action="append", default=None, metavar="[LABEL=]NAME|MODULE:FUNC",
                   help="engine to measure; repeatable (default: shape-texture, today's default)")
    p.add_argument("--directions", nargs="+", default=["neutral:happy", "happy:neutral"],
                   metavar="SOURCE:TARGET", help="default: both neutral:happy happy:neutral")
    p.add_argument("--folds", type=int, default=5, help="folds over people (default 5)")
    p.add_argument("--seed", type=int, default=0, help="fold seed (default 0)")
    p.add_argument("--strength", type=float, default=1.0, help="engine strength (default 1)")
    p.add_argument("--detail-width", type=int, default=DETAIL_WIDTH,
                   help=f"mouth box width for the Laplacian (default {DETAIL_WIDTH})")
    p.add_argument("--people", type=int, default=None,
                   help="synthesise only the first N people of a seeded shuffle (quick runs)")
    p.add_argument("--min-group", type=int, default=3,
                   help="groups with fewer people stay out of the worst/best ratio (default 3)")
    p.add_argument("--json", type=Path, default=None, help="write summary + per-person rows here")
    p.add_argument("--judges", action="store_true",
                   help="also score every image with the canvas judges (fer, face-api, facex, identity, "
                        "PSNR/SSIM/sharpness), cut back to the canvas (pixelfes.evaluate.photo_scores)")
    p.add_argument("--mouth-call", choices=MOUTH_CALLS, default="photo",
                   help="how a mouth is called open: 'photo' (teeth seen on the photo, the lip line found "
                        "where the lips meet; default) or 'area' (the landmarks' inner-lip area and midline, "
                        "the first call, to compare: docs/mouth.md, 'Which call the measure uses')")
    p.add_argument("--save-mouths", type=Path, default=None, metavar="DIR",
                   help="save every measured image's mouth crop at 1:1 (PNG) and its landmarks "
                        "(landmarks.json) under DIR/<direction>/ (for looking at them; not for git)")
    p.add_argument("--ids", default=None,
                   help="comma-separated London ids: synthesise only these people (their folds as in the full run)")
    p.add_argument("--progress", action="store_true", help="progress bars on stderr")
    args = p.parse_args(argv)

    data = args.data or default_data()
    if not (data / "london_info.csv").is_file():
        p.error(f"--data: {data} has no london_info.csv; pass the London Face Set folder")
    try:
        factories = dict(resolve_factory(t) for t in (args.model_factory or ["shape-texture"]))
    except ValueError as exc:
        p.error(f"--model-factory: {exc}")
    load = pairs_loader(data, progress=args.progress)
    report: dict = {"data": str(data), "folds": args.folds, "seed": args.seed,
                    "strength": args.strength, "detail_width": args.detail_width, "methods": list(factories),
                    "mouth_call": args.mouth_call,
                    "detail_goal": DETAIL_GOAL, "group_ratio_goal": GROUP_RATIO_GOAL,
                    "directions": {}}
    for d in args.directions:
        source, _, target = d.partition(":")
        if not target:
            p.error(f"--directions: {d!r} must be SOURCE:TARGET, e.g. neutral:happy")
        people = london_people(data, source, target)
        only = None
        if args.ids:
            only = {i.strip() for i in args.ids.split(",") if i.strip()}
            unknown = sorted(only - {q.identity for q in people})
            if unknown:
                p.error(f"--ids: {', '.join(unknown)} not among {d}'s people")
        elif args.people:
            order = np.random.default_rng(args.seed).permutation(len(people))
            only = {people[i].identity for i in order[: args.people]}
        t0 = time.perf_counter()
        collector = CropCollector() if args.judges else None
        saver = MouthSaver(args.save_mouths, d) if args.save_mouths else None
        streaks = StreakCollector()
        eyes = EyeCollector()
        junction = JunctionCollector()
        hooks = [h for h in (collector, saver, streaks, eyes, junction) if h is not None]

        def on_output(person: object, method: str, rgb: np.ndarray, lm: np.ndarray | None,
                      hooks: list = hooks) -> None:
            for h in hooks:
                h(person, method, rgb, lm)
        rows = run_mouth_folds(people, factories, source=source, target=target, load_pairs=load,
                               n_folds=args.folds, seed=args.seed, strength=args.strength,
                               detail_width=args.detail_width, only=only, progress=args.progress,
                               on_output=on_output, call=args.mouth_call)
        if saver is not None:
            saver.close()
        summary = summarise_mouths(rows, min_group=args.min_group)
        report["directions"][d] = {"seconds": round(time.perf_counter() - t0, 1),
                                   "summary": summary, "rows": rows}
        print(table(summary, f"{source} -> {target} ({len(people) if only is None else len(only)} "
                             f"held-out people, {args.folds} folds)"))
        print()
        from pixelfes.evaluate.streaks import summarise_streaks

        report["directions"][d]["streaks"] = summarise_streaks(streaks.ratios)
        print("Streaky lips (streak ratio: horizontal / vertical gradient energy of the lips' texture):")
        print()
        print(streaks_table(report["directions"][d]["streaks"]))
        print()
        report["directions"][d]["streaks_lower"] = summarise_streaks(streaks.lower)
        print("The lower lip alone:")
        print()
        print(streaks_table(report["directions"][d]["streaks_lower"]))
        print()
        report["directions"][d]["eyes"] = eye_part(eyes, list(factories))
        print("The eyes (dlib on each image, eye distances; shading: log L* below the lower lids, relative to the cheek band):")
        print()
        print(eyes_table(report["directions"][d]["eyes"]))
        print()
        gaps, text = junction_table(junction, list(factories))
        report["directions"][d]["junction"] = {"gaps": gaps, "numbers": junction.numbers}
        print("The lips' junction beyond the opening (linear luminance over the lips' median, outer -> inner corner; "
              "gap = output - real smile, paired):")
        print()
        print(text)
        print()
        print("Beside the nose (nasolabial region):")
        print()
        print(fold_table(summary))
        print()
        if collector is not None:
            each: dict = {}
            scores = score_crops(collector.crops, target, ["input", *factories, "real target"], people_out=each)
            report["directions"][d]["judges"] = scores
            report["directions"][d]["judges_people"] = each
            print(judges_table(scores))
            print()
        for method, s in summary.items():
            for f in s["failures"]:
                print(f"failed ({method}): {f}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
