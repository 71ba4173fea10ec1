"""Plotly figures of the model-compression chapter: pure functions of engine results, no streamlit.

Histograms are binned here with numpy and sent as bars (a `go.Histogram` would ship every one of the ~50 000 weights);
the weight masks (up to 128 × 256) go as a JPEG (`heat_traces`)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.engineering import compression as C
from engine.figures.common import heat_traces, lab

COLORS = {"unstructured": "#1f77b4", "structured": "#d62728", "kd": "#2ca02c", "ce": "#ff7f0e",
          "teacher": "#7f7f7f", "t1": "#9ecae1", "tT": "#08519c"}
MARGIN = dict(l=10, r=10, t=40, b=10)


def _r(a, d: int = 4) -> list:
    return np.round(np.asarray(a, float), d).tolist()


def _bars(values: np.ndarray, bins: int, lo: float, hi: float) -> tuple[list, list, float]:
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    return _r(centres, 6), counts.tolist(), float(edges[1] - edges[0])


def plot_weight_hist(w: np.ndarray, threshold: float, labels: dict | None = None) -> go.Figure:
    """Histogram of one layer's trained weights; the band |w| < threshold that unstructured pruning removes shaded.
    labels: title, weight, count, pruned."""
    lim = float(np.abs(w).max()) or 1.0
    x, y, width = _bars(w, 121, -lim, lim)
    keep = np.abs(np.asarray(x)) >= threshold
    fig = go.Figure([
        go.Bar(x=np.asarray(x)[keep].tolist(), y=np.asarray(y)[keep].tolist(), width=width, name=lab(labels, "kept", "kept"),
               marker_color=COLORS["unstructured"]),
        go.Bar(x=np.asarray(x)[~keep].tolist(), y=np.asarray(y)[~keep].tolist(), width=width,
               name=lab(labels, "pruned", "pruned"), marker_color="#c7c7c7")])
    if threshold > 0:
        fig.add_vrect(x0=-threshold, x1=threshold, fillcolor="rgba(214, 39, 40, 0.12)", line_width=0)
    fig.update_layout(height=300, margin=MARGIN, title=lab(labels, "title", "weights"), bargap=0,
                      xaxis_title=lab(labels, "weight", "w"), yaxis_title=lab(labels, "count", "count"),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def plot_masks(masks: dict[str, np.ndarray], w: np.ndarray, labels: dict | None = None) -> go.Figure:
    """One panel per mode: |w| ⊙ mask of one layer (rows = output units, columns = inputs); pruned entries white.
    labels: <mode>, inputs, units."""
    names = list(masks)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[lab(labels, n, n) for n in names],
                        horizontal_spacing=0.06)
    vmax = float(np.quantile(np.abs(w), 0.99)) or 1.0              # the few largest weights would wash out the rest
    h, wd = w.shape
    images = []
    for i, n in enumerate(names, start=1):
        z = np.abs(w) * masks[n]
        # heat_traces draws y up: flip the matrix and number the rows from the top (unit 0 first)
        traces, imgs = heat_traces(z[::-1], np.arange(wd, dtype=float), np.arange(h - 1, -1, -1, dtype=float),
                                   colorscale="Greys", zmin=0, zmax=vmax,
                                   hovertemplate="(%{y}, %{x}) |w| = %{z:.3f}<extra></extra>", decimals=3)
        sfx = "" if i == 1 else str(i)
        for t in traces:
            t.update(showscale=False)
            fig.add_trace(t, 1, i)
        for img in imgs:
            img.update(xref=f"x{sfx}", yref=f"y{sfx}")
            images.append(img)
        fig.update_xaxes(range=[-0.5, wd - 0.5], showgrid=False, zeroline=False, row=1, col=i,
                         title_text=lab(labels, "inputs", "inputs"))
        fig.update_yaxes(range=[h - 0.5, -0.5], autorange=False, showgrid=False, zeroline=False, row=1, col=i,
                         title_text=lab(labels, "units", "units") if i == 1 else None)
    fig.update_layout(height=330, margin=MARGIN, images=images)
    return fig


def plot_sparsity_curve(curve: C.SparsityCurve, amount: float, labels: dict | None = None) -> go.Figure:
    """Test accuracy vs the share pruned per layer, both modes; the slider's amount marked. labels: <mode>, title,
    amount, accuracy."""
    fig = go.Figure()
    for i, mode in enumerate(C.MODES):
        fig.add_trace(go.Scatter(x=_r(curve.amounts, 3), y=_r(curve.accuracy[i], 4), mode="lines+markers",
                                 name=lab(labels, mode, mode), line=dict(color=COLORS[mode])))
    fig.add_vline(x=amount, line=dict(color="#555", dash="dot"))
    fig.update_layout(height=320, margin=MARGIN, title=lab(labels, "title", "accuracy vs sparsity"),
                      xaxis_title=lab(labels, "amount", "amount"), yaxis_title=lab(labels, "accuracy", "accuracy"),
                      yaxis_range=[0, 1], legend=dict(orientation="h", y=-0.25))
    return fig


def plot_finetune(fts: list[C.FineTune], labels: dict | None = None) -> go.Figure:
    """Test accuracy during fine-tuning with the masks held, one line per mode, the dense network dashed.
    labels: <mode>, dense, title, step, accuracy."""
    fig = go.Figure()
    for ft in fts:
        fig.add_trace(go.Scatter(x=ft.steps.tolist(), y=_r(ft.accuracy), mode="lines+markers",
                                 name=lab(labels, ft.mode, ft.mode), line=dict(color=COLORS[ft.mode])))
    if fts:
        fig.add_hline(y=fts[0].dense_accuracy, line=dict(color=COLORS["teacher"], dash="dash"),
                      annotation_text=lab(labels, "dense", "dense"), annotation_position="bottom right")
    fig.update_layout(height=320, margin=MARGIN, title=lab(labels, "title", "fine-tuning"),
                      xaxis_title=lab(labels, "step", "step"), yaxis_title=lab(labels, "accuracy", "accuracy"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def plot_quant(lq: C.LayerQuant, labels: dict | None = None) -> go.Figure:
    """Two panels: how many weights took each int8 value q (−128 … 127, the zero-point marked), and the rounding
    error w − ŵ with ±s/2 marked. labels: levels, error, q, count, half_step."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "levels", "int8 values"),
                                                        lab(labels, "error", "error")), horizontal_spacing=0.1)
    counts = np.bincount(lq.q - lq.qp.qmin, minlength=lq.qp.qmax - lq.qp.qmin + 1)
    fig.add_trace(go.Bar(x0=lq.qp.qmin, dx=1, y=counts.tolist(), width=1, marker_color=COLORS["tT"],
                         showlegend=False, hovertemplate="q = %{x}: %{y}<extra></extra>"), 1, 1)
    fig.add_vline(x=lq.qp.zero_point, line=dict(color=COLORS["structured"], dash="dot"), row=1, col=1)
    half = lq.qp.scale / 2
    lim = max(float(np.abs(lq.error).max()), half) * 1.05
    x, y, width = _bars(lq.error, 81, -lim, lim)
    fig.add_trace(go.Bar(x=x, y=y, width=width, marker_color=COLORS["unstructured"], showlegend=False,
                         hovertemplate="%{x:.2e}: %{y}<extra></extra>"), 1, 2)
    for v in (-half, half):
        fig.add_vline(x=v, line=dict(color=COLORS["structured"], dash="dash"), row=1, col=2)
    fig.update_xaxes(title_text="q", range=[lq.qp.qmin - 1, lq.qp.qmax + 1], row=1, col=1)
    fig.update_xaxes(title_text=lab(labels, "half_step", "w − ŵ"), exponentformat="e", row=1, col=2)
    fig.update_yaxes(title_text=lab(labels, "count", "count"), row=1, col=1)
    fig.update_layout(height=320, margin=MARGIN, bargap=0)
    return fig


