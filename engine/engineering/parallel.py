r"""Distributed training: data parallelism and ring all-reduce, model and pipeline parallelism with GPipe's bubble,
synchronous vs asynchronous (stale) updates on real digits, and the communication cost model.

Every worker here is simulated deterministically in one process (a worker is a slice of an array, a "send" is a
copy between rows): the arithmetic is the real one, the parallel hardware is not. The tests check the ring
all-reduce against a brute-force sum and against ``torch.distributed.all_reduce`` with the gloo backend on two
real local processes.

1. `data_parallel`: a batch of B digits split into K shards; each worker's mean-loss gradient of the shared MLP;
   their average $\bar g = \frac1K \sum_k g_k$ equals the gradient of the whole batch *exactly* when the shards have
   equal sizes and the loss is a mean ($\frac1B\sum_i = \frac1K\sum_k \frac{1}{B/K}\sum_{i\in k}$); with unequal
   shards only the size-weighted average $\sum_k \frac{n_k}{B} g_k$ is.
2. `ring_allreduce`: Patarasuk & Yuan's bandwidth-optimal ring (Baidu's / NCCL's / gloo's ring): the vector is cut
   into K chunks; K − 1 reduce-scatter steps (worker i sends chunk (i − s) mod K to worker i + 1, which adds it),
   then K − 1 all-gather steps (worker i sends chunk (i + 1 − s) mod K, which the next copies): 2(K − 1) steps, each
   worker sending one chunk per step, 2(K − 1)N/K values in all.
3. `partition` (model parallelism: contiguous layers on K devices, the largest device load as small as possible)
   and `gpipe_schedule`: micro-batches through a K-stage pipeline, all forwards then all backwards (GPipe's
   synchronous flush); the idle share of the device-time, the bubble, is $(K-1)/(M+K-1)$.
4. `train_async`: softmax regression on real digits where each update uses a gradient computed on parameters τ
   updates old ($w_{t+1} = w_t - \eta\, g(w_{t-\tau})$, as an asynchronous worker or parameter server applies it;
   τ = 0 is synchronous SGD), plus the staleness-aware step η/(1 + τ).
5. `ring_time` / `ps_time` / `cost_model`: the α–β model, ring $2(K-1)(\alpha + \frac{N b}{K B})$ vs one parameter
   server $2(\alpha + \frac{K N b}{S B})$ with S server shards.

References
----------
Patarasuk & Yuan, "Bandwidth optimal all-reduce algorithms for clusters of workstations", JPDC 2009;
Sergeev & Del Balso, "Horovod", 2018; Huang et al., "GPipe", NeurIPS 2019 (§2.2: bubble $O(\frac{K-1}{M+K-1})$);
Dean et al., "Large Scale Distributed Deep Networks" (DistBelief, parameter server), NeurIPS 2012;
Zhang, Gupta, Lian & Liu, "Staleness-aware Async-SGD", IJCAI 2016 (step η/τ); Mnih et al., A3C, ICML 2016.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from engine.common.mlp import mlp_init, mlp_loss_grad
from engine.common.digits import mnist_14 as digits_data


# ------------------------------------------------------------------------------------------ 1. data parallelism
def shard_bounds(B: int, K: int) -> np.ndarray:
    """(K + 1,) boundaries of K contiguous shards of B items (``np.array_split``'s sizes: the first B mod K shards
    one larger)."""
    sizes = np.full(K, B // K, dtype=np.int64)
    sizes[: B % K] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def flat(grads: list[np.ndarray]) -> np.ndarray:
    """The parameters' gradients as one vector (P,), the buffer an all-reduce sends."""
    return np.concatenate([g.ravel() for g in grads])


@dataclass(frozen=True)
class DataParallel:
    K: int
    B: int
    sizes: np.ndarray               # (K,) shard sizes n_k
    labels: tuple                   # K arrays: each worker's digits' labels
    worker_loss: np.ndarray         # (K,) each worker's mean loss on its shard
    worker_grad: np.ndarray         # (K, P) each worker's gradient g_k (of its mean loss)
    bias_grad: np.ndarray           # (K, 10) the output bias part of g_k (drawn)
    mean_grad: np.ndarray           # (P,) (1/K) Σ_k g_k, what an all-reduce average gives
    weighted_grad: np.ndarray       # (P,) Σ_k (n_k/B) g_k
    full_grad: np.ndarray           # (P,) the single-device gradient of the whole batch
    full_loss: float
    err_mean: float                 # max |mean_grad − full_grad|
    err_weighted: float             # max |weighted_grad − full_grad|
    n_params: int


