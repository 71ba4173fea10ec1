r"""Features of a region of interest: RoIPool (quantised bins, max) vs RoIAlign (bilinear samples, average),
and the shapes through Mask R-CNN's heads.

Written in numpy for one RoI as the lesson; ``torchvision.ops.roi_pool`` / ``roi_align`` are the test oracles
(same rounding, same sampling grid, same border rules as their CPU kernels).
Feature coordinates: cell ``(i, j)`` covers ``[j, j+1) × [i, i+1)``; a box in image pixels maps to
``box · spatial_scale``.

References
----------
Girshick, Fast R-CNN, ICCV 2015 (RoI pooling, Sec. 2.1).
He et al., Mask R-CNN, ICCV 2017 (RoIAlign, Sec. 3; mask head, Fig. 4).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def _pair(size) -> tuple[int, int]:
    return (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))


def _round_half_away(x: float) -> int:
    """C's round(): halves go away from zero (numpy's round goes to even)."""
    return int(np.sign(x) * np.floor(abs(x) + 0.5))


@dataclass(frozen=True)
class RoIPoolResult:
    output: np.ndarray      # (C, ph, pw) max over each bin
    bins: np.ndarray        # (ph, pw, 4) int cells [x0, y0, x1, y1), clipped to the map; empty bins have x1<=x0
    roi_cells: np.ndarray   # (4,) int: the RoI after rounding to cells [x1, y1, x2, y2] (inclusive end)


def roi_pool(features, box, output_size, spatial_scale: float = 1.0) -> RoIPoolResult:
    r"""RoIPool (Fast R-CNN): round the RoI to whole cells, split it into $ph \times pw$ bins with floor/ceil,
    take the max in each bin.

    $$x_1' = \lfloor s\,x_1\rceil,\ x_2' = \lfloor s\,x_2\rceil,\quad w' = x_2'-x_1'+1,\quad
      \text{bin}_j = \big[x_1' + \lfloor j\,w'/pw\rfloor,\ x_1' + \lceil (j+1)\,w'/pw\rceil\big),\quad
      y_{c,i,j} = \max_{(u,v)\in\text{bin}_{i,j}} F_{c,v,u}$$

    Parameters
    ----------
    features : array [shape=(C, H, W)]
    box : (x1, y1, x2, y2) in input pixels
    output_size : ph or (ph, pw)
    spatial_scale : feature cells per input pixel (1/stride)

    Returns
    -------
    RoIPoolResult; ``output`` equals ``torchvision.ops.roi_pool(features[None], [box[None]], ...)[0]``.
    """
    f = np.asarray(features, dtype=np.float64)              # (C, H, W)
    c, h, w = f.shape
    ph, pw = _pair(output_size)
    # the quantisation Mask R-CNN removes: coordinates rounded to whole cells
    x1, y1, x2, y2 = (_round_half_away(v * spatial_scale) for v in box)
    roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)   # malformed RoIs become 1×1
    bin_w, bin_h = roi_w / pw, roi_h / ph
    out = np.zeros((c, ph, pw))
    bins = np.zeros((ph, pw, 4), dtype=np.int64)
    for i in range(ph):
        # bin rows [y1 + ⌊i·h'/ph⌋, y1 + ⌈(i+1)·h'/ph⌉), clipped to the map
        y0, y1b = (min(max(v + y1, 0), h) for v in (int(np.floor(i * bin_h)), int(np.ceil((i + 1) * bin_h))))
        for j in range(pw):
            x0, x1b = (min(max(v + x1, 0), w) for v in (int(np.floor(j * bin_w)), int(np.ceil((j + 1) * bin_w))))
            bins[i, j] = (x0, y0, x1b, y1b)
            if x1b > x0 and y1b > y0:
                # y_{c,i,j} = max over the bin (an empty bin gives 0)
                out[:, i, j] = f[:, y0:y1b, x0:x1b].max(axis=(1, 2))
    return RoIPoolResult(out, bins, np.array([x1, y1, x2, y2]))


@dataclass(frozen=True)
class RoIAlignResult:
    output: np.ndarray      # (C, ph, pw) mean of the bilinear samples in each bin
    points: np.ndarray      # (ph, pw, gh, gw, 2) sampling points (x, y) in feature coordinates (cells [j, j+1))
    valid: np.ndarray       # (ph, pw, gh, gw) False where a point falls off the map (it then counts as 0)
    roi: np.ndarray         # (4,) the RoI in feature coordinates, not rounded


def bilinear(f: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Bilinear interpolation of ``f`` (C, H, W) at index coordinates (cell centres at integers), with the border
    rules of torchvision's RoIAlign kernel: points beyond one cell outside give 0, points just outside are clamped.

    $$F(x,y) = \sum_{u\in\{x_0,x_0+1\}}\sum_{v\in\{y_0,y_0+1\}} (1-|x-u|)(1-|y-v|)\,F_{v,u}$$

    Returns ``(values (C, *x.shape), valid (*x.shape))``.
    """
    _, h, w = f.shape
    valid = (y >= -1.0) & (y <= h) & (x >= -1.0) & (x <= w)
    y, x = np.clip(y, 0, None), np.clip(x, 0, None)
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    at_bottom, at_right = y0 >= h - 1, x0 >= w - 1
    y0, x0 = np.where(at_bottom, h - 1, y0), np.where(at_right, w - 1, x0)
    y, x = np.where(at_bottom, y0, y), np.where(at_right, x0, x)
    y1, x1 = np.where(at_bottom, y0, y0 + 1), np.where(at_right, x0, x0 + 1)
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    # F(x, y) = Σ (1−|x−u|)(1−|y−v|) F_{v,u} over the four neighbours
    val = (hy * hx * f[:, y0, x0] + hy * lx * f[:, y0, x1] + ly * hx * f[:, y1, x0] + ly * lx * f[:, y1, x1])
    return np.where(valid, val, 0.0), valid


