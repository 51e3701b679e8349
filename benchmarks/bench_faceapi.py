"""Speed of the faceapi judge (numpy port of face-api's expression net) against fer.

Both judges score the same 192 px canvases (the committed London fixture crops, placed on
a 192 px canvas) in one process, end to end (``ExpressionClassifier.predict_proba``: crop,
resize, normalise, run) at batch sizes 1 and 32, best of ``--repeats``; also the net alone
on a prepared ``(32, 112, 112, 3)`` input. Prints JSON lines: ms per crop and the ratio
faceapi / fer (fer: a quantised TFLite model run by ai-edge-litert's XNNPACK).

    PYTHONPATH=src python benchmarks/bench_faceapi.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from pixelfes.evaluate import ExpressionClassifier
from pixelfes.evaluate.faceapi import expression_net
from pixelfes.evaluate.protocol import faceapi_box, framing_box

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "faceapi"


def canvases(n: int) -> np.ndarray:
    crops = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(FIXTURES.glob("london_*.png"))]
    out = [cv2.resize(crops[i % len(crops)], (192, 192), interpolation=cv2.INTER_CUBIC) for i in range(n)]
    return np.stack(out)


def best_ms(fn, n: int, repeats: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up (model load, allocations)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    fer = ExpressionClassifier("fer", face_box=framing_box(192, 1.5))
    fa = ExpressionClassifier("faceapi", face_box=faceapi_box(192, 1.5))
    for batch in (1, 32):
        x = canvases(batch)
        t_fer = best_ms(lambda: fer.predict_proba(x), batch, args.repeats)  # noqa: B023
        t_fa = best_ms(lambda: fa.predict_proba(x), batch, args.repeats)  # noqa: B023
        print(json.dumps({"batch": batch, "fer_ms_per_crop": round(t_fer, 2),
                          "faceapi_ms_per_crop": round(t_fa, 2), "faceapi_over_fer": round(t_fa / t_fer, 1)}))
    inp = fa.model_inputs(canvases(32))
    net = expression_net()
    t_net = best_ms(lambda: net.predict_proba(inp), len(inp), args.repeats)
    t_pre = best_ms(lambda: fa.model_inputs(canvases(32)), 32, args.repeats)
    print(json.dumps({"faceapi_net_only_ms_per_crop": round(t_net, 2),
                      "faceapi_crop_and_preprocess_ms_per_crop_incl_canvas_making": round(t_pre, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
