"""Paired figures of a candidate against a baseline from a scripts/mouth_eval.py JSON (issue 11).

Per person, candidate minus baseline: the mouth's contrast and tint errors (rows), the judges'
fer and face-api P(target) and the identity distance (``--judges``' per-person scores), each as
mean and paired se (sd / sqrt(n), ddof 1); and the lip junction's level and onset gaps to the
real smile (pixelfes.evaluate.junction) of both, with the share of the baseline's level gap the
candidate closes, over every person and over those whose junction numbers the candidate changes
(``... changed``: the people it touches). Prints one JSON object.

Example:
    PYTHONPATH=src python scripts/junction_compare.py /tmp/junction-eval.json \\
        --baseline native --candidate native-junction --direction neutral:happy

(the ``native-junction`` factory was removed from main after 152500d; ``git checkout 152500d``
reproduces it; any two labels of a report compare.)
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np


def paired(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """``{n, baseline, candidate, diff, se}`` of ``b[i] - a[i]`` over the ids both hold finite."""
    ids = sorted(i for i in a if i in b and math.isfinite(a[i]) and math.isfinite(b[i]))
    if not ids:
        return {"n": 0}
    x, y = np.array([a[i] for i in ids]), np.array([b[i] for i in ids])
    d = y - x
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {"n": len(d), "baseline": float(x.mean()), "candidate": float(y.mean()),
            "diff": float(d.mean()), "se": se}


def compare(report: dict[str, Any], baseline: str, candidate: str, direction: str) -> dict[str, Any]:
    """The paired figures above of one direction of a mouth_eval report."""
    from pixelfes.evaluate.junction import junction_gaps

    part = report["directions"][direction]
    out: dict[str, Any] = {}
    for key in ("contrast_error", "tint_error"):
        per = {m: {r["identity"]: float(r[key]) for r in part["rows"]
                   if r["method"] == m and "failed" not in r} for m in (baseline, candidate)}
        out[key] = paired(per[baseline], per[candidate])
    people = part.get("judges_people", {})
    for key in ("fer.p_target", "faceapi.p_target", "identity.distance"):
        per = {m: {i: float(v[key]) for i, v in people.get(m, {}).items() if key in v}
               for m in (baseline, candidate)}
        if per[baseline]:
            out[key] = paired(per[baseline], per[candidate])
    numbers = part["junction"]["numbers"]
    groups = {r["identity"]: r["group"] for r in part["rows"]}
    both = set(numbers.get(baseline, {})) & set(numbers.get(candidate, {}))
    changed = {i for i in both if numbers[baseline][i] != numbers[candidate][i]}
    for tag, ids in (("", both), (" changed", changed)):
        for m in (baseline, candidate):
            out[f"junction {m}{tag}"] = junction_gaps(numbers, m, groups=groups, only=ids)
        gb = out[f"junction {baseline}{tag}"].get("level", {}).get("gap", float("nan"))
        gc = out[f"junction {candidate}{tag}"].get("level", {}).get("gap", float("nan"))
        out[f"level gap closed{tag}"] = 1.0 - abs(gc) / abs(gb) if gb else float("nan")
    out["people changed"] = sorted(changed)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", type=Path, help="scripts/mouth_eval.py --json output")
    p.add_argument("--baseline", default="native")
    p.add_argument("--candidate", default="native-junction")
    p.add_argument("--direction", default="neutral:happy")
    args = p.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    print(json.dumps(compare(report, args.baseline, args.candidate, args.direction), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
