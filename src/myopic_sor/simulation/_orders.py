"""Orders files and the ``simulate`` command's library function.

An orders file is a CSV (UTF-8, a header line, then one order per line) with the columns

=================  ==========================================================================
``ts``             send time: ISO-8601 with a time zone (``2025-04-02T10:00:00-04:00``,
                   ``...Z``) or int64 UTC nanoseconds
``venue``          venue name, as in the data (``XNAS``)
``side``           ``buy`` or ``sell`` (also ``+1``/``-1``, ``b``/``s``)
``type``           ``market`` or ``limit``
``price``          limit price, currency per share; **empty** for a market order
``size``           shares, a positive whole number
``cancel_after_s`` optional; limit orders: cancel what is left this many seconds after
                   sending (empty: rest until the end of the data)
``catch_up``       optional; ``true`` sends what ``cancel_after_s`` cancelled as a market
                   order (default ``false``)
=================  ==========================================================================

Every bad line raises :class:`~myopic_sor.exceptions.DataFormatError` naming the file, the line,
the column and the fix.
"""

from __future__ import annotations

import contextlib
import csv
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, NoReturn

import pandas as pd

from myopic_sor._typing import PathLike
from myopic_sor.data import MarketData
from myopic_sor.exceptions import (
    ConfigError,
    DataFormatError,
    DataNotFoundError,
    DataValidationError,
)
from myopic_sor.simulation._latency import LatencyModel
from myopic_sor.simulation._queue import QueueModel
from myopic_sor.simulation._replay import DepthPolicy, ImpactOverlay, ReplayExchange
from myopic_sor.simulation._types import OrderKind, OrderSpec, as_side

__all__ = ["ORDER_COLUMNS", "read_orders", "run_orders", "simulate_orders"]

#: Required columns of an orders file, then the optional ones.
ORDER_COLUMNS: Final = ("ts", "venue", "side", "type", "price", "size")
_OPTIONAL: Final = ("cancel_after_s", "catch_up")
_INT_RE: Final = re.compile(r"^[+-]?\d+$")
_TRUE: Final = frozenset({"true", "1", "yes", "y"})
_FALSE: Final = frozenset({"false", "0", "no", "n", ""})


