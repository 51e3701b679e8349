"""Scaling out: resumable manifests, runners (here, a process pool, Dask), sharded training.

The Dask tests share one LocalCluster of 2 single-threaded worker processes (small memory
limits); photos are one London photo (docs/images, CC BY 4.0) resized to a few sizes, so
every output differs and a mix-up cannot pass.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, make_pairs
from pixelfes.batch import DONE, Manifest, ManifestMismatchError, iter_lines
from pixelfes.cli import main
from pixelfes.models import model_class
from pixelfes.photojobs import PhotoJob, plan_synthesize, resolve_refs, run_photo_job
from pixelfes.runners import InProcessRunner, PoolRunner
from pixelfes.sharded import ExactSums, ShardJob, fit_exact, sum_shards
from pixelfes.stats import PixelStats

distributed = pytest.importorskip("distributed")

PHOTO = REPO / "docs" / "images" / "london-001-neutral.jpg"
SIZES = (300, 330, 360, 390, 420, 450)


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes (shared by this module); tests connect by address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="600MiB", dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Six photos with one face each, and the one-process `synthesize` outputs of them."""
    root = tmp_path_factory.mktemp("photos")
    src = root / "in"
    src.mkdir()
    with Image.open(PHOTO) as im:
        for i, s in enumerate(SIZES):
            im.resize((s, s), Image.LANCZOS).save(src / f"p{i}.jpg", quality=92)
    paths = sorted(src.glob("*.jpg"))
    ref = root / "reference"
    assert main(["synthesize", *map(str, paths), "--to", "happy", "-o", str(ref), "-q"]) == 0
    return paths, ref


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.jpg"))}


def _done_rows(manifest: Path) -> list[dict]:
    return [r for r in iter_lines(manifest) if r["status"] == DONE]


def _job() -> PhotoJob:
    return PhotoJob(resolve_refs("neutral", ["happy"], None))


# -- manifests ----------------------------------------------------------------------------
def test_manifest_refuses_other_settings_and_drops_a_cut_off_line(tmp_path):
    path = tmp_path / "m.jsonl"
    m = Manifest.open(path, {"strengths": [1.0]})
    m.append([{"output": "a", "status": DONE}, {"output": "b", "status": "failed"}])
    with open(path, "a") as f:
        f.write('{"output": "c", "sta')  # a crash in the middle of an append
    again = Manifest.open(path, {"strengths": [1.0]})
    assert again.done == {"a"}  # b failed, c was cut off
    assert path.read_text().endswith("}\n")
    with pytest.raises(ManifestMismatchError, match=r"strengths: was \[1.0\], now \[0.5\]"):
        Manifest.open(path, {"strengths": [0.5]})
    (tmp_path / "x.jsonl").write_text("hello\n")
    with pytest.raises(ManifestMismatchError, match="not a pixelfes manifest"):
        Manifest.open(tmp_path / "x.jsonl", {})


def test_cli_rerun_with_other_settings_is_refused(tmp_path, photos, capsys):
    paths, _ = photos
    out = tmp_path / "out"
    args = ["synthesize", str(paths[0]), "--to", "happy", "-o", str(out), "-q", "--jobs", "1"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0  # the same command again: its own outputs are not "existing files"
    assert "wrote 0 image(s)" in capsys.readouterr().err
    assert main([*args, "--strength", "0.5"]) == 1
    assert "records a run with other settings (strengths: was [1.0], now [0.5])" in \
        capsys.readouterr().err


# -- synthesize on every runner: the same bytes as one process ---------------------------
@pytest.mark.parametrize("how", ["jobs1", "jobs2", "dask"])
def test_batch_outputs_equal_one_process_byte_for_byte(tmp_path, photos, cluster, how):
    paths, ref = photos
    out = tmp_path / "out"
    extra = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"],
             "dask": ["--dask", cluster.scheduler_address]}[how]
    args = ["synthesize", *map(str, paths), "--to", "happy", "-o", str(out), "-q",
            "--chunk", "2", *extra]
    assert main(args) == 0
    assert _files(out) == _files(ref) and len(_files(ref)) == len(paths)
    rows = _done_rows(out / "pixelfes-manifest.jsonl")
    assert sorted(Path(r["output"]).name for r in rows) == sorted(_files(ref))
    assert {(r["faces_found"], r["faces_changed"]) for r in rows} == {(1, 1)}
    if how == "dask":  # each worker process loaded the model once, and kept it
        with distributed.Client(cluster.scheduler_address) as client:
            loads = client.run(_model_loads)
        assert set(loads.values()) <= {0, 1} and sum(loads.values()) >= 1