def plot_soft_targets(image: np.ndarray, probs: list[tuple[str, np.ndarray]], labels: dict | None = None) -> go.Figure:
    """Left: the digit (14 × 14); right: the teacher's class probabilities at T = 1 and at the chosen T.
    probs: [(legend name, (10,))]. labels: digit, probs, class."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.3, 0.7], horizontal_spacing=0.08,
                        subplot_titles=(lab(labels, "digit", "digit"), lab(labels, "probs", "soft targets")))
    fig.add_trace(go.Heatmap(z=np.round(np.asarray(image, np.float32), 2)[::-1], colorscale="Greys", zmin=0, zmax=1,
                             showscale=False, hovertemplate="%{z}<extra></extra>"), 1, 1)
    for (name, p), colour in zip(probs, (COLORS["t1"], COLORS["tT"])):
        fig.add_trace(go.Bar(x=list(range(10)), y=_r(p), name=name, marker_color=colour), 1, 2)
    fig.update_xaxes(showticklabels=False, row=1, col=1)
    fig.update_yaxes(showticklabels=False, scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text=lab(labels, "class", "class"), dtick=1, row=1, col=2)
    fig.update_yaxes(type="log", range=[-6, 0], row=1, col=2)
    fig.update_layout(height=320, margin=MARGIN, barmode="group", legend=dict(orientation="h", y=-0.3))
    return fig


def plot_grad_scale(gs: C.GradScale, T: float, labels: dict | None = None) -> go.Figure:
    """‖∂/∂z_s‖ of the soft term vs T (log–log), with and without the T² factor; the chosen T marked.
    labels: with, without, title, T, norm."""
    fig = go.Figure([
        go.Scatter(x=_r(gs.T, 3), y=np.asarray(gs.with_t2).round(8).tolist(), mode="lines",
                   name=lab(labels, "with", "T² · KL"), line=dict(color=COLORS["kd"])),
        go.Scatter(x=_r(gs.T, 3), y=np.asarray(gs.without).round(10).tolist(), mode="lines",
                   name=lab(labels, "without", "KL"), line=dict(color=COLORS["ce"], dash="dash"))])
    fig.add_vline(x=T, line=dict(color="#555", dash="dot"))
    fig.update_xaxes(type="log", title_text=lab(labels, "T", "T"))
    fig.update_yaxes(type="log", title_text=lab(labels, "norm", "gradient norm"), exponentformat="power")
    fig.update_layout(height=320, margin=MARGIN, title=lab(labels, "title", "gradient vs T"),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def plot_distill(snap: C.DistillSnapshot, labels: dict | None = None) -> go.Figure:
    """Two panels: test accuracy of the two students vs step (the teacher dashed), and their training losses.
    labels: kd, ce, teacher, acc, loss, step."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "acc", "test accuracy"),
                                                        lab(labels, "loss", "training loss")))
    x = snap.steps.tolist()
    for i, k in enumerate(C.STUDENTS):
        fig.add_trace(go.Scatter(x=x, y=_r(snap.acc[i]), mode="lines+markers", name=lab(labels, k, k),
                                 line=dict(color=COLORS[k]), marker=dict(size=4), legendgroup=k), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=_r(snap.loss[i]), mode="lines+markers", name=lab(labels, k, k),
                                 showlegend=False, line=dict(color=COLORS[k]), marker=dict(size=4), legendgroup=k),
                      1, 2)
    fig.add_trace(go.Scatter(x=[0, max(x[-1], 1)], y=[round(snap.teacher_acc, 4)] * 2, mode="lines",
                             name=lab(labels, "teacher", "teacher"), line=dict(color=COLORS["teacher"], dash="dash")),
                  1, 1)
    fig.update_yaxes(range=[0, 1], row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text=lab(labels, "step", "step"))
    fig.update_layout(height=340, margin=MARGIN, legend=dict(orientation="h", y=-0.25))
    return fig
