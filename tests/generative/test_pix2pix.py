"""Pix2Pix & CycleGAN: losses against torch's reference losses and closed forms, the U-Net skip switch,
determinism of both training loops, and the page."""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from conftest import assert_ok, run_page
from engine.generative import pix2pix as pp


def test_pix2pix_losses_equal_torch_bce_and_l1():
    gen = torch.Generator().manual_seed(0)
    d_fake = torch.randn(4, 1, 2, 2, generator=gen)
    fake, target = torch.randn(4, 1, 8, 8, generator=gen), torch.randn(4, 1, 8, 8, generator=gen)
    total, adv, l1 = pp.pix2pix_losses(d_fake, fake, target, lambda_l1=100.0)
    bce = nn.functional.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
    assert float(adv) == pytest.approx(float(bce), rel=1e-6)
    assert float(l1) == pytest.approx(float(nn.functional.l1_loss(fake, target)), rel=1e-6)
    assert float(total) == pytest.approx(float(bce + 100 * nn.functional.l1_loss(fake, target)), rel=1e-6)


def test_lsgan_loss_equals_mse():
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(10, 1, generator=gen), torch.randn(10, 1, generator=gen)
    expected = nn.functional.mse_loss(a, torch.ones_like(a)) + nn.functional.mse_loss(b, torch.zeros_like(b))
    assert float(pp.lsgan_d_loss(a, b)) == pytest.approx(float(expected), rel=1e-6)


