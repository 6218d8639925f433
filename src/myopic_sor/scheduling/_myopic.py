r"""The myopic scheduler: receding-horizon re-solves of the OW problem with a forecast alpha.

At each evaluation time t (MATH.md §3, "Receding horizon"): the impact state of our own past
children is decayed exactly to t, the forecaster (fitted on data up to t only) gives the curve
α_t(s) on [t, T], the remaining quantity is re-solved on the remaining grid, and only the first
slot's quantity is sent, as integer shares, when it reaches ``min_order_size``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from myopic_sor._checks import require_positive
from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D
from myopic_sor.alpha import AlphaCurve, Forecaster, ZeroAlpha, causal_view
from myopic_sor.config import LambdaEstimationConfig, MyopicConfig, RiskConfig
from myopic_sor.data import MarketData
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact import (
    ImpactParams,
    InfeasibleScheduleError,
    constrained_schedule,
    estimate_lambda,
    optimal_schedule,
    price_impact_series,
    schedule_bounds,
)
from myopic_sor.impact._kernels import ow_impact_path
from myopic_sor.impact._optimal import constrained_schedule_linear, impact_constraint_matrix
from myopic_sor.scheduling._base import (
    ChildOrder,
    ScheduleResult,
    check_parent,
    check_window,
)

__all__ = [
    "MyopicParameters",
    "MyopicRun",
    "MyopicScheduler",
    "calculate_decision_risk",
    "risk_adjusted_myopic_schedule",
]

logger = logging.getLogger(__name__)

_NS = 1_000_000_000
_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class MyopicParameters:
    """Parameters of the myopic model, in the spec's units.

    Parameters
    ----------
    lambda_value : float
        Impact coefficient λ, currency per share per unit of normalised flow ``q σ / ADV``.
    beta : float
        Impact decay rate β **per hour** (the spec's unit; ``ln 2 / half_life_hours``, so the
        spec's 0.693 is a one-hour half-life). The model uses :attr:`beta_per_s`.
    volatility : float
        Daily return volatility σ (0.01 = 1 %).
    adv : float
        Average daily volume, shares per day.
    T : float, default 6.5
        Trading session length, hours.
    Q_0 : float, default 0.01
        The spec's initial position normalisation (fraction of ADV). Kept for compatibility;
        the scheduler takes the parent quantity explicitly and does not use it.

    Raises
    ------
    ConfigError
        Non-finite or non-positive λ, β, σ, ADV or T.

    Examples
    --------
    >>> p = MyopicParameters(lambda_value=25000.0, beta=0.693, volatility=0.01, adv=1e6)
    >>> round(p.beta_per_s * 3600, 3), p.to_impact_params().lambda_per_share
    (0.693, 0.00025)
    """

    lambda_value: float
    beta: float
    volatility: float
    adv: float
    T: float = 6.5
    Q_0: float = 0.01

    def __post_init__(self) -> None:
        for name in ("lambda_value", "beta", "volatility", "adv", "T"):
            object.__setattr__(
                self, name, require_positive(f"MyopicParameters.{name}", getattr(self, name))
            )
        if not math.isfinite(float(self.Q_0)):
            msg = f"MyopicParameters.Q_0 must be finite, got {self.Q_0!r}"
            raise ConfigError(msg)

    @property
    def beta_per_s(self) -> float:
        """β per second (``beta / 3600``), the unit used inside the models."""
        return self.beta / _SECONDS_PER_HOUR

    @property
    def session_s(self) -> float:
        """Session length, seconds."""
        return self.T * _SECONDS_PER_HOUR

    def to_impact_params(self) -> ImpactParams:
        """Return the :class:`~myopic_sor.impact.ImpactParams` (β per second)."""
        return ImpactParams.from_beta_per_hour(
            lambda_=self.lambda_value,
            beta_per_hour=self.beta,
            sigma_daily=self.volatility,
            adv=self.adv,
        )

    @classmethod
    def from_config(cls, config: MyopicConfig) -> MyopicParameters:
        """Build the parameters from the ``myopic`` section of the configuration."""
        return cls(
            lambda_value=config.lambda_value,
            beta=config.beta,
            volatility=config.volatility,
            adv=config.adv,
            T=config.T,
            Q_0=config.Q_0,
        )


@dataclass(frozen=True, slots=True)
class _Frame:
    ts_ns: Int64Array1D
    mid: Float64Array1D
    vol_ts_ns: Int64Array1D | None = None
    cum_vol: Float64Array1D | None = None

    def upto(self, t_ns: int) -> _Frame:
        """The rows with ``ts_event <= t_ns`` (views, O(log n)): the causal frame at t."""
        k = int(np.searchsorted(self.ts_ns, t_ns, side="right"))
        if self.vol_ts_ns is None or self.cum_vol is None:
            return _Frame(self.ts_ns[:k], self.mid[:k])
        j = int(np.searchsorted(self.vol_ts_ns, t_ns, side="right"))
        return _Frame(self.ts_ns[:k], self.mid[:k], self.vol_ts_ns[:j], self.cum_vol[:j])


def _ts_column(df: pd.DataFrame) -> Int64Array1D:
    """The frame's ``ts_event`` as int64 UTC ns (a view when it is stored so)."""
    if "ts_event" not in df.columns:
        msg = (
            f"column 'ts_event' is missing (columns: {list(df.columns)}); pass the spec frame "
            "of myopic_sor.features.spec_frame"
        )
        raise DataValidationError(msg)
    raw = df["ts_event"]
    if pd.api.types.is_datetime64_any_dtype(raw):
        ts: Int64Array1D = raw.to_numpy(dtype="datetime64[ns]").view(np.int64)
    elif pd.api.types.is_integer_dtype(raw):
        ts = raw.to_numpy(dtype=np.int64)
    else:
        msg = f"column 'ts_event' must be int64 UTC ns or datetime64, got dtype {raw.dtype}"
        raise DataValidationError(msg)
    return ts


class _Growable:
    """A 1-D buffer with amortised O(1) appends; :meth:`view` is the filled part."""

    __slots__ = ("_buf", "_n")

    def __init__(self, dtype: type[np.generic]) -> None:
        self._buf: npt.NDArray[Any] = np.empty(0, dtype=dtype)
        self._n = 0

    def extend(self, values: npt.NDArray[Any]) -> None:
        need = self._n + values.shape[0]
        if need > self._buf.shape[0]:
            grown = np.empty(max(need, 2 * self._buf.shape[0]), dtype=self._buf.dtype)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : need] = values
        self._n = need

    def view(self) -> npt.NDArray[Any]:
        return self._buf[: self._n]


