r"""Adam / AdamW written out in torch, without `torch.optim`.

Why not `torch.optim.AdamW`: in torch 2.x every `torch.optim.Optimizer` constructor runs `add_param_group`, which is
wrapped by `torch._disable_dynamo` and imports `torch._dynamo` on its first call (about 140 MB of resident memory
per process, for a feature the app never uses). This module does the same arithmetic, in the same order as
`torch.optim.AdamW(foreach=False)` (tests compare the two step by step), and imports nothing beyond torch.

The update (Kingma & Ba 2015, Algorithm 1; decoupled weight decay: Loshchilov & Hutter 2019, Algorithm 2):

$$ \theta_t = \theta_{t-1} - \eta\lambda\theta_{t-1},\quad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
   v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 $$

$$ \theta_t \leftarrow \theta_t - \frac{\eta}{1-\beta_1^t}\,
   \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon} $$

With $\lambda = 0$ it is Adam (`torch.optim.Adam` with `weight_decay=0`).

References
----------
Kingma, Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1.
Loshchilov, Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2.
"""
from __future__ import annotations

import math
from typing import Iterable

import torch


class AdamW:
    """AdamW with `torch.optim.AdamW`'s argument names and defaults (`lr`, `betas`, `eps`, `weight_decay`).

    `lr` may be changed between steps (a schedule sets `opt.lr`). State: step count t, first and second moments
    per parameter. Parameters without a gradient are skipped (as in torch.optim)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps, self.weight_decay = float(lr), betas, float(eps), float(weight_decay)
        self.state = [None] * len(self.params)          # (t, m, v) per parameter, created on its first gradient

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.state[i] is None:
                self.state[i] = [0, torch.zeros_like(p), torch.zeros_like(p)]
            st = self.state[i]
            st[0] += 1
            t, m, v = st
            # θ ← θ − η λ θ (decoupled weight decay)
            if wd:
                p.mul_(1 - lr * wd)
            # m_t = β1 m + (1 − β1) g ; v_t = β2 v + (1 − β2) g²
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            # θ ← θ − η/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
            denom = (v.sqrt() / math.sqrt(1 - b2 ** t)).add_(eps)
            p.addcdiv_(m, denom, value=-lr / (1 - b1 ** t))


def Adam(params: Iterable[torch.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
         eps: float = 1e-8) -> AdamW:
    """Adam without weight decay (`torch.optim.Adam(weight_decay=0)`): AdamW with λ = 0."""
    return AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=0.0)
