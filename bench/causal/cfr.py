"""CFR targets (issue 19), printed as ratios against their budgets:

1. TARNet and CFR (Wasserstein and MMD) on IHDP, trained round robin as the live page streams them: the wall time until
   √PEHE (test) is stable — within 10 % of its final value from then on over the page's 1 000 steps — ≤ 30 s.
2. Peak memory allocated (tracemalloc) by the data and the runs ≤ 300 MB (the page's budget); the whole process's
   peak RSS (torch included) is printed for reference.
"""
from __future__ import annotations

import resource
import time
import tracemalloc

from bench.common import report


def main() -> None:
    from engine.causal import cfr

    import torch

    torch.set_num_threads(1)          # as app.py runs every page (a separate benchmark process)

    tracemalloc.start()
    d = cfr.ihdp(0)
    for model, ipm in (("tarnet", "wass"), ("cfr", "wass"), ("cfr", "mmd")):
        cfg = cfr.Config(model=model, ipm=ipm, alpha=1.0, max_steps=1000, snapshot_every=10)
        t0 = time.perf_counter()
        trace = [(time.perf_counter() - t0, s.metrics["pehe_out"]) for s in cfr.train(d, cfg)]
        final = trace[-1][1]
        stable_at = next(t for i, (t, _) in enumerate(trace)
                         if all(abs(v - final) <= 0.1 * final for _, v in trace[i:]))
        print(f"  {model}/{ipm}: final √PEHE (test) {final:.3f} after {trace[-1][0]:.1f} s")
        report(f"IHDP {model} ({ipm}): time to stable √PEHE (s) vs 30 s", stable_at, 30.0)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    report("IHDP: peak memory allocated by data and the three runs (MB) vs 300 MB", peak, 300.0, unit="MB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (peak RSS of this whole process, torch included: {rss:.0f} MB)")


if __name__ == "__main__":
    main()
