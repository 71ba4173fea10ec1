r"""MAML, first-order MAML and Reptile: the exact meta-gradient on two-parameter tasks, and few-shot sinusoid
regression trained live.

Inner loop (per task, on its *support* set) and outer loop (on its *query* set):

$$\theta_i'=\theta-\alpha\nabla_\theta\mathcal L^{\mathrm{s}}_{T_i}(f_\theta),\qquad
\theta\leftarrow\theta-\beta\nabla_\theta\sum_i\mathcal L^{\mathrm{q}}_{T_i}(f_{\theta_i'})$$

References
----------
C. Finn, P. Abbeel, S. Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks", ICML 2017
(arXiv:1703.03400), Algorithm 2 (few-shot supervised learning), Eq. 1 (inner step), Sec. 5.1 (sinusoids).
A. Nichol, J. Achiam, J. Schulman, "On First-Order Meta-Learning Algorithms" (Reptile), arXiv:1803.02999, Alg. 1.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np

from engine.common import optim

TASK_KINDS = ("quadratic", "linreg")
METHODS = ("maml", "fomaml", "reptile", "pretrain")
AMPLITUDE = (0.1, 5.0)          # Finn et al. Sec. 5.1
PHASE = (0.0, np.pi)
X_RANGE = (-5.0, 5.0)
DIVERGED_LOSS = 1e4             # a query MSE above this (or non-finite) stops training as "diverged"


# ============================================================================ the two-parameter meta-gradient
@dataclass(frozen=True)
class Task2D:
    r"""A task whose support and query losses are quadratic in $\theta\in\mathbb R^2$:
    $\mathcal L(\theta)=\tfrac12(\theta-c)^\top A(\theta-c)+e$."""

    A_s: np.ndarray   # (2, 2) support Hessian
    c_s: np.ndarray   # (2,) support minimiser
    e_s: float        # support loss at its minimiser
    A_q: np.ndarray   # (2, 2) query Hessian
    c_q: np.ndarray   # (2,) query minimiser
    e_q: float


def _quad(A: np.ndarray, c: np.ndarray, e: float, theta: np.ndarray) -> np.ndarray:
    d = theta - c                                                # (..., 2)
    # L = ½ (θ−c)ᵀ A (θ−c) + e
    return 0.5 * np.einsum("...i,ij,...j->...", d, A, d) + e


def _mse_as_quadratic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean squared error of the line θ₀x + θ₁ on (x, y) written as (A, c, e)."""
    phi = np.stack([x, np.ones_like(x)], 1)                      # (n, 2)
    A = 2.0 / len(x) * phi.T @ phi                               # A = (2/n) ΦᵀΦ, the Hessian of the MSE
    c = np.linalg.pinv(phi) @ y                                  # least squares (min-norm when K = 1)
    e = float(np.mean((phi @ c - y) ** 2))
    return A, c, e


def make_tasks_2d(kind: str, n_tasks: int, rng: np.random.Generator, K: int = 5, noise: float = 0.3) -> list[Task2D]:
    r"""Random two-parameter tasks.

    ``quadratic``: $\mathcal L_i(\theta)=\tfrac12(\theta-c_i)^\top A_i(\theta-c_i)$ with a random symmetric positive
    definite $A_i$; support and query losses are the same. ``linreg``: fit a line $y=\theta_0x+\theta_1$ to a task
    $y=a_ix+b_i+\varepsilon$; the support set has $K$ points and the query set 20 fresh points of the same task."""
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown task kind {kind!r}")
    tasks = []
    for _ in range(n_tasks):
        if kind == "quadratic":
            q, _ = np.linalg.qr(rng.standard_normal((2, 2)))
            A = q @ np.diag(rng.uniform(0.3, 2.0, 2)) @ q.T      # (2, 2) SPD, eigenvalues in [0.3, 2]
            c = rng.uniform(-2, 2, 2)
            tasks.append(Task2D(A, c, 0.0, A, c, 0.0))
        else:
            a, b = rng.uniform(-2, 2, 2)
            xs, xq = rng.uniform(-1.5, 1.5, K), rng.uniform(-1.5, 1.5, 20)
            s = _mse_as_quadratic(xs, a * xs + b + noise * rng.standard_normal(K))
            q = _mse_as_quadratic(xq, a * xq + b + noise * rng.standard_normal(20))
            tasks.append(Task2D(*s, *q))
    return tasks


