"""EfficientNet chapter: counts against torchvision's own models and published numbers, a brute-force conv count,
SE against torchvision.ops.SqueezeExcitation, and the page in both input modes."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from torch import nn

from conftest import assert_ok, run_page
from engine.vision import efficientnet as eff

PAGE = "pages/vision/efficientnet.py"


def test_compound_scaling_is_the_power_law_and_paper_bases_meet_the_constraint():
    d, w, r = eff.compound_scaling(1.2, 1.1, 1.15, 3.0)
    assert (d, w, r) == pytest.approx((1.2 ** 3, 1.1 ** 3, 1.15 ** 3))
    assert eff.compound_scaling(1.3, 1.2, 1.1, 0.0) == (1.0, 1.0, 1.0)
    c = eff.PAPER_ALPHA * eff.PAPER_BETA ** 2 * eff.PAPER_GAMMA ** 2
    assert c == pytest.approx(1.92, abs=0.01) and abs(c - 2) < 0.1
    # flops factor = d * w^2 * r^2 by definition
    d, w, r = eff.compound_scaling(1.2, 1.1, 1.15, 2.5)
    assert eff.flops_factor(1.2, 1.1, 1.15, 2.5) == pytest.approx(d * w ** 2 * r ** 2)


def test_single_dimension_multipliers_spend_the_same_predicted_budget():
    for target in (1.0, 2.0, 8.0):
        for name, (w, d, res) in eff.single_dimension(target).items():
            predicted = d * w ** 2 * (res / eff.BASE_RESOLUTION) ** 2
            assert predicted == pytest.approx(target, rel=0.02), name


def test_b0_matches_torchvision_model_and_paper():
    import torchvision
    ref = sum(p.numel() for p in torchvision.models.efficientnet_b0(weights=None).parameters())
    params, macs = eff.count_model(1.0, 1.0, 224)
    assert params == ref
    assert abs(macs - 0.39e9) / 0.39e9 < 0.05


@pytest.mark.parametrize("name", list(eff.PRESETS))
def test_presets_match_torchvision_published_params_and_ops(name):
    """torchvision's weight metadata lists num_params and GFLOPS (multiply-adds) measured on the real model."""
    import torchvision.models as tvm
    meta = getattr(tvm, f"EfficientNet_{name}_Weights").IMAGENET1K_V1.meta
    weights = getattr(tvm, f"EfficientNet_{name}_Weights").IMAGENET1K_V1
    w, d, res = eff.PRESETS[name]
    crop = weights.transforms().crop_size[0]
    # the paper's resolutions; torchvision's B2 weights alone are evaluated at 288 px instead of 260
    assert crop == res or (name, crop) == ("B2", 288)
    params, macs = eff.count_model(w, d, crop)
    assert params == meta["num_params"]
    assert macs / 1e9 == pytest.approx(meta["_ops"], abs=6e-4)


@pytest.mark.parametrize("cfg", [(1.3, 1.5, 270), (0.5, 0.6, 96), (1.0, 2.7, 64)])
def test_cached_block_count_equals_whole_network_count(cfg):
    assert eff.count_model(*cfg) == eff.count_model_full(*cfg)