_FrameKey = tuple[tuple[int, tuple[int, ...], str] | None, ...]


def _array_key(a: npt.NDArray[Any] | None) -> tuple[int, tuple[int, ...], str] | None:
    """Where an array's data start, its strides and dtype: equal keys of two live arrays
    mean the shorter one's rows are the first rows of the longer one."""
    if a is None:
        return None
    return int(a.__array_interface__["data"][0]), tuple(a.strides), a.dtype.str


class _FrameCache:
    """Converts the spec frames of one run, each new cut adding only its new rows.

    The engine hands a run the same frame cut at every decision (``frame.iloc[:k]``, k
    growing with t): converting each cut from scratch is O(k) per decision, O(n²) over a day
    (75 s of a 5 s full-day run). When a cut's columns are the last cut's arrays extended
    (same first element, strides and dtype, at least as long), only the rows after the last
    cut are converted and appended; anything else is converted from scratch. The result is
    the same as converting the cut afresh: the same element-wise conversions, and the
    cumulative volume continued in the same (sequential) order.

    The last frame and its arrays are kept, so their memory cannot be handed to another
    frame while compared against; rows already converted are treated as final (a frame is
    only ever extended during a run; under pandas copy-on-write a write to the frame copies
    it, which shows here as a new frame).
    """

    def __init__(self) -> None:
        self._pinned: tuple[object, ...] = ()
        self._key: _FrameKey | None = None
        self._n = 0
        self._ts_ok = _Growable(np.int64)
        self._mid_ok = _Growable(np.float64)
        self._cum = _Growable(np.float64)

    def convert(self, df: pd.DataFrame) -> _Frame:
        """The :class:`_Frame` of ``df`` (its columns ``ts_event``, ``mid_price``,
        ``bid_fill``, ``ask_fill``)."""
        ts = _ts_column(df)
        cols = df.columns
        mid_col = df["mid_price"] if "mid_price" in cols else None
        vol_cols = (
            (df["bid_fill"], df["ask_fill"]) if "bid_fill" in cols and "ask_fill" in cols else None
        )
        series = (mid_col, *(vol_cols or (None, None)))
        raw = (ts, *(None if c is None else c.to_numpy() for c in series))
        key = tuple(_array_key(a) for a in raw)
        k = ts.shape[0]
        if key != self._key or k < self._n:
            self._n = 0
            self._ts_ok = _Growable(np.int64)
            self._mid_ok = _Growable(np.float64)
            self._cum = _Growable(np.float64)
        n0 = self._n
        # validate and convert the new rows before any state changes (an error keeps it)
        first = max(n0 - 1, 0)  # the last converted row: the new rows must not precede it
        bad = np.flatnonzero(np.diff(ts[first:]) < 0)
        if bad.size:
            i = int(bad[0]) + 1 + first
            msg = f"column 'ts_event' is not sorted: row {i} is before row {i - 1}; sort the frame"
            raise DataValidationError(msg)
        if mid_col is not None:
            mid = _float_rows(mid_col, raw[1], n0, np.nan)
        else:
            mid = np.full(k - n0, np.nan)
        ok = np.isfinite(mid) & (mid > 0)
        cum = None
        if vol_cols is not None:
            vol = _float_rows(vol_cols[0], raw[2], n0, 0.0) + _float_rows(
                vol_cols[1], raw[3], n0, 0.0
            )
            vol = np.maximum(vol, 0.0)
            if n0:  # continue the running sum exactly where it stopped, in the same order
                cum = np.cumsum(np.concatenate(([self._cum.view()[-1]], vol)))[1:]
            else:
                cum = np.cumsum(vol)
        self._ts_ok.extend(ts[n0:][ok])
        self._mid_ok.extend(mid[ok])
        if cum is not None:
            self._cum.extend(cum)
        self._n, self._key, self._pinned = k, key, (df, raw)
        if cum is None:
            return _Frame(self._ts_ok.view(), self._mid_ok.view())
        return _Frame(
            self._ts_ok.view(), self._mid_ok.view(), np.ascontiguousarray(ts), self._cum.view()
        )


def _float_rows(
    col: pd.Series, raw: npt.NDArray[Any] | None, start: int, na_value: float
) -> Float64Array1D:
    """``col.to_numpy(dtype=float64, na_value=na_value)[start:]``, from ``raw`` (the column's
    ``to_numpy()``) when it is a plain numpy column: no second pandas lookup per decision."""
    dtype = col.dtype
    if raw is not None and isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return raw[start:].astype(np.float64)  # no missing values in an integer column
    if raw is not None and isinstance(dtype, np.dtype) and dtype.kind == "f":
        x = np.asarray(raw[start:], dtype=np.float64)
        return np.where(np.isnan(x), na_value, x)  # pandas' missing values of a float column
    out: Float64Array1D = col.iloc[start:].to_numpy(dtype=np.float64, na_value=na_value)
    return out


def _frame(df: pd.DataFrame | None) -> _Frame | None:
    return None if df is None else _FrameCache().convert(df)


def _volume_rate(frame: _Frame | None, t_ns: int, lookback_s: float) -> float:
    """Causal traded-volume rate, shares/s, over (t − lookback, t] (NaN without history)."""
    if frame is None or frame.vol_ts_ns is None or frame.cum_vol is None:
        return float("nan")
    ts, cum = frame.vol_ts_ns, frame.cum_vol
    k1 = int(np.searchsorted(ts, t_ns, side="right"))
    if k1 == 0:
        return float("nan")
    w0 = max(t_ns - round(lookback_s * _NS), int(ts[0]))
    span_s = (t_ns - w0) / _NS
    if span_s <= 0:
        return float("nan")
    k0 = int(np.searchsorted(ts, w0, side="right"))
    before = float(cum[k0 - 1]) if k0 > 0 else 0.0
    return (float(cum[k1 - 1]) - before) / span_s


