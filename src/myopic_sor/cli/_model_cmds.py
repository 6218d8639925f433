"""Model commands of the ``myopic-sor`` CLI: the ``schedule`` what-if and ``estimate-lambda``.

``schedule`` explores the Obizhaeva-Wang / myopic optimum without data, in plain model units;
``estimate-lambda`` calibrates λ (per aggregation period, and optionally λ and β jointly) on
market data. Both are thin shells over :mod:`myopic_sor.impact`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from myopic_sor._checks import require_positive
from myopic_sor._typing import Float64Array1D
from myopic_sor.cli._app import JsonOpt, _emit_json, app
from myopic_sor.exceptions import ConfigError

__all__ = ["AlphaSpec", "estimate_lambda_cmd", "largest_remainder", "parse_alpha_spec", "schedule"]

#: Largest ``--steps`` accepted (the solve is O(N), the printed JSON is not).
MAX_STEPS = 1_000_000


# ----------------------------------------------------------------------------------------------
# helpers


def _num(x: float) -> float | None:
    """JSON-safe float: NaN/inf become null (strict JSON has no NaN)."""
    v = float(x)
    return v if math.isfinite(v) else None


@dataclass(frozen=True, slots=True)
class AlphaSpec:
    """A parsed ``--alpha`` SPEC: ``zero`` or ``expdecay:A:TAU``.

    Attributes
    ----------
    kind : str
        ``"zero"`` or ``"expdecay"``.
    amplitude : float
        A, price per share (0 for ``zero``).
    tau : float
        TAU, in the horizon's time unit (``inf`` for ``zero``).
    """

    kind: str
    amplitude: float = 0.0
    tau: float = math.inf

    def curves(
        self, horizon: float
    ) -> tuple[
        Callable[[Float64Array1D], Float64Array1D],
        Callable[[Float64Array1D], Float64Array1D],
        Callable[[Float64Array1D], Float64Array1D],
    ]:
        """Return ``α``, ``α'`` and ``α''`` on [0, horizon] as vectorised functions.

        Parameters
        ----------
        horizon : float
            T, in the time unit of the horizon.

        Returns
        -------
        tuple of callables
            ``α(t) = A (e^{−t/τ} − e^{−T/τ})``, ``α'(t) = −(A/τ) e^{−t/τ}``,
            ``α''(t) = (A/τ²) e^{−t/τ}`` (all zero for ``zero``), price per share per unit^k.
        """
        a, tau, tail = self.amplitude, self.tau, 0.0
        if self.kind == "zero":
            a, tau = 0.0, 1.0
        else:
            tail = math.exp(-horizon / tau)

        def alpha(t: Float64Array1D) -> Float64Array1D:
            return np.asarray(a * (np.exp(-np.asarray(t) / tau) - tail), dtype=np.float64)

        def dalpha(t: Float64Array1D) -> Float64Array1D:
            return np.asarray(-a / tau * np.exp(-np.asarray(t) / tau), dtype=np.float64)

        def d2alpha(t: Float64Array1D) -> Float64Array1D:
            return np.asarray(a / tau**2 * np.exp(-np.asarray(t) / tau), dtype=np.float64)

        return alpha, dalpha, d2alpha


def parse_alpha_spec(spec: str) -> AlphaSpec:
    """Parse the ``--alpha`` SPEC of ``myopic-sor schedule``.

    Parameters
    ----------
    spec : str
        ``zero`` (no view: pure execution) or ``expdecay:A:TAU``: the expected remaining drift
        ``α(t) = A (e^{−t/TAU} − e^{−T/TAU})`` of a signal decaying with time constant TAU
        (A price per share, finite; TAU > 0 in the horizon's time unit).

    Returns
    -------
    AlphaSpec
        The parsed specification.

    Raises
    ------
    ConfigError
        Malformed SPEC, non-finite A, or TAU not a finite positive number.

    Examples
    --------
    >>> parse_alpha_spec("expdecay:0.05:30")
    AlphaSpec(kind='expdecay', amplitude=0.05, tau=30.0)
    """
    text = spec.strip()
    if text.lower() == "zero":
        return AlphaSpec("zero")
    parts = text.split(":")
    if len(parts) != 3 or parts[0].lower() != "expdecay":
        msg = (
            f"--alpha {spec!r} is not a valid SPEC; give 'zero' or 'expdecay:A:TAU' "
            "(e.g. expdecay:0.05:30 for α(t) = 0.05·(e^(−t/30) − e^(−T/30)))"
        )
        raise ConfigError(msg)
    try:
        amp, tau = float(parts[1]), float(parts[2])
    except ValueError:
        msg = f"--alpha {spec!r}: A and TAU must be numbers (expdecay:A:TAU, e.g. expdecay:0.05:30)"
        raise ConfigError(msg) from None
    if not math.isfinite(amp):
        msg = f"--alpha {spec!r}: the amplitude A must be a finite price per share, got {amp!r}"
        raise ConfigError(msg)
    if not (math.isfinite(tau) and tau > 0):
        msg = (
            f"--alpha {spec!r}: the time constant TAU must be a finite number > 0 "
            f"(in the horizon's time unit), got {tau!r}"
        )
        raise ConfigError(msg)
    return AlphaSpec("expdecay", amp, tau)


def largest_remainder(q: Float64Array1D, total: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Round quantities to integers that add up exactly to ``total`` (largest-remainder method).

    Parameters
    ----------
    q : numpy.ndarray
        Real quantities, signed shares.
    total : int
        Required sum of the rounded quantities, shares; must lie within
        ``[Σ floor(q), Σ floor(q) + len(q)]`` (true when ``total`` is ``Σ q`` rounded).

    Returns
    -------
    numpy.ndarray of int64
        ``floor(q)`` plus one share on the ``total − Σ floor(q)`` slots with the largest
        fractional parts (ties to the earlier slot).

    Raises
    ------
    ConfigError
        If ``total`` cannot be reached by rounding each slot up or down.

    Notes
    -----
    Each rounded value differs from ``q_n`` by less than one share, and among such roundings
    with the required sum this one minimises the largest deviation.
    """
    x = np.asarray(q, dtype=np.float64)
    base = np.floor(x)
    frac = x - base
    k = int(total) - int(base.sum())
    if not 0 <= k <= x.shape[0]:
        msg = (
            f"cannot round {x.shape[0]} quantities summing to {float(x.sum()):.6g} to an "
            f"integer total of {total}; give --no-round"
        )
        raise ConfigError(msg)
    order = np.argsort(-frac, kind="stable")
    out = base.astype(np.int64)
    out[order[:k]] += 1
    return out


# ----------------------------------------------------------------------------------------------
# schedule


def _solve_schedule(
    *,
    lam: float,
    beta: float,
    horizon: float,
    quantity: float | None,
    steps: int,
    alpha_spec: str,
    round_shares: bool,
) -> dict[str, Any]:
    from myopic_sor.impact import (
        ImpactParams,
        continuous_schedule,
        expected_cost,
        optimal_schedule,
    )

    lam = require_positive("--lambda", lam, "impact in price per share, per share traded")
    beta = require_positive("--beta", beta, "impact decay rate per unit of the horizon's time")
    horizon = require_positive("--horizon", horizon, "the window [0, T] in its time unit")
    if not 1 <= steps <= MAX_STEPS:
        msg = f"--steps must be between 1 and {MAX_STEPS:,} (N steps give N+1 trades), got {steps}"
        raise ConfigError(msg)
    pure_alpha = quantity is None
    if quantity is not None:
        if not (math.isfinite(quantity) and quantity != 0):
            msg = (
                f"--quantity must be a finite non-zero number of shares (+ buy, − sell), got "
                f"{quantity!r}; omit it for the pure-alpha strategy (ν = 0)"
            )
            raise ConfigError(msg)
        if round_shares and quantity != round(quantity):
            msg = (
                f"--quantity {quantity!r} is not a whole number of shares; give an integer "
                "or --no-round"
            )
            raise ConfigError(msg)
    spec = parse_alpha_spec(alpha_spec)

    # Plain model units: σ = ADV = 1 makes λ_s = λ σ / ADV = λ (price per share per share).
    params = ImpactParams(lambda_=lam, beta_per_s=beta, sigma_daily=1.0, adv=1.0)
    times = np.linspace(0.0, horizon, steps + 1)
    a_fn, da_fn, d2a_fn = spec.curves(horizon)
    alpha = a_fn(times)
    alpha[-1] = 0.0  # α(T) = 0 exactly
    alpha_arg = None if spec.kind == "zero" else alpha

    q_exact = optimal_schedule(times, quantity, params, alpha_arg, pure_alpha=pure_alpha)
    if round_shares:
        total = round(float(quantity)) if quantity is not None else round(float(q_exact.sum()))
        q_int = largest_remainder(q_exact, total)
        q = q_int.astype(np.float64)
        quantities: list[Any] = [int(v) for v in q_int]
    else:
        q = q_exact
        quantities = [float(v) for v in q]
    cost = expected_cost(times, q, params, alpha_arg)
    cost_exact = expected_cost(times, q_exact, params, alpha_arg).total
    impact_after = cost.impact_before + lam * q

    if spec.kind == "zero":
        cont = continuous_schedule(0.0, horizon, quantity, params, pure_alpha=pure_alpha)
    else:
        cont = continuous_schedule(
            0.0,
            horizon,
            quantity,
            params,
            alpha=a_fn,
            dalpha=da_fn,
            d2alpha=d2a_fn,
            pure_alpha=pure_alpha,
        )
    rate = cont.rate(times)
    return {
        "times": [float(v) for v in times],
        "quantities": quantities,
        "impact": [float(v) for v in impact_after],
        "impact_before": [float(v) for v in cost.impact_before],
        "alpha": [float(v) for v in alpha],
        "rate": [float(v) for v in rate],
        "start_block": float(cont.start_block),
        "end_block": float(cont.end_block),
        "expected_cost": float(cost.total),
        "expected_cost_terms": {
            "alpha": float(cost.alpha_term),
            "impact": float(cost.impact_term),
            "self_impact": float(cost.self_impact_term),
        },
        "expected_cost_unrounded": float(cost_exact),
        "total_quantity": round(float(q.sum())) if round_shares else float(q.sum()),
        "nu": float(cont.nu),
        "params": {
            "lambda": lam,
            "beta": beta,
            "horizon": horizon,
            "steps": steps,
            "n_trades": steps + 1,
            "quantity": quantity,
            "pure_alpha": pure_alpha,
            "alpha": {"kind": spec.kind, "amplitude": spec.amplitude, "tau": _num(spec.tau)},
            "rounded": round_shares,
        },
    }


@app.command("schedule")
def schedule(
    lambda_: Annotated[
        float,
        typer.Option("--lambda", help="Impact λ, price per share per share traded (> 0)."),
    ],
    beta: Annotated[
        float, typer.Option("--beta", help="Impact decay β per unit of the horizon's time (> 0).")
    ],
    horizon: Annotated[
        float, typer.Option("--horizon", help="Horizon T, in its own time unit (> 0).")
    ],
    steps: Annotated[
        int, typer.Option("--steps", help="N steps: N+1 equally spaced trades on [0, T].")
    ],
    quantity: Annotated[
        float | None,
        typer.Option(
            "--quantity", help="Parent quantity X, shares (+ buy, − sell); omit for ν = 0."
        ),
    ] = None,
    alpha: Annotated[
        str,
        typer.Option("--alpha", help="'zero' or 'expdecay:<A>:<TAU>', e.g. expdecay:0.02:20."),
    ] = "zero",
    no_round: Annotated[
        bool, typer.Option("--no-round", help="Print exact floats instead of whole shares.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """What-if: the optimal schedule of the transient-impact model, without data.

    Plain model units: λ is the impact of one share in price per share
    (ImpactParams with σ = ADV = 1, so λ_s = λ); β is per unit of the horizon's
    time unit and T is in that unit (seconds, minutes: your choice). N steps give
    N+1 equally spaced trades at t_n = n·T/N, n = 0..N (first at 0, last at T).

    The schedule is the exact discrete optimum q* = G⁻¹(α − ν)/λ of the expected
    cost C(q) = −q·α + (λ/2) qᵀGq, G_ij = e^(−β|t_i − t_j|) (MATH.md §1, §3).
    --alpha zero gives the Obizhaeva-Wang schedule; --alpha expdecay:<A>:<TAU> is
    α(t) = A·(e^(−t/TAU) − e^(−T/TAU)), the expected remaining drift
    E[S0(T)] − E[S0(t)] of a signal decaying with time constant TAU (A > 0: the
    price is expected to rise, a buyer trades earlier). Without --quantity the
    pure-alpha strategy is shown (ν = 0, any final inventory).

    Printed: times, quantities (whole shares unless --no-round; largest-remainder
    rounding keeps their sum exactly X), alpha, the impact just after each trade,
    the continuous closed form's start and end blocks, its rate Q*(t) and ν
    (I* = (α − α'/β + ν)/2), and the expected cost C(q) of the printed schedule
    against the expected price at T.

    Example: myopic-sor schedule --lambda 1e-6 --beta 0.05 --horizon 60 --quantity 10000 --steps 12 --alpha expdecay:0.004:20
    """  # noqa: E501
    res = _solve_schedule(
        lam=lambda_,
        beta=beta,
        horizon=horizon,
        quantity=quantity,
        steps=steps,
        alpha_spec=alpha,
        round_shares=not no_round,
    )
    if as_json:
        _emit_json(res)
        return
    _print_schedule(res)


def _print_schedule(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    p = res["params"]
    side = "pure alpha (ν = 0)" if p["pure_alpha"] else f"X = {p['quantity']:g} shares"
    con.print(
        f"[bold]Optimal schedule[/bold]: λ = {p['lambda']:g}, β = {p['beta']:g} per unit, "
        f"T = {p['horizon']:g}, {p['n_trades']} trades, alpha {p['alpha']['kind']}, {side}"
    )
    t = Table(show_header=True)
    for col in ("n", "time", "quantity", "alpha", "impact after"):
        t.add_column(col, justify="right")
    n = len(res["times"])
    shown = list(range(n)) if n <= 40 else [*range(20), -1, *range(n - 20, n)]
    for i in shown:
        if i < 0:
            t.add_row("…", "…", "…", "…", "…")
            continue
        qv = res["quantities"][i]
        t.add_row(
            str(i),
            f"{res['times'][i]:.6g}",
            f"{qv:,}" if isinstance(qv, int) else f"{qv:,.6g}",
            f"{res['alpha'][i]:.6g}",
            f"{res['impact'][i]:.6g}",
        )
    con.print(t)
    con.print(f"total traded          {res['total_quantity']:,}")
    con.print(
        f"continuous blocks     start {res['start_block']:,.6g}, end {res['end_block']:,.6g} "
        f"(rate at t=0: {res['rate'][0]:,.6g} per unit time)"
    )
    con.print(f"nu                    {res['nu']:.6g}")
    terms = res["expected_cost_terms"]
    con.print(
        f"expected cost C(q)    {res['expected_cost']:,.6g} (alpha {terms['alpha']:,.6g}, "
        f"impact {terms['impact']:,.6g}, self-impact {terms['self_impact']:,.6g}; "
        f"unrounded optimum {res['expected_cost_unrounded']:,.6g})"
    )


# ----------------------------------------------------------------------------------------------
# estimate-lambda


def _parse_periods(text: str) -> list[float]:
    from myopic_sor.config import parse_period

    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        msg = f"--periods {text!r} is empty; give seconds separated by commas, e.g. 1,5,60"
        raise ConfigError(msg)
    out: list[float] = []
    for item in items:
        try:
            out.append(parse_period(item))
        except ValueError as exc:
            msg = f"--periods: {item!r} is not a period ({exc}); e.g. --periods 1,5,60 or 100ms,1s"
            raise ConfigError(msg) from None
    return out


def _estimate(
    paths: list[Path],
    *,
    periods: str | None,
    joint: bool,
    date: str | None,
    symbol: str | None,
    start: str | None,
    end: str | None,
    volatility: float | None,
    rolling_volatility: bool,
    adv: float | None,
    config: Path | None,
) -> dict[str, Any]:
    from myopic_sor.config import load_config
    from myopic_sor.data import load_market_data
    from myopic_sor.features import spec_frame
    from myopic_sor.impact import ImpactEstimator, estimate_lambda_periods, select_lambda

    cfg = load_config(config)
    agg = _parse_periods(periods) if periods is not None else None
    if volatility is not None and rolling_volatility:
        msg = "give --volatility or --rolling-volatility, not both"
        raise ConfigError(msg)
    if volatility is not None:
        require_positive("--volatility", volatility, "daily return volatility, 0.01 = 1 %")
    if adv is not None:
        require_positive("--adv", adv, "average daily volume, shares")
    hours = cfg.market_hours
    md = load_market_data(
        *paths,
        symbol=symbol,
        day=date,
        start=start if start is not None else hours.open,
        end=end if end is not None else hours.close,
        timezone=hours.timezone,
    )
    if rolling_volatility:
        sigma: float | None = None
        sigma_source = "rolling (causal, features.rolling_volatility)"
    elif volatility is not None:
        sigma, sigma_source = volatility, "--volatility"
    else:
        sigma, sigma_source = cfg.myopic.volatility, "config myopic.volatility"
    # One day cannot give its own ADV without looking ahead: the option or the configuration.
    adv_value = adv if adv is not None else cfg.myopic.adv
    adv_source = "--adv" if adv is not None else "config myopic.adv"
    df = spec_frame(
        md,
        volatility=sigma,
        adv=adv_value,
        session_start=hours.open,
        session_end=hours.close,
    )
    est = estimate_lambda_periods(df, agg, config=cfg.lambda_estimation)
    lam, label, reason = select_lambda(est, cfg.lambda_estimation)
    out: dict[str, Any] = {
        "symbol": md.symbol,
        "date": md.date.isoformat(),
        "n_events": md.n_events,
        "rows": len(df),
        "volatility": _num(float(np.nanmedian(df["Volatility"]))) if len(df) else None,
        "volatility_source": sigma_source,
        "adv": adv_value,
        "adv_source": adv_source,
        "units": "lambda: price per unit of normalised flow q·sigma/ADV",
        "periods": {
            lab: {
                "period_s": e.period_s,
                "lambda": _num(e.lambda_),
                "r2": _num(e.r2),
                "t_stat": _num(e.t_stat),
                "n": e.n,
                "stderr": _num(e.stderr),
                "intercept": _num(e.intercept),
                "n_skipped": e.n_skipped,
                "reason": e.reason or None,
            }
            for lab, e in est.items()
        },
        "selected": {"lambda": lam, "period": label, "reason": reason},
    }
    if joint:
        fit = ImpactEstimator().fit(df)
        out["joint"] = {
            "lambda": _num(fit.lambda_),
            "lambda_stderr": _num(fit.lambda_stderr_),
            "beta_per_s": fit.beta_,
            "beta_per_hour": fit.beta_ * 3600.0,
            "half_life_s": math.log(2.0) / fit.beta_,
            "r2": _num(fit.r2_),
            "r2_in": _num(fit.r2_in_),
            "r2_cv": _num(fit.r2_cv_),
            "n": fit.n_,
            "bucket_s": fit.bucket_s,
        }
    return out


@app.command("estimate-lambda")
def estimate_lambda_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files or a layout directory (one day).")],
    periods: Annotated[
        str | None,
        typer.Option(help="Aggregation periods, e.g. 1,5,60 or 100ms,1s (default: config)."),
    ] = None,
    joint: Annotated[
        bool, typer.Option("--joint", help="Also fit λ and β jointly (ImpactEstimator).")
    ] = False,
    date: Annotated[str | None, typer.Option("--date", help="Day YYYY-MM-DD.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Symbol to keep.")] = None,
    start: Annotated[
        str | None, typer.Option(help="Local start HH:MM (default market_hours.open).")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Local end HH:MM (default market_hours.close).")
    ] = None,
    volatility: Annotated[
        float | None,
        typer.Option(help="Daily volatility σ (default config myopic.volatility)."),
    ] = None,
    rolling_volatility: Annotated[
        bool,
        typer.Option("--rolling-volatility", help="Use the causal rolling σ of the day's mid."),
    ] = False,
    adv: Annotated[
        float | None, typer.Option(help="ADV, shares per day (default config myopic.adv).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML/JSON file.")] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Save the λ, R² and t-stat by period as a PNG/SVG/PDF."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Estimate the impact coefficient λ per aggregation period, and select one.

    For each period τ, by OLS over τ-second buckets: Δp_k = c + λ_τ ΔQ_k + ε_k,
    ΔQ_k the bucket's signed traded volume times σ/ADV (MATH.md §4). Prints λ_τ,
    R², t-stat and n per period, then the λ chosen by the config's
    lambda_estimation rule: the first preferred period with R² ≥ min_r2_threshold
    and λ > 0, else fallback_lambda with a warning. --joint also fits λ and β
    together (filtered flow state over a β grid) with its out-of-sample R².

    σ and ADV come from --volatility/--adv or the config's myopic section (one day
    cannot give its own ADV without look-ahead); --rolling-volatility uses the
    causal rolling σ of the day's mid instead. Only regular hours are used
    (market_hours of the config, or --start/--end). λ is in price per unit of
    normalised flow q·σ/ADV.

    Example: myopic-sor estimate-lambda ./data/AAPL --date 2025-04-02 --periods 1,5,60 --joint
    --plot lambda.png
    """
    res = _estimate(
        paths,
        periods=periods,
        joint=joint,
        date=date,
        symbol=symbol,
        start=start,
        end=end,
        volatility=volatility,
        rolling_volatility=rolling_volatility,
        adv=adv,
        config=config,
    )
    if plot is not None:
        res["plot"] = str(_lambda_plot(res, plot))
    if as_json:
        _emit_json(res)
        return
    _print_estimate(res)
    if plot is not None:
        typer.echo(f"plot written to {plot}")


def _lambda_plot(res: dict[str, Any], path: Path) -> Path:
    """λ_τ, R² and t-stat by aggregation period (periods without an estimate left empty)."""
    import pandas as pd

    from myopic_sor.analysis import create_lambda_comparison_plot
    from myopic_sor.analysis._analyzer import _save

    stats = pd.DataFrame(
        {
            lab: {"lambda": e["lambda"], "r2": e["r2"], "t_stat": e["t_stat"]}
            for lab, e in res["periods"].items()
        }
    ).T.astype(float)
    fig = create_lambda_comparison_plot(stats)
    fig.suptitle(f"λ by aggregation period: {res['symbol']} {res['date']}")
    _save(fig, path)  # atomic, format from the suffix
    return path


def _print_estimate(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    def f(x: float | None, fmt: str) -> str:
        return "-" if x is None else format(x, fmt)

    con = Console()
    con.print(
        f"[bold]{res['symbol']}[/bold] {res['date']}: {res['rows']:,} rows, "
        f"σ = {f(res['volatility'], '.4g')} ({res['volatility_source']}), "
        f"ADV = {res['adv']:,.0f} ({res['adv_source']})"
    )
    t = Table(show_header=True)
    for col in ("period", "lambda", "R²", "t-stat", "n", "note"):
        t.add_column(col, justify="left" if col == "note" else "right")
    for lab, e in res["periods"].items():
        t.add_row(
            lab,
            f(e["lambda"], ",.6g"),
            f(e["r2"], ".4f"),
            f(e["t_stat"], ".2f"),
            f"{e['n']:,}",
            e["reason"] or "",
        )
    con.print(t)
    sel = res["selected"]
    con.print(f"selected λ = {sel['lambda']:,.6g} from {sel['period']}: {sel['reason']}")
    if "joint" in res:
        j = res["joint"]
        con.print(
            f"joint fit: λ = {f(j['lambda'], ',.6g')}, β = {j['beta_per_s']:.5g}/s "
            f"(half-life {j['half_life_s']:.4g} s), R² out-of-sample {f(j['r2'], '.4f')}, "
            f"in-sample {f(j['r2_in'], '.4f')}"
        )
