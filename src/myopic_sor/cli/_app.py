"""Typer application (filled in as commands land)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Optimal trade execution.")


@app.command()
def version() -> None:
    """Print the version."""
    from myopic_sor import __version__

    typer.echo(__version__)


def main() -> None:
    """Entry point of the console script."""
    app()
