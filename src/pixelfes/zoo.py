"""Where models live: the ones bundled in the package and the user's own model folder.

A model is found by name (its file name without ``.safetensors``), by path, or by
direction: ``find_model("neutral", "sad")`` returns the user's own model for that
direction if there is one, else the bundled default. The user folder follows the
platform's convention (``$XDG_DATA_HOME/pixelfes/models`` or
``~/.local/share/pixelfes/models`` on Linux, ``~/Library/Application
Support/pixelfes/models`` on macOS, ``%LOCALAPPDATA%\\pixelfes\\models`` on Windows)
and can be moved with ``$PIXELFES_MODELS``.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .modelfile import read_metadata

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
SUFFIX = ".safetensors"
# Preference when several models share a direction: the main engine first.
_TYPE_ORDER = {"shape-texture": 0, "pixel-rr": 1, "pixel-kr": 2, "mr": 3, "rr": 4}


class ModelNotFoundError(LookupError):
    """No model for a name or direction; the message says how to get one."""


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


def _entries(folder: Path, bundled: bool) -> list[ModelEntry]:
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        try:
            meta = read_metadata(path)
        except ValueError:
            continue  # not a readable pixelfes model: `pixelfes info FILE` says why
        out.append(ModelEntry(path.name[: -len(SUFFIX)], path, bundled, meta))
    return out


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
        if name.endswith(SUFFIX) or os.sep in name or Path(name).is_file():
            path = Path(name).expanduser()
            if not path.is_file():
                raise ModelNotFoundError(f"model file {path} does not exist")
            return ModelEntry(path.stem, path, False, read_metadata(path))
        for entry in models:
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in models) or "none"
        raise ModelNotFoundError(f"no model called {name!r}; known models: {known} "
                                 "(see `pixelfes models`)")
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


def install_model(path: str | Path, name: str | None = None) -> Path:
    """Copy a model file into the user's model folder (atomically); returns the new path."""
    src = Path(path)
    meta = read_metadata(src)  # refuse files that are not pixelfes models
    info = meta.get("info") or {}
    if name is None:
        name = f"{info.get('source') or 'any'}-to-{info.get('target') or 'any'}-{meta['model_type']}"
    folder = user_model_dir()
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{name}{SUFFIX}"
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    return dest
