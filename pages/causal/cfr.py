"""Causal › Individual treatment effect: why correlation misleads, then S-learner, T-learner, TARNet and CFR trained
live side by side on the same split of IHDP (or a 2-D confounded set). Every number comes from engine/causal/cfr.py."""

import numpy as np
import streamlit as st

from engine.causal import cfr
from engine.figures.causal import cfr as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training

st.title(t("cfr.title"))
st.markdown(t("cfr.intro"))
lab = labels("cfr.labels")


@st.cache_data(max_entries=8, show_spinner=False)
def dataset(name: str, seed: int) -> cfr.Data:
    return cfr.load(name, seed)


@st.cache_data(max_entries=8, show_spinner=False)
def linear_baselines(name: str, seed: int) -> dict:
    """S- and T-learner with ridge regression on the same split: (√PEHE, ε_ATE) on the test split."""
    from sklearn.linear_model import Ridge

    d = dataset(name, seed)
    tr, te = d.train, d.test
    out = {}
    for key, learner in (("s_ridge", cfr.s_learner), ("t_ridge", cfr.t_learner)):
        tau_hat = learner(d.X[tr], d.t[tr], d.y[tr], lambda: Ridge(alpha=1.0))(d.X[te])
        out[key] = (cfr.pehe(tau_hat, d.tau[te]), cfr.ate_error(tau_hat, d.tau[te]))
    return out


# ---- 1. why correlation misleads
st.header(t("cfr.naive.header"))
st.markdown(t("cfr.naive.text"))
formula("cfr.ite")
syn = dataset("synthetic", 0)
nv = cfr.naive_vs_true(syn)
charts.panels(figs.plot_confounding(syn, labels=lab), key="cfr.fig_conf")
st.markdown(t("cfr.naive.numbers", naive=nv.naive, ate=nv.ate, x1t=nv.x1_treated, x1c=nv.x1_control))

# ---- 2. the models, live
st.header(t("cfr.models.header"))
st.markdown(t("cfr.models.text"))
formula("cfr.objective")
formula("cfr.weights")


def controls_ui() -> dict:
    with st.sidebar:
        st.subheader(t("cfr.controls.header"))
        data = st.selectbox(t("cfr.controls.data"), cfr.DATASETS, format_func=fmt("cfr.data"), key="cfr.data",
                            bind="query-params")
        seed = int(st.number_input(t("cfr.controls.seed"), 0, 999, 0, key="cfr.seed", bind="query-params"))
        alpha = st.select_slider(t("cfr.controls.alpha"), (0.01, 0.1, 0.3, 1.0, 3.0, 10.0), value=1.0, key="cfr.alpha",
                                 bind="query-params")
        ipm = st.selectbox(t("cfr.controls.ipm"), cfr.IPMS, format_func=fmt("cfr.ipm"), key="cfr.ipm",
                           bind="query-params")
        normalize = st.checkbox(t("cfr.controls.normalize"), False, key="cfr.normalize",
                                help=t("cfr.controls.normalize_help"), bind="query-params")
    return dict(data=data, seed=seed, alpha=float(alpha), ipm=ipm, normalize=normalize)


p = controls_ui()
d = dataset(p["data"], p["seed"])
st.caption(t("cfr.data_info", n=len(d.t), treated=int(d.t.sum()), dim=d.X.shape[1], train=len(d.train),
             test=len(d.test), ate=float(d.tau.mean())))
cfgs = {m: cfr.Config(model=m, alpha=p["alpha"], ipm=p["ipm"], seed=p["seed"], max_steps=1000, snapshot_every=10,
                      normalize=p["normalize"]) for m in cfr.MODELS}


def make(cfg: dict) -> dict:
    data = dataset(cfg["data"], cfg["seed"])
    return {m: cfr.train(data, c) for m, c in cfg["models"].items()}


def draw(run: training.Run) -> None:
    snaps = run.snaps
    c1, c2 = st.columns(2)
    charts.live(figs.plot_phi(snaps["tarnet"], lab["phi_tarnet"], labels=lab), key="cfr.fig_phi_tarnet", where=c1)
    charts.live(figs.plot_phi(snaps["cfr"], lab["phi_cfr"], labels=lab), key="cfr.fig_phi_cfr", where=c2)
    curves = {m: {k: run.curve(m, k) for k in ("pehe_out", "factual_rmse", "ipm", "ipm_loss")} for m in snaps}
    charts.live(figs.plot_curves(curves, labels=lab, surrogate=p["ipm"] == "wass"), key="cfr.fig_curves")
    rows = [t("cfr.table.head"), "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m, s in snaps.items():
        mt = s.metrics
        ipm_txt = f"{mt['ipm']:.4f}" if "ipm" in mt else "—"
        loss_txt = f"{mt['ipm_loss']:.4f}" if "ipm_loss" in mt and p["ipm"] == "wass" else "—"
        spread_txt = f"{mt['phi_spread']:.3f}" if "phi_spread" in mt else "—"
        rows.append(f"| {lab[m]} | {s.step} | {mt['factual_rmse']:.3f} | {mt['pehe_in']:.3f} | {mt['pehe_out']:.3f} "
                    f"| {mt['ate_out']:.3f} | {ipm_txt} | {loss_txt} | {spread_txt} |")
    st.markdown("\n".join(rows))
    st.caption(t("cfr.table.note_wass" if p["ipm"] == "wass" else "cfr.table.note_mmd"))


run = training.start("cfr", {"data": p["data"], "seed": p["seed"], "models": cfgs}, make)
training.live(run, draw)
base = linear_baselines(p["data"], p["seed"])
st.markdown(t("cfr.models.linear", s_pehe=base["s_ridge"][0], s_ate=base["s_ridge"][1], t_pehe=base["t_ridge"][0],
              t_ate=base["t_ridge"][1]))
st.markdown(t("cfr.models.look"))

# ---- 3. the theory
st.header(t("cfr.theory.header"))
st.markdown(t("cfr.theory.text"))
formula("cfr.pehe")
formula("cfr.bound")
st.markdown(t("cfr.theory.ipm"))
formula("cfr.wass")
formula("cfr.mmd")
st.markdown(t("cfr.theory.paper"))
show_source(cfr.wasserstein_exact)
show_source(cfr.wasserstein)
show_source(cfr.train)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("cfr")
