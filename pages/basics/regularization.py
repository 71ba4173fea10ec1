"""Basics › Regularisation: over-fitting live with five remedies side by side (early stopping marked), L1 vs L2 as
the corner and the circle, dropout's masks and scaling (engine/basics/regularization.py)."""
import numpy as np
import streamlit as st

from engine.basics import regularization as R
from engine.figures.basics import regularization as figs
from ui import charts, formula, labels, show_source, t, training

K = "regularization"
st.title(t(f"{K}.title"))
st.markdown(t(f"{K}.intro"))
lab = labels(f"{K}.labels")


@st.cache_data(max_entries=32, show_spinner=False)
def geometry(w1: float, w2: float, ratio: float, angle: int, lam: float) -> R.Penalized2D:
    return R.penalized_2d((w1, w2), ratio, angle, lam)


@st.cache_data(max_entries=16, show_spinner=False)
def dropout_demo(p: float, steps: int) -> R.DropoutDemo:
    return R.dropout_masks(R.digit_activations(), p, steps)


# ---- 1. over-fitting, live ---------------------------------------------------------------------------------
st.header(t(f"{K}.overfit_header"))
formula(f"{K}.penalties")
c = st.columns(5)
n_train = c[0].select_slider(t(f"{K}.n_train"), (100, 200, 500, 1000), value=200, key=f"{K}.n_train",
                             bind="query-params")
wd = c[1].select_slider(t(f"{K}.l2"), (1e-4, 1e-3, 1e-2, 1e-1), value=1e-3, key=f"{K}.l2", bind="query-params")
l1 = c[2].select_slider(t(f"{K}.l1"), (1e-5, 1e-4, 1e-3), value=1e-4, key=f"{K}.l1", bind="query-params")
p = c[3].select_slider(t(f"{K}.p"), (0.1, 0.2, 0.3, 0.5, 0.7, 0.8), value=0.5, key=f"{K}.p", bind="query-params")
shift = c[4].slider(t(f"{K}.shift"), 1, 3, 2, key=f"{K}.shift", bind="query-params")
cfg = R.OverfitConfig(n_train=n_train, weight_decay=wd, l1=l1, p=p, shift=shift)
st.markdown(t(f"{K}.overfit_text", hidden=cfg.hidden, n=n_train, shift=shift))


def draw(run: training.Run) -> None:
    snap = run.snaps["overfit"]
    charts.live(figs.plot_overfit(snap, lab), key=f"{K}.fig.overfit")
    accs = " · ".join(f"{lab[f'v_{v}']} {100 * snap.val_acc[k, -1]:.1f} % ({100 * snap.best_acc[k]:.1f} %)"
                      for k, v in enumerate(snap.names))
    st.caption(t(f"{K}.overfit_status", step=snap.step, accs=accs))
    st.markdown(t(f"{K}.weights_text"))
    charts.live(figs.plot_weights(snap, lab), key=f"{K}.fig.weights")


run = training.start(K, cfg, lambda c_: {"overfit": R.train_overfit(c_)}, name="overfit")
training.live(run, draw)

# ---- 2. L1 vs L2 -----------------------------------------------------------------------------------------------
st.header(t(f"{K}.geom_header"))
st.markdown(t(f"{K}.geom_text"))
formula(f"{K}.solutions")
c = st.columns(5)
w1 = c[0].slider(t(f"{K}.w1"), -2.5, 2.5, 1.5, 0.1, key=f"{K}.w1", bind="query-params")
w2 = c[1].slider(t(f"{K}.w2"), -2.5, 2.5, 0.6, 0.1, key=f"{K}.w2", bind="query-params")
ratio = c[2].select_slider(t(f"{K}.ratio"), (1.0, 2.0, 4.0, 10.0, 25.0), value=4.0, key=f"{K}.ratio",
                           bind="query-params")
angle = c[3].slider(t(f"{K}.angle"), -90, 90, 30, 5, key=f"{K}.angle", bind="query-params")
lam = c[4].slider(t(f"{K}.lam"), 0.0, 5.0, 1.0, 0.1, key=f"{K}.lam", bind="query-params")
geo = geometry(w1, w2, ratio, angle, lam)
left, right = st.columns([1, 1])
with left:
    st.plotly_chart(figs.plot_geometry(geo, lab), key=f"{K}.fig.geometry")
with right:
    charts.panels(figs.plot_paths(geo, lab), key=f"{K}.fig.paths")
    st.markdown(t(f"{K}.geom_result", lam=f"{lam:g}", a1=f"{geo.w_l1[0]:.3f}", a2=f"{geo.w_l1[1]:.3f}",
                  b1=f"{geo.w_l2[0]:.3f}", b2=f"{geo.w_l2[1]:.3f}", s1=f"{w1:g}", s2=f"{w2:g}",
                  zero=f"{geo.zero_at:.2f}" if np.isfinite(geo.zero_at) else t(f"{K}.geom_never")))
formula(f"{K}.decay")

# ---- 3. dropout ----------------------------------------------------------------------------------------------
st.header(t(f"{K}.dropout_header"))
st.markdown(t(f"{K}.dropout_text"))
formula(f"{K}.dropout")
c = st.columns(2)
dp = c[0].select_slider(t(f"{K}.dropout_p"), (0.1, 0.2, 0.3, 0.5, 0.7, 0.9), value=0.5, key=f"{K}.dropout_p",
                        bind="query-params")
steps = c[1].select_slider(t(f"{K}.dropout_steps"), (10, 100, 1000, 10000), value=1000, key=f"{K}.dropout_steps",
                           bind="query-params")
demo = dropout_demo(dp, steps)
charts.panels(figs.plot_dropout(demo, lab, shown=min(8, steps)), key=f"{K}.fig.dropout")
st.markdown(t(f"{K}.dropout_result", kept=f"{demo.kept_mean:.3f}", keep=f"{1 - dp:g}", T=steps,
              err=f"{demo.max_error:.3f}"))

st.header(t(f"{K}.explain_header"))
st.markdown(t(f"{K}.explain_text"))
show_source(R.l1_solution)
show_source(R.inverted_dropout)
show_source(R.train_overfit)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself(K)
