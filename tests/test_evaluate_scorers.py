"""Tests of the scorers in pixelfes.evaluate: expression, identity, quality, size, baselines."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from conftest import shared_data_dir
from pixelfes.evaluate import (
    ExpressionClassifier,
    IdentityEmbedder,
    accuracy,
    confusion_matrix,
    gan_parameter_counts,
    gradient_energy,
    identity_baseline,
    identity_distance,
    mean_target_baseline,
    model_size,
    psnr,
    psnr_batch,
    rank1_identification,
    sharpness_ratio,
    sharpness_ratio_batch,
    ssim,
    ssim_batch,
)
from pixelfes.expressions import EXPRESSIONS

skimage_data = pytest.importorskip("skimage.data")
pytest.importorskip("ai_edge_litert")


LONDON = shared_data_dir() / "london-face-set"
needs_london = pytest.mark.skipif(
    not (LONDON / "neutral_front").is_dir(),
    reason=f"real data absent: {LONDON} (set PIXELFES_DATA to the folder holding london-face-set/)",
)


def _london_photo(person: str, smiling: bool) -> np.ndarray:
    from PIL import Image

    path = LONDON / ("smiling_front" if smiling else "neutral_front") / (
        f"{person}_08.jpg" if smiling else f"{person}_03.jpg")
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()  # (512, 512, 3) uint8, Eileen Collins smiling


@pytest.fixture(scope="module")
def fer() -> ExpressionClassifier:
    return ExpressionClassifier("fer")


# --------------------------------------------------------------------------- import


def test_import_loads_no_model_or_heavy_dependency() -> None:
    code = (
        "import sys, pixelfes, pixelfes.evaluate\n"
        "heavy = [m for m in ('dlib', 'ai_edge_litert', 'torch', 'skimage', 'cv2') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- expression


def test_fer_says_the_astronaut_smiles(astronaut: np.ndarray, fer: ExpressionClassifier) -> None:
    p = fer.predict_proba(astronaut)
    assert p.shape == (1, 7)
    assert fer.classes == EXPRESSIONS
    assert fer.predict(astronaut) == ["happy"]
    assert p[0, EXPRESSIONS.index("happy")] > 0.9


def test_fer_on_a_loose_128px_crop_of_the_astronaut(astronaut: np.ndarray, fer: ExpressionClassifier) -> None:
    import cv2

    crop = cv2.resize(astronaut[50:210, 150:310], (128, 128), interpolation=cv2.INTER_AREA)
    for face_box in ("detect", "full"):
        assert ExpressionClassifier("fer", face_box=face_box).predict(crop) == ["happy"]


def test_probabilities_are_a_distribution_in_pixelfes_order(astronaut: np.ndarray,
                                                            fer: ExpressionClassifier) -> None:
    rng = np.random.default_rng(0)
    batch = np.stack([astronaut, astronaut[:, ::-1], rng.integers(0, 256, astronaut.shape, np.uint8)])
    p = ExpressionClassifier("fer", face_box="full").predict_proba(batch)
    assert p.shape == (3, 7) and p.dtype == np.float64
    assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)  # float32 softmax
    assert np.all(p >= 0)
    # Batched inference equals one image at a time.
    single = ExpressionClassifier("fer", face_box="full").predict_proba(batch[1])
    assert_allclose(p[1], single[0], atol=1e-6)


def test_fer_input_follows_fers_normalisation() -> None:
    # fer/fer.py l. 388-389: x / 255 then (x - 0.5) * 2, on a 64x64 gray crop.
    img = np.full((100, 80, 3), 200, np.uint8)
    x = ExpressionClassifier("fer", face_box="full").model_inputs(img)
    assert x.shape == (1, 64, 64, 1) and x.dtype == np.float32
    # The 100x80 box is squared to 100x100; the 10-column strip each side beyond the image is
    # filled with the mean of the bottom two rows (fer.pad), here also 200.
    assert_allclose(x, (200 / 255 - 0.5) * 2, atol=1e-6)


def test_fer_fill_beyond_the_image_is_bottom_rows_mean() -> None:
    img = np.zeros((40, 40), np.uint8)
    img[-2:] = 100  # bottom rows set the fill value
    x = ExpressionClassifier("fer", face_box="full", margin=0.5).model_inputs(img)
    # margin 0.5 doubles the 40 px box to 80 px: the outer quarter on every side is fill.
    assert_allclose(x[0, :8, :, 0], (100 / 255 - 0.5) * 2, atol=1e-6)
    assert_allclose(x[0, 30, 30, 0], -1.0, atol=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("facex") is None, reason="facex not installed (second opinion)")
def test_facex_second_opinion(astronaut: np.ndarray) -> None:
    clf = ExpressionClassifier("facex")
    x = clf.model_inputs(astronaut)
    assert x.shape == (1, 200, 200, 3) and 0.0 <= x.min() and x.max() <= 1.0
    assert_allclose(x[..., 0], x[..., 2])  # gray replicated to three channels, as facex does
    assert clf.predict(astronaut) == ["happy"]


def test_expression_errors() -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="backend must be one of"):
        ExpressionClassifier("emopy").predict(img)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="face_box fractions"):
        ExpressionClassifier(face_box=(0.5, 0.0, 0.2, 1.0)).predict(img)
    with pytest.raises(ValueError, match="ambiguous"):
        ExpressionClassifier().predict(np.zeros((5, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="floats outside"):
        ExpressionClassifier().predict(np.full((32, 32), 2.0))
    with pytest.raises(ValueError, match=r"boxes must be shaped \(2, 4\)"):
        ExpressionClassifier().predict(np.stack([img, img]), boxes=[(0, 0, 10, 10)])


def test_confusion_matrix_and_accuracy() -> None:
    t = ["happy", "happy", "sad", "neutral"]
    p = ["happy", "neutral", "sad", "neutral"]
    cm = confusion_matrix(t, p, classes=("neutral", "happy", "sad"))
    assert_allclose(cm, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    assert cm.dtype == np.int64
    assert confusion_matrix(t, p).shape == (7, 7)
    assert accuracy(t, p) == 0.75
    with pytest.raises(ValueError, match="not in classes"):
        confusion_matrix(["smug"], ["happy"])
    with pytest.raises(ValueError, match="differ in length"):
        accuracy(t, p[:2])
    with pytest.raises(ValueError, match="undefined"):
        accuracy([], [])


@pytest.mark.realdata
@needs_london
def test_real_smiles_are_called_happy_far_more_often_than_neutrals(fer: ExpressionClassifier) -> None:
    people = sorted(p.name[:3] for p in (LONDON / "neutral_front").glob("*_03.jpg"))[:20]
    assert len(people) == 20
    neutral = np.stack([_london_photo(p, smiling=False) for p in people])
    smiling = np.stack([_london_photo(p, smiling=True) for p in people])
    happy = EXPRESSIONS.index("happy")
    pn, ps = fer.predict_proba(neutral), fer.predict_proba(smiling)
    rate_n, rate_s = (pn.argmax(1) == happy).mean(), (ps.argmax(1) == happy).mean()
    # On all 82 people: 0.00 vs 0.52 (benchmarks/bench_scorers.py); leave room for the subset.
    assert rate_n <= 0.1
    assert rate_s >= rate_n + 0.3
    assert ps[:, happy].mean() > pn[:, happy].mean() + 0.3


# --------------------------------------------------------------------------- identity


def test_astronaut_is_nearer_to_her_shifted_self(astronaut: np.ndarray) -> None:
    emb = IdentityEmbedder()
    shifted = np.roll(astronaut, (4, -3), axis=(0, 1))
    e = emb.embed(np.stack([astronaut, shifted]))
    assert e.shape == (2, 128) and e.dtype == np.float64
    d_self = identity_distance(e[0], e[1])[0]
    assert d_self < 0.2  # same photo moved by 5 px: far below dlib's 0.6


@pytest.mark.realdata
@needs_london
def test_identity_separates_people() -> None:
    # What this proves: the astronaut's shifted copy is much nearer than another person's face,
    # and two photos of one London person (neutral, smiling) are the same person by dlib's 0.6.
    emb = IdentityEmbedder()
    astro = skimage_data.astronaut()
    e_astro = emb.embed(np.stack([astro, np.roll(astro, (4, -3), axis=(0, 1))]))
    e_other = emb.embed(_london_photo("001", smiling=False))
    e_same = emb.embed(_london_photo("001", smiling=True))
    assert identity_distance(e_astro[0], e_astro[1])[0] < identity_distance(e_astro[0], e_other)[0] - 0.3
    assert identity_distance(e_astro[0], e_other)[0] > 0.6
    assert identity_distance(e_other, e_same)[0] < 0.6


def test_identity_falls_back_to_the_whole_crop() -> None:
    # A flat gray image has no face: the whole image is used as the box, no exception.
    e = IdentityEmbedder().embed(np.full((64, 64, 3), 128, np.uint8))
    assert e.shape == (1, 128) and np.all(np.isfinite(e))


def test_identity_distance_and_rank1() -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert_allclose(identity_distance(a, np.zeros(2)), [0.0, 5.0])
    gallery = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    outputs = np.array([[1.0, 0.0], [9.0, 1.0], [6.0, 0.0], [0.0, 8.0]])
    assert rank1_identification(outputs, gallery, np.array([0, 1, 2, 2])) == 0.75  # [6, 0] is nearer person 1
    with pytest.raises(ValueError, match="shapes must match"):
        identity_distance(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="true_index must lie"):
        rank1_identification(outputs, gallery, np.array([0, 1, 2, 3]))


# --------------------------------------------------------------------------- quality


def _smooth_image(h: int = 24, w: int = 20, c: int = 3) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    base = 0.5 + 0.2 * np.sin(x / 3.0) * np.cos(y / 4.0)
    return np.stack([base * (0.9 + 0.05 * k) for k in range(c)], axis=-1)


def test_psnr_of_a_known_noise_level() -> None:
    t = _smooth_image()
    sign = np.where(np.indices(t.shape).sum(0) % 2 == 0, 1.0, -1.0)
    o = t + 0.01 * sign  # MSE = 1e-4 exactly -> PSNR = 40 dB
    assert_allclose(psnr(o, t), 40.0, rtol=1e-9)
    assert_allclose(psnr_batch(np.stack([o, t]), np.stack([t, t])), [40.0, np.inf])
    u8 = np.rint(t * 255).astype(np.uint8)
    assert_allclose(psnr(u8, u8.astype(np.float64) / 255 + 0.0), np.inf)


def _reference_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """Wang et al. SSIM with a 7x7 uniform window, sample covariance, borders cropped (skimage's)."""
    from scipy.ndimage import uniform_filter

    n = 49
    f = lambda a: uniform_filter(a, size=7)  # noqa: E731
    ux, uy = f(x), f(y)
    vx = (f(x * x) - ux * ux) * n / (n - 1)
    vy = (f(y * y) - uy * uy) * n / (n - 1)
    vxy = (f(x * y) - ux * uy) * n / (n - 1)
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return float(s[3:-3, 3:-3].mean())


def test_ssim_against_the_reference_formula() -> None:
    rng = np.random.default_rng(1)
    t = _smooth_image()
    o = np.clip(t + rng.normal(0, 0.05, t.shape), 0, 1)
    expected = np.mean([_reference_ssim(o[..., k], t[..., k]) for k in range(3)])
    assert_allclose(ssim(o, t), expected, rtol=1e-10)
    assert_allclose(ssim(t, t), 1.0)
    assert_allclose(ssim_batch(o[None, ..., :1], t[None, ..., :1]), [_reference_ssim(o[..., 0], t[..., 0])],
                    rtol=1e-10)


def test_sharpness_ratio() -> None:
    # A ramp Y = a x has dx = a, dy = 0: gradient energy a^2; twice the slope is 4x the energy.
    x = np.tile(np.arange(16.0), (12, 1))
    ramp1, ramp2 = 0.01 * x, 0.02 * x
    assert_allclose(gradient_energy(ramp1), [1e-4])
    assert_allclose(sharpness_ratio(ramp2, ramp1), 4.0)
    t = _smooth_image()
    assert_allclose(sharpness_ratio(t, t), 1.0)
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(t, sigma=(1.5, 1.5, 0))
    r = sharpness_ratio_batch(np.stack([t, blurred]), np.stack([t, t]))
    assert r[0] == pytest.approx(1.0) and r[1] < 0.8
    # Colour uses BT.601 luminance.
    assert_allclose(gradient_energy(np.stack([ramp1] * 3, axis=-1)), [1e-4])
    with pytest.raises(ValueError, match="flat"):
        sharpness_ratio(t, np.full_like(t, 0.5))


def test_quality_errors() -> None:
    t = _smooth_image()
    with pytest.raises(ValueError, match="shapes must be the same"):
        psnr(t, t[:-1])
    with pytest.raises(ValueError, match="use the \\*_batch"):
        psnr(t[None], t[None])
    with pytest.raises(ValueError, match="at least 7x7"):
        ssim(t[:5, :5], t[:5, :5])
    with pytest.raises(ValueError, match="expected floats in"):
        psnr(t * 2, t)


# --------------------------------------------------------------------------- size


def test_model_size_of_a_safetensors_file(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    tensors = {"w": np.zeros((3, 4), np.float32), "b": np.arange(5, dtype=np.int64)}
    path = tmp_path / "m.safetensors"
    save_file(tensors, str(path))
    size = model_size(path)
    assert size.parameters == 17
    assert size.bytes == path.stat().st_size
    assert model_size(tensors) == size  # a mapping is serialised the same way
    with pytest.raises(FileNotFoundError):
        model_size(tmp_path / "missing.safetensors")
    with pytest.raises(TypeError, match="save\\(path\\)"):
        model_size(3.5)


def _generator_count(c_dim: int, heads: tuple[int, ...], conv_dim: int = 64, repeat: int = 6) -> int:
    """Closed form of the StarGAN/GANimation generator: bias-free convs + affine InstanceNorms."""
    d = conv_dim
    n = (3 + c_dim) * d * 49 + 2 * d
    n += d * 2 * d * 16 + 4 * d + 2 * d * 4 * d * 16 + 8 * d
    n += repeat * (2 * (4 * d) ** 2 * 9 + 4 * 4 * d)
    n += 4 * d * 2 * d * 16 + 4 * d + 2 * d * d * 16 + 2 * d
    return n + sum(d * k * 49 for k in heads)


def test_gan_parameter_counts() -> None:
    pytest.importorskip("torch", reason="torch absent: pip install 'pixelfes[bench]'")
    counts = gan_parameter_counts()
    assert counts == {
        "StarGAN": _generator_count(c_dim=5, heads=(3,)),
        "GANimation": _generator_count(c_dim=17, heads=(3, 1)),
    }
    assert counts == {"StarGAN": 8_430_528, "GANimation": 8_471_296}


# --------------------------------------------------------------------------- baselines


def test_baselines() -> None:
    X = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = identity_baseline(X)
    assert_allclose(out, X) and out is not X
    T = np.stack([np.zeros((3, 3), np.uint8), np.full((3, 3), 101, np.uint8)])
    m = mean_target_baseline(T, 4)
    assert m.shape == (4, 3, 3) and m.dtype == np.uint8
    assert np.all(m == 50)  # 50.5 rounds half to even
    assert_allclose(mean_target_baseline(T.astype(np.float64) / 255, 1), np.full((1, 3, 3), 50.5 / 255))
    with pytest.raises(ValueError, match="positive integer"):
        mean_target_baseline(T, 0)
