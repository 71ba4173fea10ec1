r"""Continual learning on split digits: catastrophic forgetting, exact replay, Deep Generative Replay, joint training.

Five tasks of two classes each ({0,1}, {2,3}, …, {8,9}) from scikit-learn's 8×8 digits, learnt one after the other.
Class-incremental: one 10-way head, no task identity at test time. Task-incremental: the task is given, so each
prediction is between the task's two classes only.

Deep Generative Replay (Shin et al. 2017) keeps a *scholar* = generator G + solver S. While learning task t, a
fraction r of every minibatch is replayed: inputs $x'\sim G_{t-1}$ labelled by the old solver $S_{t-1}(x')$; the
new solver minimises

$$\mathcal L=(1-r)\,\mathbb E_{(x,y)\sim D_t}\,\ell(S(x),y)+r\,\mathbb E_{x'\sim G_{t-1}}\,\ell(S(x'),S_{t-1}(x'))$$

and the new generator learns real + replayed inputs in the same proportion. (Shin et al. weight the *real* data
by their r; ours is the replayed share, theirs is 1 − r.)

References
----------
H. Shin, J. K. Lee, J. Kim, J. Kim, "Continual Learning with Deep Generative Replay", NeurIPS 2017, Sec. 3 (Eq. for
$L_{train}$). D. Lopez-Paz, M. Ranzato, "Gradient Episodic Memory for Continual Learning", NeurIPS 2017, Sec. 5
(ACC, BWT). G. M. van de Ven, A. S. Tolias, "Three scenarios for continual learning", 2019 (class- vs
task-incremental). D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (the generator).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np

from engine.common import optim

TASKS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
SCENARIOS = ("class", "task")
METHODS = ("finetune", "replay", "dgr", "joint")


@dataclass(frozen=True)
class Config:
    scenario: str = "class"       # "class" (one 10-way head) or "task" (the task's two classes)
    iters: int = 300              # solver (and generator) steps per task
    batch_size: int = 32
    lr: float = 1e-3              # Adam, solver and generator
    hidden: int = 100             # solver: 64 → hidden → 10
    replay_ratio: float = 0.5     # r: replayed share of each minibatch (DGR)
    gen_hidden: int = 128         # generator (VAE) hidden units: its size
    z_dim: int = 8                # VAE latent size
    buffer_per_class: int = 0     # exact replay: stored samples per past class (0 = all of them)
    snapshot_every: int = 25
    n_show: int = 24              # replayed samples kept per snapshot
    seed: int = 0


def validate(cfg: Config) -> None:
    if cfg.scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {cfg.scenario!r}")
    if not 0.0 <= cfg.replay_ratio < 1.0:
        raise ValueError("the replay ratio r must be in [0, 1)")
    if cfg.iters < 1 or cfg.batch_size < 2:
        raise ValueError("need at least one step and a batch of two")


# ------------------------------------------------------------------------------------------------ metrics
def acc_bwt(R: np.ndarray, i: int | None = None) -> tuple[float, float]:
    r"""Average accuracy and backward transfer after task i (default: the last) of an accuracy matrix
    R[i, j] = accuracy on task j after training task i (Lopez-Paz & Ranzato 2017, Eq. 2–3):

    $$\mathrm{ACC}=\frac1{i+1}\sum_{j\le i}R_{i,j},\qquad \mathrm{BWT}=\frac1{i}\sum_{j<i}\big(R_{i,j}-R_{j,j}\big)$$

    BWT is NaN after the first task (nothing to forget yet)."""
    R = np.asarray(R, float)
    i = R.shape[0] - 1 if i is None else i
    acc = float(np.mean(R[i, :i + 1]))
    # BWT = mean_{j<i} (R[i, j] − R[j, j])
    bwt = float(np.mean(R[i, :i] - np.diag(R)[:i])) if i > 0 else float("nan")
    return acc, bwt


def replay_counts(batch_size: int, r: float) -> tuple[int, int]:
    """(real, replayed) samples in one minibatch with replay ratio r."""
    n_replay = int(round(r * batch_size))
    return batch_size - n_replay, n_replay


# ------------------------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class SplitDigits:
    x_train: np.ndarray        # (N, 64) float32 in [−1, 1]
    y_train: np.ndarray        # (N,) 0..9
    x_test: np.ndarray         # (M, 64)
    y_test: np.ndarray         # (M,)

    def task(self, t: int, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        x, y = (self.x_train, self.y_train) if split == "train" else (self.x_test, self.y_test)
        keep = np.isin(y, TASKS[t])
        return x[keep], y[keep]


def split_digits(seed: int = 0, test_fraction: float = 0.3) -> SplitDigits:
    """scikit-learn's 1 797 digits flattened to 64 values in [−1, 1], split per class into train and test."""
    from engine.common.digits import sklearn_digits

    x, y = sklearn_digits()
    x = x.reshape(len(x), 64)                                        # (1797, 64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[:int(round(test_fraction * len(idx)))]] = True
    return SplitDigits(x[~test], y[~test], x[test], y[test])


