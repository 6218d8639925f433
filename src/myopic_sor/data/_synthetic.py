r"""A synthetic multi-venue order-book market with known ground truth.

It is the embedded default data set (a realistic US large-cap day, MBP-10 on three venues) and
the laboratory in which calibration and execution are checked against the truth: the impact
parameters λ and β, the alpha process and every realised latent path are known.

The model
---------
Time t in seconds from the open, session length T (23,400 s for 09:30–16:00).

**Efficient price and alpha.** The unperturbed price S0 follows a drifted random walk whose drift
μ is an Ornstein-Uhlenbeck process:

.. math::

    dS_0 = \mu(t)\,dt + \sigma_p\,dW, \qquad d\mu = -\kappa\,\mu\,dt + \eta\,dB,

with :math:`\sigma_p = \sigma \cdot S_0(0) / \sqrt{T}` (σ the daily return volatility),
:math:`\kappa = \ln 2 / \text{alpha\_half\_life\_s}`, stationary sd of μ
:math:`\sigma_\mu = \text{alpha\_sd} \cdot \kappa` and :math:`\eta = \sigma_\mu\sqrt{2\kappa}`.
The alpha of MATH.md §2 is then known in closed form:

.. math::

    \alpha(t) = E_t[S_0(T) - S_0(t)] = \mu(t)\,\frac{1 - e^{-\kappa (T - t)}}{\kappa}.

Part of it is forecastable from the order flow, because background market orders are tilted by
μ: a market order is a buy with probability
:math:`1 / (1 + e^{-\text{flow\_tilt}\,\mu/\sigma_\mu})`.
On the discrete clock (step h = ``clock_step_ms``) the updates are
:math:`S_0 \leftarrow S_0 + \mu (1 - e^{-\kappa h})/\kappa + \sigma_p\sqrt{h}\,Z_2` and the exact
OU transition :math:`\mu \leftarrow \mu e^{-\kappa h} + \sigma_\mu\sqrt{1 - e^{-2\kappa h}}\,Z_1`.

**Transient impact (Obizhaeva-Wang, MATH.md §1).** Every executed market order — background or
ours, identical treatment — of signed size q adds :math:`\lambda u` with
:math:`u = q\sigma/\text{ADV}` to the impact state I, which decays exponentially in between:

.. math::

    I_{n+1} = e^{-\beta (t_{n+1} - t_n)}\,(I_n + \lambda u_n), \qquad P = S_0 + I,

β = ln 2 / ``impact_half_life_s`` (per second). P is the fair price the books are built around.
The impact of a trade uses its executed size (the part that found displayed liquidity).

**Books.** Each venue has K = ``levels + hidden_levels`` internal price levels per side on a
grid anchored at the tick index a: bid level k at :math:`(a - k)\,\text{tick}`, ask level k at
:math:`(a + 1 + k)\,\text{tick}`; the MBP-10 rows show the first ``levels`` non-empty levels.
All venues share the anchor (one fair price), so the nominal spread is one tick. Per venue v,
side and level k, in continuous time (Gillespie):

* limit-order arrivals at rate :math:`r_{v,k} = \tfrac12 R_v\, w_k / \sum_j w_j`,
  :math:`w_k = e^{-k/\text{limit\_depth\_decay\_levels}}`, plus ``refill_rate_per_s`` when the
  level is empty and ``replenish_rate_per_s`` when it holds fewer than half its equilibrium
  order count :math:`\bar n_{v,k}` (below); sizes are log-normal (median
  ``limit_size_median_shares``, log-sd ``limit_size_log_sd``), rounded, at least one share;
* cancellations at rate ``cancel_rate_per_s`` × (orders at the level); a cancel removes one
  order of the level's average size (orders at a level are exchangeable, so the order count is
  an approximation kept consistent with the size);
* market orders at rate :math:`m_v` (the total
  :math:`\text{ADV} / (E[\text{size}] \cdot T)` split by activity share), log-normal sizes
  (``market_size_median_shares``, ``market_size_log_sd``); a market order consumes the touch
  and walks deeper levels when larger than it, one T row per level (VWAP of the levels consumed);
  what the K levels cannot fill is not executed and counted (``truncated_market_orders``).

**Re-centring.** After every clock step and every market order the fair price is compared with
the book: when :math:`P/\text{tick}` leaves :math:`[a - h_y,\ a + 1 + h_y]` (h_y =
``recentre_hysteresis_ticks``, which stops the quote flickering around a tick boundary) the
anchor moves to :math:`\lfloor P/\text{tick}\rfloor`, one tick at a time. A one-tick move up
cancels the ask queue at the old best ask (a C row; it is now at or below the fair price),
shifts the ask levels in, creates a fresh deepest ask level (hidden, no row), shifts the bid
levels out (the deepest is dropped, hidden) and adds a fresh queue at the new best bid (an A row);
a move down is the mirror image. Fresh queues have
:math:`n = \max(1, \mathrm{round}(\bar n + \sqrt{\bar n} Z))` orders,
:math:`\bar n = r_{v,k}/\text{cancel\_rate}` (the stationary count without trades), and a
normal-approximation total size. A move of more than K ticks replaces every level (C rows for
the old levels, A rows for the new ones).

**Rows.** Every event that touches the displayed levels is one row in the canonical
representation (:mod:`._schema`); adds and cancels on the hidden levels behind them change no
displayed level and emit no row, as in Databento's MBP-10 (trades always emit rows):
action A/C/T, side (B/A; on T rows the aggressor: B buyer-initiated, A seller-initiated),
price, size, depth (displayed level index the event touched, before the event; for a walking
market order 0, 1, 2, ... in the order the levels were consumed) and the displayed book after the
event (``bid_px_00``..``ask_ct_09``). ``ts_recv = ts_event + latency`` of the venue;
``sequence`` numbers the rows of a venue (several rows can share one nanosecond: a sweep, a
re-centring).

Reactivity
----------
:class:`SyntheticMarket` holds the mutable :class:`MarketState`; ``advance_to`` runs background
events up to a time, ``submit_market_order`` walks a venue's book at a time and feeds the
executed size into the same impact state as background flow, so the price reacts (and every
venue re-centres, since they share the fair price). ``generate`` runs the whole session
without external orders.

Our limit orders (``place_limit_order`` / ``cancel_limit_order``) rest at the back of a queue:
shares ahead = the level's displayed size on entry; they are displayed (rows flagged ``own``)
and counted in the level, never removed by background cancellations. Rules:

* a market order consuming the level fills FIFO: first the shares ahead, then ours;
* a background cancellation of c shares at the level, whose other orders hold N shares of
  which A are ahead of ours, moves us up by its expected part ahead, c·A/N;
* when the fair price moves through our price the level is removed by re-centring and our
  order is filled at its limit price ("picked off", the adverse selection of resting orders);
* when its level falls off the far end of the K internal levels it is cancelled by the venue.

Fills and cancels are reported by ``pop_limit_order_events`` (kind 1 filled, 2 picked off,
3 cancelled by the venue, 4 cancelled by us). Passive fills feed no impact of their own: the
aggressor's market order already did.

Randomness: one injected ``numpy.random.Generator`` spawns two child streams (uniforms,
normals) that fill buffers read by the kernel; the output depends only on the seed and on the
external orders, not on how the session is chunked by ``advance_to`` calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from myopic_sor._io import atomic_write_with, write_json_atomic
from myopic_sor._rng import as_generator
from myopic_sor._typing import Float64Array1D, Int64Array1D, PathLike, SeedLike
from myopic_sor.data import _synthetic_kernels as _kern
from myopic_sor.data._layout import layout_path, venue_to_dataset
from myopic_sor.data._schema import MAX_LEVELS, MarketData, VenueData, level_column
from myopic_sor.exceptions import ConfigError, DataValidationError

__all__ = [
    "EventChunk",
    "LimitOrderEvents",
    "LimitOrderStatus",
    "MarketOrderResult",
    "MarketState",
    "SyntheticConfig",
    "SyntheticMarket",
    "SyntheticVenueConfig",
    "generate_market_data",
    "lambda_tau",
    "make_synthetic_config",
]

logger = logging.getLogger(__name__)

WriteFormat = Literal["parquet", "csv", "dbn.zst", "dbn"]

_NS: Final = 1_000_000_000
_TRUTH_TAUS_S: Final = (1.0, 10.0, 60.0, 300.0)
_RANDOM_BLOCK: Final = 1 << 19
_OUT_CAPACITY: Final = 1 << 16
_OWN_CAPACITY: Final = 64


class SyntheticVenueConfig(BaseModel):
    """Parameters of one synthetic venue.

    Parameters
    ----------
    name : str
        Venue code, e.g. ``"XNAS"`` (its Databento dataset names the output file).
    fee_per_share : float
        Taker fee, currency per share (US access fees are about 0.003).
    rebate_per_share : float
        Maker rebate, currency per share.
    latency_us : float
        One-way latency between the venue and us, microseconds; ``ts_recv = ts_event +
        latency`` and the execution simulator delays our orders by it.
    activity_share : float
        Relative share of the market's activity (normalised over venues).
    limit_rate_per_s : float or None
        Limit-order arrival rate on this venue, both sides and all levels, per second. ``None``:
        ``activity_share`` × the config's ``limit_rate_per_s``.
    market_rate_per_s : float or None
        Background market-order rate on this venue, per second. ``None``: ``activity_share`` ×
        the rate implied by the ADV.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    fee_per_share: float = Field(default=0.003, ge=0.0)
    rebate_per_share: float = Field(default=0.002, ge=0.0)
    latency_us: float = Field(default=100.0, ge=0.0)
    activity_share: float = Field(default=1.0, gt=0.0)
    limit_rate_per_s: float | None = Field(default=None, gt=0.0)
    market_rate_per_s: float | None = Field(default=None, ge=0.0)


