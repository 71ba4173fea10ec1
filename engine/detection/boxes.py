r"""Boxes of object detection: IoU, non-maximum suppression, YOLO confidence, anchors and default boxes,
and the Faster R-CNN box parametrisation.

Boxes are ``(x1, y1, x2, y2)`` in pixels (torchvision's ``xyxy``), x to the right, y down.
Written in numpy as the lesson; ``torchvision.ops`` / ``torchvision.models.detection`` are the test oracles.

References
----------
Redmon et al., You Only Look Once, CVPR 2016 (confidence Pr(Object)·IoU).
Liu et al., SSD: Single Shot MultiBox Detector, ECCV 2016 (default boxes, Sec. 2.2).
Ren et al., Faster R-CNN, NeurIPS 2015 (anchors, Eq. 2 box parametrisation, RPN labels in Sec. 3.1.2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

# torchvision's BoxCoder clamp on dw, dh before exp(): log(1000/16)
BBOX_XFORM_CLIP = float(np.log(1000.0 / 16))


def _as_boxes(boxes) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def box_area(boxes) -> np.ndarray:
    r"""Area $(x_2-x_1)(y_2-y_1)$ of boxes (N, 4) → (N,); degenerate boxes give 0."""
    b = _as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def box_iou(a, b) -> np.ndarray:
    r"""Pairwise intersection over union.

    $$\mathrm{IoU}(A,B) = \frac{|A\cap B|}{|A\cup B|} = \frac{|A\cap B|}{|A|+|B|-|A\cap B|}$$

    Parameters
    ----------
    a : array [shape=(N, 4)], b : array [shape=(M, 4)]
        Boxes ``(x1, y1, x2, y2)``.

    Returns
    -------
    np.ndarray [shape=(N, M)] — equals ``torchvision.ops.box_iou`` (0 where the union is empty).
    """
    a, b = _as_boxes(a), _as_boxes(b)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])        # (N, M, 2) top-left of the intersection
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])        # (N, M, 2) bottom-right
    wh = np.clip(rb - lt, 0, None)                          # (N, M, 2) empty intersection → 0
    inter = wh[..., 0] * wh[..., 1]                         # (N, M)
    # |A ∪ B| = |A| + |B| − |A ∩ B|
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter   # (N, M)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass(frozen=True)
class IoUParts:
    intersection: np.ndarray   # (4,) the intersection box (zero-size when the boxes are apart)
    area_a: float
    area_b: float
    inter: float               # |A ∩ B|
    union: float               # |A ∪ B|
    iou: float


def iou_parts(a, b) -> IoUParts:
    """IoU of two boxes with its pieces, for the live display."""
    a, b = _as_boxes(a)[0], _as_boxes(b)[0]
    lt, rb = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    rb = np.maximum(rb, lt)                                 # zero-size box when apart
    inter = float(np.prod(rb - lt))
    area_a, area_b = float(box_area(a)[0]), float(box_area(b)[0])
    union = area_a + area_b - inter
    return IoUParts(np.concatenate([lt, rb]), area_a, area_b, inter, union, inter / union if union > 0 else 0.0)


@dataclass(frozen=True)
class NMSStep:
    keep: int                  # index (into the input boxes) kept at this step: the best remaining score
    suppressed: np.ndarray     # (S,) indices removed at this step (IoU with `keep` > threshold)
    ious: np.ndarray           # (S,) their IoU with `keep`
    remaining: np.ndarray      # (R,) indices still candidates after this step, best score first


def nms_steps(boxes, scores, iou_threshold: float, idxs=None) -> list[NMSStep]:
    r"""Greedy non-maximum suppression, one step per kept box.

    Sort by score; take the best remaining box $b_m$, keep it, and drop every remaining $b_i$ with
    $\mathrm{IoU}(b_m, b_i) > \tau$; repeat until none remain. With ``idxs`` (class labels), only boxes of the same
    class suppress each other (class-wise NMS, ``torchvision.ops.batched_nms``); without, it is class-agnostic.
    """
    b = _as_boxes(boxes)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    same = np.ones((len(b), len(b)), bool) if idxs is None else np.equal.outer(np.asarray(idxs), np.asarray(idxs))
    iou = box_iou(b, b)                                     # (N, N)
    order = np.argsort(-s, kind="stable")                  # (N,) best score first
    steps: list[NMSStep] = []
    while order.size:
        m, rest = order[0], order[1:]
        # suppress b_i when IoU(b_m, b_i) > τ (and, class-wise, only within the class of b_m)
        drop = (iou[m, rest] > iou_threshold) & same[m, rest]
        order = rest[~drop]
        steps.append(NMSStep(int(m), rest[drop], iou[m, rest[drop]], order.copy()))
    return steps


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by class-agnostic NMS, by decreasing score (= ``torchvision.ops.nms``)."""
    return np.array([st.keep for st in nms_steps(boxes, scores, iou_threshold)], dtype=np.int64)


