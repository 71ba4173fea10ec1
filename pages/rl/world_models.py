"""RL › World Models: V (a VAE on CartPole frames drawn by the project), M (an MDN-RNN that dreams the next
latent), C (a linear controller found by CMA-ES) trained live in the dream and in the real environment.

V and M come pretrained from assets/world_models/vm.pt (scripts/world_models/train_vm.py); the page retrains a
small V live and trains C live through the shared run object (ui/training.py): nothing runs in the background."""

import numpy as np
import streamlit as st

from engine.rl import world_models as wm
from engine.figures.rl import world_models as figs
from ui import charts
from ui import formula, labels, show_source, t
from ui import training

st.title(t("world_models.title"))
st.markdown(t("world_models.intro"))
lab = labels("world_models.labels")


@st.cache_resource
def world_model() -> wm.WorldModel:
    """Pretrained V and M, loaded once per process, used read-only (eval mode, no_grad)."""
    return wm.load_pretrained()


@st.cache_data(max_entries=8)
def reconstructions(seed: int) -> wm.Reconstructions:
    return wm.reconstruct(world_model(), seed)


@st.cache_data(max_entries=16)
def dream(tau: float, seed: int) -> wm.Dream:
    return wm.dream_vs_real(world_model(), tau, seed)


def controls_ui() -> tuple[float, int]:
    with st.sidebar:
        st.subheader(t("world_models.controls.header"))
        tau = st.select_slider(t("world_models.controls.tau"), (0.1, 0.5, 0.75, 1.0, 1.15, 1.5, 2.0), value=1.0,
                               key="world_models.tau", bind="query-params")
        seed = st.number_input(t("world_models.controls.seed"), 0, 9999, 0, key="world_models.seed",
                               bind="query-params")
    return float(tau), int(seed)


model = world_model()
tau, seed = controls_ui()
meta = model.meta

# ------------------------------------------------------------------------------------------------ V
st.header(t("world_models.v_header"))
st.markdown(t("world_models.v_text", z=meta["z_dim"], frames=f"{meta['frames']:,}", steps=meta["vae_steps"]))
formula("world_models.elbo")
rec = reconstructions(seed)
st.plotly_chart(figs.plot_frame_rows({"frame": rec.frames, "recon": rec.recons}, labels=lab),
                key="world_models.fig.recon")
st.subheader(t("world_models.sliders_header"))
st.markdown(t("world_models.sliders_text"))
c_sl, c_sl2, c_img = st.columns([1, 1, 1])          # the sliders in two columns beside the frame, not one tall one
half = (meta["z_dim"] + 1) // 2
offsets = np.array([(c_sl if j < half else c_sl2).slider(f"z[{j}]", -3.0, 3.0, 0.0, 0.25, key=f"world_models.z{j}",
                                                         bind="query-params")
                    for j in range(meta["z_dim"])])
z = rec.mu[0] + offsets
with c_img:
    st.plotly_chart(figs.plot_image(wm.decode_latent(model, z)[0], t("world_models.decoded")),
                    key="world_models.fig.decoded")

with st.expander(t("world_models.retrain_header")):
    st.markdown(t("world_models.retrain_text"))
    vcfg = wm.VAEConfig(seed=seed)

    def make_vae(c: wm.VAEConfig) -> dict:
        return {"V": wm.train_vae(c)}

    def draw_vae(run: training.Run) -> None:
        s = run.snaps["V"]
        charts.live(figs.plot_frame_rows({"frame": s.frames, "recon": s.recons}, labels=lab),
                    key="world_models.fig.vae_live")
        x, r = run.curve("V", "reconstruction")
        _, k = run.curve("V", "kl")
        charts.live(figs.plot_vae_curves(x, r, k, labels=lab), key="world_models.fig.vae_curves")

    vrun = training.start("world_models", vcfg, make_vae, name="vae")
    training.live(vrun, draw_vae)

# ------------------------------------------------------------------------------------------------ M
st.header(t("world_models.m_header"))
st.markdown(t("world_models.m_text", hidden=meta["hidden"], K=meta["K"]))
formula("world_models.mdn")
formula("world_models.tau")
d = dream(tau, seed)
st.plotly_chart(figs.plot_dream(d, labels=lab), key="world_models.fig.dream")
charts.panels(figs.plot_latents(d, labels=lab), key="world_models.fig.latents")
st.caption(t("world_models.dream_caption", tau=tau))
show_source(wm.sample_mdn)

# ------------------------------------------------------------------------------------------------ C
st.header(t("world_models.c_header"))
st.markdown(t("world_models.c_text", d_full=wm.n_controller_params(meta["z_dim"], meta["hidden"], True),
              d_z=wm.n_controller_params(meta["z_dim"], meta["hidden"], False)))
formula("world_models.controller")
ccfg = {m: wm.CConfig(mode=m, tau=tau, seed=seed) for m in ("dream", "real", "z_only")}


def make(cfgs: dict) -> dict:
    return {m: wm.train_controller(c, model) for m, c in cfgs.items()}


def draw(run: training.Run) -> None:
    cols = st.columns(3)
    for col, (name, s) in zip(cols, run.snaps.items()):
        last = run.history.get(name) or [(0, {"generation": 0.0, "best": 0.0, "real_return": 0.0})]
        m = last[-1][1]
        col.metric(t(f"world_models.metric.{name}"), f"{m['real_return']:.1f}",
                   help=t("world_models.metric.help"))
        col.caption(t("world_models.metric.caption", g=int(m["generation"]), best=m["best"]))
    curves = {}
    for name in run.snaps:
        g = run.curve(name, "generation")[1]
        curves[name] = {k: (g, run.curve(name, k)[1]) for k in ("best", "real_return")}
    charts.live(figs.plot_controller_curves(curves, labels=lab), key="world_models.fig.c")


run = training.start("world_models", ccfg, make, advance="laggard")
training.live(run, draw)
st.markdown(t("world_models.c_after"))
show_source(wm.train_controller)

# ------------------------------------------------------------------------------------------------ paper
st.header(t("world_models.paper_header"))
st.markdown(t("world_models.paper_text"))

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("world_models")
