"""Non-negative least squares in numpy: ``min ||A x - b||`` subject to ``x >= 0``.

Lawson and Hanson's active-set method (*Solving Least Squares Problems*, 1974, ch. 23),
the algorithm behind ``scipy.optimize.nnls``, so action-unit analysis needs no scipy.
The problems here are small (tens of unknowns); each step is one ``lstsq`` on the
passive columns.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nnls"]


def nnls(a: np.ndarray, b: np.ndarray, max_iter: int | None = None, tol: float | None = None,
         start: np.ndarray | None = None) -> np.ndarray:
    """``x >= 0`` minimising ``||a @ x - b||`` (``a`` ``(m, n)`` of full column rank, so
    ``m >= n``; ``b`` ``(m,)``): the solution is then unique.

    ``tol``: the optimality tolerance on the gradient (default: ``10 * eps * ||a||_1 *
    max(m, n)``, as Lawson and Hanson suggest); ``max_iter``: outer iterations (default
    ``max(3 n, 100)``); ``start``: ``(n,) bool``, a guess of the solution's positive entries
    (a warm start, e.g. a nearby problem's support): used when the least-squares solution on
    those columns is positive, which then only has to be checked (the same solution: one
    least-squares solve on the same columns), else ignored. Raises ``RuntimeError`` when
    the iterations run out (degenerate problems).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.shape != (a.shape[0],):
        raise ValueError(f"need a (m, n) and b (m,); got {a.shape} and {b.shape}")
    m, n = a.shape
    if m < n:
        raise ValueError(f"nnls needs at least as many rows as unknowns (full column rank); got {a.shape}")
    if tol is None:
        tol = 10.0 * np.finfo(np.float64).eps * float(np.abs(a).sum(0).max(initial=0.0)) * max(m, n)
    limit = max(3 * n, 100) if max_iter is None else int(max_iter)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    if start is not None:
        guess = np.asarray(start, dtype=bool).reshape(n)
        if guess.any():
            z = np.zeros(n)
            z[guess] = np.linalg.lstsq(a[:, guess], b, rcond=None)[0]
            if (z[guess] > 0).all():  # a feasible start: Lawson and Hanson's invariant holds
                x, passive = z, guess.copy()
    w = a.T @ (b - a @ x)
    for _ in range(limit):
        if passive.all() or not (w[~passive] > tol).any():
            return x
        j = int(np.argmax(np.where(passive, -np.inf, w)))
        passive[j] = True
        while True:  # inner loop: keep the passive solution feasible
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = float(np.min(x[neg] / (x[neg] - z[neg])))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
        w = a.T @ (b - a @ x)
    raise RuntimeError(f"nnls: no convergence in {limit} iterations")
