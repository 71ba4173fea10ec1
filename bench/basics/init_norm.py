"""Initialisation & normalisation targets (issue #26), each printed against its budget:

1. The deep-network statistics (forward + backward + histograms) at the page's largest setting (50 layers of 256
   units) and at its default (10 × 100): a slider change, ≤ 1 s.
2. The live chart's first snapshot (three nets' full-train-set loss and test accuracy), ≤ 1 s, digits already loaded.
3. One training step of the digits network (one variant: forward, backward, SGD update), ≤ 10 ms.
"""
from __future__ import annotations

import time

from bench.common import report


def bench_stats() -> None:
    from engine.basics import init_norm as I
    I.deep_stats("he", "gelu", 2, 25)                  # imports (scipy's erf) out of the timing
    for depth, width in ((10, 100), (50, 256)):
        t = time.perf_counter()
        I.deep_stats("he", "gelu", depth, width)
        report(f"deep_stats {depth} × {width}, GELU (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)


def bench_digits() -> None:
    import torch

    from engine.basics import init_norm as I
    from engine.common.digits import mnist_14 as digits_data
    torch.set_num_threads(1)                           # as the app runs it (OMP_NUM_THREADS=1 in app.py)
    t = time.perf_counter()
    digits_data(0)
    print(f"  digits load (first in a process): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    it = I.train_digits(I.DigitsConfig(steps=200, every=100))
    next(it)
    report("live chart's first snapshot (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)
    t = time.perf_counter()
    next(it)
    step = (time.perf_counter() - t) / 100 / len(I.VARIANTS)
    report("digits training step of one network (s) vs 10 ms", step, 0.010, target=1.0)


def main() -> None:
    bench_stats()
    bench_digits()


if __name__ == "__main__":
    main()
