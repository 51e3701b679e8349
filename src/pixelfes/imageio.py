"""Read and write photos: one 8-bit RGB view for the models, and the way back to the input's kind.

Conventions:
- :attr:`LoadedImage.rgb` is ``(H, W, 3) uint8`` RGB, *upright*: EXIF orientation is applied.
- :meth:`LoadedImage.to_output` gives the result back as the input's kind: a PIL image in the
  input's mode for a PIL image or a path, an array of the input's dtype and shape for an array.
  Alpha is carried over untouched; grayscale inputs get the result's luminance; 16-bit and
  float inputs keep their precision where the result did not change: the *change*
  (result - rgb) is scaled to the input's range and added to the original values.
- Orientation: outputs are upright with the EXIF orientation reset to 1 (what
  ``PIL.ImageOps.exif_transpose`` does), so they display exactly as the input displayed; the
  displayed width and height are those of the input.
- Arrays are RGB(A) channel order, ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``,
  uint8 / uint16 in their full range or floats in ``[0, 1]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ._atomic import atomic_path

__all__ = [
    "MAX_PIXELS",
    "LoadedImage",
    "check_pixels",
    "from_luminance",
    "load_image",
    "read_rgb",
    "save_image",
    "to_luminance",
]

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_GRAY_MODES = ("L", "LA", "1") + _SIXTEEN_BIT_MODES
# BT.601 luma weights (the Y of JPEG's YCbCr)
#: ITU-R BT.601 luma weights of (R, G, B): the one luminance of the package (as OpenCV's RGB2GRAY).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])

#: The pixel budget of one photo (width x height), checked from the header before decoding:
#: 40 megapixels (a 7300 x 5500 photo) decodes to 120 MB of RGB; more is refused, not tried.
MAX_PIXELS = 40_000_000


def check_pixels(size: tuple[int, int], what: object = "the image") -> None:
    """Raise ``ValueError`` if ``size`` (width, height) exceeds :data:`MAX_PIXELS` (a bomb guard)."""
    w, h = (int(v) for v in size)
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
        raise ValueError(f"{what} is {w}x{h} px ({w * h / 1e6:.1f} MP); pixelfes reads photos of "
                         f"at most {MAX_PIXELS / 1e6:g} MP: reduce it first")


def is_grayscale(im: Image.Image) -> bool:
    """Whether a PIL image holds one colour channel: a gray mode, or a palette of greys only."""
    if im.mode in _GRAY_MODES:
        return True
    if im.mode == "P":
        palette = im.getpalette()
        if palette:
            rgb = np.asarray(palette[: 3 * 256], dtype=np.int32).reshape(-1, 3)
            used = np.unique(np.asarray(im))
            rgb = rgb[used[used < len(rgb)]]
            return bool(np.all(rgb == rgb[:, :1]))
    return False


def to_luminance(rgb: np.ndarray) -> np.ndarray:
    """Y of YCbCr (BT.601) of ``(..., 3) uint8`` RGB, as ``(...)`` uint8."""
    rgb = np.asarray(rgb)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"rgb must end with 3 channels (..., 3); got shape {rgb.shape}")
    return np.clip(np.rint(rgb.astype(np.float64) @ LUMA_WEIGHTS), 0, 255).astype(np.uint8)


def from_luminance(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    """RGB with luminance ``y`` ``(...) uint8`` and the chroma (Cb, Cr) of ``like`` ``(..., 3) uint8``.

    Adding the same amount to R, G and B changes Y by that amount and leaves Cb and Cr as they
    were, so the result is ``like + (y - Y(like))`` (exact up to clipping): a grayscale model
    can change a colour photo's brightness pattern without touching its colours, and
    ``from_luminance(to_luminance(c), c) == c``.
    """
    like = np.asarray(like)
    y = np.asarray(y)
    if y.ndim == like.ndim and y.shape[-1:] == (1,):
        y = y[..., 0]
    if like.shape[-1:] != (3,) or y.shape != like.shape[:-1]:
        raise ValueError(f"y must be shaped like[..., 0]; got y {y.shape} and like {like.shape}")
    delta = y.astype(np.int16) - to_luminance(like).astype(np.int16)
    return np.clip(like.astype(np.int16) + delta[..., None], 0, 255).astype(np.uint8)


@dataclass
class LoadedImage:
    """A photo as ``rgb (H, W, 3) uint8`` (upright) plus what is needed to give results back."""

    rgb: np.ndarray = field(repr=False)
    kind: str  # "pil", "array" or "path"
    mode: str  # PIL mode of the input ("RGB", "L", "I;16", ...) or the array's equivalent
    path: Path | None = None
    format: str | None = None  # "JPEG", "PNG", ... when read from a file
    alpha: np.ndarray | None = field(default=None, repr=False)  # (H, W) in the input's dtype
    base: np.ndarray | None = field(default=None, repr=False)  # high-precision colour/gray data
    dtype: np.dtype | None = None  # array input's dtype
    shape: tuple[int, ...] | None = None  # array input's shape
    palette: Image.Image | None = field(default=None, repr=False)  # P-mode input (upright)
    info: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_gray(self) -> bool:
        """Whether the input had a single colour channel (grayscale)."""
        if self.kind == "array":
            assert self.shape is not None
            return len(self.shape) == 2 or self.shape[2] in (1, 2)
        return self.mode in _GRAY_MODES

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the upright image."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def to_output(self, rgb_result: np.ndarray) -> Image.Image | np.ndarray:
        """Give ``rgb_result`` ``(H, W, 3) uint8`` back in the input's mode, dtype and size."""
        res = np.asarray(rgb_result)
        if res.shape != self.rgb.shape or res.dtype != np.uint8:
            raise ValueError(
                f"rgb_result must be (H, W, 3) uint8 like LoadedImage.rgb {self.rgb.shape}; "
                f"got shape {res.shape}, dtype {res.dtype}"
            )
        if self.kind == "array":
            return self._to_array(res)
        return self._to_pil(res)

    # -- helpers -----------------------------------------------------------------------
    def _changed_values(self, res: np.ndarray, gray: bool) -> tuple[np.ndarray, np.ndarray]:
        """The 8-bit result (gray or RGB) and its change from the 8-bit view of the input."""
        if gray:
            new = to_luminance(res)
            old = self.rgb[..., 0]
        else:
            new, old = res, self.rgb
        return new, new.astype(np.int32) - old.astype(np.int32)

    def _to_array(self, res: np.ndarray) -> np.ndarray:
        assert self.shape is not None and self.dtype is not None and self.base is not None
        gray = self.is_gray
        new8, delta = self._changed_values(res, gray)
        if self.dtype == np.uint8:
            colour = new8.astype(np.float64)
        elif np.issubdtype(self.dtype, np.floating):
            colour = self.base + delta / 255.0
            colour = np.clip(colour, 0.0, 1.0)
        else:
            top = float(np.iinfo(self.dtype).max)
            colour = np.clip(self.base + delta * (top / 255.0), 0, top)
        if gray:
            colour = colour[..., None]
        parts = [colour.astype(self.dtype) if np.issubdtype(self.dtype, np.floating)
                 else np.rint(colour).astype(self.dtype)]
        if self.alpha is not None:
            parts.append(self.alpha[..., None])
        out = np.concatenate(parts, axis=2) if len(parts) > 1 else parts[0]
        return out.reshape(self.shape)

    def _to_pil(self, res: np.ndarray) -> Image.Image:
        mode = self.mode
        if mode == "P" and self.palette is not None:
            return self._to_palette(res)
        if mode in _SIXTEEN_BIT_MODES:
            assert self.base is not None
            _, delta = self._changed_values(res, gray=True)
            top = 65535.0
            vals = np.rint(np.clip(self.base + delta * (top / 255.0), 0, top))
            if mode == "I":
                img = Image.fromarray(vals.astype(np.int32), mode="I")
            else:  # I;16 variants all come back as native I;16 (same values and depth)
                img = Image.fromarray(vals.astype(np.uint16))
        elif mode in ("L", "1"):
            img = Image.fromarray(to_luminance(res), mode="L")
            if mode == "1":
                img = img.convert("1")
        elif mode == "LA":
            assert self.alpha is not None
            img = Image.fromarray(np.dstack([to_luminance(res), self.alpha]), mode="LA")
        elif mode == "RGBA":
            assert self.alpha is not None
            img = Image.fromarray(np.dstack([res, self.alpha]), mode="RGBA")
        elif mode == "RGB":
            img = Image.fromarray(res, mode="RGB")
        else:  # CMYK, YCbCr, LAB, ...: convert back from RGB
            img = Image.fromarray(res, mode="RGB").convert(mode)
        img.info.update(self.info)
        if self.format:
            img.format = self.format
        return img

    def _to_palette(self, res: np.ndarray) -> Image.Image:
        """Palette in, palette out: unchanged pixels keep their index, changed ones are quantised."""
        assert self.palette is not None
        src = self.palette
        idx = np.asarray(src).copy()
        changed = np.any(res != self.rgb, axis=2)
        if changed.any():
            pal_img = Image.new("P", (1, 1))
            pal_img.putpalette(src.getpalette() or [])
            q = Image.fromarray(res, mode="RGB").quantize(palette=pal_img, dither=Image.Dither.NONE)
            idx[changed] = np.asarray(q)[changed]
        out = Image.fromarray(idx, mode="P")
        out.putpalette(src.getpalette() or [])
        out.info.update(self.info)
        if "transparency" in src.info:
            out.info["transparency"] = src.info["transparency"]
        if self.format:
            out.format = self.format
        return out


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (and reset it to 1); images without one are returned as is."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - broken EXIF: treat as upright
        orientation = 1
    if orientation in (None, 1):
        return img
    out = ImageOps.exif_transpose(img)
    return out if out is not None else img


