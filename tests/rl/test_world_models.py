"""World Models: the VAE's KL against torch.distributions.kl_divergence, the MDN log-likelihood against
MixtureSameFamily, temperature sampling by counting, the CMA-ES wrapper on a sphere (to 1e-8, no global seeding),
V's and M's shapes, the pretrained V and M against baselines, C in the real env and the dream, and the page."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import distributions as D

from conftest import assert_ok, run_page
from engine.common import cartpole
from engine.rl import world_models as wm

PAGE = "pages/rl/world_models.py"


@pytest.fixture(scope="module")
def model():
    return wm.load_pretrained()


def test_kl_equals_torch_kl_divergence():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 5, generator=g), torch.randn(7, 5, generator=g)
    ref = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(torch.zeros(5), torch.ones(5))).sum(-1)
    torch.testing.assert_close(wm.kl_standard_normal(mu, logvar), ref, rtol=1e-5, atol=1e-6)


def test_kl_floor_is_per_frame_then_mean_as_the_papers_code():
    """The paper's vae.py: kl = max(kl_b, tol·z) per frame, then reduce_mean. A batch with frames above and below
    the floor, where the floor of the batch mean would differ."""
    z = 4
    mu = torch.zeros(4, z)
    mu[0] = 3.0                                                # KL = ½·4·9 = 18 > floor 2
    mu[1] = 0.1                                                # KL = 0.02 < floor
    mu[2] = 1.0                                                # KL = 2 = floor
    logvar = torch.zeros(4, z)                                 # frame 3: KL = 0 < floor
    x = torch.full((4, 1, 2, 2), 0.5)
    rec, kl = wm.vae_loss(x, torch.full_like(x, 0.5), mu, logvar, kl_tolerance=0.5)
    per_frame = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(0.0, 1.0)).sum(-1).numpy()
    paper = np.maximum(per_frame, 0.5 * z).mean()              # tf.reduce_mean(tf.maximum(kl_loss, tol * z_size))
    assert float(kl) == pytest.approx(paper, rel=1e-6) and paper == pytest.approx((18 + 2 + 2 + 2) / 4)
    assert float(kl) != pytest.approx(max(per_frame.mean(), 0.5 * z))   # the batch-mean floor would give 5.005
    assert float(rec) == pytest.approx(4 * np.log(2), rel=1e-6)       # BCE of 0.5 vs 0.5 summed over 4 pixels
    # the floor carries no gradient to frames below it, full gradient to frames above
    mu = mu.clone().requires_grad_(True)
    wm.vae_loss(x, torch.full_like(x, 0.5), mu, logvar)[1].backward()
    assert mu.grad[1].abs().max() == 0 and mu.grad[3].abs().max() == 0
    torch.testing.assert_close(mu.grad[0], torch.full((z,), 3.0 / 4))


def test_mdn_log_prob_equals_mixture_same_family():
    g = torch.Generator().manual_seed(1)
    logit_pi, mu, log_sigma = (torch.randn(3, 4, 6, 5, generator=g) for _ in range(3))
    z = torch.randn(3, 4, 6, generator=g)
    mix = D.MixtureSameFamily(D.Categorical(logits=logit_pi), D.Normal(mu, log_sigma.exp()))
    torch.testing.assert_close(wm.mdn_log_prob(logit_pi, mu, log_sigma, z), mix.log_prob(z).sum(-1),
                               rtol=1e-5, atol=1e-5)


def test_temperature_sampling_follows_softmax_over_tau_and_sigma_sqrt_tau():
    g = torch.Generator().manual_seed(0)
    logits = torch.tensor([[[0.0, 1.0]]]).repeat(20_000, 1, 1)                     # (B, 1, K=2)
    mu = torch.tensor([[[-10.0, 10.0]]]).repeat(20_000, 1, 1)
    log_sigma = torch.zeros_like(mu)
    for tau in (0.5, 1.0, 2.0):
        z = wm.sample_mdn(logits, mu, log_sigma, tau, g)[:, 0]
        p_right = float((z > 0).float().mean())
        assert p_right == pytest.approx(float(torch.softmax(torch.tensor([0, 1.0]) / tau, 0)[1]), abs=0.015)
        assert float(z[z > 0].std()) == pytest.approx(tau ** 0.5, rel=0.05)


def test_cma_wrapper_minimises_a_sphere_to_1e_8_without_global_seeding():
    state = np.random.get_state()[1].copy()
    x, f = wm.minimise(lambda x: float((x ** 2).sum()), np.full(5, 2.0), 1.0, seed=0, iterations=250)
    assert f < 1e-8 and np.abs(x).max() < 1e-4
    assert np.array_equal(state, np.random.get_state()[1])                       # numpy's global RNG untouched
    x2, f2 = wm.minimise(lambda x: float((x ** 2).sum()), np.full(5, 2.0), 1.0, seed=0, iterations=250)
    assert f2 == f and np.array_equal(x, x2)


def test_vae_has_the_papers_layer_shapes():
    vae = wm.VAE(z_dim=8, ch=8)
    x = torch.zeros(2, 1, 64, 64)
    sizes = []
    h = x
    for layer in vae.enc:
        h = layer(h)
        if isinstance(layer, torch.nn.Conv2d):
            sizes.append(h.shape[-1])
    assert sizes == [31, 14, 6, 2]
    z = torch.zeros(2, 8)
    h = vae.fc(z)[:, :, None, None]
    sizes = []
    for layer in vae.dec:
        h = layer(h)
        if isinstance(layer, torch.nn.ConvTranspose2d):
            sizes.append(h.shape[-1])
    assert sizes == [5, 13, 30, 64]


def test_render_draws_the_cart_where_it_is_and_the_pole_where_it_leans():
    img = cartpole.render(np.array([[0.0, 0, 0, 0], [1.5, 0, 0, 0], [0, 0, 0.2, 0]]), 64)
    cols = [np.flatnonzero(im[46:49].max(0) > 0.5).mean() for im in img[:2]]    # cart body rows
    assert abs(cols[0] - 31.5) < 1 and cols[1] > cols[0] + 15
    top = lambda im: np.flatnonzero(im[27:31].max(0) > 0.5).mean()               # the pole near its tip
    assert top(img[2]) > top(img[0]) + 2                                          # leaning right (θ > 0)


def test_collected_episodes_follow_the_dynamics():
    eps = wm.collect_episodes(10, seed=0, max_steps=60)
    for s, a, term in zip(eps.states, eps.actions, eps.terminated):
        nxt, fell = cartpole.step_states(s[:-1], a)
        np.testing.assert_array_equal(nxt, s[1:])
        assert fell[-1] == term and not fell[:-1].any()


def test_controller_is_linear_in_z_and_h():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((4, 8 + 3 + 1))
    z, h = torch.randn(4, 8), torch.randn(4, 3)
    ref = (np.einsum("bi,bi->b", np.c_[z.numpy(), h.numpy()], p[:, :-1]) + p[:, -1] > 0).astype(int)
    np.testing.assert_array_equal(wm.controller_act(p, z, h), ref)


def _drain(it):
    while True:
        try:
            next(it)
        except StopIteration as stop:
            return stop.value


def test_pretrained_v_and_m_beat_baselines(model):
    import os

    assert os.path.getsize(wm.PRETRAINED) <= 3_000_000
    eps = wm.collect_episodes(12, seed=123)                                      # not the training seed
    x = wm.frames_of(np.concatenate(eps.states))
    with torch.no_grad():
        mu, logvar = model.vae.encode(x)
        recon = model.vae.decode(mu)
    err = float(((recon - x) ** 2).mean())
    assert err < 0.25 * float(((x - x.mean(0)) ** 2).mean())                    # far better than the mean frame
    zs = wm.episodes_to_z(model.vae, eps)
    batch = wm.mdn_batch(zs, eps.actions, eps.terminated, np.arange(len(zs)))
    with torch.no_grad():
        nll, _ = wm.mdn_loss(model.mdn, *batch)
        z, a, zn, done, mask = batch
        # baseline: z_{t+1} ~ N(z_t, var of the steps), per dimension
        step_sd = ((zn - z)[mask > 0]).std(0)
        base = -(D.Normal(z, step_sd).log_prob(zn).sum(-1) * mask).sum() / mask.sum() / z.shape[-1]
    assert float(nll) < float(base)


def test_real_rollouts_and_dream_rollouts(model):
    D_ = wm.n_controller_params(model.mdn.z_dim, model.mdn.hidden, True)
    p = np.zeros((3, D_))
    p[:, -1] = 1.0                                                               # always push right
    R = _drain(wm.real_rollouts(model, p, np.random.default_rng(0)))
    s = cartpole.reset_states(np.random.default_rng(0), 3)                       # the same starts, brute force
    alive, ref = np.ones(3, bool), np.zeros(3)
    for _ in range(wm.MAX_STEPS):
        s, fell = cartpole.step_states(s, np.ones(3, int))
        ref += alive
        alive &= ~fell
    np.testing.assert_array_equal(R, ref)
    z0 = wm.encode_states(model.vae, cartpole.reset_states(np.random.default_rng(0), 3))
    Rd = _drain(wm.dream_rollouts(model, p, z0, 1.0, torch.Generator().manual_seed(0), max_steps=50))
    assert Rd.shape == (3,) and (Rd >= 1).all() and (Rd <= 50).all()


def test_train_controller_is_deterministic_and_yields_often(model):
    for mode in ("dream", "real", "z_only"):
        cfg = wm.CConfig(mode=mode, popsize=6, episodes=1, generations=2, eval_episodes=2)
        a = list(itertools.islice(wm.train_controller(cfg, model), 6))
        b = list(itertools.islice(wm.train_controller(cfg, model), 6))
        assert [s.metrics for s in a] == [s.metrics for s in b]
        assert all(np.array_equal(x.params, y.params) for x, y in zip(a, b))
        assert len(a[0].params) == wm.n_controller_params(8, 64, mode != "z_only")


def test_dream_vs_real_starts_together(model):
    d = wm.dream_vs_real(model, tau=1.0, seed=0, steps=20)
    assert d.real.shape == d.dream.shape and d.real.shape[1:] == (64, 64)
    np.testing.assert_allclose(d.z_dream[0], d.z_real[0])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_and_steps(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    at.button(key="world_models.run.step").click().run()
    assert_ok(at)
    run = at.session_state["world_models.run"]
    assert run.step >= 0 and set(run.snaps) == {"dream", "real", "z_only"}


def test_live_vae_is_deterministic_and_initialised_like_torch():
    vae = wm.init_local(wm.VAE(4, 4), torch.Generator().manual_seed(0))
    for m in vae.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            bound = 1 / (m.weight.shape[1] * m.weight[0][0].numel()) ** 0.5    # kaiming_uniform(a=√5) bound
            assert m.weight.abs().max().item() <= bound and m.bias.abs().max().item() <= bound
    cfg = wm.VAEConfig(z_dim=4, ch=4, batch_size=8, n_episodes=4, steps=4, snapshot_every=2, n_show=2)
    a, b = list(wm.train_vae(cfg)), list(wm.train_vae(cfg))
    assert [s.step for s in a] == [0, 2, 4]
    assert all(x.metrics == y.metrics and np.array_equal(x.recons, y.recons) for x, y in zip(a, b))
    assert a[-1].metrics["reconstruction"] > 0 and a[-1].frames.shape == (2, 64, 64)


def test_a_suspended_rollout_leaves_the_callers_grad_mode_alone(model):
    """The page pulls a few steps, then draws (and other chapters differentiate) in the same thread: a rollout paused
    at a yield must not hold `torch.no_grad()` open there."""
    D_ = wm.n_controller_params(model.mdn.z_dim, model.mdn.hidden, True)
    p = np.zeros((2, D_))
    p[:, -1] = 1.0
    z0 = wm.encode_states(model.vae, cartpole.reset_states(np.random.default_rng(0), 2))
    for gen in (wm.real_rollouts(model, p, np.random.default_rng(0), chunk=2),
                wm.dream_rollouts(model, p, z0, 1.0, torch.Generator().manual_seed(0), chunk=2)):
        next(gen)
        assert torch.is_grad_enabled()
        gen.close()


# ---- practice items: answers recomputed from the numbers shown with torch's layers and distributions
def test_practice_controller_params_equal_an_nn_linear():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("world_models", "controller_params", seed)
        p = item.params
        layer = torch.nn.Linear(p["z_dim"] + (p["hidden"] if p["use_h"] else 0), p["A"])
        want = sum(q.numel() for q in layer.parameters())
        assert item.answer == want and item.choices[item.correct_index].label["en"] == f"{want:,}"


def test_practice_mdn_density_and_blank_equal_torch_mixture():
    from torch.distributions import Categorical, MixtureSameFamily, Normal

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("world_models", "mdn_density", seed)
        p = item.params
        f = lambda v: torch.tensor(v, dtype=torch.float64)                 # noqa: E731
        mix = MixtureSameFamily(Categorical(probs=f(p["pi"])), Normal(f(p["mu"]), f(p["sigma"])))
        want = float(mix.log_prob(f(p["z"])).exp())
        assert abs(item.answer - want) < 1e-12
        assert abs(float(item.choices[item.correct_index].label["en"]) - want) <= 5e-5 + 1e-12
        blank = P.make("world_models", "mdn_blank", seed)
        q = blank.params
        mix = MixtureSameFamily(Categorical(logits=f(q["logit"])), Normal(f(q["mu"]), f(q["log_sigma"]).exp()))
        assert abs(blank.exec.expected - float(mix.log_prob(f(q["z"])).sum())) < 1e-9


def test_practice_kl_floor_per_frame_then_mean():
    from torch.distributions import Normal, kl_divergence

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("world_models", "kl_floor", seed)
        p = item.params
        mu, var = torch.tensor(p["mu"], dtype=torch.float64), torch.tensor(p["var"], dtype=torch.float64)
        kl = kl_divergence(Normal(mu, var.sqrt()), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1)
        want = float(torch.clamp(kl, min=p["tol"] * mu.shape[1]).mean())
        assert abs(item.answer - want) < 1e-9
        assert abs(float(item.choices[item.correct_index].label["en"]) - want) <= 5e-4 + 1e-9


def test_practice_statement_numbers():
    """c_linear / c_deep: the paper's CarRacing controller, (32 + 256) × 3 + 3 = 867 parameters."""
    assert 3 * wm.n_controller_params(32, 256, True) == 867
