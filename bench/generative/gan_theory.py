"""GAN theory page cost: one optimum (D*, V, JS, W1) on the page's 1201-point grid and one JS/W1 shift
sweep, against SciPy's jensenshannon + wasserstein_distance measured in the same run."""
from __future__ import annotations

import time

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from engine.generative import gan_theory as gt


def _time(fn, n: int = 50) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def main() -> None:
    x = np.linspace(-6, 6, 1201)
    p, q = gt.mixture_pdf(x, [-1.5, 1.5], [0.5, 0.5]), gt.mixture_pdf(x, [0.5], [1.0])
    ours = _time(lambda: (gt.js_divergence(p, q), gt.wasserstein1(x, x, p, q)))
    ref = _time(lambda: (jensenshannon(p, q) ** 2, wasserstein_distance(x, x, p, q)))
    print(f"JS + W1 on 1201 points: ours {ours * 1e3:.3f} ms, scipy {ref * 1e3:.3f} ms, ratio ×{ours / ref:.2f}")
    full = _time(lambda: gt.optimum(x, p, q))
    print(f"optimum (D*, V, JS, W1): {full * 1e3:.3f} ms (×{full / ref:.2f} of scipy JS+W1)")
    theta = np.round(np.arange(-2, 2 + 1e-9, 0.05), 2)
    sweep = _time(lambda: gt.shift_sweep(x, gt.uniform_pdf(x, 0, 0), theta), n=5)
    print(f"shift sweep, {theta.size} shifts: {sweep * 1e3:.1f} ms (×{sweep / ref:.1f} of one scipy JS+W1)")


if __name__ == "__main__":
    main()
