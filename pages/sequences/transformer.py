"""Sequences › Transformer: scaled dot-product attention on the learner's sentence step by step, why ÷√d_k, heads,
sinusoidal positions and their shift, padding and causal masks, post- vs pre-LN, parameters and FLOPs, and a tiny
encoder–decoder Transformer trained live on the seq2seq chapter's task (engine/common/seqtasks.py)."""
import pandas as pd
import streamlit as st

from engine.common import seqtasks
from engine.common.text import TextError
from engine.sequences import seq2seq as S2S
from engine.sequences import transformer as X
from engine.figures.sequences import transformer as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training

TARGET = 0.95                  # exact-match share the live training aims at (named on the page)

st.title(t("transformer.title"))
st.markdown(t("transformer.intro"))
lab = labels("transformer.labels")


@st.cache_data(max_entries=64, show_spinner=False)
def steps(tokens, d_k, seed, positions, scale, causal):
    return X.attention_steps(tokens, d_k, seed, positions, scale, causal)


@st.cache_data(max_entries=2, show_spinner=False)
def saturation():
    return X.saturation()


@st.cache_data(max_entries=32, show_spinner=False)
def heads(tokens, n_heads, seed):
    return X.heads(tokens, n_heads, seed)


@st.cache_data(max_entries=64, show_spinner=False)
def masked(tokens, n_pad, padding, causal, seed):
    return X.masked_attention(tokens, n_pad, padding, causal, seed)


@st.cache_data(max_entries=16, show_spinner=False)
def depth(n_layers, seed):
    return X.depth_profile(n_layers, seed=seed)


@st.cache_data(max_entries=4, show_spinner=False)
def rnn_parameters(c):
    return X.n_parameters(S2S.make_model(c))


# ---------------------------------------------------------------------------------------------- the sentence
sentence = st.text_input(t("transformer.input.sentence"), X.DEFAULT_SENTENCE, max_chars=X.MAX_CHARS,
                         key="transformer.sentence", bind="query-params")
try:
    tok = X.tokenize(sentence)
except TextError as err:
    st.warning(t(f"transformer.error.{err.code}"), icon=":material/warning:")
    tok = X.tokenize(X.DEFAULT_SENTENCE)
if tok.truncated:
    st.info(t("transformer.input.truncated", n=X.MAX_TOKENS))
tokens = tok.tokens
st.caption(t("transformer.input.tokens", tokens=" | ".join(tokens), n=len(tokens)))
seed = st.slider(t("transformer.input.seed"), 0, 9, 0, key="transformer.seed", bind="query-params")

# ---------------------------------------------------------------------------------------------- attention
st.header(t("transformer.sdpa.header"))
st.markdown(t("transformer.sdpa.text"))
formula("transformer.sdpa_formula")
c1, c2, c3 = st.columns(3)
d_k = c1.select_slider(t("transformer.sdpa.d_k"), (2, 4, 8, 16, 32, 64), value=8, key="transformer.d_k",
                       bind="query-params")
scale = c2.toggle(t("transformer.sdpa.scale"), value=True, key="transformer.scale", bind="query-params")
positions = c3.toggle(t("transformer.sdpa.positions"), value=True, key="transformer.positions",
                      bind="query-params")
s = steps(tokens, d_k, seed, positions, scale, False)
charts.panels(figs.plot_qkv(s, lab), key="transformer.fig.qkv")
charts.panels(figs.plot_steps(s, lab), key="transformer.fig.steps")
st.markdown(t("transformer.sdpa.readout", mean_top=f"{s.mean_top:.2f}", spread=f"{s.spread:.2f}",
              n=len(tokens)))
show_source(X.scaled_dot_product_attention)

# ---------------------------------------------------------------------------------------------- why √d_k
st.header(t("transformer.sat.header"))
st.markdown(t("transformer.sat.text"))
formula("transformer.var_formula")
sat = saturation()
charts.panels(figs.plot_saturation(sat, lab), key="transformer.fig.sat")
st.markdown(t("transformer.sat.readout", d=int(sat.d_k[-1]), std=f"{sat.score_std[0, -1]:.1f}",
              top=f"{sat.max_weight[0, -1]:.2f}", top_s=f"{sat.max_weight[1, -1]:.2f}",
              grad=f"{sat.grad_norm[0, -1]:.3f}", grad_s=f"{sat.grad_norm[1, -1]:.3f}", n=sat.n_keys))

