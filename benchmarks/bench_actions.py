"""Action-unit timings per face (CPU time): on a 192 px crop, in a 1350 px photo, and the analysis.

Run: PYTHONPATH=src python benchmarks/bench_actions.py [--repeat 30] [--stages] [--fresh N] [--large] [--sizes]
         [--interpolation cubic|linear|cubic2x|both|K1,K2] [--analysis N [--reference SRC]]
CPU time of this process on one core (``time.process_time``, so other jobs on a shared
machine do not count; OpenCV single-threaded, as bench_synthesize.py: with two threads
OpenCV's parallel loops cost a third more CPU time on a busy machine), median of ``--repeat``
runs, each reported as a ratio to a reference measured in
the same process: one cubic ``cv2.remap`` of a 192 px crop (the floor of any warp) and,
for the photo, the native engine's own step on the same face (``pixelfes.native``, the
bundled neutral -> happy model's photo-resolution change), whose composed map the action
units reuse. Targets (issue 16): the action-unit step at most 10 ms a face, analysis at
most 5 ms after the landmarks are found. The photo step runs in place on a copy of the
photo (``synthesize_in_photo(buf, lm, out=buf)``), as the pipeline calls it: no copy of the
whole photo per face. ``--stages`` splits it into its stages (planning on the canvas, the
photo map's plan (canvas displacement, box, the exact map over the lips), the cubic
resampling of the pixels that move with the fold shading (:func:`pixelfes.native.resample_photo_map`:
16-row bands, each between its first and last moving pixel), which makes the photo map's
rows 64 at a time as it goes ("map rows", inside "resample"), the mouth) by timing those
functions, and the floor: one cubic remap of only the pixels that move, gathered into one
row (the step's ratio to it). The photo rows also time the map + resampling both ways in alternation, in this
process: made band by band (what the engines run) against the whole box's map held at once
(:func:`~pixelfes.native.photo_map` then :func:`~pixelfes.native.resample_moving`, the same
bytes; the engines' path before the band-by-band one), and report the ratio. Uses London
photos when ../shared/data is present, else the ICT mean face on a flat synthetic crop (no
photo rows). ``--fresh N`` instead times the photo step in N new processes a request (calls
1-4: CPU and minor page faults), as one ``pixelfes synthesize`` per photo pays it, and
``--large`` on London 001 enlarged to 5940 px (CPU and the peak memory's rise); both use
only public calls, so ``PYTHONPATH=<another checkout>/src`` times that code the same way.
``--sizes`` times the photo step on the first three London photos reduced to 1000, 700 and
480 px wide (faces of about 330, 230 and 160 px): the cost follows the pixels that move;
each size's line ends with the median and the largest of its recipes (the issue's target:
at most 10 ms a face). ``--requests`` names the photo rows' requests (default surprised, angry, disgusted,
neutral; e.g. ``fearful,sad,au:1=0.8;2=0.8;26=0.5`` for the others and an ``--au`` mix).
``--interpolation`` picks the photo resampling's kernel (cubic, linear, cubic2x) for the
photo rows and ``--sizes`` (a comma-separated list, e.g. ``cubic,cubic2x``, or "both" for
cubic,linear: each size timed with each kernel in alternation, in this process: the ratio is
the kernel's share); ``--sizes`` also prints the reference remap, so its lines read as ratios.
``--analysis N`` times only the analysis after landmarks (:func:`pixelfes.actions.estimate_units`)
on N faces (crop-frame landmarks of London photos, neutral and smiling in turn; else the
ICT mean face with known actions at a few poses), all N a round, ``--repeat`` rounds
alternating in order with the reference remap (N calls a round) and, with ``--reference
<src>``, another checkout's analysis imported beside this one (``bench_versus.import_reference``:
its package as ``pixelfes_ref``): CPU ms a face, x the remap (medians of the rounds'
ratios), the paired ratio this / reference (median of the rounds' ratios, and their range),
and the two's largest intensity difference and whether their pose rounds agree face by face.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cv2
import numpy as np

from _common import DATA, median_ms
from pixelfes.actions import ActionUnitModel, estimate_units, load_basis, pose_from_angles


def cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU time of ``fn`` in milliseconds (one warm-up call first)."""
    return median_ms(fn, repeat, clock=time.process_time)


