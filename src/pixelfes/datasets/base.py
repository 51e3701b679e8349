"""What a data set is once read: image records (identity, expression, path) and their pairs."""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..expressions import normalize_expression

__all__ = ["Dataset", "DatasetLayoutError", "ImageRecord", "Pair", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})

Combine = Literal["all", "first", "zip"]


class DatasetLayoutError(ValueError):
    """A folder does not match any data set layout pixelfes knows (or the one asked for)."""


@dataclass(frozen=True)
class ImageRecord:
    """One image of a data set: who, which expression (canonical name or None), where."""

    identity: str
    expression: str | None
    path: Path
    group: str = ""  # pairs are formed within (identity, group): a CK+ sequence, a split
    take: str = ""  # orders several images of one (identity, expression)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


class Pair(NamedTuple):
    """A training pair: the same person with the source and with the target expression."""

    identity: str
    source: Path
    target: Path


@dataclass
class Dataset:
    """A data set read from disk: its records, explicit pairs (if the layout has them), skips."""

    root: Path
    layout: str
    records: list[ImageRecord]
    explicit_pairs: list[tuple[ImageRecord, ImageRecord]] | None = None
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ImageRecord]:
        return iter(self.records)

    def identities(self) -> list[str]:
        """Sorted distinct identities."""
        return sorted({r.identity for r in self.records})

    def expressions(self) -> list[str]:
        """Sorted distinct canonical expression names (empty for unlabelled paired layouts)."""
        return sorted({r.expression for r in self.records if r.expression is not None})

    def record_for(self, path: str | os.PathLike[str]) -> ImageRecord:
        """The record of an image path (as listed in this data set)."""
        index = self.meta.setdefault("_by_path", {r.path: r for r in self.records})
        return index[Path(path)]

    def pair_records(self, from_: str | None = "neutral", to: str | None = "happy",
                     combine: Combine = "all") -> list[tuple[ImageRecord, ImageRecord]]:
        """Pairs as records; see :meth:`pairs`."""
        if combine not in ("all", "first", "zip"):
            raise ValueError(f"combine must be 'all', 'first' or 'zip'; got {combine!r}")
        src_e = None if from_ is None else normalize_expression(from_)
        tgt_e = None if to is None else normalize_expression(to)
        if self.explicit_pairs is not None:
            out = []
            for a, b in self.explicit_pairs:
                # unlabelled sides (trainA/trainB, CSV without expression columns) always match
                if src_e is not None and a.expression is not None and a.expression != src_e:
                    continue
                if tgt_e is not None and b.expression is not None and b.expression != tgt_e:
                    continue
                out.append((a, b))
            return out
        if src_e is None or tgt_e is None:
            raise ValueError(f"layout {self.layout!r} needs from_ and to expression names")
        groups: dict[tuple[str, str], dict[str, list[ImageRecord]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for r in self.records:
            if r.expression in (src_e, tgt_e):
                groups[(r.identity, r.group)][r.expression].append(r)
        out = []
        for key in sorted(groups):
            g = groups[key]
            srcs = sorted(g.get(src_e, []), key=lambda r: (r.take, str(r.path)))
            tgts = sorted(g.get(tgt_e, []), key=lambda r: (r.take, str(r.path)))
            if not srcs or not tgts:
                continue
            if combine == "first":
                cand = [(srcs[0], tgts[0])]
            elif combine == "zip":
                cand = list(zip(srcs, tgts, strict=False))
            else:
                cand = list(itertools.product(srcs, tgts))
            out.extend((a, b) for a, b in cand if a.path != b.path)
        return out

    def pairs(self, from_: str | None = "neutral", to: str | None = "happy",
              combine: Combine = "all") -> list[Pair]:
        """(identity, source path, target path) for the same person, ``from_`` -> ``to``.

        Expression names are normalised (``"NE"``, ``"smile"`` ...). When a person has several
        images of an expression (JAFFE: ~3; KDEF: sessions A and B), ``combine="all"`` (default)
        yields every source x target combination, ``"zip"`` pairs the k-th with the k-th
        (by take), ``"first"`` one pair per person. Pairs never cross identities, nor groups
        (a CK+ sequence). Layouts with explicit pairs (trainA/trainB folders, CSV manifest)
        return their pairs; expression filters apply only where the sides are labelled.
        """
        return [Pair(a.identity, a.path, b.path) for a, b in self.pair_records(from_, to, combine)]

    def __repr__(self) -> str:
        return (f"Dataset(layout={self.layout!r}, root={str(self.root)!r}, images={len(self.records)}, "
                f"identities={len(self.identities())}, expressions={self.expressions()})")
