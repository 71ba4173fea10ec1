"""DCGAN / CGAN on sklearn digits: data scaling, shapes against conv arithmetic, conditioning, interpolation,
determinism, and the page's controls."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from conftest import assert_ok, run_page
from engine.generative import dcgan

TINY = dict(channels=8, batch_size=8, snapshot_every=2, z_dim=4)


def test_digits_are_scaled_to_tanh_range():
    from sklearn.datasets import load_digits
    x, y = dcgan.load_digits_images()
    d = load_digits()
    assert x.shape == (1797, 1, 8, 8) and y.shape == (1797,)
    np.testing.assert_allclose(x[:, 0], d.images / 8 - 1, atol=1e-6)
    assert x.min() == -1 and x.max() == 1


def _conv_out(n, k, s, p):            # Dumoulin & Visin, "A guide to convolution arithmetic", 2016
    return (n + 2 * p - k) // s + 1


def _tconv_out(n, k, s, p):
    return (n - 1) * s - 2 * p + k


@pytest.mark.parametrize("conditional", [False, True])
def test_layer_shapes_follow_conv_arithmetic(conditional):
    cfg = dcgan.Config(conditional=conditional)
    C = cfg.channels
    g = dict(dcgan.layer_shapes(cfg, "G"))
    assert g["ConvTranspose2d"] == (1, _tconv_out(_tconv_out(2, 4, 2, 1), 4, 2, 1), 8)   # last one wins in dict
    rows = dcgan.layer_shapes(cfg, "G")
    assert rows[0][1] == (cfg.z_dim + (10 if conditional else 0),)
    assert rows[-1] == ("Tanh", (1, 8, 8))
    d = dcgan.layer_shapes(cfg, "D")
    assert d[0][1] == (11 if conditional else 1, 8, 8)
    assert d[1][1] == (C // 2, _conv_out(8, 4, 2, 1), _conv_out(8, 4, 2, 1))
    assert d[3][1] == (C, 2, 2) and d[-1] == ("Linear", (1,))


def test_init_is_seeded_dcgan_normal():
    G1, D1 = dcgan.build(dcgan.Config(), 0)
    G2, _ = dcgan.build(dcgan.Config(), 0)
    G3, _ = dcgan.build(dcgan.Config(), 1)
    w = [p for n, p in G1.named_parameters() if n.endswith("weight") and p.dim() > 1]
    assert all(abs(float(p.detach().std()) - 0.02) < 0.005 for p in w)
    for a, b, c in zip(G1.parameters(), G2.parameters(), G3.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, c) for a, c in zip(G1.parameters(), G3.parameters()))


def test_conditioning_reaches_both_players():
    cfg = dcgan.Config(conditional=True, **TINY)
    G, D = dcgan.build(cfg, 0)
    G.eval()
    z = torch.randn(3, cfg.z_dim)
    with torch.no_grad():
        a, b = G(z, torch.tensor([1, 1, 1])), G(z, torch.tensor([7, 7, 7]))
        assert a.shape == (3, 1, 8, 8) and a.abs().max() <= 1
        assert not torch.allclose(a, b)
        x = torch.randn(3, 1, 8, 8)
        assert not torch.allclose(D(x, torch.tensor([0, 0, 0])), D(x, torch.tensor([5, 5, 5])))


def test_interpolation_linear_and_slerp():
    z0, z1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    lin = dcgan.interpolate(z0, z1, 5)
    np.testing.assert_allclose(lin[[0, -1]], [z0, z1])
    np.testing.assert_allclose(lin[2], (z0 + z1) / 2)
    sl = dcgan.interpolate(z0, z1 / 2, 5, spherical=True)      # orthogonal unit vectors: a quarter circle
    tt = np.linspace(0, 1, 5)
    np.testing.assert_allclose(sl, np.cos(tt * np.pi / 2)[:, None] * z0 + np.sin(tt * np.pi / 2)[:, None] * z1 / 2,
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(sl, axis=1), 1.0)


@pytest.mark.parametrize("conditional", [False, True])
def test_train_is_deterministic_and_generate_reproduces_the_snapshot_state(conditional):
    x, y = dcgan.load_digits_images()
    data = (x[:64], y[:64])
    cfg = dcgan.Config(conditional=conditional, **TINY)
    a = list(itertools.islice(dcgan.train(cfg, 3, data), 3))
    b = list(itertools.islice(dcgan.train(cfg, 3, data), 3))
    assert [s.step for s in a] == [0, 2, 4]
    np.testing.assert_array_equal(a[-1].images, b[-1].images)
    assert not np.array_equal(a[0].images, a[-1].images)
    assert a[-1].images.shape == ((10 if conditional else 8), 8, 8, 8)
    assert len(a[-1].hist_d) == 2 and np.all((a[-1].hist_d_real > 0) & (a[-1].hist_d_real < 1))
    z = np.random.default_rng(0).standard_normal((4, cfg.z_dim))
    labels = np.array([0, 1, 2, 3]) if conditional else None
    G = dcgan.Generator(cfg).to_empty(device="cpu")
    G.load_state_dict(a[-1].state)
    G.eval()
    with torch.no_grad():
        ref = G(torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(labels) if conditional else None)[:, 0]
    np.testing.assert_allclose(dcgan.generate(cfg, a[-1].state, z, labels), ref.numpy(), atol=1e-6)


def test_page_step_label_and_interpolation():
    at = run_page("pages/generative/dcgan.py", lang="ja")
    assert_ok(at)
    at.button(key="dcgan.run.step").click().run()
    assert_ok(at)
    assert any("25 ステップ" in c.value for c in at.caption)
    at.button(key="dcgan.run.train").click().run()        # the live fragment draws, then trains for its budget
    at.run()
    assert_ok(at)
    assert not any("25 ステップ" in c.value for c in at.caption)      # it moved on while training
    at.button(key="dcgan.run.pause").click().run()
    at.toggle(key="dcgan.arch_cond").set_value(True).run()
    at.toggle(key="dcgan.slerp").set_value(False).run()
    assert_ok(at)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_curves_one_legend_per_chart_and_every_series_its_own_style(lang):
    """The loss chart and the D-output chart each have their own legend, under their own chart, listing only their
    own four series; the eight series are eight different (colour, dash) pairs; titles in the page's language."""
    from engine.figures.generative import dcgan as figs
    from ui.i18n import table

    x, y = dcgan.load_digits_images()
    data = (x[:64], y[:64])
    snaps = {k: list(itertools.islice(dcgan.train(dcgan.Config(conditional=k == "cgan", **TINY), 0, data), 3))[-1]
             for k in ("dcgan", "cgan")}
    lab = table("dcgan.labels", lang)
    fig = figs.plot_curves(snaps, labels=lab)
    lines = [tr for tr in fig.data if tr.type == "scatter"]
    assert len(lines) == 8
    styles = {(tr.line.color, tr.line.dash) for tr in lines}
    assert len(styles) == 8
    by_legend = {}
    for tr in lines:
        by_legend.setdefault(tr.legend or "legend", []).append(tr)
    assert sorted(by_legend) == ["legend", "legend2"]
    for name, xaxis in (("legend", "x"), ("legend2", "x2")):
        assert len(by_legend[name]) == 4 and {tr.xaxis for tr in by_legend[name]} == {xaxis}
    left, right = fig.layout.legend, fig.layout.legend2
    assert left.x < fig.layout.xaxis.domain[1] <= fig.layout.xaxis2.domain[0] <= right.x + 0.05
    assert left.y < 0 and right.y < 0                                   # under the charts, not over them
    titles = [a.text for a in fig.layout.annotations]
    assert lab["loss_panel"] in titles and lab["d_panel"] in titles
    np.testing.assert_allclose(by_legend["legend"][0].y, snaps["dcgan"].hist_d, atol=1e-4)


