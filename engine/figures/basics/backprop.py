"""Plotly figures of the backpropagation chapter: pure functions of engine results, no streamlit, SVG traces only."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.basics import backprop as B
from engine.figures.common import decades, lab

VAR, CONST, OP, CURRENT, GRAD = "#1f77b4", "#9e9e9e", "#ffffff", "#d62728", "#ff7f0e"
ACT_COLOUR = {"sigmoid": "#1f77b4", "tanh": "#2ca02c", "relu": "#d62728", "gelu": "#9467bd"}


def _g(v) -> str:
    return "·" if v is None else f"{v:.3g}"


def layout_positions(graph: B.Graph) -> np.ndarray:
    """(N, 2) positions: an operation's x is its longest path from a leaf, a variable or constant sits one column
    left of its first reader (output at the right); y is placed column by column from the output back, each node
    near the mean height of its readers, one unit apart."""
    n = len(graph.nodes)
    level = np.zeros(n, int)
    for node in graph.nodes:
        if node.inputs:
            level[node.id] = 1 + max(level[i] for i in node.inputs)
    readers: list[list[int]] = [[] for _ in range(n)]
    for node in graph.nodes:
        for i in node.inputs:
            readers[i].append(node.id)
    for node in graph.nodes:
        if not node.inputs and readers[node.id]:
            level[node.id] = min(level[r] for r in readers[node.id]) - 1
    level -= level.min()
    pos = np.zeros((n, 2))
    pos[:, 0] = level
    for lv in range(level.max(), -1, -1):
        ids = [i for i in range(n) if level[i] == lv]
        want = np.array([np.mean([pos[r, 1] for r in readers[i]]) if readers[i] else 0.0 for i in ids])
        order = np.argsort(-want, kind="stable")
        centre = float(want.mean())
        for rank, j in enumerate(order):
            pos[ids[j], 1] = centre + (len(ids) - 1) / 2 - rank
    return pos


def plot_graph(graph: B.Graph, steps: list[B.Step], k: int, labels: dict | None = None) -> go.Figure:
    """The graph after `k` backward steps: each node's forward value below it and its gradient ∂L/∂node above it
    (· before anything has arrived); the k-th step's node and edges highlighted with local × upstream."""
    pos = layout_positions(graph)
    grads = steps[k - 1].grads if k > 0 else (None,) * len(graph.nodes)
    current = steps[k - 1] if k > 0 else None
    hot = {(e.source, current.node) for e in current.edges} if current else set()
    fig = go.Figure()
    ex, ey, hx, hy = [], [], [], []
    for node in graph.nodes:
        for i in node.inputs:
            xs, ys = (hx, hy) if (i, node.id) in hot else (ex, ey)
            xs += [pos[i, 0], pos[node.id, 0], None]
            ys += [pos[i, 1], pos[node.id, 1], None]
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#bbbbbb", width=1.5), hoverinfo="skip",
                             showlegend=False))
    if hx:
        fig.add_trace(go.Scatter(x=hx, y=hy, mode="lines", line=dict(color=CURRENT, width=3.5), hoverinfo="skip",
                                 showlegend=False))
    fill = [VAR if n.op == "var" else CONST if n.op == "const" else OP for n in graph.nodes]
    border = [CURRENT if current and n.id == current.node else "#444444" for n in graph.nodes]
    width = [4 if current and n.id == current.node else 1.5 for n in graph.nodes]
    text_colour = ["#ffffff" if n.op in ("var", "const") else "#000000" for n in graph.nodes]
    value_word, grad_word = lab(labels, "value", "value"), lab(labels, "grad", "gradient")
    hover = [f"{n.label} ({n.op})<br>{value_word} = {n.value:.6g}<br>{grad_word} = {_g(grads[n.id])}"
             + "".join(f"<br>∂/∂{graph.nodes[i].label} = {loc:.4g}" for i, loc in zip(n.inputs, n.local))
             for n in graph.nodes]
    fig.add_trace(go.Scatter(x=pos[:, 0], y=pos[:, 1], mode="markers+text", text=[n.label for n in graph.nodes],
                             textfont=dict(color=text_colour, size=13),
                             marker=dict(size=30, color=fill, line=dict(color=border, width=width)),
                             hovertext=hover, hoverinfo="text", showlegend=False))
    fig.add_trace(go.Scatter(x=pos[:, 0], y=pos[:, 1] - 0.4, mode="text",
                             text=[f"{n.value:.3g}" for n in graph.nodes], textfont=dict(size=11, color="#333333"),
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=pos[:, 0], y=pos[:, 1] + 0.4, mode="text",
                             text=["" if g is None else f"{g:.3g}" for g in grads],
                             textfont=dict(size=11, color=GRAD), hoverinfo="skip", showlegend=False))
    if current:
        for e in current.edges:
            x0, y0 = pos[e.source]
            x1, y1 = pos[current.node]
            fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, yshift=12,
                               text=f"×{e.local:.3g} → {e.downstream:.3g}",
                               showarrow=False, font=dict(size=11, color=CURRENT), bgcolor="rgba(255,255,255,0.85)")
    rows = max(1.0, float(pos[:, 1].max() - pos[:, 1].min()) + 1)
    fig.update_layout(height=int(min(820, 140 + 64 * rows)), margin=dict(l=10, r=10, t=40, b=10),
                      title=lab(labels, "graph_title", "Computational graph"), plot_bgcolor="#fafafa",
                      xaxis=dict(visible=False, range=[-0.5, pos[:, 0].max() + 0.5]),
                      yaxis=dict(visible=False, range=[pos[:, 1].min() - 0.7, pos[:, 1].max() + 0.7]))
    return fig


