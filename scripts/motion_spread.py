"""Why the action units move the whole face a little: the photo map's motion against the ICT mesh's own.

Issue 16's photo step is bound by the cubic remap of every pixel that moves, and 0.35-0.46
MP of a ~445 px London face move by more than 0.25 px for every recipe. This measures
where that motion comes from, on London faces (1350 px photos):

- **landmarks**: each recipe's and each single (both-sides) unit's motion of the 68 points
  in photo pixels, by region (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67),
  and its largest difference from the plain formula: the face's pose (scaled rotation,
  :func:`pixelfes.actions.fit_pose`) times the ICT motion of each point's own mapped vertex
  (:func:`pixelfes.actions.model.synthesis_motion`) at the recipe's intensities. Only fold
  limiting (``ActionUnitModel.predict_shape``) may shorten it; nothing re-aligns the points;
- **pixels, per face**: the photo map's |motion| (``native.plan_photo_map``, what the step
  resamples) against the ICT mesh's own dense motion (9,409 vertices, the front-facing
  ones, carried onto the face by the landmarks' piecewise-affine map, posed the same way,
  interpolated linearly between vertices): the area moving by more than ``--px`` where the
  mesh moves by more too, where the mesh moves less (motion the ICT does not make inside the
  face), and beyond the ICT face (hair, ears, the eyes' interiors, background); and the
  moving area by size of motion;
- ``--time N``: what the pixels beyond the ICT face cost at most: the cubic remap of every
  moving pixel against that of only those inside the ICT face (each gathered into rows, as
  ``benchmarks/bench_actions.py``'s floor), N alternating runs, CPU ms (one core);
- ``--face-band K``: an experiment, not the engine: the photo path's face weight
  (``native.face_motion_weight``: the larger of the face ellipse grown 15 % and feathered
  and the hull of the landmarks before and after faded over 2 x ``_MOTION_FEATHER``)
  replaced by that hull with the ICT front outline above the brows added (carried by the
  landmarks), faded over K x the same width: the moving MP and box, next to the engine's;
- ``--png DIR``: per face, the map of |motion| over the photo for every recipe
  (``photo_motion_<id>.png``, log colour 0.25-16 px, gray: under 0.25 px), and where the
  motion lies beyond the ICT face (``beyond_mesh_<id>.png``, magenta; orange: inside it).

Needs ``$PIXELFES_DATA/london-face-set`` and ``$PIXELFES_DATA/ict-facekit/ict_face_light.npz``
(MIT). Figures are photo pixels of the 1350 px London photos.

Examples:
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/motion_spread.py \\
        --faces 001,004,013,062,099 --png /tmp/spread --json /tmp/spread/spread.json --time 15
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/motion_spread.py \
        --faces 001,062 --face-band 0.5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pixelfes._atomic import atomic_path

DATA = Path(os.environ.get("PIXELFES_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
RECIPES = ("surprised", "angry", "disgusted", "fearful", "sad", "happy")
GROUPS = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36), "eyes": range(36, 48),
          "mouth": range(48, 68)}
BINS = (0.05, 0.25, 0.5, 1.0, 2.0, 4.0, np.inf)


def _builder() -> Any:
    """scripts/build_action_units.py (the FACS -> ICT shapes table), imported as a neighbour."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_action_units

    return build_action_units


