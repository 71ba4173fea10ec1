r"""GAN, WGAN (weight clipping) and WGAN-GP on 2-D targets, as deterministic generators of snapshots.

Losses (D outputs a logit for the GAN and a real-valued score, the *critic* f, for the WGANs):

.. math::

    \text{GAN:}\quad L_D = -\mathbb{E}_x[\log\sigma(D(x))] - \mathbb{E}_z[\log(1-\sigma(D(G(z))))],\quad
    L_G = -\mathbb{E}_z[\log\sigma(D(G(z)))] \ \text{(non-saturating)}

    \text{WGAN:}\quad L_D = -\mathbb{E}_x[f(x)] + \mathbb{E}_z[f(G(z))],\quad L_G = -\mathbb{E}_z[f(G(z))],
    \quad w \leftarrow \mathrm{clip}(w, -c, c)

    \text{WGAN-GP:}\quad L_D + \lambda\,\mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big],
    \quad \hat x = \epsilon x + (1-\epsilon) G(z),\ \epsilon\sim U[0,1]

References
----------
Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (Eq. 1; the non-saturating G loss in Sec. 3).
Arjovsky, Chintala, Bottou, "Wasserstein GAN", ICML 2017 (Eq. 3, Algorithm 1).
Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017 (Eq. 3, Algorithm 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import numpy as np
import torch

LOSSES = ("gan", "wgan", "wgan-gp")
TARGETS = ("ring", "moons", "spiral", "custom")
RING_STD = 0.1      # std of each of the 8 ring Gaussians (radius 2)
POOL = 8192         # target samples drawn once per run; batches index into it


# ------------------------------------------------------------------------------------------------ config

@dataclass(frozen=True)
class Config:
    """One model's training setup. Defaults per loss come from `default_config`."""
    loss: str = "gan"                    # "gan" | "wgan" | "wgan-gp"
    target: str = "ring"                 # "ring" | "moons" | "spiral" | "custom"
    points: np.ndarray | None = field(default=None, compare=False, repr=False)  # (N, 2) custom target
    z_dim: int = 2                       # latent size, z ~ N(0, I)
    hidden: int = 64                     # units per hidden layer (G and D alike)
    layers: int = 2                      # hidden layers (ReLU)
    batch_size: int = 128                # m in the papers' algorithms
    lr_g: float = 1e-3                   # generator learning rate
    lr_d: float = 1e-3                   # discriminator / critic learning rate
    n_critic: int = 1                    # D steps per G step
    clip_c: float = 0.05                 # WGAN weight clipping c
    gp_lambda: float = 0.5               # WGAN-GP λ
    snapshot_every: int = 20             # generator steps between snapshots (a snapshot costs ~10 G steps)
    n_show: int = 512                    # generated points kept for display (fixed z)
    grid: int = 40                       # landscape resolution (grid × grid)
    max_steps: int = 100_000             # the generator ends after this many G steps


def default_config(loss: str, **overrides) -> Config:
    """The defaults of each loss: GAN with Adam and one D step; WGAN with RMSprop, clipping and n_critic = 5
    (Arjovsky et al., Algorithm 1); WGAN-GP with Adam(β1 = 0.5, β2 = 0.9) and n_critic = 5 (Gulrajani et al.).
    Learning rates are raised from the papers' image settings so that 2-D training moves within seconds."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}")
    base = {"gan": dict(lr_g=1e-3, lr_d=1e-3, n_critic=1),
            "wgan": dict(lr_g=5e-4, lr_d=5e-4, n_critic=5),
            "wgan-gp": dict(lr_g=1e-3, lr_d=1e-3, n_critic=5)}[loss]
    return Config(loss=loss, **{**base, **overrides})


# ------------------------------------------------------------------------------------------------ targets

def sample_target(target: str, n: int, rng: np.random.Generator, points: np.ndarray | None = None) -> np.ndarray:
    """n samples (n, 2) of a named 2-D target, all scaled to roughly [-2.5, 2.5]²."""
    if target == "ring":
        k = rng.integers(0, 8, n)
        ang = 2 * np.pi * k / 8
        return np.stack([2 * np.cos(ang), 2 * np.sin(ang)], 1) + RING_STD * rng.standard_normal((n, 2))
    if target == "moons":   # the two interleaving half circles of sklearn.datasets.make_moons
        upper = rng.random(n) < 0.5
        s = np.pi * rng.random(n)
        xy = np.where(upper[:, None], np.stack([np.cos(s), np.sin(s)], 1),
                      np.stack([1 - np.cos(s), 0.5 - np.sin(s)], 1))
        return 1.6 * (xy - [0.5, 0.25]) + 0.08 * rng.standard_normal((n, 2))
    if target == "spiral":
        s = np.sqrt(rng.random(n)) * 3 * np.pi   # uniform along the arm's area
        r = s / (3 * np.pi) * 2.3
        return np.stack([r * np.cos(s), r * np.sin(s)], 1) + 0.06 * rng.standard_normal((n, 2))
    if target == "custom":
        if points is None or len(points) == 0:
            raise ValueError("a custom target needs points")
        p = normalise_points(points)
        return p[rng.integers(0, len(p), n)] + 0.03 * rng.standard_normal((n, 2))
    raise ValueError(f"unknown target {target!r}")


def normalise_points(points: np.ndarray) -> np.ndarray:
    """Centre user points and scale the largest |coordinate| to 2 (the scale of the built-in targets)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)  # (N, 2)
    p = p - p.mean(0)
    scale = np.abs(p).max()
    return p * (2.0 / scale) if scale > 0 else p


