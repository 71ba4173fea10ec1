"""Basics › Regularisation: against scikit-learn (Lasso, Ridge), torch.nn.Dropout and brute force."""
from __future__ import annotations

import re
from itertools import islice

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.basics import regularization as R

CASES = [((1.5, 0.8), 4.0, 30.0, 0.5), ((2.0, -1.0), 10.0, -20.0, 1.2), ((0.3, 2.5), 1.0, 0.0, 0.2),
         ((-1.0, -1.8), 25.0, 60.0, 2.0)]


def _design(A: np.ndarray, n_scale: float) -> np.ndarray:
    """X (2, 2) with XᵀX = n_scale · A."""
    return np.sqrt(n_scale) * np.linalg.cholesky(A).T


@pytest.mark.parametrize("w_star,ratio,angle,lam", CASES)
def test_l1_and_l2_equal_sklearn_lasso_and_ridge(w_star, ratio, angle, lam):
    from sklearn.linear_model import Lasso, Ridge
    A = R.quadratic(w_star, ratio, angle)
    ws = np.array(w_star)
    # Ridge: ‖y − Xw‖² + α‖w‖² with XᵀX = A is 2·(½(w − w*)ᵀA(w − w*) + ½λ‖w‖²) + const
    X = _design(A, 1.0)
    ridge = Ridge(alpha=lam, fit_intercept=False).fit(X, X @ ws)
    np.testing.assert_allclose(R.l2_solution(A, ws, lam), ridge.coef_, atol=1e-10)
    # Lasso: (1/2n)‖y − Xw‖² + α‖w‖₁ with n = 2 and XᵀX = 2A is ½(w − w*)ᵀA(w − w*) + λ‖w‖₁ + const
    X = _design(A, 2.0)
    lasso = Lasso(alpha=lam, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, X @ ws)
    np.testing.assert_allclose(R.l1_solution(A, ws, lam), lasso.coef_, atol=1e-7)


def test_l1_solution_by_brute_force_and_sparsity():
    A = R.quadratic((1.5, 0.4), 6.0, 20.0)
    ws = np.array([1.5, 0.4])
    g = np.linspace(-2, 2, 801)
    W1, W2 = np.meshgrid(g, g)
    D = np.stack([W1 - ws[0], W2 - ws[1]], -1)
    for lam in (0.3, 1.0, 3.0):
        obj = 0.5 * np.einsum("...i,ij,...j->...", D, A, D) + lam * (np.abs(W1) + np.abs(W2))
        i = np.unravel_index(obj.argmin(), obj.shape)
        np.testing.assert_allclose(R.l1_solution(A, ws, lam), [W1[i], W2[i]], atol=0.006)
    r = R.penalized_2d((1.5, 0.4), 6.0, 20.0, 1.0)
    assert (r.path_l1 == 0).any() and not (r.path_l2[1:] == 0).any()      # the corner vs the circle
    assert 0 < r.zero_at < np.inf
    assert np.linalg.norm(r.path_l2[-1]) < np.linalg.norm(r.path_l2[0])


def test_soft_threshold_is_the_l1_prox():
    """S_t(z) = argmin_w ½(w − z)² + t|w| (1-D brute force)."""
    w = np.linspace(-4, 4, 80001)
    for z in (-2.5, -0.3, 0.0, 0.7, 3.1):
        for t in (0.0, 0.5, 1.0):
            assert R.soft_threshold(np.array(z), t) == pytest.approx(w[(0.5 * (w - z) ** 2 + t * np.abs(w)).argmin()],
                                                                     abs=1e-4)


# ---------------------------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_inverted_dropout_equals_torch_dropout(p):
    torch.manual_seed(0)
    h = torch.rand(1000, dtype=torch.float64) + 0.1
    out = nn.Dropout(p)(h)                                    # training mode
    mask = (out != 0).double().numpy()
    np.testing.assert_allclose(R.inverted_dropout(h.numpy(), mask, p), out.numpy(), rtol=1e-12)
    d = nn.Dropout(p).eval()
    np.testing.assert_array_equal(R.inverted_dropout(h.numpy(), mask, p, train=False), d(h).numpy())
    # our module: the same arithmetic with masks from a local generator
    gen = torch.Generator().manual_seed(1)
    mod = R.dropout_layer(p, gen)
    y = mod(h)
    kept = y != 0
    np.testing.assert_allclose(y[kept].numpy(), (h[kept] / (1 - p)).numpy())
    assert abs(float(kept.double().mean()) - (1 - p)) < 0.05
    assert torch.equal(mod.eval()(h), h)


def test_dropout_demo_mean_tends_to_h():
    h = R.digit_activations()
    d = R.dropout_masks(h, 0.5, 4000, seed=2)
    assert set(np.unique(d.masks)) <= {0.0, 1.0}
    np.testing.assert_allclose(d.running_mean[-1], h, atol=0.08 * h.max())
    assert abs(d.kept.mean() - 0.5) < 0.01


# --------------------------------------------------------------------------------------------- over-fitting
def test_random_shift_by_brute_force():
    x = torch.arange(3 * 196, dtype=torch.float32).view(3, 196)
    gen = torch.Generator().manual_seed(5)
    got = R.random_shift(x, 2, gen)
    gen = torch.Generator().manual_seed(5)
    dy, dx = torch.randint(0, 5, (3,), generator=gen), torch.randint(0, 5, (3,), generator=gen)
    for b in range(3):
        img = np.pad(x[b].view(14, 14).numpy(), 2)
        want = img[dy[b]:dy[b] + 14, dx[b]:dx[b] + 14].ravel()
        np.testing.assert_array_equal(got[b].numpy(), want)


