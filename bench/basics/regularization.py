"""Regularisation targets (issue #26), each printed against its budget:

1. The live chart's first snapshot (five nets evaluated on 200 training and 1 000 validation digits), ≤ 1 s, digits
   already loaded.
2. One training step of the digits network (one variant, full batch of 200: forward, backward, Adam), ≤ 10 ms.
3. The L1/L2 geometry (both optima and both 60-point λ paths, ISTA to convergence): a slider change, ≤ 1 s; the
   dropout demo at its largest setting (10 000 masks), ≤ 1 s.
4. Over-fitting made visible: the plain net's validation loss turns up (step of its minimum) while its training loss
   falls below 0.01, and the early-stopping accuracy of each variant after the page's 600 steps.
"""
from __future__ import annotations

import time

from bench.common import report


def bench_live() -> None:
    import torch

    from engine.basics import regularization as R
    from engine.common.digits import mnist_14 as digits_data
    torch.set_num_threads(1)
    digits_data(0)
    t = time.perf_counter()
    it = R.train_overfit(R.OverfitConfig())
    next(it)
    report("live chart's first snapshot (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)
    t = time.perf_counter()
    snap = next(it)
    report("training step of one network (s) vs 10 ms", (time.perf_counter() - t) / 20 / len(R.VARIANTS), 0.010,
           target=1.0)
    for snap in it:
        pass
    k = snap.names.index("plain")
    print(f"  plain: training loss {snap.train_loss[k, -1]:.4f}, validation loss lowest at step {snap.best_step[k]}"
          f" then {snap.val_loss[k, -1]:.3f} at step {snap.step}")
    for k, v in enumerate(snap.names):
        print(f"  {v:8s} validation accuracy at the early-stopping point {snap.best_acc[k]:.3f}, "
              f"at the end {snap.val_acc[k, -1]:.3f}; first-layer |w| < 1e-3: {snap.near_zero[k]:.0%}")


def bench_static() -> None:
    from engine.basics import regularization as R
    t = time.perf_counter()
    R.penalized_2d((1.5, 0.6), 25.0, 30, 1.0)
    report("L1/L2 geometry with paths (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)
    h = R.digit_activations()
    t = time.perf_counter()
    R.dropout_masks(h, 0.5, 10_000)
    report("dropout demo, 10 000 masks (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)


def main() -> None:
    bench_static()
    bench_live()


if __name__ == "__main__":
    main()
