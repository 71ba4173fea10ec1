"""Basics › Initialisation & normalisation: every number against torch.nn (init functions, modules, autograd)."""
from __future__ import annotations

import math
import re
from itertools import islice

import numpy as np
import pytest
from conftest import box_png
import torch
import torch.nn.functional as F
from torch import nn

from engine.basics import init_norm as I


# ------------------------------------------------------------------------------------------ initialisation
@pytest.mark.parametrize("fan_in,fan_out", [(64, 64), (300, 100), (20, 500)])
def test_init_std_equals_torch_init(fan_in, fan_out):
    """The formula against torch.nn.init's own computation (its std on a big tensor, and its internals)."""
    w = torch.empty(fan_out, fan_in)                       # torch's Linear weight layout (out, in)
    g = torch.Generator().manual_seed(0)
    big = torch.empty(4000, 4000)
    nn.init.xavier_normal_(w)
    fi, fo = nn.init._calculate_fan_in_and_fan_out(w)
    assert (fi, fo) == (fan_in, fan_out)
    assert I.init_std("xavier", fan_in, fan_out) == pytest.approx(math.sqrt(2.0 / (fi + fo)), rel=1e-12)
    std_he = nn.init.calculate_gain("relu") / math.sqrt(fi)
    assert I.init_std("he", fan_in, fan_out) == pytest.approx(std_he, rel=1e-12)
    # empirically, on torch's own draws
    nn.init.kaiming_normal_(big, mode="fan_in", nonlinearity="relu", generator=g)
    assert float(big.std()) == pytest.approx(math.sqrt(2 / 4000), rel=0.01)
    nn.init.xavier_normal_(big, generator=g)
    assert float(big.std()) == pytest.approx(I.init_std("xavier", 4000, 4000), rel=0.01)
    assert I.init_std("normal", fan_in, fan_out, 0.05) == 0.05 and I.init_std("zero", fan_in, fan_out) == 0


@pytest.mark.parametrize("act", I.ACTIVATIONS)
@pytest.mark.parametrize("init", I.INITS)
def test_deep_stats_equal_torch_autograd(init, act):
    depth, width, batch = 5, 16, 32
    s = I.deep_stats(init, act, depth, width, sigma=0.5, batch=batch, seed=3)
    rng = np.random.default_rng(3 + 10_000)
    x = torch.from_numpy(rng.standard_normal((batch, width)))
    target = torch.from_numpy(rng.standard_normal((batch, 10)))
    fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "gelu": F.gelu}[act]
    Ws = [torch.from_numpy(W).requires_grad_(True) for W in s.weights]
    acts = []
    a = x
    for W in Ws[:-1]:
        a = fn(F.linear(a, W.T))
        a.retain_grad()
        acts.append(a)
    y = F.linear(a, Ws[-1].T)
    loss = 0.5 * ((y - target) ** 2).sum() / batch
    loss.backward()
    np.testing.assert_allclose(s.act_std, [float(a.detach().std(unbiased=False)) for a in acts], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s.act_mean, [float(a.detach().mean()) for a in acts], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s.grad_std, [float(a.grad.std(unbiased=False)) for a in acts], rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(s.grad_w_norm, [float(W.grad.norm()) for W in Ws[:-1]], rtol=1e-8, atol=1e-15)
    # the histograms count every value once
    np.testing.assert_allclose(s.act_hist.sum(1), 1.0)
    np.testing.assert_allclose(s.grad_hist.sum(1) + s.grad_zero, 1.0)
    zeros = [float((a.grad == 0).double().mean()) for a in acts]
    np.testing.assert_allclose(s.grad_zero, zeros)


def test_the_classic_failures_show():
    """Glorot & Bengio / He et al.: tanh with σ = 0.01 collapses to 0; zero init leaves every unit equal; sigmoid with
    σ = 1 saturates; He keeps ReLU's activations alive through 20 layers, normal(0.01) does not."""
    small = I.deep_stats("normal", "tanh", 20, 100, sigma=0.01)
    assert small.act_std[-1] < 1e-10 < small.act_std[0]
    zero = I.deep_stats("zero", "sigmoid", 6, 50)
    assert np.all(zero.act_std < 1e-12) and np.allclose(zero.act_mean, 0.5)
    big = I.deep_stats("normal", "sigmoid", 10, 100, sigma=1.0)
    assert big.flat.mean() > 0.3
    he, tiny = I.deep_stats("he", "relu", 20, 100), I.deep_stats("normal", "relu", 20, 100, sigma=0.01)
    assert 0.3 < he.act_std[-1] / he.act_std[0] < 3 and tiny.act_std[-1] < 1e-12
    xav = I.deep_stats("xavier", "tanh", 20, 100)
    assert xav.act_std[-1] > 0.05


# ------------------------------------------------------------------------------------------- normalisation
def _torch_norm(x: torch.Tensor, kind: str, groups: int) -> torch.Tensor:
    if kind == "batch":
        return F.batch_norm(x, None, None, training=True, eps=I.EPS)
    if kind == "layer":
        return F.layer_norm(x, x.shape[1:], eps=I.EPS)
    if kind == "instance":
        return F.instance_norm(x, eps=I.EPS)
    return F.group_norm(x, groups, eps=I.EPS)


@pytest.mark.parametrize("kind", I.NORMS)
@pytest.mark.parametrize("shape,groups", [((4, 6, 5, 3), 2), ((2, 4, 8, 8), 4), ((3, 3, 2, 2), 3)])
def test_normalize_equals_torch(kind, shape, groups):
    x = np.random.default_rng(1).normal(2.0, 3.0, shape)
    r = I.normalize(x, kind, groups)
    np.testing.assert_allclose(r.y, _torch_norm(torch.from_numpy(x), kind, groups).numpy(), atol=1e-10)
    n, c, h, w = shape
    per = {"batch": n * h * w, "layer": c * h * w, "instance": h * w, "group": c // groups * h * w}[kind]
    count = {"batch": c, "layer": n, "instance": n * c, "group": n * groups}[kind]
    assert r.per_stat == per and len(r.mean) == count == len(r.var)
    # the modules with their defaults agree too (no affine effect at init: weight 1, bias 0)
    mod = {"batch": nn.BatchNorm2d(c).double(), "layer": nn.LayerNorm([c, h, w]).double(),
           "instance": nn.InstanceNorm2d(c).double(), "group": nn.GroupNorm(groups, c).double()}[kind]
    np.testing.assert_allclose(r.y, mod(torch.from_numpy(x)).detach().numpy(), atol=1e-10)


def test_image_batch_is_crops_of_the_photo():
    rgb = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    b = I.image_batch(rgb, n=3, side=4)
    assert b.shape == (3, 3, 4, 4)
    # the first crop is the top-left square of side 20 averaged in 5 × 5 blocks
    ref = F.avg_pool2d(torch.from_numpy(rgb[:20, :20].astype(np.float64) / 255).permute(2, 0, 1)[None], 5)[0]
    np.testing.assert_allclose(b[0], ref.numpy(), atol=1e-12)


def test_feature_batch_channels():
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    b = I.feature_batch(rgb, n=2, side=8)
    x = torch.from_numpy(I.image_batch(rgb, n=2, side=8))
    yl = (x * torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)[None, :, None, None]).sum(1, keepdim=True)
    kx = torch.tensor([[[[0, 0, 0], [-0.5, 0, 0.5], [0, 0, 0]]]], dtype=torch.float64)
    dx = F.conv2d(yl, kx, padding=1)
    dy = F.conv2d(yl, kx.transpose(2, 3), padding=1)
    dx[..., :, [0, -1]] = 0
    dy[..., [0, -1], :] = 0
    np.testing.assert_allclose(b, torch.cat([x, yl, dx, dy], 1).numpy(), atol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.5, 0.01])
def test_running_stats_equal_batchnorm1d(momentum):
    pool = np.random.default_rng(2).normal([0.2, 0.5, 0.8], [0.1, 0.2, 0.3], (500, 3))
    r = I.running_stats(pool, batch=16, steps=12, momentum=momentum, seed=4)
    bn = nn.BatchNorm1d(3, momentum=momentum).double()
    rng = np.random.default_rng(4)
    for t in range(12):
        xb = pool[rng.choice(len(pool), 16, replace=False)]
        bn(torch.from_numpy(xb))
        np.testing.assert_allclose(r.running_mean[t + 1], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(r.running_var[t + 1], bn.running_var.numpy(), rtol=1e-12)
    assert I.running_update(2.0, 4.0, momentum) == pytest.approx(float(r.momentum * 4.0 + (1 - momentum) * 2.0))
    # eval mode normalises with these running estimates
    bn.eval()
    x = torch.from_numpy(pool[:5])
    want = (pool[:5] - r.running_mean[-1]) / np.sqrt(r.running_var[-1] + I.EPS)
    np.testing.assert_allclose(bn(x).detach().numpy(), want, atol=1e-12)


# ---------------------------------------------------------------------------------------------- live training
def test_digits_nets_are_the_torch_modules_with_the_same_weights():
    cfg = I.DigitsConfig(depth=3, width=16)
    nets = {v: I.digits_net(cfg, v) for v in I.VARIANTS}
    kinds = {v: [type(m).__name__ for m in nets[v]] for v in I.VARIANTS}
    assert kinds["batch"][:3] == ["Linear", "BatchNorm1d", "Sigmoid"]
    assert kinds["layer"][:3] == ["Linear", "LayerNorm", "Sigmoid"] and "LayerNorm" not in kinds["none"]
    w = [m.weight for m in nets["none"] if isinstance(m, nn.Linear)]
    w2 = [m.weight for m in nets["batch"] if isinstance(m, nn.Linear)]
    assert all(torch.equal(a, b) for a, b in zip(w, w2))


def test_train_digits_learns_and_batchnorm_helps_a_deep_sigmoid_net():
    cfg = I.DigitsConfig(steps=200, every=100)
    snaps = list(islice(I.train_digits(cfg), 3))
    last = snaps[-1]
    assert [s.step for s in snaps] == [0, 100, 200] and last.train_loss.shape == (3, 3)
    acc = dict(zip(last.names, last.test_acc[:, -1]))
    assert acc["batch"] > 0.8 and acc["batch"] > acc["none"] + 0.2
    again = list(islice(I.train_digits(cfg), 2))[-1]
    np.testing.assert_array_equal(again.train_loss, snaps[1].train_loss)


# -------------------------------------------------------------------------------------------------- practice
def _items(name: str, n: int = 200):
    from engine.common.practice import make
    return [make("init_norm", name, seed) for seed in range(n)]


def test_practice_init_std_against_torch_init():
    for item in _items("init_std"):
        p = item.params
        w = torch.empty(p["fan_out"], p["fan_in"])
        fi, fo = nn.init._calculate_fan_in_and_fan_out(w)
        want = (nn.init.calculate_gain("linear") * math.sqrt(2.0 / (fi + fo)) if p["which"] == "xavier"
                else nn.init.calculate_gain("relu") / math.sqrt(fi))
        assert item.answer == pytest.approx(want, rel=1e-12)


def test_practice_norm_count_by_brute_force():
    """Count the statistics torch computes: var_mean over each kind's axes of a real tensor (or BatchNorm2d's
    running buffers)."""
    for item in _items("norm_count", 100):
        p = item.params
        x = torch.randn(p["n"], p["c"], 2, 2)
        if p["kind"] == "batch":
            got = nn.BatchNorm2d(p["c"]).running_mean.numel()
        elif p["kind"] == "layer":
            got = torch.var_mean(x, dim=(1, 2, 3))[1].numel()
        elif p["kind"] == "instance":
            got = torch.var_mean(x, dim=(2, 3))[1].numel()
        else:
            got = torch.var_mean(x.view(p["n"], p["groups"], -1), dim=2)[1].numel()
        assert item.answer == got


def test_practice_running_mean_against_batchnorm1d():
    for item in _items("running_mean"):
        p = item.params
        bn = nn.BatchNorm1d(1, momentum=p["m"]).double()
        bn.running_mean.fill_(p["running"])
        bn(torch.tensor(p["batch"], dtype=torch.float64)[:, None])
        assert item.answer == pytest.approx(float(bn.running_mean[0]), abs=1e-12)


def test_practice_layer_norm_code_expected_is_torch():
    for item in _items("layer_norm_code", 50):
        x, eps = item.exec.args
        want = F.layer_norm(torch.from_numpy(x), x.shape[1:], eps=eps).numpy()
        np.testing.assert_allclose(item.exec.expected, want, atol=1e-10)


def test_practice_statements_hold_on_cases():
    """The checkable statements, numerically: GroupNorm G=1 / G=C, LayerNorm on a batch of 1, BN eval mode."""
    x = torch.randn(3, 6, 4, 4, dtype=torch.float64)
    np.testing.assert_allclose(I.normalize(x.numpy(), "group", 1).y, I.normalize(x.numpy(), "layer").y)
    np.testing.assert_allclose(I.normalize(x.numpy(), "group", 6).y, I.normalize(x.numpy(), "instance").y)
    np.testing.assert_allclose(I.normalize(x.numpy()[:1], "layer").y, I.normalize(x.numpy(), "layer").y[:1])
    bn = nn.BatchNorm1d(2, momentum=0.1)
    bn(torch.tensor([[10.0, 0.0], [12.0, 2.0]]))
    assert bn.running_mean.tolist() == pytest.approx([1.1, 0.1])      # keeps 90 % of the old value (0)
    zero = I.deep_stats("zero", "tanh", 3, 8)
    assert np.all(zero.grad_w_norm == 0)


# ------------------------------------------------------------------------------------------------------- page
PAGE = "pages/basics/init_norm.py"




@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_upload_every_norm_and_a_broken_file(lang):
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    headers = [h.value for h in at.header]
    at.radio(key="init_norm.source").set_value("upload").run()
    at.file_uploader(key="init_norm.file").upload("box.png", box_png(), "image/png").run()
    assert_ok(at)
    for kind, count in (("batch", 6), ("layer", 4), ("instance", 24), ("group", 8)):
        at.radio(key="init_norm.kind").set_value(kind).run()
        assert_ok(at)
        line = next(m.value for m in at.markdown if "(μ, σ²)" in m.value)
        pattern = r"— (\d+) statistics" if lang == "en" else r"は (\d+) 組"
        assert int(re.search(pattern, line).group(1)) == count      # N = 4, C = 6, G = 2
    at.file_uploader(key="init_norm.file").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and at.error
    # the bad image takes out sections 2-3 only: the deep-network section, training and check-yourself remain
    assert headers[0] in [h.value for h in at.header] and headers[-1] in [h.value for h in at.header]
