"""Action-unit intensities from 68 landmarks: a non-negative fit of the basis, with pose.

The landmarks are explained as the posed 3D shape ``mean + sum_u w_u motion_u + sum_k c_k
identity_k`` with ``w >= 0`` (actions) and ``c`` free but ridge-penalised (the person's own
face shape: ICT identity modes less the size, rotation and position changes a pose makes,
:func:`rigid_free_identity`, so the pose alone carries those). One objective, over all 68
points::

    J = ||project(pose, shape(w, c)) - landmarks||^2 + s0^2 (IDENTITY_RIDGE ||c||^2 + UNIT_RIDGE ||w||^2)

``s0`` is the scale of the rigid pose fit (:func:`~.pose.fit_pose` of the mean shape on the
eyes and nose): a constant of the face, so the ridges are in the model's units and do not
depend on the pose being fitted. The estimate is the minimum of ``J`` reached from that
rigid pose by variable projection: at a given pose ``w`` and ``c`` are exact (``c``
eliminated in closed form, a small non-negative least squares in ``w``); the pose takes
Gauss-Newton steps on ``J`` with ``w`` and ``c`` re-optimised (the Jacobian projected off
what the deformation absorbs), each step halved until ``J`` falls, so ``J`` never rises. It
stops when a round lowers ``J`` by less than a relative :data:`TOLERANCE` (London: 4-8
rounds, median 5; at most ``iterations``). (Before, the pose was refitted on the eyes and
nose alone, ignoring the ridges and the other points: ``J`` rose every round and the scale
drifted without end; docs/actions.md, "The analysis converges".) Units whose motion is
nearly the same on the 68 landmarks as another's are left out of the fit (AU27 = more
AU26, AU25, AU11 ~ AU10, AU24 ~ AU23, sides): :data:`ANALYSIS_UNITS`.
"""


from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .basis import ActionUnitBasis, load_basis
from .pose import Pose, fit_pose, to_camera

__all__ = ["ANALYSIS_UNITS", "UnitEstimate", "estimate_units", "rigid_free_identity"]

ANALYSIS_UNITS: tuple[str, ...] = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10",
                                   "AU12", "AU14", "AU15", "AU16", "AU17", "AU20", "AU23",
                                   "AU26", "AU43")
IDENTITY_RIDGE = 0.01  # ridge on identity coefficients, relative to the scaled basis
UNIT_RIDGE = 1e-3  # tiny ridge on the actions: keeps the small problem well posed
MAX_ROUNDS = 30  # cap on the pose's Gauss-Newton rounds (London faces: 4-8)
TOLERANCE = 1e-7  # stop when a round lowers the objective by less than this fraction
#: (the intensities are then within 2e-4 of 160 rounds' on the 164 London faces)


@dataclass(frozen=True)
class UnitEstimate:
    """The fit of one face: unit intensities, the pose, and the fit's residual (px, RMS)."""

    units: dict[str, float]
    pose: Pose = field(repr=False)
    identity: np.ndarray = field(repr=False)  # (K,) identity coefficients
    rms: float
    objective: float = field(default=float("nan"), repr=False)  # J at the estimate (px^2)
    rounds: int = field(default=0, repr=False)  # pose rounds taken
    converged: bool = field(default=True, repr=False)  # False: stopped at the cap


