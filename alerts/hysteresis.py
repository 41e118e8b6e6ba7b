"""Hysteresis against flapping: raise after k consecutive breaches, clear after m normals.

Per-slot state lives in contiguous arrays (a slot is a sensor, or an air station's
representative sensor). :meth:`HysteresisBank.step` takes one *wave* — readings with
**distinct** slots — so each slot's counters advance exactly once per reading, in time
order, without a Python loop over readings (the engine splits a batch into waves by the
occurrence number of each sensor).

A reading is a *breach* (``rank > 0``), *normal* (``clear_ok``) or *in the band* between
the raise and the clear thresholds (neither): the band resets both runs, so an alert
needs ``k`` breaches in a row to rise and ``m`` normals in a row to clear.

>>> import numpy as np
>>> bank = HysteresisBank(np.array([2]), np.array([2]))
>>> s = np.array([0])
>>> [len(bank.step(s, np.array([1], np.int8), np.array([False]), np.array([t]))[0])
...  for t in (1, 2, 3)]
[0, 1, 0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

RAISE, CLEAR, UPGRADE = 1, 2, 3


class HysteresisBank:
    """Counters and active flags of many slots with per-slot ``raise_after``/``clear_after``.

    ``step`` returns ``(slots, events, ranks, ts)`` arrays of the transitions in the wave:
    ``RAISE`` (rank = worst rank of the breach run), ``CLEAR`` or ``UPGRADE`` (an active
    slot got worse; downgrades wait for the clear).
    """

    def __init__(self, raise_after: IntArray, clear_after: IntArray) -> None:
        n = len(raise_after)
        self.k = np.asarray(raise_after, np.int64)
        self.m = np.asarray(clear_after, np.int64)
        self.breaches = np.zeros(n, np.int64)
        self.normals = np.zeros(n, np.int64)
        self.run_rank = np.zeros(n, np.int8)
        self.active = np.zeros(n, bool)
        self.rank = np.zeros(n, np.int8)
        self.last_breach_ts = np.zeros(n, np.int64)

    def step(
        self, slots: IntArray, rank: npt.NDArray[np.int8], clear_ok: npt.NDArray[np.bool_],
        ts: IntArray,
    ) -> tuple[IntArray, npt.NDArray[np.int8], npt.NDArray[np.int8], IntArray]:
        breach = rank > 0
        act = self.active[slots]
        nb = np.where(breach, self.breaches[slots] + 1, 0)
        nn = np.where(clear_ok & ~breach, self.normals[slots] + 1, 0)
        rr = np.where(breach, np.maximum(self.run_rank[slots], rank), 0).astype(np.int8)
        up = act & breach & (rank > self.rank[slots])
        rise = ~act & (nb >= self.k[slots])
        clear = act & (nn >= self.m[slots])
        self.breaches[slots] = nb
        self.normals[slots] = nn
        self.run_rank[slots] = rr
        bts = self.last_breach_ts[slots]
        self.last_breach_ts[slots] = np.where(breach, ts, bts)
        if not (rise.any() or clear.any() or up.any()):
            return _EMPTY
        new_rank = np.where(rise, rr, np.where(up, rank, self.rank[slots]))
        new_rank = np.where(clear, 0, new_rank).astype(np.int8)
        self.rank[slots] = new_rank
        self.active[slots] = (act | rise) & ~clear
        ev = np.where(rise, RAISE, np.where(clear, CLEAR, UPGRADE)).astype(np.int8)
        sel = rise | clear | up
        return slots[sel], ev[sel], np.where(clear, rr, new_rank).astype(np.int8)[sel], ts[sel]

    def force_clear(self, slots: IntArray) -> None:
        """Reset slots (their alert was cleared by hand, or the sensor was retired)."""
        self.active[slots] = False
        self.rank[slots] = 0
        self.breaches[slots] = 0
        self.normals[slots] = 0
        self.run_rank[slots] = 0


_EMPTY: tuple[IntArray, npt.NDArray[np.int8], npt.NDArray[np.int8], IntArray] = (
    np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros(0, np.int8), np.zeros(0, np.int64))
