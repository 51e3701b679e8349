"""Write an evaluation as ``report.md`` (tables, figures) and ``results.json`` (every number).

The tables are built from the JSON form (:meth:`ProtocolResult.to_dict`), so a report can be
rebuilt from a saved ``results.json`` without rerunning anything.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixelfes.expressions import EXPRESSIONS

__all__ = [
    "confusion_table",
    "direction_table",
    "fmt_score",
    "jsonable",
    "write_json",
    "write_report",
]

#: (metric key, column header, digits) of the direction tables, in column order.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("fer.accuracy", "expr. acc. (fer)", 2),
    ("fer.p_target", "P(target) (fer)", 2),
    ("faceapi.accuracy", "expr. acc. (faceapi)", 2),
    ("faceapi.p_target", "P(target) (faceapi)", 2),
    ("facex.accuracy", "expr. acc. (facex)", 2),
    ("identity.distance", "identity dist.", 2),
    ("identity.rank1", "rank-1", 2),
    ("quality.psnr", "PSNR dB", 2),
    ("quality.ssim", "SSIM", 3),
    ("quality.sharpness", "sharpness", 2),
)


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy values made plain and NaN/inf replaced by ``None`` (strict JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(payload: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``payload`` as strict JSON (see :func:`jsonable`)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(jsonable(payload), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return out


def fmt_score(score: Mapping[str, Any] | None, digits: int = 2, std: bool = True) -> str:
    """``"0.45 ± 0.05"`` from ``{"mean", "std"}``; ``"-"`` when missing."""
    if not score or score.get("mean") is None:
        return "-"
    text = f"{score['mean']:.{digits}f}"
    if std and score.get("std") is not None:
        text += f" ± {score['std']:.{digits}f}"
    return text


def _human_int(n: int | None) -> str:
    if n is None or n < 0:
        return "-"
    return f"{n:,}".replace(",", " ")


def _rows(direction: Mapping[str, Any], strengths: Sequence[float] | None) -> list[str]:
    keys = [k for k in ("real target", "input", "mean target") if k in direction["methods"]]
    for key, info in direction["methods"].items():
        if info.get("kind") != "model" or info.get("scored") != "all":
            continue
        if strengths is not None and not any(abs(info["strength"] - a) < 1e-9 for a in strengths):
            continue
        keys.append(key)
    return keys


def direction_table(direction: Mapping[str, Any], strengths: Sequence[float] | None = None,
                    std: bool = True, extra_rows: Sequence[str] = ()) -> str:
    """Markdown table of one direction (a :meth:`ProtocolResult.to_dict` dict): one row per
    method (references first), mean ± std over folds, size and fit time per model.
    ``extra_rows`` are appended verbatim (e.g. a placeholder row)."""
    backends = set(direction.get("expression_backends", []))
    judges = ("fer", "faceapi", "facex")
    cols = [c for c in COLUMNS if c[0].split(".")[0] not in judges or c[0].split(".")[0] in backends]
    header = ["method"] + [c[1] for c in cols] + ["parameters", "bytes", "fit s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in _rows(direction, strengths):
        info = direction["methods"][key]
        scores = info.get("scores", {})
        name = key if info.get("kind") != "model" else (
            info["label"] + ("" if info["strength"] == 1 else f", strength {info['strength']:g}"))
        if key == "real target":
            name = "real target photos (ceiling)"
        elif key == "input":
            name = "output = input (floor)"
        elif key == "mean target":
            name = "output = mean target face"
        cells = [fmt_score(scores.get(m), d, std) for m, _, d in cols]
        size = direction.get("sizes", {}).get(info.get("label", ""), {})
        fit = direction.get("fit_seconds", {}).get(info.get("label", ""))
        fit_text = f"{np.mean(fit):.2f}" if fit else "-"
        lines.append("| " + " | ".join([name, *cells, _human_int(size.get("parameters")),
                                         _human_int(size.get("bytes")), fit_text]) + " |")
    lines += list(extra_rows)
    return "\n".join(lines)


def confusion_table(rows: Mapping[str, Sequence[int]], classes: Sequence[str] = EXPRESSIONS,
                    normalise: bool = True) -> str:
    """Markdown confusion table: ``rows`` maps a true class to its predicted counts."""
    lines = ["| true \\ predicted | " + " | ".join(classes) + " | n |",
             "|" + "---|" * (len(classes) + 2)]
    for true, counts in rows.items():
        c = np.asarray(counts, dtype=float)
        total = c.sum()
        vals = c / total if normalise and total else c
        cells = [(f"**{v:.2f}**" if cls == true else f"{v:.2f}") if normalise else str(int(v))
                 for cls, v in zip(classes, vals, strict=True)]
        lines.append(f"| {true} | " + " | ".join(cells) + f" | {int(total)} |")
    return "\n".join(lines)


def write_report(out_dir: str | os.PathLike[str], title: str, sections: Sequence[str],
                 payload: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write ``out_dir/report.md`` (title + markdown sections) and ``out_dir/results.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    md.write_text(f"# {title}\n\n" + "\n\n".join(s.strip() for s in sections) + "\n", encoding="utf-8")
    js = write_json(payload, out / "results.json")
    return md, js


# ---------------------------------------------------------------------------- one direction

#: Column order of the comparison grids (the paper's Fig. 1/3 order), by model type.
GRID_ORDER: tuple[str, ...] = ("rr", "mr", "pixel-rr", "pixel-kr", "shape-texture")


def grid_rows(result: Any, n: int = 6) -> list[int]:
    """Pair indices of ``n`` different held-out people spread over the set (one pair each)."""
    held = result.held_out
    first: dict[str, int] = {}
    for i in held:
        first.setdefault(str(result.groups[i]), int(i))
    people = sorted(first)
    if len(people) <= n:
        return [first[p] for p in people]
    pick = np.linspace(0, len(people) - 1, n).round().astype(int)
    return [first[people[k]] for k in pick]


def grid_columns(result: Any, strength: float = 1.0) -> tuple[list[str], list[str]]:
    """(method keys, column labels): input | models in the paper's order | real target."""
    models = [(k, v) for k, v in result.methods.items()
              if v["kind"] == "model" and abs(v["strength"] - strength) < 1e-9]
    order = {name: i for i, name in enumerate(GRID_ORDER)}
    models.sort(key=lambda kv: (order.get(kv[1]["model_type"], len(order)), kv[0]))
    keys = ["input"] + [k for k, _ in models] + ["real target"]
    labels = ["input"] + [v["label"] for _, v in models] + ["real target"]
    return keys, labels


