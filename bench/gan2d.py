"""Live 2-D training speed: generator steps per second per model, alone and with all three in lockstep.

Targets from issue #8: ≥ 200 steps/s per model alone, ≥ 60 steps/s each with three side by side (default
network sizes, snapshots included, one intra-op thread as app.py runs it). The reference measured in the same run
is the same training step written with torch autograd and torch.optim (what engine/gan2d.py did before its
hand-written numpy backpropagation): the ratio shows what the rewrite buys.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from engine import gan2d

STEPS = 400


def _torch_steps_per_s(loss: str, n: int = 100) -> float:
    """G steps/s of the same networks, losses and optimisers with torch autograd (no snapshots)."""
    cfg = gan2d.default_config(loss)
    gen = torch.Generator().manual_seed(0)

    def mlp(sizes):
        ps = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            ps += [((torch.rand(a, b, generator=gen) * 2 - 1) / a ** 0.5).requires_grad_(),
                   ((torch.rand(b, generator=gen) * 2 - 1) / a ** 0.5).requires_grad_()]
        return ps

    def run(ps, x):
        for i in range(len(ps) // 2):
            x = torch.addmm(ps[2 * i + 1], x, ps[2 * i])
            if i < len(ps) // 2 - 1:
                x = torch.relu(x)
        return x

    G = mlp([cfg.z_dim] + [cfg.hidden] * cfg.layers + [2])
    D = mlp([2] + [cfg.hidden] * cfg.layers + [1])
    if loss == "wgan":
        opt_g, opt_d = torch.optim.RMSprop(G, lr=cfg.lr_g, foreach=False), torch.optim.RMSprop(D, lr=cfg.lr_d, foreach=False)
    else:
        opt_g, opt_d = (torch.optim.Adam(G, lr=cfg.lr_g, betas=(0.5, 0.9), fused=True),
                        torch.optim.Adam(D, lr=cfg.lr_d, betas=(0.5, 0.9), fused=True))
    pool = torch.randn(gan2d.POOL, 2, generator=gen)
    m = cfg.batch_size
    sp = torch.nn.functional.softplus
    t0 = time.perf_counter()
    for _ in range(n):
        for _ in range(cfg.n_critic):
            x = pool[torch.randint(0, gan2d.POOL, (m,), generator=gen)]
            with torch.no_grad():
                fake = run(G, torch.randn(m, cfg.z_dim, generator=gen))
            out = run(D, torch.cat([x, fake]))
            ld = sp(-out[:m]).mean() + sp(out[m:]).mean() if loss == "gan" else out[m:].mean() - out[:m].mean()
            if loss == "wgan-gp":
                eps = torch.rand(m, 1, generator=gen)
                x_hat = (eps * x + (1 - eps) * fake).requires_grad_(True)
                g, = torch.autograd.grad(run(D, x_hat).sum(), x_hat, create_graph=True)
                ld = ld + cfg.gp_lambda * ((g.norm(2, dim=1) - 1) ** 2).mean()
            opt_d.zero_grad(set_to_none=True)
            ld.backward()
            opt_d.step()
            if loss == "wgan":
                with torch.no_grad():
                    for p in D:
                        p.clamp_(-cfg.clip_c, cfg.clip_c)
        f = run(D, run(G, torch.randn(m, cfg.z_dim, generator=gen)))
        lg = sp(-f).mean() if loss == "gan" else -f.mean()
        opt_g.zero_grad(set_to_none=True)
        lg.backward()
        opt_g.step()
    return n / (time.perf_counter() - t0)


def _alone(loss: str) -> tuple[float, float]:
    cfg = gan2d.default_config(loss, max_steps=STEPS)
    t0 = time.perf_counter()
    last = list(gan2d.train(cfg, 0))[-1]
    wall = time.perf_counter() - t0
    return last.step / last.seconds, last.step / wall


def _together() -> dict[str, float]:
    cfgs = {k: gan2d.default_config(k, max_steps=STEPS) for k in gan2d.LOSSES}
    t0 = time.perf_counter()
    last = list(gan2d.train_all(cfgs, 0))[-1]
    wall = time.perf_counter() - t0
    return {k: s.step / wall for k, s in last.items()}


def main() -> None:
    print(f"torch intra-op threads: {torch.get_num_threads()}; default snapshot every "
          f"{gan2d.default_config('gan').snapshot_every} G steps")
    gan2d.sample_w1(np.zeros((3, 2)), np.ones((3, 2)))          # warm-up: scipy import
    for loss in gan2d.LOSSES:
        ref = _torch_steps_per_s(loss)
        pure, wall = _alone(loss)
        print(f"{loss:8s} alone: {pure:6.0f} steps/s training (torch autograd {ref:5.0f}: ×{pure / ref:.1f}), "
              f"{wall:6.0f} with snapshots (target 200 → ratio {wall / 200:.2f}, ≥ 1 OK)")
    for loss, rate in _together().items():
        print(f"{loss:8s} three in lockstep: {rate:6.0f} steps/s wall (target 60 → ratio {rate / 60:.2f}, ≥ 1 OK)")


if __name__ == "__main__":
    main()