class StageTimer:
    """CPU time spent inside a few named functions (wrapped in place while timing)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, owner: object, name: str, label: str) -> None:
        fn = getattr(owner, name)

        def timed(*a: object, **k: object) -> object:
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.process_time() - t
        setattr(owner, name, timed)


def stage_timer() -> StageTimer:
    import pixelfes.actions.model as am
    import pixelfes.native as nat

    timer = StageTimer()
    timer.wrap(am.ActionUnitModel, "_plan", "plan")
    timer.wrap(nat, "plan_photo_map", "photo map")
    timer.wrap(nat, "resample_photo_map", "resample")
    timer.wrap(nat.PhotoMap, "rows", "(map rows)")
    timer.wrap(am, "paint_mouth", "mouth")
    return timer


def map_paths(model: ActionUnitModel, rgb: np.ndarray, landmarks: np.ndarray, repeat: int
              ) -> tuple[float, float]:
    """CPU ms (medians) of the map + resampling made band by band and with the whole map,
    in alternating runs on this face (the same inputs, the same bytes out)."""
    import pixelfes.native as nat
    from pixelfes.face.align import crop_matrix, transform_points

    plm = np.asarray(landmarks, dtype=np.float64)
    m = crop_matrix(plm, model.alignment_)
    lm = transform_points(m, plm)
    target, raster, _, folds = model._plan(lm, 1.0, with_map=False)
    factor = model.folds_.factor(raster, folds, target)
    extra = None if factor is None else factor - np.float32(1.0)
    args = (m, model.warp_.triangulation, lm, target, model.alignment_, rgb.shape[:2])
    kw = {"also": None if extra is None else np.abs(extra) > 1e-3, "extra": extra, "raster": raster}
    a, b = rgb.copy(), rgb.copy()

    def banded() -> None:
        pm = nat.plan_photo_map(*args, **kw)
        assert pm is not None
        x0, y0, x1, y1 = pm.box
        nat.resample_photo_map(rgb, a[y0:y1, x0:x1], pm)

    def whole() -> None:
        got = nat.photo_map(*args, **kw)
        assert got is not None
        (x0, y0, x1, y1), maps, layer, still = got
        nat.resample_moving(rgb, b[y0:y1, x0:x1], maps, still, layer)

    banded(), whole()
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # the same bytes (to a level, rarely)
    ta, tb = [], []
    for _ in range(repeat):
        for fn, times in ((banded, ta), (whole, tb)):
            t = time.process_time()
            fn()
            times.append(time.process_time() - t)
    return 1000 * float(np.median(ta)), 1000 * float(np.median(tb))


def kernel_floor(model: ActionUnitModel, rgb: np.ndarray, landmarks: np.ndarray, repeat: int
                 ) -> tuple[float, float]:
    """(CPU ms, MP): one cubic remap of only the pixels that move on this face (their
    fixed-point maps gathered into one row, each resampled once, no bands, no map to make):
    the floor of any photo step that resamples them with OpenCV's cubic."""
    import pixelfes.native as nat
    from pixelfes.face.align import crop_matrix, transform_points

    plm = np.asarray(landmarks, dtype=np.float64)
    m = crop_matrix(plm, model.alignment_)
    lm = transform_points(m, plm)
    target, raster, _, _ = model._plan(lm, 1.0, with_map=False)
    got = nat.photo_map(m, model.warp_.triangulation, lm, target, model.alignment_, rgb.shape[:2],
                        raster=raster)
    assert got is not None
    _, maps, _, still = got
    whole, frac = cv2.convertMaps(maps, None, cv2.CV_16SC2)  # type: ignore[call-overload]
    idx = np.flatnonzero(~still)
    # rows of 4096 (remap takes fewer than 32767 columns); the last one padded with its own pixel
    idx = np.concatenate([idx, np.full(-len(idx) % 4096, idx[-1])])
    w1 = np.ascontiguousarray(whole.reshape(-1, 2)[idx].reshape(-1, 4096, 2))
    f1 = np.ascontiguousarray(frac.reshape(-1)[idx].reshape(-1, 4096))
    dst = np.empty((len(w1), 4096, rgb.shape[2]), np.uint8)
    t = cpu_ms(lambda: cv2.remap(rgb, w1, f1, cv2.INTER_CUBIC, dst=dst, borderMode=cv2.BORDER_REPLICATE),
               repeat)
    return t, int((~still).sum()) / 1e6


