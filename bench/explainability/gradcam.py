"""Grad-CAM targets (issue 5), ratios against references measured in this run:

1. Grad-CAM (trunk without autograd, backward from y^c to the target layer only) ≤ 0.5 × one plain forward +
   full backward to the input of the same model on the same input (MobileNetV2, 224×224, features.18).
2. Eight threads on one shared model, each a different image/class/layer: every map identical to its serial run.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from bench.common import best_of, report


def main() -> None:
    from engine.common import classifier
    from engine.explainability import gradcam

    model = classifier.load_mobilenet_v2()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))

    def forward_backward_to_input():
        xx = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(model(xx)[0, 281], xx)
        return g

    for layer in ("features.18", "features.14"):
        gradcam.grad_cam(model, layer, x, 281)                  # warm-up
        forward_backward_to_input()
        ref = best_of(forward_backward_to_input, repeat=9)
        ours = best_of(lambda: gradcam.grad_cam(model, layer, x, 281), repeat=9)
        report(f"Grad-CAM {layer} / forward+backward to input", ours, ref, target=0.5)
    fwd = best_of(lambda: classifier.top_k(model, x), repeat=9)
    report("(for scale) one forward / forward+backward to input", fwd, ref, target=1.0)

    g = torch.Generator().manual_seed(1)
    jobs = [(torch.randn(1, 3, 224, 224, generator=g), int(c), layer)
            for c, layer in zip(torch.randint(0, 1000, (8,), generator=g), ["features.18", "features.13"] * 4)]
    serial = [gradcam.grad_cam(model, layer, xi, c) for xi, c, layer in jobs]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda j: gradcam.grad_cam(model, j[2], j[0], j[1]), jobs))
    wrong = sum(not np.array_equal(a, b) for a, b in zip(serial, threaded))
    print(f"8 concurrent Grad-CAM calls on one shared model: {wrong} wrong map(s) {'OK' if wrong == 0 else 'FAIL'}")
