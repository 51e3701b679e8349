"""Identity-disjoint mouth evaluation on full-size photos, for any engine.

Each fold's engine is built by a *factory* from the training people only
(:class:`TrainingFold`: their aligned pairs, and their photo files for engines that want
pixels at full size, e.g. a bank of real mouth interiors), then applied to the held-out
people's full-size photos. An engine is a fitted :class:`~pixelfes.models.base.ExpressionModel`
(applied with :func:`pixelfes.pipeline.synthesize_rgb`) or any callable
``engine(rgb, faces, strength) -> rgb``. Each output is measured with landmarks detected
on the output (:mod:`pixelfes.evaluate.mouth`) against the same person's real photo of
the target expression; ``input`` (no change) and ``real target`` rows come with every run.
"""

from __future__ import annotations

import csv
import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixelfes.alignment import Alignment
from pixelfes.evaluate.mouth import (
    DETAIL_WIDTH,
    MouthMeasure,
    compare_mouths,
    detect_landmarks,
    measure_mouth,
)
from pixelfes.expressions import normalize_expression
from pixelfes.splits import kfold_splits

__all__ = [
    "FACTORIES",
    "PersonPhotos",
    "TrainingFold",
    "apply_engine",
    "london_people",
    "pairs_loader",
    "resolve_factory",
    "run_mouth_folds",
    "shape_texture_factory",
]


@dataclass(frozen=True)
class PersonPhotos:
    """One person: identity, group (e.g. London ``face_eth``) and a photo per expression."""

    identity: str
    group: str
    photos: Mapping[str, Path] = field(repr=False)


def london_people(data_dir: str | os.PathLike[str], source: str = "neutral",
                  target: str = "happy") -> list[PersonPhotos]:
    """People of the London Face Set with both photos, grouped by ``london_info.csv``'s ``face_eth``."""
    from pixelfes.datasets import open_dataset

    root = Path(data_dir)
    info = root / "london_info.csv"
    if not info.is_file():
        raise FileNotFoundError(f"expected {info} (columns face_id, face_eth); not found")
    with info.open(newline="", encoding="utf-8") as fh:
        eth = {row["face_id"].strip(): row["face_eth"].strip() for row in csv.DictReader(fh)}
    src, tgt = normalize_expression(source), normalize_expression(target)
    people = []
    for a, b in open_dataset(root).pair_records(src, tgt, "first"):
        people.append(PersonPhotos(a.identity, eth.get(a.identity, "unknown"),
                                   {src: a.path, tgt: b.path}))
    return sorted(people, key=lambda p: p.identity)


PairsLoader = Callable[[str, str, "Alignment | None"], Any]


def pairs_loader(data_dir: str | os.PathLike[str], progress: bool = False) -> PairsLoader:
    """``load(source, target, alignment) -> PairArrays`` of a data set, aligned once per alignment.

    The reverse direction reuses the same crops (sources and targets swapped).
    """
    from pixelfes.datasets import PairArrays, load_pairs

    cache: dict[tuple[str, str, Alignment | None], PairArrays] = {}

    def load(source: str, target: str, alignment: Alignment | None) -> PairArrays:
        key = (source, target, alignment)
        if key not in cache:
            back = cache.get((target, source, alignment))
            if back is not None:
                cache[key] = PairArrays(back.identities, back.T, back.X, back.landmarks_target,
                                        back.landmarks_source, back.alignment)
            else:
                cache[key] = load_pairs(data_dir, source, target, alignment, progress=progress)
        return cache[key]

    return load


@dataclass(frozen=True)
class TrainingFold:
    """What a factory may train on: the training people of one fold, one direction."""

    source: str
    target: str
    index: int
    people: tuple[PersonPhotos, ...]
    _load: PairsLoader | None = field(default=None, repr=False)

    @property
    def identities(self) -> list[str]:
        return [p.identity for p in self.people]

    def pairs(self, alignment: Alignment | None = None) -> Any:
        """Aligned ``source -> target`` :class:`~pixelfes.datasets.PairArrays` of these people only."""
        if self._load is None:
            raise ValueError("this fold has no pairs loader; build it with pairs_loader(data_dir)")
        from pixelfes.datasets import PairArrays

        allp = self._load(self.source, self.target, alignment)
        keep = np.flatnonzero(np.isin(np.asarray(allp.identities), self.identities))
        if len(keep) == 0:
            raise ValueError(f"fold {self.index}: no aligned pairs for its {len(self.people)} people")
        return PairArrays([allp.identities[i] for i in keep], allp.X[keep], allp.T[keep],
                          allp.landmarks_source[keep], allp.landmarks_target[keep], allp.alignment)


ModelFactory = Callable[[TrainingFold], Any]