MAX_POINTS = 5000


def parse_points(text: str) -> np.ndarray:
    """User points from CSV text: one `x,y` row per line (commas, semicolons, tabs or spaces); lines that are
    not two numbers (a header) are skipped. Raises ValueError when fewer than 3 distinct finite points remain
    or more than MAX_POINTS rows are given."""
    rows = []
    for line in text.splitlines():
        parts = line.replace(";", ",").replace("\t", ",").replace(" ", ",").split(",")
        parts = [q for q in parts if q]
        if len(parts) < 2:
            continue
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            continue
        if np.isfinite(x) and np.isfinite(y):
            rows.append((x, y))
        if len(rows) > MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS} points")
    pts = np.array(rows, dtype=np.float64).reshape(-1, 2)  # (N, 2)
    if len(np.unique(pts, axis=0)) < 3:
        raise ValueError("need at least 3 distinct x,y points")
    return pts


def example_points(n: int = 200) -> np.ndarray:
    """A heart outline (n, 2), the default custom target: x = 16 sin³s, y = 13 cos s − 5 cos 2s − 2 cos 3s − cos 4s."""
    s = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(s) ** 3
    y = 13 * np.cos(s) - 5 * np.cos(2 * s) - 2 * np.cos(3 * s) - np.cos(4 * s)
    return np.stack([x, y], 1)


def modes(target: str, pool: np.ndarray, rng: np.random.Generator, k: int = 8) -> tuple[np.ndarray, float]:
    """Mode centres (K, 2) and a coverage radius: the 8 ring means and 3σ, or for other targets k-means
    centres of the target (Lloyd's algorithm) and the 90th percentile of real points' distance to them."""
    if target == "ring":
        ang = 2 * np.pi * np.arange(8) / 8
        return np.stack([2 * np.cos(ang), 2 * np.sin(ang)], 1), 3 * RING_STD
    k = min(k, len(np.unique(pool, axis=0)))
    centres = pool[rng.choice(len(pool), k, replace=False)]  # (K, 2)
    for _ in range(30):
        assign = np.argmin(((pool[:, None] - centres[None]) ** 2).sum(-1), 1)  # (n,)
        centres = np.stack([pool[assign == j].mean(0) if np.any(assign == j) else centres[j] for j in range(k)])
    d = np.sqrt(((pool[:, None] - centres[None]) ** 2).sum(-1)).min(1)  # (n,)
    return centres, float(np.quantile(d, 0.9))


def mode_coverage(samples: np.ndarray, centres: np.ndarray, radius: float, share: np.ndarray | None = None,
                  min_fraction: float = 0.2) -> tuple[int, float, np.ndarray, np.ndarray]:
    """How many modes hold samples: a sample counts for its nearest centre when within `radius`; a mode is
    covered when it holds at least `min_fraction` of its fair share (share_k · n). Returns
    (modes covered, fraction of high-quality samples, counts (K,), covered mask (K,))."""
    d2 = ((samples[:, None] - centres[None]) ** 2).sum(-1)  # (n, K)
    near = np.argmin(d2, 1)
    ok = np.sqrt(d2[np.arange(len(samples)), near]) <= radius
    counts = np.bincount(near[ok], minlength=len(centres))  # (K,)
    share = np.full(len(centres), 1 / len(centres)) if share is None else share
    mask = counts >= np.maximum(1, min_fraction * share * len(samples))  # (K,)
    return int(mask.sum()), float(ok.mean()), counts, mask


