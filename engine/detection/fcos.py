r"""FPN level assignment, focal loss, and FCOS's anchor-free targets with centre-ness.

Written in numpy as the lesson; ``torchvision.ops.sigmoid_focal_loss``, ``torchvision.ops.poolers.LevelMapper`` and
the centre-ness target in ``torchvision/models/detection/fcos.py`` are the test oracles.

References
----------
Lin et al., Feature Pyramid Networks for Object Detection, CVPR 2017 (RoI → level, Eq. 1).
Lin et al., Focal Loss for Dense Object Detection (RetinaNet), ICCV 2017 (Eq. 5).
Tian et al., FCOS: Fully Convolutional One-Stage Object Detection, ICCV 2019 (targets Eq. 1, regression ranges
Sec. 3.2, centre-ness Eq. 3 and its use at test time, Sec. 3.3).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

FCOS_STRIDES = (8, 16, 32, 64, 128)                       # P3 … P7
FCOS_RANGES = (0.0, 64.0, 128.0, 256.0, 512.0, np.inf)    # m2 … m7: level i takes max(l,t,r,b) ∈ (m_{i-1}, m_i]


def centerness(ltrb) -> np.ndarray:
    r"""FCOS centre-ness target.

    $$c^* = \sqrt{\frac{\min(l^*,r^*)}{\max(l^*,r^*)}\cdot\frac{\min(t^*,b^*)}{\max(t^*,b^*)}}$$

    Parameters
    ----------
    ltrb : np.ndarray [shape=(..., 4)]
        Distances (l*, t*, r*, b*) from a location to the box sides.

    Returns
    -------
    np.ndarray [shape=(...)], 1 at the box centre, 0 on its border (and 0 outside the box).

    References
    ----------
    Tian et al., FCOS, ICCV 2019, Eq. 3.
    """
    d = np.asarray(ltrb, dtype=np.float64)
    l, t, r, b = np.moveaxis(d, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # min(l*,r*)/max(l*,r*) · min(t*,b*)/max(t*,b*)
        horizontal = np.minimum(l, r) / np.maximum(l, r)
        vertical = np.minimum(t, b) / np.maximum(t, b)
        c = np.sqrt(horizontal * vertical)
    return np.where((d > 0).all(-1), c, 0.0)


def ltrb(points, box) -> np.ndarray:
    r"""FCOS regression targets of locations $(x, y)$ for a box (Eq. 1): $l^* = x - x_0$, $t^* = y - y_0$,
    $r^* = x_1 - x$, $b^* = y_1 - y$. points (..., 2) → (..., 4)."""
    p = np.asarray(points, dtype=np.float64)
    x, y = p[..., 0], p[..., 1]
    x0, y0, x1, y1 = (float(v) for v in box)
    return np.stack([x - x0, y - y0, x1 - x, y1 - y], -1)


@dataclass(frozen=True)
class CenternessMap:
    xs: np.ndarray       # (W',) x of each location (pixels)
    ys: np.ndarray       # (H',) y of each location
    value: np.ndarray    # (H', W') centre-ness, NaN outside the box


def centerness_map(box, height: int, width: int, step: int = 4) -> CenternessMap:
    """Centre-ness of every location on a grid of ``step`` pixels over an image, for one ground-truth box."""
    xs = np.arange(step / 2, width, step, dtype=np.float64)          # (W',)
    ys = np.arange(step / 2, height, step, dtype=np.float64)         # (H',)
    pts = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1)           # (H', W', 2)
    d = ltrb(pts, box)                                               # (H', W', 4)
    c = centerness(d)
    return CenternessMap(xs, ys, np.where((d > 0).all(-1), c, np.nan))


def focal_loss(logits, targets, alpha: float = 0.25, gamma: float = 2.0) -> np.ndarray:
    r"""Sigmoid focal loss, element-wise (RetinaNet, Lin et al. 2017, Eq. 5).

    $$\mathrm{FL}(p_t) = -\alpha_t (1-p_t)^\gamma \log p_t,\quad
      p_t = \begin{cases}p & y=1\\ 1-p & y=0\end{cases},\quad \alpha_t = \begin{cases}\alpha & y=1\\
      1-\alpha & y=0\end{cases}$$

    $\gamma = 0$ with $\alpha < 0$ is plain binary cross-entropy. Equals
    ``torchvision.ops.sigmoid_focal_loss(logits, targets, alpha, gamma, reduction="none")``.
    """
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    p = 1.0 / (1.0 + np.exp(-x))
    # −log p_t = BCE with logits, computed stably: max(x,0) − x·y + log(1 + e^{−|x|})
    ce = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    p_t = p * y + (1 - p) * (1 - y)
    # FL = −α_t (1 − p_t)^γ log p_t
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


def focal_curve(p_t, gamma: float, alpha_t: float = 1.0) -> np.ndarray:
    r"""$\mathrm{FL}(p_t) = -\alpha_t(1-p_t)^\gamma\log p_t$ as a function of $p_t \in (0, 1]$ (the paper's Fig. 1)."""
    p = np.asarray(p_t, dtype=np.float64)
    return -alpha_t * (1 - p) ** gamma * np.log(p)


@dataclass(frozen=True)
class Imbalance:
    ce_neg: float     # summed cross-entropy of the easy negatives
    ce_pos: float     # … of the hard positives
    fl_neg: float     # summed focal loss of the easy negatives
    fl_pos: float     # … of the hard positives
    down_weight: float = 1.0   # (1 − p_t)^γ of one easy negative: its focal loss / its cross-entropy

    @property
    def neg_share_ce(self) -> float:
        """Share of the total cross-entropy that the easy negatives carry."""
        return self.ce_neg / (self.ce_neg + self.ce_pos)

    @property
    def neg_share_fl(self) -> float:
        """Share of the total focal loss that the easy negatives carry."""
        return self.fl_neg / max(self.fl_neg + self.fl_pos, 1e-300)


def imbalance(n_neg: int, p_t_neg: float, n_pos: int, p_t_pos: float, gamma: float, alpha: float) -> Imbalance:
    """Summed loss of many easy negatives (background, p_t high) vs few hard positives (p_t low), with
    cross-entropy and with focal loss (α weighs positives, 1−α negatives)."""
    ce_neg, ce_pos = n_neg * focal_curve(p_t_neg, 0.0), n_pos * focal_curve(p_t_pos, 0.0)
    fl_neg = n_neg * focal_curve(p_t_neg, gamma, 1 - alpha)
    fl_pos = n_pos * focal_curve(p_t_pos, gamma, alpha)
    # FL/CE for one negative = (1 − p_t)^γ (α aside)
    down_weight = float((1 - p_t_neg) ** gamma)
    return Imbalance(float(ce_neg), float(ce_pos), float(fl_neg), float(fl_pos), down_weight)


def fpn_level(w, h, k0: int = 4, canonical: float = 224, k_min: int = 2, k_max: int = 5,
              eps: float = 1e-6) -> np.ndarray:
    r"""FPN level of an RoI of size w × h (Lin et al. 2017, Eq. 1), clamped to the pyramid's levels.

    $$k = \left\lfloor k_0 + \log_2\!\left(\sqrt{wh}/224\right)\right\rfloor$$

    ``eps`` as in ``torchvision.ops.poolers.LevelMapper`` (whose output is this minus ``k_min``).
    """
    s = np.sqrt(np.asarray(w, dtype=np.float64) * np.asarray(h, dtype=np.float64))
    with np.errstate(divide="ignore"):
        # k = ⌊k0 + log2(√(wh)/224)⌋
        k = np.floor(k0 + np.log2(s / canonical) + eps)
    return np.clip(k, k_min, k_max).astype(np.int64)


@dataclass(frozen=True)
class LevelAssignment:
    level: int             # 3 … 7
    stride: int
    lo: float              # m_{i-1}
    hi: float              # m_i
    points: np.ndarray     # (P, 2) locations of this level inside the box
    max_dist: np.ndarray   # (P,) max(l*, t*, r*, b*) of each
    positive: np.ndarray   # (P,) True where max_dist ∈ (lo, hi]: this level regresses the box there


def fcos_levels(box, strides: Sequence[int] = FCOS_STRIDES,
                ranges: Sequence[float] = FCOS_RANGES) -> list[LevelAssignment]:
    r"""FCOS's scale assignment (Sec. 3.2): a location of level $i$ inside the box is positive only if
    $m_{i-1} < \max(l^*,t^*,r^*,b^*) \le m_i$. Locations of level with stride $s$ sit at
    $(\lfloor s/2\rfloor + xs,\ \lfloor s/2\rfloor + ys)$."""
    x0, y0, x1, y1 = (float(v) for v in box)
    out = []
    for i, s in enumerate(strides):
        half = s // 2
        xs = np.arange(half, max(x1, 0) + 1, s, dtype=np.float64)
        ys = np.arange(half, max(y1, 0) + 1, s, dtype=np.float64)
        pts = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)   # (P0, 2)
        d = ltrb(pts, box)                                                      # (P0, 4)
        pts, d = pts[(d > 0).all(1)], d[(d > 0).all(1)]                         # inside the box
        m = d.max(1) if len(d) else np.zeros(0)
        # positive iff m_{i-1} < max(l*, t*, r*, b*) ≤ m_i
        pos = (m > ranges[i]) & (m <= ranges[i + 1])
        out.append(LevelAssignment(i + 3, int(s), float(ranges[i]), float(ranges[i + 1]), pts, m, pos))
    return out