def _default_venues() -> tuple[SyntheticVenueConfig, ...]:
    return (
        SyntheticVenueConfig(
            name="XNAS",
            fee_per_share=0.0030,
            rebate_per_share=0.0029,
            latency_us=60.0,
            activity_share=0.45,
        ),
        SyntheticVenueConfig(
            name="BATS",
            fee_per_share=0.0030,
            rebate_per_share=0.0025,
            latency_us=90.0,
            activity_share=0.30,
        ),
        SyntheticVenueConfig(
            name="ARCX",
            fee_per_share=0.0030,
            rebate_per_share=0.0020,
            latency_us=120.0,
            activity_share=0.25,
        ),
    )


class SyntheticConfig(BaseModel):
    """Parameters of the synthetic market (frozen; a misspelt key is an error).

    The defaults give a US large-cap day (AAPL-like, 2025-04-02, 09:30–16:00 New York, three
    venues, about 1.5 million events): impact visible (a 1,000-share market order moves the fair
    price by λσ/ADV·1000 ≈ 0.8 tick) and recoverable from one day.

    Parameters
    ----------
    symbol : str
    date : datetime.date
        Trading day, local to ``timezone``.
    timezone : str
        IANA time zone of the session.
    session_start, session_end : datetime.time
        Local session bounds.
    venues : tuple of SyntheticVenueConfig
    initial_price : float
        S0 at the open, currency per share.
    tick_size : float
        Price grid, currency; must be 1/integer (0.01, 0.0001, ...).
    sigma_daily : float
        Daily return volatility σ (fraction): the efficient-price diffusion and the σ of the
        normalised flow u = q σ / ADV.
    adv_shares : float
        Average daily volume, shares; sets the background market-order rate and normalises u.
    impact_lambda : float
        OW impact λ, currency per unit of normalised flow u (MATH.md §1).
    impact_half_life_s : float
        Impact half-life, seconds; β = ln 2 / half-life per second.
    alpha_half_life_s : float
        Half-life of the drift μ (OU), seconds; κ = ln 2 / half-life.
    alpha_sd : float
        Stationary sd of μ/κ (the expected remaining move on a long horizon), currency per share.
    flow_tilt : float
        Logit sensitivity of the market-order sign to μ/σ_μ (0: uninformative flow). Informed
        flow is autocorrelated, which biases the bucket OLS of MATH.md §4 downwards at long
        buckets (the formula λ_τ assumes independent buckets); the default 0.05 keeps that
        bias within the sampling error of one day while the flow still predicts μ.
    levels : int
        Displayed book levels (≤ 10).
    hidden_levels : int
        Extra internal levels behind the displayed ones (absorb sweeps and re-centring).
    limit_rate_per_s : float
        Limit-order arrivals over all venues, sides and levels, per second.
    limit_depth_decay_levels : float
        e-folding of the arrival rate with the level index.
    cancel_rate_per_s : float
        Cancellation rate per resting order, per second.
    refill_rate_per_s : float
        Extra arrival rate at an empty level, per second (refills a swept touch).
    replenish_rate_per_s : float
        Extra arrival rate at a level holding fewer than half its equilibrium order count,
        per second (liquidity providers re-quote after a trend has thinned a side).
    limit_size_median_shares, limit_size_log_sd : float
        Log-normal limit-order size.
    market_size_median_shares, market_size_log_sd : float
        Log-normal market-order size.
    recentre_hysteresis_ticks : float
        Tolerance before the book re-centres on the fair price, ticks.
    clock_step_ms : int
        Step of the latent-price clock, milliseconds; must divide 1000.
    day_length_s : float
        Length of the trading day that ``sigma_daily`` and ``adv_shares`` refer to, seconds
        (6.5 h); a shortened session keeps the per-second rates of a full day.
    seed : int
        Default seed of :class:`SyntheticMarket` and :func:`generate_market_data`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = "AAPL"
    date: dt.date = dt.date(2025, 4, 2)
    timezone: str = "America/New_York"
    session_start: dt.time = dt.time(9, 30)
    session_end: dt.time = dt.time(16, 0)
    venues: tuple[SyntheticVenueConfig, ...] = Field(default_factory=_default_venues)
    initial_price: float = Field(default=220.0, gt=0.0)
    tick_size: float = Field(default=0.01, gt=0.0)
    sigma_daily: float = Field(default=0.015, gt=0.0)
    adv_shares: float = Field(default=45_000_000.0, gt=0.0)
    impact_lambda: float = Field(default=25_000.0, ge=0.0)
    impact_half_life_s: float = Field(default=300.0, gt=0.0)
    alpha_half_life_s: float = Field(default=900.0, gt=0.0)
    alpha_sd: float = Field(default=0.10, gt=0.0)
    flow_tilt: float = Field(default=0.05, ge=0.0)
    levels: int = Field(default=10, ge=1, le=MAX_LEVELS)
    hidden_levels: int = Field(default=5, ge=1, le=50)
    limit_rate_per_s: float = Field(default=15.0, gt=0.0)
    limit_depth_decay_levels: float = Field(default=5.0, gt=0.0)
    cancel_rate_per_s: float = Field(default=0.025, gt=0.0)
    refill_rate_per_s: float = Field(default=20.0, ge=0.0)
    replenish_rate_per_s: float = Field(default=1.0, ge=0.0)
    limit_size_median_shares: float = Field(default=100.0, ge=1.0)
    limit_size_log_sd: float = Field(default=0.8, ge=0.0)
    market_size_median_shares: float = Field(default=100.0, ge=1.0)
    market_size_log_sd: float = Field(default=1.2, ge=0.0)
    recentre_hysteresis_ticks: float = Field(default=0.25, ge=0.0)
    clock_step_ms: int = Field(default=100, ge=1, le=1000)
    day_length_s: float = Field(default=23_400.0, gt=0.0)
    seed: int = 20250402

    @field_validator("venues")
    @classmethod
    def _check_venues(cls, v: tuple[SyntheticVenueConfig, ...]) -> tuple[SyntheticVenueConfig, ...]:
        if not v:
            raise ValueError("venues: at least one venue is needed")
        names = [x.name for x in v]
        if len(set(names)) != len(names):
            raise ValueError(f"venues: duplicate names in {names}; give each venue a unique name")
        return v

    @model_validator(mode="after")
    def _check(self) -> SyntheticConfig:
        tpu = 1.0 / self.tick_size
        if abs(tpu - round(tpu)) > 1e-9 * tpu:
            raise ValueError(
                f"tick_size={self.tick_size}: must be 1/integer (0.01, 0.005, 0.0001, ...)"
            )
        if 1000 % self.clock_step_ms != 0:
            raise ValueError(f"clock_step_ms={self.clock_step_ms}: must divide 1000")
        if self.session_end <= self.session_start:
            raise ValueError(
                f"session_end={self.session_end} must be after session_start={self.session_start}"
            )
        return self

    # -- derived quantities -------------------------------------------------------------------
    @property
    def session_s(self) -> float:
        """Session length, seconds."""
        start = dt.datetime.combine(self.date, self.session_start)
        end = dt.datetime.combine(self.date, self.session_end)
        return (end - start).total_seconds()

    @property
    def beta_per_s(self) -> float:
        """Impact decay β, per second."""
        return math.log(2.0) / self.impact_half_life_s

    @property
    def kappa_per_s(self) -> float:
        """Mean reversion κ of the drift μ, per second."""
        return math.log(2.0) / self.alpha_half_life_s

    @property
    def sigma_mu(self) -> float:
        """Stationary sd of the drift μ, currency per share per second."""
        return self.alpha_sd * self.kappa_per_s

    @property
    def lambda_per_share(self) -> float:
        """λ σ / ADV: price move per share traded, currency per share."""
        return self.impact_lambda * self.sigma_daily / self.adv_shares

    @property
    def sigma_price_per_sqrt_s(self) -> float:
        """Diffusion of S0, currency per sqrt(second)."""
        return self.sigma_daily * self.initial_price / math.sqrt(self.day_length_s)

    def session_bounds_ns(self) -> tuple[int, int]:
        """UTC ns of the session start and end on ``date`` in ``timezone``."""
        lo = pd.Timestamp(dt.datetime.combine(self.date, self.session_start)).tz_localize(
            self.timezone
        )
        hi = pd.Timestamp(dt.datetime.combine(self.date, self.session_end)).tz_localize(
            self.timezone
        )
        return int(lo.value), int(hi.value)

    def venue_rates(self) -> tuple[Float64Array1D, Float64Array1D]:
        """Per-venue limit-order and market-order rates, per second (both sides)."""
        shares = np.array([v.activity_share for v in self.venues], dtype=np.float64)
        shares = shares / shares.sum()
        mean_mo = self.market_size_median_shares * math.exp(0.5 * self.market_size_log_sd**2)
        mo_total = self.adv_shares / (mean_mo * self.day_length_s)
        lo = np.empty(len(self.venues))
        mo = np.empty(len(self.venues))
        for i, v in enumerate(self.venues):
            lo[i] = (
                v.limit_rate_per_s
                if v.limit_rate_per_s is not None
                else (shares[i] * self.limit_rate_per_s)
            )
            mo[i] = (
                v.market_rate_per_s if v.market_rate_per_s is not None else (shares[i] * mo_total)
            )
        return lo, mo


def lambda_tau(impact_lambda: float, beta_per_s: float, tau_s: float) -> float:
    """Apparent impact of an OLS on τ-second buckets under OW with uniform flow (MATH.md §4).

    Parameters
    ----------
    impact_lambda : float
        λ, currency per unit of normalised flow.
    beta_per_s : float
        β, per second.
    tau_s : float
        Bucket length, seconds.

    Returns
    -------
    float
        :math:`\\lambda_\\tau = \\lambda (1 - e^{-\\beta\\tau}) / (\\beta\\tau)`, same units as λ.
    """
    x = beta_per_s * tau_s
    if x <= 0.0:
        return float(impact_lambda)
    return float(impact_lambda * -math.expm1(-x) / x)


@dataclass(slots=True)
class MarketState:
    """The mutable state of a :class:`SyntheticMarket` (arrays mutated in place by the kernel).

    Attributes
    ----------
    istate : numpy.ndarray
        int64 clock and counters (now, next clock step, pending event time, anchor tick, ...).
    fstate : numpy.ndarray
        float64 ``[S0, μ, I]``: efficient price, drift (currency/s), impact (currency).
    bsz, bct : numpy.ndarray
        int64 ``(venues, 2, K)`` shares and order counts per internal level (0 bid, 1 ask).
    rng_u, rng_n : numpy.random.Generator
        Streams that refill the uniform and normal buffers ``ru``/``rn`` (read heads ``rpos``).
    rc : numpy.ndarray
        float64 ``2 × (clock steps + 2)`` normals of the efficient price and the drift, drawn
        for the whole session up front from their own stream (indexed by clock step), so the
        fundamental path does not depend on the order flow, ours included.
    sec : numpy.ndarray
        float64 ``(n_seconds + 1, 3)``: S0, μ, I on every whole second of the session.
    beta_per_s : float
        Impact decay, per second (to decay I lazily).
    osz : numpy.ndarray
        int64 ``(venues, 2, K, 2)``: our resting shares and order count per level.
    own_i, own_f : numpy.ndarray
        Our limit orders (status, venue, side, price tick, remaining, quantity) and the shares
        ahead of each in its queue; the row index is the order id.
    fill_i : numpy.ndarray
        int64 ``(cap, 5)`` buffer of our limit-order fills/cancels written by the kernel.
    """

    istate: Int64Array1D
    fstate: Float64Array1D
    bsz: npt.NDArray[np.int64]
    bct: npt.NDArray[np.int64]
    rng_u: np.random.Generator
    rng_n: np.random.Generator
    ru: Float64Array1D
    rn: Float64Array1D
    rpos: Int64Array1D
    sec: npt.NDArray[np.float64]
    beta_per_s: float
    rc: Float64Array1D
    osz: npt.NDArray[np.int64]
    own_i: npt.NDArray[np.int64]
    own_f: Float64Array1D
    fill_i: npt.NDArray[np.int64]

    @property
    def now_ns(self) -> int:
        """Current clock, int64 UTC ns."""
        return int(self.istate[_kern.I_T_NOW])

    @property
    def efficient_price(self) -> float:
        """S0, currency per share."""
        return float(self.fstate[_kern.F_S0])

    @property
    def drift(self) -> float:
        """μ, currency per share per second."""
        return float(self.fstate[_kern.F_MU])

    @property
    def impact(self) -> float:
        """I decayed to the current clock, currency per share."""
        return self.impact_at(self.now_ns)

    def impact_at(self, t_ns: int) -> float:
        """I decayed to ``t_ns`` (≥ the last impact update), without changing the state."""
        dt_ns = t_ns - int(self.istate[_kern.I_T_IMP])
        return float(self.fstate[_kern.F_IMP]) * math.exp(-self.beta_per_s * max(dt_ns, 0) * 1e-9)

    @property
    def anchor_tick(self) -> int:
        """Tick index of the nominal best bid (the book's anchor)."""
        return int(self.istate[_kern.I_ANCHOR])


_OUT_I_COLS: Final = 7


@dataclass(frozen=True, slots=True)
class EventChunk:
    """Events emitted over an interval, all venues interleaved in time order.

    Attributes
    ----------
    venue : numpy.ndarray
        int64 venue index (into ``venue_names``).
    ts_event : numpy.ndarray
        int64 UTC ns.
    action, side, depth : numpy.ndarray
        uint8 codes as in the canonical schema.
    price : numpy.ndarray
        float64 currency per share; ``size`` int64 shares.
    own : numpy.ndarray
        bool, True on rows caused by our own orders.
    bid_px, ask_px : numpy.ndarray
        float64 ``(n, levels)`` displayed prices after the event (NaN when empty);
        ``bid_sz``, ``ask_sz``, ``bid_ct``, ``ask_ct`` int64 ``(n, levels)``.
    """

    venue_names: tuple[str, ...]
    venue: Int64Array1D
    ts_event: Int64Array1D
    action: npt.NDArray[np.uint8]
    side: npt.NDArray[np.uint8]
    depth: npt.NDArray[np.uint8]
    price: Float64Array1D
    size: Int64Array1D
    own: npt.NDArray[np.bool_]
    bid_px: npt.NDArray[np.float64]
    ask_px: npt.NDArray[np.float64]
    bid_sz: npt.NDArray[np.int64]
    ask_sz: npt.NDArray[np.int64]
    bid_ct: npt.NDArray[np.int64]
    ask_ct: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.ts_event.shape[0])

    def take(self, mask: npt.NDArray[np.bool_]) -> EventChunk:
        """The rows selected by a boolean mask."""
        fields = [f.name for f in dataclasses.fields(self) if f.name != "venue_names"]
        return EventChunk(
            venue_names=self.venue_names, **{f: getattr(self, f)[mask] for f in fields}
        )

    @classmethod
    def concat(cls, chunks: list[EventChunk]) -> EventChunk:
        """Join consecutive chunks of one market into one (time order is kept)."""
        if not chunks:
            raise ValueError("concat needs at least one chunk")
        names = chunks[0].venue_names
        fields = [f.name for f in dataclasses.fields(cls) if f.name != "venue_names"]
        joined = {f: np.concatenate([getattr(c, f) for c in chunks]) for f in fields}
        return cls(venue_names=names, **joined)

    @classmethod
    def _from_raw(
        cls,
        names: tuple[str, ...],
        levels: int,
        raw: tuple[
            npt.NDArray[np.int64], Float64Array1D, npt.NDArray[np.float64], npt.NDArray[np.int64]
        ],
    ) -> EventChunk:
        L = levels
        out_i, out_px, out_bpx, out_bsz = raw
        return cls(
            venue_names=names,
            venue=np.ascontiguousarray(out_i[:, 1]),
            ts_event=np.ascontiguousarray(out_i[:, 0]),
            action=out_i[:, 2].astype(np.uint8),
            side=out_i[:, 3].astype(np.uint8),
            depth=out_i[:, 4].astype(np.uint8),
            price=out_px,
            size=np.ascontiguousarray(out_i[:, 5]),
            own=out_i[:, 6] != 0,
            bid_px=out_bpx[:, :L],
            ask_px=out_bpx[:, L:],
            bid_sz=out_bsz[:, :L],
            ask_sz=out_bsz[:, L : 2 * L],
            bid_ct=out_bsz[:, 2 * L : 3 * L],
            ask_ct=out_bsz[:, 3 * L :],
        )

    def venue_columns(self, venue: int, latency_ns: int = 0) -> dict[str, npt.NDArray[Any]]:
        """Canonical columns (Databento names) of the rows of one venue.

        Parameters
        ----------
        venue : int
            Venue index into ``venue_names``.
        latency_ns : int
            Added to ``ts_event`` to form ``ts_recv``, nanoseconds.

        Returns
        -------
        dict
            Column name to a contiguous array, ready for :class:`VenueData`.
        """
        idx = np.flatnonzero(self.venue == venue)
        ts = self.ts_event[idx]
        cols: dict[str, npt.NDArray[Any]] = {
            "ts_event": ts,
            "ts_recv": ts + np.int64(latency_ns),
            "action": self.action[idx],
            "side": self.side[idx],
            "depth": self.depth[idx],
            "price": self.price[idx],
            "size": self.size[idx],
        }
        L = self.bid_px.shape[1]
        for lvl in range(L):
            cols[level_column("px", "bid", lvl)] = np.ascontiguousarray(self.bid_px[idx, lvl])
            cols[level_column("px", "ask", lvl)] = np.ascontiguousarray(self.ask_px[idx, lvl])
            cols[level_column("sz", "bid", lvl)] = np.ascontiguousarray(self.bid_sz[idx, lvl])
            cols[level_column("sz", "ask", lvl)] = np.ascontiguousarray(self.ask_sz[idx, lvl])
            cols[level_column("ct", "bid", lvl)] = np.ascontiguousarray(self.bid_ct[idx, lvl])
            cols[level_column("ct", "ask", lvl)] = np.ascontiguousarray(self.ask_ct[idx, lvl])
        return cols


