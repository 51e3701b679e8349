"""What one direction's evaluation produced: outputs, per-sample scores, summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixelfes.alignment import Alignment
from pixelfes.evaluate.framing import framing_slice
from pixelfes.expressions import EXPRESSIONS


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
    alignment: Alignment
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
    def margin(self) -> float:
        """Canvas / face-frame ratio of the crops (where the paper's framing sits)."""
        return self.alignment.margin

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
            "alignment": self.alignment.as_dict(),
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
