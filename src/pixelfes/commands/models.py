"""``pixelfes models``: the models pixelfes can use, bundled and the user's own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG = """examples:
  pixelfes models                       # a table of every usable model
  pixelfes models --json                # the same for scripts
  pixelfes models --add sad.safetensors # copy your own model into your model folder
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models (bundled and your own)",
                       description="List the models pixelfes can use: bundled ones and those in "
                       "your model folder.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--add", type=Path, metavar="FILE", help="add a model file to your model folder")
    p.add_argument("--name", help="name for --add: a plain name such as my-happy (default "
                   "SOURCE-to-TARGET-TYPE)")
    p.add_argument("--overwrite", action="store_true",
                   help="with --add: replace a model of the same name (or hide a bundled one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..zoo import bundled_names, install_model, list_models, user_model_dir

    if args.name and not args.add:
        raise ValueError("--name goes with --add FILE")
    if args.add:
        dest = install_model(args.add, args.name, overwrite=args.overwrite)
        print(f"added {dest}", file=sys.stderr)
    models = list_models()
    rows = [{"name": m.name, "from": m.source, "to": m.target, "type": m.model_type,
             "where": "bundled" if m.bundled else "yours", "default": m.default,
             "hides_bundled": not m.bundled and m.name in bundled_names(),
             "data": m.training.get("data"), "pairs": m.training.get("pairs"),
             "people": m.training.get("people"), "bytes": m.path.stat().st_size,
             "path": str(m.path)} for m in models]
    actions = _action_rows()
    if args.json:
        print(json.dumps(rows, indent=2))  # unchanged list of model files for scripts
        return 0
    print(f"{'name':34s} {'from -> to':20s} {'type':14s} {'where':8s} {'size':>8s}  trained on")
    for r, m in zip(rows, models, strict=True):
        star = "*" if r["default"] else " "
        data = f"{r['data'] or '?'} ({r['pairs'] or '?'} pairs, {r['people'] or '?'} people)"
        print(f"{r['name']:33s}{star} {str(r['from']) + ' -> ' + str(r['to']):20s} "
              f"{r['type']:14s} {r['where']:8s} {m.path.stat().st_size / 1e6:7.2f}M  {data}")
    hidden = [str(r["name"]) for r in rows if r["hides_bundled"]]
    if hidden:
        print(f"\nyours hide the bundled model(s) of the same name: {', '.join(hidden)}")
    print(f"\n* default for its direction. Your model folder: {user_model_dir()}")
    if actions is not None:
        print("\nNo training needed (action units from the ICT 3D face model, MIT): where no "
              "learned model exists,\n`--to EXPRESSION` uses these recipes (`--engine actions` "
              "picks them always):")
        for r in actions["recipes"]:
            units = " + ".join(f"{k} {v:g}" for k, v in r["units"].items())
            print(f"  neutral -> {r['expression']:10s} {units:44s} ({r['prototype']})")
        print("  any     -> neutral    removes the actions estimated on each face")
        print("Action units for --au (UNIT=INTENSITY; L/R = the person's own side):")
        for u in actions["units"]:
            print(f"  AU{u['number']:<3d} {u['name']:22s} sides: {u['sides']:11s} ICT: {u['recipe']}")
    return 0


def _action_rows() -> dict | None:
    """The action-unit recipes and units, or None if the asset is missing."""
    try:
        from ..actions import RECIPES, unit_table
    except ImportError:  # pragma: no cover - the asset ships with the package
        return None
    return {"recipes": [{"expression": r.expression, "units": r.units, "prototype": r.prototype}
                        for r in RECIPES.values()],
            "units": [{"number": u.number, "name": u.name, "sides": u.sides, "recipe": u.recipe}
                      for u in unit_table()]}
