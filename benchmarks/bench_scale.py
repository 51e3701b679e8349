"""Scaling out: photos per second for one process, a process pool and a Dask LocalCluster.

Run:  python benchmarks/bench_scale.py [--photos 200] [--size 400] [--repeat 3]
          [--plot docs/figures/scale-throughput.png]

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
Model of throughput vs workers ``w`` (photos/s): ``X(w) = min(w / c, 1 / s)``. The
workers (``c`` CPU seconds per photo each, work that runs in parallel) and the driver
(``s`` CPU seconds per photo: receiving results, the manifest append + fsync, and for a
LocalCluster the scheduler, which runs in the driver process) work at the same time, so
the slower side bounds the rate. Both constants are CPU times (this process and its
child processes, via psutil) over the 2-worker runs, which other jobs on the machine
do not inflate the way they inflate wall time; the wall-clock rates are shown beside the
model. The model assumes one free core per worker, a shared filesystem that keeps up,
and no other limit: it is not validated beyond w = 2. The load average is printed: this machine's 2 cores are
shared with other jobs, so absolute rates are low and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
    ap.add_argument("--dask-default-env", action="store_true",
                    help="Dask workers with Dask's own environment (MALLOC_TRIM_THRESHOLD_=65536)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (median)")
    ap.add_argument("--plot", type=Path, default=None, help="write the throughput plot (PNG)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()

    from distributed import LocalCluster

    from pixelfes.cli import main as cli
    from pixelfes.runners import DaskRunner, InProcessRunner, PoolRunner, local_worker_environ

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        photos = make_photos(tmp / "in", args.photos, args.size)
        n = len(photos)
        res: dict[str, object] = {"photos": n, "size": args.size, "chunk": args.chunk,
                                  "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
        secs: dict[str, float] = {}
        runs: dict[str, list[float]] = {}
        r = args.repeat

        cpu: dict[str, dict[str, float]] = {}

        def timed(key: str, runner, chunk: int = args.chunk) -> None:
            d0, w0 = cpu_now()
            runs[key] = [run_batch(photos, tmp / f"{key}-{i}", runner, chunk) for i in range(r)]
            d1, w1 = cpu_now()
            secs[key] = statistics.median(runs[key])
            cpu[key] = {"driver_ms_per_photo": 1000 * (d1 - d0) / (n * r),
                        "workers_ms_per_photo": 1000 * (w1 - w0) / (n * r)}

        t0 = time.perf_counter()
        assert cli(["synthesize", *map(str, photos), "--to", "happy", "-o", str(tmp / "plain"),
                    "-q"]) == 0
        secs["plain"] = time.perf_counter() - t0  # once: its first photo loads the models
        runs["plain"] = [secs["plain"]]
        warm = photos[: 4 * args.chunk]  # imports, dlib and model loads on every worker
        timed("jobs1", InProcessRunner())
        append_s = manifest_append_cost(tmp / "m.jsonl", args.chunk)
        startup: dict[str, float] = {}
        pool = PoolRunner(2)
        t0 = time.perf_counter()
        run_batch(warm, tmp / "warm-pool2", pool, 1)
        startup["pool2"] = time.perf_counter() - t0
        timed("pool2", pool)
        over: dict[str, float] = {"in-process": task_overhead(InProcessRunner(), 200),
                                  "pool2": task_overhead(pool, 200)}
        pool.close()
        import dask

        env = local_worker_environ()  # what `--dask local` uses (no 64 KiB malloc trim)
        if args.dask_default_env:
            env = dask.config.get("distributed.nanny.pre-spawn-environ")
        res["dask_worker_environ"] = env
        for w in (1, 2):
            t0 = time.perf_counter()
            with dask.config.set({"distributed.nanny.pre-spawn-environ": env}), \
                    LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                 dashboard_address=":0") as c:
                runner = DaskRunner(c.scheduler_address)
                run_batch(warm, tmp / f"warm-dask{w}", runner, 1)
                startup[f"dask{w}"] = time.perf_counter() - t0
                timed(f"dask{w}", runner)
                over[f"dask{w}"] = task_overhead(runner, 200)
                runner.close()
        ref = {p.name: p.read_bytes() for p in (tmp / "plain").glob("*.jpg")}
        for key in ("jobs1-0", "pool2-0", "dask1-0", "dask2-0"):
            got = {p.name: p.read_bytes() for p in (tmp / key).glob("*.jpg")}
            assert got == ref, f"{key} outputs differ from one process"
        rate = {k: n / v for k, v in secs.items()}
        # X(w) = min(w / c, 1 / s): workers (c CPU-ms per photo each) and the driver (s per
        # photo: results, manifest, scheduler) work at once, the slower side bounds the rate
        c_w = cpu["dask2"]["workers_ms_per_photo"] / 1000
        s_d = cpu["dask2"]["driver_ms_per_photo"] / 1000
        cp_w = cpu["pool2"]["workers_ms_per_photo"] / 1000
        cp_d = cpu["pool2"]["driver_ms_per_photo"] / 1000
        res.update(seconds_median=secs, seconds_each=runs, photos_per_second=rate,
                   speedup_vs_plain={k: rate[k] / rate["plain"] for k in rate},
                   task_overhead_ms={k: 1000 * v for k, v in over.items()},
                   startup_and_warm_up_s=startup,
                   manifest_append_fsync_ms_per_chunk=1000 * append_s,
                   cpu_time=cpu,
                   model={"dask": {"c_ms": 1000 * c_w, "s_ms": 1000 * s_d,
                                   "workers_at_driver_limit": c_w / s_d,
                                   "max_photos_per_second": 1 / s_d},
                          "pool": {"c_ms": 1000 * cp_w, "s_ms": 1000 * cp_d,
                                   "workers_at_driver_limit": cp_w / cp_d,
                                   "max_photos_per_second": 1 / cp_d}},
                   load_after=os.getloadavg()[0], outputs_identical=True)
        print(json.dumps(res, indent=2))
        if args.plot:
            plot(args.plot, rate, (s_d, c_w), (cp_d, cp_w), res)
        if args.json:
            args.json.write_text(json.dumps(res, indent=2) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def plot(path: Path, rate: dict[str, float], dask: tuple[float, float],
         pool: tuple[float, float], res: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    w = np.arange(1, 65)
    fig, ax = plt.subplots(figsize=(5.6, 3.6), dpi=110)
    for (s, c), colour, name, top in ((dask, "C0", "Dask", 64), (pool, "C1", "--jobs pool", 16)):
        v = w[w <= top]  # a pool is one machine: drawn up to 16 cores
        ax.plot(v, np.minimum(v / c, 1 / s), "-", color=colour, lw=1,
                label=f"{name} model min(w/c, 1/s): c={1000 * c:.1f} ms, s={1000 * s:.2f} ms")
    ax.plot([1, 2], [rate["dask1"], rate["dask2"]], "o", color="C0", label="Dask, measured")
    ax.plot([1, 2], [rate["jobs1"], rate["pool2"]], "s", color="C1", mfc="none",
            label="in-process / --jobs 2, measured")
    ax.plot([1], [rate["plain"]], "x", color="k", label="plain synthesize, measured")
    ax.set_ylim(rate["dask2"] / 4, 1.6 * max(16 / pool[1], 1 / dask[0]))
    ax.annotate("measured: 2 cores shared with other jobs,\nno core free (see load)",
                (2, rate["dask2"]), xytext=(1.05, rate["dask2"] * 0.45), fontsize=6.5,
                va="top", arrowprops={"arrowstyle": "-", "color": "0.6"})
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("workers w (one free core each)")
    ax.set_ylabel("photos per second")
    ax.set_title(f"{res['photos']} photos of {res['size']} px, chunk {res['chunk']}; "
                 f"measured on 2 cores shared, load {res['load_before']:.1f}", fontsize=8)
    ax.legend(fontsize=6.5, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def cpu_now() -> tuple[float, float]:
    """CPU seconds so far of this process, and of its child processes (pool, cluster workers)."""
    import psutil

    kids = 0.0
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            kids += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return time.process_time(), kids


def manifest_append_cost(path: Path, chunk: int, repeat: int = 50) -> float:
    """Seconds to append one chunk's rows to a manifest (write + flush + fsync)."""
    from pixelfes.batch import Manifest

    m = Manifest.open(path, {"bench": True})
    rows = [{"input": f"in/{i}.jpg", "output": f"out/{i}.jpg", "expression": "happy",
             "strength": 1.0, "faces_found": 1, "faces_changed": 1, "status": "done",
             "error": None} for i in range(chunk)]
    t0 = time.perf_counter()
    for _ in range(repeat):
        m.append(rows)
    return (time.perf_counter() - t0) / repeat


if __name__ == "__main__":
    main()