class Mesh:
    """The ICT Face Model Light's front-facing vertices on the 192 px reference canvas."""

    def __init__(self, triangulation: Any, reference: np.ndarray) -> None:
        b = _builder()
        d = np.load(DATA / "ict-facekit" / "ict_face_light.npz")
        self.names = [str(n) for n in d["expression_names"]]
        self.expressions = d["expressions"].astype(np.float64)
        neutral = d["neutral"].astype(np.float64)
        lm = d["landmarks68"]
        sim = b._canvas_similarity(np.stack([neutral[lm, 0], -neutral[lm, 1]], axis=1))
        canvas = np.stack([neutral[:, 0], -neutral[:, 1]], axis=1) @ sim[:, :2].T + sim[:, 2]
        front = b._vertex_normals(neutral, d["quads"])[:, 2] > 0.2
        size = triangulation.size
        front &= (canvas >= 0).all(axis=1) & (canvas <= size - 1).all(axis=1)
        self.vertices = np.flatnonzero(front)
        # each vertex's barycentrics in the reference triangulation: carried onto any face by
        # its landmarks, as the warp carries the canvas
        raster = triangulation.raster(reference)
        v = canvas[self.vertices]
        tri = raster.triangle[np.rint(v[:, 1]).astype(int), np.rint(v[:, 0]).astype(int)]
        self.bary = np.einsum("pi,pij->pj", np.c_[v, np.ones(len(v))], raster.dest_inverse[tri])
        self.corners = triangulation.simplices[tri]
        pos = np.full(len(neutral), -1)
        pos[self.vertices] = np.arange(len(self.vertices))
        quads = d["quads"]
        self.quads = pos[quads[np.isin(quads, self.vertices).all(axis=1)]]
        self.spec = b.UNITS

    def motion_3d(self, weights: dict[str, float]) -> np.ndarray:
        """``(V, 3)`` ICT motion of the front vertices for unit intensities (the basis' recipe)."""
        b = _builder()
        total = np.zeros((len(self.vertices), 3))
        for key, value in weights.items():
            number = int(key[2:].rstrip("LR"))
            side = {"L": "_L", "R": "_R"}.get(key[-1], "")
            if number in self.spec:
                total += value * b._shape(self.names, self.expressions, self.spec[number][1], side)[self.vertices]
        return total

    def on_face(self, full_canvas: np.ndarray) -> np.ndarray:
        """``(V, 2)`` vertex positions on a face's canvas from its full point list."""
        return (self.bary[:, :, None] * full_canvas[self.corners]).sum(axis=1)


def _photo_field(model: Any, plm: np.ndarray, shape: tuple[int, int]) -> dict[str, Any]:
    """The step's photo map for one face: box, |motion| (photo px), still mask, plan."""
    from pixelfes.face.align import crop_matrix, transform_points
    from pixelfes.native import plan_photo_map

    align = model.alignment_
    m = crop_matrix(plm, align)
    lm = transform_points(m, plm)
    target, _ = model.plan_motion(lm)
    tri = model.warp_.triangulation
    pm = plan_photo_map(m, tri, model.warp_source(lm, target), target, align, shape,
                        raster=tri.raster(target))
    mx, my, _, still = pm.rows(0, pm.shape[0])
    x0, y0, x1, y1 = pm.box
    mag = np.hypot(mx - np.arange(x0, x1, dtype=np.float32)[None], my - np.arange(y0, y1, dtype=np.float32)[:, None])
    return {"box": pm.box, "mag": mag, "still": still, "matrix": m, "lm": lm, "target": target}


def landmark_rows(model: Any, plm: np.ndarray) -> dict[str, Any]:
    """Per region the largest landmark motion (photo px), and the largest gap to the plain
    formula (pose x the mapped vertices' ICT motion) with whether fold limiting acted."""
    from pixelfes.actions import load_basis
    from pixelfes.actions.model import NOSE_WRINKLE_SHARE, _neutral_pose, synthesis_motion
    from pixelfes.face.align import crop_matrix, transform_points

    m = crop_matrix(plm, model.alignment_)
    px = 1.0 / float(np.sqrt(abs(np.linalg.det(m[:, :2]))))  # photo px per canvas px
    lm = transform_points(m, plm)
    target, _ = model.plan_motion(lm)
    weights = model.face_weights(lm)
    basis = load_basis()
    w = basis.weights_vector(weights)
    # added units as synthesis applies them (the nose held), removed ones by the raw basis
    m3 = np.tensordot(np.maximum(w, 0.0), synthesis_motion(NOSE_WRINKLE_SHARE), axes=1) \
        + np.tensordot(np.minimum(w, 0.0), basis.motion, axes=1)
    plain = _neutral_pose(lm).project_motion(m3)
    got = np.hypot(*((target - lm) * px).T)
    gap = np.hypot(*((target - lm) - plain).T) * px
    return {"shortened_points": int((gap > 1e-9).sum()),"max_px": {g: float(got[list(r)].max()) for g, r in GROUPS.items()},
            "moving_points": {g: int((got[list(r)] > 0.25).sum()) for g, r in GROUPS.items()},
            "vs_plain_px": float(np.abs((target - lm) - plain).max() * px)}