def _nnls_gram(g: np.ndarray, atb: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
    # numpy, no scipy (tests/test_analysis_exact.py: equal to scipy's, and to nnls on a factor)
    from .._nnls import nnls_gram

    return nnls_gram(g, atb, x0=x0)


def _plus_diagonal(m: np.ndarray, d: float | np.ndarray) -> np.ndarray:
    """``m + diag(d)`` in place on the fresh ``(n, n)`` ``m``: the same floats as adding
    ``d * eye(n)`` (``x + 0.0`` is ``x``), without the ``(n, n)`` identity."""
    m.flat[:: len(m) + 1] += d
    return m


def _rodrigues(v: np.ndarray) -> np.ndarray:
    """Rotation matrix ``exp([v]x)``."""
    th = float(np.linalg.norm(v))
    k = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    if th < 1e-12:
        return np.eye(3) + k
    return np.eye(3) + np.sin(th) / th * k + (1 - np.cos(th)) / th**2 * (k @ k)


class _Problem:
    """The objective's pieces for one face (the basis at a pose, the exact deformation)."""

    def __init__(self, lm: np.ndarray, motion: np.ndarray, ident: np.ndarray,
                 mean: np.ndarray, unit_ridge: float, identity_ridge: float) -> None:
        self.lm, self.motion, self.ident, self.mean = lm, motion, ident, mean
        # (U, 204) and (K, 204): ``w @ flat`` is the very product ``tensordot(w, motion, 1)``
        # makes (the same BLAS call), without its reshaping in Python each round
        self.motion_flat = motion.reshape(len(motion), mean.size)
        self.ident_flat = ident.reshape(len(ident), mean.size)
        self.gamma = np.sqrt(np.concatenate([np.full(len(motion), unit_ridge),
                                             np.full(len(ident), identity_ridge)]))

    def deform(self, pose: Pose, warm: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
        """Exact ``w >= 0`` and ``c`` at ``pose``: ``(w, c, J, design (136, U + K), residual)``;
        ``warm``: ``(U,)`` intensities to start the NNLS from (the last pose's; only its path
        changes, tests/test_analysis_exact.py)."""
        u, k = len(self.motion), len(self.ident)
        a = pose.project_motion(self.motion).reshape(u, 136).T  # (136, U)
        bb = pose.project_motion(self.ident).reshape(k, 136).T  # (136, K)
        r = (self.lm - pose.project(self.mean)).ravel()
        # (no units and no identity: gamma is empty, and both ridges are unused)
        lam_u, lam_c = self.gamma[0] ** 2 if u else 1.0, self.gamma[-1] ** 2 if k else 1.0
        # eliminate c: min ||a w + bb c - r||^2 + lam_c ||c||^2  ->  a P-weighted problem in w
        if k:
            g = _plus_diagonal(bb.T @ bb, lam_c)
            both = np.linalg.solve(g, bb.T @ np.column_stack([a, r]))
        else:
            both = np.zeros((0, u + 1))
        pa = a - bb @ both[:, :-1]
        pr = r - bb @ both[:, -1]
        # the NNLS on the normal equations (this Gram matrix, one a pose): each active-set
        # step a solve on a sub-block, no factor of the design (tests/test_analysis_exact.py:
        # the same w as Lawson-Hanson's lstsq steps on its Cholesky factor, to ~1e-13); warm
        # started from the last pose's intensities: usually one or two solves, where a
        # support whose solution is not positive would start again from zero
        m = _plus_diagonal(a.T @ pa, lam_u)
        w = _nnls_gram(m, a.T @ pr, x0=warm)
        c = both[:, -1] - both[:, :-1] @ w
        design = np.column_stack([a, bb])
        res = design @ np.concatenate([w, c]) - r  # fit - landmarks, (136,)
        obj = float(res @ res + lam_u * (w @ w) + (lam_c * (c @ c) if k else 0.0))
        return w, c, obj, design, res

    def pose_step(self, pose: Pose, w: np.ndarray, c: np.ndarray, design: np.ndarray,
                  res: np.ndarray) -> np.ndarray:
        """Gauss-Newton step ``(dlog s, rotation vector (3), dt (2))`` on ``J`` with the
        deformation re-optimised (variable projection, Kaufman's Jacobian)."""
        shape = self.mean + (w @ self.motion_flat).reshape(68, 3) + (c @ self.ident_flat).reshape(68, 3)
        y = to_camera(shape) @ pose.rotation.T  # (68, 3) rotated shape
        d = np.zeros((68, 2, 6))  # image motion of each pose parameter
        d[:, :, 0] = pose.scale * y[:, :2]  # log scale
        s_y = pose.scale * y
        # small rotations about the camera's x, y, z (R <- exp([v]x) R): (e_i x y)[:2]
        d[:, 0, 1], d[:, 1, 1] = 0.0, -s_y[:, 2]
        d[:, 0, 2], d[:, 1, 2] = s_y[:, 2], 0.0
        d[:, 0, 3], d[:, 1, 3] = -s_y[:, 1], s_y[:, 0]
        d[:, 0, 4] = 1.0  # translation
        d[:, 1, 5] = 1.0
        dd = d.reshape(136, 6)
        free = np.concatenate([w > 0, np.ones(len(c), dtype=bool)])
        f = design[:, free]
        gam = self.gamma[free]
        z = np.linalg.solve(_plus_diagonal(f.T @ f, gam**2), f.T @ dd)
        jac = np.vstack([dd - f @ z, -gam[:, None] * z])
        theta = np.concatenate([w, c])[free]
        full = np.concatenate([res, gam * theta])
        # least squares in 6 unknowns by its 6 x 6 normal equations (jac has full column
        # rank: the pose's 6 motions are independent on 68 points): lstsq's answer to
        # rounding, without its SVD (tests/test_analysis_exact.py)
        return -np.linalg.solve(jac.T @ jac, jac.T @ full)


@functools.lru_cache(maxsize=4)
def rigid_free_identity(basis: ActionUnitBasis) -> np.ndarray:
    """``(K, 68, 3)`` identity modes less what a pose change of the mean shape produces.

    The ICT identity modes hold 96 % of the mean shape's own direction (a size change) and
    40-87 % of each rotation's and translation's tangent, so the fit could trade the pose's
    scale against the face shape (the fitted scale rose 13 % on London's faces, reading
    every action smaller). Projected off those 7 directions (least squares over the 68
    points in 3D), the modes leave size, rotation and position to the pose.
    """
    mean = basis.mean_shape
    eye = np.eye(3)
    tangents = [mean] + [np.cross(e, mean) for e in eye] + [np.tile(e, (68, 1)) for e in eye]
    q, _ = np.linalg.qr(np.stack([t.ravel() for t in tangents], axis=1))  # (204, 7)
    flat = basis.identity.reshape(len(basis.identity), -1)
    return (flat - (flat @ q) @ q.T).reshape(basis.identity.shape)


def _moved(pose: Pose, step: np.ndarray) -> Pose:
    return Pose(pose.scale * float(np.exp(step[0])), _rodrigues(step[1:4]) @ pose.rotation,
                pose.translation + step[4:])


def estimate_units(landmarks: np.ndarray, units: tuple[str, ...] = ANALYSIS_UNITS,
                   basis: ActionUnitBasis | None = None, iterations: int = MAX_ROUNDS,
                   identity_ridge: float | None = None) -> UnitEstimate:
    """Estimate ``units`` intensities of one face from its ``(68, 2)`` landmarks (x, y).

    Works in any pixel frame (photo or aligned crop): the pose's scale normalises it.
    ``iterations``: the cap on the pose's rounds (0: the rigid pose, deformation only).
    ``identity_ridge``: how strongly the person's own face shape is held to the mean
    (``None``: :data:`IDENTITY_RIDGE`, read at the call; ``inf`` = not fitted: exact for the ICT mean face, biased by real faces' shape). On the
    82 London pairs (neutral faces' summed intensities / the mean AU12 rise from neutral to
    smile / share of pairs where AU12 rises): 0.01, the default, 2.04 / 0.21 / 68 %; inf
    5.02 / 0.25 / 68 %; 0.1 3.44 / 0.23; 0.001 2.14 / 0.12; the rigid pose only
    (``iterations=0``) 2.91 / 0.08. The default also gives ``--to neutral`` its least error
    on the people outside the blind test (``scripts/measure_analysis.py --to-neutral
    --ridges``: 1.44 px held out, 0.001: 1.61, 0.1: 1.54, inf: 1.73).
    """
    b = basis or load_basis()
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2) or not np.all(np.isfinite(lm)):
        raise ValueError(f"landmarks must be finite (68, 2) (x, y) points; got shape {lm.shape}")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0 (0 = the rigid pose only); got {iterations}")
    rows = [b.index(u) for u in units]
    identity_ridge = IDENTITY_RIDGE if identity_ridge is None else float(identity_ridge)
    ident = rigid_free_identity(b) if np.isfinite(identity_ridge) else b.identity[:0]
    pose = fit_pose(lm, b.mean_shape)
    s0sq = pose.scale**2
    prob = _Problem(lm, b.motion[rows], ident, b.mean_shape, UNIT_RIDGE * s0sq,
                    (identity_ridge if np.isfinite(identity_ridge) else 1.0) * s0sq)
    w, c, obj, design, res = prob.deform(pose, None)
    rounds, converged = 0, iterations == 0
    while rounds < iterations:
        rounds += 1
        step = prob.pose_step(pose, w, c, design, res)
        for _ in range(20):  # halve until J falls: the objective never rises
            trial = _moved(pose, step)
            got = prob.deform(trial, w)
            if got[2] < obj:
                break
            step = step / 2
        else:
            converged = True  # no step lowers J: a minimum to rounding
            break
        drop = obj - got[2]
        pose, (w, c, obj, design, res) = trial, got
        if drop <= TOLERANCE * obj:
            converged = True
            break
    rms = float(np.sqrt((res.reshape(68, 2) ** 2).sum(axis=1).mean()))
    return UnitEstimate({u: float(v) for u, v in zip(units, w, strict=True)}, pose, c, rms,
                        obj, rounds, converged)
