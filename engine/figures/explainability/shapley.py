"""Figures of the SHAP chapter: Shapley values of a game, SHAP per superpixel, waterfall and beeswarm."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.figures.explainability.lime_explain import plot_segment_values


def _padded(lo: float, hi: float, pad: float = 0.22) -> list[float]:
    """An axis range around [lo, hi] (0 included) with room for text printed outside the bars' ends."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or 1.0
    return [lo - pad * span if lo < 0 else lo, hi + pad * span]


def plot_phi(phi: np.ndarray, names: list[str], title: str = "", ylabel: str = "φ<sub>i</sub>") -> go.Figure:
    fig = go.Figure(go.Bar(x=names, y=phi, text=[f"{p:.3g}" for p in phi], textposition="outside",
                           cliponaxis=False, marker_color=np.where(phi >= 0, "#d62728", "#1f77b4"),
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    # room on the left for the axis title, large enough to read (with no margin plotly shrank it)
    fig.update_layout(title=title, height=280, margin=dict(l=55, r=0, t=30 if title else 0, b=0),
                      yaxis_title=dict(text=ylabel, font=dict(size=20)),
                      yaxis_range=_padded(float(np.min(phi)), float(np.max(phi)), 0.15))
    return fig


def plot_waterfall(base: float, phi: np.ndarray, names: list[str], fx: float, top: int = 10, title: str = "",
                   base_label: str = "E[f(X)]", rest_label: str = "other features", fx_label: str = "f(x)"
                   ) -> go.Figure:
    """From φ_0 to f(x): the `top` largest |φ_i| as steps, the rest summed into one, then the total."""
    order = np.argsort(-np.abs(phi))
    shown, rest = order[:top], order[top:]
    labels = [base_label, *[names[i] for i in shown]]
    values = [base, *phi[shown]]
    measure = ["absolute", *["relative"] * len(shown)]
    if len(rest):
        labels.append(f"{rest_label} ({len(rest)})")
        values.append(float(phi[rest].sum()))
        measure.append("relative")
    labels.append(fx_label)
    values.append(fx)
    measure.append("total")
    # the waterfall accumulates in data order: keep φ0 first and f(x) last, and flip the axis to read top-down
    fig = go.Figure(go.Waterfall(orientation="h", y=labels, x=values, measure=measure,
                                 text=[f"{v:+.3f}" if m == "relative" else f"{v:.3f}"
                                       for v, m in zip(values, measure)],
                                 textposition="outside", cliponaxis=False,
                                 increasing=dict(marker_color="#d62728"), decreasing=dict(marker_color="#1f77b4"),
                                 totals=dict(marker_color="#7f7f7f")))
    fig.update_yaxes(type="category", autorange="reversed")
    # every bar's ends (the running total before and after each step), so the labels outside them have room
    level, ends = 0.0, [0.0]
    for v, m in zip(values, measure):
        level = v if m in ("absolute", "total") else level + v
        ends.append(level)
    fig.update_xaxes(range=_padded(min(ends), max(ends)))
    fig.update_layout(title=title, height=80 + 26 * len(labels), margin=dict(l=0, r=0, t=30 if title else 0, b=0))
    return fig


def plot_beeswarm(values: np.ndarray, X: np.ndarray, names: list[str], top: int = 10, title: str = "",
                  xlabel: str = "SHAP value φ<sub>i</sub>", clabel: str = "feature value", seed: int = 0,
                  ends: tuple[str, str] = ("low", "high")) -> go.Figure:
    """Each row a feature (largest mean |φ| on top), each dot one sample, coloured by the feature's value
    (rank-scaled per feature, low = blue, high = red); vertical jitter stands in for the swarm layout."""
    rng = np.random.default_rng(seed)
    order = np.argsort(-np.abs(values).mean(0))[:top]
    fig = go.Figure()
    for row, j in enumerate(order[::-1]):
        v, x = values[:, j], X[:, j]
        colour = np.argsort(np.argsort(x)) / max(1, len(x) - 1)
        fig.add_trace(go.Scatter(
            x=v, y=row + rng.uniform(-0.3, 0.3, len(v)), mode="markers", showlegend=False,
            marker=dict(size=5, color=colour, colorscale="RdBu_r", cmin=0, cmax=1,
                        colorbar=dict(title=clabel, tickvals=[0, 1], ticktext=list(ends)) if row == 0 else None,
                        showscale=row == 0),
            customdata=x, hovertemplate=names[j] + "=%{customdata:.3g}<br>φ=%{x:.3f}<extra></extra>"))
    fig.update_yaxes(tickvals=list(range(len(order))), ticktext=[names[j] for j in order[::-1]])
    fig.add_vline(x=0, line_color="#999")
    fig.update_layout(title=title, height=80 + 30 * len(order), margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel)
    return fig


def plot_side_by_side(a: np.ndarray, b: np.ndarray, labels: tuple[str, str], title: str = "",
                      xlabel: str = "superpixel") -> go.Figure:
    """Two attributions over the same superpixels (e.g. LIME weights and SHAP values), each scaled to max |·| = 1."""
    order = np.argsort(-np.abs(b))[:20]
    fig = go.Figure()
    for vals, name in ((a, labels[0]), (b, labels[1])):
        s = vals / (np.max(np.abs(vals)) or 1.0)
        fig.add_trace(go.Bar(x=[f"#{j}" for j in order], y=s[order], name=name,
                             hovertemplate=name + " %{x}: %{y:.3f}<extra></extra>"))
    fig.update_layout(title=title, height=300, barmode="group", margin=dict(l=0, r=0, t=30 if title else 0, b=0),
                      xaxis_title=xlabel, xaxis_type="category")                           # "#7" stays a name
    return fig


def plot_region_values(rgb: np.ndarray, segments: np.ndarray, values: np.ndarray, ids: np.ndarray,
                       rows: np.ndarray, cols: np.ndarray, title: str = "", label: str = "φ",
                       height: int = 470) -> go.Figure:
    """φ per superpixel over the image, each region numbered "#j" at (rows, cols) (engine.shapley.region_labels),
    the names the waterfall uses, so a step "#4" can be found on the picture. In a half-width column give a long
    title to the page instead (page text wraps; a plotly title is cut off)."""
    fig = plot_segment_values(rgb, segments, values, title, label=label, height=height, colorbar_below=True)
    fig.add_trace(go.Scatter(x=np.round(cols, 1), y=np.round(rows, 1), mode="markers+text",
                             text=[f"#{j}" for j in ids], textposition="middle center",
                             textfont=dict(size=10, color="#111"),
                             marker=dict(size=20, color="rgba(255,255,255,0.75)", line=dict(width=0)),
                             customdata=np.asarray(values)[ids].round(4),
                             hovertemplate="%{text}: " + label + "=%{customdata}<extra></extra>",
                             showlegend=False))
    return fig
