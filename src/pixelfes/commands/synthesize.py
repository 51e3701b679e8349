"""``pixelfes synthesize``: the main job, photo in, every face with another expression, photo out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """examples:
  pixelfes synthesize photo.jpg --to happy -o photo_happy.jpg
  pixelfes synthesize photo.jpg --to happy --strength 0.5 -o subtle.jpg
  pixelfes synthesize smiling.png --from happy --to neutral -o calm.png
  pixelfes synthesize photos/*.jpg --to happy -o out/            # a folder for many photos
  pixelfes synthesize photo.jpg --to all --grid -o grid.png     # input | each expression
  pixelfes synthesize painting.png --no-detect --to happy -o out.png   # already a face crop
  pixelfes synthesize photo.jpg --to happy --model neutral-to-happy-pixel-rr -o paper.jpg

Models: `pixelfes models` lists the bundled ones and your own. A photo that fails (no
face found, unreadable) is reported by name; the others still finish, and the exit code
is 1 if any failed."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synthesize", help="give every face in photos another expression",
                       description="Give every face in each photo another expression and write "
                       "the result (same size and format).", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", type=Path, nargs="+", help="input photos (JPEG, PNG, TIFF, ...)")
    p.add_argument("--to", required=True,
                   help="target expression: happy, sad, angry, surprised, disgusted, fearful, "
                   "neutral, or 'all' (every expression there is a model for)")
    p.add_argument("--from", dest="from_", default="neutral",
                   help="the expression the faces have now (default neutral)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="0 = unchanged, 1 = the model (default), 0.5 subtler, 1.5 stronger")
    p.add_argument("--model", default=None,
                   help="a model name from `pixelfes models` or a .safetensors file "
                   "(default: the best model for the direction)")
    p.add_argument("--no-detect", action="store_true",
                   help="take each photo as an already cropped face (paintings, animals)")
    p.add_argument("--max-faces", type=int, default=None, help="change at most this many faces")
    p.add_argument("--min-face", type=float, default=40.0,
                   help="ignore faces smaller than this many pixels (default 40)")
    p.add_argument("--grid", action="store_true",
                   help="write one labelled PNG: input | each requested expression")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality of the output (default 95)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output file, or a folder when there are several photos or --to all")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _targets(args: argparse.Namespace) -> list[str]:
    from ..expressions import EXPRESSIONS, normalize_expression
    from ..zoo import list_models

    source = normalize_expression(args.from_)
    if args.to.lower() != "all":
        return [normalize_expression(args.to)]
    have = {m.target for m in list_models() if m.source == source}
    targets = [e for e in EXPRESSIONS if e in have and e != source]
    if not targets:
        raise ValueError(f"no models from {source}; see `pixelfes models`")
    return targets


def _out_path(args: argparse.Namespace, photo: Path, target: str, many: bool) -> Path:
    if args.grid:
        name = f"{photo.stem}_grid.png"
        return args.output / name if many else args.output
    if many:
        suffix = photo.suffix if photo.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif",
                                                          ".tiff", ".webp", ".bmp") else ".png"
        return args.output / f"{photo.stem}_{target}{suffix}"
    return args.output


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..expressions import normalize_expression
    from ..grid import labelled_grid
    from ..imageio import load_image, save_image
    from ..pipeline import resolve_model, synthesize_rgb

    targets = _targets(args)
    source = normalize_expression(args.from_)
    models = {t: resolve_model(args.model, source, t) for t in targets}
    many = len(args.photos) > 1 or (len(targets) > 1 and not args.grid)
    if many:
        args.output.mkdir(parents=True, exist_ok=True)
    elif args.output.parent and not args.output.parent.exists():
        raise ValueError(f"output folder {args.output.parent} does not exist")
    failed = 0
    for photo in tqdm(args.photos, desc="synthesizing", unit="photo", disable=args.quiet):
        try:
            loaded = load_image(photo)
            results = {t: synthesize_rgb(loaded.rgb, m, args.strength, detect=not args.no_detect,
                                         max_faces=args.max_faces, min_size=args.min_face,
                                         path=photo) for t, m in models.items()}
            if args.grid:
                grid = labelled_grid([loaded.rgb, *results.values()],
                                     [f"input ({source})", *results.keys()])
                save_image(grid, _out_path(args, photo, "grid", many))
            else:
                for t, rgb in results.items():
                    save_image(loaded.to_output(rgb), _out_path(args, photo, t, many),
                               quality=args.quality)
        except Exception as exc:  # noqa: BLE001 - report per photo, finish the others
            failed += 1
            tqdm.write(f"error: {photo}: {exc}", file=sys.stderr)
    done = len(args.photos) - failed
    print(f"wrote {done} of {len(args.photos)} photo(s) to {args.output}", file=sys.stderr)
    return 1 if failed else 0