def strength_panels(result: Any, backend: str | None = None) -> list[dict[str, Any]]:
    """Curve panels: the classifier's mean P(target) and accuracy vs strength, per model."""
    backend = backend or result.backends[0]
    summary = result.summary()
    by_label: dict[str, list[tuple[float, str]]] = {}
    for key, info in result.methods.items():
        if info["kind"] == "model":
            by_label.setdefault(info["label"], []).append((info["strength"], key))
    panels = []
    for metric, ylabel in (("p_target", f"mean P({result.target}) ({backend})"),
                           ("accuracy", f"share called {result.target} ({backend})")):
        series = {}
        xs: list[float] = []
        for label, items in by_label.items():
            items.sort()
            xs = [a for a, _ in items]
            m = [summary[k].get(f"{backend}.{metric}", {}).get("mean", np.nan) for _, k in items]
            s = [summary[k].get(f"{backend}.{metric}", {}).get("std", np.nan) for _, k in items]
            series[label] = (m, s)
        hl = {}
        for ref, name in (("real target", "real target photos"), ("input", "input (strength 0)")):
            v = summary.get(ref, {}).get(f"{backend}.{metric}")
            if v:
                hl[name] = v["mean"]
        panels.append({"x": xs, "series": series, "xlabel": "strength", "ylabel": ylabel,
                       "hlines": hl, "xticks": xs})
    return panels


def direction_figures(result: Any, out_dir: str | os.PathLike[str], prefix: str,
                      n_rows: int = 6) -> dict[str, Path]:
    """Write the comparison grid and (with several strengths) the strength curve of a result."""
    from pixelfes.evaluate.figures import curve_panels, result_grid

    out = Path(out_dir)
    figs: dict[str, Path] = {}
    keys, labels = grid_columns(result)
    if len(keys) > 2:
        figs["grid"] = result_grid(
            result, keys, labels, grid_rows(result, n_rows), out / f"{prefix}-grid.png",
            title=f"{result.source} -> {result.target}, held-out people (strength 1)")
    strengths = {v["strength"] for v in result.methods.values() if v["kind"] == "model"}
    if len(strengths) > 2 and result.backends:
        figs["strength"] = curve_panels(strength_panels(result), out / f"{prefix}-strength.png",
                                        title=f"{result.source} -> {result.target}: expression vs strength")
    return figs


def direction_section(direction: Mapping[str, Any], figures: Mapping[str, Path] | None = None,
                      heading: str = "", rel_to: str | os.PathLike[str] | None = None,
                      extra_rows: Sequence[str] = ()) -> str:
    """Markdown section of one direction: table (strength 1 and other fully scored strengths),
    confusion of the real photos, figure links."""
    d = direction
    lines = [f"## {heading or d['source'] + ' -> ' + d['target']}", "",
             f"{d['pairs']} pairs of {d['people']} people, {d['folds']} identity-disjoint folds"
             + (" (leave-one-person-out)" if d.get("meta", {}).get("leave_one_person_out") else "")
             + f"; quality on the {d['quality_region']}. Mean ± std over folds.", "",
             direction_table(d, extra_rows=extra_rows), ""]
    for b in d.get("expression_backends", []):
        rows = {}
        inp = d["methods"].get("input", {})
        if "source_confusion" in inp:
            rows[d["source"]] = inp["source_confusion"][b][EXPRESSIONS.index(d["source"])]
        tgt = d["methods"].get("real target", {})
        if "confusion" in tgt:
            rows[d["target"]] = tgt["confusion"][b][EXPRESSIONS.index(d["target"])]
        if rows:
            lines += [f"What `{b}` calls the real photos (share of each row):", "",
                      confusion_table(rows), ""]
    base = Path(rel_to) if rel_to is not None else None
    for name, path in (figures or {}).items():
        p = Path(path)
        link = os.path.relpath(p, base) if base is not None else p.name
        lines += [f"![{d['source']} -> {d['target']} {name}]({link})", ""]
    return "\n".join(lines)
