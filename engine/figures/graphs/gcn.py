"""Figures of the GCN chapter: signals drawn on graphs (vector for small graphs, a PNG raster for large ones),
spectra, Chebyshev approximations, the impulse's spread and the GCN's embedding while it trains."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

import base64
import io

from engine.figures.common import lab
from engine.graphs.gcn import ChebResult, Filtered, GCNSnapshot, Graph, Spectrum, Spread

VECTOR_MAX = 400          # graphs up to this many nodes are drawn as plotly markers; larger ones as a PNG
# a diverging blue-white-red scale as (position, r, g, b)
_DIV = np.array([[0, 33, 102, 172], [0.25, 103, 169, 207], [0.5, 247, 247, 247], [0.75, 239, 138, 98],
                 [1, 178, 24, 43]], float)
DIV_SCALE = [[float(p), f"rgb({int(r)},{int(g)},{int(b)})"] for p, r, g, b in _DIV]
CLUB = ("rgb(33,102,172)", "rgb(178,24,43)")   # Mr. Hi blue, Officer red: the ends of DIV_SCALE, as the titles say


def _colours(v: np.ndarray, vmax: float) -> np.ndarray:
    """Values in [−vmax, vmax] → (N, 3) uint8 on the diverging scale."""
    p = np.clip(0.5 + 0.5 * np.asarray(v, float) / max(vmax, 1e-12), 0, 1)
    return np.stack([np.interp(p, _DIV[:, 0], _DIV[:, c]) for c in (1, 2, 3)], 1).astype(np.uint8)


def _raster(g: Graph, values: np.ndarray, vmax: float, w: int = 260, h: int = 210, mask=None) -> np.ndarray:
    """(h, w, 3) uint8: edges in light grey, nodes as dots coloured by value (grey where mask is False)."""
    img = np.full((h, w, 3), 255, np.uint8)
    c = g.coords
    lo, hi = c.min(0), c.max(0)
    span = np.where(hi - lo > 0, hi - lo, 1)
    s = min((w - 12) / span[0], (h - 12) / span[1])
    px = np.round((c[:, 0] - lo[0]) * s + 6).astype(int)
    py = np.round((hi[1] - c[:, 1]) * s + 6).astype(int)
    e = g.edges
    if len(e) <= 30_000:
        t = np.linspace(0, 1, 12)[None, :]
        ex = np.round(px[e[:, 0], None] * (1 - t) + px[e[:, 1], None] * t).astype(int).ravel()
        ey = np.round(py[e[:, 0], None] * (1 - t) + py[e[:, 1], None] * t).astype(int).ravel()
        img[np.clip(ey, 0, h - 1), np.clip(ex, 0, w - 1)] = 200
    col = _colours(values, vmax)
    if mask is not None:
        col[~np.asarray(mask)] = 190
    r = 1 if g.N > 1000 else (2 if g.N > 150 else 4)
    order = np.argsort(np.abs(values))                     # strongest drawn last (on top)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dx * dx + dy * dy <= r * r:
                img[np.clip(py[order] + dy, 0, h - 1), np.clip(px[order] + dx, 0, w - 1)] = col[order]
    return img


def _png(img: np.ndarray) -> str:
    """(H, W, 3) uint8 → a PNG data URI with a 64-colour palette (graph drawings have few colours; a third the size
    of full RGB)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, np.uint8)).quantize(64).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _image_fig(img: np.ndarray, title: str, height: int) -> go.Figure:
    fig = go.Figure(go.Image(source=_png(img), hoverinfo="skip"))
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=30, b=0), title=dict(text=title, font=dict(size=13)),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def _r(a, d: int = 3) -> list:
    return np.round(np.asarray(a, float), d).tolist()


def _name(g: Graph, i: int) -> str:
    """Node i as the hover names it: its number, and for an upload the reader's own id when it differs."""
    if g.node_ids and str(g.node_ids[i]) != str(i):
        return f"{i} ({str(g.node_ids[i])[:30]})"
    return str(i)