def batched_nms(boxes, scores, idxs, iou_threshold: float) -> np.ndarray:
    """Class-wise NMS: boxes of different classes never suppress each other (= ``torchvision.ops.batched_nms``)."""
    return np.array([st.keep for st in nms_steps(boxes, scores, iou_threshold, idxs)], dtype=np.int64)


@dataclass(frozen=True)
class YoloScores:
    iou: float                  # IoU(truth, pred)
    confidence: float           # Pr(Object) · IoU
    class_scores: np.ndarray    # (C,) Pr(Class_i | Object) · Pr(Object) · IoU = Pr(Class_i) · IoU


def yolo_scores(p_object: float, p_class_given_object, iou: float) -> YoloScores:
    r"""YOLO's box confidence and class-specific confidence (Redmon et al. 2016, Sec. 2).

    $$\text{conf} = \Pr(\text{Object})\cdot\mathrm{IoU}^{\text{truth}}_{\text{pred}},\qquad
      \Pr(\text{Class}_i\mid\text{Object})\cdot\Pr(\text{Object})\cdot\mathrm{IoU}
      = \Pr(\text{Class}_i)\cdot\mathrm{IoU}$$
    """
    pc = np.asarray(p_class_given_object, dtype=np.float64)      # (C,)
    # conf = Pr(Object) · IoU
    confidence = p_object * iou
    # Pr(Class_i | Object) · Pr(Object) · IoU
    return YoloScores(iou, confidence, pc * confidence)


# ----------------------------------------------------------------------------------------------- anchors


def make_anchors(feature_size: tuple[int, int], stride: int | tuple[int, int], scales: Sequence[float],
                 ratios: Sequence[float], offset: float = 0.0) -> np.ndarray:
    r"""Faster R-CNN anchors: at every feature-map location, one box per (ratio, scale).

    A ratio $r = h/w$ and scale $s$ give $w = s/\sqrt{r}$, $h = s\sqrt{r}$ (area $s^2$), centred at
    $((j + \text{offset})\cdot\text{stride}_x,\ (i + \text{offset})\cdot\text{stride}_y)$.
    3 scales × 3 ratios = 9 anchors per location (Ren et al. 2015, Sec. 3.1.1).

    Parameters
    ----------
    feature_size : (H_f, W_f)
    stride : pixels of input per feature cell (int or (stride_y, stride_x))
    scales, ratios : anchor sizes (pixels) and aspect ratios h/w
    offset : 0 puts centres on cell corners as ``torchvision``'s ``AnchorGenerator`` does (and its
        rounding of the base anchors is kept, so ``offset=0`` equals it exactly); 0.5 on cell centres.

    Returns
    -------
    np.ndarray [shape=(H_f · W_f · len(ratios) · len(scales), 4)], location-major, then ratio, then scale.
    """
    hf, wf = feature_size
    sy, sx = (stride, stride) if np.isscalar(stride) else stride
    r = np.asarray(ratios, dtype=np.float64)
    s = np.asarray(scales, dtype=np.float64)
    h_ratio = np.sqrt(r)                                    # (R,)  h = s·√r
    w_ratio = 1.0 / h_ratio                                 # (R,)  w = s/√r
    ws = (w_ratio[:, None] * s[None, :]).reshape(-1)        # (R·S,)
    hs = (h_ratio[:, None] * s[None, :]).reshape(-1)        # (R·S,)
    base = np.round(np.stack([-ws, -hs, ws, hs], axis=1) / 2)   # (A, 4) zero-centred, rounded as torchvision
    cx = (np.arange(wf) + offset) * sx                      # (W_f,)
    cy = (np.arange(hf) + offset) * sy                      # (H_f,)
    yy, xx = np.meshgrid(cy, cx, indexing="ij")             # (H_f, W_f)
    shifts = np.stack([xx, yy, xx, yy], axis=-1).reshape(-1, 1, 4)   # (H_f·W_f, 1, 4)
    return (shifts + base[None]).reshape(-1, 4)             # (H_f·W_f·A, 4)


