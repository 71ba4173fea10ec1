"""Continual-learning speed: one 5-task run per method at the page's defaults (300 steps per task), streamed
(snapshots every 25 steps, the matrix evaluated at each), class-incremental. Targets from issue #17: fine-tuning
≤ 20 s, Deep Generative Replay ≤ 120 s, on 2 cores; torch runs one intra-op thread, as app.py sets. Also the time
to the first filled row (what the reader waits for) and the final ACC/BWT."""
from __future__ import annotations

import time

import torch

from bench.common import report
from engine.paradigms import continual as cl

TARGETS = {"finetune": 20.0, "dgr": 120.0}


def main() -> None:
    torch.set_num_threads(1)
    data = cl.split_digits(0)
    list(cl.train("finetune", cl.Config(iters=5, snapshot_every=5), data))   # warm-up: torch's first calls
    for scenario in cl.SCENARIOS:
        cfg = cl.Config(scenario=scenario)
        for method in cl.METHODS:
            t0 = time.perf_counter()
            first_row = None
            snaps = []
            for s in cl.train(method, cfg, data):
                snaps.append(s)
                if first_row is None and s.rows_done >= 1:
                    first_row = time.perf_counter() - t0
            wall = time.perf_counter() - t0
            acc, bwt = cl.final_metrics(snaps)
            if method in TARGETS and scenario == "class":
                report(f"5-task {method} run, class-incremental, wall (s)", wall, TARGETS[method])
            print(f"  {scenario:5s} {method:8s}: {wall:6.2f} s, first row after {first_row:5.2f} s, "
                  f"ACC {100 * acc:5.1f} %, BWT {100 * bwt:+6.1f} pt")
