"""The canvas judges (expression, identity, PSNR/SSIM/sharpness) on full-size outputs.

``pixelfes evaluate`` scores a model's 192 px canvas output; an engine that works on the
photo itself (the native engine) has no canvas output. Here every full-size image of a
mouth run (:func:`pixelfes.evaluate.mouth_protocol.run_mouth_folds`) is cut back to the
canvas the way the model would see it: input and outputs with the alignment of the
*input's* landmarks (so the output is compared in the same frame as ``pixelfes
evaluate`` compares a model's crop), the real target with its own landmarks (as the
training pairs are aligned). The scores are then those of
:func:`pixelfes.evaluate.scoring.score_outputs`: each judge's share of outputs called the
target and mean P(target), the identity distance to the real target and rank-1 among the
held-out real targets, and PSNR, SSIM and sharpness on the paper's framing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pixelfes.alignment import DEFAULT_ALIGNMENT, Alignment

__all__ = ["CropCollector", "score_crops"]


class CropCollector:
    """An ``on_output`` hook for :func:`run_mouth_folds` that keeps canvas crops per person.

    ``crops[(identity, method)]`` is the ``(S, S, 3) uint8`` crop; methods ``input`` and
    ``real target`` included. Crops of an output whose input had no landmarks are skipped.
    """

    def __init__(self, alignment: Alignment = DEFAULT_ALIGNMENT) -> None:
        self.alignment = alignment
        self.crops: dict[tuple[str, str], np.ndarray] = {}
        self._frame: dict[str, np.ndarray] = {}
        self._pending: dict[str, list[tuple[str, np.ndarray]]] = {}

    def __call__(self, person: Any, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        from pixelfes.face.align import crop_matrix, warp_to_crop

        ident = person.identity
        size = self.alignment.size
        if method == "real target":
            if landmarks is not None:
                self.crops[(ident, method)] = warp_to_crop(rgb, crop_matrix(landmarks, self.alignment), size)
            return
        if method == "input":
            if landmarks is None:
                return
            m = crop_matrix(landmarks, self.alignment)
            self._frame[ident] = m
            self.crops[(ident, method)] = warp_to_crop(rgb, m, size)
            for meth, img in self._pending.pop(ident, []):
                self.crops[(ident, meth)] = warp_to_crop(img, m, size)
            return
        frame = self._frame.get(ident)
        if frame is None:  # the input is measured first; keep it until it is
            self._pending.setdefault(ident, []).append((method, rgb.copy()))
            return
        self.crops[(ident, method)] = warp_to_crop(rgb, frame, size)


def score_crops(crops: dict[tuple[str, str], np.ndarray], target: str, methods: Sequence[str],
                scorers: Any = None, alignment: Alignment = DEFAULT_ALIGNMENT,
                people_out: dict[str, dict[str, dict[str, Any]]] | None = None) -> dict[str, dict[str, float]]:
    """Mean scores per method over the people who have every method's crop and a real target.

    ``scorers``: a :class:`pixelfes.evaluate.scoring.Scorers` (default: the real judges,
    ``Scorers.default(alignment)``). Keys per method: ``<judge>.accuracy``,
    ``<judge>.p_target``, ``identity.distance``, ``identity.rank1``, ``quality.psnr``,
    ``quality.ssim``, ``quality.sharpness`` and ``n``. ``people_out``: filled with each
    person's scores, ``people_out[method][identity]`` (``<judge>.p_target``, ``<judge>.call``
    (the expression named), ``identity.distance``, ``quality.psnr``, ``quality.ssim``), whose
    means are the figures above: for paired differences between methods.
    """
    from pixelfes.evaluate.framing import framing_slice
    from pixelfes.evaluate.quality import psnr_batch, sharpness_ratio_batch, ssim_batch
    from pixelfes.evaluate.scoring import Scorers
    from pixelfes.expressions import EXPRESSIONS, normalize_expression

    if scorers is None:
        scorers = Scorers.default(alignment)
    t_idx = EXPRESSIONS.index(normalize_expression(target))
    people = sorted({i for i, m in crops if m == "real target"})
    people = [p for p in people if all((p, m) in crops for m in methods)]
    if not people:
        raise ValueError("no person has a crop of every method and of the real target")
    real = np.stack([crops[(p, "real target")] for p in people])
    region = framing_slice(alignment.size, alignment.margin)
    out: dict[str, dict[str, float]] = {}
    real_emb = None
    if scorers.identity is not None:
        real_emb = np.asarray(scorers.identity.embed(real), dtype=np.float64)
    for m in methods:
        imgs = np.stack([crops[(p, m)] for p in people])
        s: dict[str, float] = {"n": float(len(people))}
        each: dict[str, list[tuple[str, Any]]] = {}
        for name, clf in scorers.expression.items():
            prob = np.asarray(clf.predict_proba(imgs), dtype=np.float64)
            s[f"{name}.accuracy"] = float(np.mean(prob.argmax(axis=1) == t_idx))
            s[f"{name}.p_target"] = float(np.mean(prob[:, t_idx]))
            each[f"{name}.p_target"] = [(p, float(v)) for p, v in zip(people, prob[:, t_idx], strict=True)]
            each[f"{name}.call"] = [(p, EXPRESSIONS[int(k)]) for p, k in zip(people, prob.argmax(axis=1), strict=True)]
        if real_emb is not None:
            e = np.asarray(scorers.identity.embed(imgs), dtype=np.float64)
            dist = np.linalg.norm(e - real_emb, axis=1)
            s["identity.distance"] = float(np.mean(dist))
            each["identity.distance"] = [(p, float(v)) for p, v in zip(people, dist, strict=True)]
            d2 = ((e[:, None, :] - real_emb[None]) ** 2).sum(-1)
            s["identity.rank1"] = float(np.mean(d2.argmin(axis=1) == np.arange(len(people))))
        if scorers.quality and m != "real target":
            a, b = imgs[:, region, region], real[:, region, region]
            psnr, ssim = np.asarray(psnr_batch(a, b)), np.asarray(ssim_batch(a, b))
            s["quality.psnr"] = float(np.mean(psnr))
            s["quality.ssim"] = float(np.mean(ssim))
            s["quality.sharpness"] = float(np.mean(sharpness_ratio_batch(a, b)))
            each["quality.psnr"] = [(p, float(v)) for p, v in zip(people, psnr, strict=True)]
            each["quality.ssim"] = [(p, float(v)) for p, v in zip(people, ssim, strict=True)]
        if people_out is not None:
            mine = people_out.setdefault(m, {})
            for key, values in each.items():
                for p, v in values:
                    mine.setdefault(p, {})[key] = v
        out[m] = s
    return out
