"""engine/common/attention.py against torch.nn.MultiheadAttention with the same weights: self-attention, cross-
attention (key is value, and three different tensors), masks (causal, padding, a fully blocked row), both code paths
(without autograd: in-place buffers; with autograd: differentiable) and the gradients."""
import pytest
import torch
from torch import nn

from engine.common.attention import multi_head_attention


def _pair(D, h, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    ref = nn.MultiheadAttention(D, h, batch_first=True, dtype=dtype).eval()
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=dtype) * 0.3)
    return ref


def _ours(ref, q, k, v, mask=None):
    return multi_head_attention(q, k, v, ref.num_heads, ref.in_proj_weight, ref.in_proj_bias,
                                ref.out_proj.weight, ref.out_proj.bias, mask)


def _torch_mask(mask, B, h, T_q, T_k):
    """Our broadcastable (…, T_q, T_k) mask as torch's 3-D (B·h, T_q, T_k) attn_mask."""
    return None if mask is None else mask.expand(B, h, T_q, T_k).reshape(B * h, T_q, T_k)


CASES = [  # B, T_q, T_k, D, h, kind
    (2, 5, 5, 8, 2, "self"), (3, 1, 7, 12, 3, "self"), (1, 9, 9, 16, 1, "self"),
    (2, 4, 6, 8, 4, "memory"), (2, 3, 5, 8, 2, "cross"), (4, 17, 17, 32, 4, "self"),
]


@pytest.mark.parametrize("B,T_q,T_k,D,h,kind", CASES)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("grad", [False, True])
def test_equals_torch_mha(B, T_q, T_k, D, h, kind, masked, grad):
    if kind == "self" and T_q != T_k:
        T_k = T_q
    ref = _pair(D, h, seed=B * 100 + T_q)
    g = torch.Generator().manual_seed(1)
    q = torch.randn(B, T_q, D, generator=g)
    k = q if kind == "self" else torch.randn(B, T_k, D, generator=g)
    v = k if kind in ("self", "memory") else torch.randn(B, T_k, D, generator=g)
    mask = None
    if masked:                                   # causal where square, plus a padded last key in batch item 0
        base = torch.zeros(T_q, T_k, dtype=torch.bool)
        if T_q == T_k:
            base = torch.triu(torch.ones(T_q, T_k, dtype=torch.bool), 1)
        pad = torch.zeros(B, 1, 1, T_k, dtype=torch.bool)
        if T_k > 1:
            pad[0, 0, 0, -1] = True
        mask = base.view(1, 1, T_q, T_k) | pad
    with torch.set_grad_enabled(grad):
        out, w = _ours(ref, q, k, v, mask)
        out_ref, w_ref = ref(q, k, v, attn_mask=_torch_mask(mask, B, h, T_q, T_k), need_weights=True,
                             average_attn_weights=False)
    assert w.shape == (B, h, T_q, T_k) and out.shape == (B, T_q, D)
    torch.testing.assert_close(w, w_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w.sum(-1), torch.ones(B, h, T_q), atol=1e-6, rtol=0)
    assert out.requires_grad == grad


def test_gradients_equal_torch_mha():
    ref = _pair(16, 4, seed=3, dtype=torch.float64)
    x = torch.randn(3, 6, 16, dtype=torch.float64, requires_grad=True)
    mask = torch.triu(torch.ones(6, 6, dtype=torch.bool), 1)
    out, w = _ours(ref, x, x, x, mask.view(1, 1, 6, 6))
    (out.square().sum() + (w * w).sum()).backward()
    mine = [x.grad.clone()] + [p.grad.clone() for p in ref.parameters()]
    x.grad = None
    ref.zero_grad()
    out_ref, w_ref = ref(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
    (out_ref.square().sum() + (w_ref * w_ref).sum()).backward()
    theirs = [x.grad] + [p.grad for p in ref.parameters()]
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9)


def test_no_grad_path_leaves_inputs_and_parameters_untouched():
    """The fast path writes into buffers of its own (out=, in place): nothing it was given may change."""
    ref = _pair(8, 2, seed=5)
    x = torch.randn(2, 4, 8)
    before = [x.clone()] + [p.detach().clone() for p in ref.parameters()]
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    mask[..., 0, 1] = True
    mask_before = mask.clone()
    with torch.no_grad():
        out1, w1 = _ours(ref, x, x, x, mask)
        out2, w2 = _ours(ref, x, x, x, mask)
    for a, b in zip(before, [x] + list(ref.parameters())):
        assert torch.equal(a, b)
    assert torch.equal(mask, mask_before)
    assert torch.equal(out1, out2) and torch.equal(w1, w2) and w1.data_ptr() != w2.data_ptr()


def test_fully_blocked_row_is_nan_like_torch():
    ref = _pair(8, 2, seed=7)
    x = torch.randn(1, 3, 8)
    mask = torch.zeros(1, 1, 3, 3, dtype=torch.bool)
    mask[..., 1, :] = True                      # query 1 may look nowhere
    with torch.no_grad():
        _, w = _ours(ref, x, x, x, mask)
    assert torch.isnan(w[0, :, 1]).all() and not torch.isnan(w[0, :, 0]).any()


def test_big_scores_in_place_path_equals_torch(monkeypatch):
    """The in-place softmax (score tensors ≥ IN_PLACE_MIN elements) gives torch's numbers too."""
    import engine.common.attention as A
    monkeypatch.setattr(A, "IN_PLACE_MIN", 1)
    for B, T, D, h in ((2, 5, 8, 2), (1, 17, 16, 4)):
        ref = _pair(D, h, seed=T)
        x = torch.randn(B, T, D)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        with torch.no_grad():
            out, w = _ours(ref, x, x, x, mask.view(1, 1, T, T))
            out_ref, w_ref = ref(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
        torch.testing.assert_close(w, w_ref, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-5)
