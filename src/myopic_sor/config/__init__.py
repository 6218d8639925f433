"""Configuration: frozen pydantic models, the shipped defaults and presets, loading and hashing.

The field names are the spec's (``strategy.S``, ``myopic.beta``, ``execution.order_freq``, ...);
units follow ``MATH.md``: fees and rebates in currency per share, ``beta`` per hour, volatility
daily, times market-local.

Examples
--------
>>> from myopic_sor.config import load_config, config_hash
>>> cfg = load_config(preset="spec", overrides=["strategy.S=500", "strategy.T=10"])
>>> cfg.strategy.S, cfg.strategy.horizon_s
(500, 600.0)
>>> len(config_hash(cfg))
12
"""

from __future__ import annotations

from myopic_sor.config._io import (
    DEFAULTS_PATH,
    PRESETS_PATH,
    config_hash,
    config_to_dict,
    default_config,
    describe_presets,
    dump_config,
    list_presets,
    load_config,
)
from myopic_sor.config._models import (
    DataConfig,
    DataFilterConfig,
    ExecutionConfig,
    LambdaEstimationConfig,
    MarketHoursConfig,
    MyopicConfig,
    MyopicSorConfig,
    RiskConfig,
    StrategyConfig,
    VenueConfig,
    parse_period,
    period_label,
)

__all__ = [
    "DEFAULTS_PATH",
    "PRESETS_PATH",
    "DataConfig",
    "DataFilterConfig",
    "ExecutionConfig",
    "LambdaEstimationConfig",
    "MarketHoursConfig",
    "MyopicConfig",
    "MyopicSorConfig",
    "RiskConfig",
    "StrategyConfig",
    "VenueConfig",
    "config_hash",
    "config_to_dict",
    "default_config",
    "describe_presets",
    "dump_config",
    "list_presets",
    "load_config",
    "parse_period",
    "period_label",
]
