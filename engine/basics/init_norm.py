r"""Basics › Initialisation & normalisation: what the first weights do to a deep network's signal, and what each
normalisation layer averages over.

1. `deep_stats`: a deep MLP (``depth`` hidden layers of ``width`` units) with zero, normal(σ), Xavier (Glorot &
   Bengio 2010) or He (He et al. 2015) weights and a sigmoid, tanh, ReLU or GELU activation, run forward on a batch
   of N(0, 1) inputs and backward from a squared error: each layer's activations and gradients as histograms. Numpy,
   backprop by hand; tests compare it with ``torch.nn`` modules and autograd on the same weights.

   $$ \text{Xavier: } W \sim \mathcal N\Big(0, \frac{2}{n_\text{in} + n_\text{out}}\Big),\qquad
      \text{He: } W \sim \mathcal N\Big(0, \frac{2}{n_\text{in}}\Big) $$

2. `normalize`: BatchNorm, LayerNorm, InstanceNorm and GroupNorm on an (N, C, H, W) batch, with which elements
   each mean averages over (= ``F.batch_norm`` in training mode, ``F.layer_norm`` over (C, H, W),
   ``F.instance_norm``, ``F.group_norm``, no affine parameters).

   $$ \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad \mu, \sigma^2 \text{ over the axes of each kind} $$

3. `running_stats`: BatchNorm's running mean and variance over a stream of batches (PyTorch's convention:
   $\hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu_B$, the running variance from the unbiased batch variance), what
   evaluation mode uses instead of the batch's own statistics.

4. `train_digits`: the same deep MLP on real MNIST digits without normalisation, with BatchNorm and with LayerNorm
   after every hidden linear layer, trained side by side (torch, plain SGD), a snapshot every few steps.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

INITS = ("zero", "normal", "xavier", "he")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
NORMS = ("batch", "layer", "instance", "group")
EPS = 1e-5                                  # torch's default ε of every normalisation layer
ACT_EDGES = np.linspace(-1.5, 1.5, 61)      # activation histogram bins (values outside go in the end bins)
GRAD_EDGES = np.linspace(-12.0, 0.0, 49)    # histogram of log10 |∂L/∂a|; exact zeros counted apart
SATURATED = 0.01                            # a unit is "flat" when φ'(z) < 1 % of φ's largest slope


# ------------------------------------------------------------------------------------------ 1. initialisation
def init_std(init: str, fan_in: int, fan_out: int, sigma: float = 0.01) -> float:
    r"""The standard deviation of a layer's weights under `init` (biases are 0 in every case).

    Xavier (Glorot & Bengio 2010, eq. 16, the normal form): $\sqrt{2/(n_\text{in}+n_\text{out})}$ (=
    ``torch.nn.init.xavier_normal_``); He (He et al. 2015, eq. 10): $\sqrt{2/n_\text{in}}$ (=
    ``kaiming_normal_(mode="fan_in", nonlinearity="relu")``); normal: σ as given; zero: 0."""
    if init == "zero":
        return 0.0
    if init == "normal":
        return float(sigma)
    if init == "xavier":
        # σ = sqrt(2 / (n_in + n_out))
        return math.sqrt(2.0 / (fan_in + fan_out))
    if init == "he":
        # σ = sqrt(2 / n_in)
        return math.sqrt(2.0 / fan_in)
    raise ValueError(f"unknown init {init!r}")


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf
    return erf(x)


def activation(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(φ(z), φ'(z)); GELU is the exact one, z·Φ(z) (= torch's default, approximate="none")."""
    if name == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
        return a, a * (1.0 - a)
    if name == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a * a
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(z.dtype)
    if name == "gelu":
        cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return z * cdf, cdf + z * pdf
    raise ValueError(f"unknown activation {name!r}")


MAX_SLOPE = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "gelu": 1.1289}   # largest φ'(z) over z


