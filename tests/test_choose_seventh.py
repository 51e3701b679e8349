"""The seventh pass's pre-registered rule (scripts/choose_smile.py --rule seventh)."""

from __future__ import annotations

import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def choose_smile():
    return load_script("choose_smile", "choose_smile_under_test")


def _s(fer: float, ident: float, contrast: float = 12.0, tint: float = 8.0) -> dict[str, float]:
    return {"fer.accuracy": fer, "identity.distance": ident, "contrast_error": contrast, "tint_error": tint}


NAMES = ["off", "eyes4", "eyes6", "eyes8"]


def test_the_seventh_candidates_are_the_sixth_engine_with_the_eye_part(choose_smile):
    c = choose_smile.CANDIDATES
    assert c["off"][:8] == c["sixth"] and c["off"][8:] == (0.0, 0.0)
    assert {n: c[n][8:] for n in NAMES[1:]} == {"eyes4": (0.4, 0.3), "eyes6": (0.6, 0.45), "eyes8": (0.8, 0.6)}
    assert all(c[n][:8] == c["sixth"] for n in NAMES)
    assert choose_smile.SEVENTH_IDENTITY_LIMIT == 0.318 and choose_smile.FIFTH_MOUTH_TOLERANCE == 0.25


def test_highest_fer_among_those_under_the_identity_limit_within_the_mouth_tolerances(choose_smile):
    pick = choose_smile.choose_seventh
    inner = {"off": _s(0.50, 0.309), "eyes4": _s(0.60, 0.312), "eyes6": _s(0.70, 0.317),
             "eyes8": _s(0.80, 0.3181)}
    assert pick(inner, NAMES) == "eyes6"  # eyes8 is over 0.318
    inner["eyes6"] = _s(0.70, 0.317, contrast=12.26)  # contrast over off's + 0.25
    assert pick(inner, NAMES) == "eyes4"
    inner["eyes4"] = _s(0.60, 0.312, tint=8.26)  # tint over off's + 0.25
    assert pick(inner, NAMES) == "off"
    inner["eyes4"] = _s(0.60, 0.312, contrast=12.25, tint=8.25)  # at the tolerance: qualifies
    assert pick(inner, NAMES) == "eyes4"
    inner["eyes6"] = _s(0.60, 0.311)  # a tie in fer: the lower identity distance
    assert pick(inner, NAMES) == "eyes6"


def test_none_qualifies_gives_off_even_when_off_is_over_the_limit(choose_smile):
    inner = {n: _s(0.5 + 0.1 * i, 0.320 + 0.005 * i) for i, n in enumerate(NAMES)}
    assert choose_smile.choose_seventh(inner, NAMES) == "off"
    inner["eyes4"] = _s(0.45, 0.310)  # lower fer than off, but off does not qualify
    assert choose_smile.choose_seventh(inner, NAMES) == "eyes4"


def test_the_shipped_smile_has_no_au6_the_nested_choice():
    """4 of the 5 outer folds chose ``off`` (one ``eyes4``): the ship rule keeps AU6 off
    (scripts/choose_smile.py --rule seventh; docs/mouth.md, seventh pass; the eighth pass
    then chose the crease alone, tests/test_choose_eighth.py)."""
    from pixelfes import native

    assert native._SMILE_AU6 == 0.0