def roi_align(features, box, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1,
              aligned: bool = False) -> RoIAlignResult:
    r"""RoIAlign (Mask R-CNN): no rounding; each bin averages bilinear samples on a regular grid.

    $$x_1' = s\,x_1 - \tfrac12[\text{aligned}],\quad \text{bin} = \frac{w'}{pw},\quad
      x_{j,k} = x_1' + j\,\text{bin} + \frac{k+\frac12}{g}\,\text{bin},\quad
      y_{c,i,j} = \frac{1}{g_h g_w}\sum_{k,l} F_c(x_{j,k}, y_{i,l})$$

    $g$ = ``sampling_ratio`` points per bin side, or $\lceil w'/pw\rceil$ when it is ≤ 0. ``aligned=False`` (the
    original) also forces $w', h' \ge 1$ and leaves a half-cell misalignment; ``aligned=True`` removes it.

    Returns
    -------
    RoIAlignResult; ``output`` equals ``torchvision.ops.roi_align(..., sampling_ratio, aligned)`` for one RoI.
    """
    f = np.asarray(features, dtype=np.float64)              # (C, H, W)
    ph, pw = _pair(output_size)
    offset = 0.5 if aligned else 0.0
    bx1, by1, bx2, by2 = (float(v) * spatial_scale - offset for v in box)
    roi_w, roi_h = bx2 - bx1, by2 - by1
    if not aligned:                                          # the original forced at least one cell
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    bin_w, bin_h = roi_w / pw, roi_h / ph
    # g points per bin side (adaptive: ⌈bin size⌉), computed in float32 as the kernel does
    gh = sampling_ratio if sampling_ratio > 0 else int(np.ceil(np.float32(roi_h) / np.float32(ph)))
    gw = sampling_ratio if sampling_ratio > 0 else int(np.ceil(np.float32(roi_w) / np.float32(pw)))
    gh, gw = max(gh, 0), max(gw, 0)
    count = max(gh * gw, 1)
    # x_{j,k} = x1' + j·bin + (k + ½)·bin/g
    ys = by1 + np.arange(ph)[:, None] * bin_h + (np.arange(gh)[None, :] + 0.5) * bin_h / max(gh, 1)   # (ph, gh)
    xs = bx1 + np.arange(pw)[:, None] * bin_w + (np.arange(gw)[None, :] + 0.5) * bin_w / max(gw, 1)   # (pw, gw)
    yy = np.broadcast_to(ys[:, None, :, None], (ph, pw, gh, gw))   # (ph, pw, gh, gw)
    xx = np.broadcast_to(xs[None, :, None, :], (ph, pw, gh, gw))
    val, valid = bilinear(f, xx, yy)                         # (C, ph, pw, gh, gw)
    # y_{c,i,j} = (1 / g_h g_w) Σ_{k,l} F_c(x_{j,k}, y_{i,l})
    out = val.sum(axis=(3, 4)) / count                       # (C, ph, pw)
    points = np.stack([xx + 0.5, yy + 0.5], -1)              # index coords → cell coords (centre of cell j at j+½)
    return RoIAlignResult(out, points, valid, np.array([bx1, by1, bx2, by2]) + 0.5)


@dataclass(frozen=True)
class ShiftSweep:
    shifts: np.ndarray       # (S,) sub-pixel shifts of the RoI along x, in feature cells
    pool: np.ndarray         # (S, C, ph, pw) RoIPool outputs
    align: np.ndarray        # (S, C, ph, pw) RoIAlign outputs


