"""RNN, LSTM, GRU chapter: every step, BPTT, bidirectional and clipping against torch.nn.RNN/LSTM/GRU with copied
weights, torch autograd and torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""
from __future__ import annotations

from itertools import islice

import numpy as np
import pytest
import torch

from engine.sequences import rnn as R

TORCH = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELL = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}


def _copy(module, p: R.CellParams, suffix: str = "_l0") -> None:
    with torch.no_grad():
        for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), p.arrays()):
            getattr(module, name + suffix).copy_(torch.as_tensor(a))


def _params(kind, D=5, H=6, seed=0, **kw):
    return R.init_params(kind, D, H, np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("kind", R.KINDS)
def test_run_equals_torch_module_with_copied_weights(kind):
    rng = np.random.default_rng(1)
    p = _params(kind, forget_bias=1.0, recurrent_scale=1.5)
    x = rng.normal(size=(3, 7, 5))
    h0 = rng.normal(size=(3, 6)) * 0.5
    c0 = rng.normal(size=(3, 6)) * 0.5
    m = TORCH[kind](5, 6, batch_first=True).double()
    _copy(m, p)
    xt = torch.as_tensor(x)
    if kind == "lstm":
        out, (hn, cn) = m(xt, (torch.as_tensor(h0)[None], torch.as_tensor(c0)[None]))
    else:
        out, hn = m(xt, torch.as_tensor(h0)[None])
    tr = R.run(p, x, h0, c0 if kind == "lstm" else None)
    np.testing.assert_allclose(tr.h, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    now = tr.at_step(4)                                             # what the page prints of a step
    assert abs(now["h_norm"] - torch.linalg.vector_norm(out[0, 4]).item()) < 1e-10
    if kind == "lstm":
        np.testing.assert_allclose(tr.c[:, -1], cn[0].detach().numpy(), rtol=1e-10, atol=1e-12)
        # every gate: the cell-state update and the output read back from the gates
        c_prev = np.concatenate([c0[:, None], tr.c[:, :-1]], axis=1)
        g = tr.gates
        np.testing.assert_allclose(tr.c, g["f"] * c_prev + g["i"] * g["g"], atol=1e-12)
        np.testing.assert_allclose(tr.h, g["o"] * np.tanh(tr.c), atol=1e-12)
        last = tr.at_step(6)                                        # the last step: torch's c_n
        assert abs(last["c_norm"] - torch.linalg.vector_norm(cn[0, 0]).item()) < 1e-10
        assert abs(last["f"] - g["f"][0, 6].mean()) < 1e-12
        assert ((g["f"] > 0) & (g["f"] < 1)).all()
    if kind == "gru":
        h_prev = np.concatenate([h0[:, None], tr.h[:, :-1]], axis=1)
        np.testing.assert_allclose(tr.h, (1 - tr.gates["z"]) * tr.gates["n"] + tr.gates["z"] * h_prev, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_lstm_gru_gates_equal_torch_cell_formula(kind):
    """The gates themselves against the torch cell's own weights, read in torch's gate order (i, f, g, o / r, z, n):
    a one-step cell with h0 = 0 isolates each gate's bias + input term."""
    p = _params(kind)
    x = np.random.default_rng(2).normal(size=(4, 5))
    h = np.random.default_rng(3).normal(size=(4, 6))
    s = R.cell_step(p, x, h, np.zeros((4, 6)) if kind == "lstm" else None)
    cell = CELL[kind](5, 6).double()
    _copy(cell, p, "")
    W = torch.cat([cell.weight_ih, cell.weight_hh], 1).detach().numpy()
    a = np.concatenate([x, h], 1) @ W.T + (cell.bias_ih + cell.bias_hh).detach().numpy()
    sig = lambda v: 1 / (1 + np.exp(-v))                                # noqa: E731
    H = 6
    if kind == "lstm":
        for j, (name, f) in enumerate(zip("ifgo", (sig, sig, np.tanh, sig))):
            np.testing.assert_allclose(s.gates[name], f(a[:, j * H:(j + 1) * H]), atol=1e-12)
        hn, cn = cell(torch.as_tensor(x), (torch.as_tensor(h), torch.zeros(4, 6, dtype=torch.float64)))
        np.testing.assert_allclose(s.h, hn.detach().numpy(), atol=1e-12)
    else:
        np.testing.assert_allclose(s.gates["r"], sig(a[:, :H]), atol=1e-12)
        np.testing.assert_allclose(s.gates["z"], sig(a[:, H:2 * H]), atol=1e-12)
        np.testing.assert_allclose(s.h, cell(torch.as_tensor(x), torch.as_tensor(h)).detach().numpy(), atol=1e-12)


