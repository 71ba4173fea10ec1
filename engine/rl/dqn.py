r"""Value-based RL: tabular Q-learning on a grid world the learner edits (checked against value iteration), then
DQN and Double DQN on CartPole with experience replay, a target network and an ε schedule.

Q-learning (Watkins 1989) moves one table entry towards the one-step bootstrapped target:

$$Q(s,a) \leftarrow Q(s,a) + \alpha\big[r + \gamma \max_{a'} Q(s',a') - Q(s,a)\big]$$

and converges to the fixed point of the Bellman optimality equation, which value iteration computes exactly:

$$Q^*(s,a) = r(s,a) + \gamma \max_{a'} Q^*(s',a').$$

DQN (Mnih et al. 2015) replaces the table with a network $Q(s,a;\theta)$ trained on minibatches drawn uniformly
from a replay buffer, towards targets computed with a periodically copied target network $\theta^-$:

$$y = r + \gamma (1-d) \max_{a'} Q(s',a';\theta^-),\qquad
L(\theta) = \frac1N\sum_i \ell_\delta\big(Q(s_i,a_i;\theta) - y_i\big)$$

with the Huber loss $\ell_\delta$ (δ = 1, `smooth_l1_loss`, as stable-baselines3). Double DQN (van Hasselt et al.
2016) selects the next action with the online network and evaluates it with the target network:

$$y^{\text{Double}} = r + \gamma (1-d)\, Q\big(s', \arg\max_{a'} Q(s',a';\theta);\theta^-\big).$$

The network's forward and backward passes are written out in numpy (tested against torch autograd and
stable-baselines3's `DQN.train`).

References
----------
Watkins, "Learning from delayed rewards", PhD thesis, 1989; Watkins & Dayan, "Q-learning", Machine Learning 1992.
Mnih et al., "Human-level control through deep reinforcement learning", Nature 2015 (Algorithm 1).
van Hasselt, Guez & Silver, "Deep Reinforcement Learning with Double Q-learning", AAAI 2016 (section
"Double DQN"; their Eq. 4 is tabular Double Q-learning's target with a second set of weights θ′).
Raffin et al., stable-baselines3 `DQN.train`, `DQN._on_step`, `ReplayBuffer`, `get_linear_fn`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from engine.common import cartpole
from engine.common.optim import NumpyAdam

# ================================================================================================ grid world
ACTIONS = ("up", "right", "down", "left")
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))        # (row, col) change of each action
ARROWS = ("↑", "→", "↓", "←")
CELLS = {".": "empty", "#": "wall", "S": "start", "G": "goal", "X": "pit"}
GOAL_REWARD, PIT_REWARD = 1.0, -1.0
MAX_SIDE = 8                                       # rows and columns of an edited grid
MAX_TEXT = 200                                     # characters of the grid text read at most
DEFAULT_GRID = "....G\n.#.#X\n.#...\nS..#."


class GridError(ValueError):
    """A grid text that cannot be a grid world; `code` names the reason (the page translates it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Grid:
    """A deterministic grid world: four moves, walls block (the agent stays), G (+1) and X (−1) end the episode;
    every other step gives 0."""

    rows: tuple[str, ...]        # the cells, one string per row
    start: int                   # state index r·W + c of S

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0])

    @property
    def n_states(self) -> int:
        return self.shape[0] * self.shape[1]

    def cell(self, s: int) -> str:
        W = self.shape[1]
        return self.rows[s // W][s % W]

    def terminal(self, s: int) -> bool:
        return self.cell(s) in "GX"

    def step(self, s: int, a: int) -> tuple[int, float, bool]:
        """(s', r, done) of action a in state s."""
        H, W = self.shape
        r, c = divmod(s, W)
        dr, dc = MOVES[a]
        r2, c2 = r + dr, c + dc
        if not (0 <= r2 < H and 0 <= c2 < W) or self.rows[r2][c2] == "#":
            r2, c2 = r, c                                        # bumped into the edge or a wall: stay
        s2 = r2 * W + c2
        ch = self.rows[r2][c2]
        reward = GOAL_REWARD if ch == "G" else PIT_REWARD if ch == "X" else 0.0
        return s2, reward, ch in "GX"


def parse_grid(text: str) -> Grid:
    """Read a grid from text: one row per line, cells `.` empty, `#` wall, `S` start (exactly one), `G` goal
    (at least one), `X` pit; spaces ignored, lower case accepted, at most 8×8. Raises GridError(code)."""
    if not isinstance(text, str):
        raise GridError("empty")
    if len(text) > MAX_TEXT:
        raise GridError("too_big")
    lines = ["".join(line.split()).upper() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise GridError("empty")
    if len(lines) > MAX_SIDE or max(len(line) for line in lines) > MAX_SIDE:
        raise GridError("too_big")
    if len({len(line) for line in lines}) > 1:
        raise GridError("ragged")
    if any(ch not in CELLS for line in lines for ch in line):
        raise GridError("bad_char")
    flat = "".join(lines)
    if flat.count("S") != 1:
        raise GridError("no_start" if "S" not in flat else "many_starts")
    if "G" not in flat:
        raise GridError("no_goal")
    return Grid(tuple(lines), flat.index("S"))


def grid_text(grid: Grid) -> str:
    return "\n".join(grid.rows)


def transitions(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole model: next state, reward and done of every (s, a). Returns (S, 4) int, (S, 4), (S, 4) bool."""
    S = grid.n_states
    nxt, rew, done = np.zeros((S, 4), int), np.zeros((S, 4)), np.zeros((S, 4), bool)
    for s in range(S):
        for a in range(4):
            nxt[s, a], rew[s, a], done[s, a] = grid.step(s, a)
    return nxt, rew, done


def open_states(grid: Grid) -> np.ndarray:
    """(S,) bool: cells the agent can stand on and act from (not a wall, not terminal)."""
    return np.array([grid.cell(s) not in "#GX" for s in range(grid.n_states)])


def reachable_states(grid: Grid) -> np.ndarray:
    """(S,) bool: open cells reachable from S (cells cut off by walls never get an update)."""
    nxt, _, done = transitions(grid)
    seen, todo = {grid.start}, [grid.start]
    while todo:
        s = todo.pop()
        for a in range(4):
            s2 = int(nxt[s, a])
            if not done[s, a] and s2 not in seen:
                seen.add(s2)
                todo.append(s2)
    return np.array([s in seen for s in range(grid.n_states)])


@dataclass(frozen=True)
class ValueIteration:
    Q: np.ndarray                # (S, 4) Q*(s, a); 0 for walls and terminal cells
    V: np.ndarray                # (S,) V*(s) = max_a Q*(s, a)
    iterations: int              # sweeps until max |ΔQ| < tol
    deltas: np.ndarray           # (iterations,) max |ΔQ| of each sweep


def value_iteration(grid: Grid, gamma: float, tol: float = 1e-12, max_iter: int = 10_000) -> ValueIteration:
    r"""Q-value iteration on the known model: $Q_{k+1}(s,a) = r(s,a) + \gamma(1-d)\max_{a'}Q_k(s',a')$ for
    every open state at once, until the largest change is below `tol` (a γ-contraction, so it converges)."""
    nxt, rew, done = transitions(grid)
    ok = open_states(grid)
    Q = np.zeros((grid.n_states, 4))
    deltas = []
    for _ in range(max_iter):
        # Q(s,a) = r + γ (1 − d) max_a' Q(s', a')
        new = rew + gamma * (1 - done) * Q.max(1)[nxt]
        new[~ok] = 0.0
        deltas.append(float(np.abs(new - Q).max()))
        Q = new
        if deltas[-1] < tol:
            break
    return ValueIteration(Q, Q.max(1), len(deltas), np.array(deltas))


def q_update(q_sa: float, r: float, q_next_max: float, done: bool, alpha: float, gamma: float) -> float:
    r"""One Q-learning update: $Q \leftarrow Q + \alpha[r + \gamma(1-d)\max_{a'}Q(s',a') - Q]$."""
    # target = r + γ (1 − d) max_a' Q(s', a')
    target = r + gamma * (0.0 if done else q_next_max)
    return q_sa + alpha * (target - q_sa)


def epsilon_greedy_probs(q: np.ndarray, epsilon: float) -> np.ndarray:
    r"""π(a|s) of ε-greedy over a row of Q values: $1-\varepsilon+\varepsilon/|A|$ for the greedy action (ties
    share it), $\varepsilon/|A|$ for the others. Returns (|A|,)."""
    q = np.asarray(q, float)
    best = np.isclose(q, q.max(), rtol=0, atol=1e-12)
    return epsilon / len(q) + (1 - epsilon) * best / best.sum()


@dataclass(frozen=True)
class QConfig:
    """Tabular Q-learning settings."""

    alpha: float = 0.5           # learning rate α
    gamma: float = 0.9           # discount γ
    epsilon: float = 0.2         # ε of ε-greedy (constant)
    episodes: int = 200          # episodes to run
    max_steps: int = 100         # an episode is cut after this many steps
    seed: int = 0


@dataclass(frozen=True)
class QUpdate:
    """The numbers of one update Q(s,a) ← Q(s,a) + α[r + γ max Q(s',·) − Q(s,a)]."""

    s: int
    a: int
    r: float
    s2: int
    done: bool
    q_old: float
    q_next_max: float
    target: float
    q_new: float


@dataclass(frozen=True)
class QSnapshot:
    episode: int                 # episodes finished
    Q: np.ndarray                # (S, 4) the table after them
    visits: np.ndarray           # (S, 4) updates of each entry so far
    length: int                  # steps of the last episode
    ret: float                   # undiscounted return of the last episode
    path: tuple                  # states visited in the last episode
    last: QUpdate | None         # the last update of the last episode


def q_learning(grid: Grid, cfg: QConfig) -> Iterator[QSnapshot]:
    """Q-learning with ε-greedy behaviour (greedy ties broken at random), one snapshot per episode (episode 0 =
    the empty table)."""
    rng = np.random.default_rng(cfg.seed)
    Q = np.zeros((grid.n_states, 4))
    visits = np.zeros((grid.n_states, 4), int)
    yield QSnapshot(0, Q.copy(), visits.copy(), 0, 0.0, (grid.start,), None)
    for ep in range(1, cfg.episodes + 1):
        s, ret, path, last = grid.start, 0.0, [grid.start], None
        for _ in range(cfg.max_steps):
            if rng.random() < cfg.epsilon:
                a = int(rng.integers(4))
            else:
                a = int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))
            s2, r, done = grid.step(s, a)
            q_next = float(Q[s2].max())
            new = q_update(Q[s, a], r, q_next, done, cfg.alpha, cfg.gamma)
            last = QUpdate(s, a, r, s2, done, float(Q[s, a]), q_next,
                           r + cfg.gamma * (0.0 if done else q_next), new)
            Q[s, a] = new
            visits[s, a] += 1
            ret += r
            path.append(s2)
            s = s2
            if done:
                break
        yield QSnapshot(ep, Q.copy(), visits.copy(), len(path) - 1, ret, tuple(path), last)


def greedy_path(grid: Grid, Q: np.ndarray, max_steps: int = 64) -> list[int]:
    """States visited from S following argmax_a Q (first maximum), until a terminal cell, a repeat or max_steps."""
    s, path = grid.start, [grid.start]
    for _ in range(max_steps):
        s, _, done = grid.step(s, int(np.argmax(Q[s])))
        if s in path:
            path.append(s)
            break
        path.append(s)
        if done:
            break
    return path


@dataclass(frozen=True)
class QRun:
    """A whole Q-learning run and its distance from the exact answer."""

    snaps: tuple                 # QSnapshot per episode, 0 … episodes
    q_star: np.ndarray           # (S, 4) value iteration's Q*
    errors: np.ndarray           # (episodes + 1,) max over reachable (s, a) of |Q − Q*|
    lengths: np.ndarray          # (episodes + 1,) steps of each episode (0 for episode 0)
    returns: np.ndarray          # (episodes + 1,) undiscounted return of each episode


def run_q_learning(grid: Grid, cfg: QConfig) -> QRun:
    """Every snapshot of `q_learning` with max |Q − Q*| over the reachable states (Q* by value iteration)."""
    snaps = tuple(q_learning(grid, cfg))
    q_star = value_iteration(grid, cfg.gamma).Q
    reach = reachable_states(grid)
    errors = np.array([float(np.abs(s.Q[reach] - q_star[reach]).max()) if reach.any() else 0.0 for s in snaps])
    return QRun(snaps, q_star, errors, np.array([s.length for s in snaps]), np.array([s.ret for s in snaps]))


# ================================================================================================ DQN
OBS_DIM, N_ACTIONS = 4, 2


def init_params(hidden: int, rng: np.random.Generator) -> list[np.ndarray]:
    """θ = [W1 (4, H), b1 (H,), W2 (H, H), b2 (H,), W3 (H, 2), b3 (2,)] drawn as torch.nn.Linear draws them:
    U(−1/√fan_in, 1/√fan_in) for weights and biases (the MLP of stable-baselines3's DQN, net_arch [H, H])."""
    out = []
    for fan_in, fan_out in ((OBS_DIM, hidden), (hidden, hidden), (hidden, N_ACTIONS)):
        bound = 1 / math.sqrt(fan_in)
        out += [rng.uniform(-bound, bound, (fan_in, fan_out)), rng.uniform(-bound, bound, fan_out)]
    return out


def n_params(params) -> int:
    return int(sum(p.size for p in params))


def q_values(params, obs: np.ndarray) -> np.ndarray:
    """Q(s, ·; θ) = W3ᵀ relu(W2ᵀ relu(W1ᵀ s + b1) + b2) + b3 for a batch (N, 4). Returns (N, 2)."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.maximum(obs @ W1 + b1, 0)                                  # (N, H)
    h2 = np.maximum(h1 @ W2 + b2, 0)                                   # (N, H)
    return h2 @ W3 + b3                                                # (N, 2)


def td_targets(online, target, rewards: np.ndarray, next_obs: np.ndarray, dones: np.ndarray, gamma: float,
               double: bool) -> np.ndarray:
    r"""DQN: $y = r + \gamma(1-d)\max_{a'}Q(s',a';\theta^-)$; Double DQN:
    $y = r + \gamma(1-d)\,Q(s',\arg\max_{a'}Q(s',a';\theta);\theta^-)$. Returns (N,)."""
    q_next = q_values(target, next_obs)                                # (N, 2) Q(s', ·; θ⁻)
    if double:
        a_star = q_values(online, next_obs).argmax(1)                  # (N,) chosen by the online network
        v_next = q_next[np.arange(len(a_star)), a_star]                # evaluated by the target network
    else:
        v_next = q_next.max(1)
    # y = r + γ (1 − d) Q(s', a*; θ⁻)
    return rewards + gamma * (1.0 - dones) * v_next


def huber(x: np.ndarray, delta: float = 1.0) -> np.ndarray:
    r"""$\ell_\delta(x) = \tfrac12 x^2$ for $|x|<\delta$, $\delta(|x| - \tfrac12\delta)$ otherwise (torch's
    `smooth_l1_loss` with β = δ = 1 and `huber_loss` with δ = 1 are the same function)."""
    ax = np.abs(x)
    return np.where(ax < delta, 0.5 * x * x, delta * (ax - 0.5 * delta))


@dataclass(frozen=True)
class Loss:
    loss: float              # mean Huber(Q(s,a) − y)
    q_sa: np.ndarray         # (N,) Q(s_i, a_i; θ)
    td_error: np.ndarray     # (N,) Q(s_i, a_i; θ) − y_i
    grads: list              # ∂loss/∂θ, one array per parameter


def loss_and_grads(params, obs: np.ndarray, actions: np.ndarray, targets: np.ndarray) -> Loss:
    r"""$L = \frac1N\sum_i \ell_1(Q(s_i,a_i;\theta) - y_i)$ and its gradient by hand-written backpropagation;
    the targets are constants (no gradient flows into θ⁻ or through y).

    $\partial L/\partial Q(s_i,a_i) = \mathrm{clip}(Q(s_i,a_i) - y_i, -1, 1)/N$, zero for the other action."""
    W1, b1, W2, b2, W3, b3 = params
    N = len(obs)
    pre1 = obs @ W1 + b1
    h1 = np.maximum(pre1, 0)                                           # (N, H)
    pre2 = h1 @ W2 + b2
    h2 = np.maximum(pre2, 0)                                           # (N, H)
    q = h2 @ W3 + b3                                                   # (N, 2)
    idx = np.arange(N)
    q_sa = q[idx, actions]                                             # (N,)
    d = q_sa - targets
    loss = float(huber(d).mean())
    dq = np.zeros_like(q)
    # ∂ℓ₁/∂d = clip(d, −1, 1)
    dq[idx, actions] = np.clip(d, -1.0, 1.0) / N                       # (N, 2)
    dh2 = (dq @ W3.T) * (pre2 > 0)                                     # (N, H)
    dh1 = (dh2 @ W2.T) * (pre1 > 0)                                    # (N, H)
    grads = [obs.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dq, dq.sum(0)]
    return Loss(loss, q_sa, d, grads)


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """torch.nn.utils.clip_grad_norm_: scale every gradient by min(1, max_norm / (‖g‖ + 1e-6))."""
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    coef = min(1.0, max_norm / (norm + 1e-6))
    return ([g * coef for g in grads] if coef < 1.0 else grads), norm


def bootstrap_ceiling(backups: int, gamma: float) -> float:
    r"""How far bootstrapping can raise Q in `backups` Bellman backups from Q = 0 when every step pays r = 1:
    $\sum_{i<n}\gamma^i = (1-\gamma^n)/(1-\gamma)$. With a frozen target network each period is about one backup
    (the online network fits $1 + \gamma Q^-$ and θ⁻ only changes at a copy), so after n copies Q is near this
    ceiling however good the policy already is: the price of the target network's stability."""
    return (1.0 - gamma ** backups) / (1.0 - gamma)


def linear_epsilon(step: int, initial: float, final: float, fraction: float, total: int) -> float:
    r"""The ε schedule of stable-baselines3's DQN (`get_linear_fn` on the progress $p = t/T$):
    $\varepsilon = \varepsilon_0 + p(\varepsilon_1-\varepsilon_0)/f$ while $p \le f$, then $\varepsilon_1$."""
    p = step / total
    if p > fraction:
        return final
    return initial + p * (final - initial) / fraction


class ReplayBuffer:
    """A circular buffer of transitions (s, a, r, s', d) in numpy arrays; `sample` draws indices uniformly with
    replacement, as stable-baselines3's ReplayBuffer does. `d` is 1 only when the episode *terminated* (a time-limit
    truncation keeps bootstrapping: stable-baselines3's `handle_timeout_termination`)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.obs = np.zeros((capacity, OBS_DIM), np.float32)
        self.next_obs = np.zeros((capacity, OBS_DIM), np.float32)
        self.actions = np.zeros(capacity, np.int64)
        self.rewards = np.zeros(capacity)
        self.dones = np.zeros(capacity)
        self.episode = np.zeros(capacity, np.int64)                   # which episode each transition came from
        self.pos = self.size = 0

    def add(self, obs, action: int, reward: float, next_obs, done: bool, episode: int) -> None:
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.dones[i], self.episode[i] = next_obs, done, episode
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(0, self.size, batch_size)

    def recent_indices(self, batch_size: int) -> np.ndarray:
        """The last `batch_size` transitions in the order they happened (what learning online would use)."""
        return (self.pos - batch_size + np.arange(batch_size)) % self.capacity

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        return self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.dones[idx]


@dataclass(frozen=True)
class Config:
    """DQN settings (stable-baselines3's names and, where they learn CartPole, its defaults)."""

    learning_rate: float = 1e-3          # Adam step size
    buffer_size: int = 50_000            # replay capacity (transitions)
    learning_starts: int = 1_000         # env steps before the first gradient step
    batch_size: int = 64                 # transitions per gradient step
    gamma: float = 0.99                  # discount γ
    train_freq: int = 4                  # env steps between gradient steps (stable-baselines3 default)
    target_update_interval: int = 500    # env steps between θ⁻ ← θ (1 = no separate target network)
    exploration_fraction: float = 0.2    # share of max_env_steps over which ε falls linearly
    exploration_initial_eps: float = 1.0
    exploration_final_eps: float = 0.02
    max_grad_norm: float = 10.0
    hidden: int = 64                     # width of both hidden layers
    max_env_steps: int = 50_000          # training ends after this many environment steps
    snapshot_every: int = 500            # environment steps between snapshots (one live pull: well under 0.35 s)
    seed: int = 0


def initial_params(cfg: Config) -> list[np.ndarray]:
    """θ at step 0 of both DQN and Double DQN for this config (seed stream 0); θ⁻ starts equal to it."""
    return init_params(cfg.hidden, np.random.default_rng([cfg.seed, 0]))


def _flat(params: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One contiguous vector holding every parameter, and the parameters as reshaped views into it."""
    flat = np.concatenate([p.ravel() for p in params])
    views, o = [], 0
    for p in params:
        views.append(flat[o:o + p.size].reshape(p.shape))
        o += p.size
    return flat, views


@dataclass(frozen=True)
class Estimate:
    """Over-estimation measured on the greedy policy's own states: the network's value max_a Q(s_t, a) against
    the discounted return actually collected from s_t on (as van Hasselt et al. 2016 measure it)."""

    q_max: float             # mean over the states of max_a Q(s_t, a; θ)
    true_return: float       # mean over the same states of Σ_k γ^k r_{t+k}
    episode_return: float    # mean undiscounted return of the greedy episodes (capped at 500)
    n_states: int            # states averaged over


def measure_estimate(params, gamma: float, seed: int, n_episodes: int = 4) -> Estimate:
    """Run `n_episodes` greedy episodes (ε = 0) in parallel from seeded starts for up to 1 000 steps; for every
    state of the first 500 steps of each compare max_a Q with the discounted return from there on (the 500 steps
    beyond cut the tail to γ^500 < 0.7 % at γ = 0.99, so the time limit does not bias the 'true' return)."""
    horizon, keep = 2 * cartpole.MAX_EPISODE_STEPS, cartpole.MAX_EPISODE_STEPS
    rng = np.random.default_rng([seed, 7])
    s = cartpole.reset_states(rng, n_episodes)
    alive = np.ones(n_episodes, bool)
    qmax = np.zeros((horizon, n_episodes))
    rew = np.zeros((horizon, n_episodes))
    for t in range(horizon):
        q = q_values(params, s.astype(np.float32))                   # (E, 2)
        qmax[t] = q.max(1)
        rew[t] = alive
        s, term = cartpole.step_states(s, q.argmax(1))
        alive &= ~term
        if not alive.any():
            horizon = t + 1
            break
    qmax, rew = qmax[:horizon], rew[:horizon]
    G = np.zeros_like(rew)
    acc = np.zeros(n_episodes)
    for t in range(horizon - 1, -1, -1):
        # G_t = r_t + γ G_{t+1}
        acc = rew[t] + gamma * acc
        G[t] = acc
    mask = (rew > 0)
    mask[keep:] = False
    return Estimate(float(qmax[mask].mean()), float(G[mask].mean()),
                    float(np.minimum(rew.sum(0), keep).mean()), int(mask.sum()))


@dataclass(frozen=True)
class Snapshot:
    step: int                # environment steps so far
    metrics: dict            # return (last 20 episodes), loss, q_max, true_return, overestimate, epsilon, ...
    params: tuple            # θ at this point
    updates: int             # gradient steps so far
    target_updates: int      # θ⁻ ← θ copies so far
    episodes: int            # finished training episodes
    seconds: float = 0.0     # wall clock (the one field allowed to differ between runs)


def _random_return(seed: int, n: int = 20) -> float:
    """Mean return of n episodes of uniformly random actions (what ε = 1 does at step 0), own stream."""
    rng = np.random.default_rng([seed, 5])
    s = cartpole.reset_states(rng, n)
    alive, ret = np.ones(n, bool), np.zeros(n)
    for _ in range(cartpole.MAX_EPISODE_STEPS):
        ret += alive
        s, term = cartpole.step_states(s, rng.integers(0, 2, n))
        alive &= ~term
        if not alive.any():
            break
    return float(ret.mean())


def train_dqn(cfg: Config, double: bool = False, replay: bool = True) -> Iterator[Snapshot]:
    r"""DQN (or Double DQN) on one CartPole, in stable-baselines3's order: every env step an ε-greedy action, the
    transition into the buffer, ε from the linear schedule, θ⁻ ← θ every `target_update_interval` steps; after
    `learning_starts` steps one gradient step every `train_freq` steps on a uniformly sampled minibatch:

    $$\theta \leftarrow \mathrm{Adam}\Big(\nabla_\theta \tfrac1N\textstyle\sum_i
    \ell_1\big(Q(s_i,a_i;\theta) - y_i\big)\Big)$$

    with the gradient norm clipped to `max_grad_norm`. Yields a snapshot every `snapshot_every` environment
    steps until `max_env_steps`. DQN and Double DQN share θ at step 0, the environment and ε streams.
    `replay=False` trains on the last `batch_size` transitions in the order they happened instead of a uniform
    sample (learning from the stream: what experience replay replaces).
    """
    t0 = time.perf_counter()
    flat, params = _flat(initial_params(cfg))                         # θ as views into one vector: one Adam update
    target = [p.copy() for p in params]
    opt = NumpyAdam(flat, lr=cfg.learning_rate)
    env_rng = np.random.default_rng([cfg.seed, 1])
    act_rng = np.random.default_rng([cfg.seed, 2])
    batch_rng = np.random.default_rng([cfg.seed, 3])
    buf = ReplayBuffer(cfg.buffer_size)
    env = cartpole.VecCartPole(1, env_rng)
    o = env.obs()[0]
    returns: list[float] = []
    ep_ret, episodes = 0.0, 0
    updates = target_updates = 0
    loss_sum, loss_n, q_sum = 0.0, 0, 0.0
    backups = 0                          # 1 once gradient steps start, +1 at every copy θ⁻ ← θ after that
    est = measure_estimate(params, cfg.gamma, cfg.seed)
    yield Snapshot(0, {"return": _random_return(cfg.seed), "loss": 0.0, "q_max": est.q_max,
                       "true_return": est.true_return, "overestimate": est.q_max - est.true_return,
                       "greedy_return": est.episode_return, "epsilon": cfg.exploration_initial_eps,
                       "q_ceiling": 0.0},
                   tuple(p.copy() for p in params), 0, 0, 0, 0.0)
    eps = cfg.exploration_initial_eps
    for step in range(1, cfg.max_env_steps + 1):
        if act_rng.random() < eps:
            a = int(act_rng.integers(N_ACTIONS))
        else:
            a = int(np.argmax(q_values(params, o[None])[0]))
        o2, r, term, trunc, final = env.step(np.array([a]))
        buf.add(o, a, r[0], final[0], bool(term[0]), episodes)
        ep_ret += r[0]
        if term[0] or trunc[0]:
            returns = (returns + [ep_ret])[-20:]
            episodes += 1
            ep_ret = 0.0
        o = o2[0]
        # stable-baselines3's _on_step: target update, then the new ε
        if step % cfg.target_update_interval == 0:
            target = [p.copy() for p in params]
            target_updates += 1
            backups += step > cfg.learning_starts
        eps = linear_epsilon(step, cfg.exploration_initial_eps, cfg.exploration_final_eps,
                             cfg.exploration_fraction, cfg.max_env_steps)
        backups = max(backups, int(step > cfg.learning_starts))
        if step > cfg.learning_starts and step % cfg.train_freq == 0:
            idx = buf.sample_indices(cfg.batch_size, batch_rng) if replay else buf.recent_indices(cfg.batch_size)
            ob, ac, rw, nob, dn = buf.batch(idx)
            y = td_targets(params, target, rw, nob, dn, cfg.gamma, double)
            loss = loss_and_grads(params, ob, ac, y)
            grads, _ = clip_grad_norm([np.concatenate([g.ravel() for g in loss.grads])], cfg.max_grad_norm)
            opt.step(grads)                                           # updates the views in params in place
            updates += 1
            loss_sum += loss.loss
            q_sum += float(loss.q_sa.mean())
            loss_n += 1
        if step % cfg.snapshot_every == 0 or step == cfg.max_env_steps:
            est = measure_estimate(params, cfg.gamma, cfg.seed)
            m = {"return": float(np.mean(returns)) if returns else 0.0,
                 "loss": loss_sum / max(loss_n, 1), "q_max": est.q_max, "true_return": est.true_return,
                 "overestimate": est.q_max - est.true_return, "greedy_return": est.episode_return,
                 "epsilon": eps, "q_ceiling": bootstrap_ceiling(backups, cfg.gamma)}
            loss_sum, loss_n, q_sum = 0.0, 0, 0.0
            yield Snapshot(step, m, tuple(p.copy() for p in params), updates, target_updates, episodes,
                           time.perf_counter() - t0)


def epsilon_schedule(cfg: Config, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """ε of `linear_epsilon` at `points` environment steps from 0 to max_env_steps. Returns (steps, eps)."""
    steps = np.linspace(0, cfg.max_env_steps, points).astype(int)
    return steps, np.array([linear_epsilon(int(t), cfg.exploration_initial_eps, cfg.exploration_final_eps,
                                           cfg.exploration_fraction, cfg.max_env_steps) for t in steps])


@dataclass(frozen=True)
class QSliceResult:
    theta: np.ndarray        # (G,) pole angle θ (rad)
    theta_dot: np.ndarray    # (G,) angular velocity θ̇ (rad/s)
    greedy: np.ndarray       # (G, G) argmax_a Q(x=0, ẋ=0, θ, θ̇), rows = θ̇ (0 left, 1 right)
    q_max: np.ndarray        # (G, G) max_a Q on the same grid


def q_slice(params, grid: int = 41, x: float = 0.0, x_dot: float = 0.0) -> QSliceResult:
    """The greedy action and max_a Q over the (θ, θ̇) plane at fixed cart position and velocity."""
    th = np.linspace(-cartpole.THETA_THRESHOLD, cartpole.THETA_THRESHOLD, grid)
    thd = np.linspace(-2.0, 2.0, grid)
    T, TD = np.meshgrid(th, thd)                                      # (G, G)
    s = np.stack([np.full(T.size, x), np.full(T.size, x_dot), T.ravel(), TD.ravel()], 1).astype(np.float32)
    q = q_values(list(params), s)                                    # (G², 2)
    return QSliceResult(th, thd, q.argmax(1).reshape(grid, grid), q.max(1).reshape(grid, grid))


# ------------------------------------------------------------------------------------------ replay batches
@dataclass(frozen=True)
class ReplayDemo:
    """A buffer filled by a random policy, and two minibatches drawn from it."""

    theta: np.ndarray            # (size,) pole angle of every stored transition, in the order stored
    episode: np.ndarray          # (size,) episode of every stored transition
    recent: np.ndarray           # (B,) indices of the last B transitions (consecutive)
    uniform: np.ndarray          # (B,) indices drawn uniformly (with replacement)
    corr_recent: float           # lag-1 autocorrelation of θ along the consecutive batch
    corr_uniform: float          # the same along the sampled batch
    episodes_recent: int         # distinct episodes in the consecutive batch
    episodes_uniform: int        # distinct episodes in the sampled batch


def lag1_autocorr(x: np.ndarray) -> float:
    r"""$\rho_1 = \frac{\sum_t (x_t-\bar x)(x_{t+1}-\bar x)}{\sum_t (x_t-\bar x)^2}$ (the sample autocorrelation
    at lag 1, statsmodels' `acf(x, nlags=1)[1]`)."""
    x = np.asarray(x, float)
    d = x - x.mean()
    den = float((d * d).sum())
    return float((d[:-1] * d[1:]).sum() / den) if den > 0 else 0.0


def replay_demo(n_transitions: int, batch_size: int, seed: int) -> ReplayDemo:
    """Fill a buffer with `n_transitions` steps of a random policy on CartPole, then take the last `batch_size`
    transitions (consecutive, as learning online would) and a uniform sample of the same size."""
    rng = np.random.default_rng([seed, 6])
    buf = ReplayBuffer(n_transitions)
    env = cartpole.VecCartPole(1, rng)
    o, ep = env.obs()[0], 0
    for _ in range(n_transitions):
        a = int(rng.integers(2))
        o2, r, term, trunc, final = env.step(np.array([a]))
        buf.add(o, a, r[0], final[0], bool(term[0]), ep)
        if term[0] or trunc[0]:
            ep += 1
        o = o2[0]
    recent = buf.recent_indices(batch_size)
    uniform = buf.sample_indices(batch_size, rng)
    th = buf.obs[:, 2].astype(float)
    return ReplayDemo(th.copy(), buf.episode.copy(), recent, uniform, lag1_autocorr(th[recent]),
                      lag1_autocorr(th[uniform]), len(np.unique(buf.episode[recent])),
                      len(np.unique(buf.episode[uniform])))


# ------------------------------------------------------------------------------------------ max of noisy Q's
@dataclass(frozen=True)
class MaxBias:
    n_actions: np.ndarray        # (K,) numbers of actions
    single: np.ndarray           # (K,) mean of max_a Q̂(a) − max_a Q(a) (one noisy estimate: DQN's max)
    double: np.ndarray           # (K,) mean of Q̂_B(argmax_a Q̂_A(a)) − max_a Q(a) (two independent estimates)
    exact: np.ndarray            # (K,) σ·E[max of n standard normals] (numerical integral)


def expected_max_normal(n: int) -> float:
    r"""$E[\max_{i\le n} Z_i]$ for i.i.d. standard normals: $\int z\, n\,\phi(z)\Phi(z)^{n-1}\,dz$ (trapezoid on a
    fine grid)."""
    z = np.linspace(-10, 10, 20_001)
    phi = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    Phi = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    f = z * n * phi * Phi ** (n - 1)
    return float(((f[1:] + f[:-1]) * np.diff(z)).sum() / 2)


def max_bias(n_actions, sigma: float, trials: int, seed: int) -> MaxBias:
    r"""All actions truly worth 0; each estimate is the truth plus N(0, σ²) noise. The max of one set of estimates
    is biased upwards ($E[\max_a \hat Q(a)] = \sigma E[\max Z] > 0$); choosing with one set and evaluating with an
    independent one (Double Q-learning) is unbiased here."""
    rng = np.random.default_rng(seed)
    ns = np.asarray(n_actions, int)
    single, double = [], []
    for n in ns:
        A = sigma * rng.standard_normal((trials, n))
        B = sigma * rng.standard_normal((trials, n))
        single.append(A.max(1).mean())
        double.append(B[np.arange(trials), A.argmax(1)].mean())
    return MaxBias(ns, np.array(single), np.array(double), np.array([sigma * expected_max_normal(int(n))
                                                                      for n in ns]))
