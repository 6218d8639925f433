"""Parameter sensitivity: the same parent, data and seed under each value of one config key.

:func:`sensitivity_analysis` sets one dotted configuration key (``myopic.lambda_value``,
``myopic.beta``, ``execution.order_freq``, ``strategy.T``, ...) to each value in turn and runs
the chosen strategies through :func:`~myopic_sor.backtest.compare_strategies` (the engine the
``compare`` command uses) on the same parent order, data and seed; it returns a tidy table, one
row per value × strategy, built with
:meth:`~myopic_sor.analysis.MyopicAnalyzer.parameter_sensitivity_analysis`.
:func:`plot_sensitivity` draws the curves.

λ for the myopic schedules: when the swept key is ``myopic.lambda_value`` each run uses that
value **as given (fixed, not estimated)**; otherwise λ is estimated causally before the window
(:func:`~myopic_sor.backtest.causal_lambda`), as ``compare`` does. The table says which in
``lambda_fixed`` and ``lambda_source``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from myopic_sor._typing import PathLike
from myopic_sor.analysis._analyzer import MyopicAnalyzer, _save
from myopic_sor.exceptions import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from myopic_sor.backtest import ParentOrder
    from myopic_sor.config import MyopicSorConfig
    from myopic_sor.data import MarketData

__all__ = [
    "SENSITIVITY_METRICS",
    "lambda_note",
    "plot_sensitivity",
    "resolve_param",
    "sensitivity_analysis",
    "sensitivity_keys",
    "sweep_configs",
]

#: Sections whose keys change a comparison's result.
_SECTIONS: Final = ("strategy", "myopic", "execution", "lambda_estimation", "risk")
#: Keys held fixed by a sweep, with the reason (the parent, window and seed are the sweep's).
_FIXED: Final[dict[str, str]] = {
    "strategy.S": "the parent size is the parent order's quantity",
    "myopic.Q_0": "the scheduler does not use it",
    "execution.start_time": "the window is the parent order's",
    "execution.end_time": "the window is the parent order's",
    "execution.use_parallel": "it does not change a result",
    "execution.max_workers": "it does not change a result",
}
_ALIASES: Final[dict[str, str]] = {"lambda": "myopic.lambda_value", "λ": "myopic.lambda_value"}
#: Derived figures people reach for, and the key that sets them.
_DERIVED: Final[dict[str, str]] = {
    "strategy.horizon_s": "strategy.T (the router horizon, minutes)",
    "myopic.half_life_s": "myopic.half_life_hours",
    "myopic.beta_per_second": "myopic.beta (per hour)",
    "execution.window_s": "nothing: the window is the parent order's",
}
_LAMBDA_KEY: Final = "myopic.lambda_value"
#: Figures of each row (the analyzer's) plus the comparison with traditional.
SENSITIVITY_METRICS: Final = (
    "avg_cost_per_share",
    "implementation_shortfall_bps",
    "fill_rate",
    "num_decisions",
    "total_cost",
    "total_size",
    "cost_improvement_pct",
    "shortfall_improvement_bps",
    "modelled_impact_cost",
)
_REFERENCE: Final = "traditional"


def sensitivity_keys() -> list[str]:
    """The dotted configuration keys a sweep may vary, sorted.

    Every key of the ``strategy``, ``myopic``, ``execution``, ``lambda_estimation`` and
    ``risk`` sections except those the sweep holds fixed (the parent's size and window, and
    keys that do not change a result); ``myopic.half_life_hours`` is accepted for ``beta``.
    """
    from myopic_sor.config._models import SECTION_MODELS

    keys = {
        f"{section}.{field}"
        for section in _SECTIONS
        for field in SECTION_MODELS[section].accepted_keys()
    }
    return sorted(keys - set(_FIXED))


def resolve_param(param: str) -> str:
    """Return the full dotted key of ``param``.

    Accepts a dotted key (``"myopic.beta"``), a field name found in one section only
    (``"order_freq"`` → ``"execution.order_freq"``) or ``"lambda"`` (``myopic.lambda_value``).

    Raises
    ------
    ConfigError
        The key is unknown, ambiguous or held fixed by a sweep; the message names it and lists
        the valid keys.
    """
    from myopic_sor.config._models import suggest_key

    valid = sensitivity_keys()
    text = param.strip()
    key = _ALIASES.get(text, text)
    if key in valid:
        return key
    if key in _FIXED:
        msg = (
            f"sensitivity parameter {param!r}: a sweep holds {key} fixed ({_FIXED[key]}); "
            f"choose from: {', '.join(valid)}"
        )
        raise ConfigError(msg)
    if key in _DERIVED:
        msg = (
            f"sensitivity parameter {param!r} is derived, not a config key: sweep "
            f"{_DERIVED[key]}; choose from: {', '.join(valid)}"
        )
        raise ConfigError(msg)
    owners = [k for k in valid if k.rpartition(".")[2] == key]
    if len(owners) == 1:
        return owners[0]
    if owners:
        msg = f"sensitivity parameter {param!r} is ambiguous: write {' or '.join(owners)}"
        raise ConfigError(msg)
    guess = suggest_key(key, valid) or suggest_key(key, [k.rpartition(".")[2] for k in valid])
    hint = f" (did you mean {guess!r}?)" if guess else ""
    msg = f"unknown sensitivity parameter {param!r}{hint}; choose from: {', '.join(valid)}"
    raise ConfigError(msg)


def sweep_configs(
    config: MyopicSorConfig | None, param: str, values: Sequence[Any]
) -> list[MyopicSorConfig]:
    """One validated configuration per value: ``config`` with ``param`` set to it.

    Raises
    ------
    ConfigError
        An unknown key (see :func:`resolve_param`), no values, repeated values, or a value the
        key does not accept (the message names the key, the value and the constraint).
    """
    from myopic_sor.config import config_to_dict, load_config

    key = resolve_param(param)
    if not len(values):
        raise ConfigError(f"sensitivity values: give at least one value of {key}")
    base = config_to_dict(config if config is not None else load_config())
    out: list[MyopicSorConfig] = []
    seen: dict[str, Any] = {}
    section, _, field = key.partition(".")
    for v in values:
        try:
            # every section of the base (so later layers win), then the swept key on top
            cfg = load_config(overrides={**base, key: v})
        except ConfigError as exc:
            raise ConfigError(f"sensitivity value {key}={v!r} is not accepted: {exc}") from exc
        canon = repr(getattr(getattr(cfg, section), field))  # 1 and 1.0 are one value
        if canon in seen:
            msg = f"sensitivity values repeat {key}={seen[canon]!r} (as {v!r}); list each once"
            raise ConfigError(msg)
        seen[canon] = v
        out.append(cfg)
    return out


def _table_values(values: Sequence[Any]) -> pd.Series:
    """The ``value`` column: numbers as numbers, anything else (lists) as its text."""
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values):
        return pd.Series(list(values))
    return pd.Series([str(v) for v in values], dtype=object)


def sensitivity_analysis(
    market_data: MarketData,
    parent: ParentOrder,
    param: str,
    values: Sequence[Any],
    *,
    strategies: Sequence[str] = ("myopic", "traditional"),
    config: MyopicSorConfig | None = None,
    seed: int | None = None,
    queue_model: str = "risk-averse",
    latency_us: float = 0.0,
    data_root: PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run the comparison for each value of one configuration key; return the tidy table.

    Parameters
    ----------
    market_data : MarketData
        The day (every venue); the same for every value.
    parent : ParentOrder
        The parent order; the same for every value.
    param : str
        Dotted config key to vary (``"myopic.lambda_value"``, ``"myopic.beta"``,
        ``"execution.order_freq"``, ``"strategy.T"``, ...; see :func:`sensitivity_keys`), a
        field name found in one section only (``"order_freq"``) or ``"lambda"``.
    values : sequence
        The values, in the key's unit (validated like a ``--set``); distinct.
    strategies : sequence of str, default ("myopic", "traditional")
        Strategy names as :func:`~myopic_sor.backtest.parse_strategy` reads them.
    config : MyopicSorConfig, optional
        The base configuration (default :func:`~myopic_sor.config.load_config`).
    seed : int, optional
        Seed of the router's samples for every run (default ``config.seed``).
    queue_model : str, default "risk-averse"
        Queue model of the replay exchange.
    latency_us : float, default 0
        Order entry latency, microseconds.
    data_root : path, optional
        Spec layout searched for the previous day when λ is estimated and the day has less
        than 15 minutes before the window (see :func:`~myopic_sor.backtest.causal_lambda`).
    progress : callable, optional
        ``progress(done, total)`` after each value × strategy run.

    Returns
    -------
    pandas.DataFrame
        One row per value × strategy, values in the given order, strategies in the given
        order. Columns: ``param`` (the full key), ``value``, ``strategy``,
        ``avg_cost_per_share``, ``implementation_shortfall_bps``, ``fill_rate``,
        ``num_decisions``, ``total_cost``, ``total_size`` (the analyzer's figures);
        ``cost_improvement_pct`` and ``shortfall_improvement_bps`` against ``traditional`` at
        the same value (the analyzer's formula, positive when cheaper; NaN on traditional's own
        row or when it did not run); ``modelled_impact_cost`` (the myopic scheduler's modelled
        impact cost of its children, Σ q·I + ½λq², currency; NaN for other schedules);
        ``lambda``, ``lambda_source``, ``lambda_fixed`` (True when λ was set by the sweep, not
        estimated), ``beta_per_hour``, ``lookahead`` (a diagnostic using the future) and
        ``seed``.

    Raises
    ------
    ConfigError
        An unknown key or strategy, or a value the key does not accept (before any run).

    Examples
    --------
    >>> t = sensitivity_analysis(md, parent, "lambda", [1e3, 25e3, 2e5])  # doctest: +SKIP
    >>> t.pivot(index="value", columns="strategy", values="avg_cost_per_share")  # doctest: +SKIP
    """
    from myopic_sor.analysis._metrics import arrival_mid
    from myopic_sor.backtest import Backtester, compare_strategies
    from myopic_sor.backtest._compare import parse_strategy
    from myopic_sor.scheduling import MyopicParameters

    key = resolve_param(param)
    configs = sweep_configs(config, key, values)  # every value checked before the first run
    names = [parse_strategy(s).name for s in strategies]
    if not names:
        raise ConfigError("strategies: give at least one strategy name")
    if len(set(names)) != len(names):
        raise ConfigError(f"strategies repeat a name: {', '.join(names)}; list each once")
    p0 = arrival_mid(market_data, parent.start_ns)
    runs: dict[str, dict[int, dict[str, Any]]] = {n: {} for n in names}
    meta: list[dict[str, Any]] = []
    lambda_cache: dict[str, tuple[float, str]] = {}
    total, done = len(configs) * len(names), 0
    for i, cfg in enumerate(configs):
        base = MyopicParameters.from_config(cfg.myopic)
        fixed = key == _LAMBDA_KEY
        if fixed:
            lam, source = base.lambda_value, f"fixed by the sweep ({key}), not estimated"
        else:
            lam, source = _estimated_lambda(market_data, parent, cfg, data_root, lambda_cache)
        params = dataclasses.replace(base, lambda_value=lam)
        run_seed = seed if seed is not None else cfg.seed
        engine = Backtester(
            market_data, cfg, queue_model=queue_model, latency_us=latency_us, seed=run_seed
        )
        for name in names:  # one at a time for the progress; each run reseeds its own rng
            res = compare_strategies(engine, parent, [name], params, mid_price=p0)[name]
            row = dict(res.summary())
            row["lookahead"] = bool(res.info.get("lookahead", False))
            costs = [d["impact_cost"] for d in res.decisions if "impact_cost" in d]
            row["modelled_impact_cost"] = float(np.sum(costs)) if costs else math.nan
            row["parent"] = {"side": parent.side_name}
            runs[name][i] = row
            done += 1
            if progress is not None:
                progress(done, total)
        meta.append(
            {
                "lambda": lam,
                "lambda_source": source,
                "lambda_fixed": fixed,
                "beta_per_hour": params.beta,
                "seed": run_seed,
            }
        )
    return _tidy(key, values, names, runs, meta)


