"""Action-unit timings per face: the synthesis step on a 192 px aligned crop, and the analysis.

Run: PYTHONPATH=src python benchmarks/bench_actions.py [--repeat 30]
Reported next to a reference in the same process: one cubic ``cv2.remap`` of the crop (the
floor of any warp) and the bundled shape + texture model's step on the same crop.
Targets (issue 16): the action-unit step at most 10 ms a face, analysis at most 5 ms after
the landmarks are found. Uses a London crop when ../shared/data is present, else the ICT
mean face on a flat synthetic crop.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from _common import DATA, median_ms
from pixelfes.actions import ActionUnitModel, estimate_units, load_basis, pose_from_angles


def crop_and_landmarks() -> tuple[np.ndarray, np.ndarray]:
    photos = sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))
    if photos:
        from pixelfes.datasets.prepare import align_image_file

        a = align_image_file(photos[0])
        crop = a.crop if a.crop.shape[2] == 3 else np.repeat(a.crop, 3, axis=2)
        return crop, a.landmarks
    lm = pose_from_angles(0, 0, 0, 4.3, (95.5, 100.0)).project(load_basis().mean_shape)
    return np.full((192, 192, 3), 170, np.uint8), lm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    crop, lm = crop_and_landmarks()
    maps = (np.random.default_rng(0).uniform(0, 191, (192, 192)).astype(np.float32),) * 2
    ref = median_ms(lambda: cv2.remap(crop, maps[0], maps[1], cv2.INTER_CUBIC), args.repeat)
    print(f"reference: one cubic remap of the 192 px crop   {ref:7.2f} ms")
    try:
        from pixelfes.pipeline import resolve_model

        st = resolve_model(None, "neutral", "happy", engine="learned")
        t = median_ms(lambda: st.predict(crop[None], landmarks=lm[None]), args.repeat)
        print(f"bundled shape + texture (neutral -> happy)      {t:7.2f} ms  ({t / ref:5.1f} x remap)")
    except Exception as exc:  # noqa: BLE001 - the reference is optional
        print(f"(no bundled shape + texture model: {exc})")
    for expr in ("happy", "sad", "angry", "surprised", "disgusted", "fearful", "neutral"):
        m = ActionUnitModel(expr).fit()
        t = median_ms(lambda m=m: m.predict(crop[None], landmarks=lm[None]), args.repeat)
        print(f"action units, {expr:10s}                        {t:7.2f} ms  ({t / ref:5.1f} x remap)")
    photos = sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))
    if photos:
        from pixelfes.imageio import load_image
        from pixelfes.pipeline import find_faces, resolve_model

        rgb = load_image(photos[0]).rgb
        face = find_faces(rgb)[0]
        for expr in ("surprised", "angry"):
            m = resolve_model(None, "neutral", expr, engine="actions")  # 384 px plan, photo warp
            t = median_ms(lambda m=m: m.synthesize_in_photo(rgb, face.landmarks), args.repeat)
            print(f"in the 1350 px photo, {expr:10s}               {t:7.2f} ms  ({t / ref:5.1f} x remap)")
    t = median_ms(lambda: estimate_units(lm), args.repeat)
    print(f"analysis (pose + NNLS of 17 units)               {t:7.2f} ms  ({t / ref:5.1f} x remap)")


if __name__ == "__main__":
    main()
