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
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:                 # torch is imported where a torch optimiser is made: the NumPy ones never pay for it
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

    def step(self) -> None:
        import torch
        with torch.no_grad():
            self._step()

    def _step(self) -> None:
        b1, b2 = self.betas
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.state[i] is None:
                self.state[i] = [0, p.new_zeros(p.shape), p.new_zeros(p.shape)]
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


# ================================================================================================ NumPy
r"""The NumPy optimisers: the one implementation of SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW that
every NumPy engine uses (the optimiser chapter's race and digits network, the 2-D GAN, A2C/A3C).

Each optimiser holds a list of parameter arrays and updates them **in place**: `opt.step(grads)` with one gradient
per parameter (a single array is accepted where there is one parameter). `opt.lr` may be changed between steps (a
schedule sets it). The arithmetic follows `torch.optim` (`foreach=False`) with `dampening=0`, operation by
operation where it matters (where ε is added, when the bias correction is applied); tests compare every rule with
`torch.optim` step by step. Notation of the E資格 / the course notes: learning rate η, gradient
$g = \nabla_\theta L$, momentum (velocity) $v$, accumulated squared gradient $h$, decay rate ρ, moments $m, v$ with
rates β₁, β₂, the small constant ε, weight decay λ.

| name | rule (exam notation) | torch |
|---|---|---|
| SGD | $\theta \leftarrow \theta - \eta g$ | `SGD(lr)` |
| Momentum | $v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta v$ (= $v \leftarrow \alpha v - \eta g,\ \theta \leftarrow \theta + v$ for a constant η) | `SGD(lr, momentum)` |
| Nesterov | $v \leftarrow \mu v + g,\ \theta \leftarrow \theta - \eta (g + \mu v)$ | `SGD(lr, momentum, nesterov=True)` |
| AdaGrad | $h \leftarrow h + g \odot g,\ \theta \leftarrow \theta - \eta\, g / (\sqrt{h} + \epsilon)$ | `Adagrad(lr, eps)` |
| RMSProp | $h \leftarrow \rho h + (1-\rho) g \odot g,\ \theta \leftarrow \theta - \eta\, g / (\sqrt{h} + \epsilon)$ | `RMSprop(lr, alpha=ρ, eps)` |
| Adam | $m \leftarrow \beta_1 m + (1-\beta_1) g,\ v \leftarrow \beta_2 v + (1-\beta_2) g^2,\ \hat m = m/(1-\beta_1^t),\ \hat v = v/(1-\beta_2^t),\ \theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$ | `Adam(lr, betas, eps)` |
| AdamW | $\theta \leftarrow \theta - \eta\lambda\theta$, then Adam | `AdamW(lr, betas, eps, weight_decay=λ)` |

References
----------
Polyak 1964 (momentum); Nesterov 1983 / Sutskever et al., ICML 2013, Eq. 3-4 (torch's form); Duchi et al., JMLR
2011 (AdaGrad); Tieleman & Hinton, Lecture 6.5, 2012 (RMSProp); Kingma & Ba, ICLR 2015, Algorithm 1 (Adam);
Loshchilov & Hutter, ICLR 2019, Algorithm 2 (AdamW).
"""

import numpy as np  # noqa: E402


class NumpyOptimizer:
    """Base of the NumPy optimisers: `params` (arrays updated in place), `lr`, the step count `t`."""

    def __init__(self, params, lr: float):
        self.params = [params] if isinstance(params, np.ndarray) else list(params)
        self.lr = float(lr)
        self.t = 0

    def _grads(self, grads) -> list:
        return [grads] if isinstance(grads, np.ndarray) else list(grads)

    def step(self, grads) -> None:
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, self._grads(grads))):
            self._update(i, p, g)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def effective_lr(self) -> list:
        """Per parameter element, the step length that multiplies the (corrected) direction g, v or m̂:
        η for SGD and the momentum methods, η/(√h + ε) for AdaGrad and RMSProp, η/(√v̂ + ε) for Adam(W)."""
        return [np.full_like(p, self.lr) for p in self.params]


