"""Event-loop kernels of the synthetic multi-venue market (numba, with plain-Python twins).

The model is documented in :mod:`myopic_sor.data._synthetic`. This module holds only the hot
loop. The kernel is written once as plain Python (:func:`run_events_py`, the twin used by the
parity test) and compiled with ``numba.njit(cache=True)`` into :func:`run_events`; the helpers
are ``register_jitable`` so they are plain Python when called from Python and inlined into the
compiled kernel otherwise. Both versions consume the same pre-drawn random buffers, so they
produce identical output for the same seed.

State layout (all contiguous numpy arrays, mutated in place):

* ``istate`` int64 — see the ``I_*`` indices below (clock, pending event time, anchor tick, ...).
* ``fstate`` float64 — ``F_S0`` efficient price, ``F_MU`` drift (currency/s), ``F_IMP`` impact
  (currency, valid at ``istate[I_T_IMP]``), ``F_RATE`` total event rate of the pending draw.
* ``bsz``/``bct`` int64 ``(V, 2, K)`` — displayed shares and order count of every internal level;
  side 0 is the bid (level k at tick ``anchor - k``), side 1 the ask (tick ``anchor + 1 + k``).
* ``ru``/``rn`` float64 — uniform [0, 1) and standard normal buffers, ``rpos`` their read heads;
* ``rc`` float64 — the efficient price's and drift's normals, two per clock step, pre-drawn
  for the session (read by step index, so the fundamental path does not depend on the flow);
* ``out_i`` int64 ``(cap, 7)`` — ts_event, venue, action, side, depth, size, own flag;
  ``out_px`` float64 ``(cap,)``; ``out_bpx`` float64 ``(cap, 2L)`` bid then ask prices;
  ``out_bsz`` int64 ``(cap, 4L)`` bid sizes, ask sizes, bid counts, ask counts.
* ``sec`` float64 ``(n_sec, 3)`` — S0, μ, I sampled on every whole second of the session.
* ``cmd`` int64 ``(8,)`` — an external command executed at ``t_end``: kind (0 none, 1 market
  order, 2 place a limit order, 3 cancel a limit order), venue, sign (+1 buy, −1 sell), quantity,
  result (out: executed shares / order slot or a negative error code / cancelled shares), done
  flag (out), limit price tick, order slot to cancel.
* ``own_i`` int64 ``(NO, 7)`` — our limit orders: status (0 free, 1 resting, 2 filled,
  3 cancelled), venue, side (0 bid, 1 ask), price tick, remaining, original quantity, unused;
  ``own_f`` float64 ``(NO,)`` — shares ahead of the order in its queue.
* ``osz`` int64 ``(V, 2, K, 2)`` — our resting shares and order count per internal level
  (included in ``bsz``/``bct``; background cancellations never remove them).
* ``fill_i`` int64 ``(cap, 5)`` — our limit-order fills and venue-side cancels: slot, ts, price
  tick, shares, kind (1 filled by a market order, 2 picked off when the fair price moved through
  the order, 3 cancelled by the venue because its level left the book, 4 cancelled by us).
"""

# Kernels take contiguous arrays positionally (numba has no keyword-only arguments).
# ruff: noqa: PLR0917

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit
from numba.extending import register_jitable

__all__ = [
    "STATUS_DONE",
    "STATUS_NEED_RANDOM",
    "STATUS_OUT_FULL",
    "run_events",
    "run_events_py",
]

# istate indices
I_T_NOW: Final = 0
I_NEXT_CLOCK: Final = 1
I_NEXT_EVENT: Final = 2
I_ANCHOR: Final = 3
I_STEP: Final = 4
I_OUT_N: Final = 5
I_N_TRUNC: Final = 6
I_T_IMP: Final = 7
I_SESSION_END: Final = 8
I_N_RECENTRE: Final = 9
I_FILL_N: Final = 10
N_ISTATE: Final = 11

# fstate indices
F_S0: Final = 0
F_MU: Final = 1
F_IMP: Final = 2
F_RATE: Final = 3  # total event rate when the pending event was drawn (state unchanged since)
N_FSTATE: Final = 4

# params_i indices
P_V: Final = 0
P_K: Final = 1
P_L: Final = 2
P_CLOCK_NS: Final = 3
P_STEPS_PER_SEC: Final = 4
P_TPU: Final = 5
N_PARAMS_I: Final = 6

