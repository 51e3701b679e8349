"""A 1:1 mouth grid of held-out London people: input | today's default | new engine | real target.

Each row is one person whose folds' engines never saw them (5 folds over people, as in
scripts/mouth_eval.py). Crops are cut from the full-size photos at 1:1 (no resampling):
input and engine outputs share one box centred on the input's mouth (so the change is
seen in place), the real target's box is centred on its own mouth. People: the
``--darkest`` darkest-skinned (lowest median cheek L* on their neutral photo), the rest
spread evenly over the cheek-L* range; row labels give id, face_eth and cheek L*.

Examples:
    PYTHONPATH=src python scripts/mouth_grid.py -o /tmp/mouth_grid_nh.png
    PYTHONPATH=src python scripts/mouth_grid.py --direction happy:neutral -o /tmp/hn.png
    PYTHONPATH=src python scripts/mouth_grid.py --new new=mypkg.engine:factory -o /tmp/g.png

London photos are CC BY 4.0 (DeBruine & Jones 2017): a committed grid goes under
docs/figures/ with the attribution in docs/images/ATTRIBUTION.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from pixelfes._atomic import atomic_path  # noqa: E402
from pixelfes.evaluate.mouth import measure_mouth  # noqa: E402
from pixelfes.evaluate.mouth_protocol import (  # noqa: E402
    london_people,
    pairs_loader,
    resolve_factory,
    run_mouth_folds,
)
from pixelfes.imageio import read_rgb  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LABEL_H = 18
GAP = 4


def default_data() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"


def choose_people(people: list, n: int, darkest: int, source: str) -> tuple[list, dict[str, float]]:
    """The ``darkest`` lowest cheek-L* people, one (median L*) of each group not yet in, then
    the rest spread evenly over the cheek-L* range; sorted darkest first."""
    cheek: dict[str, float] = {}
    for p in people:
        try:
            photo = p.photos.get("neutral", p.photos[source])  # same people both directions
            cheek[p.identity] = measure_mouth(read_rgb(photo)[0]).cheek_L
        except ValueError as exc:
            print(f"skipped {p.identity}: {exc}", file=sys.stderr)
    group = {p.identity: p.group for p in people}
    ranked = sorted(cheek, key=cheek.__getitem__)
    chosen = ranked[:darkest]
    for g in sorted(set(group.values())):
        members = [i for i in ranked if group[i] == g]
        if len(chosen) < n and members and not any(group[i] == g for i in chosen):
            chosen.append(members[len(members) // 2])
    rest = [i for i in ranked if i not in chosen]
    k = n - len(chosen)
    if k > 0 and rest:
        chosen += [rest[int(i)] for i in np.unique(np.linspace(0, len(rest) - 1, k).round())]
    return sorted(chosen, key=cheek.__getitem__), cheek


def crop(rgb: np.ndarray, centre: np.ndarray, w: int, h: int) -> np.ndarray:
    """``(h, w, 3)`` window of ``rgb`` centred on ``centre`` (grey outside the photo)."""
    out = np.full((h, w, 3), 128, np.uint8)
    x0, y0 = int(round(centre[0] - w / 2)), int(round(centre[1] - h / 2))
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(rgb.shape[1], x0 + w), min(rgb.shape[0], y0 + h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, synthesise the held-out people, write the grid."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    p.add_argument("--data", type=Path, default=None,
                   help="London Face Set folder (default $PIXELFES_DATA/london-face-set)")
    p.add_argument("--direction", default="neutral:happy", metavar="SOURCE:TARGET",
                   help="neutral:happy (default) or happy:neutral")
    p.add_argument("--default", default="shape-texture", metavar="[LABEL=]NAME|MODULE:FUNC",
                   help="the 'today' column's factory (default shape-texture)")
    p.add_argument("--new", default=None, metavar="[LABEL=]NAME|MODULE:FUNC",
                   help="the new engine's factory (column left out when not given)")
    p.add_argument("--people", type=int, default=10, help="rows (default 10, at least 1)")
    p.add_argument("--darkest", type=int, default=3, help="darkest-skinned people included (default 3)")
    p.add_argument("--width", type=float, default=1.25, help="crop width / mean mouth width of input and real (default 1.25)")
    p.add_argument("--height", type=float, default=0.6, help="crop height / that mouth width (default 0.6)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--strength", type=float, default=1.0)
    args = p.parse_args(argv)
    if args.people < 1 or not 0 <= args.darkest <= args.people:
        p.error("--people must be >= 1 and --darkest in 0..--people")
    if args.output.suffix.lower() != ".png":
        p.error(f"--output: {args.output} must end in .png")
    data = args.data or default_data()
    if not (data / "london_info.csv").is_file():
        p.error(f"--data: {data} has no london_info.csv; pass the London Face Set folder")
    source, _, target = args.direction.partition(":")
    try:
        factories = dict([resolve_factory(args.default)] + ([resolve_factory(args.new)] if args.new else []))
    except ValueError as exc:
        p.error(str(exc))
    people = london_people(data, source, target)
    chosen, cheek = choose_people(people, args.people, args.darkest, source)
    images: dict[tuple[str, str], tuple[np.ndarray, np.ndarray | None]] = {}

    def keep(person, method, rgb, landmarks):
        images[(person.identity, method)] = (rgb, landmarks)

    run_mouth_folds(people, factories, source=source, target=target, load_pairs=pairs_loader(data),
                    n_folds=args.folds, seed=args.seed, strength=args.strength, only=set(chosen),
                    on_output=keep)
    columns = ["input", *factories, "real target"]
    groups = {q.identity: q.group for q in people}
    rows = []
    for ident in chosen:
        rgb_in, lm_in = images[(ident, "input")]
        if lm_in is None:
            print(f"skipped {ident}: no face on the input", file=sys.stderr)
            continue
        lm_real = images.get((ident, "real target"), (None, None))[1]
        widths = [np.linalg.norm(q[54] - q[48]) for q in (lm_in, lm_real) if q is not None]
        mw = float(np.mean(widths))  # one framing for both directions of a person
        w, h = int(round(args.width * mw)), int(round(args.height * mw))
        tiles = []
        for method in columns:
            rgb, lm = images.get((ident, method), (None, None))
            if rgb is None:
                tiles.append(np.full((h, w, 3), 128, np.uint8))
                continue
            own = lm if method == "real target" and lm is not None else lm_in
            tiles.append(crop(rgb, own[48:60].mean(axis=0), w, h))
        rows.append((f"{ident} {groups[ident]} cheek L* {cheek[ident]:.0f}", tiles))
    if not rows:
        print("no row could be drawn", file=sys.stderr)
        return 1
    col_w = [max(t[i].shape[1] for _, t in rows) for i in range(len(columns))]
    width = sum(col_w) + GAP * (len(columns) - 1)
    height = LABEL_H + sum(LABEL_H + max(t.shape[0] for t in tiles) + GAP for _, tiles in rows)
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    xs = np.concatenate([[0], np.cumsum(np.array(col_w) + GAP)])[:-1]
    for x, name in zip(xs, columns, strict=True):
        draw.text((int(x) + 2, 3), name, fill=(0, 0, 0))
    y = LABEL_H
    for label, tiles in rows:
        draw.text((2, y + 3), label, fill=(0, 0, 0))
        y += LABEL_H
        for x, t in zip(xs, tiles, strict=True):
            sheet.paste(Image.fromarray(t), (int(x), y))
        y += max(t.shape[0] for t in tiles) + GAP
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.output) as tmp:
        sheet.save(tmp, format="PNG", optimize=True)
    kb = args.output.stat().st_size / 1024
    if kb > 1000:
        print(f"note: {kb:.0f} KB; figures in docs/ stay under 1 MB (fewer --people, smaller "
              "--width/--height)", file=sys.stderr)
    print(f"wrote {args.output} ({sheet.width}x{sheet.height}, {kb:.0f} KB; rows: "
          f"{', '.join(label.split()[0] for label, _ in rows)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
