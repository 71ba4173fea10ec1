"""Sequences › Encoder–decoder with attention: one seq2seq task (dates → ISO, or reversing a string) trained live
without attention, with additive (Bahdanau) and with dot-product (Luong) attention; the attention matrix forming on
the reader's own input; teacher forcing vs free running; greedy vs beam search.

Training is engine/sequences/seq2seq.py's `train` generator driven by the shared run object (ui/training.py); the
task is engine/common/seqtasks.py (the Transformer chapter trains on the same one)."""
from dataclasses import replace

import numpy as np
import streamlit as st

from engine.common import seqtasks
from engine.common.text import TextError
from engine.figures.sequences import seq2seq as figs
from engine.sequences import seq2seq as M
from ui import charts, fmt, formula, labels, show_source, t, training

K = "seq2seq"
TF = {"tf1": 1.0, "tf05": 0.5, "tf0": 0.0}


@st.cache_data(max_entries=256, show_spinner=False)
def decode(cfg: M.Seq2SeqConfig, step: int, _state: dict, source: str, width: int) -> M.Translation:
    """Greedy and beam decoding of `source` with the weights at `step` (training is deterministic given cfg, so
    (cfg, step) names the weights)."""
    return M.translate(M.model_from_state(cfg, _state), source, width)


def _task_changed() -> None:
    st.session_state[f"{K}.text"] = seqtasks.get_task(st.session_state[f"{K}.task"]).examples[0]


def source_ui(task: seqtasks.Task) -> str:
    """The reader's source, prepared for the model; on a bad text the reason and the task's own example."""
    text = st.text_input(t(f"{K}.controls.text"), task.examples[0], max_chars=200, key=f"{K}.text",
                         bind="query-params")
    try:
        return task.prepare(text)
    except TextError as err:
        st.warning(t(f"{K}.errors.{err.code}", **err.params) + " " + t(f"{K}.errors.fallback",
                                                                     example=task.examples[0]))
        return task.examples[0]


st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
lab = labels(f"{K}.labels")

# ---- 1. the task ---------------------------------------------------------------------------------------------
st.header(t(f"{K}.task_header"))
st.markdown(t(f"{K}.task_text", n_val=M.Seq2SeqConfig.val_size))
c1, c2, c3 = st.columns(3)
task_name = c1.selectbox(t(f"{K}.controls.task"), tuple(seqtasks.TASKS), format_func=fmt(f"{K}.tasks"),
                         key=f"{K}.task", on_change=_task_changed, bind="query-params")
cell = c2.selectbox(t(f"{K}.controls.cell"), M.CELLS, format_func=fmt(f"{K}.cells"), key=f"{K}.cell",
                    bind="query-params")
hidden = c3.select_slider(t(f"{K}.controls.hidden"), (16, 32, 64, 128), value=64, key=f"{K}.hidden",
                          bind="query-params")
task = seqtasks.get_task(task_name)
examples = task.sample(np.random.default_rng(0), 4)
st.caption(t(f"{K}.examples", pairs="　".join(f"{s} → {y}" for s, y in examples)))
source = source_ui(task)
reference = task.target(source)
st.caption(t(f"{K}.reference", answer=reference) if reference else t(f"{K}.no_reference"))

# ---- 2. three decoders race ----------------------------------------------------------------------------------
st.header(t(f"{K}.race_header"))
st.markdown(t(f"{K}.race_text"))
formula(f"{K}.encoder_formula")
for name in M.ATTENTIONS:
    st.markdown(f"**{lab[name]}**")
    formula(f"{K}.{name}_formula")
formula(f"{K}.softmax_formula")
c1, c2 = st.columns(2)
shown = c1.selectbox(t(f"{K}.controls.shown"), M.ATTENTIONS, index=1, format_func=fmt(f"{K}.labels"),
                     key=f"{K}.shown", bind="query-params")
width = c2.slider(t(f"{K}.controls.width"), 1, 8, 3, key=f"{K}.width", bind="query-params")
base = M.Seq2SeqConfig(task=task_name, cell=cell, hidden=hidden)


