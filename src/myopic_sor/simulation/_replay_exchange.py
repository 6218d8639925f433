"""Replay exchange: our orders against the recorded books of every venue of a day (MATH.md §7).

* **Market orders** walk the displayed levels of their venue at the instant they take effect
  (``t + entry latency``) and pay the volume-weighted price of the levels consumed. A replay
  cannot remove what we took from later recorded events; two market orders on the same venue
  before its next recorded event share the displayed depth (the second sees what the first
  left). When the displayed depth runs out the order fails (``depth_policy="error"``) or the
  rest fills at the worst displayed price plus a penalty per share
  (``depth_policy=("penalty", p)``, logged) — never silently at a price that was not shown.
* **Limit orders** rest at the back of the queue at their price: queue ahead = the displayed
  size at that price when they take effect (0 when the price improves the touch). A
  :class:`QueueModel` moves them up (:func:`._replay_kernels.scan_limit`): only
  trades at our price (risk-averse), or trades and a share of the cancellations
  (probabilistic). A trade through our price or the other side's best reaching it fills the
  rest at our price. ``cancel_after_ns`` is the router horizon: then the rest is cancelled and,
  with ``catch_up``, sent as a market order (flagged ``catch_up``).
* **Fees and rebates** per venue: a taker fill pays ``fee × size``, a maker fill receives
  ``rebate × size`` (recorded as a negative fee).
* **Impact overlay**: an optional ``impact_overlay(t_ns) -> offset`` (signed, currency per
  share; our own modelled impact I(t), positive after our buys) is added to every price we
  trade at, since a replay cannot move recorded prices.
* **No look-ahead**: an order acting at t reads rows with ``ts_event <= t`` only; a fill at a
  row is stamped with that row's time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from myopic_sor._typing import Float64Array1D, Float64Array2D
from myopic_sor.data import MarketData
from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation import _replay_kernels as _kernels
from myopic_sor.simulation import _replay_python as _python

__all__ = [
    "FILL_DTYPE",
    "ConstantLatency",
    "LatencyModel",
    "ProbabilisticQueue",
    "QueueModel",
    "ReplayExchange",
    "RiskAverseQueue",
    "VenueLatency",
    "queue_model_from_spec",
]

logger = logging.getLogger(__name__)

FILL_DTYPE = np.dtype(
    [
        ("ts_event", np.int64),
        ("venue", np.int16),
        ("side", np.int8),
        ("liquidity", np.int8),  # 0 maker, 1 taker
        ("catch_up", np.bool_),
        ("price", np.float64),
        ("size", np.int64),
        ("fee", np.float64),
        ("order_id", np.int64),
    ],
    align=True,
)


@runtime_checkable
class QueueModel(Protocol):
    """How a resting order's place in the queue moves: ``code`` selects the kernel's rule."""

    @property
    def code(self) -> int: ...

    @property
    def power(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RiskAverseQueue:
    """Only trades at our price advance us; a shrinking level caps our position at its size."""

    code: int = _kernels.MODEL_RISK_AVERSE
    power: float = 0.0


@dataclass(frozen=True, slots=True)
class ProbabilisticQueue:
    """Cancellations advance us with probability ``1 − f(back)/(f(back) + f(front))``,
    ``f(x) = x^power`` (hftbacktest's PowerProbQueueFunc), as an expected value."""

    power: float = 2.0
    code: int = _kernels.MODEL_PROB_POWER

    def __post_init__(self) -> None:
        if not (math.isfinite(self.power) and self.power > 0):
            raise ConfigError(f"prob-power queue model needs a power > 0, got {self.power}")


def queue_model_from_spec(spec: str) -> QueueModel:
    """Parse ``"risk-averse"`` or ``"prob-power:N"`` (N > 0, e.g. ``prob-power:2``)."""
    text = spec.strip().lower()
    if text in ("risk-averse", "riskaverse", "risk_averse"):
        return RiskAverseQueue()
    if text.startswith("prob-power"):
        _, _, n = text.partition(":")
        try:
            return ProbabilisticQueue(float(n) if n else 2.0)
        except ValueError:
            pass
    raise ConfigError(f"queue model {spec!r}: use risk-averse or prob-power:N (N > 0)")


@runtime_checkable
class LatencyModel(Protocol):
    """Entry latency of an order sent to a venue, ns."""

    def entry_ns(self, venue: str) -> int:
        """Delay between sending and taking effect at ``venue``."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    """The same entry latency on every venue (ns, ≥ 0)."""

    ns: int = 0

    def __post_init__(self) -> None:
        if self.ns < 0:
            raise ConfigError(f"latency must be >= 0 ns, got {self.ns}")

    def entry_ns(self, venue: str) -> int:
        """``ns`` for every venue."""
        return int(self.ns)


@dataclass(frozen=True, slots=True)
class VenueLatency:
    """A latency per venue (ns), ``default`` for the others."""

    by_venue: Mapping[str, int]
    default: int = 0

    def entry_ns(self, venue: str) -> int:
        """The venue's latency, else ``default``."""
        return int(self.by_venue.get(venue, self.default))


@dataclass
class _Venue:
    name: str
    ts: np.ndarray
    action: np.ndarray
    aggressor: np.ndarray
    price: np.ndarray
    size: np.ndarray
    px: dict[int, Float64Array2D]  # side sign -> levels of that side (+1 bids, −1 asks)
    sz: dict[int, Float64Array2D]
    best: dict[int, Float64Array1D]  # side sign -> that side's best price, contiguous


@dataclass
class _Order:
    oid: int
    venue: int
    side: int
    limit: float
    idx: int
    state: Float64Array1D  # queue ahead, remaining, level size
    expiry: int
    catch_up: bool
    open: bool = True


class ReplayExchange:
    """Replay every venue of a day with our orders in it (see the module notes).

    Parameters
    ----------
    market_data : MarketData
    fees, rebates : sequence of float
        Per venue in ``market_data.venue_names`` order (currency per share).
    queue_model : QueueModel, default RiskAverseQueue()
    latency : int or LatencyModel, default 0
        Entry latency (ns, or a model per venue).
    depth_policy : "error" or ("penalty", p)
        What a market order does when the displayed depth runs out.
    impact_overlay : callable, optional
        ``offset(t_ns)`` added to our trade prices (signed, currency per share).
    use_numba : bool, default True
        False runs the plain-Python twin of the queue kernel.
    """

    def __init__(
        self,
        market_data: MarketData,
        *,
        fees: Sequence[float],
        rebates: Sequence[float],
        queue_model: QueueModel | None = None,
        latency: int | LatencyModel = 0,
        depth_policy: Literal["error"] | tuple[str, float] = "error",
        impact_overlay: Callable[[int], float] | None = None,
        use_numba: bool = True,
    ) -> None:
        self.md = market_data
        self.names = market_data.venue_names
        if len(fees) != len(self.names) or len(rebates) != len(self.names):
            msg = f"give one fee and one rebate per venue ({', '.join(self.names)})"
            raise ConfigError(msg)
        self.fees = [float(f) for f in fees]
        self.rebates = [float(r) for r in rebates]
        self.queue_model: QueueModel = queue_model or RiskAverseQueue()
        self.latency: LatencyModel = (
            ConstantLatency(int(latency)) if isinstance(latency, int) else latency
        )
        if depth_policy != "error" and not (
            isinstance(depth_policy, tuple)
            and len(depth_policy) == 2
            and depth_policy[0] == "penalty"
            and float(depth_policy[1]) >= 0
        ):
            raise ConfigError(f"depth_policy={depth_policy!r}: use 'error' or ('penalty', p >= 0)")
        self.depth_policy = depth_policy
        self.overlay = impact_overlay
        self._scan = _kernels.scan_limit if use_numba else _python.scan_limit
        self._venues: dict[int, _Venue] = {}
        self._orders: list[_Order] = []
        self._fills: list[tuple[int, int, int, int, bool, float, int, float, int]] = []
        self._consumed: dict[tuple[int, int, int], Float64Array1D] = {}
        self._next_id = 0
        self.now = -(2**62)

    # -- data --------------------------------------------------------------------------------
    def _venue(self, v: int) -> _Venue:
        got = self._venues.get(v)
        if got is None:
            d = self.md[self.names[v]]

            def mat(kind: str, side: str) -> Float64Array2D:
                return np.ascontiguousarray(d.level_matrix(kind, side), dtype=np.float64)

            bids, asks = mat("px", "bid"), mat("px", "ask")
            got = _Venue(
                name=d.venue,
                ts=np.ascontiguousarray(d.ts_event),
                action=np.ascontiguousarray(d["action"]),
                aggressor=np.ascontiguousarray(d["side"]),
                price=np.ascontiguousarray(d["price"], dtype=np.float64),
                size=np.ascontiguousarray(d["size"], dtype=np.int64),
                px={1: bids, -1: asks},
                sz={1: mat("sz", "bid"), -1: mat("sz", "ask")},
                best={1: np.ascontiguousarray(bids[:, 0]), -1: np.ascontiguousarray(asks[:, 0])},
            )
            self._venues[v] = got
        return got

    def _index(self, venue: str) -> int:
        try:
            return self.names.index(venue)
        except ValueError:
            raise ConfigError(
                f"unknown venue {venue!r}: the data hold {', '.join(self.names)}"
            ) from None

    @staticmethod
    def _side(side: int | str) -> int:
        if side in (1, "buy", "B"):
            return 1
        if side in (-1, "sell", "S"):
            return -1
        raise ConfigError(f"side={side!r}: use 'buy' or 'sell' (or +1 / -1)")

    def _offset(self, t: int) -> float:
        return float(self.overlay(t)) if self.overlay is not None else 0.0

    def _record(
        self,
        t: int,
        v: int,
        side: int,
        *,
        liquidity: int,
        price: float,
        qty: int,
        oid: int,
        catch_up: bool = False,
    ) -> None:
        if qty <= 0:
            return
        fee = self.fees[v] * qty if liquidity == 1 else -self.rebates[v] * qty
        self._fills.append((t, v, side, liquidity, catch_up, price, qty, fee, oid))

    # -- orders ------------------------------------------------------------------------------
    def submit_market(
        self, t_ns: int, venue: str, side: int | str, size: int, *, catch_up: bool = False
    ) -> int:
        """Send a market order; it walks the displayed levels at ``t + latency``. Returns its id.

        Raises
        ------
        ExecutionError
            The venue has no book yet, or (``depth_policy="error"``) its displayed depth on
            the other side cannot fill ``size``.
        """
        v, s = self._index(venue), self._side(side)
        qty = int(size)
        if qty <= 0:
            raise ConfigError(f"market order size must be > 0 shares, got {size}")
        oid = self._next_id
        self._next_id += 1
        te = int(t_ns) + self.latency.entry_ns(venue)
        d = self._venue(v)
        row = int(np.searchsorted(d.ts, te, side="right")) - 1
        stamp = pd.Timestamp(te, tz="UTC")
        if row < 0:
            msg = f"market order on {venue} at {stamp}: the venue has no book yet"
            raise ExecutionError(msg)
        px = d.px[-s][row]  # a buy takes the asks
        sz = d.sz[-s][row].copy()
        key = (v, row, -s)
        used = self._consumed.get(key)
        if used is not None:
            sz = np.maximum(sz - used, 0.0)
        take = np.zeros_like(sz)
        left = float(qty)
        for j in range(px.shape[0]):
            if left <= 0 or math.isnan(px[j]):
                break
            take[j] = min(sz[j], left)
            left -= take[j]
        self._consumed[key] = (used if used is not None else 0.0) + take
        off = self._offset(te)
        for j in (int(i) for i in np.flatnonzero(take > 0)):
            self._record(
                te,
                v,
                s,
                liquidity=1,
                price=float(px[j]) + off,
                qty=int(take[j]),
                oid=oid,
                catch_up=catch_up,
            )
        if left > 0:
            shown = qty - int(left)
            if self.depth_policy == "error":
                msg = (
                    f"market {'buy' if s > 0 else 'sell'} of {qty} shares on {venue} at {stamp}: "
                    f"only {shown} displayed; split it across venues or set a depth penalty"
                )
                raise ExecutionError(msg)
            pen = float(self.depth_policy[1])
            valid = px[~np.isnan(px)]
            worst = float(valid[-1]) if valid.size else math.nan
            if math.isnan(worst):
                msg = f"market order on {venue} at {stamp}: the other side of the book is empty"
                raise ExecutionError(msg)
            logger.warning(
                "market order on %s at %s: %d of %d shares beyond displayed depth, filled at "
                "the worst displayed price %+.4g penalty",
                venue,
                stamp,
                int(left),
                qty,
                s * pen,
            )
            self._record(
                te,
                v,
                s,
                liquidity=1,
                price=worst + s * pen + off,
                qty=int(left),
                oid=oid,
                catch_up=catch_up,
            )
        return oid

    def submit_limit(
        self,
        t_ns: int,
        venue: str,
        side: int | str,
        price: float,
        size: int,
        *,
        cancel_after_ns: int | None = None,
        catch_up: bool = True,
    ) -> int:
        """Rest a limit order at ``price`` from ``t + latency``; returns its id.

        ``cancel_after_ns``: the router horizon; then the rest is cancelled and, with
        ``catch_up``, sent as a market order.
        """
        v, s = self._index(venue), self._side(side)
        qty = int(size)
        if qty <= 0:
            raise ConfigError(f"limit order size must be > 0 shares, got {size}")
        if not math.isfinite(price):
            raise ConfigError(f"limit price must be finite, got {price}")
        te = int(t_ns) + self.latency.entry_ns(venue)
        d = self._venue(v)
        row = int(np.searchsorted(d.ts, te, side="right")) - 1
        level = -1.0
        ahead = 0.0
        if row >= 0:
            opp = d.px[-s][row][0]
            if not math.isnan(opp) and s * (opp - price) <= 1e-9:
                msg = (
                    f"limit {'buy' if s > 0 else 'sell'} at {price} on {venue} at "
                    f"{pd.Timestamp(te, tz='UTC')} is marketable (opposite best {opp}); send a "
                    "market order"
                )
                raise ConfigError(msg)
            pxs, szs = d.px[s][row], d.sz[s][row]
            hit = np.flatnonzero(np.isclose(pxs, price, rtol=0.0, atol=1e-9))
            if hit.size:
                ahead = level = float(szs[hit[0]])
            elif math.isnan(pxs[0]) or s * (price - pxs[0]) > 0:
                ahead = level = 0.0
            else:  # deeper than the displayed levels: behind everything shown
                ahead = float(np.nansum(szs))
        oid = self._next_id
        self._next_id += 1
        expiry = te + int(cancel_after_ns) if cancel_after_ns is not None else 2**62
        state = np.array([ahead, float(qty), level])
        self._orders.append(_Order(oid, v, s, float(price), row + 1, state, expiry, catch_up))
        return oid

    def _run_order(self, o: _Order, t_stop: int) -> None:
        d = self._venue(o.venue)
        n = d.ts.shape[0]
        fidx = np.empty(min(max(n - o.idx, 1) + 2, 4096), dtype=np.int64)
        fqty = np.empty(fidx.shape[0])
        passive = ord("A") if o.side > 0 else ord("B")
        while True:
            nxt, nf = self._scan(
                d.ts,
                d.action,
                d.aggressor,
                d.price,
                d.size,
                d.px[o.side],
                d.sz[o.side],
                d.best[-o.side],
                o.idx,
                t_stop,
                o.limit,
                o.side,
                passive,
                o.state,
                self.queue_model.code,
                float(self.queue_model.power),
                fidx,
                fqty,
            )
            for k in range(nf):
                tsf = int(d.ts[fidx[k]])
                self._record(
                    tsf,
                    o.venue,
                    o.side,
                    liquidity=0,
                    price=o.limit + self._offset(tsf),
                    qty=round(fqty[k]),
                    oid=o.oid,
                )
            o.idx = nxt
            if nf < fidx.shape[0] - 1 or o.state[1] <= 0 or nxt >= n:
                break
        if o.state[1] <= 0.5:
            o.open = False

    def advance_to(self, t_ns: int) -> None:
        """Run every resting order up to ``t_ns``; expire and catch up those past their horizon."""
        t = int(t_ns)
        for o in self._orders:
            if not o.open:
                continue
            stop = min(t, o.expiry)
            self._run_order(o, stop)
            if o.open and o.expiry <= t:
                self._expire(o)
        self.now = max(self.now, t)

    def _expire(self, o: _Order) -> None:
        o.open = False
        left = round(o.state[1])
        if left > 0 and o.catch_up:
            self.submit_market(o.expiry, self.names[o.venue], o.side, left, catch_up=True)

    def cancel(self, t_ns: int, order_id: int) -> int:
        """Cancel a resting order at ``t + latency``; return the shares cancelled (0 if done)."""
        for o in self._orders:
            if o.oid == order_id:
                if not o.open:
                    return 0
                te = int(t_ns) + self.latency.entry_ns(self.names[o.venue])
                self._run_order(o, te)
                o.open = False
                return round(float(o.state[1]))
        raise ConfigError(f"order_id={order_id}: no such limit order")

    def cancel_all(self, t_ns: int) -> int:
        """Cancel every resting order; return the shares cancelled."""
        return sum(self.cancel(t_ns, o.oid) for o in self._orders if o.open)

    def open_orders(self) -> list[int]:
        """Ids of the resting limit orders."""
        return [o.oid for o in self._orders if o.open]

    def filled_quantity(self) -> int:
        """Shares filled so far (all orders)."""
        return sum(int(f[6]) for f in self._fills)

    @property
    def fills(self) -> np.ndarray:
        """Every fill as a structured array of :data:`FILL_DTYPE`, in time order."""
        arr = np.array(self._fills, dtype=FILL_DTYPE)
        return arr[np.argsort(arr["ts_event"], kind="stable")] if arr.size else arr

    def fills_frame(self) -> pd.DataFrame:
        """The fills as a DataFrame: ``ts_event`` (int ns), ``venue``, ``side`` (buy/sell),
        ``price``, ``size``, ``liquidity`` (maker/taker), ``fee``, ``order_id``, ``catch_up``."""
        f = self.fills
        return pd.DataFrame(
            {
                "ts_event": f["ts_event"],
                "venue": [self.names[i] for i in f["venue"]],
                "side": np.where(f["side"] > 0, "buy", "sell"),
                "price": f["price"],
                "size": f["size"],
                "liquidity": np.where(f["liquidity"] == 0, "maker", "taker"),
                "fee": f["fee"],
                "order_id": f["order_id"],
                "catch_up": f["catch_up"].astype(bool),
            }
        )
