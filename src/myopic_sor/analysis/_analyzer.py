"""The spec's analysis API: ``MyopicAnalyzer``, ``create_lambda_comparison_plot``,
``MultiObjectiveOptimizer``.

Everything accepts the plain dictionaries the spec's examples build (the results of
:func:`~myopic_sor.backtest.run_job_with_myopic` and
:func:`~myopic_sor.backtest.compare_myopic_vs_traditional`, or hand-written mock-ups with only
some keys): a missing figure shows as "n/a" or NaN, never as an exception. Plots use
matplotlib's object API (no pyplot state, no window): they return the figure and save it when
given a path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from myopic_sor._io import atomic_write_with
from myopic_sor._typing import PathLike

__all__ = ["MultiObjectiveOptimizer", "MyopicAnalyzer", "create_lambda_comparison_plot"]


def _num(d: Mapping[str, Any] | None, key: str) -> float:
    """``d[key]`` as a float, NaN when missing or not a number."""
    if not d or key not in d or d[key] is None:
        return math.nan
    try:
        return float(d[key])
    except (TypeError, ValueError):
        return math.nan


def _metric(res: Mapping[str, Any] | None, key: str) -> float:
    """A figure from the top level of a results dict, else from its ``metrics``."""
    v = _num(res, key)
    if math.isnan(v) and res and isinstance(res.get("metrics"), Mapping):
        v = _num(res["metrics"], key)
    return v


def _fmt(v: float, nd: int = 4) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:,.{nd}f}"


def _save(fig: Figure, save_path: PathLike | None) -> None:
    if save_path is not None:
        path = Path(save_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = path.suffix.lstrip(".") or "png"
        atomic_write_with(path, lambda p: fig.savefig(p, format=fmt, dpi=120))


class MyopicAnalyzer:
    """Compare, plot and report myopic vs traditional execution results."""

    def analyze_schedule_performance(
        self, myopic_results: Mapping[str, Any], traditional_results: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Compare the two approaches' figures.

        Returns
        -------
        dict
            ``myopic_avg_cost``, ``traditional_avg_cost``, ``cost_difference`` (traditional
            − myopic: positive when myopic paid less per share on a buy), ``cost_improvement_pct``,
            ``myopic_decisions``, ``traditional_decisions``, ``decision_reduction_pct``,
            ``fill_rate_myopic``/``fill_rate_traditional``, ``shortfall_bps_myopic`` /
            ``shortfall_bps_traditional`` and ``shortfall_improvement_bps`` (NaN where the
            inputs lack the figure), and ``lambda_used``.
        """
        a, b = (
            _metric(myopic_results, "avg_cost_per_share"),
            _metric(traditional_results, "avg_cost_per_share"),
        )
        da, db = (
            _metric(myopic_results, "num_decisions"),
            _metric(traditional_results, "num_decisions"),
        )
        side = (
            -1.0 if str((myopic_results.get("parent") or {}).get("side", "buy")) == "sell" else 1.0
        )
        isa = _metric(myopic_results, "implementation_shortfall_bps")
        isb = _metric(traditional_results, "implementation_shortfall_bps")
        return {
            "myopic_avg_cost": a,
            "traditional_avg_cost": b,
            "cost_difference": side * (b - a),
            "cost_improvement_pct": side * (b - a) / abs(b) * 100.0 if b else math.nan,
            "myopic_decisions": da,
            "traditional_decisions": db,
            "decision_reduction_pct": (db - da) / db * 100.0 if db else math.nan,
            "fill_rate_myopic": _metric(myopic_results, "fill_rate"),
            "fill_rate_traditional": _metric(traditional_results, "fill_rate"),
            "shortfall_bps_myopic": isa,
            "shortfall_bps_traditional": isb,
            "shortfall_improvement_bps": isb - isa,
            "lambda_used": _num(myopic_results, "lambda_used"),
        }

    def create_schedule_visualization(
        self, results: Mapping[str, Any], save_path: PathLike | None = None
    ) -> Figure:
        """Plot a run's decisions: child sizes over time with the mid price, cumulative
        shares, and the modelled impact and alpha when the decisions carry them.

        ``results`` is a results dict with ``results`` (the decisions: ``timestamp``,
        ``quantity`` or ``optimal_quantity``, optionally ``mid_price``, ``price_impact``,
        ``alpha``). Returns the figure; saves it to ``save_path`` when given.
        """
        rows = list(results.get("results") or [])
        fig = Figure(figsize=(10, 7))
        axes = fig.subplots(3, 1, sharex=True)
        title = str(results.get("strategy", "schedule"))
        if not rows:
            axes[0].text(0.5, 0.5, "no decisions", ha="center", va="center")
            fig.suptitle(title)
            _save(fig, save_path)
            return fig
        df = pd.DataFrame(rows)
        when = pd.to_datetime(df["timestamp"]) if "timestamp" in df else pd.RangeIndex(len(df))
        qty_col = "quantity" if "quantity" in df else "optimal_quantity"
        qty = pd.to_numeric(df.get(qty_col, pd.Series(np.zeros(len(df)))), errors="coerce")
        width = 0.0006 if isinstance(when, pd.Series) else 0.8
        axes[0].bar(when, qty, width=width, color="tab:blue", label="child (shares)")
        axes[0].set_ylabel("shares")
        if "mid_price" in df and pd.to_numeric(df["mid_price"], errors="coerce").notna().any():
            twin = axes[0].twinx()
            twin.plot(when, pd.to_numeric(df["mid_price"], errors="coerce"), color="black", lw=1)
            twin.set_ylabel("mid")
        axes[1].plot(when, qty.fillna(0).cumsum(), color="tab:green")
        axes[1].set_ylabel("cumulative shares")
        drew = False
        for col, colour in (("price_impact", "tab:red"), ("alpha", "tab:purple")):
            if col in df and pd.to_numeric(df[col], errors="coerce").notna().any():
                axes[2].plot(when, pd.to_numeric(df[col], errors="coerce"), color=colour, label=col)
                drew = True
        if drew:
            axes[2].legend(loc="best")
        axes[2].set_ylabel("price units")
        lam = _num(results, "lambda_used")
        fig.suptitle(f"{title}: {int(qty.abs().sum()):,} shares, λ = {_fmt(lam, 0)}")
        _save(fig, save_path)
        return fig

    def generate_performance_report(
        self, comparison_results: Mapping[str, Any], output_path: PathLike | None = None
    ) -> str:
        """A text report over comparisons keyed by ``"<STOCK>_<DATE>"``.

        Each item is a :func:`~myopic_sor.backtest.compare_myopic_vs_traditional` result (or
        a dict with some of its keys). The report lists per item the approaches' average cost,
        decisions and improvement, then the mean, standard deviation and t-statistic of the
        improvement across items, and the data, parameters and seed each item states. A
        look-ahead diagnostic, when an item declares one, is labelled. Written atomically to
        ``output_path`` when given.
        """
        lines = ["MYOPIC vs TRADITIONAL EXECUTION — PERFORMANCE REPORT", "=" * 60]
        improvements: list[float] = []
        for key, comp in comparison_results.items():
            myo = comp.get("myopic") or {}
            trad = comp.get("traditional") or {}
            perf = self.analyze_schedule_performance(myo, trad)
            imp = _num(comp.get("improvement"), "cost_improvement_pct")
            if math.isnan(imp):
                imp = perf["cost_improvement_pct"]
            if math.isfinite(imp):
                improvements.append(imp)
            lines += [
                "",
                f"{key} (stock {comp.get('stock', 'n/a')}, "
                f"day {comp.get('comparison_date', 'n/a')})",
                f"  myopic      avg cost/share {_fmt(perf['myopic_avg_cost'])}  "
                f"decisions {_fmt(perf['myopic_decisions'], 0)}  λ {_fmt(perf['lambda_used'], 0)}",
                f"  traditional avg cost/share {_fmt(perf['traditional_avg_cost'])}  "
                f"decisions {_fmt(perf['traditional_decisions'], 0)}",
                f"  cost improvement {_fmt(imp, 4)} %   shortfall improvement "
                f"{_fmt(perf['shortfall_improvement_bps'], 2)} bps",
            ]
            info = myo.get("info") if isinstance(myo.get("info"), Mapping) else None
            if info:
                lines.append(
                    f"  data {info.get('symbol', '?')} {info.get('date', '?')} venues "
                    f"{', '.join(info.get('venues', []))}; seed {info.get('seed')}; router "
                    f"{info.get('router')}; queue model {info.get('queue_model')}"
                )
            if myo.get("lambda_source"):
                lines.append(f"  λ source: {myo['lambda_source']}")
            if myo.get("fallback_reason"):
                lines.append(f"  MYOPIC FELL BACK TO TRADITIONAL: {myo['fallback_reason']}")
            if (info or {}).get("lookahead") or myo.get("lookahead"):
                lines.append("  LOOK-AHEAD DIAGNOSTIC: uses the realised future, not achievable")
        lines += ["", "-" * 60]
        n = len(improvements)
        if n:
            arr = np.asarray(improvements)
            mean = float(arr.mean())
            sd = float(arr.std(ddof=1)) if n > 1 else math.nan
            t = mean / (sd / math.sqrt(n)) if n > 1 and sd > 0 else math.nan
            lines.append(
                f"{n} comparison(s): cost improvement mean {_fmt(mean)} %, std {_fmt(sd)} %, "
                f"t-stat {_fmt(t, 2)}"
            )
        else:
            lines.append("no comparison with a cost improvement")
        report = "\n".join(lines) + "\n"
        if output_path is not None:
            path = Path(output_path)
            path.parent.mkdir(parents=True, exist_ok=True)

            def write(p: Path) -> None:
                p.write_text(report, encoding="utf-8")

            atomic_write_with(path, write)
        return report

    def parameter_sensitivity_analysis(
        self, sensitivity_results: Mapping[Any, Mapping[str, Any]], param_values: Sequence[Any]
    ) -> pd.DataFrame:
        """Tabulate results by parameter value (e.g. λ): one row per value in ``param_values``.

        Columns: ``param_value``, ``avg_cost_per_share``, ``total_cost``, ``total_size``,
        ``num_decisions``, ``implementation_shortfall_bps``, ``fill_rate`` (NaN where a value
        has no result or the result lacks the figure).
        """
        keys = (
            "avg_cost_per_share",
            "total_cost",
            "total_size",
            "num_decisions",
            "implementation_shortfall_bps",
            "fill_rate",
        )
        rows = []
        for v in param_values:
            res = sensitivity_results.get(v)
            if res is None:
                # numpy floats and Python floats of the same value are different dict keys
                res = next((r for k, r in sensitivity_results.items() if k == v), None)
            rows.append({"param_value": v, **{k: _metric(res, k) for k in keys}})
        return pd.DataFrame(rows)


