"""Closing a smile made cheaper without changing a byte: each shortcut against the plain way."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pixelfes.mouth.close import inpaint_box


@pytest.mark.parametrize("seed", range(6))
def test_inpaint_over_the_mask_box_is_the_whole_inpaint(seed):
    # masks anywhere (also touching the image's edges), soft textured images, both radii used
    rng = np.random.default_rng(seed)
    h, w = rng.integers(30, 90, size=2)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3)).astype(np.uint8), (0, 0), 1.5)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        x, y = int(rng.integers(-5, w + 5)), int(rng.integers(-5, h + 5))
        cv2.ellipse(mask, (x, y), (int(rng.integers(1, 12)), int(rng.integers(1, 6))), 0, 0, 360, 1, -1)
    for radius in (3, 5):
        want = cv2.inpaint(img, mask * 255, radius, cv2.INPAINT_TELEA)
        got = inpaint_box(img, mask, radius)
        assert np.array_equal(got, want)
        assert got is not img


def test_inpaint_of_no_mask_is_the_image():
    img = np.random.default_rng(1).integers(0, 256, (20, 30, 3)).astype(np.uint8)
    mask = np.zeros((20, 30), np.uint8)
    assert np.array_equal(cv2.inpaint(img, mask, 3, cv2.INPAINT_TELEA), img)
    got = inpaint_box(img, mask, 3)
    assert np.array_equal(got, img) and got is not img
