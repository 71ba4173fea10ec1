"""Model compression chapter against torch: masks vs torch.nn.utils.prune (l1_unstructured, ln_structured), scale
and zero-point vs torch.ao.quantization's MinMaxObserver, int8 values vs torch.quantize_per_tensor, the int8 network
vs torch's converted int8 modules, the distillation loss vs nn.KLDivLoss(log_target=True) and its gradient vs
autograd."""
from __future__ import annotations

import copy
from itertools import islice

import numpy as np
import pytest
from conftest import box_png
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from engine.engineering import compression as C

# torch marks its quantised dtypes and torch.ao.quantization deprecated (they are the oracle here)
pytestmark = pytest.mark.filterwarnings("ignore:.*quantiz:UserWarning")


@pytest.fixture(scope="module")
def base():
    return C.trained_mlp(0)


def _rand_linear(seed: int, out_f: int = 12, in_f: int = 9) -> nn.Linear:
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(in_f, out_f)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(out_f, in_f, generator=g))
    return lin


# ---------------------------------------------------------------------------------------------- pruning
@pytest.mark.parametrize("amount", [0.0, 0.1, 0.33, 0.5, 0.9, 0.98, 1.0])
def test_unstructured_mask_is_torch_l1_unstructured(amount):
    for seed in range(3):
        lin = _rand_linear(seed)
        ours = C.l1_unstructured_mask(lin.weight, amount)
        prune.l1_unstructured(lin, "weight", amount=amount)
        torch.testing.assert_close(ours, lin.weight_mask)


@pytest.mark.parametrize("amount", [0.0, 0.1, 0.25, 0.5, 0.75, 0.98])
@pytest.mark.parametrize("dim", [0, 1])
def test_structured_mask_is_torch_ln_structured(amount, dim):
    for seed in range(3):
        lin = _rand_linear(seed)
        ours = C.ln_structured_mask(lin.weight, amount, n=2, dim=dim)
        prune.ln_structured(lin, "weight", amount=amount, n=2, dim=dim)
        torch.testing.assert_close(ours, lin.weight_mask)


def test_n_to_prune_is_torch_rounding():
    from torch.nn.utils.prune import _compute_nparams_toprune
    for n in (7, 10, 128, 256):
        for a in np.linspace(0, 1, 41):
            assert C.n_to_prune(float(a), n) == _compute_nparams_toprune(float(a), n)


@pytest.mark.parametrize("mode", C.MODES)
def test_pruned_network_is_torch_prune_on_every_layer(base, mode):
    amount = 0.7
    net, _ = C.pruned(base, amount, mode)
    ref = copy.deepcopy(base)
    lins = C.linears(ref)
    for i, m in enumerate(lins):
        if mode == "unstructured":
            prune.l1_unstructured(m, "weight", amount=amount)
        elif i < len(lins) - 1:
            prune.ln_structured(m, "weight", amount=amount, n=2, dim=0)
            prune.custom_from_mask(m, "bias", m.weight_mask[:, 0])       # a removed unit has no bias either
    x = torch.from_numpy(np.array(C.digits_data(0)[2][:200]))
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref(x))
    # the base network was not touched
    for p, w in zip(base.parameters(), C.trained_weights(0)):
        assert torch.equal(p, w)


def test_structured_shrink_computes_the_same_function(base):
    net, masks = C.pruned(base, 0.5, "structured")
    small = C.shrink(net, masks)
    assert [m.out_features for m in C.linears(small)] == [128, 64, 10]
    x = torch.from_numpy(np.array(C.digits_data(0)[2][:300]))
    with torch.no_grad():
        torch.testing.assert_close(small(x), net(x), rtol=1e-5, atol=1e-5)
    assert C.param_count(small) == 196 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