@dataclass(frozen=True, slots=True)
class MarketOrderResult:
    """Outcome of :meth:`SyntheticMarket.submit_market_order`.

    Attributes
    ----------
    venue : str
    side : int
        +1 buy, −1 sell.
    ts_event : int
        Execution time, int64 UTC ns.
    requested, executed, unfilled : int
        Shares; ``unfilled > 0`` when the venue's K levels were exhausted (never a silent fill).
    prices, sizes : numpy.ndarray
        One fill per price level consumed (currency per share, shares).
    avg_price : float
        VWAP of the fills (NaN when nothing executed).
    impact_before, impact_after : float
        Impact state I just before and just after the order, currency per share.
    fair_before, fair_after : float
        Fair price P = S0 + I just before and after, currency per share.
    """

    venue: str
    side: int
    ts_event: int
    requested: int
    executed: int
    unfilled: int
    prices: Float64Array1D
    sizes: Int64Array1D
    avg_price: float
    impact_before: float
    impact_after: float
    fair_before: float
    fair_after: float


@dataclass(frozen=True, slots=True)
class LimitOrderStatus:
    """State of one of our limit orders.

    Attributes
    ----------
    order_id : int
    venue : str
    side : int
        +1 buy (rests on the bid), −1 sell.
    price : float
        Limit price, currency per share.
    quantity, remaining : int
        Original and unfilled shares.
    status : {"resting", "filled", "cancelled"}
    queue_ahead : float
        Expected shares ahead of the order in its queue (0 unless resting).
    """

    order_id: int
    venue: str
    side: int
    price: float
    quantity: int
    remaining: int
    status: str
    queue_ahead: float


