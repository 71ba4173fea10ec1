"""Vision Transformer chapter: patches against F.unfold, the patch embedding against F.conv2d and torchvision's
VisionTransformer (`_process_input`, the class token and position embedding), [CLS] attention against
torch.nn.MultiheadAttention, the encoder block against nn.TransformerEncoderLayer, the whole TinyViT against
torchvision's VisionTransformer with copied weights, the cost against torch's FlopCounterMode, parameter counts
against numel()."""
from __future__ import annotations

from itertools import islice

import numpy as np
import pytest
from conftest import box_png
import torch
import torch.nn.functional as F
from torchvision.models import VisionTransformer

from engine.sequences import vit as V

PAGE = "pages/sequences/vit.py"


@pytest.mark.parametrize("c,h,w,p", [(1, 28, 28, 7), (3, 32, 64, 8), (3, 12, 8, 4), (2, 16, 16, 16)])
def test_patchify_equals_unfold_and_unpatchify_inverts_it(c, h, w, p):
    x = np.random.default_rng(c * h + p).random((c, h, w)).astype(np.float32)
    ref = F.unfold(torch.from_numpy(x)[None], kernel_size=p, stride=p)[0].T.numpy()   # (N, C·P·P)
    got = V.patchify(x, p)
    np.testing.assert_array_equal(got, ref)
    assert len(got) == V.n_tokens(h, w, p, cls=False) == V.n_tokens(h, w, p) - 1
    np.testing.assert_array_equal(V.unpatchify(got, c, h, w, p), x)
    with pytest.raises(ValueError):
        V.patchify(x[:, :h - 1], p)                     # H not divisible by P


def _torchvision_vit(image_size, p, c, d, depth, heads, m):
    tv = VisionTransformer(image_size=image_size, patch_size=p, num_layers=depth, num_heads=heads, hidden_dim=d,
                           mlp_dim=m, num_classes=10)
    if c != 3:
        tv.conv_proj = torch.nn.Conv2d(c, d, kernel_size=p, stride=p)
    return tv.eval()


