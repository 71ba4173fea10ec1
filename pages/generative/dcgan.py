"""Generative › DCGAN & Conditional GAN on scikit-learn's 8×8 digits, trained live in this session.

Both models train in lockstep in the shared run object's fragment (ui/training.py), which reruns every 0.5 s while
training is on; the loops are generators (engine/generative/dcgan.py), so pausing or leaving the page stops them."""
import numpy as np
import streamlit as st

from engine.generative import dcgan
from engine.figures.generative import dcgan as figs
from ui import charts
from ui import formula, labels, show_source, t
from ui import training

st.title(t("dcgan.title"))
st.markdown(t("dcgan.intro"))
formula("dcgan.gan_formula")
formula("dcgan.cgan_formula")
lab = labels("dcgan.labels")


def controls_ui() -> dict:
    with st.sidebar:
        st.subheader(t("dcgan.controls.header"))
        lr = st.select_slider(t("dcgan.controls.lr"), (1e-4, 2e-4, 5e-4, 1e-3, 2e-3), value=5e-4, key="dcgan.lr",
                              bind="query-params")
        z_dim = st.select_slider(t("dcgan.controls.z_dim"), (2, 4, 8, 16, 32), value=16, key="dcgan.z_dim",
                                 bind="query-params")
        seed = st.number_input(t("dcgan.controls.seed"), 0, 9999, 0, key="dcgan.seed", bind="query-params")
    return dict(lr=lr, z_dim=z_dim, seed=int(seed))


@st.cache_data(max_entries=1, show_spinner=False)
def digits() -> tuple[np.ndarray, np.ndarray]:
    return dcgan.load_digits_images()


def make(cfg: dict) -> dict:
    data = digits()
    return {k: dcgan.train(c, cfg["seed"], data) for k, c in cfg["models"].items()}


p = controls_ui()
cfgs = {"dcgan": dcgan.Config(conditional=False, lr=p["lr"], z_dim=p["z_dim"]),
        "cgan": dcgan.Config(conditional=True, lr=p["lr"], z_dim=p["z_dim"])}
run = training.start("dcgan", {"models": cfgs, "seed": p["seed"]}, make)

# ---- 1. architecture ----------------------------------------------------------------------------------------
st.header(t("dcgan.arch_header"))
st.markdown(t("dcgan.arch_text"))
arch_cond = st.toggle(t("dcgan.controls.arch_cond"), value=False, key="dcgan.arch_cond", bind="query-params")
cfg_arch = cfgs["cgan" if arch_cond else "dcgan"]
st.plotly_chart(figs.plot_architecture(dcgan.layer_shapes(cfg_arch, "G"), dcgan.layer_shapes(cfg_arch, "D"),
                                       labels=lab), key="dcgan.fig_arch")
x_real, y_real = digits()
st.plotly_chart(figs.plot_grid(x_real[:80, 0].reshape(8, 10, 8, 8), title=t("dcgan.real_title"), height=260),
                key="dcgan.fig_real")

# ---- 2. live training -----------------------------------------------------------------------------------------
st.header(t("dcgan.train_header"))
st.markdown(t("dcgan.train_text"))


def draw(run: training.Run) -> None:
    snaps = run.snaps
    c1, c2 = st.columns(2)
    s = snaps["dcgan"]
    charts.live(figs.plot_grid(s.images, title=t("dcgan.dcgan_title", step=s.step)), key="dcgan.fig_dcgan", where=c1)
    s = snaps["cgan"]
    charts.live(figs.plot_grid(s.images, title=t("dcgan.cgan_title", step=s.step),
                               row_labels=[str(d) for d in range(10)]), key="dcgan.fig_cgan", where=c2)
    speed = s.step / s.seconds if s.seconds > 0 else 0.0
    st.caption(t("dcgan.speed", step=s.step, speed=speed))
    charts.live(figs.plot_curves(snaps, labels=lab), key="dcgan.fig_curves")


training.live(run, draw)
show_source(dcgan.Generator)
show_source(dcgan.train)

# ---- 3. pick a label ----------------------------------------------------------------------------------------
st.header(t("dcgan.label_header"))
st.markdown(t("dcgan.label_text"))
digit = st.segmented_control(t("dcgan.controls.digit"), list(range(10)), default=3, key="dcgan.digit",
                             bind="query-params") or 0
nonce = st.session_state.get("dcgan.nonce", 0)
if st.button(t("dcgan.resample"), key="dcgan.resample"):
    st.session_state["dcgan.nonce"] = nonce = nonce + 1
snap_c = run.snaps["cgan"]
z = np.random.default_rng(nonce).standard_normal((10, cfgs["cgan"].z_dim))
imgs = dcgan.generate(cfgs["cgan"], snap_c.state, z, np.full(10, digit))
st.plotly_chart(figs.plot_grid(imgs[None], title=t("dcgan.label_title", digit=digit, step=snap_c.step),
                               height=120), key="dcgan.fig_label")

# ---- 4. walk the latent space ------------------------------------------------------------------------------
st.header(t("dcgan.interp_header"))
st.markdown(t("dcgan.interp_text"))
formula("dcgan.slerp_formula")
n_steps = st.slider(t("dcgan.controls.n_steps"), 3, 16, 10, key="dcgan.n_steps", bind="query-params")
spherical = st.toggle(t("dcgan.controls.slerp"), value=True, key="dcgan.slerp", bind="query-params")
pair = st.number_input(t("dcgan.controls.pair"), 0, 999, 0, key="dcgan.pair", bind="query-params")
rng = np.random.default_rng(1000 + int(pair))
z0, z1 = rng.standard_normal((2, cfgs["dcgan"].z_dim))
zs = dcgan.interpolate(z0, z1, n_steps, spherical=spherical)
strip_g = dcgan.generate(cfgs["dcgan"], run.snaps["dcgan"].state, zs)
strip_c = dcgan.generate(cfgs["cgan"], snap_c.state, zs, np.full(n_steps, digit))
st.plotly_chart(figs.plot_grid(np.stack([strip_g, strip_c]), title=t("dcgan.interp_title", digit=digit),
                               row_labels=[lab["dcgan"], lab["cgan"]], height=150), key="dcgan.fig_interp")
show_source(dcgan.interpolate)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("dcgan")
