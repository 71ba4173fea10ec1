r"""Optimisers racing on 2-D loss surfaces, learning-rate schedules, and the same optimisers training a small MLP on
real digits.

Every update rule is the one of `engine.common.optim` (the project's only NumPy implementation, proven equal to
`torch.optim` step by step there); this module adds the surfaces, the race, the schedules and the digits network.

Notation (E資格 / the course notes): η learning rate, $g = \nabla_\theta L$, μ momentum, h accumulated squared
gradient, ρ its decay (RMSProp), β₁, β₂ Adam's moment rates, ε the small constant, λ AdamW's weight decay.

References
----------
Rosenbrock, The Computer Journal 3(3), 1960 (the banana valley); Beale, 1958 (Beale's function);
Kingma & Ba, ICLR 2015; Loshchilov & Hutter, ICLR 2017 (SGDR, cosine schedule) and ICLR 2019 (AdamW);
Goyal et al. 2017 (linear warm-up).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from engine.common import optim
from engine.common.optim import OPTIMIZERS
from engine.common.mlp import mlp_accuracy, mlp_init, mlp_loss_grad  # noqa: F401  (O.mlp_* in its tests)

SURFACES = ("ill_conditioned", "rosenbrock", "saddle", "beale")
SCHEDULES = ("constant", "step", "cosine", "warmup")
DIVERGED = 1e6            # |θ| beyond this (or a non-finite value): the optimiser is stopped and marked diverged


# ---------------------------------------------------------------------------------------------- surfaces
@dataclass(frozen=True)
class Surface:
    """A 2-D loss f(x, y) with its gradient, the view drawn, a default start and the minimum value f*."""
    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float]       # one minimiser (x*, y*)
    f_min: float                       # f(x*, y*): the loss chart draws f − f*
    lr: float                          # a learning rate at which SGD converges from `start`


def _ill_f(x, y):
    # f(x, y) = x²/20 + y²  (curvatures 1/10 and 2: condition number 20)
    return x * x / 20 + y * y


def _ill_g(x, y):
    return x / 10, 2 * y


def _rosen_f(x, y):
    # f(x, y) = (1 − x)² + 100 (y − x²)²
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rosen_g(x, y):
    r = y - x * x
    return -2 * (1 - x) - 400 * x * r, 200 * r


def _saddle_f(x, y):
    # f(x, y) = x² − y² + y⁴/4: a saddle at the origin, minima at (0, ±√2) with f* = −1
    return x * x - y * y + y ** 4 / 4


def _saddle_g(x, y):
    return 2 * x, -2 * y + y ** 3


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y ** 3


def _beale_f(x, y):
    # f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²
    a, b, c = _beale_terms(x, y)
    return a * a + b * b + c * c


def _beale_g(x, y):
    a, b, c = _beale_terms(x, y)
    gx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1)
    gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y
    return gx, gy


SURFACE = {
    "ill_conditioned": Surface("ill_conditioned", _ill_f, _ill_g, (-10.0, 10.0), (-5.0, 5.0), (-7.0, 2.0),
                               (0.0, 0.0), 0.0, 0.6),      # η = 0.6: SGD zig-zags along y (1 − 2η < 0); Nesterov holds (2η < 3.8/2.8)
    "rosenbrock": Surface("rosenbrock", _rosen_f, _rosen_g, (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.0),
                          (1.0, 1.0), 0.0, 1e-3),
    "saddle": Surface("saddle", _saddle_f, _saddle_g, (-3.0, 3.0), (-3.0, 3.0), (2.5, 0.001),
                      (0.0, math.sqrt(2.0)), -1.0, 0.05),
    "beale": Surface("beale", _beale_f, _beale_g, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5),
                     (3.0, 0.5), 0.0, 3e-3),
}


def surface_grid(name: str, n: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs (n,), ys (n,), f − f* on the grid (n, n) [row = y, col = x]) for the contour."""
    s = SURFACE[name]
    xs = np.linspace(*s.x_range, n)
    ys = np.linspace(*s.y_range, n)
    X, Y = np.meshgrid(xs, ys)                                          # (n, n)
    return xs, ys, s.f(X, Y) - s.f_min


