"""The package's licence metadata names files that exist, and every vendored model has its terms."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_licence_file_glob_matches_a_file():
    globs = _project()["license-files"]
    assert "LICENSE" in globs
    for pattern in globs:
        assert sorted(ROOT.glob(pattern)), f"license-files entry {pattern!r} matches nothing"


def test_every_vendored_model_folder_has_its_licence():
    # a folder of third-party weights without its terms beside it would ship unlicensed
    assets = ROOT / "src" / "pixelfes" / "assets"
    models = {p.parent for p in assets.rglob("*") if p.suffix in {".tflite", ".bin", ".svm", ".npz"}}
    assert models, "no vendored model found: the test's suffixes are stale"
    for folder in sorted(models):
        assert (folder / "LICENSE").is_file(), f"{folder.relative_to(ROOT)} has no LICENSE"


def test_licence_expression_names_each_vendored_licence():
    expression = _project()["license"]
    texts = {"MIT License": "MIT", "Boost Software License": "BSL-1.0", "Apache License": "Apache-2.0"}
    for path in (ROOT / "src" / "pixelfes" / "assets").glob("*/LICENSE"):
        head = path.read_text()[:200]
        spdx = [v for k, v in texts.items() if k in head]
        assert spdx, f"{path}: licence not recognised; add it to the expression and to this test"
        assert spdx[0] in expression.split(" AND "), f"{path}: {spdx[0]} missing from {expression!r}"
