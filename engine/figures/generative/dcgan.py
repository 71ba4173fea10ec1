"""Figures of the DCGAN / CGAN chapter: image grids, interpolation strips, curves, the architecture."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab



def tile(images: np.ndarray, gap: int = 1) -> np.ndarray:
    """(rows, cols, h, w) → one (rows·(h+gap) − gap, cols·(w+gap) − gap) array, NaN in the gaps."""
    r, c, h, w = images.shape
    out = np.full((r * (h + gap) - gap, c * (w + gap) - gap), np.nan)
    for i in range(r):
        for j in range(c):
            out[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = images[i, j]
    return out


def plot_grid(images: np.ndarray, title: str = "", row_labels: list[str] | None = None,
              height: int | None = None) -> go.Figure:
    """A grid of 8×8 images (rows, cols, 8, 8) in [−1, 1] as one grey heatmap."""
    z = tile(images)
    r, c = images.shape[:2]
    fig = go.Figure(go.Heatmap(z=z, colorscale="gray", zmin=-1, zmax=1, showscale=False, hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=row_labels is not None,
                     tickvals=[i * 9 + 3.5 for i in range(r)] if row_labels else None, ticktext=row_labels)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=height or 40 + 40 * r,   # ~40 px per 8 × 8 digit: readable tiles
                      margin=dict(l=5, r=5, t=30 if title else 5, b=5),
                      title=dict(text=title, font=dict(size=13)), plot_bgcolor="white")
    return fig


MODEL_COLOURS = {"dcgan": "#1f77b4", "cgan": "#e4572e"}
# one dash per quantity, one colour per model: the eight series are eight different (colour, dash) pairs
SERIES = (("hist_d", "L<sub>D</sub>", "solid", 1), ("hist_g", "L<sub>G</sub>", "dot", 1),
          ("hist_d_real", "D(x)", "dash", 2), ("hist_d_fake", "D(G(z))", "dashdot", 2))


def plot_curves(snaps: dict, labels: dict | None = None) -> go.Figure:
    """Left: L_D and L_G per model. Right: mean σ(D) on real and generated batches (½ at the equilibrium).

    Each chart has its own legend, under it; every series has its own colour and dash (colour = model, dash =
    quantity), and the equilibrium lines are labelled where they are drawn."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(lab(labels, "loss_panel", "losses"), lab(labels, "d_panel", "D outputs")))
    for name, s in snaps.items():
        c, n = MODEL_COLOURS.get(name, "black"), lab(labels, name, name)
        for field, symbol, dash, col in SERIES:
            fig.add_trace(go.Scatter(x=s.hist_step, y=np.round(getattr(s, field), 4), name=f"{n}: {symbol}",
                                     legend="legend" if col == 1 else "legend2", mode="lines",
                                     line=dict(color=c, dash=dash, width=2)), 1, col)
    fig.add_hline(y=2 * np.log(2), line_dash="longdash", line_color="gray", line_width=1, row=1, col=1,
                  annotation_text="2·log 2", annotation_position="top left", annotation_font_color="gray")
    fig.add_hline(y=0.5, line_dash="longdash", line_color="gray", line_width=1, row=1, col=2,
                  annotation_text="½", annotation_position="top left", annotation_font_color="gray")
    if not any(len(s.hist_step) for s in snaps.values()):        # step 0: nothing trained yet, say when lines come
        for xref in ("x domain", "x2 domain"):
            fig.add_annotation(text=lab(labels, "pending", "curves from the first training step on"), showarrow=False,
                               xref=xref, yref=xref.replace("x", "y"), x=0.5, y=0.85, font=dict(color="#888"))  # above ½ and 2·log 2
    fig.update_xaxes(title_text=lab(labels, "step", "step"), title_standoff=4)
    # each legend under its own chart, one entry per line (a horizontal legend wraps at the figure's width only)
    below = dict(orientation="v", yanchor="top", y=-0.2, xanchor="left", font=dict(size=12, color="#31333f"),
                 tracegroupgap=0, itemwidth=40)
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=40, b=10),
                      legend={**below, "x": 0.0}, legend2={**below, "x": 0.55})
    return fig


def plot_architecture(g_rows: list[tuple[str, tuple]], d_rows: list[tuple[str, tuple]],
                      labels: dict | None = None) -> go.Figure:
    """Two columns of layer boxes (G left, D right), each annotated with its output shape."""
    fig = go.Figure()
    for col, (rows, name) in enumerate(((g_rows, lab(labels, "generator", "Generator")),
                                        (d_rows, lab(labels, "discriminator", "Discriminator")))):
        x0 = col * 1.2
        fig.add_annotation(x=x0 + 0.5, y=0.6, text=f"<b>{name}</b>", showarrow=False, font=dict(size=14))
        for i, (layer, shape) in enumerate(rows):
            y = -i
            weighty = layer.startswith(("Linear", "Conv"))
            fig.add_shape(type="rect", x0=x0, x1=x0 + 1.0, y0=y - 0.4, y1=y + 0.4, line=dict(color="#555"),
                          fillcolor="#dbe9f6" if weighty else "#f2f2f2")
            fig.add_annotation(x=x0 + 0.5, y=y, showarrow=False, font=dict(size=11),
                               text=f"{layer} → ({', '.join(map(str, shape))})")
    n = max(len(g_rows), len(d_rows))
    fig.update_xaxes(visible=False, range=[-0.05, 2.25])
    fig.update_yaxes(visible=False, range=[-n + 0.4, 1.0])
    fig.update_layout(height=40 + 34 * (n + 1), margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    return fig