DP_SIZES = (196, 32, 10)            # the MLP every worker holds a copy of


def dp_batch(B: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(x (B, 196), y (B,), params): B real training digits drawn by `seed`, and the MLP's He initialisation."""
    x_tr, y_tr, _, _ = digits_data(0)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(y_tr), B, replace=False)
    return x_tr[idx], y_tr[idx], mlp_init(DP_SIZES, np.random.default_rng(1000 + seed))


def data_parallel(B: int, K: int, seed: int = 0) -> DataParallel:
    r"""K workers, each with a copy of the MLP and its own contiguous shard of the batch; their gradients vs the
    single-device gradient of the whole batch.

    $$\nabla \frac1B \sum_{i=1}^{B} \ell_i = \frac1K \sum_{k=1}^{K} \nabla \frac{1}{B/K} \sum_{i \in S_k} \ell_i
      \quad (|S_k| = B/K)$$"""
    x, y, params = dp_batch(B, seed)
    bounds = shard_bounds(B, K)
    losses, grads = [], []
    for k in range(K):
        sl = slice(bounds[k], bounds[k + 1])
        loss, g = mlp_loss_grad(params, x[sl], y[sl])               # worker k: its shard, its mean loss
        losses.append(loss)
        grads.append(flat(g))
    G = np.stack(grads)                                             # (K, P)
    sizes = np.diff(bounds)
    # ḡ = (1/K) Σ_k g_k          (all-reduce, then divide by K)
    mean = G.mean(axis=0)
    # Σ_k (n_k / B) g_k          (right for any shard sizes)
    weighted = average_gradients(G, sizes)
    full_loss, g_full = mlp_loss_grad(params, x, y)                 # one device, the whole batch
    full = flat(g_full)
    return DataParallel(K, B, sizes, tuple(y[bounds[k]:bounds[k + 1]].copy() for k in range(K)), np.array(losses),
                        G, G[:, -10:].copy(), mean, weighted, full, float(full_loss),
                        float(np.abs(mean - full).max()), float(np.abs(weighted - full).max()), int(full.size))


def average_gradients(grads: np.ndarray, sizes: np.ndarray | None = None) -> np.ndarray:
    r"""What the all-reduce's average must be to equal the whole batch's gradient: $\sum_k \frac{n_k}{B} g_k$ for
    shard sizes $n_k$ ($B = \sum_k n_k$), $\frac1K \sum_k g_k$ when they are equal (or `sizes` is None).
    grads (K, ...) each shard's mean-loss gradient."""
    grads = np.asarray(grads, dtype=float)
    if sizes is None:
        return grads.mean(axis=0)
    w = np.asarray(sizes, dtype=float) / float(np.sum(sizes))           # n_k / B
    return np.tensordot(w, grads, axes=1)


def microbatch_gradient(B: int, M: int, seed: int = 0) -> tuple[float, int]:
    """Pipeline parallelism accumulates the gradients of M micro-batches: (max |(1/M) Σ_m g_m − g_batch|, P) on the
    same model and batch as `data_parallel` (M equal micro-batches; the same identity as K workers)."""
    d = data_parallel(B, M, seed)
    return d.err_mean, d.n_params


# -------------------------------------------------------------------------------------------- 2. ring all-reduce
@dataclass(frozen=True)
class RingAllReduce:
    K: int
    N: int
    bounds: np.ndarray              # (K + 1,) chunk c is [bounds[c], bounds[c + 1])
    states: np.ndarray              # (2K − 1, K, N) every worker's buffer before step 1 and after each step
    has: np.ndarray                 # (2K − 1, K, K, K) bool: has[s, i, c, j] = worker j's values are summed in
                                    #   worker i's chunk c after s steps
    sent: np.ndarray                # (2K − 2, K) the chunk worker i sends to worker (i + 1) mod K at step s + 1
    result: np.ndarray              # (K, N) = states[-1]: every worker holds Σ_j x_j
    values_sent: int                # values one worker sends in all (Σ over steps of its chunk's size)
    steps: int                      # 2(K − 1)


