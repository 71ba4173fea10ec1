r"""Model compression on a network trained on real digits: magnitude pruning (unstructured and structured, with
fine-tuning), post-training int8 quantisation (scale, zero-point, integer arithmetic, size and speed measured) and
knowledge distillation (temperature, the T² factor, a student trained with and without its teacher).

The network: an MLP 196 → 256 → 128 → 10 (ReLU) on MNIST-5k pooled to 14 × 14 (`engine.common.digits`), trained
with Adam from a seeded `torch.Generator`, so every process gets the same weights; the trained weights are kept per
process (`trained_weights`, read-only) and every function that changes weights works on a fresh copy
(`trained_mlp()` builds one).

Notation: amount = the share of a layer's weights (or rows) pruned; s scale and z zero-point of an affine
quantisation, $q = \mathrm{clamp}(\mathrm{round}(x/s) + z, q_{\min}, q_{\max})$, $\hat x = s(q - z)$;
T temperature, α the weight of the soft (teacher) term.

References
----------
Han, Pool, Tran & Dally, "Learning both Weights and Connections for Efficient Neural Networks", NeurIPS 2015;
Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017 (structured, L-norm of filters);
Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference",
CVPR 2018 (affine scheme, Eq. 1–4); Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015
(soft targets with temperature, gradients scale as 1/T², so the soft term is multiplied by T²).
"""
from __future__ import annotations

import copy
import io
import math
import time
from dataclasses import dataclass, field
import threading
from functools import lru_cache
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.common import optim

SIZES = (196, 256, 128, 10)          # the teacher / base network
N_TEST = 1000                        # held-out digits (100 per class)
AMOUNTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
MODES = ("unstructured", "structured")
SCHEMES = ("affine", "symmetric")
QMIN, QMAX = -128, 127               # signed int8 (torch.qint8)


# ---------------------------------------------------------------------------------------------- data, network
@lru_cache(maxsize=2)
def digits_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST-5k pooled 2×2 to 14×14, scaled to [0, 1]: (x_train (4000, 196) float32, y_train, x_test (1000, 196),
    y_test); the test set is 100 digits per class chosen by `seed`. Read-only arrays shared by every caller."""
    from engine.common import digits
    x, y = digits.mnist_5k()                                                    # (5000, 28, 28) uint8
    x = (x.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196) / 255.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(y == c), N_TEST // 10, replace=False) for c in range(10)])
    mask = np.zeros(len(y), bool)
    mask[test] = True
    out = (x[~mask], y[~mask], x[mask], y[mask])
    for a in out:
        a.flags.writeable = False
    return out


def make_mlp(sizes: tuple[int, ...], gen: torch.Generator | None = None) -> nn.Sequential:
    """Linear, ReLU, …, Linear; with `gen`, He-normal weights N(0, 2/fan_in) and zero biases from that generator
    (never the global seed)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        if gen is not None:
            with torch.no_grad():
                lin.weight.copy_(torch.randn(b, a, generator=gen) * math.sqrt(2.0 / a))
                lin.bias.zero_()
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(x, dtype=np.float32, copy=True))


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(_tensor(x)).argmax(1).numpy() == y).mean())


def _train_epochs(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, batch: int,
                  gen: torch.Generator) -> None:
    # = torch.optim.Adam without its first-call torch._dynamo import
    opt = optim.Adam(model.parameters(), lr=lr)
    xt, yt = _tensor(x), torch.from_numpy(np.array(y))
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(yt), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


_TRAIN_LOCK = threading.Lock()


def trained_weights(seed: int = 0, epochs: int = 4) -> tuple[torch.Tensor, ...]:
    """The trained base network's parameters (W1, b1, W2, b2, W3, b3), read-only: trained once per process
    (Adam, η = 3·10⁻³, batches of 100, `epochs` passes over the 4 000 training digits). Single-flight: readers who
    arrive while it trains wait for that one training (an lru_cache alone let twenty readers of a cold server train
    twenty copies at once)."""
    with _TRAIN_LOCK:
        return _trained_weights(seed, epochs)


@lru_cache(maxsize=2)
def _trained_weights(seed: int, epochs: int) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    model = make_mlp(SIZES, gen)
    x_tr, y_tr, _, _ = digits_data(seed)
    _train_epochs(model, x_tr, y_tr, epochs, 3e-3, 100, gen)
    return tuple(p.detach().clone() for p in model.parameters())


