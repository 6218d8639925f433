"""Latency models and how the replay uses them (effective times, FIFO, fill reports)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from _books import S, book, market, row, trade

from myopic_sor.exceptions import ConfigError
from myopic_sor.simulation import (
    ConstantLatency,
    LatencyModel,
    PerVenueLatency,
    ReplayExchange,
    as_latency_model,
)


@dataclass(frozen=True)
class _SlowThenFast:
    """2 s of entry latency before 1.5 s, none after (a time-varying model)."""

    def entry_delay_ns(self, venue: str, t_ns: int) -> int:
        return 2 * S if t_ns < 1.5 * S else 0

    def ack_delay_ns(self, venue: str, t_ns: int) -> int:
        return 0


def test_constant_and_per_venue_models() -> None:
    c = ConstantLatency(50_000, 20_000)
    assert (c.entry_delay_ns("X", 0), c.ack_delay_ns("X", 0)) == (50_000, 20_000)
    p = PerVenueLatency.from_microseconds({"XNAS": 60, "ARCX": 120.5}, {"XNAS": 10})
    assert p.entry_delay_ns("ARCX", 0) == 120_500
    assert p.ack_delay_ns("XNAS", 0) == 10_000
    assert p.ack_delay_ns("ARCX", 0) == 0
    assert p.entry_delay_ns("BATS", 0) == 0  # the default
    strict = PerVenueLatency({"XNAS": 1})
    with pytest.raises(ConfigError, match="no entry latency for venue 'BATS'"):
        strict.entry_delay_ns("BATS", 0)
    for model in (c, p, _SlowThenFast()):
        assert isinstance(model, LatencyModel)
    assert as_latency_model(None) == ConstantLatency()
    assert as_latency_model(1500) == ConstantLatency(1500)
    for bad in (-1, 1.5, True, "1ms"):
        with pytest.raises(ConfigError):
            as_latency_model(bad)  # type: ignore[arg-type]


def test_actions_on_a_venue_act_in_the_order_they_were_sent() -> None:
    ex = ReplayExchange(market(book([row(0.0), row(2.5)])), latency=_SlowThenFast())
    a = ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 10)  # acts at 3 s
    b = ex.submit_limit(2 * S, "XNAS", "buy", 9.98, 10)  # 0 latency, but not before a
    assert ex.order_status(a).ts_effective == 3 * S
    assert ex.order_status(b).ts_effective == 3 * S


def test_latency_delays_the_queue_entry() -> None:
    # a limit buy sent at 1 s; a 400 trade hits 9.99 at 1.5 s
    rows = [row(0.0), trade(1.5, 9.99, 400, bid_sz=[300, 500, 700]), trade(3.0, 9.99, 350)]
    fast = ReplayExchange(market(book(rows)))
    slow = ReplayExchange(market(book(rows)), latency=ConstantLatency(S))
    for ex in (fast, slow):
        ex.submit_limit(1 * S, "XNAS", "buy", 9.99, 100)
        ex.advance_to(5 * S)
    # in time: 300 ahead, the 400 trade fills 100; late: joins at 2 s, 300 ahead, 50 at 3 s
    assert fast.fills_frame()["size"].tolist() == [100]
    assert slow.fills_frame()["size"].tolist() == [50]
