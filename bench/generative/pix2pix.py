"""Pix2Pix (U-Net with / without skips) and CycleGAN training speed, steps per second, against a bare
forward+backward+Adam step of the U-Net measured in the same run, at default intra-op threads and at 1."""
from __future__ import annotations

import itertools
import time

import torch

from engine.generative import dcgan
from engine.generative import pix2pix as pp

STEPS = 100


def _bare(n: int = STEPS) -> float:
    G = pp.UNet()
    opt = torch.optim.Adam(G.parameters())
    x = torch.randn(32, 1, 8, 8)
    t0 = time.perf_counter()
    for _ in range(n):
        opt.zero_grad()
        G(x).mean().backward()
        opt.step()
    return n / (time.perf_counter() - t0)


def main() -> None:
    x = dcgan.load_digits_images()[0]
    default = torch.get_num_threads()
    for threads in (default, 1) if default > 1 else (1,):
        torch.set_num_threads(threads)   # separate process: a measurement condition
        print(f"torch intra-op threads: {threads}")
        ref = _bare()
        for skip in (True, False):
            s = list(itertools.islice(pp.train_pix2pix(pp.Pix2PixConfig(skip=skip, snapshot_every=STEPS), 0, x), 2))[-1]
            rate = s.step / s.seconds
            print(f"Pix2Pix skip={skip!s:5}: {rate:6.0f} steps/s (bare U-Net step {ref:6.0f}/s, ×{rate / ref:.2f})")
        s = list(itertools.islice(pp.train_cyclegan(pp.CycleConfig(snapshot_every=STEPS), 0), 2))[-1]
        print(f"CycleGAN:           {s.step / s.seconds:6.0f} steps/s (×{s.step / s.seconds / ref:.2f})")
    torch.set_num_threads(default)


if __name__ == "__main__":
    main()
