r"""Self-supervised learning: SimCLR's NT-Xent and BYOL's predictor / stop-gradient / EMA target, trained side by side
on real digits and measured with a linear probe and collapse statistics.

References
----------
Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning of Visual Representations" (SimCLR),
ICML 2020: Eq. 1 (NT-Xent), §2.1 (f, g; h = f(x̃) is kept, g is dropped), Appendix A (augmentations).
Grill et al., "Bootstrap Your Own Latent" (BYOL), NeurIPS 2020: Eq. 1 (ξ ← τξ + (1−τ)θ), Eq. 2 (2 − 2cos).
Roy & Vetterli, "The effective rank", EUSIPCO 2007 (effective rank).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.common import optim
from engine.common.logistic import fit_logistic

AUGMENTATIONS = ("crop", "color", "blur", "flip")


# ---------------------------------------------------------------------------------------------- augmentations
@dataclass(frozen=True)
class Augment:
    crop: bool = True              # random resized crop, area scale in [min_scale, 1], aspect in [3/4, 4/3]
    color: bool = True             # brightness, contrast (and saturation for RGB), strength 0.4
    blur: bool = True              # Gaussian blur, σ in [0.1, 2.0] px (scaled to the image side / 224 · 23 ≈ kernel)
    flip: bool = True              # horizontal flip, p = 0.5
    min_scale: float = 0.3         # SimCLR uses 0.08 on ImageNet; digits need more of the stroke


def augment(x: torch.Tensor, aug: Augment, generator: torch.Generator, size: int | None = None) -> torch.Tensor:
    r"""One random view of every image of a batch, SimCLR's family of augmentations, batched.

    Crop and flip are one affine resampling per image: the output pixel at normalised $(u,v)$ reads the input at
    $(s_x\,u\,\pm + c_x,\ s_y v + c_y)$ with $s_xs_y$ = area fraction, $s_x/s_y$ = aspect ratio.

    Parameters
    ----------
    x : torch.Tensor [shape=(B, C, H, W)] in [0, 1], C = 1 or 3.
    aug : Augment  which augmentations are on.
    generator : torch.Generator  all randomness.
    size : int | None  output side (default H).

    Returns
    -------
    torch.Tensor [shape=(B, C, size, size)] in [0, 1].
    """
    B, C, H, W = x.shape
    size = size or H
    r = lambda *s: torch.rand(*s, generator=generator)                     # noqa: E731
    if aug.crop:
        area = aug.min_scale + (1 - aug.min_scale) * r(B)                   # (B,)
        log_ratio = (r(B) * 2 - 1) * np.log(4 / 3)
        sx = torch.clamp(torch.sqrt(area * torch.exp(log_ratio)), max=1.0)
        sy = torch.clamp(torch.sqrt(area / torch.exp(log_ratio)), max=1.0)
    else:
        sx = sy = torch.ones(B)
    cx, cy = (r(B) * 2 - 1) * (1 - sx), (r(B) * 2 - 1) * (1 - sy)           # crop centre inside the image
    flip = torch.where(r(B) < 0.5, -1.0, 1.0) if aug.flip else torch.ones(B)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = sx * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = sy, cy
    grid = F.affine_grid(theta, (B, C, size, size), align_corners=False)   # (B, size, size, 2)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if aug.color:
        s = 0.4
        bright = 1 + s * (r(B, 1, 1, 1) * 2 - 1)
        contrast = 1 + s * (r(B, 1, 1, 1) * 2 - 1)
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out * bright - mean) * contrast + mean                       # brightness, then contrast
        if C == 3:
            sat = 1 + s * (r(B, 1, 1, 1) * 2 - 1)
            gray = (0.299 * out[:, :1] + 0.587 * out[:, 1:2] + 0.114 * out[:, 2:]).expand_as(out)
            out = gray + sat * (out - gray)
        out = out.clamp(0, 1)
    if aug.blur:
        sigma = (0.1 + 1.9 * r(B)) * size / 64                              # (B,) px, ~0.1–2 px at 64 px
        k = max(3, int(2 * round(float(sigma.max()) * 2) + 1))
        t = torch.arange(k, dtype=torch.float32) - k // 2
        g1 = torch.exp(-t[None] ** 2 / (2 * sigma[:, None] ** 2))           # (B, k)
        g1 = g1 / g1.sum(1, keepdim=True)
        kern = (g1[:, :, None] * g1[:, None, :]).repeat_interleave(C, 0)[:, None]   # (B C, 1, k, k)
        flat = out.reshape(1, B * C, size, size)
        out = F.conv2d(F.pad(flat, [k // 2] * 4, mode="replicate"), kern, groups=B * C).reshape(B, C, size, size)
    return out


# ---------------------------------------------------------------------------------------------- losses
@dataclass(frozen=True)
class NTXent:
    loss: float                    # mean of ℓ_{i,j} over the 2N anchors
    sim: np.ndarray                # (2N, 2N) cosine similarities
    per_anchor: np.ndarray         # (2N,) ℓ_{i, pos(i)}
    positive: np.ndarray           # (2N,) index of each anchor's positive


def nt_xent(z: torch.Tensor, tau: float) -> torch.Tensor:
    r"""SimCLR's NT-Xent loss per anchor. Rows $i$ and $i+N$ of `z` are the two views of image $i$.

    $$\ell_{i,j} = -\log\frac{\exp(\mathrm{sim}(z_i,z_j)/\tau)}{\sum_{k\ne i}\exp(\mathrm{sim}(z_i,z_k)/\tau)},\qquad
    \mathrm{sim}(u,v) = \frac{u^\top v}{\lVert u\rVert\lVert v\rVert}$$

    Parameters
    ----------
    z : torch.Tensor [shape=(2N, D)]
    tau : float  temperature τ > 0.

    Returns
    -------
    torch.Tensor [shape=(2N,)]; the loss is its mean.

    References
    ----------
    Chen et al., SimCLR, ICML 2020, Eq. 1 and Algorithm 1.
    """
    n2 = z.shape[0]
    zn = F.normalize(z, dim=1)
    sim = zn @ zn.T / tau                                                   # (2N, 2N) sim(z_i, z_k)/τ
    sim = sim.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))   # k ≠ i
    pos = (torch.arange(n2) + n2 // 2) % n2
    # ℓ_{i,j} = −sim_ij/τ + log Σ_{k≠i} exp(sim_ik/τ)
    return -sim[torch.arange(n2), pos] + torch.logsumexp(sim, dim=1)


def nt_xent_matrix(z: torch.Tensor, tau: float) -> NTXent:
    """NT-Xent with the cosine matrix the page draws."""
    with torch.no_grad():
        per = nt_xent(z, tau)
        zn = F.normalize(z, dim=1)
    n2 = z.shape[0]
    return NTXent(loss=float(per.mean()), sim=(zn @ zn.T).numpy(), per_anchor=per.numpy(),
                  positive=((np.arange(n2) + n2 // 2) % n2))


def byol_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    r"""BYOL's regression loss per sample between the online prediction and the (stopped) target projection:

    $$\mathcal{L}_{\theta,\xi} = \left\lVert \bar q_\theta(z_\theta) - \bar z'_\xi\right\rVert_2^2
    = 2 - 2\,\frac{\langle q_\theta(z_\theta), z'_\xi\rangle}{\lVert q_\theta(z_\theta)\rVert\,\lVert z'_\xi\rVert}$$

    Parameters
    ----------
    p : torch.Tensor [shape=(B, D)]  online predictions $q_\theta(z_\theta)$.
    z : torch.Tensor [shape=(B, D)]  target projections $z'_\xi$ (detached by the caller: stop-gradient).

    Returns
    -------
    torch.Tensor [shape=(B,)]

    References
    ----------
    Grill et al., BYOL, NeurIPS 2020, Eq. 2.
    """
    # ||p̄ − z̄||² = 2 − 2 cos(p, z)
    return 2 - 2 * F.cosine_similarity(p, z, dim=1)


def ema_update_(xi: torch.Tensor, theta: torch.Tensor, tau: float) -> torch.Tensor:
    r"""BYOL's target update, in place: $\xi \leftarrow \tau\xi + (1-\tau)\theta$ (Grill et al., Eq. 1). Returns ξ."""
    # ξ ← τ ξ + (1 − τ) θ
    return xi.mul_(tau).add_((1 - tau) * theta)


