"""Helpers shared by every chapter's figure builders: labels, image encoding, image axes, boxes, colour scales.

Named scales whose first stop is near-black hex (Magma, Inferno: "#000004") were drawn pink by the plotly.js
that Streamlit ships; the same scales given as explicit rgb() stops render correctly.
"""
from __future__ import annotations

import base64
import io
import threading

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, sequential

TRUTH, PRED = "#2ca02c", "#ff7f0e"      # ground-truth and predicted boxes, in every detection figure


def lab(labels: dict | None, key: str, default: str) -> str:
    """`labels[key]` (the reader's language, from `ui.labels`), or `default` when a builder is called without."""
    return (labels or {}).get(key, default)


def sci_tex(v: float, digits: int = 3) -> str:
    r"""A number for LaTeX in scientific notation: 0.00282 → "2.82\times10^{-3}" (never "2.82e-03", which reads
    as a subtraction inside a formula)."""
    if v == 0 or not np.isfinite(v):
        return f"{v:g}"
    e = int(np.floor(np.log10(abs(v))))
    if -2 <= e <= 3:
        return f"{v:.{digits}g}"
    return rf"{v / 10**e:.{digits - 1}f}\times10^{{{e}}}"


def decades(fig: go.Figure) -> go.Figure:
    """Readable log axes: labels at the powers of ten only (1, 10, 100, …) with unlabelled grid lines between, when
    the data span two decades or more; at 1, 2, 5, 10, 20, … when they span less (a single decade label would leave
    the axis bare). plotly's default labels every digit in between ("3 4 5 … 100 2 3"), which reads as a mess."""
    for name in list(fig.layout.to_plotly_json()):
        axis = getattr(fig.layout, name, None)
        if not ((name.startswith("xaxis") or name.startswith("yaxis")) and getattr(axis, "type", None) == "log"):
            continue
        letter = name[0]
        values = []
        for tr in fig.data:
            data = getattr(tr, letter, None)
            if data is not None:
                arr = np.asarray([v for v in np.ravel(np.asarray(data, dtype=object)) if isinstance(v, (int, float))
                                  and not isinstance(v, bool)], dtype=float)
                values.append(arr[np.isfinite(arr) & (arr > 0)])
        vals = np.concatenate(values) if values else np.zeros(0)
        span = float(np.log10(vals.max() / vals.min())) if len(vals) else 3.0
        axis.update(dtick=1 if span >= 2 else "D2", minor=dict(showgrid=True, gridcolor="rgba(0,0,0,0.05)"))
    return fig


def si(value: float, digits: int = 3) -> str:
    """A count with an SI prefix and `digits` significant digits: 535012153000 → "535 G", 5.35e14 → "535 T"
    (metric boxes are narrow: never "535012.153 G")."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}"
    return f"{value:.{digits}g}"


def signed(v: float, spec: str = ".4f") -> str:
    """A term added to a sum, written as a reader would: "+ 1.2345" or "− 5.2188" (never "+ -5.2188")."""
    return f"{'−' if v < 0 else '+'} {abs(v):{spec}}"


def curve_traces(curves: dict[str, tuple[np.ndarray, np.ndarray]], labels: dict | None = None,
                 max_points: int = 200) -> list[go.Scatter]:
    """One line per model from {name: (steps, values)}: NaNs dropped, at most `max_points` evenly picked points,
    values rounded to what a line can show; names translated through `labels`."""
    traces = []
    for name, (x, y) in curves.items():
        x, y = np.asarray(x), np.asarray(y, dtype=float)
        ok = np.isfinite(y)
        x, y = x[ok], y[ok]
        if len(x) > max_points:
            keep = np.linspace(0, len(x) - 1, max_points).astype(int)
            x, y = x[keep], y[keep]
        traces.append(go.Scatter(x=x, y=np.round(y, 4), mode="lines", name=lab(labels, name, name)))
    return traces


def rgb_scale(name: str) -> list[list]:
    """plotly's sequential scale `name` as [[position, "rgb(r, g, b)"], ...]."""
    stops = getattr(sequential, name)
    return [[i / (len(stops) - 1), "rgb({}, {}, {})".format(*hex_to_rgb(c))] for i, c in enumerate(stops)]


MAGMA = rgb_scale("Magma")
INFERNO = rgb_scale("Inferno")