def _torch_bptt(kind, p, x):
    """L = Σ h_T by autograd through an unrolled torch cell: ∂L/∂x_t, ∂L/∂h_t (retain_grad), parameter grads."""
    cell = CELL[kind](x.shape[2], p.hidden_size).double()
    _copy(cell, p, "")
    xt = torch.as_tensor(x).clone().requires_grad_(True)
    B = x.shape[0]
    h = torch.zeros(B, p.hidden_size, dtype=torch.float64)
    c = torch.zeros_like(h)
    hs = []
    for t in range(x.shape[1]):
        if kind == "lstm":
            h, c = cell(xt[:, t], (h, c))
        else:
            h = cell(xt[:, t], h)
        h.retain_grad()
        hs.append(h)
    h.sum().backward()
    grads = [getattr(cell, n).grad.numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    return xt.grad.numpy(), np.stack([v.grad.numpy() for v in hs], 1), grads


@pytest.mark.parametrize("kind", R.KINDS)
def test_bptt_equals_torch_autograd(kind):
    p = _params(kind, D=4, H=5, seed=3, recurrent_scale=2.0, forget_bias=0.5)
    x = np.random.default_rng(4).normal(size=(3, 9, 4))
    b = R.bptt(p, x)
    gx, gh, grads = _torch_bptt(kind, p, x)
    np.testing.assert_allclose(b.grad_x, gx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.grad_h, gh, rtol=1e-9, atol=1e-12)
    for mine, ref in zip(b.grads, grads):
        np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.input_norms, np.linalg.norm(gx, axis=-1).mean(0))


def test_vanishing_rnn_decays_lstm_keeps_with_forget_bias():
    """The chapter's claim, measured: at PyTorch's init the RNN's gradient 60 steps back is orders of magnitude
    below the last step's; the LSTM with a forget-gate bias of 3 keeps far more of it."""
    v = R.vanishing(60, forget_bias=3.0)
    ratio = {k: v.ratio(k) for k in R.KINDS}
    for k in R.KINDS:
        assert ratio[k] == v.norms[k][0] / v.norms[k][-1]
    assert ratio["rnn"] < 1e-6
    assert ratio["lstm"] > 1e3 * ratio["rnn"]
    big = R.vanishing(30, recurrent_scale=4.0)
    assert big.norms["rnn"][0] > R.vanishing(30).norms["rnn"][0] * 1e3    # larger recurrent weights: less vanishing


def test_bidirectional_equals_torch_bidirectional():
    for kind in R.KINDS:
        rng = np.random.default_rng(5)
        pf, pb = _params(kind, seed=6), _params(kind, seed=7)
        x = rng.normal(size=(2, 8, 5))
        m = TORCH[kind](5, 6, batch_first=True, bidirectional=True).double()
        _copy(m, pf)
        _copy(m, pb, "_l0_reverse")
        out = m(torch.as_tensor(x))[0].detach().numpy()
        bi = R.bidirectional(pf, pb, x)
        np.testing.assert_allclose(bi.output, out, rtol=1e-10, atol=1e-12)
        # the backward direction's state at step 1 has read the whole sentence (x_T … x_1)
        np.testing.assert_allclose(bi.backward.h[:, 0], R.run(pb, x[:, ::-1]).h[:, -1], atol=1e-12)


