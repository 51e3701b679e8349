"""Markdown tables from scripts/measure_actions.py's results.json (for docs/actions.md).

Run: python scripts/actions_report.py /tmp/au/measure/results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXPRS = ("happy", "sad", "surprised", "fearful", "angry", "disgusted")


def london(r: dict) -> list[str]:
    out = [f"London, {r['people']} people, strength 1 (fer on the 128 px framing; identity = dlib "
           f"distance to the input; a real smile of the same person: "
           f"{r['real_smile_identity']:.3f}):", "",
           "| expression | variant | fer called target | P(target) in -> out | rose | rose by 0.05+ "
           "| identity (max) | sharpness | fer's top classes |", "|---|---|---|---|---|---|---|---|---|"]
    for e in EXPRS:
        for v in ("default", "no_folds", "no_mouth"):
            x = r.get(f"{e}/{v}")
            if x is None:
                continue
            top = ", ".join(f"{k} {p:.2f}" for k, p in sorted(x["top"].items(), key=lambda kv: -kv[1])[:3])
            out.append(f"| {e} | {v.replace('_', ' ')} | {x['called']:.2f} | {x['p_in']:.3f} -> "
                       f"{x['p_out']:.3f} | {x['rose']:.2f} | {x['rose_005']:.2f} | "
                       f"{x['identity']:.3f} ({x['identity_max']:.2f}) | {x['sharpness']:.2f} | {top} |")
    out += ["", "Strength (default variant):", "",
            "| expression | strength | fer called | P(target) out | rose | identity |", "|---|---|---|---|---|---|"]
    for e in EXPRS:
        for a in ("0.5", "0.75"):
            x = r.get(f"{e}/strength{a}")
            if x:
                out.append(f"| {e} | {a} | {x['called']:.2f} | {x['p_out']:.3f} | {x['rose']:.2f} | "
                           f"{x['identity']:.3f} |")
        d = r.get(f"{e}/default")
        if d:
            out.append(f"| {e} | 1 | {d['called']:.2f} | {d['p_out']:.3f} | {d['rose']:.2f} | "
                       f"{d['identity']:.3f} |")
    return out


def jaffe(r: dict) -> list[str]:
    out = ["JAFFE landmark motion (mean point error in px on the 192 px canvas, per person then "
           "averaged; in brackets as a fraction of the outer-eye-corner distance):", "",
           "| expression | pairs / people | no motion | recipe | shape model, leave-one-person-out "
           "| best strength for JAFFE (diagnostic) | error there | cosine of mean motions "
           "| --to neutral from the real photo (vs no change) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for e in EXPRS:
        x = r.get(e)
        if not x:
            continue

        def f(k: str, x: dict = x) -> str:
            return f"{x[k]['px']:.2f} ({x[k]['eye_frac']:.3f})"

        tn = x.get("to_neutral", {})
        out.append(f"| {e} | {x['pairs']} / {x['people']} | {f('no_motion')} | {f('recipe')} | "
                   f"{f('shape_loo')} | {x['best_strength']:.2f} | {f('recipe_at_best')} | "
                   f"{x['cosine_mean_motion']:.2f} | {tn.get('removed_px', float('nan')):.2f} "
                   f"({tn.get('no_motion_px', float('nan')):.2f}) |")
    out += ["", "fer on JAFFE (gray crops): share called the target and mean P(target):", "",
            "| expression | input (neutral) | recipe | recipe without folds | recipe without mouth "
            "| real expression photos |", "|---|---|---|---|---|---|"]
    for e in EXPRS:
        x = r.get(e)
        if not x:
            continue

        def g(k: str, x: dict = x) -> str:
            return f"{x[k]['called']:.2f} / {x[k]['p_target']:.3f}"

        out.append(f"| {e} | {g('fer_input')} | {g('fer_default')} | {g('fer_no_folds')} | "
                   f"{g('fer_no_mouth')} | {g('fer_real')} |")
    return out


def main() -> None:
    res = json.loads(Path(sys.argv[1]).read_text())
    lines: list[str] = []
    if "london" in res:
        lines += london(res["london"]) + [""]
    if "jaffe" in res:
        lines += jaffe(res["jaffe"])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