def crop_and_landmarks() -> tuple[np.ndarray, np.ndarray]:
    photos = sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))
    if photos:
        from pixelfes.datasets.prepare import align_image_file

        a = align_image_file(photos[0])
        crop = a.crop if a.crop.shape[2] == 3 else np.repeat(a.crop, 3, axis=2)
        return crop, a.landmarks
    lm = pose_from_angles(0, 0, 0, 4.3, (95.5, 100.0)).project(load_basis().mean_shape)
    return np.full((192, 192, 3), 170, np.uint8), lm


def photo_model(request: str) -> ActionUnitModel:
    """The action-unit model of a ``--requests`` entry: a recipe name, or ``au:`` and unit
    intensities (``au:1=0.8,2=0.8,26=0.5``: ``--au`` alone, no recipe)."""
    if request.startswith("au:"):
        return ActionUnitModel(None, au=request[3:]).fit()
    from pixelfes.pipeline import resolve_model

    got = resolve_model(None, "neutral", request, engine="actions")
    assert isinstance(got, ActionUnitModel)
    return got


def one_process(request: str, index: int) -> list[tuple[float, int]]:
    """In this (new) process: CPU ms and minor page faults of 4 calls of the photo step on
    London photo ``index`` (``request``: an action-unit recipe, or "native" for the native
    engine's happy), as one ``pixelfes synthesize`` per photo pays them."""
    import resource

    from pixelfes.imageio import load_image
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import find_faces, resolve_model

    photo = sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))[index]
    rgb = load_image(photo).rgb
    face = find_faces(rgb)[0]
    if request == "native":
        model = resolve_model(None, "neutral", "happy", engine="learned")
        out = rgb.copy()

        def run() -> None:
            synthesize_face(rgb, out, face.landmarks, model, 1.0)
    else:
        model = resolve_model(None, "neutral", request, engine="actions")
        buf = rgb.copy()

        def run() -> None:
            model.synthesize_in_photo(buf, face.landmarks, out=buf)
    rows = []
    for _ in range(4):
        faults, t = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
        run()
        rows.append((1000 * (time.process_time() - t),
                     resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults))
    return rows


