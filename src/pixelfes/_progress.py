"""Progress bars that cost nothing when they are not shown.

Importing tqdm takes about 30 ms (its version lookup reads package metadata), a tenth of
a command's cold start; a quiet run or a single photo shows no bar, so it never needs it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["progress_bar", "write_above"]


class _NoBar:
    """What a hidden bar needs to answer: ``update`` and the context-manager protocol."""

    def update(self, n: int = 1) -> None:
        """Nothing to draw."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(total: int, desc: str, unit: str, *, show: bool, file: IO[str] | None = None) -> Any:
    """A tqdm bar over ``total`` items when ``show``, else an object that draws nothing."""
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr if file is None else file)


@contextlib.contextmanager
def write_above(bar: Any) -> Iterator[None]:
    """Print lines above ``bar`` (a shown tqdm bar steps aside; a hidden one needs nothing)."""
    if isinstance(bar, _NoBar):
        yield
        return
    with type(bar).external_write_mode(file=bar.fp):
        yield
