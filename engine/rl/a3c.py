r"""Advantage actor-critic on CartPole: one rollout's loss terms in numbers, A2C (synchronous) and A3C
(asynchronous workers, simulated deterministically) trained from the same seed.

The network is the shared-trunk actor-critic of A3C: $h=\tanh(W_1 s+b_1)$, a softmax actor
$\pi(a\mid s;\theta)=\mathrm{softmax}(W_\pi h+b_\pi)$ and a linear critic $V(s)=w_v^\top h+b_v$. Forward and
backward passes are written out in numpy (tested against torch autograd through stable-baselines3's A2C loss).

The loss (stable-baselines3's A2C, the course notes' total loss) over a batch of $N$ samples:

$$L = \underbrace{-\frac1N\sum_i A_i\log\pi(a_i\mid s_i;\theta)}_{\text{policy}}
+ \alpha\underbrace{\frac1N\sum_i (R_i - V(s_i))^2}_{\text{value}}
- \beta\underbrace{\frac1N\sum_i H(\pi(\cdot\mid s_i;\theta))}_{\text{entropy bonus}}$$

with the k-step return $R_t=\sum_{i=0}^{k-1}\gamma^i r_{t+i}+\gamma^k V(s_{t+k})$ (shorter near the end of the
rollout, cut at episode ends) and the advantage estimate $A_t = R_t - V(s_t)$ of $Q(s_t,a_t)-V(s_t)$.

References
----------
Mnih et al., "Asynchronous Methods for Deep Reinforcement Learning", ICML 2016 (Algorithm S3; Eq. for
$\nabla_{\theta'}\log\pi(a_t\mid s_t;\theta')A(s_t,a_t;\theta,\theta_v)+\beta\nabla_{\theta'}H(\pi(s_t;\theta'))$).
Raffin et al., stable-baselines3 `A2C.train` and `RolloutBuffer.compute_returns_and_advantage`.
"""
from __future__ import annotations

import dataclasses
import heapq
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from engine.common import cartpole

OBS_DIM, N_ACTIONS = 4, 2
PARAM_NAMES = ("W1", "b1", "W_pi", "b_pi", "w_v", "b_v")


@dataclass(frozen=True)
class Config:
    """A2C / A3C settings (stable-baselines3 names)."""

    n_envs: int = 8                 # n: parallel environments (A2C) / asynchronous workers (A3C)
    n_steps: int = 8                # k: steps per rollout before one update
    gamma: float = 0.99             # γ: discount
    ent_coef: float = 0.01          # β: entropy bonus weight
    vf_coef: float = 0.5            # α: value loss weight
    learning_rate: float = 5e-3     # Adam step size on the shared θ
    max_grad_norm: float = 0.5      # gradient clipping by global norm
    hidden: int = 64                # width of the shared trunk
    max_env_steps: int = 150_000    # training ends after this many environment steps (all envs together)
    snapshot_every: int = 2_000     # environment steps between snapshots
    seed: int = 0


# ------------------------------------------------------------------------------------------------ network
def init_params(hidden: int, rng: np.random.Generator) -> list[np.ndarray]:
    """θ = [W1 (4, H), b1 (H,), W_pi (H, 2), b_pi (2,), w_v (H, 1), b_v (1,)]; the policy head starts small
    (×0.01, as stable-baselines3) so π starts near uniform."""
    return [rng.standard_normal((OBS_DIM, hidden)) / np.sqrt(OBS_DIM),
            np.zeros(hidden),
            0.01 * rng.standard_normal((hidden, N_ACTIONS)) / np.sqrt(hidden),
            np.zeros(N_ACTIONS),
            rng.standard_normal((hidden, 1)) / np.sqrt(hidden),
            np.zeros(1)]


def n_params(params: list[np.ndarray]) -> int:
    return int(sum(p.size for p in params))


@dataclass(frozen=True)
class Forward:
    h: np.ndarray           # (N, H) shared trunk
    log_probs: np.ndarray   # (N, 2) log π(·|s)
    probs: np.ndarray       # (N, 2) π(·|s)
    value: np.ndarray       # (N,) V(s)
    entropy: np.ndarray     # (N,) H(π(·|s)) in nats