@dataclass(frozen=True)
class DefaultBoxes:
    boxes: np.ndarray          # (K, 4) xyxy pixels
    level: np.ndarray          # (K,) index of the feature map each box belongs to
    scales: np.ndarray         # (m + 1,) s_k as a fraction of the image side (the last one only for s'_m)
    per_location: np.ndarray   # (m,) boxes per location on each feature map


def ssd_default_boxes(feature_sizes: Sequence[tuple[int, int]], image_size: tuple[int, int],
                      aspect_ratios: Sequence[Sequence[float]], min_ratio: float = 0.15, max_ratio: float = 0.9,
                      scales: Sequence[float] | None = None, clip: bool = True) -> DefaultBoxes:
    r"""SSD default boxes on several feature maps (Liu et al. 2016, Sec. 2.2 "Choosing scales and aspect ratios").

    $$s_k = s_{\min} + \frac{s_{\max}-s_{\min}}{m-1}(k-1),\quad w = s_k\sqrt{a_r},\ h = s_k/\sqrt{a_r},\quad
      s'_k = \sqrt{s_k s_{k+1}}$$
    centred at $\left(\frac{j+0.5}{|f_k|}, \frac{i+0.5}{|f_k|}\right)$. Per location: $s_k$ and $s'_k$ squares,
    plus $(a_r, 1/a_r)$ pairs. Equals ``torchvision.models.detection.anchor_utils.DefaultBoxGenerator`` (steps=None).

    Parameters
    ----------
    feature_sizes : [(H_k, W_k)] for each of the m feature maps
    image_size : (H, W) pixels
    aspect_ratios : per feature map, the ratios a_r besides 1 (each gives a_r and 1/a_r)
    """
    m = len(feature_sizes)
    if scales is None:
        # s_k = s_min + (s_max − s_min)(k − 1)/(m − 1), and one extra scale 1.0 for s'_m
        sc = [min_ratio + (max_ratio - min_ratio) * k / (m - 1.0) for k in range(m)] + [1.0] if m > 1 \
            else [min_ratio, max_ratio]
    else:
        sc = list(scales)
    h_img, w_img = image_size
    out, levels, per_loc = [], [], []
    for k, (fh, fw) in enumerate(feature_sizes):
        # s'_k = √(s_k s_{k+1}): the extra square default box
        wh = [(sc[k], sc[k]), (np.sqrt(sc[k] * sc[k + 1]),) * 2]
        for ar in aspect_ratios[k]:
            # w = s_k √a_r, h = s_k / √a_r, and the transposed pair for 1/a_r
            wh += [(sc[k] * np.sqrt(ar), sc[k] / np.sqrt(ar)), (sc[k] / np.sqrt(ar), sc[k] * np.sqrt(ar))]
        wh = np.asarray(wh, dtype=np.float64)                # (A_k, 2) fractions of the image
        if clip:
            wh = np.clip(wh, 0, 1)
        cy, cx = (np.arange(fh) + 0.5) / fh, (np.arange(fw) + 0.5) / fw
        yy, xx = np.meshgrid(cy, cx, indexing="ij")          # (H_k, W_k)
        ctr = np.stack([xx, yy], -1).reshape(-1, 1, 2)       # (H_k·W_k, 1, 2)
        ctr = np.broadcast_to(ctr, (fh * fw, len(wh), 2)).reshape(-1, 2)   # (H_k·W_k·A_k, 2)
        whs = np.tile(wh, (fh * fw, 1))                      # (H_k·W_k·A_k, 2)
        scale = np.array([w_img, h_img], dtype=np.float64)
        out.append(np.concatenate([(ctr - whs / 2) * scale, (ctr + whs / 2) * scale], 1))
        levels.append(np.full(len(whs), k))
        per_loc.append(len(wh))
    return DefaultBoxes(np.concatenate(out), np.concatenate(levels), np.asarray(sc), np.asarray(per_loc))


# ---------------------------------------------------------------------------- labels and regression targets


@dataclass(frozen=True)
class AnchorLabels:
    labels: np.ndarray      # (K,) 1 positive, 0 negative, -1 ignored (between the thresholds)
    matched: np.ndarray     # (K,) index of the best ground-truth box of each anchor
    max_iou: np.ndarray     # (K,) IoU with that box
    n_pos: int
    n_neg: int
    n_ignored: int


def label_anchors(anchors, gt, fg_iou_thresh: float = 0.7, bg_iou_thresh: float = 0.3,
                  allow_low_quality_matches: bool = True) -> AnchorLabels:
    r"""RPN labels (Ren et al. 2015, Sec. 3.1.2): positive if $\mathrm{IoU}\ge 0.7$ with some ground truth, or if
    it is the best anchor of a ground truth (ties included); negative if $\mathrm{IoU} < 0.3$ for all; the rest
    ignored. Same rule as ``torchvision.models.detection._utils.Matcher``.
    """
    iou = box_iou(gt, anchors)                               # (M, K)
    max_iou, matched = iou.max(0), iou.argmax(0)             # (K,), (K,)
    labels = np.full(len(max_iou), -1, dtype=np.int64)
    labels[max_iou >= fg_iou_thresh] = 1
    labels[max_iou < bg_iou_thresh] = 0
    if allow_low_quality_matches:
        # the anchors of highest IoU for each ground truth (ties included) become positive, however low
        best = iou.max(1, keepdims=True)                     # (M, 1)
        labels[np.nonzero((iou == best) & (best > 0))[1]] = 1
    return AnchorLabels(labels, matched, max_iou, int((labels == 1).sum()), int((labels == 0).sum()),
                        int((labels == -1).sum()))


def encode(anchors, gt, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> np.ndarray:
    r"""Regression targets of ``gt`` boxes relative to ``anchors`` (Faster R-CNN, Ren et al. 2015, Eq. 2).

    $$t_x = \frac{x - x_a}{w_a},\quad t_y = \frac{y - y_a}{h_a},\quad t_w = \log\frac{w}{w_a},\quad
      t_h = \log\frac{h}{h_a}$$
    with $(x, y, w, h)$ centre and size. ``weights`` multiply $(t_x, t_y, t_w, t_h)$ as in torchvision's BoxCoder.

    Parameters
    ----------
    anchors, gt : array [shape=(N, 4)] paired row by row

    Returns
    -------
    np.ndarray [shape=(N, 4)] — ``(t_x, t_y, t_w, t_h)``
    """
    a, g = _as_boxes(anchors), _as_boxes(gt)
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]            # (N,)
    xa, ya = a[:, 0] + 0.5 * wa, a[:, 1] + 0.5 * ha
    w, h = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    x, y = g[:, 0] + 0.5 * w, g[:, 1] + 0.5 * h
    wx, wy, ww, wh = weights
    # t_x = (x − x_a)/w_a, t_y = (y − y_a)/h_a, t_w = log(w/w_a), t_h = log(h/h_a)
    return np.stack([wx * (x - xa) / wa, wy * (y - ya) / ha, ww * np.log(w / wa), wh * np.log(h / ha)], axis=1)


def decode(anchors, deltas, weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> np.ndarray:
    r"""Inverse of :func:`encode`: $x = x_a + t_x w_a$, $w = w_a e^{t_w}$ (and y, h alike) → boxes (N, 4).

    $t_w, t_h$ are clamped at $\log(1000/16)$ before the exponential, as torchvision's BoxCoder does.
    """
    a, d = _as_boxes(anchors), _as_boxes(deltas)
    wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]            # (N,)
    xa, ya = a[:, 0] + 0.5 * wa, a[:, 1] + 0.5 * ha
    wx, wy, ww, wh = weights
    tx, ty = d[:, 0] / wx, d[:, 1] / wy
    tw, th = np.minimum(d[:, 2] / ww, BBOX_XFORM_CLIP), np.minimum(d[:, 3] / wh, BBOX_XFORM_CLIP)
    # x = x_a + t_x w_a, w = w_a exp(t_w)
    x, y, w, h = xa + tx * wa, ya + ty * ha, wa * np.exp(tw), ha * np.exp(th)
    return np.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], axis=1)


# ----------------------------------------------------------------------------- a scene of candidate boxes


