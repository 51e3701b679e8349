"""Every face in a group photo, the plausibility check, and the per-photo report (issue 13)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import real_data
from pixelfes.face import NoFaceError, search_faces
from pixelfes.face import blazeface as bf
from pixelfes.face.detect import DlibBackend, PyramidBackend, dlib_box, fit_landmarks
from pixelfes.face.plausible import LIMITS, assess, check_landmarks, mean_shape

skimage_data = pytest.importorskip("skimage.data", reason="scikit-image provides the astronaut photo")

# dlib's HOG box of the astronaut's face in skimage.data.astronaut() (see conftest.ASTRONAUT_68)
ASTRO_BOX = (175, 76, 266, 167)


def astronaut_group(widths: list[int], size: tuple[int, int] = (2400, 1400)) -> tuple[np.ndarray, list]:
    """The astronaut's face (public domain) pasted at ``widths`` px into a grey photo; centres."""
    astro = skimage_data.astronaut()
    x0, y0, x1, y1 = ASTRO_BOX
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0
    patch = astro[int(cy - side): int(cy + side), int(cx - side): int(cx + side)]
    canvas = np.full((size[1], size[0], 3), 150, np.uint8)
    truths = []
    x = 20
    for w in widths:
        s = w / side
        p = cv2.resize(patch, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        y = (size[1] - p.shape[0]) // 2
        canvas[y:y + p.shape[0], x:x + p.shape[1]] = p
        truths.append((x + p.shape[1] / 2, y + p.shape[0] / 2, w))
        x += p.shape[1] + 20
    return canvas, truths


def found_all(faces, truths) -> bool:
    hits = 0
    for tx, ty, w in truths:
        hits += any(abs(0.5 * (f.box[0] + f.box[2]) - tx) < 0.3 * w
                    and abs(0.5 * (f.box[1] + f.box[3]) - ty) < 0.4 * w
                    and 0.6 * w < f.size < 1.6 * w for f in faces)
    return hits == len(truths)


def test_pyramid_finds_small_and_large_faces_the_old_detector_missed() -> None:
    widths = [45, 90, 180, 400]
    rgb, truths = astronaut_group(widths)
    found = search_faces(rgb)
    assert found_all(found.faces, truths), [(f.box, f.score) for f in found.faces]
    assert len(found.faces) == 4 and not found.skipped
    # before issue 13 (HOG on a 640 px copy) only the large ones were found
    old = [b for b, _ in DlibBackend().boxes(rgb)]
    assert len(old) < 4


def test_min_face_and_max_faces_are_reported() -> None:
    rgb, _ = astronaut_group([50, 90, 180])
    found = search_faces(rgb, min_size=80)
    assert len(found.faces) == 2
    small = [s for s in found.skipped if "minimum face size 80" in s.reason]
    assert len(small) <= 1  # a 50 px face is below 0.75 * 80: beneath notice
    found = search_faces(rgb, max_faces=1)
    assert len(found.faces) == 1 and found.faces[0].size > 150
    assert sum("beyond --max-faces 1" in s.reason for s in found.skipped) == 2
    assert "face at (" in found.skipped[0].describe()


def test_tiles_cover_every_pixel_once_with_equal_sizes() -> None:
    for n in (100, bf.TILE, bf.TILE + 1, 3 * bf.TILE + 77):
        tiles = bf._tiles(n)
        assert {b - a for a, b, _, _ in tiles} == {min(n, bf.TILE)}
        cores = [(c0, c1) for _, _, c0, c1 in tiles]
        assert cores[0][0] == 0 and cores[-1][1] == n
        assert all(cores[i][1] == cores[i + 1][0] for i in range(len(cores) - 1))
        # each core lies inside its tile, at least OVERLAP / 2 from a shared edge
        for (a, b, c0, c1), i in zip(tiles, range(len(tiles)), strict=True):
            assert a <= c0 < c1 <= b
            if i:
                assert c0 - a >= bf.OVERLAP // 2 - 1


def test_pyramid_scales_are_bounded() -> None:
    s = bf.pyramid_scales(6000, 8000, min_face=40)
    assert s[0] == pytest.approx(bf.PIXELS_PER_MIN_FACE / 40)
    assert all(b == pytest.approx(a / bf.PASS_RATIO) for a, b in zip(s, s[1:], strict=False))
    # the passes' pixels sum to about s0^2 * 16/15 of the photo's: bounded per megapixel
    assert sum(x * x for x in s) < 1.1 * s[0] ** 2
    with pytest.raises(ValueError, match="min_face"):
        bf.pyramid_scales(100, 100, min_face=0)


@pytest.mark.parametrize("runtime", ["litert", "opencv"])
def test_anchor_count_matches_the_net(runtime: str) -> None:
    if runtime == "litert":
        pytest.importorskip("ai_edge_litert")
    rgb = np.full((96, 160, 3), 128, np.uint8)
    net = (bf._LiteRTNet if runtime == "litert" else bf._OpenCVNet)((96, 160))
    raw, logit = net.run(rgb)
    assert len(raw) == len(logit) == len(bf._anchors(96, 160))


def test_both_runtimes_give_the_same_detections() -> None:
    """LiteRT (the default) and OpenCV's DNN (the fallback) run the same net: equal outputs."""
    pytest.importorskip("ai_edge_litert")
    from skimage.data import astronaut

    img = np.ascontiguousarray(astronaut()[:480, :480])
    a = bf._LiteRTNet((480, 480)).run(img)
    b = bf._OpenCVNet((480, 480)).run(img)
    assert np.abs(a[0] - b[0]).max() < 0.01 and np.abs(a[1] - b[1]).max() < 0.01
    assert a[1].max() > 0  # a face is there: the comparison covers a detection


def test_second_look_window_maps_back_to_the_photo() -> None:
    """A window's pixel q is photo point (x0 + kx q, y0 + ky q): on a photo whose value is
    its own column (or row) number, each window pixel holds the photo coordinate of its
    centre (area averaging of a ramp), and what lies beyond the photo is grey."""
    h, w = 300, 250
    ramp_x = np.repeat(np.repeat(np.arange(w, dtype=np.uint8)[None, :, None], h, 0), 3, 2)
    ramp_y = np.ascontiguousarray(np.repeat(np.repeat(np.arange(h) % 256, 1)[:, None, None]
                                            .astype(np.uint8), w, 1).repeat(3, 2))
    for cx, cy, scale, side in ((120.0, 150.0, 0.5, 64), (20.0, 280.0, 0.5, 128), (240.0, 10.0, 0.8, 64)):
        for img, axis in ((ramp_x, 0), (ramp_y, 1)):
            win, (x0, y0, kx, ky) = bf._window(img, cx, cy, scale, side)
            assert win.shape == (side, side, 3) and kx == pytest.approx(1 / scale, rel=0.05)
            q = np.arange(side) + 0.5  # window pixel centres
            px = x0 + kx * q - 0.5  # photo coordinate (pixel centres on integers)
            py = y0 + ky * q - 0.5
            inside_x = (px > 1) & (px < w - 2)
            inside_y = (py > 1) & (py < min(h, 256) - 2)
            if axis == 0:
                got = win[side // 2, :, 0].astype(float)
                assert np.abs(got[inside_x] - px[inside_x]).max() < 0.75
                assert (got[(px < -kx) | (px > w - 1 + kx)] == 127).all()
            else:
                got = win[:, side // 2, 0].astype(float)
                assert np.abs(got[inside_y] - py[inside_y]).max() < 0.75
                assert (got[(py < -ky) | (py > h - 1 + ky)] == 127).all()


def test_the_finest_pass_as_a_cascade_finds_what_the_whole_pass_finds(monkeypatch) -> None:
    """Small and mid-size faces in a photo big enough for the cascade: the same faces as
    the whole finest pass, boxes within 10 % of their size and scores within 0.15; and
    with second looks priced out, exactly the whole pass."""
    rgb, truths = astronaut_group([40, 46, 55, 70, 95, 130, 400], size=(2200, 1200))
    scales = bf.pyramid_scales(*rgb.shape[:2])
    assert rgb.shape[0] * rgb.shape[1] * scales[0] ** 2 >= bf.CASCADE_FROM

    def faces(cheap: float) -> list:
        monkeypatch.setattr(bf, "CHEAP", cheap)
        return bf.blazeface_detect(rgb)

    whole, cascade = faces(1.0), faces(0.8)
    assert found_all(whole, truths) and found_all(cascade, truths)
    # (both also fire on the 400 px face's lower half, score 0.56, which the check rejects)
    for tx, ty, w in truths:
        def nearest(found: list, tx: float = tx, ty: float = ty):
            return min(found, key=lambda d: np.hypot((d.box[0] + d.box[2]) / 2 - tx,
                                                     (d.box[1] + d.box[3]) / 2 - ty))
        a, b = nearest(whole), nearest(cascade)
        assert np.abs(np.subtract(a.box, b.box)).max() < 0.1 * w
        assert abs(a.score - b.score) < 0.15
    monkeypatch.setattr(bf, "RECHECK_COST", 1e9)  # a second look costs more than the pass
    priced_out = faces(0.8)
    assert [d.box for d in priced_out] == [d.box for d in whole]


def test_a_box_inside_a_better_face_is_dropped() -> None:
    row = np.zeros(17)
    big = row.copy()
    big[[0, 1, 2, 3, 16]] = [100, 100, 100, 100, 0.95]
    inner = row.copy()
    inner[[0, 1, 2, 3, 16]] = [100, 120, 40, 40, 0.6]  # the lower half of the same face
    other = row.copy()
    other[[0, 1, 2, 3, 16]] = [300, 100, 50, 50, 0.7]
    out = bf._weighted_nms(np.array([inner, big, other]), 0.3)
    assert len(out) == 2 and out[0][16] == 0.95 and out[0][0] == 100 and out[1][0] == 300


def test_plausibility_of_the_mean_shape_and_broken_shapes() -> None:
    m = mean_shape() * 100 + 300
    assert check_landmarks(m) is None
    assert abs(assess(m).yaw) < 3
    broken = m.copy()
    broken[48:68, 1] -= 0.9 * (m[48:68, 1].mean() - m[30, 1])  # the mouth pushed onto the nose
    assert "implausible face shape" in check_landmarks(broken)
    # the 3D mean face seen turned: 30 degrees is a three-quarter view (the 2D similarity
    # residual refused such real faces), 50 is beyond what dlib's model is trained on
    from pixelfes.actions.pose import pose_from_angles
    from pixelfes.face.pose import ict_mean_68

    for yaw, pitch in ((30.0, 0.0), (-30.0, 15.0), (50.0, 0.0), (-55.0, -10.0)):
        seen = pose_from_angles(yaw, pitch, 20.0, 9.0, (300.0, 280.0)).project(ict_mean_68())
        got = assess(seen)
        assert got.yaw == pytest.approx(yaw, abs=1e-6) and got.residual < 1e-9
        assert ("turned too far" in (check_landmarks(seen) or "")) == (abs(yaw) > 45)
    drift = m + np.array([0.0, 0.08 * (m[42:48, 0].mean() - m[36:42, 0].mean())])
    assert "unstable" in check_landmarks(m, refit=drift)
    # near two limits at once: each alone passes, together they say "wrong fit"
    from pixelfes.face.plausible import Plausibility

    near = Plausibility(instability=0.8 * LIMITS["instability"], disagreement=0.1, yaw=0.0,
                        residual=0.7 * LIMITS["residual"])
    assert "both unsteady" in near.reason()  # 0.64 + 0.49 > 1
    assert Plausibility(0.8 * LIMITS["instability"], 0.1, 0.0, 0.5 * LIMITS["residual"]).reason() is None
    assert Plausibility(float("nan"), 0.1, 0.0, 0.9 * LIMITS["residual"]).reason() is None
    assert check_landmarks(m, refit=m + 0.2) is None
    kp = np.zeros((6, 2))
    eyes = float(np.hypot(*(m[42:48].mean(0) - m[36:42].mean(0))))
    kp[0], kp[1] = m[36:42].mean(0), m[42:48].mean(0)
    kp[3] = m[[48, 51, 54, 57]].mean(0) + [0, 0.5 * eyes]  # the detector's mouth lower down
    assert "disagree" in check_landmarks(m, keypoints=kp)
    assert assess(m).instability != assess(m).instability  # nan: not measured
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        assess(m[:5])


def test_the_check_reads_the_same_3d_mean_face_as_the_action_units() -> None:
    """``assets/shape/ict_mean_68.npy`` is the action-unit basis's mean shape, kept apart."""
    from pixelfes.actions.basis import load_basis
    from pixelfes.face.pose import ict_mean_68

    np.testing.assert_array_equal(ict_mean_68(), load_basis().mean_shape)


@pytest.mark.realdata
def test_squeezed_and_tilted_faces_are_fitted_right_or_skipped() -> None:
    """London photos squeezed and tilted (the issue's case: mouth put on the upper lip):
    each face is either skipped with a reason, or fitted within 0.1 pupil distances of its
    transformed hand-placed points. Bad fits exist among these (the check is exercised)."""
    from PIL import Image

    from london_groups import DLIB_IDX, TEM_IDX, london_neutral, read_tem, squeeze_tilt

    sources = london_neutral(real_data("london-face-set"))[:6]
    # (squeeze x, squeeze y, tilt): from benchmarks/bench_plausible.py's range
    cases = [(0.5, 1.0, 25.0), (1.0, 0.5, -30.0), (0.45, 1.0, -15.0), (0.6, 1.0, 35.0)]
    skipped = kept = bad_unskipped = bad_raw = 0
    for photo, tem in sources:
        rgb = cv2.resize(np.asarray(Image.open(photo).convert("RGB")), (675, 675),
                         interpolation=cv2.INTER_AREA)
        t0 = read_tem(tem) * 0.5 - 0.25
        for sx, sy, deg in cases:
            img, m = squeeze_tilt(rgb, sx, sy, deg)
            t = t0 @ m[:, :2].T + m[:, 2]
            iod = float(np.hypot(*(t[0] - t[1])))
            found = search_faces(img)
            def near(box, t=t, iod=iod) -> bool:
                return bool(np.hypot((box[0] + box[2]) / 2 - t[:2, 0].mean(),
                                     (box[1] + box[3]) / 2 - t[:2, 1].mean()) < iod)

            raw = [d for d in PyramidBackend().candidates(img) if near(dlib_box(d.keypoints))]
            if raw:
                lm, _ = fit_landmarks(img, raw[0].keypoints)
                bad_raw += np.linalg.norm(lm[DLIB_IDX] - t[TEM_IDX], axis=1).mean() / iod > 0.1
            for f in found.faces:
                if near(f.box):
                    kept += 1
                    err = np.linalg.norm(f.landmarks[DLIB_IDX] - t[TEM_IDX], axis=1).mean() / iod
                    bad_unskipped += err > 0.1
            skipped += sum(near(s.box) for s in found.skipped)
    n = len(sources) * len(cases)
    assert bad_raw >= 4, bad_raw  # without the check, these fits are often wrong: measured 8
    # measured 1: 008 squeezed to 45 %, error 0.117, from the chin; eyes, nose, mouth in place
    assert bad_unskipped <= 1, (bad_unskipped, kept, skipped)
    # such squeezes are far outside real faces' shapes: most are skipped (measured 5 kept,
    # 14 skipped, 5 not found of 24)
    assert kept >= 3 and skipped >= 8 and kept + skipped >= n // 2, (kept, skipped)


def test_pipeline_reports_and_raises_when_nothing_can_change() -> None:
    from pixelfes.pipeline import FaceReport, resolve_model, synthesize_rgb

    model = resolve_model(None, "neutral", "happy")
    rgb, _ = astronaut_group([60, 200], size=(700, 500))
    report = FaceReport()
    out = synthesize_rgb(rgb, model, report=report)
    assert report.changed == 2 and report.found == 2 and not report.skipped
    assert report.summary() == "2 faces found, 2 changed, 0 skipped"
    assert np.any(out != rgb)
    with pytest.raises(NoFaceError, match="no face found"):
        synthesize_rgb(np.full((300, 300, 3), 90, np.uint8), model)
    with pytest.raises(NoFaceError, match="no face found") as err:
        synthesize_rgb(rgb, model, min_size=600)
    assert not err.value.skipped


def test_all_faces_skipped_is_an_error_naming_the_reasons(monkeypatch) -> None:
    from pixelfes.face import plausible
    from pixelfes.pipeline import FaceReport, resolve_model, synthesize_rgb

    model = resolve_model(None, "neutral", "happy")
    rgb, _ = astronaut_group([200], size=(500, 400))
    monkeypatch.setitem(plausible.LIMITS, "residual", 0.0)  # every shape implausible
    report = FaceReport()
    with pytest.raises(NoFaceError, match="no face could be changed.*implausible face shape"):
        synthesize_rgb(rgb, model, report=report)
    assert report.found == 1 and report.changed == 0
    assert LIMITS["residual"] == 0.0


def test_cli_per_photo_lines_and_jobs_give_the_same_bytes(tmp_path, capsys) -> None:
    from PIL import Image

    from pixelfes.cli import main

    for i, widths in enumerate(([60, 200], [120], [90, 150], [190])):
        rgb, _ = astronaut_group(widths, size=(600, 450))
        Image.fromarray(np.roll(rgb, 7 * i, axis=1)).save(tmp_path / f"p{i}.jpg", quality=90)
    Image.fromarray(np.full((200, 200, 3), 100, np.uint8)).save(tmp_path / "empty.png")
    photos = [str(p) for p in sorted(tmp_path.glob("p*.jpg"))] + [str(tmp_path / "empty.png")]
    code = main(["synthesize", *photos, "--to", "happy", "-o", str(tmp_path / "one"), "-q"])
    assert code == 1  # the empty photo fails, the others are written
    err = capsys.readouterr().err
    assert "p0.jpg: 2 faces found, 2 changed, 0 skipped" in err
    assert "p1.jpg: 1 face found, 1 changed, 0 skipped" in err
    assert "empty.png" in err and "no face found" in err
    # the process pool (--jobs 2, faces found by the same search in each worker): same bytes
    assert main(["synthesize", *photos, "--to", "happy", "-o", str(tmp_path / "two"), "--jobs", "2",
                 "-q"]) == 1
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir() if p.name in one}
    assert len(one) == 4 and one == two


def test_paste_change_in_place_equals_a_new_copy() -> None:
    from pixelfes.face import align_face, detect_faces, paste_change

    photo = np.ascontiguousarray(skimage_data.astronaut())
    a = align_face(photo, detect_faces(photo)[0].landmarks)
    after = np.clip(a.crop.astype(int) + 30, 0, 255).astype(np.uint8)
    new = paste_change(photo, a, after)
    inplace = photo.copy()
    assert paste_change(inplace, a, after, out=inplace) is inplace
    np.testing.assert_array_equal(new, inplace)
    other = np.zeros_like(photo)
    np.testing.assert_array_equal(paste_change(photo, a, after, out=other), new)
    with pytest.raises(ValueError, match="out must be shaped like photo"):
        paste_change(photo, a, after, out=other[:10])


def test_rgb_jpeg_loads_the_same_pixels_without_a_convert(tmp_path) -> None:
    from PIL import Image

    from pixelfes.imageio import load_image

    path = tmp_path / "a.jpg"
    Image.fromarray(skimage_data.astronaut()).save(path, quality=90)
    with Image.open(path) as im:
        ref = np.asarray(im.convert("RGB"))
    got = load_image(path)
    np.testing.assert_array_equal(got.rgb, ref)
    assert got.mode == "RGB" and got.rgb.flags.c_contiguous


def test_threads_find_the_same_faces() -> None:
    """OpenCV nets are not thread-safe: each thread gets its own (a web server's workers)."""
    from concurrent.futures import ThreadPoolExecutor

    rgb, _ = astronaut_group([60, 120, 240], size=(900, 500))
    want = [f.landmarks for f in search_faces(rgb).faces]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: [f.landmarks for f in search_faces(rgb).faces], range(8)))
    for got in runs:
        assert len(got) == len(want) == 3
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_many_photos_run_in_a_pool_by_default_with_the_same_bytes_and_lines(
        tmp_path, capsys, monkeypatch) -> None:
    """From AUTO_JOBS_PHOTOS photos a plain run uses one process per core: the same files,
    byte for byte, and the same per-photo lines (faces, skips, errors) as one process."""
    from PIL import Image

    from pixelfes import runners
    from pixelfes.cli import main
    from pixelfes.commands import synthesize as cmd

    monkeypatch.setattr(runners, "usable_cores", lambda: 2)  # a pool even on one core
    made = []
    for i in range(cmd.AUTO_JOBS_PHOTOS - 1):
        rgb, _ = astronaut_group([150] if i % 2 else [110, 60], size=(420, 320))
        made.append(tmp_path / f"p{i}.jpg")
        Image.fromarray(np.roll(rgb, 5 * i, axis=1)).save(made[-1], quality=90)
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    photos = [str(p) for p in made] + [str(tmp_path / "broken.jpg")]
    calls = []
    real = runners.make_runner
    monkeypatch.setattr(runners, "make_runner", lambda jobs=None, dask=None, **kw: calls.append(jobs)
                        or real(jobs, dask, **kw))
    assert main(["synthesize", *photos, "--to", "happy", "-o", str(tmp_path / "pool"), "-q"]) == 1
    pool_err = capsys.readouterr().err
    monkeypatch.setattr(cmd, "AUTO_JOBS_PHOTOS", 10**6)
    assert main(["synthesize", *photos, "--to", "happy", "-o", str(tmp_path / "one"), "-q"]) == 1
    one_err = capsys.readouterr().err
    assert calls == [2, 1]
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    pool = {p.name: p.read_bytes() for p in (tmp_path / "pool").iterdir()}
    assert len(one) == len(made) and one == pool
    lines = sorted(ln for ln in one_err.splitlines() if not ln.startswith("wrote"))
    assert lines == sorted(ln for ln in pool_err.splitlines() if not ln.startswith("wrote"))
    assert any("broken.jpg" in ln and ln.startswith("error:") for ln in lines)
    assert sum("2 faces found, 2 changed" in ln for ln in lines) == 4


