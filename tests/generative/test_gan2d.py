"""WGAN vs GAN on 2-D targets: losses against torch's BCE, the gradient penalty against its closed form and
finite differences, exact sample W1 against brute force and SciPy, determinism, and the live page."""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

import oracles.gan2d_torch as ref
from conftest import assert_ok, run_page
from engine.generative import gan2d

TINY = dict(hidden=8, batch_size=16, n_show=32, grid=6, snapshot_every=2)


@pytest.mark.parametrize("sizes", [[2, 8, 8, 1], [3, 16, 2], [2, 6, 5, 7, 4]])
def test_mlp_backward_equals_torch_autograd(sizes):
    rng = np.random.default_rng(0)
    net = gan2d.MLP(sizes, rng)
    x = rng.standard_normal((11, sizes[0]), dtype=np.float32)
    d_out = rng.standard_normal((11, sizes[-1]), dtype=np.float32)
    out, cache = net.forward(x)
    dx = net.backward(cache, d_out)
    params = ref.params_of(net)
    xt = torch.tensor(x, requires_grad=True)
    theirs = ref.mlp(params, xt)
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    grads = torch.autograd.grad((theirs * torch.tensor(d_out)).sum(), params + [xt])
    for mine, theirs in zip(net.grads + [dx], grads):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-4, atol=1e-6)
    before = net.grad.copy()
    assert np.array_equal(net.backward(cache, d_out, param_grads=False), dx) and np.array_equal(net.grad, before)


@pytest.mark.parametrize("sizes", [[2, 8, 8, 1], [2, 16, 1], [2, 6, 5, 7, 1], [2, 1]])
def test_gradient_penalty_and_its_gradient_equal_double_backprop(sizes):
    """The hand-written second backward pass against autograd's create_graph=True, every parameter."""
    rng = np.random.default_rng(1)
    D = gan2d.MLP(sizes, rng)
    real, fake = rng.standard_normal((13, 2), dtype=np.float32), rng.standard_normal((13, 2), dtype=np.float32)
    eps = rng.random((13, 1), dtype=np.float32)
    gp, norms = gan2d.gradient_penalty(D, real, fake, eps, weight=0.5)
    params = ref.params_of(D)
    gp_ref, norm_ref = ref.gradient_penalty(params, *(torch.tensor(a) for a in (real, fake, eps)))
    assert gp == pytest.approx(float(gp_ref.detach()), rel=1e-5)
    np.testing.assert_allclose(norms, norm_ref.detach().numpy(), rtol=1e-5)
    grads = torch.autograd.grad(0.5 * gp_ref, params, allow_unused=True)
    for mine, theirs in zip(D.grads, grads):
        np.testing.assert_allclose(mine, 0 if theirs is None else theirs.numpy(), rtol=1e-4, atol=1e-6)
    assert np.abs(D.grad).sum() > 0


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    rng = np.random.default_rng(0)
    D = gan2d.MLP([2, 1], rng)
    for _ in range(5):
        D.params[0][...] = rng.standard_normal((2, 1)) * 2
        real, fake = rng.standard_normal((7, 2), dtype=np.float32), rng.standard_normal((7, 2), dtype=np.float32)
        gp, norms = gan2d.gradient_penalty(D, real, fake, rng.random((7, 1), dtype=np.float32))
        w = float(np.linalg.norm(D.params[0]))
        assert gp == pytest.approx((w - 1) ** 2, rel=1e-5)
        np.testing.assert_allclose(norms, w, rtol=1e-6)


def test_gradient_penalty_norms_match_finite_differences():
    rng = np.random.default_rng(1)
    D = gan2d.MLP([2, 8, 8, 1], rng)
    real, fake = rng.standard_normal((5, 2), dtype=np.float32), rng.standard_normal((5, 2), dtype=np.float32)
    eps = rng.random((5, 1), dtype=np.float32)
    gp, norms = gan2d.gradient_penalty(D, real, fake, eps)
    x_hat = (eps * real + (1 - eps) * fake).astype(np.float64)
    f = lambda x: ref.mlp([torch.tensor(p, dtype=torch.float64) for p in D.params], torch.tensor(x)).numpy()
    h = 1e-6
    fd = np.stack([(f(x_hat + h * e) - f(x_hat - h * e))[:, 0] / (2 * h) for e in np.eye(2)], 1)
    np.testing.assert_allclose(norms, np.linalg.norm(fd, axis=1), rtol=1e-4)
    assert gp == pytest.approx(float(((np.linalg.norm(fd, axis=1) - 1) ** 2).mean()), rel=1e-4)


