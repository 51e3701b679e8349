"""scripts/blind_pairs.py: the fine-detail measure and the blur that matches a real photo to
its source photo's detail (the London smiling photos are sharper than the neutral ones)."""

from __future__ import annotations

import cv2
import numpy as np

from conftest import load_script


def _script():
    return load_script("blind_pairs")


def _face() -> tuple[np.ndarray, np.ndarray]:
    """A textured 200 px image and 68 points laid out as a face's (jaw, brows, mouth)."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(60, 200, (200, 200, 3), dtype=np.uint8)
    lm = np.zeros((68, 2))
    t = np.linspace(0, np.pi, 17)
    lm[:17] = np.c_[100 - 70 * np.cos(t), 90 + 80 * np.sin(t)]  # jaw, y 90 .. 170
    lm[17:27] = np.c_[np.linspace(45, 155, 10), np.full(10, 60.0)]  # brows at y 60
    lm[27:48] = [100, 100]
    lm[48:68] = np.c_[np.linspace(80, 120, 20), np.full(20, 140.0)]  # the mouth
    return rgb, lm


def test_face_detail_is_the_mean_laplacian_over_the_face_without_the_mouth():
    bp = _script()
    rgb, lm = _face()
    lap = np.abs(cv2.Laplacian(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F))
    keep = np.zeros(lap.shape, bool)
    keep[60:170, 30:170] = True  # brows to chin, jaw to jaw
    keep[130:150, 70:130] = False  # the mouth's box, 10 px out
    assert bp.face_detail(rgb, lm) == np.float32(lap[keep].mean())


def test_match_detail_blurs_to_the_goal_and_leaves_a_softer_photo_alone():
    bp = _script()
    rgb, lm = _face()
    goal = 0.6 * bp.face_detail(rgb, lm)
    out, sigma = bp.match_detail(rgb, lm, goal)
    assert 0.3 < sigma < 4.0
    assert abs(bp.face_detail(out, lm) - goal) <= 0.01 * goal
    np.testing.assert_array_equal(out, cv2.GaussianBlur(rgb, (0, 0), sigma))
    same, none = bp.match_detail(rgb, lm, 2 * goal / 0.6)
    assert none == 0.0 and same is rgb


def test_sign_test_p_is_the_binomial_tail_of_a_fair_coin():
    bp = _script()
    # plain formula: sum over i >= k of C(n, i) / 2^n, written out for n = 20
    fact = [1]
    for i in range(1, 21):
        fact.append(fact[-1] * i)
    tail = sum(fact[20] // (fact[i] * fact[20 - i]) for i in range(14, 21)) / 2 ** 20
    assert bp.sign_test_p(14, 20) == tail
    assert round(tail, 4) == 0.0577
    assert bp.sign_test_p(0, 20) == 1.0
    assert bp.sign_test_p(20, 20) == 2.0 ** -20


def test_tally_counts_the_candidate_judged_more_natural_on_either_side():
    bp = _script()
    key = {
        "versus_01": {"kind": "versus", "direction": "happy:neutral", "candidate": "A", "identity": "7"},
        "versus_02": {"kind": "versus", "direction": "happy:neutral", "candidate": "B", "identity": "7"},
        "versus_03": {"kind": "versus", "direction": "happy:neutral", "candidate": "B", "identity": "9"},
        "blind_01": {"direction": "neutral:happy", "edited": "B"},
    }
    answers = {
        "versus_01": {"more_natural": "a", "confidence": 4, "natural_A": 4, "natural_B": 2},
        "versus_02": {"more_natural": "A", "confidence": 2, "natural_A": 3, "natural_B": 2},
        "versus_03": {"more_natural": "B ", "confidence": 3, "natural_A": 1, "natural_B": 5},
        "blind_01": {"edited": "B", "confidence": 5, "natural_A": 5, "natural_B": 1},
    }
    got = bp.tally(key, answers)
    v = got["happy:neutral"]
    assert v["n"] == 3 and v["preferred"] == 2  # 01 (A) and 03 (B); 02 preferred the baseline
    assert v["natural_candidate"] == (4 + 2 + 5) / 3 and v["natural_baseline"] == (2 + 3 + 1) / 3
    assert v["confidence"] == 3.0 and v["sign_p"] == bp.sign_test_p(2, 3) == 0.5
    # 7 was shown both ways round and judged once each way: neither won; 9 won its one image
    assert v["people"] == 2 and v["people_won"] == 1 and v["people_lost"] == 0
    assert v["said_a"] == 2 / 3 and v["side_void"] == 0.0
    b = got["neutral:happy"]
    assert b["caught"] == 1 and b["natural_edited"] == 1 and b["natural_real"] == 5


def test_a_rater_who_nearly_always_says_a_is_void():
    bp = _script()
    key = {f"versus_{i:02d}": {"kind": "versus", "direction": "d", "candidate": "AB"[i % 2],
                               "identity": str(i // 2)} for i in range(20)}
    said = {k: {"more_natural": "A", "confidence": 1, "natural_A": 3, "natural_B": 3} for k in key}
    said["versus_00"]["more_natural"] = "B"
    said["versus_01"]["more_natural"] = "B"
    said["versus_02"]["more_natural"] = "B"
    v = bp.tally(key, said)["d"]
    assert v["said_a"] == 17 / 20 and v["side_void"] == 1.0  # 17 of 20 on one side: void
    said["versus_03"]["more_natural"] = "B"
    assert bp.tally(key, said)["d"]["side_void"] == 0.0  # 16 of 20: not
    # evens show the candidate as A (8 of 10 said A), odds as B (1 said B); person 1 (images 2
    # and 3) never got the candidate's side, every other person got it in one image of two
    assert v["preferred"] == 9 and v["people_won"] == 0 and v["people_lost"] == 1


def test_write_shuffled_renames_every_image_and_keeps_its_key_entry(tmp_path):
    bp = _script()
    out = tmp_path / "pairs"
    out.mkdir()
    key = {}
    for i in range(1, 6):
        (out / f"pair_{i:02d}.png").write_bytes(bytes([i]))
        key[f"pair_{i:02d}"] = {"identity": str(i)}
    bp.write_shuffled(out, key, "versus", np.random.default_rng(0), str(tmp_path / "k" / "key.json"),
                      bp.VERSUS_INSTRUCTIONS)
    import json

    written = json.loads((tmp_path / "k" / "key.json").read_text())
    assert sorted(written) == [f"versus_{i:02d}" for i in range(1, 6)]
    for name, entry in written.items():  # each image still carries its own person
        assert (out / f"{name}.png").read_bytes() == bytes([int(entry["identity"])])
    assert [e["identity"] for e in written.values()] != ["1", "2", "3", "4", "5"]  # shuffled
    assert "versus_01.png" in (tmp_path / "READY").read_text() and not list(out.glob("pair_*"))


def test_differing_box_bounds_every_changed_pixel_with_its_margin():
    bp = _script()
    a = np.full((100, 100, 3), 120, np.uint8)
    b = a.copy()
    b[40:50, 30:35, 1] = 129  # 9 levels: differs
    b[90, 90, 0] = 128  # 8 levels: the same
    assert bp.differing_box(a, a) is None
    m = round(bp._ZOOM_MARGIN * 100)
    assert bp.differing_box(a, b) == (30 - m, 40 - m, 35 + m, 50 + m)
    b[0, 99] = 0  # at the corner: clipped to the image
    assert bp.differing_box(a, b) == (30 - m, 0, 100, 50 + m)


def test_versus_image_puts_the_enlarged_differing_box_under_each_side():
    bp = _script()
    rng = np.random.default_rng(1)
    a = rng.integers(0, 255, (60, 60, 3), dtype=np.uint8)
    b = a.copy()
    b[20:30, 10:20] = 0
    box = bp.differing_box(a, b)
    x0, y0, x1, y1 = box
    img = bp.versus_image(a, b, box)
    np.testing.assert_array_equal(img[:60], bp.side_by_side(a, b))
    k = min(3, (60 - 6) // (x1 - x0))
    strip = img[72:72 + k * (y1 - y0)]
    np.testing.assert_array_equal(strip[::k, :k * (x1 - x0):k], a[y0:y1, x0:x1])  # A's, whole pixels
    right = k * (x1 - x0) + 12
    np.testing.assert_array_equal(strip[::k, right:right + k * (x1 - x0):k], b[y0:y1, x0:x1])
    assert img.shape == (72 + k * (y1 - y0), 132, 3)
    np.testing.assert_array_equal(bp.versus_image(a, a, None), bp.side_by_side(a, a))


def test_versus_leaves_out_people_whose_two_outputs_are_the_same_pixels(tmp_path, monkeypatch):
    import argparse
    import json

    import pixelfes.evaluate.mouth_protocol as mp

    bp = _script()
    rgb, lm = _face()
    changed = rgb.copy()
    changed[135:145, 85:115] = 0  # the mouth differs for person "b" only
    seen = {"a": {"baseline": (rgb, lm), "candidate": (rgb.copy(), lm), "input": (rgb, lm)},
            "b": {"baseline": (rgb, lm), "candidate": (changed, lm), "input": (rgb, lm)}}
    monkeypatch.setattr(mp, "resolve_factory", lambda text: (text, object()))
    monkeypatch.setattr(bp, "held_out_outputs", lambda *a: (["a", "b"], seen))
    args = argparse.Namespace(factory="native", against="cand", output=str(tmp_path / "pairs"),
                              key=str(tmp_path / "key.json"), seed=1, directions="happy:neutral",
                              both_orders=True, show_identical=False)
    bp.make_versus(args)
    key = json.loads((tmp_path / "key.json").read_text())
    assert sorted(v["identity"] for v in key.values()) == ["b", "b"]  # "a" left out, "b" both ways
    assert sorted(v["candidate"] for v in key.values()) == ["A", "B"]
    args.show_identical, args.key = True, str(tmp_path / "key2.json")
    bp.make_versus(args)
    assert len(json.loads((tmp_path / "key2.json").read_text())) == 4


def test_both_ways_shows_the_other_side_too_only_when_asked():
    bp = _script()
    assert bp.both_ways(True, True) == (True, False) and bp.both_ways(False, True) == (False, True)
    assert bp.both_ways(True, False) == (True,) and bp.both_ways(False, False) == (False,)


def _both_orders_key(people: int = 20) -> dict:
    """``people`` people, each shown twice: blind_(2i+1) with the edit on A, blind_(2i+2) on B."""
    key = {}
    for i in range(people):
        for j, side in enumerate("AB"):
            key[f"blind_{2 * i + j + 1:02d}"] = {"identity": f"p{i}", "direction": "neutral:happy", "edited": side}
    return key


def _answers(key: dict, said) -> dict:
    return {name: {"edited": said(name, truth), "confidence": 2, "natural_A": 4, "natural_B": 3}
            for name, truth in key.items()}


def test_an_always_b_rater_finds_no_person_in_both_orders_and_the_sides_show_it():
    bp = _script()
    key = _both_orders_key()
    m = bp.tally(key, _answers(key, lambda name, truth: "B"))["neutral:happy"]
    assert m["caught"] == 20 and m["n"] == 40  # the old figure: half of them, by the side alone
    assert (m["answers_a"], m["answers_b"]) == (0, 40)
    assert (m["hits_a"], m["shown_a"], m["hits_b"], m["shown_b"]) == (0, 20, 20, 20)
    assert (m["people_twice"], m["people_both"], m["people_one"], m["people_neither"]) == (20, 0, 20, 0)
    # naturalness follows the side: the edit was on A (rated 4) in half the images, on B (3) in half
    assert m["natural_edited"] == m["natural_real"] == 3.5


def test_a_perfect_rater_finds_every_person_in_both_orders():
    bp = _script()
    key = _both_orders_key()
    answers = _answers(key, lambda name, truth: truth["edited"])
    for name, truth in key.items():  # the edit rated 2 and the real photo 5, on whichever side
        answers[name].update({f"natural_{truth['edited']}": 2, f"natural_{'B' if truth['edited'] == 'A' else 'A'}": 5})
    m = bp.tally(key, answers)["neutral:happy"]
    assert m["caught"] == 40 and (m["answers_a"], m["answers_b"]) == (20, 20)
    assert (m["hits_a"], m["hits_b"], m["people_both"], m["people_one"], m["people_neither"]) == (20, 20, 20, 0, 0)
    assert m["natural_edited"] == 2.0 and m["natural_real"] == 5.0


def test_a_partly_right_rater_is_counted_person_by_person():
    bp = _script()
    key = _both_orders_key(4)
    # p0 found both ways; p1 only on B; p2 only on A; p3 never (answered the real photo's side)
    said = {"blind_01": "A", "blind_02": "B", "blind_03": "B", "blind_04": "B",
            "blind_05": "A", "blind_06": "A", "blind_07": "B", "blind_08": "A"}
    m = bp.tally(key, _answers(key, lambda name, truth: said[name]))["neutral:happy"]
    assert m["caught"] == 4 and (m["answers_a"], m["answers_b"]) == (4, 4)
    assert (m["hits_a"], m["hits_b"]) == (2, 2)  # blind_01, 05 on A; blind_02, 04 on B
    assert (m["people_both"], m["people_one"], m["people_neither"]) == (1, 2, 1)


def test_a_one_order_key_gets_side_counts_and_no_both_orders_figure(capsys):
    bp = _script()
    # the lead's 2026-12-03 rater: the edit on B in 13 of 20, answered B 17 times, every B edit
    # found and 3 of the 7 A edits
    key = {f"blind_{i:02d}": {"identity": f"p{i}", "direction": "neutral:happy", "edited": "B" if i <= 13 else "A"}
           for i in range(1, 21)}
    said = {name: "B" if i <= 17 else "A" for i, name in enumerate(key, 1)}
    m = bp.tally(key, _answers(key, lambda name, truth: said[name]))["neutral:happy"]
    assert m["caught"] == 16 and (m["answers_a"], m["answers_b"]) == (3, 17)
    assert (m["hits_a"], m["shown_a"], m["hits_b"], m["shown_b"]) == (3, 7, 13, 13)
    assert m["people_twice"] == 0


def test_score_keeps_the_old_line_and_adds_the_sides_and_both_orders(tmp_path, capsys):
    import argparse
    import json

    bp = _script()
    key = _both_orders_key()
    (tmp_path / "key.json").write_text(json.dumps(key))
    (tmp_path / "answers.json").write_text(json.dumps(_answers(key, lambda name, truth: "B")))
    bp.score(argparse.Namespace(key=str(tmp_path / "key.json"), answers=str(tmp_path / "answers.json")))
    out = capsys.readouterr().out
    assert "| neutral:happy | 40 | 20 of 40 | 2.0 | 3.50 | 3.50 |" in out  # the old line, unchanged
    assert "| neutral:happy | 0 / 40 | 0 of 20 | 20 of 20 |" in out
    assert "| neutral:happy | 20 | 0 of 20 | 20 | 0 | 3.50 | 3.50 |" in out


def test_make_both_orders_shows_each_person_twice_with_the_sides_swapped(tmp_path, monkeypatch):
    import argparse
    import json

    from PIL import Image

    import pixelfes.evaluate.mouth_protocol as mp

    bp = _script()
    rgb, lm = _face()
    edit = rgb.copy()
    edit[135:145, 85:115] = 0
    seen = {p: {"native": (edit, lm), "real target": (rgb, lm), "input": (rgb, lm)} for p in ("a", "b", "c")}
    monkeypatch.setattr(mp, "resolve_factory", lambda text: ("native", object()))
    monkeypatch.setattr(bp, "held_out_outputs", lambda *a: (["a", "b", "c"], seen))
    args = argparse.Namespace(factory="native", output=str(tmp_path / "pairs"), key=str(tmp_path / "key.json"),
                              seed=4, directions="neutral:happy", both_orders=True, match_detail=False)
    bp.make(args)
    key = json.loads((tmp_path / "key.json").read_text())
    assert sorted(v["identity"] for v in key.values()) == ["a", "a", "b", "b", "c", "c"]
    for person in "abc":
        (n1, e1), (n2, e2) = sorted((n, v) for n, v in key.items() if v["identity"] == person)
        assert {e1["edited"], e2["edited"]} == {"A", "B"}
        i1, i2 = (np.asarray(Image.open(tmp_path / "pairs" / f"{n}.png")) for n in (n1, n2))
        w = (i1.shape[1] - 12) // 2
        np.testing.assert_array_equal(i1[:, :w], i2[:, -w:])  # the same two crops, swapped
        np.testing.assert_array_equal(i1[:, -w:], i2[:, :w])
    assert bp.REPEATS in (tmp_path / "READY").read_text()
    args.both_orders, args.key = False, str(tmp_path / "key1.json")
    for f in (tmp_path / "pairs").glob("*.png"):
        f.unlink()
    bp.make(args)
    key1 = json.loads((tmp_path / "key1.json").read_text())
    assert sorted(v["identity"] for v in key1.values()) == ["a", "b", "c"]
    assert "more than once" not in (tmp_path / "READY").read_text()


def test_versus_fill_draws_more_people_in_place_of_identical_ones(tmp_path, monkeypatch):
    import argparse
    import json

    import pixelfes.evaluate.mouth_protocol as mp

    bp = _script()
    rgb, lm = _face()
    changed = rgb.copy()
    changed[135:145, 85:115] = 0
    # a pool of six: the candidate moves only c, e and f
    moved = {"c", "e", "f"}
    seen = {i: {"baseline": (rgb, lm), "candidate": (changed if i in moved else rgb.copy(), lm),
                "input": (rgb, lm)} for i in "abcdef"}
    draws: list[list[str]] = []

    def draw(args, factories, direction, rng, used):
        free = [i for i in "abcdef" if i not in used][:args.people]  # in order: the test knows who
        used.update(free)
        draws.append(free)
        return free, {i: seen[i] for i in free}

    monkeypatch.setattr(mp, "resolve_factory", lambda text: (text, object()))
    monkeypatch.setattr(bp, "held_out_outputs", draw)
    args = argparse.Namespace(factory="native", against="cand", output=str(tmp_path / "pairs"),
                              key=str(tmp_path / "key.json"), seed=1, directions="happy:neutral",
                              both_orders=False, show_identical=False, fill=True, people=3,
                              ids=None, quiet=True)
    bp.make_versus(args)
    key = json.loads((tmp_path / "key.json").read_text())
    # a, b identical -> 2 more drawn (d, e); d identical -> 1 more (f): c, e, f shown
    assert draws == [["a", "b", "c"], ["d", "e"], ["f"]]
    assert sorted(v["identity"] for v in key.values()) == ["c", "e", "f"]
    args.fill, args.key, draws[:] = False, str(tmp_path / "key2.json"), []
    bp.make_versus(args)
    assert draws == [["a", "b", "c"]]
    assert [v["identity"] for v in json.loads((tmp_path / "key2.json").read_text()).values()] == ["c"]
