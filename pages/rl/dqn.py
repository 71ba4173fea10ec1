"""RL › Q-learning & DQN: a Q-table filling on a grid world the learner edits (against value iteration), then DQN
on CartPole: experience replay, the target network, the ε schedule, the max's over-estimation, and DQN vs Double
DQN trained live through the run object (ui/training.py); no thread is started."""

import numpy as np
import streamlit as st

from engine.rl import dqn
from engine.figures.rl import dqn as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training

st.title(t("dqn.title"))
st.markdown(t("dqn.intro"))
with st.expander(t("dqn.notes_header"), expanded=False):
    st.markdown(t("dqn.notes"))
lab = labels("dqn.labels")

MAX_EPISODES = 300


def controls_ui() -> dqn.Config:
    """Sidebar: learning rate, target period, ε schedule, batch size, γ, seed. Returns the training config."""
    with st.sidebar:
        st.subheader(t("dqn.controls.header"))
        lr = st.select_slider(t("dqn.controls.lr"), (1e-4, 3e-4, 1e-3, 3e-3), value=1e-3, key="dqn.lr",
                              bind="query-params")
        target = st.select_slider(t("dqn.controls.target"), (1, 10, 100, 500, 2000), value=500, key="dqn.target",
                                  bind="query-params")
        fraction = st.select_slider(t("dqn.controls.fraction"), (0.05, 0.1, 0.2, 0.4), value=0.2,
                                    key="dqn.fraction", bind="query-params")
        batch = st.select_slider(t("dqn.controls.batch"), (16, 32, 64, 128), value=64, key="dqn.batch",
                                 bind="query-params")
        gamma = st.select_slider(t("dqn.controls.gamma"), (0.9, 0.95, 0.99), value=0.99, key="dqn.gamma",
                                 bind="query-params")
        seed = st.number_input(t("dqn.controls.seed"), 0, 9999, 0, key="dqn.seed", bind="query-params")
    return dqn.Config(learning_rate=lr, target_update_interval=target, exploration_fraction=fraction,
                      batch_size=batch, gamma=gamma, seed=int(seed))


cfg = controls_ui()


@st.cache_data(max_entries=16, show_spinner=False)
def q_run(text: str, alpha: float, gamma: float, epsilon: float, seed: int) -> tuple:
    grid = dqn.parse_grid(text)
    return grid, dqn.run_q_learning(grid, dqn.QConfig(alpha=alpha, gamma=gamma, epsilon=epsilon,
                                                      episodes=MAX_EPISODES, seed=seed)), \
        dqn.value_iteration(grid, gamma)


# ------------------------------------------------------------------------------------- 1. grid world
st.header(t("dqn.grid_header"))
st.markdown(t("dqn.grid_text"))
formula("dqn.q_update")
c1, c2 = st.columns([1, 2])
with c1:
    text = st.text_area(t("dqn.grid_input"), dqn.DEFAULT_GRID, height=200, max_chars=dqn.MAX_TEXT, key="dqn.grid",
                        bind="query-params")
with c2:
    alpha = st.slider(t("dqn.q_controls.alpha"), 0.05, 1.0, 0.5, 0.05, key="dqn.alpha", bind="query-params")
    q_gamma = st.select_slider(t("dqn.q_controls.gamma"), (0.5, 0.8, 0.9, 0.95, 0.99), value=0.9, key="dqn.q_gamma",
                               bind="query-params")
    epsilon = st.slider(t("dqn.q_controls.epsilon"), 0.0, 1.0, 0.2, 0.05, key="dqn.epsilon", bind="query-params")
    q_seed = st.number_input(t("dqn.q_controls.seed"), 0, 9999, 0, key="dqn.q_seed", bind="query-params")
try:
    dqn.parse_grid(text)
except dqn.GridError as e:
    st.error(t("dqn.grid_error", reason=t(f"dqn.grid_errors.{e.code}")))
    text = dqn.DEFAULT_GRID
grid, qrun, vi = q_run(text, alpha, q_gamma, epsilon, int(q_seed))
n_ep = st.slider(t("dqn.q_episodes_run"), 0, MAX_EPISODES, 50, key="dqn.episodes", bind="query-params")
snap = qrun.snaps[n_ep]
u = snap.last
if u is None:
    st.markdown(t("dqn.q_none"))
else:
    st.markdown(t("dqn.q_update_text", ep=n_ep, s=divmod(u.s, grid.shape[1]), a=dqn.ARROWS[u.a], q_old=u.q_old,
                  alpha=alpha, r=u.r, gamma=q_gamma, q_next=u.q_next_max, q_new=u.q_new,
                  done=t("dqn.q_done") if u.done else ""))
charts.panels(figs.plot_q_tables(grid, [(t("dqn.q_table_learned", n=n_ep), snap.Q),
                                        (t("dqn.q_table_star", it=vi.iterations), vi.Q)],
                                 paths=[snap.path, dqn.greedy_path(grid, vi.Q)], labels=lab), key="dqn.fig.q")
st.caption(t("dqn.q_tables_caption", err=qrun.errors[n_ep]))
st.markdown(t("dqn.vi_text"))
formula("dqn.bellman")
charts.panels(figs.plot_q_error(np.arange(len(qrun.errors)), qrun.errors, qrun.lengths, labels=lab),
              key="dqn.fig.q_error")
