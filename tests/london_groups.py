"""Group photos made at test time from London Face Set photos (CC BY 4.0), with ground truth.

Faces are cut from the 1350 px neutral photos around their hand-placed ``.tem`` points,
scaled to a wanted width (40-800 px), slightly turned in the image plane, and pasted with a
feathered elliptical edge onto a smooth random background of up to 8000 px. Nothing is
written to disk. Used by tests and by ``benchmarks/bench_recall.py`` and
``benchmarks/bench_landmarks.py``.

Point correspondence ``.tem`` (WebMorph FRL template, 189 points) -> dlib 68: measured on the
82 neutral photos (dlib's 68-point fit on each photo, nearest ``.tem`` point by median
distance over the photos); only points with the same anatomical meaning in both schemes are
kept (brow ends, eye corners, nose base and wings, mouth corners and lip centres, chin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# dlib-68 index -> .tem index (see the module docstring)
TEM_TO_DLIB: dict[int, int] = {
    8: 129, 17: 71, 21: 75, 22: 78, 26: 82, 31: 64, 33: 55, 35: 69,
    36: 18, 39: 22, 42: 23, 45: 27, 48: 87, 50: 89, 51: 90, 52: 91, 54: 93, 57: 106,
}
DLIB_IDX = np.array(sorted(TEM_TO_DLIB))
TEM_IDX = np.array([TEM_TO_DLIB[k] for k in DLIB_IDX])
PUPILS = (0, 1)  # .tem indices of the two pupils (normalisation of errors)
JAW = (109, 112)  # .tem points beside dlib 0 and 16: the face width used here


def read_tem(path: str | Path) -> np.ndarray:
    """The ``(N, 2)`` (x, y) points of a WebMorph ``.tem`` file (first line: the count)."""
    lines = Path(path).read_text().split("\n")
    n = int(lines[0])
    return np.array([[float(v) for v in line.split()[:2]] for line in lines[1:1 + n]])


def london_neutral(data_dir: Path) -> list[tuple[Path, Path]]:
    """(photo, template) pairs of the neutral London photos that have a ``.tem``."""
    folder = Path(data_dir) / "neutral_front"
    return [(p, p.with_suffix(".tem")) for p in sorted(folder.glob("*.jpg"))
            if p.with_suffix(".tem").is_file()]


def face_width(tem: np.ndarray) -> float:
    return float(np.linalg.norm(tem[JAW[0]] - tem[JAW[1]]))


def face_centre(tem: np.ndarray) -> np.ndarray:
    """Midpoint of the pupils' centre and the mouth corners' centre."""
    return 0.5 * (tem[list(PUPILS)].mean(0) + tem[[87, 93]].mean(0))


@dataclass
class TrueFace:
    """Ground truth of one pasted face: its width, centre and ``.tem`` points in the group photo."""

    width: float
    centre: np.ndarray
    tem: np.ndarray = field(repr=False)
    source: str = ""

    @property
    def dlib_points(self) -> np.ndarray:
        """The hand-placed points at the dlib-68 indices :data:`DLIB_IDX`."""
        return self.tem[TEM_IDX]

    @property
    def interocular(self) -> float:
        return float(np.linalg.norm(self.tem[PUPILS[0]] - self.tem[PUPILS[1]]))


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    import cv2

    low = rng.uniform(40, 220, size=(6, 8, 3)).astype(np.float32)
    bg = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    noise = cv2.resize(rng.normal(0, 12, size=(max(1, h // 8), max(1, w // 8), 3)).astype(np.float32),
                       (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(bg + noise, 0, 255).astype(np.uint8)


def make_group(rng: np.random.Generator, sources: list[tuple[Path, Path]], size: tuple[int, int],
               widths: list[float], max_roll: float = 10.0) -> tuple[np.ndarray, list[TrueFace]]:
    """A ``size`` = (width, height) RGB group photo with one face of each of ``widths`` px.

    Faces are placed at random without overlapping (a face that does not fit is left out;
    the ground truth lists only the placed ones), turned by up to ``max_roll`` degrees.
    """
    import cv2
    from PIL import Image

    w, h = size
    canvas = _background(rng, w, h).astype(np.float32)
    placed: list[tuple[float, float, float]] = []
    truths: list[TrueFace] = []
    order = rng.permutation(len(sources))
    for k, fw in enumerate(sorted(widths, reverse=True)):
        photo, tem_path = sources[order[k % len(sources)]]
        tem = read_tem(tem_path)
        half = 0.95 * fw  # pasted square: 1.9 face widths
        for _ in range(200):
            cx, cy = rng.uniform(half, w - half), rng.uniform(half, h - half)
            if all(abs(cx - px) > half + ph or abs(cy - py) > half + ph for px, py, ph in placed):
                break
        else:
            continue
        placed.append((cx, cy, half))
        src = np.asarray(Image.open(photo).convert("RGB"))
        s = fw / face_width(tem)
        roll = np.deg2rad(rng.uniform(-max_roll, max_roll))
        c0 = face_centre(tem)
        rot = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]]) * s
        # photo -> patch: centre c0 to patch centre; the patch is a (2 half) square
        side = int(np.ceil(2 * half))
        m = np.hstack([rot, (np.array([half, half]) - rot @ c0)[:, None]])
        if s < 0.75:  # area-reduce first (linear warping alone would alias)
            fx = round(src.shape[1] * 1.5 * s) / src.shape[1]
            src = cv2.resize(src, (round(src.shape[1] * fx), round(src.shape[0] * fx)),
                             interpolation=cv2.INTER_AREA)
            # reduced pixel q' <-> photo pixel q: q = (q' + 0.5) / fx - 0.5
            m = np.hstack([m[:, :2] / fx, (m[:, 2] + m[:, :2] @ np.full(2, 0.5 / fx - 0.5))[:, None]])
        patch = cv2.warpAffine(src, m, (side, side), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
        r = np.hypot((xx - half) / (0.85 * half), (yy - half) / (0.98 * half))
        alpha = np.clip((1.0 - r) / 0.12, 0, 1)[..., None]
        x0, y0 = int(round(cx - half)), int(round(cy - half))
        x1, y1 = min(w, x0 + side), min(h, y0 + side)
        region = canvas[y0:y1, x0:x1]
        a = alpha[: y1 - y0, : x1 - x0]
        region += a * (patch[: y1 - y0, : x1 - x0] - region)
        # ground truth: the .tem points through the same map, shifted to the canvas
        pts = tem @ rot.T + (np.array([half, half]) - rot @ c0) + np.array([x0, y0])
        truths.append(TrueFace(width=fw, centre=face_centre(pts), tem=pts, source=photo.name))
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8), truths


def log_widths(rng: np.random.Generator, n: int, lo: float = 40.0, hi: float = 800.0) -> list[float]:
    """``n`` face widths spread evenly on a log scale between ``lo`` and ``hi`` (shuffled)."""
    ws = np.exp(np.linspace(np.log(lo), np.log(hi), n))
    return list(rng.permutation(ws))


def match(truths: list[TrueFace], boxes: list[tuple[float, float, float, float]]) -> list[int | None]:
    """For each true face, the index of the box found for it (or ``None``): the box's centre
    lies within half a face width of the true centre and its size is 0.5-2x the face width."""
    used: set[int] = set()
    out: list[int | None] = []
    for t in truths:
        best, best_d = None, np.inf
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            if i in used:
                continue
            size = 0.5 * ((x1 - x0) + (y1 - y0))
            d = float(np.hypot(0.5 * (x0 + x1) - t.centre[0], 0.5 * (y0 + y1) - t.centre[1]))
            if d < 0.5 * t.width and 0.5 * t.width <= size <= 2.0 * t.width and d < best_d:
                best, best_d = i, d
        if best is not None:
            used.add(best)
        out.append(best)
    return out


def squeeze_tilt(rgb: np.ndarray, sx: float, sy: float, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` squeezed by (sx, sy) and turned by ``degrees`` about its centre; and the map
    (a wrong-fit maker for the plausibility check: tests and benchmarks/bench_plausible.py)."""
    import cv2

    h, w = rgb.shape[:2]
    c = np.array([(w - 1) / 2, (h - 1) / 2])
    a = np.deg2rad(degrees)
    lin = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.diag([sx, sy])
    m = np.hstack([lin, (c - lin @ c)[:, None]])
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE), m
