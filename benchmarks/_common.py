"""Helpers shared by the benchmarks (run as scripts: ``python benchmarks/bench_x.py``)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

#: The shared data sets: ``$PIXELFES_DATA`` or ``../shared/data`` beside the repository.
DATA = Path(os.environ.get("PIXELFES_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def installed_bytecode(env: dict[str, str], folder: Path) -> dict[str, str]:
    """``env`` for new processes that run from compiled bytecode, as an installed package does
    (pip compiles it at install time): ``PYTHONDONTWRITEBYTECODE`` dropped, the bytecode in
    ``folder`` (``PYTHONPYCACHEPREFIX``). The first process fills it: run one untimed first.
    A machine that sets ``PYTHONDONTWRITEBYTECODE`` otherwise compiles pixelfes' sources in
    every process, 0.04-0.1 s of start-up an install never pays."""
    out = dict(env)
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out["PYTHONPYCACHEPREFIX"] = str(folder)
    return out


def cold_start_once(photo: Path, out: Path, env: dict[str, str] | None = None,
                    cli: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds of one new process importing pixelfes, synthesizing ``photo``
    (neutral -> happy) and writing ``out`` (the interpreter's own start not counted);
    ``cli``: through ``pixelfes synthesize`` instead of the API."""
    import subprocess
    import sys

    run = (f"from pixelfes.cli import main; main(['synthesize', {str(photo)!r}, '--to', "
           f"'happy', '-q', '--overwrite', '-o', {str(out)!r}])" if cli else
           f"import pixelfes; pixelfes.synthesize({str(photo)!r}, to='happy')"
           f".save({str(out)!r}, quality=95)")
    code = ("import time; t = time.perf_counter(); c = time.process_time(); " + run
            + "; print(time.perf_counter() - t, time.process_time() - c)")
    got = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(got[0]), float(got[1])


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
