"""Scaling out: photos per second for one process, a process pool and a Dask LocalCluster.

Run:  python benchmarks/bench_scale.py [--photos 200] [--size 400] [--plot docs/figures/scale-throughput.png]

Photos: the London Face Set's neutral frontal photos (../shared/data, CC BY 4.0) resized
to ``--size`` px (each photo a few sizes, so all files differ), under a temporary folder.
Every configuration synthesizes the same photos (neutral -> happy, the default model)
through the same batch code (manifest, chunks of ``--chunk`` photos, atomic writes):

- ``plain``: the one-process ``pixelfes synthesize`` (no manifest): the reference;
- ``jobs1``: the batch path in this process; ``pool2``: ``--jobs 2``;
- ``dask1``/``dask2``: a LocalCluster of 1 / 2 single-threaded worker processes.

Pools and clusters are started and warmed up first (a run of ``4 * chunk`` photos, one
per task: imports, dlib and model loads in every worker); that start-up is reported
separately and the rates are steady state, as in a long run.

Overhead per task: no-op tasks (a chunk of nothing) through each runner, end to end.
Model of throughput vs workers ``w`` (photos/s): ``X(w) = 1 / (s + c / w)``, with ``c`` the
per-photo work that runs in parallel and ``s`` the per-photo cost that does not (the
driver: manifest append + fsync, scheduling, results); ``s`` and ``c`` are fitted from
the 1- and 2-worker Dask runs (two points, two constants: the fit is exact, the model
is not validated beyond w = 2). The load average is printed: this machine's 2 cores are
shared with other jobs, so absolute rates are low and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def make_photos(folder: Path, n: int, size: int) -> list[Path]:
    from PIL import Image

    data = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data"))
    sources = sorted((data / "london-face-set" / "neutral_front").glob("*.jpg"))
    if not sources:
        sys.exit(f"needs the London Face Set under {data} (set PIXELFES_DATA)")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        src = sources[i % len(sources)]
        side = size + 8 * (i // len(sources))
        with Image.open(src) as im:
            im.draft("RGB", (side, side))
            im.convert("RGB").resize((side, side), Image.LANCZOS).save(folder / f"{i:04d}.jpg",
                                                                         quality=90)
        paths.append(folder / f"{i:04d}.jpg")
    return paths


def _noop(job: object, chunk: list) -> list:
    return []


def task_overhead(runner, tasks: int) -> float:
    """Seconds per no-op task through ``runner`` (submission to result), end to end."""
    chunks = [[] for _ in range(tasks)]
    list(runner.imap_unordered(_noop, None, chunks[:8], lambda c, m: []))  # warm up
    t0 = time.perf_counter()
    list(runner.imap_unordered(_noop, None, chunks, lambda c, m: []))
    return (time.perf_counter() - t0) / tasks


def run_batch(photos: list[Path], out: Path, runner, chunk: int) -> float:
    from pixelfes.batch import Manifest, run_items
    from pixelfes.photojobs import PhotoJob, plan_synthesize, process_chunk, resolve_refs

    job = PhotoJob(resolve_refs("neutral", ["happy"], None))
    items = plan_synthesize(photos, out, ["happy"], 1.0)
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.open(out / "pixelfes-manifest.jsonl", job.settings("synthesize", [1.0]))
    t0 = time.perf_counter()
    summary = run_items(process_chunk, job, items, manifest, runner, chunk_size=chunk,
                        progress=False)
    elapsed = time.perf_counter() - t0
    assert summary.done == len(photos) and summary.failed == 0, summary.errors[:3]
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--size", type=int, default=400)
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--plot", type=Path, default=None, help="write the throughput plot (PNG)")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from pixelfes.cli import main as cli
    from pixelfes.runners import DaskRunner, InProcessRunner, PoolRunner

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        photos = make_photos(tmp / "in", args.photos, args.size)
        n = len(photos)
        res: dict[str, object] = {"photos": n, "size": args.size, "chunk": args.chunk,
                                  "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
        secs: dict[str, float] = {}
        t0 = time.perf_counter()
        assert cli(["synthesize", *map(str, photos), "--to", "happy", "-o", str(tmp / "plain"),
                    "-q"]) == 0
        secs["plain"] = time.perf_counter() - t0
        warm = photos[: 4 * args.chunk]  # imports, dlib and model loads on every worker
        secs["jobs1"] = run_batch(photos, tmp / "jobs1", InProcessRunner(), args.chunk)
        startup: dict[str, float] = {}
        pool = PoolRunner(2)
        t0 = time.perf_counter()
        run_batch(warm, tmp / "warm-pool2", pool, 1)
        startup["pool2"] = time.perf_counter() - t0
        secs["pool2"] = run_batch(photos, tmp / "pool2", pool, args.chunk)
        over: dict[str, float] = {"in-process": task_overhead(InProcessRunner(), 200),
                                  "pool2": task_overhead(pool, 200)}
        pool.close()
        for w in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                              dashboard_address=None) as c, Client(c) as client:
                runner = DaskRunner(c.scheduler_address)
                run_batch(warm, tmp / f"warm-dask{w}", runner, 1)
                startup[f"dask{w}"] = time.perf_counter() - t0
                secs[f"dask{w}"] = run_batch(photos, tmp / f"dask{w}", runner, args.chunk)
                over[f"dask{w}"] = task_overhead(runner, 200)
                runner.close()
                client.close()
        ref = {p.name: p.read_bytes() for p in (tmp / "plain").glob("*.jpg")}
        for key in ("jobs1", "pool2", "dask1", "dask2"):
            got = {p.name: p.read_bytes() for p in (tmp / key).glob("*.jpg")}
            assert got == ref, f"{key} outputs differ from one process"
        rate = {k: n / v for k, v in secs.items()}
        # X(w) = 1 / (s + c / w): per-photo times at w = 1, 2 give s and c
        t1, t2 = secs["dask1"] / n, secs["dask2"] / n
        c_par, s_ser = 2 * (t1 - t2), 2 * t2 - t1
        res.update(seconds=secs, photos_per_second=rate,
                   speedup_vs_plain={k: rate[k] / rate["plain"] for k in rate},
                   task_overhead_ms={k: 1000 * v for k, v in over.items()},
                   startup_and_warm_up_s=startup,
                   model={"s_serial_ms_per_photo": 1000 * s_ser,
                          "c_parallel_ms_per_photo": 1000 * c_par,
                          "max_photos_per_second": (1 / s_ser) if s_ser > 0 else None},
                   load_after=os.getloadavg()[0], outputs_identical=True)
        print(json.dumps(res, indent=2))
        if args.plot:
            plot(args.plot, rate, s_ser, c_par, res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def plot(path: Path, rate: dict[str, float], s: float, c: float, res: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    w = np.arange(1, 17)
    fig, ax = plt.subplots(figsize=(5.2, 3.4), dpi=110)
    ax.plot(w, 1 / (s + c / w), "-", color="0.4",
            label=f"model 1/(s + c/w): s={1000 * s:.0f} ms, c={1000 * c:.0f} ms")
    ax.plot(w, w / c, ":", color="0.6", label="ideal w/c")
    ax.plot([1, 2], [rate["dask1"], rate["dask2"]], "o", color="C0", label="Dask LocalCluster")
    ax.plot([1, 2], [rate["jobs1"], rate["pool2"]], "s", color="C1", mfc="none",
            label="in-process / --jobs 2")
    ax.plot([1], [rate["plain"]], "x", color="k", label="plain synthesize")
    if s > 0:
        ax.axhline(1 / s, color="0.8", lw=0.8)
    ax.set_xlabel("workers w")
    ax.set_ylabel("photos per second")
    ax.set_ylim(0, max(2.2 * rate["dask2"], 1.2 * max(rate.values())))
    ax.set_title(f"{res['photos']} photos of {res['size']} px, chunk {res['chunk']} "
                 f"(2 shared cores, load {res['load_before']:.1f})", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


if __name__ == "__main__":
    main()
