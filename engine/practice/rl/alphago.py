"""Practice items for RL › AlphaGo's search (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.rl import alphago as ag

S = "alphago"
C_PUCTS = (0.5, 1.0, 1.5, 2.0)               # among the page's c_puct options (alphago.c_puct)
TAUS = (0.25, 0.5, 1.0, 2.0)                 # among the page's τ options (alphago.tau)
NAMES = ("A", "B", "C")
# a position with exactly cells 1–3 empty and the game on: a node whose three edges are the item's
THREE_EMPTY = (0, 0, 0, 1, -1, 1, -1, 1, -1)


def _node(N, W, P) -> ag.Node:
    node = ag.Node(THREE_EMPTY, np.r_[P, np.zeros(6)].astype(float))
    node.N[:3] = N
    node.W[:3] = W
    return node


def puct_score(rng: np.random.Generator) -> Item:
    """Q + U of one edge from N, W, P and c_puct; distractors: √ΣN dropped, ΣN without the root, N in place of
    1 + N, W in place of W/N, P dropped."""
    N = rng.integers(0, 16, 3)
    if N.sum() == 0:
        raise Redraw("no visits yet")
    q = rng.choice(np.arange(-0.8, 0.81, 0.1), 3)
    W = np.round(q * N, 1) + 0.0                                           # no "-0.0" shown
    P = rng.choice([(0.5, 0.3, 0.2), (0.6, 0.3, 0.1), (0.4, 0.4, 0.2), (0.7, 0.2, 0.1), (0.45, 0.35, 0.2)])
    P = np.array(P)[rng.permutation(3)]
    c = float(rng.choice(C_PUCTS))
    j = int(rng.integers(3))
    node = _node(N, W, P)
    right = float(node.Q[j] + node.U(c)[j])
    total = int(N.sum())
    Qj = float(W[j] / N[j]) if N[j] else 0.0
    fmt = lambda v: f"{v:.3f}"                                            # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.puct.right"), [
        (Qj + c * P[j] / (1 + N[j]), text(S, "practice.puct.no_sqrt")),
        (Qj + c * P[j] * total / (1 + N[j]), text(S, "practice.puct.no_root")),
        (Qj + c * P[j] * np.sqrt(total) / N[j] if N[j] else None, text(S, "practice.puct.no_one")),
        (float(W[j]) + c * P[j] * np.sqrt(total) / (1 + N[j]), text(S, "practice.puct.w_not_q")),
        (Qj + c * np.sqrt(total) / (1 + N[j]), text(S, "practice.puct.no_prior")),
    ], fmt)
    table = "\n".join(f"| {NAMES[i]} | {int(N[i])} | {W[i]:.1f} | {P[i]:.2f} |" for i in range(3))
    U = c * P[j] * np.sqrt(total) / (1 + N[j])
    return Item(kind="compute",
                stem=text(S, "practice.puct.stem", c=c, edge=NAMES[j], table=table),
                choices=choices,
                solution=text(S, "practice.puct.solution", total=total, edge=NAMES[j], W=f"{W[j]:.1f}", N=int(N[j]),
                              Q=f"{Qj:.4f}", c=c, P=f"{P[j]:.2f}", U=f"{U:.4f}", score=fmt(right)),
                setup={"alphago.c_puct": c},
                params={"N": [int(v) for v in N], "W": [float(v) for v in W], "P": [float(v) for v in P], "c": c,
                        "edge": j},
                answer=right, tolerance=0.0005)


def temperature(rng: np.random.Generator) -> Item:
    """π(a) = N(a)^{1/τ} / Σ N(b)^{1/τ} for one move; distractors: τ ignored, N^τ, softmax of N/τ, uniform."""
    n = int(rng.integers(3, 5))
    N = rng.integers(1, 13, n)
    tau = float(rng.choice(TAUS))
    if tau == 0.25 and N.max() > 8:
        raise Redraw("fourth powers too large to work by hand")
    j = int(rng.integers(n))
    right = float(ag.visit_policy(N, tau)[j])
    fmt = lambda v: f"{v:.3f}"                                            # noqa: E731
    powt = N.astype(float) ** tau
    soft = np.exp(N / tau - (N / tau).max())
    choices = numeric_choices(rng, right, text(S, "practice.tau.right"), [
        (float(N[j] / N.sum()), text(S, "practice.tau.ignored")),
        (float(powt[j] / powt.sum()), text(S, "practice.tau.power_tau")),
        (float(soft[j] / soft.sum()), text(S, "practice.tau.softmax")),
        (1.0 / n, text(S, "practice.tau.uniform")),
        (float(N[j] ** (1 / tau) / N.sum()), text(S, "practice.tau.bad_norm")),
    ], fmt)
    powers = N.astype(float) ** (1 / tau)
    return Item(kind="compute",
                stem=text(S, "practice.tau.stem", n=n, N=", ".join(map(str, N)), tau=tau, move=j + 1),
                choices=choices,
                solution=text(S, "practice.tau.solution", inv=f"{1 / tau:g}",
                              powers=", ".join(f"{v:.4g}" for v in powers), total=f"{powers.sum():.4g}",
                              move=j + 1, pj=f"{powers[j]:.4g}", p=fmt(right)),
                setup={"alphago.tau": tau},
                params={"N": [int(v) for v in N], "tau": tau, "move": j}, answer=right, tolerance=0.0005)


def backup_q(rng: np.random.Generator) -> Item:
    """Q(s_root, a) after one backup: a path of d plies, a leaf value v for the player to move at the leaf;
    distractors: no sign flip, the leaf's sign taken as the root's, N not increased, W not updated."""
    d = int(rng.integers(1, 5))
    v = float(rng.choice([-1.0, 1.0, -0.6, -0.4, -0.2, 0.2, 0.4, 0.6, 0.8]))
    n0 = int(rng.integers(1, 10))
    w0 = round(float(rng.uniform(-0.9, 0.9)) * n0, 1)
    nodes = [ag.Node(ag.EMPTY, np.full(9, 1 / 9)) for _ in range(d)]
    nodes[0].N[0], nodes[0].W[0] = n0, w0
    ag.backup([(nodes[i], 0) for i in range(d)], v)
    right = float(nodes[0].Q[0])
    g_root = -v if d % 2 == 1 else v                                       # what the root's edge receives
    fmt = lambda x: f"{x:.3f}"                                             # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.backup.right"), [
        ((w0 - g_root) / (n0 + 1), text(S, "practice.backup.wrong_sign")),
        ((w0 + v) / (n0 + 1), text(S, "practice.backup.leaf_sign")),
        ((w0 + g_root) / n0, text(S, "practice.backup.no_count")),
        (w0 / (n0 + 1), text(S, "practice.backup.no_w")),
        (w0 / n0, text(S, "practice.backup.unchanged")),
    ], fmt)
    who = text(S, "practice.backup.same" if d % 2 == 0 else "practice.backup.other")
    return Item(kind="compute",
                stem=text(S, "practice.backup.stem", d=d, v=v, n0=n0, w0=w0),
                choices=choices,
                solution=text(S, "practice.backup.solution", d=d, who=who, g=f"{g_root:+g}", n1=n0 + 1,
                              w1=f"{w0 + g_root:.1f}", q=fmt(right)),
                setup={}, params={"d": d, "v": v, "n0": n0, "w0": w0}, answer=right, tolerance=0.0005)


def search_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about MCTS, AlphaGo and AlphaGo Zero (or, half the seeds, the false one)."""
    true = ("zero_data", "zero_target", "alphago_sl", "alphago_mix", "zero_one_net", "visits", "u_shrinks", "tau0")
    false = ("zero_human", "q_pick", "u_grows", "tau_big", "zero_rollout", "rl_prior", "same_sign", "value_q")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_TAU_CODE = """import numpy as np

def visit_policy(N, tau):
    N = np.asarray(N, dtype=float)
____
    return p / p.sum()"""
_TAU_LINES = {
    "right": "p = N ** (1.0 / tau)",
    "power_tau": "p = N ** tau",
    "softmax": "p = np.exp(N / tau)",
    "divide": "p = N / tau",
    "log": "p = np.log(N) / tau",
    "times": "p = N * (1.0 / tau)",
}


def tau_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of π ∝ N^{1/τ}; every candidate executed on the drawn counts."""
    n = int(rng.integers(3, 6))
    N = [int(v) for v in rng.integers(1, 30, n)]
    tau = float(rng.choice((0.25, 0.5, 2.0)))
    ex = Exec("visit_policy", (N, tau), ag.visit_policy(N, tau), atol=1e-9)
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _TAU_LINES.items()
             if key != "right" and not matches(execute(_TAU_CODE.replace("____", "    " + line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right π on these counts")
    choices = code_choices(rng, (_TAU_LINES["right"], text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", N=N, tau=tau), choices=choices,
                code=_TAU_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", pi=", ".join(f"{v:.4f}" for v in ex.expected), tau=tau,
                              inv=f"{1 / tau:g}"),
                setup={"alphago.tau": tau}, params={"N": N, "tau": tau}, exec=ex)


GENERATORS = (puct_score, temperature, backup_q, search_statement, tau_blank)
