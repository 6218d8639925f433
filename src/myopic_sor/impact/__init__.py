"""Transient market impact (Obizhaeva-Wang, exponential decay) and its calibration."""

from __future__ import annotations

from myopic_sor.impact._kernels import ow_impact_path

__all__ = ["ow_impact_path"]
