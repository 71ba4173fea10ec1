"""RL › A2C / A3C: one CartPole rollout with every term of the loss in numbers, then A2C (synchronous) and A3C
(asynchronous workers, simulated deterministically) trained live from the same seed, then the learned policy.

Training runs through the shared run object (ui/training.py): generators from engine/rl/a3c.py, pulled only
inside the page's fragment, so pausing or leaving the page stops the work at once. No thread is started."""

import pandas as pd
import streamlit as st

from engine.rl import a3c
from engine.figures.rl import a3c as figs
from ui import charts
from ui import formula, labels, show_source, t
from ui import training

st.title(t("a3c.title"))
st.markdown(t("a3c.intro"))
with st.expander(t("a3c.notes_header"), expanded=False):
    st.markdown(t("a3c.notes"))
lab = labels("a3c.labels")


def controls_ui() -> a3c.Config:
    """Sidebar: n, k, γ, β, learning rate, seed. Returns the training config."""
    with st.sidebar:
        st.subheader(t("a3c.controls.header"))
        n = st.slider(t("a3c.controls.n"), 1, 16, 8, key="a3c.n", bind="query-params")
        k = st.slider(t("a3c.controls.k"), 1, 32, 8, key="a3c.k", bind="query-params")
        gamma = st.select_slider(t("a3c.controls.gamma"), (0.9, 0.95, 0.97, 0.99, 0.995), value=0.99,
                                 key="a3c.gamma", bind="query-params")
        beta = st.select_slider(t("a3c.controls.beta"), (0.0, 0.001, 0.01, 0.05, 0.1), value=0.01, key="a3c.beta",
                               bind="query-params")
        lr = st.select_slider(t("a3c.controls.lr"), (5e-4, 1e-3, 2e-3, 5e-3, 1e-2), value=5e-3, key="a3c.lr",
                              bind="query-params")
        seed = st.number_input(t("a3c.controls.seed"), 0, 9999, 0, key="a3c.seed", bind="query-params")
    return a3c.Config(n_envs=n, n_steps=k, gamma=gamma, ent_coef=beta, learning_rate=lr, seed=int(seed))


cfg = controls_ui()

# ---------------------------------------------------------------------------------------- 1. one rollout
st.header(t("a3c.rollout_header"))
st.markdown(t("a3c.rollout_text"))
formula("a3c.kstep")
formula("a3c.total_loss")
k_roll = st.slider(t("a3c.rollout_k"), 1, 20, 8, key="a3c.k_roll", bind="query-params")
params0 = a3c.initial_params(cfg)
ro = a3c.one_rollout(params0, k_roll, cfg.gamma, cfg.vf_coef, cfg.ent_coef, seed=cfg.seed)
st.dataframe(pd.DataFrame(a3c.rollout_table(ro)), hide_index=True, width="stretch")
st.markdown(t("a3c.rollout_totals", pl=ro.loss.policy_loss, vl=ro.loss.value_loss, alpha=cfg.vf_coef,
              ent=ro.loss.entropy, beta=cfg.ent_coef, total=ro.loss.total, vlast=ro.last_value))
st.plotly_chart(figs.plot_rollout(ro, labels=lab), key="a3c.fig.rollout")
st.subheader(t("a3c.entropy_header"))
formula("a3c.entropy")
st.markdown(t("a3c.entropy_text", uniform=a3c.entropy_of([0.25] * 4), peaked=a3c.entropy_of([0.85, 0.05, 0.05, 0.05])))
show_source(a3c.loss_and_grads)

# ---------------------------------------------------------------------------------------- 2. train live
st.header(t("a3c.train_header"))
st.markdown(t("a3c.train_text"))
st.plotly_chart(figs.plot_network(cfg.hidden, labels=lab), key="a3c.fig.net")
st.caption(t("a3c.net_caption", n=a3c.n_params(params0)))


def make(c: a3c.Config) -> dict:
    return {"A2C": a3c.train_a2c(c), "A3C": a3c.train_a3c(c)}


def draw(run: training.Run) -> None:
    cols = st.columns(len(run.snaps))
    for col, (name, s) in zip(cols, run.snaps.items()):
        m1, m2, m3 = col.columns(3)
        m1.metric(t("a3c.metric.return", name=name), f"{s.metrics['return']:.1f}")
        m2.metric(t("a3c.metric.updates"), f"{s.updates:,}")
        m3.metric(t("a3c.metric.episodes"), f"{s.episodes:,}")
    curves = {name: {m: run.curve(name, m) for m in ("return", "policy_loss", "value_loss", "entropy")}
              for name in run.snaps}
    charts.live(figs.plot_curves(curves, labels=lab), key="a3c.fig.curves")
    s3 = run.snaps["A3C"]
    charts.live(figs.plot_staleness(s3.staleness_counts, labels=lab), key="a3c.fig.stale")
    st.caption(t("a3c.staleness_caption", mean=s3.metrics.get("staleness", 0.0), n=cfg.n_envs))


run = training.start("a3c", cfg, make, advance="laggard")
training.live(run, draw)
show_source(a3c.train_a3c)

# ---------------------------------------------------------------------------------------- 3. learned policy
st.header(t("a3c.policy_header"))
st.markdown(t("a3c.policy_text"))
which = st.radio(t("a3c.policy_model"), ("A2C", "A3C"), horizontal=True, key="a3c.which", bind="query-params")
st.button(t("a3c.policy_refresh"), key="a3c.refresh")
snap = run.snaps[which]
st.caption(t("a3c.policy_at", step=f"{snap.step:,}"))
charts.panels(figs.plot_policy(a3c.policy_slice(snap.params), labels=lab), key="a3c.fig.policy")
ep = a3c.play_episode(snap.params, seed=cfg.seed)
st.plotly_chart(figs.plot_episode(ep, labels=lab), key="a3c.fig.episode")
st.caption(t("a3c.episode_caption", T=ep.length))

st.header(t("a3c.paper_header"))
st.markdown(t("a3c.paper_text"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("a3c")