def test_reduction_takes_an_exact_integer_step_first() -> None:
    """``_reduced`` by a non-integer factor: an exact k x k block mean first, then the area
    resize; against a plain reference (block means, then cv2's area resize of those)."""
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (300, 250, 3), dtype=np.uint8)
    got = bf._reduced(rgb, 0.4)  # factor 2.5: a 2 x 2 step, then 125 -> 100
    blocks = rgb.reshape(150, 2, 125, 2, 3).astype(np.float64).mean(axis=(1, 3))
    want = cv2.resize(np.rint(blocks).astype(np.uint8), (100, 120), interpolation=cv2.INTER_AREA)
    assert got.shape == (120, 100, 3)
    assert np.abs(got.astype(int) - want).max() <= 1
    # integer factors and sizes not divisible by k take the single area resize
    np.testing.assert_array_equal(bf._reduced(rgb, 0.5),
                                  cv2.resize(rgb, (125, 150), interpolation=cv2.INTER_AREA))
    odd = rgb[:299, :249]
    np.testing.assert_array_equal(bf._reduced(odd, 0.4),
                                  cv2.resize(odd, (100, 120), interpolation=cv2.INTER_AREA))


def test_halving_one_channel_at_a_time_equals_pyrdown() -> None:
    """The large-face view's anti-aliasing step: per-channel pyrDown is cv2.pyrDown's pixels,
    for odd sizes and for a view into a larger photo."""
    import cv2

    from pixelfes.face.detect import _halved

    rng = np.random.default_rng(5)
    photo = rng.integers(0, 256, (203, 157, 3), dtype=np.uint8)
    for img in (photo, photo[11:190, 7:150], photo[..., 1]):
        got = _halved(img)
        assert got.dtype == np.uint8 and np.array_equal(got, cv2.pyrDown(img))


