"""Transformer chapter: every engine function against torch (nn.MultiheadAttention, TransformerEncoderLayer,
TransformerDecoderLayer, F.scaled_dot_product_attention with our weights copied in, FlopCounterMode, autograd) or a
brute force."""
from __future__ import annotations

import math
import warnings
from itertools import islice

import numpy as np
import pytest
import torch
from torch import nn

from engine.common.text import TextError
from engine.sequences import transformer as X

ATOL = 1e-5


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------------ tokens
def test_tokenize_words_characters_and_hostile_text():
    assert X.tokenize("The cat, 東京!").tokens == ("the", "cat", ",", "東", "京", "!")
    assert X.tokenize("ａｂｃ　１２").tokens == ("abc", "12")                         # NFKC
    assert X.tokenize("a\x00b\x07\x1b[31mc\r\nd\u200b\u202ee\ufeff").tokens == ("a", "b", "[", "31mc", "d", "e")
    long = X.tokenize("w " * 100_000)
    assert len(long.tokens) == X.MAX_TOKENS and long.truncated
    for bad in ("", " \t\n  　", "\x00\x07"):
        with pytest.raises(TextError) as err:
            X.tokenize(bad)
        assert err.value.code == "no_tokens"


def test_embedding_is_a_fixed_table():
    e = X.embed(("the", "cat", "the"))
    assert e.shape == (3, X.D_MODEL) and e.dtype == np.float32
    np.testing.assert_array_equal(e[0], e[2])
    assert not np.allclose(e[0], e[1])
    np.testing.assert_array_equal(X.embed(("the",), seed=1)[0], X.embed(("cat", "the"), seed=1)[1])


# ------------------------------------------------------------------------------------------------ attention
@pytest.mark.parametrize("masked", [False, True])
def test_sdpa_matches_torch_and_a_loop(masked):
    g = _gen(1)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    mask = X.causal_mask(5) if masked else None
    out, w = X.scaled_dot_product_attention(q, k, v, mask)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=masked)
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=1e-5)
    # brute force: one query, one key at a time
    for t in range(5):
        s = [float(q[1, 2, t] @ k[1, 2, j]) / math.sqrt(8) for j in range(5)]
        if masked:
            s = [x if j <= t else -math.inf for j, x in enumerate(s)]
        e = np.exp(np.array(s) - max(s))
        np.testing.assert_allclose(w[1, 2, t].numpy(), e / e.sum(), atol=1e-6)


def test_attention_steps_are_consistent():
    toks = X.tokenize(X.DEFAULT_SENTENCE).tokens
    s = X.attention_steps(toks, d_k=16, seed=3)
    np.testing.assert_allclose(s.scores, s.q @ s.k.T, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(s.scaled, s.scores / 4.0, rtol=1e-6)
    ref = torch.softmax(torch.from_numpy(s.scaled), -1).numpy()
    np.testing.assert_allclose(s.weights, ref, atol=1e-6)
    np.testing.assert_allclose(s.out, s.weights @ s.v, atol=1e-5)
    np.testing.assert_allclose(s.x, X.embed(toks, seed=3) + X.sinusoidal_encoding(len(toks), 32),
                               atol=1e-6)
    c = X.attention_steps(toks, d_k=16, seed=3, causal=True)
    assert np.all(np.triu(c.weights, 1) == 0)
    u = X.attention_steps(toks, d_k=16, seed=3, scale=False)
    np.testing.assert_allclose(u.scaled, u.scores)


def test_saturation_measures_what_theory_says():
    s = X.saturation((1, 16, 256), trials=2000)
    np.testing.assert_allclose(s.score_std[0], np.sqrt([1, 16, 256]), rtol=0.06)      # Var(q·k) = d_k
    np.testing.assert_allclose(s.score_std[1], 1.0, rtol=0.06)
    assert s.max_weight[0, -1] > 0.9 and s.max_weight[1, -1] < 0.5
    assert s.grad_norm[0, -1] < 0.5 * s.grad_norm[1, -1]
    assert s.entropy[0, -1] < s.entropy[1, -1] <= math.log(s.n_keys)


def test_softmax_jacobian_norm_matches_autograd():
    z = torch.randn(4, 7, generator=_gen(2), dtype=torch.float64)
    for row in z:
        J = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), row)
        got = X.softmax_jacobian_norm(torch.softmax(row, -1).numpy())
        np.testing.assert_allclose(got, torch.linalg.norm(J).item(), rtol=1e-10)


