"""The analysis made cheaper without changing its answer: each shortcut against the plain way.

``actions.analysis`` runs the NNLS of the action units on the normal equations
(:func:`pixelfes._nnls.nnls_gram`: the Gram matrix made once a pose, each active-set step a
solve on a sub-block, warm-started from the last pose's intensities) and the pose's
Gauss-Newton step as a 6 x 6 solve. Pinned here: the whole estimate against the previous
formula (main 23ace57: the NNLS as Lawson-Hanson's ``lstsq`` steps on the Gram matrix's
Cholesky factor, warm-started from the last support; the step by ``lstsq``) on synthetic
faces and on London crops (photo and crop frames); and ``nnls_gram`` against
:func:`pixelfes._nnls.nnls` step for step, a brute-force enumeration of the supports and
``scipy.optimize.nnls``. "The same" is to 1e-10 (rounding: the two differ by ~1e-13 on
London's and JAFFE's faces), with the same pose rounds and the same supports.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import pytest

from conftest import real_data
from pixelfes import _nnls
from pixelfes.actions import ANALYSIS_UNITS, analysis, load_basis, pose_from_angles
from pixelfes.actions.pose import Pose, to_camera


class _PlainProblem(analysis._Problem):
    """``analysis._Problem`` with the previous formula (main 23ace57), verbatim."""

    def deform(self, pose: Pose, warm: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
        u, k = len(self.motion), len(self.ident)
        a = pose.project_motion(self.motion).reshape(u, 136).T
        bb = pose.project_motion(self.ident).reshape(k, 136).T
        r = (self.lm - pose.project(self.mean)).ravel()
        lam_u, lam_c = self.gamma[0] ** 2, self.gamma[-1] ** 2 if k else 1.0
        if k:
            g = bb.T @ bb + lam_c * np.eye(k)
            both = np.linalg.solve(g, bb.T @ np.column_stack([a, r]))
        else:
            both = np.zeros((0, u + 1))
        pa = a - bb @ both[:, :-1]
        pr = r - bb @ both[:, -1]
        m = a.T @ pa + lam_u * np.eye(u)
        chol = np.linalg.cholesky(m)
        start = None if warm is None else warm > 0  # the last solve's support
        w = _nnls.nnls(chol.T, np.linalg.solve(chol, a.T @ pr), start=start)
        c = both[:, -1] - both[:, :-1] @ w
        design = np.column_stack([a, bb])
        res = design @ np.concatenate([w, c]) - r
        obj = float(res @ res + lam_u * (w @ w) + (lam_c * (c @ c) if k else 0.0))
        return w, c, obj, design, res

    def pose_step(self, pose: Pose, w: np.ndarray, c: np.ndarray, design: np.ndarray,
                  res: np.ndarray) -> np.ndarray:
        shape = self.mean + np.tensordot(w, self.motion, axes=1) + np.tensordot(c, self.ident, axes=1)
        y = to_camera(shape) @ pose.rotation.T
        d = np.zeros((68, 2, 6))
        d[:, :, 0] = pose.scale * y[:, :2]
        s_y = pose.scale * y
        d[:, 0, 1], d[:, 1, 1] = 0.0, -s_y[:, 2]
        d[:, 0, 2], d[:, 1, 2] = s_y[:, 2], 0.0
        d[:, 0, 3], d[:, 1, 3] = -s_y[:, 1], s_y[:, 0]
        d[:, 0, 4] = 1.0
        d[:, 1, 5] = 1.0
        dd = d.reshape(136, 6)
        free = np.concatenate([w > 0, np.ones(len(c), dtype=bool)])
        f = design[:, free]
        gam = self.gamma[free]
        z = np.linalg.solve(f.T @ f + np.diag(gam**2), f.T @ dd)
        jac = np.vstack([dd - f @ z, -gam[:, None] * z])
        theta = np.concatenate([w, c])[free]
        full = np.concatenate([res, gam * theta])
        return -np.linalg.lstsq(jac, full, rcond=None)[0]


def _assert_same(landmarks: np.ndarray, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> None:
    """The estimate of ``landmarks`` equals the previous formula's: intensities, face shape,
    pose and objective to 1e-10 (relative for the objective and scale), the same rounds."""
    got = analysis.estimate_units(landmarks, **kw)
    with monkeypatch.context() as mp:
        mp.setattr(analysis, "_Problem", _PlainProblem)
        want = analysis.estimate_units(landmarks, **kw)
    assert (got.rounds, got.converged) == (want.rounds, want.converged)
    assert list(got.units) == list(want.units)
    np.testing.assert_allclose(list(got.units.values()), list(want.units.values()), rtol=0, atol=1e-10)
    assert [v > 0 for v in got.units.values()] == [v > 0 for v in want.units.values()]
    np.testing.assert_allclose(got.identity, want.identity, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.pose.rotation, want.pose.rotation, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.pose.translation, want.pose.translation, rtol=0, atol=1e-8)
    assert got.pose.scale == pytest.approx(want.pose.scale, rel=1e-10)
    assert got.objective == pytest.approx(want.objective, rel=1e-10)
    assert got.rms == pytest.approx(want.rms, rel=1e-10)


@functools.lru_cache(maxsize=1)
def _synthetic_faces() -> list[np.ndarray]:
    """Known actions (about 40 % of the units, 0-0.8), a random face shape, a pose within
    +-20 degrees and 0.5 px noise, on the 192 px canvas and at 1350 px photo scale."""
    basis = load_basis()
    rng = np.random.default_rng(16)
    rows = [basis.index(u) for u in ANALYSIS_UNITS]
    faces = []
    for i in range(16):
        w = rng.uniform(0, 0.8, len(rows)) * (rng.random(len(rows)) < 0.4)
        shape = (basis.mean_shape + np.tensordot(w, basis.motion[rows], axes=1)
                 + np.tensordot(rng.normal(0, 1, len(basis.identity)), basis.identity, axes=1))
        scale, centre = (4.3, (95.5, 100.0)) if i % 2 == 0 else (31.0, (675.0, 700.0))
        pose = pose_from_angles(*rng.uniform(-20, 20, 3), scale, centre)
        faces.append(pose.project(shape) + rng.normal(0, 0.5 * scale / 4.3, (68, 2)))
    return faces


@pytest.mark.parametrize("i", range(16))
def test_estimate_equals_the_previous_formula_on_synthetic_faces(i, monkeypatch):
    _assert_same(_synthetic_faces()[i], monkeypatch)


@pytest.mark.parametrize("kw", [{"iterations": 0}, {"iterations": 3}, {"identity_ridge": float("inf")},
                                {"identity_ridge": 0.1}, {"units": ("AU1", "AU12", "AU26")}, {"units": ()}])
def test_estimate_equals_the_previous_formula_with_other_settings(kw, monkeypatch):
    for lm in _synthetic_faces()[:4]:
        _assert_same(lm, monkeypatch, **kw)


def test_no_units_and_no_identity_is_the_rigid_fit():
    # units=() is an allowed setting (above); with identity_ridge=inf nothing deforms the mean
    # face and the answer is its pose alone (this raised IndexError on an empty ridge vector)
    basis = load_basis()
    pose = pose_from_angles(10.0, -5.0, 3.0, 31.0, (675.0, 700.0))
    exact = pose.project(basis.mean_shape)
    got = analysis.estimate_units(exact, units=(), identity_ridge=float("inf"))
    assert got.units == {} and got.identity.shape == (0,) and got.converged
    assert got.rms < 1e-6 and got.pose.scale == pytest.approx(31.0, rel=1e-9)
    lm = _synthetic_faces()[1]
    rigid = analysis.estimate_units(lm, units=(), identity_ridge=float("inf"), iterations=0)
    res = lm - analysis.fit_pose(lm, basis.mean_shape).project(basis.mean_shape)
    assert rigid.objective == pytest.approx(float((res**2).sum()), rel=1e-12)
    assert rigid.rms == pytest.approx(float(np.sqrt((res**2).sum(axis=1).mean())), rel=1e-12)
    assert analysis.estimate_units(lm, units=(), identity_ridge=float("inf")).objective <= rigid.objective


@functools.lru_cache(maxsize=1)
def _london_faces() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, crop landmarks, photo landmarks) of London's first 10 people, neutral and smiling."""
    from pixelfes.datasets.prepare import align_image_file
    from pixelfes.face.align import invert_affine, transform_points

    root = real_data("london-face-set")
    out = []
    for folder in ("neutral_front", "smiling_front"):
        for path in sorted((root / folder).glob("*.jpg"))[:10]:
            a = align_image_file(path)
            out.append((f"{folder}/{path.name}", a.landmarks,
                        transform_points(invert_affine(a.matrix), a.landmarks)))
    return out


def test_estimate_equals_the_previous_formula_on_london(monkeypatch):
    faces = _london_faces()
    assert len(faces) == 20
    for _, crop, photo in faces:
        _assert_same(crop, monkeypatch)
        _assert_same(photo, monkeypatch)


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls of ``np.linalg.<name>`` (the NNLS's least-squares steps)."""
    calls = [0]
    real = getattr(np.linalg, name)

    def counted(*a: object, **k: object) -> object:
        calls[0] += 1
        return real(*a, **k)
    monkeypatch.setattr(np.linalg, name, counted)
    return calls


def _problems(seed: int, count: int, max_n: int = 25):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(1, max_n + 1))
        a = rng.normal(size=(n + int(rng.integers(0, 30)), n)) * rng.uniform(0.01, 100)
        b = rng.normal(size=a.shape[0]) * rng.uniform(0.01, 100)
        yield a, b


def test_nnls_gram_takes_nnls_steps(monkeypatch):
    """The same steps as ``nnls`` on ``A`` (as many passive-set solves, the same support,
    with and without a start support) and its answer to rounding."""
    rng = np.random.default_rng(7)
    for a, b in _problems(7, 300):
        n = a.shape[1]
        for start in (None, rng.random(n) < 0.5):
            with monkeypatch.context() as mp:
                lstsq = _counting(mp, "lstsq")
                want = _nnls.nnls(a, b, start=start)
            with monkeypatch.context() as mp:
                solve = _counting(mp, "solve")
                got = _nnls.nnls_gram(a.T @ a, a.T @ b, start=start)
            assert lstsq[0] == solve[0]
            assert np.array_equal(got > 0, want > 0)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * max(1.0, np.abs(want).max()))


def _by_enumeration(g: np.ndarray, atb: np.ndarray) -> np.ndarray:
    """The plain reference: of all supports, the one whose solve is positive and whose
    gradient ``atb - g x`` is <= 0 off it (the KKT point, unique: ``g`` positive definite)."""
    n = len(atb)
    scale = np.abs(atb).max() + np.abs(g).max()
    found = []
    for k in range(n + 1):
        for support in itertools.combinations(range(n), k):
            s = list(support)
            x = np.zeros(n)
            if s:
                x[s] = np.linalg.solve(g[np.ix_(s, s)], atb[s])
            off = np.setdiff1d(np.arange(n), s)
            if (x[s] > 0).all() and ((atb - g @ x)[off] <= 1e-9 * scale).all():
                found.append(x)
    assert len(found) == 1
    return found[0]


def test_nnls_gram_equals_the_kkt_point_by_enumeration():
    for a, b in _problems(8, 150, max_n=7):
        g, atb = a.T @ a, a.T @ b
        want = _by_enumeration(g, atb)
        got = _nnls.nnls_gram(g, atb)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * max(1.0, np.abs(want).max()))


def test_nnls_gram_equals_scipys():
    scipy_nnls = pytest.importorskip("scipy.optimize").nnls
    for a, b in _problems(9, 300):
        want = scipy_nnls(a, b)[0]
        got = _nnls.nnls_gram(a.T @ a, a.T @ b)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * max(1.0, np.abs(want).max()))


