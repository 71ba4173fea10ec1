"""CTC: collapse B, every alignment, the trellis of α and β, the gradient and decoding — on frame posteriors
typed in, drawn at random or computed from real speech by an offline phoneme recogniser."""
import numpy as np
import pandas as pd
import streamlit as st

from engine.speech import ctc
from engine.figures.speech import ctc as figs
from ui import audio_input_ui, fmt, formula, show_source, t

BLANK_MARKS = {"-", "−", "_", "ε"}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PRESETS = {  # frame-label sequence the logits favour, target, tie-breaking nudges (t, k, Δ)
    "abc": ("a - - b b - c c", "abc", [(1, 0, -1.5), (4, 0, 1.8), (6, 3, 2.0)]),
    "disagree": ("- - -", "a", [(0, 1, 1.55), (1, 1, 1.55), (2, 1, 1.55)]),
    "repeat": ("a a - a a", "aa", [(2, 1, 1.8)]),
}
LIST_LIMIT = 1000          # list every alignment when there are at most this many


# Figures are built once per distinct input and shared (st.plotly_chart copies them, nobody mutates them):
# plotly's own object construction is most of a rerun's time.
@st.cache_resource(max_entries=64, show_spinner=False)
def probs_figure(log_probs: np.ndarray, tokens: tuple[str, ...], title: str):
    return figs.plot_probs(log_probs, tokens, title)


@st.cache_resource(max_entries=64, show_spinner=False)
def trellis_figure(log_probs: np.ndarray, targets: tuple[int, ...], blank: int, tokens: tuple[str, ...],
                   quantity: str, paths: tuple[tuple[str, tuple[int, ...]], ...]):
    lat = ctc.lattice(log_probs, targets, blank)
    return figs.plot_trellis(lat, tokens, quantity, blank, {name: np.array(s) for name, s in paths})


@st.cache_resource(max_entries=64, show_spinner=False)
def gradient_figure(log_probs: np.ndarray, targets: tuple[int, ...], blank: int, tokens: tuple[str, ...],
                    rows: tuple[int, ...] | None, title: str):
    return figs.plot_gradient(ctc.gradient(log_probs, targets, blank), tokens, rows, title)


st.title(t("ctc.title"))
st.markdown(t("ctc.intro"))
formula("ctc.f_posterior")


# ------------------------------------------------------------------------------------------- 1. collapse B
def collapse_ui() -> list[str]:
    text = st.text_input(t("ctc.collapse.input"), "a - - b b - c c", key="ctc.path")
    return ["−" if tok in BLANK_MARKS else tok for tok in text.split()]


def show_collapse(frames: list[str]) -> None:
    vocab = ["−"] + sorted({f for f in frames if f != "−"})
    ids = [vocab.index(f) for f in frames]
    merged = [vocab[i] for i in ctc.merge_repeats(ids)]
    final = [vocab[i] for i in ctc.collapse(ids, blank=0)]
    st.markdown(t("ctc.collapse.steps", path=", ".join(frames) or "∅", merged=", ".join(merged) or "∅",
                  final=", ".join(final) or "∅"))


st.header(t("ctc.collapse.header"))
st.markdown(t("ctc.collapse.text"))
show_collapse(collapse_ui())
a, b = [1, 1, 1, 1, 2, 2, 2], [1, 1, 0, 1, 1, 2, 2]
st.markdown(t("ctc.collapse.why", no_blank=" ".join("−ab"[i] for i in ctc.collapse(a)),
              with_blank=" ".join("−ab"[i] for i in ctc.collapse(b))))


# --------------------------------------------------------------------------------- 2. frame probabilities
@st.cache_resource(show_spinner=False)
def recognizer():
    """The hama phoneme recogniser, once per process; None plus the reason when its runtime cannot load."""
    from engine.common import phonemes
    try:
        return phonemes.load(), ""
    except Exception as err:  # noqa: BLE001 — any platform failure leaves modes (a) and (b) working
        return None, f"{type(err).__name__}: {err}"


@st.cache_data(max_entries=16, show_spinner=False)
def speech_posteriors(y: np.ndarray, sr: int):
    from engine.common import phonemes
    rec, _ = recognizer()
    pg = rec.posteriors(y, sr)
    return pg, phonemes.log_spectrogram(y, sr=sr)


@st.cache_data(max_entries=64, show_spinner=False)
def phonemes_to_text(ids: tuple[int, ...]) -> str:
    return recognizer()[0].text(ids)


@st.cache_data(max_entries=64, show_spinner=False)
def text_to_phonemes(text: str) -> list[int]:
    return recognizer()[0].transcribe(text)


