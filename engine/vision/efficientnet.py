r"""EfficientNet compound scaling, counted on the real torchvision network.

Compound scaling (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
ICML 2019, Eq. 3):

$$d = \alpha^{\phi},\quad w = \beta^{\phi},\quad r = \gamma^{\phi}
  \quad\text{s.t.}\quad \alpha\cdot\beta^{2}\cdot\gamma^{2}\approx 2,\ \alpha,\beta,\gamma\ge 1$$

Every parameter and multiply–add count here comes from instantiating torchvision's own EfficientNet building
blocks (``MBConv``, ``Conv2dNormActivation``, ``SqueezeExcitation``) on the ``meta`` device (shapes only, no
memory).  ``profile`` reads each block's convolutions from the built module and counts
H_out·W_out·C_out·(C_in/g)·k² multiply-adds per convolution; a block is built once per channel configuration and
reused at every resolution, so a slider change stays fast.  ``count_model_full`` runs the whole network on the meta
device with the formulas of ``torch.utils.flop_counter`` (engine/common/flops.py, thread-local; FLOPs = 2·MACs for convolutions and matrix products) and
is the oracle the tests compare with.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch
from torch import nn

BASE_RESOLUTION = 224          # EfficientNet-B0 input side (px)
# Tan & Le's grid-searched bases for phi = 1 (Sec. 3.3).
PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA = 1.2, 1.1, 1.15

# torchvision's presets: name -> (width_mult, depth_mult, resolution (the paper's; torchvision's B2 weights
# are evaluated at 288 px instead of 260)).
# Rounded by hand in the reference implementation; they are NOT exactly alpha^phi, beta^phi, gamma^phi.
PRESETS: dict[str, tuple[float, float, int]] = {
    "B0": (1.0, 1.0, 224),
    "B1": (1.0, 1.1, 240),
    "B2": (1.1, 1.2, 260),
    "B3": (1.2, 1.4, 300),
    "B4": (1.4, 1.8, 380),
    "B5": (1.6, 2.2, 456),
    "B6": (1.8, 2.6, 528),
    "B7": (2.0, 3.1, 600),
}

# Tan & Le 2019, Table 2 (ImageNet top-1 %, parameters in millions, FLOPs in billions as reported),
# and GPipe (Huang et al. 2019) as listed in the same table.  Reported numbers, not computed here.
PAPER_TABLE: tuple[tuple[str, float, float, float], ...] = (
    ("EfficientNet-B0", 77.1, 5.3, 0.39),
    ("EfficientNet-B1", 79.1, 7.8, 0.70),
    ("EfficientNet-B2", 80.1, 9.2, 1.0),
    ("EfficientNet-B3", 81.6, 12.0, 1.8),
    ("EfficientNet-B4", 82.9, 19.0, 4.2),
    ("EfficientNet-B5", 83.6, 30.0, 9.9),
    ("EfficientNet-B6", 84.0, 43.0, 19.0),
    ("EfficientNet-B7", 84.3, 66.0, 37.0),
    ("ResNet-50", 76.0, 26.0, 4.1),
    ("ResNet-152", 77.8, 60.0, 11.0),
    ("DenseNet-201", 77.3, 20.0, 4.3),
    ("Xception", 79.0, 23.0, 8.4),
    ("Inception-v4", 80.0, 48.0, 13.0),
    ("ResNeXt-101", 80.9, 84.0, 32.0),
    ("SENet", 82.7, 146.0, 42.0),
    ("NASNet-A", 82.7, 89.0, 24.0),
    ("AmoebaNet-C", 83.5, 155.0, 41.0),
    ("GPipe", 84.3, 556.0, float("nan")),
)


@dataclass(frozen=True)
class Stage:
    """One row of the paper's Table 1 for the scaled network."""
    operator: str                 # "Conv3x3", "MBConv6, k5x5", "Conv1x1 & Pooling & FC"
    resolution: tuple[int, int]   # input (H, W) of the stage
    channels: int                 # output channels
    layers: int                   # number of blocks
    params: int
    macs: int


@dataclass(frozen=True)
class NetProfile:
    width_mult: float
    depth_mult: float
    resolution: int
    params: int                   # total parameters (== torchvision model's)
    macs: int                     # multiply-adds (FlopCounterMode FLOPs / 2)
    stages: tuple[Stage, ...]     # stem, 7 MBConv stages, head


def compound_scaling(alpha: float, beta: float, gamma: float, phi: float) -> tuple[float, float, float]:
    r"""Depth, width and resolution multipliers of compound scaling.

    $$d = \alpha^{\phi},\quad w = \beta^{\phi},\quad r = \gamma^{\phi}$$

    Returns ``(depth_mult, width_mult, resolution_mult)``.  Tan & Le 2019, Eq. 3.
    """
    # d = α^φ, w = β^φ, r = γ^φ
    return alpha ** phi, beta ** phi, gamma ** phi


