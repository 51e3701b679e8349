"""scripts/blind_expressions.py: the held-out people, the confusion matrix, the score table."""

from __future__ import annotations

import json

import numpy as np

from conftest import load_script, real_data


def _script():
    return load_script("blind_expressions")


def test_confusion_counts_truth_by_answer():
    be = _script()
    key = {"img_001": {"expression": "angry", "identity": "a"},
           "img_002": {"expression": "angry", "identity": "b"},
           "img_003": {"expression": "neutral", "identity": "a"},
           "img_004": {"expression": "disgusted", "identity": "a"},
           "img_005": {"expression": "sad", "identity": "b"}}
    answers = {"img_001": {"expression": "Angry "}, "img_002": {"expression": "neutral"},
               "img_003": {"expression": "neutral"}, "img_004": {"expression": "contempt"}}
    m, missing = be.confusion(key, answers)
    e = be.EXPRESSIONS.index
    want = np.zeros((7, 7), int)
    want[e("angry"), e("angry")] = 1
    want[e("angry"), e("neutral")] = 1
    want[e("neutral"), e("neutral")] = 1
    assert np.array_equal(m, want)
    assert missing == ["img_004", "img_005"]  # not one of the seven; no answer


def test_score_prints_accuracy_per_expression(tmp_path, capsys):
    be = _script()
    key = {"strength": 1.0, "images": {
        "img_001": {"expression": "angry", "identity": "042"},
        "img_002": {"expression": "angry", "identity": "070"},
        "img_003": {"expression": "happy", "identity": "042"}}}
    (tmp_path / "key.json").write_text(json.dumps(key))
    (tmp_path / "a.json").write_text(json.dumps({
        "img_001": {"expression": "angry", "confidence": 4},
        "img_002": {"expression": "sad", "confidence": 2},
        "img_003": {"expression": "happy", "confidence": 5}}))
    assert be.main(["score", "--key", str(tmp_path / "key.json"), "--answers", str(tmp_path / "a.json"),
                    "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| angry | 0 | 0 | 1 | 0 | 0 | 1 | 0 | **1 of 2** (50%) | 3.0 |" in out
    assert "| happy | 0 | 1 | 0 | 0 | 0 | 0 | 0 | **1 of 1** (100%) | 5.0 |" in out
    assert "overall: 2 of 3 (67%)" in out


def test_blind_people_are_redrawn_from_london_info():
    be = _script()
    data = real_data("london-face-set")
    assert tuple(be.blind_people(data)) == be.BLIND_PEOPLE
    info = be.london_info(data)
    eth = [info[i]["face_eth"] for i in be.BLIND_PEOPLE]
    assert {k: eth.count(k) for k in set(eth)} == {"black": 4, "east_asian": 2, "west_asian": 2, "white": 6}
    assert min(int(i) for i in be.BLIND_PEOPLE) > 20
