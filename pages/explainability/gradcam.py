"""Grad-CAM family on the reader's image: CAM, Grad-CAM, Grad-CAM++, Guided Backprop, Guided Grad-CAM,
with the channel weights α_k, a sanity check and deletion curves."""
import numpy as np
import streamlit as st
import torch

from engine.common import classifier
from engine.explainability import gradcam
from engine.figures.common import sci_tex
from engine.figures.explainability import gradcam as figs
from ui import charts
from ui import fmt, formula, image_input_ui, show_source, t
from ui.gradcam import (DELETION_CASES, DELETION_STEPS, MAPS, N_RANDOM, PATCH, SANITY_METHOD, SANITY_STEPS, deletion,
                        explain, sample_photo, sanity, top1)
from ui.models import MODELS, imagenet_categories, imagenet_names_note, mobilenet_or_error


def target_ui(top: classifier.TopK, names: tuple[str, ...]) -> int:
    """Target class: one of the top-5 predictions, or any of the 1000 (type to search)."""
    options = [*(int(i) for i in top.indices), -1]
    labels = {int(i): f"{names[i]} ({p:.1%})" for i, p in zip(top.indices, top.probs)}
    labels[-1] = t("gradcam.any_class")
    pick = st.selectbox(t("gradcam.target"), options, key="gradcam.target", format_func=labels.get, bind="query-params")
    if pick != -1:
        return pick
    return st.selectbox(t("gradcam.search_class"), range(len(names)), key="gradcam.class_search",
                        format_func=names.__getitem__, index=int(top.indices[0]), bind="query-params")


def layer_ui(model, arch: str, shapes: dict[str, tuple[int, ...]]) -> str:
    layers = classifier.conv_layers(model)
    return st.selectbox(t("gradcam.layer"), layers, index=len(layers) - 1, key=f"gradcam.layer.{arch}",
                        format_func=lambda n: f"{n}  ({shapes[n][0]}×{shapes[n][1]}×{shapes[n][2]})",
                        help=t("gradcam.layer_help"), bind="query-params")


def display_ui() -> tuple[float, str]:
    c1, c2 = st.columns(2)
    opacity = c1.slider(t("gradcam.opacity"), 0.0, 1.0, 0.5, 0.05, key="gradcam.opacity", bind="query-params")
    cmap = c2.selectbox(t("gradcam.colormap"), figs.COLORMAPS, key="gradcam.colormap", bind="query-params")
    return opacity, cmap


def deletion_case_ui() -> str:
    """Which image the deletion test runs on: the clear case, the counter-example, or the reader's own image."""
    return st.radio(t("gradcam.deletion_image"), DELETION_CASES, horizontal=True, key="gradcam.deletion_image",
                    format_func=fmt("gradcam.deletion_images"), bind="query-params")


@st.cache_data(max_entries=16, show_spinner=False)
def shapes_of(_model, arch: str, size: int):
    return gradcam.layer_shapes(_model, torch.zeros(1, 3, size, size))


st.title(t("gradcam.title"))
chosen = st.session_state.get("gradcam.model", "mobilenet_v2")      # the intro names the model the reader picked
st.markdown(t("gradcam.intro", model=t(f"gradcam.models.{chosen}")))

arch = st.selectbox(t("gradcam.model"), tuple(MODELS), key="gradcam.model", format_func=fmt("gradcam.models"),
                    help=t("gradcam.model_help"), bind="query-params")
model = mobilenet_or_error(arch)
image = image_input_ui("gradcam")
if model is None or image is None:
    st.stop()

names = imagenet_categories()
photo = classifier.preprocess(image)
top = classifier.top_k(model, photo.x, k=5)
shapes = shapes_of(model, arch, photo.x.shape[-1])

left, right = st.columns([1, 2])
with left:
    st.plotly_chart(figs.plot_topk([names[i] for i in top.indices], top.probs, t("gradcam.prediction")),
                    key="gradcam.topk_fig")
    imagenet_names_note()
with right:
    target = target_ui(top, names)
    layer = layer_ui(model, arch, shapes)
    opacity, cmap = display_ui()

res = explain(model, arch, photo.rgb, layer, target)

st.subheader(t("gradcam.family"))
cols = st.columns(5)
panels = [
    ("cam", figs.plot_overlay(photo.rgb, res["cam"].heatmap, opacity, cmap, height=figs.PANEL)),
    ("gradcam", figs.plot_overlay(photo.rgb, res["gradcam"].heatmap, opacity, cmap, height=figs.PANEL)),
    ("gradcampp", figs.plot_overlay(photo.rgb, res["gradcampp"].heatmap, opacity, cmap, height=figs.PANEL)),
    ("guided_backprop", figs.plot_image(gradcam.deprocess(res["guided_backprop"]), height=figs.PANEL)),
    ("guided_gradcam", figs.plot_image(gradcam.deprocess(res["guided_gradcam"]), height=figs.PANEL)),
]
for col, (m, fig) in zip(cols, panels):
    with col:
        st.markdown(f"**{t(f'gradcam.methods.{m}')}**")
        st.plotly_chart(fig, key=f"gradcam.fig_{m}")
        st.caption(t(f"gradcam.captions.{m}", layer=classifier.conv_layers(model)[-1] if m == "cam" else layer))