def test_sparsity_curve_counts(base):
    cur = C.sparsity_curve(0, (0.0, 0.5, 0.9))
    assert cur.accuracy[0, 0] == cur.accuracy[1, 0] == C.accuracy(base, *C.digits_data(0)[2:])
    np.testing.assert_allclose(cur.zeros[0], [0.0, 0.5, 0.9], atol=1e-3)
    assert cur.params[0, 0] == C.param_count(base)
    # unstructured at 0.5: half of every weight matrix left, biases kept
    w = sum(m.weight.numel() for m in C.linears(base))
    assert cur.params[0, 1] == C.param_count(base) - sum(C.n_to_prune(0.5, m.weight.numel()) for m in C.linears(base))
    assert cur.params[0, 1] == pytest.approx(C.param_count(base) - w / 2, abs=2)


@pytest.mark.parametrize("mode", C.MODES)
def test_fine_tuning_keeps_pruned_weights_zero_and_recovers(mode):
    ft = C.fine_tune(0, 0.9, mode, steps=60, every=30)
    assert list(ft.steps) == [0, 30, 60]
    if mode == "unstructured":
        assert ft.zeros == pytest.approx(0.9, abs=1e-3)
    else:
        assert ft.zeros > 0.85
    assert ft.accuracy[-1] > ft.accuracy[0]


# ---------------------------------------------------------------------------------------------- quantisation
def _cases():
    rng = np.random.default_rng(0)
    yield rng.normal(size=500).astype(np.float32)
    yield rng.uniform(0.2, 3.0, size=300).astype(np.float32)           # all positive: 0 still in the range
    yield -rng.uniform(0.1, 1.0, size=300).astype(np.float32)
    yield (rng.normal(size=(40, 30)) * 0.05 + 0.02).astype(np.float32)
    yield np.zeros(10, np.float32)


@pytest.mark.parametrize("scheme", C.SCHEMES)
@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
def test_qparams_are_minmax_observer(scheme, dtype):
    from torch.ao.quantization import MinMaxObserver
    qmin, qmax = (-128, 127) if dtype == "qint8" else (0, 255)
    qs = torch.per_tensor_symmetric if scheme == "symmetric" else torch.per_tensor_affine
    for x in _cases():
        obs = MinMaxObserver(dtype=getattr(torch, dtype), qscheme=qs)
        obs(torch.from_numpy(x))
        scale, zp = obs.calculate_qparams()
        qp = C.qparams(x, scheme, qmin, qmax)
        assert qp.scale == float(scale)
        assert qp.zero_point == int(zp)


@pytest.mark.parametrize("scheme", C.SCHEMES)
def test_quantize_is_torch_quantize_per_tensor(scheme):
    for x in _cases():
        qp = C.qparams(x, scheme)
        ref = torch.quantize_per_tensor(torch.from_numpy(x), qp.scale, qp.zero_point, torch.qint8)
        np.testing.assert_array_equal(C.quantize(x, qp), ref.int_repr().numpy().astype(np.int32))
        np.testing.assert_array_equal(C.dequantize(C.quantize(x, qp), qp), ref.dequantize().numpy())
        # the error is at most half a step: the range covers x (symmetric: max|x| lands on 127.5, clipped to 127,
        # exactly half a step)
        err = np.abs(x - C.dequantize(C.quantize(x, qp), qp))
        assert err.max() <= qp.scale / 2 * (1 + 1e-4)


