"""Zero alpha: no view on the price, pure execution (the Obizhaeva-Wang schedule)."""

from __future__ import annotations

from myopic_sor.alpha._base import AlphaCurve, CausalForecaster, zero_curve
from myopic_sor.data import MarketData

__all__ = ["ZeroAlpha"]


class ZeroAlpha(CausalForecaster):
    """Forecast no price move: α_t(s) = 0 on [t, T].

    Parameters
    ----------
    grid_step_s : float, default 60
        Step of the returned curve's grid, seconds (the curve is 0 everywhere, so the grid
        only sets where values are stored).

    Notes
    -----
    With α ≡ 0 the myopic optimum is the Obizhaeva-Wang schedule (MATH.md §3): blocks of
    ``X/(2 + βT)`` at both ends and a constant rate in between. ``fit`` estimates nothing but is
    required, as for every forecaster, before ``predict``.

    Examples
    --------
    >>> import datetime as dt
    >>> from myopic_sor.data import generate_market_data
    >>> md, _ = generate_market_data(seed=1, session_end=dt.time(9, 31))
    >>> f = ZeroAlpha().fit(md, md.first_ts)
    >>> f.predict(md, md.first_ts, md.first_ts + 60 * 10**9).alpha0
    0.0
    """

    lookahead = False
    uses_latent_state = False

    def __init__(self, grid_step_s: float = 60.0) -> None:
        self.grid_step_s = grid_step_s

    def _fit(self, view: MarketData, until_ns: int) -> None:
        return None

    def _predict(self, view: MarketData, t_ns: int, horizon_end_ns: int) -> AlphaCurve:
        return zero_curve(t_ns, (horizon_end_ns - t_ns) / 1e9, self.grid_step_s, "ZeroAlpha")

    def __repr__(self) -> str:
        return f"ZeroAlpha(grid_step_s={self.grid_step_s!r})"
