"""Engines for the mouth folds (:mod:`pixelfes.evaluate.mouth_protocol`): canvas and native.

Both train today's ``shape-texture`` model on the fold's people. ``canvas`` applies it as
before the native engine (the model's 192 px crop pasted back, ``native=False``);
``native`` applies it at the photo's own size (:mod:`pixelfes.native`) with a mouth bank
built from the fold's training people only, so no held-out person is given their own
teeth or smile (the bundled bank holds all 82 London people).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["canvas_factory", "fold_bank", "fold_lid_goal", "native_calmline2_factory", "native_crisp_factory",
           "native_ends_factory", "native_eyes_factory", "native_factory", "native_likely_factory",
           "native_lipbank_factory", "native_smilelip_factory", "native_specks_factory"]


@functools.lru_cache(maxsize=512)
def _photo(path: str) -> tuple[np.ndarray, np.ndarray]:
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces

    rgb = load_image(Path(path)).rgb
    return rgb, find_faces(rgb, max_faces=1)[0].landmarks


def _model(fold: Any) -> Any:
    from .mouth_protocol import shape_texture_factory

    model = shape_texture_factory(fold)
    model.info["source"], model.info["target"] = fold.source, fold.target
    return model


def canvas_factory(fold: Any) -> Any:
    """``engine(rgb, faces, strength)``: the model's crop pasted back (the engine before native)."""
    from pixelfes.pipeline import synthesize_rgb

    model = _model(fold)
    return lambda rgb, faces, strength: synthesize_rgb(rgb, model, strength, faces=faces, native=False)


def native_likely_factory(fold: Any) -> Any:
    """The native engine with ``mouth="likely"`` (teeth only where they are the lower expected error)."""
    return native_factory(fold, mouth="likely")


def fold_bank(fold: Any) -> Any:
    """A :class:`~pixelfes.mouth.MouthBank` of the fold's training people only (their smiles,
    and their neutral photos' crease profiles): no held-out person is lent their own mouth."""
    from pixelfes.mouth import MouthBank

    people = [p for p in fold.people if "happy" in p.photos and "neutral" in p.photos]
    smiles = [_photo(str(p.photos["happy"])) for p in people]
    return MouthBank.build([s[0] for s in smiles], [s[1] for s in smiles],
                           [p.identity for p in people],
                           neutral_landmarks=[_photo(str(p.photos["neutral"]))[1] for p in people],
                           neutral_photos=[_photo(str(p.photos["neutral"]))[0] for p in people])


def native_lipbank_factory(fold: Any) -> Any:
    """The native engine with closing lips given real closed lips' relief (``relief=True``)."""
    return native_factory(fold, relief=True)


def native_specks_factory(fold: Any) -> Any:
    """The native engine with a smile's corner specks toned down (``specks=True``; the default since adopted)."""
    return native_factory(fold, specks=True)


def native_crisp_factory(fold: Any) -> Any:
    """The native engine with lent teeth keeping their patch's finest detail (``crisp=True``; the
    default since adopted: docs/mouth.md, "Lent teeth that keep their own detail")."""
    return native_factory(fold, crisp=True)


def native_calmline2_factory(fold: Any) -> Any:
    """The native engine with closing lips' redness above real closed lips' at the meeting line taken
    out, never below the line's own level (``calm="level"``; the default since adopted: docs/mouth.md,
    "The closed lips' red wedge")."""
    return native_factory(fold, calm="level")


def native_factory(fold: Any, mouth: str = "auto", eyes: Any = None, **looks: Any) -> Any:
    """``engine(rgb, faces, strength)``: the native engine with the fold's own mouth bank.

    ``looks``: :func:`pixelfes.native.synthesize_face`'s other switches (``relief``, ``specks``,
    ``calm``, ``crisp``, ``ends``), passed on as given (a name it does not take is a ``TypeError``
    here, not at the first face); ``eyes``: as there, or ``"fold"`` for a
    :class:`~pixelfes.lids.LidGoal` fitted on the fold's training people (:func:`fold_lid_goal`)."""
    import inspect

    from pixelfes.native import synthesize_face

    unknown = sorted(set(looks) - set(inspect.signature(synthesize_face).parameters))
    if unknown:
        raise TypeError(f"native_factory: synthesize_face takes no {', '.join(unknown)}")
    model = _model(fold)
    bank = fold_bank(fold)
    if isinstance(eyes, str):
        if eyes != "fold":
            raise ValueError(f"eyes: expected 'fold', a bool, None or a LidGoal; got {eyes!r}")
        eyes = fold_lid_goal(fold)

    def engine(rgb: np.ndarray, faces: Any, strength: float) -> np.ndarray:
        out = rgb.copy()
        for face in faces:
            synthesize_face(rgb, out, face.landmarks, model, strength, bank=bank, mouth=mouth,
                            eyes=eyes, **looks)
        return out

    return engine


def native_ends_factory(fold: Any) -> Any:
    """The native engine with a smile's opening given the dark ends of a real one (``ends=True``;
    the default since adopted: docs/mouth.md, "The smile's mushy corners")."""
    return native_factory(fold, ends=True)


def native_smilelip_factory(fold: Any) -> Any:
    """The native engine with a smile's lower lip given the lent smile's own lower lip's fine relief
    (``smile_lip=True``; not adopted: docs/mouth.md, "A smile's lower lip from the lender's")."""
    return native_factory(fold, smile_lip=True)


def fold_lid_goal(fold: Any) -> Any:
    """A :class:`~pixelfes.lids.LidGoal` (real smiles' mean eye motion by kind, lower-lid profile)
    of the fold's training people only: no held-out person's smile sets their own eyes."""
    from pixelfes.lids import LidGoal

    people = [p for p in fold.people if "happy" in p.photos and "neutral" in p.photos]
    neutral = [_photo(str(p.photos["neutral"])) for p in people]
    smiles = [_photo(str(p.photos["happy"])) for p in people]
    return LidGoal.fit([n[0] for n in neutral], [n[1] for n in neutral], [s[0] for s in smiles],
                       [s[1] for s in smiles])


def native_eyes_factory(fold: Any) -> Any:
    """The native engine with a smile's eye part at the data's level, fitted on the fold's training
    people (``eyes=fold_lid_goal(fold)``; docs/mouth.md, "The eye part of a smile at the data's level")."""
    return native_factory(fold, eyes="fold")
