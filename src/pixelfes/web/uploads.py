"""Uploaded photos: the type sniffed from the bytes, the pixel budget checked before decoding.

Everything stays in memory; nothing from the client ever names a file. Errors are
:class:`UploadError` with the HTTP status the web API answers with.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from ..imageio import MAX_PIXELS, LoadedImage, check_pixels

#: Largest upload accepted (bytes); a 40 MP JPEG is typically 10-20 MB.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024

# Magic numbers of the formats the page accepts -> (Pillow format, MIME type).
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG", "image/png"),
    (b"WEBP", 8, "WEBP", "image/webp"),  # RIFF....WEBP
    (b"BM", 0, "BMP", "image/bmp"),
    (b"II*\x00", 0, "TIFF", "image/tiff"),
    (b"MM\x00*", 0, "TIFF", "image/tiff"),
)
MIME_TYPES = {fmt: mime for _, _, fmt, mime in _SIGNATURES}


class UploadError(ValueError):
    """A bad upload; ``status`` is the HTTP status to answer (400, 413, 415, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sniff_format(data: bytes) -> str:
    """The Pillow format name of ``data`` from its first bytes (never from a file name)."""
    for magic, offset, fmt, _ in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (fmt != "WEBP" or data[:4] == b"RIFF"):
            return fmt
    raise UploadError(415, "the upload is not an image pixelfes reads: send a JPEG, PNG, WebP, "
                           "BMP or TIFF photo")


@dataclass(frozen=True)
class Photo:
    """A decoded upload: the image (upright RGB plus its way back) and its sniffed format."""

    loaded: LoadedImage
    format: str

    @property
    def mime(self) -> str:
        return MIME_TYPES[self.format]

    @property
    def nbytes(self) -> int:
        """Memory the decoded photo holds (for the cache's byte budget)."""
        arrays = (self.loaded.rgb, self.loaded.alpha, self.loaded.base)
        return sum(a.nbytes for a in arrays if a is not None)


def decode_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES,
                  max_pixels: int = MAX_PIXELS) -> Photo:
    """Check and decode an uploaded photo: size, sniffed type, then pixels from the header only."""
    from ..imageio import load_image

    if not data:
        raise UploadError(400, "the field 'image' is empty: send a photo file")
    if len(data) > max_bytes:
        raise UploadError(413, f"the photo is {len(data) / 1e6:.1f} MB; at most "
                               f"{max_bytes / 1e6:.0f} MB is accepted")
    fmt = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
            w, h = img.size
            if w * h > max_pixels:
                raise UploadError(413, f"the photo is {w}x{h} px ({w * h / 1e6:.1f} MP); at "
                                       f"most {max_pixels / 1e6:g} MP is accepted: reduce it first")
            check_pixels(img.size, "the photo")
            img.load()
            loaded = load_image(img)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadError(413, f"the photo has too many pixels to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UploadError(422, f"the {fmt} photo cannot be decoded: {exc}") from exc
    return Photo(loaded=loaded, format=fmt)


def encode_like(photo: Photo, rgb_result: object, quality: int = 92) -> bytes:
    """The result in the upload's format, mode and metadata (JPEG at ``quality``)."""
    import numpy as np

    out = photo.loaded.to_output(np.asarray(rgb_result))
    assert isinstance(out, Image.Image)
    params: dict[str, object] = {k: out.info[k] for k in ("icc_profile", "dpi", "exif")
                                 if k in out.info}
    if photo.format in ("JPEG", "WEBP"):
        params["quality"] = quality
    if photo.format == "JPEG" and out.mode not in ("L", "RGB", "CMYK"):
        out = out.convert("RGB")
    buf = io.BytesIO()
    out.save(buf, format=photo.format, **params)
    return buf.getvalue()
