"""``pixelfes synthesize``: the main job, photo in, every face with another expression, photo out."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._args import add_action_arguments
from ._scale import add_scale_arguments, wants_batch

if TYPE_CHECKING:
    from ..models.base import ExpressionModel

EPILOG = """examples:
  pixelfes synthesize photo.jpg --to happy -o photo_happy.jpg
  pixelfes synthesize photo.jpg --to happy --strength 0.5 -o subtle.jpg
  pixelfes synthesize smiling.png --from happy --to neutral -o calm.png
  pixelfes synthesize photos/*.jpg --to happy -o out/            # a folder for many photos
  pixelfes synthesize photo.jpg --to all --grid -o grid.png     # input | each expression
  pixelfes synthesize painting.png --no-detect --to happy -o out.png   # already a face crop
  pixelfes synthesize photo.jpg --to happy --model neutral-to-happy-pixel-rr -o paper.jpg
  pixelfes synthesize photos/*.jpg --to all --jobs 2 -o out/     # resumable, 2 processes
  pixelfes synthesize photos/*.jpg --to happy --dask tcp://host:8786 -o /shared/out/
  pixelfes synthesize photos/*.jpg --to surprised --au 26=0.5 --jobs 2 -o out/  # resumable
  pixelfes synthesize photos/*.jpg --like other.jpg --manifest run.jsonl -o out/
  pixelfes synthesize photo.jpg --to surprised -o wow.jpg       # no training: action units
  pixelfes synthesize photo.jpg --au 1=0.8,2=0.8,26=0.5 -o au.jpg   # facial actions (FACS)
  pixelfes synthesize photo.jpg --to happy --au 4R=0.6 -o smirk.jpg  # learned model + actions
  pixelfes synthesize me.jpg --like other.jpg -o me_like.jpg    # take the other face's actions
  pixelfes synthesize surprised.jpg --to neutral -o calm.jpg    # remove the estimated actions

Models: `pixelfes models` lists the bundled ones and your own. Each photo gets a line on
stderr: how many faces were found, changed and skipped, and why each skipped face was
skipped (smaller than --min-face, beyond --max-faces, or a landmark fit that is not a
plausible face: such faces are left as they are). A photo that fails (no face changed,
unreadable) is reported by name; the others still finish, and the exit code is 1 if any
failed.

Outputs: -o is a file for one photo and one expression, else a folder (made if needed;
end -o with / to ask for a folder for one photo). Photos sharing a name (a/x.jpg b/x.jpg)
get distinct output names (a_x_happy.jpg, b_x_happy.jpg). Nothing is written over an
input or an existing file unless you add --overwrite; every argument and output name is
checked before the first photo is processed. --strength is in [0, 3].

Speed: from 8 photos a run uses one process per core by itself (the same bytes as one
process; models load once per process). With --jobs, --dask or --manifest the run is
also resumable: a manifest in the output folder records every output as it is made;
rerunning the same command skips what is done and retries what failed (other settings,
--au, --like's actions and --engine included, are refused). --like's photo is analysed
once, before the run; the workers get its action units.


Engines: a learned model is used where one exists for the direction (the bundled London
neutral <-> happy, or one you trained); every other expression from neutral, and neutral
from any expression, uses facial action units from the ICT 3D face model (no training):
--engine actions picks them even where a learned model exists.
Action units (--au UNIT=INTENSITY,...; 1 = the 3D model's full action; L/R suffix = the
person's own left/right side only):
  """


class _HelpWithUnits(argparse.RawDescriptionHelpFormatter):
    """The epilog ends with the supported action units, read only when help is shown: every
    other run is spared importing the action-unit engine and its basis (~50 ms)."""

    def add_text(self, text: str | None) -> None:
        if text is EPILOG:
            try:
                from ..actions.basis import units_help

                text = EPILOG + units_help()
            except (ImportError, OSError):  # pragma: no cover - the asset ships with the package
                pass
        super().add_text(text)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synthesize", help="give every face in photos another expression",
                       description="Give every face in each photo another expression and write "
                       "the result (same size and format).", epilog=EPILOG,
                       formatter_class=_HelpWithUnits)
    p.add_argument("photos", type=Path, nargs="+", help="input photos (JPEG, PNG, TIFF, ...)")
    p.add_argument("--to", default=None,
                   help="target expression: happy, sad, angry, surprised, disgusted, fearful, "
                   "neutral, or 'all' (every expression there is a model or recipe for); "
                   "optional with --au or --like")
    p.add_argument("--from", dest="from_", default="neutral", metavar="EXPRESSION",
                   help="the expression the faces have now (default neutral)")
    p.add_argument("--strength", type=float, default=1.0,
                   help="in [0, 3]: 0 = unchanged, 1 = the model (default), 0.5 subtler, "
                   "1.5 stronger")
    p.add_argument("--model", default=None,
                   help="a model name from `pixelfes models` or a .safetensors file "
                   "(default: the best model for the direction)")
    add_action_arguments(
        p, au_help="facial action units to add, e.g. 1=0.8,2=0.8,26=0.5 or 12L=0.6 "
        "(alone or on top of --to); see the list below",
        like_help="give every face the facial actions of the first face in PHOTO")
    p.add_argument("--no-detect", action="store_true",
                   help="take each photo as an already cropped face (paintings, animals)")
    p.add_argument("--mouth", choices=("auto", "open", "closed", "likely"), default="auto",
                   help="shape + texture models: open the mouth with real teeth, keep it closed "
                        "(lips meet), auto (default: a smile gets the typical mouth of similar "
                        "people, teeth or closed lips; other targets follow the predicted opening), or "
                        "'likely': teeth only where the neutral photo makes an open smile likely "
                        "enough to be the lower expected error (mostly closed smiles)")
    p.add_argument("--max-faces", type=int, default=None, help="change at most this many faces")
    p.add_argument("--min-face", type=float, default=40.0,
                   help="find faces down to this many pixels wide (default 40); detection "
                   "time grows as 1 / min-face^2, so 80 is 4x cheaper")
    p.add_argument("--grid", action="store_true",
                   help="write one labelled PNG: input | each requested expression")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality of the output (default 95)")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output file, or a folder when there are several photos or --to all "
                   "(or when it ends with /)")
    p.add_argument("--overwrite", action="store_true",
                   help="allow replacing existing files, inputs included")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_scale_arguments(p)
    p.set_defaults(func=run)


def _targets(args: argparse.Namespace) -> list[str]:
    from ..expressions import normalize_expression

    source = normalize_expression(args.from_)
    if args.to is None:
        if args.au is None and args.like is None:
            raise ValueError("give a target expression (--to), action units (--au) or --like PHOTO")
        return ["actions"]
    if args.to.lower() != "all":
        return [normalize_expression(args.to)]
    from .augment import targets_of

    return targets_of("all", source, args.engine)


def check_arguments(args: argparse.Namespace) -> None:
    """Every option checked once, before any model is loaded or photo read."""
    from .._validation import check_strength

    check_strength(args.strength, "--strength")
    if not 1 <= args.quality <= 100:
        raise ValueError(f"--quality must be in 1..100 (JPEG/WebP quality); got {args.quality}")
    if args.max_faces is not None and args.max_faces < 1:
        raise ValueError(f"--max-faces must be 1 or more; got {args.max_faces}")
    if not (args.min_face >= 0 and args.min_face < float("inf")):
        raise ValueError(f"--min-face must be a size in pixels >= 0; got {args.min_face}")
    if args.au is not None:
        from ..actions.basis import parse_units

        parse_units(args.au)  # a bad unit or intensity is named before any photo is read
    if args.like is not None and not args.like.is_file():
        raise ValueError(f"--like {args.like}: no such photo")


def _no_face_hint(exc: Exception, min_face: float) -> str:
    from ..face import NoFaceError

    if isinstance(exc, NoFaceError):
        return (f" (smaller faces: lower --min-face, now {min_face:g}; a face crop, "
                "painting or animal: add --no-detect)")
    return ""


#: a plain run (``--jobs`` not given) of at least this many photos uses one process per core
AUTO_JOBS_PHOTOS = 8


@dataclass(frozen=True)
class PlainJob:
    """What every photo of a plain run needs (picklable: sent once to each worker process)."""

    model: str | None
    source: str
    targets: tuple[str, ...]
    engine: str
    au: str | None
    like: tuple[tuple[str, float], ...] | None
    strength: float
    detect: bool
    max_faces: int | None
    min_face: float
    mouth: str
    grid: bool
    quality: int
    max_pixels: int | None
    debug: bool


@dataclass
class PhotoOutcome:
    """One photo's result: its stderr lines (faces found/changed/skipped, or the error)."""

    photo: str
    lines: list[str]
    written: int = 0
    failed: bool = False


_WORKER_MODELS: dict[tuple[object, ...], dict[str, ExpressionModel]] = {}


def _models(job: PlainJob) -> dict[str, ExpressionModel]:
    """The job's models, resolved once per process."""
    from ..pipeline import resolve_model

    key = (job.model, job.source, job.targets, job.engine, job.au, job.like)
    got = _WORKER_MODELS.get(key)
    if got is None:
        like = None if job.like is None else dict(job.like)
        got = _WORKER_MODELS[key] = {
            t: resolve_model(job.model, job.source, None if t == "actions" else t,
                             engine=job.engine, au=job.au, like=like) for t in job.targets}
    return got


def synthesize_photos(job: PlainJob, chunk: list[tuple[str, dict[str, Path]]]) -> list[PhotoOutcome]:
    """Make every output of each photo of ``chunk`` (in this process or a pool worker)."""
    import io

    from .._errors import report, set_debug
    from ..imageio import load_image, save_image, set_max_pixels
    from ..pipeline import FaceReport, _warm_lab_for, synthesize_rgb, uses_native

    set_debug(job.debug)
    set_max_pixels(job.max_pixels)
    models = _models(job)
    for m in models.values():  # OpenCV's CIELAB tables built while the first photo is decoded
        _warm_lab_for(m, None)
    done = []
    for photo, plan in chunk:
        outcome = PhotoOutcome(photo, [])
        try:
            loaded = load_image(photo)
            reports = {t: FaceReport() for t in models}
            results = {t: synthesize_rgb(loaded.rgb, m, job.strength, detect=job.detect,
                                         max_faces=job.max_faces, min_size=job.min_face,
                                         path=photo, report=reports[t],
                                         mouth=job.mouth if uses_native(m) else "auto")
                       for t, m in models.items()}
            face_report = next(iter(reports.values()))  # the same faces for every target
            outcome.lines.append(f"{photo}: {face_report.summary()}")
            outcome.lines += [f"  skipped {f.describe()}" for f in face_report.skipped]
            if job.grid:
                from ..grid import labelled_grid  # only here: PIL's ImageDraw, 5 ms of a cold start

                grid = labelled_grid([loaded.rgb, *results.values()],
                                     [f"input ({job.source})", *results.keys()])
                save_image(grid, plan["grid"])
                outcome.written += 1
            else:
                for t, rgb in results.items():
                    save_image(loaded.to_output(rgb), plan[t], quality=job.quality)
                    outcome.written += 1
        except Exception as exc:  # noqa: BLE001 - report per photo, finish the others
            outcome.failed = True
            text = io.StringIO()
            report(exc, photo, _no_face_hint(exc, job.min_face), file=text)
            outcome.lines += text.getvalue().rstrip("\n").splitlines()
        done.append(outcome)
    return done


def like_units(photo: Path | None) -> dict[str, float] | None:
    """``--like PHOTO``: the action units of its first face, analysed once (in the driver:
    workers get the numbers, never the photo)."""
    if photo is None:
        return None
    from ..actions.photo import analyze_image

    return analyze_image(photo)[0].units


def _lost(chunk: list[tuple[str, dict[str, Path]]], message: str) -> list[PhotoOutcome]:
    return [PhotoOutcome(photo, [f"error: {photo}: {message}"], failed=True) for photo, _ in chunk]


def run(args: argparse.Namespace) -> int:
    from ..expressions import normalize_expression
    from ..outputs import unique_inputs
    from ..runners import InProcessRunner, make_runner, usable_cores

    check_arguments(args)
    photos = unique_inputs(args.photos)
    targets = _targets(args)
    source = normalize_expression(args.from_)
    if wants_batch(args):
        # a pool's workers come up while the run is planned; a Dask cluster only once
        # the plan holds (it takes seconds to start)
        runner = InProcessRunner() if args.dask else make_runner(args.jobs, start=True)
        try:
            return _run_batch(args, photos, source, targets, runner)
        finally:
            runner.close()
    jobs = min(usable_cores(), len(photos)) if len(photos) >= AUTO_JOBS_PHOTOS else 1
    runner = make_runner(jobs, start=True)  # workers come up while the run is planned
    try:
        return _run_plain(args, photos, source, targets, runner)
    finally:
        runner.close()


def _run_plain(args: argparse.Namespace, photos: list[Path], source: str, targets: list[str],
               runner: Any) -> int:
    """The default path: one photo per task, its lines printed as it finishes."""
    from .._progress import progress_bar, write_above
    from ..imageio import max_pixels
    from ..outputs import check_outputs, synthesis_outputs
    from ..pipeline import resolve_model

    like = like_units(args.like)
    plans = synthesis_outputs(photos, args.output, targets, args.grid)
    check_outputs([p for plan in plans for p in plan.values()], photos, args.overwrite)
    for t in targets:  # a missing model is named before any photo is read
        resolve_model(args.model, source, None if t == "actions" else t, engine=args.engine,
                      au=args.au, like=like)
    from .._errors import debug_enabled

    job = PlainJob(args.model, source, tuple(targets), args.engine, args.au,
                   None if like is None else tuple(sorted(like.items())), args.strength,
                   not args.no_detect, args.max_faces, args.min_face, args.mouth, args.grid,
                   args.quality, max_pixels(), debug_enabled())
    chunks = [[(str(photo), plan)] for photo, plan in zip(photos, plans, strict=True)]
    failed = written = 0
    # one photo needs no bar: its own lines say what happened
    with progress_bar(len(chunks), "synthesizing", "photo",
                      show=not args.quiet and len(chunks) > 1) as bar:
        for outcomes in runner.imap_unordered(synthesize_photos, job, chunks, _lost):
            for o in outcomes:
                failed += o.failed
                written += o.written
                with write_above(bar):
                    for line in o.lines:
                        print(line, file=sys.stderr)
            bar.update(len(outcomes))
    ok = len(photos) - failed
    print(f"wrote {written} file(s) for {ok} of {len(photos)} photo(s) to {args.output}",
          file=sys.stderr)
    return 1 if failed else 0


def _run_batch(args: argparse.Namespace, photos: list[Path], source: str,
               targets: list[str], runner: Any) -> int:
    """The resumable path (``--jobs``/``--dask``/``--manifest``): see :mod:`pixelfes.photojobs`."""
    from ..batch import Item, Output
    from ..imageio import max_pixels
    from ..outputs import (
        KEEP_SUFFIXES,
        OutputError,
        check_outputs,
        names_folder,
        synthesis_outputs,
    )
    from ..photojobs import PhotoJob, report, resolve_refs, run_photo_job

    if args.grid:
        raise ValueError("--grid is not available with --jobs/--dask/--manifest")
    out_dir = Path(args.output)
    if not names_folder(args.output) and out_dir.suffix.lower() in KEEP_SUFFIXES:
        raise OutputError(f"with --jobs/--dask/--manifest -o is a folder (the manifest goes "
                          f"there); got {args.output}, e.g. -o {out_dir.with_suffix('')}/")
    plans = synthesis_outputs(photos, f"{out_dir}{os.sep}", targets, False)
    manifest = Path(args.manifest) if args.manifest else out_dir / "pixelfes-manifest.jsonl"
    resumed = manifest.exists() and manifest.stat().st_size > 0
    # a resumed run owns the files its plan names; a new one checks them all first
    check_outputs([p for plan in plans for p in plan.values() if not (resumed and p.exists())],
                  photos, args.overwrite)
    refs = resolve_refs(source, targets, args.model, engine=args.engine, au=args.au,
                        like=like_units(args.like))
    job = PhotoJob(refs, detect=not args.no_detect, max_faces=args.max_faces,
                   min_face=args.min_face, quality=args.quality, max_pixels=max_pixels(),
                   mouth=args.mouth, engine=args.engine)
    items = [Item(str(photo), tuple(Output(str(plan[t]), t, args.strength) for t in targets))
             for photo, plan in zip(photos, plans, strict=True)]
    out_dir.mkdir(parents=True, exist_ok=True)
    summary, _ = run_photo_job("synthesize", job, items, manifest, [args.strength],
                               jobs=args.jobs, dask=args.dask, chunk=args.chunk,
                               overwrite=True, progress=not args.quiet,
                               runner=None if args.dask else runner)
    report(summary, out_dir, manifest)
    return 1 if summary.failed else 0