st.subheader(t("dqn.egreedy_header"))
formula("dqn.eps_greedy")
q_start = snap.Q[grid.start]
st.markdown(t("dqn.egreedy_text", n=n_ep, q=", ".join(f"{v:.3f}" for v in q_start), eps=epsilon,
              p=", ".join(f"{v:.3f}" for v in dqn.epsilon_greedy_probs(q_start, epsilon))))
show_source(dqn.q_learning)

# ------------------------------------------------------------------------------------- 2. DQN
st.header(t("dqn.dqn_header"))
params0 = dqn.initial_params(cfg)
st.markdown(t("dqn.dqn_text", h=cfg.hidden, n=dqn.n_params(params0)))
formula("dqn.dqn_target")
formula("dqn.huber")
show_source(dqn.loss_and_grads)

st.subheader(t("dqn.replay_header"))
st.markdown(t("dqn.replay_text", cap=cfg.buffer_size, b=cfg.batch_size))


@st.cache_data(max_entries=16, show_spinner=False)
def replay(batch: int, seed: int) -> dqn.ReplayDemo:
    return dqn.replay_demo(2_000, batch, seed)


demo = replay(cfg.batch_size, cfg.seed)
charts.panels(figs.plot_replay(demo, labels=lab), key="dqn.fig.replay")
st.caption(t("dqn.replay_caption", rc=demo.corr_recent, ru=demo.corr_uniform, ec=demo.episodes_recent,
             eu=demo.episodes_uniform, b=cfg.batch_size))

st.subheader(t("dqn.target_header"))
st.markdown(t("dqn.target_text", n=cfg.target_update_interval))

st.subheader(t("dqn.schedule_header"))
st.markdown(t("dqn.schedule_text", e0=cfg.exploration_initial_eps, e1=cfg.exploration_final_eps,
              f=cfg.exploration_fraction, ls=cfg.learning_starts))
formula("dqn.eps_schedule")
st.plotly_chart(figs.plot_schedule(*dqn.epsilon_schedule(cfg), cfg.learning_starts, labels=lab),
                key="dqn.fig.schedule")

st.subheader(t("dqn.overest_header"))
st.markdown(t("dqn.overest_text"))
formula("dqn.max_bias")
formula("dqn.double_target")


@st.cache_data(max_entries=2, show_spinner=False)
def bias() -> dqn.MaxBias:
    return dqn.max_bias([2, 4, 8, 16, 32], sigma=1.0, trials=20_000, seed=0)


st.plotly_chart(figs.plot_max_bias(bias(), labels=lab), key="dqn.fig.bias")
st.caption(t("dqn.overest_caption", trials=20_000))

# ------------------------------------------------------------------------------------- 3. train live
st.header(t("dqn.train_header"))
st.markdown(t("dqn.train_text", b=cfg.batch_size))


MODELS = ("dqn", "double", "no_replay")                 # run names; shown as t("dqn.models.<name>")


def make(c: dqn.Config) -> dict:
    return {"dqn": dqn.train_dqn(c, double=False), "double": dqn.train_dqn(c, double=True),
            "no_replay": dqn.train_dqn(c, double=False, replay=False)}


def draw(run: training.Run) -> None:
    for name, s in run.snaps.items():                        # one row per model: four labels fit a phone too
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t("dqn.metric.return", name=t(f"dqn.models.{name}")), f"{s.metrics['return']:.1f}")
        m2.metric(t("dqn.metric.overestimate"), f"{s.metrics['overestimate']:+.1f}")
        m3.metric(t("dqn.metric.updates"), f"{s.updates:,}")
        m4.metric(t("dqn.metric.episodes"), f"{s.episodes:,}")
    curves = {name: {m: run.curve(name, m) for m in (("return", "loss") if name == "no_replay" else
                                                      ("return", "loss", "q_max", "true_return", "q_ceiling"))}
              for name in run.snaps}
    charts.live(figs.plot_curves(curves, labels=lab), key="dqn.fig.curves")
    s = run.snaps["dqn"]
    st.caption(t("dqn.train_caption", dqn=s.metrics["overestimate"],
                 ddqn=run.snaps["double"].metrics["overestimate"], gamma=cfg.gamma, vmax=1 / (1 - cfg.gamma),
                 copies=s.target_updates, ceiling=s.metrics["q_ceiling"]))


run = training.start("dqn", cfg, make, advance="laggard")
training.live(run, draw)
show_source(dqn.train_dqn)

# ------------------------------------------------------------------------------------- 4. learned Q
st.header(t("dqn.policy_header"))
st.markdown(t("dqn.policy_text"))
which = st.radio(t("dqn.policy_model"), MODELS, horizontal=True, key="dqn.which", bind="query-params",
                 format_func=fmt("dqn.models"))
st.button(t("dqn.policy_refresh"), key="dqn.refresh")
s = run.snaps[which]
st.caption(t("dqn.policy_at", step=f"{s.step:,}", updates=s.updates, targets=s.target_updates))
charts.panels(figs.plot_q_slice(dqn.q_slice(s.params), labels=lab), key="dqn.fig.slice")

st.header(t("dqn.paper_header"))
st.markdown(t("dqn.paper_text"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("dqn")