# ---------------------------------------------------------------------------------------------- measurements
def embedding_std(h: np.ndarray) -> float:
    r"""Mean over dimensions of the std of the L2-normalised embeddings, times $\sqrt d$: about 1 for embeddings
    spread over the sphere, 0 when every input maps to one point (collapse; SimSiam, Chen & He 2021, §4.1)."""
    hn = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    return float(hn.std(axis=0).mean() * np.sqrt(h.shape[1]))


def effective_rank(h: np.ndarray) -> float:
    r"""Roy & Vetterli's effective rank of centred embeddings (N, d): $\exp(-\sum_i p_i\log p_i)$ with
    $p_i = \sigma_i/\sum_j\sigma_j$ the normalised singular values; between 1 (collapsed to a line) and $d$."""
    s = np.linalg.svd(h - h.mean(0), compute_uv=False)
    if s.sum() <= 1e-12:
        return 1.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def linear_probe(h_train: np.ndarray, y_train: np.ndarray, h_test: np.ndarray, y_test: np.ndarray,
                 C: float = 1.0, max_iter: int = 100) -> tuple[float, np.ndarray]:
    r"""Multinomial logistic regression on standardised features, scikit-learn's objective

    $$\min_{W,b}\ \tfrac12\lVert W\rVert^2 + C\sum_n -\log\mathrm{softmax}(W h_n + b)_{y_n}$$

    minimised with L-BFGS in float64 (`engine.common.logistic`). Returns (test accuracy, coef (K, d)); the features
    are standardised with the training set's mean and std."""
    mu, sd = h_train.mean(0), h_train.std(0) + 1e-8
    K = int(max(y_train.max(), y_test.max())) + 1
    W, b = fit_logistic((h_train - mu) / sd, y_train, K, C=C, max_iter=max_iter)      # (K, d), (K,)
    acc = float(((((h_test - mu) / sd) @ W.T + b).argmax(1) == y_test).mean())
    return acc, W


