r"""Pix2Pix and CycleGAN losses on toy tasks, trained as generators of snapshots.

Pix2Pix (paired, digits x → y): a small U-Net G (skip connections on or off) and a conditional PatchGAN D that
sees the pair (x, y):

$$G^* = \arg\min_G\max_D\ \mathcal{L}_{cGAN}(G, D) + \lambda\,\mathcal{L}_{L1}(G),\qquad$$
          \mathcal{L}_{L1} = \mathbb{E}_{x,y}\|y - G(x)\|_1

CycleGAN (unpaired, 2-D domains X and Y): G: X→Y, F: Y→X, least-squares adversarial losses, and

$$\mathcal{L}_{cyc} = \mathbb{E}_x\|F(G(x)) - x\|_1 + \mathbb{E}_y\|G(F(y)) - y\|_1,\qquad$$
          \mathcal{L}_{id} = \mathbb{E}_y\|G(y) - y\|_1 + \mathbb{E}_x\|F(x) - x\|_1

References
----------
Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017 (Eqs. 1–4).
Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV 2017
(Eqs. 1–3; the identity loss in Sec. 5.2; least-squares GAN loss in Sec. 4).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from engine.common import optim

TASKS = ("invert", "denoise")


def reinit(module: nn.Module, gen: torch.Generator) -> nn.Module:
    """Re-draw every weight and bias from the seeded `gen` with PyTorch's default bound
    U(−1/√fan_in, 1/√fan_in), so results depend on the seed argument only, never on the global RNG."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = 1 / np.sqrt(fan_in)
                m.weight.copy_((torch.rand(m.weight.shape, generator=gen) * 2 - 1) * bound)
                m.bias.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * bound)
    return module


# ================================================================================================ Pix2Pix