# ---------------------------------------------------------------------------------------------- heads
st.header(t("transformer.heads.header"))
st.markdown(t("transformer.heads.text"))
formula("transformer.mha_formula")
n_heads = st.select_slider(t("transformer.heads.n"), (1, 2, 4, 8), value=4, key="transformer.n_heads",
                           bind="query-params")
h = heads(tokens, n_heads, seed)
charts.panels(figs.plot_heads(h, lab), key="transformer.fig.heads")
st.caption(t("transformer.heads.readout", h=n_heads, d_k=h.d_k, d=X.D_MODEL,
             params=f"{X.count_parameters(X.D_MODEL, 0, 1, 0, 0).attention:,}"))
show_source(X.MultiheadAttention.forward)

# ---------------------------------------------------------------------------------------------- positions
st.header(t("transformer.pe.header"))
st.markdown(t("transformer.pe.text"))
formula("transformer.pe_formula")
shift = st.slider(t("transformer.pe.shift"), 1, 20, 4, key="transformer.shift", bind="query-params")
charts.panels(figs.plot_positions(48, 64, shift, lab), key="transformer.fig.pe")
st.plotly_chart(figs.plot_pe_curves(48, 64, shift, lab), key="transformer.fig.pe_curves")
formula("transformer.shift_formula")
st.markdown(t("transformer.pe.readout", k=shift, err=f"{X.shift_error(48, 64, shift):.1e}"))

# ---------------------------------------------------------------------------------------------- masks
st.header(t("transformer.mask.header"))
st.markdown(t("transformer.mask.text"))
c1, c2, c3 = st.columns(3)
n_pad = c1.slider(t("transformer.mask.n_pad"), 0, 6, 3, key="transformer.n_pad", bind="query-params")
use_pad = c2.toggle(t("transformer.mask.padding"), value=True, key="transformer.padding", bind="query-params")
use_causal = c3.toggle(t("transformer.mask.causal"), value=False, key="transformer.causal", bind="query-params")
m = masked(tokens, n_pad, use_pad, use_causal, seed)
charts.panels(figs.plot_mask(m, lab), key="transformer.fig.mask")
st.markdown(t("transformer.mask.readout", pad=f"{m.pad_weight:.3f}", future=f"{m.future_weight:.3f}"))
st.markdown(t("transformer.mask.conventions"))
st.markdown(t("transformer.mask.notes"))

# ---------------------------------------------------------------------------------------------- residual + LN
st.header(t("transformer.ln.header"))
st.markdown(t("transformer.ln.text"))
formula("transformer.post_formula")
formula("transformer.pre_formula")
n_layers = st.slider(t("transformer.ln.layers"), 2, 24, 6, key="transformer.layers", bind="query-params")
d = depth(n_layers, seed)
charts.panels(figs.plot_depth(d, lab), key="transformer.fig.depth")
st.markdown(t("transformer.ln.readout", post_last=f"{d.grad_norm[0, -1]:.3f}", post_first=f"{d.grad_norm[0, 0]:.3f}",
              pre_last=f"{d.grad_norm[1, -1]:.3f}", pre_first=f"{d.grad_norm[1, 0]:.3f}",
              rms=f"{d.stream_rms[1, -1]:.2f}", L=n_layers))
show_source(X.EncoderLayer.forward)

# ---------------------------------------------------------------------------------------------- counting
st.header(t("transformer.count.header"))
st.markdown(t("transformer.count.text"))
formula("transformer.count_formula")
cfg0 = X.TrainConfig()
rows = [(lab["row_base"], 512, 2048, 6, 6, 37000), (lab["row_big"], 1024, 4096, 6, 6, 37000),
        (lab["row_tiny"], cfg0.d_model, cfg0.d_ff, cfg0.n_layers, cfg0.n_layers, 0)]
table = []
for name, D, F_, ne, nd, V in rows:
    c = X.count_parameters(D, F_, ne, nd, V)
    f = X.encoder_layer_flops(512, D, F_)
    table.append({lab["col_model"]: name, "D": D, "d_ff": F_, lab["col_layers"]: f"{ne} + {nd}",
                  lab["col_att"]: f"{c.attention:,}", lab["col_enc"]: f"{c.encoder_layer:,}",
                  lab["col_total"]: f"{X.tiny_parameters(cfg0) if V == 0 else c.total:,}",
                  lab["col_flops"]: f"{f.total / 1e9:.2f}"})
