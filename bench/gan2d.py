"""Live 2-D training speed: generator steps per second per model, alone and with all three in lockstep.

Reference measured in the same run: one bare step of the same G+D pair (forward, backward, Adam; no loss
machinery, no snapshots), i.e. the floor a torch implementation of this network size cannot beat.
Targets from issue #8: ≥ 200 steps/s per model alone, ≥ 60 steps/s each with three side by side.
"""
from __future__ import annotations

import itertools
import time

import torch

from engine import gan2d

STEPS = 100


def _bare_steps_per_s(n: int = STEPS) -> float:
    gen = torch.Generator().manual_seed(0)
    cfg = gan2d.default_config("gan")
    G = gan2d.MLP([cfg.z_dim] + [cfg.hidden] * cfg.layers + [2], gen)
    D = gan2d.MLP([2] + [cfg.hidden] * cfg.layers + [1], gen)
    opt = torch.optim.Adam(G.params + D.params)
    t0 = time.perf_counter()
    for _ in range(n):
        out = D(G(torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)))
        opt.zero_grad()
        out.mean().backward()
        opt.step()
    return n / (time.perf_counter() - t0)


def _alone(loss: str) -> tuple[float, float]:
    cfg = gan2d.default_config(loss, snapshot_every=20, max_steps=STEPS)
    t0 = time.perf_counter()
    last = list(gan2d.train(cfg, 0))[-1]
    wall = time.perf_counter() - t0
    return last.step / last.seconds, last.step / wall


def _together() -> dict[str, float]:
    cfgs = {k: gan2d.default_config(k, snapshot_every=20, max_steps=STEPS) for k in gan2d.LOSSES}
    t0 = time.perf_counter()
    last = list(gan2d.train_all(cfgs, 0))[-1]
    wall = time.perf_counter() - t0
    return {k: s.step / wall for k, s in last.items()}


def main() -> None:
    default = torch.get_num_threads()
    for threads in (default, 1) if default > 1 else (1,):
        torch.set_num_threads(threads)   # bench runs in its own process: a measurement condition, not app code
        _report()
    torch.set_num_threads(default)


def _report() -> None:
    print(f"torch intra-op threads: {torch.get_num_threads()}")
    ref = _bare_steps_per_s()
    print(f"reference: bare G+D Adam step            {ref:8.0f} steps/s")
    for loss in gan2d.LOSSES:
        pure, wall = _alone(loss)
        print(f"{loss:8s} alone: {pure:6.0f} steps/s training, {wall:6.0f} with snapshots "
              f"(×{pure / ref:.2f} of reference; target 200 → ×{wall / 200:.2f})")
    for loss, rate in _together().items():
        print(f"{loss:8s} three in lockstep: {rate:6.0f} steps/s wall (target 60 → ×{rate / 60:.2f})")


if __name__ == "__main__":
    main()
