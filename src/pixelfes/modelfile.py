"""Safe, versioned model files: safetensors tensors + JSON metadata, never pickle.

Metadata (one JSON string under the key ``pixelfes``) holds the file format version,
the package version, the model type and parameters, learned scalars (image shape, ...),
the crops' ``alignment`` (size, margin, template; null when unknown), the model's
``info`` (source/target expression, training-set summary) and a SHA-256 of every tensor.
Version 1 files (before the alignment field) are read with the alignment their ``info``
recorded. Every field is checked by one function, :func:`validate_metadata`, used by
every reader (``load``, ``info``, the model folder listing, ``models --add``): a
malformed field is a :class:`ModelFileError` naming the file and the field.

The checksum detects corruption (a truncated download, a flipped bit), not tampering:
anyone who edits a file can recompute it. Load only model files you trust; a model file
never runs code (no pickle), but a crafted one can make ugly pictures.
Writes go to a temporary file in the same folder and are renamed into place.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
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
    """A model file is missing, truncated, corrupt, malformed or of an unsupported version."""


_REQUIRED = ("format", "format_version", "model_type", "params", "learned", "sha256")
_MAX_SIDE = 8192  # no model crop is this large; a bigger image_shape is a damaged file
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _fail(path: Path | str, field: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: bad model file: {field} {problem}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_alignment(value: Any, path: Path | str, field: str) -> None:
    """``{"size": int >= 8, "margin": finite > 0, "template": str}``; each key optional."""
    if not isinstance(value, dict):
        raise _fail(path, field, f"must be a JSON object; got {type(value).__name__}")
    size, margin, template = value.get("size"), value.get("margin"), value.get("template")
    if size is not None and not (_is_int(size) and 8 <= size <= _MAX_SIDE):
        raise _fail(path, f"{field}.size", f"must be a whole number in 8..{_MAX_SIDE}; got {size!r}")
    if margin is not None and not (_is_number(margin) and margin > 0):
        raise _fail(path, f"{field}.margin", f"must be a finite number > 0; got {margin!r}")
    if template is not None and not isinstance(template, str):
        raise _fail(path, f"{field}.template", f"must be a string; got {template!r}")


def _check_params(cls: type, params: dict[str, Any], path: Path | str) -> None:
    """Only the class's parameters, each of the kind its default has (number, string, list)."""
    names = getattr(cls, "_param_names", ())
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise _fail(path, "params", f"has unknown key(s) {', '.join(map(repr, unknown))} for "
                    f"{getattr(cls, 'model_type', cls.__name__)} (known: {', '.join(names) or 'none'})")
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    for key, value in params.items():
        default = defaults.get(key, inspect.Parameter.empty)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif _is_int(default):
            ok = _is_int(value) or (_is_number(value) and float(value).is_integer())
        elif isinstance(default, float):
            ok = _is_number(value)
        elif isinstance(default, str):
            ok = isinstance(value, str)
        elif isinstance(default, tuple | list):
            ok = isinstance(value, list) and all(_is_number(v) or isinstance(v, str) for v in value)
        else:
            ok = value is None or isinstance(value, str | int | float | bool | list)
        if not ok:
            raise _fail(path, f"params.{key}", f"has the wrong type: {value!r}")


