"""``pixelfes evaluate``: identity-disjoint k-fold evaluation of models, written as a report."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from ._args import (
    add_alignment_arguments,
    alignment_from_args,
    check_alignment_args,
    floats,
    nonempty_floats,
)

EPILOG = """examples:
  pixelfes evaluate --data ../shared/data/london-face-set --from neutral --to happy \\
      --models pixel-rr,pixel-kr,mr,rr --folds 5 --report out/london-happy
  pixelfes evaluate --data ../shared/data/jaffe --to sad --folds 10 --report /tmp/jaffe-sad
  pixelfes evaluate --data aligned/london --to happy --models pixel-kr:sigma=10,shape-texture \\
      --strengths 1,1.25,1.5 --report out/st
  pixelfes evaluate --data ../shared/data/jaffe --to surprised --judges faceapi,fer --report /tmp/su

Every model is trained on the people of k-1 folds and synthesises the held-out fold's
people (a person is never on both sides; leave-one-person-out when there are fewer people
than folds). The outputs are judged against each person's real target photo: expression
(--judges: fer, face-api's expression net "faceapi", and facex when installed; the first
is the primary judge of the strength curves), identity (dlib distance,
rank-1), PSNR / SSIM / sharpness on the paper's framing (the central size/margin square
of the canvas), next to "output = input", "output = mean target face" and the real target
photos. Aligned crops are cached (--cache) so a rerun does not detect faces again.
Writes REPORT/report.md, REPORT/results.json (every number) and PNG figures; prints the
paths as JSON on stdout."""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``evaluate`` on an argparse subparsers object."""
    p = sub.add_parser("evaluate", help="k-fold evaluation of models over people, with a report",
                       description="Train and test models by identity-disjoint k-fold and write "
                       "a report (tables, figures, JSON).", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True,
                   help="data set folder (London, JAFFE, KDEF, ...) or a `pixelfes prepare` folder")
    p.add_argument("--from", dest="from_", default="neutral", metavar="EXPRESSION",
                   help="source expression (default neutral)")
    p.add_argument("--to", required=True, help="target expression, e.g. happy")
    p.add_argument("--models", default="pixel-rr,pixel-kr,mr,rr",
                   help="comma-separated model types, optionally with parameters as "
                        "TYPE:KEY=VALUE;KEY=VALUE, e.g. pixel-kr:sigma=10;lam=0.4 (default pixel-rr,pixel-kr,mr,rr)")
    p.add_argument("--folds", type=int, default=5, help="number of folds over people (default 5)")
    p.add_argument("--report", type=Path, required=True, metavar="OUTDIR", help="report folder (created)")
    add_alignment_arguments(p)
    p.add_argument("--strengths", type=nonempty_floats, default=[1.0],
                   help="strengths scored by every scorer (default 1)")
    p.add_argument("--curve-strengths", type=floats, default=[0, 0.25, 0.5, 0.75, 1, 1.25, 1.5],
                   help="extra strengths judged by the expression classifier only, for the "
                        "strength curve (default 0,0.25,...,1.5; empty string for none)")
    p.add_argument("--gray", action="store_true", help="convert colour crops to luminance first")
    p.add_argument("--combine", choices=["all", "first", "zip"], default="all",
                   help="pairing when a person has several photos of an expression (default all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fold assignment (default 0)")
    p.add_argument("--cache", type=Path, default=None,
                   help="folder for aligned crops (default $PIXELFES_CACHE or ~/.cache/pixelfes/aligned)")
    p.add_argument("--judges", default="fer,faceapi,facex",
                   help="expression classifiers, first = primary (default fer,faceapi,facex; "
                        "facex only when installed)")
    p.add_argument("--no-facex", action="store_true", help="leave facex out of --judges")
    p.add_argument("--no-identity", action="store_true", help="skip the dlib identity scores (faster)")
    p.add_argument("--grid-people", type=int, default=6, help="rows of the comparison grid (default 6)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
    return p


def _parse_models(text: str) -> list[Any]:
    from ..evaluate.protocol import ModelSpec

    # parameters of one model are separated by ';' on the command line (',' separates models)
    specs = [ModelSpec.parse(item.replace(";", ",")) for item in text.split(",") if item.strip()]
    if not specs:
        raise ValueError("--models lists no model")
    for spec in specs:
        check_model_params(spec.name, spec.params, "--models")
    return specs


def check_model_params(name: str, params: dict[str, Any], where: str) -> None:
    """Known model type, known parameter names, numbers where the model wants numbers."""
    import inspect

    from ..models import model_class

    cls = model_class(name)
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    for key, value in params.items():
        if key not in cls._param_names:
            raise ValueError(f"{where}: {name} has no parameter {key!r}; its parameters are "
                             f"{', '.join(cls._param_names) or 'none'}")
        default = defaults.get(key)
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if numeric and not isinstance(value, int | float):
            raise ValueError(f"{where}: {name}:{key}={value!r} must be a number")
        if numeric and not math.isfinite(value):
            raise ValueError(f"{where}: {name}:{key}={value!r} must be finite")
        if isinstance(default, str) and not isinstance(value, str):
            raise ValueError(f"{where}: {name}:{key}={value!r} must be a name, not a number")


def run(args: argparse.Namespace) -> int:
    """Run ``pixelfes evaluate``; returns the exit status."""
    from .._validation import check_strength
    from ..evaluate.expression import BACKENDS
    from ..evaluate.protocol import Scorers, aligned_pairs, evaluate_direction
    from ..evaluate.report import direction_figures, direction_section, write_report
    from ..imageio import to_luminance
    from ..models import model_class

    judges = [j.strip() for j in args.judges.split(",") if j.strip()]
    bad = [j for j in judges if j not in BACKENDS]
    if bad or not judges:
        raise ValueError(f"--judges must list some of {', '.join(BACKENDS)}; got {args.judges!r}")
    check_alignment_args(args)
    for a in [*args.strengths, *args.curve_strengths]:
        check_strength(a, "--strengths")
    if args.folds < 2:
        raise ValueError(f"--folds must be 2 or more; got {args.folds}")
    if args.report.exists() and not args.report.is_dir():
        raise ValueError(f"--report {args.report} is a file; give a folder for the report")
    specs = _parse_models(args.models)
    for s in specs:
        model_class(s.name)  # unknown names fail before any work
    progress = not args.no_progress
    t0 = time.perf_counter()
    pairs = aligned_pairs(args.data, args.from_, args.to, alignment_from_args(args),
                          cache_dir=args.cache, combine=args.combine, progress=progress)
    X, T = pairs.X, pairs.T
    if args.gray and X.shape[-1] == 3:
        X, T = to_luminance(X)[..., None], to_luminance(T)[..., None]
    print(f"{len(X)} pairs of {len(set(pairs.identities))} people, crops {X.shape[1:]}",
          file=sys.stderr)
    scorers = Scorers.default(pairs.alignment, facex="facex" in judges and not args.no_facex,
                              identity=not args.no_identity, faceapi="faceapi" in judges,
                              fer="fer" in judges)
    scorers.expression = {j: scorers.expression[j] for j in judges if j in scorers.expression}
    result = evaluate_direction(
        X, T, pairs.identities, specs, n_folds=args.folds, seed=args.seed,
        source=args.from_, target=args.to, strengths=args.strengths,
        expression_strengths=args.curve_strengths, landmarks_source=pairs.landmarks_source,
        landmarks_target=pairs.landmarks_target, scorers=scorers, alignment=pairs.alignment,
        progress=progress)
    figures = direction_figures(result, args.report, "comparison", n_rows=args.grid_people)
    direction = result.to_dict(per_sample=True)
    seconds = time.perf_counter() - t0
    notes = (f"Data: `{args.data}`; models: {', '.join(s.label for s in specs)}; "
             f"run time {seconds:.0f} s. Expression columns: share of held-out outputs the "
             "classifier calls the target, and its mean probability of the target. Identity: "
             "dlib embedding distance to the same person's real target (< 0.6 = same person) "
             "and rank-1 identification among all held-out people's real targets.")
    md, js = write_report(args.report, f"pixelfes evaluation: {result.source} -> {result.target}",
                          [notes, direction_section(direction, figures)],
                          {"command": "evaluate", "data": str(args.data), "seconds": seconds,
                           "direction": direction})
    print(json.dumps({"report": str(md), "results": str(js),
                      "figures": {k: str(v) for k, v in figures.items()}}))
    return 0