def _ours_and_torch_mha(D=16, h=4, seed=0):
    ours = X.init_(X.MultiheadAttention(D, h), _gen(seed))
    with torch.no_grad():                                        # non-zero biases so they are compared too
        ours.in_proj_bias.normal_(generator=_gen(seed + 1))
        ours.out_proj.bias.normal_(generator=_gen(seed + 2))
    ref = nn.MultiheadAttention(D, h, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    return ours.eval(), ref.eval()


@pytest.mark.parametrize("mask", ["none", "causal", "padding", "both"])
def test_multihead_matches_torch(mask):
    ours, ref = _ours_and_torch_mha()
    g = _gen(5)
    x = torch.randn(3, 6, 16, generator=g)
    mem = torch.randn(3, 4, 16, generator=g)
    am = X.causal_mask(6) if mask in ("causal", "both") else None
    pad = X.padding_mask([6, 4, 2], 6) if mask in ("padding", "both") else None
    out, w = ours(x, x, x, am, pad)
    r_out, r_w = ref(x, x, x, attn_mask=am, key_padding_mask=pad, average_attn_weights=False)
    torch.testing.assert_close(out, r_out, atol=ATOL, rtol=1e-5)
    torch.testing.assert_close(w, r_w, atol=ATOL, rtol=1e-5)
    fast, none = ours(x, x, x, am, pad, need_weights=False)                       # the fused kernel
    assert none is None
    torch.testing.assert_close(fast, r_out, atol=ATOL, rtol=1e-5)
    out, _ = ours(x[:, :3], mem, mem)                                             # cross-attention
    torch.testing.assert_close(out, ref(x[:, :3], mem, mem)[0], atol=ATOL, rtol=1e-5)


def test_torch_bool_mask_conventions_differ():
    """What the page says: nn.MultiheadAttention's True = blocked, F.scaled_dot_product_attention's True = allowed."""
    q = torch.randn(1, 1, 4, 8, generator=_gen(7))
    blocked = X.causal_mask(4)
    ours, _ = X.scaled_dot_product_attention(q, q, q, blocked)
    ref = torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=~blocked)
    torch.testing.assert_close(ours, ref, atol=ATOL, rtol=1e-5)
    wrong = torch.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=blocked[:3].new_zeros(4, 4) | ~blocked.T)
    assert not torch.allclose(ours, wrong, atol=1e-3)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch(norm_first):
    ours = X.init_(X.EncoderLayer(16, 4, 32, norm_first), _gen(3))
    with torch.no_grad():
        for p in ours.parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn(p.shape, generator=_gen(p.numel())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, 5, 16, generator=_gen(4))
    pad = X.padding_mask([5, 3], 5)
    for mask, kpm in ((None, None), (X.causal_mask(5), None), (None, pad)):
        want = ref.train()(x, src_mask=mask, src_key_padding_mask=kpm)      # train(): the plain python path
        got = ours(x, mask, kpm)
        torch.testing.assert_close(got, want, atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first):
    ours = X.init_(X.DecoderLayer(16, 2, 24, norm_first), _gen(8))
    ref = nn.TransformerDecoderLayer(16, 2, 24, dropout=0.0, batch_first=True, norm_first=norm_first)
    ref.load_state_dict(ours.state_dict())
    g = _gen(9)
    y, mem = torch.randn(2, 4, 16, generator=g), torch.randn(2, 6, 16, generator=g)
    pad = X.padding_mask([6, 3], 6)
    got = ours(y, mem, X.causal_mask(4), pad)
    want = ref(y, mem, tgt_mask=X.causal_mask(4), memory_key_padding_mask=pad)
    torch.testing.assert_close(got, want, atol=ATOL, rtol=1e-5)