def _estimated_lambda(
    market_data: MarketData,
    parent: ParentOrder,
    cfg: MyopicSorConfig,
    data_root: PathLike | None,
    cache: dict[str, tuple[float, str]],
) -> tuple[float, str]:
    """The causal λ of ``compare``, computed once per distinct set of the inputs it reads."""
    from myopic_sor.backtest import causal_lambda

    tag = f"{cfg.myopic.volatility!r} {cfg.myopic.adv!r} {cfg.lambda_estimation.model_dump_json()}"
    if tag not in cache:
        cache[tag] = causal_lambda(market_data, parent.start_ns, cfg, data_root)
    return cache[tag]


def _tidy(
    key: str,
    values: Sequence[Any],
    names: Sequence[str],
    runs: dict[str, dict[int, dict[str, Any]]],
    meta: list[dict[str, Any]],
) -> pd.DataFrame:
    analyzer = MyopicAnalyzer()
    index = list(range(len(values)))  # positions as keys: list values are not hashable
    frames = []
    for name in names:
        part = analyzer.parameter_sensitivity_analysis(runs[name], index)
        part.insert(0, "strategy", name)
        ref = runs.get(_REFERENCE) if name != _REFERENCE else None
        imp = [
            analyzer.analyze_schedule_performance(runs[name][i], ref[i]) if ref else {}
            for i in index
        ]
        part["cost_improvement_pct"] = [d.get("cost_improvement_pct", math.nan) for d in imp]
        part["shortfall_improvement_bps"] = [
            d.get("shortfall_improvement_bps", math.nan) for d in imp
        ]
        part["modelled_impact_cost"] = [runs[name][i]["modelled_impact_cost"] for i in index]
        part["lookahead"] = [runs[name][i]["lookahead"] for i in index]
        for col in ("lambda", "lambda_source", "lambda_fixed", "beta_per_hour", "seed"):
            part[col] = [meta[i][col] for i in index]
        frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    order = {n: j for j, n in enumerate(names)}
    table["_rank"] = table["strategy"].map(order)
    table = table.sort_values(["param_value", "_rank"], kind="stable", ignore_index=True)
    table = table.drop(columns="_rank")
    table.insert(0, "value", _table_values(values).iloc[table["param_value"]].to_numpy())
    table.insert(0, "param", key)
    table = table.drop(columns="param_value")
    first = ["param", "value", "strategy", *SENSITIVITY_METRICS]
    return table[first + [c for c in table.columns if c not in first]]


