"""Plotly figures of the convolution-arithmetic chapter: pure functions of engine results, no streamlit.

Small maps (≤ 72 × 72 cells) are crisp `go.Heatmap`s sent as float32 (plotly encodes arrays in binary: half the
bytes of float64); the im2col matrix, which
can have thousands of columns, goes as a JPEG (`heat_traces`)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.basics import conv as C
from engine.figures.common import heat_traces, lab

TAP, WINDOW, PAD = "#d62728", "#ff7f0e", "rgba(31, 119, 180, 0.18)"


def _signed_limit(z: np.ndarray) -> float:
    return float(np.abs(z).max()) or 1.0


def _panels(titles: list[str], widths: list[float], image: bool = True, gap: float = 0.05) -> dict:
    """Layout of a row of panels built in one go (make_subplots and per-panel updates cost ~10 ms each in plotly's
    validation): axes x, x2, … with their domains, y down with square cells (`image`), titles as annotations."""
    total = sum(widths)
    free = 1 - gap * (len(widths) - 1)
    layout: dict = {"annotations": []}
    left = 0.0
    for n, (title, w) in enumerate(zip(titles, widths), start=1):
        right = 1.0 if n == len(widths) else round(left + free * w / total, 6)
        sfx = "" if n == 1 else str(n)
        layout[f"xaxis{sfx}"] = dict(domain=[left, right], anchor=f"y{sfx}", showgrid=False, zeroline=False,
                                     constrain="domain")
        layout[f"yaxis{sfx}"] = dict(anchor=f"x{sfx}", showgrid=False, zeroline=False, constrain="domain",
                                     **(dict(autorange="reversed", scaleanchor=f"x{sfx}", showticklabels=n == 1)
                                        if image else {}))
        layout["annotations"].append(dict(text=title, x=(left + right) / 2, y=1.0, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=14)))
        left = round(right + gap, 6)
    return layout


def _heat(z: np.ndarray, n: int, **kw) -> go.Heatmap:
    sfx = "" if n == 1 else str(n)
    return go.Heatmap(z=np.asarray(z, np.float32), xaxis=f"x{sfx}", yaxis=f"y{sfx}", showscale=False,
                      hovertemplate="(%{y}, %{x}) = %{z:.3f}<extra></extra>", **kw)


def _rect(x0: float, y0: float, x1: float, y1: float, n: int, **kw) -> dict:
    sfx = "" if n == 1 else str(n)
    return dict(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, xref=f"x{sfx}", yref=f"y{sfx}", **kw)


def plot_sliding(conv: C.Convolution, win: C.Window, labels: dict | None = None) -> go.Figure:
    """Left: the padded input (the window's first channel; padding shaded) with the window's k×k taps; right: the
    output map of channel `win.o` with the pixel they make.  labels: input, output, taps."""
    p = conv.padding
    xp = C.pad(conv.x, p)[win.channels[0]]                                # (H + 2p, W + 2p)
    y = conv.out[win.o]                                                   # (H_out, W_out)
    hp, wp = xp.shape
    layout = _panels([lab(labels, "input", "padded input"), lab(labels, "output", "output")],
                     [wp, max(y.shape[1], wp * 0.6)], gap=0.1)
    layout["yaxis2"]["showticklabels"] = True                            # the output has its own rows
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [-0.5, wp - 0.5], [hp - 0.5, -0.5]
    layout["xaxis2"]["range"], layout["yaxis2"]["range"] = [-0.5, y.shape[1] - 0.5], [y.shape[0] - 0.5, -0.5]
    for ax in ("yaxis", "yaxis2"):
        layout[ax].pop("autorange")
    shapes = []
    if p:                                                                  # the padding ring, shaded
        h, w = conv.x.shape[1:]
        for x0, y0, x1, y1 in ((-0.5, -0.5, wp - 0.5, p - 0.5), (-0.5, h + p - 0.5, wp - 0.5, hp - 0.5),
                               (-0.5, p - 0.5, p - 0.5, h + p - 0.5), (w + p - 0.5, p - 0.5, wp - 0.5, h + p - 0.5)):
            shapes.append(_rect(x0, y0, x1, y1, 1, fillcolor=PAD, line_width=0))
    r0, r1, c0, c1 = win.rows[0], win.rows[-1], win.cols[0], win.cols[-1]
    shapes.append(_rect(c0 - 0.5, r0 - 0.5, c1 + 0.5, r1 + 0.5, 1, line=dict(color=WINDOW, width=2)))
    shapes.append(_rect(win.j - 0.5, win.i - 0.5, win.j + 0.5, win.i + 0.5, 2, line=dict(color=WINDOW, width=3)))
    cc, rr = np.meshgrid(win.cols, win.rows)
    lim = _signed_limit(y)
    data = [_heat(xp, 1, colorscale="gray", zmin=0, zmax=1),
            go.Scatter(x=cc.ravel(), y=rr.ravel(), mode="markers", name=lab(labels, "taps", "taps"),
                       marker=dict(symbol="square-open", size=7, color=TAP, line=dict(width=2)),
                       customdata=np.round(win.weight[0].ravel(), 3), showlegend=False,
                       hovertemplate="(%{y}, %{x}) w = %{customdata}<extra></extra>"),
            _heat(y, 2, colorscale="RdBu", zmid=0, zmin=-lim, zmax=lim)]
    return go.Figure(data, dict(layout, shapes=shapes, height=380, margin=dict(l=10, r=10, t=40, b=10),
                                plot_bgcolor="white"))


def plot_outputs(conv: C.Convolution, labels: dict | None = None) -> go.Figure:
    """Every output channel's map (red > 0 > blue).  labels: channel ("output channel {o}")."""
    n = conv.out.shape[0]
    title = lab(labels, "channel", "channel {o}")
    lim = _signed_limit(conv.out)
    layout = _panels([title.format(o=o) for o in range(n)], [1] * n, gap=0.03)
    data = [_heat(conv.out[o], o + 1, colorscale="RdBu", zmid=0, zmin=-lim, zmax=lim) for o in range(n)]
    return go.Figure(data, dict(layout, height=300 if n > 1 else 360, margin=dict(l=10, r=10, t=40, b=10)))


def plot_im2col(conv: C.Convolution, column: int, labels: dict | None = None) -> go.Figure:
    """The unfolded matrix X_col of the first group, rows (c, u, v), columns (i, j), its size in the title, the
    column of the current window marked.  labels: title ("X_col: {rows} × {cols}"), rows, cols."""
    m = conv.x_col[0]                                                     # (C_in/g · k², L)
    rows, cols = m.shape
    # heat_traces draws y up: flip the matrix and number the rows from the top
    traces, images = heat_traces(m[::-1], np.arange(cols, dtype=float), np.arange(rows - 1, -1, -1, dtype=float),
                                 colorscale="gray", zmin=0, zmax=1,
                                 hovertemplate=lab(labels, "cols", "column") + ": %{x:.0f}<br>"
                                 + lab(labels, "rows", "row") + ": %{y:.0f}<br>%{z}<extra></extra>",
                                 colorbar=dict(thickness=10), decimals=2, hover_cells=(min(rows, 27), 64))
    title = lab(labels, "title", "X_col: {rows} × {cols}").format(rows=rows, cols=cols)
    layout = dict(images=images, title=title, height=320, margin=dict(l=10, r=10, t=40, b=10),
                  xaxis=dict(range=[-0.5, cols - 0.5], title=lab(labels, "cols", "column i·W_out + j"),
                             showgrid=False, zeroline=False),
                  yaxis=dict(range=[rows - 0.5, -0.5], title=lab(labels, "rows", "row c·k² + u·k + v"),
                             showgrid=False, zeroline=False, autorange=False),
                  shapes=[dict(type="rect", x0=column - 0.5, x1=column + 0.5, y0=-0.5, y1=rows - 0.5,
                               line=dict(color=WINDOW, width=2))])
    return go.Figure(traces, layout)


def plot_overlap(counts: np.ndarray, labels: dict | None = None) -> go.Figure:
    """Overlap counts of a transposed convolution (how many kernel copies add up on each output pixel), the counts
    written in the cells.  labels: title."""
    h, w = counts.shape
    heat = go.Heatmap(z=counts, text=counts, texttemplate="%{text}", colorscale="Viridis", showscale=False, zmin=0,
                      hovertemplate="(%{y}, %{x}): %{z}<extra></extra>")
    return go.Figure([heat], dict(
        title=lab(labels, "title", ""), height=420, margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(range=[-0.5, w - 0.5], showgrid=False, zeroline=False, constrain="domain"),
        yaxis=dict(range=[h - 0.5, -0.5], showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")))


def plot_receptive_field(rf: C.ReceptiveField, units: list[np.ndarray], labels: dict | None = None,
                         max_markers: int = 400) -> go.Figure:
    """One unit of the last layer and what feeds it, layer by layer (input at the bottom), in input pixels: a marker
    at each unit of layer l that reaches it (while there are few), and a bar over the r_l input pixels that the
    first of them sees.  labels: layer, input, pixels, touched ("{n} of the r = {r} input pixels …")."""
    data, notes = [], []
    n_layers = len(rf.r) - 1
    names = [lab(labels, "input", "input")] + [f"{lab(labels, 'layer', 'layer')} {l}" for l in range(1, n_layers + 1)]
    for l in range(n_layers + 1):
        # unit u of layer l sees input pixels J_l·u … J_l·u + r_l − 1
        first = rf.jump[l] * int(units[l][0])
        data.append(go.Scatter(x=[first - 0.45, first + rf.r[l] - 0.55], y=[l, l], mode="lines", showlegend=False,
                               line=dict(color="rgba(31, 119, 180, 0.3)", width=16), hoverinfo="skip"))
        centres = rf.jump[l] * units[l] + (rf.r[l] - 1) / 2
        if len(centres) <= max_markers:
            data.append(go.Scatter(x=centres, y=np.full(len(centres), l), mode="markers", showlegend=False,
                                   marker=dict(color="#1f77b4", size=7),
                                   hovertemplate=f"{names[l]}: %{{x}}<extra></extra>"))
    r_top = rf.r[-1]
    for l in range(n_layers + 1):                                        # r_l written right of the whole field
        notes.append(dict(x=r_top - 0.5, y=l, text=f"r<sub>{l}</sub> = {rf.r[l]}", showarrow=False,
                          xanchor="left", xshift=10))
    return go.Figure(data, dict(
        title=lab(labels, "touched", "{n} of {r}").format(n=len(units[0]), r=r_top), annotations=notes,
        yaxis=dict(tickvals=list(range(n_layers + 1)), ticktext=names, range=[-0.7, n_layers + 0.7]),
        xaxis=dict(title=lab(labels, "pixels", "input pixel"), range=[-1.5, r_top + max(5, r_top * 0.3)]),
        height=140 + 40 * n_layers, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white"))


def plot_pooling(x: np.ndarray, max_pooled: np.ndarray, avg_pooled: np.ndarray, labels: dict | None = None
                 ) -> go.Figure:
    """Input channel, max pooling, average pooling side by side (grey, 0…1).  labels: input, max, avg."""
    layout = _panels([lab(labels, "input", "input"), lab(labels, "max", "max pooling"),
                      lab(labels, "avg", "average pooling")], [1, 1, 1], gap=0.03)
    data = [_heat(z, n, colorscale="gray", zmin=0, zmax=1) for n, z in enumerate((x, max_pooled, avg_pooled), 1)]
    return go.Figure(data, dict(layout, height=280, margin=dict(l=10, r=10, t=40, b=10)))


def plot_costs(sep: C.SeparableCost, labels: dict | None = None) -> go.Figure:
    """Parameters and multiply–adds of the standard convolution, the depthwise and pointwise parts and their sum,
    on a log axis (the depthwise part is often 100× smaller).  labels: params, macs, standard, separable, depthwise,
    pointwise."""
    layout = _panels([lab(labels, "params", "parameters"), lab(labels, "macs", "multiply–adds")], [1, 1],
                     image=False, gap=0.12)
    names = [lab(labels, key, key) for key in ("standard", "depthwise", "pointwise", "separable")]
    colours = ["#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c"]
    data = []
    for n, field in enumerate(("params", "macs"), start=1):
        values = [getattr(sep.standard, field), getattr(sep.depthwise, field), getattr(sep.pointwise, field),
                  getattr(sep.depthwise, field) + getattr(sep.pointwise, field)]
        data.append(go.Bar(x=names, y=values, marker_color=colours, showlegend=False, text=[f"{v:,}" for v in values],
                           textposition="outside", cliponaxis=False, hovertemplate="%{x}: %{y:,}<extra></extra>",
                           xaxis="x" if n == 1 else "x2", yaxis="y" if n == 1 else "y2"))
    for ax in ("yaxis", "yaxis2"):
        layout[ax].update(type="log", showgrid=True, gridcolor="rgba(0,0,0,0.08)", dtick=1)
    return go.Figure(data, dict(layout, height=360, margin=dict(l=10, r=10, t=40, b=10),
                                uniformtext=dict(minsize=9, mode="hide")))
