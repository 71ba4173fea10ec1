"""IoU, NMS & anchors (issue 7): the numpy lesson code against torchvision, measured in the same run.

1. box_iou, 1000 × 1000 boxes: engine.detection.boxes / torchvision.ops.box_iou, target ≤ 3.
2. NMS on the page's scene (40 boxes): engine.detection.boxes.nms_steps / torchvision.ops.nms, target ≤ 20 (a Python loop
   over kept boxes; the page never has more than 40 candidates). Also printed at 2000 boxes, for scale.
3. Anchors + labels for a 320 × 213 image (stride 16, 9 anchors): engine / AnchorGenerator + Matcher, target ≤ 2.
4. The page: p95 rerun after moving a box ≤ 1.5 s (ratio against the target; AppTest, headless).
"""
from __future__ import annotations

import numpy as np

from bench.common import best_of, report


def _boxes(rng, n, size=320.0):
    xy = rng.uniform(0, size, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(4, size / 3, (n, 2))], 1)


def page_rerun_p95(page: str, slider_key: str, values: list, runs: int = 8) -> float:
    """p95 seconds of a rerun of `page` after `slider_key` is set to each of `values` in turn."""
    import time

    from streamlit.testing.v1 import AppTest

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / page), default_timeout=300).run()
    times = []
    for k in range(runs):
        at.slider(key=slider_key).set_value(values[k % len(values)])
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
    return float(np.percentile(times, 95))


def main() -> None:
    import torch
    from torchvision import ops
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.image_list import ImageList

    from engine.detection import boxes as B

    rng = np.random.default_rng(0)
    a, b = _boxes(rng, 1000), _boxes(rng, 1000)
    ta, tb = torch.tensor(a), torch.tensor(b)
    report("box_iou 1000×1000: engine / torchvision", best_of(lambda: B.box_iou(a, b)),
           best_of(lambda: ops.box_iou(ta, tb)), target=3.0)

    scene = B.jitter_scene(_boxes(rng, 2), 20, rng)
    tbx, tsc = torch.tensor(scene.boxes), torch.tensor(scene.scores)
    report("nms, 40 boxes (page scene): engine / torchvision",
           best_of(lambda: B.nms_steps(scene.boxes, scene.scores, 0.5), repeat=21),
           best_of(lambda: ops.nms(tbx, tsc, 0.5), repeat=21), target=20.0)
    big, sc = _boxes(rng, 2000), rng.uniform(size=2000)
    tbig, tsc2 = torch.tensor(big), torch.tensor(sc)
    report("nms, 2000 boxes (for scale): engine / torchvision", best_of(lambda: B.nms(big, sc, 0.5), repeat=3),
           best_of(lambda: ops.nms(tbig, tsc2, 0.5), repeat=3), target=float("inf"))

    gt = np.array([[64.0, 43.0, 192.0, 149.0]])
    gen = AnchorGenerator(sizes=((32, 64, 128),), aspect_ratios=((0.5, 1.0, 2.0),))
    img = ImageList(torch.zeros(1, 3, 224, 320), [(213, 320)])
    feat = [torch.zeros(1, 1, 14, 20)]
    matcher = det_utils.Matcher(0.7, 0.3, allow_low_quality_matches=True)

    def ours():
        an = B.make_anchors((14, 20), 16, (32, 64, 128), (0.5, 1.0, 2.0))
        return B.label_anchors(an, gt)

    def ref():
        an = gen(img, feat)[0]
        return matcher(ops.box_iou(torch.tensor(gt, dtype=torch.float32), an))

    report("anchors + labels, 320×213 image: engine / torchvision", best_of(ours, repeat=21),
           best_of(ref, repeat=21), target=2.0)

    p95 = page_rerun_p95("pages/detection/boxes.py", "boxes.pred.x.320x213",
                         [(100.0, 220.0), (120.0, 260.0), (90.0, 200.0)])
    report("boxes page: p95 rerun after moving a box / 1.5 s target", p95, 1.5, target=1.0)