def read_orders(path: PathLike) -> tuple[OrderSpec, ...]:
    """Read an orders file (see the module docstring for the columns).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.

    Returns
    -------
    tuple of OrderSpec
        In file order (``line`` is the file line of each order; the header is line 1).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataFormatError
        No header, a missing or unknown column, or a bad value (file, line, column and fix).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "orders.csv"
    >>> _ = p.write_text("ts,venue,side,type,price,size\\n"
    ...                  "2025-04-02T14:00:00Z,XNAS,buy,limit,219.99,300\\n")
    >>> read_orders(p)[0].price
    219.99
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(
            f"{p}: orders file not found; give a CSV with columns {', '.join(ORDER_COLUMNS)} "
            "(and optionally cancel_after_s, catch_up)"
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{p}: not UTF-8 text ({exc}); save the orders file as UTF-8 CSV"
        ) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DataFormatError(
            f"{p}: empty file; the first line must be the header {','.join(ORDER_COLUMNS)}"
        )
    header = [c.strip().lower() for c in rows[0]]
    unknown = [c for c in header if c not in ORDER_COLUMNS and c not in _OPTIONAL]
    if unknown:
        raise DataFormatError(
            f"{p}: line 1: unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
            f"{', '.join(ORDER_COLUMNS)} and optionally {', '.join(_OPTIONAL)}"
        )
    missing = [c for c in ORDER_COLUMNS if c not in header]
    if missing:
        raise DataFormatError(
            f"{p}: line 1: missing column(s) {', '.join(map(repr, missing))}; the header must "
            f"name {', '.join(ORDER_COLUMNS)} (price may be empty for market orders)"
        )
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise DataFormatError(f"{p}: line 1: column(s) {', '.join(dup)} given twice; keep one")
    out: list[OrderSpec] = []
    for line, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            raise DataFormatError(
                f"{p}: line {line}: {len(cells)} fields for {len(header)} columns "
                f"({','.join(header)}); quote values containing commas"
            )
        out.append(_parse_row(p, line, dict(zip(header, (c.strip() for c in cells), strict=True))))
    return tuple(out)


def _parse_row(path: Path, line: int, row: Mapping[str, str]) -> OrderSpec:
    def bad(column: str, problem: str, fix: str) -> NoReturn:
        raise DataFormatError(f"{path}: line {line}, column {column!r}: {problem}; {fix}")

    ts_text = row["ts"]
    if not ts_text:
        bad("ts", "empty", "give an ISO-8601 time with a zone or int64 UTC nanoseconds")
    if _INT_RE.match(ts_text):
        ts = int(ts_text)
    else:
        parsed: object = None
        with contextlib.suppress(ValueError, TypeError):
            parsed = pd.Timestamp(ts_text)
        if not isinstance(parsed, pd.Timestamp):  # unparsable, or NaT
            bad("ts", f"{ts_text!r} is not a time", "use ISO-8601 like 2025-04-02T10:00:00-04:00")
        stamp = parsed
        if stamp.tzinfo is None:
            bad("ts", f"{ts_text!r} has no time zone", "append one, e.g. Z or -04:00")
        ts = int(stamp.value)
    venue = row["venue"]
    if not venue:
        bad("venue", "empty", "give the venue name as in the data, e.g. XNAS")
    try:
        side = as_side(row["side"])
    except ConfigError:
        bad("side", f"{row['side']!r} is not a side", "use buy or sell")
    kind_text = row["type"].lower()
    if kind_text not in ("market", "limit"):
        bad("type", f"{row['type']!r} is not an order type", "use market or limit")
    kind: OrderKind = "market" if kind_text == "market" else "limit"
    size_text = row["size"]
    if not _INT_RE.match(size_text) or int(size_text) <= 0:
        bad("size", f"{size_text!r} is not a positive whole number", "give shares, e.g. 100")
    size = int(size_text)
    price: float | None = None
    price_text = row["price"]
    if kind == "market" and price_text:
        bad("price", f"{price_text!r} on a market order", "leave price empty for market orders")
    if kind == "limit":
        try:
            price = float(price_text)
        except ValueError:
            bad("price", f"{price_text!r} is not a number", "give the limit price, e.g. 219.99")
        if not (math.isfinite(price) and price > 0):
            bad("price", f"{price_text!r} is not a price", "give a finite limit price > 0")
    cancel_after_ns: int | None = None
    ca_text = row.get("cancel_after_s", "")
    if ca_text:
        if kind == "market":
            bad(
                "cancel_after_s",
                "set on a market order",
                "leave it empty for market orders",
            )
        try:
            ca = float(ca_text)
        except ValueError:
            bad("cancel_after_s", f"{ca_text!r} is not a number", "give seconds, e.g. 30")
        if not (math.isfinite(ca) and ca > 0):
            bad("cancel_after_s", f"{ca_text!r} is not > 0", "give seconds > 0 or leave it empty")
        cancel_after_ns = max(round(ca * 1e9), 1)
    cu_text = row.get("catch_up", "").lower()
    if cu_text not in _TRUE | _FALSE:
        bad("catch_up", f"{row.get('catch_up')!r} is not a boolean", "use true or false")
    catch_up = cu_text in _TRUE
    if catch_up and cancel_after_ns is None:
        bad("catch_up", "true without cancel_after_s", "give cancel_after_s or set it false")
    return OrderSpec(
        ts_ns=ts,
        venue=venue,
        side=side,
        kind=kind,
        size=size,
        price=price,
        cancel_after_ns=cancel_after_ns,
        catch_up=catch_up,
        line=line,
    )


def run_orders(
    market_data: MarketData,
    orders: Sequence[OrderSpec],
    *,
    queue_model: QueueModel | str = "risk-averse",
    latency: LatencyModel | int = 0,
    fees: float | Mapping[str, float] | Sequence[float] = 0.0,
    rebates: float | Mapping[str, float] | Sequence[float] = 0.0,
    depth_policy: DepthPolicy | str = "error",
    impact_overlay: ImpactOverlay | None = None,
    until_ns: int | None = None,
) -> tuple[ReplayExchange, list[int]]:
    """Send ``orders`` (in time order, stable) to a :class:`ReplayExchange` and run it to the
    end; return the exchange and the order id of each order, in the input order.

    The replay runs until ``until_ns``, by default the last recorded event or the latest
    horizon (``cancel_after``), whichever is later, so resting orders can fill until the data
    end. See :func:`simulate_orders` for the parameters.
    """
    names = market_data.venue_names
    for o in orders:
        if o.venue not in names:
            where = f"line {o.line}: " if o.line else ""
            raise DataValidationError(
                f"{where}order on unknown venue {o.venue!r}; the data hold {', '.join(names)}"
            )
    ex = ReplayExchange(
        market_data,
        fees=fees,
        rebates=rebates,
        queue_model=queue_model,
        latency=latency,
        depth_policy=depth_policy,
        impact_overlay=impact_overlay,
    )
    order = sorted(range(len(orders)), key=lambda k: orders[k].ts_ns)
    ids = [0] * len(orders)
    for k in order:
        o = orders[k]
        ex.advance_to(o.ts_ns)
        if o.kind == "market":
            ids[k] = ex.submit_market(o.ts_ns, o.venue, o.side, o.size)
        else:
            assert o.price is not None
            ids[k] = ex.submit_limit(
                o.ts_ns, o.venue, o.side, o.price, o.size,
                cancel_after_ns=o.cancel_after_ns, catch_up=o.catch_up,
            )  # fmt: skip
    if until_ns is None:
        ends = [market_data.last_ts, ex.now_ns]
        ends += [st.ts_expiry for st in map(ex.order_status, ids) if st.ts_expiry is not None]
        until_ns = max(ends)
    ex.advance_to(max(int(until_ns), ex.now_ns))
    return ex, ids


def simulate_orders(
    market_data: MarketData,
    orders: Sequence[OrderSpec],
    *,
    queue_model: QueueModel | str = "risk-averse",
    latency: LatencyModel | int = 0,
    fees: float | Mapping[str, float] | Sequence[float] = 0.0,
    rebates: float | Mapping[str, float] | Sequence[float] = 0.0,
    depth_policy: DepthPolicy | str = "error",
    impact_overlay: ImpactOverlay | None = None,
) -> pd.DataFrame:
    """Replay ``orders`` against ``market_data`` and return every fill.

    Parameters
    ----------
    market_data : MarketData
    orders : sequence of OrderSpec
        E.g. from :func:`read_orders`; sent in time order (ties keep the input order).
    queue_model : QueueModel or str
        ``"risk-averse"``, ``"prob-power:N"``, ...
    latency : LatencyModel or int
        Latency model, or a constant entry latency in ns.
    fees, rebates : float, mapping or sequence
        Per venue, currency per share.
    depth_policy : "error" or ("penalty", c)
    impact_overlay : callable, optional
        ``I(t_ns)`` added to every fill price.

    Returns
    -------
    pandas.DataFrame
        :func:`~myopic_sor.simulation.fills_frame` of the fills in time order; ``order_id``
        numbers the orders in time order (the input order when it is sorted).

    Raises
    ------
    DataValidationError
        An order on a venue the data do not hold.
    ExecutionError, ConfigError
        An order that cannot execute as asked (see :class:`ReplayExchange`).
    """
    ex, _ = run_orders(
        market_data, orders, queue_model=queue_model, latency=latency, fees=fees,
        rebates=rebates, depth_policy=depth_policy, impact_overlay=impact_overlay,
    )  # fmt: skip
    return ex.fills_frame()
