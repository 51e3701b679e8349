"""The web page's slider: time per update of a 1350 px photo with the face cache, vs without.

Run:  python benchmarks/bench_web.py [--moves 20]

A slider move sends the same photo with another strength; the server finds its decoded
pixels and faces in the cache (key: SHA-256 of the bytes) and only aligns, runs the model,
pastes and encodes. Reference, in the same process: the same request with no cache
(decode, detect, 68 landmarks, align, model, paste, encode). Photo: a 1350x1350 London
Face Set photo when ../shared/data is present, else the bundled 675 px example upscaled
to 1350 px. Reports the median over the moves: server time (what X-Pixelfes-Server-Ms
says), the whole HTTP round trip through the in-process test client, and the ratio.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def photo_1350() -> tuple[bytes, str]:
    data_dir = Path(os.environ.get("PIXELFES_DATA", REPO.parent / "shared" / "data"))
    london = sorted((data_dir / "london-face-set" / "neutral_front").glob("*.jpg"))
    if london:
        return london[0].read_bytes(), f"London {london[0].name}"
    from pixelfes.web.app import STATIC_DIR

    with Image.open(STATIC_DIR / "example.jpg") as im:
        big = im.convert("RGB").resize((1350, 1350), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    big.save(buf, format="JPEG", quality=92)
    return buf.getvalue(), "bundled example upscaled to 1350 px"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20, help="slider moves to time (default 20)")
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from pixelfes.web import create_app
    from pixelfes.web.cache import FaceCache
    from pixelfes.web.service import PhotoService

    data, what = photo_1350()
    with Image.open(io.BytesIO(data)) as im:
        size = im.size
    strengths = np.round(np.linspace(0.3, 1.6, args.moves), 3)

    # reference: no cache (max_items=1 and a new key each time would also do; this is explicit)
    fulls = []
    for s in strengths[: max(5, args.moves // 4)]:
        service = PhotoService(FaceCache())
        t0 = time.perf_counter()
        service.synthesize(data, "happy", float(s))
        fulls.append(1000 * (time.perf_counter() - t0))

    cached = PhotoService()
    cached.synthesize(data, "happy", 1.0)  # the upload: decode + detect once (a cache miss)
    direct = []
    for s in strengths:
        direct.append(cached.synthesize(data, "happy", float(s)).server_ms)

    client = TestClient(create_app(workers=1))
    client.post("/api/faces", files={"image": ("p.jpg", data)})
    server, round_trip = [], []
    for s in strengths:
        t0 = time.perf_counter()
        r = client.post("/api/synthesize", files={"image": ("p.jpg", data)},
                        data={"to": "happy", "strength": str(s)})
        round_trip.append(1000 * (time.perf_counter() - t0))
        assert r.status_code == 200, r.text
        server.append(float(r.headers["x-pixelfes-server-ms"]))

    full, med_direct = statistics.median(fulls), statistics.median(direct)
    print(f"photo: {what}, {size[0]}x{size[1]}, {len(data) / 1e3:.0f} KB JPEG")
    print(f"no cache (decode+detect+landmarks+align+model+paste+encode): {full:7.1f} ms median "
          f"of {len(fulls)}")
    print(f"slider move, cached faces (service):                         {med_direct:7.1f} ms "
          f"median of {args.moves}  ({full / med_direct:.1f}x faster)")
    print(f"slider move over HTTP: server time {statistics.median(server):7.1f} ms, round trip "
          f"{statistics.median(round_trip):7.1f} ms (median of {args.moves}; max "
          f"{max(server):.1f} / {max(round_trip):.1f} ms)")
    print(f"goal: <= 150 ms server time per move -> {'met' if statistics.median(server) <= 150 else 'NOT met'}")


if __name__ == "__main__":
    main()