# params_f indices
Q_LAM_S: Final = 0  # λ σ / ADV, currency per share
Q_BETA: Final = 1  # per second
Q_MU_A: Final = 2  # exp(-κ h)
Q_MU_SD: Final = 3  # sd of the OU innovation over one clock step
Q_MU_DRIFT: Final = 4  # (1 - exp(-κ h)) / κ, seconds
Q_S0_SD: Final = 5  # σ_p sqrt(h), currency
Q_TILT: Final = 6
Q_SIGMA_MU: Final = 7  # stationary sd of μ, currency per second
Q_MO_LOGMED: Final = 8
Q_MO_LOGSD: Final = 9
Q_LO_LOGMED: Final = 10
Q_LO_LOGSD: Final = 11
Q_LO_MEAN: Final = 12
Q_LO_CV: Final = 13
Q_CANCEL: Final = 14  # per order per second
Q_REFILL: Final = 15  # extra arrival rate at an empty level, per second
Q_HYST: Final = 16  # ticks
Q_REPLENISH: Final = 17  # extra arrival rate at a level below half its equilibrium count
N_PARAMS_F: Final = 18

STATUS_DONE: Final = 0
STATUS_OUT_FULL: Final = 1
STATUS_NEED_RANDOM: Final = 2

_A: Final = 65  # ord("A")
_B: Final = 66  # ord("B")
_C: Final = 67  # ord("C")
_T: Final = 84  # ord("T")

FILL_TRADE: Final = 1
FILL_PICKED_OFF: Final = 2
CANCEL_OUT_OF_BOOK: Final = 3
CANCEL_BY_US: Final = 4
ERR_MARKETABLE: Final = -1
ERR_TOO_DEEP: Final = -2
ERR_NOT_RESTING: Final = -3


@register_jitable
def _reserves(V: int, K: int) -> tuple[int, int, int]:
    rows = 2 * K + 4 * K * V + 16
    normals = 8 * K * V + 16
    uniforms = 16
    return rows, normals, uniforms


@register_jitable
def _lognormal_size(logmed: float, logsd: float, z: float) -> int:
    return max(1, math.floor(math.exp(logmed + logsd * z) + 0.5))


@register_jitable
def _price(tick_index: int, tpu: int) -> float:
    return tick_index / tpu


@register_jitable
def _level_tick(anchor: int, s: int, k: int) -> int:
    if s == 0:
        return anchor - k
    return anchor + 1 + k


@register_jitable
def _disp_index(bsz: np.ndarray, v: int, s: int, k: int) -> int:
    j = 0
    for m in range(k):
        if bsz[v, s, m] > 0:
            j += 1
    return j


@register_jitable
def _fresh(
    bsz: np.ndarray,
    bct: np.ndarray,
    v: int,
    s: int,
    k: int,
    fresh_mean: np.ndarray,
    params_f: np.ndarray,
    rn: np.ndarray,
    rpos: np.ndarray,
) -> None:
    z1 = rn[rpos[1]]
    z2 = rn[rpos[1] + 1]
    rpos[1] += 2
    c_bar = fresh_mean[v, k]
    ct = max(1, math.floor(c_bar + math.sqrt(c_bar) * z1 + 0.5))
    mean = params_f[Q_LO_MEAN]
    cv = params_f[Q_LO_CV]
    sz = math.floor(ct * mean * (1.0 + cv / math.sqrt(ct) * z2) + 0.5)
    bsz[v, s, k] = max(ct, sz)
    bct[v, s, k] = ct


