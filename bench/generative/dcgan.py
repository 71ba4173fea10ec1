"""DCGAN / CGAN live-training speed on the 8×8 digits: training steps per second (one D + one G step), against
a bare forward+backward+Adam step of the same generator measured in the same run, at the default number of
intra-op threads and at 1."""
from __future__ import annotations

import itertools
import time

import torch

from engine.generative import dcgan

STEPS = 100


def _bare(cfg: dcgan.Config, n: int = STEPS) -> float:
    G, _ = dcgan.build(cfg, 0)
    opt = torch.optim.Adam(G.parameters())
    gen = torch.Generator().manual_seed(0)
    y = torch.zeros(cfg.batch_size, dtype=torch.int64) if cfg.conditional else None
    t0 = time.perf_counter()
    for _ in range(n):
        out = G(torch.randn(cfg.batch_size, cfg.z_dim, generator=gen), y)
        opt.zero_grad()
        out.mean().backward()
        opt.step()
    return n / (time.perf_counter() - t0)


def main() -> None:
    data = dcgan.load_digits_images()
    default = torch.get_num_threads()
    for threads in (default, 1) if default > 1 else (1,):
        torch.set_num_threads(threads)   # separate process: a measurement condition
        print(f"torch intra-op threads: {threads}")
        for cond in (False, True):
            cfg = dcgan.Config(conditional=cond, snapshot_every=STEPS)
            ref = _bare(cfg)
            s = list(itertools.islice(dcgan.train(cfg, 0, data), 2))[-1]
            rate = s.step / s.seconds
            print(f"{'CGAN ' if cond else 'DCGAN'}: {rate:6.0f} steps/s (bare G step {ref:6.0f}/s, ratio ×{rate / ref:.2f})")
    torch.set_num_threads(default)


if __name__ == "__main__":
    main()
