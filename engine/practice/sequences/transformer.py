"""Practice items for Sequences › Transformer (format: engine/common/practice.py). Every answer comes from
engine/sequences/transformer.py: its attention, its position encoding, its parameter count."""
from __future__ import annotations

import math

import numpy as np
import torch

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.sequences import transformer as X

S = "transformer"


def _f3(v: float) -> str:
    return f"{v:.3f}"


def _softmax(z) -> np.ndarray:
    z = np.asarray(z, float)
    e = np.exp(z - z.max())
    return e / e.sum()


# ------------------------------------------------------------------------------------------ attention weight
def attention_weight(rng: np.random.Generator) -> Item:
    """The weight a query gives key 1 out of three keys, from the dot products q·k_j and d_k; distractors: no
    ÷√d_k, ÷d_k, the scores normalised without exp, ×√d_k."""
    d_k = int(rng.choice([4, 16, 64]))
    scores = [int(v) for v in rng.integers(-6, 13, size=3)]
    if len(set(scores)) < 3:
        raise Redraw("equal scores")
    # the engine on vectors with exactly these dot products: q = e₁, k_j = s_j·e₁ (the other d_k − 1 entries 0)
    q = torch.zeros(1, d_k, dtype=torch.float64)
    q[0, 0] = 1.0
    k = torch.zeros(3, d_k, dtype=torch.float64)
    k[:, 0] = torch.tensor(scores, dtype=torch.float64)
    _, w = X.scaled_dot_product_attention(q, k, k)
    right = float(w[0, 0])
    r = math.sqrt(d_k)
    s = np.array(scores, float)
    pos = s - s.min() + 1
    mistakes = [(float(_softmax(s)[0]), text(S, "practice.weight.no_scale")),
                (float(_softmax(s / d_k)[0]), text(S, "practice.weight.by_dk")),
                (float(_softmax(s * r)[0]), text(S, "practice.weight.times")),
                (float(pos[0] / pos.sum()), text(S, "practice.weight.no_exp")),
                (1 / 3, text(S, "practice.weight.uniform"))]
    choices = numeric_choices(rng, right, text(S, "practice.weight.right"), mistakes, _f3)
    e = np.exp(s / r)
    return Item(kind="compute",
                stem=text(S, "practice.weight.stem", d_k=d_k, s1=scores[0], s2=scores[1], s3=scores[2]),
                choices=choices,
                solution=text(S, "practice.weight.solution", d_k=d_k, r=f"{r:g}", z=", ".join(f"{v:.3g}" for v in s / r),
                              e=", ".join(f"{v:.4g}" for v in e), total=f"{e.sum():.4g}", ans=_f3(right)),
                params=dict(d_k=d_k, scores=scores), answer=right, tolerance=5e-4,
                setup={"transformer.d_k": d_k})


