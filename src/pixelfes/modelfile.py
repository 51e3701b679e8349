"""Safe, versioned model files: safetensors tensors + JSON metadata, never pickle.

Metadata (one JSON string under the key ``pixelfes``) holds the file format version,
the package version, the model type and parameters, learned scalars (image shape, ...),
the crops' ``alignment`` (size, margin, template; null when unknown), the model's
``info`` (source/target expression, training-set summary) and a SHA-256 of every tensor,
checked on load so a damaged file is refused. Version 1 files (before the alignment
field) are read with the alignment their ``info`` recorded.
Writes go to a temporary file in the same folder and are renamed into place.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._atomic import atomic_path
from ._version import __version__
from .alignment import Alignment

if TYPE_CHECKING:
    from .models.base import ExpressionModel

FORMAT_NAME = "pixelfes-model"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)  # 1: alignment only in info (pixelfes 0.1.0 before it was a field)
_PRECISIONS = {"float64": np.float64, "float32": np.float32, "float16": np.float16}


class ModelFileError(ValueError):
    """A model file is missing, truncated, tampered with or of an unsupported version."""


def _digest(tensors: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def save_model(model: ExpressionModel, path: str | Path, precision: str = "float32") -> Path:
    """Write ``model`` to ``path`` (safetensors), atomically. Returns the path.

    ``precision`` ("float64", "float32", "float16") is the dtype of floating tensors.
    """
    from safetensors.numpy import save_file

    if precision not in _PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(_PRECISIONS)}; got {precision!r}")
    model._check_fitted()
    dtype = _PRECISIONS[precision]
    tensors = {
        name: np.ascontiguousarray(
            arr.astype(dtype) if np.issubdtype(np.asarray(arr).dtype, np.floating) else arr
        )
        for name, arr in model._state().items()
    }
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "pixelfes_version": __version__,
        "model_type": model.model_type,
        "params": model.get_params(),
        "learned": model._learned_meta(),
        "alignment": None if model.alignment_ is None else model.alignment_.as_dict(),
        "info": model.info,
        "precision": precision,
        "sha256": _digest(tensors),
    }
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"folder {path.parent} does not exist; create it first")
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"pixelfes": json.dumps(meta, default=_json_default)})
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in model metadata")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a model file, checked for format and version (tensors not read)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    try:
        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get("pixelfes")
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(
            f"{path} is not a readable safetensors model file (truncated or corrupt?): {exc}"
        ) from exc
    if raw is None:
        raise ModelFileError(f"{path} is a safetensors file but not a pixelfes model (no metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path} has corrupt pixelfes metadata: {exc}") from exc
    if meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a pixelfes model file (format {meta.get('format')!r})")
    version = meta.get("format_version")
    if version not in _READABLE_VERSIONS:
        raise ModelFileError(
            f"{path} has model-file format version {version!r} (written by pixelfes "
            f"{meta.get('pixelfes_version')}); this pixelfes reads versions "
            f"{', '.join(map(str, _READABLE_VERSIONS))}"
        )
    return meta


def alignment_from_meta(meta: dict[str, Any], path: str | Path = "model") -> Alignment | None:
    """The crops' alignment a model file records (None when its crops' alignment is unknown)."""
    if meta.get("format_version") == 1:
        raw = (meta.get("info") or {}).get("alignment") if isinstance(meta.get("info"), dict) else None
    else:
        raw = meta.get("alignment")
    if raw is None:
        return None
    try:
        return Alignment.from_dict(raw)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: bad alignment field: {exc}") from exc


def load_model(path: str | Path, alignment: Alignment | None = None) -> ExpressionModel:
    """Read a model written by ``save_model``; raises ``ModelFileError`` on any problem.

    ``alignment`` sets how the model's crops were aligned for a file that does not
    record it (or overrides what it records); it must match the model's crop size.
    """
    from safetensors.numpy import load_file

    from .models import model_class

    path = Path(path)
    meta = read_metadata(path)
    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise ModelFileError(f"{path} is truncated or corrupt: {exc}") from exc
    if _digest(tensors) != meta.get("sha256"):
        raise ModelFileError(f"{path} failed its checksum: the tensors were modified or damaged")
    try:
        cls = model_class(meta["model_type"])
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    model = cls(**meta["params"])
    model.info = meta.get("info") or {}
    model._set_state(tensors, meta["learned"])
    from .models.base import fit_alignment

    chosen = alignment_from_meta(meta, path) if alignment is None else alignment
    try:
        model.alignment_ = None if chosen is None else fit_alignment(chosen, model.image_shape_)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    return model
