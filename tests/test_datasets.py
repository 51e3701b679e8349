"""Data set readers on tiny generated trees, prepare/load_pairs, identity-disjoint splits."""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from conftest import real_data
from pixelfes.alignment import Alignment
from pixelfes.commands import prepare as prepare_cmd
from pixelfes.datasets import (
    DatasetLayoutError,
    FailedImageWarning,
    detect_layout,
    identity_folds,
    load_pairs,
    open_dataset,
    prepare,
    split_identities,
)


def _touch(root: Path, *names: str) -> None:
    for n in names:
        p = root / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def test_kdef(tmp_path: Path) -> None:
    _touch(tmp_path, "AF01/AF01NES.JPG", "AF01/AF01HAS.JPG", "BF01/BF01NES.JPG", "BF01/BF01HAS.JPG",
           "AM02/AM02NES.JPG", "AM02/AM02HAS.JPG", "AM02/AM02HAHL.JPG", "AM02/AM02AFS.JPG")
    ds = open_dataset(tmp_path)
    assert ds.layout == "kdef"
    assert ds.identities() == ["F01", "M02"]
    assert "fearful" in ds.expressions()
    pairs = ds.pairs("neutral", "happy")
    assert len(pairs) == 4 + 1  # F01: 2 sessions x 2; M02: 1 (half-left view ignored)
    assert len(ds.pairs("NE", "HA", combine="zip")) == 3
    assert len(ds.pairs("neutral", "happy", combine="first")) == 2
    assert all(p.identity == p.source.name[1:4] == p.target.name[1:4] for p in pairs)


def test_rafd(tmp_path: Path) -> None:
    _touch(tmp_path, "Rafd090_01_Caucasian_female_happy_frontal.jpg",
           "Rafd090_01_Caucasian_female_neutral_frontal.jpg",
           "Rafd090_01_Caucasian_female_neutral_left.jpg",
           "Rafd045_01_Caucasian_female_neutral_frontal.jpg",
           "Rafd090_02_Moroccan_male_neutral_frontal.jpg",
           "Rafd090_02_Moroccan_male_contemptuous_frontal.jpg")
    ds = open_dataset(tmp_path)
    assert ds.layout == "rafd"
    assert [tuple(p)[0] for p in ds.pairs("neutral", "happy")] == ["01"]
    assert any("contemptuous" in r for _, r in ds.skipped)


def test_jaffe(tmp_path: Path) -> None:
    _touch(tmp_path, "KA.NE1.26.tiff", "KA.NE2.27.tiff", "KA.NE3.28.tiff", "KA.HA1.29.tiff",
           "KA.HA2.30.tiff", "KA.HA3.31.tiff", "KL.NE1.155.tiff", "KL.SU1.164.tiff")
    ds = open_dataset(tmp_path)
    assert ds.layout == "jaffe" and ds.identities() == ["KA", "KL"]
    assert len(ds.pairs("neutral", "happy")) == 9  # all 3 x 3 combinations
    assert len(ds.pairs("neutral", "happy", combine="zip")) == 3
    assert len(ds.pairs("neutral", "surprise")) == 1


def test_ckplus(tmp_path: Path) -> None:
    imgs = "cohn-kanade-images/S005/001/S005_001_{:08d}.png"
    _touch(tmp_path, *(imgs.format(i) for i in range(1, 5)),
           "cohn-kanade-images/S010/002/S010_002_00000001.png",
           "cohn-kanade-images/S010/002/S010_002_00000002.png")
    lab = tmp_path / "Emotion/S005/001/S005_001_00000004_emotion.txt"
    lab.parent.mkdir(parents=True)
    lab.write_text("   5.0000000e+00\n")
    ds = open_dataset(tmp_path)
    assert ds.layout == "ckplus"
    pairs = ds.pairs("neutral", "happy")
    assert len(pairs) == 1
    assert pairs[0].source.name.endswith("01.png") and pairs[0].target.name.endswith("04.png")
    assert any("no emotion label" in r for _, r in ds.skipped)  # S010 sequence not silently lost