def sample_w1(a: np.ndarray, b: np.ndarray) -> float:
    r"""Exact W1 between two equal-size point clouds: the optimal assignment
    :math:`\min_\pi \frac1n\sum_i \|a_i - b_{\pi(i)}\|` (the optimal plan between uniform empirical measures of
    equal size is a permutation, Birkhoff–von Neumann)."""
    from scipy.optimize import linear_sum_assignment
    cost = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))  # (n, n)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


# ------------------------------------------------------------------------------------------------ networks

class MLP:
    """ReLU MLP held as plain tensors (no nn.Module: initialised from a seeded torch.Generator, with no
    global RNG touched). PyTorch's nn.Linear default init: U(−1/√fan_in, 1/√fan_in) for W and b."""

    def __init__(self, sizes: list[int], gen: torch.Generator):
        self.params: list[torch.Tensor] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(fan_in)
            W = (torch.rand(fan_in, fan_out, generator=gen) * 2 - 1) * bound  # (in, out)
            b = (torch.rand(fan_out, generator=gen) * 2 - 1) * bound  # (out,)
            self.params += [W.requires_grad_(), b.requires_grad_()]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.params) // 2
        for i in range(n):
            x = torch.addmm(self.params[2 * i + 1], x, self.params[2 * i])  # (B, out)
            if i < n - 1:
                x = torch.relu(x)
        return x


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""WGAN-GP's penalty, differentiable w.r.t. the critic's parameters (Gulrajani et al. 2017, Eq. 3):

    .. math:: \mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big],\qquad \hat x = \epsilon x + (1-\epsilon)\tilde x

    For a linear critic :math:`f(x) = w^\top x` it equals :math:`(\|w\|-1)^2` at every point.

    Parameters
    ----------
    critic : callable (B, d) -> (B, 1)
    real, fake : torch.Tensor [shape=(B, d)]
    eps : torch.Tensor [shape=(B, 1)] in [0, 1]

    Returns
    -------
    (penalty scalar, gradient norms (B,))
    """
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)  # (B, d)
    grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (B, d)
    norm = grad.norm(2, dim=1)  # (B,)
    # GP = E[(‖∇f(x̂)‖ − 1)²]
    return ((norm - 1) ** 2).mean(), norm


def d_loss(loss: str, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""Discriminator / critic loss (without the gradient penalty).

    GAN, the negated value (Goodfellow et al. 2014, Eq. 1) with D = σ(logit):
    :math:`L_D = -\mathbb{E}_x[\log\sigma(D(x))] - \mathbb{E}_z[\log(1-\sigma(D(G(z))))]`;
    WGAN / WGAN-GP (Arjovsky et al. 2017, Algorithm 1): :math:`L_D = -\mathbb{E}_x[f(x)] + \mathbb{E}_z[f(G(z))]`.

    d_real, d_fake : torch.Tensor [shape=(B, 1)] logits / critic scores.
    """
    if loss == "gan":
        # L_D = −E[log σ(D(x))] − E[log(1 − σ(D(G(z))))];  −log σ(a) = softplus(−a), −log(1 − σ(a)) = softplus(a)
        return torch.nn.functional.softplus(-d_real).mean() + torch.nn.functional.softplus(d_fake).mean()
    # L_D = −E[f(x)] + E[f(G(z))]
    return d_fake.mean() - d_real.mean()


def g_loss(loss: str, d_fake: torch.Tensor) -> torch.Tensor:
    r"""Generator loss: the non-saturating :math:`-\mathbb{E}_z[\log\sigma(D(G(z)))]` for the GAN
    (Goodfellow et al. 2014, Sec. 3) and :math:`-\mathbb{E}_z[f(G(z))]` for the WGANs."""
    if loss == "gan":
        # L_G = −E[log σ(D(G(z)))]
        return torch.nn.functional.softplus(-d_fake).mean()
    # L_G = −E[f(G(z))]
    return -d_fake.mean()


# ------------------------------------------------------------------------------------------------ training

