"""Figures of the Transformer chapter: Q/K/V and the attention steps as heatmaps over the learner's tokens, the
softmax's saturation vs d_k, the heads, position encodings, masks, post- vs pre-LN through depth, FLOPs vs length,
and the live training (curves and the cross-attention of one date). Plotly only, SVG traces."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.sequences import transformer as X

POST, PRE = "#ef553b", "#636efa"
MARGIN = dict(l=10, r=10, t=40, b=10)


def _r(a, digits: int = 3) -> list:
    a = np.asarray(a, dtype=float)
    return np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[float])(a).tolist() if a.size else []


def _tok(tokens) -> list[str]:
    """Axis labels that stay distinct when a word repeats ("the", "the·2")."""
    seen: dict[str, int] = {}
    out = []
    for t in tokens:
        seen[t] = seen.get(t, 0) + 1
        out.append(t if seen[t] == 1 else f"{t}·{seen[t]}")
    return out


def _heat(z, x, y, *, zmin=None, zmax=None, colorscale="Viridis", showscale=False, text=False) -> go.Heatmap:
    kw = dict(texttemplate="%{z:.2f}", textfont=dict(size=9)) if text else {}
    return go.Heatmap(z=_r(z), x=x, y=y, zmin=zmin, zmax=zmax, colorscale=colorscale, showscale=showscale,
                      hovertemplate="%{y} → %{x}: %{z:.3f}<extra></extra>", **kw)


def _matrix_axes(fig: go.Figure, n: int) -> None:
    for i in range(1, n + 1):
        fig.update_yaxes(autorange="reversed", row=1, col=i)
        fig.update_xaxes(tickangle=-60, row=1, col=i)


def plot_qkv(s: X.AttentionSteps, labels: dict) -> go.Figure:
    """Three panels: Q, K, V (tokens × d_k)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Q = XW_Q", "K = XW_K", "V = XW_V"))
    toks = _tok(s.tokens)
    m = float(np.abs(np.concatenate([s.q, s.k, s.v])).max()) or 1.0
    for i, a in enumerate((s.q, s.k, s.v)):
        fig.add_trace(_heat(a, list(range(s.d_k)), toks, zmin=-m, zmax=m, colorscale="RdBu", showscale=i == 2),
                      1, i + 1)
    _matrix_axes(fig, 3)
    fig.update_layout(height=340, margin=MARGIN, title=labels["qkv_title"])
    return fig


def plot_steps(s: X.AttentionSteps, labels: dict) -> go.Figure:
    """Three panels: QKᵀ, QKᵀ/√d_k (or QKᵀ again without scaling), softmax by rows."""
    scaled = not np.array_equal(s.scaled, s.scores)
    fig = make_subplots(rows=1, cols=3, subplot_titles=("QKᵀ", labels["scaled" if scaled else "not_scaled"],
                                                        "softmax"))
    toks = _tok(s.tokens)
    m = float(np.abs(s.scores).max()) or 1.0
    fig.add_trace(_heat(s.scores, toks, toks, zmin=-m, zmax=m, colorscale="RdBu"), 1, 1)
    m2 = float(np.abs(s.scaled).max()) or 1.0
    fig.add_trace(_heat(s.scaled, toks, toks, zmin=-m2, zmax=m2, colorscale="RdBu"), 1, 2)
    fig.add_trace(_heat(s.weights, toks, toks, zmin=0, zmax=1, showscale=True), 1, 3)
    _matrix_axes(fig, 3)
    fig.update_layout(height=380, margin=MARGIN, title=labels["steps_title"])
    return fig


