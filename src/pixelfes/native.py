"""The native-resolution engine: a shape + texture model applied to the photo's own pixels.

Why: a model's 192 px canvas holds a mouth about 30 px wide; pasting its output back onto
a 1350 px photo blows every new edge up ~5.7 times (soft teeth, ghosted lip outlines).
Here the canvas only *decides*; the photo's pixels are moved once:

1. **motion**: the shape model predicts the landmarks in the aligned frame; photo -> crop,
   the piecewise-affine backward map and crop -> photo are composed into one backward
   map over the face at the photo's size (affine maps send triangles to triangles, so it
   is again piecewise affine). Away from the lips it is the canvas map interpolated
   (linear: the map is continuous and smooth); over the lips it is evaluated exactly per
   photo pixel (:func:`pixelfes.warp.box_backward_map`). The photo is then interpolated
   once (cubic); pixels that move less than ``STILL_PX`` keep their exact bytes.
2. **texture**: the pixel model's change is turned into a smooth *luminance ratio*
   (change / local luminance, blurred), multiplied in, so a fold darkens dark and light
   skin by the same fraction and nothing glows; nothing with edges comes from the canvas.
3. **mouth**: ``mouth="open"`` opens the inner lips to a real smile's opening and lays
   its teeth in (:mod:`pixelfes.mouth`); ``"closed"`` makes the lips meet, which also
   removes the teeth of a smile that is being closed; ``"auto"`` gives a smile the typical
   mouth of the bank's people most like this one (teeth or closed lips,
   :meth:`pixelfes.mouth.MouthBank.typical_smile`); for other targets it opens when the
   predicted opening is at least ``OPEN_GAP`` of the mouth width and wider than the
   input's, closes when it is below that or narrower than the input's, and otherwise
   keeps the input's own open mouth.

Where the time goes (4 London photos, 1350 px, faces ~450 px wide, neutral -> happy, one
core, CPU ms per face, ``python benchmarks/bench_synthesize.py --native-stages 4``, medians of
3 runs at load 3, 28.4 in all): resampling 15.4 (:func:`resample_photo_map`: the cubic remap of
the ~0.43 MP that move, in 16-row bands between each band's first and last moving pixel, ~7.5,
OpenCV's scalar bicubic, 9x its bilinear; the photo map's rows made 64 at a time as it goes,
:meth:`PhotoMap.rows`, ~5: two one-channel warps of the canvas displacement and one of the
four-channel layer, the layer's quiet mask found once for both ``still`` and the shading; the
shade of the ~120 000 shaded pixels gathered into one row, 2.0: :func:`_tinted_planes`, the
sRGB curve by tables, on contiguous planes), the target shape 6.2 (of it 4.9 the three lent
teeth painted and measured on this face, :func:`painted_look`; the chosen one's paint is then
blended in, not painted again), the photo map's plan 2.7 (the exact map over the lips 1.3), the
mouth look 0.8, the texture ratio on the canvas 0.7 (what depends on the model alone made once
per model), the person's colours 0.7, the gray test 0.4: a smile reads the model's crop only to
tell a gray photo, which the photo itself tells (:func:`_surely_colour`), so the crop (its area
resize of a ~1 MP region, 3.2) is made only when it cannot. No box-sized map is held: the ~16 MB
of fresh pages a face's whole map took cost more than computing it (3500 page faults a call).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ._nomask import median
from .alignment import Alignment
from .face.align import invert_affine, transform_points
from .lids import EYE_POINTS, LidGoal, bundled_goal, lid_shading
from .mouth import (
    MouthBank,
    PersonColours,
    close_mouth,
    fill_mouth,
    inner_gap,
    load_bank,
    mouth_frame,
    person_colours,
    shows_opening,
)
from .mouth.colour import LUMINANCE
from .mouth.fill import MouthPaint, blend_paint, interior_paint
from .warp import Raster, Triangulation, _pixel_grid, box_backward_map, limit_motion, remap

__all__ = ["MOUTH_MODES", "NativeResult", "apply_gain", "cheek_lightness", "lid_target", "painted_look", "photo_map", "PhotoMap", "plan_photo_map", "pull_corners", "resample_moving", "resample_photo_map", "smile_corners", "smile_eyes", "smile_mouth", "synthesize_face", "target_shape", "OPEN_GAP", "STILL_PX"]

MOUTH_MODES = ("auto", "open", "closed", "likely")
OPEN_GAP = 0.05  # predicted inner-lip gap (mouth widths) from which "auto" opens the mouth
STILL_PX = 0.05  # photo pixels: motion below this leaves a pixel byte-identical
_GAIN_SIGMA = 2.0  # canvas px: the texture ratio is this smooth (~11 photo px on a 1350 px photo)
_RATIO_GAIN = 1.0  # 1.5 drew a grey moustache-like shadow on women's upper lips at 1:1
# a smile's texture ratio x1.5 (folds, cheeks, under the lower lids: the medoid mouth closes
# many smiles, which must then read through the cheeks; fer called 0.35 -> 0.45 of them happy
# on training folds). Chosen with the follow shares below by scripts/choose_smile.py on
# training folds only; x2 read better still to fer but drew dark grey-olive blotches beside
# the nose at 1:1 (001, 003), so it is not a candidate
_SMILE_RATIO_GAIN = 1.5
# the same ratio's gain over the lower lids and the cheek just below the eyes (eye_weight), where
# a smile's eye part (AU6) shows: fer called 0.45-0.54 of the smiles happy on training folds
# against 0.40-0.48 at 1.5; chosen by scripts/choose_smile.py (--rule fifth) on training folds
# only: 2.5 by three folds of five, 2 by the other two
_SMILE_EYE_GAIN = 2.5
_GAIN_LIMITS = (0.6, 1.6)
#: intensity of the action-unit engine's AU6 (cheek raiser: lower lids and cheek contour up,
#: crow's feet and cheek shading, :class:`pixelfes.actions.folds.FoldShading`) added to a smile
#: inside its one warp (:func:`smile_eyes`); 0: none. Blind raters picked edits out by "no
#: change in cheeks/eyes" (issue 11, seventh pass). Off: the nested, pre-registered choice
#: (scripts/choose_smile.py --rule seventh: off / 0.4 / 0.6 / 0.8 with the crease at 0.75x,
#: inner identity <= 0.318 required) kept it off in 4 of 5 outer folds (one chose 0.4): on
#: training folds every setting raised identity distance by 0.003-0.020 over off's 0.312-0.317
_SMILE_AU6 = 0.0
#: AU12's fold shading (the nasolabial crease; no motion: the lips follow a real smile) at this
#: intensity; 0: none (the default). The eighth pass's nested, pre-registered rule chose 0.6 by
#: 3 of 5 outer folds (scripts/choose_smile.py --rule eighth; held out fer 0.50 -> 0.78,
#: identity distance 0.309 -> 0.320), but it darkens the fold beside the mouth further from
#: real smiles (7.5 L* against their 2.9; 5.6 without it, scripts/smile_eye_motion.py) and
#: deepens the grey smudges beside the nose at 1:1: not shipped (docs/mouth.md, eighth pass)
_SMILE_FOLD_AU12 = 0.0
#: share of AU6's landmark motion that :func:`smile_eyes` adds (1: all of it; 0: its shading only)
_SMILE_AU6_MOTION = 1.0
#: share of AU6's own fold shading (crow's feet, cheek) that goes with it (0: motion only)
_SMILE_AU6_SHADING = 1.0
#: the landmarks that take AU6's motion (``None``: every point but the lips)
_SMILE_AU6_POINTS: tuple[int, ...] | None = None
#: share of the way from real closed smiles' mean corner motion to open smiles' that a closed
#: smile's corners move (smile_corners): 1, as open smiles' (every training fold's choice,
#: scripts/choose_smile.py --rule fifth). The medoid closes the mouth of people whose own smile
#: is as often open; with the closed mean their corners widened +0.08 eye distances against
#: +0.13 in their real smiles, now +0.12
_CLOSED_CORNERS = 1.0
#: "auto" weighs each lent smile's teeth by the look they get painted on this face
#: (painted_look), not by their look on their own face (issue 11, sixth pass: a barely parted
#: smile lent to a broad grin's owner reads as its lips and cavity, 096 / 099 / 030)
_PAINTED_TEETH = True
#: a smile's texture change: the pixel model's change of *this* face (True), or the mean face's
#: relative change, the same fraction on every face (False). Pixel-RR is y = w x + b per pixel
#: with w ~ 0.65 (noise in the pairs): its change of a face, (w - 1) x + b, pulls it towards
#: the average face, darkening light skin beside the nose (grey smudges, 083, 030) and
#: lightening dark skin there (+14 to +29 % on 062, 126, 096, 137, where real smiles darken)
_SMILE_OWN = False
#: the same for every other direction (happy -> neutral): the pixel model's change of this
#: face (at the level ``_OWN_LEVEL`` says). Tried with the mean face's ratio (82 held-out people): contrast 3.62 ->
#: 3.43, group ratio 2.31 -> 1.78, tint 3.02 -> 3.11, fer 0.939 -> 0.951, but at 1:1 its fixed
#: +21 % lightening along the average fold glows beside the nose on light skin whose smile had
#: no fold there (083, 138); it removes the ashy haze on dark skin (docs/mouth.md, "Closing a
#: smile with the mean face's change")
_OWN_TEXTURE = True
#: the face's own change (``_OWN_TEXTURE``) and the pixel model's pull towards the average face
#: in it, (w - 1)(x - mean): closing a smile it lightens dark cheeks by +3.8 L* (black group, 8
#: held-out people; real neutral cheeks +0.0 over the smile) and darkens light ones. ``"mean"``:
#: the change of the face brought to the mean face's overall level (its crop scaled by one
#: factor, :func:`level_factor`), free of the skin's level: measured, not adopted (black contrast
#: error 6.78 -> 5.38, but light faces lose the pull's darkening and the average fold's undoing
#: glows beside the nose, 083 and 102 at 1:1). ``"lesser"``: per pixel the lower of the two,
#: so the pull never lightens (dark skin) and light skin keeps today's change (docs/mouth.md,
#: "The ashy cheeks of a closed smile"). ``"off"``: this face's change as it is
_OWN_LEVEL = "lesser"
#: closing a mouth (happy -> neutral) presses the lips together over teeth only where the input
#: shows teeth or a cavity between its inner lips (:func:`pixelfes.mouth.shows_opening`), not
#: where dlib merely spreads the inner points of closed lips apart (042, 043, 144, 173)
_TEETH_SEEN = True
#: a closing smile's lips are given the broad relief of real closed lips (the bank's neutral photos:
#: :meth:`MouthBank.relief_goal`, :func:`pixelfes.mouth.relief.draw_relief`; docs/mouth.md, "lipbank")
_LIP_RELIEF = True
#: a closing smile's lips lose the a* above real closed lips' tint near their meeting line (the
#: red wedge of the stretched inner lower lip: :func:`pixelfes.mouth.wedge.calm_line` with the
#: relief's :meth:`MouthBank.tint_goal`; docs/mouth.md, "The closed lips' red wedge").
#: ``"level"``: down to the higher of the tint goal and the line's own level (adopted: blind A/B 6 of
#: 6, held-out tint +0.004); ``"off"``: main's closing before it (down to the goal alone, ``"goal"``,
#: was not adopted: held-out tint 1.9 se worse; removed from main after 152500d)
_CALM_LINE = "level"
#: the values of ``_CALM_LINE`` (:func:`close_on_crease`'s ``calm``)
CALM_LINES = ("off", "level")
#: the values of ``_OWN_LEVEL`` (:func:`_texture_ratio`'s ``level``)
OWN_LEVELS = ("off", "mean", "lesser")
#: a smile's texture change carries the mean face's colour change too (``_mean_tint``: per
#: channel in linear light, luminance kept): a real fold reddens as it darkens, a luminance
#: change alone leaves it grey
_SMILE_TINT = True
#: a smile's new mouth corners have the bright specks the warp carried from the neutral photo
#: (wet highlights where closed lips meet, light stubble hairs) toned down to their
#: neighbourhood (:func:`pixelfes.mouth.specks.clear_corner_specks`); real smiles show almost
#: none there (docs/mouth.md, "The white specks at a smile's corners"). Adopted by its
#: pre-registered rule: blind A/B 7 of 8 images (4 people), held out within one paired se
_CORNER_SPECKS = True
#: a smile's lent teeth keep their own finest detail: the warp into the goal mouth (cubic, ~1.25x
#: up) smoothed a third of it away (mouth.fill.restore_detail puts it back at the patch's
#: amplitude; laid into the output only, the teeth or lips and the lender chosen on main's paint).
#: Adopted by its pre-registered rule: held out within one paired se (contrast -0.41, se 0.23),
#: blind A/B 11 of 14 images (docs/mouth.md, "Lent teeth that keep their own detail")
_CRISP_TEETH = True
#: a smile's opening over lent teeth gets the dark ends of a real one (its ends darkened by a
#: gain to real smiles' falloff: :func:`pixelfes.mouth.ends.shade_opening_ends`; the "mushy
#: corners" of docs/mouth.md, "The smile's mushy corners"). Adopted by its pre-registered rule:
#: held out within one paired se, blind A/B 14 of 14 images (7 people)
_OPENING_ENDS = True
#: a smile's eye part at the data's level (:mod:`pixelfes.lids`): the eye points (36-47) moved by
#: real smiles' mean motion for the smile's kind (open / closed), and the texture gain below the new
#: lower lids made to follow real smiles' lower-lid profile (the bulge and the fold under it). The
#: goal: the mouth bank's people's when ``synthesize_face(eyes=<LidGoal>)``, else the bundled one
#: (all London pairs). Off: main's bytes (docs/mouth.md, "The eye part of a smile at the data's level")
_SMILE_LIDS = False
#: a smile opened over lent teeth gets the fine luminance relief of the lent smile's own lower lip
#: (its L* over its low-pass within the lip, in the lip frame) in place of its own stretched one,
#: its colour and low-pass shading kept (:func:`pixelfes.mouth.smilelip.lend_lower_lip`; the
#: "vertical gloss streaks" of docs/mouth.md, "The lower lip's goal thickness"). Off: main's bytes
#: (docs/mouth.md, "A smile's lower lip from the lender's")
_SMILE_LIP = False
_LAB_MIN = 0.004  # apply_gain(dark_in_lab=True) takes gains this close to 1 by channel scale
_LIP_MARGIN = 0.12  # mouth widths around lips and philtrum where the texture ratio fades out
_LIP_KEEP = 0.8
_OUTER_FOLLOW = 0.5
_OPEN_SOURCE = 0.02  # inner-lip gap (mouth widths) above which the input mouth counts as open
_LIP_ONLY = 0.3  # closing an open mouth reads its lips from this far inside them
_OPEN_LIP_ONLY = True  # ... and so does opening one over lent teeth (synthesize_face)
# how far each landmark follows a retrieved real smile's motion (rest: the shape model)
_SMILE_FOLLOW = np.zeros(68)
_SMILE_FOLLOW[48:68] = 1.0  # lips
# jaw line and nose base: the shape model's (another person's jaw and nose cost identity)
_BAND = 16  # photo rows: the warp is interpolated band by band, only over the span that moves
_CHUNK_BANDS = 4  # bands resampled, shaded and written back together (box-sized temporaries were slower)
_EXACT_PAD = 0.25  # mouth widths around the lips where the photo map is evaluated exactly
_MOTION_GROW = 1.15  # the face ellipse grown by this much bounds the motion ...
_MOTION_FEATHER = 0.06  # ... fading out over this share of the face frame  # opening a mouth keeps at least this share of each lip's thickness
_UPPER = ((50, 61), (51, 62), (52, 63))
_LOWER = ((58, 67), (57, 66), (56, 65))
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class NativeResult:
    """What happened to one face: the mouth mode used, the exemplar (if any), the box
    written, and where the face's 68 landmarks moved to (photo frame; None: nowhere)."""

    mouth: str
    exemplar: str | None
    box: tuple[int, int, int, int] | None
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)


def check_mouth(mouth: str) -> str:
    if mouth not in MOUTH_MODES:
        raise ValueError(f"mouth must be one of {', '.join(MOUTH_MODES)}; got {mouth!r}")
    return mouth


_INNER_MOUTH = np.array([*range(60, 68), 48, 54])


_MOUTH_TRIANGLES: dict[bytes, np.ndarray] = {}


def _mouth_triangles(simplices: np.ndarray) -> np.ndarray:
    """``(T,) bool``: triangles with every corner on the lips' inner outline or mouth corners
    (read only; made once per triangle list: a model's is asked a few times a face)."""
    simp = np.asarray(simplices)
    key = simp.dtype.str.encode() + bytes(str(simp.shape), "ascii") + simp.tobytes()
    got = _MOUTH_TRIANGLES.get(key)
    if got is None:
        if len(_MOUTH_TRIANGLES) > 64:
            _MOUTH_TRIANGLES.clear()
        got = np.isin(simp, _INNER_MOUTH).all(axis=1).reshape(len(simp))
        got.flags.writeable = False
        _MOUTH_TRIANGLES[key] = got
    return got


def close_lips(lm: np.ndarray) -> np.ndarray:
    """The same shape with the inner lips meeting: each upper/lower inner pair at its midpoint."""
    out = np.array(lm, dtype=np.float64, copy=True)
    for a, b in ((61, 67), (62, 66), (63, 65)):
        mid = (out[a] + out[b]) / 2
        out[a] = out[b] = mid
    return out


#: mouth columns: (upper outer, upper inner, lower inner, lower outer); inner corners follow
#: the outer corners
_COLUMNS = ((50, 61, 67, 58), (51, 62, 66, 57), (52, 63, 65, 56))


def _teeth_gap(smile: bool) -> float:
    """Inner-lip gap of the input above which ``"closed"`` closes it over teeth.

    For a smile the input is a neutral face: lips parted at rest (up to the bank's
    ``MIN_GAP``, where London smiles start to show teeth) are the person's own and stay;
    for other targets (e.g. happy -> neutral) any opening beyond ``_OPEN_SOURCE`` is closed.
    """
    from .mouth.bank import MIN_GAP

    return MIN_GAP if smile else _OPEN_SOURCE


def closed_follow(source: np.ndarray, target: np.ndarray, meet: bool = True) -> np.ndarray:
    """``target`` with the inner lips of a ``source`` mouth without teeth carried along.

    Each inner pair moves by the mean motion of its column's outer points (inner corners
    by the outer corners'), so the lips keep their own meeting line (and, ``meet`` False,
    their own small parting). Closing at the midpoint of the predicted inner lips instead
    pulled one lip into the other wherever the prediction had them apart: a bent seam in
    the upper lip and a smeared lower lip (043, 062 at 1:1).
    """
    out = np.array(target, dtype=np.float64, copy=True)
    src = np.asarray(source, dtype=np.float64)
    d = out - src
    for uo, ui, li, lo in _COLUMNS:
        shift = (d[uo] + d[lo]) / 2
        out[ui] = src[ui] + shift
        out[li] = src[li] + shift
    out[60] = src[60] + d[48]
    out[64] = src[64] + d[54]
    return close_lips(out) if meet else out


def lip_only_source(lm: np.ndarray, share: float = _LIP_ONLY) -> np.ndarray:
    """``lm`` with the inner lips moved ``share`` of each lip's thickness into the lip.

    Used as the *source* of the warp when a mouth closes: dlib's inner-lip points sit on
    the lips, but the teeth of a smile reach past them, so the lip triangles would carry
    tooth pixels into the closed mouth. Reading the lips from this thinner band takes
    only lip (stretched a little), the person's own lip texture.
    """
    out = np.array(lm, dtype=np.float64, copy=True)
    for o, i in (*_UPPER, *_LOWER):
        out[i] = lm[i] + share * (lm[o] - lm[i])
    for o, i in ((48, 60), (54, 64)):  # the inner corners towards the outer ones
        out[i] = lm[i] + share * (lm[o] - lm[i])
    return out


def open_lips(source: np.ndarray, target: np.ndarray, lips_frame: np.ndarray,
              amount: float) -> np.ndarray:
    """``target`` with its lips moved towards a real smile's ``lips_frame`` (``(20, 2)``,
    landmarks 48-67 in the mouth frame): inner lips all the way (``amount`` 1), the outer
    lips' curve ``_OUTER_FOLLOW`` of the way.

    Each lip keeps at least ``_LIP_KEEP`` of its thickness in ``source`` (the outer lip
    moves out with it), so lips thin a little as in a real smile but never vanish.
    """
    out = np.array(target, dtype=np.float64, copy=True)
    tf = mouth_frame(out)
    back = invert_affine(tf)
    f = transform_points(tf, out)
    fs = transform_points(mouth_frame(source), source)
    a = float(np.clip(amount, 0.0, 1.0))
    ex = np.asarray(lips_frame, dtype=np.float64)
    f[48:60] = f[48:60] + _OUTER_FOLLOW * a * (ex[:12] - f[48:60])
    f[60:68] = f[60:68] + a * (ex[12:] - f[60:68])
    for pairs, sign in ((_UPPER, -1.0), (_LOWER, 1.0)):
        for o, i in pairs:
            need = _LIP_KEEP * abs(fs[o, 1] - fs[i, 1])
            have = sign * (f[o, 1] - f[i, 1])
            if have < need:
                f[o, 1] += sign * (need - have)
    # the outer points between those follow half way
    for p, (q, r) in ((49, (48, 50)), (53, (52, 54)), (59, (48, 58)), (55, (54, 56))):
        f[p, 1] = max(f[p, 1], (f[q, 1] + f[r, 1]) / 2) if p in (59, 55) else \
            min(f[p, 1], (f[q, 1] + f[r, 1]) / 2)
    out[48:68] = transform_points(back, f[48:68])
    return out


def smile_corners(bank: MouthBank, teeth: bool, share: float = 0.0) -> np.ndarray:
    """``(2, 2)`` mean motion of the mouth corners (48, 54) over the bank's open (``teeth``)
    or closed smiles, in the bank's unit face frame; all smiles if the bank has none of that kind.

    ``share`` (closed smiles only): that share of the way from the closed smiles' mean to
    the open smiles' (0: the closed mean, 1: the open mean). A closed mouth is lent to people
    whose own smile is mostly open (the medoid closes where teeth are a gamble), and real
    closed smiles widen half as much as open ones.
    """
    def mean(kind: np.ndarray) -> np.ndarray:
        if not kind.any():
            kind = np.ones(len(bank.motion), bool)
        return np.asarray(bank.motion[kind][:, [48, 54]].astype(np.float64).mean(axis=0))

    open_mean = mean(bank.patch_of >= 0)
    if teeth:
        return open_mean
    closed_mean = mean(bank.patch_of < 0)
    return closed_mean + float(share) * (open_mean - closed_mean)


def pull_corners(lips: np.ndarray, new_corners: np.ndarray) -> np.ndarray:
    """Lip points ``(20, 2)`` (landmarks 48-67) with the outer corners moved to ``new_corners``
    ``(2, 2)``, the rest of each half of the mouth dragged along.

    A point at share ``t`` of the way from corner 48 to corner 54 (by x) moves by
    ``max(0, 1 - 2t)`` of the left corner's move plus ``max(0, 2t - 1)`` of the right's: the
    inner corners (60, 64) nearly as far, the lips' middle not at all, so moving only the
    corners leaves no kink at them.
    """
    out = np.array(lips, dtype=np.float64, copy=True)
    d = np.asarray(new_corners, dtype=np.float64) - out[[0, 6]]
    x0, x1 = out[0, 0], out[6, 0]
    t = np.clip((out[:, 0] - x0) / (x1 - x0), 0.0, 1.0) if x1 != x0 else np.full(len(out), 0.5)
    out += np.maximum(0.0, 1.0 - 2.0 * t)[:, None] * d[0] + np.maximum(0.0, 2.0 * t - 1.0)[:, None] * d[1]
    out[[0, 6]] = new_corners
    return out


def smile_mouth(bank: MouthBank, neutral_lips: np.ndarray, colours: PersonColours,
                strength: float, exclude: str | None = None, likely: bool = False) -> str:
    """``"open"`` or ``"closed"``: the mouth of a smile in mode ``"likely"``, or ``"auto"``
    (``likely`` False) when the input's own mouth look is unknown (:func:`target_shape`).

    ``"auto"`` then opens (a smile that reads as one), but a weak smile (``strength`` x the
    nearest open smile's gap below ``OPEN_GAP``) stays closed. ``"likely"`` also weighs
    whether this person's smile shows teeth, which their neutral photo barely tells:
    :meth:`MouthBank.open_probability` (lips parted at rest) against
    :meth:`MouthBank.open_threshold` (the break-even of what a wrong guess costs in mouth
    contrast either way, from the bank's own people). On London that threshold (0.46-1.0)
    is above nearly everyone's probability (0.42-0.88): it closes about 9 smiles in 10,
    which halves the contrast error where the real smile is closed and leaves most faces
    looking unchanged (docs/mouth.md).
    """
    j = bank.retrieve_smile(neutral_lips, colours, open_only=True, exclude=exclude)
    opening = strength * bank.gaps()[int(bank.patch_of[j])]
    if opening < OPEN_GAP:
        return "closed"
    if not likely or not bank.has_decision():
        return "open"
    return "open" if bank.open_probability(neutral_lips) >= bank.open_threshold(colours) else "closed"


def target_shape(model: Any, lm: np.ndarray, strength: float, mouth: str = "auto",
                 bank: MouthBank | None = None, colours: PersonColours | None = None,
                 exclude: str | None = None, own_look: np.ndarray | None = None,
                 painted: Callable[[np.ndarray, int], np.ndarray | None] | None = None,
                 teeth: bool = True) -> tuple[np.ndarray, str, int | None]:
    """Predicted crop landmarks ``(68, 2)``, the mouth mode used and the teeth exemplar index.

    For a model whose target is a smile, the mouth follows a *real* smile of the bank,
    which lends its motion to the lips (``_SMILE_FOLLOW``; the shape model keeps
    the rest). ``"open"`` takes the nearest smile with teeth (neutral lips and skin,
    :meth:`MouthBank.retrieve_smile`), ``"closed"`` the nearest of all. ``"auto"`` with
    ``own_look`` (the input's mouth look, :func:`pixelfes.mouth_regions.mouth_look`) takes
    :meth:`MouthBank.typical_smile`, teeth or closed lips: whether a person's own smile
    shows teeth cannot be told from a neutral photo (nearest-neighbour retrieval guessed it
    43 times in 82, chance), so it gives the mouth with the least expected error in look
    over the people most like this one; without ``own_look`` it opens like ``"open"``.
    Either keeps the lips closed when ``strength x`` the smile's gap is below ``OPEN_GAP``.
    ``painted(goal, index)``: the look (:func:`painted_look`) that teeth patch ``index`` gets
    when this face's lips move to ``goal`` (``(68, 2)`` crop landmarks); with it the medoid
    weighs each lent smile by the look it will have here, not by its look on its own face.
    For other targets ``"auto"`` follows the predicted opening. ``teeth`` False: the input's
    inner lips are apart but hold no teeth or cavity (:func:`pixelfes.mouth.shows_opening`), so
    ``"closed"`` lets its lips follow instead of pressing them together over teeth.

    The motion is shortened only by folds *outside* the mouth: triangles between the inner
    lips may collapse (lips that meet), which the model's own fold limit counts as a fold
    (and so left teeth squeezed between lips that never closed).
    """
    pred = model.shape_model_._predict_checked(lm[None], strength)[0]
    smile = getattr(model, "info", {}).get("target") == "happy"
    index = None
    if smile and colours is not None:
        bank = load_bank() if bank is None else bank
        neutral = transform_points(mouth_frame(lm), lm)[48:68]
        mode = mouth
        j = None
        goals: dict[int, np.ndarray] = {}  # the goals of the smiles whose teeth were painted
        if mode == "auto" and own_look is not None and bank.has_looks():
            look_of = None
            if painted is not None:
                base, paint, lender = pred, painted, bank

                def look_of(k: int) -> np.ndarray | None:  # smile k's teeth as painted on this face
                    patch = int(lender.patch_of[k])
                    goals[k] = _finish(model, lm, _follow_smile(model, lm, base, lender, k, "open", strength),
                                       "open", lender, strength, patch)
                    return paint(goals[k], patch)
            j, shows = bank.typical_smile(neutral, colours, own_look, exclude=exclude, painted=look_of)
            mode = "open" if shows else "closed"
            if shows and strength * bank.gaps()[int(bank.patch_of[j])] < OPEN_GAP:
                mode, j = "closed", None
        elif mode in ("auto", "likely"):
            mode = smile_mouth(bank, neutral, colours, strength, exclude, likely=mode == "likely")
        # a closed smile follows a real closed smile (an open one's lips, pressed together
        # at their midpoints, bent the upper lip into a visible kink)
        if j is None:
            j = bank.retrieve_smile(neutral, colours, open_only=mode != "closed",
                                    closed_only=mode == "closed", exclude=exclude)
        index = int(bank.patch_of[j]) if bank.patch_of[j] >= 0 else None
        if mode == "open" and j in goals:  # measured on these very lips: the same goal
            return goals[j], mode, index
        pred = _follow_smile(model, lm, pred, bank, j, mode, strength)
    else:
        mode = "auto" if mouth == "likely" else mouth
        if mode == "auto":
            gap, now = inner_gap(pred), inner_gap(lm)
            mode = "closed" if gap < OPEN_GAP or gap < 0.9 * now else "open" if gap > now else "own"
    if mode == "closed":
        index = None
    elif mode != "own" and index is None:
        bank = load_bank() if bank is None else bank
        if colours is None:
            raise ValueError("opening a mouth needs the person's colours (colours=)")
        outer = transform_points(mouth_frame(pred), pred)[48:60]
        index = bank.retrieve(outer, colours, exclude=exclude)
    return _finish(model, lm, pred, mode, bank, strength, index, teeth), mode, index


def _follow_smile(model: Any, lm: np.ndarray, pred: np.ndarray, bank: MouthBank, j: int,
                  mode: str, strength: float) -> np.ndarray:
    """``pred`` with the lips following the bank's smile ``j`` and the corners the bank's mean."""
    align = model.alignment_
    moved = lm + strength * bank.motion[j].astype(np.float64) * (align.size / align.margin)
    pred = pred + _SMILE_FOLLOW[:, None] * (moved - pred)
    # the mouth corners move as the bank's open smiles do on average (closed: _CLOSED_CORNERS
    # of the way from the closed ones' mean; open smiles widen twice as much): one person's
    # corners are a gamble (039 was lent a smile whose corners hardly moved), the rest of the
    # lips keep the retrieved smile's shape about them (open_lips works in the corners'
    # frame; a closed smile's lips are dragged along with its corners, pull_corners)
    corners = lm[[48, 54]] + strength * smile_corners(
        bank, mode != "closed", _CLOSED_CORNERS) * (align.size / align.margin)
    if mode == "closed" and _CLOSED_CORNERS > 0:
        pred[48:68] = pull_corners(pred[48:68], corners)
    else:
        pred[[48, 54]] = corners
    return pred


def _finish(model: Any, lm: np.ndarray, pred: np.ndarray, mode: str, bank: MouthBank | None,
            strength: float, index: int | None, teeth: bool = True) -> np.ndarray:
    """The goal landmarks of mouth ``mode`` (``open`` with teeth patch ``index``), motion limited;
    ``teeth``: as :func:`target_shape`'s."""
    tri = model.warp_.triangulation
    smile = getattr(model, "info", {}).get("target") == "happy"
    over_teeth = teeth and inner_gap(lm) > _teeth_gap(smile)
    if mode == "own":  # an open mouth that stays open keeps its own teeth
        goal = pred
    elif mode == "closed":
        if over_teeth:
            goal = close_lips(pred)
        else:  # no teeth to close over: the lips follow, meeting only if they met already
            goal = closed_follow(lm, pred, meet=inner_gap(lm) <= _OPEN_SOURCE)
    else:
        bank = load_bank() if bank is None else bank
        assert index is not None
        goal = open_lips(lm, pred, bank.frame_points()[index], strength)
    a = limit_motion(tri, lm, goal, ignore=_mouth_triangles(tri.simplices))
    if a < 1.0:
        goal = lm + 0.95 * a * (goal - lm)
        if mode == "closed" and (over_teeth or inner_gap(lm) <= _OPEN_SOURCE):
            goal = close_lips(goal)  # shortened motion, but lips that still meet
    return goal


@functools.lru_cache(maxsize=4)
def _motion_weight(alignment: Alignment) -> np.ndarray:
    """``(S, S) float32`` in [0, 1]: 1 over the face, fading out a little beyond the jaw.

    The triangulation carries the jaw's motion out to the crop's border (hair, collar,
    background); this keeps it to the face and its immediate surroundings.
    """
    from .face.align import to_crop_coords
    from .face.paste import _ELLIPSE_AXES, _ELLIPSE_CENTRE

    size, margin = alignment.size, alignment.margin
    face_px = size / margin
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c = to_crop_coords(np.array([_ELLIPSE_CENTRE]), size, margin)[0]
    ax = np.array(_ELLIPSE_AXES) * face_px * _MOTION_GROW
    hard = ((((xx - c[0]) / ax[0]) ** 2 + ((yy - c[1]) / ax[1]) ** 2) <= 1.0).astype(np.float32)
    w = cv2.GaussianBlur(hard, (0, 0), _MOTION_FEATHER * face_px)
    w = np.clip((w - 0.02) / 0.98, 0.0, 1.0)  # exactly 0 well outside
    w.flags.writeable = False
    return w.astype(np.float32)


def face_motion_weight(alignment: Alignment, *points: np.ndarray) -> np.ndarray:
    """``(S, S) float32``: :func:`_motion_weight`, but 1 over the hull of ``points`` too.

    The face ellipse alone ends at the resting chin: a jaw that drops (surprise, AU26 at
    1.6: the chin 12 px down on the 192 px canvas) would land where the weight is 0.4, and
    the chin would stay behind. Here the weight is 1 over the convex hull of the landmarks
    before and after the motion (canvas ``(K, 2)`` arrays) and falls smoothly (smoothstep)
    to 0 over ``2 * _MOTION_FEATHER`` of the face frame beyond it (where the ellipse's
    Gaussian fade reaches 0 beyond its own edge); elsewhere the ellipse's weight.
    """
    base = _motion_weight(alignment)
    if not points:
        return base
    size = alignment.size
    pts = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in points])
    hull = cv2.convexHull(np.rint(pts * 16).astype(np.int32))
    outside = np.full((size, size), 255, np.uint8)
    cv2.fillConvexPoly(outside, hull, 0, lineType=cv2.LINE_8, shift=4)
    fade = 2.0 * _MOTION_FEATHER * size / alignment.margin
    # the distance only matters within ``fade`` of the hull: measured over the hull's box grown
    # by that much (a chamfer distance's shortest paths stay inside it: the same values)
    grow = int(np.ceil(fade)) + 3
    lo = np.floor(hull.reshape(-1, 2).min(0) / 16).astype(int) - grow
    hi = np.ceil(hull.reshape(-1, 2).max(0) / 16).astype(int) + grow + 1
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(size, int(hi[0])), min(size, int(hi[1]))
    t = np.zeros((size, size), np.float32)
    if x1 > x0 and y1 > y0:
        # 5x5 mask: within 0.4 px over the fade
        dist = cv2.distanceTransform(np.ascontiguousarray(outside[y0:y1, x0:x1]), cv2.DIST_L2, 5)
        t[y0:y1, x0:x1] = np.clip(np.float32(1.0) - dist * np.float32(1.0 / fade), 0.0, 1.0)
    return np.maximum(base, t * t * (np.float32(3.0) - np.float32(2.0) * t))


