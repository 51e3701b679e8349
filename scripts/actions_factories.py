"""Engine factories for scripts/mouth_eval.py: the action units, trained on nothing.

Run (scripts/ on the path so this module imports):
    PYTHONPATH=src:scripts python scripts/mouth_eval.py \\
        --model-factory actions=actions_factories:actions --json /tmp/au/mouth_actions.json
Every fold gets the same engine (the action units ignore the training people): the
expression's recipe for neutral -> X, the removal of the estimated actions for X -> neutral,
changing the photo at its own resolution as `pixelfes synthesize` does.
"""

from __future__ import annotations

from typing import Any

from pixelfes.pipeline import resolve_model


def actions(fold: Any) -> Any:
    """The action-unit engine for the fold's direction (the fold's people are not used)."""
    return resolve_model(None, fold.source, fold.target, engine="actions")


def actions_192(fold: Any) -> Any:
    """The same on the 192 px canvas of the learned models (for the resolution's effect)."""
    from pixelfes.actions import ActionUnitModel

    target = fold.target if fold.source == "neutral" else "neutral"
    return ActionUnitModel(target).fit()
