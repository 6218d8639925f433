"""The rows a reactive synthetic market has emitted, as growing causal :class:`MarketData`.

A backtest on the reactive market cannot read a pre-generated day: the day is being made by the
market and our orders inside it. :class:`EventRecorder` keeps every row the market emits (its
MBP-10 rows, ours included, as a public feed shows them) in per-venue column buffers that grow by
doubling, and hands out :meth:`~EventRecorder.view` — every venue cut to ``ts_event <= t`` — as
zero-copy read-only slices. A view taken at t never changes afterwards: later rows are written
beyond its end only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from myopic_sor.data import EventChunk, MarketData, SyntheticMarket, VenueData

__all__ = ["EventRecorder"]

_FIRST_CAPACITY = 1 << 14


class _VenueBuffer:
    """One venue's columns: writeable buffers, a validated VenueData over them, a row count."""

    def __init__(self, venue: str, symbol: str, source: str, template: dict[str, Any]) -> None:
        self.venue, self.symbol, self.source = venue, symbol, source
        self.n = 0
        self._alloc({k: np.asarray(v)[:0] for k, v in template.items()}, _FIRST_CAPACITY)

    def _alloc(self, old: dict[str, npt.NDArray[Any]], capacity: int) -> None:
        self.buf = {}
        for k, a in old.items():
            b = np.zeros(capacity, dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self.buf[k] = b
        # validated once per allocation; the views handed out later are trusted slices of it
        self.data = VenueData(
            venue=self.venue, symbol=self.symbol, columns=self.buf, source=self.source
        )

    def append(self, cols: dict[str, npt.NDArray[Any]]) -> None:
        m = int(cols["ts_event"].shape[0])
        if m == 0:
            return
        need = self.n + m
        cap = self.buf["ts_event"].shape[0]
        if need > cap:
            while cap < need:
                cap *= 2
            self._alloc(self.buf, cap)
        for k, b in self.buf.items():
            b[self.n : need] = cols[k]
        self.n = need

    def view(self, t_ns: int | None) -> VenueData:
        ts = self.buf["ts_event"][: self.n]
        k = self.n if t_ns is None else int(np.searchsorted(ts, t_ns, side="right"))
        return self.data.take(slice(0, k))


class EventRecorder:
    """Every row a :class:`~myopic_sor.data.SyntheticMarket` emits, viewable up to any time.

    Parameters
    ----------
    market : SyntheticMarket
        The market whose chunks will be appended (it gives the venues, symbol, date, time zone,
        levels and each venue's feed latency for ``ts_recv``).

    Examples
    --------
    >>> import datetime as dt
    >>> from myopic_sor.data import SyntheticConfig
    >>> mkt = SyntheticMarket(SyntheticConfig(session_end=dt.time(9, 31)), seed=1)
    >>> rec = EventRecorder(mkt)
    >>> rec.append(mkt.advance_to(mkt.session_start_ns + 10 * 10**9))
    >>> rec.view(mkt.session_start_ns + 5 * 10**9).n_events <= rec.view().n_events
    True
    """

    def __init__(self, market: SyntheticMarket) -> None:
        cfg = market.config
        self.symbol, self.date, self.timezone = cfg.symbol, cfg.date, cfg.timezone
        self.venue_names = market.venue_names
        self._latency = [round(v.latency_us * 1000) for v in cfg.venues]
        source = f"synthetic(seed={market._seed_repr}, reactive)"
        template = _columns(_empty_chunk(market), 0, 0, 0)
        self._venues = [
            _VenueBuffer(name, self.symbol, source, template) for name in self.venue_names
        ]
        self.last_ts = market.now_ns

    def append(self, chunk: EventChunk) -> None:
        """Add the rows of ``chunk`` (the market's next rows, in time order)."""
        if len(chunk) == 0:
            return
        for v, buf in enumerate(self._venues):
            buf.append(_columns(chunk, v, self._latency[v], buf.n))
        self.last_ts = max(self.last_ts, int(chunk.ts_event[-1]))

    @property
    def n_events(self) -> int:
        """Rows recorded so far, all venues."""
        return sum(b.n for b in self._venues)

    def view(self, t_ns: int | None = None) -> MarketData:
        """Every venue cut to ``ts_event <= t_ns`` (everything recorded when None); zero-copy."""
        return MarketData(
            symbol=self.symbol,
            date=self.date,
            venues={b.venue: b.view(t_ns) for b in self._venues},
            timezone=self.timezone,
        )


def _columns(chunk: EventChunk, v: int, latency_ns: int, start: int) -> dict[str, Any]:
    """One venue's canonical columns of ``chunk``, with ``sequence`` continuing from ``start``."""
    cols = chunk.venue_columns(v, latency_ns)
    cols["sequence"] = np.arange(start, start + cols["ts_event"].shape[0], dtype=np.uint64)
    return cols


def _empty_chunk(market: SyntheticMarket) -> EventChunk:
    L = market.config.levels
    z_i = np.zeros(0, dtype=np.int64)
    z_u = np.zeros(0, dtype=np.uint8)
    return EventChunk(
        venue_names=market.venue_names,
        venue=z_i,
        ts_event=z_i,
        action=z_u,
        side=z_u,
        depth=z_u,
        price=np.zeros(0),
        size=z_i,
        own=np.zeros(0, dtype=np.bool_),
        bid_px=np.zeros((0, L)),
        ask_px=np.zeros((0, L)),
        bid_sz=np.zeros((0, L), dtype=np.int64),
        ask_sz=np.zeros((0, L), dtype=np.int64),
        bid_ct=np.zeros((0, L), dtype=np.int64),
        ask_ct=np.zeros((0, L), dtype=np.int64),
    )
