"""Figures of the roi chapter: RoIPool bins vs RoIAlign sampling points, their outputs, the shift sweep,
and Mask R-CNN's heads as a graph (DOT text for st.graphviz_chart)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.detection import roi as R
from engine.figures.common import add_box, image_figure

EXACT, ROUNDED, BIN, POINT = "#ff00ff", "#ff7f0e", "rgba(255,255,255,0.9)", "#00e5ff"


def _heat(f: np.ndarray, showscale: bool) -> go.Heatmap:
    h, w = f.shape
    return go.Heatmap(z=f, x=np.arange(w) + 0.5, y=np.arange(h) + 0.5, colorscale="Viridis", showscale=showscale,
                      hovertemplate="cell (%{y:.1f}, %{x:.1f}): %{z:.3f}<extra></extra>",
                      colorbar=dict(len=0.8, thickness=12))


def _rect(fig, box, colour, width, dash, col):
    x1, y1, x2, y2 = (float(v) for v in box)
    fig.add_shape(type="rect", x0=x1, y0=y1, x1=x2, y1=y2, line=dict(color=colour, width=width, dash=dash),
                  row=1, col=col)


def plot_roi_on_image(img: np.ndarray, box, stride: int, labels: dict[str, str]) -> go.Figure:
    """The picture with the RoI in image pixels and the feature map's cell grid (one cell = stride × stride px)
    drawn over it, so the object, its box and the cells it covers are seen together."""
    h, w = img.shape[:2]
    fig = image_figure(img, height=380)
    xs, ys = np.arange(0, w + 1, stride), np.arange(0, h + 1, stride)
    gx = [v for x in xs for v in (float(x), float(x), None)]
    gy = [v for _ in xs for v in (0.0, float(h), None)]
    hx = [v for _ in ys for v in (0.0, float(w), None)]
    hy = [v for y in ys for v in (float(y), float(y), None)]
    fig.add_trace(go.Scatter(x=gx + hx, y=gy + hy, mode="lines", line=dict(color="rgba(255,255,255,0.35)", width=1),
                             hoverinfo="skip", name=labels["cells"]))
    add_box(fig, box, EXACT, name=labels["roi"], width=3)
    fig.update_layout(title=dict(text=labels["image_title"], font=dict(size=13)))
    return fig


def plot_feature_map(f: np.ndarray, roi_cells, labels: dict[str, str]) -> go.Figure:
    """The whole feature map (H/stride, W/stride) with the same RoI divided by the stride: its cells."""
    h, w = f.shape
    fig = go.Figure(_heat(f, False))
    fig.add_shape(type="rect", x0=roi_cells[0], y0=roi_cells[1], x1=roi_cells[2], y1=roi_cells[3],
                  line=dict(color=EXACT, width=3))
    fig.update_xaxes(range=[0, w], showgrid=False, title_text=labels["x_cells"], constrain="domain")
    fig.update_yaxes(range=[h, 0], showgrid=False, scaleanchor="x", title_text=labels["y_cells"], constrain="domain")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10),
                      title=dict(text=labels["feature_title"], font=dict(size=13)))
    return fig


def plot_roi_grids(f: np.ndarray, pool: R.RoIPoolResult, align: R.RoIAlignResult, roi_cells,
                   labels: dict[str, str], margin: float = 2.0) -> go.Figure:
    """Left: RoIPool — the RoI rounded to whole cells and its floor/ceil bins. Right: RoIAlign — the exact RoI,
    its bins and the bilinear sampling points. Both over the same feature map (H, W), zoomed on the RoI."""
    fig = make_subplots(1, 2, subplot_titles=(labels["pool_title"], labels["align_title"]), shared_yaxes=True,
                        horizontal_spacing=0.04)
    fig.add_trace(_heat(f, False), 1, 1)
    fig.add_trace(_heat(f, True), 1, 2)
    for i in range(pool.bins.shape[0]):
        for j in range(pool.bins.shape[1]):
            x0, y0, x1, y1 = pool.bins[i, j]
            if x1 > x0 and y1 > y0:
                _rect(fig, (x0, y0, x1, y1), BIN, 1, "dot", 1)
    rx1, ry1, rx2, ry2 = pool.roi_cells
    _rect(fig, (rx1, ry1, rx2 + 1, ry2 + 1), ROUNDED, 3, "solid", 1)     # inclusive end cell
    _rect(fig, roi_cells, EXACT, 2, "dash", 1)
    ph, pw = align.output.shape[1:]
    ax1, ay1, ax2, ay2 = align.roi
    for i in range(1, ph):
        y = ay1 + i * (ay2 - ay1) / ph
        fig.add_shape(type="line", x0=ax1, x1=ax2, y0=y, y1=y, line=dict(color=BIN, width=1, dash="dot"), row=1, col=2)
    for j in range(1, pw):
        x = ax1 + j * (ax2 - ax1) / pw
        fig.add_shape(type="line", x0=x, x1=x, y0=ay1, y1=ay2, line=dict(color=BIN, width=1, dash="dot"), row=1, col=2)
    _rect(fig, align.roi, EXACT, 3, "solid", 2)
    pts = align.points.reshape(-1, 2)
    fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=labels["samples"],
                             marker=dict(size=5, color=POINT, line=dict(width=0.5, color="black")),
                             hovertemplate="(%{x:.2f}, %{y:.2f})<extra></extra>"), 1, 2)
    # legend entries for the rectangles
    for name, colour, dash in ((labels["rounded"], ROUNDED, "solid"), (labels["exact"], EXACT, "dash")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=colour, dash=dash)),
                      1, 1)
    h, w = f.shape
    lo_x, hi_x = max(0.0, min(rx1, roi_cells[0]) - margin), min(float(w), max(rx2 + 1, roi_cells[2]) + margin)
    lo_y, hi_y = max(0.0, min(ry1, roi_cells[1]) - margin), min(float(h), max(ry2 + 1, roi_cells[3]) + margin)
    fig.update_xaxes(range=[lo_x, hi_x], dtick=1, showgrid=False, title_text=labels["x_cells"])
    fig.update_yaxes(range=[hi_y, lo_y], dtick=1, showgrid=False, scaleanchor="x", row=1, col=1,
                     title_text=labels["y_cells"])
    fig.update_yaxes(range=[hi_y, lo_y], dtick=1, showgrid=False, scaleanchor="x2", row=1, col=2)
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.15))
    return fig


def plot_outputs(pool_out: np.ndarray, align_out: np.ndarray, labels: dict[str, str]) -> go.Figure:
    """The two ph × pw outputs and their difference, values printed in the cells."""
    fig = make_subplots(1, 3, subplot_titles=(labels["pool_out"], labels["align_out"], labels["diff"]),
                        horizontal_spacing=0.06)
    lo, hi = float(min(pool_out.min(), align_out.min())), float(max(pool_out.max(), align_out.max()))
    d = pool_out - align_out
    m = float(np.abs(d).max()) or 1.0
    for k, (z, kw) in enumerate(((pool_out, dict(zmin=lo, zmax=hi, colorscale="Viridis")),
                                 (align_out, dict(zmin=lo, zmax=hi, colorscale="Viridis")),
                                 (d, dict(zmin=-m, zmax=m, colorscale="RdBu")))):
        fig.add_trace(go.Heatmap(z=z, text=np.round(z, 2), texttemplate="%{text}", showscale=False,
                                 hovertemplate="%{z:.4f}<extra></extra>", **kw), 1, k + 1)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{k + 1}" if k else "x", showticklabels=False,
                         row=1, col=k + 1)
        fig.update_xaxes(showticklabels=False, row=1, col=k + 1)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_shift_sweep(sweep: R.ShiftSweep, current: float, labels: dict[str, str]) -> go.Figure:
    """Mean output of each method while the RoI slides right: RoIPool jumps, RoIAlign glides."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=sweep.shifts, y=sweep.pool.mean(axis=(1, 2, 3)), name="RoIPool",
                             line=dict(color="#ff7f0e", shape="linear")))
    fig.add_trace(go.Scatter(x=sweep.shifts, y=sweep.align.mean(axis=(1, 2, 3)), name="RoIAlign",
                             line=dict(color="#1f77b4")))
    fig.add_vline(x=current, line=dict(color="#888", dash="dot"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), title=labels["sweep_title"],
                      xaxis_title=labels["shift"], yaxis_title=labels["mean_output"],
                      legend=dict(orientation="h", y=-0.25))
    return fig


