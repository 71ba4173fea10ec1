"""Paradigms › MAML: the exact meta-gradient on two parameters, sinusoid few-shot regression meta-trained live
(MAML, FOMAML, Reptile, pretraining), adaptation to the reader's task, the cost of a meta-step, the notes corrected."""
import numpy as np
import streamlit as st

from engine.paradigms import maml
from engine.figures.paradigms import maml as figs
from ui import charts
from ui import fmt, formula, labels, show_source, t
from ui import training, warm

st.title(t("maml.title"))
st.markdown(t("maml.intro"))
formula("maml.inner")
formula("maml.outer")
st.markdown(t("maml.split"))
lab = labels("maml.labels")

# ------------------------------------------------------------------------------------------- 1. two parameters
st.header(t("maml.two.header"))
st.markdown(t("maml.two.text"))
formula("maml.closed_form")


def two_ui() -> dict:
    c1, c2, c3 = st.columns(3)
    kind = c1.radio(t("maml.two.kind"), maml.TASK_KINDS, format_func=fmt("maml.kind"), key="maml.two.kind",
                    bind="query-params")
    n_tasks = c1.slider(t("maml.two.n_tasks"), 1, 8, 3, key="maml.two.n_tasks", bind="query-params")
    alpha = c2.slider(t("maml.two.alpha"), 0.0, 1.5, 0.3, 0.05, key="maml.two.alpha", bind="query-params")
    steps = c2.slider(t("maml.two.steps"), 0, 5, 1, key="maml.two.steps", bind="query-params")
    th1 = c3.slider("θ₁", -3.5, 3.5, 2.5, 0.1, key="maml.two.th1", bind="query-params")
    th2 = c3.slider("θ₂", -3.5, 3.5, -2.0, 0.1, key="maml.two.th2", bind="query-params")
    seed = c1.number_input(t("maml.seed"), 0, 999, 0, key="maml.two.seed", bind="query-params")
    return dict(kind=kind, n_tasks=n_tasks, alpha=alpha, steps=steps, theta=(th1, th2), seed=int(seed))


@st.fragment
def two_section() -> None:
    """Its own fragment: moving θ or α reruns only this section (target ≤ 0.3 s), not the live run below."""
    q = two_ui()
    tasks = maml.make_tasks_2d(q["kind"], q["n_tasks"], np.random.default_rng(q["seed"]))
    mg = maml.meta_gradient_2d(tasks, np.array(q["theta"]), q["alpha"], q["steps"])
    if q["steps"] == 0:
        st.info(t("maml.two.zero_steps"))
    if mg.diverged:
        st.error(t("maml.two.diverged", rho=mg.contraction))
    charts.panels(figs.plot_meta_2d(mg, labels=lab), key="maml.fig.two")
    rows = {t(f"maml.labels.dir_{k}"): -v for k, v in (("maml", mg.maml), ("fomaml", mg.first_order),
                                                       ("hessian", mg.hessian_term), ("fd", mg.fd),
                                                       ("reptile", mg.reptile))}
    st.table({name: [f"{v[0]:+.5f}", f"{v[1]:+.5f}"] for name, v in rows.items()})   # descent directions (θ₁, θ₂)
    st.markdown(t("maml.two.check", err=mg.fd_error))


two_section()
st.markdown(t("maml.two.explain"))

# ------------------------------------------------------------------------------------------- 2. sinusoids
st.header(t("maml.sine.header"))
st.markdown(t("maml.sine.text"))