def test_generic(tmp_path: Path) -> None:
    _touch(tmp_path, "alice/neutral.jpg", "alice/happy.jpg", "alice/happy_2.jpg", "bob/NE.png",
           "bob/smile.png", "bob/notes.png")
    ds = open_dataset(tmp_path)
    assert ds.layout == "generic"
    assert sorted(p.identity for p in ds.pairs()) == ["alice", "alice", "bob"]
    assert [p.name for p, _ in ds.skipped] == ["notes.png"]


def test_paired_folders(tmp_path: Path) -> None:
    _touch(tmp_path, "trainA/1.jpg", "trainA/2.jpg", "trainA/3.jpg", "trainB/1.jpg", "trainB/2.png",
           "testA/9.jpg", "testB/9.jpg")
    ds = open_dataset(tmp_path)
    assert ds.layout == "paired-folders"
    pairs = ds.pairs()
    assert [(p.source.name, p.target.name) for p in pairs] == [("1.jpg", "1.jpg"), ("2.jpg", "2.png"),
                                                               ("9.jpg", "9.jpg")]
    assert [p.name for p, _ in ds.skipped] == ["3.jpg"]


def test_csv_manifest(tmp_path: Path) -> None:
    _touch(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    (tmp_path / "pairs.csv").write_text("source,target,identity\na.jpg,b.jpg,p1\nc.jpg,b.jpg,p2\n")
    for where in (tmp_path, tmp_path / "pairs.csv"):
        ds = open_dataset(where)
        assert ds.layout == "csv"
        assert [(p.identity, p.source.name) for p in ds.pairs()] == [("p1", "a.jpg"), ("p2", "c.jpg")]
    (tmp_path / "pairs.csv").write_text("src,dst\na.jpg,b.jpg\n")
    with pytest.raises(DatasetLayoutError, match="source"):
        open_dataset(tmp_path / "pairs.csv")


def test_london_layout(tmp_path: Path) -> None:
    _touch(tmp_path, "neutral_front/001_03.jpg", "neutral_front/001_03.tem", "neutral_front/002_03.jpg",
           "smiling_front/001_08.jpg", "smiling_front/002_08.jpg")
    ds = open_dataset(tmp_path)
    assert ds.layout == "london"
    assert [(p.identity, p.source.name, p.target.name) for p in ds.pairs("neutral", "happy")] == [
        ("001", "001_03.jpg", "001_08.jpg"), ("002", "002_03.jpg", "002_08.jpg")]
    assert len(ds.pairs("happy", "neutral")) == 2


def test_unknown_layout(tmp_path: Path) -> None:
    _touch(tmp_path, "random.jpg")
    with pytest.raises(DatasetLayoutError, match="cannot tell the layout"):
        detect_layout(tmp_path)
    with pytest.raises(FileNotFoundError):
        open_dataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="unknown expression"):
        open_dataset(tmp_path, layout="generic").pairs("neutral", "bored")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_identities_is_disjoint_and_fixed(seed: int) -> None:
    ids = [f"p{i:02d}" for i in range(23) for _ in range(3)]  # 3 samples per person
    s = split_identities(ids, 0.25, seed=seed)
    assert not set(s.train) & set(s.test)
    assert set(s.train) | set(s.test) == set(ids) and len(s.test) == 6
    assert split_identities(ids, 0.25, seed=seed) == s
    tr, te = s.indices(ids)
    assert not {ids[i] for i in tr} & {ids[i] for i in te} and len(tr) + len(te) == len(ids)
    folds = split_identities(ids, n_folds=5, seed=seed)
    assert folds == identity_folds(ids, 5, seed=seed)
    tests = [set(f.test) for f in folds]
    assert set().union(*tests) == set(ids) and sum(map(len, tests)) == 23
    for f in folds:
        assert not set(f.train) & set(f.test)
    with pytest.raises(ValueError, match="at least 2 distinct"):
        split_identities(["a", "a"])


# --- aligning real pixels: astronaut faces written as a tiny data set --------------------------

