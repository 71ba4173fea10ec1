"""Plotly figures of the EfficientNet chapter: pure functions of engine results, no streamlit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.figures.common import decades

from engine.vision import efficientnet as eff

_BLUE, _ORANGE, _GREEN, _RED, _GREY = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#7f7f7f"


def plot_constraint(alpha: float, beta: float, gamma: float, labels: dict[str, str]) -> go.Figure:
    """Contour of α·β²·γ² over (β, γ) at the chosen α; the level 2 highlighted; the user's and the paper's point.

    labels: beta, gamma, value, you, paper.
    """
    b = np.linspace(1.0, 1.5, 61)
    g = np.linspace(1.0, 1.5, 61)
    # α·β²·γ² on the grid: (len(g), len(b))
    z = np.round(alpha * b[None, :] ** 2 * g[:, None] ** 2, 4)
    fig = go.Figure(go.Contour(x=b, y=g, z=z, colorscale="Viridis", contours=dict(start=1, end=6, size=0.25),
                               colorbar=dict(title=labels["value"], len=0.8),
                               hovertemplate="β=%{x:.2f}<br>γ=%{y:.2f}<br>α·β²·γ²=%{z:.2f}<extra></extra>"))
    fig.add_trace(go.Contour(x=b, y=g, z=z, showscale=False, contours=dict(start=2, end=2, size=1,
                             coloring="none", showlabels=True), line=dict(color="white", width=3),
                             hoverinfo="skip", name="= 2"))
    fig.add_trace(go.Scatter(x=[beta], y=[gamma], mode="markers+text", text=[labels["you"]],
                             textposition="top center", marker=dict(size=14, color=_RED, symbol="x"),
                             textfont=dict(color="white", size=14),
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
    return decades(fig)


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
                             marker=dict(size=[min(8 + x / 30, 30) for x in r], color=_GREEN, opacity=0.8),
                             hovertemplate="w=%{x}<br>d=%{y}<br>%{customdata} px<extra></extra>"))
    fig.add_trace(go.Scatter(x=[you[0]], y=[you[1]], mode="markers", name=labels["you"], customdata=[you[2]],
                             marker=dict(size=min(8 + you[2] / 30, 30), color=_RED, symbol="x"),   # capped: 3827 px made it huge
                             hovertemplate="w=%{x:.2f}<br>d=%{y:.2f}<br>%{customdata} px<extra></extra>"))
    fig.update_layout(xaxis_title=labels["width"], yaxis_title=labels["depth"], xaxis_type="log",
                      yaxis_type="log", height=400, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.12))
    return decades(fig)


def plot_single_dimension(fits: dict[str, eff.BudgetFit], labels: dict[str, str]) -> go.Figure:
    """Each way of spending one FLOPs budget, at its setting closest to the budget: counted parameters (left) and
    counted MACs as a deviation from the budget in % (right; 0 = the budget, dashed).

    fits: bar label -> engine.BudgetFit.  labels: params, macs (the right panel's title names the budget).
    """
    names = list(fits)
    params = [round(fits[n].params / 1e6, 2) for n in names]
    dev = [round(100 * fits[n].deviation, 2) for n in names]
    colors = [_ORANGE, _BLUE, _GREEN, _RED, "#9467bd"][: len(names)]
    lim = max(2.0, 1.35 * max(abs(v) for v in dev)) if dev else 2.0
    fig = go.Figure([
        go.Bar(x=names, y=params, marker_color=colors, text=[f"{v:.1f}" for v in params], textposition="outside",
               cliponaxis=False, showlegend=False, hovertemplate="%{x}: %{y:.2f} M<extra></extra>"),
        go.Bar(x=names, y=dev, marker_color=colors, text=[f"{v:+.2f} %" for v in dev], textposition="outside",
               cliponaxis=False, showlegend=False, xaxis="x2", yaxis="y2",
               customdata=[round(fits[n].macs / 1e9, 4) for n in names],
               hovertemplate="%{x}: %{customdata} G (%{y:+.2f} %)<extra></extra>")])
    fig.update_layout(
        xaxis=dict(domain=[0, 0.44]), xaxis2=dict(domain=[0.56, 1], anchor="y2"),
        yaxis=dict(range=[0, 1.2 * max(params)] if params else None),
        yaxis2=dict(anchor="x2", range=[-lim, lim], ticksuffix=" %", zeroline=False),
        annotations=[dict(text=labels["params"], x=0.22, y=1.02, xref="paper", yref="paper", showarrow=False,
                          yanchor="bottom"),
                     dict(text=labels["macs"], x=0.78, y=1.02, xref="paper", yref="paper", showarrow=False,
                          yanchor="bottom")],
        # the budget is the zero line of the right panel; it is named in the panel's title (no label near bars)
        shapes=[dict(type="line", xref="x2 domain", x0=0, x1=1, yref="y2", y0=0, y1=0,
                     line=dict(color=_GREY, dash="dash", width=2))],
        height=380, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def plot_mbconv(layers: tuple[eff.LayerInfo, ...], labels: dict[str, str]) -> go.Figure:
    """One MBConv drawn as its layers, left to right, each box with its output shape and parameter count;
    the skip connection as an arc when present.  labels: params, skip, input."""
    main = [layer for layer in layers if layer.name != "skip +"]
    has_skip = len(main) != len(layers)
    colors = {"expand": "#aec7e8", "depthwise": "#ffbb78", "SE": "#98df8a", "project": "#c5b0d5"}
    xs = np.arange(len(main) + 1) * 1.6
    boxes = [(labels["input"], main[0].in_shape, None)] + [(m.name, m.out_shape, m.params) for m in main]
    shapes, notes = [], []
    for x, (name, shape, params) in zip(xs, boxes):
        color = next((c for k, c in colors.items() if name.startswith(k)), "#dddddd")
        shapes.append(dict(type="rect", x0=x - 0.65, x1=x + 0.65, y0=-0.75, y1=0.75, fillcolor=color,
                           line=dict(color="#555")))
        # a box is ~70 px wide at 1280 px with nine of them: the name's last word and the count get lines of their own
        text = "<b>" + "<br>".join(name.rsplit(" ", 1)) + f"</b><br>{'×'.join(str(v) for v in shape)}"
        if params is not None:
            text += f"<br>{labels['params']}<br>{params:,}"
        notes.append(dict(x=x, y=0, text=text, showarrow=False, font=dict(size=11, color="#222")))
    for x0, x1 in zip(xs[:-1], xs[1:]):
        notes.append(dict(x=x1 - 0.66, y=0, ax=x0 + 0.66, ay=0, xref="x", yref="y", axref="x", ayref="y",
                          showarrow=True, arrowhead=2, text=""))
    if has_skip:
        shapes.append(dict(type="path", path=f"M {xs[0]},0.75 C {xs[0]},1.6 {xs[-1]},1.6 {xs[-1]},0.75",
                           line=dict(color=_RED, dash="dash")))
        notes.append(dict(x=(xs[0] + xs[-1]) / 2, y=1.4, text=labels["skip"], showarrow=False,
                          font=dict(color=_RED)))
    return go.Figure(layout=dict(
        shapes=shapes, annotations=notes, height=300 if has_skip else 220, margin=dict(l=5, r=5, t=5, b=5),
        plot_bgcolor="white", xaxis=dict(visible=False, range=[xs[0] - 0.8, xs[-1] + 0.8]),
        yaxis=dict(visible=False, range=[-0.95, 1.7 if has_skip else 0.95])))


def plot_se_weights(se: eff.SEResult, labels: dict[str, str]) -> go.Figure:
    """Per channel: the squeeze z_c = F_sq(U) and the excitation weight s_c used by F_scale.

    labels: channel, z, s.
    """
    c = np.arange(se.z.shape[0])
    fig = go.Figure([go.Bar(x=c, y=se.z, marker_color=_BLUE, showlegend=False, xaxis="x2", yaxis="y2"),
                     go.Bar(x=c, y=se.s, marker_color=_ORANGE, showlegend=False)])
    fig.update_layout(
        yaxis=dict(domain=[0, 0.44], range=[0, 1]), yaxis2=dict(domain=[0.56, 1], anchor="x2"),
        xaxis=dict(title=labels["channel"]), xaxis2=dict(anchor="y2", matches="x", showticklabels=False),
        annotations=[dict(text=labels["z"], x=0.5, y=1.0, xref="paper", yref="paper", showarrow=False,
                          yanchor="bottom"),
                     dict(text=labels["s"], x=0.5, y=0.45, xref="paper", yref="paper", showarrow=False,
                          yanchor="bottom")],
        height=420, margin=dict(l=10, r=10, t=40, b=10), bargap=0.1)
    return fig


def plot_se_maps(se: eff.SEResult, labels: dict[str, str], n: int = 3) -> go.Figure:
    """Feature maps U_c (top row) and s_c·U_c (bottom row) for the n channels SE weights most and the n it
    weights least, tiled into one heatmap with one colour scale, so the damping is visible.

    labels: before, after, channel.
    """
    order = np.argsort(se.s)
    chosen = list(order[::-1][:n]) + list(order[:n])
    step = -(-se.u.shape[1] // 40)                          # at most 40 px a side: keeps the figure small
    tiles = [[maps[ch, ::step, ::step] for ch in chosen] for maps in (se.u, se.x_tilde)]
    h, w = tiles[0][0].shape
    gap = max(1, w // 10)
    mosaic = np.full((2 * h + gap, len(chosen) * (w + gap) - gap), np.nan)
    for i, row in enumerate(tiles):
        for j, tile in enumerate(row):
            mosaic[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = tile
    lim = float(np.nanmax(np.abs(mosaic))) or 1.0
    notes = [dict(x=j * (w + gap) + w / 2, y=-1, text=f"{labels['channel']} {ch}: s={se.s[ch]:.2f}",
                  showarrow=False, yanchor="bottom", font=dict(size=11)) for j, ch in enumerate(chosen)]
    notes += [dict(x=-1, y=i * (h + gap) + h / 2, text=label, showarrow=False, xanchor="right", textangle=-90)
              for i, label in enumerate((labels["before"], labels["after"]))]
    fig = go.Figure(go.Heatmap(z=np.round(mosaic, 3), zmin=-lim, zmax=lim, colorscale="RdBu_r", hoverongaps=False,
                               hovertemplate="%{z:.3f}<extra></extra>"))
    fig.update_layout(annotations=notes, height=340, margin=dict(l=40, r=10, t=30, b=10),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
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
    return decades(fig)