def test_macs_equal_brute_force_conv_and_linear_sum():
    """Oracle independent of FlopCounterMode: H_out·W_out·C_out·(C_in/g)·k² per conv, in·out per linear."""
    model = eff.build_model(0.5, 0.5, device="cpu").eval()
    total = 0

    def conv_hook(m, inp, out):
        nonlocal total
        total += out.shape[2] * out.shape[3] * m.out_channels * (m.in_channels // m.groups) \
            * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        nonlocal total
        total += m.in_features * m.out_features

    handles = [m.register_forward_hook(conv_hook if isinstance(m, nn.Conv2d) else linear_hook)
               for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.inference_mode():
        model(torch.zeros(1, 3, 64, 64))
    for h in handles:
        h.remove()
    params, macs = eff.count_model(0.5, 0.5, 64)
    assert macs == total
    assert params == sum(p.numel() for p in model.parameters())


def test_b0_stage_table_is_the_papers_table_1():
    prof = eff.profile(1.0, 1.0, 224)
    assert [s.resolution[0] for s in prof.stages] == [224, 112, 112, 56, 28, 14, 14, 7, 7]
    assert [s.channels for s in prof.stages] == [32, 16, 24, 40, 80, 112, 192, 320, 1280]
    assert [s.layers for s in prof.stages] == [1, 1, 2, 2, 3, 3, 4, 1, 1]
    assert [s.operator for s in prof.stages][1:4] == ["MBConv1, k3x3", "MBConv6, k3x3", "MBConv6, k5x5"]
    assert sum(s.params for s in prof.stages) == prof.params


def test_depth_rounding_is_ceil_and_width_rounding_is_multiple_of_8():
    prof = eff.profile(1.2, 1.4, 300)      # B3
    assert [s.layers for s in prof.stages[1:-1]] == [math.ceil(n * 1.4) for n in (1, 2, 2, 3, 3, 4, 1)]
    assert all(s.channels % 8 == 0 for s in prof.stages)


def test_mbconv_anatomy_matches_torchvision_block():
    from torchvision.models.efficientnet import MBConv, _MBConvConfig
    layers = eff.mbconv_anatomy(6, 5, 1, 40, 40, 28, 28)
    names = [layer.name for layer in layers]
    assert names == ["expand 1x1", "depthwise 5x5", "SE squeeze F_sq", "SE reduce fc1", "SE expand fc2",
                     "SE scale F_scale", "project 1x1", "skip +"]
    assert layers[0].out_shape == (240, 28, 28) and layers[3].out_shape == (10, 1, 1)
    block = MBConv(_MBConvConfig(6, 5, 1, 40, 40, 1, MBConv), 0.0, nn.BatchNorm2d)
    assert sum(layer.params for layer in layers) == sum(p.numel() for p in block.parameters())
    # depthwise conv: H·W·C·k² MACs
    assert layers[1].macs == 28 * 28 * 240 * 25
    strided = eff.mbconv_anatomy(1, 3, 2, 32, 16, 32, 32)
    assert "expand 1x1" not in [layer.name for layer in strided] and strided[-1].name == "project 1x1"
    assert strided[0].out_shape == (32, 16, 16)


@pytest.mark.parametrize("cin,cout,k,g", [(32, 32, 3, 32), (16, 24, 5, 1), (64, 128, 3, 4)])
def test_conv_params_equals_torch_conv(cin, cout, k, g):
    for bias in (False, True):
        conv = nn.Conv2d(cin, cout, k, groups=g, bias=bias)
        assert eff.conv_params(cin, cout, k, groups=g, bias=bias) == sum(p.numel() for p in conv.parameters())


def test_squeeze_excitation_equals_torchvision_op():
    from torchvision.ops import SqueezeExcitation
    g = torch.Generator().manual_seed(3)
    se = SqueezeExcitation(12, 3, activation=nn.SiLU)
    with torch.no_grad():
        for p in se.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    u = torch.randn(12, 7, 5, generator=g)
    res = eff.squeeze_excitation(u, se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias)
    with torch.inference_mode():
        ref = se(u[None])[0]
    np.testing.assert_allclose(res.x_tilde, ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res.z, u.mean(dim=(1, 2)).numpy(), rtol=1e-6)
    assert res.s.shape == (12,) and np.all((res.s > 0) & (res.s < 1))


def test_se_on_image_is_the_real_block_computation():
    """x̃ from se_on_image, projected and added to the block input, equals torchvision's whole block."""
    trunk = eff.seeded_trunk(0)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    res = eff.se_on_image(image, trunk, 2, 1, size=64)
    x = torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)[None] / 255.0
    x = nn.functional.interpolate(x, size=(64, 64), mode="bilinear", antialias=True, align_corners=False)
    x = (x - torch.tensor(eff.IMAGENET_MEAN)[:, None, None]) / torch.tensor(eff.IMAGENET_STD)[:, None, None]
    with torch.inference_mode():
        h = trunk[2][0](trunk[1](trunk[0](x)))
        ref = trunk[2][1](h)
        proj = trunk[2][1].block[-1](torch.from_numpy(res.x_tilde)[None]) + h
    assert res.u.shape == (144, 16, 16)
    np.testing.assert_allclose(proj.numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)


def test_seeded_trunk_is_reproducible_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b = eff.seeded_trunk(11), eff.seeded_trunk(12)
    assert torch.equal(torch.random.get_rng_state(), state)
    eff.seeded_trunk.cache_clear()
    a2 = eff.seeded_trunk(11)
    wa, wa2, wb = (m[0][0].weight for m in (a, a2, b))
    assert torch.equal(wa, wa2) and not torch.equal(wa, wb)


def test_figures_are_small_plotly_figures():
    import plotly.graph_objects as go
    from engine.figures.vision import efficientnet as figs
    lab = {k: k for k in ("you", "paper", "value", "beta", "gamma", "predicted", "two", "presets", "phi", "ratio",
                          "width", "depth", "params", "macs", "budget", "skip", "input", "channel", "z", "s",
                          "before", "after", "counted", "effnet", "others", "acc")}
    prof = {n: eff.profile(*c) for n, c in eff.PRESETS.items() if n in ("B0", "B1", "B2")}
    se = eff.se_on_image(np.full((40, 40, 3), 128, np.uint8), eff.seeded_trunk(0), 2, 0, size=112)
    out = [figs.plot_constraint(1.2, 1.1, 1.15, lab),
           figs.plot_flops_growth(1.2, 1.1, 1.15, 1.0, 1.8, {"B1": 1.8, "B2": 2.6}, lab),
           figs.plot_multipliers((1.1, 1.2, 258), lab),
           figs.plot_single_dimension({"a": (1, 2), "b": (3, 4)}, 2.0, 2, lab),
           figs.plot_mbconv(eff.mbconv_anatomy(6, 3, 1, 24, 24, 56, 56), lab),
           figs.plot_se_weights(se, lab), figs.plot_se_maps(se, lab),
           figs.plot_accuracy_vs_params({n: p.params for n, p in prof.items()}, lab)]
    for fig in out:
        assert isinstance(fig, go.Figure)
        assert len(fig.to_json()) < 2_000_000


def _png(h: int, w: int) -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_page_counts_a_preset_and_runs_on_an_upload():
    at = run_page(PAGE)
    assert_ok(at)
    at.slider(key="efficientnet.alpha").set_value(1.2)
    at.slider(key="efficientnet.beta").set_value(1.1)
    at.slider(key="efficientnet.gamma").set_value(1.15)
    at.slider(key="efficientnet.phi").set_value(0.0).run()
    assert_ok(at)
    params = next(m for m in at.metric if m.value == "5.29 M")         # B0: 5,288,548 parameters
    assert params.help == "5,288,548"
    at.toggle(key="efficientnet.verify").set_value(True).run()         # the whole network under FlopCounterMode
    assert any("5,288,548 parameters, 385,814,752 multiply–adds — the same" in c.value for c in at.caption)
    at.radio(key="efficientnet.which").set_value("repeat").run()      # stage 3 of B0: 2 blocks, skip drawn
    assert_ok(at)
    at.selectbox(key="efficientnet.stage").set_value(1).run()         # stage 1 of B0 has a single block
    assert_ok(at)
    assert any("single block" in c.value for c in at.caption)
    at.radio(key="efficientnet.source").set_value("upload").run()
    assert_ok(at)
    at.file_uploader(key="efficientnet.file").upload("x.png", _png(50, 70), "image/png").run()
    assert_ok(at)
    assert any("144" in c.value for c in at.caption)


def test_page_in_japanese_and_bad_upload():
    at = run_page(PAGE, lang="ja")
    assert_ok(at)
    at.radio(key="efficientnet.source").set_value("upload").run()
    at.file_uploader(key="efficientnet.file").upload("x.png", b"not an image", "image/png").run()
    assert_ok(at)
    assert at.error