def forward(params: list[np.ndarray], obs: np.ndarray) -> Forward:
    r"""$h=\tanh(W_1 s+b_1)$, $\pi=\mathrm{softmax}(W_\pi h+b_\pi)$, $V=w_v^\top h+b_v$ for a batch (N, 4)."""
    W1, b1, W_pi, b_pi, w_v, b_v = params
    h = np.tanh(obs @ W1 + b1)                                        # (N, H)
    logits = h @ W_pi + b_pi                                          # (N, 2)
    # log π = z − logsumexp(z)
    z = logits - logits.max(1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(1, keepdims=True))           # (N, 2)
    probs = np.exp(log_probs)
    value = (h @ w_v + b_v)[:, 0]                                     # (N,)
    # H = −Σ_a π log π
    entropy = -(probs * log_probs).sum(1)                             # (N,)
    return Forward(h, log_probs, probs, value, entropy)


def entropy_of(probs) -> float:
    r"""$H(p) = -\sum_a p_a \ln p_a$ in nats (0 ln 0 = 0): the course notes' example, (¼,¼,¼,¼) → ln 4."""
    p = np.asarray(probs, float)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


# ------------------------------------------------------------------------------------------------ returns
def nstep_returns(rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, last_values: np.ndarray,
                  gamma: float) -> tuple[np.ndarray, np.ndarray]:
    r"""k-step returns and advantages of a rollout (A3C's Algorithm S3; stable-baselines3 with gae_lambda=1).

    $$R_t = r_t + \gamma (1-d_t) R_{t+1},\quad R_k = V(s_k),\qquad A_t = R_t - V(s_t)$$

    i.e. $R_t=\sum_{i=0}^{k-t-1}\gamma^i r_{t+i}+\gamma^{k-t}V(s_k)$ when no episode ends before step k.

    Parameters
    ----------
    rewards, values, dones : np.ndarray [shape=(k, n)], `dones[t]` = the episode ended at step t.
    last_values : np.ndarray [shape=(n,)] V(s_k) of the state after the rollout.

    Returns
    -------
    returns, advantages : np.ndarray [shape=(k, n)]
    """
    returns = np.zeros_like(values, dtype=float)
    R = np.asarray(last_values, float)
    for t in range(len(rewards) - 1, -1, -1):
        # R_t = r_t + γ (1 − d_t) R_{t+1}
        R = rewards[t] + gamma * (1.0 - dones[t]) * R
        returns[t] = R
    return returns, returns - values


@dataclass(frozen=True)
class Loss:
    policy_loss: float      # −mean(A log π(a|s))
    value_loss: float       # mean((R − V)²)
    entropy: float          # mean H(π(·|s)); the loss adds −β · entropy
    total: float            # policy + α value − β entropy
    grads: list             # ∂total/∂θ, one array per parameter


def loss_and_grads(params: list[np.ndarray], obs: np.ndarray, actions: np.ndarray, returns: np.ndarray,
                   advantages: np.ndarray, vf_coef: float, ent_coef: float) -> Loss:
    r"""The total loss and its gradient by hand-written backpropagation.

    $$L = -\overline{A\log\pi(a\mid s)} + \alpha\,\overline{(R-V(s))^2} - \beta\,\overline{H(\pi(\cdot\mid s))}$$

    $\partial L/\partial z = \frac1N[-A(\mathbf 1_a-\pi) + \beta\,\pi\odot(\log\pi + H)]$ for the logits $z$,
    $\partial L/\partial V = \frac{2\alpha}N (V-R)$. The advantages are constants (no gradient through them).

    Parameters
    ----------
    obs : (N, 4); actions, returns, advantages : (N,).
    """
    W1, b1, W_pi, b_pi, w_v, b_v = params
    f = forward(params, obs)
    N = len(obs)
    log_pa = f.log_probs[np.arange(N), actions]                       # (N,)
    # policy loss = −mean(A log π(a|s))
    policy_loss = -float(np.mean(advantages * log_pa))
    # value loss = mean((R − V)²)
    value_loss = float(np.mean((returns - f.value) ** 2))
    entropy = float(np.mean(f.entropy))
    total = policy_loss + vf_coef * value_loss - ent_coef * entropy
    onehot = np.eye(N_ACTIONS)[actions]                               # (N, 2)
    # ∂/∂z of −A log π(a): −A (1_a − π); of −βH: β π (log π + H)
    d_logits = (-advantages[:, None] * (onehot - f.probs)
                + ent_coef * f.probs * (f.log_probs + f.entropy[:, None])) / N   # (N, 2)
    d_value = 2 * vf_coef * (f.value - returns) / N                   # (N,)
    d_h = d_logits @ W_pi.T + d_value[:, None] * w_v[:, 0]           # (N, H)
    d_pre = d_h * (1 - f.h ** 2)                                      # (N, H)
    grads = [obs.T @ d_pre, d_pre.sum(0), f.h.T @ d_logits, d_logits.sum(0),
             f.h.T @ d_value[:, None], np.array([d_value.sum()])]
    return Loss(policy_loss, value_loss, entropy, total, grads)


