"""A small in-memory ``multipart/form-data`` reader with a hard cap on the request's size.

Starlette's own form parser spools files over 1 MB to disk; this one keeps every field in
memory, stops reading as soon as the body passes ``max_bytes`` (413) and accepts only the
fields the API names (any file name the client sends is ignored, never used as a path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Any

from .uploads import UploadError


def _options(header: bytes | str) -> tuple[bytes, dict[bytes, bytes]]:
    from python_multipart.multipart import parse_options_header

    kind, params = parse_options_header(header)
    return kind, params


async def read_form(content_type: str, content_length: str | None, body: AsyncIterator[bytes],
                    fields: Collection[str], max_bytes: int) -> dict[str, bytes]:
    """The named fields of a multipart body, as bytes; unknown or repeated fields are a 400."""
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser

    kind, params = _options(content_type or "")
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(400, "send multipart/form-data (e.g. curl -F image=@photo.jpg -F to=happy)")
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise UploadError(400, "the Content-Length header is not a number") from None
        if declared > max_bytes:
            raise UploadError(413, f"the request is {declared / 1e6:.1f} MB; at most "
                                   f"{max_bytes / 1e6:.0f} MB is accepted")
    out: dict[str, bytearray] = {}
    state: dict[str, Any] = {"name": None, "field": b"", "value": b"", "disposition": b""}

    def on_part_begin() -> None:
        state.update(name=None, disposition=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        if state["field"].lower() == b"content-disposition":
            state["disposition"] = state["value"]
        state.update(field=b"", value=b"")

    def on_headers_finished() -> None:
        _, opts = _options(state["disposition"])
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        if name not in fields:
            raise UploadError(400, f"unknown form field {name!r}; the fields are: "
                                   f"{', '.join(sorted(fields))}")
        if name in out:
            raise UploadError(400, f"the form field {name!r} is given twice")
        out[name] = bytearray()
        state["name"] = name

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["name"] is not None:
            out[state["name"]] += data[start:end]

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
    })
    total = 0
    try:
        async for chunk in body:
            total += len(chunk)
            if total > max_bytes:
                raise UploadError(413, f"the request is larger than {max_bytes / 1e6:.0f} MB")
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise UploadError(400, f"the multipart body is malformed: {exc}") from exc
    return {k: bytes(v) for k, v in out.items()}
