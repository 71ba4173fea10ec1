"""Practice items for Paradigms › Self-supervised learning (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np
import torch

from engine.common.practice import (statement_choices, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    text)
from engine.paradigms import ssl

S = "ssl"
TAUS = (0.1, 0.2, 0.5, 1.0)                # among the page's NT-Xent τ options (ssl.tau)
TAU_EMA = (0.9, 0.99, 0.996)               # the page's BYOL τ options (ssl.tau_ema)


def _vec(v) -> str:
    return "(" + ", ".join(f"{x:g}" for x in v) + ")"


def _views(rng: np.random.Generator) -> np.ndarray:
    """Projections z (4, 2) of N = 2 images × 2 views: rows 0, 2 are image 1, rows 1, 3 image 2; small integers so
    the cosines work by hand."""
    while True:
        z = rng.integers(-3, 4, size=(4, 2)).astype(float)
        if (np.linalg.norm(z, axis=1) > 0).all() and len({tuple(r) for r in z}) == 4:
            return z


def _ntxent_anchor0(z: np.ndarray, tau: float) -> float:
    """ℓ of anchor 0 by the chapter's nt_xent (its positive is row N = 2)."""
    return float(ssl.nt_xent(torch.tensor(z, dtype=torch.float64), tau)[0])


def ntxent_value(rng: np.random.Generator) -> Item:
    """NT-Xent of one anchor in a batch of N = 2 images (4 views); distractors: the anchor itself in the
    denominator, no temperature, dot products instead of cosines, the positive left out of the denominator."""
    z = _views(rng)
    tau = float(rng.choice(TAUS))
    right = _ntxent_anchor0(z, tau)
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    cos = zn @ zn[0]                                                       # (4,) cos(z_0, z_k)
    dots = z @ z[0]
    lse = lambda s: float(np.logaddexp.reduce(s))                           # noqa: E731
    fmt = lambda v: f"{v:.3f}"                                             # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.ntxent.right"), [
        (-cos[2] / tau + lse(cos / tau), text(S, "practice.ntxent.self")),
        (_ntxent_anchor0(z, 1.0), text(S, "practice.ntxent.no_tau")),
        (-dots[2] / tau + lse(dots[1:] / tau), text(S, "practice.ntxent.dot")),
        (-cos[2] / tau + lse(cos[[1, 3]] / tau), text(S, "practice.ntxent.no_positive")),
        (-cos[1] / tau + lse(cos[1:] / tau), text(S, "practice.ntxent.wrong_positive")),
    ], fmt)
    if not np.isfinite(right):
        raise Redraw("overflow")
    if right < 0.01 or abs(cos[2]) < 0.05:   # a loss that rounds to 0.000 or a positive at 90°: a case that teaches little
        raise Redraw("degenerate case")
    return Item(kind="compute",
                stem=text(S, "practice.ntxent.stem", z1=_vec(z[0]), z2=_vec(z[1]), z3=_vec(z[2]), z4=_vec(z[3]),
                          tau=f"{tau:g}"),
                choices=choices,
                solution=text(S, "practice.ntxent.solution", c2=f"{cos[1]:.4f}", c3=f"{cos[2]:.4f}",
                              c4=f"{cos[3]:.4f}", tau=f"{tau:g}", l=fmt(right)),
                setup={"ssl.tau": tau}, params={"z": z.tolist(), "tau": tau}, answer=right, tolerance=0.0005)


