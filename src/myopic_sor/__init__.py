"""myopic-sor: optimal trade execution.

A myopic transient-impact scheduler (Obizhaeva-Wang), a Cont-Kukanov smart order router, an
order-book execution simulator and the analysis that compares them with the traditional
fixed-frequency approach and standard baselines.

The entry points of this release are the data layer and the synthetic market::

    import myopic_sor as ms

    md = ms.load_market_data("./data/AAPL", day="2025-04-02")
    md, truth = ms.generate_market_data(seed=7)
    cfg = ms.load_config(preset="conservative")
"""

from __future__ import annotations

import logging

from myopic_sor.config import MyopicSorConfig, load_config
from myopic_sor.data import (
    MarketData,
    SyntheticConfig,
    SyntheticMarket,
    VenueData,
    generate_market_data,
    inspect_market_data,
    load_market_data,
    validate_data,
    validate_market_data,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "MarketData",
    "MyopicSorConfig",
    "SyntheticConfig",
    "SyntheticMarket",
    "VenueData",
    "__version__",
    "generate_market_data",
    "inspect_market_data",
    "load_config",
    "load_market_data",
    "validate_data",
    "validate_market_data",
]