def _keep_info(img: Image.Image) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key in ("icc_profile", "dpi"):
        if key in img.info:
            info[key] = img.info[key]
    try:
        exif = Image.Exif()
        exif.load(img.getexif().tobytes())  # a copy: never mutate the image's cached EXIF
        if len(exif):
            if 0x0112 in exif:
                exif[0x0112] = 1
            info["exif"] = exif.tobytes()
    except Exception:  # noqa: BLE001 - unreadable EXIF is dropped, not fatal
        pass
    return info


def load_image(src: str | os.PathLike[str] | Image.Image | np.ndarray) -> LoadedImage:
    """Read a photo (path, PIL image or array) as upright 8-bit RGB plus its way back."""
    if isinstance(src, np.ndarray):
        return _load_array(src)
    if isinstance(src, Image.Image):
        return _load_pil(src, kind="pil", path=None)
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise FileNotFoundError(f"expected an image file at {path}; not found")
        try:
            with Image.open(path) as img:
                check_pixels(img.size, path)
                img.load()
                return _load_pil(img, kind="path", path=path)
        except (OSError, SyntaxError) as exc:
            raise ValueError(f"cannot read {path} as an image: {exc}") from exc
    raise TypeError(
        f"src must be a path, a PIL image or a numpy array; got {type(src).__name__}"
    )


