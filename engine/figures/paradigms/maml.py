"""Figures of the MAML chapter: the two-parameter meta-gradient, meta-training curves, adaptation to a new
sinusoid, and the cost of a meta-step."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab
from engine.figures.logaxis import log_axis
from engine.paradigms.maml import Adaptation, Cost, MetaGrad2D

COLORS = {"maml": "#d62728", "fomaml": "#ff7f0e", "reptile": "#2ca02c", "pretrain": "#1f77b4",
          "scratch": "#7f7f7f", "hessian": "#9467bd"}


def _arrow(fig, start, vec, colour, name, col):
    end = start + vec
    fig.add_trace(go.Scatter(x=[start[0], end[0]], y=[start[1], end[1]], mode="lines+markers", name=name,
                             line=dict(color=colour, width=3), marker=dict(symbol=["circle", "arrow"], size=[1, 12],
                                                                           angleref="previous", color=colour),
                             legendgroup=name, showlegend=col == 2), 1, col)


def plot_meta_2d(mg: MetaGrad2D, labels: dict | None = None) -> go.Figure:
    """Two landscapes side by side (log10): the plain average loss before adaptation, and the MAML objective
    F(θ) = mean query loss after adaptation. θ, θ′ per task, and the descent directions −∇ of MAML, its
    first-order part (FOMAML), the Hessian term, and Reptile's θ′ − θ, drawn to one common scale."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "plain", "average loss L(θ)"),
                                                        lab(labels, "objective", "MAML objective F(θ)")),
                        horizontal_spacing=0.08)
    for col, z in ((1, mg.plain), (2, mg.landscape)):
        zz = np.round(np.log10(np.maximum(z, 1e-6)), 2)
        fig.add_trace(go.Contour(x=np.round(mg.grid, 3), y=np.round(mg.grid, 3), z=zz, colorscale="Greys",
                                 reversescale=True, ncontours=25, showscale=False, hoverinfo="skip",
                                 contours=dict(coloring="heatmap")), 1, col)
    th = mg.theta
    for col in (1, 2):
        for tp in mg.theta_prime:
            fig.add_trace(go.Scatter(x=[th[0], tp[0]], y=[th[1], tp[1]], mode="lines+markers", showlegend=False,
                                     line=dict(color="rgba(31,119,180,0.6)", dash="dot"),
                                     marker=dict(size=[0, 8], color="#1f77b4")), 1, col)
        fig.add_trace(go.Scatter(x=[th[0]], y=[th[1]], mode="markers", name="θ", showlegend=col == 2,
                                 marker=dict(size=11, color="black", symbol="x")), 1, col)
    vecs = {"maml": -mg.maml, "fomaml": -mg.first_order, "hessian": -mg.hessian_term, "reptile": -mg.reptile}
    longest = max(float(np.linalg.norm(v)) for v in vecs.values())
    scale = 1.5 / longest if longest > 0 and np.isfinite(longest) else 0.0
    for name, v in vecs.items():
        _arrow(fig, th, v * scale, COLORS[name], lab(labels, f"dir_{name}", name), 2)
    lim = [float(mg.grid[0]), float(mg.grid[-1])]
    fig.update_xaxes(range=lim, title_text="θ₁")
    fig.update_yaxes(range=lim, title_text="θ₂")
    fig.update_layout(height=430, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


def plot_meta_curves(curves: dict, labels: dict | None = None) -> go.Figure:
    """Mean query MSE after adaptation on fixed evaluation tasks vs meta-iteration, one line per method.
    `curves`: name → (steps, values)."""
    fig = go.Figure()
    for name, (x, y) in curves.items():
        fig.add_trace(go.Scatter(x=x, y=np.round(y, 4), name=lab(labels, name, name), line=dict(color=COLORS[name])))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=lab(labels, "meta_iter", "meta-iteration"),
                      yaxis_title=lab(labels, "query_mse", "query MSE"),
                      legend=dict(orientation="h", y=-0.3))
    return log_axis(fig, [v for _, y in curves.values() for v in np.ravel(y)])


def plot_adaptation(ad: Adaptation, labels: dict | None = None) -> go.Figure:
    """Left: the new task, its K support points and each initialisation after the last adaptation step (dashed:
    before adaptation, MAML only). Right: query MSE after 0..steps gradient steps."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4],
                        subplot_titles=(lab(labels, "fit", "after adaptation"), lab(labels, "per_step", "query MSE per step")))
    fig.add_trace(go.Scatter(x=ad.x_query, y=np.round(ad.y_query, 3), name=lab(labels, "truth", "task"),
                             line=dict(color="black", width=3)), 1, 1)
    fig.add_trace(go.Scatter(x=ad.x_support, y=ad.y_support, mode="markers", name=lab(labels, "support", "support"),
                             marker=dict(size=10, color="black", symbol="triangle-up")), 1, 1)
    for name, p in ad.preds.items():
        c = COLORS.get(name, "black")
        if name == "maml":
            fig.add_trace(go.Scatter(x=ad.x_query, y=np.round(p[0], 3), name=lab(labels, "maml_before", "MAML θ"),
                                     line=dict(color=c, dash="dot")), 1, 1)
        fig.add_trace(go.Scatter(x=ad.x_query, y=np.round(p[2], 3), name=lab(labels, name, name), legendgroup=name,
                                 line=dict(color=c)), 1, 1)
        fig.add_trace(go.Scatter(x=np.arange(ad.steps + 1), y=np.round(ad.losses[name], 4), showlegend=False,
                                 legendgroup=name, mode="lines+markers", line=dict(color=c)), 1, 2)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_xaxes(title_text=lab(labels, "grad_steps", "gradient steps"), row=1, col=2)
    log_axis(fig, np.concatenate([np.ravel(v) for v in ad.losses.values()]), row=1, col=2)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def plot_cost(cost: Cost, labels: dict | None = None) -> go.Figure:
    """Seconds per meta-step and kB autograd keeps for backward, vs inner steps, MAML and FOMAML."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "time", "time of one meta-step (ms)"),
                                                        lab(labels, "memory", "saved for backward (kB)")))
    for name in cost.seconds:
        c = COLORS[name]
        fig.add_trace(go.Scatter(x=cost.steps, y=np.round(1e3 * cost.seconds[name], 3), name=lab(labels, name, name),
                                 legendgroup=name, line=dict(color=c), mode="lines+markers"), 1, 1)
        fig.add_trace(go.Scatter(x=cost.steps, y=np.round(cost.saved_bytes[name] / 1e3, 1), showlegend=False,
                                 legendgroup=name, line=dict(color=c), mode="lines+markers"), 1, 2)
    fig.update_xaxes(title_text=lab(labels, "inner_steps", "inner steps"), dtick=1)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig
