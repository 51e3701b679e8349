"""How the CLI reports: user errors plainly, our bugs as internal errors, --debug, warnings, options."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixelfes._errors import describe, is_user_error
from pixelfes.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("spec, needle", [
    ("pixel-kr:sigma=abc", "pixel-kr:sigma='abc' must be a number"),
    ("pixel-kr:bogus=1", "pixel-kr has no parameter 'bogus'"),
    ("pixel-kr:sigma=inf", "must be finite"),
    ("shape-texture:texture=3", "must be a name"),
    ("nope", "unknown model type 'nope'"),
    ("pixel-kr:sigma", "must be KEY=VALUE"),
])
def test_evaluate_model_specs_are_checked_first(spec, needle, tmp_path, capsys):
    code = main(["evaluate", "--data", str(tmp_path / "missing"), "--to", "happy", "--models", spec,
                 "--report", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and needle in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def _boom(exc):
    def raiser(*args, **kwargs):
        raise exc
    return raiser


def test_unexpected_exception_is_an_internal_error_with_the_hint(monkeypatch, capsys):
    monkeypatch.setattr("pixelfes.zoo.model_path", _boom(TypeError("boom")))
    monkeypatch.delenv("PIXELFES_DEBUG", raising=False)
    assert main(["info", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("internal error: TypeError: boom") and "--debug" in err
    assert "PIXELFES_DEBUG=1" in err and "Traceback" not in err


@pytest.mark.parametrize("how", ["before", "after", "env"])
def test_debug_shows_the_traceback(how, monkeypatch, capsys):
    monkeypatch.setattr("pixelfes.zoo.model_path", _boom(TypeError("boom")))
    args = ["info", "x"]
    if how == "before":
        args = ["--debug", *args]
    elif how == "after":
        args = [*args, "--debug"]
    else:
        monkeypatch.setenv("PIXELFES_DEBUG", "1")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "TypeError: boom" in err


def test_a_numpy_value_error_is_internal_a_pixelfes_one_is_not(monkeypatch, capsys):
    def numpy_fails(*args):
        return np.zeros(3) + np.zeros(4)
    monkeypatch.setattr("pixelfes.zoo.model_path", numpy_fails)
    assert main(["info", "x"]) == 1
    assert capsys.readouterr().err.startswith("internal error: ValueError")
    assert main(["train", "--model", "pixel-rr"]) == 1  # our own ValueError: the user's to fix
    err = capsys.readouterr().err
    assert err.startswith("error: give -o MODEL.safetensors") and "internal" not in err


def test_error_classes():
    from pixelfes import ModelFileError
    from pixelfes.face import NoFaceError

    assert is_user_error(FileNotFoundError(2, "No such file", "x.png"))
    assert is_user_error(ModelFileError("bad"))
    assert is_user_error(NoFaceError("p.png"))
    assert is_user_error(ModuleNotFoundError("No module named 'matplotlib'"))
    assert not is_user_error(KeyError("learned"))
    assert not is_user_error(AttributeError("x"))
    assert describe(KeyError("learned")).startswith("internal error: KeyError")


def test_warnings_are_one_clean_line(monkeypatch, capsys):
    from pixelfes.datasets import FailedImageWarning
    from pixelfes.zoo import model_path as real

    def warn_then_find(name):
        warnings.warn("no face in\n   a.png", FailedImageWarning, stacklevel=2)
        return real(name)
    monkeypatch.setattr("pixelfes.zoo.model_path", warn_then_find)
    assert main(["info", "neutral-to-happy-pixel-rr"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: no face in a.png"]


def test_no_face_message_names_the_options(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((80, 80, 3), 90, np.uint8)).save(blank)
    assert main(["synthesize", str(blank), "--to", "happy", "-o", str(tmp_path / "o.png"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "no face found" in err and "--no-detect" in err and "--min-face" in err


def test_every_command_takes_q_quiet_and_no_progress():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        opts = p._option_string_actions
        for flag in ("-q", "--quiet", "--no-progress", "--debug", "--max-pixels"):
            assert flag in opts, (name, flag)
        assert opts["-q"].dest == opts["--no-progress"].dest, name


def test_from_has_a_readable_metavar():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("synthesize", "train", "evaluate", "cv"):
        text = sub.choices[name].format_help()
        assert "FROM_" not in text and "--from EXPRESSION" in text, name


def test_docs_say_python_and_venv_and_gitignore_the_quick_start_output():
    readme = (REPO / "README.md").read_text()
    assert "Python 3.11" in readme and "venv" in readme
    assert "Safety and limits" in readme and "PIXELFES_MAX_PIXELS" in readme
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert "/grid.png" in ignored


def test_a_run_builds_only_its_command_with_the_same_options_and_help():
    """main() builds just the named command's parser (cold start); it parses and helps exactly
    as that command in the whole parser; top-level help and unknown commands get the whole."""
    from pixelfes.cli import _COMMANDS, _command_of

    assert _command_of(["synthesize", "a.jpg"]) == "synthesize"
    assert _command_of(["--debug", "--max-pixels", "9", "--max-pixels=9", "train"]) == "train"
    assert _command_of(["--max-pixels", "train"]) is None  # "train" is the budget's value
    assert _command_of(["-h", "synthesize"]) is None and _command_of(["synthesise"]) is None
    assert _command_of([]) is None
    whole = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in _COMMANDS:
        alone = next(a for a in build_parser(name)._actions if a.dest == "command").choices
        assert list(alone) == [name]
        assert alone[name].format_help() == whole[name].format_help(), name
