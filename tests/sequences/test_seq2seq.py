"""Encoder–decoder with attention: the shared task module (engine/common/seqtasks.py) against datetime's own
parser and brute force; the chapter's cells, attention and decoders against torch.nn and exhaustive search."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.common import seqtasks as S
from engine.common.text import TextError


# ------------------------------------------------------------------------------------------------ seqtasks
STRPTIME = {"d_month_y": "%d %B %Y", "month_d_y": "%B %d, %Y", "d_mon_y": "%d %b %Y", "mon_d_y": "%b %d, %Y",
            "dd_mm_yyyy": "%d.%m.%Y", "ja": "%Y年%m月%d日"}


def test_dates_round_trip_through_strptime():
    rng = np.random.default_rng(0)
    first, last = S.FIRST_DATE.toordinal(), S.LAST_DATE.toordinal()
    for _ in range(400):
        d = dt.date.fromordinal(int(rng.integers(first, last + 1)))
        for fmt in S.DATE_FORMATS:
            s = S.format_date(d, fmt)
            assert dt.datetime.strptime(s, STRPTIME[fmt]).date() == d          # the C library's reading
            assert S.parse_date(s) == d
            assert S.TASKS["dates"].target(s) == d.isoformat()
            assert len(s) <= S.TASKS["dates"].max_src_len


def test_sampled_pairs_are_correct_and_cover_the_formats():
    task = S.get_task("dates")
    pairs = task.sample(np.random.default_rng(1), 600)
    seen = set()
    for src, tgt in pairs:
        for fmt, p in STRPTIME.items():
            try:
                d = dt.datetime.strptime(src, p).date()
            except ValueError:
                continue
            seen.add(fmt)
            assert d.isoformat() == tgt
            break
        else:
            raise AssertionError(src)
        assert S.FIRST_DATE <= dt.date.fromisoformat(tgt) <= S.LAST_DATE
        task.src_vocab.encode(src), task.tgt_vocab.encode(tgt)             # every character in the vocabulary
    assert seen == set(STRPTIME)
    # same rng seed, same pairs; another seed, other pairs
    assert task.sample(np.random.default_rng(1), 600) == pairs
    assert task.sample(np.random.default_rng(2), 600) != pairs


def test_reverse_pairs():
    task = S.get_task("reverse")
    for src, tgt in task.sample(np.random.default_rng(3), 300):
        assert tgt == "".join(reversed(src)) and 3 <= len(src) <= 12 and set(src) <= set("abcdefghij")
    assert task.target("abc") == "cba" and task.target("xyz") is None


@pytest.mark.parametrize("bad", ["31 February 2026", "5 Decembre 2026", "2026-12-05", "2026年13月1日", ""])
def test_parse_date_rejects(bad):
    assert S.parse_date(bad) is None


def test_vocab_round_trip_and_specials():
    for task in S.TASKS.values():
        v = task.src_vocab
        assert v.tokens[:3] == S.SPECIALS and v.size == len(v.tokens) == 3 + len(set(v.chars))
        for src, tgt in task.sample(np.random.default_rng(4), 50):
            assert v.decode(v.encode(src)) == src
            ids = [S.SOS] + task.tgt_vocab.encode(tgt) + [S.EOS, 5, 6]
            assert task.tgt_vocab.decode(ids) == tgt                          # stops at EOS, skips SOS


def test_make_batch_against_a_plain_loop():
    task = S.get_task("dates")
    pairs = task.sample(np.random.default_rng(5), 17)
    b = S.make_batch(task, pairs)
    S_len = max(len(s) for s, _ in pairs)
    assert b.src.shape == (17, S_len) and b.tgt_in.shape == b.tgt_out.shape == (17, 11)
    for i, (src, tgt) in enumerate(pairs):
        row = [task.src_vocab.tokens.index(c) for c in src]
        assert list(b.src[i]) == row + [S.PAD] * (S_len - len(src))
        assert b.src_len[i] == len(src) and b.src_mask[i].sum() == len(src)
        out = [task.tgt_vocab.tokens.index(c) for c in tgt] + [S.EOS]
        assert list(b.tgt_out[i]) == out
        assert list(b.tgt_in[i]) == [S.SOS] + out[:-1]                      # teacher forcing: shifted by one
    rev = S.get_task("reverse")
    b = S.make_batch(rev, [("abc", "cba"), ("abcdef", "fedcba")])
    assert b.tgt_mask.sum(1).tolist() == [4, 7]
    assert b.tgt_in[0].tolist() == [S.SOS, 5, 4, 3, S.PAD, S.PAD, S.PAD]


def test_metrics_against_brute_force():
    rng = np.random.default_rng(6)
    for _ in range(50):
        n = int(rng.integers(1, 8))
        targets = ["".join(rng.choice(list("ab-"), size=int(rng.integers(0, 6)))) for _ in range(n)]
        preds = ["".join(rng.choice(list("ab-"), size=int(rng.integers(0, 6)))) for _ in range(n)]
        preds[0] = targets[0]
        em = np.mean([p == t for p, t in zip(preds, targets)])
        hits = total = 0
        for p, t in zip(preds, targets):
            for j in range(len(t)):
                total += 1
                hits += j < len(p) and p[j] == t[j]
        assert S.exact_match(preds, targets) == pytest.approx(em)
        assert S.char_accuracy(preds, targets) == pytest.approx(hits / total if total else 0.0)
    assert S.char_accuracy(["2026-12"], ["2026-12-05"]) == pytest.approx(0.7)
    with pytest.raises(ValueError):
        S.exact_match(["a"], [])


@pytest.mark.parametrize("text, code", [("", "empty"), ("   ", "empty"), ("x" * 100_000, "too_long"),
                                        ("5 December 2026 and a very long tail", "too_long"),
                                        ("5 December 2026 🎉", "unknown_chars"), ("5\x00Dec 2026", "unknown_chars"),
                                        ("٥ Dec 2026", "unknown_chars")])
def test_prepare_rejects_hostile_text(text, code):
    with pytest.raises(TextError) as e:
        S.get_task("dates").prepare(text)
    assert e.value.code == code


def test_prepare_normalises_what_a_reader_types():
    dates = S.get_task("dates")
    assert dates.prepare("  ５ december\u3000２０２６ ") == "5 December 2026"
    assert dates.prepare("２０２６年１２月５日") == "2026年12月5日"
    assert dates.prepare("DEC 5,  2026") == "Dec 5, 2026"
    assert S.get_task("reverse").prepare("ＡＢＣ") == "abc"


# ------------------------------------------------------------------------------------------- the chapter
import itertools  # noqa: E402
from itertools import islice  # noqa: E402

import torch  # noqa: E402

from engine.sequences import seq2seq as M  # noqa: E402


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_cells_equal_torch_nn_with_copied_weights(kind):
    g = torch.Generator().manual_seed(0)
    ours = M.make_cell(kind, 5, 7, g)
    ref = {"gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}[kind](5, 7)
    ref.load_state_dict(ours.state_dict())                     # same names, same gate order
    x = torch.randn(4, 6, 5, generator=g)
    h = torch.randn(4, 7, generator=g)
    state_ours = (h,) if kind == "gru" else (h, torch.randn(4, 7, generator=g))
    state_ref = state_ours[0] if kind == "gru" else state_ours
    for t in range(6):                                         # a whole sequence, state carried
        state_ours = ours.step(ours.project(x[:, t]), state_ours)
        state_ref = ref(x[:, t], state_ref)
        ref_tuple = (state_ref,) if kind == "gru" else state_ref
        for a, b in zip(state_ours, ref_tuple):
            torch.testing.assert_close(a, b)
    # and a full sequence against torch.nn.GRU / LSTM (the encoder's loop without padding)
    seq = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind](5, 7, batch_first=True)
    seq.load_state_dict({f"{k}_l0": v for k, v in ours.state_dict().items()})
    out, _ = seq(x)
    st = ours.zero_state(4)
    for t in range(6):
        st = ours.step(ours.project(x[:, t]), st)
        torch.testing.assert_close(st[0], out[:, t])
    # gradients too
    loss_ours = ours(x[:, 0], h).sum() if kind == "gru" else ours(x[:, 0], (h, h))[0].sum()
    loss_ref = ref(x[:, 0], h).sum() if kind == "gru" else ref(x[:, 0], (h, h))[0].sum()
    g1 = torch.autograd.grad(loss_ours, list(ours.parameters()))
    g2 = torch.autograd.grad(loss_ref, list(ref.parameters()))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b)


def _brute_attention(kind, q, K, mask, W=None, U=None, v=None):
    """Scores, weights and context by loops over plain Python floats (float64)."""
    q, K = q.double().numpy(), K.double().numpy()
    B, S, _ = K.shape
    ctx, alphas = np.zeros((B, K.shape[2])), np.zeros((B, S))
    for b in range(B):
        e = []
        for j in range(S):
            if kind == "dot":
                e.append(sum(q[b, d] * K[b, j, d] for d in range(K.shape[2])))
            else:
                pre = W.double().numpy() @ q[b] + U.double().numpy() @ K[b, j]
                e.append(float(v.double().numpy() @ np.tanh(pre)))
        real = [j for j in range(S) if mask[b, j]]
        m = max(e[j] for j in real)
        z = sum(np.exp(e[j] - m) for j in real)
        for j in real:
            alphas[b, j] = np.exp(e[j] - m) / z
            ctx[b] += alphas[b, j] * K[b, j]
    return alphas, ctx


def test_attention_against_brute_force_and_torch():
    g = torch.Generator().manual_seed(1)
    B, S, H = 3, 6, 4
    q, K = torch.randn(B, H, generator=g), torch.randn(B, S, H, generator=g)
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] + [0] * 5], dtype=torch.bool)
    ctx, alpha = M.dot_attention(q, K, mask)
    a_ref, c_ref = _brute_attention("dot", q, K, mask)
    np.testing.assert_allclose(alpha.numpy(), a_ref, atol=1e-6)
    np.testing.assert_allclose(ctx.numpy(), c_ref, atol=1e-5)
    assert float(alpha[2, 1:].abs().sum()) == 0.0               # padding gets exactly nothing
    # torch's fused attention: one query per sequence, keys = values, no 1/√d scaling (Luong's dot)
    sdpa = torch.nn.functional.scaled_dot_product_attention(q[:, None], K, K, attn_mask=mask[:, None], scale=1.0)
    torch.testing.assert_close(ctx, sdpa[:, 0])
    # torch.nn.MultiheadAttention with one head and identity projections (it divides by √d: feed q·√d)
    mha = torch.nn.MultiheadAttention(H, 1, batch_first=True, bias=False)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.eye(H).repeat(3, 1))
        mha.out_proj.weight.copy_(torch.eye(H))
    out, w = mha(q[:, None] * H ** 0.5, K, K, key_padding_mask=~mask)
    torch.testing.assert_close(ctx, out[:, 0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alpha, w[:, 0], atol=1e-6, rtol=1e-5)
    # additive (Bahdanau)
    W, U, v = torch.randn(5, H, generator=g), torch.randn(5, H, generator=g), torch.randn(5, generator=g)
    alpha = M.masked_softmax(M.additive_scores(q, K @ U.T, W, v), mask)
    a_ref, c_ref = _brute_attention("additive", q, K, mask, W, U, v)
    np.testing.assert_allclose(alpha.numpy(), a_ref, atol=1e-6)
    np.testing.assert_allclose(M.attend(alpha, K).numpy(), c_ref, atol=1e-5)


def _table_step(table):
    """A toy 'model': log p(next | previous token, position) from a fixed table (T, V, V); state = position."""
    def step(tokens, state):
        return torch.from_numpy(table[int(state[0][0])][tokens.numpy()]), (state[0] + 1,), None
    return step


def _exhaustive(table, max_len, eos):
    V = table.shape[1]
    best = (-np.inf, None)
    for n in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=n):
            if eos in seq[:-1] or (n < max_len and seq[-1] != eos):
                continue
            prev, s = 0, 0.0                                  # start token 0 ("SOS")
            for i, tok in enumerate(seq):
                s += table[i, prev, tok]
                prev = tok
            if np.isfinite(s) and s > best[0]:
                best = (s, seq)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_beam_search_against_exhaustive_and_greedy(seed):
    rng = np.random.default_rng(seed)
    V, L, eos = 4, 4, 1
    logits = rng.normal(0, 1.5, size=(L, V, V))
    logits[:, :, 0] = -np.inf                                  # token 0 never generated (as SOS/PAD)
    table = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    full = M.beam_search(_table_step(table), (torch.tensor([0]),), V ** L, L, sos=0, eos=eos)
    score, seq = _exhaustive(table, L, eos)
    assert full[0].tokens == seq and full[0].score == pytest.approx(score)
    # every returned hypothesis' score is the sum of its log-probabilities
    for h in full:
        prev, s = 0, 0.0
        for i, tok in enumerate(h.tokens):
            s, prev = s + table[i, prev, tok], tok
        assert h.score == pytest.approx(s)
    # width 1 = greedy: argmax at every step until EOS
    prev, seq_g = 0, []
    for i in range(L):
        tok = int(np.argmax(table[i, prev]))
        seq_g.append(tok)
        prev = tok
        if tok == eos:
            break
    assert M.beam_search(_table_step(table), (torch.tensor([0]),), 1, L, sos=0, eos=eos)[0].tokens == tuple(seq_g)
    # no width beats exhaustive search (a wider beam may still lose to a narrower one on some tables)
    for k in (1, 2, 3, 5):
        assert M.beam_search(_table_step(table), (torch.tensor([0]),), k, L, sos=0, eos=eos)[0].score <= score + 1e-12


def _tiny(attention, cell="gru", **kw):
    return M.Seq2SeqConfig(attention=attention, cell=cell, emb=8, hidden=12, batch_size=16, steps=6, every=3,
                           val_size=32, **kw)


@pytest.mark.parametrize("attention", M.ATTENTIONS)
@pytest.mark.parametrize("cell", M.CELLS)
def test_padding_changes_nothing_and_greedy_is_beam_1(attention, cell):
    model = M.make_model(_tiny(attention, cell)).eval()
    task = model.task
    pairs = task.sample(np.random.default_rng(0), 5)
    batch = S.make_batch(task, pairs)
    with torch.no_grad():
        logits, attn = model(torch.from_numpy(batch.src), torch.from_numpy(batch.tgt_in))
        for b, (src, tgt) in enumerate(pairs):                 # each alone, unpadded
            one = S.make_batch(task, [(src, tgt)])
            l1, a1 = model(torch.from_numpy(one.src), torch.from_numpy(one.tgt_in))
            torch.testing.assert_close(logits[b, : l1.shape[1]], l1[0])
            if attn is not None:
                torch.testing.assert_close(attn[b, :, : len(src)], a1[0])
                assert float(attn[b, :, len(src):].abs().sum()) == 0.0
                torch.testing.assert_close(attn[b].sum(-1), torch.ones(attn.shape[1]))
    dec = M.greedy(model, torch.from_numpy(batch.src))
    for b, (src, _) in enumerate(pairs):
        tr = M.translate(model, src, beam_width=3)
        assert M.hypothesis_text(task, tr.greedy) == dec.texts[b]
        assert tr.greedy.score == pytest.approx(float(dec.log_prob[b]), abs=1e-4)
        assert [h.score for h in tr.beams] == sorted((h.score for h in tr.beams), reverse=True)
        if attention != "none":
            np.testing.assert_allclose(np.array(tr.greedy.attention), dec.attention[b, : len(tr.greedy.tokens), : len(src)],
                                       atol=1e-6)


def test_teacher_forcing_loss_against_torch_functional():
    """The training loss is torch's cross-entropy over real target tokens; with teacher_forcing=0 the decoder's
    inputs are its own argmaxes (checked step by step)."""
    model = M.make_model(_tiny("additive"))
    task = model.task
    batch = S.make_batch(task, task.sample(np.random.default_rng(1), 4))
    src, tgt_in = torch.from_numpy(batch.src), torch.from_numpy(batch.tgt_in)
    logits, _ = model(src, tgt_in, teacher_forcing=0.0, generator=torch.Generator().manual_seed(0))
    memory, state = model.encode(src)
    token = tgt_in[:, 0]
    for i in range(tgt_in.shape[1]):
        lg, state, _ = model.decode_step(token, state, memory)
        torch.testing.assert_close(lg, logits[:, i])
        token = lg.argmax(-1)
    ce = [-torch.log_softmax(logits[b, i], -1)[batch.tgt_out[b, i]] for b in range(4)
          for i in range(logits.shape[1]) if batch.tgt_out[b, i] != S.PAD]
    torch.testing.assert_close(M.loss_fn(logits, torch.from_numpy(batch.tgt_out)), torch.stack(ce).mean())


def test_training_is_deterministic_and_learns():
    cfg = _tiny("additive")
    a = list(islice(M.train(cfg), 3))
    b = list(islice(M.train(cfg), 3))
    assert [s.step for s in a] == [0, 3, 6]
    for x, y in zip(a, b):
        assert x.metrics == pytest.approx(y.metrics, nan_ok=True)
        for k in x.state:
            np.testing.assert_array_equal(x.state[k], y.state[k])
    # the snapshot's weights rebuild the model; its accuracies are evaluate()'s on the validation set
    model = M.model_from_state(cfg, a[-1].state)
    ev = M.evaluate(model, model.task, S.validation_set(model.task, cfg.val_size))
    assert ev.exact == a[-1].metrics["exact"] and ev.char == a[-1].metrics["char"]
    assert a[-1].metrics["loss"] < np.log(model.task.tgt_vocab.size)


# ---------------------------------------------------------------------------------------------- practice
from engine.common import practice as P  # noqa: E402

SEEDS = range(200)


def test_practice_attention_weight_against_torch_softmax():
    for seed in SEEDS:
        item = P.make("seq2seq", "attention_weight", seed)
        s, H, j = item.params["s"], item.params["H"], item.params["j"]
        alpha = torch.softmax(torch.tensor(H, dtype=torch.float64) @ torch.tensor(s, dtype=torch.float64), 0)
        assert item.answer == pytest.approx(float(alpha[j]), abs=1e-6)
        assert item.choices[item.correct_index].label["en"] == f"{float(alpha[j]):.3f}"


def test_practice_beam_against_brute_force():
    for seed in SEEDS:
        item = P.make("seq2seq", "beam_probability", seed)
        p1, p2 = item.params["p1"], item.params["p2"]
        seqs = {(a, b): p1[a] * p2[a, b] for a in range(2) for b in range(2)}
        best = max(seqs.values())
        assert item.answer == pytest.approx(best, abs=1e-9)
        a = int(np.argmax(p1))                                  # greedy differs: the item's premise
        assert p1[a] * p2[a].max() < best - 1e-12
        assert item.choices[item.correct_index].label["en"] == f"{best:.4f}"


def test_practice_blank_and_implementation_against_torch():
    for seed in SEEDS:
        item = P.make("seq2seq", "attention_blank", seed)
        s, H = (torch.tensor(v, dtype=torch.float64) for v in (item.params["s"], item.params["H"]))
        ref = torch.nn.functional.scaled_dot_product_attention(s[None, None], H[None], H[None], scale=1.0)[0, 0]
        np.testing.assert_allclose(item.exec.expected, ref.numpy(), atol=1e-6)
        assert P.matches(P.execute(item.snippet(item.correct_index), item.exec), item.exec)
        item = P.make("seq2seq", "gru_implementation", seed)
        q = item.params
        cell = torch.nn.GRUCell(2, 2).double()
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(torch.tensor(q[{"weight_ih": "W_ih", "weight_hh": "W_hh",
                                                          "bias_ih": "b_ih", "bias_hh": "b_hh"}[name]]))
            ref = cell(torch.tensor(q["x"])[None], torch.tensor(q["h"])[None])[0]
        np.testing.assert_allclose(item.exec.expected, ref.numpy(), atol=1e-5)


def test_practice_statements_hold_on_cases():
    """The checkable statements, checked: α sums to 1 per step; width 1 = greedy (above); beam search is not
    optimal (every beam item has greedy ≠ best); and a wider beam can end less probable than a narrower one."""
    model = M.make_model(_tiny("additive")).eval()
    batch = S.make_batch(model.task, model.task.sample(np.random.default_rng(0), 4))
    with torch.no_grad():
        _, attn = model(torch.from_numpy(batch.src), torch.from_numpy(batch.tgt_in))
    torch.testing.assert_close(attn.sum(-1), torch.ones(attn.shape[:2]))
    # beam_always_better is false: width 1 (greedy) keeps A and ends A X </s> (0.4 · 0.4 = 0.16); width 2 keeps A
    # and B, whose two continuations (0.175 each) push A X out, and every path left ends below 0.16
    p = np.zeros((3, 7, 7))                                    # (step, previous, next); 1 = </s>, 2..6 = A B X Y Z
    p[0, 0, [2, 3, 4]] = 0.4, 0.35, 0.25
    p[1, 2, [4, 5, 6]] = 0.4, 0.3, 0.3
    p[1, 3, [5, 6]] = 0.5, 0.5
    p[1, 4, 1] = 1.0
    p[2, :, 1] = 1.0
    p[2, 5, [1, 2]] = p[2, 6, [1, 2]] = 0.1, 0.9
    with np.errstate(divide="ignore"):
        table = np.log(p)
    one, two = (M.beam_search(_table_step(table), (torch.tensor([0]),), k, 3, sos=0, eos=1)[0] for k in (1, 2))
    assert one.tokens == (2, 4, 1) and np.exp(one.score) == pytest.approx(0.16)
    assert np.exp(two.score) == pytest.approx(0.1575) and two.score < one.score


# -------------------------------------------------------------------------------------------------- page
PAGE = "pages/sequences/seq2seq.py"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_with_the_readers_text(lang):
    """The reader's own source: a Japanese date with full-width digits decodes; hostile text (empty, 10⁵
    characters, emoji, control characters, another task's alphabet) gives the translated reason and the example;
    switching the task resets the text to the task's own example."""
    from tests.conftest import assert_ok, run_page
    from ui.i18n import lookup

    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    assert not at.warning
    box = at.text_input(key="seq2seq.text")
    box.set_value("２０２６年１２月５日").run()
    assert_ok(at)
    assert not at.warning
    assert any("2026-12-05" in c.value for c in at.caption)              # the exact answer, from seqtasks
    for text, code in (("", "empty"), ("x" * 100_000, "too_long"), ("5 Dec 2026 🎉", "unknown_chars"),
                       ("5\x07Dec 2026", "unknown_chars")):
        at.text_input(key="seq2seq.text").set_value(text).run()
        assert_ok(at)
        head = lookup(f"seq2seq.errors.{code}", lang).split("{")[0]
        assert len(at.warning) == 1 and head in at.warning[0].value, (text[:20], at.warning[0].value)
    at.selectbox(key="seq2seq.task").set_value("reverse").run()
    assert_ok(at)
    assert at.text_input(key="seq2seq.text").value == S.get_task("reverse").examples[0]
    assert not at.warning
    at.button(key="seq2seq.run.race.step").click().run()
    assert_ok(at)
