"""Plotly figures of the EfficientNet chapter: pure functions of engine results, no streamlit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine import efficientnet as eff

_BLUE, _ORANGE, _GREEN, _RED, _GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#7f7f7f"


def plot_constraint(alpha: float, beta: float, gamma: float, labels: dict[str, str]) -> go.Figure:
    """Contour of α·β²·γ² over (β, γ) at the chosen α; the level 2 highlighted; the user's and the paper's point.

    labels: beta, gamma, value, you, paper.
    """
    b = np.linspace(1.0, 1.5, 61)
    g = np.linspace(1.0, 1.5, 61)
    # α·β²·γ² on the grid: (len(g), len(b))
    z = alpha * b[None, :] ** 2 * g[:, None] ** 2
    fig = go.Figure(go.Contour(x=b, y=g, z=z, colorscale="Viridis", contours=dict(start=1, end=6, size=0.25),
                               colorbar=dict(title=labels["value"], len=0.8),
                               hovertemplate="β=%{x:.2f}<br>γ=%{y:.2f}<br>α·β²·γ²=%{z:.2f}<extra></extra>"))
    fig.add_trace(go.Contour(x=b, y=g, z=z, showscale=False, contours=dict(start=2, end=2, size=1,
                             coloring="none", showlabels=True), line=dict(color="white", width=3),
                             hoverinfo="skip", name="= 2"))
    fig.add_trace(go.Scatter(x=[beta], y=[gamma], mode="markers+text", text=[labels["you"]],
                             textposition="top center", marker=dict(size=14, color=_RED, symbol="x"),
                             name=labels["you"]))
    if abs(alpha - eff.PAPER_ALPHA) < 1e-9:
        fig.add_trace(go.Scatter(x=[eff.PAPER_BETA], y=[eff.PAPER_GAMMA], mode="markers", name=labels["paper"],
                                 marker=dict(size=11, color="white", line=dict(color="black", width=2))))
    fig.update_layout(xaxis_title=labels["beta"], yaxis_title=labels["gamma"], height=380,
                      margin=dict(l=10, r=10, t=30, b=10), showlegend=False)
    return fig


def plot_flops_growth(alpha: float, beta: float, gamma: float, phi: float, measured_ratio: float,
                      preset_ratios: dict[str, float], labels: dict[str, str]) -> go.Figure:
    """Predicted FLOPs growth (α·β²·γ²)^φ and 2^φ (log scale), the user's counted growth, and B1–B7 counted.

    preset_ratios: name -> counted MACs / B0 MACs; plotted at the nominal φ = N of "BN".
    labels: phi, ratio, predicted, two, you, presets.
    """
    p = np.linspace(0, 7, 71)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=p, y=2.0 ** p, name=labels["two"], line=dict(color=_GREY, dash="dash")))
    fig.add_trace(go.Scatter(x=p, y=eff.flops_factor(alpha, beta, gamma, p), name=labels["predicted"],
                             line=dict(color=_BLUE)))
    names = list(preset_ratios)
    fig.add_trace(go.Scatter(x=[int(n[1:]) for n in names], y=[preset_ratios[n] for n in names],
                             mode="markers+text", text=names, textposition="bottom right", name=labels["presets"],
                             marker=dict(color=_GREEN, size=9)))
    fig.add_trace(go.Scatter(x=[phi], y=[measured_ratio], mode="markers", name=labels["you"],
                             marker=dict(color=_RED, size=14, symbol="x")))
    fig.update_layout(xaxis_title=labels["phi"], yaxis_title=labels["ratio"], yaxis_type="log", height=380,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def plot_multipliers(you: tuple[float, float, int], labels: dict[str, str]) -> go.Figure:
    """Width vs depth multiplier (marker size = resolution): torchvision's B0–B7, the paper's α^φ, β^φ curve
    for φ = 0..7, and the user's point.  labels: width, depth, presets, paper, you."""
    names = list(eff.PRESETS)
    w = [eff.PRESETS[n][0] for n in names]
    d = [eff.PRESETS[n][1] for n in names]
    r = [eff.PRESETS[n][2] for n in names]
    phis = np.arange(8)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=eff.PAPER_BETA ** phis, y=eff.PAPER_ALPHA ** phis, mode="lines+markers+text",
                             text=[f"φ={k}" for k in phis], textposition="top left", name=labels["paper"],
                             line=dict(color=_GREY, dash="dot"), marker=dict(size=6, color=_GREY),
                             customdata=np.round(eff.BASE_RESOLUTION * eff.PAPER_GAMMA ** phis),
                             hovertemplate="w=%{x:.2f}<br>d=%{y:.2f}<br>r≈%{customdata} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=w, y=d, mode="markers+text", text=names, textposition="bottom right",
                             name=labels["presets"], customdata=r,
                             marker=dict(size=[8 + x / 30 for x in r], color=_GREEN, opacity=0.8),
                             hovertemplate="w=%{x}<br>d=%{y}<br>%{customdata} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=[you[0]], y=[you[1]], mode="markers", name=labels["you"], customdata=[you[2]],
                             marker=dict(size=8 + you[2] / 30, color=_RED, symbol="x"),
                             hovertemplate="w=%{x:.2f}<br>d=%{y:.2f}<br>%{customdata} px<extra></extra>"))
    fig.update_layout(xaxis_title=labels["width"], yaxis_title=labels["depth"], xaxis_type="log",
                      yaxis_type="log", height=400, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.12))
    return fig