# --------------------------------------------------------------------------------------------- schedules
def scheduled_lr(schedule: str, lr: float, step: int, total: int, *, step_size: int = 0, gamma: float = 0.5,
                 warmup: int = 0) -> float:
    r"""The learning rate used for update `step + 1` after `step` updates (what `torch.optim.lr_scheduler`
    gives after `step` calls of `scheduler.step()`).

    - constant: $\eta_t = \eta$
    - step (`StepLR(step_size, gamma)`): $\eta_t = \eta\,\gamma^{\lfloor t / s \rfloor}$
    - cosine (`CosineAnnealingLR(T_max=total)`, η_min = 0): $\eta_t = \frac{\eta}{2}\bigl(1 + \cos\frac{\pi t}{T}\bigr)$
    - warmup (`LinearLR(start_factor=1/W, total_iters=W)` then `CosineAnnealingLR(T_max=total − W)`, chained by
      `SequentialLR`): $\eta_t = \eta\,\bigl(\tfrac1W + (1 - \tfrac1W)\tfrac tW\bigr)$ for $t < W$, then the cosine
      over the remaining $T - W$ steps.

    `step_size` 0 means total // 4 and `warmup` 0 means total // 10."""
    t = int(step)
    if schedule == "constant":
        return lr
    if schedule == "step":
        s = step_size or max(1, total // 4)
        # η_t = η γ^⌊t/s⌋
        return lr * gamma ** (t // s)
    if schedule == "cosine":
        # η_t = η (1 + cos(π t / T)) / 2, periodic beyond T as torch's closed form
        return lr * (1 + math.cos(math.pi * t / total)) / 2
    if schedule == "warmup":
        w = warmup or max(1, total // 10)
        if t < w:
            # linear warm-up from η/W to η
            start = 1 / w
            return lr * (start + (1 - start) * t / w)
        # cosine decay over the remaining steps
        return lr * (1 + math.cos(math.pi * (t - w) / max(1, total - w))) / 2
    raise ValueError(f"unknown schedule {schedule!r}")


# ------------------------------------------------------------------------------------------------ the race
@dataclass(frozen=True)
class RaceConfig:
    surface: str = "rosenbrock"
    x0: float | None = None          # start; None: the surface's default
    y0: float | None = None
    lr: float | None = None          # η shared by every optimiser; None: the surface's default
    momentum: float = 0.9            # μ of Momentum and Nesterov
    rho: float = 0.9                 # ρ of RMSProp (torch: alpha)
    beta1: float = 0.9               # β₁ of Adam(W)
    beta2: float = 0.999             # β₂ of Adam(W)
    eps: float = 1e-8                # ε of AdaGrad, RMSProp, Adam(W)
    weight_decay: float = 0.01       # λ of AdamW
    schedule: str = "constant"
    steps: int = 1000                # updates in all
    every: int = 25                  # updates between two snapshots
    optimizers: tuple[str, ...] = OPTIMIZERS


def resolved(cfg: RaceConfig) -> RaceConfig:
    """The config with the surface's defaults filled in (start and η)."""
    s = SURFACE[cfg.surface]
    return RaceConfig(**{**cfg.__dict__, "x0": s.start[0] if cfg.x0 is None else float(cfg.x0),
                         "y0": s.start[1] if cfg.y0 is None else float(cfg.y0),
                         "lr": s.lr if cfg.lr is None else float(cfg.lr)})


@dataclass(frozen=True)
class RaceSnapshot:
    step: int                        # updates done by every optimiser
    names: tuple[str, ...]           # (K,) optimisers
    path: np.ndarray                 # (K, step + 1, 2) θ after each update (row 0: the start)
    loss: np.ndarray                 # (K, step + 1) f(θ) − f*
    eff_lr: np.ndarray               # (K, step + 1, 2) effective learning rate of x and y (row 0: η)
    lr: np.ndarray                   # (step + 1,) scheduled η used for the next update
    diverged: np.ndarray             # (K,) bool, stopped where |θ| left the plane or became non-finite
    surface: str
    metrics: dict = field(default_factory=dict)   # {name: f − f*}
    seconds: float = 0.0


def race(cfg: RaceConfig) -> Iterator[RaceSnapshot]:
    """Every optimiser of `cfg.optimizers` from one start on one surface, `cfg.every` updates per snapshot.

    The update of each optimiser is `engine.common.optim`'s; the gradient is the surface's closed form. All
    optimisers share one η (scheduled); an optimiser whose θ leaves |θ| < 10⁶ stops there (marked diverged).
    Snapshots hold read-only views of buffers written only beyond their length, so they never change later."""
    cfg = resolved(cfg)
    s = SURFACE[cfg.surface]
    names = tuple(cfg.optimizers)
    K, T = len(names), int(cfg.steps)
    path = np.empty((K, T + 1, 2))                                     # (K, T + 1, 2)
    loss = np.empty((K, T + 1))                                        # (K, T + 1)
    eff = np.empty((K, T + 1, 2))                                      # (K, T + 1, 2)
    lrs = np.array([scheduled_lr(cfg.schedule, cfg.lr, t, T) for t in range(T + 1)])   # (T + 1,)
    thetas = [np.array([cfg.x0, cfg.y0], dtype=float) for _ in names]  # K × (2,)
    opts = [optim.numpy_optimizer(n, th, lr=cfg.lr, momentum=cfg.momentum, rho=cfg.rho,
                                  betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, weight_decay=cfg.weight_decay)
            for n, th in zip(names, thetas)]
    alive = np.ones(K, dtype=bool)
    path[:, 0] = [cfg.x0, cfg.y0]
    loss[:, 0] = s.f(cfg.x0, cfg.y0) - s.f_min
    eff[:, 0] = cfg.lr
    t0 = time.perf_counter()
    done = 0

    def snapshot() -> RaceSnapshot:
        views = [a[:, :done + 1] for a in (path, loss, eff)]
        for v in views:
            v.flags.writeable = False
        lr_view = lrs[:done + 1]
        lr_view.flags.writeable = False
        return RaceSnapshot(done, names, *views, lr_view, ~alive.copy(), cfg.surface,
                            {n: float(loss[k, done]) for k, n in enumerate(names)}, time.perf_counter() - t0)

    yield snapshot()
    grad = s.grad
    while done < T:
        stop = min(T, done + cfg.every)
        for t in range(done, stop):
            lr = lrs[t]
            for k, (opt, th) in enumerate(zip(opts, thetas)):
                if alive[k]:
                    gx, gy = grad(th[0], th[1])
                    opt.lr = lr
                    opt.step(np.array([gx, gy]))
                    if not (abs(th[0]) < DIVERGED and abs(th[1]) < DIVERGED):   # also catches nan
                        alive[k] = False
                        th[:] = path[k, t]
                if alive[k]:
                    e = opt.effective_lr()[0]
                else:
                    e = eff[k, t]
                path[k, t + 1] = th
                eff[k, t + 1] = e
            loss[:, t + 1] = s.f(path[:, t + 1, 0], path[:, t + 1, 1]) - s.f_min
        done = stop
        yield snapshot()


# ---------------------------------------------------------------------------------------------- digits MLP
@dataclass(frozen=True)
class DigitsConfig:
    lr: float = 0.01                 # η shared by every optimiser
    momentum: float = 0.9
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.01
    schedule: str = "constant"
    hidden: int = 32                 # units of the one hidden ReLU layer
    batch: int = 64                  # minibatch size
    steps: int = 600                 # updates in all
    every: int = 20                  # updates between two snapshots
    seed: int = 0
    optimizers: tuple[str, ...] = OPTIMIZERS


N_TEST = 1000                        # digits held out (100 per class) for the accuracy


def digits_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST 5k at 14×14 in [0, 1], 1 000 held-out digits chosen by `seed` (engine/common/digits.py `mnist_14`)."""
    from engine.common import digits
    return digits.mnist_14(seed, N_TEST)


@dataclass(frozen=True)
class DigitsSnapshot:
    step: int
    names: tuple[str, ...]
    steps: np.ndarray                # (S,) update counts of the recorded points
    train_loss: np.ndarray           # (K, S) mean minibatch loss since the previous point (step 0: full train set)
    test_acc: np.ndarray             # (K, S) accuracy on the held-out digits
    lr: float                        # η of the next update
    metrics: dict = field(default_factory=dict)    # {"<name>.loss", "<name>.acc"}
    seconds: float = 0.0


def train_digits(cfg: DigitsConfig) -> Iterator[DigitsSnapshot]:
    """Every optimiser trains its own copy of one MLP (196 → hidden → 10, the same He initialisation) on the same
    minibatches of real digits; a snapshot every `cfg.every` updates with the loss and the test accuracy."""
    x_tr, y_tr, x_te, y_te = digits_data(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    init = mlp_init((196, cfg.hidden, 10), rng)
    names = tuple(cfg.optimizers)
    nets = [[p.copy() for p in init] for _ in names]
    opts = [optim.numpy_optimizer(n, net, lr=cfg.lr, momentum=cfg.momentum, rho=cfg.rho,
                                  betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, weight_decay=cfg.weight_decay)
            for n, net in zip(names, nets)]
    K = len(names)
    S = cfg.steps // cfg.every + 2
    steps = np.zeros(S, dtype=np.int64)
    losses, accs = np.empty((K, S)), np.empty((K, S))
    full_loss = mlp_loss_grad(init, x_tr, y_tr)[0]
    losses[:, 0] = full_loss
    accs[:, 0] = mlp_accuracy(init, x_te, y_te)
    n_pts, done = 1, 0
    t0 = time.perf_counter()

    def snapshot() -> DigitsSnapshot:
        views = [steps[:n_pts], losses[:, :n_pts], accs[:, :n_pts]]
        for v in views:
            v.flags.writeable = False
        metrics = {}
        for k, n in enumerate(names):
            metrics[f"{n}.loss"] = float(losses[k, n_pts - 1])
            metrics[f"{n}.acc"] = float(accs[k, n_pts - 1])
        return DigitsSnapshot(done, names, *views, scheduled_lr(cfg.schedule, cfg.lr, done, cfg.steps), metrics,
                              time.perf_counter() - t0)

    yield snapshot()
    order = rng.permutation(len(y_tr))
    pos = 0
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        acc_loss = np.zeros(K)
        for t in range(done, stop):
            if pos + cfg.batch > len(order):
                order, pos = rng.permutation(len(y_tr)), 0
            idx = order[pos:pos + cfg.batch]
            pos += cfg.batch
            xb, yb = x_tr[idx], y_tr[idx]
            lr = scheduled_lr(cfg.schedule, cfg.lr, t, cfg.steps)
            for k in range(K):
                loss, grads = mlp_loss_grad(nets[k], xb, yb)
                opts[k].lr = lr
                opts[k].step(grads)
                acc_loss[k] += loss
        steps[n_pts] = stop
        losses[:, n_pts] = acc_loss / (stop - done)
        accs[:, n_pts] = [mlp_accuracy(net, x_te, y_te) for net in nets]
        n_pts += 1
        done = stop
        yield snapshot()
