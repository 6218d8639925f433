"""Market data: the canonical representation, loaders, validation and the synthetic market."""

from __future__ import annotations

from myopic_sor.data._layout import LayoutFile, discover, layout_path
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
from myopic_sor.data._validate import (
    CheckResult,
    DataFilterLike,
    FilterReport,
    ValidationReport,
    apply_filters,
    data_quality_checks,
    filter_mask,
    validate_data,
    validate_market_data,
    validate_venue,
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
    "CheckResult",
    "DataFilterLike",
    "FilterReport",
    "LayoutFile",
    "MarketData",
    "ValidationReport",
    "VenueData",
    "apply_filters",
    "data_quality_checks",
    "discover",
    "filter_mask",
    "layout_path",
    "level_column",
    "validate_data",
    "validate_market_data",
    "validate_venue",
]
