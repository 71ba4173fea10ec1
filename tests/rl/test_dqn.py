"""Q-learning and DQN: the grid parser's refusals, value iteration against policy iteration (exact linear solves)
and shortest paths, Q-learning converging to Q*, DQN's loss, gradients and Adam step against stable-baselines3's
DQN.train, Double DQN against torch autograd, the Huber loss, the ε schedule and the replay buffer against
stable-baselines3, the over-estimation measure by brute force, the max-of-noise bias against closed forms, and the
page."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import oracles.dqn as ref
from conftest import assert_ok, run_page
from engine.common import cartpole
from engine.rl import dqn

PAGE = "pages/rl/dqn.py"


# ------------------------------------------------------------------------------------------------ grid world
@pytest.mark.parametrize("text, code", [
    ("", "empty"), ("   \n\t\n", "empty"), ("S.G\n..", "ragged"), ("S.G?", "bad_char"), ("Ｓ.G", "bad_char"),
    ("S.G😀", "bad_char"), ("S.\x00G", "bad_char"), ("...G", "no_start"), ("S.SG", "many_starts"),
    ("S...", "no_goal"), ("S" + "." * 8 + "G", "too_big"), ("\n".join(["S..G"] + ["...."] * 8), "too_big"),
    ("S" * 500, "too_big"),
])
def test_parse_grid_refuses_with_a_code(text, code):
    with pytest.raises(dqn.GridError) as e:
        dqn.parse_grid(text)
    assert e.value.code == code


def test_parse_grid_reads_spaces_and_lower_case():
    g = dqn.parse_grid(" s . g \n x # . ")
    assert g.rows == ("S.G", "X#.") and g.start == 0 and g.shape == (2, 3)
    assert dqn.parse_grid(dqn.DEFAULT_GRID).rows == tuple(dqn.DEFAULT_GRID.split("\n"))


def test_grid_moves_walls_edges_and_terminals():
    g = dqn.parse_grid("S#G\n.X.")
    assert g.step(0, 0) == (0, 0.0, False)          # edge: stay
    assert g.step(0, 1) == (0, 0.0, False)          # wall: stay
    assert g.step(0, 2) == (3, 0.0, False)
    assert g.step(3, 1) == (4, -1.0, True)          # pit
    assert g.step(5, 0) == (2, 1.0, True)           # goal


def _policy_iteration(grid, gamma):
    """Howard's policy iteration with exact evaluation (a linear solve): an algorithm independent of value
    iteration that ends at the optimal Q."""
    nxt, rew, done = dqn.transitions(grid)
    ok = dqn.open_states(grid)
    S = grid.n_states
    pi = np.zeros(S, int)
    for _ in range(200):
        P = np.zeros((S, S))
        r = np.zeros(S)
        for s in np.flatnonzero(ok):
            a = pi[s]
            r[s] = rew[s, a]
            if not done[s, a]:
                P[s, nxt[s, a]] = 1.0
        V = np.linalg.solve(np.eye(S) - gamma * P, r)                  # V = r + γ P V
        Q = rew + gamma * (1 - done) * V[nxt]
        Q[~ok] = 0
        new = np.where(ok, Q.argmax(1), 0)
        stable = np.all(Q[np.arange(S), new] <= Q[np.arange(S), pi] + 1e-12)
        pi = new
        if stable:
            return Q
    raise AssertionError("policy iteration did not stop")


def test_value_iteration_equals_policy_iteration_on_random_grids():
    rng = np.random.default_rng(0)
    for trial in range(30):
        H, W = rng.integers(2, 7, 2)
        cells = rng.choice(list(".#X"), size=H * W, p=[0.7, 0.2, 0.1])
        pos = rng.choice(H * W, 2, replace=False)
        cells[pos[0]], cells[pos[1]] = "S", "G"
        text = "\n".join("".join(cells[r * W:(r + 1) * W]) for r in range(H))
        grid = dqn.parse_grid(text)
        gamma = float(rng.choice([0.5, 0.9, 0.99]))
        vi = dqn.value_iteration(grid, gamma)
        np.testing.assert_allclose(vi.Q, _policy_iteration(grid, gamma), atol=1e-9)


def test_default_grid_values_are_gamma_to_the_shortest_path():
    """Rewards only at G (+1) and X (−1): V*(s) = γ^(d−1) with d the fewest steps to G (breadth-first search)."""
    grid = dqn.parse_grid(dqn.DEFAULT_GRID)
    vi = dqn.value_iteration(grid, 0.9)
    checked = 0
    for s0 in np.flatnonzero(dqn.open_states(grid)):
        dist, frontier, d = {int(s0)}, [int(s0)], 0
        while frontier and not any(grid.cell(s) == "G" for s in frontier):
            d += 1
            frontier = [s2 for s in frontier for a in range(4) for s2 in [grid.step(s, a)[0]]
                        if s2 not in dist and grid.cell(s2) != "X" and not dist.add(s2)]
        if frontier:
            assert vi.V[s0] == pytest.approx(0.9 ** (d - 1), abs=1e-12)
            checked += 1
    assert checked == 14 and vi.V[grid.start] == pytest.approx(0.9 ** 6)


def test_q_learning_converges_to_value_iteration():
    grid = dqn.parse_grid(dqn.DEFAULT_GRID)
    vi = dqn.value_iteration(grid, 0.9)
    last = list(dqn.q_learning(grid, dqn.QConfig(alpha=0.5, epsilon=1.0, episodes=2000, seed=1)))[-1]  # off-policy: random behaviour
    reach = dqn.reachable_states(grid)
    np.testing.assert_allclose(last.Q[reach], vi.Q[reach], atol=1e-4)
    assert np.all(last.Q[~dqn.open_states(grid)] == 0)              # walls and terminals never updated
    assert dqn.greedy_path(grid, last.Q)[-1] == next(s for s in range(grid.n_states) if grid.cell(s) == "G")
    assert len(dqn.greedy_path(grid, last.Q)) - 1 == 7


def test_q_learning_snapshot_records_the_last_update():
    grid = dqn.parse_grid(dqn.DEFAULT_GRID)
    cfg = dqn.QConfig(alpha=0.3, gamma=0.8, epsilon=0.3, episodes=40, seed=2)
    snaps = list(dqn.q_learning(grid, cfg))
    assert snaps[0].episode == 0 and not snaps[0].Q.any() and snaps[0].last is None
    for prev, s in zip(snaps, snaps[1:]):
        u = s.last
        want = u.q_old + cfg.alpha * (u.r + cfg.gamma * (0 if u.done else u.q_next_max) - u.q_old)
        assert u.q_new == pytest.approx(want) and s.Q[u.s, u.a] == u.q_new
        assert s.visits.sum() - prev.visits.sum() == s.length == len(s.path) - 1
    assert dqn.q_update(0.5, 1.0, 2.0, False, 0.1, 0.9) == pytest.approx(0.5 + 0.1 * (1 + 1.8 - 0.5))
    assert dqn.q_update(0.5, 1.0, 2.0, True, 0.1, 0.9) == pytest.approx(0.55)


def test_epsilon_greedy_probabilities_match_sampling():
    rng = np.random.default_rng(0)
    q, eps = np.array([0.1, 0.7, 0.3, 0.2]), 0.3
    p = dqn.epsilon_greedy_probs(q, eps)
    draws = np.where(rng.random(200_000) < eps, rng.integers(0, 4, 200_000), q.argmax())
    np.testing.assert_allclose(p, np.bincount(draws, minlength=4) / 200_000, atol=4e-3)
    assert p[1] == pytest.approx(1 - eps + eps / 4)
    np.testing.assert_allclose(dqn.epsilon_greedy_probs([1, 1, 0, 0], 0.2), [0.45, 0.45, 0.05, 0.05])


# ------------------------------------------------------------------------------------------------ DQN
def _batch(seed=0, N=32, hidden=16, target_noise=0.05):
    """A minibatch from a real buffer (random policy on CartPole, episodes ending inside it)."""
    rng = np.random.default_rng(seed)
    params = dqn.init_params(hidden, rng)
    target = [p + target_noise * rng.standard_normal(p.shape) for p in params]
    buf = dqn.ReplayBuffer(500)
    env = cartpole.VecCartPole(1, rng)
    o = env.obs()[0]
    for t in range(500):
        a = int(rng.integers(2))
        o2, r, term, trunc, final = env.step(np.array([a]))
        buf.add(o, a, r[0], final[0], bool(term[0]), 0)
        o = o2[0]
    ob, ac, rw, nob, dn = buf.batch(buf.sample_indices(N, rng))
    rw = rw + rng.standard_normal(N) * 3                 # large TD errors: both branches of the Huber loss
    return params, target, ob, ac, rw, nob, dn


def test_dqn_loss_gradients_and_step_equal_stable_baselines3():
    params, target, ob, ac, rw, nob, dn = _batch()
    params, target = ([p.astype(np.float32).astype(np.float64) for p in ps] for ps in (params, target))
    rw = rw.astype(np.float32).astype(np.float64)        # stable-baselines3 computes in float32: same inputs
    assert 0 < dn.sum() < len(dn)
    lr, gamma, clip = 1e-3, 0.97, 0.1
    sb3 = ref.sb3_dqn_train_step(params, target, ob, ac, rw, nob, dn, gamma=gamma, learning_rate=lr,
                                 max_grad_norm=clip)
    y = dqn.td_targets(params, target, rw, nob, dn, gamma, double=False)
    loss = dqn.loss_and_grads(params, ob, ac, y)
    assert np.abs(loss.td_error).max() > 1 and np.abs(loss.td_error).min() < 1
    assert loss.loss == pytest.approx(sb3["loss"], rel=1e-5)
    grads, norm = dqn.clip_grad_norm(loss.grads, clip)
    assert norm > clip                                   # the clipping is exercised
    for mine, theirs in zip(grads, sb3["grads"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    mine = [p.copy() for p in params]
    dqn.NumpyAdam(mine, lr=lr).step(grads)
    for p, q, p0 in zip(mine, sb3["params"], params):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(p - p0, q - p0, atol=1e-5)      # the steps themselves (size ≈ lr) agree


def test_double_dqn_targets_and_gradients_equal_torch():
    params, target, ob, ac, rw, nob, dn = _batch(seed=1)
    target[4], target[5] = target[4][:, ::-1].copy(), target[5][::-1].copy()   # θ⁻ prefers the other action
    oracle = ref.torch_double_dqn(params, target, ob, ac, rw, nob, dn, 0.99)
    y = dqn.td_targets(params, target, rw, nob, dn, 0.99, double=True)
    np.testing.assert_allclose(y, oracle["targets"], rtol=1e-12)
    loss = dqn.loss_and_grads(params, ob, ac, y)
    assert loss.loss == pytest.approx(oracle["loss"], rel=1e-10)
    for mine, theirs in zip(loss.grads, oracle["grads"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-12)
    y_dqn = dqn.td_targets(params, target, rw, nob, dn, 0.99, double=False)
    assert np.all(y <= y_dqn + 1e-12) and np.any(y < y_dqn)   # Q⁻(s', a*) ≤ max_a Q⁻(s', a)


def test_huber_equals_torch_smooth_l1():
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    want = torch.nn.functional.smooth_l1_loss(x, torch.zeros_like(x), reduction="none").numpy()
    np.testing.assert_allclose(dqn.huber(x.numpy()), want, rtol=1e-12, atol=1e-15)


def test_epsilon_schedule_equals_stable_baselines3():
    from stable_baselines3.common.utils import LinearSchedule
    total, frac = 10_000, 0.3
    sched = LinearSchedule(1.0, 0.05, frac)
    for step in range(0, total + 1, 37):
        assert dqn.linear_epsilon(step, 1.0, 0.05, frac, total) == pytest.approx(sched(1 - step / total), abs=1e-12)


def test_replay_buffer_dones_equal_stable_baselines3_with_time_limits():
    env = cartpole.VecCartPole(1, np.random.default_rng(0))
    env.t[:] = 480                                       # a time-limit truncation inside the rollout
    buf, rows = dqn.ReplayBuffer(64), []
    o = env.obs()[0]
    seen_trunc = False
    for _ in range(60):
        a = 0 if seen_trunc else int(o[2] + o[3] > 0)   # balance until the time limit, then fall (terminate)
        o2, r, term, trunc, final = env.step(np.array([a]))
        buf.add(o, a, r[0], final[0], bool(term[0]), 0)
        rows.append((o, final[0], a, r[0], bool(term[0]), bool(trunc[0])))
        seen_trunc |= bool(trunc[0])
        o = o2[0]
    assert any(t for *_, t in rows) and any(te for *_, te, _ in rows)
    np.testing.assert_array_equal(buf.dones[:60], ref.sb3_replay_dones(rows, 64))
    assert buf.size == 60 and buf.recent_indices(3).tolist() == [57, 58, 59]


def test_measure_estimate_by_brute_force():
    rng = np.random.default_rng(2)
    params = dqn.init_params(8, rng)
    est = dqn.measure_estimate(params, 0.9, seed=3, n_episodes=2)
    # replay the same two greedy episodes one by one
    s0 = cartpole.reset_states(np.random.default_rng([3, 7]), 2)
    qs, Gs, lens = [], [], []
    for e in range(2):
        s, states = s0[e:e + 1], []
        for t in range(1000):
            states.append(s.copy())
            s, term = cartpole.step_states(s, dqn.q_values(params, s.astype(np.float32)).argmax(1))
            if term[0]:
                break
        T = len(states)
        lens.append(min(T, 500))
        for t in range(min(T, 500)):
            qs.append(dqn.q_values(params, states[t].astype(np.float32)).max())
            Gs.append(sum(0.9 ** k for k in range(T - t)))
    assert est.n_states == len(qs)
    assert est.q_max == pytest.approx(np.mean(qs)) and est.true_return == pytest.approx(np.mean(Gs))
    assert est.episode_return == pytest.approx(np.mean(lens))


def test_training_is_deterministic_and_both_start_from_the_same_theta():
    cfg = dqn.Config(max_env_steps=1_500, learning_starts=500, snapshot_every=500)
    for double in (False, True):
        a, b = list(dqn.train_dqn(cfg, double)), list(dqn.train_dqn(cfg, double))
        for x, y in zip(a, b):
            assert x.metrics == y.metrics and all(np.array_equal(p, q) for p, q in zip(x.params, y.params))
        want = sum(1 for t in range(cfg.learning_starts + 1, 1_501) if t % cfg.train_freq == 0)
        assert a[-1].updates == want and a[-1].target_updates == 1_500 // cfg.target_update_interval
    first = [next(dqn.train_dqn(cfg, d)) for d in (False, True)]
    assert first[0].metrics == first[1].metrics
    assert all(np.array_equal(p, q) for p, q in zip(first[0].params, first[1].params))
    assert 10 < first[0].metrics["return"] < 40               # ε = 1 at step 0: a random policy's ~22


@pytest.mark.slow
def test_dqn_learns_cartpole():
    """Seed 0 at the page's defaults: mean return ≥ 195 over 20 episodes within the 50 000 steps (≈ 20 000)."""
    solved = next((s for s in dqn.train_dqn(dqn.Config(seed=0)) if s.episodes >= 20 and s.metrics["return"] >= 195),
                  None)
    assert solved is not None and solved.step <= 30_000


