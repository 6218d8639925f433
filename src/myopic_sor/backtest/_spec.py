"""The spec's backtest API: ``run_job_with_myopic``, ``compare_myopic_vs_traditional``,
``enhanced_backtest_with_myopic``, ``backtest`` and ``main``.

Semantics (the spec leaves them implicit; this is the reading implemented):

* the **parent order** is ``strategy_params['S']`` shares (a buy unless ``side='sell'``) of
  ``stock`` on ``day`` within ``[start_time, end_time]`` (market local time);
* ``strategy_params['T']`` (minutes) is the **router horizon**: limit orders rest that long,
  then their rest goes out as a market order (Cont & Kukanov's T);
* ``order_freq`` (seconds) is the decision clock of both approaches: the traditional one sends
  a child every ``order_freq`` seconds (skipping unfavourable slots, carrying them over); the
  myopic one re-solves every ``order_freq`` seconds and sends what its optimum says;
* ``lookup_duration`` (hours, minutes) is the look-back of the router's statistics and of the
  causal alpha forecast;
* ``data_path`` holds the venues' books in the spec's layout
  (``<data_path>/<STOCK>/<dataset>-<YYYYMMDD>.mbp-10.<ext>``); ``market_data_path``, when it
  differs, is read for the scheduler's market frame instead of ``data_path``.

λ for the myopic scheduler: ``myopic_params`` when given; otherwise estimated **causally**
(the spec's ``estimate_lambda`` + selection rule) on the same day's data before the window
when at least ``_MIN_HISTORY_S`` of it exists, else on the previous day in ``data_path``,
else ``lambda_estimation.fallback_lambda`` with a warning. ``lambda_source`` says which.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from myopic_sor._typing import PathLike, SideLiteral
from myopic_sor.alpha import OFIRegressionAlpha, ZeroAlpha
from myopic_sor.analysis import MyopicAnalyzer
from myopic_sor.backtest._engine import Backtester
from myopic_sor.backtest._parent import BacktestResult, ParentOrder, parse_side
from myopic_sor.backtest._strategies import MyopicStrategy, TraditionalStrategy
from myopic_sor.config import MyopicSorConfig, load_config
from myopic_sor.data import MarketData, load_market_data
from myopic_sor.data._layout import discover
from myopic_sor.exceptions import ConvergenceWarning, MyopicSorError
from myopic_sor.features import spec_frame
from myopic_sor.impact import estimate_lambda_periods, select_lambda
from myopic_sor.scheduling import MyopicParameters, MyopicScheduler

__all__ = [
    "backtest",
    "causal_lambda",
    "compare_myopic_vs_traditional",
    "enhanced_backtest_with_myopic",
    "main",
    "run_job_with_myopic",
]

logger = logging.getLogger(__name__)

_MIN_HISTORY_S = 900.0  # 15 min of same-day history before the window to estimate λ on it
TimeLike = tuple[str, str] | str | dt.time


def _config(
    strategy_params: Mapping[str, Any] | None,
    order_freq: float,
    start_time: TimeLike,
    end_time: TimeLike,
    lookup_duration: tuple[int, int],
    config: MyopicSorConfig | None,
) -> MyopicSorConfig:
    base = config if config is not None else load_config()
    data = base.model_dump(mode="json")
    data["strategy"].update(dict(strategy_params or {}))
    data["execution"].update(
        {
            "order_freq": order_freq,
            "start_time": start_time,
            "end_time": end_time,
            "lookup_duration": list(lookup_duration),
        }
    )
    return MyopicSorConfig.model_validate(data)


def _load(root: PathLike, stock: str, day: str | dt.date) -> MarketData:
    path = Path(root)
    if (path / stock).is_dir():
        path = path / stock
    return load_market_data(path, symbol=stock, day=day)


def _previous_day(root: PathLike, stock: str, day: dt.date) -> MarketData | None:
    path = Path(root) / stock if (Path(root) / stock).is_dir() else Path(root)
    try:
        days = sorted({f.date for f in discover(path) if f.date < day})
    except MyopicSorError:
        return None
    return _load(root, stock, days[-1]) if days else None


def causal_lambda(
    md: MarketData,
    t0: int,
    cfg: MyopicSorConfig,
    root: PathLike | None = None,
) -> tuple[float, str]:
    """Estimate λ from data before ``t0`` only; return (λ, where it came from).

    The same day's data before ``t0`` when at least 15 minutes of it exist; else the latest
    earlier day of the symbol under ``root`` (the spec layout); else
    ``lambda_estimation.fallback_lambda`` with a :class:`ConvergenceWarning`. The estimate is
    the spec's ``estimate_lambda`` per period with its selection rule (σ and ADV from
    ``cfg.myopic``).
    """
    first = md.first_ts
    history: MarketData | None = None
    source = ""
    if (t0 - first) / 1e9 >= _MIN_HISTORY_S:
        history, source = md.between(None, t0 - 1), f"same day before the window ({md.date})"
    elif root is not None:
        prev = _previous_day(root, md.symbol, md.date)
        if prev is not None:
            history, source = prev, f"previous day {prev.date}"
    if history is None:
        lam = cfg.lambda_estimation.fallback_lambda
        warnings.warn(
            f"no history before the window to estimate λ for {md.symbol} {md.date} (need "
            f"{_MIN_HISTORY_S / 60:.0f} min before the start or a previous day in the data "
            f"path); using lambda_estimation.fallback_lambda = {lam:g}",
            ConvergenceWarning,
            stacklevel=3,
        )
        return lam, "fallback_lambda (no history)"
    df = spec_frame(history, volatility=cfg.myopic.volatility, adv=cfg.myopic.adv)
    est = estimate_lambda_periods(df, config=cfg.lambda_estimation)
    lam, label, _ = select_lambda(est, cfg.lambda_estimation)
    return lam, f"{source}, period {label}"


def _spec_results(
    res: BacktestResult, *, myopic: bool, lam: float, extra: dict[str, Any]
) -> dict[str, Any]:
    m = res.metrics
    trades = []
    for d in res.decisions:
        row = {k: v for k, v in d.items() if k not in ("order_ids",)}
        trades.append(row)
    out: dict[str, Any] = {
        "total_cost": m["total_cost"],
        "total_size": m["total_size"],
        "avg_cost_per_share": m["avg_cost_per_share"],
        "num_decisions": m["num_decisions"],
        "myopic_enabled": myopic,
        "lambda_used": lam,
        "results": trades,
        "metrics": dict(m),
        "fills": res.fills,
        "strategy": res.strategy,
        "parent": {
            "symbol": res.parent.symbol,
            "side": res.parent.side_name,
            "quantity": res.parent.quantity,
            "start": pd.Timestamp(res.parent.start_ns, tz="UTC").isoformat(),
            "end": pd.Timestamp(res.parent.end_ns, tz="UTC").isoformat(),
        },
        "info": dict(res.info),
    }
    out.update(extra)
    return out


class _Job:
    """Shared inputs of one stock-day: config, data, parent, engine (one frame for all)."""

    def __init__(
        self,
        stock: str,
        day: str | dt.date,
        strategy_params: Mapping[str, Any] | None,
        data_path: PathLike,
        order_freq: float,
        start_time: TimeLike,
        end_time: TimeLike,
        lookup_duration: tuple[int, int],
        market_data_path: PathLike | None,
        *,
        side: SideLiteral | int,
        config: MyopicSorConfig | None,
        seed: int | None,
        engine_options: Mapping[str, Any] | None,
    ) -> None:
        self.cfg = _config(
            strategy_params, order_freq, start_time, end_time, lookup_duration, config
        )
        self.data_path = data_path
        self.md = _load(data_path, stock, day)
        ex = self.cfg.execution
        t0, t1 = self.md.session_bounds_ns(ex.start_time, ex.end_time)
        self.parent = ParentOrder(stock, parse_side(side), self.cfg.strategy.S, t0, t1)
        opts = dict(engine_options or {})
        self.engine = Backtester(
            self.md, self.cfg, seed=seed if seed is not None else self.cfg.seed, **opts
        )
        if market_data_path is not None and Path(market_data_path) != Path(data_path):
            other = _load(market_data_path, stock, day)
            self.engine._frame = spec_frame(
                other, volatility=self.cfg.myopic.volatility, adv=self.cfg.myopic.adv
            )

    def traditional(self) -> dict[str, Any]:
        strat = TraditionalStrategy(self.cfg.execution.order_freq)
        res = self.engine.run(self.parent, strat)
        return _spec_results(res, myopic=False, lam=float("nan"), extra={})

    def myopic(self, params: MyopicParameters | None, *, alpha: str) -> dict[str, Any]:
        cfg = self.cfg
        if params is None:
            lam, source = causal_lambda(self.md, self.parent.start_ns, cfg, self.data_path)
            params = dataclasses.replace(MyopicParameters.from_config(cfg.myopic), lambda_value=lam)
        else:
            source = "myopic_params"
        forecaster = (
            OFIRegressionAlpha(lookback_s=cfg.execution.lookup_duration_s)
            if alpha == "ofi"
            else ZeroAlpha()
        )
        scheduler = MyopicScheduler(
            params,
            risk=cfg.risk,
            alpha=forecaster,
            lambda_config=cfg.lambda_estimation,
            eval_every_s=cfg.execution.order_freq,
        )
        res = self.engine.run(self.parent, MyopicStrategy(scheduler))
        return _spec_results(
            res,
            myopic=True,
            lam=params.lambda_value,
            extra={
                "lambda_source": source,
                "myopic_params": {
                    "lambda_value": params.lambda_value,
                    "beta": params.beta,
                    "volatility": params.volatility,
                    "adv": params.adv,
                    "T": params.T,
                },
                "alpha": type(forecaster).__name__,
            },
        )


def run_job_with_myopic(
    stock: str,
    day: str | dt.date,
    strategy_params: Mapping[str, Any] | None = None,
    data_path: PathLike = "./data/",
    order_freq: float = 120,
    start_time: TimeLike = ("09", "30"),
    end_time: TimeLike = ("16", "00"),
    lookup_duration: tuple[int, int] = (0, 15),
    market_data_path: PathLike | None = None,
    use_myopic: bool = True,
    *,
    myopic_params: MyopicParameters | None = None,
    side: SideLiteral = "buy",
    alpha: str = "ofi",
    config: MyopicSorConfig | None = None,
    seed: int | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Backtest one stock-day with the myopic scheduler (or the traditional clock).

    Parameters
    ----------
    stock : str
        Symbol (the folder under ``data_path``).
    day : str or date
        Trading day, ``YYYY-MM-DD``.
    strategy_params : dict, optional
        The spec's router parameters (``S``, ``T``, ``f``, ``r``, ``theta``, ``lambda_u``,
        ``lambda_o``, ``N``); missing keys take the config's values.
    data_path : path
        Root of the spec layout.
    order_freq : float
        Seconds between decisions.
    start_time, end_time : ("HH", "MM"), "HH:MM" or time
        Execution window, market local time.
    lookup_duration : (hours, minutes)
        Look-back of the router statistics and the alpha forecast.
    market_data_path : path, optional
        Root read for the scheduler's market frame when different from ``data_path``.
    use_myopic : bool, default True
        False runs the traditional fixed-frequency approach.
    myopic_params : MyopicParameters, optional
        Fixed parameters (else λ is estimated causally; see the module notes).
    side : {"buy", "sell"}, default "buy"
    alpha : {"ofi", "zero"}, default "ofi"
        The myopic scheduler's forecaster (causal OFI regression, or none).
    config : MyopicSorConfig, optional
        Base configuration (risk limits, venues, fees, seed...); the arguments above override.
    seed : int, optional
        Seed of the router's samples (default ``config.seed``).
    engine_options : dict, optional
        Extra :class:`~myopic_sor.backtest.Backtester` settings (``queue_model``,
        ``latency_us``, ``outflow_kind``, ``router``, ``exchange``).

    Returns
    -------
    (str, dict)
        The stock and the results: ``total_cost``, ``total_size``, ``avg_cost_per_share``,
        ``num_decisions``, ``myopic_enabled``, ``lambda_used``, ``results`` (one record per
        decision: time, shares, market/limit split per venue, expected cost, reason), plus
        ``metrics``, ``fills``, ``parent``, ``info``; for the myopic run ``lambda_source``,
        and ``fallback_reason`` when the myopic path failed and the traditional one ran.

    Notes
    -----
    If the myopic path raises, the traditional approach runs instead; the error is logged
    and recorded in ``fallback_reason`` (``myopic_enabled`` is then False).
    """
    job = _Job(
        stock,
        day,
        strategy_params,
        data_path,
        order_freq,
        start_time,
        end_time,
        lookup_duration,
        market_data_path,
        side=side,
        config=config,
        seed=seed,
        engine_options=engine_options,
    )
    if not use_myopic:
        return stock, job.traditional()
    try:
        return stock, job.myopic(myopic_params, alpha=alpha)
    except _MYOPIC_FAILURES as exc:  # the spec's fail-safe: fall back to the traditional path
        logger.error("myopic scheduling failed for %s %s: %s; falling back", stock, day, exc)
        out = job.traditional()
        out["fallback_reason"] = f"{type(exc).__name__}: {exc}"
        return stock, out