def ring_allreduce(x: np.ndarray) -> RingAllReduce:
    r"""Ring all-reduce (sum) of K workers' vectors x (K, N), step by step.

    Reduce-scatter, steps s = 0 … K − 2: worker i sends chunk (i − s) mod K to worker i + 1, which adds it to its
    own; after them worker i holds the complete sum of chunk (i + 1) mod K. All-gather, s = 0 … K − 2: worker i sends
    chunk (i + 1 − s) mod K, which worker i + 1 copies. Every step's sends happen at once (each reads the buffers of
    the step before). K = 1: nothing to do."""
    x = np.array(x)                                                 # (K, N) a copy; integers stay integers
    K, N = x.shape
    bounds = shard_bounds(N, K)
    buf = x.copy()
    has = np.zeros((K, K, K), bool)
    for i in range(K):
        has[i, :, i] = True                                         # each chunk holds only its own values
    states, hs, sent = [buf.copy()], [has.copy()], []
    for phase in ("reduce_scatter", "all_gather"):
        for s in range(K - 1):
            new, new_has = buf.copy(), has.copy()
            chunks = np.array([(i - s) % K if phase == "reduce_scatter" else (i + 1 - s) % K for i in range(K)])
            for i in range(K):
                j, c = (i + 1) % K, chunks[i]
                a, b = bounds[c], bounds[c + 1]
                if phase == "reduce_scatter":
                    # chunk_c(j) ← chunk_c(j) + chunk_c(i)
                    new[j, a:b] = buf[j, a:b] + buf[i, a:b]
                    new_has[j, c] = has[j, c] | has[i, c]
                else:
                    # chunk_c(j) ← chunk_c(i)   (i holds the finished sum of chunk c)
                    new[j, a:b] = buf[i, a:b]
                    new_has[j, c] = has[i, c]
            buf, has = new, new_has
            states.append(buf.copy())
            hs.append(has.copy())
            sent.append(chunks)
    sizes = np.diff(bounds)
    sent_arr = np.array(sent, dtype=np.int64).reshape(2 * (K - 1), K)
    per_worker = int(sizes[sent_arr[:, 0]].sum()) if K > 1 else 0
    return RingAllReduce(K, N, bounds, np.stack(states), np.stack(hs), sent_arr, buf, per_worker, 2 * (K - 1))


def ring_inputs(K: int, N: int, seed: int = 0) -> np.ndarray:
    """(K, N) small integers, one row per worker: easy to add up by eye on the page."""
    return np.random.default_rng(seed).integers(-9, 10, (K, N)).astype(np.float64)


# ---------------------------------------------------------------------------- 3. model and pipeline parallelism
PP_SIZES = (196, 512, 512, 512, 256, 256, 256, 128, 10)   # the MLP split across devices: 8 Linear layers


def layer_params(sizes: tuple[int, ...]) -> np.ndarray:
    """(L,) parameters of each Linear layer of an MLP with widths `sizes` (weights + biases)."""
    return np.array([a * b + b for a, b in zip(sizes[:-1], sizes[1:])], dtype=np.int64)


def partition(costs: np.ndarray, K: int) -> np.ndarray:
    """(K + 1,) cut points splitting L layers (in order) into K contiguous, non-empty groups with the largest group
    cost as small as possible (the linear-partition dynamic programme; ties: the earliest cuts)."""
    costs = np.asarray(costs, dtype=np.int64)
    L = len(costs)
    if not 1 <= K <= L:
        raise ValueError(f"K = {K} devices for {L} layers")
    pre = np.concatenate([[0], np.cumsum(costs)])
    INF = np.iinfo(np.int64).max
    # best[k][j]: the smallest largest-group cost of the first j layers on k devices
    best = np.full((K + 1, L + 1), INF, dtype=np.int64)
    arg = np.zeros((K + 1, L + 1), dtype=np.int64)
    best[0, 0] = 0
    for k in range(1, K + 1):
        for j in range(k, L + 1):
            for i in range(k - 1, j):                               # the last group is layers i … j − 1
                if best[k - 1, i] == INF:
                    continue
                v = max(best[k - 1, i], pre[j] - pre[i])
                if v < best[k, j]:
                    best[k, j], arg[k, j] = v, i
    cuts = [L]
    for k in range(K, 0, -1):
        cuts.append(int(arg[k, cuts[-1]]))
    return np.array(cuts[::-1], dtype=np.int64)


