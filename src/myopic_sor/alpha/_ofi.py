r"""OFI / trade-flow / book-imbalance regression alpha, refitted on a rolling lookback window.

At decision time t the forecaster looks at the last ``lookback_s`` seconds (the spec's
``lookup_duration``), cut into buckets of ``bucket_s``. For each bucket end ``e`` it builds
features from the order flow up to ``e`` and, for each horizon h, the realised mid move over
``[e, e + h]``; a pair is used only when ``e + h <= t`` (no look-ahead inside the training set).
It regresses the moves on the features (ridge, no intercept), predicts the cumulative moves
``m(h)`` from the features at t, and joins them into one decaying drift curve.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from myopic_sor._typing import Float64Array1D, Float64Array2D, Int64Array1D
from myopic_sor.alpha._base import (
    AlphaCurve,
    CausalForecaster,
    ForecastScore,
    evaluate_forecaster,
    grid_offsets,
    mid_at,
    zero_curve,
)
from myopic_sor.data import MarketData
from myopic_sor.exceptions import ConfigError, ConvergenceWarning, DataValidationError
from myopic_sor.features import consolidated_book, ofi_buckets, signed_trade_volume

__all__ = ["OFIFit", "OFIRegressionAlpha", "exp_decay_curve"]

logger = logging.getLogger(__name__)

_NS: Final = 1_000_000_000
FEATURES: Final = ("ofi", "trade_flow", "imbalance")
_WARMUP_NS: Final = (
    60 * _NS
)  # data before the first bucket, so the first bucket's OFI and book are right
_N_TAU: Final = 80


@dataclass(frozen=True, slots=True, eq=False)
class OFIFit:
    """One fit of :class:`OFIRegressionAlpha` on the lookback window ending at ``until_ns``.

    Attributes
    ----------
    until_ns : int
        End of the training window, UTC ns (no pair's target ends after it).
    converged : bool
        False when the fit fell back to zero alpha (``message`` says why).
    message : str
        Empty, or the reason of the fallback.
    feature_names : tuple of str
        Regressors, e.g. ``"ofi_60s"`` (depth-normalised multi-level OFI summed over the
        venues and the trailing 60 s), ``"trade_flow_60s"`` (signed / total traded volume) and
        ``"imbalance"`` (consolidated touch imbalance ``(q_b − q_a)/(q_b + q_a)``).
    feature_scale : numpy.ndarray
        RMS of each feature over the training rows; the coefficients apply to feature/scale.
    horizons_s : numpy.ndarray
        Horizons h with enough training pairs, seconds.
    coef : numpy.ndarray
        Shape ``(n_features, n_horizons)``: currency per share per unit of standardised feature.
    r2_in_sample : numpy.ndarray
        In-sample R² of each horizon's regression (against zero).
    n_pairs : numpy.ndarray
        int64 training pairs per horizon.
    tau_s : float
        Decay time τ of the fitted drift, seconds.
    """

    until_ns: int
    converged: bool
    message: str
    feature_names: tuple[str, ...]
    feature_scale: Float64Array1D
    horizons_s: Float64Array1D
    coef: Float64Array2D
    r2_in_sample: Float64Array1D
    n_pairs: Int64Array1D
    tau_s: float

    def summary(self) -> str:
        """Return a short text report of the fit."""
        if not self.converged:
            return f"OFIFit(until_ns={self.until_ns}): fallback to zero alpha ({self.message})"
        lines = [
            f"OFIFit(until_ns={self.until_ns}): tau={self.tau_s:.1f}s, "
            f"features={', '.join(self.feature_names)}"
        ]
        for j, h in enumerate(self.horizons_s):
            coefs = ", ".join(f"{c:+.4g}" for c in self.coef[:, j])
            lines.append(
                f"  h={h:g}s n={int(self.n_pairs[j])} R2_in={self.r2_in_sample[j]:.4f} "
                f"coef=[{coefs}]"
            )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True, eq=False)
class _Design:
    ends_ns: Int64Array1D  # bucket ends (inclusive), last one == t
    x: Float64Array2D  # features at each bucket end
    mid: Float64Array1D  # previous-tick consolidated mid at each bucket end (NaN if none)


class OFIRegressionAlpha(CausalForecaster):
    r"""Alpha from a rolling regression of future mid moves on order-flow features.

    Parameters
    ----------
    lookback_s : float, default 900
        Training window ending at the decision time, seconds (the spec's ``lookup_duration``).
    bucket_s : float, default 10
        Sampling interval of the training pairs, seconds.
    horizons_s : sequence of float, default (10, 30, 60, 120, 300)
        Forecast horizons, seconds; multiples of ``bucket_s``, at least two.
    windows_s : sequence of float, default (10, 60, 300)
        Trailing windows of the flow features, seconds; multiples of ``bucket_s``.
    features : sequence of {"ofi", "trade_flow", "imbalance"}, default all three
        Regressor families (see :class:`OFIFit`).
    levels : int, optional
        Book levels in the OFI (default: all each venue has).
    ridge : float, default 1.0
        Ridge penalty on the standardised coefficients, relative to the number of pairs.
    min_samples : int, default 30
        Minimum training pairs for a horizon to be used.
    max_tau_s : float, default 3600
        Largest decay time τ searched, seconds.
    grid_step_s : float, default 5
        Step of the returned curve's grid, seconds.
    rolling : bool, default True
        Refit on the window ending at every decision time (True), or use the coefficients of
        the last :meth:`fit` (False; then ``fit``'s ``until_ns`` must not be after ``t``).

    Notes
    -----
    Features at a bucket end e use only events at or before e. For horizon h the ridge
    regression without intercept (zero flow predicts zero move; a 15-minute window's mean
    move is noise, not a forecast)::

        y_h(e) = mid(e + h) − mid(e) = z(e) · b_h + ε,   z = x / rms(x),   e + h ≤ t

    Prediction at t: ``m(h) = z(t) · b_h``, the expected cumulative move over h. The horizons
    are joined into one drift that decays exponentially with time constant τ,
    ``E_t[S0(t + u)] − S0(t) = A (1 − e^{−u/τ})``, so that::

        α_t(s) = A (e^{−(s−t)/τ} − e^{−(T−t)/τ}),   α_t(T) = 0

    with exact derivatives ``α' = −(A/τ) e^{−(s−t)/τ}`` and ``α'' = (A/τ²) e^{−(s−t)/τ}``.
    τ is fitted once per window on the in-sample predicted moves M (pairs × horizons): with
    ``g_j(τ) = 1 − e^{−h_j/τ}``, τ maximises ``gᵀMᵀMg / gᵀg`` over a log grid
    ``[bucket_s, max_tau_s]`` (least squares of M on the one-factor shape g); then
    ``A = m · g / gᵀg``. Beyond the largest horizon the curve extrapolates this shape.

    The mid is the consolidated previous-tick mid; events where the NBBO has an empty side or
    is crossed are skipped (the last valid mid is used). Prices are in currency per share.

    The target is the observable mid, so on market data the forecast includes the expected
    decay of other traders' transient impact (on the synthetic market the latent S0 excludes
    it; :class:`~myopic_sor.alpha.TrueAlpha` forecasts S0 itself).

    ``fit(md, until_ns)`` stores the fit on the window ending at ``until_ns`` in ``fit_``
    (:class:`OFIFit`, with ``summary()``). With ``rolling=True`` every ``predict`` refits on the
    window ending at its own t and leaves ``fit_`` unchanged, so a prediction depends only on
    the data up to t, never on the call history.

    **Fallback.** When no valid mid exists, fewer than two horizons have ``min_samples``
    pairs, every feature is constant zero, or the fit is not finite, the forecast is zero alpha
    and a :class:`~myopic_sor.exceptions.ConvergenceWarning` says why. The curve is never NaN.

    References
    ----------
    R. Cont, A. Kukanov, S. Stoikov, "The price impact of order book events", Journal of
    Financial Econometrics 12(1), 2014.

    Examples
    --------
    >>> import datetime as dt
    >>> from myopic_sor.data import generate_market_data
    >>> md, _ = generate_market_data(seed=3, session_end=dt.time(10, 0), flow_tilt=0.3)
    >>> t = md.first_ts + 1200 * 10**9
    >>> f = OFIRegressionAlpha().fit(md, t)
    >>> curve = f.predict(md, t, t + 1800 * 10**9)
    >>> curve(curve.horizon_s)
    0.0
    """

    lookahead = False
    uses_latent_state = False

    def __init__(
        self,
        lookback_s: float = 900.0,
        bucket_s: float = 10.0,
        horizons_s: Sequence[float] = (10.0, 30.0, 60.0, 120.0, 300.0),
        windows_s: Sequence[float] = (10.0, 60.0, 300.0),
        features: Sequence[str] = FEATURES,
        *,
        levels: int | None = None,
        ridge: float = 1.0,
        min_samples: int = 30,
        max_tau_s: float = 3600.0,
        grid_step_s: float = 5.0,
        rolling: bool = True,
    ) -> None:
        self.lookback_s = lookback_s
        self.bucket_s = bucket_s
        self.horizons_s = tuple(horizons_s)
        self.windows_s = tuple(windows_s)
        self.features = tuple(features)
        self.levels = levels
        self.ridge = ridge
        self.min_samples = min_samples
        self.max_tau_s = max_tau_s
        self.grid_step_s = grid_step_s
        self.rolling = rolling
        self._check_params()

    def __repr__(self) -> str:
        return (
            f"OFIRegressionAlpha(lookback_s={self.lookback_s!r}, bucket_s={self.bucket_s!r}, "
            f"horizons_s={self.horizons_s!r}, windows_s={self.windows_s!r}, "
            f"features={self.features!r}, rolling={self.rolling!r})"
        )

    # -- parameters ------------------------------------------------------------------------------
    def _buckets(self, seconds: float, name: str) -> int:
        k = seconds / self.bucket_s
        if not (math.isfinite(k) and k >= 1 and abs(k - round(k)) < 1e-9):
            raise ConfigError(
                f"OFIRegressionAlpha: {name}={seconds!r} s must be a positive multiple of "
                f"bucket_s={self.bucket_s!r} s"
            )
        return round(k)

    def _check_params(self) -> None:
        for name in ("lookback_s", "bucket_s", "ridge", "max_tau_s", "grid_step_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise ConfigError(f"OFIRegressionAlpha: {name}={v!r} must be a finite number ≥ 0")
        if self.bucket_s <= 0 or self.lookback_s < self.bucket_s or self.grid_step_s <= 0:
            raise ConfigError(
                f"OFIRegressionAlpha: need bucket_s > 0, lookback_s ≥ bucket_s and grid_step_s "
                f"> 0, got bucket_s={self.bucket_s}, lookback_s={self.lookback_s}, "
                f"grid_step_s={self.grid_step_s}"
            )
        if len(set(self.horizons_s)) < 2:
            raise ConfigError(
                f"OFIRegressionAlpha: horizons_s={self.horizons_s!r}: give at least two distinct "
                "horizons (the decay time is fitted across them)"
            )
        for h in self.horizons_s:
            self._buckets(h, "horizon")
        if not self.windows_s:
            raise ConfigError("OFIRegressionAlpha: windows_s is empty; give e.g. (10, 60, 300)")
        for w in self.windows_s:
            self._buckets(w, "window")
        bad = [f for f in self.features if f not in FEATURES]
        if bad or not self.features:
            raise ConfigError(
                f"OFIRegressionAlpha: features={self.features!r}: choose one or more of {FEATURES}"
            )
        if isinstance(self.min_samples, bool) or self.min_samples < 3:
            raise ConfigError(f"min_samples={self.min_samples!r} must be an integer ≥ 3")
        if self.max_tau_s <= self.bucket_s:
            raise ConfigError(f"max_tau_s={self.max_tau_s} must exceed bucket_s={self.bucket_s}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the regressors, in coefficient order."""
        names: list[str] = []
        for f in self.features:
            if f == "imbalance":
                names.append("imbalance")
            else:
                names.extend(f"{f}_{w:g}s" for w in self.windows_s)
        return tuple(names)

    # -- design matrix ---------------------------------------------------------------------------
    def _design(self, view: MarketData, t_ns: int, n_rows: int) -> _Design:
        """Features and mids at the ``n_rows`` bucket ends ``t − (n_rows − 1 − k)·bucket``."""
        b_ns = round(self.bucket_s * _NS)
        max_w = max(self._buckets(w, "window") for w in self.windows_s)
        n_b = n_rows + max_w - 1  # buckets needed so every row has its longest window
        start_ns = t_ns - n_b * b_ns + 1  # buckets (e − b, e], the last one ends at t
        sub = view.between(start_ns - _WARMUP_NS, t_ns)
        ends = t_ns - b_ns * np.arange(n_rows - 1, -1, -1, dtype=np.int64)
        ofi = np.zeros(n_b)
        signed = np.zeros(n_b)
        volume = np.zeros(n_b)
        for v in sub:
            if len(v) == 0:
                continue
            lv = None if self.levels is None else min(self.levels, v.levels)
            if "ofi" in self.features:
                ofi += ofi_buckets(v, b_ns, levels=lv, start_ns=start_ns, end_ns=t_ns).aggregate
            if "trade_flow" in self.features:
                flow = signed_trade_volume(v)
                ts = v.ts_event
                inside = ts >= start_ns
                idx = (ts[inside] - start_ns) // b_ns
                signed += np.bincount(idx, weights=flow.signed_volume[inside], minlength=n_b)
                vol = (flow.bid_fill + flow.ask_fill)[inside]
                volume += np.bincount(idx, weights=vol, minlength=n_b)
        n_venue_events = sum(len(v) for v in sub)
        if n_venue_events:
            book = consolidated_book(sub)
            bts = book.ts_event
            bid_sz = book.bid_size.astype(np.float64)
            ask_sz = book.ask_size.astype(np.float64)
            mid = book.mid_price
            with np.errstate(invalid="ignore"):
                ok_mid = np.isfinite(mid) & (mid > 0) & ~(book.best_ask < book.best_bid)
            mids = mid_at(bts[ok_mid], np.asarray(mid[ok_mid]), ends)
            k = np.searchsorted(bts, ends, side="right") - 1
            tot = np.where(k >= 0, bid_sz[k] + ask_sz[k], 0.0)
            diff = np.where(k >= 0, bid_sz[k] - ask_sz[k], 0.0)
            imb = np.divide(diff, tot, out=np.zeros_like(tot), where=tot > 0)
        else:
            mids = np.full(n_rows, np.nan)
            imb = np.zeros(n_rows)
        cols: list[Float64Array1D] = []
        c_ofi = np.concatenate(([0.0], np.cumsum(ofi)))
        c_sig = np.concatenate(([0.0], np.cumsum(signed)))
        c_vol = np.concatenate(([0.0], np.cumsum(volume)))
        last = np.arange(max_w, n_b + 1)  # cumulative index just after each row's last bucket
        for f in self.features:
            if f == "imbalance":
                cols.append(imb)
                continue
            for w_s in self.windows_s:
                w = self._buckets(w_s, "window")
                if f == "ofi":
                    cols.append(c_ofi[last] - c_ofi[last - w])
                else:
                    s = c_sig[last] - c_sig[last - w]
                    vol_w = c_vol[last] - c_vol[last - w]
                    cols.append(np.divide(s, vol_w, out=np.zeros_like(s), where=vol_w > 0))
        return _Design(ends_ns=ends, x=np.column_stack(cols), mid=mids)

    # -- fitting ---------------------------------------------------------------------------------
    def _fallback(self, until_ns: int, reason: str) -> OFIFit:
        p = len(self.feature_names)
        return OFIFit(
            until_ns=until_ns,
            converged=False,
            message=reason,
            feature_names=self.feature_names,
            feature_scale=np.ones(p),
            horizons_s=np.empty(0),
            coef=np.zeros((p, 0)),
            r2_in_sample=np.empty(0),
            n_pairs=np.empty(0, dtype=np.int64),
            tau_s=float("nan"),
        )

    def _estimate(self, view: MarketData, until_ns: int) -> tuple[OFIFit, _Design]:
        n_rows = self._buckets(self.lookback_s, "lookback_s") + 1
        d = self._design(view, until_ns, n_rows)
        if not bool(np.isfinite(d.mid).any()):
            return self._fallback(until_ns, "no valid consolidated mid in the lookback"), d
        x_train = d.x[:-1]
        scale = np.sqrt(np.mean(x_train * x_train, axis=0)) if x_train.shape[0] else np.zeros(0)
        if x_train.shape[0] == 0 or not bool(np.any(scale > 0)):
            return self._fallback(until_ns, "every feature is zero in the lookback"), d
        scale = np.where(scale > 0, scale, 1.0)
        z = d.x / scale
        hs, coefs, r2s, ns = [], [], [], []
        for h in sorted(set(self.horizons_s)):
            hb = self._buckets(h, "horizon")
            if hb >= n_rows:
                continue
            y = d.mid[hb:] - d.mid[:-hb]
            zz = z[:-hb]
            ok = np.isfinite(y) & np.all(np.isfinite(zz), axis=1)
            n = int(ok.sum())
            if n < self.min_samples:
                continue
            zo, yo = zz[ok], y[ok]
            gram = zo.T @ zo + self.ridge * n * np.eye(zo.shape[1])
            b = np.linalg.solve(gram, zo.T @ yo)
            sst = float(yo @ yo)
            r2 = 1.0 - float(np.sum((yo - zo @ b) ** 2)) / sst if sst > 0 else 0.0
            hs.append(float(h))
            coefs.append(b)
            r2s.append(r2)
            ns.append(n)
        if len(hs) < 2:
            return self._fallback(
                until_ns,
                f"only {len(hs)} horizon(s) have ≥ {self.min_samples} training pairs "
                f"(lookback {self.lookback_s:g} s of valid mids ending at {until_ns}); need 2",
            ), d
        coef = np.column_stack(coefs)
        h_arr = np.asarray(hs)
        m_in = z[:-1] @ coef  # in-sample predicted cumulative moves, pairs x horizons
        taus = np.geomspace(self.bucket_s, self.max_tau_s, _N_TAU)
        tau = fit_decay_time(m_in[np.all(np.isfinite(m_in), axis=1)], h_arr, taus)
        if not (bool(np.all(np.isfinite(coef))) and math.isfinite(tau)):
            return self._fallback(until_ns, "the regression gave non-finite coefficients"), d
        fit = OFIFit(
            until_ns=until_ns,
            converged=True,
            message="",
            feature_names=self.feature_names,
            feature_scale=scale,
            horizons_s=h_arr,
            coef=coef,
            r2_in_sample=np.asarray(r2s),
            n_pairs=np.asarray(ns, dtype=np.int64),
            tau_s=tau,
        )
        return fit, d

    def _warn(self, fit: OFIFit) -> None:
        warnings.warn(
            f"OFIRegressionAlpha at t={fit.until_ns} ns: {fit.message}; falling back to zero alpha",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _fit(self, view: MarketData, until_ns: int) -> None:
        fit, _ = self._estimate(view, until_ns)
        if not fit.converged:
            self._warn(fit)
        self.fit_ = fit
        logger.debug("%s", fit.summary())

    # -- prediction ------------------------------------------------------------------------------
    def _predict(self, view: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        horizon_s = (horizon_end_ns - t_ns) / _NS
        if self.rolling:
            fit, d = self._estimate(view, t_ns)
            x_now = d.x[-1]
        else:
            fit = self.fit_
            if fit.until_ns > t_ns:
                raise DataValidationError(
                    f"OFIRegressionAlpha(rolling=False) was fitted on data up to {fit.until_ns} "
                    f"ns, after the decision time {t_ns} ns: that is look-ahead; fit up to t "
                    "or earlier"
                )
            x_now = self._design(view, t_ns, 1).x[-1] if fit.converged else np.zeros(0)
        if not fit.converged:
            self._warn(fit)
            return zero_curve(t_ns, horizon_s, self.grid_step_s, "OFIRegressionAlpha")
        z_now = np.where(np.isfinite(x_now), x_now, 0.0) / fit.feature_scale
        m = z_now @ fit.coef
        g = -np.expm1(-fit.horizons_s / fit.tau_s)
        amp = float(m @ g / (g @ g))
        return exp_decay_curve(
            t_ns, horizon_s, amp, fit.tau_s, step_s=self.grid_step_s, source="OFIRegressionAlpha"
        )

    def evaluate(
        self,
        md: MarketData,
        start_ns: int,
        end_ns: int,
        step_s: float = 30.0,
        *,
        horizon_s: float = 300.0,
    ) -> ForecastScore:
        """Score the forecaster out of sample on ``[start_ns, end_ns]``.

        Parameters
        ----------
        md : MarketData
        start_ns, end_ns : int
            UTC ns; should lie after the data the forecaster was fitted on.
        step_s : float, default 30
            Spacing of the decision times, seconds.
        horizon_s : float, default 300
            Horizon of the scored move, seconds.

        Returns
        -------
        ForecastScore
            Out-of-sample R² (against zero), IC (Spearman) and Pearson correlation of the
            predicted move ``α_t(t) − α_t(t + h)`` and the realised mid move; see
            :func:`~myopic_sor.alpha.evaluate_forecaster`.
        """
        return evaluate_forecaster(self, md, start_ns, end_ns, step_s, horizon_s=horizon_s)


def fit_decay_time(
    moves: Float64Array2D, horizons_s: Float64Array1D, taus: Float64Array1D
) -> float:
    """Best τ on the grid ``taus`` for the one-factor shape ``moves ≈ A_k (1 − e^{−h_j/τ})``.

    ``moves`` is (samples × horizons); τ maximises ``gᵀMᵀMg / gᵀg`` with
    ``g_j = 1 − e^{−h_j/τ}``, i.e. minimises the least-squares residual of each row on g.
    """
    gram = moves.T @ moves
    g = -np.expm1(-horizons_s[None, :] / taus[:, None])  # (n_tau, J)
    q = np.einsum("ij,jk,ik->i", g, gram, g) / np.einsum("ij,ij->i", g, g)
    return float(taus[int(np.argmax(q))])


def exp_decay_curve(
    t0_ns: int,
    horizon_s: float,
    amplitude: float,
    tau_s: float,
    *,
    step_s: float = 5.0,
    source: str = "",
) -> AlphaCurve:
    r"""Return the curve ``α_t(s) = A (e^{−(s−t)/τ} − e^{−(T−t)/τ})`` with exact derivatives.

    Parameters
    ----------
    t0_ns : int
        Decision time t, UTC ns.
    horizon_s : float
        T − t, seconds.
    amplitude : float
        A, currency per share: the expected total move of a drift decaying with time constant τ.
    tau_s : float
        τ, seconds (> 0).
    step_s : float, default 5
        Grid step, seconds.
    source : str
        Label for the curve, named in error messages (default ``"exp_decay_curve"``).

    Returns
    -------
    AlphaCurve
    """
    x = grid_offsets(horizon_s, step_s)
    e = np.exp(-x / tau_s)
    alpha = amplitude * (e - e[-1])
    return AlphaCurve(
        t0_ns,
        x,
        alpha,
        -amplitude / tau_s * e,
        amplitude / tau_s**2 * e,
        source=source or "exp_decay_curve",
    )
