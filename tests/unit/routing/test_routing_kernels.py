"""Router kernels: the exact projection (against scipy and the KKT conditions) and the numba
kernels against their plain-Python twins."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from myopic_sor.routing import (
    RoutingProblem,
    _kernels,
    _python,
    cost_gradient,
    expected_cost,
    solve_sa,
    underfill_probability,
)


def project(y: np.ndarray, size: float, w: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    w = np.ones(y.size) if w is None else w
    out = np.empty(y.size)
    mu = _kernels.project_feasible(np.ascontiguousarray(y), w, size, out)
    return out, mu


def scipy_projection(y: np.ndarray, size: float, w: np.ndarray) -> float:
    """min Σ (x − y)²/w over the feasible set, by SLSQP from several starts (the value)."""
    best = np.inf
    starts = (
        np.full(y.size, size / y.size),
        np.maximum(y, 0.0) + size,
        np.r_[size, np.zeros(y.size - 1)],
    )
    for x0 in starts:
        res = scipy.optimize.minimize(
            lambda x: float(np.sum((x - y) ** 2 / w)),
            x0,
            jac=lambda x: 2.0 * (x - y) / w,
            method="SLSQP",
            bounds=[(0.0, size)] + [(0.0, None)] * (y.size - 1),
            constraints=[
                {"type": "ineq", "fun": lambda x: x.sum() - size, "jac": lambda x: np.ones(x.size)}
            ],
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        if res.success and res.x.sum() >= size - 1e-7 and res.x.min() >= -1e-9:
            best = min(best, float(res.fun))
    return best


def assert_kkt(y: np.ndarray, size: float, w: np.ndarray, out: np.ndarray, mu: float) -> None:
    """x = y + W(μ 1 + ν − ω e_0): ν ≥ 0 only at x = 0, ω ≥ 0 only at M = S, μ ≥ 0 only when
    Σ x = S; and x feasible."""
    tol = 1e-9 * max(1.0, size, float(np.abs(y).max()))
    assert out[0] <= size + tol
    assert np.all(out >= 0.0)
    assert out.sum() >= size - tol
    assert mu >= 0.0
    if mu > 0.0:
        assert out.sum() == pytest.approx(size, abs=tol)
    resid = (out - y) / w - mu  # = ν − ω e_0
    for i in range(y.size):
        if out[i] > tol and not (i == 0 and out[0] >= size - tol):
            assert resid[i] == pytest.approx(0.0, abs=tol)  # free coordinate
        elif out[i] <= tol:
            assert resid[i] >= -tol  # at its lower bound: ν ≥ 0
        else:
            assert resid[0] <= tol  # M at its upper bound S: ω ≥ 0


@pytest.mark.parametrize("seed", range(6))
def test_euclidean_projection_is_the_scipy_optimum_and_satisfies_kkt(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(25):
        k1 = int(rng.integers(2, 6))
        size = float(rng.choice([1.0, 100.0, 1000.0]))
        y = rng.normal(0.0, 0.8 * size, k1) + rng.choice([0.0, -0.5 * size, 0.5 * size])
        w = np.ones(k1)
        out, mu = project(y, size)
        assert_kkt(y, size, w, out, mu)
        mine = float(np.sum((out - y) ** 2))
        ref = scipy_projection(y, size, w)
        assert mine <= ref * (1 + 1e-9) + 1e-9 * size**2


@pytest.mark.parametrize("seed", range(3))
def test_weighted_projection_is_the_scipy_optimum_and_satisfies_kkt(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for _ in range(25):
        k1 = int(rng.integers(2, 6))
        size = 500.0
        y = rng.normal(-100.0, 400.0, k1)
        w = rng.uniform(0.2, 20.0, k1)
        out, mu = project(y, size, w)
        assert_kkt(y, size, w, out, mu)
        assert float(np.sum((out - y) ** 2 / w)) <= scipy_projection(y, size, w) * (1 + 1e-9) + 1e-7


def test_projection_cases_by_hand() -> None:
    # feasible points are fixed points
    for y in ([100.0, 0.0], [0.0, 100.0, 5.0], [30.0, 40.0, 50.0]):
        out, mu = project(np.array(y), 100.0)
        np.testing.assert_array_equal(out, y)
        assert mu == 0.0
    # M above S: M = S, negative limits clipped
    out, mu = project(np.array([250.0, -3.0, 7.0]), 100.0)
    np.testing.assert_array_equal(out, [100.0, 0.0, 7.0])
    # binding half-space: equal shift of the free coordinates, negatives stay at 0
    out, mu = project(np.array([10.0, 20.0, -500.0]), 100.0)
    np.testing.assert_allclose(out, [45.0, 55.0, 0.0])
    assert mu == pytest.approx(35.0)
    # everything negative: the one closest to feasibility takes S
    out, _ = project(np.array([-400.0, -50.0, -300.0]), 100.0)
    np.testing.assert_allclose(out, [0.0, 100.0, 0.0])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=6),
    st.lists(st.floats(0.01, 100.0), min_size=6, max_size=6),
    st.floats(1.0, 1e4),
)
def test_projection_parity_and_invariants(ys: list[float], ws: list[float], size: float) -> None:
    y = np.array(ys)
    w = np.array(ws[: y.size])
    a, b = np.empty(y.size), np.empty(y.size)
    mu_a = _kernels.project_feasible(y, w, size, a)
    mu_b = _python.project_feasible(y, w, size, b)
    np.testing.assert_array_equal(a, b)
    assert mu_a == mu_b
    assert_kkt(y, size, w, a, mu_a)
    again = np.empty(y.size)
    _kernels.project_feasible(a, w, size, again)  # a projection is idempotent
    np.testing.assert_allclose(again, a, rtol=1e-12, atol=1e-9 * size)


def sa_inputs(seed: int, k: int) -> tuple:
    rng = np.random.default_rng(seed)
    n = 300
    queues = rng.uniform(0.0, 2000.0, k)
    xi = rng.exponential(rng.uniform(500.0, 3000.0, k), (n, k))
    cap = np.ascontiguousarray(np.maximum(xi - queues, 0.0))
    rebates = rng.uniform(-0.001, 0.004, k)
    steps = rng.uniform(50.0, 5000.0, k + 1)
    x0 = np.full(k + 1, 1000.0 / (k + 1))
    lo = float(rng.choice([0.005, 0.05]))
    return cap, rebates, 1000.0, 0.01, 0.003, 0.0005, 0.05, lo, x0, steps


@pytest.mark.parametrize(
    ("seed", "k", "shuffle_seed"), [(0, 1, 0), (1, 3, 0), (2, 3, 987654321), (3, 5, 7)]
)
def test_sa_run_parity(seed: int, k: int, shuffle_seed: int) -> None:
    args = sa_inputs(seed, k)
    a, b = np.empty(k + 1), np.empty(k + 1)
    _kernels.sa_run(*args, 4, 2, shuffle_seed, a)
    _python.sa_run(*args, 4, 2, shuffle_seed, b)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-9)


def test_shuffle_seed_changes_the_visit_order_reproducibly() -> None:
    args = sa_inputs(5, 3)
    plain, s1, s1b, s2 = (np.empty(4) for _ in range(4))
    _kernels.sa_run(*args, 3, 1, 0, plain)
    _kernels.sa_run(*args, 3, 1, 11, s1)
    _kernels.sa_run(*args, 3, 1, 11, s1b)
    _kernels.sa_run(*args, 3, 1, 12, s2)
    np.testing.assert_array_equal(s1, s1b)
    assert not np.array_equal(s1, plain)
    assert not np.array_equal(s1, s2)


def test_one_sa_step_is_a_projected_subgradient_step() -> None:
    """One pass over one sample: x = Proj(x0 − γ ∘ g(x0, ξ)), g the MATH.md §5 subgradient."""
    p = RoutingProblem(
        size=1000, half_spread=0.01, fee=0.003, rebates=[0.002, 0.004], queues=[300.0, 800.0]
    )
    for xi_row in ([200.0, 900.0], [1500.0, 2000.0], [350.0, 5000.0]):
        xi = np.array([xi_row])
        x0 = np.array([200.0, 500.0, 300.0])
        steps = np.array([3000.0, 4000.0, 5000.0])
        cap = np.ascontiguousarray(np.maximum(xi - p.queues, 0.0))
        out = np.empty(3)
        _kernels.sa_run(
            cap,
            p.rebates,
            p.size,
            p.half_spread,
            p.fee,
            p.theta,
            p.lambda_u,
            p.lambda_o,
            x0,
            steps,
            1,
            1,
            0,
            out,
        )
        y = x0 - steps * cost_gradient(p, x0, xi)
        expected, _ = project(y, p.size, steps)
        np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_solve_sa_twin_matches_kernel() -> None:
    p = RoutingProblem(
        size=500,
        half_spread=0.01,
        fee=0.003,
        rebates=[0.002, 0.003, 0.0025],
        queues=[200.0, 900.0, 50.0],
        lambda_o=0.01,
    )
    xi = np.random.default_rng(9).exponential([800.0, 1500.0, 400.0], (250, 3))
    a = solve_sa(p, xi, n_passes=3, seed=4)
    b = solve_sa(p, xi, n_passes=3, seed=4, use_numba=False)
    np.testing.assert_allclose([a.market, *a.limit], [b.market, *b.limit], rtol=1e-12, atol=1e-9)
    assert a.info["shuffle_seed"] == b.info["shuffle_seed"]


@pytest.mark.parametrize("seed", range(3))
def test_evaluate_matches_the_model_and_its_twin(seed: int) -> None:
    rng = np.random.default_rng(50 + seed)
    k = 3
    p = RoutingProblem(
        size=1000,
        half_spread=0.01,
        fee=0.003,
        rebates=rng.uniform(-0.001, 0.004, k),
        queues=rng.uniform(0.0, 2000.0, k),
        lambda_o=float(rng.choice([0.005, 0.05])),
    )
    xi = rng.exponential(rng.uniform(500.0, 3000.0, k), (400, k))
    cap = np.ascontiguousarray(np.maximum(xi - p.queues, 0.0))
    args = (p.rebates, p.size, p.half_spread, p.fee, p.theta, p.lambda_u, p.lambda_o)
    for x in (np.array([0.0, 400.0, 300.0, 300.0]), np.array([250.0, 900.0, 1200.0, 50.0])):
        v, under = _kernels.evaluate(cap, x, *args)
        v_twin, under_twin = _python.evaluate(cap, x, *args)
        assert v == pytest.approx(v_twin, rel=1e-14)
        assert under == under_twin
        assert v == pytest.approx(expected_cost(p, x, xi), rel=1e-12)
        assert under == underfill_probability(p, x, xi)
