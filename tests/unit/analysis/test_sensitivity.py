"""Parameter sensitivity: one key swept over one parent order, and its plot."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from myopic_sor.analysis import plot_sensitivity, sensitivity_analysis
from myopic_sor.analysis._sensitivity import resolve_param, sensitivity_keys, sweep_configs
from myopic_sor.backtest import ParentOrder
from myopic_sor.config import MyopicSorConfig, load_config
from myopic_sor.data import MarketData, SyntheticConfig, SyntheticMarket
from myopic_sor.exceptions import ConfigError

LAMBDAS = [1_000.0, 25_000.0, 200_000.0]


@pytest.fixture(scope="module")
def md() -> MarketData:
    return SyntheticMarket(SyntheticConfig(session_end=dt.time(10, 0)), seed=4).generate()


@pytest.fixture(scope="module")
def cfg() -> MyopicSorConfig:
    return load_config(
        overrides=[
            "execution.order_freq=60",
            "strategy.N=200",
            "strategy.T=2",
            "execution.start_time=09:50",
            "execution.end_time=09:56",
        ]
    )


@pytest.fixture(scope="module")
def parent(md: MarketData, cfg: MyopicSorConfig) -> ParentOrder:
    t0, t1 = md.session_bounds_ns(cfg.execution.start_time, cfg.execution.end_time)
    return ParentOrder("AAPL", "buy", 1200, t0, t1)


@pytest.fixture(scope="module")
def lambda_table(md: MarketData, parent: ParentOrder, cfg: MyopicSorConfig) -> pd.DataFrame:
    return sensitivity_analysis(
        md, parent, "lambda", LAMBDAS, strategies=["myopic-zero", "traditional"], config=cfg, seed=3
    )


def test_lambda_sweep_fixes_lambda_and_prices_impact_higher(lambda_table: pd.DataFrame) -> None:
    t = lambda_table
    assert len(t) == len(LAMBDAS) * 2  # one row per value × strategy, value-major
    assert list(t["strategy"]) == ["myopic-zero", "traditional"] * len(LAMBDAS)
    assert list(t["value"]) == [v for v in LAMBDAS for _ in range(2)]
    assert set(t["param"]) == {"myopic.lambda_value"}
    # λ is the swept value itself, said to be fixed, never an estimate
    assert (t["lambda"] == t["value"]).all()
    assert t["lambda_fixed"].all()
    assert t["lambda_source"].str.contains("not estimated").all()
    myo = t[t["strategy"] == "myopic-zero"]
    trad = t[t["strategy"] == "traditional"]
    # the scheduler's modelled impact cost grows with λ; the traditional clock ignores λ
    impact = myo["modelled_impact_cost"].to_numpy()
    assert np.all(np.diff(impact) > 0), impact
    assert trad["modelled_impact_cost"].isna().all()
    for col in ("avg_cost_per_share", "num_decisions"):
        assert (trad[col] == trad[col].iloc[0]).all(), col
    assert (t["total_size"] == 1200).all()
    assert (t["fill_rate"] == 1.0).all()
    # improvement against traditional at the same λ: the analyzer's formula, by hand
    for (_, m), (_, r) in zip(myo.iterrows(), trad.iterrows(), strict=True):
        expected = (
            (r["avg_cost_per_share"] - m["avg_cost_per_share"]) / r["avg_cost_per_share"] * 100.0
        )
        assert m["cost_improvement_pct"] == pytest.approx(expected)
        assert m["shortfall_improvement_bps"] == pytest.approx(
            r["implementation_shortfall_bps"] - m["implementation_shortfall_bps"]
        )
    assert trad["cost_improvement_pct"].isna().all()


def test_same_seed_same_table_and_lambda_estimated_otherwise(
    md: MarketData, parent: ParentOrder, cfg: MyopicSorConfig
) -> None:
    calls: list[tuple[int, int]] = []

    def sweep() -> pd.DataFrame:
        return sensitivity_analysis(
            md,
            parent,
            "order_freq",
            [60, 120],
            strategies=["traditional", "twap"],
            config=cfg,
            seed=11,
            progress=lambda done, total: calls.append((done, total)),
        )

    first = sweep()
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    pd.testing.assert_frame_equal(first, sweep())
    assert set(first["param"]) == {"execution.order_freq"}
    # the key reaches the engine: a 360 s window has 6 slots of 60 s and 3 of 120 s
    trad = first[first["strategy"] == "traditional"].set_index("value")
    assert trad.loc[60, "num_decisions"] == 6
    assert trad.loc[120, "num_decisions"] == 3
    # λ estimated causally, once, before the window (σ, ADV and the estimator are unchanged)
    assert not first["lambda_fixed"].any()
    assert (first["lambda"] == first["lambda"].iloc[0]).all()
    assert first["lambda_source"].str.startswith("same day before the window").all()
    assert (first["seed"] == 11).all()
    twap = first[first["strategy"] == "twap"]
    assert twap["cost_improvement_pct"].notna().all()


def test_keys_aliases_and_bad_inputs(
    md: MarketData, parent: ParentOrder, cfg: MyopicSorConfig
) -> None:
    keys = sensitivity_keys()
    assert {"myopic.lambda_value", "myopic.beta", "execution.order_freq", "strategy.T"} <= set(keys)
    assert not {"strategy.S", "execution.start_time", "seed"} & set(keys)
    assert resolve_param("order_freq") == "execution.order_freq"
    assert resolve_param("lambda") == "myopic.lambda_value"
    assert resolve_param(" myopic.beta ") == "myopic.beta"
    with pytest.raises(ConfigError, match=r"'myopic\.risk_aversion'.*myopic\.lambda_value"):
        resolve_param("myopic.risk_aversion")
    with pytest.raises(ConfigError, match=r"ambiguous.*myopic\.T or strategy\.T"):
        resolve_param("T")
    with pytest.raises(ConfigError, match=r"holds strategy\.S fixed"):
        resolve_param("strategy.S")
    with pytest.raises(ConfigError, match=r"sweep strategy\.T"):
        resolve_param("strategy.horizon_s")
    with pytest.raises(ConfigError, match=r"myopic\.beta=-1.*greater than 0"):
        sweep_configs(cfg, "beta", [1.0, -1])
    with pytest.raises(ConfigError, match="repeat"):
        sweep_configs(cfg, "beta", [1, 1.0])
    with pytest.raises(ConfigError, match="at least one"):
        sweep_configs(cfg, "beta", [])
    halves = sweep_configs(cfg, "myopic.half_life_hours", [0.5, 2.0])
    assert [c.myopic.beta for c in halves] == pytest.approx([2 * math.log(2), math.log(2) / 2])
    assert all(c.execution.order_freq == 60 for c in halves)  # the base config is kept
    # every value is checked before the first run
    calls: list[int] = []
    with pytest.raises(ConfigError, match=r"myopic\.beta"):
        sensitivity_analysis(
            md, parent, "beta", [1.0, 0.0], config=cfg, progress=lambda d, t: calls.append(d)
        )
    assert calls == []
    with pytest.raises(ConfigError, match="unknown strategy"):
        sensitivity_analysis(md, parent, "beta", [1.0], strategies=["magic"], config=cfg)


def test_plot_draws_one_curve_per_strategy(lambda_table: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "plots" / "lambda.png"
    fig = plot_sensitivity(lambda_table, "lambda", save_path=path)
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    assert top.get_legend_handles_labels()[1] == ["myopic-zero", "traditional"]
    assert bottom.get_legend_handles_labels()[1] == ["myopic-zero"]  # vs traditional
    np.testing.assert_allclose(top.get_lines()[0].get_xdata(), LAMBDAS)
    mine = lambda_table[lambda_table["strategy"] == "myopic-zero"]["avg_cost_per_share"]
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(), mine)
    assert "λ FIXED" in top.get_title()
    assert bottom.get_xscale() == "log"  # 1e3 .. 2e5
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match="metric"):
        plot_sensitivity(lambda_table, "lambda", metric="sharpe")
    with pytest.raises(ConfigError, match=r"no rows for myopic\.beta"):
        plot_sensitivity(lambda_table, "myopic.beta")


def test_plot_on_given_axes_with_list_values() -> None:
    rows = [
        {
            "param": "execution.lookup_duration",
            "value": value,
            "strategy": name,
            "avg_cost_per_share": cost,
            "cost_improvement_pct": math.nan,
            "lookahead": name == "myopic-oracle",
            "lambda_fixed": False,
            "lambda": 800.0,
            "lambda_source": "same day before the window",
        }
        for value, cost in (("[0, 5]", 10.0), ("[0, 10]", 11.0))
        for name in ("myopic-oracle", "twap")
    ]
    fig = Figure()
    ax = fig.subplots()
    assert plot_sensitivity(pd.DataFrame(rows), "lookup_duration", ax=ax) is fig
    assert [ln.get_label() for ln in ax.get_lines()] == ["myopic-oracle (LOOK-AHEAD)", "twap"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["[0, 5]", "[0, 10]"]
    assert "estimated causally: 800" in ax.get_title()