@dataclass(frozen=True)
class ModelSplit:
    sizes: tuple[int, ...]
    K: int
    params: np.ndarray              # (L,) parameters per layer
    cuts: np.ndarray                # (K + 1,) device d holds layers cuts[d] … cuts[d + 1] − 1
    device_params: np.ndarray       # (K,)
    activations: np.ndarray         # (K − 1,) values per example sent from device d to d + 1 (forward; the
                                    #   gradient of the same size comes back in the backward pass)


def model_split(sizes: tuple[int, ...], K: int) -> ModelSplit:
    p = layer_params(sizes)
    cuts = partition(p, K)
    dev = np.array([p[cuts[d]:cuts[d + 1]].sum() for d in range(K)], dtype=np.int64)
    acts = np.array([sizes[cuts[d]] for d in range(1, K)], dtype=np.int64)
    return ModelSplit(tuple(sizes), K, p, cuts, dev, acts)


@dataclass(frozen=True)
class Schedule:
    K: int                          # devices (pipeline stages)
    M: int                          # micro-batches
    t_f: float                      # one stage's forward time for one micro-batch
    t_b: float                      # … backward time
    ops: tuple                      # (device, "F" | "B", micro-batch, start, end), in the order computed
    makespan: float                 # the whole step's time
    busy: np.ndarray                # (K,) time each device computes
    bubble: float                   # 1 − Σ busy / (K · makespan), measured on the schedule
    bubble_formula: float           # (K − 1)/(M + K − 1)


def gpipe_schedule(K: int, M: int, t_f: float = 1.0, t_b: float = 2.0) -> Schedule:
    r"""GPipe's schedule: every forward first, micro-batch after micro-batch, then every backward (last micro-batch
    first), each operation as early as its device and its input allow:

    F(d, m) starts at max(end F(d, m − 1), end F(d − 1, m)); B(d, m) at max(end of d's previous op,
    end B(d + 1, m)); the last stage starts backward once its forwards are done.

    $$\text{bubble} = 1 - \frac{M (t_f + t_b)}{(M + K - 1)(t_f + t_b)} = \frac{K-1}{M+K-1}$$"""
    F_end = np.zeros((K, M))
    B_end = np.zeros((K, M))
    free = np.zeros(K)                                              # when each device is next free
    ops = []
    for m in range(M):
        for d in range(K):
            start = max(free[d], F_end[d - 1, m] if d > 0 else 0.0)
            F_end[d, m] = free[d] = start + t_f
            ops.append((d, "F", m, start, start + t_f))
    for m in reversed(range(M)):
        for d in reversed(range(K)):
            start = max(free[d], B_end[d + 1, m] if d < K - 1 else 0.0)
            B_end[d, m] = free[d] = start + t_b
            ops.append((d, "B", m, start, start + t_b))
    makespan = float(max(e for *_, e in ops))
    busy = np.zeros(K)
    for d, _, _, s, e in ops:
        busy[d] += e - s
    return Schedule(K, M, float(t_f), float(t_b), tuple(ops), makespan, busy,
                    float(1.0 - busy.sum() / (K * makespan)), (K - 1) / (M + K - 1))


# ------------------------------------------------------------------------------ 4. synchronous vs asynchronous
VARIANTS = ("sync", "stale", "stale_scaled")


@dataclass(frozen=True)
class AsyncConfig:
    tau: int = 8                    # staleness τ: the gradient is computed on the parameters of τ updates ago
    lr: float = 1.0                 # η
    batch: int = 32                 # examples per gradient (one worker's mini-batch)
    steps: int = 400                # updates
    every: int = 10                 # updates between snapshots
    seed: int = 0


