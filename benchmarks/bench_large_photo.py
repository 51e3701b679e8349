"""Peak memory and time of one synthesize on an 8000 x 6000 photo (the native engine).

Run:  python benchmarks/bench_large_photo.py [--engine native|canvas]

The photo: London Face Set 001 (CC BY 4.0) enlarged 4.44x (cubic) to 6000 x 6000 and
centred on an 8000 x 6000 grey frame, written as a JPEG under a temporary folder; then a
new Python process loads it, synthesizes neutral -> happy and writes a JPEG, and its peak
resident memory is read from ``getrusage(RUSAGE_CHILDREN)`` (the same number as
``/usr/bin/time -v``'s "Maximum resident set size"). Baseline: the same process doing
only load + save (no synthesis), so the engine's own share is the difference.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LONDON = REPO.parent / "shared" / "data" / "london-face-set" / "neutral_front" / "001_03.jpg"

CODE = """
import sys, time
import pixelfes
from pixelfes.imageio import load_image, save_image
t = time.perf_counter()
loaded = load_image(sys.argv[1])
if sys.argv[3] != "none":
    from pixelfes.pipeline import resolve_model, synthesize_rgb
    out = synthesize_rgb(loaded.rgb, resolve_model(None), 1.0, native=sys.argv[3] == "native")
else:
    out = loaded.rgb
save_image(loaded.to_output(out), sys.argv[2])
print(time.perf_counter() - t)
"""


def run(src: Path, dst: Path, engine: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.check_output([sys.executable, "-c", CODE, str(src), str(dst), engine], text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise RuntimeError("ru_maxrss did not grow: run each measurement in a fresh benchmark process")
    return float(out.strip().splitlines()[-1]), peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("native", "canvas", "none"), default="native")
    args = ap.parse_args()
    import numpy as np
    from PIL import Image

    if not LONDON.is_file():
        raise SystemExit(f"needs {LONDON}")
    with tempfile.TemporaryDirectory() as tmp:
        face = Image.open(LONDON).convert("RGB").resize((6000, 6000), Image.BICUBIC)
        frame = np.full((6000, 8000, 3), 200, np.uint8)
        frame[:, 1000:7000] = np.asarray(face)
        src = Path(tmp) / "big.jpg"
        Image.fromarray(frame).save(src, quality=92)
        del face, frame
        t0 = time.perf_counter()
        secs, mb = run(src, Path(tmp) / "out.jpg", args.engine)
        print(f"8000x6000, engine {args.engine}: {secs:.2f} s in the child "
              f"({time.perf_counter() - t0:.2f} s with start-up), peak RSS {mb:.0f} MB")


if __name__ == "__main__":
    main()
