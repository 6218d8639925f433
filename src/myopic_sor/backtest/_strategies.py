"""Execution strategies as the engine drives them: one decision at a time, on causal views.

A strategy answers one question at each of its decision times t: how many shares to send now.
The engine hands it a :class:`DecisionView` whose data end at t (``ts_event <= t``); nothing
later is reachable from it. Three adapters cover every scheduler of :mod:`myopic_sor.scheduling`:

* :class:`MyopicStrategy` steps a :class:`~myopic_sor.scheduling.MyopicRun` (re-forecast and
  re-solve at every decision);
* :class:`ScheduledStrategy` wraps any :class:`~myopic_sor.scheduling.Scheduler` whose plan is
  fixed at the start (TWAP, VWAP, Almgren-Chriss, Obizhaeva-Wang): its ``schedule`` is called
  once, at t0, with the spec frame cut at t0, so a data-driven plan (VWAP) can only use the past;
* :class:`TraditionalStrategy`: the fixed-frequency child every ``order_freq`` seconds, skipped
  when the router says conditions are unfavourable, the skipped quantity carried to later slots.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from myopic_sor._typing import Int64Array1D
from myopic_sor.data import MarketData
from myopic_sor.exceptions import ConfigError
from myopic_sor.scheduling import (
    MyopicRun,
    MyopicScheduler,
    Scheduler,
    integer_allocation,
)

__all__ = [
    "DecisionView",
    "ExecutionStrategy",
    "MyopicStrategy",
    "ScheduledStrategy",
    "TraditionalStrategy",
]

_NS = 1_000_000_000


def _frame_ts(frame: pd.DataFrame) -> Int64Array1D:
    """The spec frame's ``ts_event`` as int64 UTC ns."""
    ts = frame["ts_event"]
    raw: Int64Array1D = (
        ts.to_numpy(dtype="datetime64[ns]").view(np.int64)
        if pd.api.types.is_datetime64_any_dtype(ts)
        else ts.to_numpy(dtype=np.int64)
    )
    return raw


@dataclass(frozen=True, slots=True)
class DecisionView:
    """What a strategy may see at decision time ``t_ns``: data up to ``t_ns`` and its own state.

    Attributes
    ----------
    t_ns : int
        The decision time, UTC ns.
    market_data : MarketData
        Every venue cut to ``ts_event <= t_ns``.
    frame : pandas.DataFrame or None
        The spec frame cut to ``ts_event <= t_ns``.
    sent : int
        Signed shares sent so far (children already routed).
    filled : int
        Signed shares filled so far (fills reported by the exchange up to ``t_ns``).
    unfavourable : callable or None
        ``unfavourable(shares) -> (bool, reason)``: the router's verdict on sending ``shares``
        now (traditional mode), computed on the same causal data.
    latent : callable or None
        On the reactive synthetic market only: ``latent()`` returns the market's latent path
        (:meth:`~myopic_sor.data.SyntheticMarket.latent_path`) cut at ``t_ns`` — model state
        the market does not show, read only by a latent-state diagnostic
        (:class:`~myopic_sor.alpha.TrueAlpha`).
    """

    t_ns: int
    market_data: MarketData
    frame: pd.DataFrame | None
    sent: int
    filled: int
    unfavourable: Callable[[int], tuple[bool, str]] | None = None
    latent: Callable[[], pd.DataFrame | None] | None = None


@runtime_checkable
class ExecutionStrategy(Protocol):
    """A strategy the engine drives: ``begin`` returns the decision times, ``decide`` the
    signed shares to send at each of them (0: nothing)."""

    name: str

    def begin(
        self, t0_ns: int, t_end_ns: int, quantity: int, view: DecisionView
    ) -> Int64Array1D: ...

    def decide(self, view: DecisionView) -> tuple[int, dict[str, Any]]: ...


