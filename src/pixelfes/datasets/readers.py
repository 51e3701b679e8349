"""Readers for the data set layouts pixelfes knows, and auto-detection of a folder's layout."""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..expressions import normalize_expression
from .base import IMAGE_EXTENSIONS, Dataset, DatasetLayoutError, ImageRecord

__all__ = ["LAYOUTS", "open_dataset"]

ALIGNED_FORMAT = "pixelfes-aligned"

_KDEF = re.compile(
    r"^(?P<session>[AB])(?P<sex>[FM])(?P<id>\d{2})(?P<expr>AF|AN|DI|HA|NE|SA|SU)"
    r"(?P<view>S|HL|HR|FL|FR)\.\w+$", re.IGNORECASE)
_RAFD = re.compile(
    r"^Rafd(?P<angle>\d{3})_(?P<id>\d+)_(?P<eth>[A-Za-z]+)_(?P<sex>female|male)_"
    r"(?P<expr>[a-z]+)_(?P<gaze>frontal|left|right)\.\w+$", re.IGNORECASE)
_JAFFE = re.compile(r"^(?P<id>[A-Z]{2})\.(?P<expr>[A-Z]{2})(?P<k>\d)\.(?P<n>\d+)\.\w+$",
                    re.IGNORECASE)
_CK = re.compile(r"^(?P<subj>S\d{3})_(?P<seq>\d{3})_(?P<frame>\d{8})\.\w+$", re.IGNORECASE)
_CK_LABEL = re.compile(r"^(?P<subj>S\d{3})_(?P<seq>\d{3})_\d{8}_emotion\.txt$", re.IGNORECASE)
_LONDON = re.compile(r"^(?P<id>\d+)_(?P<k>\d+)\.\w+$")
_GENERIC = re.compile(r"^(?P<expr>[A-Za-z]+)(?:[ _.\-]?(?P<k>\d+))?$")

# CK+ Emotion/*.txt codes (Lucey et al. 2010); 2 = contempt has no pixelfes name
_CK_CODES = {0: "neutral", 1: "angry", 2: None, 3: "disgusted", 4: "fearful", 5: "happy",
             6: "sad", 7: "surprised"}