def _load_pil(img: Image.Image, kind: str, path: Path | None) -> LoadedImage:
    fmt = img.format
    img = _upright(img)
    info = _keep_info(img)
    mode = img.mode
    alpha = base = None
    palette = None
    if mode in _SIXTEEN_BIT_MODES:
        base = np.asarray(img).astype(np.float64)  # values in 0..65535
        g8 = np.clip(np.rint(base / 257.0), 0, 255).astype(np.uint8)
        rgb = np.repeat(g8[..., None], 3, axis=2)
    elif mode in ("L", "1"):
        rgb = np.repeat(np.asarray(img.convert("L"))[..., None], 3, axis=2)
    elif mode == "LA":
        arr = np.asarray(img)
        alpha = arr[..., 1].copy()
        rgb = np.repeat(arr[..., :1], 3, axis=2)
    elif mode == "RGBA":
        arr = np.asarray(img)
        alpha = arr[..., 3].copy()
        rgb = arr[..., :3].copy()
    elif mode == "P":
        palette = img.copy()
        rgb = np.asarray(img.convert("RGB"))
    else:
        rgb = np.asarray(img.convert("RGB"))
    return LoadedImage(rgb=np.ascontiguousarray(rgb), kind=kind, mode=mode, path=path, format=fmt,
                       alpha=alpha, base=base, palette=palette, info=info)