@dataclass(frozen=True, slots=True)
class LimitOrderEvents:
    """Fills and cancels of our limit orders, in time order (columns of equal length).

    Attributes
    ----------
    order_id, ts_event, size : numpy.ndarray
        int64 order id, UTC ns, shares.
    price : numpy.ndarray
        float64 limit price, currency per share (fills are at the limit price).
    kind : numpy.ndarray
        uint8: 1 filled by a market order, 2 picked off (the fair price moved through the
        order and its level was taken), 3 cancelled by the venue (level left the book),
        4 cancelled by us. ``KIND_NAMES`` maps codes to names.
    """

    order_id: Int64Array1D
    ts_event: Int64Array1D
    price: Float64Array1D
    size: Int64Array1D
    kind: npt.NDArray[np.uint8]

    KIND_NAMES: ClassVar[Mapping[int, str]] = MappingProxyType(
        {1: "filled", 2: "picked_off", 3: "cancelled_by_venue", 4: "cancelled"}
    )

    def __len__(self) -> int:
        return int(self.order_id.shape[0])

    @property
    def filled_mask(self) -> npt.NDArray[np.bool_]:
        """True on fills (kinds 1 and 2)."""
        mask: npt.NDArray[np.bool_] = (self.kind == 1) | (self.kind == 2)
        return mask


@dataclass(slots=True)
class _Buffers:
    out_i: npt.NDArray[np.int64]
    out_px: Float64Array1D
    out_bpx: npt.NDArray[np.float64]
    out_bsz: npt.NDArray[np.int64]
    pending: list[tuple[Any, ...]] = field(default_factory=list)


