"""Microstructure features: book, consolidated NBBO, OFI, trade flow, outflows, volatility, ADV.

Every function takes the canonical :class:`~myopic_sor.data.VenueData` /
:class:`~myopic_sor.data.MarketData` (or plain arrays) and returns numpy arrays aligned to the
events, or fixed-interval buckets; :func:`spec_frame` is the pandas edge that the spec's
scheduler and lambda estimation consume.
"""

from __future__ import annotations

from myopic_sor.features._book import (
    BookSide,
    ConsolidatedBook,
    MergedEvents,
    consolidated_book,
    cumulative_depth,
    merge_events,
    microprice,
    mid_price,
    spread,
    touch_depth,
)
from myopic_sor.features._flow import (
    QueueOutflows,
    TradeFlow,
    queue_outflow_events,
    queue_outflows,
    signed_trade_volume,
)
from myopic_sor.features._frame import SPEC_FRAME_COLUMNS, spec_frame
from myopic_sor.features._ofi import OFIBuckets, ofi_buckets, order_flow_imbalance
from myopic_sor.features._volatility import (
    REGULAR_SESSION_END,
    REGULAR_SESSION_START,
    daily_volatility,
    estimate_adv,
    realized_volatility,
    rolling_volatility,
    single_day_adv,
    traded_volume,
)

__all__ = [
    "REGULAR_SESSION_END",
    "REGULAR_SESSION_START",
    "SPEC_FRAME_COLUMNS",
    "BookSide",
    "ConsolidatedBook",
    "MergedEvents",
    "OFIBuckets",
    "QueueOutflows",
    "TradeFlow",
    "consolidated_book",
    "cumulative_depth",
    "daily_volatility",
    "estimate_adv",
    "merge_events",
    "microprice",
    "mid_price",
    "ofi_buckets",
    "order_flow_imbalance",
    "queue_outflow_events",
    "queue_outflows",
    "realized_volatility",
    "rolling_volatility",
    "signed_trade_volume",
    "single_day_adv",
    "spec_frame",
    "spread",
    "touch_depth",
    "traded_volume",
]
