"""CTC engine against its oracles (torch's ctc_loss and autograd, brute force over all C^T paths, the
α·β identity) and the page in every input mode."""
from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

from conftest import assert_ok, run_page, wav_bytes
from engine.speech import ctc

PAGE = "pages/speech/ctc.py"


def _torch_loss(log_probs: np.ndarray, targets, blank: int = 0, logits_grad: bool = False):
    import torch

    T, U = len(log_probs), len(targets)
    x = torch.tensor(log_probs, dtype=torch.float64, requires_grad=True)
    lp = torch.log_softmax(x, -1) if logits_grad else x
    loss = torch.nn.functional.ctc_loss(lp[:, None], torch.tensor(list(targets), dtype=torch.long).reshape(1, U),
                                        [T], [U], blank=blank, reduction="sum")
    if not logits_grad:
        return loss.item()
    (g,) = torch.autograd.grad(loss, x)
    return loss.item(), g.numpy()


def _random_log_probs(T: int, C: int, seed: int, scale: float = 2.0) -> np.ndarray:
    return ctc.log_softmax(np.random.default_rng(seed).standard_normal((T, C)) * scale)


def _brute_force(log_probs: np.ndarray, blank: int = 0) -> dict[tuple[int, ...], float]:
    """P(l|x) of every labelling l, by summing P(π|x) over all C^T frame paths π."""
    T, C = log_probs.shape
    total: dict[tuple[int, ...], float] = defaultdict(float)
    for path in itertools.product(range(C), repeat=T):
        total[tuple(ctc.collapse(path, blank))] += float(np.exp(log_probs[np.arange(T), path].sum()))
    return total


# ------------------------------------------------------------------------------------------------ collapse

def test_collapse_seed_example_and_repeats():
    a, b, c, blank = 1, 2, 3, 0
    assert ctc.collapse([a, 0, 0, b, b, 0, c, c]) == [a, b, c]
    assert ctc.merge_repeats([a, 0, 0, b, b, 0, c, c]) == [a, 0, b, 0, c]
    assert ctc.collapse([a, a, a, a, b, b, b]) == [a, b]          # [a, a, b] is not reachable without blank
    assert ctc.collapse([a, a, 0, a, a, b, b]) == [a, a, b]
    assert ctc.collapse([5, 5, 7], blank=7) == [5]
    assert ctc.collapse([]) == []


def test_extend_and_skip_rule():
    ext = ctc.extend([1, 1, 2])
    assert ext.tolist() == [0, 1, 0, 1, 0, 2, 0]
    # skip into s only for a label different from the label two below: not into the second 1, yes into 2
    assert ctc.skip_allowed(ext).tolist() == [False, False, False, False, False, True, False]


# --------------------------------------------------------------------------------------- loss vs torch

@pytest.mark.parametrize("T,C,targets,blank", [
    (8, 4, [1, 2, 3], 0),
    (12, 5, [1, 1, 2, 2, 3], 0),          # repeated labels
    (5, 3, [1, 1, 2], 0),                 # T at the minimum feasible length (U + repeats = 4)... and one spare
    (4, 3, [1, 1, 2], 0),                 # exactly the minimum: a - a b
    (3, 3, [1, 1], 0),                    # exactly the minimum: a - a
    (6, 3, [], 0),                        # empty target: all blanks
    (7, 4, [0, 1, 0], 3),                 # blank not 0
    (1, 2, [1], 0),
    (60, 10, [3, 3, 3, 1, 2, 9, 9, 4], 0),
])
def test_ctc_loss_matches_torch(T, C, targets, blank):
    lp = _random_log_probs(T, C, seed=T * 31 + C)
    ours = ctc.ctc_loss(lp, targets, blank)
    ref = _torch_loss(lp, targets, blank)
    assert np.isfinite(ours)
    assert ours == pytest.approx(ref, rel=1e-6)


def test_ctc_loss_long_sequence_matches_torch():
    rng = np.random.default_rng(1)
    lp = _random_log_probs(400, 32, seed=2)
    targets = rng.integers(1, 32, 50).tolist()
    assert ctc.ctc_loss(lp, targets) == pytest.approx(_torch_loss(lp, targets), rel=1e-6)


