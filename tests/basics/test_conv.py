"""Convolution arithmetic: every engine function against torch (conv2d, conv_transpose2d, unfold, max/avg_pool2d,
nn.Conv2d parameter counts, autograd for receptive fields) or a brute force; the page in both languages, with an
uploaded image and a broken one."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import box_png
import torch
import torch.nn.functional as F
from torch import nn

from engine.basics import conv as C

PAGE = "pages/basics/conv.py"


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


# ------------------------------------------------------------------------------------------- output sizes
def test_output_size_equals_conv2d_over_a_grid():
    """The formula against actually running conv2d: every n ≤ 12, k ≤ 5, p ≤ 3, s ≤ 4, d ≤ 3."""
    for n, k, p, s, d in itertools.product(range(1, 13), range(1, 6), range(4), range(1, 5), range(1, 4)):
        ours = C.output_size(n, k, p, s, d)
        x, w = torch.zeros(1, 1, n, n + 1), torch.zeros(1, 1, k, k)
        if ours < 1:
            with pytest.raises(RuntimeError):
                F.conv2d(x, w, stride=s, padding=p, dilation=d)
            continue
        out = F.conv2d(x, w, stride=s, padding=p, dilation=d)
        assert out.shape[2:] == (ours, C.output_size(n + 1, k, p, s, d)), (n, k, p, s, d)


@pytest.mark.parametrize("n,k,p,s,d", [(7, 3, 0, 2, 1), (8, 3, 1, 2, 1), (10, 3, 0, 3, 2), (5, 2, 2, 4, 1),
                                       (32, 7, 3, 2, 1), (6, 1, 0, 4, 1)])
def test_the_floor_drops_exactly_the_pixels_no_window_reaches(n, k, p, s, d):
    steps = C.output_size_steps(n, k, p, s, d)
    covered = np.zeros(n + 2 * p, bool)
    for i in range(steps.out):                          # brute force: mark every tap of every window
        covered[s * i + d * np.arange(k)] = True
    last = np.flatnonzero(np.arange(n + 2 * p) <= s * (steps.out - 1) + d * (k - 1))[-1]
    assert n + 2 * p - 1 - last == steps.dropped
    assert steps.span == n + 2 * p - steps.k_eff and steps.exact == pytest.approx(steps.span / s + 1)
    assert steps.out == np.floor(steps.exact) and covered[:last + 1].any() and not covered[last + 1:].any()


def test_transposed_output_size_equals_conv_transpose2d_and_inverts_the_convolution():
    for n, k, p, s, d in itertools.product(range(1, 7), range(1, 5), range(3), range(1, 4), range(1, 3)):
        for op in range(s if s > 1 else 1):
            if op >= d and op >= s:
                continue
            ours = C.transposed_output_size(n, k, p, s, d, op)
            if ours < 1:
                continue
            out = F.conv_transpose2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p,
                                     output_padding=op, dilation=d)
            assert out.shape[-1] == ours, (n, k, p, s, d, op)
            assert C.output_size(ours, k, p, s, d) == n                 # the convolution maps it back


# ------------------------------------------------------------------------------------------ convolution
CASES = [  # (C_in, C_out, H, W, k, p, s, d, groups)
    (1, 1, 9, 11, 3, 1, 1, 1, 1), (3, 3, 13, 8, 3, 0, 2, 2, 3), (4, 6, 10, 10, 5, 2, 3, 1, 2),
    (2, 4, 7, 12, 2, 1, 2, 3, 1), (6, 6, 9, 9, 4, 3, 1, 2, 6), (3, 6, 16, 5, 1, 0, 4, 1, 3)]


@pytest.mark.parametrize("c_in,c_out,h,w,k,p,s,d,g", CASES)
def test_naive_and_im2col_convolution_equal_conv2d(c_in, c_out, h, w, k, p, s, d, g):
    rng = np.random.default_rng(c_in * 100 + k)
    x, wt, b = rng.normal(size=(c_in, h, w)), rng.normal(size=(c_out, c_in // g, k, k)), rng.normal(size=c_out)
    ref = F.conv2d(_t(x)[None], _t(wt), _t(b), s, p, d, g)[0].numpy()
    np.testing.assert_allclose(C.conv2d_naive(x, wt, b, s, p, d, g), ref, atol=1e-12)
    np.testing.assert_allclose(C.conv2d_im2col(x, wt, s, p, d, g), ref - b[:, None, None], atol=1e-12)


@pytest.mark.parametrize("c,h,w,k,p,s,d", [(1, 6, 7, 3, 1, 1, 1), (3, 9, 8, 2, 0, 2, 3), (2, 11, 11, 4, 2, 3, 2)])
def test_im2col_equals_unfold(c, h, w, k, p, s, d):
    x = np.random.default_rng(0).normal(size=(c, h, w))
    ref = F.unfold(_t(x)[None], k, dilation=d, padding=p, stride=s)[0].numpy()
    np.testing.assert_array_equal(C.im2col(x, k, s, p, d), ref)


def test_naive_convolution_refuses_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError):
        C.conv2d_naive(np.zeros((1, 4, 4)), np.zeros((1, 1, 3, 3)), dilation=3)


@pytest.mark.parametrize("name", C.KERNELS)
@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_weights_have_torchs_layout_and_groups_see_their_own_channels(name, k):
    w = C.make_weight(name, k, 3, 3, 3)
    assert w.shape == (3, 1, k, k)
    layer = nn.Conv2d(3, 3, k, groups=3, bias=False)
    assert layer.weight.shape == w.shape
    w1 = C.make_weight(name, k, 3, 3, 1)
    assert w1.shape == (3, 3, k, k)
    np.testing.assert_allclose(w1.sum(axis=1), w[:, 0] * 1.0, atol=1e-12)   # the mixing weights sum to 1
    with pytest.raises(ValueError):
        C.make_weight(name, k, 3, 3, 2)


def test_convolve_agrees_three_ways_and_window_sums_to_the_output():
    rng = np.random.default_rng(1)
    x = rng.random((3, 12, 15))
    conv = C.convolve(x, "random", 3, 2, 2, 2, 3)
    assert conv.torch_diff < 1e-12 and conv.im2col_diff < 1e-12
    assert conv.out.shape == (3, conv.rows.out, conv.cols.out)
    assert conv.x_col.shape == (3, 9, conv.rows.out * conv.cols.out)
    for i, j, o in [(0, 0, 0), (conv.rows.out - 1, conv.cols.out - 1, 2), (2, 3, 1)]:
        win = C.window(conv, i, j, o)
        assert win.value == pytest.approx(conv.out[o, i, j], abs=1e-12)
        assert list(win.channels) == [o]                           # depthwise: its own channel only
        # brute force: taps outside the unpadded image
        rows_out = (win.rows < 2) | (win.rows >= 14)
        cols_out = (win.cols < 2) | (win.cols >= 17)
        assert win.in_padding == int((rows_out[:, None] | cols_out[None, :]).sum())
        np.testing.assert_allclose(conv.x_col[o][:, i * conv.cols.out + j], win.patch.ravel())


def test_prepare_image_downscales_to_the_longer_side_and_takes_luma():
    rgb = np.zeros((30, 60, 3), np.uint8)
    rgb[..., 0] = 255
    x = C.prepare_image(rgb, 20, gray=False)
    assert x.shape == (3, 10, 20) and np.allclose(x[0], 1) and np.allclose(x[1:], 0)
    g = C.prepare_image(rgb, 20, gray=True)
    assert g.shape == (1, 10, 20) and np.allclose(g, 0.299)


# ------------------------------------------------------------------------------ transposed convolution
@pytest.mark.parametrize("c_in,c_out,n,k,p,s,d", [(1, 1, 4, 3, 0, 2, 1), (2, 3, 5, 4, 1, 3, 1),
                                                   (3, 2, 3, 3, 2, 2, 2), (1, 2, 6, 2, 0, 1, 3)])
def test_transposed_convolution_equals_conv_transpose2d(c_in, c_out, n, k, p, s, d):
    rng = np.random.default_rng(n + k)
    x, w = rng.normal(size=(c_in, n, n + 1)), rng.normal(size=(c_in, c_out, k, k))
    ref = F.conv_transpose2d(_t(x)[None], _t(w), stride=s, padding=p, dilation=d)[0].numpy()
    np.testing.assert_allclose(C.conv_transpose2d_naive(x, w, s, p, d), ref, atol=1e-12)


@pytest.mark.parametrize("n,k,s", [(5, 3, 2), (5, 4, 2), (6, 3, 3), (5, 5, 3), (4, 1, 2)])
def test_overlap_counts_and_the_checkerboard(n, k, s):
    counts = C.overlap_counts(n, k, s)
    ref = F.conv_transpose2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=s)[0, 0].numpy()
    np.testing.assert_array_equal(counts, ref)
    inner = ref[k:-k, k:-k]
    # away from the borders the counts are even exactly when s divides k (Odena et al. 2016)
    assert (inner.min() == inner.max()) == (k % s == 0)
    board = C.checkerboard(n, k, s)
    assert (board.lo, board.hi, board.even) == (inner.min(), inner.max(), k % s == 0)


# ------------------------------------------------------------------------------------------------- pooling
@pytest.mark.parametrize("k,s", [(2, None), (3, None), (3, 2), (4, 4)])
def test_pooling_equals_torch(k, s):
    x = np.random.default_rng(k).random((2, 13, 10))
    np.testing.assert_allclose(C.pool2d(x, k, s, "max"), F.max_pool2d(_t(x)[None], k, s or k)[0].numpy())
    np.testing.assert_allclose(C.pool2d(x, k, s, "avg"), F.avg_pool2d(_t(x)[None], k, s or k)[0].numpy(),
                               atol=1e-12)


# ------------------------------------------------------------------------------------------ receptive field
STACKS = [[(3, 1, 1)] * 4, [(3, 2, 1)] * 3, [(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)], [(2, 1, 1), (2, 1, 4)],
          [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1)], [(5, 1, 3), (1, 2, 1), (3, 2, 2)], [(1, 1, 1)]]


@pytest.mark.parametrize("stack", STACKS, ids=lambda st: "-".join(f"{k}{s}{d}" for k, s, d in st))
def test_receptive_field_equals_autograd_support(stack):
    """The gradient of output unit 0 with respect to the input of a stack of conv1d with positive weights is non-zero
    exactly on the pixels that reach it; the receptive field is their span."""
    rf = C.receptive_field(stack)
    n = rf.r[-1] + 3 * rf.jump[-1] + 5
    x = torch.zeros(1, 1, n, requires_grad=True)
    y = x
    for k, s, d in stack:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, dilation=d)
    (g,) = torch.autograd.grad(y[0, 0, 0], x)
    support = np.flatnonzero(g[0, 0].numpy())
    assert support.max() - support.min() + 1 == rf.r[-1]
    np.testing.assert_array_equal(support, C.touched(stack)[0])
    assert rf.jump[-1] == int(np.prod([s for _, s, _ in stack]))


# -------------------------------------------------------------------------------------------------- costs
@pytest.mark.parametrize("c_in,c_out,k,g,bias", [(3, 64, 3, 1, True), (64, 128, 5, 1, False), (32, 32, 3, 32, True),
                                                 (16, 48, 1, 4, True)])
def test_parameter_and_mac_counts_equal_torch(c_in, c_out, k, g, bias):
    layer = nn.Conv2d(c_in, c_out, k, groups=g, bias=bias, padding=k // 2)
    x = torch.zeros(1, c_in, 9, 7)
    with torch.no_grad():
        out = layer(x)
    cost = C.conv_cost(c_in, c_out, k, out.shape[2], out.shape[3], g, bias)
    assert cost.params == sum(p.numel() for p in layer.parameters())
    # brute force: every output value takes (C_in/g)·k² multiply–adds
    assert cost.macs == out.numel() * (c_in // g) * k * k


@pytest.mark.parametrize("c_in,c_out,k,hw", [(32, 64, 3, 56), (3, 16, 5, 7), (512, 512, 3, 14)])
def test_separable_counts_equal_a_torch_mobilenet_block(c_in, c_out, k, hw):
    dw, pw = nn.Conv2d(c_in, c_in, k, groups=c_in), nn.Conv2d(c_in, c_out, 1)
    std = nn.Conv2d(c_in, c_out, k)
    sep = C.separable_cost(c_in, c_out, k, hw, hw)
    count = lambda m: sum(p.numel() for p in m.parameters())              # noqa: E731
    assert (sep.standard.params, sep.depthwise.params, sep.pointwise.params) == (count(std), count(dw), count(pw))
    assert sep.ratio == pytest.approx(1 / c_out + 1 / k ** 2)
    assert sep.closed_form == pytest.approx(sep.ratio)


# -------------------------------------------------------------------------------------------------- page


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_upload_rgb_depthwise_and_a_kernel_that_does_not_fit(lang):
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    assert len(at.get("plotly_chart")) == 6           # grayscale: the output map is drawn once, beside the input
    at.radio(key="conv.source").set_value("upload").run()
    at.file_uploader(key="conv.file").upload("box.png", box_png(), "image/png").run()
    assert_ok(at)
    at.radio(key="conv.colour").set_value("rgb").run()
    at.radio(key="conv.groups").set_value("depthwise").run()
    at.slider(key="conv.s").set_value(3).run()
    assert_ok(at)
    assert not at.warning and len(at.get("plotly_chart")) == 7
    # upload 120×90 at 32 px → 24×32; k = 3, p = 1, s = 3: o_W = ⌊(32 + 2 − 3)/3⌋ + 1 = 11, one pixel dropped
    captions = " ".join(c.value for c in at.caption)
    assert "24×32" in captions and "8×11" in captions
    pos = next(s for s in at.slider if s.key.startswith("conv.pos."))
    assert pos.key == "conv.pos.8x11"
    pos.set_value(0).run()
    at.radio(key="conv.o").set_value(2).run()
    assert_ok(at)
    for key, value in (("conv.k", 7), ("conv.d", 4), ("conv.p", 0)):
        at.slider(key=key).set_value(value).run()
    assert_ok(at)
    assert at.warning and len(at.get("plotly_chart")) == 4      # sliding, outputs and im2col skipped, said why


def test_page_refuses_a_broken_upload():
    from conftest import run_page

    at = run_page(PAGE)
    at.radio(key="conv.source").set_value("upload").run()
    at.file_uploader(key="conv.file").upload("x.png", b"not an image", "image/png").run()
    assert not at.exception and at.error and not at.get("plotly_chart")


# ---------------------------------------------------------------------------- practice items (engine/practice)
def test_practice_compute_answers_equal_torch():
    """Every compute item over 200 seeds, its answer recomputed from item.params by running torch (shapes on the meta
    device, parameter counts of real modules, MACs by a per-output brute force), never by the generator's code."""
    from engine.common import practice as P

    meta = torch.device("meta")
    for seed in range(200):
        q = P.make("conv", "output_size", seed).params
        out = F.conv2d(torch.zeros(1, 1, 1, q["n"], device=meta), torch.zeros(1, 1, 1, q["k"], device=meta),
                       stride=(1, q["s"]), padding=(0, q["p"]), dilation=(1, q["d"]))
        assert P.make("conv", "output_size", seed).answer == out.shape[-1]

        item = P.make("conv", "param_count", seed)
        q = item.params
        layer = nn.Conv2d(q["c_in"], q["c_out"], q["k"], groups=q["groups"], device=meta)
        assert item.answer == sum(p.numel() for p in layer.parameters())
        assert item.choices[item.correct_index].label["en"] == f"{int(item.answer):,}"

        item = P.make("conv", "separable_macs", seed)
        q = item.params
        block = nn.Sequential(nn.Conv2d(q["c_in"], q["c_in"], q["k"], padding=q["k"] // 2, groups=q["c_in"],
                                        bias=False), nn.Conv2d(q["c_in"], q["c_out"], 1, bias=False)).to(meta)
        x, macs = torch.zeros(1, q["c_in"], q["hw"], q["hw"], device=meta), 0
        for m in block:
            x = m(x)
            macs += x.numel() * (m.in_channels // m.groups) * m.kernel_size[0] ** 2
        assert x.shape[-1] == q["hw"] and item.answer == macs

        item = P.make("conv", "transposed_size", seed)
        q = item.params
        out = F.conv_transpose2d(torch.zeros(1, 1, q["n"], q["n"], device=meta),
                                 torch.zeros(1, 1, q["k"], q["k"], device=meta), stride=q["s"], padding=q["p"],
                                 output_padding=q["output_padding"])
        assert item.answer == out.shape[-1]


def test_practice_receptive_field_equals_autograd_support():
    from engine.common import practice as P

    for seed in range(0, 200, 4):
        item = P.make("conv", "receptive_field", seed)
        stack = item.params["layers"]
        n = int(item.answer) + 4 * int(np.prod([s for _, s, _ in stack])) + 4
        x = torch.zeros(1, 1, n, requires_grad=True)
        y = x
        for k, s, d in stack:
            y = F.conv1d(y, torch.ones(1, 1, k), stride=s, dilation=d)
        support = np.flatnonzero(torch.autograd.grad(y[0, 0, 0], x)[0][0, 0].numpy())
        assert support.max() - support.min() + 1 == item.answer


def test_practice_im2col_expected_equals_unfold():
    from engine.common import practice as P

    for seed in range(200):
        item = P.make("conv", "im2col_implementation", seed)
        x, k, s, p = item.exec.args
        ref = F.unfold(_t(x)[None], k, padding=p, stride=s)[0].numpy()
        np.testing.assert_array_equal(item.exec.expected, ref)
        ran = [P.matches(P.execute(item.snippet(i), item.exec), item.exec) for i in range(len(item.choices))]
        assert ran == [c.correct for c in item.choices]


def test_practice_statements_hold():
    """The statements the item calls true hold in torch; the false ones fail."""
    # sep_ratio / sep_same_params
    std, dw, pw = nn.Conv2d(32, 64, 3, bias=False), nn.Conv2d(32, 32, 3, groups=32, bias=False), nn.Conv2d(32, 64, 1,
                                                                                                        bias=False)
    count = lambda *ms: sum(p.numel() for m in ms for p in m.parameters())      # noqa: E731
    assert count(dw, pw) / count(std) == pytest.approx(1 / 64 + 1 / 9) and count(dw, pw) < count(std)
    # depthwise_groups: each filter of a groups = C_in convolution has one input channel
    assert dw.weight.shape[1] == 1
    # dilation_rf / dilation_params: a dilated 3×3 has 9 weights and spans 5
    dil = nn.Conv2d(1, 1, 3, dilation=2, bias=False)
    assert dil.weight.numel() == 9 and dil(torch.zeros(1, 1, 5, 5)).shape[-1] == 1
    # pool_no_params / pool_learns
    assert count(nn.MaxPool2d(2), nn.AvgPool2d(2)) == 0
    # tconv_shape and tconv_inverse: the shapes go back, the values do not
    x = torch.randn(1, 1, 9, 9, generator=torch.Generator().manual_seed(0))
    w = torch.randn(1, 1, 3, 3, generator=torch.Generator().manual_seed(1))
    y = F.conv2d(x, w, stride=2, padding=1)
    back = F.conv_transpose2d(y, w, stride=2, padding=1)
    assert back.shape == x.shape and not torch.allclose(back, x, atol=0.1)
    # checkerboard / checkerboard_even: k = 3, s = 2 gives uneven counts
    counts = F.conv_transpose2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3), stride=2)[0, 0]
    assert counts[3:-3, 3:-3].unique().numel() > 1
    # im2col_one_product / im2col_less_memory: the product equals conv2d; the matrix is bigger than the input
    xx, ww = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)
    cols = F.unfold(xx, 3)
    assert torch.allclose((ww.reshape(4, -1) @ cols).reshape(1, 4, 6, 6), F.conv2d(xx, ww), atol=1e-5)
    assert cols.numel() > xx.numel()
    # cross_correlation: conv2d does not flip the kernel
    delta = torch.zeros(1, 1, 3, 3)
    delta[0, 0, 0, 0] = 1
    ramp = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert torch.equal(F.conv2d(ramp, delta), ramp[..., :2, :2])
    # stride_rf_no is false: a stride before a layer widens that layer's receptive field
    assert C.receptive_field([(3, 2, 1), (3, 1, 1)]).r[-1] > C.receptive_field([(3, 1, 1), (3, 1, 1)]).r[-1]
    # padding_params is false
    assert count(nn.Conv2d(3, 4, 3, padding=2)) == count(nn.Conv2d(3, 4, 3))
