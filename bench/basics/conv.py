"""Convolution arithmetic targets, each printed as a ratio against a reference measured in this run:

1. Our naive convolution (one output pixel at a time) and our im2col (one matrix product) against
   torch.nn.functional.conv2d on the page's sizes (default 32 px grayscale, largest 64 px RGB with groups): how much
   slower the textbook loops are; im2col should be within a small factor of torch, the naive loop far behind.
2. Page rerun after a slider change (kernel size, stride, receptive-field layers), headless AppTest in a fresh
   process: p95 ≤ 1 s.
"""
from __future__ import annotations

import numpy as np

from bench.common import best_of, page_timings, report


def bench_convolution() -> None:
    import torch
    import torch.nn.functional as F

    from engine.basics import conv as C

    torch.set_num_threads(1)            # as app.py serves it (OMP_NUM_THREADS=1): one thread per call
    rng = np.random.default_rng(0)
    cases = [("32 px gray, 3×3, p=1", (1, 21, 32), 3, 1, 1, 1, 1),
             ("64 px RGB, 3×3, p=1, g=1", (3, 43, 64), 3, 1, 1, 1, 1),
             ("64 px RGB, 7×7, d=2, p=4, g=3", (3, 43, 64), 7, 4, 1, 2, 3),
             ("64 px RGB, 5×5, s=2, g=1", (3, 43, 64), 5, 2, 2, 1, 1)]
    for name, shape, k, p, s, d, g in cases:
        x = rng.random(shape)
        w = C.make_weight("random", k, shape[0], shape[0], g)
        xt, wt = torch.from_numpy(x)[None], torch.from_numpy(w)
        ref = best_of(lambda: F.conv2d(xt, wt, None, s, p, d, g), repeat=7, number=20)
        naive = best_of(lambda: C.conv2d_naive(x, w, None, s, p, d, g), repeat=3)
        col = best_of(lambda: C.conv2d_im2col(x, w, s, p, d, g), repeat=7, number=5)
        report(f"{name}: naive / conv2d", naive, ref, target=float("inf"))
        report(f"{name}: im2col / conv2d", col, ref, target=20.0)
        report(f"{name}: naive (s) vs 0.2 s of a rerun", naive, 0.2, target=1.0)


def bench_page() -> None:
    res = page_timings("pages/basics/conv.py", {
        "conv.k": [5, 2, 7, 4, 3, 6, 1, 3], "conv.s": [2, 3, 4, 1, 2, 1], "conv.rf_layers": [4, 6, 1, 2, 5, 3]})
    print(f"  (cold first render {res['cold']:.2f} s)")
    for key in ("conv.k", "conv.s", "conv.rf_layers"):
        report(f"page rerun after {key.split('.')[1]} change, p95 (s) vs 1 s", float(np.percentile(res[key], 95)),
               1.0, target=1.0)


def main() -> None:
    bench_convolution()
    bench_page()


if __name__ == "__main__":
    main()
