"""Atomic file writes: write beside the destination, then rename, so nothing is half-written.

Temporary files are named ``.<name>.pixelfes-tmp-<random><suffix>``: unique per write (so
concurrent writers never share one) and recognisable, so a later write to the same
folder removes those a killed process left behind (older than :data:`STALE_SECONDS`), and a
batch run removes those of the outputs it has made at its end (:func:`remove_temps_of`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

TEMP_MARK = ".pixelfes-tmp-"
#: A temporary file untouched for this long belongs to no live write: it may be removed.
STALE_SECONDS = 3600.0
_swept: set[str] = set()  # folders already swept by this process


def remove_stale_temps(folder: str | os.PathLike[str], older_than: float = STALE_SECONDS) -> int:
    """Delete pixelfes temporary files in ``folder`` not modified for ``older_than`` seconds."""
    folder = Path(folder)
    removed = 0
    now = time.time()
    try:
        candidates = list(folder.glob(f".*{TEMP_MARK}*"))
    except OSError:
        return 0
    for tmp in candidates:
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed += 1
        except OSError:
            continue  # another process removed or finished it
    return removed


def remove_temps_of(paths: Iterable[str | os.PathLike[str]]) -> int:
    """Delete the temporary files left for ``paths`` by writers that died (whatever their age).

    For a run that has finished writing ``paths`` itself: a worker killed mid-write (SIGKILL,
    a lost Dask worker) leaves its ``.<name>.pixelfes-tmp-*`` behind, and the run has since
    written ``<name>`` again. One listing per folder.
    """
    names: dict[Path, set[str]] = {}
    for path in paths:
        path = Path(path)
        names.setdefault(path.parent, set()).add(path.name)
    removed = 0
    for folder, wanted in names.items():
        try:
            candidates = list(folder.glob(f".*{TEMP_MARK}*"))
        except OSError:
            continue
        for tmp in candidates:
            if tmp.name[1:].split(TEMP_MARK, 1)[0] in wanted:
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed += 1
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "",
                replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it replaces ``path``.

    On any error the temporary file is removed and ``path`` is left as it was. The
    result gets the usual permissions (0666 less the umask), not mkstemp's 0600. With
    ``replace=False`` an existing ``path`` is never replaced: ``FileExistsError`` instead,
    even when another process creates it during the write.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    key = str(folder.resolve())
    if key not in _swept:  # once per folder and process: cheap even for many writes
        _swept.add(key)
        remove_stale_temps(folder)
    import tempfile  # here: with shutil, random, bz2 and lzma, 5 ms of a cold start that writes nothing

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}", suffix=suffix or ".tmp",
                               dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if replace:
            os.replace(tmp, path)
        elif not publish_new(tmp, path):
            raise FileExistsError(f"{path} already exists")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish_new(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Move finished ``tmp`` to ``path`` only if ``path`` does not exist (atomically).

    Returns False (and removes ``tmp``) when ``path`` already exists. Uses a hard link,
    which fails if the name is taken even when another process races us; on file
    systems without hard links it falls back to check-then-rename.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        os.unlink(tmp)
        return False
    except OSError:  # no hard links here (FAT, some network shares)
        if os.path.exists(path):
            os.unlink(tmp)
            return False
        os.replace(tmp, path)
        return True
    os.unlink(tmp)
    return True
