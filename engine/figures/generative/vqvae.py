"""Figures of the VQ-VAE chapter: the 2-D latent plane (Voronoi cells, z_e, codes, straight-through arrows), data
and reconstructions, loss curves, code usage, digit reconstructions and code grids, posterior collapse."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from engine.figures.common import make_subplots

from engine.figures.common import lab, png_uri
from engine.figures.logaxis import log_axis
from engine.generative.vqvae import Snapshot2D, SnapshotCollapse, SnapshotDigits

PALETTE = qualitative.Light24
TERMS = {"rec": "#1f77b4", "codebook": "#ff7f0e", "commitment": "#2ca02c"}


def _colour(k: int) -> str:
    return PALETTE[int(k) % len(PALETTE)]


def _r(a, d: int = 3) -> list:
    return np.round(np.asarray(a, dtype=float), d).tolist()


def plot_latent(s: Snapshot2D, labels: dict | None = None, height: int = 430) -> go.Figure:
    """Latent plane: nearest-code cells, encoder outputs z_e coloured by code, lines to their code, codes as
    crosses (hollow: unused), and for a few points −∇L_rec at z_q (red) copied to z_e (straight-through, dashed)
    plus the commitment pull (green)."""
    K = len(s.codebook)
    lo, hi = s.extent
    g = np.linspace(lo, hi, s.cells.shape[0])
    scale = [[i / max(K - 1, 1), _colour(i)] for i in range(K)] if K > 1 else [[0, _colour(0)], [1, _colour(0)]]
    fig = go.Figure(go.Heatmap(x=_r(g, 2), y=_r(g, 2), z=s.cells.tolist(), colorscale=scale, zmin=0,
                               zmax=max(K - 1, 1), opacity=0.22, showscale=False, hoverinfo="skip"))
    seg_x, seg_y = [], []
    for p, k in zip(s.z_e[:120], s.indices[:120]):
        seg_x += [round(float(p[0]), 3), round(float(s.codebook[k, 0]), 3), None]
        seg_y += [round(float(p[1]), 3), round(float(s.codebook[k, 1]), 3), None]
    fig.add_trace(go.Scatter(x=seg_x, y=seg_y, mode="lines", line=dict(width=0.5, color="rgba(80,80,80,0.35)"),
                             hoverinfo="skip", name=lab(labels, "assign", "assignment")))
    fig.add_trace(go.Scatter(x=_r(s.z_e[:, 0]), y=_r(s.z_e[:, 1]), mode="markers", name="z_e",
                             marker=dict(size=5, color=[_colour(k) for k in s.indices],
                                         line=dict(width=0.5, color="black"))))
    used = s.counts > 0
    fig.add_trace(go.Scatter(x=_r(s.codebook[:, 0]), y=_r(s.codebook[:, 1]), mode="markers",
                             name=lab(labels, "codes", "codes e_k"), text=[str(k) for k in range(K)],
                             hovertemplate="e_%{text}<extra></extra>",
                             marker=dict(symbol=["x" if u else "x-open" for u in used], size=12,
                                         color=["black" if u else "grey" for u in used],
                                         line=dict(width=1.5, color="white"))))
    span = hi - lo
    norms = np.linalg.norm(s.grad_zq, axis=1)
    f = 0.18 * span / norms.max() if len(norms) and norms.max() > 0 else 0.0
    for a_ze, a_zq, g_rec, g_com in zip(s.arrow_ze, s.arrow_zq, s.grad_zq * f, s.grad_commit * f):
        fig.add_annotation(x=a_zq[0] + g_rec[0], y=a_zq[1] + g_rec[1], ax=a_zq[0], ay=a_zq[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=2, arrowcolor="#d62728")
        fig.add_annotation(x=a_ze[0] + g_rec[0], y=a_ze[1] + g_rec[1], ax=a_ze[0], ay=a_ze[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5,
                           arrowcolor="rgba(214,39,40,0.6)")
        fig.add_annotation(x=a_ze[0] + g_com[0], y=a_ze[1] + g_com[1], ax=a_ze[0], ay=a_ze[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5, arrowcolor="#2ca02c")
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), showlegend=False,
                      title=dict(text=lab(labels, "latent_title", "latent plane"), font=dict(size=14)),
                      xaxis=dict(range=[lo, hi], constrain="domain"), yaxis=dict(range=[lo, hi], scaleanchor="x"))
    return fig


def plot_data(s: Snapshot2D, labels: dict | None = None, height: int = 430) -> go.Figure:
    """Data space: the points x (grey) and their reconstructions x̂ = decoder(z_q) (one point per used code)."""
    fig = go.Figure(go.Scatter(x=_r(s.x[:, 0]), y=_r(s.x[:, 1]), mode="markers", name="x",
                               marker=dict(size=4, color="rgba(60,60,60,0.45)")))
    fig.add_trace(go.Scatter(x=_r(s.x_hat[:, 0]), y=_r(s.x_hat[:, 1]), mode="markers", name="x̂",
                             marker=dict(size=11, symbol="diamond", color=[_colour(k) for k in s.indices],
                                         line=dict(width=1, color="black"))))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), showlegend=False,
                      title=dict(text=lab(labels, "data_title", "data x and x̂"), font=dict(size=14)),
                      xaxis=dict(range=[-3, 3], constrain="domain"), yaxis=dict(range=[-3, 3], scaleanchor="x"))
    return fig


def plot_terms(steps: np.ndarray, curves: dict[str, np.ndarray], perplexity: np.ndarray, K: int,
               labels: dict | None = None, height: int = 300) -> go.Figure:
    """Left: the three loss terms (log scale); right: perplexity against its ceiling K."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "terms_title", "loss terms"),
                                                        lab(labels, "perplexity_title", "perplexity")))
    for name, y in curves.items():
        y = np.maximum(np.asarray(y, float), 1e-6)
        fig.add_trace(go.Scatter(x=steps.tolist(), y=_r(y, 6), name=lab(labels, name, name),
                                 line=dict(color=TERMS.get(name, "black"))), 1, 1)
    fig.add_trace(go.Scatter(x=steps.tolist(), y=_r(perplexity, 2), name=lab(labels, "perplexity", "perplexity"),
                             line=dict(color="#9467bd")), 1, 2)
    if len(steps):
        fig.add_trace(go.Scatter(x=[int(steps[0]), int(steps[-1])], y=[K, K], mode="lines", name="K",
                                 line=dict(color="grey", dash="dot")), 1, 2)
    log_axis(fig, [v for y in curves.values() for v in np.maximum(np.ravel(np.asarray(y, float)), 1e-6)], row=1, col=1)
    # steps are never negative: with one point (step 0) plotly's autorange would otherwise span −1…1
    fig.update_xaxes(title_text=lab(labels, "step", "step"), rangemode="nonnegative")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.35))
    return fig


