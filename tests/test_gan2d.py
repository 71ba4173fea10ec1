"""WGAN vs GAN on 2-D targets: losses against torch's BCE, the gradient penalty against its closed form and
finite differences, exact sample W1 against brute force and SciPy, determinism, and the live page."""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine import gan2d

TINY = dict(hidden=8, batch_size=16, n_show=32, grid=6, snapshot_every=2)


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        w = torch.randn(2, 1, generator=gen) * 2  # (2, 1)
        real, fake = torch.randn(7, 2, generator=gen), torch.randn(7, 2, generator=gen)
        gp, norms = gan2d.gradient_penalty(lambda x: x @ w, real, fake, torch.rand(7, 1, generator=gen))
        assert float(gp) == pytest.approx((float(w.norm()) - 1) ** 2, rel=1e-6)
        np.testing.assert_allclose(norms.detach().numpy(), float(w.norm()), rtol=1e-6)


def test_gradient_penalty_norms_match_finite_differences_and_are_differentiable():
    gen = torch.Generator().manual_seed(1)
    D = gan2d.MLP([2, 8, 8, 1], gen)
    D.params = [p.detach().double().requires_grad_() for p in D.params]
    real, fake = torch.randn(5, 2, generator=gen).double(), torch.randn(5, 2, generator=gen).double()
    eps = torch.rand(5, 1, generator=gen).double()
    gp, norms = gan2d.gradient_penalty(D, real, fake, eps)
    x_hat = eps * real + (1 - eps) * fake
    h = 1e-6
    with torch.no_grad():
        fd = torch.stack([(D(x_hat + h * e) - D(x_hat - h * e))[:, 0] / (2 * h) for e in torch.eye(2).double()], 1)
    np.testing.assert_allclose(norms.detach().numpy(), fd.norm(dim=1).numpy(), rtol=1e-5)
    assert float(gp.detach()) == pytest.approx(float(((fd.norm(dim=1) - 1) ** 2).mean()), rel=1e-5)
    grads = torch.autograd.grad(gp, D.params[:-1])   # create_graph=True: the penalty trains the critic (not b_out)
    assert any(float(g.abs().sum()) > 0 for g in grads)


def test_gan_losses_equal_torch_bce():
    gen = torch.Generator().manual_seed(2)
    d_real, d_fake = torch.randn(9, 1, generator=gen), torch.randn(9, 1, generator=gen)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
    assert float(gan2d.d_loss("gan", d_real, d_fake)) == pytest.approx(float(expected), rel=1e-6)
    assert float(gan2d.g_loss("gan", d_fake)) == pytest.approx(float(bce(d_fake, torch.ones_like(d_fake))), rel=1e-6)
    assert float(gan2d.d_loss("wgan", d_real, d_fake)) == pytest.approx(float(d_fake.mean() - d_real.mean()))
    assert float(gan2d.g_loss("wgan-gp", d_fake)) == pytest.approx(float(-d_fake.mean()))


def test_sample_w1_is_the_optimal_assignment():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    brute = min(np.mean(np.linalg.norm(a - b[list(p)], axis=1)) for p in itertools.permutations(range(6)))
    assert gan2d.sample_w1(a, b) == pytest.approx(brute)
    from scipy.stats import wasserstein_distance
    u, v = rng.normal(size=50), rng.normal(1, 2, size=50)
    pts = lambda s: np.stack([s, np.zeros_like(s)], 1)   # 1-D data on the x axis
    assert gan2d.sample_w1(pts(u), pts(v)) == pytest.approx(wasserstein_distance(u, v))


def test_mode_coverage_counts_by_hand():
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    samples = np.array([[0.1, 0.0]] * 6 + [[5.0, 0.1]] * 3 + [[9.0, 9.0]])
    covered, quality, counts, mask = gan2d.mode_coverage(samples, centres, radius=0.5)
    assert counts.tolist() == [6, 3, 0] and mask.tolist() == [True, True, False]
    assert covered == 2 and quality == pytest.approx(0.9)


@pytest.mark.parametrize("target", ["ring", "moons", "spiral"])
def test_targets_and_modes(target):
    rng = np.random.default_rng(0)
    pool = gan2d.sample_target(target, 2000, rng)
    assert pool.shape == (2000, 2) and np.abs(pool).max() < 3.5
    centres, radius = gan2d.modes(target, pool, np.random.default_rng(0))
    covered, quality, _, _ = gan2d.mode_coverage(pool, centres, radius)
    assert covered == len(centres) == 8          # the target itself covers every mode
    assert quality > 0.85


