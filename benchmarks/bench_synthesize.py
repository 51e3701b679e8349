"""The main job's speed: one photo end to end with the default model, split by stage.

Run:  python benchmarks/bench_synthesize.py [--repeat 15]

Photos: NASA's astronaut (scikit-image, public domain) placed in a 640x480 frame, and a
1350x1350 London Face Set photo when ../shared/data is present. Stages: decode, detect
(HOG on a copy reduced to 640 px), 68 landmarks, align, model, paste back, encode
(JPEG). Also the cold start: a new Python process importing pixelfes and running one
synthesize (model load, dlib model load) — measured as the whole process time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def photo_640x480() -> Image.Image:
    from skimage.data import astronaut

    frame = np.full((480, 640, 3), 200, np.uint8)
    frame[:, 64:576] = np.asarray(Image.fromarray(astronaut()).resize((512, 512)))[16:496]
    return Image.fromarray(frame)


def stages(path: Path, model, repeat: int) -> dict[str, float]:
    from pixelfes.face import align_face, default_backend, paste_change
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import alignment_of, apply_to_crop

    alignment = alignment_of(model)
    backend = default_backend(landmarks=68)
    times: dict[str, list[float]] = {k: [] for k in
                                     ("decode", "detect", "landmarks", "align", "model", "paste",
                                      "encode", "total")}
    for _ in range(repeat):
        t0 = time.perf_counter()
        loaded = load_image(path)
        t1 = time.perf_counter()
        boxes = backend.boxes(loaded.rgb)
        t2 = time.perf_counter()
        lms = [backend.landmarks(loaded.rgb, b) for b, _ in boxes]
        t3 = time.perf_counter()
        aligned = [align_face(loaded.rgb, lm, alignment) for lm in lms]
        t4 = time.perf_counter()
        afters = [apply_to_crop(model, a.crop, a.landmarks, 1.0) for a in aligned]
        t5 = time.perf_counter()
        out = loaded.rgb
        for a, after in zip(aligned, afters, strict=True):
            out = paste_change(out, a, after)
        t6 = time.perf_counter()
        buf = io.BytesIO()
        loaded.to_output(out).save(buf, format="JPEG", quality=95)
        t7 = time.perf_counter()
        for key, a, b in (("decode", t0, t1), ("detect", t1, t2), ("landmarks", t2, t3),
                          ("align", t3, t4), ("model", t4, t5), ("paste", t5, t6),
                          ("encode", t6, t7), ("total", t0, t7)):
            times[key].append((b - a) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def cold_start(path: Path) -> float:
    code = ("import time; t=time.perf_counter(); import pixelfes; "
            f"pixelfes.synthesize({str(path)!r}, to='happy'); print(time.perf_counter()-t)")
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True).strip())
            for _ in range(3)]
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    from pixelfes.pipeline import resolve_model

    model = resolve_model(None, "neutral", "happy")
    print(f"default model: {model.model_type} {model.image_shape_}\n")
    photos = {}
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "astronaut_640x480.jpg"
        photo_640x480().save(p, quality=95)
        photos["640x480 (astronaut)"] = p
        london = REPO.parent / "shared" / "data" / "london-face-set" / "neutral_front" / "001_03.jpg"
        if london.is_file():
            photos["1350x1350 (London 001)"] = london
        print(f"{'photo':24s} " + " ".join(f"{k:>9s}" for k in
              ("decode", "detect", "landmarks", "align", "model", "paste", "encode", "total")))
        for name, path in photos.items():
            med = stages(path, model, args.repeat)
            print(f"{name:24s} " + " ".join(f"{v:9.1f}" for v in med.values()) + "   ms (median)")
        print(f"\ncold start (new process: import + first synthesize of the 640x480 photo): "
              f"{cold_start(photos['640x480 (astronaut)']):.2f} s")


if __name__ == "__main__":
    main()
