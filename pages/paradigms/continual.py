"""Paradigms › Continual learning: split digits learnt task after task; fine-tuning forgets, exact replay and Deep
Generative Replay remember, joint training bounds them; the accuracy matrix fills live."""
import numpy as np
import streamlit as st

from engine.paradigms import continual as cl
from engine.figures.paradigms import continual as figs
from ui import charts
from ui import fmt, formula, labels, show_source, signed, t
from ui import training

st.title(t("continual.title"))
st.markdown(t("continual.intro"))
st.markdown(t("continual.dgr_text"))
formula("continual.dgr_loss")
st.markdown(t("continual.metrics_text"))
formula("continual.acc_bwt")
lab = labels("continual.labels")


def controls_ui() -> cl.Config:
    with st.sidebar:
        st.subheader(t("continual.controls.header"))
        scenario = st.radio(t("continual.controls.scenario"), cl.SCENARIOS, format_func=fmt("continual.scenario"),
                            key="continual.scenario", bind="query-params")
        r = st.select_slider(t("continual.controls.r"), (0.0, 0.25, 0.5, 0.75, 0.9), value=0.5, key="continual.r",
                             bind="query-params")
        gen = st.select_slider(t("continual.controls.gen"), (8, 32, 128, 512), value=128, key="continual.gen",
                               bind="query-params")
        buf = st.select_slider(t("continual.controls.buffer"), (1, 5, 20, 200), value=20, key="continual.buffer",
                               bind="query-params")
        iters = st.slider(t("continual.controls.iters"), 50, 500, 300, 50, key="continual.iters", bind="query-params")
        seed = st.number_input(t("continual.controls.seed"), 0, 999, 0, key="continual.seed", bind="query-params")
    return cl.Config(scenario=scenario, replay_ratio=r, gen_hidden=gen, buffer_per_class=buf, iters=iters,
                     seed=int(seed))


def make(c: cl.Config) -> dict:
    data = cl.split_digits(c.seed)
    return {m: cl.train(m, c, data) for m in cl.METHODS}


def draw(run: training.Run) -> None:
    snaps = run.snaps
    s0 = next(iter(snaps.values()))
    classes = "/".join(map(str, cl.TASKS[s0.task]))
    if run.status == "finished" or s0.rows_done == len(cl.TASKS):      # not "learning …" once training is over
        st.caption(t("continual.done", n=len(cl.TASKS), classes=classes))
    else:
        st.caption(t("continual.now", task=s0.task + 1, classes=classes))
    charts.live(figs.plot_matrices(snaps, labels=lab), key="continual.fig.R")
    cols = st.columns(len(snaps))
    for col, (name, s) in zip(cols, snaps.items()):
        acc, bwt = cl.acc_bwt(s.R, s.task)
        # the delta must start with its sign: Streamlit reads "BWT −…" as a rise (a green ↑ for forgetting)
        col.metric(t(f"continual.labels.{name}"), f"ACC {100 * acc:.1f} %",
                   None if np.isnan(bwt) else signed(100 * bwt, ".1f", " pt"), delta_color="normal",
                   delta_description=None if np.isnan(bwt) else "BWT")
    curves = {m: run.curve(m, "acc") for m in snaps}
    charts.live(figs.plot_acc(curves, run.config.iters, labels=lab), key="continual.fig.acc")
    dgr = snaps["dgr"]
    st.subheader(t("continual.dream.header"))
    if dgr.replayed is None:
        st.caption(t("continual.dream.none"))
    else:
        charts.live(figs.plot_replayed(dgr, labels=lab), key="continual.fig.dream")
        st.caption(t("continual.dream.caption", task=dgr.task + 1, real=dgr.seen_real, replay=dgr.seen_replay))


cfg = controls_ui()
if cfg.replay_ratio == 0:
    st.info(t("continual.r_zero"))
run = training.start("continual", cfg, make)
training.live(run, draw)

st.header(t("continual.explain.header"))
st.markdown(t("continual.explain.text"))
st.header(t("continual.brain.header"))
st.markdown(t("continual.brain.text"))
show_source(cl.train)
show_source(cl.acc_bwt)
show_source(cl.vae_loss)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("continual")
