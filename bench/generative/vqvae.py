"""VQ-VAE targets from issue #16, measured in one run (one torch intra-op thread, as app.py runs it):

- 2-D quantisation live: ≥ 100 optimiser steps/s, snapshots included (gradient and EMA + revival codebooks);
  the quantiser alone against vector-quantize-pytorch's on the same batch, for reference.
- the digit VQ-VAE reaches held-out reconstruction MSE ≤ 0.02 within 20 s of training;
- the page (AppTest, fresh process): rerun while idle ≤ 0.5 s (p95), and peak memory ≤ 300 MB after a few steps
  of each run (RSS added over the process with torch, Streamlit, plotly and scikit-learn already imported).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import torch

from bench.common import ROOT, best_of, report
from engine.generative import vqvae


def _plane(**over) -> float:
    cfg = vqvae.Config2D(**{"max_steps": 600, **over})
    t0 = time.perf_counter()
    last = list(vqvae.train_2d(cfg))[-1]
    return last.step / (time.perf_counter() - t0)


def _quantiser() -> None:
    from oracles.vqvae import library_quantize
    g = torch.Generator().manual_seed(0)
    z, cb = torch.randn(128, 2, generator=g), torch.randn(16, 2, generator=g)
    mine = best_of(lambda: vqvae.quantize(z, cb, 0.25), repeat=7, number=200)
    theirs = best_of(lambda: library_quantize(z, cb, 0.25), repeat=7, number=20)
    report("quantize (128×2, K=16) vs vector-quantize-pytorch (module built per call)", mine, theirs, unit="s")


def _digits() -> None:
    cfg = vqvae.ConfigDigits(max_steps=20_000)
    t0 = time.perf_counter()
    hit = None
    for s in vqvae.train_digits(cfg):
        if s.metrics["test_mse"] <= 0.02:
            hit = s
            break
        if time.perf_counter() - t0 > 120:
            break
    wall = time.perf_counter() - t0
    if hit is None:
        print(f"digit VQ-VAE: MSE ≤ 0.02 not reached in {wall:.0f} s wall  OVER")
        return
    report(f"digit VQ-VAE: training s to held-out MSE ≤ 0.02 (step {hit.step}, K={cfg.K})", hit.seconds, 20.0)
    print(f"  (wall time with snapshots and data loading: {wall:.1f} s; MSE {hit.metrics['test_mse']:.4f}, "
          f"perplexity {hit.metrics['perplexity']:.1f})")


PAGE_PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)
from streamlit.testing.v1 import AppTest
import engine.generative.vqvae, plotly.graph_objects, sklearn                  # the libraries every page shares
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
base = rss_mb()
at = AppTest.from_file({page!r}, default_timeout=300).run()
for name in ("plane", "digits", "collapse"):
    for _ in range(3):
        at.button(key=f"vqvae.run.{{name}}.step").click().run()
times = []
for _ in range(8):
    t0 = time.perf_counter()
    at.run()
    times.append(time.perf_counter() - t0)
assert not at.exception, [e.value for e in at.exception]
print(json.dumps({{"times": times, "base_mb": base, "rss_mb": rss_mb(),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _page() -> None:
    out = subprocess.run([sys.executable, "-c", PAGE_PROBE.format(root=str(ROOT),
                                                                  page=str(ROOT / "pages/generative/vqvae.py"))],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    res = json.loads(out.stdout.strip().splitlines()[-1])
    report("page rerun while idle, p95 (s) vs 0.5 s", float(np.percentile(res["times"], 95)), 0.5)
    report("page memory: RSS added by the page and its runs (MB) vs 300 MB", res["rss_mb"] - res["base_mb"], 300.0,
           unit="MB")
    print(f"  (process RSS {res['rss_mb']:.0f} MB, of which {res['base_mb']:.0f} MB is Python + torch + Streamlit "
          f"before the page; peak {res['peak_mb']:.0f} MB)")


def main() -> None:
    torch.set_num_threads(1)
    _plane(max_steps=20)                                          # warm-up
    for name, over in (("gradient codebook", {}), ("EMA codebook + revival", dict(update="ema", revive=True))):
        speed = _plane(**over)
        report(f"2-D live, {name}: s per step (snapshots incl.) vs 1/100 s", 1 / speed, 0.01)
    _quantiser()
    _digits()
    _page()