def create_lambda_comparison_plot(
    lambda_stats_df: pd.DataFrame, save_path: PathLike | None = None
) -> Figure:
    """Bar charts of each statistic of ``lambda_stats_df`` by aggregation period.

    ``lambda_stats_df`` has one row per period (index ``'10s'``, ``'30s'``...) and numeric
    columns such as ``final_pnl``, ``mean_pnl``, ``std_pnl``, ``sharpe``, ``lambda``; every
    numeric column gets a panel. Returns the figure; saves it when given a path.
    """
    df = lambda_stats_df.select_dtypes(include="number")
    cols = list(df.columns) or ["(no numeric column)"]
    ncol = min(len(cols), 3)
    nrow = math.ceil(len(cols) / ncol)
    fig = Figure(figsize=(4 * ncol, 3 * nrow))
    axes = np.atleast_1d(fig.subplots(nrow, ncol)).ravel()
    labels = [str(i) for i in df.index]
    for ax, col in zip(axes, cols, strict=False):
        if col in df:
            ax.bar(labels, df[col].to_numpy(dtype=float), color="tab:blue")
        ax.set_title(col)
        ax.tick_params(axis="x", rotation=45)
    for ax in axes[len(cols) :]:
        ax.set_visible(False)
    fig.suptitle("λ by aggregation period")
    fig.tight_layout()
    _save(fig, save_path)
    return fig