@pytest.mark.parametrize("limit", [0.01, 0.3, 5.0, 1e3])
def test_clipping_equals_torch_utils(limit):
    rng = np.random.default_rng(8)
    grads = [rng.normal(size=(4, 3)) * 2, rng.normal(size=5)]
    for mine, torch_fn in ((R.clip_by_norm(grads, limit), torch.nn.utils.clip_grad_norm_),
                           (R.clip_by_value(grads, limit), torch.nn.utils.clip_grad_value_)):
        ps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p_, g in zip(ps, grads):
            p_.grad = torch.as_tensor(g.copy())
        total = torch_fn(ps, limit)
        for a, p_ in zip(mine.grads, ps):
            np.testing.assert_allclose(a, p_.grad.numpy(), rtol=1e-12, atol=1e-15)
        if torch_fn is torch.nn.utils.clip_grad_norm_:
            np.testing.assert_allclose(mine.total_norm, float(total), rtol=1e-12)
            assert abs(mine.cosine - 1) < 1e-9                       # by norm: the direction is kept
    v = R.clip_by_value(grads, 0.3)
    assert v.cosine < 0.99                                           # by value: it turns


@pytest.mark.parametrize("kind", R.KINDS)
@pytest.mark.parametrize("D,H", [(1, 1), (8, 32), (300, 128)])
def test_n_parameters_equals_torch(kind, D, H):
    assert R.n_parameters(kind, D, H) == sum(p.numel() for p in TORCH[kind](D, H).parameters())
    assert R.n_parameters(kind, D, H, two_biases=False) == R.n_parameters(kind, D, H) - R.GATES[kind] * H


def test_characters_of_hostile_text():
    assert R.characters("  ab\x00c\u200b\u202e  d\ufeff ") == list("abc d")
    assert R.characters("ＡＢ１") == list("AB1")
    assert len(R.characters("東京" * 10_000)) == R.MAX_CHARS
    assert R.characters("😀 👍🏽")[0] == "😀"
    for bad in ("", " \t\n　", "\x00\x1b\u200b"):
        with pytest.raises(R.SentenceError) as e:
            R.characters(bad)
        assert e.value.code == "empty"
    e1 = R.embed(list("aba"), 8)
    np.testing.assert_array_equal(e1[0], e1[2])
    chars, tr = R.sentence_trace("hello", "lstm", 8)
    assert tr.h.shape == (1, 5, 8) and set(tr.gates) == set("ifgo")


def test_memory_task_and_training():
    cfg = R.MemoryConfig(delay=4, steps=300, every=100, n_test=256, forget_bias=1.0)
    x, y = R.memory_batch(cfg, 10, np.random.default_rng(0))
    assert x.shape == (10, 5) and (x[:, 0] == y).all() and (y < cfg.symbols).all()
    assert ((x[:, 1:] >= cfg.symbols) & (x[:, 1:] < 2 * cfg.symbols)).all()
    snaps = list(R.train_memory(cfg, "gru"))
    assert [s.step for s in snaps] == [0, 100, 200, 300]
    first = snaps[1]
    frozen = first.acc.copy()
    assert snaps[-1].acc[-1] > 0.9 > 1.5 / cfg.symbols > snaps[0].acc[0] - 0.2   # learns; starts near chance
    np.testing.assert_array_equal(first.acc, frozen)                # snapshots never change later
    with pytest.raises(ValueError):
        first.acc[0] = 1.0
    again = list(islice(R.train_memory(cfg, "gru"), 2))
    np.testing.assert_array_equal(again[1].loss, snaps[1].loss)    # deterministic given the config


# ------------------------------------------------------------------------------------------------ practice
from engine.common import practice as P  # noqa: E402

SEEDS = range(200)


def _correct_label(item) -> str:
    return item.choices[item.correct_index].label["en"]


def test_practice_lstm_step_equals_torch_lstm_cell():
    cell = torch.nn.LSTMCell(1, 1).double()
    for seed in SEEDS:
        item = P.make("rnn", "lstm_step", seed)
        q = item.params
        logit = lambda p: np.log(p / (1 - p))                            # noqa: E731
        with torch.no_grad():
            cell.weight_ih.zero_()
            cell.weight_hh.zero_()
            cell.bias_hh.zero_()
            cell.bias_ih.copy_(torch.tensor([logit(q["i"]), logit(q["f"]), np.arctanh(q["g"]), logit(q["o"])]))
            h, _ = cell(torch.zeros(1, 1, dtype=torch.float64),
                        (torch.zeros(1, 1, dtype=torch.float64), torch.tensor([[q["c_prev"]]], dtype=torch.float64)))
        assert abs(item.answer - h.item()) < 1e-9
        assert _correct_label(item) == f"{h.item():.4f}"


