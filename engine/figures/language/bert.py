"""Figures of the BERT chapter: every head of every layer as one PNG grid, one head's map with token labels, the
head view (lines between tokens), head scores, the three input embeddings, contextual similarity, the live MLM/NSP
curves and fills, and the fine-tuning curve. Large maps travel as PNG data URIs to keep the page light."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, sequential
from engine.figures.common import make_subplots

from engine.figures.common import png_uri
from engine.language.bert import Attention, Contextual, Embeddings, FinetuneCurve, PretrainSnapshot

CELL = 40          # px per head map in the grid
GAP = 4            # px between maps
_VIRIDIS = np.array([hex_to_rgb(c) for c in sequential.Viridis], float)   # (S, 3)


def _lab(labels: dict | None, key: str, default: str) -> str:
    return (labels or {}).get(key, default)


def _colour(x: np.ndarray, stops: np.ndarray = _VIRIDIS) -> np.ndarray:
    """Values in [0, 1] (any shape) → uint8 RGB through a colour scale's stops."""
    pos = np.linspace(0, 1, len(stops))
    x = np.round(np.clip(x, 0, 1) * 24) / 24                                  # 25 levels: small PNGs
    return np.stack([np.interp(x, pos, stops[:, c]) for c in range(3)], -1).astype(np.uint8)


def _diverging(x: np.ndarray) -> np.ndarray:
    """Signed values → blue-white-red uint8 RGB, symmetric around 0, scaled by the 99th percentile of |x|."""
    s = float(np.percentile(np.abs(x), 99)) or 1.0
    v = np.round(np.clip(x / s, -1, 1) * 6)[..., None] / 6                    # (…, 1), 13 levels: small PNGs
    blue, white, red = np.array([33, 102, 172.]), np.array([247, 247, 247.]), np.array([178, 24, 43.])
    rgb = np.where(v < 0, white + (-v) * (blue - white), white + v * (red - white))
    return rgb.astype(np.uint8)


def _upsample(m: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of a (T, T) map to (size, size)."""
    idx = (np.arange(size) * m.shape[0] // size).clip(0, m.shape[0] - 1)
    return m[np.ix_(idx, idx)]


def plot_head_grid(att: Attention, selected: tuple[int, int] | None = None, labels: dict | None = None) -> go.Figure:
    """All L × A attention maps (rows = layers, columns = heads), each scaled by its own maximum, as one PNG."""
    L, A, T, _ = att.attentions.shape
    img = np.full((L * (CELL + GAP) - GAP, A * (CELL + GAP) - GAP, 3), 255, np.uint8)
    for l in range(L):
        for a in range(A):
            m = att.attentions[l, a]
            m = m / (m.max() + 1e-9)
            y0, x0 = l * (CELL + GAP), a * (CELL + GAP)
            img[y0:y0 + CELL, x0:x0 + CELL] = _colour(_upsample(m, CELL))
    step = CELL + GAP
    fig = go.Figure(go.Image(source=png_uri(img), x0=0, y0=0, dx=1, dy=1, hoverinfo="skip"))
    if selected is not None:
        l, a = selected
        fig.add_shape(type="rect", x0=a * step - 2, x1=a * step + CELL + 1, y0=l * step - 2, y1=l * step + CELL + 1,
                      line=dict(color="#e4572e", width=3))
    fig.update_xaxes(tickvals=[a * step + CELL / 2 for a in range(A)], ticktext=[str(a + 1) for a in range(A)],
                     title=_lab(labels, "head", "head"), side="top", showgrid=False, zeroline=False)
    fig.update_yaxes(tickvals=[l * step + CELL / 2 for l in range(L)], ticktext=[str(l + 1) for l in range(L)],
                     title=_lab(labels, "layer", "layer"), showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x")
    fig.update_layout(height=90 + L * 52, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def plot_head_map(att: Attention, layer: int, head: int, labels: dict | None = None) -> go.Figure:
    """One head's full map: row = the token that looks (query), column = the token looked at (key)."""
    m = np.round(att.attentions[layer, head], 3)
    T = len(att.encoding.tokens)
    ticks = dict(tickvals=list(range(T)), ticktext=list(att.encoding.tokens), tickfont=dict(size=10))
    fig = go.Figure(go.Heatmap(z=m, zmin=0, zmax=float(m.max()), colorscale="Viridis",
                               colorbar=dict(thickness=10, title=_lab(labels, "weight", "weight")),
                               hovertemplate="%{y} → %{x}: %{z}<extra></extra>",
                               x=list(range(T)), y=list(range(T))))
    fig.update_xaxes(**ticks, tickangle=-60, title=_lab(labels, "key", "attended to (key)"))
    fig.update_yaxes(**ticks, autorange="reversed", title=_lab(labels, "query", "attending (query)"))
    fig.update_layout(height=min(720, 220 + 12 * T), margin=dict(l=10, r=10, t=40, b=10),
                      title=_lab(labels, "map_title", "layer {layer}, head {head}").format(layer=layer + 1,
                                                                                         head=head + 1))
    return fig


def plot_head_view(att: Attention, layer: int, head: int, threshold: float = 0.05, labels: dict | None = None
                   ) -> go.Figure:
    """BertViz's head view: tokens on the left attend to tokens on the right; line opacity = weight (weights
    below `threshold` are not drawn). Lines are grouped in 5 opacity bins (5 traces, not one per line)."""
    m = att.attentions[layer, head]
    toks = att.encoding.tokens
    T = len(toks)
    fig = go.Figure()
    edges = np.argwhere(m >= threshold)
    bins = np.linspace(threshold, 1.0 + 1e-9, 6)
    for b in range(5):
        sel = [(i, j) for i, j in edges if bins[b] <= m[i, j] < bins[b + 1]]
        if not sel:
            continue
        xs, ys = [], []
        for i, j in sel:
            xs += [0, 1, None]
            ys += [int(i), int(j), None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color=f"rgba(228,87,46,{0.15 + 0.85 * (b + 1) / 5:.2f})",
                                           width=1 + 2.5 * b / 4)))
    for x, anchor in ((0, "right"), (1, "left")):
        fig.add_trace(go.Scatter(x=[x] * T, y=list(range(T)), mode="text", text=list(toks), showlegend=False,
                                 textposition=f"middle {anchor}", hoverinfo="skip", textfont=dict(size=11)))
    fig.update_xaxes(visible=False, range=[-0.8, 1.8])
    fig.update_yaxes(visible=False, autorange="reversed")
    fig.update_layout(height=min(900, 120 + 16 * T), margin=dict(l=10, r=10, t=40, b=10),
                      title=_lab(labels, "view_title", "head view, layer {layer}, head {head}").format(
                          layer=layer + 1, head=head + 1))
    return fig


