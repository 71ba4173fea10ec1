"""Practice items for Sequences › RNN, LSTM, GRU (format: engine/common/practice.py). Every answer comes from
engine/sequences/rnn.py: one LSTM / GRU step (`cell_step`), the parameter count (`n_parameters`), clipping by norm
(`clip_by_norm`)."""
from __future__ import annotations

import math

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.sequences import rnn as R

S = "rnn"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _scalar_cell(kind: str, bias_ih: list[float]) -> R.CellParams:
    """A cell with H = D = 1 and zero weights: every gate is set by its bias alone (the values an item shows)."""
    G = R.GATES[kind]
    return R.CellParams(kind, np.zeros((G, 1)), np.zeros((G, 1)), np.array(bias_ih, float), np.zeros(G))


def lstm_step_values(f: float, i: float, g: float, o: float, c_prev: float) -> tuple[float, float]:
    """(h_t, c_t) of the chapter's LSTM step with the gates f, i, o and the candidate g as given."""
    p = _scalar_cell("lstm", [_logit(i), _logit(f), math.atanh(g), _logit(o)])     # torch order i, f, g, o
    s = R.cell_step(p, np.zeros((1, 1)), np.zeros((1, 1)), np.array([[c_prev]]))
    return float(s.h[0, 0]), float(s.c[0, 0])


def lstm_step(rng: np.random.Generator) -> Item:
    """h_t of one LSTM step from the gate values; distractors: no tanh on c, f and i swapped, no forget gate,
    c_t instead of h_t, tanh applied after o."""
    f, i, o = (round(float(rng.uniform(0.1, 0.95)), 2) for _ in range(3))
    g = round(float(rng.uniform(-0.9, 0.9)), 2)
    c_prev = round(float(rng.uniform(-2.0, 2.0)), 1)
    if abs(g) < 0.05 or c_prev == 0:
        raise Redraw("a zero term makes mistakes coincide")
    h, c = lstm_step_values(f, i, g, o, c_prev)
    mistakes = [(o * c, text(S, "practice.lstm.no_tanh")),
                (o * math.tanh(i * c_prev + f * g), text(S, "practice.lstm.swap")),
                (o * math.tanh(c_prev + i * g), text(S, "practice.lstm.no_forget")),
                (c, text(S, "practice.lstm.cell")),
                (math.tanh(o * c), text(S, "practice.lstm.tanh_after")),
                (o * math.tanh(f * c_prev + i * math.tanh(g)), text(S, "practice.lstm.tanh_g"))]
    choices = numeric_choices(rng, h, text(S, "practice.lstm.right"), mistakes, _f4)
    return Item(kind="compute", stem=text(S, "practice.lstm.stem", f=f, i=i, g=g, o=o, c=c_prev), choices=choices,
                solution=text(S, "practice.lstm.solution", f=f, i=i, g=g, o=o, c_prev=c_prev, c=f"{c:.4f}",
                              tc=f"{math.tanh(c):.4f}", h=_f4(h)),
                setup={"rnn.cell": text(S, "cells.lstm")},
                params=dict(f=f, i=i, g=g, o=o, c_prev=c_prev), answer=h, tolerance=5e-4)


def gru_step_value(z: float, n: float, h_prev: float) -> float:
    """h_t of the chapter's (PyTorch's) GRU step with the update gate z and the candidate n as given."""
    p = _scalar_cell("gru", [0.0, _logit(z), math.atanh(n)])                       # torch order r, z, n
    return float(R.cell_step(p, np.zeros((1, 1)), np.array([[h_prev]])).h[0, 0])


def gru_step(rng: np.random.Generator) -> Item:
    """h_t of one GRU step in PyTorch's convention; distractors: the swapped convention, a missing term,
    the plain sum."""
    z = round(float(rng.uniform(0.05, 0.95)), 2)
    n = round(float(rng.uniform(-0.95, 0.95)), 2)
    h_prev = round(float(rng.uniform(-1.0, 1.0)), 2)
    if abs(z - 0.5) < 0.06 or abs(n) < 0.05 or abs(h_prev) < 0.05 or abs(n - h_prev) < 0.1:
        raise Redraw("z ≈ 0.5 or n ≈ h makes the conventions coincide")
    h = gru_step_value(z, n, h_prev)
    mistakes = [(z * n + (1 - z) * h_prev, text(S, "practice.gru.swapped")),
                ((1 - z) * n, text(S, "practice.gru.no_old")),
                (z * h_prev, text(S, "practice.gru.no_new")),
                (z * h_prev + n, text(S, "practice.gru.no_weight")),
                (n + h_prev, text(S, "practice.gru.no_weight"))]
    choices = numeric_choices(rng, h, text(S, "practice.gru.right"), mistakes, _f4)
    return Item(kind="compute", stem=text(S, "practice.gru.stem", z=z, n=n, h=h_prev), choices=choices,
                solution=text(S, "practice.gru.solution", z=z, n=n, h_prev=h_prev, omz=f"{1 - z:.2f}", ans=_f4(h)),
                setup={"rnn.cell": text(S, "cells.gru")},
                params=dict(z=z, n=n, h_prev=h_prev), answer=h, tolerance=5e-4)


