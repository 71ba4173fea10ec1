"""MAML: the meta-gradient against torch.autograd (create_graph=True), torch.func, the closed form and central
finite differences; FOMAML's and Reptile's updates against brute force; the batched sinusoid meta-step against a
per-task loop; divergence, bad input, and the page."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine.paradigms import maml

PAGE = "pages/paradigms/maml.py"


def _torch_tasks(tasks):
    f = lambda a: torch.tensor(a, dtype=torch.float64)
    return [(f(t.A_s), f(t.c_s), f(t.A_q), f(t.c_q)) for t in tasks]


def _quad(A, c, th):
    d = th - c
    return 0.5 * d @ A @ d


@pytest.mark.parametrize("kind,steps,alpha", [("quadratic", 1, 0.3), ("quadratic", 3, 0.2), ("linreg", 1, 0.4),
                                              ("linreg", 2, 0.1), ("quadratic", 0, 0.3)])
def test_meta_gradient_equals_autograd_torch_func_and_finite_differences(kind, steps, alpha):
    rng = np.random.default_rng(3)
    tasks = maml.make_tasks_2d(kind, 4, rng)
    theta = np.array([1.3, -0.7])
    mg = maml.meta_gradient_2d(tasks, theta, alpha, steps)
    tt = _torch_tasks(tasks)

    # autograd with create_graph=True, through the engine's own inner loop (batched over tasks)
    th = torch.tensor(theta, requires_grad=True)
    per_task = [th.expand(len(tasks), 2)]
    support = lambda ps: sum(_quad(A_s, c_s, ps[0][i]) for i, (A_s, c_s, _, _) in enumerate(tt))
    adapted = maml.inner_loop(per_task, support, alpha, steps)
    F = sum(_quad(A_q, c_q, adapted[0][i]) for i, (_, _, A_q, c_q) in enumerate(tt)) / len(tasks)
    (g_autograd,) = torch.autograd.grad(F, th)
    np.testing.assert_allclose(mg.maml, g_autograd.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mg.theta_prime, adapted[0].detach().numpy(), rtol=1e-10, atol=1e-12)

    # torch.func: grad of the inner loss inside grad of the outer loss
    from torch.func import grad

    def objective(th):
        total = 0.0
        for A_s, c_s, A_q, c_q in tt:
            p = th
            for _ in range(steps):
                p = p - alpha * grad(lambda q: _quad(A_s, c_s, q))(p)
            total = total + _quad(A_q, c_q, p)
        return total / len(tt)

    np.testing.assert_allclose(mg.maml, grad(objective)(torch.tensor(theta)).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mg.maml, mg.fd, rtol=1e-6, atol=1e-7)
    assert mg.fd_error < 1e-6

    # FOMAML through the engine's inner loop: the query gradient at θ′ only
    th2 = torch.tensor(theta, requires_grad=True)
    adapted_fo = maml.inner_loop([th2.expand(len(tasks), 2)], support, alpha, steps, first_order=True)
    F_fo = sum(_quad(A_q, c_q, adapted_fo[0][i]) for i, (_, _, A_q, c_q) in enumerate(tt)) / len(tasks)
    np.testing.assert_allclose(mg.first_order, torch.autograd.grad(F_fo, th2)[0].numpy(), rtol=1e-10, atol=1e-12)


def test_one_step_closed_form_and_what_fomaml_drops():
    """Same support and query loss, one step: ∇ = (I − αA) A (θ′ − c); FOMAML = A (θ′ − c)."""
    rng = np.random.default_rng(0)
    tasks = maml.make_tasks_2d("quadratic", 3, rng)
    theta, alpha = np.array([-1.0, 2.0]), 0.35
    mg = maml.meta_gradient_2d(tasks, theta, alpha, 1)
    full, fo = np.zeros(2), np.zeros(2)
    for t in tasks:
        tp = theta - alpha * t.A_s @ (theta - t.c_s)
        fo += t.A_s @ (tp - t.c_s) / 3
        full += (np.eye(2) - alpha * t.A_s) @ t.A_s @ (tp - t.c_s) / 3
    np.testing.assert_allclose(mg.maml, full, rtol=1e-12)
    np.testing.assert_allclose(mg.first_order, fo, rtol=1e-12)
    np.testing.assert_allclose(mg.hessian_term, full - fo, rtol=1e-12, atol=1e-15)
    zero = maml.meta_gradient_2d(tasks, theta, alpha, 0)          # θ′ = θ: MAML = FOMAML = plain gradient
    np.testing.assert_allclose(zero.maml, zero.first_order)
    np.testing.assert_allclose(zero.reptile, 0)


def test_reptile_direction_by_brute_force():
    rng = np.random.default_rng(5)
    tasks = maml.make_tasks_2d("linreg", 3, rng, K=4)
    theta, alpha, k = np.array([0.5, 0.5]), 0.2, 4
    mg = maml.meta_gradient_2d(tasks, theta, alpha, k)
    moved = []
    for t in tasks:
        p = theta.copy()
        for _ in range(k):
            g = np.array([(maml._quad(t.A_s, t.c_s, t.e_s, p + 1e-6 * e) - maml._quad(t.A_s, t.c_s, t.e_s, p - 1e-6 * e))
                          / 2e-6 for e in np.eye(2)])
            p = p - alpha * g
        moved.append(p)
    np.testing.assert_allclose(mg.reptile, theta - np.mean(moved, 0), rtol=1e-6)


def test_linreg_tasks_are_the_mse_of_a_line():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1, 1, 6), rng.standard_normal(6)
    A, c, e = maml._mse_as_quadratic(x, y)
    for th in rng.standard_normal((5, 2)):
        assert maml._quad(A, c, e, th) == pytest.approx(np.mean((th[0] * x + th[1] - y) ** 2), rel=1e-10)


def test_divergence_flag_when_alpha_overshoots():
    tasks = maml.make_tasks_2d("quadratic", 2, np.random.default_rng(0))
    lam = max(np.linalg.eigvalsh(t.A_s).max() for t in tasks)
    assert not maml.meta_gradient_2d(tasks, np.zeros(2), 1.9 / lam, 1).diverged
    assert maml.meta_gradient_2d(tasks, np.zeros(2), 2.1 / lam, 1).diverged


# ------------------------------------------------------------------------------------------------ sinusoids
def _batch(seed=0, T=3, K=5, Q=4):
    return maml._t(maml.sample_sine_tasks(np.random.default_rng(seed), T, K, Q)[:4])


@pytest.mark.parametrize("method,steps", [("maml", 1), ("maml", 2), ("fomaml", 2), ("reptile", 3), ("pretrain", 1)])
def test_batched_meta_step_equals_a_per_task_loop(method, steps):
    """The engine batches tasks through expanded views of θ; the oracle adapts one task at a time in float64."""
    cfg = maml.SineConfig(alpha=0.05, inner_steps=steps, hidden=8)
    xs, ys, xq, yq = _batch()
    theta = [p.requires_grad_(True) for p in maml.init_params(8, 0)]
    mine, _ = maml.meta_step(method, theta, (xs, ys, xq, yq), cfg)
    th64 = [p.detach().double().requires_grad_(True) for p in theta]
    mse = lambda ps, x, y: ((maml.forward(ps, x.double()) - y.double()) ** 2).mean()
    total = [torch.zeros_like(p) for p in th64]
    for i in range(xs.shape[0]):
        s = (xs[i:i + 1], ys[i:i + 1])
        q = (xq[i:i + 1], yq[i:i + 1])
        if method == "pretrain":
            g = torch.autograd.grad((mse(th64, *s) + mse(th64, *q)) / 2, th64)
        elif method == "reptile":
            a = [p.detach().clone() for p in th64]
            xa, ya = torch.cat([s[0], q[0]], 1), torch.cat([s[1], q[1]], 1)
            for _ in range(steps):
                a = [p.requires_grad_(True) for p in a]
                gr = torch.autograd.grad(mse(a, xa, ya), a)
                a = [(p - 0.05 * g_).detach() for p, g_ in zip(a, gr)]
            g = [p.detach() - q_ for p, q_ in zip(th64, a)]
        else:
            p = th64
            for _ in range(steps):
                gr = torch.autograd.grad(mse(p, *s), p, create_graph=method == "maml")
                p = [w - 0.05 * (g_ if method == "maml" else g_.detach()) for w, g_ in zip(p, gr)]
            g = torch.autograd.grad(mse(p, *q), th64)
        total = [a + b / xs.shape[0] for a, b in zip(total, g)]
    for a, b in zip(mine, total):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=2e-4, atol=1e-6)


def test_training_is_deterministic_same_init_and_finite():
    cfg = maml.SineConfig(max_steps=6, snapshot_every=3, meta_batch=3, hidden=8, n_eval=3)
    runs = {m: list(maml.train_sine(m, cfg)) for m in maml.METHODS}
    again = list(maml.train_sine("maml", cfg))
    assert [s.step for s in runs["maml"]] == [0, 3, 6]
    for a, b in zip(runs["maml"], again):
        assert all(np.array_equal(x, y) for x, y in zip(a.params, b.params))
    firsts = [runs[m][0].params for m in maml.METHODS]          # the same initial weights for every method
    assert all(np.array_equal(a, b) for p in firsts[1:] for a, b in zip(p, firsts[0]))
    assert all(np.isfinite(s.metrics["query_mse"]) for r in runs.values() for s in r)


def test_huge_rates_give_a_clear_diverged_state_not_nans():
    cfg = maml.SineConfig(alpha=3.0, beta=10.0, max_steps=300, snapshot_every=5, meta_batch=3, hidden=8, n_eval=3)
    snaps = list(maml.train_sine("maml", cfg))
    assert snaps[-1].diverged and snaps[-1].step < 300
    assert all(np.all(np.isfinite(p)) for p in snaps[-1].params)
    assert "query_mse" not in snaps[-1].metrics
    ad = maml.adapt_new_task({"maml": snaps[-1].params}, 2.0, 1.0, 5, 3.0, 10, 0, hidden=8)
    assert all(np.isnan(v).any() or np.isfinite(v).all() for v in ad.losses.values())


def test_bad_input_messages():
    with pytest.raises(ValueError, match="larger than the support set"):
        maml.adapt_new_task({}, 1.0, 0.0, 5, 0.01, 3, 0, x_support=[0.0, 1.0])
    with pytest.raises(ValueError, match="K must"):
        maml.validate(maml.SineConfig(K=0))
    from engine.common.text import TextError

    for bad, code in (("", "empty"), ("1, x", "not_a_number"), ("9", "out_of_range"), ("1 " * 30, "too_many"),
                      ("1" * 401, "too_long"), ("1, nan", "not_a_number"), ("-６", "out_of_range")):
        with pytest.raises(TextError) as err:
            maml.parse_x_list(bad)
        assert err.value.code == code
    np.testing.assert_array_equal(maml.parse_x_list("-4, 2 3.5"), [-4, 2, 3.5])
    # typed with a Japanese IME: full-width digits, commas, minus signs
    np.testing.assert_array_equal(maml.parse_x_list("－４，２　３．５、−1"), [-4, 2, 3.5, -1])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_reads_ime_numbers_and_translates_every_reason(lang):
    from ui.i18n import lookup

    at = run_page("pages/paradigms/maml.py", lang=lang)
    at.radio(key="maml.new.mode").set_value("own").run()
    at.text_input(key="maml.new.xs").set_value("－４，－２，０，１．５，３").run()
    assert_ok(at)
    assert not at.error
    for bad, code, params in (("1, x", "not_a_number", {"token": "x"}), ("9", "out_of_range",
                                                                       {"token": "9", "low": "−5", "high": "5"})):
        at.text_input(key="maml.new.xs").set_value(bad).run()
        [error] = at.error
        assert lookup(f"common.text.{code}", lang).format(**params) in error.value


def test_adaptation_zero_steps_is_the_initialisation_and_sgd_lowers_support_loss():
    init = [p.numpy() for p in maml.init_params(8, 7)]
    ad = maml.adapt_new_task({"maml": init}, 2.0, 0.5, 10, 0.02, 0, 0, hidden=8)
    assert ad.losses["maml"].shape == (1,) and set(ad.losses) == {"maml", "scratch"}
    ad = maml.adapt_new_task({"maml": init}, 2.0, 0.5, 10, 0.02, 5, 0, hidden=8)
    assert ad.preds["maml"].shape == (3, 100) and np.all(np.isfinite(ad.losses["maml"]))


def test_memory_of_maml_grows_faster_than_fomaml():
    cost = maml.measure_cost([1, 2, 3], maml.SineConfig(hidden=8, meta_batch=2), repeat=1)
    m, f = cost.saved_bytes["maml"], cost.saved_bytes["fomaml"]
    assert np.all(np.diff(m) > 0) and np.all(m > f)
    assert m[-1] - m[0] > f[-1] - f[0]


# ------------------------------------------------------------------------------------------------ the page
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs_and_steps(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    at.button(key="maml.run.step").click().run()
    assert_ok(at)
    run = at.session_state["maml.run"]
    assert set(run.snaps) == set(maml.METHODS) and run.step == 25


def test_page_bad_inputs_show_messages():
    at = run_page(PAGE)
    at.slider(key="maml.two.alpha").set_value(1.5).run()
    assert_ok(at)
    assert any("Diverged" in e.value for e in at.error)
    at.slider(key="maml.two.steps").set_value(0).run()
    assert any("zero inner steps" in i.value for i in at.info)
    at.radio(key="maml.new.mode").set_value("own").run()
    assert any("larger than your support set" in w.value for w in at.warning)
    at.text_input(key="maml.new.xs").set_value("1, banana").run()
    assert_ok(at)
    assert any("banana" in e.value for e in at.error)


def test_the_shared_adaptation_cache_keys_every_setting():
    """The adaptation to the reader's task is cached across readers (pages/paradigms/maml.py `adapt`): what the page
    says is the engine's result for this session's initialisations and task, and every task setting reaches the key."""
    from ui.training import Run

    def best(at) -> str:
        return next(c.value for c in at.caption if c.value.startswith("Lowest query MSE"))

    at = run_page("pages/paradigms/maml.py")
    first = best(at)
    run = next(v for v in at.session_state.values() if isinstance(v, Run))
    ad = maml.adapt_new_task({k: s.params for k, s in run.snaps.items()}, 2.0, 1.0, run.config.K, run.config.alpha,
                             10, run.config.seed)
    last = {k: v[-1] for k, v in ad.losses.items()}
    assert f"({min(v for v in last.values() if np.isfinite(v)):.3f})" in first
    for key, value in (("maml.new.amp", 4.0), ("maml.new.phase", 2.0), ("maml.new.steps", 3)):
        at.slider(key=key).set_value(value).run()
        assert_ok(at)
        assert best(at) != first, key
        at.slider(key=key).set_value({"maml.new.amp": 2.0, "maml.new.phase": 1.0, "maml.new.steps": 10}[key]).run()
        assert best(at) == first


# ---- practice items: answers recomputed from the numbers shown with torch autograd (never the generator's code)
def test_practice_inner_step_and_meta_gradient_equal_torch_autograd():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("maml", "inner_step", seed)
        p = item.params
        th = torch.tensor(p["theta"], dtype=torch.float64, requires_grad=True)
        for _ in range(p["k"]):
            g, = torch.autograd.grad(p["b"] * (th - p["c"]) ** 2, th)
            th = (th - p["alpha"] * g).detach().requires_grad_()
        assert abs(item.answer - float(th)) < 1e-12
        assert abs(float(item.choices[item.correct_index].label["en"]) - float(th)) <= 5e-4 + 1e-9
        item = P.make("maml", "meta_gradient", seed)
        p = item.params
        th = torch.tensor(p["theta"], dtype=torch.float64, requires_grad=True)
        g, = torch.autograd.grad(p["b"] * (th - p["c_s"]) ** 2, th, create_graph=True)
        th_p = th - p["alpha"] * g
        want, = torch.autograd.grad(p["b"] * (th_p - p["c_q"]) ** 2, th)
        assert abs(item.answer - float(want)) < 1e-12
        assert abs(float(item.choices[item.correct_index].label["en"]) - float(want)) <= 5e-4 + 1e-9


def test_practice_reptile_blank_expected_by_brute_force():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("maml", "reptile_blank", seed)
        p = item.params
        adapted = []
        for a, c in p["tasks"]:
            phi = p["theta"]
            for _ in range(p["k"]):
                phi -= p["alpha"] * a * (phi - c)
            adapted.append(phi)
        want = p["theta"] + p["eps"] * (sum(adapted) / len(adapted) - p["theta"])
        assert abs(item.exec.expected - want) < 1e-12


def test_practice_statements_hold_numerically():
    """zero_steps (true): with k = 0 MAML's gradient is the average loss gradient and Reptile's direction is zero;
    fomaml (true): FOMAML's gradient is the query gradient at θ′, differing from MAML's by the factor 1 − αA."""
    rng = np.random.default_rng(0)
    tasks = maml.make_tasks_2d("quadratic", 3, rng)
    theta = np.array([1.0, -0.5])
    mg0 = maml.meta_gradient_2d(tasks, theta, 0.3, 0, grid=3)
    avg = np.mean([t.A_q @ (theta - t.c_q) for t in tasks], 0)
    np.testing.assert_allclose(mg0.maml, avg, atol=1e-12)
    np.testing.assert_allclose(mg0.reptile, 0, atol=1e-12)
    mg1 = maml.meta_gradient_2d(tasks, theta, 0.3, 1, grid=3)
    assert np.linalg.norm(mg1.maml - mg1.first_order) > 1e-3
