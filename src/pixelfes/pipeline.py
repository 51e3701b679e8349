"""The main job: photo in, every face given another expression, photo out.

``synthesize(photo, to="happy")`` finds each face (dlib, 68 landmarks), aligns it the
way the model's training crops were aligned (``model.alignment_``: template, canvas
size and margin; a model that does not know it is refused), applies the model to the aligned crop and adds the change back into the
photo through the inverse transform under a feathered face mask. Only the change is
warped back, so every pixel the model did not change keeps its exact value.
A model trained on grayscale crops acts on the luminance of a colour photo and keeps
its colour; a colour model on a grayscale photo gives a grayscale photo back.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import check_strength
from .alignment import Alignment
from .expressions import normalize_expression
from .models.base import ExpressionModel

if TYPE_CHECKING:
    from .face import Face
    from .face.detect import SkippedFace

ImageLike = Any  # a path, a PIL image or an (H, W[, C]) array


@dataclass
class FaceReport:
    """What happened to the faces of one photo; filled in by :func:`synthesize_rgb`."""

    changed: int = 0
    skipped: list[SkippedFace] = field(default_factory=list)

    @property
    def found(self) -> int:
        return self.changed + len(self.skipped)

    def summary(self) -> str:
        """``"3 faces found, 2 changed, 1 skipped"``."""
        return (f"{self.found} face{'s' if self.found != 1 else ''} found, {self.changed} changed, "
                f"{len(self.skipped)} skipped")


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float, bundled: bool = False) -> ExpressionModel:
    from .modelfile import load_model

    return load_model(path, self_test=not bundled)  # bundled: tested with the package


def resolve_model(model: str | os.PathLike[str] | ExpressionModel | None, source: str = "neutral",
                  target: str | None = "happy", *, engine: str = "auto", au: Any = None,
                  like: Any = None) -> ExpressionModel:
    """A fitted model from a bundled/user model name, a file path, or a model (passed through).

    Without a learned model for ``neutral -> target`` (or for ``-> neutral``), the action
    units' recipe is used (``engine``: "auto", "learned" or "actions"); ``au`` adds unit
    intensities, ``like`` (intensities of another face) transfers its actions.
    See :mod:`pixelfes.actions.engine`.
    """
    if engine == "auto" and not au and like is None and target is not None:
        from .zoo import ModelNotFoundError

        try:  # a learned model wins: the action units are not even imported (cold start)
            return _resolve_learned(model, source, target)
        except ModelNotFoundError:
            pass
    if engine != "learned" or au or like is not None or target is None:
        from .actions.engine import resolve

        return resolve(model, normalize_expression(source),
                       None if target is None else normalize_expression(target),
                       engine=engine, au=au, like=like, learned=_resolve_learned)
    return _resolve_learned(model, source, target)


def _resolve_learned(model: str | os.PathLike[str] | ExpressionModel | None, source: str,
                     target: str) -> ExpressionModel:
    if isinstance(model, ExpressionModel):
        model._check_fitted()
        return model
    from .zoo import find_model

    entry = find_model(normalize_expression(source), normalize_expression(target),
                       None if model is None else str(model))
    return _load_cached(str(entry.path), entry.path.stat().st_mtime, entry.bundled)


class UnknownAlignmentError(ValueError):
    """A model that does not record how its crops were aligned cannot be used on photos."""


def alignment_of(model: ExpressionModel) -> Alignment:
    """How ``model``'s crops were aligned; photos are aligned the same way before the model runs.

    There is no default here: aligning a photo differently from the training crops gives a
    wrong result without any error, so a model without a recorded alignment is refused.
    """
    align = getattr(model, "alignment_", None)
    if align is None:
        h, w = model.image_shape_[:2]
        raise UnknownAlignmentError(
            f"this {model.model_type} model does not record how its {w}x{h} training crops were "
            "aligned, so it cannot be applied to photos. Fit it with "
            "fit(..., alignment=pixelfes.Alignment(size=..., margin=...)), or load it with "
            "pixelfes.load(path, alignment=pixelfes.Alignment(size=..., margin=...)) and save it "
            "again (pixelfes train --data records it by itself)"
        )
    return align


def apply_to_crop(model: ExpressionModel, crop: np.ndarray, landmarks: np.ndarray | None,
                  strength: float) -> np.ndarray:
    """Run ``model`` on one aligned RGB crop ``(S, S, 3) uint8``; returns the new RGB crop.

    ``landmarks``: the crop's ``(68, 2)`` points (needed by models that require them).
    """
    from .imageio import from_luminance, to_luminance

    gray = model.image_shape_[2] == 1
    x = to_luminance(crop)[..., None] if gray else crop
    lm = None if landmarks is None else np.asarray(landmarks)[None]
    y = model.predict(x[None], landmarks=lm, strength=strength)[0]
    return from_luminance(y[..., 0], crop) if gray else y


_LAB_LOCK = threading.Lock()
_LAB_THREAD: threading.Thread | None = None


def _build_lab_tables() -> None:
    """One CIELAB conversion of one pixel: OpenCV builds all its Lab <-> RGB tables (8-bit and
    float, both directions) at a process's first Lab conversion, whatever its size."""
    import cv2

    cv2.cvtColor(np.zeros((1, 1, 3), np.float32), cv2.COLOR_RGB2LAB)


