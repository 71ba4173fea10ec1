"""VQ-VAE: nearest codes and the straight-through gradient against vector-quantize-pytorch and a brute-force argmin,
the EMA codebook's fixed point against scikit-learn's KMeans, perplexity by hand, the priors' probabilities by
counting, the masked convolution's causality, determinism and bad input, and the page."""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine.generative import vqvae
from oracles.vqvae import library_quantize

PAGE = "pages/generative/vqvae.py"


def _data(n=40, K=7, D=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, D, generator=g), torch.randn(K, D, generator=g)


@pytest.mark.parametrize("n,K,D", [(40, 7, 3), (25, 1, 2), (64, 64, 2), (9, 16, 16)])
def test_nearest_code_equals_brute_force_and_vector_quantize_pytorch(n, K, D):
    z, cb = _data(n, K, D, seed=K)
    mine = vqvae.nearest_code(z, cb)
    brute = torch.tensor([min(range(K), key=lambda k: float(((zi - cb[k]) ** 2).sum())) for zi in z])
    assert torch.equal(mine, brute)
    _, theirs, _, _ = library_quantize(z, cb, 0.25)
    assert torch.equal(mine, theirs)


@pytest.mark.parametrize("beta", [0.0, 0.25, 2.0])
def test_straight_through_gradient_and_losses_equal_vector_quantize_pytorch(beta):
    z, cb = _data()
    w = torch.randn(z.shape, generator=torch.Generator().manual_seed(5))
    ze_mine, ze_lib = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
    q = vqvae.quantize(ze_mine, cb, beta)
    zq_lib, _, loss_lib, mse_lib = library_quantize(ze_lib, cb, beta)
    torch.testing.assert_close(q.z_q, zq_lib)
    torch.testing.assert_close(q.z_q, cb[q.indices])                      # forward value is the code
    # straight-through: ∇_{z_e} := ∇_{z_q}, exactly the upstream gradient
    (g_mine,) = torch.autograd.grad((q.z_q * w).sum(), ze_mine)
    (g_lib,) = torch.autograd.grad((zq_lib * w).sum(), ze_lib)
    torch.testing.assert_close(g_mine, w)
    torch.testing.assert_close(g_mine, g_lib)
    # β‖z_e − sg[e]‖² is the library's commitment loss, ‖sg[z_e] − e‖² its unweighted mse; same gradient in z_e
    torch.testing.assert_close(q.commitment_loss, loss_lib)
    if beta > 0:                                                           # (β = 0: the library skips the term)
        torch.testing.assert_close(q.codebook_loss, mse_lib)
        (gc_mine,) = torch.autograd.grad(q.commitment_loss, ze_mine)
        (gc_lib,) = torch.autograd.grad(loss_lib, ze_lib)
        torch.testing.assert_close(gc_mine, gc_lib)


def test_stop_gradients_route_each_term_to_one_side():
    z, cb = _data()
    ze, e = z.clone().requires_grad_(True), cb.clone().requires_grad_(True)
    q = vqvae.quantize(ze, e, 0.25)
    g_ze, g_e = torch.autograd.grad(q.codebook_loss, (ze, e), allow_unused=True)
    assert g_ze is None                                                    # codebook term: codes only
    brute = torch.zeros_like(cb)                                           # d/de_k of mean‖z_i − e_k‖²
    for i, k in enumerate(q.indices):
        brute[k] += 2 * (cb[k] - z[i]) / z.numel()
    torch.testing.assert_close(g_e, brute)
    g_ze, g_e = torch.autograd.grad(q.commitment_loss, (ze, e), allow_unused=True)
    assert g_e is None                                                     # commitment term: encoder only
    torch.testing.assert_close(g_ze, 0.25 * 2 * (z - cb[q.indices]) / z.numel())
    q0 = vqvae.quantize(ze, e, 0.25, estimator="none")
    assert not q0.z_q.requires_grad                                        # no estimator: nothing reaches z_e