# ------------------------------------------------------------------------------------------------ positions
def test_sinusoidal_encoding_brute_force_and_shift():
    pe = X.sinusoidal_encoding(20, 8)
    for pos in range(20):
        for i in range(8):
            angle = pos / 10000 ** (2 * (i // 2) / 8)
            assert pe[pos, i] == pytest.approx(math.sin(angle) if i % 2 == 0 else math.cos(angle), abs=1e-6)
    for k in (1, 3, 7):
        M = X.shift_matrix(k, 8)
        np.testing.assert_allclose(pe[:-k] @ M.T, pe[k:], atol=1e-5)            # PE(p + k) = M_k PE(p)
        np.testing.assert_allclose(M @ M.T, np.eye(8), atol=1e-12)              # a rotation: norms kept
    dots = pe @ pe.T                                                            # depends on p − q only
    for d in range(5):
        np.testing.assert_allclose(np.diag(dots, d), np.diag(dots, d)[0], atol=1e-4)


def test_masks_and_masked_attention():
    np.testing.assert_array_equal(X.causal_mask(3).numpy(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(X.padding_mask([2, 3], 4).numpy(), [[0, 0, 1, 1], [0, 0, 0, 1]])
    toks = ("a", "b", "c")
    free = X.masked_attention(toks, 2, False, False)
    assert free.pad_weight > 0.05 and free.future_weight > 0.05
    m = X.masked_attention(toks, 2, True, True)
    assert m.pad_weight == 0 and m.future_weight == 0
    np.testing.assert_allclose(m.weights.sum(1), 1, atol=1e-6)
    assert np.all(m.weights[m.mask] == 0)


def test_depth_profile_post_vs_pre():
    d = X.depth_profile(4, 32, 4, 8)
    np.testing.assert_allclose(d.stream_rms[0, 1:], 1.0, atol=0.02)            # post-LN: normalised each layer
    assert d.stream_rms[1, -1] > d.stream_rms[1, 1]                             # pre-LN's stream grows
    assert np.all(d.grad_norm > 0)
    again = X.depth_profile(4, 32, 4, 8)
    np.testing.assert_array_equal(d.grad_norm, again.grad_norm)                 # seeded, not global
    deep = X.depth_profile(12, seed=1)                                          # what the page says (Xiong et al.)
    assert deep.grad_norm[0, -1] > 1.5 * deep.grad_norm[0, 0]                   # post-LN: largest near the output
    assert deep.grad_norm[1, -1] < 0.7 * deep.grad_norm[1, 0]                   # pre-LN: smaller near the output


# ------------------------------------------------------------------------------------------------ counting
@pytest.mark.parametrize("D,F,h", [(16, 64, 4), (512, 2048, 8), (64, 128, 2)])
def test_parameter_count_matches_torch(D, F, h):
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = nn.TransformerEncoderLayer(D, h, F)
        dec = nn.TransformerDecoderLayer(D, h, F)
        full = nn.Transformer(D, h, 2, 3, F)
    n = lambda m: sum(p.numel() for p in m.parameters())     # noqa: E731
    c = X.count_parameters(D, F, 2, 3, vocab=100)
    assert c.encoder_layer == n(enc) and c.decoder_layer == n(dec)
    assert c.attention == n(enc.self_attn)
    assert c.total == n(full) + 100 * D


@pytest.mark.parametrize("task,norm_first", [("dates", False), ("dates", True), ("reverse", True)])
def test_tiny_parameters_formula_equals_the_model(task, norm_first):
    cfg = X.TrainConfig(task=task, norm_first=norm_first)
    assert X.tiny_parameters(cfg) == X.n_parameters(X.make_model(cfg))


def test_tiny_model_count_matches_formula():
    m = X.TinyTransformer(30, 14, 32, 4, 2, 64, norm_first=True)
    c = X.count_parameters(32, 64, 2, 2, 0)
    emb_out = 30 * 32 + 14 * 32 + 32 * 14 + 14
    assert sum(p.numel() for p in m.parameters()) == c.total + emb_out


@pytest.mark.parametrize("T,D,F", [(5, 16, 64), (12, 32, 128), (200, 8, 32)])
def test_flops_match_torch_flop_counter(T, D, F):
    """FlopCounterMode counts matrix products. The layer's own forward runs attention through the fused CPU kernel,
    which the counter does not count (it has no formula for it): so attention is counted on
    nn.MultiheadAttention with need_weights=True (explicit bmm's), the FFN on the layer's two linears."""
    from torch.utils.flop_counter import FlopCounterMode
    layer = nn.TransformerEncoderLayer(D, 4, F, dropout=0.0, batch_first=True).train()
    x = torch.randn(1, T, D)
    with FlopCounterMode(display=False) as fc:
        layer.self_attn(x, x, x, need_weights=True)
        layer.linear2(torch.relu(layer.linear1(x)))
    want = X.encoder_layer_flops(T, D, F)
    assert want.total == fc.get_total_flops()
    with FlopCounterMode(display=False) as fc:
        layer(x)                                    # the fused kernel: only projections and FFN are counted
    assert fc.get_total_flops() == want.projections + want.ffn
    f = X.encoder_layer_flops(6 * D, D, 4 * D)
    assert f.attention == f.projections + f.ffn     # the crossover the page states: T = 6D when d_ff = 4D


# ------------------------------------------------------------------------------------------------ training
def test_tiny_transformer_forward_matches_torch_modules():
    """Our encoder–decoder = the same weights in torch's layers, wired the same way."""
    m = X.make_model(X.TrainConfig(d_model=16, n_heads=2, n_layers=2, d_ff=32, norm_first=False)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = [nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True) for _ in range(2)]
    dec = [nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, batch_first=True) for _ in range(2)]
    for r, o in zip(enc + dec, list(m.encoder) + list(m.decoder)):
        r.load_state_dict(o.state_dict())
        r.train()
    src = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    pad = src == 0
    tgt = torch.tensor([[1, 4, 5], [1, 6, 7]])
    x = m.src_emb(src) * 4 + m.pe[:4]
    for r in enc:
        x = r(x, src_key_padding_mask=pad)
    y = m.tgt_emb(tgt) * 4 + m.pe[:3]
    for r in dec:
        y = r(y, x, tgt_mask=X.causal_mask(3), memory_key_padding_mask=pad)
    torch.testing.assert_close(m(src, pad, tgt), m.out(y), atol=1e-5, rtol=1e-5)


def test_training_is_deterministic_and_learns():
    cfg = X.TrainConfig(task="reverse", d_model=32, n_heads=2, n_layers=1, d_ff=64, steps=60, every=30,
                        n_val=32, lr=3e-3, warmup=10)
    a = list(X.train(cfg))
    b = list(islice(X.train(cfg), 2))
    np.testing.assert_array_equal(a[1].loss, b[1].loss)
    assert [s.step for s in a] == [0, 30, 60]
    assert a[-1].loss[-1] < a[1].loss[1] < math.log(13)
    assert a[0].cross.shape == (len(a[0].out_tokens), len(a[0].example))
    np.testing.assert_allclose(a[-1].cross.sum(-1), 1, atol=1e-5)


def test_training_equals_torch_adam_with_lambdalr_warmup():
    """train() uses engine/common/optim.Adam and sets its lr per update; the oracle is torch.optim.Adam driven by
    LambdaLR with the same factor, on the same batches, through and past the warm-up: the same weights bit for bit."""
    import torch.nn.functional as F

    from engine.common import seqtasks
    cfg = X.TrainConfig(task="reverse", d_model=32, n_heads=2, n_layers=1, d_ff=64, steps=14, every=7,
                        n_val=8, lr=3e-3, warmup=5)
    last = list(X.train(cfg))[-1]
    task, model = seqtasks.get_task(cfg.task), X.make_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(cfg.warmup, 1)))
    rng = np.random.default_rng(cfg.seed)
    for _ in range(cfg.steps):
        b = seqtasks.make_batch(task, task.sample(rng, cfg.batch))
        src, tgt_in, tgt_out = (torch.from_numpy(a) for a in (b.src, b.tgt_in, b.tgt_out))
        loss = F.cross_entropy(model(src, src == seqtasks.PAD, tgt_in).flatten(0, 1), tgt_out.flatten(),
                               ignore_index=seqtasks.PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(last.state[k], v.numpy(), err_msg=k)


def test_heads_match_torch_per_head_weights():
    toks = X.tokenize(X.DEFAULT_SENTENCE).tokens
    h = X.heads(toks, 4, seed=2)
    mha = X.demo_attention(4, seed=2)
    w_in = mha.in_proj_weight.detach()
    assert torch.equal(w_in[X.D_MODEL:2 * X.D_MODEL], w_in[:X.D_MODEL])           # W_K = W_Q as the page says
    ref = nn.MultiheadAttention(X.D_MODEL, 4, batch_first=True)
    ref.load_state_dict(mha.state_dict())
    x = torch.from_numpy(X.embed(toks, seed=2) + X.sinusoidal_encoding(len(toks), X.D_MODEL))[None]
    _, w = ref(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(h.weights, w[0].detach().numpy(), atol=1e-6)
    p = h.weights[1]
    assert h.entropy[1] == pytest.approx(float(-(p * np.log(p)).sum(-1).mean()), rel=1e-5)
    assert h.d_k == 8
    assert X.shift_error(30, 16, 5) < 1e-6                                   # float32 rounding


def test_crossover_is_where_attention_equals_the_rest():
    for D, F in ((512, 2048), (64, 128), (10, 7)):
        T = X.attention_crossover(D, F)
        f = X.encoder_layer_flops(T, D, F)
        assert f.attention == f.projections + f.ffn
        g = X.encoder_layer_flops(T + 1, D, F)
        assert g.attention > g.projections + g.ffn
    s = X.attention_steps(("a", "b", "c"), 4)
    assert s.mean_top == pytest.approx(float(np.mean([max(r) for r in s.weights])))


# ------------------------------------------------------------------------------------------------ practice items
SEEDS = range(200)


def _items(name):
    from engine.common import practice
    return [practice.make("transformer", name, seed) for seed in SEEDS]


def test_practice_attention_weight_equals_torch_sdpa():
    for it in _items("attention_weight"):
        d_k, s = it.params["d_k"], it.params["scores"]
        # the torch oracle on vectors with these dot products: q = (1, 0, …), k_j = (s_j, 0, …)
        q = torch.zeros(1, 1, d_k, dtype=torch.float64)
        q[..., 0] = 1
        k = torch.zeros(1, 3, d_k, dtype=torch.float64)
        k[0, :, 0] = torch.tensor(s, dtype=torch.float64)
        v = torch.tensor([[[1.0], [0.0], [0.0]]], dtype=torch.float64)            # picks key 1's weight
        want = float(torch.nn.functional.scaled_dot_product_attention(q, k, v)[0, 0, 0])
        assert it.answer == pytest.approx(want, abs=1e-9)
        assert it.choices[it.correct_index].label["en"] == f"{want:.3f}"


def test_practice_parameter_count_equals_torch_modules():
    for it in _items("parameter_count")[:60]:
        D, F, h = it.params["D"], it.params["F"], it.params["h"]
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = (nn.MultiheadAttention(D, h) if it.params["which"] == "attention"
                 else nn.TransformerEncoderLayer(D, h, F))
        assert it.answer == sum(p.numel() for p in m.parameters())


def test_practice_position_encoding_brute_force():
    for it in _items("position_encoding"):
        D, p, j = it.params["D"], it.params["p"], it.params["j"]
        angle = p / 10000 ** ((j - j % 2) / D)
        want = math.sin(angle) if j % 2 == 0 else math.cos(angle)
        assert it.answer == pytest.approx(want, abs=1e-6)


def test_practice_implementation_and_blank_expected_equal_torch():
    for it in _items("implementation")[:60]:
        Q, K, V = (torch.from_numpy(a) for a in it.exec.args)
        want = torch.nn.functional.scaled_dot_product_attention(Q[None], K[None], V[None])[0].numpy()
        np.testing.assert_allclose(it.exec.expected, want, atol=1e-9)
    for it in _items("causal_blank")[:60]:
        s = torch.tensor(it.params["s"], dtype=torch.float64)
        want = torch.softmax(s.masked_fill(torch.ones_like(s, dtype=torch.bool).triu(1), -math.inf), -1).numpy()
        np.testing.assert_allclose(it.exec.expected, want, atol=1e-12)


def test_practice_statements_hold_on_cases():
    """The checkable statements, checked: Var(q·k) = d_k, heads leave the count unchanged, causal weights 0,
    the PE shift is linear, the two torch mask conventions, the crossover at 6D, and the false ones fail."""
    sat = X.saturation((64,), trials=3000)
    assert sat.score_std[0, 0] ** 2 == pytest.approx(64, rel=0.1)                    # variance, divide_dk
    with torch.device("meta"):
        n = [sum(p.numel() for p in nn.MultiheadAttention(64, h).parameters()) for h in (1, 2, 4, 8)]
    assert len(set(n)) == 1                                                          # heads_params, heads_double
    assert X.masked_attention(("a", "b", "c"), 0, False, True).future_weight == 0    # causal
    assert X.shift_error(20, 16, 3) < 1e-6                                           # pe_shift
    f = X.encoder_layer_flops(6 * 32 - 1, 32, 128)
    assert f.attention < f.projections + f.ffn                                       # crossover, quadratic
    assert X.masked_attention(("a", "b"), 2, False, False).pad_weight > 0            # pad_zero is false
    d = X.depth_profile(6, 32, 4, 8)
    assert d.stream_rms[1, -1] > 1.2                                                 # pre_ln_stream is false
    # order is false: without PE, permuting the tokens permutes the outputs
    mha = X.init_(X.MultiheadAttention(16, 2), _gen(0)).eval()
    x = torch.randn(1, 5, 16, generator=_gen(1))
    perm = torch.tensor([3, 0, 4, 1, 2])
    torch.testing.assert_close(mha(x[:, perm], x[:, perm], x[:, perm])[0], mha(x, x, x)[0][:, perm])


def test_training_seconds_count_compute_not_pauses():
    import time
    cfg = X.TrainConfig(task="reverse", d_model=16, n_heads=2, n_layers=1, d_ff=16, steps=4, every=2, n_val=8)
    it = X.train(cfg)
    first = next(it)
    time.sleep(1.0)                      # a reader's pause between two pulls
    second = next(it)
    assert second.seconds - first.seconds < 0.9


def test_translate_from_a_snapshot_state_equals_the_training_model():
    cfg = X.TrainConfig(task="dates", d_model=16, n_heads=2, n_layers=1, d_ff=16, steps=4, every=2, n_val=8)
    snaps = list(X.train(cfg))
    tr = X.translate(X.model_from_state(cfg, snaps[-1].state), "dates", snaps[-1].example)
    assert tr.prediction == snaps[-1].prediction and tr.out_tokens == snaps[-1].out_tokens
    np.testing.assert_allclose(tr.cross, snaps[-1].cross, atol=1e-6)
    assert tr.cross.shape == (len(tr.out_tokens), len(snaps[-1].example))
