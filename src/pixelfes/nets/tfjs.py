"""Reader of TensorFlow.js weight files: a ``*-weights_manifest.json`` and its ``.bin`` shards.

Follows ``decodeWeights`` of ``@tensorflow/tfjs-core`` 4.22 (``io/io_utils.js``): each
manifest group lists its shard files (``paths``, concatenated in order) and its weights
(``name``, ``shape``, ``dtype``, optional ``quantization``); the weights are packed back to
back, little-endian. A quantised weight stores ``uint8``/``uint16`` codes ``q`` decoded as
``q * scale + min`` (computed in double, stored as float32, as tfjs does), or ``float16``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TfjsWeightsError", "read_weights"]

_DTYPES: dict[str, np.dtype[Any]] = {
    "float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1"),
}
_QUANT: dict[str, np.dtype[Any]] = {
    "uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<f2"),
}


class TfjsWeightsError(ValueError):
    """A tfjs manifest or weight shard is missing, malformed or does not match its manifest."""


def _decode(spec: dict[str, Any], buf: bytes, offset: int) -> tuple[np.ndarray, int]:
    name, dtype = spec["name"], spec["dtype"]
    shape = tuple(int(s) for s in spec["shape"])
    size = int(np.prod(shape, dtype=np.int64))
    quant = spec.get("quantization")
    if quant is not None:
        qdt = _QUANT.get(quant.get("dtype"))
        if qdt is None:
            raise TfjsWeightsError(f"weight {name!r}: unknown quantization dtype {quant.get('dtype')!r}")
        stored = qdt
    elif dtype in _DTYPES:
        stored = _DTYPES[dtype]
    else:
        raise TfjsWeightsError(f"weight {name!r}: unsupported dtype {dtype!r}")
    nbytes = size * stored.itemsize
    if offset + nbytes > len(buf):
        raise TfjsWeightsError(f"weight {name!r} runs past the end of the shards ({len(buf)} bytes)")
    raw = np.frombuffer(buf, dtype=stored, count=size, offset=offset)
    if quant is None:
        values = raw.astype(_DTYPES[dtype])
    elif quant["dtype"] == "float16":
        if dtype != "float32":
            raise TfjsWeightsError(f"weight {name!r}: float16 quantization needs dtype float32")
        values = raw.astype(np.float32)
    else:
        decoded = raw.astype(np.float64) * float(quant["scale"]) + float(quant["min"])
        if dtype == "float32":
            values = decoded.astype(np.float32)
        elif dtype == "int32":
            values = np.floor(decoded + 0.5).astype(np.int32)  # JS Math.round
        else:
            raise TfjsWeightsError(f"weight {name!r}: {quant['dtype']} quantization of {dtype!r}")
    return values.reshape(shape), offset + nbytes


def read_weights(manifest: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """All weights of a tfjs manifest by name (shards are found next to the manifest).

    Raises :class:`TfjsWeightsError` on a missing shard, a bad spec or a size mismatch
    (every byte of every group's shards must be used).
    """
    path = Path(manifest)
    try:
        groups = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TfjsWeightsError(f"cannot read the tfjs manifest {path}: {exc}") from exc
    if not isinstance(groups, list):
        raise TfjsWeightsError(f"{path}: a tfjs manifest is a JSON list of weight groups")
    weights: dict[str, np.ndarray] = {}
    for gi, group in enumerate(groups):
        try:
            buf = b"".join((path.parent / p).read_bytes() for p in group["paths"])
        except OSError as exc:
            raise TfjsWeightsError(f"{path}: group {gi}: weight shard missing: {exc}") from exc
        offset = 0
        for spec in group["weights"]:
            weights[spec["name"]], offset = _decode(spec, buf, offset)
        if offset != len(buf):
            raise TfjsWeightsError(
                f"{path}: group {gi} uses {offset} of its {len(buf)} shard bytes; manifest and shards differ")
    return weights
