"""Basics › Optimisers: seven update rules racing on a 2-D surface, live, then training a small MLP on real digits.

The race and the training are engine generators (engine/basics/optimizers.py) driven by the shared run object
(ui/training.py); every update rule is engine/common/optim.py's (= torch.optim, tested step by step)."""

import streamlit as st

from engine.basics import optimizers as O
from engine.common import optim
from engine.figures.basics import optimizers as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training

st.title(t("optimizers.title"))
st.markdown(t("optimizers.intro"))
for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"):
    st.markdown(t(f"optimizers.rule.{name}"))
    formula(f"optimizers.{name}_formula")
st.caption(t("optimizers.rule_note"))
lab = labels("optimizers.labels")


def hyper_ui() -> dict:
    """Sidebar: η, μ, ρ, β₁, β₂, ε, λ and the schedule, shared by the race and the digits network."""
    with st.sidebar:
        st.subheader(t("optimizers.controls.header"))
        lr_scale = st.select_slider(t("optimizers.controls.lr_scale"), (0.1, 0.3, 1.0, 3.0, 10.0), value=1.0,
                                    key="optimizers.lr_scale", bind="query-params")
        momentum = st.slider(t("optimizers.controls.momentum"), 0.0, 0.99, 0.9, 0.01, key="optimizers.momentum",
                             bind="query-params")
        rho = st.slider(t("optimizers.controls.rho"), 0.5, 0.999, 0.9, 0.001, key="optimizers.rho",
                        bind="query-params")
        beta1 = st.slider(t("optimizers.controls.beta1"), 0.0, 0.99, 0.9, 0.01, key="optimizers.beta1",
                          bind="query-params")
        beta2 = st.select_slider(t("optimizers.controls.beta2"), (0.9, 0.99, 0.999, 0.9999), value=0.999,
                                 key="optimizers.beta2", bind="query-params")
        eps = st.select_slider(t("optimizers.controls.eps"), (1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1), value=1e-8,
                               key="optimizers.eps", bind="query-params")
        wd = st.select_slider(t("optimizers.controls.wd"), (0.0, 0.001, 0.01, 0.1, 0.5), value=0.01,
                              key="optimizers.wd", bind="query-params")
        schedule = st.selectbox(t("optimizers.controls.schedule"), O.SCHEDULES, format_func=fmt("optimizers.sched"),
                                key="optimizers.schedule", bind="query-params")
    return dict(lr_scale=lr_scale, momentum=momentum, rho=rho, beta1=beta1, beta2=beta2, eps=eps,
                weight_decay=wd, schedule=schedule)


def _surface_changed() -> None:
    """A new surface starts from its own default point (the learner moves it from there)."""
    s = O.SURFACE[st.session_state["optimizers.surface"]]
    st.session_state["optimizers.x0"], st.session_state["optimizers.y0"] = float(s.start[0]), float(s.start[1])


def race_ui(h: dict) -> O.RaceConfig:
    surface = st.selectbox(t("optimizers.controls.surface"), O.SURFACES, format_func=fmt("optimizers.surface"),
                           key="optimizers.surface", bind="query-params", on_change=_surface_changed)
    s = O.SURFACE[surface]
    c1, c2 = st.columns(2)
    x0 = c1.number_input(t("optimizers.controls.x0"), -10.0, 10.0, float(s.start[0]), 0.1, key="optimizers.x0",
                         bind="query-params")
    y0 = c2.number_input(t("optimizers.controls.y0"), -10.0, 10.0, float(s.start[1]), 0.1, key="optimizers.y0",
                         bind="query-params")
    lr = s.lr * h["lr_scale"]
    st.caption(t("optimizers.lr_used", lr=f"{lr:.3g}"))
    return O.RaceConfig(surface=surface, x0=float(x0), y0=float(y0), lr=lr, momentum=h["momentum"], rho=h["rho"],
                        beta1=h["beta1"], beta2=h["beta2"], eps=h["eps"], weight_decay=h["weight_decay"],
                        schedule=h["schedule"], steps=1000, every=25)


def draw_race(run: training.Run) -> None:
    snap = run.snaps["race"]
    charts.live(figs.plot_race(snap, lab), key="optimizers.fig.race")
    charts.live(figs.plot_curves(snap, lab), key="optimizers.fig.curves")
    speed = snap.step / snap.seconds if snap.seconds > 0 else 0.0
    st.caption(t("optimizers.race_status", step=snap.step, speed=f"{speed:,.0f}",
                 diverged=", ".join(lab[n] for n, d in zip(snap.names, snap.diverged) if d) or "—"))


def draw_digits(run: training.Run) -> None:
    snap = run.snaps["digits"]
    charts.live(figs.plot_digits(snap, lab), key="optimizers.fig.digits")
    best = max(snap.names, key=lambda n: snap.metrics[f"{n}.acc"])
    st.caption(t("optimizers.digits_status", step=snap.step, best=lab[best],
                 acc=f"{100 * snap.metrics[f'{best}.acc']:.1f}"))


h = hyper_ui()
st.header(t("optimizers.race_header"))
st.markdown(t("optimizers.race_text"))
race_cfg = race_ui(h)
run = training.start("optimizers", race_cfg, lambda c: {"race": O.race(c)}, name="race")
training.live(run, draw_race)

st.header(t("optimizers.sched_header"))
st.markdown(t("optimizers.sched_text"))
st.plotly_chart(figs.plot_schedules(1.0, 1000, lab), key="optimizers.fig.schedules")

st.header(t("optimizers.digits_header"))
st.markdown(t("optimizers.digits_text"))
digits_lr = st.select_slider(t("optimizers.controls.digits_lr"), (0.001, 0.003, 0.01, 0.03, 0.1), value=0.01,
                             key="optimizers.digits_lr", bind="query-params")
digits_cfg = O.DigitsConfig(lr=digits_lr, momentum=h["momentum"], rho=h["rho"], beta1=h["beta1"], beta2=h["beta2"],
                            eps=h["eps"], weight_decay=h["weight_decay"], schedule=h["schedule"])
run_d = training.start("optimizers", digits_cfg, lambda c: {"digits": O.train_digits(c)}, name="digits")
training.live(run_d, draw_digits)

st.header(t("optimizers.explain_header"))
st.markdown(t("optimizers.explain_text"))
show_source(optim.NumpyAdam)
show_source(O.race)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("optimizers")
