"""Cont-Kukanov router: closed form, SA, LP, projection, rounding, monotonicity, degenerate
inputs (MATH.md §5; Cont & Kukanov 2017)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.optimize
from _laws import ConstLaw, ExpLaw
from hypothesis import given, settings
from hypothesis import strategies as st

from myopic_sor.exceptions import ConfigError, ConvergenceWarning
from myopic_sor.routing import (
    Allocation,
    ContKukanovRouter,
    MarketOnlyRouter,
    PassiveRouter,
    Router,
    RoutingProblem,
    _ck_kernels,
    _ck_python,
    cost_gradient,
    cost_samples,
    critical_probability,
    draw_outflows,
    expected_cost,
    round_to_target,
    solve_closed_form,
    solve_lp,
    solve_sa,
    underfill_probability,
)

H, F, THETA, LU = 0.01, 0.003, 0.0005, 0.05


def one_venue(
    q: float = 500.0, r: float = 0.002, lu: float = LU, lo: float = 0.05
) -> RoutingProblem:
    return RoutingProblem(
        size=1000,
        half_spread=H,
        fee=F,
        rebates=[r],
        queues=[q],
        theta=THETA,
        lambda_u=lu,
        lambda_o=lo,
    )


def v_exact(p: RoutingProblem, mean: float, m: float, lim: float) -> float:
    """V(M, L) for ξ ~ Exp(mean), M + L ≥ S, in closed form.

    With c = (ξ − Q)^+ and E min(c, a) = μ e^{−Q/μ}(1 − e^{−a/μ}) =: g(a): fill = min(L, c),
    E fill = g(L); with d = S − M ≤ L, E under = d − g(d) and E over = g(L) − g(d).
    """
    q, s = float(p.queues[0]), p.size
    r = float(p.rebates[0])

    def g(a: float) -> float:
        return mean * math.exp(-q / mean) * (1.0 - math.exp(-max(a, 0.0) / mean))

    d = s - m
    e_fill, e_under, e_over = g(lim), d - g(d), g(lim) - g(d)
    return (
        (p.half_spread + p.fee) * m
        - (p.half_spread + r) * e_fill
        + p.lambda_u * e_under
        + p.lambda_o * e_over
        + p.theta * (m + lim + e_under)
    )


def v_exact_on_line(p: RoutingProblem, mean: float, lim: float) -> float:
    return v_exact(p, mean, p.size - lim, lim)


@pytest.mark.parametrize("q", [100.0, 500.0, 1500.0, 4000.0])
def test_closed_form_is_the_analytic_optimum_for_an_exponential_outflow(q: float) -> None:
    # reference: Cont & Kukanov (2017) Prop. 4, checked against V integrated by hand
    p, mean = one_venue(q=q), 1500.0
    x = solve_closed_form(p, ExpLaw(mean))
    assert x.sum() == pytest.approx(p.size)
    grid = np.linspace(0.0, p.size, 20001)
    v_grid = np.array([v_exact_on_line(p, mean, lim) for lim in grid])
    assert v_exact_on_line(p, mean, x[1]) <= v_grid.min() + 1e-9
    assert x[1] == pytest.approx(grid[int(np.argmin(v_grid))], abs=0.1)


def test_closed_form_cases_follow_p_star() -> None:
    p = one_venue(q=500.0)
    pstar = critical_probability(p)
    assert pstar == pytest.approx((2 * H + F + 0.002) / (H + 0.002 + LU + THETA))
    # market only: the queue ahead is longer than the outflow almost surely
    assert solve_closed_form(p, ExpLaw(10.0)).tolist() == [1000.0, 0.0]
    # limit only: the outflow surely clears queue + order
    assert solve_closed_form(p, ExpLaw(1e7)).tolist() == [0.0, 1000.0]


@pytest.mark.parametrize(("q", "mean"), [(500.0, 1500.0), (200.0, 3000.0), (2000.0, 3000.0)])
def test_sa_is_within_half_a_percent_of_the_exact_optimum_on_one_venue(
    q: float, mean: float
) -> None:
    p = one_venue(q=q)
    rng = np.random.default_rng(3)
    xi = draw_outflows([ExpLaw(mean)], 100_000, rng)
    x_sa = solve_sa(p, xi, n_passes=20)
    x_cf = solve_closed_form(p, ExpLaw(mean))
    v_opt = v_exact(p, mean, *x_cf)
    # both V computed exactly, no sampling noise; and the closed form is the 2-D optimum
    assert v_exact(p, mean, *x_sa) <= v_opt + 0.005 * abs(v_opt)
    res = scipy.optimize.minimize(
        lambda z: v_exact(p, mean, z[0], z[1]),
        np.array([500.0, 600.0]),
        bounds=[(0, p.size), (0, 3 * p.size)],
        constraints=[{"type": "ineq", "fun": lambda z: z[0] + z[1] - p.size}],
        method="SLSQP",
    )
    assert v_opt <= res.fun + 1e-9


def three_venues(
    lo: float = 0.01, r=(0.002, 0.003, 0.0025), q=(2000.0, 5000.0, 1000.0)
) -> RoutingProblem:
    return RoutingProblem(
        size=1000,
        half_spread=H,
        fee=F,
        rebates=list(r),
        queues=list(q),
        theta=THETA,
        lambda_u=LU,
        lambda_o=lo,
    )


LAWS3 = (ExpLaw(3000.0), ExpLaw(4000.0), ExpLaw(1500.0))


def test_sa_matches_the_lp_on_the_same_samples() -> None:
    # λ_o ≤ min(h + r_k): the LP is the exact sample-average optimum
    p = three_venues(lo=0.01)
    xi = draw_outflows(LAWS3, 1000, np.random.default_rng(5))
    v_lp = expected_cost(p, solve_lp(p, xi), xi)
    # many passes with the larger step of solve_sa's notes: the SA converges to the LP
    v_sa = expected_cost(p, solve_sa(p, xi, n_passes=100, step_scale=10.0), xi)
    assert v_lp <= v_sa + 1e-9  # the LP is the optimum
    assert v_sa <= v_lp + 0.01 * abs(v_lp)


def test_lp_warns_and_bounds_when_the_sample_cost_is_not_convex() -> None:
    p = three_venues(lo=0.05)
    xi = draw_outflows(LAWS3, 300, np.random.default_rng(6))
    with pytest.warns(ConvergenceWarning, match="relaxation"):
        solve_lp(p, xi)


def lp_limits(p: RoutingProblem, xi: np.ndarray) -> np.ndarray:
    return solve_lp(p, xi)


def test_monotone_in_rebate_and_queue() -> None:
    xi = draw_outflows(LAWS3, 400, np.random.default_rng(7))
    base = lp_limits(three_venues(), xi)
    richer = lp_limits(three_venues(r=(0.002, 0.004, 0.0025)), xi)
    assert richer[2] >= base[2] - 1e-6  # a higher rebate on venue 1 never lowers L_1
    longer = lp_limits(three_venues(q=(2000.0, 8000.0, 1000.0)), xi)
    assert longer[2] <= base[2] + 1e-6  # a longer queue ahead never raises L_1


def test_large_underfill_penalty_drives_underfill_to_zero() -> None:
    law = ExpLaw(1500.0)
    xi = draw_outflows([law], 20_000, np.random.default_rng(8))
    probs = []
    for lu in (0.02, 0.1, 1.0, 100.0):
        p = one_venue(q=500.0, lu=lu)
        probs.append(underfill_probability(p, solve_closed_form(p, law), xi))
    assert probs == sorted(probs, reverse=True)
    assert probs[-1] < 0.01


def test_projection_is_exact() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        y = rng.normal(0.0, 600.0, 4)
        out = np.empty(4)
        _ck_kernels.project_feasible(y, 1000.0, out)
        assert out[0] >= 0
        assert out[0] <= 1000
        assert np.all(out[1:] >= 0)
        assert out.sum() >= 1000 - 1e-9
        # KKT: out = clip(y + μ), μ ≥ 0, μ > 0 only when the sum constraint binds
        free = (out > 1e-9) & ~((np.arange(4) == 0) & (out >= 1000 - 1e-9))
        mu = (out - y)[free]
        if mu.size:
            assert np.ptp(mu) < 1e-8
            assert mu[0] >= -1e-9
            if mu[0] > 1e-9:
                assert out.sum() == pytest.approx(1000.0)
        res = scipy.optimize.minimize(
            lambda x, y=y: float(((x - y) ** 2).sum()),
            np.full(4, 300.0),
            bounds=[(0, 1000)] + [(0, None)] * 3,
            constraints=[{"type": "ineq", "fun": lambda x: x.sum() - 1000.0}],
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        assert float(((out - y) ** 2).sum()) <= res.fun * (1 + 1e-6) + 1e-6


def test_kernels_match_their_python_twins() -> None:
    p = three_venues()
    xi = draw_outflows(LAWS3, 500, np.random.default_rng(1))
    a = solve_sa(p, xi, n_passes=2)
    b = solve_sa(p, xi, n_passes=2, use_numba=False)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    y = np.array([-50.0, 20.0, -300.0, 10.0])
    o1, o2 = np.empty(4), np.empty(4)
    _ck_kernels.project_feasible(y, 100.0, o1)
    _ck_python.project_feasible(y, 100.0, o2)
    np.testing.assert_allclose(o1, o2)


def test_gradient_matches_finite_differences_away_from_kinks() -> None:
    p = three_venues()
    xi = draw_outflows(LAWS3, 200, np.random.default_rng(2))
    x = np.array([300.0, 400.3, 250.7, 333.1])
    g = cost_gradient(p, x, xi)
    for i in range(4):
        e = np.zeros(4)
        e[i] = 1e-4
        fd = (expected_cost(p, x + e, xi) - expected_cost(p, x - e, xi)) / 2e-4
        assert g[i] == pytest.approx(fd, abs=1e-6)


def test_cost_samples_by_hand() -> None:
    p = RoutingProblem(
        size=100,
        half_spread=0.01,
        fee=0.003,
        rebates=[0.002],
        queues=[50],
        theta=0.001,
        lambda_u=0.05,
        lambda_o=0.04,
    )
    # M=40, L=60, ξ=80: fill = min(60, 30) = 30, A = 70, under 30
    v = cost_samples(p, np.array([40.0, 60.0]), np.array([[80.0]]))[0]
    assert v == pytest.approx(0.013 * 40 - 0.012 * 30 + 0.05 * 30 + 0.001 * (100 + 30))
    # M=40, L=100, ξ=200: fill 100, A = 140, over 40
    v = cost_samples(p, np.array([40.0, 100.0]), np.array([[200.0]]))[0]
    assert v == pytest.approx(0.013 * 40 - 0.012 * 100 + 0.04 * 40 + 0.001 * 140)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=5),
    st.integers(1, 5000),
)
def test_round_to_target_keeps_the_total(xs: list[float], s: int) -> None:
    x = np.array(xs)
    x[0] = min(x[0], s)
    total = x.sum()
    if total < s:  # make it feasible: M + ΣL ≥ S
        x[1] += s - total
    out = round_to_target(x, s)
    assert np.all(out >= 0)
    assert np.all(out == np.round(out))
    assert out[0] <= s
    assert out.sum() == max(s, round(x.sum()))
    assert np.all(np.abs(out - x) < 1.0 + 1e-9)


def test_router_contract_and_degenerate_inputs() -> None:
    rng = np.random.default_rng(4)
    for router in (ContKukanovRouter(n_samples=300), MarketOnlyRouter(), PassiveRouter()):
        assert isinstance(router, Router)
        alloc = router.route(three_venues(), LAWS3, rng)
        assert isinstance(alloc, Allocation)
        assert alloc.total >= 1000
        assert alloc.market <= 1000
        assert all(v == round(v) for v in (alloc.market, *alloc.limit))
    ck = ContKukanovRouter(n_samples=300)
    # no outflow at all: a limit order never fills, so everything goes to market
    a = ck.route(one_venue(), [ConstLaw(0.0)], rng)
    assert (a.market, a.limit) == (1000.0, (0.0,))
    # Q = 0 and a huge outflow: all passive
    a = ck.route(one_venue(q=0.0), [ExpLaw(1e9)], rng)
    assert a.limit == (1000.0,)
    assert a.p_underfill == 0.0
    # a size under one share: sent at market
    tiny = RoutingProblem(size=0.4, half_spread=H, fee=F, rebates=[0.002], queues=[10])
    assert ck.route(tiny, [ExpLaw(10.0)], rng).method == "market"
    # a huge queue on one of three venues: nothing posted there
    huge = three_venues(q=(2000.0, 1e9, 1000.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = ck.route(huge, LAWS3, rng)
    assert a.limit[1] == 0.0
    with pytest.raises(ConfigError, match="outflow laws for 3 venues"):
        ck.route(three_venues(), LAWS3[:2], rng)


def test_same_seed_same_allocation() -> None:
    ck = ContKukanovRouter(n_samples=500)
    a = ck.route(three_venues(), LAWS3, np.random.default_rng(11))
    b = ck.route(three_venues(), LAWS3, np.random.default_rng(11))
    assert a == b