@dataclass(frozen=True)
class DeepStats:
    init: str
    act: str
    depth: int
    width: int
    sigma: float
    std_w: float                    # the weights' standard deviation (hidden layers)
    act_hist: np.ndarray            # (L, 60) share of each layer's activations per ACT_EDGES bin
    act_mean: np.ndarray            # (L,)
    act_std: np.ndarray             # (L,)
    flat: np.ndarray                # (L,) share of units with φ'(z) < SATURATED · max φ'
    grad_hist: np.ndarray           # (L, 48) share of |∂L/∂a| per GRAD_EDGES bin (log10), zeros not included
    grad_zero: np.ndarray           # (L,) share of exactly zero ∂L/∂a
    grad_std: np.ndarray            # (L,) std of ∂L/∂a per layer
    grad_w_norm: np.ndarray         # (L,) ‖∂L/∂W_l‖_F of each hidden layer's weights
    weights: tuple = field(repr=False, default=())   # the weights used, for the tests' torch oracle: W (in, out)


def deep_weights(init: str, depth: int, width: int, sigma: float, seed: int, n_in: int | None = None,
                 n_out: int = 10) -> list[np.ndarray]:
    """[W_1 … W_depth, W_out], W (fan_in, fan_out), all drawn from `init` with one seeded generator."""
    rng = np.random.default_rng(seed)
    n_in = width if n_in is None else n_in
    sizes = [n_in] + [width] * depth + [n_out]
    out = []
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        std = init_std(init, fi, fo, sigma)
        # W ~ N(0, σ²) (zero: all 0)
        out.append(rng.standard_normal((fi, fo)) * std)
    return out


def deep_stats(init: str, act: str, depth: int = 10, width: int = 100, sigma: float = 0.01, *, batch: int = 128,
               seed: int = 0) -> DeepStats:
    r"""Forward a batch x ~ N(0, 1) (batch, width) through `depth` hidden layers $a_l = φ(a_{l-1} W_l)$ and a linear
    output layer $y = a_L W_\text{out}$ (10 units), then backward from $L = \frac{1}{2B}\lVert y - t\rVert^2$ with
    targets t ~ N(0, 1); histograms of every hidden layer's activations $a_l$ and gradients $\partial L/\partial a_l$."""
    rng = np.random.default_rng(seed + 10_000)
    x = rng.standard_normal((batch, width))                                   # (B, n)
    target = rng.standard_normal((batch, 10))                                 # (B, 10)
    Ws = deep_weights(init, depth, width, sigma, seed)
    zs, acts = [], [x]
    for W in Ws[:-1]:
        z = acts[-1] @ W                                                      # (B, n)
        a, _ = activation(act, z)
        zs.append(z)
        acts.append(a)
    y = acts[-1] @ Ws[-1]                                                     # (B, 10)
    # ∂L/∂y = (y − t) / B
    g = (y - target) / batch                                                  # (B, 10)
    grads_a, grads_w = [None] * depth, [None] * depth
    g_a = g @ Ws[-1].T                                                        # (B, n) ∂L/∂a_L
    for l in range(depth - 1, -1, -1):
        grads_a[l] = g_a
        _, d = activation(act, zs[l])
        # ∂L/∂z_l = ∂L/∂a_l ⊙ φ'(z_l);  ∂L/∂W_l = a_{l−1}ᵀ ∂L/∂z_l;  ∂L/∂a_{l−1} = ∂L/∂z_l W_lᵀ
        g_z = g_a * d
        grads_w[l] = acts[l].T @ g_z
        g_a = g_z @ Ws[l].T
    L = depth
    act_hist = np.empty((L, len(ACT_EDGES) - 1))
    grad_hist = np.empty((L, len(GRAD_EDGES) - 1))
    flat, zero = np.empty(L), np.empty(L)
    for l in range(L):
        a = acts[l + 1].ravel()
        act_hist[l] = np.histogram(a.clip(ACT_EDGES[0], ACT_EDGES[-1]), ACT_EDGES)[0] / a.size
        _, d = activation(act, zs[l])
        flat[l] = float((d < SATURATED * MAX_SLOPE[act]).mean())
        ga = np.abs(grads_a[l].ravel())
        nz = ga[ga > 0]
        zero[l] = 1.0 - nz.size / ga.size
        logs = np.log10(nz).clip(GRAD_EDGES[0], GRAD_EDGES[-1]) if nz.size else nz
        grad_hist[l] = np.histogram(logs, GRAD_EDGES)[0] / ga.size
    hidden = [a for a in acts[1:]]
    return DeepStats(init, act, depth, width, float(sigma), init_std(init, width, width, sigma), act_hist,
                     np.array([a.mean() for a in hidden]), np.array([a.std() for a in hidden]), flat, grad_hist,
                     zero, np.array([g.std() for g in grads_a]), np.array([np.linalg.norm(g) for g in grads_w]),
                     tuple(Ws))