def param_count(rng: np.random.Generator) -> Item:
    """Parameters of torch.nn.LSTM / GRU (one layer, two bias vectors); distractors: one bias vector, the other
    cells' gate count, no recurrent weights, no biases."""
    kind = str(rng.choice(["lstm", "gru"]))
    D = int(rng.choice([3, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128]))
    H = int(rng.choice([2, 3, 4, 5, 8, 10, 16, 20, 32, 64, 100, 128, 256]))
    right = R.n_parameters(kind, D, H)
    G = R.GATES[kind]
    other = 3 if kind == "lstm" else 4
    mistakes = [(R.n_parameters(kind, D, H, two_biases=False), text(S, "practice.params.one_bias")),
                (other * (H * D + H * H + 2 * H), text(S, "practice.params.gates")),
                (G * (H * D + 2 * H), text(S, "practice.params.no_recurrent")),
                (G * (H * D + H * H), text(S, "practice.params.no_bias")),
                (H * D + H * H + 2 * H, text(S, "practice.params.one_gate"))]
    choices = numeric_choices(rng, right, text(S, "practice.params.right"), mistakes, lambda v: f"{int(v):,}")
    name = "LSTM" if kind == "lstm" else "GRU"
    return Item(kind="compute", stem=text(S, "practice.params.stem", name=name, D=D, H=H), choices=choices,
                solution=text(S, "practice.params.solution", name=name, G=G, D=D, H=H, HD=H * D, HH=H * H,
                              b=2 * H, ans=f"{right:,}"),
                params=dict(kind=kind, D=D, H=H), answer=float(right), tolerance=0.5)


def clip_norm(rng: np.random.Generator) -> Item:
    """g₁ after clipping (g₁, g₂) by norm to c; distractors: by value, not clipped, the unit vector, the L1 norm,
    c/‖g‖² (squared norm)."""
    g1, g2 = (round(float(rng.uniform(-5.0, 5.0)), 1) for _ in range(2))
    c = round(float(rng.uniform(0.1, 3.0)), 1)
    norm = math.hypot(g1, g2)
    if norm <= c * 1.2 or abs(g1) < 0.3 or abs(g2) < 0.3:
        raise Redraw("no clipping, or a component too small to tell the rules apart")
    right = float(R.clip_by_norm([np.array([g1, g2])], c).grads[0][0])
    l1 = abs(g1) + abs(g2)
    mistakes = [(float(np.clip(g1, -c, c)), text(S, "practice.clip.by_value")),
                (g1 * c / l1, text(S, "practice.clip.l1")),
                (g1 / norm, text(S, "practice.clip.unit")),
                (g1, text(S, "practice.clip.none")),
                (g1 * c / norm ** 2, text(S, "practice.clip.squared"))]
    choices = numeric_choices(rng, right, text(S, "practice.clip.right"), mistakes, _f4)
    return Item(kind="compute", stem=text(S, "practice.clip.stem", g1=g1, g2=g2, c=c), choices=choices,
                solution=text(S, "practice.clip.solution", g1=g1, g2=g2, c=c, norm=f"{norm:.4f}",
                              coef=f"{c / norm:.4f}", ans=_f4(right)),
                setup={"rnn.g1": g1, "rnn.g2": g2, "rnn.clip_c": c},
                params=dict(g1=g1, g2=g2, c=c), answer=right, tolerance=5e-4)


def rnn_chain_value(w: float, hs: list[float]) -> float:
    """∂h_T/∂h_1 of the chapter's scalar tanh RNN (W_hh = w, W_ih = 1, no bias) whose states are exactly `hs`
    (the inputs x_s are solved for), by the engine's hand-written BPTT with L = h_T."""
    h_prev, xs = 0.0, []
    for h in hs:
        xs.append(math.atanh(h) - w * h_prev)                          # tanh(x_s + w h_{s-1}) = h_s
        h_prev = h
    p = R.CellParams("rnn", np.ones((1, 1)), np.array([[w]]), np.zeros(1), np.zeros(1))
    return float(R.bptt(p, np.array(xs).reshape(1, -1, 1)).grad_h[0, 0, 0])


