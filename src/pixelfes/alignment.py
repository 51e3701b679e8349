"""How a model's crops were aligned: one value, one default, carried from data to model file.

A pixel model reads one fixed input pixel per output pixel, so a model is only valid on
crops aligned exactly as its training crops were: the same canvas ``size`` (pixels), the
same ``margin`` (canvas side / face-frame side; 1 = the paper's 128 px framing, 1.5 adds
chin and forehead) and the same ``template`` (which landmarks are pinned where).
:data:`DEFAULT_ALIGNMENT` is the single default of the whole package; aligned pairs carry
their alignment, ``fit`` stores it as ``model.alignment_``, model files keep it, and the
photo pipeline refuses a model that does not know its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

DEFAULT_TEMPLATE_ID = "pixelfes-eyes-nose-v1"


@dataclass(frozen=True)
class Alignment:
    """Canvas ``size`` (px), ``margin`` (canvas / face frame) and ``template`` id of crops."""

    size: int = 192
    margin: float = 1.5
    template: str = DEFAULT_TEMPLATE_ID

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 8:
            raise ValueError(f"alignment size must be an integer >= 8 (crop side in pixels); "
                             f"got {self.size!r}")
        if isinstance(self.margin, bool) or not isinstance(self.margin, int | float) \
                or not math.isfinite(self.margin) or self.margin <= 0:
            raise ValueError(f"alignment margin must be a positive number (1 = the paper's "
                             f"framing); got {self.margin!r}")
        if not isinstance(self.template, str) or not self.template:
            raise ValueError(f"alignment template must be a template id; got {self.template!r}")
        object.__setattr__(self, "margin", float(self.margin))

    def with_size(self, size: int) -> Alignment:
        """The same framing on a canvas of ``size`` pixels."""
        return replace(self, size=int(size))

    def as_dict(self) -> dict[str, Any]:
        """JSON form, as stored in model files and manifests."""
        return {"size": self.size, "margin": self.margin, "template": self.template}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alignment:
        """Read the JSON form back; raises ``ValueError`` naming a missing or bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"alignment must be a mapping with size, margin and template; "
                             f"got {type(data).__name__}")
        missing = [k for k in ("size", "margin", "template") if k not in data]
        if missing:
            raise ValueError(f"alignment lacks {', '.join(missing)}")
        size = data["size"]
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        return cls(size=size, margin=data["margin"], template=data["template"])

    def __str__(self) -> str:
        return f"{self.size} px canvas, margin {self.margin:g}, template {self.template}"


DEFAULT_ALIGNMENT = Alignment()

__all__ = ["DEFAULT_ALIGNMENT", "DEFAULT_TEMPLATE_ID", "Alignment"]
