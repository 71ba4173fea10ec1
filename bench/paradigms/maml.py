"""MAML speed: 1 000 sinusoid meta-iterations of MAML (target ≤ 30 s on 2 cores, snapshots and evaluation
included), the two-parameter section's compute and a whole-page rerun when α moves (target ≤ 0.3 s), and one
meta-step's time and autograd memory vs inner steps (MAML and FOMAML). torch runs one intra-op thread, as app.py sets."""
from __future__ import annotations

import time

import numpy as np
import torch

from bench.common import best_of, page_timings, report
from engine.paradigms import maml


def main() -> None:
    torch.set_num_threads(1)
    cfg = maml.SineConfig(max_steps=1000)
    for method in ("maml", "fomaml", "reptile", "pretrain"):
        t0 = time.perf_counter()
        last = list(maml.train_sine(method, cfg))[-1]
        wall = time.perf_counter() - t0
        if method == "maml":
            report("1 000 MAML meta-iterations, wall (s) vs 30 s", wall, 30.0)
        print(f"  {method:8s}: {wall:6.2f} s wall, {last.seconds:6.2f} s in meta-steps, "
              f"query MSE {last.metrics.get('query_mse', float('nan')):.3f}")
    from engine.figures.paradigms import maml as figs

    def section() -> None:                       # what the page's two-parameter fragment does on a slider move
        tasks = maml.make_tasks_2d("linreg", 8, np.random.default_rng(0))
        figs.plot_meta_2d(maml.meta_gradient_2d(tasks, np.array([1.0, -1.0]), 0.3, 5)).to_json()

    report("two-parameter section rerun (engine + figure JSON), 8 tasks, k = 5 (s)", best_of(section), 0.3)
    times = page_timings("pages/paradigms/maml.py", {"maml.two.alpha": [0.1, 0.2, 0.4, 0.6]})
    print(f"  (whole-page AppTest rerun when α moves, median {np.median(times['maml.two.alpha']):.2f} s; in the "
          f"app the section is a fragment, so only it reruns; cold first render {times['cold']:.1f} s)")
    cost = maml.measure_cost([1, 2, 3, 4, 5], maml.SineConfig())
    for m in ("maml", "fomaml"):
        print(f"  one meta-step, {m:6s}: " + ", ".join(f"k={k}: {1e3 * s:.1f} ms / {b / 1e3:.0f} kB"
                                                      for k, s, b in zip(cost.steps, cost.seconds[m],
                                                                         cost.saved_bytes[m])))
