"""Write a grid of aligned crops of a data set, to check by eye that eyes and mouths line up.

Examples:
    python scripts/contact_sheet.py ../shared/data/london-face-set -o /tmp/london_sheet.png
    python scripts/contact_sheet.py ALIGNED_DIR -o /tmp/sheet.png --limit 24 --cols 8

The last tile is the mean of all tiles (sharp eyes there = good alignment); red dots mark the
template points. Write sheets of restricted data sets (JAFFE) outside the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pixelfes.alignment import Alignment
from pixelfes.commands._args import add_alignment_arguments, alignment_from_args
from pixelfes.datasets import align_image_file, open_dataset
from pixelfes.face import NoFaceError, get_template
from pixelfes.imageio import save_image


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, align (or read cached) crops, and write the sheet."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", type=Path, help="data set folder (any layout) or a prepared folder")
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    add_alignment_arguments(p, "when aligning: ")
    p.add_argument("--limit", type=int, default=48, help="at most this many images (default 48)")
    p.add_argument("--cols", type=int, default=12, help="tiles per row (default 12)")
    p.add_argument("--no-dots", action="store_true", help="do not mark the template points")
    args = p.parse_args(argv)

    ds = open_dataset(args.dataset)
    recs = ds.records[: args.limit]
    tiles = []
    alignment = Alignment.from_dict(ds.meta) if ds.layout == "aligned" else alignment_from_args(args)
    for r in recs:
        if ds.layout == "aligned":
            with Image.open(r.path) as im:
                tiles.append(np.asarray(im.convert("RGB")))
            continue
        try:
            a = align_image_file(r.path, alignment)
        except NoFaceError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        tiles.append(np.repeat(a.crop, 3, axis=2) if a.crop.shape[2] == 1 else a.crop)
    if not tiles:
        print("no face aligned; nothing to draw", file=sys.stderr)
        return 1
    tiles.append(np.rint(np.mean(tiles, axis=0)).astype(np.uint8))
    size = alignment.size
    cols = min(args.cols, len(tiles))
    rows = -(-len(tiles) // cols)
    sheet = Image.new("RGB", (cols * size, rows * size), (40, 40, 40))
    pts = get_template(alignment.template).crop_points(alignment)
    for i, t in enumerate(tiles):
        tile = Image.fromarray(t)
        if not args.no_dots:
            d = ImageDraw.Draw(tile)
            for x, y in pts:
                d.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=(255, 0, 0))
        sheet.paste(tile, ((i % cols) * size, (i // cols) * size))
    save_image(sheet, args.output)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