def one_large(request: str) -> dict[str, float]:
    """In this (new) process: the photo step on London 001 enlarged 4.4x (5940 px, the face
    ~1960 px wide), after one warm-up call on the photo itself: CPU ms and the rise of the
    process's peak resident memory (MB) during the call."""
    import resource

    from pixelfes.imageio import load_image
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import find_faces, resolve_model

    photo = sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))[0]
    rgb = load_image(photo).rgb
    face = find_faces(rgb)[0]
    k = 4.4
    big = cv2.resize(rgb, None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR)
    lm = (face.landmarks + 0.5) * k - 0.5
    out = big.copy()
    if request == "native":
        model = resolve_model(None, "neutral", "happy", engine="learned")
        synthesize_face(rgb, rgb.copy(), face.landmarks, model, 1.0)

        def run() -> None:
            synthesize_face(big, out, lm, model, 1.0)
    else:
        model = resolve_model(None, "neutral", request, engine="actions")
        model.synthesize_in_photo(rgb.copy(), face.landmarks)

        def run() -> None:
            model.synthesize_in_photo(out, lm, out=out)
    peak, t = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.process_time()
    run()
    return {"cpu_ms": 1000 * (time.process_time() - t),
            "peak_rise_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024}


def large() -> None:
    """The photo step on a 5940 px photo (a ~1960 px face), each request in a new process."""
    import json
    import subprocess
    import sys

    for request in ("surprised", "angry", "native"):
        got = subprocess.run([sys.executable, __file__, "--one-large", request],
                             capture_output=True, text=True, check=True)
        r = json.loads(got.stdout.strip().splitlines()[-1])
        print(f"5940 px photo (face ~1960 px), {request:10s} {r['cpu_ms']:7.1f} ms CPU, "
              f"peak memory +{r['peak_rise_mb']:.0f} MB")


def reference_ms(repeat: int) -> float:
    """CPU ms of the reference: one cubic ``cv2.remap`` of the 192 px crop (random sub-pixel map)."""
    crop, _ = crop_and_landmarks()
    maps = (np.random.default_rng(0).uniform(0, 191, (192, 192)).astype(np.float32),) * 2
    return cpu_ms(lambda: cv2.remap(crop, maps[0], maps[1], cv2.INTER_CUBIC), repeat)


def sizes(repeat: int, kernels: tuple[str, ...] = ("cubic",), widths: tuple[int, ...] = (0, 1000, 700, 480)
          ) -> None:
    """The photo step by face size: London 001, 003 and 004 as they are (width 0) and reduced
    to 1000, 700 and 480 px (faces about 0.74, 0.52 and 0.36 of their 1350 px size), each
    recipe that moves the mouth or not, with each of ``kernels`` (timed in alternation when
    there are several), each line also as a ratio to the reference remap timed just before it."""
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces, resolve_model

    models = {e: resolve_model(None, "neutral", e, engine="actions")
              for e in ("surprised", "angry", "disgusted", "fearful", "sad", "neutral")}
    for photo in sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))[:3]:
        full = load_image(photo).rgb
        for side in (w or full.shape[1] for w in widths):
            rgb = full if side == full.shape[1] else cv2.resize(
                full, (side, round(full.shape[0] * side / full.shape[1])), interpolation=cv2.INTER_AREA)
            face = find_faces(rgb)[0]
            width = float(np.ptp(face.landmarks[:, 0]))
            ref = reference_ms(5 * repeat)
            got: dict[str, list[float]] = {k: [] for k in kernels}
            for m in models.values():
                buf = rgb.copy()
                calls = {k: (lambda m=m, buf=buf, lm=face.landmarks, k=k:
                             m.synthesize_in_photo(buf, lm, out=buf, interpolation=k)) for k in kernels}
                for fn in calls.values():
                    fn()  # warm-up
                times: dict[str, list[float]] = {k: [] for k in kernels}
                for _ in range(repeat):  # alternating, so both see the same machine
                    for k, fn in calls.items():
                        t = time.process_time()
                        fn()
                        times[k].append(time.process_time() - t)
                for k in kernels:
                    got[k].append(1000 * float(np.median(times[k])))
            for k in kernels:
                cells = ", ".join(f"{e} {t:5.1f}" for e, t in zip(models, got[k], strict=True))
                ratio = "" if k == kernels[0] else \
                    f", / {kernels[0]} {np.median(np.array(got[k]) / np.array(got[kernels[0]])):.3f}"
                print(f"{photo.name} at {rgb.shape[1]:4d} px (face {width:3.0f} px), {k:7s}: {cells} ms "
                      f"| median {np.median(got[k]):5.1f}, max {max(got[k]):5.1f} "
                      f"(x ref {ref:.2f} ms: {np.median(got[k]) / ref:4.1f}, {max(got[k]) / ref:4.1f}{ratio})",
                      flush=True)