def warm_lab_tables() -> None:
    """Start OpenCV's CIELAB table building (60-90 ms, once per process) on another thread.

    The native engine's first Lab conversion waits for those tables; built beside decoding,
    detection and landmarks (OpenCV releases the GIL), they cost a cold start no wall time
    where a second core is free, and the same CPU time either way (the same tables: the
    same bytes out). Callers wait with :func:`_lab_tables_ready` before any Lab conversion:
    OpenCV's table initialisation is not thread-safe.
    """
    global _LAB_THREAD
    with _LAB_LOCK:
        if _LAB_THREAD is None:
            _LAB_THREAD = threading.Thread(target=_build_lab_tables, name="pixelfes-lab-tables",
                                           daemon=True)
            _LAB_THREAD.start()


def _warm_lab_for(model: ExpressionModel, native: bool | None) -> None:
    """:func:`warm_lab_tables` when ``model``'s engine converts to CIELAB: the native engine (as
    ``native`` asks; never raising here for a model it does not fit) or the action units."""
    if hasattr(model, "synthesize_in_photo") or (native is not False and uses_native(model)):
        warm_lab_tables()


def _lab_tables_ready() -> None:
    """Wait for :func:`warm_lab_tables`' thread, if one was started (at once when done)."""
    thread = _LAB_THREAD
    if thread is not None:
        thread.join()


def find_faces(rgb: np.ndarray, *, max_faces: int | None = None, min_size: float = 40.0,
               path: str | Path | None = None) -> list[Face]:
    """Every face of ``rgb`` ``(H, W, 3) uint8`` with its 68 landmarks, largest first.

    Raises :class:`pixelfes.face.NoFaceError` (naming ``path``) when there is none. The
    result can be reused for many :func:`synthesize_rgb` calls on the same photo.
    """
    from .face import detect_faces

    return detect_faces(rgb, landmarks=68, max_faces=max_faces, min_size=min_size, path=path)


def uses_native(model: ExpressionModel, native: bool | None = None) -> bool:
    """Whether ``model`` runs at the photo's own resolution (:mod:`pixelfes.native`).

    Colour shape + texture models do by default (``native=None``); ``native=False`` keeps
    the canvas path (the model's crop pasted back), e.g. to reproduce earlier figures.
    """
    able = (hasattr(model, "predict_shape") and model.image_shape_[2] == 3
            and not hasattr(model, "synthesize_in_photo"))  # the action units have their own
    if native and not able:
        raise ValueError(f"native=True needs a colour shape + texture model; this is a "
                         f"{model.model_type} model on {model.image_shape_[2]}-channel crops")
    return able if native is None else bool(native)


def _change_face(photo: np.ndarray, out: np.ndarray, landmarks: np.ndarray, model: ExpressionModel,
                 strength: float, alignment: Alignment, mouth: str, native: bool) -> np.ndarray:
    """One face of ``photo`` changed into ``out`` in place (``out`` is returned)."""
    from .face import align_face, paste_change

    in_photo = getattr(model, "synthesize_in_photo", None)  # engines that warp the photo itself
    if in_photo is not None:
        return np.asarray(in_photo(out, landmarks, strength, out=out))  # in place, no copies
    if native:
        from .native import synthesize_face

        synthesize_face(photo, out, landmarks, model, strength, mouth=mouth)
        return out
    aligned = align_face(photo, landmarks, alignment)
    after = apply_to_crop(model, aligned.crop, aligned.landmarks, strength)
    return paste_change(out, aligned, after, out=out)


def synthesize_rgb(rgb: np.ndarray, model: ExpressionModel, strength: float = 1.0, *,
                   faces: Sequence[Face] | None = None, detect: bool = True,
                   max_faces: int | None = None, min_size: float = 40.0,
                   path: str | Path | None = None, report: FaceReport | None = None,
                   mouth: str = "auto", native: bool | None = None) -> np.ndarray:
    """Change every face of ``rgb`` ``(H, W, 3) uint8``; returns a new array of the same shape.

    ``faces``: faces already found on this photo (:func:`find_faces`), changed as given
    without detecting again; ``detect=False``: the image is one face crop. Found faces too
    small, beyond ``max_faces`` or with an implausible landmark fit are left as they are
    and listed, with the reason, in ``report`` (when given). ``mouth`` (native engine
    only): ``"auto"`` gives a smile the typical mouth of similar people, real teeth or
    closed lips (other targets: teeth when the predicted opening is large enough), ``"open"`` always, ``"closed"`` never (lips meet), ``"likely"`` only where the
    neutral photo makes teeth the lower expected error (mostly closed; docs/mouth.md). ``native``: see
    :func:`uses_native`. Raises :class:`pixelfes.face.NoFaceError` when no face can be
    changed (listing skipped ones).
    """
    from .face import NoFaceError
    from .face.detect import search_faces
    from .native import check_mouth

    strength = check_strength(strength)
    alignment = alignment_of(model)
    check_mouth(mouth)
    nat = uses_native(model, native)
    if mouth != "auto" and not nat:
        raise ValueError(f"mouth={mouth!r} needs the native engine (a colour shape + texture "
                         f"model); this is a {model.model_type} model")
    if strength == 0.0:
        return rgb.copy()
    _warm_lab_for(model, native)  # built while the faces are found
    if not detect:
        out = _synthesize_whole(rgb, model, strength, alignment, mouth, nat)
        if report is not None:
            report.changed += 1
        return out
    if faces is None:
        found = search_faces(rgb, landmarks=68, max_faces=max_faces, min_size=min_size)
        if report is not None:
            report.changed += len(found.faces)
            report.skipped.extend(found.skipped)
        if not found.faces:
            raise NoFaceError(path, rgb.shape, min_size, skipped=found.skipped)
        faces = found.faces
    elif report is not None:
        report.changed += len(faces)
    out = rgb.copy()  # one copy for all faces, each changed in place
    _lab_tables_ready()
    for face in faces:  # each face read from the original photo: faces are independent
        out = _change_face(rgb, out, face.landmarks, model, strength, alignment, mouth, nat)
    return out


