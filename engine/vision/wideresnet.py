r"""Wide Residual Networks (WRN-d-k) and thin pre-activation ResNets, built in torch and counted.

WRN-d-k (Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016): conv1 [3×3, 16], then three groups of
N = (d − 4)/6 pre-activation blocks B(3,3) with 16k, 32k, 64k channels at 32×32, 16×16 and 8×8, then
BN-ReLU, 8×8 average pooling and a linear classifier:

$$\text{conv}_{g}:\ \begin{bmatrix} 3\times3,\ 16\cdot 2^{g-2} k \\ 3\times3,\ 16\cdot 2^{g-2} k \end{bmatrix}
  \times N,\qquad N = \frac{d-4}{6},\ g = 2, 3, 4$$

The thin, very deep comparison is the pre-activation bottleneck ResNet of He et al., "Identity Mappings in Deep
Residual Networks", ECCV 2016 (ResNet-164, ResNet-1001: depth 9n + 2).

Parameters and multiply-adds are counted by running the real modules on the ``meta`` device under
``FlopCounterMode`` (FLOPs = 2·MACs for convolutions and linear layers); identical blocks are counted once and
cached, and ``count_full`` runs the whole network in one pass as the oracle.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

CIFAR_SIDE = 32

# Reported CIFAR test errors (%; flip/translation augmentation, mean/std normalisation, median of 5 runs) and
# parameter counts, Zagoruyko & Komodakis 2016 (as listed in the authors' repository README).
# name -> (depth, k or None for the bottleneck pre-act ResNet, params in millions, CIFAR-10 error, CIFAR-100 error)
PAPER_RESULTS: dict[str, tuple[int, int | None, float, float, float]] = {
    "pre-act ResNet-164": (164, None, 1.7, 5.46, 24.33),
    "pre-act ResNet-1001": (1001, None, 10.2, 4.92, 22.71),
    "WRN-28-10": (28, 10, 36.5, 4.00, 19.25),
    "WRN-28-10 + dropout": (28, 10, 36.5, 3.89, 18.85),
}


class WideBasic(nn.Module):
    """Pre-activation block B(3,3): BN-ReLU-conv3×3-BN-ReLU-(dropout)-conv3×3, plus the shortcut
    (1×1 convolution on the pre-activated input when the shape changes)."""

    def __init__(self, in_planes: int, planes: int, stride: int, dropout: float = 0.0,
                 norm_layer=nn.BatchNorm2d) -> None:
        super().__init__()
        self.bn1 = norm_layer(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = norm_layer(planes)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.shortcut = (nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False)
                         if stride != 1 or in_planes != planes else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = torch.relu(self.bn1(x))                                   # (B, C_in, H, W)
        y = self.conv2(self.dropout(torch.relu(self.bn2(self.conv1(o)))))   # (B, C_out, H/s, W/s)
        # x_{l+1} = x_l + F(x_l)   (identity, or a 1×1 projection when the shape changes)
        return y + (self.shortcut(o) if self.shortcut is not None else x)


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck: BN-ReLU-1×1 (m) - BN-ReLU-3×3 (m) - BN-ReLU-1×1 (4m), He et al. 2016."""
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int, norm_layer=nn.BatchNorm2d) -> None:
        super().__init__()
        out = planes * self.expansion
        self.bn1 = norm_layer(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn2 = norm_layer(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn3 = norm_layer(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.shortcut = (nn.Conv2d(in_planes, out, 1, stride=stride, bias=False)
                         if stride != 1 or in_planes != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = torch.relu(self.bn1(x))
        y = self.conv1(o)
        y = self.conv2(torch.relu(self.bn2(y)))
        y = self.conv3(torch.relu(self.bn3(y)))
        return y + (self.shortcut(o) if self.shortcut is not None else x)


class _Head(nn.Module):
    """BN-ReLU, global average pooling (8×8 on CIFAR) and the linear classifier."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(x)).mean(dim=(2, 3)))      # (B, num_classes)


def wrn_blocks_per_group(depth: int) -> int:
    """N = (d − 4) / 6 blocks per group: two 3×3 convolutions per block in three groups, d = 6N + 4 as in
    the authors' code (WRN-28-10: N = 4)."""
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"WRN depth must be 6N + 4 with N ≥ 1, got {depth}")
    return (depth - 4) // 6


def preact_blocks_per_group(depth: int) -> int:
    """n = (d − 2) / 9 for the bottleneck pre-activation ResNet (3 layers per block, 3 groups)."""
    if depth < 11 or (depth - 2) % 9:
        raise ValueError(f"bottleneck ResNet depth must be 9n + 2 with n ≥ 1, got {depth}")
    return (depth - 2) // 9


def _plan(arch: str, depth: int, k: int) -> tuple[int, list[tuple[int, int, int, int]], int]:
    """(stem channels, [(in, planes, stride, blocks) per group], channels into the head)."""
    if arch == "wrn":
        n = wrn_blocks_per_group(depth)
        widths = [16 * k, 32 * k, 64 * k]
        groups, c = [], 16
        for g, wd in enumerate(widths):
            groups.append((c, wd, 1 if g == 0 else 2, n))
            c = wd
        return 16, groups, c
    n = preact_blocks_per_group(depth)
    groups, c = [], 16
    for g, m in enumerate((16, 32, 64)):
        groups.append((c, m, 1 if g == 0 else 2, n))
        c = m * PreActBottleneck.expansion
    return 16, groups, c


def _block(arch: str, in_planes: int, planes: int, stride: int, norm_layer=nn.BatchNorm2d) -> nn.Module:
    if arch == "wrn":
        return WideBasic(in_planes, planes, stride, norm_layer=norm_layer)
    return PreActBottleneck(in_planes, planes, stride, norm_layer=norm_layer)


def _no_norm(num_features: int) -> nn.Module:
    """BatchNorm2d stand-in when counting MACs: FlopCounterMode counts no FLOPs for batch norm, but decomposing
    it costs time.  Parameters are always counted on the real block; ``count_full`` checks both agree."""
    return nn.Identity()


def build(arch: str, depth: int, k: int = 1, num_classes: int = 10, device: str = "meta") -> nn.Sequential:
    """The whole network as Sequential(conv1, group1, group2, group3, head); arch is "wrn" or "preact"."""
    stem, groups, last = _plan(arch, depth, k)
    with torch.device(device):
        layers: list[nn.Module] = [nn.Conv2d(3, stem, 3, padding=1, bias=False)]
        for in_planes, planes, stride, n in groups:
            out = planes if arch == "wrn" else planes * PreActBottleneck.expansion
            blocks = [_block(arch, in_planes, planes, stride)] + [_block(arch, out, planes, 1) for _ in range(n - 1)]
            layers.append(nn.Sequential(*blocks))
        layers.append(_Head(last, num_classes))
        return nn.Sequential(*layers)


def _count(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
    """(params, MACs, output shape) of `module` run on a meta tensor of `shape`."""
    from engine.common.flops import count_flops
    with torch.inference_mode():
        y, flops = count_flops(module.eval(), torch.empty(shape, device="meta"))
    # FlopCounterMode's formulas count one multiply-add as 2 FLOPs
    return sum(p.numel() for p in module.parameters()), flops // 2, tuple(y.shape)


@lru_cache(maxsize=4096)
def _block_cost(arch: str, in_planes: int, planes: int, stride: int, side: int) -> tuple[int, int, tuple[int, ...]]:
    with torch.device("meta"):
        block = _block(arch, in_planes, planes, stride)
        twin = _block(arch, in_planes, planes, stride, norm_layer=_no_norm)
    _, macs, shape = _count(twin, (1, in_planes, side, side))
    return sum(p.numel() for p in block.parameters()), macs, shape


@dataclass(frozen=True)
class Group:
    name: str                     # "conv1", "conv2", "conv3", "conv4", "avg-pool + fc"
    out_shape: tuple[int, ...]    # (C, H, W) of the group's output, or (num_classes,)
    blocks: int
    params: int
    macs: int
    receptive_field: int          # px, after the group


@dataclass(frozen=True)
class NetProfile:
    arch: str                     # "wrn" | "preact"
    depth: int
    k: int
    params: int
    macs: int                     # multiply-adds for one 32×32 image
    groups: tuple[Group, ...]
    receptive_field: int          # theoretical receptive field of the last conv layer (px)


def receptive_field(kernels_strides: list[tuple[int, int]]) -> list[int]:
    r"""Theoretical receptive field after each layer of a chain:

    $$r_l = r_{l-1} + (k_l - 1)\,j_{l-1},\qquad j_l = j_{l-1}\,s_l,\qquad r_0 = j_0 = 1$$

    (Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019).
    """
    r, j, out = 1, 1, []
    for k, s in kernels_strides:
        # r_l = r_{l-1} + (k_l − 1)·j_{l-1}
        r += (k - 1) * j
        # j_l = j_{l-1}·s_l
        j *= s
        out.append(r)
    return out


def receptive_field_curve(arch: str, depth: int, k: int = 1) -> list[int]:
    """Receptive field (px) after each convolution of the longest path: conv1, then every block's convs."""
    _, plan, _ = _plan(arch, depth, k)
    return receptive_field([(3, 1)] + [ks for group in _conv_chain(arch, plan) for ks in group])


def _conv_chain(arch: str, groups: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int]]]:
    """(kernel, stride) of the convolutions on the longest path, per group (shortcuts are shorter)."""
    chain = []
    for _, _, stride, n in groups:
        layers = []
        for b in range(n):
            s = stride if b == 0 else 1
            layers += [(3, s), (3, 1)] if arch == "wrn" else [(1, 1), (3, s), (1, 1)]
        chain.append(layers)
    return chain


@lru_cache(maxsize=512)
def profile(arch: str, depth: int, k: int = 1, num_classes: int = 10, side: int = CIFAR_SIDE) -> NetProfile:
    """Per-group output shapes, parameters, MACs and receptive field of WRN-d-k ("wrn") or the bottleneck
    pre-activation ResNet-d ("preact") on a side×side image; each distinct block is run once and cached."""
    stem, plan, last = _plan(arch, depth, k)
    with torch.device("meta"):
        conv1 = nn.Conv2d(3, stem, 3, padding=1, bias=False)
    p, m, shape = _count(conv1, (1, 3, side, side))
    rf_chain = [(3, 1)]
    groups = [Group("conv1", shape[1:], 1, p, m, receptive_field(rf_chain)[-1])]
    for g, ((in_planes, planes, stride, n), convs) in enumerate(zip(plan, _conv_chain(arch, plan)), start=2):
        h = shape[2]
        p, m, shape = _block_cost(arch, in_planes, planes, stride, h)
        if n > 1:
            rp, rm, _ = _block_cost(arch, shape[1], planes, 1, shape[2])
            p, m = p + (n - 1) * rp, m + (n - 1) * rm
        rf_chain += convs
        groups.append(Group(f"conv{g}", shape[1:], n, p, m, receptive_field(rf_chain)[-1]))
    with torch.device("meta"):
        head = _Head(last, num_classes)
    p, m, out = _count(head, shape)
    groups.append(Group("avg-pool + fc", out[1:], 1, p, m, groups[-1].receptive_field))
    return NetProfile(arch, depth, k, sum(g.params for g in groups), sum(g.macs for g in groups), tuple(groups),
                      groups[-1].receptive_field)


def count_wrn(depth: int, k: int, num_classes: int = 10) -> tuple[int, int]:
    """(params, MACs at 32×32) of WRN-depth-k.  WRN-28-10 has 36.5 M parameters (Zagoruyko & Komodakis 2016)."""
    prof = profile("wrn", int(depth), int(k), int(num_classes))
    return prof.params, prof.macs


def count_preact(depth: int, num_classes: int = 10) -> tuple[int, int]:
    """(params, MACs at 32×32) of the bottleneck pre-activation ResNet-depth (ResNet-164: 1.7 M, -1001: 10.2 M)."""
    prof = profile("preact", int(depth), 1, int(num_classes))
    return prof.params, prof.macs


def count_full(arch: str, depth: int, k: int = 1, num_classes: int = 10, side: int = CIFAR_SIDE) -> tuple[int, int]:
    """Oracle: the whole network on the meta device, counted in one forward pass."""
    params, macs, _ = _count(build(arch, depth, k, num_classes), (1, 3, side, side))
    return params, macs


def preact_depth_matching(params: int, num_classes: int = 10, max_depth: int = 4997) -> int:
    """Depth 9n + 2 of the thin bottleneck ResNet whose counted parameters are closest to ``params``.

    Parameters grow linearly in n past the first block of each group, so n is solved from two counts."""
    p1, _ = count_preact(11, num_classes)
    p2, _ = count_preact(20, num_classes)
    per_n = p2 - p1
    n = max(1, round(1 + (params - p1) / per_n))
    return min(9 * n + 2, max_depth)


# ---------------------------------------------------------------------------------------------------------
# What the page reads: the comparison table and the reported results, every number from the counts above

THIN_CHOICES = ("thin_matched", "thin_164", "thin_1001")


@dataclass(frozen=True)
class CompareRow:
    name: str                     # "WRN-28-10", "ResNet-3539", ...
    profile: NetProfile
    width: int                    # channels of the last group (64k, or 4·64 for the bottleneck ResNet)
    sequential_convs: int         # convolutions on the longest path (conv1 + every block's convolutions)
    params_ratio: float           # params / your WRN's params
    depth_ratio: float            # depth / your WRN's depth


def comparison(depth: int, k: int, thin: str = "thin_matched") -> tuple[CompareRow, ...]:
    r"""Your WRN-d-k, a thin pre-activation ResNet (the one of closest parameter count, or ResNet-164 / -1001),
    and the paper's WRN-28-10, ResNet-164 and ResNet-1001, each counted, with ratios to your WRN:
    $\frac{\text{params}}{\text{params}_\text{WRN}}$ and $\frac{d}{d_\text{WRN}}$."""
    you = profile("wrn", depth, k)
    thin_depth = {"thin_matched": preact_depth_matching(you.params), "thin_164": 164, "thin_1001": 1001}[thin]
    nets = {f"WRN-{depth}-{k}": you, f"ResNet-{thin_depth}": profile("preact", thin_depth, 1)}
    for name, (arch, d, kk) in {"WRN-28-10": ("wrn", 28, 10), "ResNet-164": ("preact", 164, 1),
                                "ResNet-1001": ("preact", 1001, 1)}.items():
        nets.setdefault(name, profile(arch, d, kk))
    # ratios to your WRN: params / params_WRN, depth / depth_WRN
    return tuple(CompareRow(name, p, p.groups[-2].out_shape[0], len(receptive_field_curve(p.arch, p.depth, p.k)),
                            p.params / you.params, p.depth / you.depth) for name, p in nets.items())


@dataclass(frozen=True)
class ResultRow:
    name: str
    depth: int
    reported_params: float        # millions, as the authors list them
    counted_params: int           # counted here
    cifar10_error: float          # %, reported
    cifar100_error: float         # %, reported


def paper_results() -> tuple[ResultRow, ...]:
    """The authors' reported CIFAR errors with the parameters counted here for each network."""
    rows = []
    for name, (d, k, reported, c10, c100) in PAPER_RESULTS.items():
        p = profile("wrn", d, k) if k else profile("preact", d, 1)
        rows.append(ResultRow(name, d, reported, p.params, c10, c100))
    return tuple(rows)


def layers_ratio(deep: str = "pre-act ResNet-1001", wide: str = "WRN-28-10") -> float:
    r"""How many times deeper the thin network of the results table is: $d_\text{deep} / d_\text{wide}$."""
    # d_deep / d_wide
    return PAPER_RESULTS[deep][0] / PAPER_RESULTS[wide][0]
