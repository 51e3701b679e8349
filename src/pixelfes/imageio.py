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

import contextlib
import functools
import importlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ._atomic import atomic_path

__all__ = [
        "ImageTooLargeError",
    "ImageWarning",
    "LoadedImage",
    "MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "check_pixels",
    "max_pixels",
    "set_max_pixels",
    "from_luminance",
    "image_format",
    "load_image",
    "read_rgb",
    "save_image",
    "to_luminance",
]

# -- pixel budget ----------------------------------------------------------------------
#: Largest image (width x height, in pixels) pixelfes decodes or allocates by default:
#: 50 megapixels (e.g. 8660 x 5773), 150 MB as 8-bit RGB. Measured peak memory of
#: ``pixelfes synthesize`` (max RSS): 0.77 GB for a 49 MP photo; 1.23 GB with
#: ``--no-detect`` on a 22 MP image, whose padded canvas (49.7 MP) is at the budget.
#: Set ``$PIXELFES_MAX_PIXELS`` or ``--max-pixels``.
MAX_PIXELS = 50_000_000
MAX_PIXELS_ENV = "PIXELFES_MAX_PIXELS"
_max_pixels_override: int | None = None


class ImageTooLargeError(ValueError):
    """An image (or a canvas made from it) has more pixels than the pixel budget allows."""


class ImageWarning(UserWarning):
    """An image was read, but not all of it (extra frames) or not exactly as stored."""


def _parse_budget(value: object, name: str) -> int:
    try:
        n = int(str(value).replace("_", "").strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number of pixels, e.g. 50000000; "
                         f"got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be a positive number of pixels; got {value!r}")
    return n


def set_max_pixels(n: int | None) -> None:
    """Set this process's pixel budget (``None``: back to ``$PIXELFES_MAX_PIXELS`` or the default)."""
    global _max_pixels_override
    _max_pixels_override = None if n is None else _parse_budget(n, "max_pixels")


def max_pixels() -> int:
    """The pixel budget: :func:`set_max_pixels`, else ``$PIXELFES_MAX_PIXELS``, else the default."""
    if _max_pixels_override is not None:
        return _max_pixels_override
    env = os.environ.get(MAX_PIXELS_ENV)
    if env:
        return _parse_budget(env, f"${MAX_PIXELS_ENV}")
    return MAX_PIXELS


def check_pixels(size: tuple[int, int], what: object = "the image") -> None:
    """Raise :class:`ImageTooLargeError` if ``size`` (width, height) exceeds the pixel budget.

    The budget is :func:`max_pixels` (``--max-pixels``, ``$PIXELFES_MAX_PIXELS``, else
    :data:`MAX_PIXELS`); an empty size is a ``ValueError`` too.
    """
    width, height = (int(v) for v in size)
    if width <= 0 or height <= 0:
        raise ValueError(f"{what} has no pixels ({width} x {height})")
    budget = max_pixels()
    if width * height > budget:
        raise ImageTooLargeError(
            f"{what} is {width} x {height} = {width * height:,} pixels, "
            f"over the pixel budget of {budget:,}; shrink it, or raise the budget with "
            f"--max-pixels N or ${MAX_PIXELS_ENV}=N if you have the memory")


def _check_header(img: Image.Image, what: str) -> None:
    """Budget check from the header (before decoding); multi-frame files warn once."""
    check_pixels(img.size, what)
    frames = getattr(img, "n_frames", 1)
    if isinstance(frames, int) and frames > 1:
        warnings.warn(f"{what} has {frames} frames (animation or pages); only the first is "
                      "used, and the output has that one frame", ImageWarning, stacklevel=3)