def test_encoder_gradient_is_the_decoder_gradient_pulled_back_through_the_encoder():
    """Straight-through in a real model: ∂L_rec/∂θ_enc = J_enc(x)ᵀ ∇_{z_q} L_rec."""
    torch.manual_seed(0)
    enc, dec = vqvae._mlp(2, 8, 2), vqvae._mlp(2, 8, 2)
    x, cb = torch.randn(16, 2), torch.randn(5, 2)
    z_e = enc(x)
    q = vqvae.quantize(z_e, cb)
    rec = ((dec(q.z_q) - x) ** 2).mean()
    mine = torch.autograd.grad(rec, list(enc.parameters()), retain_graph=True)
    zq_leaf = cb[q.indices].clone().requires_grad_(True)
    (g_zq,) = torch.autograd.grad(((dec(zq_leaf) - x) ** 2).mean(), zq_leaf)
    pulled = torch.autograd.grad(z_e, list(enc.parameters()), grad_outputs=g_zq)
    for a, b in zip(mine, pulled):
        torch.testing.assert_close(a, b)


def test_perplexity_by_hand():
    assert vqvae.perplexity(np.array([5, 5, 5, 5])) == pytest.approx(4.0)
    assert vqvae.perplexity(np.array([0, 9, 0])) == pytest.approx(1.0)
    assert vqvae.perplexity(np.zeros(3)) == 1.0
    p = np.array([0.5, 0.25, 0.25])
    assert vqvae.perplexity(np.array([2, 1, 1, 0])) == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert vqvae.perplexity(np.array([2, 1, 1, 0])) == pytest.approx(2 ** 1.5)


def test_ema_codebook_fixed_point_is_the_kmeans_cluster_means():
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [4, 0], [0, 4], [4, 4], [8, 2]], float)
    z = (centres[rng.integers(0, 5, 600)] + 0.5 * rng.standard_normal((600, 2))).astype(np.float32)
    init = z[rng.choice(len(z), 5, replace=False)]
    zt = torch.from_numpy(z)
    cb = torch.from_numpy(init.copy())
    N, m = torch.ones(5), cb.clone()
    for _ in range(300):                                                   # frozen encodings, full batch
        idx = vqvae.nearest_code(zt, cb)
        N, m, cb = vqvae.ema_update(N, m, zt, idx, decay=0.8, eps=1e-9)
    idx = vqvae.nearest_code(zt, cb)
    means = np.stack([z[idx.numpy() == k].mean(0) for k in range(5)])
    np.testing.assert_allclose(cb.numpy(), means, atol=1e-4)              # a fixed point: each code = its mean
    km = KMeans(5, init=init, n_init=1, tol=0).fit(z)
    order = [int(np.argmin(((km.cluster_centers_ - c) ** 2).sum(1))) for c in cb.numpy()]
    np.testing.assert_allclose(cb.numpy(), km.cluster_centers_[order], atol=1e-3)
    assert sorted(order) == list(range(5))


def test_ema_update_single_step_by_hand():
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]])
    idx = torch.tensor([0, 0, 1])
    N, m, cb = vqvae.ema_update(torch.ones(3), torch.zeros(3, 2), z, idx, decay=0.5, eps=0.0)
    torch.testing.assert_close(N, torch.tensor([1.5, 1.0, 0.5]))
    torch.testing.assert_close(m, torch.tensor([[1.0, 0.0], [5.0, 5.0], [0.0, 0.0]]))
    torch.testing.assert_close(cb, m / N[:, None])


def test_revive_dead_codes_moves_only_dead_codes_onto_batch_points():
    cb = torch.nn.Parameter(torch.zeros(4, 2))
    usage = torch.tensor([5.0, 0.1, 3.0, 0.0])
    z = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    dead = vqvae.revive_dead_codes(cb, usage, z, 0.5, torch.Generator().manual_seed(0))
    assert dead.tolist() == [1, 3]
    assert torch.equal(cb.data[[0, 2]], torch.zeros(2, 2))
    assert all(any(torch.equal(cb.data[k], zi) for zi in z) for k in (1, 3))
    assert usage[1] == usage[3] == 0.5


TINY2 = dict(max_steps=30, snapshot_every=10, n_show=40, grid=8, hidden=8)