def test_practice_gru_step_equals_torch_gru_cell():
    cell = torch.nn.GRUCell(1, 1).double()
    for seed in SEEDS:
        item = P.make("rnn", "gru_step", seed)
        q = item.params
        with torch.no_grad():
            cell.weight_ih.zero_()
            cell.weight_hh.zero_()
            cell.bias_hh.zero_()
            cell.bias_ih.copy_(torch.tensor([0.3, np.log(q["z"] / (1 - q["z"])), np.arctanh(q["n"])]))
            h = cell(torch.zeros(1, 1, dtype=torch.float64), torch.tensor([[q["h_prev"]]], dtype=torch.float64))
        assert abs(item.answer - h.item()) < 1e-9
        assert _correct_label(item) == f"{h.item():.4f}"


def test_practice_param_count_equals_torch_numel():
    for seed in SEEDS:
        item = P.make("rnn", "param_count", seed)
        q = item.params
        n = sum(p.numel() for p in TORCH[q["kind"]](q["D"], q["H"]).parameters())
        assert item.answer == n and _correct_label(item) == f"{n:,}"


def test_practice_clip_equals_torch_clip_grad_norm():
    for seed in SEEDS:
        item = P.make("rnn", "clip_norm", seed)
        q = item.params
        p_ = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        p_.grad = torch.tensor([q["g1"], q["g2"]], dtype=torch.float64)
        torch.nn.utils.clip_grad_norm_([p_], q["c"])
        assert abs(item.answer - p_.grad[0].item()) < 1e-6
        assert _correct_label(item) == f"{p_.grad[0].item():.4f}"
        assert item.setup == {"rnn.g1": q["g1"], "rnn.g2": q["g2"], "rnn.clip_c": q["c"]}


def test_practice_blank_expected_is_torch_lstm_cell():
    for seed in range(0, 200, 5):
        item = P.make("rnn", "lstm_blank", seed)
        x, h, c, w_ih, w_hh, b_ih, b_hh = item.exec.args
        cell = torch.nn.LSTMCell(x.shape[1], h.shape[1]).double()
        with torch.no_grad():
            for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (w_ih, w_hh, b_ih, b_hh)):
                getattr(cell, name).copy_(torch.as_tensor(a))
            h1, c1 = cell(torch.as_tensor(x), (torch.as_tensor(h), torch.as_tensor(c)))
        np.testing.assert_allclose(item.exec.expected, np.concatenate([h1.numpy(), c1.numpy()], 1), atol=1e-12)


def test_practice_statements_hold_on_cases():
    """The statements that can be measured, measured: LSTM = 4 × RNN parameters; clipping by norm keeps the
    direction, by value turns it; clipping leaves a small (vanishing) gradient as it is; f ≈ 0 erases the cell
    state; the backward direction's first output depends on the last input."""
    for D, H in ((3, 5), (10, 20)):
        assert sum(p.numel() for p in torch.nn.LSTM(D, H).parameters()) == \
            4 * sum(p.numel() for p in torch.nn.RNN(D, H).parameters())
    g = [np.array([4.0, 0.5])]
    assert abs(R.clip_by_norm(g, 1.0).cosine - 1) < 1e-12 and R.clip_by_value(g, 1.0).cosine < 0.95
    tiny = [np.array([1e-8, -2e-8])]
    np.testing.assert_array_equal(R.clip_by_norm(tiny, 1.0).grads[0], tiny[0])
    from engine.practice.sequences import rnn as PR
    h, c = PR.lstm_step_values(f=1e-6, i=0.5, g=0.5, o=0.5, c_prev=3.0)
    assert abs(c - 0.25) < 1e-5                                       # f ≈ 0: the old 3.0 is gone
    rng = np.random.default_rng(0)
    pf, pb = _params("gru", seed=1), _params("gru", seed=2)
    x = rng.normal(size=(1, 6, 5))
    y = x.copy()
    y[0, -1] += 1.0
    assert not np.allclose(R.bidirectional(pf, pb, x).backward.h[0, 0], R.bidirectional(pf, pb, y).backward.h[0, 0])


