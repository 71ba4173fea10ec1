"""Figures of the GAN-theory chapter: densities with D*, the value along a path, JS vs W1 under a shift."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab
from engine.generative.gan_theory import LOG2, Optimum, ShiftSweep

DATA, GEN, DISC, W1C = "#1f77b4", "#d62728", "#2ca02c", "#9467bd"



def plot_densities(opt: Optimum, labels: dict | None = None) -> go.Figure:
    """p_data and p_g (left axis) and D*(x) (right axis, 0..1, dashed ½ line)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=opt.x, y=opt.p_data, name=lab(labels, "p_data", "p_data"), fill="tozeroy",
                             line=dict(color=DATA)), secondary_y=False)
    fig.add_trace(go.Scatter(x=opt.x, y=opt.p_g, name=lab(labels, "p_g", "p_g"), fill="tozeroy",
                             line=dict(color=GEN)), secondary_y=False)
    fig.add_trace(go.Scatter(x=opt.x, y=opt.D_star, name=lab(labels, "d_star", "D*(x)"),
                             line=dict(color=DISC, width=3)), secondary_y=True)
    fig.add_hline(y=0.5, line_dash="dot", line_color=DISC, secondary_y=True)
    fig.update_yaxes(title_text=lab(labels, "density", "density"), secondary_y=False)
    fig.update_yaxes(title_text="D*(x)", range=[-0.02, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1], secondary_y=True)
    fig.update_xaxes(title_text="x")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def plot_value_path(alpha: np.ndarray, values: np.ndarray, current: float | None = None,
                    labels: dict | None = None) -> go.Figure:
    """V(D*, G) as p_g is blended into p_data, with the floor −2 log 2."""
    fig = go.Figure(go.Scatter(x=alpha, y=values, mode="lines", line=dict(color=GEN, width=3),
                               name=lab(labels, "value", "V(D*, G)")))
    fig.add_hline(y=-2 * LOG2, line_dash="dash", line_color="gray",
                  annotation_text="−2 log 2 ≈ −1.386", annotation_position="top left")
    fig.add_hline(y=0.0, line_dash="dot", line_color="lightgray",
                  annotation_text=lab(labels, "disjoint", "disjoint supports: 0"), annotation_position="bottom left")
    if current is not None:
        fig.add_trace(go.Scatter(x=[0.0], y=[current], mode="markers", marker=dict(size=11, color=GEN),
                                 showlegend=False))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      xaxis_title=lab(labels, "alpha", "α"), yaxis_title=lab(labels, "value", "V(D*, G)"),
                      yaxis_range=[-2 * LOG2 - 0.1, 0.1])
    return fig


def _two_lines(title: str, most: int = 24) -> str:
    """A long subplot title broken at the space nearest its middle: side by side on a phone, two titles on one
    line ran into each other."""
    width = sum(2 if ord(c) >= 0x2E80 else 1 for c in title)       # a CJK character is two Latin ones wide
    if width <= most or " " not in title:
        return title
    spaces = [i for i, c in enumerate(title) if c == " "]
    i = min(spaces, key=lambda k: abs(k - len(title) / 2))
    return title[:i] + "<br>" + title[i + 1:]


def plot_shift_sweep(sweep: ShiftSweep, labels: dict | None = None) -> go.Figure:
    """Left: JS and W1 against the shift θ. Right: their derivatives (the generator's gradient signal)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_two_lines(lab(labels, "distance", "distance")),
                                                        _two_lines(lab(labels, "gradient", "d/dθ"))))
    js_name, w_name = lab(labels, "js", "JS"), lab(labels, "w1", "W1")
    fig.add_trace(go.Scatter(x=sweep.theta, y=sweep.js, name=js_name, line=dict(color=GEN, width=3)), 1, 1)
    fig.add_trace(go.Scatter(x=sweep.theta, y=sweep.w1, name=w_name, line=dict(color=W1C, width=3)), 1, 1)
    fig.add_trace(go.Scatter(x=sweep.theta, y=sweep.djs, name="dJS/dθ", line=dict(color=GEN, dash="dot"),
                             showlegend=False), 1, 2)
    fig.add_trace(go.Scatter(x=sweep.theta, y=sweep.dw1, name="dW1/dθ", line=dict(color=W1C, dash="dot"),
                             showlegend=False), 1, 2)
    fig.add_hline(y=LOG2, line_dash="dash", line_color="gray", annotation_text="log 2", row=1, col=1)
    fig.update_xaxes(title_text="θ")
    # the legend below the θ axis title: above the plots it covered the left subplot's title
    fig.update_layout(height=390, margin=dict(l=10, r=10, t=60, b=80),
                      legend=dict(orientation="h", y=-0.32, yanchor="top", x=0))
    return fig