def test_batch_path_takes_the_mouth_option(tmp_path, photos):
    """``--mouth`` reaches the workers: --jobs 1 --mouth closed equals the plain run's bytes."""
    paths, _ = photos
    one = ["synthesize", str(paths[0]), "--to", "happy", "-q", "--mouth"]
    assert main([*one, "closed", "-o", str(tmp_path / "plain") + "/"]) == 0
    assert main([*one, "closed", "-o", str(tmp_path / "batch"), "--jobs", "1"]) == 0
    assert main([*one, "open", "-o", str(tmp_path / "open"), "--jobs", "1"]) == 0
    plain, batch = _files(tmp_path / "plain"), _files(tmp_path / "batch")
    assert plain == batch and len(plain) == 1
    assert _files(tmp_path / "open") != batch


# -- facial-action control in the batch modes: the same bytes as one process -------------
@pytest.fixture(scope="module")
def like_photo(tmp_path_factory, photos):
    """A photo with other actions than the inputs' (001 made surprised by the recipe)."""
    paths, _ = photos
    out = tmp_path_factory.mktemp("like") / "surprised.jpg"
    assert main(["synthesize", str(paths[5]), "--to", "surprised", "-o", str(out), "-q"]) == 0
    return out


ACTION_RUNS = {"recipe+au": ["--to", "surprised", "--au", "26=0.5,1=0.3"],
               "learned+au": ["--to", "happy", "--au", "4R=0.6"],
               "au alone": ["--au", "12L=0.8"],
               "engine": ["--to", "happy", "--engine", "actions"],
               "neutral": ["--from", "happy", "--to", "neutral", "--engine", "actions"],
               "like": ["--like", "LIKE"]}


@pytest.mark.parametrize("run", sorted(ACTION_RUNS))
def test_batch_takes_action_units_like_and_engine(tmp_path, photos, like_photo, cluster, run):
    """``--au``, ``--like`` and ``--engine`` reach the workers: --jobs 1 (and for one of them
    --jobs 2 and Dask) writes the plain run's bytes, and the manifest records them."""
    paths, _ = photos
    opts = [str(like_photo) if o == "LIKE" else o for o in ACTION_RUNS[run]]
    base = ["synthesize", *map(str, paths[:2]), *opts, "-q"]
    assert main([*base, "-o", str(tmp_path / "plain") + "/"]) == 0
    runs = {"1": ["--jobs", "1"], "2": ["--jobs", "2"], "dask": ["--dask", cluster.scheduler_address]}
    for how in (runs if run == "recipe+au" else ["1"]):
        assert main([*base, "-o", str(tmp_path / how), *runs[how], "--chunk", "1"]) == 0
        got = _files(tmp_path / how)
        assert got == _files(tmp_path / "plain") and len(got) == 2
    (header,) = [json.loads(line) for line in open(tmp_path / "1" / "pixelfes-manifest.jsonl")][:1]
    settings = header["settings"]
    assert ("au" in settings) == ("--au" in opts) and ("like" in settings) == (run == "like")
    assert settings.get("engine", "auto") == ("actions" if "--engine" in opts else "auto")
    (identity,) = settings["models"].values()
    assert identity.startswith("actions:") == (run != "learned+au")
    assert ("+actions:" in identity) == (run == "learned+au")