def plot_sensitivity(
    df: pd.DataFrame,
    param: str,
    metric: str = "avg_cost_per_share",
    save_path: PathLike | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Draw ``metric`` against the values of ``param``, one curve per strategy.

    Parameters
    ----------
    df : pandas.DataFrame
        A :func:`sensitivity_analysis` table (several sweeps may be concatenated: the rows of
        ``param`` are drawn).
    param : str
        The swept key (or its short name, as :func:`resolve_param` reads it).
    metric : str, default "avg_cost_per_share"
        One of :data:`SENSITIVITY_METRICS`.
    save_path : path, optional
        Save the figure there (atomically; format from the suffix, default PNG).
    ax : matplotlib Axes, optional
        Draw the metric panel there; by default a new figure with the metric panel and, when
        traditional ran, a second panel of the cost improvement against it.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The title states how λ was set: fixed by the sweep (not estimated) when the key is
    ``myopic.lambda_value``, else the causal estimate. Look-ahead strategies are labelled.
    A positive numeric axis spanning two decades or more is drawn on a log scale.
    """
    key = resolve_param(param)
    if metric not in SENSITIVITY_METRICS:
        raise ConfigError(f"metric {metric!r}: choose from {', '.join(SENSITIVITY_METRICS)}")
    if "param" not in df or not (df["param"] == key).any():
        present = sorted(set(df["param"])) if "param" in df else []
        msg = f"no rows for {key} in the table (it holds: {', '.join(present) or 'nothing'})"
        raise ConfigError(msg)
    rows = df[df["param"] == key]
    values = list(dict.fromkeys(rows["value"]))
    numeric = all(isinstance(v, int | float | np.number) for v in values)
    xs = {v: (float(v) if numeric else float(j)) for j, v in enumerate(values)}
    show_imp = ax is None and bool(np.isfinite(rows["cost_improvement_pct"].astype(float)).any())
    if ax is None:
        fig = Figure(figsize=(8, 7 if show_imp else 4.5))
        axes = list(fig.subplots(2, 1, sharex=True)) if show_imp else [fig.subplots()]
    else:
        owner = ax.get_figure()
        if not isinstance(owner, Figure):
            raise ConfigError("ax must belong to a matplotlib Figure")
        fig, axes = owner, [ax]
    panels = [(axes[0], metric)] + ([(axes[1], "cost_improvement_pct")] if show_imp else [])
    for panel, col in panels:
        for j, (name, part) in enumerate(rows.groupby("strategy", sort=False)):
            y = part[col].astype(float).to_numpy()
            if not np.isfinite(y).any():
                continue
            label = f"{name} (LOOK-AHEAD)" if bool(part["lookahead"].any()) else str(name)
            xy = ([xs[v] for v in part["value"]], y)
            panel.plot(*xy, marker="o", label=label, color=f"C{j % 10}")  # same colour per panel
        imp = col == "cost_improvement_pct"
        panel.set_ylabel("cost improvement vs traditional %" if imp else col)
        panel.grid(visible=True, alpha=0.3)
        if panel.get_legend_handles_labels()[0]:
            panel.legend(loc="best", fontsize="small")
    if show_imp:
        axes[1].axhline(0.0, color="black", lw=0.8)
    bottom = axes[-1]
    if numeric and min(values) > 0 and max(values) / min(values) >= 100:
        bottom.set_xscale("log")
    if not numeric:
        bottom.set_xticks(list(xs.values()), [str(v) for v in values])
    bottom.set_xlabel(key)
    axes[0].set_title(f"{metric} vs {key}\n{lambda_note(rows)}", fontsize="medium")
    if ax is None:
        fig.tight_layout()
    _save(fig, save_path)
    return fig


def lambda_note(table: pd.DataFrame) -> str:
    """One line saying how λ was set in a sensitivity table (fixed per value or estimated)."""
    if bool(table["lambda_fixed"].all()):
        return "λ FIXED at each swept value (not estimated)"
    lams = sorted(set(table["lambda"].astype(float)))
    sources = sorted(set(table["lambda_source"]))
    shown = ", ".join(f"{v:.6g}" for v in lams[:4]) + (", ..." if len(lams) > 4 else "")
    return f"λ estimated causally: {shown} ({'; '.join(sources)})"
