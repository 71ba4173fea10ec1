"""Generative › Pix2Pix & CycleGAN: the losses as live terms on toy tasks.

Three training loops (U-Net with skips, without skips, CycleGAN) are generators driven by the shared run object
(ui/training.py), whose fragment reruns every 0.5 s while training is on; pausing or leaving the page stops them."""
import streamlit as st

from engine.generative import pix2pix as pp
from engine.figures.generative import pix2pix as figs
from ui import charts
from ui import fmt, formula, labels, show_source, signed, t
from ui import training

st.title(t("pix2pix.title"))
st.markdown(t("pix2pix.intro"))
lab = labels("pix2pix.labels")


def controls_ui() -> dict:
    with st.sidebar:
        st.subheader(t("pix2pix.controls.p2p_header"))
        task = st.radio(t("pix2pix.controls.task"), pp.TASKS, format_func=fmt("pix2pix.task"), key="pix2pix.task",
                        bind="query-params")
        lambda_l1 = st.select_slider(t("pix2pix.controls.lambda_l1"), (0.0, 1.0, 10.0, 100.0), value=100.0,
                                     key="pix2pix.lambda_l1", bind="query-params")
        st.subheader(t("pix2pix.controls.cycle_header"))
        lambda_cyc = st.select_slider(t("pix2pix.controls.lambda_cyc"), (0.0, 1.0, 5.0, 10.0, 20.0), value=10.0,
                                      key="pix2pix.lambda_cyc", bind="query-params")
        lambda_id = st.select_slider(t("pix2pix.controls.lambda_id"), (0.0, 0.5, 1.0, 5.0), value=0.0,
                                     key="pix2pix.lambda_id", bind="query-params")
        seed = st.number_input(t("pix2pix.controls.seed"), 0, 9999, 0, key="pix2pix.seed", bind="query-params")
    return dict(task=task, lambda_l1=lambda_l1, lambda_cyc=lambda_cyc, lambda_id=lambda_id, seed=int(seed))


@st.cache_data(max_entries=1, show_spinner=False)
def digits():
    from engine.common.digits import sklearn_digits
    return sklearn_digits()[0]


def make(p: dict) -> dict:
    x = digits()
    return {"skip": pp.train_pix2pix(pp.Pix2PixConfig(task=p["task"], skip=True, lambda_l1=p["lambda_l1"]),
                                     p["seed"], x),
            "noskip": pp.train_pix2pix(pp.Pix2PixConfig(task=p["task"], skip=False, lambda_l1=p["lambda_l1"]),
                                       p["seed"], x),
            "cycle": pp.train_cyclegan(pp.CycleConfig(lambda_cyc=p["lambda_cyc"], lambda_id=p["lambda_id"]), p["seed"])}


def draw(run: training.Run) -> None:
    s_on, s_off, s_cyc = run.snaps["skip"], run.snaps["noskip"], run.snaps["cycle"]
    st.header(t("pix2pix.p2p_header"))
    st.markdown(t("pix2pix.p2p_text"))
    formula("pix2pix.p2p_formula")
    charts.live(figs.plot_pix2pix(s_on, s_off, labels=lab), key="pix2pix.fig_p2p")
    c1, c2, c3 = st.columns(3)
    c1.metric(t("pix2pix.metric.step"), f"{s_on.step:,}")
    c2.metric(t("pix2pix.metric.l1_on"), f"{s_on.hist_test_l1[-1]:.3f}")
    c3.metric(t("pix2pix.metric.l1_off"), f"{s_off.hist_test_l1[-1]:.3f}",
              delta=signed(s_off.hist_test_l1[-1] - s_on.hist_test_l1[-1], ".3f"), delta_color="inverse")
    charts.live(figs.plot_pix2pix_curves(s_on, s_off, labels=lab), key="pix2pix.fig_p2p_curves")

    st.header(t("pix2pix.cycle_header"))
    st.markdown(t("pix2pix.cycle_text"))
    formula("pix2pix.adv_formula")
    formula("pix2pix.cyc_formula")
    formula("pix2pix.id_formula")
    charts.live(figs.plot_cycle(s_cyc, labels=lab), key="pix2pix.fig_cycle")
    d1, d2, d3 = st.columns(3)
    d1.metric(t("pix2pix.metric.step"), f"{s_cyc.step:,}")
    d2.metric(t("pix2pix.metric.cycle_error"), f"{s_cyc.cycle_error:.3f}")
    d3.metric(t("pix2pix.metric.clusters"), f"{s_cyc.clusters_hit}/3")
    if len(s_cyc.hist_step):
        charts.live(figs.plot_cycle_curves(s_cyc, labels=lab), key="pix2pix.fig_cycle_curves")


p = controls_ui()
st.markdown(t("pix2pix.buttons_text"))
run = training.start("pix2pix", p, make)
training.live(run, draw)

st.markdown(t("pix2pix.try_text"))
show_source(pp.UNet)
show_source(pp.pix2pix_losses)
show_source(pp.cycle_losses)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("pix2pix")