@pytest.mark.parametrize("loss", gan2d.LOSSES)
def test_losses_and_their_gradients_equal_torch(loss):
    rng = np.random.default_rng(2)
    d_real, d_fake = rng.standard_normal((9, 1), dtype=np.float32) * 3, rng.standard_normal((9, 1), dtype=np.float32)
    r, f = torch.tensor(d_real, requires_grad=True), torch.tensor(d_fake, requires_grad=True)
    if loss == "gan":
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        ld, lg = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)), bce(f, torch.ones_like(f))
    else:
        ld, lg = f.mean() - r.mean(), -f.mean()
    value, g_r, g_f = gan2d.d_loss(loss, d_real, d_fake)
    assert value == pytest.approx(float(ld), rel=1e-5)
    ref_r, ref_f = torch.autograd.grad(ld, (r, f))
    np.testing.assert_allclose(g_r, ref_r.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_f, ref_f.numpy(), rtol=1e-5, atol=1e-7)
    value, g = gan2d.g_loss(loss, d_fake)
    assert value == pytest.approx(float(lg), rel=1e-5)
    np.testing.assert_allclose(g, torch.autograd.grad(lg, f)[0].numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_optimisers_equal_torch_optim(name):
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(40).astype(np.float32)
    mine = theta.copy()
    theirs = torch.tensor(theta, requires_grad=True)
    if name == "adam":
        opt, torch_opt = gan2d.Adam(mine, 1e-2, (0.5, 0.9)), torch.optim.Adam([theirs], lr=1e-2, betas=(0.5, 0.9))
    else:
        opt, torch_opt = gan2d.RMSprop(mine, 1e-2), torch.optim.RMSprop([theirs], lr=1e-2)
    for _ in range(25):
        g = rng.standard_normal(40).astype(np.float32)
        opt.step(g)
        theirs.grad = torch.tensor(g)
        torch_opt.step()
    np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", gan2d.LOSSES)
def test_training_steps_equal_a_torch_autograd_replica(loss):
    """End to end: the same draws from the same seeded generator, fed to torch autograd and torch.optim,
    give the same generator after four G steps (and their critic steps)."""
    cfg = gan2d.default_config(loss, hidden=16, batch_size=32, n_show=64, grid=4, snapshot_every=4, n_critic=2)
    mine = next(itertools.islice(gan2d.train(cfg, seed=7), 1, None))
    assert mine.step == 4

    G, z_show = ref.replica(cfg, seed=7, g_steps=4)
    with torch.no_grad():
        theirs = ref.mlp(G, z_show).numpy()
    np.testing.assert_allclose(mine.samples, theirs, rtol=1e-3, atol=1e-4)
    assert not np.allclose(next(gan2d.train(cfg, seed=7)).samples, theirs, atol=1e-3)   # training moved G


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
    at.button(key="gan2d.run.step").click().run()
    assert_ok(at)
    assert [m.value for m in at.metric if m.label == "G steps"] == ["25", "25", "25"]
    at.button(key="gan2d.run.train").click().run()
    assert_ok(at)
    # the live fragment draws first and trains after: this run showed step 25 and then advanced
    assert [m.value for m in at.metric if m.label == "G steps"] == ["25", "25", "25"]
    at.run()
    steps = [int(m.value.replace(",", "")) for m in at.metric if m.label == "G steps"]
    assert min(steps) >= 25 and max(steps) >= 50     # the laggard is always advanced first
    at.button(key="gan2d.run.reset").click().run()
    assert [m.value for m in at.metric if m.label == "G steps"] == ["0", "0", "0"]


def test_page_custom_target_in_japanese():
    at = run_page("pages/generative/gan2d.py", lang="ja")
    at.selectbox(key="gan2d.target").set_value("custom").run()
    assert_ok(at)
    assert any("ハート" in c.value for c in at.caption)


@pytest.mark.slow
def test_wgan_losses_track_sample_quality_and_the_gan_loss_does_not():
    """The seed's claim, on the default ring: over 1500 G steps the WGAN and WGAN-GP critics' W1 estimate (−L_D)
    correlates with the true sample W1, while the GAN's L_D does not (it rises as samples improve)."""
    cfgs = {k: gan2d.default_config(k, max_steps=1500) for k in gan2d.LOSSES}
    last = list(gan2d.train_all(cfgs, 0))[-1]
    corr = {k: gan2d.loss_quality_correlation(s) for k, s in last.items()}
    assert corr["wgan"] > 0.6 and corr["wgan-gp"] > 0.6, corr
    assert corr["gan"] < 0.2, corr
    for s in last.values():                       # every model learned: W1 fell well below its start
        assert s.w1 < 0.5 * s.hist_w1[0]


@pytest.mark.parametrize("text,code", [("", "empty"), ("1\n2\n3\n", "one_column"), ("a,b\nx,y\nfoo,bar\n", "no_numbers"),
                                       ("x,y\n1,1\n1,1\nq,2\n", "too_few")])
def test_bad_csv_says_what_was_wrong(text, code):
    with pytest.raises(gan2d.PointsError) as err:
        gan2d.parse_points(text)
    assert err.value.code == code


def test_csv_with_bom_and_ime_digits_keeps_every_row():
    """Excel's CSV starts with a BOM: the first row must not be taken for a header and lost; full-width digits,
    commas and minus signs from a Japanese IME are the same numbers; Shift_JIS and UTF-16 files decode."""
    from engine.common.text import decode

    ascii_rows = "1.5,2\n-3,4\n5,-6.25\n"
    expected = np.array([[1.5, 2], [-3, 4], [5, -6.25]])
    np.testing.assert_array_equal(gan2d.parse_points("\ufeff" + ascii_rows), expected)
    np.testing.assert_array_equal(gan2d.parse_points(decode(("x,y\r\n" + ascii_rows).encode("utf-8-sig"))), expected)
    np.testing.assert_array_equal(gan2d.parse_points("１．５，２\n－３，４\n５，−6.25\n"), expected)
    for enc in ("cp932", "utf-16"):
        np.testing.assert_array_equal(gan2d.parse_points(decode(("ｘ,ｙ\n" + ascii_rows).encode(enc))), expected)


def test_modes_come_from_the_readers_points():
    rng = np.random.default_rng(0)
    two = np.concatenate([rng.normal((-3, 0), 0.2, (150, 2)), rng.normal((3, 0), 0.2, (150, 2))])
    centres, _ = gan2d.modes("custom", two, np.random.default_rng(1))
    assert len(centres) == 2 and sorted(np.round(centres[:, 0]).tolist()) == [-3.0, 3.0]   # two clusters, not 8
    blob = rng.uniform(-1, 1, (300, 2))                                  # no clusters at all
    assert len(gan2d.modes("custom", blob, np.random.default_rng(1))[0]) == 0


def test_silhouette_against_scikit_learn():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(3)
    pts = rng.normal(size=(60, 2))
    assign = (pts[:, 0] > 0).astype(int) + (pts[:, 1] > 0.5).astype(int)
    assert gan2d.silhouette(pts, assign) == pytest.approx(silhouette_score(pts, assign), abs=1e-9)


def test_page_csv_with_two_clusters_and_a_bad_csv():
    at = run_page("pages/generative/gan2d.py", lang="ja")
    at.selectbox(key="gan2d.target").set_value("custom").run()
    assert_ok(at)


# ---- practice items (issue #24): answers recomputed by torch autograd from the numbers shown -----------------
def test_practice_gp_value_and_blank_equal_autograd():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("gan2d", "gp_value", seed)
        p = it.params
        A, c, v = (torch.tensor(p[k], dtype=torch.float64) for k in ("A", "c", "v"))
        params = [A.T, c, v[:, None], torch.zeros(1, dtype=torch.float64)]
        gp, _ = ref.gradient_penalty(params, *(torch.tensor([p[k]], dtype=torch.float64) for k in ("x", "x_tilde")),
                                     torch.tensor([[p["eps"]]], dtype=torch.float64))
        want = p["lam"] * float(gp.detach())
        assert abs(it.answer - want) < 1e-4 * max(1.0, want)
        assert it.choices[it.correct_index].label["en"] == f"{want:.3f}"
        it = P.make("gan2d", "gp_blank", seed)
        p = it.params
        params = [torch.tensor(p[k]) for k in ("W1", "b1", "w2")] + [torch.tensor([p["b2"]])]
        gp, _ = ref.gradient_penalty(params, *(torch.tensor(p[k]) for k in ("real", "fake", "eps")))
        assert it.exec.expected == pytest.approx(float(gp.detach()), rel=1e-5, abs=1e-7)


def test_practice_nonsat_gradient_equals_autograd():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("gan2d", "nonsat_gradient", seed)
        a = torch.tensor(it.params["a"], dtype=torch.float64, requires_grad=True)
        grad, = torch.autograd.grad(-torch.nn.functional.logsigmoid(a), a)      # L_G = −log σ(a)
        assert abs(it.answer - float(grad)) < 1e-6
        assert it.choices[it.correct_index].label["en"] == f"{float(grad):.3f}"
        a = torch.tensor(it.params["a"], dtype=torch.float64, requires_grad=True)
        sat, = torch.autograd.grad(torch.log1p(-torch.sigmoid(a)), a)            # the saturating loss, smaller
        assert abs(float(sat)) < abs(float(grad))


def test_practice_statements_hold_on_cases():
    """Checkable statements of the WGAN item: the critic loss sign, the penalty's target 1, the non-saturating
    gradient, clipping bounding the weights."""
    rng = np.random.default_rng(0)
    f_real, f_fake = rng.normal(1.0, 0.3, 64), rng.normal(-1.0, 0.3, 64)
    value, _, _ = gan2d.d_loss("wgan", f_real[:, None], f_fake[:, None])
    assert value == pytest.approx(-f_real.mean() + f_fake.mean())               # critic_loss (not notes_d_loss)
    assert value != pytest.approx(-f_real.mean() - f_fake.mean())
    g_value, _ = gan2d.g_loss("wgan", f_fake[:, None])
    assert g_value == pytest.approx(-f_fake.mean())                             # g_loss (not notes_g_loss)
    D = gan2d.MLP([2, 1], rng)
    D.params[0][...] = np.array([[0.6], [0.8]])                                 # ‖w‖ = 1: no penalty (gp_zero false)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    assert gan2d.gradient_penalty(D, x, x[::-1].copy(), rng.random((5, 1), dtype=np.float32))[0] < 1e-10
