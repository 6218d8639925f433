"""Market data: the canonical representation, loaders, validation and the synthetic market."""

from __future__ import annotations

from myopic_sor.data._schema import (
    ACTION_ADD,
    ACTION_CANCEL,
    ACTION_CLEAR,
    ACTION_FILL,
    ACTION_MODIFY,
    ACTION_NONE,
    ACTION_TRADE,
    MAX_LEVELS,
    SIDE_ASK,
    SIDE_BID,
    SIDE_NONE,
    MarketData,
    VenueData,
    level_column,
)

__all__ = [
    "ACTION_ADD",
    "ACTION_CANCEL",
    "ACTION_CLEAR",
    "ACTION_FILL",
    "ACTION_MODIFY",
    "ACTION_NONE",
    "ACTION_TRADE",
    "MAX_LEVELS",
    "SIDE_ASK",
    "SIDE_BID",
    "SIDE_NONE",
    "MarketData",
    "VenueData",
    "level_column",
]
