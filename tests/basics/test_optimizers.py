"""Optimisers chapter: surfaces, race, schedules and the digits MLP against torch (autograd, torch.optim,
torch.optim.lr_scheduler)."""
from __future__ import annotations

import zlib
from itertools import islice

import numpy as np
import pytest
import torch

from engine.basics import optimizers as O

TORCH_OPT = {
    "sgd": lambda p, c: torch.optim.SGD(p, lr=c.lr),
    "momentum": lambda p, c: torch.optim.SGD(p, lr=c.lr, momentum=c.momentum, dampening=0),
    "nesterov": lambda p, c: torch.optim.SGD(p, lr=c.lr, momentum=c.momentum, dampening=0, nesterov=True),
    "adagrad": lambda p, c: torch.optim.Adagrad(p, lr=c.lr, eps=c.eps),
    "rmsprop": lambda p, c: torch.optim.RMSprop(p, lr=c.lr, alpha=c.rho, eps=c.eps),
    "adam": lambda p, c: torch.optim.Adam(p, lr=c.lr, betas=(c.beta1, c.beta2), eps=c.eps, foreach=False),
    "adamw": lambda p, c: torch.optim.AdamW(p, lr=c.lr, betas=(c.beta1, c.beta2), eps=c.eps,
                                            weight_decay=c.weight_decay, foreach=False),
}


def _torch_f(name, xy):
    x, y = xy[0], xy[1]
    if name == "ill_conditioned":
        return x ** 2 / 20 + y ** 2
    if name == "rosenbrock":
        return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
    if name == "saddle":
        return x ** 2 - y ** 2 + y ** 4 / 4
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


@pytest.mark.parametrize("surface", O.SURFACES)
def test_surface_gradient_is_autograd(surface):
    s = O.SURFACE[surface]
    rng = np.random.default_rng(0)
    for _ in range(20):
        x, y = rng.uniform(*s.x_range), rng.uniform(*s.y_range)
        xy = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        f = _torch_f(surface, xy)
        f.backward()
        np.testing.assert_allclose(s.f(x, y), f.item(), rtol=1e-12)
        np.testing.assert_allclose(s.grad(x, y), xy.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert abs(s.f(*s.minimum) - s.f_min) < 1e-12
    np.testing.assert_allclose(s.grad(*s.minimum), 0.0, atol=1e-12)


@pytest.mark.parametrize("surface,schedule", [("rosenbrock", "constant"), ("beale", "cosine"),
                                              ("saddle", "warmup"), ("ill_conditioned", "step")])
def test_race_equals_torch_optim_with_scheduler(surface, schedule):
    """Every optimiser's trajectory = torch.optim driven by autograd on the same surface and lr schedule."""
    rng = np.random.default_rng(zlib.crc32(surface.encode()))       # str hash() changes per process
    s = O.SURFACE[surface]
    cfg = O.RaceConfig(surface=surface, x0=float(rng.uniform(*s.x_range) / 2), y0=float(rng.uniform(*s.y_range) / 2),
                       lr=s.lr, steps=120, every=40, schedule=schedule, beta1=0.8, beta2=0.99, rho=0.95, eps=1e-6)
    snap = list(O.race(cfg))[-1]
    assert snap.step == 120 and snap.path.shape == (7, 121, 2)
    for k, name in enumerate(snap.names):
        xy = torch.tensor([cfg.x0, cfg.y0], dtype=torch.float64, requires_grad=True)
        opt = TORCH_OPT[name]([xy], O.resolved(cfg))
        sched = _torch_schedule(opt, schedule, 120)
        for t in range(120):
            assert opt.param_groups[0]["lr"] == pytest.approx(snap.lr[t], rel=1e-9)
            opt.zero_grad()
            _torch_f(surface, xy).backward()
            opt.step()
            if sched is not None:
                sched.step()
            if snap.diverged[k]:
                break
            np.testing.assert_allclose(snap.path[k, t + 1], xy.detach().numpy(), rtol=1e-7, atol=1e-9,
                                       err_msg=f"{name} step {t + 1}")
        np.testing.assert_allclose(snap.loss[k], _np_loss(surface, snap.path[k]), rtol=1e-12, atol=1e-300)


def _np_loss(surface, path):
    s = O.SURFACE[surface]
    return s.f(path[:, 0], path[:, 1]) - s.f_min


def _torch_schedule(opt, schedule, total):
    S = torch.optim.lr_scheduler
    if schedule == "constant":
        return None
    if schedule == "step":
        return S.StepLR(opt, step_size=total // 4, gamma=0.5)
    if schedule == "cosine":
        return S.CosineAnnealingLR(opt, T_max=total)
    w = total // 10
    return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=1 / w, total_iters=w),
                                S.CosineAnnealingLR(opt, T_max=total - w)], milestones=[w])


@pytest.mark.parametrize("schedule", O.SCHEDULES)
@pytest.mark.parametrize("total", [40, 97])
def test_schedules_equal_torch_lr_scheduler(schedule, total):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.3)
    sched = _torch_schedule(opt, schedule, total)
    for t in range(total):
        assert O.scheduled_lr(schedule, 0.3, t, total) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-15)
        opt.step()
        if sched is not None:
            sched.step()


def test_snapshots_never_change_after_they_are_yielded():
    it = O.race(O.RaceConfig(steps=60, every=20))
    first = next(it)
    kept = first.path.copy()
    list(it)
    np.testing.assert_array_equal(first.path, kept)
    with pytest.raises(ValueError):
        first.path[0, 0, 0] = 1.0