def shift_sweep(features, box, output_size, shifts: Sequence[float], spatial_scale: float = 1.0,
                sampling_ratio: int = 2, aligned: bool = True) -> ShiftSweep:
    """RoIPool and RoIAlign of the RoI moved right by each shift (feature cells): RoIPool's output jumps when the
    rounding flips, RoIAlign's moves smoothly."""
    sh = np.asarray(shifts, dtype=np.float64)
    d = sh / spatial_scale                                   # (S,) in input pixels
    boxes = [np.asarray(box, dtype=np.float64) + [s, 0, s, 0] for s in d]
    pool = np.stack([roi_pool(features, b, output_size, spatial_scale).output for b in boxes])
    align = np.stack([roi_align(features, b, output_size, spatial_scale, sampling_ratio, aligned).output
                      for b in boxes])
    return ShiftSweep(sh, pool, align)


def synthetic_features(height: int, width: int) -> np.ndarray:
    """A smooth test pattern (1, H, W): a horizontal ramp plus two soft blobs, so every rounding error shows."""
    y, x = np.mgrid[0:height, 0:width] + 0.5                 # (H, W) cell centres
    ramp = x / width
    blob1 = np.exp(-((x - 0.3 * width) ** 2 + (y - 0.35 * height) ** 2) / (2 * (0.12 * width) ** 2))
    blob2 = 0.7 * np.exp(-((x - 0.7 * width) ** 2 + (y - 0.7 * height) ** 2) / (2 * (0.08 * width) ** 2))
    return (0.5 * ramp + blob1 + blob2)[None]                # (1, H, W)


# ----------------------------------------------------------------------------------------- a real CNN's features


def mobilenet_v2_trunk():
    """MobileNetV2's first blocks (stride 8, 32 channels) with the ImageNet weights of the shared classifier
    (engine.common.classifier: torch hub cache, then the offline package, then a download). Eval mode."""
    from engine.common.classifier import load_mobilenet_v2

    return load_mobilenet_v2().features[:7].eval()           # through the first 32-channel block: stride 8


def cnn_features(trunk, image: np.ndarray) -> np.ndarray:
    """Activations of ``trunk`` on an RGB image (H, W, 3) uint8 → (C, H/8, W/8), ImageNet normalisation."""
    import torch

    from engine.common.classifier import MEAN, STD

    x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1) / 255   # (3, H, W)
    mean = torch.tensor(MEAN)[:, None, None]
    std = torch.tensor(STD)[:, None, None]
    with torch.inference_mode():
        return trunk(((x - mean) / std)[None])[0].numpy().astype(np.float64)   # (C, h, w)


# ---------------------------------------------------------------------------------------- Mask R-CNN's shapes


@dataclass(frozen=True)
class Stage:
    name: str                # module path in torchvision's MaskRCNN
    shape: tuple[int, ...]   # output shape
    group: str               # "input" | "backbone" | "rpn" | "box" | "mask"


@dataclass(frozen=True)
class MaskRCNNShapes:
    stages: list[Stage]      # in order of computation
    level: int               # FPN level P2…P5 the RoI is pooled from
    roi: np.ndarray          # (4,) the RoI in the resized image the network sees


@dataclass(frozen=True)
class MaskRCNNTrunk:
    stages: list[Stage]          # image → transform → FPN levels → RPN head
    features: dict               # FPN name → tensor (1, 256, h, w)
    image_size: tuple[int, int]  # (H, W) of the input
    resized: tuple[int, int]     # (H', W') after model.transform (before padding)


def maskrcnn_trunk(model, image: np.ndarray) -> MaskRCNNTrunk:
    """The box-independent part of :func:`maskrcnn_shapes`: transform → backbone + FPN → RPN head."""
    import torch

    x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1) / 255   # (3, H, W)
    stages = [Stage("image", tuple(x.shape), "input")]
    with torch.inference_mode():
        images, _ = model.transform([x])                                  # resized + normalised, padded to /32
        stages.append(Stage("transform", tuple(images.tensors.shape), "input"))
        feats = model.backbone(images.tensors)                            # OrderedDict of (1, 256, h, w)
        stages += [Stage(f"backbone.fpn['{k}']", tuple(v.shape), "backbone") for k, v in feats.items()]
        objectness, deltas = model.rpn.head(list(feats.values()))        # per level (1, A, h, w), (1, 4A, h, w)
        stages.append(Stage("rpn.head.cls_logits (P2)", tuple(objectness[0].shape), "rpn"))
        stages.append(Stage("rpn.head.bbox_pred (P2)", tuple(deltas[0].shape), "rpn"))
    return MaskRCNNTrunk(stages, dict(feats), tuple(image.shape[:2]), tuple(images.image_sizes[0]))


