"""Which models an evaluation runs: ``ModelSpec`` parsed from ``TYPE:KEY=VALUE,...`` text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Column labels of the model types (the paper's names where it has them).
MODEL_LABELS: dict[str, str] = {
    "rr": "RR",
    "mr": "MR",
    "pixel-rr": "Pixel-RR",
    "pixel-kr": "Pixel-KR",
    "shape-texture": "Shape+texture",
}
#: Reference methods scored next to every model, in table order.
BASELINES: tuple[str, ...] = ("input", "mean target", "real target")


class EvaluationError(ValueError):
    """The evaluation was asked for something it cannot do (bad split, missing landmarks...)."""


@dataclass(frozen=True)
class ModelSpec:
    """One model column: a registered model type, its parameters, and its label.

    ``factory`` (optional) builds the unfitted model instead of ``make_model`` (tests use
    it to inject instrumented models).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    factory: Callable[[], Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.label:
            base = MODEL_LABELS.get(self.name, self.name)
            extra = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in self.params.items())
            object.__setattr__(self, "label", f"{base} ({extra})" if extra else base)

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """``"pixel-kr"`` or ``"pixel-kr:sigma=3,lam=0.4"`` -> a spec (numbers parsed)."""
        name, _, rest = text.strip().partition(":")
        params: dict[str, Any] = {}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise EvaluationError(f"model parameter {item!r} in {text!r} must be KEY=VALUE")
            try:
                num = float(value)
                params[key.strip()] = int(num) if num.is_integer() and "." not in value else num
            except ValueError:
                params[key.strip()] = value.strip()
        return cls(name.strip(), params)

    def build(self) -> Any:
        """A new unfitted model."""
        if self.factory is not None:
            return self.factory()
        from pixelfes.models import make_model

        return make_model(self.name, **self.params)
