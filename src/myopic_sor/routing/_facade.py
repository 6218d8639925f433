"""The spec's SOR facade: ``execute_optimization`` on per-venue DataFrames.

The spec's existing system hands the router a dictionary of venue DataFrames (Databento MBP-10
columns, one frame per venue) and a target time. :func:`market_data_from_frames` turns them into
the canonical :class:`~myopic_sor.data.MarketData`; :func:`execute_optimization` builds the
routing problem from data up to the target time only and solves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from myopic_sor._rng import as_generator
from myopic_sor._typing import SeedLike
from myopic_sor.config import MyopicSorConfig, load_config
from myopic_sor.data import MarketData, VenueData
from myopic_sor.data._schema import EVENT_COLUMNS, OPTIONAL_COLUMNS
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.routing._base import Allocation
from myopic_sor.routing._cont_kukanov import ContKukanovRouter, RouterMethod
from myopic_sor.routing._inputs import build_routing_problem

__all__ = ["execute_optimization", "market_data_from_frames", "to_ns"]

_NS = 1_000_000_000


def to_ns(value: Any) -> int:
    """A timestamp as int64 UTC ns: an int (ns), a pandas/ISO timestamp (naive = UTC)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def _column(df: pd.DataFrame, name: str, where: str) -> np.ndarray:
    col = df[name]
    if name in ("ts_event", "ts_recv"):
        if pd.api.types.is_datetime64_any_dtype(col):
            idx = pd.DatetimeIndex(col)
            idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
            return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)
        return col.to_numpy(dtype=np.int64)
    if name in ("action", "side"):
        if pd.api.types.is_integer_dtype(col):
            return col.to_numpy(dtype=np.uint8)
        text = col.astype(str)
        bad = text.str.len() != 1
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            msg = f"{where}: column {name!r} row {row} is {text.iloc[row]!r}, not one letter"
            raise DataValidationError(msg)
        return np.frombuffer("".join(text).encode("ascii"), dtype=np.uint8).copy()
    return col.to_numpy()


def market_data_from_frames(
    dfs: Mapping[str, pd.DataFrame], *, symbol: str | None = None, date: dt.date | None = None
) -> MarketData:
    """Build a :class:`MarketData` from one DataFrame per venue (Databento MBP-10 columns).

    Parameters
    ----------
    dfs : mapping of str to DataFrame
        Venue name → its events: ``ts_event`` (datetime or int ns), ``ts_recv`` (optional,
        defaults to ``ts_event``), ``action``, ``side`` (letters or ASCII codes), ``price``,
        ``size`` and the book columns ``bid_px_00``... (as :meth:`VenueData.to_pandas` gives).
        Other columns (``venue``, ``symbol``, ``rtype``...) are ignored.
    symbol, date : optional
        Default: the frames' ``symbol`` column, the first event's UTC date.
    """
    if not dfs:
        raise DataValidationError("dfs is empty: give one DataFrame per venue")
    venues: dict[str, VenueData] = {}
    sym = symbol
    for name, df in dfs.items():
        where = f"dfs[{name!r}]"
        if "ts_event" not in df.columns:
            raise DataValidationError(f"{where}: missing column 'ts_event'")
        frame = df if "ts_recv" in df.columns else df.assign(ts_recv=df["ts_event"])
        keep = [
            c
            for c in frame.columns
            if c in EVENT_COLUMNS or c in OPTIONAL_COLUMNS or c.startswith(("bid_", "ask_"))
        ]
        cols = {c: _column(frame, c, where) for c in keep}
        if sym is None and "symbol" in df.columns and len(df):
            sym = str(df["symbol"].iloc[0])
        venues[name.upper()] = VenueData(
            venue=name.upper(), symbol=sym or "UNKNOWN", columns=cols, source=where
        )
    first = min(int(v.ts_event[0]) for v in venues.values() if len(v))
    day = date or pd.Timestamp(first, tz="UTC").date()
    return MarketData(symbol=sym or "UNKNOWN", date=day, venues=venues)


def execute_optimization(
    dfs: Mapping[str, pd.DataFrame] | MarketData,
    target_time: Any,
    *,
    S: float,
    T: float = 5.0,
    f: float = 0.003,
    r: float | Sequence[float] = 0.003,
    theta: float = 0.0005,
    lambda_u: float = 0.05,
    lambda_o: float = 0.05,
    N: int = 1000,
    method: RouterMethod | str = "auto",
    stock: str | None = None,
    side: str = "buy",
    lookup_duration: tuple[int, int] = (0, 15),
    outflow_kind: str = "empirical",
    seed: SeedLike = None,
    config: MyopicSorConfig | None = None,
) -> tuple[Allocation, float]:
    """Route ``S`` shares at ``target_time`` with the Cont-Kukanov router (the spec's facade).

    Parameters
    ----------
    dfs : dict of DataFrame or MarketData
        Per-venue events (see :func:`market_data_from_frames`); only rows with
        ``ts_event <= target_time`` are read.
    target_time : int (ns), Timestamp or ISO string
        Decision time (naive = UTC).
    S, T, f, r, theta, lambda_u, lambda_o, N
        The spec's ``strategy_params``: size (shares), router horizon (minutes), taker fee and
        maker rebates (currency per share; one rebate or one per venue, in the order of
        ``dfs``), impact θ, under/overfill penalties, Monte Carlo samples.
    method : {"auto", "closed_form", "sa", "lp"}
        Solver (``auto``: closed form on one venue, else stochastic approximation).
    stock : str, optional
        Symbol (for messages).
    side : {"buy", "sell"}
    lookup_duration : (hours, minutes)
        Look-back of the outflow statistics.
    outflow_kind : {"empirical", "exponential", "kde"}
    seed : int or Generator, optional
        Seed of the outflow samples (default ``config.seed``).
    config : MyopicSorConfig, optional
        Base configuration (venue fees/rebates); the arguments above override it.

    Returns
    -------
    (Allocation, float)
        The allocation (market shares, limit shares per venue, p_underfill, method) and its
        expected cost (currency).
    """
    md = dfs if isinstance(dfs, MarketData) else market_data_from_frames(dfs, symbol=stock)
    rebates = [float(r)] if isinstance(r, int | float) else [float(v) for v in r]
    base = config if config is not None else load_config()
    data = base.model_dump(mode="json")
    data["strategy"].update(
        {"S": max(int(np.ceil(S)), 1), "T": T, "f": f, "r": rebates, "theta": theta,
         "lambda_u": lambda_u, "lambda_o": lambda_o, "N": N}
    )  # fmt: skip
    data["execution"]["lookup_duration"] = list(lookup_duration)
    data["venues"] = []  # the venues are the frames'; rebates map onto them in order
    data["risk"]["position_limit"] = max(data["risk"]["position_limit"], int(np.ceil(S)))
    cfg = MyopicSorConfig.model_validate(data)
    side_sign = {"buy": 1, "sell": -1}.get(str(side).lower())
    if side_sign is None:
        raise ConfigError(f"side={side!r}: use 'buy' or 'sell'")
    if method not in ("auto", "closed_form", "sa", "lp"):
        raise ConfigError(f"method={method!r}: use auto, closed_form, sa or lp")
    t = to_ns(target_time)
    problem, laws, excluded = build_routing_problem(
        md,
        t,
        float(S),
        side_sign,
        config=cfg,
        outflow_kind=outflow_kind,  # type: ignore[arg-type]
    )
    router = ContKukanovRouter(n_samples=N, method=method)
    alloc = router.route(problem, laws, as_generator(cfg.seed if seed is None else seed))
    alloc.info["excluded_venues"] = excluded
    return alloc, alloc.expected_cost
