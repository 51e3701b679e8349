"""Issue 11, fourth pass: the smile's mouth is the typical one of people like this (teeth or not)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import spy_calls
from pixelfes.mouth import MouthBank, PersonColours, load_bank
from pixelfes.mouth.colour import lab


def _bank(smile_look, neutral_look, opened, teeth, skin_l=None, neutral=None) -> MouthBank:
    """A bank of ``n`` smiles with given looks ``(n, 3)`` (contrast, a*, b*); ``teeth``: which lend teeth."""
    n = len(smile_look)
    base = load_bank()
    skin = np.full((n, 3), 150, np.uint8) if skin_l is None else np.repeat(
        np.asarray(skin_l, np.uint8)[:, None], 3, axis=1)
    s, nl = np.asarray(smile_look, np.float32), np.asarray(neutral_look, np.float32)
    patch_of = np.where(teeth, 0, -1).astype(np.int32)
    lips = base.neutral[:n] if neutral is None else np.asarray(neutral, np.float32)
    return MouthBank(base.patches[:1], base.points[:1], base.skin[:1], base.lips[:1], base.ids[:1],
                     np.zeros((n, 68, 2), np.float32), lips, skin, tuple(f"p{i}" for i in range(n)),
                     patch_of, s[:, 0], nl[:, 0], np.asarray(opened, bool), s[:, 1:], nl[:, 1:])


def _l_to_y(lum):
    return ((lum + 16.0) / 116.0) ** 3 if lum > 8.0 else lum / 903.3


def _y_to_l(y):
    return 116.0 * y ** (1.0 / 3.0) - 16.0 if y > 216.0 / 24389.0 else 903.3 * y


def _rendered(look, ex_skin_l, skin_l):
    """One lent look on this face, by hand: interior Y x sqrt(cheek Y ratio), minus this cheek's L*."""
    y = _l_to_y(look[0] + ex_skin_l) * math.sqrt(_l_to_y(skin_l) / _l_to_y(ex_skin_l))
    return [_y_to_l(y) - skin_l, look[1], look[2]]


def _lendable(bank, i, colours, among, teeth_skin=None, not_painted=()):
    """Whether smile ``i``'s teeth may be painted on this face, by hand: a patch, not in
    ``not_painted``, and a cheek L* within ``teeth_skin`` of the face's (else the nearest of
    ``among``, the smiles looked at)."""
    def ok(k):
        return bank.patch_of[k] >= 0 and bank.people[k] not in not_painted

    def dl(k):
        return abs(float(lab(bank.people_skin[k])[0]) - float(colours.skin_lab[0]))
    if not ok(i):
        return False
    if teeth_skin is None:
        return True
    nearest = min(dl(k) for k in among if ok(k))
    return dl(i) <= max(teeth_skin, nearest)


def _reference(bank, lips, colours, own, width, exclude=None, rendered=False, painted=None, teeth_skin=None,
               not_painted=(), asked=None):
    """Plain loops over the bank: weights, each smile's look on this person, the weighted medoid;
    when teeth win but may not be painted here, the same medoid over the nearest teeth that may.
    ``asked``: a list the candidates' smiles are appended to."""
    n = len(bank.motion)
    cost = []
    for i in range(n):
        d_shape = sum(float((bank.neutral[i, p, q] - lips[p, q]) ** 2) for p in range(20) for q in range(2))
        d_col = sum(float((lab(bank.people_skin[i])[c] - colours.skin_lab[c]) ** 2) for c in range(3))
        cost.append(math.inf if bank.people[i] == exclude else d_shape / 0.04**2 + d_col / 8.0**2)
    lo = min(cost)
    w = [0.0 if c == math.inf else math.exp(-0.5 * (c - lo) / width) for c in cost]
    values = []
    for i in range(n):
        s = [float(bank.smile_contrast[i]), *map(float, bank.smile_tint[i])]
        m = [float(bank.neutral_contrast[i]), *map(float, bank.neutral_tint[i])]
        values.append(s if bank.smile_open[i] else [own[k] + s[k] - m[k] for k in range(3)])
    open_all = [i for _, i in sorted((cost[i], i) for i in range(n) if bank.patch_of[i] >= 0 and cost[i] < math.inf)]

    def look(i):
        c = [float(bank.smile_contrast[i]), *map(float, bank.smile_tint[i])]
        if rendered:
            c = _rendered(c, float(lab(bank.people_skin[i])[0]), float(colours.skin_lab[0]))
        if painted is not None:  # the look each lent smile gets painted on this face (dict: smile -> look)
            c = list(painted[i])
        if asked is not None and i not in asked:
            asked.append(i)
        return c

    def medoid(cands):
        best, best_total = None, math.inf
        for key, c in cands:
            total = sum(w[i] * (abs(c[0] - values[i][0]) + math.hypot(c[1] - values[i][1], c[2] - values[i][2]))
                        for i in range(n) if w[i] > 0)
            if total < best_total - 1e-9:
                best, best_total = key, total
        return best

    live = [i for i in range(n) if cost[i] < math.inf]
    best = medoid([("closed", list(own))] + [(i, look(i)) for i in open_all[:3]])
    if best != "closed" and not _lendable(bank, best, colours, live, teeth_skin, not_painted):
        may = [i for i in open_all if _lendable(bank, i, colours, live, teeth_skin, not_painted)][:3]
        if may:
            best = medoid([(i, look(i)) for i in may])
    return best



