"""Progress bars: drawn for several photos, absent (and tqdm never imported) for one or with -q."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from pixelfes._progress import progress_bar, write_above

SRC = Path(__file__).resolve().parents[1] / "src"


def test_a_hidden_bar_draws_nothing_and_a_shown_one_counts(capsys) -> None:
    with progress_bar(3, "doing", "thing", show=False) as bar:
        bar.update(2)
        with write_above(bar):
            print("a line", file=sys.stderr)
    assert capsys.readouterr().err == "a line\n"
    with progress_bar(3, "doing", "thing", show=True) as bar:
        bar.update(2)
        with write_above(bar):
            print("between", file=sys.stderr)
        assert bar.n == 2
    err = capsys.readouterr().err
    assert "between" in err and "doing" in err and "2/3" in err


def test_one_photo_loads_neither_tqdm_nor_every_image_plugin(tmp_path) -> None:
    """A cold ``synthesize`` of one photo (no face: the flat grey) imports no tqdm (~30 ms)
    and only Pillow's common plugins (all of them: ~30 ms), and still writes a WebP."""
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "in.jpg")
    code = (
        "import sys\n"
        "from pixelfes.cli import main\n"
        f"main(['synthesize', {str(tmp_path / 'in.jpg')!r}, '--to', 'happy', '--no-detect', "
        f"'-o', {str(tmp_path / 'out.jpg')!r}])\n"
        "print(int('tqdm' in sys.modules), int('PIL.WebPImagePlugin' in sys.modules))\n"
        "from pixelfes.imageio import image_format\n"
        "print(image_format('x.webp'), image_format('x.JPG'), image_format('x.tif'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120)
    lines = out.stdout.split("\n")
    assert lines[0] == "0 0", out.stderr
    assert lines[1] == "WEBP JPEG TIFF", out.stderr
    assert (tmp_path / "out.jpg").exists()
