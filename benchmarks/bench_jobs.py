"""``pixelfes synthesize --jobs 2`` against one process on 40 photos: wall time, same bytes.

Run:  python benchmarks/bench_jobs.py [--photos 40] [--rounds 2]

Each run is a new ``pixelfes synthesize`` process over the same photos (the London Face
Set's neutral photos, 1350 px, when ../shared/data is there; else the astronaut in
640x480 frames); runs alternate between the job counts; the figure is the ratio of the
median wall times. Load average is printed: on a shared machine other processes take
cores away from the two workers. The outputs of all runs must be byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def photos(n: int, tmp: Path) -> list[Path]:
    data = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data"))
    london = sorted((data / "london-face-set" / "neutral_front").glob("*.jpg"))
    if len(london) >= n:
        return london[:n]
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_synthesize import photo_640x480

    out = []
    for i in range(n):
        p = tmp / f"astro_{i:02d}.jpg"
        photo_640x480().save(p, quality=90 - i % 5)
        out.append(p)
    return out


def run(files: list[Path], jobs: int | None, out: Path, threads: int | None = None
        ) -> tuple[float, str]:
    """One ``pixelfes synthesize`` process (``jobs`` None: the one-process path)."""
    cmd = [sys.executable, "-m", "pixelfes.cli", "synthesize", *map(str, files), "--to", "happy",
           "-o", f"{out}{os.sep}", "-q"] + ([] if jobs is None else ["--jobs", str(jobs)])
    env = dict(os.environ)
    if threads:
        env["OPENCV_FOR_THREADS_NUM"] = str(threads)  # OpenCV's own thread count
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    digest = hashlib.sha256()
    for p in sorted(out.iterdir()):
        if p.suffix != ".jsonl":  # the --jobs run's manifest
            digest.update(p.name.encode() + p.read_bytes())
    return wall, digest.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = photos(args.photos, Path(tmp))
        # (jobs, OpenCV threads of the one process: its default, or 1 = one core)
        variants: list[tuple[int | None, int | None]] = [(None, None), (None, 1), (2, None)]
        walls: dict[tuple[int | None, int | None], list[float]] = {v: [] for v in variants}
        digests = set()
        for r in range(args.rounds):
            for jobs, threads in variants:
                wall, digest = run(files, jobs, Path(tmp) / f"out_{jobs}_{threads}_{r}", threads)
                walls[(jobs, threads)].append(wall)
                digests.add(digest)
                what = ("one process" if jobs is None else f"--jobs {jobs}") + (
                    " (OpenCV 1 thread)" if threads else "")
                print(f"  round {r + 1}, {what:26s}: {wall:6.2f} s   (load average "
                      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
        one, one1, two = (statistics.median(walls[v]) for v in variants)
        print(f"\n{len(files)} photos: one process {one:.2f} s ({one1:.2f} s on one core), "
              f"--jobs 2 {two:.2f} s: {one / two:.2f}x ({one1 / two:.2f}x against one core); "
              f"outputs identical across runs: {len(digests) == 1}")


if __name__ == "__main__":
    main()
