"""``pixelfes cv``: choose lambda (and sigma) by identity-disjoint k-fold cross-validation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ._args import (
    add_alignment_arguments,
    alignment_from_args,
    check_alignment_args,
    nonempty_floats,
)

EPILOG = """examples:
  pixelfes cv --data ../shared/data/london-face-set --to happy --model pixel-kr --plot cv.png
  pixelfes cv --data ../shared/data/jaffe --to sad --model pixel-rr --lams 0.01,0.1,0.4,1,10
  pixelfes cv --data aligned/london --to happy --model pixel-kr --sigmas 1,3,10 --folds 10

The held-out error is the mean squared error of each held-out person's output against
their real target photo, on the paper's framing (the central size/margin square of the
canvas; --region full for the whole canvas); folds are by person (leave-one-person-out
when there are fewer people than folds). Prints the table (stderr) and the best setting
as JSON (stdout), and says whether the paper's choice (lambda 0.4; sigma 3 for happy,
10 for the other expressions) is what the data picks."""

DEFAULT_LAMS = [0.001, 0.01, 0.04, 0.1, 0.4, 1.0, 4.0, 10.0]
DEFAULT_SIGMAS = [0.1, 0.3, 1.0, 3.0, 5.0, 10.0]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``cv`` on an argparse subparsers object."""
    p = sub.add_parser("cv", help="choose lambda/sigma by k-fold cross-validation over people",
                       description="Choose a model's lambda (and sigma) by identity-disjoint "
                       "k-fold cross-validation.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="data set folder or a prepared folder")
    p.add_argument("--from", dest="from_", default="neutral", metavar="EXPRESSION",
                   help="source expression (default neutral)")
    p.add_argument("--to", required=True, help="target expression, e.g. happy")
    p.add_argument("--model", default="pixel-kr", help="model type (default pixel-kr)")
    p.add_argument("--lams", type=nonempty_floats, default=None,
                   help=f"lambda grid (default {','.join(f'{v:g}' for v in DEFAULT_LAMS)})")
    p.add_argument("--sigmas", type=nonempty_floats, default=None,
                   help=f"sigma grid, pixel-kr (default {','.join(f'{v:g}' for v in DEFAULT_SIGMAS)})")
    p.add_argument("--folds", type=int, default=5, help="folds over people (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fold assignment (default 0)")
    add_alignment_arguments(p)
    p.add_argument("--region", choices=["framing", "full"], default="framing",
                   help="pixels the error is measured on (default framing: the paper's 128 px view)")
    p.add_argument("--cache", type=Path, default=None, help="folder for aligned crops")
    p.add_argument("--plot", type=Path, default=None, help="write the CV curve to this PNG")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)
    return p


def paper_choice(model: str, target: str) -> dict[str, float]:
    """The paper's parameters: lambda 0.4; Pixel-KR sigma 3 for happy, 10 otherwise."""
    out = {"lam": 0.4}
    if model == "pixel-kr":
        out["sigma"] = 3.0 if target == "happy" else 10.0
    return out


def _verdict(result: Any, paper: dict[str, float]) -> tuple[str, dict[str, Any]]:
    rows = result.rows()
    best = result.best_params
    names = list(best)
    paper_row = next((r for r in rows if all(abs(r[k] - paper[k]) < 1e-12 for k in names if k in paper)),
                     None)
    best_row = min(rows, key=lambda r: r["mse"])
    info: dict[str, Any] = {"paper": paper, "best": best, "best_psnr": best_row["psnr"]}
    if paper_row is None:
        return (f"the paper's setting {paper} is not in the grid; best is {best}", info)
    info["paper_psnr"] = paper_row["psnr"]
    same = all(abs(best[k] - paper[k]) < 1e-12 for k in names if k in paper)
    # one standard error of the best setting's fold errors
    i = rows.index(best_row)
    se = float(result.fold_mse[i].std(ddof=1) / np.sqrt(result.fold_mse.shape[1])) \
        if result.fold_mse.shape[1] > 1 else 0.0
    within = paper_row["mse"] - best_row["mse"] <= se
    info.update(paper_is_best=same, paper_within_one_se=bool(within))
    if same:
        text = f"yes: our data picks the paper's setting {paper}"
    elif within:
        text = (f"no, but close: best {best} ({best_row['psnr']:.2f} dB); the paper's {paper} "
                f"gives {paper_row['psnr']:.2f} dB, within one standard error of the best")
    else:
        text = (f"no: best {best} ({best_row['psnr']:.2f} dB); the paper's {paper} gives "
                f"{paper_row['psnr']:.2f} dB, worse by more than one standard error")
    edges = [k for k in names if best[k] in (min(r[k] for r in rows), max(r[k] for r in rows))
             and len({r[k] for r in rows}) > 1]
    if edges:
        text += f" (the best {', '.join(edges)} is at the edge of the grid: widen it)"
        info["best_at_grid_edge"] = edges
    return text, info