def plot_usage(counts: np.ndarray, labels: dict | None = None, height: int = 230) -> go.Figure:
    """Assignments per code (bars; dead codes marked red at zero)."""
    K = len(counts)
    fig = go.Figure(go.Bar(x=list(range(K)), y=np.asarray(counts).tolist(),
                           marker_color=[_colour(k) if c > 0 else "#d62728" for k, c in enumerate(counts)]))
    dead = np.flatnonzero(np.asarray(counts) == 0)
    if len(dead):
        fig.add_trace(go.Scatter(x=dead.tolist(), y=[0] * len(dead), mode="markers",
                                 marker=dict(symbol="x", color="#d62728", size=7), hoverinfo="skip"))
    fig.update_xaxes(range=[-0.6, K - 0.4])          # every bar whole, the last one included
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False, bargap=0.1,
                      title=dict(text=lab(labels, "usage_title", "code usage"), font=dict(size=14)),
                      xaxis_title=lab(labels, "code", "code k"), yaxis_title=lab(labels, "count", "count"))
    return fig


def _strip(images: np.ndarray, scale: int = 2) -> np.ndarray:
    """(n, 28, 28) in [0, 1] → one uint8 row image, 2-pixel white gaps, each pixel `scale`×."""
    imgs = np.clip(np.nan_to_num(np.asarray(images, float)), 0, 1)
    n, h, w = imgs.shape
    row = np.zeros((h, n * (w + 2) - 2))             # 0 ink: white gaps
    for i, im in enumerate(imgs):
        row[:, i * (w + 2):i * (w + 2) + w] = im
    row = np.kron(row, np.ones((scale, scale)))
    return (255 * (1 - row)).astype(np.uint8)          # ink dark on white


