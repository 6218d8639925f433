"""Reference tests of the Obizhaeva-Wang model: closed forms, regret identity, P2 convention.

Sources
-------
[OW]   Obizhaeva, A. and Wang, J. (2013). Optimal trading strategy and supply/demand dynamics.
       Journal of Financial Markets 16(1), 1-32: discrete optimum (Proposition 1, equal
       spacing) and its continuous limit (Proposition 2).
[MATH] ../shared/design/MATH.md §1 (cost, G, regret), §3 (myopic closed form, OW check
       formulas), pitfall P2.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myopic_sor.impact._model import ImpactParams, expected_cost, expected_cost_quadratic
from myopic_sor.impact._optimal import (
    continuous_schedule,
    exp_kernel_matrix,
    optimal_schedule,
    ow_discrete_schedule,
    regret,
)

PARAMS = ImpactParams.from_half_life(lambda_=0.6, half_life_s=900.0, sigma_daily=0.02, adv=1e6)
LAM = PARAMS.lambda_per_share
BETA = PARAMS.beta_per_s
T = 3600.0
X = 100_000.0


@pytest.mark.parametrize("n_trades", [2, 3, 11, 391])
def test_ow_discrete_closed_form(n_trades: int) -> None:
    """[OW] Prop. 1 / [MATH] §3: end trades X/(2+(N−1)(1−a)), interior X(1−a)/(2+(N−1)(1−a))."""
    N = n_trades - 1
    a = math.exp(-BETA * T / N)
    den = 2.0 + (N - 1) * (1.0 - a)
    q = optimal_schedule(np.linspace(0.0, T, n_trades), X, PARAMS)
    assert q[0] == pytest.approx(X / den, rel=1e-9)
    assert q[-1] == pytest.approx(X / den, rel=1e-9)
    np.testing.assert_allclose(q[1:-1], X * (1.0 - a) / den, rtol=1e-8)
    np.testing.assert_allclose(q, ow_discrete_schedule(X, n_trades, T, PARAMS), rtol=1e-8)


def test_ow_continuous_closed_form() -> None:
    """[OW] Prop. 2 / [MATH] §3: blocks X/(2+βT) at both ends, rate βX/(2+βT)."""
    cs = continuous_schedule(0.0, T, X, PARAMS)
    assert cs.start_block == pytest.approx(X / (2 + BETA * T), rel=1e-12)
    assert cs.end_block == pytest.approx(X / (2 + BETA * T), rel=1e-12)
    tt = np.linspace(1.0, T - 1.0, 7)
    np.testing.assert_allclose(cs.rate(tt), BETA * X / (2 + BETA * T), rtol=1e-12)
    np.testing.assert_allclose(cs.impact(tt), LAM * X / (2 + BETA * T), rtol=1e-12)
    assert cs.quantity == pytest.approx(X, rel=1e-12)


@pytest.mark.parametrize("n_trades", [101, 1001, 10001])
def test_discrete_converges_to_continuous_ow(n_trades: int) -> None:
    """[OW] §4: the discrete optimum tends to the continuous one; cost → λ_s X²/(2+βT)."""
    t = np.linspace(0.0, T, n_trades)
    dt = T / (n_trades - 1)
    q = optimal_schedule(t, X, PARAMS)
    cs = continuous_schedule(0.0, T, X, PARAMS)
    block = X / (2 + BETA * T)
    rate = BETA * X / (2 + BETA * T)
    # Blocks differ by O(Δt) (about half an interval of trading at the rate).
    assert abs(q[0] - cs.start_block) <= rate * dt
    assert abs(q[-1] - block) <= rate * dt
    np.testing.assert_allclose(q[1:-1] / dt, rate, rtol=BETA * dt)
    cost = expected_cost(t, q, PARAMS).total
    assert cost == pytest.approx(LAM * X**2 / (2 + BETA * T), rel=2 * BETA * dt)


A, TAU = 3e-3, 900.0


def _alpha(t: np.ndarray) -> np.ndarray:
    return A * (np.exp(-t / TAU) - math.exp(-T / TAU))


def _dalpha(t: np.ndarray) -> np.ndarray:
    return -A / TAU * np.exp(-t / TAU)


def _d2alpha(t: np.ndarray) -> np.ndarray:
    return A / TAU**2 * np.exp(-t / TAU)


def test_myopic_closed_form_on_analytic_alpha_path() -> None:
    """[MATH] §3 with α(t) = A(e^{−t/τ} − e^{−T/τ}): ν, blocks and rate by hand."""
    cs = continuous_schedule(0.0, T, X, PARAMS, alpha=_alpha, dalpha=_dalpha, d2alpha=_d2alpha)
    a0 = A * (1 - math.exp(-T / TAU))
    int_a = A * TAU * (1 - math.exp(-T / TAU)) - A * T * math.exp(-T / TAU)
    nu = (LAM * X - a0 / 2 - 0.0 / 2 - BETA / 2 * int_a) / (1 + BETA * T / 2)
    assert cs.nu == pytest.approx(nu, rel=1e-10)
    i0 = (a0 + A / (TAU * BETA) + nu) / 2
    assert cs.start_block == pytest.approx(i0 / LAM, rel=1e-10)
    i_t = (0.0 + A / TAU * math.exp(-T / TAU) / BETA + nu) / 2
    assert cs.end_block == pytest.approx((nu - i_t) / LAM, rel=1e-10)
    s = 1234.0
    rate = (BETA * _alpha(np.array([s]))[0] - _d2alpha(np.array([s]))[0] / BETA + BETA * nu) / (
        2 * LAM
    )
    assert cs.rate(np.array([s]))[0] == pytest.approx(rate, rel=1e-12)
    assert cs.quantity == pytest.approx(X, rel=1e-9)


def test_discrete_converges_to_continuous_myopic_on_analytic_alpha() -> None:
    """[MATH] §3: q = G⁻¹(α − I_past − ν1)/λ_s on a fine grid → blocks and rate of I*."""
    cs = continuous_schedule(0.0, T, X, PARAMS, alpha=_alpha, dalpha=_dalpha, d2alpha=_d2alpha)
    errors = []
    for n_trades in (401, 4001, 40001):
        t = np.linspace(0.0, T, n_trades)
        dt = T / (n_trades - 1)
        q = optimal_schedule(t, X, PARAMS, _alpha(t))
        rate_err = np.abs(q[1:-1] / dt - cs.rate(t[1:-1])).max()
        errors.append((abs(q[0] - cs.start_block), abs(q[-1] - cs.end_block), rate_err))
    scale_rate = float(np.abs(cs.rate(np.linspace(0, T, 50))).max())
    # blocks converge at first order: each 10x refinement cuts their error by about 10x
    for coarse, fine in itertools.pairwise(errors):
        assert fine[0] < 0.15 * coarse[0]
        assert fine[1] < 0.15 * coarse[1]
    # the interior rate converges faster (second order) down to round-off
    assert errors[0][2] < 1e-4 * scale_rate
    assert errors[1][2] < 1e-6 * scale_rate
    start_err, end_err, rate_err = errors[-1]
    assert start_err < 1e-3 * abs(cs.start_block)
    assert end_err < 1e-3 * max(abs(cs.end_block), abs(cs.start_block))
    assert rate_err < 1e-6 * scale_rate


@st.composite
def _problem(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    n = draw(st.integers(2, 40))
    gaps = draw(st.lists(st.floats(1.0, 600.0), min_size=n, max_size=n))
    t = np.cumsum(gaps)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    alpha = rng.normal(0, 1e-3, n)
    q = rng.normal(0, 5_000, n)
    x = draw(st.floats(-1e5, 1e5).filter(lambda v: abs(v) > 1.0))
    q += (x - q.sum()) / n  # feasible: same parent quantity
    return t, alpha, q, x


@settings(max_examples=60, deadline=None)
@given(_problem(), st.floats(-1e-3, 1e-3))
def test_regret_identity_for_random_feasible_schedules(
    prob: tuple[np.ndarray, np.ndarray, np.ndarray, float], i_now: float
) -> None:
    """[MATH] §1: C(q) − C(q*) = (λ_s/2)(q − q*)ᵀG(q − q*) ≥ 0 whenever Σq = Σq* = X."""
    t, alpha, q, x = prob
    q_star = optimal_schedule(t, x, PARAMS, alpha, i_now)
    c = expected_cost(t, q, PARAMS, alpha, i_now).total
    c_star = expected_cost(t, q_star, PARAMS, alpha, i_now).total
    r = regret(q, q_star, t, PARAMS)
    scale = LAM * float(q @ q + q_star @ q_star) + abs(float(alpha @ q)) + 1e-12
    assert r >= -1e-12 * scale
    assert c - c_star == pytest.approx(r, abs=1e-8 * scale)
    assert expected_cost_quadratic(t, q, PARAMS, alpha, i_now) == pytest.approx(
        c, abs=1e-10 * scale
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 5_000.0), min_size=1, max_size=60), st.floats(1e-5, 1e-1))
def test_g_is_positive_definite(gaps: list[float], beta: float) -> None:
    """[MATH] §1: G_ij = exp(−β|t_i − t_j|) is positive definite on distinct times."""
    t = np.cumsum(gaps)
    g = exp_kernel_matrix(t, beta)
    assert np.linalg.eigvalsh(g).min() > 0.0
    np.linalg.cholesky(g)  # raises if not positive definite


def _decay_before_matrix(t: np.ndarray, beta: float) -> np.ndarray:
    # Pitfall P2: the impact recursion I_{n+1} = a_n I_n + λ u_n (old impact decays, then the
    # trade is added undecayed, as in the spec's Euler form) makes trade m reach trade n > m
    # with weight Π_{k=m+1}^{n-1} a_k, i.e. exp(−β (t_n − t_{m+1})) instead of exp(−β (t_n − t_m)).
    n = t.shape[0]
    g = np.eye(n)
    for i in range(n):
        for j in range(i):
            g[i, j] = g[j, i] = math.exp(-beta * (t[i] - t[j + 1]))
    return g


def test_decay_before_the_trade_gives_an_indefinite_cost_and_profitable_round_trips() -> None:
    """[MATH] P2: with decay BEFORE the trade the cost matrix is indefinite.

    The adjacent entries become 1, so a buy immediately followed by an equal sell... costs
    nothing, and a zero-net round trip (Σq = 0) with a negative expected cost exists: the
    optimiser would trade against itself for profit. With decay AFTER the trade every
    zero-net round trip costs a strictly positive amount.
    """
    t = np.arange(20) * 30.0
    wrong = _decay_before_matrix(t, BETA)
    right = exp_kernel_matrix(t, BETA)
    assert np.linalg.eigvalsh(wrong).min() < 0.0
    assert np.linalg.eigvalsh(right).min() > 0.0
    # the most negative direction among zero-net round trips
    basis = np.linalg.svd(np.ones((1, 20)))[2][1:].T  # orthonormal basis of {Σq = 0}
    w, v = np.linalg.eigh(basis.T @ wrong @ basis)
    round_trip = basis @ v[:, 0] * 1_000.0
    assert abs(round_trip.sum()) < 1e-9
    assert w[0] < 0.0
    assert 0.5 * LAM * round_trip @ wrong @ round_trip < 0.0  # "profit" from trading with itself
    # the correct model charges that same round trip a positive cost, recursion included
    assert expected_cost(t, round_trip, PARAMS).total > 0.0
