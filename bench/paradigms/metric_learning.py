"""Metric learning: seconds until recall@1 on the unseen digits 7–9 reaches 0.8 (target ≤ 30 s, issue #16), for
each loss at d = 2 and d = 8; the page's idle rerun (≤ 0.5 s) and the process's peak memory (≤ 300 MB).
One intra-op torch thread, as app.py runs it."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import torch

from bench.common import ROOT, report
from engine.paradigms import metric_learning as ml

BUDGET_S = 30.0

PAGE_PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import torch; torch.set_num_threads(1)
from streamlit.testing.v1 import AppTest
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
at = AppTest.from_file({page!r}, default_timeout=300).run()
at.button(key={step!r}).click().run()
times = []
for _ in range(5):
    t0 = time.perf_counter(); at.run(); times.append(time.perf_counter() - t0)
print(json.dumps({{"idle": sorted(times)[len(times) // 2], "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base}}))
"""


def time_to_recall(loss: str, dim: int, target: float = 0.8) -> tuple[float, float]:
    """(wall seconds until recall@1 ≥ target or the budget ends, best recall@1 reached)."""
    t0 = time.perf_counter()
    best = 0.0
    for s in ml.train(ml.Config(loss=loss, dim=dim, max_steps=100_000)):
        best = max(best, s.recall1)
        wall = time.perf_counter() - t0
        if s.recall1 >= target or wall > BUDGET_S:
            return wall, best
    return time.perf_counter() - t0, best


def page_probe(page: str, step_key: str) -> dict:
    code = PAGE_PROBE.format(root=str(ROOT), page=str(ROOT / page), step=step_key)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    torch.set_num_threads(1)
    print(f"raw-pixel baseline recall@1/@5 on 7–9: {ml.pixel_recall()}")
    for dim in (8, 2):
        for loss in ml.LOSSES:
            wall, best = time_to_recall(loss, dim)
            report(f"{loss} d={dim}: s to recall@1 ≥ 0.8 (best {best:.3f})", wall, BUDGET_S)
    probe = page_probe("pages/paradigms/metric_learning.py", "metric_learning.run.step")
    report("metric_learning page: idle rerun (median of 5)", probe["idle"], 0.5)
    report("metric_learning page: peak RSS over torch + streamlit (MB)", probe["rss_mb"], 300, unit="MB")


if __name__ == "__main__":
    main()
