"""Figures of the metric-learning chapter: 2-D embeddings of seen and unseen digits, training curves."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from engine.figures.common import curve_traces, lab

COLOURS = qualitative.D3          # one colour per digit class


def plot_embedding(snap, *, title: str = "", labels: dict | None = None) -> go.Figure:
    """The drawn digits in the embedding: seen classes 0–6 as dots, unseen 7–9 as crosses."""
    fig = go.Figure()
    for c in range(10):
        m = snap.labels == c
        e = np.asarray(snap.emb[m], float)
        unseen = c >= 7
        fig.add_trace(go.Scatter(
            x=np.round(e[:, 0], 3), y=np.round(e[:, 1], 3), mode="markers", name=str(c),
            marker=dict(color=COLOURS[c], size=7 if unseen else 5, symbol="x" if unseen else "circle"),
            hovertemplate=f"{c}<extra></extra>"))
    # the legend in one or two rows under the plot: at the side it took a third of a narrow column
    fig.update_layout(title=title, height=400, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(title=lab(labels, "digit", "digit"), font=dict(size=10), orientation="h",
                                  y=-0.14, yanchor="top", itemwidth=30, tracegroupgap=0))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def plot_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], *, title: str = "", y_title: str = "",
                y_range=None, labels: dict | None = None) -> go.Figure:
    """One line per model: {name: (steps, values)} (NaNs dropped), at most 200 points each."""
    fig = go.Figure(curve_traces(curves, labels))
    for tr in fig.data:                    # before the second snapshot a line has one point: draw it as a dot
        tr.update(mode="lines+markers", marker=dict(size=6 if len(tr.x) < 2 else 3))
    fig.update_layout(title=title, height=290, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.3, yanchor="top", font=dict(size=10)),
                      xaxis_title=lab(labels, "step", "step"), yaxis_title=y_title)
    if y_range is not None:
        fig.update_yaxes(range=y_range)
    return fig


def plot_neighbours(query: np.ndarray, gallery: list[np.ndarray], distance: np.ndarray, *,
                    labels: dict | None = None) -> go.Figure:
    """The query and its nearest gallery photos side by side (one JPEG), cosine distances in the title."""
    from engine.figures.common import jpeg_uri
    gap, thin = np.full((query.shape[0], 12, 3), 255, np.uint8), np.full((query.shape[0], 4, 3), 255, np.uint8)
    strip = np.concatenate([query, gap] + [part for g in gallery for part in (g, thin)][:-1], 1)   # one photo each
    fig = go.Figure(go.Image(source=jpeg_uri(strip)))
    dists = "  ".join(f"{d:.3f}" for d in distance)
    fig.update_layout(height=200, margin=dict(l=0, r=0, t=30, b=0),
                      title=f"{lab(labels, 'query', 'query')} | 1 − cos: {dists}")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
