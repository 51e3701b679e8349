"""The action-unit basis shipped with pixelfes: each FACS unit's 3D motion of the 68 landmarks.

Built from the ICT Face Model Light (MIT) by ``scripts/build_action_units.py``; provenance
and the FACS -> ICT shape correspondence are in ``pixelfes/assets/ict/README.md``. Unit
keys are ``"AU<n>"`` (both sides) or ``"AU<n>L"``/``"AU<n>R"`` (the person's own left or
right side only). Coordinates are ICT's: centimetres, x to the image's right of a frontal
face, y up, z towards the viewer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["ActionUnitBasis", "UnitSpec", "load_basis", "parse_units"]


@dataclass(frozen=True, eq=False)
class ActionUnitBasis:
    """The shipped asset: unit keys and their 3D landmark motion, the neutral mean shape."""

    units: tuple[str, ...]
    numbers: np.ndarray = field(repr=False)  # (U,) int FACS number per unit key
    names: tuple[str, ...] = field(repr=False)  # FACS name per unit key
    sides: tuple[str, ...] = field(repr=False)  # "both", "L" or "R"
    recipe: tuple[str, ...] = field(repr=False)  # the ICT shapes each unit is made of
    motion: np.ndarray = field(repr=False)  # (U, 68, 3) float64, cm at intensity 1
    mean_shape: np.ndarray = field(repr=False)  # (68, 3) float64 neutral landmarks
    identity: np.ndarray = field(repr=False)  # (K, 68, 3) identity modes' landmark motion
    shading: np.ndarray = field(repr=False)  # (S, 192, 192) float32 relative luminance change
    shading_units: tuple[str, ...] = field(repr=False)
    shading_reference: np.ndarray = field(repr=False)  # (68, 2) mean landmarks on that canvas

    def index(self, key: str) -> int:
        """Row of unit ``key`` (canonical, e.g. ``"AU12L"``) in :attr:`motion`."""
        return self.units.index(key)

    def weights_vector(self, weights: Mapping[str, float]) -> np.ndarray:
        """``(U,)`` intensities from ``{"AU12": 1.0, ...}`` (unknown keys raise ``ValueError``)."""
        w = np.zeros(len(self.units))
        for key, value in weights.items():
            if key not in self.units:
                raise ValueError(f"unknown action unit {key!r}; supported: {', '.join(self.units)}")
            w[self.units.index(key)] += float(value)
        return w

    def motion_3d(self, weights: Mapping[str, float]) -> np.ndarray:
        """``(68, 3)`` combined 3D motion of the landmarks for unit intensities ``weights``."""
        return np.tensordot(self.weights_vector(weights), self.motion, axes=1)

    def bilateral(self) -> tuple[str, ...]:
        """The keys acting on both sides (one per FACS number, sideways AU30 excepted)."""
        return tuple(u for u, s in zip(self.units, self.sides, strict=True) if s == "both")


@dataclass(frozen=True)
class UnitSpec:
    """One row of the table of supported units (for ``pixelfes models`` and ``--help``)."""

    key: str
    number: int
    name: str
    sides: str
    recipe: str


@functools.lru_cache(maxsize=1)
def load_basis() -> ActionUnitBasis:
    """The shipped basis (read once; about 100 kB)."""
    ref = resources.files("pixelfes") / "assets" / "ict" / "action_units.npz"
    with ref.open("rb") as fh, np.load(fh) as d:
        return ActionUnitBasis(
            units=tuple(str(u) for u in d["units"]),
            numbers=d["numbers"].astype(np.int64),
            names=tuple(str(n) for n in d["names"]),
            sides=tuple(str(s) for s in d["sides"]),
            recipe=tuple(str(r) for r in d["recipe"]),
            motion=d["motion"].astype(np.float64),
            mean_shape=d["mean_shape"].astype(np.float64),
            identity=d["identity"].astype(np.float64),
            shading=d["shading"].astype(np.float32),
            shading_units=tuple(str(u) for u in d["shading_units"]),
            shading_reference=d["shading_reference"].astype(np.float64),
        )


def unit_table() -> list[UnitSpec]:
    """Every supported FACS unit once, with the sides it has and its ICT shapes."""
    b = load_basis()
    first: dict[int, tuple[str, str]] = {}
    sides: dict[int, list[str]] = {}
    for num, name, side, rec in zip(b.numbers, b.names, b.sides, b.recipe, strict=True):
        n = int(num)
        first.setdefault(n, (name, rec))
        sides.setdefault(n, []).append(side)
    return [UnitSpec(f"AU{n}", n, first[n][0], ", ".join(sides[n]), first[n][1])
            for n in sorted(first)]


def units_help() -> str:
    """One line listing the supported units, for ``--help`` texts."""
    def note(sides: str) -> str:
        return {"both": "", "both, L, R": " (+L/R)"}.get(sides, f" ({sides} only)")

    return ", ".join(f"{r.number} {r.name}{note(r.sides)}" for r in unit_table())


_KEY = re.compile(r"^(?:au)?(\d+)([lr]?)$", re.IGNORECASE)


def canonical_unit(key: object) -> str:
    """``12``, ``"12"``, ``"au12"``, ``"AU12L"`` -> the basis key (``"AU12"``, ``"AU12L"``)."""
    m = _KEY.match(str(key).strip())
    b = load_basis()
    if not m:
        raise ValueError(f"action unit {key!r} is not a FACS number like 12, 12L or AU12R")
    out = f"AU{int(m.group(1))}{m.group(2).upper()}"
    if out not in b.units:
        raise ValueError(f"action unit {key!r} is not supported; supported: {units_help()}")
    return out


def parse_units(spec: str | Mapping[object, float] | None) -> dict[str, float]:
    """Unit intensities from ``"1=0.8,2=0.8,26=0.5"`` or ``{1: 0.8, "12L": 0.5}``.

    Intensity 1 is the ICT shape at full activation (README of the asset); negative values
    undo a unit (used by ``--to neutral``). Raises ``ValueError`` naming the bad item.
    """
    if spec is None:
        return {}
    items: list[tuple[Any, Any]]
    if isinstance(spec, str):
        items = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            if "=" not in part:
                raise ValueError(f"--au item {part!r} must look like 12=0.8 (unit=intensity)")
            k, v = part.split("=", 1)
            items.append((k, v))
    else:
        items = list(spec.items())
    out: dict[str, float] = {}
    for k, v in items:
        try:
            value = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"intensity of action unit {k!r} must be a number; got {v!r}") from None
        if not np.isfinite(value) or abs(value) > 3:
            raise ValueError(f"intensity of action unit {k!r} must be within [-3, 3]; got {value}")
        key = canonical_unit(k)
        out[key] = out.get(key, 0.0) + value
    return out
