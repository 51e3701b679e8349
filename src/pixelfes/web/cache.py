"""The face cache: a decoded photo and its detected faces, kept per upload (key: SHA-256 of the bytes).

A slider move sends the same photo again; with its faces cached, the server only aligns,
runs the model and pastes (no decode, no detection). Bounded both by entry count and by
the bytes the decoded photos hold; least recently used entries go first. Thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ..face import Face
from .uploads import Photo


def photo_key(data: bytes) -> str:
    """The cache key of an upload: the hex SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CachedPhoto:
    """One upload, decoded, with every face found in it (largest first; may be empty)."""

    photo: Photo
    faces: tuple[Face, ...]

    @property
    def nbytes(self) -> int:
        return self.photo.nbytes + sum(f.landmarks.nbytes for f in self.faces)


class FaceCache:
    """LRU of :class:`CachedPhoto` by key, at most ``max_items`` entries and ``max_bytes`` bytes."""

    def __init__(self, max_items: int = 16, max_bytes: int = 512 * 1024 * 1024) -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError(f"max_items and max_bytes must be >= 1; got {max_items}, {max_bytes}")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, CachedPhoto] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes held by the cached photos now."""
        return self._bytes

    def get(self, key: str) -> CachedPhoto | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return entry

    def put(self, key: str, entry: CachedPhoto) -> None:
        """Store ``entry``; an entry larger than the whole budget is simply not kept."""
        size = entry.nbytes
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            if size > self.max_bytes:
                return
            self._items[key] = entry
            self._bytes += size
            while len(self._items) > self.max_items or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.nbytes

    def get_or_make(self, key: str, make: Callable[[], CachedPhoto]) -> CachedPhoto:
        """The cached entry for ``key``, or ``make()``'s, stored (``make`` runs unlocked)."""
        entry = self.get(key)
        if entry is not None:
            return entry
        with self._lock:
            self.misses += 1
        entry = make()
        self.put(key, entry)
        return entry
