"""Write ``src/pixelfes/assets/shape/triangulations.safetensors``: the Delaunay triangles of every
point set the package triangulates at synthesis, so synthesis needs no scipy.

Run:  python scripts/build_triangulations.py   (needs scipy; rerun after changing the mouth
bank or the action units' canvas: ``tests/test_cache.py`` fails while one is missing)

The sets: each mouth exemplar's lips with its patch border (``pixelfes.mouth.fill``) and
the action units' canvas at the default alignment (``pixelfes.actions.model``). They are
found by running those code paths with a recorder in place of the cache's Delaunay.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def point_sets() -> dict[str, np.ndarray]:
    """``{key: (T, 3) triangles}`` of every set the package triangulates at synthesis."""
    from scipy.spatial import Delaunay

    from pixelfes import _cache
    from pixelfes.actions import RECIPES, ActionUnitModel
    from pixelfes.mouth import fill, load_bank

    found: dict[str, np.ndarray] = {}

    def record(points: np.ndarray) -> np.ndarray:
        pts = np.ascontiguousarray(points, dtype=np.float64)
        tri = Delaunay(pts).simplices.astype(np.intp)
        found[_cache.point_key(pts)] = tri
        return tri

    real = _cache.delaunay
    _cache.delaunay = record
    try:
        bank = load_bank()
        fill._TRIANGULATIONS.clear()
        for i in range(len(bank.ids)):
            fill._triangulation(bank, i)
        for expression in [*RECIPES, "neutral"]:
            ActionUnitModel(expression).fit()
        ActionUnitModel(None, au="12=1").fit()
    finally:
        _cache.delaunay = real
        fill._TRIANGULATIONS.clear()
    return found


def main() -> None:
    sys.path.insert(0, str(REPO / "src"))
    from pixelfes._cache import SHIPPED

    found = point_sets()
    SHIPPED.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v, dtype=np.int16) for k, v in sorted(found.items())},
              str(SHIPPED))
    print(f"wrote {len(found)} triangulations to {SHIPPED.relative_to(REPO)} "
          f"({SHIPPED.stat().st_size / 1024:.1f} KB)")


if __name__ == "__main__":
    main()
