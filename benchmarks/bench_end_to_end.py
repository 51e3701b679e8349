"""One photo end to end (decode, ``pixelfes.synthesize(image, "happy")``, JPEG encode) against
another checkout: CPU ms per photo, old and new processes alternating, and their ratio.

For issue 11's "at most 1.3x today's per-photo time": the reference is the code as it was
before the native engine (``4751272^``, the canvas default of the day), so each checkout
runs its own default model and its own pipeline, through the one public call both have.

Run:  git worktree add --detach /tmp/wt-ref 4751272^
      python benchmarks/bench_end_to_end.py --reference /tmp/wt-ref/src [--rounds 3]
      git worktree remove /tmp/wt-ref

Each round starts a fresh process per checkout (new first, then the reference, then swapped
the next round), warms up 3 photos and reports the median of ``--repeat`` (CPU time of
that process, OpenCV on one thread: a busy machine counts less). Photo: the 1350 x 1350
London 001 from ``../shared/data`` (or ``--photo``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import io, statistics, sys, time
import cv2
cv2.setNumThreads(1)
import pixelfes
from PIL import Image
data = open(sys.argv[1], "rb").read()
def once():
    t = time.process_time()
    im = Image.open(io.BytesIO(data)); im.load()
    out = pixelfes.synthesize(im, "happy")
    buf = io.BytesIO(); out.save(buf, "JPEG", quality=95)
    return (time.process_time() - t) * 1000
for _ in range(3):
    once()
print(statistics.median([once() for _ in range(int(sys.argv[2]))]))
"""


def run(src: Path, photo: Path, repeat: int) -> float:
    """Median CPU ms per photo in a fresh process importing ``pixelfes`` from ``src``."""
    env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    got = subprocess.run([sys.executable, "-c", _CHILD, str(photo), str(repeat)], env=env,
                         capture_output=True, text=True, check=True)
    return float(got.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", type=Path, required=True,
                    help="the other checkout's src folder (e.g. a detached worktree of 4751272^)")
    ap.add_argument("--photo", type=Path,
                    default=REPO.parent / "shared" / "data" / "london-face-set" / "neutral_front"
                    / "001_03.jpg")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=15, help="photos timed per process")
    args = ap.parse_args(argv)
    if not (args.reference / "pixelfes").is_dir():
        ap.error(f"--reference {args.reference} has no pixelfes package (give its src folder)")
    if not args.photo.is_file():
        ap.error(f"--photo {args.photo} not found (is ../shared beside the repo?)")
    new, ref = [], []
    for r in range(args.rounds):
        order = [("new", REPO / "src"), ("ref", args.reference)]
        for name, src in order if r % 2 == 0 else order[::-1]:
            (new if name == "new" else ref).append(run(src, args.photo, args.repeat))
        print(f"round {r + 1}: this checkout {new[-1]:.1f} ms, reference {ref[-1]:.1f} ms", flush=True)
    n, o = statistics.median(new), statistics.median(ref)
    print(f"median CPU ms per photo: this checkout {n:.1f}, reference {o:.1f}; ratio {n / o:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
