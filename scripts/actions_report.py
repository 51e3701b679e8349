"""Markdown tables from scripts/measure_actions.py's results.json or scripts/choose_intensities.py's
choice JSON (for docs/actions.md).

Run: python scripts/actions_report.py /tmp/au/measure/results.json
     python scripts/actions_report.py /tmp/au/choose/choice-happy-sad-surprised-fearful-angry-disgusted.json
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
    fa = ["", "face-api's expression net (tight face box), strength 1: called / P(target) in -> out "
          "/ rose / rose by 0.05+ (real London smiles: "
          + (f"{r['real_smile_faceapi']['called']:.2f} called happy, P {r['real_smile_faceapi']['p_out']:.2f}"
             if "real_smile_faceapi" in r else "n/a") + "):", "",
          "| expression | variant | called | P in -> out | rose | rose 0.05+ | top classes |",
          "|---|---|---|---|---|---|---|"]
    for e in EXPRS:
        for v in ("default", "no_folds", "no_mouth"):
            x = (r.get(f"{e}/{v}") or {}).get("faceapi")
            if x is None:
                continue
            top = ", ".join(f"{k} {p:.2f}" for k, p in sorted(x["top"].items(), key=lambda kv: -kv[1])[:3])
            fa.append(f"| {e} | {v.replace('_', ' ')} | {x['called']:.2f} | {x['p_in']:.3f} -> "
                      f"{x['p_out']:.3f} | {x['rose']:.2f} | {x['rose_005']:.2f} | {top} |")
    out += fa
    out += ["", "Strength (default variant):", "",
            "| expression | strength | fer called | P(target) out | rose | face-api called | P out | rose "
            "| identity |", "|---|---|---|---|---|---|---|---|---|"]
    for e in EXPRS:
        for a in ("0.5", "0.75"):
            x = r.get(f"{e}/strength{a}")
            if x:
                f = x.get("faceapi", {"called": float("nan"), "p_out": float("nan"), "rose": float("nan")})
                out.append(f"| {e} | {a} | {x['called']:.2f} | {x['p_out']:.3f} | {x['rose']:.2f} | "
                           f"{f['called']:.2f} | {f['p_out']:.3f} | {f['rose']:.2f} | {x['identity']:.3f} |")
        d = r.get(f"{e}/default")
        if d:
            f = d.get("faceapi", {"called": float("nan"), "p_out": float("nan"), "rose": float("nan")})
            out.append(f"| {e} | 1 | {d['called']:.2f} | {d['p_out']:.3f} | {d['rose']:.2f} | "
                       f"{f['called']:.2f} | {f['p_out']:.3f} | {f['rose']:.2f} | {d['identity']:.3f} |")
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
    if any("faceapi_default" in (r.get(e) or {}) for e in EXPRS):
        out += ["", "face-api on JAFFE: called / mean P(target) / share whose P(target) rose over "
                "the neutral input's:", "",
                "| expression | input (neutral) | recipe | without folds | without mouth | real photos |",
                "|---|---|---|---|---|---|"]
        for e in EXPRS:
            x = r.get(e)
            if not x or "faceapi_default" not in x:
                continue

            def h(k: str, x: dict = x) -> str:
                return f"{x[k]['called']:.2f} / {x[k]['p_out']:.3f} / {x[k]['rose']:.2f}"

            out.append(f"| {e} | {h('faceapi_input')} | {h('faceapi_default')} | "
                       f"{h('faceapi_no_folds')} | {h('faceapi_no_mouth')} | {h('faceapi_real')} |")
    return out


def held_out(r: dict) -> list[str]:
    """The fold choice's held-out table: both judges, identity, sharpness."""
    def judge(x: dict) -> str:
        return (f"{x['called']:.2f} | {x['p_in']:.3f} -> {x['p_out']:.3f} | "
                f"{x['rose']:.2f} ({x['rose_005']:.2f})")

    out = [f"London, {r['people']} people, each held out once (5 identity-disjoint folds; "
           f"identity budget on the training folds {r['identity_budget']}):", "",
           "| expression | scales (upper, lower[, AU9 nose]) per fold -> shipped | face-api called | "
           "face-api P in -> out | face-api rose (+0.05) | fer called | fer P in -> out | "
           "fer rose (+0.05) | identity (max) | sharpness |", "|---|---|---|---|---|---|---|---|---|---|"]
    for e in EXPRS:
        x = r["expressions"].get(e)
        if x is None:
            continue
        folds = ", ".join("/".join(f"{v:g}" for v in c) for c in x["fold_choices"])
        ship = "/".join(f"{v:g}" for v in x["shipped"])
        h = x["held_out"]
        out.append(f"| {e} | {folds} -> **{ship}** | {judge(h['faceapi'])} | {judge(h['fer'])} | "
                   f"{h['identity']:.3f} ({h['identity_max']:.2f}) | {h['sharpness']:.2f} |")
    out += ["", "The same people at the by-eye intensities (scales 1/1, this engine):", "",
            "| expression | face-api called | face-api P in -> out | face-api rose (+0.05) | fer called | "
            "fer P in -> out | fer rose (+0.05) | identity (max) | sharpness |",
            "|---|---|---|---|---|---|---|---|---|"]
    for e in EXPRS:
        x = r["expressions"].get(e)
        if x is None:
            continue
        h = x["unscaled"]
        out.append(f"| {e} | {judge(h['faceapi'])} | {judge(h['fer'])} | "
                   f"{h['identity']:.3f} ({h['identity_max']:.2f}) | {h['sharpness']:.2f} |")
    out += ["", "Held out, people the by-eye choices never looked at (all but the first 20 ids):", "",
            "| expression | face-api called | face-api rose (+0.05) | fer called | fer rose (+0.05) | identity |",
            "|---|---|---|---|---|---|"]
    for e in EXPRS:
        x = r["expressions"].get(e)
        if x is None:
            continue
        h = x["held_out_not_development"]
        out.append(f"| {e} ({h['people']} people) | {h['faceapi']['called']:.2f} | {h['faceapi']['rose']:.2f} "
                   f"({h['faceapi']['rose_005']:.2f}) | {h['fer']['called']:.2f} | {h['fer']['rose']:.2f} "
                   f"({h['fer']['rose_005']:.2f}) | {h['identity']:.3f} |")
    tops = []
    for e in EXPRS:
        x = r["expressions"].get(e)
        if x is None:
            continue
        for n in ("faceapi", "fer"):
            t = sorted(x["held_out"][n]["top"].items(), key=lambda kv: -kv[1])[:3]
            tops.append(f"{n} {e}: " + ", ".join(f"{k} {v:.2f}" for k, v in t))
    return out + ["", "Top classes (held out): " + "; ".join(tops) + "."]


def main() -> None:
    res = json.loads(Path(sys.argv[1]).read_text())
    lines: list[str] = []
    if "expressions" in res:
        lines += held_out(res)
    if "london" in res:
        lines += london(res["london"]) + [""]
    if "jaffe" in res:
        lines += jaffe(res["jaffe"])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
