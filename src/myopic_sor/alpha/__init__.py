"""Alpha forecasters: the curve α_t(s) = E_t[S0(T)] − E_t[S0(s)] on [t, T] (MATH.md §2).

Every forecaster follows :class:`Forecaster` (``fit(md, until_ns)``, ``predict(md, t_ns,
horizon_end_ns) -> AlphaCurve``, flags ``lookahead`` and ``uses_latent_state``):

* :class:`ZeroAlpha`: no view (pure execution);
* :class:`OFIRegressionAlpha`: order-flow regression refitted on a rolling lookback;
* :class:`TrueAlpha`: latent-state oracle on synthetic data (causal, but uses the hidden drift);
* :class:`OracleAlpha`: realised future, LOOK-AHEAD: diagnostic upper bound only.
"""

from __future__ import annotations

from myopic_sor.alpha._base import (
    LOOKAHEAD_LABEL,
    AlphaCurve,
    CausalForecaster,
    Forecaster,
    ForecastScore,
    causal_view,
    evaluate_forecaster,
)
from myopic_sor.alpha._ofi import OFIFit, OFIRegressionAlpha, exp_decay_curve
from myopic_sor.alpha._oracle import OracleAlpha, TrueAlpha
from myopic_sor.alpha._zero import ZeroAlpha

__all__ = [
    "LOOKAHEAD_LABEL",
    "AlphaCurve",
    "CausalForecaster",
    "ForecastScore",
    "Forecaster",
    "OFIFit",
    "OFIRegressionAlpha",
    "OracleAlpha",
    "TrueAlpha",
    "ZeroAlpha",
    "causal_view",
    "evaluate_forecaster",
    "exp_decay_curve",
]
