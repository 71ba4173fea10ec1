"""Figures of Basics › Regularisation (pure: data in, go.Figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.basics import regularization as R

COLORS = {"plain": "#7f7f7f", "l2": "#1f77b4", "l1": "#E4572E", "dropout": "#2ca02c", "augment": "#9467bd"}


def _r(a, d: int = 4) -> list:
    return np.round(np.asarray(a, dtype=float), d).tolist()


def plot_geometry(p: R.Penalized2D, labels: dict, lim: float = 3.0) -> go.Figure:
    """Contours of L(w), the L1 diamond and the L2 circle through the two penalised optima, both λ paths."""
    g1, g2, L = R.loss_grid(p.A, p.w_star, lim)
    fig = go.Figure(go.Contour(x=_r(g1, 3), y=_r(g2, 3), z=_r(np.sqrt(L), 3), showscale=False, ncontours=18,
                               contours=dict(coloring="lines"), colorscale="Greys", hoverinfo="skip"))
    # the level set of L through each optimum, an ellipse w* + √(2c)·A^{-1/2}u(θ): it touches that ball there
    vals, vecs = np.linalg.eigh(p.A)
    root_inv = vecs @ np.diag(vals ** -0.5) @ vecs.T
    th = np.linspace(0, 2 * np.pi, 121)
    circle = np.stack([np.cos(th), np.sin(th)])                              # (2, 121)
    for w, key in ((p.w_l1, "l1"), (p.w_l2, "l2")):
        d = w - p.w_star
        c = 0.5 * float(d @ p.A @ d)
        ell = p.w_star[:, None] + np.sqrt(2 * c) * root_inv @ circle          # (2, 121)
        fig.add_trace(go.Scatter(x=_r(ell[0], 3), y=_r(ell[1], 3), mode="lines", showlegend=False,
                                 hoverinfo="skip", line=dict(color=COLORS[key], width=1.5, dash="dot")))
    r1 = float(np.abs(p.w_l1).sum())
    fig.add_trace(go.Scatter(x=[r1, 0, -r1, 0, r1], y=[0, r1, 0, -r1, 0], mode="lines", name=labels["l1_ball"],
                             line=dict(color=COLORS["l1"], width=1.5), fill="toself",
                             fillcolor="rgba(228,87,46,0.08)"))
    r2 = float(np.linalg.norm(p.w_l2))
    fig.add_trace(go.Scatter(x=_r(r2 * np.cos(th)), y=_r(r2 * np.sin(th)), mode="lines", name=labels["l2_ball"],
                             line=dict(color=COLORS["l2"], width=1.5), fill="toself",
                             fillcolor="rgba(31,119,180,0.08)"))
    for path, key in ((p.path_l1, "l1"), (p.path_l2, "l2")):
        fig.add_trace(go.Scatter(x=_r(path[:, 0]), y=_r(path[:, 1]), mode="lines", showlegend=False,
                                 line=dict(color=COLORS[key], dash="dot", width=1), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[p.w_star[0]], y=[p.w_star[1]], mode="markers+text", text=["w*"],
                             textposition="top center", marker=dict(size=10, color="black", symbol="x"),
                             name=labels["w_star"]))
    for w, key in ((p.w_l1, "l1"), (p.w_l2, "l2")):
        fig.add_trace(go.Scatter(x=[float(w[0])], y=[float(w[1])], mode="markers",
                                 marker=dict(size=11, color=COLORS[key]), name=labels[f"w_{key}"],
                                 hovertemplate="(%{x:.3f}, %{y:.3f})<extra></extra>"))
    fig.update_xaxes(range=[-lim, lim], title_text="w₁", zeroline=True)
    fig.update_yaxes(range=[-lim, lim], title_text="w₂", zeroline=True, scaleanchor="x")
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


def plot_paths(p: R.Penalized2D, labels: dict) -> go.Figure:
    """w₁ and w₂ of each penalised optimum as λ grows: L1 reaches exactly 0, L2 only shrinks."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["path_l1"], labels["path_l2"]))
    for col, path in ((1, p.path_l1), (2, p.path_l2)):
        for j, dash in ((0, "solid"), (1, "dash")):
            fig.add_trace(go.Scatter(x=_r(p.lams, 3), y=_r(path[:, j]), mode="lines", name=f"w{'₁₂'[j]}",
                                     line=dict(dash=dash, color=COLORS["l1" if col == 1 else "l2"]),
                                     showlegend=col == 1), 1, col)
        fig.add_vline(x=p.lam, line=dict(color="#999", width=1), row=1, col=col)
    fig.update_xaxes(title_text="λ")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_dropout(d: R.DropoutDemo, labels: dict, shown: int = 8) -> go.Figure:
    """Left: h̃ = m ⊙ h / (1 − p) at the first `shown` steps (a dropped unit is 0). Right: h, and the mean of h̃ over
    every step so far (it tends to h: evaluation needs no scaling)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45],
                        subplot_titles=(labels["masks"], labels["mean_vs_h"]))
    n = d.h.size
    top = float(max(d.outputs[:shown].max(), 1e-9))
    fig.add_trace(go.Heatmap(z=_r(d.outputs[:shown], 3), x=list(range(n)), y=[f"t={t + 1}" for t in range(shown)],
                             colorscale="Viridis", zmin=0, zmax=top, showscale=False,
                             hovertemplate=labels["unit"] + " %{x}<br>%{y}<br>h̃ = %{z:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Bar(x=list(range(n)), y=_r(d.h, 3), name="h", marker_color="#bbb"), 1, 2)
    fig.add_trace(go.Scatter(x=list(range(n)), y=_r(d.running_mean[-1], 3), mode="markers",
                             name=labels["mean_label"].format(T=len(d.masks)), marker=dict(color=COLORS["dropout"],
                                                                                        size=5)), 1, 2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text=labels["unit"])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_overfit(s: R.OverfitSnapshot, labels: dict) -> go.Figure:
    """Left: training (dashed) and validation (solid) loss, log y, a diamond at each variant's early-stopping point.
    Right: validation accuracy."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["losses"], labels["val_acc"]))
    x = s.steps.tolist()
    for k, name in enumerate(s.names):
        c = COLORS[name]
        fig.add_trace(go.Scatter(x=x, y=_r(s.val_loss[k]), mode="lines+markers", marker=dict(size=3),
                                 name=labels[f"v_{name}"], line=dict(color=c), legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(np.maximum(s.train_loss[k], 1e-5), 5), mode="lines", showlegend=False,
                                 line=dict(color=c, dash="dash", width=1), legendgroup=name,
                                 name=labels[f"v_{name}"] + " · " + labels["train"]), 1, 1)
        i = int(np.flatnonzero(s.steps == s.best_step[k])[0])
        fig.add_trace(go.Scatter(x=[int(s.best_step[k])], y=[round(float(s.val_loss[k, i]), 4)], mode="markers",
                                 marker=dict(symbol="diamond", size=10, color=c, line=dict(color="black", width=1)),
                                 showlegend=False, legendgroup=name,
                                 hovertemplate=labels["early_stop"] + " %{x}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(s.val_acc[k], 3), mode="lines+markers", marker=dict(size=3),
                                 showlegend=False, line=dict(color=c), legendgroup=name, name=labels[f"v_{name}"]),
                      1, 2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[0, 1], row=1, col=2)          # an accuracy: never a negative axis at step 0
    fig.update_xaxes(title_text=labels["step"])
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def plot_weights(s: R.OverfitSnapshot, labels: dict) -> go.Figure:
    """The first layer's weights of each variant (share per bin, log y): L1 piles them up at 0."""
    mid = (R.W_EDGES[:-1] + R.W_EDGES[1:]) / 2
    fig = go.Figure()
    for k, name in enumerate(s.names):
        fig.add_trace(go.Scatter(x=_r(mid, 3), y=_r(np.maximum(s.w_hist[k], 1e-5), 5), mode="lines",
                                 name=f"{labels[f'v_{name}']} ({s.near_zero[k]:.0%} |w| < 10⁻³)",
                                 line=dict(color=COLORS[name], shape="hvh")))
    fig.update_yaxes(type="log", title_text=labels["share"])
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="w", title=labels["weights"],
                      legend=dict(orientation="h", y=-0.3))
    return fig
