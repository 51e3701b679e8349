"""``pixelfes info``: what a model file holds."""

from __future__ import annotations

import argparse
import json
import math


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print a model file's metadata and parameter count",
                       description="Print a model file's metadata (JSON) and its parameter count.",
                       epilog="example:\n  pixelfes info happy.safetensors",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file (.safetensors) or a name from `pixelfes models`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from safetensors import safe_open

    from ..modelfile import load_model, read_metadata
    from ..zoo import model_path

    path = model_path(args.model)
    meta = read_metadata(path)
    model = load_model(path)  # verifies the checksum and that the model can be built
    # the alignment in force (version-1 files record it in info)
    meta["alignment"] = None if model.alignment_ is None else model.alignment_.as_dict()
    with safe_open(str(path), framework="numpy") as f:
        shapes = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
    n_params = sum(math.prod(s) for s in shapes.values())
    meta.pop("sha256", None)
    meta.update(path=str(path), parameters=n_params, bytes=path.stat().st_size, tensors=shapes)
    print(json.dumps(meta, indent=2))
    return 0
