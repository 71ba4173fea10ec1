"""WideResNet targets (issue 6), each printed as a ratio against a reference measured in this run:

1. Counting a WRN / thin ResNet (cold cache) with the per-block path vs the whole network on the meta device
   (count_full): ratio ≤ 1; and against the 0.5 s slider target.
2. Page rerun after a slider change (depth, then k), headless AppTest in a fresh process: p95 ≤ 0.5 s.
"""
from __future__ import annotations

import numpy as np

from bench.common import best_of, page_timings, report



def _cold(fn, *args):
    from engine.vision import wideresnet as wrn

    def run():
        wrn.profile.cache_clear()
        wrn._block_cost.cache_clear()
        fn(*args)
    return run


def bench_counting() -> None:
    from engine.vision import wideresnet as wrn

    wrn.count_full("wrn", 16, 2)                               # warm-up: imports, dispatcher
    for arch, depth, k in (("wrn", 28, 10), ("wrn", 100, 12), ("preact", 1001, 1)):
        ours = best_of(_cold(wrn.profile, arch, depth, k), repeat=3)
        ref = best_of(_cold(wrn.count_full, arch, depth, k), repeat=3)
        name = f"WRN-{depth}-{k}" if arch == "wrn" else f"ResNet-{depth}"
        report(f"count {name} cold: per-block / whole network", ours, ref, target=1.0)
        report(f"count {name} cold (s) vs 0.5 s slider target", ours, 0.5, target=1.0)


def bench_page() -> None:
    res = page_timings("pages/vision/wideresnet.py", {
        "wideresnet.depth": [16, 22, 34, 40, 52, 10, 64, 28], "wideresnet.k": [1, 2, 4, 6, 8, 12, 3, 10]})
    print(f"  (cold first render {res['cold']:.2f} s)")
    for key in ("wideresnet.depth", "wideresnet.k"):
        report(f"page rerun after {key.split('.')[1]} change, p95 (s) vs 0.5 s", float(np.percentile(res[key], 95)),
               0.5, target=1.0)


def main() -> None:
    bench_counting()
    bench_page()


if __name__ == "__main__":
    main()
