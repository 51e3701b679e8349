"""Where in the face the judges' gap between the native and the canvas engine lives (issue 11).

For each held-out London person (the identity-disjoint folds of ``scripts/mouth_eval.py``:
:func:`pixelfes.evaluate.mouth_protocol.run_mouth_folds`, each fold's engines trained on the
other people only), the native output and the canvas output of the same photo (both full size,
pixel for pixel the same frame) are mixed: one region of the canvas output is pasted into the
native one (``native+canvas <region>``) and, as a check on how far the regions' effects add,
one region of the native output into the canvas one (``canvas+native <region>``). Every image
is scored by the judges of ``mouth_eval.py --judges`` (:func:`pixelfes.evaluate.photo_scores.
score_crops`: fer, face-api, facex when installed, dlib's identity distance to the real target;
plus the identity distance to the input), cut to the canvas with the input's alignment.

Regions (:func:`region_masks`; pixel centres, from the 68 dlib points found on the input and on
both outputs, the union over the three): the **mouth box** (the outer lips' box padded by
:data:`~pixelfes.mouth_regions.BOX_PAD` mouth widths, as the mouth measures use it), split into
the **opening** (inner-lip polygon 60-67), the **lips/corners** (outer-lip polygon 48-59 and a
disc at each corner, minus the opening) and the **mouth skin** (the rest of the box); the
**eyes** (each eye's box, padded); the **cheeks** (jaw 1-5 / 11-15, mouth corner, nose wing,
lower lid; minus the mouth box and the eyes); the **rest** (everything else: brows, nose, chin,
forehead, hair). Mouth box, eyes, cheeks and rest partition the photo; each region's weight is
its indicator blurred by a Gaussian of :data:`FEATHER` mouth widths, so the partition's weights
still sum to one and the four pasted together give the canvas output exactly.

The share of a gap carried by a region: mean over people of (hybrid - native) over the mean of
(canvas - native), with a delta-method standard error over people (:func:`gap_share`).

Examples:
    PYTHONPATH=src python scripts/region_swap.py --json /tmp/swap.json
    PYTHONPATH=src python scripts/region_swap.py --ids 062,096,126,134,034 --save /tmp/swap-look \
        --figure /tmp/swap.jpg
    PYTHONPATH=src python scripts/region_swap.py --people 10 --directions neutral:happy
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # same float rounding on every run
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from pixelfes.mouth_regions import BOX_PAD  # noqa: E402

#: The regions, in table order: the mouth box and its three parts, then eyes, cheeks, rest.
REGIONS = ("mouth box", "opening", "lips/corners", "mouth skin", "cheeks", "eyes", "rest")
#: The regions that partition the photo (their weights sum to one).
PARTITION = ("mouth box", "cheeks", "eyes", "rest")
#: Radius of the disc at each mouth corner (48, 54) in the lips/corners region, mouth widths.
CORNER_RADIUS = 0.1
#: An eye's box: its six points' box padded by these fractions of its corner distance (36-39).
EYE_PAD_SIDE, EYE_PAD_UP, EYE_PAD_DOWN = 0.3, 0.4, 0.6
#: The cheek polygons (dlib points): jaw, mouth corner, nose wing, lower lid, outer eye corner.
CHEEK_POINTS = ((1, 2, 3, 4, 5, 48, 31, 40, 41, 36), (15, 14, 13, 12, 11, 54, 35, 47, 46, 45))
#: Gaussian sigma of the regions' weights, mouth widths (about 6 px on London's 1350 px photos,
#: about one canvas pixel: no seam the judges could see as an edge, little spill).
FEATHER = 0.03

__all__ = ["CHEEK_POINTS", "FEATHER", "PARTITION", "REGIONS", "STRIP_TILES", "SwapCollector", "box_mask",
           "disc_mask", "gap_share", "hybrid", "polygon_mask", "region_masks", "region_weights",
           "stack_strips", "strip_box"]


def polygon_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(H, W) bool``: pixel centres (x = column, y = row) inside the polygon ``points``
    ``(N, 2)`` (x, y), by the even-odd rule (a centre exactly on a left/top edge counts as
    inside, on a right/bottom edge as outside, as ray casting along +x gives)."""
    p = np.asarray(points, dtype=np.float64)
    h, w = shape
    mask = np.zeros((h, w), bool)
    x0, y0 = np.maximum(np.floor(p.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(p.max(axis=0)).astype(int) + 1, (w, h))
    if x1 <= x0 or y1 <= y0:
        return mask
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    inside = np.zeros(ys.shape, bool)
    for (ax, ay), (bx, by) in zip(p, np.roll(p, -1, axis=0), strict=True):
        crosses = (ay > ys) != (by > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = ax + (ys - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (xs < x_at)
    mask[y0:y1, x0:x1] = inside
    return mask


def box_mask(box: tuple[float, float, float, float], shape: tuple[int, int]) -> np.ndarray:
    """``(H, W) bool``: pixel centres with ``x0 <= x <= x1`` and ``y0 <= y <= y1``."""
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)


def disc_mask(centre: np.ndarray, radius: float, shape: tuple[int, int]) -> np.ndarray:
    """``(H, W) bool``: pixel centres within ``radius`` of ``centre`` (x, y)."""
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2 <= radius**2


def region_masks(landmark_sets: Sequence[np.ndarray], shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The hard regions of :data:`REGIONS` (module docstring), ``(H, W) bool`` each, from the
    union over ``landmark_sets`` (each ``(68, 2)`` (x, y) photo pixels, dlib order).

    Mouth box, cheeks, eyes and rest partition the image (precedence mouth box > eyes > cheeks);
    opening, lips/corners and mouth skin partition the mouth box.
    """
    sets = [np.asarray(lm, dtype=np.float64) for lm in landmark_sets]
    if not sets or any(lm.shape != (68, 2) or not np.all(np.isfinite(lm)) for lm in sets):
        raise ValueError(f"landmark_sets: expected one or more finite (68, 2) arrays; got "
                         f"{[np.shape(lm) for lm in landmark_sets]}")
    hw = (int(shape[0]), int(shape[1]))
    width = max(float(np.linalg.norm(lm[54] - lm[48])) for lm in sets)
    outer = np.vstack([lm[48:60] for lm in sets])
    pad = BOX_PAD * width
    lo, hi = outer.min(axis=0) - pad, outer.max(axis=0) + pad
    mouth = box_mask((lo[0], lo[1], hi[0], hi[1]), hw)
    opening = np.zeros(hw, bool)
    lips = np.zeros(hw, bool)
    eyes = np.zeros(hw, bool)
    cheeks = np.zeros(hw, bool)
    for lm in sets:
        opening |= polygon_mask(lm[60:68], hw)
        lips |= polygon_mask(lm[48:60], hw)
        for k in (48, 54):
            lips |= disc_mask(lm[k], CORNER_RADIUS * width, hw)
        for first in (36, 42):
            eye = lm[first:first + 6]
            ew = float(np.linalg.norm(eye[3] - eye[0]))
            (ex0, ey0), (ex1, ey1) = eye.min(axis=0), eye.max(axis=0)
            eyes |= box_mask((ex0 - EYE_PAD_SIDE * ew, ey0 - EYE_PAD_UP * ew,
                              ex1 + EYE_PAD_SIDE * ew, ey1 + EYE_PAD_DOWN * ew), hw)
        for idx in CHEEK_POINTS:
            cheeks |= polygon_mask(lm[list(idx)], hw)
    opening &= mouth
    lips &= mouth & ~opening
    eyes &= ~mouth
    cheeks &= ~mouth & ~eyes
    return {"mouth box": mouth, "opening": opening, "lips/corners": lips,
            "mouth skin": mouth & ~opening & ~lips, "cheeks": cheeks, "eyes": eyes,
            "rest": ~(mouth | eyes | cheeks)}


def region_weights(masks: Mapping[str, np.ndarray], sigma: float) -> dict[str, np.ndarray]:
    """Each mask blurred by a Gaussian of ``sigma`` px (``(H, W) float32`` in ``[0, 1]``; the
    mask itself for ``sigma <= 0``). The blur is linear with a reflected border, so the weights
    of masks that partition the image still sum to one."""
    import cv2

    out = {}
    for name, m in masks.items():
        f = m.astype(np.float32)
        out[name] = f if sigma <= 0 else cv2.GaussianBlur(f, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return out


def hybrid(base: np.ndarray, donor: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``base`` with ``donor`` pasted where ``weight`` ``(H, W)`` is 1 (mixed where it is in
    between): ``round(base + weight * (donor - base))``, both ``(H, W, 3) uint8``."""
    if base.shape != donor.shape or base.dtype != np.uint8 or donor.dtype != np.uint8:
        raise ValueError(f"base and donor must be the same shape, uint8; got {base.shape} {base.dtype} "
                         f"and {donor.shape} {donor.dtype}")
    b = base.astype(np.float32)
    mixed = b + weight[..., None] * (donor.astype(np.float32) - b)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def gap_share(base: np.ndarray, whole: np.ndarray, part: np.ndarray) -> dict[str, float]:
    """How much of the gap ``whole - base`` (per person, ``(n,)``) ``part`` closes: ``share`` =
    mean(part - base) / mean(whole - base), its delta-method standard error over people
    (sd(e - share d) / sqrt(n) / |mean d|), the gap's mean and its standard error."""
    d = np.asarray(whole, np.float64) - np.asarray(base, np.float64)
    e = np.asarray(part, np.float64) - np.asarray(base, np.float64)
    n = len(d)
    gap = float(d.mean())
    gap_se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    if n < 2 or gap == 0:
        return {"share": float("nan"), "se": float("nan"), "gap": gap, "gap_se": gap_se, "n": n}
    share = float(e.mean() / gap)
    se = float((e - share * d).std(ddof=1) / np.sqrt(n) / abs(gap))
    return {"share": share, "se": se, "gap": gap, "gap_se": gap_se, "n": n}


def _names(kind: str) -> list[str]:
    return [f"{kind} {r}" for r in REGIONS]


HYBRIDS = [*_names("native+canvas"), *_names("canvas+native")]


class SwapCollector:
    """An ``on_output`` hook for :func:`run_mouth_folds` with the engines ``native`` and
    ``canvas``: passes every image to a :class:`~pixelfes.evaluate.photo_scores.CropCollector`
    and, once a person's two outputs are in, makes the :data:`HYBRIDS` and passes their crops
    on too. ``save``: a folder for the face at 1:1 of each image (PNG), ``None`` for none."""

    def __init__(self, direction: str, save: Path | None = None, sigma: float = FEATHER) -> None:
        from pixelfes.evaluate.photo_scores import CropCollector

        self.crops = CropCollector()
        self.sigma = sigma
        self.save = None if save is None else save / direction.replace(":", "-")
        self.failed: dict[str, str] = {}
        self._held: dict[str, dict[str, tuple[np.ndarray, np.ndarray | None]]] = {}

    def __call__(self, person: Any, method: str, rgb: np.ndarray, landmarks: np.ndarray | None) -> None:
        self.crops(person, method, rgb, landmarks)
        ident = person.identity
        if method in ("real target", "input", "native", "canvas"):
            self._held.setdefault(ident, {})[method] = (rgb, landmarks)
        held = self._held.get(ident, {})
        if not {"input", "native", "canvas", "real target"} <= set(held):
            return
        del self._held[ident]
        marks = [lm for _, lm in (held["input"], held["native"], held["canvas"])]
        if any(lm is None for lm in marks):
            self.failed[ident] = "no landmarks on the input or an output"
            return
        native, canvas = held["native"][0], held["canvas"][0]
        masks = region_masks(marks, native.shape)  # type: ignore[arg-type]
        width = max(float(np.linalg.norm(lm[54] - lm[48])) for lm in marks)  # type: ignore[index]
        weights = region_weights(masks, self.sigma * width)
        images = {"input": held["input"][0], "native": native, "canvas": canvas, "real target": held["real target"][0]}
        for region in REGIONS:
            for kind, base, donor in (("native+canvas", native, canvas), ("canvas+native", canvas, native)):
                img = hybrid(base, donor, weights[region])
                self.crops(person, f"{kind} {region}", img, None)
                images[f"{kind} {region}"] = img
        if self.save is not None:
            self._save(ident, images, marks[0])  # type: ignore[arg-type]
            real_lm = held["real target"][1]
            if real_lm is not None:
                self._strip(ident, images, marks, real_lm)

    def _strip(self, ident: str, images: dict[str, np.ndarray], marks: list[Any], real_lm: np.ndarray) -> None:
        """``<id>_strip.png``: the :data:`STRIP_TILES` at 1:1 side by side (``"mouth"`` when the
        target is a smile, else ``"lower face"``), each labelled; the outputs' tiles share one box
        (the union over the input's and both outputs' landmarks), the real target (another photo)
        is framed the same size around its own landmarks' box."""
        from PIL import Image, ImageDraw

        from pixelfes._atomic import atomic_path

        assert self.save is not None
        kind = "mouth" if self.save.name.endswith("happy") else "lower face"
        boxes = np.array([strip_box(np.asarray(lm, np.float64), kind) for lm in marks])
        x0, y0 = boxes[:, :2].min(axis=0)
        x1, y1 = boxes[:, 2:].max(axis=0)
        size = (int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        rb = strip_box(np.asarray(real_lm, np.float64), kind)
        tiles = []
        for name in STRIP_TILES[kind]:
            c = np.array([(rb[0] + rb[2]) / 2, (rb[1] + rb[3]) / 2]) if name == "real target" else centre
            im = Image.fromarray(_tile(images[name], c, size))
            d = ImageDraw.Draw(im)
            label = name.replace("native+canvas ", "+canvas ")
            d.rectangle([0, 0, 6 * len(label) + 6, 12], fill=(0, 0, 0))
            d.text((3, 0), label, fill=(255, 255, 255))
            tiles.append(np.asarray(im))
        with atomic_path(self.save / f"{ident}_strip.png") as tmp:
            Image.fromarray(np.hstack(tiles)).save(tmp, format="PNG")

    def _save(self, ident: str, images: dict[str, np.ndarray], lm: np.ndarray) -> None:
        """The face (the input's landmarks' box padded by a fifth of its width) at 1:1, each image;
        the real target's own framing differs (it is another photo)."""
        from PIL import Image

        from pixelfes._atomic import atomic_path

        assert self.save is not None
        self.save.mkdir(parents=True, exist_ok=True)
        h, w = next(iter(images.values())).shape[:2]
        lo, hi = lm.min(axis=0), lm.max(axis=0)
        pad = 0.2 * (hi[0] - lo[0])
        x0, y0 = np.maximum(np.floor(lo - pad).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(hi + pad).astype(int) + 1, (w, h))
        for name, img in images.items():
            fname = name.replace("+", "_").replace("/", "-").replace(" ", "-")
            with atomic_path(self.save / f"{ident}_{fname}.png") as tmp:
                Image.fromarray(np.ascontiguousarray(img[y0:y1, x0:x1])).save(tmp, format="PNG")


#: The tiles of a saved strip: a smile's mouth, or a closed smile's lower face (the cheeks' folds).
STRIP_TILES = {"mouth": ("input", "native", "native+canvas opening", "native+canvas lips/corners",
                         "native+canvas mouth box", "canvas", "real target"),
               "lower face": ("input", "native", "native+canvas cheeks", "native+canvas mouth box",
                              "canvas", "real target")}


def strip_box(lm: np.ndarray, kind: str) -> tuple[float, float, float, float]:
    """The tile's box ``(x0, y0, x1, y1)`` around one landmark set: ``"mouth"`` the outer lips'
    box padded by 0.25 mouth widths; ``"lower face"`` from jaw point 2 to 14 and from the nose
    bridge (29) to a fifth of a mouth width below the lower lip."""
    if kind == "mouth":
        pad = 0.25 * float(np.linalg.norm(lm[54] - lm[48]))
        (x0, y0), (x1, y1) = lm[48:60].min(axis=0) - pad, lm[48:60].max(axis=0) + pad
        return float(x0), float(y0), float(x1), float(y1)
    if kind == "lower face":
        width = float(np.linalg.norm(lm[54] - lm[48]))
        return float(lm[2, 0]), float(lm[29, 1]), float(lm[14, 0]), float(lm[48:60, 1].max() + 0.2 * width)
    raise ValueError(f"kind must be one of {sorted(STRIP_TILES)}; got {kind!r}")


def _tile(img: np.ndarray, centre: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``size`` (w, h) pixels of ``img`` at 1:1 around ``centre`` (x, y), padded grey off the photo."""
    w, h = size
    x0, y0 = int(round(centre[0] - w / 2)), int(round(centre[1] - h / 2))
    out = np.full((h, w, 3), 128, np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + w, img.shape[1]), min(y0 + h, img.shape[0])
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


def person_figures(crops: dict[tuple[str, str], np.ndarray], target: str, methods: list[str],
                   scorers: Any) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, float]]]]:
    """:func:`score_crops`' means and per-person figures of ``methods``: per judge ``.accuracy``
    (1 when the expression named is ``target``) and ``.p_target``, ``identity.distance`` (to the
    real target) and ``identity.to_input`` (to the input, same embedder, same crops)."""
    from pixelfes.evaluate.photo_scores import score_crops

    each: dict[str, dict[str, dict[str, Any]]] = {}
    means = score_crops(crops, target, methods, scorers=scorers, people_out=each)
    people = sorted(each[methods[0]])
    per: dict[str, dict[str, dict[str, float]]] = {}
    emb_in = np.asarray(scorers.identity.embed(np.stack([crops[(p, "input")] for p in people])), np.float64)
    for m in methods:
        e = np.asarray(scorers.identity.embed(np.stack([crops[(p, m)] for p in people])), np.float64)
        to_input = np.linalg.norm(e - emb_in, axis=1)
        means[m]["identity.to_input"] = float(to_input.mean())
        rows = per.setdefault(m, {})
        for k, p in enumerate(people):
            s = each[m][p]
            row = {key: float(v) for key, v in s.items() if not key.endswith(".call")}
            for key, v in s.items():
                if key.endswith(".call"):
                    row[key.replace(".call", ".accuracy")] = float(v == target)
            row["identity.to_input"] = float(to_input[k])
            rows[p] = row
    return means, per


#: The figures whose gaps are split, in table order.
FIGURES = ("fer.accuracy", "faceapi.accuracy", "fer.p_target", "faceapi.p_target",
           "identity.distance", "identity.to_input")


def shares(per: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """``shares[hybrid][figure]``: :func:`gap_share` of each hybrid against native (base) and
    canvas (whole); for ``canvas+native`` hybrids the share of the gap that *stays closed*
    (canvas's figure kept), so both kinds read the same way: near one when the region carries
    all of the gap."""
    people = sorted(per["native"])
    out: dict[str, dict[str, dict[str, float]]] = {}
    for h in HYBRIDS:
        out[h] = {}
        for f in FIGURES:
            if f not in per["native"][people[0]]:
                continue
            base = np.array([per["native"][p][f] for p in people])
            whole = np.array([per["canvas"][p][f] for p in people])
            part = np.array([per[h][p][f] for p in people])
            if h.startswith("canvas+native"):
                part = base + whole - part  # what is left of the gap = what the region took away
            out[h][f] = gap_share(base, whole, part)
    return out


def _f(v: float, fmt: str = ".2f") -> str:
    return "-" if v is None or not np.isfinite(v) else format(v, fmt)


def means_table(means: dict[str, dict[str, float]], methods: Sequence[str]) -> str:
    """Markdown: the judges' means per image kind."""
    head = ["image", "n", *FIGURES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in methods:
        s = means[m]
        cells = [m, str(int(s["n"]))] + [_f(s.get(f, float("nan")), ".3f") for f in FIGURES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shares_table(sh: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown: per hybrid, each figure's gap share (se) in per cent; the gap itself on top."""
    figs = [f for f in FIGURES if f in sh[HYBRIDS[0]]]
    lines = ["| region | " + " | ".join(figs) + " |", "|" + "---|" * (len(figs) + 1)]
    first = sh[HYBRIDS[0]]
    lines.append("| gap canvas - native (se) | " + " | ".join(
        f"{first[f]['gap']:+.3f} ({first[f]['gap_se']:.3f})" for f in figs) + " |")
    for h in HYBRIDS:
        lines.append(f"| {h} | " + " | ".join(
            f"{100 * sh[h][f]['share']:.0f} % ({100 * sh[h][f]['se']:.0f})" for f in figs) + " |")
    return "\n".join(lines)


def stack_strips(folder: Path, out: Path, width: int | None = None) -> Path:
    """The ``*_strip.png`` of ``folder`` (sorted by id) stacked top to bottom, each padded right to
    the widest, as a JPEG (quality 88) at ``out``."""
    from PIL import Image

    strips = [np.asarray(Image.open(f).convert("RGB")) for f in sorted(folder.glob("*_strip.png"))]
    if not strips:
        raise ValueError(f"no *_strip.png in {folder}")
    w = width or max(s.shape[1] for s in strips)
    rows = [np.pad(s, ((0, 4), (0, w - s.shape[1]), (0, 0)), constant_values=255) for s in strips]
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(out, format="JPEG", quality=88)
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the folds per direction, score and split the gaps, print, write JSON."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.evaluate.mouth_protocol import (
        FACTORIES,
        london_people,
        pairs_loader,
        run_mouth_folds,
    )
    from pixelfes.evaluate.scoring import Scorers

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from mouth_eval import default_data

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=None, help="London Face Set folder (default $PIXELFES_DATA/london-face-set)")
    p.add_argument("--directions", default="neutral:happy,happy:neutral", metavar="S:T,S:T",
                   help="comma-separated SOURCE:TARGET (default neutral:happy,happy:neutral)")
    p.add_argument("--ids", default=None, help="comma-separated London ids to run (default: everyone)")
    p.add_argument("--people", type=int, default=None, help="only the first N of a seeded shuffle (quick runs)")
    p.add_argument("--folds", type=int, default=5, help="folds over people (default 5)")
    p.add_argument("--seed", type=int, default=0, help="fold seed (default 0)")
    p.add_argument("--feather", type=float, default=FEATHER, help=f"regions' blur, mouth widths (default {FEATHER})")
    p.add_argument("--json", type=Path, default=None, help="write means, shares and per-person figures here")
    p.add_argument("--save", type=Path, default=None, metavar="DIR",
                   help="save each image's face at 1:1 under DIR/<direction>/ (London, CC BY)")
    p.add_argument("--figure", type=Path, default=None, metavar="F.jpg",
                   help="with --save: the saved strips of each direction stacked, one JPEG per direction "
                        "(F's stem + '-<direction>'; London, CC BY: may go in docs/figures)")
    p.add_argument("--progress", action="store_true", help="progress bars on stderr")
    args = p.parse_args(argv)
    if args.figure is not None and args.save is None:
        p.error("--figure needs --save (the strips are made from the saved images)")

    data = args.data or default_data()
    if not (data / "london_info.csv").is_file():
        p.error(f"--data: {data} has no london_info.csv; pass the London Face Set folder")
    factories = {"native": FACTORIES["native"], "canvas": FACTORIES["shape-texture"]}
    load = pairs_loader(data, progress=args.progress)
    scorers = Scorers.default(DEFAULT_ALIGNMENT, quality=False)
    methods = ["input", "native", "canvas", *HYBRIDS, "real target"]
    report: dict[str, Any] = {"data": str(data), "folds": args.folds, "seed": args.seed,
                              "feather": args.feather, "directions": {}}
    for d in args.directions.split(","):
        source, _, target = d.partition(":")
        if not target:
            p.error(f"--directions: {d!r} must be SOURCE:TARGET, e.g. neutral:happy")
        people = london_people(data, source, target)
        only = None
        if args.ids:
            only = {i.strip() for i in args.ids.split(",") if i.strip()}
            unknown = only - {q.identity for q in people}
            if unknown:
                p.error(f"--ids: no {source}/{target} pair for {sorted(unknown)}")
        elif args.people:
            order = np.random.default_rng(args.seed).permutation(len(people))
            only = {people[i].identity for i in order[: args.people]}
        t0 = time.perf_counter()
        swap = SwapCollector(d, args.save, args.feather)
        run_mouth_folds(people, factories, source=source, target=target, load_pairs=load,
                        n_folds=args.folds, seed=args.seed, only=only, progress=args.progress,
                        on_output=swap)
        means, per = person_figures(swap.crops.crops, target, methods, scorers)
        sh = shares(per)
        report["directions"][d] = {"seconds": round(time.perf_counter() - t0, 1), "means": means,
                                   "shares": sh, "people": per, "failed": swap.failed}
        print(f"### {source} -> {target} ({int(means['native']['n'])} held-out people, {args.folds} folds)\n")
        print(means_table(means, ["input", "native", "canvas", "real target"]))
        print()
        print(shares_table(sh))
        print()
        for ident, why in swap.failed.items():
            print(f"failed ({d}): {ident}: {why}", file=sys.stderr)
        if args.figure is not None and swap.save is not None:
            stack_strips(swap.save, args.figure.with_name(f"{args.figure.stem}-{d.replace(':', '-')}.jpg"))
    if args.json:
        from pixelfes._atomic import atomic_path

        args.json.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
