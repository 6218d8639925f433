r"""The replay exchange: our orders against the recorded books of every venue of a day (MATH.md §7).

Time
----
All times are int64 UTC ns. An action (order, cancel) sent at ``t`` to venue v **acts at**
``t_eff = t + entry latency`` (:mod:`~myopic_sor.simulation._latency`). It sees the venue's book
after every recorded event with ``ts_event <= t_eff`` and nothing later; a resting order is then
driven by the events with ``ts_event > t_eff`` one by one, and a fill is stamped with the time of
the event that caused it. So **no order ever sees an event after the time it acts at**, and
changing the data after a time t changes no fill stamped at or before t. Venues do not interact
in a replay, so each venue keeps its own clock: an action is processed eagerly, at submission,
by first running that venue up to ``t_eff`` (its fills are in :attr:`ReplayExchange.fills` at
once, stamped ``t_eff``, possibly later than the last :meth:`~ReplayExchange.advance_to` target;
:meth:`~ReplayExchange.filled_quantity` counts only the fills whose reports have reached us).
Actions on one venue act in the order they were sent (a FIFO link): ``t_eff`` is never before
the venue's last action.

Market orders
-------------
A market order walks the displayed levels on the other side of its venue's book at ``t_eff``
(asks for a buy), one fill per level at that level's price, so its average price is the VWAP of
the levels consumed. When the displayed depth runs out, ``depth_policy="error"`` raises
:class:`~myopic_sor.exceptions.ExecutionError` (naming venue, time and sizes; nothing is
filled), ``depth_policy=("penalty", c)`` fills the rest at the deepest displayed price
``± c`` per share (flagged ``penalty`` and logged). Never a silent fill.

**Known limitation: a replay cannot remove what we took.** The recorded events after our order
still show the liquidity we consumed, and other traders do not react to us. What we do about it:
we remember how much of each displayed level our market orders took, **until the level's
recorded size changes** (any recorded event that changes the size displayed at that price
ends the memory, as the data then describe a book that did not contain us). So several market
orders at the same instant, or at instants with no recorded change at those prices, share the
displayed depth instead of each consuming all of it. Our resting limit orders are not part of
the recorded book either: they never trade with our own market orders.

Limit orders
------------
A limit order joins the back of the queue at its price when it acts: queue ahead = the size
displayed at that price (0 when the price improves the touch; unknown when it lies beyond the
deepest of a full set of displayed levels, until that level shows). A marketable limit order
(a buy at or above the best ask) is refused (:class:`~myopic_sor.exceptions.ConfigError`): send
a market order. A :class:`~myopic_sor.simulation.QueueModel` moves the order up: a trade at our
price on our side advances it and the excess over the shares ahead fills it; a change of the
displayed size updates the estimate (the risk-averse model only caps it at the level size, the
probabilistic ones credit part of the cancellations). A trade through our price, or the other
side's best price reaching ours, fills the rest at our price. All limit fills are maker fills at
the limit price. ``cancel_after_ns`` is the router horizon: a cancel sent at
``t + cancel_after_ns`` acts after the entry latency; what is left is cancelled and, with
``catch_up``, sent as a market order at that instant (a taker fill with the same ``order_id``,
flagged ``catch_up``). A clear-book (R) event cancels our resting orders on that venue (the
queue they were in no longer exists).

Costs
-----
Fees and rebates are per venue, currency per share: a taker fill records ``fee = + f_v × size``
(paid), a maker fill ``fee = − r_v × size`` (received). A negative ``r_v`` (an inverted venue
charging makers) records a positive fee.

Impact overlay
--------------
A replay cannot move recorded prices, so our own modelled impact ``I(t)`` (currency per share,
signed: positive after our net buying pushed the price up, negative after net selling) may be
supplied as ``impact_overlay(t_ns) -> I``. It shifts the whole book we trade against: **every**
fill price is the recorded price plus ``I(t_fill)``, for buys and sells alike (in price terms a
buyer pays ``p + I`` and a seller receives ``p + I``; with ``I > 0`` the buyer pays more, with
``I < 0`` after its own sales a seller receives less). Order prices, queue positions and the
fill rules stay in recorded-price coordinates.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.data import MarketData, VenueData, level_column
from myopic_sor.exceptions import ConfigError, ExecutionError
from myopic_sor.simulation import _kernels, _python
from myopic_sor.simulation._latency import LatencyModel, as_latency_model
from myopic_sor.simulation._queue import QueueModel, queue_model_from_spec
from myopic_sor.simulation._types import (
    FILL_CATCH_UP,
    FILL_PENALTY,
    Liquidity,
    OrderKind,
    OrderStatus,
    Side,
    as_side,
    empty_fills,
    fills_frame,
)

__all__ = [
    "PRICE_TOLERANCE",
    "DepthPolicy",
    "ImpactOverlay",
    "ReplayExchange",
    "parse_depth_policy",
    "per_venue",
]

logger = logging.getLogger(__name__)

#: Two prices within this many currency units are the same level (ticks are ≥ 1e-4).
PRICE_TOLERANCE: Final = 1e-6
_SCAN_BLOCK: Final = 1 << 16

DepthPolicy = Literal["error"] | tuple[str, float]
ImpactOverlay = Callable[[int], float]


def parse_depth_policy(policy: DepthPolicy | str) -> float | None:
    """The penalty per share of a depth policy, or ``None`` for ``"error"``.

    Parameters
    ----------
    policy : "error", ("penalty", c) or "penalty:c"
        ``c`` ≥ 0 currency per share.

    Raises
    ------
    ConfigError
        For anything else.
    """
    if isinstance(policy, str):
        text = policy.strip().lower()
        if text == "error":
            return None
        head, sep, arg = text.partition(":")
        if head == "penalty" and sep:
            try:
                return parse_depth_policy(("penalty", float(arg)))
            except ValueError:
                pass
    elif (
        isinstance(policy, tuple)
        and len(policy) == 2
        and policy[0] == "penalty"
        and isinstance(policy[1], int | float)
        and not isinstance(policy[1], bool)
        and math.isfinite(policy[1])
        and policy[1] >= 0
    ):
        return float(policy[1])
    raise ConfigError(
        f"depth_policy={policy!r}: use 'error' or ('penalty', c) with c ≥ 0 currency per share "
        "(e.g. ('penalty', 0.05) or 'penalty:0.05')"
    )


def per_venue(
    values: float | Mapping[str, float] | Sequence[float], names: Sequence[str], what: str
) -> Float64Array1D:
    """One finite value per venue from a scalar (all venues), a mapping by venue name or a
    sequence in ``names`` order (currency per share)."""
    if isinstance(values, bool):
        raise ConfigError(f"{what}: {values!r} is not currency per share")
    if isinstance(values, int | float):
        out = np.full(len(names), float(values))
    elif isinstance(values, Mapping):
        missing = [n for n in names if n not in values]
        if missing:
            raise ConfigError(
                f"{what}: no value for venue(s) {', '.join(missing)}; give one per venue "
                f"({', '.join(names)}) or a single number"
            )
        out = np.array([float(values[n]) for n in names])
    else:
        seq = [float(v) for v in values]
        if len(seq) != len(names):
            raise ConfigError(
                f"{what}: {len(seq)} values for {len(names)} venues ({', '.join(names)}); give "
                "one per venue in that order, a mapping by venue or a single number"
            )
        out = np.array(seq)
    if not np.all(np.isfinite(out)):
        raise ConfigError(f"{what}: values must be finite currency per share, got {out.tolist()}")
    out.flags.writeable = False
    return out


def _iso(t_ns: int) -> str:
    return pd.Timestamp(t_ns, unit="ns", tz="UTC").isoformat()


def _shares(size: object, what: str) -> int:
    if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
        raise ConfigError(f"{what}: size {size!r} must be a positive whole number of shares")
    v = float(size)
    if not (math.isfinite(v) and v > 0 and v == round(v)):
        raise ConfigError(f"{what}: size {size!r} must be a positive whole number of shares")
    return round(v)


def _time(t_ns: object, what: str) -> int:
    if isinstance(t_ns, bool) or not isinstance(t_ns, int | np.integer):
        raise ConfigError(f"{what}: time {t_ns!r} must be int64 UTC nanoseconds")
    return int(t_ns)


@dataclass(slots=True)
class _Order:
    """Mutable state of one of our orders (lives inside the exchange only)."""

    oid: int
    venue: int
    side: int
    kind: OrderKind
    price: float
    quantity: int
    ts_sent: int
    ts_eff: int
    expiry: int | None = None
    catch_up: bool = False
    filled: int = 0
    cancelled: int = 0
    notional: float = 0.0
    ahead: float = math.nan
    prev: int = -1
    traded: float = 0.0
    resting: bool = False
    reason: str = ""
    venue_cancelled: int = 0  # cancelled by the venue, still to catch up at the horizon

    @property
    def leaves(self) -> int:
        return self.quantity - self.filled - self.cancelled

    @property
    def awaits_horizon(self) -> bool:
        """Resting, or cancelled by the venue with a catch-up still due at its horizon."""
        return self.expiry is not None and (self.resting or self.venue_cancelled > 0)


@dataclass(slots=True)
class _Consumed:
    """What our market orders took from one displayed level, valid while its size is ``shown``."""

    shown: int
    used: int
    row: int


class _FillLog:
    """The growing fill log of an exchange (:data:`FILL_DTYPE` records) with, per fill, the
    time its report reaches us."""

    __slots__ = ("known", "n", "records")

    def __init__(self) -> None:
        self.records = empty_fills(256)
        self.known = np.zeros(256, dtype=np.int64)
        self.n = 0

    def append(  # noqa: PLR0917 - one value per record field
        self,
        o: _Order,
        ts: int,
        price: float,
        size: int,
        liquidity: Liquidity,
        flags: int,
        fee_per_share: float,
        known: int,
    ) -> None:
        n = self.n
        if n == self.records.shape[0]:
            self.records = np.concatenate([self.records, empty_fills(n)])
            self.known = np.concatenate([self.known, np.zeros(n, dtype=np.int64)])
        # one tuple in FILL_DTYPE's field order: ten times faster than setting field by field
        fee = fee_per_share * size
        self.records[n] = (ts, o.oid, size, price, fee, o.venue, o.side, int(liquidity), flags)
        self.known[n] = known
        self.n = n + 1
        o.filled += size
        o.notional += price * size

    def sorted(self) -> npt.NDArray[Any]:
        """The records in time order (stable), a copy."""
        log = self.records[: self.n]
        return log[np.argsort(log["ts_event"], kind="stable")]

    def known_by(self, t: int) -> int:
        """Shares of the fills whose reports reached us by ``t``."""
        n = self.n
        return int(self.records["size"][:n][self.known[:n] <= t].sum())


def _status(o: _Order, names: Sequence[str], queue_ahead: float) -> OrderStatus:
    status: Literal["resting", "filled", "cancelled"] = (
        "resting" if o.resting else "filled" if o.filled == o.quantity else "cancelled"
    )
    return OrderStatus(
        order_id=o.oid,
        venue=names[o.venue],
        side=Side(o.side),
        kind=o.kind,
        price=o.price,
        quantity=o.quantity,
        filled=o.filled,
        cancelled=o.cancelled,
        leaves=o.leaves,
        status=status,
        reason=o.reason,
        avg_price=o.notional / o.filled if o.filled else math.nan,
        queue_ahead=queue_ahead if o.resting else math.nan,
        ts_sent=o.ts_sent,
        ts_effective=o.ts_eff,
        ts_expiry=o.expiry,
    )


def _limit_what(s: Side, q: int, p: float, b: _VenueBook, t_eff: int) -> str:
    # built only for an error message: formatting the time costs more than the order itself
    return f"limit {s.label} of {q} at {p:g} on {b.name} acting at {_iso(t_eff)}"


def _oid(o: _Order) -> int:
    return o.oid


def _still_resting(o: _Order) -> bool:
    return o.resting


Levels = npt.NDArray[Any] | tuple[npt.NDArray[Any], ...]


def _root(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _levels(cols: list[npt.NDArray[Any]]) -> Levels:
    """One book column per level as a ``(levels, rows)`` view when they lie at equal strides in
    one buffer (as the synthetic generator stores them), else the tuple of columns; no copy
    either way. Indexed ``[level][row]`` alike; the kernel call unboxes one array instead of
    one per level (about 0.15 µs each, a call)."""
    first = cols[0]
    if len(cols) == 1:
        return first[np.newaxis, :]
    addr = [c.__array_interface__["data"][0] for c in cols]
    step = addr[1] - addr[0]
    root = _root(first)
    if (
        step >= first.nbytes
        and all(c.dtype == first.dtype and c.shape == first.shape for c in cols)
        and all(c.flags.c_contiguous and _root(c) is root for c in cols)
        and all(a - addr[0] == k * step for k, a in enumerate(addr))
    ):  # every row of the view is one of the columns, in a buffer that `first` keeps alive
        return np.lib.stride_tricks.as_strided(
            first, shape=(len(cols), first.shape[0]), strides=(step, first.itemsize),
            writeable=False,
        )  # fmt: skip
    return tuple(cols)


class _VenueBook:
    """One venue's recorded columns (the level columns as one 2-D view or a tuple), its replay
    cursor and the kernel's state of our orders resting there."""

    __slots__ = (
        "action",
        "active",
        "ask_px",
        "ask_sz",
        "bid_px",
        "bid_sz",
        "clock",
        "consumed",
        "index",
        "levels",
        "n",
        "name",
        "o_flt",
        "o_int",
        "price",
        "row",
        "side",
        "size",
        "ts",
        "waiting",
    )

    def __init__(self, index: int, data: VenueData) -> None:
        self.index = index
        self.name = data.venue
        self.n = len(data)
        self.levels = data.levels

        def col(name: str) -> npt.NDArray[Any]:
            return np.ascontiguousarray(data[name])

        self.ts: Int64Array1D = col("ts_event")
        self.action = col("action")
        self.side = col("side")
        self.price = col("price")
        self.size = col("size")
        lv = range(data.levels)
        self.bid_px = _levels([col(level_column("px", "bid", k)) for k in lv])
        self.bid_sz = _levels([col(level_column("sz", "bid", k)) for k in lv])
        self.ask_px = _levels([col(level_column("px", "ask", k)) for k in lv])
        self.ask_sz = _levels([col(level_column("sz", "ask", k)) for k in lv])
        self.row = 0  # rows [0, row) are processed: the book is row - 1
        self.clock = -(2**63)  # every row with ts_event <= clock is processed
        self.active: list[int] = []  # resting order ids; column j of o_int/o_flt is active[j]
        self.o_int = np.zeros((3, 8), dtype=np.int64)  # the kernel's order state (its docs)
        self.o_flt = np.zeros((3, 8), dtype=np.float64)
        self.waiting: list[int] = []  # cancelled by the venue, catch-up due at the horizon
        self.consumed: dict[tuple[int, int], _Consumed] = {}

    def levels_of(self, side: int) -> tuple[Levels, Levels]:
        """(prices, sizes) of the book side a ``side`` order rests on (+1: bids)."""
        return (self.bid_px, self.bid_sz) if side == 1 else (self.ask_px, self.ask_sz)

    def level_qty(self, row: int, p: float, side: int) -> int:
        """:func:`~myopic_sor.simulation._python.level_qty` on row ``row`` for a ``side``
        order at ``p``, reading the row's levels at once."""
        px_l, sz_l = self.levels_of(side)
        if isinstance(px_l, np.ndarray) and isinstance(sz_l, np.ndarray):
            prices, sizes = px_l[:, row].tolist(), sz_l[:, row].tolist()
        else:
            prices, sizes = [float(a[row]) for a in px_l], [int(a[row]) for a in sz_l]
        return _python.level_qty_of(prices, sizes, p, side, PRICE_TOLERANCE)

    def rest(self, o: _Order) -> None:
        """Add a resting order as the last column of the kernel's order state."""
        m = len(self.active)
        if m + 1 >= self.o_int.shape[1]:  # room to spare: the kernel's views keep one layout
            self.o_int = np.concatenate([self.o_int, np.zeros_like(self.o_int)], axis=1)
            self.o_flt = np.concatenate([self.o_flt, np.zeros_like(self.o_flt)], axis=1)
        o_int, o_flt = self.o_int, self.o_flt
        o_int[_kernels.O_SIDE, m], o_int[_kernels.O_REM, m] = o.side, o.leaves
        o_int[_kernels.O_PREV, m] = o.prev
        o_flt[_kernels.O_PRICE, m], o_flt[_kernels.O_AHEAD, m] = o.price, o.ahead
        o_flt[_kernels.O_TRADED, m] = o.traded
        self.active.append(o.oid)

    def sync(self, o: _Order, j: int | None = None) -> int:
        """Copy the queue state of resting order ``o`` (column ``j``) back into it; its column."""
        j = self.active.index(o.oid) if j is None else j
        o.ahead = float(self.o_flt[_kernels.O_AHEAD, j])
        o.prev = int(self.o_int[_kernels.O_PREV, j])
        o.traded = float(self.o_flt[_kernels.O_TRADED, j])
        return j

    def unrest(self, o: _Order, j: int | None = None) -> None:
        """Take resting order ``o`` (column ``j``) out of the kernel's order state, keeping the
        order of the others (it is the order of their fills within a row)."""
        j = self.sync(o, j)
        m = len(self.active)
        if j < m - 1:
            self.o_int[:, j : m - 1] = self.o_int[:, j + 1 : m]
            self.o_flt[:, j : m - 1] = self.o_flt[:, j + 1 : m]
        del self.active[j]


