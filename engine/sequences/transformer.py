r"""Sequences › Transformer: scaled dot-product attention step by step, why $\sqrt{d_k}$, multi-head, sinusoidal
position encodings, padding and causal masks, residual + LayerNorm (post vs pre), the parameter and FLOP count, and a
tiny encoder–decoder Transformer trained live.

The modules keep torch's parameter names (`in_proj_weight`, `out_proj`, `linear1`, `norm1`, …) so that
`torch.nn.MultiheadAttention`, `TransformerEncoderLayer` and `TransformerDecoderLayer` load their `state_dict()` as it
is: the tests copy our weights into torch's modules and compare outputs. The forward passes are written out here.

References
----------
Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (Eq. 1: attention; §3.2.2 multi-head; §3.5 position
encoding; footnote 4: the variance of q·k is d_k). Xiong et al., "On Layer Normalization in the Transformer
Architecture", ICML 2020 (post-LN vs pre-LN).
"""
from __future__ import annotations

import math
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.common import optim
from engine.common.attention import multi_head_attention
from engine.common.text import TextError

MAX_CHARS = 200            # characters of the learner's sentence read (the text box's limit)
MAX_TOKENS = 12            # tokens kept (the rest is cut, with a note): a 12 × 12 attention matrix stays readable
D_MODEL = 32               # width of the step-by-step demo's token vectors
DEFAULT_SENTENCE = "the animal did not cross the street because it was tired"
PAD = "[PAD]"
_TOKEN = re.compile(r"[A-Za-z0-9']+|\S")      # Latin words and numbers whole; any other visible character alone


# ============================================================================================ tokens, embeddings
@dataclass(frozen=True)
class Tokens:
    tokens: tuple[str, ...]        # (T,) what the attention sees
    truncated: bool                # the sentence had more than MAX_TOKENS tokens


def tokenize(text: str, max_tokens: int = MAX_TOKENS) -> Tokens:
    """The learner's sentence as tokens: NFKC, control and format characters (category C*) dropped, lower case,
    Latin words whole and every other visible character (kana, kanji, emoji, punctuation) a token of its own.
    TextError "no_tokens" when nothing visible is left."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text).lower()
    toks = _TOKEN.findall(text)
    if not toks:
        raise TextError("no_tokens")
    return Tokens(tuple(toks[:max_tokens]), len(toks) > max_tokens)


def embed(tokens: tuple[str, ...], d_model: int = D_MODEL, seed: int = 0) -> np.ndarray:
    """A fixed random table: each distinct token gets its own N(0, 1) vector (seeded by crc32 of the token and
    `seed`), so the same word always has the same embedding. Returns (T, d_model) float32."""
    rows = [np.random.default_rng([zlib.crc32(tok.encode("utf-8")), seed]).standard_normal(d_model)
            for tok in tokens]
    return np.asarray(rows, dtype=np.float32).reshape(len(tokens), d_model)


# ============================================================================================ attention
def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 attn_mask: torch.Tensor | None = None, scale: bool = True
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Scaled dot-product attention, written out.

    $$\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V$$

    Parameters
    ----------
    q : (..., T_q, d_k); k : (..., T_k, d_k); v : (..., T_k, d_v)
    attn_mask : bool (..., T_q, T_k) or None
        True where a query may NOT look (torch.nn.MultiheadAttention's convention; note that
        F.scaled_dot_product_attention's bool mask means the opposite: True = may look).
    scale : divide by √d_k (False shows what happens without it).

    Returns
    -------
    (out (..., T_q, d_v), weights (..., T_q, T_k)).

    References
    ----------
    Vaswani et al. 2017, Eq. 1.
    """
    d_k = q.shape[-1]
    if scale:
        q = q * (1.0 / math.sqrt(d_k))                               # (Q/√d_k)Kᵀ = QKᵀ/√d_k: T·d_k products, not T²
    scores = q @ k.transpose(-2, -1)                                 # (..., T_q, T_k)
    if attn_mask is not None:
        scores = scores.masked_fill(attn_mask, float("-inf"))        # a blocked pair gets weight 0
    weights = torch.softmax(scores, dim=-1)                          # (..., T_q, T_k), rows sum to 1
    return weights @ v, weights                                      # (..., T_q, d_v)


