"""Value types of the execution simulator: sides, the fill record, order specs and statuses,
and the :class:`Exchange` protocol that the replay and the synthetic exchange both implement.

Fills are bulk records: an aligned structured numpy dtype (:data:`FILL_DTYPE`) inside, a pandas
DataFrame at the edge (:func:`fills_frame`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from myopic_sor.exceptions import ConfigError

__all__ = [
    "FILL_CATCH_UP",
    "FILL_DTYPE",
    "FILL_PENALTY",
    "Exchange",
    "Liquidity",
    "OrderKind",
    "OrderSpec",
    "OrderStatus",
    "Side",
    "as_side",
    "empty_fills",
    "fills_frame",
]

OrderKind = Literal["market", "limit"]


class Side(IntEnum):
    """Order side: ``BUY = +1``, ``SELL = −1``, so ``side * qty`` is a signed quantity."""

    BUY = 1
    SELL = -1

    @property
    def label(self) -> str:
        """``"buy"`` or ``"sell"``."""
        return "buy" if self is Side.BUY else "sell"


_SIDE_WORDS: Final = {
    "buy": Side.BUY,
    "b": Side.BUY,
    "+1": Side.BUY,
    "1": Side.BUY,
    "sell": Side.SELL,
    "s": Side.SELL,
    "-1": Side.SELL,
}


def as_side(value: object) -> Side:
    """Parse a side: ``+1``/``−1`` (any integer type), ``"buy"``/``"sell"`` (also ``"b"``/``"s"``,
    ``"+1"``/``"-1"``, any case) or a :class:`Side`.

    Raises
    ------
    ConfigError
        For anything else (the message lists what is accepted).

    Examples
    --------
    >>> as_side("Sell"), as_side(1)
    (<Side.SELL: -1>, <Side.BUY: 1>)
    """
    if isinstance(value, Side):
        return value
    if isinstance(value, str):
        side = _SIDE_WORDS.get(value.strip().lower())
        if side is not None:
            return side
    elif (
        isinstance(value, int | np.integer)
        and not isinstance(value, bool)
        and int(value) in (1, -1)
    ):
        return Side(int(value))
    raise ConfigError(f"side={value!r}: use +1 / 'buy' or -1 / 'sell'")


class Liquidity(IntEnum):
    """Whether a fill added liquidity (``MAKER``, a resting limit order) or took it
    (``TAKER``, a market order or a catch-up)."""

    MAKER = 1
    TAKER = 2


#: ``flags`` bit of a fill: the market order that sent the rest of a limit order at its horizon.
FILL_CATCH_UP: Final = 1
#: ``flags`` bit of a fill: shares beyond the displayed depth, filled at the penalty price.
FILL_PENALTY: Final = 2

#: One fill, aligned (48 bytes). ``ts_event`` int64 UTC ns of the event that filled us (the
#: effective time of a market order); ``order_id``; ``size`` shares (> 0); ``price`` currency per
#: share (impact overlay included); ``fee`` currency, + paid (taker fee), − received (maker
#: rebate); ``venue`` index into the exchange's ``venue_names``; ``side`` +1 buy / −1 sell;
#: ``liquidity`` a :class:`Liquidity` code; ``flags`` :data:`FILL_CATCH_UP` | :data:`FILL_PENALTY`.
FILL_DTYPE: Final = np.dtype(
    [
        ("ts_event", np.int64),
        ("order_id", np.int64),
        ("size", np.int64),
        ("price", np.float64),
        ("fee", np.float64),
        ("venue", np.int32),
        ("side", np.int8),
        ("liquidity", np.int8),
        ("flags", np.uint8),
    ],
    align=True,
)

_FRAME_COLUMNS: Final = (
    "ts_event",
    "venue",
    "side",
    "price",
    "size",
    "liquidity",
    "fee",
    "order_id",
    "catch_up",
    "penalty",
)


def empty_fills(n: int = 0) -> npt.NDArray[Any]:
    """A zeroed fill array of ``n`` records of :data:`FILL_DTYPE`."""
    return np.zeros(n, dtype=FILL_DTYPE)


def fills_frame(fills: npt.NDArray[Any], venue_names: Sequence[str]) -> pd.DataFrame:
    """Turn fill records into the DataFrame of the API and the reports.

    Parameters
    ----------
    fills : numpy.ndarray
        Records of :data:`FILL_DTYPE`.
    venue_names : sequence of str
        Names of the venue indices.

    Returns
    -------
    pandas.DataFrame
        One row per fill, in the records' order: ``ts_event`` (int64 UTC ns, Databento's
        convention), ``venue`` (name), ``side`` (``"buy"``/``"sell"``), ``price`` (currency per
        share), ``size`` (shares), ``liquidity`` (``"maker"``/``"taker"``), ``fee`` (currency,
        + paid, − rebate received), ``order_id``, ``catch_up`` and ``penalty`` (bool flags).
    """
    if fills.dtype != FILL_DTYPE:
        raise ConfigError(f"fills_frame needs records of FILL_DTYPE, got dtype {fills.dtype}")
    names = np.asarray([*venue_names, ""], dtype=object)
    data: dict[str, Any] = {
        "ts_event": fills["ts_event"].astype(np.int64),
        "venue": names[fills["venue"]],
        "side": np.where(fills["side"] > 0, "buy", "sell").astype(object),
        "price": fills["price"].astype(np.float64),
        "size": fills["size"].astype(np.int64),
        "liquidity": np.where(fills["liquidity"] == Liquidity.MAKER, "maker", "taker").astype(
            object
        ),
        "fee": fills["fee"].astype(np.float64),
        "order_id": fills["order_id"].astype(np.int64),
        "catch_up": (fills["flags"] & FILL_CATCH_UP) != 0,
        "penalty": (fills["flags"] & FILL_PENALTY) != 0,
    }
    return pd.DataFrame(data, columns=list(_FRAME_COLUMNS))


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One order to simulate (a row of an orders file, see :func:`read_orders`).

    Parameters
    ----------
    ts_ns : int
        Time we send the order, int64 UTC ns (it acts at ``ts_ns`` + entry latency).
    venue : str
        Venue name.
    side : Side
    kind : {"market", "limit"}
    size : int
        Shares, > 0.
    price : float or None
        Limit price, currency per share; ``None`` for a market order.
    cancel_after_ns : int or None
        Limit orders: cancel what is left this long after sending, ns (``None``: rest until
        the end of the data).
    catch_up : bool
        Limit orders with ``cancel_after_ns``: send what was cancelled as a market order.
    line : int
        Line of the orders file the order came from (0 when it did not come from a file).
    """

    ts_ns: int
    venue: str
    side: Side
    kind: OrderKind
    size: int
    price: float | None = None
    cancel_after_ns: int | None = None
    catch_up: bool = False
    line: int = 0

    def __post_init__(self) -> None:
        where = f" (line {self.line})" if self.line else ""
        if self.kind not in ("market", "limit"):
            raise ConfigError(f"order kind {self.kind!r}{where}: use 'market' or 'limit'")
        if int(self.size) != self.size or self.size <= 0:
            raise ConfigError(f"order size {self.size!r}{where}: a positive whole number of shares")
        if self.kind == "limit":
            if self.price is None or not (math.isfinite(self.price) and self.price > 0):
                raise ConfigError(f"limit order{where}: price {self.price!r} must be finite > 0")
        elif self.price is not None or self.cancel_after_ns is not None:
            raise ConfigError(f"market order{where}: give neither a price nor cancel_after")
        if self.cancel_after_ns is not None and self.cancel_after_ns <= 0:
            raise ConfigError(f"cancel_after{where} must be > 0 ns, got {self.cancel_after_ns}")


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """State of one of our orders on an exchange.

    Attributes
    ----------
    order_id : int
    venue : str
    side : Side
    kind : {"market", "limit"}
    price : float
        Limit price, currency per share (NaN for a market order).
    quantity : int
        Shares ordered.
    filled : int
        Shares executed (a limit order's catch-up market order included).
    cancelled : int
        Shares cancelled without execution.
    leaves : int
        Shares still resting: ``quantity − filled − cancelled``.
    status : {"resting", "filled", "cancelled"}
    reason : str
        Why a cancelled order was cancelled ("" otherwise): ``"cancelled"`` (by us),
        ``"horizon"`` (``cancel_after_ns`` elapsed without catch-up), ``"venue"`` (the venue
        cleared its book or dropped the level).
    avg_price : float
        VWAP of the fills, currency per share (NaN when nothing filled).
    queue_ahead : float
        Expected shares ahead of a resting limit order (``inf`` while its price is beyond the
        displayed levels; NaN unless resting).
    ts_sent, ts_effective : int
        When we sent it and when it acted (sent + entry latency), int64 UTC ns.
    ts_expiry : int or None
        When its ``cancel_after_ns`` horizon ends (effective time of the cancel), int64 UTC ns.
    """

    order_id: int
    venue: str
    side: Side
    kind: OrderKind
    price: float
    quantity: int
    filled: int
    cancelled: int
    leaves: int
    status: Literal["resting", "filled", "cancelled"]
    reason: str
    avg_price: float
    queue_ahead: float
    ts_sent: int
    ts_effective: int
    ts_expiry: int | None


