"""MyopicAnalyzer, create_lambda_comparison_plot and MultiObjectiveOptimizer on the spec's
own mock dictionaries (missing keys must not break them)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from myopic_analysis_utils import (
    MultiObjectiveOptimizer,
    MyopicAnalyzer,
    create_lambda_comparison_plot,
)

MOCK = {
    "AAPL_2025-04-02": {
        "myopic": {"avg_cost_per_share": 234.45, "num_decisions": 25, "lambda_used": 18450},
        "traditional": {"avg_cost_per_share": 234.60, "num_decisions": 30},
        "improvement": {"cost_improvement_pct": 0.64},
        "stock": "AAPL",
        "comparison_date": "2025-04-02",
    },
    "MSFT_2025-04-02": {
        "myopic": {"avg_cost_per_share": 410.00, "num_decisions": 20},
        "traditional": {"avg_cost_per_share": 410.50, "num_decisions": 30},
        "improvement": {"cost_improvement_pct": 0.12},
        "stock": "MSFT",
        "comparison_date": "2025-04-02",
    },
}


def test_report_from_the_spec_mock(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report.txt"
    report = MyopicAnalyzer().generate_performance_report(MOCK, output_path=out)
    assert out.read_text() == report
    assert "AAPL_2025-04-02" in report
    assert "234.4500" in report
    assert "18,450" in report
    mean, sd = np.mean([0.64, 0.12]), np.std([0.64, 0.12], ddof=1)
    assert f"mean {mean:,.4f} %" in report
    assert f"t-stat {mean / (sd / math.sqrt(2)):,.2f}" in report


def test_report_tolerates_missing_keys() -> None:
    report = MyopicAnalyzer().generate_performance_report({"X": {"myopic": {}}})
    assert "n/a" in report
    assert "no comparison with a cost improvement" in report


def test_schedule_performance_signs() -> None:
    perf = MyopicAnalyzer().analyze_schedule_performance(
        MOCK["AAPL_2025-04-02"]["myopic"], MOCK["AAPL_2025-04-02"]["traditional"]
    )
    assert perf["cost_difference"] == pytest.approx(0.15)
    assert perf["cost_improvement_pct"] == pytest.approx(0.15 / 234.60 * 100)
    assert perf["decision_reduction_pct"] == pytest.approx(100 * 5 / 30)
    assert math.isnan(perf["shortfall_improvement_bps"])
    sell = MyopicAnalyzer().analyze_schedule_performance(
        {"avg_cost_per_share": 10.1, "parent": {"side": "sell"}}, {"avg_cost_per_share": 10.0}
    )
    assert sell["cost_difference"] == pytest.approx(0.1)  # selling higher is better


def test_lambda_comparison_plot_from_the_spec_example(tmp_path: Path) -> None:
    data = {
        "10s": {
            "final_pnl": 1.99,
            "mean_pnl": 1.01,
            "std_pnl": 0.72,
            "sharpe": 1.40,
            "lambda": 8580,
        },
        "30s": {
            "final_pnl": 2.80,
            "mean_pnl": 1.42,
            "std_pnl": 1.02,
            "sharpe": 1.40,
            "lambda": 6103,
        },
    }
    df = pd.DataFrame.from_dict(data, orient="index")
    path = tmp_path / "lambda_analysis.png"
    fig = create_lambda_comparison_plot(df, save_path=path)
    assert isinstance(fig, Figure)
    assert path.stat().st_size > 1000
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["final_pnl", "mean_pnl", "std_pnl", "sharpe", "lambda"]


def test_schedule_visualization_and_sensitivity(tmp_path: Path) -> None:
    ts = pd.date_range("2025-04-02 14:00", periods=5, freq="1min", tz="UTC")
    results = {
        "strategy": "myopic",
        "lambda_used": 800.0,
        "results": [
            {"timestamp": t, "quantity": q, "mid_price": 100 + i * 0.01, "price_impact": 0.001 * i}
            for i, (t, q) in enumerate(zip(ts, [300, 100, 0, 100, 500], strict=True))
        ],
    }
    fig = MyopicAnalyzer().create_schedule_visualization(results, save_path=tmp_path / "s.png")
    assert "1,000 shares" in fig._suptitle.get_text()
    assert (tmp_path / "s.png").exists()
    empty = MyopicAnalyzer().create_schedule_visualization({"results": []})
    assert isinstance(empty, Figure)
    table = MyopicAnalyzer().parameter_sensitivity_analysis(
        {10_000.0: {"avg_cost_per_share": 1.0, "metrics": {"fill_rate": 1.0}}},
        np.array([10_000.0, 20_000.0]),
    )
    assert table["avg_cost_per_share"].tolist()[0] == 1.0
    assert table["fill_rate"].tolist()[0] == 1.0
    assert math.isnan(table["avg_cost_per_share"].tolist()[1])


def test_multi_objective_score() -> None:
    opt = MultiObjectiveOptimizer()
    full = {"avg_cost_per_share": 1.0, "cost_volatility": 1.0, "timing_efficiency": 0.5}
    assert opt.calculate_composite_score(full) == pytest.approx(0.5 * 0.5 + 0.3 * 0.5 + 0.2 * 0.5)
    part = opt.calculate_composite_score({"avg_cost_per_share": 1.0})
    assert part == pytest.approx(0.5 * 1.0)  # the cost component renormalised to the full weight
    assert opt.last_missing == ["cost_volatility", "timing_efficiency"]
    ranked = opt.rank({"a": full, "b": {**full, "avg_cost_per_share": 0.0}})
    assert ranked["candidate"].tolist() == ["b", "a"]
    with pytest.raises(ValueError, match="weights"):
        MultiObjectiveOptimizer({"cost": -1.0})