@dataclass(frozen=True)
class AttentionSteps:
    tokens: tuple[str, ...]
    x: np.ndarray          # (T, d_model) embedding (+ position encoding)
    q: np.ndarray          # (T, d_k)  x W_Q
    k: np.ndarray          # (T, d_k)  x W_K
    v: np.ndarray          # (T, d_k)  x W_V
    scores: np.ndarray     # (T, T)    Q Kᵀ
    scaled: np.ndarray     # (T, T)    Q Kᵀ / √d_k (= scores when not scaled)
    weights: np.ndarray    # (T, T)    softmax by rows
    out: np.ndarray        # (T, d_k)  weights V
    d_k: int

    @property
    def mean_top(self) -> float:
        """Mean over queries of the largest weight (1/T: spread evenly; 1: all on one token)."""
        return float(self.weights.max(1).mean())

    @property
    def spread(self) -> float:
        """Standard deviation of the logits the softmax receives."""
        return float(self.scaled.std())


def attention_steps(tokens: tuple[str, ...], d_k: int = 8, seed: int = 0, positions: bool = True,
                    scale: bool = True, causal: bool = False) -> AttentionSteps:
    """One attention head on the learner's sentence, every intermediate kept: x = embedding (+ PE), Q = xW_Q,
    K = xW_K, V = xW_V with random W (N(0, 1/d_model): untrained, so the pattern comes from the words and their
    positions, not from learned meaning), then QKᵀ, ÷√d_k, softmax, ·V."""
    x = embed(tokens, D_MODEL, seed)                                 # (T, D)
    if positions:
        x = x + sinusoidal_encoding(len(tokens), D_MODEL)
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(3, D_MODEL, d_k, generator=g) / math.sqrt(D_MODEL)   # W_Q, W_K, W_V: (D, d_k)
    xt = torch.from_numpy(x)
    q, k, v = xt @ w[0], xt @ w[1], xt @ w[2]                        # (T, d_k) each
    mask = causal_mask(len(tokens)) if causal else None
    out, weights = scaled_dot_product_attention(q, k, v, mask, scale=scale)
    scores = q @ k.T                                                 # (T, T)
    scaled = scores / math.sqrt(d_k) if scale else scores
    n = lambda a: a.detach().numpy()                                 # noqa: E731
    return AttentionSteps(tokens, x, n(q), n(k), n(v), n(scores), n(scaled), n(weights), n(out), d_k)


# ============================================================================================ why √d_k
@dataclass(frozen=True)
class Saturation:
    d_k: np.ndarray              # (n,) head sizes measured
    score_std: np.ndarray        # (2, n) std of q·k [unscaled, scaled]; theory √d_k and 1
    max_weight: np.ndarray       # (2, n) mean largest softmax weight of a row
    entropy: np.ndarray          # (2, n) mean entropy of a row (nats); uniform = log n_keys
    grad_norm: np.ndarray        # (2, n) mean Frobenius norm of the softmax Jacobian diag(p) − ppᵀ
    n_keys: int


def softmax_jacobian_norm(p: np.ndarray) -> np.ndarray:
    r"""$\lVert \partial p/\partial s \rVert_F$ of p = softmax(s), row by row: the Jacobian is diag(p) − ppᵀ, so
    $\lVert J\rVert_F^2 = \sum_i p_i^2(1-p_i)^2 + \sum_{i\ne j} p_i^2p_j^2 = \sum_i p_i^2 - 2\sum_i p_i^3 + (\sum_i p_i^2)^2$.
    p : (..., n) → (...)."""
    s2 = (p ** 2).sum(-1)
    return np.sqrt(np.maximum(s2 - 2 * (p ** 3).sum(-1) + s2 ** 2, 0.0))


def saturation(d_ks: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512), n_keys: int = 10,
               trials: int = 400, seed: int = 0) -> Saturation:
    """Queries and keys with N(0, 1) entries (what LayerNorm'd inputs through initialised projections give): the
    score q·k is a sum of d_k products of variance 1, so its variance is d_k (Vaswani et al., footnote 4). Without
    ÷√d_k the softmax of such scores puts almost all weight on one key as d_k grows, and its Jacobian — the
    gradient every score receives — goes to 0; with it the spread stays 1 whatever d_k."""
    rng = np.random.default_rng(seed)
    out = np.zeros((4, 2, len(d_ks)))
    for j, d_k in enumerate(d_ks):
        q = rng.standard_normal((trials, 1, d_k))
        k = rng.standard_normal((trials, n_keys, d_k))
        s = (q * k).sum(-1)                                          # (trials, n_keys)  q·k_j
        for i, scores in enumerate((s, s / math.sqrt(d_k))):
            z = scores - scores.max(-1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(-1, keepdims=True)                            # softmax by rows
            out[0, i, j] = scores.std()
            out[1, i, j] = p.max(-1).mean()
            out[2, i, j] = -(p * np.log(np.maximum(p, 1e-300))).sum(-1).mean()
            out[3, i, j] = softmax_jacobian_norm(p).mean()
    return Saturation(np.asarray(d_ks), *out, n_keys)


# ============================================================================================ modules
def init_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Every parameter drawn from `generator` (never torch's global seed): matrices Xavier-uniform (torch's choice
    for attention), biases 0, LayerNorm gains 1. Returns the module."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                bound = math.sqrt(6.0 / (p.shape[0] + p.shape[-1]))
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)     # U(−a, a), a = √(6/(in+out))
            elif ".norm" in "." + name or name.startswith("norm"):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.zero_()
    return module