@dataclass
class MyopicStrategy:
    """The myopic scheduler, re-solved at every decision on data up to that decision.

    ``lookahead_data`` is read only by a look-ahead forecaster (the oracle, a diagnostic
    bound labelled as such everywhere); every causal forecaster gets the engine's cut view.
    """

    scheduler: MyopicScheduler
    name: str = "myopic"
    lookahead_data: MarketData | None = None
    _run: MyopicRun | None = field(default=None, init=False, repr=False)

    def begin(self, t0_ns: int, t_end_ns: int, quantity: int, view: DecisionView) -> Int64Array1D:
        """Start a receding-horizon run; return its decision times."""
        self._run = self.scheduler.start(t0_ns, t_end_ns, quantity)
        return self._run.times_ns

    def decide(self, view: DecisionView) -> tuple[int, dict[str, Any]]:
        """Step the run at ``view.t_ns`` on the causal frame and book data."""
        if self._run is None:
            raise ConfigError("MyopicStrategy.decide before begin")
        md = view.market_data
        if self.scheduler.alpha.lookahead:
            if self.lookahead_data is None:
                msg = f"{self.name}: a look-ahead forecaster needs lookahead_data (the whole day)"
                raise ConfigError(msg)
            md = self.lookahead_data  # the labelled oracle diagnostic: reads the future
        alpha = self.scheduler.alpha
        if getattr(alpha, "uses_latent_state", False) and view.latent is not None:
            latent = view.latent()  # the reactive market's latent state, cut at t
            if latent is not None and hasattr(alpha, "update_latent"):
                alpha.update_latent(latent)
        d = self._run.step(view.t_ns, frame=view.frame, market_data=md)
        return int(d["optimal_quantity"]), d


@dataclass
class ScheduledStrategy:
    """A scheduler whose whole plan is made at t0 from data up to t0 (TWAP, VWAP, AC, OW)."""

    scheduler: Scheduler
    name: str = ""
    _plan: dict[int, tuple[int, str]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.scheduler.name

    def begin(self, t0_ns: int, t_end_ns: int, quantity: int, view: DecisionView) -> Int64Array1D:
        """Plan at t0 with the frame cut at t0; return the children's send times."""
        result = self.scheduler.schedule(t0_ns, t_end_ns, quantity, data=view.frame)
        self._plan = {}
        for c in result.children:
            qty, reason = self._plan.get(c.ts_ns, (0, c.reason))
            self._plan[c.ts_ns] = (qty + c.quantity, reason)
        times = np.array(sorted(self._plan), dtype=np.int64)
        if times.size == 0 or int(times[0]) < t0_ns:
            raise ConfigError(f"{self.name}: the plan has no child inside the window")
        return times

    def decide(self, view: DecisionView) -> tuple[int, dict[str, Any]]:
        """The planned child at ``view.t_ns``."""
        qty, reason = self._plan.get(view.t_ns, (0, ""))
        return qty, {"reason": reason, "planned_quantity": qty}


@dataclass
class TraditionalStrategy:
    """The traditional fixed-frequency approach (the spec's existing SOR backtest).

    A child every ``order_freq_s`` seconds from t0 while before the end; slot k's target is
    ``X/N`` shares (integer rounded, the targets sum to X). At each slot the child is
    everything due and not yet sent; when the router judges the conditions unfavourable
    (``view.unfavourable``, see :class:`~myopic_sor.routing.FavourableRule`) the slot is skipped
    and its quantity carried to later slots; the last slot always sends the rest, so the
    parent is done by the end.
    """

    order_freq_s: float = 120.0
    name: str = "traditional"
    _due: Int64Array1D = field(default_factory=lambda: np.zeros(0, dtype=np.int64), init=False)
    _times: Int64Array1D = field(default_factory=lambda: np.zeros(0, dtype=np.int64), init=False)
    _k: int = field(default=0, init=False)
    _quantity: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.order_freq_s) and self.order_freq_s > 0):
            msg = f"order_freq must be a positive number of seconds, got {self.order_freq_s!r}"
            raise ConfigError(msg)

    def begin(self, t0_ns: int, t_end_ns: int, quantity: int, view: DecisionView) -> Int64Array1D:
        """Return the slots ``t0 + k · order_freq`` before the end."""
        step = round(self.order_freq_s * _NS)
        self._times = np.arange(t0_ns, t_end_ns, step, dtype=np.int64)
        n = self._times.shape[0]
        self._due = np.cumsum(integer_allocation(np.full(n, quantity / n), quantity))
        self._k = 0
        self._quantity = quantity
        return self._times

    def decide(self, view: DecisionView) -> tuple[int, dict[str, Any]]:
        """Send what is due unless the router says the conditions are unfavourable."""
        k = self._k
        self._k += 1
        last = k == self._times.shape[0] - 1
        qty = int(self._due[k]) - view.sent
        if last:
            return self._quantity - view.sent, {"reason": "traditional:final"}
        if qty == 0:
            return 0, {"reason": "traditional:nothing_due"}
        if view.unfavourable is not None:
            bad, why = view.unfavourable(qty)
            if bad:
                return 0, {"reason": "traditional:skipped", "skip_reason": why, "carried": qty}
        return qty, {"reason": "traditional"}
