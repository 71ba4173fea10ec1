"""RoIPool vs RoIAlign (issue 7): the numpy lesson code against torchvision.ops, measured in the same run.

1. roi_align, 256 channels, 7 × 7, sampling ratio 2, one RoI: engine.detection.roi / torchvision.ops.roi_align, target ≤ 10
   (numpy gathers vs a C++ kernel; the page uses 1 channel).
2. roi_pool, same input: engine.detection.roi / torchvision.ops.roi_pool, target ≤ 20 (a Python loop over the bins).
3. The page's shift sweep (81 shifts, both operators, 1 channel): seconds / 0.3 s target.
4. Mask R-CNN heads for one RoI on cached trunk features / the trunk itself: ≤ 0.5 (why the page caches the trunk
   per image and reruns only the heads when the RoI moves).
5. The page: p95 rerun after moving the sub-pixel shift slider ≤ 1.5 s (AppTest, headless).
"""
from __future__ import annotations

import numpy as np

from bench.boxes import page_rerun_p95
from bench.common import best_of, report


def main() -> None:
    import torch
    from torchvision import ops

    from engine.detection import roi as R

    rng = np.random.default_rng(0)
    f = rng.standard_normal((256, 50, 68))
    box = (37.3, 21.9, 301.4, 170.2)
    tf, tb = torch.tensor(f, dtype=torch.float32)[None], [torch.tensor([box], dtype=torch.float32)]
    report("roi_align 256×50×68 → 7×7, g=2: engine / torchvision",
           best_of(lambda: R.roi_align(f, box, 7, 1 / 8, 2, True), repeat=11),
           best_of(lambda: ops.roi_align(tf, tb, 7, 1 / 8, 2, True), repeat=11), target=10.0)
    report("roi_pool 256×50×68 → 7×7: engine / torchvision",
           best_of(lambda: R.roi_pool(f, box, 7, 1 / 8), repeat=11),
           best_of(lambda: ops.roi_pool(tf, tb, 7, 1 / 8), repeat=11), target=20.0)

    f1 = R.synthetic_features(27, 40)
    sweep = best_of(lambda: R.shift_sweep(f1, (86, 43, 170, 117), 7, np.linspace(0, 2, 81), 1 / 8, 4, True),
                    repeat=5)
    report("shift sweep, 81 shifts × 2 operators, 7×7, g=4 / 0.3 s target", sweep, 0.3, target=1.0)

    model = R.maskrcnn_untrained()
    img = rng.integers(0, 255, (213, 320, 3), dtype=np.uint8)
    trunk = R.maskrcnn_trunk(model, img)
    report("Mask R-CNN heads for one RoI / trunk (backbone+FPN+RPN head)",
           best_of(lambda: R.maskrcnn_heads(model, trunk, (86, 43, 170, 117)), repeat=5),
           best_of(lambda: R.maskrcnn_trunk(model, img), repeat=3), target=0.5)

    p95 = page_rerun_p95("pages/detection/roi.py", "roi.shift", [0.3, 0.7, 1.25, 1.9])
    report("roi page: p95 rerun after a sub-pixel shift / 1.5 s target", p95, 1.5, target=1.0)