class MultiheadAttention(nn.Module):
    r"""Multi-head attention with torch.nn.MultiheadAttention's parameters (`in_proj_weight` (3D, D) stacking
    W_Q, W_K, W_V; `in_proj_bias`; `out_proj`), batch first.

    $$\mathrm{MultiHead}(Q,K,V) = \mathrm{Concat}(\mathrm{head}_1,\dots,\mathrm{head}_h)W^O,\quad
      \mathrm{head}_i = \mathrm{Attention}(QW_i^Q, KW_i^K, VW_i^V)$$
    (Vaswani et al. 2017, §3.2.2), d_k = D / h."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        assert d_model % n_heads == 0, "d_model must be a multiple of the number of heads"
        self.d_model, self.n_heads = d_model, n_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)                  # torch's initialisation
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                attn_mask: torch.Tensor | None = None, key_padding_mask: torch.Tensor | None = None,
                need_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query (B, T_q, D), key/value (B, T_k, D); attn_mask bool (T_q, T_k), key_padding_mask bool (B, T_k),
        True = blocked. Returns (out (B, T_q, D), weights (B, h, T_q, T_k) per head, or None)."""
        B, T_q, D = query.shape
        T_k, h = key.shape[1], self.n_heads
        mask = None
        if attn_mask is not None:
            mask = attn_mask.view(1, 1, T_q, T_k)
        if key_padding_mask is not None:
            pad = key_padding_mask.view(B, 1, 1, T_k)
            mask = pad if mask is None else mask | pad                # (B, 1, T_q, T_k)
        if need_weights:                                             # written out, the weights of every head kept
            return multi_head_attention(query, key, value, h, self.in_proj_weight, self.in_proj_bias,
                                        self.out_proj.weight, self.out_proj.bias, mask)
        # the fused kernel: same numbers, no weights
        if query is key and key is value:                            # self-attention: one product [W^Q W^K W^V]
            qkv = F.linear(query, self.in_proj_weight, self.in_proj_bias)                # (B, T, 3D)
            q, k, v = qkv.view(B, T_q, 3, h, D // h).permute(2, 0, 3, 1, 4)             # 3 × (B, h, T, d_k)
        else:
            w_q, w_k, w_v = self.in_proj_weight.chunk(3)
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)
            split = lambda t, n: t.view(B, n, h, D // h).transpose(1, 2)  # noqa: E731  (B, h, n, d_k)
            q = split(F.linear(query, w_q, b_q), T_q)                # Q W^Q
            k = split(F.linear(key, w_k, b_k), T_k)                  # K W^K
            v = split(F.linear(value, w_v, b_v), T_k)                # V W^V
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else ~mask)
        out = out.transpose(1, 2).reshape(B, T_q, D)                 # Concat(head_1, …, head_h)
        return self.out_proj(out), None                              # · W^O


class EncoderLayer(nn.Module):
    r"""torch.nn.TransformerEncoderLayer's block (ReLU, no dropout), with its parameter names.

    Post-LN (the paper): $x \leftarrow \mathrm{LN}(x + \mathrm{MHA}(x))$, $x \leftarrow \mathrm{LN}(x + \mathrm{FFN}(x))$.
    Pre-LN: $x \leftarrow x + \mathrm{MHA}(\mathrm{LN}(x))$, $x \leftarrow x + \mathrm{FFN}(\mathrm{LN}(x))$."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, norm_first: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiheadAttention(d_model, n_heads)
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(torch.relu(self.linear1(x)))             # FFN(x) = max(0, xW₁ + b₁)W₂ + b₂

    def sa(self, x, mask, pad, need_weights=False):
        return self.self_attn(x, x, x, mask, pad, need_weights)

    def forward(self, x: torch.Tensor, src_mask: torch.Tensor | None = None,
                src_key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm_first:
            x = x + self.sa(self.norm1(x), src_mask, src_key_padding_mask)[0]   # x + MHA(LN(x))
            return x + self.ffn(self.norm2(x))                                   # x + FFN(LN(x))
        x = self.norm1(x + self.sa(x, src_mask, src_key_padding_mask)[0])       # LN(x + MHA(x))
        return self.norm2(x + self.ffn(x))                                       # LN(x + FFN(x))


class DecoderLayer(nn.Module):
    """torch.nn.TransformerDecoderLayer's block (ReLU, no dropout): masked self-attention, cross-attention to the
    encoder's output (`memory`), FFN, each with its residual and LayerNorm."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, norm_first: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiheadAttention(d_model, n_heads)
        self.multihead_attn = MultiheadAttention(d_model, n_heads)
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.last_cross: torch.Tensor | None = None                 # (B, h, T, S) when asked for

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_key_padding_mask: torch.Tensor | None = None, tgt_key_padding_mask=None,
                need_cross: bool = False) -> torch.Tensor:
        sa = lambda y: self.self_attn(y, y, y, tgt_mask, tgt_key_padding_mask, False)[0]   # noqa: E731

        def ca(y):
            out, w = self.multihead_attn(y, memory, memory, None, memory_key_padding_mask, need_cross)
            self.last_cross = w
            return out
        ffn = lambda y: self.linear2(torch.relu(self.linear1(y)))   # noqa: E731
        if self.norm_first:
            x = x + sa(self.norm1(x))
            x = x + ca(self.norm2(x))
            return x + ffn(self.norm3(x))
        x = self.norm1(x + sa(x))
        x = self.norm2(x + ca(x))
        return self.norm3(x + ffn(x))


