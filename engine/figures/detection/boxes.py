"""Figures of the boxes chapter: IoU, NMS step by step, YOLO scores, anchors and SSD default boxes."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.detection import boxes as B
from engine.figures.common import PRED, TRUTH, add_box, decades, image_figure

INTER = "rgba(148, 103, 189, 0.45)"
POS, NEG, IGN = "#2ca02c", "rgba(120, 120, 120, 0.35)", "#ffbf00"
CLASS_COLOURS = ("#1f77b4", "#d62728", "#9467bd", "#8c564b")


def plot_iou(img: np.ndarray, a, b, parts: B.IoUParts, labels: dict[str, str]) -> go.Figure:
    """The two boxes on the image, their intersection filled."""
    fig = image_figure(img)
    if parts.inter > 0:
        add_box(fig, parts.intersection, INTER, None, width=0, fill=INTER)
    add_box(fig, a, TRUTH, labels["truth"], width=3)
    add_box(fig, b, PRED, labels["pred"], width=3, dash="dash")
    fig.update_layout(title=f"IoU = {parts.inter:.0f} / {parts.union:.0f} = {parts.iou:.3f}")
    return fig


def plot_yolo(scores: B.YoloScores, class_names: list[str], labels: dict[str, str]) -> go.Figure:
    """Bars: Pr(Object)·IoU, then Pr(Class_i|Object)·Pr(Object)·IoU for each class."""
    names = [labels["confidence"]] + class_names
    vals = [scores.confidence, *scores.class_scores]
    fig = go.Figure(go.Bar(x=names, y=vals, marker_color=["#444"] + list(CLASS_COLOURS[:len(class_names)]),
                           text=[f"{v:.3f}" for v in vals], textposition="outside"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(range=[0, 1.1],
                      title=labels["score"]), title=labels["yolo_title"])
    return fig


def plot_nms(img: np.ndarray, scene: B.Scene, steps: list[B.NMSStep], upto: int, class_names: list[str],
             labels: dict[str, str]) -> go.Figure:
    """The state after `upto` NMS steps: kept boxes solid, this step's suppressed boxes dashed red,
    earlier suppressed ones faint, candidates still waiting thin."""
    fig = image_figure(img, height=400)
    done = steps[:upto]
    kept = [s.keep for s in done]
    old_supp = [int(i) for s in done[:-1] for i in s.suppressed]
    remaining = done[-1].remaining if done else np.argsort(-scene.scores, kind="stable")
    for i in remaining:
        add_box(fig, scene.boxes[i], CLASS_COLOURS[scene.labels[i] % 4], width=1, dash="dot")
    for i in old_supp:
        add_box(fig, scene.boxes[i], "rgba(200,200,200,0.5)", width=1)
    if done:
        for i in done[-1].suppressed:
            add_box(fig, scene.boxes[i], "#ff0000", width=2, dash="dash")
    for k, i in enumerate(kept):
        add_box(fig, scene.boxes[i], CLASS_COLOURS[scene.labels[i] % 4], width=5 if k == len(kept) - 1 else 3)
    # one hover marker per box (top-left corner) with its score and state
    state = np.full(len(scene.scores), labels["waiting"], dtype=object)
    state[old_supp] = labels["suppressed"]
    if done:
        state[done[-1].suppressed.astype(int)] = labels["suppressed_now"]
    state[kept] = labels["kept"]
    fig.add_trace(go.Scatter(
        x=scene.boxes[:, 0], y=scene.boxes[:, 1], mode="markers",
        marker=dict(size=6, color=[CLASS_COLOURS[c % 4] for c in scene.labels]), showlegend=False,
        text=[f"#{i} {class_names[c]} {s:.2f} — {st}" for i, (c, s, st) in
              enumerate(zip(scene.labels, scene.scores, state))], hoverinfo="text"))
    fig.update_layout(title=labels["nms_title"].format(step=upto, n=len(steps), kept=len(kept)))
    return fig


def plot_anchors(img: np.ndarray, anchors: np.ndarray, lab: B.AnchorLabels, per_location: int, gt,
                 picked: int, labels: dict[str, str], max_drawn: int = 40) -> go.Figure:
    """Anchor centres coloured by the best label at each location; positive anchors drawn (at most `max_drawn`,
    best IoU first); the anchors of the picked anchor's location dashed; the picked anchor thick."""
    fig = image_figure(img, height=420)
    n_loc = len(anchors) // per_location
    ctr = ((anchors[:, :2] + anchors[:, 2:]) / 2).reshape(n_loc, per_location, 2)[:, 0]   # (L, 2)
    best = lab.labels.reshape(n_loc, per_location)                                          # (L, A)
    state = np.where((best == 1).any(1), 1, np.where((best == -1).any(1), -1, 0))          # (L,)
    for value, colour, name in ((0, NEG, labels["negative"]), (-1, IGN, labels["ignored"]),
                                (1, POS, labels["positive"])):
        m = state == value
        fig.add_trace(go.Scatter(x=ctr[m, 0], y=ctr[m, 1], mode="markers", name=name, hoverinfo="skip",
                                 marker=dict(size=5 if value else 3, color=colour)))
    loc = picked // per_location
    for k in range(loc * per_location, (loc + 1) * per_location):
        add_box(fig, anchors[k], "rgba(255,255,255,0.9)", width=1, dash="dot")
    pos = np.nonzero(lab.labels == 1)[0]
    for k in pos[np.argsort(-lab.max_iou[pos])][:max_drawn]:
        add_box(fig, anchors[k], POS, width=1)
    add_box(fig, gt, TRUTH, labels["truth"], width=3)
    add_box(fig, anchors[picked], "#ff00ff", labels["picked"], width=3, dash="dash")
    h, w = img.shape[:2]
    fig.update_xaxes(range=[0, w])
    fig.update_yaxes(range=[h, 0])
    return fig