def test_the_8_bit_cheap_look_finds_what_the_float_one_finds() -> None:
    """The finest pass's cheap look by the 8-bit net (``MODEL_INT8``): the same faces as the
    float net's with scores within 0.03. Boxes and key points move by a few % of the face
    (sd 1.6 % on 160 faces of 60-110 px; measured here up to 3 % and 7 % up to 95 px) and
    more on faces near the top of the look's range (11 % at 150 px): the second look (float)
    places every face up to LARGE x the smallest, so these are candidates' positions only.
    (On 840 made-up faces of 40-50 px, the hardest: lowest score 0.52 vs 0.55 float, the
    logits' difference sd 0.12.)"""
    pytest.importorskip("ai_edge_litert")
    rgb, truths = astronaut_group([40, 44, 50, 60, 75, 95, 120, 150], size=(1900, 1100))
    s = bf.pyramid_scales(*rgb.shape[:2])[0] * bf.CHEAP
    small = bf._reduced(rgb, s)
    looks = [np.array(bf._weighted_nms(bf._pass(rgb, s, bf.LOW_SCORE, small, quantized=q),
                                       bf.NMS_IOU)) for q in (False, True)]
    for tx, ty, w in truths:
        a, b = (d[np.argmin(np.hypot(d[:, 0] - tx, d[:, 1] - ty))] for d in looks)
        assert np.hypot(a[0] - tx, a[1] - ty) < 0.3 * w  # the float look found it ...
        size = max(a[2], a[3])
        near = 0.05 if w <= 100 else 0.15  # see the docstring
        assert np.abs(a[:4] - b[:4]).max() < near * size  # ... and so did the 8-bit one
        assert np.abs(a[4:16] - b[4:16]).max() < 2 * near * size
        assert abs(a[16] - b[16]) < 0.03
    # the input's quantisation: one code per grey level, 0 and 255 the ends of int8, each
    # within half a step of its value (x - 127.5) / 127.5
    net = bf._net((64, 64), quantized=True)
    assert net._lut is not None and net._lut[0] == -128 and net._lut[255] == 127
    assert np.all(np.diff(net._lut.astype(int)) == 1)
    info = net._it.get_input_details()[0]
    q_scale, zero = info["quantization"]
    value = (np.arange(256) - 127.5) / 127.5
    assert np.abs((net._lut.astype(float) - zero) * q_scale - value).max() <= 0.5 * q_scale + 1e-6
    # the fast path (flipping the top bit) writes what the table says
    img = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, 2)
    img = np.pad(img, ((24, 24), (24, 24), (0, 0)))
    assert net._flip
    flipped = net.kept(img, -np.inf)
    net._flip = False
    table = net.kept(img, -np.inf)
    assert all(np.array_equal(a, b) for a, b in zip(flipped, table, strict=True))


