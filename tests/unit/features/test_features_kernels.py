"""Parity of the numba kernels with their plain-Python twins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myopic_sor.features import _kernels, _python


def _random_quotes(
    rng: np.random.Generator, n: int, n_venues: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    venue = rng.integers(0, n_venues, n).astype(np.int64)
    # Few distinct prices so that venues often share the best price (ties in the aggregation).
    bid = 10 + 0.01 * rng.integers(-3, 3, n)
    ask = bid + 0.01 * rng.integers(-1, 4, n)  # sometimes locked or crossed across venues
    bid[rng.random(n) < 0.1] = np.nan
    ask[rng.random(n) < 0.1] = np.nan
    bsz = rng.integers(0, 1000, n).astype(np.int64)
    asz = rng.integers(0, 1000, n).astype(np.int64)
    return venue, bid, bsz, ask, asz


def _assert_same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        assert x.shape == y.shape
        np.testing.assert_array_equal(x, y)  # NaNs compare equal here


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("n_venues", [1, 3, 8])
def test_nbbo_kernel_parity(seed: int, n_venues: int) -> None:
    rng = np.random.default_rng(seed)
    args = _random_quotes(rng, 500, n_venues)
    _assert_same(_kernels.nbbo_kernel(*args, n_venues), _python.nbbo_kernel(*args, n_venues))


def test_nbbo_kernel_empty_input() -> None:
    args = _random_quotes(np.random.default_rng(0), 0, 2)
    out = _kernels.nbbo_kernel(*args, 2)
    _assert_same(out, _python.nbbo_kernel(*args, 2))
    assert out[4].shape == (0, 2)


def _random_book(
    rng: np.random.Generator, n: int, levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    top = 10 + 0.01 * rng.integers(-2, 3, (n, 1))
    steps = 0.01 * np.arange(levels)[None, :]
    bp = top - steps
    ap = top + 0.01 + steps
    bs = rng.integers(0, 100, (n, levels)).astype(np.float64)
    az = rng.integers(0, 100, (n, levels)).astype(np.float64)
    bp[rng.random((n, levels)) < 0.15] = np.nan
    ap[rng.random((n, levels)) < 0.15] = np.nan
    return (
        np.ascontiguousarray(bp),
        np.ascontiguousarray(bs),
        np.ascontiguousarray(ap),
        np.ascontiguousarray(az),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("levels", [1, 4, 10])
def test_ofi_kernel_parity(seed: int, levels: int) -> None:
    args = _random_book(np.random.default_rng(seed), 300, levels)
    _assert_same((_kernels.ofi_kernel(*args),), (_python.ofi_kernel(*args),))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 40),
    n_venues=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_nbbo_kernel_parity_property(n: int, n_venues: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    args = _random_quotes(rng, n, n_venues)
    kern = _kernels.nbbo_kernel(*args, n_venues)
    _assert_same(kern, _python.nbbo_kernel(*args, n_venues))
    # Invariants: a side is quoted iff some venue is flagged at its touch, and an unquoted
    # side has size 0.
    for best, size, at in ((kern[0], kern[2], kern[4]), (kern[1], kern[3], kern[5])):
        has = ~np.isnan(best)
        np.testing.assert_array_equal(at.any(axis=1), has)
        assert (size[~has] == 0).all()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 30), levels=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_ofi_kernel_parity_property(n: int, levels: int, seed: int) -> None:
    args = _random_book(np.random.default_rng(seed), n, levels)
    kern = _kernels.ofi_kernel(*args)
    np.testing.assert_array_equal(kern, _python.ofi_kernel(*args))
    if n:
        np.testing.assert_array_equal(kern[0], 0.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("levels", [1, 10])
def test_ofi_bucket_kernel_parity(seed: int, levels: int) -> None:
    rng = np.random.default_rng(seed)
    bp, bs, ap, az = (np.asfortranarray(a) for a in _random_book(rng, 400, levels))
    bucket = np.sort(rng.integers(-1, 7, size=400)).astype(np.int64)
    kern = _kernels.ofi_bucket_kernel(bucket, 7, bp, bs, ap, az)
    twin = _python.ofi_bucket_kernel(bucket, 7, bp, bs, ap, az)
    _assert_same(kern, twin)
    # and both agree with bucketing the per-event contributions directly
    e = _python.ofi_kernel(bp, bs, ap, az)
    for k in range(7):
        np.testing.assert_allclose(kern[0][k], e[bucket == k].sum(axis=0), rtol=1e-12, atol=1e-9)
