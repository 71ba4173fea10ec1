"""Sequences › RNN, LSTM, GRU: the learner's sentence through one cell step by step (every gate and state), the
bidirectional layer, BPTT's vanishing gradient measured per step, clipping by norm vs by value, and the three cells
trained live side by side on a task that needs memory (engine/sequences/rnn.py, = torch.nn.RNN/LSTM/GRU)."""
import streamlit as st

from engine.common.text import TextError
from engine.sequences import rnn as R
from engine.figures.sequences import rnn as figs
from ui import charts, fmt, formula, labels, show_source, t
from ui import training

K = "rnn"
DEFAULT_SENTENCE = "Hello, RNN! こんにちは"
DEFAULT_NUMBERS = "1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0"


@st.cache_data(max_entries=32, show_spinner=False)
def trace(text: str, kind: str, hidden: int):
    return R.sentence_trace(text, kind, hidden)


@st.cache_data(max_entries=32, show_spinner=False)
def bi_trace(text: str, kind: str, hidden: int):
    return R.sentence_bidirectional(text, kind, hidden)


@st.cache_data(max_entries=32, show_spinner=False)
def number_traces(values: tuple, kind: str, hidden: int) -> tuple[R.Trace, R.BiTrace]:
    return R.numbers_trace(list(values), kind, hidden), R.numbers_bidirectional(list(values), kind, hidden)


@st.cache_data(max_entries=32, show_spinner=False)
def vanishing(T: int, scale: float, forget_bias: float) -> R.Vanishing:
    return R.vanishing(T, recurrent_scale=scale, forget_bias=forget_bias)


def f3(v: float) -> str:
    return f"{v:.3f}"


def shown(ch: str) -> str:
    """A character as markdown shows it literally (a typed `*`, `$` or `_` is not markup)."""
    return "\\" + ch if ch in "\\`*_{}[]()#+-.!|$<>~" else ch


st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
lab = labels(f"{K}.fig")

# ---- the three cells --------------------------------------------------------------------------------------------
st.header(t(f"{K}.cells_header"))
for kind in R.KINDS:
    st.markdown(t(f"{K}.{kind}_text"))
    formula(f"{K}.{kind}_formula")
st.caption(t(f"{K}.weights_note"))

# ---- 1. one cell at a time on the learner's sentence ------------------------------------------------------------
st.header(t(f"{K}.trace_header"))
st.markdown(t(f"{K}.trace_text"))
source = st.radio(t(f"{K}.source"), ("text", "numbers"), format_func=fmt(f"{K}.sources"), horizontal=True,
                  key=f"{K}.source", bind="query-params")
c = st.columns(2)
kind = c[0].radio(t(f"{K}.cell"), R.KINDS, index=1, format_func=fmt(f"{K}.cells"), horizontal=True, key=f"{K}.cell",
                  bind="query-params")
hidden = c[1].slider(t(f"{K}.hidden"), 2, 16, 8, key=f"{K}.hidden", bind="query-params")
chars = bi = None
if source == "text":
    text = st.text_input(t(f"{K}.sentence", n=R.MAX_CHARS), DEFAULT_SENTENCE, max_chars=200, key=f"{K}.sentence",
                         bind="query-params")
    try:
        chars, tr = trace(text, kind, hidden)
        _, bi = bi_trace(text, kind, hidden)
    except R.SentenceError as err:
        st.error(t(f"{K}.errors.{err.code}", **err.params))
else:
    typed = st.text_input(t(f"{K}.numbers", n=R.MAX_CHARS, limit=f"{R.NUMBER_LIMIT:g}"), DEFAULT_NUMBERS,
                          max_chars=10 * R.MAX_CHARS, key=f"{K}.numbers", bind="query-params")
    try:
        values = R.numbers(typed)
        tr, bi = number_traces(tuple(values), kind, hidden)
        chars = [f"{v:g}" for v in values]
    except TextError as err:
        st.error(t(f"{K}.bad_numbers", detail=t(f"common.text.{err.code}", **err.params)))
    st.caption(t(f"{K}.numbers_note"))
if chars is not None:
    T = len(chars)
    step = st.slider(t(f"{K}.step"), 1, T, T, key=f"{K}.step.{T}", bind="query-params") if T > 1 else 1
    st.plotly_chart(figs.plot_trace(chars, tr, step, lab), key=f"{K}.fig.trace")
    now = tr.at_step(step - 1)
    st.markdown(t(f"{K}.step_caption", t=step, ch=shown(chars[step - 1]), hn=f3(now["h_norm"])))
    if kind == "lstm":
        st.markdown(t(f"{K}.step_lstm", f=f3(now["f"]), i=f3(now["i"]), o=f3(now["o"]), cn=f3(now["c_norm"])))
    elif kind == "gru":
        st.markdown(t(f"{K}.step_gru", z=f3(now["z"]), r=f3(now["r"])))
    show_source(R.cell_step)

    st.subheader(t(f"{K}.bi_header"))
    st.markdown(t(f"{K}.bi_text"))
    st.plotly_chart(figs.plot_bidirectional(chars, bi, lab), key=f"{K}.fig.bi")
    show_source(R.bidirectional)

