"""Practice items for Engineering › Distributed training (format: engine/common/practice.py). Every answer comes from
engine/engineering/parallel.py."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.engineering import parallel as P

S = "parallel"


def _ms(v: float) -> str:
    return f"{v:.4g}"


def ring_time(rng: np.random.Generator) -> Item:
    """Ring all-reduce time 2(K − 1)(α + N b/(K B)); distractors: K − 1 steps only, no /K, K instead of K − 1, the
    parameter server's time, the latency forgotten."""
    N = int(rng.choice(P.MODEL_SIZES[:5]))
    K = int(rng.choice([2, 4, 5, 8, 10, 16]))
    gbit = int(rng.choice(P.BANDWIDTHS[1:4]))
    alpha_us = int(rng.choice([1, 5, 20, 100]))
    b = int(rng.choice([2, 4]))
    bw = gbit * 1e9 / 8                                                   # bytes/s
    a = alpha_us * 1e-6
    right = 1e3 * P.ring_time(N, K, a, bw, b)
    mistakes = [(1e3 * (K - 1) * (a + N * b / (K * bw)), text(S, "practice.ring.half")),
                (1e3 * 2 * (K - 1) * (a + N * b / bw), text(S, "practice.ring.no_split")),
                (1e3 * 2 * K * (a + N * b / (K * bw)), text(S, "practice.ring.k_steps")),
                (1e3 * P.ps_time(N, K, a, bw, b), text(S, "practice.ring.ps")),
                (1e3 * 2 * (K - 1) * N * b / (K * bw), text(S, "practice.ring.no_alpha")),
                (1e3 * 2 * (K - 1) * (a + N * b * 8 / (K * bw)), text(S, "practice.ring.bits"))]
    return Item(kind="compute",
                stem=text(S, "practice.ring.stem", N=f"{N:,}", K=K, gbit=gbit, GB=f"{gbit / 8:g}", alpha=alpha_us, b=b),
                choices=numeric_choices(rng, right, text(S, "practice.ring.right"), mistakes, _ms),
                solution=text(S, "practice.ring.solution", N=f"{N:,}", K=K, K1=K - 1, GB=f"{gbit / 8:g}",
                              alpha=alpha_us, b=b, per=_ms(1e3 * N * b / (K * bw)), ans=_ms(right)),
                setup={"parallel.cost_N": text(S, f"models.{N}"), "parallel.cost_K": K,
                       "parallel.cost_bw": text(S, f"links.{gbit}"), "parallel.cost_alpha": alpha_us,
                       "parallel.cost_bytes": text(S, f"dtypes.{b}")},
                params=dict(N=N, K=K, gbit=gbit, alpha_us=alpha_us, b=b), answer=right,
                tolerance=abs(right) * 5e-4)


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


def bubble(rng: np.random.Generator) -> Item:
    """GPipe's bubble (K − 1)/(M + K − 1) from the simulated schedule; distractors: (K − 1)/M, (K − 1)/K (no
    micro-batches), (K − 1)/(M + K), 1/M."""
    K = int(rng.integers(2, 9))
    M = int(rng.integers(1, 33))
    right = P.gpipe_schedule(K, M).bubble
    mistakes = [((K - 1) / M, text(S, "practice.bubble.over_m")), ((K - 1) / K, text(S, "practice.bubble.no_micro")),
                ((K - 1) / (M + K), text(S, "practice.bubble.off_by_one")), (1 / M, text(S, "practice.bubble.one_m")),
                (M / (M + K - 1), text(S, "practice.bubble.busy"))]
    mistakes = [(v, f) for v, f in mistakes if v < 1]                     # a share above 100 % gives itself away
    return Item(kind="compute", stem=text(S, "practice.bubble.stem", K=K, M=M),
                choices=numeric_choices(rng, right, text(S, "practice.bubble.right"), mistakes, _pct),
                solution=text(S, "practice.bubble.solution", K=K, M=M, K1=K - 1, den=M + K - 1, ans=_pct(right)),
                setup={"parallel.pp_K": K, "parallel.pp_M": M},
                params=dict(K=K, M=M), answer=right, tolerance=5e-4)