def shape_texture_factory(fold: TrainingFold) -> Any:
    """Today's default engine: ``shape-texture`` with default parameters fitted on the fold's pairs."""
    from pixelfes.models import make_model

    pairs = fold.pairs()
    return make_model("shape-texture").fit(pairs.X, pairs.T, **pairs.fit_kwargs())


def _from_engines(name: str) -> ModelFactory:
    """``pixelfes.evaluate.engines.<name>``, imported at its first call (that module loads the
    native engine and its mouth bank, which naming the factories does not need)."""
    def factory(fold: TrainingFold) -> Any:
        from . import engines

        return getattr(engines, name)(fold)

    factory.__name__ = factory.__qualname__ = name
    return factory


#: Engines by name; anything else is given as ``module:function`` (:func:`resolve_factory`).
#: ``shape-texture`` is the model applied as before the native engine (the crop pasted back:
#: a bare model would now run natively with the bundled mouth bank, which holds everyone);
#: ``native`` is the native engine with a mouth bank of the fold's training people;
#: ``native-likely`` the same with ``mouth="likely"``; ``native-eyes`` with a smile's eye part at the
#: data's level (``synthesize_face(eyes=...)``, off by default: docs/mouth.md, "The eye part of a smile
#: at the data's level"). The others were candidates since adopted, the same as ``native`` now, kept
#: for the record's commands: ``native-lipbank`` / ``native-lipbank2`` (closing lips given real closed
#: lips' relief), ``native-calmline2`` (the red wedge's calming, "level"), ``native-specks``,
#: ``native-crisp``, ``native-ends``. The factories of candidates not adopted (``native-reshape``,
#: ``native-calmline``, ``native-outline``, ``native-ends2``, ``native-redrim``, ``native-junction``,
#: ``native-junction2``, ``native-glints``) were removed from main after 152500d: docs/mouth.md
#: records each, and ``git checkout 152500d`` reproduces them.
FACTORIES: dict[str, ModelFactory] = {
    "shape-texture": _from_engines("canvas_factory"),
    "native": _from_engines("native_factory"),
    "native-likely": _from_engines("native_likely_factory"),
    "native-lipbank": _from_engines("native_lipbank_factory"),
    "native-lipbank2": _from_engines("native_lipbank_factory"),
    "native-specks": _from_engines("native_specks_factory"),
    "native-ends": _from_engines("native_ends_factory"),
    "native-calmline2": _from_engines("native_calmline2_factory"),
    "native-crisp": _from_engines("native_crisp_factory"),
    "native-eyes": _from_engines("native_eyes_factory"),
    "native-smilelip": _from_engines("native_smilelip_factory"),
}


def resolve_factory(text: str) -> tuple[str, ModelFactory]:
    """``"shape-texture"``, ``"pkg.mod:func"`` or ``"LABEL=pkg.mod:func"`` -> (label, factory)."""
    label, eq, ref = text.partition("=")
    if not eq:
        label, ref = "", text
    ref = ref.strip()
    if ref in FACTORIES:
        return (label.strip() or ref), FACTORIES[ref]
    module, colon, name = ref.partition(":")
    if not colon or not module or not name:
        raise ValueError(f"model factory {text!r}: expected one of {sorted(FACTORIES)} or "
                         "module:function (optionally LABEL=module:function)")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"model factory {text!r}: cannot import {name} from {module} ({exc})") from None
    if not callable(obj):
        raise ValueError(f"model factory {text!r}: {ref} is not callable")
    return (label.strip() or name), obj


def apply_engine(engine: Any, rgb: np.ndarray, faces: Sequence[Any], strength: float = 1.0) -> np.ndarray:
    """Run an engine on a full-size photo whose faces are known."""
    from pixelfes.models.base import ExpressionModel

    if isinstance(engine, ExpressionModel):
        from pixelfes.pipeline import synthesize_rgb

        return synthesize_rgb(rgb, engine, strength, faces=faces)
    if callable(engine):
        out = np.asarray(engine(rgb, faces, strength))
        if out.shape != rgb.shape or out.dtype != np.uint8:
            raise ValueError(f"the engine returned {out.shape} {out.dtype}; expected {rgb.shape} uint8")
        return out
    raise TypeError(f"a factory must return an ExpressionModel or a callable (rgb, faces, strength); "
                    f"got {type(engine).__name__}")


def _read(path: Path) -> np.ndarray:
    from pixelfes.imageio import read_rgb

    return read_rgb(path)[0]


OutputHook = Callable[[PersonPhotos, str, np.ndarray, "np.ndarray | None"], None]