# ------------------------------------------------------------------------------------------------ replay, bias
def test_replay_demo_consecutive_batches_are_correlated():
    demo = dqn.replay_demo(2_000, 32, seed=0)
    th = demo.theta
    for idx, rho in ((demo.recent, demo.corr_recent), (demo.uniform, demo.corr_uniform)):
        x = th[idx]
        want = np.sum((x[:-1] - x.mean()) * (x[1:] - x.mean())) / np.sum((x - x.mean()) ** 2)
        assert rho == pytest.approx(want)
    assert demo.corr_recent > 0.5 > abs(demo.corr_uniform)
    assert demo.episodes_uniform > demo.episodes_recent
    assert demo.recent.tolist() == list(range(2_000 - 32, 2_000))


def test_max_of_noisy_estimates_against_closed_forms():
    # E[max of 2 standard normals] = 1/√π, of 3 = 3/(2√π)
    assert dqn.expected_max_normal(2) == pytest.approx(1 / math.sqrt(math.pi), abs=1e-9)
    assert dqn.expected_max_normal(3) == pytest.approx(3 / (2 * math.sqrt(math.pi)), abs=1e-9)
    assert dqn.expected_max_normal(1) == pytest.approx(0, abs=1e-9)
    mb = dqn.max_bias([2, 3, 10], sigma=0.5, trials=40_000, seed=0)
    np.testing.assert_allclose(mb.single, mb.exact, atol=0.02)
    np.testing.assert_allclose(mb.double, 0, atol=0.02)


