"""The mouth bank's retrieval cost (used by the action-unit mouths too), pinned against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes.mouth import load_bank
from pixelfes.mouth.colour import PersonColours, lab


def colours_of(rgb):
    return PersonColours(skin=np.array(rgb, np.uint8), lips=np.array(rgb, np.uint8))


def test_retrieve_cost_matches_a_plain_loop_and_honours_allowed():
    bank = load_bank()
    fp = bank.frame_points()
    outer = fp[5, :12] + 0.02
    c = colours_of((170, 120, 100))
    ref = np.array([float(np.sum((fp[i, :12] - outer) ** 2)) / 0.06**2
                    + float(np.sum((lab(bank.skin[i]).astype(np.float64) - c.skin_lab) ** 2)) / 8.0**2
                    for i in range(len(bank))])
    assert np.allclose(bank.retrieval_cost(outer, c), ref)
    assert bank.retrieve(outer, c) == int(np.argmin(ref))
    mask = np.zeros(len(bank), bool)
    mask[[3, 9]] = True
    assert bank.retrieve(outer, c, allowed=mask) == [3, 9][int(np.argmin(ref[[3, 9]]))]
    assert bank.retrieve(outer, c, allowed=np.zeros(len(bank), bool)) == int(np.argmin(ref))
    with pytest.raises(ValueError, match="allowed"):
        bank.retrieve(outer, c, allowed=mask[:3])


def test_retrieve_still_gives_teeth_not_painted_on_smiles():
    """The action-unit mouths keep every toothy exemplar: only a smile's teeth are lent apart."""
    from pixelfes.mouth.bank import NOT_PAINTED

    bank = load_bank()
    fp = bank.frame_points()
    outer = fp[5, :12] + 0.02
    c = colours_of((170, 120, 100))
    ref = bank.retrieval_cost(outer, c)
    assert bank.ids[int(np.argmin(ref))] == "012" in NOT_PAINTED and bank.retrieve(outer, c) == 4
    mask = np.zeros(len(bank), bool)
    mask[[3, 4, 9]] = True
    assert bank.retrieve(outer, c, allowed=mask) == 4