# ------------------------------------------------------------------------------------------ parameter count
def parameter_count(rng: np.random.Generator) -> Item:
    """Parameters of one multi-head attention or one encoder layer (biases and LayerNorms included); distractors:
    without biases, ×h for the heads, LayerNorm forgotten, FFN counted once."""
    D = int(rng.choice([16, 32, 64, 128, 256, 512]))
    F_ = int(D * rng.choice([2, 4]))
    h = int(rng.choice([2, 4, 8]))
    which = "attention" if rng.integers(2) else "layer"
    c = X.count_parameters(D, F_, 1, 0, 0)
    att_nb = 4 * D * D
    if which == "attention":
        right = c.attention
        mistakes = [(att_nb, text(S, "practice.count.no_bias")),
                    (h * c.attention, text(S, "practice.count.times_h")),
                    (3 * D * D + 3 * D, text(S, "practice.count.no_out")),
                    (4 * (D * (D // h)) + 4 * (D // h), text(S, "practice.count.one_head"))]
    else:
        right = c.encoder_layer
        mistakes = [(att_nb + 2 * D * F_, text(S, "practice.count.no_bias")),
                    (c.encoder_layer - 4 * D, text(S, "practice.count.no_ln")),
                    (h * c.attention + c.ffn + 4 * D, text(S, "practice.count.times_h")),
                    (c.attention + D * F_ + F_ + 4 * D, text(S, "practice.count.ffn_once")),
                    (3 * D * D + 3 * D + c.ffn + 4 * D, text(S, "practice.count.no_out"))]
    choices = numeric_choices(rng, float(right), text(S, f"practice.count.right_{which}"),
                              [(float(v), f) for v, f in mistakes], lambda v: f"{int(round(v)):,}")
    return Item(kind="compute", stem=text(S, f"practice.count.stem_{which}", D=D, F=F_, h=h),
                choices=choices,
                solution=text(S, f"practice.count.solution_{which}", D=D, F=F_, h=h, att=f"{c.attention:,}",
                              ffn=f"{c.ffn:,}", ln=f"{4 * D:,}", ans=f"{right:,}"),
                params=dict(D=D, F=F_, h=h, which=which), answer=float(right), tolerance=0.5,
                setup={"transformer.n_heads": h} if which == "attention" else {})


# ------------------------------------------------------------------------------------------ position encoding
def position_encoding(rng: np.random.Generator) -> Item:
    """One entry PE(p, j) of the sinusoidal encoding; distractors: sin and cos swapped, the exponent j/D for an
    odd j, degrees instead of radians, the frequency multiplied instead of divided."""
    D = int(rng.choice([4, 8, 16]))
    p = int(rng.integers(1, 30))
    j = int(rng.integers(0, min(D, 6)))
    right = float(X.sinusoidal_encoding(p + 1, D)[p, j])
    i = j // 2
    ang = p / 10000 ** (2 * i / D)
    f, g = (math.sin, math.cos) if j % 2 == 0 else (math.cos, math.sin)
    mistakes = [(g(ang), text(S, "practice.pe.swapped")),
                (f(p / 10000 ** (j / D)), text(S, "practice.pe.j_exponent")),
                (f(math.radians(ang)), text(S, "practice.pe.degrees")),
                (f(p * 10000 ** (2 * i / D)), text(S, "practice.pe.times")),
                (f(p / 10000 ** (2 * (i + 1) / D)), text(S, "practice.pe.i_plus"))]
    choices = numeric_choices(rng, right, text(S, "practice.pe.right"), mistakes, _f3)
    return Item(kind="compute", stem=text(S, "practice.pe.stem", D=D, p=p, j=j),
                choices=choices,
                solution=text(S, "practice.pe.solution", D=D, p=p, j=j, i=i, two_i=2 * i,
                              fn="sin" if j % 2 == 0 else "cos", ang=f"{ang:.4f}", ans=_f3(right)),
                params=dict(D=D, p=p, j=j), answer=right, tolerance=5e-4)


# ------------------------------------------------------------------------------------------ statements
_TRUE = ("variance", "heads_params", "causal", "pe_shift", "gpt", "sdpa_bool", "crossover")
_FALSE = ("divide_dk", "heads_double", "pad_zero", "order", "pre_ln_stream", "masked_ln", "quadratic")


def statement(rng: np.random.Generator) -> Item:
    """True statements vs misconceptions (incl. the course notes' “Masked LN”); half the time the false one."""
    choices, inverted = statement_choices(rng, S, "practice.st", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.st.stem_false" if inverted else "practice.st.stem_true"),
                choices=choices, solution=text(S, "practice.st.solution"))


# ------------------------------------------------------------------------------------------ implementation
_RIGHT = """def attention(Q, K, V):
    s = Q @ K.T / np.sqrt(K.shape[1])
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    return w @ V"""
_WRONG_IMPL = {
    "axis0": """def attention(Q, K, V):
    s = Q @ K.T / np.sqrt(K.shape[1])
    w = np.exp(s - s.max(axis=0, keepdims=True))
    w = w / w.sum(axis=0, keepdims=True)
    return w @ V""",
    "by_d": """def attention(Q, K, V):
    s = Q @ K.T / K.shape[1]
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    return w @ V""",
    "sqrt_T": """def attention(Q, K, V):
    s = Q @ K.T / np.sqrt(K.shape[0])
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    return w @ V""",
    "kq": """def attention(Q, K, V):
    s = K @ Q.T / np.sqrt(K.shape[1])
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)
    return w @ V""",
    "no_norm": """def attention(Q, K, V):
    s = Q @ K.T / np.sqrt(K.shape[1])
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return w @ V""",
}


def implementation(rng: np.random.Generator) -> Item:
    """Four NumPy versions of softmax(QKᵀ/√d_k)V run on drawn Q, K, V; the engine's attention is the reference."""
    T = int(rng.integers(3, 6))
    d_k = int(rng.choice([2, 4, 8]))
    if d_k == T:
        raise Redraw("√d_k = √T would make two versions agree")
    Q, K, V = (np.round(rng.normal(size=(T, d_k)), 1) for _ in range(3))
    out, _ = X.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (Q, K, V)))
    ex = Exec("attention", (Q, K, V), out.numpy(), atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _WRONG_IMPL.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong version gives the right result here")
    order = rng.permutation(len(wrong))[:3]
    choices = code_choices(rng, (_RIGHT, text(S, "practice.impl.right")), [wrong[i] for i in order])
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", T=T, d_k=d_k), choices=choices,
                solution=text(S, "practice.impl.solution"), params=dict(T=T, d_k=d_k), exec=ex)


# ------------------------------------------------------------------------------------------ blank: causal mask
_CAUSAL = """def causal_attention(s):
    T = s.shape[0]
    ____
    s = np.where(blocked, -np.inf, s)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)"""
_MASK_LINES = {
    "right": "blocked = np.triu(np.ones((T, T), dtype=bool), k=1)",
    "tril": "blocked = np.tril(np.ones((T, T), dtype=bool), k=-1)",
    "diag": "blocked = np.triu(np.ones((T, T), dtype=bool), k=0)",
    "inverted": "blocked = np.tril(np.ones((T, T), dtype=bool), k=0)",
    "none": "blocked = np.zeros((T, T), dtype=bool)",
}


def causal_blank(rng: np.random.Generator) -> Item:
    """Softmax of a score matrix under the causal mask with the mask's line missing; the candidates are executed
    against the engine's causal attention weights."""
    T = int(rng.integers(3, 6))
    s = np.round(rng.normal(size=(T, T)) * 2, 1)
    q = torch.eye(T, dtype=torch.float64)
    # the engine on Q = I, K = sᵀ·√T: then QKᵀ/√d_k = s exactly (d_k = T)
    _, w = X.scaled_dot_product_attention(q, torch.from_numpy(s.T.copy()) * math.sqrt(T), q, X.causal_mask(T))
    ex = Exec("causal_attention", (s,), w.numpy(), atol=1e-9)
    wrong = [(line, text(S, f"practice.blank.{k}")) for k, line in _MASK_LINES.items() if k != "right"
             if not matches(execute(_CAUSAL.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong mask gives the right weights here")
    order = rng.permutation(len(wrong))[:3]
    choices = code_choices(rng, (_MASK_LINES["right"], text(S, "practice.blank.right")), [wrong[i] for i in order])
    return Item(kind="blank", stem=text(S, "practice.blank.stem", T=T, s=np.array2string(s, separator=", ")),
                choices=choices, code=_CAUSAL,
                solution=text(S, "practice.blank.solution"), params=dict(T=T, s=s.tolist()), exec=ex,
                setup={"transformer.causal": "true"})


GENERATORS = (attention_weight, parameter_count, position_encoding, statement, implementation, causal_blank)