def trained_mlp(seed: int = 0) -> nn.Sequential:
    """A fresh copy of the trained base network (change it freely)."""
    model = make_mlp(SIZES)
    weights = trained_weights(seed)                  # trained with gradients on: outside no_grad
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(w)
    return model.eval()


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------- pruning
def n_to_prune(amount: float, n: int) -> int:
    """How many of n entries a share `amount` prunes: round(amount · n) (Python's round, as torch.nn.utils.prune)."""
    return int(round(amount * n))


def l1_unstructured_mask(w: torch.Tensor, amount: float) -> torch.Tensor:
    """Mask (same shape as w) zeroing the round(amount·n) weights of smallest |w|: unstructured magnitude pruning."""
    k = n_to_prune(amount, w.numel())
    mask = torch.ones(w.numel())
    if k:
        order = torch.argsort(w.detach().abs().reshape(-1), stable=True)    # smallest |w| first
        mask[order[:k]] = 0.0
    return mask.reshape(w.shape)


def ln_structured_mask(w: torch.Tensor, amount: float, n: float = 2, dim: int = 0) -> torch.Tensor:
    """Mask zeroing whole slices along `dim` (dim 0 of a Linear weight (out, in): whole output units) — the
    round(amount·size) slices of smallest L_n norm: structured pruning."""
    size = w.shape[dim]
    k = n_to_prune(amount, size)
    other = tuple(d for d in range(w.dim()) if d != dim)
    norms = w.detach().abs().pow(n).sum(dim=other).pow(1.0 / n)              # (size,) ‖slice‖_n
    keep = torch.ones(size)
    if k:
        keep[torch.argsort(norms, stable=True)[:k]] = 0.0
    shape = [1] * w.dim()
    shape[dim] = size
    return keep.reshape(shape).expand_as(w).clone()


def prune_threshold(w: torch.Tensor, amount: float) -> float:
    """The largest |w| that unstructured pruning at `amount` removes (0 when nothing is pruned): every weight with
    a smaller magnitude goes."""
    k = n_to_prune(amount, w.numel())
    return float(torch.sort(w.detach().abs().reshape(-1)).values[k - 1]) if k else 0.0


def prune_masks(model: nn.Module, amount: float, mode: str) -> tuple[torch.Tensor, ...]:
    """One mask per Linear weight. Unstructured: every layer loses `amount` of its weights (smallest |w|, layer by
    layer, like `prune.l1_unstructured` on each module). Structured: the hidden layers lose `amount` of their units
    (rows of smallest L2 norm, `prune.ln_structured(n=2, dim=0)`); the output layer keeps its 10 classes."""
    lins = linears(model)
    if mode == "unstructured":
        return tuple(l1_unstructured_mask(m.weight, amount) for m in lins)
    return tuple(ln_structured_mask(m.weight, amount) for m in lins[:-1]) + (torch.ones_like(lins[-1].weight),)


def apply_masks(model: nn.Module, masks: tuple[torch.Tensor, ...], structured: bool = False) -> nn.Module:
    """w ← w ⊙ mask for every Linear; `structured`: the pruned units' biases too (a removed unit outputs nothing,
    not ReLU(b))."""
    with torch.no_grad():
        for m, mask in zip(linears(model), masks):
            m.weight.mul_(mask)
            if structured:
                m.bias.mul_(mask[:, 0])
    return model