def shard_average(rng: np.random.Generator) -> Item:
    """The whole batch's gradient from K shards' mean-loss gradients of unequal sizes; distractors: the plain
    average, the sum, the size-weighted sum without /B."""
    K = int(rng.integers(2, 5))
    sizes = rng.choice([8, 12, 16, 20, 24, 32], K)
    if len(set(sizes.tolist())) == 1:
        raise Redraw("equal shards")
    g = np.round(rng.uniform(-2, 2, K), 1)
    right = float(P.average_gradients(g, sizes))
    mistakes = [(float(g.mean()), text(S, "practice.avg.plain")), (float(g.sum()), text(S, "practice.avg.sum")),
                (float((sizes * g).sum()), text(S, "practice.avg.no_b")),
                (float((g / sizes).sum() * sizes.mean()), text(S, "practice.avg.inverse"))]
    shards = ", ".join(f"n{k + 1} = {n}, g{k + 1} = {v:g}" for k, (n, v) in enumerate(zip(sizes, g)))
    terms = " + ".join(f"{n}·({v:g})" for n, v in zip(sizes, g))
    return Item(kind="compute", stem=text(S, "practice.avg.stem", K=K, shards=shards),
                choices=numeric_choices(rng, right, text(S, "practice.avg.right"), mistakes, lambda v: f"{v:.4f}"),
                solution=text(S, "practice.avg.solution", terms=terms, B=int(sizes.sum()), ans=f"{right:.4f}"),
                params=dict(sizes=sizes.tolist(), g=g.tolist()), answer=right, tolerance=5e-4)


_TRUE = ("equal", "steps", "volume", "bubble", "stale", "ps", "model")
_FALSE = ("unequal", "root", "volume_k", "bubble_k", "async_same", "a3c", "model_copy")


def statement(rng: np.random.Generator) -> Item:
    """True statements about distributed training vs the usual misconceptions (the course notes' A3C claim
    included)."""
    choices, inverted = statement_choices(rng, S, "practice.st", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.st.stem_false" if inverted else "practice.st.stem_true"),
                choices=choices, solution=text(S, "practice.st.solution"))


_RING = """def allreduce(x):
    K, N = x.shape
    b = np.linspace(0, N, K + 1).astype(int)        # chunk c is b[c]:b[c + 1]
    buf = x.copy()
    for s in range(K - 1):                          # reduce-scatter
        new = buf.copy()
        for i in range(K):
            ____
            j = (i + 1) % K
            new[j, b[c]:b[c + 1]] += buf[i, b[c]:b[c + 1]]
        buf = new
    for s in range(K - 1):                          # all-gather
        new = buf.copy()
        for i in range(K):
            c = (i + 1 - s) % K
            j = (i + 1) % K
            new[j, b[c]:b[c + 1]] = buf[i, b[c]:b[c + 1]]
        buf = new
    return buf"""
_LINES = {"right": "c = (i - s) % K", "plus": "c = (i + s) % K", "ahead": "c = (i + 1 - s) % K",
          "fixed": "c = i", "step": "c = s % K"}


def ring_blank(rng: np.random.Generator) -> Item:
    """The reduce-scatter's chunk index in a ring all-reduce; each candidate line is run on the item's K × N
    integers and only the right one returns every worker the sum."""
    K = int(rng.integers(3, 6))
    N = int(rng.integers(K, 3 * K + 1))
    x = rng.integers(-9, 10, (K, N)).astype(float)
    ex = Exec("allreduce", (x,), P.ring_allreduce(x).result, atol=1e-9)
    wrong = [(_LINES[k], text(S, f"practice.blank.{k}")) for k in ("plus", "ahead", "fixed", "step")
             if not matches(execute(_RING.replace("____", _LINES[k]), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the sum on this case")
    if not matches(execute(_RING.replace("____", _LINES["right"]), ex), ex):
        raise Redraw("the right line fails")                                 # never: the tests check it
    return Item(kind="blank", stem=text(S, "practice.blank.stem", K=K, N=N), code=_RING,
                choices=code_choices(rng, (_LINES["right"], text(S, "practice.blank.right")), wrong),
                solution=text(S, "practice.blank.solution"),
                params=dict(x=x.tolist()), exec=ex)


GENERATORS = (ring_time, bubble, shard_average, statement, ring_blank)