def test_train_2d_is_deterministic_and_shaped():
    cfg = vqvae.Config2D(**TINY2)
    a, b = list(vqvae.train_2d(cfg)), list(vqvae.train_2d(cfg))
    assert [s.step for s in a] == [0, 10, 20, 30]
    for s, t in zip(a, b):
        assert s.metrics == t.metrics and np.array_equal(s.codebook, t.codebook) and np.array_equal(s.z_e, t.z_e)
    s = a[-1]
    assert s.z_e.shape == (40, 2) and s.codebook.shape == (16, 2) and s.cells.shape == (8, 8)
    assert s.counts.sum() == 2048 and s.metrics["dead"] == float((s.counts == 0).sum())
    assert s.metrics["perplexity"] == pytest.approx(vqvae.perplexity(s.counts))
    # the Voronoi raster is the nearest code of every raster point
    g = np.linspace(*s.extent, 8, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    d = ((np.stack([gx, gy], -1)[:, :, None] - s.codebook[None, None]) ** 2).sum(-1)
    assert np.array_equal(s.cells, d.argmin(-1))
    np.testing.assert_allclose(s.arrow_zq, s.codebook[vqvae.nearest_code(torch.from_numpy(s.arrow_ze),
                                                                          torch.from_numpy(s.codebook)).numpy()],
                               atol=1e-5)


@pytest.mark.parametrize("over", [dict(K=1), dict(beta=0.0), dict(beta=5.0), dict(batch_size=2), dict(K=64),
                                  dict(update="ema", revive=True), dict(estimator="none")])
def test_train_2d_bad_input_stays_finite(over):
    last = list(vqvae.train_2d(vqvae.Config2D(**{**TINY2, **over})))[-1]
    assert all(np.isfinite(v) for v in last.metrics.values())
    assert np.isfinite(last.codebook).all() and np.isfinite(last.z_e).all()
    if over.get("K") == 1:
        assert last.metrics["perplexity"] == 1.0 and last.metrics["dead"] == 0


def test_revival_brings_dead_codes_back_in_2d():
    base = dict(max_steps=120, snapshot_every=120, n_show=40, grid=8, hidden=8, batch_size=64, init_scale=6.0)
    off = list(vqvae.train_2d(vqvae.Config2D(**base)))[-1]
    on = list(vqvae.train_2d(vqvae.Config2D(**base, revive=True)))[-1]
    assert on.metrics["dead"] < off.metrics["dead"]
    assert on.metrics["perplexity"] > off.metrics["perplexity"]


TINYD = dict(max_steps=4, snapshot_every=2, width=4, batch_size=4, K=8)


def test_train_digits_snapshots_and_decoder_round_trip():
    snaps = list(vqvae.train_digits(vqvae.ConfigDigits(**TINYD)))
    s = snaps[-1]
    assert [x.step for x in snaps] == [0, 2, 4]
    assert s.images.shape == s.recon.shape == (8, 28, 28) and s.codes.shape == (8, 7, 7)
    assert s.counts.sum() == 256 * 49 and s.codes.max() < 8
    np.testing.assert_allclose(vqvae.decode_codes(s, s.codes), s.recon, atol=1e-6)
    assert s.metrics["test_mse"] == pytest.approx(float(((s.recon - s.images) ** 2).mean()), rel=0.2)
    edited = s.codes.copy()
    edited[0, 0, 0] = (edited[0, 0, 0] + 1) % 8
    out = vqvae.decode_codes(s, edited[:1])
    assert np.abs(out[0] - s.recon[0])[20:, 20:].max() < 1e-6      # a corner code leaves the far corner alone
    assert all(np.isfinite(v) for v in s.metrics.values())
    again = list(vqvae.train_digits(vqvae.ConfigDigits(**TINYD)))[-1]
    assert again.metrics == s.metrics and np.array_equal(again.codebook, s.codebook)


@pytest.mark.slow
def test_digit_vqvae_learns_to_reconstruct():
    cfg = vqvae.ConfigDigits(max_steps=100, snapshot_every=100)
    first, last = list(vqvae.train_digits(cfg))
    assert last.metrics["test_mse"] < 0.04 < first.metrics["test_mse"]
    assert last.metrics["perplexity"] > 8


def test_priors_by_counting():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, (30, 7, 7))
    codes[:, 0, 1] = codes[:, 0, 0]                                 # position 1 copies position 0
    prior = vqvae.fit_prior(codes, 3, alpha=0.1, lam=0.05)
    flat = codes.reshape(30, 49)
    for t in (0, 5, 48):
        counts = np.bincount(flat[:, t], minlength=3)
        np.testing.assert_allclose(prior.unigram[t], (counts + 0.1) / (30 + 0.3))
    seq = flat[0].copy()
    p = vqvae.ngram_probs(prior, seq, 1)
    assert p.sum() == pytest.approx(1.0)
    assert p[seq[0]] == pytest.approx(0.95 + 0.05 * prior.unigram[1, seq[0]])     # deterministic given the left
    t = 9                                                            # row 1, col 2: left = 8, up = 2
    match = (flat[:, 8] == seq[8]) & (flat[:, 2] == seq[2])
    brute = 0.95 * np.bincount(flat[match, t], minlength=3) / match.sum() + 0.05 * prior.unigram[t]
    np.testing.assert_allclose(vqvae.ngram_probs(prior, seq, t), brute)
    for kind in ("uniform", "categorical", "autoregressive"):
        g = vqvae.sample_grids(prior, 2, kind, np.random.default_rng(1))
        assert g.shape == (2, 7, 7) and g.min() >= 0 and g.max() < 3
    assert vqvae.grid_log_prob(prior, codes[0], "uniform") == pytest.approx(-49 * np.log(3))
    lp_cat = np.mean([vqvae.grid_log_prob(prior, c, "categorical") for c in codes])
    lp_ar = np.mean([vqvae.grid_log_prob(prior, c, "autoregressive") for c in codes])
    assert lp_ar > lp_cat > -49 * np.log(3)


