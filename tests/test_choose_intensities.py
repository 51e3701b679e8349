"""scripts/choose_intensities.py: the choice rule, with the blind-test people left out."""

from __future__ import annotations

import numpy as np

from conftest import load_script


def _script():
    return load_script("choose_intensities")


def _cands(ci, expr, table):
    """Candidates ``{(upper, lower, share): scores}`` with one P(target) and identity each."""
    k = ci.EXPRESSIONS.index(expr)
    out = {}
    for key, (p, ident) in table.items():
        probs = np.zeros((4, 7))
        probs[:, k] = p
        out[key] = {"faceapi": probs, "fer": probs, "identity": np.full(4, ident)}
    return out


def test_judged_choice_is_the_best_objective_within_budget():
    ci = _script()
    c = _cands(ci, "disgusted", {(1.0, 1.0, 1.0): (0.9, 0.40), (0.6, 1.0, 1.0): (0.5, 0.28),
                                 (1.0, 0.6, 0.5): (0.6, 0.29), (0.4, 0.4, 0.5): (0.1, 0.10)})
    assert ci.choose(c, "disgusted", np.arange(4)) == (1.0, 0.6, 0.5)
    # nothing within the budget: the least identity-changing one
    c = _cands(ci, "disgusted", {(1.0, 1.0, 1.0): (0.9, 0.40), (0.6, 1.0, 1.0): (0.5, 0.35)})
    assert ci.choose(c, "disgusted", np.arange(4)) == (0.6, 1.0, 1.0)


def test_angry_is_chosen_without_the_judges():
    """Angry: the strongest balanced candidate within the budget, whatever the judges say."""
    ci = _script()
    assert "angry" in ci.JUDGE_FREE
    c = _cands(ci, "angry", {(0.4, 1.0, 1.0): (0.9, 0.27), (0.6, 0.6, 1.0): (0.1, 0.28),
                             (0.6, 0.7, 1.0): (0.0, 0.289), (0.7, 0.7, 1.0): (0.5, 0.31)})
    assert ci.choose(c, "angry", np.arange(4)) == (0.6, 0.7, 1.0)


def test_blind_people_are_excluded_by_default():
    ci = _script()
    be = load_script("blind_expressions")
    assert ci.BLIND_PEOPLE == be.BLIND_PEOPLE and len(ci.BLIND_PEOPLE) == 14
