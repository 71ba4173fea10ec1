"""CTC: collapse B, every alignment, the trellis of α and β, the gradient and decoding — on frame posteriors
typed in, drawn at random or computed from real speech by an offline phoneme recogniser.

Reads top to bottom; the input widgets and cached calls live in ui/ctc.py, every number in engine/speech/ctc.py."""
import numpy as np
import pandas as pd
import streamlit as st

from engine.speech import ctc
from engine.figures.speech import ctc as figs
from ui import fmt, formula, show_source, t
from ui import ctc as ui_ctc

LIST_LIMIT = 1000          # list every alignment when there are at most this many

st.title(t("ctc.title"))
st.markdown(t("ctc.intro"))
formula("ctc.f_posterior")

# ---- 1. collapse B -------------------------------------------------------------------------------------------
st.header(t("ctc.collapse.header"))
st.markdown(t("ctc.collapse.text"))
frames = ctc.parse_frames(st.text_input(t("ctc.collapse.input"), "a - - b b - c c", key="ctc.path",
                                        bind="query-params"))
steps = ctc.collapse_steps(frames)
st.markdown(t("ctc.collapse.steps", path=", ".join(frames) or "∅", merged=", ".join(steps.merged) or "∅",
              final=", ".join(steps.final) or "∅"))
st.markdown(t("ctc.collapse.why", no_blank=" ".join(ctc.collapse_steps(list("aaaabbb")).final),
              with_blank=" ".join(ctc.collapse_steps(["a", "a", "−", "a", "a", "b", "b"]).final)))

# ---- 2. frame probabilities ----------------------------------------------------------------------------------
st.header(t("ctc.source.header"))
mode = st.radio(t("ctc.source.label"), ("matrix", "random", "speech"), horizontal=True, key="ctc.mode",
                format_func=fmt("ctc.sources"), bind="query-params")
src = {"matrix": ui_ctc.matrix_ui, "random": ui_ctc.random_ui, "speech": ui_ctc.speech_ui}[mode]()
if src is None:
    st.stop()
log_probs, tokens, blank, targets = src.log_probs, src.tokens, src.blank, src.targets
T, C = log_probs.shape
U = len(targets)
label_str = " ".join(tokens[k] for k in targets) or "∅"

# ---- 3. count alignments -------------------------------------------------------------------------------------
st.header(t("ctc.count.header"))
n_paths = ctc.count_alignments(targets, T)
st.markdown(t("ctc.count.text", l=label_str, U=U, T=T, r=ctc.count_repeats(targets), n=ctc.count_text(n_paths),
              min_T=ctc.min_frames(targets)))
formula("ctc.f_count")
lat, best = ui_ctc.trellis(log_probs, tuple(targets), blank)
if best is None:
    st.error(t("ctc.count.infeasible", T=T, min_T=ctc.min_frames(targets)))
    st.stop()
paths_states = {t("ctc.trellis.viterbi"): best.states}
if n_paths <= LIST_LIMIT:
    tab = ctc.alignment_table(log_probs, targets, blank)
    names = [" ".join(tokens[k] for k in path) for path in tab.paths]
    st.dataframe(pd.DataFrame({t("ctc.count.path"): names, "P(π|x)": np.exp(tab.log_p)}),
                 height=min(300, 35 * len(names) + 38), hide_index=True)
    st.markdown(t("ctc.count.sum", total=f"{tab.total:.6g}", P=f"{tab.likelihood:.6g}",
                  diff=f"{abs(tab.total - tab.likelihood):.1e}"))
    pick = names.index(st.selectbox(t("ctc.count.pick"), names, key=f"ctc.pick.{mode}.{T}.{label_str}",
                                    bind="query-params"))
    chosen = tab.paths[pick]
    paths_states[t("ctc.trellis.picked")] = ctc.states_of(chosen, targets, blank)
    terms = " · ".join(f"y_{{{i + 1}}}^{{{tokens[k]}}}" for i, k in enumerate(chosen[:12]))
    dots = r" \cdots" if T > 12 else ""
    st.latex(rf"P(\pi|x) = {terms}{dots} = {np.exp(tab.log_p[pick]):.4g}")
else:
    st.info(t("ctc.count.too_many", n=ctc.count_text(n_paths), limit=LIST_LIMIT, P=ctc.prob_text(lat.log_likelihood),
              logP=f"{lat.log_likelihood:.2f}"))

# ---- 4. trellis ----------------------------------------------------------------------------------------------
st.header(t("ctc.trellis.header"))
st.markdown(t("ctc.trellis.text", ext=" ".join(tokens[k] for k in lat.ext), S=len(lat.ext)))
formula("ctc.f_alpha")
formula("ctc.f_beta")
st.markdown(t("ctc.trellis.viterbi_text", logp=f"{best.log_prob:.3f}", p=ctc.prob_text(best.log_prob),
              P=ctc.prob_text(lat.log_likelihood), share=f"{100 * np.exp(best.log_prob - lat.log_likelihood):.3g}%"))
