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


def _build(strategy: str, x: float):
    """The network of a strategy at x, built independently of the engine's search."""
    if strategy == "depth":
        return eff.profile(1.0, float(x), 224)
    if strategy == "width":
        return eff.profile(float(x), 1.0, 224)
    if strategy == "resolution":
        return eff.profile(1.0, 1.0, int(x))
    d, w, r = eff.compound_scaling(eff.PAPER_ALPHA, eff.PAPER_BETA, eff.PAPER_GAMMA, float(x))
    return eff.profile(w, d, eff.scaled_resolution(r))


def _key(p) -> tuple:
    return tuple(s.layers for s in p.stages), tuple(s.channels for s in p.stages), p.resolution


_GRIDS = {"depth": lambda t: np.linspace(1.0, 2 * t, 400), "width": lambda t: np.linspace(1.0, 1.4 * t ** 0.5, 300),
          "resolution": lambda t: np.arange(224, int(224 * 1.4 * t ** 0.5)),
          "compound": lambda t: np.linspace(0.0, 2 * math.log2(t), 300)}


@pytest.mark.parametrize("target", [1.5, 2.0])
def test_budget_fit_is_closest_to_the_budget_on_a_brute_force_grid(target):
    """No setting of a fine grid (depth, width, φ′) or any whole pixel side is closer to the budget than the fit."""
    fits = eff.fit_budget(target)
    budget = target * eff.profile(1.0, 1.0, 224).macs
    assert set(fits) == set(eff.STRATEGIES)
    for name, fit in fits.items():
        assert fit.budget == budget
        built = _build(name, fit.x)
        assert (built.macs, built.params) == (fit.macs, fit.params)
        assert (fit.width_mult, fit.depth_mult, fit.resolution) == (built.width_mult, built.depth_mult,
                                                                   built.resolution)
        assert fit.deviation == pytest.approx(fit.macs / budget - 1)
        best = min(abs(_build(name, x).macs - budget) for x in _GRIDS[name](target))
        assert abs(fit.macs - budget) <= best, name
        assert abs(fit.deviation) < 0.03, name                     # rounding alone: a few percent at most


@pytest.mark.parametrize("strategy", ["depth", "resolution"])
def test_budget_search_equals_a_scan_of_every_candidate_at_a_large_budget(strategy):
    """φ = 3.5: the interpolation/halving search finds what scanning all candidates finds (cheap strategies)."""
    t = eff.budget_target(3.5)
    fit = eff.fit_budget(t, strategies=(strategy,))[strategy]
    hi = 2 * t if strategy == "depth" else 224 * 2 * t ** 0.5
    scan = min((abs(_build(strategy, x).macs - fit.budget), x) for x in eff.budget_candidates(strategy, hi))
    assert abs(fit.macs - fit.budget) == scan[0]


@pytest.mark.parametrize("strategy,hi", [("depth", 2.6), ("width", 1.5), ("compound", 1.6)])
def test_budget_candidates_reach_every_distinct_network(strategy, hi):
    """One candidate per distinct network: every network a fine grid builds is built by some candidate."""
    cand = eff.budget_candidates(strategy, hi)
    at_candidates = {_key(_build(strategy, x)) for x in cand}
    x0 = 0.0 if strategy == "compound" else 1.0
    on_grid = {_key(_build(strategy, x)) for x in np.linspace(x0, hi, 1500)}
    assert on_grid <= at_candidates
    macs = [_build(strategy, x).macs for x in cand]
    assert macs == sorted(macs)                                   # never decreasing: bisection is valid


def test_budget_at_phi_zero_is_b0_itself_and_the_target_is_two_to_the_phi():
    assert eff.budget_target(0.0) == 1.0 and eff.budget_target(3.5) == pytest.approx(2 ** 3.5)
    for fit in eff.fit_budget(1.0).values():
        assert fit.macs == eff.profile(1.0, 1.0, 224).macs and fit.deviation == 0.0


def test_compound_at_the_papers_phi_overshoots_the_budget_and_the_fit_does_not():
    """The section's point: at φ = 1 the paper's compound network is ~28 % over a 2× budget (rounding up layers)."""
    sc = eff.scaling(eff.PAPER_ALPHA, eff.PAPER_BETA, eff.PAPER_GAMMA, 1.0)
    fit = eff.fit_budget(2.0)["compound"]
    mine = eff.as_budget_fit(sc.net, fit.budget)
    assert mine.deviation > 0.2 and abs(fit.deviation) < 0.01 and fit.x < 1.0