def clip_grads(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """torch.nn.utils.clip_grad_norm_: scale all gradients by min(1, max_norm / (‖g‖ + 1e-6))."""
    norm = float(np.sqrt(sum(float((g * g).sum()) for g in grads)))
    scale = min(1.0, max_norm / (norm + 1e-6))
    return [g * scale for g in grads], norm


class _Adam:
    """torch.optim.Adam on a list of arrays (β1 0.9, β2 0.999, ε 1e-8); one instance = one shared θ."""

    def __init__(self, params: list[np.ndarray], lr: float):
        self.lr, self.t = lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self.t += 1
        c1, c2 = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + 1e-8)


# ------------------------------------------------------------------------------------------ one rollout
@dataclass(frozen=True)
class Rollout:
    """k steps of one CartPole episode under π(·|s;θ), with every quantity of the loss."""

    obs: np.ndarray          # (k, 4) s_t
    actions: np.ndarray      # (k,) a_t (0 left, 1 right)
    rewards: np.ndarray      # (k,) r_t
    dones: np.ndarray        # (k,) episode ended at t
    values: np.ndarray       # (k,) V(s_t)
    last_value: float        # V(s_k)
    returns: np.ndarray      # (k,) k-step return R_t
    advantages: np.ndarray   # (k,) A_t = R_t − V(s_t)
    log_prob: np.ndarray     # (k,) log π(a_t|s_t)
    probs: np.ndarray        # (k, 2) π(·|s_t)
    entropy: np.ndarray      # (k,) H(π(·|s_t))
    policy_term: np.ndarray  # (k,) −A_t log π(a_t|s_t)
    value_term: np.ndarray   # (k,) α (R_t − V(s_t))²
    entropy_term: np.ndarray  # (k,) −β H_t
    loss: Loss               # the means (the loss the update uses)


def one_rollout(params: list[np.ndarray], k: int, gamma: float, vf_coef: float, ent_coef: float,
                seed: int) -> Rollout:
    """Run k steps of one environment under π(·|s;θ) (actions sampled with `seed`) and compute every loss term."""
    rng = np.random.default_rng(seed)
    env = cartpole.VecCartPole(1, rng)
    obs, acts, rews, dones = [], [], [], []
    o = env.obs()
    for _ in range(k):
        p = forward(params, o).probs
        a = (rng.random(1) < p[:, 1]).astype(int)
        obs.append(o[0])
        acts.append(a[0])
        o, r, term, trunc, final = env.step(a)
        rews.append(r[0])
        dones.append(bool(term[0] or trunc[0]))
    obs, acts = np.array(obs), np.array(acts)
    rews, dones = np.array(rews), np.array(dones, float)
    f = forward(params, obs)
    last_v = float(forward(params, o).value[0])
    ret, adv = nstep_returns(rews[:, None], f.value[:, None], dones[:, None], np.array([last_v]), gamma)
    ret, adv = ret[:, 0], adv[:, 0]
    log_pa = f.log_probs[np.arange(k), acts]
    loss = loss_and_grads(params, obs, acts, ret, adv, vf_coef, ent_coef)
    return Rollout(obs, acts, rews, dones.astype(bool), f.value, last_v, ret, adv, log_pa, f.probs, f.entropy,
                   -adv * log_pa, vf_coef * (ret - f.value) ** 2, -ent_coef * f.entropy, loss)


# -------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class Snapshot:
    step: int                               # environment steps so far (all envs / workers together)
    metrics: dict                           # return (mean of the last 20 episodes), losses, entropy, staleness
    params: tuple                           # θ at this point (for the policy figures)
    updates: int                            # updates of θ so far
    episodes: int                           # finished episodes so far
    staleness_counts: np.ndarray            # (n_envs + 1,) how many applied gradients had each staleness (A3C)
    seconds: float = 0.0                    # wall clock (the one field allowed to differ between runs)


