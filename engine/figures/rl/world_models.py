"""Figures of the World Models chapter: frames and reconstructions as one PNG grid, a decoded latent, the dreamed
vs real rollout, latent trajectories, and C's CMA-ES curves."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab, png_uri
from engine.rl.world_models import Dream

COLORS = {"dream": "#9467bd", "real": "#1f77b4", "z_only": "#ff7f0e"}


def _grid(rows: list[np.ndarray], pad: int = 2) -> np.ndarray:
    """Rows of (N, H, W) images in [0, 1] → one (rows·(H+pad), N·(W+pad)) uint8 image, ink dark on white."""
    n, H, W = rows[0].shape
    out = np.full((len(rows) * (H + pad), n * (W + pad)), 255, np.uint8)
    for r, imgs in enumerate(rows):
        for c, im in enumerate(imgs):
            out[r * (H + pad):r * (H + pad) + H, c * (W + pad):c * (W + pad) + W] = \
                (255 * (1 - np.clip(im, 0, 1))).astype(np.uint8)
    return out


def plot_frame_rows(rows: dict[str, np.ndarray], labels: dict | None = None, col_titles: list[str] | None = None,
                    height: int | None = None) -> go.Figure:
    """Several rows of 64×64 frames (e.g. frames / reconstructions) as one PNG, row names on the left."""
    names = list(rows)
    img = _grid([rows[k] for k in names])
    H, W = img.shape
    fig = go.Figure(go.Image(source=png_uri(img), hoverinfo="skip"))
    step = H / len(names)
    for i, k in enumerate(names):
        fig.add_annotation(x=-4, y=(i + 0.5) * step, text=lab(labels, k, k), showarrow=False, xanchor="right")
    if col_titles:
        n = len(next(iter(rows.values())))
        for j, t in enumerate(col_titles):
            fig.add_annotation(x=(j + 0.5) * W / n, y=-6, text=t, showarrow=False, yanchor="bottom",
                               font=dict(size=11))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    # ~120 px per 64×64 frame: at 70 px the pole was a hairline
    fig.update_layout(height=height or int(130 * len(names) + 50), margin=dict(l=90, r=5, t=25, b=5))
    return fig


def plot_image(img: np.ndarray, title: str = "", height: int = 260) -> go.Figure:
    """One 64×64 frame (e.g. decoded from the latent sliders), enlarged."""
    fig = go.Figure(go.Image(source=png_uri(_grid([img[None]], pad=0)), hoverinfo="skip"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, width=height, margin=dict(l=5, r=5, t=30, b=5),
                      title=dict(text=title, font=dict(size=13)))
    return fig


def plot_dream(d: Dream, labels: dict | None = None, n_show: int = 8) -> go.Figure:
    """Real frames above, M's dream (decoded) below, at evenly spaced times from the same first frame."""
    idx = np.linspace(0, len(d.real) - 1, min(n_show, len(d.real))).astype(int)
    return plot_frame_rows({"real": d.real[idx], "dream": d.dream[idx]}, labels=labels,
                           col_titles=[f"t={i}" for i in idx])


def plot_latents(d: Dream, labels: dict | None = None, dims: tuple[int, ...] = (0, 1, 2)) -> go.Figure:
    """A few latent dimensions over time: V's μ of the real frames (solid) and the dreamed z (dashed)."""
    fig = make_subplots(rows=1, cols=len(dims), subplot_titles=[f"z[{j}]" for j in dims])
    t = np.arange(len(d.z_real))
    for c, j in enumerate(dims):
        fig.add_trace(go.Scatter(x=t, y=np.round(d.z_real[:, j], 3), name=lab(labels, "real", "real"),
                                 line=dict(color=COLORS["real"]), showlegend=c == 0, legendgroup="r"), 1, c + 1)
        fig.add_trace(go.Scatter(x=t, y=np.round(d.z_dream[:, j], 3), name=lab(labels, "dream", "dream"),
                                 line=dict(color=COLORS["dream"], dash="dash"), showlegend=c == 0,
                                 legendgroup="d"), 1, c + 1)
    fig.update_xaxes(title_text="t")
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_controller_curves(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]],
                           labels: dict | None = None) -> go.Figure:
    """Left: best fitness of each generation (in the dream for "dream", in the real env otherwise). Right: the
    real-environment return of the CMA-ES mean after each generation. `curves[model][metric] = (x, y)`."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "fitness_panel", "fitness"),
                                                        lab(labels, "real_panel", "real return")))
    for name, per in curves.items():
        for j, m in enumerate(("best", "real_return")):
            x, y = per[m]
            fig.add_trace(go.Scatter(x=x, y=np.round(y, 2), name=lab(labels, name, name), legendgroup=name,
                                     showlegend=j == 0, mode="lines+markers",
                                     line=dict(color=COLORS.get(name, "black"))), 1, j + 1)
    fig.update_xaxes(title_text=lab(labels, "generation", "generation"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_vae_curves(x: np.ndarray, rec: np.ndarray, kl: np.ndarray, labels: dict | None = None) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "reconstruction", "reconstruction"),
                                                        lab(labels, "kl", "KL")))
    fig.add_trace(go.Scatter(x=x, y=np.round(rec, 2), showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=np.round(kl, 3), showlegend=False), 1, 2)
    fig.update_xaxes(title_text=lab(labels, "step", "step"))
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=40, b=10))
    return fig