@pytest.mark.parametrize("T,targets", [(2, [1, 1]), (3, [1, 2, 2, 1]), (0 + 1, [1, 2])])
def test_infeasible_target_is_inf_like_torch(T, targets):
    lp = _random_log_probs(T, 3, seed=0)
    assert ctc.ctc_loss(lp, targets) == float("inf")
    assert _torch_loss(lp, targets) == float("inf")
    lat = ctc.lattice(lp, targets)
    assert lat.log_likelihood == -np.inf
    assert ctc.best_alignment(lp, targets) is None
    assert not ctc.gradient(lp, targets).any()


def test_forward_and_backward_agree_with_lattice_and_final_states():
    lp = _random_log_probs(9, 4, seed=5)
    targets = [1, 2, 2]
    alpha, beta = ctc.forward(lp, targets), ctc.backward(lp, targets)
    lat = ctc.lattice(lp, targets)
    assert alpha.shape == beta.shape == (9, 7)
    np.testing.assert_allclose(alpha, lat.log_alpha)
    np.testing.assert_allclose(beta, lat.log_beta)
    # P(l|x) read at the end of α and at the start of β
    p_alpha = np.logaddexp(alpha[-1, -1], alpha[-1, -2])
    p_beta = np.logaddexp(beta[0, 0], beta[0, 1])
    assert p_alpha == pytest.approx(p_beta) == pytest.approx(-ctc.ctc_loss(lp, targets))


@pytest.mark.parametrize("T,C,targets", [(6, 3, [1, 2]), (8, 4, [1, 1, 3]), (40, 6, [1, 2, 3, 3, 4, 5])])
def test_alpha_beta_identity_every_frame(T, C, targets):
    """Σ_s α_t(s) β_t(s) / y_t(l′_s) = P(l|x) for every t (Graves et al. 2006, Sec. 4.1)."""
    lp = _random_log_probs(T, C, seed=T)
    lat = ctc.lattice(lp, targets)
    np.testing.assert_allclose(lat.log_likelihood_per_frame(), -_torch_loss(lp, targets), rtol=1e-9)
    np.testing.assert_allclose(lat.occupancy.sum(axis=1), 1.0, atol=1e-9)


# ------------------------------------------------------------------------------------------- brute force

@pytest.mark.parametrize("T,C,targets", [(5, 3, [1, 2]), (6, 3, [1, 1]), (4, 4, [3, 1, 3]), (6, 2, [1]),
                                         (6, 3, [])])
def test_sum_over_all_paths_equals_forward(T, C, targets):
    lp = _random_log_probs(T, C, seed=C * 7 + T)
    brute = _brute_force(lp)
    assert np.log(brute[tuple(targets)]) == pytest.approx(-ctc.ctc_loss(lp, targets), rel=1e-10)


@pytest.mark.parametrize("T,targets", [(6, [1, 2]), (6, [1, 1]), (5, [1, 2, 1]), (4, [1, 1, 1]), (6, []),
                                       (3, [2, 2])])
def test_alignments_enumerate_the_preimage(T, targets):
    C = 3
    brute = sorted(p for p in itertools.product(range(C), repeat=T) if ctc.collapse(p) == targets)
    listed = sorted(map(tuple, ctc.alignments(targets, T).tolist()))
    assert listed == brute
    assert ctc.count_alignments(targets, T) == len(brute)
    # the forward algorithm on all-ones probabilities counts paths too
    if brute:
        assert np.exp(-ctc.ctc_loss(np.zeros((T, C)), targets)) == pytest.approx(len(brute))


def test_count_closed_form_large_matches_forward_count():
    targets, T = [1, 2, 2, 3], 30
    assert np.log(ctc.count_alignments(targets, T)) == pytest.approx(-ctc.ctc_loss(np.zeros((T, 4)), targets))


