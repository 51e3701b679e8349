"""``pixelfes analyze``: each face's facial action units (FACS) and head pose, from its landmarks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG = """examples:
  pixelfes analyze photo.jpg            # a table per face
  pixelfes analyze photo.jpg --json     # {"faces": [{"box": [x0, y0, x1, y1], "au": {"AU12": 0.7}}]}

Intensities: 1 = the ICT 3D face model's full action (about FACS intensity D-E); units are
fitted non-negatively to the 68 landmarks' offsets from the posed neutral mean face, so they
see shape only (a wrinkle without motion is invisible to them) and small values (< 0.15)
are within landmark noise."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="estimate each face's facial action units (FACS) and pose",
                       description="Estimate each face's facial action unit intensities and head "
                       "pose from its 68 landmarks.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", type=Path, nargs="+", help="input photos")
    p.add_argument("--json", action="store_true", help="machine-readable output (one object per photo)")
    p.add_argument("--min", type=float, default=0.05, dest="threshold",
                   help="leave out units below this intensity (default 0.05)")
    p.add_argument("--max-faces", type=int, default=None, help="analyse at most this many faces")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..actions.photo import analyze_image

    failed = 0
    for photo in args.photos:
        try:
            faces = analyze_image(photo, max_faces=args.max_faces)
        except Exception as exc:  # noqa: BLE001 - report per photo, finish the others
            failed += 1
            print(f"error: {photo}: {exc}", file=sys.stderr)
            continue
        rows = [f.to_json(threshold=args.threshold) for f in faces]
        if args.json:
            payload = {"faces": rows} if len(args.photos) == 1 else {"photo": str(photo), "faces": rows}
            print(json.dumps(payload))
            continue
        print(f"{photo}: {len(rows)} face(s)")
        for i, r in enumerate(rows):
            units = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["au"].items(), key=lambda kv: -kv[1]))
            pose = r["pose"]
            print(f"  face {i} box {r['box']}: yaw {pose['yaw']:+.0f}, pitch {pose['pitch']:+.0f}, "
                  f"roll {pose['roll']:+.0f}; {units or 'no action above the threshold'}")
    return 1 if failed else 0