def test_plain_learned_batch_settings_are_as_before():
    """Without --au/--like/--engine the manifest's settings (its fingerprint) are unchanged, so
    a run started before they existed still resumes."""
    settings = _job().settings("synthesize", [1.0])
    assert sorted(settings) == ["command", "detect", "max_faces", "min_face", "models", "mouth",
                                "quality", "source", "strengths"]
    (sha,) = settings["models"].values()
    assert len(sha) == 64 and ":" not in sha


def test_batch_resumed_with_other_actions_is_refused(tmp_path, photos, like_photo, capsys,
                                                     monkeypatch):
    """A resumed run with another --au, --like or --engine is refused, naming it; --like's
    photo is analysed once, in the driver (the job holds its numbers, not the photo)."""
    from pixelfes.actions import photo as au_photo

    paths, _ = photos
    out = tmp_path / "o"
    base = ["synthesize", *map(str, paths[:3]), "--to", "surprised", "-o", str(out), "-q",
            "--jobs", "1"]
    assert main([*base, "--au", "26=0.5"]) == 0
    capsys.readouterr()
    assert main([*base, "--au", "26=0.5"]) == 0
    assert "wrote 0 image(s)" in capsys.readouterr().err
    for extra, named in ((["--au", "26=0.6"], "au: was {'AU26': 0.5}, now {'AU26': 0.6}"),
                         ([], "au: was {'AU26': 0.5}, now not given"),
                         (["--au", "26=0.5", "--engine", "actions"],
                          "engine: was not given, now 'actions'")):
        assert main([*base, *extra]) == 1
        assert f"records a run with other settings ({named}" in capsys.readouterr().err
    calls = []
    real = au_photo.analyze_image
    monkeypatch.setattr(au_photo, "analyze_image", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert main([*base, "--au", "26=0.5", "--like", str(like_photo)]) == 1
    err = capsys.readouterr().err
    assert "like: was not given, now {'AU1': " in err and "..." in err
    assert len(calls) == 1
    from pixelfes.photojobs import resolve_refs as refs_of

    ((_, ref),) = refs_of("neutral", ["actions"], None, like={"AU26": 0.25, "AU1": 0.5})
    assert ref.like == (("AU1", 0.5), ("AU26", 0.25)) and ref.sha256 == ""


def test_augment_all_takes_the_recipes_unless_learned_only():
    from pixelfes.commands.augment import targets_of

    assert targets_of("all", "neutral") == ["happy", "sad", "angry", "surprised", "disgusted",
                                            "fearful"]
    assert targets_of("all", "neutral", "learned") == ["happy"]


def test_augment_with_action_units_equals_synthesize(tmp_path, photos):
    paths, _ = photos
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "x.jpg").write_bytes(paths[0].read_bytes())
    assert main(["augment", str(ds), "-o", str(tmp_path / "aug"), "--to", "sad,happy", "--au",
                 "26=0.4", "-q", "--jobs", "1"]) == 0
    assert main(["synthesize", str(paths[0]), "--to", "all", "--au", "26=0.4", "-o",
                 str(tmp_path / "syn") + "/", "-q"]) == 0
    for t in ("sad", "happy"):
        assert (tmp_path / "aug" / t / "x.jpg").read_bytes() == \
            (tmp_path / "syn" / f"p0_{t}.jpg").read_bytes()
    # --like labels its outputs with the one expression --to names
    like = ["augment", str(ds), "-o", str(tmp_path / "like"), "-q", "--like", str(paths[1])]
    assert main([*like, "--to", "sad,happy"]) == 1
    assert main([*like]) == 1
    assert not (tmp_path / "like").exists()


def _model_loads() -> int:
    from pixelfes.photojobs import _load

    return _load.cache_info().misses