def test_viterbi_is_the_most_probable_alignment():
    lp = _random_log_probs(7, 3, seed=11)
    targets = [1, 2, 1]
    paths = ctc.alignments(targets, 7)
    best = ctc.best_alignment(lp, targets)
    assert best.log_prob == pytest.approx(max(ctc.path_log_prob(lp, p) for p in paths))
    assert ctc.collapse(best.labels) == targets
    assert best.labels.tolist() == lat_ext_walk(best.states, targets)


@pytest.mark.parametrize("T,targets", [(6, [1, 2]), (7, [1, 1, 2]), (5, [2, 1, 2])])
def test_best_path_through_every_cell_matches_brute_force(T, targets):
    lp = _random_log_probs(T, 3, seed=T + len(targets))
    paths = ctc.alignments(targets, T)
    states = np.stack([ctc.states_of(p, targets) for p in paths])  # (N, T)
    assert all(ctc.collapse(p) == targets and ctc.extend(targets)[st].tolist() == p.tolist()
               for p, st in zip(paths, states))
    logp = np.array([ctc.path_log_prob(lp, p) for p in paths])  # (N,)
    S = 2 * len(targets) + 1
    for t in range(T):
        for s in range(S):
            through = states[:, t] == s
            got = ctc.best_alignment_through(lp, targets, t, s)
            if not through.any():
                assert got is None
                continue
            assert got.log_prob == pytest.approx(logp[through].max())
            assert got.states[t] == s and ctc.collapse(got.labels) == targets


def lat_ext_walk(states, targets):
    return ctc.extend(targets)[states].tolist()


# -------------------------------------------------------------------------------------------- gradient

@pytest.mark.parametrize("T,C,targets", [(8, 4, [1, 2, 3]), (10, 3, [1, 1, 2]), (30, 8, [7, 1, 1, 3, 5]),
                                         (5, 3, [])])
def test_gradient_matches_torch_autograd(T, C, targets):
    lp = _random_log_probs(T, C, seed=T + C)
    loss, g_torch = _torch_loss(lp, targets, logits_grad=True)
    np.testing.assert_allclose(ctc.gradient(lp, targets), g_torch, atol=1e-10)
    assert loss == pytest.approx(ctc.ctc_loss(lp, targets), rel=1e-9)


# -------------------------------------------------------------------------------------------- decoding

def test_greedy_is_argmax_then_collapse():
    lp = np.log(np.array([[.1, .8, .1], [.1, .8, .1], [.7, .2, .1], [.1, .1, .8]]))
    assert ctc.greedy_decode(lp) == [1, 2]
    assert ctc.greedy_decode(lp, blank=1) == [0, 2]


@pytest.mark.parametrize("seed", range(4))
def test_unpruned_beam_is_exact(seed):
    """Without pruning every kept prefix scores exactly P(l|x) and the best one is the most probable labelling."""
    lp = _random_log_probs(5, 3, seed=seed, scale=1.0)
    brute = _brute_force(lp)
    steps = ctc.beam_search_steps(lp, beam_width=10_000)
    final = steps[-1]
    assert len(final.prefixes) == len(brute)
    for prefix, score in zip(final.prefixes, final.log_scores):
        assert np.exp(score) == pytest.approx(brute[prefix], rel=1e-9)
    assert tuple(ctc.beam_search(lp, 10_000)) == max(brute, key=brute.get)


def test_pruned_beam_finds_the_labelling_greedy_misses():
    # two frames, P(blank) = .6: greedy says "" (.36), but P("a") = .4·.4 + .4·.6 + .6·.4 = .64
    lp = np.log(np.array([[.6, .4], [.6, .4]]))
    assert ctc.greedy_decode(lp) == []
    assert ctc.beam_search(lp, beam_width=2) == [1]
    steps = ctc.beam_search_steps(lp, 2)
    assert np.exp(steps[-1].log_scores[0]) == pytest.approx(.64)


def test_beam_scores_are_sorted_and_bounded_by_width():
    lp = _random_log_probs(20, 6, seed=3)
    for step in ctc.beam_search_steps(lp, 3):
        assert len(step.prefixes) <= 3
        assert np.all(np.diff(step.log_scores) <= 1e-12)


