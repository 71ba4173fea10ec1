"""Figures of the continual-learning chapter: the accuracy matrix R per method, ACC over training, and the digits
the generator replays."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab, png_uri
from engine.paradigms.continual import TASKS, Snapshot

COLORS = {"finetune": "#d62728", "replay": "#2ca02c", "dgr": "#9467bd", "joint": "#1f77b4"}
TASK_NAMES = [f"{a}/{b}" for a, b in TASKS]


def plot_matrices(snaps: dict[str, Snapshot], labels: dict | None = None) -> go.Figure:
    """R[i, j] (accuracy on task j after training task i) for each method, rows filling task by task; the live row
    (the task being learnt) is the last filled one."""
    names = list(snaps)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[lab(labels, n, n) for n in names],
                        horizontal_spacing=0.08)
    for c, name in enumerate(names, 1):
        R = snaps[name].R
        text = [["" if np.isnan(v) else f"{100 * v:.0f}" for v in row] for row in R]
        fig.add_trace(go.Heatmap(z=np.round(R, 3), x=TASK_NAMES, y=TASK_NAMES, zmin=0, zmax=1, colorscale="Viridis",
                                 text=text, texttemplate="%{text}", showscale=c == len(names), hoverinfo="skip",
                                 colorbar=dict(thickness=8, len=0.9)), 1, c)
        # every panel keeps its row labels: on a phone the page stacks the panels (ui.charts.panels)
        fig.update_yaxes(autorange="reversed", row=1, col=c, title_text=lab(labels, "after", "after training"))
        fig.update_xaxes(row=1, col=c, title_text=lab(labels, "on", "accuracy on"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_acc(curves: dict, iters: int, labels: dict | None = None) -> go.Figure:
    """ACC (mean accuracy over the tasks seen so far) vs solver step; dotted lines where a new task begins.
    `curves`: name → (steps, values)."""
    fig = go.Figure()
    for name, (x, y) in curves.items():
        fig.add_trace(go.Scatter(x=x, y=np.round(y, 4), name=lab(labels, name, name), line=dict(color=COLORS[name])))
    for t in range(1, len(TASKS)):
        fig.add_vline(x=t * iters, line=dict(color="grey", dash="dot", width=1))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), yaxis=dict(range=[0, 1.02]),
                      xaxis_title=lab(labels, "step", "solver step"), yaxis_title="ACC",
                      legend=dict(orientation="h", y=-0.3))
    return fig


def plot_replayed(snap: Snapshot, labels: dict | None = None, cols: int = 12) -> go.Figure:
    """The generator's replayed digits now (what the scholar 'dreams' of the old tasks), 8×8 each, with the old
    solver's label above."""
    imgs, ys = snap.replayed, snap.replay_labels
    n = len(imgs)
    rows = int(np.ceil(n / cols))
    canvas = np.full((rows * 10, cols * 10), 255, np.uint8)
    for k, img in enumerate(imgs):
        r, c = divmod(k, cols)
        canvas[r * 10 + 1:r * 10 + 9, c * 10 + 1:c * 10 + 9] = np.clip(255 * (1 - img) / 2, 0, 255).astype(np.uint8)
    big = np.kron(canvas, np.ones((4, 4), np.uint8))                  # 4× nearest-neighbour: crisp pixels
    fig = go.Figure(go.Image(source=png_uri(big), x0=0, y0=0, dx=0.25, dy=0.25, hoverinfo="skip"))
    for k, y in enumerate(ys):
        r, c = divmod(k, cols)
        fig.add_annotation(x=c * 10 + 5, y=r * 10 - 0.2, text=str(int(y)), showarrow=False, font=dict(size=10),
                           yanchor="bottom")
    fig.update_xaxes(visible=False, range=[0, cols * 10])
    fig.update_yaxes(visible=False, range=[rows * 10, -2.5], scaleanchor="x")
    fig.update_layout(height=60 + 55 * rows, margin=dict(l=5, r=5, t=30, b=5),
                      title=dict(text=lab(labels, "replayed", "replayed samples"), font=dict(size=13)))
    return fig
