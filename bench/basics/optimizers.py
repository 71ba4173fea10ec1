"""Optimisers chapter targets (issue #26), each printed against its budget:

1. The 2-D race: updates per second of each optimiser (all seven advance together), ≥ 2 000 on every surface.
2. The digits network: one training step (forward, backward, update) of one optimiser's MLP, ≤ 10 ms.
3. The first snapshot of the race and of the digits training (what the page shows before Train), ≤ 1 s, with the
   digits already loaded (the data load itself is printed apart).
"""
from __future__ import annotations

import time

from bench.common import report


def bench_race() -> None:
    from engine.basics import optimizers as O
    for surface in O.SURFACES:
        it = O.race(O.RaceConfig(surface=surface, steps=2000, every=2000))
        next(it)
        t = time.perf_counter()
        next(it)
        dt = time.perf_counter() - t
        report(f"race on {surface}: s per step (all 7) vs 1/2 000 s", dt / 2000, 1 / 2000, target=1.0)
        print(f"    ({2000 / dt:,.0f} steps/s for each of 7 optimisers)")


def bench_digits() -> None:
    from engine.basics import optimizers as O
    t = time.perf_counter()
    O.digits_data(0)
    print(f"  digits load (first in a process): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    it = O.train_digits(O.DigitsConfig(steps=200, every=100))
    next(it)
    first = time.perf_counter() - t
    report("digits first snapshot (s) vs 1 s", first, 1.0, target=1.0)
    t = time.perf_counter()
    next(it)
    step = (time.perf_counter() - t) / 100 / 7
    report("digits training step of one MLP (s) vs 10 ms", step, 0.010, target=1.0)
    t = time.perf_counter()
    next(O.race(O.RaceConfig()))
    report("race first snapshot (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)


def main() -> None:
    bench_race()
    bench_digits()


if __name__ == "__main__":
    main()
