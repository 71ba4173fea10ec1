r"""A small DCGAN and a Conditional GAN on scikit-learn's 8×8 digits (1797 images that ship offline).

Generator: z (+ one-hot label y for the CGAN) → Linear → (C, 2, 2) → ConvTranspose 4×4/2 → (C/2, 4, 4)
→ ConvTranspose 4×4/2 → (1, 8, 8), tanh. BatchNorm + ReLU in G, LeakyReLU(0.2) in D, strided convolutions
instead of pooling (Radford et al.'s guidelines). The CGAN feeds y to G (concatenated to z) and to D (as 10
constant planes stacked on the image), so D judges "is this a real image *of this digit*".

$$\min_G\max_D\ \mathbb{E}_{x,y}[\log D(x\mid y)] + \mathbb{E}_{z,y}[\log(1 - D(G(z\mid y)\mid y))]$$

References
----------
Radford, Metz, Chintala, "Unsupervised Representation Learning with Deep Convolutional GANs", ICLR 2016.
Mirza, Osindero, "Conditional Generative Adversarial Nets", arXiv:1411.1784, 2014 (Eq. 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import nn

from engine.common import optim
from engine.common.digits import sklearn_digits

N_CLASSES = 10


@dataclass(frozen=True)
class Config:
    conditional: bool = False     # CGAN when True
    z_dim: int = 16               # latent size
    channels: int = 64            # C: feature maps after the first projection (halved per upsampling)
    batch_size: int = 64          # m
    lr: float = 5e-4              # Adam, both players (DCGAN used 2e-4; higher trains faster on 8×8)
    beta1: float = 0.5            # DCGAN's Adam β1
    snapshot_every: int = 25      # generator steps between snapshots
    max_steps: int = 20_000


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits in [−1, 1] (engine.common.digits; kept under this name for the DCGAN page)."""
    return sklearn_digits()