def png_uri(rgb: np.ndarray) -> str:
    """(H, W, 3) or (H, W) uint8 → a PNG data URI (far smaller in the figure JSON than the raw pixel array)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def jpeg_uri(img: np.ndarray, quality: int = 80) -> str:
    """(H, W, 3) uint8 → a JPEG data URI (photos: smaller than PNG)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, dtype=np.uint8)).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def colour_lut(colorscale: str | list) -> np.ndarray:
    """(256, 3) uint8 colours of a plotly colour scale (a name or [[pos, colour], ...]) from its low to its high end."""
    from plotly.colors import get_colorscale, sample_colorscale, unlabel_rgb

    scale = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    return np.array([unlabel_rgb(c) for c in sample_colorscale(scale, list(np.linspace(0, 1, 256)))],
                    dtype=float).round().clip(0, 255).astype(np.uint8)


def heat_traces(z: np.ndarray, x: np.ndarray, y: np.ndarray, *, colorscale: str | list, zmin: float, zmax: float,
                hovertemplate: str, colorbar: dict | None = None, customdata: np.ndarray | None = None,
                hover_cells: tuple[int, int] = (24, 64), quality: int = 85, decimals: int = 1,
                max_pixels: tuple[int, int] = (200, 640)) -> tuple[list, list[dict]]:
    """A heatmap drawn as what the screen shows: the colours as one JPEG laid on the axes (a layout image, stretched
    to the cells' extent — an image *trace* would force square pixels), plus a coarse invisible `go.Heatmap` (at most
    `hover_cells` cells, block means rounded to `decimals`) that carries the hover values and the colour bar. A
    257 × 400 spectrogram goes from ~0.5 MB of per-cell JSON to ~40 kB. `x`, `y`: evenly spaced cell centres
    (len = z.shape[1], z.shape[0]). Returns (traces, layout images); frame the axes with `heat_ranges`."""
    z = np.asarray(z, dtype=np.float64)                                        # (H, W)
    lut = colour_lut(colorscale)
    span = (zmax - zmin) or 1.0
    dx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    dy = float(y[1] - y[0]) if len(y) > 1 else 1.0
    # more cells than the plot has pixels: block means, an integer number of cells per pixel
    py, px = (max(1, int(np.ceil(n / m))) for n, m in zip(z.shape, max_pixels))
    shown = z[:z.shape[0] // py * py, :z.shape[1] // px * px]
    shown = shown.reshape(shown.shape[0] // py, py, shown.shape[1] // px, px).mean(axis=(1, 3))
    idx = np.nan_to_num((shown - zmin) / span * 255, nan=0.0).clip(0, 255).astype(np.uint8)
    rgb = lut[idx[::-1]]                                        # (H/py, W/px, 3), top row = highest y
    image = dict(source=jpeg_uri(rgb, quality), xref="x", yref="y", x=float(x[0]) - dx / 2,
                 y=float(y[0]) - dy / 2 + dy * shown.shape[0] * py, sizex=dx * shown.shape[1] * px,
                 sizey=dy * shown.shape[0] * py, sizing="stretch", layer="below", xanchor="left", yanchor="top")
    fy, fx = (max(1, int(np.ceil(n / m))) for n, m in zip(z.shape, hover_cells))   # block sizes (≤ the sides)
    h2, w2 = z.shape[0] // fy * fy, z.shape[1] // fx * fx

    def blocks(a: np.ndarray) -> np.ndarray:
        return a[:h2, :w2].reshape(h2 // fy, fy, w2 // fx, fx).mean(axis=(1, 3))

    coarse = blocks(z).round(decimals)
    cx = np.asarray(x, float)[:w2].reshape(-1, fx).mean(1)
    cy = np.asarray(y, float)[:h2].reshape(-1, fy).mean(1)
    extra = {} if customdata is None else dict(customdata=blocks(np.asarray(customdata, float)).round(0))
    hover = go.Heatmap(z=coarse, x=cx.round(4), y=cy.round(3), colorscale=colorscale, zmin=zmin, zmax=zmax,
                       opacity=0.0, hovertemplate=hovertemplate, colorbar=colorbar or {}, **extra)
    return [hover], [image]


def heat_ranges(x: np.ndarray, y: np.ndarray) -> dict:
    """Axis ranges that frame `heat_traces`' cells exactly, y up (an image alone would flip the y axis)."""
    dx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    dy = float(y[1] - y[0]) if len(y) > 1 else 1.0
    return dict(xaxis=dict(range=[float(x[0]) - dx / 2, float(x[-1]) + dx / 2], showgrid=False),
                yaxis=dict(range=[float(y[0]) - dy / 2, float(y[-1]) + dy / 2], autorange=False, showgrid=False))


def shrink(m: np.ndarray, size: int = 112) -> np.ndarray:
    """Block-average a (H, W) map to at most size×size for display."""
    h, w = m.shape
    f = max(1, int(np.ceil(max(h, w) / size)))
    h2, w2 = h // f * f, w // f * f
    return m[:h2, :w2].reshape(h2 // f, f, w2 // f, f).mean(axis=(1, 3)).astype(np.float32)


def square_axes(fig: go.Figure, h: int, w: int, row=None, col=None) -> None:
    """Hide the axes of an (h, w) image and keep its pixels square, y down."""
    fig.update_xaxes(visible=False, range=[-0.5, w - 0.5], row=row, col=col)
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], scaleanchor="x" if row is None else None,
                     row=row, col=col)


def image_figure(img: np.ndarray, height: int = 360, opacity: float = 1.0) -> go.Figure:
    """A figure showing `img` (H, W, 3) uint8 in pixel coordinates: x right, y down, pixel (i, j) on [j, j+1)."""
    h, w = img.shape[:2]
    fig = go.Figure(go.Image(source=jpeg_uri(img), x0=0.5, y0=0.5, dx=1, dy=1, opacity=opacity, hoverinfo="skip"))
    fig.update_xaxes(range=[0, w], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[h, 0], showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.12, yanchor="top"),   # below the x ticks, not over them
                      plot_bgcolor="white")
    return fig


def add_box(fig: go.Figure, box, colour: str, name: str | None = None, width: float = 2, dash: str = "solid",
            fill: str | None = None, row=None, col=None) -> None:
    """Draw a rectangle (x1, y1, x2, y2): a layout shape, or with `name` a line trace (legend entry and hover)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    kw = dict(row=row, col=col) if row is not None else {}
    if name:
        fig.add_trace(go.Scatter(x=[x1, x2, x2, x1, x1], y=[y1, y1, y2, y2, y1], mode="lines", name=name,
                                 line=dict(color=colour, width=width, dash=dash), hoverinfo="name",
                                 fill="toself" if fill else None, fillcolor=fill), **kw)
        return
    fig.add_shape(type="rect", x0=x1, y0=y1, x1=x2, y1=y2, line=dict(color=colour, width=width, dash=dash),
                  fillcolor=fill or "rgba(0,0,0,0)", layer="above", **kw)


# ---------------------------------------------------------------------------------------------- subplot grids
_SUBPLOTS: dict[str, tuple[dict, object, str]] = {}
_SUBPLOTS_MAX = 512                     # grids kept (argument sets: a figure's shape and its titles per language)
_SUBPLOTS_LOCK = threading.Lock()


def make_subplots(*args, **kwargs) -> go.Figure:
    """`plotly.subplots.make_subplots`, same arguments and result, with the grid's layout computed once per argument
    set: plotly builds it by validating every axis and title one by one (~8 ms a figure, about a third of a warm
    page run's figure time); a new figure from the finished layout takes ~1.6 ms. The figure returned is new every
    time (change it freely); `add_trace(row=, col=)`, `update_xaxes(row=, col=)` and `print_grid` work through the
    same grid reference plotly attaches. plotly's default template is left for the new figure to apply."""
    import copy
    import inspect
    import json

    from plotly import subplots as plotly_subplots

    bound = inspect.signature(plotly_subplots.make_subplots).bind(*args, **kwargs)
    if bound.arguments.get("figure") is not None:            # drawing into a given figure: plotly's own way
        return plotly_subplots.make_subplots(*args, **kwargs)
    try:
        key = json.dumps(bound.arguments, sort_keys=True)
    except TypeError:                                         # something JSON cannot say (a go object): no cache
        return plotly_subplots.make_subplots(*args, **kwargs)
    hit = _SUBPLOTS.get(key)
    if hit is None:
        fig = plotly_subplots.make_subplots(*args, **kwargs)
        layout = fig.layout.to_plotly_json()
        if layout.get("template") == go.Figure().layout.to_plotly_json().get("template"):
            del layout["template"]
        hit = (layout, fig._grid_ref, fig._grid_str)
        with _SUBPLOTS_LOCK:                                  # sessions draw at once: evict and insert together
            if len(_SUBPLOTS) >= _SUBPLOTS_MAX:
                _SUBPLOTS.pop(next(iter(_SUBPLOTS)))
            _SUBPLOTS[key] = hit
    layout, grid_ref, grid_str = hit
    fig = go.Figure(layout=copy.deepcopy(layout))
    fig.__dict__["_grid_ref"] = grid_ref                     # read-only lists of plotly's SubplotRef tuples
    fig.__dict__["_grid_str"] = grid_str
    return fig
