"""Practice items for Language › GPT-3 (format: engine/common/practice.py)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.language import gpt3 as E

S = "gpt3"
WORDS = ("cat", "dog", "mat", "sat", "ran", "sun", "hat", "car")
fmt3 = lambda v: f"{v:.3f}"                                                     # noqa: E731


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _dist(rng, n: int) -> np.ndarray:
    """n distinct probabilities with two decimals, each ≥ 0.03, summing to 1."""
    for _ in range(100):
        p = np.round(rng.dirichlet(np.full(n, 1.2)), 2)
        p[np.argmax(p)] += round(1 - p.sum(), 2)
        if p.min() >= 0.03 and len(set(p.tolist())) == n:
            return p
    raise Redraw("no distinct distribution")


def _table(words, p) -> str:
    return "| token | " + " | ".join(words) + " |\n|---|" + "---|" * len(words) + "\n| p | " + \
        " | ".join(f"{v:.2f}" for v in p) + " |"


# ------------------------------------------------------------------------------------------------- compute
def temperature(rng: np.random.Generator) -> Item:
    """p_i = softmax(z / T)_i for four logits; distractors: z·T, T ignored, z_i / Σz (no exp), T on the numerator
    only."""
    z = np.round(rng.uniform(0.5, 4.0, 4), 1)
    if len(set(z.tolist())) < 4:
        raise Redraw("tied logits")
    t = float(rng.choice([0.5, 0.8, 1.5, 2.0]))
    i = int(rng.integers(4))
    words = list(rng.choice(WORDS, 4, replace=False))
    q = E.truncated_probs(torch.tensor(z), temperature=t).numpy()
    right = float(q[i])
    choices = numeric_choices(rng, right, text(S, "practice.temp.right"), [
        (float(_softmax(z * t)[i]), text(S, "practice.temp.times")),
        (float(_softmax(z)[i]), text(S, "practice.temp.ignored")),
        (float(z[i] / t / (z / t).sum()), text(S, "practice.temp.linear")),
        (float(np.exp(z[i] / t) / np.exp(z).sum()), text(S, "practice.temp.numerator")),
    ], fmt3)
    e = np.exp(z / t)
    return Item(kind="compute", stem=text(S, "practice.temp.stem", t=f"{t:g}", w=words[i],
                                          logits=", ".join(f"{w}: {v:g}" for w, v in zip(words, z))),
                choices=choices,
                solution=text(S, "practice.temp.solution", t=f"{t:g}", w=words[i],
                              zt=", ".join(f"{v / t:.3f}" for v in z), e=", ".join(f"{v:.3f}" for v in e),
                              s=f"{e.sum():.3f}", ei=f"{e[i]:.3f}", ans=fmt3(right)),
                setup={"gpt3.temperature": t, "gpt3.top_k": 0, "gpt3.top_p": 1.0},
                params={"logits": z.tolist(), "t": t, "i": i},
                answer=right, tolerance=0.0005)


def truncation(rng: np.random.Generator) -> Item:
    """Top-k or top-p (nucleus) on a 6-token distribution: the probability a kept token is drawn (the engine's
    truncated_probs). Distractors: not renormalised, the token crossing p left out (top-p) / k − 1 tokens
    (top-k), one token too many, renormalised by p instead of the kept mass (top-p) / uniform 1/k (top-k)."""
    n = 6
    p = _dist(rng, n)
    words = list(rng.choice(WORDS, n, replace=False))
    order = np.argsort(-p, kind="stable")
    csum = np.cumsum(p[order])
    mode = "top_p" if rng.integers(2) else "top_k"
    if mode == "top_p":
        cut = float(rng.choice([0.5, 0.6, 0.7, 0.75, 0.8, 0.9]))
        if np.any(np.abs(csum - cut) < 1e-6):
            raise Redraw("the cumulative mass hits p exactly")
        q = E.truncated_probs(torch.log(torch.tensor(p)), top_p=cut).numpy()
        n_keep = int((q > 0).sum())
        setup = {"gpt3.top_p": cut, "gpt3.top_k": 0, "gpt3.temperature": 1.0}
    else:
        cut = int(rng.integers(2, 5))
        q = E.truncated_probs(torch.log(torch.tensor(p)), top_k=cut).numpy()
        n_keep = cut
        setup = {"gpt3.top_k": cut, "gpt3.top_p": 1.0, "gpt3.temperature": 1.0}
    kept = order[:n_keep]
    i = int(rng.choice(kept))
    right = float(q[i])
    if abs((right * 1000) % 1 - 0.5) < 1e-6:
        raise Redraw("the answer is a rounding tie at three decimals (p_i / mass = x.xxx5)")

    def renorm(m: int) -> float | None:
        return float(p[i] / p[order[:m]].sum()) if i in order[:m] and 0 < m <= n else None
    choices = numeric_choices(rng, right, text(S, f"practice.trunc.right_{mode}"), [
        (float(p[i]), text(S, "practice.trunc.no_renorm")),
        (renorm(n_keep - 1), text(S, f"practice.trunc.one_less_{mode}")),
        (renorm(n_keep + 1), text(S, f"practice.trunc.one_more_{mode}")),
        (float(p[i] / cut) if mode == "top_p" else 1 / cut, text(S, f"practice.trunc.other_{mode}")),
    ], fmt3)
    mass = float(p[kept].sum())
    return Item(kind="compute", stem=text(S, f"practice.trunc.stem_{mode}", table=_table(words, p), cut=f"{cut:g}",
                                          w=words[i]),
                choices=choices,
                solution=text(S, f"practice.trunc.solution_{mode}", cut=f"{cut:g}",
                              sorted=", ".join(f"{words[j]} {p[j]:.2f}" for j in order),
                              csum=", ".join(f"{v:.2f}" for v in csum),
                              kept=", ".join(words[j] for j in kept), mass=f"{mass:.2f}", pi=f"{p[i]:.2f}",
                              w=words[i], ans=fmt3(right)),
                setup=setup, params={"p": p.tolist(), "mode": mode, "cut": cut, "i": i},
                answer=right, tolerance=0.0005)


def kaplan(rng: np.random.Generator) -> Item:
    """Kaplan's L(N) = (N_c / N)^α_N (the engine's kaplan_loss); distractors: (N / N_c)^α, α·ln(N_c / N), the
    notes' 'Validation loss = log(Params)'."""
    mant, ex = round(float(rng.uniform(1, 9.9)), 1), int(rng.integers(6, 12))
    n = mant * 10.0 ** ex
    right = float(E.kaplan_loss(n))
    a, nc = E.KAPLAN_ALPHA_N, E.KAPLAN_N_C
    choices = numeric_choices(rng, right, text(S, "practice.kaplan.right"), [
        (float((n / nc) ** a), text(S, "practice.kaplan.inverted")),
        (float(a * np.log(nc / n)), text(S, "practice.kaplan.log_form")),
        (float(np.log(n)), text(S, "practice.kaplan.notes_log")),
        (float((nc / n) * a), text(S, "practice.kaplan.times")),
    ], fmt3)
    return Item(kind="compute", stem=text(S, "practice.kaplan.stem", n=f"{mant:g}×10^{ex}", a=f"{a:g}",
                                          nc="8.8×10^13"),
                choices=choices,
                solution=text(S, "practice.kaplan.solution", n=f"{mant:g}×10^{ex}", ratio=f"{nc / n:.4g}",
                              ln=f"{np.log(nc / n):.4f}", a=f"{a:g}", prod=f"{a * np.log(nc / n):.4f}",
                              ans=fmt3(right)),
                params={"n": n}, answer=right, tolerance=0.0005)


_CONFIGS = [(L, d) for L in (4, 6, 8, 10, 12, 16, 20, 24, 32)
            for d in (384, 512, 640, 768, 896, 1024, 1280, 1600, 2048)]


@lru_cache(maxsize=len(_CONFIGS))
def _non_embedding(n_layer: int, d: int) -> int:
    """The engine's count (non_embedding_params) of the engine's decoder blocks + final LayerNorm, built on the
    meta device (no memory, no weights; the embeddings, which N leaves out, are not built: nn.Embedding's first
    init on meta takes seconds)."""
    cfg = E.GPTConfig(vocab_size=256, block_size=64, n_layer=n_layer, n_head=8, n_embd=d)
    with torch.device("meta"):
        trunk = torch.nn.ModuleDict({"h": torch.nn.ModuleList(E.Block(cfg) for _ in range(n_layer)),
                                     "ln_f": torch.nn.LayerNorm(d)})
    return E.non_embedding_params(trunk)


def params(rng: np.random.Generator) -> Item:
    """Non-embedding parameters ≈ 12·L·d² (4d² attention + 8d² MLP per block; the engine counts the real model,
    biases and LayerNorms included); distractors: attention only, MLP only, 12·L·d, with a 50257-token embedding."""
    L, d = _CONFIGS[int(rng.integers(len(_CONFIGS)))]
    n = _non_embedding(L, d)
    fm = lambda v: f"{v / 1e6:.0f}M"                                            # noqa: E731
    if fm(n) != fm(12 * L * d * d):
        raise Redraw("the biases shift the rounded count")
    choices = numeric_choices(rng, float(n), text(S, "practice.params.right"), [
        (4 * L * d * d, text(S, "practice.params.attention_only")),
        (8 * L * d * d, text(S, "practice.params.mlp_only")),
        (12 * L * d * d + 50257 * d, text(S, "practice.params.with_embedding")),
        (16 * L * d * d, text(S, "practice.params.four_d_both")),
        (12 * L * d * d * 2, text(S, "practice.params.twice")),
    ], fm)
    return Item(kind="compute", stem=text(S, "practice.params.stem", L=L, d=d), choices=choices,
                solution=text(S, "practice.params.solution", L=L, d=d, att=fm(4 * L * d * d), mlp=fm(8 * L * d * d),
                              approx=fm(12 * L * d * d), exact=f"{n:,}", extra=f"{n - 12 * L * d * d:,}"),
                params={"n_layer": L, "d_model": d}, answer=float(n), tolerance=0.5e6)


