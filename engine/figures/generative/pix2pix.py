"""Figures of the Pix2Pix & CycleGAN chapter."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import decades, lab
from engine.figures.generative.dcgan import plot_grid
from engine.generative.pix2pix import CLUSTERS_Y, CycleSnapshot, Pix2PixSnapshot

CLUSTER_COLORS = np.array(["#d62728", "#2ca02c", "#1f77b4"])



def plot_pix2pix(with_skip: Pix2PixSnapshot, without: Pix2PixSnapshot, labels: dict | None = None) -> go.Figure:
    """Rows: input x, U-Net with skips G(x), without skips G(x), target y (held-out digits)."""
    rows = np.stack([with_skip.inputs, with_skip.outputs, without.outputs, with_skip.targets])  # (4, n, 8, 8)
    names = [lab(labels, k, k) for k in ("input", "skip_on", "skip_off", "target")]
    return plot_grid(rows, row_labels=names, height=260)


def plot_pix2pix_curves(with_skip: Pix2PixSnapshot, without: Pix2PixSnapshot, labels: dict | None = None) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "l1_panel", "held-out L1"),
                                                        lab(labels, "adv_panel", "adversarial term")))
    mode = "lines+markers" if len(with_skip.hist_step) <= 2 else "lines"      # one point is no line: draw a dot
    for s, name, color in ((with_skip, "skip_on", "#1f77b4"), (without, "skip_off", "#ff7f0e")):
        n = lab(labels, name, name)
        fig.add_trace(go.Scatter(x=s.hist_step, y=s.hist_test_l1, name=n, mode=mode, line=dict(color=color)), 1, 1)
        fig.add_trace(go.Scatter(x=s.hist_step, y=s.hist_adv, name=n, mode=mode, line=dict(color=color),
                                 showlegend=False), 1, 2)
    if not np.isfinite(np.asarray(with_skip.hist_adv, dtype=float)).any():     # step 0: no adversarial step yet
        fig.add_annotation(text=lab(labels, "adv_pending", "from the first training step on"), showarrow=False,
                           xref="x2 domain", yref="y2 domain", x=0.5, y=0.5, font=dict(color="#888"))
    fig.update_xaxes(title_text=lab(labels, "step", "step"))
    # the legend under the plots (at the side it squeezed them on a phone); titles a size smaller so two fit
    fig.update_layout(height=310, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.3, yanchor="top"))
    fig.update_annotations(font_size=13)
    return fig


def _segments(a: np.ndarray, b: np.ndarray) -> tuple[list, list]:
    """One polyline with None breaks: a_i → b_i for every i (a single trace instead of n shapes)."""
    xs, ys = [], []
    for p, q in zip(a, b):
        xs += [p[0], q[0], None]
        ys += [p[1], q[1], None]
    return xs, ys


def plot_cycle(snap: CycleSnapshot, labels: dict | None = None, n_lines: int = 60) -> go.Figure:
    """Left: X (coloured by cluster), Y (grey) and G(x) with a line from each x. Right: x against its
    reconstruction F(G(x)), joined by the cycle error."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "map_panel", "G: X → Y"),
                                                        lab(labels, "cycle_panel", "F(G(x)) vs x")))
    colors = CLUSTER_COLORS[snap.cx]
    lx, ly = _segments(snap.x[:n_lines], snap.g_x[:n_lines])
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color="rgba(0,0,0,0.15)", width=1),
                             showlegend=False, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Scatter(x=snap.y[:, 0], y=snap.y[:, 1], mode="markers", name=lab(labels, "domain_y", "Y"),
                             marker=dict(size=4, color="rgba(120,120,120,0.5)")), 1, 1)
    fig.add_trace(go.Scatter(x=snap.x[:, 0], y=snap.x[:, 1], mode="markers", name=lab(labels, "domain_x", "X"),
                             marker=dict(size=5, color=colors)), 1, 1)
    fig.add_trace(go.Scatter(x=snap.g_x[:, 0], y=snap.g_x[:, 1], mode="markers", name="G(x)",
                             marker=dict(size=6, color=colors, symbol="diamond-open")), 1, 1)
    fig.add_trace(go.Scatter(x=CLUSTERS_Y[:, 0], y=CLUSTERS_Y[:, 1], mode="markers", showlegend=False,
                             marker=dict(symbol="x", size=10, color="black")), 1, 1)
    cx, cy = _segments(snap.x[:n_lines], snap.f_g_x[:n_lines])
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", line=dict(color="rgba(0,0,0,0.4)", width=1),
                             showlegend=False, hoverinfo="skip"), 1, 2)
    fig.add_trace(go.Scatter(x=snap.x[:, 0], y=snap.x[:, 1], mode="markers", showlegend=False,
                             marker=dict(size=5, color=colors)), 1, 2)
    fig.add_trace(go.Scatter(x=snap.f_g_x[:, 0], y=snap.f_g_x[:, 1], mode="markers", name="F(G(x))",
                             marker=dict(size=6, color=colors, symbol="circle-open")), 1, 2)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.12))
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    return fig


def plot_cycle_curves(snap: CycleSnapshot, labels: dict | None = None) -> go.Figure:
    fig = go.Figure()
    for key, y, color in (("adv", snap.hist_adv, "#d62728"), ("cyc", snap.hist_cyc, "#1f77b4"),
                          ("id", snap.hist_id, "#2ca02c"), ("d", snap.hist_d, "#7f7f7f")):
        fig.add_trace(go.Scatter(x=snap.hist_step, y=y, name=lab(labels, f"curve_{key}", key), line=dict(color=color)))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=20, b=10), xaxis_title=lab(labels, "step", "step"),
                      yaxis_type="log")
    return decades(fig)
