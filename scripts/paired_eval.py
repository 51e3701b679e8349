"""Paired differences of two methods in a ``scripts/mouth_eval.py --judges --json`` report.

Per held-out person, the candidate's figure minus the baseline's, their mean and standard error
(sd / sqrt(n)): mouth contrast and tint errors, the lips' and the lower lip's streak error
(``|log(out / real)|``, pixelfes.evaluate.streaks), the judges' accuracy and P(target) (1 when the expression named
is the target), identity distance, PSNR / SSIM, and the eyes' per-person distances to the real
smile (``smile_eye_motion.eye_table``: eye opening, lower-lid shading). Lower is better for all
but accuracy, PSNR and SSIM.

Example:
    python scripts/paired_eval.py /tmp/eval.json --baseline native --candidate native-eyes
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def paired(a: dict[str, float], b: dict[str, float]) -> tuple[float, float, int]:
    """Mean and standard error of ``b[p] - a[p]`` over the people both have (finite), and how many."""
    ids = sorted(set(a) & set(b))
    d = np.array([b[p] - a[p] for p in ids if np.isfinite(a[p]) and np.isfinite(b[p])], dtype=np.float64)
    if len(d) < 2:
        return float("nan"), float("nan"), len(d)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))), len(d)


def figures(direction: dict[str, Any], method: str, target: str) -> dict[str, dict[str, float]]:
    """Per figure, per person, ``method``'s value."""
    out: dict[str, dict[str, float]] = {}
    for row in direction["rows"]:
        if row["method"] == method and "failed" not in row:
            for k in ("contrast_error", "tint_error"):
                out.setdefault(k, {})[row["identity"]] = float(row[k])
    for key, name in (("streaks", "streak_error"), ("streaks_lower", "streak_error_lower")):
        for p, e in direction.get(key, {}).get(method, {}).get("errors", {}).items():
            if e is not None:
                out.setdefault(name, {})[p] = float(e)
    for p, s in direction.get("judges_people", {}).get(method, {}).items():
        for judge in ("fer", "faceapi"):
            if f"{judge}.call" in s:
                out.setdefault(f"{judge}.accuracy", {})[p] = float(s[f"{judge}.call"] == target)
            if f"{judge}.p_target" in s:
                out.setdefault(f"{judge}.p_target", {})[p] = float(s[f"{judge}.p_target"])
        for k in ("identity.distance", "quality.psnr", "quality.ssim"):
            if k in s:
                out.setdefault(k, {})[p] = float(s[k])
    for p, s in direction.get("eyes", {}).get(method, {}).get("people", {}).items():
        for k in ("opening_to_real", "shading_to_real"):
            out.setdefault(f"eyes.{k}", {})[p] = float(s[k])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", type=Path)
    ap.add_argument("--baseline", default="native")
    ap.add_argument("--candidate", required=True)
    ap.add_argument("--direction", default="neutral:happy")
    args = ap.parse_args(argv)
    rep = json.loads(args.report.read_text(encoding="utf-8"))
    d = rep["directions"][args.direction]
    target = args.direction.partition(":")[2]
    a, b = figures(d, args.baseline, target), figures(d, args.candidate, target)
    print(f"| {args.direction}: {args.candidate} - {args.baseline} | n | mean {args.baseline} | "
          f"mean {args.candidate} | paired difference | se |")
    print("|---|---|---|---|---|---|")
    for k in sorted(set(a) & set(b)):
        m, se, n = paired(a[k], b[k])
        print(f"| {k} | {n} | {np.nanmean(list(a[k].values())):.4f} | {np.nanmean(list(b[k].values())):.4f} | "
              f"{m:+.4f} | {se:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