def _mid_at(frame: _Frame | None, t_ns: int) -> float:
    if frame is None:
        return float("nan")
    k = int(np.searchsorted(frame.ts_ns, t_ns, side="right")) - 1
    return float(frame.mid[k]) if k >= 0 else float("nan")


def _impact_path(
    rem: Float64Array1D, q: Float64Array1D, i_now: float, ip: ImpactParams
) -> Float64Array1D:
    """Impact just after each planned trade, from ``i_now`` (exact decay, MATH.md §1), O(n):
    the compiled :func:`myopic_sor.impact._kernels.ow_impact_path` with ``u = q``, ``λ = λ_s``."""
    _, after = ow_impact_path(
        np.ascontiguousarray(rem, dtype=np.float64),
        np.ascontiguousarray(q, dtype=np.float64),
        ip.beta_per_s,
        ip.lambda_per_share,
        i_now,
    )
    return after


def _grid(t0: int, t_end: int, step_s: float) -> Int64Array1D:
    step = round(step_s * _NS)
    grid = np.arange(t0, t_end, step, dtype=np.int64)
    if t_end - int(grid[-1]) < step // 1000 and grid.shape[0] > 1:
        grid = grid[:-1]
    return np.append(grid, np.int64(t_end))


class MyopicScheduler:
    r"""Receding-horizon optimal execution under transient impact and a forecast alpha.

    Parameters
    ----------
    params : MyopicParameters
        λ, β (per hour), σ, ADV.
    risk : RiskConfig, optional
        Child-order limits: ``min_order_size`` (children below it are held and accumulate),
        ``max_order_size`` (per-slot bound in the re-solve), ``position_limit`` (the parent
        may not exceed it). Default: no limits, ``min_order_size`` 1 share.
    alpha : Forecaster, optional
        Alpha forecaster (default :class:`~myopic_sor.alpha.ZeroAlpha`: pure execution, the
        Obizhaeva-Wang schedule).
    lambda_config : LambdaEstimationConfig, optional
        Settings of :meth:`estimate_lambda`.
    eval_every_s : float, default 60
        Evaluation step, seconds: the decision grid is ``t0, t0 + Δ, ..., T`` (the last step
        shortened to end at T). Each re-solve uses the remaining decision times as its slots.
    allow_round_trips : bool, default False
        Allow children against the parent's side.
    allow_lookahead : bool, default False
        Accept a look-ahead forecaster (the oracle). Its decisions are labelled
        ``lookahead=True``; never report their P&L as achievable.
    lookback_s : float, default 900
        Window, seconds, of the causal expected-volume estimate of the participation cap.

    Notes
    -----
    The forecaster is fitted and asked for a curve at every decision t, on
    ``causal_view(market_data, t)`` only (events with ``ts_event <= t``); the spec frame is
    read up to t only (``mid_price``, ``bid_fill``, ``ask_fill``).

    Risk constraints at each re-solve (``risk`` given; names as in the decisions' ``binding``):

    * ``no_round_trips``: ``0 ≤ s q_n`` (per-slot bound).
    * ``max_order_size``: ``|q_n| ≤ max_order_size`` (per-slot bound; lifted with a logged
      warning when the held remainder cannot fit any more).
    * ``participation``: ``|q_n| ≤ ρ V̂ Δ_n`` with ``V̂`` = (bid_fill + ask_fill traded in
      ``(t − lookback_s, t]``) / (that span, clipped at the frame's first row), shares/s, and
      ``Δ_n`` the slot length (``eval_every_s`` for the last slot). Needs the frame's
      ``bid_fill``/``ask_fill`` and at least one row before t; otherwise not applied. When
      ``Σ caps`` cannot reach the remainder, the last slot (T) is uncapped: it completes the
      parent as a catch-up (logged warning, ``binding`` gets ``participation_catchup``). The
      child sent is also truncated to ``floor(ρ V̂ Δ_0)``.
    * ``max_impact``: ``|I_n^+| ≤ max_impact_threshold · mid(t)`` along the planned path,
      ``I_n^+ = I_past_n + λ_s Σ_{j≤n} e^{−β(t_n−t_j)} q_j`` (needs a causal mid price).
      Solved by :func:`~myopic_sor.impact._optimal.constrained_schedule_linear` only when the
      box solution violates it; when it cannot hold with the other bounds, every cap is
      raised by the smallest uniform slack (an LP; logged warning, ``max_impact_relaxed``).
    * ``position_limit``: ``|X| ≤ position_limit`` is checked up front. Without round trips
      the position moves monotonically from 0 to X, so ``|executed| ≤ |X|`` always holds.
      With round trips the running position ``|executed + Σ_{j≤n} q_j| ≤ position_limit`` is
      imposed as linear inequalities (same solver) when the box solution breaks it.
    * The last decision sends the remainder whatever the caps (``reason='myopic:final'``).

    * ``stop_loss``: when the causal mid has moved against the parent by
      ``stop_loss_threshold`` of the arrival mid (the last mid at or before ``t0``) — up for a
      buy, down for a sell — trading stops for the rest of the window: the remaining decisions
      send nothing (``reason='myopic:stop_loss'``, ``stopped=True``) and no final catch-up is
      sent, so the children sum to less than the parent; :meth:`schedule` reports the
      unexecuted shares in ``info['unexecuted']``. The engine treats them as the parent's
      unfilled remainder. Needs a mid price in the frame.

    In ``pure_alpha`` mode there is no parent to complete, hence no re-solve: each child is
    clipped to ``max_order_size``, the position limit, the participation cap and the max-impact
    cap (``|I_now + λ_s q| ≤ max_impact_threshold · mid``), and ``binding`` names the caps hit.

    Continuous optimum inside the window (MATH.md §3)::

        I*(t) = (α(t) − α'(t)/β + ν)/2,   Q*(t) = (I*'(t) + β I*(t))/λ_s
              = (β α − α''/β + β ν)/(2 λ_s)

    (the spec's ``Q* = (α' + β I*)/λ`` is a typo for the second form), with blocks at both
    ends. Each decision solves the exact discrete problem on the remaining grid (MATH.md §1)::

        q* = G⁻¹(α − I_past − ν 1)/λ_s,   Σ q* = remaining

    by :func:`~myopic_sor.impact.constrained_schedule` (equal to the closed form
    :func:`~myopic_sor.impact.optimal_schedule` when no bound binds), and sends ``round(q*_0)``
    shares. ``I_past`` is the impact of our own earlier children, decayed exactly
    (``I ← e^{−βΔt} I`` between decisions, ``+ λ_s q`` at a child). The last decision, at T,
    sends whatever remains, so the children sum exactly to the parent.
    """

    name = "myopic"

    def __init__(
        self,
        params: MyopicParameters,
        *,
        risk: RiskConfig | None = None,
        alpha: Forecaster | None = None,
        lambda_config: LambdaEstimationConfig | None = None,
        eval_every_s: float = 60.0,
        allow_round_trips: bool = False,
        allow_lookahead: bool = False,
        lookback_s: float = 900.0,
    ) -> None:
        if not (math.isfinite(eval_every_s) and eval_every_s > 0):
            msg = f"eval_every_s must be a positive number of seconds, got {eval_every_s!r}"
            raise ConfigError(msg)
        self.params = params
        self.risk = risk
        self.alpha: Forecaster = alpha if alpha is not None else ZeroAlpha()
        self.lambda_config = lambda_config
        self.eval_every_s = float(eval_every_s)
        self.allow_round_trips = allow_round_trips
        self.allow_lookahead = allow_lookahead
        if not (math.isfinite(lookback_s) and lookback_s > 0):
            msg = f"lookback_s must be a positive number of seconds, got {lookback_s!r}"
            raise ConfigError(msg)
        self.lookback_s = float(lookback_s)
        if self.alpha.lookahead and not allow_lookahead:
            msg = (
                f"{type(self.alpha).__name__} is a look-ahead forecaster (it reads data after "
                "the decision time); pass allow_lookahead=True to use it as a labelled "
                "diagnostic, or use a causal forecaster"
            )
            raise ConfigError(msg)

    def __repr__(self) -> str:
        return (
            f"MyopicScheduler(params={self.params!r}, alpha={self.alpha!r}, "
            f"eval_every_s={self.eval_every_s!r})"
        )

    @property
    def impact_params(self) -> ImpactParams:
        """The impact model parameters (β per second)."""
        return self.params.to_impact_params()

    # -- the spec's methods --------------------------------------------------------------------
    def estimate_lambda(
        self, df: pd.DataFrame, agg_periods: list[float] | None = None
    ) -> dict[str, float]:
        """Estimate λ per aggregation period (``{'1s': λ_1, '60s': λ_60, ...}``).

        Delegates to :func:`myopic_sor.impact.estimate_lambda` with ``lambda_config``;
        see there for the regression, units and warnings.
        """
        return estimate_lambda(df, agg_periods, config=self.lambda_config)

    def integrate_with_sor(
        self,
        dfs: Mapping[str, pd.DataFrame] | MarketData,
        myopic_schedule: list[dict[str, Any]],
        sor_params: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        """Route each myopic decision with the Cont-Kukanov SOR (the spec's integration).

        Parameters
        ----------
        dfs : dict of DataFrame or MarketData
            Per-venue data (Databento MBP-10 columns, one frame per venue).
        myopic_schedule : list of dict
            Decisions of :meth:`generate_trading_schedule` (``timestamp`` or ``ts_ns``,
            ``optimal_quantity`` signed shares).
        sor_params : dict
            The spec's ``strategy_params`` (``T``, ``f``, ``r``, ``theta``, ``lambda_u``,
            ``lambda_o``, ``N``; ``S`` is each decision's quantity), plus optional
            ``method``, ``lookup_duration``, ``outflow_kind``, ``seed``.

        Returns
        -------
        list of dict
            Each decision with ``side``, ``market_quantity``, ``limit_quantities``
            (``{venue: shares}``), ``venues``, ``sor_expected_cost`` (currency),
            ``p_underfill``, ``sor_method``, ``excluded_venues``; decisions with no child are
            passed through with ``market_quantity = 0``. The SOR reads only data up to each
            decision's time.
        """
        from myopic_sor.routing import execute_optimization, market_data_from_frames

        md = dfs if isinstance(dfs, MarketData) else market_data_from_frames(dfs)
        params = dict(sor_params)
        params.pop("S", None)
        seed = params.pop("seed", None)
        rng = np.random.default_rng(seed)
        out: list[dict[str, Any]] = []
        for d in myopic_schedule:
            row = dict(d)
            qty = int(d.get("optimal_quantity", 0))
            if qty == 0:
                row.update(
                    {"side": None, "market_quantity": 0, "limit_quantities": {}, "venues": [],
                     "sor_expected_cost": 0.0, "p_underfill": 0.0, "sor_method": "none"}
                )  # fmt: skip
                out.append(row)
                continue
            t = d["ts_ns"] if "ts_ns" in d else d["timestamp"]
            alloc, cost = execute_optimization(
                md, t, S=abs(qty), side="buy" if qty > 0 else "sell", seed=rng, **params
            )
            row.update(
                {
                    "side": "buy" if qty > 0 else "sell",
                    "market_quantity": int(alloc.market),
                    "limit_quantities": {
                        v: int(q) for v, q in zip(alloc.venues, alloc.limit, strict=True)
                    },
                    "venues": list(alloc.venues),
                    "sor_expected_cost": cost,
                    "p_underfill": alloc.p_underfill,
                    "sor_method": alloc.method,
                    "excluded_venues": alloc.info.get("excluded_venues", {}),
                }
            )
            out.append(row)
        return out

    def calculate_price_impact(self, df: pd.DataFrame) -> pd.Series:
        """Return the impact after each row's trade for the spec frame, price units.

        Uses the scheduler's λ, β, σ and ADV (the frame's ``Volatility``/``ADV`` columns are
        not read); exact exponential decay, run in a numba kernel
        (:func:`myopic_sor.impact.price_impact_series`).
        """
        return price_impact_series(df, self.impact_params)

    def generate_trading_schedule(
        self,
        df: pd.DataFrame | None,
        total_quantity: float,
        time_horizon: float,
        *,
        start: int | pd.Timestamp | None = None,
        market_data: MarketData | None = None,
        pure_alpha: bool = False,
    ) -> list[dict[str, Any]]:
        """Run the receding-horizon scheduler and return one decision per evaluation time.

        Parameters
        ----------
        df : pandas.DataFrame or None
            The spec frame (``ts_event``, ``mid_price``, ...); at decision t only rows with
            ``ts_event <= t`` are read (for ``mid_price``). None: no prices (``mid_price`` NaN).
        total_quantity : float
            Parent quantity, signed whole shares (+ buy, − sell).
        time_horizon : float
            Horizon, **minutes** (the spec's unit).
        start : int or pandas.Timestamp, optional
            Start time (UTC ns or a Timestamp); default the first row of ``df``.
        market_data : MarketData, optional
            The day's book data for the forecaster; it receives ``causal_view(md, t)`` (events
            with ``ts_event <= t``) at each decision. Required unless the forecaster is
            :class:`~myopic_sor.alpha.ZeroAlpha`.
        pure_alpha : bool, default False
            The spec's pure-alpha strategy: ν = 0, no completion constraint, round trips
            allowed; with ``risk`` each child is clipped to the caps (class Notes). The
            position may end anywhere; ``total_quantity`` is validated but not enforced
            (its sign sets the direction of the stop-loss check).

        Returns
        -------
        list of dict
            Per decision: ``timestamp`` (UTC Timestamp), ``ts_ns``, ``optimal_quantity`` (int
            shares sent, 0 when held), ``planned_quantity`` (the re-solve's first slot, real
            shares), ``price_impact`` (our impact before the child, price units),
            ``optimal_impact`` (impact after the planned child, the discrete ``I*``),
            ``impact_cost`` (``q I + λ_s q²/2``, currency), ``alpha`` (α_t(t)),
            ``alpha_slope``, ``mid_price``, ``nu``, ``executed``, ``remaining``,
            ``slots_left``, ``reason`` (``myopic``, ``myopic:relaxed`` when a constraint
            had to be relaxed in the re-solve, ``myopic:final``, ``myopic:pure_alpha``,
            ``myopic:stop_loss``),
            ``binding`` (list of the constraints active in the re-solve: ``no_round_trips``,
            ``max_order_size``, ``participation``, ``max_impact``, ``position_limit``, and
            the relaxations ``max_order_size_relaxed``, ``participation_catchup``,
            ``linear_caps_relaxed``, ``stop_loss``; see the class Notes), ``lookahead``,
            ``stopped`` (trading halted by the stop loss at or before this decision).

        Raises
        ------
        ConfigError
            Quantity zero, non-integral or above ``position_limit``, horizon ≤ 0, no start.
        InfeasibleScheduleError
            ``max_order_size`` times the number of decisions cannot reach the parent.
        DataValidationError
            Unsorted frame, or a forecast alpha that is not finite (names the timestamp).
        """
        x = check_parent(total_quantity, "total_quantity")
        h = float(time_horizon)
        if not math.isfinite(h) or h <= 0:
            msg = f"time_horizon must be a positive number of minutes, got {time_horizon!r}"
            raise ConfigError(msg)
        frame_df = df
        if start is None:
            if frame_df is None or len(frame_df) == 0:
                msg = "no start time: pass start= (UTC ns) or a non-empty spec frame"
                raise ConfigError(msg)
            first = frame_df["ts_event"].iloc[0]
            t0 = (
                int(pd.Timestamp(first).value)
                if not isinstance(first, int | np.integer)
                else int(first)
            )
        else:
            t0 = int(start.value) if isinstance(start, pd.Timestamp) else int(start)
        t_end = t0 + round(h * 60.0 * _NS)
        return self._run(_frame(df), t0, t_end, x, md=market_data, pure_alpha=pure_alpha)

    # -- Scheduler protocol --------------------------------------------------------------------
    def schedule(
        self,
        t0_ns: int,
        t_end_ns: int,
        X: int,
        *,
        data: pd.DataFrame | None = None,
        market_data: MarketData | None = None,
    ) -> ScheduleResult:
        """Return the myopic children of ``X`` signed shares over ``[t0_ns, t_end_ns]``.

        Same engine as :meth:`generate_trading_schedule`; the children are the decisions with
        a non-zero quantity.
        """
        t0, t1 = check_window(t0_ns, t_end_ns)
        x = check_parent(X)
        decisions = self._run(_frame(data), t0, t1, x, md=market_data, pure_alpha=False)
        children = tuple(
            ChildOrder(d["ts_ns"], d["optimal_quantity"], d["reason"])
            for d in decisions
            if d["optimal_quantity"] != 0
        )
        cost = float(sum(d["impact_cost"] for d in decisions))
        info: dict[str, float] = {}
        if decisions and decisions[-1]["stopped"]:
            info = {"stopped": 1.0, "unexecuted": float(decisions[-1]["remaining"])}
        return ScheduleResult(self.name, t0, t1, x, children, expected_cost=cost, info=info)

    # -- engine --------------------------------------------------------------------------------
    def _curve(self, md: MarketData | None, t: int, t_end: int) -> AlphaCurve | None:
        # ZeroAlpha's curve is +0.0 everywhere, as None makes it: skip its fit and predict
        # (four causal cuts of the book, ~1 ms per decision)
        if type(self.alpha) is ZeroAlpha:
            return None
        if md is None:
            if isinstance(self.alpha, ZeroAlpha):
                return None
            msg = (
                f"{type(self.alpha).__name__} needs market data: pass market_data= (the day's "
                "MarketData) to generate_trading_schedule"
            )
            raise ConfigError(msg)
        view = md if self.alpha.lookahead else causal_view(md, t)
        self.alpha.fit(view, t)
        return self.alpha.predict(view, t, t_end)

    def start(self, t0_ns: int, t_end_ns: int, X: int, *, pure_alpha: bool = False) -> MyopicRun:
        """Begin a receding-horizon run for the caller to drive one decision at a time.

        The backtest engine uses this to enforce causality: at each decision time ``t`` of
        ``run.times_ns`` it calls ``run.step(t, frame=..., market_data=...)`` with views that
        end at ``t``. :meth:`generate_trading_schedule` and :meth:`schedule` drive the same
        run with the whole day (each step still reads rows ``<= t`` only).

        Parameters
        ----------
        t0_ns, t_end_ns : int
            The window, UTC ns.
        X : int
            Parent quantity, signed whole shares.
        pure_alpha : bool, default False
            The pure-alpha strategy (see :meth:`generate_trading_schedule`).

        Returns
        -------
        MyopicRun
        """
        t0, t_end = check_window(t0_ns, t_end_ns)
        return MyopicRun(self, t0, t_end, check_parent(X), pure_alpha=pure_alpha)

    def _run(
        self,
        frame: _Frame | None,
        t0: int,
        t_end: int,
        x: int,
        *,
        md: MarketData | None,
        pure_alpha: bool,
    ) -> list[dict[str, Any]]:
        run = MyopicRun(self, t0, t_end, x, pure_alpha=pure_alpha)
        out = [run.step(int(t), frame=frame, market_data=md) for t in run.times_ns]
        logger.debug(
            "myopic schedule: %d decisions, %d children",
            len(out),
            sum(1 for d in out if d["optimal_quantity"] != 0),
        )
        return out

    def _clip_pure_alpha(
        self,
        plan0: float,
        *,
        t: int,
        frame: _Frame | None,
        executed: int,
        i_now: float,
        mid: float,
        slot_s: float,
    ) -> tuple[float, list[str], float]:
        """Clip a pure-alpha child to the risk caps; returns (child, binding names, cap).

        Pure alpha has no parent to complete, so there is no re-solve to spread what a cap
        removes: the child of this decision is clipped and the next decision re-optimises.
        """
        risk = self.risk
        assert risk is not None
        tags: list[str] = []
        q = plan0
        if abs(q) > risk.max_order_size:
            q, tags = math.copysign(risk.max_order_size, q), [*tags, "max_order_size"]
        lim = float(risk.position_limit)
        clipped = min(max(q, -lim - executed), lim - executed)
        if clipped != q:
            q, tags = clipped, [*tags, "position_limit"]
        cap = math.inf
        rate = _volume_rate(frame, t, self.lookback_s)
        if math.isfinite(rate):
            cap = risk.participation_cap * rate * slot_s
            if abs(q) > cap:
                q, tags = math.copysign(cap, q), [*tags, "participation"]
        if math.isfinite(mid) and q != 0.0:
            # |I_now + λ_s q| ≤ c on the side of the trade; never push q past zero
            c_imp = risk.max_impact_threshold * mid
            lam_s = self.impact_params.lambda_per_share
            sgn = math.copysign(1.0, q)
            q_max = max((c_imp - sgn * i_now) / lam_s, 0.0)
            if abs(q) > q_max:
                q, tags = sgn * q_max, [*tags, "max_impact"]
        return q, tags, cap

    def _solve(
        self,
        rem: Float64Array1D,
        remaining: int,
        ip: ImpactParams,
        *,
        a: Float64Array1D,
        i_now: float,
        max_size: float | None,
        t: int,
        frame: _Frame | None,
        executed: int,
        dt_last: float,
    ) -> tuple[float, float, list[str], float]:
        """One re-solve: returns (first slot, ν, binding constraint names, cap on slot 0)."""
        n_rem = rem.shape[0]
        stamp = pd.Timestamp(t, unit="ns", tz="UTC")
        tags: list[str] = []
        if max_size is not None and n_rem * max_size < abs(remaining):
            logger.warning(
                "myopic at %s: %d shares left on %d slots exceed max_order_size=%g per slot "
                "(held children accumulated); the cap is lifted for this re-solve",
                stamp,
                remaining,
                n_rem,
                max_size,
            )
            tags.append("max_order_size_relaxed")
            max_size = None
        risk = self.risk
        lower, upper = schedule_bounds(
            n_rem, remaining, allow_round_trips=self.allow_round_trips, max_order_size=max_size
        )
        cap = np.full(n_rem, np.inf)
        if risk is not None:
            rate = _volume_rate(frame, t, self.lookback_s)
            if math.isfinite(rate):
                slot_s = np.append(np.diff(rem), dt_last)
                cap = risk.participation_cap * rate * slot_s
                side_bound = upper if remaining > 0 else lower
                if float(np.minimum(cap, np.abs(side_bound)).sum()) < abs(remaining):
                    logger.warning(
                        "myopic at %s: participation caps (ρ=%g, %.4g shares/s) cannot trade "
                        "the remaining %d shares on %d slots; the last slot completes the "
                        "parent as a catch-up",
                        stamp,
                        risk.participation_cap,
                        rate,
                        remaining,
                        n_rem,
                    )
                    tags.append("participation_catchup")
                    cap[-1] = np.inf
                    # the catch-up slot is bounded by nothing but the parent's side
                    if remaining > 0:
                        upper[-1] = np.inf
                    else:
                        lower[-1] = -np.inf
                lower = np.maximum(lower, -cap)
                upper = np.minimum(upper, cap)
        cs = constrained_schedule(rem, remaining, ip, a, lower=lower, upper=upper, i_now=i_now)
        q, nu = cs.q, float(cs.nu)
        rows: list[Float64Array2D] = []
        rhs: list[Float64Array1D] = []
        names: list[str] = []
        if risk is not None:
            mid = _mid_at(frame, t)
            box_ok = False
            if math.isfinite(mid):
                # O(n) check of the box solution's planned impact path first: the dense
                # n x n constraint rows are built only when the cap (or the position limit)
                # would bind, which keeps a full-day re-solve at a 5 s step linear in n
                c_imp = risk.max_impact_threshold * mid
                path = _impact_path(rem, q, i_now, ip)
                worst = float(np.max(np.abs(path))) if path.size else 0.0
                box_ok = worst <= c_imp * (1 + 1e-12) and (
                    not self.allow_round_trips
                    or float(np.max(np.abs(executed + np.cumsum(q)))) <= risk.position_limit + 1e-9
                )
            if math.isfinite(mid) and not box_ok:
                lmat = impact_constraint_matrix(rem, ip)
                i_past = i_now * np.exp(-ip.beta_per_s * rem)
                side = 1.0 if remaining > 0 else -1.0
                rows.append(side * lmat)
                rhs.append(c_imp - side * i_past)
                names += ["max_impact"] * n_rem
                if self.allow_round_trips:
                    rows.append(-side * lmat)
                    rhs.append(c_imp + side * i_past)
                    names += ["max_impact"] * n_rem
            if self.allow_round_trips and not box_ok:
                tri = np.tril(np.ones((n_rem, n_rem)))
                lim = float(risk.position_limit)
                rows += [tri, -tri]
                rhs += [np.full(n_rem, lim - executed), np.full(n_rem, lim + executed)]
                names += ["position_limit"] * (2 * n_rem)
        if rows:
            a_ub = np.vstack(rows)
            b_ub = np.concatenate(rhs)
            lin = constrained_schedule_linear(
                rem,
                remaining,
                ip,
                a,
                lower=lower,
                upper=upper,
                A_ub=a_ub,
                b_ub=b_ub,
                i_now=i_now,
                on_infeasible="relax",
            )
            if lin.method != "box":
                q, nu = lin.q, float(lin.nu)
                for i in np.flatnonzero(lin.active_ineq):
                    if names[i] not in tags:
                        tags.append(names[i])
                if lin.relaxation > 0:
                    tags.append("linear_caps_relaxed")
                    logger.warning(
                        "myopic at %s: max impact / position caps infeasible with %d shares on "
                        "%d slots; all caps raised by %.4g (row units) for this re-solve",
                        stamp,
                        remaining,
                        n_rem,
                        lin.relaxation,
                    )
        # constraints active at the final plan (bounds hit within 1e-9 relative)
        qtol = 1e-9 * max(abs(remaining), 1.0)
        if max_size is not None and bool(np.any(np.abs(q) >= max_size - qtol)):
            tags.append("max_order_size")
        if bool(np.any(np.isfinite(cap) & (np.abs(q) >= cap - qtol))):
            tags.append("participation")
        if not self.allow_round_trips and bool(np.any(np.abs(q) <= qtol)):
            tags.append("no_round_trips")
        return float(q[0]), nu, tags, float(cap[0])


class MyopicRun:
    """One receding-horizon run of a :class:`MyopicScheduler`, driven a decision at a time.

    Made by :meth:`MyopicScheduler.start`. ``times_ns`` are the decision times; :meth:`step`
    must be called at each of them, in order, and returns the decision (the dict of
    :meth:`MyopicScheduler.generate_trading_schedule`). The run holds the state between
    decisions: shares sent, our own impact (decayed exactly), the stop-loss flag.

    Causality is enforced here, not by convention: ``step(t, ...)`` cuts the frame to the
    rows with ``ts_event <= t`` and hands the forecaster ``causal_view(market_data, t)``.
    """

    def __init__(
        self, scheduler: MyopicScheduler, t0: int, t_end: int, x: int, *, pure_alpha: bool
    ) -> None:
        if t_end <= t0:
            msg = f"the horizon is already over: end {t_end} ns is not after start {t0} ns"
            raise ConfigError(msg)
        sch = scheduler
        risk = sch.risk
        if risk is not None and abs(x) > risk.position_limit:
            msg = (
                f"total_quantity={x} exceeds risk.position_limit={risk.position_limit} shares; "
                "split the parent or raise the limit"
            )
            raise ConfigError(msg)
        max_size = None if risk is None else float(risk.max_order_size)
        grid = _grid(t0, t_end, sch.eval_every_s)
        n = grid.shape[0]
        if max_size is not None and not pure_alpha and n * max_size < abs(x):
            msg = (
                f"infeasible: {n} decisions of at most max_order_size={max_size:g} shares cannot "
                f"trade {x} shares; raise max_order_size, evaluate more often or extend the horizon"
            )
            raise InfeasibleScheduleError(msg)
        self.scheduler = sch
        self.t0_ns, self.t_end_ns, self.quantity = t0, t_end, x
        self.pure_alpha = pure_alpha
        self.times_ns: Int64Array1D = grid
        self._times_s = (grid - t0) / _NS
        self.executed = 0
        self.stopped = False
        self._k = 0
        self._i_after, self._t_last = 0.0, t0
        self._mid0 = float("nan")
        self._frames = _FrameCache()

    @property
    def done(self) -> bool:
        """True after the last decision."""
        return bool(self._k >= self.times_ns.shape[0])

    def step(
        self,
        t_ns: int,
        *,
        frame: pd.DataFrame | _Frame | None = None,
        market_data: MarketData | None = None,
    ) -> dict[str, Any]:
        """Take the decision at ``t_ns`` (the next of ``times_ns``) from data up to ``t_ns``.

        Parameters
        ----------
        t_ns : int
            The decision time, UTC ns; must equal ``times_ns[k]`` at the k-th call.
        frame : pandas.DataFrame, optional
            The spec frame; rows after ``t_ns`` are cut off here.
        market_data : MarketData, optional
            The day's book data for the forecaster, cut to ``ts_event <= t_ns`` here.

        Returns
        -------
        dict
            The decision (keys of :meth:`MyopicScheduler.generate_trading_schedule`).
        """
        if self.done:
            raise ConfigError("the run is over: every decision time has been stepped")
        k = self._k
        t = int(t_ns)
        if t != int(self.times_ns[k]):
            msg = (
                f"step({t}) out of order: the next decision time is {int(self.times_ns[k])} "
                f"(decision {k} of {self.times_ns.shape[0]})"
            )
            raise ConfigError(msg)
        sch = self.scheduler
        if isinstance(frame, pd.DataFrame):
            frame = self._frames.convert(frame)
        if frame is not None:
            frame = frame.upto(t)
        if k == 0:
            self._mid0 = _mid_at(frame, t)  # arrival mid: the last mid at or before t0
        mid0 = self._mid0
        risk = sch.risk
        pure_alpha = self.pure_alpha
        n = self.times_ns.shape[0]
        last = k == n - 1
        times_s = self._times_s
        side = 1 if self.quantity > 0 else -1
        min_size = 1 if risk is None else risk.min_order_size
        max_size = None if risk is None else float(risk.max_order_size)
        ip = sch.impact_params
        lam_s, beta = ip.lambda_per_share, ip.beta_per_s
        i_now = self._i_after * math.exp(-beta * (t - self._t_last) / _NS)
        rem = times_s[k:] - times_s[k]
        # _curve hands every causal forecaster causal_view(market_data, t); a look-ahead one
        # (the labelled oracle) is the one reader of the whole day
        curve = sch._curve(market_data, t, self.t_end_ns)
        if curve is None:
            a = np.zeros(rem.shape[0])
            a0 = slope0 = 0.0
        else:
            a = np.asarray(curve(rem), dtype=np.float64)
            a0, slope0 = float(curve(0.0)), float(curve.d1(0.0))
        if not bool(np.all(np.isfinite(a))):
            msg = (
                f"forecast alpha at {pd.Timestamp(t, unit='ns', tz='UTC')} has "
                f"{int(np.sum(~np.isfinite(a)))} non-finite value(s) from "
                f"{type(sch.alpha).__name__}; fix the forecaster (fall back to zero alpha)"
            )
            raise DataValidationError(msg)
        remaining = self.quantity - self.executed
        nu = float("nan")
        binding: list[str] = []
        cap0 = math.inf
        mid_t = _mid_at(frame, t)
        # adverse move from arrival: up for a buyer, down for a seller
        if (
            risk is not None
            and not self.stopped
            and math.isfinite(mid_t)
            and mid0 > 0
            and side * (mid_t - mid0) / mid0 >= risk.stop_loss_threshold
        ):
            self.stopped = True
            logger.warning(
                "myopic at %s: mid %.6g moved %.3g%% against the parent from arrival "
                "%.6g (stop_loss_threshold=%g); trading stops, %d shares unexecuted",
                pd.Timestamp(t, unit="ns", tz="UTC"),
                mid_t,
                100.0 * abs(mid_t - mid0) / mid0,
                mid0,
                risk.stop_loss_threshold,
                remaining,
            )
        if self.stopped:
            plan0 = 0.0
            binding = ["stop_loss"]
        elif pure_alpha:
            plan = optimal_schedule(rem, None, ip, a, i_now, pure_alpha=True)
            plan0, nu = float(plan[0]), 0.0
            if risk is not None:
                plan0, binding, cap0 = sch._clip_pure_alpha(
                    plan0,
                    t=t,
                    frame=frame,
                    executed=self.executed,
                    i_now=i_now,
                    mid=mid_t,
                    slot_s=float(sch.eval_every_s if last else times_s[k + 1] - times_s[k]),
                )
        elif last or remaining == 0:
            plan0 = float(remaining)
        else:
            plan0, nu, binding, cap0 = sch._solve(
                rem,
                remaining,
                ip,
                a=a,
                i_now=i_now,
                max_size=max_size,
                t=t,
                frame=frame,
                executed=self.executed,
                dt_last=float(times_s[k + 1] - times_s[k]),
            )
        child = round(plan0)
        if math.isfinite(cap0) and abs(child) > cap0:
            child = int(math.copysign(math.floor(cap0), child))
        if not pure_alpha and not sch.allow_round_trips:
            child = side * min(max(side * child, 0), side * remaining)
        reason = "myopic"
        if any(b.endswith(("_relaxed", "_catchup")) for b in binding):
            reason = "myopic:relaxed"
        if abs(child) < min_size:
            child = 0
        if last and not pure_alpha and not self.stopped:
            child, reason = remaining, "myopic:final"
        if pure_alpha:
            reason = "myopic:pure_alpha"
        if self.stopped:
            child, reason = 0, "myopic:stop_loss"
        self.executed += child
        self._i_after, self._t_last = i_now + lam_s * child, t
        self._k += 1
        return {
            "timestamp": pd.Timestamp(t, unit="ns", tz="UTC"),
            "ts_ns": t,
            "optimal_quantity": int(child),
            "planned_quantity": plan0,
            "price_impact": i_now,
            "optimal_impact": i_now + lam_s * plan0,
            "impact_cost": child * i_now + 0.5 * lam_s * child * child,
            "alpha": a0,
            "alpha_slope": slope0,
            "mid_price": _mid_at(frame, t),
            "nu": nu,
            "executed": int(self.executed),
            "remaining": int(self.quantity - self.executed),
            "slots_left": n - k - 1,
            "reason": reason,
            "binding": binding,
            "lookahead": bool(sch.alpha.lookahead),
            "stopped": self.stopped,
        }


def calculate_decision_risk(decision: dict[str, Any]) -> float:
    """Risk of one decision: its expected impact cost, currency.

    Parameters
    ----------
    decision : dict
        A decision of :meth:`MyopicScheduler.generate_trading_schedule`.

    Returns
    -------
    float
        ``q I + λ_s q²/2`` (the ``impact_cost`` key): what the child pays on the standing impact
        of our earlier children plus its own impact (MATH.md §1), ≥ 0 for children on the
        parent's side.
    """
    if "impact_cost" not in decision:
        msg = "decision has no 'impact_cost'; pass a decision of generate_trading_schedule"
        raise ConfigError(msg)
    return float(decision["impact_cost"])


def risk_adjusted_myopic_schedule(
    scheduler: MyopicScheduler,
    df: pd.DataFrame,
    total_quantity: float,
    risk_limit: float,
    *,
    time_horizon: float = 300.0,
) -> list[dict[str, Any]]:
    """The spec's risk-adjusted schedule: stop once the cumulative decision risk hits a limit.

    Parameters
    ----------
    scheduler : MyopicScheduler
    df : pandas.DataFrame
        The spec frame.
    total_quantity : float
        Parent quantity, signed shares.
    risk_limit : float
        Budget of cumulative :func:`calculate_decision_risk` (expected impact cost), currency.
    time_horizon : float, default 300
        Minutes (the spec calls the scheduler with 300).

    Returns
    -------
    list of dict
        Copies of the decisions while the cumulative risk stays within the limit; the first
        decision that would exceed it is scaled down (integer shares, towards zero) by
        ``(risk_limit − cumulative)/risk`` and the list ends there. The parent is then NOT
        completed: the returned schedule is a truncation, as in the spec.
    """
    lim = float(risk_limit)
    if not math.isfinite(lim) or lim < 0:
        msg = f"risk_limit must be a finite non-negative cost (currency), got {risk_limit!r}"
        raise ConfigError(msg)
    base = scheduler.generate_trading_schedule(df, total_quantity, time_horizon)
    out: list[dict[str, Any]] = []
    cumulative = 0.0
    for decision in base:
        d = copy.copy(decision)
        risk = calculate_decision_risk(d)
        if cumulative + risk <= lim:
            out.append(d)
            cumulative += risk
            continue
        scale = (lim - cumulative) / risk
        d["optimal_quantity"] = math.trunc(d["optimal_quantity"] * scale)
        d["reason"] = "myopic:risk_scaled"
        out.append(d)
        break
    return out