@dataclass(frozen=True)
class Predictions:
    points: np.ndarray       # (N, 2) locations that predicted a box
    boxes: np.ndarray        # (N, 4) predicted boxes
    cls: np.ndarray          # (N,) classification score
    ctr: np.ndarray          # (N,) centre-ness of each location
    iou: np.ndarray          # (N,) IoU of each predicted box with the ground truth


def simulate_predictions(box, stride: int, rng: np.random.Generator, noise: float = 0.6) -> Predictions:
    """What FCOS observed, simulated: every location inside the box regresses the box, and locations far from the
    centre regress worse (relative noise ∝ 1 − centre-ness) while their classification score is as high as the
    others'. A teaching simulation, not a trained model's output."""
    from engine.detection.boxes import box_iou

    x0, y0, x1, y1 = (float(v) for v in box)
    xs = np.arange(x0 + stride / 2, x1, stride)
    ys = np.arange(y0 + stride / 2, y1, stride)
    pts = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)      # (N, 2)
    d = ltrb(pts, box)                                                         # (N, 4)
    keep = (d > 0).all(1)
    pts, d = pts[keep], d[keep]
    c = centerness(d)                                                          # (N,)
    # distances off by a factor e^{noise·(1−c*)·z}: far from the centre, worse boxes
    pred = d * np.exp(noise * (1 - c)[:, None] * rng.standard_normal(d.shape))  # (N, 4)
    boxes = np.stack([pts[:, 0] - pred[:, 0], pts[:, 1] - pred[:, 1], pts[:, 0] + pred[:, 2],
                      pts[:, 1] + pred[:, 3]], 1)
    cls = np.clip(0.75 + 0.1 * rng.standard_normal(len(pts)), 0.05, 0.99)     # score blind to box quality
    iou = box_iou(boxes, np.asarray(box, dtype=np.float64)[None])[:, 0] if len(pts) else np.zeros(0)
    return Predictions(pts, boxes, cls, c, iou)


