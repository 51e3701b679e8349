"""Know the judge: the expression scorers on real London photos, and the scorers' speed.

Detects each face once with dlib's HOG detector (the scorers' own ``detect``), then
classifies the real neutral and smiling photos with every backend and reports the
"happy" rate and mean P(happy) of each; also dlib's identity distance between a person's
two photos and rank-1 identification of smiles against the neutral gallery.

    python benchmarks/bench_scorers.py [--people N] [--data DIR]

Results go to stdout as JSON lines; needs ../shared/data (or PIXELFES_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pixelfes.evaluate import (
    ExpressionBackendUnavailable,
    ExpressionClassifier,
    IdentityEmbedder,
    identity_distance,
    rank1_identification,
)
from pixelfes.evaluate._faces import detect_box


def data_dir() -> Path:
    env = os.environ.get("PIXELFES_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def london_pairs(root: Path, n: int | None) -> list[tuple[Path, Path]]:
    d = root / "london-face-set"
    pairs = []
    for neutral in sorted((d / "neutral_front").glob("*_03.jpg")):
        smile = d / "smiling_front" / f"{neutral.name[:3]}_08.jpg"
        if smile.is_file():
            pairs.append((neutral, smile))
    return pairs[:n] if n else pairs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=None, help="first N people (default: all)")
    ap.add_argument("--data", type=Path, default=None, help="data root holding london-face-set/")
    args = ap.parse_args()
    root = args.data or data_dir()
    pairs = london_pairs(root, args.people)
    if not pairs:
        print(f"no London pairs under {root}", file=sys.stderr)
        return 1
    photos: dict[str, list[np.ndarray]] = {"neutral": [], "smiling": []}
    boxes: dict[str, list[tuple[float, float, float, float]]] = {"neutral": [], "smiling": []}
    t0 = time.perf_counter()
    for neutral, smile in pairs:
        for key, path in (("neutral", neutral), ("smiling", smile)):
            im = np.asarray(Image.open(path).convert("RGB"))
            box = detect_box(im)
            if box is None:
                print(f"no face in {path}", file=sys.stderr)
                return 1
            photos[key].append(im)
            boxes[key].append(box)
    t_detect = (time.perf_counter() - t0) / (2 * len(pairs))
    print(json.dumps({"people": len(pairs), "hog_detect_s_per_photo": round(t_detect, 3)}))
    configs = [("fer", "area"), ("fer", "linear"), ("facex", "area")]
    for backend, resize in configs:
        clf = ExpressionClassifier(backend, resize=resize)  # type: ignore[arg-type]
        row: dict[str, object] = {"backend": backend, "resize": resize if backend == "fer" else "skimage"}
        try:
            for key in ("neutral", "smiling"):
                t0 = time.perf_counter()
                p = clf.predict_proba(np.stack(photos[key]), boxes=np.array(boxes[key]))
                dt = (time.perf_counter() - t0) / len(p)
                happy = clf.classes.index("happy")
                row[key] = {
                    "happy_rate": round(float((p.argmax(1) == happy).mean()), 3),
                    "mean_p_happy": round(float(p[:, happy].mean()), 3),
                    "predicted": dict(zip(clf.classes, np.bincount(p.argmax(1), minlength=7).tolist(),
                                          strict=True)),
                    "s_per_face": round(dt, 4),
                }
        except ExpressionBackendUnavailable as exc:
            row["skipped"] = str(exc)
        print(json.dumps(row))
    emb = IdentityEmbedder()
    t0 = time.perf_counter()
    en = emb.embed(np.stack(photos["neutral"]), boxes=np.array(boxes["neutral"]))
    es = emb.embed(np.stack(photos["smiling"]), boxes=np.array(boxes["smiling"]))
    dt = (time.perf_counter() - t0) / (2 * len(pairs))
    same = identity_distance(en, es)
    other = identity_distance(en, np.roll(es, 1, axis=0))
    print(json.dumps({
        "identity_same_person_mean": round(float(same.mean()), 3),
        "identity_same_below_0.6": round(float((same < 0.6).mean()), 3),
        "identity_other_person_mean": round(float(other.mean()), 3),
        "rank1_smile_vs_neutral_gallery": round(rank1_identification(es, en, np.arange(len(es))), 3),
        "embed_s_per_face": round(dt, 4),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
