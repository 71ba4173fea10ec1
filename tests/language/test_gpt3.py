"""GPT-3 chapter: causal attention against torch's fused SDPA, the causal property, sampling against the truncated
softmax (chi-square), generation's log-probabilities against a full forward pass, the ICL task and its frozen
weights, the scaling-law fit on synthetic points, bad prompts, and the page."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from conftest import assert_ok, run_page
from engine.language import gpt3

TINY = gpt3.GPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16)


@pytest.fixture(scope="module")
def pre():
    return gpt3.load_pretrained("en")


def test_attention_equals_scaled_dot_product_attention_is_causal():
    model = gpt3.init_gpt(TINY, 0)
    x = torch.randn(3, 13, TINY.n_embd, generator=torch.Generator().manual_seed(1))
    attn = model.h[0].attn
    mine, w = attn(x, need_weights=True)
    theirs = gpt3.sdpa_attention(attn, x)
    torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)
    assert torch.allclose(w.sum(-1), torch.ones(3, TINY.n_head, 13))
    assert float(torch.triu(w.detach(), 1).abs().max()) == 0.0          # lower-triangular


def test_later_token_leaves_earlier_logits_unchanged(pre):
    demo = gpt3.causal_demo(pre, "The for statement is used to iterate", 0, 0, 20, "Q")
    assert demo.max_diff_before == 0.0 and demo.max_diff_after > 1e-3 and demo.upper_mass == 0.0
    model = gpt3.init_gpt(TINY, 3)
    a = torch.randint(0, 11, (1, 16), generator=torch.Generator().manual_seed(0))
    b = a.clone()
    b[0, 9:] = (b[0, 9:] + 1) % 11
    with torch.no_grad():
        la, lb = model(a), model(b)
    assert torch.equal(la[0, :9], lb[0, :9]) and not torch.allclose(la[0, 9:], lb[0, 9:])


def _truncated_numpy(z, T, k, p):
    """Brute force: sort, cut, renormalise."""
    q = np.exp((z - z.max()) / T)
    q /= q.sum()
    order = np.argsort(-q, kind="stable")
    keep = np.zeros(len(q), bool)
    keep[order[:k] if k else order] = True
    if p < 1:
        mass, chosen = 0.0, np.zeros(len(q), bool)
        total = q[keep].sum()
        for i in order:
            if not keep[i]:
                continue
            if mass >= p * total:
                break
            chosen[i] = True
            mass += q[i]
        keep &= chosen
    out = np.where(keep, q, 0.0)
    return out / out.sum()


@pytest.mark.parametrize("T,k,p", [(1.0, 0, 1.0), (0.7, 5, 1.0), (1.3, 0, 0.8), (0.9, 6, 0.7)])
def test_sampling_matches_truncated_softmax_chi_square(T, k, p):
    z = torch.randn(12, generator=torch.Generator().manual_seed(7), dtype=torch.float64) * 1.5
    q = gpt3.truncated_probs(z, T, k, p).numpy()
    np.testing.assert_allclose(q, _truncated_numpy(z.numpy(), T, k, p), atol=1e-12)
    draws = gpt3.sample_from(torch.tensor(q), 10_000, seed=0)
    assert set(np.unique(draws)) <= set(np.flatnonzero(q > 0))
    counts = np.bincount(draws, minlength=len(q))[q > 0]
    assert stats.chisquare(counts, 10_000 * q[q > 0]).pvalue > 1e-3


def _hf_warped(z: torch.Tensor, T: float, k: int, p: float) -> np.ndarray:
    """transformers' generation chain: TemperatureLogitsWarper → TopKLogitsWarper → TopPLogitsWarper → softmax."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    scores = TemperatureLogitsWarper(T)(None, z[None].clone())
    if k:
        scores = TopKLogitsWarper(top_k=k)(None, scores)
    if p < 1:
        scores = TopPLogitsWarper(top_p=p)(None, scores)
    return torch.softmax(scores, -1)[0].numpy()


def test_top_k_keeps_ties_as_transformers():
    """Integer logits with many ties: top-k keeps every token tied with the k-th (TopKLogitsWarper's rule)."""
    rng = np.random.default_rng(8)
    n_more = 0
    for _ in range(300):
        z = torch.tensor(rng.integers(-3, 4, int(rng.integers(2, 15))), dtype=torch.float64)
        T = float(rng.choice([0.5, 1.0, 1.7]))
        k = int(rng.integers(1, len(z) + 1))
        mine = gpt3.truncated_probs(z, T, k).numpy()
        np.testing.assert_allclose(mine, _hf_warped(z, T, k, 1.0), atol=1e-12)
        n_more += int((mine > 0).sum()) > k
    assert n_more > 50                                       # ties at the k-th were exercised


