"""Figures of the optimisers chapter: the surface's contour with every trajectory, loss vs step (log y), the
effective learning rate (log y), the digits network's curves. Plotly only, SVG traces, ≤ 250 points a line."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.basics import optimizers as O

COLORS = {"sgd": "#636efa", "momentum": "#ef553b", "nesterov": "#00cc96", "adagrad": "#ab63fa",
          "rmsprop": "#ffa15a", "adam": "#19d3f3", "adamw": "#ff6692"}
MAX_POINTS = 250


def _every(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS points of n, the last one included."""
    idx = np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int))
    return idx


def _r(a, digits: int = 4) -> list:
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, dtype=float).ravel()]


def plot_race(snap: O.RaceSnapshot, labels: dict, grid: int = 60) -> go.Figure:
    """Contour of log10(f − f* + 1e-3) with each optimiser's path, start and current point."""
    s = O.SURFACE[snap.surface]
    xs, ys, z = O.surface_grid(snap.surface, grid)
    fig = go.Figure(go.Contour(x=_r(xs), y=_r(ys), z=np.round(np.log10(np.maximum(z, 0) + 1e-3), 2).tolist(),
                               colorscale="Greys", showscale=False, ncontours=25, hoverinfo="skip",
                               contours=dict(coloring="lines")))
    idx = _every(snap.path.shape[1])
    for k, name in enumerate(snap.names):
        p = np.clip(snap.path[k, idx], [s.x_range[0] - 1, s.y_range[0] - 1], [s.x_range[1] + 1, s.y_range[1] + 1])
        fig.add_trace(go.Scatter(x=_r(p[:, 0]), y=_r(p[:, 1]), mode="lines", name=labels[name],
                                 line=dict(color=COLORS[name], width=2), legendgroup=name))
        fig.add_trace(go.Scatter(x=_r(p[-1:, 0]), y=_r(p[-1:, 1]), mode="markers", showlegend=False,
                                 marker=dict(color=COLORS[name], size=9, symbol="x" if snap.diverged[k] else "circle"),
                                 legendgroup=name, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[s.minimum[0]], y=[s.minimum[1]], mode="markers", name=labels["minimum"],
                             marker=dict(symbol="star", size=14, color="gold", line=dict(color="black", width=1))))
    fig.add_trace(go.Scatter(x=_r(snap.path[0, :1, 0]), y=_r(snap.path[0, :1, 1]), mode="markers",
                             name=labels["start"], marker=dict(symbol="square", size=10, color="black")))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), title=labels["race_title"],
                      xaxis=dict(range=list(s.x_range), title="x"), yaxis=dict(range=list(s.y_range), title="y"),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def plot_curves(snap: O.RaceSnapshot, labels: dict) -> go.Figure:
    """Two panels: f − f* vs step and the effective learning rate of x vs step, both on log y."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["loss_title"], labels["eff_title"]))
    idx = _every(snap.loss.shape[1])
    for k, name in enumerate(snap.names):
        fig.add_trace(go.Scatter(x=idx.tolist(), y=_r(np.maximum(snap.loss[k, idx], 1e-16), 3), mode="lines",
                                 name=labels[name], line=dict(color=COLORS[name]), legendgroup=name), 1, 1)
        for j, dash in ((0, "solid"), (1, "dot")):
            fig.add_trace(go.Scatter(x=idx.tolist(), y=_r(np.maximum(snap.eff_lr[k, idx, j], 1e-12), 3),
                                     mode="lines", name=f"{labels[name]} ({'xy'[j]})", showlegend=False,
                                     line=dict(color=COLORS[name], dash=dash), legendgroup=name), 1, 2)
    fig.update_yaxes(type="log")
    fig.update_xaxes(title_text=labels["step"])
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def plot_digits(snap: O.DigitsSnapshot, labels: dict) -> go.Figure:
    """Two panels: training loss (log y) and test accuracy vs step."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["train_loss"], labels["test_acc"]))
    x = snap.steps.tolist()
    for k, name in enumerate(snap.names):
        fig.add_trace(go.Scatter(x=x, y=_r(snap.train_loss[k], 3), mode="lines", name=labels[name],
                                 line=dict(color=COLORS[name]), legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(snap.test_acc[k], 3), mode="lines", showlegend=False, name=labels[name],
                                 line=dict(color=COLORS[name]), legendgroup=name), 1, 2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text=labels["step"])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def plot_schedules(lr: float, total: int, labels: dict) -> go.Figure:
    """η_t of every schedule over `total` steps."""
    fig = go.Figure()
    t = _every(total + 1)
    for name in O.SCHEDULES:
        fig.add_trace(go.Scatter(x=t.tolist(), y=_r([O.scheduled_lr(name, lr, int(i), total) for i in t], 3),
                                 mode="lines", name=labels[f"sched_{name}"]))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), title=labels["sched_title"],
                      xaxis_title=labels["step"], yaxis_title="η")
    return fig
