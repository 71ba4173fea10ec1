"""Figures of the LIME chapter: superpixels, perturbed samples and their π_x weights, the surrogate's weights,
stability across seeds, and tabular LIME."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import png_uri, shrink, square_axes


def boundaries(segments: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels whose right or lower neighbour lies in another superpixel."""
    b = np.zeros(segments.shape, bool)
    b[:, :-1] |= segments[:, :-1] != segments[:, 1:]
    b[:-1, :] |= segments[:-1, :] != segments[1:, :]
    return b


def with_boundaries(rgb: np.ndarray, segments: np.ndarray, colour=(255, 255, 0)) -> np.ndarray:
    out = np.array(rgb, dtype=np.uint8, copy=True)
    out[boundaries(segments)] = colour
    return out


def plot_segments(rgb: np.ndarray, segments: np.ndarray, title: str = "") -> go.Figure:
    """The image with its superpixel borders; hover gives the superpixel id."""
    h, w = segments.shape
    fig = go.Figure(go.Image(source=png_uri(with_boundaries(rgb, segments)), hoverinfo="skip"))
    small = segments[:: max(1, h // 64), :: max(1, w // 64)]
    f = h / small.shape[0]
    fig.add_trace(go.Heatmap(z=small, x0=0, dx=f, y0=0, dy=f, opacity=0, showscale=False,
                             hovertemplate="superpixel %{z}<extra></extra>"))
    square_axes(fig, h, w)
    fig.update_layout(title=title, height=320, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def plot_samples(images: np.ndarray, probs: np.ndarray, weights: np.ndarray, titles: list[str],
                 title: str = "", tile: int = 130) -> go.Figure:
    """A grid of perturbed images (N, H, W, 3) with their f(z) and π_x(z) as two-line labels right above each tile.

    Each row is sized for square tiles of about `tile` px (six to a row in a desktop column), so the labels sit on
    their image instead of floating above an empty band; a figure title, if any, gets its own band above the labels
    (a long one belongs on the page, where text wraps)."""
    n = len(images)
    cols = min(n, 6)
    rows = int(np.ceil(n / cols))
    label_px, title_px = 34, (28 if title else 0)
    height = rows * (tile + label_px) + title_px
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.01,
                        vertical_spacing=label_px / height if rows > 1 else 0.0)
    for i, img in enumerate(images):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Image(source=png_uri(np.clip(img, 0, 255).astype(np.uint8)), hoverinfo="skip"),
                      row=r, col=c)
        fig.update_xaxes(visible=False, row=r, col=c)
        fig.update_yaxes(visible=False, row=r, col=c)
    fig.update_annotations(font_size=11)
    fig.update_layout(title=dict(text=title, y=1, yanchor="top", yref="container", pad_t=4) if title else None,
                      height=height, margin=dict(l=0, r=0, t=label_px + title_px, b=0))
    return fig


def plot_neighbourhood(distances: np.ndarray, probs: np.ndarray, weights: np.ndarray, n_on: np.ndarray,
                       title: str = "", xlabel: str = "D(x, z)", ylabel: str = "f(z)",
                       wlabel: str = "π_x(z)") -> go.Figure:
    """Every perturbed sample: distance to x against the model's probability, coloured by its weight π_x."""
    fig = go.Figure(go.Scatter(
        x=distances, y=probs, mode="markers",
        marker=dict(color=weights, colorscale="Viridis", size=6, colorbar=dict(title=wlabel), cmin=0, cmax=1),
        customdata=np.stack([weights, n_on], 1),
        hovertemplate="D=%{x:.3f}<br>f=%{y:.3f}<br>π=%{customdata[0]:.3f}<br>kept=%{customdata[1]:.0f}"
                      "<extra></extra>"))
    fig.update_layout(title=title, height=320, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel, yaxis_title=ylabel)
    return fig


def segment_value_image(segments: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(H, W) map of each pixel's superpixel value."""
    return np.asarray(values, dtype=np.float32)[segments]


def plot_segment_values(rgb: np.ndarray, segments: np.ndarray, values: np.ndarray, title: str = "",
                        opacity: float = 0.55, label: str = "w", share: bool = False, height: int = 320,
                        colorbar_below: bool = False) -> go.Figure:
    """The image overlaid with one value per superpixel on a diverging scale centred at 0 (red +, blue −), or with
    `share` a value in [0, 1] (how often a superpixel was in the top k) on a one-sided scale from 0 to 1.
    `colorbar_below` puts the colour bar under the image, so the image can take the column's whole width."""
    h, w = segments.shape
    m = segment_value_image(segments, values)
    small = shrink(m, 96)
    f = h / small.shape[0]
    lim = float(np.max(np.abs(values))) or 1.0
    zmin, zmax, scale = (0.0, 1.0, "Greens") if share else (-lim, lim, "RdBu_r")
    fig = go.Figure(go.Image(source=png_uri(with_boundaries(rgb, segments, (40, 40, 40))), hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=small, x0=(f - 1) / 2, dx=f, y0=(f - 1) / 2, dy=f, zmin=zmin, zmax=zmax,
                             colorscale=scale, opacity=opacity,
                             colorbar=(dict(title=dict(text=label, side="right"), orientation="h", y=-0.02,
                                            yanchor="top", len=0.8, thickness=12) if colorbar_below
                                       else dict(title=label, len=0.8)),
                             hovertemplate=label + "=%{z:.4f}<extra></extra>"))
    square_axes(fig, h, w)
    fig.update_layout(title=title, height=height,
                      margin=dict(l=0, r=0, t=30 if title else 0, b=50 if colorbar_below else 0))
    return fig


def top_k_image(rgb: np.ndarray, segments: np.ndarray, coef: np.ndarray, k: int) -> np.ndarray:
    """LIME's classic picture: the k superpixels with the largest positive weight, the rest greyed out."""
    top = np.argsort(-coef)[:k]
    keep = np.isin(segments, top[coef[top] > 0])
    grey = (np.asarray(rgb, dtype=np.float64).mean(axis=2, keepdims=True) * 0.3 + 150).repeat(3, 2)
    out = np.where(keep[..., None], rgb, grey).astype(np.uint8)
    out[boundaries(segments) & keep] = (255, 255, 0)
    return out


def plot_coefficients(coef: np.ndarray, top: int = 15, title: str = "", xlabel: str = "superpixel",
                      ylabel: str = "w") -> go.Figure:
    idx = np.argsort(-np.abs(coef))[:top]
    fig = go.Figure(go.Bar(x=[f"#{j}" for j in idx], y=coef[idx],
                           marker_color=np.where(coef[idx] >= 0, "#d62728", "#1f77b4"),
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_layout(title=title, height=280, margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel, yaxis_title=ylabel, xaxis_type="category")   # "#7" stays a name
    return fig


def plot_jaccard(jaccard: np.ndarray, seeds: tuple[int, ...], title: str = "", label: str = "seed") -> go.Figure:
    names = [f"{label} {s}" for s in seeds]
    fig = go.Figure(go.Heatmap(z=jaccard, x=names, y=names, zmin=0, zmax=1, colorscale="Greens",
                               text=np.round(jaccard, 2), texttemplate="%{text}",
                               hovertemplate="%{x} / %{y}: J=%{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=title, height=300, margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def plot_tabular(names: list[str], weights: np.ndarray, title: str = "", xlabel: str = "weight") -> go.Figure:
    """LimeTabularExplainer's conditions and weights, largest |weight| on top."""
    fig = go.Figure(go.Bar(x=weights[::-1], y=names[::-1], orientation="h",
                           marker_color=np.where(weights[::-1] >= 0, "#d62728", "#1f77b4"),
                           hovertemplate="%{y}: %{x:.4f}<extra></extra>"))
    fig.update_layout(title=title, height=60 + 28 * len(names), margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel)
    return fig
