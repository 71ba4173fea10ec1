"""A2C / A3C on CartPole: the numpy CartPole against gymnasium step by step, k-step returns, advantages, the three
loss terms and their gradients against stable-baselines3 (RolloutBuffer, A2C.train), entropy against torch's
Categorical, Adam and clipping against torch, the A3C simulation's staleness, determinism and the page."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import oracles.a3c as ref
from conftest import assert_ok, run_page
from engine.common import cartpole
from engine.rl import a3c

PAGE = "pages/rl/a3c.py"


def test_numpy_cartpole_equals_gymnasium_step_by_step():
    import gymnasium as gym

    env = gym.make("CartPole-v1").unwrapped
    rng = np.random.default_rng(0)
    for episode in range(5):
        env.reset(seed=episode)
        s = np.array(env.state, float)[None]
        for t in range(300):
            a = int(rng.integers(2)) if episode < 3 else int(s[0, 2] + 0.5 * s[0, 3] > 0)  # random / balancing
            obs, r, term, trunc, _ = env.step(a)
            s, te = cartpole.step_states(s, np.array([a]))
            assert np.array_equal(env.state, s[0]) and np.array_equal(obs, s[0].astype(np.float32))
            assert bool(te[0]) == term and r == 1.0
            if term:
                break
        assert term or t == 299
    s0 = cartpole.reset_states(np.random.default_rng(0), 10_000)
    assert s0.min() >= -0.05 and s0.max() <= 0.05


def test_vector_env_autoresets_and_truncates_at_500():
    env = cartpole.VecCartPole(3, np.random.default_rng(0))
    env.state[:] = 0.0
    env.t[:] = [0, 498, 499]
    obs, r, term, trunc, final = env.step(np.array([0, 0, 0]))
    assert list(trunc) == [False, False, True] and not term.any()
    assert env.t.tolist() == [1, 499, 0] and np.array_equal(final[2], np.zeros(4, np.float32) + final[2])


def _rollout(k=40, n=3, seed=0, hidden=16):
    """A real rollout of n environments (episodes end inside it) under a random actor-critic."""
    rng = np.random.default_rng(seed)
    params = a3c.init_params(hidden, rng)
    params[2] *= 100                                  # a policy far from uniform, so every term matters
    env = cartpole.VecCartPole(n, rng)
    o = env.obs()
    obs, acts, rews, dones = [], [], [], []
    for _ in range(k):
        p = a3c.forward(params, o).probs
        a = (rng.random(n) < p[:, 1]).astype(int)
        obs.append(o)
        acts.append(a)
        o, r, term, trunc, _ = env.step(a)
        rews.append(r)
        dones.append((term | trunc).astype(float))
    return params, np.array(obs), np.array(acts), np.array(rews), np.array(dones), o


def test_nstep_returns_equal_stable_baselines3_rollout_buffer():
    params, obs, acts, rews, dones, last = _rollout()
    assert dones.sum() >= 2                           # episode ends inside the rollout are exercised
    values = a3c.forward(params, obs.reshape(-1, 4)).value.reshape(dones.shape)
    last_v = a3c.forward(params, last).value
    ret, adv = a3c.nstep_returns(rews, values, dones, last_v, 0.97)
    r_ref, a_ref = ref.sb3_returns(rews, values, dones, last_v, 0.97)
    np.testing.assert_allclose(ret, r_ref, rtol=1e-5)
    np.testing.assert_allclose(adv, a_ref, rtol=1e-4, atol=1e-4)


def test_loss_terms_and_gradients_equal_stable_baselines3_a2c_train():
    params, obs, acts, rews, dones, last = _rollout(k=12, n=4, seed=1)
    gamma, vf, ent = 0.95, 0.5, 0.05
    sb3 = ref.sb3_a2c_losses(params, obs, acts, rews, dones, last, gamma, vf, ent)
    k, n = acts.shape
    flat = obs.reshape(-1, 4)
    values = a3c.forward(params, flat).value.reshape(k, n)
    ret, adv = a3c.nstep_returns(rews, values, dones, a3c.forward(params, last).value, gamma)
    np.testing.assert_allclose(ret, sb3["returns"], rtol=1e-5)
    loss = a3c.loss_and_grads(params, flat, acts.ravel(), ret.ravel(), adv.ravel(), vf, ent)
    assert loss.policy_loss == pytest.approx(sb3["policy_loss"], rel=1e-5, abs=1e-6)
    assert loss.value_loss == pytest.approx(sb3["value_loss"], rel=1e-5)
    assert -loss.entropy == pytest.approx(sb3["entropy_loss"], rel=1e-6)     # SB3 logs −H as "entropy_loss"
    for mine, theirs in zip(loss.grads, sb3["grads"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)


def test_one_rollout_numbers_follow_the_definitions():
    params = a3c.init_params(8, np.random.default_rng(3))
    k, g = 6, 0.9
    ro = a3c.one_rollout(params, k, g, 0.5, 0.01, seed=4)
    assert not ro.dones.any()                         # 6 steps of CartPole never fall
    # R_0 = Σ_{i<k} γ^i r_i + γ^k V(s_k), by brute force
    assert ro.returns[0] == pytest.approx(sum(g ** i * ro.rewards[i] for i in range(k)) + g ** k * ro.last_value)
    np.testing.assert_allclose(ro.advantages, ro.returns - ro.values)
    assert ro.loss.total == pytest.approx(ro.policy_term.mean() + ro.value_term.mean() + ro.entropy_term.mean())
    logits = torch.tensor(ro.obs, dtype=torch.float64)
    rep = ref.Replica(params)
    _, lp, h = rep.evaluate_actions(logits, torch.tensor(ro.actions))
    np.testing.assert_allclose(ro.log_prob, lp.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ro.entropy, h.detach().numpy(), rtol=1e-6)


def test_entropy_equals_torch_categorical_and_the_notes_examples():
    p = torch.tensor([[0.25] * 4, [0.85, 0.05, 0.05, 0.05], [1.0, 0, 0, 0]], dtype=torch.float64)
    ent = torch.distributions.Categorical(probs=p).entropy().numpy()
    np.testing.assert_allclose([a3c.entropy_of(r) for r in p.numpy()], ent, atol=1e-12)
    assert round(a3c.entropy_of([0.25] * 4), 3) == 1.386 and round(a3c.entropy_of([0.85, .05, .05, .05]), 3) == 0.588


def test_adam_and_clipping_equal_torch():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    tparams = [torch.nn.Parameter(torch.tensor(p)) for p in params]
    opt, topt = a3c._Adam(params, 0.01), torch.optim.Adam(tparams, lr=0.01)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) * 3 for p in params]
        clipped, norm = a3c.clip_grads(grads, 0.5)
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        tnorm = torch.nn.utils.clip_grad_norm_(tparams, 0.5)
        assert norm == pytest.approx(float(tnorm))
        opt.step(params, clipped)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-10)


def test_a3c_staleness_is_zero_with_one_worker_and_about_n_minus_one_with_n():
    for n, lo, hi in ((1, 0.0, 0.0), (4, 2.0, 4.0)):
        cfg = a3c.Config(n_envs=n, n_steps=5, max_env_steps=2_000, snapshot_every=1_000)
        last = list(a3c.train_a3c(cfg))[-1]
        assert lo <= last.metrics["staleness"] <= hi
        assert last.staleness_counts.sum() == last.updates == 2_000 // 5


def test_training_is_deterministic_and_a2c_and_a3c_start_from_the_same_theta():
    cfg = a3c.Config(max_env_steps=4_000)
    for train in (a3c.train_a2c, a3c.train_a3c):
        a, b = list(train(cfg)), list(train(cfg))
        for x, y in zip(a, b):
            assert x.metrics == y.metrics and all(np.array_equal(p, q) for p, q in zip(x.params, y.params))
    first = [next(t(cfg)).params for t in (a3c.train_a2c, a3c.train_a3c)]
    assert all(np.array_equal(p, q) for p, q in zip(*first))


def test_step_zero_metrics_are_measured_not_placeholders(monkeypatch):
    """Issue 29: entropy and losses started at a placeholder 0. Step 0 now carries the first policy's own numbers:
    its entropy on the batch it collects (torch's Categorical on the captured states; ≈ ln 2 for the near-uniform
    first policy), non-zero losses, the mean return of its episodes; the same for A2C and A3C; and training after
    step 0 is unchanged (step 0 uses a random stream of its own)."""
    cfg = a3c.Config(n_envs=4, n_steps=8, snapshot_every=64, max_env_steps=192, seed=3)
    seen = []
    real = a3c.loss_and_grads

    def spy(params, obs, *rest):
        seen.append((params, obs.copy()))
        return real(params, obs, *rest)

    monkeypatch.setattr(a3c, "loss_and_grads", spy)
    first = a3c.initial_metrics(cfg, a3c.initial_params(cfg))
    params, obs = seen[0]
    probs = torch.as_tensor(a3c.forward(params, obs).probs, dtype=torch.float64)
    assert obs.shape == (cfg.n_envs * cfg.n_steps, 4)
    assert first["entropy"] == pytest.approx(float(torch.distributions.Categorical(probs=probs).entropy().mean()),
                                             rel=1e-6)
    assert abs(first["entropy"] - np.log(2)) < 0.01
    assert first["policy_loss"] != 0 and first["value_loss"] > 0 and 5 < first["return"] <= 500
    monkeypatch.setattr(a3c, "loss_and_grads", real)
    a2c, a3 = list(a3c.train_a2c(cfg)), list(a3c.train_a3c(cfg))
    assert a2c[0].metrics == a3[0].metrics == first
    monkeypatch.setattr(a3c, "initial_metrics", lambda cfg, params: {})
    assert [s.metrics for s in a3c.train_a2c(cfg)][1:] == [s.metrics for s in a2c[1:]]
    assert [s.metrics for s in a3c.train_a3c(cfg)][1:] == [s.metrics for s in a3[1:]]


def test_a2c_learns_cartpole():
    snaps = list(itertools.islice(a3c.train_a2c(a3c.Config(seed=0)), 40))   # 80 000 environment steps
    assert max(s.metrics["return"] for s in snaps) >= 195
    assert snaps[-1].episodes > 100


def test_policy_slice_and_episode():
    params = a3c.init_params(8, np.random.default_rng(0))
    sl = a3c.policy_slice(params, grid=5)
    s = np.array([[0, 0, sl.theta[1], sl.theta_dot[3]]], np.float32)
    assert sl.p_left[3, 1] == pytest.approx(a3c.forward(params, s).probs[0, 0])
    ep = a3c.play_episode(params, seed=0, max_steps=50)
    assert ep.length == len(ep.actions) == len(ep.states) - 1 <= 50


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_and_steps(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    at.button(key="a3c.run.step").click().run()
    assert_ok(at)
    run = at.session_state["a3c.run"]
    assert run.step > 0 and set(run.snaps) == {"A2C", "A3C"}


# ---- practice items: answers recomputed from the numbers shown (brute force, torch, scipy), never the generator's code
def _shown_right(item, want, digits):
    """The correct choice shows `want` rounded (a half-way case may round either way in floating point)."""
    return abs(float(item.choices[item.correct_index].label["en"]) - want) <= 0.5 * 10 ** -digits + 1e-9


def test_practice_kstep_advantage_equals_the_sum_by_hand():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("a3c", "kstep_advantage", seed)
        p = item.params
        k, g = len(p["rewards"]), p["gamma"]
        R = sum(g ** i * r for i, r in enumerate(p["rewards"])) + g ** k * p["vk"]
        assert abs(item.answer - (R - p["v0"])) < 1e-12
        assert _shown_right(item, R - p["v0"], 3)


def test_practice_total_loss_equals_torch_categorical():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("a3c", "total_loss", seed)
        p = item.params
        dist = torch.distributions.Categorical(probs=torch.tensor([p["p_left"], 1 - p["p_left"]], dtype=torch.float64))
        A = p["R"] - p["V"]
        want = float(-A * dist.log_prob(torch.tensor(p["action"])) + p["alpha"] * (p["R"] - p["V"]) ** 2
                     - p["beta"] * dist.entropy())
        assert abs(item.answer - want) < 1e-12
        assert _shown_right(item, want, 4)


def test_practice_entropy_equals_scipy():
    from scipy.stats import entropy

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("a3c", "policy_entropy", seed)
        want = float(entropy(item.params["p"]))
        assert abs(sum(item.params["p"]) - 1) < 1e-12 and abs(item.answer - want) < 1e-12
        assert _shown_right(item, want, 3)


def test_practice_returns_blank_expected_equals_the_sum_by_hand():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("a3c", "returns_blank", seed)
        p = item.params
        k = len(p["rewards"])
        want = []
        for t in range(k):                    # forward: discounted rewards up to the episode end, else bootstrap
            R, cut = 0.0, False
            for i in range(t, k):
                R += p["gamma"] ** (i - t) * p["rewards"][i]
                if p["dones"][i]:
                    cut = True
                    break
            want.append(R if cut else R + p["gamma"] ** (k - t) * p["v_last"])
        assert np.allclose(item.exec.expected, want, atol=1e-12, rtol=0)


def test_practice_statements_hold_numerically():
    """entropy_bonus / beta_greedy: subtracting βH makes a more random policy cheaper, so larger β favours it; the
    uniform policy has the largest entropy (the entropy item's ln n distractor)."""
    from scipy.stats import entropy
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.dirichlet(np.ones(4))
        assert entropy(p) <= np.log(4) + 1e-12
        peaked, flat = np.array([0.97, 0.01, 0.01, 0.01]), np.array([0.4, 0.2, 0.2, 0.2])
        gap = lambda beta: (-beta * entropy(flat)) - (-beta * entropy(peaked))        # noqa: E731
        assert gap(0.1) < gap(0.01) < 0