# ----------------------------------------------------------------------------------------------- statement
_TRUE = ("causal", "few_shot_prompt", "power_law", "low_t_greedy", "top_p_adaptive", "decoder_only", "gpt3_count")
_FALSE = ("few_shot_finetune", "log_params", "high_t_sharp", "bidirectional", "top_k_adaptive", "mask_zero",
          "embeddings_in_count")


def statement(rng: np.random.Generator) -> Item:
    """GPT-3: the causal mask, in-context learning, scaling, sampling — against misconceptions incl. the course
    notes' two slips the page corrects (few-shot 'fine-tuning', 'Validation Loss = log(Params)')."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


# ------------------------------------------------------------------------------------------- implementation
_TOPP_RIGHT = """def top_p(probs, p):
    order = np.argsort(-probs)
    before = np.cumsum(probs[order]) - probs[order]
    keep = order[before < p]
    q = np.zeros_like(probs)
    q[keep] = probs[keep]
    return q / q.sum()"""
_NUCLEUS = "    before = np.cumsum(probs[order]) - probs[order]\n    keep = order[before < p]"
_TOPP_WRONG = {
    "excludes_crossing": _TOPP_RIGHT.replace(_NUCLEUS, "    keep = order[np.cumsum(probs[order]) <= p]"),
    "ascending": _TOPP_RIGHT.replace("order = np.argsort(-probs)", "order = np.argsort(probs)"),
    "no_renorm": _TOPP_RIGHT.replace("return q / q.sum()", "return q"),
    "fraction_of_tokens": _TOPP_RIGHT.replace(_NUCLEUS, "    keep = order[:int(p * len(probs))]"),
}


def implementation(rng: np.random.Generator) -> Item:
    """Which function keeps the nucleus (top-p) and renormalises? Run on a drawn distribution."""
    n = 6
    p = _dist(rng, n)
    cut = float(rng.choice([0.5, 0.6, 0.7, 0.75, 0.8, 0.9]))
    if np.any(np.abs(np.cumsum(np.sort(p)[::-1]) - cut) < 1e-6):
        raise Redraw("the cumulative mass hits p exactly")
    expected = E.truncated_probs(torch.log(torch.tensor(p)), top_p=cut).numpy()
    ex = Exec("top_p", (p, cut), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _TOPP_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a distractor agrees on this distribution")
    choices = code_choices(rng, (_TOPP_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", p=", ".join(f"{v:.2f}" for v in p),
                                                 cut=f"{cut:g}"),
                choices=choices,
                solution=text(S, "practice.impl.solution", q=", ".join(f"{v:.3f}" for v in expected), cut=f"{cut:g}"),
                setup={"gpt3.top_p": cut, "gpt3.top_k": 0, "gpt3.temperature": 1.0},
                params={"p": p.tolist(), "cut": cut}, exec=ex)


# -------------------------------------------------------------------------------------------------- blank
_MASK_CODE = """def causal_attention(Q, K):
    # Q, K: (T, d); returns the (T, T) attention weights of one head
    T = Q.shape[0]
    S = Q @ K.T / np.sqrt(K.shape[1])
    mask = np.tril(np.ones((T, T)))
____
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)"""
_MASK_LINES = {
    "right": "    S = np.where(mask == 1, S, -np.inf)",
    "zero_fill": "    S = np.where(mask == 1, S, 0.0)",
    "future": "    S = np.where(mask.T == 1, S, -np.inf)",
    "times_mask": "    S = S * mask",
}


def _engine_attention(x: np.ndarray) -> np.ndarray:
    """The engine's CausalSelfAttention (one head) with W_Q = W_K = W_V = I and no bias: its weights for Q = K = x."""
    t, d = x.shape
    attn = E.CausalSelfAttention(E.GPTConfig(n_embd=d, n_head=1)).double()
    with torch.no_grad():
        attn.c_attn.weight.copy_(torch.cat([torch.eye(d)] * 3).double())
        attn.c_attn.bias.zero_()
        _, w = attn(torch.tensor(x)[None], need_weights=True)
    return w[0, 0].numpy()


def blank(rng: np.random.Generator) -> Item:
    """The causal mask line of one attention head; candidates executed on Q = K = X (the engine's
    CausalSelfAttention with identity projections is the reference)."""
    t, d = 3, 2
    x = np.round(rng.uniform(-2, 2, (t, d)), 1) + 0.0
    expected = _engine_attention(x)
    ex = Exec("causal_attention", (x, x), expected, atol=1e-9)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _MASK_LINES.items()
             if k != "right" and not matches(execute(_MASK_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees on this input")
    choices = code_choices(rng, (_MASK_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    rows = "; ".join("(" + ", ".join(f"{v:g}" for v in r) + ")" for r in x)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", x=rows), choices=choices,
                code=_MASK_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution",
                              w="; ".join("(" + ", ".join(f"{v:.3f}" for v in r) + ")" for r in expected)),
                params={"x": x.tolist()}, exec=ex)


GENERATORS = (temperature, truncation, kaplan, params, statement, implementation, blank)