# ---------------------------------------------------------------------------------------------- models
def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class Encoder(nn.Module):
    """f: x (B, 1, 28, 28) → h (B, d_h), a small CNN."""

    def __init__(self, d_h: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),     # (B, 16, 14, 14)
                                 nn.Conv2d(16, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),    # (B, 32, 7, 7)
                                 nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(128, d_h))   # (B, d_h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _seeded(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw every weight from the local generator (torch's default init draws from the global one)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.ndim == 1:
                p.fill_(1.0)
            else:
                bound = 1 / np.sqrt(p[0].numel())
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound * np.sqrt(3))
    return module


# ---------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class Config:
    tau: float = 0.5               # NT-Xent temperature τ
    aug: Augment = Augment(flip=False)   # digits are not mirror-symmetric: flip off by default
    predictor: bool = True         # BYOL's q_θ
    ema: bool = True               # BYOL's target ξ ← τ_ema ξ + (1 − τ_ema) θ; off: ξ = θ (stop-gradient only)
    tau_ema: float = 0.99          # BYOL's τ
    d_h: int = 64                  # representation h
    d_z: int = 32                  # projection z = g(h)
    batch_size: int = 128          # N images → 2N views
    lr: float = 2e-3               # Adam
    n_labels: int = 20             # labelled digits per class for the linear probe
    snapshot_every: int = 8        # one Step = 8 steps of each model + its probes (~0.5 s): within a second in the browser
    max_steps: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class Snapshot:
    step: int
    loss: float                    # mean training loss since the last snapshot
    probe_h: float                 # linear-probe test accuracy on h = f(x)
    probe_z: float                 # ... on z = g(h)
    std_z: float                   # √d · std of normalised z (1 spread, 0 collapsed)
    rank_z: float                  # effective rank of z
    rank_h: float
    random_probe: float            # probe accuracy of the same encoder at initialisation
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


def _split(n_labels: int):
    """(unlabelled pool idx, probe-train idx, probe-test idx) of the 5 000 digits: last 100 per class for test."""
    from engine.common.digits import mnist_5k_float
    x, y = mnist_5k_float()
    test = np.concatenate([np.flatnonzero(y == c)[-100:] for c in range(10)])
    lab = np.concatenate([np.flatnonzero(y == c)[:n_labels] for c in range(10)])
    pool = np.setdiff1d(np.arange(len(y)), test)
    return torch.from_numpy(x), y, pool, lab, test


def _probe(f: nn.Module, g: nn.Module | None, x, y, lab, test) -> tuple[float, float, np.ndarray, np.ndarray]:
    f.eval()
    if g is not None:
        g.eval()
    with torch.no_grad():
        h_lab, h_test = f(x[lab]), f(x[test])                              # (n, d_h)
        acc_h, _ = linear_probe(h_lab.numpy(), y[lab], h_test.numpy(), y[test])
        if g is None:
            acc_z, z_test = float("nan"), h_test
        else:
            z_lab, z_test = g(h_lab), g(h_test)
            acc_z, _ = linear_probe(z_lab.numpy(), y[lab], z_test.numpy(), y[test])
    f.train()
    if g is not None:
        g.train()
    return acc_h, acc_z, z_test.numpy(), h_test.numpy()