def _open(path: Path) -> Image.Image:
    """``Image.open`` with Pillow's bomb warning replaced by our own budget check."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as exc:
            raise ImageTooLargeError(f"{path} is too large for Pillow to decode safely: {exc}") from exc


@contextlib.contextmanager
def _decode_errors(path: Path) -> Iterator[None]:
    """Whatever a damaged file makes the decoder raise becomes one ValueError naming the file."""
    try:
        yield
    except ImageTooLargeError:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, struct.error, ...
        raise ValueError(f"cannot read {path} as an image: {exc}") from exc


@contextlib.contextmanager
def decoded(path: str | os.PathLike[str]) -> Iterator[Image.Image]:
    """Open an image file, its size checked against the budget from the header (not decoded).

    Errors: ``FileNotFoundError`` / ``IsADirectoryError``, ``ImageTooLargeError``, and
    ``ValueError`` for anything unreadable. Call ``load()`` inside ``_decode_errors``.
    """
    path = _image_file(path)
    with _decode_errors(path):
        img = _open(path)
    try:
        with _decode_errors(path):
            _check_header(img, str(path))
        yield img
    finally:
        img.close()


_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_GRAY_MODES = ("L", "LA", "1", "F") + _SIXTEEN_BIT_MODES
# 16 bits per colour channel: Pillow would decode these to 8 bits, so OpenCV reads them
_DEEP_COLOUR_MODES = ("RGB;16", "RGBA;16")
# Ranges a floating-point ("F") image may use; the first that holds every value is taken
_FLOAT_RANGES = (1.0, 255.0, 65535.0)
#: ITU-R BT.601 luma weights of (R, G, B): the one luminance of the package (as OpenCV's RGB2GRAY).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])



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
    float_scale: float = 1.0  # full-scale value of a float ("F") image: 1, 255 or 65535
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
        if self.kind == "array" or self.mode in _DEEP_COLOUR_MODES:
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
        if mode == "F":
            assert self.base is not None
            _, delta = self._changed_values(res, gray=True)
            top = self.float_scale
            vals = np.clip(self.base + delta * (top / 255.0), 0.0, top)
            img = Image.fromarray(vals.astype(np.float32), mode="F")
        elif mode in _SIXTEEN_BIT_MODES:
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
    from PIL import ImageOps  # only for a turned photo: with its palettes, 2 ms of a cold start

    try:
        out = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - an orientation Pillow cannot apply: keep the pixels as stored
        warnings.warn(f"could not apply the EXIF orientation {orientation!r}; the image is used "
                      "as stored", ImageWarning, stacklevel=2)
        return img
    return out if out is not None else img


def _keep_info(img: Image.Image, upright: bool = False) -> dict[str, Any]:
    """What the output keeps of ``img``'s metadata (ICC profile, dpi, EXIF with orientation
    1); ``upright``: the pixels were turned upright by us (the orientation tag is dropped,
    as ``ImageOps.exif_transpose`` drops it)."""
    info: dict[str, Any] = {}
    for key in ("icc_profile", "dpi"):
        if key in img.info:
            info[key] = img.info[key]
    try:
        stored = img.getexif()
        if not len(stored):  # no EXIF: nothing to keep (and Pillow's TIFF writer not imported,
            return info  # 8-20 ms of a cold start)
        exif = Image.Exif()
        exif.load(stored.tobytes())  # a copy: never mutate the image's cached EXIF
        if upright and 0x0112 in exif:
            del exif[0x0112]
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
        path = _image_file(src)
        with decoded(path) as img:
            if _is_deep_colour(img):
                deep = _load_deep_colour(path, img)
                if deep is not None:
                    return deep
            fast = _load_rgb_jpeg(path, img)
            if fast is not None:
                return fast
            with _decode_errors(path):
                img.load()
            return _load_pil(img, kind="path", path=path)
    raise TypeError(
        f"src must be a path, a PIL image or a numpy array; got {type(src).__name__}"
    )


def _load_rgb_jpeg(path: Path, img: Image.Image) -> LoadedImage | None:
    """An RGB JPEG decoded by OpenCV straight into an array: the same pixels as Pillow
    (both are libjpeg-turbo; ``tests/test_imageio.py``) without Pillow's copy out through
    ``tobytes`` (6 of 14 ms on a 1350 px photo). ``None``: let Pillow read it."""
    if img.format != "JPEG" or img.mode != "RGB":
        return None
    import cv2

    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - broken EXIF: Pillow's path decides (it warns)
        return None
    if orientation not in (None, 1, *_ORIENT_NUMPY):
        return None
    data = np.fromfile(path, np.uint8)
    if b"\xff\xd9" not in data[-4096:].tobytes():
        return None  # no end-of-image marker: a cut-off file, which Pillow refuses (OpenCV pads)
    # libjpeg-turbo writes RGB itself where OpenCV asks it to (4.10+): no BGR -> RGB pass
    as_rgb = getattr(cv2, "IMREAD_COLOR_RGB", None)
    flags = (cv2.IMREAD_COLOR if as_rgb is None else as_rgb) | cv2.IMREAD_IGNORE_ORIENTATION
    rgb = cv2.imdecode(data, flags)
    if rgb is None or rgb.shape[:2] != (img.size[1], img.size[0]):
        return None  # damaged or odd: Pillow's path reports it properly
    if as_rgb is None:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)
    if orientation in _ORIENT_NUMPY:
        rgb = np.ascontiguousarray(_ORIENT_NUMPY[orientation](rgb))
    return LoadedImage(rgb=rgb, kind="path", mode="RGB", path=path, format="JPEG",
                       info=_keep_info(img, upright=orientation in _ORIENT_NUMPY))


def _image_file(src: str | os.PathLike[str]) -> Path:
    """``src`` as a path to an existing file, or a clear error (missing, or a folder)."""
    path = Path(src)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not an image file; give the image files "
                                f"inside it (e.g. {path / '*.jpg'})")
    if not path.is_file():
        raise FileNotFoundError(f"expected an image file at {path}; not found")
    return path


def _is_deep_colour(img: Image.Image) -> bool:
    """Whether a not yet decoded colour image stores 16 bits per channel (PNG, TIFF)."""
    if img.mode not in ("RGB", "RGBA"):
        return False
    for tile in getattr(img, "tile", None) or []:
        args = tile[3] if isinstance(tile, tuple) else getattr(tile, "args", None)
        raw = args[0] if isinstance(args, tuple) and args else args
        if isinstance(raw, str) and ";16" in raw:
            return True
    return False


_ORIENT_NUMPY = {  # EXIF orientation -> numpy op on (H, W, C), as ImageOps.exif_transpose does
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2), 8: lambda a: np.rot90(a, 1),
}


def _load_deep_colour(path: Path, img: Image.Image) -> LoadedImage | None:
    """16-bit RGB(A) read at full precision by OpenCV; ``None`` if OpenCV cannot read it."""
    import cv2

    with _decode_errors(path):
        img.load()  # Pillow checks the file first (8-bit), so OpenCV only sees sound files
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.dtype != np.uint16 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        warnings.warn(f"{path} has 16 bits per colour channel but could only be read as "
                      "8-bit; the output is 8-bit", ImageWarning, stacklevel=3)
        return None
    arr = arr[..., [2, 1, 0, 3][: arr.shape[2]]]  # BGR(A) -> RGB(A)
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - broken EXIF: treat as upright
        orientation = 1
    if orientation in _ORIENT_NUMPY:
        arr = _ORIENT_NUMPY[orientation](arr)
    loaded = _load_array(np.ascontiguousarray(arr))
    loaded.kind, loaded.path, loaded.format = "path", path, img.format
    loaded.mode = "RGB;16" if arr.shape[2] == 3 else "RGBA;16"
    return loaded


def _load_pil(img: Image.Image, kind: str, path: Path | None) -> LoadedImage:
    fmt = img.format
    check_pixels(img.size, path or "image")
    img = _upright(img)
    info = _keep_info(img)
    mode = img.mode
    alpha = base = None
    palette = None
    float_scale = 1.0
    if mode == "F":
        base = np.asarray(img).astype(np.float64)
        if not np.all(np.isfinite(base)) or base.min(initial=0) < 0:
            raise ValueError(f"{path or 'image'}: floating-point image holds negative, NaN or "
                             "infinite values; expected values in [0, 1], [0, 255] or [0, 65535]")
        top = float(base.max(initial=0))
        fits = [r for r in _FLOAT_RANGES if top <= r]
        if not fits:
            raise ValueError(f"{path or 'image'}: floating-point image values reach {top:g}; "
                             "expected values in [0, 1], [0, 255] or [0, 65535]")
        float_scale = fits[0]
        g8 = np.clip(np.rint(base * (255.0 / float_scale)), 0, 255).astype(np.uint8)
        rgb = np.repeat(g8[..., None], 3, axis=2)
    elif mode in _SIXTEEN_BIT_MODES:
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
    elif mode == "RGB":  # one copy out of Pillow; convert("RGB") would add one (8 ms at 1350 px)
        rgb = np.asarray(img)
    else:
        rgb = np.asarray(img.convert("RGB"))
    return LoadedImage(rgb=np.ascontiguousarray(rgb), kind=kind, mode=mode, path=path, format=fmt,
                       alpha=alpha, base=base, palette=palette, info=info, float_scale=float_scale)


def _load_array(arr: np.ndarray) -> LoadedImage:
    shape = arr.shape
    if arr.ndim in (2, 3) and min(shape[:2]) < 1:
        raise ValueError(f"image array has no pixels (shape {shape})")
    if arr.ndim in (2, 3):
        check_pixels((shape[1], shape[0]), f"image array {shape}")
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
    with decoded(path) as img:
        full = img.size
        with _decode_errors(path):
            if min_side and img.format == "JPEG" and max(full) > min_side:
                f = max(full) / min_side
                img.draft("RGB", (int(np.ceil(full[0] / f)), int(np.ceil(full[1] / f))))
            img.load()
        scale = img.size[0] / full[0]
        up = _upright(img)
        rgb = _load_pil(up, kind="path", path=path).rgb
    return rgb, scale


def save_image(img: Image.Image | np.ndarray, path: str | os.PathLike[str], quality: int = 95) -> Path:
    """Write ``img`` atomically (temp file in the same folder, then ``os.replace``).

    The format comes from the extension. JPEG gets ``quality`` (1-95+); modes JPEG cannot
    hold are converted (alpha dropped, 16-bit reduced to 8-bit, palette expanded).
    """
    path = Path(path)
    fmt = image_format(path)
    ext = path.suffix.lower()
    if not (1 <= int(quality) <= 100):
        raise ValueError(f"quality must be in 1..100; got {quality!r}")
    if isinstance(img, np.ndarray):
        arr = img
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        if arr.dtype == np.uint16 and arr.ndim == 3:  # 16-bit colour: Pillow cannot hold it
            if fmt in ("PNG", "TIFF"):
                return _save_deep_colour(arr, path, ext)
            arr = np.clip(np.rint(arr / 257.0), 0, 255).astype(np.uint8)
        pil = Image.fromarray(arr)
    elif isinstance(img, Image.Image):
        pil = img
    else:
        raise TypeError(f"img must be a PIL image or a numpy array; got {type(img).__name__}")
    params: dict[str, Any] = {}
    for key in ("icc_profile", "dpi", "exif"):
        if key in pil.info:
            params[key] = pil.info[key]
    if pil.mode == "F" and fmt != "TIFF":  # only TIFF stores floats: write 8-bit
        vals = np.asarray(pil, dtype=np.float64)
        top = next((r for r in _FLOAT_RANGES if vals.max(initial=0) <= r), _FLOAT_RANGES[-1])
        pil = Image.fromarray(np.clip(np.rint(vals * (255.0 / top)), 0, 255).astype(np.uint8))
    if fmt in ("JPEG", "WEBP"):
        params["quality"] = int(quality)
    pil = _writable(pil, fmt)
    limit = _FORMAT_MAX_SIDE.get(fmt)
    if limit is not None and max(pil.size) > limit:
        raise ValueError(f"cannot write {path}: {fmt} stores at most {limit} px a side and the "
                         f"image is {pil.size[0]} x {pil.size[1]}; write a PNG or TIFF instead")
    if "transparency" in pil.info and pil.mode == "P":
        params["transparency"] = pil.info["transparency"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=ext) as tmp:
        try:
            # the extension names the format: no format= (with it Pillow loads its common
            # plugins, 8 ms of a cold start); the same writer either way
            by_ext = Image.EXTENSION.get(tmp.suffix.lower()) == fmt
            pil.save(tmp, **({} if by_ext else {"format": fmt}), **params)
        except (OSError, ValueError):
            raise
        except Exception as exc:  # noqa: BLE001 - an encoder's limit we do not know of
            raise ValueError(f"cannot write {path} as {fmt} ({pil.mode}, {pil.size[0]} x "
                             f"{pil.size[1]}): {type(exc).__name__}: {exc}") from exc
    return path


# Largest side each format can store (GIF/BMP headers hold 16/32-bit sizes; libjpeg, libwebp)
_FORMAT_MAX_SIDE = {"GIF": 65535, "JPEG": 65500, "WEBP": 16383}


@functools.lru_cache(maxsize=256)
def _can_write(mode: str, fmt: str) -> bool:
    import io

    if (mode, fmt) in _WRITES:
        return True
    try:
        Image.new(mode, (1, 1)).save(io.BytesIO(), format=fmt)
    except Exception:  # noqa: BLE001 - any failure means "not this mode"
        return False
    return True


def _writable(pil: Image.Image, fmt: str) -> Image.Image:
    """``pil`` in a mode ``fmt`` can store: as is if possible, else the nearest that it can.

    16/32-bit gray goes to 16-bit (PNG) or 8-bit (scaled, not clipped); alpha is kept
    where the format has it; other colour spaces (CMYK, YCbCr, LAB) become RGB.
    """
    mode = pil.mode
    if _can_write(mode, fmt):
        return pil
    if mode in _SIXTEEN_BIT_MODES:
        vals = np.clip(np.asarray(pil, dtype=np.float64), 0, 65535)
        if _can_write("I;16", fmt):
            out = Image.fromarray(np.rint(vals).astype(np.uint16))
        else:
            out = Image.fromarray(np.rint(vals / 257.0).astype(np.uint8))
    elif mode in ("LA", "PA", "RGBA") and _can_write("RGBA", fmt):
        out = pil.convert("RGBA")
    elif mode in ("1", "L", "LA", "I", "F"):
        out = pil.convert("L")
    else:
        out = pil.convert("RGB")
    out.info.update(pil.info)
    return out


#: The extensions whose Pillow plugin :func:`image_format` imports alone (no ``Image.preinit``).
_OWN_PLUGIN = {".jpg": "JpegImagePlugin", ".jpeg": "JpegImagePlugin", ".png": "PngImagePlugin"}
#: (mode, format) pairs every Pillow writes: no trial save (whose ``format=`` loads the
#: common plugins, BMP, GIF, PPM and PNG with a JPEG, 8 ms of a cold start)
_WRITES = frozenset({("RGB", "JPEG"), ("L", "JPEG"), ("RGB", "PNG"), ("L", "PNG"), ("RGBA", "PNG")})


def image_format(path: str | os.PathLike[str]) -> str:
    """The Pillow format name for ``path``'s extension (``"JPEG"``, ``"PNG"``, ...), or a ValueError."""
    path = Path(path)
    ext = path.suffix.lower()
    # JPEG and PNG: their own plugin alone (the other common ones, 8 ms of a cold start, only
    # for other extensions); every plugin only for the rest (~30 ms)
    plugin = _OWN_PLUGIN.get(ext)
    if plugin is not None:
        importlib.import_module(f"PIL.{plugin}")
    fmt = Image.EXTENSION.get(ext)
    if fmt is None or fmt not in Image.SAVE:
        Image.preinit()
        fmt = Image.EXTENSION.get(ext)
    if fmt is None or fmt not in Image.SAVE:
        fmt = Image.registered_extensions().get(ext)
    if fmt is None or fmt not in Image.SAVE:
        known = ".jpg, .png, .tif, .webp, .bmp"
        what = f"the extension {ext!r}" if ext else "no extension"
        raise ValueError(f"cannot write an image to {path}: {what} is not an image format "
                         f"pixelfes can write ({known}, ...)")
    return fmt


def _save_deep_colour(arr: np.ndarray, path: Path, ext: str) -> Path:
    """Write a ``(H, W, 3|4) uint16`` RGB(A) array as 16-bit PNG/TIFF (OpenCV), atomically."""
    import cv2

    bgr = np.ascontiguousarray(arr[..., [2, 1, 0, 3][: arr.shape[2]]])
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=ext) as tmp:
        if not cv2.imwrite(str(tmp), bgr):
            raise OSError(f"could not write {path} (16-bit {ext})")
    return path