def maskrcnn_heads(model, trunk: MaskRCNNTrunk, box) -> MaskRCNNShapes:
    """The RoI part of :func:`maskrcnn_shapes` on features from :func:`maskrcnn_trunk`."""
    import torch

    (h0, w0), (h1, w1) = trunk.image_size, trunk.resized
    feats, sizes = trunk.features, [trunk.resized]
    stages = list(trunk.stages)
    with torch.inference_mode():
        scale = torch.tensor([w1 / w0, h1 / h0, w1 / w0, h1 / h0])
        proposals = [torch.as_tensor(np.asarray(box, dtype=np.float32)).reshape(1, 4) * scale]   # (R=1, 4)
        heads = model.roi_heads
        pooled = heads.box_roi_pool(feats, proposals, sizes)                   # (R, 256, 7, 7)
        stages.append(Stage("roi_heads.box_roi_pool", tuple(pooled.shape), "box"))
        rep = heads.box_head(pooled)                                           # (R, 1024)
        stages.append(Stage("roi_heads.box_head", tuple(rep.shape), "box"))
        cls, reg = heads.box_predictor(rep)                                    # (R, K), (R, 4K)
        stages.append(Stage("roi_heads.box_predictor.cls_score", tuple(cls.shape), "box"))
        stages.append(Stage("roi_heads.box_predictor.bbox_pred", tuple(reg.shape), "box"))
        mpooled = heads.mask_roi_pool(feats, proposals, sizes)                 # (R, 256, 14, 14)
        stages.append(Stage("roi_heads.mask_roi_pool", tuple(mpooled.shape), "mask"))
        mfeat = heads.mask_head(mpooled)                                       # (R, 256, 14, 14)
        stages.append(Stage("roi_heads.mask_head", tuple(mfeat.shape), "mask"))
        mlogits = heads.mask_predictor(mfeat)                                  # (R, K, 28, 28)
        stages.append(Stage("roi_heads.mask_predictor", tuple(mlogits.shape), "mask"))
        # FPN Eq. 1 through torchvision's LevelMapper (set up by the pooling call above); it returns k − k_min
        level = int(heads.box_roi_pool.map_levels([proposals[0]])[0]) + 2
    return MaskRCNNShapes(stages, level, proposals[0][0].numpy().astype(np.float64))


def maskrcnn_shapes(model, image: np.ndarray, box) -> MaskRCNNShapes:
    """Run torchvision's ``MaskRCNN`` stage by stage on an image (H, W, 3) uint8 and one RoI ``box`` (input pixels):
    transform → backbone + FPN → RPN head → MultiScaleRoIAlign 7×7 → box head → box predictor, and
    MultiScaleRoIAlign 14×14 → mask head → mask predictor. Returns the stages with their real output shapes, the
    FPN level (2…5) the RoI is pooled from and the RoI in the resized image. The weights are whatever ``model``
    holds; only shapes are reported."""
    return maskrcnn_heads(model, maskrcnn_trunk(model, image), box)


def maskrcnn_untrained(min_size: int = 192, max_size: int = 320):
    """torchvision's ``maskrcnn_resnet50_fpn`` with ``weights=None, weights_backbone=None``: the real architecture,
    random weights (no detection weights ship offline), a small input size. Eval mode."""
    from torchvision.models.detection import maskrcnn_resnet50_fpn

    return maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=min_size, max_size=max_size).eval()


@dataclass(frozen=True)
class TorchvisionCheck:
    pool: float      # max |roi_pool (ours) − torchvision.ops.roi_pool|
    align: float     # max |roi_align (ours) − torchvision.ops.roi_align|


def check_with_torchvision(f: np.ndarray, box, output_size: int, spatial_scale: float, sampling_ratio: int,
                           aligned: bool) -> TorchvisionCheck:
    """Both operators on the current input against torchvision's, the numbers the page prints under the grids."""
    import torch
    from torchvision import ops

    x = torch.tensor(f, dtype=torch.float32)[None]                           # (1, C, H, W)
    b = [torch.tensor([list(box)], dtype=torch.float32)]                     # one RoI (x1, y1, x2, y2)
    tp = ops.roi_pool(x, b, output_size, spatial_scale)[0].numpy()
    ta = ops.roi_align(x, b, output_size, spatial_scale, sampling_ratio, aligned)[0].numpy()
    return TorchvisionCheck(
        float(np.abs(roi_pool(f, box, output_size, spatial_scale).output - tp).max()),
        float(np.abs(roi_align(f, box, output_size, spatial_scale, sampling_ratio, aligned).output - ta).max()))
