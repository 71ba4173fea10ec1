"""Figures of the CFR chapter: the confounded 2-D set, Φ's treated and control clouds, and the curves per model."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.causal.cfr import Data, Snapshot, synthetic_curves
from engine.figures.common import lab

T_COL = ("#1f77b4", "#d62728")          # control, treated
MODEL_COL = {"s_learner": "#7f7f7f", "t_learner": "#9467bd", "tarnet": "#ff7f0e", "cfr": "#2ca02c"}


def _r(a, d: int = 3) -> list:
    return np.round(np.asarray(a, float), d).tolist()


def plot_confounding(d: Data, labels: dict | None = None, height: int = 360, most: int = 400) -> go.Figure:
    """Left: y against the confounder x₁ by group, with the true m₀ and m₁ (at x₂ = 0). Right: the (x₁, x₂) plane
    coloured by treatment — the treated sit at large x₁."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "y_vs_x1", "y vs x₁"),
                                                        lab(labels, "plane", "who is treated")))
    idx = np.arange(min(most, len(d.t)))
    for t in (0, 1):
        i = idx[d.t[idx] == t]
        name = lab(labels, f"t{t}", f"t = {t}")
        fig.add_trace(go.Scatter(x=_r(d.X[i, 0]), y=_r(d.y[i]), mode="markers", name=name, legendgroup=name,
                                 marker=dict(size=4, color=T_COL[t], opacity=0.6)), 1, 1)
        fig.add_trace(go.Scatter(x=_r(d.X[i, 0]), y=_r(d.X[i, 1]), mode="markers", name=name, legendgroup=name,
                                 showlegend=False, marker=dict(size=4, color=T_COL[t], opacity=0.6)), 1, 2)
    x1, m0, m1 = synthetic_curves()
    fig.add_trace(go.Scatter(x=_r(x1), y=_r(m0), mode="lines", line=dict(color=T_COL[0], width=3),
                             name=lab(labels, "m0", "m₀(x)")), 1, 1)
    fig.add_trace(go.Scatter(x=_r(x1), y=_r(m1), mode="lines", line=dict(color=T_COL[1], width=3),
                             name=lab(labels, "m1", "m₁(x)")), 1, 1)
    fig.update_xaxes(title_text="x₁", row=1, col=1)
    fig.update_xaxes(title_text="x₁", row=1, col=2)
    fig.update_yaxes(title_text="x₂", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=40, b=5), legend=dict(orientation="h", y=-0.2))
    return fig


def plot_phi(s: Snapshot, title: str, labels: dict | None = None, height: int = 330) -> go.Figure:
    """Φ(x) of the drawn training points, projected on its first two principal components, by group."""
    fig = go.Figure()
    if s.phi2d is not None:
        for t in (0, 1):
            i = s.t_show == t
            fig.add_trace(go.Scatter(x=_r(s.phi2d[i, 0]), y=_r(s.phi2d[i, 1]), mode="markers",
                                     name=lab(labels, f"t{t}", f"t = {t}"),
                                     marker=dict(size=5, color=T_COL[t], opacity=0.6)))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=35, b=5), title=dict(text=title, font=dict(size=13)),
                      legend=dict(orientation="h", y=-0.3, yanchor="top"), xaxis_title="PC1", yaxis_title="PC2")
    return fig


def plot_curves(curves: dict[str, dict[str, tuple]], labels: dict | None = None, height: int = 300,
                surrogate: bool = False) -> go.Figure:
    """Panels over steps: √PEHE (test), factual RMSE (train), IPM of Φ; one line per model.
    `curves` is {model: {metric: (steps, values)}}. In the IPM panel the exact value ("ipm") is solid and, when
    `surrogate` is set, the loss term's Sinkhorn surrogate ("ipm_loss") is dashed beside it."""
    panels = ("pehe_out", "factual_rmse", "ipm")
    fig = make_subplots(rows=1, cols=3, subplot_titles=[lab(labels, f"panel_{p}", p) for p in panels])
    for m, c in curves.items():
        for j, p in enumerate(panels, 1):
            if p not in c or len(c[p][0]) == 0:
                continue
            steps, vals = c[p]
            fig.add_trace(go.Scatter(x=list(map(int, steps)), y=_r(vals, 4), mode="lines+markers", marker=dict(size=3),
                                     name=lab(labels, m, m), legendgroup=m, showlegend=j == 1,
                                     line=dict(color=MODEL_COL.get(m, "black"))), 1, j)
        if surrogate and len(c.get("ipm_loss", ((),))[0]):
            steps, vals = c["ipm_loss"]
            fig.add_trace(go.Scatter(x=list(map(int, steps)), y=_r(vals, 4), mode="lines",
                                     name=f"{lab(labels, m, m)} · {lab(labels, 'ipm_loss', 'loss surrogate')}",
                                     legendgroup=m, showlegend=True,
                                     line=dict(color=MODEL_COL.get(m, "black"), dash="dash", width=1)), 1, 3)
    fig.update_xaxes(title_text=lab(labels, "step", "step"))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=40, b=5), legend=dict(orientation="h", y=-0.25))
    return fig
