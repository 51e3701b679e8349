"""Installing models: plain names only, no silent replacement, concurrency, no temp-file litter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from pixelfes._atomic import TEMP_MARK, atomic_path, remove_stale_temps, remove_temps_of
from pixelfes.cli import main
from pixelfes.zoo import ModelExistsError, check_model_name, find_model, install_model


@pytest.fixture
def user_dir(_own_model_folder):
    return _own_model_folder


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/abs", "a/b", "..", ".hidden", "",
                                  "a\\b", "x" * 101, "name with space", "..x"])
def test_only_plain_names(name, tiny_model_path, user_dir, tmp_path, capsys):
    assert main(["models", "--add", str(tiny_model_path), "--name", name]) == 1
    assert "plain name" in capsys.readouterr().err
    assert list(user_dir.iterdir()) == []
    assert not (tmp_path.parent / "escaped.safetensors").exists()
    with pytest.raises(ValueError, match="plain name"):
        check_model_name(name)


def test_default_name_from_hostile_metadata_is_plain(tiny_model_path, tmp_path, user_dir):
    from conftest import rewrite_model

    def edit(meta):
        meta["info"]["source"] = "../../x"
        return meta
    bad = rewrite_model(tiny_model_path, tmp_path / "m.safetensors", meta_edit=edit)
    dest = install_model(bad)
    assert dest.parent == user_dir and "/" not in dest.name


def test_add_twice_is_refused_unless_overwrite(tiny_model_path, user_dir, capsys):
    assert main(["models", "--add", str(tiny_model_path), "--name", "mine"]) == 0
    first = (user_dir / "mine.safetensors").read_bytes()
    assert main(["models", "--add", str(tiny_model_path), "--name", "mine"]) == 1
    assert "already in your model folder" in capsys.readouterr().err
    assert main(["models", "--add", str(tiny_model_path), "--name", "mine", "--overwrite"]) == 0
    assert (user_dir / "mine.safetensors").read_bytes() == first


def test_bundled_names_are_not_hidden_silently(tiny_model_path, user_dir, capsys):
    assert main(["models", "--add", str(tiny_model_path), "--name", "neutral-to-happy"]) == 1
    assert "bundled model" in capsys.readouterr().err
    assert main(["models", "--add", str(tiny_model_path), "--name", "neutral-to-happy",
                 "--overwrite"]) == 0
    capsys.readouterr()
    assert main(["models"]) == 0
    assert "hide the bundled model(s) of the same name: neutral-to-happy" in capsys.readouterr().out


def test_train_install_twice_needs_overwrite(tmp_path, user_dir, capsys, rng):
    from PIL import Image

    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(tmp_path / side / f"{i}.png")
    cmd = ["train", "--source", str(tmp_path / "a"), "--target", str(tmp_path / "b"), "--to", "sad",
           "--install", "-q"]
    assert main(cmd) == 0
    assert (user_dir / "neutral-to-sad-pixel-rr.safetensors").is_file()
    assert main(cmd) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert main([*cmd, "--overwrite"]) == 0
    assert main([*cmd, "--name", "other"]) == 0 and (user_dir / "other.safetensors").is_file()
    out = tmp_path / "m.safetensors"
    assert main([*cmd[:-2], "-o", str(out), "-q"]) == 0
    assert main([*cmd[:-2], "-o", str(out), "-q"]) == 1
    assert "already exists" in capsys.readouterr().err


def _no_temps(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if TEMP_MARK in p.name]


def test_concurrent_installs_of_one_name(tiny_model_path, user_dir):
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: install_model(tiny_model_path, "same", overwrite=True),
                                range(48)))
    assert all(r == user_dir / "same.safetensors" for r in results) and _no_temps(user_dir)

    def try_new(_):
        try:
            return install_model(tiny_model_path, "fresh")
        except ModelExistsError:
            return None
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(try_new, range(48)))
    assert sum(r is not None for r in results) == 1 and _no_temps(user_dir)
    find_model("neutral", "sad", "fresh")  # a whole, valid model


def test_concurrent_cli_installs_in_processes(tiny_model_path, user_dir):
    env = {**os.environ, "PIXELFES_MODELS": str(user_dir),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    procs = [subprocess.Popen([sys.executable, "-m", "pixelfes.cli", "models", "--add",
                               str(tiny_model_path), "--name", "same", "--overwrite"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(6)]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0] * 6 and _no_temps(user_dir)


def test_sigterm_during_a_write_leaves_no_temp_file(tmp_path):
    script = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / 'src')!r})
from pixelfes.cli import _sigterm_unwinds, Terminated
from pixelfes._atomic import atomic_path
try:
    with _sigterm_unwinds():
        with atomic_path({str(tmp_path / 'out.bin')!r}) as tmp:
            tmp.write_bytes(b"partial")
            print("writing", flush=True)
            time.sleep(30)
except Terminated:
    sys.exit(143)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_files_are_swept(tmp_path):
    old = tmp_path / f".x.png{TEMP_MARK}abc.png"
    young = tmp_path / f".y.png{TEMP_MARK}def.png"
    other = tmp_path / ".keep"
    for p in (old, young, other):
        p.write_bytes(b"0")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert remove_stale_temps(tmp_path) == 1
    assert not old.exists() and young.exists() and other.exists()


def test_temps_of_named_outputs_are_removed_whatever_their_age(tmp_path):
    (tmp_path / "sub").mkdir()
    ours = [tmp_path / f".a.jpg{TEMP_MARK}1.jpg", tmp_path / "sub" / f".b.png{TEMP_MARK}2.png"]
    kept = [tmp_path / f".aa.jpg{TEMP_MARK}3.jpg", tmp_path / f".c.jpg{TEMP_MARK}4.jpg",
            tmp_path / f".a.jpg.bak{TEMP_MARK}5.bak",
            tmp_path / ".a.jpg", tmp_path / "a.jpg"]
    for p in ours + kept:
        p.write_bytes(b"0")
    assert remove_temps_of([tmp_path / "a.jpg", tmp_path / "sub" / "b.png",
                            tmp_path / "gone" / "x.jpg"]) == 2
    assert not any(p.exists() for p in ours) and all(p.exists() for p in kept)


def test_atomic_path_temp_names_are_unique_and_cleaned_on_error(tmp_path):
    names = set()
    for _ in range(3):
        with atomic_path(tmp_path / "f.bin") as tmp:
            names.add(tmp.name)
            tmp.write_bytes(b"1")
    assert len(names) == 3
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "g.bin") as tmp:
        tmp.write_bytes(b"1")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
    with pytest.raises(FileExistsError), atomic_path(tmp_path / "f.bin", replace=False) as tmp:
        tmp.write_bytes(b"2")
    assert (tmp_path / "f.bin").read_bytes() == b"1" and _no_temps(tmp_path)
