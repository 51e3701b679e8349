"""The shipped recipes on all 82 London people: both judges, identity, sharpness (no choice).

The quick before/after check of a change to the action-unit engine's crops (``predict``,
192 px): each recipe at its shipped intensities, every person (not held out, unlike
``choose_intensities.py``'s tables), and the 14 blind-test people on their own. Run it with
each checkout's ``src`` first on ``PYTHONPATH`` and compare the two JSON files.

Run: PIXELFES_DATA=../shared/data PYTHONPATH=src:scripts python scripts/actions_shipped.py \\
         --out /tmp/au/shipped.json    # ~4 min on 2 busy cores
     ... --expressions "" --units AU20=AU20:0.81 --units AU5=AU5:0.6   # units alone (printed:
         the people outside the blind test; in the JSON also all and the blind people)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from blind_expressions import BLIND_PEOPLE
from choose_intensities import candidate_scores, judged_inputs, summarise

from pixelfes.actions import RECIPES
from pixelfes.actions.model import NOSE_WRINKLE_SHARE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="JSON file to write")
    ap.add_argument("--expressions", default=",".join(RECIPES))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/au/cache"))
    ap.add_argument("--units", action="append", default=[], metavar="NAME=AU1:0.6,...",
                    help="also score these unit intensities (e.g. one unit alone, a recipe before a change)")
    ap.add_argument("--units-as", default="fearful", help="the expression --units are judged as")
    args = ap.parse_args()
    x, lm, ids, judges, emb, e_in, g_in, p_in = judged_inputs(args.cache)
    blind = np.isin(ids, BLIND_PEOPLE)
    report = {}
    for expr in filter(None, args.expressions.split(",")):
        s = candidate_scores(dict(RECIPES[expr].units), NOSE_WRINKLE_SHARE, x, lm, judges, emb, e_in, g_in)
        report[expr] = {"all": summarise(s, p_in, expr), "blind": summarise(s, p_in, expr, blind)}
        print(expr, json.dumps(report[expr]["all"]), flush=True)
    for spec in args.units:
        name, units = spec.split("=", 1)
        s = candidate_scores({k: float(v) for k, v in (kv.split(":") for kv in units.split(","))},
                             NOSE_WRINKLE_SHARE, x, lm, judges, emb, e_in, g_in)
        expr = args.units_as
        report[name] = {"all": summarise(s, p_in, expr), "blind": summarise(s, p_in, expr, blind),
                        "training": summarise(s, p_in, expr, ~blind), "units": units, "judged_as": expr}
        print(name, json.dumps(report[name]["training"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