# ---------------------------------------------------------------------------------------------- 2. normalisation
def stat_ids(kind: str, n: int, c: int, groups: int = 2) -> np.ndarray:
    """(N, C) int: which of the layer's statistics each (sample, channel) plane belongs to (one mean and one
    variance per id). BatchNorm: one per channel; LayerNorm: one per sample; InstanceNorm: one per (sample,
    channel); GroupNorm: one per (sample, group of C/G channels)."""
    nn_, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")          # (N, C)
    if kind == "batch":
        return cc
    if kind == "layer":
        return nn_
    if kind == "instance":
        return nn_ * c + cc
    if kind == "group":
        if c % groups:
            raise ValueError(f"C = {c} is not divisible by G = {groups}")
        return nn_ * groups + cc // (c // groups)
    raise ValueError(f"unknown norm {kind!r}")


@dataclass(frozen=True)
class NormResult:
    kind: str
    groups: int
    x: np.ndarray                   # (N, C, H, W) input
    y: np.ndarray                   # (N, C, H, W) normalised, no affine
    ids: np.ndarray                 # (N, C) statistic of each plane
    mean: np.ndarray                # (S,) one per statistic, S = ids.max() + 1
    var: np.ndarray                 # (S,) biased variance (what normalises)
    per_stat: int                   # elements averaged for one statistic
    axes: str                       # the averaged axes, e.g. "N, H, W"
    y_mean: np.ndarray              # (S,) the output's mean within each statistic's elements (0)
    y_std: np.ndarray               # (S,) and its std (√(σ²/(σ² + ε)) ≈ 1)


AXES = {"batch": "N, H, W", "layer": "C, H, W", "instance": "H, W", "group": "C/G, H, W"}


def normalize(x: np.ndarray, kind: str, groups: int = 2, eps: float = EPS) -> NormResult:
    r"""$\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$ with μ, σ² (biased) over the elements that share a statistic."""
    x = np.asarray(x, dtype=np.float64)
    n, c, h, w = x.shape
    ids = stat_ids(kind, n, c, groups)
    S = int(ids.max()) + 1
    planes = x.reshape(n * c, h * w)                                          # (N·C, H·W)
    flat_ids = ids.ravel()                                                    # (N·C,)
    count = np.bincount(flat_ids, minlength=S) * (h * w)                      # (S,)
    mean = np.bincount(flat_ids, planes.sum(1), minlength=S) / count          # (S,)
    centred = planes - mean[flat_ids, None]
    var = np.bincount(flat_ids, (centred ** 2).sum(1), minlength=S) / count   # (S,) biased
    # x̂ = (x − μ) / sqrt(σ² + ε)
    y_planes = centred / np.sqrt(var[flat_ids, None] + eps)                  # (N·C, H·W)
    y_mean = np.bincount(flat_ids, y_planes.sum(1), minlength=S) / count
    y_var = np.bincount(flat_ids, ((y_planes - y_mean[flat_ids, None]) ** 2).sum(1), minlength=S) / count
    return NormResult(kind, groups, x, y_planes.reshape(n, c, h, w), ids, mean, var, int(count[0]), AXES[kind],
                      y_mean, np.sqrt(y_var))


CHANNELS = ("R", "G", "B", "Y", "∂x", "∂y")   # the batch's six channels (see feature_batch)
GRAY = np.array([0.299, 0.587, 0.114])       # ITU-R BT.601 luma, as PIL's "L"


def feature_batch(rgb: np.ndarray, n: int = 4, side: int = 8) -> np.ndarray:
    """(N, 6, side, side): `image_batch`'s crops as six channels, like a first conv layer's output — R, G, B, luma Y
    and its horizontal and vertical differences (central, zero at the border), so GroupNorm has channels to group."""
    x = image_batch(rgb, n, side)                                             # (N, 3, s, s)
    y = np.tensordot(GRAY, x, axes=([0], [1]))                                # (N, s, s)
    dx, dy = np.zeros_like(y), np.zeros_like(y)
    dx[:, :, 1:-1] = (y[:, :, 2:] - y[:, :, :-2]) / 2
    dy[:, 1:-1, :] = (y[:, 2:, :] - y[:, :-2, :]) / 2
    return np.concatenate([x, y[:, None], dx[:, None], dy[:, None]], axis=1)


