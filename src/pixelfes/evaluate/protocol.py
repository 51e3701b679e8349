"""The evaluation protocol: identity-disjoint k-fold training, held-out synthesis, scoring.

Every model is trained on the people of the training folds only and synthesises the
held-out people; each person is held out exactly once, so every pair gets one held-out
output per model and strength. The outputs are then judged like the paper does and more:

- expression: share of outputs a pretrained classifier calls the target expression, the
  mean probability of the target, and the confusion matrix (``fer``; face-api's net,
  ``faceapi``, as a second judge that sees more; ``facex`` too when installed);
- identity: dlib embedding distance of each output to the same person's real target photo,
  and rank-1 identification among the real targets of all held-out people;
- image quality against the real target: PSNR, SSIM and sharpness ratio, computed on the
  paper's framing (see :func:`framing_slice`);
- size (parameters, bytes on disk) and fit time.

Next to the models, always: ``input`` (output = input; it is also the real source photos,
so its expression accuracy is the classifier's floor), ``mean target`` (the mean target
face of the training fold) and ``real target`` (the real photos: the classifier's ceiling).

Scorers are injectable (:class:`Scorers`), so the protocol runs on generated data with stub
scorers; :meth:`Scorers.default` builds the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from pixelfes.alignment import DEFAULT_ALIGNMENT, Alignment
from pixelfes.evaluate.data import aligned_pairs
from pixelfes.evaluate.framing import (
    FACEAPI_FACE_FRAME_BOX,
    faceapi_box,
    framing_box,
    framing_slice,
)
from pixelfes.evaluate.result import ProtocolResult
from pixelfes.evaluate.scoring import Scorers, score_outputs
from pixelfes.evaluate.specs import BASELINES, MODEL_LABELS, EvaluationError, ModelSpec
from pixelfes.expressions import normalize_expression
from pixelfes.splits import kfold_splits

__all__ = [
    "BASELINES",
    "FACEAPI_FACE_FRAME_BOX",
    "MODEL_LABELS",
    "EvaluationError",
    "ModelSpec",
    "ProtocolResult",
    "Scorers",
    "aligned_pairs",
    "evaluate_direction",
    "faceapi_box",
    "framing_box",
    "framing_slice",
    "kfold_splits",
    "run_protocol",
]


def _check_splits(splits: Sequence[tuple[np.ndarray, np.ndarray]], groups: np.ndarray) -> None:
    seen = np.zeros(len(groups), dtype=int)
    for j, (train, test) in enumerate(splits):
        if len(train) == 0 or len(test) == 0:
            raise EvaluationError(f"fold {j} has an empty training or test part")
        both = set(groups[train]) & set(groups[test])
        if both:
            raise EvaluationError(f"fold {j} has people on both sides: {sorted(both)[:5]}")
        seen[test] += 1
    if np.any(seen > 1):
        raise EvaluationError("a pair is held out in more than one fold")


def run_protocol(
    X: np.ndarray,
    T: np.ndarray,
    groups: Sequence[Any],
    specs: Sequence[ModelSpec | str],
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    source: str = "neutral",
    target: str = "happy",
    strengths: Sequence[float] = (1.0,),
    expression_strengths: Sequence[float] = (),
    landmarks_source: np.ndarray | None = None,
    landmarks_target: np.ndarray | None = None,
    scorers: Scorers | None = None,
    alignment: Alignment | None = None,
    max_train_people: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> ProtocolResult:
    """Train every model on each split's training people, synthesise its test people, score.

    ``X``, ``T``: ``(N, H, W, C)`` uint8 aligned pairs; ``groups``: the person of each pair;
    ``splits``: (train indices, test indices) with no person on both sides (checked).
    ``strengths`` are scored by every scorer; ``expression_strengths`` (extra) only by the
    expression classifiers (cheap, for strength curves). ``max_train_people`` trains each
    fold on that many of its training people (seeded choice; learning curves). Models with
    ``requires_landmarks`` get the landmarks (``(N, 68, 2)`` crop coordinates).
    ``alignment``: how the crops were aligned (``pairs.alignment``; default
    :data:`DEFAULT_ALIGNMENT`, which must then match the crop size): models are fitted
    with it and quality is scored on its paper's framing. ``scorers=None`` builds
    :meth:`Scorers.default` for it.
    """
    from tqdm.auto import tqdm

    X, T = np.asarray(X), np.asarray(T)
    if X.shape != T.shape or X.ndim != 4 or X.dtype != np.uint8 or T.dtype != np.uint8:
        raise EvaluationError(f"X and T must be equal (N, H, W, C) uint8 batches; got {X.shape} "
                              f"{X.dtype} and {T.shape} {T.dtype}")
    g = np.asarray([str(v) for v in groups])
    if len(g) != len(X):
        raise EvaluationError(f"groups has {len(g)} entries for {len(X)} pairs")
    splits = [(np.asarray(a, dtype=int), np.asarray(b, dtype=int)) for a, b in splits]
    _check_splits(splits, g)
    parsed = [ModelSpec.parse(s) if isinstance(s, str) else s for s in specs]
    labels = [s.label for s in parsed]
    if len(set(labels)) != len(labels):
        raise EvaluationError(f"two models share a label: {labels}")
    source, target = normalize_expression(source), normalize_expression(target)
    alignment = DEFAULT_ALIGNMENT if alignment is None else alignment
    if X.shape[1:3] != (alignment.size, alignment.size):
        raise EvaluationError(f"the crops are {X.shape[2]}x{X.shape[1]} but the alignment is "
                              f"{alignment}; pass the pairs' alignment=")
    if scorers is None:
        scorers = Scorers.default(alignment)
    all_strengths = list(dict.fromkeys([float(a) for a in strengths]
                                       + [float(a) for a in expression_strengths]))
    full = {float(a) for a in strengths}

    res = ProtocolResult(source, target, g, splits, tuple(X.shape[1:]), alignment,
                         backends=list(scorers.expression))
    res.outputs["input"] = X
    res.outputs["real target"] = T
    res.outputs["mean target"] = np.zeros_like(X)
    res.methods["input"] = {"kind": "baseline", "label": "input", "strength": None,
                            "description": "output = input (the real source photos: the classifier's floor)"}
    res.methods["mean target"] = {"kind": "baseline", "label": "mean target", "strength": None,
                                  "description": "output = mean target face of the training fold"}
    res.methods["real target"] = {"kind": "reference", "label": "real target", "strength": None,
                                  "description": "the real target photos (the classifier's ceiling)"}
    for spec in parsed:
        for a in all_strengths:
            key = res.key(spec.label, a)
            res.outputs[key] = np.zeros_like(X)
            res.methods[key] = {"kind": "model", "label": spec.label, "model_type": spec.name,
                                "params": dict(spec.params), "strength": a,
                                "scored": "all" if a in full else "expression"}
        res.fit_seconds[spec.label] = []
        res.predict_seconds[spec.label] = []
        res.trained_on[spec.label] = []

    rng = np.random.default_rng(seed)
    bar = tqdm(total=len(splits) * len(parsed), desc=f"{source}->{target} folds x models",
               disable=not progress, leave=False)
    for train, test in splits:
        if max_train_people is not None:
            people = np.unique(g[train])
            if max_train_people < len(people):
                keep = rng.choice(people, size=int(max_train_people), replace=False)
                train = train[np.isin(g[train], keep)]
        res.outputs["mean target"][test] = T[train].astype(np.float64).mean(axis=0).round().astype(np.uint8)
        for spec in parsed:
            model = spec.build()
            landmarks = bool(model.requires_landmarks)
            if landmarks and (landmarks_source is None or landmarks_target is None):
                raise EvaluationError(f"{spec.label} needs landmarks; pass landmarks_source and "
                                      "landmarks_target")
            ls, lt = (landmarks_source, landmarks_target) if landmarks else (None, None)
            t0 = time.perf_counter()
            model.fit(X[train], T[train], landmarks_source=None if ls is None else ls[train],
                      landmarks_target=None if lt is None else lt[train],
                      groups=g[train].tolist(), alignment=alignment)
            res.fit_seconds[spec.label].append(time.perf_counter() - t0)
            res.trained_on[spec.label].append(sorted(set(g[train].tolist())))
            t0 = time.perf_counter()
            for a in all_strengths:
                y = model.predict(X[test], landmarks=None if ls is None else ls[test], strength=a)
                res.outputs[res.key(spec.label, a)][test] = np.asarray(y).reshape(X[test].shape)
            res.predict_seconds[spec.label].append(time.perf_counter() - t0)
            if spec.label not in res.sizes:
                res.sizes[spec.label] = _size_of(model)
            bar.update(1)
    bar.close()
    score_outputs(res, scorers, full, progress)
    return res


def _size_of(model: Any) -> dict[str, int]:
    from pixelfes.evaluate.sizes import model_size

    try:
        size = model_size(model)
        return {"parameters": int(size.parameters), "bytes": int(size.bytes)}
    except (TypeError, ValueError, NotImplementedError, OSError):
        return {"parameters": int(getattr(model, "n_parameters", 0)), "bytes": -1}


def evaluate_direction(
    X: np.ndarray,
    T: np.ndarray,
    groups: Sequence[Any],
    specs: Sequence[ModelSpec | str],
    *,
    n_folds: int = 5,
    seed: int = 0,
    **kwargs: Any,
) -> ProtocolResult:
    """:func:`run_protocol` over identity-disjoint k folds (leave-one-person-out if few people)."""
    splits = kfold_splits(groups, n_folds, seed)
    res = run_protocol(X, T, groups, specs, splits, seed=seed, **kwargs)
    res.meta.update(n_folds_asked=n_folds, seed=seed,
                    leave_one_person_out=len(splits) == len(set(map(str, groups))))
    return res
