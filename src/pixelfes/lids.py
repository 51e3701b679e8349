"""The eye part of a smile at the data's level: the lids moved as real smiles move them, the
lower lid's bulge shaded as real smiles shade it (neutral -> happy; issue 11).

Measured on London's real smiles (dlib's 68 points at full size, each photo aligned by its own
landmarks): the eyes narrow more in open smiles than in closed ones (lid gap over the eye
distance -0.019 against -0.011 on outer fold 0's 65 training people), and below the lower lid
the skin changes in a fixed pattern relative to the cheek beneath it: a faint light band just
under the lid (the bulge), a dark band about a tenth of an eye distance below it (about -20 %
in linear luminance, -8 % in L*: the fold under the bulge), fading out by a third of an eye
distance; the native engine's smile instead darkens the whole band under the lid evenly.
The shape model moves every lid by the training landmarks' mean (found on photos reduced to 640
px) and the smile's texture ratio is blurred over ~11 photo px, so neither carries this.

:class:`LidGoal` holds the data's mean of both, fitted on real pairs (:meth:`LidGoal.fit`):
the eye points' motion (36-47, face-frame units, as :class:`pixelfes.mouth.MouthBank` keeps a
smile's motion) of open and of closed smiles, and the lower lids' luminance profile
(:func:`lid_profile`). :func:`lid_shading` makes a face's texture gain below its new lower lids
follow that profile. Used by :func:`pixelfes.native.synthesize_face` (``eyes=``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .mouth.ramp import smoothstep

__all__ = ["EYE_POINTS", "MOVES", "OFFSETS", "LidGoal", "bundled_goal", "lid_profile", "lid_shading"]

#: eye-distance offsets below the lower lid's middle at which :func:`lid_profile` samples
OFFSETS = np.round(np.linspace(-0.05, 0.40, 46), 4)
EYE_POINTS = tuple(range(36, 48))
#: the values of :attr:`LidGoal.move`
MOVES = ("kind", "shift", "model")
_REF = (0.345, 0.405)  # the cheek band (eye distances below the lid) the profile is relative to
_HALF = 0.08  # half the width (eye distances) of the columns sampled around the lid's middle
_FROM = (0.015, 0.035)  # the shading ramps in over these offsets: the lid margin and lashes are kept
_FADE = (0.36, 0.46)  # ... and out over these: below, the gain is the engine's
_WINDOW = 0.35  # share of the eye's width from either corner over which the shading fades in
_SMOOTH = np.array([0.25, 0.5, 0.25])  # the fitted profile is smoothed along the offsets once
_LOWER = ((36, 41, 40, 39), (42, 47, 46, 45))  # each eye's corners and lower lid, left to right
_LUMA = np.array([0.2126, 0.7152, 0.0722])
_BUNDLED = Path(__file__).resolve().parent / "assets" / "lids" / "london-lid-goal.json"


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """``(H, W) float64`` CIE L* (D65 luminance, 0-100) of ``(H, W, 3) uint8`` sRGB: the native
    engine's texture gain multiplies L* (:func:`pixelfes.native.apply_gain`), so the profile is
    measured in it."""
    c = rgb.astype(np.float64) / 255.0
    y = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4) @ _LUMA
    return np.where(y > (6 / 29) ** 3, 116.0 * np.cbrt(y) - 16.0, y * (29 / 3) ** 3)


def _eye_distance(lm: np.ndarray) -> float:
    """Distance between the two eyes' centres (mean of points 36-41 and of 42-47)."""
    return float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


