"""A shipped recipe's photo step against other unit intensities, in alternation (CPU time).

Times ``ActionUnitModel(<expression>).synthesize_in_photo`` and the same with ``--units``
(e.g. the recipe before a change) on London photos at their own resolution, one core
(OpenCV single-threaded), each photo's median of ``--repeat`` runs in alternation in this
process so both see the same machine, and reports the ratio per photo and its median.
Used for fear's redrawn brows (docs/actions.md, "Fear"): the last recipe
``AU1:0.6,AU2:0.36,AU4:0.3,AU5:0.6,AU7:0.18,AU20:0.81,AU26:0.54``.

Run: PYTHONPATH=src python benchmarks/bench_recipe_versus.py fearful \\
         --units AU1:0.6,AU2:0.36,AU4:0.3,AU5:0.6,AU7:0.18,AU20:0.81,AU26:0.54
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from _common import DATA
from pixelfes.actions import ActionUnitModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expression", help="a shipped recipe, e.g. fearful")
    ap.add_argument("--units", required=True, help="the reference: AU1:0.6,AU2:0.36,...")
    ap.add_argument("--ids", default="001,003,004,096,134,091", help="London ids")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces

    cv2.setNumThreads(1)
    units = {k: float(v) for k, v in (kv.split(":") for kv in args.units.split(","))}
    models = {"reference": ActionUnitModel(au=units).fit(), args.expression: ActionUnitModel(args.expression).fit()}
    ratios = []
    for ident in args.ids.split(","):
        rgb = load_image(DATA / "london-face-set" / "neutral_front" / f"{ident}_03.jpg").rgb
        lm = find_faces(rgb)[0].landmarks
        times: dict[str, list[float]] = {k: [] for k in models}
        for m in models.values():  # warm-up
            buf = rgb.copy()
            m.synthesize_in_photo(buf, lm, out=buf)
        for _ in range(args.repeat):
            for name, m in models.items():
                buf = rgb.copy()
                t = time.process_time()
                m.synthesize_in_photo(buf, lm, out=buf)
                times[name].append(time.process_time() - t)
        med = {k: 1000 * float(np.median(v)) for k, v in times.items()}
        ratios.append(med[args.expression] / med["reference"])
        print(f"{ident}: reference {med['reference']:5.1f} ms, {args.expression} {med[args.expression]:5.1f} ms, "
              f"ratio {ratios[-1]:.3f}", flush=True)
    print(f"median ratio {np.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")


if __name__ == "__main__":
    main()