GROUP_COLOURS = {"input": "#eeeeee", "backbone": "#cfe2f3", "rpn": "#fff2cc", "box": "#d9ead3", "mask": "#f4cccc"}


def maskrcnn_dot(stages: list[R.Stage], level: int, labels: dict[str, str]) -> str:
    """Mask R-CNN's path for one RoI as a Graphviz DOT graph, each node with its real output shape."""
    def node(i: int, s: R.Stage) -> str:
        shape = " × ".join(str(v) for v in s.shape)
        return (f'  n{i} [label="{s.name}\\n({shape})", style="filled,rounded", shape=box, '
                f'fillcolor="{GROUP_COLOURS[s.group]}", fontsize=10];')

    idx = {s.name: i for i, s in enumerate(stages)}
    lines = ["digraph maskrcnn {", "  rankdir=TB; nodesep=0.25; ranksep=0.3;"]
    lines += [node(i, s) for i, s in enumerate(stages)]
    fpn = [i for i, s in enumerate(stages) if s.group == "backbone"]
    rpn = [i for i, s in enumerate(stages) if s.group == "rpn"]
    lines.append(f"  n{idx['image']} -> n{idx['transform']};")
    lines += [f"  n{idx['transform']} -> n{i};" for i in fpn]
    p_level = fpn[level - 2] if 2 <= level <= 5 and len(fpn) >= 4 else fpn[0]
    lines += [f"  n{fpn[0]} -> n{i} [style=dashed];" for i in rpn]
    roi_label = labels["roi_edge"].format(level=level)
    for pool in ("roi_heads.box_roi_pool", "roi_heads.mask_roi_pool"):
        lines.append(f'  n{p_level} -> n{idx[pool]} [label="{roi_label}", fontsize=9];')
    chain = [("roi_heads.box_roi_pool", "roi_heads.box_head"),
             ("roi_heads.box_head", "roi_heads.box_predictor.cls_score"),
             ("roi_heads.box_head", "roi_heads.box_predictor.bbox_pred"),
             ("roi_heads.mask_roi_pool", "roi_heads.mask_head"),
             ("roi_heads.mask_head", "roi_heads.mask_predictor")]
    lines += [f"  n{idx[a]} -> n{idx[b]};" for a, b in chain]
    lines.append("}")
    return "\n".join(lines)
