"""Distributed training targets (issue #28: "first snapshot of any live training ≤ 1 s"), each printed against its
budget:

1. The live chart's first snapshot (three softmax-regression runs evaluated on 1 000 training and 1 000 test
   digits), ≤ 1 s, digits already loaded; one update of one run (32 digits, the stale gradient), ≤ 5 ms.
2. The page's static steps at their largest settings: data parallelism (B = 256, K = 7, unequal shards), the ring
   all-reduce simulation (K = 8, N = 24), GPipe's schedule (K = 8, M = 32), the cost model (K = 64): each ≤ 1 s.
3. The simulated ring against ``torch.distributed.all_reduce`` (gloo, 2 real local processes, spawn start-up
   included) on a 1 M-value vector: both times printed, and the largest difference; and the staleness result after
   the page's 400 updates (final loss and accuracy of each run at the defaults τ = 8, η = 1).
"""
from __future__ import annotations

import time

import numpy as np

from bench.common import report


def bench_live() -> None:
    from engine.common.digits import mnist_14 as digits_data
    from engine.engineering import parallel as P
    digits_data(0)
    t = time.perf_counter()
    it = P.train_async(P.AsyncConfig())
    next(it)
    report("live chart's first snapshot (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)
    x, y, _, _ = digits_data(0)
    batches = [(x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]) for i in range(100)]
    t = time.perf_counter()
    for _ in P.stale_sgd(np.zeros((197, 10)), batches, 8, 1.0):
        pass
    report("one stale-gradient update (ms) vs 5 ms", (time.perf_counter() - t) / 100 * 1e3, 5.0, unit="ms",
           target=1.0)
    for snap in it:
        pass
    for v, name in enumerate(snap.names):
        print(f"  {name:13s} τ = {snap.taus[v]:2d}, η = {snap.lrs[v]:.3f}: loss after {snap.step} updates "
              f"{snap.loss[v, -1]:.3f} (highest {snap.loss[v].max():.2f}), test accuracy {snap.test_acc[v, -1]:.3f}")


def bench_static() -> None:
    from engine.engineering import parallel as P
    for name, fn in (("data parallelism, B = 256, K = 7", lambda: P.data_parallel(256, 7)),
                     ("ring all-reduce simulation, K = 8, N = 24", lambda: P.ring_allreduce(P.ring_inputs(8, 24))),
                     ("GPipe schedule, K = 8, M = 32", lambda: P.gpipe_schedule(8, 32)),
                     ("cost model, K = 1 … 64", lambda: P.cost_model(7e9, 64, 5e-6, 50e9, 2, 0.1, 8))):
        t = time.perf_counter()
        fn()
        report(f"{name} (s) vs 1 s", time.perf_counter() - t, 1.0, target=1.0)


def bench_gloo() -> None:
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from engine.engineering import parallel as P
    from oracles.parallel import gloo_all_reduce
    rows = np.random.default_rng(0).normal(size=(2, 1_000_000))
    t = time.perf_counter()
    sim = P.ring_allreduce(rows)
    t_sim = time.perf_counter() - t
    t = time.perf_counter()
    try:
        got = gloo_all_reduce(rows)
    except Exception as err:                                   # noqa: BLE001
        print(f"  gloo could not start here: {err!r}")
        return
    t_gloo = time.perf_counter() - t
    print(f"  1 M values, K = 2: simulated ring {t_sim:.3f} s, gloo all_reduce (2 processes, spawn included) "
          f"{t_gloo:.2f} s, largest difference {np.abs(sim.result - got).max():.1e}")


def main() -> None:
    bench_static()
    bench_live()
    bench_gloo()


if __name__ == "__main__":
    main()