def test_without_litert_the_cheap_look_runs_the_float_net(monkeypatch) -> None:
    """OpenCV cannot run the 8-bit file: there every look is the float net's, and
    ``QUANTIZED = False`` gives the float cascade with LiteRT too (exactly main's)."""
    monkeypatch.setattr(bf, "runtime", lambda: "opencv")
    monkeypatch.setattr(bf, "_LOCAL", __import__("threading").local())
    assert isinstance(bf._net((64, 64), quantized=True), bf._OpenCVNet)
    monkeypatch.undo()
    pytest.importorskip("ai_edge_litert")
    rgb, _ = astronaut_group([42, 60, 90], size=(1800, 1100))
    monkeypatch.setattr(bf, "QUANTIZED", False)
    calls = []
    real = bf._pass
    monkeypatch.setattr(bf, "_pass", lambda *a, **k: calls.append(k.get("quantized")) or real(*a, **k))
    bf.blazeface_detect(rgb)
    assert calls and not any(calls)


def test_litert_input_written_in_place_equals_set_tensor() -> None:
    """The float net's input written straight into LiteRT's tensor and only the kept rows
    copied out: the raw outputs of the plain ``set_tensor`` / ``get_tensor`` way, bit for bit."""
    pytest.importorskip("ai_edge_litert")
    from ai_edge_litert.interpreter import Interpreter

    img = np.ascontiguousarray(skimage_data.astronaut()[:320, :256])
    it = Interpreter(model_path=str(bf.MODEL), num_threads=1)
    d = it.get_input_details()[0]
    it.resize_tensor_input(d["index"], [1, 320, 256, 3])
    it.allocate_tensors()
    x = img.astype(np.float32)  # the way main prepared it: a float copy, then set_tensor
    x -= 127.5
    x *= 1.0 / 127.5
    it.set_tensor(d["index"], x[None])
    it.invoke()
    outs = {o["shape"][-1]: it.get_tensor(o["index"]) for o in it.get_output_details()}
    raw, logit = bf._LiteRTNet((320, 256)).run(img)
    assert np.array_equal(raw, outs[16].reshape(-1, 16))
    assert np.array_equal(logit, outs[1].reshape(-1))


def test_faces_beyond_the_cheap_looks_range_keep_their_float_detection(monkeypatch) -> None:
    """A face larger than the finest pass's range is the coarser (float) passes' alone: with
    the 8-bit cheap look, the same box, score and landmarks as with the float one."""
    pytest.importorskip("ai_edge_litert")
    rgb, truths = astronaut_group([330, 45], size=(1400, 900))
    got = []
    for quantized in (False, True):
        monkeypatch.setattr(bf, "QUANTIZED", quantized)
        got.append(search_faces(rgb).faces)
    big = [max(faces, key=lambda f: f.size) for faces in got]
    assert big[0].size > 250 and big[0].box == big[1].box and big[0].score == big[1].score
    assert np.array_equal(big[0].landmarks, big[1].landmarks)
    assert len(got[0]) == len(got[1]) == 2  # the small face is found by both looks
