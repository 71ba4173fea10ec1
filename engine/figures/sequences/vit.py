"""Figures of the Vision Transformer chapter: pure functions of engine results (plotly only, SVG traces, photos and
large maps as JPEG/PNG images)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import colour_lut, curve_traces, heat_ranges, heat_traces, jpeg_uri, lab, png_uri
from engine.sequences import vit as V

COLORS = {"vit": "#ef553b", "cnn": "#636efa"}
MAX_STRIP = 16                          # patches drawn in the token strip


def _rgb(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] → (H, W, 3) uint8."""
    x = np.clip(image, 0, 1)
    if x.shape[0] == 1:
        x = np.repeat(x, 3, axis=0)
    return (x.transpose(1, 2, 0) * 255).round().astype(np.uint8)


def _upscale(rgb: np.ndarray, min_side: int = 224) -> np.ndarray:
    """Nearest-neighbour enlargement to at least `min_side` px so that small images stay crisp."""
    f = max(1, int(np.ceil(min_side / max(rgb.shape[:2]))))
    return rgb.repeat(f, axis=0).repeat(f, axis=1)


def _fit(rgb: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a small image to at least `side` px, or a box-filtered reduction of a large
    one to at most 2·`side` px (small panels need no more pixels than they show)."""
    if max(rgb.shape[:2]) <= 2 * side:
        return _upscale(rgb, side)
    from PIL import Image

    f = 2 * side / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * f)), max(1, round(rgb.shape[0] * f)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def _image_trace(rgb: np.ndarray, w: int, h: int, png: bool = False, side: int = 224) -> go.Image:
    """An image stretched over [0, w] × [0, h] (pixel units of the original), sent at about `side` px."""
    up = _fit(rgb, side)
    return go.Image(source=png_uri(up) if png else jpeg_uri(up, 85), x0=0.5 * w / up.shape[1],
                    y0=0.5 * h / up.shape[0], dx=w / up.shape[1], dy=h / up.shape[0], hoverinfo="skip")


def _grid_lines(h: int, w: int, p: int) -> go.Scatter:
    """Patch borders as one line trace (segments separated by None)."""
    xs, ys = [], []
    for x in range(0, w + 1, p):
        xs += [x, x, None]
        ys += [0, h, None]
    for y in range(0, h + 1, p):
        xs += [0, w, None]
        ys += [y, y, None]
    return go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="white", width=1), hoverinfo="skip",
                      showlegend=False)


def plot_patches(emb: V.Embedding, labels: dict | None = None) -> go.Figure:
    """Left: the image with its P×P patches and their reading order; right: the first patches as the sequence the
    encoder reads, [CLS] first.  labels: image_title, strip_title, cls."""
    c, h, w = emb.image.shape
    p, (gh, gw) = emb.p, emb.grid
    n = gh * gw
    k = min(n, MAX_STRIP)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.06,
                        subplot_titles=(lab(labels, "image_title", "patches"), lab(labels, "strip_title", "tokens")))
    fig.add_trace(_image_trace(_rgb(emb.image), w, h), 1, 1)
    fig.add_trace(_grid_lines(h, w, p), 1, 1)
    if n <= 64:                                             # the reading order, written on each patch
        centres = np.array([((i % gw + 0.5) * p, (i // gw + 0.5) * p) for i in range(n)])
        fig.add_trace(go.Scatter(x=centres[:, 0], y=centres[:, 1], mode="text", text=[str(i + 1) for i in range(n)],
                                 textfont=dict(color="yellow", size=11), hoverinfo="skip", showlegend=False), 1, 1)
    fig.update_xaxes(range=[0, w], visible=False, row=1, col=1)
    fig.update_yaxes(range=[h, 0], visible=False, scaleanchor="x", row=1, col=1)
    # the strip: [CLS] (grey) then patches 1..k, one pixel of white between them
    gap = max(1, p // 8)
    strip = np.full((p, (k + 1) * (p + gap), 3), 255, np.uint8)
    strip[:, :p] = 160
    pats = V.unpatchify(emb.patches[:k], c, p, p * k, p) if k else np.zeros((c, p, 0))   # (C, P, k·P)
    for i in range(k):
        strip[:, (i + 1) * (p + gap):(i + 1) * (p + gap) + p] = _rgb(pats[:, :, i * p:(i + 1) * p])
    sw = strip.shape[1]
    fig.add_trace(_image_trace(strip, sw, p, png=True), 1, 2)
    ticks = [p / 2 + i * (p + gap) for i in range(k + 1)]
    fig.update_xaxes(range=[0, sw], tickvals=ticks, ticktext=[lab(labels, "cls", "[CLS]")] +
                     [str(i + 1) for i in range(k)], showgrid=False, row=1, col=2)
    fig.update_yaxes(range=[p, 0], visible=False, scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white")
    return fig


def plot_tokens(emb: V.Embedding, labels: dict | None = None) -> go.Figure:
    """z₀ as a heat map: rows = tokens ([CLS] = 0), columns = the D features.  labels: title, token, feature."""
    z = emb.z0                                              # (N+1, D)
    lim = float(np.abs(z).max()) or 1.0
    x, y = np.arange(z.shape[1]), np.arange(z.shape[0])
    hover = (lab(labels, "token", "token") + " %{y:.0f}, " + lab(labels, "feature", "feature") +
             " %{x:.0f}: %{z:.2f}<extra></extra>")
    if z.size <= 8192:                                      # crisp cells, one number each
        traces, images = [go.Heatmap(z=np.round(z, 2).astype(np.float32), colorscale="RdBu", zmin=-lim, zmax=lim,
                                     hovertemplate=hover)], []
    else:                                                   # thousands of tokens: one image + a coarse hover grid
        traces, images = heat_traces(z, x, y, colorscale="RdBu", zmin=-lim, zmax=lim, hover_cells=(48, 32),
                                     hovertemplate=hover, decimals=2)
    fig = go.Figure(traces)
    r = heat_ranges(x, y)                                   # y up: [CLS] (token 0) is the bottom row
    r["yaxis"].update(title=lab(labels, "token", "token"))
    r["xaxis"].update(title=lab(labels, "feature", "feature"))
    fig.update_layout(images=images, height=320, margin=dict(l=10, r=10, t=40, b=10),
                      title=lab(labels, "title", "z0"), **r)
    return fig


def _overlay(rgb: np.ndarray, attn: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """The image with the (n, n) attention coloured over it patch by patch, the colours stretched from the map's
    smallest weight (dark, most of the image shows through) to its largest (bright)."""
    h, w = rgb.shape[:2]
    span = float(attn.max() - attn.min())
    a = (attn - attn.min()) / span if span > 0 else np.full_like(attn, 0.5)
    big = np.kron(a, np.ones((h // a.shape[0], w // a.shape[1])))            # (H, W)
    colour = lut[(big * 255).astype(np.uint8)].astype(float)
    alpha = 0.15 + 0.65 * big[..., None]
    return (rgb * (1 - alpha) + colour * alpha).clip(0, 255).astype(np.uint8)


def plot_cls_attention(emb: V.Embedding, labels: dict | None = None) -> go.Figure:
    """[CLS]'s attention to the patches in each head and their mean, over the image.  labels: head, mean."""
    c, h, w = emb.image.shape
    maps = list(emb.cls_attn.reshape(len(emb.cls_attn), *emb.grid)) + [emb.cls_attn.mean(0).reshape(emb.grid)]
    titles = [lab(labels, "head", "head {i}").format(i=i + 1) for i in range(len(maps) - 1)] + \
        [lab(labels, "mean", "mean")]
    fig = make_subplots(rows=1, cols=len(maps), subplot_titles=titles, horizontal_spacing=0.02)
    lut = colour_lut("Inferno")
    rgb = _rgb(emb.image)
    for j, m in enumerate(maps, start=1):
        fig.add_trace(_image_trace(_overlay(rgb, m, lut), w, h, side=96), 1, j)
        fig.update_xaxes(range=[0, w], visible=False, row=1, col=j)
        fig.update_yaxes(range=[h, 0], visible=False, scaleanchor="x" if j == 1 else f"x{j}", row=1, col=j)
    fig.update_layout(height=260, margin=dict(l=5, r=5, t=40, b=5))
    return fig


def plot_cost(sides: np.ndarray, p: int, d: int, m: int, heads: int, labels: dict | None = None,
              mark: int | None = None) -> go.Figure:
    """Left: tokens N vs the image side for every patch size (log–log); right: one layer's multiply–adds split into
    projections, attention scores and MLP for patch size `p`; `mark`: the learner's side, starred on both.
    labels: tokens_title, macs_title, side, tokens, qkv_out, scores, mlp, patch, yours."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "tokens_title", "tokens"),
                                                        lab(labels, "macs_title", "multiply–adds")))
    sides = np.asarray(sides)
    for q in V.PATCHES:
        ok = sides >= q
        fig.add_trace(go.Scatter(x=sides[ok].tolist(), y=[V.n_tokens(int(s), int(s), q) for s in sides[ok]],
                                 mode="lines+markers", name=lab(labels, "patch", "P = {p}").format(p=q),
                                 line=dict(width=3 if q == p else 1.5)), 1, 1)
    ok = sides >= p
    costs = V.cost_curve(sides[ok], p, d, m, heads)
    for part, dash in (("qkv_out", "dot"), ("mlp", "dash"), ("scores", "solid")):
        fig.add_trace(go.Scatter(x=sides[ok].tolist(), y=[float(getattr(c, part)) for c in costs], mode="lines",
                                 name=lab(labels, part, part), line=dict(dash=dash, width=2.5)), 1, 2)
    if mark is not None:
        c = V.layer_cost(V.n_tokens(mark, mark, p), d, m, heads)
        star = dict(symbol="star", size=14, color="gold", line=dict(color="black", width=1))
        fig.add_trace(go.Scatter(x=[mark], y=[c.n], mode="markers", marker=star,
                                 name=lab(labels, "yours", "your image"), legendgroup="yours"), 1, 1)
        fig.add_trace(go.Scatter(x=[mark, mark], y=[float(c.scores), float(c.mlp)], mode="markers",
                                 marker=star, showlegend=False, legendgroup="yours"), 1, 2)
    fig.update_xaxes(type="log", title_text=lab(labels, "side", "side (px)"))
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_training(snaps: dict, labels: dict | None = None) -> go.Figure:
    """Left: accuracy vs step, test (solid) and training minibatches (dotted), ViT and CNN; right: training loss
    (log y).  labels: acc_title, loss_title, step, vit, cnn, test, train, target."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "acc_title", "accuracy"),
                                                        lab(labels, "loss_title", "loss")))
    for name, s in snaps.items():
        name_l = lab(labels, name, name)
        for tr, metric, dash in ((s.test_acc, "test", "solid"), (s.train_acc, "train", "dot")):
            t = curve_traces({f"{name_l} ({lab(labels, metric, metric)})": (s.steps, tr)})[0]
            t.update(line=dict(color=COLORS[name], dash=dash), legendgroup=name)
            fig.add_trace(t, 1, 1)
        t = curve_traces({name_l: (s.steps[1:], np.maximum(s.train_loss[1:], 1e-4))})[0]
        t.update(line=dict(color=COLORS[name]), legendgroup=name, showlegend=False)
        fig.add_trace(t, 1, 2)
    fig.add_hline(y=V.TARGET_ACC, line=dict(color="grey", dash="dash", width=1), row=1, col=1,
                  annotation_text=lab(labels, "target", "target"), annotation_position="bottom right")
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text=lab(labels, "step", "step"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_digit_attention(snap: V.DigitsSnapshot, labels: dict | None = None) -> go.Figure:
    """The test digits with the last layer's [CLS] attention (heads averaged) over them, the prediction above.
    labels: pred."""
    k = len(snap.shown)
    titles = [lab(labels, "pred", "→ {c}").format(c=int(c)) for c in snap.shown_pred]
    fig = make_subplots(rows=1, cols=k, subplot_titles=titles, horizontal_spacing=0.02)
    lut = colour_lut("Inferno")
    for j in range(k):
        rgb = np.repeat((snap.shown[j] * 255).astype(np.uint8)[..., None], 3, axis=2)
        fig.add_trace(_image_trace(_overlay(rgb, snap.cls_attn[j], lut), 28, 28, png=True), 1, j + 1)
        fig.update_xaxes(range=[0, 28], visible=False, row=1, col=j + 1)
        fig.update_yaxes(range=[28, 0], visible=False, scaleanchor="x" if j == 0 else f"x{j + 1}", row=1, col=j + 1)
    fig.update_layout(height=220, margin=dict(l=5, r=5, t=40, b=5))
    return fig


def plot_position_similarity(snap: V.DigitsSnapshot, labels: dict | None = None) -> go.Figure:
    """ViT paper Fig. 7 (centre): tile (i, j) shows the cosine similarity of patch (i, j)'s position embedding
    with every other patch's, tiles in the patches' own layout.  labels: title."""
    sim = snap.pos_sim                                      # (N, N)
    n = int(round(np.sqrt(len(sim))))
    big = np.full((n * (n + 1) - 1, n * (n + 1) - 1), np.nan)
    for i in range(n * n):
        r, c = divmod(i, n)
        big[r * (n + 1):r * (n + 1) + n, c * (n + 1):c * (n + 1) + n] = sim[i].reshape(n, n)
    fig = go.Figure(go.Heatmap(z=np.round(big, 2).astype(np.float32), colorscale="RdBu", reversescale=True,
                               zmin=-1, zmax=1, hovertemplate="%{z:.2f}<extra></extra>",
                               colorbar=dict(thickness=12)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(height=300, margin=dict(l=5, r=5, t=40, b=5), title=lab(labels, "title", "position"),
                      plot_bgcolor="white")
    return fig