def test_penalties_equal_their_formulas():
    cfg = R.OverfitConfig(hidden=16, weight_decay=0.01, l1=0.001)
    net = R.overfit_net(cfg, "plain")
    Ws = [m.weight.detach().double() for m in net if isinstance(m, nn.Linear)]
    assert float(R.penalty(net, "l2", cfg).detach()) == pytest.approx(0.005 * sum(float((W ** 2).sum()) for W in Ws),
                                                             rel=1e-5)
    assert float(R.penalty(net, "l1", cfg).detach()) == pytest.approx(0.001 * sum(float(W.abs().sum()) for W in Ws),
                                                             rel=1e-5)
    # every variant starts from the same weights
    a = [m.weight for m in R.overfit_net(cfg, "dropout") if isinstance(m, nn.Linear)]
    assert all(torch.equal(x, y) for x, y in zip(a, [m.weight for m in net if isinstance(m, nn.Linear)]))


def test_training_overfits_and_is_deterministic():
    cfg = R.OverfitConfig(steps=200, every=50, hidden=128)
    snaps = list(islice(R.train_overfit(cfg), 5))
    last = snaps[-1]
    k = {v: i for i, v in enumerate(last.names)}
    plain = k["plain"]
    assert last.train_loss[plain, -1] < 0.02                          # memorised the 200 digits
    assert last.val_loss[plain, -1] > last.val_loss[plain].min()     # validation loss turned up: over-fitting
    assert last.best_step[plain] < last.step
    assert last.near_zero[k["l1"]] > 5 * last.near_zero[plain]       # L1 drives weights to zero
    # the plain net's losses: recomputed with torch on the data and a freshly built net at step 0
    x_tr, y_tr, *_ = R.overfit_data(cfg.n_train, cfg.seed)
    net = R.overfit_net(cfg, "plain").eval()
    with torch.no_grad():
        l0 = float(F.cross_entropy(net(torch.from_numpy(x_tr.astype(np.float32))), torch.from_numpy(y_tr)))
    assert last.train_loss[plain, 0] == pytest.approx(l0, rel=1e-6)
    again = list(islice(R.train_overfit(cfg), 3))[-1]
    np.testing.assert_array_equal(again.val_loss, snaps[2].val_loss)


# -------------------------------------------------------------------------------------------------- practice
def _items(name: str, n: int = 200):
    from engine.common.practice import make
    return [make("regularization", name, seed) for seed in range(n)]


def test_practice_dropout_scale_is_torch_dropout():
    for item in _items("dropout_scale", 60):
        p = item.params
        out = nn.Dropout(p["p"])(torch.full((2000,), p["h"], dtype=torch.float64))
        assert item.answer == pytest.approx(float(out.max()), rel=1e-12)      # a kept unit


def test_practice_penalized_1d_equals_sklearn():
    from sklearn.linear_model import Lasso, Ridge
    for item in _items("penalized_1d"):
        p = item.params
        X = np.array([[np.sqrt(p["a"])]])
        y = X[:, 0] * p["w_star"]
        if p["kind"] == "l1":     # (1/2n)(y − xw)² + α|w| with n = 1, x² = a
            w = Lasso(alpha=p["lam"], fit_intercept=False, tol=1e-14, max_iter=100_000).fit(X, y).coef_[0]
        else:                      # (y − xw)² + αw² = 2·[(a/2)(w − w*)² + (α/2)w²]
            w = Ridge(alpha=p["lam"], fit_intercept=False).fit(X, y).coef_[0]
        assert item.answer == pytest.approx(w, abs=1e-8)


def test_practice_decay_step_equals_torch_sgd():
    for item in _items("decay_step"):
        p = item.params
        w = torch.tensor([p["w"]], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=p["lr"], weight_decay=p["lam"])
        w.grad = torch.tensor([p["g"]], dtype=torch.float64)
        opt.step()
        assert item.answer == pytest.approx(float(w[0]), abs=1e-12)


def test_practice_dropout_code_expected_is_torch():
    for item in _items("dropout_code", 60):
        h, mask, p, train = item.exec.args
        ht = torch.from_numpy(h)
        if train:
            scale = float(nn.Dropout(p)(torch.ones(4000, dtype=torch.float64)).max())
            want = (ht * torch.from_numpy(mask) * scale).numpy()
        else:
            want = nn.Dropout(p).eval()(ht).numpy()
        np.testing.assert_allclose(item.exec.expected, want, rtol=1e-12)


# ------------------------------------------------------------------------------------------------------- page
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_geometry_result_is_the_engines(lang):
    from conftest import assert_ok, run_page

    at = run_page("pages/basics/regularization.py", lang=lang)
    assert_ok(at)
    at.slider(key="regularization.w1").set_value(0.4).run()
    at.slider(key="regularization.lam").set_value(3.0).run()
    assert_ok(at)
    line = next(m.value for m in at.markdown if "λ = 3" in m.value)
    r = R.penalized_2d((0.4, 0.6), 4.0, 30, 3.0)
    nums = [float(x) for x in re.findall(r"-?\d+\.\d{3}", line)[:4]]
    np.testing.assert_allclose(nums, [*r.w_l1, *r.w_l2], atol=6e-4)
    assert 0.0 in nums[:2]                                   # a corner: one L1 weight exactly 0
