r"""Word embeddings: skip-gram and CBOW with negative sampling (and with the full softmax), trained on text that
ships offline, in NumPy with the gradients written by hand.

Notation (Mikolov et al. 2013; Goldberg & Levy 2014): a word $w$ has an input vector $v_w$ (row of `W_in`, the
embedding) and an output vector $u_w$ (row of `W_out`); $c$ is the centre word, $o$ a word of its window, $k$ the
number of negative samples drawn from the noise distribution $P_n$, $\sigma$ the logistic function.

- skip-gram predicts each context word $o$ from the centre $c$: score $u_o^\top v_c$;
- CBOW predicts the centre $c$ from the mean of its context's input vectors $h = \frac1{|C|}\sum_{o\in C} v_o$:
  score $u_c^\top h$;
- full softmax: $-\log \frac{\exp(u_o^\top v_c)}{\sum_{w=1}^{V} \exp(u_w^\top v_c)}$, cost $O(Vd)$ per pair;
- negative sampling: $-\log\sigma(u_o^\top v_c) - \sum_{i=1}^{k}\log\sigma(-u_{n_i}^\top v_c)$,
  $n_i \sim P_n(w) \propto \mathrm{count}(w)^{3/4}$, cost $O((k+1)d)$ per pair;
- subsampling of frequent words: a word of relative frequency $f$ is kept with probability
  $\sqrt{t/f} + t/f$ (word2vec.c and gensim; the paper writes the discard probability $1 - \sqrt{t/f}$).

References
----------
Mikolov, Chen, Corrado & Dean, "Efficient Estimation of Word Representations in Vector Space", ICLR Workshop 2013
(CBOW, skip-gram); Mikolov, Sutskever, Chen, Corrado & Dean, "Distributed Representations of Words and Phrases and
their Compositionality", NeurIPS 2013 (negative sampling Eq. 4, subsampling Eq. 5, the 3/4 power in §2.2);
Levy & Goldberg, "Neural Word Embedding as Implicit Matrix Factorization", NeurIPS 2014 (SGNS's optimum
$u_o^\top v_c = \mathrm{PMI}(c, o) - \log k$); Řehůřek & Sojka, gensim (the reference implementation used in tests).
"""
from __future__ import annotations

import functools
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from engine.common import corpora

LANGS = ("en", "ja")
ARCHS = ("skipgram", "cbow")
LOSSES = ("neg", "softmax")
MAX_QUERY_CHARS = 200          # the reader's words: one text input, at most this many characters
MAX_QUERY_WORDS = 6            # and at most this many words looked up
N_EVAL = 2000                  # held-out (centre, context) pairs of the pair test
EVAL_WINDOW = 2                # the held-out pairs are at most this far apart
HELD_OUT = 0.1                 # the last tenth of the text is held out of training
TARGET_PAIR_ACC = 0.60         # the page's target: real neighbour ranked above a random word in ≥ 60 % of pairs
# (chance is 50 %; scoring with the training text's own PMI counted pair by pair gets ≈ 65 % on the English text)

# Words drawn in the 2-D map (those in the vocabulary): Python's docs and the app's Japanese text.
MAP_WORDS = {
    "en": ("list", "dict", "tuple", "set", "string", "integer", "float", "int", "str", "bytes", "class",
           "function", "method", "module", "object", "instance", "attribute", "true", "false", "none", "error",
           "exception", "return", "value", "argument", "key", "item", "for", "while", "if", "else", "import",
           "print", "number", "character", "type", "name", "read", "write", "open", "file", "close", "first",
           "last", "left", "right", "add", "remove", "one", "two", "three"),
    "ja": ("学習", "勾配", "損失", "画像", "モデル", "入力", "出力", "層", "トークン", "クラス", "ラベル", "サンプル",
           "データ", "ステップ", "確率", "平均", "分布", "誤差", "予測", "正解", "精度", "単語", "文", "音声", "画素",
           "特徴", "ベクトル", "行列", "関数", "パラメータ", "ノイズ", "大", "小", "上", "下", "左", "右", "赤", "青",
           "一", "二", "三", "数", "値", "時間", "位置", "文字", "英語", "日本語"),
}
# defaults whose answers the trained models get on these texts (checked at the page's defaults, both models)
DEFAULT_QUERY = {"en": "integer, function, true, string", "ja": "英語, 勾配, 赤, 左"}
DEFAULT_ANALOGY = {"en": ("list", "lists", "string"), "ja": ("左", "右", "上")}