class _ExchangeBase(ABC):
    """Order and fill book-keeping shared by :class:`ReplayExchange` and
    :class:`~myopic_sor.simulation.SyntheticExchange` (subclasses set ``_names``, ``_orders``,
    ``_log`` and define ``now_ns``, ``cancel`` and ``order_status``)."""

    _names: tuple[str, ...]
    _orders: list[_Order]
    _log: _FillLog
    latency: LatencyModel

    @staticmethod
    def _limit_terms(price: float, cancel_after_ns: int | None) -> tuple[float, int | None]:
        """A limit order's price and router horizon, checked: (price, horizon ns or None)."""
        p = float(price)
        if not (math.isfinite(p) and p > 0):
            raise ConfigError(f"limit order: price {price!r} must be a finite price > 0")
        if cancel_after_ns is None:
            return p, None
        horizon = _time(cancel_after_ns, "cancel_after_ns")
        if horizon <= 0:
            raise ConfigError(f"cancel_after_ns={horizon}: the horizon must be > 0 ns")
        return p, horizon

    def _set_expiry(self, o: _Order, venue: str, t: int, horizon: int | None) -> None:
        """The horizon's cancel is sent at ``t + horizon`` and acts after the entry latency
        (never before the order itself rests)."""
        if horizon is not None:
            t_c = t + horizon
            o.expiry = max(t_c + self.latency.entry_delay_ns(venue, t_c), o.ts_eff)

    @property
    @abstractmethod
    def now_ns(self) -> int:
        """The exchange clock, int64 UTC ns."""

    @abstractmethod
    def cancel(self, t_ns: int, order_id: int) -> int:
        """Cancel one resting order; return the shares cancelled."""

    @property
    def venue_names(self) -> tuple[str, ...]:
        """Venue names; a fill's ``venue`` indexes them."""
        return self._names

    @property
    def fills(self) -> npt.NDArray[Any]:
        """Every fill so far (records of :data:`FILL_DTYPE`, a copy) in time order (stable)."""
        return self._log.sorted()

    def fills_frame(self) -> pd.DataFrame:
        """:attr:`fills` as a DataFrame (:func:`~myopic_sor.simulation.fills_frame`)."""
        return fills_frame(self.fills, self._names)

    def filled_quantity(self, t_ns: int | None = None) -> int:
        """Shares filled whose reports reached us by ``t_ns`` (default the clock):
        ``ts_event + ack latency <= t_ns``."""
        return self._log.known_by(self.now_ns if t_ns is None else int(t_ns))

    def open_orders(self) -> list[int]:
        """Ids of our resting limit orders."""
        return [o.oid for o in self._orders if o.resting]

    def cancel_all(self, t_ns: int) -> int:
        """Cancel every resting order at ``t_ns``; return the shares cancelled."""
        return sum(self.cancel(t_ns, oid) for oid in self.open_orders())

    def _order(self, order_id: int) -> _Order:
        i = int(order_id)
        if not 0 <= i < len(self._orders):
            raise ExecutionError(
                f"unknown order_id {order_id!r}: this exchange has orders "
                f"0..{len(self._orders) - 1}"
            )
        return self._orders[i]