class _Stats:
    """Running means between snapshots and the last 20 episode returns."""

    def __init__(self, n_stale: int):
        self.returns: list[float] = []
        self.sums = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "staleness": 0.0}
        self.count = 0
        self.episodes = 0
        self.stale = np.zeros(n_stale, int)

    def add(self, loss: Loss, staleness: int = 0) -> None:
        self.sums["policy_loss"] += loss.policy_loss
        self.sums["value_loss"] += loss.value_loss
        self.sums["entropy"] += loss.entropy
        self.sums["staleness"] += staleness
        self.count += 1
        self.stale[min(staleness, len(self.stale) - 1)] += 1

    def episode(self, ret: float) -> None:
        self.returns = (self.returns + [ret])[-20:]
        self.episodes += 1

    def snapshot(self, step: int, params, updates: int, seconds: float, asynchronous: bool) -> Snapshot:
        m = {k: v / max(self.count, 1) for k, v in self.sums.items()}
        if not asynchronous:
            del m["staleness"]
        m["return"] = float(np.mean(self.returns)) if self.returns else 0.0
        self.sums = dict.fromkeys(self.sums, 0.0)
        self.count = 0
        return Snapshot(step, m, tuple(p.copy() for p in params), updates, self.episodes, self.stale.copy(),
                        seconds)


def initial_params(cfg: Config) -> list[np.ndarray]:
    """θ at step 0 of both A2C and A3C for this config (seed stream 0)."""
    return init_params(cfg.hidden, np.random.default_rng([cfg.seed, 0]))


def _streams(cfg: Config):
    """Same initial θ for A2C and A3C: θ from seed stream 0, environments from stream 1, actions from stream 2."""
    return (initial_params(cfg),
            np.random.default_rng([cfg.seed, 1]), np.random.default_rng([cfg.seed, 2]))


def initial_metrics(cfg: Config, params: list[np.ndarray]) -> dict:
    """Step 0's metrics, measured rather than placeholders: the first policy's policy loss, value loss and entropy
    on one batch of n·k samples it collects itself, and the mean return of 20 of its episodes — all from a random
    stream of their own ([seed, 5]), so the training streams are untouched. The first policy is close to uniform,
    so its entropy is close to ln 2."""
    rng = np.random.default_rng([cfg.seed, 5])
    n, k = cfg.n_envs, cfg.n_steps
    env = cartpole.VecCartPole(n, rng)
    o = env.obs()
    obs = np.zeros((k, n, OBS_DIM), np.float32)
    acts = np.zeros((k, n), int)
    rews, vals, dones = np.zeros((k, n)), np.zeros((k, n)), np.zeros((k, n))
    for t in range(k):
        f = forward(params, o)
        a = (rng.random(n) < f.probs[:, 1]).astype(int)
        obs[t], acts[t], vals[t] = o, a, f.value
        o, r, term, trunc, final = env.step(a)
        if trunc.any():
            r = r.copy()
            r[trunc] += cfg.gamma * forward(params, final[trunc]).value
        rews[t], dones[t] = r, term | trunc
    ret, adv = nstep_returns(rews, vals, dones, forward(params, o).value, cfg.gamma)
    loss = loss_and_grads(params, obs.reshape(-1, OBS_DIM), acts.ravel(), ret.ravel(), adv.ravel(),
                          cfg.vf_coef, cfg.ent_coef)
    episodes = [play_episode(params, int(s)) for s in rng.integers(0, 2**31, 20)]
    return {"policy_loss": loss.policy_loss, "value_loss": loss.value_loss, "entropy": loss.entropy,
            "return": float(np.mean([e.length for e in episodes]))}


def _first(stats: "_Stats", cfg: Config, params: list[np.ndarray], asynchronous: bool) -> Snapshot:
    """The step-0 snapshot with measured metrics (no gradient has been applied yet: no staleness)."""
    s = stats.snapshot(0, params, 0, 0.0, asynchronous)
    return dataclasses.replace(s, metrics=initial_metrics(cfg, params))