def test_top_p_zero_is_greedy_and_top_p_equals_transformers():
    rng = np.random.default_rng(9)
    for _ in range(300):
        z = torch.tensor(rng.standard_normal(int(rng.integers(2, 20))) * 2)   # no ties: the nucleus is unique
        T = float(rng.choice([0.6, 1.0, 1.5]))
        k = int(rng.choice([0, 3, 8]))
        p = float(rng.choice([0.0, 1e-9, 0.05, 0.3, 0.7, 0.95]))
        mine = gpt3.truncated_probs(z, T, k, p).numpy()
        assert np.isfinite(mine).all() and mine.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(mine, _hf_warped(z, T, k, p), atol=1e-12)
        if p < 1e-6:                                         # p → 0: the single most likely token
            assert mine.tolist() == np.eye(len(z))[int(torch.argmax(z))].tolist()
    tied = gpt3.truncated_probs(torch.tensor([1.0, 3.0, 3.0, 0.0]), 1.0, 0, 0.0)
    assert tied.tolist() == [0.0, 1.0, 0.0, 0.0]             # tied at the top: the lower index, one token


def test_temperature_zero_is_greedy():
    z = torch.tensor([0.1, 2.0, 1.9])
    assert gpt3.truncated_probs(z, 0.0).tolist() == [0.0, 1.0, 0.0]


def test_generation_log_probs_equal_a_full_forward_and_forcing_keeps_the_prefix(pre):
    prompt = "The for statement is"
    g = gpt3.generate(pre, prompt, n_new=12, temperature=0.9, top_k=10, top_p=0.9, seed=3)
    ids = torch.tensor(pre.vocab.encode(g.text))[None]
    with torch.no_grad():
        lp = F.log_softmax(pre.model(ids)[0].double(), -1)
    expect = [float(lp[len(prompt) - 1 + i, ids[0, len(prompt) + i]] - torch.logsumexp(lp[len(prompt) - 1 + i, 1:], 0))
              for i in range(12)]
    np.testing.assert_allclose([s.logp for s in g.steps], expect, atol=1e-4)   # unknown symbol excluded
    np.testing.assert_allclose(g.steps[-1].cum_logp, sum(expect), atol=1e-3)
    alt = next(c for c in g.steps[5].candidates if c != g.steps[5].token)
    f = gpt3.generate(pre, prompt, n_new=12, temperature=0.9, top_k=10, top_p=0.9, seed=3, forced={5: alt})
    assert f.text[:len(prompt) + 5] == g.text[:len(prompt) + 5] and f.steps[5].token == alt and f.steps[5].forced
    assert f.steps[4] == g.steps[4]


def test_bad_prompts_give_reasons(pre):
    with pytest.raises(ValueError):
        gpt3.check_prompt("   ", pre.vocab)
    long = gpt3.check_prompt("a" * 10_000, pre.vocab)
    assert long.truncated and len(long.text) == gpt3.MAX_PROMPT
    emo = gpt3.check_prompt("hello 🙂 日本語", pre.vocab)
    assert "🙂" in emo.unknown and "日" in emo.unknown and 0 < emo.unknown_share < 1
    g = gpt3.generate(pre, emo.text, n_new=3)
    assert len(g.steps) == 3 and gpt3.UNK not in g.text[len(emo.text):]


def test_non_embedding_count():
    cfg = gpt3.GPTConfig(vocab_size=50, block_size=8, n_layer=3, n_head=2, n_embd=20)
    d = 20
    assert gpt3.non_embedding_params(cfg) == 3 * (12 * d * d + 13 * d) + 2 * d
    assert abs(gpt3.gpt3_non_embedding() - 1.74e11) < 0.01e11


