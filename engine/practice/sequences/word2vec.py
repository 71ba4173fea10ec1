"""Practice items for Sequences › Word embeddings (format: engine/common/practice.py). Every answer comes from
engine/sequences/word2vec.py: subsampling's keep probability, the 3/4-power noise distribution, the cost of an
example, negative sampling's gradient."""
from __future__ import annotations

import math

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.sequences import word2vec as W

S = "word2vec"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def _t_label(t: float) -> str:
    """The page's select slider shows t as `f"{t:.0e}"`."""
    return f"{t:.0e}"


def keep_probability(rng: np.random.Generator) -> Item:
    """Subsampling: the probability that one occurrence of a word is kept (word2vec.c / gensim's formula);
    distractors: the paper's Eq. 5 alone (√(t/f)), the discard probability, f/t under the root, t/f alone."""
    t = float(rng.choice([1e-3, 1e-4, 1e-5]))
    total = int(rng.choice([10 ** 5, 10 ** 6, 10 ** 7]))
    ratio = float(rng.choice([4, 9, 16, 25, 36, 49, 64, 100, 144, 400]))  # f / t: a perfect square or close
    count = int(round(ratio * t * total))
    if count < 1 or count >= total:
        raise Redraw("count out of range")
    f = count / total
    right = float(W.keep_probability(np.array([count, total - count]), t)[0])
    paper = math.sqrt(t / f)
    mistakes = [(paper, text(S, "practice.keep.paper")),
                (1 - right, text(S, "practice.keep.discard")),
                (1 - paper, text(S, "practice.keep.paper_discard")),
                (t / f, text(S, "practice.keep.no_root")),
                (min(1.0, math.sqrt(f / t) * t), text(S, "practice.keep.inverted"))]
    choices = numeric_choices(rng, right, text(S, "practice.keep.right"), mistakes, _f4)
    return Item(kind="compute",
                stem=text(S, "practice.keep.stem", count=f"{count:,}", total=f"{total:,}", t=_t_label(t)),
                choices=choices,
                solution=text(S, "practice.keep.solution", count=f"{count:,}", total=f"{total:,}", f=f"{f:.3g}",
                              t=_t_label(t), r=f"{t / f:.4g}", sq=f"{math.sqrt(t / f):.4f}", ans=_f4(right)),
                setup={"word2vec.sample": _t_label(t)},
                params=dict(count=count, total=total, t=t), answer=right, tolerance=5e-4)


_FOURTH = (1, 16, 81, 256, 625, 1296)         # k⁴: count^0.75 = k³ by hand


def noise_probability(rng: np.random.Generator) -> Item:
    """The noise distribution P_n ∝ count^0.75 of a tiny vocabulary; distractors: the unigram (α = 1), α = 1/2,
    the uniform distribution, the power taken after normalising."""
    n = int(rng.choice([3, 4]))
    counts = sorted(int(c) for c in rng.choice(_FOURTH, size=n, replace=False))
    i = int(rng.integers(n))
    words = ("A", "B", "C", "D")[:n]
    c = np.array(counts, dtype=float)
    right = float(W.noise_distribution(c, 0.75)[i])
    mistakes = [(float(c[i] / c.sum()), text(S, "practice.noise.unigram")),
                (float(np.sqrt(c[i]) / np.sqrt(c).sum()), text(S, "practice.noise.half")),
                (1 / n, text(S, "practice.noise.uniform")),
                (float((c[i] / c.sum()) ** 0.75), text(S, "practice.noise.not_renormalised"))]
    choices = numeric_choices(rng, right, text(S, "practice.noise.right"), mistakes, _f4)
    listing = ", ".join(f"{w}: {k}" for w, k in zip(words, counts))
    cubes = " + ".join(str(round(k ** 0.75)) for k in counts)
    return Item(kind="compute", stem=text(S, "practice.noise.stem", listing=listing, word=words[i]), choices=choices,
                solution=text(S, "practice.noise.solution", word=words[i], num=round(counts[i] ** 0.75),
                              cubes=cubes, den=round(sum(k ** 0.75 for k in counts)), ans=_f4(right)),
                setup={"word2vec.alpha": 0.75},
                params=dict(counts=counts, i=i), answer=right, tolerance=5e-4)