def sine_ui() -> maml.SineConfig:
    with st.sidebar:
        st.subheader(t("maml.sine.controls"))
        alpha = st.select_slider(t("maml.sine.alpha"), (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
                                 value=0.01, key="maml.sine.alpha", bind="query-params")
        beta = st.select_slider(t("maml.sine.beta"), (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 0.1, 1.0, 10.0), value=1e-3,
                                key="maml.sine.beta", bind="query-params")
        K = st.slider(t("maml.sine.K"), 1, 20, 10, key="maml.sine.K", bind="query-params")
        steps = st.slider(t("maml.sine.steps"), 0, 5, 1, key="maml.sine.steps", bind="query-params")
        seed = st.number_input(t("maml.seed"), 0, 999, 0, key="maml.sine.seed", bind="query-params")
    return maml.SineConfig(alpha=alpha, beta=beta, K=K, inner_steps=steps, seed=int(seed))


def task_ui(K: int) -> dict:
    st.subheader(t("maml.new.header"))
    st.markdown(t("maml.new.text"))
    c1, c2, c3 = st.columns(3)
    amp = c1.slider(t("maml.new.amplitude"), 0.1, 5.0, 2.0, 0.1, key="maml.new.amp", bind="query-params")
    phase = c1.slider(t("maml.new.phase"), 0.0, 3.14, 1.0, 0.02, key="maml.new.phase", bind="query-params")
    steps = c2.slider(t("maml.new.steps"), 1, 10, 10, key="maml.new.steps", bind="query-params")
    mode = c3.radio(t("maml.new.mode"), ("drawn", "own"), format_func=fmt("maml.new.modes"), key="maml.new.mode",
                    bind="query-params")
    xs = None
    if mode == "own":
        text = c3.text_input(t("maml.new.own"), "-4, -2, 0, 1.5, 3", max_chars=400, key="maml.new.xs",
                             bind="query-params")
        try:
            xs = maml.parse_x_list(text)
        except ValueError as err:              # TextError: a code, translated with its numbers
            st.error(t("maml.new.bad_xs", detail=t(f"common.text.{err.code}", **err.params)))
            xs = None
        if xs is not None and len(xs) < K:
            st.warning(t("maml.new.k_too_big", K=K, n=len(xs)))
    return dict(amplitude=amp, phase=phase, steps=steps, xs=xs)


cfg = sine_ui()
if cfg.inner_steps == 0:
    st.info(t("maml.sine.zero_steps"))
if cfg.alpha == 0:
    st.info(t("maml.sine.zero_alpha"))
new = task_ui(cfg.K)


def make(c: maml.SineConfig) -> dict:
    return {m: maml.train_sine(m, c) for m in maml.METHODS}


@st.cache_data(max_entries=32, show_spinner=False)
def adapt(inits: dict, amplitude: float, phase: float, K: int, alpha: float, steps: int, seed: int,
          x_support) -> maml.Adaptation:
    """Adaptation to the reader's task, shared by readers asking the same (at step 0 with the default task, all of
    them): tens of small autograd steps per model, slow when many sessions run at once."""
    return maml.adapt_new_task(inits, amplitude, phase, K, alpha, steps, seed, x_support=x_support)


def draw(run: training.Run) -> None:
    snaps = run.snaps
    for name, s in snaps.items():
        if s.diverged:
            st.error(t("maml.sine.diverged", method=t(f"maml.labels.{name}"), step=s.step))
    curves = {m: run.curve(m, "query_mse") for m in snaps}
    charts.live(figs.plot_meta_curves(curves, labels=lab), key="maml.fig.curves")
    cols = st.columns(len(snaps))
    for col, (name, s) in zip(cols, snaps.items()):
        q_mse = s.metrics.get("query_mse", float("nan"))
        col.metric(t(f"maml.labels.{name}"), f"{q_mse:.3f}", help=t("maml.sine.metric_help"))
    K = len(new["xs"]) if new["xs"] is not None and len(new["xs"]) < run.config.K else run.config.K
    ad = adapt({k: s.params for k, s in snaps.items()}, new["amplitude"], new["phase"], K, run.config.alpha,
               new["steps"], run.config.seed, new["xs"])
    charts.live(figs.plot_adaptation(ad, labels=lab), key="maml.fig.adapt")
    last = {k: v[-1] for k, v in ad.losses.items()}
    best = min((k for k in last if np.isfinite(last[k])), key=last.get, default=None)
    if best is not None:
        st.caption(t("maml.new.best", method=t(f"maml.labels.{best}"), mse=last[best], steps=ad.steps))


run = training.start("maml", cfg, make)
training.live(run, draw)
st.markdown(t("maml.sine.explain"))

# ------------------------------------------------------------------------------------------- 3. cost
st.header(t("maml.cost.header"))
st.markdown(t("maml.cost.text"))


@st.cache_data(max_entries=8, show_spinner=False)
def measure(c: maml.SineConfig, nonce: int) -> maml.Cost:
    return maml.measure_cost([1, 2, 3, 4, 5], c)


nonce = st.session_state.get("maml.cost.nonce", 0)
if st.button(t("maml.cost.again"), key="maml.cost.button"):
    st.session_state["maml.cost.nonce"] = nonce = nonce + 1
cost = warm.wait_for(measure, cfg, nonce, what=t("maml.cost.preparing"), expect_s=1.0)   # timed runs: a moving bar
charts.panels(figs.plot_cost(cost, labels=lab), key="maml.fig.cost")
st.markdown(t("maml.cost.read", ratio=cost.saved_bytes["maml"][-1] / cost.saved_bytes["fomaml"][-1]))

# ------------------------------------------------------------------------------------------- 4. the notes
st.header(t("maml.notes.header"))
st.markdown(t("maml.notes.text"))
r = maml.PAPER_RESULTS
st.markdown(t("maml.notes.table", o5=r["omniglot_5way"], o20=r["omniglot_20way"], mi=r["miniimagenet_5way"]))
show_source(maml.meta_gradient_2d)
show_source(maml.inner_loop)
show_source(maml.meta_step)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("maml")
