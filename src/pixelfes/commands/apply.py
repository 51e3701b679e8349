"""``pixelfes apply``: run a saved model on already aligned crops."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """examples:
  pixelfes apply happy.safetensors crops/*.png -o out/
  pixelfes apply happy.safetensors face.png -o out/ --strength 0.5   # a subtle smile

Crops must have the size the model was trained on (see `pixelfes info MODEL`). A crop
of the wrong size or an unreadable file is reported and the others still finish.
Outputs are PNGs named after the crops (distinct when two crops share a name); nothing
is written over an input or an existing file unless you add --overwrite."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apply", help="apply a saved model to aligned crops",
                       description="Apply a saved model to aligned face crops and write the "
                       "results under the same file names.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file (.safetensors) or a name from `pixelfes models`")
    p.add_argument("crops", type=Path, nargs="+", help="aligned crop images")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (created)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="in [0, 3]: 0 = input, 1 = model (default), between blends, above 1 "
                   "exaggerates")
    p.add_argument("--overwrite", action="store_true",
                   help="allow replacing existing files, inputs included")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .._errors import report
    from .._validation import check_strength
    from ..crops import read_crop, write_crop
    from ..modelfile import load_model
    from ..outputs import check_outputs, crop_outputs, unique_inputs
    from ..zoo import model_path

    check_strength(args.strength, "--strength")
    crops = unique_inputs(args.crops)
    outputs = crop_outputs(crops, args.output)
    check_outputs(outputs, crops, args.overwrite)
    model = load_model(model_path(args.model))
    if getattr(model, "requires_landmarks", getattr(model, "uses_landmarks", False)):
        raise ValueError(f"{args.model} is a {model.model_type} model: it needs the landmarks of "
                         "each face, which crops do not carry; use `pixelfes synthesize` instead")
    h, w, c = model.image_shape_
    args.output.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path, dest in tqdm(list(zip(crops, outputs, strict=True)), desc="applying", unit="crop",
                           disable=args.quiet):
        try:
            crop = read_crop(path, channels=c)
            if crop.shape[:2] != (h, w):
                raise ValueError(f"crop is {crop.shape[1]}x{crop.shape[0]}, model expects {w}x{h}")
            out = model.predict(crop[None], strength=args.strength)[0]
            write_crop(out, dest)
        except Exception as exc:  # noqa: BLE001 - report per file, carry on with the rest
            failed += 1
            report(exc, str(path))
    done = len(crops) - failed
    print(f"wrote {done} crop(s) to {args.output}" + (f"; {failed} failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0