# ----------------------------------------------------------------------------------------- speech model

@pytest.fixture(scope="module")
def recognizer():
    from engine.common import phonemes
    try:
        return phonemes.load()
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"hama runtime unavailable: {err}")


def test_recognizer_posteriors_and_forced_alignment(recognizer):
    from conftest import ROOT
    import soundfile as sf

    y, sr = sf.read(ROOT / "assets/audio/hello_world.wav", dtype="float32")
    pg = recognizer.posteriors(y, sr)
    T, C = pg.log_probs.shape
    assert C == 191 and pg.blank == 190 and pg.frame_s == pytest.approx(0.02)
    assert abs(T - len(y) / sr / 0.02) <= 2
    np.testing.assert_allclose(np.exp(pg.log_probs).sum(axis=1), 1.0, atol=1e-9)
    greedy = ctc.greedy_decode(pg.log_probs, pg.blank)
    assert "hello" in recognizer.text(greedy)
    targets = recognizer.transcribe("hello world")
    assert recognizer.spell(targets).split("|")[0].split() == ["h", "ɛ", "l", "oʊ"]
    assert ctc.ctc_loss(pg.log_probs, targets, pg.blank) == pytest.approx(
        _torch_loss(pg.log_probs, targets, pg.blank), rel=1e-6)
    with pytest.raises(ValueError, match="xyz"):
        recognizer.parse("h xyz")


# ------------------------------------------------------------------------------------------------- page