def lid_profile(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``(len(OFFSETS),) float64``: mean L* of ``rgb`` (``(H, W, 3) uint8``) at each of
    :data:`OFFSETS` eye distances below the middle of both lower lids (points 40-41 and 46-47 of
    ``landmarks`` ``(68, 2)``, photo pixels), over columns ``_HALF`` eye distances either side;
    rows off the photo are clipped to its edge."""
    lm = np.asarray(landmarks, dtype=np.float64)
    h, w = np.shape(rgb)[:2]
    ed = _eye_distance(lm)
    out = np.zeros(len(OFFSETS))
    for a, b in ((41, 40), (47, 46)):
        c = (lm[a] + lm[b]) / 2
        xs = np.clip(np.arange(int(c[0] - _HALF * ed), int(c[0] + _HALF * ed) + 1), 0, w - 1)
        ys = np.clip(np.rint(c[1] + OFFSETS * ed).astype(int), 0, h - 1)
        # L* of the sampled pixels only (the whole photo's took ~0.1 s at 1350 px)
        out += _lightness(np.asarray(rgb)[np.ix_(ys, xs)]).mean(axis=1)
    return out / 2


def _relative(log_ratio: np.ndarray) -> np.ndarray:
    """A log profile (last axis along :data:`OFFSETS`) minus its mean over the cheek band ``_REF``."""
    ref = (OFFSETS >= _REF[0]) & (OFFSETS <= _REF[1])
    return log_ratio - log_ratio[..., ref].mean(axis=-1, keepdims=True)


@dataclass(frozen=True)
class LidGoal:
    """The data's mean eye part of a smile: ``profile`` ``(len(OFFSETS),)`` the log luminance ratio
    smile / neutral of L* below the lower lids, relative to the cheek band (:func:`_relative`), smoothed;
    ``motion_open`` / ``motion_closed`` ``(12, 2)`` the mean motion of points 36-47 in face-frame
    units (each photo aligned by its own landmarks) of open and of closed smiles; ``people``: how
    many pairs (open, closed) it was fitted on."""

    profile: np.ndarray
    motion_open: np.ndarray
    motion_closed: np.ndarray
    people: tuple[int, int] = (0, 0)
    #: how :func:`pixelfes.native.lid_target` moves the eye points: ``"kind"`` by the mean motion
    #: of the smile's kind instead of the shape model's, ``"shift"`` the shape model's plus the
    #: kind's mean minus both kinds' mean, ``"model"`` the shape model's (the shading alone).
    #: ``"shift"``: on outer fold 0's 65 training people (inner 4-fold, dlib on the outputs) the
    #: three gave the lower-lid shading's RMS distance to the real smiles 0.0430 / 0.0430 / 0.0441
    #: (main 0.0563) and the eye opening's 0.0096 / 0.0095 / 0.0094 (main 0.0089); the lowest
    #: shading distance, then the lower opening distance
    move: str = "shift"

    def __post_init__(self) -> None:
        if self.move not in MOVES:
            raise ValueError(f"move must be one of {MOVES}; got {self.move!r}")

    def motion_all(self) -> np.ndarray:
        """``(12, 2)`` both kinds' mean motion, weighted by how many pairs each was fitted on."""
        n_open, n_closed = self.people
        if n_open + n_closed == 0:
            return (self.motion_open + self.motion_closed) / 2
        return (n_open * self.motion_open + n_closed * self.motion_closed) / (n_open + n_closed)

    def motion(self, open_smile: bool) -> np.ndarray:
        """``(12, 2)`` the mean motion of points 36-47 of an open (``True``) or closed smile."""
        return self.motion_open if open_smile else self.motion_closed

    @classmethod
    def fit(cls, neutral_photos: Sequence[np.ndarray], neutral_landmarks: Sequence[np.ndarray],
            smile_photos: Sequence[np.ndarray], smile_landmarks: Sequence[np.ndarray]) -> LidGoal:
        """Fit on real pairs of the same people (``(H, W, 3) uint8`` photos and their ``(68, 2)``
        landmarks in their own frames). A smile is open as :class:`pixelfes.mouth.MouthBank` calls
        it (inner-lip gap at least :data:`pixelfes.mouth.bank.MIN_GAP` mouth widths); a kind with
        no pair takes the mean of all."""
        from .alignment import DEFAULT_ALIGNMENT
        from .face.align import crop_matrix, transform_points
        from .mouth.bank import MIN_GAP
        from .mouth.fill import inner_gap

        n = len(neutral_photos)
        if not n or not len(neutral_landmarks) == len(smile_photos) == len(smile_landmarks) == n:
            raise ValueError(f"LidGoal.fit needs as many neutral / smile photos and landmarks, at least one; "
                             f"got {n}, {len(neutral_landmarks)}, {len(smile_photos)}, {len(smile_landmarks)}")
        unit = DEFAULT_ALIGNMENT.margin / DEFAULT_ALIGNMENT.size
        logs, moves, kinds = [], [], []
        for rn, ln, rs, ls in zip(neutral_photos, neutral_landmarks, smile_photos, smile_landmarks, strict=True):
            ln, ls = np.asarray(ln, dtype=np.float64), np.asarray(ls, dtype=np.float64)
            logs.append(np.log(lid_profile(rs, ls) + 1.0) - np.log(lid_profile(rn, ln) + 1.0))
            a = transform_points(crop_matrix(ln), ln)[36:48]
            b = transform_points(crop_matrix(ls), ls)[36:48]
            moves.append((b - a) * unit)
            kinds.append(inner_gap(ls) >= MIN_GAP)
        prof = _relative(np.mean(logs, axis=0))
        prof = np.convolve(np.pad(prof, 1, mode="edge"), _SMOOTH, mode="valid")
        mv, op = np.stack(moves), np.array(kinds)
        every = mv.mean(axis=0)
        return cls(prof, mv[op].mean(axis=0) if op.any() else every,
                   mv[~op].mean(axis=0) if (~op).any() else every, (int(op.sum()), int((~op).sum())))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (offsets included, to check against :data:`OFFSETS` on load)."""
        return {"offsets": OFFSETS.tolist(), "profile": self.profile.tolist(),
                "motion_open": self.motion_open.tolist(), "motion_closed": self.motion_closed.tolist(),
                "people": list(self.people)}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> LidGoal:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` if its offsets are not :data:`OFFSETS`."""
        offsets = np.asarray(d["offsets"], dtype=np.float64)
        if offsets.shape != OFFSETS.shape or not np.allclose(offsets, OFFSETS):
            raise ValueError("this lid goal was sampled at other offsets than pixelfes.lids.OFFSETS")
        people = d.get("people", (0, 0))
        assert isinstance(people, list | tuple)
        return cls(np.asarray(d["profile"], dtype=np.float64),
                   np.asarray(d["motion_open"], dtype=np.float64).reshape(12, 2),
                   np.asarray(d["motion_closed"], dtype=np.float64).reshape(12, 2),
                   (int(people[0]), int(people[1])))


def bundled_goal() -> LidGoal:
    """The goal fitted on all London pairs (``scripts/build_lid_goal.py``), shipped as JSON."""
    return LidGoal.from_dict(json.loads(_BUNDLED.read_text(encoding="utf-8")))


def _smoothstep(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """:func:`pixelfes.mouth.ramp.smoothstep` from ``a`` (0) to ``b`` (1)."""
    return smoothstep((x - a) / (b - a))


def lid_shading(gain: np.ndarray, landmarks: np.ndarray, profile: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """``gain`` (``(H, W) float32``, a luminance gain, 1 = unchanged) with its log made to follow
    ``strength x profile`` below each lower lid of ``landmarks`` ``(68, 2)`` (same frame).

    Per column between an eye's corners, at ``d`` eye distances below the lower lid's polyline
    (corners and points 40-41 / 46-47, linearly between them): the log gain becomes its own mean
    over the cheek band ``_REF`` of that column plus ``strength x profile(d)`` (linear between
    :data:`OFFSETS`), blended with the gain as it was by a weight that ramps in below the lid
    margin (``_FROM``), out towards the cheek (``_FADE``) and in from the corners (``_WINDOW``,
    smoothsteps); where that weight is 0 the gain is kept to the bit. Returns a new array; ``gain`` is
    not changed.
    """
    g = np.asarray(gain, dtype=np.float32)
    out = g.copy()
    lm = np.asarray(landmarks, dtype=np.float64)
    ed = _eye_distance(lm)
    h, w = g.shape
    if not ed > 0:
        return out
    prof = np.asarray(profile, dtype=np.float64)
    for idx in _LOWER:
        pts = lm[list(idx)]
        if not np.all(np.diff(pts[:, 0]) > 0):
            continue  # a lid that doubles back (a profile view): left as it is
        x0, x1 = int(np.ceil(pts[0, 0])), int(np.floor(pts[-1, 0]))
        x0, x1 = max(x0, 0), min(x1, w - 1)
        if x1 < x0:
            continue
        xs = np.arange(x0, x1 + 1)
        lid = np.interp(xs, pts[:, 0], pts[:, 1])
        y0 = max(int(np.floor(lid.min())), 0)
        y1 = min(int(np.ceil(lid.max() + _FADE[1] * ed)) + 1, h)
        if y1 <= y0:
            continue
        ys = np.arange(y0, y1)
        d = (ys[:, None] - lid[None, :]) / ed
        u = (xs - pts[0, 0]) / (pts[-1, 0] - pts[0, 0])
        side = _smoothstep(u, 0.0, _WINDOW) * _smoothstep(1.0 - u, 0.0, _WINDOW)
        weight = _smoothstep(d, *_FROM) * (1.0 - _smoothstep(d, *_FADE)) * side[None, :]
        logg = np.log(np.maximum(g[y0:y1, x0:x1 + 1].astype(np.float64), 1e-3))
        band = (d >= _REF[0]) & (d <= _REF[1])
        count = band.sum(axis=0)
        ref = np.where(count > 0, (logg * band).sum(axis=0) / np.maximum(count, 1), logg[-1])
        goal = ref[None, :] + strength * np.interp(d, OFFSETS, prof)
        new = logg + weight * (goal - logg)
        out[y0:y1, x0:x1 + 1] = np.where(weight > 0, np.exp(new), g[y0:y1, x0:x1 + 1]).astype(np.float32)
    return out
