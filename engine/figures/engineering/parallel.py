"""Figures of Engineering › Distributed training (pure: engine results in, go.Figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.engineering import parallel as P

WORKER_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
COLORS = {"sync": "#1f77b4", "stale": "#E4572E", "stale_scaled": "#2ca02c", "F": "#4C78A8", "B": "#F58518",
          "ring": "#1f77b4", "ps": "#E4572E", "compute": "#7f7f7f"}


def _r(a, d: int = 4) -> list:
    return np.round(np.asarray(a, dtype=float), d).tolist()


def plot_worker_grads(d: P.DataParallel, labels: dict) -> go.Figure:
    """The output bias's gradient (one number per class) of each worker, their plain average and the single-device
    gradient of the whole batch."""
    fig = go.Figure()
    classes = list(range(10))
    for k in range(d.K):
        fig.add_trace(go.Bar(x=classes, y=_r(d.bias_grad[k], 5), name=labels["worker"].format(k=k, n=d.sizes[k]),
                             marker_color=WORKER_COLORS[k % len(WORKER_COLORS)], opacity=0.55))
    fig.add_trace(go.Scatter(x=classes, y=_r(d.mean_grad[-10:], 6), mode="markers", name=labels["mean"],
                             marker=dict(symbol="line-ew", size=26, line=dict(width=3, color="black"))))
    fig.add_trace(go.Scatter(x=classes, y=_r(d.full_grad[-10:], 6), mode="markers", name=labels["full"],
                             marker=dict(symbol="circle-open", size=12, line=dict(width=2, color="#E4572E"))))
    fig.update_layout(barmode="group", height=340, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25), xaxis=dict(title_text=labels["class"], dtick=1),
                      yaxis_title=labels["grad"])
    return fig


def plot_ring(r: P.RingAllReduce, step: int, labels: dict) -> go.Figure:
    """Every worker's buffer after `step` steps (rows: workers, columns: the N values, cut into K chunks): the
    colour is how many workers' values a chunk holds so far (K = finished), the number is the value; the chunks a
    worker just received are framed."""
    K, N, b = r.K, r.N, r.bounds
    count = r.has[step].sum(axis=2)                                 # (K, K) contributors per worker and chunk
    z = np.zeros((K, N))
    for c in range(K):
        z[:, b[c]:b[c + 1]] = count[:, c][:, None]
    rows = [labels["worker_row"].format(k=k) for k in range(K)]
    text = [[f"{v:g}" for v in row] for row in r.states[step]]
    fig = go.Figure(go.Heatmap(z=z.tolist(), x=list(range(N)), y=rows, zmin=1, zmax=max(K, 2), text=text,
                               texttemplate="%{text}", colorscale="Blues", xgap=2, ygap=2,
                               colorbar=dict(title=labels["contributors"], thickness=12),
                               hovertemplate="%{y}, " + labels["value"] + " %{x}: %{text}<br>" + labels["contributors"]
                               + " %{z}<extra></extra>"))
    if step > 0:
        for i, c in enumerate(r.sent[step - 1]):
            j = (i + 1) % K
            if b[c + 1] > b[c]:
                fig.add_shape(type="rect", x0=b[c] - 0.5, x1=b[c + 1] - 0.5, y0=j - 0.5, y1=j + 0.5,
                              line=dict(color="#E4572E", width=3))
    for c in range(1, K):
        fig.add_vline(x=b[c] - 0.5, line=dict(color="#444", width=1, dash="dot"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=labels["value_index"], dtick=1 if N <= 24 else None)
    fig.update_layout(height=90 + 42 * K, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def plot_gantt(s: P.Schedule, labels: dict) -> go.Figure:
    """Each device's forward (F m) and backward (B m) passes in time; the empty space is the bubble."""
    fig = go.Figure()
    for kind in ("F", "B"):
        ops = [o for o in s.ops if o[1] == kind]
        fig.add_trace(go.Bar(y=[labels["device"].format(d=o[0]) for o in ops], x=[o[4] - o[3] for o in ops],
                             base=[o[3] for o in ops], orientation="h", name=labels[f"op_{kind}"],
                             marker=dict(color=COLORS[kind], line=dict(color="white", width=1)),
                             text=[f"{kind}{o[2] + 1}" for o in ops], customdata=[o[4] for o in ops],
                             textposition="inside", insidetextanchor="middle",
                             texttemplate="%{text}" if s.M <= 16 else "",
                             hovertemplate="%{y}: %{text}, t = %{base:g} → %{customdata:g}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", categoryorder="array",
                     categoryarray=[labels["device"].format(d=d) for d in range(s.K)])
    fig.update_xaxes(title_text=labels["time"], range=[0, s.makespan])
    fig.update_layout(barmode="overlay", height=110 + 36 * s.K, margin=dict(l=10, r=10, t=30, b=10), bargap=0.15,
                      legend=dict(orientation="h", y=-0.3), uniformtext=dict(minsize=8, mode="hide"))
    return fig


def plot_async(snap: P.AsyncSnapshot, labels: dict) -> go.Figure:
    """Training loss (log y) and test accuracy of the three runs against the number of updates."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["loss"], labels["acc"]))
    x = snap.steps.tolist()
    for v, name in enumerate(snap.names):
        lab = labels[f"v_{name}"].format(tau=snap.taus[v], lr=f"{snap.lrs[v]:.3g}")
        fig.add_trace(go.Scatter(x=x, y=_r(snap.loss[v]), mode="lines+markers", marker=dict(size=3), name=lab,
                                 line=dict(color=COLORS[name]), legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(snap.test_acc[v], 3), mode="lines+markers", marker=dict(size=3),
                                 name=lab, showlegend=False, line=dict(color=COLORS[name]), legendgroup=name), 1, 2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_xaxes(title_text=labels["update"])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_cost(c: P.CostModel, labels: dict) -> go.Figure:
    """Left: one step's communication time vs K (ring, parameter server) and the compute time. Right: speed-up over
    one device (the ideal is K)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["comm"], labels["speedup"]))
    K = c.Ks[1:].tolist()
    fig.add_trace(go.Scatter(x=K, y=_r(c.ring[1:] * 1e3, 5), mode="lines", name=labels["ring"],
                             line=dict(color=COLORS["ring"])), 1, 1)
    fig.add_trace(go.Scatter(x=K, y=_r(c.ps[1:] * 1e3, 5), mode="lines", name=labels["ps"],
                             line=dict(color=COLORS["ps"])), 1, 1)
    fig.add_trace(go.Scatter(x=[K[0], K[-1]], y=[round(c.compute * 1e3, 5)] * 2, mode="lines",
                             name=labels["compute"], line=dict(color=COLORS["compute"], dash="dash")), 1, 1)
    fig.add_trace(go.Scatter(x=c.Ks.tolist(), y=c.Ks.tolist(), mode="lines", name=labels["ideal"],
                             line=dict(color="#bbb", dash="dot")), 1, 2)
    fig.add_trace(go.Scatter(x=c.Ks.tolist(), y=_r(c.speedup_ring, 3), mode="lines", showlegend=False,
                             name=labels["ring"], line=dict(color=COLORS["ring"])), 1, 2)
    fig.add_trace(go.Scatter(x=c.Ks.tolist(), y=_r(c.speedup_ps, 3), mode="lines", showlegend=False,
                             name=labels["ps"], line=dict(color=COLORS["ps"])), 1, 2)
    if c.K > 1:
        fig.add_vline(x=c.K, line=dict(color="#999", width=1), row=1, col=1)
    fig.add_vline(x=c.K, line=dict(color="#999", width=1), row=1, col=2)
    fig.update_yaxes(type="log", title_text="ms", row=1, col=1)
    fig.update_xaxes(title_text="K")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig
