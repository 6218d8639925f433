"""Optimal schedules: G and its tridiagonal inverse, discrete optimum, closed form, QP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, optimize

from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact import _kernels, _python
from myopic_sor.impact._model import ImpactParams, expected_cost_quadratic, past_impact
from myopic_sor.impact._optimal import (
    InfeasibleScheduleError,
    ScheduleConvergenceError,
    constrained_schedule,
    continuous_schedule,
    exp_kernel_inverse_banded,
    exp_kernel_matrix,
    optimal_schedule,
    ow_discrete_schedule,
    schedule_bounds,
)

PARAMS = ImpactParams.from_half_life(lambda_=0.6, half_life_s=900.0, sigma_daily=0.02, adv=1e6)
LAM = PARAMS.lambda_per_share


def _grid(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.exponential(60.0, n))


# ------------------------------------------------------------------------------ kernels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_parity_and_against_dense(seed: int) -> None:
    t = _grid(120, seed)
    x = np.random.default_rng(seed + 10).normal(size=120)
    g = exp_kernel_matrix(t, PARAMS.beta_per_s)
    for mod in (_kernels, _python):
        np.testing.assert_allclose(mod.exp_kernel_matvec(t, x, PARAMS.beta_per_s), g @ x, 1e-12)
        np.testing.assert_allclose(
            g @ mod.exp_kernel_inv_matvec(t, x, PARAMS.beta_per_s), x, rtol=0, atol=1e-9
        )
    np.testing.assert_allclose(
        _kernels.exp_kernel_inv_matvec(t, x, PARAMS.beta_per_s),
        _python.exp_kernel_inv_matvec(t, x, PARAMS.beta_per_s),
        rtol=1e-12,
        atol=1e-12,
    )


def test_banded_inverse_is_tridiagonal_inverse_of_g_on_a_non_uniform_grid() -> None:
    t = _grid(60, 4)
    ab = exp_kernel_inverse_banded(t, PARAMS.beta_per_s)
    dense = np.diag(ab[1]) + np.diag(ab[0, 1:], 1) + np.diag(ab[2, :-1], -1)
    g = exp_kernel_matrix(t, PARAMS.beta_per_s)
    np.testing.assert_allclose(dense @ g, np.eye(60), atol=1e-9)
    x = np.random.default_rng(0).normal(size=60)
    np.testing.assert_allclose(linalg.solve_banded((1, 1), ab, x), g @ x, rtol=1e-9)
    assert exp_kernel_inverse_banded(np.array([3.0]), 1.0)[1, 0] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_box_qp_kernel_parity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    t = np.arange(n) * 30.0
    b = rng.normal(0, 0.01, n)
    lo, hi = np.zeros(n), np.full(n, 400.0)
    x = 20_000.0
    q0 = np.full(n, x / n)
    w = np.zeros(n, dtype=bool)
    args = (t, b, LAM, PARAMS.beta_per_s, x, lo, hi, q0, w, w.copy(), 500, 1e-7, 1e-16)
    q_nb, nu_nb, it_nb, ok_nb = _kernels.box_qp_active_set(*args)
    q_py, nu_py, it_py, ok_py = _python.box_qp_active_set(*args)
    assert ok_nb
    assert ok_py
    assert it_nb == it_py
    np.testing.assert_allclose(q_nb, q_py, rtol=1e-9, atol=1e-7)
    assert nu_nb == pytest.approx(nu_py, rel=1e-9)


# ------------------------------------------------------------------------------ discrete optimum


@pytest.mark.parametrize("seed", [0, 1])
def test_optimal_schedule_solves_the_kkt_system(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = _grid(50, seed)
    alpha = rng.normal(0, 0.01, 50)
    q = optimal_schedule(t, 25_000.0, PARAMS, alpha, i_now=0.003)
    g = exp_kernel_matrix(t, PARAMS.beta_per_s)
    b = alpha - past_impact(t, 0.003, PARAMS)
    grad = LAM * g @ q - b  # must equal −ν on every slot
    assert q.sum() == pytest.approx(25_000.0)
    np.testing.assert_allclose(grad, np.full(50, grad.mean()), rtol=0, atol=1e-9 * abs(b).max())
    # and it matches a dense solve of the bordered system
    kkt = np.block([[LAM * g, np.ones((50, 1))], [np.ones((1, 50)), np.zeros((1, 1))]])
    sol = np.linalg.solve(kkt, np.append(b, 25_000.0))
    np.testing.assert_allclose(q, sol[:50], rtol=1e-7, atol=1e-6)


def test_pure_alpha_has_zero_gradient_and_ignores_x() -> None:
    t = _grid(30, 5)
    alpha = 0.01 * np.exp(-t / 600.0)
    q = optimal_schedule(t, None, PARAMS, alpha, pure_alpha=True)
    g = exp_kernel_matrix(t, PARAMS.beta_per_s)
    np.testing.assert_allclose(LAM * g @ q, alpha, rtol=1e-9)
    with pytest.raises(ConfigError, match="pure_alpha"):
        optimal_schedule(t, None, PARAMS, alpha)


def test_standing_impact_delays_a_buyer() -> None:
    t = np.arange(20) * 60.0
    fresh = optimal_schedule(t, 10_000.0, PARAMS)
    loaded = optimal_schedule(t, 10_000.0, PARAMS, i_now=5e-4)
    assert loaded[0] < fresh[0]
    assert loaded.sum() == pytest.approx(10_000.0)


def test_optimal_schedule_bad_input() -> None:
    t = np.arange(5) * 10.0
    with pytest.raises(ConfigError, match="non-zero"):
        optimal_schedule(t, 0.0, PARAMS)
    with pytest.raises(DataValidationError, match="strictly increasing"):
        optimal_schedule(np.array([0.0, 1.0, 1.0]), 10.0, PARAMS)
    with pytest.raises(DataValidationError, match="NaN"):
        optimal_schedule(t, 10.0, PARAMS, alpha=np.array([0, 0, np.nan, 0, 0]))
    with pytest.raises(DataValidationError, match="numerically singular"):
        optimal_schedule(np.array([0.0, 1e-12]), 10.0, PARAMS)
    with pytest.raises(ConfigError, match="n_trades"):
        ow_discrete_schedule(10.0, 1, 60.0, PARAMS)


# ------------------------------------------------------------------------------ continuous


def test_continuous_quantity_is_x_with_alpha_and_standing_impact() -> None:
    A, tau, T = 2e-3, 900.0, 3600.0

    def al(t: np.ndarray) -> np.ndarray:
        return A * (np.exp(-t / tau) - math.exp(-T / tau))

    def da(t: np.ndarray) -> np.ndarray:
        return -A / tau * np.exp(-t / tau)

    def d2a(t: np.ndarray) -> np.ndarray:
        return A / tau**2 * np.exp(-t / tau)

    cs = continuous_schedule(0.0, T, 50_000.0, PARAMS, alpha=al, dalpha=da, d2alpha=d2a, i_now=1e-3)
    assert cs.quantity == pytest.approx(50_000.0, rel=1e-9)
    assert cs.start_block == pytest.approx((cs.impact(np.array([0.0]))[0] - 1e-3) / LAM)
    # rate is (I*' + β I*)/λ (the spec's α' in place of I*' is a typo)
    h = 1e-3
    tt = np.array([1000.0])
    di = (cs.impact(tt + h) - cs.impact(tt - h)) / (2 * h)
    assert cs.rate(tt)[0] == pytest.approx(
        (di[0] + PARAMS.beta_per_s * cs.impact(tt)[0]) / LAM, rel=1e-6
    )
    pure = continuous_schedule(
        0.0, T, None, PARAMS, alpha=al, dalpha=da, d2alpha=d2a, pure_alpha=True
    )
    assert pure.nu == 0.0
    with pytest.raises(ConfigError, match="together"):
        continuous_schedule(0.0, T, 1.0, PARAMS, alpha=al)
    with pytest.raises(ConfigError, match="t0 < T"):
        continuous_schedule(10.0, 10.0, 1.0, PARAMS)
    with pytest.raises(DataValidationError, match="NaN"):
        continuous_schedule(0.0, T, 1.0, PARAMS, alpha=lambda t: t * np.nan, dalpha=da, d2alpha=d2a)


# ------------------------------------------------------------------------------ constrained QP


def _dense_kkt_check(
    t: np.ndarray, b: np.ndarray, x: float, *, lo: np.ndarray, hi: np.ndarray, q: np.ndarray
) -> None:
    g = exp_kernel_matrix(t, PARAMS.beta_per_s)
    grad = LAM * g @ q - b
    tol_q = 1e-7 * max(abs(x), 1.0)
    free = (q > lo + tol_q) & (q < hi - tol_q)
    assert free.any()
    nu = -float(np.mean(grad[free]))
    mu = grad + nu
    scale = float(np.abs(b).max() + LAM * np.abs(q).max())
    assert np.abs(mu[free]).max() < 1e-8 * scale  # stationarity on free slots
    at_lo = np.abs(q - lo) <= tol_q
    at_hi = np.abs(q - hi) <= tol_q
    assert (mu[at_lo & ~at_hi] >= -1e-8 * scale).all()  # dual feasibility
    assert (mu[at_hi & ~at_lo] <= 1e-8 * scale).all()
    assert (q >= lo - tol_q).all()
    assert (q <= hi + tol_q).all()
    assert q.sum() == pytest.approx(x, rel=1e-10)


def test_constrained_equals_closed_form_when_no_bound_binds() -> None:
    t = np.arange(60) * 60.0
    alpha = 2e-5 * np.exp(-t / 1200.0)
    q_star = optimal_schedule(t, 30_000.0, PARAMS, alpha, i_now=2e-5)
    assert (q_star > 0).all()  # so that "no round trips" does not bind
    lo, hi = schedule_bounds(60, 30_000.0, max_order_size=10 * float(np.abs(q_star).max()))
    res = constrained_schedule(t, 30_000.0, PARAMS, alpha, lower=lo, upper=hi, i_now=2e-5)
    assert not res.at_lower.any()
    assert not res.at_upper.any()
    np.testing.assert_allclose(res.q, q_star, rtol=1e-10, atol=1e-8)
    no_bounds = constrained_schedule(t, 30_000.0, PARAMS, alpha, i_now=2e-5)
    np.testing.assert_allclose(no_bounds.q, q_star, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_constrained_kkt_holds_when_bounds_bind(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 100
    t = np.cumsum(rng.uniform(10, 90, n))
    alpha = 0.02 * np.sin(t / rng.uniform(300, 3000)) + rng.normal(0, 2e-3, n)
    x = float(rng.choice([-1, 1]) * 40_000.0)
    vol = rng.uniform(500, 5_000, n)
    lo, hi = schedule_bounds(n, x, max_order_size=900.0, participation=0.3, expected_volume=vol)
    res = constrained_schedule(t, x, PARAMS, alpha, lower=lo, upper=hi, i_now=1e-4)
    assert (res.at_lower | res.at_upper).any()
    assert res.kkt_residual < 1e-8
    b = alpha - past_impact(t, 1e-4, PARAMS)
    _dense_kkt_check(t, b, x, lo=lo, hi=hi, q=res.q)
    # no round trips: every child has the parent's sign
    assert (np.sign(x) * res.q >= -1e-9).all()
    # the constrained optimum cannot beat the unconstrained one, and beats a feasible TWAP-like
    c = expected_cost_quadratic(t, res.q, PARAMS, alpha, 1e-4)
    c_star = expected_cost_quadratic(
        t, optimal_schedule(t, x, PARAMS, alpha, 1e-4), PARAMS, alpha, 1e-4
    )
    assert c >= c_star - 1e-9 * abs(c_star)


def test_constrained_matches_a_generic_solver_on_a_small_problem() -> None:
    rng = np.random.default_rng(7)
    n = 15
    t = np.arange(n) * 120.0
    alpha = rng.normal(0, 5e-3, n)
    x = 6_000.0
    lo, hi = np.zeros(n), np.full(n, 700.0)
    res = constrained_schedule(t, x, PARAMS, alpha, lower=lo, upper=hi)
    g = exp_kernel_matrix(t, PARAMS.beta_per_s)

    def cost(q: np.ndarray) -> float:
        return float(0.5 * LAM * q @ g @ q - alpha @ q)

    ref = optimize.minimize(
        cost,
        np.full(n, x / n),
        jac=lambda q: LAM * g @ q - alpha,
        bounds=list(zip(lo, hi, strict=True)),
        constraints=[{"type": "eq", "fun": lambda q: q.sum() - x}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 500},
    )
    assert cost(res.q) <= ref.fun + 1e-9 * abs(ref.fun)
    np.testing.assert_allclose(res.q, ref.x, atol=1e-3 * x / n)


def test_constrained_infeasible_and_bad_bounds_raise_clearly() -> None:
    t = np.arange(10) * 60.0
    with pytest.raises(InfeasibleScheduleError, match="between 0 and 1000"):
        constrained_schedule(t, 5_000.0, PARAMS, lower=0.0, upper=100.0)
    lo = np.zeros(10)
    lo[3] = 200.0
    with pytest.raises(InfeasibleScheduleError, match="slot 3"):
        constrained_schedule(t, 500.0, PARAMS, lower=lo, upper=100.0)
    with pytest.raises(InfeasibleScheduleError, match="NaN"):
        constrained_schedule(t, 500.0, PARAMS, lower=np.full(10, np.nan))
    with pytest.raises(ConfigError, match="expected_volume"):
        schedule_bounds(10, 500.0, participation=0.1)


def test_constrained_edge_cases_fixed_slots_and_sells() -> None:
    t = np.arange(8) * 60.0
    # every slot pinned: the only feasible schedule
    res = constrained_schedule(t, 800.0, PARAMS, lower=100.0, upper=100.0)
    np.testing.assert_array_equal(res.q, np.full(8, 100.0))
    # some slots pinned, sell side with no round trips
    lo, hi = schedule_bounds(8, -4_000.0, max_order_size=800.0)
    lo[2] = hi[2] = -50.0
    sell = constrained_schedule(t, -4_000.0, PARAMS, lower=lo, upper=hi)
    assert sell.q[2] == -50.0
    assert sell.q.sum() == pytest.approx(-4_000.0)
    assert (sell.q <= 1e-9).all()
    _dense_kkt_check(t, np.zeros(8), -4_000.0, lo=lo, hi=hi, q=sell.q)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 60),
    st.integers(0, 2**32 - 1),
    st.floats(0.05, 0.95),
    st.booleans(),
)
def test_constrained_kkt_on_random_bounds(n: int, seed: int, fill: float, sell: bool) -> None:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(1.0, 300.0, n))
    alpha = rng.normal(0, 1e-3, n) * rng.choice([0.0, 1.0])
    lo = np.where(rng.random(n) < 0.5, -np.inf, -rng.uniform(0, 2_000, n))
    hi = rng.uniform(10, 2_000, n)
    # a quantity strictly inside the feasible range
    x = fill * float(hi.sum()) + (1 - fill) * max(float(lo.sum()), -float(hi.sum()))
    if sell:
        x, lo, hi = -x, -hi, -lo
    if abs(x) < 1.0:
        return
    res = constrained_schedule(t, x, PARAMS, alpha, lower=lo, upper=hi)
    assert res.kkt_residual < 1e-8
    _dense_kkt_check(t, alpha, x, lo=lo, hi=hi, q=res.q)


def test_constrained_iteration_limit_raises() -> None:
    t = np.arange(50) * 60.0
    alpha = 0.02 * np.sin(t / 400.0)
    with pytest.raises(ScheduleConvergenceError, match="max_iter"):
        constrained_schedule(t, 10_000.0, PARAMS, alpha, lower=0.0, upper=400.0, max_iter=1)