def cost_per_example(rng: np.random.Generator) -> Item:
    """Multiply-adds of one skip-gram example with negative sampling (scores, ∂L/∂h, ∂L/∂u: 3(k+1)d);
    distractors: forgetting the positive word, the scores only, the full softmax's 3Vd, one gradient left out."""
    V = int(rng.choice([5_000, 10_000, 30_000, 100_000]))
    d = int(rng.choice([50, 100, 200, 300]))
    k = int(rng.integers(2, 21))
    right = float(W.flops_per_example("skipgram", "neg", V, d, k, 5))
    mistakes = [(3 * k * d, text(S, "practice.cost.no_positive")),
                ((k + 1) * d, text(S, "practice.cost.scores_only")),
                (3 * V * d, text(S, "practice.cost.softmax")),
                (2 * (k + 1) * d, text(S, "practice.cost.one_gradient"))]
    choices = numeric_choices(rng, right, text(S, "practice.cost.right"), mistakes, lambda v: f"{v:,.0f}")
    soft = W.flops_per_example("skipgram", "softmax", V, d, k, 5)
    return Item(kind="compute", stem=text(S, "practice.cost.stem", V=f"{V:,}", d=d, k=k), choices=choices,
                solution=text(S, "practice.cost.solution", d=d, k=k, k1=k + 1, ans=f"{right:,.0f}", V=f"{V:,}",
                              soft=f"{soft:,}", ratio=f"{soft / right:,.0f}"),
                params=dict(V=V, d=d, k=k), answer=right, tolerance=0.5)


_TRUE = ("skipgram_cbow", "cost_k", "power_rare", "sub_before", "pmi", "softmax_all")
_FALSE = ("neg_normalised", "cbow_order", "uniform_noise", "power_frequent", "sub_rare", "paper_code_same",
          "cosine_length")


def statements(rng: np.random.Generator) -> Item:
    """What skip-gram, CBOW, negative sampling, the noise distribution and subsampling do; half the seeds ask for
    the false statement. The paper-vs-code subsampling formula is the point the page corrects."""
    choices, inverted = statement_choices(rng, S, "practice.st", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.st.stem_false" if inverted else "practice.st.stem_true"),
                choices=choices, solution=text(S, "practice.st.solution"))


_GRAD_RIGHT = """def grad_h(h, u_pos, u_neg):
    sig = lambda x: 1 / (1 + np.exp(-x))
    return (sig(u_pos @ h) - 1) * u_pos + sig(u_neg @ h) @ u_neg"""
_GRAD_WRONG = {
    "neg_sign": """def grad_h(h, u_pos, u_neg):
    sig = lambda x: 1 / (1 + np.exp(-x))
    return (sig(u_pos @ h) - 1) * u_pos + sig(-(u_neg @ h)) @ u_neg""",
    "no_minus_one": """def grad_h(h, u_pos, u_neg):
    sig = lambda x: 1 / (1 + np.exp(-x))
    return sig(u_pos @ h) * u_pos + sig(u_neg @ h) @ u_neg""",
    "neg_minus_one": """def grad_h(h, u_pos, u_neg):
    sig = lambda x: 1 / (1 + np.exp(-x))
    return (sig(u_pos @ h) - 1) * u_pos + (sig(u_neg @ h) - 1) @ u_neg""",
    "softmax": """def grad_h(h, u_pos, u_neg):
    u = np.vstack([u_pos, u_neg])
    p = np.exp(u @ h) / np.exp(u @ h).sum()
    return p @ u - u_pos""",
    "pos_sign": """def grad_h(h, u_pos, u_neg):
    sig = lambda x: 1 / (1 + np.exp(-x))
    return (1 - sig(u_pos @ h)) * u_pos + sig(u_neg @ h) @ u_neg""",
}


def gradient_implementation(rng: np.random.Generator) -> Item:
    """∂L/∂h of the negative-sampling loss for one example; snippets executed on drawn vectors, the right one equal
    to the engine's `neg_sampling_grads`; distractors: σ(−s) for negatives, no −1, −1 on negatives too, a softmax
    over the k + 1 words, the positive term's sign."""
    d = int(rng.integers(2, 5))
    k = int(rng.integers(2, 5))
    h = np.round(rng.normal(size=d), 1)
    u_pos = np.round(rng.normal(size=d), 1)
    u_neg = np.round(rng.normal(size=(k, d)), 1)
    expected = W.neg_sampling_grads(h[None], u_pos[None], u_neg[None]).d_h[0]
    ex = Exec("grad_h", (h, u_pos, u_neg), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.grad.{key}")) for key, code in _GRAD_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong snippet gives the right answer here")
    choices = code_choices(rng, (_GRAD_RIGHT, text(S, "practice.grad.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.grad.stem", d=d, k=k), choices=choices,
                solution=text(S, "practice.grad.solution"),
                params=dict(h=h.tolist(), u_pos=u_pos.tolist(), u_neg=u_neg.tolist()), exec=ex)


GENERATORS = (keep_probability, noise_probability, cost_per_example, statements, gradient_implementation)