def test_kl_normal_equals_torch_distributions():
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu, (0.5 * logvar).exp()),
                                            torch.distributions.Normal(0.0, 1.0))
    torch.testing.assert_close(vqvae.kl_normal(mu, logvar), ref)


def test_masked_convolution_sees_only_pixels_above_and_left():
    torch.manual_seed(0)
    dec = vqvae._ARDecoder(4, 2)
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    out = dec(x, torch.zeros(1, 2))
    r, c = 10, 12
    (g,) = torch.autograd.grad(out[0, 0, r, c], x)
    g = g[0, 0].abs()
    assert g[r, c] == 0 and g[r, c + 1:].sum() == 0 and g[r + 1:].sum() == 0
    assert g[r, :c].sum() > 0 and g[:r].sum() > 0


def test_collapse_runs_finite_and_deterministic():
    cfg = vqvae.ConfigCollapse(max_steps=4, snapshot_every=2, width=4, batch_size=4)
    for model in ("vae", "vqvae"):
        a, b = list(vqvae.train_collapse(cfg, model)), list(vqvae.train_collapse(cfg, model))
        assert [s.step for s in a] == [0, 2, 4]
        assert a[-1].metrics == b[-1].metrics
        assert all(np.isfinite(v) for v in a[-1].metrics.values())
    assert a[-1].metrics["kl"] == pytest.approx(np.log(32))                # VQ-VAE: KL = log K


# ------------------------------------------------------------------------------------------------ page
def test_page_steps_every_run_and_edits_a_code():
    at = run_page(PAGE)
    assert_ok(at)
    for name in ("plane", "digits", "collapse"):
        at.button(key=f"vqvae.run.{name}.step").click().run()
        assert_ok(at)
        run = at.session_state[f"vqvae.run.{name}"]
        assert run.pulls == len(run.snaps) and all(s.step > 0 for s in run.snaps.values())
    at.slider(key="vqvae.edit.row").set_value(0).run()
    at.slider(key="vqvae.edit.col").set_value(0).run()
    assert_ok(at)
    assert any("→ 5" in c.value for c in at.caption)


def test_plane_run_is_paced_and_step_axes_start_at_zero(monkeypatch):
    """Issue 29: the 2-D run ended in 5-8 s. The page trains it one snapshot (PLANE_EVERY steps) per refresh,
    whatever the machine's speed: a refresh's advance pulls exactly one snapshot, and the whole run lasts ≥ 60 s.
    At step 0 (one point) the step axes must not show negative x."""
    from engine.figures.generative import vqvae as figs
    from ui import training

    seen = {}
    real = training.live

    def spy(run, draw, **kw):
        seen[run.name] = (run, kw)
        return real(run, draw, **kw)

    monkeypatch.setattr(training, "live", spy)
    at = run_page(PAGE)
    assert_ok(at)
    run, kw = seen["plane"]
    assert kw.get("budget_s") == 0.0
    every = run.config.snapshot_every
    for k in (1, 2):
        run.advance(kw["budget_s"])
        assert run.snaps["vq"].step == k * every                 # one snapshot per refresh, however fast
    assert run.config.max_steps / every * training.REFRESH_S >= 60
    one = np.zeros(1, int)
    f = figs.plot_terms(one, {"rec": np.ones(1)}, np.ones(1), 4)
    assert f.layout.xaxis.rangemode == "nonnegative" and f.layout.xaxis2.rangemode == "nonnegative"
    f = figs.plot_digit_curves(one, np.ones(1), np.ones(1), 4)
    assert f.layout.xaxis.rangemode == "nonnegative" and f.layout.xaxis2.rangemode == "nonnegative"