def test_nnls_gram_warm_start_changes_only_the_path(monkeypatch):
    """``x0`` (a nearby problem's solution, a random feasible point, zeros, everything
    positive) gives the very floats of the cold start (the last step is the solve on the
    same support), in no more solves than the support start when it is that solution's."""
    rng = np.random.default_rng(10)
    for a, b in _problems(10, 300):
        n = a.shape[1]
        g, atb = a.T @ a, a.T @ b
        cold = _nnls.nnls_gram(g, atb)
        a2 = a + 0.05 * np.abs(a).mean() * rng.normal(size=a.shape)  # a nearby problem
        near = _nnls.nnls_gram(a2.T @ a2, a2.T @ b)
        guesses = [near, rng.uniform(0, 2, n) * (rng.random(n) < 0.5), np.zeros(n),
                   rng.uniform(0.1, 2, n), cold]
        for x0 in guesses:
            assert np.array_equal(_nnls.nnls_gram(g, atb, x0=x0), cold)
        with monkeypatch.context() as mp:
            by_x0 = _counting(mp, "solve")
            _nnls.nnls_gram(g, atb, x0=near)
        with monkeypatch.context() as mp:
            by_support = _counting(mp, "solve")
            _nnls.nnls_gram(g, atb, start=near > 0)
        assert by_x0[0] <= by_support[0]


def test_nnls_gram_errors():
    with pytest.raises(ValueError, match=r"g \(n, n\) and atb \(n,\)"):
        _nnls.nnls_gram(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match="not both"):
        _nnls.nnls_gram(np.eye(2), np.ones(2), start=np.ones(2, bool), x0=np.ones(2))
    with pytest.raises(ValueError, match="feasible"):
        _nnls.nnls_gram(np.eye(2), np.ones(2), x0=np.array([1.0, -1.0]))
    with pytest.raises(RuntimeError, match="no convergence"):
        _nnls.nnls_gram(np.eye(3), np.ones(3), max_iter=1)


def _states(faces: list[np.ndarray]):
    """(problem, pose, its deformation) along each face's estimate: the rigid pose and the
    pose each round reached (``estimate_units`` with 0, 1, 2, ... rounds)."""
    basis = load_basis()
    rows = [basis.index(u) for u in ANALYSIS_UNITS]
    ident = analysis.rigid_free_identity(basis)
    for lm in faces:
        s0sq = analysis.fit_pose(lm, basis.mean_shape).scale ** 2
        prob = analysis._Problem(lm, basis.motion[rows], ident, basis.mean_shape,
                                 analysis.UNIT_RIDGE * s0sq, analysis.IDENTITY_RIDGE * s0sq)
        for rounds in range(4):
            pose = analysis.estimate_units(lm, iterations=rounds).pose
            yield prob, pose


def test_deform_and_pose_step_equal_the_previous_formula():
    """Each piece at the same state: the deformation (cold and warm-started from another
    pose's intensities) and the Gauss-Newton step, against the previous formula's."""
    plain_deform, plain_step = _PlainProblem.deform, _PlainProblem.pose_step
    last = None
    for prob, pose in _states(_synthetic_faces()[:8]):
        for warm in (None, last):
            got, want = prob.deform(pose, warm), plain_deform(prob, pose, warm)
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)
        w, c, _, design, res = got
        np.testing.assert_allclose(prob.pose_step(pose, w, c, design, res),
                                   plain_step(prob, pose, w, c, design, res), rtol=1e-9, atol=1e-12)
        last = w