# ---- 2. BPTT --------------------------------------------------------------------------------------------------
st.header(t(f"{K}.bptt_header"))
st.markdown(t(f"{K}.bptt_text"))
formula(f"{K}.bptt_formula")
c = st.columns(3)
T_bptt = c[0].slider(t(f"{K}.seq_len"), 5, 100, 50, key=f"{K}.seq_len", bind="query-params")
scale = c[1].select_slider(t(f"{K}.rec_scale"), (0.5, 1.0, 2.0, 4.0), 1.0, key=f"{K}.rec_scale",
                           bind="query-params")
fb = c[2].select_slider(t(f"{K}.forget_bias"), (0.0, 1.0, 3.0), 0.0, key=f"{K}.forget_bias", bind="query-params")
van = vanishing(T_bptt, float(scale), float(fb))
st.plotly_chart(figs.plot_vanishing(van, lab), key=f"{K}.fig.vanishing")
ratio = {k: f"{van.ratio(k):.2e}" for k in R.KINDS}
st.caption(t(f"{K}.bptt_caption", **ratio))
st.markdown(t(f"{K}.bptt_look"))
show_source(R.bptt)

# ---- 3. clipping ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.clip_header"))
st.markdown(t(f"{K}.clip_text"))
formula(f"{K}.clip_norm_formula")
formula(f"{K}.clip_value_formula")
c = st.columns(3)
g1 = c[0].slider(t(f"{K}.g1"), -5.0, 5.0, 4.0, 0.1, key=f"{K}.g1", bind="query-params")
g2 = c[1].slider(t(f"{K}.g2"), -5.0, 5.0, 1.0, 0.1, key=f"{K}.g2", bind="query-params")
clip_c = c[2].slider(t(f"{K}.clip_c"), 0.1, 3.0, 1.0, 0.1, key=f"{K}.clip_c", bind="query-params")
st.plotly_chart(figs.plot_clipping((g1, g2), clip_c, lab), key=f"{K}.fig.clip")
grads = van.grads["rnn"]
by_norm, by_value = R.clip_by_norm(grads, clip_c), R.clip_by_value(grads, clip_c)
st.dataframe([{t(f"{K}.col_method"): t(f"{K}.none"), t(f"{K}.col_norm"): f3(by_norm.total_norm),
               t(f"{K}.col_cos"): f3(1.0)},
              {t(f"{K}.col_method"): t(f"{K}.by_norm"), t(f"{K}.col_norm"): f3(by_norm.clipped_norm),
               t(f"{K}.col_cos"): f3(by_norm.cosine)},
              {t(f"{K}.col_method"): t(f"{K}.by_value"), t(f"{K}.col_norm"): f3(by_value.clipped_norm),
               t(f"{K}.col_cos"): f3(by_value.cosine)}], hide_index=True, key=f"{K}.clip_table")
st.caption(t(f"{K}.clip_table_caption", n=sum(g.size for g in grads), c=clip_c))
show_source(R.clip_by_norm)

# ---- 4. the three trained live on the memory task ---------------------------------------------------------------
st.header(t(f"{K}.train_header"))
cfg0 = R.MemoryConfig()
st.markdown(t(f"{K}.train_text", k=cfg0.symbols, chance=f"{100 / cfg0.symbols:.1f}"))
c = st.columns(2)
delay = c[0].slider(t(f"{K}.delay"), 2, 60, cfg0.delay, key=f"{K}.delay", bind="query-params")
train_fb = c[1].select_slider(t(f"{K}.train_forget"), (0.0, 1.0, 3.0), cfg0.forget_bias, key=f"{K}.train_forget",
                              bind="query-params")
cfg = R.MemoryConfig(delay=delay, forget_bias=float(train_fb))
cells = labels(f"{K}.cells")


def draw(run: training.Run) -> None:
    charts.live(figs.plot_memory(run.snaps, lab, clip=cfg.clip), key=f"{K}.fig.memory")
    lines = []
    for kind_ in R.KINDS:
        s = run.snaps[kind_]
        reached = t(f"{K}.reached", step=s.reached) if s.reached is not None else ""
        lines.append(t(f"{K}.train_status", cell=cells[kind_], step=s.step, acc=f"{100 * s.metrics['acc']:.1f}",
                       reached=reached))
    st.caption("  \n".join(lines))


run = training.start(K, cfg, lambda c_: {k: R.train_memory(c_, k) for k in R.KINDS})
training.live(run, draw)
show_source(R.train_memory)

st.header(t(f"{K}.explain_header"))
st.markdown(t(f"{K}.explain_text"))
formula(f"{K}.params_formula")
st.caption(t(f"{K}.references"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("rnn")