def train_a2c(cfg: Config) -> Iterator[Snapshot]:
    r"""A2C: n environments step in lockstep; every k steps one update of θ on the n·k samples.

    $$\theta \leftarrow \mathrm{Adam}\Big(\nabla_\theta\big[-\overline{A\log\pi} + \alpha\overline{(R-V)^2}
    - \beta\overline{H}\big]\Big)$$

    Yields a snapshot every `cfg.snapshot_every` environment steps until `cfg.max_env_steps`.
    """
    t0 = time.perf_counter()
    params, env_rng, act_rng = _streams(cfg)
    opt = _Adam(params, cfg.learning_rate)
    n, k = cfg.n_envs, cfg.n_steps
    env = cartpole.VecCartPole(n, env_rng)
    stats = _Stats(n + 1)
    ep_ret = np.zeros(n)
    o = env.obs()
    steps = updates = 0
    next_snap = cfg.snapshot_every
    yield _first(stats, cfg, params, False)
    while steps < cfg.max_env_steps:
        obs = np.zeros((k, n, OBS_DIM), np.float32)
        acts = np.zeros((k, n), int)
        rews, vals, dones = np.zeros((k, n)), np.zeros((k, n)), np.zeros((k, n))
        for t in range(k):
            f = forward(params, o)
            a = (act_rng.random(n) < f.probs[:, 1]).astype(int)
            obs[t], acts[t], vals[t] = o, a, f.value
            o, r, term, trunc, final = env.step(a)
            ep_ret += r
            if trunc.any():          # time limit: bootstrap from the final state (stable-baselines3 does the same)
                r = r.copy()
                r[trunc] += cfg.gamma * forward(params, final[trunc]).value
            rews[t], dones[t] = r, term | trunc
            for i in np.flatnonzero(term | trunc):
                stats.episode(ep_ret[i])
                ep_ret[i] = 0
        last_v = forward(params, o).value
        ret, adv = nstep_returns(rews, vals, dones, last_v, cfg.gamma)
        loss = loss_and_grads(params, obs.reshape(-1, OBS_DIM), acts.ravel(), ret.ravel(), adv.ravel(),
                              cfg.vf_coef, cfg.ent_coef)
        grads, _ = clip_grads(loss.grads, cfg.max_grad_norm)
        opt.step(params, grads)
        stats.add(loss)
        steps += n * k
        updates += 1
        if steps >= next_snap or steps >= cfg.max_env_steps:
            next_snap += cfg.snapshot_every
            yield stats.snapshot(steps, params, updates, time.perf_counter() - t0, False)


def worker_speeds(n: int, seed: int) -> np.ndarray:
    """Seconds per environment step of each simulated worker (machines differ by up to ±30 %). Returns (n,)."""
    return np.random.default_rng([seed, 3]).uniform(0.7, 1.3, n)


def train_a3c(cfg: Config) -> Iterator[Snapshot]:
    r"""A3C, simulated: n workers, each with its own environment and its own copy θ′. A worker copies θ′ ← θ,
    runs k steps with θ′, computes the gradient with θ′ and pushes it to the shared θ (one shared Adam), then
    copies again. Workers run at different speeds (with jitter per rollout), so the pushes interleave; the
    *staleness* of a gradient is how many other updates reached θ between its copy and its push.

    $$d\theta = \nabla_{\theta'}\log\pi(a_t\mid s_t;\theta')\,(R_t - V(s_t;\theta'_v))
    + \beta\nabla_{\theta'}H(\pi(\cdot\mid s_t;\theta'))$$

    The schedule is a discrete-event simulation (a heap of push times), so a run is deterministic given the seed
    and nothing runs in the background.
    """
    t0 = time.perf_counter()
    params, env_rng, act_rng = _streams(cfg)
    opt = _Adam(params, cfg.learning_rate)
    n, k = cfg.n_envs, cfg.n_steps
    speed = worker_speeds(n, cfg.seed)
    clock_rng = np.random.default_rng([cfg.seed, 4])
    envs = [cartpole.VecCartPole(1, np.random.default_rng([cfg.seed, 10 + w])) for w in range(n)]
    obs_now = [e.obs() for e in envs]
    ep_ret = np.zeros(n)
    stats = _Stats(n + 1)
    version = 0
    local = [[p.copy() for p in params] for _ in range(n)]           # θ′ of each worker
    read_version = [0] * n
    heap = [(k * speed[w] * clock_rng.lognormal(0, 0.2), w) for w in range(n)]
    heapq.heapify(heap)
    steps = updates = 0
    next_snap = cfg.snapshot_every
    yield _first(stats, cfg, params, True)
    while steps < cfg.max_env_steps:
        now, w = heapq.heappop(heap)
        theta_w = local[w]
        o = obs_now[w]
        obs = np.zeros((k, OBS_DIM), np.float32)
        acts, rews, vals, dones = np.zeros(k, int), np.zeros(k), np.zeros(k), np.zeros(k)
        for t in range(k):
            f = forward(theta_w, o)
            a = (act_rng.random(1) < f.probs[:, 1]).astype(int)
            obs[t], acts[t], vals[t] = o[0], a[0], f.value[0]
            o, r, term, trunc, final = envs[w].step(a)
            ep_ret[w] += r[0]
            if trunc[0]:
                r = r + cfg.gamma * forward(theta_w, final).value
            rews[t], dones[t] = r[0], float(term[0] or trunc[0])
            if term[0] or trunc[0]:
                stats.episode(ep_ret[w])
                ep_ret[w] = 0
        obs_now[w] = o
        last_v = forward(theta_w, o).value
        ret, adv = nstep_returns(rews[:, None], vals[:, None], dones[:, None], last_v, cfg.gamma)
        loss = loss_and_grads(theta_w, obs, acts, ret[:, 0], adv[:, 0], cfg.vf_coef, cfg.ent_coef)
        grads, _ = clip_grads(loss.grads, cfg.max_grad_norm)
        staleness = version - read_version[w]
        opt.step(params, grads)                                       # push dθ to the shared θ
        version += 1
        stats.add(loss, staleness)
        local[w] = [p.copy() for p in params]                         # θ′ ← θ
        read_version[w] = version
        heapq.heappush(heap, (now + k * speed[w] * clock_rng.lognormal(0, 0.2), w))
        steps += k
        updates += 1
        if steps >= next_snap or steps >= cfg.max_env_steps:
            next_snap += cfg.snapshot_every
            yield stats.snapshot(steps, params, updates, time.perf_counter() - t0, True)


