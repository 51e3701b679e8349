"""``pixelfes train``: fit a model on paired aligned crops (or a data set) and save it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._args import (
    add_alignment_arguments,
    alignment_from_args,
    asked_alignment,
    check_alignment_args,
)
from ._scale import add_scale_arguments, wants_batch

EPILOG = """examples:
  pixelfes train --model pixel-rr --source crops/neutral --target crops/happy -o happy.safetensors
  pixelfes train --model pixel-kr --sigma 3 --source A --target B -o kr.safetensors
  pixelfes train --model shape-texture --data ~/data/jaffe --from neutral --to sad --install
  pixelfes train --data ~/data/kdef --from neutral --to happy -o happy.safetensors
  pixelfes train --model pixel-kr --data ~/data/kdef --to happy --dask local --jobs 2 -o kr.safetensors

Pairs are matched by file name (crops/neutral/anna.png <-> crops/happy/anna.png); any
unmatched or unreadable file is listed and nothing is written. An existing -o file or
installed model of the same name is not replaced unless you add --overwrite.

--jobs/--dask (pixel-rr, pixel-kr): each worker reads or aligns a shard of the pairs and
sums their statistics; the sums (exact integers) are added up, so the model is the same
bit for bit for any number of workers."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fit a model on paired aligned crops and save it",
                       description="Fit a model mapping one expression to another and save it "
                       "as a safetensors model file.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="pixel-rr",
                   help="model type: pixel-rr (default), pixel-kr, mr, rr, or shape-texture "
                   "(the main engine; needs --data, it learns from 68-point landmarks)")
    src = p.add_argument_group("training pairs (aligned crops, or a data set)")
    src.add_argument("--source", type=Path, help="folder of source-expression crops")
    src.add_argument("--target", type=Path, help="folder of target-expression crops (same names)")
    src.add_argument("--data", type=Path, help="a data set folder (KDEF, RaFD, JAFFE, ...)")
    src.add_argument("--from", dest="from_", default="neutral", metavar="EXPRESSION",
                     help="source expression with --data")
    src.add_argument("--to", default=None, help="target expression with --data (e.g. happy)")
    add_alignment_arguments(src, "with --data: ")
    hp = p.add_argument_group("model parameters (paper defaults when omitted)")
    hp.add_argument("--lam", type=float, help="ridge penalty lambda (default 0.4)")
    hp.add_argument("--sigma", type=float, help="Gaussian kernel width for pixel-kr (default 3)")
    hp.add_argument("--k", type=int, help="neighbourhood size for mr (default 3)")
    p.add_argument("--precision", choices=["float32", "float16", "float64"], default="float32",
                   help="storage precision of the model file (default float32)")
    p.add_argument("-o", "--output", type=Path, help="model file to write (.safetensors)")
    p.add_argument("--install", action="store_true",
                   help="also add the model to your model folder, so `synthesize --to X` finds it")
    p.add_argument("--name", help="name for --install: a plain name (default SOURCE-to-TARGET-TYPE)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing -o file or installed model of the same name")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    add_scale_arguments(p, manifest=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..crops import paired_files, read_crops
    from ..expressions import normalize_expression
    from ..models import model_class
    from ..training import fit_with_progress, training_summary

    cls = model_class(args.model)
    if args.output is None and not args.install:
        raise ValueError("give -o MODEL.safetensors and/or --install")
    check_alignment_args(args)
    if args.name is not None:
        if not args.install:
            raise ValueError("--name goes with --install")
        from ..zoo import check_model_name

        check_model_name(args.name)
    if args.output is not None:
        if args.output.is_dir():
            raise ValueError(f"-o {args.output} is a folder; give a file name such as "
                             f"{args.output / 'model.safetensors'}")
        if args.output.exists() and not args.overwrite:
            raise ValueError(f"-o {args.output} already exists (add --overwrite to replace it)")
        if str(args.output.parent) and not args.output.parent.is_dir():
            raise ValueError(f"the folder of -o {args.output} does not exist; create it first")
    if cls.requires_landmarks and args.data is None:
        raise ValueError(f"{args.model} learns from landmarks: train it with --data DATASET_DIR")
    params = {"lam": args.lam, "sigma": args.sigma, "k": args.k}
    params = {k: v for k, v in params.items() if v is not None and k in cls._param_names}
    model = cls(**params)
    try:
        model._validate_params()  # --lam, --sigma, --k: before any data is read
    except ValueError as exc:
        raise ValueError(f"{args.model}: {exc} (--lam, --sigma, --k)") from None
    progress = not args.quiet
    if wants_batch(args):
        from ._scale import train_on_workers

        model, n = train_on_workers(args, model)
        return _write(args, model, n)
    if args.data is not None:
        if args.source or args.target:
            raise ValueError("give either --data or --source/--target, not both")
        if not args.to:
            raise ValueError("--data needs --to EXPRESSION (e.g. --to happy)")
        from ..datasets import load_pairs, open_dataset

        ds = open_dataset(args.data)
        # a prepared folder knows its own alignment; asked-for values must match it
        pairs = load_pairs(ds, normalize_expression(args.from_), normalize_expression(args.to),
                           alignment=asked_alignment(args) if ds.layout == "aligned"
                           else alignment_from_args(args),
                           progress=progress)
        X, T = pairs.X, pairs.T
        fit_kwargs = pairs.fit_kwargs()
        model.info.update(source=normalize_expression(args.from_), target=normalize_expression(args.to))
        model.info["training"] = training_summary(X, pairs.identities, source=str(args.data))
    else:
        if not (args.source and args.target):
            raise ValueError("give --source DIR and --target DIR (or --data DIR --to EXPRESSION)")
        files = paired_files(args.source, args.target)
        _check_crop_files(files[0])
        X = read_crops([s for s, _ in files], progress=progress, desc="reading source crops")
        T = read_crops([t for _, t in files], channels=X.shape[-1], progress=progress,
                       desc="reading target crops")
        model.info["training"] = training_summary(X, source=f"{args.source} -> {args.target}")
        # crops made elsewhere: their alignment is what the user says (default framing if
        # their size matches it, else unknown and the model cannot be used on photos)
        fit_kwargs = {"alignment": asked_alignment(args, size=int(X.shape[1]))}
        if args.to:
            model.info["target"] = normalize_expression(args.to)
            model.info["source"] = normalize_expression(args.from_)
    if cls.fits_from_stats and str(X.dtype) == str(T.dtype) == "uint8":
        from ..sharded import fit_exact  # exact integer sums: equal to --jobs/--dask bit for bit

        model = fit_exact(model, X, T, alignment=fit_kwargs.get("alignment"))
    else:
        model = fit_with_progress(model, X, T, progress=progress, **fit_kwargs)
    return _write(args, model, len(X))


def _write(args: argparse.Namespace, model: Any, n_pairs: int) -> int:
    """Save (and/or install) the fitted model and report it."""
    if args.output is not None:
        path = model.save(args.output, precision=args.precision)
    if args.install:
        import tempfile

        from ..zoo import install_model

        with tempfile.TemporaryDirectory() as tmp:
            saved = model.save(Path(tmp) / "model.safetensors", precision=args.precision)
            installed = install_model(saved, args.name, overwrite=args.overwrite)
        print(f"installed as {installed} (`pixelfes models` lists it)", file=sys.stderr)
        if args.output is None:
            path = installed
    print(json.dumps({"model": str(path), "type": model.model_type, "pairs": n_pairs,
                      "parameters": model.n_parameters, "bytes": path.stat().st_size}))
    print(f"wrote {path} ({model.model_type}, {n_pairs} pairs)", file=sys.stderr)
    return 0


def _check_crop_files(pair: tuple[Path, Path]) -> None:
    """Crops larger than a model crop can be are refused from their headers, before reading."""
    from PIL import Image

    from .._validation import CROP_SIZE_MAX

    for path in pair:
        try:
            with Image.open(path) as im:
                w, h = im.size
        except Exception:  # noqa: BLE001 - unreadable files are listed by read_crops
            continue
        if max(w, h) > CROP_SIZE_MAX:
            raise ValueError(f"{path} is {w}x{h}: training crops must be at most {CROP_SIZE_MAX} "
                             "px a side (align and shrink them with `pixelfes prepare`)")
