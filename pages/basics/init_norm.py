"""Basics › Initialisation & normalisation: a deep network's activations and gradients layer by layer for each
initialisation; the axes of Batch/Layer/Instance/GroupNorm on a batch from the learner's image; BatchNorm's running
statistics; the three variants trained live on real digits (engine/basics/init_norm.py)."""
import numpy as np
import streamlit as st

from engine.basics import init_norm as I
from engine.figures.basics import init_norm as figs
from ui import charts, fmt, formula, image_input_ui, labels, show_source, t, training

K = "init_norm"
MODULES = {"batch": "BatchNorm2d", "layer": "LayerNorm", "instance": "InstanceNorm2d", "group": "GroupNorm"}
N_BATCHES = 50                   # batches shown in the running-statistics chart

st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
lab = labels(f"{K}.labels")


@st.cache_data(max_entries=32, show_spinner=False)
def deep(init: str, act: str, depth: int, width: int, sigma: float) -> I.DeepStats:
    return I.deep_stats(init, act, depth, width, sigma)


@st.cache_data(max_entries=16, show_spinner=False)
def batch_of(rgb: np.ndarray) -> np.ndarray:
    return I.feature_batch(rgb)


@st.cache_data(max_entries=16, show_spinner=False)
def pool_of(rgb: np.ndarray) -> np.ndarray:
    return I.pixel_pool(rgb)


def g(v: float) -> str:
    return f"{v:.3g}"


# ---- 1. initialisation ------------------------------------------------------------------------------------
st.header(t(f"{K}.init_header"))
st.markdown(t(f"{K}.init_text"))
formula(f"{K}.xavier")
formula(f"{K}.variance")
st.caption(t(f"{K}.init_formula_note"))
with st.sidebar:
    st.subheader(t(f"{K}.controls.header"))
    init = st.selectbox(t(f"{K}.controls.init"), I.INITS, index=2, format_func=fmt(f"{K}.inits"),
                        key=f"{K}.init", bind="query-params")
    act = st.selectbox(t(f"{K}.controls.act"), I.ACTIVATIONS, index=1, format_func=fmt(f"{K}.acts"),
                       key=f"{K}.act", bind="query-params")
    depth = st.slider(t(f"{K}.controls.depth"), 1, 50, 10, key=f"{K}.depth", bind="query-params")
    width = st.select_slider(t(f"{K}.controls.width"), (25, 50, 100, 200, 256), value=100, key=f"{K}.width",
                             bind="query-params")
    sigma = st.select_slider(t(f"{K}.controls.sigma"), (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 2.0), value=0.01,
                             key=f"{K}.sigma", bind="query-params")
s = deep(init, act, depth, width, sigma)
charts.panels(figs.plot_histograms(s, lab), key=f"{K}.fig.hist")
charts.panels(figs.plot_layer_std(s, lab), key=f"{K}.fig.std")
ratio = s.grad_std[0] / s.grad_std[-1] if s.grad_std[-1] > 0 else float("nan")
st.markdown(t(f"{K}.summary", init=t(f"{K}.inits.{init}"), act=t(f"{K}.acts.{act}"), depth=depth, std=g(s.std_w),
              a0=g(s.act_std[0]), aL=g(s.act_std[-1]), g0=g(s.grad_std[0]), gL=g(s.grad_std[-1]),
              ratio="—" if not np.isfinite(ratio) else g(ratio), flat=f"{s.flat[-1]:.0%}"))
if init == "zero":
    st.info(t(f"{K}.zero_note"))

# ---- 2. normalisation axes --------------------------------------------------------------------------------
st.header(t(f"{K}.norm_header"))
st.markdown(t(f"{K}.norm_text"))
formula(f"{K}.norm")
img = image_input_ui(K)
if img is not None:
    rgb = np.asarray(img)
    c1, c2 = st.columns(2)
    kind = c1.radio(t(f"{K}.norm_kind"), I.NORMS, format_func=fmt(f"{K}.norms"), horizontal=True,
                    key=f"{K}.kind", bind="query-params")
    groups = c2.select_slider(t(f"{K}.groups"), (1, 2, 3, 6), value=2, key=f"{K}.groups", bind="query-params")
    r = I.normalize(batch_of(rgb), kind, groups)
    st.plotly_chart(figs.plot_norm_tensor(r, lab, "x"), key=f"{K}.fig.x")
    st.plotly_chart(figs.plot_norm_tensor(r, lab, "y"), key=f"{K}.fig.y")
    st.markdown(t(f"{K}.norm_counts", kind=t(f"{K}.norms.{kind}"), axes=r.axes, count=len(r.mean), per=r.per_stat,
                  ymean=f"{float(np.abs(r.y_mean).max()):.1e}", ystd=f"{float(r.y_std.mean()):.4f}",
                  module=MODULES[kind]))
    st.caption(t(f"{K}.batch_dep"))

    # ---- 3. BatchNorm's running statistics ------------------------------------------------------------------
    st.header(t(f"{K}.bn_header"))
    st.markdown(t(f"{K}.bn_text"))
    formula(f"{K}.running")
    c1, c2 = st.columns(2)
    momentum = c1.select_slider(t(f"{K}.momentum"), (0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0), value=0.1,
                                key=f"{K}.momentum", bind="query-params")
    bsize = c2.slider(t(f"{K}.bn_batch"), 2, 64, 16, key=f"{K}.bn_batch", bind="query-params")
    rs = I.running_stats(pool_of(rgb), bsize, N_BATCHES, momentum)
    st.plotly_chart(figs.plot_running(rs, lab), key=f"{K}.fig.running")
    st.markdown(t(f"{K}.bn_result", T=N_BATCHES, rm=", ".join(f"{v:.3f}" for v in rs.running_mean[-1]),
                  pm=", ".join(f"{v:.3f}" for v in rs.population_mean),
                  bm=", ".join(f"{v:.3f}" for v in rs.batch_mean[-1])))

# ---- 4. live: with and without normalisation ---------------------------------------------------------------
st.header(t(f"{K}.live_header"))
cfg0 = I.DigitsConfig()
st.markdown(t(f"{K}.live_text", depth=cfg0.depth, width=cfg0.width))
c1, c2, c3 = st.columns(3)
live_act = c1.selectbox(t(f"{K}.live_act"), I.ACTIVATIONS, format_func=fmt(f"{K}.acts"), key=f"{K}.live_act",
                        bind="query-params")
live_init = c2.selectbox(t(f"{K}.live_init"), ("normal", "xavier", "he"), index=1, format_func=fmt(f"{K}.inits"),
                         key=f"{K}.live_init", bind="query-params")
live_lr = c3.select_slider(t(f"{K}.live_lr"), (0.01, 0.03, 0.1, 0.3, 1.0), value=0.1, key=f"{K}.live_lr",
                           bind="query-params")
cfg = I.DigitsConfig(act=live_act, init=live_init, lr=live_lr, sigma=0.01)


def draw(run: training.Run) -> None:
    snap = run.snaps["digits"]
    charts.live(figs.plot_digits(snap, lab), key=f"{K}.fig.digits")
    acc = {v: f"{100 * snap.metrics[f'{v}.acc']:.1f} %" for v in snap.names}
    st.caption(t(f"{K}.live_status", step=snap.step, **acc))


run = training.start(K, cfg, lambda c: {"digits": I.train_digits(c)}, name="digits")
training.live(run, draw)

st.header(t(f"{K}.explain_header"))
st.markdown(t(f"{K}.explain_text"))
show_source(I.deep_stats)
show_source(I.normalize)
show_source(I.running_stats)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself(K)
