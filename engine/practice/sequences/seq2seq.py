"""Practice items for Sequences › Encoder–decoder with attention (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np
import torch

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.sequences import seq2seq as M

S = "seq2seq"


def _vec(v) -> str:
    return "(" + ", ".join(f"{x:g}" for x in v) + ")"


def _dot_case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A decoder state s (2,) and three encoder states h_j (3, 2), small integers (worked by hand)."""
    s = rng.integers(-2, 3, size=2).astype(float)
    H = rng.integers(-2, 3, size=(3, 2)).astype(float)
    if not s.any():
        raise Redraw("zero query")
    return s, H


def _engine_dot(s: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(context (2,), α (3,)) from the chapter's dot_attention."""
    ctx, alpha = M.dot_attention(torch.tensor(s)[None], torch.tensor(H)[None], torch.ones(1, len(H), dtype=torch.bool))
    return ctx[0].numpy(), alpha[0].numpy()


def attention_weight(rng: np.random.Generator) -> Item:
    """Compute one dot-product attention weight α_j by hand; distractors: the Transformer's 1/√d scaling, scores
    normalised without exp, a uniform average, hard (argmax) attention, exp without normalising."""
    s, H = _dot_case(rng)
    j = int(rng.integers(3))
    e = H @ s                                                       # shown in the solution only
    _, alpha = _engine_dot(s, H)
    right = float(alpha[j])
    scaled = np.exp(e / np.sqrt(2) - (e / np.sqrt(2)).max())
    mistakes = [
        (float(scaled[j] / scaled.sum()), text(S, "practice.weight.scaled")),
        (float(e[j] / e.sum()) if e.sum() != 0 else None, text(S, "practice.weight.no_exp")),
        (1 / 3, text(S, "practice.weight.uniform")),
        (float(j == int(np.argmax(e))), text(S, "practice.weight.hard")),
        (float(np.exp(e[j])), text(S, "practice.weight.no_norm")),
    ]
    fmt = lambda v: f"{v:.3f}"                                           # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.weight.right"), mistakes, fmt)
    ex = np.exp(e)
    return Item(kind="compute",
                stem=text(S, "practice.weight.stem", s=_vec(s), h1=_vec(H[0]), h2=_vec(H[1]), h3=_vec(H[2]), j=j + 1),
                choices=choices,
                solution=text(S, "practice.weight.solution", e=_vec(e), ex=", ".join(f"{v:.3f}" for v in ex),
                              total=f"{ex.sum():.3f}", j=j + 1, alpha=fmt(right)),
                setup={"seq2seq.shown": text(S, "labels.dot")}, params={"s": s, "H": H, "j": j},
                answer=right, tolerance=0.0005)


# ---- beam search on a two-step toy model: first token x or y, then a or b, then </s>
_FIRST, _SECOND = ("x", "y"), ("a", "b")
EOS_ID, FIRST_IDS, SECOND_IDS = 1, (2, 3), (4, 5)


def toy_step(p1: np.ndarray, p2: np.ndarray):
    """The step function of the two-step model for `seq2seq.beam_search`: p1 (2,) over (x, y); p2 (2, 2) row = the
    first token, column = (a, b); then </s> with probability 1. State: the step index (one per live prefix)."""
    def step(tokens, state):
        t = int(state[0][0])
        logp = np.full((len(tokens), 6), -np.inf)
        for k, tok in enumerate(tokens.tolist()):
            if t == 0:
                logp[k, list(FIRST_IDS)] = np.log(p1)
            elif t == 1:
                logp[k, list(SECOND_IDS)] = np.log(p2[FIRST_IDS.index(tok)])
            else:
                logp[k, EOS_ID] = 0.0
        return torch.from_numpy(logp), (state[0] + 1,), None
    return step


def beam_probability(rng: np.random.Generator) -> Item:
    """The probability of what beam search of width 2 outputs on a two-step toy model (where greedy differs)."""
    p_x = float(rng.choice([0.52, 0.55, 0.58, 0.6, 0.62, 0.65, 0.7]))
    p1 = np.array([p_x, round(1 - p_x, 2)])
    p2 = np.array([[float(rng.choice([0.5, 0.52, 0.55, 0.58, 0.6])), 0.0],
                   [float(rng.choice([0.75, 0.8, 0.85, 0.9, 0.95])), 0.0]])
    p2[:, 1] = np.round(1 - p2[:, 0], 2)
    if rng.integers(2):
        p2 = p2[:, ::-1].copy()                                           # the likely second token a or b
    if rng.integers(2):                                                   # the likely first token x or y
        p1, p2 = p1[::-1].copy(), p2[::-1].copy()
    start = (torch.tensor([0]),)
    beam = M.beam_search(toy_step(p1, p2), start, 2, 3, sos=0, eos=EOS_ID)[0]
    greedy = M.beam_search(toy_step(p1, p2), start, 1, 3, sos=0, eos=EOS_ID)[0]
    right = float(np.exp(beam.score))
    top = np.sort((p1[:, None] * p2).ravel())[::-1]
    if beam.tokens == greedy.tokens or top[0] - top[1] < 1e-3:
        raise Redraw("greedy finds the best sequence, or two sequences tie at four decimals")
    i, k = FIRST_IDS.index(beam.tokens[0]), SECOND_IDS.index(beam.tokens[1])
    fmt = lambda v: f"{v:.4f}"                                            # noqa: E731
    mistakes = [(float(np.exp(greedy.score)), text(S, "practice.beam.greedy")),
                (float(p1[i] + p2[i, k]), text(S, "practice.beam.added")),
                (float(p1.max() * p2.max()), text(S, "practice.beam.independent")),
                (float(p2[i, k]), text(S, "practice.beam.last_only"))]
    choices = numeric_choices(rng, right, text(S, "practice.beam.right"), mistakes, fmt)
    seqs = {f"{_FIRST[a]}{_SECOND[b]}": p1[a] * p2[a, b] for a in range(2) for b in range(2)}
    g = _FIRST[FIRST_IDS.index(greedy.tokens[0])] + _SECOND[SECOND_IDS.index(greedy.tokens[1])]
    best = _FIRST[i] + _SECOND[k]
    return Item(kind="compute",
                stem=text(S, "practice.beam.stem", px=f"{p1[0]:.2f}", py=f"{p1[1]:.2f}", pax=f"{p2[0, 0]:.2f}",
                          pbx=f"{p2[0, 1]:.2f}", pay=f"{p2[1, 0]:.2f}", pby=f"{p2[1, 1]:.2f}"),
                choices=choices,
                solution=text(S, "practice.beam.solution", greedy=g, p_greedy=fmt(np.exp(greedy.score)), best=best,
                              table=", ".join(f"P({q}) = {v:.4f}" for q, v in seqs.items()), p_best=fmt(right)),
                setup={"seq2seq.width": 2}, params={"p1": p1, "p2": p2}, answer=right, tolerance=0.00005)


def seq2seq_statement(rng: np.random.Generator) -> Item:
    """True vs false statements about encoder–decoders, attention, teacher forcing and beam search."""
    choices, inverted = statement_choices(
        rng, S, "practice.facts",
        ("bottleneck", "alpha_sums", "tf_inputs", "beam_width_one", "additive_params", "exposure"),
        ("beam_optimal", "tf_at_test", "alpha_given", "dot_scaled", "none_all_states", "beam_always_better"))
    return Item(kind="statement", stem=text(S, "practice.facts.stem_false" if inverted else "practice.facts.stem_true"),
                choices=choices, solution=text(S, "practice.facts.solution"))


_ATT_CODE = """def attend(s, H):
    e = H @ s                      # e_j = s · h_j
____
    return a @ H                   # c = Σ_j α_j h_j"""
_ATT_LINES = {
    "right": "    a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()",
    "no_norm": "    a = np.exp(e - e.max())",
    "no_exp": "    a = e / e.sum()",
    "scaled": "    a = np.exp(e / np.sqrt(s.size)) / np.exp(e / np.sqrt(s.size)).sum()",
    "hard": "    a = (e == e.max()).astype(float)",
    "over_h": "    a = np.exp(H - H.max()) / np.exp(H - H.max()).sum()",
}


def attention_blank(rng: np.random.Generator) -> Item:
    """Fill the line that turns dot-product scores into attention weights; candidates executed on a drawn case."""
    s, H = _dot_case(rng)
    if (H @ s).sum() == 0:
        raise Redraw("scores sum to 0: the raw-ratio line would divide by zero")
    ctx, _ = _engine_dot(s, H)
    ex = Exec("attend", (s, H), ctx, atol=1e-9)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _ATT_LINES.items() if k != "right"
             and not matches(execute(_ATT_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("wrong lines agree on this case")
    choices = code_choices(rng, (_ATT_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", s=_vec(s), H=str(H.astype(int).tolist())),
                choices=choices, code=_ATT_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", e=_vec(H @ s), c=_vec(np.round(ctx, 4))),
                setup={"seq2seq.shown": text(S, "labels.dot")}, params={"s": s, "H": H}, exec=ex)


_GRU_RIGHT = """def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    gi = W_ih @ x + b_ih           # rows: r, z, n (as torch.nn.GRUCell)
    gh = W_hh @ h + b_hh
    H = h.size
    r = 1 / (1 + np.exp(-(gi[:H] + gh[:H])))
    z = 1 / (1 + np.exp(-(gi[H:2 * H] + gh[H:2 * H])))
    n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
    return (1 - z) * n + z * h"""
_GRU_WRONG = {
    "swap_z": _GRU_RIGHT.replace("return (1 - z) * n + z * h", "return z * n + (1 - z) * h"),
    "reset_on_input": _GRU_RIGHT.replace("n = np.tanh(gi[2 * H:] + r * gh[2 * H:])",
                                         "n = np.tanh(r * gi[2 * H:] + gh[2 * H:])"),
    "no_reset": _GRU_RIGHT.replace("n = np.tanh(gi[2 * H:] + r * gh[2 * H:])", "n = np.tanh(gi[2 * H:] + gh[2 * H:])"),
    "lstm_like": _GRU_RIGHT.replace("return (1 - z) * n + z * h", "return z * np.tanh(n) + h"),
}


def gru_implementation(rng: np.random.Generator) -> Item:
    """Which function is one GRU step (torch.nn.GRUCell's equations)? Each snippet runs on drawn weights."""
    x = np.round(rng.uniform(-1, 1, size=2), 1)
    h = np.round(rng.uniform(-1, 1, size=2), 1)
    W_ih, W_hh = np.round(rng.uniform(-1, 1, size=(6, 2)), 1), np.round(rng.uniform(-1, 1, size=(6, 2)), 1)
    b_ih, b_hh = np.round(rng.uniform(-0.5, 0.5, size=6), 1), np.round(rng.uniform(-0.5, 0.5, size=6), 1)
    cell = M.GRUCell(2, 2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for name, v in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(cell, name).copy_(torch.tensor(v, dtype=torch.float32))
        expected = cell(torch.tensor(x, dtype=torch.float32)[None], torch.tensor(h, dtype=torch.float32)[None])[0]
    ex = Exec("gru_cell", (x, h, W_ih, W_hh, b_ih, b_hh), expected.numpy().astype(float), atol=1e-5)
    wrong = [(code, text(S, f"practice.gru.{k}")) for k, code in _GRU_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong cell agrees on this case")
    choices = code_choices(rng, (_GRU_RIGHT, text(S, "practice.gru.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.gru.stem", x=_vec(x), h=_vec(h)), choices=choices,
                solution=text(S, "practice.gru.solution", out=_vec(np.round(ex.expected, 4))),
                setup={"seq2seq.cell": text(S, "cells.gru")},
                params={"x": x, "h": h, "W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih, "b_hh": b_hh}, exec=ex)


GENERATORS = (attention_weight, beam_probability, seq2seq_statement, attention_blank, gru_implementation)
