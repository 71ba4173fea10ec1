"""Detection › IoU, NMS & anchors: IoU live, YOLO's confidence, NMS step by step, Faster R-CNN anchors, SSD boxes."""
import numpy as np
import streamlit as st

from engine.detection import boxes as B
from engine.figures.detection import boxes as figs
from ui import fmt, formula, image_input_ui, labels, show_source, t
from ui.detection import box_ui, working_image

CLASSES = ("cat", "dog", "person")

st.title(t("boxes.title"))
st.markdown(t("boxes.intro"))
lab = labels("boxes.labels")
image = image_input_ui("boxes")
if image is None:
    st.stop()
img = working_image(image)
H, W = img.shape[:2]

# ---- 1. IoU --------------------------------------------------------------------------------------------------
st.header(t("boxes.iou_header"))
st.markdown(t("boxes.iou_text"))
formula("boxes.iou_formula")
c1, c2 = st.columns(2)
with c1:
    a = box_ui("boxes.truth", t("boxes.labels.truth"), W, H, (0.2, 0.2, 0.6, 0.7))
with c2:
    b = box_ui("boxes.pred", t("boxes.labels.pred"), W, H, (0.35, 0.3, 0.75, 0.8))
parts = B.iou_parts(a, b)
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("boxes.metric.area_a"), f"{parts.area_a:.0f}")
m2.metric(t("boxes.metric.area_b"), f"{parts.area_b:.0f}")
m3.metric(t("boxes.metric.inter"), f"{parts.inter:.0f}")
m4.metric(t("boxes.metric.iou"), f"{parts.iou:.3f}", help=t("boxes.metric.union", union=f"{parts.union:.0f}"))
st.plotly_chart(figs.plot_iou(img, a, b, parts, lab), key="boxes.fig_iou")
show_source(B.box_iou)

# ---- 2. YOLO's confidence ------------------------------------------------------------------------------------
st.header(t("boxes.yolo_header"))
st.markdown(t("boxes.yolo_text"))
formula("boxes.yolo_formula")


def yolo_ui() -> tuple[float, np.ndarray]:
    """Pr(Object) and Pr(Class_i | Object), normalised to sum to 1."""
    c = st.columns(4)
    p_obj = c[0].slider(t("boxes.ui.p_object"), 0.0, 1.0, 0.9, 0.01, key="boxes.p_object", bind="query-params")
    raw = [c[i + 1].slider(t("boxes.ui.p_class", name=t(f"boxes.classes.{name}")), 0.0, 1.0, v, 0.01,
                                    key=f"boxes.p_class.{name}", bind="query-params")
           for i, (name, v) in enumerate(zip(CLASSES, (0.7, 0.2, 0.1)))]
    return p_obj, B.class_probabilities(raw)


p_obj, p_cls = yolo_ui()
yolo = B.yolo_scores(p_obj, p_cls, parts.iou)
class_names = [t(f"boxes.classes.{c}") for c in CLASSES]
st.plotly_chart(figs.plot_yolo(yolo, class_names, lab), key="boxes.fig_yolo")
st.caption(t("boxes.yolo_caption", p=", ".join(f"{v:.2f}" for v in p_cls), iou=f"{parts.iou:.3f}",
             conf=f"{yolo.confidence:.3f}"))
show_source(B.yolo_scores)

# ---- 3. NMS ----------------------------------------------------------------------------------------------------
st.header(t("boxes.nms_header"))
st.markdown(t("boxes.nms_text"))
formula("boxes.nms_formula")


def nms_ui() -> dict:
    c = st.columns(4)
    n = c[0].slider(t("boxes.ui.n_per_object"), 1, 20, 10, key="boxes.n_per_object", bind="query-params")
    thr = c[1].slider(t("boxes.ui.iou_threshold"), 0.05, 0.95, 0.5, 0.05, key="boxes.nms_threshold",
                    bind="query-params")
    seed = c[2].slider(t("boxes.ui.seed"), 0, 20, 0, key="boxes.seed", bind="query-params")
    mode = c[3].radio(t("boxes.ui.mode"), ("classwise", "agnostic"), key="boxes.nms_mode",
                      format_func=fmt("boxes.modes"), bind="query-params")
    return dict(n=n, thr=thr, seed=seed, classwise=mode == "classwise")


cfg = nms_ui()
scene = B.jitter_scene([a, b], cfg["n"], np.random.default_rng(cfg["seed"]))
scene_names = [t("boxes.classes.cat"), t("boxes.classes.dog")]
st.caption(t("boxes.scene_caption"))
run = B.nms_run(scene, cfg["thr"], cfg["classwise"], n_classes=len(scene_names))
steps = run.steps
upto = st.slider(t("boxes.ui.step"), 0, run.n_steps, run.n_steps, key=f"boxes.nms_step.{run.n_steps}",
                 bind="query-params")
st.plotly_chart(figs.plot_nms(img, scene, list(steps), upto, scene_names, lab), key="boxes.fig_nms")
if upto == 0:
    st.info(t("boxes.nms_step0", n=run.n_candidates))      # step 0: nothing kept yet, every box a candidate
else:
    st.table(                                                # a table wraps the long suppressed list: nothing cut off
        [{t("boxes.table.step"): k, t("boxes.table.kept"): f"#{s.keep}",
          t("boxes.table.class"): scene_names[scene.labels[s.keep]],
          t("boxes.table.score"): f"{scene.scores[s.keep]:.3f}",
          t("boxes.table.suppressed"): ", ".join(f"#{i} ({u:.2f})" for i, u in zip(s.suppressed, s.ious)) or "—"}
         for k, s in enumerate(steps[:upto], start=1)], hide_index=True)
