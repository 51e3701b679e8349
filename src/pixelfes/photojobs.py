"""Photo batch jobs (``synthesize``/``augment`` at scale): the plan here, the work on workers.

The driver plans :class:`~pixelfes.batch.Item` lists and a :class:`PhotoJob` (the settings,
models named by content hash); :func:`process_chunk` runs on a worker: each photo is read
and its faces found once, then every requested (expression, strength) output is made and
written atomically. Workers load each model once (a per-process cache) and check that it
is the very file the driver planned with (same SHA-256), so a cluster whose machines hold
different model files fails loudly instead of mixing models.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .batch import (
    DONE,
    FAILED,
    Item,
    Manifest,
    Output,
    RunSummary,
    file_sha256,
    pending,
    row,
    run_items,
)
from .outputs import KEEP_SUFFIXES, output_suffix

PHOTO_SUFFIXES = (*KEEP_SUFFIXES, ".ppm", ".pgm", ".gif")


@dataclass(frozen=True)
class ModelRef:
    """A model as a worker finds it: the user's ``--model`` (or None: the best for the
    direction), the direction, and the SHA-256 of the file the driver resolved."""

    name: str | None
    source: str
    target: str
    sha256: str


@dataclass(frozen=True)
class PhotoJob:
    """Everything a worker needs besides the chunk: models per expression, detection options."""

    models: tuple[tuple[str, ModelRef], ...]
    detect: bool = True
    max_faces: int | None = None
    min_face: float = 40.0
    quality: int = 95
    max_pixels: int | None = None  # the driver's pixel budget, applied on every worker
    mouth: str = "auto"  # shape + texture models: --mouth auto|open|closed

    def settings(self, command: str, strengths: Sequence[float]) -> dict[str, Any]:
        """The JSON-able settings a manifest is fingerprinted by."""
        return {"command": command, "models": {e: r.sha256 for e, r in self.models},
                "source": self.models[0][1].source if self.models else None,
                "strengths": [float(s) for s in strengths], "detect": self.detect,
                "max_faces": self.max_faces, "min_face": float(self.min_face),
                "quality": self.quality, "mouth": self.mouth}  # not max_pixels: it decides what is refused, not how


def resolve_refs(source: str, targets: Sequence[str], model: str | None) -> tuple[tuple[str, ModelRef], ...]:
    """Driver side: each target's model, found now and pinned by content hash."""
    from .zoo import find_model

    name = model
    if model is not None and (model.endswith(".safetensors") or os.sep in model
                              or Path(model).is_file()):
        name = str(Path(model).expanduser().resolve())  # workers may run in another folder
    refs = []
    for t in targets:
        entry = find_model(source, t, name)
        refs.append((t, ModelRef(name, source, t, file_sha256(entry.path))))
    return tuple(refs)


@functools.lru_cache(maxsize=16)
def _load(ref: ModelRef) -> Any:
    """Worker side: the model of ``ref``, loaded once per process and checked by hash."""
    from .modelfile import load_model
    from .zoo import find_model

    entry = find_model(ref.source, ref.target, ref.name)
    sha = file_sha256(entry.path)
    if sha != ref.sha256:
        raise RuntimeError(f"this worker's model {entry.path} for {ref.source} -> {ref.target} "
                           "is not the file the run was planned with (different content); "
                           "install the same model files on every machine")
    return load_model(entry.path)


def process_chunk(job: PhotoJob, chunk: list[Item]) -> list[dict[str, Any]]:
    """Worker side: make every output of every item; one manifest row per output.

    A photo that cannot be read or has no face fails all its outputs (with the reason);
    the chunk itself never raises for one photo.
    """
    from .face import NoFaceError
    from .imageio import load_image, save_image, set_max_pixels
    from .pipeline import find_faces, synthesize_rgb, uses_native

    set_max_pixels(job.max_pixels)  # a worker process has no --max-pixels of its own
    models = dict(job.models)
    rows: list[dict[str, Any]] = []
    for item in chunk:
        found = changed = None
        try:
            loaded = load_image(item.input)
            faces = None
            if job.detect:
                try:
                    every = find_faces(loaded.rgb, min_size=job.min_face, path=item.input)
                except NoFaceError:
                    found = changed = 0
                    raise
                faces = every[: job.max_faces] if job.max_faces else every
                found, changed = len(every), len(faces)
            else:
                found = changed = 1
        except Exception as exc:  # noqa: BLE001 - recorded per photo
            rows += [row(item, o, found, changed, FAILED, _message(exc)) for o in item.outputs]
            continue
        for out in item.outputs:
            try:
                model = _load(models[out.expression])
                rgb = synthesize_rgb(loaded.rgb, model, out.strength, faces=faces,
                                     detect=job.detect, path=item.input,
                                     mouth=job.mouth if uses_native(model) else "auto")
                Path(out.path).parent.mkdir(parents=True, exist_ok=True)
                save_image(loaded.to_output(rgb), out.path, quality=job.quality)
                rows.append(row(item, out, found, changed, DONE, None))
            except Exception as exc:  # noqa: BLE001 - recorded per output
                rows.append(row(item, out, found, changed, FAILED, _message(exc)))
    return rows


