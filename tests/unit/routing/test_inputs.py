"""Router inputs from data (causal), outflow laws, the favourable rule."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest

from myopic_sor.config import load_config
from myopic_sor.data import MarketData, generate_market_data
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.routing import (
    ContKukanovRouter,
    EmpiricalOutflow,
    ExponentialOutflow,
    FavourableRule,
    KDEOutflow,
    OFIConditionedOutflow,
    build_routing_problem,
    fit_outflow,
    outflow_samples,
)

NS = 1_000_000_000


@pytest.fixture(scope="module")
def md() -> MarketData:
    data, _ = generate_market_data(seed=5, session_end=dt.time(10, 0))
    return data


def test_exponential_mle_recovers_the_mean() -> None:
    x = np.random.default_rng(0).exponential(250.0, 20_000)
    law = ExponentialOutflow.fit(x)
    assert law.mean == pytest.approx(250.0, rel=0.03)
    assert law.cdf(law.ppf(0.7)) == pytest.approx(0.7)


def test_empirical_cdf_and_quantile_are_inverse() -> None:
    law = EmpiricalOutflow(np.array([5.0, 1.0, 3.0, 3.0]))
    assert law.cdf(3.0) == pytest.approx(0.75)
    assert law.ppf(0.5) == 3.0
    assert law.ppf(0.25) == 1.0
    assert law.mean == pytest.approx(3.0)
    draws = law.sample(1000, np.random.default_rng(1))
    assert set(np.unique(draws)) <= {1.0, 3.0, 5.0}


def test_kde_has_no_mass_below_zero_and_integrates_to_one() -> None:
    law = KDEOutflow(np.array([0.0, 2.0, 10.0, 50.0]))
    assert law.cdf(0.0) == 0.0
    assert law.cdf(1e6) == pytest.approx(1.0)
    assert np.all(law.sample(5000, np.random.default_rng(2)) >= 0)
    grid = np.linspace(0.0, 500.0, 50_001)
    dens = np.gradient([law.cdf(x) for x in grid], grid)
    assert np.trapezoid(dens, grid) == pytest.approx(1.0, abs=1e-3)
    draws = law.sample(200_000, np.random.default_rng(3))
    assert law.mean == pytest.approx(float(draws.mean()), rel=0.02)
    assert law.ppf(0.5) == pytest.approx(float(np.median(draws)), rel=0.05)


def test_ofi_conditioned_law_follows_the_current_imbalance() -> None:
    rng = np.random.default_rng(4)
    ofi = rng.normal(0.0, 1.0, 4000)
    outflow = np.maximum(100.0 + 80.0 * ofi + rng.normal(0.0, 10.0, 4000), 0.0)
    hi = OFIConditionedOutflow(outflow, ofi=ofi, current_ofi=1.5)
    lo = OFIConditionedOutflow(outflow, ofi=ofi, current_ofi=-1.0)
    assert hi.mean > 200.0
    assert lo.mean < 40.0
    assert hi.effective_samples < 4000


def test_fit_outflow_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="no outflow samples"):
        fit_outflow(np.zeros(0))
    with pytest.raises(ConfigError, match="outflow kind"):
        fit_outflow(np.ones(3), "gamma")  # type: ignore[arg-type]


def test_inputs_are_causal(md: MarketData) -> None:
    cfg = load_config()
    t = md.first_ts + 20 * 60 * NS
    p1, laws1, ex1 = build_routing_problem(md, t, 500, 1, config=cfg)
    cut = md.between(None, t)  # nothing after t exists at all
    p2, laws2, ex2 = build_routing_problem(cut, t, 500, 1, config=cfg)
    assert p1.queues.tolist() == p2.queues.tolist()
    assert p1.half_spread == p2.half_spread
    assert ex1 == ex2
    rng1, rng2 = np.random.default_rng(0), np.random.default_rng(0)
    a1 = ContKukanovRouter(n_samples=300).route(p1, laws1, rng1)
    a2 = ContKukanovRouter(n_samples=300).route(p2, laws2, rng2)
    assert a1 == a2


def test_inputs_by_hand_on_the_last_row(md: MarketData) -> None:
    cfg = load_config()
    t = md.first_ts + 20 * 60 * NS
    p, laws, excluded = build_routing_problem(md, t, 500, -1, config=cfg)
    for k, name in enumerate(p.venues):
        v = md[name].between(None, t)
        assert p.queues[k] == v["ask_sz_00"][-1]  # a sell rests on the ask
    bids = [md[n].between(None, t)["bid_px_00"][-1] for n in md.venue_names]
    asks = [md[n].between(None, t)["ask_px_00"][-1] for n in md.venue_names]
    assert p.half_spread == pytest.approx(max(0.0, (min(asks) - max(bids)) / 2))
    assert excluded == {}
    assert len(laws) == p.n_venues
    samples = outflow_samples(
        md[p.venues[0]].between(None, t),
        t,
        side=-1,
        lookback_ns=15 * 60 * NS,
        horizon_ns=5 * 60 * NS,
    )
    assert samples.size == 41  # 60 strides of 15 s, windows of 20 strides
    assert np.all(samples >= 0)


def test_venues_without_history_are_excluded_with_a_reason(
    md: MarketData, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = load_config()
    t = md.first_ts + 30 * NS  # 30 s in: two strides of look-back, too few windows
    with (
        caplog.at_level(logging.INFO, logger="myopic_sor"),
        pytest.raises(DataValidationError, match="no venue can be routed"),
    ):
        build_routing_problem(md, t, 500, 1, config=cfg, min_samples=5)
    assert "excluded" in caplog.text
    with pytest.raises(DataValidationError):
        build_routing_problem(md, md.first_ts - NS, 500, 1, config=cfg)


def test_favourable_rule_rolling_median() -> None:
    rule = FavourableRule(window=5, min_history=3)
    assert all(rule.check(c, half_spread=0.005, fee=0.003)[0] for c in (1.0, 2.0, 3.0))
    ok, why = rule.check(2.5, half_spread=0.005, fee=0.003)  # median 2.0: dearer -> skip
    assert not ok
    assert "rolling median" in why
    assert rule.check(1.5, half_spread=0.005, fee=0.003)[0]
    fresh = rule.fresh()
    assert fresh.check(100.0, half_spread=0.005, fee=0.003)[0]  # no history yet
    hs = FavourableRule(kind="half_spread_fee", tolerance=0.1)
    assert hs.check(0.0085, half_spread=0.005, fee=0.003)[0]
    assert not hs.check(0.0090, half_spread=0.005, fee=0.003)[0]