def plot_images(rows: list[np.ndarray], labels: dict | None = None, title_key: str = "recon_title",
                height: int | None = None, scale: int = 2) -> go.Figure:
    """Rows of digits (each (n, 28, 28) in [0, 1]) stacked as one PNG image, each pixel `scale`×."""
    strips = [_strip(r, scale) for r in rows]
    width = max(s.shape[1] for s in strips)
    strips = [np.pad(s, ((0, 4), (0, width - s.shape[1])), constant_values=255) for s in strips]
    img = np.concatenate(strips, 0)
    fig = go.Figure(go.Image(source=png_uri(img), hoverinfo="skip"))
    fig.update_layout(height=height or int(img.shape[0] * 1.1) + 40, margin=dict(l=0, r=0, t=30, b=0),
                      title=dict(text=lab(labels, title_key, ""), font=dict(size=14)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def plot_code_grid(codes: np.ndarray, K: int, highlight: tuple[int, int] | None = None,
                   labels: dict | None = None, height: int = 300) -> go.Figure:
    """One image's 7×7 code grid, each cell coloured and labelled by its code index; `highlight` (row, col) boxed."""
    c = np.asarray(codes, int)
    scale = [[i / max(K - 1, 1), _colour(i)] for i in range(K)] if K > 1 else [[0, _colour(0)], [1, _colour(0)]]
    if K > len(PALETTE):
        scale = "Viridis"
    fig = go.Figure(go.Heatmap(z=c.tolist(), text=c.astype(str).tolist(), texttemplate="%{text}", zmin=0,
                               zmax=max(K - 1, 1), colorscale=scale, showscale=False, xgap=1, ygap=1,
                               hovertemplate="(%{y}, %{x}) → %{z}<extra></extra>"))
    if highlight is not None:
        r, col = highlight
        fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=r - 0.5, y1=r + 0.5,
                      line=dict(color="#d62728", width=3))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5),
                      title=dict(text=lab(labels, "grid_title", "code grid"), font=dict(size=14)),
                      yaxis=dict(autorange="reversed", scaleanchor="x", showticklabels=False),
                      xaxis=dict(showticklabels=False))
    return fig


def plot_digit_curves(steps: np.ndarray, mse: np.ndarray, perplexity: np.ndarray, K: int,
                      labels: dict | None = None, height: int = 280) -> go.Figure:
    """Held-out reconstruction MSE (with the 0.02 target) and perplexity over steps."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "mse_title", "reconstruction MSE"),
                                                        lab(labels, "perplexity_title", "perplexity")))
    fig.add_trace(go.Scatter(x=steps.tolist(), y=_r(mse, 5), name="MSE", line=dict(color="#1f77b4")), 1, 1)
    fig.add_trace(go.Scatter(x=steps.tolist(), y=_r(perplexity, 2), name=lab(labels, "perplexity", "perplexity"),
                             line=dict(color="#9467bd")), 1, 2)
    if len(steps):
        x = [int(steps[0]), int(steps[-1])]
        fig.add_trace(go.Scatter(x=x, y=[0.02, 0.02], mode="lines", line=dict(color="grey", dash="dot"),
                                 name="0.02"), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=[K, K], mode="lines", line=dict(color="grey", dash="dot"), name="K"), 1, 2)
    log_axis(fig, np.append(np.asarray(mse, float), 0.02), row=1, col=1)
    fig.update_xaxes(rangemode="nonnegative")                       # steps: no negative x at step 0
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), showlegend=False)
    return fig


def plot_collapse(steps: dict[str, np.ndarray], kl: np.ndarray, perp: np.ndarray, vae: SnapshotCollapse,
                  K: int, labels: dict | None = None, height: int = 300) -> go.Figure:
    """Left: the VAE's KL(q(z|x)‖p(z)) in nats over steps, beside log(perplexity) of the VQ-VAE's codes (the
    information each actually uses); right: the VAE's KL per latent dimension now."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "collapse_curves", "information used (nats)"),
                                                        lab(labels, "collapse_dims", "VAE: KL per dimension")))
    fig.add_trace(go.Scatter(x=steps["vae"].tolist(), y=_r(kl, 3), name=lab(labels, "vae_kl", "VAE KL"),
                             line=dict(color="#d62728")), 1, 1)
    fig.add_trace(go.Scatter(x=steps["vqvae"].tolist(), y=_r(np.log(np.maximum(perp, 1.0)), 3),
                             name=lab(labels, "vq_logperp", "VQ-VAE log perplexity"), line=dict(color="#1f77b4")),
                  1, 1)
    if len(steps["vqvae"]):
        fig.add_trace(go.Scatter(x=[int(steps["vqvae"][0]), int(steps["vqvae"][-1])], y=[np.log(K)] * 2,
                                 mode="lines", line=dict(color="grey", dash="dot"), name="log K"), 1, 1)
    fig.add_trace(go.Bar(x=[f"z{i + 1}" for i in range(len(vae.kl_per_dim))], y=_r(vae.kl_per_dim, 4),
                         marker_color="#d62728", showlegend=False), 1, 2)
    fig.update_xaxes(rangemode="nonnegative", row=1, col=1)        # steps: no negative x at step 0
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig
