"""The judges of an evaluation (:class:`Scorers`) and how held-out outputs are scored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pixelfes.alignment import Alignment
from pixelfes.evaluate.framing import faceapi_box, framing_box, framing_slice
from pixelfes.evaluate.result import ProtocolResult
from pixelfes.expressions import EXPRESSIONS


class _Classifier(Protocol):
    def predict_proba(self, faces: np.ndarray) -> np.ndarray: ...


class _Embedder(Protocol):
    def embed(self, images: np.ndarray) -> np.ndarray: ...


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
    def default(cls, alignment: Alignment, facex: bool = True, identity: bool = True,
                quality: bool = True, faceapi: bool = True, fer: bool = True) -> Scorers:
        """The real scorers, looking at the paper's framing of crops aligned with ``alignment``.

        ``faceapi`` judges the face box face-api itself would cut (:func:`faceapi_box`);
        ``facex`` is added when its model file is installed (a second opinion). The first
        judge (``fer`` unless switched off) is the primary one.
        """
        from pixelfes.evaluate.expression import ExpressionBackendUnavailable, ExpressionClassifier
        from pixelfes.evaluate.identity import IdentityEmbedder

        box = framing_box(alignment.size, alignment.margin)
        expr: dict[str, _Classifier] = {}
        if fer:
            expr["fer"] = ExpressionClassifier("fer", face_box=box)
        if faceapi:
            expr["faceapi"] = ExpressionClassifier(
                "faceapi", face_box=faceapi_box(alignment.size, alignment.margin))
        if facex:
            clf = ExpressionClassifier("facex", face_box=box)
            try:
                clf.predict_proba(np.zeros((1, 16, 16, 1), np.uint8))
                expr["facex"] = clf
            except ExpressionBackendUnavailable:
                pass
        emb = IdentityEmbedder(face_box=box) if identity else None
        return cls(expr, emb, quality)


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


def score_outputs(res: ProtocolResult, scorers: Scorers, full: set[float], progress: bool) -> None:
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
        # extra strengths (curves) are judged by the primary classifier only: the others are slower
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
