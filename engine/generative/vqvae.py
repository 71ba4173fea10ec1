r"""VQ-VAE: nearest-code quantisation, the straight-through gradient, the three loss terms, EMA codebooks, dead
codes — in 2-D where every vector can be drawn, then on real MNIST digits, then against a VAE's posterior collapse.

The objective (van den Oord, Vinyals, Kavukcuoglu, "Neural Discrete Representation Learning", NeurIPS 2017, Eq. 3),
*minimised*:

$$L = -\log p(x\mid z_q(x)) + \lVert \mathrm{sg}[z_e(x)] - e\rVert_2^2 + \beta\,\lVert z_e(x) - \mathrm{sg}[e]\rVert_2^2$$

with $z_q(x) = e_k,\ k = \arg\min_j \lVert z_e(x) - e_j\rVert_2$ (Eq. 1–2). With a Gaussian decoder of fixed
variance, $-\log p(x\mid z_q)$ is the squared error up to a constant (used here, as in the paper's experiments).
Squared norms are averaged over elements, as in DeepMind Sonnet's `VectorQuantizer` and `vector-quantize-pytorch`.

EMA codebook (paper, Appendix A.1): $N_k \leftarrow \gamma N_k + (1-\gamma)n_k$,
$m_k \leftarrow \gamma m_k + (1-\gamma)\sum_{i:k_i=k} z_e^{(i)}$, $e_k = m_k / N_k$ (with Laplace smoothing of $N$).
"""
from __future__ import annotations

import time
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from engine.common import optim

UPDATES = ("gradient", "ema")          # how the codebook learns
ESTIMATORS = ("straight_through", "none")   # how the encoder gets the reconstruction gradient