def test_power_law_fit_recovers_known_exponent():
    n = np.geomspace(1e4, 1e8, 6)
    exact = gpt3.fit_power_law(n, gpt3.kaplan_loss(n))
    assert abs(exact.alpha - gpt3.KAPLAN_ALPHA_N) < 1e-9 and abs(exact.n_c / gpt3.KAPLAN_N_C - 1) < 1e-6
    rng = np.random.default_rng(0)
    noisy = gpt3.fit_power_law(n, gpt3.kaplan_loss(n) * np.exp(rng.normal(0, 0.003, n.size)))
    assert noisy.alpha_lo < gpt3.KAPLAN_ALPHA_N < noisy.alpha_hi and noisy.alpha_hi - noisy.alpha_lo < 0.02


def test_shipped_sweep_fit():
    sweep = gpt3.load_sweep()
    rows = sweep["rows"]
    assert 4 <= len(rows) <= 6
    fit = gpt3.fit_power_law([r["n_params"] for r in rows], [r["val_loss"] for r in rows])
    assert fit.alpha > 0 and fit.alpha_lo < fit.alpha < fit.alpha_hi


def test_icl_family_is_balanced_so_zero_shot_optimum_is_chance():
    cfg = gpt3.ICLConfig()
    fam = gpt3.icl_family(cfg)
    assert fam.shape == (cfg.n_tasks, cfg.n_keys)
    for k in range(cfg.n_keys):                                   # every value m times in every column
        assert torch.bincount(fam[:, k], minlength=cfg.n_values).tolist() == [cfg.n_variants] * cfg.n_values
    opt, opt_new = gpt3.icl_optimum(cfg, fam)
    assert opt[0] == pytest.approx(1 / cfg.n_values, abs=1e-12)
    assert opt[1] > 0.7 and opt[2] > opt[1] and all(b >= a - 1e-12 for a, b in zip(opt, opt[1:]))


def test_icl_batch_follows_one_map_of_the_family_and_targets_every_value():
    cfg = gpt3.ICLConfig()
    fam = gpt3.icl_family(cfg)
    seq, tgt = gpt3.icl_batch(cfg, 64, torch.Generator().manual_seed(0), fam)
    repeats = 0
    for b in range(64):
        s = seq[b].tolist()
        keys, vals = s[0::2], [v - cfg.n_keys for v in s[1::2]]
        assert all(k < cfg.n_keys for k in keys) and all(0 <= v < cfg.n_values for v in vals)
        maps = [t for t in range(cfg.n_tasks) if all(fam[t, k] == v for k, v in zip(keys, vals))]
        assert maps                                               # the sequence is one map of the family
        assert tgt[b, 0::2].tolist() == s[1::2] and (tgt[b, 1::2] == -100).all()
        repeats += sum(k in keys[:j] for j, k in enumerate(keys))
    assert 0.35 < repeats / (64 * (cfg.n_pairs - 1)) < 0.8       # p_seen, more once every key was shown


def _brute_posterior(fam, x, K, V):
    """P(v | prompt) by a plain loop over the maps (uniform prior, likelihood 1 if consistent, else 0)."""
    s = (len(x) - 1) // 2
    w = np.zeros(V)
    for t in range(fam.shape[0]):
        if all(fam[t, x[2 * i]] == x[2 * i + 1] - K for i in range(s)):
            w[fam[t, x[-1]]] += 1
    return w / w.sum()


def test_icl_posterior_equals_a_loop_over_the_maps():
    cfg = gpt3.ICLConfig()
    fam = gpt3.icl_family(cfg)
    g = torch.Generator().manual_seed(3)
    for s in (0, 1, 2, 4):
        pr = gpt3.icl_prompts(cfg, s, 40, g, fam)
        post = gpt3.icl_posterior(cfg, fam, pr.x).numpy()
        for i in range(40):
            np.testing.assert_allclose(post[i], _brute_posterior(fam.numpy(), pr.x[i].tolist(), cfg.n_keys,
                                                                 cfg.n_values), atol=1e-12)
            assert post[i, pr.answer[i]] > 0                      # the true answer is always possible
            if pr.seen[i]:
                assert post[i, pr.answer[i]] == 1.0               # a shown key: every possible map agrees