def draw_race(run: training.Run) -> None:
    exact = {a: run.curve(a, "exact") for a in M.ATTENTIONS}
    charts.live(figs.plot_curves(exact, {a: run.curve(a, "loss") for a in M.ATTENTIONS}, lab, M.TARGET),
                key=f"{K}.fig.curves")
    lines = []
    for a in M.ATTENTIONS:
        snap = run.snaps[a]
        reached = M.steps_to_target(*exact[a])
        lines.append(t(f"{K}.race_status", model=lab[a], step=snap.step, exact=f"{100 * snap.metrics['exact']:.1f}",
                       seconds=f"{snap.seconds:.1f}",
                       reached=t(f"{K}.reached", step=reached) if reached is not None else t(f"{K}.not_reached")))
    st.caption("  \n".join(lines))
    snap = run.snaps[shown]
    cfg = replace(base, attention=shown)
    tr = decode(cfg, snap.step, snap.state, source, width)
    out = list(M.hypothesis_text(task, tr.greedy)) + (["</s>"] if tr.greedy.finished else [])
    alpha = np.array(tr.greedy.attention) if tr.greedy.attention else None
    charts.live(figs.plot_attention(tr.source_tokens, out, alpha, lab,
                                    t(f"{K}.attention_title", model=lab[shown], step=snap.step)),
                key=f"{K}.fig.attention")
    texts = [M.hypothesis_text(task, h) for h in tr.beams]
    charts.live(figs.plot_beams(texts, [h.score for h in tr.beams], M.hypothesis_text(task, tr.greedy),
                                tr.greedy.score, reference, lab), key=f"{K}.fig.beams")
    best = texts[0] if texts else ""
    st.caption(t(f"{K}.beam_status", greedy=M.hypothesis_text(task, tr.greedy) or "∅", beam=best or "∅",
                 p_greedy=f"{np.exp(tr.greedy.score):.3f}",
                 p_beam=f"{np.exp(tr.beams[0].score):.3f}" if tr.beams else "0"))


run = training.start(K, base, lambda c: {a: M.train(replace(c, attention=a)) for a in M.ATTENTIONS}, name="race",
                     advance="laggard")
training.live(run, draw_race)
st.markdown(t(f"{K}.attention_text"))
st.markdown(t(f"{K}.beam_text"))
formula(f"{K}.beam_formula")

# ---- 3. teacher forcing vs free running ---------------------------------------------------------------------
st.header(t(f"{K}.tf_header"))
st.markdown(t(f"{K}.tf_text"))
formula(f"{K}.tf_formula")
tf_attention = st.selectbox(t(f"{K}.controls.tf_attention"), M.ATTENTIONS, format_func=fmt(f"{K}.labels"),
                            key=f"{K}.tf_attention", bind="query-params")
tf_base = replace(base, attention=tf_attention)


def draw_tf(run: training.Run) -> None:
    charts.live(figs.plot_accuracy_gap({n: run.curve(n, "char") for n in TF}, {n: run.curve(n, "tf_char") for n in TF},
                                       lab), key=f"{K}.fig.tf")
    st.caption("  \n".join(t(f"{K}.tf_status", model=lab[n], step=run.snaps[n].step,
                             free=f"{100 * run.snaps[n].metrics['char']:.1f}",
                             forced=f"{100 * run.snaps[n].metrics['tf_char']:.1f}") for n in TF))


run_tf = training.start(K, tf_base, lambda c: {n: M.train(replace(c, teacher_forcing=p)) for n, p in TF.items()},
                        name="tf", advance="laggard")
training.live(run_tf, draw_tf)
st.markdown(t(f"{K}.tf_after"))

st.header(t(f"{K}.explain_header"))
st.markdown(t(f"{K}.explain_text"))
show_source(M.Seq2Seq.decode_step)
show_source(M.beam_search)
show_source(M.GRUCell)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("seq2seq")
