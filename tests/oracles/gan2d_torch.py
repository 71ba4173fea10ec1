"""The oracle for engine/generative/gan2d.py's hand-written backpropagation: the same networks, losses and optimisers with
torch autograd and torch.optim, replaying train()'s draws from the same seeded numpy generator in its order.
Used by tests/generative/test_gan2d.py (equality after a few steps) and bench/generative/gan2d.py (the speed reference)."""
from __future__ import annotations

import numpy as np
import torch

from engine.generative import gan2d


def params_of(net: gan2d.MLP, dtype=torch.float32) -> list[torch.Tensor]:
    return [torch.tensor(p, dtype=dtype, requires_grad=True) for p in net.params]


def mlp(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The reference network: the same layers with torch ops, differentiated by autograd."""
    n = len(params) // 2
    for i in range(n):
        x = x @ params[2 * i] + params[2 * i + 1]
        if i < n - 1:
            x = torch.relu(x)
    return x


def gradient_penalty(params, real, fake, eps):
    """WGAN-GP's penalty the way the paper's code computes it: autograd with create_graph=True."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(mlp(params, x_hat).sum(), x_hat, create_graph=True)
    norm = grad.norm(2, dim=1)
    return ((norm - 1) ** 2).mean(), norm


def replica(cfg: gan2d.Config, seed: int, g_steps: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Train like gan2d.train(cfg, seed) for `g_steps` generator steps; returns G's parameters and z_show."""
    loss, m, z = cfg.loss, cfg.batch_size, cfg.z_dim
    rng = np.random.default_rng(seed)
    pool = gan2d.sample_target(cfg.target, gan2d.POOL, rng, cfg.points).astype(np.float32)
    G = params_of(gan2d.MLP([z] + [cfg.hidden] * cfg.layers + [2], rng))
    D = params_of(gan2d.MLP([2] + [cfg.hidden] * cfg.layers + [1], rng))
    z_show = torch.tensor(rng.standard_normal((cfg.n_show, z), dtype=np.float32))
    rng.standard_normal((m, z), dtype=np.float32)          # the step-0 loss measurement's noise
    if loss == "wgan":
        opt_g, opt_d = torch.optim.RMSprop(G, lr=cfg.lr_g), torch.optim.RMSprop(D, lr=cfg.lr_d)
        with torch.no_grad():
            for p in D:
                p.clamp_(-cfg.clip_c, cfg.clip_c)
    else:
        betas = (0.5, 0.999) if loss == "gan" else (0.5, 0.9)
        opt_g, opt_d = torch.optim.Adam(G, lr=cfg.lr_g, betas=betas), torch.optim.Adam(D, lr=cfg.lr_d, betas=betas)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for _ in range(g_steps):
        for _ in range(cfg.n_critic):
            x = torch.tensor(pool[rng.integers(0, gan2d.POOL, m)])
            fake = mlp(G, torch.tensor(rng.standard_normal((m, z), dtype=np.float32))).detach()
            r, f = mlp(D, x), mlp(D, fake)
            ld = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)) if loss == "gan" else f.mean() - r.mean()
            if loss == "wgan-gp":
                eps = torch.tensor(rng.random((m, 1), dtype=np.float32))
                ld = ld + cfg.gp_lambda * gradient_penalty(D, x, fake, eps)[0]
            opt_d.zero_grad()
            ld.backward()
            opt_d.step()
            if loss == "wgan":
                with torch.no_grad():
                    for p in D:
                        p.clamp_(-cfg.clip_c, cfg.clip_c)
        f = mlp(D, mlp(G, torch.tensor(rng.standard_normal((m, z), dtype=np.float32))))
        lg = bce(f, torch.ones_like(f)) if loss == "gan" else -f.mean()
        opt_g.zero_grad()
        lg.backward()
        opt_g.step()
    return G, z_show