# ============================================================================================ positions, masks
def sinusoidal_encoding(n_pos: int, d_model: int) -> np.ndarray:
    r"""$$PE_{(pos,2i)} = \sin(pos/10000^{2i/d_{model}}),\quad PE_{(pos,2i+1)} = \cos(pos/10000^{2i/d_{model}})$$
    (Vaswani et al. 2017, §3.5). Returns (n_pos, d_model) float32 (d_model even)."""
    pos = np.arange(n_pos)[:, None]                                  # (P, 1)
    omega = 10000.0 ** (-np.arange(0, d_model, 2) / d_model)         # (D/2,) 1/10000^{2i/d}
    pe = np.zeros((n_pos, d_model))
    pe[:, 0::2] = np.sin(pos * omega)
    pe[:, 1::2] = np.cos(pos * omega)
    return pe.astype(np.float32)


def shift_matrix(k: int, d_model: int) -> np.ndarray:
    r"""The linear map that moves every position by k: $PE_{pos+k} = M_k\,PE_{pos}$ for every pos, one 2 × 2
    rotation by $k\omega_i$ per (sin, cos) pair:
    $\begin{pmatrix}\sin\\\cos\end{pmatrix}(p+k)\omega = \begin{pmatrix}\cos k\omega & \sin k\omega\\
    -\sin k\omega & \cos k\omega\end{pmatrix}\begin{pmatrix}\sin\\\cos\end{pmatrix}p\omega$. Returns (D, D)."""
    omega = 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    m = np.zeros((d_model, d_model))
    c, s = np.cos(k * omega), np.sin(k * omega)
    i = np.arange(0, d_model, 2)
    m[i, i], m[i, i + 1], m[i + 1, i], m[i + 1, i + 1] = c, s, -s, c
    return m


def causal_mask(T: int) -> torch.Tensor:
    """(T, T) bool, True above the diagonal: position t may look at 0…t only (a decoder, GPT)."""
    return torch.ones(T, T, dtype=torch.bool).triu(1)


def padding_mask(lengths: list[int] | tuple[int, ...], T: int) -> torch.Tensor:
    """(B, T) bool, True at the [PAD] positions past each sequence's length: no query may look at them."""
    return torch.arange(T)[None, :] >= torch.as_tensor(lengths)[:, None]


@dataclass(frozen=True)
class MaskedAttention:
    tokens: tuple[str, ...]        # (T,) the sentence then n_pad [PAD]
    mask: np.ndarray               # (T, T) bool, True = blocked (the union of the chosen masks)
    weights: np.ndarray            # (T, T) head-averaged weights under that mask
    pad_weight: float              # weight the real tokens give to [PAD] in all (summed over keys, mean over rows)
    future_weight: float           # weight on later positions (mean over rows)


def masked_attention(tokens: tuple[str, ...], n_pad: int, padding: bool, causal: bool, seed: int = 0,
                     n_heads: int = 2) -> MaskedAttention:
    """The sentence padded with `n_pad` [PAD] tokens (as in a batch with longer sentences) through one random
    multi-head attention, with or without the padding and the causal mask."""
    toks = tuple(tokens) + (PAD,) * n_pad
    T, n = len(toks), len(tokens)
    x = torch.from_numpy(embed(toks, D_MODEL, seed) + sinusoidal_encoding(T, D_MODEL))[None]   # (1, T, D)
    mha = init_(MultiheadAttention(D_MODEL, n_heads), torch.Generator().manual_seed(seed))
    with torch.no_grad():
        pad = padding_mask([n], T) if padding else None
        cm = causal_mask(T) if causal else None
        _, w = mha(x, x, x, cm, pad)
    w = w[0].mean(0).numpy()                                         # (T, T) averaged over heads
    full = np.zeros((T, T), bool)
    if pad is not None:
        full |= pad.numpy()[0][None, :]
    if cm is not None:
        full |= cm.numpy()
    return MaskedAttention(toks, full, w, float(w[:n, n:].sum(1).mean()),
                           float(np.triu(w[:n, :n], 1).sum(1).mean()))