# What the myopic path may fail with and the traditional path still answer: the library's
# own errors (infeasible schedule, bad data, no convergence) and numerical ones. A programming
# error (NameError, TypeError, ...) is not a market condition: it propagates instead of being
# hidden behind a fallback.
_MYOPIC_FAILURES = (MyopicSorError, ValueError, ArithmeticError)


def _improvement(myo: Mapping[str, Any], trad: Mapping[str, Any], side: int) -> dict[str, float]:
    # the per-share figures are the analyzer's (one formula for reports and comparisons);
    # positive = myopic cheaper, for buys and sells alike
    perf = MyopicAnalyzer().analyze_schedule_performance(myo, trad)
    return {
        "cost_improvement_pct": perf["cost_improvement_pct"],
        "avg_cost_difference": perf["cost_difference"],
        "total_cost_difference": side * (float(trad["total_cost"]) - float(myo["total_cost"])),
        "shortfall_improvement_bps": perf["shortfall_improvement_bps"],
        "decisions_difference": float(myo["num_decisions"]) - float(trad["num_decisions"]),
    }


def compare_myopic_vs_traditional(
    stock: str,
    day: str | dt.date,
    strategy_params: Mapping[str, Any] | None = None,
    data_path: PathLike = "./data/",
    order_freq: float = 120,
    start_time: TimeLike = ("09", "30"),
    end_time: TimeLike = ("16", "00"),
    lookup_duration: tuple[int, int] = (0, 15),
    market_data_path: PathLike | None = None,
    *,
    myopic_params: MyopicParameters | None = None,
    side: SideLiteral = "buy",
    alpha: str = "ofi",
    config: MyopicSorConfig | None = None,
    seed: int | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the myopic and the traditional approach on the same parent, data and seed.

    Returns
    -------
    dict
        ``myopic`` and ``traditional`` (the results of :func:`run_job_with_myopic`),
        ``improvement`` (``cost_improvement_pct``: ``s (c_trad − c_myopic)/c_trad · 100`` on
        the all-in average price, positive when myopic is cheaper for either side;
        ``avg_cost_difference`` currency per share; ``total_cost_difference``;
        ``shortfall_improvement_bps``; ``decisions_difference``), ``stock`` and
        ``comparison_date`` (the trading day, ISO).
    """
    job = _Job(
        stock,
        day,
        strategy_params,
        data_path,
        order_freq,
        start_time,
        end_time,
        lookup_duration,
        market_data_path,
        side=side,
        config=config,
        seed=seed,
        engine_options=engine_options,
    )
    trad = job.traditional()
    try:
        myo = job.myopic(myopic_params, alpha=alpha)
    except _MYOPIC_FAILURES as exc:  # the spec's fail-safe
        logger.error("myopic scheduling failed for %s %s: %s; falling back", stock, day, exc)
        myo = dict(trad)
        myo["fallback_reason"] = f"{type(exc).__name__}: {exc}"
    return {
        "myopic": myo,
        "traditional": trad,
        "improvement": _improvement(myo, trad, job.parent.side),
        "stock": stock,
        "comparison_date": str(job.md.date),
    }


def enhanced_backtest_with_myopic(
    stock: str | None = None,
    day: str | dt.date | None = None,
    strategy_params: Mapping[str, Any] | None = None,
    data_path: PathLike = "./data/",
    order_freq: float = 120,
    start_time: TimeLike = ("09", "30"),
    end_time: TimeLike = ("16", "00"),
    lookup_duration: tuple[int, int] = (0, 15),
    market_data_path: PathLike | None = None,
    *,
    myopic_params: MyopicParameters | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The myopic backtest of one stock-day; the results dict of :func:`run_job_with_myopic`.

    Unlike :func:`run_job_with_myopic` it does not fall back: errors propagate, so the spec's
    ``try: enhanced_backtest_with_myopic(...) except: backtest(...)`` pattern works.
    ``stock`` and ``day`` default to the configuration's ``data.stock`` / ``data.day``, else
    the embedded default (AAPL, 2025-04-02) as for :func:`main`, since the spec's parameter
    optimisation calls it with ``myopic_params=`` only.
    """
    config = kwargs.pop("config", None)
    base = config if config is not None else load_config()
    if stock is None or day is None:
        stock = stock or base.data.stock or _DEFAULT_STOCK
        day = day or base.data.day or _DEFAULT_DAY
        _ensure_default_data(Path(data_path), stock, str(day))
    job = _Job(
        stock,
        day,
        strategy_params,
        data_path,
        order_freq,
        start_time,
        end_time,
        lookup_duration,
        market_data_path,
        side=kwargs.pop("side", "buy"),
        config=base,
        seed=kwargs.pop("seed", None),
        engine_options=kwargs.pop("engine_options", None),
    )
    alpha = kwargs.pop("alpha", "ofi")
    if kwargs:
        raise TypeError(f"unexpected argument(s): {', '.join(sorted(kwargs))}")
    return job.myopic(myopic_params, alpha=alpha)


def backtest(
    stock: str,
    day: str | dt.date,
    strategy_params: Mapping[str, Any] | None = None,
    data_path: PathLike = "./data/",
    order_freq: float = 120,
    start_time: TimeLike = ("09", "30"),
    end_time: TimeLike = ("16", "00"),
    lookup_duration: tuple[int, int] = (0, 15),
    market_data_path: PathLike | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The traditional fixed-frequency backtest of one stock-day (the spec's original path)."""
    return run_job_with_myopic(
        stock,
        day,
        strategy_params,
        data_path,
        order_freq,
        start_time,
        end_time,
        lookup_duration,
        market_data_path,
        use_myopic=False,
        **kwargs,
    )[1]


def main(
    config: MyopicSorConfig | None = None,
    *,
    data_path: PathLike | None = None,
    stocks: list[str] | None = None,
    days: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the myopic-vs-traditional comparison with the defaults, as the spec's ``main()``.

    Parameters
    ----------
    config : MyopicSorConfig, optional
        Default :func:`~myopic_sor.config.load_config` (``strategy``, ``execution``,
        ``data.stock``/``data.day``/``data.data_path`` when set).
    data_path : path, optional
        Root of the spec layout; default ``config.data.data_path`` or ``./data``.
    stocks, days : list of str, optional
        Default the configured stock and day, else the embedded synthetic default (AAPL,
        2025-04-02).

    Returns
    -------
    dict
        ``{"<STOCK>_<YYYY-MM-DD>": comparison}`` (see :func:`compare_myopic_vs_traditional`).

    Notes
    -----
    When the layout has no file for a requested stock-day and that stock-day is the embedded
    default, the synthetic default day (fixed seed) is generated into the layout first and
    the fact is logged; real data are never invented.
    """
    cfg = config if config is not None else load_config()
    root = Path(data_path or cfg.data.data_path or "./data")
    stocks = stocks or [cfg.data.stock or _DEFAULT_STOCK]
    days = days or [str(cfg.data.day or _DEFAULT_DAY)]
    ex, st = cfg.execution, cfg.strategy
    out: dict[str, dict[str, Any]] = {}
    for stock in stocks:
        for day in days:
            _ensure_default_data(root, stock, day)
            out[f"{stock}_{day}"] = compare_myopic_vs_traditional(
                stock,
                day,
                st.model_dump(),
                root,
                ex.order_freq,
                ex.start_time,
                ex.end_time,
                ex.lookup_duration,
                config=cfg,
            )
    return out


_DEFAULT_STOCK = "AAPL"
_DEFAULT_DAY = "2025-04-02"


def _ensure_default_data(root: Path, stock: str, day: str) -> None:
    from myopic_sor.data import SyntheticConfig, SyntheticMarket

    folder = root / stock
    stamp = day.replace("-", "")
    if folder.is_dir() and any(stamp in p.name for p in folder.glob("*.mbp-10.*")):
        return
    if (stock, day) != (_DEFAULT_STOCK, _DEFAULT_DAY):
        return  # loading then fails with a clear "no file" error naming the layout
    logger.info(
        "no data for %s %s under %s: generating the synthetic default day", stock, day, root
    )
    market = SyntheticMarket(SyntheticConfig())  # the fixed default seed
    market.generate()
    market.write(root)