@dataclass(frozen=True)
class Scene:
    boxes: np.ndarray    # (N, 4) candidate boxes
    scores: np.ndarray   # (N,) in (0, 1)
    labels: np.ndarray   # (N,) class index (the index of the object each candidate was drawn around)


def jitter_scene(objects, n_per_object: int, rng: np.random.Generator, jitter: float = 0.1) -> Scene:
    """Candidate boxes scattered around each object, as a detector's raw output looks before NMS: each candidate's
    centre and size move by a fraction ``jitter`` of the object's size, and its score falls with that displacement.
    A teaching scene, not the output of a model."""
    obj = _as_boxes(objects)
    boxes, scores, labels = [], [], []
    for c, box in enumerate(obj):
        w, h = max(box[2] - box[0], 1.0), max(box[3] - box[1], 1.0)
        z = rng.standard_normal((n_per_object, 4))                       # (n, 4)
        cx = (box[0] + box[2]) / 2 + z[:, 0] * jitter * w
        cy = (box[1] + box[3]) / 2 + z[:, 1] * jitter * h
        bw, bh = w * np.exp(z[:, 2] * jitter), h * np.exp(z[:, 3] * jitter)
        cand = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)   # (n, 4)
        q = box_iou(cand, box[None])[:, 0]                                # (n,) how well each fits
        boxes.append(cand)
        scores.append(np.clip(0.25 + 0.7 * q + 0.05 * rng.standard_normal(n_per_object), 0.01, 0.99))
        labels.append(np.full(n_per_object, c))
    return Scene(np.concatenate(boxes), np.concatenate(scores), np.concatenate(labels))


# ------------------------------------------------------------------------- what the page reads, step by step


def class_probabilities(raw) -> np.ndarray:
    r"""$\Pr(\text{Class}_i\mid\text{Object})$ from non-negative slider values: $p_i = v_i / \sum_j v_j$
    (uniform when every value is 0), so the class probabilities always sum to 1."""
    v = np.clip(np.asarray(raw, dtype=np.float64).reshape(-1), 0, None)   # (C,)
    total = v.sum()
    # p_i = v_i / Σ_j v_j
    return v / total if total > 0 else np.full(len(v), 1.0 / len(v))


@dataclass(frozen=True)
class NMSRun:
    steps: tuple[NMSStep, ...]       # the greedy steps of the chosen mode
    n_steps: int                     # = boxes kept in the chosen mode
    n_candidates: int                # boxes before NMS
    kept_classwise: np.ndarray       # (K_c,) indices kept by class-wise NMS
    kept_agnostic: np.ndarray        # (K_a,) indices kept by class-agnostic NMS
    n_kept_classwise: int            # K_c
    n_kept_agnostic: int             # K_a
    per_class_classwise: np.ndarray  # (C,) kept boxes of each class, class-wise
    per_class_agnostic: np.ndarray   # (C,) kept boxes of each class, class-agnostic
    lost_agnostic: np.ndarray        # (L,) classes with no box left after class-agnostic NMS


def nms_run(scene: Scene, iou_threshold: float, classwise: bool = True, n_classes: int | None = None) -> NMSRun:
    """NMS on a scene both ways (class-wise as ``torchvision.ops.batched_nms``, class-agnostic as
    ``torchvision.ops.nms``), the steps of the chosen mode, and how many boxes of each class survive."""
    c = int(scene.labels.max()) + 1 if n_classes is None else n_classes
    steps = nms_steps(scene.boxes, scene.scores, iou_threshold, scene.labels if classwise else None)
    cw = batched_nms(scene.boxes, scene.scores, scene.labels, iou_threshold)
    ag = nms(scene.boxes, scene.scores, iou_threshold)
    per_cw = np.bincount(scene.labels[cw], minlength=c)                  # (C,)
    per_ag = np.bincount(scene.labels[ag], minlength=c)                  # (C,)
    return NMSRun(tuple(steps), len(steps), len(scene.scores), cw, ag, len(cw), len(ag), per_cw, per_ag,
                  np.nonzero(per_ag == 0)[0])