def test_pixel_budget_reaches_the_workers(tmp_path, photos):
    paths, _ = photos
    out = tmp_path / "o"
    assert main(["synthesize", str(paths[0]), "--to", "happy", "-o", str(out), "-q",
                 "--jobs", "2", "--max-pixels", "1000"]) == 1
    (row,) = iter_lines(out / "pixelfes-manifest.jsonl")
    assert row["status"] == "failed" and row["error"].startswith("ImageTooLargeError")


def test_bad_scaling_options_fail_before_any_work(tmp_path, photos, capsys):
    paths, _ = photos
    base = ["synthesize", str(paths[0]), "--to", "happy", "-o", str(tmp_path / "o"), "-q"]
    assert main([*base, "--jobs", "0"]) == 1
    assert main([*base, "--jobs", "1", "--chunk", "0"]) == 1
    err = capsys.readouterr().err
    assert "--jobs must be 1 or more" in err and "--chunk must be 1 or more" in err
    assert not (tmp_path / "o").exists()


def test_no_dask_import_without_dask(tmp_path, photos):
    paths, _ = photos
    code = ("import sys; from pixelfes.cli import main; "
            f"rc = main(['synthesize', {str(paths[0])!r}, '--to', 'happy', '-o', "
            f"{str(tmp_path / 'o')!r}, '-q', '--jobs', '2']); "
            "print(rc, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    assert done.stdout.split("\n")[-2] == "0 []"


# -- crashes: nothing lost, nothing duplicated ----------------------------------------------
def test_interrupted_run_resumes_where_it_stopped(tmp_path, photos):
    paths, ref = photos
    out = tmp_path / "out"
    items = plan_synthesize(paths, out, ["happy"], 1.0)
    manifest = out / "pixelfes-manifest.jsonl"

    def stop(k, rows):
        if k == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_photo_job("synthesize", _job(), items, manifest, [1.0], jobs=1, dask=None, chunk=2,
                      overwrite=False, progress=False, on_chunk=stop)
    assert len(_done_rows(manifest)) == 4
    summary, _ = run_photo_job("synthesize", _job(), items, manifest, [1.0], jobs=1, dask=None,
                               chunk=2, overwrite=False, progress=False)
    assert (summary.skipped, summary.done, summary.failed) == (4, 2, 0)
    rows = _done_rows(manifest)
    assert sorted(r["output"] for r in rows) == sorted({r["output"] for r in rows})  # no repeats
    assert len(rows) == len(paths) and _files(out) == _files(ref)
    # a done output deleted by hand is made again; the rest is skipped
    (out / "p3_happy.jpg").unlink()
    summary, _ = run_photo_job("synthesize", _job(), items, manifest, [1.0], jobs=1, dask=None,
                               chunk=2, overwrite=False, progress=False)
    assert (summary.skipped, summary.done) == (5, 1) and _files(out) == _files(ref)


def test_interrupted_dask_run_resumes_on_dask(tmp_path, photos, cluster):
    paths, ref = photos
    out = tmp_path / "out"
    items = plan_synthesize(paths, out, ["happy"], 1.0)
    manifest = out / "pixelfes-manifest.jsonl"
    run = dict(jobs=None, dask=cluster.scheduler_address, chunk=1, overwrite=False,
               progress=False)

    def stop(k, rows):
        if k == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_photo_job("synthesize", _job(), items, manifest, [1.0], on_chunk=stop, **run)
    summary, _ = run_photo_job("synthesize", _job(), items, manifest, [1.0], **run)
    assert summary.skipped == 2 and summary.done == len(paths) - 2 and summary.failed == 0
    rows = _done_rows(manifest)
    assert sorted(r["output"] for r in rows) == sorted(o.path for i in items for o in i.outputs)
    assert _files(out) == _files(ref)


def test_a_new_run_does_not_replace_files_it_did_not_write(tmp_path, photos, capsys):
    paths, _ = photos
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0_happy.jpg").write_bytes(b"mine")
    args = ["synthesize", str(paths[0]), "--to", "happy", "-o", str(out), "-q", "--jobs", "1"]
    assert main(args) == 1
    assert "p0_happy.jpg already exists (add --overwrite" in capsys.readouterr().err
    assert (out / "p0_happy.jpg").read_bytes() == b"mine"
    assert not (out / "pixelfes-manifest.jsonl").exists()


def test_dask_worker_killed_mid_run_loses_and_duplicates_nothing(tmp_path, photos, cluster):
    paths, ref = photos
    from pixelfes.runners import DaskRunner

    runner = DaskRunner(cluster.scheduler_address)  # one client in this process: the runner's
    client = runner.client
    out = tmp_path / "out"
    items = plan_synthesize(paths, out, ["happy"], 1.0)
    manifest = out / "pixelfes-manifest.jsonl"
    pids = client.run(os.getpid)  # {worker address: process id}
    killed = []

    def kill(k, rows):  # after the first chunk: SIGKILL a worker that is busy with another
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        if not busy:  # on a loaded machine no worker may hold a task at this moment: next chunk
            return
        os.kill(pids[busy[0]], signal.SIGKILL)
        killed.append(busy[0])

    try:
        summary, _ = run_photo_job("synthesize", _job(), items, manifest, [1.0], jobs=None,
                                   dask=None, chunk=1, overwrite=False, progress=False,
                                   on_chunk=kill, runner=runner)
        client.wait_for_workers(2, timeout=120)  # the nanny restarts the killed worker
    finally:
        runner.close()
    assert killed and (summary.done, summary.failed) == (len(paths), 0), summary.errors
    rows = list(iter_lines(manifest))
    assert len(rows) == len(paths) and all(r["status"] == DONE for r in rows)
    assert len({r["output"] for r in rows}) == len(paths)
    assert _files(out) == _files(ref)
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_a_run_removes_the_temporary_files_a_killed_writer_left_for_its_outputs(tmp_path,
                                                                                   photos):
    # what a SIGKILLed worker leaves (the Dask test above, when the kill lands mid-write):
    # a young temp of an output this run then makes; another name's temp is not the run's
    paths, ref = photos
    out = tmp_path / "out"
    out.mkdir()
    items = plan_synthesize(paths[:2], out, ["happy"], 1.0)
    name = Path(items[0].outputs[0].path).name
    orphan = out / f".{name}.pixelfes-tmp-k1ll3d.jpg"
    foreign = out / ".notours.jpg.pixelfes-tmp-l1v3.jpg"
    for p in (orphan, foreign):
        p.write_bytes(b"half a JPEG")
    summary, _ = run_photo_job("synthesize", _job(), items, out / "pixelfes-manifest.jsonl",
                               [1.0], jobs=1, dask=None, chunk=1, overwrite=False,
                               progress=False)
    assert (summary.done, summary.failed) == (2, 0)
    assert not orphan.exists() and foreign.exists()
    assert sorted(p.name for p in out.glob(".*")) == [foreign.name]


def _malloc_settings() -> tuple[str | None, str | None]:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("MALLOC_MMAP_THRESHOLD_")


def test_dask_local_starts_its_own_cluster_with_photo_friendly_malloc(monkeypatch):
    from pixelfes.runners import DaskRunner

    # the module's cluster fixture has left Dask's 64 KiB setting in os.environ (a nanny
    # writes its settings there): a user's environment would not have it
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    runner = DaskRunner("local", 1)
    try:
        got = list(runner.imap_unordered(_echo, None, [[1], [2]], lambda c, m: None))
        settings = runner.client.run(_malloc_settings)
    finally:
        runner.close()
    assert sorted(got) == [[1], [2]]
    # Dask's own 64 KiB trim cost ~1.7x CPU per photo (benchmarks/bench_scale.py)
    assert list(settings.values()) == [("134217728", "33554432")]


def _echo(job: object, chunk: list[int]) -> list[int]:
    return chunk


def _die_once(flag: str, chunk: list[int]) -> list[int]:
    """A pool task that kills its process the first time it sees chunk [3]."""
    if chunk == [3] and not os.path.exists(flag):
        Path(flag).write_text("x")
        os._exit(1)
    return chunk


def test_pool_replaces_a_dead_process_and_reruns_its_chunks(tmp_path):
    chunks = [[i] for i in range(8)]
    got = list(PoolRunner(2).imap_unordered(_die_once, str(tmp_path / "flag"), chunks,
                                            lambda c, m: ["lost", *c]))
    assert sorted(got) == chunks  # every chunk exactly once, none recorded as lost


def _pid(job: object, chunk: list[int]) -> list[int]:
    return [os.getpid()]


def test_a_started_pool_has_its_workers_up_before_the_first_task():
    """``start()`` brings every worker up in the background (the fork server's start then
    overlaps planning); the tasks run on those workers; closing an unused started pool
    does not hang."""
    pool = PoolRunner(2)
    pool.start()
    pool.start()  # a second call is a no-op
    assert pool._starting is not None
    pool._starting.join(timeout=60)
    assert pool._pool is not None and len(pool._pool._processes) == 2
    up = set(pool._pool._processes)
    pids = {p for r in pool.imap_unordered(_pid, None, [[i] for i in range(6)], lambda c, m: [m])
            for p in r}
    assert pids <= up and pids
    pool.close()
    idle = PoolRunner(2)
    idle.start()
    idle.close()
    assert idle._pool is None and idle._starting is None


def test_a_pool_that_cannot_start_raises_where_it_is_used(monkeypatch):
    """An error while starting in the background is not printed by the thread: the first
    use of the pool raises it."""
    import pytest

    pool = PoolRunner(2)

    def broken() -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(pool, "_new_executor", broken)
    pool.start()
    with pytest.raises(OSError, match="no processes here"):
        list(pool.imap_unordered(_echo, None, [[1]], lambda c, m: [m]))
    pool.close()


# -- augment ----------------------------------------------------------------------------------
def test_augment_writes_a_labelled_data_set_and_resumes(tmp_path, photos, capsys):
    paths, ref = photos
    ds = tmp_path / "ds"
    (ds / "a").mkdir(parents=True)
    (ds / "b").mkdir()
    (ds / "a" / "x.jpg").write_bytes(paths[0].read_bytes())
    (ds / "b" / "x.jpg").write_bytes(paths[1].read_bytes())
    Image.new("RGB", (64, 64), (90, 90, 90)).save(ds / "blank.png")
    out = tmp_path / "aug"
    args = ["augment", str(ds), "-o", str(out), "--strengths", "0,1", "-q", "--engine", "learned"]
    assert main(args) == 1  # the blank image has no face: listed, the others written
    assert "blank.png: NoFaceError" in capsys.readouterr().err
    labels = (out / "labels.csv").read_text().splitlines()
    assert labels == ["source,expression,strength,output,faces",
                      f"{ds / 'a' / 'x.jpg'},happy,0,happy/a/x_s0.jpg,1",
                      f"{ds / 'a' / 'x.jpg'},happy,1,happy/a/x_s1.jpg,1",
                      f"{ds / 'b' / 'x.jpg'},happy,0,happy/b/x_s0.jpg,1",
                      f"{ds / 'b' / 'x.jpg'},happy,1,happy/b/x_s1.jpg,1"]
    assert (out / "happy/a/x_s1.jpg").read_bytes() == (ref / "p0_happy.jpg").read_bytes()
    zero = tmp_path / "zero.jpg"
    assert main(["synthesize", str(paths[1]), "--to", "happy", "--strength", "0", "-o",
                 str(zero), "-q"]) == 0
    assert (out / "happy/b/x_s0.jpg").read_bytes() == zero.read_bytes()
    assert main(args) == 1  # the rerun retries only the failed image
    err = capsys.readouterr().err
    assert "wrote 0 image(s)" in err and "4 done earlier, 2 failed" in err


def test_augment_of_many_photos_uses_every_core_by_default(tmp_path, photos, monkeypatch):
    """From 8 photos and no --jobs, augment runs one process per core: the same bytes."""
    from pixelfes import runners
    from pixelfes.commands.synthesize import AUTO_JOBS_PHOTOS

    paths, _ = photos
    ds = tmp_path / "ds"
    ds.mkdir()
    for i in range(AUTO_JOBS_PHOTOS):
        (ds / f"x{i}.jpg").write_bytes(paths[i % len(paths)].read_bytes())
    monkeypatch.setattr(runners, "usable_cores", lambda: 2)
    asked = []
    real = runners.make_runner
    monkeypatch.setattr(runners, "make_runner",
                        lambda jobs=None, dask=None: asked.append(jobs) or real(jobs, dask))
    assert main(["augment", str(ds), "-o", str(tmp_path / "auto"), "-q", "--chunk", "2", "--to", "happy"]) == 0
    assert main(["augment", str(ds), "-o", str(tmp_path / "one"), "-q", "--jobs", "1", "--to", "happy"]) == 0
    assert asked == [2, 1]
    auto = _files(tmp_path / "auto" / "happy")
    assert len(auto) == AUTO_JOBS_PHOTOS and auto == _files(tmp_path / "one" / "happy")


# -- training on shards -----------------------------------------------------------------------
def test_exact_sums_match_float_stats_and_do_not_depend_on_the_cut(rng):
    x, t = make_pairs(rng, n=40, h=4, w=3, c=2)
    whole = ExactSums((4, 3, 2)).update(x, t)
    cut = [ExactSums((4, 3, 2)).update(x[a:b], t[a:b]) for a, b in ((0, 7), (7, 30), (30, 40))]
    merged = cut[2] + cut[0] + cut[1]
    for name in ("sk", "skk", "sm", "skm", "counts", "msums"):
        assert np.array_equal(getattr(whole, name), getattr(merged, name))
    ref = PixelStats((4, 3, 2)).update(x / 255.0, t / 255.0)
    got = whole.to_stats()
    assert got.n == ref.n == 40
    assert np.array_equal(got.counts, ref.counts)
    for name in ("sx", "sxx", "st", "sxt", "tsums"):  # float sums of k/255 round differently
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-13, atol=0)
    planted = whole.to_stats()
    planted.sxt[0] += 1e-9
    assert not np.allclose(planted.sxt, ref.sxt, rtol=1e-13, atol=0)


