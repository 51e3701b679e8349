"""The mouth painters refuse what they cannot paint in place, with one message each (mouth.checks); their shared ramp (mouth.ramp)."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes.mouth.checks import check_rgb8, lip_points
from pixelfes.mouth.ends import shade_opening_ends
from pixelfes.mouth.fill import fill_mouth
from pixelfes.mouth.specks import clear_corner_specks

LIPS = np.column_stack([np.linspace(10, 50, 20), np.full(20, 30.0)])


@pytest.mark.parametrize("image", [np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), np.uint8),
                                   np.zeros((8, 8, 4), np.uint8), [[0]]])
def test_not_an_rgb8_image_is_refused_by_every_painter(image) -> None:
    with pytest.raises(ValueError, match=r"image must be an \(H, W, 3\) uint8 RGB array"):
        check_rgb8(image)
    for paint in (shade_opening_ends, clear_corner_specks):
        with pytest.raises(ValueError, match="uint8 RGB array"):
            paint(image, LIPS)
    with pytest.raises(ValueError, match="uint8 RGB array"):
        fill_mouth(image, LIPS, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("lips", [LIPS[:19], LIPS.T, np.where(np.arange(20)[:, None] == 3, np.nan, LIPS)])
def test_lips_must_be_twenty_finite_points(lips) -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match=r"lips must be the \(20, 2\) finite landmarks 48-67"):
        lip_points(lips)
    for paint in (shade_opening_ends, clear_corner_specks):
        with pytest.raises(ValueError, match="finite landmarks 48-67"):
            paint(image, lips)
    with pytest.raises(ValueError, match="finite landmarks 48-67"):
        fill_mouth(image, lips, None)  # type: ignore[arg-type]


def test_good_arguments_pass_as_float64() -> None:
    check_rgb8(np.zeros((4, 4, 3), np.uint8))
    got = lip_points(LIPS.astype(np.float32))
    assert got.dtype == np.float64 and got.shape == (20, 2)
    np.testing.assert_array_equal(got, LIPS.astype(np.float32).astype(np.float64))


def test_smoothstep_is_the_plain_cubic_ramp_and_keeps_float32() -> None:
    from pixelfes.mouth.ramp import smoothstep

    x = np.array([-1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 2.0])
    np.testing.assert_array_equal(smoothstep(x), [0.0, 0.0, 0.15625, 0.5, 0.84375, 1.0, 1.0])
    assert smoothstep(x.astype(np.float32)).dtype == np.float32