class ReplayExchange(_ExchangeBase):
    """Replay all venues of a day with our orders in them (see the module docstring).

    Parameters
    ----------
    market_data : MarketData
        The recorded books; every venue is an exchange venue (``venue_names`` order).
    fees, rebates : float, mapping or sequence
        Taker fee and maker rebate per venue, currency per share (a number for all venues, a
        mapping by venue name, or one per venue in ``market_data.venue_names`` order).
    queue_model : QueueModel or str, default "risk-averse"
        Queue-position model of our limit orders, or its spec (``"prob-power:2"``, ...).
    latency : LatencyModel or int, default 0
        Latency model, or a constant entry latency in ns.
    depth_policy : "error" or ("penalty", c)
        What a market order does when the displayed depth runs out.
    impact_overlay : callable, optional
        ``I(t_ns) -> float``: our modelled impact (currency per share, signed), added to every
        fill price.
    use_numba : bool, default True
        ``False`` runs the plain-Python twin of the replay kernel.

    Examples
    --------
    >>> import datetime as dt
    >>> from myopic_sor.data import generate_market_data
    >>> md, _ = generate_market_data(seed=3, session_end=dt.time(9, 31))
    >>> ex = ReplayExchange(md, fees=0.003, rebates=0.002)
    >>> t = md.first_ts + 10**9
    >>> oid = ex.submit_market(t, "XNAS", "buy", 300)
    >>> int(ex.fills_frame()["size"].sum())
    300
    """

    def __init__(
        self,
        market_data: MarketData,
        *,
        fees: float | Mapping[str, float] | Sequence[float] = 0.0,
        rebates: float | Mapping[str, float] | Sequence[float] = 0.0,
        queue_model: QueueModel | str = "risk-averse",
        latency: LatencyModel | int = 0,
        depth_policy: DepthPolicy | str = "error",
        impact_overlay: ImpactOverlay | None = None,
        use_numba: bool = True,
    ) -> None:
        self.market_data = market_data
        self._names: tuple[str, ...] = market_data.venue_names
        self._books = [_VenueBook(i, market_data[n]) for i, n in enumerate(self._names)]
        self.fees = per_venue(fees, self._names, "fees")
        self.rebates = per_venue(rebates, self._names, "rebates")
        self.queue_model: QueueModel = queue_model_from_spec(queue_model)
        code = self.queue_model.kernel_code
        if code not in (0, 1, 2):
            raise ConfigError(
                f"queue model {self.queue_model!r} has kernel_code {code}; the replay kernel "
                "knows 0 (risk-averse), 1 (power) and 2 (log)"
            )
        self.latency: LatencyModel = as_latency_model(latency)
        self._penalty = parse_depth_policy(depth_policy)
        self.depth_policy: DepthPolicy = (
            "error" if self._penalty is None else ("penalty", self._penalty)
        )
        if impact_overlay is not None and not callable(impact_overlay):
            raise ConfigError("impact_overlay must be a callable I(t_ns) -> price offset")
        self.impact_overlay = impact_overlay
        self._kernel = _kernels.replay_kernel if use_numba else _python.replay_kernel
        self._orders: list[_Order] = []
        self._log = _FillLog()
        starts = [int(b.ts[0]) for b in self._books if b.n]
        self._start = min(starts) if starts else 0
        self._now: int | None = None  # nothing sent or advanced yet: no constraint
        self._f_int = np.zeros((4, 1024), dtype=np.int64)  # the kernel's fill buffers
        self._f_price = np.zeros(1024, dtype=np.float64)

    # -- properties ---------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        """The exchange clock: the latest time advanced to or sent at (int64 UTC ns); before
        any action, one ns before the first recorded event (actions may still be sent earlier)."""
        return self._start - 1 if self._now is None else self._now

    def order_status(self, order_id: int) -> OrderStatus:
        """The current state of one of our orders (see :class:`OrderStatus`)."""
        o = self._order(order_id)
        if o.resting:
            self._books[o.venue].sync(o)
        return _status(o, self._names, max(o.ahead, 0.0))

    # -- actions ------------------------------------------------------------------------------
    def advance_to(self, t_ns: int) -> None:
        """Run every venue up to ``t_ns`` inclusive: resting orders fill, horizons expire (and
        their catch-up market orders execute).

        Raises
        ------
        ConfigError
            ``t_ns`` before the exchange clock.
        ExecutionError
            A catch-up market order that the displayed depth cannot fill (``"error"`` policy).
        """
        t = self._check_time(t_ns, "advance_to")
        for b in self._books:
            self._advance_book(b, t)
        self._now = t

    def submit_market(self, t_ns: int, venue: str | int, side: object, size: int) -> int:
        """Send a market order at ``t_ns``; it acts at ``t_ns`` + entry latency. Returns its id.

        Parameters
        ----------
        t_ns : int
            Send time, int64 UTC ns (not before the clock).
        venue : str or int
            Venue name or index.
        side : {+1, -1, "buy", "sell"}
        size : int
            Shares, > 0.

        Raises
        ------
        ExecutionError
            The venue shows no book at that time, or (``"error"`` policy) its displayed depth
            cannot fill ``size``; nothing is filled then.
        """
        t = self._check_time(t_ns, "submit_market")
        b = self._book(venue)
        s = as_side(side)
        q = _shares(size, "market order")
        t_eff = self._effective(b, t)
        self._advance_book(b, t_eff)
        self._now = t
        plan = self._walk(b, s, q, t_eff, f"market {s.label} of {q} shares")
        o = _Order(len(self._orders), b.index, int(s), "market", math.nan, q, t, t_eff)
        self._orders.append(o)
        self._commit(b, o, t_eff, plan, 0)
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
        """Send a limit order at ``t_ns``; it rests from ``t_ns`` + entry latency. Returns its id.

        Parameters
        ----------
        t_ns : int
            Send time, int64 UTC ns (not before the clock).
        venue : str or int
        side : {+1, -1, "buy", "sell"}
            A buy rests on the bid side.
        price : float
            Limit price, currency per share; not marketable.
        size : int
            Shares, > 0.
        cancel_after_ns : int, optional
            Router horizon, ns (> 0): a cancel is sent at ``t_ns + cancel_after_ns``.
        catch_up : bool, default True
            At the horizon, send the cancelled rest as a market order (flagged ``catch_up``).

        Raises
        ------
        ConfigError
            Bad arguments, or a marketable price.
        ExecutionError
            The venue shows no book yet at that time.
        """
        t = self._check_time(t_ns, "submit_limit")
        b = self._book(venue)
        s = as_side(side)
        q = _shares(size, "limit order")
        p, horizon = self._limit_terms(price, cancel_after_ns)
        t_eff = self._effective(b, t)
        self._advance_book(b, t_eff)
        self._now = t
        row = b.row - 1
        if row < 0:
            first = _iso(int(b.ts[0])) if b.n else "never"
            raise ExecutionError(
                f"{_limit_what(s, q, p, b, t_eff)}: the venue shows no book yet (first event: "
                f"{first})"
            )
        opp = float((b.ask_px if s == Side.BUY else b.bid_px)[0][row])
        if not math.isnan(opp) and s * (opp - p) <= PRICE_TOLERANCE:
            raise ConfigError(
                f"{_limit_what(s, q, p, b, t_eff)} is marketable (best "
                f"{'ask' if s == Side.BUY else 'bid'} {opp:g}); send a market order, or a price "
                "on our side of the spread"
            )
        lq = b.level_qty(row, p, int(s))
        o = _Order(len(self._orders), b.index, int(s), "limit", p, q, t, t_eff, catch_up=catch_up)
        if lq >= 0:
            o.ahead, o.prev = self.queue_model.on_entry(float(lq)), lq
        else:
            o.ahead, o.prev = math.inf, -1  # beyond the displayed levels: unknown until shown
        self._set_expiry(o, b.name, t, horizon)
        o.resting = True
        self._orders.append(o)
        b.rest(o)
        return o.oid

    def cancel(self, t_ns: int, order_id: int) -> int:
        """Send a cancel at ``t_ns`` (acting after the entry latency); return the shares
        cancelled (0 when the order is no longer resting: a normal race, not an error).

        Raises
        ------
        ExecutionError
            Unknown ``order_id``.
        """
        o = self._order(order_id)
        t = self._check_time(t_ns, "cancel")
        self._now = t
        b = self._books[o.venue]
        if o.venue_cancelled:  # the venue cancelled it: we no longer want the catch-up
            o.venue_cancelled = 0
            b.waiting.remove(o.oid)
        if not o.resting:
            return 0
        self._advance_book(b, self._effective(b, t))
        if not _still_resting(o):  # it may have filled on the way
            return 0
        return self._cancel(b, o, "cancelled")

    # -- internals ----------------------------------------------------------------------------
    def _book(self, venue: str | int) -> _VenueBook:
        if isinstance(venue, str):
            if venue in self._names:
                return self._books[self._names.index(venue)]
            raise ConfigError(f"unknown venue {venue!r}; the data hold {', '.join(self._names)}")
        if isinstance(venue, int | np.integer) and 0 <= int(venue) < len(self._books):
            return self._books[int(venue)]
        raise ConfigError(f"venue {venue!r}: give a name ({', '.join(self._names)}) or an index")

    def _check_time(self, t_ns: object, what: str) -> int:
        t = _time(t_ns, what)
        if self._now is not None and t < self._now:
            raise ConfigError(
                f"{what} at {t} ({_iso(t)}) is before the exchange clock {self._now} "
                f"({_iso(self._now)}); actions must come in time order"
            )
        return t

    def _effective(self, b: _VenueBook, t: int) -> int:
        delay = int(self.latency.entry_delay_ns(b.name, t))
        if delay < 0:
            raise ConfigError(f"latency model gave a negative entry delay {delay} ns for {b.name}")
        return max(t + delay, b.clock)

    def _offset(self, t: int) -> float:
        if self.impact_overlay is None:
            return 0.0
        value = float(self.impact_overlay(t))
        if not math.isfinite(value):
            raise ConfigError(f"impact_overlay({t}) returned {value}; it must be a finite offset")
        return value

    def _record(
        self, o: _Order, ts: int, price: float, size: int, *, liquidity: Liquidity, flags: int
    ) -> None:
        taker = liquidity == Liquidity.TAKER
        fee = float(self.fees[o.venue]) if taker else -float(self.rebates[o.venue])
        known = ts + int(self.latency.ack_delay_ns(self._names[o.venue], ts))
        self._log.append(o, ts, price, size, liquidity, flags, fee, known)

    def _cancel(self, b: _VenueBook, o: _Order, reason: str) -> int:
        left = o.leaves
        o.cancelled += left
        o.resting = False
        o.reason = reason
        b.unrest(o)
        return left

    # market orders: plan the walk (raising before anything is filled), then commit it
    def _walk(
        self, b: _VenueBook, s: Side, q: int, t: int, what: str
    ) -> tuple[list[tuple[float, int, int]], float, int]:
        row = b.row - 1
        px_l, sz_l = b.levels_of(-int(s))
        takes: list[tuple[float, int, int]] = []
        left = q
        deepest = math.nan
        if row >= 0:
            for px_a, sz_a in zip(px_l, sz_l, strict=True):
                x = float(px_a[row])
                if math.isnan(x) or left == 0:
                    break
                deepest = x
                shown = int(sz_a[row])
                avail = shown - self._used(b, int(s), x, shown, row)
                if avail > 0:
                    k = min(left, avail)
                    takes.append((x, k, shown))
                    left -= k
        book_side = "asks" if s == Side.BUY else "bids"
        where = f"{what} on {b.name} at {_iso(t)}"
        if left == 0:
            return takes, math.nan, 0
        if self._penalty is None:
            raise ExecutionError(
                f"{where}: displayed depth exhausted: only {q - left} displayed on the "
                f"{book_side} ({len(takes)} level(s), net of our own earlier takes) for {q} "
                "shares; split the order across venues or time, or use "
                "depth_policy=('penalty', c)"
            )
        if math.isnan(deepest):
            raise ExecutionError(f"{where}: the venue displays no {book_side} to price it against")
        pen = deepest + int(s) * self._penalty
        logger.warning(
            "%s: %d of %d shares beyond the displayed depth filled at the penalty price %.6g "
            "(deepest displayed %.6g %+.6g)",
            where, left, q, pen, deepest, int(s) * self._penalty,
        )  # fmt: skip
        return takes, pen, left

    def _commit(
        self,
        b: _VenueBook,
        o: _Order,
        t: int,
        plan: tuple[list[tuple[float, int, int]], float, int],
        flags: int,
    ) -> None:
        takes, pen, left = plan
        row = b.row - 1
        off = self._offset(t)
        for x, k, shown in takes:
            self._consume(b, o.side, x, shown, row, k)
            self._record(o, t, x + off, k, liquidity=Liquidity.TAKER, flags=flags)
        if left:
            self._record(
                o, t, pen + off, left, liquidity=Liquidity.TAKER, flags=flags | FILL_PENALTY
            )

    @staticmethod
    def _key(side: int, x: float) -> tuple[int, int]:
        return side, round(x / PRICE_TOLERANCE)

    def _used(self, b: _VenueBook, side: int, x: float, shown: int, row: int) -> int:
        key = self._key(side, x)
        c = b.consumed.get(key)
        if c is None:
            return 0
        if c.shown != shown or not self._unchanged(b, side, x, shown, c.row, row):
            del b.consumed[key]
            return 0
        c.row = row
        return c.used

    def _consume(  # noqa: PLR0917 - a private helper
        self, b: _VenueBook, side: int, x: float, shown: int, row: int, k: int
    ) -> None:
        key = self._key(side, x)
        c = b.consumed.get(key)
        if c is None:
            b.consumed[key] = _Consumed(shown, k, row)
        else:
            c.used += k

    @staticmethod
    def _unchanged(  # noqa: PLR0917 - a private helper
        b: _VenueBook, side: int, x: float, shown: int, r0: int, r1: int
    ) -> bool:
        # Is the size displayed at x (on the side a `side` market order takes) still `shown`
        # on every row r0+1..r1? Scanned in blocks; stops at the first change.
        px_l, sz_l = b.levels_of(-side)
        lo = r0 + 1
        while lo <= r1:
            hi = min(r1 + 1, lo + _SCAN_BLOCK)
            found = np.zeros(hi - lo, dtype=bool)
            size_at = np.zeros(hi - lo, dtype=np.int64)
            for px_a, sz_a in zip(px_l, sz_l, strict=True):
                hit = np.abs(px_a[lo:hi] - x) <= PRICE_TOLERANCE
                size_at[hit] = sz_a[lo:hi][hit]
                found |= hit
            if not bool(np.all(found & (size_at == shown))):
                return False
            lo = hi
        return True

    # the replay of resting orders
    def _advance_book(self, b: _VenueBook, t: int) -> None:
        orders = self._orders
        while True:
            stop = t  # the earliest horizon due by t, else t
            due: list[_Order] = []
            for i in (*b.active, *b.waiting):
                o = orders[i]
                if o.expiry is not None and o.expiry <= t:
                    due.append(o)
                    stop = min(stop, o.expiry)
            if stop > b.clock:
                self._run_to(b, stop)
            if due:
                due.sort(key=_oid)
                for o in due:
                    if o.expiry == stop and o.awaits_horizon:
                        self._expire(b, o, stop)
            if stop >= t:
                return

    def _run_to(self, b: _VenueBook, stop: int) -> None:
        model = self.queue_model
        while True:
            m = len(b.active)
            if not m:
                b.row += int(np.searchsorted(b.ts[b.row :], stop, side="right"))
                b.clock = max(b.clock, stop)
                return
            if self._f_price.shape[0] < 4 * m + 8:
                self._f_int = np.zeros((4, 4 * m + 1024), dtype=np.int64)
                self._f_price = np.zeros(4 * m + 1024, dtype=np.float64)
            nxt, nf, status = self._kernel(
                b.row, stop, b.ts, b.action, b.side, b.price, b.size,
                b.bid_px, b.bid_sz, b.ask_px, b.ask_sz,
                b.o_int[:, :m], b.o_flt[:, :m], model.kernel_code, float(model.kernel_param),
                PRICE_TOLERANCE,
                self._f_int, self._f_price,
            )  # fmt: skip
            if nf:
                self._maker_fills(b, int(nf))
            b.row = int(nxt)
            if status == _kernels.STATUS_CLEAR:
                t_clear = int(b.ts[b.row])
                for o in [self._orders[i] for i in b.active]:
                    left = self._cancel(b, o, "venue")
                    if o.catch_up and o.expiry is not None:
                        o.venue_cancelled = left
                        b.waiting.append(o.oid)
                    logger.info(
                        "%s cleared its book at %s: our order %d cancelled (%d shares left)",
                        b.name, _iso(t_clear), o.oid, left,
                    )  # fmt: skip
                b.row += 1
            elif status == _kernels.STATUS_STOP:
                b.clock = max(b.clock, stop)
                return

    def _maker_fills(self, b: _VenueBook, nf: int) -> None:
        """Log the kernel's ``nf`` fills (in its order) and retire the orders they finished."""
        f_int = self._f_int
        cols = f_int[_kernels.F_ORDER, :nf].tolist()
        rows = f_int[_kernels.F_ROW, :nf].tolist()
        sizes = f_int[_kernels.F_SIZE, :nf].tolist()
        fee = -float(self.rebates[b.index])
        ack = self.latency.ack_delay_ns
        for j, r, q, p in zip(cols, rows, sizes, self._f_price[:nf].tolist(), strict=True):
            o = self._orders[b.active[j]]
            ts = int(b.ts[r])
            price = p + self._offset(ts)
            known = ts + int(ack(b.name, ts))
            self._log.append(o, ts, price, q, Liquidity.MAKER, 0, fee, known)
        for j in sorted(set(cols), reverse=True):  # the highest column first: j stays valid
            o = self._orders[b.active[j]]
            if o.leaves != int(b.o_int[_kernels.O_REM, j]):  # pragma: no cover - an invariant
                raise ExecutionError(f"replay bookkeeping of order {o.oid} is inconsistent")
            if o.leaves == 0:
                o.resting = False
                b.unrest(o, j)

    def _expire(self, b: _VenueBook, o: _Order, t: int) -> None:
        left = self._cancel(b, o, "horizon") if o.resting else 0
        if o.venue_cancelled:
            b.waiting.remove(o.oid)
            left += o.venue_cancelled
            o.venue_cancelled = 0
        if not (o.catch_up and left > 0):
            return
        what = f"catch-up market {Side(o.side).label} of {left} shares (order {o.oid})"
        plan = self._walk(b, Side(o.side), left, t, what)
        o.cancelled -= left
        o.reason = ""
        self._commit(b, o, t, plan, FILL_CATCH_UP)
