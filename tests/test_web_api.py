"""The web API through an HTTP client: good photos, bad uploads, limits, cache, concurrency."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason='the web extra is not installed: pip install "pixelfes[web]"')
pytest.importorskip("httpx", reason="httpx is not installed (it is in the dev extra)")

with warnings.catch_warnings():  # new Starlette prefers httpx2 but still works with httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from pixelfes.web import create_app  # noqa: E402
from pixelfes.web.app import STATIC_DIR, Busy, Limiter  # noqa: E402
from pixelfes.web.cache import CachedPhoto, FaceCache  # noqa: E402
from pixelfes.web.service import PhotoService  # noqa: E402
from pixelfes.web.uploads import Photo, decode_upload  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "images" / "london-001-neutral.jpg"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(workers=2))


@pytest.fixture(scope="module")
def example_rgb() -> np.ndarray:
    with Image.open(EXAMPLE) as im:
        return np.asarray(im.convert("RGB"))


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def post(client: TestClient, path: str, image: bytes, name: str = "photo.jpg", **fields: str):
    return client.post(path, files={"image": (name, image, "application/octet-stream")},
                       data=fields)


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` (its pixel data is not even valid)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


# -- the good paths ---------------------------------------------------------------------


def test_models_lists_directions_and_action_units(client: TestClient) -> None:
    info = client.get("/api/models").json()
    assert {"from": "neutral", "to": "happy", "model": "neutral-to-happy"} in info["directions"]
    # the other expressions come from the action units' recipes, with no training
    assert {"from": "neutral", "to": "surprised", "model": "action-units"} in info["directions"]
    assert {"happy", "sad", "angry", "surprised", "disgusted", "fearful"} <= set(info["expressions"])
    units = {u["id"]: u for u in info["action_units"]}
    assert {"1", "2", "4", "12", "26"} <= set(units) and units["12"]["name"]
    assert {m["name"] for m in info["models"]} >= {"neutral-to-happy", "happy-to-neutral"}


def test_action_units_alone_and_on_top_of_an_expression(client: TestClient) -> None:
    photo = EXAMPLE.read_bytes()
    r = post(client, "/api/synthesize", photo, to="surprised")
    assert r.status_code == 200, r.text
    assert r.headers["X-Pixelfes-Model"] == "action-units"
    happy = post(client, "/api/synthesize", photo, to="happy")
    raised = post(client, "/api/synthesize", photo, to="happy", au="1=0.8,2=0.8")
    assert happy.status_code == raised.status_code == 200, raised.text
    assert raised.content != happy.content  # the brows went up on top of the smile


def test_faces_returns_the_face_box(client: TestClient) -> None:
    r = post(client, "/api/faces", EXAMPLE.read_bytes())
    assert r.status_code == 200, r.text
    info = r.json()
    assert (info["width"], info["height"], info["format"]) == (675, 675, "JPEG")
    assert len(info["faces"]) == 1
    x0, y0, x1, y1 = info["faces"][0]["box"]
    # the face of the example: centre near the middle, about 270 px wide (pinned loosely)
    assert 300 < (x0 + x1) / 2 < 380 and 330 < (y0 + y1) / 2 < 410
    assert 220 < x1 - x0 < 320


def test_synthesize_png_is_exactly_the_library_result(client: TestClient,
                                                      example_rgb: np.ndarray) -> None:
    from pixelfes import synthesize

    r = post(client, "/api/synthesize", png_bytes(example_rgb), "x.png", to="happy",
             strength="0.8")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-pixelfes-faces"] == "1"
    assert r.headers["x-pixelfes-model"] == "neutral-to-happy"
    got = decode(r.content)
    want = synthesize(example_rgb, to="happy", strength=0.8)
    assert got.shape == example_rgb.shape
    np.testing.assert_array_equal(got, want)
    changed = np.any(got != example_rgb, axis=2)
    assert changed.sum() > 2000  # the face changed ...
    assert not changed[:150].any() and not changed[:, :150].any()  # ... and the edges did not


def test_synthesize_jpeg_gives_a_full_size_jpeg(client: TestClient, example_rgb: np.ndarray) -> None:
    r = post(client, "/api/synthesize", EXAMPLE.read_bytes(), to="happy")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(r.content)) as im:
        assert (im.format, im.size) == ("JPEG", (675, 675))
    assert float(r.headers["x-pixelfes-server-ms"]) > 0


def test_strength_zero_returns_the_photo_unchanged(client: TestClient,
                                                   example_rgb: np.ndarray) -> None:
    r = post(client, "/api/synthesize", png_bytes(example_rgb), to="happy", strength="0")
    np.testing.assert_array_equal(decode(r.content), example_rgb)


def test_faces_field_changes_only_the_chosen_face(client: TestClient,
                                                  example_rgb: np.ndarray) -> None:
    two = np.concatenate([example_rgb, example_rgb[:, ::-1]], axis=1)  # 1350 x 675, two faces
    data = png_bytes(two)
    boxes = post(client, "/api/faces", data).json()["faces"]
    assert len(boxes) == 2
    left = min(range(2), key=lambda i: boxes[i]["box"][0])
    got = decode(post(client, "/api/synthesize", data, to="happy", faces=str(left)).content)
    assert np.any(got[:, :675] != two[:, :675])
    np.testing.assert_array_equal(got[:, 675:], two[:, 675:])
    both = decode(post(client, "/api/synthesize", data, to="happy", faces="0,1").content)
    assert np.any(both[:, 675:] != two[:, 675:])
    r = post(client, "/api/synthesize", data, to="happy", faces="2")
    assert r.status_code == 400 and "indices 0..1" in r.json()["detail"]


def test_client_file_name_is_never_used(client: TestClient) -> None:
    r = post(client, "/api/synthesize", EXAMPLE.read_bytes(), "../../../etc/passwd", to="happy")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"


# -- bad uploads: clear 4xx JSON --------------------------------------------------------


def test_no_face(client: TestClient) -> None:
    blank = png_bytes(np.full((200, 300, 3), 180, np.uint8))
    assert post(client, "/api/faces", blank).json()["faces"] == []
    r = post(client, "/api/synthesize", blank, to="happy")
    assert r.status_code == 422 and "no face found" in r.json()["detail"]


@pytest.mark.parametrize("data", [b"hello, not a photo", b"%PDF-1.4 ...", b"GIF89a...."])
def test_not_an_image(client: TestClient, data: bytes) -> None:
    r = post(client, "/api/synthesize", data, "photo.jpg", to="happy")  # the name lies
    assert r.status_code == 415 and "not an image" in r.json()["detail"]


def test_broken_image(client: TestClient) -> None:
    r = post(client, "/api/synthesize", EXAMPLE.read_bytes()[:300], to="happy")
    assert r.status_code == 422 and "cannot be decoded" in r.json()["detail"]


def test_too_many_bytes() -> None:
    small = TestClient(create_app(max_upload_bytes=50_000))
    r = post(small, "/api/synthesize", EXAMPLE.read_bytes(), to="happy")  # 77 KB
    assert r.status_code == 413 and "MB" in r.json()["detail"]


def test_decompression_bomb_refused_from_the_header(client: TestClient) -> None:
    # 413, not 422: refused from the header, before any (here impossible) decoding
    r = post(client, "/api/synthesize", bomb_png(9000, 9000), "bomb.png", to="happy")
    assert r.status_code == 413 and "9000x9000 px (81.0 MP)" in r.json()["detail"]
    r = post(client, "/api/faces", bomb_png(30000, 30000))  # past Pillow's own bomb limit too
    assert r.status_code == 413 and "too many pixels" in r.json()["detail"]


def test_decode_checks_pixels_before_decoding() -> None:
    from pixelfes.web.uploads import UploadError

    with pytest.raises(UploadError, match="at most 0.01 MP") as exc:
        decode_upload(EXAMPLE.read_bytes(), max_pixels=10_000)
    assert exc.value.status == 413


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_cli_reads_the_same_pixel_budget(tmp_path: Path) -> None:
    from pixelfes.imageio import MAX_PIXELS, load_image

    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png(10000, 10000))
    assert 10000 * 10000 > MAX_PIXELS
    with pytest.raises(ValueError, match="over the pixel budget"):
        load_image(path)


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({"to": "grumpy"}, 400, "unknown expression 'grumpy'"),
    ({"to": "sad", "from": "happy"}, 422, "no model for happy -> sad"),
    ({}, 400, "'to'"),
    ({"to": "happy", "strength": "lots"}, 400, "strength must be a number"),
    ({"to": "happy", "strength": "5"}, 400, "strength must be in 0..2"),
    ({"to": "happy", "faces": "first"}, 400, "face indices"),
    ({"to": "happy", "au": "99=0.8"}, 400, "au: action unit '99' is not supported"),
    ({"to": "happy", "au": "12=lots"}, 400, "au: "),
    ({"to": "happy", "model": "/etc/passwd"}, 400, "unknown form field 'model'"),
])
def test_bad_fields(client: TestClient, fields: dict[str, str], status: int, words: str) -> None:
    r = post(client, "/api/synthesize", EXAMPLE.read_bytes(), **fields)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_missing_image_and_not_multipart(client: TestClient) -> None:
    r = client.post("/api/synthesize", data={"to": "happy"})
    assert r.status_code == 400 and "multipart" in r.json()["detail"]
    r = client.post("/api/synthesize", files={"to": (None, "happy")})
    assert r.status_code == 400 and "'image'" in r.json()["detail"]
    r = client.post("/api/faces", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_no_cors_unless_asked(client: TestClient) -> None:
    headers = {"Origin": "https://elsewhere.example"}
    assert "access-control-allow-origin" not in client.get("/api/models", headers=headers).headers
    cors = TestClient(create_app(cors_origins=["https://elsewhere.example"]))
    got = cors.get("/api/models", headers=headers).headers
    assert got["access-control-allow-origin"] == "https://elsewhere.example"
    other = cors.get("/api/models", headers={"Origin": "https://evil.example"}).headers
    assert "access-control-allow-origin" not in other


def test_example_photo_missing_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pixelfes.web import app as web_app

    monkeypatch.setenv("PIXELFES_EXAMPLE", str(tmp_path / "none.jpg"))
    monkeypatch.setattr(web_app, "EXAMPLE_NAME", Path("no") / "such.jpg")
    assert web_app.example_photo() is None
    got = TestClient(create_app()).get("/example.jpg")
    assert got.status_code == 404 and "your own" in got.json()["detail"]
    monkeypatch.setenv("PIXELFES_EXAMPLE", str(EXAMPLE))
    assert web_app.example_photo() == EXAMPLE


def test_page_static_files_and_docs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # the example photo is docs/'s copy (the package ships no photo of a person)
    got = client.get("/example.jpg")
    assert got.status_code == 200 and got.content == EXAMPLE.read_bytes()
    assert not list(STATIC_DIR.glob("*.jp*g"))
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/models", "/api/faces", "/api/synthesize"} <= set(paths)
    body = paths["/api/synthesize"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert {"image", "to", "strength", "faces", "au"} <= set(body["schema"]["properties"])


def test_page_loads_nothing_from_elsewhere() -> None:
    import re

    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC_DIR / name).read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), name
        assert not re.search(r"""(fetch\(|url\()\s*["']?(https?:)?//""", text), name
        assert "@import" not in text


# -- the cache ------------------------------------------------------------------------


def test_a_slider_move_does_not_detect_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import pixelfes.pipeline as pipeline

    calls = []
    real = pipeline.find_faces
    monkeypatch.setattr(pipeline, "find_faces", lambda *a, **k: calls.append(1) or real(*a, **k))
    service = PhotoService()
    data = EXAMPLE.read_bytes()
    outs = [service.synthesize(data, "happy", s).data for s in (0.2, 0.6, 1.0, 0.6)]
    assert len(calls) == 1  # detected once, then every strength from the cache
    assert outs[1] == outs[3] and outs[0] != outs[2]
    assert (service.cache.hits, service.cache.misses) == (3, 1)


def _entry(n: int) -> CachedPhoto:
    from pixelfes.imageio import load_image

    return CachedPhoto(Photo(load_image(np.zeros((n, n, 3), np.uint8)), "PNG"), ())


def test_cache_is_bounded_by_count_and_bytes() -> None:
    cache = FaceCache(max_items=2, max_bytes=10**9)
    for key in "abc":
        cache.put(key, _entry(4))
    assert len(cache) == 2 and cache.get("a") is None  # least recently used went first
    cache.get("b")
    cache.put("d", _entry(4))
    assert cache.get("b") is not None and cache.get("c") is None
    one = _entry(100).nbytes  # rgb + float64 base: 100*100*3 + 100*100*3*8
    cache = FaceCache(max_items=100, max_bytes=2 * one + 10)
    for key in "abc":
        cache.put(key, _entry(100))
    assert len(cache) == 2 and cache.nbytes <= cache.max_bytes
    cache.put("huge", _entry(300))  # larger than the whole budget: not kept, nothing evicted
    assert cache.get("huge") is None and len(cache) == 2


# -- bounded concurrency --------------------------------------------------------------


def test_limiter_rejects_past_the_queue_and_after_the_wait() -> None:
    async def scenario() -> list[str]:
        got = []
        limiter = Limiter(workers=1, max_waiting=1, timeout=0.05)
        async with limiter.slot():
            waiter = asyncio.create_task(_try(limiter))  # waits, times out
            await asyncio.sleep(0)
            got.append(await _try(limiter))  # the queue is full: rejected at once
            got.append(await waiter)
        got.append(await _try(limiter))  # free again
        return got

    async def _try(limiter: Limiter) -> str:
        try:
            async with limiter.slot():
                return "ran"
        except Busy:
            return "busy"

    assert asyncio.run(scenario()) == ["busy", "busy", "ran"]


def test_busy_server_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(workers=1, max_waiting=0, wait_timeout=0.0)

    async def full() -> None:
        limiter = app.state.limiter
        async with limiter.slot():
            import httpx

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.post("/api/faces", files={"image": ("x.jpg", EXAMPLE.read_bytes())})
            assert r.status_code == 503 and r.headers["retry-after"] == "2"
            assert "busy" in r.json()["detail"]

    asyncio.run(full())


@pytest.mark.slow
def test_50_concurrent_requests_all_answered_correctly(capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    from web_server import running_server

    pytest.importorskip("uvicorn", reason='the web extra is not installed: pip install "pixelfes[web]"')
    data = EXAMPLE.read_bytes()
    strengths = ["0.2", "0.5", "0.8", "1.0", "1.3"]
    reference = PhotoService()
    want = {s: reference.synthesize(data, "happy", float(s)).data for s in strengths}
    with running_server(create_app(workers=2)) as url:
        def one(i: int) -> tuple[int, bool]:
            s = strengths[i % len(strengths)]
            r = httpx.post(f"{url}/api/synthesize", files={"image": ("p.jpg", data)},
                           data={"to": "happy", "strength": s}, timeout=60)
            return r.status_code, r.content == want[s]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(one, range(50)))
        seconds = time.perf_counter() - t0
    statuses = [s for s, _ in results]
    with capsys.disabled():
        print(f"\n50 concurrent /api/synthesize: {seconds:.2f} s, "
              f"{statuses.count(200)} x 200, {statuses.count(503)} x 503")
    assert statuses == [200] * 50
    assert all(ok for _, ok in results)  # each answer is the right picture for its strength


# -- pixelfes serve -------------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.1.2.3", True),
                                                ("localhost", True), ("::1", True),
                                                ("0.0.0.0", False), ("192.168.1.5", False),
                                                ("example.org", False)])
def test_is_loopback(host: str, loopback: bool) -> None:
    from pixelfes.commands.serve import is_loopback

    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serve_prints_the_url_and_warns_off_loopback(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str],
                                                     host: str, warned: bool) -> None:
    import uvicorn

    from pixelfes.cli import main

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    assert main(["serve", "--host", host, "--port", "8765"]) == 0
    out, err = capsys.readouterr()
    assert f"http://{host}:8765/" in out
    assert ("warning: listening on" in err) is warned
    assert (seen["host"], seen["port"]) == (host, 8765)


def test_serve_without_the_web_extra_names_the_install(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from pixelfes.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ImportError
    assert main(["serve"]) == 1
    assert 'pip install "pixelfes[web]"' in capsys.readouterr().err
