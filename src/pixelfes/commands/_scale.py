"""Options shared by the commands that scale out (synthesize, augment, train)."""

from __future__ import annotations

import argparse
from typing import Any


def add_scale_arguments(p: Any, *, manifest: bool = True) -> None:
    """``--jobs``, ``--dask`` (and for photo jobs ``--chunk``, ``--manifest``, ``--overwrite``)."""
    g = p.add_argument_group("scaling out (resumable batch runs)")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes on this machine (with --dask local: Dask workers)")
    g.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run on Dask: a scheduler address (tcp://host:8786), or 'local' for a "
                   "LocalCluster of --jobs workers; needs pip install 'pixelfes[dask]'")
    if manifest:
        g.add_argument("--chunk", type=int, default=None, metavar="N",
                       help="photos per task (default: 8, fewer when there are few photos per "
                       "worker, so every worker stays busy); the manifest is saved after each")
        g.add_argument("--manifest", default=None, metavar="FILE",
                       help="the run's record (default OUTPUT/pixelfes-manifest.jsonl); a rerun "
                       "with the same arguments skips what it lists as done")


def wants_batch(args: argparse.Namespace) -> bool:
    """Whether the options ask for the resumable batch path (any of the scaling options).

    Checks the scaling options' values first, so a bad one fails before any work.
    """
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be 1 or more (processes); got {args.jobs}")
    chunk = getattr(args, "chunk", None)
    if chunk is not None and chunk < 1:
        raise ValueError(f"--chunk must be 1 or more (photos per task); got {args.chunk}")
    return bool(args.dask or args.jobs is not None or getattr(args, "manifest", None))


def train_on_workers(args: argparse.Namespace, model: Any) -> tuple[Any, int]:
    """``train --jobs/--dask``: the pairs' statistics summed in shards on workers, then fitted.

    Returns the fitted model (its ``info`` filled as the one-process path fills it) and the
    number of pairs used.
    """
    import warnings

    from ..alignment import Alignment
    from ..crops import CropError, paired_files, read_crop
    from ..datasets.prepare import FailedImageWarning
    from ..expressions import normalize_expression
    from ..runners import check_jobs, make_runner
    from ..sharded import ShardJob, is_gray_file, sum_shards
    from ._args import alignment_from_args, asked_alignment

    if not type(model).fits_from_stats:
        raise ValueError(f"--jobs/--dask train the models whose statistics add up (pixel-rr, "
                         f"pixel-kr); train {args.model} without them")
    if args.jobs is not None:
        check_jobs(args.jobs)
    hist = type(model).needs_histograms
    align: Alignment | None
    if args.data is not None:
        if args.source or args.target:
            raise ValueError("give either --data or --source/--target, not both")
        if not args.to:
            raise ValueError("--data needs --to EXPRESSION (e.g. --to happy)")
        from ..datasets import open_dataset

        src, tgt = normalize_expression(args.from_), normalize_expression(args.to)
        ds = open_dataset(args.data)
        recs = ds.pair_records(src, tgt)
        if not recs:
            raise ValueError(f"no {src} -> {tgt} pairs in {ds.root} (layout {ds.layout})")
        pairs = [(str(a.path), str(b.path), a.identity) for a, b in recs]
        files = {p for a, b, _ in pairs for p in (a, b)}
        if ds.layout == "aligned":
            align = Alignment.from_dict(ds.meta)
            asked = asked_alignment(args)
            if asked is not None and asked != align:
                raise ValueError(f"{ds.root} was prepared with {align}; asked for {asked}")
            job = ShardJob(hist, int(ds.meta.get("channels", 3)), align, aligned=True)
        else:
            align = alignment_from_args(args)
            job = ShardJob(hist, 1 if all(is_gray_file(f) for f in files) else 3, align)
        model.info.update(source=src, target=tgt)
        data = str(args.data)
    else:
        if not (args.source and args.target):
            raise ValueError("give --source DIR and --target DIR (or --data DIR --to EXPRESSION)")
        both = paired_files(args.source, args.target)
        from .train import _check_crop_files

        _check_crop_files(both[0])
        pairs = [(str(a), str(b), "") for a, b in both]
        channels = 1 if all(is_gray_file(str(a)) for a, _ in both) else 3
        size = int(read_crop(both[0][0], channels).shape[1])
        align = asked_alignment(args, size=size)
        job = ShardJob(hist, channels)
        data = f"{args.source} -> {args.target}"
        if args.to:
            model.info["target"] = normalize_expression(args.to)
            model.info["source"] = normalize_expression(args.from_)
    from dataclasses import replace

    from ..imageio import max_pixels

    job = replace(job, max_pixels=max_pixels())
    runner = make_runner(args.jobs, args.dask)
    try:
        # about two shards per worker: each shard's sums are the size of the statistics
        # (Pixel-KR at 192 px: 450 MB of histograms), so fewer, larger shards move less
        size = max(64, -(-len(pairs) // (2 * runner.workers)))
        total = sum_shards(pairs, job, runner, shard_size=size, progress=not args.quiet)
    finally:
        runner.close()
    if total.failed and args.data is None:
        raise CropError("some crops could not be read:", sorted(set(total.failed)))
    if total.failed:
        warnings.warn(f"{len(set(total.failed))} image(s) without a usable face were left out: "
                      + "; ".join(f"{p}: {r.split(';')[0]}" for p, r in sorted(set(total.failed))[:10]),
                      FailedImageWarning, stacklevel=2)
    if total.sums is None:
        raise ValueError(f"no pair of {data} could be used")
    summary: dict[str, Any] = {"pairs": total.sums.n, "image_shape": list(total.sums.image_shape)}
    if args.data is not None:
        summary["people"] = len(set(total.identities))
    summary["data"] = data
    model.info["training"] = summary
    model.fit_stats(total.sums.to_stats(), alignment=align)
    return model, total.sums.n
