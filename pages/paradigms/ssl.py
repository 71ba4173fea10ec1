"""Paradigms › Self-supervised learning: the reader's image in two augmented views and the NT-Xent matrix of a batch;
SimCLR, BYOL and a supervised encoder trained side by side on digits with the shared run object; the papers' numbers."""
if __name__ != "__main__":
    # Streamlit runs a page as __main__ with the page's folder on sys.path: `import ssl` (the standard library's)
    # must never find this file and run the page inside another module's import
    raise ImportError("pages/paradigms/ssl.py is a Streamlit page, not the module `ssl`")

import math  # noqa: E402

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from engine.common import classifier  # noqa: E402
from engine.figures.paradigms import ssl as figs  # noqa: E402
from engine.paradigms import ssl  # noqa: E402
from ui import formula, image_input_ui, labels, show_source, signed, t  # noqa: E402
from ui import charts, training  # noqa: E402
from ui.models import mobilenet_or_error  # noqa: E402

GALLERY = ("chelsea", "coffee", "rocket", "camera", "immunohistochemistry", "hubble_deep_field", "colorwheel")

st.title(t("ssl.title"))
st.markdown(t("ssl.intro"))
lab = labels("ssl.labels")


def aug_ui(key: str, flip_default: bool) -> ssl.Augment:
    cols = st.columns(4)
    on = {a: cols[i].toggle(t(f"ssl.aug.{a}"), value=(flip_default if a == "flip" else True), key=f"{key}.{a}",
                            bind="query-params")
          for i, a in enumerate(ssl.AUGMENTATIONS)}
    return ssl.Augment(**on, min_scale=0.08 if key == "ssl.photo" else 0.3)


@st.cache_data(show_spinner=False, max_entries=8)
def gallery_rgbs() -> list:
    import skimage.data
    from PIL import Image
    return [classifier.preprocess(Image.fromarray(getattr(skimage.data, n)()), size=96).rgb for n in GALLERY]


@st.cache_data(max_entries=32, show_spinner=False)
def views_and_loss(rgb: np.ndarray, n: int, aug: ssl.Augment, seed: int, tau: float, _model) -> tuple:
    """The reader's photo and n − 1 gallery photos in two views each, (2N, 96, 96, 3) uint8, and their NT-Xent;
    shared by readers asking the same (most keep the defaults): augmenting and one MobileNetV2 pass are many small
    torch calls, slow when many sessions run at once."""
    rgbs = [rgb] + gallery_rgbs()[: n - 1]
    views = ssl.two_views(ssl.photo_batch(rgbs), aug, seed)                          # (2N, 3, 96, 96)
    res = ssl.nt_xent_matrix(ssl.embed_views(_model, views), tau)
    return (views.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8), res


# ------------------------------------------------------------------------------------------ 1. views and NT-Xent
st.header(t("ssl.views.header"))
st.markdown(t("ssl.views.text"))
formula("ssl.nt_xent")
image = image_input_ui("ssl.image")
aug = aug_ui("ssl.photo", True)
c1, c2, c3 = st.columns(3)
n = c1.slider(t("ssl.views.n"), 2, 8, 4, key="ssl.n", bind="query-params")
tau = c2.select_slider(t("ssl.views.tau"), (0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0), value=0.5, key="ssl.tau",
                       bind="query-params")
seed = c3.number_input(t("ssl.views.seed"), 0, 9999, 0, key="ssl.view_seed", bind="query-params")
model = mobilenet_or_error()


if image is not None and model is not None:
    views, res = views_and_loss(classifier.preprocess(image, size=96).rgb, n, aug, int(seed), tau, model)
    st.plotly_chart(figs.plot_views(views, labels=lab), key="ssl.fig.views")
    st.plotly_chart(figs.plot_similarity(res.sim, res.positive, labels=lab), key="ssl.fig.sim")
    st.metric(t("ssl.views.loss", tau=tau), f"{res.loss:.3f}")
    st.caption(t("ssl.views.loss_note", n2=2 * n, chance=math.log(2 * n - 1)))
st.markdown(t("ssl.views.tau_text"))

# ------------------------------------------------------------------------------------------ 2. SimCLR vs BYOL live
st.header(t("ssl.live.header"))
st.markdown(t("ssl.live.text"))
formula("ssl.byol_loss")
formula("ssl.ema")
st.markdown(t("ssl.live.byol_text"))


def live_ui() -> ssl.Config:
    d_aug = aug_ui("ssl.digits", False)
    c1, c2, c3, c4 = st.columns(4)
    predictor = c1.toggle(t("ssl.live.predictor"), True, key="ssl.predictor", bind="query-params")
    ema = c2.toggle(t("ssl.live.ema"), True, key="ssl.ema", bind="query-params")
    tau_ema = c3.select_slider(t("ssl.live.tau_ema"), (0.9, 0.99, 0.996), value=0.99, key="ssl.tau_ema",
                               bind="query-params")
    tau_train = c4.select_slider(t("ssl.live.tau"), (0.1, 0.2, 0.5, 1.0), value=0.5, key="ssl.tau_train",
                                 bind="query-params")
    return ssl.Config(tau=tau_train, aug=d_aug, predictor=predictor, ema=ema, tau_ema=tau_ema)


def make(cfg: ssl.Config) -> dict:
    return {m: ssl.train(cfg, m) for m in ("simclr", "byol", "supervised")}


def pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{100 * v:.1f} %"


def draw(run: training.Run) -> None:
    cols = st.columns(3)
    for col, (name, s) in zip(cols, run.snaps.items()):
        col.markdown(f"**{lab[name]}**")
        col.metric(t("ssl.metric.probe_h"), pct(s.probe_h), signed(100 * (s.probe_h - s.random_probe)))
        col.metric(t("ssl.metric.probe_z"), pct(s.probe_z))
        col.metric(t("ssl.metric.std"), f"{s.std_z:.2f}")
        col.metric(t("ssl.metric.rank"), f"{s.rank_z:.1f}")
    random_probe = next(iter(run.snaps.values())).random_probe
    a, b = st.columns(2)
    charts.live(figs.plot_curves({k: run.curve(k, "probe_h") for k in run.snaps}, title=lab["probe"],
                                 hlines={"random": random_probe}, y_range=[0, 1], labels=lab),
                key="ssl.fig.probe", where=a)
    charts.live(figs.plot_curves({k: run.curve(k, "loss") for k in ("simclr", "byol")}, title=lab["loss"],
                                 labels=lab), key="ssl.fig.loss", where=b)
    charts.live(figs.plot_curves({k: run.curve(k, "std_z") for k in ("simclr", "byol")}, title=lab["std"],
                                 y_range=[0, 1.2], labels=lab), key="ssl.fig.std", where=a)
    charts.live(figs.plot_curves({k: run.curve(k, "rank_z") for k in ("simclr", "byol")}, title=lab["rank"],
                                 labels=lab), key="ssl.fig.rank", where=b)


run = training.start("ssl", live_ui(), make)
training.live(run, draw)
st.markdown(t("ssl.live.head_text"))

# ------------------------------------------------------------------------------------------ 3. papers' numbers
st.header(t("ssl.papers.header"))
st.markdown(t("ssl.papers.table"))

show_source(ssl.nt_xent)
show_source(ssl.byol_loss)
show_source(ssl.train)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("ssl")