#: the reference remap of docs/actions.md's cost table (0.49-0.51 ms, the third pass's machine):
#: a ratio to the remap times this is a figure "in the docs' units"
DOCS_REMAP_MS = 0.5


def analysis_faces(n: int) -> list[np.ndarray]:
    """``n`` faces' ``(68, 2)`` landmarks to analyse: London crops (neutral and smiling
    photos in turn, aligned as ``pixelfes prepare`` does), else the ICT mean face with
    known actions and identity at a few poses on the 192 px canvas."""
    london = DATA / "london-face-set"
    neutral = sorted((london / "neutral_front").glob("*.jpg"))
    smiling = sorted((london / "smiling_front").glob("*.jpg"))
    if neutral and smiling:
        from pixelfes.datasets.prepare import align_image_file

        photos = [p for pair in zip(neutral, smiling, strict=False) for p in pair][:n]
        return [align_image_file(p).landmarks for p in photos]
    from pixelfes.actions import ANALYSIS_UNITS

    basis = load_basis()
    rng = np.random.default_rng(0)
    rows = [basis.index(u) for u in ANALYSIS_UNITS]
    faces = []
    for _ in range(n):
        w = rng.uniform(0, 0.6, len(rows)) * (rng.random(len(rows)) < 0.4)
        shape = basis.mean_shape + np.tensordot(w, basis.motion[rows], axes=1) \
            + np.tensordot(rng.normal(0, 0.5, len(basis.identity)), basis.identity, axes=1)
        pose = pose_from_angles(*rng.uniform(-12, 12, 3), 4.3, (95.5, 100.0))
        faces.append(pose.project(shape) + rng.normal(0, 0.3, (68, 2)))
    return faces


def analysis_rows(n: int, repeat: int, reference: str | None) -> None:
    """Print the analysis' CPU ms a face on :func:`analysis_faces` (``n``), x the reference
    remap timed in the same rounds, and with ``reference`` (a ``src`` folder) that
    checkout's analysis alternating with this one's: their paired ratio and agreement."""
    import importlib
    import tempfile
    from pathlib import Path

    faces = analysis_faces(n)
    crop, _ = crop_and_landmarks()
    maps = (np.random.default_rng(0).uniform(0, 191, (192, 192)).astype(np.float32),) * 2
    calls: dict[str, Callable[[], object]] = {
        "remap": lambda: [cv2.remap(crop, maps[0], maps[1], cv2.INTER_CUBIC) for _ in faces],
        "this": lambda: [estimate_units(lm) for lm in faces]}
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
        if reference is not None:
            from bench_versus import import_reference

            package = import_reference(Path(reference), Path(tmp))
            ref_estimate = importlib.import_module(f"{package}.actions").estimate_units
            calls["reference"] = lambda: [ref_estimate(lm) for lm in faces]
            got = [(estimate_units(lm), ref_estimate(lm)) for lm in faces]
            diff = max(max(abs(a.units[u] - b.units[u]) for u in a.units) for a, b in got)
            same_rounds = sum(a.rounds == b.rounds and a.converged == b.converged for a, b in got)
            print(f"this against the reference on the {len(faces)} faces: largest intensity "
                  f"difference {diff:.2e}, the same pose rounds on {same_rounds} of {len(faces)}")
        for fn in calls.values():
            fn()  # warm-up
        times: dict[str, list[float]] = {k: [] for k in calls}
        names = list(calls)
        for r in range(repeat):  # alternating, each order in turn: all see the same machine
            for k in (names if r % 2 == 0 else names[::-1]):
                t = time.process_time()
                calls[k]()
                times[k].append(1000 * (time.process_time() - t) / len(faces))
    remap = np.array(times["remap"])
    print(f"reference: one cubic remap of the 192 px crop     {np.median(remap):7.2f} ms CPU "
          f"({len(faces)} a round, {repeat} rounds)")
    for k in names[1:]:
        t = np.array(times[k])
        x = float(np.median(t / remap))
        print(f"analysis, {k:9s} (pose + NNLS of 17 units) {np.median(t):7.2f} ms a face "
              f"({x:5.2f} x remap, {x * DOCS_REMAP_MS:.2f} ms at the docs' {DOCS_REMAP_MS} ms remap)")
    if "reference" in times:
        ratio = np.array(times["this"]) / np.array(times["reference"])
        print(f"analysis, this / reference, paired rounds: median {np.median(ratio):.3f} "
              f"(range {ratio.min():.3f}-{ratio.max():.3f})")


