"""Market data: the canonical representation, loaders, validation and the synthetic market."""

from __future__ import annotations

from myopic_sor.data._databento import (
    read_databento,
    read_dbn,
    read_mbp_csv,
    read_mbp_parquet,
    write_venue,
)
from myopic_sor.data._layout import LayoutFile, discover, layout_path
from myopic_sor.data._load import detect_format, load_market_data
from myopic_sor.data._lobster import read_lobster
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
from myopic_sor.data._summary import (
    inspect_market_data,
    summarize_market_data,
    summarize_venue,
)
from myopic_sor.data._taq import read_taq
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
    "detect_format",
    "discover",
    "filter_mask",
    "inspect_market_data",
    "layout_path",
    "level_column",
    "load_market_data",
    "read_databento",
    "read_dbn",
    "read_lobster",
    "read_mbp_csv",
    "read_mbp_parquet",
    "read_taq",
    "summarize_market_data",
    "summarize_venue",
    "validate_data",
    "validate_market_data",
    "validate_venue",
    "write_venue",
]