def plot_saturation(sat: X.Saturation, labels: dict) -> go.Figure:
    """Three panels over d_k (log x): the scores' spread, the largest weight, the softmax's gradient size, each
    without and with ÷√d_k."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=(labels["sat_std"], labels["sat_max"], labels["sat_grad"]))
    x = sat.d_k.tolist()
    for j, a in enumerate((sat.score_std, sat.max_weight, sat.grad_norm)):
        for i, (name, color) in enumerate(((labels["unscaled"], POST), (labels["scaled_line"], PRE))):
            fig.add_trace(go.Scatter(x=x, y=_r(a[i]), mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=j == 0, line=dict(color=color)), 1, j + 1)
    fig.add_trace(go.Scatter(x=x, y=_r(np.sqrt(sat.d_k)), mode="lines", name="√d_k", line=dict(dash="dot",
                                                                                               color="grey")), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[1 / sat.n_keys] * len(x), mode="lines", name=labels["uniform"],
                             line=dict(dash="dot", color="grey"), showlegend=False), 1, 2)
    for j in range(1, 4):
        fig.update_xaxes(type="log", title="d_k", row=1, col=j)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(height=340, margin=MARGIN, title=labels["sat_title"], legend=dict(orientation="h", y=-0.3))
    return fig


def plot_heads(h: X.Heads, labels: dict) -> go.Figure:
    """One panel per head (its T × T weights)."""
    n = h.weights.shape[0]
    titles = [labels["head"].format(i=i + 1, ent=f"{e:.2f}") for i, e in enumerate(h.entropy)]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles)
    toks = _tok(h.tokens)
    for i in range(n):
        fig.add_trace(_heat(h.weights[i], toks, toks, zmin=0, zmax=1), 1, i + 1)
    _matrix_axes(fig, n)
    fig.update_layout(height=320, margin=MARGIN, title=labels["heads_title"])
    return fig


def plot_positions(n_pos: int, d_model: int, k: int, labels: dict) -> go.Figure:
    """Two panels: PE (positions × dimensions) and PE·PEᵀ (depends on p − q only), the shift k marked."""
    pe = X.sinusoidal_encoding(n_pos, d_model)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["pe_title"], labels["pe_dot"]))
    fig.add_trace(_heat(pe, list(range(d_model)), list(range(n_pos)), zmin=-1, zmax=1, colorscale="RdBu"), 1, 1)
    dots = pe @ pe.T
    fig.add_trace(_heat(dots, list(range(n_pos)), list(range(n_pos)), colorscale="Viridis", showscale=True), 1, 2)
    fig.add_trace(go.Scatter(x=list(range(n_pos - k)), y=list(range(k, n_pos)), mode="lines",
                             line=dict(color="white", dash="dot"), name=f"p − q = {k}", showlegend=False,
                             hoverinfo="skip"), 1, 2)
    fig.update_yaxes(autorange="reversed", title=labels["position"], row=1, col=1)
    fig.update_xaxes(title=labels["dimension"], row=1, col=1)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_layout(height=360, margin=MARGIN)
    return fig


def plot_pe_curves(n_pos: int, d_model: int, k: int, labels: dict) -> go.Figure:
    """A few dimensions of PE as curves over position, and the same shifted by k: a phase shift, one rotation per
    (sin, cos) pair."""
    pe = X.sinusoidal_encoding(n_pos + k, d_model)
    fig = go.Figure()
    colors = ("#636efa", "#ef553b", "#00cc96", "#ab63fa")
    for c, i in zip(colors, (0, 2, 6, 12)):
        if i >= d_model:
            break
        fig.add_trace(go.Scatter(x=list(range(n_pos)), y=_r(pe[:n_pos, i]), mode="lines", name=f"PE[:, {i}]",
                                 line=dict(color=c)))
        fig.add_trace(go.Scatter(x=list(range(n_pos)), y=_r(pe[k:k + n_pos, i]), mode="lines",
                                 name=f"PE[:+{k}, {i}]", line=dict(color=c, dash="dot"), showlegend=False))
    fig.update_layout(height=300, margin=MARGIN, title=labels["pe_curves"], xaxis_title=labels["position"],
                      legend=dict(orientation="h", y=-0.25))
    return fig


def plot_mask(m: X.MaskedAttention, labels: dict) -> go.Figure:
    """Two panels: the mask (blocked pairs dark) and the weights under it."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["mask_title"], labels["mask_weights"]))
    toks = _tok(m.tokens)
    fig.add_trace(_heat(m.mask.astype(float), toks, toks, zmin=0, zmax=1, colorscale="Greys"), 1, 1)
    fig.add_trace(_heat(m.weights, toks, toks, zmin=0, zmax=1, showscale=True), 1, 2)
    _matrix_axes(fig, 2)
    fig.update_layout(height=360, margin=MARGIN)
    return fig