def test_int8_linear_is_the_dequantised_product():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 2, size=(20, 30)).astype(np.float32)
    w = rng.normal(size=(7, 30)).astype(np.float32)
    b = rng.normal(size=7).astype(np.float32)
    qx, qw = C.qparams(x, "affine"), C.qparams(w, "symmetric")
    layer = C.QuantLayer(C.quantize(w, qw), qw, qx, b)
    y = C.int8_linear(C.quantize(x, qx), layer)
    xd = torch.quantize_per_tensor(torch.from_numpy(x), qx.scale, qx.zero_point, torch.qint8).dequantize()
    wd = torch.quantize_per_tensor(torch.from_numpy(w), qw.scale, qw.zero_point, torch.qint8).dequantize()
    torch.testing.assert_close(torch.from_numpy(y), F.linear(xd.double(), wd.double(), torch.from_numpy(b).double())
                               .float(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scheme", C.SCHEMES)
def test_int8_network_matches_torch_int8_kernels(base, scheme):
    x_tr, _, x_te, y_te = C.digits_data(0)
    qm = C.quantize_mlp(base, x_tr[:300], scheme)
    tq = C.torch_int8(base, x_tr[:300], scheme)
    qlins = [m for m in tq.modules() if type(m).__name__ in ("LinearReLU", "Linear") and hasattr(m, "weight")
             and callable(m.weight)]
    assert len(qlins) == 3
    for ours, theirs in zip(qm.layers, qlins):
        w = theirs.weight()
        assert ours.w.scale == pytest.approx(w.q_scale(), rel=1e-7)
        assert ours.w.zero_point == w.q_zero_point()
        np.testing.assert_array_equal(ours.q_w, w.int_repr().numpy())
    stub = tq[0]                                 # Quantize: the first layer's input grid (quint8 = int8 + 128)
    assert qm.layers[0].x.scale == pytest.approx(float(stub.scale), rel=1e-6)
    assert qm.layers[0].x.zero_point + 128 == int(stub.zero_point)
    with torch.no_grad():
        theirs = tq(torch.from_numpy(np.array(x_te))).numpy()
    ours = C.quant_logits(qm, x_te)
    assert (ours.argmax(1) == theirs.argmax(1)).mean() > 0.99
    assert np.abs(ours - theirs).max() < 0.25 * np.abs(theirs).max()
    acc_float = C.accuracy(base, x_te, y_te)
    assert abs((ours.argmax(1) == y_te).mean() - acc_float) < 0.01


def test_int8_checkpoint_is_a_quarter():
    qm = C.quantize_mlp(C.trained_mlp(0), C.digits_data(0)[0][:100])
    n_w = sum(l.q_w.size for l in qm.layers)
    n_b = sum(l.bias.size for l in qm.layers)
    b_int8 = C.serialized_bytes(C.int8_state(qm))
    b_float = C.serialized_bytes(C.trained_mlp(0).state_dict())
    assert n_w + 4 * n_b <= b_int8 < n_w + 4 * n_b + 8000         # payload + torch.save's zip overhead
    assert 4 * (n_w + n_b) <= b_float < 4 * (n_w + n_b) + 8000
    assert b_int8 / b_float < 0.27


def test_layer_quant_error_histogram():
    lq = C.layer_quant(0, 1, "affine")
    assert lq.max_error <= lq.qp.scale / 2 * (1 + 1e-4)
    assert lq.levels_used <= 256
    np.testing.assert_array_equal(lq.w, C.trained_weights(0)[2].numpy().reshape(-1))


# ---------------------------------------------------------------------------------------------- MobileNetV2
def _conv_bn_net() -> nn.Sequential:
    g = torch.Generator().manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
                        nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8)),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(8, generator=g))
                m.running_var.copy_(torch.rand(8, generator=g) * 3 + 0.1)
    return net.eval()


def test_per_channel_scales_and_values_are_torch_per_channel():
    from torch.ao.quantization import PerChannelMinMaxObserver
    w = _conv_bn_net()[0].weight.detach() * torch.arange(1, 9).reshape(8, 1, 1, 1)   # ranges differ per channel
    obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    obs(w)
    scales, zps = obs.calculate_qparams()
    np.testing.assert_array_equal(C.per_channel_qparams(w), scales.numpy().astype(np.float32))
    assert (zps == 0).all()
    q, s = C.quantize_weight(w, "per_channel")
    ref = torch.quantize_per_channel(w, scales.double(), zps, 0, torch.qint8)
    np.testing.assert_array_equal(q, ref.int_repr().numpy())
    qt, st = C.quantize_weight(w, "per_tensor")
    qp = C.qparams(w.numpy(), "symmetric")
    assert st[0] == np.float32(qp.scale)
    np.testing.assert_array_equal(qt, torch.quantize_per_tensor(w, qp.scale, 0, torch.qint8).int_repr().numpy())


