"""Self-supervised: NT-Xent against pytorch-metric-learning's NTXentLoss and a brute force, BYOL's loss = 2 − 2cos
brute force, the linear probe against scikit-learn's LogisticRegression, effective rank and std against brute force,
augmentations, tiny training runs (BYOL's stop-gradient and EMA), and the page."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine.paradigms import ssl

TINY = dict(batch_size=16, snapshot_every=2, max_steps=4, n_labels=3)


@pytest.mark.parametrize("tau", [0.01, 0.1, 0.5, 2.0])
def test_nt_xent_equals_pytorch_metric_learning(tau):
    from pytorch_metric_learning.losses import NTXentLoss

    g = torch.Generator().manual_seed(0)
    z = torch.randn(10, 5, generator=g, dtype=torch.float64)          # N = 5 images, two views each
    ours = ssl.nt_xent(z, tau).mean()
    labels = torch.arange(5).repeat(2)                                 # view i and i + N share a label
    theirs = NTXentLoss(temperature=tau)(z, labels)
    assert float(ours) == pytest.approx(float(theirs), rel=1e-6)
    assert math.isfinite(float(ours))


def test_nt_xent_brute_force():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4))
    tau = 0.3
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    s = zn @ zn.T
    brute = []
    for i in range(6):
        j = (i + 3) % 6
        den = sum(math.exp(s[i, k] / tau) for k in range(6) if k != i)
        brute.append(-math.log(math.exp(s[i, j] / tau) / den))
    np.testing.assert_allclose(ssl.nt_xent(torch.tensor(z), tau).numpy(), brute, rtol=1e-10)
    m = ssl.nt_xent_matrix(torch.tensor(z), tau)
    np.testing.assert_allclose(m.sim, s, atol=1e-12)
    assert list(m.positive) == [3, 4, 5, 0, 1, 2]


def test_nt_xent_batch_of_two_images_is_finite():
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    for tau in (0.01, 2.0):
        assert torch.isfinite(ssl.nt_xent(z, tau)).all()


def test_byol_loss_is_two_minus_two_cos_and_normalised_mse():
    rng = np.random.default_rng(0)
    p, z = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    ours = ssl.byol_loss(torch.tensor(p), torch.tensor(z)).numpy()
    cos = [float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(p, z)]
    np.testing.assert_allclose(ours, [2 - 2 * c for c in cos], rtol=1e-10)
    pn, zn = p / np.linalg.norm(p, axis=1, keepdims=True), z / np.linalg.norm(z, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, ((pn - zn) ** 2).sum(1), rtol=1e-10)


def test_linear_probe_equals_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((4, 6)) * 1.5
    y = rng.integers(0, 4, 200)
    h = centres[y] + rng.standard_normal((200, 6))
    acc, coef = ssl.linear_probe(h[:120], y[:120], h[120:], y[120:], C=0.5, max_iter=200)
    sc = StandardScaler().fit(h[:120])
    lr = LogisticRegression(C=0.5, max_iter=2000, tol=1e-10).fit(sc.transform(h[:120]), y[:120])
    np.testing.assert_allclose(coef, lr.coef_, atol=2e-3)
    assert acc == pytest.approx(lr.score(sc.transform(h[120:]), y[120:]), abs=0.01)


def test_effective_rank_and_std_brute_force():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((50, 4)) * np.array([3, 1, 1, 0.0])
    s = np.linalg.svd(h - h.mean(0), compute_uv=False)
    p = s[s > 0] / s.sum()
    assert ssl.effective_rank(h) == pytest.approx(math.exp(-sum(pi * math.log(pi) for pi in p)))
    assert ssl.effective_rank(np.ones((10, 3))) == 1.0                  # collapsed
    assert ssl.embedding_std(np.ones((10, 3))) == pytest.approx(0.0, abs=1e-9)
    iso = rng.standard_normal((20000, 8))
    assert ssl.embedding_std(iso) == pytest.approx(1.0, abs=0.02)      # spread over the sphere: std 1/√d


def test_augmentations_shapes_ranges_determinism_and_identity():
    x = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    aug = ssl.Augment()
    a = ssl.augment(x, aug, torch.Generator().manual_seed(1), size=24)
    b = ssl.augment(x, aug, torch.Generator().manual_seed(1), size=24)
    assert a.shape == (5, 3, 24, 24) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    off = ssl.Augment(crop=False, color=False, blur=False, flip=False)
    torch.testing.assert_close(ssl.augment(x, off, torch.Generator()), x, atol=1e-5, rtol=0)
    flip_only = ssl.augment(x, ssl.Augment(crop=False, color=False, blur=False, flip=True),
                            torch.Generator().manual_seed(3))
    for i in range(5):                                                 # every image is itself or its mirror
        assert (torch.allclose(flip_only[i], x[i], atol=1e-5) or torch.allclose(flip_only[i], x[i].flip(-1), atol=1e-5))
    blur = ssl.augment(x, ssl.Augment(crop=False, color=False, blur=True, flip=False), torch.Generator())
    assert torch.allclose(blur.mean(), x.mean(), atol=0.02) and blur.std() < x.std()


def test_views_of_grayscale_and_tiny_photos():
    from engine.common import classifier
    from PIL import Image

    tiny = classifier.preprocess(Image.new("L", (3, 2), 128), size=96).rgb
    rgba = classifier.preprocess(Image.new("RGBA", (40, 90), (255, 0, 0, 0)), size=96).rgb
    v = ssl.two_views(ssl.photo_batch([tiny, rgba]), ssl.Augment(), 0)
    assert v.shape == (4, 3, 96, 96) and torch.isfinite(v).all()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["simclr", "byol", "supervised"])
def test_training_tiny_is_deterministic_and_finite(method):
    cfg = ssl.Config(**TINY)
    a, b = list(ssl.train(cfg, method)), list(ssl.train(cfg, method))
    assert [s.step for s in a] == [0, 2, 4]
    for s, t in zip(a, b):
        assert s.probe_h == t.probe_h and (s.loss == t.loss or math.isnan(s.loss))
    last = a[-1]
    assert math.isfinite(last.loss) and 0 <= last.probe_h <= 1 and last.random_probe == a[0].probe_h
    assert a[0].probe_h == list(ssl.train(cfg, "simclr"))[0].probe_h   # one random encoder for all methods


@pytest.mark.slow
def test_byol_without_ema_uses_online_weights_as_target_and_still_trains():
    for cfg in (ssl.Config(ema=False, **TINY), ssl.Config(predictor=False, **TINY)):
        last = list(ssl.train(cfg, "byol"))[-1]
        assert math.isfinite(last.loss) and 0 <= last.loss <= 4


@pytest.mark.slow
def test_page_runs_and_trains_in_both_languages():
    for lang in ("en", "ja"):
        at = run_page("pages/paradigms/ssl.py", lang=lang)
        assert_ok(at)
        at.button(key="ssl.run.step").click().run()
        assert_ok(at)
        run = at.session_state["ssl.run"]
        assert all(s.step > 0 for s in run.snaps.values())
        assert not any("nan" in m.value.lower() for m in at.metric)


@pytest.mark.slow
def test_page_at_tau_limits_and_batch_of_two():
    at = run_page("pages/paradigms/ssl.py")
    at.slider(key="ssl.n").set_value(2)
    for tau in (0.01, 2.0):
        at.select_slider(key="ssl.tau").set_value(tau).run()
        assert_ok(at)
        assert not any("nan" in m.value.lower() for m in at.metric)


def test_the_shared_views_cache_keys_every_setting():
    """The two views and their NT-Xent are cached across readers (pages/paradigms/ssl.py `views_and_loss`): an
    augmentation switched off changes the loss, switched back gives the first value again."""
    at = run_page("pages/paradigms/ssl.py")
    first = at.metric[0].value
    at.toggle(key="ssl.photo.color").set_value(False).run()
    assert_ok(at)
    off = at.metric[0].value
    assert off != first
    at.select_slider(key="ssl.tau").set_value(0.1).run()
    assert at.metric[0].value != off                                   # τ reaches the key too
    at.select_slider(key="ssl.tau").set_value(0.5).run()
    at.toggle(key="ssl.photo.color").set_value(True).run()
    assert at.metric[0].value == first


def test_ema_update_equals_torch_lerp():
    """ξ ← τξ + (1 − τ)θ is lerp(ξ, θ, 1 − τ), in place."""
    g = torch.Generator().manual_seed(0)
    xi, theta = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    want = torch.lerp(xi, theta, 1 - 0.99)
    out = ssl.ema_update_(xi, theta, 0.99)
    assert out is xi and torch.allclose(xi, want, atol=1e-15)


# ---- practice items: answers recomputed from the numbers shown by brute force (never the generator's code)
def _ntxent_by_hand(z, tau, i):
    z = np.asarray(z, float)
    n2 = len(z)
    cos = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))          # noqa: E731
    pos = (i + n2 // 2) % n2
    den = sum(math.exp(cos(z[i], z[k]) / tau) for k in range(n2) if k != i)
    return -math.log(math.exp(cos(z[i], z[pos]) / tau) / den)


def test_practice_ntxent_and_ema_by_hand():
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("ssl", "ntxent_value", seed)
        want = _ntxent_by_hand(item.params["z"], item.params["tau"], 0)
        assert abs(item.answer - want) < 1e-9
        assert abs(float(item.choices[item.correct_index].label["en"]) - want) <= 5e-4 + 1e-9
        impl = P.make("ssl", "ntxent_implementation", seed)
        z = impl.params["z"]
        np.testing.assert_allclose(impl.exec.expected, [_ntxent_by_hand(z, impl.params["tau"], i)
                                                        for i in range(len(z))], atol=1e-9)
        item = P.make("ssl", "ema_value", seed)
        p = item.params
        want = p["theta"] + p["tau"] ** p["k"] * (p["xi"] - p["theta"])           # closed form of k EMA steps
        assert abs(item.answer - want) < 1e-12
        assert abs(float(item.choices[item.correct_index].label["en"]) - want) <= 5e-6 + 1e-12


def test_practice_statements_hold_numerically():
    """collapse (true): identical projections give BYOL's loss 0; tau_sharp (true) / tau_large_hard (false): with a
    smaller τ the hardest negative's share of the softmax over negatives grows."""
    z = torch.ones(4, 3, dtype=torch.float64)
    assert float(ssl.byol_loss(z, z).abs().max()) < 1e-12
    sims = torch.tensor([0.9, 0.5, 0.1], dtype=torch.float64)                   # negatives' cosines, hardest first
    share = lambda tau: float(torch.softmax(sims / tau, 0)[0])                  # noqa: E731
    assert share(0.1) > share(0.5) > share(2.0)
