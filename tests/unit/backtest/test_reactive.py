"""The engine on the reactive synthetic market: causal views of the day being made, conservation,
the ground-truth impact metrics, and the diagnostics that only make sense on one market."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from myopic_sor.backtest import Backtester, ParentOrder, compare_strategies
from myopic_sor.backtest._strategies import DecisionView
from myopic_sor.config import load_config
from myopic_sor.data import SyntheticConfig, SyntheticMarket
from myopic_sor.exceptions import ConfigError
from myopic_sor.routing import MarketOnlyRouter
from myopic_sor.scheduling import MyopicParameters
from myopic_sor.simulation import EventRecorder, SyntheticExchange

NS = 1_000_000_000
SYN = SyntheticConfig(session_end=dt.time(9, 45), seed=11)
PARAMS = MyopicParameters(
    lambda_value=SYN.impact_lambda,
    beta=SYN.beta_per_s * 3600,
    volatility=SYN.sigma_daily,
    adv=SYN.adv_shares,
)


def _cfg() -> Any:
    return load_config(
        overrides=["execution.order_freq=60", "execution.lookup_duration=[0, 5]", "strategy.T=1"]
    )


def _parent(qty: int = 3000, side: int = 1) -> ParentOrder:
    t0 = SYN.session_bounds_ns()[0] + 5 * 60 * NS
    return ParentOrder(SYN.symbol, side, qty, t0, t0 + 8 * 60 * NS)


def test_recorder_views_are_causal_and_never_change() -> None:
    mkt = SyntheticMarket(SYN)
    rec = EventRecorder(mkt)
    t1 = mkt.session_start_ns + 30 * NS
    rec.append(mkt.advance_to(t1))
    early = rec.view(mkt.session_start_ns + 10 * NS)
    frozen = {v.venue: v["bid_px_00"].copy() for v in early}
    n_early = early.n_events
    for k in range(2, 30):  # enough rows to re-allocate the buffers several times
        rec.append(mkt.advance_to(mkt.session_start_ns + k * 30 * NS))
    assert rec.n_events > 4 * (1 << 14)
    assert early.n_events == n_early
    for v in early:
        np.testing.assert_array_equal(v["bid_px_00"], frozen[v.venue])
        assert int(v.ts_event[-1]) <= mkt.session_start_ns + 10 * NS
    later = rec.view(mkt.session_start_ns + 10 * NS)
    for v in later:
        np.testing.assert_array_equal(v["bid_px_00"], frozen[v.venue])
    with pytest.raises(ValueError, match="read-only"):
        next(iter(early))["bid_px_00"][0] = 0.0


def test_recorded_day_equals_the_generated_day_without_orders() -> None:
    cfg = SyntheticConfig(session_end=dt.time(9, 33), seed=4)
    generated = SyntheticMarket(cfg).generate()
    ex = SyntheticExchange(SyntheticMarket(cfg), record=True)
    for k in range(1, 19):
        ex.advance_to(ex.market.session_start_ns + k * 10 * NS)
    recorded = ex.market_data()
    for name in generated.venue_names:
        g, r = generated[name], recorded[name]
        assert sorted(g.columns) == sorted(r.columns)
        for col in g.columns:
            np.testing.assert_array_equal(g[col], r[col], err_msg=f"{name}.{col}")


def test_market_data_needs_record() -> None:
    ex = SyntheticExchange(SyntheticMarket(SYN))
    with pytest.raises(ConfigError, match="record=True"):
        ex.market_data()


class _Spy:
    """Sends a fixed child at fixed times and records what each view holds."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, int]] = []

    def begin(self, t0: int, t1: int, quantity: int, view: DecisionView) -> Any:
        self.n = 4
        return np.linspace(t0, t1 - 60 * NS, self.n).astype(np.int64)

    def decide(self, view: DecisionView) -> tuple[int, dict[str, Any]]:
        n_frame = 0 if view.frame is None else len(view.frame)
        self.seen.append((view.t_ns, view.market_data.last_ts, n_frame))
        return 500, {"reason": "spy"}


def test_views_end_at_the_decision_and_include_our_own_trades() -> None:
    spy = _Spy()
    res = Backtester(SYN, _cfg(), router=MarketOnlyRouter()).run(_parent(2000), spy)
    assert len(spy.seen) == 4
    for t, last, n_frame in spy.seen:
        assert last <= t
        assert n_frame > 0
    m = res.metrics
    assert m["total_size"] == 2000
    assert m["overfill_shares"] == 0
    assert res.info["market"] == "reactive synthetic"
    # our market orders moved the market: its impact state rose by λ_s q per share bought
    assert m["impact_self_true"] > 0
    assert m["impact_self_true"] == pytest.approx(m["impact_self_model"], rel=1e-9)


@pytest.mark.parametrize("side", [1, -1])
def test_every_strategy_completes_the_parent_on_the_reactive_market(side: int) -> None:
    names = ["myopic-zero", "traditional", "twap:passive", "myopic-true:market"]
    res = compare_strategies(
        Backtester(SYN, _cfg()), _parent(3000, side), names, PARAMS, mid_price=SYN.initial_price
    )
    for name, r in res.items():
        f = r.fills
        assert int(f["size"].sum()) == 3000, name
        # cash = Σ price · size + fees for a buy (− fees from a sell's proceeds)
        cash = float((f["price"] * f["size"]).sum() + side * f["fee"].sum())
        assert r.metrics["total_cost"] == pytest.approx(cash, rel=1e-12), name
    # limit orders rested in the synthetic queues and some filled there
    passive = res["twap:passive"].fills
    assert (passive["liquidity"].astype(str) == "maker").any()
    assert res["myopic-true:market"].info["latent_state"] is True


def test_same_seed_same_run() -> None:
    a = compare_strategies(
        Backtester(SYN, _cfg()), _parent(), ["myopic-zero"], PARAMS, mid_price=220.0
    )
    b = compare_strategies(
        Backtester(SYN, _cfg()), _parent(), ["myopic-zero"], PARAMS, mid_price=220.0
    )
    fa, fb = a["myopic-zero"].fills, b["myopic-zero"].fills
    assert fa[["ts_event", "price", "size"]].equals(fb[["ts_event", "price", "size"]])


def test_diagnostics_are_refused_on_the_wrong_market() -> None:
    with pytest.raises(ConfigError, match="myopic-true"):
        compare_strategies(
            Backtester(SYN, _cfg()), _parent(), ["myopic-oracle"], PARAMS, mid_price=220.0
        )
    md = SyntheticMarket(SyntheticConfig(session_end=dt.time(9, 45), seed=2)).generate()
    with pytest.raises(ConfigError, match="reactive"):
        compare_strategies(
            Backtester(md, _cfg()), _parent(), ["myopic-true"], PARAMS, mid_price=220.0
        )
    with pytest.raises(ConfigError, match="MarketData"):
        Backtester("not data", _cfg())  # type: ignore[arg-type]