@pytest.mark.parametrize("kind", ["pixel-rr", "pixel-kr"])
def test_sharded_fit_on_dask_equals_one_process_bit_for_bit(tmp_path, rng, cluster, kind):
    x, t = make_pairs(rng, n=30, h=8, w=8, c=3, distinct=40)
    pairs = []
    for i in range(len(x)):
        a, b = tmp_path / f"a{i:02d}.png", tmp_path / f"b{i:02d}.png"
        Image.fromarray(x[i]).save(a)
        Image.fromarray(t[i]).save(b)
        pairs.append((str(a), str(b), ""))
    cls = model_class(kind)
    job = ShardJob(cls.needs_histograms, 3)
    from pixelfes.runners import DaskRunner

    runner = DaskRunner(cluster.scheduler_address)
    try:
        far = sum_shards(pairs, job, runner, shard_size=7).sums
    finally:
        runner.close()
    near = sum_shards(pairs, job, InProcessRunner(), shard_size=30).sums
    a = cls().fit_stats(far.to_stats())
    b = fit_exact(cls(), x, t)
    ref = cls().fit(x, t)
    for key, value in b._state().items():
        assert np.array_equal(a._state()[key], value)
        np.testing.assert_allclose(value, ref._state()[key], rtol=1e-9, atol=1e-12)
    assert near.n == far.n == 30


