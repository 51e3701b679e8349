"""The teeth's highlight and glint figures on saved mouths, each method against the real smiles (issue 11).

Reads a folder ``scripts/mouth_eval.py --save-mouths DIR`` wrote (``DIR/neutral-happy``:
``<id>_<method>.png`` and ``landmarks.json``), measures every open mouth with
:func:`pixelfes.evaluate.glints.teeth_glints` and prints, per method, each figure's mean on
the people open in both the output and the real smile, the real smiles' mean, and the
paired gap (output minus real) with its standard error (sd / sqrt(n)). ``--json`` writes
the per-person figures.

Example:
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/mouth_eval.py --directions neutral:happy \\
        --model-factory native --save-mouths /tmp/mouths
    PYTHONPATH=src python scripts/teeth_glints.py /tmp/mouths/neutral-happy --methods native

London photos are CC BY 4.0 (DeBruine & Jones 2017).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REAL = "real-target"


def main(argv: list[str] | None = None) -> int:
    """Measure the saved mouths, print the paired gaps, write JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="a direction's folder of mouth_eval.py --save-mouths")
    p.add_argument("--methods", required=True, help="comma-separated method names as saved (spaces as '-')")
    p.add_argument("--json", type=Path, default=None, help="write per-person figures here")
    args = p.parse_args(argv)

    from PIL import Image

    from pixelfes._atomic import atomic_path
    from pixelfes.evaluate.glints import GLINT_KEYS, teeth_glints

    landmarks = json.loads((args.folder / "landmarks.json").read_text(encoding="utf-8"))
    methods = args.methods.split(",")
    ids = sorted({k.rsplit("_", 1)[0] for k in landmarks if k.endswith("_" + REAL)})
    rows: dict[str, dict[str, dict]] = {}
    for ident in ids:
        rows[ident] = {}
        for m in [*methods, REAL]:
            name = f"{ident}_{m}"
            if name in landmarks:
                rgb = np.asarray(Image.open(args.folder / f"{name}.png").convert("RGB"))
                rows[ident][m] = teeth_glints(rgb, np.asarray(landmarks[name], dtype=np.float64))
    print("| method | n | " + " | ".join(f"{k} out / real, gap (se)" for k in GLINT_KEYS) + " |")
    print("|---|---|" + "---|" * len(GLINT_KEYS))
    for m in methods:
        both = [i for i in ids if rows[i].get(m, {}).get("open") and rows[i].get(REAL, {}).get("open")]
        cells = []
        for key in GLINT_KEYS:
            o = np.array([rows[i][m][key] for i in both], dtype=np.float64)
            t = np.array([rows[i][REAL][key] for i in both], dtype=np.float64)
            ok = np.isfinite(o) & np.isfinite(t)
            if ok.sum() < 2:
                cells.append("-")
                continue
            d = o[ok] - t[ok]
            cells.append(f"{o[ok].mean():.3f} / {t[ok].mean():.3f}, {d.mean():+.3f} ({d.std(ddof=1) / np.sqrt(ok.sum()):.3f})")
        print(f"| {m} | {len(both)} | " + " | ".join(cells) + " |")
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