m1, m2, m3 = st.columns(3)
m1.metric(t("boxes.metric.candidates"), run.n_candidates)
m2.metric(t("boxes.metric.kept_classwise"), run.n_kept_classwise,
          help=t("boxes.metric.per_class", counts=", ".join(f"{n} {c}" for n, c in zip(scene_names,
                                                                                          run.per_class_classwise))))
m3.metric(t("boxes.metric.kept_agnostic"), run.n_kept_agnostic,
          help=t("boxes.metric.per_class", counts=", ".join(f"{n} {c}" for n, c in zip(scene_names,
                                                                                          run.per_class_agnostic))))
if len(run.lost_agnostic) and not cfg["classwise"]:
    st.warning(t("boxes.agnostic_lost", name=scene_names[run.lost_agnostic[0]]))
st.markdown(t("boxes.classwise_text"))
show_source(B.nms_steps)

# ---- 4. Faster R-CNN anchors ---------------------------------------------------------------------------------
st.header(t("boxes.anchor_header"))


def anchors_ui() -> dict:
    c = st.columns(3)
    stride = c[0].select_slider(t("boxes.ui.stride"), (8, 16, 32), 16, key="boxes.stride", bind="query-params")
    scales = c[1].multiselect(t("boxes.ui.scales"), (16, 32, 64, 128, 256), (32, 64, 128), key="boxes.scales",
                              bind="query-params")
    ratios = c[2].multiselect(t("boxes.ui.ratios"), (0.25, 0.5, 1.0, 2.0, 4.0), (0.5, 1.0, 2.0), key="boxes.ratios",
                              bind="query-params")
    bg, fg = st.slider(t("boxes.ui.thresholds"), 0.0, 1.0, (0.3, 0.7), 0.05, key="boxes.thresholds",
                       bind="query-params")
    if not scales or not ratios:
        st.info(t("boxes.empty_choice"))
    return dict(stride=stride, scales=sorted(scales) or [64], ratios=sorted(ratios) or [1.0], bg=bg, fg=fg)


acfg = anchors_ui()
an = B.rpn_anchors((H, W), acfg["stride"], acfg["scales"], acfg["ratios"], [a], acfg["fg"], acfg["bg"])
alab = an.labels
st.markdown(t("boxes.anchor_text", n_scales=an.n_scales, n_ratios=an.n_ratios, per_loc=an.per_location))
formula("boxes.anchor_formula", fg=f"{acfg['fg']:g}", bg=f"{acfg['bg']:g}")
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("boxes.metric.anchors"), an.n_anchors, help=t("boxes.metric.anchors_help", h=an.feature_size[0],
                                                               w=an.feature_size[1], a=an.per_location))
m2.metric(t("boxes.labels.positive"), alab.n_pos)
m3.metric(t("boxes.labels.negative"), alab.n_neg)
m4.metric(t("boxes.labels.ignored"), alab.n_ignored)
st.markdown(t("boxes.imbalance_text", ratio=f"{an.neg_per_pos:.0f}"))
picked = st.selectbox(t("boxes.ui.picked"), an.ranked.tolist(), key=f"boxes.picked.{hash(tuple(an.ranked))}",
                      format_func=lambda k: f"#{k} · IoU {alab.max_iou[k]:.2f} · "
                                            f"{an.sizes[k, 0]:.0f}×{an.sizes[k, 1]:.0f}", bind="query-params")
picked = int(an.ranked[0] if picked is None else picked)
c1, c2 = st.columns([3, 2])
c1.plotly_chart(figs.plot_anchors(img, an.anchors, alab, an.per_location, a, picked, lab), key="boxes.fig_anchors")
c2.plotly_chart(figs.plot_label_counts(alab, lab), key="boxes.fig_counts")
st.subheader(t("boxes.targets_header"))
formula("boxes.encode_formula")
tg = B.box_targets(an.anchors[picked], a)
m = st.columns(4)
for col, name, v in zip(m, ("t_x", "t_y", "t_w", "t_h"), tg.t):
    col.metric(name, f"{v:+.3f}")
st.caption(t("boxes.decode_caption", anchor=", ".join(f"{v:.0f}" for v in an.anchors[picked]),
             box=", ".join(f"{v:.1f}" for v in tg.decoded)))
show_source(B.make_anchors)
show_source(B.label_anchors)
show_source(B.encode)

# ---- 5. SSD default boxes -------------------------------------------------------------------------------------
st.header(t("boxes.ssd_header"))
st.markdown(t("boxes.ssd_text"))
formula("boxes.ssd_formula")
ssd = B.ssd_boxes((H, W), [a])
level = st.slider(t("boxes.ui.ssd_map"), 1, len(B.SSD300_FEATURES), 3, key="boxes.ssd_map", bind="query-params") - 1
st.plotly_chart(figs.plot_ssd(img, ssd.default, B.SSD300_FEATURES, level, a, ssd.labels, lab), key="boxes.fig_ssd")
st.dataframe(
    [{t("boxes.table.map"): k + 1, t("boxes.table.size"): f"{fh}×{fw}",
      t("boxes.table.scale"): f"{ssd.default.scales[k]:.2f}",
      t("boxes.table.per_location"): int(ssd.default.per_location[k]),
      t("boxes.table.boxes"): int(ssd.boxes_per_level[k]), t("boxes.table.matched"): int(ssd.matched_per_level[k])}
     for k, (fh, fw) in enumerate(B.SSD300_FEATURES)], hide_index=True, key="boxes.ssd_table")
st.caption(t("boxes.ssd_caption", n=ssd.n_boxes, pos=ssd.n_matched))
show_source(B.ssd_default_boxes)

# ---- check yourself: E資格-style items made by this chapter's engine (engine/practice/) ----
from ui.practice import check_yourself  # noqa: E402

check_yourself("boxes")