def validate_metadata(meta: Any, path: str | Path = "model file") -> dict[str, Any]:
    """Check every field of a model file's metadata; returns it, or raises ModelFileError.

    The only reader of metadata (``read_metadata`` calls it): format and version, model
    type, parameters (known keys, right types), learned values (``image_shape`` of three
    positive ints), ``info`` (an object; source/target strings), the optional
    ``alignment`` (size int >= 8, margin finite > 0, template str), precision, checksum.
    """
    from .models import model_class

    if not isinstance(meta, dict):
        raise _fail(path, "metadata", f"must be a JSON object; got {type(meta).__name__}")
    if meta.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a pixelfes model file (format {meta.get('format')!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or version not in _READABLE_VERSIONS:
        raise ModelFileError(
            f"{path} has model-file format version {version!r} (written by pixelfes "
            f"{meta.get('pixelfes_version')}); this pixelfes reads versions "
            f"{', '.join(map(str, _READABLE_VERSIONS))}"
        )
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise ModelFileError(f"{path}: bad model file: missing field(s) {', '.join(missing)}")
    model_type = meta["model_type"]
    if not isinstance(model_type, str):
        raise _fail(path, "model_type", f"must be a string; got {model_type!r}")
    try:
        cls = model_class(model_type)
    except ValueError as exc:
        raise _fail(path, "model_type", str(exc)) from None
    params = meta["params"]
    if not isinstance(params, dict):
        raise _fail(path, "params", f"must be a JSON object; got {type(params).__name__}")
    _check_params(cls, params, path)
    learned = meta["learned"]
    if not isinstance(learned, dict):
        raise _fail(path, "learned", f"must be a JSON object; got {type(learned).__name__}")
    shape = learned.get("image_shape")
    if not (isinstance(shape, list) and len(shape) == 3 and all(_is_int(v) for v in shape)
            and 1 <= shape[0] <= _MAX_SIDE and 1 <= shape[1] <= _MAX_SIDE and shape[2] in (1, 3)):
        raise _fail(path, "learned.image_shape", "must be [height, width, channels] with sides "
                    f"in 1..{_MAX_SIDE} and 1 or 3 channels; got {shape!r}")
    seen = learned.get("n_samples_seen", 0)
    if not (_is_int(seen) and seen >= 0):
        raise _fail(path, "learned.n_samples_seen", f"must be a whole number >= 0; got {seen!r}")
    info = meta.get("info")
    if info is not None and not isinstance(info, dict):
        raise _fail(path, "info", f"must be a JSON object; got {type(info).__name__}")
    for key in ("source", "target", "template"):
        if info and info.get(key) is not None and not isinstance(info[key], str):
            raise _fail(path, f"info.{key}", f"must be a string; got {info[key]!r}")
    if info and info.get("training") is not None and not isinstance(info["training"], dict):
        raise _fail(path, "info.training", f"must be a JSON object; got {info['training']!r}")
    if info and info.get("alignment") is not None:
        _check_alignment(info["alignment"], path, "info.alignment")
    if meta.get("alignment") is not None:
        _check_alignment(meta["alignment"], path, "alignment")
    precision = meta.get("precision", "float32")
    if not (isinstance(precision, str) and precision in _PRECISIONS):
        raise _fail(path, "precision", f"must be one of {', '.join(_PRECISIONS)}; "
                    f"got {meta.get('precision')!r}")
    if not (isinstance(meta["sha256"], str) and _HEX64.fullmatch(meta["sha256"])):
        raise _fail(path, "sha256", "must be 64 lower-case hex digits")
    pv = meta.get("pixelfes_version")
    if pv is not None and not isinstance(pv, str):
        raise _fail(path, "pixelfes_version", f"must be a string; got {pv!r}")
    return meta


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
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file (.safetensors)")
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    try:
        with safe_open(str(path), framework="numpy") as f:
            raw = (f.metadata() or {}).get("pixelfes")
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ModelFileError(
            f"{path} is not a readable safetensors model file (truncated or corrupt?): {exc}"
        ) from exc
    if raw is None:
        raise ModelFileError(f"{path} is a safetensors file but not a pixelfes model (no metadata)")
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{path} has corrupt pixelfes metadata: {exc}") from exc
    return validate_metadata(meta, path)


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


def load_model(path: str | Path, alignment: Alignment | None = None, *,
               self_test: bool = True) -> ExpressionModel:
    """Read a model written by ``save_model``; raises ``ModelFileError`` on any problem.

    ``alignment`` sets how the model's crops were aligned for a file that does not
    record it (or overrides what it records); it must match the model's crop size.
    ``self_test=False`` skips running the model once on a grey crop (5-10 ms of a cold
    start): for the bundled models, whose checksum ties their tensors to the files the test
    suite runs; the checksum and every other check still apply.
    """
    from safetensors.numpy import load_file

    from .models import model_class

    path = Path(path)
    meta = read_metadata(path)
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ModelFileError(f"{path} is truncated or corrupt: {exc}") from exc
    if _digest(tensors) != meta["sha256"]:
        raise ModelFileError(f"{path} failed its checksum: the tensors are damaged (or were "
                             "changed without updating the checksum)")
    for name, arr in tensors.items():
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise _fail(path, f"tensor {name!r}", "holds NaN or infinite values")
    cls = model_class(meta["model_type"])
    try:
        model = cls(**meta["params"])
        model._validate_params()
    except Exception as exc:  # noqa: BLE001 - a constructor rejecting the file's values
        raise _fail(path, "params", f"are not valid for {meta['model_type']}: {exc}") from None
    from .models.base import fit_alignment

    chosen = alignment_from_meta(meta, path) if alignment is None else alignment
    try:
        model.info = dict(meta.get("info") or {})
        model._set_state(tensors, meta["learned"])
    except KeyError as exc:
        raise _fail(path, "tensors/learned", f"lack {exc} that a {meta['model_type']} model "
                    "needs") from None
    except Exception as exc:  # noqa: BLE001 - whatever the file's values break, it is the file
        raise ModelFileError(f"{path}: bad model file: its tensors do not fit its metadata "
                             f"({type(exc).__name__}: {exc})") from None
    try:
        model.alignment_ = None if chosen is None else fit_alignment(chosen, model.image_shape_)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    try:
        if self_test:
            _self_test(model)
    except Exception as exc:  # noqa: BLE001 - whatever the file's values break, it is the file
        raise ModelFileError(f"{path}: bad model file: its tensors do not fit its metadata "
                             f"({type(exc).__name__}: {exc})") from None
    return model


def _self_test(model: ExpressionModel) -> None:
    """Run the model once on a mid-grey crop: tensors that do not fit the metadata fail here."""
    h, w, c = model.image_shape_
    crop = np.full((1, h, w, c), 128, np.uint8)
    kwargs: dict[str, Any] = {}
    if getattr(model, "requires_landmarks", getattr(model, "uses_landmarks", False)):
        own = getattr(model, "self_test_landmarks", None)  # models without a shape model
        lm = own() if callable(own) else model.shape_model_.mean_src_  # type: ignore[attr-defined]
        kwargs["landmarks"] = np.asarray(lm)[None]
    out = model.predict(crop, **kwargs)
    if out.shape != crop.shape:
        raise ValueError(f"the model gives {out.shape} for a {crop.shape} input")