def fresh(n: int) -> None:
    """Medians over ``n`` new processes a request: the first call (with the lazy loads) and
    calls 2-4, CPU ms and page faults (fresh memory is paid in faults, not in the steady state
    the same-process timings above see)."""
    import json
    import subprocess
    import sys

    for request in ("surprised", "angry", "native"):
        runs = []
        for i in range(n):
            got = subprocess.run([sys.executable, __file__, "--one", request, str(i % 3)],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(got.stdout.strip().splitlines()[-1]))
        first = [r[0] for r in runs]
        later = [c for r in runs for c in r[1:]]
        print(f"new process, {request:10s} call 1 {np.median([c[0] for c in first]):6.1f} ms "
              f"({np.median([c[1] for c in first]):.0f} page faults), calls 2-4 "
              f"{np.median([c[0] for c in later]):5.1f} ms ({np.median([c[1] for c in later]):.0f} faults)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--stages", action="store_true", help="split the photo step into its stages")
    ap.add_argument("--fresh", type=int, default=0, metavar="N",
                    help="only time the photo step in N new processes a request (London photos)")
    ap.add_argument("--large", action="store_true",
                    help="only time the photo step on a 5940 px photo (CPU, peak memory)")
    ap.add_argument("--sizes", action="store_true",
                    help="only time the photo step by face size (photos reduced to 1000, 700, 480 px)")
    ap.add_argument("--interpolation", default="cubic",
                    help="the photo resampling's kernel: cubic, linear or cubic2x; for --sizes a "
                         "comma-separated list timed in alternation (both: cubic,linear)")
    ap.add_argument("--widths", default="0,1000,700,480",
                    help="--sizes: photo widths, 0 for as it is (default %(default)s)")
    ap.add_argument("--requests", default="surprised,angry,disgusted,neutral",
                    help="the photo rows' requests, comma-separated: recipes, or au:1=0.8;2=0.8 "
                         "(an --au mix, ';' between its units; default %(default)s)")
    ap.add_argument("--analysis", type=int, default=0, metavar="N",
                    help="only time the analysis after landmarks on N faces (London crops)")
    ap.add_argument("--reference", metavar="SRC",
                    help="with --analysis: another checkout's src folder, its analysis timed "
                         "alternating with this one's (e.g. /work/main/src)")
    ap.add_argument("--one", nargs=2, metavar=("REQUEST", "INDEX"), help=argparse.SUPPRESS)
    ap.add_argument("--one-large", metavar="REQUEST", help=argparse.SUPPRESS)
    args = ap.parse_args()
    cv2.setNumThreads(1)  # one core
    if args.one or args.one_large:  # (a child of --fresh or --large)
        import json

        print(json.dumps(one_process(args.one[0], int(args.one[1])) if args.one else one_large(args.one_large)))
        return
    from pixelfes.native import INTERPOLATIONS

    kernels = tuple(("cubic,linear" if args.interpolation == "both" else args.interpolation).split(","))
    if any(k not in INTERPOLATIONS for k in kernels):
        ap.error(f"--interpolation takes {', '.join(INTERPOLATIONS)} (or both, or a list for --sizes)")
    if args.reference and not args.analysis:
        ap.error("--reference goes with --analysis N")
    if args.analysis:
        analysis_rows(args.analysis, args.repeat, args.reference)
        return
    if args.sizes:
        sizes(args.repeat, kernels, tuple(int(w) for w in args.widths.split(",")))
        return
    if len(kernels) > 1:
        ap.error("several kernels are for --sizes; the photo rows take one")
    import pixelfes.actions.model as am

    am.PHOTO_INTERPOLATION = args.interpolation  # the photo rows' synthesize_in_photo calls
    if args.fresh or args.large:
        if args.fresh:
            fresh(args.fresh)
        if args.large:
            large()
        return
    requests = [r.replace(";", ",") for r in args.requests.split(",")]
    timer = stage_timer() if args.stages else None
    crop, lm = crop_and_landmarks()
    maps = (np.random.default_rng(0).uniform(0, 191, (192, 192)).astype(np.float32),) * 2
    ref = cpu_ms(lambda: cv2.remap(crop, maps[0], maps[1], cv2.INTER_CUBIC), 5 * args.repeat)
    print(f"reference: one cubic remap of the 192 px crop     {ref:7.2f} ms CPU")
    for expr in ("happy", "sad", "angry", "surprised", "disgusted", "fearful", "neutral"):
        m = ActionUnitModel(expr).fit()
        t = cpu_ms(lambda m=m: m.predict(crop[None], landmarks=lm[None]), args.repeat)
        print(f"192 px crop, {expr:10s}                          {t:7.2f} ms  ({t / ref:5.1f} x remap)")
    photos = sorted((DATA / "london-face-set" / "neutral_front").glob("*.jpg"))
    if photos:
        from pixelfes.imageio import load_image
        from pixelfes.native import synthesize_face
        from pixelfes.pipeline import find_faces, resolve_model

        for photo in photos[:3]:
            rgb = load_image(photo).rgb
            face = find_faces(rgb)[0]
            native = resolve_model(None, "neutral", "happy", engine="learned")
            out = rgb.copy()
            t_nat = cpu_ms(lambda rgb=rgb, out=out, lm=face.landmarks, native=native:
                           synthesize_face(rgb, out, lm, native, 1.0), args.repeat)
            print(f"{photo.name} {rgb.shape[1]}x{rgb.shape[0]}: native engine step (happy) {t_nat:7.2f} ms")
            for expr in requests:
                m = photo_model(expr)
                if timer:
                    timer.spent.clear()
                # in place on a copy of the photo, as the pipeline calls it (out=: no copy of
                # the whole photo per face; the map, hence the cost, depends on the landmarks only)
                buf = rgb.copy()
                t = cpu_ms(lambda m=m, buf=buf, lm=face.landmarks: m.synthesize_in_photo(buf, lm, out=buf),
                           args.repeat)
                print(f"  action units in the photo, {expr:10s}       {t:7.2f} ms  ({t / ref:5.1f} x remap, "
                      f"{t / t_nat:4.2f} x native)")
                if timer:  # means over the timed calls and the warm-up
                    print("      " + ", ".join(f"{k} {1000 * v / (args.repeat + 1):.2f}"
                                               for k, v in timer.spent.items()) + " ms")
                if timer:
                    t_floor, mp = kernel_floor(m, rgb, face.landmarks, args.repeat)
                    print(f"      floor: one cubic remap of the {mp:.2f} MP that move {t_floor:.2f} ms "
                          f"({t / t_floor:.2f} x it)")
                t_band, t_whole = map_paths(m, rgb, face.landmarks, args.repeat)
                print(f"      map + resampling band by band {t_band:.2f} ms, the whole map held "
                      f"{t_whole:.2f} ms: {t_band / t_whole:.2f} x")
    t = cpu_ms(lambda: estimate_units(lm), args.repeat)
    print(f"analysis (pose + NNLS of 17 units)                 {t:7.2f} ms  ({t / ref:5.1f} x remap)")


if __name__ == "__main__":
    main()