def plot_signal(g: Graph, values: np.ndarray, title: str = "", labels: dict | None = None, height: int = 330,
                vmax: float | None = None, mask=None, colorbar: bool = True) -> go.Figure:
    """A signal on a graph: the grid as an image; up to VECTOR_MAX nodes as markers over grey edges (hover: node
    id and value); larger graphs as a PNG raster. `colorbar=False` for a two-valued signal (a predicted class), whose
    colours the title names."""
    values = np.asarray(values, float)
    vmax = float(np.abs(values).max()) if vmax is None else vmax
    if g.name == "grid":
        side = int(round(np.sqrt(g.N)))
        img = _colours(values, vmax).reshape(side, side, 3)
        img = np.kron(img, np.ones((8, 8, 1), np.uint8))
        return _image_fig(img, title, height)
    if g.N > VECTOR_MAX:
        return _image_fig(_raster(g, values, vmax, mask=mask), title, height)
    e = g.edges
    c = np.round(g.coords, 3)
    ex = np.column_stack([c[e[:, 0], 0], c[e[:, 1], 0], np.full(len(e), np.nan)]).ravel()
    ey = np.column_stack([c[e[:, 0], 1], c[e[:, 1], 1], np.full(len(e), np.nan)]).ravel()
    fig = go.Figure(go.Scatter(x=ex.tolist(), y=ey.tolist(), mode="lines", line=dict(color="#ccc", width=1),
                               hoverinfo="skip"))
    on = np.ones(g.N, bool) if mask is None else np.asarray(mask, bool)
    size = 11 if g.N < 60 else 7
    if not on.all():
        fig.add_trace(go.Scatter(x=c[~on, 0].tolist(), y=c[~on, 1].tolist(), mode="markers", hoverinfo="skip",
                                 marker=dict(size=size, color="#bbb", line=dict(width=0.5, color="#444"))))
    ids = np.flatnonzero(on)
    fig.add_trace(go.Scatter(x=c[on, 0].tolist(), y=c[on, 1].tolist(), mode="markers",
                             marker=dict(size=size, color=_r(values[on]), colorscale=DIV_SCALE,
                                         cmin=-vmax, cmax=vmax, line=dict(width=0.5, color="#444"),
                                         showscale=colorbar, colorbar=dict(thickness=8, len=0.8)),
                             text=[_name(g, i) for i in ids], customdata=ids.tolist(),
                             hovertemplate=lab(labels, "node", "node") + " %{text}: %{marker.color}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=30, b=0), showlegend=False,
                      title=dict(text=title, font=dict(size=13)),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))
    return fig


def plot_eigvecs(g: Graph, spec: Spectrum, which: list[int], labels: dict | None = None) -> go.Figure:
    """Eigenvectors u_k drawn on the graph, one tile each, low to high frequency, as one PNG mosaic."""
    tiles = []
    for k in which:
        u = spec.U[:, k]
        if g.name == "grid":
            side = int(round(np.sqrt(g.N)))
            t = np.kron(_colours(u, np.abs(u).max()).reshape(side, side, 3), np.ones((6, 6, 1), np.uint8))
            t = np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255)
        else:
            t = _raster(g, u, float(np.abs(u).max()), w=170, h=136)
        tiles.append(t)
    top = 18                                              # a white band above each tile for its name
    h = max(t.shape[0] for t in tiles) + top
    tiles = [np.pad(t, ((top, h - top - t.shape[0]), (0, 4), (0, 0)), constant_values=255) for t in tiles]
    cols = 4
    rows = [np.concatenate(tiles[i:i + cols] + [np.full_like(tiles[0], 255)] * (cols - len(tiles[i:i + cols])), 1)
            for i in range(0, len(tiles), cols)]
    img = np.concatenate(rows, 0)
    fig = _image_fig(img, lab(labels, "eig_title", "eigenvectors"), int(1.25 * img.shape[0]) + 40)
    fig.update_layout(margin=dict(l=0, r=0, t=30, b=0))
    w = tiles[0].shape[1]
    for i, k in enumerate(which):                         # each tile named where it is (a caption line was ~8 px)
        fig.add_annotation(x=(i % cols + 0.5) * w, y=(i // cols) * h + 2, text=f"u{k} · λ = {spec.lam[k]:.3f}",
                           showarrow=False, yanchor="top", font=dict(size=12, color="#222"))
    return fig


def _thin(n: int, most: int = 400) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(int))


