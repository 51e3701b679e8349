"""Helpers shared by the benchmarks (run as scripts: ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

#: The shared data sets: ``$PIXELFES_DATA`` or ``../shared/data`` beside the repository.
DATA = Path(os.environ.get("PIXELFES_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds (one warm-up call first)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)