def test_icl_optimum_equals_enumerating_every_prompt():
    """On a tiny family the exact optimum is also the average, over every ordered prompt (map, example keys in
    order, question key, with their probabilities), of max_v P(v | prompt) by the loop above."""
    from itertools import permutations
    cfg = gpt3.ICLConfig(n_keys=4, n_values=3, n_variants=2, max_shots=3, p_seen=0.3, family_seed=5)
    fam = gpt3.icl_family(cfg).numpy()
    K, V, T = cfg.n_keys, cfg.n_values, cfg.n_tasks
    opt, opt_new = gpt3.icl_optimum(cfg, torch.as_tensor(fam))
    for s in range(cfg.max_shots + 1):
        total = new = 0.0
        orders = list(permutations(range(K), s))
        for t in range(T):
            for ex in orders:
                rest = [k for k in range(K) if k not in ex]
                for q in range(K):
                    pq = (cfg.p_seen / s if q in ex else (1 - cfg.p_seen) / len(rest)) if s else 1 / K
                    x = [z for k in ex for z in (k, fam[t, k] + K)] + [q]
                    best = _brute_posterior(fam, x, K, V).max()
                    total += pq * best / (T * len(orders))
                    if q not in ex:
                        new += best / (len(rest) * T * len(orders))
        assert opt[s] == pytest.approx(total, abs=1e-12) and opt_new[s] == pytest.approx(new, abs=1e-12)


def test_icl_prompts_and_the_monte_carlo_optimum_agree_with_the_exact_one():
    cfg = gpt3.ICLConfig()
    fam = gpt3.icl_family(cfg)
    opt, _ = gpt3.icl_optimum(cfg, fam)
    g = torch.Generator().manual_seed(0)
    for s in (1, 2):
        pr = gpt3.icl_prompts(cfg, s, 4000, g, fam)
        keys = pr.x[:, 0:-1:2]
        assert all(len(set(r)) == s for r in keys.tolist())        # distinct example keys
        assert ((keys == pr.x[:, -1:]).any(1) == pr.seen).all()
        assert abs(float(pr.seen.float().mean()) - cfg.p_seen) < 0.03
        mc = float(gpt3.icl_posterior(cfg, fam, pr.x).max(1).values.mean())
        assert abs(mc - opt[s]) < 0.02


@pytest.mark.parametrize("wd", [0.1, 0.0])
def test_adamw_equals_torch_optim(wd):
    """engine.common.optim.AdamW against torch.optim.AdamW (wd > 0) and torch.optim.Adam (wd = 0, BERT's)."""
    from engine.common.optim import Adam, AdamW
    a, b = gpt3.init_gpt(TINY, 1), gpt3.init_gpt(TINY, 1)
    if wd:
        mine = AdamW(a.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=wd)
        ref = torch.optim.AdamW(b.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=wd, foreach=False)
    else:
        mine = Adam(a.parameters(), lr=3e-3)
        ref = torch.optim.Adam(b.parameters(), lr=3e-3, foreach=False)
    x = torch.randint(0, TINY.vocab_size, (4, 12), generator=torch.Generator().manual_seed(0))
    for step in range(5):
        for m, o in ((a, mine), (b, ref)):
            o.zero_grad(set_to_none=True)
            m(x).logsumexp(-1).mean().backward()
            if step == 3:
                mine.lr = 1e-3
                ref.param_groups[0]["lr"] = 1e-3
            o.step()
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6, msg=n)