@dataclass(frozen=True)
class AnchorSet:
    feature_size: tuple[int, int]    # (H_f, W_f) = (⌈H/stride⌉, ⌈W/stride⌉)
    n_scales: int
    n_ratios: int
    per_location: int                # A = |scales| · |ratios|
    anchors: np.ndarray              # (H_f·W_f·A, 4)
    n_anchors: int                   # H_f·W_f·A
    labels: AnchorLabels
    neg_per_pos: float               # negatives per positive (n_neg / max(n_pos, 1))
    ranked: np.ndarray               # (P,) positive anchors by decreasing IoU (the best anchor when none is positive)
    sizes: np.ndarray                # (H_f·W_f·A, 2) width, height of each anchor (px)


def rpn_anchors(image_size: tuple[int, int], stride: int, scales: Sequence[float], ratios: Sequence[float], gt,
                fg_iou_thresh: float = 0.7, bg_iou_thresh: float = 0.3) -> AnchorSet:
    r"""Anchors on the feature map of an image of ``image_size`` = (H, W) at ``stride`` (centred in each cell),
    labelled against the ground truth ``gt`` (M, 4) as the RPN does (Ren et al. 2015, Sec. 3.1.1–3.1.2):
    $H_f = \lceil H/\text{stride}\rceil$, $A = |\text{scales}|\cdot|\text{ratios}|$ anchors per location."""
    h, w = image_size
    # H_f = ⌈H / stride⌉, W_f = ⌈W / stride⌉
    fs = (-(-h // stride), -(-w // stride))
    anchors = make_anchors(fs, stride, scales, ratios, offset=0.5)     # (H_f·W_f·A, 4)
    lab = label_anchors(anchors, _as_boxes(gt), fg_iou_thresh, bg_iou_thresh)
    pos = np.nonzero(lab.labels == 1)[0]
    ranked = pos[np.argsort(-lab.max_iou[pos], kind="stable")] if len(pos) else np.array([lab.max_iou.argmax()])
    # negatives per positive
    ratio = lab.n_neg / max(lab.n_pos, 1)
    sizes = np.stack([anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]], 1)   # (K, 2)
    # A = |scales| · |ratios|
    return AnchorSet(fs, len(scales), len(ratios), len(scales) * len(ratios), anchors, len(anchors), lab, ratio,
                     ranked, sizes)


@dataclass(frozen=True)
class BoxTargets:
    t: np.ndarray          # (4,) (t_x, t_y, t_w, t_h) of the ground truth relative to the anchor
    decoded: np.ndarray    # (4,) the box decoded back from t (= the ground truth)


def box_targets(anchor, gt) -> BoxTargets:
    """Encode one ground-truth box against one anchor (Eq. 2) and decode it back."""
    t = encode(_as_boxes(anchor), _as_boxes(gt))                          # (1, 4)
    return BoxTargets(t[0], decode(_as_boxes(anchor), t)[0])


# SSD300 (Liu et al. 2016, Table / torchvision's ssd300_vgg16): six feature maps, their extra ratios and scales
SSD300_FEATURES = ((38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1))
SSD300_RATIOS = ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))
SSD300_SCALES = (0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05)


@dataclass(frozen=True)
class SSDBoxes:
    default: DefaultBoxes
    labels: AnchorLabels             # matched at IoU ≥ 0.5 (SSD's rule), best box per truth included
    boxes_per_level: np.ndarray      # (m,) default boxes on each feature map
    matched_per_level: np.ndarray    # (m,) of them matched to the ground truth
    n_boxes: int                     # all default boxes (8732 for SSD300)
    n_matched: int


def ssd_boxes(image_size: tuple[int, int], gt, feature_sizes=SSD300_FEATURES, aspect_ratios=SSD300_RATIOS,
              scales=SSD300_SCALES, iou_threshold: float = 0.5) -> SSDBoxes:
    """SSD's default boxes on an image, matched to ``gt`` at IoU ≥ 0.5 (Liu et al. 2016, Sec. 2.2 "Matching
    strategy"), with the count of boxes and matches on each feature map."""
    d = ssd_default_boxes(feature_sizes, image_size, aspect_ratios, scales=scales)
    lab = label_anchors(d.boxes, _as_boxes(gt), iou_threshold, iou_threshold)
    m = len(feature_sizes)
    return SSDBoxes(d, lab, np.bincount(d.level, minlength=m), np.bincount(d.level[lab.labels == 1], minlength=m),
                    len(d.boxes), lab.n_pos)