class Shift(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.t = torch.tensor(t)

    def forward(self, x):
        return x + self.t


def test_cycle_and_identity_losses_closed_forms():
    x, y = torch.randn(20, 2), torch.randn(20, 2)
    cyc, ident = pp.cycle_losses(x, y, nn.Identity(), nn.Identity())
    assert float(cyc) == 0 and float(ident) == 0
    cyc, ident = pp.cycle_losses(x, y, Shift([1.0, -2.0]), Shift([-1.0, 2.0]))     # F = G⁻¹: perfect cycle
    assert float(cyc) == pytest.approx(0.0, abs=1e-6)
    assert float(ident) == pytest.approx(2 * 1.5)                                  # mean |t| per coordinate, twice
    cyc, _ = pp.cycle_losses(x, y, Shift([1.0, -2.0]), nn.Identity())              # no way back
    assert float(cyc) == pytest.approx(2 * 1.5)


def test_unet_skip_switch():
    gen = torch.Generator().manual_seed(2)
    on, off = pp.reinit(pp.UNet(True), gen), pp.UNet(False)
    off.load_state_dict(on.state_dict())                                           # same weights, same layers
    x = torch.randn(3, 1, 8, 8, generator=gen)
    with torch.no_grad():
        h1 = on.e1(x)
        h2 = on.e2(h1)
        u2 = on.d3(on.e3(h2))
        manual_on = on.d1(torch.cat([on.d2(torch.cat([u2, h2], 1)), h1], 1))
        manual_off = on.d1(torch.cat([on.d2(torch.cat([u2, 0 * h2], 1)), 0 * h1], 1))
        torch.testing.assert_close(on(x), manual_on)
        torch.testing.assert_close(off(x), manual_off)
        assert on(x).shape == (3, 1, 8, 8) and not torch.allclose(on(x), off(x))


def test_make_pairs():
    x = np.random.default_rng(0).uniform(-1, 1, (5, 1, 8, 8)).astype(np.float32)
    a, b = pp.make_pairs("invert", x, np.random.default_rng(0))
    np.testing.assert_array_equal(b, -x)
    a, b = pp.make_pairs("denoise", x, np.random.default_rng(0))
    np.testing.assert_array_equal(b, x)
    assert np.abs(a).max() <= 1 and not np.array_equal(a, x)


@pytest.mark.parametrize("skip", [True, False])
def test_pix2pix_training_is_deterministic(skip):
    x = np.random.default_rng(0).uniform(-1, 1, (40, 1, 8, 8)).astype(np.float32)
    cfg = pp.Pix2PixConfig(skip=skip, batch_size=4, snapshot_every=2, n_show=3)
    a = list(itertools.islice(pp.train_pix2pix(cfg, 1, x), 3))
    b = list(itertools.islice(pp.train_pix2pix(cfg, 1, x), 3))
    np.testing.assert_array_equal(a[-1].outputs, b[-1].outputs)
    assert not np.array_equal(a[0].outputs, a[-1].outputs)
    np.testing.assert_array_equal(a[-1].targets, -a[-1].inputs)
    assert a[-1].hist_step.tolist() == [0, 2, 4] and len(a[-1].hist_test_l1) == 3
    assert a[0].hist_test_l1[0] == pytest.approx(np.abs(a[0].outputs - a[0].targets).mean(), rel=0.5)


def test_cyclegan_training_is_deterministic_and_reports_its_error():
    cfg = pp.CycleConfig(hidden=8, batch_size=16, snapshot_every=2, n_show=30)
    a = list(itertools.islice(pp.train_cyclegan(cfg, 0), 3))
    b = list(itertools.islice(pp.train_cyclegan(cfg, 0), 3))
    np.testing.assert_array_equal(a[-1].g_x, b[-1].g_x)
    s = a[-1]
    assert s.cycle_error == pytest.approx(np.linalg.norm(s.f_g_x - s.x, axis=1).mean(), rel=1e-5)
    assert 1 <= s.clusters_hit <= 3 and len(s.hist_cyc) == 2
    c = next(itertools.islice(pp.train_cyclegan(replace(cfg, lambda_cyc=0.0), 0), 2, None))
    assert not np.array_equal(c.g_x, s.g_x)                                     # the weight reaches the update


def test_page_steps_and_switches_task():
    at = run_page("pages/generative/pix2pix.py", lang="ja")
    assert_ok(at)
    at.button(key="pix2pix.run.step").click().run()
    assert_ok(at)
    assert [m.value for m in at.metric if m.label == "ステップ"] == ["20", "20"]
    at.button(key="pix2pix.run.train").click().run()      # the live fragment draws, then trains for its budget
    at.run()
    assert_ok(at)
    assert min(int(m.value.replace(",", "")) for m in at.metric if m.label == "ステップ") > 20
    at.button(key="pix2pix.run.pause").click().run()
    at.radio(key="pix2pix.task").set_value("denoise").run()
    assert_ok(at)
    assert [m.value for m in at.metric if m.label == "ステップ"] == ["0", "0"]


def test_curves_at_step_zero_draw_dots_and_say_when_the_adversarial_term_starts():
    """Step 0 has one held-out L1 point and no adversarial term yet: a dot per model, and a note in that panel."""
    from engine.figures.generative.pix2pix import plot_pix2pix_curves

    cfg = pp.Pix2PixConfig()
    on, off = next(pp.train_pix2pix(cfg, 0)), next(pp.train_pix2pix(replace(cfg, skip=False), 0))
    fig = plot_pix2pix_curves(on, off, labels={"adv_pending": "soon"})
    assert all(tr.mode == "lines+markers" for tr in fig.data)
    assert [a.text for a in fig.layout.annotations if a.text == "soon"] == ["soon"]
    later = next(itertools.islice(pp.train_pix2pix(cfg, 0), 2, None))
    fig = plot_pix2pix_curves(later, later, labels={"adv_pending": "soon"})
    assert not [a for a in fig.layout.annotations if a.text == "soon"]


# ---- practice items (issue #24): answers recomputed independently ------------------------------------------
def test_practice_loss_values_equal_torch_and_numpy():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("pix2pix", "p2p_loss_value", seed)
        p, y, g, lam = (it.params[k] for k in ("p", "y", "g", "lam"))
        pt = torch.tensor(p, dtype=torch.float64)
        want = float(nn.functional.binary_cross_entropy(pt, torch.ones_like(pt))) + lam * float(
            nn.functional.l1_loss(torch.tensor(g, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))
        assert abs(it.answer - want) < 1e-9 and it.choices[it.correct_index].label["en"] == f"{want:.3f}"
        it = P.make("pix2pix", "cycle_loss_value", seed)
        q = it.params
        G = lambda t: q["a"] * t + q["b"]                                    # noqa: E731
        F = lambda t: q["c"] * t + q["d"]                                    # noqa: E731
        x, y = np.array(q["x"]), np.array(q["y"])
        if q["which"] == "cyc":
            want = np.mean([abs(F(G(v)) - v) for v in x]) + np.mean([abs(G(F(v)) - v) for v in y])
        else:
            want = np.mean([abs(G(v) - v) for v in y]) + np.mean([abs(F(v) - v) for v in x])
        assert abs(it.answer - want) < 1e-12 and it.choices[it.correct_index].label["en"] == f"{want:.3f}"


def test_practice_unet_shapes_equal_a_traced_forward():
    """The shape entering d1 / d2, captured by a forward pre-hook on a meta-device pass of the U-Net."""
    from engine.common import practice as P
    for seed in range(0, 200, 10):                       # a meta forward takes ~0.2 s: every 10th seed, both stages
        it = P.make("pix2pix", "unet_shapes", seed)
        with torch.device("meta"):
            net = pp.UNet(skip=True, C=it.params["C"])
        seen = {}
        getattr(net, it.params["stage"]).register_forward_pre_hook(lambda m, a: seen.update(shape=a[0].shape))
        net(torch.empty(1, 1, 8, 8, device="meta"))
        want = tuple(seen["shape"][1:])
        assert it.answer == want[0] and it.choices[it.correct_index].label["en"] == str(want)


def test_practice_cycle_blank_expected_by_numpy():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("pix2pix", "cycle_blank", seed)
        x, y = np.array(it.params["x"]), np.array(it.params["y"])
        (Wg, bg), (Wf, bf) = ((np.array(w), np.array(b)) for w, b in (it.params["G"], it.params["F"]))
        G = lambda t: t @ Wg.T + bg                                          # noqa: E731
        F = lambda t: t @ Wf.T + bf                                          # noqa: E731
        want = np.abs(F(G(x)) - x).mean() + np.abs(G(F(y)) - y).mean()
        assert it.exec.expected == pytest.approx(want, rel=1e-5)