def ema_value(rng: np.random.Generator) -> Item:
    """BYOL's target after k EMA updates toward a fixed online weight; distractors: τ and 1 − τ swapped, one update
    only, a copy of θ (no EMA), τ^k replaced by 1 − k(1 − τ)."""
    tau = float(rng.choice(TAU_EMA))
    k = int(rng.integers(1, 4))
    xi0 = round(float(rng.uniform(-2, 2)), 1) + 0.0
    theta = round(float(rng.uniform(-2, 2)), 1) + 0.0
    if abs(xi0 - theta) < 0.3:
        raise Redraw("target already at the online weight")
    xi = torch.tensor([xi0], dtype=torch.float64)
    th = torch.tensor([theta], dtype=torch.float64)
    steps = []
    for _ in range(k):
        ssl.ema_update_(xi, th, tau)
        steps.append(float(xi[0]))
    right = steps[-1]
    swapped = xi0
    for _ in range(k):
        swapped = (1 - tau) * swapped + tau * theta
    fmt = lambda v: f"{v:.5f}"                                             # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.ema.right"), [
        (swapped, text(S, "practice.ema.swapped")),
        (steps[0] if k > 1 else tau * theta + (1 - tau) * xi0, text(S, "practice.ema.one_step" if k > 1
                                                                    else "practice.ema.swapped_terms")),
        (theta, text(S, "practice.ema.copy")),
        (theta + (1 - k * (1 - tau)) * (xi0 - theta) if k > 1 else xi0, text(S, "practice.ema.linear" if k > 1
                                                                              else "practice.ema.no_update")),
        (xi0 + (1 - tau) * theta * k, text(S, "practice.ema.added")),
    ], fmt)
    sol_steps = " → ".join(f"{v:.5f}" for v in steps)
    return Item(kind="compute",
                stem=text(S, "practice.ema.stem", tau=f"{tau:g}", xi=f"{xi0:g}", theta=f"{theta:g}", k=k),
                choices=choices,
                solution=text(S, "practice.ema.solution", tau=f"{tau:g}", omt=f"{1 - tau:.3g}", xi=f"{xi0:g}",
                              theta=f"{theta:g}", k=k, steps=sol_steps, v=fmt(right),
                              closed=f"{theta:g} + {tau:g}^{k} × ({xi0:g} − {f'({theta:g})' if theta < 0 else f'{theta:g}'})"),
                setup={"ssl.tau_ema": tau},
                params={"tau": tau, "k": k, "xi": xi0, "theta": theta}, answer=right, tolerance=0.000005)


def ssl_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about SimCLR, BYOL and collapse (or, half the seeds, the false one)."""
    true = ("negatives", "byol_no_negatives", "collapse", "h_kept", "two_views", "ema_slow", "tau_sharp")
    false = ("byol_negatives", "target_grad", "z_kept", "labels", "ema_fast", "collapse_good", "tau_large_hard",
             "same_view")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_NTX_RIGHT = """def nt_xent(z, tau):
    n2 = z.shape[0]
    zn = F.normalize(z, dim=1)
    sim = zn @ zn.T / tau
    sim = sim.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    pos = (torch.arange(n2) + n2 // 2) % n2
    return -sim[torch.arange(n2), pos] + torch.logsumexp(sim, dim=1)"""
_NTX_WRONG = {
    "no_normalize": _NTX_RIGHT.replace("zn = F.normalize(z, dim=1)", "zn = z"),
    "no_mask": _NTX_RIGHT.replace(
        '    sim = sim.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))\n', ""),
    "no_tau": _NTX_RIGHT.replace("sim = zn @ zn.T / tau", "sim = zn @ zn.T"),
    "neighbour": _NTX_RIGHT.replace("pos = (torch.arange(n2) + n2 // 2) % n2", "pos = (torch.arange(n2) + 1) % n2"),
    "sign": _NTX_RIGHT.replace("return -sim[torch.arange(n2), pos] + torch.logsumexp(sim, dim=1)",
                               "return sim[torch.arange(n2), pos] - torch.logsumexp(sim, dim=1)"),
}


def ntxent_implementation(rng: np.random.Generator) -> Item:
    """Which function is SimCLR's NT-Xent per anchor (views i and i + N are a positive pair)? Each snippet is run on
    a batch of 2N projections; exactly one returns the chapter's nt_xent."""
    N = int(rng.integers(2, 4))
    z = torch.tensor(rng.integers(-3, 4, size=(2 * N, 2)).astype(float), dtype=torch.float64)
    if (z.norm(dim=1) == 0).any():
        raise Redraw("a zero projection")
    tau = float(rng.choice(TAUS))
    expected = ssl.nt_xent(z, tau).numpy()
    ex = Exec("nt_xent", (z, tau), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _NTX_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree on this batch")
    choices = code_choices(rng, (_NTX_RIGHT, text(S, "practice.impl.right")), wrong)
    rows = ", ".join(_vec(r) for r in z.numpy())
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", N=N, n2=2 * N, z=rows, tau=f"{tau:g}"),
                choices=choices,
                solution=text(S, "practice.impl.solution", l=", ".join(f"{v:.4f}" for v in expected),
                              mean=f"{expected.mean():.4f}"),
                setup={"ssl.tau": tau}, params={"z": z.numpy().tolist(), "tau": tau}, exec=ex)


GENERATORS = (ntxent_value, ema_value, ssl_statement, ntxent_implementation)
