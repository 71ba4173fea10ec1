"""Paradigms › Metric learning: Siamese (contrastive), triplet hinge and Hoffer's ratio loss trained side by side
on the digits 0–6, retrieval measured on the unseen 7–9, with the shared live-training run object."""

import math

import streamlit as st

from engine.figures.paradigms import metric_learning as figs
from engine.paradigms import metric_learning as ml
from ui import fmt, formula, image_input_ui, labels, show_source, t
from ui import charts, training

st.title(t("metric_learning.title"))
st.markdown(t("metric_learning.intro"))
lab = labels("metric_learning.labels")

st.header(t("metric_learning.siamese.header"))
st.markdown(t("metric_learning.siamese.text"))
formula("metric_learning.contrastive")
st.markdown(t("metric_learning.siamese.notes"))
formula("metric_learning.notes_fixed")
st.header(t("metric_learning.triplet.header"))
st.markdown(t("metric_learning.triplet.text"))
formula("metric_learning.triplet_hinge")
st.markdown(t("metric_learning.triplet.ratio_text"))
formula("metric_learning.ratio")
st.markdown(t("metric_learning.triplet.mining_text"))


def controls_ui() -> dict:
    """Sidebar: margin, mining, embedding dimension, seed."""
    with st.sidebar:
        st.subheader(t("metric_learning.controls.header"))
        margin = st.slider(t("metric_learning.controls.margin"), 0.1, 3.0, 1.0, 0.1, key="metric_learning.margin",
                           bind="query-params")
        mining = st.selectbox(t("metric_learning.controls.mining"), ml.MINING, index=1,
                              format_func=fmt("metric_learning.mining"), key="metric_learning.mining",
                              bind="query-params")
        dim = st.select_slider(t("metric_learning.controls.dim"), (2, 8, 32), value=8, key="metric_learning.dim",
                               bind="query-params")
        seed = st.number_input(t("metric_learning.controls.seed"), 0, 9999, 0, key="metric_learning.seed",
                               bind="query-params")
    return dict(margin=float(margin), mining=mining, dim=int(dim), seed=int(seed))


def make(cfg: dict) -> dict:
    return {loss: ml.train(ml.Config(loss=loss, n_eval=200, **cfg)) for loss in ml.LOSSES}


def pct(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{100 * v:.0f} %"


def draw(run: training.Run) -> None:
    cols = st.columns(3)
    for col, (name, s) in zip(cols, run.snaps.items()):
        with col:
            charts.live(figs.plot_embedding(s, title=lab[name], labels=lab), key=f"metric_learning.fig.{name}")
            m1, m2 = st.columns(2)
            m1.metric(t("metric_learning.metric.recall1"), pct(s.recall1))
            m2.metric(t("metric_learning.metric.recall5"), pct(s.recall5))
            m1.metric(t("metric_learning.metric.loss"), "—" if not math.isfinite(s.loss) else f"{s.loss:.4f}")
            m2.metric(t("metric_learning.metric.zero"), pct(s.zero_share))
            st.caption(t("metric_learning.zero_random", pct=pct(s.zero_share_random)))
    c1, c2 = st.columns(2)
    charts.live(figs.plot_curves({k: run.curve(k, "recall1") for k in run.snaps}, title=lab["recall1"],
                                 y_range=[0, 1], labels=lab), key="metric_learning.fig.recall", where=c1)
    charts.live(figs.plot_curves({k: run.curve(k, "zero_share") for k in run.snaps}, title=lab["zero"],
                                 y_range=[0, 1], labels=lab), key="metric_learning.fig.zero", where=c2)


@st.cache_data(max_entries=1, show_spinner=False)
def pixel_recall() -> dict:
    return ml.pixel_recall()


st.header(t("metric_learning.live.header"))
st.markdown(t("metric_learning.live.text"))
p = controls_ui()
run = training.start("metric_learning", p, make, advance="laggard")
training.live(run, draw)
base = pixel_recall()
st.markdown(t("metric_learning.live.baseline", r1=100 * base[1], r5=100 * base[5]))
st.markdown(t("metric_learning.live.zero_text"))

st.header(t("metric_learning.photos.header"))
st.markdown(t("metric_learning.photos.text"))
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "immunohistochemistry", "hubble_deep_field",
          "colorwheel")


@st.cache_resource(max_entries=1, show_spinner=False)
def gallery(_model) -> tuple:
    """(photos (G,) of (S, S, 3) uint8, features (G, 1280)): every sample photo seen three ways, embedded once."""
    import skimage.data
    from PIL import Image
    from engine.common import classifier
    photos = [v for n in PHOTOS for v in ml.gallery_views(
        classifier.preprocess(Image.fromarray(getattr(skimage.data, n)()), size=112).rgb)]
    return photos, ml.embed_photos(_model, photos)


from ui.models import mobilenet_or_error  # noqa: E402

image = image_input_ui("metric_learning.image")
model = mobilenet_or_error()
if image is not None and model is not None:
    from engine.common import classifier
    photos, feats = gallery(model)
    q = classifier.preprocess(image, size=112).rgb
    nb = ml.nearest(ml.embed_photos(model, [q])[0], feats, k=5)
    st.plotly_chart(figs.plot_neighbours(q, [photos[i] for i in nb.index], nb.distance, labels=lab),
                    key="metric_learning.fig.neighbours")
    st.caption(t("metric_learning.photos.caption"))

show_source(ml.contrastive_loss)
show_source(ml.ratio_loss)
show_source(ml.mine_triplets)
show_source(ml.recall_at_k)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("metric_learning")
