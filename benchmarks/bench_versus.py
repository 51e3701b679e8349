"""The main job's stages (decode, detect, landmarks, native step, encode) against another
checkout's, alternating in one process: CPU ms per stage and the ratio new / reference.

Run:  git worktree add --detach /tmp/wt-ref main
      python benchmarks/bench_versus.py --reference /tmp/wt-ref/src [--photo P] [--rounds 21]

The reference's ``pixelfes`` package is copied to a temporary folder as ``pixelfes_ref``
(its absolute imports renamed) so both import side by side; rounds alternate old/new and
new/old, OpenCV runs one thread, times are ``time.process_time`` (a busy machine counts
less). Stages as in ``bench_synthesize.py``: decode (``load_image``), detect (BlazeFace
pyramid, ``--min-face`` 40), landmarks (68 points, refit and plausibility check), native
(``pixelfes.native.synthesize_face`` of every face kept, the default
neutral -> happy model of each), encode (JPEG quality 95, of the changed photo); the encoded bytes
of both must be equal (checked: the same output, byte for byte). Default photo: the
1350 x 1350 London 001 from ``../shared/data``; ``--photos N`` takes the first N London
neutral photos instead (medians over all of them). ``--cold ROUNDS``: instead, the cold start
of both checkouts (new processes, alternating; ``--cli`` through ``pixelfes synthesize``).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("decode", "detect", "landmarks", "native", "encode", "total")


def import_reference(src: Path, tmp: Path) -> str:
    """Copy ``src/pixelfes`` to ``tmp/pixelfes_ref`` with its absolute imports (and the
    module names in strings: lazily imported model types) renamed."""
    dst = tmp / "pixelfes_ref"
    shutil.copytree(src / "pixelfes", dst, ignore=shutil.ignore_patterns("__pycache__"))
    pattern = re.compile(r"\b(from|import) pixelfes\b")
    quoted = re.compile(r"([\"'])pixelfes\.")
    for f in dst.rglob("*.py"):
        text = f.read_text()
        new = quoted.sub(r"\1pixelfes_ref.", pattern.sub(r"\1 pixelfes_ref", text))
        if new != text:
            f.write_text(new)
    sys.path.insert(0, str(tmp))
    return "pixelfes_ref"


def runner(package: str, path: Path, min_face: float, direction: str = "neutral:happy"
           ) -> Callable[[], tuple[dict[str, float], bytes]]:
    import importlib

    detect = importlib.import_module(f"{package}.face.detect")
    plausible = importlib.import_module(f"{package}.face.plausible")
    imageio = importlib.import_module(f"{package}.imageio")
    native = importlib.import_module(f"{package}.native")
    model = importlib.import_module(f"{package}.pipeline").resolve_model(None, *direction.split(":"))
    backend = detect.PyramidBackend(min_size=min_face)
    clock = time.process_time

    def run() -> tuple[dict[str, float], bytes]:
        t0 = clock()
        loaded = imageio.load_image(path)
        t1 = clock()
        found = backend.candidates(loaded.rgb)
        t2 = clock()
        lms = []
        for d in found:
            lm, again = detect.fit_landmarks(loaded.rgb, d.keypoints)
            if plausible.check_landmarks(lm, refit=again, keypoints=d.keypoints) is None:
                lms.append(lm)
        t3 = clock()
        out = loaded.rgb.copy()
        for lm in lms:
            native.synthesize_face(loaded.rgb, out, lm, model, 1.0)
        t4 = clock()
        buf = io.BytesIO()
        loaded.to_output(out).save(buf, format="JPEG", quality=95)
        t5 = clock()
        ms = [(b - a) * 1000 for a, b in ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t0, t5))]
        return dict(zip(STAGES, ms, strict=True)), buf.getvalue()

    return run


def cold_starts(reference: Path, photo: Path, rounds: int, cli: bool = False) -> None:
    """Print the cold start of the two checkouts, new processes alternating (reference/this,
    then this/reference): each imports pixelfes from its ``src`` with compiled bytecode (as
    installed: :func:`_common.installed_bytecode`), synthesizes ``photo`` (neutral -> happy)
    and writes it; wall and CPU seconds (the interpreter's own start not counted), medians
    and the median of the paired ratios. ``cli``: through ``pixelfes synthesize`` instead."""
    import os

    from _common import cold_start_once, installed_bytecode

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jpg"
        envs = {}
        for name, src in (("reference", reference), ("this", REPO / "src")):
            env = installed_bytecode(dict(os.environ), Path(tmp) / f"bytecode-{name}")
            env["PYTHONPATH"] = str(src.resolve())
            envs[name] = env

        def once(name: str) -> tuple[float, float]:
            return cold_start_once(photo, out, envs[name], cli)

        for name in envs:  # bytecode written, caches and the OS's file cache warm
            once(name)
            once(name)
        times: dict[str, list[tuple[float, float]]] = {"reference": [], "this": []}
        for r in range(rounds):
            for name in (("reference", "this") if r % 2 == 0 else ("this", "reference")):
                times[name].append(once(name))
    what = "pixelfes synthesize" if cli else "pixelfes.synthesize"
    print(f"cold start ({what}, {photo.name}, {rounds} alternating pairs of new processes)")
    for name, got in times.items():
        print(f"{name:10s} wall {statistics.median(t[0] for t in got):.3f} s, "
              f"CPU {statistics.median(t[1] for t in got):.3f} s")
    pairs = list(zip(times["reference"], times["this"], strict=True))
    print(f"{'ratio':10s} wall {statistics.median(b[0] / a[0] for a, b in pairs):.3f}, "
          f"CPU {statistics.median(b[1] / a[1] for a, b in pairs):.3f}   "
          "(this / reference, median of paired rounds)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, required=True,
                    help="the other checkout's src folder (holding pixelfes/)")
    ap.add_argument("--photo", type=Path,
                    default=REPO.parent / "shared" / "data" / "london-face-set" / "neutral_front" / "001_03.jpg")
    ap.add_argument("--photos", type=int, default=0,
                    help="the first N London neutral photos instead of --photo")
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--allow-different", action="store_true",
                    help="time the two even when their outputs differ (a change meant to alter them)")
    ap.add_argument("--min-face", type=float, default=40.0)
    ap.add_argument("--direction", default="neutral:happy", metavar="SOURCE:TARGET",
                    help="the bundled model run (default neutral:happy); happy:neutral times closing "
                         "a smile: give it smiles, e.g. --photo .../smiling_front/001_03.jpg")
    ap.add_argument("--cold", type=int, default=0, metavar="ROUNDS",
                    help="instead: the cold start of both (new processes, alternating), ROUNDS "
                         "pairs on --photo")
    ap.add_argument("--cli", action="store_true",
                    help="with --cold: through the pixelfes synthesize command")
    args = ap.parse_args()
    if not (args.reference / "pixelfes" / "__init__.py").is_file():
        sys.exit(f"--reference must be a src folder holding pixelfes/; got {args.reference}")
    if args.cold:
        if not args.photo.is_file():
            sys.exit(f"no photo at {args.photo} (give --photo)")
        cold_starts(args.reference, args.photo, args.cold, args.cli)
        return
    if args.direction.count(":") != 1:
        sys.exit(f"--direction must be SOURCE:TARGET, e.g. happy:neutral; got {args.direction!r}")
    photos = (sorted(args.photo.parent.glob("*.jpg"))[:args.photos] if args.photos > 0
              else [args.photo])
    if not photos or not all(p.is_file() for p in photos):
        sys.exit(f"no photo at {args.photo} (give --photo)")
    import cv2

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        package = import_reference(args.reference, Path(tmp))
        pairs = [(runner(package, p, args.min_face, args.direction), runner("pixelfes", p, args.min_face, args.direction))
                 for p in photos]
        for ref, new in pairs:
            for _ in range(2):  # nets, caches and memory maps warm
                ref()
                new()
        times: dict[str, list[dict[str, float]]] = {"reference": [], "this": []}
        for r in range(args.rounds):
            for ref, new in pairs:
                order = (("reference", ref), ("this", new)) if r % 2 == 0 else (("this", new), ("reference", ref))
                for name, f in order:
                    times[name].append(f()[0])
        differ = [p.name for p, (ref, new) in zip(photos, pairs, strict=True) if ref()[1] != new()[1]]
        if differ and not args.allow_different:
            sys.exit(f"{differ[0]}: the encoded bytes differ between the two checkouts "
                     "(--allow-different times a change that alters outputs)")
    name = (photos[0].name if len(photos) == 1 else f"{len(photos)} London photos") + f" ({args.direction})"
    same = (f"outputs differ on {len(differ)} of {len(photos)} photos" if differ
            else "outputs byte-identical")
    print(f"{name}: CPU ms per stage (median of {args.rounds} rounds), one thread; {same}")
    print(f"{'':10s}" + "".join(f"{k:>11s}" for k in STAGES))
    for name in ("reference", "this"):
        print(f"{name:10s}" + "".join(
            f"{statistics.median(t[k] for t in times[name]):11.2f}" for k in STAGES))
    print(f"{'ratio':10s}" + "".join(
        f"{statistics.median(b[k] / a[k] for a, b in zip(times['reference'], times['this'], strict=True)):11.3f}"
        for k in STAGES) + "   (this / reference, median of paired rounds)")


if __name__ == "__main__":
    main()
