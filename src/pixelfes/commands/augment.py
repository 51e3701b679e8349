"""``pixelfes augment``: a data set of photos in, every face with each expression out, labelled."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ._args import add_action_arguments, nonempty_floats
from ._scale import add_scale_arguments

if TYPE_CHECKING:
    from ..batch import Manifest

EPILOG = """examples:
  pixelfes augment photos/ -o augmented/ --to all
  pixelfes augment photos/ -o augmented/ --to happy,sad --strengths 0.5,1,1.5 --jobs 2
  pixelfes augment /shared/photos -o /shared/aug --to all --dask tcp://scheduler:8786
  pixelfes augment crops/ -o augmented/ --to all --no-detect      # already face crops
  pixelfes augment photos/ -o aug/ --to surprised,fearful --au 26=0.5 --jobs 2   # + actions
  pixelfes augment photos/ -o aug/ --to all --engine actions      # the recipes only
  pixelfes augment photos/ -o aug/ --to surprised --like wow.jpg  # wow.jpg's actions, labelled surprised

Writes OUTPUT/<expression>/<path under DATASET> (with _s<strength> before the extension
when several strengths are asked for) and OUTPUT/labels.csv (source, expression, strength,
output, faces) of every image made. OUTPUT/pixelfes-manifest.jsonl records each output
as it is made: rerunning the same command after a crash skips what is done and retries
what failed; new photos added to DATASET are processed by the rerun (other settings,
--au, --like's actions and --engine included, are refused). From 8 photos it runs one
process per core unless --jobs says otherwise (the same bytes either way).

Engines (as in `pixelfes synthesize`): a learned model where one exists for the direction
(the bundled neutral <-> happy, or one you trained), else the action-unit recipes from the
ICT 3D face model (sad, angry, surprised, disgusted, fearful from neutral; neutral from any
expression); --au adds facial action units to every output, --like PHOTO gives every face
the first face of PHOTO's actions (analysed once, before the run), labelled with the one
expression --to names (what PHOTO shows)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("augment", help="give every face of a photo data set each expression",
                       description="Augment a data set: every face of every photo under DATASET "
                       "given each expression there is a model or recipe for, written as a "
                       "labelled data set.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", type=Path, metavar="DATASET",
                   help="a folder of photos (searched recursively)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--to", default="all",
                   help="'all' (every expression there is a model or recipe for; default) or a "
                   "comma-separated list, e.g. happy,sad")
    p.add_argument("--from", dest="from_", default="neutral", metavar="EXPRESSION",
                   help="the expression the faces have now (default neutral)")
    p.add_argument("--strengths", type=nonempty_floats, default=[1.0], metavar="A,B,...",
                   help="strengths to make, comma-separated (default 1), e.g. 0.5,1,1.5")
    add_action_arguments(
        p, au_help="facial action units added to every output, e.g. 1=0.8,2=0.8,26=0.5 "
        "or 12L=0.6 (`pixelfes synthesize --help` lists them)",
        like_help="give every face the facial actions of the first face in PHOTO, "
        "labelled with the one expression --to names (the one PHOTO shows)")
    p.add_argument("--no-detect", action="store_true",
                   help="take each image as an already cropped face")
    p.add_argument("--max-faces", type=int, default=None, help="change at most this many faces")
    p.add_argument("--min-face", type=float, default=40.0,
                   help="ignore faces smaller than this many pixels (default 40)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    p.add_argument("--overwrite", action="store_true",
                   help="allow replacing files in OUTPUT that no manifest says this run wrote")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_scale_arguments(p)
    p.set_defaults(func=run)


def targets_of(to: str, source: str, engine: str = "auto") -> list[str]:
    """The expressions asked for: every one with a model or (unless ``engine="learned"``) an
    action-unit recipe from ``source``, or the listed ones."""
    from ..expressions import EXPRESSIONS, normalize_expression
    from ..zoo import list_models

    if to.strip().lower() == "all":
        have = {m.target for m in list_models() if m.source == source}
        if source == "neutral" and engine != "learned":
            from ..actions.recipes import RECIPES

            have |= set(RECIPES)
        targets = [e for e in EXPRESSIONS if e in have and e != source]
        if not targets:
            raise ValueError(f"no models from {source}; see `pixelfes models`")
        return targets
    targets = list(dict.fromkeys(normalize_expression(t) for t in to.split(",") if t.strip()))
    if not targets:
        raise ValueError(f"--to: expected 'all' or expression names; got {to!r}")
    return targets


def write_labels(manifest: Manifest, out_dir: Path) -> Path:
    """``OUTPUT/labels.csv``: one line per image made, in the order made (atomic).

    Streams the manifest (a row per output, the last one counting), so a run of millions
    of images never holds its rows in memory.
    """
    from .._atomic import atomic_path
    from ..batch import DONE, iter_lines

    path = out_dir / "labels.csv"
    listed: set[str] = set()
    with atomic_path(path, suffix=".csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source", "expression", "strength", "output", "faces"])
        for r in iter_lines(manifest.path):
            out = r["output"]
            if r["status"] != DONE or out not in manifest.done or out in listed:
                continue
            listed.add(out)
            rel = Path(out).relative_to(out_dir) if Path(out).is_relative_to(out_dir) else Path(out)
            w.writerow([r["input"], r["expression"], f"{r['strength']:g}", rel.as_posix(),
                        r["faces_changed"]])
    return path


