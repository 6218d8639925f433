"""The backtest engine: one parent, every strategy, causal decisions, catch-up, the spec API."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pytest

from myopic_sor.analysis import arrival_mid
from myopic_sor.backtest import (
    Backtester,
    MyopicStrategy,
    ParentOrder,
    compare_myopic_vs_traditional,
    compare_strategies,
    run_job_with_myopic,
)
from myopic_sor.config import load_config
from myopic_sor.data import MarketData, SyntheticConfig, SyntheticMarket
from myopic_sor.exceptions import ConfigError
from myopic_sor.features import spec_frame
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler

NS = 1_000_000_000
PARAMS = MyopicParameters(lambda_value=800.0, beta=4.0, volatility=0.01, adv=1e6)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    market = SyntheticMarket(SyntheticConfig(session_end=dt.time(10, 15)), seed=3)
    market.generate()
    market.write(root)
    return root


@pytest.fixture(scope="module")
def md(layout: Path) -> MarketData:
    from myopic_sor.data import load_market_data

    return load_market_data(layout / "AAPL")


def _parent(md: MarketData, qty: int = 3000, side: int = 1) -> ParentOrder:
    t0, t1 = md.session_bounds_ns(dt.time(9, 50), dt.time(10, 5))
    return ParentOrder("AAPL", side, qty, t0, t1)


def _cfg(**sets: object) -> object:
    over = ["execution.order_freq=60", "execution.lookup_duration=[0, 10]", "strategy.T=2"]
    over += [f"{k}={v}" for k, v in sets.items()]
    return load_config(overrides=over)


@pytest.mark.parametrize("side", [1, -1])
def test_every_strategy_completes_the_same_parent(md: MarketData, side: int) -> None:
    cfg = _cfg()
    parent = _parent(md, side=side)
    eng = Backtester(md, cfg, seed=1)
    names = [
        "myopic-zero",
        "traditional",
        "twap",
        "twap:market",
        "twap:passive",
        "ow",
        "almgren_chriss",
        "vwap",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the OFI forecaster's early fallbacks
        res = compare_strategies(
            eng, parent, names, PARAMS, mid_price=arrival_mid(md, parent.start_ns)
        )
    assert list(res) == names
    for name, r in res.items():
        m = r.metrics
        sent = sum(d["quantity"] for d in r.decisions)
        assert sent == side * 3000, name  # the children sum to the parent
        # exactly the parent: unfilled shares caught up at the end, never an overfill
        assert m["total_size"] == 3000, name
        assert m["overfill_shares"] == 0, name
        f = r.fills
        assert int(f["size"].sum()) == 3000, name  # shares conserved: every fill counted once
        cash = float((f["price"] * f["size"]).sum() + side * f["fee"].sum())
        assert m["total_cost"] == pytest.approx(cash, rel=1e-12), name  # cash conserved
        by_child = f[f["child"] >= 0].groupby("child")["size"].sum()
        sizes = {k: abs(d["quantity"]) for k, d in enumerate(r.decisions)}
        # a child never gets more than its size plus what it over-posted within the parent's room
        assert all(by_child.index.isin([k for k, q in sizes.items() if q > 0])), name
        assert set(r.fills["side"]) == {"buy" if side > 0 else "sell"}
        assert (r.fills["ts_event"] >= parent.start_ns).all()
        assert np.isfinite(m["implementation_shortfall_bps"])
        assert m["num_decisions"] <= len(r.decisions)
    assert res["twap:market"].metrics["passive_share"] == 0.0
    assert res["twap:passive"].metrics["fees"] <= res["twap:market"].metrics["fees"]


def test_engine_myopic_decisions_equal_the_scheduler_on_causal_data(md: MarketData) -> None:
    cfg = _cfg()
    parent = _parent(md)
    eng = Backtester(md, cfg, seed=1)
    sched = MyopicScheduler(PARAMS, risk=cfg.risk, eval_every_s=60)
    res = eng.run(parent, MyopicStrategy(sched))
    batch = MyopicScheduler(PARAMS, risk=cfg.risk, eval_every_s=60).generate_trading_schedule(
        eng.frame, 3000, 15, start=parent.start_ns
    )
    assert [d["quantity"] for d in res.decisions] == [d["optimal_quantity"] for d in batch]


def test_decisions_before_t_do_not_depend_on_data_after_t(md: MarketData) -> None:
    cfg = _cfg()
    parent = _parent(md)
    t_cut = parent.start_ns + 7 * 60 * NS
    full = Backtester(md, cfg, seed=2).run(
        parent, MyopicStrategy(MyopicScheduler(PARAMS, eval_every_s=60))
    )
    cut = Backtester(md.between(None, t_cut), cfg, seed=2).run(
        parent, MyopicStrategy(MyopicScheduler(PARAMS, eval_every_s=60))
    )
    keys = ("quantity", "market", "limit", "venues", "expected_cost")
    early_full = [{k: d.get(k) for k in keys} for d in full.decisions if d["ts_ns"] <= t_cut]
    early_cut = [{k: d.get(k) for k in keys} for d in cut.decisions if d["ts_ns"] <= t_cut]
    assert early_full == early_cut
    assert len(early_full) >= 7


def test_spec_api_run_and_compare(layout: Path) -> None:
    sp = {"S": 2000, "T": 2, "f": 0.003, "r": [0.002], "lambda_u": 0.05, "lambda_o": 0.05, "N": 300}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock, res = run_job_with_myopic(
            stock="AAPL",
            day="2025-04-02",
            strategy_params=sp,
            data_path=str(layout),
            order_freq=60,
            start_time=("09", "50"),
            end_time=("10", "05"),
            lookup_duration=(0, 10),
            market_data_path=str(layout),
            use_myopic=True,
        )
        comparison = compare_myopic_vs_traditional(
            stock="AAPL",
            day="2025-04-02",
            strategy_params=sp,
            data_path=str(layout),
            order_freq=60,
            start_time=("09", "50"),
            end_time=("10", "05"),
            lookup_duration=(0, 10),
            market_data_path=str(layout),
        )
    assert stock == "AAPL"
    for key in (
        "total_cost",
        "total_size",
        "avg_cost_per_share",
        "num_decisions",
        "myopic_enabled",
        "lambda_used",
        "results",
    ):
        assert key in res
    assert res["myopic_enabled"] is True
    assert res["total_size"] == 2000
    assert res["lambda_used"] > 0
    assert set(comparison) >= {"myopic", "traditional", "improvement", "stock", "comparison_date"}
    imp = comparison["improvement"]
    a = comparison["myopic"]["avg_cost_per_share"]
    b = comparison["traditional"]["avg_cost_per_share"]
    assert imp["cost_improvement_pct"] == pytest.approx((b - a) / b * 100)
    assert comparison["comparison_date"] == "2025-04-02"


def test_spec_api_falls_back_to_traditional_when_myopic_fails(layout: Path) -> None:
    cfg = load_config(overrides=["risk.max_order_size=1", "risk.min_order_size=1"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, res = run_job_with_myopic(
            "AAPL",
            "2025-04-02",
            {"S": 2000, "N": 200},
            str(layout),
            60,
            ("09", "50"),
            ("10", "05"),
            (0, 10),
            None,
            True,
            config=cfg,
        )
    assert res["myopic_enabled"] is False
    assert "InfeasibleScheduleError" in res["fallback_reason"]
    assert res["total_size"] == 2000


def test_spec_api_does_not_hide_a_programming_error(
    layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a bug is not a market condition: it surfaces instead of a quiet traditional fallback
    from myopic_sor.backtest import _spec

    def broken(self: object, params: object, *, alpha: str) -> None:
        raise NameError("name 'undefined_helper' is not defined")

    monkeypatch.setattr(_spec._Job, "myopic", broken)
    args = ("AAPL", "2025-04-02", {"S": 500}, str(layout), 60, ("09", "50"), ("10", "05"))
    with pytest.raises(NameError, match="undefined_helper"):
        run_job_with_myopic(*args, (0, 10), None, True)
    with pytest.raises(NameError, match="undefined_helper"):
        compare_myopic_vs_traditional(*args, (0, 10))


def test_parent_order_checks() -> None:
    with pytest.raises(ConfigError, match="whole number of shares"):
        ParentOrder("X", 1, 0, 0, 10)
    with pytest.raises(ConfigError, match="window is empty"):
        ParentOrder("X", "buy", 10, 10, 10)
    with pytest.raises(ConfigError, match="side"):
        ParentOrder("X", "hold", 10, 0, 10)  # type: ignore[arg-type]
    assert ParentOrder("X", "sell", 10, 0, 10).signed_quantity == -10


def test_frame_is_shared_and_causal_views_are_cut(md: MarketData) -> None:
    eng = Backtester(md, _cfg())
    assert eng.frame is eng.frame
    assert len(eng.frame) == len(spec_frame(md, volatility=0.01, adv=1e6))


def test_a_parent_starting_at_the_open_routes_without_history(md: MarketData) -> None:
    # no event at 09:30:00 and no look-back after: the engine carries the first child, then
    # sends children at market until the router has history; the parent still completes
    cfg = _cfg()
    t0, t1 = md.session_bounds_ns(dt.time(9, 30), dt.time(9, 40))
    parent = ParentOrder("AAPL", 1, 2000, t0, t1)
    res = Backtester(md, cfg, seed=1).run(
        parent, MyopicStrategy(MyopicScheduler(PARAMS, eval_every_s=60))
    )
    assert res.metrics["total_size"] == 2000
    fallbacks = [d for d in res.decisions if "router_fallback" in d]
    assert fallbacks
    assert "no venue can be routed" in fallbacks[0]["router_fallback"]
    assert (
        res.decisions[0].get("routed", 0) == 0
        or res.decisions[0]["router_method"] == "market_fallback"
    )
