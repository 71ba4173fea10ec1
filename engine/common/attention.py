r"""Multi-head attention written out, returning the weights of every head: the Transformer and ViT chapters' forward
(their pages draw the weights; issue #27: ≤ 1.0 × `torch.nn.MultiheadAttention`'s time on the same input, which takes
its fused native path even when it returns weights).

$$\mathrm{MultiHead}(Q,K,V) = \mathrm{Concat}(\mathrm{head}_1,\dots,\mathrm{head}_h)W^O,\quad
  \mathrm{head}_i = \mathrm{softmax}\!\left(\frac{QW_i^Q (KW_i^K)^\top}{\sqrt{d_k}}\right) VW_i^V$$

Parameters are torch's (`in_proj_weight` (3D, D) stacking W^Q, W^K, W^V, `in_proj_bias`, `out_proj`), batch first.
The work is the native kernel's: one GEMM for [W^Q W^K W^V] (+ b), one copy that lays the heads out (B·h, T, d_k),
Q divided by √d_k (T·d_k numbers), one GEMM per product, the softmax (without autograd in place over big scores),
one copy for the concatenation and one GEMM for W^O. Measured (bench sequences/transformer and vit, one thread):
0.74–0.89 × torch's time at the chapters' live sizes, 0.96–1.06 (parity within noise) at B·T·D = 8·256·256.

References
----------
Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (Eq. 1; §3.2.2).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

IN_PLACE_MIN = 1 << 20     # score elements from which the softmax overwrites the scores (see multi_head_attention)


def _needs_grad(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _heads(t: torch.Tensor, B: int, n: int, h: int) -> torch.Tensor:
    """(B, n, D) → (B·h, n, d_k), one copy."""
    return t.view(B, n, h, -1).transpose(1, 2).reshape(B * h, n, -1)


def _project(query, key, value, w, b, h: int):
    """Q W^Q + b^Q, K W^K + b^K, V W^V + b^V, each (B·h, T, d_k) contiguous."""
    B, T_q, D = query.shape
    T_k, d_k = key.shape[1], D // h
    if query is key and key is value:                     # self-attention: one product with [W^Q W^K W^V]
        qkv = F.linear(query, w, b).view(B, T_q, 3, h, d_k)                             # (B, T, 3, h, d_k)
        return qkv.permute(2, 0, 3, 1, 4).reshape(3, B * h, T_q, d_k).unbind(0)         # one copy, head-major
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = b.chunk(3)
    q = _heads(F.linear(query, w_q, b_q), B, T_q, h)
    if key is value:                                      # encoder memory: one product with [W^K W^V]
        kv = F.linear(key, w[D:], b[D:]).view(B, T_k, 2, h, d_k)                        # (B, T_k, 2, h, d_k)
        k, v = kv.permute(2, 0, 3, 1, 4).reshape(2, B * h, T_k, d_k).unbind(0)
        return q, k, v
    return q, _heads(F.linear(key, w_k, b_k), B, T_k, h), _heads(F.linear(value, w_v, b_v), B, T_k, h)


def multi_head_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, num_heads: int,
                         in_proj_weight: torch.Tensor, in_proj_bias: torch.Tensor,
                         out_proj_weight: torch.Tensor, out_proj_bias: torch.Tensor,
                         attn_mask: torch.Tensor | None = None
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""query (B, T_q, D), key/value (B, T_k, D); attn_mask bool, broadcastable to (B, h, T_q, T_k), True = blocked
    (torch.nn.MultiheadAttention's convention). Returns (out (B, T_q, D), weights (B, h, T_q, T_k) per head).
    Pass the same tensor as query, key and value for self-attention (one projection GEMM).

    $$\mathrm{head}_i = \mathrm{softmax}\!\left(\frac{Q_i K_i^\top}{\sqrt{d_k}}\right)V_i$$"""
    B, T_q, D = query.shape
    T_k, h = key.shape[1], num_heads
    d_k = D // h
    grad = _needs_grad(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight)
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, h)        # (B·h, T, d_k) each
    # Q Kᵀ / √d_k = (Q / √d_k) Kᵀ: T_q·d_k divisions, not T_q·T_k (baddbmm's α would first fill its output)
    # (q is a fresh buffer of this call: without autograd it is scaled in place)
    q = q * (1.0 / math.sqrt(d_k)) if grad else q.mul_(1.0 / math.sqrt(d_k))
    scores = torch.bmm(q, k.transpose(1, 2))                                             # (B·h, T_q, T_k)
    if attn_mask is not None:                                                            # a blocked pair gets weight 0
        s4 = scores.view(B, h, T_q, T_k)
        scores = (s4.masked_fill(attn_mask, float("-inf")) if grad else s4.masked_fill_(attn_mask, float("-inf"))
                  ).view(B * h, T_q, T_k)
    # softmax over the keys. In place only for big score tensors (≥ 4 MiB), where a second buffer costs page faults;
    # on smaller ones torch's in-place softmax is up to 2× slower (rows not a multiple of the vector width).
    in_place = not grad and scores.numel() >= IN_PLACE_MIN
    weights = torch.softmax(scores, dim=-1, out=scores) if in_place else torch.softmax(scores, dim=-1)  # (B·h, T_q, T_k)
    heads = torch.bmm(weights, v)                                                        # (B·h, T_q, d_k)
    concat = heads.view(B, h, T_q, d_k).transpose(1, 2).reshape(B * T_q, D)            # Concat(head_1, …, head_h)
    out = torch.addmm(out_proj_bias, concat, out_proj_weight.t()).view(B, T_q, D)       # · W^O + b^O
    return out, weights.view(B, h, T_q, T_k)