def run(args: argparse.Namespace) -> int:
    from .._validation import check_strength
    from ..expressions import normalize_expression
    from ..imageio import max_pixels
    from ..photojobs import (
        PhotoJob,
        dataset_photos,
        plan_augment,
        report,
        resolve_refs,
        run_photo_job,
    )
    from ._scale import wants_batch
    from .synthesize import AUTO_JOBS_PHOTOS, like_units

    for s in args.strengths:
        check_strength(s)
    wants_batch(args)  # checks --jobs and --chunk; augment is always a batch run
    source = normalize_expression(args.from_)
    targets = targets_of(args.to, source, args.engine)
    if args.au is not None:
        from ..actions.basis import parse_units

        parse_units(args.au)  # a bad unit or intensity is named before any photo is read
    if args.like is not None:
        if not args.like.is_file():
            raise ValueError(f"--like {args.like}: no such photo")
        if args.to.strip().lower() == "all" or len(targets) != 1:
            raise ValueError("--like gives every face the actions of one photo: name the one "
                             "expression it shows with --to (e.g. --to surprised), its label")
    photos = dataset_photos(args.dataset)
    if not photos:
        raise ValueError(f"no images found under {args.dataset}")
    out_dir = args.output
    if out_dir.resolve().is_relative_to(args.dataset.resolve()):
        raise ValueError(f"-o {out_dir} is inside DATASET {args.dataset}; a rerun would take "
                         "the outputs for inputs: choose a folder outside it")
    refs = resolve_refs(source, targets, None, engine=args.engine, au=args.au,
                        like=like_units(args.like))
    job = PhotoJob(refs, detect=not args.no_detect, max_faces=args.max_faces,
                   min_face=args.min_face, quality=args.quality, max_pixels=max_pixels(),
                   engine=args.engine)
    items = plan_augment(photos, args.dataset, out_dir, targets, args.strengths)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = Path(args.manifest) if args.manifest else out_dir / "pixelfes-manifest.jsonl"
    jobs = args.jobs
    if jobs is None and not args.dask and len(photos) >= AUTO_JOBS_PHOTOS:
        from ..runners import usable_cores

        jobs = min(usable_cores(), len(items))  # one process per core
    summary, manifest = run_photo_job("augment", job, items, manifest_path, args.strengths,
                                      jobs=jobs, dask=args.dask, chunk=args.chunk,
                                      overwrite=args.overwrite, progress=not args.quiet)
    labels = write_labels(manifest, out_dir)
    report(summary, out_dir, manifest_path)
    print(f"labels: {labels}", file=sys.stderr)
    return 1 if summary.failed else 0
