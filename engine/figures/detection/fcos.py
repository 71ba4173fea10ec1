"""Figures of the fcos chapter: FPN level staircase, FCOS regression ranges, focal loss curves and imbalance,
the centre-ness map over the image, and how centre-ness re-ranks boxes."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.detection import fcos as F
from engine.figures.common import INFERNO, TRUTH, add_box, decades, image_figure, jpeg_uri, lab

LEVEL_COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd")   # P3 … P7


def plot_fpn_levels(side: float, labels: dict[str, str], k0: int = 4, canonical: float = 224) -> go.Figure:
    """k = ⌊k0 + log2(√(wh)/224)⌋ (clamped to 2…5) against √(wh), the current RoI marked."""
    s = np.geomspace(8, 2048, 400)
    k = F.fpn_level(s, s, k0, canonical)
    fig = go.Figure(go.Scatter(x=s, y=k, mode="lines", line=dict(shape="hv", color="#1f77b4"), name="k",
                               hovertemplate="√(wh) = %{x:.0f} px → P%{y}<extra></extra>"))
    kk = int(F.fpn_level(side, side, k0, canonical))
    fig.add_trace(go.Scatter(x=[side], y=[kk], mode="markers", marker=dict(size=14, color="#ff00ff"),
                             name=labels["your_box"]))
    fig.add_vline(x=canonical, line=dict(dash="dot", color="#888"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), title=labels["fpn_title"],
                      xaxis=dict(type="log", title=labels["side"]), yaxis=dict(title="k", dtick=1, range=[1.5, 5.5]),
                      showlegend=False)
    return decades(fig)


def plot_fcos_levels(img: np.ndarray, levels: list[F.LevelAssignment], box, scale: float,
                     labels: dict[str, str]) -> go.Figure:
    """The positive locations of each FCOS level inside the box (drawn at image scale): the locations whose
    max(l*,t*,r*,b*) falls into that level's range, so that level regresses the box there."""
    fig = image_figure(img, height=420)
    for lv, colour in zip(levels, LEVEL_COLOURS):
        m = lv.positive
        fig.add_trace(go.Scatter(
            x=lv.points[m, 0] / scale, y=lv.points[m, 1] / scale, mode="markers",
            name=f"P{lv.level} ({lab(labels, 'stride', 'stride')} {lv.stride}) · {int(m.sum())}",
            marker=dict(size=4 + 2 * (lv.level - 3), color=colour, line=dict(width=1, color="white")),
            text=[f"P{lv.level}: max(l,t,r,b) = {d:.0f}" for d in lv.max_dist[m]], hoverinfo="text"))
    add_box(fig, box, TRUTH, labels["truth"], width=3)
    # the legend below the x ticks, never over them
    fig.update_layout(legend=dict(orientation="h", y=-0.14, yanchor="top", font=dict(size=10)),
                      margin=dict(b=70))
    return fig


def plot_focal_curves(gamma: float, alpha: float, labels: dict[str, str]) -> go.Figure:
    """FL(p_t) for γ ∈ {0, 0.5, 1, 2, 5} (thin) and the chosen γ (thick, with α_t = α for a positive)."""
    p = np.linspace(0.005, 1.0, 400)
    fig = go.Figure()
    for g in (0.0, 0.5, 1.0, 2.0, 5.0):
        fig.add_trace(go.Scatter(x=p, y=F.focal_curve(p, g), mode="lines", name=f"γ = {g:g}",
                                 line=dict(width=1.5, dash="dot" if g else "solid")))
    fig.add_trace(go.Scatter(x=p, y=F.focal_curve(p, gamma, alpha), mode="lines",
                             name=labels["chosen"].format(gamma=f"{gamma:g}", alpha=f"{alpha:g}"),
                             line=dict(width=4, color="#ff00ff")))
    fig.add_vrect(x0=0.6, x1=1.0, fillcolor="rgba(44,160,44,0.08)", line_width=0,
                  annotation_text=labels["well_classified"], annotation_position="top left")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), title=labels["focal_title"],
                      xaxis_title=labels["p_t"], yaxis=dict(title=labels["loss"], range=[0, 5]))
    return fig


