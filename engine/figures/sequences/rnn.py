"""Figures of the RNN, LSTM, GRU chapter: states and gates per step as heatmaps (the steps not yet read left blank),
both directions of a bidirectional layer, the gradient norm reaching each earlier step, clipping by norm vs by value
in 2-D, the live memory-task curves. Plotly only, SVG traces."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.sequences import rnn as R

COLORS = {"rnn": "#636efa", "lstm": "#ef553b", "gru": "#00cc96"}
ROWS = {"rnn": ("h",), "lstm": ("f", "i", "g", "o", "c", "h"), "gru": ("z", "r", "n", "h")}
ZRANGE = {"f": (0, 1), "i": (0, 1), "o": (0, 1), "z": (0, 1), "r": (0, 1)}     # gates σ ∈ (0, 1); the rest ±1


def _r(a, digits: int = 3) -> list:
    return [None if not np.isfinite(v) else float(f"{v:.{digits}g}") for v in np.asarray(a, dtype=float).ravel()]


def _grid(a: np.ndarray, step: int) -> list:
    """(T, H) → H rows of T values, the steps after `step` (1-based) blank."""
    m = np.round(a.T.astype(float), 3)
    out = m.tolist()
    for row in out:
        for t in range(step, len(row)):
            row[t] = None
    return out


def _xlabels(chars: list[str]) -> list[str]:
    return [f"{t + 1}:{'␣' if c == ' ' else c}" for t, c in enumerate(chars)]


def plot_trace(chars: list[str], trace: R.Trace, step: int, labels: dict) -> go.Figure:
    """One heatmap per gate / state (rows: units, columns: characters); steps after `step` not yet read."""
    rows = ROWS[trace.kind]
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        subplot_titles=[labels[f"row_{r}"] for r in rows])
    x = _xlabels(chars)
    for k, name in enumerate(rows, start=1):
        a = trace.h[0] if name == "h" else trace.c[0] if name == "c" else trace.gates[name][0]
        lo, hi = ZRANGE.get(name, (-1, 1))
        fig.add_trace(go.Heatmap(z=_grid(a, step), x=x, y=list(range(1, a.shape[1] + 1)), zmin=lo, zmax=hi,
                                 colorscale="Viridis" if name in ZRANGE else "RdBu", reversescale=name not in ZRANGE,
                                 showscale=False, hovertemplate=f"{name}" + "[%{y}] at %{x}: %{z}<extra></extra>",
                                 xgap=1, ygap=1), k, 1)
        fig.update_yaxes(showticklabels=False, row=k, col=1)
    if 0 < step <= len(chars):
        fig.add_vline(x=step - 1, line=dict(color="black", width=2))
    fig.update_xaxes(type="category", tickangle=0)
    fig.update_layout(height=110 + 105 * len(rows), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_bidirectional(chars: list[str], bi: R.BiTrace, labels: dict) -> go.Figure:
    """h→ (read left to right) and h← (read right to left), each (units × characters)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=(labels["bi_forward"], labels["bi_backward"]))
    x = _xlabels(chars)
    for k, tr in enumerate((bi.forward, bi.backward), start=1):
        a = tr.h[0]
        fig.add_trace(go.Heatmap(z=np.round(a.T, 3).tolist(), x=x, y=list(range(1, a.shape[1] + 1)), zmin=-1, zmax=1,
                                 colorscale="RdBu", reversescale=True, showscale=False, xgap=1, ygap=1,
                                 hovertemplate="h[%{y}] at %{x}: %{z}<extra></extra>"), k, 1)
        fig.update_yaxes(showticklabels=False, row=k, col=1)
    fig.update_xaxes(type="category", tickangle=0)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_vanishing(v: R.Vanishing, labels: dict) -> go.Figure:
    """‖∂L/∂x_t‖ against the distance T − t from the loss, log y, one line per cell."""
    fig = go.Figure()
    back = np.arange(v.T)                                         # T − t for t = T … 1
    for kind in R.KINDS:
        y = np.maximum(v.norms[kind][::-1], 1e-30)
        fig.add_trace(go.Scatter(x=back.tolist(), y=_r(y), mode="lines+markers", name=labels[kind],
                                 marker=dict(size=4), line=dict(color=COLORS[kind])))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), title=labels["van_title"],
                      xaxis_title=labels["van_x"], yaxis=dict(type="log", title=labels["van_y"], exponentformat="power"),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def plot_clipping(g: tuple[float, float], threshold: float, labels: dict) -> go.Figure:
    """A 2-D gradient g, its clipping by norm (the circle ‖g‖ ≤ c: same direction) and by value (the square
    |g_k| ≤ c: each component cut, the direction turns)."""
    by_norm = R.clip_by_norm([np.asarray(g, float)], threshold).grads[0]
    by_value = R.clip_by_value([np.asarray(g, float)], threshold).grads[0]
    c = threshold
    th = np.linspace(0, 2 * np.pi, 73)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_r(c * np.cos(th)), y=_r(c * np.sin(th)), mode="lines", name=labels["clip_circle"],
                             line=dict(color="#888", dash="dot"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[-c, c, c, -c, -c], y=[-c, -c, c, c, -c], mode="lines", name=labels["clip_square"],
                             line=dict(color="#bbb", dash="dash"), hoverinfo="skip"))
    for vec, name, colour in ((g, "clip_g", "black"), (by_norm, "clip_norm", "#ef553b"),
                              (by_value, "clip_value", "#636efa")):
        fig.add_trace(go.Scatter(x=[0, float(vec[0])], y=[0, float(vec[1])], mode="lines+markers", name=labels[name],
                                 line=dict(color=colour, width=3), marker=dict(size=[0, 10], symbol="arrow",
                                                                             angleref="previous")))
    m = max(abs(g[0]), abs(g[1]), c) * 1.15
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=40, b=10), title=labels["clip_title"],
                      xaxis=dict(range=[-m, m], zeroline=True, title="g₁"),
                      yaxis=dict(range=[-m, m], scaleanchor="x", zeroline=True, title="g₂"),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def plot_memory(snaps: dict, labels: dict, target: float = R.TARGET_ACC, clip: float = 1.0) -> go.Figure:
    """Three panels: held-out accuracy, training loss (log) and the gradient norm before clipping (log, the clipping
    threshold dashed) vs update, one line per cell."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=(labels["mem_acc"], labels["mem_loss"], labels["mem_grad"]))
    for kind in R.KINDS:
        s = snaps.get(kind)
        if s is None:
            continue
        x = s.steps.tolist()
        fig.add_trace(go.Scatter(x=x, y=_r(s.acc), mode="lines", name=labels[kind], legendgroup=kind,
                                 line=dict(color=COLORS[kind])), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(s.loss), mode="lines", name=labels[kind], legendgroup=kind,
                                 showlegend=False, line=dict(color=COLORS[kind])), 1, 2)
        fig.add_trace(go.Scatter(x=x, y=_r(s.grad_norm), mode="lines", name=labels[kind], legendgroup=kind,
                                 showlegend=False, line=dict(color=COLORS[kind])), 1, 3)
    fig.add_hline(y=target, line=dict(color="#888", dash="dash"), row=1, col=1)
    fig.add_hline(y=clip, line=dict(color="#888", dash="dash"), row=1, col=3)
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=3)
    fig.update_xaxes(title_text=labels["step"])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig
