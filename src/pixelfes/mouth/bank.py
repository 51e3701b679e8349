"""A small bank of real mouth interiors (London Face Set smiles, CC BY 4.0) and retrieval.

Each exemplar is one smiling photo's mouth, resampled into a *mouth frame* (outer mouth
corners 48 and 54 at ``(-0.5, 0)`` and ``(0.5, 0)``, ``PX`` pixels per mouth width), with
its 20 lip landmarks (48-67) in patch pixels and the person's cheek and lip colours. Only
open smiles (inner-lip gap above ``MIN_GAP`` of the mouth width) are kept. Retrieval is a
deterministic nearest neighbour on the outer-lip shape (the smile's curve) and skin colour.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._nomask import median
from .colour import PersonColours, lab, person_colours

__all__ = ["MouthBank", "load_bank", "logistic_fit", "BANK_PATH", "PX", "X_RANGE", "Y_RANGE", "MIN_GAP"]

BANK_PATH = Path(__file__).with_name("london-mouths.safetensors")
PX = 160  # patch pixels per mouth width
X_RANGE = (-0.6, 0.6)  # mouth-frame extent of a patch (mouth widths)
Y_RANGE = (-0.35, 0.4)
MIN_GAP = 0.08  # inner-lip gap / mouth width above which a smile counts as open
_FORMAT = 4
_META_KEY = "pixelfes_mouth_bank"
_SHAPE_SCALE = 0.06  # mouth widths: outer-lip shape difference worth one colour unit
_COLOUR_SCALE = 8.0  # L*a*b* units: typical skin colour difference that matters
#: Smiles whose teeth are not lent out (their motion still is), and why: looked at one by one.
UNSUITABLE_TEETH = {"103": "a discoloured front tooth reads as a defect on anyone else"}
_TYPICAL_WIDTHS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)  # weight widths typical_width chooses from
#: teeth offered by typical_smile: the nearest few open smiles. Any of the bank's teeth
#: (a medoid over all) lowered the expected error a little more but lent one mid-looking
#: smile (032, barely parted, lower teeth) to a fifth of the people: everyone the same mouth.
_TYPICAL_TEETH = 3
#: typical_smile may weigh lent teeth by the look fill_mouth gives them on this face
#: (rendered_looks) instead of their look on their own face. Off: the fifth pass's first
#: pre-set run of scripts/choose_smile.py --rule fifth (training folds only) chose the corners
#: and the eye gain without it; this candidate was added only after that run's held-out
#: figures had been seen, so it is not shipped (nested held out it also opened fewer mouths
#: than real smiles do and widened the group ratio: docs/mouth.md)
_RENDERED_TEETH = False
_NEUTRAL_SCALE = 0.04  # mouth widths: neutral-lip shape difference worth one colour unit
#: Smiles whose teeth still say what kind of mouth people like them smile with (typical_smile
#: weighs them), but are never painted on a smile: another smile's are (lendable). Why: looked
#: at one by one (blind raters named "a gap between the front teeth that looks invented" and
#: "the same few tooth patterns on different people"; 012's gaps went to 5 of 82 held-out
#: people). Dropping them from the bank instead changed which people get teeth at all (the
#: next-nearest teeth looked worse than closed lips on 117, 004, 020, 016): docs/mouth.md.
#: The action-unit mouths (retrieve) still take them: without 037 face-api read fear on 12
#: fewer of 82 fearful faces, and 132's teeth became the new hub (docs/mouth.md).
#: (103 predates this and lends no patch at all, as before.)
NOT_PAINTED = {
    "012": "a wide gap between the front teeth and beside them: the same invented gaps on every face",
    "025": "a gap between the front teeth (a diastema): an invented gap on anyone else",
    "037": "a stained lateral tooth with a dark gap beside it reads as a defect on anyone else",
}
#: L* (two _COLOUR_SCALEs): a smile's teeth are painted from people whose cheeks are within this
#: of the face's (the nearest in cheek L* when none are): real teeth are about as light on dark
#: as on light skin (London smiles: teeth L* rises 0.12 per L* of cheek), while the teeth gain
#: follows half the cheek ratio, so a dark-skinned person's teeth glowed on a light face (034
#: lent 025's: +27 L* over the cheeks against its own smile's +11) and a light-skinned person's
#: were dim on a dark one (025 lent 034's: +23 against +37).
_TEETH_SKIN = 16.0
#: the closed-lip crease goal is the median profile of this many bank people nearest the face in
#: the smile's lip L*: of 14 rules (cheek L* within 16, everyone, 5/10/20 nearest in cheek, lip,
#: both, cheek and lip-minus-cheek), the least leave-one-out error in the bank people's own crease
#: depth (82 London people: 3.54 L* against 3.88 for cheek L* within 16; scripts/crease_predictor.py)
_CREASE_NEAR = 20
#: the closed-lip relief's broad shading is the mean over this many bank people nearest in lip L*
#: (:meth:`MouthBank.relief_goal`, and its a*, b*: :meth:`MouthBank.tint_goal`); its creases come from
#: the nearest one alone
_RELIEF_NEAR = 10
#: the lips (0 upper, 1 lower) given the nearest person's vertical creases: the upper lip's read as
#: "a pale vertical stripe" to a blind rater and raised the held-out streak ratio (docs/mouth.md, "lipbank v2")
_CREASE_LIPS: tuple[int, ...] = ()
_RELIEF_SHAPE = (2, 12, 128)  # (relief.GRID's, per lip: kept here so the bank imports no relief at start)
_TINT_SHAPE = (2, 2, 12, 16)  # (relief.tint_map's: a*/b*, lip, relief.TINT_GRID)


def patch_size() -> tuple[int, int]:
    """(width, height) of a patch in pixels."""
    return (round((X_RANGE[1] - X_RANGE[0]) * PX), round((Y_RANGE[1] - Y_RANGE[0]) * PX))


def frame_to_patch() -> np.ndarray:
    """``(2, 3)`` affine from mouth-frame units to patch pixel coordinates."""
    return np.array([[PX, 0.0, -X_RANGE[0] * PX - 0.5], [0.0, PX, -Y_RANGE[0] * PX - 0.5]])


@dataclass(frozen=True, eq=False)
class MouthBank:
    """Exemplar mouths: ``patches`` ``(N, H, W, 3) uint8``, ``points`` ``(N, 20, 2) float32``
    (landmarks 48-67 in patch pixels), ``skin``/``lips`` ``(N, 3) uint8`` sRGB, ``ids``."""

    patches: np.ndarray
    points: np.ndarray
    skin: np.ndarray
    lips: np.ndarray
    ids: tuple[str, ...]
    # every smile of the build, open or closed: how its face moved from the person's neutral
    # photo (68 landmarks, unit face frame of the alignment template), that neutral photo's
    # lips in the mouth frame, its skin colour, and which patch holds its teeth (-1: none)
    motion: np.ndarray = field(default_factory=lambda: np.zeros((0, 68, 2), np.float32))
    neutral: np.ndarray = field(default_factory=lambda: np.zeros((0, 20, 2), np.float32))
    people_skin: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))
    people: tuple[str, ...] = ()
    patch_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # per smile: mouth interior (or closed lip line) minus cheek L* of the smile and of the
    # person's neutral photo (nan: not measured), and whether the smile shows its teeth by
    # the mouth measure's own rule (pixelfes.evaluate.mouth.OPEN_AREA)
    smile_contrast: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    neutral_contrast: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    smile_open: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # per smile: median a*, b* of the same regions (format 4; nan: not measured)
    smile_tint: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    neutral_tint: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    # per smile: the person's neutral lip line, :func:`pixelfes.mouth.crease.crease_profile` of
    # the neutral photo (nan: not measured; banks saved before it have none)
    neutral_crease: np.ndarray = field(default_factory=lambda: np.zeros((0, 13), np.float32))
    # per smile: the lip colour of the smile photo (sRGB, :func:`person_colours`), who the
    # crease goal comes from (:meth:`crease_goal`; banks saved before it have none)
    people_lips: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))
    # per smile: the person's neutral lips' relief, :func:`pixelfes.mouth.relief.relief_map` of the
    # neutral photo (float32 here, uint8 in the file: relief.pack; nan: not measured; banks saved
    # before it have none)
    neutral_relief: np.ndarray = field(default_factory=lambda: np.zeros((0,) + _RELIEF_SHAPE, np.float32))
    # per smile: the neutral lips' broad a*, b* relief, :func:`pixelfes.mouth.relief.tint_map` (uint8 in
    # the file: relief.pack_tint; nan: not measured; banks saved before it have none)
    neutral_lip_tint: np.ndarray = field(default_factory=lambda: np.zeros((0,) + _TINT_SHAPE, np.float32))

    def __len__(self) -> int:
        return len(self.patches)

    def retrieve_smile(self, neutral_lips: np.ndarray, colours: PersonColours, *,
                       open_only: bool = False, exclude: str | None = None,
                       closed_only: bool = False) -> int:
        """Index (into ``motion``) of the smile whose person's neutral lips ``(20, 2)`` (mouth
        frame) and skin are nearest; ``open_only``: only smiles with teeth that may be painted
        on this face (:meth:`lendable`, when any); ``closed_only``: only smiles without (when the bank knows, :attr:`smile_open`). Ties:
        lowest index."""
        if len(self.motion) == 0:
            raise ValueError("this mouth bank holds no smile motions; rebuild it with neutral photos")
        cost = self._smile_costs(neutral_lips, colours)
        if exclude is not None:
            cost = np.where(np.array(self.people) == exclude, np.inf, cost)
        if open_only:
            cost = np.where(self.patch_of >= 0, cost, np.inf)
            lends = self.lendable(colours, among=np.isfinite(cost))
            if lends.any():  # teeth that may be painted on this face
                cost = np.where(lends, cost, np.inf)
        if closed_only and len(self.smile_open) == len(cost) and (~self.smile_open).any():
            cost = np.where(self.smile_open, np.inf, cost)
        if not np.isfinite(cost).any():
            raise ValueError("no smile in the mouth bank fits (all excluded)")
        return int(np.argmin(cost))

    def lendable(self, colours: PersonColours, among: np.ndarray | None = None) -> np.ndarray:
        """``(len(motion),) bool``: the smiles (of ``among``, a bool mask, default all) whose
        teeth may be painted on a smile of these colours: with a teeth patch, not
        :data:`NOT_PAINTED` and of a person whose cheek L* is within ``_TEETH_SKIN`` of the
        face's (when none is, the nearest in cheek L*)."""
        ok = (self.patch_of >= 0) & np.array([p not in NOT_PAINTED for p in self.people], dtype=bool)
        if among is not None:
            ok = ok & np.asarray(among, dtype=bool)
        if not ok.any():
            return ok
        dl = np.where(ok, np.abs(lab(self.people_skin)[:, 0] - float(colours.skin_lab[0])), np.inf)
        return ok & (dl <= max(_TEETH_SKIN, float(dl.min())))

    def crease_goal(self, colours: PersonColours) -> np.ndarray | None:
        """``(13,)`` median neutral crease profile (:func:`pixelfes.mouth.crease.crease_profile`)
        of the ``_CREASE_NEAR`` bank people whose smile's lip L* is nearest this face's (ties:
        lowest index); ``None`` when the bank measured no profiles or lip colours."""
        n = len(self.people_skin)
        if len(self.neutral_crease) != n or len(self.people_lips) != n:
            return None
        ok = np.flatnonzero(np.isfinite(self.neutral_crease).all(axis=1))
        if ok.size == 0:
            return None
        dl = np.abs(lab(self.people_lips[ok])[:, 0] - float(colours.lips_lab[0]))
        near = ok[np.argsort(dl, kind="stable")[:_CREASE_NEAR]]
        return np.asarray(median(self.neutral_crease[near].astype(np.float64), axis=0))

    def relief_goal(self, colours: PersonColours, exclude: str | None = None) -> np.ndarray | None:
        """``(2, V, U)`` closed-lip relief (:func:`pixelfes.mouth.relief.relief_map`) for a face of
        these colours: the broad shading (:func:`pixelfes.mouth.relief.broad`) averaged over the
        ``_RELIEF_NEAR`` bank people nearest in the smile's lip L* (as :meth:`crease_goal`), plus, on the
        lips of ``_CREASE_LIPS`` (today none), the finer part (the vertical creases) of the single
        nearest one's own map: an average of many people's creases would blur them away. Ties:
        lowest index; ``exclude``: a person never used.
        ``None`` without relief maps."""
        from .relief import broad

        n = len(self.people_skin)
        if len(self.neutral_relief) != n or len(self.people_lips) != n or n == 0:
            return None
        cached = self.__dict__.get("_relief")
        if cached is None:  # (made once per bank: the maps, their broad parts, who is measured)
            maps = self.neutral_relief.astype(np.float64)
            measured = np.isfinite(maps).reshape(n, -1).mean(axis=1) > 0.9
            cached = (maps, broad(maps), measured, lab(self.people_lips)[:, 0].astype(np.float64))
            object.__setattr__(self, "_relief", cached)
        maps, soft, measured, lip_l = cached
        order = self._relief_order(colours, exclude, measured, lip_l)
        if order is None:
            return None
        fine = np.nan_to_num(maps[order[0]] - soft[order[0]], nan=0.0)
        keep = np.zeros((2, 1, 1))
        keep[list(_CREASE_LIPS)] = 1.0
        return np.asarray(soft[order[:_RELIEF_NEAR]].mean(axis=0) + keep * fine, dtype=np.float64)

    def _relief_order(self, colours: PersonColours, exclude: str | None, measured: np.ndarray,
                      lip_l: np.ndarray) -> np.ndarray | None:
        """Indices of the ``measured`` people but ``exclude``, nearest first in lip L* (ties: lowest index)."""
        ok = measured.copy()
        if exclude is not None and len(self.people) == len(ok):
            ok &= np.array(self.people) != exclude
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return None
        return idx[np.argsort(np.abs(lip_l[idx] - float(colours.lips_lab[0])), kind="stable")]

    def tint_goal(self, colours: PersonColours, exclude: str | None = None) -> np.ndarray | None:
        """``(2, 2, V, U)`` closed-lip a*, b* relief (:func:`pixelfes.mouth.relief.tint_map`) for a face of
        these colours: the mean over the ``_RELIEF_NEAR`` bank people nearest in the smile's lip L*
        (the same people as :meth:`relief_goal`'s broad shading). ``None`` without tint maps."""
        n = len(self.people_skin)
        if len(self.neutral_lip_tint) != n or len(self.people_lips) != n or n == 0:
            return None
        cached = self.__dict__.get("_tint")
        if cached is None:
            maps = self.neutral_lip_tint.astype(np.float64)
            measured = np.isfinite(maps).reshape(n, -1).mean(axis=1) > 0.9
            cached = (maps, measured, lab(self.people_lips)[:, 0].astype(np.float64))
            object.__setattr__(self, "_tint", cached)
        maps, measured, lip_l = cached
        order = self._relief_order(colours, exclude, measured, lip_l)
        if order is None:
            return None
        return np.asarray(np.nanmean(maps[order[:_RELIEF_NEAR]], axis=0), dtype=np.float64)

    def has_decision(self) -> bool:
        """Whether the bank can say how likely a smile is to show teeth (format 3 with neutral photos)."""
        return (len(self.smile_open) == len(self.motion) > 0 and len(set(self.smile_open.tolist())) == 2
                and bool(np.all(np.isfinite(self.smile_contrast)))
                and bool(np.all(np.isfinite(self.neutral_contrast))))

    def open_probability(self, neutral_lips: np.ndarray) -> float:
        """P(this person's smile shows teeth) from their neutral lips ``(20, 2)`` (mouth frame).

        Logistic in the square root of the neutral inner-lip gap (lips parted at rest),
        fitted on the bank's own people (:func:`logistic_fit`). Weak evidence (on London
        about 0.6 AUC): it moves the probability only for clearly parted or clearly shut lips.
        """
        from .fill import inner_gap

        w = self.__dict__.get("_logit")
        if w is None:
            x = np.sqrt([inner_gap(n) for n in self.neutral.astype(np.float64)])
            w = logistic_fit(x, self.smile_open.astype(np.float64))
            object.__setattr__(self, "_logit", w)
        z = w[0] + w[1] * np.sqrt(inner_gap(np.asarray(neutral_lips, dtype=np.float64)))
        return float(1.0 / (1.0 + np.exp(-z)))

    def open_threshold(self, colours: PersonColours | None = None) -> float:
        """The probability of an open smile above which showing teeth has the lower expected error.

        The expected mouth-contrast error (interior minus cheek L*, as measured against the
        person's real smile) of each choice, estimated on the bank's own people: teeth lent
        by another person cost ``|c_j - c_i|`` against smile ``i`` (mean over the bank's
        open smiles ``j != i``); a closed smile costs ``|neutral_i - c_i|`` (the person's
        own lip line). With ``d_open`` = cost(teeth | closed) - cost(closed | closed) and
        ``d_closed`` = cost(closed | open) - cost(teeth | open), teeth win when
        ``P(open) > d_open / (d_open + d_closed)``. With ``colours`` the bank's people count
        by skin similarity (Gaussian in cheek L*, ``_COLOUR_SCALE``): teeth stand out more
        against dark skin, so a wrong guess costs more there, either way.
        """
        s = self.smile_contrast.astype(np.float64)
        n = self.neutral_contrast.astype(np.float64)
        op = self.smile_open.astype(bool)
        costs = self.__dict__.get("_costs")
        if costs is None:
            lent = np.abs(s[op][None, :] - s[:, None])  # (person i, open smile j)
            idx = np.flatnonzero(op)
            lent[idx, np.arange(len(idx))] = np.nan  # nobody lends their own teeth
            costs = (np.nanmean(lent, axis=1), np.abs(n - s))
            object.__setattr__(self, "_costs", costs)
        teeth, shut = costs
        if colours is None:
            w = np.ones(len(s))
        else:
            dl = lab(self.people_skin)[:, 0] - float(colours.skin_lab[0])
            w = np.exp(-0.5 * (dl / _COLOUR_SCALE) ** 2) + 1e-9
        d_open = float(np.average(teeth[~op] - shut[~op], weights=w[~op]))
        d_closed = float(np.average(shut[op] - teeth[op], weights=w[op]))
        if d_open <= 0:
            return 0.0
        return float(np.clip(d_open / (d_open + d_closed), 0.0, 1.0)) if d_closed > 0 else 1.0

    def has_looks(self) -> bool:
        """Whether the bank knows every smile's and neutral mouth's look (format 4, neutral photos)."""
        return (len(self.smile_tint) == len(self.motion) > 0 and len(self.smile_open) == len(self.motion)
                and bool(np.all(np.isfinite(self.smile_contrast)))
                and bool(np.all(np.isfinite(self.neutral_contrast)))
                and bool(np.all(np.isfinite(self.smile_tint))) and bool(np.all(np.isfinite(self.neutral_tint))))

    def looks(self) -> tuple[np.ndarray, np.ndarray]:
        """``(N, 3)`` looks of every smile and of the same person's neutral mouth: interior (or
        closed lip line) minus cheek L*, interior a*, b* (:mod:`pixelfes.evaluate.mouth`)."""
        return (np.c_[self.smile_contrast, self.smile_tint].astype(np.float64),
                np.c_[self.neutral_contrast, self.neutral_tint].astype(np.float64))

    def _smile_costs(self, neutral_lips: np.ndarray, colours: PersonColours) -> np.ndarray:
        """``(len(motion),)``: squared neutral-lip distance over ``_NEUTRAL_SCALE**2`` plus
        squared skin L*a*b* distance over ``_COLOUR_SCALE**2``."""
        d_shape = ((self.neutral.astype(np.float64) - np.asarray(neutral_lips)[None]) ** 2).sum(axis=(1, 2))
        d_col = ((lab(self.people_skin) - colours.skin_lab[None]) ** 2).sum(axis=1)
        return np.asarray(d_shape / _NEUTRAL_SCALE**2 + d_col / _COLOUR_SCALE**2)

    def typical_smile(self, neutral_lips: np.ndarray, colours: PersonColours, own_look: np.ndarray, *,
                      exclude: str | None = None, width: float | None = None,
                      painted: Callable[[int], np.ndarray | None] | None = None,
                      apart: bool = True) -> tuple[int, bool]:
        """The smile (index into ``motion``) that looks most like the smiles of people like this
        one, and whether it shows teeth.

        Whether a person smiles with teeth cannot be told from their neutral photo (lips
        parted at rest: AUC 0.62 on London), so lending the nearest smile is a gamble that
        gives teeth to 40 % of people whose own smile is closed. Instead every smile of the
        bank is weighed by how near its person's neutral lips and skin are (the cost of
        :meth:`retrieve_smile`, Gaussian weights ``exp(-(cost - min) / (2 width))``) and turned
        into what it would look like on this person: an open smile its own look (its teeth,
        on similar skin), a closed one the person's own lip line ``own_look`` ``(3,)``
        (contrast, a*, b*: :meth:`looks`) moved as that smile's moved. The candidate mouth,
        the teeth of one of the ``_TYPICAL_TEETH`` nearest open smiles or the person's own
        lips closed, with the least weighted sum of differences (|contrast| + a*b* distance)
        to them wins: a weighted medoid, the mouth with the least expected error in look (with
        ``_RENDERED_TEETH`` a lent smile's teeth count with the look they get on this face,
        :func:`rendered_looks`). ``painted(j)``, when given, is the look smile ``j``'s teeth
        get *as painted on this face* (``(3,)``, or ``None``: its own look), measured as the
        judge measures an output (:func:`pixelfes.native.painted_look`): a barely parted
        smile's interior is mostly its own lips and cavity, which take this person's lip
        colour when lent, so its own look (137's +3.8 L* over its cheeks) says little about
        the look it gets (-10 on 096). ``width`` defaults to
        :meth:`typical_width`. Closed: the nearest closed smile's index. When teeth win but
        they may not be painted on this face (:meth:`lendable`: :data:`NOT_PAINTED`, or
        another skin), the same medoid picks among the nearest ``_TYPICAL_TEETH`` teeth that
        may: which kind of mouth is decided by the nearest smiles, whose teeth are lent apart.
        ``apart`` False: the medoid's own pick, whether or not it may be painted here
        (:meth:`typical_width`'s leave-one-out, so that lending apart never moves the width
        that decides teeth or lips).
        """
        width = self.typical_width() if width is None else float(width)
        cost = self._smile_costs(neutral_lips, colours)
        if exclude is not None:
            cost = np.where(np.array(self.people) == exclude, np.inf, cost)
        live = np.isfinite(cost)
        if not live.any():
            raise ValueError("no smile in the mouth bank fits (all excluded)")
        w = np.where(live, np.exp(-0.5 * (np.where(live, cost, 0.0) - cost[live].min()) / width), 0.0)
        smile, neutral = self.looks()
        own = np.asarray(own_look, dtype=np.float64)
        values = np.where(self.smile_open[:, None], smile, own[None] + smile - neutral)
        teeth = np.flatnonzero((self.patch_of >= 0) & live)
        by_cost = teeth[np.argsort(cost[teeth], kind="stable")]
        teeth = by_cost[:_TYPICAL_TEETH]

        looked: dict[int, np.ndarray | None] = {}  # painted looks asked for once a smile

        def totals(smiles: np.ndarray, with_own: bool) -> np.ndarray:
            lent = smile[smiles]
            if _RENDERED_TEETH:
                lent = rendered_looks(lent, lab(self.people_skin[smiles])[:, 0], float(colours.skin_lab[0]))
            if painted is not None:
                lent = np.array(lent, dtype=np.float64, copy=True)
                for k, t in enumerate(smiles):
                    if int(t) not in looked:
                        looked[int(t)] = painted(int(t))
                    look = looked[int(t)]
                    if look is not None and np.all(np.isfinite(look)):
                        lent[k] = look
            cands = np.vstack([own[None], lent]) if with_own else lent
            diff = cands[:, None, :] - values[None, live, :]
            return ((np.abs(diff[..., 0]) + np.hypot(diff[..., 1], diff[..., 2])) * w[live][None]).sum(axis=1)

        best = int(np.argmin(totals(teeth, True)))
        if best > 0:
            j = int(teeth[best - 1])
            lends = self.lendable(colours, among=live)
            if not apart or lends[j] or not lends.any():
                return j, True
            # teeth it is (the nearest smiles' looks say so), but these may not be painted
            # here: the same choice among the nearest teeth that may
            ok = by_cost[lends[by_cost]][:_TYPICAL_TEETH]
            return int(ok[int(np.argmin(totals(ok, False)))]), True
        if (live & ~self.smile_open).any():
            return self.retrieve_smile(neutral_lips, colours, exclude=exclude, closed_only=True), False
        return self.retrieve_smile(neutral_lips, colours, exclude=exclude), False

    def typical_width(self) -> float:
        """The weight width of :meth:`typical_smile`, chosen by leave-one-out on the bank's own
        people: each person's smile guessed from the others', the width of ``_TYPICAL_WIDTHS``
        with the least mean |contrast| + a*b* error wins (ties: the narrower). The guess is the
        medoid's own (``typical_smile(apart=False)``): the width decides teeth or closed lips,
        which lending teeth apart (:meth:`lendable`) must not change."""
        width = self.__dict__.get("_typical_width")
        if width is None:
            smile, neutral = self.looks()
            colours = [PersonColours(skin=s, lips=s) for s in self.people_skin]
            errs = []
            for wd in _TYPICAL_WIDTHS:
                e = []
                for i, pid in enumerate(self.people):
                    j, shows = self.typical_smile(self.neutral[i], colours[i], neutral[i], exclude=pid,
                                                  width=wd, apart=False)
                    d = (smile[j] if shows else neutral[i]) - smile[i]
                    e.append(abs(d[0]) + float(np.hypot(d[1], d[2])))
                errs.append(float(np.mean(e)))
            width = _TYPICAL_WIDTHS[int(np.argmin(errs))]
            object.__setattr__(self, "_typical_width", width)
            object.__setattr__(self, "_typical_errors", dict(zip(_TYPICAL_WIDTHS, errs, strict=True)))
        return float(width)

    def frame_points(self) -> np.ndarray:
        """``(N, 20, 2)`` lip landmarks in mouth-frame units."""
        m = frame_to_patch()
        return (self.points.astype(np.float64) - m[:, 2]) / PX

    def gaps(self) -> np.ndarray:
        """``(N,)`` inner-lip gap of every exemplar, in mouth widths."""
        cached = self.__dict__.get("_gaps")
        if cached is None:
            from .fill import inner_gap

            full = np.zeros((len(self), 68, 2))
            full[:, 48:68] = self.frame_points()
            cached = np.array([inner_gap(f) for f in full])
            object.__setattr__(self, "_gaps", cached)
        return cached

    def retrieval_cost(self, outer_frame: np.ndarray, colours: PersonColours) -> np.ndarray:
        """``(N,)`` :meth:`retrieve`'s cost of every exemplar: the squared outer-lip distance
        ``(12, 2)`` (mouth frame) over ``_SHAPE_SCALE**2`` plus the squared skin L*a*b*
        distance over ``_COLOUR_SCALE**2``."""
        d_shape = ((self.frame_points()[:, :12] - np.asarray(outer_frame)[None]) ** 2).sum(axis=(1, 2))
        d_col = ((lab(self.skin) - colours.skin_lab[None]) ** 2).sum(axis=1)
        return np.asarray(d_shape / _SHAPE_SCALE**2 + d_col / _COLOUR_SCALE**2)

    @staticmethod
    def _pick(cost: np.ndarray, ids: tuple[str, ...], exclude: str | None,
              allowed: np.ndarray | None) -> int:
        """Lowest-cost index (ties: lowest) but ``exclude`` and outside ``allowed``; when
        ``allowed`` leaves none, the lowest over all."""
        if exclude is not None:
            cost = np.where(np.array(ids) == exclude, np.inf, cost)
        if allowed is not None:
            mask = np.asarray(allowed, dtype=bool)
            if len(mask) != len(cost):
                raise ValueError(f"allowed has {len(mask)} entries, the bank {len(cost)} exemplars")
            if np.isfinite(np.where(mask, cost, np.inf)).any():
                cost = np.where(mask, cost, np.inf)
        return int(np.argmin(cost))

    def retrieve(self, outer_frame: np.ndarray, colours: PersonColours,
                 exclude: str | None = None, allowed: np.ndarray | None = None) -> int:
        """Index of the exemplar nearest to outer lips ``(12, 2)`` (mouth frame) and skin colour
        (:meth:`retrieval_cost`).

        Deterministic: ties go to the lower index. ``exclude``: an id never returned (the
        person's own smile, when testing on the bank's own people); ``allowed``: ``(N,) bool``,
        only these exemplars (when any is left; else any). :data:`NOT_PAINTED` teeth are not
        kept out here (the action-unit mouths): only a smile's teeth are lent apart.
        """
        if len(self) == 0:
            raise ValueError("the mouth bank is empty")
        return self._pick(self.retrieval_cost(outer_frame, colours), self.ids, exclude, allowed)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bank as one safetensors file (uint8 patches, float32 points)."""
        from safetensors.numpy import save_file

        from .._atomic import atomic_path
        from .relief import pack, pack_tint

        meta = {"format": str(_FORMAT), "px": str(PX), "x_range": json.dumps(X_RANGE),
                "y_range": json.dumps(Y_RANGE), "ids": json.dumps(list(self.ids)),
                "source": "Face Research Lab London Set (DeBruine & Jones 2017), CC BY 4.0"}
        out = Path(path)
        with atomic_path(out) as tmp:
            meta["people"] = json.dumps(list(self.people))
            if self.has_looks():  # chosen once here: the leave-one-out takes ~0.2 s, too long at start-up
                meta["typical_width"] = repr(self.typical_width())
            # one metadata key: safetensors writes several in a random order (bytes would
            # differ from build to build with equal contents)
            meta = {_META_KEY: json.dumps(meta, sort_keys=True)}
            save_file({"patches": np.ascontiguousarray(self.patches),
                       "points": self.points.astype(np.float32), "skin": self.skin,
                       "lips": self.lips, "motion": self.motion.astype(np.float32),
                       "neutral": self.neutral.astype(np.float32),
                       "people_skin": self.people_skin.astype(np.uint8),
                       "patch_of": self.patch_of.astype(np.int32),
                       "smile_contrast": self.smile_contrast.astype(np.float32),
                       "neutral_contrast": self.neutral_contrast.astype(np.float32),
                       "smile_open": self.smile_open.astype(np.uint8),
                       "smile_tint": self.smile_tint.astype(np.float32),
                       "neutral_tint": self.neutral_tint.astype(np.float32),
                       "neutral_crease": self.neutral_crease.astype(np.float32),
                       "people_lips": self.people_lips.astype(np.uint8),
                       "neutral_relief": pack(self.neutral_relief),
                       "neutral_lip_tint": pack_tint(self.neutral_lip_tint)}, str(tmp), metadata=meta)
        return out

    @classmethod
    def build(cls, photos: list[np.ndarray], landmarks: list[np.ndarray], ids: list[str],
              neutral_landmarks: list[np.ndarray] | None = None,
              neutral_photos: list[np.ndarray] | None = None, relief: bool = True) -> MouthBank:
        """Bank of ``photos`` (smiles, ``(H, W, 3) uint8``) with their ``(68, 2)`` landmarks.

        Teeth patches are kept for the open smiles (but :data:`UNSUITABLE_TEETH`); with
        ``neutral_landmarks`` (the same
        people's neutral photos, in their own photo frames) every smile's motion is kept too;
        with ``neutral_photos`` as well, each smile's and neutral mouth's contrast (what
        :meth:`open_threshold` weighs), each neutral lip line's crease and (``relief``) its lips'
        relief (:func:`pixelfes.mouth.relief.relief_map`).
        """
        from ..alignment import DEFAULT_ALIGNMENT
        from ..evaluate.mouth import OPEN_AREA, mouth_regions, region_stats
        from ..face.align import crop_matrix, transform_points, warp_to_crop
        from .crease import OFFSETS, crease_profile
        from .fill import inner_gap, mouth_frame
        from .relief import GRID, TINT_GRID, relief_map, tint_map

        size = patch_size()
        fp = frame_to_patch()
        patches, points, skins, lips, kept = [], [], [], [], []
        motion, neutral, pskin, plips, patch_of = [], [], [], [], []
        s_con, n_con, s_open, s_tint, n_tint, n_crease, n_relief = [], [], [], [], [], [], []
        n_lip_tint = []
        unit = DEFAULT_ALIGNMENT.margin / DEFAULT_ALIGNMENT.size  # crop px -> face-frame units
        for k, (rgb, lm, pid) in enumerate(zip(photos, landmarks, ids, strict=True)):
            lm = np.asarray(lm, dtype=np.float64)
            c = person_colours(rgb, lm)
            is_open = inner_gap(lm) >= MIN_GAP and str(pid) not in UNSUITABLE_TEETH
            if is_open:
                tf = mouth_frame(lm)
                m = np.hstack([fp[:, :2] @ tf[:, :2], (fp[:, :2] @ tf[:, 2] + fp[:, 2])[:, None]])
                patches.append(warp_to_crop(rgb, m, size))
                points.append(transform_points(m, lm[48:68]).astype(np.float32))
                skins.append(c.skin)
                lips.append(c.lips)
                kept.append(str(pid))
            if neutral_landmarks is not None:
                ln = np.asarray(neutral_landmarks[k], dtype=np.float64)
                a = transform_points(crop_matrix(ln), ln)
                b = transform_points(crop_matrix(lm), lm)
                motion.append(((b - a) * unit).astype(np.float32))
                neutral.append(transform_points(mouth_frame(ln), ln)[48:68].astype(np.float32))
                pskin.append(c.skin)
                plips.append(c.lips)
                patch_of.append(len(patches) - 1 if is_open else -1)
                reg = mouth_regions(lm, rgb.shape)
                st = region_stats(rgb, reg)
                s_con.append(st.contrast)
                s_tint.append((st.interior_a, st.interior_b))
                s_open.append(reg.opening >= OPEN_AREA)
                if neutral_photos is not None:
                    nt = region_stats(neutral_photos[k], mouth_regions(ln, neutral_photos[k].shape))
                    n_con.append(nt.contrast)
                    n_tint.append((nt.interior_a, nt.interior_b))
                    n_crease.append(crease_profile(neutral_photos[k], ln))
                    n_relief.append(relief_map(neutral_photos[k], ln) if relief
                                    else np.full((2,) + GRID, np.nan, np.float32))
                    n_lip_tint.append(tint_map(neutral_photos[k], ln) if relief
                                      else np.full((2, 2) + TINT_GRID, np.nan, np.float32))
                else:
                    n_con.append(np.nan)
                    n_tint.append((np.nan, np.nan))
                    n_crease.append(np.full(len(OFFSETS), np.nan))
                    n_relief.append(np.full((2,) + GRID, np.nan, np.float32))
                    n_lip_tint.append(np.full((2, 2) + TINT_GRID, np.nan, np.float32))
        h, w = size[1], size[0]
        return cls(np.stack(patches) if patches else np.zeros((0, h, w, 3), np.uint8),
                   np.stack(points) if points else np.zeros((0, 20, 2), np.float32),
                   np.stack(skins) if skins else np.zeros((0, 3), np.uint8),
                   np.stack(lips) if lips else np.zeros((0, 3), np.uint8), tuple(kept),
                   np.stack(motion) if motion else np.zeros((0, 68, 2), np.float32),
                   np.stack(neutral) if neutral else np.zeros((0, 20, 2), np.float32),
                   np.stack(pskin) if pskin else np.zeros((0, 3), np.uint8),
                   tuple(str(i) for i in ids) if neutral_landmarks is not None else (),
                   np.array(patch_of, np.int32), np.array(s_con, np.float32),
                   np.array(n_con, np.float32), np.array(s_open, bool),
                   np.array(s_tint, np.float32).reshape(-1, 2), np.array(n_tint, np.float32).reshape(-1, 2),
                   np.array(n_crease, np.float32).reshape(-1, len(OFFSETS)),
                   np.stack(plips) if plips else np.zeros((0, 3), np.uint8),
                   np.array(n_relief, np.float32).reshape((-1, 2) + GRID),
                   np.array(n_lip_tint, np.float32).reshape((-1, 2, 2) + TINT_GRID))


def _l_to_y(lum: np.ndarray) -> np.ndarray:
    """CIE L* -> relative luminance Y (white 1)."""
    lum = np.asarray(lum, dtype=np.float64)
    return np.where(lum > 8.0, ((lum + 16.0) / 116.0) ** 3, lum / 903.3)


def _y_to_l(y: np.ndarray) -> np.ndarray:
    """Relative luminance Y (white 1) -> CIE L*."""
    y = np.asarray(y, dtype=np.float64)
    return np.where(y > 0.008856, 116.0 * np.cbrt(y) - 16.0, 903.3 * y)


def rendered_looks(looks: np.ndarray, exemplar_skin_l: np.ndarray, skin_l: float) -> np.ndarray:
    """``(K, 3)`` looks (contrast, a*, b*) of lent teeth as :func:`pixelfes.mouth.fill_mouth`
    paints them on a face of cheek L* ``skin_l``: the interior's luminance times
    ``sqrt(cheek Y ratio)`` (the teeth gain), against this face's cheek; a*, b* kept.

    ``looks`` are the exemplars' own (measured on their photos, cheek L* ``exemplar_skin_l``
    ``(K,)``): a light-skinned person's teeth lent to a dark-skinned face stand further above
    its cheeks than they did above their own.
    """
    out = np.array(looks, dtype=np.float64, copy=True)
    ex_l = np.asarray(exemplar_skin_l, dtype=np.float64)
    interior = _l_to_y(out[:, 0] + ex_l) * np.sqrt(_l_to_y(np.full_like(ex_l, skin_l)) / _l_to_y(ex_l))
    out[:, 0] = _y_to_l(interior) - skin_l
    return out


def logistic_fit(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3, steps: int = 50) -> np.ndarray:
    """``(2,)`` intercept and slope of a 1-D logistic regression (Newton's method, a tiny ridge
    so separable data stay finite); ``x`` is standardised inside and mapped back."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    a = np.c_[np.ones_like(x), (x - mu) / sd]
    w = np.zeros(2)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a @ w)))
        g = a.T @ (p - y) + ridge * w
        h = (a * (p * (1 - p))[:, None]).T @ a + ridge * np.eye(2)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return np.array([w[0] - w[1] * mu / sd, w[1] / sd])


