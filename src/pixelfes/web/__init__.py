"""The web page and HTTP API (``pixelfes serve``; needs ``pip install "pixelfes[web]"``)."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(**kwargs: Any) -> Any:
    """The FastAPI app (see :func:`pixelfes.web.app.create_app`); imports FastAPI on call."""
    from .app import create_app as _create_app

    return _create_app(**kwargs)