def image_batch(rgb: np.ndarray, n: int = 4, side: int = 8) -> np.ndarray:
    """(N, 3, side, side) in [0, 1] from one photo (H, W, 3) uint8: N crops, left to right along a diagonal of the
    image, each a square of half the shorter side, averaged down to side × side (a batch of different views)."""
    rgb = np.asarray(rgb)[..., :3].astype(np.float64) / 255.0
    H, W = rgb.shape[:2]
    s = max(side, min(H, W) // 2)
    s -= s % side
    s = max(side, min(s, H, W))
    step = s // side
    out = np.empty((n, 3, side, side))
    for i in range(n):
        f = i / max(n - 1, 1)
        top, left = int(round(f * (H - s))), int(round(f * (W - s)))
        crop = rgb[top:top + step * side, left:left + step * side]            # (side·k, side·k, 3)
        crop = crop.reshape(side, step, side, step, 3).mean(axis=(1, 3))       # (side, side, 3)
        out[i] = crop.transpose(2, 0, 1)
    return out


# ------------------------------------------------------------------------------------- 3. running statistics
@dataclass(frozen=True)
class RunningStats:
    momentum: float
    batch_mean: np.ndarray          # (T, C) each batch's mean
    batch_var: np.ndarray           # (T, C) each batch's unbiased variance
    running_mean: np.ndarray        # (T + 1, C) from 0
    running_var: np.ndarray         # (T + 1, C) from 1
    population_mean: np.ndarray     # (C,) of everything the batches were drawn from
    population_var: np.ndarray      # (C,)


def running_stats(pool: np.ndarray, batch: int, steps: int, momentum: float, seed: int = 0) -> RunningStats:
    r"""`steps` batches of `batch` rows drawn from `pool` (P, C); BatchNorm's running estimates after each
    (``torch.nn.BatchNorm1d`` in training mode):

    $$ \hat\mu \leftarrow (1-m)\,\hat\mu + m\,\mu_B,\qquad
       \hat\sigma^2 \leftarrow (1-m)\,\hat\sigma^2 + m\,\frac{B}{B-1}\sigma_B^2 $$"""
    if batch < 2:
        raise ValueError("BatchNorm needs at least 2 samples per batch")
    pool = np.asarray(pool, dtype=np.float64)
    rng = np.random.default_rng(seed)
    C = pool.shape[1]
    bm, bv = np.empty((steps, C)), np.empty((steps, C))
    rm, rv = np.empty((steps + 1, C)), np.empty((steps + 1, C))
    rm[0], rv[0] = 0.0, 1.0
    for t in range(steps):
        xb = pool[rng.choice(len(pool), batch, replace=False)]               # (B, C)
        bm[t] = xb.mean(0)
        bv[t] = xb.var(0, ddof=1)
        # μ̂ ← (1 − m) μ̂ + m μ_B ; σ̂² ← (1 − m) σ̂² + m · unbiased σ_B²
        rm[t + 1] = (1 - momentum) * rm[t] + momentum * bm[t]
        rv[t + 1] = (1 - momentum) * rv[t] + momentum * bv[t]
    return RunningStats(float(momentum), bm, bv, rm, rv, pool.mean(0), pool.var(0))


def running_update(running: float, batch_mean: float, momentum: float) -> float:
    r"""One running-mean update in PyTorch's convention: $(1-m)\,\hat\mu + m\,\mu_B$ (Keras's momentum is 1 − m)."""
    return (1.0 - momentum) * running + momentum * batch_mean


def pixel_pool(rgb: np.ndarray, n: int = 4000, seed: int = 0) -> np.ndarray:
    """(n, 3) RGB values in [0, 1] of random pixels of the photo: the 'data set' the running statistics see."""
    rgb = np.asarray(rgb)[..., :3].reshape(-1, 3).astype(np.float64) / 255.0
    rng = np.random.default_rng(seed)
    return rgb[rng.choice(len(rgb), min(n, len(rgb)), replace=len(rgb) < n)]


# --------------------------------------------------------------------------------------------- 4. live training
VARIANTS = ("none", "batch", "layer")


@dataclass(frozen=True)
class DigitsConfig:
    act: str = "sigmoid"
    init: str = "xavier"
    sigma: float = 0.01
    depth: int = 6                    # hidden layers of `width` units
    width: int = 64
    lr: float = 0.1                   # plain SGD
    batch: int = 64
    steps: int = 600
    every: int = 20
    seed: int = 0


@dataclass(frozen=True)
class DigitsSnapshot:
    step: int
    names: tuple[str, ...]
    steps: np.ndarray                 # (S,)
    train_loss: np.ndarray            # (K, S) mean minibatch loss since the previous point (step 0: full train set)
    test_acc: np.ndarray              # (K, S) accuracy on held-out digits (BatchNorm in eval mode)
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


def digits_net(cfg: DigitsConfig, variant: str):
    """196 → (Linear → [BatchNorm1d | LayerNorm] → φ) × depth → Linear 10, weights from `cfg.init` (seeded; the same
    for every variant), biases 0."""
    import torch
    from torch import nn

    acts = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}
    Ws = deep_weights(cfg.init, cfg.depth, cfg.width, cfg.sigma, cfg.seed, n_in=196, n_out=10)
    layers = []
    for i, W in enumerate(Ws):
        lin = nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.astype(np.float32)))
            lin.bias.zero_()
        layers.append(lin)
        if i < len(Ws) - 1:
            if variant == "batch":
                layers.append(nn.BatchNorm1d(W.shape[1]))
            elif variant == "layer":
                layers.append(nn.LayerNorm(W.shape[1]))
            layers.append(acts[cfg.act]())
    return nn.Sequential(*layers)


