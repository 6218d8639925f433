"""The ``myopic-sor`` command-line interface."""

from __future__ import annotations

from myopic_sor.cli._app import app, main

__all__ = ["app", "main"]