# ---------------------------------------------------------------------------------------------- corpora
def english_text() -> str:
    """Python's own documentation topics (engine/common/corpora.py)."""
    return corpora.english_text()


def japanese_text(root=None) -> str:
    """The app's own Japanese text, every `[ja]` string of locales/*.toml (engine/common/corpora.py)."""
    return corpora.japanese_text(root)


_EN_WORD = re.compile(r"[a-z]+")
# Japanese: runs of one script — kanji (with 々), katakana (with ー), hiragana — and Latin words of ≥ 2 letters.
_JA_TOKEN = re.compile(r"[\u4e00-\u9fff\u3005]+|[\u30a1-\u30fa\u30fc]+|[\u3041-\u309f]+|[a-z]{2,}")
_MATH = re.compile(r"\$[^$]*\$|\\[a-zA-Z]+")          # LaTeX in the app's strings is not Japanese


def tokenize(text: str, lang: str) -> list[str]:
    """Words of `text`. English: lower-case runs of letters a–z. Japanese (no morphological analyser ships):
    NFKC, LaTeX removed, then every run of one script — kanji, katakana, hiragana — is one token, and Latin words
    of two letters or more; so 「学習率を下げる」 → 学習率 / を / 下 / げる (okurigana split off, particles kept apart
    only where they stand between kanji or katakana)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    if lang == "en":
        return _EN_WORD.findall(text)
    if lang == "ja":
        return _JA_TOKEN.findall(_MATH.sub(" ", text))
    raise ValueError(f"unknown language {lang!r}")


@dataclass(frozen=True)
class Corpus:
    lang: str
    words: tuple[str, ...]          # (V,) vocabulary, most frequent first
    counts: np.ndarray              # (V,) int64 occurrences in the whole text
    ids: np.ndarray                 # (N,) int32 the text as vocabulary ids (rarer words dropped)
    n_tokens: int                   # tokens before dropping the rare words
    n_train: int                    # ids[:n_train] train, ids[n_train:] held out

    @property
    def index(self) -> dict[str, int]:
        return _index(self.words)


@functools.lru_cache(maxsize=8)
def _index(words: tuple[str, ...]) -> dict[str, int]:
    return {w: i for i, w in enumerate(words)}


def build_corpus(tokens: list[str], lang: str, *, min_count: int = 5, max_vocab: int = 3000) -> Corpus:
    """Vocabulary = words seen ≥ `min_count` times, at most `max_vocab` of the most frequent (ties by first sight);
    the text keeps only those words (as word2vec does); the last `HELD_OUT` of it is held out."""
    from collections import Counter
    counts = Counter(tokens)
    order = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: -counts[w])[:max_vocab]
    index = {w: i for i, w in enumerate(order)}
    ids = np.array([index[w] for w in tokens if w in index], dtype=np.int32)
    return Corpus(lang, tuple(order), np.array([counts[w] for w in order], dtype=np.int64), ids, len(tokens),
                  int(round(len(ids) * (1 - HELD_OUT))))


@functools.lru_cache(maxsize=2)
def corpus(lang: str) -> Corpus:
    """The shipped corpus of `lang`: "en" Python's docs, "ja" the app's Japanese text."""
    text = english_text() if lang == "en" else japanese_text()
    return build_corpus(tokenize(text, lang), lang)


# ------------------------------------------------------------------------------------ subsampling, noise
def keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    r"""Probability that one occurrence of each word is kept (subsampling of frequent words), as word2vec.c and
    gensim compute it, with $f(w) = \mathrm{count}(w) / \sum \mathrm{count}$:

    $$P_\mathrm{keep}(w) = \min\Bigl(1, \sqrt{\frac{t}{f(w)}} + \frac{t}{f(w)}\Bigr)$$

    `sample` = t; 0 keeps every word. (Mikolov et al. 2013b, Eq. 5, print the discard probability
    $1 - \sqrt{t/f(w)}$; the released code adds the $t/f$ term, so every word with $f \le \varphi^2 t \approx 2.62\,t$
    is always kept.)"""
    counts = np.asarray(counts, dtype=np.float64)
    return keep_given_frequency(counts / counts.sum(), sample)        # f: (V,) relative frequency


def keep_given_frequency(f: np.ndarray, sample: float) -> np.ndarray:
    """`keep_probability` of words of relative frequency `f` (0 < f ≤ 1)."""
    f = np.asarray(f, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(f)
    # P_keep = sqrt(t/f) + t/f, at most 1
    return np.minimum(1.0, np.sqrt(sample / f) + sample / f)


def discard_probability_paper(counts: np.ndarray, sample: float) -> np.ndarray:
    r"""The paper's Eq. 5: $P_\mathrm{discard}(w) = 1 - \sqrt{t / f(w)}$, clipped at 0."""
    counts = np.asarray(counts, dtype=np.float64)
    return discard_given_frequency_paper(counts / counts.sum(), sample)