# ------------------------------------------------------------------------------------------------ the page
def test_page_every_cell_and_a_sentence_with_nothing_to_read():
    from conftest import assert_ok, run_page
    at = run_page("pages/sequences/rnn.py", lang="ja")
    assert_ok(at)
    for kind in R.KINDS:
        at.radio(key="rnn.cell").set_value(kind).run()
        assert_ok(at)
        assert at.get("plotly_chart"), kind
    at.text_input(key="rnn.sentence").set_value("*$_\x00").run()
    assert_ok(at)
    assert any("「\\_」" in m.value for m in at.markdown if m.value.startswith("ステップ 3"))   # the last one, escaped
    headers = [h.value for h in at.header]
    at.text_input(key="rnn.sentence").set_value(" \x00\u200b ").run()
    assert_ok(at)
    assert [e.value for e in at.error] == [R_ERR_JA]
    assert [h.value for h in at.header] == headers                    # the other sections stay


R_ERR_JA = "文を入力してください。空白と制御文字を除くと読む文字が残りません。"


def test_numbers_mode_engine_and_page():
    """A number sequence: parsed as typed with an IME, each x_t (D = 1) = torch's cell on the same numbers; hostile
    text gives a translated reason and the page keeps every section."""
    from engine.common.text import TextError
    assert R.numbers("１，０，−0.5 2") == [1.0, 0.0, -0.5, 2.0]
    for bad, code in (("", "empty"), ("a", "not_a_number"), ("1e9", "out_of_range"), ("1 " * 41, "too_many")):
        with pytest.raises(TextError) as e:
            R.numbers(bad)
        assert e.value.code == code
    values = [1.0, 0.0, 0.0, -2.0, 0.5]
    tr = R.numbers_trace(values, "gru", 5)
    p = R.init_params("gru", 1, 5, np.random.default_rng([0, 13, 3]))
    m = torch.nn.GRU(1, 5, batch_first=True).double()
    _copy(m, p)
    np.testing.assert_allclose(tr.h, m(torch.tensor(values, dtype=torch.float64).reshape(1, -1, 1))[0].detach(),
                               atol=1e-12)

    from conftest import assert_ok, run_page
    at = run_page("pages/sequences/rnn.py", lang="ja")
    headers = [h.value for h in at.header]
    at.radio(key="rnn.source").set_value("numbers").run()
    assert_ok(at)
    assert not at.error and at.get("plotly_chart")
    for typed, bad in (("", True), (" \t\n　", True), ("😀 👍🏽", True), ("a\x00b\x07", True), ("「１，２，３」", True),
                       ("１，２，３", False), ("1e300", True), ("1 " * 200, True)):
        at.text_input(key="rnn.numbers").set_value(typed).run()
        assert_ok(at)
        assert bool(at.error) == bad, (typed, [e.value for e in at.error])
        assert [h.value for h in at.header] == headers
        assert all("数" in e.value for e in at.error)                  # said in Japanese


def test_practice_bptt_chain_equals_torch_autograd():
    """∂h_T/∂h_1 by autograd through torch.nn.RNNCell fed the inputs that give the item's states."""
    cell = torch.nn.RNNCell(1, 1).double()
    for seed in SEEDS:
        item = P.make("rnn", "bptt_chain", seed)
        w, hs = item.params["w"], item.params["hs"]
        with torch.no_grad():
            cell.weight_ih.fill_(1.0)
            cell.weight_hh.fill_(w)
            cell.bias_ih.zero_()
            cell.bias_hh.zero_()
        xs = [np.arctanh(hs[0])] + [np.arctanh(h) - w * hp for hp, h in zip(hs, hs[1:])]
        h1 = cell(torch.tensor([[xs[0]]], dtype=torch.float64))
        h = h1
        for x in xs[1:]:
            h = cell(torch.tensor([[x]], dtype=torch.float64), h)
        np.testing.assert_allclose(h.item(), hs[-1], atol=1e-12)
        (g,) = torch.autograd.grad(h.sum(), h1)
        assert abs(item.answer - g.item()) < 1e-9
        assert _correct_label(item) == f"{g.item():.4f}"
