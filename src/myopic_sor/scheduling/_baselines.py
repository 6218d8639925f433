"""Baseline schedules: TWAP, VWAP, Almgren-Chriss, Obizhaeva-Wang and fixed frequency.

Every baseline follows :class:`~myopic_sor.scheduling.Scheduler`: ``schedule(t0_ns, t_end_ns, X)``
returns integer children that sum exactly to ``X`` inside ``[t0_ns, t_end_ns]``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.data import ACTION_TRADE, MarketData
from myopic_sor.exceptions import ConfigError, DataValidationError
from myopic_sor.impact import ImpactParams, expected_cost, optimal_schedule
from myopic_sor.scheduling._base import (
    ChildOrder,
    ScheduleResult,
    check_parent,
    check_window,
    integer_allocation,
)

__all__ = [
    "AlmgrenChrissScheduler",
    "AlmgrenChrissTrajectory",
    "FixedFrequencyScheduler",
    "OWScheduler",
    "TWAPScheduler",
    "VWAPScheduler",
    "VolumeProfile",
    "almgren_chriss_trajectory",
]

logger = logging.getLogger(__name__)

_NS = 1_000_000_000


def _children(ts_ns: Int64Array1D, q: Int64Array1D, reason: str) -> tuple[ChildOrder, ...]:
    return tuple(
        ChildOrder(int(t), int(v), reason) for t, v in zip(ts_ns, q, strict=True) if v != 0
    )


def _slot_starts(t0: int, t_end: int, n_slots: int) -> Int64Array1D:
    k = np.arange(n_slots, dtype=np.int64)
    return t0 + (k * (t_end - t0)) // n_slots


def _resolve_slots(n_slots: int | None, slot_s: float | None, span_ns: int, who: str) -> int:
    if (n_slots is None) == (slot_s is None):
        msg = f"{who}: give exactly one of n_slots or slot_s"
        raise ConfigError(msg)
    if n_slots is not None:
        if isinstance(n_slots, bool) or int(n_slots) != n_slots or n_slots < 1:
            msg = f"{who}: n_slots must be a positive integer, got {n_slots!r}"
            raise ConfigError(msg)
        return int(n_slots)
    assert slot_s is not None
    if not (math.isfinite(slot_s) and slot_s > 0):
        msg = f"{who}: slot_s must be a positive number of seconds, got {slot_s!r}"
        raise ConfigError(msg)
    return max(1, math.ceil(span_ns / (slot_s * _NS) - 1e-9))


class TWAPScheduler:
    """Time-weighted average price: equal children at the start of equal slots.

    Parameters
    ----------
    n_slots : int, optional
        Number of children (slots) over the window.
    slot_s : float, optional
        Slot length, seconds (``ceil(window / slot_s)`` slots). Give one of the two.

    Notes
    -----
    Child ``k`` is sent at ``t0 + k (T − t0)/N`` with target ``X/N`` shares, rounded by
    :func:`~myopic_sor.scheduling.integer_allocation` so the children sum exactly to ``X``.

    Examples
    --------
    >>> r = TWAPScheduler(n_slots=3).schedule(0, 3 * 10**9, 100)
    >>> r.quantities.tolist()
    [33, 34, 33]
    """

    name = "twap"

    def __init__(self, n_slots: int | None = None, *, slot_s: float | None = None) -> None:
        self.n_slots = n_slots
        self.slot_s = slot_s
        if n_slots is None and slot_s is None:
            self.n_slots = 10
        _resolve_slots(self.n_slots, self.slot_s, _NS, "TWAPScheduler")

    def schedule(
        self, t0_ns: int, t_end_ns: int, X: int, *, data: pd.DataFrame | None = None
    ) -> ScheduleResult:
        """Return the TWAP children of ``X`` signed shares over ``[t0_ns, t_end_ns]``."""
        t0, t1 = check_window(t0_ns, t_end_ns)
        x = check_parent(X)
        n = _resolve_slots(self.n_slots, self.slot_s, t1 - t0, "TWAPScheduler")
        q = integer_allocation(np.full(n, x / n), x)
        return ScheduleResult(self.name, t0, t1, x, _children(_slot_starts(t0, t1, n), q, "twap"))

    def __repr__(self) -> str:
        return f"TWAPScheduler(n_slots={self.n_slots!r}, slot_s={self.slot_s!r})"


@dataclass(frozen=True, slots=True)
class VolumeProfile:
    """Intraday volume curve: the share of the session's volume in each time-of-day bin.

    Attributes
    ----------
    bin_s : float
        Bin length, seconds.
    weights : numpy.ndarray
        Share of the session volume per bin (sums to 1), bins from the session open.
    session_start, session_end : datetime.time
        Session in exchange local time.
    timezone : str
        Exchange time zone (IANA name).
    last_date : datetime.date or None
        Last day used to build the profile; a VWAP on this day or earlier would look ahead.
    n_days : int
        Number of days averaged.
    """

    bin_s: float
    weights: Float64Array1D
    session_start: dt.time = dt.time(9, 30)
    session_end: dt.time = dt.time(16, 0)
    timezone: str = "America/New_York"
    last_date: dt.date | None = None
    n_days: int = 0

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        if w.ndim != 1 or w.shape[0] == 0 or not bool(np.all(np.isfinite(w) & (w >= 0))):
            msg = "VolumeProfile.weights must be a non-empty 1-D array of finite shares >= 0"
            raise ConfigError(msg)
        total = float(w.sum())
        if total <= 0:
            msg = "VolumeProfile.weights sum to 0: the profile has no volume"
            raise ConfigError(msg)
        if not (math.isfinite(self.bin_s) and self.bin_s > 0):
            msg = f"VolumeProfile.bin_s must be positive seconds, got {self.bin_s!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "weights", w / total)

    @classmethod
    def from_market_data(
        cls,
        days: Sequence[MarketData],
        *,
        bin_s: float = 300.0,
        session_start: dt.time = dt.time(9, 30),
        session_end: dt.time = dt.time(16, 0),
    ) -> VolumeProfile:
        """Average the traded-volume curve of PAST days (one ``MarketData`` per day).

        Parameters
        ----------
        days : sequence of MarketData
            Previous days of the symbol (all venues' trades count).
        bin_s : float, default 300
            Bin length, seconds.
        session_start, session_end : datetime.time
            Session in exchange local time.

        Returns
        -------
        VolumeProfile
            Each day's bin volumes divided by that day's session volume, averaged over days
            (so a heavy day does not dominate the shape). ``last_date`` is the latest day.

        Raises
        ------
        DataValidationError
            No day, or no traded volume inside the session on any day.
        """
        if not days:
            msg = "VolumeProfile.from_market_data: give at least one past day of MarketData"
            raise DataValidationError(msg)
        if not (math.isfinite(bin_s) and bin_s > 0):
            msg = f"bin_s must be positive seconds, got {bin_s!r}"
            raise ConfigError(msg)
        shares: list[Float64Array1D] = []
        tz = days[0].timezone
        n_bins = 0
        for md in days:
            lo, hi = md.session_bounds_ns(session_start, session_end)
            n_bins = max(1, math.ceil((hi - lo) / (bin_s * _NS) - 1e-9))
            vol = np.zeros(n_bins)
            for v in md:
                ts = v.ts_event
                trade = (v["action"] == ACTION_TRADE) & (ts >= lo) & (ts < hi)
                idx = (ts[trade] - lo) // round(bin_s * _NS)
                vol += np.bincount(
                    idx, weights=v["size"][trade].astype(np.float64), minlength=n_bins
                )[:n_bins]
            total = float(vol.sum())
            if total > 0:
                shares.append(vol / total)
            else:
                logger.warning(
                    "VolumeProfile: %s %s has no session volume, skipped", md.symbol, md.date
                )
        if not shares:
            msg = "VolumeProfile.from_market_data: no traded volume inside the session on any day"
            raise DataValidationError(msg)
        lengths = {s.shape[0] for s in shares}
        if len(lengths) != 1:
            msg = f"days have different session lengths ({sorted(lengths)} bins); use one session"
            raise DataValidationError(msg)
        return cls(
            bin_s=float(bin_s),
            weights=np.mean(np.vstack(shares), axis=0),
            session_start=session_start,
            session_end=session_end,
            timezone=str(tz),
            last_date=max(md.date for md in days),
            n_days=len(shares),
        )

    def session_open_ns(self, ts_ns: int) -> int:
        """UTC ns of the session open on the local day of ``ts_ns``."""
        day = pd.Timestamp(int(ts_ns), unit="ns", tz="UTC").tz_convert(self.timezone).date()
        return int(
            pd.Timestamp(dt.datetime.combine(day, self.session_start))
            .tz_localize(self.timezone)
            .value
        )

    def volume_share(
        self, start_ns: Int64Array1D, end_ns: Int64Array1D, open_ns: int
    ) -> Float64Array1D:
        """Share of the session volume expected in each ``[start, end)`` (uniform within bins)."""
        edges = np.arange(self.weights.shape[0] + 1, dtype=np.float64) * self.bin_s
        cum = np.concatenate(([0.0], np.cumsum(self.weights)))

        def cdf(x_ns: Int64Array1D) -> Float64Array1D:
            x = (np.asarray(x_ns, dtype=np.int64) - open_ns) / _NS
            return np.asarray(np.interp(x, edges, cum), dtype=np.float64)

        return cdf(end_ns) - cdf(start_ns)


class VWAPScheduler:
    """Volume-weighted schedule: children proportional to the expected volume of their slot.

    Parameters
    ----------
    profile : VolumeProfile
        Volume curve from PAST days only (:meth:`VolumeProfile.from_market_data`).
    n_slots : int, optional
        Number of slots; or ``slot_s`` seconds per slot (default 10 slots).

    Notes
    -----
    Slot ``k`` covers ``[t_k, t_{k+1})``; its target is ``X · w_k / Σ_j w_j`` where ``w_k`` is
    the profile's expected share of the day's volume in the slot (uniform inside a profile
    bin). Raises :class:`~myopic_sor.exceptions.DataValidationError` when the profile's last
    day is not before the trading day (look-ahead) and :class:`ConfigError` when the window
    lies outside the profile's session (no expected volume).
    """

    name = "vwap"

    def __init__(
        self, profile: VolumeProfile, n_slots: int | None = None, *, slot_s: float | None = None
    ) -> None:
        self.profile = profile
        self.n_slots = 10 if n_slots is None and slot_s is None else n_slots
        self.slot_s = slot_s
        _resolve_slots(self.n_slots, self.slot_s, _NS, "VWAPScheduler")

    def schedule(
        self, t0_ns: int, t_end_ns: int, X: int, *, data: pd.DataFrame | None = None
    ) -> ScheduleResult:
        """Return the VWAP children of ``X`` signed shares over ``[t0_ns, t_end_ns]``."""
        t0, t1 = check_window(t0_ns, t_end_ns)
        x = check_parent(X)
        p = self.profile
        day = pd.Timestamp(t0, unit="ns", tz="UTC").tz_convert(p.timezone).date()
        if p.last_date is not None and p.last_date >= day:
            msg = (
                f"VWAPScheduler: the volume profile uses data up to {p.last_date}, not before the "
                f"trading day {day}: that is look-ahead; build it from previous days only"
            )
            raise DataValidationError(msg)
        n = _resolve_slots(self.n_slots, self.slot_s, t1 - t0, "VWAPScheduler")
        starts = _slot_starts(t0, t1, n)
        ends = np.append(starts[1:], t1)
        w = p.volume_share(starts, ends, p.session_open_ns(t0))
        total = float(w.sum())
        if total <= 0:
            msg = (
                f"VWAPScheduler: the profile expects no volume in [{t0}, {t1}] (outside the "
                f"session {p.session_start}-{p.session_end} {p.timezone}?); move the window"
            )
            raise ConfigError(msg)
        q = integer_allocation(x * w / total, x)
        return ScheduleResult(
            self.name,
            t0,
            t1,
            x,
            _children(starts, q, "vwap"),
            info={"expected_volume_share": total},
        )


@dataclass(frozen=True, slots=True)
class AlmgrenChrissTrajectory:
    """The Almgren-Chriss optimal trajectory and its mean and variance.

    Attributes
    ----------
    times_s : numpy.ndarray
        ``t_j = j τ``, j = 0..N, seconds from the start.
    holdings : numpy.ndarray
        ``x_j``, shares still to trade at ``t_j`` (``x_0 = X``, ``x_N = 0``).
    trades : numpy.ndarray
        ``n_j = x_{j−1} − x_j``, j = 1..N: shares traded in interval j.
    kappa : float
        κ, per second.
    expected_cost : float
        ``E = ½ γ X² + ε Σ |n_j| + (η̃/τ) Σ n_j²``, currency.
    variance : float
        ``V = σ² Σ_{j=1}^{N} τ x_j²``, currency².
    """

    times_s: Float64Array1D
    holdings: Float64Array1D
    trades: Float64Array1D
    kappa: float
    expected_cost: float
    variance: float


def almgren_chriss_trajectory(
    X: float,
    horizon_s: float,
    n_slots: int,
    *,
    sigma: float,
    eta: float,
    gamma: float = 0.0,
    epsilon: float = 0.0,
    risk_aversion: float = 0.0,
) -> AlmgrenChrissTrajectory:
    r"""Optimal liquidation/acquisition trajectory of Almgren & Chriss (2000), closed form.

    Parameters
    ----------
    X : float
        Shares to trade (sign ignored for the trajectory shape; the mean and variance use |X|).
    horizon_s : float
        T, seconds.
    n_slots : int
        N intervals of length ``τ = T/N``.
    sigma : float
        Price volatility, currency per share per √second.
    eta : float
        Temporary impact η, currency per share per (share/second).
    gamma : float, default 0
        Permanent impact γ, currency per share per share.
    epsilon : float, default 0
        Fixed cost ε per share (half spread plus fees), currency per share.
    risk_aversion : float, default 0
        λ, per currency; 0 gives the straight line (TWAP).

    Returns
    -------
    AlmgrenChrissTrajectory

    Notes
    -----
    With ``η̃ = η − γτ/2 > 0`` and ``κ̃² = λσ²/η̃``, κ solves
    ``(2/τ²)(cosh(κτ) − 1) = κ̃²``, i.e. ``κ = arccosh(1 + κ̃²τ²/2)/τ``, and

    .. math::

        x_j = X \frac{\sinh(\kappa (T - t_j))}{\sinh(\kappa T)}, \qquad
        E = \tfrac12 \gamma X^2 + \epsilon \sum |n_j| + \frac{\tilde\eta}{\tau} \sum n_j^2,
        \qquad V = \sigma^2 \sum_{j=1}^N \tau x_j^2 .

    It minimises ``E + λ V`` (the trajectory solves
    ``(x_{j−1} − 2x_j + x_{j+1})/τ² = κ̃² x_j``).

    References
    ----------
    Almgren, R. and Chriss, N. (2000). Optimal execution of portfolio transactions.
    Journal of Risk 3(2), 5-39, eqs. (5)-(6) and (18)-(20).
    """
    if isinstance(n_slots, bool) or int(n_slots) != n_slots or n_slots < 1:
        msg = f"n_slots must be a positive integer, got {n_slots!r}"
        raise ConfigError(msg)
    for name, v in (("horizon_s", horizon_s), ("sigma", sigma), ("eta", eta)):
        if not (math.isfinite(v) and v > 0):
            msg = f"Almgren-Chriss: {name} must be finite and positive, got {v!r}"
            raise ConfigError(msg)
    for name, v in (("gamma", gamma), ("epsilon", epsilon), ("risk_aversion", risk_aversion)):
        if not (math.isfinite(v) and v >= 0):
            msg = f"Almgren-Chriss: {name} must be finite and >= 0, got {v!r}"
            raise ConfigError(msg)
    n = int(n_slots)
    tau = horizon_s / n
    eta_t = eta - 0.5 * gamma * tau
    if eta_t <= 0:
        msg = (
            f"Almgren-Chriss: η̃ = η − γτ/2 = {eta_t:g} ≤ 0 (η={eta:g}, γ={gamma:g}, τ={tau:g}s); "
            "use more slots or a smaller permanent impact"
        )
        raise ConfigError(msg)
    kt2 = risk_aversion * sigma**2 / eta_t
    kappa = math.acosh(1.0 + 0.5 * kt2 * tau * tau) / tau
    t = np.arange(n + 1, dtype=np.float64) * tau
    xa = abs(float(X))
    if kappa * horizon_s < 1e-8:
        frac = (horizon_s - t) / horizon_s
    else:
        # sinh(κ(T − t))/sinh(κT) computed stably for large κT.
        frac = (
            np.exp(-kappa * t)
            * (-np.expm1(-2.0 * kappa * (horizon_s - t)))
            / (-math.expm1(-2.0 * kappa * horizon_s))
        )
    x_hold = float(X) * frac
    x_hold[-1] = 0.0
    trades = -np.diff(x_hold)
    e = (
        0.5 * gamma * xa**2
        + epsilon * float(np.abs(trades).sum())
        + eta_t / tau * float(trades @ trades)
    )
    var = sigma**2 * tau * float(x_hold[1:] @ x_hold[1:])
    return AlmgrenChrissTrajectory(t, x_hold, trades, kappa, e, var)


class AlmgrenChrissScheduler:
    """Almgren-Chriss mean-variance optimal schedule (closed form, sinh trajectory).

    Parameters
    ----------
    n_slots : int
        Number of intervals N; child j is sent at the start of interval j.
    sigma, eta, gamma, epsilon, risk_aversion : float
        See :func:`almgren_chriss_trajectory` (units: currency per share per √s, currency per
        share per share/s, currency per share per share, currency per share, per currency).

    Notes
    -----
    The expected cost and variance of the real-valued trajectory are in
    ``ScheduleResult.expected_cost`` and ``info["variance"]`` (``info["kappa"]`` per second).
    """

    name = "almgren_chriss"

    def __init__(
        self,
        n_slots: int = 10,
        *,
        sigma: float,
        eta: float,
        gamma: float = 0.0,
        epsilon: float = 0.0,
        risk_aversion: float = 0.0,
    ) -> None:
        self.n_slots = n_slots
        self.sigma = sigma
        self.eta = eta
        self.gamma = gamma
        self.epsilon = epsilon
        self.risk_aversion = risk_aversion
        almgren_chriss_trajectory(
            1.0,
            1.0,
            n_slots,
            sigma=sigma,
            eta=eta,
            gamma=0.0,
            epsilon=epsilon,
            risk_aversion=risk_aversion,
        )

    def trajectory(self, X: float, horizon_s: float) -> AlmgrenChrissTrajectory:
        """Return the real-valued trajectory for ``X`` shares over ``horizon_s`` seconds."""
        return almgren_chriss_trajectory(
            X,
            horizon_s,
            self.n_slots,
            sigma=self.sigma,
            eta=self.eta,
            gamma=self.gamma,
            epsilon=self.epsilon,
            risk_aversion=self.risk_aversion,
        )

    def schedule(
        self, t0_ns: int, t_end_ns: int, X: int, *, data: pd.DataFrame | None = None
    ) -> ScheduleResult:
        """Return the Almgren-Chriss children of ``X`` signed shares over the window."""
        t0, t1 = check_window(t0_ns, t_end_ns)
        x = check_parent(X)
        traj = self.trajectory(x, (t1 - t0) / _NS)
        q = integer_allocation(traj.trades, x)
        return ScheduleResult(
            self.name,
            t0,
            t1,
            x,
            _children(_slot_starts(t0, t1, self.n_slots), q, "ac"),
            expected_cost=traj.expected_cost,
            info={"variance": traj.variance, "kappa": traj.kappa},
        )


class OWScheduler:
    """Obizhaeva-Wang optimal schedule with zero alpha (blocks at both ends, constant rate).

    Parameters
    ----------
    params : ImpactParams
        Transient impact model (λ, β per second, σ, ADV).
    n_slots : int, default 31
        Trades on ``n_slots`` equally spaced times from ``t0`` to ``t_end`` inclusive.

    Notes
    -----
    The exact discrete optimum (:func:`~myopic_sor.impact.optimal_schedule` with α = 0): end
    trades ``X/(2 + (N−1)(1−a))`` and interior trades ``X(1−a)/(2 + (N−1)(1−a))`` with
    ``a = e^{−βτ}`` (MATH.md §3). ``expected_cost`` is its model cost ``C(q)`` for the integer
    children, currency.
    """

    name = "ow_optimal"

    def __init__(self, params: ImpactParams, n_slots: int = 31) -> None:
        if isinstance(n_slots, bool) or int(n_slots) != n_slots or n_slots < 2:
            msg = f"OWScheduler: n_slots must be an integer >= 2, got {n_slots!r}"
            raise ConfigError(msg)
        self.params = params
        self.n_slots = int(n_slots)

    def schedule(
        self, t0_ns: int, t_end_ns: int, X: int, *, data: pd.DataFrame | None = None
    ) -> ScheduleResult:
        """Return the OW children of ``X`` signed shares over ``[t0_ns, t_end_ns]``."""
        t0, t1 = check_window(t0_ns, t_end_ns)
        x = check_parent(X)
        k = np.arange(self.n_slots, dtype=np.int64)
        ts = t0 + (k * (t1 - t0)) // (self.n_slots - 1)
        times_s = (ts - t0) / _NS
        q = integer_allocation(optimal_schedule(times_s, x, self.params), x)
        cost = expected_cost(times_s, q.astype(np.float64), self.params).total
        return ScheduleResult(self.name, t0, t1, x, _children(ts, q, "ow"), expected_cost=cost)


class FixedFrequencyScheduler:
    """The traditional schedule: a child every ``order_freq_s``, skipped when unfavourable.

    Parameters
    ----------
    order_freq_s : float, default 120
        Seconds between children (the spec's ``order_freq``).
    favourable : callable, optional
        ``favourable(ts_ns) -> bool``; when it returns False the child is skipped and its
        quantity is carried to the next slot. Default: always favourable (plain TWAP at
        ``order_freq_s``).

    Notes
    -----
    Slots at ``t0 + k · order_freq`` while before ``t_end``; the target of slot k is
    ``X/N`` (integer rounded). At slot k the child is everything due and not yet sent,
    ``round(k+1 prefix of target) − sent``; the last slot is always sent, so the parent is
    done by the end.
    """

    name = "fixed_frequency"

    def __init__(
        self, order_freq_s: float = 120.0, favourable: Callable[[int], bool] | None = None
    ) -> None:
        if not (math.isfinite(order_freq_s) and order_freq_s > 0):
            msg = f"order_freq_s must be positive seconds, got {order_freq_s!r}"
            raise ConfigError(msg)
        self.order_freq_s = float(order_freq_s)
        self.favourable = favourable

    def schedule(
        self, t0_ns: int, t_end_ns: int, X: int, *, data: pd.DataFrame | None = None
    ) -> ScheduleResult:
        """Return the children of ``X`` signed shares over ``[t0_ns, t_end_ns]``."""
        t0, t1 = check_window(t0_ns, t_end_ns)
        x = check_parent(X)
        step = round(self.order_freq_s * _NS)
        ts = np.arange(t0, t1, step, dtype=np.int64)
        n = ts.shape[0]
        due = np.cumsum(integer_allocation(np.full(n, x / n), x))
        sent = 0
        out: list[ChildOrder] = []
        skipped = 0
        for k in range(n):
            last = k == n - 1
            ok = True if self.favourable is None or last else bool(self.favourable(int(ts[k])))
            if not ok:
                skipped += 1
                continue
            qty = int(due[k]) - sent
            if qty != 0:
                out.append(ChildOrder(int(ts[k]), qty, "fixed:final" if last else "fixed"))
                sent += qty
        return ScheduleResult(self.name, t0, t1, x, tuple(out), info={"skipped": float(skipped)})