# --- the formula with this image's numbers ---
st.subheader(t("gradcam.weights_title"))
g = res["gradcam"]
formula("gradcam.formula_alpha")
formula("gradcam.formula_map")
k = np.argsort(-np.abs(g.weights))[:3]
terms = " ".join(f"{'+' if g.weights[i] >= 0 else '-'} {sci_tex(abs(g.weights[i]))}\\,A^{{{i}}}" for i in k)
st.latex(rf"L^{{c}} = \mathrm{{ReLU}}\big({terms.lstrip('+ ')} + \dots\big)")
st.latex(rf"K={len(g.weights)},\qquad y^c={g.score:.2f}")
c1, c2 = st.columns([2, 1])
with c1:                                # titles as page text: they wrap in a narrow column, a plotly title is cut
    st.markdown(f"**{t('gradcam.weights_chart')}**")
    st.plotly_chart(figs.plot_channel_weights(g.weights, g.activations, xlabel=t("gradcam.channel"), ylabel="α_k"),
                    key="gradcam.fig_alpha")
with c2:
    st.markdown(f"**{t('gradcam.raw_map', h=g.cam.shape[0], w=g.cam.shape[1])}**")
    st.plotly_chart(figs.plot_cam_grid(g.cam, cmap), key="gradcam.fig_grid")
st.markdown(t("gradcam.cam_vs_gradcam"))
formula("gradcam.formula_cam")
formula("gradcam.formula_guided")

# --- can I trust it? ---
st.subheader(t("gradcam.trust_title"))
st.markdown(t("gradcam.sanity_text"))
c1, c2 = st.columns(2)
method = c1.selectbox(t("gradcam.sanity_method"), MAPS, index=SANITY_METHOD, key="gradcam.sanity_method",
                      format_func=fmt("gradcam.methods"), bind="query-params")
steps = c2.slider(t("gradcam.sanity_steps"), 1, 5, SANITY_STEPS, key="gradcam.sanity_steps", bind="query-params")
san = sanity(model, arch, photo.rgb, layer, target, method, steps)
labels = [t("gradcam.trained") if not n else t("gradcam.randomized_upto", block=n) for n in san.randomized]
charts.panels(figs.plot_sanity(san.maps, labels, san.spearman, cmap), key="gradcam.fig_sanity")
st.caption(t("gradcam.sanity_caption"))

st.markdown(t("gradcam.deletion_text", patch=PATCH, r=N_RANDOM))
c1, c2 = st.columns([3, 2])
with c1:
    case = deletion_case_ui()
del_steps = c2.slider(t("gradcam.deletion_steps"), 4, 16, DELETION_STEPS, key="gradcam.deletion_steps",
                      bind="query-params")
if case == "yours":
    case_rgb, case_target = photo.rgb, target
else:                                   # a fixed photo, explained for the model's own top-1 class on it
    case_rgb = sample_photo(case)
    case_target = top1(model, case_rgb)
curves = deletion(model, arch, case_rgb, layer, case_target, del_steps)
named = {t(f"gradcam.methods.{m}"): (c.fractions, c.probs, c.auc) for m, c in curves.items()}
c1, c2 = st.columns([1, 3])
c1.plotly_chart(figs.plot_image(case_rgb, height=figs.PANEL), key="gradcam.fig_deletion_image")
c2.plotly_chart(figs.plot_deletion(named, t("gradcam.deletion_title"), t("gradcam.deletion_x"),
                                   t("gradcam.deletion_y", name=names[case_target])), key="gradcam.fig_deletion")
won = gradcam.beats_random(curves)
st.markdown(t("gradcam.deletion_verdict", n=len(won), total=len(curves) - 1, random=f"{curves['random'].auc:.3f}",
              best=t(f"gradcam.methods.{min(curves, key=lambda m: curves[m].auc)}"),
              best_auc=f"{min(c.auc for c in curves.values()):.3f}", name=names[case_target]))
st.info(t(f"gradcam.deletion_cases.{case}"))
formula("gradcam.formula_auc")

show_source(gradcam.layer_cam)
show_source(gradcam.gradcam_weights)
show_source(gradcam.guided_backprop)
show_source(gradcam.sanity_check)
show_source(gradcam.deletion_curve)
show_source(gradcam.deletion_comparison)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("gradcam")
