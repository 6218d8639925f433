r"""The alpha-forecaster protocol, the :class:`AlphaCurve` value object and forecast scoring.

Definition (MATH.md §2). Seen from a decision time t with horizon T, the alpha curve is

.. math::

    \alpha_t(s) = E_t[S_0(T)] - E_t[S_0(s)], \qquad s \in [t, T],

the expected remaining move of the unperturbed price from s to the horizon, **given the
information available at t**. Hence :math:`\alpha_t(T) = 0` and :math:`\alpha_t(t) = E_t[S_0(T)]
- S_0(t)` is the α(t) of MATH.md §2. Using the realised close :math:`S_0(T)` instead of its
expectation is look-ahead (pitfall P1): only :class:`~myopic_sor.alpha.OracleAlpha` does that,
and its curves carry ``lookahead=True``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Protocol, Self, overload, runtime_checkable

import numpy as np

from myopic_sor._typing import Float64Array1D
from myopic_sor.data import MarketData
from myopic_sor.exceptions import ConfigError, DataValidationError, NotFittedError
from myopic_sor.features import consolidated_book

__all__ = [
    "LOOKAHEAD_LABEL",
    "AlphaCurve",
    "CausalForecaster",
    "ForecastScore",
    "Forecaster",
    "causal_view",
    "check_times",
    "evaluate_forecaster",
    "grid_offsets",
    "last_valid_mid",
]

logger = logging.getLogger(__name__)

_NS = 1_000_000_000
#: The label every look-ahead object carries in its docstring, repr and curves.
LOOKAHEAD_LABEL = "LOOK-AHEAD: diagnostic upper bound"


@runtime_checkable
class Forecaster(Protocol):
    """An alpha forecaster: fitted on past data, it returns the curve α_t(s) on [t, T].

    Attributes
    ----------
    lookahead : bool
        True when predictions use data after the decision time (the oracle). A scheduler or
        backtest must refuse or label such a forecaster; never report its P&L as achievable.
    uses_latent_state : bool
        True when predictions use model state the market does not show (the synthetic drift
        μ), which is causal in the model but not available to a real trader.
    """

    lookahead: bool
    uses_latent_state: bool

    def fit(self, md: MarketData, until_ns: int) -> Self:
        """Fit on the events with ``ts_event <= until_ns`` (int64 UTC ns) only; return self."""
        ...

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        """Return α_t(s) for s in [t_ns, horizon_end_ns] using events with ts_event <= t_ns."""
        ...


def check_times(t_ns: int, horizon_end_ns: int) -> tuple[int, int]:
    """Validate a decision time and a horizon (int UTC ns, ``horizon_end_ns >= t_ns``).

    Parameters
    ----------
    t_ns, horizon_end_ns : int
        Decision time and horizon end, UTC nanoseconds.

    Returns
    -------
    (int, int)
        The two times as Python ints.

    Raises
    ------
    ConfigError
        When a time is not an integer or the horizon ends before the decision time.
    """
    for name, v in (("t_ns", t_ns), ("horizon_end_ns", horizon_end_ns)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ConfigError(
                f"{name} must be an integer UTC timestamp in nanoseconds, got {v!r} "
                f"({type(v).__name__}); convert with pandas.Timestamp(...).value"
            )
    t, h = int(t_ns), int(horizon_end_ns)
    if h < t:
        raise ConfigError(
            f"horizon_end_ns={h} is {(t - h) / _NS:.3f} s before t_ns={t}: the horizon is "
            "already over; pass a horizon end at or after the decision time"
        )
    return t, h


def causal_view(md: MarketData, t_ns: int) -> MarketData:
    """Return the causal view of ``md`` at decision time ``t_ns``: events with ts_event <= t_ns.

    Parameters
    ----------
    md : MarketData
    t_ns : int
        Decision time, UTC ns (inclusive bound).

    Returns
    -------
    MarketData
        Views on the same arrays (O(log n) per venue); nothing after ``t_ns`` is reachable.

    Notes
    -----
    Every causal forecaster of this package receives its data through this function, so a
    prediction at t cannot depend on events after t (the contract test alters them to check).
    """
    return md.between(None, int(t_ns))


def grid_offsets(horizon_s: float, step_s: float) -> Float64Array1D:
    """Return the curve grid ``0, step, 2 step, ..., horizon`` (seconds, horizon included).

    Parameters
    ----------
    horizon_s : float
        T − t, seconds (≥ 0).
    step_s : float
        Target grid step, seconds (> 0); the last step is shortened to end at the horizon.

    Returns
    -------
    numpy.ndarray
        float64 seconds from t, strictly increasing, at least two points (``[0, 0]`` is
        avoided: a zero horizon gives ``[0, 0]`` collapsed to ``[0]``).
    """
    if not (math.isfinite(step_s) and step_s > 0):
        raise ConfigError(f"grid_step_s must be a positive number of seconds, got {step_s!r}")
    if horizon_s <= 0:
        return np.zeros(1, dtype=np.float64)
    n = math.ceil(horizon_s / step_s - 1e-9)
    out = np.minimum(np.arange(n + 1, dtype=np.float64) * step_s, horizon_s)
    out[-1] = horizon_s
    return out


def _hermite5(
    x: Float64Array1D,
    y: Float64Array1D,
    d1: Float64Array1D,
    d2: Float64Array1D,
    s: Float64Array1D,
    *,
    order: int,
) -> Float64Array1D:
    """Quintic Hermite interpolant (value, slope and curvature matched at the nodes)."""
    if x.shape[0] == 1:
        return np.full(s.shape, (y, d1, d2)[order][0], dtype=np.float64)
    i = np.clip(np.searchsorted(x, s, side="right") - 1, 0, x.shape[0] - 2)
    h = x[i + 1] - x[i]
    u = (s - x[i]) / h
    y0, y1, p0, p1, c0, c1 = (
        y[i],
        y[i + 1],
        d1[i] * h,
        d1[i + 1] * h,
        d2[i] * h * h,
        d2[i + 1] * h * h,
    )
    u2, u3 = u * u, u * u * u
    if order == 0:
        u4, u5 = u3 * u, u3 * u2
        b0 = 1 - 10 * u3 + 15 * u4 - 6 * u5
        b1 = u - 6 * u3 + 8 * u4 - 3 * u5
        b2 = 0.5 * (u2 - 3 * u3 + 3 * u4 - u5)
        b3 = 0.5 * (u3 - 2 * u4 + u5)
        b4 = -4 * u3 + 7 * u4 - 3 * u5
        b5 = 10 * u3 - 15 * u4 + 6 * u5
        out = y0 * b0 + p0 * b1 + c0 * b2 + c1 * b3 + p1 * b4 + y1 * b5
        return np.asarray(out, dtype=np.float64)
    u4 = u3 * u
    if order == 1:
        b0 = -30 * u2 + 60 * u3 - 30 * u4
        b1 = 1 - 18 * u2 + 32 * u3 - 15 * u4
        b2 = 0.5 * (2 * u - 9 * u2 + 12 * u3 - 5 * u4)
        b3 = 0.5 * (3 * u2 - 8 * u3 + 5 * u4)
        b4 = -12 * u2 + 28 * u3 - 15 * u4
        b5 = 30 * u2 - 60 * u3 + 30 * u4
        out = (y0 * b0 + p0 * b1 + c0 * b2 + c1 * b3 + p1 * b4 + y1 * b5) / h
        return np.asarray(out, dtype=np.float64)
    b0 = -60 * u + 180 * u2 - 120 * u3
    b1 = -36 * u + 96 * u2 - 60 * u3
    b2 = 0.5 * (2 - 18 * u + 36 * u2 - 20 * u3)
    b3 = 0.5 * (6 * u - 24 * u2 + 20 * u3)
    b4 = -24 * u + 84 * u2 - 60 * u3
    b5 = 60 * u - 180 * u2 + 120 * u3
    out = (y0 * b0 + p0 * b1 + c0 * b2 + c1 * b3 + p1 * b4 + y1 * b5) / (h * h)
    return np.asarray(out, dtype=np.float64)


def _frozen(a: Float64Array1D) -> Float64Array1D:
    out = np.array(a, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class AlphaCurve:
    r"""The forecast alpha curve α_t(s) on [t, T], in currency per share.

    Parameters
    ----------
    t0_ns : int
        Decision time t, UTC nanoseconds.
    times_s : numpy.ndarray
        Grid of offsets ``s − t`` in seconds, strictly increasing from 0 to the horizon
        ``T − t`` (a single ``[0]`` when the horizon is already reached).
    alpha : numpy.ndarray
        α_t(s) on the grid, currency per share; the last value must be 0 (α_t(T) = 0).
    slope : numpy.ndarray, optional
        dα_t/ds on the grid, currency per share per second (exact values from a parametric
        forecaster). Estimated by second-order finite differences when omitted.
    curvature : numpy.ndarray, optional
        d²α_t/ds² on the grid, currency per share per second². Estimated from ``slope`` by
        finite differences when omitted.
    lookahead : bool, default False
        True when the curve used data after t (the oracle). The repr then says
        ``LOOK-AHEAD: diagnostic upper bound``.
    uses_latent_state : bool, default False
        True when the curve used latent model state (synthetic μ) a trader cannot observe.
    source : str
        The forecaster that produced it, for reports.

    Notes
    -----
    .. math::

        \alpha_t(s) = E_t[S_0(T)] - E_t[S_0(s)],\quad
        \alpha_t(T) = 0,\quad
        -\alpha_t'(s) = \frac{d}{ds} E_t[S_0(s)] \text{ (the expected drift at s)}.

    Between grid nodes the curve is the quintic Hermite interpolant that matches value, slope
    and curvature at both ends of the interval, so :meth:`d1` and :meth:`d2` are the exact
    derivatives of :meth:`__call__` (continuous, and equal to ``slope``/``curvature`` at the
    nodes). The myopic closed form needs them: ``I* = (α − α'/β + ν)/2`` and the rate
    ``(β α − α''/β + β ν)/(2 λ)`` (MATH.md §3). Queries are offsets from ``t0_ns`` in seconds
    and must lie in ``[0, horizon_s]``.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.linspace(0.0, 60.0, 61)
    >>> curve = AlphaCurve(0, s, 0.02 * (np.exp(-s / 30) - np.exp(-2.0)))
    >>> round(curve(0.0), 6), curve(60.0)
    (0.017293, 0.0)
    """

    t0_ns: int
    times_s: Float64Array1D
    alpha: Float64Array1D
    slope: Float64Array1D | None = None
    curvature: Float64Array1D | None = None
    lookahead: bool = False
    uses_latent_state: bool = False
    source: str = ""
    _d1: Float64Array1D = field(init=False, compare=False)
    _d2: Float64Array1D = field(init=False, compare=False)

    def __post_init__(self) -> None:
        where = f"AlphaCurve from {self.source or 'a forecaster'} at t0_ns={self.t0_ns}"
        x = np.asarray(self.times_s, dtype=np.float64)
        y = np.asarray(self.alpha, dtype=np.float64)
        if x.ndim != 1 or y.shape != x.shape or x.shape[0] == 0:
            raise DataValidationError(
                f"{where}: times_s and alpha must be non-empty 1-D arrays of equal length, got "
                f"{x.shape} and {y.shape}"
            )
        if x[0] != 0.0 or (x.shape[0] > 1 and bool(np.any(np.diff(x) <= 0))):
            raise DataValidationError(
                f"{where}: times_s must start at 0 and increase strictly (seconds from t0)"
            )
        for name, arr in (("times_s", x), ("alpha", y)):
            bad = ~np.isfinite(arr)
            if bad.any():
                raise DataValidationError(
                    f"{where}: {name} has {int(bad.sum())} non-finite value(s) (first at grid "
                    f"index {int(np.argmax(bad))}); a forecaster must fall back to zero alpha "
                    "rather than return NaN"
                )
        scale = max(1.0, float(np.max(np.abs(y))))
        if abs(float(y[-1])) > 1e-9 * scale:
            raise DataValidationError(
                f"{where}: alpha at the horizon is {float(y[-1])!r}, must be 0 "
                "(α_t(T) = E_t[S0(T)] − E_t[S0(T)] = 0)"
            )
        y = y.copy()
        y[-1] = 0.0
        d1 = self._derivative(x, y, self.slope, "slope", where)
        d2 = self._derivative(x, d1, self.curvature, "curvature", where)
        object.__setattr__(self, "t0_ns", int(self.t0_ns))
        object.__setattr__(self, "times_s", _frozen(x))
        object.__setattr__(self, "alpha", _frozen(y))
        object.__setattr__(self, "_d1", _frozen(d1))
        object.__setattr__(self, "_d2", _frozen(d2))

    @staticmethod
    def _derivative(
        x: Float64Array1D, y: Float64Array1D, given: Float64Array1D | None, name: str, where: str
    ) -> Float64Array1D:
        if given is not None:
            d = np.asarray(given, dtype=np.float64)
            if d.shape != x.shape or not bool(np.all(np.isfinite(d))):
                raise DataValidationError(
                    f"{where}: {name} must be a finite array shaped like times_s {x.shape}"
                )
            return d
        if x.shape[0] == 1:
            return np.zeros(1, dtype=np.float64)
        if x.shape[0] >= 3:
            return np.asarray(np.gradient(y, x, edge_order=2), dtype=np.float64)
        return np.full(x.shape, (y[1] - y[0]) / (x[1] - x[0]), dtype=np.float64)

    # -- queries -------------------------------------------------------------------------------
    @property
    def horizon_s(self) -> float:
        """T − t, seconds."""
        return float(self.times_s[-1])

    @property
    def horizon_end_ns(self) -> int:
        """T, UTC nanoseconds."""
        return self.t0_ns + round(self.horizon_s * _NS)

    @property
    def alpha0(self) -> float:
        """α_t(t) = E_t[S0(T)] − S0(t), currency per share: the MATH.md §2 alpha."""
        return float(self.alpha[0])

    def _eval(self, s: float | Float64Array1D, order: int) -> float | Float64Array1D:
        arr = np.asarray(s, dtype=np.float64)
        tol = 1e-9 * max(1.0, self.horizon_s)
        if arr.size and (
            not bool(np.all(np.isfinite(arr)))
            or float(arr.min()) < -tol
            or float(arr.max()) > self.horizon_s + tol
        ):
            raise ConfigError(
                f"AlphaCurve ({self.source or 'forecast'} at t0_ns={self.t0_ns}): offsets must "
                f"lie in [0, {self.horizon_s:g}] s, got values in "
                f"[{float(arr.min())!r}, {float(arr.max())!r}]"
            )
        flat = np.clip(arr.reshape(-1), 0.0, self.horizon_s)
        out = _hermite5(self.times_s, self.alpha, self._d1, self._d2, flat, order=order)
        if arr.ndim == 0:
            return float(out[0])
        return out.reshape(arr.shape)

    @overload
    def __call__(self, s: float) -> float: ...
    @overload
    def __call__(self, s: Float64Array1D) -> Float64Array1D: ...
    def __call__(self, s: float | Float64Array1D) -> float | Float64Array1D:
        """Return α_t at offsets ``s`` seconds from t0 (currency per share)."""
        return self._eval(s, 0)

    @overload
    def d1(self, s: float) -> float: ...
    @overload
    def d1(self, s: Float64Array1D) -> Float64Array1D: ...
    def d1(self, s: float | Float64Array1D) -> float | Float64Array1D:
        """Return dα_t/ds at offsets ``s`` seconds (currency per share per second)."""
        return self._eval(s, 1)

    @overload
    def d2(self, s: float) -> float: ...
    @overload
    def d2(self, s: Float64Array1D) -> Float64Array1D: ...
    def d2(self, s: float | Float64Array1D) -> float | Float64Array1D:
        """Return d²α_t/ds² at offsets ``s`` seconds (currency per share per second²)."""
        return self._eval(s, 2)

    def at_ns(self, ts_ns: int | Float64Array1D) -> float | Float64Array1D:
        """Return α_t at absolute UTC-ns times in ``[t0_ns, horizon_end_ns]``."""
        off = (np.asarray(ts_ns, dtype=np.int64) - np.int64(self.t0_ns)) / _NS
        if off.ndim == 0:
            return self._eval(float(off), 0)
        return self._eval(np.asarray(off, dtype=np.float64), 0)

    def __repr__(self) -> str:
        flags = []
        if self.lookahead:
            flags.append(LOOKAHEAD_LABEL)
        if self.uses_latent_state:
            flags.append("latent-state oracle")
        extra = "".join(f", {f}" for f in flags)
        return (
            f"AlphaCurve(source={self.source!r}, t0_ns={self.t0_ns}, horizon_s={self.horizon_s:g}, "
            f"n={self.times_s.shape[0]}, alpha0={self.alpha0:.6g}{extra})"
        )


class CausalForecaster:
    """Base of the causal forecasters: ``fit``/``predict`` only ever see :func:`causal_view`.

    Subclasses implement ``_fit(view, until_ns)`` and ``_predict(view, t_ns, horizon_end_ns)``;
    the public methods validate the times and truncate the data first, so no subclass can read
    an event after the decision time.
    """

    lookahead: bool = False
    uses_latent_state: bool = False
    _fitted_until_ns: int | None = None

    def fit(self, md: MarketData, until_ns: int) -> Self:
        """Fit on the events with ``ts_event <= until_ns`` (UTC ns) only and return self."""
        until, _ = check_times(until_ns, until_ns)
        self._fit(causal_view(md, until), until)
        self._fitted_until_ns = until
        return self

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        """Return α_t(s) on [t_ns, horizon_end_ns] from the events with ts_event <= t_ns."""
        t, h = check_times(t_ns, horizon_end_ns)
        if self._fitted_until_ns is None:
            raise NotFittedError(
                f"{type(self).__name__}.predict called before fit; call "
                "fit(md, until_ns) with data up to the first decision time"
            )
        return self._predict(causal_view(md, t), t, h)

    def _fit(self, view: MarketData, until_ns: int) -> None:
        raise NotImplementedError

    def _predict(self, view: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        raise NotImplementedError


def zero_curve(
    t0_ns: int, horizon_s: float, step_s: float, source: str, *, lookahead: bool = False
) -> AlphaCurve:
    """A curve identically zero on the grid (pure execution, or a fallback)."""
    x = grid_offsets(horizon_s, step_s)
    z = np.zeros_like(x)
    return AlphaCurve(t0_ns, x, z, z, z, lookahead=lookahead, source=source)


def last_valid_mid(md: MarketData) -> tuple[np.ndarray, Float64Array1D]:
    """Return the consolidated mid price at every merged event, NaN-free.

    Parameters
    ----------
    md : MarketData

    Returns
    -------
    ts_ns, mid : numpy.ndarray
        int64 UTC ns and float64 currency per share, restricted to the events where the
        consolidated book had both sides (positive, finite mid). Events with an empty side or a
        crossed NBBO (ask < bid) are left out, so a look-up by time gives the last valid mid.
    """
    book = consolidated_book(md)
    mid = book.mid_price
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(mid) & (mid > 0) & ~(book.best_ask < book.best_bid)
    return book.ts_event[ok], np.asarray(mid[ok], dtype=np.float64)


def mid_at(ts: np.ndarray, mid: Float64Array1D, query_ns: np.ndarray) -> Float64Array1D:
    """Previous-tick mid at each query time (NaN before the first valid mid)."""
    k = np.searchsorted(ts, query_ns, side="right") - 1
    out = np.full(np.shape(query_ns), np.nan)
    have = k >= 0
    out[have] = mid[k[have]]
    return out


@dataclass(frozen=True, slots=True)
class ForecastScore:
    """Out-of-sample quality of an alpha forecaster over one horizon.

    Attributes
    ----------
    r2 : float
        Out-of-sample R² against the zero forecast, ``1 − Σ(y − ŷ)² / Σ y²`` (can be negative).
    ic : float
        Information coefficient: Spearman rank correlation of ŷ and y; NaN when either is
        constant (e.g. zero alpha).
    pearson : float
        Pearson correlation of ŷ and y; NaN when either is constant.
    n : int
        Number of forecast/outcome pairs.
    horizon_s : float
        Forecast horizon h, seconds.
    step_s : float
        Spacing of the decision times, seconds (pairs overlap when ``step_s < horizon_s``).
    lookahead : bool
        True when the forecaster is the look-ahead oracle: the score is not achievable.
    """

    r2: float
    ic: float
    pearson: float
    n: int
    horizon_s: float
    step_s: float
    lookahead: bool = False

    def summary(self) -> str:
        """Return a one-line report."""
        tag = f" [{LOOKAHEAD_LABEL}]" if self.lookahead else ""
        return (
            f"horizon {self.horizon_s:g}s, step {self.step_s:g}s: n={self.n}, "
            f"R2_oos={self.r2:.4f}, IC={self.ic:.4f}, pearson={self.pearson:.4f}{tag}"
        )


def _corr(a: Float64Array1D, b: Float64Array1D) -> float:
    if a.shape[0] < 2:
        return float("nan")
    sa, sb = float(np.std(a)), float(np.std(b))
    if sa == 0.0 or sb == 0.0:
        return float("nan")
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def _ranks(a: Float64Array1D) -> Float64Array1D:
    from scipy.stats import rankdata

    return np.asarray(rankdata(a), dtype=np.float64)


def evaluate_forecaster(
    forecaster: Forecaster,
    md: MarketData,
    start_ns: int,
    end_ns: int,
    step_s: float,
    *,
    horizon_s: float = 300.0,
) -> ForecastScore:
    r"""Score a forecaster out of sample: predicted vs realised mid move over a fixed horizon.

    Parameters
    ----------
    forecaster : Forecaster
        A fitted forecaster; :meth:`Forecaster.predict` is called at every decision time.
    md : MarketData
        The day; the forecaster sees its causal part, the realised outcome uses the rest.
    start_ns, end_ns : int
        UTC ns; decision times ``t = start, start + step, ...`` with ``t + h <= end_ns`` and
        ``t + h`` not after the last event.
    step_s : float
        Spacing of the decision times, seconds.
    horizon_s : float, default 300
        Horizon h, seconds.

    Returns
    -------
    ForecastScore

    Raises
    ------
    DataValidationError
        When fewer than 3 decision times have a valid mid at t and t + h.

    Notes
    -----
    At each t the forecast is the expected move of the price over ``[t, t + h]``::

        ŷ_t = α_t(t) − α_t(t + h) = E_t[S0(t + h)] − S0(t)     (curve with T = t + h)
        y_t = mid(t + h) − mid(t)

    with the previous-tick consolidated mid (the observable proxy for S0: it includes the
    transient impact of others' trades). R² is against the zero forecast (the natural benchmark
    for price changes), IC is Spearman's rank correlation.
    """
    t0, t1 = check_times(start_ns, end_ns)
    if not (math.isfinite(step_s) and step_s > 0 and math.isfinite(horizon_s) and horizon_s > 0):
        raise ConfigError(
            f"step_s and horizon_s must be positive seconds, got {step_s!r}, {horizon_s!r}"
        )
    h_ns = round(horizon_s * _NS)
    last = min(t1, md.last_ts) - h_ns
    if last < t0:
        raise DataValidationError(
            f"evaluate: no decision time in [{t0}, {t1}] leaves a {horizon_s:g} s horizon "
            f"inside the data (last event {md.last_ts}); widen the window or shorten the horizon"
        )
    ts = np.arange(t0, last + 1, round(step_s * _NS), dtype=np.int64)
    ts_mid, mid = last_valid_mid(md)
    y = mid_at(ts_mid, mid, ts + h_ns) - mid_at(ts_mid, mid, ts)
    ok = np.isfinite(y)
    pred = np.zeros(ts.shape[0], dtype=np.float64)
    for i in np.flatnonzero(ok):
        t = int(ts[i])
        curve = forecaster.predict(md, t, t + h_ns)
        pred[i] = curve.alpha0 - curve(curve.horizon_s)
    y, pred = y[ok], pred[ok]
    if y.shape[0] < 3:
        raise DataValidationError(
            f"evaluate: only {y.shape[0]} decision time(s) in [{t0}, {t1}] have a valid "
            "consolidated mid at t and t + h; need at least 3"
        )
    denom = float(np.sum(y * y))
    r2 = 1.0 - float(np.sum((y - pred) ** 2)) / denom if denom > 0 else float("nan")
    score = ForecastScore(
        r2=r2,
        ic=_corr(_ranks(pred), _ranks(y)),
        pearson=_corr(pred, y),
        n=int(y.shape[0]),
        horizon_s=float(horizon_s),
        step_s=float(step_s),
        lookahead=bool(getattr(forecaster, "lookahead", False)),
    )
    logger.info("%s: %s", type(forecaster).__name__, score.summary())
    return score