def preset_logits(name: str) -> np.ndarray:
    frames, target, nudges = PRESETS[name]
    labels = sorted(set(target))
    tokens = ["−"] + labels
    seq = ["−" if f in BLANK_MARKS else f for f in frames.split()]
    logits = np.zeros((len(seq), len(tokens)))  # (T, C)
    for i, f in enumerate(seq):
        logits[i, tokens.index(f)] = 2.0
    for i, k, d in nudges:
        logits[i, k] += d
    return logits


def matrix_ui() -> tuple[np.ndarray, list[str], str, str]:
    preset = st.selectbox(t("ctc.matrix.preset"), list(PRESETS), key="ctc.preset", format_func=fmt("ctc.presets"))
    logits = preset_logits(preset)
    tokens = ["−"] + sorted(set(PRESETS[preset][1]))
    st.caption(t("ctc.matrix.help"))
    df = pd.DataFrame(logits, columns=tokens, index=[f"t={i + 1}" for i in range(len(logits))])
    edited = st.data_editor(df, key=f"ctc.logits.{preset}", width="stretch")
    values = np.nan_to_num(edited.to_numpy(dtype=np.float64), nan=0.0).clip(-20, 20)
    return ctc.log_softmax(values), tokens, " ".join(PRESETS[preset][1]), preset


def random_ui() -> tuple[np.ndarray, list[str], str, str]:
    c1, c2 = st.columns(2)
    T = c1.slider(t("ctc.random.frames"), 2, 400, 10, key="ctc.T")
    n_labels = c2.slider(t("ctc.random.labels"), 1, 8, 3, key="ctc.C")
    temperature = c1.slider(t("ctc.random.temperature"), 0.1, 3.0, 0.7, 0.1, key="ctc.tau",
                            help=t("ctc.random.temperature_help"))
    seed = c2.number_input(t("ctc.random.seed"), 0, 2**31 - 1, 0, key="ctc.seed")
    logits = ctc.random_logits(T, n_labels + 1, np.random.default_rng(int(seed)))
    tokens = ["−"] + list(LETTERS[:n_labels])
    return ctc.log_softmax(logits, temperature), tokens, " ".join(tokens[1:3]), f"random{n_labels}"


def parse_letters(text: str, tokens: list[str]) -> list[int] | None:
    chars = [c for c in text if not c.isspace()]
    bad = sorted({c for c in chars if c not in tokens[1:]})
    if bad:
        st.error(t("ctc.target.unknown", labels=" ".join(bad), allowed=" ".join(tokens[1:])))
        return None
    return [tokens.index(c) for c in chars]


st.header(t("ctc.source.header"))
source = st.radio(t("ctc.source.label"), ("matrix", "random", "speech"), horizontal=True, key="ctc.mode",
                  format_func=fmt("ctc.sources"))
clip = pg = None
if source == "speech":
    rec, reason = recognizer()
    if rec is None:
        st.warning(t("ctc.speech.unavailable", reason=reason))
        st.stop()
    clip = audio_input_ui("ctc", sr=16000)
    if clip is None:
        st.stop()
    if len(clip.y) < 1600:
        st.warning(t("ctc.speech.too_short"))
        st.stop()
    pg, spec = speech_posteriors(clip.y, clip.sr)
    log_probs, blank = pg.log_probs, pg.blank
    tokens = [pg.token(k) for k in range(len(pg.labels))]
    greedy = ctc.greedy_decode(log_probs, blank)
    st.markdown(t("ctc.speech.recognised", phonemes=rec.spell(greedy) or "∅",
                  text=phonemes_to_text(tuple(greedy)) or "∅", T=len(log_probs), ms=int(round(pg.frame_s * 1000))))
    mode = st.radio(t("ctc.speech.target"), ("recognised", "text", "phonemes"), horizontal=True,
                    key="ctc.speech_target", format_func=fmt("ctc.speech.targets"))
    if mode == "recognised":
        targets = greedy
    elif mode == "text":
        typed = st.text_input(t("ctc.speech.text_input"), phonemes_to_text(tuple(greedy)), key="ctc.text")
        targets = text_to_phonemes(typed)
        st.caption(t("ctc.speech.g2p", phonemes=rec.spell(targets) or "∅"))
    else:
        typed = st.text_input(t("ctc.speech.phoneme_input"), rec.spell(greedy), key="ctc.phonemes")
        try:
            targets = rec.parse(typed)
        except ValueError as err:
            st.error(t("ctc.speech.unknown", labels=str(err)))
            st.stop()
else:
    log_probs, tokens, default_target, variant = matrix_ui() if source == "matrix" else random_ui()
    blank = 0
    st.plotly_chart(probs_figure(log_probs, tuple(tokens), t("ctc.source.probs_title")), key="ctc.probs_fig")
    typed = st.text_input(t("ctc.target.input"), default_target, key=f"ctc.target.{variant}",
                          help=t("ctc.target.help", allowed=" ".join(tokens[1:])))
    targets = parse_letters(typed, tokens)
    if targets is None:
        st.stop()

