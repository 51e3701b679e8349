"""``pixelfes serve``: the web page and HTTP API on this machine (needs the ``web`` extra)."""

from __future__ import annotations

import argparse
import ipaddress
import sys

EPILOG = """examples:
  pixelfes serve                          # http://127.0.0.1:8000/ on this machine only
  pixelfes serve --port 8080
  pixelfes serve --host 0.0.0.0           # reachable from other machines (a warning says so)
  pixelfes serve --cors https://my.app    # let pages on that origin call the API

The page: open the printed URL. The API (also at /docs):
  curl -F image=@photo.jpg -F to=happy http://127.0.0.1:8000/api/synthesize -o happy.jpg
Needs the web extra: pip install "pixelfes[web]"."""

MISSING = ('the web page needs FastAPI and uvicorn, which are not installed: '
           'pip install "pixelfes[web]"')


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the web page and HTTP API",
                       description="Serve the pixelfes web page and its HTTP API.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                   help="allow pages on ORIGIN (e.g. https://my.app) to call the API; repeatable")
    p.add_argument("--workers", type=int, default=None,
                   help="syntheses at once (default: CPU count, at most 4); more requests wait")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def _warm_up() -> None:
    """Load the default models and dlib's detector now, so the first photo is not slow."""
    import numpy as np

    from ..face import NoFaceError
    from ..pipeline import find_faces, resolve_model
    from ..web.service import available_models

    for d in available_models()["directions"]:
        resolve_model(None, d["from"], d["to"])
    try:
        find_faces(np.zeros((64, 64, 3), np.uint8))
    except NoFaceError:
        pass


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be in 1..65535; got {args.port}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1; got {args.workers}")
    try:
        import uvicorn

        from ..web.app import create_app
    except ImportError as exc:
        raise ImportError(f"{MISSING} ({exc})") from None
    app = create_app(cors_origins=args.cors, workers=args.workers)
    _warm_up()
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: other machines on the network can use this "
              "server (no login, no TLS). Use --host 127.0.0.1 to keep it to this machine.",
              file=sys.stderr)
    print(f"pixelfes web page: {url_of(args.host, args.port)}  (API docs: "
          f"{url_of(args.host, args.port)}docs; Ctrl+C stops)", flush=True)
    uvicorn.run(app, host=args.host.strip("[]"), port=args.port, log_level="warning",
                limit_concurrency=128, timeout_keep_alive=5)
    return 0
