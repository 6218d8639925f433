"""Array and option aliases used in signatures across the package."""

from __future__ import annotations

import os
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoolArray1D",
    "Float64Array",
    "Float64Array1D",
    "Float64Array2D",
    "Int64Array1D",
    "PathLike",
    "SeedLike",
    "SideLiteral",
    "UInt8Array1D",
]

Float64Array: TypeAlias = npt.NDArray[np.float64]
Float64Array1D: TypeAlias = npt.NDArray[np.float64]
Float64Array2D: TypeAlias = npt.NDArray[np.float64]
Int64Array1D: TypeAlias = npt.NDArray[np.int64]
UInt8Array1D: TypeAlias = npt.NDArray[np.uint8]
BoolArray1D: TypeAlias = npt.NDArray[np.bool_]
PathLike: TypeAlias = str | os.PathLike[str]
SeedLike: TypeAlias = int | np.random.Generator | None
SideLiteral: TypeAlias = Literal["buy", "sell"]