def test_scaling_and_preset_rows_are_counted_ratios():
    sc = eff.scaling(1.2, 1.1, 1.15, 2.0)
    d, w, r = eff.compound_scaling(1.2, 1.1, 1.15, 2.0)
    base = eff.profile(1.0, 1.0, 224)
    net = eff.profile(round(w, 4), round(d, 4), eff.scaled_resolution(r))
    assert sc.net == net and sc.base == base
    assert sc.counted == net.macs / base.macs
    assert sc.constraint == pytest.approx(1.2 * 1.1 ** 2 * 1.15 ** 2)
    assert sc.predicted == pytest.approx(sc.constraint ** 2)
    rows = eff.preset_rows()
    assert [r.name for r in rows] == list(eff.PRESETS)
    for r in rows:
        p = eff.profile(*eff.PRESETS[r.name])
        assert (r.params, r.macs) == (p.params, p.macs)
        assert r.macs_ratio == p.macs / base.macs
        assert r.alpha_phi == pytest.approx(1.2 ** r.phi) and r.beta_phi == pytest.approx(1.1 ** r.phi)
        assert r.gamma_resolution == round(224 * 1.15 ** r.phi)


@pytest.mark.parametrize("k,c", [(3, 32), (5, 144), (3, 672)])
def test_depthwise_saving_equals_torch_convs(k, c):
    sv = eff.depthwise_saving(k, c)
    dw = sum(p.numel() for p in nn.Conv2d(c, c, k, groups=c, bias=False).parameters())
    full = sum(p.numel() for p in nn.Conv2d(c, c, k, bias=False).parameters())
    assert (sv.depthwise, sv.full, sv.ratio) == (dw, full, full // dw) and sv.ratio == c


def test_block_anatomy_first_repeat_and_single():
    first = eff.block_anatomy(1.0, 1.0, 224, 3, False)
    assert first.layers == eff.mbconv_anatomy(6, 5, 2, 24, 40, 56, 56) and not first.single
    rep = eff.block_anatomy(1.0, 1.0, 224, 3, True)
    assert rep.layers == eff.mbconv_anatomy(6, 5, 1, 40, 40, 28, 28) and rep.layers[-1].name == "skip +"
    one = eff.block_anatomy(1.0, 1.0, 224, 1, True)               # stage 1 of B0 has a single block
    assert one.single and one.layers == eff.block_anatomy(1.0, 1.0, 224, 1, False).layers
    assert first.saving == eff.depthwise_saving(5, 144)


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


def test_se_weights_are_those_of_the_image_given():
    """Two different images give different SE weights; the same image the same; the result carries the image."""
    import skimage.data
    trunk = eff.seeded_trunk(0)
    cat, coffee = skimage.data.chelsea(), skimage.data.coffee()
    a, b = eff.se_on_image(cat, trunk, 2, 1, size=96), eff.se_on_image(coffee, trunk, 2, 1, size=96)
    again = eff.se_on_image(cat.copy(), trunk, 2, 1, size=96)
    assert np.abs(a.s - b.s).max() > 1e-3 and np.abs(a.z - b.z).max() > 1e-4
    np.testing.assert_array_equal(a.s, again.s)
    assert a.image.shape == (96, 96, 3) and a.image.dtype == np.uint8
    flat = eff.se_on_image(np.full((30, 50, 3), (200, 10, 60), np.uint8), trunk, 1, 0, size=64)
    assert (flat.image == np.array([200, 10, 60], np.uint8)).all()   # the picture the trunk saw


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
           figs.plot_single_dimension({k: v for k, v in eff.fit_budget(2.0).items()}, lab),
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
    assert len(at.get("image")) == 1                                  # the reader's image next to its SE weights
    at.radio(key="efficientnet.source").set_value("upload").run()
    assert_ok(at)
    assert len(at.get("image")) == 0                                  # nothing uploaded yet: no image, no weights
    at.file_uploader(key="efficientnet.file").upload("x.png", _png(50, 70), "image/png").run()
    assert_ok(at)
    assert any("144" in c.value for c in at.caption)
    assert len(at.get("image")) == 1


def test_page_budget_table_shows_the_engine_fits():
    at = run_page(PAGE)
    assert_ok(at)
    table = at.dataframe[2].value                                      # stage table, presets, budget table
    fits = eff.fit_budget(2.0)                                         # φ = 1 at the defaults
    mine = eff.as_budget_fit(eff.scaling(1.2, 1.1, 1.15, 1.0).net, fits["depth"].budget)
    assert list(table["vs budget"]) == [f"{f.deviation:+.2%}" for f in (*fits.values(), mine)]
    assert list(table["multiply–adds"])[:4] == [f"{f.macs:,}" for f in fits.values()]


def test_page_in_japanese_and_bad_upload():
    at = run_page(PAGE, lang="ja")
    assert_ok(at)
    at.radio(key="efficientnet.source").set_value("upload").run()
    at.file_uploader(key="efficientnet.file").upload("x.png", b"not an image", "image/png").run()
    assert_ok(at)
    assert at.error


# ---- practice items: answers recomputed from the numbers shown, by torchvision and the paper's formulas
def test_practice_answers_equal_torchvision_and_the_paper():
    from torchvision.models.efficientnet import MBConv, _MBConvConfig
    from torchvision.ops import SqueezeExcitation

    from engine.common import practice as P
    blocks = {}
    for seed in range(200):
        it = P.make("efficientnet", "compound_value", seed)
        p = it.params
        a, b, g, phi = p["alpha"], p["beta"], p["gamma"], p["phi"]
        want = {"flops": (a * b * b * g * g) ** phi, "resolution": round(224 * g ** phi),
                "width": b ** phi, "depth": a ** phi}[p["what"]]          # Tan & Le 2019, Eq. 3 and Sec. 3.3
        assert math.isclose(it.answer, want, rel_tol=1e-12)
        it = P.make("efficientnet", "mbconv_params", seed)
        p = it.params
        key = (p["expand_ratio"], p["kernel"], p["c_in"], p["c_out"])
        if key not in blocks:
            cnf = _MBConvConfig(p["expand_ratio"], p["kernel"], 1, p["c_in"], p["c_out"], 1, MBConv)
            block = MBConv(cnf, 0.0, nn.BatchNorm2d)
            blocks[key] = sum(q.numel() for m in block.modules() if not isinstance(m, nn.BatchNorm2d)
                              for q in m.parameters(recurse=False))
        assert it.answer == blocks[key]
        it = P.make("efficientnet", "se_implementation", seed)
        p = it.params
        se = SqueezeExcitation(p["w1"].shape[1], p["w1"].shape[0], activation=nn.SiLU).double()
        with torch.no_grad():
            for name, v in (("fc1.weight", p["w1"]), ("fc1.bias", p["b1"]), ("fc2.weight", p["w2"]),
                            ("fc2.bias", p["b2"])):
                se.get_parameter(name).copy_(torch.tensor(v).reshape(se.get_parameter(name).shape))
            want = se(torch.tensor(p["u"])[None])[0].numpy()
        np.testing.assert_allclose(it.exec.expected, want, atol=1e-12)


def test_practice_statements_hold_on_cases():
    """Checkable statements: depthwise has C·k² weights, doubling width ≈ 4× the MACs, the skip only at stride 1
    with equal channels, B3's multipliers are not α³, β³."""
    from torchvision.models.efficientnet import MBConv, _MBConvConfig
    for c, k in ((16, 3), (40, 5)):
        assert sum(p.numel() for p in nn.Conv2d(c, c, k, groups=c, bias=False).parameters()) == c * k * k
    base, wide = eff.profile(1.0, 1.0, 224), eff.profile(2.0, 1.0, 224)
    assert 3.3 < wide.macs / base.macs < 4.2                                              # width_double is false
    assert MBConv(_MBConvConfig(6, 3, 1, 40, 40, 1, MBConv), 0.0, nn.BatchNorm2d).use_res_connect
    assert not MBConv(_MBConvConfig(6, 3, 2, 40, 40, 1, MBConv), 0.0, nn.BatchNorm2d).use_res_connect
    assert not MBConv(_MBConvConfig(6, 3, 1, 40, 80, 1, MBConv), 0.0, nn.BatchNorm2d).use_res_connect
    w3, d3, _ = eff.PRESETS["B3"]
    assert (w3, d3) == (1.2, 1.4) and abs(eff.PAPER_BETA ** 3 - w3) > 0.1 and abs(eff.PAPER_ALPHA ** 3 - d3) > 0.3
