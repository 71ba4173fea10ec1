"""Single flight: readers who ask for the same not-yet-computed thing at once wait for one computation of it.

`st.cache_resource` and `st.cache_data` already do this per key within a process (Streamlit 1.67 holds a lock per
value key while computing; tests/test_flight.py checks it), but a hand-made store does not: ten readers opening
LIME at once all ran the same explanation, and a reader who opened Grad-CAM while the warm-up computed its defaults
computed them a second time. `SingleFlight.do` makes one caller the owner; the others wait, seeing the owner's
progress, and get the owner's value (or, if the owner failed or was stopped, one of them computes it instead).

    flights = SingleFlight()
    value = flights.do(key, lookup=store.get, compute=lambda progress: work(progress), store=store.put,
                       waiting=lambda fraction: bar.progress(fraction))
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Hashable

POLL_S = 0.25          # how often a waiting caller reports the owner's progress (and a stopped run can leave)


class _Call:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.fraction = 0.0
        self.ok = False
        self.value: Any = None


class SingleFlight:
    """Per-key single flight among threads (see the module docstring). `computations` counts the computations
    started by owners (what the tests check)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Hashable, _Call] = {}
        self.computations = 0

    def in_flight(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._pending

    def do(self, key: Hashable, *, lookup: Callable[[Hashable], Any], compute: Callable[[Callable[[float], None]], Any],
           store: Callable[[Hashable, Any], None], progress: Callable[[float], None] | None = None,
           waiting: Callable[[float], None] | None = None) -> Any:
        """`lookup(key)` (None: not there), else `compute(progress)` once among concurrent callers, `store(key,
        value)`, and the value to every caller. The owner's `progress(fraction)` calls reach its own `progress` and
        every waiter's `waiting(fraction)` (called every POLL_S while it waits; it may raise to stop waiting)."""
        while True:
            with self._lock:
                hit = lookup(key)
                if hit is not None:
                    return hit
                call = self._pending.get(key)
                owner = call is None
                if owner:
                    call = self._pending[key] = _Call()
            if owner:
                return self._own(key, call, compute, store, progress)
            while not call.done.wait(POLL_S):
                if waiting is not None:
                    waiting(call.fraction)
            if call.ok:
                return call.value
            # the owner failed or its run was stopped: loop, and one of the waiters computes it

    def _own(self, key, call: _Call, compute, store, progress) -> Any:
        def report(fraction: float) -> None:
            call.fraction = float(min(max(fraction, 0.0), 1.0))
            if progress is not None:
                progress(call.fraction)

        try:
            with self._lock:
                self.computations += 1
            value = compute(report)
            store(key, value)
            call.value, call.ok = value, True
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            call.done.set()
