"""Strategies by name, and every strategy on the same parent order.

A strategy name is ``<schedule>[:<router>]``:

* schedules: ``myopic`` (causal OFI alpha), ``myopic-zero`` (no alpha: the receding-horizon
  OW optimum), ``myopic-oracle`` (the realised future: a **look-ahead diagnostic**, never an
  achievable result; replay only, since on the reactive market the future is not fixed),
  ``myopic-true`` (the reactive synthetic market's latent drift: causal in the model but state
  the market does not show, a **latent-state diagnostic**; reactive market only),
  ``traditional``, ``twap``, ``vwap``, ``almgren_chriss`` (alias ``ac``),
  ``ow``;
* routers: ``ck`` (default, Cont-Kukanov), ``market`` (everything as market orders) and
  ``passive`` (everything as limit orders, the rest at market after the router horizon) — the
  ablations that show what the router adds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myopic_sor.alpha import Forecaster, OFIRegressionAlpha, OracleAlpha, TrueAlpha, ZeroAlpha
from myopic_sor.backtest._engine import Backtester
from myopic_sor.backtest._parent import BacktestResult, ParentOrder
from myopic_sor.backtest._strategies import (
    ExecutionStrategy,
    MyopicStrategy,
    ScheduledStrategy,
    TraditionalStrategy,
)
from myopic_sor.config import MyopicSorConfig
from myopic_sor.data import MarketData, SyntheticConfig
from myopic_sor.exceptions import ConfigError
from myopic_sor.routing import ContKukanovRouter, MarketOnlyRouter, PassiveRouter, Router
from myopic_sor.scheduling import (
    AlmgrenChrissScheduler,
    MyopicParameters,
    MyopicScheduler,
    OWScheduler,
    TWAPScheduler,
    VolumeProfile,
    VWAPScheduler,
)

__all__ = ["SCHEDULES", "StrategySpec", "compare_strategies", "make_strategy", "parse_strategy"]

SCHEDULES = (
    "myopic",
    "myopic-zero",
    "myopic-oracle",
    "myopic-true",
    "traditional",
    "twap",
    "vwap",
    "almgren_chriss",
    "ow",
)
ROUTERS = ("ck", "market", "passive")
_ALIASES = {"ac": "almgren_chriss", "almgren-chriss": "almgren_chriss", "fixed": "traditional"}


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A parsed strategy name: the schedule and the router."""

    schedule: str
    router: str = "ck"

    @property
    def name(self) -> str:
        """``schedule`` or ``schedule:router`` (the default router is left out)."""
        return self.schedule if self.router == "ck" else f"{self.schedule}:{self.router}"


def parse_strategy(text: str) -> StrategySpec:
    """Parse ``"<schedule>[:<router>]"``; unknown names raise a ConfigError listing the valid
    ones."""
    sched, _, router = text.strip().lower().partition(":")
    sched = _ALIASES.get(sched, sched)
    router = router or "ck"
    if sched not in SCHEDULES:
        msg = f"unknown strategy {text!r}: choose from {', '.join(SCHEDULES)}"
        raise ConfigError(msg)
    if router not in ROUTERS:
        msg = f"unknown router {router!r} in {text!r}: choose from {', '.join(ROUTERS)}"
        raise ConfigError(msg)
    return StrategySpec(sched, router)


def make_router(name: str, config: MyopicSorConfig) -> Router:
    """The router called ``name`` (``ck``, ``market`` or ``passive``)."""
    if name == "market":
        return MarketOnlyRouter()
    if name == "passive":
        return PassiveRouter()
    return ContKukanovRouter(n_samples=config.strategy.N)


