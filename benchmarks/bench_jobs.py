"""``pixelfes synthesize --jobs 2`` and the default against ``--jobs 1`` on 40 photos.

Run:  python benchmarks/bench_jobs.py [--photos 40] [--rounds 2]

Each run is a new ``pixelfes synthesize`` process over the same photos (the London Face
Set's neutral photos, 1350 px, when ../shared/data is there; else the astronaut in
640x480 frames): ``--jobs 1`` (one process), ``--jobs 2`` (a pool of two) and no ``--jobs``
(the default: from 8 photos, one process per usable core, no manifest), and the machine's
own ceiling: two ``--jobs 1`` processes side by side, each on half the photos (what two
cores give this work with no pool at all: on shared vCPUs it is less than 2x). Runs
alternate; the figures are ratios of median wall times. Load average is printed: on a shared machine
other processes take cores away from the workers. The outputs of all runs must be
byte-identical.

Every process runs from compiled bytecode, as an installed package does (pip compiles it
at install time): ``PYTHONDONTWRITEBYTECODE`` is dropped, the bytecode goes to a temporary
``PYTHONPYCACHEPREFIX`` and one untimed run fills it first. Without that (``--source``, or a
machine that sets ``PYTHONDONTWRITEBYTECODE``) every process compiles pixelfes' sources
again, 0.04-0.1 s of fixed cost that an install does not pay and that weighs on ``--jobs``
(its fork server compiles them too).
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

from _common import installed_bytecode

REPO = Path(__file__).resolve().parents[1]
#: the environment of every timed process (see the module docstring; set in main)
ENV: dict[str, str] = dict(os.environ)


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


def run(files: list[Path], jobs: int | None, out: Path) -> tuple[float, str]:
    """One ``pixelfes synthesize`` process (``jobs`` None: no --jobs, the default)."""
    cmd = [sys.executable, "-m", "pixelfes.cli", "synthesize", *map(str, files), "--to", "happy",
           "-o", f"{out}{os.sep}", "-q"] + ([] if jobs is None else ["--jobs", str(jobs)])
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - t
    digest = hashlib.sha256()
    for p in sorted(out.iterdir()):
        if p.suffix != ".jsonl":  # the --jobs runs' manifest
            digest.update(p.name.encode() + p.read_bytes())
    return wall, digest.hexdigest()


def run_halves(files: list[Path], out: Path) -> float:
    """Two ``--jobs 1`` processes at once, each on half of ``files``: the wall time of both."""
    half = len(files) // 2
    procs = []
    t = time.perf_counter()
    for k, part in enumerate((files[:half], files[half:])):
        (out / str(k)).mkdir(parents=True)
        cmd = [sys.executable, "-m", "pixelfes.cli", "synthesize", *map(str, part), "--to", "happy",
               "-o", f"{out / str(k)}{os.sep}", "-q", "--jobs", "1"]
        procs.append(subprocess.Popen(cmd, stderr=subprocess.DEVNULL, env=ENV))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"a half run failed: {p.args}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--source", action="store_true",
                    help="keep this environment's bytecode setting (on a machine with "
                         "PYTHONDONTWRITEBYTECODE, every process compiles the sources)")
    args = ap.parse_args()
    from pixelfes.runners import usable_cores

    with tempfile.TemporaryDirectory() as tmp:
        files = photos(args.photos, Path(tmp))
        if not args.source:
            fresh = installed_bytecode(ENV, Path(tmp) / "bytecode")
            ENV.clear()
            ENV.update(fresh)
            run(files[:2], 2, Path(tmp) / "warm-up")  # compiles what the parent and workers import
        print(f"bytecode: {'as this environment has it' if args.source else 'compiled first, as installed'}")
        variants: list[int | None] = [1, 2, None]
        walls: dict[int | None, list[float]] = {v: [] for v in variants}
        digests = set()
        halves: list[float] = []
        for r in range(args.rounds):
            for jobs in variants:
                wall, digest = run(files, jobs, Path(tmp) / f"out_{jobs}_{r}")
                walls[jobs].append(wall)
                digests.add(digest)
                what = f"--jobs {jobs}" if jobs else f"default ({usable_cores()} processes)"
                print(f"  round {r + 1}, {what:24s}: {wall:6.2f} s   (load average "
                      f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
            halves.append(run_halves(files, Path(tmp) / f"halves_{r}"))
            print(f"  round {r + 1}, {'2 x --jobs 1 on halves':24s}: {halves[-1]:6.2f} s", flush=True)
        one, two, auto = (statistics.median(walls[v]) for v in variants)
        print(f"\n{len(files)} photos: --jobs 1 {one:.2f} s, --jobs 2 {two:.2f} s ({one / two:.2f}x), "
              f"default {auto:.2f} s ({one / auto:.2f}x); outputs identical across runs: "
              f"{len(digests) == 1}")
    both = statistics.median(halves)
    print(f"the machine's ceiling, two --jobs 1 processes on halves side by side: {both:.2f} s "
          f"({one / both:.2f}x); --jobs 2 reaches {(one / two) / (one / both):.0%} of it")


if __name__ == "__main__":
    main()