# ------------------------------------------------------------------------------------------ learned policy
@dataclass(frozen=True)
class PolicySlice:
    theta: np.ndarray        # (G,) pole angle θ (rad) on the grid
    theta_dot: np.ndarray    # (G,) angular velocity θ̇ (rad/s)
    p_left: np.ndarray       # (G, G) π(left | x=0, ẋ=0, θ, θ̇), rows = θ̇
    value: np.ndarray        # (G, G) V(s) on the same grid


def policy_slice(params, grid: int = 41, x: float = 0.0, x_dot: float = 0.0) -> PolicySlice:
    """π(left|s) and V(s) over the (θ, θ̇) plane at fixed cart position and velocity."""
    th = np.linspace(-cartpole.THETA_THRESHOLD, cartpole.THETA_THRESHOLD, grid)
    thd = np.linspace(-2.0, 2.0, grid)
    T, TD = np.meshgrid(th, thd)                                      # (G, G)
    s = np.stack([np.full(T.size, x), np.full(T.size, x_dot), T.ravel(), TD.ravel()], 1).astype(np.float32)
    f = forward(list(params), s)
    return PolicySlice(th, thd, f.probs[:, 0].reshape(grid, grid), f.value.reshape(grid, grid))


@dataclass(frozen=True)
class Episode:
    states: np.ndarray       # (T+1, 4) s_0 … s_T
    actions: np.ndarray      # (T,)
    p_left: np.ndarray       # (T,) π(left|s_t)
    values: np.ndarray       # (T,) V(s_t)
    length: int              # T = the return (one reward per step)


def play_episode(params, seed: int, max_steps: int = cartpole.MAX_EPISODE_STEPS) -> Episode:
    """One episode of the current policy (actions sampled from π with `seed`)."""
    rng = np.random.default_rng(seed)
    s = cartpole.reset_states(rng, 1)
    states, acts, pl, vs = [s[0]], [], [], []
    for _ in range(max_steps):
        f = forward(list(params), s.astype(np.float32))
        a = (rng.random(1) < f.probs[:, 1]).astype(int)
        acts.append(int(a[0]))
        pl.append(float(f.probs[0, 0]))
        vs.append(float(f.value[0]))
        s, term = cartpole.step_states(s, a)
        states.append(s[0])
        if term[0]:
            break
    return Episode(np.array(states), np.array(acts), np.array(pl), np.array(vs), len(acts))


def rollout_table(ro: Rollout) -> dict[str, np.ndarray]:
    """The rollout's columns, rounded for display: one row per step t."""
    return {"t": np.arange(len(ro.rewards)), "x": np.round(ro.obs[:, 0], 4), "θ": np.round(ro.obs[:, 2], 4),
            "a_t": ro.actions, "r_t": ro.rewards, "R_t": np.round(ro.returns, 4), "V(s_t)": np.round(ro.values, 4),
            "A_t": np.round(ro.advantages, 4), "log π(a_t|s_t)": np.round(ro.log_prob, 4),
            "H(π(·|s_t))": np.round(ro.entropy, 4), "−A_t log π": np.round(ro.policy_term, 5),
            "α(R_t−V)²": np.round(ro.value_term, 5), "−βH": np.round(ro.entropy_term, 5)}