T, C = log_probs.shape
U = len(targets)
label_str = " ".join(tokens[k] for k in targets) or "∅"


# ------------------------------------------------------------------------------------- 3. count alignments
@st.cache_data(max_entries=32, show_spinner=False)
def trellis(log_probs: np.ndarray, targets: tuple[int, ...], blank: int):
    return ctc.lattice(log_probs, targets, blank), ctc.best_alignment(log_probs, targets, blank)


def prob(logp: float) -> str:
    """A probability from its log, as a power of ten where it underflows."""
    return f"{np.exp(logp):.3g}" if logp > -600 else f"10^{logp / np.log(10):.1f}"


def big(n: int) -> str:
    """An exact count, or its order of magnitude when it has more than 12 digits."""
    if n < 10**12:
        return f"{n:,}"
    e = len(str(n)) - 1
    return f"≈ {int(str(n)[:3]) / 100:.2f} × 10^{e}"


st.header(t("ctc.count.header"))
n_paths = ctc.count_alignments(targets, T)
r = sum(x == y for x, y in zip(targets, targets[1:]))
st.markdown(t("ctc.count.text", l=label_str, U=U, T=T, r=r, n=big(n_paths), min_T=ctc.min_frames(targets)))
formula("ctc.f_count")
lat, best = trellis(log_probs, tuple(targets), blank)
if best is None:
    st.error(t("ctc.count.infeasible", T=T, min_T=ctc.min_frames(targets)))
    st.stop()
P = float(np.exp(lat.log_likelihood))
paths_states = {t("ctc.trellis.viterbi"): best.states}
if n_paths <= LIST_LIMIT:
    al = ctc.alignments(targets, T, blank)  # (N, T)
    logp = log_probs[np.arange(T), al].sum(axis=1)  # (N,) log P(π|x) = Σ_t log y_t^{π_t}
    order = np.argsort(-logp)
    table = pd.DataFrame({t("ctc.count.path"): [" ".join(tokens[k] for k in al[i]) for i in order],
                          "P(π|x)": np.exp(logp[order])})
    st.dataframe(table, height=min(300, 35 * len(table) + 38), hide_index=True)
    st.markdown(t("ctc.count.sum", total=f"{np.exp(logp).sum():.6g}", P=f"{P:.6g}",
                  diff=f"{abs(np.exp(logp).sum() - P):.1e}"))
    options = table.iloc[:, 0].tolist()
    pick = options.index(st.selectbox(t("ctc.count.pick"), options, key=f"ctc.pick.{source}.{T}.{label_str}"))
    chosen = al[order[pick]]
    paths_states[t("ctc.trellis.picked")] = ctc.states_of(chosen, targets, blank)
    terms = " · ".join(f"y_{{{i + 1}}}^{{{tokens[k]}}}" for i, k in enumerate(chosen[:12]))
    dots = r" \cdots" if T > 12 else ""
    st.latex(rf"P(\pi|x) = {terms}{dots} = {np.exp(logp[order[pick]]):.4g}")
else:
    st.info(t("ctc.count.too_many", n=big(n_paths), limit=LIST_LIMIT, P=prob(lat.log_likelihood),
              logP=f"{lat.log_likelihood:.2f}"))


# ---------------------------------------------------------------------------------------------- 4. trellis
def clicked_cell() -> tuple[int, int] | None:
    """The trellis cell (frame index, state) last clicked, read from the chart's selection state."""
    event = st.session_state.get("ctc.trellis_fig")
    points = (event or {}).get("selection", {}).get("points", [])
    if not points:
        return None
    t_, s_ = int(round(points[0]["x"])) - 1, int(round(points[0]["y"]))
    return (t_, s_) if 0 <= t_ < T and 0 <= s_ < len(lat.ext) else None


st.header(t("ctc.trellis.header"))
st.markdown(t("ctc.trellis.text", ext=" ".join(tokens[k] for k in lat.ext), S=len(lat.ext)))
formula("ctc.f_alpha")
formula("ctc.f_beta")
st.markdown(t("ctc.trellis.viterbi_text", logp=f"{best.log_prob:.3f}", p=prob(best.log_prob),
              P=prob(lat.log_likelihood), share=f"{100 * np.exp(best.log_prob - lat.log_likelihood):.3g}%"))
quantity = st.radio(t("ctc.trellis.show"), ("alpha", "beta", "occupancy"), horizontal=True, key="ctc.quantity",
                    format_func=fmt("ctc.trellis"))
