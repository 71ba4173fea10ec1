"""Detection › Mask R-CNN & RoIAlign: RoIPool's rounding vs RoIAlign's bilinear samples, and Mask R-CNN's heads."""
import math

import numpy as np
import streamlit as st

from engine.detection import fcos as F
from engine.detection import roi as R
from engine.figures.detection import roi as figs
from ui import charts
from ui import fmt, formula, image_input_ui, labels, show_source, t
from ui.detection import box_ui, maskrcnn_untrained, mobilenet_trunk, working_image

STRIDE = 8   # feature cells are 8 × 8 pixels (MobileNetV2's first 32-channel block)

st.title(t("roi.title"))
st.markdown(t("roi.intro"))
lab = labels("roi.labels")
image = image_input_ui("roi")
if image is None:
    st.stop()
img = working_image(image)
H, W = img.shape[:2]


@st.cache_data(max_entries=8, show_spinner=False)
def feature_map(img: np.ndarray, source: str) -> np.ndarray:
    """(C, H/8, W/8): MobileNetV2 activations, or the synthetic test pattern."""
    if source == "cnn":
        return R.cnn_features(mobilenet_trunk(), img)
    return R.synthetic_features(math.ceil(img.shape[0] / STRIDE), math.ceil(img.shape[1] / STRIDE))


def features_ui() -> tuple[str, int]:
    c1, c2 = st.columns(2)
    source = c1.radio(t("roi.ui.source"), ("synthetic", "cnn"), key="roi.features", horizontal=True,
                      format_func=fmt("roi.sources"), bind="query-params")
    channel = c2.slider(t("roi.ui.channel"), 0, 31, 7, key="roi.channel", bind="query-params") if source == "cnn" else 0
    return source, channel


def pooling_ui() -> dict:
    c = st.columns(4)
    size = c[0].slider(t("roi.ui.output_size"), 1, 7, 3, key="roi.output_size", bind="query-params")
    sr = c[1].slider(t("roi.ui.sampling_ratio"), 1, 4, 2, key="roi.sampling_ratio", bind="query-params")
    aligned = c[2].toggle(t("roi.ui.aligned"), True, key="roi.aligned", bind="query-params")
    shift = c[3].slider(t("roi.ui.shift"), 0.0, 2.0, 0.0, 0.05, key="roi.shift", bind="query-params")
    return dict(size=size, sr=sr, aligned=aligned, shift=shift)


# ---- 1. RoIPool vs RoIAlign ------------------------------------------------------------------------------------
st.header(t("roi.pool_header"))
st.markdown(t("roi.pool_text"))
formula("roi.pool_formula")
st.markdown(t("roi.align_text"))
formula("roi.bilinear_formula")
formula("roi.align_formula")
source, channel = features_ui()
feats = feature_map(img, source)
f = feats[channel:channel + 1] if source == "cnn" else feats          # (1, h, w)
box = box_ui("roi.box", t("roi.labels.roi"), W, H, (0.27, 0.2, 0.53, 0.55))
p = pooling_ui()
moved = np.asarray(box) + np.array([1, 0, 1, 0]) * p["shift"] * STRIDE   # the sub-pixel shift, in pixels
pool = R.roi_pool(f, moved, p["size"], 1 / STRIDE)
align = R.roi_align(f, moved, p["size"], 1 / STRIDE, p["sr"], p["aligned"])
cells = moved / STRIDE
c1, c2 = st.columns(2)
c1.plotly_chart(figs.plot_roi_on_image(img, moved, STRIDE, lab), key="roi.fig_image")
c2.plotly_chart(figs.plot_feature_map(f[0], cells, lab), key="roi.fig_feature_map")
st.caption(t("roi.coords_caption", exact=", ".join(f"{v:.3f}" for v in cells),
             rounded=", ".join(str(v) for v in pool.roi_cells), h=f.shape[1], w=f.shape[2]))
charts.panels(figs.plot_roi_grids(f[0], pool, align, cells, lab), key="roi.fig_grids")
charts.panels(figs.plot_outputs(pool.output[0], align.output[0], lab), key="roi.fig_outputs")


torchvision_check = st.cache_data(max_entries=16, show_spinner=False)(R.check_with_torchvision)
chk = torchvision_check(f, tuple(float(v) for v in moved), p["size"], 1 / STRIDE, p["sr"], p["aligned"])
st.caption(t("roi.oracle_caption", pool=f"{chk.pool:.1e}", align=f"{chk.align:.1e}"))

st.subheader(t("roi.shift_header"))
st.markdown(t("roi.shift_text"))
sweep = R.shift_sweep(f, box, p["size"], np.linspace(0, 2, 81), 1 / STRIDE, p["sr"], p["aligned"])
st.plotly_chart(figs.plot_shift_sweep(sweep, p["shift"], lab), key="roi.fig_sweep")
show_source(R.roi_pool)
show_source(R.roi_align)
show_source(R.bilinear)

# ---- 2. Mask R-CNN ------------------------------------------------------------------------------------------------
st.header(t("roi.mask_header"))
st.markdown(t("roi.mask_text"))
st.warning(t("roi.no_weights"))


@st.cache_data(max_entries=4, show_spinner=False)
def trunk_features(img: np.ndarray) -> R.MaskRCNNTrunk:
    """Backbone + FPN + RPN head on the image: once per image, whatever the RoI."""
    return R.maskrcnn_trunk(maskrcnn_untrained(), img)


with st.spinner(t("roi.building")):
    shapes = R.maskrcnn_heads(maskrcnn_untrained(), trunk_features(img), tuple(float(v) for v in box))
st.graphviz_chart(figs.maskrcnn_dot(shapes.stages, shapes.level, lab))
st.dataframe([{t("roi.table.module"): s.name, t("roi.table.shape"): " × ".join(map(str, s.shape)),
               t("roi.table.part"): t(f"roi.groups.{s.group}")} for s in shapes.stages],
             hide_index=True, key="roi.shape_table")
rw, rh = shapes.roi[2] - shapes.roi[0], shapes.roi[3] - shapes.roi[1]
st.markdown(t("roi.level_text", w=f"{rw:.0f}", h=f"{rh:.0f}", side=f"{math.sqrt(rw * rh):.0f}",
              k=int(F.fpn_level(rw, rh)), level=shapes.level))
formula("roi.level_formula")
st.markdown(t("roi.mask_out_text"))
show_source(R.maskrcnn_shapes)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("roi")
