"""The :class:`Exchange` interface on top of the reactive synthetic market.

:class:`SyntheticExchange` turns the same calls the replay takes into
:class:`~myopic_sor.data.SyntheticMarket` operations, so a strategy runs unchanged on a market
whose prices respond to its orders through the true impact model (the ground truth a replay
cannot give):

* market orders go through ``submit_market_order`` (they walk the venue's displayed and hidden
  levels and feed the impact state); one taker fill per level;
* limit orders go through ``place_limit_order`` / ``cancel_limit_order``; their fills come from
  ``pop_limit_order_events``: filled by a market order or picked off (the fair price moved
  through them) are both maker fills at the limit price; a level dropped by the venue cancels
  the order (reason ``"venue"``);
* ``cancel_after_ns`` and ``catch_up`` behave as in the replay.

The synthetic market keeps one clock for all venues and refuses times before it, so an action
acts at ``max(t + entry latency, market clock)``; it also ends at its session end, so actions
(and ``advance_to``) after the close act at the close. Fees and rebates default to the venues'
``fee_per_share`` / ``rebate_per_share`` of the market's config. The synthetic market has its own
FIFO queue, so there is no queue model here, and no impact overlay: the prices move by
themselves.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from myopic_sor.data import MarketData, SyntheticMarket
from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation._latency import LatencyModel, as_latency_model
from myopic_sor.simulation._recorder import EventRecorder
from myopic_sor.simulation._replay import (
    DepthPolicy,
    _ExchangeBase,
    _FillLog,
    _iso,
    _Order,
    _shares,
    _status,
    _still_resting,
    _time,
    parse_depth_policy,
    per_venue,
)
from myopic_sor.simulation._types import (
    FILL_CATCH_UP,
    FILL_PENALTY,
    Liquidity,
    OrderStatus,
    Side,
    as_side,
)

__all__ = ["SyntheticExchange"]

logger = logging.getLogger(__name__)

_KIND_FILLED = 1
_KIND_PICKED_OFF = 2
_KIND_VENUE_CANCEL = 3


class SyntheticExchange(_ExchangeBase):
    """The :class:`~myopic_sor.simulation.Exchange` interface on a reactive
    :class:`~myopic_sor.data.SyntheticMarket` (see the module docstring).

    Parameters
    ----------
    market : SyntheticMarket
        The market (its clock only moves forward; use a fresh one per run).
    fees, rebates : float, mapping or sequence, optional
        Taker fee and maker rebate per venue, currency per share; default: the market config's
        ``fee_per_share`` and ``rebate_per_share`` of each venue.
    latency : LatencyModel or int, default 0
        Latency model, or a constant entry latency in ns.
    depth_policy : "error" or ("penalty", c)
        When a market order exhausts the market's book: raise (the executed part is recorded
        first, since the market already traded it) or fill the rest at the deepest price
        reached ``± c`` per share.
    record : bool, default False
        Keep every row the market emits (an :class:`EventRecorder`), so that
        :meth:`market_data` can hand out the causal view of the day being made: what a
        backtest on the reactive market decides from.

    Examples
    --------
    >>> import datetime as dt
    >>> from myopic_sor.data import SyntheticConfig
    >>> mkt = SyntheticMarket(SyntheticConfig(session_end=dt.time(9, 31)), seed=1)
    >>> ex = SyntheticExchange(mkt)
    >>> oid = ex.submit_market(mkt.session_start_ns + 10**9, "XNAS", "buy", 200)
    >>> int(ex.fills["size"].sum())
    200
    """

    def __init__(
        self,
        market: SyntheticMarket,
        *,
        fees: float | Mapping[str, float] | Sequence[float] | None = None,
        rebates: float | Mapping[str, float] | Sequence[float] | None = None,
        latency: LatencyModel | int = 0,
        depth_policy: DepthPolicy | str = "error",
        record: bool = False,
    ) -> None:
        if not isinstance(market, SyntheticMarket):
            raise ConfigError(f"SyntheticExchange needs a SyntheticMarket, got {type(market)}")
        self.market = market
        self._names = market.venue_names
        venues = market.config.venues
        self.fees = per_venue(
            {v.name: v.fee_per_share for v in venues} if fees is None else fees,
            self._names,
            "fees",
        )
        self.rebates = per_venue(
            {v.name: v.rebate_per_share for v in venues} if rebates is None else rebates,
            self._names,
            "rebates",
        )
        self.latency: LatencyModel = as_latency_model(latency)
        self._penalty = parse_depth_policy(depth_policy)
        self.depth_policy: DepthPolicy = (
            "error" if self._penalty is None else ("penalty", self._penalty)
        )
        self._orders: list[_Order] = []
        self._mid: dict[int, int] = {}  # our order id -> the market's limit order id
        self._ours: dict[int, int] = {}  # the market's limit order id -> our order id
        self._log = _FillLog()
        self._now = market.now_ns
        self.recorder: EventRecorder | None = EventRecorder(market) if record else None
        self._impact_rows: list[tuple[int, int, int, int, int, float, float, float, float]] = []
        if self.recorder is not None:
            self.recorder.append(market.advance_to(market.now_ns))

    # -- properties ---------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        """The exchange clock: the latest time advanced to or sent at (int64 UTC ns)."""
        return self._now

    def order_status(self, order_id: int) -> OrderStatus:
        """The current state of one of our orders (queue ahead from the market's own FIFO)."""
        o = self._order(order_id)
        ahead = math.nan
        if o.resting:
            ahead = float(self.market.limit_order_status(self._mid[o.oid]).queue_ahead)
        return _status(o, self._names, ahead)

    def market_data(self, t_ns: int | None = None) -> MarketData:
        """Every row the market has emitted with ``ts_event <= t_ns`` (all when None), our own
        orders' rows included as a public feed shows them; needs ``record=True``.

        Raises
        ------
        ConfigError
            The exchange was made without ``record=True``.
        """
        if self.recorder is None:
            raise ConfigError("market_data needs SyntheticExchange(..., record=True)")
        self.recorder.append(self.market.advance_to(self.market.now_ns))  # rows still pending
        return self.recorder.view(t_ns)

    def impact_log(self) -> pd.DataFrame:
        """Ground truth of our market orders: the market's impact state and fair price just
        before and after each (``order_id``, ``ts_event``, ``venue``, ``side``, ``executed``,
        ``impact_before``, ``impact_after``, ``fair_before``, ``fair_after``; currency per
        share). ``fair_before − impact_before`` is the efficient price S0 at the trade."""
        cols = (
            "order_id",
            "ts_event",
            "venue",
            "side",
            "executed",
            "impact_before",
            "impact_after",
            "fair_before",
            "fair_after",
        )
        df = pd.DataFrame(self._impact_rows, columns=list(cols))
        df["venue"] = [self._names[int(v)] for v in df["venue"]]
        return df

    # -- actions ------------------------------------------------------------------------------
    def advance_to(self, t_ns: int) -> None:
        """Run the market up to ``t_ns`` (at most its session end): our limit orders fill,
        horizons expire and their catch-up market orders execute."""
        t = self._check_time(t_ns, "advance_to")
        self._expire_until(t)
        self._run(t)
        self._now = t

    def submit_market(self, t_ns: int, venue: str | int, side: object, size: int) -> int:
        """Send a market order at ``t_ns`` (acting after the entry latency); return its id.

        Raises
        ------
        ExecutionError
            The market's book ran out (``"error"`` policy); the executed part is recorded.
        """
        t = self._check_time(t_ns, "submit_market")
        v = self._venue(venue)
        s = as_side(side)
        q = _shares(size, "market order")
        t_eff = self._effective(v, t)
        self._expire_until(t_eff)
        self._now = t
        o = _Order(len(self._orders), v, int(s), "market", math.nan, q, t, t_eff)
        self._orders.append(o)
        self._market_fill(o, q, t_eff, 0)
        return o.oid

    def submit_limit(
        self,
        t_ns: int,
        venue: str | int,
        side: object,
        price: float,
        size: int,
        *,
        cancel_after_ns: int | None = None,
        catch_up: bool = True,
    ) -> int:
        """Send a limit order at ``t_ns`` (resting from ``t_ns`` + entry latency); return its id.

        Raises
        ------
        ConfigError
            Bad arguments, a marketable price, or a price beyond the market's internal levels
            (the market's own checks).
        """
        t = self._check_time(t_ns, "submit_limit")
        v = self._venue(venue)
        s = as_side(side)
        q = _shares(size, "limit order")
        p, horizon = self._limit_terms(price, cancel_after_ns)
        t_eff = self._effective(v, t)
        self._expire_until(t_eff)
        self._now = t
        mid = self.market.place_limit_order(v, int(s), p, q, t_eff)
        o = _Order(len(self._orders), v, int(s), "limit", p, q, t, t_eff, catch_up=catch_up)
        self._set_expiry(o, self._names[v], t, horizon)
        o.resting = True
        self._orders.append(o)
        self._mid[o.oid] = mid
        self._ours[mid] = o.oid
        self._collect()
        return o.oid

    def cancel(self, t_ns: int, order_id: int) -> int:
        """Send a cancel at ``t_ns``; return the shares cancelled (0 when no longer resting)."""
        o = self._order(order_id)
        t = self._check_time(t_ns, "cancel")
        self._now = t
        o.venue_cancelled = 0  # cancelled by the venue: we no longer want the catch-up
        if not o.resting:
            return 0
        t_eff = self._effective(o.venue, t)
        self._expire_until(t_eff)
        if not _still_resting(o):  # it may have filled on the way
            return 0
        return self._cancel(o, t_eff, "cancelled")

    # -- internals ----------------------------------------------------------------------------
    def _venue(self, venue: str | int) -> int:
        if isinstance(venue, str) and venue in self._names:
            return self._names.index(venue)
        if not isinstance(venue, str) and isinstance(venue, int) and 0 <= venue < len(self._names):
            return int(venue)
        raise ConfigError(f"unknown venue {venue!r}; the market has {', '.join(self._names)}")

    def _check_time(self, t_ns: object, what: str) -> int:
        t = _time(t_ns, what)
        if t < self._now:
            raise ConfigError(
                f"{what} at {t} ({_iso(t)}) is before the exchange clock {self._now} "
                f"({_iso(self._now)}); actions must come in time order"
            )
        return t

    def _effective(self, v: int, t: int) -> int:
        delay = int(self.latency.entry_delay_ns(self._names[v], t))
        if delay < 0:
            raise ConfigError(f"latency model gave a negative entry delay {delay} ns")
        return self._clamp(max(t + delay, self.market.now_ns))

    def _clamp(self, t: int) -> int:
        return min(t, self.market.session_end_ns)

    def _run(self, t: int) -> None:
        target = self._clamp(t)
        if target > self.market.now_ns:
            chunk = self.market.advance_to(target)
            if self.recorder is not None:
                self.recorder.append(chunk)
        self._collect()

    def _record(
        self, o: _Order, ts: int, price: float, size: int, *, liquidity: Liquidity, flags: int
    ) -> None:
        taker = liquidity == Liquidity.TAKER
        fee = float(self.fees[o.venue]) if taker else -float(self.rebates[o.venue])
        known = ts + int(self.latency.ack_delay_ns(self._names[o.venue], ts))
        self._log.append(o, ts, price, size, liquidity, flags, fee, known)

    def _collect(self) -> None:
        ev = self.market.pop_limit_order_events()
        for k in range(len(ev)):
            o = self._orders[self._ours[int(ev.order_id[k])]]
            kind, size = int(ev.kind[k]), int(ev.size[k])
            if kind in (_KIND_FILLED, _KIND_PICKED_OFF):
                ts, price = int(ev.ts_event[k]), float(ev.price[k])
                self._record(o, ts, price, size, liquidity=Liquidity.MAKER, flags=0)
                if o.leaves == 0:
                    o.resting = False
            elif kind == _KIND_VENUE_CANCEL and o.resting:
                o.cancelled += size
                o.resting = False
                o.reason = "venue"
                if o.catch_up and o.expiry is not None:
                    o.venue_cancelled += size  # still caught up at the horizon
            # kind 4 (cancelled by us) is accounted for by _cancel

    def _cancel(self, o: _Order, t: int, reason: str) -> int:
        got = int(self.market.cancel_limit_order(self._mid[o.oid], t))
        self._collect()  # fills up to t come first
        if not o.resting:
            return 0
        o.cancelled += got
        o.resting = False
        o.reason = reason
        if o.leaves != 0:  # pragma: no cover - the market and our books disagree
            raise ExecutionError(f"order {o.oid}: {o.leaves} shares unaccounted for after cancel")
        return got

    def _expire_until(self, t: int) -> None:
        while True:
            due = [
                o
                for o in self._orders
                if o.awaits_horizon and o.expiry is not None and o.expiry <= t
            ]
            if not due:
                return
            o = min(due, key=lambda x: (x.expiry, x.oid))
            assert o.expiry is not None
            te = self._clamp(max(o.expiry, self.market.now_ns))
            self._run(te)
            left = self._cancel(o, te, "horizon") if o.resting else 0
            left += o.venue_cancelled
            o.venue_cancelled = 0
            if o.catch_up and left > 0:
                o.cancelled -= left
                o.reason = ""
                self._market_fill(o, left, te, FILL_CATCH_UP)

    def _market_fill(self, o: _Order, q: int, t: int, flags: int) -> None:
        res = self.market.submit_market_order(o.venue, o.side, q, t)
        self._collect()  # our limit orders filled up to t first
        self._impact_rows.append(
            (
                o.oid,
                t,
                o.venue,
                o.side,
                int(res.executed),
                float(res.impact_before),
                float(res.impact_after),
                float(res.fair_before),
                float(res.fair_after),
            )
        )
        for p, k in zip(res.prices, res.sizes, strict=True):
            self._record(o, t, float(p), int(k), liquidity=Liquidity.TAKER, flags=flags)
        if res.unfilled == 0:
            return
        s = Side(o.side)
        where = (
            f"market {s.label} of {q} shares on {self._names[o.venue]} at {_iso(t)}: the "
            f"synthetic book ran out after {res.executed} shares"
        )
        if self._penalty is None:
            raise ExecutionError(
                f"{where} (recorded); the remaining {res.unfilled} are not executed: split the "
                "order, or use depth_policy=('penalty', c)"
            )
        ref = float(res.prices[-1]) if len(res.prices) else math.nan
        if math.isnan(ref):
            touch: Literal["bid", "ask"] = "ask" if s == Side.BUY else "bid"
            ref = self.market.best_price(o.venue, touch)
        if math.isnan(ref):
            raise ExecutionError(f"{where}: no price to charge the penalty against")
        pen = ref + o.side * self._penalty
        logger.warning("%s; %d shares filled at the penalty price %.6g", where, res.unfilled, pen)
        self._record(
            o, t, pen, int(res.unfilled), liquidity=Liquidity.TAKER, flags=flags | FILL_PENALTY
        )
