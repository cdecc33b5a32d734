"""Timing shared by the benchmark scripts: the best of several runs, CPU and wall."""

from __future__ import annotations

import os
import time


def timed(fn, repeat):
    """((cpu_seconds, wall_seconds), result): the fastest of ``repeat`` calls of ``fn``.

    CPU time is user + system of this process (os.times), so it stays meaningful on a
    shared machine where wall time does not.
    """
    best, out = (float("inf"), float("inf")), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), os.times()
        out = fn()
        c1 = os.times()
        best = min(best, (c1.user - c0.user + c1.system - c0.system, time.perf_counter() - t0))
    return best, out
