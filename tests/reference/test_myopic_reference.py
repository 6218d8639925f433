"""Reference tests of the myopic scheduler and the Almgren-Chriss baseline.

Sources:
* MATH.md §3 (the myopic optimum I*(t) = (α − α'/β + ν)/2, rate (β α − α''/β + β ν)/(2λ),
  boundary blocks), itself from Obizhaeva & Wang (2013), J. Financial Markets 16(1), 1-32.
* Almgren, R. and Chriss, N. (2000), "Optimal execution of portfolio transactions", Journal of
  Risk 3(2), 5-39: the trajectory x_j = X sinh(κ(T − t_j))/sinh(κT) with
  κ = arccosh(1 + κ̃²τ²/2)/τ, κ̃² = λσ²/η̃, η̃ = η − γτ/2; E and V as in their eqs. (5)-(6).
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
import pytest

from myopic_sor.alpha import AlphaCurve, exp_decay_curve
from myopic_sor.data import MarketData
from myopic_sor.impact import continuous_schedule
from myopic_sor.scheduling import (
    AlmgrenChrissScheduler,
    MyopicParameters,
    MyopicScheduler,
    almgren_chriss_trajectory,
)

NS = 1_000_000_000


class FixedPathAlpha:
    """A deterministic drift path seen from t0: α(s) = A (e^{−(s−t0)/τ} − e^{−(T−t0)/τ}).

    With no new information the forecast at any t is the same path restricted to [t, T]
    (time consistent), so the receding horizon must execute the t0 closed form.
    """

    lookahead = False
    uses_latent_state = False

    def __init__(self, t0_ns: int, amplitude: float, tau_s: float) -> None:
        self.t0_ns, self.amplitude, self.tau_s = t0_ns, amplitude, tau_s

    def fit(self, md: MarketData, until_ns: int) -> Self:
        return self

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        amp = self.amplitude * math.exp(-(t_ns - self.t0_ns) / NS / self.tau_s)
        return exp_decay_curve(t_ns, (horizon_end_ns - t_ns) / NS, amp, self.tau_s, step_s=1.0)


class _NoData:
    """Stand-in market data: the fixed-path forecaster reads nothing."""

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> _NoData:
        return self


def test_myopic_impact_and_rate_match_closed_form_on_analytic_alpha() -> None:
    """MATH.md §3 on α(t) = A(e^{−t/τ} − e^{−T/τ}): start block, I*(t), Q*(t), end block."""
    params = MyopicParameters(lambda_value=0.5, beta=10.0, volatility=0.02, adv=1e6)
    ip = params.to_impact_params()
    x, horizon_min, step, amp, tau = 1_000_000, 30, 2.0, 1e-2, 300.0
    big_t = horizon_min * 60.0
    f = FixedPathAlpha(0, amp, tau)
    s = MyopicScheduler(params, alpha=f, eval_every_s=step, allow_round_trips=True)
    dec = s.generate_trading_schedule(None, x, horizon_min, start=0, market_data=_NoData())  # type: ignore[arg-type]
    q = np.array([d["optimal_quantity"] for d in dec], dtype=float)
    t = np.array([d["ts_ns"] for d in dec]) / NS
    assert q.sum() == x

    def a(u: np.ndarray) -> np.ndarray:
        return amp * (np.exp(-u / tau) - math.exp(-big_t / tau))

    def da(u: np.ndarray) -> np.ndarray:
        return -amp / tau * np.exp(-u / tau)

    def d2a(u: np.ndarray) -> np.ndarray:
        return amp / tau**2 * np.exp(-u / tau)

    cs = continuous_schedule(0.0, big_t, x, ip, alpha=a, dalpha=da, d2alpha=d2a)
    assert q[0] == pytest.approx(cs.start_block, rel=0.02)
    assert q[-1] == pytest.approx(cs.end_block, rel=0.02)
    # I*(t): impact just after each child vs the closed form
    after = np.array([d["price_impact"] for d in dec]) + ip.lambda_per_share * q
    inner = (t > 60.0) & (t < big_t - 60.0)
    np.testing.assert_allclose(after[inner], cs.impact(t[inner]), rtol=0.02)
    # Q*(t): interior rate, averaged over one-minute windows to wash out integer rounding
    for c in (300.0, 900.0, 1500.0):
        w = (t > c - 30.0) & (t <= c + 30.0)
        assert q[w].sum() / 60.0 == pytest.approx(float(cs.rate(np.array([c]))[0]), rel=0.03)
    # the plan really depends on alpha (not the OW schedule)
    ow_block = x / (2.0 + ip.beta_per_s * big_t)
    assert abs(q[0] - ow_block) > 0.1 * ow_block


def test_almgren_chriss_trajectory_matches_the_paper() -> None:
    """AC (2000): x_j = X sinh(κ(T−t_j))/sinh(κT), κ = arccosh(1 + κ̃²τ²/2)/τ."""
    X, T, N = 1e6, 5 * 86400.0, 5
    sigma = 0.95 / math.sqrt(86400.0)  # the paper's example: 0.95 $/share/day^½ (5 days)
    eta = 2.5e-6 * 86400.0  # η = 2.5e-6 $/share per share/day
    gamma, eps, lam = 2.5e-7, 0.0625, 1e-6
    tr = almgren_chriss_trajectory(
        X, T, N, sigma=sigma, eta=eta, gamma=gamma, epsilon=eps, risk_aversion=lam
    )
    tau = T / N
    eta_t = eta - 0.5 * gamma * tau
    kt2 = lam * sigma**2 / eta_t
    kappa = math.acosh(1 + 0.5 * kt2 * tau**2) / tau
    assert tr.kappa == pytest.approx(kappa)
    tj = np.arange(N + 1) * tau
    np.testing.assert_allclose(
        tr.holdings, X * np.sinh(kappa * (T - tj)) / np.sinh(kappa * T), rtol=1e-12, atol=1e-6
    )
    # paper's figure: κ ≈ 0.6 per day for these parameters
    assert tr.kappa * 86400.0 == pytest.approx(0.6, abs=0.05)
    # difference equation (x_{j-1} − 2x_j + x_{j+1})/τ² = κ̃² x_j
    x = tr.holdings
    np.testing.assert_allclose((x[:-2] - 2 * x[1:-1] + x[2:]) / tau**2, kt2 * x[1:-1], rtol=1e-9)
    # E and V: eqs. (5)-(6), computed independently from the trade list
    n = -np.diff(x)
    e = 0.5 * gamma * X**2 + eps * n.sum() + eta_t / tau * np.sum(n**2)
    v = sigma**2 * tau * np.sum(x[1:] ** 2)
    assert tr.expected_cost == pytest.approx(e)
    assert tr.variance == pytest.approx(v)
    # it minimises E + λV: solve the quadratic in the interior holdings directly
    m = N - 1
    A = np.zeros((m, m))
    b = np.zeros(m)
    for i in range(m):
        A[i, i] = 2 * eta_t / tau * 2 + 2 * lam * sigma**2 * tau
        if i > 0:
            A[i, i - 1] = -2 * eta_t / tau
        if i < m - 1:
            A[i, i + 1] = -2 * eta_t / tau
    b[0] = 2 * eta_t / tau * X
    np.testing.assert_allclose(np.linalg.solve(A, b), x[1:-1], rtol=1e-9)


def test_almgren_chriss_risk_neutral_is_linear_with_paper_cost() -> None:
    """λ = 0: straight line, E = ½γX² + εX + η̃ X²/T (AC 2000, Section 3)."""
    X, T, N = 1e5, 3600.0, 12
    tr = almgren_chriss_trajectory(X, T, N, sigma=0.01, eta=0.5, gamma=1e-5, epsilon=0.01)
    np.testing.assert_allclose(tr.trades, np.full(N, X / N), rtol=1e-12)
    eta_t = 0.5 - 0.5 * 1e-5 * T / N
    assert tr.expected_cost == pytest.approx(0.5 * 1e-5 * X**2 + 0.01 * X + eta_t * X**2 / T)
    sched = AlmgrenChrissScheduler(N, sigma=0.01, eta=0.5, gamma=1e-5, epsilon=0.01)
    r = sched.schedule(0, round(T * NS), int(X))
    assert r.quantities.sum() == int(X)
    assert r.expected_cost == pytest.approx(tr.expected_cost)