def pixel_rows(model: Any, mesh: Mesh, plm: np.ndarray, shape: tuple[int, int], px_min: float
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Areas (MP) of the photo map's motion against the ICT mesh's, and the field itself."""
    from scipy.interpolate import griddata

    from pixelfes.actions.model import _neutral_pose
    from pixelfes.face.align import invert_affine, transform_points

    f = _photo_field(model, plm, shape)
    m, lm = f["matrix"], f["lm"]
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    inv = invert_affine(m)
    vp = transform_points(inv, mesh.on_face(model.warp_.triangulation.full_points(lm)))
    motion = _neutral_pose(lm).project_motion(mesh.motion_3d(model.face_weights(lm))) / scale
    x0, y0, x1, y1 = f["box"]
    inside = np.zeros(shape, np.uint8)
    cv2.fillPoly(inside, [np.rint(vp[q] * 16).astype(np.int32) for q in mesh.quads], 1, shift=4)
    gy, gx = np.mgrid[y0:y1, x0:x1]
    dense = griddata(vp, np.hypot(*motion.T), (gx, gy), method="linear", fill_value=0.0)
    ins = inside[y0:y1, x0:x1] > 0
    warp, real = f["mag"] > px_min, dense > px_min
    hist = np.histogram(f["mag"][~f["still"]], BINS)[0]
    mp = 1e-6
    row = {"moving_mp": float((~f["still"]).sum() * mp), "over_mp": float(warp.sum() * mp),
           "in_face_mesh_moves_mp": float((warp & ins & real).sum() * mp),
           "in_face_mesh_still_mp": float((warp & ins & ~real).sum() * mp),
           "beyond_face_mp": float((warp & ~ins).sum() * mp),
           "mesh_moves_warp_not_mp": float((real & ins & ~warp).sum() * mp),
           "by_size_mp": {f"{a:g}-{b:g}": float(c * mp) for a, b, c in zip(BINS[:-1], BINS[1:], hist, strict=True)}}
    return row, {**f, "inside": inside}


def forehead_outline(mesh: Mesh, triangulation: Any, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The front mesh's outline above the brows as barycentrics in the reference
    triangulation: ``(corners (P, 3), weights (P, 3))``, carried onto a face by its points."""
    q = mesh.quads
    e = np.sort(np.concatenate([q[:, [0, 1]], q[:, [1, 2]], q[:, [2, 3]], q[:, [3, 0]]]), axis=1)
    edges, count = np.unique(e, axis=0, return_counts=True)
    edge = np.unique(edges[count == 1])  # vertices on the boundary (positions in mesh.vertices)
    pts = mesh.on_face(triangulation.full_points(reference))[edge]
    top = pts[pts[:, 1] < reference[17:27, 1].min() - 2]
    raster = triangulation.raster(reference)
    tri = raster.triangle[np.rint(top[:, 1]).astype(int), np.rint(top[:, 0]).astype(int)]
    weights = np.einsum("pi,pij->pj", np.c_[top, np.ones(len(top))], raster.dest_inverse[tri])
    return triangulation.simplices[tri], weights


def face_band_weight(outline: tuple[np.ndarray, np.ndarray], triangulation: Any, k: float) -> Any:
    """A stand-in for ``native.face_motion_weight``: 1 over the hull of the points and the
    forehead outline they carry, smoothstep to 0 over ``k`` x 2 x ``_MOTION_FEATHER``."""
    import pixelfes.native as nat

    corners, weights = outline

    def weight(alignment: Any, *points: np.ndarray) -> np.ndarray:
        pts = [np.asarray(p, dtype=np.float64) for p in points]
        carried = [(weights[:, :, None] * triangulation.full_points(p)[corners]).sum(axis=1)
                   for p in pts if len(p) == triangulation.n_landmarks]
        hull = cv2.convexHull(np.rint(np.concatenate(pts + carried) * 16).astype(np.int32))
        size = alignment.size
        outside = np.full((size, size), 255, np.uint8)
        cv2.fillConvexPoly(outside, hull, 0, lineType=cv2.LINE_8, shift=4)
        fade = k * 2.0 * nat._MOTION_FEATHER * size / alignment.margin
        t = np.clip(1.0 - cv2.distanceTransform(outside, cv2.DIST_L2, 5) / fade, 0.0, 1.0).astype(np.float32)
        return t * t * (np.float32(3.0) - np.float32(2.0) * t)
    return weight


def band_rows(model: Any, plm: np.ndarray, shape: tuple[int, int], weight: Any) -> dict[str, float]:
    """Moving MP and box MP of the step's map with the engine's weight and with ``weight``."""
    import pixelfes.native as nat

    out = {}
    engine = nat.face_motion_weight
    try:
        for name, fn in (("engine", engine), ("face_band", weight)):
            nat.face_motion_weight = fn
            f = _photo_field(model, plm, shape)
            x0, y0, x1, y1 = f["box"]
            out[f"{name}_moving_mp"] = float((~f["still"]).sum() / 1e6)
            out[f"{name}_box_mp"] = float((x1 - x0) * (y1 - y0) / 1e6)
    finally:
        nat.face_motion_weight = engine
    return out


def _gathered_remap(rgb: np.ndarray, f: dict[str, Any], model: Any, select: np.ndarray) -> Any:
    """A call doing one cubic remap of the photo map's pixels where ``select`` (box-shaped),
    their fixed-point maps gathered into rows of 4096 (each pixel once)."""
    from pixelfes.native import photo_map

    m, lm, target = f["matrix"], f["lm"], f["target"]
    tri = model.warp_.triangulation
    got = photo_map(m, tri, model.warp_source(lm, target), target, model.alignment_, rgb.shape[:2],
                    raster=tri.raster(target))
    assert got is not None
    whole, frac = cv2.convertMaps(got[1], None, cv2.CV_16SC2)  # type: ignore[call-overload]
    idx = np.flatnonzero(select)
    idx = np.concatenate([idx, np.full(-len(idx) % 4096, idx[-1])])
    w1 = np.ascontiguousarray(whole.reshape(-1, 2)[idx].reshape(-1, 4096, 2))
    f1 = np.ascontiguousarray(frac.reshape(-1)[idx].reshape(-1, 4096))
    dst = np.empty((len(w1), 4096, rgb.shape[2]), np.uint8)
    return lambda: cv2.remap(rgb, w1, f1, cv2.INTER_CUBIC, dst=dst, borderMode=cv2.BORDER_REPLICATE)


def time_beyond(rgb: np.ndarray, f: dict[str, Any], model: Any, repeat: int) -> dict[str, float]:
    """CPU ms (medians, alternating) of the cubic remap of every moving pixel and of only
    those inside the ICT face, with their MP."""
    x0, y0, x1, y1 = f["box"]
    moving = ~f["still"]
    inside = moving & (f["inside"][y0:y1, x0:x1] > 0)
    calls = (_gathered_remap(rgb, f, model, moving), _gathered_remap(rgb, f, model, inside))
    times: tuple[list[float], list[float]] = ([], [])
    for fn in calls:
        fn()
    for _ in range(repeat):
        for fn, ts in zip(calls, times, strict=True):
            t = time.process_time()
            fn()
            ts.append(time.process_time() - t)
    return {"all_ms": 1000 * float(np.median(times[0])), "all_mp": float(moving.sum() / 1e6),
            "inside_ms": 1000 * float(np.median(times[1])), "inside_mp": float(inside.sum() / 1e6)}


def _sheet(rgb: np.ndarray, plm: np.ndarray, fields: dict[str, dict[str, Any]], beyond: bool) -> np.ndarray:
    gray = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    pts = np.rint(plm).astype(np.int32)
    tiles = []
    for name, f in fields.items():
        x0, y0, x1, y1 = f["box"]
        mag = np.zeros(rgb.shape[:2], np.float32)
        mag[y0:y1, x0:x1] = f["mag"]
        moved = mag > 0.25
        over = gray.copy()
        if beyond:
            ins = f["inside"] > 0
            for sel, colour in ((moved & ins, (255, 160, 0)), (moved & ~ins, (255, 0, 255))):
                over[sel] = (0.45 * gray[sel] + 0.55 * np.array(colour)).astype(np.uint8)
            cs, _ = cv2.findContours(f["inside"], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(over, cs, -1, (0, 255, 255), 2)
        else:
            x = np.clip(np.log2(np.maximum(mag, 1e-3) / 0.25) / 6.0, 0, 1)  # 0.25 .. 16 px
            col = cv2.applyColorMap((255 * x).astype(np.uint8), cv2.COLORMAP_TURBO)[..., ::-1]
            over = np.where(moved[..., None], (0.35 * gray + 0.65 * col).astype(np.uint8), gray)
            for a, b in ((0, 17), (17, 22), (22, 27), (27, 36), (36, 42), (42, 48), (48, 60), (60, 68)):
                cv2.polylines(over, [pts[a:b]], False, (255, 255, 255), 1)
        c = plm.mean(axis=0)
        half = 1.25 * float(np.ptp(plm[:, 0]))
        ya, yb = int(max(0, c[1] - 1.1 * half)), int(min(rgb.shape[0], c[1] + 0.9 * half))
        xa, xb = int(max(0, c[0] - half)), int(min(rgb.shape[1], c[0] + half))
        t = cv2.resize(over[ya:yb, xa:xb], None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
        cv2.putText(t, name, (8, 24), 0, 0.8, (255, 255, 255), 2)
        tiles.append(t)
    hh = min(t.shape[0] for t in tiles)
    ww = min(t.shape[1] for t in tiles)
    tiles = [t[:hh, :ww] for t in tiles]
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    return np.concatenate([np.concatenate(tiles[i:i + 4], axis=1) for i in range(0, len(tiles), 4)], axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faces", default="001,004,013,062,099", help="London ids (neutral_front/<id>_03.jpg)")
    ap.add_argument("--px", type=float, default=0.25, help="motion counted as moving (photo px)")
    ap.add_argument("--time", type=int, default=0, metavar="N",
                    help="time the remap with and without the pixels beyond the ICT face (N runs)")
    ap.add_argument("--face-band", type=float, default=0.0, metavar="K",
                    help="also the moving MP with a face-shaped weight faded over K x the engine's width")
    ap.add_argument("--png", type=Path, help="write the motion maps here")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args()
    from pixelfes.actions import ActionUnitModel, load_basis
    from pixelfes.imageio import load_image
    from pixelfes.pipeline import find_faces, resolve_model

    cv2.setNumThreads(1)  # one core, as the benchmarks

    models = {r: resolve_model(None, "neutral", r, engine="actions") for r in (*RECIPES, "neutral")}
    align = models["angry"].alignment_
    singles = [u for u in load_basis().bilateral() if not u.startswith("AU30")]
    for u in singles:
        models[u] = ActionUnitModel(au={u: 1.0}).fit(alignment=align)
    mesh = Mesh(models["angry"].warp_.triangulation, models["angry"].warp_.reference)
    out: dict[str, Any] = {"px": args.px, "faces": {}}
    band = None
    if args.face_band:
        tri = models["angry"].warp_.triangulation
        band = face_band_weight(forehead_outline(mesh, tri, models["angry"].warp_.reference), tri, args.face_band)
    for face_id in args.faces.split(","):
        rgb = load_image(DATA / "london-face-set" / "neutral_front" / f"{face_id}_03.jpg").rgb
        plm = find_faces(rgb)[0].landmarks
        rows: dict[str, Any] = {}
        fields: dict[str, dict[str, Any]] = {}
        for name, model in models.items():
            row = {"landmarks": landmark_rows(model, plm)}
            if name in RECIPES or name == "neutral":
                row["pixels"], fields[name] = pixel_rows(model, mesh, plm, rgb.shape[:2], args.px)
            rows[name] = row
            lmr = row["landmarks"]
            line = (f"{face_id} {name:9s} landmarks max px " + " ".join(f"{g} {v:5.2f}" for g, v in lmr["max_px"].items())
                    + f" | vs pose x ICT {lmr['vs_plain_px']:.1e} px"
                    f" ({lmr['shortened_points']} points shortened)")
            if "pixels" in row:
                p = row["pixels"]
                line += (f"\n    >{args.px:g} px {p['over_mp']:.3f} MP: ICT moves it too {p['in_face_mesh_moves_mp']:.3f}, "
                         f"ICT under {args.px:g} px {p['in_face_mesh_still_mp']:.3f}, beyond the ICT face "
                         f"{p['beyond_face_mp']:.3f}; ICT moves, the map not {p['mesh_moves_warp_not_mp']:.3f}; "
                         "moving by size " + " ".join(f"{k} {v:.3f}" for k, v in p["by_size_mp"].items()))
                if band is not None:
                    b = row["face_band"] = band_rows(model, plm, rgb.shape[:2], band)
                    line += (f"\n    face-shaped band x{args.face_band:g}: moving {b['engine_moving_mp']:.3f} -> "
                             f"{b['face_band_moving_mp']:.3f} MP, box {b['engine_box_mp']:.3f} -> {b['face_band_box_mp']:.3f} MP")
                if args.time:
                    t = row["remap"] = time_beyond(rgb, fields[name], model, args.time)
                    line += (f"\n    cubic remap of the moving {t['all_mp']:.3f} MP {t['all_ms']:.2f} ms; of those inside "
                             f"the ICT face only ({t['inside_mp']:.3f} MP) {t['inside_ms']:.2f} ms")
            print(line, flush=True)
        out["faces"][face_id] = rows
        if args.png:
            args.png.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.png / f"photo_motion_{face_id}.png"), _sheet(rgb, plm, fields, False)[..., ::-1])
            cv2.imwrite(str(args.png / f"beyond_mesh_{face_id}.png"), _sheet(rgb, plm, fields, True)[..., ::-1])
    if args.json:
        with atomic_path(args.json) as tmp:
            Path(tmp).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