def train_digits(cfg: DigitsConfig) -> Iterator[DigitsSnapshot]:
    """The three variants on the same minibatches of real digits (MNIST 5k, 14×14), plain SGD
    $\theta \leftarrow \theta - \eta \nabla L$; a snapshot every `cfg.every` steps."""
    import torch
    import torch.nn.functional as F

    from engine.common.digits import mnist_14 as digits_data
    x_tr, y_tr, x_te, y_te = digits_data(cfg.seed)
    xt, yt = torch.from_numpy(x_tr.astype(np.float32)), torch.from_numpy(y_tr)
    xe, ye = torch.from_numpy(x_te.astype(np.float32)), torch.from_numpy(y_te)
    nets = [digits_net(cfg, v) for v in VARIANTS]
    K, S = len(VARIANTS), cfg.steps // cfg.every + 2
    steps = np.zeros(S, dtype=np.int64)
    losses, accs = np.empty((K, S)), np.empty((K, S))
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()

    def evaluate(k: int) -> float:
        net = nets[k]
        net.eval()
        with torch.no_grad():
            acc = float((net(xe).argmax(1) == ye).double().mean())
        net.train()
        return acc

    for k, net in enumerate(nets):
        net.eval()
        with torch.no_grad():
            losses[k, 0] = float(F.cross_entropy(net(xt), yt))
        net.train()
        accs[k, 0] = evaluate(k)
    n_pts, done = 1, 0

    def snapshot() -> DigitsSnapshot:
        views = [steps[:n_pts].copy(), losses[:, :n_pts].copy(), accs[:, :n_pts].copy()]
        metrics = {}
        for k, v in enumerate(VARIANTS):
            metrics[f"{v}.loss"] = float(losses[k, n_pts - 1])
            metrics[f"{v}.acc"] = float(accs[k, n_pts - 1])
        return DigitsSnapshot(done, VARIANTS, *views, metrics, time.perf_counter() - t0)

    yield snapshot()
    order, pos = rng.permutation(len(y_tr)), 0
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        acc_loss = np.zeros(K)
        for _ in range(done, stop):
            if pos + cfg.batch > len(order):
                order, pos = rng.permutation(len(y_tr)), 0
            idx = torch.from_numpy(order[pos:pos + cfg.batch])
            pos += cfg.batch
            xb, yb = xt[idx], yt[idx]                                         # (B, 196), (B,)
            for k, net in enumerate(nets):
                loss = F.cross_entropy(net(xb), yb)
                grads = torch.autograd.grad(loss, list(net.parameters()))
                with torch.no_grad():
                    for p, g in zip(net.parameters(), grads):
                        # θ ← θ − η ∇L
                        p.sub_(cfg.lr * g)
                acc_loss[k] += float(loss.detach())
        steps[n_pts] = stop
        losses[:, n_pts] = acc_loss / (stop - done)
        accs[:, n_pts] = [evaluate(k) for k in range(K)]
        n_pts += 1
        done = stop
        yield snapshot()