def _text(at) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_matrix_mode_sum_equals_forward(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    assert at.metric[0].value == "abc" and at.metric[1].value == "abc"
    assert "462" in _text(at)                     # C(8 + 3, 6) alignments of abc in 8 frames
    at.selectbox(key="ctc.preset").set_value("disagree").run()
    assert_ok(at)
    assert at.metric[0].value == "∅" and at.metric[1].value == "a"
    at.checkbox(key="ctc.verify").check().run()
    assert_ok(at)
    assert at.success


def test_page_collapse_and_infeasible_target():
    at = run_page(PAGE)
    at.text_input(key="ctc.path").set_value("a a - a a b b").run()
    assert "[a, a, b]" in _text(at)
    at.text_input(key="ctc.target.abc").set_value("aaaaaaaaa").run()
    assert_ok(at)
    assert at.error                               # 8 frames cannot carry 9 labels
    at.text_input(key="ctc.target.abc").set_value("xyz").run()
    assert at.error


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_reads_labels_typed_with_a_japanese_ime(lang):
    """Full-width letters, the full-width hyphen and the ideographic space are the same labels as their ASCII forms
    (the oracle: the page's own reading of the ASCII spelling)."""
    at = run_page(PAGE, lang=lang)
    at.text_input(key="ctc.path").set_value("a a - a a b b").run()
    ascii_text = _text(at)
    at.text_input(key="ctc.path").set_value("ａ　ａ　－　ａ　ａ　ｂ　ｂ").run()
    assert _text(at) == ascii_text and "[a, a, b]" in ascii_text
    at.text_input(key="ctc.target.abc").set_value("ａｂ").run()
    assert_ok(at)
    assert not at.error
    assert ctc.parse_frames("ａ　－　ｂ＿ε") == ctc.parse_frames("a - b_ε") == ["a", "−", "b_ε"]


def test_page_random_mode_long():
    at = run_page(PAGE)
    at.radio(key="ctc.mode").set_value("random").run()
    assert_ok(at)
    at.slider(key="ctc.T").set_value(400).run()
    assert_ok(at)
    at.slider(key="ctc.tau").set_value(0.1).run()
    assert_ok(at)


def test_page_speech_default_clip():
    at = run_page(PAGE)
    at.radio(key="ctc.mode").set_value("speech").run()
    assert_ok(at)
    assert "the quick" in _text(at).lower()
    at.radio(key="ctc.speech_target").set_value("text").run()
    assert_ok(at)
    at.text_input(key="ctc.text").set_value("the quick brown fox").run()
    assert_ok(at)
    at.radio(key="ctc.speech_target").set_value("phonemes").run()
    at.text_input(key="ctc.phonemes").set_value("ð i | q").run()
    assert at.error


def test_page_speech_upload_and_microphone(tone):
    import soundfile as sf
    from conftest import ROOT

    y, sr = sf.read(ROOT / "assets/audio/hello_world.wav", dtype="float32")
    at = run_page(PAGE)
    at.radio(key="ctc.mode").set_value("speech").run()
    at.radio(key="ctc.source").set_value("upload").run()
    assert_ok(at)
    assert at.info                                 # asks for a file
    # uploaded at 44.1 kHz stereo FLAC: resampled to 16 kHz by the shared loader
    stereo = np.stack([y, y], axis=1)
    import scipy.signal
    up = scipy.signal.resample_poly(stereo, 441, 160, axis=0).astype(np.float32)
    at.file_uploader(key="ctc.file").upload("hello.flac", wav_bytes(up, 44100, fmt="FLAC"), "audio/flac").run()
    assert_ok(at)
    assert "hello" in _text(at).lower()
    at.radio(key="ctc.source").set_value("mic").run()
    assert_ok(at)
    tone_y, tone_sr = tone
    at.audio_input(key="ctc.mic").upload("rec.wav", wav_bytes(tone_y, tone_sr)).run()
    assert_ok(at)
    assert "T = 5" in _text(at)                     # 1 s at 20 ms per frame
    at.audio_input(key="ctc.mic").upload("short.wav", wav_bytes(tone_y[:800], tone_sr)).run()
    assert_ok(at)
    assert at.warning                              # too short to recognise


# ----------------------------------------------------------------------------------------------- figures

def test_trellis_edges_are_the_allowed_transitions():
    from engine.figures.speech import ctc as figs

    targets, T = [1, 2, 2], 4
    ext = ctc.extend(targets)
    xs, ys = figs.trellis_edges(ext, T, blank=0)
    pairs = {(int(a), int(b)) for a, b in zip(ys[0::3], ys[1::3])}
    # every consecutive state pair of every alignment is an edge, and nothing else is
    reach = set()
    for path in ctc.alignments(targets, 6):
        states = ctc.states_of(path, targets).tolist()
        reach |= {(a, b) for a, b in zip(states, states[1:])}
    assert pairs == reach
    assert len(xs) == 3 * (T - 1) * len(pairs)


def test_figures_stay_small_at_T_400():
    from engine.figures.speech import ctc as figs

    lp = _random_log_probs(400, 32, seed=4)
    targets = np.random.default_rng(0).integers(1, 32, 120).tolist()
    lat = ctc.lattice(lp, targets)
    best = ctc.best_alignment(lp, targets)
    tokens = ["-"] + [str(k) for k in range(1, 32)]
    for quantity in ("alpha", "beta", "occupancy"):
        fig = figs.plot_trellis(lat, tokens, quantity, 0, {"viterbi": best.states})
        assert len(fig.to_json()) < 2_000_000
    assert len(figs.plot_probs(lp, tokens).to_json()) < 2_000_000
    assert len(figs.plot_gradient(ctc.gradient(lp, targets), tokens).to_json()) < 2_000_000
    segs = figs.segments(best.states, lat.ext, 0)
    assert [k for k, _, _ in segs] == targets          # one span per target label, in order


def test_page_click_on_a_trellis_cell_draws_the_best_path_through_it():
    at = run_page(PAGE)
    logits = at.dataframe[0].value.to_numpy(dtype=np.float64)  # the example's logits, as the editor shows them
    # what the chart's selection state holds after a click on frame 4, state 3 (the label b of a b c)
    at.session_state["ctc.trellis_fig"] = {"selection": {"points": [{"x": 4, "y": 3}], "point_indices": [0],
                                                         "box": [], "lasso": []}}
    at.run()
    assert_ok(at)
    lp = ctc.log_softmax(logits)
    targets = [1, 2, 3]
    # oracle: brute force over every alignment that is in state 3 at frame index 3
    paths = ctc.alignments(targets, len(lp))
    states = np.stack([ctc.states_of(p, targets) for p in paths])
    probs = np.exp([ctc.path_log_prob(lp, p) for p in paths])
    through = states[:, 3] == 3
    gamma, best = probs[through].sum() / probs.sum(), probs[through].max()
    text = _text(at)
    assert f"γ = {gamma:.3g}" in text and f"P(π|x) = {best:.3g}" in text


def test_page_without_the_recogniser_keeps_the_other_modes(monkeypatch):
    import streamlit as st
    from engine.common import phonemes

    def broken():
        raise OSError("libhama.so: cannot open shared object file")

    monkeypatch.setattr(phonemes, "load", broken)
    st.cache_resource.clear()  # the page caches the recogniser per process; other models simply reload
    try:
        at = run_page(PAGE)
        at.radio(key="ctc.mode").set_value("speech").run()
        assert_ok(at)
        assert at.warning and "libhama" in at.warning[0].value
        at.radio(key="ctc.mode").set_value("random").run()
        assert_ok(at)
        assert at.metric
    finally:
        st.cache_resource.clear()


# ---- the page's lessons, now in the engine -------------------------------------------------------------------
def test_alignment_table_sums_paths_by_brute_force_and_equals_forward():
    lp = ctc.log_softmax(np.random.default_rng(3).standard_normal((5, 3)))
    targets = [1, 2]
    tab = ctc.alignment_table(lp, targets)
    # brute force: every one of C^T frame sequences whose collapse is the target
    import itertools
    brute = [p for p in itertools.product(range(3), repeat=5) if ctc.collapse(p) == targets]
    assert len(tab.paths) == len(brute) == ctc.count_alignments(targets, 5)
    assert tab.total == pytest.approx(sum(np.exp(lp[np.arange(5), list(p)].sum()) for p in brute), rel=1e-12)
    assert tab.total == pytest.approx(tab.likelihood, rel=1e-12)
    assert np.all(np.diff(tab.log_p) <= 0)                       # most probable first


def test_check_with_torch_reports_the_same_numbers_as_torch():
    import torch

    lp = ctc.log_softmax(np.random.default_rng(4).standard_normal((12, 5)))
    targets = [1, 3, 3, 2]
    chk = ctc.check_with_torch(lp, targets)
    ref = torch.nn.functional.ctc_loss(torch.tensor(lp)[:, None], torch.tensor([targets]), [12], [4], reduction="sum")
    assert chk.loss_torch == pytest.approx(float(ref), rel=1e-12)
    assert chk.loss_ours == pytest.approx(float(ref), rel=1e-10) and chk.max_grad_diff < 1e-10


@pytest.mark.parametrize("name", list(ctc.PRESETS))
def test_presets_favour_their_frame_labels(name):
    p = ctc.preset(name)
    frames = ctc.parse_frames(ctc.PRESETS[name][0])
    assert p.logits.shape == (len(frames), len(p.tokens)) and p.tokens[0] == "−"
    nudged = {(i, k) for i, k, _ in ctc.PRESETS[name][2]}
    for i, f in enumerate(frames):
        if not any(j == i for j, _ in nudged):
            assert p.tokens[int(np.argmax(p.logits[i]))] == f


def test_collapse_steps_repeats_and_speaking_probability():
    s = ctc.collapse_steps(ctc.parse_frames("a - - b b _ c c"))
    assert s.merged == ["a", "−", "b", "−", "c"] and s.final == ["a", "b", "c"]
    assert ctc.count_repeats([1, 1, 2, 2, 2, 3]) == 3
    lp = ctc.log_softmax(np.random.default_rng(5).standard_normal((9, 4)))
    lat = ctc.lattice(lp, [1, 2, 1])
    occ = ctc.label_occupancy(lat, 4)                           # (T, C): per label
    assert np.allclose(ctc.speaking_probability(lat), 1 - occ[:, 0])
    assert ctc.prob_text(-2000.0).startswith("10^") and ctc.count_text(10**15).startswith("≈ 1.00 × 10^15")


# ---- practice items: answers recomputed from the numbers shown, by torch's ctc_loss and brute force
def _torch_prob(y: np.ndarray, targets) -> float:
    import torch
    lp = torch.log(torch.tensor(y, dtype=torch.float64))[:, None]                   # (T, 1, C)
    loss = torch.nn.functional.ctc_loss(lp, torch.tensor([list(targets)]), [len(y)], [len(targets)], blank=0,
                                        reduction="sum")
    return float(torch.exp(-loss))


def test_practice_answers_equal_torch_and_brute_force():
    from engine.common import practice as P
    for seed in range(200):
        it = P.make("ctc", "collapse_path", seed)
        path = it.params["path"]
        want = [k for k, _ in itertools.groupby(path) if k != 0]                        # groupby merges repeats
        assert it.choices[it.correct_index].label["en"] == "[" + ", ".join("−abc"[k] for k in want) + "]"
        it = P.make("ctc", "min_frames", seed)
        tgt = it.params["targets"]
        T_min = next(T for T in range(1, 20) if _torch_prob(np.full((T, 4), 0.25), tgt) > 0)
        assert it.answer == T_min
        it = P.make("ctc", "path_sum", seed)
        y, tgt = it.params["y"], it.params["targets"]
        T = len(y)
        brute = sum(np.prod(y[np.arange(T), p]) for p in itertools.product(range(3), repeat=T)
                    if [k for k, _ in itertools.groupby(p) if k != 0] == tgt)
        assert abs(it.answer - brute) < 1e-12 and abs(it.answer - _torch_prob(y, tgt)) < 1e-12
        assert it.choices[it.correct_index].label["en"] == f"{brute:.4f}"
        it = P.make("ctc", "alpha_blank", seed)
        assert abs(it.exec.expected - _torch_prob(it.params["y"], it.params["targets"])) < 1e-12


def test_practice_statements_hold_on_cases():
    """Checkable CTC statements: U + r frames suffice and U + r − 1 do not, l′ has 2U + 1 states, greedy decoding
    can miss the most probable labelling, the single best path is less than P(l|x)."""
    rng = np.random.default_rng(0)
    greedy_missed = False
    for _ in range(300):
        tgt = [int(k) for k in rng.integers(1, 3, size=int(rng.integers(1, 4)))]
        r = sum(a == b for a, b in zip(tgt, tgt[1:]))
        assert _torch_prob(np.full((len(tgt) + r, 3), 1 / 3), tgt) > 0                # min_frames
        if len(tgt) + r > 1:
            assert _torch_prob(np.full((len(tgt) + r - 1, 3), 1 / 3), tgt) == 0
        assert len(ctc.extend(tgt)) == 2 * len(tgt) + 1                                 # extended
        y = rng.dirichlet(np.ones(3), size=4)
        labellings = defaultdict(float)
        for p in itertools.product(range(3), repeat=4):
            labellings[tuple(k for k, _ in itertools.groupby(p) if k != 0)] += np.prod(y[np.arange(4), p])
        best = max(labellings, key=labellings.get)
        greedy = tuple(k for k, _ in itertools.groupby(np.argmax(y, axis=1)) if k != 0)
        greedy_missed |= labellings[greedy] < labellings[best] - 1e-12                  # greedy_not_best
    assert greedy_missed


def test_practice_case_opens_on_the_page():
    """"Open this case": the collapse item's frame string lands in the page's collapse input, whose table shows
    the item's answer."""
    from streamlit.testing.v1 import AppTest

    from conftest import ROOT
    from engine.common import practice as P
    it = P.make("ctc", "collapse_path", 4)
    at = AppTest.from_file(str(ROOT / "pages/speech/ctc.py"), default_timeout=120)
    at.query_params["lang"] = "en"
    at.query_params["ctc.path"] = it.setup["ctc.path"]
    at.run()
    assert_ok(at)
    assert at.text_input(key="ctc.path").value == it.setup["ctc.path"]
    answer = it.choices[it.correct_index].label["en"].strip("[]")
    assert any(f"[{answer}]" in m.value for m in at.markdown)
