"""Figures of the self-supervised chapter: the views, the NT-Xent cosine matrix, training curves."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.figures.common import curve_traces, jpeg_uri, lab


def plot_views(views: np.ndarray, *, labels: dict | None = None) -> go.Figure:
    """views (2N, H, W, 3) uint8: row 1 the first views, row 2 the second, one JPEG."""
    n = len(views) // 2
    top, bottom = np.concatenate(list(views[:n]), 1), np.concatenate(list(views[n:]), 1)
    img = np.concatenate([top, bottom], 0)
    fig = go.Figure(go.Image(source=jpeg_uri(img)))
    fig.update_layout(height=260, margin=dict(l=0, r=0, t=30, b=0), title=lab(labels, "views", "views"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def plot_similarity(sim: np.ndarray, positive: np.ndarray, *, labels: dict | None = None) -> go.Figure:
    """The 2N × 2N cosine matrix; each row's positive (the other view) outlined."""
    n2 = len(sim)
    names = [f"{i % (n2 // 2) + 1}{'ab'[i // (n2 // 2)]}" for i in range(n2)]
    z = np.round(sim, 3).astype(float)
    np.fill_diagonal(z, np.nan)
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                               colorbar=dict(title="cos")))
    fig.add_trace(go.Scatter(x=[names[j] for j in positive], y=names, mode="markers", name=lab(labels, "positive", "positive"),
                             marker=dict(symbol="square-open", size=max(8, 240 // n2), color="black", line=dict(width=3))))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      title=lab(labels, "matrix", "cosine similarity"))
    fig.update_yaxes(autorange="reversed")
    return fig


def plot_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], *, title: str = "", hlines: dict | None = None,
                y_range=None, labels: dict | None = None) -> go.Figure:
    """One line per model {name: (steps, values)} (NaNs dropped, ≤ 200 points), optional horizontal references."""
    fig = go.Figure(curve_traces(curves, labels))
    for tr in fig.data:                    # before the second snapshot a line has one point: draw it as a dot
        tr.update(mode="lines+markers", marker=dict(size=6 if len(tr.x) < 2 else 3))
    for name, v in (hlines or {}).items():
        if np.isfinite(v):
            fig.add_hline(y=round(float(v), 4), line_dash="dot", annotation_text=lab(labels, name, name))
    fig.update_layout(title=title, height=290, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.3, yanchor="top", font=dict(size=10)),
                      xaxis_title=lab(labels, "step", "step"))
    if y_range is not None:
        fig.update_yaxes(range=y_range)
    return fig