def plot_single_dimension(rows: dict[str, tuple[int, int]], budget: float, base_macs: int,
                          labels: dict[str, str]) -> go.Figure:
    """Counted params and MACs of each way of spending the same FLOPs budget.

    rows: label -> (params, macs).  labels: params, macs, budget.
    """
    names = list(rows)
    params = [rows[n][0] / 1e6 for n in names]
    macs = [rows[n][1] / 1e9 for n in names]
    colors = [_ORANGE, _BLUE, _GREEN, _RED, "#9467bd"][: len(names)]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["params"], labels["macs"]))
    fig.add_trace(go.Bar(x=names, y=params, marker_color=colors, text=[f"{v:.1f}" for v in params],
                         textposition="outside", showlegend=False), 1, 1)
    fig.add_trace(go.Bar(x=names, y=macs, marker_color=colors, text=[f"{v:.2f}" for v in macs],
                         textposition="outside", showlegend=False), 1, 2)
    fig.add_hline(y=budget * base_macs / 1e9, line_dash="dash", line_color=_GREY, row=1, col=2,
                  annotation_text=labels["budget"], annotation_position="top left")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_mbconv(layers: tuple[eff.LayerInfo, ...], labels: dict[str, str]) -> go.Figure:
    """One MBConv drawn as its layers, left to right, each box with its output shape and parameter count;
    the skip connection as an arc when present.  labels: params, skip, input."""
    main = [layer for layer in layers if layer.name != "skip +"]
    has_skip = len(main) != len(layers)
    colors = {"expand": "#aec7e8", "depthwise": "#ffbb78", "SE": "#98df8a", "project": "#c5b0d5"}
    fig = go.Figure()
    n = len(main) + 1
    xs = np.arange(n) * 1.6
    shape_txt = lambda s: "×".join(str(v) for v in s)  # noqa: E731
    boxes = [(labels["input"], main[0].in_shape, None)] + [(m.name, m.out_shape, m.params) for m in main]
    for x, (name, shape, params) in zip(xs, boxes):
        color = next((c for k, c in colors.items() if name.startswith(k)), "#dddddd")
        fig.add_shape(type="rect", x0=x - 0.65, x1=x + 0.65, y0=-0.6, y1=0.6, fillcolor=color,
                      line=dict(color="#555"))
        text = f"<b>{name}</b><br>{shape_txt(shape)}"
        if params is not None:
            text += f"<br>{labels['params']}: {params:,}"
        fig.add_annotation(x=x, y=0, text=text, showarrow=False, font=dict(size=11))
    for x0, x1 in zip(xs[:-1], xs[1:]):
        fig.add_annotation(x=x1 - 0.66, y=0, ax=x0 + 0.66, ay=0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, text="")
    if has_skip:
        fig.add_shape(type="path", path=f"M {xs[0]},0.6 C {xs[0]},1.5 {xs[-1]},1.5 {xs[-1]},0.6",
                      line=dict(color=_RED, dash="dash"))
        fig.add_annotation(x=(xs[0] + xs[-1]) / 2, y=1.3, text=labels["skip"], showarrow=False,
                           font=dict(color=_RED))
    fig.update_xaxes(visible=False, range=[xs[0] - 0.8, xs[-1] + 0.8])
    fig.update_yaxes(visible=False, range=[-0.8, 1.6])
    fig.update_layout(height=260, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    return fig


def plot_se_weights(se: eff.SEResult, labels: dict[str, str]) -> go.Figure:
    """Per channel: the squeeze z_c = F_sq(U) and the excitation weight s_c used by F_scale.

    labels: channel, z, s.
    """
    c = np.arange(se.z.shape[0])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=(labels["z"], labels["s"]))
    fig.add_trace(go.Bar(x=c, y=se.z, marker_color=_BLUE, showlegend=False), 1, 1)
    fig.add_trace(go.Bar(x=c, y=se.s, marker_color=_ORANGE, showlegend=False), 2, 1)
    fig.update_yaxes(range=[0, 1], row=2, col=1)
    fig.update_xaxes(title_text=labels["channel"], row=2, col=1)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10), bargap=0.1)
    return fig


def plot_se_maps(se: eff.SEResult, labels: dict[str, str], n: int = 3) -> go.Figure:
    """Feature maps U_c and s_c·U_c for the n channels SE weights most and the n it weights least
    (one shared colour scale, so the damping is visible).  labels: before, after, channel."""
    order = np.argsort(se.s)
    chosen = list(order[::-1][:n]) + list(order[:n])
    titles = [f"{labels['channel']} {ch}: s={se.s[ch]:.2f}" for ch in chosen]
    fig = make_subplots(rows=2, cols=len(chosen), subplot_titles=titles, vertical_spacing=0.06,
                        horizontal_spacing=0.02, row_titles=[labels["before"], labels["after"]])
    lim = float(np.abs(se.u[chosen]).max()) or 1.0
    step = max(1, se.u.shape[1] // 56)          # keep the figure small
    for j, ch in enumerate(chosen):
        for i, maps in enumerate((se.u, se.x_tilde)):
            fig.add_trace(go.Heatmap(z=maps[ch, ::-step, ::step], zmin=-lim, zmax=lim, colorscale="RdBu_r",
                                     showscale=(i == 0 and j == 0), hovertemplate="%{z:.3f}<extra></extra>"),
                          i + 1, j + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor=None)
    fig.update_layout(height=360, margin=dict(l=10, r=40, t=40, b=10))
    fig.update_annotations(font_size=11)
    return fig


def plot_accuracy_vs_params(counted_params: dict[str, int], labels: dict[str, str]) -> go.Figure:
    """ImageNet top-1 vs parameters: the paper's Table 2 (EfficientNet B0–B7 line, other models, GPipe), with
    the parameters counted here for B0–B7 as open circles at the paper's accuracy.

    labels: params, acc, effnet, others, counted.
    """
    eff_rows = [r for r in eff.PAPER_TABLE if r[0].startswith("EfficientNet")]
    others = [r for r in eff.PAPER_TABLE if not r[0].startswith("EfficientNet")]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[r[2] for r in eff_rows], y=[r[1] for r in eff_rows], mode="lines+markers+text",
                             text=[r[0].split("-")[1] for r in eff_rows], textposition="top left",
                             name=labels["effnet"], line=dict(color=_RED), marker=dict(size=8)))
    fig.add_trace(go.Scatter(x=[r[2] for r in others], y=[r[1] for r in others], mode="markers+text",
                             text=[r[0] for r in others], textposition="bottom center", name=labels["others"],
                             marker=dict(size=8, color=_BLUE), textfont=dict(size=10)))
    acc = {r[0].split("-")[1]: r[1] for r in eff_rows}
    names = [n for n in counted_params if n in acc]
    fig.add_trace(go.Scatter(x=[counted_params[n] / 1e6 for n in names], y=[acc[n] for n in names],
                             mode="markers", name=labels["counted"],
                             marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(color="black", width=1.5))))
    fig.update_layout(xaxis_title=labels["params"], yaxis_title=labels["acc"], xaxis_type="log", height=420,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.1))
    return fig