def adapt_2d(task: Task2D, theta: np.ndarray, alpha: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    r"""$\theta'$ after `steps` gradient steps on the support loss, and its Jacobian
    $\partial\theta'/\partial\theta=(I-\alpha A^{\mathrm s})^{\text{steps}}$ (the Hessian is constant here).

    Returns θ′ (..., 2) and J (2, 2)."""
    theta = np.asarray(theta, float)
    step = np.eye(2) - alpha * task.A_s                          # (2, 2)
    for _ in range(steps):
        # θ ← θ − α A(θ − c)
        theta = task.c_s + (theta - task.c_s) @ step.T
    return theta, np.linalg.matrix_power(step, steps)


def meta_objective_2d(tasks: Sequence[Task2D], theta: np.ndarray, alpha: float, steps: int) -> np.ndarray:
    r"""$F(\theta)=\frac1n\sum_i\mathcal L^{\mathrm q}_i(\theta_i')$ at θ (..., 2) → (...)."""
    return np.mean([_quad(t.A_q, t.c_q, t.e_q, adapt_2d(t, theta, alpha, steps)[0]) for t in tasks], 0)


@dataclass(frozen=True)
class MetaGrad2D:
    """Everything the two-parameter section draws. Gradients are means over tasks."""

    theta: np.ndarray          # (2,)
    theta_prime: np.ndarray    # (n, 2) θ′ per task
    maml: np.ndarray           # (2,) ∇F, the exact MAML meta-gradient
    first_order: np.ndarray    # (2,) mean ∇L_q(θ′): FOMAML's direction
    hessian_term: np.ndarray   # (2,) maml − first_order: what the (I − αA) factor adds
    reptile: np.ndarray        # (2,) mean (θ − θ′): Reptile's direction
    fd: np.ndarray             # (2,) central finite differences of F
    fd_error: float            # max |maml − fd|
    contraction: float         # max |eigenvalue of I − αA_s| over tasks (> 1: the inner step diverges)
    grid: np.ndarray           # (G,) axis of the landscape
    landscape: np.ndarray      # (G, G) F on the grid, [row = θ₂, col = θ₁]
    plain: np.ndarray          # (G, G) mean support loss before adaptation
    steps: int

    @property
    def diverged(self) -> bool:
        return self.contraction > 1.0


def meta_gradient_2d(tasks: Sequence[Task2D], theta: np.ndarray, alpha: float, steps: int = 1,
                     grid: int = 41, lim: float = 4.0, h: float = 1e-5) -> MetaGrad2D:
    r"""The exact MAML meta-gradient on quadratic tasks, split into FOMAML's part and the Hessian term.

    $$\nabla_\theta F=\frac1n\sum_i\big(I-\alpha A^{\mathrm s}_i\big)^{k\top}A^{\mathrm q}_i(\theta_i'-c^{\mathrm q}_i),
    \qquad \nabla^{\mathrm{FO}}=\frac1n\sum_iA^{\mathrm q}_i(\theta_i'-c^{\mathrm q}_i)$$

    (chain rule through $k$ inner steps; for $k=1$ and the same support/query loss this is
    $(I-\alpha A)A(\theta'-c)$). Reptile's direction is $\frac1n\sum_i(\theta-\theta_i')$. Also returns central
    finite differences of $F$, the landscape of $F$ and the plain average loss on a grid.

    References: Finn et al. 2017, Eq. 1 and Sec. 2.2 (the first-order approximation); Nichol et al. 2018, Alg. 1."""
    theta = np.asarray(theta, float)
    tp, maml, fo = [], np.zeros(2), np.zeros(2)
    for t in tasks:
        th_p, J = adapt_2d(t, theta, alpha, steps)
        g_q = t.A_q @ (th_p - t.c_q)                             # ∇L_q(θ′)
        tp.append(th_p)
        fo += g_q / len(tasks)
        # ∇F = Jᵀ ∇L_q(θ′),  J = (I − αA_s)^k
        maml += J.T @ g_q / len(tasks)
    tp = np.array(tp)                                            # (n, 2)
    F = lambda th: float(meta_objective_2d(tasks, th, alpha, steps))
    fd = np.array([(F(theta + h * e) - F(theta - h * e)) / (2 * h) for e in np.eye(2)])
    axis = np.linspace(-lim, lim, grid)
    mesh = np.stack(np.meshgrid(axis, axis), -1)                 # (G, G, 2), [θ₂, θ₁]
    land = meta_objective_2d(tasks, mesh, alpha, steps)
    plain = np.mean([_quad(t.A_s, t.c_s, t.e_s, mesh) for t in tasks], 0)
    contraction = max(float(np.max(np.abs(np.linalg.eigvals(np.eye(2) - alpha * t.A_s)))) for t in tasks)
    return MetaGrad2D(theta, tp, maml, fo, maml - fo, theta - tp.mean(0), fd, float(np.max(np.abs(maml - fd))),
                      contraction, axis, land, plain, steps)


# ============================================================================ inner loop (torch, any model)
def inner_loop(params: list, loss_fn: Callable, alpha: float, steps: int, first_order: bool = False) -> list:
    r"""`steps` gradient steps $\theta'=\theta-\alpha\nabla_\theta\mathcal L(\theta)$ that stay differentiable in
    θ (``torch.autograd.grad(create_graph=True)``), or first-order (the inner gradients are treated as constants,
    so $\partial\theta'/\partial\theta=I$: FOMAML).

    `params` may be batched over tasks (a leading task axis, e.g. ``p.expand(T, ...)``): `loss_fn` returns the sum
    of the task losses, so each task's slice of the gradient is that task's own gradient."""
    import torch

    for _ in range(steps):
        grads = torch.autograd.grad(loss_fn(params), params, create_graph=not first_order)
        # θ′ = θ − α ∇L(θ)
        params = [p - alpha * (g.detach() if first_order else g) for p, g in zip(params, grads)]
    return params


# ============================================================================ sinusoid regression
@dataclass(frozen=True)
class SineConfig:
    alpha: float = 0.01           # inner learning rate (Finn et al.: 0.01)
    beta: float = 0.001           # outer learning rate, Adam (Finn et al.: 0.001)
    K: int = 10                   # support points per task (K-shot)
    n_query: int = 10             # query points per task, drawn apart from the support set
    inner_steps: int = 1          # gradient steps in the inner loop
    meta_batch: int = 10          # tasks per meta-iteration (Finn et al.: 25)
    hidden: int = 40              # two hidden layers of 40 ReLU units (Finn et al.)
    max_steps: int = 2000         # meta-iterations
    snapshot_every: int = 25
    n_eval: int = 20              # fixed evaluation tasks for the curve
    seed: int = 0


def validate(cfg: SineConfig) -> None:
    """Raise ValueError with a reason for a configuration that cannot train."""
    if cfg.K < 1:
        raise ValueError("K must be at least 1")
    if cfg.inner_steps < 0:
        raise ValueError("inner steps must be ≥ 0")
    if not (cfg.alpha >= 0 and cfg.beta > 0):
        raise ValueError("α must be ≥ 0 and β > 0")


def init_params(hidden: int, seed: int) -> list:
    """MLP 1 → hidden → hidden → 1 weights, PyTorch's default Linear init drawn from a local generator."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out = []
    for fan_in, fan_out in ((1, hidden), (hidden, hidden), (hidden, 1)):
        bound = 1.0 / np.sqrt(fan_in)
        out.append((torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound)   # (in, out)
        out.append((torch.rand(fan_out, generator=g) * 2 - 1) * bound)           # (out,)
    return out


def forward(params: list, x):
    """f_θ(x) for x (T, N, 1) and params batched (T, ...) or shared (...) → (T, N, 1)."""
    import torch

    W1, b1, W2, b2, W3, b3 = params
    mm = lambda h, W: torch.matmul(h, W)                         # (T, N, in) @ (T, in, out) or (in, out)
    unsq = lambda b: b.unsqueeze(-2)                             # (T, 1, out) or (1, out)
    h = torch.relu(mm(x, W1) + unsq(b1))                         # (T, N, H)
    h = torch.relu(mm(h, W2) + unsq(b2))                         # (T, N, H)
    return mm(h, W3) + unsq(b3)                                  # (T, N, 1)


def sample_sine_tasks(rng: np.random.Generator, T: int, K: int, n_query: int):
    """T tasks y = A sin(x − φ), A ~ U(0.1, 5), φ ~ U(0, π), x ~ U(−5, 5): support (T, K, 1) and query (T, Q, 1)."""
    amp = rng.uniform(*AMPLITUDE, T)[:, None, None]
    phase = rng.uniform(*PHASE, T)[:, None, None]
    xs = rng.uniform(*X_RANGE, (T, K, 1))
    xq = rng.uniform(*X_RANGE, (T, n_query, 1))
    f = lambda x: amp * np.sin(x - phase)
    return xs, f(xs), xq, f(xq), amp[:, 0, 0], phase[:, 0, 0]


def _mse_sum(params, x, y):
    return ((forward(params, x) - y) ** 2).mean((1, 2)).sum()   # Σ_tasks MSE


@dataclass(frozen=True)
class SineSnapshot:
    step: int
    method: str
    params: tuple              # six float32 arrays: the current initialisation θ
    metrics: dict = field(default_factory=dict)   # {"query_mse": mean query MSE after adaptation on eval tasks}
    diverged: bool = False
    seconds: float = 0.0


def _t(arrays):
    import torch
    return [torch.as_tensor(a, dtype=torch.float32) for a in arrays]


def evaluate(params: list, tasks: tuple, alpha: float, steps: int) -> float:
    """Mean query MSE after `steps` SGD steps of size α on each task's support set (no meta-graph)."""
    import torch

    xs, ys, xq, yq = _t(tasks[:4])
    T = xs.shape[0]
    p = [q.detach().expand(T, *q.shape).clone().requires_grad_(True) for q in params]
    with torch.enable_grad():
        p = inner_loop(p, lambda pp: _mse_sum(pp, xs, ys), alpha, steps, first_order=True)
    with torch.no_grad():
        return float(_mse_sum(p, xq, yq)) / T


def meta_step(method: str, theta: list, batch: tuple, cfg: SineConfig):
    r"""The outer-loop gradient of one meta-iteration (what Adam receives), for a batch of tasks.

    maml: $\nabla_\theta\frac1T\sum_i\mathcal L^{\mathrm q}_i(\theta_i')$ through the inner steps;
    fomaml: the same with $\partial\theta'/\partial\theta$ replaced by $I$; reptile: $\theta-\frac1T\sum_i\theta_i'$
    (inner steps on support ∪ query, Nichol et al. Alg. 1); pretrain: $\nabla_\theta\frac1T\sum_i\mathcal L_i(\theta)$
    on support ∪ query, no adaptation."""
    import torch

    xs, ys, xq, yq = batch
    T = xs.shape[0]
    if method == "pretrain":
        loss = (_mse_sum(theta, xs, ys) + _mse_sum(theta, xq, yq)) / (2 * T)
        return torch.autograd.grad(loss, theta), float(loss.detach())
    per_task = [p.expand(T, *p.shape) for p in theta]           # (T, ...) views of θ
    if method == "reptile":
        xa, ya = torch.cat([xs, xq], 1), torch.cat([ys, yq], 1)
        adapted = inner_loop(per_task, lambda pp: _mse_sum(pp, xa, ya), cfg.alpha, max(cfg.inner_steps, 0), True)
        with torch.no_grad():
            loss = float(_mse_sum(adapted, xq, yq)) / T
        # Reptile's "gradient": θ − mean_i θ′_i
        return [p.detach() - a.detach().mean(0) for p, a in zip(theta, adapted)], loss
    adapted = inner_loop(per_task, lambda pp: _mse_sum(pp, xs, ys), cfg.alpha, cfg.inner_steps,
                         first_order=method == "fomaml")
    loss = _mse_sum(adapted, xq, yq) / T
    return torch.autograd.grad(loss, theta), float(loss.detach())


def train_sine(method: str, cfg: SineConfig) -> Iterator[SineSnapshot]:
    """Meta-train one method; every method starts from the same θ₀ and sees the same task draws (both from
    `cfg.seed`). Yields a snapshot every `snapshot_every` meta-iterations; stops at `max_steps` or when the loss
    diverges (the last finite θ is kept and `diverged` is set)."""
    import torch

    validate(cfg)
    theta = [p.requires_grad_(True) for p in init_params(cfg.hidden, cfg.seed)]
    opt = optim.Adam(theta, lr=cfg.beta)     # = torch.optim.Adam, without its first-call import of torch._dynamo
    rng = np.random.default_rng(cfg.seed)
    eval_tasks = sample_sine_tasks(np.random.default_rng(cfg.seed + 10_000), cfg.n_eval, cfg.K, 50)

    def snap(step: int, seconds: float, diverged: bool = False, last=None) -> SineSnapshot:
        ps = last if last is not None else [p.detach().numpy().copy() for p in theta]
        q = evaluate(_t(ps), eval_tasks, cfg.alpha, cfg.inner_steps) if not diverged else float("nan")
        return SineSnapshot(step, method, tuple(ps), {"query_mse": q} if np.isfinite(q) else {}, diverged, seconds)

    seconds = 0.0
    last_good = [p.detach().numpy().copy() for p in theta]
    yield snap(0, 0.0)
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        batch = _t(sample_sine_tasks(rng, cfg.meta_batch, cfg.K, cfg.n_query)[:4])
        grads, loss = meta_step(method, theta, batch, cfg)
        bad = not np.isfinite(loss) or loss > DIVERGED_LOSS or not all(bool(torch.isfinite(g).all()) for g in grads)
        if not bad:
            opt.zero_grad()
            for p, g in zip(theta, grads):
                p.grad = g.clone()
            opt.step()
            bad = not all(bool(torch.isfinite(p).all()) for p in theta)
        seconds += time.perf_counter() - t0
        if bad:
            yield snap(step, seconds, diverged=True, last=last_good)
            return
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            last_good = [p.detach().numpy().copy() for p in theta]
            yield snap(step, seconds)


@dataclass(frozen=True)
class Adaptation:
    """Fine-tuning every initialisation on one new task's K support points."""

    amplitude: float
    phase: float
    x_support: np.ndarray      # (K,)
    y_support: np.ndarray      # (K,)
    x_query: np.ndarray        # (Q,) evenly spaced over [−5, 5]: the query set
    y_query: np.ndarray        # (Q,)
    losses: dict               # name → (steps + 1,) query MSE after 0..steps steps (NaN once diverged)
    preds: dict                # name → (3, Q) predictions after 0, 1 and `steps` steps
    steps: int


def adapt_new_task(inits: dict, amplitude: float, phase: float, K: int, alpha: float, steps: int, seed: int,
                   hidden: int = 40, n_query: int = 100, x_support=None) -> Adaptation:
    r"""Adapt each initialisation in `inits` (name → six arrays) and a fresh random one ("scratch") to the task
    $y=A\sin(x-\varphi)$ with `steps` SGD steps of size α on K support points; query MSE on a dense grid."""
    import torch

    if K < 1:
        raise ValueError("K must be at least 1")
    if steps < 0:
        raise ValueError("steps must be ≥ 0")
    rng = np.random.default_rng(seed)
    xs = np.asarray(x_support, float) if x_support is not None else rng.uniform(*X_RANGE, K)
    if len(xs) < K:
        raise ValueError(f"K = {K} is larger than the support set ({len(xs)} points)")
    xs = xs[:K]
    xq = np.linspace(*X_RANGE, n_query)
    f = lambda x: amplitude * np.sin(x - phase)
    Xs, Ys = _t([xs[None, :, None], f(xs)[None, :, None]])
    Xq = _t([xq[None, :, None]])[0]
    yq = f(xq)
    all_inits = dict(inits)
    all_inits["scratch"] = [p.numpy() for p in init_params(hidden, seed + 1)]
    losses, preds = {}, {}
    for name, ps in all_inits.items():
        p = [q.clone().unsqueeze(0).requires_grad_(True) for q in _t(ps)]      # (1, ...)
        curve, keep = [], []
        for k in range(steps + 1):
            with torch.no_grad():
                out = forward(p, Xq)[0, :, 0].numpy().astype(float)               # (Q,)
            mse = float(np.mean((out - yq) ** 2))
            ok = np.isfinite(mse) and mse < DIVERGED_LOSS
            curve.append(mse if ok else np.nan)
            if k in (0, 1, steps):
                keep.append(out if ok else np.full_like(out, np.nan))
            if k == steps or not ok:
                break
            with torch.enable_grad():
                p = [q.detach().requires_grad_(True) for q in
                     inner_loop(p, lambda pp: _mse_sum(pp, Xs, Ys), alpha, 1, first_order=True)]
        curve += [np.nan] * (steps + 1 - len(curve))
        while len(keep) < 3:
            keep.append(keep[-1] if np.isfinite(curve[-1]) else np.full_like(keep[-1], np.nan))
        losses[name], preds[name] = np.array(curve), np.array(keep[:3])
    return Adaptation(float(amplitude), float(phase), xs, f(xs), xq, yq, losses, preds, steps)


# ============================================================================ cost of a meta-step
@dataclass(frozen=True)
class Cost:
    steps: np.ndarray          # (S,) inner steps measured
    seconds: dict              # method → (S,) median seconds of one meta-step (forward + meta-gradient)
    saved_bytes: dict          # method → (S,) bytes of tensors autograd keeps for the backward pass


def measure_cost(steps: Sequence[int], cfg: SineConfig, repeat: int = 3) -> Cost:
    """Time one meta-iteration of MAML and FOMAML for each number of inner steps, and count the bytes autograd
    saves for backward (``torch.autograd.graph.saved_tensors_hooks``): MAML keeps every inner step's graph,
    so its memory grows linearly with the steps; FOMAML's stays that of one step."""
    import torch

    rng = np.random.default_rng(cfg.seed)
    batch = _t(sample_sine_tasks(rng, cfg.meta_batch, cfg.K, cfg.n_query)[:4])
    secs, mem = {}, {}
    for method in ("maml", "fomaml"):
        secs[method], mem[method] = [], []
        for k in steps:
            c = SineConfig(**{**cfg.__dict__, "inner_steps": int(k)})
            theta = [p.requires_grad_(True) for p in init_params(cfg.hidden, cfg.seed)]
            total = [0]

            def pack(tensor):
                total[0] += tensor.numel() * tensor.element_size()
                return tensor

            with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
                meta_step(method, theta, batch, c)
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                meta_step(method, theta, batch, c)
                times.append(time.perf_counter() - t0)
            secs[method].append(float(np.median(times)))
            mem[method].append(float(total[0]))
    return Cost(np.asarray(steps), {k: np.array(v) for k, v in secs.items()},
                {k: np.array(v) for k, v in mem.items()})


# The paper's few-shot classification results (Finn et al. 2017, Table 1; MAML rows, accuracy in %).
PAPER_RESULTS = {
    "omniglot_5way": (98.7, 99.9),      # 1-shot, 5-shot
    "omniglot_20way": (95.8, 98.9),
    "miniimagenet_5way": (48.70, 63.11),
}


def parse_x_list(text: str, max_points: int = 20, max_chars: int = 400) -> np.ndarray:
    """The reader's own support positions: numbers in [−5, 5] separated by commas, semicolons or spaces, typed with
    or without a Japanese IME (「－４，－２，０，１．５」 = "-4, -2, 0, 1.5") → (n,). Raises `TextError` with a code
    the page translates: too_long, empty, too_many, not_a_number, out_of_range (engine/common/text.py)."""
    from engine.common.text import TextError, parse_numbers

    xs = np.array(parse_numbers(text, max_count=max_points, max_chars=max_chars))
    for x in xs:
        if abs(x) > 5:
            raise TextError("out_of_range", token=f"{x:g}", low="−5", high="5")
    return xs