def plot_depth(d: X.DepthProfile, labels: dict) -> go.Figure:
    """Two panels over the layers: the residual stream's RMS and each layer's gradient norm, post vs pre."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["depth_rms"], labels["depth_grad"]))
    for i, (name, color) in enumerate(((labels["post"], POST), (labels["pre"], PRE))):
        fig.add_trace(go.Scatter(x=list(range(d.n_layers + 1)), y=_r(d.stream_rms[i]), mode="lines+markers",
                                 name=name, legendgroup=name, line=dict(color=color)), 1, 1)
        fig.add_trace(go.Scatter(x=list(range(1, d.n_layers + 1)), y=_r(d.grad_norm[i]), mode="lines+markers",
                                 name=name, legendgroup=name, showlegend=False, line=dict(color=color)), 1, 2)
    fig.update_xaxes(title=labels["layer"], dtick=1)
    fig.update_layout(height=320, margin=MARGIN, legend=dict(orientation="h", y=-0.3))
    return fig


def plot_flops(d_model: int, d_ff: int, labels: dict, t_max: int = 8192) -> go.Figure:
    """FLOPs of one encoder layer vs sequence length (log-log): projections, attention, FFN."""
    T = np.unique(np.geomspace(1, t_max, 40).round().astype(int))
    f = [X.encoder_layer_flops(int(t), d_model, d_ff) for t in T]
    fig = go.Figure()
    for name, key, color in ((labels["proj"], "projections", "#636efa"), (labels["attn"], "attention", "#ef553b"),
                             (labels["ffn"], "ffn", "#00cc96")):
        fig.add_trace(go.Scatter(x=T.tolist(), y=[getattr(v, key) for v in f], mode="lines", name=name,
                                 line=dict(color=color)))
    fig.add_vline(x=X.attention_crossover(d_model, d_ff), line=dict(dash="dot", color="grey"))
    fig.update_layout(height=320, margin=MARGIN, title=labels["flops_title"], xaxis=dict(type="log", title="T"),
                      yaxis=dict(type="log", title="FLOPs"), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_training(curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], labels: dict,
                  target: float) -> go.Figure:
    """Two panels: training loss and validation exact match vs update, one line per model."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["train_loss"], labels["train_exact"]))
    colors = {"transformer": PRE, "rnn": POST}
    for name, (steps, loss, exact) in curves.items():
        c = colors.get(name, "#00cc96")
        fig.add_trace(go.Scatter(x=steps[1:].tolist(), y=_r(loss[1:]), mode="lines", name=labels[name],
                                 legendgroup=name, line=dict(color=c)), 1, 1)
        fig.add_trace(go.Scatter(x=steps.tolist(), y=_r(100 * exact), mode="lines", name=labels[name],
                                 legendgroup=name, showlegend=False, line=dict(color=c)), 1, 2)
    fig.add_hline(y=100 * target, line=dict(dash="dot", color="grey"), row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[0, 100], title="%", row=1, col=2)
    fig.update_xaxes(title=labels["update"])
    fig.update_layout(height=320, margin=MARGIN, legend=dict(orientation="h", y=-0.3))
    return fig


def plot_cross(cross: np.ndarray, source: str, out_tokens: tuple[str, ...], title: str) -> go.Figure:
    """The last decoder layer's cross-attention: written characters (rows) × source characters (columns)."""
    src = _tok([c if c != " " else "␣" for c in source])
    out = _tok(out_tokens)
    fig = go.Figure(_heat(cross, src, out, zmin=0, zmax=1, showscale=True))
    fig.update_layout(height=320, margin=MARGIN, title=title, yaxis=dict(autorange="reversed"),
                      xaxis=dict(tickangle=0))
    return fig
