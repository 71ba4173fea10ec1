"""Small timing helpers shared by the benchmark modules (not a benchmark itself: main() lists nothing)."""
from __future__ import annotations

import time

import numpy as np


def best_of(fn, *, repeat: int = 5, number: int = 1) -> float:
    """Median seconds per call over `repeat` rounds of `number` calls (median: robust to a busy machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return float(np.median(times))


def report(name: str, value: float, reference: float, *, unit: str = "s", target: float = 1.0) -> None:
    """One line: value, reference, ratio value/reference and whether it meets `ratio ≤ target`."""
    ratio = value / reference
    verdict = "OK" if ratio <= target else "OVER"
    print(f"{name:<58} {value:10.4f} {unit} / {reference:10.4f} {unit} = ratio {ratio:6.3f} "
          f"(target ≤ {target:g}) {verdict}", flush=True)


def main() -> None:
    print("bench/common.py holds helpers only.")
