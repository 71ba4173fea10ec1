"""Word embeddings chapter: gradients against torch autograd, the full softmax against the brute-force conditional
distribution of a tiny text, negative sampling against its known optimum (shifted PMI, Levy & Goldberg 2014),
subsampling / noise / neighbours / analogies against gensim (test-only), windows against brute-force loops."""
from __future__ import annotations

from itertools import islice

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.sequences import word2vec as W


# ------------------------------------------------------------------------------------------- gradients
def _torch_loss(W_in, W_out, arch, loss, centres, contexts, negatives):
    """The same objective written the obvious way in torch (autograd gives the gradients)."""
    if arch == "skipgram":
        h, target = W_in[torch.as_tensor(centres)], torch.as_tensor(contexts)
    else:
        ctx = torch.as_tensor(contexts)
        mask = (ctx >= 0).to(W_in.dtype)
        h = (W_in[ctx.clamp(min=0)] * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        target = torch.as_tensor(centres)
    if loss == "softmax":
        return F.cross_entropy(h @ W_out.T, target, reduction="sum")
    pos = (W_out[target] * h).sum(-1)
    neg = torch.einsum("bkd,bd->bk", W_out[torch.as_tensor(negatives)], h)
    return -(F.logsigmoid(pos).sum() + F.logsigmoid(-neg).sum())


@pytest.mark.parametrize("arch", W.ARCHS)
@pytest.mark.parametrize("loss", W.LOSSES)
def test_batch_gradients_are_autograd(arch, loss):
    rng = np.random.default_rng(1)
    V, d, B, k, win = 7, 4, 12, 3, 2
    W_in, W_out = rng.normal(size=(V, d)), rng.normal(size=(V, d))
    centres = rng.integers(0, V, B)                     # few words: repeated rows in every batch
    if arch == "skipgram":
        contexts = rng.integers(0, V, B)
    else:
        contexts = rng.integers(0, V, (B, 2 * win))
        contexts[rng.random((B, 2 * win)) < 0.3] = -1
        contexts[:, 0] = rng.integers(0, V, B)          # at least one context word
    negatives = rng.integers(0, V, (B, k))
    value, g_in, g_out = W.batch_grads(W_in, W_out, arch, loss, centres, contexts, negatives)
    ti = torch.tensor(W_in, requires_grad=True)
    to = torch.tensor(W_out, requires_grad=True)
    ref = _torch_loss(ti, to, arch, loss, centres, contexts, negatives)
    ref.backward()
    np.testing.assert_allclose(value, ref.item(), rtol=1e-10)
    np.testing.assert_allclose(g_in, ti.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(g_out, to.grad.numpy(), atol=1e-10)


def test_scatter_rows_is_add_at():
    rng = np.random.default_rng(2)
    rows, vals = rng.integers(0, 5, 40), rng.normal(size=(40, 3))
    ref = np.zeros((5, 3))
    np.add.at(ref, rows, vals)
    np.testing.assert_allclose(W.scatter_rows(rows, vals, 5), ref, atol=1e-12)


# ------------------------------------------------------------------------------------------- windows
def test_skipgram_pairs_are_every_pair_within_the_shrunk_window():
    rng_ids = np.random.default_rng(3)
    ids = rng_ids.integers(0, 9, 40).astype(np.int32)
    window = 3
    cs, os_ = W.skipgram_pairs(ids, window, np.random.default_rng(7))
    reach = window - np.random.default_rng(7).integers(0, window, len(ids))   # the same draws
    brute = sorted((int(ids[i]), int(ids[j])) for i in range(len(ids)) for j in range(len(ids))
                   if i != j and abs(i - j) <= reach[i])
    assert sorted(zip(cs.tolist(), os_.tolist())) == brute
    full = W.skipgram_pairs(ids, window, None)
    assert len(full[0]) == sum(min(window, i) + min(window, len(ids) - 1 - i) for i in range(len(ids)))


def test_cbow_windows_are_brute_force():
    ids = np.random.default_rng(4).integers(0, 9, 30).astype(np.int32)
    window = 2
    cs, ctx = W.cbow_windows(ids, window, np.random.default_rng(8))
    reach = window - np.random.default_rng(8).integers(0, window, len(ids))
    brute = [(int(ids[i]), sorted(int(ids[j]) for j in range(len(ids)) if j != i and abs(i - j) <= reach[i]))
             for i in range(len(ids))]
    got = [(int(c), sorted(int(x) for x in row if x >= 0)) for c, row in zip(cs, ctx)]
    assert got == [b for b in brute if b[1]]


# ------------------------------------------------------------------------------ tiny text, known optimum
def _markov_tokens(n=6000, seed=0):
    """A text over 5 words from a fixed Markov chain: co-occurrences far from independent."""
    words = ["a", "b", "c", "d", "e"]
    P = np.array([[.05, .6, .15, .1, .1], [.1, .05, .7, .1, .05], [.5, .1, .05, .3, .05],
                  [.2, .2, .2, .2, .2], [.6, .1, .1, .1, .1]])
    rng = np.random.default_rng(seed)
    s, out = 0, []
    for _ in range(n):
        out.append(words[s])
        s = rng.choice(5, p=P[s])
    return out


def test_full_softmax_learns_the_brute_force_conditional():
    """Skip-gram with the full softmax and d = V can represent any p(o|c): trained, softmax(U v_c) is the
    distribution of the words next to c counted pair by pair."""
    c = W.build_corpus(_markov_tokens(), "en", min_count=1)
    cfg = W.W2VConfig(arch="skipgram", loss="softmax", dim=len(c.words), window=1, sample=0.0, lr=0.05,
                      batch=64, epochs=12, every=10_000)
    *_, snap = W.train(cfg, c)
    assert snap.step == snap.per_epoch * cfg.epochs                  # the run ends after its epochs
    assert snap.per_epoch == -(-len(W.skipgram_pairs(c.ids[:c.n_train], 1, None)[0]) // cfg.batch)
    # the snapshots carry W_in only: the same gradients driven here, with both matrices at hand
    rng = np.random.default_rng(cfg.seed)
    W_in, W_out = W.init_weights(len(c.words), cfg.dim, rng)
    ids = c.ids[:c.n_train]
    cs, os_ = W.skipgram_pairs(ids, 1, None)
    for epoch in range(40):
        order = rng.permutation(len(cs))
        for s in range(0, len(cs), 64):
            b = order[s:s + 64]
            _, gi, go = W.batch_grads(W_in, W_out, "skipgram", "softmax", cs[b], os_[b], None)
            lr = 0.05 * (1 - epoch / 40)
            W_in -= lr * gi
            W_out -= lr * go
    # brute force: count every (centre, neighbour) of the training text
    V = len(c.words)
    counts = np.zeros((V, V))
    for i in range(len(ids)):
        for j in (i - 1, i + 1):
            if 0 <= j < len(ids):
                counts[ids[i], ids[j]] += 1
    p_true = counts / counts.sum(axis=1, keepdims=True)
    z = W_in @ W_out.T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert np.abs(p - p_true).sum(axis=1).max() < 0.05           # total variation × 2, every centre
    # the engine's own run scores held-out pairs as well as the true conditional does
    ev = W.eval_pairs(c)
    so, sr = p_true[ev.centres, ev.contexts], p_true[ev.centres, ev.randoms]
    best = np.mean((so > sr) + 0.5 * (so == sr))
    assert best > 0.55 and snap.metrics["pair_acc"] > best - 0.02


def test_negative_sampling_reaches_shifted_pmi():
    """SGNS's optimum (Levy & Goldberg 2014): u_o·v_c = log(#(c,o) / (k · #(c) · P_n(o))), with P_n the noise
    distribution (count^0.75): the engine's gradients, trained with d = V, get there."""
    c = W.build_corpus(_markov_tokens(8000, seed=1), "en", min_count=1)
    V, k = len(c.words), 4
    rng = np.random.default_rng(0)
    W_in, W_out = W.init_weights(V, V, rng)
    ids = c.ids[:c.n_train]
    cs, os_ = W.skipgram_pairs(ids, 1, None)
    cum = np.cumsum(W.noise_distribution(c.counts, 0.75))
    epochs = 30
    for epoch in range(epochs):
        order = rng.permutation(len(cs))
        for s in range(0, len(cs), 32):
            b = order[s:s + 32]
            negs = np.minimum(np.searchsorted(cum, rng.random((len(b), k)) * cum[-1], side="right"), V - 1)
            _, gi, go = W.batch_grads(W_in, W_out, "skipgram", "neg", cs[b], os_[b], negs)
            lr = 0.02 * (1 - epoch / epochs) + 1e-4
            W_in -= lr * gi
            W_out -= lr * go
    n = np.zeros((V, V))
    np.add.at(n, (cs, os_), 1)
    pn = W.noise_distribution(c.counts, 0.75)
    shifted = np.log(n / (k * n.sum(axis=1, keepdims=True) * pn[None, :]))
    got = W_in @ W_out.T
    ok = n >= 50                                                     # pairs seen often enough to estimate
    assert ok.sum() >= 12
    assert np.corrcoef(got[ok], shifted[ok])[0, 1] > 0.97
    assert np.abs(got[ok] - shifted[ok]).max() < 0.5


# -------------------------------------------------------------------------------- gensim as the reference
def _gensim_vocab(c: W.Corpus, sample: float, ns_exponent: float):
    pytest.importorskip("gensim")                 # requirements/dev.txt; the other tests run without it
    from gensim.models import Word2Vec
    m = Word2Vec(vector_size=4, min_count=1, sample=sample, ns_exponent=ns_exponent, seed=0, workers=1)
    m.build_vocab_from_freq({w: int(n) for w, n in zip(c.words, c.counts)})
    return m


@pytest.mark.parametrize("sample", [1e-3, 1e-4, 1e-5])
def test_keep_probability_is_gensims(sample):
    c = W.corpus("en")
    m = _gensim_vocab(c, sample, 0.75)
    theirs = np.array([m.wv.get_vecattr(w, "sample_int") for w in c.words]) / 2 ** 32
    np.testing.assert_allclose(W.keep_probability(c.counts, sample), theirs, atol=1e-9)
    # the paper's discard probability is a different curve: 1 − sqrt(t/f), never below the code's
    disc = W.discard_probability_paper(c.counts, sample)
    assert np.all(1 - disc <= W.keep_probability(c.counts, sample) + 1e-12)


@pytest.mark.parametrize("power", [0.75, 1.0, 0.0])
def test_noise_distribution_is_gensims(power):
    c = W.corpus("en")
    m = _gensim_vocab(c, 0.0, power)
    order = [m.wv.key_to_index[w] for w in c.words]
    cum = m.cum_table.astype(np.float64)
    p_gensim = np.diff(np.concatenate([[0.0], cum])) / cum[-1]                 # gensim's cumulative table
    np.testing.assert_allclose(W.noise_distribution(c.counts, power), p_gensim[order], atol=1e-8)


def _keyed(Wm: np.ndarray, words):
    pytest.importorskip("gensim")
    from gensim.models import KeyedVectors
    kv = KeyedVectors(Wm.shape[1])
    kv.add_vectors(list(words), Wm.astype(np.float32))
    return kv


def test_neighbours_and_analogies_are_gensims():
    rng = np.random.default_rng(5)
    words = tuple(f"w{i}" for i in range(60))
    Wm = rng.normal(size=(60, 8)).astype(np.float32).astype(np.float64)
    kv = _keyed(Wm, words)
    for q in ("w0", "w7", "w33"):
        mine = W.nearest(Wm, words, q, k=6)
        theirs = kv.most_similar(q, topn=6)
        assert mine.words == tuple(w for w, _ in theirs)
        np.testing.assert_allclose(mine.cosines, [s for _, s in theirs], atol=1e-5)
    for a, b, cc in (("w1", "w2", "w3"), ("w10", "w20", "w30")):
        mine = W.analogy(Wm, words, a, b, cc, k=5)
        theirs = kv.most_similar(positive=[b, cc], negative=[a], topn=5)
        assert mine.words == tuple(w for w, _ in theirs)
        np.testing.assert_allclose(mine.cosines, [s for _, s in theirs], atol=1e-5)


# -------------------------------------------------------------------------------------------- the rest
def test_projection_is_sklearns_pca():
    from sklearn.decomposition import PCA
    rng = np.random.default_rng(6)
    Wm = rng.normal(size=(40, 10))
    rows = np.arange(3, 30)
    proj = W.project(Wm, rows)
    X = W.unit_rows(Wm[rows])
    pca = PCA(2).fit(X)
    ref = pca.transform(X)
    for j in range(2):                                               # equal up to each axis's sign
        s = np.sign(ref[:, j] @ proj.xy[:, j])
        np.testing.assert_allclose(proj.xy[:, j], s * ref[:, j], atol=1e-10)
    np.testing.assert_allclose(proj.explained, pca.explained_variance_ratio_, atol=1e-10)


def test_pair_accuracy_is_a_loop():
    rng = np.random.default_rng(9)
    Wi, Wo = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    ev = W.EvalPairs(rng.integers(0, 12, 50), rng.integers(0, 12, 50), rng.integers(0, 12, 50))
    want = 0.0
    for c, o, r in zip(ev.centres, ev.contexts, ev.randoms):
        so, sr = Wo[o] @ Wi[c], Wo[r] @ Wi[c]
        want += 1.0 if so > sr else 0.5 if so == sr else 0.0
    assert W.pair_accuracy(Wi, Wo, ev) == pytest.approx(want / 50)


def test_keep_probability_by_hand():
    counts = np.array([900, 90, 9, 1])                                # f = 0.9, 0.09, 0.009, 0.001
    t = 0.01
    f = counts / 1000
    np.testing.assert_allclose(W.keep_probability(counts, t)[:2], np.sqrt(t / f[:2]) + t / f[:2])
    assert W.keep_probability(counts, t)[2:].tolist() == [1.0, 1.0]   # f ≤ 2.62 t: always kept
    assert W.keep_probability(counts, 0).tolist() == [1.0] * 4
    np.testing.assert_allclose(W.discard_probability_paper(counts, t)[0], 1 - np.sqrt(t / 0.9))


def test_japanese_tokens_are_script_runs():
    assert W.tokenize("学習率を下げると、損失が減る。", "ja") == ["学習率", "を", "下", "げると", "損失", "が", "減", "る"]
    assert W.tokenize("ＧＰＵでＴｒａｎｓｆｏｒｍｅｒを学習 $x^2$", "ja") == ["gpu", "で", "transformer", "を", "学習"]
    assert W.tokenize("Lists, DICT's!", "en") == ["lists", "dict", "s"]


def test_parse_query_bounds_and_hostile_text():
    c = W.corpus("en")
    assert W.parse_query("", c).error == "empty"
    assert W.parse_query("  \n\t", c).error == "empty"
    assert W.parse_query("x" * (W.MAX_QUERY_CHARS + 1), c).error == "too_long"
    q = W.parse_query("List, ｉｎｔｅｇｅｒ, zzzqqq, 🙂, \x00\x07list", c)
    assert q.known == ("list", "integer") and "zzzqqq" in q.unknown and q.error is None
    many = W.parse_query(", ".join(c.words[:20]), c)
    assert len(many.known) == W.MAX_QUERY_WORDS and many.truncated
    cj = W.corpus("ja")
    assert W.parse_query("学習、画像", cj).known == ("学習", "画像")


@pytest.mark.parametrize("lang", W.LANGS)
def test_shipped_corpora(lang):
    c = W.corpus(lang)
    assert 1000 <= len(c.words) <= 3000 and len(c.ids) > 40_000
    assert c.counts[0] == c.counts.max() and np.all(np.diff(c.counts) <= 0)
    assert len(W.map_rows(c)) >= 25
    ev = W.shipped_eval_pairs(lang)
    assert len(ev.centres) == W.N_EVAL and ev.centres.max() < len(c.words)
    for rows in (4, 12):                                   # the page's tables: the most frequent first, the rarest last
        table = W.subsample_table(c, 1e-3, rows=rows)
        assert table[0].word == c.words[0] and table[-1].word == c.words[-1] and len(table) == rows - 1
        assert table[0].noise_34 == pytest.approx(W.noise_distribution(c.counts)[0])


@pytest.mark.parametrize("arch", W.ARCHS)
def test_training_is_deterministic_and_snapshots_frozen(arch):
    cfg = W.W2VConfig(arch=arch, epochs=1, every=5)
    a = list(islice(W.train(cfg), 3))
    b = list(islice(W.train(cfg), 3))
    for x, y in zip(a, b):
        assert x.step == y.step and np.array_equal(x.W_in, y.W_in) and np.array_equal(x.pair_acc, y.pair_acc)
    assert a[2].step == 10 and a[2].examples == 10 * cfg.batch
    with pytest.raises(ValueError):
        a[1].W_in[0, 0] = 1.0
    assert not np.array_equal(a[1].W_in, a[2].W_in)                  # later steps did not overwrite it
    assert np.isfinite(a[2].metrics["loss"])


# ------------------------------------------------------------------------------------------- practice
def _items(name, n=200):
    from engine.common import practice as P
    return [P.make("word2vec", name, s) for s in range(n)]


def test_practice_keep_probability_is_word2vec_c():
    """word2vec.c's own expression: ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn."""
    for item in _items("keep_probability"):
        cn, total, t = item.params["count"], item.params["total"], item.params["t"]
        ran = (np.sqrt(cn / (t * total)) + 1) * (t * total) / cn
        assert item.answer == pytest.approx(min(1.0, ran), abs=1e-12)
        right = item.choices[item.correct_index].label["en"]
        assert float(right) == pytest.approx(min(1.0, ran), abs=5.01e-5)      # as shown, 4 decimals


def test_practice_noise_probability_is_gensims_table():
    pytest.importorskip("gensim")
    from gensim.models import Word2Vec
    for item in _items("noise_probability", 60):
        counts, i = item.params["counts"], item.params["i"]
        m = Word2Vec(vector_size=4, min_count=1, sample=0, seed=0, workers=1)
        m.build_vocab_from_freq({f"w{j}": c for j, c in enumerate(counts)})
        cum = m.cum_table.astype(np.float64)
        p = np.diff(np.concatenate([[0.0], cum])) / cum[-1]
        assert item.answer == pytest.approx(p[m.wv.key_to_index[f"w{i}"]], abs=1e-8)


def test_practice_noise_probability_by_hand():
    for item in _items("noise_probability"):
        counts, i = item.params["counts"], item.params["i"]
        cubes = [round(c ** 0.25) ** 3 for c in counts]                  # k⁴ → k³
        assert item.answer == pytest.approx(cubes[i] / sum(cubes), abs=1e-12)


def test_practice_cost_counts_every_multiply_add():
    for item in _items("cost_per_example"):
        V, d, k = item.params["V"], item.params["d"], item.params["k"]
        n = 0
        for _word in range(k + 1):                                        # the positive and k negatives
            n += d                                                        # score u·v_c
            n += d                                                        # its share of ∂L/∂v_c
            n += d                                                        # ∂L/∂u = g · v_c
        assert item.answer == n


def test_practice_gradient_snippets_expected_is_autograd():
    for item in _items("gradient_implementation", 100):
        h, u_pos, u_neg = (torch.tensor(item.params[k], dtype=torch.float64) for k in ("h", "u_pos", "u_neg"))
        h.requires_grad_(True)
        loss = -(F.logsigmoid(u_pos @ h) + F.logsigmoid(-(u_neg @ h)).sum())
        loss.backward()
        np.testing.assert_allclose(item.exec.expected, h.grad.numpy(), atol=1e-12)


def test_practice_statements_hold_on_cases():
    c = W.corpus("en")
    f = c.counts / c.counts.sum()
    pn = W.noise_distribution(c.counts, 0.75)
    assert np.all(pn[f < f.mean()] > f[f < f.mean()])                  # power_rare: rare words drawn more often
    assert pn[0] < f[0]                                                 # power_frequent is false
    t = 1e-3
    keep = W.keep_probability(c.counts, t)
    assert np.all(keep[f <= 2.618 * t] == 1.0)                          # sub_rare is false
    assert np.any(np.abs(keep - (1 - W.discard_probability_paper(c.counts, t))) > 0.05)   # paper_code_same false
    rng = np.random.default_rng(0)
    Wm = rng.normal(size=(20, 5))
    a = W.nearest(Wm, tuple(map(str, range(20))), "3", k=5)
    Wm[3] *= 7.0
    b = W.nearest(Wm, tuple(map(str, range(20))), "3", k=5)
    assert a.words == b.words and np.allclose(a.cosines, b.cosines)      # cosine_length is false
    assert W.flops_per_example("skipgram", "neg", 10, 8, 3, 5) == W.flops_per_example("skipgram", "neg", 10**5, 8, 3, 5)


@pytest.mark.slow
def test_trained_skipgram_ranks_held_out_pairs_as_well_as_gensims():
    """gensim's Word2Vec (skip-gram, negative sampling, the same d, window, k, t, α and epochs, one worker) trained on
    the same training text: the engine's run (the page's defaults, 5 epochs to keep the test short) scores the
    held-out pair test at least as well (within 0.02)."""
    pytest.importorskip("gensim")
    from gensim.models import Word2Vec
    c = W.corpus("en")
    ev = W.shipped_eval_pairs("en")
    cfg = W.config_for("skipgram", epochs=5)
    *_, snap = W.train(cfg)
    words = [c.words[i] for i in c.ids[:c.n_train]]
    m = Word2Vec([words[i:i + 10_000] for i in range(0, len(words), 10_000)], vector_size=cfg.dim,
                 window=cfg.window, negative=cfg.negative, sample=cfg.sample, ns_exponent=cfg.ns_exponent, sg=1,
                 min_count=1, epochs=cfg.epochs, workers=1, seed=0)
    def rows(M):
        return np.stack([M[m.wv.key_to_index[w]] if w in m.wv.key_to_index else np.zeros(cfg.dim) for w in c.words])
    theirs = W.pair_accuracy(rows(m.wv.vectors), rows(m.syn1neg), ev)
    assert theirs > 0.55                                   # the test is learnable (chance: 0.5)
    assert snap.metrics["pair_acc"] >= theirs - 0.02