def test_curves_at_step_zero_say_when_lines_come():
    """Step 0 has no history: each panel says the curves start with the first step; later the note is gone."""
    from engine.figures.generative import dcgan as figs

    x, y = dcgan.load_digits_images()
    data = (x[:64], y[:64])
    first = {k: next(dcgan.train(dcgan.Config(conditional=k == "cgan", **TINY), 0, data)) for k in ("dcgan", "cgan")}
    notes = [a for a in figs.plot_curves(first, labels={"pending": "soon"}).layout.annotations if a.text == "soon"]
    assert sorted(a.xref for a in notes) == ["x domain", "x2 domain"]
    later = {k: list(itertools.islice(dcgan.train(dcgan.Config(conditional=k == "cgan", **TINY), 0, data), 2))[-1]
             for k in ("dcgan", "cgan")}
    assert not [a for a in figs.plot_curves(later, labels={"pending": "soon"}).layout.annotations if a.text == "soon"]


# ---- conv arithmetic and the conditioning helpers, against torch -------------------------------------------
def test_conv_output_sizes_equal_torch():
    for h, k, s, p, d in itertools.product((1, 2, 5, 8, 13), (1, 2, 3, 4, 5), (1, 2, 3), (0, 1, 2), (1, 2)):
        x = torch.empty(1, 1, h, h, device="meta")
        if h + 2 * p >= d * (k - 1) + 1:
            w = torch.empty(1, 1, k, k, device="meta")
            assert dcgan.conv_output_size(h, k, s, p, d) == torch.nn.functional.conv2d(
                x, w, stride=s, padding=p, dilation=d).shape[-1]
        for op in range(max(s, d)):
            if dcgan.conv_transpose_output_size(h, k, s, p, op, d) <= 0:
                continue                                # torch refuses an empty output
            w = torch.empty(1, 1, k, k, device="meta")
            want = torch.nn.functional.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, dilation=d)
            assert dcgan.conv_transpose_output_size(h, k, s, p, op, d) == want.shape[-1], (h, k, s, p, op, d)