def train(cfg: Config, method: str, seed: int | None = None) -> Iterator[Snapshot]:
    """SimCLR, BYOL or the supervised baseline (same encoder, cross-entropy on every pool label), as a generator of
    snapshots every `snapshot_every` steps with the linear probe and the collapse measures."""
    seed = cfg.seed if seed is None else seed
    g_t = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    x, y, pool, lab, test = _split(cfg.n_labels)
    f = _seeded(Encoder(cfg.d_h), torch.Generator().manual_seed(seed))    # same f at step 0 for every method
    if method == "supervised":
        g = _seeded(nn.Linear(cfg.d_h, 10), g_t)
    else:
        g = _seeded(_mlp(cfg.d_h, 128, cfg.d_z), g_t)
    q = _seeded(_mlp(cfg.d_z, 128, cfg.d_z), g_t) if method == "byol" and cfg.predictor else nn.Identity()
    params = list(f.parameters()) + list(g.parameters()) + list(q.parameters())
    opt = optim.Adam(params, lr=cfg.lr)     # = torch.optim.Adam, without its first-call import of torch._dynamo
    target = None
    if method == "byol":
        target = nn.Sequential(copy.deepcopy(f), copy.deepcopy(g))
        target.requires_grad_(False)
    online = nn.Sequential(f, g)
    step, total, losses = 0, 0.0, []
    random_probe = None
    while True:
        t0 = time.perf_counter()
        acc_h, acc_z, z_test, h_test = _probe(f, None if method == "supervised" else g, x, y, lab, test)
        random_probe = acc_h if random_probe is None else random_probe
        loss = float(np.mean(losses)) if losses else float("nan")
        snap_metrics = dict(loss=loss, probe_h=acc_h, probe_z=acc_z, std_z=embedding_std(z_test),
                            rank_z=effective_rank(z_test), rank_h=effective_rank(h_test))
        total += time.perf_counter() - t0
        yield Snapshot(step=step, random_probe=random_probe, metrics=snap_metrics, seconds=total, **snap_metrics)
        if step >= cfg.max_steps:
            return
        t0 = time.perf_counter()
        losses = []
        for _ in range(cfg.snapshot_every):
            idx = torch.from_numpy(rng.choice(pool, cfg.batch_size, replace=False))
            xb = x[idx]                                                     # (N, 1, 28, 28)
            if method == "supervised":
                loss_t = F.cross_entropy(online(augment(xb, cfg.aug, g_t)), torch.from_numpy(y[idx.numpy()]))
            else:
                v1, v2 = augment(xb, cfg.aug, g_t), augment(xb, cfg.aug, g_t)   # two views (N, 1, 28, 28) each
                if method == "simclr":
                    z = online(torch.cat([v1, v2]))                         # (2N, d_z)
                    loss_t = nt_xent(z, cfg.tau).mean()
                else:
                    p = q(online(torch.cat([v1, v2])))                      # (2N, d_z) online predictions
                    with torch.no_grad():                                   # sg[·]: no gradient into the target
                        tgt = (target if cfg.ema else online)(torch.cat([v2, v1]))   # (2N, d_z) swapped views
                    loss_t = byol_loss(p, tgt).mean()                       # symmetrised: both view orders
            opt.zero_grad()
            loss_t.backward()
            opt.step()
            if method == "byol" and cfg.ema:
                with torch.no_grad():
                    for xi, theta in zip(target.parameters(), online.parameters()):
                        ema_update_(xi, theta, cfg.tau_ema)
                    for bx, bo in zip(target.buffers(), online.buffers()):
                        bx.copy_(bo)
            losses.append(loss_t.item())
            step += 1
        total += time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------- the reader's batch
def photo_batch(rgbs: list[np.ndarray], size: int = 96) -> torch.Tensor:
    """Square RGB photos (S, S, 3) uint8 → (N, 3, size, size) float in [0, 1]."""
    x = torch.stack([torch.from_numpy(np.array(r, dtype=np.uint8)).permute(2, 0, 1).float() / 255 for r in rgbs])
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def two_views(x: torch.Tensor, aug: Augment, seed: int) -> torch.Tensor:
    """(2N, C, H, W): rows i and i + N are two random views of image i."""
    g = torch.Generator().manual_seed(seed)
    return torch.cat([augment(x, aug, g), augment(x, aug, g)])


def embed_views(model: nn.Module, views: torch.Tensor) -> torch.Tensor:
    """A pretrained encoder f (MobileNetV2's trunk, global-average-pooled) on views in [0, 1]: (2N, 1280)."""
    from engine.common.classifier import MEAN, STD
    x = (views - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    with torch.inference_mode():
        return F.adaptive_avg_pool2d(model.features(x), 1).flatten(1)      # (2N, 1280)
