"""How ``pixelfes analyze`` reads real expressions: JAFFE and London, per expression.

For each photo pair (same person, neutral and expression) the estimated unit intensities
of the expression minus those of the neutral photo, averaged over pairs; the neutral
photos' own mean intensities show the noise floor. JAFFE is research-only: numbers only,
printed and written under --out.

Run: PYTHONPATH=src python scripts/measure_analysis.py --out /tmp/au/analysis.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from pixelfes.actions import ANALYSIS_UNITS, estimate_units
from pixelfes.evaluate.data import aligned_pairs

DATA = Path(os.environ.get("PIXELFES_DATA", "/work/shared/data"))
SETS = [("london-face-set", "happy"), ("jaffe", "happy"), ("jaffe", "sad"), ("jaffe", "surprised"),
        ("jaffe", "fearful"), ("jaffe", "angry"), ("jaffe", "disgusted")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/au/analysis.json"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/au/cache"))
    args = ap.parse_args()
    res = {}
    for data, expr in SETS:
        p = aligned_pairs(DATA / data, "neutral", expr, cache_dir=args.cache)
        n = np.array([[estimate_units(lm).units[u] for u in ANALYSIS_UNITS] for lm in p.landmarks_source])
        t = np.array([[estimate_units(lm).units[u] for u in ANALYSIS_UNITS] for lm in p.landmarks_target])
        d = (t - n).mean(0)
        row = {"pairs": len(n), "neutral_mean": dict(zip(ANALYSIS_UNITS, n.mean(0).round(3).tolist(), strict=True)),
               "change": dict(zip(ANALYSIS_UNITS, d.round(3).tolist(), strict=True))}
        res[f"{data}/{expr}"] = row
        top = sorted(row["change"].items(), key=lambda kv: -kv[1])[:5]
        print(f"{data:16s} {expr:10s} n={len(n):3d} neutral sum {n.mean(0).sum():.2f}; rises: "
              + ", ".join(f"{k} {v:+.2f}" for k, v in top))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