def _random_smiles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` smiles' looks (contrast, a*, b*), their people's neutral lip looks and which
    are open (60 %), drawn from ``rng`` in that order."""
    looks = np.c_[rng.normal(-5, 15, n), rng.normal(10, 8, n), rng.normal(6, 3, n)]
    neutral = np.c_[rng.normal(-20, 6, n), rng.normal(18, 4, n), rng.normal(6, 2, n)]
    return looks, neutral, rng.random(n) < 0.6

def test_typical_smile_by_hand():
    # equal weights (every person alike): three open smiles at +10, one closed smile
    own = np.array([-20.0, 20.0, 5.0])
    looks = [[10, 4, 6], [10, 4, 6], [10, 4, 6], [-18, 19, 5]]
    neutral = [[-25, 5, 6], [-25, 5, 6], [-25, 5, 6], [-20, 20, 5]]
    col = PersonColours(skin=np.array([150, 150, 150], np.uint8), lips=np.array([170, 100, 100], np.uint8))
    bank = _bank(looks, neutral, [True, True, True, False], [True, True, True, False])
    lips = bank.neutral[0].astype(np.float64)
    bank4 = _bank(looks, neutral, [True, True, True, False], [True, True, True, False],
                  neutral=np.repeat(bank.neutral[:1], 4, axis=0))
    # teeth: 3 x 0 + |10 - (-18)| + |(4, 6) - (19, 5)| = 28 + 15.03; closed: 3 x (30 + 16.76) + 2 + 1
    j, shows = bank4.typical_smile(lips, col, own, width=1e9)
    assert shows and j == 0
    # three closed smiles and one open: the person's own lips, the nearest closed smile's motion
    bank4c = _bank([looks[0], looks[3], looks[3], looks[3]], [neutral[0], neutral[3], neutral[3], neutral[3]],
                   [True, False, False, False], [True, False, False, False],
                   neutral=np.repeat(bank.neutral[:1], 4, axis=0))
    j, shows = bank4c.typical_smile(lips, col, own, width=1e9)
    assert not shows and j == 1


@pytest.mark.parametrize("rendered", [False, True])
@pytest.mark.parametrize("not_painted", [(), ("p0", "p3")])
def test_typical_smile_equals_a_plain_loop_reference(rendered, not_painted, monkeypatch):
    from pixelfes.mouth import bank as bank_module

    monkeypatch.setattr(bank_module, "_RENDERED_TEETH", rendered)
    monkeypatch.setattr(bank_module, "NOT_PAINTED", dict.fromkeys(not_painted, "a test"))
    skin = 16.0
    rng = np.random.default_rng(5)
    n = 9
    looks, neutral, opened = _random_smiles(rng, n)
    teeth = opened & (rng.random(n) < 0.8)
    teeth[0] = opened[0] = True
    base = load_bank()
    lips = base.neutral[:n].astype(np.float64) + rng.normal(0, 0.01, (n, 20, 2))
    bank = _bank(looks, neutral, opened, teeth, skin_l=rng.integers(60, 220, n), neutral=lips)
    differs = skin_rule = 0
    for trial in range(12):
        q = base.neutral[20 + trial].astype(np.float64)
        col = PersonColours(skin=np.full(3, rng.integers(60, 220), np.uint8), lips=np.array([170, 100, 100], np.uint8))
        own = np.array([rng.normal(-15, 8), rng.normal(15, 5), rng.normal(6, 2)])
        width = [0.5, 2.0, 8.0, 64.0][trial % 4]
        exclude = f"p{trial % n}" if trial % 3 == 0 else None
        j, shows = bank.typical_smile(q, col, own, width=width, exclude=exclude)
        ref = _reference(bank, q, col, own, width, exclude, rendered, teeth_skin=skin, not_painted=not_painted)
        differs += ref != _reference(bank, q, col, own, width, exclude, not rendered, teeth_skin=skin,
                                     not_painted=not_painted)
        skin_rule += ref != _reference(bank, q, col, own, width, exclude, rendered)  # any teeth anywhere
        if ref != "closed":
            assert bank.people[ref] not in not_painted
        if ref == "closed":
            assert not shows and not bank.smile_open[j]
            assert j == bank.retrieve_smile(q, col, exclude=exclude, closed_only=True)
        else:
            assert shows and j == ref
    assert differs > 0  # the two rules part somewhere on these trials (the test can tell them apart)
    assert skin_rule > 0  # and lending apart changes some choices


def test_rendered_looks_by_hand():
    from pixelfes.mouth.bank import rendered_looks

    looks = np.array([[4.3, 7.7, 2.2], [-6.0, 5.0, 4.0], [20.0, 9.0, 1.0], [0.0, 1.0, 2.0]])
    ex_l = np.array([31.0, 74.0, 50.0, 60.0])
    for skin in (28.0, 43.0, 70.0, 60.0):
        got = rendered_looks(looks, ex_l, skin)
        for k in range(len(looks)):
            np.testing.assert_allclose(got[k], _rendered(list(looks[k]), ex_l[k], skin), atol=1e-9)
    same = rendered_looks(looks, ex_l, 60.0)[3]
    np.testing.assert_allclose(same, looks[3], atol=1e-9)  # the same skin: the own look
    # light teeth on darker skin: further above its cheek than above their own (and less on lighter)
    assert rendered_looks(looks[1:2], ex_l[1:2], 43.0)[0, 0] > looks[1, 0]
    assert rendered_looks(looks[0:1], ex_l[0:1], 70.0)[0, 0] < looks[0, 0]


def test_typical_width_is_the_leave_one_out_choice():
    rng = np.random.default_rng(2)
    n = 10
    looks, neutral, opened = _random_smiles(rng, n)
    opened[:2] = True
    base = load_bank()
    bank = _bank(looks, neutral, opened, opened, skin_l=rng.integers(60, 220, n),
                 neutral=base.neutral[:n])
    from pixelfes.mouth.bank import _RENDERED_TEETH, _TYPICAL_WIDTHS

    errs = []
    for width in _TYPICAL_WIDTHS:
        e = []
        for i in range(n):
            col = PersonColours(skin=bank.people_skin[i], lips=bank.people_skin[i])
            ref = _reference(bank, bank.neutral[i].astype(np.float64), col, neutral[i], width,
                             exclude=f"p{i}", rendered=_RENDERED_TEETH)
            guess = neutral[i] if ref == "closed" else looks[ref]
            e.append(abs(guess[0] - looks[i][0]) + math.hypot(guess[1] - looks[i][1], guess[2] - looks[i][2]))
        errs.append(np.mean(e))
    best = _TYPICAL_WIDTHS[int(np.argmin(errs))]
    assert bank.typical_width() == best
    assert bank._typical_errors == pytest.approx(dict(zip(_TYPICAL_WIDTHS, errs, strict=True)), rel=1e-6)  # float32 looks


def test_lending_apart_never_changes_the_kind_of_mouth(monkeypatch):
    """The width (and so teeth or closed lips) is the one chosen with every smile's teeth
    lendable: typical_width's leave-one-out takes the medoid's own pick. On this bank lending
    apart inside that leave-one-out would move the width 8 -> 4 and flip mouths; here only
    the lent teeth change, never to NOT_PAINTED ones (plain-loop references)."""
    from pixelfes.mouth import bank as bank_module

    rng = np.random.default_rng(2)
    n = 12
    looks, neutral, opened = _random_smiles(rng, n)
    opened[:2] = True
    bank = _bank(looks, neutral, opened, opened, skin_l=rng.integers(60, 220, n),
                 neutral=load_bank().neutral[:n])
    not_painted = ("p0", "p1")
    monkeypatch.setattr(bank_module, "NOT_PAINTED", dict.fromkeys(not_painted, "a test"))
    from pixelfes.mouth.bank import _TYPICAL_WIDTHS
    colours = [PersonColours(skin=bank.people_skin[i], lips=bank.people_skin[i]) for i in range(n)]

    def loo_width(**rule):
        errs = []
        for width in _TYPICAL_WIDTHS:
            e = []
            for i in range(n):
                ref = _reference(bank, bank.neutral[i].astype(np.float64), colours[i], neutral[i], width,
                                 exclude=f"p{i}", **rule)
                guess = neutral[i] if ref == "closed" else looks[ref]
                e.append(abs(guess[0] - looks[i][0]) + math.hypot(guess[1] - looks[i][1], guess[2] - looks[i][2]))
            errs.append(np.mean(e))
        return _TYPICAL_WIDTHS[int(np.argmin(errs))]

    assert bank.typical_width() == loo_width() == 8.0  # every smile's teeth lendable
    assert loo_width(teeth_skin=16.0, not_painted=not_painted) == 4.0  # (what lending apart there gives)
    lent = 0
    for i in range(n):
        q = bank.neutral[i].astype(np.float64)
        j, shows = bank.typical_smile(q, colours[i], neutral[i], exclude=f"p{i}")
        own = _reference(bank, q, colours[i], neutral[i], 8.0, exclude=f"p{i}")  # the medoid's own pick
        j0, shows0 = bank.typical_smile(q, colours[i], neutral[i], exclude=f"p{i}", apart=False)
        assert shows == shows0 == (own != "closed")  # the kind of every mouth: the medoid's
        assert shows or j == j0  # (closed: the same nearest closed smile)
        if shows:
            assert bank.people[j] not in not_painted
            lent += j != own
    assert lent > 0  # some teeth are lent apart


def test_bundled_bank_knows_every_look_and_round_trips(tmp_path):
    bank = load_bank()
    assert bank.has_looks() and bank.smile_tint.shape == bank.neutral_tint.shape == (82, 2)
    smile, neutral = bank.looks()
    # closed lip lines are red, open interiors (teeth) nearly grey
    assert np.median(smile[~bank.smile_open, 1]) > 15 > 8 > np.median(smile[bank.smile_open, 1])
    assert np.median(neutral[:, 1]) > 15
    from pixelfes.mouth.bank import load_bank as load

    path = bank.save(tmp_path / "b.safetensors")
    back = load(path)
    assert np.array_equal(back.smile_tint, bank.smile_tint) and np.array_equal(back.neutral_tint, bank.neutral_tint)
    assert back.typical_width() == bank.typical_width()
    # the width stored at build time is the leave-one-out choice, recomputed on the same arrays
    fresh = MouthBank(**{f: getattr(bank, f) for f in MouthBank.__dataclass_fields__})
    assert "_typical_width" not in fresh.__dict__ and "_typical_width" in bank.__dict__
    assert fresh.typical_width() == bank.typical_width() == 8.0


def test_mouth_look_is_the_mouth_measure_of_the_evaluation(tmp_path):
    from pixelfes.evaluate.mouth import mouth_regions as eval_regions
    from pixelfes.evaluate.mouth import region_stats
    from pixelfes.mouth_regions import mouth_look

    rng = np.random.default_rng(4)
    rgb = rng.integers(30, 220, (300, 300, 3), dtype=np.uint8)
    rgb[150:170, 110:190] = (40, 10, 15)  # a dark mouth band on noise
    bank = load_bank()
    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(60, 240, 68)
    lm[:, 1] = np.linspace(40, 260, 68)
    lm[[1, 15, 4, 12], :] = [(50, 120), (250, 120), (70, 200), (230, 200)]
    lm[[41, 46, 31, 35], :] = [(110, 100), (190, 100), (135, 130), (165, 130)]
    from pixelfes.mouth.fill import inner_gap

    shut = int(np.argmin([inner_gap(n) for n in bank.neutral.astype(np.float64)]))  # lips that meet
    lm[48:68] = bank.neutral[shut].astype(np.float64) * 100 + (150, 160)
    for opened in (False, True):
        if opened:
            lm[[61, 62, 63], 1] -= 8
            lm[[65, 66, 67], 1] += 8
        st = region_stats(rgb, eval_regions(lm, rgb.shape))
        np.testing.assert_allclose(mouth_look(rgb, lm), [st.contrast, st.interior_a, st.interior_b], atol=1e-9)
        assert eval_regions(lm, rgb.shape).open == opened


def test_a_smile_gets_the_smile_texture_gain_and_the_follow_shares(monkeypatch):
    """The ratio is ``1 + gain x change`` (clipped), smiles use ``_SMILE_RATIO_GAIN``; the lent
    smile moves the lips and nothing else (scripts/choose_smile.py's choice)."""
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes import native
    from pixelfes.face import align_face, detect_faces
    from pixelfes.pipeline import resolve_model

    rgb = skimage_data.astronaut()
    face = detect_faces(rgb)[0]
    model = resolve_model("neutral-to-happy")
    al = align_face(rgb, face.landmarks, model.alignment_)
    tri = model.warp_.triangulation
    target = al.landmarks + 1.0
    one = native._texture_ratio(model, al.crop, al.landmarks, tri.raster(target), 1.0, 1.0)
    two = native._texture_ratio(model, al.crop, al.landmarks, tri.raster(target), 1.0, 2.0)
    lo, hi = native._GAIN_LIMITS
    np.testing.assert_allclose(two, np.clip(1.0 + 2.0 * (one - 1.0), lo, hi), atol=2e-6)
    assert np.abs(two - 1).max() > 0.05  # a real change, not all ones
    assert native._SMILE_RATIO_GAIN == 1.5 and native._RATIO_GAIN == 1.0
    follow = native._SMILE_FOLLOW
    assert np.all(follow[48:68] == 1.0) and np.all(np.delete(follow, np.arange(48, 68)) == 0.0)
    calls = spy_calls(monkeypatch, native, "_texture_ratio")
    out = rgb.copy()
    native.synthesize_face(rgb, out, face.landmarks, model, 1.0)
    back = resolve_model("happy-to-neutral")
    native.synthesize_face(rgb, rgb.copy(), face.landmarks, back, 1.0)
    assert [a[5] if len(a) > 5 else k.get("ratio_gain") for a, k in calls] == [1.5, 1.0]


def test_typical_smile_weighs_lent_teeth_by_their_painted_look():
    # the plain-loop reference with each candidate's look replaced by the painted one, and the
    # rule must differ from the own-look rule on some trials (else the test could not fail)
    skin = 16.0
    rng = np.random.default_rng(11)
    n = 9
    looks, neutral, opened = _random_smiles(rng, n)
    teeth = opened.copy()
    teeth[:2] = opened[:2] = True
    base = load_bank()
    lips = base.neutral[:n].astype(np.float64) + rng.normal(0, 0.01, (n, 20, 2))
    bank = _bank(looks, neutral, opened, teeth, skin_l=rng.integers(60, 220, n), neutral=lips)
    differs = asked_for = second_round = 0
    for trial in range(16):
        q = base.neutral[30 + trial].astype(np.float64)
        col = PersonColours(skin=np.full(3, rng.integers(60, 220), np.uint8), lips=np.array([170, 100, 100], np.uint8))
        own = np.array([rng.normal(-15, 8), rng.normal(15, 5), rng.normal(6, 2)])
        width = [1.0, 4.0, 16.0, 64.0][trial % 4]
        table = {i: looks[i] + rng.normal(0, 12, 3) * [1, 0.4, 0.3] for i in range(n)}
        asked: list[int] = []

        def painted(j, table=table, asked=asked):
            asked.append(j)
            return table[j]
        j, shows = bank.typical_smile(q, col, own, width=width, painted=painted)
        opens: list[int] = []
        ref = _reference(bank, q, col, own, width, painted=table, asked=opens, teeth_skin=skin)
        own_rule = _reference(bank, q, col, own, width, teeth_skin=skin)
        differs += ref != own_rule
        assert sorted(asked) == sorted(opens)  # asked once for each candidate (both rounds)
        asked_for += len(asked)
        second_round += len(opens) > 3
        if ref == "closed":
            assert not shows and not bank.smile_open[j]
        else:
            assert shows and j == ref
    # lending apart: 3 trials paint 6 more teeth in a second round
    assert differs > 0 and (second_round, asked_for) == (3, 48 + 6)
    # a painted look that is unknown (None) falls back to the smile's own look
    j0, s0 = bank.typical_smile(q, col, own, width=4.0)
    assert (j0, s0) == bank.typical_smile(q, col, own, width=4.0, painted=lambda j: None)


def test_teeth_are_lent_by_people_of_similar_skin(monkeypatch):
    """retrieve_smile(open_only) and lendable: teeth of people whose cheek L* is within 16 of
    this face's; none there: the nearest in cheek L* (pinned by hand)."""
    from pixelfes.mouth import bank as bank_module

    assert bank_module._TEETH_SKIN == 16.0
    looks = [[10, 4, 6]] * 4
    neutral = [[-25, 5, 6]] * 4
    # grey cheeks: L* of 60 / 120 / 200 / 110 grey levels = 25.2 / 50.2 / 80.5 / 46.3
    bank = _bank(looks, neutral, [True] * 4, [True] * 4, skin_l=[60, 120, 200, 110],
                 neutral=np.repeat(load_bank().neutral[:1], 4, axis=0))
    lips = bank.neutral[0].astype(np.float64)
    grey = [float(lab(np.full(3, v, np.uint8))[0]) for v in (60, 120, 200, 110, 190)]
    assert np.allclose(grey, [25.24, 50.24, 80.51, 46.27, 76.89], atol=0.01)
    face = PersonColours(skin=np.full(3, 190, np.uint8), lips=np.array([170, 100, 100], np.uint8))  # L* 76.9
    # every neutral alike: by cost alone the nearest skin wins anyway (ties: lowest index)
    assert bank.retrieve_smile(lips, face, open_only=True) == 2
    assert bank.retrieve_smile(lips, face, open_only=True, exclude="p2") == 1  # 50.2: nearest left
    dark = PersonColours(skin=np.full(3, 70, np.uint8), lips=np.array([170, 100, 100], np.uint8))  # L* 29.6
    far = _bank(looks, neutral, [True] * 4, [True] * 4, skin_l=[200, 120, 60, 110])
    assert far.retrieve_smile(lips, dark, open_only=True) == 2  # 25.2: the only one within 16 (46.3 is 16.7 away)
    assert far.lendable(dark).tolist() == [False, False, True, False]
    assert far.lendable(dark, among=np.array([1, 1, 0, 1], bool)).tolist() == [False, False, False, True]
    assert far.lendable(face).tolist() == [True, False, False, False]


def test_teeth_that_may_not_be_painted_still_vote_for_teeth(monkeypatch):
    """Teeth win with smile 0's look, which may not be painted (NOT_PAINTED): still teeth, the
    nearest that may be (smile 1), not the closed lips that would win without smile 0."""
    from pixelfes.mouth import bank as bank_module

    own = np.array([-20.0, 20.0, 5.0])
    looks = [[10, 4, 6], [60, 4, 6], [10, 4, 6], [-18, 19, 5]]
    neutral = [[-25, 5, 6], [-25, 5, 6], [-25, 5, 6], [-20, 20, 5]]
    col = PersonColours(skin=np.array([150, 150, 150], np.uint8), lips=np.array([170, 100, 100], np.uint8))
    # totals over the four looks (|contrast| + a*b* distance): teeth 0 93.0, lips 191.1, teeth 1 193.1
    # smiles 0, 1 open with teeth; 2 open without a patch; 3 closed; lips alike: equal weights
    bank = _bank(looks, neutral, [True, True, True, False], [True, True, False, False],
                 neutral=np.repeat(load_bank().neutral[:1], 4, axis=0))
    lips = bank.neutral[0].astype(np.float64)
    assert bank.typical_smile(lips, col, own, width=1e9) == (0, True)
    monkeypatch.setattr(bank_module, "NOT_PAINTED", {"p0": "a test"})
    assert bank.typical_smile(lips, col, own, width=1e9, apart=False) == (0, True)  # the medoid's own
    assert bank.lendable(col).tolist() == [False, True, False, False]
    assert bank.typical_smile(lips, col, own, width=1e9) == (1, True)
    assert bank.retrieve_smile(lips, col, open_only=True) == 1
    # dropping smile 0 instead (no teeth patch): teeth 1 lose to the lips
    dropped = _bank(looks, neutral, [True, True, True, False], [False, True, False, False],
                    neutral=np.repeat(load_bank().neutral[:1], 4, axis=0))
    assert dropped.typical_smile(lips, col, own, width=1e9)[1] is False
