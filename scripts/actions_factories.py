"""Engine factories for scripts/mouth_eval.py and scripts/blind_pairs.py: the action units.

Run (scripts/ on the path so this module imports):
    PYTHONPATH=src:scripts python scripts/mouth_eval.py \\
        --model-factory actions=actions_factories:actions --json /tmp/au/mouth_actions.json
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src:scripts python scripts/blind_pairs.py versus \\
        --factory actions_factories:au_seam --against actions_factories:au_crease --people 46 \\
        --directions happy:neutral --seed 17 -o /tmp/ab/pairs --key /tmp/ab-key/key.json

``actions``: the expression's recipe for neutral -> X, the removal of the estimated actions for
X -> neutral, changing the photo at its own resolution as `pixelfes synthesize` does; the units
ignore the training people, but a mouth that closes meets on the crease goal of a mouth bank of
the fold's training people only (the bundled bank holds everyone). ``au_seam``: the same closing
on ``close_mouth``'s faint seam (as before the crease). ``top_canvas`` / ``top_native``: ``--to
happy --au 1=0.5`` with the shape + texture model trained on the fold's people, on the learned
model's canvas path (its crop pasted back, then the units) / on the native engine (the fold's
mouth bank) then the units on the photo. docs/actions.md, "The crease where the action-unit
closing meets" and "`--au` on top of the native engine".
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from pixelfes.pipeline import resolve_model, synthesize_rgb


def _with_bank(model: Any, bank: Any) -> Any:
    """``engine(rgb, faces, strength)``: ``model`` on the photo, ``bank`` the one the closing reads."""

    def engine(rgb: Any, faces: Any, strength: float) -> Any:
        with mock.patch("pixelfes.native.load_bank", return_value=bank):
            return synthesize_rgb(rgb, model, strength, faces=faces)

    return engine


def actions(fold: Any) -> Any:
    """The action-unit engine for the fold's direction, closing on the fold bank's crease."""
    from pixelfes.evaluate.engines import fold_bank

    return _with_bank(resolve_model(None, fold.source, fold.target, engine="actions"), fold_bank(fold))


au_crease = actions


def au_seam(fold: Any) -> Any:
    """The action-unit engine, its closing on close_mouth's faint seam (no crease goal)."""
    from pixelfes.mouth import close_mouth

    model = resolve_model(None, fold.source, fold.target, engine="actions")

    def seam(image: Any, lips: Any, colours: Any, bank: Any = None) -> Any:
        return close_mouth(image, lips, colours)

    def engine(rgb: Any, faces: Any, strength: float) -> Any:
        with mock.patch("pixelfes.native.close_on_crease", seam):
            return synthesize_rgb(rgb, model, strength, faces=faces)

    return engine


def actions_192(fold: Any) -> Any:
    """The same on the 192 px canvas of the learned models (for the resolution's effect)."""
    from pixelfes.actions import ActionUnitModel

    target = fold.target if fold.source == "neutral" else "neutral"
    return ActionUnitModel(target).fit()


#: the units top_canvas and top_native add to the learned smile
TOP_AU = "1=0.5"


def _top(fold: Any) -> tuple[Any, Any]:
    from pixelfes.actions.model import ActionUnitModel
    from pixelfes.evaluate.engines import _model

    model = _model(fold)  # shape + texture trained on the fold's people (as the native factory)
    return model, ActionUnitModel(au=TOP_AU).fit(alignment=model.alignment_)


def top_canvas(fold: Any) -> Any:
    """``--to happy --au 1=0.5`` as before: the learned model's crop pasted back, then the units."""
    from pixelfes.actions.model import ActionsOnTop

    model = ActionsOnTop(*_top(fold))
    return lambda rgb, faces, strength: synthesize_rgb(rgb, model, strength, faces=faces)


def top_native(fold: Any) -> Any:
    """``--to happy --au 1=0.5`` now: the native engine (the fold's mouth bank), then the units."""
    from pixelfes.actions.model import NativeActionsOnTop
    from pixelfes.evaluate.engines import fold_bank

    return _with_bank(NativeActionsOnTop(*_top(fold)), fold_bank(fold))