def plot_cv(result: Any, path: Path, title: str) -> Path:
    """PSNR of held-out people vs lambda (one line per sigma), or vs sigma when lambda is fixed."""
    from ..evaluate.figures import curve_panels

    rows = result.rows()
    lams = sorted({r["lam"] for r in rows})
    sigmas = sorted({r["sigma"] for r in rows}) if "sigma" in rows[0] else [None]
    def pick(lam: float | None, sig: float | None) -> dict[str, float]:
        return next(r for r in rows if (lam is None or r["lam"] == lam)
                    and (sig is None or r.get("sigma") == sig))
    def psnr_std(r: dict[str, float]) -> float:
        return 10 / np.log(10) * r["mse_std"] / r["mse"]
    panels = []
    if len(lams) > 1:
        series = {(f"sigma {s:g}" if s is not None else result.model_type):
                  ([pick(lam, s)["psnr"] for lam in lams], [psnr_std(pick(lam, s)) for lam in lams])
                  for s in sigmas}
        panels.append({"x": lams, "series": series, "xlabel": "lambda", "xscale": "log",
                       "ylabel": "held-out PSNR dB", "title": "vs lambda"})
    if sigmas[0] is not None and len(sigmas) > 1:
        series = {f"lambda {lam:g}": ([pick(lam, s)["psnr"] for s in sigmas],
                                      [psnr_std(pick(lam, s)) for s in sigmas]) for lam in lams}
        panels.append({"x": sigmas, "series": series, "xlabel": "sigma", "xscale": "log",
                       "ylabel": "held-out PSNR dB", "title": "vs sigma"})
    if not panels:
        raise ValueError("nothing to plot: the grid has a single setting")
    return curve_panels(panels, path, title=title)


def run(args: argparse.Namespace) -> int:
    """Run ``pixelfes cv``; returns the exit status."""
    from ..evaluate.protocol import aligned_pairs, framing_slice
    from ..expressions import normalize_expression
    from ..models import model_class
    from ..selection import cross_validate

    check_alignment_args(args)
    if args.plot is not None:
        from ..imageio import image_format

        image_format(args.plot)  # a bad extension fails now, not after the cross-validation
    if args.folds < 2:
        raise ValueError(f"--folds must be 2 or more; got {args.folds}")
    cls = model_class(args.model)
    target = normalize_expression(args.to)
    grid: dict[str, list[float]] = {}
    if "lam" in cls._param_names:
        grid["lam"] = args.lams or DEFAULT_LAMS
    if "sigma" in cls._param_names:
        grid["sigma"] = args.sigmas or DEFAULT_SIGMAS
    elif args.sigmas:
        raise ValueError(f"{args.model} has no sigma; --sigmas applies to pixel-kr")
    if not grid:
        raise ValueError(f"{args.model} has no lambda or sigma to choose")
    for name, values in grid.items():
        bad = [v for v in values if not (np.isfinite(v) and v > 0)]
        if bad:
            raise ValueError(f"--{name}s must be positive numbers; got {', '.join(map(str, bad))}")
    progress = not args.no_progress
    pairs = aligned_pairs(args.data, args.from_, target, alignment_from_args(args),
                          cache_dir=args.cache, progress=progress)
    X, T = pairs.X, pairs.T
    if args.region == "framing":
        r = framing_slice(X.shape[1], pairs.alignment.margin)
        X, T = X[:, r, r], T[:, r, r]
    result = cross_validate(args.model, X, T, pairs.identities, grid, n_folds=args.folds,
                            seed=args.seed, progress=progress)
    names = list(grid)
    print(f"{args.model} {normalize_expression(args.from_)} -> {target}: {len(X)} pairs of "
          f"{result.people} people, {result.n_folds} folds, region {args.region} {X.shape[1:3]}",
          file=sys.stderr)
    print("  ".join(f"{n:>8}" for n in names) + "       mse   mse_std   psnr_dB", file=sys.stderr)
    for row in result.rows():
        mark = "  <- best" if all(row[k] == result.best_params[k] for k in names) else ""
        print("  ".join(f"{row[n]:>8g}" for n in names)
              + f"  {row['mse']:.6f}  {row['mse_std']:.6f}  {row['psnr']:8.3f}{mark}", file=sys.stderr)
    text, info = _verdict(result, paper_choice(args.model, target))
    print(f"best: {result.best_params}", file=sys.stderr)
    print(f"paper's choice picked? {text}", file=sys.stderr)
    out: dict[str, Any] = {"model": args.model, "from": normalize_expression(args.from_), "to": target,
                           "folds": result.n_folds, "people": result.people, "region": args.region,
                           "best_params": result.best_params, "verdict": text, **info,
                           "rows": result.rows()}
    if args.plot is not None:
        out["plot"] = str(plot_cv(result, args.plot, f"{args.model} {out['from']} -> {target}: "
                                  f"identity-disjoint {result.n_folds}-fold CV"))
    print(json.dumps(out))
    return 0