class MultiObjectiveOptimizer:
    """The spec's weighted composite score of a results dict.

    ``score = w_cost / (1 + avg_cost_per_share) + w_risk / (1 + cost_volatility)
    + w_timing · timing_efficiency`` (the spec's formula). A component whose figure is
    missing is left out and the remaining weights are renormalised; ``last_missing`` lists
    what was left out of the last score.
    """

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self.weights = dict(weights or {"cost": 0.5, "risk": 0.3, "timing": 0.2})
        bad = [k for k, w in self.weights.items() if not (math.isfinite(w) and w >= 0)]
        if bad:
            raise ValueError(f"weights must be finite and >= 0: {', '.join(bad)}")
        self.last_missing: list[str] = []

    def calculate_composite_score(self, results: Mapping[str, Any]) -> float:
        """Weighted composite score (higher is better); NaN when every figure is missing."""
        parts: dict[str, tuple[str, Callable[[float], float]]] = {
            "cost": ("avg_cost_per_share", lambda v: 1.0 / (1.0 + v)),
            "risk": ("cost_volatility", lambda v: 1.0 / (1.0 + v)),
            "timing": ("timing_efficiency", lambda v: v),
        }
        total = weight = 0.0
        self.last_missing = []
        for name, (key, f) in parts.items():
            w = self.weights.get(name, 0.0)
            v = _metric(results, key)
            if math.isnan(v):
                self.last_missing.append(key)
                continue
            total += w * f(v)
            weight += w
        return total / weight * sum(self.weights.get(k, 0.0) for k in parts) if weight else math.nan

    def rank(self, candidates: Mapping[Any, Mapping[str, Any]]) -> pd.DataFrame:
        """Score each candidate (e.g. results by λ); sorted best first."""
        rows = [
            {"candidate": k, "score": self.calculate_composite_score(r)}
            for k, r in candidates.items()
        ]
        return pd.DataFrame(rows).sort_values("score", ascending=False, ignore_index=True)
