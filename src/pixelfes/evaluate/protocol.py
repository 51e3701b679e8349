"""The evaluation protocol: identity-disjoint k-fold training, held-out synthesis, scoring.

Every model is trained on the people of the training folds only and synthesises the
held-out people; each person is held out exactly once, so every pair gets one held-out
output per model and strength. The outputs are then judged like the paper does and more:

- expression: share of outputs a pretrained classifier calls the target expression, the
  mean probability of the target, and the confusion matrix (``fer``; ``facex`` as a second
  opinion when installed);
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

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from pixelfes.expressions import EXPRESSIONS, normalize_expression

__all__ = [
    "BASELINES",
    "MODEL_LABELS",
    "EvaluationError",
    "ModelSpec",
    "ProtocolResult",
    "Scorers",
    "aligned_pairs",
    "evaluate_direction",
    "framing_box",
    "framing_slice",
    "kfold_splits",
    "run_protocol",
    "to_luminance",
]

#: Column labels of the model types (the paper's names where it has them).
MODEL_LABELS: dict[str, str] = {
    "rr": "RR",
    "mr": "MR",
    "pixel-rr": "Pixel-RR",
    "pixel-kr": "Pixel-KR",
    "shape-texture": "Shape+texture",
}
#: Reference methods scored next to every model, in table order.
BASELINES: tuple[str, ...] = ("input", "mean target", "real target")


class EvaluationError(ValueError):
    """The evaluation was asked for something it cannot do (bad split, missing landmarks...)."""


class _Classifier(Protocol):
    def predict_proba(self, faces: np.ndarray) -> np.ndarray: ...


class _Embedder(Protocol):
    def embed(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    """One model column: a registered model type, its parameters, and its label.

    ``factory`` (optional) builds the unfitted model instead of ``make_model`` (tests use
    it to inject instrumented models).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    factory: Callable[[], Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.label:
            base = MODEL_LABELS.get(self.name, self.name)
            extra = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in self.params.items())
            object.__setattr__(self, "label", f"{base} ({extra})" if extra else base)

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """``"pixel-kr"`` or ``"pixel-kr:sigma=3,lam=0.4"`` -> a spec (numbers parsed)."""
        name, _, rest = text.strip().partition(":")
        params: dict[str, Any] = {}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise EvaluationError(f"model parameter {item!r} in {text!r} must be KEY=VALUE")
            try:
                num = float(value)
                params[key.strip()] = int(num) if num.is_integer() and "." not in value else num
            except ValueError:
                params[key.strip()] = value.strip()
        return cls(name.strip(), params)

    def build(self) -> Any:
        """A new unfitted model."""
        if self.factory is not None:
            return self.factory()
        from pixelfes.models import make_model

        return make_model(self.name, **self.params)


@dataclass
class Scorers:
    """The judges: expression classifiers by name, an identity embedder, quality on/off.

    ``expression`` maps a backend name to an object with ``predict_proba(images) -> (N, 7)``
    in :data:`pixelfes.expressions.EXPRESSIONS` order; ``identity`` has ``embed(images) ->
    (N, D)`` (``None`` skips identity). The first expression backend is the primary one.
    """

    expression: dict[str, _Classifier] = field(default_factory=dict)
    identity: _Embedder | None = None
    quality: bool = True

    @classmethod
    def default(cls, size: int, margin: float, facex: bool = True, identity: bool = True,
                quality: bool = True) -> Scorers:
        """The real scorers, looking at the paper's framing of a ``size``/``margin`` canvas.

        ``facex`` is added when its model file is installed (a second opinion).
        """
        from pixelfes.evaluate.expression import ExpressionBackendUnavailable, ExpressionClassifier
        from pixelfes.evaluate.identity import IdentityEmbedder

        box = framing_box(size, margin)
        expr: dict[str, _Classifier] = {"fer": ExpressionClassifier("fer", face_box=box)}
        if facex:
            clf = ExpressionClassifier("facex", face_box=box)
            try:
                clf.predict_proba(np.zeros((1, 16, 16, 1), np.uint8))
                expr["facex"] = clf
            except ExpressionBackendUnavailable:
                pass
        emb = IdentityEmbedder(face_box=box) if identity else None
        return cls(expr, emb, quality)


# ---------------------------------------------------------------------------- framing