@dataclass(frozen=True)
class Heads:
    tokens: tuple[str, ...]
    weights: np.ndarray            # (h, T, T) each head's attention weights
    d_k: int                       # D / h
    entropy: np.ndarray            # (h,) mean row entropy of each head (nats): how spread its attention is


def demo_attention(n_heads: int, seed: int = 0) -> MultiheadAttention:
    """A multi-head attention of width D_MODEL with random (Xavier) weights, except W_K = W_Q: each head's score
    q·k is then a similarity of the two tokens in that head's own random d_k-dimensional view of them (word and
    position), so untrained heads already show distinct patterns; a trained model learns W_K apart from W_Q."""
    mha = init_(MultiheadAttention(D_MODEL, n_heads), torch.Generator().manual_seed(seed))
    with torch.no_grad():
        mha.in_proj_weight[D_MODEL:2 * D_MODEL] = mha.in_proj_weight[:D_MODEL]        # W_K = W_Q
    return mha


def heads(tokens: tuple[str, ...], n_heads: int, seed: int = 0, causal: bool = False) -> Heads:
    """The sentence (embedding + PE) through `demo_attention`: width D_MODEL split into `n_heads` heads of
    d_k = D_MODEL / n_heads, each with its own slice of W_Q, W_K, W_V, so its own pattern."""
    T = len(tokens)
    x = torch.from_numpy(embed(tokens, D_MODEL, seed) + sinusoidal_encoding(T, D_MODEL))[None]   # (1, T, D)
    mha = demo_attention(n_heads, seed)
    with torch.no_grad():
        _, w = mha(x, x, x, causal_mask(T) if causal else None)
    w = w[0].numpy()                                                 # (h, T, T)
    ent = -(w * np.log(np.maximum(w, 1e-30))).sum(-1).mean(-1)
    return Heads(tuple(tokens), w, D_MODEL // n_heads, ent)


def shift_error(n_pos: int, d_model: int, k: int) -> float:
    """max |M_k PE(p) − PE(p + k)| over p: 0 up to float32 rounding (PE is stored as float32): one fixed linear map."""
    pe = sinusoidal_encoding(n_pos + k, d_model).astype(np.float64)
    return float(np.abs(pe[:n_pos] @ shift_matrix(k, d_model).T - pe[k:]).max())


# ============================================================================================ post vs pre LN
@dataclass(frozen=True)
class DepthProfile:
    n_layers: int
    stream_rms: np.ndarray         # (2, L + 1) RMS of the residual stream after each layer [post, pre]
    grad_norm: np.ndarray          # (2, L) ‖∂loss/∂θ_l‖ of each layer's parameters at initialisation [post, pre]


def depth_profile(n_layers: int = 6, d_model: int = 64, n_heads: int = 4, T: int = 16, seed: int = 0
                  ) -> DepthProfile:
    """A stack of `n_layers` freshly initialised encoder layers, post-LN and pre-LN (with the final LayerNorm a
    pre-LN stack needs), the same weights in both; the loss is the mean square of the output against a random
    target. Xiong et al. (2020) show post-LN's gradients are largest near the output (so it needs a warm-up); in
    pre-LN they are not, and the residual stream grows with depth (nothing normalises it), so each later layer's
    addition is a smaller share of it and its gradient smaller."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, T, d_model, generator=g)
    target = torch.randn(2, T, d_model, generator=g)
    layers = [init_(EncoderLayer(d_model, n_heads, 4 * d_model), g) for _ in range(n_layers)]
    final = nn.LayerNorm(d_model)
    rms = np.zeros((2, n_layers + 1))
    grads = np.zeros((2, n_layers))
    for i, norm_first in enumerate((False, True)):
        h = x
        rms[i, 0] = float(h.pow(2).mean().sqrt())
        for j, layer in enumerate(layers):
            layer.norm_first = norm_first
            h = layer(h)
            rms[i, j + 1] = float(h.detach().pow(2).mean().sqrt())
        out = final(h) if norm_first else h
        loss = (out - target).pow(2).mean()
        params = [list(layer.parameters()) for layer in layers]
        gs = torch.autograd.grad(loss, [p for ps in params for p in ps])
        pos = 0
        for j, ps in enumerate(params):
            grads[i, j] = float(torch.sqrt(sum(gg.pow(2).sum() for gg in gs[pos:pos + len(ps)])))
            pos += len(ps)
    return DepthProfile(n_layers, rms, grads)


# ============================================================================================ counting
@dataclass(frozen=True)
class Count:
    attention: int             # parameters of one multi-head attention: 4D² + 4D
    ffn: int                   # 2·D·d_ff + d_ff + D
    norms: int                 # 2·D per LayerNorm
    encoder_layer: int
    decoder_layer: int
    embeddings: int            # vocab · D (shared by encoder input, decoder input and output, as in the paper)
    total: int                 # n_enc encoder layers + n_dec decoder layers + embeddings


def count_parameters(d_model: int, d_ff: int, n_enc: int, n_dec: int, vocab: int, final_norms: bool = True
                     ) -> Count:
    """Parameters of an encoder–decoder Transformer: attention 4D²+4D (W_Q, W_K, W_V, W_O and their biases; the
    number of heads does not change it), FFN 2·D·d_ff + d_ff + D, LayerNorm 2D; an encoder layer = attention + FFN
    + 2 norms, a decoder layer = 2 attentions + FFN + 3 norms; plus the final norm of each stack (as
    torch.nn.Transformer has) and one shared embedding table."""
    D = d_model
    att = 4 * D * D + 4 * D
    ffn = 2 * D * d_ff + d_ff + D
    enc = att + ffn + 2 * 2 * D
    dec = 2 * att + ffn + 3 * 2 * D
    emb = vocab * D
    finals = 2 * D * ((n_enc > 0) + (n_dec > 0)) if final_norms else 0
    return Count(att, ffn, 2 * D, enc, dec, emb, n_enc * enc + n_dec * dec + finals + emb)


@dataclass(frozen=True)
class Flops:
    projections: int           # Q, K, V and output projections: 2·T·D·4D
    attention: int             # QKᵀ and weights·V: 2·T²·D each
    ffn: int                   # 2·T·D·d_ff · 2
    total: int


def encoder_layer_flops(T: int, d_model: int, d_ff: int) -> Flops:
    """Multiply–add FLOPs (2 per multiply–add, matrix products only, as torch.utils.flop_counter counts) of one
    encoder layer's forward on T tokens. The projections and the FFN grow as T·D², attention's two products as
    T²·D: with d_ff = 4D they are equal at T = 6D, so attention's T² only dominates for long sequences."""
    proj = 2 * T * d_model * 4 * d_model
    att = 2 * (2 * T * T * d_model)
    ffn = 2 * (2 * T * d_model * d_ff)
    return Flops(proj, att, ffn, proj + att + ffn)


def attention_crossover(d_model: int, d_ff: int) -> int:
    """The length T where attention's 4T²D equals the rest, 8TD² + 4TD·d_ff: T = 2D + d_ff (= 6D when
    d_ff = 4D)."""
    return 2 * d_model + d_ff


# ============================================================================================ a tiny Transformer
@dataclass(frozen=True)
class TrainConfig:
    task: str = "dates"            # engine.common.seqtasks task: "dates" or "reverse"
    d_model: int = 64              # D
    n_heads: int = 4               # h (d_k = D / h)
    n_layers: int = 2              # encoder layers = decoder layers
    d_ff: int = 128                # FFN width
    norm_first: bool = False       # the paper's post-LN (False) or pre-LN (True)
    lr: float = 2e-3               # Adam's η after the warm-up
    warmup: int = 100              # updates of linear warm-up: update s uses lr·min(1, (s+1)/warmup)
    batch: int = 64                # pairs per update (fresh random pairs each time)
    steps: int = 3000              # updates in all
    every: int = 10                # updates between two snapshots (each one decodes the validation set)
    n_val: int = 128               # held-out pairs (seqtasks.validation_set) for exact-match accuracy
    seed: int = 0


MAX_LEN = 40                       # positions the position encoding covers (sources ≤ 18, targets ≤ 13)


class TinyTransformer(nn.Module):
    """Encoder–decoder Transformer (Vaswani et al. 2017, Fig. 1) for character sequences: token embedding × √D +
    sinusoidal PE, `n_layers` encoder and decoder layers, a final LayerNorm per stack when pre-LN, a linear
    read-out to the target vocabulary."""

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
                 d_ff: int = 128, norm_first: bool = True):
        super().__init__()
        self.d_model, self.norm_first = d_model, norm_first
        self.src_emb, self.tgt_emb = nn.Embedding(src_vocab, d_model), nn.Embedding(tgt_vocab, d_model)
        self.encoder = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff, norm_first) for _ in range(n_layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, n_heads, d_ff, norm_first) for _ in range(n_layers))
        if norm_first:                  # pre-LN needs a final LayerNorm per stack; post-LN's output is normalised
            self.enc_norm, self.dec_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, tgt_vocab)
        self.register_buffer("pe", torch.from_numpy(sinusoidal_encoding(MAX_LEN, d_model)), persistent=False)

    def encode(self, src: torch.Tensor, src_pad: torch.Tensor) -> torch.Tensor:
        """src (B, S) ids, src_pad (B, S) True at PAD → memory (B, S, D)."""
        x = self.src_emb(src) * math.sqrt(self.d_model) + self.pe[:src.shape[1]]      # (B, S, D)
        for layer in self.encoder:
            x = layer(x, None, src_pad)
        return self.enc_norm(x) if self.norm_first else x

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_pad: torch.Tensor,
               need_cross: bool = False) -> torch.Tensor:
        """tgt_in (B, T) ids → logits (B, T, V); position t sees targets 0…t only (causal mask)."""
        T = tgt_in.shape[1]
        y = self.tgt_emb(tgt_in) * math.sqrt(self.d_model) + self.pe[:T]               # (B, T, D)
        mask = causal_mask(T)
        for layer in self.decoder:
            y = layer(y, memory, mask, src_pad, need_cross=need_cross)
        return self.out(self.dec_norm(y) if self.norm_first else y)

    def forward(self, src: torch.Tensor, src_pad: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in, self.encode(src, src_pad), src_pad)