def bptt_chain(rng: np.random.Generator) -> Item:
    """∂h_T/∂h_1 through a scalar tanh RNN from its states: the product of w(1 − h_s²); distractors: w^(T−1)
    (no tanh′), no w, one factor too many, (1 − h_s) without the square, the sum of the factors."""
    T = int(rng.integers(3, 5))
    w = round(float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)), 1)
    hs = [round(float(rng.uniform(-0.9, 0.9)), 1) for _ in range(T)]
    if any(abs(h) < 0.1 for h in hs):
        raise Redraw("a zero state makes mistakes coincide")
    right = rnn_chain_value(w, hs)
    factors = [w * (1 - h * h) for h in hs[1:]]
    mistakes = [(w ** (T - 1), text(S, "practice.chain.no_tanh")),
                (float(np.prod([1 - h * h for h in hs[1:]])), text(S, "practice.chain.no_w")),
                (float(np.prod([w * (1 - h * h) for h in hs])), text(S, "practice.chain.extra")),
                (float(np.prod([w * (1 - h) for h in hs[1:]])), text(S, "practice.chain.no_square")),
                (float(sum(factors)), text(S, "practice.chain.sum"))]
    choices = numeric_choices(rng, right, text(S, "practice.chain.right"), mistakes, _f4)
    shown = ", ".join(f"h_{k + 1} = {h}" for k, h in enumerate(hs))
    steps = " \\cdot ".join(f"({w})(1 - ({h})^2)" for h in hs[1:])
    return Item(kind="compute", stem=text(S, "practice.chain.stem", w=w, T=T, hs=shown), choices=choices,
                solution=text(S, "practice.chain.solution", T=T, steps=steps, ans=_f4(right)),
                setup={"rnn.cell": text(S, "cells.rnn")},
                params=dict(w=w, hs=hs), answer=right, tolerance=5e-4)


_TRUE = ("carousel", "norm_direction", "bi_whole", "gru_gates", "bptt_product", "lstm_params", "clip_explode")
_FALSE = ("clip_vanish", "value_direction", "wgan", "gru_cell", "output_forget", "bi_realtime", "bptt_weights",
          "forget_zero")


def statements(rng: np.random.Generator) -> Item:
    """True statements about the cells, BPTT, clipping and bidirectional layers vs the misconceptions the chapter
    corrects (incl. the course notes' 「勾配クリッピング」 for WGAN's weight clipping); half the seeds ask for the
    false one."""
    choices, inverted = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if inverted else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


_CODE = """def lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i = 1 / (1 + np.exp(-a[:, :H]))
    f = 1 / (1 + np.exp(-a[:, H:2*H]))
    g = np.tanh(a[:, 2*H:3*H])
    o = 1 / (1 + np.exp(-a[:, 3*H:]))
    c = f * c + i * g
    h = o * np.tanh(c)
    return np.concatenate([h, c], axis=1)"""
_LINES = _CODE.split("\n")
_BLANKABLE = {                     # line index → wrong candidates
    2: ["a = x @ W_ih + b_ih + h @ W_hh + b_hh", "a = x @ W_ih.T + h @ W_hh.T", "a = np.tanh(x @ W_ih.T + b_ih) + h @ W_hh.T + b_hh"],
    4: ["f = 1 / (1 + np.exp(-a[:, :H]))", "f = np.tanh(a[:, H:2*H])", "f = 1 / (1 + np.exp(a[:, H:2*H]))"],
    5: ["g = 1 / (1 + np.exp(-a[:, 2*H:3*H]))", "g = np.tanh(a[:, 3*H:])", "g = a[:, 2*H:3*H]"],
    7: ["c = i * c + f * g", "c = f * c + g", "c = c + i * g", "c = f * c + i * np.tanh(g)"],
    8: ["h = o * c", "h = np.tanh(o * c)", "h = o + np.tanh(c)", "h = np.tanh(c)"],
}


def lstm_blank(rng: np.random.Generator) -> Item:
    """An LSTM step in NumPy (PyTorch's layout, gates i, f, g, o) with one line missing; every candidate is executed
    on drawn data against the chapter's `cell_step`."""
    j = int(rng.choice(sorted(_BLANKABLE)))
    B, D, H = 2, 3, 2
    p = R.init_params("lstm", D, H, rng, forget_bias=float(rng.choice([0.0, 1.0])))
    x = np.round(rng.normal(size=(B, D)), 2)
    h = np.round(rng.normal(size=(B, H)) * 0.5, 2)
    c = np.round(rng.normal(size=(B, H)), 2)
    s = R.cell_step(p, x, h, c)
    ex = Exec("lstm_step", (x, h, c, *p.arrays()), np.concatenate([s.h, s.c], axis=1), atol=1e-9)
    code = "\n".join(("    ____" if k == j else ln) for k, ln in enumerate(_LINES))
    wrong = [(w, text(S, f"practice.blank.w{j}")) for w in _BLANKABLE[j]
             if not matches(execute(code.replace("____", w), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right answer here")
    choices = code_choices(rng, (_LINES[j].strip(), text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", c=c.tolist(), h=h.tolist()), choices=choices,
                code=code,
                solution=text(S, "practice.blank.solution", line=_LINES[j].strip()),
                params=dict(line=j), exec=ex, setup={"rnn.cell": text(S, "cells.lstm")})


GENERATORS = (lstm_step, gru_step, param_count, clip_norm, bptt_chain, statements, lstm_blank)