def test_parse_points():
    pts = gan2d.parse_points("x,y\n1,2\n3;4\n5\t6\n7 8\nnan,1\n\n")
    np.testing.assert_array_equal(pts, [[1, 2], [3, 4], [5, 6], [7, 8]])
    with pytest.raises(ValueError):
        gan2d.parse_points("a,b\n1,1\n1,1\n")
    with pytest.raises(ValueError):
        gan2d.parse_points("\n".join(f"{i},{i}" for i in range(gan2d.MAX_POINTS + 2)))


@pytest.mark.parametrize("loss", gan2d.LOSSES)
def test_train_is_deterministic_and_steps(loss):
    cfg = gan2d.default_config(loss, **TINY)
    a = list(itertools.islice(gan2d.train(cfg, seed=5), 3))
    b = list(itertools.islice(gan2d.train(cfg, seed=5), 3))
    c = next(itertools.islice(gan2d.train(cfg, seed=6), 2, None))
    assert [s.step for s in a] == [0, 2, 4]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.samples, y.samples)
        np.testing.assert_array_equal(x.landscape, y.landscape)
        np.testing.assert_array_equal(x.hist_d, y.hist_d)
    assert not np.array_equal(a[2].samples, c.samples)
    assert not np.array_equal(a[0].samples, a[2].samples)       # training moved the generator
    s = a[-1]
    assert s.hist_step.tolist() == [0, 2, 4] and len(s.hist_w1) == len(s.hist_d) == 3
    assert s.w1 == pytest.approx(gan2d.sample_w1(s.samples[:256], s.real[:256]))
    if loss == "gan":
        assert 0 <= s.landscape.min() and s.landscape.max() <= 1   # σ(D)


def test_wgan_clipping_bounds_the_critic():
    cfg = gan2d.default_config("wgan", clip_c=0.01, **TINY)
    s = next(itertools.islice(gan2d.train(cfg, seed=0), 2, None))
    # every |w| ≤ c, so ‖∇f‖ ≤ Π_layers c·sqrt(fan_in·fan_out) (Frobenius bound on each layer)
    sizes = [2, 8, 8, 1]
    bound = np.prod([0.01 * np.sqrt(i * o) for i, o in zip(sizes[:-1], sizes[1:])])
    assert 0 < s.grad_norm <= bound
    assert s.clipped > 0


def test_same_seed_same_initial_generator_across_losses():
    firsts = [next(gan2d.train(gan2d.default_config(k, **TINY), seed=3)).samples for k in gan2d.LOSSES]
    np.testing.assert_array_equal(firsts[0], firsts[1])
    np.testing.assert_array_equal(firsts[0], firsts[2])


def test_custom_target_uses_points():
    pts = gan2d.example_points(50)
    cfg = replace(gan2d.default_config("gan", **TINY), target="custom", points=pts)
    s = next(gan2d.train(cfg, seed=0))
    assert np.abs(s.real).max() <= 2.0 + 0.2


def test_loss_quality_correlation():
    cfg = gan2d.default_config("gan", **TINY)
    s = next(itertools.islice(gan2d.train(cfg, seed=0), 5, None))
    y = s.hist_d[1:]
    assert gan2d.loss_quality_correlation(s) == pytest.approx(np.corrcoef(y, s.hist_w1[1:])[0, 1])


def test_page_step_and_train_advance_all_three_models():
    at = run_page("pages/generative/gan2d.py")
    assert_ok(at)
    assert [m.value for m in at.metric if m.label == "G steps"] == ["0", "0", "0"]
    at.button(key="gan2d.step").click().run()
    assert_ok(at)
    assert [m.value for m in at.metric if m.label == "G steps"] == ["20", "20", "20"]
    at.button(key="gan2d.train").click().run()
    assert_ok(at)
    steps = [int(m.value.replace(",", "")) for m in at.metric if m.label == "G steps"]
    assert min(steps) >= 20 and max(steps) >= 40     # the laggard is always advanced first
    at.button(key="gan2d.reset").click().run()
    assert [m.value for m in at.metric if m.label == "G steps"] == ["0", "0", "0"]


def test_page_custom_target_in_japanese():
    at = run_page("pages/generative/gan2d.py", lang="ja")
    at.selectbox(key="gan2d.target").set_value("custom").run()
    assert_ok(at)
    assert any("ハート" in c.value for c in at.caption)
