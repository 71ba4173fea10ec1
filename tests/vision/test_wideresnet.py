"""WideResNet chapter: counts against the paper's parameter numbers, a closed-form parameter formula, a brute-force
MAC count, whole-network counting, and receptive fields against autograd's input-gradient support."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from conftest import assert_ok, run_page
from engine.vision import wideresnet as wrn

PAGE = "pages/vision/wideresnet.py"


def test_wrn_28_10_has_the_papers_36_5_million_parameters():
    params, macs = wrn.count_wrn(28, 10)
    assert abs(params - 36.5e6) < 0.05e6
    assert macs == pytest.approx(5.24e9, rel=0.01)


@pytest.mark.parametrize("name", list(wrn.PAPER_RESULTS))
def test_reported_parameter_counts(name):
    depth, k, reported, _, _ = wrn.PAPER_RESULTS[name]
    params = wrn.count_wrn(depth, k)[0] if k else wrn.count_preact(depth)[0]
    assert params / 1e6 == pytest.approx(reported, rel=0.02)


@pytest.mark.parametrize("depth,k", [(10, 1), (16, 4), (22, 8), (40, 2)])
def test_params_equal_closed_form(depth, k):
    # group 2 has stride 2, so its first block always projects; groups 1 projects only when 16k != 16
    n = (depth - 4) // 6
    expected = 3 * 9 * 16
    c = 16
    for g, w in enumerate((16 * k, 32 * k, 64 * k)):
        for b in range(n):
            cin = c if b == 0 else w
            proj = b == 0 and (g > 0 or cin != w)
            expected += 9 * cin * w + 9 * w * w + 2 * cin + 2 * w + (cin * w if proj else 0)
        c = w
    expected += 2 * c + c * 10 + 10
    assert wrn.count_wrn(depth, k)[0] == expected


@pytest.mark.parametrize("arch,depth,k", [("wrn", 16, 3), ("wrn", 28, 10), ("preact", 29, 1), ("preact", 164, 1)])
def test_cached_block_count_equals_whole_network_count(arch, depth, k):
    assert (wrn.profile(arch, depth, k).params, wrn.profile(arch, depth, k).macs) == wrn.count_full(arch, depth, k)


@pytest.mark.parametrize("arch,depth,k", [("wrn", 16, 2), ("preact", 20, 1)])
def test_macs_equal_brute_force_sum_over_layers(arch, depth, k):
    """Independent of FlopCounterMode: H_out·W_out·C_out·C_in·k² per conv, in·out per linear."""
    model = wrn.build(arch, depth, k, device="cpu").eval()
    total = 0

    def hook(m, inp, out):
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.shape[2] * out.shape[3] * m.out_channels * m.in_channels * m.kernel_size[0] ** 2
        else:
            total += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.inference_mode():
        out = model(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    assert out.shape == (1, 10)
    assert wrn.profile(arch, depth, k).macs == total
    assert wrn.profile(arch, depth, k).params == sum(p.numel() for p in model.parameters())


def test_group_output_shapes_of_wrn_28_10():
    prof = wrn.profile("wrn", 28, 10)
    assert [g.out_shape for g in prof.groups] == [(16, 32, 32), (160, 32, 32), (320, 16, 16), (640, 8, 8), (10,)]
    assert [g.blocks for g in prof.groups[1:4]] == [4, 4, 4]


def test_receptive_field_recursion_by_hand():
    assert wrn.receptive_field([(3, 1), (3, 2), (3, 1)]) == [3, 5, 9]
    assert wrn.receptive_field([(7, 2), (3, 2), (3, 1)]) == [7, 11, 19]


@pytest.mark.parametrize("arch,depth,k", [("wrn", 10, 1), ("wrn", 16, 1), ("preact", 11, 1)])
def test_receptive_field_equals_support_of_input_gradient(arch, depth, k):
    """Brute force: with positive weights, identity BN and a positive input every path is active, so the input
    pixels with non-zero gradient of one output of the last group are exactly the receptive field."""
    model = wrn.build(arch, depth, k, device="cpu").eval()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.1)
    trunk = nn.Sequential(*list(model.children())[:-1])
    side = 96
    x = torch.ones(1, 3, side, side, requires_grad=True)
    y = trunk(x)                                            # (1, C, side/4, side/4)
    c = y.shape[-1] // 2
    (grad,) = torch.autograd.grad(y[0, 0, c, c], x)
    rows = np.nonzero(grad[0].abs().sum(0).sum(1).numpy())[0]
    assert rows.max() - rows.min() + 1 == wrn.profile(arch, depth, k).receptive_field


def test_invalid_depths_are_refused_and_matching_depth_is_close():
    with pytest.raises(ValueError):
        wrn.count_wrn(27, 10)
    with pytest.raises(ValueError):
        wrn.count_preact(100)
    target = wrn.count_preact(1001)[0]
    assert wrn.preact_depth_matching(target) == 1001
    d = wrn.preact_depth_matching(wrn.count_wrn(40, 4)[0])
    assert abs(wrn.count_preact(d)[0] - wrn.count_wrn(40, 4)[0]) < wrn.count_preact(20)[0] - wrn.count_preact(11)[0]


@pytest.mark.parametrize("depth,k,thin", [(28, 10, "thin_matched"), (16, 4, "thin_164"), (10, 1, "thin_1001")])
def test_comparison_rows_are_counted_from_the_built_networks(depth, k, thin):
    rows = wrn.comparison(depth, k, thin)
    you = wrn.profile("wrn", depth, k)
    assert rows[0].name == f"WRN-{depth}-{k}" and rows[0].profile == you
    thin_depth = {"thin_matched": wrn.preact_depth_matching(you.params), "thin_164": 164, "thin_1001": 1001}[thin]
    assert rows[1].name == f"ResNet-{thin_depth}"
    names = [r.name for r in rows]
    assert len(set(names)) == len(names) and {"WRN-28-10", "ResNet-164", "ResNet-1001"} <= set(names)
    for r in rows:
        p = r.profile
        assert r.params_ratio == p.params / you.params and r.depth_ratio == p.depth / you.depth
        if p.depth <= 200:                                   # brute force on the built module
            net = wrn.build(p.arch, p.depth, p.k)
            convs = [m for name, m in net.named_modules() if isinstance(m, nn.Conv2d) and "shortcut" not in name]
            assert r.sequential_convs == len(convs)          # every non-shortcut conv lies on the longest path
            assert r.width == net[3][-1].conv2.out_channels if p.arch == "wrn" else net[3][-1].conv3.out_channels


def test_paper_results_carry_the_counted_parameters():
    rows = wrn.paper_results()
    assert [r.name for r in rows] == list(wrn.PAPER_RESULTS)
    for r in rows:
        d, k, reported, c10, c100 = wrn.PAPER_RESULTS[r.name]
        counted = wrn.count_wrn(d, k)[0] if k else wrn.count_preact(d)[0]
        assert (r.depth, r.reported_params, r.counted_params, r.cifar10_error, r.cifar100_error) == (
            d, reported, counted, c10, c100)
        assert abs(r.counted_params / 1e6 - reported) < 0.2
    assert wrn.layers_ratio() == 1001 / 28


def test_figures_are_small_plotly_figures():
    import plotly.graph_objects as go
    from engine.figures.vision import wideresnet as figs
    lab = {k: k for k in ("params", "macs", "depth", "rf", "image")}
    a, b = wrn.profile("wrn", 28, 10), wrn.profile("preact", 1001, 1)
    for fig in (figs.plot_groups(a, lab), figs.plot_compare({"a": a, "b": b}, lab),
                figs.plot_receptive_field({"a": wrn.receptive_field_curve("wrn", 28, 10),
                                           "b": wrn.receptive_field_curve("preact", 1001)}, 32, lab)):
        assert isinstance(fig, go.Figure)
        assert len(fig.to_json()) < 2_000_000


def test_page_counts_the_chosen_network_in_both_languages():
    at = run_page(PAGE)
    assert_ok(at)
    assert "36.48 M" in [m.value for m in at.metric]
    at.slider(key="wideresnet.depth").set_value(40)
    at.slider(key="wideresnet.k").set_value(4).run()
    assert_ok(at)
    assert "8.949 M" in [m.value for m in at.metric]                 # 8,949,... parameters, as counted
    at.radio(key="wideresnet.thin").set_value("thin_1001").run()
    assert_ok(at)
    table = at.dataframe[1].value                                      # the comparison table
    rows = wrn.comparison(40, 4, "thin_1001")
    assert list(table["parameters vs yours"]) == [f"×{r.params_ratio:.3g}" for r in rows]
    assert any("35.75" not in m.value and "36× fewer" in m.value for m in at.markdown)
    ja = run_page(PAGE, lang="ja")
    assert_ok(ja)
    assert any("受容野" in m.label for m in ja.metric)


# ---- practice items: answers recomputed from the numbers shown, by torch modules and the paper's formulas
def _paper_conv_weights(d: int, k: int) -> int:
    """Zagoruyko & Komodakis 2016, Table 1: conv1 [3×3, 16], groups of N = (d − 4)/6 blocks of two 3×3
    convolutions with 16k, 32k, 64k channels, a 1×1 projection where the shape changes."""
    n, total, c = (d - 4) // 6, 3 * 16 * 9, 16
    for w in (16 * k, 32 * k, 64 * k):
        total += 9 * (c * w + w * w) + (c * w if c != w else 0) + (n - 1) * 2 * 9 * w * w
        c = w
    return total


def test_practice_answers_equal_torch_and_the_paper():
    import torch
    from torch import nn

    from engine.common import practice as P
    for seed in range(200):
        it = P.make("wideresnet", "conv_params", seed)
        p = it.params
        c = 16 * 2 ** (p["group"] - 2) * p["k"]
        with torch.device("meta"):
            assert it.answer == sum(q.numel() for q in nn.Conv2d(c, c, 3, padding=1, bias=False).parameters())
        it = P.make("wideresnet", "blocks_per_group", seed)
        assert 6 * it.answer + 4 == it.params["depth"]
        it = P.make("wideresnet", "count_blank", seed)
        assert it.exec.expected == _paper_conv_weights(it.params["depth"], it.params["k"])


def test_practice_statements_hold_on_cases():
    """Widening by k: conv weights × k² (not the blocks), the receptive field unchanged; WRN-28-10 has more
    parameters than the 1001-layer ResNet it beats."""
    assert _paper_conv_weights(28, 10) - _paper_conv_weights(28, 1) > 90 * (_paper_conv_weights(28, 1) - 432)
    for d in (16, 28, 40):
        assert wrn.receptive_field_curve("wrn", d, 1) == wrn.receptive_field_curve("wrn", d, 10)
        assert wrn.profile("wrn", d, 1).groups[1].blocks == wrn.profile("wrn", d, 10).groups[1].blocks
    assert wrn.profile("wrn", 28, 10).params > 3 * wrn.profile("preact", 1001).params       # fewer_params is false
