r"""Basics › Regularisation: over-fitting and what fights it.

1. `penalized_2d`: the geometry of L1 vs L2 on a 2-D quadratic loss $L(w) = \tfrac12 (w - w^*)^\top A (w - w^*)$:
   the penalised optimum of $L(w) + \lambda \lVert w\rVert_1$ (proximal gradient, ISTA, to convergence; a corner of
   the diamond: a weight exactly 0) and of $L(w) + \tfrac{\lambda}{2} \lVert w\rVert_2^2$ (closed form
   $(A + \lambda I)^{-1} A w^*$: shrunk, never 0), with their paths as λ grows. Tests: scikit-learn's Lasso and Ridge
   on the equivalent least-squares problem, and a brute-force grid.
2. `inverted_dropout`: dropout's mask and its scaling $\tilde h = m \odot h / (1 - p)$ in training, $h$ itself in
   evaluation (= ``torch.nn.Dropout``); `dropout_masks` draws the masks of successive steps and the running mean of
   the outputs, which tends to $h$.
3. `train_overfit`: one MLP on a small subset of real MNIST digits trained side by side five ways — plain, L2
   (weight decay), L1, dropout, data augmentation (random shifts) — the training and validation loss of each, the
   early-stopping point (lowest validation loss so far), and the first layer's weights (histogram, share near 0).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np


# ------------------------------------------------------------------------------------------------ 1. L1 vs L2
def quadratic(w_star: tuple[float, float], ratio: float, angle_deg: float) -> np.ndarray:
    """A (2, 2) symmetric positive definite A with eigenvalues 1 and `ratio`, its first axis at `angle_deg`."""
    th = np.deg2rad(angle_deg)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    return R @ np.diag([1.0, float(ratio)]) @ R.T


def l2_solution(A: np.ndarray, w_star: np.ndarray, lam: float) -> np.ndarray:
    r"""$\arg\min_w \tfrac12 (w - w^*)^\top A (w - w^*) + \tfrac\lambda2 \lVert w\rVert_2^2 = (A + \lambda I)^{-1} A w^*$."""
    # (A + λI) w = A w*
    return np.linalg.solve(A + lam * np.eye(len(w_star)), A @ np.asarray(w_star, float))


def soft_threshold(z: np.ndarray, t: float) -> np.ndarray:
    r"""$S_t(z) = \mathrm{sign}(z)\max(|z| - t, 0)$, the proximal operator of $t\lVert\cdot\rVert_1$."""
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def l1_solution(A: np.ndarray, w_star: np.ndarray, lam: float, iters: int = 5000, tol: float = 1e-13) -> np.ndarray:
    r"""$\arg\min_w \tfrac12 (w - w^*)^\top A (w - w^*) + \lambda \lVert w\rVert_1$ by ISTA (step 1/‖A‖, to
    convergence): $w \leftarrow S_{\lambda/\lVert A\rVert}\big(w - A (w - w^*)/\lVert A\rVert\big)$."""
    w_star = np.asarray(w_star, float)
    step = 1.0 / np.linalg.eigvalsh(A).max()
    w = w_star.copy()
    for _ in range(iters):
        # w ← S_{ηλ}(w − η ∇L(w))
        new = soft_threshold(w - step * (A @ (w - w_star)), step * lam)
        if np.abs(new - w).max() < tol:
            return new
        w = new
    return w


@dataclass(frozen=True)
class Penalized2D:
    A: np.ndarray                   # (2, 2)
    w_star: np.ndarray              # (2,) unregularised optimum
    lam: float
    w_l1: np.ndarray                # (2,) the L1-penalised optimum
    w_l2: np.ndarray                # (2,) the L2-penalised optimum
    lams: np.ndarray                # (P,) λ of the paths
    path_l1: np.ndarray             # (P, 2)
    path_l2: np.ndarray             # (P, 2)
    zero_at: float                  # the smallest λ on the path where an L1 weight is exactly 0 (inf if none)


def penalized_2d(w_star: tuple[float, float], ratio: float, angle_deg: float, lam: float,
                 lam_max: float = 5.0, n_path: int = 60) -> Penalized2D:
    A = quadratic(w_star, ratio, angle_deg)
    ws = np.asarray(w_star, float)
    lams = np.linspace(0.0, lam_max, n_path)
    p1 = np.array([l1_solution(A, ws, l) for l in lams])
    p2 = np.array([l2_solution(A, ws, l) for l in lams])
    hit = np.flatnonzero((p1 == 0).any(axis=1))
    return Penalized2D(A, ws, float(lam), l1_solution(A, ws, lam), l2_solution(A, ws, lam), lams, p1, p2,
                       float(lams[hit[0]]) if hit.size else float("inf"))


def loss_grid(A: np.ndarray, w_star: np.ndarray, lim: float = 3.0, n: int = 81):
    """(w1 (n,), w2 (n,), L (n, n)) of the quadratic loss on a square grid, for the contours."""
    g = np.linspace(-lim, lim, n)
    W1, W2 = np.meshgrid(g, g)
    D = np.stack([W1 - w_star[0], W2 - w_star[1]], -1)                       # (n, n, 2)
    return g, g, 0.5 * np.einsum("...i,ij,...j->...", D, A, D)


# ------------------------------------------------------------------------------------------------- 2. dropout
def inverted_dropout(h: np.ndarray, mask: np.ndarray, p: float, train: bool = True) -> np.ndarray:
    r"""Training: $\tilde h = m \odot h / (1 - p)$ with $m_i \sim \mathrm{Bernoulli}(1 - p)$ (= ``nn.Dropout(p)``);
    evaluation: $h$ unchanged, since $\mathbb E[\tilde h] = h$ already."""
    if not train:
        return np.asarray(h, float).copy()
    if p >= 1.0:
        return np.zeros_like(np.asarray(h, float))
    # h̃ = m ⊙ h / (1 − p)
    return np.asarray(h, float) * mask / (1.0 - p)


@dataclass(frozen=True)
class DropoutDemo:
    p: float
    h: np.ndarray                   # (n,) the layer's activations
    masks: np.ndarray               # (T, n) 0/1 masks of T training steps
    outputs: np.ndarray             # (T, n) h̃ of each step
    running_mean: np.ndarray        # (T, n) mean of h̃ over steps 1..t (→ h)
    kept: np.ndarray                # (T,) share of units kept at each step
    kept_mean: float                # mean of `kept` (→ 1 − p)
    max_error: float                # max_i |mean of h̃_i over T steps − h_i|


def dropout_masks(h: np.ndarray, p: float, steps: int, seed: int = 0) -> DropoutDemo:
    rng = np.random.default_rng(seed)
    h = np.asarray(h, float)
    masks = (rng.random((steps, h.size)) >= p).astype(float)               # (T, n) keep with probability 1 − p
    outs = np.array([inverted_dropout(h, m, p) for m in masks])             # (T, n)
    run = np.cumsum(outs, 0) / np.arange(1, steps + 1)[:, None]
    return DropoutDemo(float(p), h, masks, outs, run, masks.mean(1), float(masks.mean()),
                       float(np.abs(run[-1] - h).max()))


def digit_activations(seed: int = 0, n: int = 64) -> np.ndarray:
    """(n,) a hidden layer's activations for one real digit: ReLU of a fixed random projection of a 14 × 14 MNIST
    image (He-scaled), the layer dropout acts on in the demo."""
    from engine.common.digits import mnist_14 as digits_data
    x = digits_data(0)[0][seed % 4000]                                      # (196,)
    rng = np.random.default_rng(1234)
    W = rng.normal(0.0, np.sqrt(2.0 / 196), (196, n))
    return np.maximum(x @ W, 0.0)


# ------------------------------------------------------------------------------------- 3. over-fitting, live
VARIANTS = ("plain", "l2", "l1", "dropout", "augment")


@dataclass(frozen=True)
class OverfitConfig:
    n_train: int = 200              # training digits (a small subset: the network can memorise it)
    hidden: int = 128
    lr: float = 1e-3                # Adam
    weight_decay: float = 1e-3      # λ of the L2 variant (added to the loss as λ/2 ‖W‖²)
    l1: float = 1e-4                # λ of the L1 variant (λ ‖W‖₁)
    p: float = 0.5                  # dropout probability of the dropout variant
    shift: int = 2                  # largest random shift in pixels of the augmentation variant
    steps: int = 600                # full-batch updates
    every: int = 20
    seed: int = 0


@dataclass(frozen=True)
class OverfitSnapshot:
    step: int
    names: tuple[str, ...]
    steps: np.ndarray               # (S,)
    train_loss: np.ndarray          # (K, S) on the clean training digits
    val_loss: np.ndarray            # (K, S) on 1 000 held-out digits
    val_acc: np.ndarray             # (K, S)
    best_step: np.ndarray           # (K,) early stopping: the step of the lowest validation loss so far
    best_acc: np.ndarray            # (K,) validation accuracy there
    w_hist: np.ndarray              # (K, 40) first-layer weights per W_EDGES bin (share)
    near_zero: np.ndarray           # (K,) share of first-layer weights with |w| < 1e-3
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


W_EDGES = np.linspace(-0.3, 0.3, 41)


def overfit_data(n_train: int, seed: int):
    """(x_train (n, 196), y_train, x_val (1000, 196), y_val): a class-balanced subset of MNIST 5k (14 × 14)."""
    from engine.common.digits import mnist_14 as digits_data
    x_tr, y_tr, x_te, y_te = digits_data(seed)
    rng = np.random.default_rng(seed)
    per = max(1, n_train // 10)
    idx = np.concatenate([rng.choice(np.flatnonzero(y_tr == c), per, replace=False) for c in range(10)])
    return x_tr[idx], y_tr[idx], x_te, y_te


def random_shift(x, shift: int, gen):
    """Each 14 × 14 image moved by up to `shift` pixels in x and y (zeros come in): torch (B, 196) → (B, 196)."""
    import torch
    import torch.nn.functional as F
    B = x.shape[0]
    img = F.pad(x.view(B, 1, 14, 14), (shift,) * 4)                         # (B, 1, 14 + 2s, 14 + 2s)
    dy = torch.randint(0, 2 * shift + 1, (B,), generator=gen)
    dx = torch.randint(0, 2 * shift + 1, (B,), generator=gen)
    rows = (dy[:, None] + torch.arange(14)[None]).view(B, 1, 14, 1).expand(B, 1, 14, 14 + 2 * shift)
    img = img.gather(2, rows)                                                # (B, 1, 14, 14 + 2s)
    cols = (dx[:, None] + torch.arange(14)[None]).view(B, 1, 1, 14).expand(B, 1, 14, 14)
    return img.gather(3, cols).reshape(B, 196)


def dropout_layer(p: float, gen):
    """Inverted dropout as a module, its masks drawn from `gen` (a local torch.Generator: ``nn.Dropout`` draws from
    the process-global generator, which would make a run depend on every other session). Training:
    m ⊙ x / (1 − p); evaluation: x (= ``nn.Dropout`` given the same mask; tests/basics/test_regularization.py)."""
    import torch
    from torch import nn

    class Dropout(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.p = float(p)

        def forward(self, x):
            if not self.training or self.p == 0.0:
                return x
            # m_i ~ Bernoulli(1 − p); x̃ = m ⊙ x / (1 − p)
            mask = (torch.rand(x.shape, generator=gen) >= self.p).to(x.dtype)
            return x * mask / (1.0 - self.p)

    return Dropout()


def overfit_net(cfg: OverfitConfig, variant: str, gen=None):
    """196 → hidden → hidden → 10, ReLU (+ inverted dropout after each hidden layer for the dropout variant); He
    normal weights from `cfg.seed` (numpy, the same for every variant), biases 0."""
    import torch
    from torch import nn
    rng = np.random.default_rng(cfg.seed)
    sizes = [(196, cfg.hidden), (cfg.hidden, cfg.hidden), (cfg.hidden, 10)]
    lins = []
    for fan_in, fan_out in sizes:
        lin = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in))
                                              .astype(np.float32)))
            lin.bias.zero_()
        lins.append(lin)
    drop = variant == "dropout" and cfg.p > 0
    layers = [lins[0], nn.ReLU()]
    if drop:
        layers.append(dropout_layer(cfg.p, gen))
    layers += [lins[1], nn.ReLU()]
    if drop:
        layers.append(dropout_layer(cfg.p, gen))
    layers.append(lins[2])
    return nn.Sequential(*layers)


def penalty(net, variant: str, cfg: OverfitConfig):
    r"""$\frac\lambda2 \sum \lVert W\rVert_2^2$ (L2) or $\lambda \sum \lVert W\rVert_1$ (L1) over the weight matrices
    (not the biases); 0 for the other variants."""
    import torch
    Ws = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
    if variant == "l2":
        return 0.5 * cfg.weight_decay * sum((W ** 2).sum() for W in Ws)
    if variant == "l1":
        return cfg.l1 * sum(W.abs().sum() for W in Ws)
    return torch.zeros(())


def train_overfit(cfg: OverfitConfig) -> Iterator[OverfitSnapshot]:
    """The five variants, full batch on the same small training set, Adam; a snapshot every `cfg.every` steps."""
    import torch
    import torch.nn.functional as F

    from engine.common.optim import Adam
    x_tr, y_tr, x_va, y_va = overfit_data(cfg.n_train, cfg.seed)
    xt, yt = torch.from_numpy(x_tr.astype(np.float32)), torch.from_numpy(y_tr)
    xv, yv = torch.from_numpy(x_va.astype(np.float32)), torch.from_numpy(y_va)
    gen = torch.Generator().manual_seed(cfg.seed)                             # shifts and dropout masks
    nets = [overfit_net(cfg, v, gen) for v in VARIANTS]
    opts = [Adam(net.parameters(), lr=cfg.lr) for net in nets]
    K, S = len(VARIANTS), cfg.steps // cfg.every + 2
    steps = np.zeros(S, dtype=np.int64)
    tl, vl, va = np.empty((K, S)), np.empty((K, S)), np.empty((K, S))
    t0 = time.perf_counter()
    n_pts, done = 0, 0

    def evaluate() -> None:
        for k, net in enumerate(nets):
            net.eval()
            with torch.no_grad():
                tl[k, n_pts] = float(F.cross_entropy(net(xt), yt))
                out = net(xv)
                vl[k, n_pts] = float(F.cross_entropy(out, yv))
                va[k, n_pts] = float((out.argmax(1) == yv).float().mean())
            net.train()
        steps[n_pts] = done

    def snapshot() -> OverfitSnapshot:
        n = n_pts
        best = vl[:, :n].argmin(1)
        hist, near = np.empty((K, len(W_EDGES) - 1)), np.empty(K)
        for k, net in enumerate(nets):
            w = net[0].weight.detach().numpy().ravel()
            hist[k] = np.histogram(w.clip(W_EDGES[0], W_EDGES[-1]), W_EDGES)[0] / w.size
            near[k] = float((np.abs(w) < 1e-3).mean())
        metrics = {}
        for k, v in enumerate(VARIANTS):
            metrics[f"{v}.train_loss"] = float(tl[k, n - 1])
            metrics[f"{v}.val_loss"] = float(vl[k, n - 1])
            metrics[f"{v}.val_acc"] = float(va[k, n - 1])
        return OverfitSnapshot(done, VARIANTS, steps[:n].copy(), tl[:, :n].copy(), vl[:, :n].copy(),
                               va[:, :n].copy(), steps[best].copy(), va[np.arange(K), best].copy(), hist, near,
                               metrics, time.perf_counter() - t0)

    evaluate()
    n_pts = 1
    yield snapshot()
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        for _ in range(done, stop):
            x_aug = random_shift(xt, cfg.shift, gen)
            for k, (net, opt) in enumerate(zip(nets, opts)):
                xb = x_aug if VARIANTS[k] == "augment" else xt
                loss = F.cross_entropy(net(xb), yt) + penalty(net, VARIANTS[k], cfg)
                opt.zero_grad()
                loss.backward()
                opt.step()
        done = stop
        evaluate()
        n_pts += 1
        yield snapshot()