def plot_head_scores(att: Attention, labels: dict | None = None) -> go.Figure:
    """Two L × A heatmaps: attention to [CLS]/[SEP] (sink) and to the previous token."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_lab(labels, "sink", "to [CLS]/[SEP]"),
                                                         _lab(labels, "previous", "to the previous token")),
                        horizontal_spacing=0.08)
    L, A = att.sink.shape
    for c, z in ((1, att.sink), (2, att.previous)):
        fig.add_trace(go.Heatmap(z=np.round(z, 3), x=list(range(1, A + 1)), y=list(range(1, L + 1)), zmin=0, zmax=1,
                                 colorscale="Viridis", showscale=c == 2, colorbar=dict(thickness=10),
                                 hovertemplate="layer %{y}, head %{x}: %{z}<extra></extra>"), 1, c)
        fig.update_xaxes(title=_lab(labels, "head", "head"), dtick=1, row=1, col=c)
        fig.update_yaxes(title=_lab(labels, "layer", "layer"), autorange="reversed", dtick=1, row=1, col=c)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_embeddings(emb: Embeddings, labels: dict | None = None) -> go.Figure:
    """Token, segment and position embeddings, their sum and its LayerNorm: each (T, H), rows = tokens,
    columns = the H dimensions, blue < 0 < red, as images."""
    parts = (("token", emb.token), ("segment", emb.segment), ("position", emb.position), ("summed", emb.summed),
             ("normed", emb.normed))
    T, H = emb.token.shape
    titles = [f"{_lab(labels, k, k)} ({T}×{H})" for k, _ in parts]
    fig = make_subplots(rows=len(parts), cols=1, subplot_titles=titles, vertical_spacing=0.05)
    for r, (_, x) in enumerate(parts, 1):
        img = _diverging(x)
        img = np.repeat(img, 2, axis=0)                                    # 2 px per token row
        fig.add_trace(go.Image(source=png_uri(img), x0=0, y0=0, dx=1, dy=0.5, hoverinfo="skip"), r, 1)
        fig.update_yaxes(tickvals=list(range(T)), ticktext=list(emb.tokens), tickfont=dict(size=8), row=r, col=1,
                         showgrid=False)
        fig.update_xaxes(showticklabels=r == len(parts), showgrid=False, row=r, col=1)
    fig.update_layout(height=len(parts) * (60 + 9 * T), margin=dict(l=10, r=10, t=30, b=10))
    return fig


def plot_contextual(ctx: Contextual, labels: dict | None = None) -> go.Figure:
    """Cosine similarity of one word's vectors in two sentences, layer by layer."""
    x = list(range(len(ctx.per_layer)))
    fig = go.Figure(go.Scatter(x=x, y=np.round(ctx.per_layer, 4), mode="lines+markers", line=dict(color="#1f77b4")))
    fig.update_xaxes(title=_lab(labels, "layer_axis", "layer (0 = embeddings)"), dtick=1)
    fig.update_yaxes(title=_lab(labels, "cosine", "cosine similarity"), range=[min(0.0, np.nanmin(ctx.per_layer)
                                                                                 if np.isfinite(ctx.per_layer).any()
                                                                                 else 0.0), 1.02])
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def plot_pretrain_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], labels: dict | None = None) -> go.Figure:
    """MLM loss, MLM top-1 and NSP accuracy against optimiser steps (means over each snapshot's window)."""
    names = ("mlm_loss", "mlm_acc", "nsp_acc")
    fig = make_subplots(rows=1, cols=3, subplot_titles=[_lab(labels, n, n) for n in names], horizontal_spacing=0.07)
    for c, n in enumerate(names, 1):
        steps, vals = curves.get(n, (np.zeros(0), np.zeros(0)))
        if len(steps) > 300:                         # at most ~300 points per curve
            keep = np.linspace(0, len(steps) - 1, 300).astype(int)
            steps, vals = steps[keep], vals[keep]
        fig.add_trace(go.Scatter(x=steps, y=np.round(vals, 4), mode="lines", showlegend=False,
                                 line=dict(color=("#d62728", "#1f77b4", "#2ca02c")[c - 1])), 1, c)
        fig.update_xaxes(title=_lab(labels, "step", "step"), row=1, col=c)
    fig.add_hline(y=0.5, line=dict(dash="dot", color="grey"), row=1, col=3)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_yaxes(range=[0, 1], row=1, col=3)
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_fills(snap: PretrainSnapshot, labels: dict | None = None) -> go.Figure:
    """The tiny model's top-5 fills at each [MASK] of the probe (up to 3 masks), as horizontal bars."""
    fills = snap.fills[:3]
    n = max(len(fills), 1)
    fig = make_subplots(rows=1, cols=n, subplot_titles=[_lab(labels, "mask_n", "[MASK] #{n}").format(n=i + 1)
                                                         for i in range(n)])
    for c, f in enumerate(fills, 1):
        fig.add_trace(go.Bar(x=list(f.probs)[::-1], y=[f"{t} " for t in f.tokens][::-1], orientation="h",
                             marker_color="#9467bd", showlegend=False,
                             text=[f"{p:.2f}" for p in f.probs][::-1], textposition="auto"), 1, c)
        fig.update_xaxes(range=[0, 1], title=_lab(labels, "prob", "probability"), row=1, col=c)
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_finetune(curve: FinetuneCurve, labels: dict | None = None) -> go.Figure:
    """Held-out accuracy against labelled examples per class, mean ± std over random draws, for [CLS] and
    mean-pooled features; chance as a dotted line."""
    fig = go.Figure()
    for name, acc, colour in (("cls", curve.acc_cls, "#e4572e"), ("mean", curve.acc_mean, "#1f77b4")):
        fig.add_trace(go.Scatter(x=curve.n_per_class, y=np.round(acc.mean(1), 4), mode="lines+markers",
                                 name=_lab(labels, name, name), line=dict(color=colour),
                                 error_y=dict(type="data", array=np.round(acc.std(1), 4), visible=True)))
    fig.add_hline(y=curve.chance, line=dict(dash="dot", color="grey"),
                  annotation_text=_lab(labels, "chance", "chance"))
    fig.update_xaxes(type="log", title=_lab(labels, "n_axis", "labelled examples per class"),
                     tickvals=list(curve.n_per_class))
    fig.update_yaxes(range=[0, 1.02], title=_lab(labels, "acc_axis", "test accuracy"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12))
    return fig