def test_icl_untrained_is_chance_and_evaluation_leaves_weights_unchanged():
    cfg = gpt3.ICLConfig(eval_prompts=400, max_shots=3)
    fam = gpt3.icl_family(cfg)
    model = gpt3.init_gpt(cfg.gpt, 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ev = gpt3.icl_evaluate(model, cfg, fam)
    assert ev.digest_before == ev.digest_after
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert abs(ev.accuracy[0] - ev.chance) < 0.06
    assert ev.optimum[0] == pytest.approx(ev.chance) and ev.induction.shape == ev.previous.shape == (2, 4)


@pytest.mark.slow
def test_icl_one_shot_jumps_and_shots_climb_within_a_short_training():
    """A tiny family (5 keys, 4 values, 8 maps) and a narrow model: 400 steps."""
    cfg = gpt3.ICLConfig(n_keys=5, n_values=4, max_shots=3, n_pairs=6, n_embd=32, max_steps=400,
                         steps_per_snapshot=400, eval_prompts=300)
    last = list(gpt3.train_icl(cfg))[-1].eval
    assert abs(last.accuracy[0] - 1 / 4) < 0.08                  # no examples: chance
    assert last.accuracy[1] > 0.6 and last.accuracy_seen[1] > 0.8
    assert last.accuracy_new[3] > last.accuracy_new[1] + 0.08     # more examples, better on new keys
    assert last.digest_before == last.digest_after


def test_icl_generator_is_deterministic():
    cfg = gpt3.ICLConfig(max_steps=4, steps_per_snapshot=2, eval_prompts=16)
    a = [(s.step, repr(s.metrics), s.eval.accuracy, s.example_seen.attention.tobytes()) for s in gpt3.train_icl(cfg)]
    b = [(s.step, repr(s.metrics), s.eval.accuracy, s.example_seen.attention.tobytes()) for s in gpt3.train_icl(cfg)]
    assert a == b and len(a) == 3


# ------------------------------------------------------------------------------------------------ page

@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_runs(lang):
    at = run_page("pages/language/gpt3.py", lang=lang)
    assert_ok(at)
    assert not at.error


@pytest.mark.parametrize("text", ["", "🙂🙂🙂", "日本語のテキスト", "x" * 10_000])
def test_page_bad_prompts(text):
    at = run_page("pages/language/gpt3.py")
    at.text_area(key="gpt3.prompt.en").set_value(text).run()
    assert_ok(at)
    if not text:
        assert at.error
    else:
        assert at.warning


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_unknown_characters_warning_fits_the_selected_model(lang):
    """With the Japanese model selected, the warning must not send the reader to "the other model" for Japanese."""
    at = run_page("pages/language/gpt3.py", lang=lang)
    at.radio(key="gpt3.model").set_value("ja").run()
    at.text_area(key="gpt3.prompt.ja").set_value("講義ノート🙂🙂").run()
    assert_ok(at)
    msg = " ".join(w.value for w in at.warning)
    assert "🙂" in msg and "other model" not in msg and "もう一方" not in msg
    assert ("course notes" in msg) if lang == "en" else ("講義ノート" in msg)


def test_causal_mask_figures_are_readable_and_mark_the_replaced_position():
    from engine.figures.language import gpt3 as figs

    pre = gpt3.load_pretrained("en")
    demo = gpt3.causal_demo(pre, gpt3.DEFAULT_PROMPTS["en"][-48:], 0, 0, 30, "x")
    lab = {"key": "k", "query": "q", "dlogit": "d", "position": "position t", "replaced": "token {pos} → {new}"}
    att = figs.plot_attention(demo.attention, demo.tokens, lab)
    assert att.layout.xaxis.tickfont.size >= 10 and att.layout.yaxis.tickfont.size >= 10
    diff = figs.plot_logit_diff(demo, lab)
    assert diff.layout.xaxis.title.text == "position t" and diff.layout.xaxis.tickfont.size >= 10
    assert [sh.x0 for sh in diff.layout.shapes] == [29.5]                  # the line just before position 30
    assert diff.layout.annotations[0].text == "token 30 → x"


def test_page_force_and_japanese_model_and_icl_step():
    at = run_page("pages/language/gpt3.py")            # English UI (AppTest formats radio labels outside the page)
    at.radio(key="gpt3.model").set_value("ja").run()
    assert_ok(at)
    assert "学習を始めると" in at.code[0].value
    at.slider(key="gpt3.inspect").set_value(5).run()
    at.toggle(key="gpt3.force").set_value(True).run()
    assert_ok(at)
    before = at.session_state["gpt3.run.icl"].step
    at.button(key="gpt3.run.icl.step").click().run()
    assert_ok(at)
    assert at.session_state["gpt3.run.icl"].step > before


def test_the_shared_generation_cache_keys_every_setting():
    """Continuations are cached across readers (pages/language/gpt3.py `generate`): every setting must reach the key,
    and the cached text is what the engine generates for those settings."""
    at = run_page("pages/language/gpt3.py")
    first = at.code[0].value
    at.number_input(key="gpt3.seed").set_value(1).run()
    assert_ok(at)
    assert at.code[0].value != first                                 # another seed, another continuation
    at.slider(key="gpt3.temperature").set_value(1.5).run()
    hot = at.code[0].value
    at.slider(key="gpt3.temperature").set_value(0.8).run()
    at.number_input(key="gpt3.seed").set_value(0).run()
    assert at.code[0].value == first                                 # back to the defaults: the same text
    pre = gpt3.load_pretrained("en")
    text = gpt3.check_prompt(gpt3.DEFAULT_PROMPTS["en"], pre.vocab).text
    direct = gpt3.generate(pre, text, n_new=60, temperature=1.5, top_k=0, top_p=0.95, seed=1)
    assert hot.endswith(direct.text[len(text):] + "⟧")


# ---- practice items (engine/practice/language/gpt3.py): answers recomputed by scipy / transformers / brute force
def _hf_truncated(p, mode, cut) -> np.ndarray:
    """transformers' own top-p / top-k warpers on log p, then softmax: the distribution a token is drawn from."""
    from transformers import TopKLogitsWarper, TopPLogitsWarper
    warper = TopPLogitsWarper(top_p=cut) if mode == "top_p" else TopKLogitsWarper(top_k=int(cut))
    scores = warper(torch.zeros(1, 1, dtype=torch.long), torch.log(torch.tensor([p], dtype=torch.float64)))
    return torch.softmax(scores, dim=-1)[0].numpy()


def test_practice_sampling_answers_equal_scipy_and_transformers():
    from scipy.special import softmax

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gpt3", "temperature", seed)
        p = item.params
        want = float(softmax(np.array(p["logits"]) / p["t"])[p["i"]])
        assert abs(item.answer - want) < 1e-12
        assert item.choices[item.correct_index].label["en"] == f"{want:.3f}"
        assert item.setup["gpt3.temperature"] == p["t"]
        item = P.make("gpt3", "truncation", seed)
        p = item.params
        want = float(_hf_truncated(p["p"], p["mode"], p["cut"])[p["i"]])
        assert abs(item.answer - want) < 1e-9
        assert item.choices[item.correct_index].label["en"] == f"{want:.3f}"
        impl = P.make("gpt3", "implementation", seed)
        np.testing.assert_allclose(impl.exec.expected, _hf_truncated(impl.params["p"], "top_p", impl.params["cut"]),
                                   atol=1e-9)


def test_practice_kaplan_and_parameter_count():
    """L(N) with Kaplan et al.'s constants typed from the paper; N counted layer by layer by hand (nanoGPT's
    block: c_attn d×3d + 3d, c_proj d×d + d, two LayerNorms 2d each, MLP d×4d + 4d and 4d×d + d; final LN 2d)."""
    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gpt3", "kaplan", seed)
        want = (8.8e13 / item.params["n"]) ** 0.076
        assert abs(item.answer - want) < 1e-12
        assert item.choices[item.correct_index].label["en"] == f"{want:.3f}"
        item = P.make("gpt3", "params", seed)
        L, d = item.params["n_layer"], item.params["d_model"]
        block = (d * 3 * d + 3 * d) + (d * d + d) + 2 * 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
        assert item.answer == L * block + 2 * d
        assert item.choices[item.correct_index].label["en"] == f"{12 * L * d * d / 1e6:.0f}M"


def test_practice_causal_mask_blank_equals_brute_force():
    import math

    from engine.common import practice as P
    for seed in range(200):
        item = P.make("gpt3", "blank", seed)
        x = np.array(item.params["x"])
        want = np.zeros((3, 3))
        for t in range(3):
            e = [math.exp(float(x[t] @ x[s]) / math.sqrt(2)) for s in range(t + 1)]
            want[t, :t + 1] = np.array(e) / sum(e)
        np.testing.assert_allclose(item.exec.expected, want, atol=1e-12)


def test_practice_statements_on_sampling():
    """top_p_adaptive / top_k_adaptive: top-k keeps k tokens on any distribution, top-p keeps more on a flat one;
    low_t_greedy / high_t_sharp: the top token's probability rises as T falls; mask_zero is false: a 0 score still
    gets weight."""
    from scipy.special import softmax
    flat = softmax(np.linspace(0.2, 0.0, 8))
    peaked = softmax(np.array([5.0, 2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0]))
    assert (_hf_truncated(flat, "top_k", 3) > 0).sum() == (_hf_truncated(peaked, "top_k", 3) > 0).sum() == 3
    assert (_hf_truncated(flat, "top_p", 0.8) > 0).sum() > (_hf_truncated(peaked, "top_p", 0.8) > 0).sum()
    z = torch.tensor([2.0, 1.0, 0.5])
    tops = [float(gpt3.truncated_probs(z, temperature=t)[0]) for t in (2.0, 1.0, 0.5, 0.1, 0.01)]
    assert np.all(np.diff(tops) > 0) and tops[-1] > 0.999
    assert float(torch.softmax(torch.tensor([1.0, 0.0]), 0)[1]) > 0.2