quantity = st.radio(t("ctc.trellis.show"), ("alpha", "beta", "occupancy"), horizontal=True, key="ctc.quantity",
                    format_func=fmt("ctc.trellis"), bind="query-params")
points = (st.session_state.get("ctc.trellis_fig") or {}).get("selection", {}).get("points", [])
cell = (int(round(points[0]["x"])) - 1, int(round(points[0]["y"]))) if points else None
through = None
if cell is not None and 0 <= cell[0] < T and 0 <= cell[1] < len(lat.ext):
    through = ctc.best_alignment_through(log_probs, targets, cell[0], cell[1], blank)
if through is not None:
    paths_states[t("ctc.trellis.through", t=cell[0] + 1, s=tokens[lat.ext[cell[1]]])] = through.states
st.plotly_chart(ui_ctc.trellis_figure(log_probs, tuple(targets), blank, tokens, quantity,
                                      tuple((name, tuple(s.tolist())) for name, s in paths_states.items())),
                key="ctc.trellis_fig", on_select="rerun", selection_mode="points")
if through is None:
    st.caption(t("ctc.trellis.click"))
else:
    st.markdown(t("ctc.trellis.through_text", t=cell[0] + 1, s=tokens[lat.ext[cell[1]]],
                  gamma=f"{lat.occupancy[cell]:.3g}", p=ctc.prob_text(through.log_prob),
                  share=f"{100 * np.exp(through.log_prob - lat.log_likelihood):.3g}%"))
formula("ctc.f_occupancy")
st.markdown(t("ctc.trellis.check", dev=f"{np.abs(lat.log_likelihood_per_frame() - lat.log_likelihood).max():.1e}",
              col=f"{np.abs(lat.occupancy.sum(axis=1) - 1).max():.1e}", loss=f"{-lat.log_likelihood:.4f}"))
show_source(ctc.forward)
show_source(ctc._alpha_batch)

if src.speech is not None:
    clip, pg, spec = src.speech
    st.subheader(t("ctc.speech.align_header"))
    st.markdown(t("ctc.speech.align_text"))
    rows = sorted(set(targets) | set(np.argmax(log_probs, axis=1).tolist()) | {blank})
    st.plotly_chart(figs.plot_speech(clip.y, clip.sr, spec, log_probs, list(tokens), rows, pg.frame_s,
                                     figs.segments(best.states, lat.ext, blank), ctc.speaking_probability(lat),
                                     (t("ctc.speech.wave_title"), t("ctc.speech.spec_title"),
                                      t("ctc.speech.post_title"))), key="ctc.speech_fig")

# ---- 5. gradient ---------------------------------------------------------------------------------------------
st.header(t("ctc.grad.header"))
formula("ctc.f_grad")
grad_rows = tuple(sorted(set(targets) | {blank})) if C > 12 else None
st.plotly_chart(ui_ctc.gradient_figure(log_probs, tuple(targets), blank, tokens, grad_rows, t("ctc.grad.title")),
                key="ctc.grad_fig")
if st.checkbox(t("ctc.grad.verify"), key="ctc.verify", bind="query-params"):
    chk = ctc.check_with_torch(log_probs, targets, blank)
    st.success(t("ctc.grad.verified", loss=f"{chk.loss_torch:.6f}", ours=f"{chk.loss_ours:.6f}",
                 diff=f"{chk.max_grad_diff:.1e}"))

# ---- 6. decoding ---------------------------------------------------------------------------------------------
st.header(t("ctc.decode.header"))
st.markdown(t("ctc.decode.text"))
beam_width = st.slider(t("ctc.decode.beam_width"), 1, 32, 4, key="ctc.beam", bind="query-params")
dec = ui_ctc.decode(log_probs, beam_width, blank)
sep = " " if src.speech is not None else ""
spell = lambda ids: sep.join(tokens[k] for k in ids) or "∅"  # noqa: E731
c1, c2 = st.columns(2)
c1.metric(t("ctc.decode.greedy"), spell(dec.greedy))
c2.metric(t("ctc.decode.beam"), spell(dec.beam))
st.markdown(t("ctc.decode.agree") if dec.greedy == dec.beam else t("ctc.decode.disagree"))
shown = min(beam_width, 6)
st.dataframe(pd.DataFrame([[f"{spell(p)}  ({np.exp(s):.3g})" for p, s in zip(step.prefixes[:shown],
                                                                              step.log_scores[:shown])]
                           + [""] * (shown - min(shown, len(step.prefixes))) for step in dec.steps],
                          index=[f"t={i + 1}" for i in range(len(dec.steps))],
                          columns=[f"#{j + 1}" for j in range(shown)]),
             height=min(38 + 35 * len(dec.steps), 600))          # every frame's row visible up to ~16 frames
show_source(ctc.beam_search_steps)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("ctc")