# ------------------------------------------------------------------------------------------------ networks
def _linear(g, fan_in: int, fan_out: int) -> list:
    import torch

    bound = 1.0 / np.sqrt(fan_in)
    return [((torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound).requires_grad_(True),
            ((torch.rand(fan_out, generator=g) * 2 - 1) * bound).requires_grad_(True)]


def solver_init(hidden: int, seed: int) -> list:
    """MLP 64 → hidden → 10 (ReLU), PyTorch's default init from a local generator."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return _linear(g, 64, hidden) + _linear(g, hidden, 10)


def solver_logits(p: list, x):
    import torch

    return torch.relu(x @ p[0] + p[1]) @ p[2] + p[3]                 # (B, 10)


def _mask(y, scenario: str):
    """Additive logit mask: 0 on the allowed classes, −inf elsewhere (task-incremental: the label's task)."""
    import torch

    if scenario == "class":
        return torch.zeros(len(y), 10)
    pair = torch.div(y, 2, rounding_mode="floor") * 2                # first class of each label's task
    m = torch.full((len(y), 10), float("-inf"))
    m.scatter_(1, torch.stack([pair, pair + 1], 1), 0.0)
    return m


def accuracy(p: list, x: np.ndarray, y: np.ndarray, scenario: str) -> float:
    import torch

    with torch.no_grad():
        yt = torch.as_tensor(y)
        logits = solver_logits(p, torch.as_tensor(x)) + _mask(yt, scenario)
        return float((logits.argmax(1) == yt).float().mean())


def vae_init(hidden: int, z_dim: int, seed: int) -> list:
    """VAE: encoder 64 → hidden → (μ, log σ²) ∈ R^z, decoder z → hidden → 64 (Bernoulli logits on [0, 1] pixels)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    return _linear(g, 64, hidden) + _linear(g, hidden, 2 * z_dim) + _linear(g, z_dim, hidden) + _linear(g, hidden, 64)


def vae_loss(p: list, x, g):
    r"""Negative ELBO per sample, $-\mathbb E_q[\log p(x\mid z)]+\mathrm{KL}(q(z\mid x)\,\|\,\mathcal N(0,I))$, for x in
    [−1, 1] read as Bernoulli means (x + 1)/2 (Kingma & Welling 2014, Eq. 10)."""
    import torch
    import torch.nn.functional as F

    h = torch.relu(x @ p[0] + p[1])                                  # (B, H)
    mu, logvar = (h @ p[2] + p[3]).chunk(2, 1)                       # (B, z) each
    eps = torch.randn(mu.shape, generator=g)
    z = mu + eps * torch.exp(0.5 * logvar)                           # reparameterisation
    logits = torch.relu(z @ p[4] + p[5]) @ p[6] + p[7]               # (B, 64)
    rec = F.binary_cross_entropy_with_logits(logits, (x + 1) / 2, reduction="sum") / len(x)
    # KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²)
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp()) / len(x)
    return rec + kl


def vae_sample(p: list, n: int, z_dim: int, g):
    """n generated digits (n, 64) in [−1, 1] (decoder means)."""
    import torch

    with torch.no_grad():
        z = torch.randn(n, z_dim, generator=g)
        return torch.sigmoid(torch.relu(z @ p[4] + p[5]) @ p[6] + p[7]) * 2 - 1


# ------------------------------------------------------------------------------------------------ training
@dataclass(frozen=True)
class Snapshot:
    step: int                  # solver steps so far (all tasks)
    method: str
    task: int                  # the task being learnt (0..4)
    R: np.ndarray              # (5, 5) accuracy matrix, NaN where not reached; row `task` is live
    rows_done: int             # rows of R that are final
    metrics: dict = field(default_factory=dict)    # {"acc": ACC over tasks seen, on the live row}
    replayed: np.ndarray | None = None   # (n_show, 8, 8) in [−1, 1]: what the generator replays now (DGR)
    replay_labels: np.ndarray | None = None        # (n_show,) the old solver's labels for them
    seen_real: int = 0         # real samples the solver has seen in the current task
    seen_replay: int = 0       # replayed samples the solver has seen in the current task
    seconds: float = 0.0


def _buffer(data: SplitDigits, upto: int, per_class: int, rng: np.random.Generator):
    """Stored samples of tasks < upto: all (per_class = 0) or per_class random ones per class, in task order."""
    xs, ys = [], []
    for t in range(upto):
        x, y = data.task(t)
        if per_class:
            keep = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in TASKS[t]])
            x, y = x[np.sort(keep)], y[np.sort(keep)]
        xs.append(x)
        ys.append(y)
    return xs, ys


def train(method: str, cfg: Config, data: SplitDigits | None = None) -> Iterator[Snapshot]:
    """Learn the five tasks in order with one method, streaming snapshots every `snapshot_every` solver steps and
    at the end of each task (row `task` of R becomes final then). Every method starts from the same solver (and,
    for DGR, generator) weights drawn from `cfg.seed`; minibatches come from a generator seeded the same way.

    finetune: the current task only. replay: the current task plus stored samples of earlier tasks (all of them by
    default, which is then the same training as joint). dgr: Deep Generative Replay. joint: all tasks so far."""
    import torch

    validate(cfg)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    data = data or split_digits(cfg.seed)
    tests = [data.task(t, "test") for t in range(len(TASKS))]
    S = solver_init(cfg.hidden, cfg.seed)
    G = vae_init(cfg.gen_hidden, cfg.z_dim, cfg.seed + 1) if method == "dgr" else None
    g = torch.Generator().manual_seed(cfg.seed + 2)                  # VAE noise and generator samples
    rng = np.random.default_rng(cfg.seed + 3)                        # minibatches
    buf_rng = np.random.default_rng(cfg.seed + 4)                    # which samples exact replay stores
    R = np.full((len(TASKS), len(TASKS)), np.nan)
    step, seconds = 0, 0.0
    old_S = old_G = None
    show = show_y = None

    def evaluate_row(t: int) -> None:
        for j in range(t + 1):
            R[t, j] = accuracy(S, *tests[j], cfg.scenario)

    for t in range(len(TASKS)):
        x_cur, y_cur = data.task(t)
        if method in ("replay", "joint"):
            xs, ys = _buffer(data, t, cfg.buffer_per_class if method == "replay" else 0, buf_rng)
            x_cur, y_cur = np.concatenate(xs + [x_cur]), np.concatenate(ys + [y_cur])
        X, Y = torch.as_tensor(x_cur), torch.as_tensor(y_cur)
        n_real, n_rep = replay_counts(cfg.batch_size, cfg.replay_ratio) if (method == "dgr" and t > 0) \
            else (cfg.batch_size, 0)
        # = torch.optim.Adam, without its first-call import of torch._dynamo
        opt = optim.Adam(S, lr=cfg.lr)
        opt_g = optim.Adam(G, lr=cfg.lr) if G is not None else None
        seen_real = seen_rep = 0
        if method == "dgr" and t > 0:
            show = vae_sample(old_G, cfg.n_show, cfg.z_dim, torch.Generator().manual_seed(cfg.seed + 5 + t))
            show_y = _old_labels(old_S, show, t)
        for k in range(cfg.iters):
            t0 = time.perf_counter()
            idx = torch.as_tensor(rng.integers(0, len(X), n_real))
            xb, yb = X[idx], Y[idx]                                  # (n_real, 64), (n_real,)
            if n_rep:
                xr = vae_sample(old_G, n_rep, cfg.z_dim, g)          # x' ~ G_{t−1}   (n_rep, 64)
                yr = _old_labels(old_S, xr, t)                       # y' = S_{t−1}(x')
                xb, yb = torch.cat([xb, xr]), torch.cat([yb, yr])
            seen_real, seen_rep = seen_real + n_real, seen_rep + n_rep
            logits = solver_logits(S, xb) + _mask(yb, cfg.scenario)
            # L = (1 − r) CE(real) + r CE(replayed): the batch holds the two in that proportion
            loss = torch.nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if G is not None:
                gl = vae_loss(G, xb, g)                              # the generator learns real + replayed inputs
                opt_g.zero_grad()
                gl.backward()
                opt_g.step()
            step += 1
            seconds += time.perf_counter() - t0
            last = k == cfg.iters - 1
            if (k + 1) % cfg.snapshot_every == 0 or last:
                evaluate_row(t)
                acc, _ = acc_bwt(R, t)
                yield Snapshot(step, method, t, R.copy(), t + 1 if last else t, {"acc": acc},
                               None if show is None else show.numpy().reshape(-1, 8, 8).copy(),
                               None if show_y is None else show_y.numpy().copy(), seen_real, seen_rep, seconds)
        if method == "dgr":
            old_S = [p.detach().clone() for p in S]
            old_G = [p.detach().clone() for p in G]


def _old_labels(old_S: list, x, t: int):
    """The old solver's labels for replayed inputs: argmax over the classes of tasks < t."""
    import torch

    with torch.no_grad():
        logits = solver_logits(old_S, x)                             # (n, 10)
        logits[:, 2 * t:] = float("-inf")
        return logits.argmax(1)


def final_metrics(snaps: list[Snapshot]) -> tuple[float, float]:
    """ACC and BWT of the last snapshot whose rows are all final."""
    s = snaps[-1]
    return acc_bwt(s.R, s.rows_done - 1)