def test_fold_bn_is_torch_fusion_and_keeps_the_function():
    net = _conv_bn_net()
    folded = C.fold_bn(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())           # the original untouched
    x = torch.randn(4, 3, 10, 10, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x), rtol=1e-4, atol=1e-4)
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    ref = fuse_conv_bn_eval(copy.deepcopy(net[0]), copy.deepcopy(net[1]))
    torch.testing.assert_close(folded[0].weight, ref.weight)


def test_compress_imagenet_on_a_small_net_leaves_the_model_alone():
    net = _conv_bn_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.randn(1, 3, 10, 10, generator=torch.Generator().manual_seed(1))
    same = C.compress_imagenet(net, x, 0.0, "none", fold=False)
    np.testing.assert_allclose(same.probs_c, same.probs, rtol=1e-6)
    assert same.kl == pytest.approx(0.0, abs=1e-9) and same.zeros == 0.0
    r = C.compress_imagenet(net, x, 0.5, "per_channel", fold=True)
    n = sum(m.weight.numel() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert r.n_weights == n
    assert r.zeros >= 0.5 - 3 / n
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    # the compressed forward equals a copy made with torch alone: fused by torch, pruned by torch.nn.utils.prune,
    # quantised per channel by PerChannelMinMaxObserver + quantize_per_channel
    from torch.ao.quantization import PerChannelMinMaxObserver
    ref = C.fold_bn(net)
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                prune.l1_unstructured(m, "weight", amount=0.5)
                prune.remove(m, "weight")
                obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
                obs(m.weight)
                scales, zps = obs.calculate_qparams()
                m.weight.copy_(torch.quantize_per_channel(m.weight, scales.double(), zps, 0, torch.qint8).dequantize())
        p = torch.softmax(ref(x), 1)[0].double().numpy()
    np.testing.assert_allclose(r.probs_c, p, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_compress_real_mobilenet_keeps_the_shared_model_and_the_class():
    from engine.common import classifier
    try:
        model = classifier.load_mobilenet_v2()
    except classifier.WeightsUnavailable as err:
        pytest.skip(str(err))
    before = model.features[1].conv[0][0].weight.clone()
    import skimage.data
    from PIL import Image
    x = classifier.preprocess(Image.fromarray(skimage.data.chelsea())).x
    r = C.compress_imagenet(model, x, 0.0, "per_channel", fold=True)
    assert torch.equal(model.features[1].conv[0][0].weight, before)
    assert int(r.probs.argmax()) == int(r.probs_c.argmax())
    assert r.bytes_c < 0.3 * r.bytes_float


@pytest.mark.slow
def test_page_upload_and_a_broken_upload():
    from conftest import assert_ok, run_page

    at = run_page("pages/engineering/compression.py", lang="ja", timeout=240)
    assert_ok(at)
    at.radio(key="compression.source").set_value("upload").run()
    at.file_uploader(key="compression.file").upload("box.png", box_png(), "image/png").run()
    assert_ok(at)
    at.radio(key="compression.mb_quant").set_value("per_tensor").run()
    at.toggle(key="compression.mb_fold").set_value(False).run()
    assert_ok(at)
    assert any(m.label == "0の重み" for m in at.metric)
    at.file_uploader(key="compression.file").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and at.error




# ---------------------------------------------------------------------------------------------- distillation
@pytest.mark.parametrize("T", [1.0, 2.0, 4.0, 10.0])
def test_kd_loss_is_kldiv_log_target_and_cross_entropy(T):
    g = torch.Generator().manual_seed(int(T))
    zs, zt = torch.randn(16, 10, generator=g) * 3, torch.randn(16, 10, generator=g) * 3
    y = torch.randint(0, 10, (16,), generator=g)
    alpha = 0.7
    total, soft, hard = C.kd_loss(zs, zt, y, T, alpha)
    kl = nn.KLDivLoss(reduction="batchmean", log_target=True)(F.log_softmax(zs / T, 1), F.log_softmax(zt / T, 1))
    torch.testing.assert_close(soft, kl * T * T)
    torch.testing.assert_close(hard, nn.CrossEntropyLoss()(zs, y))
    torch.testing.assert_close(total, alpha * kl * T * T + (1 - alpha) * hard)
    torch.testing.assert_close(C.kd_loss(zs, zt, y, T, alpha, t2=False)[1], kl)


@pytest.mark.parametrize("T", [1.0, 3.0, 20.0])
@pytest.mark.parametrize("t2", [True, False])
def test_soft_gradient_is_autograd(T, t2):
    g = torch.Generator().manual_seed(5)
    zs = (torch.randn(8, 10, generator=g, dtype=torch.float64) * 2).requires_grad_()
    zt = torch.randn(8, 10, generator=g, dtype=torch.float64) * 4
    kl = F.kl_div(F.log_softmax(zs / T, 1), F.log_softmax(zt / T, 1), reduction="batchmean", log_target=True)
    (grad,) = torch.autograd.grad(kl * T * T if t2 else kl, zs)
    np.testing.assert_allclose(C.soft_grad(zs.detach().numpy(), zt.numpy(), T, t2), grad.numpy(), rtol=1e-9,
                               atol=1e-12)


def test_soft_targets_are_softmax_over_T():
    z = np.array([[4.0, 1.0, -2.0, 0.5]])
    for T in (0.5, 1.0, 5.0):
        np.testing.assert_allclose(C.soft_targets(z, T), torch.softmax(torch.tensor(z) / T, 1).numpy(), rtol=1e-12)
    assert C.soft_targets(z, 10.0).max() < C.soft_targets(z, 1.0).max()          # flatter


def test_t2_factor_keeps_the_gradient_scale():
    rng = np.random.default_rng(0)
    zs, zt = rng.normal(size=(32, 10)) * 3, rng.normal(size=(32, 10)) * 3
    gs = C.grad_scale(zs, zt, [8.0, 16.0, 32.0, 64.0])
    # large T: ∂KL/∂z_s ∝ 1/T², so T²·KL's gradient tends to a constant
    np.testing.assert_allclose(gs.without[1:] / gs.without[:-1], 0.25, rtol=0.05)
    np.testing.assert_allclose(gs.with_t2[1:] / gs.with_t2[:-1], 1.0, rtol=0.05)
    np.testing.assert_allclose(gs.with_t2, gs.without * gs.T ** 2)


def test_distill_deterministic_and_alpha_zero_is_labels_only():
    cfg = C.DistillConfig(steps=40, every=20, alpha=0.0)
    a = list(C.distill(cfg))
    b = list(islice(C.distill(cfg), 3))
    assert [s.step for s in a] == [0, 20, 40]
    for s, r in zip(a, b):
        np.testing.assert_array_equal(s.acc, r.acc)
        np.testing.assert_array_equal(s.loss, r.loss)
    # α = 0: the distillation loss is the cross-entropy, so both students follow the same path
    np.testing.assert_array_equal(a[-1].acc[0], a[-1].acc[1])
    np.testing.assert_allclose(a[-1].loss[0], a[-1].loss[1], rtol=1e-6)
    assert a[-1].student_params == 196 * 32 + 32 + 32 * 10 + 10
    assert a[-1].teacher_params == C.param_count(C.trained_mlp(0))


def test_distill_teacher_helps_with_few_labels():
    snaps = list(C.distill(C.DistillConfig(steps=400, every=200)))
    kd, ce = snaps[-1].acc[:, -1]
    assert kd > ce + 0.02


# ---------------------------------------------------------------------------------------------- practice
def _items(name: str, n: int = 200):
    from engine.common import practice
    return [practice.make("compression", name, seed) for seed in range(n)]


def _shown_answer(item) -> str:
    return item.choices[item.correct_index].label["en"]


def test_practice_zero_point_is_minmax_observer():
    from torch.ao.quantization import MinMaxObserver
    for item in _items("zero_point"):
        obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_affine)
        obs(torch.tensor([item.params["lo"], item.params["hi"]]))
        zp = int(obs.calculate_qparams()[1])
        assert item.answer == zp
        assert _shown_answer(item) == str(zp)


def test_practice_quantize_value_is_quantize_per_tensor():
    for item in _items("quantize_value"):
        p = item.params
        q = int(torch.quantize_per_tensor(torch.tensor([p["x"]]), p["s"], p["z"], torch.qint8).int_repr()[0])
        assert item.answer == q
        assert _shown_answer(item) == str(q)


def test_practice_soft_target_is_torch_softmax():
    for item in _items("soft_target"):
        p = item.params
        want = float(torch.softmax(torch.tensor(p["z"], dtype=torch.float64) / p["T"], 0)[p["k"]])
        assert item.answer == pytest.approx(want, abs=1e-12)
        assert _shown_answer(item) == f"{want:.4f}"


def test_practice_structured_params_by_torch_prune():
    for item in _items("structured_params"):
        sizes, a = item.params["sizes"], item.params["amount"]
        net = C.make_mlp(tuple(sizes), torch.Generator().manual_seed(0))
        lins = C.linears(net)
        keep_in = torch.ones(sizes[0], dtype=torch.bool)
        count = 0
        for i, m in enumerate(lins):
            if i < len(lins) - 1:
                prune.ln_structured(m, "weight", amount=a, n=2, dim=0)
                keep_out = m.weight_mask.sum(1) > 0
            else:
                keep_out = torch.ones(m.out_features, dtype=torch.bool)
            count += int(keep_out.sum()) * int(keep_in.sum()) + int(keep_out.sum())   # live weights + biases
            keep_in = keep_out
        assert item.answer == count
        assert _shown_answer(item) == str(count)


def test_practice_blank_expected_is_torch_fake_quantize():
    from torch.ao.quantization import MinMaxObserver
    for item in _items("quant_blank", 100):
        p = item.params
        dtype = torch.qint8 if p["qmin"] == -128 else torch.quint8
        x = torch.tensor(p["x"], dtype=torch.float32)
        obs = MinMaxObserver(dtype=dtype, qscheme=torch.per_tensor_affine)
        obs(x)
        s, z = obs.calculate_qparams()
        want = torch.quantize_per_tensor(x, float(s), int(z), dtype).dequantize().numpy()
        np.testing.assert_allclose(item.exec.expected, want, atol=1e-6)


def test_practice_statements_hold_on_cases(base):
    """The checkable statements, checked on this chapter's network."""
    # structured_dense: the pruned units removed, a smaller dense network computing the same function
    net, masks = C.pruned(base, 0.5, "structured")
    assert C.param_count(C.shrink(net, masks)) < C.param_count(base)
    # zero_exact: 0 maps to the integer z and back to exactly 0
    for x in _cases():
        qp = C.qparams(x, "affine")
        assert C.dequantize(C.quantize(np.zeros(1, np.float32), qp), qp)[0] == 0.0
    # symmetric_relu (false): a non-negative tensor uses at most 128 of the 256 int8 levels symmetrically
    x = np.random.default_rng(0).uniform(0, 3, 5000).astype(np.float32)
    assert len(np.unique(C.quantize(x, C.qparams(x, "symmetric")))) <= 128
    assert len(np.unique(C.quantize(x, C.qparams(x, "affine")))) > 200
    # high_T_flat: the largest soft target decreases with T
    z = np.array([5.0, 2.0, -1.0, 0.5])
    assert np.all(np.diff([C.soft_targets(z, T).max() for T in (1, 2, 4, 8, 16)]) < 0)