def eye_weight(reference: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(H, W) float32`` in [0, 1]: 1 over the lower lids and the cheek just below each eye,
    fading out (Gaussian) within about one eye width; ``reference`` ``(68, 2)`` landmarks.

    Where a smile's eye part (AU6: the cheek pushed up, the lower lid bulging) shows in the
    texture: each blob is centred half an eye width below the eye's centre.
    """
    w = np.zeros(shape, np.float32)
    ref = np.asarray(reference, dtype=np.float64)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    for eye in (ref[36:42], ref[42:48]):
        width = float(np.ptp(eye[:, 0]))
        c = eye.mean(axis=0) + (0.0, 0.5 * width)
        d2 = ((xx - c[0]) / (0.8 * width)) ** 2 + ((yy - c[1]) / (0.5 * width)) ** 2
        w = np.maximum(w, np.exp(-0.5 * d2).astype(np.float32))
    return w


_RATIO_CONSTANTS: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], dict[Any, Any]]] = \
    weakref.WeakKeyDictionary()
_RATIO_LOCK = threading.Lock()


def _gain_blur(a: np.ndarray) -> np.ndarray:
    """The texture ratio's smoothing: a Gaussian of ``_GAIN_SIGMA`` canvas px, float32."""
    return np.asarray(cv2.GaussianBlur(a, (0, 0), _GAIN_SIGMA), dtype=np.float32)


def _ratio_constants(m: Any, ratio_gain: float, eye_gain: float | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, float]:
    """What :func:`_texture_ratio` takes from the model alone, made once per model (and gains):
    the average change over the mean face's luminance, the region without the lips and the
    philtrum, the eyes' gain factor (``None``: none), the average change's tint
    (:func:`_mean_tint`), the face hull (:func:`face_hull`) and the mean face's median luma there. Remade when the model's arrays change."""
    sources = (m.mean_source_, m._average_change, m.reference_, m.region_)
    with _RATIO_LOCK:  # (threads may share a model: the web page's server)
        try:
            entry = _RATIO_CONSTANTS.get(m)
        except TypeError:  # not weakly referenceable: made each time
            entry = None
        if entry is None or any(a is not b for a, b in zip(entry[0], sources, strict=True)):
            entry = (sources, {})  # (the sources are held: their identity is the key)
            try:
                _RATIO_CONSTANTS[m] = entry
            except TypeError:
                pass
    key = (float(ratio_gain), None if eye_gain is None else float(eye_gain), eye_weight)
    got = entry[1].get(key)
    if got is not None:
        return got
    mean = m.mean_source_.astype(np.float32)
    y_mean = _gain_blur(mean @ _LUMA) + 8.0
    avg = _gain_blur(m._average_change.astype(np.float32) @ _LUMA) / y_mean
    # the average change over the lips is the average smile's lip outline, a ghost on anyone
    # else; between nose and lips (the philtrum) the average face's moustache shadow
    poly = np.zeros(avg.shape, np.float32)
    refl = m.reference_
    keep_out = np.concatenate([refl[48:60], refl[31:36]]).astype(np.float32)
    cv2.fillPoly(poly, [np.rint(cv2.convexHull(keep_out).reshape(-1, 2) * 16)
                        .astype(np.int32)], 1.0, shift=4)
    grow = max(1, int(round(_LIP_MARGIN * float(np.linalg.norm(refl[54] - refl[48])))))
    grown = cv2.dilate(poly, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    hole = np.asarray(cv2.GaussianBlur(grown, (0, 0), grow / 2), dtype=np.float32)
    keep = m.region_.astype(np.float32) * (1.0 - hole)
    eyes = None
    if eye_gain is not None and eye_gain != ratio_gain:
        eyes = 1.0 + np.float32(eye_gain / ratio_gain - 1.0) * eye_weight(refl, avg.shape)
    tint = _mean_tint(mean, m._average_change.astype(np.float32), _gain_blur)
    for a in (avg, keep, eyes, tint):
        if a is not None:
            a.flags.writeable = False
    hull = face_hull(refl, avg.shape)
    entry[1][key] = (avg, keep, eyes, tint, hull, float(median((mean @ _LUMA)[hull])))
    return entry[1][key]


def face_hull(reference: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``(H, W) bool``: the convex hull of the 68 reference landmarks (the face, brows to chin),
    read only; where a face's overall level is measured (:func:`level_factor`)."""
    hull = np.zeros(shape[:2], np.uint8)
    pts = np.asarray(reference, dtype=np.float32)[:68]
    cv2.fillPoly(hull, [np.rint(cv2.convexHull(pts).reshape(-1, 2) * 16).astype(np.int32)], 1, shift=4)
    out = hull.astype(bool)
    out.flags.writeable = False
    return out


def level_factor(ref: np.ndarray, hull: np.ndarray, mean_level: float) -> float:
    """The factor that brings the face ``ref`` (``(S, S, 3)``, reference frame, 0-255) to the
    mean face's overall level: ``mean_level`` (the mean face's median luma over ``hull``) over
    this face's median luma there. 1 for a face with no light there."""
    own = float(median((np.asarray(ref, dtype=np.float32) @ _LUMA)[hull]))
    return mean_level / own if own > 0 else 1.0


_TINT_EPS = np.float32(0.005)  # linear light: keeps the logarithm of near-black pixels tame
_TINT_LIMIT = 0.25  # |log ratio| of a channel's tint at most this (a fold reddens by a few %)
_Y = LUMINANCE  # sRGB (D65) linear luminance


def _mean_tint(mean: np.ndarray, change: np.ndarray, blur: Callable[[np.ndarray], np.ndarray]
               ) -> np.ndarray:
    """``(S, S, 3) float32``: the colour of the average change, per channel in linear light
    and without its luminance: log(channel ratio) - log(luminance ratio) of the mean face
    after / before (blurred as the ratio is). A real smile's fold darkens red less than green
    and blue (skin reddens as it creases: London, light skin a* +1 where L* -5); a luminance
    change alone leaves the fold grey."""
    from .mouth.colour import to_linear

    before = to_linear(np.clip(blur(mean), 0.0, 255.0)) + _TINT_EPS  # blurred sRGB values, 0..255
    after = to_linear(np.clip(blur(mean + change), 0.0, 255.0)) + _TINT_EPS
    tint = np.log(after / before) - np.log((after @ _Y) / (before @ _Y))[..., None]
    return np.asarray(tint, dtype=np.float32)


def _texture_ratio(model: Any, crop: np.ndarray | None, lm: np.ndarray, raster: Any,
                   strength: float, ratio_gain: float = _RATIO_GAIN, eye_gain: float | None = None,
                   own: bool = True, colour: bool = False, level: str | None = None) -> Any:
    """Smooth luminance ratio ``(S, S) float32`` (1 = unchanged) on the predicted shape.

    ``own``: the pixel model's change of this face, over the face's own (blurred) luminance,
    plus ``texture_gain - 1`` times the average change over the mean face's luminance; else
    ``texture_gain`` times the latter alone (:data:`_SMILE_OWN`): a relative change, the
    same fraction on every skin tone. ``level`` (default :data:`_OWN_LEVEL`) for the own change:
    ``"off"`` this face's, ``"mean"`` that of the face scaled to the mean face's overall level
    (:func:`level_factor`), ``"lesser"`` the lower of the two per pixel. One (no change) inside
    the lips (the mouth module paints there). ``colour``: also the tint ``(S, S, 3) float32`` (:func:`_mean_tint`, as
    strong as the ratio, at most :data:`_TINT_LIMIT`), returned as ``(ratio, tint)``.
    """
    m = model
    warp = m.warp_
    level = _OWN_LEVEL if level is None else level
    if level not in OWN_LEVELS:
        raise ValueError(f"level must be one of {', '.join(OWN_LEVELS)}; got {level!r}")
    avg, keep, eyes, tint, hull, mean_level = _ratio_constants(m, ratio_gain, eye_gain)
    if own:
        if crop is None:
            raise ValueError("the face's own texture change needs its crop (crop=)")
        ref = warp.to_reference(crop, lm).reshape(crop.shape)
        if level == "off":
            own_ratio = _own_ratio(m, ref[None])[0]
        else:  # the face at the mean face's level too: a ratio free of the skin's level
            k = level_factor(ref, hull, mean_level)
            at_mean = np.clip(np.rint(ref.astype(np.float32) * np.float32(k)), 0, 255).astype(np.uint8)
            own_ratio, at_mean = _own_ratio(m, np.stack([ref, at_mean]))
            own_ratio = at_mean if level == "mean" else np.minimum(own_ratio, at_mean)
        ratio = own_ratio + np.float32(float(m.texture_gain) - 1.0) * avg
    else:  # the mean face's relative change, the same fraction on every face
        ratio = np.float32(float(m.texture_gain)) * avg  # (a new array: scaled in place below)
    # the lips keep the person's own texture (and the mouth module paints the interior)
    ratio *= keep
    if eyes is not None:  # the eyes' own gain, relative to the rest
        ratio *= eyes
    refl = m.reference_
    tri = warp.triangulation
    bmap = raster.backward_map(tri.full_points(refl))
    back = remap(ratio, bmap, interpolation="linear").reshape(ratio.shape)
    gain = np.clip(1.0 + np.float32(strength * ratio_gain) * back, *_GAIN_LIMITS).astype(np.float32)
    if not colour:
        return gain
    t = tint * (np.float32(float(m.texture_gain)) * keep)[..., None]
    if eyes is not None:
        t *= eyes[..., None]
    t = remap(t, bmap, interpolation="linear").reshape(t.shape)
    return gain, np.clip(np.float32(strength * ratio_gain) * t, -_TINT_LIMIT, _TINT_LIMIT).astype(np.float32)


def _own_ratio(m: Any, refs: np.ndarray) -> np.ndarray:
    """``(N, S, S) float32``: the pixel model's change of each face of ``refs`` (``(N, S, S, 3)
    uint8``, reference frame) over its own luminance, both blurred as the ratio is. The faces go
    through one ``predict`` (a pixel model's is per pixel: the same values as one at a time, its
    strength-folded coefficients made once)."""
    changes = m.texture_model_.predict(refs).astype(np.float32) - refs
    return np.stack([_gain_blur(c @ _LUMA) / (_gain_blur(r.astype(np.float32) @ _LUMA) + 8.0)
                     for c, r in zip(changes, refs, strict=True)])


def _gray_face(crop: np.ndarray, lm: np.ndarray) -> bool:
    """Whether the aligned face (the landmarks' box of ``crop``) has equal channels: a gray
    photo stored as RGB, which a tint would colour."""
    if crop.ndim != 3 or crop.shape[2] != 3:
        return True
    x0, y0 = np.floor(lm.min(axis=0)).astype(int).clip(0)
    x1, y1 = np.ceil(lm.max(axis=0)).astype(int) + 1
    box = crop[y0:y1, x0:x1].astype(np.int16)
    return bool(box.size) and int(np.abs(box - box[..., :1]).max()) <= 2


#: a bound on the negative lobes of OpenCV's bicubic weights (a = -0.75: at most 0.445 over a
#: pixel's 16 taps, the two 1-D lobes of 0.1875 each times the other axis' 1.1875)
_CUBIC_NEGATIVE = 0.5


def _colour_probes(lm: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Crop pixels where :func:`_surely_colour` looks, in :func:`_gray_face`'s box of the crop
    landmarks ``lm`` and 4 pixels inside the crop: the cheeks and beside the nose first (smooth
    skin), then a 5 x 5 grid over the box."""
    x0, y0 = np.floor(lm.min(axis=0)).astype(int).clip(0)
    x1, y1 = np.minimum(np.ceil(lm.max(axis=0)).astype(int) + 1, size)
    lo_c, hi_c, lo_r, hi_r = max(int(x0), 4), min(int(x1), size - 4), max(int(y0), 4), min(int(y1), size - 4)
    if hi_c <= lo_c or hi_r <= lo_r:
        return []
    pts = [lm[[41, 48]].mean(axis=0), lm[[46, 54]].mean(axis=0), lm[[31, 2]].mean(axis=0),
           lm[[35, 14]].mean(axis=0), lm[30], lm[[21, 22]].mean(axis=0)] if len(lm) == 68 else []
    gx, gy = np.meshgrid(np.linspace(lo_c, hi_c - 1, 5), np.linspace(lo_r, hi_r - 1, 5))
    pts += list(np.stack([gx.ravel(), gy.ravel()], axis=1))
    out = []
    for c in pts:
        cx, cy = (int(v) for v in np.rint(c))
        if lo_c <= cx < hi_c and lo_r <= cy < hi_r:
            out.append((cx, cy))
    return out


def _surely_colour(photo: np.ndarray, matrix: np.ndarray, lm: np.ndarray, size: int) -> bool:
    """Whether :func:`_gray_face` of the crop :func:`pixelfes.face.align.warp_to_crop` makes
    (``photo`` -> crop ``matrix``, crop landmarks ``lm``) is surely False, told from the photo
    without making the crop (3 ms a face: a smile reads nothing else of it); False: not told.

    The crop is an area reduction (weights >= 0, rounded) then a bicubic warp (weights summing
    to 1, negative lobes at most ``_CUBIC_NEGATIVE``, rounded) of each channel alike; so where
    a channel minus channel 0 lies within ``[lo, hi]`` over every photo pixel that one crop
    pixel reads, that crop pixel's difference is at least ``lo - 2 - N (hi - lo + 2)`` (two
    roundings each; N the negative lobes), and likewise at most the mirror of it. Above 2
    (:func:`_gray_face`'s tolerance) at one crop pixel of its box: not gray. Patches whose
    values the warp's overshoot could clip at 0 or 255 are not used.
    """
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        return False
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if not scale > 0:
        return False
    # the photo pixels one crop pixel reads: its 4 x 4 taps' centres lie within 2 resized
    # pixels of it, their areas half a resized pixel further (1 / scale photo pixels each):
    # within 2.5 / scale + 1; 0.5 / scale + 2 more as a margin (no area step: within 2)
    reach = int(np.ceil(3.0 / scale)) + 3
    back = invert_affine(matrix)
    h, w = photo.shape[:2]
    n = _CUBIC_NEGATIVE
    for cx, cy in _colour_probes(lm, size):
        qx, qy = back[:, :2] @ (float(cx), float(cy)) + back[:, 2]
        px0, py0 = int(np.floor(qx)) - reach, int(np.floor(qy)) - reach
        px1, py1 = int(np.ceil(qx)) + reach + 1, int(np.ceil(qy)) + reach + 1
        if px0 < 0 or py0 < 0 or px1 > w or py1 > h:  # (no border replicated in its reach)
            continue
        patch = photo[py0:py1, px0:px1].astype(np.int16)
        vmin, vmax = int(patch.min()), int(patch.max())
        if vmax + 1 + n * (vmax - vmin + 2) > 255 or vmin - 1 - n * (vmax - vmin + 2) < 0:
            continue  # the warp's overshoot might clip both channels alike
        for k in (1, 2):
            d = patch[..., k] - patch[..., 0]
            lo, hi = int(d.min()), int(d.max())
            slack = 2 + n * (hi - lo + 2)
            if lo - slack > 2 or -hi - slack > 2:
                return True
    return False


def _shade_tinted(pixels: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """:func:`apply_gain` of gathered ``pixels`` ``(1, N, 3)`` with a layer ``(1, N, 4)``: the
    gain, then the tint (:func:`_texture_ratio` with ``colour``)."""
    planes = cv2.split(np.ascontiguousarray(layer, dtype=np.float32))  # (apply_gain with tint=, on planes)
    return _tinted_planes(pixels, planes[0].reshape(-1), planes[1:]).reshape(pixels.shape)


def _pixels(img: np.ndarray) -> np.ndarray:
    """``(H * W,)`` view of a C-contiguous ``(H, W, C) uint8`` image, one element per pixel."""
    return img.view(f"V{img.shape[2]}").reshape(-1)


def _gather(img: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The pixels ``idx`` (flat indices) of a C-contiguous ``(H, W, C) uint8`` image as one
    ``(1, N, C)`` row (cvtColor converts row by row: a long row takes its vector path)."""
    return _pixels(img).take(idx).view(np.uint8).reshape(1, len(idx), img.shape[2])


def _scatter(img: np.ndarray, idx: np.ndarray, values: np.ndarray) -> None:
    """Write ``values`` (``N`` pixels of ``C`` uint8, any shape) into pixels ``idx`` of ``img``."""
    c = img.shape[2]
    np.put(_pixels(img), idx, np.ascontiguousarray(values, dtype=np.uint8).reshape(-1, c)
           .view(f"V{c}").reshape(-1))


def apply_gain(rgb: np.ndarray, gain: np.ndarray, dark_in_lab: bool = False,
               tint: np.ndarray | None = None) -> np.ndarray:
    """``rgb`` ``(H, W, 3) uint8`` times a luminance ``gain`` ``(H, W) float32``.

    Darkening (gain < 1) scales the channels, as a shadow does; lightening scales L* at
    constant a* and b* (sRGB's encoding and L* are both near-perceptual, so the ratio is
    nearly the same on either): a channel gain above 1 raises chroma with lightness and
    saturates red first on light skin, turning lightened skin orange or yellow.
    ``dark_in_lab``: darkening scales L* at constant a*, b* too, so a fold keeps the skin's
    colour: a channel scale lowers chroma with lightness, and the smile's deeper folds read
    as grey smudges beside the nose (a blind rater's first giveaway, 5 pairs of 20).
    Only the pixels that go through CIELAB are converted (gathered into one row).
    ``tint`` ``(H, W, 3) float32`` (with ``dark_in_lab``): a relative change of colour in linear
    light, log per channel (:func:`_tinted`); every pixel is then shaded that way.
    """
    g = np.asarray(gain, dtype=np.float32)
    if tint is not None:
        return _tinted(rgb, g, np.asarray(tint, dtype=np.float32))
    # (a gain within _LAB_MIN of 1 changes a pixel by under a level either way: channel scale)
    up = (np.abs(g - np.float32(1.0)) > _LAB_MIN) if dark_in_lab else g > 1.0
    out = np.asarray(cv2.multiply(rgb, cv2.merge([g, g, g]), dtype=cv2.CV_8U))
    idx = np.flatnonzero(up)
    if len(idx):  # only these pixels go through CIELAB, gathered into one (1, N, 3) row
        _scatter(out, idx, _scale_l_star(_gather(np.ascontiguousarray(rgb), idx), g.reshape(-1).take(idx)))
    return out


def _scale_l_star(px: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``px`` ``(1, N, 3) uint8`` (one row) with L* times ``g`` ``(N,) float32`` (at most 100) at
    constant a*, b*: :func:`apply_gain`'s CIELAB pass, ``(1, N, 3) uint8``."""
    # one row, not an (N, 1, 3) column: cvtColor converts row by row, and a column of
    # one-pixel rows took the scalar path, ~5x slower (LAB -> RGB's vector path differs
    # from the scalar one by < 1e-5, which moves a rounding by one level on a rare pixel)
    lab_ = cv2.cvtColor(px.astype(np.float32) / np.float32(255.0), cv2.COLOR_RGB2LAB)
    lab_[..., 0] = np.minimum(lab_[..., 0] * g[None], 100.0)
    lit = np.asarray(cv2.cvtColor(lab_, cv2.COLOR_LAB2RGB), dtype=np.float32)
    lit *= np.float32(255.0)  # (in place: the same floats as np.rint(lit * 255.0), then clipped)
    np.rint(lit, out=lit)
    return np.clip(lit, 0, 255, out=lit).astype(np.uint8)


def _luminance(lin: np.ndarray) -> np.ndarray:
    """``(..., 3)`` linear sRGB -> ``(...)`` luminance (a weighted sum: ``@`` on a last axis of 3
    took 7 ms for 300 000 pixels, this 1 ms)."""
    return lin[..., 0] * _Y[0] + lin[..., 1] * _Y[1] + lin[..., 2] * _Y[2]


@functools.lru_cache(maxsize=1)
def _decode_table() -> np.ndarray:
    """``(256,) float32``: the linear value of each sRGB code (:mod:`pixelfes.mouth_regions`')."""
    from .mouth_regions import _LINEAR

    return _LINEAR.astype(np.float32)


@functools.lru_cache(maxsize=1)
def _encode_table() -> np.ndarray:
    """``(65536,) uint8``: sRGB code of the linear value ``i / 65535`` (IEC 61966-2-1), rounded."""
    lin = np.arange(65536, dtype=np.float64) / 65535.0
    enc = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(enc * 255.0), 0, 255).astype(np.uint8)


def _tinted(rgb: np.ndarray, gain: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """``rgb`` ``(H, W, 3) uint8`` with L* times ``gain`` ``(H, W)`` (at most 100) and each
    channel in linear light times ``exp(tint)`` ``(H, W, 3)``, the luminance kept at the new L*.

    A relative change per channel, as light and blood change skin: its chromaticity follows
    the shadow and the tint, on every skin tone the same fraction (a grey pixel gets the tint too).
    """
    n = rgb.size // 3
    planes = cv2.split(np.ascontiguousarray(tint, dtype=np.float32).reshape(1, n, 3))
    return _tinted_planes(rgb, np.asarray(gain, dtype=np.float32).reshape(n), planes).reshape(rgb.shape)


def _tinted_planes(rgb: np.ndarray, gain: np.ndarray, tint: Any) -> np.ndarray:
    """:func:`_tinted` of ``rgb`` (``N`` pixels, any shape) with the gain ``(N,)`` and the tint
    as three ``(N,) float32`` planes; ``(1, N, 3) uint8``.

    Channel by channel on contiguous planes, in place where it can be: the same float32
    operations in the same order as :func:`_tinted_plain` (the same bytes; NumPy's exp and
    cbrt give the same values on any layout), 1.5x cheaper than over a last axis of 3
    (strided: NumPy's exp over every fourth float of the layer was 4x its contiguous one).
    """
    n = rgb.size // 3
    # the decoding table by OpenCV's lookup, one contiguous plane per channel
    lin = [np.asarray(cv2.LUT(p, _decode_table())).reshape(n)
           for p in cv2.split(np.ascontiguousarray(rgb).reshape(1, n, 3))]
    y = lin[0] * _Y[0]
    y += lin[1] * _Y[1]
    y += lin[2] * _Y[2]
    # L* of the luminance (CIE 1976; Yn = 1), times the gain, back to a luminance; each formula
    # over every pixel, the other branch written over the few it is for (np.where's select
    # cost 4x the formula: the same values)
    eps, kappa = np.float32(216 / 24389), np.float32(24389 / 27)
    lstar = np.cbrt(y)
    lstar *= np.float32(116.0)
    lstar -= np.float32(16.0)
    low = np.flatnonzero(~(y > eps))
    lstar[low] = kappa * y[low]
    lstar *= gain
    np.minimum(lstar, np.float32(100.0), out=lstar)
    fy = (lstar + np.float32(16.0)) / np.float32(116.0)
    y_new = fy * fy
    y_new *= fy
    low = np.flatnonzero(~(lstar > kappa * eps))
    y_new[low] = lstar[low] / kappa
    out = np.empty((3, n), np.float32)
    for c in range(3):
        np.exp(np.asarray(tint[c]).reshape(n), out=out[c])
        out[c] *= lin[c]  # (lin * exp(tint): a product commutes exactly)
    lum = out[0] * _Y[0]
    lum += out[1] * _Y[1]
    lum += out[2] * _Y[2]
    np.maximum(lum, np.float32(1e-9), out=lum)
    np.divide(y_new, lum, out=lum)
    out *= lum
    out *= np.float32(65535.0)
    out += np.float32(0.5)
    np.clip(out, 0.0, 65535.0, out=out)
    coded = np.take(_encode_table(), out.astype(np.uint16))
    return np.asarray(cv2.merge([coded[0], coded[1], coded[2]])).reshape(1, n, 3)


def _tinted_plain(rgb: np.ndarray, gain: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """:func:`_tinted` written plainly, pixel by pixel over the last axis (its reference in tests)."""
    lin = _decode_table()[rgb]
    y = _luminance(lin)
    # L* of the luminance (CIE 1976; Yn = 1), times the gain, back to a luminance
    eps, kappa = np.float32(216 / 24389), np.float32(24389 / 27)
    lstar = np.where(y > eps, np.float32(116.0) * np.cbrt(y) - np.float32(16.0), kappa * y)
    lstar = np.minimum(lstar * gain, np.float32(100.0))
    fy = (lstar + np.float32(16.0)) / np.float32(116.0)
    y_new = np.where(lstar > kappa * eps, fy * fy * fy, lstar / kappa)
    out = lin * np.exp(tint)
    out *= (y_new / np.maximum(_luminance(out), np.float32(1e-9)))[..., None]
    idx = np.clip(out * np.float32(65535.0) + np.float32(0.5), 0.0, 65535.0).astype(np.uint16)
    return _encode_table()[idx]


@dataclass(frozen=True, eq=False)
class PhotoMap:
    """The face's backward map at the photo's size (:func:`plan_photo_map`), made on demand
    row band by row band (:meth:`rows`), so that no box-sized map is ever held.

    ``box``: ``(x0, y0, x1, y1)`` in the photo; ``dx``, ``dy``: the canvas displacement in
    photo pixels (motion-weighted) and ``extra`` the canvas layer (or ``None``), all ``(S, S)
    float32``; ``matrix``: crop -> box ``(2, 3)``; ``exact``: the box-local ``(x0, y0, x1, y1)``
    over the lips where the map is exact, with its map ``(x, y)`` and still mask (or ``None``).
    """

    box: tuple[int, int, int, int]
    dx: np.ndarray = field(repr=False)
    dy: np.ndarray = field(repr=False)
    extra: np.ndarray | None = field(repr=False)
    matrix: np.ndarray = field(repr=False)
    exact: tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray] | None = field(repr=False)
    #: box rows ``(r0, r1)`` outside which ``extra`` brings nothing (0): warped only there
    extra_rows: tuple[int, int] = (0, 0)
    #: how many rows above or below its own a pixel may read (its largest vertical motion,
    #: the cubic's reach and a margin); unknown: the whole box
    lag: int = 1 << 30

    @property
    def shape(self) -> tuple[int, int]:
        """``(h, w)`` of the box."""
        x0, y0, x1, y1 = self.box
        return y1 - y0, x1 - x0

    def rows(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """Rows ``r0:r1`` of the box: source ``x``, ``y`` (photo pixels) and the layer (or
        ``None``), each ``(r1 - r0, w) float32``, and ``still`` ``(r1 - r0, w) bool``."""
        return self._rows(r0, r1)[:4]

    def _rows(self, r0: int, r1: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
        """:meth:`rows` and where the layer is :func:`_quiet` (``(r1 - r0, w) bool``, ``None``
        without a layer), found once here for both ``still`` and the shading."""
        x0, y0, x1, y1 = self.box

        def warp(a: np.ndarray, r0: int, r1: int) -> np.ndarray:
            # rows r0:r1 of the box (the row offset in the matrix: the same values as one
            # pass over the box); one channel at a time: OpenCV's vector path (two of them
            # cost 0.6 of one two-channel pass, the same values to 1 ulp)
            m = self.matrix.copy()
            m[1, 2] -= r0
            return np.asarray(cv2.warpAffine(a, m, (x1 - x0, r1 - r0), flags=cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_CONSTANT, borderValue=0),
                              dtype=np.float32)

        mx, my = warp(self.dx, r0, r1), warp(self.dy, r0, r1)
        # both displacement components within STILL_PX
        keep = np.asarray(cv2.bitwise_and(cv2.inRange(mx, -STILL_PX, STILL_PX),
                                          cv2.inRange(my, -STILL_PX, STILL_PX)), dtype=np.uint8)
        layer = quiet = None
        if self.extra is not None:  # a pixel whose texture changes is not still either
            a, b = max(r0, self.extra_rows[0]), min(r1, self.extra_rows[1])
            shape = mx.shape + self.extra.shape[2:]
            if a == r0 and b == r1:  # the layer reaches every row: the warp is the layer
                layer = warp(self.extra, a, b).reshape(shape)
                quiet = _quiet(layer)
                keep &= quiet
            else:  # 0 (quiet) outside its rows
                layer = np.zeros(shape, np.float32)
                quiet = np.ones(mx.shape, bool)
                if a < b:
                    got = warp(self.extra, a, b)
                    layer[a - r0:b - r0] = got.reshape(layer[a - r0:b - r0].shape)
                    quiet[a - r0:b - r0] = _quiet(got)  # (every channel within 1e-3 of 0)
                    keep[a - r0:b - r0] &= quiet[a - r0:b - r0]
        still = keep > 0
        mx += np.arange(x0, x1, dtype=np.float32)[None, :]
        my += np.arange(y0 + r0, y0 + r1, dtype=np.float32)[:, None]
        if self.exact is not None:  # the exact map over the lips
            (lx0, ly0, lx1, ly1), ex, ey, es = self.exact
            a, b = max(r0, ly0), min(r1, ly1)
            if a < b:
                mx[a - r0:b - r0, lx0:lx1] = ex[a - ly0:b - ly0]
                my[a - r0:b - r0, lx0:lx1] = ey[a - ly0:b - ly0]
                # (a shaded pixel is not still there either)
                still[a - r0:b - r0, lx0:lx1] = es[a - ly0:b - ly0] if quiet is None else \
                    es[a - ly0:b - ly0] & quiet[a - r0:b - r0, lx0:lx1]
        return mx, my, layer, still, quiet


def plan_photo_map(matrix: np.ndarray, triangulation: Triangulation, source: np.ndarray,
                   target: np.ndarray, alignment: Alignment, shape: tuple[int, int],
                   also: np.ndarray | None = None, extra: np.ndarray | None = None,
                   raster: Raster | None = None) -> PhotoMap | None:
    """The face's backward map at the photo's size as a :class:`PhotoMap` (see
    :func:`photo_map` for the arguments and the map), or ``None`` when nothing moves."""
    from .face.paste import _photo_roi

    tri = triangulation
    if raster is None:
        raster = tri.raster(target)
    cmx, cmy = raster.backward_map(tri.full_points(source))
    inv = invert_affine(matrix)
    n = alignment.size
    gx, gy = (g.reshape(n, n) for g in _pixel_grid(n))  # cached pixel centres
    a = inv[:, :2].astype(np.float32)
    weight = face_motion_weight(alignment, source, target)
    dx = (a[0, 0] * (cmx - gx) + a[0, 1] * (cmy - gy)) * weight
    dy = (a[1, 0] * (cmx - gx) + a[1, 1] * (cmy - gy)) * weight
    moving = cv2.magnitude(dx, dy) > STILL_PX
    if also is not None:
        moving |= also
    ys, xs = np.nonzero(cv2.dilate(moving.astype(np.uint8), np.ones((3, 3), np.uint8)))
    roi = _photo_roi(matrix, xs, ys, shape)
    if roi is None:
        return None
    (x0, y0, x1, y1), roi_m = roi
    # exact per-pixel map over the lips, where the triangles bend most
    dst_photo = transform_points(inv, tri.full_points(target))
    src_photo = transform_points(inv, tri.full_points(source))
    lips = dst_photo[48:68] if len(source) == 68 else dst_photo[: len(source)]
    width = float(np.ptp(lips[:, 0]))
    pad = _EXACT_PAD * width
    lx0, ly0 = np.maximum(np.floor(lips.min(0) - pad).astype(int), (x0, y0))
    lx1, ly1 = np.minimum(np.ceil(lips.max(0) + pad).astype(int) + 1, (x1, y1))
    exact = None
    if lx1 > lx0 and ly1 > ly0:
        ex, ey = box_backward_map(tri, src_photo, dst_photo, (lx0, ly0, lx1, ly1))
        grid_x = np.arange(lx0, lx1, dtype=np.float32)[None, :]
        grid_y = np.arange(ly0, ly1, dtype=np.float32)[:, None]
        # the same motion weight as the rest of the map: unweighted, a jaw that moves
        # beyond the face ellipse left a step at this box's edge (the chin of a surprise)
        sub_m = roi_m.copy()
        sub_m[:, 2] -= (lx0 - x0, ly0 - y0)
        wb = cv2.warpAffine(weight, sub_m, (lx1 - lx0, ly1 - ly0), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        ex = grid_x + wb * (ex - grid_x)
        ey = grid_y + wb * (ey - grid_y)
        es = (np.abs(ex - grid_x) <= STILL_PX) & (np.abs(ey - grid_y) <= STILL_PX)
        exact = ((int(lx0 - x0), int(ly0 - y0), int(lx1 - x0), int(ly1 - y0)), ex, ey, es)
    extra_rows = (0, 0)
    if extra is not None:  # the box rows the layer reaches (its canvas support, 1 px grown)
        ry, rx = np.nonzero(extra if extra.ndim == 2 else _nonzero_pixels(extra))
        if len(ry):
            g = 1.1  # canvas px: the bilinear neighbours, and warpAffine's 1/32 px steps
            corners = np.array([[rx.min() - g, ry.min() - g], [rx.max() + g, ry.min() - g],
                                [rx.min() - g, ry.max() + g], [rx.max() + g, ry.max() + g]], np.float64)
            ys_box = transform_points(roi_m, corners)[:, 1]
            extra_rows = (max(0, int(np.floor(ys_box.min())) - 1), min(y1 - y0, int(np.ceil(ys_box.max())) + 2))
    # the map's vertical reach: interpolated values never exceed the canvas's, the exact
    # box's are its own; the cubic reads 1 row above and 2 below, 1/32 px rounding, margin
    reach = float(np.abs(dy).max(initial=0.0))
    if exact is not None:
        reach = max(reach, float(np.abs(exact[2] - np.arange(ly0, ly1, dtype=np.float32)[:, None]).max(initial=0.0)))
    lag = int(np.ceil(reach)) + 4
    return PhotoMap((x0, y0, x1, y1), dx, dy, extra, roi_m, exact, extra_rows, lag)


def photo_map(matrix: np.ndarray, triangulation: Triangulation, source: np.ndarray,
              target: np.ndarray, alignment: Alignment, shape: tuple[int, int],
              also: np.ndarray | None = None, extra: np.ndarray | None = None,
              raster: Raster | None = None
              ) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray | None, np.ndarray] | None:
    """The face's backward map at the photo's size: photo -> crop, canvas warp, crop -> photo.

    ``matrix``: photo -> crop ``(2, 3)``; ``source``/``target``: crop landmarks ``(K, 2)``;
    ``shape``: the photo's ``(H, W)``; ``also``: ``(S, S) bool`` canvas pixels to include even
    if they do not move (where the texture changes); ``extra``: an ``(S, S) float32`` canvas
    layer brought to the photo box along (linear, 0 outside the canvas); ``raster``: the
    canvas raster of ``target`` when the caller has it (``triangulation.raster(target)``,
    else made here). Returns the photo
    box ``(x0, y0, x1, y1)``, the map ``(y1 - y0, x1 - x0, 2) float32`` (source x, y in photo
    pixels, as ``cv2.remap`` takes it), the extra layer (or ``None``) and ``still``
    ``(y1 - y0, x1 - x0) bool`` (moves at most ``STILL_PX`` and, with ``extra``, the layer
    is within 1e-3 of 0 there: it keeps its bytes), or ``None`` when nothing moves. Over the lips the map is exact per photo
    pixel; elsewhere the canvas displacement interpolated linearly (it is continuous and
    piecewise linear: the difference is a fraction of a pixel, only where triangles bend).
    Motion fades out just beyond the face and the landmarks before and after the motion
    (:func:`face_motion_weight`), over the lips too. The engines do not hold this whole
    map: :func:`resample_photo_map` makes it band by band (:class:`PhotoMap`), the same values.
    """
    pm = plan_photo_map(matrix, triangulation, source, target, alignment, shape, also, extra, raster)
    if pm is None:
        return None
    mx, my, layer, still = pm.rows(0, pm.shape[0])
    return pm.box, np.asarray(cv2.merge([mx, my]), dtype=np.float32), layer, still


_QUIET = np.float32(1e-3)
#: the bytes of ``K`` booleans all True read as one unsigned integer, by ``K``
_ALL_TRUE = {1: (np.uint8, 0x01), 2: (np.uint16, 0x0101), 4: (np.uint32, 0x01010101),
             8: (np.uint64, 0x0101010101010101)}


def _nonzero_pixels(layer: np.ndarray) -> np.ndarray:
    """``(h, w) bool``: where any channel of ``layer`` ``(h, w, K)`` is not 0 (``np.any(layer !=
    0, axis=2)``, the booleans of a pixel read as one integer)."""
    k = layer.shape[2]
    if k not in _ALL_TRUE:
        return np.asarray(np.any(layer != 0, axis=2))
    return np.ascontiguousarray(layer != 0).view(_ALL_TRUE[k][0]).reshape(layer.shape[:2]) != 0


def _quiet(layer: np.ndarray) -> np.ndarray:
    """``(h, w) bool``: where a canvas layer ``(h, w)`` or ``(h, w, K)`` is within 1e-3 of 0
    (in every channel): its pixel keeps its bytes."""
    if layer.ndim == 2:
        return np.abs(layer) <= _QUIET
    near = np.abs(np.ascontiguousarray(layer, dtype=np.float32)) <= _QUIET
    k = layer.shape[2]
    if k not in _ALL_TRUE:
        return np.asarray(near.all(axis=2))
    # every channel: the K booleans of a pixel as one integer (a NumPy reduction over a last
    # axis of 4 took 14 ms a face, OpenCV's 4-channel inRange 3x this)
    kind, ones = _ALL_TRUE[k]
    return near.view(kind).reshape(layer.shape[:2]) == ones


def _band_any(move: np.ndarray) -> np.ndarray:
    """``(ceil(n / _BAND), w) bool``: whether any row of each ``_BAND``-row band of ``move`` ``(n, w)
    bool`` holds a pixel per column (``np.logical_or.reduceat`` at the band starts, the same
    booleans: whole bands reduced as one reshaped array, ~10x cheaper than ``reduceat``)."""
    n, w = move.shape
    full = n // _BAND
    bands = np.empty(((n + _BAND - 1) // _BAND, w), bool)
    if full:
        np.any(move[:full * _BAND].reshape(full, _BAND, w), axis=1, out=bands[:full])
    if full * _BAND < n:
        np.any(move[full * _BAND:], axis=0, out=bands[full])
    return bands


def _resample_rows(photo: np.ndarray, buf: np.ndarray, whole: np.ndarray, frac: np.ndarray,
                   move: np.ndarray, gain: np.ndarray | None,
                   shade: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
                   flag: int = cv2.INTER_CUBIC, quiet: np.ndarray | None = None) -> None:
    """Rows of :func:`resample_moving`: remap (``flag``, cubic by default) of ``photo`` into ``buf``
    ``(n, w, C)`` through the fixed-point map ``(whole, frac)``, ``_BAND`` rows at a time between
    each band's first and last pixel of ``move`` ``(n, w) bool``, then the gain (``None``: none)
    or ``shade``; ``quiet``: ``_quiet(gain)`` when the caller has it (else found here). ``shade``
    :func:`apply_gain` itself (closing a smile) is done in ``buf``: the channel scale over the
    shaded columns, as without a shade, and only the lightened pixels gathered for CIELAB (the
    same bytes as gathering every shaded pixel: 4 % of the happy -> neutral step)."""
    n, w = move.shape
    chans = buf.shape[2]
    # every band's first and last moving column at once (one reduction, not one per band)
    starts = np.arange(0, n, _BAND)
    bands = _band_any(move)  # (bands, w)
    first = bands.argmax(axis=1).tolist()
    last = (w - bands[:, ::-1].argmax(axis=1)).tolist()
    for b, r0 in enumerate(starts.tolist()):
        if not bands[b, first[b]]:
            continue
        r1 = min(n, r0 + _BAND)
        x0, x1 = first[b], last[b]
        cv2.remap(photo, whole[r0:r1, x0:x1], frac[r0:r1, x0:x1], flag,
                  dst=buf[r0:r1, x0:x1], borderMode=cv2.BORDER_REPLICATE)
    if gain is None:
        return
    shaded = ~(_quiet(gain) if quiet is None else quiet)
    if shade is None or (shade is apply_gain and gain.ndim == 2 and chans == 3):
        # OpenCV multiplies, rounds and saturates at once; apply_gain (the default: darkening by
        # channels) is that too, but for the lightened pixels
        if gain.ndim != 2:
            raise ValueError("a layer of several channels needs a shade function")
        cols = np.flatnonzero(shaded.any(axis=0))
        if not len(cols):
            return
        lit = None
        if shade is not None:  # the lightened pixels' CIELAB pass, read before the scale
            up = np.flatnonzero(shaded & (gain > 0))  # (1 + gain > 1 where shaded)
            if len(up):
                lit = _scale_l_star(_gather(buf, up), gain.reshape(-1).take(up) + np.float32(1.0))
        # only the columns that hold a shaded pixel: a gain within 1e-3 of 0 changes no byte
        x0, x1 = int(cols[0]), int(cols[-1]) + 1
        ratio = gain[:, x0:x1] + np.float32(1.0)
        sub = buf[:, x0:x1]
        sub[...] = (cv2.multiply(sub, cv2.merge([ratio] * chans), dtype=cv2.CV_8U)
                    if chans > 1 else cv2.multiply(sub[..., 0], ratio, dtype=cv2.CV_8U)[..., None])
        if lit is not None:
            _scatter(buf, up, lit)
    else:
        idx = np.flatnonzero(shaded)
        if len(idx):
            if gain.ndim == 2:
                ratio = gain.reshape(-1).take(idx)[None] + np.float32(1.0)
            else:  # channel 0 the gain minus 1, the others as they are (e.g. apply_gain's tint)
                ratio = gain.reshape(-1, gain.shape[2]).take(idx, axis=0)[None]
                ratio[..., 0] += np.float32(1.0)
            _scatter(buf, idx, shade(_gather(buf, idx), ratio))


def resample_moving(photo: np.ndarray, region: np.ndarray, maps: np.ndarray, still: np.ndarray,
                    gain: np.ndarray | None = None,
                    shade: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
    """Resample ``photo`` ``(H, W, C) uint8`` through ``maps`` into ``region`` (in place) where
    ``~still``, times ``1 + gain``.

    ``region``: the ``(h, w, C)`` view of the output over the map's box; ``maps``: ``(h, w, 2)
    float32`` source (x, y) per pixel (:func:`photo_map`); ``still``: ``(h, w) bool`` pixels
    that keep their bytes; ``gain``: ``(h, w) float32`` luminance ratio minus 1 (``None``:
    none): the channels times ``1 + gain`` (rounded, saturated; a gain within 1e-3 of 0
    changes no byte), or ``shade(pixels, ratio)`` applied to the pixels where ``|gain| >
    1e-3``, gathered into one ``(1, N, C)`` row; those pixels must not be ``still``.
    ``region`` may be a view of ``photo`` (written once, after every read). Cubic
    interpolation, once per pixel, over ``_BAND`` rows at a time and only between the first
    and the last pixel that moves in them (a band of a face is one span: 20 % fewer pixels
    than 96 px tiles); shaded ``_CHUNK_BANDS`` bands at a time, so temporaries stay small.
    :func:`resample_photo_map` does the same from a :class:`PhotoMap` without its whole map.
    """
    h, w = still.shape
    move = np.ascontiguousarray(~still)
    # the fixed-point form cv2.remap turns float maps into anyway (1/32 px), made once
    whole, frac = cv2.convertMaps(maps, None, cv2.CV_16SC2)  # type: ignore[call-overload]
    out = region.reshape(h, w, photo.shape[2])
    # written back once at the end: ``region`` may be a view of ``photo`` itself (in place);
    # every pixel that moves is written by its band's remap, the others are not copied back
    warped = np.empty_like(out)
    step = _BAND * _CHUNK_BANDS
    for c0 in range(0, h, step):  # chunk by chunk: the temporaries stay small (in cache)
        c1 = min(h, c0 + step)
        _resample_rows(photo, warped[c0:c1], whole[c0:c1], frac[c0:c1], move[c0:c1],
                       None if gain is None else gain[c0:c1], shade)
    cv2.copyTo(warped, move.view(np.uint8), out)


#: the "cubic2x" kernel's pre-sharpening: ``[-a, 1 + 2a, -a]`` along x and y before the 2x
#: cubic upsample (linear interpolation between its samples, half a pixel apart, softens by
#: about 7 % of the face's mean |Laplacian|; 0.04 brings it back to the cubic's, 0.99-1.00)
CUBIC2X_SHARPEN = 0.04
#: source pixels around what a chunk's map reads, for the "cubic2x" kernel: the linear
#: remap's 2x neighbours (1), the cubic upsample's (2), the sharpening's (1), a margin
_CUBIC2X_PAD = 6
INTERPOLATIONS = ("cubic", "linear", "cubic2x")


def upsample_cubic2x(src: np.ndarray, sharpen: float = CUBIC2X_SHARPEN) -> np.ndarray:
    """``src`` ``(h, w, C) uint8`` sharpened by ``[-a, 1 + 2a, -a]`` along x and y (``a`` =
    ``sharpen``, edges replicated, rounded to bytes) and upsampled 2x with OpenCV's cubic
    (vectorised, unlike its cubic remap): sample ``k`` of the result lies at source ``k / 2
    - 1/4`` (so source ``u`` is sample ``2u + 1/2``)."""
    if sharpen:
        k = np.array([-sharpen, 1.0 + 2.0 * sharpen, -sharpen], np.float32)
        src = cv2.sepFilter2D(src, cv2.CV_8U, k, k, borderType=cv2.BORDER_REPLICATE)
    h, w = src.shape[:2]
    up = cv2.resize(src, (2 * w, 2 * h), interpolation=cv2.INTER_CUBIC)
    return np.asarray(up).reshape(2 * h, 2 * w, *src.shape[2:])


class _Cubic2xSource:
    """The "cubic2x" kernel's source: :func:`upsample_cubic2x` of the photo's window that a
    :class:`PhotoMap` may read (its box grown by the map's largest motion and
    ``_CUBIC2X_PAD``), made once before anything is written (so in place needs no lag).
    Filling it strip by strip as the chunks need it, each strip with its context rows, gave
    the same bytes but cost 1.00-1.12 of the cubic against this 0.86-0.95 (the strips' copies)."""

    def __init__(self, photo: np.ndarray, pmap: PhotoMap) -> None:
        hgt, wid = photo.shape[:2]
        x0, y0, x1, y1 = pmap.box
        rx = float(np.abs(pmap.dx).max(initial=0.0))
        ry = float(np.abs(pmap.dy).max(initial=0.0))
        if pmap.exact is not None:  # the exact map over the lips: its own motion
            (lx0, ly0, lx1, ly1), ex, ey, _ = pmap.exact
            rx = max(rx, float(np.abs(ex - np.arange(x0 + lx0, x0 + lx1, dtype=np.float32)[None, :]).max(initial=0.0)))
            ry = max(ry, float(np.abs(ey - np.arange(y0 + ly0, y0 + ly1, dtype=np.float32)[:, None]).max(initial=0.0)))
        gx, gy = int(np.ceil(rx)) + _CUBIC2X_PAD, int(np.ceil(ry)) + _CUBIC2X_PAD
        self.x0, self.y0 = max(0, x0 - gx), max(0, y0 - gy)
        x1, y1 = min(wid, x1 + gx), min(hgt, y1 + gy)
        self.up = upsample_cubic2x(np.ascontiguousarray(photo[self.y0:y1, self.x0:x1]))

    def maps(self, mx: np.ndarray, my: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fixed-point map (``cv2.convertMaps``' ``CV_16SC2`` pair) into :attr:`up` from
        the map ``mx``, ``my`` (photo pixels; overwritten): source ``u`` is sample ``2 (u -
        origin) + 1/2``."""
        mx -= np.float32(self.x0)
        mx *= np.float32(2.0)
        mx += np.float32(0.5)
        my -= np.float32(self.y0)
        my *= np.float32(2.0)
        my += np.float32(0.5)
        whole, frac = cv2.convertMaps(mx, my, cv2.CV_16SC2)
        return whole, frac


def resample_photo_map(photo: np.ndarray, region: np.ndarray, pmap: PhotoMap,
                       shade: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                       gain: bool = True, interpolation: str = "cubic") -> None:
    """:func:`resample_moving` through :func:`photo_map`'s map, made ``_CHUNK_BANDS`` bands at a
    time (:meth:`PhotoMap.rows`) so every temporary stays in cache and nothing box-sized is
    allocated (fresh pages of the ~16 MB a 450 px face's maps took cost more than the maps).

    ``region``: the ``(h, w, C)`` view of the output over ``pmap.box`` (may be a view of
    ``photo``); ``gain``: whether the map's layer is the gain (``1 + layer`` times the
    channels, or ``shade``). The same bytes as ``resample_moving(photo, region,
    *photo_map(...)[1:], shade)``. In place, a chunk is written back once no later chunk
    reads its rows (``pmap.lag`` rows behind), so only a few chunks are held at a time.
    ``interpolation``: "cubic" (default), "linear" (7x cheaper: OpenCV's 8-bit cubic remap
    is scalar code, its linear one vectorised; softer where the map lands between pixels) or
    "cubic2x" (each chunk's source window sharpened a little and upsampled 2x with the
    vectorised cubic resize, :func:`upsample_cubic2x`, then one linear remap of it: within
    a level of the cubic on almost every pixel, as sharp; the window the map reads is
    upsampled once, before anything is written: :class:`_Cubic2xSource`).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be 'cubic', 'linear' or 'cubic2x'; got {interpolation!r}")
    flag = cv2.INTER_CUBIC if interpolation == "cubic" else cv2.INTER_LINEAR
    h, w = pmap.shape
    chans = photo.shape[2]
    out = region.reshape(h, w, chans)
    # "cubic2x" reads its own upsampled copy of the window, made before anything is written
    up = _Cubic2xSource(photo, pmap) if interpolation == "cubic2x" else None
    # rows of ``out`` that later chunks may still read from ``photo`` must wait
    lag = pmap.lag if up is None and np.may_share_memory(out, photo) else 0
    step = _BAND * _CHUNK_BANDS
    pending: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    spare: list[tuple[np.ndarray, np.ndarray]] = []  # chunk buffers to reuse (no fresh pages)

    def flush(upto: int) -> None:
        while pending and pending[0][1] <= upto:
            a, b, buf, mv = pending.pop(0)
            cv2.copyTo(buf[:b - a], mv[:b - a], out[a:b])
            spare.append((buf, mv))

    for c0 in range(0, h, step):
        c1 = min(h, c0 + step)
        mx, my, layer, still, quiet = pmap._rows(c0, c1)
        rows_move = ~still
        if rows_move.any():
            buf, mv = spare.pop() if spare else (np.empty((step, w, chans), np.uint8),
                                                  np.empty((step, w), np.uint8))
            mv[:c1 - c0] = rows_move
            if up is not None:
                whole, frac = up.maps(mx, my)
            else:
                whole, frac = cv2.convertMaps(mx, my, cv2.CV_16SC2)
            _resample_rows(photo if up is None else up.up, buf[:c1 - c0], whole, frac, rows_move, layer if gain else None, shade,
                           flag, quiet=quiet)
            pending.append((c0, c1, buf, mv))
        # a later chunk (rows >= c1) reads photo rows >= c1 - lag only
        flush(c1 - lag)
    flush(h)


def painted_look(photo: np.ndarray, landmarks: np.ndarray, lips: np.ndarray, colours: PersonColours,
                 bank: MouthBank, index: int, cheek_l: float) -> np.ndarray | None:
    """``(3,)`` the look (:func:`pixelfes.mouth_regions.mouth_look`: interior minus cheek L*,
    interior a*, b*) of teeth patch ``index`` painted into this face's new lips, or ``None``.

    ``photo``: the input ``(H, W, 3) uint8`` (read only), ``landmarks`` its ``(68, 2)``,
    ``lips``: the new lips ``(20, 2)`` (48-67) in photo pixels, ``cheek_l``: the cheeks'
    median L* (:func:`cheek_lightness`: the input's; the smile's texture changes them by a few
    per cent). The patch is painted as :func:`pixelfes.mouth.fill_mouth` paints it into the
    whole photo (:func:`pixelfes.mouth.fill.interior_paint`, in the photo's frame: the same bytes),
    blended into a copy of the interior's box only, and the interior measured as the judge
    measures an output, on the landmarks with those lips (a barely open polygon is scored as
    its lip line).
    """
    return _painted(photo, landmarks, lips, colours, bank, index, cheek_l)[0]


def _painted(photo: np.ndarray, landmarks: np.ndarray, lips: np.ndarray, colours: PersonColours,
             bank: MouthBank, index: int, cheek_l: float) -> tuple[np.ndarray | None, MouthPaint | None]:
    """:func:`painted_look` and the paint it measured (``None``: nothing painted), which
    :func:`synthesize_face` blends into its output when these lips and teeth are chosen."""
    from .mouth_regions import interior_look, interior_region, masked_pixels, srgb_to_lab

    lm = np.array(landmarks, dtype=np.float64, copy=True)
    lm[48:68] = lips
    try:
        (wx, wy, wx1, wy1), interior = interior_region(lm, photo.shape)
    except ValueError:
        return None, None
    paint = interior_paint(photo.shape, lm[48:68], colours, bank, index=index)
    if not isinstance(paint, MouthPaint):  # nothing painted: the input's own interior
        sub = photo[wy:wy1, wx:wx1]
        return interior_look(srgb_to_lab(masked_pixels(sub, interior)), cheek_l), None
    # the interior's box and the paint's box together
    px0, py0, px1, py1 = paint.box
    x0, y0, x1, y1 = min(wx, px0), min(wy, py0), max(wx1, px1), max(wy1, py1)
    sub = np.array(photo[y0:y1, x0:x1], copy=True)
    blend_paint(sub, paint, offset=(x0, y0))
    inside = np.zeros(sub.shape[:2], bool)
    inside[wy - y0:wy1 - y0, wx - x0:wx1 - x0] = interior
    return interior_look(srgb_to_lab(masked_pixels(sub, inside)), cheek_l), paint


def cheek_lightness(photo: np.ndarray, landmarks: np.ndarray) -> float | None:
    """The cheeks' median L* as :mod:`pixelfes.mouth_regions` measures them, ``None`` if off the photo."""
    got = _own_look(photo, landmarks)
    return None if got is None else got[1]


def _own_look(photo: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The face's own mouth look (:func:`pixelfes.mouth_regions.mouth_look`) and its cheeks'
    median L*, ``None`` if off the photo."""
    from .mouth_regions import mouth_look_and_cheeks

    try:
        return mouth_look_and_cheeks(photo, np.asarray(landmarks, dtype=np.float64))
    except ValueError:
        return None


def _check_calm(calm: str) -> None:
    """A clear error for a ``calm`` that is not one of :data:`CALM_LINES`."""
    if calm not in CALM_LINES:
        raise ValueError(f"calm must be one of {CALM_LINES}; got {calm!r}")


def close_on_crease(image: np.ndarray, lips: np.ndarray, colours: PersonColours,
                    bank: MouthBank | None = None, relief: np.ndarray | None = None,
                    tint: np.ndarray | None = None, calm: str = "off") -> tuple[int, int, int, int] | None:
    """:func:`pixelfes.mouth.close_mouth` with the lips meeting on the crease of real closed
    mouths of people like this one (``bank``'s :meth:`~pixelfes.mouth.MouthBank.crease_goal`,
    default the bundled bank; a bank without crease profiles: a faint seam). Every engine that
    closes a mouth (native, action units) closes it so; docs/mouth.md, "The crease where
    closed lips meet". ``relief``: a closed-lip relief the lips are given first
    (:meth:`~pixelfes.mouth.MouthBank.relief_goal`; docs/mouth.md, "The closed lips' relief"), and
    ``tint`` its a*, b* (:meth:`~pixelfes.mouth.MouthBank.tint_goal`); ``calm`` (one of
    :data:`CALM_LINES`, with ``tint``): the closed lips' a* above ``tint`` (``"level"``: and above the
    line's own level) near the meeting line taken out afterwards
    (:func:`pixelfes.mouth.wedge.calm_line`; docs/mouth.md, "The closed lips' red wedge"). In
    place; returns the changed box or ``None``."""
    _check_calm(calm)
    goal = (load_bank() if bank is None else bank).crease_goal(colours)
    box = close_mouth(image, lips, colours, crease=goal, relief=relief, tint=tint)
    if calm != "off" and tint is not None and box is not None:
        from .mouth.wedge import calm_line

        x0, y0, x1, y1 = box
        calm_line(image[y0:y1, x0:x1], np.asarray(lips, dtype=np.float64) - (x0, y0), tint)
    return box


def synthesize_face(photo: np.ndarray, out: np.ndarray, landmarks: np.ndarray, model: Any,
                    strength: float, *, mouth: str = "auto", bank: MouthBank | None = None,
                    exclude: str | None = None, relief: bool | None = None,
                    specks: bool | None = None, calm: str | None = None,
                    crisp: bool | None = None, ends: bool | None = None,
                    eyes: LidGoal | bool | None = None, smile_lip: bool | None = None) -> NativeResult:
    """Change one face of ``photo`` (``(H, W, 3) uint8``, read only) into ``out`` (same shape, written).

    ``landmarks``: the face's ``(68, 2)`` photo landmarks; ``model`` a fitted
    shape + texture model; ``exclude``: a mouth-bank id never used (testing on bank people);
    ``relief``: whether the lips of a smile being closed get real closed lips' relief (default
    ``_LIP_RELIEF``; never a smile's own closed mouth); ``specks``: whether a smile's new mouth
    corners get their carried-over bright specks toned down (default ``_CORNER_SPECKS``); ``calm``:
    whether the lips of a smile being closed lose their redness above real closed lips' near the
    meeting line (one of :data:`CALM_LINES`, default ``_CALM_LINE``; with the relief only);
    ``crisp``: lent teeth laid with their patch's finest detail restored after the warp (default
    ``_CRISP_TEETH`` on a smile, off otherwise; :func:`pixelfes.mouth.fill.restore_detail`; the
    teeth are chosen as without it); ``ends``: whether a smile opened over lent teeth gets the dark
    ends of a real opening (default ``_OPENING_ENDS``; :func:`pixelfes.mouth.ends.shade_opening_ends`);
    ``eyes``: a smile's eye part at the data's level (default ``_SMILE_LIDS``; ``True``: the bundled
    :func:`pixelfes.lids.bundled_goal`, or a :class:`pixelfes.lids.LidGoal`; :func:`lid_target`,
    :func:`pixelfes.lids.lid_shading`);
    ``smile_lip``: whether a smile opened over lent teeth gets the lent smile's own lower lip's
    fine relief in place of its stretched one (default ``_SMILE_LIP``;
    :func:`pixelfes.mouth.smilelip.lend_lower_lip`, before the opening's ends; not adopted:
    docs/mouth.md, "A smile's lower lip from the lender's").

    The candidates that were measured here and not adopted (``reshape``, ``outline``, ``rim``,
    ``junction``, ``crisp="luma"``, ``ends="inside"``, ``calm="goal"``) were removed from main after
    152500d (docs/mouth.md records each; ``git checkout 152500d`` reproduces them).
    """
    from .face.align import align_face, crop_matrix

    check_mouth(mouth)
    if crisp is not None and not isinstance(crisp, bool):
        raise TypeError(f"crisp must be a bool or None; got {type(crisp).__name__}")
    if ends is not None and not isinstance(ends, bool):
        raise TypeError(f"ends must be a bool or None; got {type(ends).__name__}")
    if calm is not None:
        _check_calm(calm)
    alignment = model.alignment_
    smile = getattr(model, "info", {}).get("target") == "happy"
    crop: np.ndarray | None = None
    if smile and not _SMILE_OWN and isinstance(photo, np.ndarray) and photo.dtype == np.uint8 \
            and photo.ndim == 3:
        # the crop is read only to tell a gray photo (_gray_face): made when the photo cannot
        # tell it (align_face's matrix and landmarks, the same values)
        mat = crop_matrix(landmarks, alignment)
        lm = transform_points(mat, np.asarray(landmarks, dtype=np.float64))
    else:
        aligned = align_face(photo, landmarks, alignment)
        crop, lm, mat = aligned.crop, aligned.landmarks, aligned.matrix
    colours = person_colours(photo, np.asarray(landmarks, dtype=np.float64))
    looked = _own_look(photo, landmarks) if smile and mouth == "auto" else None
    own, cheek_l = (None, None) if looked is None else looked
    painted = None
    paints: dict[int, tuple[np.ndarray, MouthPaint]] = {}  # teeth patch -> (lips, its paint)
    if cheek_l is not None and _PAINTED_TEETH:
        lent_bank, back, skin_l = load_bank() if bank is None else bank, invert_affine(mat), cheek_l

        def painted(goal: np.ndarray, index: int) -> np.ndarray | None:
            lips = transform_points(back, goal[48:68])
            look, paint = _painted(photo, landmarks, lips, colours, lent_bank, index, skin_l)
            if paint is not None:
                paints[index] = (lips, paint)
            return look
    # a mouth closes over teeth only if it shows some: dlib spreads the inner points of some full,
    # closed lips apart, and pressing those together drew skin-coloured wedges over the lower lip
    # (043 at 1:1); the smile's input (a neutral face) is left to the gap alone (_TEETH_SEEN)
    teeth = smile or not _TEETH_SEEN or inner_gap(lm) <= _teeth_gap(smile) \
        or shows_opening(photo, landmarks, colours)
    target, mode, index = target_shape(model, lm, strength, mouth, bank, colours, exclude, own,
                                       painted, teeth)
    tri = model.warp_.triangulation
    lid_goal = _lid_goal(eyes) if smile else None
    if lid_goal is not None:
        target = lid_target(tri, lm, target, lid_goal, mode == "open", strength, alignment)
    au6 = smile_eyes(alignment, tri, lm, target, strength) if smile else None
    folds: dict[str, float] = {}
    if au6 is not None:
        target, folds = au6
    raster = tri.raster(target)
    tinted = False  # (a gray photo stays gray)
    if smile and _SMILE_TINT:
        if crop is None and not _surely_colour(photo, mat, lm, alignment.size):
            crop = align_face(photo, landmarks, alignment).crop
        tinted = crop is None or not _gray_face(crop, lm)
    got = _texture_ratio(model, crop, lm, raster, strength,
                         _SMILE_RATIO_GAIN if smile else _RATIO_GAIN,
                         _SMILE_EYE_GAIN if smile else None, own=_SMILE_OWN if smile else _OWN_TEXTURE,
                         colour=tinted)
    gain, tint = got if tinted else (got, None)
    if folds:
        factor = _smile_actions(alignment).folds_.factor(raster, folds, target, triangulation=tri)
        if factor is not None:
            gain = np.clip(gain * factor, *_GAIN_LIMITS).astype(np.float32)
    if lid_goal is not None:
        gain = np.clip(lid_shading(gain, target, lid_goal.profile, strength), *_GAIN_LIMITS).astype(np.float32)
    layer = gain - 1.0 if tint is None else np.dstack([gain - 1.0, tint]).astype(np.float32, copy=False)
    textured = ~_quiet(layer)
    was_open = mode == "closed" and teeth and inner_gap(lm) > _teeth_gap(smile)
    # a mouth that is opened over lent teeth reads its lips from inside them too: dlib's inner
    # points of a closed mouth sit a pixel or two below the lip line, so the upper lip's
    # triangles carried the dark line and the lower lip's pink top up into the opened upper
    # lip, a light box between 61 and 63 above the teeth (062, 099 at 1:1); read so, the
    # lip line goes to the interior, which the teeth cover
    filled = mode == "open" and index is not None and _OPEN_LIP_ONLY
    source = lip_only_source(lm) if was_open or filled else lm
    pmap = plan_photo_map(mat, tri, source, target, alignment, photo.shape[:2], also=textured,
                          extra=layer, raster=raster)
    if pmap is None:
        return NativeResult(mode, None, None)
    x0, y0, x1, y1 = pmap.box
    resample_photo_map(photo, out[y0:y1, x0:x1], pmap,
                       _shade_tinted if tint is not None else
                       functools.partial(apply_gain, dark_in_lab=True) if smile else apply_gain)
    exemplar = None
    in_photo = transform_points(invert_affine(mat), target)  # the target points on the photo
    if was_open:  # a closed input mouth has no teeth to paint over
        # (a smile's closed mouth keeps its own lips: neutral -> happy stays as it was)
        lit = not smile and (_LIP_RELIEF if relief is None else relief)
        held = load_bank() if bank is None else bank
        shape = held.relief_goal(colours, exclude=exclude) if lit else None
        hue = held.tint_goal(colours, exclude=exclude) if lit else None
        close_on_crease(out, in_photo[48:68], colours, bank, relief=shape,
                        tint=hue, calm=_CALM_LINE if calm is None else calm)
    if mode == "open" and index is not None:
        bank = load_bank() if bank is None else bank
        lips = in_photo[48:68]
        done = paints.get(index)
        sharp = (_CRISP_TEETH and smile) if crisp is None else crisp
        if done is not None and not sharp and np.array_equal(done[0], lips) \
                and done[1].exemplar_id == bank.ids[index]:
            blend_paint(out, done[1])  # measured on these very lips: the same paint
        else:
            fill_mouth(out, lips, colours, bank, index=index, crisp=sharp)
        exemplar = bank.ids[index]
        if smile and (_SMILE_LIP if smile_lip is None else smile_lip):
            from .mouth.smilelip import lend_lower_lip

            lend_lower_lip(out, lips, bank.patches[index], bank.points[index])
        if smile and (_OPENING_ENDS if ends is None else ends):
            from .mouth.ends import shade_opening_ends

            shade_opening_ends(out, lips)
    if smile and (_CORNER_SPECKS if specks is None else specks):
        from .mouth.specks import clear_corner_specks

        clear_corner_specks(out, in_photo[48:68])
    return NativeResult(mode, exemplar, (x0, y0, x1, y1), in_photo)


def _lid_goal(eyes: LidGoal | bool | None) -> LidGoal | None:
    """The :class:`~pixelfes.lids.LidGoal` ``synthesize_face(eyes=...)`` asks for (``None``: off)."""
    if eyes is None:
        eyes = _SMILE_LIDS
    if isinstance(eyes, LidGoal):
        return eyes
    if not isinstance(eyes, bool):
        raise TypeError(f"eyes must be a bool, None or a pixelfes.lids.LidGoal; got {type(eyes).__name__}")
    return bundled_goal() if eyes else None


def lid_target(triangulation: Triangulation, lm: np.ndarray, target: np.ndarray, goal: LidGoal,
               open_smile: bool, strength: float, alignment: Alignment) -> np.ndarray:
    """``target`` ``(68, 2)`` (crop frame) with the eye points 36-47 moved as ``goal.move`` says:
    ``"kind"`` from ``lm`` by ``strength`` x the goal's mean motion of an open (``open_smile``) or
    closed smile instead of the shape model's, ``"shift"`` the shape model's plus ``strength`` x
    (that kind's mean minus both kinds'), ``"model"`` as they are; shortened (as
    :func:`smile_eyes`) if it would fold ``triangulation``."""
    if goal.move == "model":
        return target
    goal_pts = np.array(target, dtype=np.float64, copy=True)
    idx = list(EYE_POINTS)
    scale = strength * (alignment.size / alignment.margin)
    if goal.move == "kind":
        goal_pts[idx] = lm[idx] + scale * goal.motion(open_smile)
    else:
        goal_pts[idx] += scale * (goal.motion(open_smile) - goal.motion_all())
    a = limit_motion(triangulation, target, goal_pts, ignore=_mouth_triangles(triangulation.simplices))
    if a < 1.0:
        goal_pts = target + 0.95 * a * (goal_pts - target)
    return goal_pts


@functools.lru_cache(maxsize=8)
def _smile_actions(alignment: Alignment, au6: float | None = None) -> Any:
    """The action-unit engine's model of a smile's eye part: AU6 at ``au6`` (default ``_SMILE_AU6``)."""
    from .actions import ActionUnitModel

    return ActionUnitModel(au={"AU6": _SMILE_AU6 if au6 is None else au6}).fit(alignment=alignment)


def smile_eyes(alignment: Alignment, triangulation: Triangulation, lm: np.ndarray,
               target: np.ndarray, strength: float, au6: float | None = None,
               au12_fold: float | None = None) -> tuple[np.ndarray, dict[str, float]] | None:
    """``target`` with a smile's eye part added, and the fold weights to shade; ``None`` if off.

    AU6 (cheek raiser) of the action-unit engine at ``au6`` x ``strength`` (default
    ``_SMILE_AU6``): its fold-limited motion (:meth:`ActionUnitModel.plan_motion` on the input
    landmarks ``lm``, crop frame) is added to every point but the lips (they follow a real
    smile, which holds its own AU6), shortened again if it would fold ``triangulation``; the
    fold weights are AU6's (scaled by what was applied) plus AU12's crease at ``au12_fold``
    (default ``_SMILE_FOLD_AU12``), for :meth:`FoldShading.factor` on the new target.
    """
    a6 = _SMILE_AU6 if au6 is None else float(au6)
    a12 = _SMILE_FOLD_AU12 if au12_fold is None else float(au12_fold)
    if a6 <= 0.0 and a12 <= 0.0:
        return None
    if a6 <= 0.0:  # the crease alone: no motion (the same as planning AU6 at 0, without the plan)
        return target, {"AU12": strength * a12}
    acts = _smile_actions(alignment, a6)
    moved, folds = acts.plan_motion(lm, strength)
    delta = (moved - lm) * _SMILE_AU6_MOTION
    if _SMILE_AU6_POINTS is not None:
        keep = np.zeros(len(delta), dtype=bool)
        keep[list(_SMILE_AU6_POINTS)] = True
        delta[~keep] = 0.0
    delta[48:68] = 0.0
    folds = {k: _SMILE_AU6_SHADING * v for k, v in folds.items()}
    goal = target + delta
    # (between the inner lips triangles may have collapsed already: lips that meet)
    a = limit_motion(triangulation, target, goal, ignore=_mouth_triangles(triangulation.simplices))
    if a < 1.0:
        delta *= 0.95 * a
        folds = {k: 0.95 * a * v for k, v in folds.items()}
        goal = target + delta
    folds = {k: v for k, v in folds.items() if v > 0.0}
    if a12 > 0.0:
        folds["AU12"] = folds.get("AU12", 0.0) + strength * a12
    return goal, folds
