"""Plotly figures of the WideResNet chapter: pure functions of engine results, no streamlit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import decades

from engine.vision import wideresnet as wrn

_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def plot_groups(prof: wrn.NetProfile, labels: dict[str, str]) -> go.Figure:
    """Parameters and MACs of each group (conv1, conv2–4, head), output shape on the bars.

    labels: params, macs.
    """
    names = [g.name for g in prof.groups]
    shapes = ["×".join(str(v) for v in g.out_shape) for g in prof.groups]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["params"], labels["macs"]))
    fig.add_trace(go.Bar(x=names, y=[g.params / 1e6 for g in prof.groups], text=shapes, textposition="outside",
                         marker_color="#1f77b4", showlegend=False,
                         hovertemplate="%{x}: %{y:.3f} M<extra></extra>"), 1, 1)
    fig.add_trace(go.Bar(x=names, y=[g.macs / 1e9 for g in prof.groups], text=shapes, textposition="outside",
                         marker_color="#ff7f0e", showlegend=False,
                         hovertemplate="%{x}: %{y:.3f} G<extra></extra>"), 1, 2)
    fig.update_yaxes(title_text="M", row=1, col=1)
    fig.update_yaxes(title_text="G", row=1, col=2)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_receptive_field(curves: dict[str, list[int]], side: int, labels: dict[str, str]) -> go.Figure:
    """Receptive field after each convolution for each network, against relative depth (layer / total), with
    the image side as a reference line.  labels: depth, rf, image."""
    fig = go.Figure()
    for color, (name, rf) in zip(_COLORS, curves.items()):
        rf = np.asarray(rf)
        step = max(1, len(rf) // 400)                    # keep the figure small for 1000-layer networks
        idx = np.r_[np.arange(0, len(rf), step), len(rf) - 1]
        fig.add_trace(go.Scatter(x=(idx + 1) / len(rf), y=rf[idx], mode="lines", name=name,
                                 line=dict(color=color), customdata=idx + 1,
                                 hovertemplate="layer %{customdata}: %{y} px<extra></extra>"))
    top = max(max(rf) for rf in curves.values())
    fig.add_trace(go.Scatter(x=[0, 1], y=[side, side], mode="lines", name=labels["image"], hoverinfo="skip",
                             line=dict(color="#7f7f7f", dash="dash")))
    fig.update_layout(xaxis_title=labels["depth"], yaxis_title=labels["rf"], yaxis_type="log",
                      yaxis_range=[0, np.log10(max(top, side) * 2)], xaxis_range=[0, 1], height=380,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12))
    return decades(fig)


def plot_compare(rows: dict[str, wrn.NetProfile], labels: dict[str, str]) -> go.Figure:
    """Depth vs parameters (log–log), marker area ∝ MACs: wide-and-shallow against thin-and-deep.

    labels: params, depth, macs.
    """
    fig = go.Figure()
    macs = np.array([p.macs for p in rows.values()], dtype=float)
    size = 12 + 40 * np.sqrt(macs / macs.max())
    for color, s, (name, p) in zip(_COLORS, size, rows.items()):
        fig.add_trace(go.Scatter(x=[p.params / 1e6], y=[p.depth], mode="markers+text", text=[name],
                                 textposition="top center", name=name, showlegend=False,
                                 marker=dict(size=s, color=color, opacity=0.7),
                                 hovertemplate=f"{name}<br>%{{x:.2f}} M<br>d=%{{y}}<br>"
                                               f"{labels['macs']}: {p.macs / 1e9:.2f} G<extra></extra>"))
    fig.update_layout(xaxis_title=labels["params"], yaxis_title=labels["depth"], xaxis_type="log",
                      yaxis_type="log", height=400, margin=dict(l=10, r=10, t=30, b=10))
    return decades(fig)