def test_divergence_is_caught_and_frozen():
    snap = list(O.race(O.RaceConfig(surface="rosenbrock", lr=0.05, steps=100, every=50)))[-1]
    assert snap.diverged[list(snap.names).index("sgd")]
    assert np.isfinite(snap.path).all()


def test_mlp_gradient_is_autograd():
    rng = np.random.default_rng(0)
    params = O.mlp_init((196, 16, 10), rng)
    params[1] += rng.normal(size=16) * 0.1
    x, y = rng.random((32, 196)), rng.integers(0, 10, 32)
    loss, grads = O.mlp_loss_grad(params, x, y)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    z = torch.relu(torch.tensor(x) @ tp[0] + tp[1]) @ tp[2] + tp[3]
    ref = torch.nn.functional.cross_entropy(z, torch.tensor(y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for g, p in zip(grads, tp):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_digits_training_learns_and_equals_torch_for_adam():
    cfg = O.DigitsConfig(steps=40, every=20)
    snaps = list(O.train_digits(cfg))
    last = snaps[-1]
    assert last.step == 40 and last.test_acc.shape == (7, 3)
    assert (last.test_acc[:, -1] > 0.12).all() and last.test_acc[-2:, -1].min() > 0.6   # chance: 0.1
    # the Adam copy, replayed with torch.optim.Adam on the same minibatches
    x_tr, y_tr, x_te, y_te = O.digits_data(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    tp = [torch.tensor(p, requires_grad=True) for p in O.mlp_init((196, cfg.hidden, 10), rng)]
    opt = torch.optim.Adam(tp, lr=cfg.lr, foreach=False)
    order, pos = rng.permutation(len(y_tr)), 0
    for _ in range(40):
        idx = order[pos:pos + cfg.batch]
        pos += cfg.batch
        opt.zero_grad()
        z = torch.relu(torch.tensor(x_tr[idx]) @ tp[0] + tp[1]) @ tp[2] + tp[3]
        torch.nn.functional.cross_entropy(z, torch.tensor(y_tr[idx])).backward()
        opt.step()
    acc = O.mlp_accuracy([p.detach().numpy() for p in tp], x_te, y_te)
    assert last.test_acc[list(last.names).index("adam"), -1] == pytest.approx(acc, abs=1e-3)


# ------------------------------------------------------------------------------------------- practice items
def test_practice_adam_step_equals_torch_adam():
    from engine.common import practice
    for seed in range(200):
        it = practice.make("optimizers", "adam_step", seed)
        p = it.params
        x = torch.tensor([p["theta"]], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([x], lr=p["lr"], betas=(p["b1"], p["b2"]), eps=p["eps"], foreach=False)
        x.grad = torch.zeros(1, dtype=torch.float64)
        opt.step()                                                  # creates the state; g = 0 leaves x unchanged
        st = opt.state[x]
        st["exp_avg"].fill_(p["m"])
        st["exp_avg_sq"].fill_(p["v"])
        st["step"].fill_(p["t"] - 1)
        x.grad = torch.tensor([p["g"]], dtype=torch.float64)
        opt.step()
        assert it.answer == pytest.approx(x.item(), abs=1e-9)
        assert it.choices[it.correct_index].label["en"] == f"{x.item():.4f}"


def test_practice_adagrad_lr_equals_torch_adagrad():
    from engine.common import practice
    for seed in range(200):
        it = practice.make("optimizers", "adagrad_lr", seed)
        x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adagrad([x], lr=it.params["lr"], eps=1e-8)
        for g in it.params["grads"]:
            x.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
        h = opt.state[x]["sum"].item()
        assert it.answer == pytest.approx(it.params["lr"] / (h ** 0.5 + 1e-8), rel=1e-12)


def test_practice_blank_expected_is_torch_adam():
    from engine.common import practice
    for seed in range(50):
        it = practice.make("optimizers", "adam_blank", seed)
        theta, g, m, v, t, lr, b1, b2, eps = it.exec.args
        x = torch.tensor(theta, requires_grad=True)
        opt = torch.optim.Adam([x], lr=lr, betas=(b1, b2), eps=eps, foreach=False)
        x.grad = torch.zeros_like(x)
        opt.step()
        st = opt.state[x]
        st["exp_avg"].copy_(torch.tensor(m))
        st["exp_avg_sq"].copy_(torch.tensor(v))
        st["step"].fill_(t - 1)
        x.grad = torch.tensor(g)
        opt.step()
        np.testing.assert_allclose(it.exec.expected, x.detach().numpy(), atol=1e-12)


def test_practice_statements_hold_on_cases():
    """The checkable statements: SGD L2 = weight decay; Adam + L2 ≠ AdamW; AdamW decays before the moments."""
    rng = np.random.default_rng(0)
    theta0, grads = rng.normal(size=4), rng.normal(size=(5, 4))
    a, b = theta0.copy(), theta0.copy()
    o1 = torch.optim.SGD([x1 := torch.tensor(a, requires_grad=True)], lr=0.1, weight_decay=0.2)
    for g in grads:
        x1.grad = torch.tensor(g)
        o1.step()
        b -= 0.1 * 0.2 * b + 0.1 * g
    np.testing.assert_allclose(x1.detach().numpy(), b, rtol=1e-12)
    xa = torch.tensor(theta0, requires_grad=True)
    xw = torch.tensor(theta0, requires_grad=True)
    oa = torch.optim.Adam([xa], lr=0.1, weight_decay=0.2)
    ow = torch.optim.AdamW([xw], lr=0.1, weight_decay=0.2)
    for g in grads:
        xa.grad, xw.grad = torch.tensor(g), torch.tensor(g)
        oa.step()
        ow.step()
    assert not np.allclose(xa.detach().numpy(), xw.detach().numpy())
