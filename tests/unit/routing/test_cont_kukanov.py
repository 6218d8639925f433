"""Cont-Kukanov router: the model by hand, the solvers against each other on the same samples,
monotonicity, rounding, degenerate inputs and the routers' contract (MATH.md §5)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myopic_sor.exceptions import ConfigError, ConvergenceWarning
from myopic_sor.routing import (
    Allocation,
    ContKukanovRouter,
    ExponentialOutflow,
    MarketOnlyRouter,
    PassiveRouter,
    Router,
    RoutingProblem,
    cost_gradient,
    cost_samples,
    draw_outflows,
    expected_cost,
    round_to_target,
    solve_closed_form,
    solve_lp,
    solve_sa,
    underfill_probability,
)

# ---------------------------------------------------------------------------------------------
# small outflow laws (OutflowDistribution)
# ---------------------------------------------------------------------------------------------


# the exponential law of the library, under the short name the tests use
ExpLaw = ExponentialOutflow


class EmpiricalLaw:
    """The empirical law of given samples: bootstrap draws, exact step CDF and quantile."""

    has_cdf = True

    def __init__(self, samples: np.ndarray) -> None:
        self.x = np.sort(np.asarray(samples, dtype=np.float64))

    @property
    def mean(self) -> float:
        return float(self.x.mean())

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(self.x, n)

    def cdf(self, x: float) -> float:
        return float(np.searchsorted(self.x, x, side="right")) / self.x.size

    def ppf(self, p: float) -> float:
        i = max(math.ceil(p * self.x.size) - 1, 0)
        return float(self.x[min(i, self.x.size - 1)])


class ZeroLaw(EmpiricalLaw):
    """No outflow at all (an empty history: every window saw nothing leave the queue)."""

    def __init__(self) -> None:
        super().__init__(np.zeros(1))


class NoCdfLaw(ExpLaw):
    """An exponential law that only samples (forces SA on one venue)."""

    has_cdf = False


H, F, THETA, LU = 0.01, 0.003, 0.0005, 0.05
LAWS3 = (ExpLaw(3000.0), ExpLaw(4000.0), ExpLaw(1500.0))


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


def three_venues(
    lo: float = 0.01,
    r: tuple[float, ...] = (0.002, 0.003, 0.0025),
    q: tuple[float, ...] = (2000.0, 5000.0, 1000.0),
    lu: float = LU,
) -> RoutingProblem:
    return RoutingProblem(
        size=1000,
        half_spread=H,
        fee=F,
        rebates=list(r),
        queues=list(q),
        theta=THETA,
        lambda_u=lu,
        lambda_o=lo,
    )


def as_x(a: Allocation) -> np.ndarray:
    return np.array([a.market, *a.limit])


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------


def test_cost_samples_by_hand() -> None:
    p = RoutingProblem(
        size=100,
        half_spread=0.01,
        fee=0.003,
        rebates=[0.002, -0.001],
        queues=[50.0, 0.0],
        theta=0.001,
        lambda_u=0.05,
        lambda_o=0.04,
    )
    x = np.array([40.0, 60.0, 30.0])
    xi = np.array([[80.0, 10.0], [200.0, 100.0], [30.0, 0.0]])
    v = cost_samples(p, x, xi)
    placed = 0.001 * 130
    # ξ = (80, 10): fills (30, 10), A = 80, underfill 20
    v0 = 0.013 * 40 - 0.012 * 30 - 0.009 * 10 + 0.05 * 20 + placed + 0.001 * 20
    # ξ = (200, 100): fills (60, 30), A = 130, overfill 30
    v1 = 0.013 * 40 - 0.012 * 60 - 0.009 * 30 + 0.04 * 30 + placed
    # ξ = (30, 0): nothing fills behind the queue, A = 40, underfill 60
    v2 = 0.013 * 40 + 0.05 * 60 + placed + 0.001 * 60
    np.testing.assert_allclose(v, [v0, v1, v2], rtol=1e-12)
    assert expected_cost(p, x, xi) == pytest.approx((v0 + v1 + v2) / 3, rel=1e-12)
    assert underfill_probability(p, x, xi) == pytest.approx(2 / 3)
    # exactly S executed is not an underfill
    assert underfill_probability(p, np.array([40.0, 60.0, 0.0]), np.array([[110.0, 0.0]])) == 0.0


def test_gradient_matches_finite_differences_away_from_kinks() -> None:
    xi = draw_outflows(LAWS3, 300, np.random.default_rng(2))
    for lo in (0.01, 0.05):
        p = three_venues(lo=lo)
        cap = np.maximum(xi - p.queues, 0.0)
        for x in (np.array([300.0, 400.3, 250.7, 333.1]), np.array([10.2, 2100.4, 1800.6, 1300.9])):
            executed = x[0] + np.minimum(cap, x[1:]).sum(axis=1)
            assert np.min(np.abs(cap - x[1:])) > 1e-2  # no sample on a kink ...
            assert np.min(np.abs(executed - p.size)) > 1e-2
            g = cost_gradient(p, x, xi)
            for i in range(4):
                e = np.zeros(4)
                e[i] = 1e-3
                fd = (expected_cost(p, x + e, xi) - expected_cost(p, x - e, xi)) / 2e-3
                assert g[i] == pytest.approx(fd, abs=1e-9)


def test_gradient_states_by_hand() -> None:
    """MATH.md §5 formula in the states A < S, A = S, A > S, marginal share filled or not."""
    p = one_venue(q=100.0)
    mkt, lu_t, h_r = H + F + THETA, LU + THETA, H + 0.002
    cases = [
        # (M, L, ξ): expected (∂M, ∂L)
        ((400.0, 600.0, 300.0), (mkt - lu_t, THETA)),  # fill 200 < L, A < S
        ((400.0, 600.0, 700.0), (mkt, THETA)),  # fill = L exactly (kink: 0), A = S
        ((400.0, 600.0, 1500.0), (mkt, THETA - h_r)),  # one more share would fill, A = S
        ((200.0, 600.0, 1500.0), (mkt - lu_t, THETA - h_r - lu_t)),  # ... and A < S
        ((600.0, 600.0, 2000.0), (mkt + 0.05, THETA - h_r + 0.05)),  # ... and A > S
    ]
    for (m, lim, xi), expected in cases:
        g = cost_gradient(p, np.array([m, lim]), np.array([[xi]]))
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)


def test_model_rejects_bad_shapes() -> None:
    p = three_venues()
    with pytest.raises(ConfigError, match="one L_k per venue"):
        cost_samples(p, np.zeros(3), np.ones((5, 3)))
    with pytest.raises(ConfigError, match=r"\(N, 3\)"):
        cost_samples(p, np.zeros(4), np.ones((5, 2)))


# ---------------------------------------------------------------------------------------------
# solvers against each other on the same samples
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lo", [0.005, 0.012, 0.05])
def test_closed_form_on_an_empirical_law_is_the_sample_average_optimum(lo: float) -> None:
    """The empirical law of the samples makes V the sample average: closed form = LP/MILP."""
    samples = np.random.default_rng(0).exponential(1500.0, 150)
    p = one_venue(lo=lo)
    law = EmpiricalLaw(samples)
    cf = solve_closed_form(p, law)
    v_cf = expected_cost(p, as_x(cf), samples)
    exact = solve_lp(p, samples, integer=lo > H + 0.002)
    assert exact.info["exact"]
    assert v_cf == pytest.approx(exact.expected_cost, abs=1e-9)
    # V from the law (Gauss-Legendre on the step CDF) within its stated bound (a/256 shares)
    assert abs(cf.expected_cost - v_cf) <= 0.1 * (cf.limit[0] + p.size) / 256
    assert cf.p_underfill == pytest.approx(underfill_probability(p, as_x(cf), samples))


@pytest.mark.parametrize("seed", [5, 6])
@pytest.mark.parametrize("q", [(2000.0, 5000.0, 1000.0), (300.0, 800.0, 100.0)])
def test_sa_matches_the_lp_on_the_same_samples(seed: int, q: tuple[float, ...]) -> None:
    # λ_o ≤ min(h + r_k): the LP is the exact sample-average optimum
    p = three_venues(lo=0.01, q=q)
    xi = draw_outflows(LAWS3, 1000, np.random.default_rng(seed))
    lp = solve_lp(p, xi)
    assert lp.info["exact"]
    assert lp.expected_cost == pytest.approx(lp.info["lower_bound"], abs=1e-7)
    sa = solve_sa(p, xi)
    assert sa.expected_cost == pytest.approx(expected_cost(p, as_x(sa), xi))
    assert lp.expected_cost <= sa.expected_cost + 1e-9  # the LP is the optimum
    assert sa.expected_cost <= lp.expected_cost + 0.01 * abs(lp.expected_cost)


def test_lp_relaxation_warns_and_integer_closes_the_gap() -> None:
    # λ_o = 0.05 > h + r_k (the default configuration): the sample cost is not convex
    p = three_venues(lo=0.05, q=(200.0, 500.0, 100.0))
    xi = draw_outflows(LAWS3, 100, np.random.default_rng(6))
    with pytest.warns(ConvergenceWarning, match="relaxation"):
        relaxed = solve_lp(p, xi)
    assert not relaxed.info["exact"]
    assert relaxed.info["lower_bound"] < relaxed.expected_cost
    milp = solve_lp(p, xi, integer=True)
    assert milp.info["exact"]
    assert milp.info["n_binaries"] > 0
    assert relaxed.info["lower_bound"] <= milp.expected_cost + 1e-9
    assert milp.expected_cost <= relaxed.expected_cost + 1e-9
    sa = solve_sa(p, xi)
    assert milp.expected_cost <= sa.expected_cost + 1e-9  # the MILP is the optimum
    market = (H + F + THETA) * p.size
    assert sa.expected_cost <= milp.expected_cost + 0.05 * market


def test_sa_seed_is_reproducible_and_recorded() -> None:
    p = three_venues()
    xi = draw_outflows(LAWS3, 400, np.random.default_rng(1))
    a = solve_sa(p, xi, seed=7)
    b = solve_sa(p, xi, seed=np.random.default_rng(7))
    assert as_x(a).tolist() == as_x(b).tolist()
    assert a.info["shuffle_seed"] == b.info["shuffle_seed"] > 0
    assert solve_sa(p, xi).info["shuffle_seed"] is None


def test_solver_argument_errors() -> None:
    p = three_venues()
    xi = np.ones((10, 3))
    with pytest.raises(ConfigError, match="n_passes"):
        solve_sa(p, xi, n_passes=0)
    with pytest.raises(ConfigError, match="tail_passes"):
        solve_sa(p, xi, n_passes=2, tail_passes=3)
    with pytest.raises(ConfigError, match="step"):
        solve_sa(p, xi, step=-1.0)
    with pytest.raises(ConfigError, match="one venue"):
        solve_closed_form(p, ExpLaw(1.0))
    with pytest.raises(ConfigError, match="no exact CDF"):
        solve_closed_form(one_venue(), NoCdfLaw(100.0))
    # θ = 0 and λ_o < h + r on an unbounded law: posting more always pays, no optimum
    p0 = RoutingProblem(
        size=10, half_spread=0.01, fee=0.0, rebates=[0.0], queues=[0.0], theta=0.0, lambda_o=0.0
    )
    with pytest.raises(ConfigError, match="no optimum"):
        solve_closed_form(p0, ExpLaw(10.0))


def test_closed_form_when_limit_shares_cost_the_same_at_any_fill() -> None:
    # h + r + λ_u + θ = 0 exactly: the line cost is linear, an end point is optimal
    base = {
        "size": 100,
        "half_spread": 0.25,
        "rebates": [-0.5],
        "queues": [10.0],
        "theta": 0.0,
        "lambda_u": 0.25,
    }
    assert solve_closed_form(RoutingProblem(fee=0.5, **base), ExpLaw(50.0)).limit == (100.0,)
    assert solve_closed_form(RoutingProblem(fee=-0.25, **base), ExpLaw(50.0)).market == 100.0


# ---------------------------------------------------------------------------------------------
# monotonicity
# ---------------------------------------------------------------------------------------------


def test_lp_monotone_in_rebate_and_queue() -> None:
    xi = draw_outflows(LAWS3, 400, np.random.default_rng(7))
    base = as_x(solve_lp(three_venues(), xi))
    for k in range(3):
        r = [0.002, 0.003, 0.0025]
        r[k] += 0.001
        assert solve_lp(three_venues(r=tuple(r)), xi).limit[k] >= base[k + 1] - 1e-6
        q = [2000.0, 5000.0, 1000.0]
        q[k] += 500.0
        assert solve_lp(three_venues(q=tuple(q)), xi).limit[k] <= base[k + 1] + 1e-6


def test_closed_form_monotone_in_rebate_and_queue() -> None:
    law = ExpLaw(1500.0)
    for lo in (0.05, 0.004):
        rebates = np.linspace(-0.005, 0.01, 31)
        lims = [solve_closed_form(one_venue(r=r, lo=lo), law).limit[0] for r in rebates]
        assert np.all(np.diff(lims) >= -1e-9)
        queues = np.linspace(0.0, 5000.0, 41)
        lims = [solve_closed_form(one_venue(q=q, lo=lo), law).limit[0] for q in queues]
        assert np.all(np.diff(lims) <= 1e-9)
        assert lims[0] > lims[-1]


def test_sa_monotone_within_tolerance() -> None:
    xi = draw_outflows(LAWS3, 1000, np.random.default_rng(8))
    base = as_x(solve_sa(three_venues(), xi))
    richer = as_x(solve_sa(three_venues(r=(0.002, 0.004, 0.0025)), xi))
    longer = as_x(solve_sa(three_venues(q=(2000.0, 7000.0, 1000.0)), xi))
    tol = 0.02 * base[2]
    assert richer[2] >= base[2] - tol
    assert longer[2] <= base[2] + tol


def test_large_underfill_penalty_drives_underfill_to_zero() -> None:
    law = ExpLaw(1500.0)
    probs = [solve_closed_form(one_venue(lu=lu), law).p_underfill for lu in (0.02, 0.1, 1.0, 100.0)]
    assert probs == sorted(probs, reverse=True)
    assert probs[-1] < 1e-3
    xi = draw_outflows(LAWS3, 1000, np.random.default_rng(9))
    router = ContKukanovRouter(method="sa")
    rng = np.random.default_rng(0)
    sa_probs = [
        router.route(three_venues(lu=lu, lo=0.05), [], rng, xi=xi).p_underfill
        for lu in (0.02, 0.2, 100.0)
    ]
    assert sa_probs[0] > 0.5
    assert sa_probs[-1] <= 0.01
    assert sa_probs == sorted(sa_probs, reverse=True)


# ---------------------------------------------------------------------------------------------
# rounding
# ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=6),
    st.integers(1, 5000),
    st.booleans(),
)
def test_round_to_target_rule(xs: list[float], s: int, exact_total: bool) -> None:
    x = np.array(xs)
    x[0] = min(x[0], s)
    if exact_total or x.sum() < s:  # a plan placing exactly S: scale the limits onto it
        rest = s - x[0]
        lim = x[1:]
        x[1:] = rest * (lim / lim.sum()) if lim.sum() > 0 else rest / lim.size
    out = round_to_target(x, s)
    assert np.all(out >= 0)
    assert np.all(out == np.round(out))
    assert out[0] <= s
    assert np.all(np.abs(out - x) < 1.0 + 1e-9)
    assert out.sum() == max(s, round(x.sum()))
    if exact_total:
        assert out.sum() == s


def test_round_to_target_by_hand_and_errors() -> None:
    np.testing.assert_array_equal(round_to_target(np.array([33.4, 33.3, 33.3]), 100), [34, 33, 33])
    np.testing.assert_array_equal(round_to_target(np.array([0.0, 70.7, 60.6]), 100), [0, 71, 60])
    np.testing.assert_array_equal(round_to_target(np.array([99.9999999, 0.0]), 100), [100, 0])
    with pytest.raises(ConfigError, match="whole number"):
        round_to_target(np.array([10.5, 0.0]), 10.5)
    with pytest.raises(ConfigError, match="feasible"):
        round_to_target(np.array([10.0, 20.0]), 100)


# ---------------------------------------------------------------------------------------------
# routers
# ---------------------------------------------------------------------------------------------


def test_routers_follow_the_protocol() -> None:
    rng = np.random.default_rng(4)
    p = three_venues()
    for router in (ContKukanovRouter(n_samples=300), MarketOnlyRouter(), PassiveRouter(200)):
        assert isinstance(router, Router)
        alloc = router.route(p, LAWS3, rng)
        assert isinstance(alloc, Allocation)
        assert alloc.total >= p.size
        assert 0 <= alloc.market <= p.size
        assert all(v == round(v) and v >= 0 for v in (alloc.market, *alloc.limit))
        assert alloc.venues == p.venues
        assert {"half_spread", "fee"} <= alloc.info.keys()


def test_router_reports_the_rounded_allocation_on_its_samples() -> None:
    p = three_venues()
    xi = draw_outflows(LAWS3, 500, np.random.default_rng(3))
    a = ContKukanovRouter(n_samples=500).route(p, [], np.random.default_rng(0), xi=xi)
    x = as_x(a)
    assert a.expected_cost == pytest.approx(expected_cost(p, x, xi))
    assert a.p_underfill == pytest.approx(underfill_probability(p, x, xi))
    unrounded = solve_sa(p, xi)
    np.testing.assert_allclose(a.info["unrounded"], as_x(unrounded))
    assert a.info["unrounded_cost"] == pytest.approx(unrounded.expected_cost)
    assert a.info["iterations"] == 500 * 10
    assert a.method == "sa"
    # the same through the LP
    b = ContKukanovRouter(method="lp").route(p, [], np.random.default_rng(0), xi=xi)
    assert b.method == "lp"
    assert b.expected_cost == pytest.approx(expected_cost(p, as_x(b), xi))


def test_router_method_choice() -> None:
    rng = np.random.default_rng(5)
    assert (
        ContKukanovRouter(n_samples=200).route(one_venue(), [ExpLaw(1500.0)], rng).method
        == "closed_form"
    )
    assert (
        ContKukanovRouter(n_samples=200).route(one_venue(), [NoCdfLaw(1500.0)], rng).method == "sa"
    )
    cf = ContKukanovRouter(n_samples=200, round_shares=False).route(
        one_venue(), [ExpLaw(1500.0)], rng
    )
    assert as_x(cf).tolist() == as_x(solve_closed_form(one_venue(), ExpLaw(1500.0))).tolist()


def test_same_seed_same_allocation() -> None:
    for router in (
        ContKukanovRouter(n_samples=500),
        ContKukanovRouter(n_samples=500, shuffle=True),
    ):
        a = router.route(three_venues(), LAWS3, np.random.default_rng(11))
        b = router.route(three_venues(), LAWS3, np.random.default_rng(11))
        assert a == b


def test_degenerate_inputs() -> None:
    rng = np.random.default_rng(4)
    ck = ContKukanovRouter(n_samples=300)
    # no outflow ever (empty history): a limit order never fills, everything at market
    for router in (ck, ContKukanovRouter(n_samples=300, method="sa")):
        a = router.route(one_venue(), [ZeroLaw()], rng)
        assert (a.market, a.limit) == (1000.0, (0.0,))
    a = ck.route(three_venues(lo=0.05), [ZeroLaw()] * 3, rng)
    assert (a.market, a.limit) == (1000.0, (0.0, 0.0, 0.0))
    # nobody queued ahead and a huge outflow: everything passive, never underfilled
    a = ck.route(one_venue(q=0.0), [ExpLaw(1e12)], rng)
    assert (a.market, a.limit) == (0.0, (1000.0,))
    assert a.p_underfill == 0.0
    a = ck.route(three_venues(lo=0.05, q=(0.0, 0.0, 0.0)), [ExpLaw(1e12)] * 3, rng)
    assert a.market == 0.0
    assert a.p_underfill == 0.0
    # a child under one share cannot be split
    tiny = RoutingProblem(
        size=0.4, half_spread=H, fee=F, rebates=[0.002, 0.001], queues=[10.0, 5.0]
    )
    a = ck.route(tiny, [ExpLaw(10.0)] * 2, rng)
    assert (a.method, a.market, a.limit) == ("market", 0.4, (0.0, 0.0))
    assert "under one share" in a.info["reason"]
    # a huge queue on one venue: nothing posted there, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = ck.route(three_venues(q=(2000.0, 1e9, 1000.0)), LAWS3, rng)
    assert a.limit[1] == 0.0


def test_router_errors() -> None:
    ck = ContKukanovRouter(n_samples=100)
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="outflow laws for 3 venues"):
        ck.route(three_venues(), LAWS3[:2], rng)
    with pytest.raises(ConfigError, match="method"):
        ContKukanovRouter(method="simplex")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n_samples"):
        ContKukanovRouter(n_samples=0)
    fractional = RoutingProblem(size=10.5, half_spread=H, fee=F, rebates=[0.002], queues=[1.0])
    with pytest.raises(ConfigError, match="whole number"):
        ck.route(fractional, [ExpLaw(5.0)], rng)
    a = ContKukanovRouter(n_samples=100, round_shares=False).route(fractional, [ExpLaw(5.0)], rng)
    assert a.total >= 10.5 - 1e-9


def test_market_only_router_cost_is_exact() -> None:
    p = three_venues()
    a = MarketOnlyRouter().route(p, LAWS3, np.random.default_rng(0))
    assert (a.market, a.limit, a.method) == (1000.0, (0.0, 0.0, 0.0), "market")
    assert a.expected_cost == pytest.approx((H + F + THETA) * 1000)
    assert a.p_underfill == 0.0


def test_passive_router_rule() -> None:
    rng = np.random.default_rng(0)
    # a long queue ahead moves the order to the other venue despite a lower rebate
    p = three_venues(r=(0.004, 0.002, 0.001), q=(20_000.0, 100.0, 100.0))
    laws = (ExpLaw(2000.0), ExpLaw(2000.0), ExpLaw(2000.0))
    a = PassiveRouter().route(p, laws, rng)
    assert (a.market, a.limit) == (0.0, (0.0, 1000.0, 0.0))
    assert a.info["venue"] == "V1"
    # same queues and laws: the higher rebate wins; it is also the cheapest L_k = S in V
    p = three_venues(r=(0.001, 0.002, 0.004), q=(500.0, 500.0, 500.0))
    xi_same = np.repeat(draw_outflows([ExpLaw(2000.0)], 1000, rng), 3, axis=1)
    a = PassiveRouter().route(p, [], rng, xi=xi_same)
    assert a.limit == (0.0, 0.0, 1000.0)
    costs = [expected_cost(p, np.r_[0.0, np.eye(3)[k] * 1000], xi_same) for k in range(3)]
    assert int(np.argmin(costs)) == 2


def test_market_guard_keeps_market_when_the_sa_answer_costs_more() -> None:
    # λ_u = 100 sets the SA step: the small gradients then move it too slowly to leave the
    # start, and its answer costs more than sending everything at market
    p = three_venues(lu=100.0, lo=0.05)
    xi = draw_outflows(LAWS3, 1000, np.random.default_rng(9))
    rng = np.random.default_rng(0)
    raw = ContKukanovRouter(market_guard=False).route(p, [], rng, xi=xi)
    market = (H + F + THETA) * p.size
    assert raw.expected_cost > market
    guarded = ContKukanovRouter().route(p, [], rng, xi=xi)
    assert (guarded.market, guarded.limit) == (1000.0, (0.0, 0.0, 0.0))
    assert guarded.expected_cost == pytest.approx(market)
    assert "market only costs" in guarded.info["market_guard"]
    # the closed form is exact under the law and is never overridden by the sample estimate
    one = ContKukanovRouter(n_samples=50).route(one_venue(), [ExpLaw(1500.0)], rng)
    assert "market_guard" not in one.info
    assert one.limit[0] > 0