def _load_array(arr: np.ndarray) -> LoadedImage:
    shape = arr.shape
    if arr.ndim == 2:
        colour, alpha = arr, None
    elif arr.ndim == 3 and shape[2] in (1, 2, 3, 4):
        c = shape[2]
        colour = arr[..., 0] if c in (1, 2) else arr[..., :3]
        alpha = arr[..., c - 1].copy() if c in (2, 4) else None
    else:
        raise ValueError(
            f"image array must be (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4); got {shape}"
        )
    if arr.dtype == np.uint8:
        base = colour.astype(np.float64)
        c8 = colour
    elif arr.dtype in (np.uint16, np.int32, np.uint32) or np.issubdtype(arr.dtype, np.unsignedinteger):
        top = float(np.iinfo(arr.dtype).max)
        base = colour.astype(np.float64)
        c8 = np.clip(np.rint(base * (255.0 / top)), 0, 255).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        base = colour.astype(np.float64)
        if not np.all(np.isfinite(base)) or base.min(initial=0) < 0 or base.max(initial=0) > 1:
            raise ValueError("float image arrays must hold finite values in [0, 1]")
        c8 = np.rint(base * 255.0).astype(np.uint8)
    else:
        raise ValueError(f"image array dtype must be uint8, uint16 or float in [0, 1]; got {arr.dtype}")
    rgb = np.repeat(c8[..., None], 3, axis=2) if c8.ndim == 2 else c8
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[1 if arr.ndim == 2 else shape[2]]
    return LoadedImage(rgb=np.ascontiguousarray(rgb), kind="array", mode=mode, alpha=alpha,
                       base=base, dtype=arr.dtype, shape=shape)


def read_rgb(path: str | os.PathLike[str], min_side: int | None = None) -> tuple[np.ndarray, float]:
    """Fast upright ``(H, W, 3) uint8`` RGB read; JPEGs may decode reduced (``draft``).

    With ``min_side``, a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose
    longest side stays >= ``min_side`` (several times faster on 1350 px photos). Returns the
    image and its scale relative to the full-size upright image.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expected an image file at {path}; not found")
    try:
        with Image.open(path) as img:
            full = img.size
            check_pixels(full, path)
            if min_side and img.format == "JPEG" and max(full) > min_side:
                f = max(full) / min_side
                img.draft("RGB", (int(np.ceil(full[0] / f)), int(np.ceil(full[1] / f))))
            img.load()
            scale = img.size[0] / full[0]
            up = _upright(img)
            rgb = _load_pil(up, kind="path", path=path).rgb
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"cannot read {path} as an image: {exc}") from exc
    return rgb, scale


def save_image(img: Image.Image | np.ndarray, path: str | os.PathLike[str], quality: int = 95) -> Path:
    """Write ``img`` atomically (temp file in the same folder, then ``os.replace``).

    The format comes from the extension. JPEG gets ``quality`` (1-95+); modes JPEG cannot
    hold are converted (alpha dropped, 16-bit reduced to 8-bit, palette expanded).
    """
    path = Path(path)
    ext = path.suffix.lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None:
        raise ValueError(f"cannot tell the image format from the extension {ext!r} of {path}")
    if not (1 <= int(quality) <= 100):
        raise ValueError(f"quality must be in 1..100; got {quality!r}")
    if isinstance(img, np.ndarray):
        arr = img
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        pil = Image.fromarray(arr)
    elif isinstance(img, Image.Image):
        pil = img
    else:
        raise TypeError(f"img must be a PIL image or a numpy array; got {type(img).__name__}")
    params: dict[str, Any] = {}
    for key in ("icc_profile", "dpi", "exif"):
        if key in pil.info:
            params[key] = pil.info[key]
    if fmt == "JPEG":
        params["quality"] = int(quality)
        if pil.mode in _SIXTEEN_BIT_MODES:
            pil = Image.fromarray(np.clip(np.rint(np.asarray(pil) / 257.0), 0, 255).astype(np.uint8))
        elif pil.mode in ("LA",):
            pil = pil.convert("L")
        elif pil.mode not in ("L", "RGB", "CMYK"):
            pil = pil.convert("RGB")
    elif fmt == "WEBP":
        params["quality"] = int(quality)
    if "transparency" in pil.info and pil.mode == "P":
        params["transparency"] = pil.info["transparency"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=ext) as tmp:
        pil.save(tmp, format=fmt, **params)
    return path