def run_mouth_folds(
    people: Sequence[PersonPhotos],
    factories: Mapping[str, ModelFactory],
    *,
    source: str = "neutral",
    target: str = "happy",
    load_pairs: PairsLoader | None = None,
    n_folds: int = 5,
    seed: int = 0,
    strength: float = 1.0,
    detail_width: int = DETAIL_WIDTH,
    only: set[str] | None = None,
    find_faces: Callable[[np.ndarray], Sequence[Any]] | None = None,
    landmarks_of: Callable[[np.ndarray], np.ndarray] = detect_landmarks,
    read: Callable[[Path], np.ndarray] = _read,
    on_output: OutputHook | None = None,
    progress: bool = False,
    call: str = "photo",
) -> list[dict[str, Any]]:
    """Per-person comparison rows (methods ``input``, each factory's label, ``real target``).

    Folds are :func:`pixelfes.splits.kfold_splits` over people (``n_folds``, ``seed``);
    each factory is called once per fold with that fold's :class:`TrainingFold` (training
    people only) and its engine changes the held-out people's ``source`` photos. ``only``:
    synthesise and measure just these identities (their folds are still trained on every
    other fold's people). ``detail_width``: see :func:`~pixelfes.evaluate.mouth.laplacian_detail`.
    ``find_faces`` (default :func:`pixelfes.pipeline.find_faces`,
    largest face) finds the input's faces once; ``landmarks_of`` measures every image.
    ``on_output(person, method, rgb, landmarks)`` sees each image measured (landmarks
    ``None`` when none were found). ``call``: how a mouth is called open
    (:data:`pixelfes.evaluate.mouth.MOUTH_CALLS`). A failure (no face on an output...) is a row with
    ``failed`` set, never a silent drop.
    """
    from tqdm.auto import tqdm

    source, target = normalize_expression(source), normalize_expression(target)
    if find_faces is None:
        from pixelfes.pipeline import find_faces as _ff

        def find_faces(rgb: np.ndarray) -> Sequence[Any]:
            return _ff(rgb, max_faces=1)
    labels = list(factories)
    if {"input", "real target"} & set(labels):
        raise ValueError(f"factory labels {labels} may not be 'input' or 'real target'")
    for p in people:
        for e in (source, target):
            if e not in p.photos:
                raise ValueError(f"person {p.identity} has no {e} photo")
    ids = [p.identity for p in people]
    if len(set(ids)) != len(ids):
        raise ValueError("people must be distinct identities")
    splits = kfold_splits(ids, n_folds, seed)
    rows: list[dict[str, Any]] = []

    def measured(person: PersonPhotos, method: str, rgb: np.ndarray) -> MouthMeasure | str:
        try:
            lm = landmarks_of(rgb)
            m = measure_mouth(rgb, lm, detail_width=detail_width, call=call)
        except ValueError as exc:  # NoFaceError is a ValueError
            if on_output is not None:
                on_output(person, method, rgb, None)
            return f"{type(exc).__name__}: {exc}"
        if on_output is not None:
            on_output(person, method, rgb, lm)
        return m

    todo = [(j, tr, te) for j, (tr, te) in enumerate(splits)
            if only is None or any(ids[i] in only for i in te)]
    bar = tqdm(total=sum(len(te) if only is None else sum(ids[i] in only for i in te)
                         for _, _, te in todo),
               desc=f"{source}->{target} people", disable=not progress, leave=False)
    for j, train, test in todo:
        fold = TrainingFold(source, target, j, tuple(people[i] for i in train), load_pairs)
        engines = {label: f(fold) for label, f in factories.items()}
        trained = set(fold.identities)
        for i in test:
            person = people[i]
            if only is not None and person.identity not in only:
                continue
            assert person.identity not in trained  # kfold_splits is identity-disjoint
            base = {"identity": person.identity, "group": person.group, "fold": j,
                    "source": source, "target": target}
            real = measured(person, "real target", read(person.photos[target]))
            rgb = read(person.photos[source])
            no_face = ""
            try:
                faces = find_faces(rgb)
            except ValueError as exc:
                faces, no_face = [], f"{type(exc).__name__}: {exc}"
            outputs: dict[str, np.ndarray | str | MouthMeasure] = {"input": rgb}
            for label, engine in engines.items():
                if not faces:
                    outputs[label] = no_face
                    continue
                try:
                    outputs[label] = apply_engine(engine, rgb, faces, strength)
                except ValueError as exc:
                    outputs[label] = f"{type(exc).__name__}: {exc}"
            outputs["real target"] = real  # measured once; its row is the zero check
            for method, out in outputs.items():
                row = {**base, "method": method}
                m = out if isinstance(out, str | MouthMeasure) else measured(person, method, out)
                if isinstance(real, str):
                    row["failed"] = f"real target: {real}"
                elif isinstance(m, str):
                    row["failed"] = m
                else:
                    row.update(compare_mouths(m, real).as_dict())
                    row["output"] = m.as_dict()
                    row["real"] = real.as_dict()
                rows.append(row)
            bar.update(1)
    bar.close()
    return rows
