"""Build ``assets/mediapipe/face_detection_short_range_int8.tflite``: BlazeFace with an 8-bit
backbone, for the cheap first look of the finest pyramid pass (:mod:`pixelfes.face.blazeface`).

Run (once, by a developer; needs ``pip install ai-edge-quantizer`` and the London Face Set):

    PIXELFES_DATA=../shared/data python scripts/build_blazeface_int8.py

Steps, each checked: (1) MediaPipe's file stores its weights as float16 behind DEQUANTIZE
ops; they become float32 constants (the net's outputs unchanged, bit for bit); (2) each
RELU is fused into the ADD or CONV_2D before it (the same outputs; LiteRT's XNNPACK runs a
standalone int8 RELU outside its graph, 18 partitions and 3x slower than float); (3) the
static int8 recipe of ``ai-edge-quantizer`` (per-channel symmetric weights, per-tensor
activations) is applied to every op but the four heads and their reshapes, which stay
float: the regressors' int8 step would be 0.7 net px, the logits' 0.2. Calibration: 128 px
crops of the London neutral photos at the pyramid's scales (0.4, 0.25, 0.125) and of
made-up group photos with faces of 16-100 px (``tests/london_groups.py``), 240 in all,
fixed seed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "pixelfes" / "assets" / "mediapipe" / "face_detection_short_range.tflite"
OUT = SRC.with_name("face_detection_short_range_int8.tflite")
#: ops that stay float, a regular expression searched in each op's scope (its output
#: tensors' names, each followed by ";"): the four heads and their reshapes. Tried: the
#: whole 8 x 8 stage float too (``...|conv2d_1[2-6];|activation_1[2-6];|...``): 4 % slower,
#: the look's boxes nearer the float ones (sd 0.8 % instead of 1.5 %), but on the real
#: group photos 11 of 22 faces moved from main's (7 of 20) and 2 more were changed: dropped
FLOAT = "classificator|regressor|reshape"


def _opcodes(model) -> list[int]:
    # old files keep the op in deprecated_builtin_code (builtin_code 0 = ADD): tools that
    # read only builtin_code take every op for an ADD
    for oc in model.operatorCodes:
        oc.builtinCode = max(oc.builtinCode, oc.deprecatedBuiltinCode)
    return [oc.builtinCode for oc in model.operatorCodes]


def float32_fused(src: Path, dst: Path) -> None:
    """Steps 1 and 2: float32 weights, RELUs fused, unused tensors dropped, a signature."""
    from ai_edge_litert import schema_py_generated as S
    from ai_edge_litert.tools import flatbuffer_utils as fu

    m = fu.read_model(str(src))
    g = m.subgraphs[0]
    codes = _opcodes(m)
    ops = []
    for op in g.operators:
        if codes[op.opcodeIndex] == S.BuiltinOperator.DEQUANTIZE:
            ti, to = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
            data = np.frombuffer(bytes(bytearray(m.buffers[ti.buffer].data)), np.float16)
            buf = S.BufferT()
            buf.data = np.frombuffer(data.astype(np.float32).tobytes(), np.uint8)
            m.buffers.append(buf)
            to.buffer = len(m.buffers) - 1
        else:
            ops.append(op)
    producer = {o: op for op in ops for o in op.outputs}
    users: dict[int, int] = {}
    for op in ops:
        for i in op.inputs:
            users[i] = users.get(i, 0) + 1
    fused = []
    for op in ops:
        if codes[op.opcodeIndex] == S.BuiltinOperator.RELU:
            p = producer.get(op.inputs[0])
            if (p is not None and users[op.inputs[0]] == 1
                    and codes[p.opcodeIndex] in (S.BuiltinOperator.ADD, S.BuiltinOperator.CONV_2D)
                    and p.builtinOptions.fusedActivationFunction == S.ActivationFunctionType.NONE):
                p.builtinOptions.fusedActivationFunction = S.ActivationFunctionType.RELU
                p.outputs = [op.outputs[0]]
                continue
        fused.append(op)
    used = sorted({i for op in fused for i in [*op.inputs, *op.outputs] if i >= 0}
                  | set(g.inputs) | set(g.outputs))
    new = {old: k for k, old in enumerate(used)}
    g.tensors = [g.tensors[i] for i in used]
    for op in fused:
        op.inputs = [new[i] if i >= 0 else i for i in op.inputs]
        op.outputs = [new[i] for i in op.outputs]
    g.inputs, g.outputs, g.operators = [new[i] for i in g.inputs], [new[i] for i in g.outputs], fused
    sd = S.SignatureDefT()
    sd.signatureKey, sd.subgraphIndex = "serving_default", 0

    def tmap(i: int) -> object:
        t = S.TensorMapT()
        t.name, t.tensorIndex = g.tensors[i].name.decode(), i
        return t

    sd.inputs, sd.outputs = [tmap(i) for i in g.inputs], [tmap(i) for i in g.outputs]
    m.signatureDefs = [sd]
    fu.write_model(m, str(dst))


def drop_unused_buffers(path: Path) -> None:
    """Rewrite ``path`` without the buffers no tensor reads (the quantizer keeps the float
    weights it replaced)."""
    from ai_edge_litert.tools import flatbuffer_utils as fu

    m = fu.read_model(str(path))
    used = sorted({0} | {t.buffer for g in m.subgraphs for t in g.tensors})
    new = {old: k for k, old in enumerate(used)}
    m.buffers = [m.buffers[i] for i in used]
    for g in m.subgraphs:
        for t in g.tensors:
            t.buffer = new[t.buffer]
    fu.write_model(m, str(path))


def outputs(path: Path, x: np.ndarray) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=1)
    d = it.get_input_details()[0]
    it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    if d["dtype"] == np.int8:
        scale, zero = d["quantization"]
        x = np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8)
    it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(o["index"]).copy() for o in sorted(it.get_output_details(),
                                                             key=lambda o: o["name"])]


def calibration(data: Path) -> list[dict[str, np.ndarray]]:
    import cv2

    sys.path.insert(0, str(REPO / "tests"))
    from london_groups import log_widths, london_neutral, make_group
    from pixelfes.imageio import load_image

    rng = np.random.default_rng(0)
    out = []

    def add(img: np.ndarray) -> None:
        h, w = img.shape[:2]
        y, x = rng.integers(0, max(1, h - 128)), rng.integers(0, max(1, w - 128))
        crop = np.full((128, 128, 3), 127, np.uint8)
        part = img[y:y + 128, x:x + 128]
        crop[:part.shape[0], :part.shape[1]] = part
        out.append({"input": ((crop.astype(np.float32) - 127.5) / 127.5)[None]})

    sources = london_neutral(data / "london-face-set")
    for jpg, _ in sources[:60]:
        rgb = load_image(jpg).rgb
        for s in (0.4, 0.125, 0.25):
            add(cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA))
    for _ in range(6):
        img = make_group(rng, sources, (1500, 1000), log_widths(rng, 10, 16, 100))[0]
        for _ in range(10):
            add(img)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--float", default=FLOAT, help="regular expression of the ops kept float")
    args = ap.parse_args()
    from ai_edge_quantizer import calibrator, quantizer, recipe_manager
    from ai_edge_quantizer.qtyping import TFLOperationName
    from ai_edge_quantizer.utils import qsv_utils

    with tempfile.TemporaryDirectory() as tmp:
        f32 = Path(tmp) / "fp32_fused.tflite"
        float32_fused(SRC, f32)
        x = np.random.default_rng(1).uniform(-1, 1, (1, 256, 192, 3)).astype(np.float32)
        for a, b in zip(outputs(SRC, x), outputs(f32, x), strict=True):
            assert np.array_equal(a, b), "float32 conversion changed the outputs"
        q = quantizer.Quantizer(str(f32))
        rm = recipe_manager.RecipeManager()
        rm.add_static_config(regex=f"^(?!.*({args.float})).*$",
                             operation_name=TFLOperationName.ALL_SUPPORTED,
                             activation_num_bits=8, weight_num_bits=8)
        q.load_quantization_recipe(rm.get_quantization_recipe())
        calib = calibrator.Calibrator(q._float_model_buffer, num_threads=1,
                                      qsv_update_func=qsv_utils.min_max_update)
        calib.calibrate({"serving_default": calibration(args.data)}, q._recipe_manager)
        qsvs = calib.get_model_qsvs()
        # the input's range is the pixels' whole range (a calibrated one clips bright and
        # dark pixels); every other tensor: the extremes seen over all samples
        qsvs["input"] = {k: np.full_like(np.asarray(v, np.float32), lim)
                         for (k, v), lim in zip(sorted(qsvs["input"].items()), (1.0, -1.0), strict=True)}
        print({k: v for k, v in qsvs["input"].items()})
        result = q.quantize(qsvs)
        full = Path(tmp) / "int8.tflite"
        result.export_model(str(full), overwrite=True)
        before = outputs(full, x)
        drop_unused_buffers(full)
        for a, b in zip(before, outputs(full, x), strict=True):
            assert np.array_equal(a, b), "dropping unused buffers changed the outputs"
        args.out.write_bytes(full.read_bytes())
    raw = args.out.read_bytes()
    print(f"wrote {args.out} ({len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()})")


if __name__ == "__main__":
    main()