@dataclass(frozen=True)
class AsyncSnapshot:
    step: int
    names: tuple[str, ...]
    taus: tuple[int, ...]           # staleness of each variant
    lrs: tuple[float, ...]          # η of each variant
    steps: np.ndarray               # (S,)
    loss: np.ndarray                # (V, S) mean cross-entropy on 1 000 training digits (capped at LOSS_CAP)
    test_acc: np.ndarray            # (V, S) accuracy on the 1 000 held-out digits
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


LOSS_CAP = 50.0                     # a diverged run's loss is drawn at this height


def softmax_grad(W: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Softmax regression with a bias column: mean cross-entropy and its gradient.

    $$L = -\frac1B \sum_i \log \mathrm{softmax}(W^\top \tilde x_i)_{y_i},\quad
      \nabla_W L = \frac1B \tilde X^\top (P - Y),\quad \tilde x = (x, 1)$$"""
    B = len(y)
    xb = np.concatenate([x, np.ones((B, 1))], axis=1)               # (B, 197)
    z = xb @ W                                                      # (B, 10)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = float(-np.log(p[np.arange(B), y] + 1e-300).mean())
    p[np.arange(B), y] -= 1.0                                       # P − Y
    return loss, xb.T @ p / B                                       # (197, 10)


def with_bias(x: np.ndarray) -> np.ndarray:
    """(n, 197): x with a column of ones."""
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


def softmax_eval(W: np.ndarray, xb: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean loss, accuracy) on inputs with their bias column `xb` (n, 197); inf where W is no longer finite."""
    if not np.isfinite(W).all():
        return float("inf"), 0.1
    z = xb @ W
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float((z.argmax(axis=1) == y).mean())


def stale_sgd(W0: np.ndarray, batches, tau: int, lr: float) -> Iterator[np.ndarray]:
    r"""$w_{t+1} = w_t - \eta\, g_t(w_{t-\tau})$ (τ clipped to t at the start): yields $w_1, w_2, \dots$ for the
    mini-batches (x, y) in `batches`. τ = 0 is plain (synchronous) SGD."""
    history = [W0.copy()]                                           # w_0 … w_t, the last τ + 1 kept
    for x, y in batches:
        stale = history[max(0, len(history) - 1 - tau)]            # w_{t − τ}
        _, g = softmax_grad(stale, x, y)
        with np.errstate(over="ignore", invalid="ignore"):
            w = history[-1] - lr * g                                # w_{t+1} = w_t − η g(w_{t−τ})
        history.append(w)
        if len(history) > tau + 1:
            history.pop(0)
        yield w


def async_batches(cfg: AsyncConfig, x: np.ndarray, y: np.ndarray):
    """The same sequence of mini-batches for every variant (drawn by `cfg.seed`)."""
    rng = np.random.default_rng(cfg.seed)
    for _ in range(cfg.steps):
        idx = rng.choice(len(y), cfg.batch, replace=False)
        yield x[idx], y[idx]


def train_async(cfg: AsyncConfig) -> Iterator[AsyncSnapshot]:
    """Three runs on the same mini-batches of real digits from W = 0: synchronous (τ = 0), stale (τ), stale with the
    staleness-aware step η/(1 + τ); a snapshot every `cfg.every` updates."""
    x_tr, y_tr, x_te, y_te = digits_data(cfg.seed)
    x_ev, y_ev = with_bias(x_tr[:1000]), y_tr[:1000]
    x_te = with_bias(x_te)
    taus = (0, cfg.tau, cfg.tau)
    lrs = (cfg.lr, cfg.lr, cfg.lr / (1 + cfg.tau))
    W0 = np.zeros((197, 10))
    runs = [stale_sgd(W0, async_batches(cfg, x_tr, y_tr), t, lr) for t, lr in zip(taus, lrs)]
    V, S = len(VARIANTS), cfg.steps // cfg.every + 2
    steps = np.zeros(S, dtype=np.int64)
    loss, acc = np.empty((V, S)), np.empty((V, S))
    t0 = time.perf_counter()
    current = [W0] * V
    n, done = 0, 0

    def record() -> None:
        for v in range(V):
            ls, ac = softmax_eval(current[v], x_ev, y_ev)
            loss[v, n] = min(ls, LOSS_CAP)
            acc[v, n] = softmax_eval(current[v], x_te, y_te)[1]
        steps[n] = done

    def snapshot() -> AsyncSnapshot:
        metrics = {}
        for v, name in enumerate(VARIANTS):
            metrics[f"{name}.loss"] = float(loss[v, n - 1])
            metrics[f"{name}.acc"] = float(acc[v, n - 1])
        return AsyncSnapshot(done, VARIANTS, taus, lrs, steps[:n].copy(), loss[:, :n].copy(), acc[:, :n].copy(),
                             metrics, time.perf_counter() - t0)

    record()
    n = 1
    yield snapshot()
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        for _ in range(done, stop):
            current = [next(r) for r in runs]
        done = stop
        record()
        n += 1
        yield snapshot()


# ----------------------------------------------------------------------------------------- 5. communication cost
def ring_time(N: float, K: int, alpha: float, bandwidth: float, bytes_per: float = 4.0) -> float:
    r"""Ring all-reduce of N parameters on K workers: $2(K-1)\left(\alpha + \frac{N b}{K B}\right)$ seconds
    (α latency per message in s, B bandwidth of each link in bytes/s, b bytes per value); 0 for K = 1."""
    # 2(K − 1) steps, each one message of N/K values per link
    return 2 * (K - 1) * (alpha + N * bytes_per / (K * bandwidth))


def ps_time(N: float, K: int, alpha: float, bandwidth: float, bytes_per: float = 4.0, servers: int = 1) -> float:
    r"""Parameter server(s): every worker pushes its N-value gradient and pulls N new values; the S servers' links
    carry K·N/S values each way: $2\left(\alpha + \frac{K N b}{S B}\right)$ seconds (0 for K = 1: nothing to
    exchange)."""
    if K == 1:
        return 0.0
    # push: K·N·b/S bytes into each server's link; pull: the same out
    return 2 * (alpha + K * N * bytes_per / (servers * bandwidth))


MODEL_SIZES = (1_000_000, 11_700_000, 25_600_000, 110_000_000, 340_000_000, 1_500_000_000, 7_000_000_000)
BANDWIDTHS = (1, 10, 100, 400, 2400)          # link bandwidths offered, Gbit/s (÷ 8 → GB/s)


@dataclass(frozen=True)
class CostModel:
    Ks: np.ndarray                  # (n,) worker counts drawn
    ring: np.ndarray                # (n,) ring all-reduce time (s)
    ps: np.ndarray                  # (n,) parameter-server time (s)
    compute: float                  # one worker's forward + backward time (s)
    speedup_ring: np.ndarray        # (n,) K·t_c / (t_c + t_ring): samples per second vs one device
    speedup_ps: np.ndarray          # (n,)
    K: int                          # the learner's K
    ring_K: float
    ps_K: float
    bytes_sent_ring: float          # bytes one worker sends in the ring: 2(K − 1)/K · N b
    bytes_server_ps: float          # bytes through one server's link each way: K N b / S


def cost_model(N: float, K: int, alpha: float, bandwidth: float, bytes_per: float, compute: float,
               servers: int = 1, k_max: int = 64) -> CostModel:
    """The ring and the parameter server for K = 1 … max(k_max, K); speedup with each worker's batch fixed (weak
    scaling) and no overlap of communication with the backward pass."""
    Ks = np.arange(1, max(k_max, K) + 1)
    ring = np.array([ring_time(N, k, alpha, bandwidth, bytes_per) for k in Ks])
    ps = np.array([ps_time(N, k, alpha, bandwidth, bytes_per, servers) for k in Ks])
    return CostModel(Ks, ring, ps, float(compute), Ks * compute / (compute + ring), Ks * compute / (compute + ps),
                     int(K), ring_time(N, K, alpha, bandwidth, bytes_per),
                     ps_time(N, K, alpha, bandwidth, bytes_per, servers), 2 * (K - 1) / K * N * bytes_per,
                     K * N * bytes_per / servers)
