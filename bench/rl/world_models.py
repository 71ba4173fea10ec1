"""World Models: time of each live step and memory of the page.

Targets from issue #18: every live step (one snapshot pull of each model the page trains) ≤ 0.5 s per refresh;
memory per page ≤ 300 MB. Measured: the slowest of the first pulls of each controller run (dream, real, z only)
and of the live V retraining, the page's cold run and a rerun (AppTest), and the peak RSS of a process that
imports the page's modules, loads V and M and runs the page once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench.common import ROOT, report
from engine.rl import world_models as wm

PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
import torch, plotly.graph_objects, pandas, cma, scipy.stats          # libraries every page process shares
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
at = AppTest.from_file({page!r}, default_timeout=300).run()
cold = time.perf_counter() - t0
assert not at.exception, [e.value for e in at.exception]
t0 = time.perf_counter()
at.button(key="world_models.run.step").click().run()
step = time.perf_counter() - t0
print(json.dumps({{"cold": cold, "step_rerun": step, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "base_mb": base}}))
"""


def _slowest_pull(it, pulls: int) -> float:
    next(it)
    worst = 0.0
    for _ in range(pulls):
        t0 = time.perf_counter()
        if next(it, None) is None:
            break
        worst = max(worst, time.perf_counter() - t0)
    return worst


def main() -> None:
    import torch

    torch.set_num_threads(1)          # app.py sets OMP_NUM_THREADS=1 before any page imports torch
    model = wm.load_pretrained()
    for mode in ("dream", "real", "z_only"):
        worst = _slowest_pull(wm.train_controller(wm.CConfig(mode=mode), model), 40)
        report(f"C ({mode}): slowest of 40 snapshot pulls / 0.5 s", worst, 0.5)
    report("V live retraining: slowest of 10 snapshot pulls / 0.5 s", _slowest_pull(wm.train_vae(wm.VAEConfig()), 10),
           0.5)
    code = PROBE.format(root=str(ROOT), page=str(ROOT / "pages/rl/world_models.py"))
    env = dict(os.environ, OMP_NUM_THREADS="1")                              # as app.py runs
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env=env)
    if out.returncode:
        print(out.stderr[-2000:])
        return
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"page cold run {res['cold']:.2f} s, Step + rerun {res['step_rerun']:.2f} s (AppTest)")
    print(f"page process peak RSS {res['rss_mb']:.0f} MB, of which {res['base_mb']:.0f} MB are the shared "
          "libraries loaded before the page (streamlit, torch, plotly, pandas, cma)")
    report("page's own memory (peak RSS − shared libraries) / 300 MB", res["rss_mb"] - res["base_mb"], 300.0,
           unit="MB")


if __name__ == "__main__":
    main()
