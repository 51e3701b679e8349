"""The evaluation protocol, report and the evaluate/cv commands on small generated data.

The real scorers (fer, dlib) need real faces and are tested in test_evaluate_scorers.py;
here they are replaced by stubs with the same interface, which the protocol accepts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

import pixelfes
from pixelfes.alignment import Alignment
from pixelfes.cli import main
from pixelfes.evaluate import protocol as proto
from pixelfes.evaluate.protocol import ModelSpec, Scorers, evaluate_direction, run_protocol
from pixelfes.evaluate.report import COLUMNS, direction_figures, direction_section, write_report
from pixelfes.expressions import EXPRESSIONS
from pixelfes.models import PixelRR

HAPPY = EXPRESSIONS.index("happy")


class StubClassifier:
    """Calls a face happy in proportion to its mean brightness (bright = happy)."""

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        b = np.asarray(faces, dtype=float).mean(axis=(1, 2, 3)) / 255.0
        p = np.full((len(faces), 7), 0.0)
        p[:, HAPPY] = b
        p[:, 0] = 1.0 - b
        return p


class StubEmbedder:
    """A 'face embedding' that is the 4x4 block mean of the image."""

    def embed(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=float) / 255.0
        n, h, w, c = x.shape
        return x[:, : h // 4 * 4, : w // 4 * 4].reshape(n, 4, h // 4, 4, w // 4, c).mean(axis=(2, 4, 5)).reshape(n, 16)


A16 = Alignment(size=16, margin=1.0)  # the generated crops: 16 px, whole crop scored


def stub_scorers() -> Scorers:
    return Scorers({"stub": StubClassifier()}, StubEmbedder(), quality=True)


def make_people(n_people: int = 6, pairs_each: int = 2, size: int = 16, c: int = 3, seed: int = 0):
    """Pairs whose pixel (0, 0, 0) encodes the person; the target is a brighter copy."""
    rng = np.random.default_rng(seed)
    X, T, groups = [], [], []
    for p in range(n_people):
        face = rng.integers(30, 150, size=(size, size, c))
        for _ in range(pairs_each):
            x = np.clip(face + rng.integers(-10, 10, size=face.shape), 0, 255)
            x[0, 0, 0] = 10 * p
            t = np.clip(x + 60 + rng.integers(-5, 5, size=face.shape), 0, 255)
            X.append(x)
            T.append(t)
            groups.append(f"p{p}")
    return np.array(X, np.uint8), np.array(T, np.uint8), groups


class SpyRR(PixelRR):
    """Pixel-RR that records which people (pixel (0, 0, 0) / 10) it was trained on."""

    log: list[set[int]] = []

    def fit(self, X, T, **kwargs):
        SpyRR.log.append({int(v) // 10 for v in np.asarray(X)[:, 0, 0, 0]})
        return super().fit(X, T, **kwargs)


@pytest.mark.parametrize("n_folds", [3, 10])  # 10 > 6 people: leave-one-person-out
def test_protocol_never_trains_on_a_test_person(n_folds):
    X, T, groups = make_people()
    SpyRR.log = []
    spec = ModelSpec("pixel-rr", label="spy", factory=SpyRR)
    res = evaluate_direction(X, T, groups, [spec], n_folds=n_folds, scorers=stub_scorers(), alignment=A16)
    assert len(SpyRR.log) == len(res.splits) == min(n_folds, 6)
    for trained, (_, test) in zip(SpyRR.log, res.splits, strict=True):
        tested = {int(g[1:]) for g in res.groups[test]}
        assert trained and tested and not trained & tested
    # every pair is held out exactly once, so every output row was produced by a model
    assert sorted(np.concatenate([t for _, t in res.splits]).tolist()) == list(range(len(X)))
    assert res.meta["leave_one_person_out"] == (n_folds >= 6)


def test_run_protocol_rejects_a_split_with_a_person_on_both_sides():
    X, T, groups = make_people(n_people=3)
    bad = [(np.array([0, 1, 2]), np.array([3, 4, 5]))]  # pair 2 (p1) trains, pair 3 (p1) tests
    with pytest.raises(proto.EvaluationError, match="both sides"):
        run_protocol(X, T, groups, ["pixel-rr"], bad, scorers=stub_scorers(), alignment=A16)


def test_learning_curve_subsamples_training_people():
    X, T, groups = make_people(n_people=6)
    SpyRR.log = []
    evaluate_direction(X, T, groups, [ModelSpec("pixel-rr", label="spy", factory=SpyRR)],
                       n_folds=3, scorers=stub_scorers(), alignment=A16, max_train_people=2)
    assert all(len(s) == 2 for s in SpyRR.log)


def test_baselines_and_scores_are_what_they_say():
    X, T, groups = make_people()
    res = evaluate_direction(X, T, groups, ["pixel-rr", "mr"], n_folds=3, scorers=stub_scorers(), alignment=A16,
                             expression_strengths=[0.0, 1.5])
    assert np.array_equal(res.outputs["input"], X)
    assert np.array_equal(res.outputs["Pixel-RR@0"], X)
    s = res.summary()
    assert s["real target"]["identity.distance"]["mean"] == 0.0
    assert s["real target"]["identity.rank1"]["mean"] == 1.0
    # the extra strengths are judged by the expression classifier only
    assert set(s["Pixel-RR@1.5"]) == {"stub.accuracy", "stub.p_target"}
    # a brighter output is 'happier' under the stub: the model beats the input
    assert s["Pixel-RR@1"]["stub.p_target"]["mean"] > s["input"]["stub.p_target"]["mean"]
    # the mean-target baseline of a fold is the mean of that fold's training targets only
    train, test = res.splits[0]
    expect = T[train].astype(float).mean(axis=0).round()
    assert np.array_equal(res.outputs["mean target"][test[0]], expect.astype(np.uint8))
    assert res.sizes["Pixel-RR"]["parameters"] == 2 * 16 * 16 * 3
    assert len(res.fit_seconds["MR"]) == 3


def test_landmark_models_get_landmarks():
    X, T, groups = make_people(n_people=4)
    seen = {}

    class LandmarkSpy(PixelRR):
        requires_landmarks = True

        def fit(self, X, T, *, landmarks_source=None, landmarks_target=None, groups=None,
                alignment=None):
            seen["fit"] = (landmarks_source.shape, len(groups), alignment)
            return super().fit(X, T, landmarks_source=landmarks_source,
                               landmarks_target=landmarks_target, alignment=alignment)

        def predict(self, X, *, landmarks=None, strength=1.0):
            seen["predict"] = landmarks.shape
            return super().predict(X, landmarks=landmarks, strength=strength)

    L = np.zeros((len(X), 68, 2))
    spec = ModelSpec("shape-texture", label="st", factory=LandmarkSpy)
    with pytest.raises(proto.EvaluationError, match="needs landmarks"):
        evaluate_direction(X, T, groups, [spec], n_folds=2, scorers=stub_scorers(), alignment=A16)
    evaluate_direction(X, T, groups, [spec], n_folds=2, scorers=stub_scorers(), alignment=A16,
                       landmarks_source=L, landmarks_target=L)
    assert seen["fit"][0][1:] == (68, 2) and seen["predict"][1:] == (68, 2)
    assert seen["fit"][2] == A16  # models are fitted with the pairs' alignment


def test_framing_region():
    assert proto.framing_slice(192, 1.5) == slice(32, 160)
    assert proto.framing_slice(128, 1.0) == slice(0, 128)
    assert proto.framing_box(192, 1.5) == pytest.approx((1 / 6, 1 / 6, 5 / 6, 5 / 6))
    assert proto.framing_box(128, 1.0) == "full"


def _all_numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _all_numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _all_numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


def test_report_is_written_with_every_number(tmp_path):
    X, T, groups = make_people(n_people=5)
    res = evaluate_direction(X, T, groups, ["pixel-rr", "mr"], n_folds=5, scorers=stub_scorers(), alignment=A16,
                             expression_strengths=[0.0, 0.5, 1.5])
    figs = direction_figures(res, tmp_path, "cmp", n_rows=3)
    assert {"grid", "strength"} <= set(figs) and all(p.stat().st_size > 1000 for p in figs.values())
    direction = res.to_dict(per_sample=True)
    md, js = write_report(tmp_path, "test", [direction_section(direction, figs)],
                          {"direction": direction})
    data = json.loads(js.read_text())
    methods = data["direction"]["methods"]
    for key in ("input", "mean target", "real target", "Pixel-RR@1", "MR@1"):
        assert key in methods
    wanted = {m for m, _, _ in COLUMNS if not m.startswith(("fer", "facex", "faceapi"))} | {"stub.accuracy", "stub.p_target"}
    for key in ("input", "mean target", "Pixel-RR@1", "MR@1"):
        assert wanted <= set(methods[key]["scores"]), key
        for m in wanted:
            sc = methods[key]["scores"][m]
            assert len(sc["folds"]) == 5 and math.isfinite(sc["mean"])
            assert sc["mean"] == pytest.approx(np.mean(sc["folds"]))
        assert len(methods[key]["per_sample"]["quality.psnr"]) == len(X)
    assert data["direction"]["sizes"]["MR"]["bytes"] > 0
    assert len(data["direction"]["fit_seconds"]["Pixel-RR"]) == 5
    assert np.array(methods["real target"]["confusion"]["stub"]).sum() == len(X)
    assert sum(1 for _ in _all_numbers(data)) > 500
    text = md.read_text()
    assert "Pixel-RR" in text and "MR" in text and "cmp-grid.png" in text
    assert "output = input (floor)" in text and "real target photos (ceiling)" in text


def write_aligned(root: Path, n_people: int = 6, size: int = 16) -> Path:
    """A `pixelfes prepare`-style folder (crops + manifest) of generated neutral/happy pairs."""
    from pixelfes.datasets.readers import ALIGNED_FORMAT

    X, T, groups = make_people(n_people=n_people, pairs_each=1, size=size)
    items = []
    for i, (x, t, g) in enumerate(zip(X, T, groups, strict=True)):
        for img, expr in ((x, "neutral"), (t, "happy")):
            name = f"crops/{g}/{expr}{i}.png"
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(root / name)
            items.append({"file": name, "identity": g, "expression": expr, "source": name,
                          "landmarks": np.zeros((68, 2)).tolist()})
    manifest = {"format": ALIGNED_FORMAT, "format_version": 1, "template": "pixelfes-eyes-nose-v1",
                "size": size, "margin": 1.0, "channels": 3, "layout": "generic",
                "images": items, "pairs": None, "failures": []}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_cv_command_end_to_end(tmp_path, capsys):
    data = write_aligned(tmp_path / "aligned")
    plot = tmp_path / "cv.png"
    assert main(["cv", "--data", str(data), "--to", "happy", "--model", "pixel-kr",
                 "--lams", "0.01,0.4,10", "--sigmas", "1,3", "--folds", "3", "--margin", "1",
                 "--size", "16", "--plot", str(plot), "--no-progress"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert set(out["best_params"]) == {"lam", "sigma"} and len(out["rows"]) == 6
    assert out["paper"] == {"lam": 0.4, "sigma": 3.0}
    assert "best:" in captured.err and "<- best" in captured.err and "paper's choice" in captured.err
    assert plot.is_file()


def test_evaluate_command_end_to_end(tmp_path, capsys, monkeypatch):
    data = write_aligned(tmp_path / "aligned")
    monkeypatch.setattr(Scorers, "default", classmethod(lambda cls, *a, **k: stub_scorers()))
    report = tmp_path / "report"
    assert main(["evaluate", "--data", str(data), "--to", "happy", "--models", "pixel-rr,mr:k=1",
                 "--folds", "3", "--report", str(report), "--size", "16", "--margin", "1",
                 "--curve-strengths", "0,1.5", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert Path(out["report"]).is_file() and Path(out["results"]).is_file()
    res = json.loads(Path(out["results"]).read_text())
    assert {"Pixel-RR@1", "MR (k=1)@1", "Pixel-RR@1.5"} <= set(res["direction"]["methods"])
    assert (report / "comparison-grid.png").is_file()


def test_evaluate_command_rejects_unknown_model(tmp_path, capsys):
    data = write_aligned(tmp_path / "aligned")
    assert main(["evaluate", "--data", str(data), "--to", "happy", "--models", "nope",
                 "--report", str(tmp_path / "r")]) == 1
    assert "unknown model type 'nope'" in capsys.readouterr().err


@pytest.mark.realdata
@pytest.mark.slow
def test_real_data_smoke(data_dir, tmp_path):
    """Ten London people, two folds, Pixel-RR, with the real scorers (fer, dlib)."""
    london = data_dir / "london-face-set"
    if not london.is_dir():
        pytest.skip(f"{london} not found")
    pairs = proto.aligned_pairs(london, "neutral", "happy", cache_dir=tmp_path / "cache")
    assert pairs.alignment == pixelfes.DEFAULT_ALIGNMENT
    keep = [i for i, g in enumerate(pairs.identities) if g in sorted(set(pairs.identities))[:10]]
    X, T, ids = pairs.X[keep], pairs.T[keep], [pairs.identities[i] for i in keep]
    res = evaluate_direction(X, T, ids, ["pixel-rr"], n_folds=2, alignment=pairs.alignment,
                             scorers=Scorers.default(pairs.alignment, facex=False))
    s = res.summary()
    assert s["real target"]["fer.accuracy"]["mean"] > s["input"]["fer.accuracy"]["mean"]
    assert s["input"]["identity.distance"]["mean"] < 0.6
    # the model it ran: each held-out output is Pixel-RR fitted on that fold's other people
    train, test = res.splits[0]
    want = PixelRR(lam=0.4).fit(X[train], T[train]).predict(X[test])
    assert_array_equal(res.outputs[res.key("Pixel-RR")][test], want)
    # trained on five people it keeps the person better than their mean face does
    assert s[res.key("Pixel-RR")]["identity.distance"]["mean"] < \
        s["mean target"]["identity.distance"]["mean"]