def flops_factor(alpha: float, beta: float, gamma: float, phi: float) -> float:
    r"""Predicted FLOPs growth of compound scaling: FLOPs ∝ d·w²·r², so

    $$\frac{\mathrm{FLOPs}(\phi)}{\mathrm{FLOPs}(0)} = (\alpha\cdot\beta^{2}\cdot\gamma^{2})^{\phi}\approx 2^{\phi}$$

    Tan & Le 2019, Sec. 3.3.
    """
    # (α·β²·γ²)^φ
    return (alpha * beta ** 2 * gamma ** 2) ** phi


def budget_target(phi: float) -> float:
    r"""The FLOPs budget of compound coefficient φ, as a multiple of B0's: $2^{\phi}$ (Tan & Le 2019, Sec. 3.3)."""
    # t = 2^φ
    return 2.0 ** phi


def scaled_resolution(resolution_mult: float) -> int:
    """Input side for a resolution multiplier: 224·r rounded to a whole pixel (at least 32)."""
    return max(32, int(round(BASE_RESOLUTION * resolution_mult)))


def single_dimension(target: float) -> dict[str, tuple[float, float, int]]:
    r"""Scale one dimension only so that the predicted FLOPs grow by ``target``.

    FLOPs ∝ d·w²·r², so depth alone needs $d = t$, width alone $w = \sqrt{t}$, resolution alone $r = \sqrt{t}$.
    Returns name -> (width_mult, depth_mult, resolution).
    """
    root = math.sqrt(target)
    return {
        "depth": (1.0, target, BASE_RESOLUTION),          # d = t
        "width": (root, 1.0, BASE_RESOLUTION),            # w = √t
        "resolution": (1.0, 1.0, scaled_resolution(root)),  # r = √t
    }


def stage_settings(width_mult: float, depth_mult: float):
    """torchvision's B0 stage settings (Table 1: expand ratio, kernel, stride, channels, layers) scaled by the
    multipliers with torchvision's rounding, and the last channel count (None: 4 × the last stage's)."""
    from torchvision.models.efficientnet import _efficientnet_conf
    return _efficientnet_conf("efficientnet_b0", width_mult=width_mult, depth_mult=depth_mult)


def build_model(width_mult: float, depth_mult: float, device: str = "meta") -> nn.Module:
    """The scaled EfficientNet built from torchvision's classes (meta device: shapes only, no weights)."""
    from torchvision.models.efficientnet import EfficientNet
    setting, last_channel = stage_settings(width_mult, depth_mult)
    with torch.device(device):
        return EfficientNet(setting, dropout=0.2, last_channel=last_channel)


