"""Figures of the Grad-CAM chapter: heatmap overlays, channel weights α_k, sanity check, deletion curves."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import jpeg_uri, shrink, square_axes

COLORMAPS = ("jet", "viridis", "inferno", "hot")
DISPLAY = 56      # cells: heatmaps are smooth (upsampled from ≤ 28×28 conv cells), so the layer is sent at this size
PANEL = 165       # px: the height of one square panel in a row of five (a column is ~150–165 px wide on a desktop)


def plot_overlay(rgb: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5, colorscale: str = "jet",
                 title: str = "", zmax: float = 1.0, height: int = 300) -> go.Figure:
    """The photo with a heatmap (H, W) in [0, 1] laid over it; hover shows the map's value. `height` in px (the
    figure is as wide as its column: a height near the column's width leaves no empty band around the square)."""
    h, w = heatmap.shape
    small = shrink(heatmap, DISPLAY)
    f = h / small.shape[0]
    fig = go.Figure()
    fig.add_trace(go.Image(source=jpeg_uri(rgb, 85), x0=0, dx=1, y0=0, dy=1, hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=small.round(2), zsmooth="best", x0=(f - 1) / 2, dx=f, y0=(f - 1) / 2, dy=f, zmin=0, zmax=zmax,
                             colorscale=colorscale, opacity=opacity, showscale=False,
                             hovertemplate="%{z:.2f}<extra></extra>"))
    square_axes(fig, h, w)
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def plot_image(rgb: np.ndarray, title: str = "", height: int = 300) -> go.Figure:
    """An RGB image (H, W, 3) uint8, e.g. a deprocessed Guided Backprop gradient."""
    h, w = rgb.shape[:2]
    fig = go.Figure(go.Image(source=jpeg_uri(rgb, 85), hoverinfo="skip"))
    square_axes(fig, h, w)
    fig.update_layout(title=title, height=height, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def plot_channel_weights(weights: np.ndarray, activations: np.ndarray, top: int = 20, title: str = "",
                         xlabel: str = "channel k", ylabel: str = "α_k") -> go.Figure:
    """The `top` channels with the largest |α_k| (bars), coloured by sign; hover adds the channel's mean
    activation, since a channel's share of the map is α_k · A^k."""
    idx = np.argsort(-np.abs(weights))[:top]
    fig = go.Figure(go.Bar(
        x=[f"k={k}" for k in idx], y=weights[idx],
        marker_color=np.where(weights[idx] >= 0, "#d62728", "#1f77b4"),
        customdata=np.stack([activations[idx], weights[idx] * activations[idx]], axis=1),
        hovertemplate="%{x}<br>α=%{y:.4g}<br>mean A=%{customdata[0]:.3g}<br>α·mean A=%{customdata[1]:.3g}"
                      "<extra></extra>"))
    fig.update_layout(title=title, height=280, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel, yaxis_title=ylabel)
    return fig


def plot_cam_grid(cam: np.ndarray, colorscale: str = "jet", title: str = "") -> go.Figure:
    """The map at the layer's own resolution (h, w), numbers printed in the cells when it is small (≤ 14×14).
    In a narrow column give the title to the page instead (page text wraps; a plotly title is cut off)."""
    h, w = cam.shape
    text = np.round(cam, 2).astype(str) if h * w <= 196 else None
    fig = go.Figure(go.Heatmap(z=cam.astype(np.float32), colorscale=colorscale, text=text,
                               texttemplate="%{text}" if text is not None else None,
                               hovertemplate="(%{y}, %{x}) %{z:.3g}<extra></extra>", showscale=False))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False)
    fig.update_layout(title=title, height=280, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def plot_sanity(maps: np.ndarray, labels: list[str], spearman: np.ndarray, colorscale: str = "jet",
                title: str = "") -> go.Figure:
    """One small map per randomisation step with its rank correlation to the trained model's map."""
    n = len(maps)
    fig = make_subplots(rows=1, cols=n, subplot_titles=[f"{lab}<br>ρ={r:.2f}" for lab, r in zip(labels, spearman)],
                        horizontal_spacing=0.01)
    for i, m in enumerate(maps):
        small = shrink(m, 28).round(2)
        fig.add_trace(go.Heatmap(z=small, zsmooth="best", zmin=0, zmax=1, colorscale=colorscale, showscale=False,
                                 hovertemplate="%{z:.2f}<extra></extra>"), row=1, col=i + 1)
        fig.update_xaxes(visible=False, row=1, col=i + 1)
        # square maps at any width (a phone stacks the panels, full width: ui.charts.panels)
        fig.update_yaxes(visible=False, autorange="reversed", scaleanchor=f"x{i + 1 if i else ''}", constrain="domain",
                         row=1, col=i + 1)
    fig.update_annotations(font_size=11)
    fig.update_layout(title=title, height=230, margin=dict(l=0, r=0, t=70, b=0))
    return fig


def plot_deletion(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], title: str = "",
                  xlabel: str = "fraction of pixels removed", ylabel: str = "p(class)") -> go.Figure:
    """Confidence as the most important pixels are removed, one line per method: {name: (fractions, probs, auc)}."""
    fig = go.Figure()
    for name, (fr, p, auc) in curves.items():
        dash = "dot" if name.startswith("random") or name.startswith("ランダム") else None
        fig.add_trace(go.Scatter(x=fr, y=p, mode="lines+markers", name=f"{name} (AUC {auc:.3f})",
                                 line=dict(dash=dash)))
    fig.update_layout(title=title, height=320, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel, yaxis_title=ylabel, yaxis_range=[0, 1.02], legend=dict(font_size=11))
    return fig


def plot_topk(names: list[str], probs: np.ndarray, title: str = "") -> go.Figure:
    """The model's top-k classes (horizontal bars)."""
    fig = go.Figure(go.Bar(x=probs[::-1], y=names[::-1], orientation="h",
                           texttemplate="%{x:.1%}", hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    fig.update_layout(title=title, height=200, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_range=[0, 1], xaxis_tickformat=".0%")
    return fig
