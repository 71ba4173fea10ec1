"""EfficientNet targets (issue 6), each printed as a ratio against a reference measured in this run:

1. Counting one configuration (cold cache) with the per-block path vs running the whole network on the meta
   device under FlopCounterMode (count_model_full): ratio ≤ 1; and against the 0.5 s slider target.
2. Page rerun after a slider change (α, then φ), headless AppTest in a fresh process: p95 ≤ 0.5 s.
3. Peak memory of counting B7 at 600 px in a fresh process, against the 1 GB limit.
4. Fitting the four strategies to one FLOPs budget (section 3: bisection over every distinct network), cold
   cache, at φ = 1, 3.5 and 7, against the 0.5 s slider target.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from bench.common import ROOT, best_of, page_timings, report


def _cold(fn, cfg):
    from engine.vision import efficientnet as eff

    def run():
        eff.profile.cache_clear()
        eff._block_cost.cache_clear()
        eff._block_structure.cache_clear()
        eff._conv_bn_act_cost.cache_clear()
        eff._classifier_cost.cache_clear()
        fn(*cfg)
    return run


def bench_counting() -> None:
    from engine.vision import efficientnet as eff

    eff.count_model_full(1.0, 1.0, 224)                       # warm-up: imports, dispatcher
    for name in ("B0", "B2", "B4", "B7"):
        cfg = eff.PRESETS[name]
        ours = best_of(_cold(eff.count_model, cfg), repeat=3)
        ref = best_of(_cold(eff.count_model_full, cfg), repeat=3)
        report(f"count {name} cold: per-block / whole network", ours, ref, target=1.0)
        if name != "B7":
            report(f"count {name} cold (s) vs 0.5 s slider target", ours, 0.5, target=1.0)


def bench_page() -> None:
    res = page_timings("pages/vision/efficientnet.py", {
        "efficientnet.alpha": [1.15, 1.25, 1.3, 1.1, 1.22, 1.18, 1.27, 1.12],
        "efficientnet.phi": [1.5, 2.0, 2.5, 3.0, 3.5, 0.5, 4.0, 0.0]})
    print(f"  (cold first render {res['cold']:.2f} s, B0–B7 presets counted once per process)")
    for key in ("efficientnet.alpha", "efficientnet.phi"):
        report(f"page rerun after {key.split('.')[1]} change, p95 (s) vs 0.5 s", float(np.percentile(res[key], 95)),
               0.5, target=1.0)


def bench_budget() -> None:
    from engine.vision import efficientnet as eff

    for phi in (1.0, 3.5, 7.0):
        t = best_of(_cold(eff.fit_budget, (eff.budget_target(phi),)), repeat=3)
        report(f"fit the budget at phi={phi:g}, cold (s) vs 0.5 s slider target", t, 0.5, target=1.0)


MEM_PROBE = r"""
import resource, sys
sys.path.insert(0, {root!r})
from engine.vision import efficientnet as eff
eff.count_model_full(1.0, 1.0, 32)            # imports torchvision and the flop counter first
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
eff.count_model(2.0, 3.1, 600)
eff.count_model_full(2.0, 3.1, 600)
print(before / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def bench_memory() -> None:
    out = subprocess.run([sys.executable, "-c", MEM_PROBE.format(root=str(ROOT))], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    before, after = map(float, out.stdout.split())
    print(f"  (process peak RSS {after:.0f} MB, of which imports and a tiny warm-up count {before:.0f} MB)")
    report("B7 at 600 px: extra peak RSS of counting (MB) vs 1 GB", max(after - before, 1.0), 1024.0,
           unit="MB", target=1.0)


def main() -> None:
    bench_counting()
    bench_budget()
    bench_memory()
    bench_page()


if __name__ == "__main__":
    main()