def plot_imbalance(im: F.Imbalance, labels: dict[str, str]) -> go.Figure:
    """Summed loss of the easy negatives vs the hard positives, with cross-entropy and with focal loss."""
    x = [labels["ce"], labels["fl"]]
    fig = go.Figure([
        go.Bar(x=x, y=[im.ce_neg, im.fl_neg], name=labels["easy_neg"], marker_color="#888",
               text=[f"{v:.3g}" for v in (im.ce_neg, im.fl_neg)], textposition="outside"),
        go.Bar(x=x, y=[im.ce_pos, im.fl_pos], name=labels["hard_pos"], marker_color="#d62728",
               text=[f"{v:.3g}" for v in (im.ce_pos, im.fl_pos)], textposition="outside")])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), barmode="group", yaxis_type="log",
                      title=labels["imbalance_title"], yaxis_title=labels["summed_loss"],
                      legend=dict(orientation="h", y=-0.15))
    return decades(fig)


def plot_centerness(img: np.ndarray, cmap: F.CenternessMap, box, labels: dict[str, str]) -> go.Figure:
    """The centre-ness of every location inside the box as a heatmap over the image (transparent outside)."""
    fig = image_figure(img, height=420)
    step = float(cmap.xs[1] - cmap.xs[0]) if len(cmap.xs) > 1 else 1.0
    fig.add_trace(go.Heatmap(z=cmap.value, x=cmap.xs, y=cmap.ys, zmin=0, zmax=1, colorscale=INFERNO, opacity=0.65,
                             colorbar=dict(title="centerness*", len=0.8, thickness=12), dx=step,
                             hovertemplate="(%{x:.0f}, %{y:.0f}): %{z:.3f}<extra></extra>"))
    add_box(fig, box, TRUTH, labels["truth"], width=3)
    return fig


def _iou_colour(v: float) -> str:
    """IoU 0.3 (or less) red … 1.0 green."""
    q = float(np.clip((v - 0.3) / 0.7, 0, 1))
    return f"rgb({int(230 * (1 - q))},{int(190 * q)},40)"


def plot_rerank(img: np.ndarray, preds: F.Predictions, box, rk: F.Rerank, labels: dict[str, str]) -> go.Figure:
    """Left: the top-k boxes by classification score; right: by score × centre-ness. Colour = IoU with the truth
    (red poor, green good); the locations that predicted them are marked."""
    h, w = img.shape[:2]
    fig = make_subplots(1, 2, subplot_titles=(labels["by_cls"], labels["by_ctr"]), horizontal_spacing=0.08)
    src = jpeg_uri(img)
    for col, score, order in ((1, preds.cls, rk.top_cls), (2, preds.cls * preds.ctr, rk.top_ctr)):
        fig.add_trace(go.Image(source=src, x0=0.5, y0=0.5, dx=1, dy=1, hoverinfo="skip"), 1, col)
        for i in order[::-1]:
            add_box(fig, preds.boxes[i], _iou_colour(float(preds.iou[i])), width=2, row=1, col=col)
        fig.add_trace(go.Scatter(
            x=preds.points[order, 0], y=preds.points[order, 1], mode="markers", showlegend=False,
            marker=dict(size=7, color=[_iou_colour(float(v)) for v in preds.iou[order]],
                        line=dict(width=1, color="white")),
            text=[f"score {score[i]:.3f} · IoU {preds.iou[i]:.2f}" for i in order], hoverinfo="text"), 1, col)
        add_box(fig, box, TRUTH, width=1, dash="dot", row=1, col=col)
        fig.update_xaxes(range=[0, w], showgrid=False, zeroline=False, row=1, col=col)
        fig.update_yaxes(range=[h, 0], showgrid=False, zeroline=False, scaleanchor=f"x{col if col > 1 else ''}",
                         row=1, col=col)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white")
    return fig


def plot_score_vs_iou(preds: F.Predictions, labels: dict[str, str]) -> go.Figure:
    """Every prediction: IoU with the truth against the score used for ranking, both ways."""
    fig = go.Figure([
        go.Scatter(x=preds.cls, y=preds.iou, mode="markers", name=labels["cls"],
                   marker=dict(size=4, color="#888", opacity=0.6)),
        go.Scatter(x=preds.cls * preds.ctr, y=preds.iou, mode="markers", name=labels["cls_ctr"],
                   marker=dict(size=4, color="#ff00ff", opacity=0.6))])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), title=labels["scatter_title"],
                      xaxis=dict(title=labels["score"], range=[0, 1]), yaxis=dict(title="IoU", range=[0, 1]),
                      legend=dict(orientation="h", y=-0.2))
    return fig