@pytest.fixture(scope="module")
def face_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    skd = pytest.importorskip("skimage.data", reason="scikit-image provides the astronaut photo")
    img = skd.astronaut()
    root = tmp_path_factory.mktemp("faces")
    for who, shift in (("ann", 0), ("ben", 12)):
        (root / who).mkdir()
        Image.fromarray(np.roll(img, shift, axis=1)).save(root / who / "neutral.png")
        Image.fromarray(np.roll(img, -shift, axis=0)).save(root / who / "happy.png")
    (root / "cat").mkdir()
    Image.fromarray(np.full((120, 120, 3), 128, np.uint8)).save(root / "cat" / "neutral.png")
    Image.fromarray(img).save(root / "cat" / "happy.png")
    return root


A64 = Alignment(size=64, margin=1.0)


def test_prepare_and_read_back(face_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "aligned"
    report = prepare(face_tree, out, A64, progress=False)
    assert report.n_images == 6 and report.n_aligned == 5
    assert [p.parent.name for p, _ in report.failures] == ["cat"]  # listed, not dropped silently
    assert "no face found" in (out / "failures.csv").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["template"] == "pixelfes-eyes-nose-v1" and manifest["size"] == 64
    item = manifest["images"][0]
    assert np.asarray(item["landmarks"]).shape == (68, 2) and np.asarray(item["matrix"]).shape == (2, 3)
    assert {"identity", "expression", "source", "score"} <= item.keys()
    assert all((out / it["file"]).is_file() for it in manifest["images"])
    aligned = open_dataset(out)
    assert aligned.layout == "aligned" and aligned.identities() == ["ann", "ben", "cat"]
    assert len(aligned.pairs()) == 2
    cached = load_pairs(out, progress=False)
    with pytest.warns(FailedImageWarning, match="cat"):
        fresh = load_pairs(face_tree, alignment=A64, progress=False)
    assert cached.identities == fresh.identities == ["ann", "ben"]
    assert cached.X.shape == (2, 64, 64, 3) and cached.landmarks_source.shape == (2, 68, 2)
    assert cached.alignment == fresh.alignment == A64  # pairs carry their alignment
    assert_array_equal(cached.X, fresh.X)
    assert_array_equal(cached.T, fresh.T)
    np.testing.assert_allclose(cached.landmarks_target, fresh.landmarks_target, atol=1e-3)
    with pytest.raises(ValueError, match="prepared with 64 px canvas, margin 1"):
        load_pairs(out, alignment=Alignment(size=128, margin=1.0), progress=False)
    again = prepare(face_tree, out, A64, progress=False)
    assert again.n_reused == 5 and again.n_aligned == 0


def test_grayscale_dataset_gives_one_channel(face_tree: Path, tmp_path: Path) -> None:
    img = np.asarray(Image.open(face_tree / "ann" / "neutral.png").convert("L"))
    Image.fromarray(img).save(tmp_path / "KA.NE1.1.tiff")
    Image.fromarray(np.roll(img, 5, axis=1)).save(tmp_path / "KA.HA1.2.tiff")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = load_pairs(tmp_path, alignment=Alignment(size=48, margin=1.0), progress=False)
    assert res.X.shape == (1, 48, 48, 1) and res.X.dtype == np.uint8


def test_prepare_command(face_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="pixelfes")
    sub = parser.add_subparsers()
    p = prepare_cmd.add_parser(sub)
    assert "examples:" in p.format_help()
    args = parser.parse_args(["prepare", str(face_tree), "-o", str(tmp_path / "o"), "--size", "48",
                              "--no-progress"])
    assert prepare_cmd.run(args) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["aligned"] == 5
    assert "failed:" in captured.err and "cat" in captured.err
    args.strict = True
    assert prepare_cmd.run(args) == 1
    bad = parser.parse_args(["prepare", str(tmp_path / "nothing"), "-o", str(tmp_path / "x")])
    assert prepare_cmd.run(bad) == 2



@pytest.mark.realdata
def test_real_reader_counts() -> None:
    london = open_dataset(real_data("london-face-set"))
    assert london.layout == "london" and len(london.pairs("neutral", "happy")) == 82
    jaffe = open_dataset(real_data("jaffe"))
    assert jaffe.layout == "jaffe" and len(jaffe.identities()) == 8
    assert len(jaffe.expressions()) == 7
