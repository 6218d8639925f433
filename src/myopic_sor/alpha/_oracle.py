r"""Diagnostic alphas: the look-ahead oracle and the synthetic latent-state ("true") alpha.

Neither is a forecaster a trader could run:

* :class:`OracleAlpha` reads the **realised future** price path (LOOK-AHEAD). Its P&L bounds
  what a perfect forecast could earn; it must never be reported as achievable.
* :class:`TrueAlpha` uses the synthetic model's conditional expectation given the latent drift
  μ(t). It is causal (μ(t) is known at t in the model's information set) but the market does not
  show μ, so it is an upper bound for causal forecasters built on market data.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Self

import numpy as np
import pandas as pd

from myopic_sor._typing import Float64Array1D, Int64Array1D
from myopic_sor.alpha._base import (
    LOOKAHEAD_LABEL,
    AlphaCurve,
    check_times,
    grid_offsets,
    last_valid_mid,
    mid_at,
)
from myopic_sor.data import MarketData
from myopic_sor.exceptions import ConfigError, DataValidationError, NotFittedError

__all__ = ["OracleAlpha", "TrueAlpha"]

logger = logging.getLogger(__name__)

_NS = 1_000_000_000


def _latent_columns(latent: pd.DataFrame, cols: tuple[str, ...]) -> dict[str, Any]:
    missing = [c for c in ("ts_event", *cols) if c not in latent.columns]
    if missing:
        raise DataValidationError(
            f"latent path: missing column(s) {missing}; pass SyntheticMarket.latent_path() "
            "(columns ts_event, t_s, s0, mu, impact, fair_price, alpha)"
        )
    ts = np.asarray(latent["ts_event"], dtype=np.int64)
    if ts.shape[0] == 0:
        raise DataValidationError("latent path: no rows; generate the session first")
    if ts.shape[0] > 1 and bool(np.any(np.diff(ts) <= 0)):
        raise DataValidationError("latent path: ts_event must increase strictly")
    out: dict[str, Any] = {"ts_event": ts}
    for c in cols:
        a = np.asarray(latent[c], dtype=np.float64)
        bad = ~np.isfinite(a)
        if bad.any():
            raise DataValidationError(
                f"latent path: column {c!r} has {int(bad.sum())} non-finite value(s) (first at "
                f"row {int(np.argmax(bad))})"
            )
        out[c] = a
    return out


class OracleAlpha:
    r"""LOOK-AHEAD: diagnostic upper bound. The realised future move, α_t(s) = S0(T) − S0(s).

    Parameters
    ----------
    latent : pandas.DataFrame, optional
        The synthetic latent path (:meth:`myopic_sor.data.SyntheticMarket.latent_path`, one row
        per second with ``ts_event`` and ``s0``); S0 is then the true unperturbed price. Without
        it S0 is the realised consolidated mid of the data passed to :meth:`predict` (which then
        reads events **after** t).
    grid_step_s : float, default 1
        Step of the returned curve's grid, seconds.

    Notes
    -----
    Perfect foresight: ``α_t(s) = S0(T) − S0(s)`` with the realised path (previous-tick value
    at each grid time). It answers "what could a perfect forecast earn?" and nothing else:
    ``lookahead = True``, its curves carry ``lookahead=True`` and its repr says
    ``LOOK-AHEAD: diagnostic upper bound``. Code paths that consume forecasters must check the
    flag (pitfall P1 of MATH.md). The derivatives of a realised path are finite differences of a
    rough series (noise); use the discrete solver, not the continuous rate formula, with it.
    """

    lookahead = True
    uses_latent_state = False

    def __init__(self, latent: pd.DataFrame | None = None, *, grid_step_s: float = 1.0) -> None:
        self.latent = latent
        self.grid_step_s = grid_step_s
        self._path: dict[str, Any] | None = (
            None if latent is None else _latent_columns(latent, ("s0",))
        )
        self._fitted = False

    @classmethod
    def from_market(cls, market: Any, *, grid_step_s: float = 1.0) -> Self:
        """Build from a generated :class:`~myopic_sor.data.SyntheticMarket` (its latent S0)."""
        return cls(market.latent_path(), grid_step_s=grid_step_s)

    def __repr__(self) -> str:
        src = "latent s0" if self._path is not None else "realised mid"
        return f"OracleAlpha(source={src!r}, {LOOKAHEAD_LABEL})"

    def fit(self, md: MarketData, until_ns: int) -> Self:
        """Nothing to estimate; marks the oracle ready (it reads the future in ``predict``)."""
        check_times(until_ns, until_ns)
        self._fitted = True
        return self

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        """Return the realised α_t(s) = S0(T) − S0(s) on [t_ns, horizon_end_ns] (LOOK-AHEAD).

        Parameters
        ----------
        md : MarketData
            The whole day (events after ``t_ns`` are read on purpose when no latent path).
        t_ns, horizon_end_ns : int
            Decision time and horizon end, UTC ns.

        Returns
        -------
        AlphaCurve
            With ``lookahead=True``.

        Raises
        ------
        DataValidationError
            When the path does not cover ``[t_ns, horizon_end_ns]``.
        """
        t, h = check_times(t_ns, horizon_end_ns)
        if not self._fitted:
            raise NotFittedError("OracleAlpha.predict called before fit(md, until_ns)")
        x = grid_offsets((h - t) / _NS, self.grid_step_s)
        q = t + np.round(x * _NS).astype(np.int64)
        q[-1] = h
        if self._path is not None:
            ts: Int64Array1D = self._path["ts_event"]
            s0: Float64Array1D = self._path["s0"]
            where = "latent path"
        else:
            ts, s0 = last_valid_mid(md)
            where = "realised consolidated mid"
        if ts.shape[0] == 0 or h > int(ts[-1]) + _NS or t < int(ts[0]):
            raise DataValidationError(
                f"OracleAlpha: the {where} covers "
                f"[{int(ts[0]) if ts.shape[0] else 'none'}, "
                f"{int(ts[-1]) if ts.shape[0] else 'none'}] ns but the forecast needs "
                f"[{t}, {h}]; the oracle needs the realised path up to the horizon"
            )
        path = mid_at(ts, s0, q)
        alpha = path[-1] - path
        return AlphaCurve(t, x, alpha, lookahead=True, source=f"OracleAlpha ({LOOKAHEAD_LABEL})")


class TrueAlpha:
    r"""Latent-state oracle: the synthetic model's E_t[S0(T) − S0(s)] given the true drift μ(t).

    Parameters
    ----------
    latent : pandas.DataFrame or None
        :meth:`myopic_sor.data.SyntheticMarket.latent_path` (``ts_event`` and ``mu`` per second);
        None when the path comes later through :meth:`update_latent` (the backtest engine on
        the reactive market passes it cut at each decision time).
    kappa_per_s : float
        Mean reversion κ of μ, per second (``truth["alpha"]["kappa_per_s"]``).
    grid_step_s : float, default 5
        Step of the returned curve's grid, seconds.

    Notes
    -----
    With ``dS0 = μ dt + σ dW`` and ``dμ = −κ μ dt + η dB``, ``E_t[μ(u)] = μ(t) e^{−κ(u−t)}``, so::

        α_t(s) = (μ(t)/κ) (e^{−κ(s−t)} − e^{−κ(T−t)}),
        α_t'(s) = −μ(t) e^{−κ(s−t)},   α_t''(s) = κ μ(t) e^{−κ(s−t)}

    and ``α_t(t)`` is the latent path's ``alpha`` column when T is the close. μ(t) is taken
    from the last latent row at or before t, so the forecast is causal in the model's
    information set (``lookahead = False``), but it uses state the market does not show
    (``uses_latent_state = True``): a real trader cannot run it. It bounds what a causal
    forecaster on market data (e.g. :class:`~myopic_sor.alpha.OFIRegressionAlpha`) can reach,
    while :class:`OracleAlpha` (look-ahead) bounds what any forecast could.
    """

    lookahead = False
    uses_latent_state = True

    def __init__(
        self, latent: pd.DataFrame | None, kappa_per_s: float, *, grid_step_s: float = 5.0
    ) -> None:
        if not (math.isfinite(kappa_per_s) and kappa_per_s > 0):
            raise ConfigError(f"kappa_per_s must be a positive rate per second, got {kappa_per_s}")
        self.latent = latent
        self.kappa_per_s = float(kappa_per_s)
        self.grid_step_s = grid_step_s
        self._path: dict[str, Any] | None = (
            None if latent is None else _latent_columns(latent, ("mu",))
        )
        self._fitted = False

    @classmethod
    def from_market(cls, market: Any, *, grid_step_s: float = 5.0) -> Self:
        """Build from a generated :class:`~myopic_sor.data.SyntheticMarket`."""
        return cls(market.latent_path(), market.config.kappa_per_s, grid_step_s=grid_step_s)

    def __repr__(self) -> str:
        return f"TrueAlpha(kappa_per_s={self.kappa_per_s:.6g}, latent-state oracle)"

    def update_latent(self, latent: pd.DataFrame) -> None:
        """Replace the latent path (on the reactive market it grows with the clock: the engine
        passes the path cut at the decision time)."""
        self._path = _latent_columns(latent, ("mu",))
        self.latent = latent

    def fit(self, md: MarketData, until_ns: int) -> Self:
        """Nothing to estimate (the model is known); marks the forecaster ready."""
        check_times(until_ns, until_ns)
        self._fitted = True
        return self

    def drift_at(self, t_ns: int) -> float:
        """Return μ at the last latent row at or before ``t_ns`` (currency per share per s)."""
        if self._path is None:
            raise NotFittedError(
                "TrueAlpha has no latent path yet: pass one, or call update_latent(path)"
            )
        ts: Int64Array1D = self._path["ts_event"]
        k = int(np.searchsorted(ts, int(t_ns), side="right")) - 1
        if k < 0:
            raise DataValidationError(
                f"TrueAlpha: t_ns={t_ns} is before the latent path starts ({int(ts[0])})"
            )
        return float(self._path["mu"][k])

    def predict(self, md: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        """Return the model's α_t(s) on [t_ns, horizon_end_ns] given μ(t) (latent state).

        Parameters
        ----------
        md : MarketData
            Unused (the latent state carries the information); kept for the protocol.
        t_ns, horizon_end_ns : int
            Decision time and horizon end, UTC ns.

        Returns
        -------
        AlphaCurve
            With ``uses_latent_state=True`` and exact derivatives.
        """
        t, h = check_times(t_ns, horizon_end_ns)
        if not self._fitted:
            raise NotFittedError("TrueAlpha.predict called before fit(md, until_ns)")
        mu, k = self.drift_at(t), self.kappa_per_s
        x = grid_offsets((h - t) / _NS, self.grid_step_s)
        e = np.exp(-k * x)
        return AlphaCurve(
            t,
            x,
            mu / k * (e - e[-1]),
            -mu * e,
            k * mu * e,
            uses_latent_state=True,
            source="TrueAlpha (latent-state oracle)",
        )
