"""Figures of Basics › Initialisation & normalisation (pure: data in, go.Figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.basics import init_norm as I

COLORS = {"none": "#7f7f7f", "batch": "#E4572E", "layer": "#1f77b4"}
STAT_COLORS = ["#E4572E", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
               "#bcbd22", "#7f7f7f", "#393b79", "#637939"]
CH_COLORS = ["#d62728", "#2ca02c", "#1f77b4"]


def _r(a, d: int = 4) -> list:
    return np.round(np.asarray(a, dtype=float), d).tolist()


def plot_histograms(s: I.DeepStats, labels: dict) -> go.Figure:
    """Two panels, layer by layer (x): the share of activations per value (y) and of gradients per log10 |∂L/∂a|."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["act_hist"], labels["grad_hist"]),
                        horizontal_spacing=0.12)
    layers = list(range(1, s.depth + 1))
    a_mid = (I.ACT_EDGES[:-1] + I.ACT_EDGES[1:]) / 2
    g_mid = (I.GRAD_EDGES[:-1] + I.GRAD_EDGES[1:]) / 2
    # √share so that thin tails stay visible next to a spike; the hover says the share itself
    fig.add_trace(go.Heatmap(x=layers, y=_r(a_mid, 3), z=_r(np.sqrt(s.act_hist.T), 3), customdata=_r(s.act_hist.T),
                             colorscale="Viridis", showscale=False,
                             hovertemplate=labels["layer"] + " %{x}<br>a ≈ %{y}<br>%{customdata:.1%}<extra></extra>"),
                  1, 1)
    fig.add_trace(go.Heatmap(x=layers, y=_r(g_mid, 3), z=_r(np.sqrt(s.grad_hist.T), 3),
                             customdata=_r(s.grad_hist.T), colorscale="Viridis", showscale=False,
                             hovertemplate=labels["layer"] + " %{x}<br>log₁₀|∂L/∂a| ≈ %{y}<br>%{customdata:.1%}"
                                                             "<extra></extra>"), 1, 2)
    fig.update_xaxes(title_text=labels["layer"], dtick=1 if s.depth <= 20 else 5)
    fig.update_yaxes(title_text="a", row=1, col=1)
    fig.update_yaxes(title_text="log₁₀ |∂L/∂a|", row=1, col=2)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_layer_std(s: I.DeepStats, labels: dict) -> go.Figure:
    """Two panels: the std of each layer's activations, and of its gradients (log y), with the flat share."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["act_std"], labels["grad_std"]),
                        horizontal_spacing=0.12)
    layers = list(range(1, s.depth + 1))
    fig.add_trace(go.Scatter(x=layers, y=_r(s.act_std, 6), mode="lines+markers", name=labels["act_std"],
                             customdata=_r(s.flat, 3),
                             hovertemplate="%{y:.3g}<br>" + labels["flat"] + " %{customdata:.0%}<extra></extra>"),
                  1, 1)
    g = np.where(s.grad_std > 0, s.grad_std, np.nan)
    fig.add_trace(go.Scatter(x=layers, y=[None if not np.isfinite(v) else float(f"{v:.4g}") for v in g],
                             mode="lines+markers", name=labels["grad_std"]), 1, 2)
    fig.update_yaxes(type="log", row=1, col=2, exponentformat="power")
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text=labels["layer"])
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    return fig


def _grid(planes: np.ndarray, gap: int = 1) -> tuple[np.ndarray, int, int]:
    """(N, C, h, w) → one (N·(h+gap), C·(w+gap)) array, NaN in the gaps; tile (n, c) at row n, column c."""
    n, c, h, w = planes.shape
    out = np.full((n * (h + gap) - gap, c * (w + gap) - gap), np.nan)
    for i in range(n):
        for j in range(c):
            out[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = planes[i, j]
    return out, h + gap, w + gap


def plot_norm_tensor(r: I.NormResult, labels: dict, which: str = "x", channels=I.CHANNELS) -> go.Figure:
    """The batch as an N × C grid of H × W planes (rows: samples, columns: channels), one frame per statistic around
    the planes it averages over, each labelled with its μ and σ (the input, `which="x"`, or the normalised output)."""
    planes = r.x if which == "x" else r.y
    n, c, h, w = planes.shape
    grid, th, tw = _grid(planes)
    lim = float(np.nanmax(np.abs(grid))) or 1.0
    fig = go.Figure(go.Heatmap(z=np.round(grid, 3).tolist(), colorscale="RdBu_r", zmin=-lim, zmax=lim,
                               showscale=True, colorbar=dict(thickness=10, len=0.8),
                               hovertemplate="%{z:.3f}<extra></extra>", xgap=0, ygap=0))
    S = len(r.mean)
    for k in range(S):
        rows, cols = np.nonzero(r.ids == k)
        r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
        colour = STAT_COLORS[k % len(STAT_COLORS)]
        fig.add_shape(type="rect", x0=c0 * tw - 0.8, x1=c1 * tw + w - 0.2, y0=r0 * th - 0.8, y1=r1 * th + h - 0.2,
                      line=dict(color=colour, width=2.5))
        if S <= 12:
            fig.add_annotation(x=(c0 * tw + c1 * tw + w) / 2 - 0.5, y=r1 * th + h + 0.3, yanchor="top",
                               text=f"μ={r.mean[k]:.3f}<br>σ={np.sqrt(r.var[k]):.3f}", showarrow=False,
                               font=dict(size=10, color=colour))
    fig.update_xaxes(tickvals=[j * tw + (w - 1) / 2 for j in range(c)], ticktext=list(channels[:c]), side="top",
                     showgrid=False, zeroline=False)
    fig.update_yaxes(tickvals=[i * th + (h - 1) / 2 for i in range(n)], ticktext=[f"n={i}" for i in range(n)],
                     autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x")
    title = labels["tensor_x"] if which == "x" else labels["tensor_y"]
    fig.update_layout(height=120 + 70 * n + (30 if S <= 12 else 0), margin=dict(l=10, r=10, t=60, b=10),
                      title=dict(text=title, y=0.98))
    return fig


def plot_running(rs: I.RunningStats, labels: dict, channels=("R", "G", "B")) -> go.Figure:
    """Each batch's mean (dots) and BatchNorm's running mean (line) per channel, the data's mean dashed."""
    fig = go.Figure()
    T = len(rs.batch_mean)
    t = list(range(1, T + 1))
    for j, name in enumerate(channels):
        col = CH_COLORS[j % len(CH_COLORS)]
        fig.add_trace(go.Scatter(x=t, y=_r(rs.batch_mean[:, j]), mode="markers", marker=dict(color=col, size=5,
                                 opacity=0.5), name=f"{labels['batch_mean']} {name}", legendgroup=name))
        fig.add_trace(go.Scatter(x=[0] + t, y=_r(rs.running_mean[:, j]), mode="lines", line=dict(color=col),
                                 name=f"{labels['running_mean']} {name}", legendgroup=name))
        fig.add_hline(y=float(rs.population_mean[j]), line=dict(color=col, dash="dash", width=1))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=labels["batch_no"],
                      yaxis_title="μ", legend=dict(orientation="h", y=-0.3), title=labels["running_title"])
    return fig


def plot_digits(snap: I.DigitsSnapshot, labels: dict) -> go.Figure:
    """Two panels: training loss and test accuracy vs step for no norm, BatchNorm and LayerNorm."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["train_loss"], labels["test_acc"]))
    x = snap.steps.tolist()
    for k, name in enumerate(snap.names):
        fig.add_trace(go.Scatter(x=x, y=_r(snap.train_loss[k], 3), mode="lines+markers", marker=dict(size=4),
                                 name=labels[f"variant_{name}"], line=dict(color=COLORS[name]), legendgroup=name),
                      1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(snap.test_acc[k], 3), mode="lines+markers", marker=dict(size=4),
                                 showlegend=False,
                                 name=labels[f"variant_{name}"], line=dict(color=COLORS[name]), legendgroup=name),
                      1, 2)
    fig.update_xaxes(title_text=labels["step"])
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig
