"""The ``route`` what-if: one Cont-Kukanov routing decision from numbers, without data."""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import typer

from myopic_sor.cli._app import JsonOpt, _emit_json, app
from myopic_sor.exceptions import ConfigError

__all__ = ["parse_list", "parse_outflows", "route_cmd"]


def parse_list(text: str, option: str) -> list[float]:
    """Parse ``"a,b,c"`` into finite floats; the error names the option."""
    out: list[float] = []
    for part in text.split(","):
        try:
            v = float(part)
        except ValueError:
            raise ConfigError(f"{option} {text!r}: {part!r} is not a number") from None
        if not math.isfinite(v):
            raise ConfigError(f"{option} {text!r}: {part!r} is not finite")
        out.append(v)
    return out


def parse_outflows(text: str) -> list[object]:
    """Parse ``exp:MEAN[,exp:MEAN...]`` into exponential outflow laws (MEAN shares ≥ 0)."""
    from myopic_sor.routing import ExponentialOutflow

    laws: list[object] = []
    for part in text.split(","):
        kind, _, value = part.strip().partition(":")
        if kind != "exp" or not value:
            raise ConfigError(f"--outflow {text!r}: each entry is exp:MEAN (shares), got {part!r}")
        mean = parse_list(value, "--outflow")[0]
        if mean < 0:
            raise ConfigError(f"--outflow {text!r}: the mean outflow must be >= 0 shares")
        laws.append(ExponentialOutflow(mean))
    return laws


@app.command("route")
def route_cmd(
    size: Annotated[float, typer.Option("--size", help="Child size S, shares (> 0).")],
    queue: Annotated[str, typer.Option("--queue", help="Queue ahead per venue: Q1[,Q2...].")],
    half_spread: Annotated[float, typer.Option("--half-spread", help="h, currency/share.")],
    fee: Annotated[float, typer.Option("--fee", help="Taker fee f, currency/share.")] = 0.003,
    rebate: Annotated[
        str, typer.Option("--rebate", help="Maker rebates R1[,R2...] (one for all or one each).")
    ] = "0.003",
    theta: Annotated[float, typer.Option("--theta", help="θ, impact per share placed.")] = 0.0005,
    lambda_u: Annotated[float, typer.Option("--lambda-u", help="Underfill penalty λ_u.")] = 0.05,
    lambda_o: Annotated[float, typer.Option("--lambda-o", help="Overfill penalty λ_o.")] = 0.05,
    outflow: Annotated[
        str, typer.Option("--outflow", help="Outflow law per venue: exp:MEAN[,exp:MEAN...].")
    ] = "exp:1000",
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo samples N.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the samples.")] = 42,
    method: Annotated[
        str, typer.Option("--method", help="auto (closed form on one venue), sa or lp.")
    ] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """What-if: split a child order into a market order and limit orders (Cont-Kukanov).

    Model units: shares and currency per share. ξ_k, the queue outflow of venue k over the
    router horizon, is exponential with the given mean. One venue uses the exact closed form
    (p* = (2h + f + r)/(h + r + λ_u + θ)); several use stochastic approximation on N common
    samples. Prints the allocation, its expected cost V (currency) and P(underfill).

    Example: myopic-sor route --size 500 --queue 2000,800 --half-spread 0.005 --fee 0.003
    --rebate 0.002,0.0025 --outflow exp:3000,exp:1500 --json
    """
    from myopic_sor.routing import ContKukanovRouter, RoutingProblem

    queues = parse_list(queue, "--queue")
    rebates = parse_list(rebate, "--rebate")
    laws = parse_outflows(outflow)
    k = len(queues)
    if len(rebates) == 1:
        rebates = rebates * k
    if len(rebates) != k or len(laws) != k:
        msg = (
            f"--queue has {k} venue(s) but --rebate has {len(rebates)} and --outflow "
            f"{len(laws)}; give one each (or a single --rebate for all)"
        )
        raise ConfigError(msg)
    if samples < 1:
        raise ConfigError(f"--samples must be >= 1, got {samples}")
    if method not in ("auto", "sa", "lp", "closed_form"):
        raise ConfigError(f"--method {method!r}: use auto, sa, lp or closed_form")
    problem = RoutingProblem(
        size=size,
        half_spread=half_spread,
        fee=fee,
        rebates=np.array(rebates),
        queues=np.array(queues),
        theta=theta,
        lambda_u=lambda_u,
        lambda_o=lambda_o,
    )
    router = ContKukanovRouter(n_samples=samples, method=method)  # type: ignore[arg-type]
    alloc = router.route(problem, laws, np.random.default_rng(seed))  # type: ignore[arg-type]
    out = alloc.as_dict()
    out.pop("venues")
    out.update({"size": size, "seed": seed, "samples": samples})
    if "p_star" in alloc.info:
        out["p_star"] = alloc.info["p_star"]
    if as_json:
        _emit_json(out)
        return
    typer.echo(f"method {alloc.method}: market {alloc.market:g} shares")
    for j, lim in enumerate(alloc.limit):
        typer.echo(
            f"  venue {j}: limit {lim:g} shares (queue {queues[j]:g}, rebate {rebates[j]:g})"
        )
    typer.echo(f"expected cost {alloc.expected_cost:.6g}, P(underfill) {alloc.p_underfill:.4f}")