def make_strategy(
    spec: StrategySpec,
    config: MyopicSorConfig,
    params: MyopicParameters,
    *,
    window_s: float,
    mid_price: float,
    market_data: MarketData | SyntheticConfig | None = None,
) -> ExecutionStrategy:
    """Build the strategy of ``spec`` with the run's parameters.

    Parameters
    ----------
    spec : StrategySpec
    config : MyopicSorConfig
        ``execution.order_freq`` is the decision step of every schedule; ``risk`` limits the
        myopic scheduler.
    params : MyopicParameters
        Impact parameters (λ, β, σ, ADV) for myopic, OW and Almgren-Chriss.
    window_s : float
        Length of the execution window, seconds.
    mid_price : float
        Arrival mid, for Almgren-Chriss's price volatility.
    market_data : MarketData or SyntheticConfig, optional
        What the engine trades in: the day the look-ahead oracle reads, or the reactive
        market whose latent drift ``myopic-true`` reads.

    Raises
    ------
    ConfigError
        ``myopic-oracle`` on the reactive market, or ``myopic-true`` on a replay.

    Notes
    -----
    Almgren-Chriss is mapped onto the impact model: σ_AC = σ_daily · P0 / √(session seconds)
    (currency per share per √s); temporary impact η = λ_s / β (the OW impact of trading at a
    steady rate when the decay is fast), permanent γ = 0, and the risk aversion set so that
    κT = 1 (a moderately front-loaded trajectory): λ_AC = η / (σ_AC² T²).
    """
    step = config.execution.order_freq
    n_slots = max(2, math.ceil(window_s / step - 1e-9))
    ip = params.to_impact_params()
    if spec.schedule.startswith("myopic"):
        lookback = config.execution.lookup_duration_s
        alpha: Forecaster
        if spec.schedule == "myopic":
            alpha = OFIRegressionAlpha(lookback_s=lookback)
        elif spec.schedule == "myopic-oracle":
            if isinstance(market_data, SyntheticConfig):
                msg = (
                    "myopic-oracle reads the realised future, which the reactive market does not "
                    "have (our orders change it); use myopic-true (its latent drift) there"
                )
                raise ConfigError(msg)
            alpha = OracleAlpha()
        elif spec.schedule == "myopic-true":
            if not isinstance(market_data, SyntheticConfig):
                msg = (
                    "myopic-true reads the synthetic market's latent drift: run it on the "
                    "reactive synthetic market (a recorded day has no latent state)"
                )
                raise ConfigError(msg)
            alpha = TrueAlpha(None, market_data.kappa_per_s)
        else:
            alpha = ZeroAlpha()
        sched = MyopicScheduler(
            params,
            risk=config.risk,
            alpha=alpha,
            lambda_config=config.lambda_estimation,
            eval_every_s=step,
            allow_lookahead=spec.schedule == "myopic-oracle",
        )
        lookahead = (
            market_data
            if spec.schedule == "myopic-oracle" and isinstance(market_data, MarketData)
            else None
        )
        return MyopicStrategy(sched, name=spec.name, lookahead_data=lookahead)
    if spec.schedule == "traditional":
        return TraditionalStrategy(step, name=spec.name)
    if spec.schedule == "twap":
        return ScheduledStrategy(TWAPScheduler(slot_s=step), name=spec.name)
    if spec.schedule == "vwap":
        # no past days are available to a single-day run: a flat profile (documented), so
        # VWAP equals TWAP unless a profile is passed through the Python API
        flat = VolumeProfile(bin_s=300.0, weights=np.ones(78))
        return ScheduledStrategy(VWAPScheduler(flat, slot_s=step), name=spec.name)
    if spec.schedule == "ow":
        return ScheduledStrategy(OWScheduler(ip, n_slots=n_slots + 1), name=spec.name)
    sigma_ac = params.volatility * mid_price / math.sqrt(params.session_s)
    eta = ip.lambda_per_share / ip.beta_per_s
    risk_aversion = eta / (sigma_ac**2 * window_s**2) if sigma_ac > 0 else 0.0
    ac = AlmgrenChrissScheduler(
        n_slots=n_slots, sigma=sigma_ac, eta=eta, risk_aversion=risk_aversion
    )
    return ScheduledStrategy(ac, name=spec.name)


def compare_strategies(
    engine: Backtester,
    parent: ParentOrder,
    strategies: Sequence[str],
    params: MyopicParameters,
    *,
    mid_price: float,
) -> dict[str, BacktestResult]:
    """Run each named strategy on the same parent through ``engine`` (same data, seed,
    exchange settings); the router of each comes from its name."""
    out: dict[str, BacktestResult] = {}
    window_s = (parent.end_ns - parent.start_ns) / 1e9
    base_router = engine.router
    for text in strategies:
        spec = parse_strategy(text)
        strat = make_strategy(
            spec,
            engine.config,
            params,
            window_s=window_s,
            mid_price=mid_price,
            market_data=engine.market_data,
        )
        engine.router = (
            make_router(spec.router, engine.config) if spec.router != "ck" else base_router
        )
        try:
            res = engine.run(parent, strat)
        finally:
            engine.router = base_router
        info: dict[str, Any] = dict(res.info)
        info["lookahead"] = spec.schedule == "myopic-oracle"
        info["latent_state"] = spec.schedule == "myopic-true"
        out[spec.name] = BacktestResult(
            res.strategy, res.parent, res.fills, res.decisions, res.metrics, info
        )
    return out
