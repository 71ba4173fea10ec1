"""Figures of the CTC chapter: frame posteriors, the trellis (α, β, occupancy) with its edges and paths, the
gradient, and the speech view (waveform + forced alignment, spectrogram, posteriorgram). Heatmaps only, strided
in time when large, so a figure stays well under 2 MB."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.speech.ctc import CTCLattice, skip_allowed
from engine.figures.common import MAGMA

MAX_CELLS = 40_000          # heatmap cells per figure before the time axis is strided
MAX_EDGE_CELLS = 700        # draw the allowed transitions only on small trellises
MAX_CLICK_CELLS = 20_000    # clickable cells up to this many
PATH_COLORS = ("#ffffff", "#ff4b4b", "#00c0f2", "#ffd16a")
# Magma as rgb() stops: Streamlit's plotly.js draws the named scale's first stop "#000004" as a light colour


def _stride(T: int, rows: int, max_cells: int = MAX_CELLS) -> int:
    return max(1, int(np.ceil(T * rows / max_cells)))


def _z(a: np.ndarray) -> np.ndarray:
    """float32 with -inf as NaN (a gap in the heatmap) so the JSON stays compact and valid."""
    a = np.asarray(a, dtype=np.float32)
    return np.where(np.isfinite(a), a, np.nan).astype(np.float32)


def plot_probs(log_probs: np.ndarray, tokens: Sequence[str], title: str = "") -> go.Figure:
    """Heatmap of y_t^k: labels (rows) × frames (columns), with the value printed on small matrices."""
    y = np.exp(np.asarray(log_probs, dtype=np.float64)).T  # (C, T)
    C, T = y.shape
    k = _stride(T, C)
    cols = np.arange(0, T, k)
    small = C * T <= 200
    heat = go.Heatmap(
        z=_z(y[:, cols]), x=cols + 1, y=np.arange(C), colorscale="Viridis", zmin=0, zmax=1,
        text=np.round(y[:, cols], 2) if small else None, texttemplate="%{text}" if small else None,
        hovertemplate="t=%{x}, k=%{customdata}: y=%{z:.3f}<extra></extra>",
        customdata=np.repeat(np.asarray(tokens, dtype=object)[:, None], len(cols), axis=1),
        colorbar=dict(title=dict(text="y")),
    )
    layout = dict(title=dict(text=title), height=max(220, 28 * C + 120), margin=dict(l=10, r=10, t=40, b=10),
                  yaxis=dict(tickvals=np.arange(C), ticktext=list(tokens), autorange="reversed", title=dict(text="k")),
                  xaxis=dict(title=dict(text="t")))
    return go.Figure(data=[heat], layout=layout)


def trellis_edges(ext: np.ndarray, T: int, blank: int) -> tuple[np.ndarray, np.ndarray]:
    """Polyline coordinates (frame, state) of every allowed transition, NaN-separated (one trace)."""
    S = len(ext)
    skip = skip_allowed(ext, blank)
    s = np.arange(S)
    src = np.concatenate([s, s[1:] - 1, s[skip] - 2])  # predecessor state of each allowed edge
    dst = np.concatenate([s, s[1:], s[skip]])
    t = np.arange(1, T)
    x = np.stack(np.broadcast_arrays(t[:, None], t[:, None] + 1, np.nan * t[:, None]), -1)  # (T-1, 1, 3)
    x = np.broadcast_to(x, (T - 1, len(src), 3))
    y = np.broadcast_to(np.stack([src, dst, np.full(len(src), np.nan)], -1)[None], (T - 1, len(src), 3))
    return x.reshape(-1).astype(np.float32), y.reshape(-1).astype(np.float32)


def plot_trellis(lat: CTCLattice, tokens: Sequence[str], quantity: str, blank: int,
                 paths: Mapping[str, np.ndarray] | None = None, title: str = "") -> go.Figure:
    """Heatmap of log α, log β or the occupancy γ over (state s of l′) × (frame t); allowed transitions as
    thin lines on small trellises; each path in `paths` (name → states (T,)) as a line with markers."""
    T, S = lat.log_alpha.shape
    z = {"alpha": lat.log_alpha, "beta": lat.log_beta, "occupancy": lat.occupancy}[quantity].T  # (S, T)
    k = _stride(T, S)
    cols = np.arange(0, T, k)
    names = [tokens[i] for i in lat.ext]
    is_occ = quantity == "occupancy"
    bar = "γ" if is_occ else f"log {'α' if quantity == 'alpha' else 'β'}"
    data = [go.Heatmap(
        z=_z(z[:, cols]), x=cols + 1, y=np.arange(S), colorscale=MAGMA if is_occ else "Viridis",
        zmin=0 if is_occ else None, zmax=1 if is_occ else None,
        hovertemplate="t=%{x}, s=%{y}: %{z:.3f}<extra></extra>", colorbar=dict(title=dict(text=bar)),
    )]
    if T * S <= MAX_EDGE_CELLS:
        xs, ys = trellis_edges(lat.ext, T, blank)
        data.append(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="rgba(255,255,255,0.45)", width=1),
                               hoverinfo="skip", showlegend=False))
    if T * S <= MAX_CLICK_CELLS:  # invisible markers on every cell, so a click selects (t, s)
        tt, ss = np.meshgrid(np.arange(1, T + 1), np.arange(S))
        data.append(go.Scatter(x=tt.ravel().astype(np.float32), y=ss.ravel().astype(np.float32), mode="markers",
                               marker=dict(size=14, opacity=0), hoverinfo="none", showlegend=False))
    for i, (name, states) in enumerate((paths or {}).items()):
        data.append(go.Scatter(x=np.arange(1, T + 1), y=np.asarray(states), name=name,
                               mode="lines+markers" if T <= 60 else "lines",
                               line=dict(color=PATH_COLORS[i % len(PATH_COLORS)], width=5 if i == 0 else 2,
                                         dash="solid" if i == 0 else "dash"),
                               marker=dict(size=9 if i == 0 else 5)))
    tick = max(1, int(np.ceil(S / 40)))
    layout = dict(title=dict(text=title), height=min(700, max(260, 22 * S + 140)),
                  margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2),
                  yaxis=dict(tickvals=np.arange(0, S, tick), ticktext=names[::tick], autorange="reversed",
                             title=dict(text="l′")),
                  xaxis=dict(title=dict(text="t")))
    return go.Figure(data=data, layout=layout)


def plot_gradient(grad: np.ndarray, tokens: Sequence[str], rows: Sequence[int] | None = None,
                  title: str = "") -> go.Figure:
    """Diverging heatmap of ∂(−log P)/∂u_t^k = y_t^k − γ_t(k) over (label) × (frame)."""
    rows = np.arange(grad.shape[1]) if rows is None else np.asarray(rows)
    g = np.asarray(grad)[:, rows].T  # (K, T)
    K, T = g.shape
    k = _stride(T, K)
    cols = np.arange(0, T, k)
    m = float(np.abs(g).max()) or 1.0
    heat = go.Heatmap(z=_z(g[:, cols]), x=cols + 1, y=np.arange(K), colorscale="RdBu_r", zmin=-m, zmax=m,
                      hovertemplate="t=%{x}: %{z:.3f}<extra></extra>", colorbar=dict(title=dict(text="∂L/∂u")))
    layout = dict(title=dict(text=title), height=max(220, 22 * K + 120), margin=dict(l=10, r=10, t=40, b=10),
                  yaxis=dict(tickvals=np.arange(K), ticktext=[tokens[r] for r in rows], autorange="reversed",
                             title=dict(text="k")),
                  xaxis=dict(title=dict(text="t")))
    return go.Figure(data=[heat], layout=layout)


def segments(states: np.ndarray, ext: np.ndarray, blank: int) -> list[tuple[int, int, int]]:
    """Runs of the same non-blank state in a state path: (label, first frame, last frame + 1)."""
    out: list[tuple[int, int, int]] = []
    T = len(states)
    start = 0
    for t in range(1, T + 1):
        if t == T or states[t] != states[start]:
            if ext[states[start]] != blank:
                out.append((int(ext[states[start]]), start, t))
            start = t
    return out


def plot_speech(y: np.ndarray, sr: int, spec: np.ndarray, log_probs: np.ndarray, tokens: Sequence[str],
                rows: Sequence[int], frame_s: float, segs: Sequence[tuple[int, int, int]] = (),
                occupancy: np.ndarray | None = None, titles: Sequence[str] = ("", "", "")) -> go.Figure:
    """Three panels on one time axis (s): the waveform with the forced alignment's phoneme spans (and the
    occupancy of each phoneme as a curve), the log spectrogram (bands × frames), the posteriorgram of the
    labels `rows` (labels × frames)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.3, 0.3, 0.4],
                        subplot_titles=list(titles))
    # waveform as a min/max envelope over ≤ 1500 columns
    n_cols = min(1500, len(y))
    edges = np.linspace(0, len(y), n_cols + 1).astype(int)
    lo = np.minimum.reduceat(y, edges[:-1])
    hi = np.maximum.reduceat(y, edges[:-1])
    tx = edges[:-1] / sr
    fig.add_trace(go.Scatter(x=np.concatenate([tx, tx[::-1]]), y=np.concatenate([hi, lo[::-1]]).astype(np.float32),
                             fill="toself", mode="lines", line=dict(width=0.5, color="#888"), hoverinfo="skip",
                             showlegend=False), row=1, col=1)
    peak = float(np.abs(y).max()) or 1.0
    # phoneme spans as filled rectangles, three alternating colours, one trace each (not one shape per span)
    for c in range(3):
        xs: list = []
        ys: list = []
        for _, a, b in list(segs)[c::3]:
            xs += [a * frame_s, b * frame_s, b * frame_s, a * frame_s, a * frame_s, None]
            ys += [-peak, -peak, peak, peak, -peak, None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="none", fillcolor=PATH_COLORS[1 + c],
                                     opacity=0.2, hoverinfo="skip", showlegend=False), row=1, col=1)
    if segs:
        fig.add_trace(go.Scatter(x=[(a + b) / 2 * frame_s for _, a, b in segs], y=[peak * 1.05] * len(segs),
                                 text=[tokens[k] for k, _, _ in segs], mode="text", showlegend=False,
                                 hoverinfo="skip"), row=1, col=1)
    if occupancy is not None:
        fig.add_trace(go.Scatter(x=(np.arange(len(occupancy)) + 0.5) * frame_s,
                                 y=(peak * occupancy).astype(np.float32), mode="lines",
                                 line=dict(color="#ff4b4b", width=1.5), name="γ", showlegend=False), row=1, col=1)
    spec = spec[:, :len(log_probs)]  # same frames as the posteriors
    F, Ts = spec.shape
    top = float(spec.max())
    spec = np.clip(spec, top - 80, top)  # an 80 dB range; digital silence would otherwise stretch the scale
    fig.add_trace(go.Heatmap(z=_z(spec), x=(np.arange(Ts) + 0.5) * frame_s, y=np.linspace(0, sr / 2000, F),
                             colorscale=MAGMA, showscale=False, zmin=top - 80, zmax=top,
                             hovertemplate="%{x:.2f}s %{y:.1f}kHz<extra></extra>"), row=2, col=1)
    rows = np.asarray(rows)
    post = np.exp(np.asarray(log_probs)[:, rows]).T  # (K, T)
    fig.add_trace(go.Heatmap(z=_z(post), x=(np.arange(post.shape[1]) + 0.5) * frame_s, y=np.arange(len(rows)),
                             colorscale="Viridis", zmin=0, zmax=1, showscale=False,
                             customdata=np.repeat(np.asarray([tokens[r] for r in rows], dtype=object)[:, None],
                                                  post.shape[1], axis=1),
                             hovertemplate="%{x:.2f}s %{customdata}: %{z:.2f}<extra></extra>"), row=3, col=1)
    fig.update_yaxes(tickvals=np.arange(len(rows)), ticktext=[tokens[r] for r in rows], autorange="reversed",
                     row=3, col=1)
    fig.update_yaxes(title="kHz", row=2, col=1)
    fig.update_xaxes(title="s", row=3, col=1)
    fig.update_layout(height=420 + 14 * len(rows), margin=dict(l=10, r=10, t=40, b=10))
    return fig
