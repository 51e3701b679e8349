"""Where models live: the ones bundled in the package and the user's own model folder.

A model is found by name (its file name without ``.safetensors``), by path, or by
direction: ``find_model("neutral", "sad")`` returns the user's own model for that
direction if there is one, else the bundled default. The user folder follows the
platform's convention (``$XDG_DATA_HOME/pixelfes/models`` or
``~/.local/share/pixelfes/models`` on Linux, ``~/Library/Application
Support/pixelfes/models`` on macOS, ``%LOCALAPPDATA%\\pixelfes\\models`` on Windows)
and can be moved with ``$PIXELFES_MODELS``.

A file in the user folder that is not a valid model (damaged, malformed metadata,
tensors that do not fit) is skipped with one :class:`ModelFileWarning`; everything else
keeps working. Installing never replaces a model, nor hides a bundled one, unless asked.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._atomic import atomic_path, remove_stale_temps
from .modelfile import ModelFileError, load_model, read_metadata

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
SUFFIX = ".safetensors"
# Preference when several models share a direction: the main engine first.
_TYPE_ORDER = {"shape-texture": 0, "pixel-rr": 1, "pixel-kr": 2, "mr": 3, "rr": 4}


class ModelNotFoundError(LookupError):
    """No model for a name or direction; the message says how to get one."""


class ModelExistsError(ValueError):
    """Installing would replace a model of the same name, or hide a bundled one."""


class ModelFileWarning(UserWarning):
    """A file in the model folder is not a usable model and was skipped."""


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_model_name(name: str) -> str:
    """A model name is a plain file name: letters, digits, ``.``, ``_``, ``-``; no folders."""
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)]
    if not (isinstance(name, str) and _PLAIN_NAME.fullmatch(name)) or ".." in name:
        raise ValueError(f"model name {name!r} is not a plain name: use letters, digits, '.', "
                         "'_' and '-' (at most 100, no folders, no '..'), e.g. my-happy")
    return name


def user_model_dir() -> Path:
    """The per-user model folder (not created here)."""
    env = os.environ.get("PIXELFES_MODELS")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "pixelfes" / "models"


@dataclass(frozen=True)
class ModelEntry:
    """One model file and what its metadata says about it."""

    name: str
    path: Path
    bundled: bool
    meta: dict[str, Any]

    @property
    def source(self) -> str | None:
        return (self.meta.get("info") or {}).get("source")

    @property
    def target(self) -> str | None:
        return (self.meta.get("info") or {}).get("target")

    @property
    def model_type(self) -> str:
        return str(self.meta.get("model_type"))

    @property
    def training(self) -> dict[str, Any]:
        return (self.meta.get("info") or {}).get("training") or {}

    @property
    def default(self) -> bool:
        """Whether this model is its direction's default (bundled models say so in metadata)."""
        return bool((self.meta.get("info") or {}).get("default"))


@functools.lru_cache(maxsize=256)
def _verified(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    """Metadata of a user model after a full load (checksum, tensors); cached per file version."""
    load_model(path)
    return read_metadata(path)


def _entries(folder: Path, bundled: bool) -> list[ModelEntry]:
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue  # hidden: a temporary file of a write in progress
        try:
            if bundled:
                meta = read_metadata(path)
            else:
                st = path.stat()
                meta = _verified(str(path), st.st_mtime_ns, st.st_size)
        except (ModelFileError, OSError) as exc:
            text = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
            warnings.warn(f"skipped a model file that cannot be used: {text}", ModelFileWarning,
                          stacklevel=3)
            continue
        out.append(ModelEntry(path.name[: -len(SUFFIX)], path, bundled, meta))
    return out


def bundled_names() -> set[str]:
    """Names of the models shipped with pixelfes."""
    return {p.name[: -len(SUFFIX)] for p in BUNDLED_DIR.glob(f"*{SUFFIX}")}


def list_models() -> list[ModelEntry]:
    """Every model the user can use: their own first, then the bundled ones."""
    return _entries(user_model_dir(), False) + _entries(BUNDLED_DIR, True)


def _rank(entry: ModelEntry) -> tuple[int, int, int]:
    return (0 if not entry.bundled else 1, 0 if entry.default else 1,
            _TYPE_ORDER.get(entry.model_type, 9))


def find_model(source: str, target: str, name: str | None = None) -> ModelEntry:
    """The model to use for ``source -> target`` (or the one called ``name``)."""
    models = list_models()
    if name is not None:
        return _named(name, models)
    fits = [e for e in models if e.source == source and e.target == target]
    if not fits:
        have = sorted({f"{e.source}->{e.target}" for e in models})
        raise ModelNotFoundError(
            f"no model for {source} -> {target} (models here: {', '.join(have) or 'none'}).\n"
            f"Train one from a data set you hold and add it to your model folder:\n"
            f"  pixelfes train --model shape-texture --data DATASET_DIR --from {source} "
            f"--to {target} --install"
        )
    return min(fits, key=_rank)


def _named(name: str, models: list[ModelEntry]) -> ModelEntry:
    path = Path(name).expanduser()
    if path.is_dir():
        raise ModelNotFoundError(f"{path} is a folder, not a model file (.safetensors)")
    if name.endswith(SUFFIX) or "/" in name or os.sep in name or path.is_file():
        if not path.is_file():
            raise ModelNotFoundError(f"model file {path} does not exist")
        return ModelEntry(path.stem, path, False, read_metadata(path))
    for entry in models:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in models) or "none"
    raise ModelNotFoundError(f"no model called {name!r}; known models: {known} "
                             "(see `pixelfes models`)")


def model_path(name: str | os.PathLike[str]) -> Path:
    """The file of a model given by path or by a name that ``pixelfes models`` lists."""
    return _named(os.fspath(name), list_models()).path


def default_model_name(meta: dict[str, Any]) -> str:
    """``SOURCE-to-TARGET-TYPE`` from a model's metadata, as a plain name."""
    info = meta.get("info") or {}
    name = f"{info.get('source') or 'any'}-to-{info.get('target') or 'any'}-{meta['model_type']}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")[:100] or "model"


def install_model(path: str | Path, name: str | None = None, overwrite: bool = False) -> Path:
    """Copy a model file into the user's model folder (atomically); returns the new path.

    The file is fully checked first (metadata, checksum, tensors). ``name`` must be a
    plain name (:func:`check_model_name`). Without ``overwrite`` an existing model of that
    name is never replaced and a bundled model's name is refused (yours would hide it):
    :class:`ModelExistsError`. Safe against concurrent installs of the same name.
    """
    src = Path(path)
    if name is not None:
        name = check_model_name(name)
    meta = read_metadata(src)
    load_model(src)  # refuse damaged or malformed files before they reach the folder
    if name is None:
        name = default_model_name(meta)
    folder = user_model_dir()
    dest = folder / f"{name}{SUFFIX}"
    if not overwrite:
        if dest.exists():
            raise ModelExistsError(f"a model called {name!r} is already in your model folder "
                                   f"({dest}); choose another --name, or add --overwrite to "
                                   "replace it")
        if name in bundled_names():
            raise ModelExistsError(f"{name!r} is the name of a bundled model; yours would hide "
                                   "it. Choose another --name, or add --overwrite to hide it")
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)
    import shutil  # only to add a model: not imported by a cold start

    try:
        with atomic_path(dest, suffix=".tmp", replace=overwrite) as tmp:
            shutil.copyfile(src, tmp)
    except FileExistsError:
        raise ModelExistsError(f"a model called {name!r} was just added to your model folder "
                               f"by another process ({dest}); add --overwrite to replace it") from None
    return dest
