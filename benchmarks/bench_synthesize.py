"""The main job's speed: one photo end to end with the default model, split by stage.

Run:  python benchmarks/bench_synthesize.py [--repeat 15] [--direction happy:neutral]

Photos: NASA's astronaut (scikit-image, public domain) placed in a 640x480 frame, and a
1350x1350 London Face Set photo when ../shared/data is present. Stages: decode, detect
(BlazeFace pyramid down to 40 px faces), 68 landmarks (numpy trees on an upright copy, a
second fit and the plausibility check), align, model, paste back, encode (JPEG), for the
canvas engine (the model's crop pasted back) and the native engine (the default: one warp
of the photo's own pixels, all under "paste"), with the ratio of their totals measured in
the same process, the two engines alternating run by run (a load that drifts falls on both). Also the cold start: a new Python process importing pixelfes and running one
synthesize (model load, dlib model load) — measured as the whole process time, from compiled
bytecode as an installed package runs (:func:`_common.installed_bytecode`).

``--direction happy:neutral`` times closing a smile instead (the bundled happy -> neutral model; the
London photo is then 004's smile, ``smiling_front/004_08.jpg`` (001's smile is left to the warp: no teeth to close over), and ``--native-stages`` takes smiles).

``--native-stages N``: instead, the native step alone on the first N London neutral photos
(landmarks found once), split by the functions it calls (CPU ms per face, inclusive: a
nested function's time is also in its caller's, e.g. the teeth's paints inside the target
shape), for finding where its time goes; with ``PYTHONPATH`` at another checkout's ``src``
it times that code (stages it does not have are left out).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from _common import cold_start_once, installed_bytecode

REPO = Path(__file__).resolve().parents[1]


def photo_640x480() -> Image.Image:
    from skimage.data import astronaut

    frame = np.full((480, 640, 3), 200, np.uint8)
    frame[:, 64:576] = np.asarray(Image.fromarray(astronaut()).resize((512, 512)))[16:496]
    return Image.fromarray(frame)


def stages(path: Path, model, repeat: int, clock=time.process_time,
           min_face: float = 40.0, native: bool = False) -> dict[str, float]:
    """Median milliseconds per stage of one photo (``clock``: CPU time of this process by
    default, so other processes on a busy machine count less; OpenCV single-threaded).

    ``native``: the native engine (the default for photos), which aligns, changes and
    writes back in one step at the photo's size: its time is all under "paste"."""
    from pixelfes.face import align_face, paste_change
    from pixelfes.face.detect import PyramidBackend, fit_landmarks
    from pixelfes.face.plausible import check_landmarks
    from pixelfes.imageio import load_image
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import alignment_of, apply_to_crop

    alignment = alignment_of(model)
    backend = PyramidBackend(min_size=min_face)
    times: dict[str, list[float]] = {k: [] for k in
                                     ("decode", "detect", "landmarks", "align", "model", "paste",
                                      "encode", "total")}
    for _ in range(repeat):
        t0 = clock()
        loaded = load_image(path)
        t1 = clock()
        found = backend.candidates(loaded.rgb)
        t2 = clock()
        lms = []
        for d in found:
            lm, again = fit_landmarks(loaded.rgb, d.keypoints)
            if check_landmarks(lm, refit=again, keypoints=d.keypoints) is None:
                lms.append(lm)
        t3 = clock()
        aligned = [] if native else [align_face(loaded.rgb, lm, alignment) for lm in lms]
        t4 = clock()
        afters = [apply_to_crop(model, a.crop, a.landmarks, 1.0) for a in aligned]
        t5 = clock()
        out = loaded.rgb.copy()
        for a, after in zip(aligned, afters, strict=True):
            paste_change(out, a, after, out=out)
        if native:
            for lm in lms:
                synthesize_face(loaded.rgb, out, lm, model, 1.0)
        t6 = clock()
        buf = io.BytesIO()
        loaded.to_output(out).save(buf, format="JPEG", quality=95)
        t7 = clock()
        for key, a, b in (("decode", t0, t1), ("detect", t1, t2), ("landmarks", t2, t3),
                          ("align", t3, t4), ("model", t4, t5), ("paste", t5, t6),
                          ("encode", t6, t7), ("total", t0, t7)):
            times[key].append((b - a) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def alternating(path: Path, model, repeat: int, min_face: float
                ) -> tuple[dict[str, dict[str, float]], list[float]]:
    """Both engines on ``path``, one run each in turn per round (so a change of the machine's
    load falls on both alike): median ms per stage per engine, and each round's native / canvas
    total. One untimed run of each first (OpenCV's Lab tables, the mouth bank)."""
    for nat in (False, True):
        stages(path, model, 1, min_face=min_face, native=nat)
    runs: dict[str, list[dict[str, float]]] = {"canvas": [], "native": []}
    for _ in range(repeat):
        for engine, nat in (("canvas", False), ("native", True)):
            runs[engine].append(stages(path, model, 1, min_face=min_face, native=nat))
    med = {e: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for e, rs in runs.items()}
    ratios = [n["total"] / c["total"] for c, n in zip(runs["canvas"], runs["native"], strict=True)]
    return med, ratios


def cold_start(path: Path, out: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of a new process importing pixelfes, loading the models and
    writing one changed photo (the interpreter's own start not counted), median of 5 after
    one untimed run (which fills ``env``'s bytecode folder: :func:`_common.installed_bytecode`)."""

    def once() -> tuple[float, float]:
        return cold_start_once(path, out, env)
    once()
    runs = [once() for _ in range(5)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


#: what the native step calls, timed by --native-stages: (module, attribute, label)
NATIVE_STAGES = (
    ("pixelfes.face.align", "align_face", "align (the model's crop)"),
    ("pixelfes.native", "_surely_colour", "colour told without the crop (smile)"),
    ("pixelfes.native", "person_colours", "person's colours"),
    ("pixelfes.native", "_own_look", "own mouth look"),
    ("pixelfes.native", "target_shape", "target shape (mouth choice)"),
    ("pixelfes.native", "_painted", "  of it: teeth painted and measured"),
    ("pixelfes.native", "_texture_ratio", "texture ratio (canvas)"),
    ("pixelfes.native", "plan_photo_map", "photo map plan"),
    ("pixelfes.native", "resample_photo_map", "resampling (map rows, remap, shade)"),
    ("pixelfes.native", "_resample_rows", "  of it: remap and shade"),
    ("pixelfes.native", "_scale_l_star", "    of it: shade (CIELAB)"),
    ("pixelfes.native", "_shade_tinted", "    of it: shade (CIELAB, tinted)"),
    ("pixelfes.native", "close_mouth", "mouth closed"),
    ("pixelfes.native", "blend_paint", "teeth blended"),
    ("pixelfes.native", "fill_mouth", "teeth painted (fill_mouth)"),
)


#: the London folder of each direction's source expression
FOLDERS = {"neutral": "neutral_front", "happy": "smiling_front"}


def native_stages(n_photos: int, repeat: int, direction: tuple[str, str] = ("neutral", "happy")) -> None:
    """Print the native step's CPU ms per face by stage (:data:`NATIVE_STAGES`)."""
    import functools
    import importlib

    from pixelfes import native
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces, resolve_model

    folder = REPO.parent / "shared" / "data" / "london-face-set" / FOLDERS[direction[0]]
    paths = sorted(folder.glob("*.jpg"))[:n_photos]
    if not paths:
        sys.exit(f"--native-stages needs the London photos in {folder}")
    model = resolve_model(None, *direction)
    faces = []
    for p in paths:
        rgb = load_image(p).rgb
        faces += [(rgb, f.landmarks) for f in find_faces(rgb)]
    spent = {label: 0.0 for *_, label in NATIVE_STAGES}
    for mod_name, attr, label in NATIVE_STAGES:
        mod = importlib.import_module(mod_name)
        real = getattr(mod, attr, None)
        if real is None:  # another checkout's code (PYTHONPATH) may not have this stage
            del spent[label]
            continue

        def timed(*a, _real=real, _label=label, **k):
            t = time.process_time()
            try:
                return _real(*a, **k)
            finally:
                spent[_label] += time.process_time() - t

        setattr(mod, attr, functools.wraps(real)(timed))
    outs = [rgb.copy() for rgb, _ in faces]
    for (rgb, lm), out in zip(faces, outs, strict=True):  # warm: caches, Lab tables
        native.synthesize_face(rgb, out, lm, model, 1.0)
    spent = dict.fromkeys(spent, 0.0)
    total = 0.0
    for _ in range(repeat):
        for (rgb, lm), out in zip(faces, outs, strict=True):
            t = time.process_time()
            native.synthesize_face(rgb, out, lm, model, 1.0)
            total += time.process_time() - t
    n = repeat * len(faces)
    print(f"native step, {len(faces)} faces of {len(paths)} London photos x {repeat}: "
          f"{total / n * 1000:.2f} ms CPU per face")
    for label, sec in spent.items():
        print(f"  {label:40s} {sec / n * 1000:6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--native-stages", type=int, default=0, metavar="N",
                    help="only the native step on N London photos, split by stage")
    ap.add_argument("--min-face", type=float, default=40.0,
                    help="smallest face searched for (px); detection cost ~ 1 / min-face^2")
    ap.add_argument("--direction", default="neutral:happy", choices=["neutral:happy", "happy:neutral"],
                    help="the bundled model timed (default neutral:happy); happy:neutral times closing a "
                         "smile, on London 004's smile")
    args = ap.parse_args()
    direction = tuple(args.direction.split(":"))
    import cv2

    cv2.setNumThreads(1)  # one core
    if args.native_stages:
        native_stages(args.native_stages, max(1, args.repeat // 3), direction)
        return
    from pixelfes.pipeline import resolve_model

    model = resolve_model(None, *direction)
    print(f"default model: {model.model_type} {model.image_shape_}\n")
    photos = {}
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "astronaut_640x480.jpg"
        photo_640x480().save(p, quality=95)
        photos["640x480 (astronaut)"] = p
        london = REPO.parent / "shared" / "data" / "london-face-set" / FOLDERS[direction[0]] / \
            ("001_03.jpg" if direction[0] == "neutral" else "004_08.jpg")
        if london.is_file():
            photos[f"1350x1350 (London {london.stem[:3]})"] = london
        print(f"{'photo':24s} " + " ".join(f"{k:>9s}" for k in
              ("decode", "detect", "landmarks", "align", "model", "paste", "encode", "total")))
        for name, path in photos.items():
            med, ratios = alternating(path, model, args.repeat, args.min_face)
            for engine, nat in (("canvas", False), ("native", True)):
                print(f"{name:24s} " + " ".join(f"{v:9.1f}" for v in med[engine].values())
                      + f"   ms CPU (median), {engine}")
                wall = stages(path, model, max(3, args.repeat // 3), clock=time.perf_counter,
                              min_face=args.min_face, native=nat)["total"]
                print(f"{'':24s} {'':>69s} {wall:9.1f}   ms wall")
            q1, q2, q3 = statistics.quantiles(ratios, n=4)
            print(f"{'':24s} native / canvas total (CPU, same process, alternating): "
                  f"{med['native']['total'] / med['canvas']['total']:.2f}x of the medians; "
                  f"paired per round {q2:.2f}x (quartiles {q1:.2f}-{q3:.2f}, {len(ratios)} rounds)")
        env = installed_bytecode(dict(os.environ), Path(tmp) / "bytecode")
        wall, cpu = cold_start(photos["640x480 (astronaut)"], Path(tmp) / "out.jpg", env)
        print(f"\ncold start (new process: import, models, one 640x480 photo written): "
              f"{wall:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