def _read(path: str) -> MouthBank:
    from safetensors import safe_open

    from .relief import unpack, unpack_tint

    with safe_open(path, framework="numpy") as f:
        meta = json.loads((f.metadata() or {}).get(_META_KEY, "{}"))
        if meta.get("format") != str(_FORMAT) or int(meta.get("px", -1)) != PX:
            raise ValueError(f"{path} is not a mouth bank of format {_FORMAT} at {PX} px per mouth "
                             "width; rebuild it with scripts/build_bundled_models.py")
        t = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    bank = MouthBank(t["patches"], t["points"], t["skin"], t["lips"], tuple(json.loads(meta["ids"])),
                     t["motion"], t["neutral"], t["people_skin"], tuple(json.loads(meta["people"])),
                     t["patch_of"], t["smile_contrast"], t["neutral_contrast"],
                     t["smile_open"].astype(bool), t["smile_tint"], t["neutral_tint"],
                     t.get("neutral_crease", np.full((len(t["neutral"]), 13), np.nan, np.float32)),
                     t.get("people_lips", np.zeros((0, 3), np.uint8)),
                     unpack(t["neutral_relief"]) if "neutral_relief" in t else np.zeros((0,) + _RELIEF_SHAPE, np.float32),
                     unpack_tint(t["neutral_lip_tint"]) if "neutral_lip_tint" in t
                     else np.zeros((0,) + _TINT_SHAPE, np.float32))
    if "typical_width" in meta:
        object.__setattr__(bank, "_typical_width", float(meta["typical_width"]))
    return bank


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> MouthBank:
    return _read(path)


def load_bank(path: str | os.PathLike[str] | None = None) -> MouthBank:
    """The bundled bank (default) or one saved with :meth:`MouthBank.save`; cached per file."""
    p = Path(path) if path is not None else BANK_PATH
    if not p.is_file():
        raise FileNotFoundError(f"mouth bank {p} not found; build it with "
                                "python scripts/build_bundled_models.py")
    return _cached(str(p), p.stat().st_mtime)