def discard_given_frequency_paper(f: np.ndarray, sample: float) -> np.ndarray:
    """`discard_probability_paper` of words of relative frequency `f`."""
    # P_discard = 1 − sqrt(t/f), at least 0
    return np.maximum(0.0, 1.0 - np.sqrt(sample / np.asarray(f, dtype=np.float64)))


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    r"""$P_n(w) = \mathrm{count}(w)^{\alpha} / \sum_{w'} \mathrm{count}(w')^{\alpha}$, α = 3/4 in word2vec."""
    p = np.asarray(counts, dtype=np.float64) ** power                   # (V,)
    return p / p.sum()


# ------------------------------------------------------------------------------------------------- pairs
def skipgram_pairs(ids: np.ndarray, window: int, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """(centres (P,), contexts (P,)) of every word with every word within its window. With `rng`, each position's
    window is shrunk to a size drawn uniformly from 1…`window` (word2vec.c's `b = rand % window`), so nearer words
    count more; without it, every window is full."""
    n = len(ids)
    reach = (window - rng.integers(0, window, n)) if rng is not None else np.full(n, window)   # (N,)
    cs, os_ = [], []
    for j in range(1, window + 1):
        m = reach[: n - j] >= j                     # centre i, context i + j
        cs.append(ids[: n - j][m]); os_.append(ids[j:][m])
        m = reach[j:] >= j                          # centre i, context i − j
        cs.append(ids[j:][m]); os_.append(ids[: n - j][m])
    return np.concatenate(cs), np.concatenate(os_)


def cbow_windows(ids: np.ndarray, window: int, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """(centres (P,), contexts (P, 2·window) with −1 for no word) for CBOW, the window shrunk as in skip-gram;
    centres without any context are dropped."""
    n = len(ids)
    reach = (window - rng.integers(0, window, n)) if rng is not None else np.full(n, window)   # (N,)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])                 # (2W,)
    pos = np.arange(n)[:, None] + offsets[None, :]                                              # (N, 2W)
    ok = (pos >= 0) & (pos < n) & (np.abs(offsets)[None, :] <= reach[:, None])
    ctx = np.where(ok, ids[np.clip(pos, 0, n - 1)], -1).astype(np.int64)                        # (N, 2W)
    keep = ok.any(axis=1)
    return ids[keep].astype(np.int64), ctx[keep]


# ------------------------------------------------------------------------------------- losses, gradients
def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    # log σ(x) = −log(1 + e^{−x}), stable for both signs
    return -np.logaddexp(0.0, -x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class Grads:
    loss: float                     # summed over the batch
    d_h: np.ndarray                 # (B, d) ∂L/∂h (h = v_c in skip-gram, the context mean in CBOW)
    d_out: np.ndarray               # (B, 1 + k, d) ∂L/∂u of the target and of the k negatives; softmax: (V, d)


def neg_sampling_grads(h: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray) -> Grads:
    r"""Negative-sampling loss of a batch and its gradients (Mikolov et al. 2013b, Eq. 4):

    $$L = -\sum_b \Bigl[\log\sigma(u_{o}^\top h) + \sum_{i=1}^{k}\log\sigma(-u_{n_i}^\top h)\Bigr]$$

    $\partial L/\partial h = (\sigma(u_o^\top h) - 1)\,u_o + \sum_i \sigma(u_{n_i}^\top h)\,u_{n_i}$,
    $\partial L/\partial u_o = (\sigma(u_o^\top h) - 1)\,h$, $\partial L/\partial u_{n_i} = \sigma(u_{n_i}^\top h)\,h$.

    h (B, d), u_pos (B, d), u_neg (B, k, d)."""
    s_pos = np.einsum("bd,bd->b", u_pos, h)                              # (B,) u_o·h
    s_neg = np.einsum("bkd,bd->bk", u_neg, h)                            # (B, k) u_n·h
    # L = −log σ(s_pos) − Σ log σ(−s_neg)
    loss = float(-(_log_sigmoid(s_pos).sum() + _log_sigmoid(-s_neg).sum()))
    g_pos = _sigmoid(s_pos) - 1.0                                        # (B,)  ∂L/∂s_pos
    g_neg = _sigmoid(s_neg)                                              # (B, k) ∂L/∂s_neg
    d_h = g_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", g_neg, u_neg)  # (B, d)
    d_out = np.concatenate([g_pos[:, None, None] * h[:, None, :],
                            g_neg[:, :, None] * h[:, None, :]], axis=1)  # (B, 1 + k, d)
    return Grads(loss, d_h, d_out)


def softmax_grads(h: np.ndarray, W_out: np.ndarray, targets: np.ndarray) -> Grads:
    r"""Full-softmax loss of a batch and its gradients:

    $$L = -\sum_b \log\frac{\exp(u_{o_b}^\top h_b)}{\sum_{w=1}^{V}\exp(u_w^\top h_b)},\quad
      \frac{\partial L}{\partial h_b} = \sum_w (p_{bw} - [w = o_b])\,u_w,\quad
      \frac{\partial L}{\partial U} = (P - Y)^\top H$$

    h (B, d), W_out (V, d), targets (B,). Every output vector gets a gradient: O(V d) per example."""
    z = h @ W_out.T                                                      # (B, V) scores
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)                                    # (B, V) softmax
    B = len(targets)
    loss = float(-np.log(p[np.arange(B), targets] + 1e-300).sum())
    p[np.arange(B), targets] -= 1.0                                      # P − Y
    return Grads(loss, p @ W_out, p.T @ h)                               # (B, d), (V, d)


def scatter_rows(rows: np.ndarray, values: np.ndarray, V: int) -> np.ndarray:
    """Dense (V, d) sum of `values` (n, d) into their `rows` (n,) — `np.add.at`, as one flat `np.bincount`
    (three times faster); repeated rows add up, as the gradient of a gathered matrix does."""
    d = values.shape[1]
    flat = (rows.astype(np.int64)[:, None] * d + np.arange(d)).ravel()               # (n·d,)
    return np.bincount(flat, weights=values.ravel(), minlength=V * d).reshape(V, d)


def cbow_mean(W_in: np.ndarray, ctx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h (B, d) = mean input vector of each context, n (B,) context sizes); −1 in ctx is no word."""
    mask = ctx >= 0                                                      # (B, C)
    n = mask.sum(axis=1)                                                 # (B,)
    h = (W_in[np.where(mask, ctx, 0)] * mask[:, :, None]).sum(axis=1) / n[:, None]   # (B, d)
    return h, n


def batch_grads(W_in: np.ndarray, W_out: np.ndarray, arch: str, loss: str, centres: np.ndarray,
                contexts: np.ndarray, negatives: np.ndarray | None) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss of one batch and the dense gradients (∂L/∂W_in (V, d), ∂L/∂W_out (V, d)).

    skip-gram: `centres` (B,) predict `contexts` (B,); CBOW: `contexts` (B, C) (−1 padded) predict `centres` (B,).
    `negatives` (B, k) for loss "neg" (ignored for "softmax")."""
    V = W_in.shape[0]
    if arch == "skipgram":
        h, target = W_in[centres], contexts
    else:
        h, n = cbow_mean(W_in, contexts)
        target = centres
    if loss == "neg":
        g = neg_sampling_grads(h, W_out[target], W_out[negatives])
        rows = np.concatenate([target[:, None], negatives], axis=1)      # (B, 1 + k)
        g_out = scatter_rows(rows.ravel(), g.d_out.reshape(-1, W_out.shape[1]), V)
    else:
        g = softmax_grads(h, W_out, target)
        g_out = g.d_out
    if arch == "skipgram":
        g_in = scatter_rows(centres, g.d_h, V)
    else:
        mask = contexts >= 0
        share = (g.d_h / n[:, None])[:, None, :] * mask[:, :, None]      # (B, C, d) ∂L/∂v of each context word
        g_in = scatter_rows(np.where(mask, contexts, 0).ravel(), share.reshape(-1, W_in.shape[1]), V)
    return g.loss, g_in, g_out


# --------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class W2VConfig:
    lang: str = "en"                # corpus: "en" Python's docs, "ja" the app's Japanese text
    arch: str = "skipgram"          # "skipgram" or "cbow"
    loss: str = "neg"               # "neg" (negative sampling) or "softmax" (full softmax)
    dim: int = 50                   # d, embedding size
    window: int = 5                 # largest distance to a context word (shrunk at random per position)
    negative: int = 5               # k negatives per positive
    sample: float = 1e-3            # subsampling threshold t (0: off)
    ns_exponent: float = 0.75       # α of P_n ∝ count^α
    lr: float = 0.05                # η at the start, decayed linearly to η·1e-4 (word2vec's alpha → min_alpha)
    batch: int = 512                # examples (pairs / centre words) per update, gradients summed as in SGD
    epochs: int = 10                # passes over the (subsampled) training text
    every: int = 0                  # updates between two snapshots; 0: `auto_every` (≈ the same work per snapshot)
    seed: int = 0


@dataclass(frozen=True)
class W2VSnapshot:
    step: int                       # updates done
    examples: int                   # training pairs (skip-gram) or centre words (CBOW) seen
    steps: np.ndarray               # (S,) updates at each recorded point
    train_loss: np.ndarray          # (S,) mean loss per example since the previous point (step 0: nan)
    pair_acc: np.ndarray            # (S,) held-out pair accuracy at each point
    W_in: np.ndarray                # (V, d) the embeddings now
    lr: float                       # η of the next update
    flops_per_example: int          # multiply-adds of one example's forward + backward (scores and gradients)
    per_epoch: int                  # updates in one pass over the (subsampled) training text
    metrics: dict = field(default_factory=dict)    # {"loss", "pair_acc"}
    seconds: float = 0.0            # time spent computing so far (not the time spent waiting between two pulls)


# η and batch per architecture: tuned so both reach the target on the English text (a CBOW example is a whole
# window, so fewer, larger examples: a larger η and a smaller batch).
ARCH_DEFAULTS = {"skipgram": dict(lr=0.05, batch=512), "cbow": dict(lr=0.1, batch=128)}


def config_for(arch: str, **kw) -> "W2VConfig":
    """A config with the architecture's η and batch (`ARCH_DEFAULTS`) unless given."""
    return W2VConfig(arch=arch, **{**ARCH_DEFAULTS[arch], **kw})


@dataclass(frozen=True)
class EvalPairs:
    centres: np.ndarray             # (N_EVAL,) held-out centre words
    contexts: np.ndarray            # (N_EVAL,) a word within EVAL_WINDOW of it
    randoms: np.ndarray             # (N_EVAL,) a word drawn from the held-out text's unigram distribution


@functools.lru_cache(maxsize=2)
def shipped_eval_pairs(lang: str) -> EvalPairs:
    """The held-out pairs of the shipped corpus of `lang`."""
    return eval_pairs(corpus(lang))


def eval_pairs(c: Corpus, n: int = N_EVAL, seed: int = 12345) -> EvalPairs:
    """`n` held-out (centre, context) pairs (window `EVAL_WINDOW`, no subsampling) with a random word each; the
    same for every config of a corpus (own seed)."""
    rng = np.random.default_rng(seed)
    held = c.ids[c.n_train:]
    cs, os_ = skipgram_pairs(held, EVAL_WINDOW, None)
    pick = rng.choice(len(cs), size=min(n, len(cs)), replace=False)
    randoms = held[rng.integers(0, len(held), len(pick))]
    return EvalPairs(cs[pick].astype(np.int64), os_[pick].astype(np.int64), randoms.astype(np.int64))


def pair_accuracy(W_in: np.ndarray, W_out: np.ndarray, ev: EvalPairs) -> float:
    r"""Share of held-out pairs where the model scores the real neighbour above the random word:
    $u_o^\top v_c > u_r^\top v_c$ (ties count half). For the full softmax this is $p(o|c) > p(r|c)$; 0.5 is chance."""
    v = W_in[ev.centres]                                                 # (N, d)
    s_o = np.einsum("nd,nd->n", W_out[ev.contexts], v)
    s_r = np.einsum("nd,nd->n", W_out[ev.randoms], v)
    return float(np.mean((s_o > s_r) + 0.5 * (s_o == s_r)))


def flops_per_example(arch: str, loss: str, V: int, d: int, k: int, window: int) -> int:
    """Multiply-adds per training example: scores (targets × d), ∂L/∂h (targets × d), ∂L/∂u (targets × d), with
    targets = 1 + k (negative sampling) or V (full softmax); CBOW adds the mean and the spread of ∂L/∂h over the
    ≈ window context words (mean window size (window + 1)/2 each side)."""
    targets = 1 + k if loss == "neg" else V
    extra = 2 * (window + 1) * d if arch == "cbow" else 0
    return 3 * targets * d + extra


WORK_PER_SNAPSHOT = 7e6            # multiply-adds between two snapshots (≈ 0.07 s on one core at the defaults)


def auto_every(cfg: "W2VConfig", V: int) -> int:
    """Updates per snapshot so that every snapshot costs about `WORK_PER_SNAPSHOT` multiply-adds, whatever d, k,
    the window, the batch or the loss: one pull of the live run stays short at every setting."""
    per_update = cfg.batch * flops_per_example(cfg.arch, cfg.loss, V, cfg.dim, cfg.negative, cfg.window)
    return max(1, int(round(WORK_PER_SNAPSHOT / per_update)))


def init_weights(V: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's initialisation: W_in uniform in [−0.5/d, 0.5/d], W_out zeros."""
    return (rng.random((V, d)) - 0.5) / d, np.zeros((V, d))


def _epoch_examples(cfg: W2VConfig, train_ids: np.ndarray, keep: np.ndarray, rng: np.random.Generator):
    kept = train_ids[rng.random(len(train_ids)) < keep[train_ids]]      # subsampling, before the windows
    if cfg.arch == "skipgram":
        cs, os_ = skipgram_pairs(kept, cfg.window, rng)
        order = rng.permutation(len(cs))
        return cs[order].astype(np.int64), os_[order].astype(np.int64)
    cs, ctx = cbow_windows(kept, cfg.window, rng)
    order = rng.permutation(len(cs))
    return cs[order], ctx[order]


def train(cfg: W2VConfig, c: Corpus | None = None, ev: EvalPairs | None = None) -> Iterator[W2VSnapshot]:
    """Train one model on `c` (default: the shipped corpus of `cfg.lang`), a snapshot every `cfg.every` updates.

    Each epoch subsamples the training text (`keep_probability`), forms the windows, shuffles the examples and
    takes minibatches of `cfg.batch`; each update is plain SGD with the batch's gradients summed (what
    word2vec.c does one example at a time), η decaying linearly over all updates. Negatives are drawn from
    $P_n \propto \mathrm{count}^{α}$ (they may hit the target word, as in the textbook objective)."""
    c = c if c is not None else corpus(cfg.lang)
    if ev is None:
        ev = shipped_eval_pairs(cfg.lang) if c is corpus(cfg.lang) else eval_pairs(c)
    rng = np.random.default_rng(cfg.seed)
    V, d = len(c.words), cfg.dim
    W_in, W_out = init_weights(V, d, rng)
    keep = keep_probability(c.counts, cfg.sample)
    cum = np.cumsum(noise_distribution(c.counts, cfg.ns_exponent))
    cum /= cum[-1]
    train_ids = c.ids[: c.n_train]
    # the number of updates: expected examples per epoch from the expected kept text
    examples = _epoch_examples(cfg, train_ids, keep, rng)
    per_epoch = max(1, math.ceil(len(examples[0]) / cfg.batch))
    total = per_epoch * cfg.epochs
    every = cfg.every or auto_every(cfg, V)
    S = total // every + 3
    steps = np.zeros(S, dtype=np.int64)
    losses = np.full(S, np.nan)
    accs = np.zeros(S)
    accs[0] = pair_accuracy(W_in, W_out, ev)
    flops = flops_per_example(cfg.arch, cfg.loss, V, d, cfg.negative, cfg.window)
    n_pts, done, seen = 1, 0, 0
    lr = cfg.lr
    busy = 0.0                                                           # compute time before the last yield
    t0 = time.perf_counter()

    def snapshot() -> W2VSnapshot:
        views = [steps[:n_pts], losses[:n_pts], accs[:n_pts]]
        for v in views:
            v.flags.writeable = False
        w = W_in.copy()
        w.flags.writeable = False
        return W2VSnapshot(done, seen, *views, w, lr, flops, per_epoch,
                           {"loss": float(losses[n_pts - 1]), "pair_acc": float(accs[n_pts - 1])},
                           busy + time.perf_counter() - t0)

    yield snapshot()
    t0 = time.perf_counter()
    pos, acc_loss, acc_n = 0, 0.0, 0
    while done < total:
        if pos >= len(examples[0]):
            examples = _epoch_examples(cfg, train_ids, keep, rng)
            pos = 0
            if len(examples[0]) == 0:
                break
        cs, xs = examples[0][pos: pos + cfg.batch], examples[1][pos: pos + cfg.batch]
        pos += cfg.batch
        negs = (np.searchsorted(cum, rng.random((len(cs), cfg.negative)), side="right")
                if cfg.loss == "neg" else None)
        if negs is not None:
            np.minimum(negs, V - 1, out=negs)
        # η_t = η₀ (1 − t/T), floored at η₀·1e-4
        lr = cfg.lr * max(1e-4, 1.0 - done / total)
        loss, g_in, g_out = batch_grads(W_in, W_out, cfg.arch, cfg.loss, cs, xs, negs)
        W_in -= lr * g_in
        W_out -= lr * g_out
        acc_loss += loss
        acc_n += len(cs)
        seen += len(cs)
        done += 1
        if done % every == 0 or done == total:
            steps[n_pts] = done
            losses[n_pts] = acc_loss / max(1, acc_n)
            accs[n_pts] = pair_accuracy(W_in, W_out, ev)
            n_pts += 1
            acc_loss, acc_n = 0.0, 0
            lr = cfg.lr * max(1e-4, 1.0 - done / total)
            snap = snapshot()
            busy = snap.seconds
            yield snap
            t0 = time.perf_counter()


def train_archs(base: W2VConfig) -> dict[str, Iterator[W2VSnapshot]]:
    """{"skipgram": …, "cbow": …}: both architectures on the same text and settings, each with its own η and
    batch (`ARCH_DEFAULTS`)."""
    return {a: train(config_for(a, **{k: v for k, v in base.__dict__.items()
                                      if k not in ("arch", "lr", "batch")})) for a in ARCHS}


def train_losses(base: W2VConfig) -> dict[str, Iterator[W2VSnapshot]]:
    """{"neg": …, "softmax": …}: skip-gram with negative sampling and with the full softmax, same settings."""
    return {loss: train(W2VConfig(**{**base.__dict__, "arch": "skipgram", "loss": loss})) for loss in LOSSES}


# ------------------------------------------------------------------------------------ using the vectors
def unit_rows(W: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(W, axis=1, keepdims=True)
    return W / np.where(n > 0, n, 1.0)


@dataclass(frozen=True)
class Neighbours:
    word: str
    words: tuple[str, ...]          # (k,) nearest by cosine, the word itself excluded
    cosines: np.ndarray             # (k,)


def nearest(W: np.ndarray, words: tuple[str, ...], word: str, k: int = 8) -> Neighbours:
    r"""The `k` words of largest $\cos(v_w, v_x) = \frac{v_w^\top v_x}{\|v_w\|\|v_x\|}$ (input vectors)."""
    idx = _index(words)[word]
    U = unit_rows(W)
    cos = U @ U[idx]                                                     # (V,)
    cos[idx] = -np.inf
    top = np.argsort(-cos, kind="stable")[:k]
    return Neighbours(word, tuple(words[i] for i in top), cos[top])


@dataclass(frozen=True)
class Analogy:
    a: str
    b: str
    c: str
    words: tuple[str, ...]          # (k,) best answers to a : b = c : ?, the three inputs excluded
    cosines: np.ndarray             # (k,)


def analogy(W: np.ndarray, words: tuple[str, ...], a: str, b: str, c: str, k: int = 5) -> Analogy:
    r"""a : b = c : ? by 3CosAdd on unit vectors (what gensim's `most_similar(positive=[b, c], negative=[a])`
    ranks): $\arg\max_x \cos\bigl(\hat v_x,\ \hat v_b - \hat v_a + \hat v_c\bigr)$, x ∉ {a, b, c}."""
    ix = _index(words)
    U = unit_rows(W)
    q = U[ix[b]] - U[ix[a]] + U[ix[c]]                                   # (d,)
    q = q / (np.linalg.norm(q) or 1.0)
    cos = U @ q                                                          # (V,)
    cos[[ix[a], ix[b], ix[c]]] = -np.inf
    top = np.argsort(-cos, kind="stable")[:k]
    return Analogy(a, b, c, tuple(words[i] for i in top), cos[top])


@dataclass(frozen=True)
class Projection:
    xy: np.ndarray                  # (n, 2) the words' coordinates on the first two principal axes
    explained: np.ndarray           # (2,) share of the variance of the drawn words each axis explains


def project(W: np.ndarray, rows: np.ndarray) -> Projection:
    """PCA of the unit input vectors of `rows` to 2-D (SVD of the centred matrix); each axis's sign is set so that
    its largest loading is positive, so the map does not flip between two snapshots for nothing."""
    X = unit_rows(W[rows])                                               # (n, d)
    X = X - X.mean(axis=0)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    axes = Vt[:2]                                                        # (2, d)
    sign = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    axes = axes * sign[:, None]
    var = s ** 2
    return Projection(X @ axes.T, var[:2] / var.sum() if var.sum() > 0 else np.zeros(2))


def map_rows(c: Corpus, extra: tuple[str, ...] = ()) -> np.ndarray:
    """Vocabulary ids of the language's map words (and the reader's words) present in the corpus."""
    ix = c.index
    seen: dict[int, None] = {}
    for w in MAP_WORDS[c.lang] + tuple(extra):
        if w in ix:
            seen[ix[w]] = None
    return np.array(list(seen), dtype=np.int64)


@dataclass(frozen=True)
class Query:
    known: tuple[str, ...]          # words of the reader's text found in the vocabulary, in order, no repeats
    unknown: tuple[str, ...]        # words not in it
    error: str | None = None        # "empty", "too_long" (a code the page translates) or None
    truncated: bool = False         # more than MAX_QUERY_WORDS words: the first ones kept


def parse_query(text: str, c: Corpus, max_chars: int = MAX_QUERY_CHARS) -> Query:
    """The reader's words: NFKC, split on commas, 「、」 and blanks, each tokenised as the corpus was (so 「学習率」
    is one word, "Lists" becomes "lists"); control characters dropped; at most `MAX_QUERY_WORDS`."""
    if text is None or not text.strip():
        return Query((), (), "empty")
    if len(text) > max_chars:
        return Query((), (), "too_long")
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch)[0] != "C" or
                   ch in " \t")
    known: dict[str, None] = {}
    unknown: dict[str, None] = {}
    for part in re.split(r"[,、，;\s]+", text):
        if not part:
            continue
        toks = tokenize(part, c.lang)
        word = "".join(toks) if c.lang == "ja" else (toks[0] if toks else part.lower())
        if not toks:
            unknown[part] = None
        elif word in c.index:
            known[word] = None
        else:
            unknown[word] = None
    ks = tuple(known)
    if not ks and not unknown:
        return Query((), (), "empty")
    return Query(ks[:MAX_QUERY_WORDS], tuple(unknown)[:MAX_QUERY_WORDS], None, len(ks) > MAX_QUERY_WORDS)


# ---------------------------------------------------------------------------------- the numbers shown
@dataclass(frozen=True)
class SubsampleRow:
    word: str
    count: int
    freq: float                     # f(w)
    keep: float                     # word2vec.c / gensim P_keep
    discard_paper: float            # Eq. 5's 1 − sqrt(t/f)
    noise_unigram: float            # count / Σ count
    noise_34: float                 # count^0.75 / Σ count^0.75


def subsample_table(c: Corpus, sample: float, rows: int = 12, power: float = 0.75) -> tuple[SubsampleRow, ...]:
    """The most frequent words and a few rare ones: frequency, keep / discard probability, noise probabilities."""
    keep = keep_probability(c.counts, sample)
    disc = discard_probability_paper(c.counts, sample)
    f = c.counts / c.counts.sum()
    pn1 = noise_distribution(c.counts, 1.0)
    pn = noise_distribution(c.counts, power)
    idx = list(range(min(rows - 3, len(c.words)))) + [len(c.words) // 2, len(c.words) - 1]
    return tuple(SubsampleRow(c.words[i], int(c.counts[i]), float(f[i]), float(keep[i]), float(disc[i]),
                              float(pn1[i]), float(pn[i])) for i in dict.fromkeys(idx))


def kept_share(c: Corpus, sample: float) -> float:
    """Expected share of the text's tokens kept by subsampling."""
    return float((keep_probability(c.counts, sample) * c.counts).sum() / c.counts.sum())
