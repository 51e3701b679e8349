"""Long batch runs that survive crashes: a work list in chunks, a manifest written as it goes.

A run is a list of :class:`Item` (one input file and the outputs made from it), cut into
chunks; a runner (:mod:`pixelfes.runners`: in this process, a process pool, or Dask)
sends each chunk to a worker function, and every finished chunk's rows are appended to
the manifest (JSON lines, flushed and fsynced per chunk) by this process alone. Outputs
are written atomically by the workers, so a file exists whole or not at all.

A rerun with the same settings reads the manifest, skips every output already recorded
as done (and still on disk) and retries the rest; a manifest written with other settings
is refused, naming what differs. The input list is not part of the settings: adding
photos to a rerun processes just the new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_KIND = "pixelfes-manifest"
MANIFEST_VERSION = 1
DONE, FAILED = "done", "failed"


class ManifestMismatchError(ValueError):
    """The output folder holds a manifest of a run with other settings; nothing was done."""


@dataclass(frozen=True)
class Output:
    """One file to make from an item's input, with its labels (expression, strength)."""

    path: str
    expression: str
    strength: float


@dataclass(frozen=True)
class Item:
    """One input file and the outputs to make from it (the unit a worker processes)."""

    input: str
    outputs: tuple[Output, ...]


def fingerprint(settings: dict[str, Any]) -> str:
    """A short stable hash of JSON-able ``settings`` (the manifest's identity)."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes (model files enter the settings by content)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def chunked(items: Sequence[Item], size: int) -> list[list[Item]]:
    """``items`` in consecutive chunks of ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"--chunk must be 1 or more; got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


@dataclass
class Manifest:
    """The JSON-lines record of a run: a header line with the settings, then one row per output.

    Rows: ``input, output, expression, strength, faces_found, faces_changed, status, error``.
    A later row for the same output replaces an earlier one (a retried failure). Only the
    set of outputs done is kept in memory (a few hundred bytes each), not the rows.
    """

    path: Path
    settings: dict[str, Any]
    done: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, path: str | os.PathLike[str], settings: dict[str, Any]) -> Manifest:
        """Start a manifest, or resume one written with the same ``settings``.

        Raises :class:`ManifestMismatchError` when the file was written with other settings.
        A last line cut off by a crash is dropped (its chunk is redone).
        """
        path = Path(path)
        manifest = cls(path, settings)
        if not path.exists() or path.stat().st_size == 0:
            first = {"kind": MANIFEST_KIND, "version": MANIFEST_VERSION,
                     "fingerprint": fingerprint(settings), "settings": settings}
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(first, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
            return manifest
        data = path.read_bytes()
        if not data.endswith(b"\n"):  # a crash mid-append: drop the partial line
            data = data[: data.rfind(b"\n") + 1]
            with open(path, "r+b") as f:
                f.truncate(len(data))
        lines = data.decode("utf-8").splitlines()
        try:
            parsed = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            parsed = {}
        header: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        if header.get("kind") != MANIFEST_KIND:
            raise ManifestMismatchError(f"{path} is not a pixelfes manifest; choose another -o "
                                        "(or --manifest) for this run")
        if header.get("fingerprint") != fingerprint(settings):
            old: dict[str, Any] = header.get("settings") or {}
            diff = sorted(k for k in {*old, *settings} if old.get(k) != settings.get(k))
            shown = "; ".join(f"{k}: was {_shown(old, k)}, now {_shown(settings, k)}"
                              for k in diff[:4])
            raise ManifestMismatchError(
                f"{path} records a run with other settings ({shown}). Rerun with the same "
                "arguments to resume it, or write to another -o folder (or delete the "
                "manifest to start over)")
        for line in lines[1:]:
            manifest._note(json.loads(line))
        return manifest

    def _note(self, r: dict[str, Any]) -> None:
        if r["status"] == DONE:
            self.done.add(r["output"])
        else:
            self.done.discard(r["output"])

    def is_done(self, output: str) -> bool:
        """Whether ``output`` is recorded as done and its file is still there."""
        return output in self.done and Path(output).exists()

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Append a finished chunk's rows: one write, flushed and fsynced."""
        rows = list(rows)
        if not rows:
            return
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        for r in rows:
            self._note(r)


def _shown(settings: dict[str, Any], key: str, width: int = 80) -> str:
    """One setting as a refusal names it: ``"not given"``, or its repr (numbers of a dict to 3
    decimals, cut to ``width`` characters: a --like photo's 17 unit intensities)."""
    if key not in settings:
        return "not given"
    value = settings[key]
    if isinstance(value, dict) and all(isinstance(v, float) for v in value.values()):
        value = {k: round(v, 3) for k, v in value.items()}
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def pending(items: Sequence[Item], manifest: Manifest) -> tuple[list[Item], int]:
    """The items with outputs still to make (only those outputs), and how many were done."""
    todo, done = [], 0
    for item in items:
        left = tuple(o for o in item.outputs if not manifest.is_done(o.path))
        done += len(item.outputs) - len(left)
        if left:
            todo.append(Item(item.input, left))
    return todo, done


def failed_rows(chunk: Sequence[Item], error: str) -> list[dict[str, Any]]:
    """Rows marking every output of ``chunk`` failed (a worker lost, a task that raised)."""
    return [row(item, out, None, None, FAILED, error) for item in chunk for out in item.outputs]


def row(item: Item, out: Output, found: int | None, changed: int | None, status: str,
        error: str | None) -> dict[str, Any]:
    """One manifest row."""
    return {"input": item.input, "output": out.path, "expression": out.expression,
            "strength": out.strength, "faces_found": found, "faces_changed": changed,
            "status": status, "error": error}


@dataclass
class RunSummary:
    """What a run did: outputs made now, skipped as done earlier, failed now."""

    done: int = 0
    skipped: int = 0
    failed: int = 0
    chunks: int = 0
    errors: list[str] = field(default_factory=list)


def run_items(worker: Callable[[Any, list[Item]], list[dict[str, Any]]], job: Any,
              items: Sequence[Item], manifest: Manifest, runner: Any, chunk_size: int = 8,
              progress: bool = True,
              on_chunk: Callable[[int, list[dict[str, Any]]], None] | None = None) -> RunSummary:
    """Run ``worker(job, chunk)`` over the pending ``items`` with ``runner``, recording rows.

    ``worker`` returns one manifest row per output of its chunk; a chunk whose task fails
    as a whole (a worker lost for good) is recorded as failed, to be retried by a rerun.
    ``on_chunk(k, rows)`` is called after the k-th chunk is recorded (progress, tests).
    """
    from ._progress import progress_bar

    todo, skipped = pending(items, manifest)
    summary = RunSummary(skipped=skipped)
    chunks = chunked(todo, chunk_size)
    total = sum(len(i.outputs) for i in todo)
    with progress_bar(total, "synthesizing", "image", show=progress) as bar:
        for rows in runner.imap_unordered(worker, job, chunks, failed_rows):
            manifest.append(rows)
            summary.chunks += 1
            for r in rows:
                if r["status"] == DONE:
                    summary.done += 1
                else:
                    summary.failed += 1
                    message = f"{r['input']}: {r['error']}"
                    if not summary.errors or summary.errors[-1] != message:  # once per photo
                        summary.errors.append(message)
            bar.update(len(rows))
            if on_chunk is not None:
                on_chunk(summary.chunks, rows)
    return summary


def iter_lines(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The rows of a manifest file (header skipped), for reports and tests."""
    with open(path, encoding="utf-8") as f:
        next(f, None)
        for line in f:
            if line.strip():
                yield json.loads(line)
