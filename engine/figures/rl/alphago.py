"""Figures of the AlphaGo chapter: the board with the search's visit counts, the tree grown so far, the root's visit
shares as simulations accumulate (minimax-optimal moves marked), π for the temperature, and the live curves of the
self-play and expert-game networks."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab
from engine.rl.alphago import CELLS, TreeView

COLORS = {"zero": "#d62728", "alphago": "#1f77b4", "sl": "#1f77b4", "pure": "#7f7f7f"}
MARK = {1: "X", -1: "O", 0: ""}


def plot_board(board: tuple, visits: np.ndarray | None = None, optimal=(), last: int | None = None,
               labels: dict | None = None) -> go.Figure:
    """The 3×3 board: X and O, empty cells shaded by the search's visit share (number shown), the minimax-optimal
    cells outlined in green, the last move ringed."""
    fig = go.Figure()
    vis = np.zeros(CELLS) if visits is None else np.asarray(visits, float)
    share = vis / vis.sum() if vis.sum() > 0 else vis
    for i in range(CELLS):
        r, c = divmod(i, 3)
        x0, y0 = c, 2 - r
        fill = f"rgba(31,119,180,{0.08 + 0.7 * share[i]:.3f})" if board[i] == 0 else "white"
        fig.add_shape(type="rect", x0=x0, x1=x0 + 1, y0=y0, y1=y0 + 1, fillcolor=fill,
                      line=dict(color="#2ca02c" if i in optimal else "#444", width=4 if i in optimal else 1))
        if board[i]:
            fig.add_annotation(x=x0 + 0.5, y=y0 + 0.5, text=f"<b>{MARK[board[i]]}</b>", showarrow=False,
                               font=dict(size=44, color="#d62728" if board[i] == 1 else "#1f77b4"))
        else:
            txt = f"{i + 1}" + (f"<br>N={int(vis[i])}" if visits is not None else "")
            fig.add_annotation(x=x0 + 0.5, y=y0 + 0.5, text=txt, showarrow=False, font=dict(size=13, color="#333"))
        if last == i:
            fig.add_shape(type="circle", x0=x0 + 0.08, x1=x0 + 0.92, y0=y0 + 0.08, y1=y0 + 0.92,
                          line=dict(color="#ff7f0e", width=2, dash="dot"))
    fig.add_trace(go.Scatter(x=[1.5], y=[1.5], mode="markers", marker=dict(opacity=0), hoverinfo="skip",
                             showlegend=False))
    fig.update_xaxes(visible=False, range=[-0.05, 3.05], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-0.05, 3.05], scaleanchor="x", fixedrange=True)
    fig.update_layout(height=300, width=300, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    return fig


def plot_tree(tv: TreeView, labels: dict | None = None) -> go.Figure:
    """The search tree: depth down, one dot per node sized by its visits, edges as lines (the last simulation's
    path in orange); hover: the move, N, Q and P of the edge into the node."""
    fig = go.Figure()
    ex, ey, lx, ly = [], [], [], []
    for i in range(1, len(tv.x)):
        j = tv.parent[i]
        xs, ys = (lx, ly) if tv.on_last[i] else (ex, ey)
        xs += [round(float(tv.x[j]), 2), round(float(tv.x[i]), 2), None]
        ys += [-int(tv.depth[j]), -int(tv.depth[i]), None]
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#bbb", width=1), hoverinfo="skip",
                             name=lab(labels, "edges", "edges")))
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color="#ff7f0e", width=3), hoverinfo="skip",
                             name=lab(labels, "last_path", "last simulation")))
    size = 5 + 25 * np.sqrt(tv.visits / max(tv.visits.max(), 1))
    # colour: Q of the edge for the player who chose it (root grey)
    q = np.where(np.isnan(tv.q), 0.0, tv.q)
    hover = [lab(labels, "root", "root") + f"<br>ΣN={int(tv.visits[0])}" if i == 0 else
             f"{lab(labels, 'cell', 'cell')} {int(tv.cell[i]) + 1} ({lab(labels, 'depth', 'depth')} {int(tv.depth[i])})"
             f"<br>N={int(tv.visits[i])}  Q={tv.q[i]:+.2f}  P={tv.p[i]:.2f}" for i in range(len(tv.x))]
    fig.add_trace(go.Scatter(x=np.round(tv.x, 2), y=-tv.depth, mode="markers", text=hover, hoverinfo="text",
                             marker=dict(size=np.round(size, 1), color=np.round(q, 3), cmin=-1, cmax=1,
                                         colorscale="RdBu", line=dict(color="#333", width=0.5),
                                         colorbar=dict(title="Q", thickness=10, len=0.6)),
                             name=lab(labels, "nodes", "nodes"), showlegend=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(title_text=lab(labels, "depth", "depth"), tickvals=-np.arange(int(tv.depth.max()) + 1),
                     ticktext=[str(d) for d in range(int(tv.depth.max()) + 1)])
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.05))
    return fig


def plot_convergence(root_visits: np.ndarray, legal, optimal, labels: dict | None = None) -> go.Figure:
    """The root's visit share N(a)/ΣN of each legal move after every simulation; minimax-optimal moves solid, the
    others dotted."""
    n = np.arange(1, len(root_visits) + 1)
    fig = go.Figure()
    for a in legal:
        share = root_visits[:, a] / n
        good = a in optimal
        fig.add_trace(go.Scatter(x0=1, dx=1, y=np.round(share, 3), mode="lines",
                                 line=dict(width=2.5 if good else 1.2, dash="solid" if good else "dot"),
                                 name=f"{a + 1}" + (" ✓" if good else "")))
    fig.update_xaxes(title_text=lab(labels, "sims", "simulations"))
    fig.update_yaxes(title_text=lab(labels, "share", "N(a)/ΣN"), range=[0, 1])
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(title=lab(labels, "move", "move"), orientation="h", y=1.02, yanchor="bottom"))
    return fig


def plot_temperature(N: np.ndarray, policies: dict, legal, labels: dict | None = None) -> go.Figure:
    """π(a) for several temperatures τ (bars per move) from the same visit counts N."""
    fig = go.Figure()
    x = [str(a + 1) for a in legal]
    for tau, pi in policies.items():
        fig.add_trace(go.Bar(x=x, y=np.round(np.asarray(pi)[list(legal)], 4), name=f"τ = {tau}"))
    fig.update_xaxes(title_text=lab(labels, "move", "move"), type="category")
    fig.update_yaxes(title_text="π(a)", range=[0, 1])
    fig.update_layout(height=320, barmode="group", margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig


def plot_curves(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], baseline: float,
                labels: dict | None = None) -> go.Figure:
    """Three panels over games: the policy head's optimal-move share, the search's optimal-move share with the
    network (the search without it: a dashed line), the value head's error against minimax; one line per model."""
    metrics = ("optimal_policy", "search_optimal", "value_error")
    fig = make_subplots(rows=1, cols=3, subplot_titles=[lab(labels, m, m) for m in metrics])
    for name, per in curves.items():
        for j, m in enumerate(metrics, start=1):
            x, y = per[m]
            fig.add_trace(go.Scatter(x=x, y=np.round(y, 4), mode="lines+markers", marker=dict(size=3),
                                     line=dict(color=COLORS.get(name)),
                                     name=lab(labels, name, name), legendgroup=name, showlegend=j == 1), 1, j)
    xmax = max((int(per["search_optimal"][0].max()) for per in curves.values() if len(per["search_optimal"][0])),
               default=1)
    fig.add_trace(go.Scatter(x=[0, max(xmax, 1)], y=[baseline, baseline], mode="lines",
                             line=dict(color=COLORS["pure"], dash="dash"), name=lab(labels, "pure", "no network")),
                  1, 2)
    for j in (1, 2):
        fig.update_yaxes(range=[0, 1.02], row=1, col=j)
    fig.update_yaxes(rangemode="tozero", row=1, col=3)
    for j in (1, 2, 3):
        fig.update_xaxes(title_text=lab(labels, "games", "games"), rangemode="tozero", row=1, col=j)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_compare(visits: dict[str, np.ndarray], legal, optimal, labels: dict | None = None) -> go.Figure:
    """Visit counts at the root from searches with the same simulations: one bar group per search, optimal
    moves marked ✓."""
    fig = go.Figure()
    x = [f"{a + 1}" + (" ✓" if a in optimal else "") for a in legal]
    for name, N in visits.items():
        fig.add_trace(go.Bar(x=x, y=[int(N[a]) for a in legal], name=lab(labels, name, name),
                             marker_color=COLORS.get(name)))
    # labels mix "3" and "2 ✓": without an explicit type plotly may read the axis as numbers and drop the rest
    fig.update_xaxes(title_text=lab(labels, "move", "move"), type="category")
    fig.update_yaxes(title_text="N(s, a)")
    fig.update_layout(height=340, barmode="group", margin=dict(l=10, r=10, t=60, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom"))
    return fig


def plot_examples(games: dict[str, list], labels: dict | None = None) -> go.Figure:
    """What each network trains on: one game per row, one position per column, the policy target over the 9 cells
    as a heatmap (X and O on the taken cells) and the value target z (for the player to move) in the title."""
    names = list(games)
    cols = max(len(g) for g in games.values())
    titles = []
    for name in names:
        for k in range(cols):
            titles.append(f"z = {games[name][k][2]:+.0f}" if k < len(games[name]) else "")
    fig = make_subplots(rows=len(names), cols=cols, subplot_titles=titles, horizontal_spacing=0.01,
                        vertical_spacing=0.12)
    for r, name in enumerate(names, start=1):
        for k, (board, pi, z) in enumerate(games[name], start=1):
            grid = np.asarray(pi, float).reshape(3, 3)[::-1]              # top row drawn at the top
            txt = [[MARK[board[3 * (2 - i) + j]] or (f"{grid[i, j]:.2f}" if grid[i, j] > 0 else "")
                    for j in range(3)] for i in range(3)]
            fig.add_trace(go.Heatmap(z=np.round(grid, 3), text=txt, texttemplate="%{text}", zmin=0, zmax=1,
                                     colorscale="Blues", showscale=False, xgap=1, ygap=1,
                                     hovertemplate="π = %{z}<extra></extra>"), r, k)
        fig.update_yaxes(title_text=lab(labels, name, name), row=r, col=1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=150 * len(names) + 60, margin=dict(l=10, r=10, t=30, b=10))
    return fig
