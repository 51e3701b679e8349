"""scripts/smile_eye_motion.py: the eye aperture and the nasolabial band's lightness."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def eye_motion():
    return load_script("smile_eye_motion", "smile_eye_motion_under_test")


def _face() -> np.ndarray:
    """A plain frontal 68-point layout on a 400 px image (only the points the measures use matter)."""
    lm = np.zeros((68, 2))
    lm[:17] = np.stack([np.linspace(80, 320, 17), 200 + 120 * np.sin(np.linspace(0, np.pi, 17))], 1)
    lm[17:27] = np.stack([np.linspace(110, 290, 10), np.full(10, 130.0)], 1)
    lm[27:31] = np.stack([np.full(4, 200.0), np.linspace(150, 220, 4)], 1)
    lm[31:36] = np.stack([np.linspace(180, 220, 5), np.full(5, 230.0)], 1)
    for first, cx in ((36, 150.0), (42, 250.0)):  # eyes: corners 30 px apart, lids 5 px off the axis
        lm[first:first + 6] = [(cx - 15, 160), (cx - 5, 155), (cx + 5, 155), (cx + 15, 160), (cx + 5, 165), (cx - 5, 165)]
    lm[48:60] = np.stack([160 + 40 * (1 - np.cos(np.linspace(0, 2 * np.pi, 13)[:12])),
                          280 + 10 * np.sin(np.linspace(0, 2 * np.pi, 13)[:12])], 1)
    lm[60:68] = lm[48:56]
    return lm


def test_aperture_is_the_lid_gap_over_the_eye_width(eye_motion):
    lm = _face()
    assert eye_motion.aperture(lm) == pytest.approx(10 / 30)
    lm[[40, 41, 46, 47], 1] -= 2.0  # lower lids up by 2 px
    assert eye_motion.aperture(lm) == pytest.approx(8 / 30)


def test_crease_lightness_reads_a_darker_fold_against_the_nose_bridge(eye_motion):
    lm = _face()
    skin = np.full((400, 400, 3), 180, np.uint8)
    assert eye_motion.crease_lightness(skin, lm) == pytest.approx(0.0, abs=1e-9)
    def shade(outward: bool) -> np.ndarray:
        """Darken 25 px of skin beside each nostril-corner line, outside it or on the nose side."""
        img = skin.copy()
        for a, b, side in ((31, 48, -1), (35, 54, 1)):
            for y in range(int(lm[a, 1]), int(lm[b, 1]) + 1):
                t = (y - lm[a, 1]) / (lm[b, 1] - lm[a, 1])
                x = int(round(lm[a, 0] + t * (lm[b, 0] - lm[a, 0])))
                s = side if outward else -side
                lo, hi = sorted((x + s * 3, x + s * 28))
                img[y, lo:hi] = 120
        return img

    folded = shade(True)
    darker = eye_motion.crease_lightness(folded, lm)
    assert darker < -15.0
    # the same darkening on the nose side of the lines is not the fold
    assert eye_motion.crease_lightness(shade(False), lm) == pytest.approx(0.0, abs=1e-9)
    bright = folded.copy()
    bright[...] = np.clip(folded.astype(int) + 30, 0, 255).astype(np.uint8)  # exposure: the bridge takes it out
    assert abs(eye_motion.crease_lightness(bright, lm) - darker) < 1.5
