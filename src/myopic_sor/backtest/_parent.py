"""The parent order and the result of executing it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from myopic_sor.exceptions import ConfigError
from myopic_sor.simulation import as_side

__all__ = ["BacktestResult", "ParentOrder", "parse_side"]


def parse_side(side: int | str) -> int:
    """Return +1 for a buy, −1 for a sell (``"buy"``/``"sell"``, ``"b"``/``"s"``, ±1): the
    simulator's :func:`~myopic_sor.simulation.as_side` as a plain int."""
    return int(as_side(side))


@dataclass(frozen=True, slots=True)
class ParentOrder:
    """Buy or sell ``quantity`` shares of ``symbol`` within ``[start_ns, end_ns]``.

    Parameters
    ----------
    symbol : str
    side : int or str
        +1 / ``"buy"`` or −1 / ``"sell"`` (stored as ±1).
    quantity : int
        Shares, > 0.
    start_ns, end_ns : int
        The window, UTC ns (``end_ns > start_ns``).
    """

    symbol: str
    side: int
    quantity: int
    start_ns: int
    end_ns: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", parse_side(self.side))
        q = float(self.quantity)
        if not (math.isfinite(q) and q > 0 and q == round(q)):
            msg = f"parent quantity must be a whole number of shares > 0, got {self.quantity!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "quantity", round(q))
        if int(self.end_ns) <= int(self.start_ns):
            msg = (
                f"the parent's window is empty: end {pd.Timestamp(self.end_ns, tz='UTC')} is not "
                f"after start {pd.Timestamp(self.start_ns, tz='UTC')}"
            )
            raise ConfigError(msg)

    @property
    def signed_quantity(self) -> int:
        """``side * quantity``: + for a buy, − for a sell."""
        return self.side * self.quantity

    @property
    def side_name(self) -> str:
        """``"buy"`` or ``"sell"``."""
        return "buy" if self.side > 0 else "sell"


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """One strategy's execution of one parent order.

    Attributes
    ----------
    strategy : str
        Strategy name (``"myopic"``, ``"traditional"``, ``"twap"``, ...).
    parent : ParentOrder
    fills : pandas.DataFrame
        Every fill (partial fills included): ``ts_event``, ``venue``, ``side``, ``price``,
        ``size``, ``liquidity``, ``fee``, ``order_id``, ``child`` (index of the decision that
        sent it, −1 for the end-of-window catch-up) and ``catchup``.
    decisions : list of dict
        One per decision time: ``timestamp``, ``ts_ns``, ``quantity`` (signed shares sent),
        ``market``, ``limit`` (per venue), ``venues``, ``expected_cost``, ``reason`` and the
        strategy's own figures.
    metrics : dict
        :func:`~myopic_sor.analysis.execution_metrics` of the fills plus ``num_decisions``.
    info : dict
        Provenance: data source, parameters, seed, router, queue model, fallbacks.
    """

    strategy: str
    parent: ParentOrder
    fills: pd.DataFrame
    decisions: list[dict[str, Any]]
    metrics: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The headline figures: the keys of the ``compare`` command's table."""
        keys = (
            "avg_cost_per_share",
            "total_cost",
            "total_size",
            "num_decisions",
            "implementation_shortfall_bps",
            "fill_rate",
            "passive_share",
            "catchup_shares",
            "overfill_shares",
            "fees",
            "rebates",
            # the report's cost breakdown and per-child figures (analysis.cost_breakdown,
            # analysis.detail_metrics)
            "cost_vs_arrival",
            "spread_cost_per_share",
            "timing_cost_per_share",
            "fees_per_share",
            "rebates_per_share",
            "catchup_cost_per_share",
            "slippage_vs_vwap_bps",
            "slippage_vs_twap_bps",
            "mean_fill_ratio",
            "mean_time_in_queue_s",
            "decision_efficiency",
            "modelled_impact_cost_bps",
            "realised_impact_bps",
            "timing_quality",
            "tracking_error_vs_twap",
        )
        return {"strategy": self.strategy, **{k: self.metrics.get(k) for k in keys}}
