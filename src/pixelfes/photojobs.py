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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._atomic import remove_temps_of
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


Units = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class ModelRef:
    """A model as a worker finds it: the user's ``--model`` (or None: the best for the
    direction), the direction, and the SHA-256 of the file the driver resolved.

    With the action units (:mod:`pixelfes.actions`) involved also their unit intensities
    ``au`` (``--au``), ``like`` (the ``--like`` photo's analysed actions: numbers, the photo
    is read once, by the driver) and the SHA-256 of the action-unit basis asset;
    ``sha256`` is then ``""`` when no learned model runs (the recipes alone). ``target``:
    an expression, or ``"actions"`` (``--au``/``--like`` without ``--to``)."""

    name: str | None
    source: str
    target: str
    sha256: str
    au: Units = ()
    like: Units | None = None
    actions_sha256: str = ""

    @property
    def identity(self) -> str:
        """What the manifest records for this output's model: the learned file's hash and/or
        ``actions:<basis hash>`` (a learned model's file alone, as before the action units)."""
        parts = [self.sha256] if self.sha256 else []
        if self.actions_sha256:
            parts.append(f"actions:{self.actions_sha256}")
        return "+".join(parts)


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
    engine: str = "auto"  # --engine: auto|learned|actions (recorded; the refs say what runs)

    def settings(self, command: str, strengths: Sequence[float]) -> dict[str, Any]:
        """The JSON-able settings a manifest is fingerprinted by.

        ``engine``, ``au`` and ``like`` enter only when given (a run without them keeps the
        fingerprint it had before they existed, so its manifest still resumes)."""
        refs = [r for _, r in self.models]
        out: dict[str, Any] = {
            "command": command, "models": {e: r.identity for e, r in self.models},
            "source": refs[0].source if refs else None,
            "strengths": [float(s) for s in strengths], "detect": self.detect,
            "max_faces": self.max_faces, "min_face": float(self.min_face),
            "quality": self.quality, "mouth": self.mouth}  # not max_pixels: it decides what is refused, not how
        if self.engine != "auto":
            out["engine"] = self.engine
        au = next((r.au for r in refs if r.au), ())
        if au:
            out["au"] = dict(au)
        like = next((r.like for r in refs if r.like is not None), None)
        if like is not None:
            out["like"] = dict(like)
        return out


def resolve_refs(source: str, targets: Sequence[str], model: str | None, *,
                 engine: str = "auto", au: Any = None,
                 like: Mapping[str, float] | None = None) -> tuple[tuple[str, ModelRef], ...]:
    """Driver side: each target's model, found now and pinned by content hash.

    ``engine``, ``au``, ``like``: as :func:`pixelfes.pipeline.resolve_model` takes them (a
    missing model is named here, before any photo is read); target ``"actions"``: ``au`` or
    ``like`` alone. Which engine runs is decided here, once: a worker rebuilds that very one.
    """
    from .actions.basis import parse_units
    from .actions.model import ActionsOnTop, ActionUnitModel
    from .pipeline import resolve_model
    from .zoo import ModelNotFoundError, find_model

    name = model
    if model is not None and (model.endswith(".safetensors") or os.sep in model
                              or Path(model).is_file()):
        name = str(Path(model).expanduser().resolve())  # workers may run in another folder
    units: Units = tuple(parse_units(au).items())
    liked: Units | None = None if like is None else tuple(sorted(like.items()))
    refs = []
    for t in targets:
        if not units and liked is None and (engine == "learned" or engine == "auto" and t != "actions"):
            try:  # a learned model (the plain case: the action units are not even imported)
                entry = find_model(source, t, name)
                refs.append((t, ModelRef(name, source, t, file_sha256(entry.path))))
                continue
            except ModelNotFoundError:
                if engine == "learned" or name is not None:
                    raise
        fitted = resolve_model(name, source, None if t == "actions" else t, engine=engine,
                               au=dict(units) or None, like=None if liked is None else dict(liked))
        alone = isinstance(fitted, ActionUnitModel)  # the recipes / units, no learned model
        acts = alone or isinstance(fitted, ActionsOnTop)
        sha = "" if alone else file_sha256(find_model(source, t, name).path)
        refs.append((t, ModelRef(name, source, t, sha, units if acts else (),
                                 liked if acts else None, actions_sha256() if acts else "")))
    return tuple(refs)


def actions_sha256() -> str:
    """The SHA-256 of the shipped action-unit basis (``assets/ict/action_units.npz``)."""
    from importlib import resources

    return _asset_sha256(str(resources.files("pixelfes") / "assets" / "ict" / "action_units.npz"))


@functools.lru_cache(maxsize=4)
def _asset_sha256(path: str) -> str:
    return file_sha256(path)


@functools.lru_cache(maxsize=16)
def _load(ref: ModelRef) -> Any:
    """Worker side: the model of ``ref``, loaded once per process and checked by hash.

    With action units: the engine the driver chose, rebuilt from the numbers the ref holds
    (``engine="learned"`` when a learned model runs under them, else ``"actions"``)."""
    from .modelfile import load_model
    from .zoo import find_model

    entry = None
    if ref.sha256:
        entry = find_model(ref.source, ref.target, ref.name)
        sha = file_sha256(entry.path)
        if sha != ref.sha256:
            raise RuntimeError(f"this worker's model {entry.path} for {ref.source} -> {ref.target} "
                               "is not the file the run was planned with (different content); "
                               "install the same model files on every machine")
    if not ref.actions_sha256:
        assert entry is not None
        return load_model(entry.path, self_test=not entry.bundled)
    if actions_sha256() != ref.actions_sha256:
        raise RuntimeError("this worker's action-unit basis (pixelfes/assets/ict/action_units.npz) "
                           "is not the one the run was planned with; install the same pixelfes "
                           "version on every machine")
    from .pipeline import resolve_model

    return resolve_model(ref.name, ref.source, None if ref.target == "actions" else ref.target,
                         engine="learned" if ref.sha256 else "actions", au=dict(ref.au) or None,
                         like=None if ref.like is None else dict(ref.like))


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
TASKS_PER_WORKER = 32


def auto_chunk(n_items: int, workers: int) -> int:
    """``DEFAULT_CHUNK``, or fewer so that each worker gets at least ``TASKS_PER_WORKER``
    tasks: with 40 photos on 2 workers, chunks of 5 left one worker alone for up to 5
    photos at the end (0.4 s of a 2.4 s run); chunks of 2 cost 0.05-0.1 s against chunks of 1
    (at load 0.5: 2.78-2.79 s against 2.70-2.74 s), so up to 64 photos on 2 workers go one at a
    time. A task costs about a millisecond (pickling, one manifest line written and fsynced)."""
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
    written: list[str] = []

    def record(k: int, rows: list[dict[str, Any]]) -> None:
        written.extend(r["output"] for r in rows if r["status"] == DONE)
        if on_chunk is not None:
            on_chunk(k, rows)

    try:
        summary = run_items(process_chunk, job, items, manifest, runner, chunk_size=chunk,
                            progress=progress, on_chunk=record)
    finally:
        if own:
            runner.close()
    # a worker killed while writing left a temporary file; its photo was redone since
    remove_temps_of(written)
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