cell = clicked_cell()
if cell is not None:
    through = ctc.best_alignment_through(log_probs, targets, cell[0], cell[1], blank)
    if through is not None:
        paths_states[t("ctc.trellis.through", t=cell[0] + 1, s=tokens[lat.ext[cell[1]]])] = through.states
st.plotly_chart(trellis_figure(log_probs, tuple(targets), blank, tuple(tokens), quantity,
                               tuple((name, tuple(s.tolist())) for name, s in paths_states.items())),
                key="ctc.trellis_fig",
                on_select="rerun", selection_mode="points")
if cell is None or through is None:
    st.caption(t("ctc.trellis.click"))
else:
    st.markdown(t("ctc.trellis.through_text", t=cell[0] + 1, s=tokens[lat.ext[cell[1]]],
                  gamma=f"{lat.occupancy[cell]:.3g}", p=prob(through.log_prob),
                  share=f"{100 * np.exp(through.log_prob - lat.log_likelihood):.3g}%"))
formula("ctc.f_occupancy")
per_frame = lat.log_likelihood_per_frame()
st.markdown(t("ctc.trellis.check", dev=f"{np.abs(per_frame - lat.log_likelihood).max():.1e}",
              col=f"{np.abs(lat.occupancy.sum(axis=1) - 1).max():.1e}", loss=f"{-lat.log_likelihood:.4f}"))
show_source(ctc.forward)
show_source(ctc._alpha_batch)

if source == "speech":
    st.subheader(t("ctc.speech.align_header"))
    st.markdown(t("ctc.speech.align_text"))
    segs = figs.segments(best.states, lat.ext, blank)
    # probability, at each frame, of being on one of the target's labels (not a blank)
    speaking = lat.occupancy[:, 1::2].sum(axis=1)
    rows = sorted(set(targets) | set(np.argmax(log_probs, axis=1).tolist()) | {blank})
    st.plotly_chart(figs.plot_speech(clip.y, clip.sr, spec, log_probs, tokens, rows, pg.frame_s, segs, speaking,
                                     (t("ctc.speech.wave_title"), t("ctc.speech.spec_title"),
                                      t("ctc.speech.post_title"))), key="ctc.speech_fig")


# --------------------------------------------------------------------------------------------- 5. gradient
st.header(t("ctc.grad.header"))
formula("ctc.f_grad")
grad_rows = tuple(sorted(set(targets) | {blank})) if C > 12 else None
st.plotly_chart(gradient_figure(log_probs, tuple(targets), blank, tuple(tokens), grad_rows, t("ctc.grad.title")),
                key="ctc.grad_fig")
if st.checkbox(t("ctc.grad.verify"), key="ctc.verify"):
    import torch

    logits = torch.tensor(log_probs, requires_grad=True)
    loss = torch.nn.functional.ctc_loss(torch.log_softmax(logits, -1)[:, None],
                                        torch.tensor([targets], dtype=torch.long).reshape(1, U), [T], [U],
                                        blank=blank, reduction="sum")
    (g_torch,) = torch.autograd.grad(loss, logits)
    st.success(t("ctc.grad.verified", loss=f"{loss.item():.6f}", ours=f"{-lat.log_likelihood:.6f}",
                 diff=f"{np.abs(g_torch.numpy() - ctc.gradient(log_probs, targets, blank)).max():.1e}"))


# --------------------------------------------------------------------------------------------- 6. decoding
@st.cache_data(max_entries=32, show_spinner=False)
def decode(log_probs: np.ndarray, beam_width: int, blank: int):
    return ctc.greedy_decode(log_probs, blank), ctc.beam_search_steps(log_probs, beam_width, blank)


st.header(t("ctc.decode.header"))
st.markdown(t("ctc.decode.text"))
beam_width = st.slider(t("ctc.decode.beam_width"), 1, 32, 4, key="ctc.beam")
greedy, steps = decode(log_probs, beam_width, blank)
beam = list(steps[-1].prefixes[0])
sep = "" if source != "speech" else " "
spell = lambda ids: sep.join(tokens[k] for k in ids) or "∅"  # noqa: E731
c1, c2 = st.columns(2)
c1.metric(t("ctc.decode.greedy"), spell(greedy))
c2.metric(t("ctc.decode.beam"), spell(beam))
st.markdown(t("ctc.decode.agree") if greedy == beam else t("ctc.decode.disagree"))
shown = min(beam_width, 6)
st.dataframe(pd.DataFrame([[f"{spell(p)}  ({np.exp(s):.3g})" for p, s in zip(step.prefixes[:shown],
                                                                              step.log_scores[:shown])]
                           + [""] * (shown - min(shown, len(step.prefixes))) for step in steps],
                          index=[f"t={i + 1}" for i in range(len(steps))],
                          columns=[f"#{j + 1}" for j in range(shown)]), height=300)
show_source(ctc.beam_search_steps)
