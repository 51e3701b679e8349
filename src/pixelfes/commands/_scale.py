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
        g.add_argument("--chunk", type=int, default=8, metavar="N",
                       help="photos per task (default 8); the manifest is saved after each")
        g.add_argument("--manifest", default=None, metavar="FILE",
                       help="the run's record (default OUTPUT/pixelfes-manifest.jsonl); a rerun "
                       "with the same arguments skips what it lists as done")


def wants_batch(args: argparse.Namespace) -> bool:
    """Whether the options ask for the resumable batch path (any of the scaling options)."""
    return bool(args.dask or args.jobs is not None or getattr(args, "manifest", None))