class SGD(NumpyOptimizer):
    r"""SGD, Momentum and Nesterov as `torch.optim.SGD(lr, momentum, dampening=0, nesterov, weight_decay)`.

    $$ g \leftarrow g + \lambda\theta \quad(\text{L2, only when } \lambda > 0) $$
    $$ v \leftarrow \mu v + g \quad (v_1 = g_1), \qquad
       \theta \leftarrow \theta - \eta v \ \ (\text{Momentum}), \quad
       \theta \leftarrow \theta - \eta (g + \mu v) \ \ (\text{Nesterov}) $$

    With μ = 0 it is plain SGD, $\theta \leftarrow \theta - \eta g$. The exam writes Momentum as
    $v \leftarrow \alpha v - \eta g,\ \theta \leftarrow \theta + v$: the same steps while η is constant
    ($v_{\text{exam}} = -\eta v$)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)
        self.v = [None] * len(self.params)

    def _update(self, i, p, g):
        if self.weight_decay:
            # g ← g + λθ
            g = g + self.weight_decay * p
        mu = self.momentum
        if mu:
            if self.v[i] is None:
                # v_1 = g_1 (torch keeps a clone of the first gradient)
                self.v[i] = g.copy()
            else:
                # v ← μ v + g
                self.v[i] *= mu
                self.v[i] += g
            # Nesterov: the step looks ahead, g + μ v ; Momentum: v
            g = g + mu * self.v[i] if self.nesterov else self.v[i]
        # θ ← θ − η g
        p -= self.lr * g


class AdaGrad(NumpyOptimizer):
    r"""AdaGrad as `torch.optim.Adagrad(lr, eps, lr_decay=0, initial_accumulator_value=0)`.

    $$ h \leftarrow h + g \odot g, \qquad \theta \leftarrow \theta - \eta \frac{g}{\sqrt{h} + \epsilon} $$

    h only grows, so the effective learning rate η/(√h + ε) only shrinks (Duchi et al. 2011)."""

    def __init__(self, params, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.h = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        h = self.h[i]
        # h ← h + g ⊙ g
        h += g * g
        # θ ← θ − η g / (√h + ε)
        p -= self.lr * (g / (np.sqrt(h) + self.eps))

    def effective_lr(self):
        return [self.lr / (np.sqrt(h) + self.eps) for h in self.h]


class RMSProp(NumpyOptimizer):
    r"""RMSProp as `torch.optim.RMSprop(lr, alpha=ρ, eps, momentum=0, centered=False)`.

    $$ h \leftarrow \rho h + (1 - \rho)\, g \odot g, \qquad \theta \leftarrow \theta - \eta \frac{g}{\sqrt{h} + \epsilon} $$

    torch calls ρ `alpha` (default 0.99); the exam and Hinton's lecture use ρ (often 0.9)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.h = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        h, rho = self.h[i], self.alpha
        # h ← ρ h + (1 − ρ) g ⊙ g
        h *= rho
        h += (1 - rho) * g * g
        # θ ← θ − η g / (√h + ε)
        p -= self.lr * g / (np.sqrt(h) + self.eps)

    def effective_lr(self):
        return [self.lr / (np.sqrt(h) + self.eps) for h in self.h]


class NumpyAdam(NumpyOptimizer):
    r"""Adam and AdamW as `torch.optim.Adam` / `torch.optim.AdamW` (`amsgrad=False`).

    $$ m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2)\, g \odot g $$
    $$ \hat m = \frac{m}{1-\beta_1^t}, \quad \hat v = \frac{v}{1-\beta_2^t}, \qquad
       \theta \leftarrow \theta - \eta \frac{\hat m}{\sqrt{\hat v} + \epsilon} $$

    ε is added *outside* the square root, after the bias correction of v (torch:
    `denom = sqrt(v) / sqrt(1 − β₂ᵗ) + ε`, step `η/(1 − β₁ᵗ)`). Weight decay λ: with `decoupled=False` (Adam) it is
    L2, $g \leftarrow g + \lambda\theta$, which the adaptive denominator then rescales; with `decoupled=True`
    (AdamW, Loshchilov & Hutter 2019) the parameters shrink first, $\theta \leftarrow \theta - \eta\lambda\theta$,
    independent of the gradient statistics."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False):
        super().__init__(params, lr)
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)
        self.weight_decay, self.decoupled = float(weight_decay), bool(decoupled)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        b1, b2 = self.betas
        lr, wd, t = self.lr, self.weight_decay, self.t
        if wd and self.decoupled:
            # AdamW: θ ← θ − η λ θ
            p *= 1 - lr * wd
        elif wd:
            # Adam + L2: g ← g + λ θ
            g = g + wd * p
        m, v = self.m[i], self.v[i]
        # m ← β1 m + (1 − β1) g
        m *= b1
        m += (1 - b1) * g
        # v ← β2 v + (1 − β2) g²
        v *= b2
        v += (1 - b2) * g * g
        # θ ← θ − η/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε)   (= θ − η m̂ / (√v̂ + ε))
        denom = np.sqrt(v)
        denom /= np.sqrt(1 - b2 ** t)       # a float64 scalar, as the GAN's float32 Adam always divided by
        denom += self.eps
        p -= (lr / (1 - b1 ** t)) * m / denom

    def effective_lr(self):
        if self.t == 0:
            return super().effective_lr()
        c2 = math.sqrt(1 - self.betas[1] ** self.t)
        return [self.lr / (np.sqrt(v) / c2 + self.eps) for v in self.v]


def NumpyAdamW(params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
               weight_decay: float = 1e-2) -> NumpyAdam:
    """AdamW (decoupled weight decay), `torch.optim.AdamW`'s defaults."""
    return NumpyAdam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=True)


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def numpy_optimizer(name: str, params, *, lr: float, momentum: float = 0.9, rho: float = 0.9,
                    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                    weight_decay: float = 1e-2) -> NumpyOptimizer:
    """One of `OPTIMIZERS` by name, with the exam's hyper-parameters: μ (momentum), ρ (RMSProp's decay), β₁, β₂,
    ε (every adaptive method), λ (AdamW only)."""
    if name == "sgd":
        return SGD(params, lr)
    if name in ("momentum", "nesterov"):
        return SGD(params, lr, momentum=momentum, nesterov=name == "nesterov")
    if name == "adagrad":
        return AdaGrad(params, lr, eps=eps)
    if name == "rmsprop":
        return RMSProp(params, lr, alpha=rho, eps=eps)
    if name == "adam":
        return NumpyAdam(params, lr, betas=betas, eps=eps)
    if name == "adamw":
        return NumpyAdamW(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)
    raise ValueError(f"unknown optimiser {name!r}")
