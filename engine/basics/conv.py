r"""Convolution arithmetic: output sizes, a naive 2-D convolution, im2col, transposed convolution, pooling,
receptive fields and costs — numpy, with torch only to downscale the learner's image and to state the oracle.

Symbols as in PyTorch's ``Conv2d`` documentation and Dumoulin & Visin, "A guide to convolution arithmetic for deep
learning" (arXiv:1603.07285, 2016): input side $n$, kernel $k$, padding $p$, stride $s$, dilation $d$, groups $g$.
Every 2-D quantity is computed per axis (height and width) with the same formula:

$$o = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1$$

Like every deep-learning library, "convolution" here is cross-correlation (the kernel is not flipped).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KERNELS = ("edge", "vertical", "horizontal", "blur", "random")   # the page's kernel choice
GRAY = np.array([0.299, 0.587, 0.114])                              # ITU-R BT.601 luma weights


# ------------------------------------------------------------------------------------------- output sizes
def effective_kernel(k: int, d: int = 1) -> int:
    r"""Span of a dilated kernel: $k_{\text{eff}} = d(k-1) + 1$ (a 3×3 kernel with $d=2$ covers 5×5)."""
    return d * (k - 1) + 1


def output_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    r"""Output side of a convolution (PyTorch ``Conv2d``, Dumoulin & Visin 2016, relationship 15 with dilation):

    $$o = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1$$

    Returns 0 (or less) when the dilated kernel does not fit in the padded input.
    """
    # o = ⌊(n + 2p − d(k−1) − 1) / s⌋ + 1
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@dataclass(frozen=True)
class OutputSize:
    """One axis of a convolution worked out step by step, with what the floor drops."""
    n: int                 # input side
    k: int
    p: int
    s: int
    d: int
    k_eff: int             # d(k−1) + 1
    padded: int            # n + 2p
    span: int              # n + 2p − k_eff: room the window can move
    exact: float           # span / s + 1 before the floor
    out: int               # ⌊span / s⌋ + 1 (≤ 0: the kernel does not fit)
    dropped: int           # span mod s: padded pixels at the end that no window reaches


def output_size_steps(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> OutputSize:
    r"""`output_size` with its intermediate numbers: the window moves $n + 2p - k_{\text{eff}}$ pixels in steps of
    $s$; the floor drops the remainder $(n + 2p - k_{\text{eff}}) \bmod s$: the last pixels of the padded input that
    no window covers."""
    k_eff = effective_kernel(k, d)
    span = n + 2 * p - k_eff
    return OutputSize(n=n, k=k, p=p, s=s, d=d, k_eff=k_eff, padded=n + 2 * p, span=span, exact=span / s + 1,
                      out=output_size(n, k, p, s, d), dropped=span % s if span >= 0 else 0)


def transposed_output_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1, output_padding: int = 0) -> int:
    r"""Output side of a transposed convolution (PyTorch ``ConvTranspose2d``):

    $$o = (n - 1)s - 2p + d(k-1) + \text{output\_padding} + 1$$

    the inverse of `output_size` for the shapes: a convolution with the same $k, p, s, d$ maps $o$ back to $n$
    (``output_padding`` picks one of the $s$ sizes that the floor maps to the same $n$)."""
    # o = (n − 1)s − 2p + d(k − 1) + output_padding + 1
    return (n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


# --------------------------------------------------------------------------------------- input and kernels
def prepare_image(rgb: np.ndarray, side: int, gray: bool) -> np.ndarray:
    """(H, W, 3) uint8 → (C, h, w) float64 in [0, 1], the longer side `side` (antialiased bilinear), C = 1 (luma)
    or 3 (RGB)."""
    import torch
    import torch.nn.functional as F

    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    x = torch.from_numpy(np.array(rgb[..., :3], dtype=np.uint8)).permute(2, 0, 1)[None].double() / 255  # (1, 3, H, W)
    small = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)[0].numpy()
    small = small.clip(0, 1)                                                                       # (3, h, w)
    if gray:
        return np.tensordot(GRAY, small, axes=1)[None]                                              # (1, h, w)
    return small


def base_kernel(name: str, k: int, seed: int = 0) -> np.ndarray:
    """A k×k kernel: 'edge' (Laplacian-like: centre k²−1, the rest −1, over k²), 'vertical' / 'horizontal'
    (a derivative across columns / rows: weights −1 … 1 in each row / column, over k), 'blur' (the mean), 'random'
    (seeded normal / k)."""
    if name == "edge":
        w = -np.ones((k, k))
        w[k // 2, k // 2] = k * k - 1
        return w / (k * k)
    if name in ("vertical", "horizontal"):
        ramp = np.linspace(-1, 1, k) if k > 1 else np.zeros(1)
        w = np.tile(ramp, (k, 1)) / k                                   # varies across columns: vertical edges
        return w if name == "vertical" else w.T
    if name == "blur":
        return np.full((k, k), 1.0 / (k * k))
    if name == "random":
        return np.random.default_rng(seed).normal(size=(k, k)) / k
    raise ValueError(f"unknown kernel {name!r}")


def make_weight(name: str, k: int, c_in: int, c_out: int, groups: int = 1, seed: int = 0) -> np.ndarray:
    r"""Weights of shape $(C_{out}, C_{in}/g, k, k)$ (PyTorch's layout). Each output channel $o$ filters with the
    named kernel; with $g = 1$ it reads every input channel, mostly its own: weight
    $\tfrac12[o = c] + \tfrac{1}{2C_{in}}$
    on channel $c$; with $g > 1$ it sees only the $C_{in}/g$ channels of its group."""
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide C_in={c_in} and C_out={c_out}")
    base = base_kernel(name, k, seed)                                   # (k, k)
    per = c_in // groups
    mix = np.full((c_out, per), 0.5 / per)                              # (C_out, C_in/g)
    for o in range(c_out):
        mix[o, o % per] += 0.5
    return mix[:, :, None, None] * base                                 # (C_out, C_in/g, k, k)


# ------------------------------------------------------------------------------------------ convolution
def pad(x: np.ndarray, p: int) -> np.ndarray:
    """(C, H, W) → (C, H + 2p, W + 2p), zeros around."""
    return np.pad(x, ((0, 0), (p, p), (p, p)))


def conv2d_naive(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
                 padding: int = 0, dilation: int = 1, groups: int = 1) -> np.ndarray:
    r"""2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``) by its definition, one output pixel
    at a time:

    $$y_{o,i,j} = b_o + \sum_{c \in G(o)} \sum_{u=0}^{k-1} \sum_{v=0}^{k-1}
      w_{o,c,u,v}\, \tilde x_{c,\; s i + d u,\; s j + d v}$$

    where $\tilde x$ is the input padded with $p$ zeros and $G(o)$ the $C_{in}/g$ input channels of the group of
    output channel $o$.

    Parameters
    ----------
    x : np.ndarray [shape=(C_in, H, W)]
    weight : np.ndarray [shape=(C_out, C_in / groups, k, k)]
    bias : np.ndarray [shape=(C_out,)] or None

    Returns
    -------
    np.ndarray [shape=(C_out, H_out, W_out)]
    """
    c_in, h, w = x.shape
    c_out, per, k, _ = weight.shape
    h_out, w_out = output_size(h, k, padding, stride, dilation), output_size(w, k, padding, stride, dilation)
    if h_out < 1 or w_out < 1:
        raise ValueError("the dilated kernel does not fit in the padded input")
    xp = pad(x, padding)                                                # (C_in, H + 2p, W + 2p)
    out_per = c_out // groups
    y = np.zeros((c_out, h_out, w_out))
    span = dilation * (k - 1) + 1                                       # k_eff
    for g in range(groups):
        w_g = weight[g * out_per:(g + 1) * out_per].reshape(out_per, -1)   # (C_out/g, C_in/g · k²)
        x_g = xp[g * per:(g + 1) * per]                                     # (C_in/g, H + 2p, W + 2p)
        for i in range(h_out):
            for j in range(w_out):
                # the window: rows s·i + d·u, columns s·j + d·v (u, v = 0 … k−1)
                patch = x_g[:, stride * i:stride * i + span:dilation, stride * j:stride * j + span:dilation]
                # y_{o,i,j} = Σ_c Σ_u Σ_v w_{o,c,u,v} x̃_{c, si+du, sj+dv}
                y[g * out_per:(g + 1) * out_per, i, j] = w_g @ patch.ravel()
    if bias is not None:
        y += np.asarray(bias)[:, None, None]
    return y


def im2col(x: np.ndarray, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    r"""Unfold every window of the padded input into a column (``torch.nn.functional.unfold``'s layout):
    row $(c, u, v) \mapsto c k^2 + u k + v$, column $(i, j) \mapsto i W_{out} + j$:

    $$X_{\text{col}}[c k^2 + u k + v,\; i W_{out} + j] = \tilde x_{c,\; s i + d u,\; s j + d v}$$

    Parameters
    ----------
    x : np.ndarray [shape=(C, H, W)]

    Returns
    -------
    np.ndarray [shape=(C · k², H_out · W_out)]
    """
    c, h, w = x.shape
    h_out, w_out = output_size(h, k, padding, stride, dilation), output_size(w, k, padding, stride, dilation)
    xp = pad(x, padding)
    cols = np.empty((c, k, k, h_out * w_out))
    for u in range(k):
        for v in range(k):
            # X_col[c, u, v, (i, j)] = x̃[c, s·i + d·u, s·j + d·v]
            r0, c0 = dilation * u, dilation * v
            cols[:, u, v] = xp[:, r0:r0 + stride * (h_out - 1) + 1:stride,
                               c0:c0 + stride * (w_out - 1) + 1:stride].reshape(c, -1)
    return cols.reshape(c * k * k, h_out * w_out)                      # (C·k², L)


def conv2d_im2col(x: np.ndarray, weight: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1,
                  groups: int = 1) -> np.ndarray:
    r"""The same convolution as one matrix product per group:

    $$Y = W_{\text{row}}\, X_{\text{col}},\qquad
      W_{\text{row}} \in \mathbb{R}^{C_{out} \times C_{in} k^2},\ X_{\text{col}} \in \mathbb{R}^{C_{in} k^2 \times
      H_{out} W_{out}}$$

    (with groups: $g$ products of $(C_{out}/g) \times (C_{in} k^2 / g)$ by $(C_{in} k^2/g) \times H_{out}W_{out}$).

    Returns
    -------
    np.ndarray [shape=(C_out, H_out, W_out)]
    """
    c_in, h, w = x.shape
    c_out, per, k, _ = weight.shape
    h_out, w_out = output_size(h, k, padding, stride, dilation), output_size(w, k, padding, stride, dilation)
    cols = im2col(x, k, stride, padding, dilation)                      # (C_in·k², L)
    cols = cols.reshape(groups, per * k * k, h_out * w_out)             # (g, C_in/g · k², L)
    w_row = weight.reshape(groups, c_out // groups, per * k * k)        # (g, C_out/g, C_in/g · k²)
    # Y = W_row · X_col, one product per group
    y = w_row @ cols                                                    # (g, C_out/g, L)
    return y.reshape(c_out, h_out, w_out)


@dataclass(frozen=True)
class Convolution:
    """The learner's convolution: input, weights, output and its sizes, checked against torch."""
    x: np.ndarray            # (C_in, H, W) in [0, 1]
    weight: np.ndarray       # (C_out, C_in/g, k, k)
    out: np.ndarray          # (C_out, H_out, W_out), from conv2d_naive
    rows: OutputSize         # the height axis
    cols: OutputSize         # the width axis
    stride: int
    padding: int
    dilation: int
    groups: int
    x_col: np.ndarray        # (g, C_in/g · k², H_out · W_out): im2col per group
    im2col_diff: float       # max |naive − im2col|
    torch_diff: float        # max |naive − torch.nn.functional.conv2d|


def convolve(x: np.ndarray, kernel: str, k: int, padding: int, stride: int, dilation: int,
             groups: int = 1) -> Convolution:
    """Run the learner's convolution three ways (naive, im2col, torch) on `x` (C, H, W); C_out = C_in."""
    import torch
    import torch.nn.functional as F

    c, h, w = x.shape
    weight = make_weight(kernel, k, c, c, groups)
    rows, cols = output_size_steps(h, k, padding, stride, dilation), output_size_steps(w, k, padding, stride,
                                                                                       dilation)
    y = conv2d_naive(x, weight, None, stride, padding, dilation, groups)
    y_col = conv2d_im2col(x, weight, stride, padding, dilation, groups)
    ref = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight), None, stride, padding, dilation,
                   groups)[0].numpy()
    x_col = im2col(x, k, stride, padding, dilation).reshape(groups, (c // groups) * k * k, -1)
    return Convolution(x=x, weight=weight, out=y, rows=rows, cols=cols, stride=stride, padding=padding,
                       dilation=dilation, groups=groups, x_col=x_col,
                       im2col_diff=float(np.abs(y - y_col).max()), torch_diff=float(np.abs(y - ref).max()))


@dataclass(frozen=True)
class Window:
    """One output pixel's window: where its taps fall in the padded input and the sum they make."""
    i: int
    j: int
    o: int                   # output channel
    rows: np.ndarray         # (k,) rows s·i + d·u in the padded input
    cols: np.ndarray         # (k,) columns s·j + d·v
    channels: np.ndarray     # (C_in/g,) input channels of o's group
    patch: np.ndarray        # (C_in/g, k, k) input values under the taps
    weight: np.ndarray       # (C_in/g, k, k)
    value: float             # Σ patch · weight = out[o, i, j]
    in_padding: int          # taps that fall on padding zeros


def window(conv: Convolution, i: int, j: int, o: int = 0) -> Window:
    r"""The taps of output pixel $(i, j)$ of channel $o$: rows $s i + d u$, columns $s j + d v$ of the padded input."""
    c_out, per, k, _ = conv.weight.shape
    s, d, p = conv.stride, conv.dilation, conv.padding
    rows, cols = s * i + d * np.arange(k), s * j + d * np.arange(k)
    g = o // (c_out // conv.groups)
    channels = np.arange(g * per, (g + 1) * per)
    xp = pad(conv.x, p)
    patch = xp[channels][:, rows[:, None], cols[None, :]]                   # (C_in/g, k, k)
    h, w = conv.x.shape[1:]
    inside = ((rows >= p) & (rows < h + p))[:, None] & ((cols >= p) & (cols < w + p))[None, :]
    return Window(i=i, j=j, o=o, rows=rows, cols=cols, channels=channels, patch=patch, weight=conv.weight[o],
                  value=float((patch * conv.weight[o]).sum()), in_padding=int(per * (~inside).sum()))


# ----------------------------------------------------------------------------------- transposed convolution
def conv_transpose2d_naive(x: np.ndarray, weight: np.ndarray, stride: int = 1, padding: int = 0,
                           dilation: int = 1) -> np.ndarray:
    r"""Transposed convolution (``torch.nn.functional.conv_transpose2d``, groups = 1) as a scatter: every input
    pixel adds a copy of the kernel, scaled by its value, at stride $s$:

    $$y_{o,\; s i + d u - p,\; s j + d v - p} \mathrel{+}= x_{c,i,j}\, w_{c,o,u,v}$$

    Parameters
    ----------
    x : np.ndarray [shape=(C_in, H, W)]
    weight : np.ndarray [shape=(C_in, C_out, k, k)] (PyTorch's transposed layout)

    Returns
    -------
    np.ndarray [shape=(C_out, H_out, W_out)], H_out = (H − 1)s − 2p + d(k − 1) + 1
    """
    c_in, h, w = x.shape
    _, c_out, k, _ = weight.shape
    full_h, full_w = transposed_output_size(h, k, 0, stride, dilation), transposed_output_size(w, k, 0, stride,
                                                                                              dilation)
    y = np.zeros((c_out, full_h, full_w))
    for i in range(h):
        for j in range(w):
            for u in range(k):
                for v in range(k):
                    # y[:, s·i + d·u, s·j + d·v] += Σ_c x[c, i, j] · w[c, :, u, v]
                    y[:, stride * i + dilation * u, stride * j + dilation * v] += x[:, i, j] @ weight[:, :, u, v]
    return y[:, padding:full_h - padding, padding:full_w - padding]     # padding crops the full output


def overlap_counts(n: int, k: int, stride: int) -> np.ndarray:
    r"""How many kernel copies land on each output pixel of a transposed convolution of an $n \times n$ input of ones
    with a $k \times k$ kernel of ones (no padding). Uneven counts are the checkerboard of Odena et al.,
    "Deconvolution and Checkerboard Artifacts", Distill 2016: even only when $s$ divides $k$ (away from the
    borders).

    Returns
    -------
    np.ndarray [shape=(o, o)] of ints, o = (n − 1)s + k
    """
    ones = np.ones((1, n, n))
    counts = conv_transpose2d_naive(ones, np.ones((1, 1, k, k)), stride)[0]
    return np.rint(counts).astype(int)


@dataclass(frozen=True)
class Checkerboard:
    counts: np.ndarray       # (o, o) kernel copies per output pixel
    lo: int                  # fewest copies away from the borders (k pixels in from each side)
    hi: int                  # most copies there
    even: bool               # lo == hi: no checkerboard (s divides k)


def checkerboard(n: int, k: int, stride: int) -> Checkerboard:
    """`overlap_counts` and the range of the counts away from the borders, where every pixel could be covered
    equally (the border rows get fewer copies whatever k and s are)."""
    counts = overlap_counts(n, k, stride)
    inner = counts[k:-k, k:-k] if counts.shape[0] > 2 * k else counts
    return Checkerboard(counts=counts, lo=int(inner.min()), hi=int(inner.max()), even=bool(inner.min() == inner.max()))


# ----------------------------------------------------------------------------------------------- pooling
def pool2d(x: np.ndarray, k: int, stride: int | None = None, mode: str = "max") -> np.ndarray:
    r"""Max or average pooling with a $k \times k$ window, stride $s$ (default $k$), no padding:

    $$y_{c,i,j} = \max_{u,v < k} x_{c,\, s i + u,\, s j + v} \quad\text{or}\quad
      \frac{1}{k^2} \sum_{u,v < k} x_{c,\, s i + u,\, s j + v}$$

    Returns
    -------
    np.ndarray [shape=(C, H_out, W_out)], the sides from `output_size` with p = 0, d = 1.
    """
    s = stride or k
    c, h, w = x.shape
    h_out, w_out = output_size(h, k, 0, s), output_size(w, k, 0, s)
    cols = im2col(x, k, s).reshape(c, k * k, h_out, w_out)               # (C, k², H_out, W_out)
    return cols.max(axis=1) if mode == "max" else cols.mean(axis=1)


# ------------------------------------------------------------------------------------------ receptive field
@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of a stack of convolutions, layer by layer (index 0 = the input)."""
    layers: tuple[tuple[int, int, int], ...]   # (k, s, d) of layers 1 … L
    r: tuple[int, ...]                         # (L + 1,) r_0 = 1, r_l
    jump: tuple[int, ...]                      # (L + 1,) J_0 = 1, J_l = ∏ s: input pixels between units of layer l


def receptive_field(layers) -> ReceptiveField:
    r"""Receptive field growth through a stack of layers $(k_l, s_l, d_l)$ (Araujo et al., "Computing Receptive
    Fields of Convolutional Neural Networks", Distill 2019: their closed form
    $r_0 = \sum_l (k_l - 1)\prod_{i<l} s_i + 1$ written layer by layer, with a dilated kernel's span
    $d_l(k_l - 1) + 1$ in place of $k_l$):

    $$r_l = r_{l-1} + d_l (k_l - 1) \prod_{i<l} s_i,\qquad r_0 = 1$$
    """
    r, jump = [1], [1]
    for k, s, d in layers:
        # r_l = r_{l−1} + d_l(k_l − 1)·∏_{i<l} s_i
        r.append(r[-1] + d * (k - 1) * jump[-1])
        jump.append(jump[-1] * s)
    return ReceptiveField(layers=tuple(tuple(int(v) for v in layer) for layer in layers), r=tuple(r),
                          jump=tuple(jump))


def touched(layers) -> list[np.ndarray]:
    """Brute force, layer by layer from the top: the units of each layer (index 0 = the input, in that layer's own
    unit indices) that feed unit 0 of the last layer, without padding. The input's are the pixels in the receptive
    field that actually reach the output: with dilation larger than the span below, some pixels inside are skipped."""
    units = [np.array([0])]
    for k, s, d in reversed(list(layers)):
        below = np.unique((s * units[0][:, None] + d * np.arange(k)[None, :]).ravel())
        units.insert(0, below)
    return units


# ------------------------------------------------------------------------------------------------ costs
@dataclass(frozen=True)
class Cost:
    params: int              # weights + biases
    macs: int                # multiply–adds for one H_out × W_out output


def conv_cost(c_in: int, c_out: int, k: int, h_out: int, w_out: int, groups: int = 1, bias: bool = True) -> Cost:
    r"""Parameters and multiply–adds of one convolution layer:

    $$P = k^2 \frac{C_{in}}{g} C_{out} + C_{out},\qquad \text{MACs} = k^2 \frac{C_{in}}{g} C_{out}\, H_{out} W_{out}$$
    """
    weights = k * k * (c_in // groups) * c_out              # k²·(C_in/g)·C_out
    return Cost(params=weights + (c_out if bias else 0), macs=weights * h_out * w_out)


@dataclass(frozen=True)
class SeparableCost:
    standard: Cost
    depthwise: Cost          # k×k, groups = C_in
    pointwise: Cost          # 1×1, C_in → C_out
    ratio: float             # separable MACs / standard MACs
    closed_form: float       # 1/C_out + 1/k² (equal to ratio)


def separable_cost(c_in: int, c_out: int, k: int, h_out: int, w_out: int, bias: bool = True) -> SeparableCost:
    r"""Standard vs depthwise-separable convolution (Howard et al., MobileNets, 2017, Sec. 3.1): a depthwise
    $k \times k$ convolution per channel then a pointwise $1 \times 1$ one,

    $$\frac{k^2 C_{in} H W + C_{in} C_{out} H W}{k^2 C_{in} C_{out} H W} = \frac{1}{C_{out}} + \frac{1}{k^2}$$
    """
    standard = conv_cost(c_in, c_out, k, h_out, w_out, 1, bias)
    depthwise = conv_cost(c_in, c_in, k, h_out, w_out, c_in, bias)
    pointwise = conv_cost(c_in, c_out, 1, h_out, w_out, 1, bias)
    # (k²·C_in + C_in·C_out)·HW / (k²·C_in·C_out·HW) = 1/C_out + 1/k²
    return SeparableCost(standard=standard, depthwise=depthwise, pointwise=pointwise,
                         ratio=(depthwise.macs + pointwise.macs) / standard.macs, closed_form=1 / c_out + 1 / k ** 2)
