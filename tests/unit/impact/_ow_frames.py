"""Spec frames whose mid follows the OW model exactly, shared by the calibration tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from myopic_sor.impact._python import ow_impact_path

T0_NS = 1_743_600_600_000_000_000  # 2025-04-02 13:30 UTC, a whole minute


def ow_frame(
    seconds: float = 3600.0,
    *,
    lam: float = 25_000.0,
    half_life_s: float = 1e9,
    sigma: float | np.ndarray = 0.015,
    adv: float = 1e6,
    seed: int = 0,
    price_noise: float | None = None,
) -> pd.DataFrame:
    """A spec frame whose mid is S0 + λ J(β): Poisson events (5 per second), 40 % trades,
    random-walk S0. ``sigma`` may vary per event; ``price_noise`` is the S0 noise per √s
    (default: σ's daily volatility of a 100-currency price spread over 6.5 h)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 5)
    t = np.sort(rng.uniform(0.0, seconds, n))
    trade = rng.random(n) < 0.4
    size = np.rint(rng.lognormal(np.log(100.0), 0.8, n)).astype(np.int64)
    q = np.where(trade, np.where(rng.random(n) < 0.5, 1, -1) * size, 0)
    sig = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,))
    _, after = ow_impact_path(t, q * sig / adv, math.log(2) / half_life_s, lam, 0.0)
    noise = price_noise if price_noise is not None else float(sig[0]) * 100.0 / math.sqrt(23_400.0)
    s0 = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n) * noise * np.sqrt(np.diff(t, prepend=0.0)))
    mid = s0 + after
    return pd.DataFrame(
        {
            "ts_event": pd.to_datetime(T0_NS + np.rint(t * 1e9).astype(np.int64), utc=True),
            "bid_fill": np.maximum(q, 0),
            "ask_fill": np.maximum(-q, 0),
            "signed_volume": q,
            "best_bid": mid - 0.005,
            "best_ask": mid + 0.005,
            "mid_price": mid,
            "Volatility": sig,
            "ADV": adv,
        }
    )
