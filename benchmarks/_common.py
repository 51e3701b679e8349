"""Helpers shared by the benchmarks (run as scripts: ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

#: The shared data sets: ``$PIXELFES_DATA`` or ``../shared/data`` beside the repository.
DATA = Path(os.environ.get("PIXELFES_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def median_ms(fn: Callable[[], object], repeat: int,
              clock: Callable[[], float] = time.perf_counter) -> float:
    """Median time of ``fn`` in milliseconds by ``clock`` (wall by default;
    ``time.process_time`` for this process's CPU time), one warm-up call first."""
    fn()
    times = []
    for _ in range(repeat):
        t = clock()
        fn()
        times.append(clock() - t)
    return 1000 * statistics.median(times)