st.dataframe(pd.DataFrame(table), hide_index=True)
st.caption(t("transformer.count.caption", base=f"{X.count_parameters(512, 2048, 6, 6, 37000).total / 1e6:.1f}"))
formula("transformer.flops_formula")
st.plotly_chart(figs.plot_flops(512, 2048, lab), key="transformer.fig.flops")
st.markdown(t("transformer.count.crossover", t=f"{X.attention_crossover(512, 2048):,}"))

# ---------------------------------------------------------------------------------------------- training
def _task_changed() -> None:
    st.session_state["transformer.own"] = seqtasks.get_task(st.session_state["transformer.task"]).examples[0]


def own_source(task_name: str) -> str:
    """The reader's own source for the cross-attention, prepared for the model; on a bad text the reason and the
    task's example."""
    example = seqtasks.get_task(task_name).examples[0]
    text = st.text_input(t("transformer.train.own"), example, max_chars=200, key="transformer.own",
                         bind="query-params")
    try:
        return seqtasks.get_task(task_name).prepare(text)
    except TextError as err:
        st.warning(t(f"transformer.error.{err.code}", **err.params) + " " +
                   t("transformer.error.fallback", example=example), icon=":material/warning:")
        return example


@st.cache_data(max_entries=64, show_spinner=False)
def translation(c: X.TrainConfig, step: int, source: str, _state: dict) -> X.Translation:
    """The Transformer at this update on the reader's source ((config, update) names the weights)."""
    return X.translate(X.model_from_state(c, _state), c.task, source)


st.header(t("transformer.train.header"))
st.markdown(t("transformer.train.text", target=int(100 * TARGET), D=X.TrainConfig.d_model,
              h=X.TrainConfig.n_heads, L=X.TrainConfig.n_layers, F=X.TrainConfig.d_ff, n_val=X.TrainConfig.n_val))
c1, c2 = st.columns(2)
task = c1.selectbox(t("transformer.train.task"), ("dates", "reverse"), format_func=fmt("transformer.tasks"),
                    key="transformer.task", bind="query-params", on_change=_task_changed)
norm = c2.selectbox(t("transformer.train.norm"), ("post", "pre"), format_func=fmt("transformer.norms"),
                    key="transformer.norm", bind="query-params")
cfg = X.TrainConfig(task=task, norm_first=norm == "pre")
own = own_source(task)
# the seq2seq chapter's GRU with additive attention, on the same task and held-out set, a snapshot as often
rnn_cfg = S2S.Seq2SeqConfig(task=task, attention="additive", cell="gru", every=cfg.every, val_size=cfg.n_val)


def make(c: dict) -> dict:
    return {"transformer": X.train(c["transformer"]), "rnn": S2S.train(c["rnn"], n_samples=0)}


def draw(run: training.Run) -> None:
    snap = run.snaps["transformer"]
    curves = {}
    for name in ("transformer", "rnn"):
        steps, loss = run.curve(name, "loss")
        curves[name] = (steps, loss, run.curve(name, "exact")[1])
    charts.live(figs.plot_training(curves, lab, TARGET), key="transformer.fig.train")
    tr = translation(cfg, snap.step, own, snap.state)
    charts.live(figs.plot_cross(tr.cross, tr.source, tr.out_tokens,
                                t("transformer.train.cross_title", src=tr.source, out=tr.prediction or "∅",
                                  step=f"{snap.step:,}")),
                key="transformer.fig.cross")
    st.caption(t("transformer.train.status", step=f"{snap.step:,}", exact=f"{100 * snap.exact[-1]:.1f}",
                 seconds=f"{snap.seconds:.1f}", params=f"{snap.n_params:,}", target=int(100 * TARGET)))
    rnn = run.snaps["rnn"]
    st.caption(t("transformer.train.status_rnn", step=f"{rnn.step:,}", exact=f"{100 * rnn.metrics['exact']:.1f}",
                 seconds=f"{rnn.seconds:.1f}", params=f"{rnn_parameters(rnn_cfg):,}"))


run = training.start("transformer", {"transformer": cfg, "rnn": rnn_cfg}, make, advance="laggard")
training.live(run, draw)
st.markdown(t("transformer.train.explain", warmup=cfg.warmup, L=cfg.n_layers))
show_source(X.train)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("transformer")
