"""Which engine changes a face: a learned model where one exists, else the action units.

``resolve(model, source, target, engine=..., au=..., like=...)`` is what
:func:`pixelfes.pipeline.resolve_model` calls when the action units may be involved:

- ``engine="auto"`` (default): a learned model for ``source -> target`` (bundled or the
  user's) wins; without one, ``neutral -> happy|sad|angry|surprised|disgusted|fearful``
  uses the expression's recipe and ``any -> neutral`` removes each face's estimated actions;
- ``engine="learned"``: only a learned model (an error names how to train one);
- ``engine="actions"``: always the recipe (or the removal, for ``--to neutral``).

``au`` (unit intensities) is added: alone (``target=None``), on top of the recipe, or as
an extra step after a learned model. ``like`` (unit intensities estimated on another
face) makes every face take those actions instead of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..alignment import DEFAULT_ALIGNMENT
from ..models.base import ExpressionModel
from .basis import parse_units
from .model import ActionsOnTop, ActionUnitModel, NativeActionsOnTop
from .recipes import RECIPES

__all__ = ["ENGINES", "PHOTO_CANVAS", "resolve"]

ENGINES: tuple[str, ...] = ("auto", "learned", "actions")
# On photos the action units plan their motion on the 192 px aligned canvas of the learned
# models and the native engine, then resample the photo itself once through the composed
# map (pixelfes.native.photo_map, exact over the lips): the canvas only decides, so a finer
# one buys nothing (the fold maps are 192 px themselves) and planning at 384 cost 1 ms more.
PHOTO_CANVAS = 192


def _actions(target: str | None, au: dict[str, float], relative: bool = False) -> ActionUnitModel:
    model = ActionUnitModel(expression=target, au=au or None, relative=relative)
    return model.fit(alignment=DEFAULT_ALIGNMENT.with_size(PHOTO_CANVAS))


def resolve(model: Any, source: str, target: str | None, *, engine: str = "auto",
            au: str | Mapping[Any, float] | None = None,
            like: Mapping[str, float] | None = None,
            learned: Callable[[Any, str, str], ExpressionModel]) -> ExpressionModel:
    """The fitted model for this request (see the module docstring); ``learned`` finds learned ones."""
    from ..zoo import ModelNotFoundError

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    units = parse_units(au)
    if like is not None:
        merged = dict(like)
        for k, v in units.items():
            merged[k] = merged.get(k, 0.0) + v
        return _actions(None, merged, relative=True)
    if target is None:
        if not units:
            raise ValueError("nothing to do: give a target expression (--to) or action units (--au)")
        return _actions(None, units)
    usable = target in RECIPES and source == "neutral" or target == "neutral"
    if engine == "actions" and model is None:
        if not usable:
            raise ValueError(f"the action units make {', '.join(RECIPES)} from neutral and neutral "
                             f"from any expression; not {source} -> {target}")
        return _actions(target, units)
    try:
        base = learned(model, source, target)
    except ModelNotFoundError:
        if engine == "learned" or model is not None or not usable:
            raise
        return _actions(target, units)
    if not units:
        return base
    from ..pipeline import uses_native

    # what runs natively alone (a colour shape + texture model) runs natively under the units too
    on_top = NativeActionsOnTop if uses_native(base) else ActionsOnTop
    return on_top(base, ActionUnitModel(au=units).fit(alignment=base.alignment_))