def _images(root: Path) -> list[Path]:
    """Every image file under ``root`` (recursive, hidden files and folders skipped), sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in filenames:
            if not f.startswith(".") and Path(f).suffix.lower() in IMAGE_EXTENSIONS:
                out.append(Path(dirpath) / f)
    return sorted(out)


def _expr(code: str) -> str | None:
    try:
        return normalize_expression(code)
    except ValueError:
        return None


def read_kdef(root: Path, views: tuple[str, ...] = ("S",)) -> Dataset:
    """KDEF / AKDEF (``AF01NES.JPG``: session, sex, id, expression, view); straight view only.

    Identity is sex + id (``F01``); the two sessions A/B are two takes of each expression.
    """
    recs, skipped = [], []
    for p in _images(root):
        m = _KDEF.match(p.name)
        if not m:
            continue
        if m["view"].upper() not in {v.upper() for v in views}:
            continue
        e = _expr(m["expr"])
        if e is None:  # pragma: no cover - every KDEF code has a name
            skipped.append((p, f"unknown expression code {m['expr']}"))
            continue
        recs.append(ImageRecord(f"{m['sex'].upper()}{m['id']}", e, p, take=m["session"].upper()))
    return Dataset(root, "kdef", recs, skipped=skipped)


def read_rafd(root: Path, angles: tuple[str, ...] = ("090",), gazes: tuple[str, ...] = ("frontal",)
              ) -> Dataset:
    """RaFD (``Rafd090_01_Caucasian_female_happy_frontal.jpg``); frontal camera and gaze only."""
    recs, skipped = [], []
    for p in _images(root):
        m = _RAFD.match(p.name)
        if not m or m["angle"] not in angles or m["gaze"].lower() not in gazes:
            continue
        e = _expr(m["expr"])
        if e is None:
            skipped.append((p, f"expression {m['expr']!r} has no pixelfes name"))
            continue
        recs.append(ImageRecord(m["id"], e, p))
    return Dataset(root, "rafd", recs, skipped=skipped)


def read_jaffe(root: Path) -> Dataset:
    """JAFFE (``KA.HA1.29.tiff``: identity.EXPRk.n); ~3 takes per identity and expression."""
    recs, skipped = [], []
    for p in _images(root):
        m = _JAFFE.match(p.name)
        if not m:
            continue
        e = _expr(m["expr"])
        if e is None:
            skipped.append((p, f"unknown expression code {m['expr']}"))
            continue
        recs.append(ImageRecord(m["id"].upper(), e, p, take=f"{int(m['k']):03d}.{int(m['n']):06d}"))
    return Dataset(root, "jaffe", recs, skipped=skipped)


def read_ckplus(root: Path) -> Dataset:
    """CK+ (``S005/001/S005_001_00000001.png``): first frame neutral, last frame the peak.

    The peak's expression comes from ``*_emotion.txt`` label files found anywhere under
    ``root``; sequences without a label (or labelled contempt) give only their neutral frame
    and are listed in ``skipped``. Pairs stay within a sequence (group = sequence).
    """
    seqs: dict[tuple[str, str], list[Path]] = {}
    labels: dict[tuple[str, str], str | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in filenames:
            m = _CK.match(f)
            if m and Path(f).suffix.lower() in IMAGE_EXTENSIONS:
                seqs.setdefault((m["subj"].upper(), m["seq"]), []).append(Path(dirpath) / f)
                continue
            m = _CK_LABEL.match(f)
            if m:
                text = (Path(dirpath) / f).read_text().strip()
                try:
                    labels[(m["subj"].upper(), m["seq"])] = _CK_CODES.get(int(float(text)))
                except ValueError:
                    labels[(m["subj"].upper(), m["seq"])] = None
    recs, skipped = [], []
    for (subj, seq), frames in sorted(seqs.items()):
        frames.sort()
        recs.append(ImageRecord(subj, "neutral", frames[0], group=seq, take="first"))
        if len(frames) < 2:
            continue
        if (subj, seq) not in labels:
            skipped.append((frames[-1], "no emotion label file for this sequence"))
        elif labels[(subj, seq)] is None:
            skipped.append((frames[-1], "emotion label has no pixelfes name (contempt or unknown)"))
        else:
            recs.append(ImageRecord(subj, labels[(subj, seq)], frames[-1], group=seq, take="last"))
    return Dataset(root, "ckplus", recs, skipped=skipped)


def read_london(root: Path) -> Dataset:
    """London Face Set: ``neutral_front/NNN_03.jpg`` <-> ``smiling_front/NNN_08.jpg``."""
    recs = []
    for sub, expression in (("neutral_front", "neutral"), ("smiling_front", "happy")):
        for p in _images(root / sub):
            m = _LONDON.match(p.name)
            if m:
                recs.append(ImageRecord(m["id"], expression, p, take=m["k"]))
    return Dataset(root, "london", recs)


def read_generic(root: Path) -> Dataset:
    """``DIR/<identity>/<expression>[_k].<ext>`` (``alice/happy.jpg``, ``bob/neutral_2.png``)."""
    recs, skipped = [], []
    for p in _images(root):
        if p.parent == root:
            continue
        m = _GENERIC.match(p.stem)
        e = _expr(m["expr"]) if m else None
        if e is None:
            skipped.append((p, "file name is not an expression name"))
            continue
        recs.append(ImageRecord(p.parent.name, e, p, take=(m["k"] or "") if m else ""))
    return Dataset(root, "generic", recs, skipped=skipped)


def read_paired_folders(root: Path) -> Dataset:
    """The authors' ``trainA/`` (source) and ``trainB/`` (target) folders, matched by file name.

    ``testA/testB`` are read too (group = ``train``/``test``). Identity = the file stem (the
    layout does not say who is who). Unmatched files are listed in ``skipped``.
    """
    recs, pairs, skipped = [], [], []
    for split in ("train", "test"):
        a_dir, b_dir = root / f"{split}A", root / f"{split}B"
        if not (a_dir.is_dir() and b_dir.is_dir()):
            continue
        a_files = {p.name: p for p in _images(a_dir)}
        b_files = {p.name: p for p in _images(b_dir)}
        b_stems = {p.stem: p for p in b_files.values()}
        for name, pa in sorted(a_files.items()):
            pb = b_files.get(name) or b_stems.get(pa.stem)
            if pb is None:
                skipped.append((pa, f"no file of the same name in {b_dir.name}/"))
                continue
            ra = ImageRecord(pa.stem, None, pa, group=split, take="A")
            rb = ImageRecord(pa.stem, None, pb, group=split, take="B")
            recs += [ra, rb]
            pairs.append((ra, rb))
        matched = {rb.path for _, rb in pairs}
        skipped += [(p, f"no file of the same name in {a_dir.name}/")
                    for p in b_files.values() if p not in matched]
    return Dataset(root, "paired-folders", recs, explicit_pairs=pairs, skipped=skipped)


def read_csv_manifest(csv_path: Path) -> Dataset:
    """A CSV with columns ``source,target`` (optional ``identity``, ``from``, ``to``).

    Relative paths are relative to the CSV's folder. Without an ``identity`` column each
    row is its own identity (identity-disjoint splits then cannot group a person's rows).
    """
    base = csv_path.parent
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        try:
            reader = csv.DictReader(fh)
            cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
            if "source" not in cols or "target" not in cols:
                raise DatasetLayoutError(
                    f"{csv_path} must have columns 'source' and 'target'; got {reader.fieldnames}"
                )
            rows = list(reader)
        except csv.Error as exc:  # e.g. a field over the csv module's size limit
            raise DatasetLayoutError(f"{csv_path} is not a readable CSV file: {exc}") from None
    recs, pairs = [], []

    def col(row: dict[str, str], *names: str) -> str | None:
        for n in names:
            if n in cols and (row.get(cols[n]) or "").strip():
                return row[cols[n]].strip()
        return None

    for i, row in enumerate(rows):
        src, tgt = Path(col(row, "source") or ""), Path(col(row, "target") or "")
        src = src if src.is_absolute() else base / src
        tgt = tgt if tgt.is_absolute() else base / tgt
        ident = col(row, "identity", "id", "person") or f"row{i:05d}"
        fe, te = col(row, "from", "source_expression"), col(row, "to", "target_expression")
        ra = ImageRecord(ident, normalize_expression(fe) if fe else None, src, group=f"{i}")
        rb = ImageRecord(ident, normalize_expression(te) if te else None, tgt, group=f"{i}")
        recs += [ra, rb]
        pairs.append((ra, rb))
    return Dataset(csv_path, "csv", recs, explicit_pairs=pairs)


def _finite(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_manifest(manifest: Any, where: Path) -> None:
    """Every field of an aligned folder's manifest that readers use, checked (DatasetLayoutError)."""
    def bad(field: str, why: str) -> DatasetLayoutError:
        return DatasetLayoutError(f"{where}: damaged manifest: {field} {why}; prepare the data "
                                  "set again with `pixelfes prepare`")

    if not isinstance(manifest, dict):
        raise bad("the manifest", f"must be a JSON object, not {type(manifest).__name__}")
    images = manifest.get("images")
    if not isinstance(images, list):
        raise bad("images", "must be a list")
    for i, item in enumerate(images):
        if not isinstance(item, dict):
            raise bad(f"images[{i}]", "must be an object")
        for key in ("identity", "file"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise bad(f"images[{i}].{key}", "must be a non-empty string")
        for key in ("expression", "group", "take"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise bad(f"images[{i}].{key}", "must be a string")
        lm = item.get("landmarks")
        if not (isinstance(lm, list) and len(lm) >= 3 and all(
                isinstance(pt, list) and len(pt) == 2 and all(_finite(v) for v in pt) for pt in lm)):
            raise bad(f"images[{i}].landmarks", "must be a list of at least 3 [x, y] numbers")
    pairs = manifest.get("pairs")
    if pairs is not None and not (isinstance(pairs, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(f, str) for f in p) for p in pairs)):
        raise bad("pairs", "must be a list of [source file, target file]")
    failures = manifest.get("failures", [])
    if not (isinstance(failures, list) and all(
            isinstance(f, dict) and isinstance(f.get("source"), str) and isinstance(f.get("reason"), str)
            for f in failures)):
        raise bad("failures", "must be a list of {source, reason}")
    channels = manifest.get("channels", 3)
    if isinstance(channels, bool) or channels not in (1, 3):
        raise bad("channels", f"must be 1 or 3; got {channels!r}")


def read_aligned(root: Path) -> Dataset:
    """A folder written by :func:`pixelfes.datasets.prepare` (crops + ``manifest.json``)."""
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DatasetLayoutError(f"{root / 'manifest.json'} is not readable JSON ({exc}); "
                                 "prepare the data set again with `pixelfes prepare`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != ALIGNED_FORMAT:
        raise DatasetLayoutError(
            f"{root / 'manifest.json'} is not a pixelfes aligned-crop manifest "
            f"(format {manifest.get('format') if isinstance(manifest, dict) else None!r}, "
            f"expected {ALIGNED_FORMAT!r})"
        )
    _check_manifest(manifest, root / "manifest.json")
    recs = []
    by_file = {}
    for item in manifest["images"]:
        r = ImageRecord(item["identity"], item.get("expression"), root / item["file"],
                        group=item.get("group", ""), take=item.get("take", ""),
                        extra={k: item[k] for k in ("source", "matrix", "landmarks", "score", "box")
                               if k in item})
        recs.append(r)
        by_file[item["file"]] = r
    pairs = None
    if manifest.get("pairs") is not None:
        pairs = [(by_file[a], by_file[b]) for a, b in manifest["pairs"]
                 if a in by_file and b in by_file]
    meta = {k: manifest[k] for k in ("template", "size", "margin", "channels", "layout",
                                      "source_root") if k in manifest}
    skipped = [(Path(f["source"]), f["reason"]) for f in manifest.get("failures", [])]
    return Dataset(root, "aligned", recs, explicit_pairs=pairs, skipped=skipped, meta=meta)


_FILE_READERS: dict[str, tuple[re.Pattern[str], Callable[[Path], Dataset]]] = {
    "kdef": (_KDEF, read_kdef),
    "rafd": (_RAFD, read_rafd),
    "jaffe": (_JAFFE, read_jaffe),
    "ckplus": (_CK, read_ckplus),
}

LAYOUTS: dict[str, Callable[[Path], Dataset]] = {
    "aligned": read_aligned,
    "csv": read_csv_manifest,
    "paired-folders": read_paired_folders,
    "london": read_london,
    "kdef": read_kdef,
    "rafd": read_rafd,
    "jaffe": read_jaffe,
    "ckplus": read_ckplus,
    "generic": read_generic,
}


def _find_csv(root: Path) -> Path | None:
    for name in ("pairs.csv", "manifest.csv"):
        if (root / name).is_file():
            return root / name
    csvs = sorted(root.glob("*.csv"))
    for c in csvs:
        with open(c, encoding="utf-8-sig") as fh:
            header = {h.strip().lower() for h in fh.readline().split(",")}
        if {"source", "target"} <= header:
            return c
    return None


def detect_layout(path: str | os.PathLike[str]) -> str:
    """Name of the layout of ``path`` (see :data:`LAYOUTS`); raises :class:`DatasetLayoutError`."""
    root = Path(path)
    if root.is_file():
        if root.suffix.lower() == ".csv":
            return "csv"
        raise DatasetLayoutError(f"expected a data set folder or a CSV manifest; got the file {root}")
    if not root.is_dir():
        raise FileNotFoundError(f"expected a data set folder at {root}; not found")
    if (root / "manifest.json").is_file():
        try:
            manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        except (ValueError, OSError, RecursionError):
            manifest = None
        if isinstance(manifest, dict) and manifest.get("format") == ALIGNED_FORMAT:
            return "aligned"
    if _find_csv(root) is not None:
        return "csv"
    if (root / "trainA").is_dir() and (root / "trainB").is_dir():
        return "paired-folders"
    if (root / "neutral_front").is_dir() and (root / "smiling_front").is_dir():
        return "london"
    files = _images(root)
    counts = {name: sum(1 for p in files if pat.match(p.name)) for name, (pat, _) in _FILE_READERS.items()}
    best = max(counts, key=lambda k: counts[k])
    if counts[best] > 0 and counts[best] * 2 >= len(files):
        return best
    generic = sum(1 for p in files if p.parent != root and (m := _GENERIC.match(p.stem))
                  and _expr(m["expr"]) is not None)
    if generic > 0:
        return "generic"
    raise DatasetLayoutError(
        f"cannot tell the layout of {root} ({len(files)} image files); expected one of: "
        "a pixelfes aligned folder (manifest.json), a CSV with source,target columns, "
        "trainA/ + trainB/, neutral_front/ + smiling_front/ (London), KDEF names (AF01NES.JPG), "
        "RaFD names (Rafd090_01_..._happy_frontal.jpg), JAFFE names (KA.HA1.29.tiff), "
        "CK+ sequences (S005/001/S005_001_00000001.png) or DIR/<identity>/<expression>.<ext>"
    )


def open_dataset(path: str | os.PathLike[str], layout: str | None = None) -> Dataset:
    """Read a data set folder (or CSV manifest), detecting its layout unless ``layout`` is given."""
    root = Path(path)
    name = detect_layout(root) if layout is None else layout
    if name not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if name == "csv" and root.is_dir():
        csv_path = _find_csv(root)
        if csv_path is None:
            raise DatasetLayoutError(f"no CSV manifest with source,target columns in {root}")
        return read_csv_manifest(csv_path)
    if not root.exists():
        raise FileNotFoundError(f"expected a data set folder at {root}; not found")
    return LAYOUTS[name](root)