def plot_spectrum(f: Filtered, lam: np.ndarray, labels: dict | None = None, height: int = 320) -> go.Figure:
    """|Uᵀx| and |g ⊙ Uᵀx| against λ, and g(λ) on a second axis (at most ~700 eigenvalues drawn)."""
    i = _thin(len(lam))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=_r(lam[i]), y=_r(np.abs(f.x_hat[i])), mode="markers", marker=dict(size=5, color="#999"),
                             name=lab(labels, "x_hat", "|Uᵀx|")))
    fig.add_trace(go.Scatter(x=_r(lam[i]), y=_r(np.abs(f.y_hat[i])), mode="markers",
                             marker=dict(size=5, color="#d62728"), name=lab(labels, "y_hat", "|g·Uᵀx|")))
    fig.add_trace(go.Scatter(x=_r(lam[i]), y=_r(f.g[i]), mode="lines", line=dict(color="#2ca02c"),
                             name=lab(labels, "g", "g(λ)")), secondary_y=True)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), legend=dict(orientation="h", y=1.12),
                      xaxis_title="λ")
    # the second axis keeps its own round ticks (synced to the first one's grid it read 0.917, 0.704, …)
    fig.update_yaxes(range=[0, 1.05], tickmode="auto", showgrid=False, secondary_y=True)
    return fig


def plot_cheb(r: ChebResult, labels: dict | None = None, height: int = 300) -> go.Figure:
    """The exact response g(λ) and its degree-K Chebyshev polynomial on [0, λ_max]."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_r(r.lam_grid), y=_r(r.exact_curve), name=lab(labels, "exact", "exact g(λ)"),
                             line=dict(color="#2ca02c", width=3)))
    fig.add_trace(go.Scatter(x=_r(r.lam_grid), y=_r(r.cheb_curve), name=lab(labels, "cheb", "Chebyshev, K") + f" = {r.K}",
                             line=dict(color="#9467bd", dash="dash")))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), xaxis_title="λ",
                      legend=dict(orientation="h", y=1.12))
    return fig


def plot_spread(g: Graph, s: Spread, labels: dict | None = None, height: int = 330) -> go.Figure:
    """Nodes coloured by the order k at which T_k(L̃)δ first reaches them (= their hop distance); grey: not
    reached by order K."""
    K = len(s.reach) - 1
    first = np.where(s.reach.any(0), s.reach.argmax(0), -1)
    vals = np.where(first >= 0, first - K / 2, 0.0) * (-1)          # near nodes red, far ones blue
    return plot_signal(g, vals, lab(labels, "spread_title", "reached at order k"), labels, height,
                       vmax=max(K / 2, 0.5), mask=first >= 0)


def plot_embedding(g: Graph, s: GCNSnapshot, labelled: tuple[int, ...], labels: dict | None = None,
                   height: int = 340) -> go.Figure:
    """The 2-D second-layer embedding of every member: colour = real club (blue Mr. Hi, red Officer, as the predicted
    club's drawing), ring = labelled, cross = wrong. Members collapse onto a few points as training separates the
    clubs, so only the labelled members carry a printed number; every member's number is in its hover."""
    fig = go.Figure()
    for c in (0, 1):
        i = np.flatnonzero(g.labels == c)
        wrong = s.pred[i] != c
        fig.add_trace(go.Scatter(x=_r(s.emb[i, 0]), y=_r(s.emb[i, 1]), mode="markers+text",
                                 text=[str(j) if j in labelled else "" for j in i], textposition="top center",
                                 textfont=dict(size=11), hovertext=[str(j) for j in i],
                                 hovertemplate=lab(labels, "node", "node") + " %{hovertext}<extra></extra>",
                                 marker=dict(size=[16 if j in labelled else 9 for j in i], color=CLUB[c],
                                             symbol=["x" if w else "circle" for w in wrong],
                                             line=dict(width=[3 if j in labelled else 0 for j in i], color="black")),
                                 name=lab(labels, f"club{c}", f"club {c}")))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), legend=dict(orientation="h", y=1.1),
                      xaxis=dict(range=[-1.1, 1.1], title="h₁"), yaxis=dict(range=[-1.1, 1.1], title="h₂"))
    return fig


def plot_curves(steps, loss, acc, labels: dict | None = None, height: int = 260) -> go.Figure:
    """Training loss and accuracy on the unlabelled members against the step."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=list(map(int, steps)), y=_r(loss, 4), name=lab(labels, "loss", "loss"),
                             mode="lines+markers", marker=dict(size=3)))
    fig.add_trace(go.Scatter(x=list(map(int, steps)), y=_r(acc), name=lab(labels, "acc", "accuracy"),
                             mode="lines+markers", marker=dict(size=3)), secondary_y=True)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), legend=dict(orientation="h", y=1.15))
    fig.update_yaxes(range=[0, 1.02], tickmode="auto", showgrid=False, secondary_y=True)
    return fig