@runtime_checkable
class Exchange(Protocol):
    """What the backtest engine and the ``simulate`` command need from an exchange.

    Implemented by :class:`~myopic_sor.simulation.ReplayExchange` (replay of recorded books)
    and :class:`~myopic_sor.simulation.SyntheticExchange` (the reactive synthetic market). Times
    are int64 UTC ns; an action sent at ``t_ns`` acts at ``t_ns`` + the entry latency of its
    venue; ``t_ns`` must not be before the exchange clock (:attr:`now_ns`).
    """

    @property
    def venue_names(self) -> tuple[str, ...]:
        """Venue names; a fill's ``venue`` field indexes this tuple."""
        ...

    @property
    def now_ns(self) -> int:
        """The exchange clock: the latest ``advance_to`` target (int64 UTC ns)."""
        ...

    def advance_to(self, t_ns: int) -> None:
        """Process the market up to ``t_ns`` inclusive (resting orders fill or expire)."""
        ...

    def submit_market(self, t_ns: int, venue: str | int, side: object, size: int) -> int:
        """Send a market order; return its order id."""
        ...

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
        """Send a limit order; return its order id."""
        ...

    def cancel(self, t_ns: int, order_id: int) -> int:
        """Cancel what is left of an order; return the shares cancelled."""
        ...

    def cancel_all(self, t_ns: int) -> int:
        """Cancel every resting order; return the shares cancelled."""
        ...

    def order_status(self, order_id: int) -> OrderStatus:
        """The current state of an order."""
        ...

    @property
    def fills(self) -> npt.NDArray[Any]:
        """Every fill so far, records of :data:`FILL_DTYPE` in time order."""
        ...

    def fills_frame(self) -> pd.DataFrame:
        """:attr:`fills` as a DataFrame (see :func:`fills_frame`)."""
        ...

    def filled_quantity(self, t_ns: int | None = None) -> int:
        """Shares whose fill reports reached us by ``t_ns`` (default the clock)."""
        ...