@dataclass(frozen=True)
class Snapshot:
    """The state of one model after `step` generator steps, plus its whole history."""
    loss: str
    step: int                    # generator steps done
    samples: np.ndarray          # (n_show, 2) G(z) for a fixed z
    real: np.ndarray             # (n_show, 2) target samples (fixed for the run)
    grid_x: np.ndarray           # (grid,) coordinates of the landscape (same on both axes)
    landscape: np.ndarray        # (grid, grid) σ(D) for the GAN, the critic f for WGANs; [row = y, col = x]
    centres: np.ndarray          # (K, 2) mode centres
    counts: np.ndarray           # (K,) samples near each mode
    covered: np.ndarray          # (K,) bool, mode holds ≥ 20 % of its fair share
    modes_covered: int
    quality: float               # fraction of samples within a mode's radius
    w1: float                    # exact W1(G(z), target) on n_show points
    grad_norm: float             # mean ‖∇x D‖ at interpolates between real and fake
    clipped: float               # fraction of critic weights at ±c (WGAN only, else 0)
    hist_step: np.ndarray        # (S,) generator step of each logged point
    hist_d: np.ndarray           # (S,) D / critic loss (WGANs: without the penalty, so −hist_d estimates W1)
    hist_g: np.ndarray           # (S,) generator loss
    hist_w1: np.ndarray          # (S,) exact sample W1 at each snapshot
    hist_modes: np.ndarray       # (S,) modes covered at each snapshot
    seconds: float               # compute time spent in training steps so far


def train(config: Config, seed: int = 0) -> Iterator[Snapshot]:
    """Train one model, yielding a `Snapshot` at step 0 and every `config.snapshot_every` generator steps.

    Deterministic for a given (config, seed): networks, target pool, noise and ε all come from generators
    seeded with `seed`; the same seed gives G and D the same initial weights across losses, so the three
    models start from one point and differ only by their loss.
    """
    import time

    cfg = config
    if cfg.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}")
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    pool_np = sample_target(cfg.target, POOL, rng, cfg.points)  # (POOL, 2)
    pool = torch.as_tensor(pool_np, dtype=torch.float32)
    real_show = pool_np[:cfg.n_show]
    centres, radius = modes(cfg.target, pool_np[:2000], np.random.default_rng(seed))
    share = np.bincount(np.argmin(((pool_np[:2000, None] - centres[None]) ** 2).sum(-1), 1),
                        minlength=len(centres)) / 2000.0

    G = MLP([cfg.z_dim] + [cfg.hidden] * cfg.layers + [2], gen)
    D = MLP([2] + [cfg.hidden] * cfg.layers + [1], gen)
    if cfg.loss == "wgan":
        # foreach=False: on tensors this small the per-tensor loop beats the multi-tensor path
        opt_g = torch.optim.RMSprop(G.params, lr=cfg.lr_g, foreach=False)
        opt_d = torch.optim.RMSprop(D.params, lr=cfg.lr_d, foreach=False)
        with torch.no_grad():
            for p in D.params:
                p.clamp_(-cfg.clip_c, cfg.clip_c)
    else:
        betas = (0.5, 0.999) if cfg.loss == "gan" else (0.5, 0.9)
        # fused: one kernel per step instead of ~10 small ops per tensor (≈4× faster here)
        opt_g = torch.optim.Adam(G.params, lr=cfg.lr_g, betas=betas, fused=True)
        opt_d = torch.optim.Adam(D.params, lr=cfg.lr_d, betas=betas, fused=True)

    z_show = torch.randn(cfg.n_show, cfg.z_dim, generator=gen)  # (n_show, z_dim) fixed latent points
    extent = float(np.abs(pool_np).max() * 1.25)
    grid_x = np.linspace(-extent, extent, cfg.grid)
    gx, gy = np.meshgrid(grid_x, grid_x)
    grid_pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)  # (grid², 2)
    m = cfg.batch_size
    hist_step: list[int] = []
    hist_d: list[float] = []
    hist_g: list[float] = []
    hist_w1: list[float] = []
    hist_modes: list[int] = []
    acc_d, acc_g, acc_n = 0.0, 0.0, 0
    seconds = 0.0

    def d_step() -> float:
        x = pool[torch.randint(0, POOL, (m,), generator=gen)]  # (m, 2) real batch
        with torch.no_grad():
            fake = G(torch.randn(m, cfg.z_dim, generator=gen))  # (m, 2)
        out = D(torch.cat([x, fake]))  # (2m, 1) one pass for both halves
        loss = total = d_loss(cfg.loss, out[:m], out[m:])
        if cfg.loss == "wgan-gp":
            gp, _ = gradient_penalty(D, x, fake, torch.rand(m, 1, generator=gen))
            # L_D + λ E[(‖∇f(x̂)‖ − 1)²]
            total = loss + cfg.gp_lambda * gp
        opt_d.zero_grad(set_to_none=True)
        total.backward()
        opt_d.step()
        if cfg.loss == "wgan":
            with torch.no_grad():
                for p in D.params:
                    # w ← clip(w, −c, c)
                    p.clamp_(-cfg.clip_c, cfg.clip_c)
        return float(loss.detach())

    def g_step() -> float:
        loss = g_loss(cfg.loss, D(G(torch.randn(m, cfg.z_dim, generator=gen))))  # D(G(z)): (m, 1)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        return float(loss.detach())

    def snapshot(step: int) -> Snapshot:
        with torch.no_grad():
            samples = G(z_show).numpy().astype(np.float64)  # (n_show, 2)
            land = D(grid_pts).reshape(cfg.grid, cfg.grid)  # (grid, grid)
            if cfg.loss == "gan":
                land = torch.sigmoid(land)
        eps = torch.rand(cfg.n_show, 1, generator=torch.Generator().manual_seed(seed + step))
        _, norms = gradient_penalty(D, torch.as_tensor(real_show, dtype=torch.float32),
                                    torch.as_tensor(samples, dtype=torch.float32), eps)
        covered, quality, counts, mask = mode_coverage(samples, centres, radius, share)
        w1 = sample_w1(samples[:256], real_show[:256])
        hist_w1.append(w1)
        hist_modes.append(covered)
        clipped = 0.0
        if cfg.loss == "wgan":
            flat = torch.cat([p.detach().abs().ravel() for p in D.params])
            clipped = float((flat >= cfg.clip_c * 0.999).float().mean())
        return Snapshot(loss=cfg.loss, step=step, samples=samples, real=real_show, grid_x=grid_x,
                        landscape=land.numpy().astype(np.float64), centres=centres, counts=counts, covered=mask,
                        modes_covered=covered, quality=quality, w1=w1, grad_norm=float(norms.detach().mean()),
                        clipped=clipped, hist_step=np.array(hist_step, dtype=np.int64),
                        hist_d=np.array(hist_d), hist_g=np.array(hist_g), hist_w1=np.array(hist_w1),
                        hist_modes=np.array(hist_modes, dtype=np.int64), seconds=seconds)

    # step 0: losses of the untrained pair, measured without updating
    with torch.no_grad():
        x0 = pool[:m]
        f0 = D(G(torch.randn(m, cfg.z_dim, generator=gen)))
        r0 = D(x0)
        hist_d.append(float(d_loss(cfg.loss, r0, f0)))
        hist_g.append(float(g_loss(cfg.loss, f0)))
    hist_step.append(0)
    yield snapshot(0)
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        for _ in range(cfg.n_critic):
            acc_d += d_step() / cfg.n_critic
        acc_g += g_step()
        acc_n += 1
        seconds += time.perf_counter() - t0
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            hist_step.append(step)
            hist_d.append(acc_d / acc_n)
            hist_g.append(acc_g / acc_n)
            acc_d, acc_g, acc_n = 0.0, 0.0, 0
            yield snapshot(step)


