"""What the web API does, without HTTP: cached faces, the models there are, one synthesis.

The API handlers (:mod:`pixelfes.web.app`) and ``benchmarks/bench_web.py`` both call this.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..face import NoFaceError
from .cache import CachedPhoto, FaceCache, photo_key
from .uploads import MAX_UPLOAD_BYTES, UploadError, decode_upload, encode_like

#: The model name reported for syntheses made by the action units' recipes (no learned model).
ACTION_UNITS = "action-units"

#: Strength the page and API accept (0 = unchanged, 1 = the model, up to 2x exaggerated).
MAX_STRENGTH = 2.0


@dataclass(frozen=True)
class Result:
    """An encoded result photo and what was done."""

    data: bytes
    mime: str
    faces_changed: int
    model: str
    server_ms: float


def parse_strength(text: str | None) -> float:
    if text is None or not text.strip():
        return 1.0
    try:
        value = float(text)
    except ValueError:
        raise UploadError(400, f"strength must be a number such as 0.5; got {text!r}") from None
    if not 0.0 <= value <= MAX_STRENGTH:
        raise UploadError(400, f"strength must be in 0..{MAX_STRENGTH:g}; got {text!r}")
    return value


def parse_faces(text: str | None) -> list[int] | None:
    """``"0,2"`` -> ``[0, 2]``; empty or missing = every face."""
    if text is None or not text.strip():
        return None
    try:
        picked = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise UploadError(400, f"faces must be comma-separated face indices such as 0,2; "
                               f"got {text!r}") from None
    return picked


def check_action_units(text: str | None) -> dict[str, float] | None:
    """``"1=0.8,12L=0.5"`` -> unit intensities (None when empty); a bad item is a clear 400."""
    if text is None or not text.strip():
        return None
    from ..actions.basis import parse_units

    try:
        return parse_units(text)
    except ValueError as exc:
        raise UploadError(400, f"au: {exc} (GET /api/models lists the action units)") from None


def available_models() -> dict[str, Any]:
    """The models, directions and target expressions the server can use (GET /api/models)."""
    from ..actions.basis import unit_table
    from ..actions.recipes import RECIPES
    from ..expressions import EXPRESSIONS
    from ..zoo import find_model, list_models

    models = list_models()
    learned = {(m.source, m.target) for m in models if m.source and m.target}
    # every expression from neutral by the action units' recipes where no model is learned
    actions = {("neutral", e) for e in RECIPES if e != "neutral"} - learned
    directions = sorted(learned | actions,
                        key=lambda st: (EXPRESSIONS.index(st[0]) if st[0] in EXPRESSIONS else 9,
                                        EXPRESSIONS.index(st[1]) if st[1] in EXPRESSIONS else 9))
    return {
        "models": [{"name": m.name, "from": m.source, "to": m.target, "type": m.model_type,
                    "default": m.default, "bundled": m.bundled} for m in models],
        "directions": [{"from": s, "to": t, "model": ACTION_UNITS if (s, t) in actions
                        else find_model(s, t).name} for s, t in directions],
        "expressions": sorted({t for _, t in directions}, key=EXPRESSIONS.index),
        "action_units": [{"id": str(u.number), "name": u.name, "sides": u.sides}
                         for u in unit_table()],
        "max_strength": MAX_STRENGTH,
    }


class PhotoService:
    """Decodes and detects once per distinct upload (cached); synthesizes per request."""

    def __init__(self, cache: FaceCache | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES,
                 min_face: float = 40.0) -> None:
        self.cache = cache if cache is not None else FaceCache()
        self.max_upload_bytes = max_upload_bytes
        self.min_face = min_face

    def photo(self, data: bytes) -> CachedPhoto:
        """The decoded upload with its faces, from the cache when this photo was seen before."""
        from ..pipeline import find_faces

        def make() -> CachedPhoto:
            photo = decode_upload(data, self.max_upload_bytes)
            try:
                faces = find_faces(photo.loaded.rgb, min_size=self.min_face)
            except NoFaceError:
                faces = []
            return CachedPhoto(photo, tuple(faces))

        return self.cache.get_or_make(photo_key(data), make)

    def faces(self, data: bytes) -> dict[str, Any]:
        """Boxes of every face (largest first) and the photo's size (POST /api/faces)."""
        entry = self.photo(data)
        w, h = entry.photo.loaded.size
        return {"width": w, "height": h, "format": entry.photo.format,
                "faces": [{"index": i, "box": [round(v, 1) for v in f.box],
                           "score": round(f.score, 3)} for i, f in enumerate(entry.faces)]}

    def synthesize(self, data: bytes, to: str, strength: float = 1.0, source: str = "neutral",
                   faces: Sequence[int] | None = None,
                   au: dict[str, float] | None = None) -> Result:
        """The upload with the chosen faces given expression ``to`` (plus action units ``au``),
        in the upload's format."""
        from ..expressions import normalize_expression
        from ..pipeline import resolve_model, synthesize_rgb
        from ..zoo import ModelNotFoundError, find_model

        t0 = time.perf_counter()
        try:
            target, origin = normalize_expression(to), normalize_expression(source)
        except ValueError as exc:
            raise UploadError(400, str(exc)) from None
        try:
            model = resolve_model(None, origin, target, au=au)
            try:
                entry_name = find_model(origin, target).name
            except ModelNotFoundError:
                entry_name = ACTION_UNITS
        except ModelNotFoundError:
            raise UploadError(422, f"no model for {origin} -> {target} on this server; "
                                   "GET /api/models lists the directions there are") from None
        entry = self.photo(data)
        if not entry.faces:
            raise UploadError(422, "no face found in the photo: a roughly frontal face at least "
                                   f"{self.min_face:g} px wide is needed")
        if faces is None:
            chosen = list(entry.faces)
        else:
            bad = [i for i in faces if not 0 <= i < len(entry.faces)]
            if bad:
                raise UploadError(400, f"faces {bad} do not exist: the photo has "
                                       f"{len(entry.faces)} face(s), indices 0..{len(entry.faces) - 1}")
            chosen = [entry.faces[i] for i in faces]
        rgb = entry.photo.loaded.rgb
        out = synthesize_rgb(rgb, model, strength, faces=chosen) if chosen else rgb
        data_out = encode_like(entry.photo, out)
        ms = 1000.0 * (time.perf_counter() - t0)
        return Result(data_out, entry.photo.mime, len(chosen), entry_name, ms)
