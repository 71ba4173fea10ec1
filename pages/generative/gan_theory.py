"""Generative › GAN & the optimal discriminator: D*, V(D*, G) = 2 JS − 2 log 2, and JS vs W1 under a shift."""
import numpy as np
import streamlit as st

from engine.generative import gan_theory as gt
from engine.figures.generative import gan_theory as figs
from ui import charts
from ui import formula, labels, show_source, t

SWEEP_GRID = np.linspace(-6.0, 6.0, 1201)   # 0.01 steps: every integral is an exact sum over this grid

st.title(t("gan_theory.title"))
st.markdown(t("gan_theory.intro"))
formula("gan_theory.minimax_formula")
st.markdown(t("gan_theory.bce_text"))
formula("gan_theory.bce_formula")
lab = labels("gan_theory.labels")


def densities_ui() -> dict:
    """p_data: a two-component mixture; p_g: one Gaussian. Returns plain values."""
    with st.sidebar:
        st.subheader(t("gan_theory.controls.data_header"))
        mu1 = st.slider(t("gan_theory.controls.mu1"), -4.0, 4.0, -1.5, 0.1, key="gan_theory.mu1", bind="query-params")
        mu2 = st.slider(t("gan_theory.controls.mu2"), -4.0, 4.0, 1.5, 0.1, key="gan_theory.mu2", bind="query-params")
        sd = st.slider(t("gan_theory.controls.sd_data"), 0.1, 2.0, 0.5, 0.05, key="gan_theory.sd_data",
                       bind="query-params")
        w1 = st.slider(t("gan_theory.controls.weight"), 0.0, 1.0, 0.5, 0.05, key="gan_theory.weight",
                       bind="query-params")
        st.subheader(t("gan_theory.controls.gen_header"))
        match = st.toggle(t("gan_theory.controls.match"), value=False, key="gan_theory.match", bind="query-params")
        mu_g = st.slider(t("gan_theory.controls.mu_g"), -4.0, 4.0, 0.5, 0.1, key="gan_theory.mu_g", bind="query-params",
                         disabled=match)
        sd_g = st.slider(t("gan_theory.controls.sd_g"), 0.1, 2.0, 1.0, 0.05, key="gan_theory.sd_g", bind="query-params",
                         disabled=match)
    return dict(mu1=mu1, mu2=mu2, sd=sd, w1=w1, match=match, mu_g=mu_g, sd_g=sd_g)


value_path = st.cache_data(max_entries=64, show_spinner=False)(gt.value_path)

p = densities_ui()
grid = gt.grid_for([p["mu1"], p["mu2"], p["mu_g"]], [p["sd"], p["sd"], p["sd_g"]])   # holds every density's mass
p_data = gt.mixture_pdf(grid, [p["mu1"], p["mu2"]], [p["sd"], p["sd"]], [p["w1"], 1 - p["w1"]])
p_g = p_data.copy() if p["match"] else gt.mixture_pdf(grid, [p["mu_g"]], [p["sd_g"]])
opt = gt.optimum(grid, p_data, p_g)

# ---- 1. the optimal discriminator --------------------------------------------------------------------------
st.header(t("gan_theory.dstar_header"))
st.markdown(t("gan_theory.dstar_text"))
formula("gan_theory.dstar_formula")
st.plotly_chart(figs.plot_densities(opt, labels=lab), key="gan_theory.fig_densities")
show_source(gt.optimal_discriminator)

# ---- 2. the value at D* ------------------------------------------------------------------------------------
st.header(t("gan_theory.value_header"))
st.markdown(t("gan_theory.value_text"))
formula("gan_theory.value_formula")
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("gan_theory.metric.value"), f"{opt.value:.4f}")
c2.metric(t("gan_theory.metric.identity"), f"{2 * opt.js - 2 * gt.LOG2:.4f}")
c3.metric(t("gan_theory.metric.js"), f"{opt.js:.4f}")
c4.metric(t("gan_theory.metric.floor"), f"{-2 * gt.LOG2:.4f}")
if opt.js < 1e-9:
    st.success(t("gan_theory.reached"))
alpha, vals = value_path(grid, p_data, p_g)
st.plotly_chart(figs.plot_value_path(alpha, vals, current=opt.value, labels=lab), key="gan_theory.fig_path")
st.caption(t("gan_theory.path_caption"))
show_source(gt.value)
show_source(gt.js_divergence)

# ---- 3. JS vs W1 -------------------------------------------------------------------------------------------
st.header(t("gan_theory.wgan_header"))
st.markdown(t("gan_theory.wgan_text"))
formula("gan_theory.em_formula")
formula("gan_theory.kr_formula")
width = st.slider(t("gan_theory.controls.width"), 0.0, 1.0, 0.0, 0.05, key="gan_theory.width", bind="query-params")
theta_max = st.slider(t("gan_theory.controls.theta_max"), 0.5, 3.0, 2.0, 0.5, key="gan_theory.theta_max",
                      bind="query-params")
p0 = gt.uniform_pdf(SWEEP_GRID, -width / 2, width)
sweep = gt.shift_sweep(SWEEP_GRID, p0, np.round(np.arange(-theta_max, theta_max + 1e-9, 0.05), 2))  # grid steps
charts.panels(figs.plot_shift_sweep(sweep, labels=lab), key="gan_theory.fig_sweep")
flat = gt.plateau(sweep, width)
st.markdown(t("gan_theory.sweep_result", js=flat.js_gap, grad=flat.js_slope))
st.markdown(t("gan_theory.clip_text"))
formula("gan_theory.clip_formula")
show_source(gt.wasserstein1)
show_source(gt.shift_sweep)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("gan_theory")
