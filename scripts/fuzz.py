"""A longer fuzz run than CI's: images, model files and CSV manifests, fresh random seeds.

    python scripts/fuzz.py                      # 2000 examples per target, random seed
    python scripts/fuzz.py --examples 500 --seed 7

Runs tests/test_fuzz.py with ``PIXELFES_FUZZ_EXAMPLES`` and Hypothesis's randomness on
(the CI run is derandomised), prints Hypothesis's statistics (examples run, outcomes per
seed file) and exits non-zero if any target found a failure; the failing input is
printed, minimised, for a regression test.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per target (default 2000)")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default random)")
    parser.add_argument("-k", default="fuzz", help="pytest -k expression (default: every target)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    env = {**os.environ, "PIXELFES_FUZZ_EXAMPLES": str(args.examples), "PIXELFES_FUZZ_RANDOM": "1",
           "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "pytest", str(REPO / "tests" / "test_fuzz.py"), "-q", "-k", args.k,
           "-p", "no:cacheprovider", "--hypothesis-show-statistics", f"--hypothesis-seed={seed}"]
    print(f"seed {seed}: {' '.join(cmd[2:])}", flush=True)
    return subprocess.call(cmd, env=env, cwd=REPO)


if __name__ == "__main__":
    sys.exit(main())