def test_condition_helpers_are_one_hot_concatenations():
    z, y = torch.randn(4, 6), torch.tensor([0, 3, 9, 3])
    np.testing.assert_array_equal(dcgan.condition_latent(z, y).numpy(), np.c_[z.numpy(), np.eye(10)[y.numpy()]])
    x = torch.randn(4, 1, 8, 8)
    got = dcgan.condition_image(x, y).numpy()
    assert got.shape == (4, 11, 8, 8)
    np.testing.assert_array_equal(got[:, 0], x[:, 0].numpy())
    np.testing.assert_array_equal(got[:, 1:], np.broadcast_to(np.eye(10)[y.numpy()][:, :, None, None], (4, 10, 8, 8)))


# ---- practice items (issue #24): answers recomputed independently ------------------------------------------
def test_practice_tconv_answers_equal_torch():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("dcgan", "tconv_size", seed)
        p = it.params
        x, w = torch.empty(1, 1, p["h"], p["h"], device="meta"), torch.empty(1, 1, p["k"], p["k"], device="meta")
        want = torch.nn.functional.conv_transpose2d(x, w, stride=p["s"], padding=p["p"],
                                                    output_padding=p["output_padding"]).shape[-1]
        assert it.answer == want and it.choices[it.correct_index].label["en"] == str(want)


def test_practice_cgan_blank_expected_is_numpy_one_hot():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("dcgan", "cgan_blank", seed)
        data, onehot = np.asarray(it.params["data"], dtype=np.float32), np.eye(10)[it.params["y"]]
        if it.params["player"] == "g":
            want = np.c_[data, onehot]
        else:
            want = np.concatenate([data, np.broadcast_to(onehot[:, :, None, None], (len(data), 10, 8, 8))], 1)
        np.testing.assert_array_equal(it.exec.expected, want)


def test_practice_notes_questions_verbatim_with_the_notes_answers():
    """The course notes' 問題1 (answer (b)) and 問題2 (answer (a)) come out verbatim on some seeds."""
    from engine.common import practice as P
    q1 = [P.make("dcgan", "cgan_notes_q1", s) for s in range(200)]
    notes = [it for it in q1 if it.params["notes"]]
    assert 20 < len(notes) < 100
    for it in notes:
        assert [c.label["ja"][:3] for c in it.choices] == ["(a)", "(b)", "(c)", "(d)"] and it.correct_index == 1
        assert "生成したい画像のクラスを指定できる一方で" in it.choices[1].label["ja"]
        assert it.stem["ja"].startswith("（講義ノート 問題1）")
    q2 = [P.make("dcgan", "cgan_notes_q2", s) for s in range(200)]
    notes = [it for it in q2 if it.params["notes"]]
    assert 20 < len(notes) < 100
    for it in notes:
        assert it.correct_index == 0 and it.choices[0].label["ja"].startswith("(a) Z, Y → [G] → G(Z|Y) → [D] ← Y")
    for it in q2:                                        # the right network gives Y to both players exactly for a CGAN
        label = it.choices[it.correct_index].label["en"]
        assert ("Y →" in label and "← Y" in label) == (it.params["target"] == "cgan")