@dataclass(frozen=True)
class BoxLevel:
    width: float      # the box in the resized image (px)
    height: float
    side: float       # √(wh)
    level: int        # FPN level k of the box


def box_level(box, short_side: int, image_h: int, image_w: int) -> BoxLevel:
    """The reader's box after the detector resizes the image's shorter side to `short_side`, and its FPN level."""
    scale = short_side / min(image_h, image_w)
    w, h = (box[2] - box[0]) * scale, (box[3] - box[1]) * scale
    return BoxLevel(float(w), float(h), float(np.sqrt(w * h)), int(fpn_level(w, h)))


@dataclass(frozen=True)
class Rerank:
    top_cls: np.ndarray      # (k,) indices of the k best locations by classification score alone
    top_ctr: np.ndarray      # (k,) … by score × centre-ness (what FCOS ranks by)
    iou_top_cls: float       # mean IoU with the truth of the top_cls boxes
    iou_top_ctr: float       # … of the top_ctr boxes
    iou_nms_cls: float       # IoU with the truth of the box NMS keeps first when ranking by score
    iou_nms_ctr: float       # … when ranking by score × centre-ness


def rerank(preds: Predictions, top_k: int, iou_threshold: float = 0.6) -> Rerank:
    r"""FCOS's re-ranking: score each location by $s \cdot c$ (classification score times predicted centre-ness)
    instead of $s$ alone, then NMS; how close to the truth the best boxes end up either way (Tian et al. 2019,
    Sec. 3.3). `preds` must hold at least one location."""
    from engine.detection.boxes import nms

    by_cls = np.argsort(-preds.cls, kind="stable")[:top_k]
    # FCOS ranks by s · c
    by_ctr = np.argsort(-preds.cls * preds.ctr, kind="stable")[:top_k]
    kept_cls = nms(preds.boxes, preds.cls, iou_threshold)
    kept_ctr = nms(preds.boxes, preds.cls * preds.ctr, iou_threshold)
    return Rerank(by_cls, by_ctr, float(preds.iou[by_cls].mean()), float(preds.iou[by_ctr].mean()),
                  float(preds.iou[kept_cls[0]]), float(preds.iou[kept_ctr[0]]))