def plot_label_counts(lab: B.AnchorLabels, labels: dict[str, str]) -> go.Figure:
    """How many anchors are positive, negative and ignored (log scale: the imbalance)."""
    names = [labels["positive"], labels["negative"], labels["ignored"]]
    vals = [lab.n_pos, lab.n_neg, lab.n_ignored]
    fig = go.Figure(go.Bar(x=names, y=vals, marker_color=[POS, "#888", IGN], text=vals, textposition="outside"))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), yaxis_type="log",
                      title=labels["counts_title"], yaxis_title=labels["count"])
    return decades(fig)


def plot_ssd(img: np.ndarray, dboxes: B.DefaultBoxes, feature_sizes, level: int, gt, lab: B.AnchorLabels,
             labels: dict[str, str]) -> go.Figure:
    """One SSD feature map over the image: its grid of centres, the default boxes of the cell under the
    ground-truth centre, and that map's default boxes matched to the truth (IoU ≥ 0.5)."""
    fig = image_figure(img, height=420)
    h, w = img.shape[:2]
    fh, fw = feature_sizes[level]
    ys, xs = (np.arange(fh) + 0.5) / fh * h, (np.arange(fw) + 0.5) / fw * w
    gx, gy = np.meshgrid(xs, ys)
    fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name=labels["centres"],
                             marker=dict(size=3, color="white", line=dict(width=0.5, color="black")),
                             hoverinfo="skip"))
    sel = np.nonzero(dboxes.level == level)[0]
    a = int(dboxes.per_location[level])
    cx, cy = (gt[0] + gt[2]) / 2, (gt[1] + gt[3]) / 2
    i, j = min(int(cy / h * fh), fh - 1), min(int(cx / w * fw), fw - 1)
    first = sel[0] + (i * fw + j) * a
    for k in range(first, first + a):
        add_box(fig, dboxes.boxes[k], "#00ffff", width=2, dash="dot")
    matched = sel[lab.labels[sel] == 1]
    for k in matched[np.argsort(-lab.max_iou[matched])][:40]:
        add_box(fig, dboxes.boxes[k], POS, width=1)
    add_box(fig, gt, TRUTH, labels["truth"], width=3)
    fig.update_xaxes(range=[0, w])
    fig.update_yaxes(range=[h, 0])
    fig.update_layout(title=labels["ssd_title"].format(k=level + 1, fh=fh, fw=fw, a=a, n=len(matched)))
    return fig