def _count(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
    """(params, MACs, output shape) of one module run on a meta tensor of `shape`."""
    from engine.common.flops import count_flops
    x = torch.empty(shape, device="meta")
    with torch.inference_mode():
        y, flops = count_flops(module.eval(), x)
    params = sum(p.numel() for p in module.parameters())
    # FlopCounterMode's formulas count a multiply-add as 2 FLOPs
    return params, flops // 2, tuple(y.shape)


# One convolution as torchvision built it: (C_out, C_in/g, k_h, k_w, stride, padding, dilation, pooled), where
# `pooled` marks the SE convolutions, which run on the 1×1 squeezed map whatever the block's resolution.
ConvSpec = tuple[int, int, int, int, tuple[int, int], tuple[int, int], tuple[int, int], bool]


def _spec(conv: nn.Conv2d, pooled: bool = False) -> ConvSpec:
    return (conv.out_channels, conv.in_channels // conv.groups, *conv.kernel_size, tuple(conv.stride),
            tuple(conv.padding), tuple(conv.dilation), pooled)


def _conv_macs(specs: tuple[ConvSpec, ...], h: int, w: int) -> tuple[int, int, int]:
    r"""(MACs, H_out, W_out) of a chain of convolutions read from torchvision's modules.

    Per convolution, as FlopCounterMode counts it (bias adds not counted):
    $$\mathrm{MACs} = H_{out} W_{out}\cdot C_{out}\cdot \tfrac{C_{in}}{g}\cdot k_h k_w,\quad
      H_{out} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1$$
    """
    macs = 0
    for c_out, c_in_g, kh, kw, (sh, sw), (ph, pw), (dh, dw), pooled in specs:
        ih, iw = (1, 1) if pooled else (h, w)
        oh = (ih + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (iw + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        # H_out·W_out·C_out·(C_in/g)·k_h·k_w
        macs += oh * ow * c_out * c_in_g * kh * kw
        if not pooled:
            h, w = oh, ow
    return macs, h, w


@lru_cache(maxsize=4096)
def _block_structure(expand_ratio: float, kernel: int, stride: int, input_channels: int,
                     out_channels: int) -> tuple[int, tuple[ConvSpec, ...]]:
    """(params, convolutions in execution order) of one torchvision MBConv, built once on the meta device.

    The structure does not depend on the input resolution, so a resolution change reuses it.
    """
    from torchvision.models.efficientnet import MBConv, _MBConvConfig
    from torchvision.ops import SqueezeExcitation
    cnf = _MBConvConfig(expand_ratio, kernel, stride, input_channels, out_channels, 1, MBConv)
    with torch.device("meta"):
        block = MBConv(cnf, 0.0, nn.BatchNorm2d)
    specs = []
    for layer in block.block:              # expand 1×1 → depthwise k×k → SE → project 1×1
        if isinstance(layer, SqueezeExcitation):
            specs += [_spec(layer.fc1, pooled=True), _spec(layer.fc2, pooled=True)]
        else:
            specs.append(_spec(layer[0]))
    return sum(p.numel() for p in block.parameters()), tuple(specs)


@lru_cache(maxsize=8192)
def _block_cost(expand_ratio: float, kernel: int, stride: int, input_channels: int, out_channels: int,
                h: int, w: int) -> tuple[int, int, tuple[int, ...]]:
    """Cost of one torchvision MBConv block at input (1, input_channels, h, w), cached per configuration."""
    params, specs = _block_structure(expand_ratio, kernel, stride, input_channels, out_channels)
    macs, oh, ow = _conv_macs(specs, h, w)
    return params, macs, (1, out_channels, oh, ow)


@lru_cache(maxsize=1024)
def _conv_bn_act_cost(in_channels: int, out_channels: int, kernel: int, stride: int,
                      h: int, w: int) -> tuple[int, int, tuple[int, ...]]:
    from torchvision.ops.misc import Conv2dNormActivation
    with torch.device("meta"):
        layer = Conv2dNormActivation(in_channels, out_channels, kernel_size=kernel, stride=stride,
                                     norm_layer=nn.BatchNorm2d, activation_layer=nn.SiLU)
    macs, oh, ow = _conv_macs((_spec(layer[0]),), h, w)
    return sum(p.numel() for p in layer.parameters()), macs, (1, out_channels, oh, ow)


@lru_cache(maxsize=512)
def _classifier_cost(in_features: int, num_classes: int) -> tuple[int, int]:
    # Linear: in·out MACs, in·out + out parameters
    return in_features * num_classes + num_classes, in_features * num_classes


@lru_cache(maxsize=512)
def profile(width_mult: float, depth_mult: float, resolution: int, num_classes: int = 1000) -> NetProfile:
    """Stage table (Tan & Le 2019, Table 1) with parameters and MACs of the scaled network.

    Walks torchvision's own stage settings; each distinct block (first block of a stage, and the repeated
    ones) is built on the meta device once per channel configuration, its convolutions counted at this
    resolution, then multiplied by its repeat count.
    """
    setting, last_channel = stage_settings(width_mult, depth_mult)
    h = w = resolution
    stages: list[Stage] = []
    stem_channels = setting[0].input_channels
    p, m, shape = _conv_bn_act_cost(3, stem_channels, 3, 2, h, w)
    stages.append(Stage("Conv3x3", (h, w), stem_channels, 1, p, m))
    h, w = shape[2], shape[3]
    for cnf in setting:
        first = _block_cost(cnf.expand_ratio, cnf.kernel, cnf.stride, cnf.input_channels, cnf.out_channels, h, w)
        p, m, shape = first
        oh, ow = shape[2], shape[3]
        if cnf.num_layers > 1:
            rp, rm, _ = _block_cost(cnf.expand_ratio, cnf.kernel, 1, cnf.out_channels, cnf.out_channels, oh, ow)
            p, m = p + (cnf.num_layers - 1) * rp, m + (cnf.num_layers - 1) * rm
        op = f"MBConv{cnf.expand_ratio:g}, k{cnf.kernel}x{cnf.kernel}"
        stages.append(Stage(op, (h, w), cnf.out_channels, cnf.num_layers, p, m))
        h, w = oh, ow
    last_in = setting[-1].out_channels
    last_out = last_channel if last_channel is not None else 4 * last_in
    hp, hm, _ = _conv_bn_act_cost(last_in, last_out, 1, 1, h, w)
    fp, fm = _classifier_cost(last_out, num_classes)
    stages.append(Stage("Conv1x1 & Pooling & FC", (h, w), last_out, 1, hp + fp, hm + fm))
    return NetProfile(width_mult, depth_mult, resolution, sum(s.params for s in stages),
                      sum(s.macs for s in stages), tuple(stages))


def count_model(width_mult: float, depth_mult: float, resolution: int) -> tuple[int, int]:
    """(params, MACs) of the EfficientNet family member with these multipliers at ``resolution``² px.

    Same parameter count as torchvision's ``efficientnet_bN(weights=None)``; B0 at 224 px gives 0.386 G MACs
    (paper: 0.39 B FLOPs, which Tan & Le count as multiply-adds).
    """
    prof = profile(float(width_mult), float(depth_mult), int(resolution))
    return prof.params, prof.macs


def count_model_full(width_mult: float, depth_mult: float, resolution: int) -> tuple[int, int]:
    """Oracle: build the whole network on the meta device and count it in one forward pass (slower)."""
    params, macs, _ = _count(build_model(width_mult, depth_mult), (1, 3, resolution, resolution))
    return params, macs


# ---------------------------------------------------------------------------------------------------------
# MBConv anatomy and Squeeze-and-Excitation

@dataclass(frozen=True)
class LayerInfo:
    name: str                     # "expand 1x1", "depthwise 5x5", "SE squeeze", ...
    in_shape: tuple[int, ...]     # (C, H, W) or (C,)
    out_shape: tuple[int, ...]
    params: int
    macs: int


def conv_params(in_channels: int, out_channels: int, kernel_size: int, groups: int = 1, bias: bool = False) -> int:
    r"""Weights of a k×k convolution: $C_{out}\cdot\frac{C_{in}}{g}\cdot k^2$ (+ bias).

    Depthwise ($g = C_{in} = C_{out} = C$): $C k^2$ instead of $C^2 k^2$ for an ordinary convolution.
    """
    # C_out · (C_in / g) · k²
    return out_channels * (in_channels // groups) * kernel_size ** 2 + (out_channels if bias else 0)


def mbconv_anatomy(expand_ratio: float, kernel: int, stride: int, input_channels: int, out_channels: int,
                   h: int, w: int) -> tuple[LayerInfo, ...]:
    """Run torchvision's MBConv layer by layer (meta device) and report each layer's shapes and cost.

    expand 1×1 → depthwise k×k → SE (squeeze, reduce, expand, scale) → project 1×1 (→ + skip).
    Sandler et al. 2018 (MobileNetV2, inverted residual); Hu et al. 2018 (SE); Tan & Le 2019, Fig. 2 / Table 1.
    """
    from torchvision.models.efficientnet import MBConv, _MBConvConfig

    from engine.common.flops import count_flops
    from torchvision.ops import SqueezeExcitation
    cnf = _MBConvConfig(expand_ratio, kernel, stride, input_channels, out_channels, 1, MBConv)
    with torch.device("meta"):
        block = MBConv(cnf, 0.0, nn.BatchNorm2d).eval()
    x = torch.empty(1, input_channels, h, w, device="meta")   # (1, C_in, H, W)
    out: list[LayerInfo] = []

    def run(name: str, mod: nn.Module, inp: torch.Tensor, fn=None) -> torch.Tensor:
        with torch.inference_mode():
            y, flops = count_flops(fn if fn is not None else mod, inp)
        out.append(LayerInfo(name, tuple(inp.shape[1:]), tuple(y.shape[1:]),
                             sum(p.numel() for p in mod.parameters()), flops // 2))
        return y

    u = x
    for layer in block.block:
        if isinstance(layer, SqueezeExcitation):
            z = run("SE squeeze F_sq", nn.Identity(), u, lambda t: layer.avgpool(t))   # (1, C, 1, 1)
            a = run("SE reduce fc1", layer.fc1, z, lambda t: layer.activation(layer.fc1(t)))
            s = run("SE expand fc2", layer.fc2, a, lambda t: layer.scale_activation(layer.fc2(t)))
            u = run("SE scale F_scale", nn.Identity(), u, lambda t: t * s)              # (1, C, H, W)
        else:
            conv = layer[0]
            if conv.groups > 1:
                name = f"depthwise {conv.kernel_size[0]}x{conv.kernel_size[1]}"
            elif layer is block.block[-1]:
                name = "project 1x1"
            else:
                name = "expand 1x1"
            u = run(name, layer, u)
    if block.use_res_connect:
        out.append(LayerInfo("skip +", tuple(x.shape[1:]), tuple(u.shape[1:]), 0, 0))
    return tuple(out)


@dataclass(frozen=True)
class SEResult:
    u: np.ndarray        # (C, H, W) feature map U entering the SE
    z: np.ndarray        # (C,) squeeze  z = F_sq(U)
    s: np.ndarray        # (C,) excitation weights  s = F_ex(z) in (0, 1)
    x_tilde: np.ndarray  # (C, H, W)  F_scale(U, s) = s_c · U_c
    image: np.ndarray | None = None   # (size, size, 3) uint8: the reader's image as the trunk saw it (resized)


def squeeze_excitation(u: torch.Tensor, fc1_weight: torch.Tensor, fc1_bias: torch.Tensor,
                       fc2_weight: torch.Tensor, fc2_bias: torch.Tensor) -> SEResult:
    r"""Squeeze-and-Excitation (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018, Eq. 2–4),
    with EfficientNet's SiLU in place of ReLU:

    $$z_c = F_{sq}(u_c) = \frac{1}{HW}\sum_{i,j} u_c(i,j),\quad
      s = F_{ex}(z) = \sigma\!\left(W_2\,\delta(W_1 z)\right),\quad
      \tilde{x}_c = F_{scale}(u_c, s_c) = s_c\,u_c$$

    ``u`` is (C, H, W); ``fc1_weight`` (C_r, C, 1, 1) and ``fc2_weight`` (C, C_r, 1, 1) as in
    ``torchvision.ops.SqueezeExcitation``.
    """
    w1 = fc1_weight.flatten(1)                       # (C_r, C)
    w2 = fc2_weight.flatten(1)                       # (C, C_r)
    # z_c = 1/(HW) Σ_ij u_c(i, j)
    z = u.mean(dim=(1, 2))                           # (C,)
    # s = σ(W2 δ(W1 z)), δ = SiLU in EfficientNet
    s = torch.sigmoid(w2 @ torch.nn.functional.silu(w1 @ z + fc1_bias) + fc2_bias)   # (C,)
    # x̃_c = s_c · u_c
    x_tilde = s[:, None, None] * u                   # (C, H, W)
    return SEResult(*(v.detach().numpy() for v in (u, z, s, x_tilde)))


from engine.common.classifier import MEAN as IMAGENET_MEAN, STD as IMAGENET_STD  # noqa: E402 — one definition


@lru_cache(maxsize=4)
def seeded_trunk(seed: int = 0) -> nn.Module:
    """EfficientNet-B0's stem and first two stages (torchvision classes) with seeded, UNTRAINED weights.

    The weights come from a ``torch.Generator`` seeded with ``seed`` (He-normal, fan-out, as torchvision's
    init); no global seed is touched.  Returned in eval mode; callers must not modify it.
    """
    model = build_model(1.0, 1.0, device="meta")       # meta: torchvision's init draws no global random numbers
    trunk = nn.Sequential(*list(model.features.children())[:3]).to_empty(device="cpu").eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in trunk.modules():
            if isinstance(m, nn.BatchNorm2d):                # identity statistics: γ=1, β=0, μ=0, σ²=1
                m.reset_parameters()
            elif isinstance(m, nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    m.bias.copy_(0.5 * torch.randn(m.bias.shape, generator=g))
    for p in trunk.parameters():
        p.requires_grad_(False)
    return trunk


def se_blocks(trunk: nn.Module) -> list[tuple[int, int]]:
    """(stage, block) index of every MBConv in the trunk, in order."""
    return [(si, bi) for si in range(1, len(trunk)) for bi in range(len(trunk[si]))]


def se_on_image(image: np.ndarray, trunk: nn.Module, stage: int, block: int, size: int = 224) -> SEResult:
    """Run the trunk explicitly on an image up to the SE of block (stage, block) and return F_sq, F_ex, F_scale.

    ``image``: (H, W, 3) uint8 RGB.  Resized to ``size``², ImageNet-normalised; the resized picture comes back as
    ``SEResult.image``, so the page shows the weights next to the very image they were computed from.
    """
    x = torch.tensor(np.asarray(image), dtype=torch.float32).permute(2, 0, 1)[None] / 255.0   # (1, 3, H, W)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                                        align_corners=False)
    seen = (x[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()   # (size, size, 3)
    x = (x - torch.tensor(IMAGENET_MEAN)[:, None, None]) / torch.tensor(IMAGENET_STD)[:, None, None]
    with torch.inference_mode():
        x = trunk[0](x)                                              # stem: (1, 32, size/2, size/2)
        for si in range(1, stage):
            x = trunk[si](x)
        for bi in range(block):
            x = trunk[stage][bi](x)
        layers = list(trunk[stage][block].block)
        u = x
        for layer in layers[:-2]:                                    # expand (if any) and depthwise
            u = layer(u)                                             # (1, C, H', W')
        se = layers[-2]
        res = squeeze_excitation(u[0], se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias)
    return replace(res, image=seen)


# ---------------------------------------------------------------------------------------------------------
# What the page reads: one scaling step, the preset table, the depthwise saving

@dataclass(frozen=True)
class Scaling:
    """Compound scaling at (α, β, γ, φ), with the network built and counted against B0."""
    depth_mult: float             # d = α^φ
    width_mult: float             # w = β^φ
    resolution_mult: float        # r = γ^φ
    resolution: int               # 224·r rounded to a pixel
    constraint: float             # α·β²·γ²
    predicted: float              # (α·β²·γ²)^φ
    counted: float                # counted MACs / B0's counted MACs
    net: NetProfile
    base: NetProfile              # B0 at 224 px


def constraint_value(alpha: float, beta: float, gamma: float) -> float:
    r"""The left side of Tan & Le's constraint, $\alpha\cdot\beta^{2}\cdot\gamma^{2}$ (Eq. 3)."""
    # α·β²·γ²
    return alpha * beta ** 2 * gamma ** 2


def scaling(alpha: float, beta: float, gamma: float, phi: float) -> Scaling:
    r"""Compound scaling of B0 by φ, built with torchvision's rounding and counted:

    $$\frac{\mathrm{MACs}(d, w, r)}{\mathrm{MACs}(1, 1, 1)}\quad\text{vs}\quad(\alpha\cdot\beta^{2}\cdot\gamma^{2})^{\phi}$$
    """
    d, w, r = compound_scaling(alpha, beta, gamma, phi)
    res = scaled_resolution(r)
    base = profile(1.0, 1.0, BASE_RESOLUTION)
    net = profile(round(w, 4), round(d, 4), res)
    # counted growth = MACs(net) / MACs(B0)
    return Scaling(d, w, r, res, constraint_value(alpha, beta, gamma), flops_factor(alpha, beta, gamma, phi),
                   net.macs / base.macs, net, base)


@dataclass(frozen=True)
class PresetRow:
    name: str                     # "B0" … "B7"
    phi: int                      # N of "BN"
    width_mult: float             # torchvision's hand-rounded w
    depth_mult: float             # torchvision's d
    resolution: int               # torchvision's / the paper's input side
    beta_phi: float               # β^N with the paper's β
    alpha_phi: float              # α^N
    gamma_resolution: int         # 224·γ^N rounded
    params: int
    macs: int
    macs_ratio: float             # MACs / B0's MACs


def preset_rows() -> tuple[PresetRow, ...]:
    r"""torchvision's B0–B7 next to the paper's $\beta^N, \alpha^N, 224\gamma^N$, each counted."""
    rows = []
    base = profile(*PRESETS["B0"])
    for name, (w, d, res) in PRESETS.items():
        n = int(name[1:])
        p = profile(w, d, res)
        # β^N, α^N, 224·γ^N with the paper's bases
        rows.append(PresetRow(name, n, w, d, res, PAPER_BETA ** n, PAPER_ALPHA ** n,
                              scaled_resolution(PAPER_GAMMA ** n), p.params, p.macs, p.macs / base.macs))
    return tuple(rows)


@dataclass(frozen=True)
class DepthwiseSaving:
    kernel: int
    channels: int
    depthwise: int                # C·k² weights
    full: int                     # C²·k² weights
    ratio: int                    # full / depthwise = C


def depthwise_saving(kernel: int, channels: int) -> DepthwiseSaving:
    r"""Weights of a depthwise k×k convolution on C channels against an ordinary C→C one:
    $C k^2$ vs $C^2 k^2$, a saving of $1/C$."""
    dw = conv_params(channels, channels, kernel, groups=channels)
    full = conv_params(channels, channels, kernel)
    # C²k² / (C k²) = C
    return DepthwiseSaving(kernel, channels, dw, full, full // dw)


# ---------------------------------------------------------------------------------------------------------
# Spending one FLOPs budget four ways, each at the setting closest to the budget

# Scaling strategies: how a scalar x becomes (width_mult, depth_mult, resolution).  x is d (depth), w (width),
# the input side in px (resolution) or φ′ with fixed bases (compound).
STRATEGIES = ("depth", "width", "resolution", "compound")
_B0_LAYERS = (1, 2, 2, 3, 3, 4, 1)                       # Table 1: layers per MBConv stage
_B0_CHANNELS = (32, 16, 24, 40, 80, 112, 192, 320)       # every channel count torchvision scales (head = 4 × 320·w)


@dataclass(frozen=True)
class BudgetFit:
    """One strategy at the setting whose counted MACs are closest to the budget."""
    strategy: str                 # "depth" | "width" | "resolution" | "compound" | "yours"
    x: float                      # the strategy's own parameter (d, w, px or φ′)
    width_mult: float
    depth_mult: float
    resolution: int
    blocks: int                   # MBConv blocks (Σ ⌈n_i·d⌉)
    head_channels: int            # channels of the last 1×1 convolution (4 × ⌊320·w⌉₈)
    params: int
    macs: int
    budget: float                 # target MACs = t · MACs(B0)
    deviation: float              # MACs / budget − 1
    searched: int                 # distinct settings in the search space up to the budget's neighbours


def _setting(strategy: str, x: float, bases: tuple[float, float, float]) -> tuple[float, float, int]:
    """(width_mult, depth_mult, resolution) of a strategy at its parameter x."""
    alpha, beta, gamma = bases
    if strategy == "depth":
        return 1.0, x, BASE_RESOLUTION
    if strategy == "width":
        return x, 1.0, BASE_RESOLUTION
    if strategy == "resolution":
        return 1.0, 1.0, int(x)
    d, w, r = compound_scaling(alpha, beta, gamma, x)
    return w, d, scaled_resolution(r)


def _breaks(strategy: str, hi: float, bases: tuple[float, float, float]) -> np.ndarray:
    r"""Every x in (x₀, hi] where the built network can change, from the engine's own rounding:
    layers $\lceil n\,d\rceil$ change at $d = k/n$; channels $\lfloor c\,w + 4\rfloor_8$ at $c\,w = 8m - 4$ (and at
    $c\,w = 8m/0.9$, where torchvision's "no more than 10 % down" rule adds 8); the side $\mathrm{round}(224 r)$ at
    $224 r = k + \tfrac12$.  Between two consecutive breaks the network is one and the same."""
    alpha, beta, gamma = bases
    if strategy == "compound":
        d_hi, w_hi, r_hi = compound_scaling(alpha, beta, gamma, hi)
    else:
        d_hi = hi if strategy == "depth" else 1.0
        w_hi = hi if strategy == "width" else 1.0
        r_hi = 1.0
    out = []
    if d_hi > 1:
        ds = np.unique(np.concatenate([np.arange(n, math.ceil(n * d_hi) + 1) / n for n in set(_B0_LAYERS)]))
        out.append(ds if strategy == "depth" else np.log(ds) / math.log(alpha))
    if w_hi > 1:
        ws = []
        for c in _B0_CHANNELS:
            m = np.arange(1, math.ceil(c * w_hi / 8) + 2)
            ws += [(8 * m - 4) / c, 8 * m / 0.9 / c]
        ws = np.concatenate(ws)
        ws = ws[ws > 1]
        out.append(ws if strategy == "width" else np.log(ws) / math.log(beta))
    if strategy == "compound" and r_hi > 1:
        ks = np.arange(BASE_RESOLUTION, math.ceil(BASE_RESOLUTION * r_hi) + 1) + 0.5
        out.append(np.log(ks / BASE_RESOLUTION) / math.log(gamma))
    x0 = 0.0 if strategy == "compound" else 1.0
    b = np.unique(np.concatenate(out)) if out else np.zeros(0)
    return b[(b > x0) & (b <= hi)]


def budget_candidates(strategy: str, hi: float, bases: tuple[float, float, float] = (PAPER_ALPHA, PAPER_BETA,
                                                                                    PAPER_GAMMA)) -> np.ndarray:
    """The search space of a strategy up to x = hi: one x per distinct network, in increasing order (B0's x₀
    first, then the midpoint of every interval between consecutive rounding breaks).  For "resolution", every
    whole pixel from 224 to hi."""
    if strategy == "resolution":
        return np.arange(BASE_RESOLUTION, int(hi) + 1, dtype=np.float64)
    x0 = 0.0 if strategy == "compound" else 1.0
    b = np.concatenate([[x0], _breaks(strategy, hi, bases), [hi]])
    mids = (b[:-1] + b[1:]) / 2
    return np.concatenate([[x0], mids[mids > x0]])


def _fit(strategy: str, budget: float, target: float, bases: tuple[float, float, float]) -> BudgetFit:
    def macs(x: float) -> int:
        return profile(*_setting(strategy, float(x), bases)).macs

    # an x whose network reaches the budget: double the step until MACs(hi) ≥ budget
    x0 = 0.0 if strategy == "compound" else (BASE_RESOLUTION if strategy == "resolution" else 1.0)
    step = {"depth": target, "width": math.sqrt(target), "resolution": BASE_RESOLUTION * math.sqrt(target),
            "compound": max(math.log(target, 2), 0.5) if target > 1 else 0.5}[strategy]
    if strategy == "compound" and bases == (1.0, 1.0, 1.0):
        hi = x0                                               # nothing ever grows
    else:
        hi = x0 + step
        while macs(hi) < budget:
            hi = x0 + 2 * (hi - x0)
    cand = budget_candidates(strategy, hi, bases)
    # MACs never decrease along the candidates: search for the first one at or over the budget, keeping
    # MACs(cand[lo]) < budget ≤ MACs(cand[up]); steps alternate between interpolating on log MACs (few evaluations:
    # MACs grow smoothly with x) and halving (never more than twice bisection's count)
    lo, up = 0, len(cand) - 1
    m_lo, m_up = macs(cand[lo]), macs(cand[up])
    if m_lo >= budget:
        up = 0
    k = 0
    while up - lo > 1:
        if k % 2 == 0:
            xg = cand[lo] + math.log(budget / m_lo) / math.log(m_up / m_lo) * (cand[up] - cand[lo])   # on log MACs
            mid = min(max(int(np.searchsorted(cand, xg)), lo + 1), up - 1)
        else:
            mid = (lo + up) // 2
        m = macs(cand[mid])
        if m < budget:
            lo, m_lo = mid, m
        else:
            up, m_up = mid, m
        k += 1
    lo = up
    best = min({lo, max(lo - 1, 0)}, key=lambda i: (abs(macs(cand[i]) - budget), i))
    x = float(cand[best])
    w, d, res = _setting(strategy, x, bases)
    p = profile(w, d, res)
    # deviation = MACs / budget − 1
    return BudgetFit(strategy, x, w, d, res, sum(s.layers for s in p.stages[1:-1]), p.stages[-1].channels,
                     p.params, p.macs, budget, p.macs / budget - 1, len(cand))


def fit_budget(target: float, bases: tuple[float, float, float] = (PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA),
               strategies: tuple[str, ...] = STRATEGIES) -> dict[str, BudgetFit]:
    r"""Each scaling strategy at the setting whose *counted* MACs are closest to the budget $t\cdot\mathrm{MACs(B0)}$.

    Depth only (d), width only (w), resolution only (px), or compound (φ′ with the bases ``bases``: $d = \alpha^{\phi'}$,
    $w = \beta^{\phi'}$, $r = \gamma^{\phi'}$).  The networks are built with torchvision's rounding (whole layers,
    channels in multiples of 8, whole pixels), so no strategy hits the budget exactly; MACs never decrease with x,
    so the closest setting is found by bisection over :func:`budget_candidates` (one x per distinct network).
    """
    base = profile(1.0, 1.0, BASE_RESOLUTION).macs
    # budget = t · MACs(B0)
    budget = target * base
    return {s: _fit(s, budget, target, tuple(bases)) for s in strategies}


def as_budget_fit(net: NetProfile, budget: float, strategy: str = "yours") -> BudgetFit:
    """A network that was not fitted (the reader's own), in the same form, measured against the budget."""
    return BudgetFit(strategy, float("nan"), net.width_mult, net.depth_mult, net.resolution,
                     sum(s.layers for s in net.stages[1:-1]), net.stages[-1].channels, net.params, net.macs,
                     budget, net.macs / budget - 1, 1)


@dataclass(frozen=True)
class BlockAnatomy:
    stage: int                    # 1…7 (MBConv stages of Table 1)
    repeat: bool                  # True: a repeated block (stride 1, skip); False: the stage's first block
    single: bool                  # a repeat was asked for but the stage has one block: its first is shown
    layers: tuple[LayerInfo, ...]
    saving: DepthwiseSaving       # the block's depthwise convolution against an ordinary one


def block_anatomy(width_mult: float, depth_mult: float, resolution: int, stage: int, repeat: bool) -> BlockAnatomy:
    """One MBConv of stage ``stage`` of the scaled network, layer by layer (:func:`mbconv_anatomy`): its first
    block (stride, new channel count) or a repeated one (stride 1, same channels in and out → skip)."""
    net = profile(width_mult, depth_mult, resolution)
    cnf = stage_settings(width_mult, depth_mult)[0][stage - 1]
    single = repeat and cnf.num_layers == 1
    if repeat and not single:
        h = net.stages[stage + 1].resolution[0]                 # the stage's output side: repeats run there
        layers = mbconv_anatomy(cnf.expand_ratio, cnf.kernel, 1, cnf.out_channels, cnf.out_channels, h, h)
    else:
        h = net.stages[stage].resolution[0]
        layers = mbconv_anatomy(cnf.expand_ratio, cnf.kernel, cnf.stride, cnf.input_channels, cnf.out_channels,
                                h, h)
    dw = next(layer for layer in layers if layer.name.startswith("depthwise"))
    return BlockAnatomy(stage, repeat, single, layers, depthwise_saving(cnf.kernel, dw.in_shape[0]))