def pruned(model: nn.Module, amount: float, mode: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """A pruned copy of `model` (the original untouched) and its masks."""
    out = copy.deepcopy(model)
    masks = prune_masks(out, amount, mode)
    return apply_masks(out, masks, mode == "structured"), masks


def shrink(model: nn.Module, masks: tuple[torch.Tensor, ...]) -> nn.Sequential:
    """Structured pruning made physical: the pruned units (zero rows of a hidden layer's mask) are removed, with the
    matching columns of the next layer, giving smaller dense layers that compute the same function."""
    lins = linears(model)
    keep_in = torch.arange(lins[0].in_features)
    sizes = [lins[0].in_features]
    params = []
    for i, (m, mask) in enumerate(zip(lins, masks)):
        keep_out = torch.arange(m.out_features) if i == len(lins) - 1 else torch.nonzero(mask.sum(1) > 0)[:, 0]
        params.append((m.weight.detach()[keep_out][:, keep_in], m.bias.detach()[keep_out]))
        sizes.append(len(keep_out))
        keep_in = keep_out
    small = make_mlp(tuple(sizes))
    with torch.no_grad():
        for m, (w, b) in zip(linears(small), params):
            m.weight.copy_(w)
            m.bias.copy_(b)
    return small.eval()


def shrunk_params(sizes: tuple[int, ...], amount: float) -> int:
    """Parameters (weights + biases) of the MLP `sizes` after structured pruning of `amount` of every hidden layer's
    units, the pruned units removed: each hidden width h becomes h − round(amount·h), and the next layer loses the
    matching inputs; the input and output widths stay."""
    widths = [sizes[0]] + [h - n_to_prune(amount, h) for h in sizes[1:-1]] + [sizes[-1]]
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


@dataclass(frozen=True)
class SparsityCurve:
    amounts: np.ndarray              # (A,) shares pruned per layer
    accuracy: np.ndarray             # (2, A) test accuracy, rows in MODES order
    zeros: np.ndarray                # (2, A) share of all weights that are zero
    params: np.ndarray               # (2, A) parameters left (structured: of the shrunk network; unstructured: non-zero)


def sparsity_curve(seed: int = 0, amounts: tuple[float, ...] = AMOUNTS) -> SparsityCurve:
    """Test accuracy of the trained network pruned at each amount, without fine-tuning, both modes."""
    base = trained_mlp(seed)
    _, _, x_te, y_te = digits_data(seed)
    acc, zeros, params = (np.zeros((len(MODES), len(amounts))) for _ in range(3))
    for i, mode in enumerate(MODES):
        for j, a in enumerate(amounts):
            net, masks = pruned(base, a, mode)
            acc[i, j] = accuracy(net, x_te, y_te)
            total = sum(m.numel() for m in masks)
            zeros[i, j] = sum(float((m == 0).sum()) for m in masks) / total
            params[i, j] = (param_count(shrink(net, masks)) if mode == "structured"
                            else sum(int((l.weight != 0).sum()) + l.bias.numel() for l in linears(net)))
    return SparsityCurve(np.array(amounts), acc, zeros, params)


@dataclass(frozen=True)
class FineTune:
    mode: str
    amount: float
    steps: np.ndarray                # (S,) updates done at each point
    accuracy: np.ndarray             # (S,) test accuracy
    dense_accuracy: float            # the unpruned network's
    zeros: float                     # share of weights that are zero (kept zero through fine-tuning)


def fine_tune(seed: int, amount: float, mode: str, steps: int = 300, every: int = 30, lr: float = 1e-3,
              batch: int = 64) -> FineTune:
    """Prune the trained network, then train it on on the same digits with the masks held: after every Adam step
    the gradient and the weight are multiplied by the mask, so pruned weights stay exactly zero."""
    base = trained_mlp(seed)
    x_tr, y_tr, x_te, y_te = digits_data(seed)
    net, masks = pruned(base, amount, mode)
    lins = linears(net)
    # = torch.optim.Adam without its first-call torch._dynamo import
    opt = optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed + 1)
    xt, yt = _tensor(x_tr), torch.from_numpy(np.array(y_tr))
    pts, accs = [0], [accuracy(net, x_te, y_te)]
    order, pos = torch.randperm(len(yt), generator=gen), 0
    for t in range(1, steps + 1):
        if pos + batch > len(order):
            order, pos = torch.randperm(len(yt), generator=gen), 0
        idx = order[pos:pos + batch]
        pos += batch
        loss = F.cross_entropy(net(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        for m, mask in zip(lins, masks):
            m.weight.grad.mul_(mask)
            if mode == "structured":
                m.bias.grad.mul_(mask[:, 0])                                    # removed units stay removed
        opt.step()
        with torch.no_grad():
            for m, mask in zip(lins, masks):
                m.weight.mul_(mask)
        if t % every == 0 or t == steps:
            pts.append(t)
            accs.append(accuracy(net, x_te, y_te))
    zeros = sum(float((m.weight == 0).sum()) for m in lins) / sum(m.weight.numel() for m in lins)
    return FineTune(mode, amount, np.array(pts), np.array(accs), accuracy(base, x_te, y_te), zeros)


# ---------------------------------------------------------------------------------------------- quantisation
@dataclass(frozen=True)
class QParams:
    scale: float                     # s (float32)
    zero_point: int                  # z
    lo: float                        # min(x, 0): the range includes 0, so 0 is exact
    hi: float                        # max(x, 0)
    qmin: int = QMIN
    qmax: int = QMAX
    scheme: str = "affine"


def qparams(x: np.ndarray | torch.Tensor, scheme: str = "affine", qmin: int = QMIN, qmax: int = QMAX) -> QParams:
    r"""Scale and zero-point from the min and max of x (torch's MinMaxObserver, in float32).

    affine:    $s = \frac{\max(x, 0) - \min(x, 0)}{q_{\max} - q_{\min}}$, $z = q_{\min} - \mathrm{round}(\min(x,0)/s)$
    symmetric: $s = \frac{\max|x|}{(q_{\max} - q_{\min})/2}$, $z = 0$ (signed) — the grid is centred on 0."""
    t = torch.from_numpy(np.array(x, dtype=np.float32))
    lo = torch.clamp(t.min(), max=0.0)
    hi = torch.clamp(t.max(), min=0.0)
    eps = torch.tensor(torch.finfo(torch.float32).eps)
    if scheme == "symmetric":
        scale = torch.maximum(torch.maximum(-lo, hi) / (float(qmax - qmin) / 2), eps)
        zp = 0 if qmin < 0 else (qmin + qmax + 1) // 2
    else:
        scale = torch.maximum((hi - lo) / float(qmax - qmin), eps)
        zp = int(min(max(qmin - int(torch.round(lo / scale)), qmin), qmax))
    return QParams(float(scale), zp, float(lo), float(hi), qmin, qmax, scheme)


def quantize(x: np.ndarray, qp: QParams) -> np.ndarray:
    r"""$q = \mathrm{clamp}(\mathrm{round}(x \cdot \tfrac1s) + z,\ q_{\min}, q_{\max})$, round half to even, in
    float32 as torch.quantize_per_tensor does. Returns int32 (the values fit int8)."""
    inv = np.float32(1.0) / np.float32(qp.scale)
    q = np.rint(np.asarray(x, dtype=np.float32) * inv) + qp.zero_point
    return np.clip(q, qp.qmin, qp.qmax).astype(np.int32)


def dequantize(q: np.ndarray, qp: QParams) -> np.ndarray:
    r"""$\hat x = s\,(q - z)$ (float32)."""
    return (np.float32(qp.scale) * (np.asarray(q, np.int32) - qp.zero_point)).astype(np.float32)


@dataclass(frozen=True)
class QuantLayer:
    q_w: np.ndarray                  # (out, in) int8 values (int32 dtype)
    w: QParams
    x: QParams                       # of this layer's input, calibrated
    bias: np.ndarray                 # (out,) float32


def int8_linear(q_x: np.ndarray, layer: QuantLayer) -> np.ndarray:
    r"""A layer on integers: $y = s_x s_w \sum_k (q_{x,k} - z_x)(q_{w,k} - z_w) + b$; the sum is exact in int32
    (|(q−z)| ≤ 255, 256 terms ≪ 2³¹). Returns float32 (N, out)."""
    acc = (q_x - layer.x.zero_point).astype(np.int32) @ (layer.q_w - layer.w.zero_point).astype(np.int32).T
    return (np.float32(layer.x.scale * layer.w.scale) * acc.astype(np.float32) + layer.bias).astype(np.float32)


@dataclass(frozen=True)
class QuantMLP:
    layers: tuple[QuantLayer, ...]
    scheme: str


def quantize_mlp(model: nn.Module, calib_x: np.ndarray, scheme: str = "symmetric") -> QuantMLP:
    """Post-training static quantisation: every weight matrix to int8 per tensor (`scheme`), every layer's input to
    int8 affine with the range seen on the calibration digits (the float network's activations)."""
    layers = []
    x = np.array(calib_x, np.float32)                                          # a writable copy
    lins = linears(model)
    for i, m in enumerate(lins):
        w = m.weight.detach().numpy()
        qw = qparams(w, scheme)
        layers.append(QuantLayer(quantize(w, qw), qw, qparams(x, "affine"), m.bias.detach().numpy().copy()))
        with torch.no_grad():
            x = m(torch.from_numpy(x)).numpy()
        if i < len(lins) - 1:
            x = np.maximum(x, 0.0)
    return QuantMLP(tuple(layers), scheme)


def quant_logits(qm: QuantMLP, x: np.ndarray) -> np.ndarray:
    """Logits of the int8 network: quantise each layer's input, integer matmul, rescale, ReLU."""
    h = np.asarray(x, np.float32)
    for i, layer in enumerate(qm.layers):
        h = int8_linear(quantize(h, layer.x), layer)
        if i < len(qm.layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def fake_quant_mlp(model: nn.Module, qm: QuantMLP) -> nn.Sequential:
    """A float copy whose weights are the dequantised int8 weights (weight error only, activations float)."""
    out = copy.deepcopy(model)
    with torch.no_grad():
        for m, layer in zip(linears(out), qm.layers):
            m.weight.copy_(torch.from_numpy(dequantize(layer.q_w, layer.w)))
    return out


def serialized_bytes(obj) -> int:
    """Bytes `torch.save` writes for `obj`, measured in memory (io.BytesIO), never on disk."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getbuffer().nbytes


def int8_state(qm: QuantMLP) -> dict:
    """What an int8 checkpoint holds: int8 weights, float32 biases, and each layer's s and z (weights, input)."""
    state = {}
    for i, l in enumerate(qm.layers):
        state[f"{i}.weight"] = torch.from_numpy(l.q_w.astype(np.int8))
        state[f"{i}.bias"] = torch.from_numpy(l.bias)
        state[f"{i}.qparams"] = torch.tensor([l.w.scale, l.w.zero_point, l.x.scale, l.x.zero_point])
    return state


def torch_int8(model: nn.Module, calib_x: np.ndarray, scheme: str = "symmetric") -> nn.Module:
    """The same post-training quantisation with torch's int8 kernels (torch.ao.quantization, eager mode:
    Linear+ReLU fused, MinMaxObserver on activations (quint8) and weights (qint8, per tensor)); for the measured
    speed and as the tests' reference."""
    import torch.ao.quantization as tq
    qs = torch.per_tensor_symmetric if scheme == "symmetric" else torch.per_tensor_affine
    n = len(linears(model))
    body = copy.deepcopy(model)
    net = nn.Sequential(tq.QuantStub(), *body, tq.DeQuantStub()).eval()
    net.qconfig = tq.QConfig(activation=tq.MinMaxObserver.with_args(dtype=torch.quint8),
                             weight=tq.MinMaxObserver.with_args(dtype=torch.qint8, qscheme=qs))
    net = tq.fuse_modules(net, [[str(1 + 2 * i), str(2 + 2 * i)] for i in range(n - 1)])
    prepared = tq.prepare(net)
    with torch.no_grad():
        prepared(_tensor(calib_x))
    return tq.convert(prepared).eval()


def best_time(fn, repeats: int = 7) -> float:
    """The fastest of `repeats` timed calls (s): the least disturbed by other work on the machine."""
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@dataclass(frozen=True)
class QuantReport:
    scheme: str
    acc_float: float
    acc_weights: float               # int8 weights, float activations
    acc_int8: float                  # our integer arithmetic
    acc_torch: float                 # torch's int8 kernels
    agree_torch: float               # share of test digits where ours and torch's int8 predict the same class
    bytes_float: int                 # torch.save(state_dict) of the float network
    bytes_int8: int                  # torch.save of int8_state
    bytes_torch: int                 # torch.save(state_dict) of torch's quantised network
    seconds_float: float             # best forward time of the float network on the test digits
    seconds_torch: float             # … of torch's int8 network
    seconds_ours: float              # … of our numpy integer arithmetic
    batch: int


def quant_report(seed: int = 0, scheme: str = "symmetric", n_calib: int = 500) -> QuantReport:
    """Accuracy, size and speed of the float network and its int8 versions (calibrated on `n_calib` training
    digits). Times measured now, on this machine (best of 7)."""
    base = trained_mlp(seed)
    x_tr, _, x_te, y_te = digits_data(seed)
    calib = x_tr[:n_calib]
    qm = quantize_mlp(base, calib, scheme)
    tq = torch_int8(base, calib, scheme)
    xt = _tensor(x_te)
    with torch.no_grad():
        ours = quant_logits(qm, x_te).argmax(1)
        theirs = tq(xt).argmax(1).numpy()
        t_float = best_time(lambda: base(xt))
        t_torch = best_time(lambda: tq(xt))
    t_ours = best_time(lambda: quant_logits(qm, x_te))
    return QuantReport(scheme, accuracy(base, x_te, y_te), accuracy(fake_quant_mlp(base, qm), x_te, y_te),
                       float((ours == y_te).mean()), float((theirs == y_te).mean()), float((ours == theirs).mean()),
                       serialized_bytes(base.state_dict()), serialized_bytes(int8_state(qm)),
                       serialized_bytes(tq.state_dict()), t_float, t_torch, t_ours, len(y_te))


@dataclass(frozen=True)
class LayerQuant:
    layer: int
    scheme: str
    w: np.ndarray                    # (n,) the layer's float weights
    q: np.ndarray                    # (n,) their int8 values
    error: np.ndarray                # (n,) w − ŵ
    qp: QParams
    max_error: float                 # max |w − ŵ| (≤ s/2 when nothing is clipped)
    levels_used: int                 # distinct int8 values taken


def layer_quant(seed: int, layer: int, scheme: str) -> LayerQuant:
    """One layer's weights quantised: the numbers behind the error histogram."""
    w = trained_weights(seed)[2 * layer].numpy().reshape(-1).copy()          # never a view of the cached weights
    qp = qparams(w, scheme)
    q = quantize(w, qp)
    err = w - dequantize(q, qp)
    return LayerQuant(layer, scheme, w, q, err, qp, float(np.abs(err).max()), int(len(np.unique(q))))


# ---------------------------------------------------------------------------------------------- a real network
QUANTS = ("none", "per_tensor", "per_channel")


def per_channel_qparams(w: torch.Tensor, qmin: int = QMIN, qmax: int = QMAX) -> np.ndarray:
    r"""Symmetric scales, one per output channel (dim 0): $s_c = \max|w_c| / ((q_{\max} - q_{\min})/2)$, z = 0
    (torch's PerChannelMinMaxObserver with per_channel_symmetric). Returns (C,) float32."""
    flat = w.detach().reshape(w.shape[0], -1)
    hi = torch.maximum(-torch.clamp(flat.min(dim=1).values, max=0.0), torch.clamp(flat.max(dim=1).values, min=0.0))
    eps = torch.tensor(torch.finfo(torch.float32).eps)
    return torch.maximum(hi / (float(qmax - qmin) / 2), eps).numpy()


def quantize_weight(w: torch.Tensor, quant: str) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values (same shape, int32 dtype), scales: (1,) per tensor or (C,) per channel), symmetric (z = 0)."""
    x = w.detach().numpy().astype(np.float32)
    if quant == "per_tensor":
        scales = np.array([qparams(x, "symmetric").scale], np.float32)
        shape = (1,) * x.ndim
    else:
        scales = per_channel_qparams(w)
        shape = (-1,) + (1,) * (x.ndim - 1)
    inv = (np.float32(1.0) / scales).reshape(shape)
    return np.clip(np.rint(x * inv), QMIN, QMAX).astype(np.int32), scales


def fold_bn(model: nn.Module) -> nn.Module:
    """A copy with every BatchNorm2d that follows a Conv2d folded into it (w' = w·γ/σ, b' = (b − μ)γ/σ + β, torch's
    `fuse_conv_bn_eval`), the BN replaced by Identity: what int8 deployment quantises. Same outputs up to rounding."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    net = copy.deepcopy(model).eval()
    for mod in net.modules():
        if isinstance(mod, nn.Sequential):
            kids = list(mod._modules.items())
            for (n1, a), (n2, b) in zip(kids[:-1], kids[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    mod._modules[n1] = fuse_conv_bn_eval(a, b)
                    mod._modules[n2] = nn.Identity()
    return net


@dataclass(frozen=True)
class ImageNetCompression:
    amount: float
    quant: str
    fold: bool
    probs: np.ndarray                # (1000,) the original network's softmax on the photo
    probs_c: np.ndarray              # (1000,) the compressed copy's
    zeros: float                     # share of the conv/linear weights that are zero
    n_weights: int                   # conv/linear weights in all
    bytes_float: int                 # torch.save of the float state_dict, in memory
    bytes_c: int                     # torch.save of the compressed one (int8 weights + scales when quantised)
    kl: float                        # KL(original ‖ compressed) of the two softmaxes


def compress_imagenet(model: nn.Module, x: torch.Tensor, amount: float, quant: str,
                      fold: bool = True) -> ImageNetCompression:
    """Prune (unstructured, `amount` of every conv and linear weight by |w|) and/or quantise to int8 (symmetric, per
    tensor or per output channel; with `fold`, after folding BatchNorm into the convolutions) a *copy* of a shared
    ImageNet model — the model itself is never changed — and compare the two networks' class probabilities on the
    photo `x` (1, 3, H, W)."""
    net = fold_bn(model) if fold else copy.deepcopy(model)
    state = {}
    zeros = total = 0
    with torch.no_grad():
        for name, m in net.named_modules():
            if not isinstance(m, (nn.Conv2d, nn.Linear)):
                continue
            if amount > 0:
                m.weight.mul_(l1_unstructured_mask(m.weight, amount))
            if quant != "none":
                q, scales = quantize_weight(m.weight, quant)
                shape = (-1,) + (1,) * (m.weight.dim() - 1) if quant == "per_channel" else (1,) * m.weight.dim()
                m.weight.copy_(torch.from_numpy(q * scales.reshape(shape)))
                state[f"{name}.weight"] = torch.from_numpy(q.astype(np.int8))
                state[f"{name}.weight_scale"] = torch.from_numpy(scales)
            zeros += int((m.weight == 0).sum())
            total += m.weight.numel()
        for k, v in net.state_dict().items():
            state.setdefault(k, v)
        p = torch.softmax(model(x), dim=1)[0].double().numpy()
        pc = torch.softmax(net(x), dim=1)[0].double().numpy()
    kl = float(np.sum(p * (np.log(p + 1e-30) - np.log(pc + 1e-30))))
    return ImageNetCompression(amount, quant, fold, p, pc, zeros / total, total, serialized_bytes(model.state_dict()),
                               serialized_bytes(state), kl)


# ---------------------------------------------------------------------------------------------- distillation
def soft_targets(logits: np.ndarray | torch.Tensor, T: float) -> np.ndarray:
    r"""$p_i^{(T)} = \frac{\exp(z_i/T)}{\sum_j \exp(z_j/T)}$: T = 1 is the softmax, larger T flattens it."""
    z = np.asarray(logits, np.float64) / T
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def kd_loss(z_s: torch.Tensor, z_t: torch.Tensor, y: torch.Tensor, T: float, alpha: float,
            t2: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Hinton et al.'s distillation loss, averaged over the batch:

    $$L = \alpha\,T^2\,\mathrm{KL}\big(p_t^{(T)} \,\|\, p_s^{(T)}\big) + (1 - \alpha)\,\mathrm{CE}(y, p_s^{(1)})$$

    Returns (L, soft term T²·KL (or KL alone when `t2` is False), hard term CE)."""
    log_ps = F.log_softmax(z_s / T, dim=1)                                   # (B, K)
    log_pt = F.log_softmax(z_t / T, dim=1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(dim=1).mean()                # KL(p_t ‖ p_s), batch mean
    soft = kl * T * T if t2 else kl
    hard = F.cross_entropy(z_s, y)
    return alpha * soft + (1 - alpha) * hard, soft, hard


def soft_grad(z_s: np.ndarray, z_t: np.ndarray, T: float, t2: bool = True) -> np.ndarray:
    r"""∂(soft term)/∂z_s, by hand: $\frac{\partial}{\partial z_s} \mathrm{KL} = \frac{1}{T}(p_s^{(T)} - p_t^{(T)})$
    per example (divided by B for the mean), times T² when `t2`: $T\,(p_s^{(T)} - p_t^{(T)})/B$."""
    g = (soft_targets(z_s, T) - soft_targets(z_t, T)) / (T * len(z_s))
    return g * T * T if t2 else g


@dataclass(frozen=True)
class GradScale:
    T: np.ndarray                    # (n,) temperatures
    with_t2: np.ndarray              # (n,) ‖∂(T²·KL)/∂z_s‖ (Frobenius, batch)
    without: np.ndarray              # (n,) ‖∂KL/∂z_s‖


def grad_scale(z_s: np.ndarray, z_t: np.ndarray, Ts: np.ndarray) -> GradScale:
    """How the soft term's gradient size changes with T, with and without the T² factor."""
    Ts = np.asarray(Ts, float)
    w = np.array([np.linalg.norm(soft_grad(z_s, z_t, T, True)) for T in Ts])
    wo = np.array([np.linalg.norm(soft_grad(z_s, z_t, T, False)) for T in Ts])
    return GradScale(Ts, w, wo)


def logits_example(seed: int = 0, n: int = 64, hidden: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(teacher logits, logits of an untrained student 196 → hidden → 10) on the first `n` test digits, float64:
    the batch behind the gradient-vs-T figure."""
    _, _, x_te, _ = digits_data(seed)
    x = _tensor(x_te[:n])
    teacher = trained_mlp(seed)
    student = make_mlp((SIZES[0], hidden, 10), torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        return teacher(x).double().numpy(), student(x).double().numpy()


@dataclass(frozen=True)
class DistillConfig:
    T: float = 4.0                   # temperature of the soft targets
    alpha: float = 0.9               # weight of the soft term (1 − α on the labels)
    hidden: int = 32                 # the student's one hidden layer (the teacher has 256 and 128)
    n_train: int = 300               # labelled digits the students see (the teacher saw 4 000)
    steps: int = 1200                # updates in all
    every: int = 40                  # updates between two snapshots
    batch: int = 64
    lr: float = 3e-3
    seed: int = 0


@dataclass(frozen=True)
class DistillSnapshot:
    step: int
    steps: np.ndarray                # (S,) update counts of the recorded points
    acc: np.ndarray                  # (2, S) test accuracy: row 0 with the teacher, row 1 labels only
    loss: np.ndarray                 # (2, S) training loss (mean over the updates since the previous point)
    teacher_acc: float
    student_params: int
    teacher_params: int
    metrics: dict = field(default_factory=dict)    # {"kd.acc", "ce.acc", "kd.loss", "ce.loss"}
    seconds: float = 0.0


STUDENTS = ("kd", "ce")


def distill(cfg: DistillConfig) -> Iterator[DistillSnapshot]:
    """Two students (196 → hidden → 10) from the same initialisation see the same minibatches of the same
    `n_train` labelled digits: "kd" learns from the teacher's soft targets at temperature T (weight α) and the
    labels, "ce" from the labels alone. A snapshot every `cfg.every` updates."""
    x_tr, y_tr, x_te, y_te = digits_data(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    sub = np.sort(np.concatenate([rng.choice(np.flatnonzero(y_tr == c), cfg.n_train // 10, replace=False)
                                  for c in range(10)]))
    xs, ys = _tensor(x_tr[sub]), torch.from_numpy(np.array(y_tr[sub]))
    teacher = trained_mlp(cfg.seed)
    with torch.no_grad():
        z_t = teacher(xs)                                                     # (n, 10) teacher logits
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    init = make_mlp((SIZES[0], cfg.hidden, 10), gen)
    nets = {k: copy.deepcopy(init) for k in STUDENTS}
    # = torch.optim.Adam without its first-call torch._dynamo import
    opts = {k: optim.Adam(nets[k].parameters(), lr=cfg.lr) for k in STUDENTS}
    S = cfg.steps // cfg.every + 2
    steps = np.zeros(S, np.int64)
    acc, loss = np.zeros((2, S)), np.zeros((2, S))
    for i, k in enumerate(STUDENTS):
        acc[i, 0] = accuracy(nets[k], x_te, y_te)
        with torch.no_grad():
            zs = nets[k](xs)
        loss[i, 0] = float(kd_loss(zs, z_t, ys, cfg.T, cfg.alpha)[0] if k == "kd" else F.cross_entropy(zs, ys))
    teacher_acc = accuracy(teacher, x_te, y_te)
    n_pts, done = 1, 0
    t0 = time.perf_counter()

    def snapshot() -> DistillSnapshot:
        views = [steps[:n_pts].copy(), acc[:, :n_pts].copy(), loss[:, :n_pts].copy()]
        for v in views:
            v.flags.writeable = False
        metrics = {f"{k}.{m}": float(a[i, n_pts - 1]) for i, k in enumerate(STUDENTS)
                   for m, a in (("acc", acc), ("loss", loss))}
        return DistillSnapshot(done, *views, teacher_acc, param_count(init), param_count(teacher), metrics,
                               time.perf_counter() - t0)

    yield snapshot()
    order, pos = torch.randperm(len(ys), generator=gen), 0
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        run = np.zeros(2)
        for _ in range(done, stop):
            if pos + cfg.batch > len(order):
                order, pos = torch.randperm(len(ys), generator=gen), 0
            idx = order[pos:pos + cfg.batch]
            pos += cfg.batch
            for i, k in enumerate(STUDENTS):
                zs = nets[k](xs[idx])
                lk = kd_loss(zs, z_t[idx], ys[idx], cfg.T, cfg.alpha)[0] if k == "kd" else F.cross_entropy(zs, ys[idx])
                opts[k].zero_grad()
                lk.backward()
                opts[k].step()
                run[i] += float(lk.detach())
        steps[n_pts] = stop
        loss[:, n_pts] = run / (stop - done)
        acc[:, n_pts] = [accuracy(nets[k], x_te, y_te) for k in STUDENTS]
        n_pts += 1
        done = stop
        yield snapshot()