# ------------------------------------------------------------------------------------------------ page
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_and_steps(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    at.button(key="dqn.run.step").click().run()
    assert_ok(at)
    run = at.session_state["dqn.run"]
    assert run.step > 0 and set(run.snaps) == {"dqn", "double", "no_replay"}


def test_page_shows_a_translated_message_for_a_bad_grid():
    at = run_page(PAGE, lang="ja")
    at.text_area(key="dqn.grid").set_value("S..?\n....").run()
    assert_ok(at)
    assert len(at.error) == 1 and "以外の文字" in at.error[0].value          # bad_char, in Japanese
    assert at.session_state["dqn.run"] is not None                          # the rest of the page still ran


# ---- practice items: answers recomputed from the numbers shown (by hand, torch, stable-baselines3), never the
# ---- generator's code path
def _shown_right(item, want, digits):
    return abs(float(item.choices[item.correct_index].label["en"]) - want) <= 0.5 * 10 ** -digits + 1e-9


def test_practice_q_update_equals_the_update_by_hand():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("dqn", "q_update_value", seed)
        p = item.params
        want = p["q_sa"] + p["alpha"] * (p["r"] + p["gamma"] * max(p["q_next"]) - p["q_sa"])
        assert abs(item.answer - want) < 1e-12 and _shown_right(item, want, 4)
        assert p["q_next"][p["a_next"]] < max(p["q_next"])              # the action taken next is not greedy


def test_practice_double_target_equals_torch():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("dqn", "double_target", seed)
        p = item.params
        q_on, q_tg = (torch.tensor(p[k], dtype=torch.float64) for k in ("q_online", "q_target"))
        want = float(p["r"] + p["gamma"] * q_tg[torch.argmax(q_on)])
        assert abs(item.answer - want) < 1e-9 and _shown_right(item, want, 3)
        assert want < p["r"] + p["gamma"] * float(q_tg.max())          # the drawn case tells Double from DQN


def test_practice_greedy_probability_equals_stable_baselines3_schedule():
    from stable_baselines3.common.utils import LinearSchedule

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("dqn", "greedy_probability", seed)
        p = item.params
        eps = LinearSchedule(p["e0"], p["e1"], p["fraction"])(1 - p["t"] / p["T"])
        want = 1 - eps + eps / p["n_actions"]
        assert abs(item.answer - want) < 1e-9 and _shown_right(item, want, 4)


def test_practice_blank_expected_equals_torch_double_targets():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("dqn", "double_blank", seed)
        p = item.params
        q_on, q_tg = (torch.tensor(p[k], dtype=torch.float64) for k in ("q_online", "q_target"))
        a = q_on.argmax(1, keepdim=True)
        want = torch.tensor(p["rewards"], dtype=torch.float64) + p["gamma"] * (1 - torch.tensor(p["dones"], dtype=torch.float64)) * q_tg.gather(1, a)[:, 0]
        np.testing.assert_allclose(item.exec.expected, want.numpy(), atol=1e-12)


def test_practice_statements_hold_numerically():
    """max_bias / underestimate: the max of unbiased noisy estimates is biased upwards; eps_greedy_prob /
    greedy_1_minus_eps: sampled ε-greedy picks the greedy action 1 − ε + ε/|A| of the time, not 1 − ε."""
    rng = np.random.default_rng(0)
    est = rng.standard_normal((100_000, 4))                            # true values all 0
    assert est.max(1).mean() > 0.9                                     # E[max of 4 normals] ≈ 1.03
    eps, n = 0.3, 4
    picks = np.where(rng.random(100_000) < eps, rng.integers(0, n, 100_000), 0)
    share = (picks == 0).mean()
    assert abs(share - (1 - eps + eps / n)) < 0.005 and abs(share - (1 - eps)) > 0.05


def test_bootstrap_ceiling_is_the_partial_geometric_sum_and_tracks_q_early():
    for n, g in ((0, 0.99), (1, 0.9), (7, 0.95), (100, 0.99)):
        assert dqn.bootstrap_ceiling(n, g) == pytest.approx(sum(g ** i for i in range(n)))
    snaps = list(dqn.train_dqn(dqn.Config(max_env_steps=4_000, snapshot_every=500)))
    assert [s.metrics["q_ceiling"] for s in snaps[:3]] == [0.0, 0.0, 0.0]          # no gradient step before 1 000
    for s in snaps[3:]:                                                            # Q climbs just under it
        assert 0.3 * s.metrics["q_ceiling"] < s.metrics["q_max"] < 1.2 * s.metrics["q_ceiling"]


def test_practice_huber_expected_equals_torch_smooth_l1():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("dqn", "huber_implementation", seed)
        p = item.params
        want = torch.nn.functional.smooth_l1_loss(torch.tensor(p["q_sa"], dtype=torch.float64),
                                                  torch.tensor(p["y"], dtype=torch.float64))
        assert abs(item.exec.expected - float(want)) < 1e-12


def test_without_replay_each_batch_is_the_last_transitions_in_order(monkeypatch):
    """replay=False: every gradient step trains on the batch_size most recent transitions, consecutive in time (each
    state is the previous transition's next state unless an episode ended between them); replay=True samples."""
    seen = []
    real = dqn.loss_and_grads

    def spy(params, obs, actions, targets):
        seen.append(obs.copy())
        return real(params, obs, actions, targets)

    monkeypatch.setattr(dqn, "loss_and_grads", spy)
    cfg = dqn.Config(max_env_steps=1_200, learning_starts=1_000, batch_size=16, snapshot_every=600)
    list(dqn.train_dqn(cfg, replay=False))
    recent, seen[:] = list(seen), []
    list(dqn.train_dqn(cfg, replay=True))
    sampled = list(seen)
    assert len(recent) == len(sampled) == 50
    # consecutive: mostly one physics step apart (|Δx| ≤ τ·|ẋ|max), sampled ones jump between episodes
    jump = lambda b: np.mean(np.abs(np.diff(b[:, 0])) > 0.05)            # noqa: E731
    assert np.mean([jump(b) for b in recent]) < 0.15 < np.mean([jump(b) for b in sampled])
    for a, b in zip(recent, recent[1:]):                                   # train_freq 4: the window slides by 4
        np.testing.assert_array_equal(a[cfg.train_freq:], b[:-cfg.train_freq])