def framing_slice(size: int, margin: float) -> slice:
    """Rows (and columns) of a ``size`` canvas aligned with ``margin`` that are the paper's framing.

    ``pixelfes.face`` aligns so that a canvas of side ``size`` with ``margin`` m shows the
    face at the scale of a ``size / m`` crop with margin 1 (the paper's 128 px framing for
    192 / 1.5). Quality is scored on that centred ``round(size / m)`` square, or on the
    whole crop when ``margin <= 1``.
    """
    if margin <= 1.0:
        return slice(0, size)
    side = int(round(size / margin))
    start = (size - side) // 2
    return slice(start, start + side)


def framing_box(size: int, margin: float) -> tuple[float, float, float, float] | Literal["full"]:
    """The paper's framing as face-box fractions for the scorers (``"full"`` when margin <= 1)."""
    if margin <= 1.0:
        return "full"
    s = framing_slice(size, margin)
    return (s.start / size, s.start / size, s.stop / size, s.stop / size)


def to_luminance(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, 3)`` uint8 RGB -> ``(N, H, W, 1)`` uint8 luminance (BT.601); gray passes."""
    if images.shape[-1] == 1:
        return images
    y = images.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)[..., None]


# ---------------------------------------------------------------------------- data


def _default_cache() -> Path:
    env = os.environ.get("PIXELFES_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "pixelfes" / "aligned"


def aligned_pairs(data: str | os.PathLike[str], from_: str, to: str, size: int = 192,
                  margin: float = 1.5, cache_dir: str | os.PathLike[str] | None = None,
                  combine: str = "all", progress: bool = False) -> Any:
    """Aligned pairs of a data set, aligning each image once into a cache folder.

    A folder written by ``pixelfes prepare`` is read as it is. Any other data set is
    prepared into ``cache_dir`` (default ``$PIXELFES_CACHE`` or ``~/.cache/pixelfes/aligned``)
    under a name made of the folder name, a hash of its path, ``size`` and ``margin``, so a
    rerun reads the crops back without detecting again. Returns
    :class:`pixelfes.datasets.PairArrays`.
    """
    from pixelfes.datasets import load_pairs, open_dataset, prepare

    ds = open_dataset(data)
    if ds.layout != "aligned":
        root = Path(data).resolve()
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:8]
        out = Path(cache_dir) if cache_dir is not None else _default_cache()
        out = out / f"{root.name}-{digest}-{size}-{margin:g}"
        prepare(ds, out, size=size, margin=margin, progress=progress)
        ds = open_dataset(out)
    return load_pairs(ds, normalize_expression(from_), normalize_expression(to),
                      combine=combine, progress=progress)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- splits


def kfold_splits(groups: Sequence[Any], n_folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) per fold, by person (``selection.group_kfold``).

    With fewer people than ``n_folds`` every person is a fold (leave-one-person-out).
    """
    from pixelfes.selection import group_kfold

    folds = group_kfold(groups, n_folds, seed)
    n = len(groups)
    return [(np.setdiff1d(np.arange(n), test), test) for test in folds]


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


# ---------------------------------------------------------------------------- result


