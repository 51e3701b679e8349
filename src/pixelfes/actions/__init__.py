"""Facial action units from a licence-clean 3D face model (ICT Face Model Light, MIT).

Expressions with no training: each FACS unit's 3D motion of the 68 landmarks, placed in a
face with its own pose, warps the face; folds are shaded and an opening mouth gets an
interior. Also the reverse: a face's unit intensities from its landmarks.

>>> from pixelfes.actions import ActionUnitModel
>>> model = ActionUnitModel("surprised").fit()          # reads the shipped basis
>>> out = model.predict(crops, landmarks=landmarks)     # (N, 192, 192, 3) aligned crops
"""

from __future__ import annotations

from .analysis import ANALYSIS_UNITS, UnitEstimate, estimate_units
from .basis import ActionUnitBasis, load_basis, parse_units, unit_table, units_help
from .model import ActionsOnTop, ActionUnitModel
from .pose import Pose, fit_pose, pose_from_angles
from .recipes import RECIPES, Recipe, recipe_for

__all__ = [
    "ANALYSIS_UNITS",
    "ActionUnitBasis",
    "ActionUnitModel",
    "ActionsOnTop",
    "Pose",
    "RECIPES",
    "Recipe",
    "UnitEstimate",
    "estimate_units",
    "fit_pose",
    "load_basis",
    "parse_units",
    "pose_from_angles",
    "recipe_for",
    "unit_table",
    "units_help",
]
