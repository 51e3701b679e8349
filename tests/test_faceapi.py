"""face-api's expression net in numpy: equal to the original (tfjs) run, layer by layer sound.

``tests/fixtures/faceapi/reference.json`` was produced by ``scripts/faceapi_reference.mjs``
(``@vladmandic/face-api`` 1.7.15 on ``@tensorflow/tfjs`` 4.22.0, cpu backend, node 20) from
the PNG crops next to it (``scripts/faceapi_fixtures.py``: London Set crops, CC BY 4.0, and
two generated images). Rerun both scripts to regenerate it (see their headers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

from conftest import real_data
from pixelfes.alignment import Alignment
from pixelfes.evaluate import ExpressionClassifier
from pixelfes.evaluate.faceapi import crop_box, net_inputs
from pixelfes.evaluate.protocol import FACEAPI_FACE_FRAME_BOX, Scorers, faceapi_box
from pixelfes.expressions import EXPRESSIONS
from pixelfes.nets import ops
from pixelfes.nets.faceapi import LABELS, FaceExpressionNet, pad_to_square, to_net_input
from pixelfes.nets.tfjs import TfjsWeightsError, read_weights

FIXTURES = Path(__file__).parent / "fixtures" / "faceapi"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
# tfjs's cpu kernels accumulate in float64 and round each layer to float32; numpy's float32
# matmuls round every partial sum, so outputs differ by float32 rounding: measured max
# 7.7e-7 over the fixtures. 5e-6 leaves room for other BLAS builds and still catches any
# change of preprocessing or architecture (a half-pixel resize moves them by 1e-2).
ATOL = 5e-6


def _png(name: str) -> np.ndarray:
    return np.asarray(Image.open(FIXTURES / name).convert("RGB"))


@pytest.fixture(scope="module")
def net() -> FaceExpressionNet:
    return FaceExpressionNet()


# --------------------------------------------------------------------------- reference


def test_reference_file_is_what_the_tests_assume() -> None:
    assert REFERENCE["face_api"] == "1.7.15" and REFERENCE["backend"] == "cpu"
    assert tuple(REFERENCE["labels"]) == LABELS
    files = sorted(p.name for p in FIXTURES.glob("*.png"))
    assert [f["file"] for f in REFERENCE["fixtures"]] == files and len(files) == 8


@pytest.mark.parametrize("fixture", REFERENCE["fixtures"], ids=lambda f: f["file"])
def test_port_equals_face_api_on_whole_crops(net: FaceExpressionNet, fixture: dict) -> None:
    im = _png(fixture["file"])
    assert list(im.shape) == fixture["shape"]
    p = net.predict_proba(to_net_input([im]))[0]
    assert_allclose(p, fixture["probabilities"], rtol=0, atol=ATOL)


@pytest.mark.parametrize("fixture", REFERENCE["fixtures"], ids=lambda f: f["file"])
def test_port_equals_face_api_on_boxes_cut_by_extract_face_tensors(net: FaceExpressionNet,
                                                                   fixture: dict) -> None:
    im = _png(fixture["file"])
    for case in fixture["boxes"]:
        x, y, w, h = case["box_xywh"]
        crop = crop_box(im, np.array([x, y, x + w, y + h]))
        assert list(crop.shape) == case["crop_shape"]
        p = net.predict_proba(to_net_input([crop]))[0]
        assert_allclose(p, case["probabilities"], rtol=0, atol=ATOL)


def test_classifier_backend_gives_the_reference_in_pixelfes_order() -> None:
    fx = [f for f in REFERENCE["fixtures"] if f["file"].startswith("london")]
    clf = ExpressionClassifier("faceapi", face_box="full")
    for f in fx:
        p = clf.predict_proba(_png(f["file"]))[0]
        ref = np.array(f["probabilities"])[[LABELS.index(c) for c in EXPRESSIONS]]
        assert_allclose(p, ref, rtol=0, atol=ATOL)
    smiles = [f for f in fx if "_08_" in f["file"]]
    assert smiles and all(clf.predict(_png(f["file"])) == ["happy"] for f in smiles)
    assert clf.model_inputs(_png(fx[0]["file"])).shape == (1, 112, 112, 3)


def test_batched_and_single_inference_agree(net: FaceExpressionNet) -> None:
    ims = [_png(f["file"]) for f in REFERENCE["fixtures"]]
    x = to_net_input(ims)
    batched = net.predict_proba(x, chunk=3)
    single = np.concatenate([net.predict_proba(x[i:i + 1]) for i in range(len(x))])
    assert_allclose(batched, single, rtol=0, atol=1e-6)


def test_gray_is_fed_as_three_equal_channels() -> None:
    im = _png("london_001_03_112x112.png")
    gray = np.asarray(Image.fromarray(im).convert("L"))
    x = ExpressionClassifier("faceapi", face_box="full").model_inputs(gray)
    assert_allclose(x[0] * 255 + [122.782, 117.001, 104.298], np.repeat(gray[..., None], 3, -1), atol=1e-3)


# --------------------------------------------------------------------------- preprocessing


def test_pad_to_square_puts_the_larger_half_after() -> None:
    crop = np.ones((5, 2, 3), np.uint8)  # d = 3: round(1.5) = 2 columns after, 1 before
    sq = pad_to_square(crop)
    assert sq.shape == (5, 5, 3) and sq.dtype == np.float32
    assert_array_equal(sq[0, :, 0], [0, 1, 1, 0, 0])
    assert_array_equal(pad_to_square(np.ones((2, 4, 3)))[:, 0, 0], [0, 1, 1, 0])


def test_crop_box_clips_and_floors_like_face_api() -> None:
    im = np.arange(10 * 20 * 3, dtype=np.uint8).reshape(10, 20, 3)
    # right = -3 + 12.9 = 9.9 -> width floor(9.9) = 9; bottom clipped to the image
    assert crop_box(im, np.array([-3.0, 2.5, 9.9, 30.0])).shape == (7, 9, 3)
    assert_array_equal(crop_box(im, np.array([1.2, 1.7, 5.2, 4.7])), im[1:4, 1:5])
    # margin 0.25 of a 4 x 4 box: one pixel out on each side
    assert crop_box(im, np.array([4.0, 4.0, 8.0, 8.0]), margin=0.25).shape == (6, 6, 3)
    with pytest.raises(ValueError, match="outside"):
        crop_box(im, np.array([30.0, 0.0, 40.0, 5.0]))


def test_net_input_errors() -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        to_net_input([np.zeros((8, 8))])
    with pytest.raises(ValueError, match=r"\(N, 112, 112, 3\)"):
        FaceExpressionNet().features(np.zeros((1, 64, 64, 3), np.float32))
    assert net_inputs(np.zeros((1, 8, 8, 1), np.uint8), np.array([[0, 0, 8, 8]])).shape == (1, 112, 112, 3)


def test_resize_bilinear_is_tensorflows_legacy_sampling() -> None:
    x = np.array([0.0, 10.0, 20.0], np.float32).reshape(1, 1, 3, 1)
    # out index c samples src = c * 3 / 6, no half-pixel offset; the last samples clamp
    out = ops.resize_bilinear(x, (1, 6))[0, 0, :, 0]
    assert_allclose(out, [0, 5, 10, 15, 20, 20])
    half = ops.resize_bilinear(x, (1, 6), half_pixel_centers=True)[0, 0, :, 0]
    assert_allclose(half, [0, 2.5, 7.5, 12.5, 17.5, 20])
    corners = ops.resize_bilinear(x, (1, 5), align_corners=True)[0, 0, :, 0]
    assert_allclose(corners, [0, 5, 10, 15, 20])
    y = np.random.default_rng(0).random((2, 4, 5, 3)).astype(np.float32)
    down = ops.resize_bilinear(y, (2, 2))
    assert_allclose(down[:, 1, 1], y[:, 2, 2] * 0.5 + y[:, 2, 3] * 0.5, rtol=1e-6)  # src (2, 2.5)


# --------------------------------------------------------------------------- ops vs loops


def _conv_loops(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """Plain TensorFlow "same" convolution, one output sample at a time (tiny inputs only)."""
    n, h, wd, _ = x.shape
    kh, kw, _, cout = w.shape
    ho, wo = -(-h // stride), -(-wd // stride)
    pt = max((ho - 1) * stride + kh - h, 0) // 2
    pl = max((wo - 1) * stride + kw - wd, 0) // 2
    out = np.zeros((n, ho, wo, cout))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    r, c = i * stride + a - pt, j * stride + b - pl
                    if 0 <= r < h and 0 <= c < wd:
                        out[:, i, j] += x[:, r, c] @ w[a, b]
    return out


@pytest.mark.parametrize(("size", "stride"), [((6, 6), 2), ((5, 7), 2), ((4, 5), 1)])
def test_conv2d_and_depthwise_match_loops(size: tuple[int, int], stride: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, *size, 3))
    w = rng.normal(size=(3, 3, 3, 4))
    assert_allclose(ops.conv2d(x, w, stride=stride), _conv_loops(x, w, stride), atol=1e-12)
    dw = rng.normal(size=(3, 3, 3, 1))
    full = np.zeros((3, 3, 3, 3))
    for c in range(3):
        full[:, :, c, c] = dw[:, :, c, 0]  # a depthwise filter as a diagonal dense one
    assert_allclose(ops.depthwise_conv2d(x, dw, stride), _conv_loops(x, full, stride), atol=1e-12)
    dw2 = rng.normal(size=(3, 3, 3, 2))
    full2 = np.zeros((3, 3, 3, 6))
    for c in range(3):
        for m in range(2):
            full2[:, :, c, c * 2 + m] = dw2[:, :, c, m]
    assert_allclose(ops.depthwise_conv2d(x, dw2, stride), _conv_loops(x, full2, stride), atol=1e-12)
    pw = rng.normal(size=(1, 1, 3, 5))
    assert_allclose(ops.separable_conv2d(x, dw, pw, np.ones(5), stride),
                    _conv_loops(x, full, stride) @ pw[0, 0] + 1, atol=1e-12)


def test_pools_dense_and_norms() -> None:
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    assert_array_equal(ops.max_pool(x, 2, 2)[0, :, :, 0], [[5, 7], [13, 15]])
    assert_array_equal(ops.avg_pool(x, 2, 2)[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    # "same" 3x3 stride 1: corners average their 4 real neighbours only
    assert ops.avg_pool(x, 3, 1, "same")[0, 0, 0, 0] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert ops.max_pool(x, 3, 2, "same")[0, -1, -1, 0] == 15
    assert_allclose(ops.dense(np.ones((2, 1, 1, 3)), np.eye(3)[:, :2], np.array([1.0, 2.0])), [[2, 3], [2, 3]])
    v = np.array([[1.0, 2.0, 3.0]])
    assert_allclose(ops.softmax(v).sum(), 1.0)
    assert_allclose(ops.softmax(v + 1000), ops.softmax(v))
    bn = ops.batch_norm(np.full((1, 1, 1, 2), 3.0), np.array([1.0, 3.0]), np.array([4.0, 1.0]),
                        np.array([0.5, 0.0]), np.array([2.0, 1.0]), epsilon=0.0)
    assert_allclose(bn[0, 0, 0], [2.5, 0.0])
    assert_allclose(ops.scale(np.ones((1, 1, 1, 2)), np.array([2.0, 3.0]), np.array([1.0, 0.0]))[0, 0, 0], [3, 3])
    with pytest.raises(ValueError, match="channels"):
        ops.conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match="valid"):
        ops.avg_pool(np.zeros((1, 2, 2, 1)), 3, 1)


# --------------------------------------------------------------------------- tfjs weights


def _write_manifest(tmp_path: Path, groups: list[dict], shards: dict[str, bytes]) -> Path:
    for name, data in shards.items():
        (tmp_path / name).write_bytes(data)
    path = tmp_path / "m-weights_manifest.json"
    path.write_text(json.dumps(groups))
    return path


def test_tfjs_reader_decodes_every_storage(tmp_path: Path) -> None:
    f32 = np.array([1.5, -2.0, 3.25], "<f4")
    q8 = np.array([0, 1, 255], "u1")
    q16 = np.array([0, 2], "<u2")
    f16 = np.array([0.5, -1.0], "<f2")
    i32 = np.array([[7, -8]], "<i4")
    blob = f32.tobytes() + q8.tobytes() + q16.tobytes() + f16.tobytes() + i32.tobytes()
    groups = [{"paths": ["a.bin", "b.bin"], "weights": [
        {"name": "f32", "shape": [3], "dtype": "float32"},
        {"name": "q8", "shape": [3, 1], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.1, "min": -1.0}},
        {"name": "q16", "shape": [2], "dtype": "int32",
         "quantization": {"dtype": "uint16", "scale": 1.25, "min": 0.0}},
        {"name": "f16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "i32", "shape": [1, 2], "dtype": "int32"},
    ]}]
    path = _write_manifest(tmp_path, groups, {"a.bin": blob[:7], "b.bin": blob[7:]})
    w = read_weights(path)
    assert_array_equal(w["f32"], f32)
    assert w["q8"].dtype == np.float32 and w["q8"].shape == (3, 1)
    assert_array_equal(w["q8"][:, 0], np.float32(np.array([-1.0, -0.9, 24.5])))
    assert_array_equal(w["q16"], [0, 3])  # round(2.5) = 3, as JavaScript's Math.round
    assert_array_equal(w["f16"], [0.5, -1.0])
    assert_array_equal(w["i32"], i32)


def test_tfjs_reader_errors(tmp_path: Path) -> None:
    spec = [{"paths": ["a.bin"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}]
    with pytest.raises(TfjsWeightsError, match="uses 8 of its 12"):
        read_weights(_write_manifest(tmp_path, spec, {"a.bin": bytes(12)}))
    with pytest.raises(TfjsWeightsError, match="runs past"):
        read_weights(_write_manifest(tmp_path, spec, {"a.bin": bytes(4)}))
    (tmp_path / "a.bin").unlink()
    with pytest.raises(TfjsWeightsError, match="shard missing"):
        read_weights(tmp_path / "m-weights_manifest.json")
    with pytest.raises(TfjsWeightsError, match="cannot read"):
        read_weights(tmp_path / "nothing.json")


def test_vendored_weights_match_the_architecture() -> None:
    w = FaceExpressionNet().weights
    assert len(w) == 49 and w["fc/weights"].shape == (256, 7)  # 4 blocks x (3 + 3 x 3) + fc 2
    assert w["dense3/conv3/pointwise_filter"].shape == (1, 1, 256, 256)
    n_bias = sum(v.size for k, v in w.items() if k.endswith("bias"))
    n_all = sum(v.size for v in w.values())
    assert n_all == 323_687
    # the .bin holds every weight as one uint8 code and the biases as float32
    assert (n_all - n_bias) + 4 * n_bias == 329_468


# --------------------------------------------------------------------------- evaluate


def test_faceapi_box_on_the_aligned_canvas() -> None:
    x0, y0, x1, y1 = faceapi_box(192, 1.5)
    assert (x0, y0) == pytest.approx(((0.073 - 0.5) / 1.5 + 0.5, (0.264 - 0.5) / 1.5 + 0.5))
    assert y1 == pytest.approx((FACEAPI_FACE_FRAME_BOX[3] - 0.5) / 1.5 + 0.5) and y1 < 1
    assert faceapi_box(128, 1.0)[3] == 1.0  # the chin row of a margin-1 crop is clipped to the canvas


def test_default_scorers_judge_with_faceapi_second() -> None:
    s = Scorers.default(Alignment(192, 1.5), facex=False, identity=False)
    assert list(s.expression) == ["fer", "faceapi"]
    only = Scorers.default(Alignment(192, 1.5), facex=False, identity=False, fer=False)
    assert list(only.expression) == ["faceapi"]


def test_cli_judges_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pixelfes.cli import main

    code = main(["evaluate", "--data", str(tmp_path), "--to", "happy", "--judges", "fer,nope",
                 "--report", str(tmp_path / "r")])
    assert code == 1 and "--judges must list some of fer, facex, faceapi" in capsys.readouterr().err


@pytest.mark.realdata
def test_real_london_smiles_are_called_happy_and_neutrals_neutral() -> None:
    from pixelfes.evaluate._faces import detect_box
    from pixelfes.imageio import read_rgb

    london = real_data("london-face-set")
    people = sorted(p.name[:3] for p in (london / "neutral_front").glob("*_03.jpg"))[:12]
    clf = ExpressionClassifier("faceapi")
    calls = {}
    for kind, folder, suffix in (("neutral", "neutral_front", "_03"), ("happy", "smiling_front", "_08")):
        pred = []
        for person in people:
            rgb, _ = read_rgb(london / folder / f"{person}{suffix}.jpg", min_side=640)
            pred += clf.predict(rgb, np.array([detect_box(rgb)]))
        calls[kind] = np.array(pred)
    # These 12: neutral 0.92, happy 0.83; all 82 people (scripts/judge_confusion.py, photo +
    # dlib box): neutral 0.93, happy 0.61. The bounds leave room for those 82's spread.
    assert np.mean(calls["neutral"] == "neutral") >= 0.8
    assert np.mean(calls["happy"] == "happy") >= 0.4
    assert np.mean(calls["neutral"] == "happy") <= 0.1
