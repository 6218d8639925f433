"""Latency models: when our orders act and when their fill reports reach us.

An order (or cancel) sent at ``t`` acts at ``t + entry latency``: it sees the book after every
recorded event with ``ts_event`` at or before that instant, and nothing later. A fill at
``ts_event`` is known to us from ``ts_event + ack latency``. Latencies are int64 nanoseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from myopic_sor.exceptions import ConfigError

__all__ = ["ConstantLatency", "LatencyModel", "PerVenueLatency", "as_latency_model"]


@runtime_checkable
class LatencyModel(Protocol):
    """Order-entry and acknowledgement delays, per venue and time (int64 ns, ≥ 0)."""

    def entry_delay_ns(self, venue: str, t_ns: int) -> int:
        """Delay between sending an action to ``venue`` at ``t_ns`` and it acting, ns."""
        ...

    def ack_delay_ns(self, venue: str, t_ns: int) -> int:
        """Delay between a fill on ``venue`` at ``t_ns`` and our knowing it, ns."""
        ...


def _ns(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a whole number of nanoseconds ≥ 0, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and v >= 0 and v == round(v)):
        raise ConfigError(f"{name} must be a whole number of nanoseconds ≥ 0, got {value!r}")
    return round(v)


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    """The same delays on every venue at every time.

    Parameters
    ----------
    entry_ns : int
        Order-entry latency, ns (≥ 0).
    ack_ns : int
        Fill-report latency, ns (≥ 0).

    Examples
    --------
    >>> ConstantLatency(50_000).entry_delay_ns("XNAS", 0)
    50000
    """

    entry_ns: int = 0
    ack_ns: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry_ns", _ns("ConstantLatency.entry_ns", self.entry_ns))
        object.__setattr__(self, "ack_ns", _ns("ConstantLatency.ack_ns", self.ack_ns))

    def entry_delay_ns(self, venue: str, t_ns: int) -> int:
        """``entry_ns``."""
        return self.entry_ns

    def ack_delay_ns(self, venue: str, t_ns: int) -> int:
        """``ack_ns``."""
        return self.ack_ns


@dataclass(frozen=True, slots=True)
class PerVenueLatency:
    """Constant delays that differ by venue.

    Parameters
    ----------
    entry_ns : mapping of str to int
        Order-entry latency of each venue, ns.
    ack_ns : mapping of str to int, optional
        Fill-report latency of each venue, ns (missing venues: ``default.ack_ns``).
    default : ConstantLatency, optional
        Delays of venues not named; ``None`` makes an unnamed venue an error.

    Examples
    --------
    >>> lat = PerVenueLatency.from_microseconds({"XNAS": 60, "ARCX": 120})
    >>> lat.entry_delay_ns("ARCX", 0)
    120000
    """

    entry_ns: Mapping[str, int]
    ack_ns: Mapping[str, int] = field(default_factory=dict)
    default: ConstantLatency | None = None

    def __post_init__(self) -> None:
        entry = {str(k): _ns(f"entry_ns[{k!r}]", v) for k, v in self.entry_ns.items()}
        ack = {str(k): _ns(f"ack_ns[{k!r}]", v) for k, v in self.ack_ns.items()}
        object.__setattr__(self, "entry_ns", MappingProxyType(entry))
        object.__setattr__(self, "ack_ns", MappingProxyType(ack))

    @classmethod
    def from_microseconds(
        cls,
        entry_us: Mapping[str, float],
        ack_us: Mapping[str, float] | None = None,
        *,
        default_us: float | None = 0.0,
    ) -> PerVenueLatency:
        """Build from microseconds (rounded to whole ns); ``default_us=None``: no default."""
        entry = {k: round(float(v) * 1_000) for k, v in entry_us.items()}
        ack = {k: round(float(v) * 1_000) for k, v in (ack_us or {}).items()}
        default = None if default_us is None else ConstantLatency(round(default_us * 1_000))
        return cls(entry, ack, default)

    def _lookup(self, table: Mapping[str, int], venue: str, which: str) -> int:
        value = table.get(venue)
        if value is not None:
            return value
        if self.default is None:
            raise ConfigError(
                f"PerVenueLatency has no {which} latency for venue {venue!r} (known: "
                f"{', '.join(self.entry_ns) or 'none'}); add it or give a default"
            )
        return self.default.entry_ns if which == "entry" else self.default.ack_ns

    def entry_delay_ns(self, venue: str, t_ns: int) -> int:
        """The venue's entry latency, ns."""
        return self._lookup(self.entry_ns, venue, "entry")

    def ack_delay_ns(self, venue: str, t_ns: int) -> int:
        """The venue's fill-report latency, ns (``default.ack_ns`` when not named)."""
        if venue not in self.ack_ns and venue in self.entry_ns:
            return 0 if self.default is None else self.default.ack_ns
        return self._lookup(self.ack_ns, venue, "ack")


def as_latency_model(latency: LatencyModel | int | None) -> LatencyModel:
    """A latency model from a model, a constant entry latency in ns, or ``None`` (zero)."""
    if latency is None:
        return ConstantLatency()
    if isinstance(latency, int | float) and not isinstance(latency, bool):
        return ConstantLatency(_ns("latency", latency))
    if isinstance(latency, LatencyModel):
        return latency
    raise ConfigError(
        f"latency={latency!r}: give a LatencyModel (ConstantLatency, PerVenueLatency) or an "
        "entry latency in whole nanoseconds"
    )