def test_train_cli_on_dask_writes_the_same_file(tmp_path, rng, cluster):
    x, t = make_pairs(rng, n=20, h=12, w=12, c=3, distinct=60)
    for side, arr in (("src", x), ("tgt", t)):
        (tmp_path / side).mkdir()
        for i, img in enumerate(arr):
            Image.fromarray(img).save(tmp_path / side / f"p{i:02d}.png")
    common = ["train", "--model", "pixel-kr", "--source", str(tmp_path / "src"), "--target",
              str(tmp_path / "tgt"), "-q"]
    assert main([*common, "-o", str(tmp_path / "one.safetensors")]) == 0
    assert main([*common, "-o", str(tmp_path / "many.safetensors"),
                 "--dask", cluster.scheduler_address]) == 0
    assert main([*common, "-o", str(tmp_path / "pool.safetensors"), "--jobs", "2"]) == 0
    one = (tmp_path / "one.safetensors").read_bytes()
    assert one == (tmp_path / "many.safetensors").read_bytes() == \
        (tmp_path / "pool.safetensors").read_bytes()


def test_train_refuses_scaling_a_model_without_statistics(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rc = main(["train", "--model", "mr", "--source", str(tmp_path / "a"), "--target",
               str(tmp_path / "b"), "-o", str(tmp_path / "m.safetensors"), "--jobs", "2"])
    assert rc == 1 and "train mr without them" in capsys.readouterr().err


def test_manifest_rows_are_json_lines(tmp_path, photos):
    paths, _ = photos
    out = tmp_path / "o"
    assert main(["synthesize", str(paths[0]), "--to", "happy", "-o", str(out), "-q",
                 "--manifest", str(tmp_path / "run.jsonl")]) == 0
    header, row = (json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines())
    assert header["kind"] == "pixelfes-manifest" and header["settings"]["command"] == "synthesize"
    assert set(row) == {"input", "output", "expression", "strength", "faces_found",
                        "faces_changed", "status", "error"}


def test_auto_chunk_keeps_every_worker_busy():
    from pixelfes.photojobs import DEFAULT_CHUNK, auto_chunk

    assert auto_chunk(40, 2) == 1 and auto_chunk(1000, 2) == DEFAULT_CHUNK == 8
    assert auto_chunk(3, 4) == 1 and auto_chunk(0, 2) == 1 and auto_chunk(64, 1) == 2
    assert auto_chunk(65, 2) == 2 and auto_chunk(64, 2) == 1 and auto_chunk(400, 3) == 5
    assert auto_chunk(449, 2) == 8 and auto_chunk(448, 2) == 7  # ceil(n / (32 x workers))
    assert auto_chunk(200, 1) == 7 and auto_chunk(33, 1) == 2 and auto_chunk(32, 1) == 1


def _warm_state(job: object, chunk: list[int]) -> list[object]:
    """What a worker holds before it has done any photo."""
    from pixelfes.face import blazeface, detect
    from pixelfes.photojobs import _load

    nets = sorted(getattr(blazeface._LOCAL, "nets", {}))
    return ["ert68" in detect._CACHE, _load.cache_info().currsize, nets]


def test_pool_workers_start_with_the_photo_path_loaded():
    """The fork server imports :mod:`pixelfes._pool_warm`: a worker's first photo finds the
    68-point model, the default model and the second looks' nets already made (about 0.1 s
    of CPU a worker, ``benchmarks/bench_jobs.py``)."""
    pool = PoolRunner(1)
    try:
        (got,) = list(pool.imap_unordered(_warm_state, None, [[0]], lambda c, m: [m]))
    finally:
        pool.close()
    from pixelfes.face import blazeface

    side = (blazeface.SMALL_WINDOW, blazeface.WINDOW)
    assert got == [True, 1, sorted((s, s, False) for s in side)]


def test_warming_runs_on_one_thread():
    """A fork copies only the forking thread: the fork server must start no thread pool
    while warming (OpenCV's, LiteRT's). OpenBLAS's own threads are held to one here."""
    import subprocess
    import sys

    code = ("import os, pixelfes._pool_warm, pixelfes.face.detect as d; "
            "print(len(os.listdir('/proc/self/task')), 'ert68' in d._CACHE)")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "True"]