@pytest.mark.parametrize("side,p", [(32, 4), (64, 16), (96, 32), (32, 32)])
def test_embedding_equals_conv_and_torchvision_process_input(side, p):
    rgb = (np.random.default_rng(side + p).random((50, 70, 3)) * 255).astype(np.uint8)
    image = V.prepare_image(rgb, side)
    emb = V.embed(image, p, seed=p)
    assert emb.conv_diff < 1e-5 and emb.mha_diff < 1e-6
    n = (side // p) ** 2
    assert emb.tokens.shape == (n, V.D_IMAGE) and emb.z0.shape == (n + 1, V.D_IMAGE) and emb.grid == (side // p,) * 2
    tv = _torchvision_vit(side, p, 3, V.D_IMAGE, 1, V.HEADS_IMAGE, 64)
    seen = {}
    tv.encoder.dropout.register_forward_hook(lambda mod, inp, out: seen.setdefault("z0", inp[0]))
    with torch.no_grad():
        tv.conv_proj.weight.copy_(torch.from_numpy(emb.weight))
        tv.conv_proj.bias.copy_(torch.from_numpy(emb.bias))
        tv.class_token.copy_(torch.from_numpy(emb.cls).view(1, 1, -1))
        tv.encoder.pos_embedding.copy_(torch.from_numpy(emb.pos)[None])
        x = torch.from_numpy(image)[None]
        torch.testing.assert_close(tv._process_input(x)[0], torch.from_numpy(emb.tokens), rtol=1e-5, atol=1e-5)
        tv(x)
    torch.testing.assert_close(seen["z0"][0], torch.from_numpy(emb.z0), rtol=1e-5, atol=1e-5)
    # [CLS]'s attention = torchvision's first encoder block (ln_1, then its MultiheadAttention) with the same weights
    block = tv.encoder.layers[0]
    with torch.no_grad():
        block.self_attention.in_proj_weight.copy_(torch.from_numpy(V.init_weights(3, p, V.D_IMAGE, n, V.HEADS_IMAGE,
                                                                                  p)["in_proj_weight"]))
        block.self_attention.in_proj_bias.zero_()
        u = block.ln_1(seen["z0"])
        _, ref = block.self_attention(u, u, u, need_weights=True, average_attn_weights=False)    # (1, h, N+1, N+1)
    np.testing.assert_allclose(emb.cls_self, ref[0, :, 0, 0].numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(emb.cls_attn, ref[0, :, 0, 1:].numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(emb.cls, 0.0)                  # torchvision's class token starts at zero
    # [CLS]'s attention: the softmax over [CLS] and the patches sums to one
    np.testing.assert_allclose(emb.cls_attn.sum(1) + emb.cls_self, 1.0, rtol=1e-5)


def test_cls_attention_equals_multihead_attention_with_biases():
    rng = np.random.default_rng(3)
    for n, d, h in ((5, 8, 2), (17, 32, 4), (50, 12, 3)):
        z = rng.normal(size=(n, d)).astype(np.float32)
        mha = torch.nn.MultiheadAttention(d, h, batch_first=True)
        with torch.no_grad():
            mha.in_proj_bias.normal_()
            zt = torch.from_numpy(z)[None]
            _, ref = mha(zt, zt, zt, need_weights=True, average_attn_weights=False)      # (1, h, N, N)
        got = V.cls_attention(z, mha.in_proj_weight.detach().numpy(), mha.in_proj_bias.detach().numpy(), h)
        np.testing.assert_allclose(got, ref[0, :, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_layer_norm_equals_torch():
    z = np.random.default_rng(0).normal(3, 2, (7, 12))
    ref = F.layer_norm(torch.from_numpy(z), (12,), eps=1e-6).numpy()
    np.testing.assert_allclose(V.layer_norm(z), ref, rtol=1e-10, atol=1e-12)


def test_prepare_image_crops_the_centre_square():
    rgb = np.zeros((40, 100, 3), np.uint8)
    rgb[:, 30:70] = 255                                  # the centre 40×40 square is white, the sides black
    x = V.prepare_image(rgb, 32)
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x, 1.0, atol=1e-6)
    flat = V.prepare_image(np.full((10, 10, 3), 128, np.uint8), 64)
    np.testing.assert_allclose(flat, 128 / 255, atol=1e-6)


def _copy_into_torchvision(model, tv):
    src = model.state_dict()
    dst = {"class_token": src["class_token"], "conv_proj.weight": src["conv_proj.weight"],
           "conv_proj.bias": src["conv_proj.bias"], "encoder.pos_embedding": src["pos_embedding"],
           "encoder.ln.weight": src["ln.weight"], "encoder.ln.bias": src["ln.bias"],
           "heads.head.weight": src["head.weight"], "heads.head.bias": src["head.bias"]}
    for i in range(len(model.layers)):
        a, b = f"layers.{i}.", f"encoder.layers.encoder_layer_{i}."
        for k in ("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "self_attention.in_proj_weight",
                  "self_attention.in_proj_bias", "self_attention.out_proj.weight", "self_attention.out_proj.bias"):
            dst[b + k] = src[a + k]
        for ours, theirs in (("mlp.0", "mlp.0"), ("mlp.2", "mlp.3")):
            for k in ("weight", "bias"):
                dst[f"{b}{theirs}.{k}"] = src[f"{a}{ours}.{k}"]
    tv.load_state_dict(dst, strict=True)


@pytest.mark.parametrize("p,d,depth,heads,m", [(7, 32, 2, 4, 64), (4, 24, 1, 3, 48), (14, 16, 3, 2, 32)])
def test_tiny_vit_equals_torchvision_vision_transformer(p, d, depth, heads, m):
    model = V.build_vit(28, p, 1, d, depth, heads, m, seed=p).eval()
    with torch.no_grad():                                # random values everywhere, the zero-initialised ones too
        g = torch.Generator().manual_seed(1)
        for t in model.parameters():
            t.add_(torch.randn(t.shape, generator=g) * 0.1)
    tv = _torchvision_vit(28, p, 1, d, depth, heads, m)
    _copy_into_torchvision(model, tv)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits, attn = model(x, return_attention=True)
        torch.testing.assert_close(logits, tv(x), rtol=1e-5, atol=1e-5)
        # the last layer's attention weights = nn.MultiheadAttention's with the same weights and input
        z = model.tokens(x)
        for layer in model.layers[:-1]:
            z, _ = layer(z)
        last = model.layers[-1]
        mha = tv.encoder.layers[-1].self_attention
        u = last.ln_1(z)
        _, ref = mha(u, u, u, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(attn[-1], ref, rtol=1e-5, atol=1e-6)
    n_params = sum(t.numel() for t in model.parameters())
    assert n_params == sum(t.numel() for t in tv.parameters()) == V.vit_params(28, p, 1, d, depth, m)


def test_encoder_block_equals_transformer_encoder_layer():
    d, heads, m = 32, 4, 64
    block = V.build_vit(28, 7, 1, d, 1, heads, m, seed=5).layers[0].eval()
    ref = torch.nn.TransformerEncoderLayer(d, heads, m, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True, layer_norm_eps=1e-6).eval()
    with torch.no_grad():
        for t in block.parameters():
            t.add_(torch.randn(t.shape, generator=torch.Generator().manual_seed(t.numel())) * 0.1)
        ref.self_attn.in_proj_weight.copy_(block.self_attention.in_proj_weight)
        ref.self_attn.in_proj_bias.copy_(block.self_attention.in_proj_bias)
        ref.self_attn.out_proj.load_state_dict(block.self_attention.out_proj.state_dict())
        ref.linear1.load_state_dict(block.mlp[0].state_dict())
        ref.linear2.load_state_dict(block.mlp[2].state_dict())
        ref.norm1.load_state_dict(block.ln_1.state_dict())
        ref.norm2.load_state_dict(block.ln_2.state_dict())
        x = torch.randn(3, 17, d, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(block(x)[0], ref(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("c", [1, 4, 15, 16, 40])
def test_cnn_parameter_count_and_the_matching_width(c):
    assert sum(t.numel() for t in V.build_cnn(c).parameters()) == V.cnn_params(c)
    target = V.vit_params(28, 7, 1, 32, 2, 64)
    best = V.matching_cnn_width(target)
    brute = min(range(1, 41), key=lambda w: abs(sum(t.numel() for t in V.build_cnn(w).parameters()) - target)) \
        if c == 1 else best
    assert best == brute and abs(V.cnn_params(best) - target) / target < 0.05


@pytest.mark.parametrize("n,d,m,h", [(17, 32, 64, 4), (197, 768, 3072, 12), (50, 16, 32, 2)])
def test_layer_cost_equals_flop_counter(n, d, m, h):
    from torch.utils.flop_counter import FlopCounterMode

    block = V.build_vit(28, 7, 1, d, 1, h, m).layers[0]
    x = torch.randn(1, n, d)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        block(x)
    cost = V.layer_cost(n, d, m, h)
    assert counter.get_total_flops() == 2 * cost.total            # FLOPs = 2 × multiply–adds (matmuls only)
    assert cost.attn_memory == h * n * n


def test_digits_split_is_balanced_and_disjoint():
    from engine.common import digits
    x_all, y_all = digits.mnist_5k_float()
    x_tr, y_tr, x_te, y_te = V.digits_split(500, 0)
    assert x_tr.shape == (500, 1, 28, 28) and x_te.shape == (1000, 1, 28, 28)
    assert np.bincount(y_tr).tolist() == [50] * 10 and np.bincount(y_te).tolist() == [100] * 10
    flat = x_all.reshape(len(x_all), -1)
    key = {row.tobytes(): i for i, row in enumerate(flat)}
    tr = {key[r.tobytes()] for r in x_tr.reshape(500, -1)}
    te = {key[r.tobytes()] for r in x_te.reshape(1000, -1)}
    assert not tr & te and len(tr) == 500 and len(te) == 1000


def test_training_is_deterministic_and_records_the_attention():
    cfg = V.DigitsConfig(n_train=250, steps=40, every=20)
    a = list(V.train_digits(cfg, "vit"))
    b = list(V.train_digits(cfg, "vit"))
    assert [s.step for s in a] == [0, 20, 40]
    for s, t in zip(a, b):
        np.testing.assert_array_equal(s.train_loss, t.train_loss)
        np.testing.assert_array_equal(s.cls_attn, t.cls_attn)
    last = a[-1]
    assert last.cls_attn.shape == (cfg.n_show, 4, 4) and np.all(last.cls_attn.sum(axis=(1, 2)) < 1)
    np.testing.assert_allclose(np.diag(last.pos_sim), 1.0, rtol=1e-5)
    assert last.params == V.vit_params(28, 7, 1, cfg.d, cfg.depth, cfg.m)
    assert not last.train_loss.flags.writeable and len(last.test_acc) == 3
    cnn = list(V.train_digits(cfg, "cnn"))[-1]
    assert cnn.cls_attn is None and abs(cnn.params - last.params) / last.params < 0.05


@pytest.mark.slow
def test_both_models_learn_the_digits():
    cfg = V.DigitsConfig(n_train=1000, steps=300, every=300)
    for name in ("vit", "cnn"):
        last = list(V.train_digits(cfg, name))[-1]
        assert last.test_acc[-1] > 0.6 and last.train_loss[-1] < last.train_loss[0] / 2, name


# ---------------------------------------------------------------------------------------------- practice items
def _item(name, seed):
    from engine.common import practice as P
    return P.make("vit", name, seed)


def _shown_answer(item):
    return next(c.label["en"] for c in item.choices if c.correct)


def test_practice_tokens_equal_unfold():
    for seed in range(200):
        item = _item("tokens", seed)
        h, w, p = (item.params[k] for k in ("h", "w", "p"))
        n = F.unfold(torch.zeros(1, 1, h, w, device="meta"), kernel_size=p, stride=p).shape[-1] + 1
        assert item.answer == n and _shown_answer(item) == f"{n:,}", item.params


def test_practice_attention_macs_equal_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    for seed in range(200):
        item = _item("attention_macs", seed)
        h, p, d, heads = (item.params[k] for k in ("h", "p", "d", "heads"))
        n = (h // p) ** 2 + 1
        q = k = v = torch.empty(1, heads, n, d // heads, device="meta")
        with FlopCounterMode(display=False) as counter:
            a = q @ k.transpose(-2, -1)                     # (1, h, N, N)
            a @ v
        assert item.answer == counter.get_total_flops() // 2, item.params
        assert _shown_answer(item) == f"{counter.get_total_flops() // 2:,}"


def test_practice_embed_params_equal_conv2d_numel():
    for seed in range(200):
        item = _item("embed_params", seed)
        c, p, d = (item.params[k] for k in ("c", "p", "d"))
        conv = torch.nn.Conv2d(c, d, kernel_size=p, stride=p, device="meta")
        assert item.answer == sum(t.numel() for t in conv.parameters()), item.params


def test_practice_patchify_expected_equals_unfold():
    for seed in range(50):
        item = _item("patchify_implementation", seed)
        x, p = item.params["x"], item.params["p"]
        ref = F.unfold(torch.from_numpy(x)[None], kernel_size=p, stride=p)[0].T.numpy()
        np.testing.assert_array_equal(item.exec.expected, ref)


def test_practice_blank_expected_equals_conv_cat_and_pos():
    for seed in range(50):
        item = _item("z0_blank", seed)
        x, E, b, cls, pos, p = (torch.from_numpy(np.asarray(item.params[k])) for k in ("x", "E", "b", "cls", "pos", "p"))
        tok = F.conv2d(x[None], E, b, stride=int(p)).flatten(2)[0].T           # (N, D)
        ref = torch.cat([cls[None], tok]) + pos
        np.testing.assert_allclose(item.exec.expected, ref.numpy(), rtol=1e-12, atol=1e-12)


def test_practice_statements_hold_on_cases():
    # pos_needed / pos_optional: torchvision's ViT without position embeddings gives the same logits for shuffled
    # patches; with them, not.
    tv = _torchvision_vit(28, 7, 1, 32, 2, 4, 64)
    with torch.no_grad():
        for t in tv.parameters():
            t.add_(torch.randn(t.shape, generator=torch.Generator().manual_seed(t.numel())) * 0.1)
    x = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    perm = torch.randperm(16, generator=torch.Generator().manual_seed(1))
    patches = F.unfold(x, 7, stride=7)                                          # (B, 49, 16)
    shuffled = F.fold(patches[:, :, perm], (28, 28), 7, stride=7)
    with torch.no_grad():
        with_pos = (tv(x), tv(shuffled))
        tv.encoder.pos_embedding.zero_()
        without = (tv(x), tv(shuffled))
    torch.testing.assert_close(without[0], without[1], rtol=1e-5, atol=1e-5)
    assert (with_pos[0] - with_pos[1]).abs().max() > 1e-3
    # quartic / double: halving P gives 4× the patches and ~16× the attention scores
    for side, p in ((224, 16), (96, 8), (64, 32)):
        n1, n2 = V.n_tokens(side, side, p, cls=False), V.n_tokens(side, side, p // 2, cls=False)
        assert n2 == 4 * n1 and V.layer_cost(n2, 64, 256, 4).scores == 16 * V.layer_cost(n1, 64, 256, 4).scores
    # embed_size_free / embed_grows: the patch embedding's parameters do not depend on the image size
    counts = {sum(t.numel() for t in VisionTransformer(image_size=s, patch_size=16, num_layers=1, num_heads=2,
                                                       hidden_dim=32, mlp_dim=64).conv_proj.parameters())
              for s in (32, 64, 224)}
    assert counts == {V.patch_embed_params(3, 16, 32)}


# --------------------------------------------------------------------------------------------------- the page


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_upload_smallest_patches_and_a_training_step(lang):
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    at.radio(key="vit.source").set_value("upload").run()
    at.file_uploader(key="vit.file").upload("box.png", box_png(w=160, box=(20, 70, 60, 100)), "image/png").run()
    assert_ok(at)
    at.select_slider(key="vit.side").set_value(224).run()
    at.select_slider(key="vit.p").set_value(4).run()
    assert_ok(at)
    captions = " ".join(c.value for c in at.caption)
    assert "160×90" in captions and "3136" in captions.replace(",", "")      # (224/4)² patches
    at.select_slider(key="vit.n_train").set_value(250).run()
    at.button(key="vit.run.step").click().run()
    assert_ok(at)
    run = at.session_state["vit.run"]
    assert run.step == V.DigitsConfig().every and set(run.snaps) == {"vit", "cnn"}
    assert run.config.n_train == 250


def test_page_refuses_a_broken_upload():
    from conftest import run_page

    at = run_page(PAGE)
    at.radio(key="vit.source").set_value("upload").run()
    at.file_uploader(key="vit.file").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and at.error and not at.get("plotly_chart")


# ---------------------------------------------------------------------------------------------------- figures
def test_figures_show_the_engine_results():
    from engine.figures.sequences import vit as figs

    image = V.prepare_image((np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8), 64)
    emb = V.embed(image, 16)                               # 16 patches
    fig = figs.plot_patches(emb)
    assert list(fig.layout.xaxis2.ticktext) == ["[CLS]"] + [str(i) for i in range(1, 17)]
    text = next(t for t in fig.data if getattr(t, "mode", None) == "text")
    assert list(text.text) == [str(i) for i in range(1, 17)]
    heat = figs.plot_tokens(emb).data[0]
    np.testing.assert_allclose(np.asarray(heat.z), np.round(emb.z0, 2), atol=1e-6)     # (N+1, D), [CLS] row 0
    cost = figs.plot_cost(np.array([64, 224]), 16, 768, 3072, 12, mark=64)
    star = [t for t in cost.data if t.marker.symbol == "star"]
    assert star[0].y[0] == V.n_tokens(64, 64, 16)
    assert star[1].y[0] == V.layer_cost(V.n_tokens(64, 64, 16), 768, 3072, 12).scores
    snap = list(V.train_digits(V.DigitsConfig(n_train=250, steps=0, p=14), "vit"))[0]
    tiles = np.asarray(figs.plot_position_similarity(snap).data[0].z, float)             # 2×2 tiles of 2×2
    assert tiles.shape == (5, 5) and np.isnan(tiles[2]).all()
    np.testing.assert_allclose(tiles[:2, :2], np.round(snap.pos_sim[0].reshape(2, 2), 2), atol=1e-6)


def test_vit_training_equals_torchvision_with_torch_optim_adam():
    """40 updates of the engine's ViT = torchvision's VisionTransformer with the same initial weights, trained by
    torch.optim.Adam on the same minibatches (drawn here the obvious way)."""
    cfg = V.DigitsConfig(n_train=250, steps=40, every=20)
    snaps = list(V.train_digits(cfg, "vit"))
    tv = _torchvision_vit(28, cfg.p, 1, cfg.d, cfg.depth, cfg.heads, cfg.m).train()
    _copy_into_torchvision(V.build_vit(28, cfg.p, 1, cfg.d, cfg.depth, cfg.heads, cfg.m, seed=cfg.seed), tv)
    opt = torch.optim.Adam(tv.parameters(), lr=cfg.lr, foreach=False)
    x_tr, y_tr, x_te, y_te = V.digits_split(cfg.n_train, cfg.seed)
    rng = np.random.default_rng(cfg.seed + 1)
    order, pos, losses = rng.permutation(len(y_tr)), 0, []
    for _ in range(cfg.steps):
        if pos + cfg.batch > len(order):
            order, pos = rng.permutation(len(y_tr)), 0
        idx = order[pos:pos + cfg.batch]
        pos += cfg.batch
        loss = F.cross_entropy(tv(torch.from_numpy(x_tr[idx])), torch.from_numpy(y_tr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(snaps[-1].train_loss[1:], [np.mean(losses[:20]), np.mean(losses[20:])], rtol=1e-4)
    with torch.no_grad():
        acc = (tv.eval()(torch.from_numpy(x_te)).argmax(1).numpy() == y_te).mean()
    assert abs(snaps[-1].test_acc[-1] - acc) <= 0.002
