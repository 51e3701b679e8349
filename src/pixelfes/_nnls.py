"""Non-negative least squares in numpy: ``min ||A x - b||`` subject to ``x >= 0``.

Lawson and Hanson's active-set method (*Solving Least Squares Problems*, 1974, ch. 23),
the algorithm behind ``scipy.optimize.nnls``, so action-unit analysis needs no scipy.
The problems here are small (tens of unknowns); each step is one ``lstsq`` on the
passive columns. :func:`nnls_gram` runs the same steps on the normal equations (``A^T A``
and ``A^T b`` given, each step one ``solve`` on a sub-block), for a caller that has the
Gram matrix already (the analysis: one a pose) and would otherwise factor it first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nnls", "nnls_gram"]


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


def nnls_gram(g: np.ndarray, atb: np.ndarray, max_iter: int | None = None, tol: float | None = None,
              start: np.ndarray | None = None, x0: np.ndarray | None = None) -> np.ndarray:
    """:func:`nnls` from the normal equations: ``x >= 0`` minimising ``||A x - b||`` given
    ``g = A^T A`` ``(n, n)`` (symmetric positive definite: ``A`` of full column rank) and
    ``atb = A^T b`` ``(n,)``, ``A`` itself never formed.

    The same Lawson-Hanson steps as :func:`nnls` (the same choice of the entering unit, the
    same inner loop, the same ``start`` rule); each passive-set least-squares solve is
    ``solve(g[P, P], atb[P])`` on the sub-block instead of ``lstsq(A[:, P], b)``, and the
    gradient ``A^T (b - A x)`` is ``atb - g x``: equal in exact arithmetic, so the same
    solution to rounding (``cond(g[P, P])`` times eps; tests/test_analysis_exact.py). ``tol``
    (default ``10 * eps * sqrt(n * max(diag g)) * n``): ``sqrt(n g_jj)`` bounds the 1-norm
    of an ``n``-row factor's column, so the default is the :func:`nnls` one of such an ``A``
    or a little above it (both ~1e-13 of the problem's scale).

    ``x0``: ``(n,)`` floats ``>= 0``, a feasible point to start from (e.g. a nearby
    problem's solution; instead of ``start``): its positive entries are the first passive
    set and Lawson and Hanson's inner loop runs from it (the least-squares solution on them
    when positive, as ``start``; else steps from ``x0`` towards it, dropping the entries
    that reach zero, until it is), then the outer loop as from zero. The minimum is unique
    and always ends as the solve on its own support, so a start changes only the path: the
    same floats whenever it ends on the same support (tests/test_analysis_exact.py).
    """
    g = np.asarray(g, dtype=np.float64)
    atb = np.asarray(atb, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] != g.shape[1] or atb.shape != (g.shape[0],):
        raise ValueError(f"need g (n, n) and atb (n,); got {g.shape} and {atb.shape}")
    if start is not None and x0 is not None:
        raise ValueError("give start (a support) or x0 (a feasible point), not both")
    n = g.shape[0]
    if tol is None:
        tol = 10.0 * np.finfo(np.float64).eps * float(np.sqrt(n * np.diag(g).max(initial=0.0))) * n
    limit = max(3 * n, 100) if max_iter is None else int(max_iter)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    if start is not None:
        guess = np.asarray(start, dtype=bool).reshape(n)
        if guess.any():
            z = np.zeros(n)
            z[guess] = np.linalg.solve(g[guess][:, guess], atb[guess])
            if (z[guess] > 0).all():  # a feasible start: Lawson and Hanson's invariant holds
                x, passive = z, guess.copy()
    if x0 is not None:
        x = np.array(x0, dtype=np.float64).reshape(n)
        if not (np.isfinite(x).all() and (x >= 0).all()):
            raise ValueError("x0 must be finite and >= 0 (a feasible point)")
        passive = x > 0
        x[~passive] = 0.0
        x, passive = _feasible(g, atb, x, passive, tol)
    w = atb - g @ x
    for _ in range(limit):
        if passive.all() or not (w[~passive] > tol).any():
            return x
        j = int(np.argmax(np.where(passive, -np.inf, w)))
        passive[j] = True
        x, passive = _feasible(g, atb, x, passive, tol)
        w = atb - g @ x
    raise RuntimeError(f"nnls_gram: no convergence in {limit} iterations")


def _feasible(g: np.ndarray, atb: np.ndarray, x: np.ndarray, passive: np.ndarray, tol: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Lawson and Hanson's inner loop on the normal equations: from ``x`` (``>= 0``, positive
    on ``passive``), step towards the least-squares solution on the passive set, dropping
    the entries that reach zero, until that solution is positive; returns it and its set."""
    n = len(x)
    while passive.any():
        z = np.zeros(n)
        z[passive] = np.linalg.solve(g[passive][:, passive], atb[passive])
        if (z[passive] > 0).all():
            return z, passive
        neg = passive & (z <= 0)
        alpha = float(np.min(x[neg] / (x[neg] - z[neg])))
        x = x + alpha * (z - x)
        passive &= x > tol
        x[~passive] = 0.0
    return np.zeros(n), passive