@pytest.mark.slow
def test_page_in_japanese_with_prior_and_extremes():
    at = run_page(PAGE, lang="ja")
    assert_ok(at)
    at.slider(key="vqvae.K2").set_value(1)
    at.slider(key="vqvae.beta").set_value(5.0)
    at.select_slider(key="vqvae.batch2").set_value(2)
    at.select_slider(key="vqvae.Kd").set_value(8)
    at.radio(key="vqvae.update2").set_value("ema")
    at.toggle(key="vqvae.revive2").set_value(True)
    at.run()
    assert_ok(at)
    at.button(key="vqvae.run.plane.step").click().run()
    at.toggle(key="vqvae.prior.on").set_value(True).run()
    assert_ok(at)
    assert "nan" not in " ".join(m.value for m in at.metric).lower()
    assert any("自己回帰" in c.value for c in at.caption)


# ---- practice items (issue #24): answers recomputed by brute force, SciPy and vector-quantize-pytorch --------
@pytest.mark.slow
def test_practice_nearest_commitment_perplexity_recomputed():
    from scipy.stats import entropy

    from engine.common import practice as P
    for seed in range(200):
        it = P.make("vqvae", "nearest_index", seed)
        z, cb = np.array(it.params["z_e"]), np.array(it.params["codebook"])
        brute = min(range(len(cb)), key=lambda k: float(((z - cb[k]) ** 2).sum()))
        assert it.answer == brute
        sub = "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(brute))
        assert it.choices[it.correct_index].label["en"].startswith(f"e{sub} = ")
        it = P.make("vqvae", "commitment_loss", seed)
        z, cb, beta = np.array(it.params["z_e"]), np.array(it.params["codebook"]), it.params["beta"]
        e = cb[min(range(len(cb)), key=lambda k: float(((z - cb[k]) ** 2).sum()))]
        want = beta * float(((z - e) ** 2).mean())
        assert abs(it.answer - want) < 1e-12 and it.choices[it.correct_index].label["en"] == f"{want:.4f}"
        if seed % 20 == 0:                                                   # the reference library, on a sample
            _, _, loss_lib, _ = library_quantize(torch.tensor(z[None]), torch.tensor(cb), beta)
            assert float(loss_lib.detach()) == pytest.approx(want, rel=1e-6)
        it = P.make("vqvae", "perplexity_value", seed)
        want = float(np.exp(entropy(np.array(it.params["counts"], dtype=float))))
        assert abs(it.answer - want) < 1e-9 and it.choices[it.correct_index].label["en"] == f"{want:.3f}"


def test_practice_vq_blank_gradients_by_hand():
    """The blank item's expected gradients against the closed form: ∂/∂z_e = 2(e − x)/ND + 2β(z_e − e)/ND
    (straight-through reconstruction + commitment), ∂/∂e_k = Σ_{i: k_i = k} 2(e_k − z_e_i)/ND (codebook term)."""
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("vqvae", "vq_blank", seed)
        z, cb, x, beta = (np.array(it.params[k]) for k in ("z_e", "codebook", "x", "beta"))
        k = ((z[:, None] - cb[None]) ** 2).sum(-1).argmin(1)
        e, nd = cb[k], z.size
        g_z = 2 * (e - x) / nd + beta * 2 * (z - e) / nd
        g_cb = np.zeros_like(cb)
        np.add.at(g_cb, k, 2 * (e - z) / nd)
        np.testing.assert_allclose(it.exec.expected, np.r_[g_z.ravel(), g_cb.ravel()], atol=1e-12)


def test_practice_statements_hold_on_cases():
    assert vqvae.perplexity([5, 5, 5, 5]) == pytest.approx(4.0)              # perplexity: K when used equally
    assert vqvae.perplexity([0, 9, 0, 0]) == pytest.approx(1.0)              # 1 for a single code
    z, cb = torch.tensor([[2.0, 0.0]]), torch.tensor([[1.5, 0.0], [4.0, 0.0]])
    assert int(vqvae.nearest_code(z, cb)[0]) == 0 and int((z @ cb.T).argmax()) == 1   # dot_product is false