def condition_latent(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The CGAN generator's input: the one-hot label concatenated to z, (B, z_dim) and (B,) -> (B, z_dim + 10)."""
    return torch.cat([z, nn.functional.one_hot(y, N_CLASSES).float()], 1)  # (B, z_dim + 10)


def condition_image(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The CGAN discriminator's input: the one-hot label as 10 constant planes stacked on the image,
    (B, 1, H, W) and (B,) -> (B, 11, H, W)."""
    planes = nn.functional.one_hot(y, N_CLASSES).float()[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, 10, H, W)
    return torch.cat([x, planes], 1)  # (B, 1 + 10, H, W)


class Generator(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        C, in_dim = cfg.channels, cfg.z_dim + (N_CLASSES if cfg.conditional else 0)
        self.conditional = cfg.conditional
        self.project = nn.Sequential(nn.Linear(in_dim, C * 4, device="meta"), nn.BatchNorm1d(C * 4, device="meta"),
                                     nn.ReLU())
        self.C = C
        self.up = nn.Sequential(
            nn.ConvTranspose2d(C, C // 2, 4, 2, 1, device="meta"), nn.BatchNorm2d(C // 2, device="meta"), nn.ReLU(),
            nn.ConvTranspose2d(C // 2, 1, 4, 2, 1, device="meta"), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            z = condition_latent(z, y)  # (B, z_dim + 10)
        h = self.project(z).view(-1, self.C, 2, 2)  # (B, C, 2, 2)
        return self.up(h)  # (B, 1, 8, 8)


class Discriminator(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        C, in_ch = cfg.channels, 1 + (N_CLASSES if cfg.conditional else 0)
        self.conditional = cfg.conditional
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, C // 2, 4, 2, 1, device="meta"), nn.LeakyReLU(0.2),
            nn.Conv2d(C // 2, C, 4, 2, 1, device="meta"), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(C * 4, 1, device="meta"))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:   # y as 10 constant planes: D sees image and condition together
            x = condition_image(x, y)  # (B, 11, 8, 8)
        return self.body(x)  # (B, 1) logits


def init_weights(module: nn.Module, gen: torch.Generator) -> nn.Module:
    """Materialise a meta-device module with DCGAN's init from a seeded generator: conv/linear weights
    N(0, 0.02), BatchNorm γ ~ N(1, 0.02), biases 0."""
    module.to_empty(device="cpu")
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.02)
                m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.copy_(1 + torch.randn(m.weight.shape, generator=gen) * 0.02)
                m.bias.zero_()
                m.reset_running_stats()
    return module


def build(cfg: Config, seed: int) -> tuple[Generator, Discriminator]:
    gen = torch.Generator().manual_seed(seed)
    return init_weights(Generator(cfg), gen), init_weights(Discriminator(cfg), gen)


def conv_output_size(h: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    r"""Height (or width) after `nn.Conv2d` — D's downsampling:

    $$H_{out} = \left\lfloor \frac{H + 2p - d\,(k - 1) - 1}{s} \right\rfloor + 1$$

    (PyTorch's Conv2d documentation; Dumoulin & Visin, "A guide to convolution arithmetic", 2016, Relationship 6.)
    """
    # H_out = floor((H + 2p − d(k − 1) − 1) / s) + 1
    return (h + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_transpose_output_size(h: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    r"""Height (or width) after `nn.ConvTranspose2d` — G's upsampling (a fractionally-strided convolution):

    $$H_{out} = (H - 1)\,s - 2p + d\,(k - 1) + p_{out} + 1$$

    i.e. $(H-1)s - 2p + k + p_{out}$ without dilation (PyTorch's ConvTranspose2d documentation; Dumoulin & Visin
    2016, Relationship 14). `output_padding` < max(stride, dilation) adds rows on one side only, to pick one of the
    sizes that a strided convolution maps to the same H.
    """
    # H_out = (H − 1)·s − 2p + d(k − 1) + output_padding + 1
    return (h - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def layer_shapes(cfg: Config, net: str = "G") -> list[tuple[str, tuple[int, ...]]]:
    """(layer, output shape without batch) for every layer of G or D, by running one dummy batch through."""
    G, D = build(cfg, 0)
    rows: list[tuple[str, tuple[int, ...]]] = []
    with torch.no_grad():
        if net == "G":
            z = torch.zeros(2, cfg.z_dim)
            rows.append(("z" + (" ⊕ y" if cfg.conditional else ""), (cfg.z_dim + (N_CLASSES if cfg.conditional else 0),)))
            h = torch.cat([z, torch.zeros(2, N_CLASSES)], 1) if cfg.conditional else z
            G.eval()
            for m in G.project:
                h = m(h)
                rows.append((type(m).__name__, tuple(h.shape[1:])))
            h = h.view(-1, G.C, 2, 2)
            rows.append(("reshape", tuple(h.shape[1:])))
            for m in G.up:
                h = m(h)
                rows.append((type(m).__name__, tuple(h.shape[1:])))
        else:
            h = torch.zeros(2, 1 + (N_CLASSES if cfg.conditional else 0), 8, 8)
            rows.append(("x" + (" ⊕ y planes" if cfg.conditional else ""), tuple(h.shape[1:])))
            for m in D.body:
                h = m(h)
                rows.append((type(m).__name__, tuple(h.shape[1:])))
    return rows


@dataclass(frozen=True)
class Snapshot:
    step: int
    conditional: bool
    images: np.ndarray       # (rows, cols, 8, 8) in [−1, 1]: fixed z; for the CGAN row r is digit r
    hist_step: np.ndarray    # (S,)
    hist_d: np.ndarray       # (S,) L_D
    hist_g: np.ndarray       # (S,) L_G
    hist_d_real: np.ndarray  # (S,) mean σ(D(x)) on real batches
    hist_d_fake: np.ndarray  # (S,) mean σ(D(G(z))) on fakes
    state: dict              # G's state_dict (copied), for sampling on demand
    seconds: float           # pure training time so far


def generate(cfg: Config, state: dict, z: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Images (B, 8, 8) in [−1, 1] from latents z (B, z_dim) (and labels y (B,) for the CGAN), G in eval mode."""
    G = Generator(cfg).to_empty(device="cpu")
    G.load_state_dict(state)
    G.eval()
    with torch.inference_mode():
        yt = torch.as_tensor(y, dtype=torch.int64) if cfg.conditional else None
        return G(torch.as_tensor(z, dtype=torch.float32), yt)[:, 0].numpy()  # (B, 8, 8)


def interpolate(z0: np.ndarray, z1: np.ndarray, n: int, spherical: bool = False) -> np.ndarray:
    r"""n latents from z0 to z1 (n, d): linear $(1-t)z_0 + t z_1$, or spherical (slerp)
    $\frac{\sin((1-t)\Omega)}{\sin\Omega}z_0 + \frac{\sin(t\Omega)}{\sin\Omega}z_1$, which keeps the norm
    typical of a Gaussian latent (White, "Sampling Generative Networks", 2016)."""
    t = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    if not spherical:
        return (1 - t) * z0[None] + t * z1[None]
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * z0[None] + t * z1[None]
    return (np.sin((1 - t) * omega) * z0[None] + np.sin(t * omega) * z1[None]) / np.sin(omega)


def train(cfg: Config, seed: int = 0, data: tuple[np.ndarray, np.ndarray] | None = None) -> Iterator[Snapshot]:
    """Alternate one D step and one G step (non-saturating G loss), yielding a Snapshot at step 0 and every
    `snapshot_every` steps. Deterministic for a seed."""
    import time

    x_np, y_np = data if data is not None else load_digits_images()
    X, Y = torch.as_tensor(x_np), torch.as_tensor(y_np)
    G, D = build(cfg, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    # = torch.optim.Adam without its first-call import of torch._dynamo
    opt_g = optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    sp = nn.functional.softplus
    m = cfg.batch_size
    rows = N_CLASSES if cfg.conditional else 8
    z_show = torch.randn(8, cfg.z_dim, generator=gen).repeat(rows, 1)  # (rows·8, z_dim): same z in every row
    y_show = torch.arange(rows).repeat_interleave(8) if cfg.conditional else None  # (rows·8,)
    if not cfg.conditional:
        z_show = torch.randn(rows * 8, cfg.z_dim, generator=gen)
    hist = {k: [] for k in ("step", "d", "g", "real", "fake")}
    acc = np.zeros(4)
    seconds = 0.0

    def snap(step: int) -> Snapshot:
        G.eval()
        with torch.inference_mode():
            imgs = G(z_show, y_show)[:, 0].reshape(rows, 8, 8, 8).numpy().astype(np.float64)  # (rows, 8, 8, 8)
        G.train()
        return Snapshot(step=step, conditional=cfg.conditional, images=imgs,
                        hist_step=np.array(hist["step"]), hist_d=np.array(hist["d"]), hist_g=np.array(hist["g"]),
                        hist_d_real=np.array(hist["real"]), hist_d_fake=np.array(hist["fake"]),
                        state={k: v.detach().clone() for k, v in G.state_dict().items()}, seconds=seconds)

    yield snap(0)
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        idx = torch.randint(0, len(X), (m,), generator=gen)
        x, y = X[idx], Y[idx]  # (m, 1, 8, 8), (m,)
        y_fake = torch.randint(0, N_CLASSES, (m,), generator=gen) if cfg.conditional else None
        yc = y if cfg.conditional else None
        fake = G(torch.randn(m, cfg.z_dim, generator=gen), y_fake)  # (m, 1, 8, 8)
        d_real, d_fake = D(x, yc), D(fake.detach(), y_fake)  # (m, 1) logits
        # L_D = −E[log D(x|y)] − E[log(1 − D(G(z|y)|y))]
        loss_d = sp(-d_real).mean() + sp(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # L_G = −E[log D(G(z|y)|y)]  (non-saturating)
        loss_g = sp(-D(fake, y_fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        seconds += time.perf_counter() - t0
        acc += [float(loss_d.detach()), float(loss_g.detach()), float(torch.sigmoid(d_real.detach()).mean()),
                float(torch.sigmoid(d_fake.detach()).mean())]
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            n = cfg.snapshot_every if step % cfg.snapshot_every == 0 else step % cfg.snapshot_every
            for k, v in zip(("d", "g", "real", "fake"), acc / n):
                hist[k].append(float(v))
            hist["step"].append(step)
            acc[:] = 0
            yield snap(step)
