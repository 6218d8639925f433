"""myopic-sor: optimal trade execution.

A myopic transient-impact scheduler (Obizhaeva-Wang), a Cont-Kukanov smart order router, an
order-book execution simulator and the analysis that compares them with the traditional
fixed-frequency approach and standard baselines.
"""

from __future__ import annotations

import logging

from myopic_sor.data import MarketData, VenueData

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "MarketData",
    "VenueData",
    "__version__",
]