def train_all(configs: dict[str, Config], seed: int = 0) -> Iterator[dict[str, Snapshot]]:
    """Several models in lockstep: one dict {name: Snapshot} per round, each model advanced by its own
    `snapshot_every` generator steps. Stops when the first model stops."""
    its = {k: train(c, seed) for k, c in configs.items()}
    while True:
        try:
            yield {k: next(it) for k, it in its.items()}
        except StopIteration:
            return


def loss_signal(snap: Snapshot) -> np.ndarray:
    """What each model's D reports over time: L_D for the GAN, −L_D for WGANs (the critic's W1 estimate,
    Arjovsky et al. 2017, Sec. 4: it should fall as samples improve)."""
    return snap.hist_d if snap.loss == "gan" else -snap.hist_d


def loss_quality_correlation(snap: Snapshot, skip: int = 1) -> float:
    """Pearson correlation between `loss_signal` and the true sample W1 over the snapshots after the first
    `skip` (NaN while fewer than 3 points or either is constant)."""
    y, w = loss_signal(snap)[skip:], snap.hist_w1[skip:]
    if len(y) < 3 or np.std(y) == 0 or np.std(w) == 0:
        return float("nan")
    return float(np.corrcoef(y, w)[0, 1])


def with_target(config: Config, target: str, points: np.ndarray | None = None) -> Config:
    """A copy of `config` on another target."""
    return replace(config, target=target, points=points)