def make_pairs(task: str, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Paired data from digits x (N, 1, 8, 8) in [−1, 1]: "invert" maps x → −x; "denoise" maps
    x + noise (σ = 0.5, clipped) → x. Returns (inputs, targets), both (N, 1, 8, 8)."""
    if task == "invert":
        return x, -x
    if task == "denoise":
        noisy = np.clip(x + 0.5 * rng.standard_normal(x.shape), -1, 1).astype(np.float32)
        return noisy, x
    raise ValueError(f"task must be one of {TASKS}")


class UNet(nn.Module):
    """8×8 → 4×4 → 2×2 → 1×1 encoder and a mirrored decoder. With `skip`, each decoder stage concatenates
    the encoder features of the same resolution (Ronneberger et al. 2015); without, zeros of the same shape
    take their place, so both variants have identical layers and parameter counts."""

    def __init__(self, skip: bool = True, C: int = 16):
        super().__init__()
        self.skip = skip
        act = nn.LeakyReLU(0.2)
        self.e1 = nn.Sequential(nn.Conv2d(1, C, 4, 2, 1), act)               # (C, 4, 4)
        self.e2 = nn.Sequential(nn.Conv2d(C, 2 * C, 4, 2, 1), act)           # (2C, 2, 2)
        self.e3 = nn.Sequential(nn.Conv2d(2 * C, 4 * C, 2, 1, 0), nn.ReLU())  # (4C, 1, 1) bottleneck
        self.d3 = nn.Sequential(nn.ConvTranspose2d(4 * C, 2 * C, 2, 1, 0), nn.ReLU())  # (2C, 2, 2)
        self.d2 = nn.Sequential(nn.ConvTranspose2d(4 * C, C, 4, 2, 1), nn.ReLU())      # (C, 4, 4)
        self.d1 = nn.Sequential(nn.ConvTranspose2d(2 * C, 1, 4, 2, 1), nn.Tanh())      # (1, 8, 8)

    def _join(self, up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return torch.cat([up, skip if self.skip else torch.zeros_like(skip)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.e1(x)  # (B, C, 4, 4)
        h2 = self.e2(h1)  # (B, 2C, 2, 2)
        h3 = self.e3(h2)  # (B, 4C, 1, 1)
        u2 = self.d3(h3)  # (B, 2C, 2, 2)
        u1 = self.d2(self._join(u2, h2))  # (B, C, 4, 4)
        return self.d1(self._join(u1, h1))  # (B, 1, 8, 8)


class PatchD(nn.Module):
    """Conditional PatchGAN: the pair (x, y) as 2 channels → a 2×2 map of real/fake logits, one per patch."""

    def __init__(self, C: int = 16):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(2, C, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(C, 1, 4, 2, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, y], 1))  # (B, 1, 2, 2)


def pix2pix_losses(d_fake: torch.Tensor, fake: torch.Tensor, target: torch.Tensor,
                   lambda_l1: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Generator objective of Pix2Pix, returned as (total, adversarial, L1):

    $$\mathcal{L}_G = -\mathbb{E}[\log D(x, G(x))] + \lambda\,\mathbb{E}\|y - G(x)\|_1$$

    (non-saturating adversarial term over all patches; the L1 mean is per pixel).
    """
    # −E[log σ(D(x, G(x)))]
    adv = nn.functional.softplus(-d_fake).mean()
    # E‖y − G(x)‖₁
    l1 = (target - fake).abs().mean()
    return adv + lambda_l1 * l1, adv, l1


@dataclass(frozen=True)
class Pix2PixConfig:
    task: str = "invert"
    skip: bool = True
    lambda_l1: float = 100.0      # Isola et al. use λ = 100
    lr: float = 1e-3
    batch_size: int = 32
    snapshot_every: int = 20
    n_show: int = 8
    max_steps: int = 20_000


@dataclass(frozen=True)
class Pix2PixSnapshot:
    step: int
    skip: bool
    inputs: np.ndarray     # (n_show, 8, 8) held-out x
    outputs: np.ndarray    # (n_show, 8, 8) G(x)
    targets: np.ndarray    # (n_show, 8, 8) y
    hist_step: np.ndarray  # (S,)
    hist_adv: np.ndarray   # (S,) adversarial term of L_G
    hist_l1: np.ndarray    # (S,) L1 term (training batches)
    hist_test_l1: np.ndarray  # (S,) L1 on the held-out images
    seconds: float


def train_pix2pix(cfg: Pix2PixConfig, seed: int = 0, data: np.ndarray | None = None) -> Iterator[Pix2PixSnapshot]:
    """Alternate D and G steps; the first `n_show` (up to 200) digits are held out for display and test L1."""
    if data is None:
        from engine.common.digits import sklearn_digits
        data = sklearn_digits()[0]
    rng = np.random.default_rng(seed)
    xs, ys = make_pairs(cfg.task, data, rng)
    n_test = min(200, len(xs) // 4)
    Xte, Yte = torch.as_tensor(xs[:n_test]), torch.as_tensor(ys[:n_test])
    X, Y = torch.as_tensor(xs[n_test:]), torch.as_tensor(ys[n_test:])
    gen = torch.Generator().manual_seed(seed)
    G, D = reinit(UNet(cfg.skip), gen), reinit(PatchD(), gen)
    # = torch.optim.Adam without its first-call import of torch._dynamo
    opt_g = optim.Adam(G.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    sp = nn.functional.softplus
    hist = {k: [] for k in ("step", "adv", "l1", "test")}
    acc, seconds = np.zeros(2), 0.0

    def snap(step: int) -> Pix2PixSnapshot:
        with torch.inference_mode():
            out = G(Xte)  # (n_test, 1, 8, 8)
            test_l1 = float((out - Yte).abs().mean())
        hist["test"].append(test_l1)
        k = cfg.n_show
        return Pix2PixSnapshot(step=step, skip=cfg.skip, inputs=Xte[:k, 0].numpy().astype(np.float64),
                               outputs=out[:k, 0].numpy().astype(np.float64),
                               targets=Yte[:k, 0].numpy().astype(np.float64),
                               hist_step=np.array(hist["step"]), hist_adv=np.array(hist["adv"]),
                               hist_l1=np.array(hist["l1"]), hist_test_l1=np.array(hist["test"]), seconds=seconds)

    hist["step"].append(0)
    hist["adv"].append(float("nan"))
    hist["l1"].append(float("nan"))
    yield snap(0)
    m = cfg.batch_size
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        idx = torch.randint(0, len(X), (m,), generator=gen)
        x, y = X[idx], Y[idx]  # (m, 1, 8, 8)
        fake = G(x)  # (m, 1, 8, 8)
        # L_D = −E[log D(x, y)] − E[log(1 − D(x, G(x)))]
        loss_d = sp(-D(x, y)).mean() + sp(D(x, fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g, adv, l1 = pix2pix_losses(D(x, fake), fake, y, cfg.lambda_l1)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        seconds += time.perf_counter() - t0
        acc += [float(adv.detach()), float(l1.detach())]
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            n = cfg.snapshot_every if step % cfg.snapshot_every == 0 else step % cfg.snapshot_every
            hist["step"].append(step)
            hist["adv"].append(acc[0] / n)
            hist["l1"].append(acc[1] / n)
            acc[:] = 0
            yield snap(step)


# ================================================================================================ CycleGAN

CLUSTERS_X = np.array([[-2.0, 1.5], [-2.0, 0.0], [-2.0, -1.5]])   # domain X: a vertical column of 3 blobs
CLUSTERS_Y = np.array([[0.5, -1.0], [2.0, 1.2], [3.5, -1.0]])     # domain Y: a triangle of 3 blobs


def sample_domains(n: int, rng: np.random.Generator, std: float = 0.15) -> tuple[np.ndarray, ...]:
    """Unpaired samples: x (n, 2) from domain X and y (n, 2) from domain Y, with the cluster of each
    (n,), (n,). The clusters are never paired with each other in training."""
    cx, cy = rng.integers(0, 3, n), rng.integers(0, 3, n)
    x = CLUSTERS_X[cx] + std * rng.standard_normal((n, 2))
    y = CLUSTERS_Y[cy] + std * rng.standard_normal((n, 2))
    return x, y, cx, cy


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def cycle_losses(x: torch.Tensor, y: torch.Tensor, G: nn.Module, F: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    r"""(cycle-consistency, identity) losses, Zhu et al. 2017 Eq. 2 and Sec. 5.2, L1 per coordinate:

    $$\mathcal{L}_{cyc} = \mathbb{E}_x\|F(G(x)) - x\|_1 + \mathbb{E}_y\|G(F(y)) - y\|_1,\quad$$
              \mathcal{L}_{id} = \mathbb{E}_y\|G(y) - y\|_1 + \mathbb{E}_x\|F(x) - x\|_1
    """
    # L_cyc = E‖F(G(x)) − x‖₁ + E‖G(F(y)) − y‖₁
    cyc = (F(G(x)) - x).abs().mean() + (G(F(y)) - y).abs().mean()
    # L_id = E‖G(y) − y‖₁ + E‖F(x) − x‖₁
    ident = (G(y) - y).abs().mean() + (F(x) - x).abs().mean()
    return cyc, ident


def lsgan_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""Least-squares discriminator loss, as in the seed notes: $\mathbb{E}[(D(b)-1)^2] + \mathbb{E}[D(G(a))^2]$."""
    return ((d_real - 1) ** 2).mean() + (d_fake ** 2).mean()


@dataclass(frozen=True)
class CycleConfig:
    lambda_cyc: float = 10.0      # Zhu et al.: λ = 10
    lambda_id: float = 0.0        # identity weight (Zhu et al. use 0.5·λ on some tasks)
    hidden: int = 64
    lr: float = 1e-3
    batch_size: int = 128
    snapshot_every: int = 20
    n_show: int = 300
    max_steps: int = 20_000


@dataclass(frozen=True)
class CycleSnapshot:
    step: int
    x: np.ndarray           # (n, 2) domain X
    y: np.ndarray           # (n, 2) domain Y
    cx: np.ndarray          # (n,) cluster of each x
    g_x: np.ndarray         # (n, 2) G(x)
    f_g_x: np.ndarray       # (n, 2) F(G(x)) (reconstruction)
    f_y: np.ndarray         # (n, 2) F(y)
    cycle_error: float      # mean ‖F(G(x)) − x‖₂ on the shown points
    clusters_hit: int       # distinct Y clusters that G maps the 3 X clusters to (3 = a bijection)
    hist_step: np.ndarray   # (S,)
    hist_adv: np.ndarray    # (S,) adversarial part of the generators' loss
    hist_cyc: np.ndarray    # (S,)
    hist_id: np.ndarray     # (S,)
    hist_d: np.ndarray      # (S,) D_X + D_Y loss
    seconds: float


def train_cyclegan(cfg: CycleConfig, seed: int = 0) -> Iterator[CycleSnapshot]:
    """Alternate the two discriminators' and the two generators' updates (LSGAN losses, Adam)."""
    rng = np.random.default_rng(seed)
    x_show, y_show, cx_show, _ = sample_domains(cfg.n_show, rng)
    xs, ys = torch.as_tensor(x_show, dtype=torch.float32), torch.as_tensor(y_show, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    G, F = reinit(mlp([2, cfg.hidden, cfg.hidden, 2]), gen), reinit(mlp([2, cfg.hidden, cfg.hidden, 2]), gen)
    D_X, D_Y = reinit(mlp([2, cfg.hidden, cfg.hidden, 1]), gen), reinit(mlp([2, cfg.hidden, cfg.hidden, 1]), gen)
    opt_g = optim.Adam([*G.parameters(), *F.parameters()], lr=cfg.lr, betas=(0.5, 0.999))    # = torch.optim.Adam
    opt_d = optim.Adam([*D_X.parameters(), *D_Y.parameters()], lr=cfg.lr, betas=(0.5, 0.999))
    hist = {k: [] for k in ("step", "adv", "cyc", "id", "d")}
    acc, seconds = np.zeros(4), 0.0

    def snap(step: int) -> CycleSnapshot:
        with torch.inference_mode():
            gx = G(xs)
            fgx = F(gx)
            fy = F(ys)
        gx_np = gx.numpy().astype(np.float64)
        nearest = np.argmin(((gx_np[:, None] - CLUSTERS_Y[None]) ** 2).sum(-1), 1)  # (n,)
        hits = {int(np.bincount(nearest[cx_show == k], minlength=3).argmax()) for k in range(3)}
        return CycleSnapshot(step=step, x=x_show, y=y_show, cx=cx_show, g_x=gx_np,
                             f_g_x=fgx.numpy().astype(np.float64), f_y=fy.numpy().astype(np.float64),
                             cycle_error=float(np.linalg.norm(fgx.numpy() - x_show, axis=1).mean()),
                             clusters_hit=len(hits), hist_step=np.array(hist["step"]),
                             hist_adv=np.array(hist["adv"]), hist_cyc=np.array(hist["cyc"]),
                             hist_id=np.array(hist["id"]), hist_d=np.array(hist["d"]), seconds=seconds)

    yield snap(0)
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        xb, yb, _, _ = sample_domains(cfg.batch_size, rng)
        x, y = torch.as_tensor(xb, dtype=torch.float32), torch.as_tensor(yb, dtype=torch.float32)  # (m, 2)
        fake_y, fake_x = G(x), F(y)  # (m, 2)
        loss_d = lsgan_d_loss(D_Y(y), D_Y(fake_y.detach())) + lsgan_d_loss(D_X(x), D_X(fake_x.detach()))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # L_adv(G) = E[(D_Y(G(x)) − 1)²] + E[(D_X(F(y)) − 1)²]
        adv = ((D_Y(fake_y) - 1) ** 2).mean() + ((D_X(fake_x) - 1) ** 2).mean()
        cyc, ident = cycle_losses(x, y, G, F)
        # L = L_adv + λ_cyc L_cyc + λ_id L_id
        loss_g = adv + cfg.lambda_cyc * cyc + cfg.lambda_id * ident
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        seconds += time.perf_counter() - t0
        acc += [float(adv.detach()), float(cyc.detach()), float(ident.detach()), float(loss_d.detach())]
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            n = cfg.snapshot_every if step % cfg.snapshot_every == 0 else step % cfg.snapshot_every
            hist["step"].append(step)
            for k, v in zip(("adv", "cyc", "id", "d"), acc / n):
                hist[k].append(float(v))
            acc[:] = 0
            yield snap(step)