def _positive(v: np.ndarray) -> list:
    """Values for a log axis: zeros and non-finite values as gaps."""
    return [float(x) if np.isfinite(x) and x > 0 else None for x in v]


def _sparse_decades(fig: go.Figure, most: int = 9) -> go.Figure:
    """`decades`, then at most `most` labelled powers of ten on the y axis (a vanishing sigmoid spans 30 decades)."""
    decades(fig)
    fig.update_yaxes(exponentformat="power")           # 10⁻⁹, not plotly's SI "1n" (nano) on a gradient
    fig.update_xaxes(exponentformat="power")
    ys = np.array([v for tr in fig.data for v in (tr.y or ()) if v is not None and v > 0], float)
    if len(ys):
        span = np.log10(ys.max() / ys.min())
        if span > most:
            fig.update_yaxes(dtick=int(np.ceil(span / most)))
    return fig


def plot_layer_norms(sweep: B.DepthSweep, labels: dict | None = None) -> go.Figure:
    """‖∂L/∂W_l‖ for every layer l of the chosen network, one line per activation (log y)."""
    fig = go.Figure()
    for act, norms in sweep.per_layer.items():
        fig.add_trace(go.Scatter(x=np.arange(1, len(norms) + 1), y=_positive(norms), mode="lines+markers",
                                 name=lab(labels, act, act), line=dict(color=ACT_COLOUR[act]), marker=dict(size=5)))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), title=lab(labels, "layers_title", ""),
                      xaxis_title=lab(labels, "layer", "layer l (1 = input side)"),
                      yaxis=dict(type="log", title=lab(labels, "norm", "‖∂L/∂W_l‖")),
                      legend=dict(orientation="h", y=-0.2))
    return _sparse_decades(fig)


def plot_depth(sweep: B.DepthSweep, n_layers: int, labels: dict | None = None) -> go.Figure:
    """The first layer's ‖∂L/∂W_1‖ against the depth of the network (1 … 50), one line per activation (log y)."""
    fig = go.Figure()
    for act, first in sweep.first.items():
        fig.add_trace(go.Scatter(x=sweep.depths, y=_positive(first), mode="lines", name=lab(labels, act, act),
                                 line=dict(color=ACT_COLOUR[act])))
    fig.add_vline(x=n_layers, line=dict(color="#888888", dash="dot"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), title=lab(labels, "depth_title", ""),
                      xaxis_title=lab(labels, "depth", "depth L"),
                      yaxis=dict(type="log", title=lab(labels, "first", "‖∂L/∂W_1‖")),
                      legend=dict(orientation="h", y=-0.2))
    return _sparse_decades(fig)


def plot_grad_check(check: B.GradCheck, labels: dict | None = None) -> go.Figure:
    """Relative error of the central difference against backward, over the step size h (log–log): truncation error
    (∝ h²) on the right, rounding error (∝ ε/h) on the left; the chosen h dotted."""
    fig = go.Figure()
    for i, name in enumerate(check.names):
        fig.add_trace(go.Scatter(x=check.hs, y=_positive(np.maximum(check.rel_errors[i], 1e-16)),
                                 mode="lines+markers", name=name, marker=dict(size=6)))
    fig.add_vline(x=check.h, line=dict(color="#888888", dash="dot"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), title=lab(labels, "check_title", ""),
                      xaxis=dict(type="log", title=lab(labels, "h", "h")),
                      yaxis=dict(type="log", title=lab(labels, "rel", "relative error")),
                      legend=dict(orientation="h", y=-0.25))
    return _sparse_decades(fig)
