"""Where results go: output names planned once, before any work, so no file is lost.

Rules (shared by ``synthesize`` and ``apply``):

- ``-o`` is a folder when it is an existing folder or ends with ``/``, or when there is
  more than one output; then each output is named after its input. Inputs sharing a base
  name (``a/photo.png``, ``b/photo.png``) get distinct names (``a_photo``, ``b_photo``).
- Many outputs and an ``-o`` that names an image file (``x.jpg``) is refused.
- No output may replace one of the inputs, or any existing file, unless the user
  passes ``--overwrite``; the check covers every output before the first is computed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .imageio import image_format

#: Extensions whose format pixelfes writes back unchanged; other inputs are written as PNG.
KEEP_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")
_MAX_LISTED = 5


class OutputError(ValueError):
    """The outputs asked for would lose a file or cannot be written; nothing was done."""


def names_folder(output: str | os.PathLike[str]) -> bool:
    """Whether ``-o`` names a folder: an existing one, or a path ending with a separator."""
    text = os.fspath(output)
    return Path(text).is_dir() or text.endswith(("/", os.sep))


def _looks_like_file(output: Path) -> bool:
    return not output.is_dir() and (output.is_file() or output.suffix.lower() in
                                    {*KEEP_SUFFIXES, ".gif", ".ppm", ".pgm", ".jp2"})


def distinct_stems(inputs: Sequence[Path]) -> list[str]:
    """One base name per input, distinct: the stem, with parent folders added where stems clash.

    ``[a/photo.png, b/photo.png, c.jpg]`` -> ``["a_photo", "b_photo", "c"]``; inputs that
    still clash (``photo.png``, ``photo.jpg``) get their extension, then a number.
    """
    paths = [Path(p) for p in inputs]
    folders = [p.resolve().parent.parts[1:] for p in paths]  # [1:]: no root / drive
    names = [p.stem for p in paths]
    for depth in range(1, max((len(f) for f in folders), default=0) + 1):
        clash = _repeated(names)
        if not clash:
            break
        names = ["_".join([*folders[i][-depth:], p.stem]) if names[i] in clash else names[i]
                 for i, p in enumerate(paths)]
    clash = _repeated(names)
    names = [f"{n}_{p.suffix.lstrip('.').lower() or 'noext'}" if n in clash else n
             for n, p in zip(names, paths, strict=True)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def _repeated(names: Sequence[str]) -> set[str]:
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return {n for n, c in counts.items() if c > 1}


def unique_inputs(inputs: Sequence[Path]) -> list[Path]:
    """``inputs`` without repeats of the same file (kept in order)."""
    seen: set[str] = set()
    out = []
    for p in inputs:
        key = str(Path(p).resolve())
        if key not in seen:
            seen.add(key)
            out.append(Path(p))
    return out


def output_suffix(photo: Path) -> str:
    """The photo's own extension if pixelfes writes that format, else ``.png``."""
    return photo.suffix if photo.suffix.lower() in KEEP_SUFFIXES else ".png"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: Sequence[Path], inputs: Sequence[Path], overwrite: bool) -> None:
    """Refuse (one :class:`OutputError` listing every problem) before anything is written.

    An output may not be written twice, replace an input, or replace an existing file
    unless ``overwrite``; a folder is never replaced; the output folder must be creatable.
    """
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for out in outputs:
        key = str(out.resolve())
        if key in seen:
            problems.append(f"{out} would be written twice")
        seen[key] = out
        if out.is_dir():
            problems.append(f"{out} is a folder; it cannot be replaced by an image")
        elif any(_same_file(out, src) for src in inputs):
            if not overwrite:
                problems.append(f"{out} is one of the inputs; writing it would replace the "
                                "original (choose another -o, or add --overwrite)")
        elif out.exists() and not overwrite:
            problems.append(f"{out} already exists (add --overwrite to replace it)")
        parent = out.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            problems.append(f"cannot create a folder for {out}: {parent} is a file")
    if problems:
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        raise OutputError("nothing was written:\n  " + "\n  ".join(shown)
                          + (f"\n  ... and {more} more" if more else ""))


def synthesis_outputs(photos: Sequence[Path], output: str | os.PathLike[str],
                      targets: Sequence[str], grid: bool) -> list[dict[str, Path]]:
    """For each photo, ``{target: output path}`` (``{"grid": path}`` with ``grid``).

    Raises :class:`OutputError` (before any work) when ``-o`` cannot hold the outputs.
    """
    out = Path(output)
    per_photo = 1 if grid else len(targets)
    many = len(photos) * per_photo > 1
    if not many and not names_folder(output):
        image_format(out)  # a bad extension fails now, not after the work
        if str(out.parent) and not out.parent.is_dir():
            raise OutputError(f"the folder of -o {out} ({out.parent}) does not exist; "
                              "create it first, or end -o with / to write into a new folder")
        return [{("grid" if grid else targets[0]): out}]
    if many and _looks_like_file(out):
        raise OutputError(
            f"-o {out} names a file, but {len(photos) * per_photo} images will be written "
            f"({len(photos)} photo(s) x {per_photo}); give a folder, e.g. -o {out.with_suffix('')}/")
    stems = distinct_stems(list(photos))
    plans = []
    for photo, stem in zip(photos, stems, strict=True):
        if grid:
            plans.append({"grid": out / f"{stem}_grid.png"})
        else:
            plans.append({t: out / f"{stem}_{t}{output_suffix(photo)}" for t in targets})
    return plans


def crop_outputs(crops: Sequence[Path], folder: str | os.PathLike[str]) -> list[Path]:
    """One PNG per crop in ``folder``, named after the crop (distinct when base names clash)."""
    out = Path(folder)
    if _looks_like_file(out):
        raise OutputError(f"-o {out} names a file; apply writes one PNG per crop into a folder "
                          f"(e.g. -o {out.with_suffix('')}/)")
    return [out / f"{stem}.png" for stem in distinct_stems(list(crops))]
