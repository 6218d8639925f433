"""Reference tests of the Cont-Kukanov router on one venue: the closed form against V computed
by hand for an exponential outflow and minimised independently.

Sources
-------
[CK]   Cont, R. and Kukanov, A. (2017). Optimal order placement in limit order markets.
       Quantitative Finance 17(1), 21-39 (arXiv:1210.1625): the cost v(X, ξ) (eq. 2), the
       single-exchange optimum (Prop. 4: market only if F(Q) ≥ p*, limit only if
       F(Q + S) ≤ p*, else L* = F⁻¹(p*) − Q), the stochastic approximation (Alg. 1).
[MATH] ../shared/design/MATH.md §5: the same cost, p* = (2h + f + r)/(h + r + λ_u + θ),
       feasible set 0 ≤ M ≤ S, L ≥ 0, M + L ≥ S ("test convergence on V, not on X").

For ξ ~ Exp(m) and c = (ξ − Q)^+: P(c > x) = e^{−(Q + x)/m} (x ≥ 0), so
g(a) = E min(a, c) = m e^{−Q/m} (1 − e^{−a/m}). On the feasible set (L ≥ d = S − M):
E fill = g(L), E (S − A)^+ = d − g(d), E (A − S)^+ = g(L) − g(d), P(A < S) = P(ξ < Q + d).
The formula is itself checked against direct quadrature of v over the density.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

from myopic_sor.routing import (
    ExponentialOutflow,
    RoutingProblem,
    critical_probability,
    draw_outflows,
    solve_closed_form,
    solve_sa,
)

# the exponential law of the library, under the short name the tests use
ExpLaw = ExponentialOutflow


def problem(
    *,
    s: float = 1000.0,
    h: float = 0.01,
    f: float = 0.003,
    r: float = 0.002,
    q: float = 500.0,
    theta: float = 0.0005,
    lu: float = 0.05,
    lo: float = 0.05,
) -> RoutingProblem:
    return RoutingProblem(
        size=s,
        half_spread=h,
        fee=f,
        rebates=[r],
        queues=[q],
        theta=theta,
        lambda_u=lu,
        lambda_o=lo,
    )


def v_exact(p: RoutingProblem, mean: float, m: np.ndarray, lim: np.ndarray) -> np.ndarray:
    """V(M, L) for ξ ~ Exp(mean), feasible (M, L) (L ≥ S − M); vectorised."""
    q, s, r = float(p.queues[0]), p.size, float(p.rebates[0])
    kappa = math.exp(-q / mean)

    def g(a: np.ndarray) -> np.ndarray:
        return mean * kappa * -np.expm1(-np.maximum(a, 0.0) / mean)

    d = s - m
    e_fill, e_under, e_over = g(lim), d - g(d), g(lim) - g(d)
    return (
        (p.half_spread + p.fee) * m
        - (p.half_spread + r) * e_fill
        + p.lambda_u * e_under
        + p.lambda_o * e_over
        + p.theta * (m + lim + e_under)
    )


def v_quad(p: RoutingProblem, mean: float, m: float, lim: float) -> float:
    """V(M, L) by quadrature of v(X, ξ) against the exponential density (any M, L ≥ 0)."""
    q, s, h, r = float(p.queues[0]), p.size, p.half_spread, float(p.rebates[0])

    def v(xi: float) -> float:
        fill = min(lim, max(xi - q, 0.0))
        a = m + fill
        under, over = max(s - a, 0.0), max(a - s, 0.0)
        cost = (h + p.fee) * m - (h + r) * fill + p.lambda_u * under + p.lambda_o * over
        return (cost + p.theta * (m + lim + under)) * math.exp(-xi / mean) / mean

    kinks = sorted({q, q + max(s - m, 0.0), q + lim})
    edges = [0.0, *kinks, kinks[-1] + 60.0 * mean]
    return sum(scipy.integrate.quad(v, a, b, limit=200)[0] for a, b in itertools.pairwise(edges))


def grid_optimum(p: RoutingProblem, mean: float) -> tuple[float, float, float]:
    """Minimise v_exact on a fine grid of the feasible set, then polish with SLSQP."""
    s = p.size
    l_hi = max(s, float(p.queues[0]) + 12.0 * mean) * 1.2
    m = np.linspace(0.0, s, 801)[:, None]
    lim = np.linspace(0.0, l_hi, 1601)[None, :]
    v = np.where(lim >= s - m - 1e-12, v_exact(p, mean, m, lim), np.inf)
    i, j = np.unravel_index(int(np.argmin(v)), v.shape)
    res = scipy.optimize.minimize(
        lambda z: float(v_exact(p, mean, np.array(z[0]), np.array(z[1]))),
        np.array([m[i, 0], lim[0, j]]),
        method="SLSQP",
        bounds=[(0.0, s), (0.0, l_hi)],
        constraints=[{"type": "ineq", "fun": lambda z: z[0] + z[1] - s}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    if res.success and float(res.fun) < float(v[i, j]) and res.x[0] + res.x[1] >= s - 1e-6:
        return float(res.fun), float(res.x[0]), float(res.x[1])
    return float(v[i, j]), float(m[i, 0]), float(lim[0, j])


# (problem, outflow mean, expected case)
CASES = {
    "split": (problem(), 1500.0, "split"),
    "market_long_queue": (problem(q=4000.0), 500.0, "market"),
    "limit_huge_outflow": (problem(q=100.0), 1e6, "limit"),
    "p_star_above_one": (problem(lu=0.005), 1500.0, "limit"),  # h + f ≥ λ_u + θ
    "p_star_below_zero": (problem(f=-0.025, r=-0.003), 1e6, "market"),  # 2h + f + r < 0
    "overpost": (problem(lo=0.005), 1500.0, "overpost"),  # h + r − λ_o > θ
    "overpost_small_theta": (problem(lo=0.0, theta=1e-4, q=0.0), 800.0, "overpost"),
    "b_negative_market": (problem(r=-0.08), 1500.0, "market"),  # h + r + λ_u + θ < 0
    "b_negative_limit": (problem(f=0.05, r=-0.02, lu=0.001), 1500.0, "limit"),
    "no_queue": (problem(q=0.0), 1500.0, "split"),
    "no_theta": (problem(theta=0.0), 1500.0, "split"),
}


def test_v_formula_matches_quadrature() -> None:
    """The hand formula is the expectation of [CK] eq. 2 (direct quadrature)."""
    for p, mean in ((problem(), 1500.0), (problem(lo=0.005, q=0.0), 700.0)):
        for m, lim in ((0.0, 1000.0), (400.0, 600.0), (250.0, 2500.0), (1000.0, 0.0)):
            exact = float(v_exact(p, mean, np.array(m), np.array(lim)))
            assert exact == pytest.approx(v_quad(p, mean, m, lim), rel=1e-7, abs=1e-9)


def test_p_star_is_the_stated_formula() -> None:
    """[MATH] §5 / [CK] Prop. 4: p* = (2h + f + r)/(h + r + λ_u + θ)."""
    p = problem()
    assert critical_probability(p) == pytest.approx((0.02 + 0.003 + 0.002) / 0.0625)
    assert critical_probability(problem(lu=0.005)) > 1.0
    assert critical_probability(problem(f=-0.025, r=-0.003)) < 0.0
    assert math.isnan(critical_probability(problem(r=-0.08)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_form_is_the_global_optimum(name: str) -> None:
    """[CK] Prop. 4 (extended past the line M + L = S): no feasible (M, L) does better."""
    p, mean, case = CASES[name]
    alloc = solve_closed_form(p, ExpLaw(mean))
    assert alloc.info["case"] == case
    m, lim = alloc.market, alloc.limit[0]
    assert 0.0 <= m <= p.size
    assert lim >= 0.0
    assert m + lim >= p.size - 1e-9
    v_cf = float(v_exact(p, mean, np.array(m), np.array(lim)))
    v_best, m_grid, l_grid = grid_optimum(p, mean)
    scale = p.size * (p.half_spread + abs(p.fee) + p.theta + p.lambda_u)
    assert v_cf <= v_best + 1e-10 * scale  # nothing beats the closed form ...
    assert v_best <= v_cf + 2e-5 * scale  # ... and the independent search finds it
    if case in ("market", "limit"):
        assert (m, lim) == ((p.size, 0.0) if case == "market" else (0.0, p.size))
    else:  # the optimum is interior and strict: the grid's point is near it
        assert abs(m - m_grid) <= 5.0
        assert abs(lim - l_grid) <= 0.01 * lim + 5.0


@pytest.mark.parametrize("name", ["split", "overpost", "market_long_queue", "b_negative_limit"])
def test_closed_form_reports_the_exact_cost_and_underfill(name: str) -> None:
    """Without samples, V and P(A < S) come from the law: the hand formulas."""
    p, mean, _ = CASES[name]
    alloc = solve_closed_form(p, ExpLaw(mean))
    m, lim = alloc.market, alloc.limit[0]
    v = float(v_exact(p, mean, np.array(m), np.array(lim)))
    assert alloc.expected_cost == pytest.approx(v, rel=1e-10, abs=1e-10)
    d = p.size - m
    p_under = -math.expm1(-(float(p.queues[0]) + d) / mean) if d > 0 else 0.0
    assert alloc.p_underfill == pytest.approx(p_under, rel=1e-12, abs=1e-15)


def test_split_point_is_the_quantile_of_p_star() -> None:
    """[CK] Prop. 4: L* = F⁻¹(p*) − Q, M* = S − L*."""
    p, mean, _ = CASES["split"]
    alloc = solve_closed_form(p, ExpLaw(mean))
    l_star = -mean * math.log1p(-critical_probability(p)) - 500.0
    assert alloc.limit[0] == pytest.approx(l_star, rel=1e-12)
    assert alloc.market == pytest.approx(p.size - l_star, rel=1e-12)


@pytest.mark.parametrize("name", ["split", "overpost", "no_queue", "market_long_queue"])
def test_sa_reaches_the_exact_optimum_within_half_a_percent(name: str) -> None:
    """[CK] Alg. 1 on one venue: V at the SA answer (computed exactly) vs the optimum."""
    p, mean, _ = CASES[name]
    xi = draw_outflows([ExpLaw(mean)], 20_000, np.random.default_rng(3))
    x = solve_sa(p, xi)
    v_sa = float(v_exact(p, mean, np.array(x.market), np.array(x.limit[0])))
    v_opt = solve_closed_form(p, ExpLaw(mean)).expected_cost
    assert v_opt <= v_sa + 1e-9
    assert v_sa <= v_opt + 0.005 * abs(v_opt)
