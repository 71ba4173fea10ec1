"""Detection › FPN, focal loss & FCOS: level assignment, focal loss curves and imbalance, centre-ness map, re-ranking."""
import numpy as np
import streamlit as st

from engine.detection import fcos as F
from engine.figures.detection import fcos as figs
from ui import charts
from ui import formula, image_input_ui, labels, show_source, t
from ui.detection import box_ui, working_image

st.title(t("fcos.title"))
st.markdown(t("fcos.intro"))
lab = labels("fcos.labels")
image = image_input_ui("fcos")
if image is None:
    st.stop()
img = working_image(image)
H, W = img.shape[:2]
box = box_ui("fcos.box", t("fcos.labels.truth"), W, H, (0.2, 0.12, 0.72, 0.92))

# ---- 1. FPN and FCOS level assignment ---------------------------------------------------------------------------
st.header(t("fcos.fpn_header"))
st.markdown(t("fcos.fpn_text"))
formula("fcos.fpn_formula")
short = st.slider(t("fcos.ui.input_size"), 320, 1344, 800, 32, key="fcos.input_size", bind="query-params")
bl = F.box_level(box, short, H, W)                          # the detector resizes the image's shorter side
scale = short / min(H, W)
c1, c2 = st.columns([1, 2])
c1.metric(t("fcos.metric.box"), f"{bl.width:.0f} × {bl.height:.0f}")
c1.metric("√(wh)", f"{bl.side:.0f} px")
c1.metric(t("fcos.metric.level"), f"P{bl.level}")
c2.plotly_chart(figs.plot_fpn_levels(bl.side, lab), key="fcos.fig_fpn")

st.subheader(t("fcos.range_header"))
st.markdown(t("fcos.range_text"))
formula("fcos.targets_formula")
formula("fcos.range_formula")
levels = F.fcos_levels(np.asarray(box) * scale)
st.plotly_chart(figs.plot_fcos_levels(img, levels, box, scale, lab), key="fcos.fig_levels")
st.dataframe([{t("fcos.table.level"): f"P{lv.level}", t("fcos.table.stride"): lv.stride,
               t("fcos.table.range"): f"({lv.lo:g}, {'∞' if np.isinf(lv.hi) else f'{lv.hi:g}'}]",
               t("fcos.table.inside"): len(lv.points),
               t("fcos.table.positive"): int(lv.positive.sum())} for lv in levels], hide_index=True,
             key="fcos.level_table")
show_source(F.fpn_level)
show_source(F.fcos_levels)

# ---- 2. focal loss --------------------------------------------------------------------------------------------------
st.header(t("fcos.focal_header"))
st.markdown(t("fcos.focal_text"))
formula("fcos.focal_formula")


def focal_ui() -> tuple[float, float]:
    c1, c2 = st.columns(2)
    gamma = c1.slider(t("fcos.ui.gamma"), 0.0, 5.0, 2.0, 0.1, key="fcos.gamma", bind="query-params")
    alpha = c2.slider(t("fcos.ui.alpha"), 0.0, 1.0, 0.25, 0.05, key="fcos.alpha", bind="query-params")
    return gamma, alpha


def imbalance_ui() -> dict:
    c = st.columns(4)
    n_neg = c[0].select_slider(t("fcos.ui.n_neg"), (1_000, 10_000, 100_000, 1_000_000), 100_000, key="fcos.n_neg",
                               bind="query-params")
    p_neg = c[1].slider(t("fcos.ui.p_neg"), 0.5, 0.999, 0.99, 0.001, key="fcos.p_neg", bind="query-params")
    n_pos = c[2].slider(t("fcos.ui.n_pos"), 1, 1000, 100, key="fcos.n_pos", bind="query-params")
    p_pos = c[3].slider(t("fcos.ui.p_pos"), 0.01, 0.9, 0.3, 0.01, key="fcos.p_pos", bind="query-params")
    return dict(n_neg=n_neg, p_neg=p_neg, n_pos=n_pos, p_pos=p_pos)


gamma, alpha = focal_ui()
st.plotly_chart(figs.plot_focal_curves(gamma, alpha, lab), key="fcos.fig_focal")
st.markdown(t("fcos.imbalance_text"))
imb = imbalance_ui()
im = F.imbalance(imb["n_neg"], imb["p_neg"], imb["n_pos"], imb["p_pos"], gamma, alpha)
c1, c2 = st.columns([2, 1])
c1.plotly_chart(figs.plot_imbalance(im, lab), key="fcos.fig_imbalance")
c2.metric(t("fcos.metric.neg_share_ce"), f"{100 * im.neg_share_ce:.1f} %")
c2.metric(t("fcos.metric.neg_share_fl"), f"{100 * im.neg_share_fl:.1f} %")
c2.metric(t("fcos.metric.down_weight"), f"×{im.down_weight:.2g}",
          help=t("fcos.metric.down_weight_help"))
show_source(F.focal_loss)

# ---- 3. centre-ness ---------------------------------------------------------------------------------------------
st.header(t("fcos.ctr_header"))
st.markdown(t("fcos.ctr_text"))
formula("fcos.ctr_formula")
cmap = F.centerness_map(box, H, W, step=4)
st.plotly_chart(figs.plot_centerness(img, cmap, box, lab), key="fcos.fig_ctr")
st.caption(t("fcos.ctr_caption"))
show_source(F.centerness)

# ---- 4. re-ranking with centre-ness --------------------------------------------------------------------------------
st.header(t("fcos.rerank_header"))
st.markdown(t("fcos.rerank_text"))
formula("fcos.rerank_formula")


def rerank_ui() -> dict:
    c = st.columns(4)
    stride = c[0].select_slider(t("fcos.ui.stride"), (4, 8, 16, 32), 8, key="fcos.stride", bind="query-params")
    noise = c[1].slider(t("fcos.ui.noise"), 0.0, 1.5, 0.6, 0.05, key="fcos.noise", bind="query-params")
    top_k = c[2].slider(t("fcos.ui.top_k"), 1, 20, 5, key="fcos.top_k", bind="query-params")
    seed = c[3].slider(t("fcos.ui.seed"), 0, 20, 0, key="fcos.seed", bind="query-params")
    return dict(stride=stride, noise=noise, top_k=top_k, seed=seed)


rr = rerank_ui()
preds = F.simulate_predictions(box, rr["stride"], np.random.default_rng(rr["seed"]), rr["noise"])
st.caption(t("fcos.sim_caption", n=len(preds.cls)))
if len(preds.cls) == 0:
    st.info(t("fcos.no_locations"))
else:
    rk = F.rerank(preds, rr["top_k"])
    charts.panels(figs.plot_rerank(img, preds, box, rk, lab), key="fcos.fig_rerank")
    m = st.columns(4)
    m[0].metric(t("fcos.metric.topk_cls", k=rr["top_k"]), f"{rk.iou_top_cls:.3f}")
    m[1].metric(t("fcos.metric.topk_ctr", k=rr["top_k"]), f"{rk.iou_top_ctr:.3f}")
    m[2].metric(t("fcos.metric.nms_cls"), f"{rk.iou_nms_cls:.3f}")
    m[3].metric(t("fcos.metric.nms_ctr"), f"{rk.iou_nms_ctr:.3f}")
    st.plotly_chart(figs.plot_score_vs_iou(preds, lab), key="fcos.fig_scatter")
show_source(F.simulate_predictions)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("fcos")
