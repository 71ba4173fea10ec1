"""Figures of the encoder–decoder chapter: learning curves of the three decoders, the attention matrix (output
characters × source characters), free running vs teacher-forced accuracy, beam hypotheses with their log-probability.
Plotly only, SVG traces, rounded numbers."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab

COLORS = {"none": "#7f7f7f", "additive": "#ef553b", "dot": "#636efa",
          "tf1": "#00cc96", "tf05": "#ffa15a", "tf0": "#ab63fa"}
MAX_POINTS = 200


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[list, list]:
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return x.tolist(), np.round(y, 4).tolist()


def plot_curves(exact: dict[str, tuple[np.ndarray, np.ndarray]], loss: dict[str, tuple[np.ndarray, np.ndarray]],
                labels: dict, target: float = 0.95) -> go.Figure:
    """Two panels: held-out exact match (%) vs update, with the target line; training loss (log y) vs update."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "exact_title", "exact"),
                                                        lab(labels, "loss_title", "loss")))
    for name, (x, y) in exact.items():
        xs, ys = _thin(x, 100 * np.asarray(y, float))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=lab(labels, name, name), legendgroup=name,
                                 line=dict(color=COLORS.get(name))), 1, 1)
    for name, (x, y) in loss.items():
        xs, ys = _thin(x, y)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=lab(labels, name, name), legendgroup=name,
                                 showlegend=False, line=dict(color=COLORS.get(name))), 1, 2)
    fig.add_hline(y=100 * target, line=dict(dash="dot", color="black", width=1), row=1, col=1)
    fig.update_yaxes(range=[0, 101], title_text="%", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text=lab(labels, "update", "update"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def _shown(c: str) -> str:
    """A token as a tick label: blank → ␣; < and > escaped (plotly reads "</s>" as an HTML end tag)."""
    return "␣" if c == " " else c.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plot_attention(source: Sequence[str], output: Sequence[str], alpha: np.ndarray | None, labels: dict,
                   title: str = "") -> go.Figure:
    """Heat map of α (output step × source character), rows = the characters written (and </s>), columns = the
    source's characters (blank shown as ␣). Without attention (`alpha` None) an empty frame with a note."""
    fig = go.Figure()
    rows = [_shown(c) for c in output]
    cols = [_shown(c) for c in source]
    if alpha is not None and len(rows) and len(cols):
        a = np.asarray(alpha, float)[: len(rows), : len(cols)]
        fig.add_trace(go.Heatmap(z=np.round(a, 3).tolist(), x=list(range(len(cols))), y=list(range(len(rows))),
                                 zmin=0, zmax=1, colorscale="Blues", colorbar=dict(thickness=10, title="α"),
                                 hovertemplate="%{customdata}<br>α = %{z}<extra></extra>",
                                 customdata=[[f"{rows[i]} ← {cols[j]}" for j in range(len(cols))]
                                             for i in range(len(rows))]))
    else:
        fig.add_annotation(text=lab(labels, "no_attention", "no attention"), x=0.5, y=0.5, xref="paper",
                           yref="paper", showarrow=False)
    # fixed margins, no automargin: a live chart is updated in place (Plotly.react) and automargin on a changing
    # figure kept pushing the plot area into a corner
    fig.update_xaxes(tickvals=list(range(len(cols))), ticktext=cols, automargin=False,
                     title=dict(text=lab(labels, "source", "source"), standoff=4))
    fig.update_yaxes(tickvals=list(range(len(rows))), ticktext=rows, autorange="reversed", automargin=False,
                     title=dict(text=lab(labels, "output", "output"), standoff=4))
    fig.update_layout(height=110 + 22 * max(len(rows), 4), margin=dict(l=70, r=10, t=40, b=60),
                      title=dict(text=title, font=dict(size=14), x=0, xanchor="left"))
    return fig


def plot_accuracy_gap(free: dict[str, tuple[np.ndarray, np.ndarray]],
                      forced: dict[str, tuple[np.ndarray, np.ndarray]], labels: dict) -> go.Figure:
    """Held-out character accuracy (%) vs update: free running (solid: the model reads its own previous
    characters, as at use) and teacher-forced (dotted: it reads the true ones)."""
    fig = go.Figure()
    for name, (x, y) in free.items():
        xs, ys = _thin(x, 100 * np.asarray(y, float))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{lab(labels, name, name)} — "
                                 f"{lab(labels, 'free', 'free')}", line=dict(color=COLORS.get(name))))
    for name, (x, y) in forced.items():
        xs, ys = _thin(x, 100 * np.asarray(y, float))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"{lab(labels, name, name)} — "
                                 f"{lab(labels, 'forced', 'forced')}", line=dict(color=COLORS.get(name), dash="dot")))
    fig.update_layout(height=420, margin=dict(l=50, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.22, yanchor="top"),
                      title=lab(labels, "gap_title", ""), yaxis=dict(range=[0, 101], title="%"),
                      xaxis=dict(title=lab(labels, "update", "update")))
    return fig


def plot_beams(texts: Sequence[str], scores: Sequence[float], greedy_text: str, greedy_score: float,
               reference: str | None, labels: dict) -> go.Figure:
    """Horizontal bars: each beam hypothesis's total log-probability (best at the top) and greedy's; the
    hypothesis equal to the reference answer drawn green."""
    names = [f"#{i + 1}  {s or '∅'}" for i, s in enumerate(texts)] + [f"{lab(labels, 'greedy', 'greedy')}  "
                                                                       f"{greedy_text or '∅'}"]
    vals = [float(v) for v in scores] + [float(greedy_score)]
    texts_all = list(texts) + [greedy_text]
    colors = ["#2ca02c" if reference is not None and s == reference else "#636efa" for s in texts] + ["#7f7f7f"]
    colors[-1] = "#2ca02c" if reference is not None and greedy_text == reference else "#7f7f7f"
    fig = go.Figure(go.Bar(x=[round(v, 3) for v in vals], y=list(range(len(vals))), orientation="h",
                           marker_color=colors, text=[f"{v:.3f}" for v in vals], textposition="auto",
                           customdata=texts_all, hovertemplate="%{customdata}<br>log p = %{x}<extra></extra>"))
    fig.update_yaxes(tickvals=list(range(len(vals))), ticktext=names, autorange="reversed", automargin=False)
    fig.update_layout(height=90 + 34 * len(vals), margin=dict(l=160, r=10, t=40, b=40),
                      title=lab(labels, "beams_title", ""), xaxis=dict(title="log p(y | x)"))
    return fig
