"""Generative › WGAN vs GAN, live: three models on one 2-D target, trained side by side and streamed.

The training loops are generators (engine/generative/gan2d.py) driven by the shared run object (ui/training.py):
its fragment reruns every 0.5 s while training, pulls snapshots for a bounded time and redraws. No thread is
started: pausing or leaving the page simply stops pulling."""

import numpy as np
import streamlit as st

from engine.common import text as typed
from engine.generative import gan2d
from engine.figures.generative import gan2d as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training

MAX_UPLOAD = 1_000_000   # bytes of CSV

st.title(t("gan2d.title"))
st.markdown(t("gan2d.intro"))
for name in ("gan", "wgan", "gp"):
    st.markdown(t(f"gan2d.{name}_loss_title"))
    formula(f"gan2d.{name}_formula")
st.caption(t("gan2d.loss_note"))
lab = labels("gan2d.labels")


def controls_ui() -> dict:
    """Sidebar: target, learning rates, n_critic, c, λ, seed. Returns plain values."""
    with st.sidebar:
        st.subheader(t("gan2d.controls.header"))
        target = st.selectbox(t("gan2d.controls.target"), gan2d.TARGETS, format_func=fmt("gan2d.target"),
                              key="gan2d.target", bind="query-params")
        lr_opts = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3)
        lr_g = st.select_slider(t("gan2d.controls.lr_g"), lr_opts, value=1e-3, key="gan2d.lr_g", bind="query-params")
        lr_d = st.select_slider(t("gan2d.controls.lr_d"), lr_opts, value=1e-3, key="gan2d.lr_d", bind="query-params")
        n_critic = st.slider(t("gan2d.controls.n_critic"), 1, 10, 5, key="gan2d.n_critic", bind="query-params")
        clip_c = st.select_slider(t("gan2d.controls.clip_c"), (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5),
                                  value=0.05, key="gan2d.clip_c", bind="query-params")
        gp_lambda = st.select_slider(t("gan2d.controls.gp_lambda"), (0.01, 0.1, 0.5, 1.0, 5.0, 10.0), value=0.5,
                                     key="gan2d.gp_lambda", bind="query-params")
        seed = st.number_input(t("gan2d.controls.seed"), 0, 9999, 0, key="gan2d.seed", bind="query-params")
    return dict(target=target, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic, clip_c=clip_c, gp_lambda=gp_lambda,
                seed=int(seed))


def points_ui() -> np.ndarray | None:
    """CSV of x,y rows for the custom target (an example is given); None while nothing usable is there."""
    st.markdown(t("gan2d.custom_text"))
    up = st.file_uploader(t("gan2d.controls.csv", mb=MAX_UPLOAD / 1e6), type=["csv", "txt"], key="gan2d.csv")
    if up is None:
        st.caption(t("gan2d.custom_default"))
        return gan2d.example_points()
    data = up.getvalue()
    if len(data) > MAX_UPLOAD:
        st.error(t("gan2d.csv_too_big", mb=MAX_UPLOAD / 1e6))
        return None
    try:
        return gan2d.parse_points(typed.decode(data))       # UTF-8 with or without BOM, UTF-16, Shift_JIS
    except gan2d.PointsError as err:
        st.error(t("gan2d.csv_error", detail=t(f"gan2d.csv.{err.code}", **err.params)))
        return None


def configs_for(p: dict, points: np.ndarray | None) -> dict[str, gan2d.Config]:
    common = dict(target=p["target"], points=points, lr_g=p["lr_g"], lr_d=p["lr_d"])
    return {"gan": gan2d.default_config("gan", **common),
            "wgan": gan2d.default_config("wgan", n_critic=p["n_critic"], clip_c=p["clip_c"], **common),
            "wgan-gp": gan2d.default_config("wgan-gp", n_critic=p["n_critic"], gp_lambda=p["gp_lambda"], **common)}


def make(cfg: dict) -> dict:
    return {k: gan2d.train(c, cfg["seed"]) for k, c in cfg["models"].items()}


def draw(run: training.Run) -> None:
    """The streamed part: every model and the curves, from the latest snapshots."""
    snaps = run.snaps
    cols = st.columns(3)
    for col, (name, s) in zip(cols, snaps.items()):
        with col:
            charts.live(figs.plot_model(s, labels=lab), key=f"gan2d.fig.{name}")
            m1, m2 = st.columns(2)
            m1.metric(t("gan2d.metric.step"), f"{s.step:,}")
            m2.metric(t("gan2d.metric.modes"), f"{s.modes_covered}/{len(s.centres)}" if len(s.centres) else "—",
                      help=None if len(s.centres) else t("gan2d.no_modes"))
            m1.metric(t("gan2d.metric.w1"), f"{s.w1:.3f}")
            m2.metric(t("gan2d.metric.grad"), f"{s.grad_norm:.2f}")
            speed = s.step / s.seconds if s.seconds > 0 else 0.0
            extra = t("gan2d.clipped", pct=100 * s.clipped) if name == "wgan" else ""
            st.caption(t("gan2d.speed", speed=speed) + extra)
    charts.live(figs.plot_curves(snaps, labels=lab), key="gan2d.fig.curves")
    corr = {k: gan2d.loss_quality_correlation(s) for k, s in snaps.items()}
    shown = {k: "—" if np.isnan(v) else f"{v:+.2f}" for k, v in corr.items()}      # no "+nan" before 3 snapshots
    st.markdown(t("gan2d.tracking", gan=shown["gan"], wgan=shown["wgan"], gp=shown["wgan-gp"]))


p = controls_ui()
points = points_ui() if p["target"] == "custom" else None
if p["target"] == "custom" and points is None:
    st.stop()
run = training.start("gan2d", {"models": configs_for(p, points), "seed": p["seed"]}, make, advance="laggard")
training.live(run, draw)

st.header(t("gan2d.explain_header"))
st.markdown(t("gan2d.explain_text"))
show_source(gan2d.gradient_penalty)
show_source(gan2d.train)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("gan2d")
