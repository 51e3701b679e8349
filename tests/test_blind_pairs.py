"""scripts/blind_pairs.py: the fine-detail measure and the blur that matches a real photo to
its source photo's detail (the London smiling photos are sharper than the neutral ones)."""

from __future__ import annotations

import cv2
import numpy as np

from conftest import load_script


def _script():
    return load_script("blind_pairs")


def _face() -> tuple[np.ndarray, np.ndarray]:
    """A textured 200 px image and 68 points laid out as a face's (jaw, brows, mouth)."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(60, 200, (200, 200, 3), dtype=np.uint8)
    lm = np.zeros((68, 2))
    t = np.linspace(0, np.pi, 17)
    lm[:17] = np.c_[100 - 70 * np.cos(t), 90 + 80 * np.sin(t)]  # jaw, y 90 .. 170
    lm[17:27] = np.c_[np.linspace(45, 155, 10), np.full(10, 60.0)]  # brows at y 60
    lm[27:48] = [100, 100]
    lm[48:68] = np.c_[np.linspace(80, 120, 20), np.full(20, 140.0)]  # the mouth
    return rgb, lm


def test_face_detail_is_the_mean_laplacian_over_the_face_without_the_mouth():
    bp = _script()
    rgb, lm = _face()
    lap = np.abs(cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F))
    keep = np.zeros(lap.shape, bool)
    keep[60:170, 30:170] = True  # brows to chin, jaw to jaw
    keep[130:150, 70:130] = False  # the mouth's box, 10 px out
    assert bp.face_detail(rgb, lm) == np.float32(lap[keep].mean())


def test_match_detail_blurs_to_the_goal_and_leaves_a_softer_photo_alone():
    bp = _script()
    rgb, lm = _face()
    goal = 0.6 * bp.face_detail(rgb, lm)
    out, sigma = bp.match_detail(rgb, lm, goal)
    assert 0.3 < sigma < 4.0
    assert abs(bp.face_detail(out, lm) - goal) <= 0.01 * goal
    np.testing.assert_array_equal(out, cv2.GaussianBlur(rgb, (0, 0), sigma))
    same, none = bp.match_detail(rgb, lm, 2 * goal / 0.6)
    assert none == 0.0 and same is rgb