@dataclass
class ProtocolResult:
    """Everything one direction's evaluation produced.

    ``outputs[key]`` ``(N, H, W, C)`` uint8 (rows of pairs never held out are zero);
    ``samples[key][metric]`` ``(N,)`` floats (NaN where not scored); ``probs[key][backend]``
    ``(N, 7)``; ``fold_of`` ``(N,)`` fold of each pair (-1 if never held out). Keys are
    ``"<label>@<strength>"`` for models and the baseline names for the references.
    """

    source: str
    target: str
    groups: np.ndarray
    splits: list[tuple[np.ndarray, np.ndarray]]
    image_shape: tuple[int, ...]
    margin: float
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    samples: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    probs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    fit_seconds: dict[str, list[float]] = field(default_factory=dict)
    predict_seconds: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    backends: list[str] = field(default_factory=list)
    trained_on: dict[str, list[list[str]]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def fold_of(self) -> np.ndarray:
        out = np.full(len(self.groups), -1)
        for j, (_, test) in enumerate(self.splits):
            out[test] = j
        return out

    @property
    def held_out(self) -> np.ndarray:
        """Indices of the pairs that were held out in some fold."""
        return np.flatnonzero(self.fold_of >= 0)

    def key(self, label: str, strength: float = 1.0) -> str:
        """Method key of a model label at a strength."""
        return f"{label}@{strength:g}"

    def metric_names(self) -> list[str]:
        names: list[str] = []
        for per in self.samples.values():
            names += [m for m in per if m not in names]
        return names

    def summary(self) -> dict[str, dict[str, dict[str, Any]]]:
        """``{key: {metric: {"mean", "std", "folds": [...]}}}``: per-fold means, then mean and
        std over folds (NaN-only folds are skipped; a metric never scored is absent)."""
        fold = self.fold_of
        k = len(self.splits)
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for key, per in self.samples.items():
            out[key] = {}
            for metric, values in per.items():
                folds = []
                for j in range(k):
                    v = values[fold == j]
                    v = v[np.isfinite(v)]
                    folds.append(float(v.mean()) if len(v) else float("nan"))
                arr = np.array(folds)
                ok = arr[np.isfinite(arr)]
                if not len(ok):
                    continue
                out[key][metric] = {"mean": float(ok.mean()), "std": float(ok.std()),
                                    "folds": folds}
        return out

    def confusion(self, key: str, backend: str, true: str | None = None) -> np.ndarray:
        """7x7 confusion counts of a method's held-out outputs (true label = ``true``, default
        the target; pass the source for the real source photos)."""
        from pixelfes.evaluate.expression import confusion_matrix

        p = self.probs[key][backend][self.held_out]
        pred = [EXPRESSIONS[i] for i in p.argmax(axis=1)]
        return confusion_matrix([true or self.target] * len(pred), pred)

    def to_dict(self, per_sample: bool = False) -> dict[str, Any]:
        """Every number as JSON-able values (NaN/inf become None in :mod:`report`)."""
        summary = self.summary()
        methods = {}
        for key, info in self.methods.items():
            entry: dict[str, Any] = {**info, "scores": summary.get(key, {})}
            if key in self.probs:
                entry["confusion"] = {b: self.confusion(key, b).tolist() for b in self.probs[key]}
                if key == "input":  # the real source photos, judged as their own expression
                    entry["source_confusion"] = {
                        b: self.confusion(key, b, self.source).tolist() for b in self.probs[key]}
            if per_sample:
                entry["per_sample"] = {m: v.tolist() for m, v in self.samples[key].items()}
            methods[key] = entry
        return {
            "source": self.source, "target": self.target,
            "pairs": int(len(self.groups)), "people": int(len(set(self.groups.tolist()))),
            "folds": len(self.splits),
            "fold_people": [sorted(set(self.groups[t].tolist())) for _, t in self.splits],
            "image_shape": list(self.image_shape), "margin": self.margin,
            "quality_region": _region_text(self.image_shape[0], self.margin),
            "expression_backends": self.backends,
            "classes": list(EXPRESSIONS),
            "methods": methods,
            "fit_seconds": self.fit_seconds,
            "predict_seconds_per_face": {
                k: float(np.sum(v) / max(1, len(self.held_out))) for k, v in self.predict_seconds.items()},
            "sizes": self.sizes,
            "meta": self.meta,
        }


def _region_text(size: int, margin: float) -> str:
    s = framing_slice(size, margin)
    if s.stop - s.start == size:
        return f"whole {size} px crop"
    return (f"central {s.stop - s.start} px of the {size} px canvas (rows/cols {s.start}:{s.stop}), "
            f"the paper's framing at margin {margin:g}")


# ---------------------------------------------------------------------------- protocol


def _unique(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of distinct images and the inverse map (identical outputs are scored once)."""
    digests = [hashlib.blake2b(im.tobytes(), digest_size=16).digest() for im in images]
    first: dict[bytes, int] = {}
    inverse = np.empty(len(images), dtype=int)
    order: list[int] = []
    for i, d in enumerate(digests):
        if d not in first:
            first[d] = len(order)
            order.append(i)
        inverse[i] = first[d]
    return np.array(order, dtype=int), inverse


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
    margin: float = 1.0,
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
    ``uses_landmarks`` get the landmarks (``(N, 68, 2)`` crop coordinates).
    ``scorers=None`` builds :meth:`Scorers.default` for the canvas.
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
    if scorers is None:
        scorers = Scorers.default(X.shape[1], margin)
    all_strengths = list(dict.fromkeys([float(a) for a in strengths]
                                       + [float(a) for a in expression_strengths]))
    full = {float(a) for a in strengths}

    res = ProtocolResult(source, target, g, splits, tuple(X.shape[1:]), float(margin),
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
            landmarks = bool(getattr(model, "uses_landmarks", False))
            if landmarks and (landmarks_source is None or landmarks_target is None):
                raise EvaluationError(f"{spec.label} needs landmarks; pass landmarks_source and "
                                      "landmarks_target")
            ls, lt = landmarks_source, landmarks_target
            t0 = time.perf_counter()
            if landmarks:
                assert ls is not None and lt is not None
                model.fit(X[train], T[train], ls[train], lt[train], groups=g[train].tolist())
            else:
                model.fit(X[train], T[train])
            res.fit_seconds[spec.label].append(time.perf_counter() - t0)
            res.trained_on[spec.label].append(sorted(set(g[train].tolist())))
            t0 = time.perf_counter()
            for a in all_strengths:
                if landmarks:
                    assert ls is not None
                    y = model.predict(X[test], landmarks=ls[test], strength=a)
                else:
                    y = model.predict(X[test], strength=a)
                res.outputs[res.key(spec.label, a)][test] = np.asarray(y).reshape(X[test].shape)
            res.predict_seconds[spec.label].append(time.perf_counter() - t0)
            if spec.label not in res.sizes:
                res.sizes[spec.label] = _size_of(model)
            bar.update(1)
    bar.close()
    _score(res, scorers, full, progress)
    return res


def _size_of(model: Any) -> dict[str, int]:
    from pixelfes.evaluate.sizes import model_size

    try:
        size = model_size(model)
        return {"parameters": int(size.parameters), "bytes": int(size.bytes)}
    except (TypeError, ValueError, NotImplementedError, OSError):
        return {"parameters": int(getattr(model, "n_parameters", 0)), "bytes": -1}


def _score(res: ProtocolResult, scorers: Scorers, full: set[float], progress: bool) -> None:
    """Fill ``res.samples``/``res.probs`` for every method's held-out outputs."""
    from tqdm.auto import tqdm

    held = res.held_out
    n = len(res.groups)
    t_idx = EXPRESSIONS.index(res.target)
    T = res.outputs["real target"]
    region = framing_slice(res.image_shape[0], res.margin)

    gallery_people: list[str] = []
    gallery = None
    true_index = None
    target_emb = None
    if scorers.identity is not None:
        uniq, inv = _unique(T[held])
        emb_held = np.asarray(scorers.identity.embed(T[held][uniq]))[inv]
        target_emb = np.full((n, emb_held.shape[1]), np.nan)
        target_emb[held] = emb_held
        gallery_people = sorted(set(res.groups[held].tolist()))
        gallery = np.stack([target_emb[held][res.groups[held] == p].mean(axis=0) for p in gallery_people])
        lookup = {p: i for i, p in enumerate(gallery_people)}
        true_index = np.array([lookup.get(p, -1) for p in res.groups])

    keys = list(res.methods)
    for key in tqdm(keys, desc=f"scoring {res.source}->{res.target}", disable=not progress, leave=False):
        info = res.methods[key]
        out = res.outputs[key]
        per: dict[str, np.ndarray] = {}
        imgs = out[held]
        uniq, inv = _unique(imgs)
        res.probs[key] = {}
        strength = info.get("strength")
        scored_fully = strength is None or float(strength) in full
        # extra strengths (curves) are judged by the primary classifier only: facex is slow
        judges = list(scorers.expression.items())
        for name, clf in judges if scored_fully else judges[:1]:
            p = np.full((n, len(EXPRESSIONS)), np.nan)
            p[held] = np.asarray(clf.predict_proba(imgs[uniq]), dtype=np.float64)[inv]
            res.probs[key][name] = p
            hit = np.full(n, np.nan)
            hit[held] = (p[held].argmax(axis=1) == t_idx).astype(float)
            per[f"{name}.accuracy"] = hit
            pt = np.full(n, np.nan)
            pt[held] = p[held, t_idx]
            per[f"{name}.p_target"] = pt
        if scored_fully and gallery is not None and target_emb is not None and true_index is not None:
            e = np.asarray(scorers.identity.embed(imgs[uniq]))[inv]  # type: ignore[union-attr]
            dist = np.full(n, np.nan)
            dist[held] = np.linalg.norm(e - target_emb[held], axis=1)
            d2 = ((e[:, None, :] - gallery[None]) ** 2).sum(-1)
            r1 = np.full(n, np.nan)
            r1[held] = (d2.argmin(axis=1) == true_index[held]).astype(float)
            per["identity.distance"] = dist
            per["identity.rank1"] = r1
        if scored_fully and scorers.quality and key != "real target":
            from pixelfes.evaluate.quality import psnr_batch, sharpness_ratio_batch, ssim_batch

            a = imgs[:, region, region]
            b = T[held][:, region, region]
            for metric, fn in (("quality.psnr", psnr_batch), ("quality.ssim", ssim_batch),
                               ("quality.sharpness", sharpness_ratio_batch)):
                v = np.full(n, np.nan)
                v[held] = fn(a, b)
                per[metric] = v
        res.samples[key] = per
    res.meta["gallery_people"] = len(gallery_people)


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