def tiny_parameters(cfg: TrainConfig) -> int:
    """The tiny model's parameters from the formulas: its layers (final norms only for pre-LN), a source and a
    target embedding table, and the read-out to the target vocabulary (weights and biases)."""
    from engine.common import seqtasks
    task = seqtasks.get_task(cfg.task)
    V_s, V_t, D = task.src_vocab.size, task.tgt_vocab.size, cfg.d_model
    layers = count_parameters(D, cfg.d_ff, cfg.n_layers, cfg.n_layers, 0, final_norms=cfg.norm_first).total
    return layers + V_s * D + V_t * D + D * V_t + V_t


def n_parameters(model: nn.Module) -> int:
    """Trainable parameters of any torch model (the RNN shown next to the Transformer included)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_model(cfg: TrainConfig) -> TinyTransformer:
    from engine.common import seqtasks
    task = seqtasks.get_task(cfg.task)
    model = TinyTransformer(task.src_vocab.size, task.tgt_vocab.size, cfg.d_model, cfg.n_heads, cfg.n_layers,
                            cfg.d_ff, cfg.norm_first)
    return init_(model, torch.Generator().manual_seed(cfg.seed))


def model_from_state(cfg: TrainConfig, state: dict[str, np.ndarray]) -> TinyTransformer:
    """The model of `cfg` with the weights of a snapshot's `state`, in eval mode."""
    model = make_model(cfg)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return model.eval()


