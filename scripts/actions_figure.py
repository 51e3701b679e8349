"""The action-unit grid in docs/figures: 6 London people x (input + the six expressions).

London Face Set (CC BY 4.0, DeBruine & Jones 2017): all of its people are held out for the
action units, which learn nothing. People are chosen to span skin tones and genders
(london_info.csv), not by how well they come out. Each tile is the 128 px framing of the
192 px aligned crop; the PNG is palette-quantised to stay small.

Also writes london-action-units-detail.png beside it: one face at the photo's own resolution
(the photo itself changed at its own resolution, as `pixelfes synthesize` does).

Run: PYTHONPATH=src python scripts/actions_figure.py [-o docs/figures/london-action-units-grid.png]
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from PIL import Image, ImageDraw

from pixelfes.actions import RECIPES, ActionUnitModel
from pixelfes.evaluate.data import aligned_pairs
from pixelfes.grid import _font

DATA = Path(os.environ.get("PIXELFES_DATA", "/work/shared/data"))
ROOT = Path(__file__).resolve().parents[1]
WANT = [("female", "white"), ("male", "black"), ("female", "east_asian"), ("male", "white"),
        ("female", "black"), ("male", "west_asian")]


def pick_people(identities: list[str]) -> list[int]:
    info = {}
    with open(DATA / "london-face-set" / "london_info.csv") as fh:
        for row in csv.DictReader(fh):
            info[row["face_id"]] = (row["face_gender"], row["face_eth"])
    chosen: list[int] = []
    for want in WANT:
        for i, ident in enumerate(identities):
            if i not in chosen and info.get(str(ident).split("_")[0][-3:]) == want:
                chosen.append(i)
                break
    return chosen


def detail_figure(out: Path, person: str = "004", size: int = 300) -> None:
    """Crops of the 1350 px photo changed at its own resolution (the action units' photo path)."""
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces, resolve_model, synthesize_rgb

    rgb = load_image(DATA / "london-face-set" / "neutral_front" / f"{person}_03.jpg").rgb
    faces = find_faces(rgb)
    lm = faces[0].landmarks
    x0, x1 = int(lm[:, 0].min()) + 30, int(lm[:, 0].max()) - 30
    y0, y1 = int(lm[17:27, 1].min()) - 20, int(lm[:, 1].max()) - 10
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    box = (cx - side // 2, cy - side // 2, cx + side // 2, cy + side // 2)
    labels = ["input (neutral)", "surprised", "angry", "disgusted", "fearful"]
    tiles = [Image.fromarray(rgb).crop(box)]
    for e in labels[1:]:
        model = resolve_model(None, "neutral", e, engine="actions")
        tiles.append(Image.fromarray(synthesize_rgb(rgb, model, faces=faces)).crop(box))
    head = 22
    sheet = Image.new("RGB", (size * len(tiles), head + size), "white")
    draw = ImageDraw.Draw(sheet)
    for j, (t, lab) in enumerate(zip(tiles, labels, strict=True)):
        sheet.paste(t.resize((size, size), Image.LANCZOS), (j * size, head))
        draw.text((j * size + 4, 3), lab, fill="black", font=_font(14))
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "figures" / "london-action-units-grid.png")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/au/cache"))
    ap.add_argument("--tile", type=int, default=128)
    args = ap.parse_args()
    p = aligned_pairs(DATA / "london-face-set", "neutral", "happy", cache_dir=args.cache)
    rows = pick_people(list(p.identities))
    models = [ActionUnitModel(e).fit() for e in RECIPES]
    labels = ["input (neutral)", *RECIPES]
    t, head = args.tile, 22
    sheet = Image.new("RGB", (t * len(labels), head + t * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    font = _font(14)
    for j, lab in enumerate(labels):
        draw.text((j * t + 4, 3), lab, fill="black", font=font)
    for r, i in enumerate(rows):
        x, lm = p.X[i], p.landmarks_source[i]
        outs = [x] + [m.predict(x[None], landmarks=lm[None])[0] for m in models]
        for j, o in enumerate(outs):
            tile = Image.fromarray(o[32:160, 32:160]).resize((t, t), Image.LANCZOS)
            sheet.paste(tile, (j * t, head + r * t))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        args.output, optimize=True)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e3:.0f} kB), people {[p.identities[i] for i in rows]}")
    detail_figure(args.output.with_name("london-action-units-detail.png"))


if __name__ == "__main__":
    main()
