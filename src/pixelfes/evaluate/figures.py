"""PNG figures of an evaluation: image grids with column labels, and score curves.

matplotlib (the ``[eval]`` extra) is imported on first use with the Agg backend, so
figures are written without a display. Every function writes one PNG and returns its path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["curve_panels", "image_grid", "result_grid"]


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("figures need matplotlib: pip install 'pixelfes[eval]'") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _show(ax: Any, image: np.ndarray) -> None:
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=255 if img.dtype == np.uint8 else 1)
    else:
        ax.imshow(img)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def image_grid(
    images: Sequence[Sequence[np.ndarray]],
    col_labels: Sequence[str],
    path: str | os.PathLike[str],
    row_labels: Sequence[str] | None = None,
    captions: Sequence[Sequence[str]] | None = None,
    title: str | None = None,
    tile_inches: float = 1.6,
    dpi: int = 100,
) -> Path:
    """A grid of images: ``images[row][col]`` ``(H, W[, C])`` uint8, labels above each column,
    optional labels left of each row and a caption under each tile (e.g. a classifier verdict).
    """
    plt = _plt()
    rows = len(images)
    cols = max(len(r) for r in images) if rows else 0
    if rows == 0 or cols == 0:
        raise ValueError("image_grid needs at least one image")
    if len(col_labels) != cols:
        raise ValueError(f"col_labels has {len(col_labels)} labels for {cols} columns")
    cap_h = 0.28 if captions is not None else 0.0
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(cols * tile_inches + (0.5 if row_labels else 0),
                                      rows * (tile_inches + cap_h) + 0.45 + (0.3 if title else 0)))
    for i in range(rows):
        for j in range(cols):
            ax = axes[i][j]
            if j < len(images[i]):
                _show(ax, images[i][j])
            else:
                ax.axis("off")
            if i == 0:
                ax.set_title(col_labels[j], fontsize=9)
            if j == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[i], fontsize=8)
            if captions is not None and j < len(captions[i]):
                ax.set_xlabel(captions[i][j], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def result_grid(result: Any, keys: Sequence[str], labels: Sequence[str], rows: Sequence[int],
                path: str | os.PathLike[str], title: str | None = None,
                backend: str | None = None) -> Path:
    """Grid of a :class:`~pixelfes.evaluate.protocol.ProtocolResult`'s outputs: one row per pair
    index in ``rows``, one column per method key; under each tile the classifier's
    P(target) (``backend``, default the primary one)."""
    from pixelfes.expressions import EXPRESSIONS

    backend = backend or (result.backends[0] if result.backends else None)
    t = EXPRESSIONS.index(result.target)
    images = [[result.outputs[k][i] for k in keys] for i in rows]
    captions = None
    if backend is not None:
        captions = []
        for i in rows:
            row = []
            for k in keys:
                p = result.probs.get(k, {}).get(backend)
                if p is None or not np.isfinite(p[i]).all():
                    row.append("")
                else:
                    top = EXPRESSIONS[int(p[i].argmax())]
                    row.append(f"P({result.target[:3]}) {p[i, t]:.2f} [{top[:3]}]")
            captions.append(row)
    row_labels = [f"person {result.groups[i]}" for i in rows]
    return image_grid(images, labels, path, row_labels=row_labels, captions=captions, title=title)


def curve_panels(
    panels: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    title: str | None = None,
    dpi: int = 100,
) -> Path:
    """Side-by-side line plots. Each panel: ``x`` (values), ``series`` ``{label: (mean, std)}``
    (arrays over x; std may be None), ``xlabel``, ``ylabel``, optional ``hlines``
    ``{label: y}`` (dashed references such as the real photos' score), ``xscale``
    (``"log"``) and ``xticks``."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), squeeze=False, figsize=(4.2 * len(panels), 3.4))
    for ax, panel in zip(axes[0], panels, strict=True):
        x = np.asarray(panel["x"], dtype=float)
        for label, (mean, std) in panel["series"].items():
            m = np.asarray(mean, dtype=float)
            line = ax.plot(x, m, marker="o", ms=3, label=label)[0]
            if std is not None:
                s = np.asarray(std, dtype=float)
                ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.15, lw=0)
        for k, (label, y) in enumerate(panel.get("hlines", {}).items()):
            ax.axhline(y, ls="--", lw=1, color=f"C{7 + k % 3}", label=label)
        if panel.get("xscale"):
            ax.set_xscale(panel["xscale"])
        if panel.get("xticks") is not None:
            ax.minorticks_off()
            ax.set_xticks(panel["xticks"])
            ax.set_xticklabels([f"{v:g}" for v in panel["xticks"]])
        ax.set_xlabel(panel.get("xlabel", ""))
        ax.set_ylabel(panel.get("ylabel", ""))
        if panel.get("title"):
            ax.set_title(panel["title"], fontsize=10)
        ax.grid(alpha=0.3)
    shared = len({tuple(p["series"]) for p in panels}) == 1
    if shared:  # one legend for the figure; otherwise a legend per panel
        handles, labels = axes[0][0].get_legend_handles_labels()
        for ax in axes[0][1:]:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8,
                   frameon=False)
    else:
        for ax in axes[0]:
            ax.legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, (0.1 + 0.04 * (len(labels) > 6)) if shared else 0, 1, 1))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