@register_jitable
def _emit(
    v: int,
    ts: int,
    action: int,
    side: int,
    depth: int,
    price: float,
    size: int,
    own: int,
    anchor: int,
    bsz: np.ndarray,
    bct: np.ndarray,
    L: int,
    tpu: int,
    istate: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    n = istate[I_OUT_N]
    out_i[n, 0] = ts
    out_i[n, 1] = v
    out_i[n, 2] = action
    out_i[n, 3] = side
    out_i[n, 4] = depth
    out_i[n, 5] = size
    out_i[n, 6] = own
    out_px[n] = price
    K = bsz.shape[2]
    for s in range(2):
        j = 0
        for k in range(K):
            if j >= L:
                break
            if bsz[v, s, k] > 0:
                out_bpx[n, s * L + j] = _price(_level_tick(anchor, s, k), tpu)
                out_bsz[n, s * L + j] = bsz[v, s, k]
                out_bsz[n, 2 * L + s * L + j] = bct[v, s, k]
                j += 1
        while j < L:
            out_bpx[n, s * L + j] = np.nan
            out_bsz[n, s * L + j] = 0
            out_bsz[n, 2 * L + s * L + j] = 0
            j += 1
    istate[I_OUT_N] = n + 1


@register_jitable
def _impact_now(istate: np.ndarray, fstate: np.ndarray, params_f: np.ndarray, t: int) -> float:
    dt = t - istate[I_T_IMP]
    if dt > 0:
        fstate[F_IMP] = fstate[F_IMP] * math.exp(-params_f[Q_BETA] * (dt * 1e-9))
        istate[I_T_IMP] = t
    imp: float = fstate[F_IMP]
    return imp


@register_jitable
def _record(
    fill_i: np.ndarray, istate: np.ndarray, slot: int, ts: int, tick: int, qty: int, kind: int
) -> None:
    n = istate[I_FILL_N]
    fill_i[n, 0] = slot
    fill_i[n, 1] = ts
    fill_i[n, 2] = tick
    fill_i[n, 3] = qty
    fill_i[n, 4] = kind
    istate[I_FILL_N] = n + 1


@register_jitable
def _close_orders_at(
    v: int,
    s: int,
    tick: int,
    kind: int,
    t: int,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    istate: np.ndarray,
) -> None:
    for o in range(own_i.shape[0]):
        if own_i[o, 0] == 1 and own_i[o, 1] == v and own_i[o, 2] == s and own_i[o, 3] == tick:
            _record(fill_i, istate, o, t, tick, own_i[o, 4], kind)
            own_i[o, 4] = 0
            own_i[o, 0] = 2 if kind == FILL_PICKED_OFF else 3
            own_f[o] = 0.0


@register_jitable
def _own_trade(
    v: int,
    s: int,
    k: int,
    tick: int,
    old: int,
    fill: int,
    t: int,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    istate: np.ndarray,
) -> None:
    # FIFO allocation of `fill` shares taken from a level of `old` shares among our orders
    consumed = 0
    closed = 0
    n_own = own_i.shape[0]
    for o in range(n_own):
        if own_i[o, 0] != 1 or own_i[o, 1] != v or own_i[o, 2] != s or own_i[o, 3] != tick:
            continue
        rem = own_i[o, 4]
        ahead = own_f[o]
        lim = float(old - rem)
        ahead = min(ahead, lim)
        ahead = max(ahead, 0.0)
        if fill >= old:
            f = rem
        else:
            f = math.floor(fill - ahead)
            f = max(0, min(f, rem, fill - consumed))
        own_f[o] = max(ahead - fill, 0.0)
        if f > 0:
            _record(fill_i, istate, o, t, tick, f, FILL_TRADE)
            own_i[o, 4] = rem - f
            consumed += f
            if rem - f == 0:
                own_i[o, 0] = 2
                closed += 1
    # consistency: our remaining shares cannot exceed what is left at the level
    excess = (osz[v, s, k, 0] - consumed) - (old - fill)
    if excess > 0:
        for o in range(n_own):
            if excess <= 0:
                break
            if own_i[o, 0] != 1 or own_i[o, 1] != v or own_i[o, 2] != s or own_i[o, 3] != tick:
                continue
            f = min(excess, own_i[o, 4])
            _record(fill_i, istate, o, t, tick, f, FILL_TRADE)
            own_i[o, 4] -= f
            consumed += f
            excess -= f
            if own_i[o, 4] == 0:
                own_i[o, 0] = 2
                closed += 1
    osz[v, s, k, 0] -= consumed
    osz[v, s, k, 1] -= closed


@register_jitable
def _walk(
    v: int,
    sgn: int,
    qty: int,
    own: int,
    t: int,
    istate: np.ndarray,
    fstate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    params_i: np.ndarray,
    params_f: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> int:
    K = params_i[P_K]
    L = params_i[P_L]
    tpu = params_i[P_TPU]
    anchor = istate[I_ANCHOR]
    s = 1 if sgn > 0 else 0  # a buy consumes the asks
    aggressor = _B if sgn > 0 else _A
    rem = qty
    depth = 0
    for k in range(K):
        if rem <= 0:
            break
        old = bsz[v, s, k]
        if old <= 0:
            continue
        fill = min(rem, old)
        new = old - fill
        tick = _level_tick(anchor, s, k)
        if osz[v, s, k, 1] > 0:
            _own_trade(v, s, k, tick, old, fill, t, osz, own_i, own_f, fill_i, istate)
        bsz[v, s, k] = new
        ct = (bct[v, s, k] * new + old - 1) // old
        bct[v, s, k] = max(ct, osz[v, s, k, 1])
        rem -= fill
        _emit(
            v, t, _T, aggressor, depth, _price(tick, tpu), fill, own, anchor, bsz, bct, L, tpu,
            istate, out_i, out_px, out_bpx, out_bsz,
        )  # fmt: skip
        depth += 1
    executed = qty - rem
    if executed > 0:
        imp = _impact_now(istate, fstate, params_f, t)
        fstate[F_IMP] = imp + params_f[Q_LAM_S] * sgn * executed
    return executed


@register_jitable
def _emit_two_anchor(
    v: int,
    ts: int,
    action: int,
    side: int,
    price: float,
    size: int,
    old_anchor: int,
    new_anchor: int,
    lose: int,
    bsz: np.ndarray,
    bct: np.ndarray,
    L: int,
    tpu: int,
    istate: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    # Snapshot in the middle of a one-tick shift: the losing side already sits on the new
    # anchor's grid, the gaining side still on the old one.
    _emit(
        v, ts, action, side, 0, price, size, 0, new_anchor, bsz, bct, L, tpu,
        istate, out_i, out_px, out_bpx, out_bsz,
    )  # fmt: skip
    n = istate[I_OUT_N] - 1
    gain = 1 - lose
    K = bsz.shape[2]
    j = 0
    for k in range(K):
        if j >= L:
            break
        if bsz[v, gain, k] > 0:
            out_bpx[n, gain * L + j] = _price(_level_tick(old_anchor, gain, k), tpu)
            j += 1


@register_jitable
def _shift_one(
    up: bool,
    t: int,
    istate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    params_i: np.ndarray,
    params_f: np.ndarray,
    fresh_mean: np.ndarray,
    rn: np.ndarray,
    rpos: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    V = params_i[P_V]
    K = params_i[P_K]
    L = params_i[P_L]
    tpu = params_i[P_TPU]
    old_anchor = istate[I_ANCHOR]
    new_anchor = old_anchor + 1 if up else old_anchor - 1
    # side that loses its touch (crossed by the new fair price) and side that gains one
    lose = 1 if up else 0
    gain = 0 if up else 1
    gone_tick = _level_tick(old_anchor, lose, 0)
    dropped_tick = _level_tick(old_anchor, gain, K - 1)
    for v in range(V):
        gone_sz = bsz[v, lose, 0]
        if osz[v, lose, 0, 1] > 0:
            _close_orders_at(v, lose, gone_tick, FILL_PICKED_OFF, t, own_i, own_f, fill_i, istate)
        if osz[v, gain, K - 1, 1] > 0:
            _close_orders_at(
                v, gain, dropped_tick, CANCEL_OUT_OF_BOOK, t, own_i, own_f, fill_i, istate
            )
        for k in range(K - 1):
            bsz[v, lose, k] = bsz[v, lose, k + 1]
            bct[v, lose, k] = bct[v, lose, k + 1]
            osz[v, lose, k, 0] = osz[v, lose, k + 1, 0]
            osz[v, lose, k, 1] = osz[v, lose, k + 1, 1]
        osz[v, lose, K - 1, 0] = 0
        osz[v, lose, K - 1, 1] = 0
        _fresh(bsz, bct, v, lose, K - 1, fresh_mean, params_f, rn, rpos)
        if gone_sz > 0:
            _emit_two_anchor(
                v, t, _C, _A if lose == 1 else _B, _price(gone_tick, tpu), gone_sz,
                old_anchor, new_anchor, lose, bsz, bct, L, tpu, istate,
                out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
        for k in range(K - 1, 0, -1):
            bsz[v, gain, k] = bsz[v, gain, k - 1]
            bct[v, gain, k] = bct[v, gain, k - 1]
            osz[v, gain, k, 0] = osz[v, gain, k - 1, 0]
            osz[v, gain, k, 1] = osz[v, gain, k - 1, 1]
        osz[v, gain, 0, 0] = 0
        osz[v, gain, 0, 1] = 0
        _fresh(bsz, bct, v, gain, 0, fresh_mean, params_f, rn, rpos)
        _emit(
            v, t, _A, _B if gain == 0 else _A, 0,
            _price(_level_tick(new_anchor, gain, 0), tpu), bsz[v, gain, 0], 0,
            new_anchor, bsz, bct, L, tpu, istate, out_i, out_px, out_bpx, out_bsz,
        )  # fmt: skip
    istate[I_ANCHOR] = new_anchor


@register_jitable
def _replace_all(
    new_anchor: int,
    t: int,
    istate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    params_i: np.ndarray,
    params_f: np.ndarray,
    fresh_mean: np.ndarray,
    rn: np.ndarray,
    rpos: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    V = params_i[P_V]
    K = params_i[P_K]
    L = params_i[P_L]
    tpu = params_i[P_TPU]
    old_anchor = istate[I_ANCHOR]
    for v in range(V):
        for s in range(2):
            for k in range(K - 1, -1, -1):
                tick = _level_tick(old_anchor, s, k)
                if osz[v, s, k, 1] > 0:
                    crossed = tick > new_anchor if s == 0 else tick <= new_anchor
                    kind = FILL_PICKED_OFF if crossed else CANCEL_OUT_OF_BOOK
                    _close_orders_at(v, s, tick, kind, t, own_i, own_f, fill_i, istate)
                    osz[v, s, k, 0] = 0
                    osz[v, s, k, 1] = 0
                sz = bsz[v, s, k]
                if sz > 0:
                    bsz[v, s, k] = 0
                    bct[v, s, k] = 0
                    _emit(
                        v, t, _C, _B if s == 0 else _A, _disp_index(bsz, v, s, k),
                        _price(tick, tpu), sz, 0, old_anchor,
                        bsz, bct, L, tpu, istate, out_i, out_px, out_bpx, out_bsz,
                    )  # fmt: skip
    istate[I_ANCHOR] = new_anchor
    for v in range(V):
        for s in range(2):
            for k in range(K):
                _fresh(bsz, bct, v, s, k, fresh_mean, params_f, rn, rpos)
                _emit(
                    v, t, _A, _B if s == 0 else _A, _disp_index(bsz, v, s, k),
                    _price(_level_tick(new_anchor, s, k), tpu), bsz[v, s, k], 0, new_anchor,
                    bsz, bct, L, tpu, istate, out_i, out_px, out_bpx, out_bsz,
                )  # fmt: skip


@register_jitable
def _recentre(
    t: int,
    istate: np.ndarray,
    fstate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    params_i: np.ndarray,
    params_f: np.ndarray,
    fresh_mean: np.ndarray,
    rn: np.ndarray,
    rpos: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    K = params_i[P_K]
    tpu = params_i[P_TPU]
    fair = fstate[F_S0] + _impact_now(istate, fstate, params_f, t)
    x = fair * tpu
    anchor = istate[I_ANCHOR]
    hyst = params_f[Q_HYST]
    if anchor - hyst <= x <= anchor + 1 + hyst:
        return
    new_anchor = math.floor(x)
    d = new_anchor - anchor
    istate[I_N_RECENTRE] += 1
    if d > K or d < -K:
        _replace_all(
            new_anchor, t, istate, bsz, bct, osz, own_i, own_f, fill_i, params_i, params_f,
            fresh_mean, rn, rpos, out_i, out_px, out_bpx, out_bsz,
        )  # fmt: skip
        return
    up = d > 0
    for _ in range(abs(d)):
        _shift_one(
            up, t, istate, bsz, bct, osz, own_i, own_f, fill_i, params_i, params_f,
            fresh_mean, rn, rpos, out_i, out_px, out_bpx, out_bsz,
        )  # fmt: skip


@register_jitable
def _arrival_rate(
    bsz: np.ndarray,
    bct: np.ndarray,
    lo_rate: np.ndarray,
    fresh_mean: np.ndarray,
    refill: float,
    replenish: float,
    v: int,
    s: int,
    k: int,
) -> float:
    a: float = lo_rate[v, k]
    if bsz[v, s, k] == 0:
        a += refill
    if bct[v, s, k] < 0.5 * fresh_mean[v, k]:
        a += replenish
    return a


@register_jitable
def _total_rate(
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    lo_rate: np.ndarray,
    mo_rate: np.ndarray,
    fresh_mean: np.ndarray,
    cancel: float,
    refill: float,
    replenish: float,
) -> float:
    V = bsz.shape[0]
    K = bsz.shape[2]
    total = 0.0
    for v in range(V):
        for s in range(2):
            for k in range(K):
                total += _arrival_rate(bsz, bct, lo_rate, fresh_mean, refill, replenish, v, s, k)
                total += cancel * (bct[v, s, k] - osz[v, s, k, 1])
        total += mo_rate[v]
    return total


@register_jitable
def _place_limit(
    t: int,
    cmd: np.ndarray,
    istate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    params_i: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    K = params_i[P_K]
    L = params_i[P_L]
    tpu = params_i[P_TPU]
    v = cmd[1]
    s = 0 if cmd[2] > 0 else 1  # a buy rests on the bid
    qty = cmd[3]
    tick = cmd[6]
    anchor = istate[I_ANCHOR]
    k = anchor - tick if s == 0 else tick - anchor - 1
    if k < 0:
        cmd[4] = ERR_MARKETABLE
        return
    if k >= K:
        cmd[4] = ERR_TOO_DEEP
        return
    slot = -1
    for o in range(own_i.shape[0]):
        if own_i[o, 0] == 0:
            slot = o
            break
    if slot < 0:
        cmd[4] = ERR_NOT_RESTING
        return
    own_i[slot, 0] = 1
    own_i[slot, 1] = v
    own_i[slot, 2] = s
    own_i[slot, 3] = tick
    own_i[slot, 4] = qty
    own_i[slot, 5] = qty
    own_f[slot] = float(bsz[v, s, k])  # joins the back of the queue
    bsz[v, s, k] += qty
    bct[v, s, k] += 1
    osz[v, s, k, 0] += qty
    osz[v, s, k, 1] += 1
    _emit(
        v, t, _A, _B if s == 0 else _A, _disp_index(bsz, v, s, k), _price(tick, tpu), qty, 1,
        anchor, bsz, bct, L, tpu, istate, out_i, out_px, out_bpx, out_bsz,
    )  # fmt: skip
    cmd[4] = slot


@register_jitable
def _cancel_limit(
    t: int,
    cmd: np.ndarray,
    istate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    params_i: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
) -> None:
    L = params_i[P_L]
    tpu = params_i[P_TPU]
    o = cmd[7]
    if o < 0 or o >= own_i.shape[0] or own_i[o, 0] != 1:
        cmd[4] = ERR_NOT_RESTING
        return
    v = own_i[o, 1]
    s = own_i[o, 2]
    tick = own_i[o, 3]
    rem = own_i[o, 4]
    anchor = istate[I_ANCHOR]
    k = anchor - tick if s == 0 else tick - anchor - 1
    for p in range(own_i.shape[0]):
        if (
            p != o
            and own_i[p, 0] == 1
            and own_i[p, 1] == v
            and own_i[p, 2] == s
            and own_i[p, 3] == tick
            and own_f[p] > own_f[o]
        ):
            own_f[p] = max(own_f[p] - rem, 0.0)
    depth = _disp_index(bsz, v, s, k)
    bsz[v, s, k] -= rem
    bct[v, s, k] = bct[v, s, k] - 1 if bsz[v, s, k] > 0 else 0
    osz[v, s, k, 0] -= rem
    osz[v, s, k, 1] -= 1
    own_i[o, 0] = 3
    own_i[o, 4] = 0
    own_f[o] = 0.0
    _record(fill_i, istate, o, t, tick, rem, CANCEL_BY_US)
    _emit(
        v, t, _C, _B if s == 0 else _A, depth, _price(tick, tpu), rem, 1, anchor, bsz, bct, L,
        tpu, istate, out_i, out_px, out_bpx, out_bsz,
    )  # fmt: skip
    cmd[4] = rem


def run_events_py(
    t_end: int,
    cmd: np.ndarray,
    istate: np.ndarray,
    fstate: np.ndarray,
    bsz: np.ndarray,
    bct: np.ndarray,
    osz: np.ndarray,
    own_i: np.ndarray,
    own_f: np.ndarray,
    fill_i: np.ndarray,
    params_i: np.ndarray,
    params_f: np.ndarray,
    lo_rate: np.ndarray,
    mo_rate: np.ndarray,
    fresh_mean: np.ndarray,
    ru: np.ndarray,
    rn: np.ndarray,
    rc: np.ndarray,
    rpos: np.ndarray,
    out_i: np.ndarray,
    out_px: np.ndarray,
    out_bpx: np.ndarray,
    out_bsz: np.ndarray,
    sec: np.ndarray,
) -> int:
    """Advance the market to ``t_end`` (ns) and run the pending external command there.

    Plain-Python twin of :func:`run_events`. Returns ``STATUS_DONE`` when the clock reached
    ``t_end`` and the command (if any) ran, ``STATUS_OUT_FULL`` when the output or fill buffers
    need draining, ``STATUS_NEED_RANDOM`` when a random buffer needs refilling; in the last two
    cases the state is consistent and the call can simply be repeated.
    """
    V = params_i[P_V]
    K = params_i[P_K]
    L = params_i[P_L]
    tpu = params_i[P_TPU]
    clock_ns = params_i[P_CLOCK_NS]
    steps_per_sec = params_i[P_STEPS_PER_SEC]
    res_rows, res_n, res_u = _reserves(V, K)
    cap = out_i.shape[0]
    cap_fill = fill_i.shape[0] - own_i.shape[0] - 1
    n_u = ru.shape[0]
    n_n = rn.shape[0]
    cancel = params_f[Q_CANCEL]
    refill = params_f[Q_REFILL]
    replenish = params_f[Q_REPLENISH]
    while True:
        if istate[I_OUT_N] + res_rows > cap or istate[I_FILL_N] > cap_fill:
            return STATUS_OUT_FULL
        if rpos[0] + res_u > n_u or rpos[1] + res_n > n_n:
            return STATUS_NEED_RANDOM
        if istate[I_NEXT_EVENT] < 0:
            total = _total_rate(
                bsz, bct, osz, lo_rate, mo_rate, fresh_mean, cancel, refill, replenish
            )
            fstate[F_RATE] = total
            u = ru[rpos[0]]
            rpos[0] += 1
            wait = -math.log(1.0 - u) / total
            istate[I_NEXT_EVENT] = istate[I_T_NOW] + int(wait * 1e9) + 1
        t_next = min(istate[I_NEXT_EVENT], istate[I_NEXT_CLOCK])
        if t_next > t_end:
            break
        if istate[I_NEXT_CLOCK] <= istate[I_NEXT_EVENT]:
            # ---- clock step: latent price, drift, impact decay, re-centring ----
            t = istate[I_NEXT_CLOCK]
            istate[I_T_NOW] = t
            istate[I_NEXT_CLOCK] = t + clock_ns
            istate[I_NEXT_EVENT] = -1
            # the fundamental's own pre-drawn normals, by clock step (independent of the flow)
            j = 2 * istate[I_STEP]
            z1 = rc[j] if j + 1 < rc.shape[0] else 0.0
            z2 = rc[j + 1] if j + 1 < rc.shape[0] else 0.0
            mu = fstate[F_MU]
            fstate[F_S0] = fstate[F_S0] + mu * params_f[Q_MU_DRIFT] + params_f[Q_S0_SD] * z2
            fstate[F_MU] = mu * params_f[Q_MU_A] + params_f[Q_MU_SD] * z1
            imp = _impact_now(istate, fstate, params_f, t)
            step = istate[I_STEP] + 1
            istate[I_STEP] = step
            if step % steps_per_sec == 0:
                i_sec = step // steps_per_sec
                if i_sec < sec.shape[0]:
                    sec[i_sec, 0] = fstate[F_S0]
                    sec[i_sec, 1] = fstate[F_MU]
                    sec[i_sec, 2] = imp
            _recentre(
                t, istate, fstate, bsz, bct, osz, own_i, own_f, fill_i, params_i, params_f,
                fresh_mean, rn, rpos, out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
            continue
        # ---- one book event: select it with the rates of the current state ----
        # (the state has not changed since the waiting time was drawn: every change resets
        # the pending event, so the total rate of that draw still holds)
        t = istate[I_NEXT_EVENT]
        istate[I_T_NOW] = t
        istate[I_NEXT_EVENT] = -1
        total = fstate[F_RATE]
        target = ru[rpos[0]] * total
        rpos[0] += 1
        acc = 0.0
        kind = -1  # 0 add, 1 cancel, 2 market order
        ev_v = V - 1
        ev_s = 0
        ev_k = 0
        for v in range(V):
            for s in range(2):
                for k in range(K):
                    acc += _arrival_rate(bsz, bct, lo_rate, fresh_mean, refill, replenish, v, s, k)
                    if target < acc:
                        kind = 0
                        ev_v = v
                        ev_s = s
                        ev_k = k
                        break
                    acc += cancel * (bct[v, s, k] - osz[v, s, k, 1])
                    if target < acc:
                        kind = 1
                        ev_v = v
                        ev_s = s
                        ev_k = k
                        break
                if kind >= 0:
                    break
            if kind >= 0:
                break
            acc += mo_rate[v]
            if target < acc:
                kind = 2
                ev_v = v
                break
        if kind < 0:
            kind = 2  # rounding at the very end of the cumulative sum
        anchor = istate[I_ANCHOR]
        side_code = _B if ev_s == 0 else _A
        tick = _level_tick(anchor, ev_s, ev_k)
        if kind == 0:
            size = _lognormal_size(params_f[Q_LO_LOGMED], params_f[Q_LO_LOGSD], rn[rpos[1]])
            rpos[1] += 1
            bsz[ev_v, ev_s, ev_k] += size
            bct[ev_v, ev_s, ev_k] += 1
            _emit(
                ev_v, t, _A, side_code, _disp_index(bsz, ev_v, ev_s, ev_k), _price(tick, tpu),
                size, 0, anchor, bsz, bct, L, tpu, istate, out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
        elif kind == 1:
            own_s = osz[ev_v, ev_s, ev_k, 0]
            own_c = osz[ev_v, ev_s, ev_k, 1]
            o_sz = bsz[ev_v, ev_s, ev_k] - own_s
            o_ct = bct[ev_v, ev_s, ev_k] - own_c
            rm = o_sz if o_ct <= 1 else min(o_sz, max(1, math.floor(o_sz / o_ct + 0.5)))
            if own_c > 0 and o_sz > 0:
                # expected queue position: the cancelled order was ahead of ours with the
                # probability that a share of the others is ahead of us
                for o in range(own_i.shape[0]):
                    if (
                        own_i[o, 0] == 1
                        and own_i[o, 1] == ev_v
                        and own_i[o, 2] == ev_s
                        and own_i[o, 3] == tick
                    ):
                        ahead_others = min(own_f[o], float(o_sz))
                        own_f[o] = max(own_f[o] - rm * ahead_others / o_sz, 0.0)
            depth = _disp_index(bsz, ev_v, ev_s, ev_k)
            new_o_sz = o_sz - rm
            new_o_ct = o_ct - 1 if new_o_sz > 0 else 0
            bsz[ev_v, ev_s, ev_k] = new_o_sz + own_s
            bct[ev_v, ev_s, ev_k] = new_o_ct + own_c
            if rm > 0:
                _emit(
                    ev_v, t, _C, side_code, depth, _price(tick, tpu), rm, 0, anchor, bsz, bct,
                    L, tpu, istate, out_i, out_px, out_bpx, out_bsz,
                )  # fmt: skip
        else:
            p_buy = 1.0 / (1.0 + math.exp(-params_f[Q_TILT] * fstate[F_MU] / params_f[Q_SIGMA_MU]))
            sgn = 1 if ru[rpos[0]] < p_buy else -1
            rpos[0] += 1
            qty = _lognormal_size(params_f[Q_MO_LOGMED], params_f[Q_MO_LOGSD], rn[rpos[1]])
            rpos[1] += 1
            executed = _walk(
                ev_v, sgn, qty, 0, t, istate, fstate, bsz, bct, osz, own_i, own_f, fill_i,
                params_i, params_f, out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
            if executed < qty:
                istate[I_N_TRUNC] += 1
            _recentre(
                t, istate, fstate, bsz, bct, osz, own_i, own_f, fill_i, params_i, params_f,
                fresh_mean, rn, rpos, out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
    # ---- the clock is at t_end: run the external command, if any ----
    istate[I_T_NOW] = max(istate[I_T_NOW], t_end)
    if cmd[0] != 0 and cmd[5] == 0:
        t = istate[I_T_NOW]
        if cmd[0] == 1:
            cmd[4] = _walk(
                cmd[1], cmd[2], cmd[3], 1, t, istate, fstate, bsz, bct, osz, own_i, own_f,
                fill_i, params_i, params_f, out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
            _recentre(
                t, istate, fstate, bsz, bct, osz, own_i, own_f, fill_i, params_i, params_f,
                fresh_mean, rn, rpos, out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
        elif cmd[0] == 2:
            _place_limit(
                t, cmd, istate, bsz, bct, osz, own_i, own_f, params_i,
                out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
        else:
            _cancel_limit(
                t, cmd, istate, bsz, bct, osz, own_i, own_f, fill_i, params_i,
                out_i, out_px, out_bpx, out_bsz,
            )  # fmt: skip
        cmd[5] = 1
        istate[I_NEXT_EVENT] = -1  # the book changed: redraw the next event (memoryless)
    return STATUS_DONE


#: Compiled kernel (same signature and semantics as :func:`run_events_py`).
run_events = njit(cache=True)(run_events_py)
