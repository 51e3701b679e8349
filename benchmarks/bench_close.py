"""Closing a smile's mouth alone (``pixelfes.mouth.close.close_mouth``: stretch, 1:1 texture, inpainting,
relief, crease) against another checkout's, alternating in one process: CPU ms a closing, the ratio.

Run:  git worktree add --detach /tmp/wt-ref main
      python benchmarks/bench_close.py --reference /tmp/wt-ref/src [--photos 82] [--rounds 7]

The closings are recorded once, with this checkout, from the default native engine closing the first
``--photos`` London smiles (``smiling_front``; those whose mouth it closes: 47 of the 82): the photo
around the lips and every argument ``close_mouth`` gets (lips, colours, crease, relief, tint). Then
each round runs both ``close_mouth`` on every recorded closing (old/new, then new/old), OpenCV on one
thread, ``time.process_time``; every output (box and bytes) must be the same, else it stops (give
``--allow-different`` to time a change meant to alter them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_versus import import_reference  # noqa: E402


def record(photos: list[Path]) -> list[dict]:
    """The arguments of every ``close_mouth`` the native engine makes closing ``photos`` (happy -> neutral)."""
    from pixelfes import native
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces, resolve_model

    got: list[dict] = []
    real = native.close_mouth

    def spy(image, lips, colours, **kw):
        pts = np.asarray(lips, dtype=np.float64)
        lo = np.maximum(np.floor(pts.min(0)).astype(int) - 60, 0)
        hi = np.minimum(np.ceil(pts.max(0)).astype(int) + 60, (image.shape[1], image.shape[0]))
        got.append(dict(image=image[lo[1]:hi[1], lo[0]:hi[0]].copy(), lips=pts - lo, colours=colours, kw=kw))
        return real(image, lips, colours, **kw)

    model = resolve_model(None, "happy", "neutral")
    native.close_mouth = spy
    try:
        for p in photos:
            rgb = load_image(p).rgb
            out = rgb.copy()
            for face in find_faces(rgb):
                native.synthesize_face(rgb, out, face.landmarks, model, 1.0)
    finally:
        native.close_mouth = real
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, required=True,
                    help="the other checkout's src folder (holding pixelfes/)")
    ap.add_argument("--photos", type=int, default=82, help="the first N London smiles (default all 82)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--allow-different", action="store_true",
                    help="time the two even when their outputs differ (a change meant to alter them)")
    args = ap.parse_args()
    if not (args.reference / "pixelfes" / "__init__.py").is_file():
        sys.exit(f"--reference must be a src folder holding pixelfes/; got {args.reference}")
    folder = REPO.parent / "shared" / "data" / "london-face-set" / "smiling_front"
    photos = sorted(folder.glob("*.jpg"))[:args.photos]
    if not photos:
        sys.exit(f"no London smiles in {folder}")
    import importlib

    import cv2

    cv2.setNumThreads(1)
    closings = record(photos)
    if not closings:
        sys.exit("none of these smiles is closed over teeth: give more --photos")
    with tempfile.TemporaryDirectory() as tmp:
        ref = importlib.import_module(import_reference(args.reference, Path(tmp)) + ".mouth.close").close_mouth
        new = importlib.import_module("pixelfes.mouth.close").close_mouth
        spent = {"reference": 0.0, "this": 0.0}
        for rnd in range(args.rounds):
            for c in closings:
                outs = {}
                order = (("reference", ref), ("this", new)) if rnd % 2 == 0 else (("this", new), ("reference", ref))
                for name, fn in order:
                    img = c["image"].copy()
                    t = time.process_time()
                    box = fn(img, c["lips"], c["colours"], **c["kw"])
                    spent[name] += time.process_time() - t
                    outs[name] = (box, img)
                same = outs["reference"][0] == outs["this"][0] and np.array_equal(outs["reference"][1], outs["this"][1])
                if not same and not args.allow_different:
                    sys.exit("the outputs differ (give --allow-different to time them anyway)")
    n = args.rounds * len(closings)
    print(f"{len(closings)} closings of {len(photos)} London smiles x {args.rounds} rounds, one thread"
          + ("" if args.allow_different else "; outputs byte-identical"))
    print(f"close_mouth CPU ms a closing: reference {spent['reference'] / n * 1000:.2f}, "
          f"this {spent['this'] / n * 1000:.2f}, ratio {spent['this'] / spent['reference']:.3f}")


if __name__ == "__main__":
    main()