class SyntheticMarket:
    """A reactive synthetic multi-venue market (see the module docstring for the model).

    Parameters
    ----------
    config : SyntheticConfig, optional
        Parameters; the defaults describe a US large-cap day.
    seed : int, numpy.random.Generator or None, optional
        Randomness; ``None`` uses ``config.seed`` (so the default market is reproducible).
    use_numba : bool, default True
        Run the compiled kernel; ``False`` runs the plain-Python twin (slow, for tests).

    Examples
    --------
    >>> cfg = SyntheticConfig(session_end=dt.time(9, 31))
    >>> mkt = SyntheticMarket(cfg, seed=1)
    >>> chunk = mkt.advance_to(mkt.session_start_ns + 10 * 10**9)
    >>> res = mkt.submit_market_order("XNAS", +1, 500, mkt.session_start_ns + 10 * 10**9)
    >>> res.executed
    500
    """

    def __init__(
        self,
        config: SyntheticConfig | None = None,
        *,
        seed: SeedLike = None,
        use_numba: bool = True,
    ) -> None:
        self.config = config if config is not None else SyntheticConfig()
        cfg = self.config
        self._seed: int | str = (
            cfg.seed if seed is None else int(seed) if isinstance(seed, int) else repr(seed)
        )
        self._seed_repr = str(self._seed)
        rng = as_generator(cfg.seed if seed is None else seed)
        # a third stream for the fundamental (S0, μ): the same path whatever the order flow,
        # so strategies run on one seed share it (common random numbers on the reactive market)
        rng_u, rng_n, rng_c = rng.spawn(3)
        self._kernel = _kern.run_events if use_numba else _kern.run_events_py
        self.venue_names: tuple[str, ...] = tuple(v.name for v in cfg.venues)
        self.session_start_ns, self.session_end_ns = cfg.session_bounds_ns()
        V = len(cfg.venues)
        L = cfg.levels
        K = cfg.levels + cfg.hidden_levels
        self._levels = L
        h_ns = cfg.clock_step_ms * 1_000_000
        h = h_ns / _NS
        tpu = round(1.0 / cfg.tick_size)
        self._tpu = tpu
        kappa = cfg.kappa_per_s
        sig_mu = cfg.sigma_mu
        self._params_i = np.array([V, K, L, h_ns, 1000 // cfg.clock_step_ms, tpu], dtype=np.int64)
        lo_logsd = cfg.limit_size_log_sd
        pf = np.zeros(_kern.N_PARAMS_F)
        pf[_kern.Q_LAM_S] = cfg.lambda_per_share
        pf[_kern.Q_BETA] = cfg.beta_per_s
        pf[_kern.Q_MU_A] = math.exp(-kappa * h)
        pf[_kern.Q_MU_SD] = sig_mu * math.sqrt(-math.expm1(-2.0 * kappa * h))
        pf[_kern.Q_MU_DRIFT] = -math.expm1(-kappa * h) / kappa
        pf[_kern.Q_S0_SD] = cfg.sigma_price_per_sqrt_s * math.sqrt(h)
        pf[_kern.Q_TILT] = cfg.flow_tilt
        pf[_kern.Q_SIGMA_MU] = sig_mu
        pf[_kern.Q_MO_LOGMED] = math.log(cfg.market_size_median_shares)
        pf[_kern.Q_MO_LOGSD] = cfg.market_size_log_sd
        pf[_kern.Q_LO_LOGMED] = math.log(cfg.limit_size_median_shares)
        pf[_kern.Q_LO_LOGSD] = lo_logsd
        pf[_kern.Q_LO_MEAN] = cfg.limit_size_median_shares * math.exp(0.5 * lo_logsd**2)
        pf[_kern.Q_LO_CV] = math.sqrt(math.expm1(lo_logsd**2))
        pf[_kern.Q_CANCEL] = cfg.cancel_rate_per_s
        pf[_kern.Q_REFILL] = cfg.refill_rate_per_s
        pf[_kern.Q_HYST] = cfg.recentre_hysteresis_ticks
        pf[_kern.Q_REPLENISH] = cfg.replenish_rate_per_s
        self._params_f = pf
        lo_v, mo_v = cfg.venue_rates()
        w = np.exp(-np.arange(K) / cfg.limit_depth_decay_levels)
        w /= w.sum()
        self._lo_rate = np.ascontiguousarray(0.5 * lo_v[:, None] * w[None, :])
        self._mo_rate = np.ascontiguousarray(mo_v)
        self._fresh_mean = np.ascontiguousarray(self._lo_rate / cfg.cancel_rate_per_s)

        istate = np.zeros(_kern.N_ISTATE, dtype=np.int64)
        istate[_kern.I_T_NOW] = self.session_start_ns
        istate[_kern.I_NEXT_CLOCK] = self.session_start_ns + h_ns
        istate[_kern.I_NEXT_EVENT] = -1
        istate[_kern.I_T_IMP] = self.session_start_ns
        istate[_kern.I_SESSION_END] = self.session_end_ns
        n_sec = round(cfg.session_s) + 1
        sec = np.full((n_sec, 3), np.nan)
        fstate = np.zeros(_kern.N_FSTATE)
        fstate[_kern.F_S0] = cfg.initial_price
        fstate[_kern.F_MU] = sig_mu * float(rng_c.standard_normal())
        n_steps = -(-(self.session_end_ns - self.session_start_ns) // h_ns) + 2
        rc = rng_c.standard_normal(2 * n_steps)
        fstate[_kern.F_IMP] = 0.0
        sec[0] = fstate[: _kern.F_RATE]
        istate[_kern.I_ANCHOR] = math.floor(cfg.initial_price * tpu)
        bsz = np.zeros((V, 2, K), dtype=np.int64)
        bct = np.zeros((V, 2, K), dtype=np.int64)
        self.state = MarketState(
            istate=istate,
            fstate=fstate,
            bsz=bsz,
            bct=bct,
            rng_u=rng_u,
            rng_n=rng_n,
            ru=rng_u.random(_RANDOM_BLOCK),
            rn=rng_n.standard_normal(_RANDOM_BLOCK),
            rpos=np.zeros(2, dtype=np.int64),
            sec=sec,
            beta_per_s=cfg.beta_per_s,
            rc=rc,
            osz=np.zeros((V, 2, K, 2), dtype=np.int64),
            own_i=np.zeros((_OWN_CAPACITY, 7), dtype=np.int64),
            own_f=np.zeros(_OWN_CAPACITY),
            fill_i=np.zeros((2 * _OWN_CAPACITY + 64, 5), dtype=np.int64),
        )
        self._init_book()
        self._buf = _Buffers(
            out_i=np.zeros((_OUT_CAPACITY, _OUT_I_COLS), dtype=np.int64),
            out_px=np.zeros(_OUT_CAPACITY),
            out_bpx=np.zeros((_OUT_CAPACITY, 2 * L)),
            out_bsz=np.zeros((_OUT_CAPACITY, 4 * L), dtype=np.int64),
        )
        self._cmd = np.zeros(8, dtype=np.int64)
        self._fills: list[npt.NDArray[np.int64]] = []
        self._n_orders = 0
        self._counts = np.zeros((V, 3), dtype=np.int64)  # A, C, T rows per venue
        self._own_volume = np.zeros(V, dtype=np.int64)
        self._data: MarketData | None = None

    # -- internals ----------------------------------------------------------------------------
    def _init_book(self) -> None:
        st = self.state
        V, K = st.bsz.shape[0], st.bsz.shape[2]
        z = st.rn
        mean = self._params_f[_kern.Q_LO_MEAN]
        cv = self._params_f[_kern.Q_LO_CV]
        pos = 0
        for v in range(V):
            for s in range(2):
                for k in range(K):
                    c_bar = self._fresh_mean[v, k]
                    ct = max(1, math.floor(c_bar + math.sqrt(c_bar) * z[pos] + 0.5))
                    sz = math.floor(ct * mean * (1.0 + cv / math.sqrt(ct) * z[pos + 1]) + 0.5)
                    st.bsz[v, s, k] = max(ct, sz)
                    st.bct[v, s, k] = ct
                    pos += 2
        st.rpos[1] = pos

    def _refill_random(self) -> None:
        st = self.state
        st.ru = np.concatenate([st.ru[st.rpos[0] :], st.rng_u.random(_RANDOM_BLOCK)])
        st.rn = np.concatenate([st.rn[st.rpos[1] :], st.rng_n.standard_normal(_RANDOM_BLOCK)])
        st.rpos[:] = 0

    def _flush(self) -> None:
        b = self._buf
        n = int(self.state.istate[_kern.I_OUT_N])
        if n:
            b.pending.append(
                (
                    b.out_i[:n].copy(),
                    b.out_px[:n].copy(),
                    b.out_bpx[:n].copy(),
                    b.out_bsz[:n].copy(),
                )
            )
            self.state.istate[_kern.I_OUT_N] = 0

    def _run(self, t_end_ns: int) -> None:
        st = self.state
        b = self._buf
        while True:
            status = self._kernel(
                int(t_end_ns), self._cmd, st.istate, st.fstate, st.bsz, st.bct, st.osz,
                st.own_i, st.own_f, st.fill_i, self._params_i, self._params_f, self._lo_rate,
                self._mo_rate, self._fresh_mean, st.ru, st.rn, st.rc, st.rpos, b.out_i, b.out_px,
                b.out_bpx, b.out_bsz, st.sec,
            )  # fmt: skip
            n_fill = int(st.istate[_kern.I_FILL_N])
            if n_fill:
                self._fills.append(st.fill_i[:n_fill].copy())
                st.istate[_kern.I_FILL_N] = 0
            if status == _kern.STATUS_DONE:
                return
            if status == _kern.STATUS_OUT_FULL:
                self._flush()
            else:
                self._refill_random()

    def _take_pending(self) -> EventChunk:
        self._flush()
        b = self._buf
        L = self._levels
        if b.pending:
            parts = b.pending
            b.pending = []
            raw = (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]),
                np.concatenate([p[3] for p in parts]),
            )
        else:
            raw = (
                np.zeros((0, _OUT_I_COLS), dtype=np.int64),
                np.zeros(0),
                np.zeros((0, 2 * L)),
                np.zeros((0, 4 * L), dtype=np.int64),
            )
        chunk = EventChunk._from_raw(self.venue_names, L, raw)
        # MBP-10 shows events of the displayed levels only: adds and cancels deeper in the
        # internal book change no displayed level and emit no row (trades always do)
        hidden = (chunk.depth >= L) & (chunk.action != ord("T"))
        if hidden.any():
            chunk = chunk.take(~hidden)
        acts = np.array([ord("A"), ord("C"), ord("T")], dtype=np.uint8)
        for j, a in enumerate(acts):
            self._counts[:, j] += np.bincount(
                chunk.venue[chunk.action == a], minlength=len(self.venue_names)
            )
        return chunk

    def _venue_index(self, venue: str | int) -> int:
        if isinstance(venue, str):
            try:
                return self.venue_names.index(venue)
            except ValueError:
                raise ConfigError(
                    f"unknown venue {venue!r}; this market has {', '.join(self.venue_names)}"
                ) from None
        if not 0 <= venue < len(self.venue_names):
            raise ConfigError(f"venue index {venue} out of range 0..{len(self.venue_names) - 1}")
        return int(venue)

    def _check_time(self, t_ns: int) -> int:
        t = int(t_ns)
        if t < self.state.now_ns:
            raise DataValidationError(
                f"t_ns={t} is before the market clock {self.state.now_ns}; the synthetic market "
                "only moves forward (create a new SyntheticMarket to restart)"
            )
        if t > self.session_end_ns:
            raise DataValidationError(
                f"t_ns={t} is after the session end {self.session_end_ns} "
                f"({self.config.session_end} {self.config.timezone})"
            )
        return t

    # -- public API ---------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        """Current clock of the market, int64 UTC ns."""
        return self.state.now_ns

    def fair_price(self) -> float:
        """Fair price P = S0 + I at the current clock, currency per share."""
        return self.state.efficient_price + self.state.impact

    def advance_to(self, t_ns: int) -> EventChunk:
        """Run background events up to ``t_ns`` (inclusive) and return every row emitted since
        the previous call (including rows of our own orders).

        Parameters
        ----------
        t_ns : int
            Target time, int64 UTC ns, between the current clock and the session end.

        Returns
        -------
        EventChunk
        """
        self._run(self._check_time(t_ns))
        return self._take_pending()

    def submit_market_order(
        self, venue: str | int, side: int | str, qty: int, t_ns: int
    ) -> MarketOrderResult:
        """Execute a market order at ``t_ns`` on one venue; the price reacts through impact.

        The market first advances to ``t_ns`` (rows are kept for the next :meth:`advance_to`),
        then the order walks the venue's displayed and hidden levels from the touch (one fill
        per level, at that level's price), the executed signed size adds λ·q·σ/ADV to the same
        impact state background orders feed, and the books re-centre on the new fair price.

        Parameters
        ----------
        venue : str or int
            Venue name or index.
        side : int or {"buy", "sell"}
            +1 / "buy" or −1 / "sell".
        qty : int
            Shares, > 0.
        t_ns : int
            Execution time, int64 UTC ns (≥ the market clock).

        Returns
        -------
        MarketOrderResult
            Fills, VWAP, unfilled shares (> 0 only when the book ran out), impact before/after.
        """
        v = self._venue_index(venue)
        sgn = self._side_sign(side)
        q = int(qty)
        if q <= 0:
            raise ConfigError(f"qty={qty}: a market order needs a positive number of shares")
        t = self._check_time(t_ns)
        self._run(t)
        imp0 = self.state.impact_at(t)
        s0 = self.state.efficient_price
        self._flush()
        self._cmd[:] = (1, v, sgn, q, 0, 0, 0, 0)
        self._run(t)
        n_rows = int(self.state.istate[_kern.I_OUT_N])
        b = self._buf
        mask = (b.out_i[:n_rows, 6] == 1) & (b.out_i[:n_rows, 2] == ord("T"))
        prices = b.out_px[:n_rows][mask].copy()
        sizes = b.out_i[:n_rows, 5][mask].copy()
        executed = int(self._cmd[4])
        self._cmd[:] = 0
        self._own_volume[v] += executed
        imp1 = self.state.impact_at(t)
        avg = float(np.dot(prices, sizes) / executed) if executed else float("nan")
        if executed < q:
            logger.warning(
                "market order %s %d on %s at %d: only %d shares of displayed+hidden depth; "
                "%d unfilled",
                "buy" if sgn > 0 else "sell", q, self.venue_names[v], t, executed, q - executed,
            )  # fmt: skip
        return MarketOrderResult(
            venue=self.venue_names[v],
            side=sgn,
            ts_event=t,
            requested=q,
            executed=executed,
            unfilled=q - executed,
            prices=prices,
            sizes=sizes,
            avg_price=avg,
            impact_before=imp0,
            impact_after=imp1,
            fair_before=s0 + imp0,
            fair_after=self.state.efficient_price + imp1,
        )

    # -- our limit orders ---------------------------------------------------------------------
    def _side_sign(self, side: int | str) -> int:
        if isinstance(side, str):
            if side.lower() not in ("buy", "sell"):
                raise ConfigError(f"side={side!r}: use 'buy', 'sell', +1 or -1")
            return 1 if side.lower() == "buy" else -1
        if side not in (1, -1):
            raise ConfigError(f"side={side!r}: use +1 (buy) or -1 (sell)")
        return int(side)

    def _run_command(self, t: int) -> int:
        # the kernel advances to t, then runs the command set in self._cmd
        self._run(t)
        result = int(self._cmd[4])
        self._cmd[:] = 0
        return result

    def place_limit_order(
        self, venue: str | int, side: int | str, price: float, qty: int, t_ns: int
    ) -> int:
        """Rest a limit order at the back of a venue's queue at ``price``; return its id.

        The market first advances to ``t_ns``. The order joins the back of the queue (shares
        ahead = the level's displayed size), is displayed in the book (an A row flagged
        ``own``), is never removed by background cancellations and is filled FIFO by market
        orders that reach it. Background cancellations at its level move it up by their
        expected share ahead of it. When the fair price moves through the order (its level is
        removed by re-centring) it is filled at its limit price ("picked off": adverse
        selection); when its level drops off the far end of the book it is cancelled by the
        venue. Fills and cancels are reported by :meth:`pop_limit_order_events`.

        Parameters
        ----------
        venue : str or int
        side : int or {"buy", "sell"}
            A buy rests on the bid, a sell on the ask.
        price : float
            Limit price, currency per share, on the tick grid, not marketable and within the
            internal book (``levels + hidden_levels`` ticks from the touch).
        qty : int
            Shares, > 0.
        t_ns : int
            Time, int64 UTC ns (≥ the market clock).

        Returns
        -------
        int
            The order id.
        """
        v = self._venue_index(venue)
        sgn = self._side_sign(side)
        q = int(qty)
        if q <= 0:
            raise ConfigError(f"qty={qty}: a limit order needs a positive number of shares")
        x = float(price) * self._tpu
        tick = round(x)
        if abs(x - tick) > 1e-6:
            raise ConfigError(
                f"price={price}: not on the tick grid ({self.config.tick_size}); round it"
            )
        t = self._check_time(t_ns)
        st = self.state
        if self._n_orders >= st.own_i.shape[0]:
            n = st.own_i.shape[0]
            st.own_i = np.concatenate([st.own_i, np.zeros((n, 7), dtype=np.int64)])
            st.own_f = np.concatenate([st.own_f, np.zeros(n)])
            st.fill_i = np.zeros((2 * st.own_i.shape[0] + 64, 5), dtype=np.int64)
        self._cmd[:] = (2, v, sgn, q, 0, 0, tick, 0)
        result = self._run_command(t)
        if result == _kern.ERR_MARKETABLE:
            raise ConfigError(
                f"limit {'buy' if sgn > 0 else 'sell'} at {price} on {self.venue_names[v]} at "
                f"t={t} is marketable (best bid {self._touch(v, 0)}, best ask "
                f"{self._touch(v, 1)}); use submit_market_order or a less aggressive price"
            )
        if result == _kern.ERR_TOO_DEEP:
            raise ConfigError(
                f"limit price {price} on {self.venue_names[v]} at t={t} is deeper than the "
                f"{st.bsz.shape[2]} internal levels of the book; place it closer to the touch"
            )
        self._n_orders += 1
        return result

    def best_price(self, venue: str | int, side: Literal["bid", "ask"]) -> float:
        """Best displayed bid or ask of a venue at the market clock (NaN when that side is
        empty), currency per share."""
        if side not in ("bid", "ask"):
            raise ConfigError(f"side={side!r}: use 'bid' or 'ask'")
        return self._touch(self._venue_index(venue), 0 if side == "bid" else 1)

    def _touch(self, v: int, s: int) -> float:
        a = self.state.anchor_tick
        ks = np.flatnonzero(self.state.bsz[v, s] > 0)
        if ks.size == 0:
            return float("nan")
        k = int(ks[0])
        return (a - k if s == 0 else a + 1 + k) / self._tpu

    def cancel_limit_order(self, order_id: int, t_ns: int) -> int:
        """Cancel our resting limit order at ``t_ns``; return the shares cancelled.

        Returns 0 when the order is no longer resting (already filled or cancelled), which is
        a normal race in execution, not an error.
        """
        o = int(order_id)
        if not 0 <= o < self._n_orders:
            raise ConfigError(
                f"order_id={order_id}: no such order (ids are 0..{self._n_orders - 1})"
            )
        t = self._check_time(t_ns)
        self._cmd[:] = (3, 0, 0, 0, 0, 0, 0, o)
        result = self._run_command(t)
        return max(result, 0)

    def limit_order_status(self, order_id: int) -> LimitOrderStatus:
        """Current state of one of our limit orders (at the market clock)."""
        o = int(order_id)
        if not 0 <= o < self._n_orders:
            raise ConfigError(
                f"order_id={order_id}: no such order (ids are 0..{self._n_orders - 1})"
            )
        row = self.state.own_i[o]
        status = {1: "resting", 2: "filled", 3: "cancelled"}[int(row[0])]
        return LimitOrderStatus(
            order_id=o,
            venue=self.venue_names[int(row[1])],
            side=1 if row[2] == 0 else -1,
            price=int(row[3]) / self._tpu,
            quantity=int(row[5]),
            remaining=int(row[4]),
            status=status,
            queue_ahead=float(self.state.own_f[o]) if status == "resting" else 0.0,
        )

    def pop_limit_order_events(self) -> LimitOrderEvents:
        """Fills and cancels of our limit orders since the previous call (then forgotten)."""
        if self._fills:
            f = np.concatenate(self._fills)
            self._fills = []
        else:
            f = np.zeros((0, 5), dtype=np.int64)
        return LimitOrderEvents(
            order_id=np.ascontiguousarray(f[:, 0]),
            ts_event=np.ascontiguousarray(f[:, 1]),
            price=f[:, 2] / self._tpu,
            size=np.ascontiguousarray(f[:, 3]),
            kind=f[:, 4].astype(np.uint8),
        )

    def generate(self, progress: Callable[[int, int], None] | None = None) -> MarketData:
        """Run the whole session (no external orders) and return it as :class:`MarketData`.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(done_ns, total_ns)`` after each five-minute slice of the
            session (the path is the same as in one run: the clock only advances in slices).

        Returns
        -------
        MarketData
            One :class:`VenueData` per venue with the MBP-10 columns (and order counts).
        """
        if self._data is not None:
            return self._data
        if self.state.now_ns != self.session_start_ns:
            raise DataValidationError(
                "generate() runs a whole session from the open, but this market's clock is "
                f"already at {self.state.now_ns}; use a fresh SyntheticMarket"
            )
        if progress is None:
            chunk = self.advance_to(self.session_end_ns)
        else:
            start, end = self.session_start_ns, self.session_end_ns
            step = 300 * _NS
            chunks = []
            for t in [*range(start + step, end, step), end]:
                chunks.append(self.advance_to(t))
                progress(t - start, end - start)
            chunk = EventChunk.concat(chunks)
        self._data = self._to_market_data(chunk)
        n_trunc = int(self.state.istate[_kern.I_N_TRUNC])
        if n_trunc:
            logger.info("%d background market orders exhausted the book (truncated)", n_trunc)
        return self._data

    def _to_market_data(self, chunk: EventChunk) -> MarketData:
        # one stable sort by venue, then every column of a venue is a contiguous slice
        source = f"synthetic(seed={self._seed_repr})"
        order = np.argsort(chunk.venue, kind="stable")
        bounds = np.searchsorted(chunk.venue[order], np.arange(len(self.venue_names) + 1))
        flat: dict[str, npt.NDArray[Any]] = {
            "ts_event": chunk.ts_event[order],
            "action": chunk.action[order],
            "side": chunk.side[order],
            "depth": chunk.depth[order],
            "price": chunk.price[order],
            "size": chunk.size[order],
        }
        books: dict[tuple[str, str], npt.NDArray[Any]] = {
            ("px", "bid"): chunk.bid_px,
            ("px", "ask"): chunk.ask_px,
            ("sz", "bid"): chunk.bid_sz,
            ("sz", "ask"): chunk.ask_sz,
            ("ct", "bid"): chunk.bid_ct,
            ("ct", "ask"): chunk.ask_ct,
        }
        levels_t = {
            key: np.ascontiguousarray(np.take(a, order, axis=0).T) for key, a in books.items()
        }
        venues = {}
        for i, vc in enumerate(self.config.venues):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            cols: dict[str, npt.NDArray[Any]] = {k: a[lo:hi] for k, a in flat.items()}
            cols["ts_recv"] = cols["ts_event"] + np.int64(round(vc.latency_us * 1000))
            cols["sequence"] = np.arange(hi - lo, dtype=np.uint64)  # orders same-ns events
            for (kind, side), mat in levels_t.items():
                for lvl in range(mat.shape[0]):
                    cols[level_column(kind, side, lvl)] = mat[lvl, lo:hi]
            venues[vc.name] = VenueData(
                venue=vc.name, symbol=self.config.symbol, columns=cols, source=source
            )
        return MarketData(
            symbol=self.config.symbol,
            date=self.config.date,
            venues=venues,
            timezone=self.config.timezone,
        )

    def latent_path(self) -> pd.DataFrame:
        """The realised latent path on every whole second of the session so far.

        Returns
        -------
        pandas.DataFrame
            ``ts_event`` (int64 UTC ns), ``t_s`` (seconds from the open), ``s0`` (efficient
            price), ``mu`` (drift, currency/s), ``impact`` (I), ``fair_price`` (S0 + I) and
            ``alpha`` = μ (1 − e^{−κ(T−t)})/κ, the expected remaining move of S0 to the close
            given the state at t (currency per share).
        """
        sec = self.state.sec
        ok = ~np.isnan(sec[:, 0])
        t_s = np.flatnonzero(ok).astype(np.float64)
        s0, mu, imp = sec[ok, 0], sec[ok, 1], sec[ok, 2]
        kappa = self.config.kappa_per_s
        remaining = self.config.session_s - t_s
        alpha = mu * -np.expm1(-kappa * remaining) / kappa
        return pd.DataFrame(
            {
                "ts_event": self.session_start_ns + (t_s * _NS).astype(np.int64),
                "t_s": t_s,
                "s0": s0,
                "mu": mu,
                "impact": imp,
                "fair_price": s0 + imp,
                "alpha": alpha,
            }
        )

    def truth(self) -> dict[str, Any]:
        """The ground truth in the units the calibration reports.

        Returns
        -------
        dict
            ``impact`` (λ, λ per share, λ_τ for τ in 1, 10, 60, 300 s, β per second and per
            hour, half-life), ``sigma_daily``, ``adv_shares``, ``alpha`` (κ, half-life, σ_μ, η,
            alpha_sd, flow_tilt, the formula), ``venues`` (fees, rebates, latency, activity
            share, limit/market/cancel rates), ``seed``, ``event_counts`` per venue and action,
            ``volume`` and the full ``config``.
        """
        cfg = self.config
        beta = cfg.beta_per_s
        lo_v, mo_v = cfg.venue_rates()
        shares = np.array([v.activity_share for v in cfg.venues])
        shares = shares / shares.sum()
        counts = {}
        for i, name in enumerate(self.venue_names):
            a, c, t = (int(x) for x in self._counts[i])
            counts[name] = {"add": a, "cancel": c, "trade": t, "total": a + c + t}
        vol = {}
        if self._data is not None:
            for name, vd in self._data.venues.items():
                vol[name] = int(vd["size"][vd.trades_mask()].sum())
        return {
            "model": "synthetic OW transient impact + OU drift, myopic_sor.data._synthetic",
            "symbol": cfg.symbol,
            "date": cfg.date.isoformat(),
            "timezone": cfg.timezone,
            "session": [cfg.session_start.isoformat(), cfg.session_end.isoformat()],
            "session_start_ns": self.session_start_ns,
            "session_end_ns": self.session_end_ns,
            "seed": self._seed,
            "impact": {
                "lambda": cfg.impact_lambda,
                "lambda_units": "currency per unit of normalised flow u = q*sigma/ADV",
                "lambda_per_share": cfg.lambda_per_share,
                "lambda_tau": {
                    f"{tau:g}": lambda_tau(cfg.impact_lambda, beta, tau) for tau in _TRUTH_TAUS_S
                },
                "beta_per_s": beta,
                "beta_per_hour": beta * 3600.0,
                "half_life_s": cfg.impact_half_life_s,
            },
            "sigma_daily": cfg.sigma_daily,
            "sigma_price_per_sqrt_s": cfg.sigma_price_per_sqrt_s,
            "adv_shares": cfg.adv_shares,
            "initial_price": cfg.initial_price,
            "tick_size": cfg.tick_size,
            "alpha": {
                "formula": "alpha(t) = mu(t) * (1 - exp(-kappa (T - t))) / kappa",
                "kappa_per_s": cfg.kappa_per_s,
                "half_life_s": cfg.alpha_half_life_s,
                "sigma_mu_per_s": cfg.sigma_mu,
                "eta": cfg.sigma_mu * math.sqrt(2.0 * cfg.kappa_per_s),
                "alpha_sd": cfg.alpha_sd,
                "flow_tilt": cfg.flow_tilt,
                "mu_initial": float(self.state.sec[0, 1]),
            },
            "venues": {
                vc.name: {
                    "dataset": venue_to_dataset(vc.name),
                    "fee_per_share": vc.fee_per_share,
                    "rebate_per_share": vc.rebate_per_share,
                    "latency_us": vc.latency_us,
                    "activity_share": float(shares[i]),
                    "limit_rate_per_s": float(lo_v[i]),
                    "market_rate_per_s": float(mo_v[i]),
                    "cancel_rate_per_order_per_s": cfg.cancel_rate_per_s,
                    "own_volume_shares": int(self._own_volume[i]),
                }
                for i, vc in enumerate(cfg.venues)
            },
            "event_counts": counts,
            "events_total": int(self._counts.sum()),
            "volume_shares": vol,
            "truncated_market_orders": int(self.state.istate[_kern.I_N_TRUNC]),
            "recentre_count": int(self.state.istate[_kern.I_N_RECENTRE]),
            "config": json.loads(cfg.model_dump_json()),
        }

    def write(self, out_dir: PathLike, *, fmt: WriteFormat = "parquet") -> list[Path]:
        """Write the session in the spec's layout, with the truth and the latent path beside it.

        Files: ``<out>/<SYMBOL>/<dataset>-<YYYYMMDD>.mbp-10.<ext>`` (one per venue, via
        ``myopic_sor.data._databento.write_venue``), ``<out>/<SYMBOL>/truth-<YYYYMMDD>.json``
        and ``<out>/<SYMBOL>/alpha-<YYYYMMDD>.parquet`` (the per-second latent path, referenced
        from the truth as ``alpha_path_file``). The JSON is written atomically (temp file +
        rename). Runs :meth:`generate` first if needed.

        Parameters
        ----------
        out_dir : str or os.PathLike
            Root of the layout.
        fmt : {"parquet", "csv", "dbn.zst", "dbn"}
            Market-data file format.

        Returns
        -------
        list of pathlib.Path
            The venue files, then the alpha path and the truth file.
        """
        from myopic_sor.data._databento import write_venue  # another module; import lazily

        if fmt not in ("parquet", "csv", "dbn.zst", "dbn"):
            raise ConfigError(f"fmt={fmt!r}: use 'parquet', 'csv', 'dbn.zst' or 'dbn'")
        data = self.generate()
        cfg = self.config
        paths: list[Path] = []
        for vd in data:
            path = layout_path(out_dir, cfg.symbol, vd.venue, cfg.date, ext=fmt)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_venue(vd, path, dataset=venue_to_dataset(vd.venue))
            paths.append(path)
        paths.extend(self.write_truth(out_dir))
        return paths

    def write_truth(self, out_dir: PathLike) -> list[Path]:
        """Write ``truth-<YYYYMMDD>.json`` and ``alpha-<YYYYMMDD>.parquet`` under
        ``<out>/<SYMBOL>/`` (atomically) and return their paths."""
        cfg = self.config
        folder = Path(out_dir) / cfg.symbol.upper()
        folder.mkdir(parents=True, exist_ok=True)
        alpha_path = folder / f"alpha-{cfg.date:%Y%m%d}.parquet"
        latent = self.latent_path()
        atomic_write_with(alpha_path, lambda tmp: latent.to_parquet(tmp, index=False))
        truth = self.truth()
        truth["alpha_path_file"] = alpha_path.name
        truth_path = folder / f"truth-{cfg.date:%Y%m%d}.json"
        write_json_atomic(truth_path, truth)
        return [alpha_path, truth_path]


def generate_market_data(
    stock: str = "AAPL",
    day: dt.date | str = "2025-04-02",
    venues: int | tuple[SyntheticVenueConfig, ...] = 3,
    seed: SeedLike = None,
    *,
    config: SyntheticConfig | None = None,
    use_numba: bool = True,
    **overrides: Any,
) -> tuple[MarketData, dict[str, Any]]:
    """Generate one synthetic day and its ground truth.

    Parameters
    ----------
    stock : str
        Symbol.
    day : datetime.date or str
        Trading day (ISO string accepted).
    venues : int or tuple of SyntheticVenueConfig
        Number of venues (the first of XNAS, BATS, ARCX, then EDGX, XNYS, IEXG, MEMX with
        decreasing shares) or explicit venue configs.
    seed : int, numpy.random.Generator or None
        Randomness; ``None`` uses the config's ``seed``.
    config : SyntheticConfig, optional
        Base parameters; ``stock``, ``day``, ``venues`` and ``overrides`` replace its fields.
    use_numba : bool
        Compiled kernel (default) or the plain-Python twin.
    **overrides
        Any other :class:`SyntheticConfig` field, e.g. ``session_end=datetime.time(10, 0)``.

    Returns
    -------
    (MarketData, dict)
        The data and :meth:`SyntheticMarket.truth`.

    Examples
    --------
    >>> import datetime as dt
    >>> data, truth = generate_market_data(seed=7, session_end=dt.time(9, 31))
    >>> data.venue_names
    ('ARCX', 'BATS', 'XNAS')
    """
    cfg = make_synthetic_config(stock, day, venues, config=config, **overrides)
    market = SyntheticMarket(cfg, seed=seed, use_numba=use_numba)
    data = market.generate()
    return data, market.truth()


def make_synthetic_config(
    stock: str = "AAPL",
    day: dt.date | str = "2025-04-02",
    venues: int | tuple[SyntheticVenueConfig, ...] = 3,
    *,
    config: SyntheticConfig | None = None,
    **overrides: Any,
) -> SyntheticConfig:
    """Build a :class:`SyntheticConfig` from the everyday knobs plus any field overrides.

    Parameters are those of :func:`generate_market_data`; a bad value raises
    :class:`~myopic_sor.exceptions.ConfigError` naming the field and the constraint.
    """
    base = config if config is not None else SyntheticConfig()
    venue_cfgs = _venue_set(venues) if isinstance(venues, int) else tuple(venues)
    fields = json.loads(base.model_dump_json())
    fields.update(
        {"symbol": stock, "date": str(day), "venues": [v.model_dump() for v in venue_cfgs]}
    )
    fields.update(overrides)
    try:
        cfg = SyntheticConfig.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ConfigError(f"synthetic market config: {problems}") from exc
    if cfg.date.weekday() >= 5:
        logger.warning(
            "%s is a %s: no US session that day; generating a synthetic one anyway",
            cfg.date,
            cfg.date.strftime("%A"),
        )
    return cfg


_EXTRA_VENUES: Final = (
    ("EDGX", 0.0030, 0.0020, 110.0),
    ("XNYS", 0.0030, 0.0015, 130.0),
    ("IEXG", 0.0009, 0.0000, 350.0),
    ("MEMX", 0.0030, 0.0025, 100.0),
)


def _venue_set(n: int) -> tuple[SyntheticVenueConfig, ...]:
    if not 1 <= n <= 3 + len(_EXTRA_VENUES):
        raise ConfigError(
            f"venues={n}: choose 1..{3 + len(_EXTRA_VENUES)} or pass SyntheticVenueConfig objects"
        )
    base = list(_default_venues())
    for i, (name, fee, reb, lat) in enumerate(_EXTRA_VENUES):
        base.append(
            SyntheticVenueConfig(
                name=name,
                fee_per_share=fee,
                rebate_per_share=reb,
                latency_us=lat,
                activity_share=0.2 / (i + 1),
            )
        )
    return tuple(base[:n])