@dataclass(frozen=True)
class Translation:
    source: str
    prediction: str                # greedy decoding up to EOS
    cross: np.ndarray              # (T_out, S) last decoder layer's cross-attention, heads averaged
    out_tokens: tuple[str, ...]    # (T_out,) the characters written, EOS included when written


def translate(model: TinyTransformer, task_name: str, source: str) -> Translation:
    """Greedy free-running decoding of one source (prepared by seqtasks' Task.prepare) and its cross-attention."""
    from engine.common import seqtasks
    task = seqtasks.get_task(task_name)
    batch = seqtasks.make_batch(task, [(source, "")])
    _, pred, cross, out_tokens = _decode_one(model, task, batch)
    return Translation(source, pred, cross, out_tokens)


def greedy_decode(model: TinyTransformer, src: torch.Tensor, src_pad: torch.Tensor, max_len: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Free running: feed back the most likely character until EOS or `max_len`. Returns (ids (B, ≤ max_len + 1),
    the last decoder layer's cross-attention for the last step's every position, head-averaged (B, T, S))."""
    from engine.common.seqtasks import EOS, SOS
    memory = model.encode(src, src_pad)
    ys = torch.full((src.shape[0], 1), SOS, dtype=torch.long)
    done = torch.zeros(src.shape[0], dtype=torch.bool)
    for _ in range(max_len + 1):
        logits = model.decode(ys, memory, src_pad, need_cross=True)                     # (B, t, V)
        nxt = logits[:, -1].argmax(-1)
        ys = torch.cat([ys, nxt[:, None]], 1)
        done |= nxt == EOS
        if bool(done.all()):
            break
    cross = model.decoder[-1].last_cross.mean(1)                                        # (B, t, S)
    return ys[:, 1:], cross


@dataclass(frozen=True)
class TrainSnapshot:
    step: int
    steps: np.ndarray              # (S,) updates at each recorded point
    loss: np.ndarray               # (S,) mean training cross-entropy since the previous point
    exact: np.ndarray              # (S,) exact-match accuracy on the validation set (greedy decoding)
    example: str                   # the source whose attention is shown
    prediction: str                # what the model writes for it now
    cross: np.ndarray              # (T_out, S) last decoder layer's cross-attention (heads averaged) for it
    out_tokens: tuple[str, ...]    # (T_out,) the characters written (the rows of `cross`)
    n_params: int
    metrics: dict
    seconds: float = 0.0           # compute time of training and evaluation so far (not the pauses)
    state: dict = field(default_factory=dict, repr=False)   # the weights now (model_from_state rebuilds it)


def _decode_one(model, task, batch) -> tuple[None, str, np.ndarray, tuple[str, ...]]:
    from engine.common.seqtasks import EOS, PAD
    with torch.no_grad():
        src = torch.from_numpy(batch.src)
        ids, cross = greedy_decode(model, src, src == PAD, task.max_tgt_len)
    row = ids[0].tolist()
    n = row.index(EOS) + 1 if EOS in row else len(row)                                 # characters + EOS
    out_tokens = tuple(task.tgt_vocab.tokens[i] for i in row[:n])
    return None, task.tgt_vocab.decode(row), cross[0, :n].numpy(), out_tokens


def _evaluate(model, task, val_batch, example_batch) -> tuple[float, str, np.ndarray, tuple[str, ...]]:
    from engine.common.seqtasks import PAD, exact_match
    with torch.no_grad():
        src = torch.from_numpy(val_batch.src)
        ids, _ = greedy_decode(model, src, src == PAD, task.max_tgt_len)
        preds = [task.tgt_vocab.decode(row) for row in ids.tolist()]
    exact = exact_match(preds, val_batch.targets)
    _, pred, cross, out_tokens = _decode_one(model, task, example_batch)
    return exact, pred, cross, out_tokens


def train(cfg: TrainConfig, example: str | None = None) -> Iterator[TrainSnapshot]:
    """Teacher-forced training on fresh random pairs (engine.common.seqtasks), Adam with a linear warm-up,
    cross-entropy over the target characters and EOS (PAD ignored); every `cfg.every` updates a snapshot with
    the exact-match accuracy of greedy decoding on the held-out set and the cross-attention of `example`."""
    import time

    from engine.common import seqtasks
    task = seqtasks.get_task(cfg.task)
    example = example or task.examples[0]
    model = make_model(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    # = torch.optim.Adam without its first-call torch._dynamo import; the warm-up sets opt.lr before each update
    opt = optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98))
    rng = np.random.default_rng(cfg.seed)
    val = seqtasks.make_batch(task, seqtasks.validation_set(task, cfg.n_val))
    ex = seqtasks.make_batch(task, [(example, task.target(example) or "")])
    steps, losses, exacts = [0], [float("nan")], []
    clock = [0.0, time.perf_counter()]     # compute seconds so far, when the current stretch began

    def snapshot(done: int) -> TrainSnapshot:
        model.eval()
        exact, pred, cross, out_tokens = _evaluate(model, task, val, ex)
        model.train()
        exacts.append(exact)
        now = time.perf_counter()
        clock[0] += now - clock[1]          # the time suspended between two pulls is not counted
        state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        return TrainSnapshot(done, np.asarray(steps), np.asarray(losses), np.asarray(exacts), example, pred,
                             cross, out_tokens, n_params, {"loss": losses[-1], "exact": exact}, clock[0], state)

    yield snapshot(0)
    done = 0
    while done < cfg.steps:
        clock[1] = time.perf_counter()
        total = 0.0
        stop = min(cfg.steps, done + cfg.every)
        for s in range(done, stop):
            b = seqtasks.make_batch(task, task.sample(rng, cfg.batch))
            src, tgt_in, tgt_out = (torch.from_numpy(a) for a in (b.src, b.tgt_in, b.tgt_out))
            logits = model(src, src == seqtasks.PAD, tgt_in)                            # (B, T, V)
            # L = −(1/N) Σ log p(y_t | y_<t, x) over the real target positions (PAD ignored)
            loss = F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=seqtasks.PAD)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            # η_s = η · min(1, (s + 1) / warmup) at update s = 0, 1, …: LambdaLR's factor, linear warm-up
            opt.lr = cfg.lr * min(1.0, (s + 1) / max(cfg.warmup, 1))
            opt.step()
            total += float(loss.detach())
        steps.append(stop)
        losses.append(total / (stop - done))
        done = stop
        yield snapshot(done)
