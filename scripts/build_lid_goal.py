"""Fit the bundled :class:`pixelfes.lids.LidGoal` on every London pair (neutral, happy).

The data's mean eye part of a smile (eye points' motion by kind of smile, the lower lids'
luminance profile), landmarks found as the engine finds them (:func:`pixelfes.pipeline.find_faces`,
full size). Written to ``src/pixelfes/assets/lids/london-lid-goal.json`` (London Face Set, CC BY:
derived means only, no pixels). The fold engines of ``scripts/mouth_eval.py`` never use it: they fit
their own on their training people (``pixelfes.evaluate.engines.fold_lid_goal``).

Example:
    PIXELFES_DATA=/work/shared/data PYTHONPATH=src python scripts/build_lid_goal.py
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from pixelfes._atomic import atomic_path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "pixelfes" / "assets" / "lids" / "london-lid-goal.json"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    from pixelfes.evaluate.mouth_protocol import london_people
    from pixelfes.imageio import read_rgb
    from pixelfes.lids import LidGoal
    from pixelfes.pipeline import find_faces

    env = os.environ.get("PIXELFES_DATA")
    data = (Path(env) if env else REPO.parent / "shared" / "data") / "london-face-set"
    photos: dict[str, list] = {"neutral": [], "happy": []}
    marks: dict[str, list] = {"neutral": [], "happy": []}
    for person in london_people(data, "neutral", "happy"):
        for e in ("neutral", "happy"):
            rgb = read_rgb(person.photos[e])[0]
            photos[e].append(rgb)
            marks[e].append(find_faces(rgb, max_faces=1)[0].landmarks)
    goal = LidGoal.fit(photos["neutral"], marks["neutral"], photos["happy"], marks["happy"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(goal.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"{args.out}: {goal.people[0]} open and {goal.people[1]} closed smiles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