def _synthesize_whole(rgb: np.ndarray, model: ExpressionModel, strength: float,
                      alignment: Alignment, mouth: str = "auto", native: bool = False) -> np.ndarray:
    """``--no-detect``: the image is one face crop (a painting, an animal, a tight crop).

    The crop is padded (edges replicated) and enlarged so dlib can work on it. If the HOG
    detector finds a face there, its landmarks are used; otherwise the 68-point
    predictor is run on a box covering the crop, which still places eyes, nose and mouth
    on most faces, animal ones included. The face is then aligned as the model's crops
    were, changed and put back as in a photo, and the padding is cut off again.
    """
    import cv2

    from .face import detect_faces, landmarks_for_box
    from .imageio import check_pixels

    h, w = rgb.shape[:2]
    pad = max(h, w) // 4
    check_pixels((w + 2 * pad, h + 2 * pad), "the padded --no-detect canvas (1.5 x the image)")
    big = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    scale = max(1.0, 480.0 / max(big.shape[:2]))
    work = cv2.resize(big, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) \
        if scale > 1 else big
    faces = detect_faces(work, landmarks=68, min_size=0.3 * scale * min(h, w), allow_empty=True)
    if faces:
        landmarks = faces[0].landmarks / scale
    else:
        box = (scale * (pad + 0.08 * w), scale * (pad + 0.12 * h),
               scale * (pad + 0.92 * w), scale * (pad + 0.98 * h))
        landmarks = landmarks_for_box(work, box) / scale
    _lab_tables_ready()
    out = _change_face(big, big.copy(), landmarks, model, strength, alignment, mouth, native)
    return np.ascontiguousarray(out[pad : pad + h, pad : pad + w])


def synthesize(image: ImageLike, to: str | None = None, strength: float = 1.0,
               model: str | os.PathLike[str] | ExpressionModel | None = None, *,
               from_: str = "neutral", detect: bool = True, max_faces: int | None = None,
               min_size: float = 40.0, mouth: str = "auto", native: bool | None = None,
               au: Any = None, engine: str = "auto", like: ImageLike | None = None) -> Any:
    """Give every face in ``image`` the expression ``to``; returns the image in its own type.

    ``image``: a path, a PIL image or an ``(H, W[, C])`` array (uint8 or 16-bit); the
    result keeps its type, size and mode. ``model``: a bundled or user model name, a
    model file path, or a fitted model (default: the best model for ``from_ -> to``).
    ``strength``: 0 returns the photo unchanged, 1 the model, above 1 exaggerates.
    ``detect=False`` treats the image as an already aligned face crop (paintings,
    animals). ``mouth``: ``"auto"``, ``"open"`` (real teeth) or ``"closed"`` (lips meet);
    ``native``: see :func:`uses_native`. Raises :class:`pixelfes.face.NoFaceError` naming
    the file if no face is found.
    ``to`` defaults to "happy" unless ``au`` or ``like`` is given. ``au``: facial action
    units to add, ``{1: 0.8, "12L": 0.5}`` or ``"1=0.8,12L=0.5"``; ``engine``: "auto" (a
    learned model where one exists, else the action units), "learned" or "actions";
    ``like``: another photo whose first face's actions every face takes.
    """
    from .imageio import load_image

    if to is None and au is None and like is None:
        to = "happy"
    like_units = None
    if like is not None:
        from .actions.photo import analyze_image

        like_units = analyze_image(like)[0].units
    fitted = resolve_model(model, from_, to, engine=engine, au=au, like=like_units)
    _warm_lab_for(fitted, native)  # built while the photo is decoded and its faces found
    loaded = load_image(image)
    path = image if isinstance(image, str | Path) else getattr(image, "filename", None) or None
    out = synthesize_rgb(loaded.rgb, fitted, strength, detect=detect, max_faces=max_faces,
                         min_size=min_size, path=path, mouth=mouth, native=native)
    return loaded.to_output(out)