# ================================================================================================ core VQ ops
def nearest_code(z_e: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    r"""Index of the nearest code for each row of $z_e$.

    $$k_i = \arg\min_j \lVert z_e^{(i)} - e_j\rVert_2^2 = \arg\min_j \big(\lVert e_j\rVert^2 - 2 z_e^{(i)}\cdot e_j\big)$$

    Parameters
    ----------
    z_e : torch.Tensor [shape=(N, D)]
    codebook : torch.Tensor [shape=(K, D)]

    Returns
    -------
    torch.Tensor [shape=(N,)], int64 in [0, K). Ties go to the lowest index (torch.argmin).

    References
    ----------
    van den Oord et al. 2017, Eq. 1.
    """
    # ‖z − e_j‖² = ‖z‖² − 2 z·e_j + ‖e_j‖²  (‖z‖² is the same for every j)
    d2 = (z_e * z_e).sum(1, keepdim=True) - 2 * z_e @ codebook.T + (codebook * codebook).sum(1)  # (N, K)
    return d2.argmin(1)


@dataclass(frozen=True)
class Quantized:
    """Output of `quantize` (tensors keep their graphs)."""
    z_q: torch.Tensor            # (N, D) forward value e_k; gradient copied to z_e (straight-through)
    indices: torch.Tensor        # (N,) nearest-code index
    codebook_loss: torch.Tensor  # () ‖sg[z_e] − e‖² (mean over elements)
    commitment_loss: torch.Tensor  # () β‖z_e − sg[e]‖² (mean over elements, β included)


def quantize(z_e: torch.Tensor, codebook: torch.Tensor, beta: float = 0.25,
             estimator: str = "straight_through") -> Quantized:
    r"""Quantise $z_e$ to its nearest codes, with the straight-through estimator and the two VQ loss terms.

    $$z_q = z_e + \mathrm{sg}[e_k - z_e]\quad(\text{forward } e_k,\ \nabla_{z_e} := \nabla_{z_q})$$
    $$L_\text{codebook} = \lVert \mathrm{sg}[z_e] - e_k\rVert_2^2,\qquad
      L_\text{commit} = \beta\lVert z_e - \mathrm{sg}[e_k]\rVert_2^2$$

    Parameters
    ----------
    z_e : torch.Tensor [shape=(N, D)]
    codebook : torch.Tensor [shape=(K, D)]
    beta : float, the commitment weight β (0.25 in the paper).
    estimator : "straight_through" or "none" (z_q = e_k only: the reconstruction never reaches the encoder).

    References
    ----------
    van den Oord et al. 2017, Eq. 3 and Sec. 3.2.
    """
    indices = nearest_code(z_e.detach(), codebook.detach())        # (N,)
    e = codebook[indices]                                          # (N, D)
    # ‖sg[z_e] − e‖²: moves the codes only
    codebook_loss = F.mse_loss(e, z_e.detach())
    # β‖z_e − sg[e]‖²: moves the encoder only
    commitment_loss = beta * F.mse_loss(z_e, e.detach())
    if estimator == "straight_through":
        # z_q = z_e + sg[e − z_e]: value e, gradient ∂z_q/∂z_e = I
        z_q = z_e + (e - z_e).detach()                             # (N, D)
    else:
        z_q = e.detach()                                           # no path back to z_e
    return Quantized(z_q, indices, codebook_loss, commitment_loss)


def perplexity(counts: np.ndarray) -> float:
    r"""Codebook perplexity $\exp\big(-\sum_k p_k\log p_k\big)$, $p_k = n_k/\sum_j n_j$: the number of equally
    used codes that would give the same entropy (1 = one code used, K = all used equally). 1.0 when no counts."""
    n = np.asarray(counts, dtype=np.float64)
    total = n.sum()
    if total <= 0:
        return 1.0
    p = n[n > 0] / total
    # exp(−Σ p log p)
    return float(np.exp(-(p * np.log(p)).sum()))


def ema_update(cluster_size: torch.Tensor, embed_sum: torch.Tensor, z_e: torch.Tensor, indices: torch.Tensor,
               decay: float, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""One EMA codebook step (no gradients).

    $$N_k \leftarrow \gamma N_k + (1-\gamma) n_k,\quad m_k \leftarrow \gamma m_k + (1-\gamma)\textstyle\sum_{i:k_i=k} z_e^{(i)},
      \quad e_k = \frac{m_k}{\tilde N_k},\ \ \tilde N_k = \frac{N_k+\epsilon}{\sum_j N_j + K\epsilon}\sum_j N_j$$

    Its fixed point, for frozen encodings and assignments, is the mean of each code's assigned vectors: the
    k-means (Lloyd) update, damped by γ.

    Parameters
    ----------
    cluster_size : torch.Tensor [shape=(K,)], $N_k$
    embed_sum : torch.Tensor [shape=(K, D)], $m_k$
    z_e : torch.Tensor [shape=(N, D)]
    indices : torch.Tensor [shape=(N,)]
    decay : float, γ
    eps : float, Laplace smoothing ε

    Returns
    -------
    (cluster_size (K,), embed_sum (K, D), codebook (K, D)), new tensors.

    References
    ----------
    van den Oord et al. 2017, Appendix A.1 (Eq. 6–8); Laplace smoothing as in Sonnet's `VectorQuantizerEMA`.
    """
    K = cluster_size.shape[0]
    onehot = F.one_hot(indices, K).to(z_e.dtype)                    # (N, K)
    # N_k ← γN_k + (1−γ)n_k
    cluster_size = decay * cluster_size + (1 - decay) * onehot.sum(0)   # (K,)
    # m_k ← γm_k + (1−γ)Σ z_e
    embed_sum = decay * embed_sum + (1 - decay) * onehot.T @ z_e.detach()   # (K, D)
    n = cluster_size.sum()
    smoothed = (cluster_size + eps) / (n + K * eps) * n             # (K,) Laplace-smoothed N_k
    return cluster_size, embed_sum, embed_sum / smoothed[:, None]


def revive_dead_codes(codebook: torch.Tensor, usage: torch.Tensor, z_e: torch.Tensor, threshold: float,
                      gen: torch.Generator) -> torch.Tensor:
    """Indices (M,) of codes whose EMA usage (assignments per batch) is below `threshold`; each such code is moved in
    place onto a random encoder output of the batch (`z_e` (N, D)) and its usage reset to `threshold`, the
    `threshold_ema_dead_code` rule of vector-quantize-pytorch (Zeghidour et al. 2021, SoundStream, Sec. 3.2)."""
    dead = torch.nonzero(usage < threshold).flatten()               # (M,)
    if len(dead) and len(z_e):
        pick = torch.randint(0, len(z_e), (len(dead),), generator=gen)
        codebook.data[dead] = z_e.detach()[pick]
        usage[dead] = threshold
    return dead


def _init_params(module: nn.Module, gen: torch.Generator) -> None:
    """PyTorch's default uniform(±1/√fan_in) initialisation drawn from a local generator (no global seeding)."""
    with torch.no_grad():
        for m in module.modules():
            w = getattr(m, "weight", None)
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and w is not None:
                fan_in = w.shape[1] * int(np.prod(w.shape[2:])) if w.dim() > 2 else w.shape[1]
                bound = 1.0 / np.sqrt(max(fan_in, 1))
                w.uniform_(-bound, bound, generator=gen)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=gen)


def _finite(v: float, fallback: float = 0.0) -> float:
    v = float(v)
    return v if np.isfinite(v) else fallback


# ================================================================================================ 2-D
@dataclass(frozen=True)
class Config2D:
    """The 2-D VQ autoencoder: x ∈ R² → MLP → z_e ∈ R² → nearest of K codes → MLP → x̂ ∈ R²."""
    K: int = 16                        # codebook size
    beta: float = 0.25                 # commitment weight β (paper: 0.25)
    update: str = "gradient"           # "gradient" (codebook loss + Adam) | "ema"
    decay: float = 0.95                # EMA γ (the paper's 0.99, lowered so 2-D moves within seconds)
    revive: bool = False               # dead-code revival
    threshold_ema_dead_code: float = 0.5  # revive codes used < this many times per batch (EMA)
    estimator: str = "straight_through"   # "straight_through" | "none"
    hidden: int = 32                   # units per hidden layer
    batch_size: int = 128
    lr: float = 3e-3                   # Adam
    init_scale: float = 3.0            # codebook drawn uniform in [−s, s]² (wide: some codes start far away)
    snapshot_every: int = 10           # optimiser steps between snapshots
    n_show: int = 240                  # points drawn (also the arrow candidates)
    n_arrows: int = 6                  # straight-through arrows drawn
    grid: int = 48                     # Voronoi raster resolution
    max_steps: int = 4000
    seed: int = 0


@dataclass(frozen=True)
class Snapshot2D:
    step: int
    metrics: dict                      # rec, codebook, commitment, perplexity, dead
    x: np.ndarray                      # (n, 2) data
    x_hat: np.ndarray                  # (n, 2) reconstructions
    z_e: np.ndarray                    # (n, 2) encoder outputs
    indices: np.ndarray                # (n,) assignments
    codebook: np.ndarray               # (K, 2)
    counts: np.ndarray                 # (K,) assignments over a 2048-point probe set
    cells: np.ndarray                  # (grid, grid) nearest code of each raster point (Voronoi cells)
    extent: tuple                      # (lo, hi) of the raster on both axes
    arrow_ze: np.ndarray               # (a, 2) z_e of the arrowed points
    arrow_zq: np.ndarray               # (a, 2) their codes z_q
    grad_zq: np.ndarray                # (a, 2) −∇_{z_q} L_rec (copied to z_e by straight-through)
    grad_commit: np.ndarray            # (a, 2) −∇_{z_e} of the commitment term
    seconds: float = 0.0


BLOB_CENTRES = np.array([[-1.6, 1.2], [0.2, 1.7], [1.7, 0.9], [1.3, -1.2], [-0.3, -1.5], [-1.8, -0.6]])


def sample_blobs(n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (n, 2) from six Gaussian blobs (σ = 0.25) of unequal weight."""
    w = np.array([0.25, 0.2, 0.15, 0.15, 0.15, 0.1])
    k = rng.choice(6, n, p=w)
    return (BLOB_CENTRES[k] + 0.25 * rng.standard_normal((n, 2))).astype(np.float32)


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, d_out))


def train_2d(cfg: Config2D) -> Iterator[Snapshot2D]:
    """Train the 2-D VQ autoencoder; yield a snapshot at step 0 and every `snapshot_every` steps.

    $$L = \lVert x-\hat x\rVert^2 + \lVert \mathrm{sg}[z_e]-e\rVert^2 + \beta\lVert z_e-\mathrm{sg}[e]\rVert^2$$
    (the codebook term is dropped from the gradient when the codebook is updated by EMA).
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    K = max(1, int(cfg.K))
    enc, dec = _mlp(2, cfg.hidden, 2), _mlp(2, cfg.hidden, 2)
    _init_params(enc, gen)
    _init_params(dec, gen)
    codebook = nn.Parameter((torch.rand(K, 2, generator=gen) * 2 - 1) * cfg.init_scale)   # (K, 2)
    params = [*enc.parameters(), *dec.parameters()] + ([codebook] if cfg.update == "gradient" else [])
    opt = optim.Adam(params, lr=cfg.lr)        # = torch.optim.Adam without its first-call import of torch._dynamo
    cluster_size = torch.zeros(K)                        # N_k (EMA)
    embed_sum = codebook.detach().clone() * 0            # m_k (EMA)
    if cfg.update == "ema":                              # start N_k = 1, m_k = e_k so e_k = m_k / N_k at step 0
        cluster_size += 1.0
        embed_sum = codebook.detach().clone()
    usage = torch.full((K,), float(cfg.batch_size) / K)  # EMA of assignments per batch (dead-code revival)
    pool = torch.from_numpy(sample_blobs(8192, rng))     # (8192, 2)
    show = torch.from_numpy(sample_blobs(cfg.n_show, np.random.default_rng(cfg.seed + 1)))   # (n, 2)
    probe = torch.from_numpy(sample_blobs(2048, np.random.default_rng(cfg.seed + 2)))        # (2048, 2)
    bs = max(2, int(cfg.batch_size))
    last = dict(rec=0.0, codebook=0.0, commitment=0.0)
    elapsed = 0.0
    step = 0
    while True:
        if step % cfg.snapshot_every == 0 or step >= cfg.max_steps:
            yield _snapshot_2d(cfg, step, enc, dec, codebook.detach(), show, probe, last, elapsed)
            if step >= cfg.max_steps:
                return
        t0 = time.perf_counter()
        x = pool[torch.randint(0, len(pool), (bs,), generator=gen)]     # (B, 2)
        z_e = enc(x)                                                     # (B, 2)
        q = quantize(z_e, codebook, cfg.beta, cfg.estimator)
        x_hat = dec(q.z_q)                                               # (B, 2)
        # −log p(x|z_q) = ‖x − x̂‖² + const for p = N(x̂, ½I); averaged over elements
        rec = F.mse_loss(x_hat, x)
        loss = rec + q.commitment_loss + (q.codebook_loss if cfg.update == "gradient" else 0.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        cluster_size, embed_sum = _codebook_step(cfg, codebook, usage, cluster_size, embed_sum, z_e, q.indices, K,
                                                 gen)
        last = dict(rec=rec.item(), codebook=q.codebook_loss.item(), commitment=q.commitment_loss.item())
        elapsed += time.perf_counter() - t0
        step += 1


def _codebook_step(cfg, codebook: torch.Tensor, usage: torch.Tensor, cluster_size: torch.Tensor,
                   embed_sum: torch.Tensor, z: torch.Tensor, indices: torch.Tensor, K: int, gen: torch.Generator):
    """After the optimiser step, shared by the 2-D and the digit runs: usage as an EMA of the code counts, the EMA
    codebook update (when cfg.update == "ema") and dead-code revival (when cfg.revive). Returns the EMA state."""
    with torch.no_grad():
        usage.mul_(0.9).add_(0.1 * torch.bincount(indices, minlength=K).float())      # (K,)
        if cfg.update == "ema":
            cluster_size, embed_sum, new = ema_update(cluster_size, embed_sum, z, indices, cfg.decay)
            codebook.data.copy_(new)
        if cfg.revive:
            dead = revive_dead_codes(codebook, usage, z, cfg.threshold_ema_dead_code, gen)
            if cfg.update == "ema" and len(dead):
                cluster_size[dead] = 1.0
                embed_sum[dead] = codebook.data[dead]
    return cluster_size, embed_sum


def _snapshot_2d(cfg: Config2D, step: int, enc: nn.Module, dec: nn.Module, codebook: torch.Tensor,
                 show: torch.Tensor, probe: torch.Tensor, last: dict, elapsed: float) -> Snapshot2D:
    K = len(codebook)
    with torch.no_grad():
        counts = torch.bincount(nearest_code(enc(probe), codebook), minlength=K).numpy()   # (K,)
    # the straight-through picture on the shown points: gradients of the losses at z_q and z_e
    z_e = enc(show).detach().requires_grad_(True)                                            # (n, 2)
    q = quantize(z_e, codebook, cfg.beta, "straight_through")
    z_q_leaf = q.z_q.detach().requires_grad_(True)
    x_hat = dec(z_q_leaf)                                                                   # (n, 2)
    rec = ((x_hat - show) ** 2).sum()                      # per-point errors summed: each point's own gradient
    rec_n = show.numel()
    (g_zq,) = torch.autograd.grad(rec, z_q_leaf)                                            # (n, 2)
    commit = cfg.beta * ((z_e - codebook[q.indices]) ** 2).sum()
    (g_commit,) = torch.autograd.grad(commit, z_e)                                          # (n, 2)
    ze, zq, idx = z_e.detach().numpy(), q.z_q.detach().numpy(), q.indices.numpy()
    g_zq, g_commit = g_zq.numpy(), g_commit.numpy()
    # arrows on the points with the largest reconstruction gradient, one per code where possible
    order = np.argsort(-np.linalg.norm(g_zq, axis=1), kind="stable")
    seen, pick = set(), []
    for i in order:
        if idx[i] not in seen:
            seen.add(idx[i])
            pick.append(i)
        if len(pick) >= cfg.n_arrows:
            break
    pick = np.array(pick, dtype=int)
    cb = codebook.numpy()
    allpts = np.concatenate([ze, cb])
    lo, hi = float(np.floor(np.nanmin(allpts) - 0.5)), float(np.ceil(np.nanmax(allpts) + 0.5))
    lo, hi = max(lo, -50.0), min(hi, 50.0)
    g = np.linspace(lo, hi, cfg.grid, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    grid_pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))                     # (G², 2)
    cells = nearest_code(grid_pts, codebook).numpy().reshape(cfg.grid, cfg.grid)           # (G, G), row = y
    # the three terms, measured on the shown (held-out) points
    metrics = dict(rec=_finite(rec.item() / rec_n), codebook=_finite(q.codebook_loss.item()),
                   commitment=_finite(q.commitment_loss.item()), perplexity=perplexity(counts),
                   dead=float((counts == 0).sum()))
    return Snapshot2D(step=step, metrics=metrics, x=show.numpy(), x_hat=x_hat.detach().numpy(), z_e=ze,
                      indices=idx, codebook=cb.copy(), counts=counts, cells=cells, extent=(lo, hi),
                      arrow_ze=ze[pick], arrow_zq=zq[pick], grad_zq=-g_zq[pick], grad_commit=-g_commit[pick],
                      seconds=elapsed)


# ================================================================================================ digits
@dataclass(frozen=True)
class ConfigDigits:
    """The digit VQ-VAE: 28×28 → two stride-2 convs → 7×7 grid of D-dim vectors → K codes → transposed convs."""
    K: int = 64                         # codebook size (8 … 512)
    D: int = 16                         # code dimension
    beta: float = 0.25
    update: str = "ema"                 # "gradient" | "ema"
    decay: float = 0.9                  # EMA γ
    revive: bool = True
    threshold_ema_dead_code: float = 1.0
    width: int = 32                     # channels of the conv stack
    batch_size: int = 64
    lr: float = 2e-3
    snapshot_every: int = 10
    n_show: int = 8                     # images whose reconstructions and code grids are shown
    max_steps: int = 3000
    seed: int = 0


class _Encoder(nn.Module):
    def __init__(self, width: int, D: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(),               # (B, w, 14, 14)
                                 nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ReLU(),       # (B, 2w, 7, 7)
                                 nn.Conv2d(2 * width, 2 * width, 3, 1, 1), nn.ReLU(),
                                 nn.Conv2d(2 * width, D, 1))                            # (B, D, 7, 7)

    def forward(self, x):
        return self.net(x)


class _Decoder(nn.Module):
    def __init__(self, width: int, D: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(D, 2 * width, 3, 1, 1), nn.ReLU(),           # (B, 2w, 7, 7)
                                 nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),   # (B, w, 14, 14)
                                 nn.ConvTranspose2d(width, 1, 4, 2, 1))                  # (B, 1, 28, 28) logits

    def forward(self, z_q):
        return torch.sigmoid(self.net(z_q))


@dataclass(frozen=True)
class SnapshotDigits:
    step: int
    metrics: dict                       # rec (train batch MSE), test_mse, codebook, commitment, perplexity, dead
    images: np.ndarray                  # (n, 28, 28) held-out digits shown
    recon: np.ndarray                   # (n, 28, 28) their reconstructions
    codes: np.ndarray                   # (n, 7, 7) their code grids
    counts: np.ndarray                  # (K,) code use over the held-out set
    decoder: dict = field(repr=False)   # decoder weights {name: (…) float32 array}
    encoder: dict = field(repr=False, default=None)   # encoder weights
    codebook: np.ndarray = field(repr=False, default=None)   # (K, D)
    seconds: float = 0.0


def digits_split(seed: int = 0, n_test: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train images (N, 1, 28, 28) float32 [0, 1], test images (n_test, 1, 28, 28), test labels) from the
    5 000 vendored MNIST digits, split by a seeded permutation."""
    from engine.common.digits import mnist_5k_float
    x, y = mnist_5k_float()
    perm = np.random.default_rng(seed).permutation(len(x))
    return x[perm[n_test:]], x[perm[:n_test]], y[perm[:n_test]]


@lru_cache(maxsize=1)
def _split_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """The digit split as torch tensors, built once per process and shared by every run (only ever indexed, which
    copies): (train (4500, 1, 28, 28), test (500, 1, 28, 28))."""
    train, test, _ = digits_split(0)
    return torch.from_numpy(train), torch.from_numpy(test)


@lru_cache(maxsize=1)
def _binary_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """The same split binarised at 0.5 (Bernoulli pixels for the collapse comparison)."""
    train, test = _split_tensors()
    return (train > 0.5).float(), (test > 0.5).float()


def train_digits(cfg: ConfigDigits) -> Iterator[SnapshotDigits]:
    """Train the digit VQ-VAE with the objective of the module docstring (−log p = squared error); snapshots every
    `snapshot_every` steps with the held-out reconstruction MSE, code grids and code usage."""
    gen = torch.Generator().manual_seed(cfg.seed)
    K, D = max(1, int(cfg.K)), int(cfg.D)
    enc, dec = _Encoder(cfg.width, D), _Decoder(cfg.width, D)
    _init_params(enc, gen)
    _init_params(dec, gen)
    codebook = nn.Parameter(torch.randn(K, D, generator=gen) * 0.1)      # (K, D)
    params = [*enc.parameters(), *dec.parameters()] + ([codebook] if cfg.update == "gradient" else [])
    opt = optim.Adam(params, lr=cfg.lr)        # = torch.optim.Adam (see train_2d)
    cluster_size = torch.ones(K)
    embed_sum = codebook.detach().clone()
    bs = max(2, int(cfg.batch_size))
    usage = torch.full((K,), bs * 49 / K)
    train, test = _split_tensors()
    test = test[:256]                                                     # (N, 1, 28, 28), (256, 1, 28, 28)
    last = dict(rec=float("nan"), codebook=0.0, commitment=0.0)
    elapsed, step = 0.0, 0
    while True:
        if step % cfg.snapshot_every == 0 or step >= cfg.max_steps:
            yield _snapshot_digits(cfg, step, enc, dec, codebook.detach(), test, last, elapsed)
            if step >= cfg.max_steps:
                return
        t0 = time.perf_counter()
        x = train[torch.randint(0, len(train), (bs,), generator=gen)]      # (B, 1, 28, 28)
        z_e = enc(x)                                                       # (B, D, 7, 7)
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, D)                       # (B·49, D)
        q = quantize(flat, codebook, cfg.beta)
        z_q = q.z_q.reshape(bs, 7, 7, D).permute(0, 3, 1, 2)               # (B, D, 7, 7)
        x_hat = dec(z_q)                                                   # (B, 1, 28, 28)
        rec = F.mse_loss(x_hat, x)
        loss = rec + q.commitment_loss + (q.codebook_loss if cfg.update == "gradient" else 0.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        cluster_size, embed_sum = _codebook_step(cfg, codebook, usage, cluster_size, embed_sum, flat, q.indices, K,
                                                 gen)
        last = dict(rec=rec.item(), codebook=q.codebook_loss.item(), commitment=q.commitment_loss.item())
        elapsed += time.perf_counter() - t0
        step += 1


def _snapshot_digits(cfg, step, enc, dec, codebook, test, last, elapsed) -> SnapshotDigits:
    K = len(codebook)
    with torch.no_grad():
        codes = encode_codes(enc, codebook, test)                          # (n, 7, 7)
        recon = dec(codebook[codes].permute(0, 3, 1, 2))                    # (n, 1, 28, 28)
        mse = float(F.mse_loss(recon, test))
    counts = np.bincount(codes.numpy().ravel(), minlength=K)
    n = cfg.n_show
    metrics = dict(rec=_finite(last["rec"], mse), test_mse=_finite(mse), codebook=_finite(last["codebook"]),
                   commitment=_finite(last["commitment"]), perplexity=perplexity(counts),
                   dead=float((counts == 0).sum()))
    return SnapshotDigits(step=step, metrics=metrics, images=test[:n, 0].numpy().copy(),
                          recon=recon[:n, 0].numpy().copy(), codes=codes[:n].numpy().copy(), counts=counts,
                          decoder={k: v.detach().numpy().copy() for k, v in dec.state_dict().items()},
                          encoder={k: v.detach().numpy().copy() for k, v in enc.state_dict().items()},
                          codebook=codebook.numpy().copy(), seconds=elapsed)


def encode_codes(enc: nn.Module, codebook: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Code grids (B, 7, 7) of images x (B, 1, 28, 28)."""
    z_e = enc(x)                                                            # (B, D, 7, 7)
    B, D, H, W = z_e.shape
    return nearest_code(z_e.permute(0, 2, 3, 1).reshape(-1, D), codebook).reshape(B, H, W)


def decode_codes(snap: SnapshotDigits, codes: np.ndarray) -> np.ndarray:
    """Images (B, 28, 28) in [0, 1] that the snapshot's decoder draws from code grids `codes` (B, 7, 7) (ints are
    clipped into [0, K))."""
    K, D = snap.codebook.shape
    dec = _Decoder(snap.decoder["net.0.weight"].shape[0] // 2, D)
    dec.load_state_dict({k: torch.from_numpy(v) for k, v in snap.decoder.items()})
    c = torch.from_numpy(np.clip(np.asarray(codes, dtype=np.int64), 0, K - 1))  # (B, 7, 7)
    with torch.no_grad():
        z_q = torch.from_numpy(snap.codebook)[c].permute(0, 3, 1, 2)       # (B, D, 7, 7)
        return dec(z_q)[:, 0].numpy()


def train_codes(snap: SnapshotDigits) -> np.ndarray:
    """Code grids (N, 7, 7) of the whole training split under the snapshot's encoder and codebook."""
    K, D = snap.codebook.shape
    enc = _Encoder(snap.encoder["net.0.weight"].shape[0], D)
    enc.load_state_dict({k: torch.from_numpy(v) for k, v in snap.encoder.items()})
    train, _ = _split_tensors()
    with torch.no_grad():
        return torch.cat([encode_codes(enc, torch.from_numpy(snap.codebook), train[i:i + 500])
                          for i in range(0, len(train), 500)]).numpy()


# ------------------------------------------------------------------------------------------------ priors
@dataclass(frozen=True)
class CodePrior:
    """Priors over 7×7 code grids fitted to the training set's codes after the VQ-VAE is trained."""
    codes: np.ndarray                   # (N, 49) training code grids in raster order
    unigram: np.ndarray                 # (49, K) per-position categorical p_t(c) (add-α smoothed)
    K: int
    alpha: float = 0.1                  # add-α smoothing
    lam: float = 0.05                   # back-off weight of the per-position categorical in the n-gram prior


def fit_prior(codes: np.ndarray, K: int, alpha: float = 0.1, lam: float = 0.05) -> CodePrior:
    r"""Fit the per-position categorical $p_t(c) = \frac{n_t(c)+\alpha}{N+K\alpha}$ to code grids (N, 7, 7)."""
    flat = np.asarray(codes, dtype=np.int64).reshape(len(codes), -1)        # (N, 49)
    counts = np.stack([np.bincount(flat[:, t], minlength=K) for t in range(flat.shape[1])])  # (49, K)
    # p_t(c) = (n_t(c) + α) / (N + Kα)
    uni = (counts + alpha) / (len(flat) + K * alpha)
    return CodePrior(codes=flat, unigram=uni, K=K, alpha=alpha, lam=lam)


def _context(prior: CodePrior, seq: np.ndarray, t: int) -> np.ndarray:
    """Training grids that share the left and upper neighbours of position t with `seq` (backing off to the left
    neighbour alone, then to none): a boolean mask (N,)."""
    mask = np.ones(len(prior.codes), bool)
    r, c = divmod(t, 7)
    left, up = (t - 1 if c > 0 else None), (t - 7 if r > 0 else None)
    for ctx in ([left, up], [left if left is not None else up]):
        ctx = [i for i in ctx if i is not None]
        if not ctx:
            return mask
        m = np.all(prior.codes[:, ctx] == seq[ctx], axis=1)
        if m.any():
            return m
    return mask


def ngram_probs(prior: CodePrior, seq: np.ndarray, t: int) -> np.ndarray:
    r"""The autoregressive prior's $p(c_t\mid c_{<t})$ (K,): the codes that followed the same left and upper
    neighbours in the training grids, mixed with the per-position categorical.

    $$p(c_t \mid c_{<t}) = (1-\lambda)\frac{n(c_t, \text{ctx}_t)}{n(\text{ctx}_t)} + \lambda\,p_t(c_t)$$
    """
    m = _context(prior, seq, t)
    emp = np.bincount(prior.codes[m, t], minlength=prior.K) / max(1, m.sum())     # (K,)
    return (1 - prior.lam) * emp + prior.lam * prior.unigram[t]


def sample_grids(prior: CodePrior, n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """n code grids (n, 7, 7): "uniform" (every code equally likely), "categorical" (per position, independent) or
    "autoregressive" (raster order, `ngram_probs`)."""
    K = prior.K
    if kind == "uniform":
        return rng.integers(0, K, (n, 7, 7))
    out = np.zeros((n, 49), np.int64)
    for i in range(n):
        for t in range(49):
            p = prior.unigram[t] if kind == "categorical" else ngram_probs(prior, out[i], t)
            out[i, t] = rng.choice(K, p=p / p.sum())
    return out.reshape(n, 7, 7)


def grid_log_prob(prior: CodePrior, grid: np.ndarray, kind: str) -> float:
    """log p(grid) (nats) of one code grid (7, 7) under "uniform", "categorical" or "autoregressive"."""
    seq = np.asarray(grid, dtype=np.int64).ravel()
    if kind == "uniform":
        return -49 * float(np.log(prior.K))
    total = 0.0
    for t in range(49):
        p = prior.unigram[t] if kind == "categorical" else ngram_probs(prior, seq, t)
        total += float(np.log(p[seq[t]]))
    return total


# ================================================================================================ collapse
@dataclass(frozen=True)
class ConfigCollapse:
    """A VAE and a VQ-VAE with the same strong autoregressive decoder (masked convolutions, PixelCNN-style)."""
    latent: int = 8                     # VAE latent size / VQ-VAE code dimension
    K: int = 32                         # VQ-VAE codebook size (one code per image)
    beta: float = 0.25
    width: int = 16
    batch_size: int = 32
    lr: float = 3e-3
    snapshot_every: int = 10
    max_steps: int = 1500
    seed: int = 0


class _MaskedConv(nn.Conv2d):
    """A convolution that sees only pixels above and to the left (type "A" excludes the centre, "B" keeps it):
    PixelCNN's mask (van den Oord et al. 2016, Fig. 2)."""

    def __init__(self, kind: str, c_in: int, c_out: int, k: int):
        super().__init__(c_in, c_out, k, padding=k // 2)
        mask = torch.ones(c_out, c_in, k, k)
        mask[:, :, k // 2, k // 2 + (kind == "B"):] = 0
        mask[:, :, k // 2 + 1:] = 0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class _ARDecoder(nn.Module):
    """p(x | z) = Π_i Bernoulli(x_i | x_{<i}, z): masked convs over x plus z broadcast to every pixel."""

    def __init__(self, width: int, latent: int):
        super().__init__()
        self.a = _MaskedConv("A", 1, width, 7)
        self.z = nn.Linear(latent, width)
        self.b1 = _MaskedConv("B", width, width, 3)
        self.b2 = _MaskedConv("B", width, width, 3)
        self.out = nn.Conv2d(width, 1, 1)

    def forward(self, x, z):                                       # x (B, 1, 28, 28), z (B, latent)
        h = F.relu(self.a(x) + self.z(z)[:, :, None, None])        # (B, w, 28, 28)
        h = F.relu(self.b1(h))
        h = F.relu(self.b2(h))
        return self.out(h)                                         # (B, 1, 28, 28) logits


class _SmallEncoder(nn.Module):
    def __init__(self, width: int, out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(), nn.Conv2d(width, width, 4, 2, 1),
                                 nn.ReLU(), nn.Flatten(), nn.Linear(width * 49, out))

    def forward(self, x):
        return self.net(x)


@dataclass(frozen=True)
class SnapshotCollapse:
    step: int
    metrics: dict          # VAE: nll, kl, active; VQ: nll, perplexity, used
    kl_per_dim: np.ndarray  # (latent,) VAE's KL per latent dimension (nats), held-out batch
    counts: np.ndarray     # (K,) VQ-VAE code use on the held-out batch
    seconds: float = 0.0


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm{KL}(\mathcal N(\mu,\sigma^2)\,\Vert\,\mathcal N(0,1)) = \tfrac12(\mu^2+\sigma^2-\log\sigma^2-1)$ per
    element (Kingma & Welling 2014, Appendix B)."""
    # ½(μ² + σ² − log σ² − 1)
    return 0.5 * (mu ** 2 + logvar.exp() - logvar - 1)


def train_collapse(cfg: ConfigCollapse, model: str) -> Iterator[SnapshotCollapse]:
    """Train `model` = "vae" or "vqvae" on binarised digits with the autoregressive decoder. The VAE minimises
    −ELBO = −log p(x|z) + KL(q(z|x)‖N(0, I)); the VQ-VAE minimises Eq. 3 (its KL to a uniform prior is the
    constant log K, so nothing pushes it to stop using its code)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    L, K = int(cfg.latent), max(1, int(cfg.K))
    enc = _SmallEncoder(cfg.width, 2 * L if model == "vae" else L)
    dec = _ARDecoder(cfg.width, L)
    _init_params(enc, gen)
    _init_params(dec, gen)
    codebook = nn.Parameter(torch.randn(K, L, generator=gen))             # (K, L)
    params = [*enc.parameters(), *dec.parameters()] + ([codebook] if model == "vqvae" else [])
    opt = optim.Adam(params, lr=cfg.lr)        # = torch.optim.Adam (see train_2d)
    train, test = _binary_tensors()                                        # (N, 1, 28, 28) binarised
    test = test[:64]                                                       # (64, 1, 28, 28)
    usage = torch.full((K,), cfg.batch_size / K)
    elapsed, step = 0.0, 0

    def losses(x, train_mode: bool):
        h = enc(x)
        if model == "vae":
            mu, logvar = h[:, :L], h[:, L:].clamp(-8, 8)                   # (B, L)
            eps = torch.randn(mu.shape, generator=gen) if train_mode else torch.zeros_like(mu)
            z = mu + (0.5 * logvar).exp() * eps                           # reparameterisation
            kl = kl_normal(mu, logvar)                                     # (B, L)
            nll = F.binary_cross_entropy_with_logits(dec(x, z), x, reduction="sum") / len(x)
            return nll + kl.sum(1).mean(), nll, kl, None
        q = quantize(h, codebook, cfg.beta)
        nll = F.binary_cross_entropy_with_logits(dec(x, q.z_q), x, reduction="sum") / len(x)
        return nll + q.codebook_loss + q.commitment_loss, nll, None, q.indices

    while True:
        if step % cfg.snapshot_every == 0 or step >= cfg.max_steps:
            with torch.no_grad():
                _, nll, kl, idx = losses(test, False)
            if model == "vae":
                kl_dim = kl.mean(0).numpy()
                metrics = dict(nll=_finite(nll), kl=_finite(kl_dim.sum()), active=float((kl_dim > 0.1).sum()))
                counts = np.zeros(K, np.int64)
            else:
                counts = np.bincount(idx.numpy(), minlength=K)
                kl_dim = np.zeros(L, np.float32)
                metrics = dict(nll=_finite(nll), perplexity=perplexity(counts), used=float((counts > 0).sum()),
                               kl=float(np.log(K)))
            yield SnapshotCollapse(step, metrics, kl_dim, counts, elapsed)
            if step >= cfg.max_steps:
                return
        t0 = time.perf_counter()
        x = train[torch.randint(0, len(train), (max(2, cfg.batch_size),), generator=gen)]
        loss, _, _, idx = losses(x, True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if model == "vqvae":
            with torch.no_grad():
                usage.mul_(0.9).add_(0.1 * torch.bincount(idx, minlength=K).float())
                revive_dead_codes(codebook, usage, enc(x), 0.05, gen)
        elapsed += time.perf_counter() - t0
        step += 1
