"""FPN, focal loss & FCOS (issue 7): the numpy lesson code against torchvision, measured in the same run.

1. focal_loss on 10⁶ logits: engine.detection.fcos / torchvision.ops.sigmoid_focal_loss (float64 both), target ≤ 3.
2. centre-ness of 10⁶ (l, t, r, b): engine.detection.fcos.centerness / torchvision's formula in torch, target ≤ 3.
3. fpn_level of 10⁵ boxes: engine.detection.fcos / torchvision.ops.poolers.LevelMapper, target ≤ 3.
4. The page: p95 rerun after changing γ ≤ 1.5 s (AppTest, headless).
"""
from __future__ import annotations

import numpy as np

from bench.boxes import page_rerun_p95
from bench.common import best_of, report


def main() -> None:
    import torch
    from torchvision.ops import sigmoid_focal_loss
    from torchvision.ops.poolers import LevelMapper

    from engine.detection import fcos as F

    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 3, 1_000_000), (rng.uniform(size=1_000_000) < 0.01).astype(float)
    tx, ty = torch.tensor(x), torch.tensor(y)
    report("focal_loss, 10⁶ logits: engine / torchvision", best_of(lambda: F.focal_loss(x, y)),
           best_of(lambda: sigmoid_focal_loss(tx, ty, reduction="none")), target=3.0)

    d = rng.uniform(0.5, 100, (1_000_000, 4))
    td = torch.tensor(d)

    def torch_ctr():
        lr, tb = td[:, [0, 2]], td[:, [1, 3]]
        return torch.sqrt((lr.min(-1)[0] / lr.max(-1)[0]) * (tb.min(-1)[0] / tb.max(-1)[0]))

    report("centerness, 10⁶ locations: engine / torch formula", best_of(lambda: F.centerness(d)),
           best_of(torch_ctr), target=3.0)

    wh = rng.uniform(4, 900, (100_000, 2))
    boxes = [torch.tensor(np.concatenate([np.zeros_like(wh), wh], 1))]
    mapper = LevelMapper(2, 5)
    report("fpn_level, 10⁵ boxes: engine / LevelMapper", best_of(lambda: F.fpn_level(wh[:, 0], wh[:, 1])),
           best_of(lambda: mapper(boxes)), target=3.0)

    p95 = page_rerun_p95("pages/detection/fcos.py", "fcos.gamma", [0.5, 3.0, 5.0, 1.0])
    report("fcos page: p95 rerun after changing γ / 1.5 s target", p95, 1.5, target=1.0)