def _message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def strength_tag(strength: float) -> str:
    """``1.5`` -> ``"s1.5"``, ``1.0`` -> ``"s1"``: the strength in a file name."""
    return f"s{strength:g}"


def plan_synthesize(photos: Sequence[Path], out_dir: Path, targets: Sequence[str],
                    strength: float) -> list[Item]:
    """The outputs of ``synthesize photos -o out_dir/``, named as the one-process run names them
    (:func:`pixelfes.outputs.synthesis_outputs`)."""
    from .outputs import synthesis_outputs

    plans = synthesis_outputs(list(photos), f"{out_dir}{os.sep}", list(targets), False)
    return [Item(str(photo), tuple(Output(str(plan[t]), t, strength) for t in targets))
            for photo, plan in zip(photos, plans, strict=True)]


def plan_augment(photos: Sequence[Path], root: Path, out_dir: Path, targets: Sequence[str],
                 strengths: Sequence[float]) -> list[Item]:
    """``OUT/<expression>/<path under DATASET>`` (plus ``_s<strength>`` with several strengths)."""
    tag = len(strengths) > 1
    items = []
    for photo in photos:
        rel = photo.relative_to(root)
        outs = []
        for t in targets:
            for s in strengths:
                name = f"{rel.stem}_{strength_tag(s)}" if tag else rel.stem
                outs.append(Output(str(out_dir / t / rel.parent / f"{name}{output_suffix(photo)}"),
                                   t, float(s)))
        items.append(Item(str(photo), tuple(outs)))
    return items


def dataset_photos(root: Path) -> list[Path]:
    """Every image file under ``root`` (recursively), sorted, hidden files and folders left out."""
    if not root.is_dir():
        raise ValueError(f"DATASET {root} is not a folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def check_fresh_outputs(items: Sequence[Item], manifest_existed: bool, overwrite: bool) -> None:
    """Refuse to replace files this run did not write, unless ``overwrite``.

    A resumed run (its manifest already there) owns every file its plan names: a file not
    yet recorded as done was written by the interrupted run and is made again.
    """
    if manifest_existed or overwrite:
        return
    there = [o.path for i in items for o in i.outputs if Path(o.path).exists()]
    if there:
        more = f" and {len(there) - 3} more" if len(there) > 3 else ""
        raise ValueError(f"{', '.join(there[:3])}{more} already exist(s) and no manifest says "
                         "this run wrote them; choose another -o, or add --overwrite")


#: photos per task when --chunk is not given: the manifest is saved after each task
DEFAULT_CHUNK = 8


#: tasks per worker that :func:`auto_chunk` aims for at least: the last task of a run keeps
#: one worker busy while the others are done, so a run's tail is about one task long
TASKS_PER_WORKER = 16


def auto_chunk(n_items: int, workers: int) -> int:
    """``DEFAULT_CHUNK``, or fewer so that each worker gets at least ``TASKS_PER_WORKER``
    tasks: with 40 photos on 2 workers, chunks of 5 left one worker alone for up to 5
    photos at the end (0.4 s of a 2.4 s run); chunks of 2 for at most 2. A task costs
    about a millisecond (pickling, one manifest line written and fsynced)."""
    return max(1, min(DEFAULT_CHUNK, -(-n_items // (TASKS_PER_WORKER * max(1, workers)))))


def run_photo_job(command: str, job: PhotoJob, items: Sequence[Item], manifest_path: Path,
                  strengths: Sequence[float], *, jobs: int | None, dask: str | None,
                  chunk: int | None, overwrite: bool, progress: bool,
                  on_chunk: Any = None, runner: Any = None) -> tuple[RunSummary, Manifest]:
    """Open/resume the manifest, check outputs, run the pending chunks on the chosen runner.

    ``runner``: one already made (left open), instead of the one ``jobs``/``dask`` ask for.
    """
    from .runners import InProcessRunner, make_runner

    existed = manifest_path.exists() and manifest_path.stat().st_size > 0
    check_fresh_outputs(items, existed, overwrite)  # before the manifest is made
    manifest = Manifest.open(manifest_path, job.settings(command, strengths))
    todo, _ = pending(items, manifest)
    own = runner is None
    if own:
        runner = make_runner(jobs, dask) if todo else InProcessRunner()  # all done: no cluster
    if chunk is None:
        chunk = auto_chunk(len(todo), runner.workers)
    try:
        summary = run_items(process_chunk, job, items, manifest, runner, chunk_size=chunk,
                            progress=progress, on_chunk=on_chunk)
    finally:
        if own:
            runner.close()
    return summary, manifest


def report(summary: RunSummary, where: Path, manifest: Path) -> None:
    """The end-of-run lines on stderr (errors listed, at most 20)."""
    for line in summary.errors[:20]:
        print(f"error: {line}", file=sys.stderr)
    if len(summary.errors) > 20:
        print(f"... and {len(summary.errors) - 20} more errors (see {manifest})", file=sys.stderr)
    print(f"wrote {summary.done} image(s) to {where}, {summary.skipped} done earlier, "
          f"{summary.failed} failed (manifest {manifest}; rerun the same command to retry)",
          file=sys.stderr)
