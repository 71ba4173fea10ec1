"""Figures of the Q-learning & DQN chapter: the grid world's Q-table (four values per cell, greedy arrows), the
distance of Q-learning from Q*, a replay buffer with a consecutive and a sampled minibatch, the max-of-noise bias,
the ε schedule, the live curves of DQN and Double DQN, and the learned Q over a slice of CartPole's states."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab
from engine.rl.dqn import ARROWS, Grid, MaxBias, QSliceResult, ReplayDemo

COLORS = {"dqn": "#d62728", "double": "#1f77b4", "no_replay": "#2ca02c"}     # the live run's model names
SUB = ((0, 1), (1, 2), (2, 1), (1, 0))           # sub-cell (row, col) of up, right, down, left in a 3×3 block


def _q_blocks(grid: Grid, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell as a 3×3 block: Q(s, up/right/down/left) on the four sides, the greedy arrow in the middle.
    Returns z (3H, 3W) with NaN elsewhere, and the text of each sub-cell."""
    H, W = grid.shape
    z = np.full((3 * H, 3 * W), np.nan)
    text = np.full((3 * H, 3 * W), "", dtype=object)
    for s in range(grid.n_states):
        r, c = divmod(s, W)
        ch = grid.cell(s)
        if ch in "#GX":
            text[3 * r + 1, 3 * c + 1] = {"#": "", "G": "G +1", "X": "X −1"}[ch]
            continue
        for a, (dr, dc) in enumerate(SUB):
            z[3 * r + dr, 3 * c + dc] = Q[s, a]
            text[3 * r + dr, 3 * c + dc] = f"{Q[s, a]:.2f}"
        best = np.flatnonzero(np.isclose(Q[s], Q[s].max(), rtol=0, atol=1e-12))
        text[3 * r + 1, 3 * c + 1] = "" if len(best) == 4 else "".join(ARROWS[a] for a in best)
        if ch == "S":
            text[3 * r + 1, 3 * c + 1] = "S " + text[3 * r + 1, 3 * c + 1]
    return z, text


def _add_q_table(fig: go.Figure, grid: Grid, Q: np.ndarray, row: int, col: int, zmax: float,
                 path=None, showscale: bool = True) -> None:
    H, W = grid.shape
    z, text = _q_blocks(grid, Q)
    fig.add_trace(go.Heatmap(z=np.round(z, 3), text=text, texttemplate="%{text}", textfont=dict(size=10),
                             colorscale="RdBu", zmid=0, zmin=-zmax, zmax=zmax, showscale=showscale, xgap=0, ygap=0,
                             colorbar=dict(thickness=10), hoverinfo="skip"), row, col)
    xref = "x" if (row, col) == (1, 1) else f"x{col}"
    yref = "y" if (row, col) == (1, 1) else f"y{col}"
    for s in range(grid.n_states):
        r, c = divmod(s, W)
        ch = grid.cell(s)
        fill = {"#": "rgba(90,90,90,0.9)", "G": "rgba(44,160,44,0.35)", "X": "rgba(214,39,40,0.35)"}.get(ch)
        fig.add_shape(type="rect", x0=3 * c - 0.5, x1=3 * c + 2.5, y0=3 * r - 0.5, y1=3 * r + 2.5, xref=xref,
                      yref=yref, line=dict(color="#333", width=1), fillcolor=fill or "rgba(0,0,0,0)")
    if path is not None and len(path) > 1:
        pr = [3 * (s // W) + 1 for s in path]
        pc = [3 * (s % W) + 1 for s in path]
        fig.add_trace(go.Scatter(x=pc, y=pr, mode="lines", line=dict(color="rgba(255,165,0,0.8)", width=4),
                                 hoverinfo="skip", showlegend=False), row, col)
    fig.update_xaxes(visible=False, range=[-0.5, 3 * W - 0.5], row=row, col=col)
    fig.update_yaxes(visible=False, range=[3 * H - 0.5, -0.5], scaleanchor=xref, row=row, col=col)


def plot_q_tables(grid: Grid, tables: list[tuple[str, np.ndarray]], paths: list | None = None,
                  labels: dict | None = None) -> go.Figure:
    """One Q-table per panel (e.g. Q-learning's after n episodes and value iteration's Q*), same colour range;
    each open cell shows Q(s, a) on the side of its move and the greedy action(s) in the middle."""
    n = len(tables)
    fig = make_subplots(rows=1, cols=n, subplot_titles=[t for t, _ in tables], horizontal_spacing=0.06)
    zmax = max(1e-9, max(float(np.abs(Q).max()) for _, Q in tables))
    for j, (_, Q) in enumerate(tables):
        _add_q_table(fig, grid, Q, 1, j + 1, zmax, None if paths is None else paths[j], showscale=j == n - 1)
    H, W = grid.shape
    fig.update_layout(height=int(120 + 70 * H * max(1.0, 5 / max(W, 1))), margin=dict(l=5, r=5, t=40, b=5),
                      plot_bgcolor="white")
    return fig


def plot_q_error(episodes: np.ndarray, errors: np.ndarray, lengths: np.ndarray,
                 labels: dict | None = None) -> go.Figure:
    """max |Q − Q*| over the reachable states and the length of each episode, against episodes."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "q_error", "max |Q − Q*|"),
                                                        lab(labels, "ep_length", "episode length")))
    fig.add_trace(go.Scatter(x=episodes, y=np.round(errors, 5), mode="lines", line=dict(color="#9467bd"),
                             showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=episodes[1:], y=lengths[1:], mode="lines", line=dict(color="#8c564b"),
                             showlegend=False), 1, 2)
    fig.update_xaxes(title_text=lab(labels, "episode", "episode"))
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def plot_replay(demo: ReplayDemo, labels: dict | None = None) -> go.Figure:
    """Left: the pole angle θ of every transition in the buffer, in the order stored, with the two minibatches
    marked. Right: θ of each minibatch in the order the network sees it (smooth = correlated, jumpy = not)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4],
                        subplot_titles=(lab(labels, "buffer", "buffer"), lab(labels, "batch_order", "batch")))
    idx = np.arange(len(demo.theta))
    step = max(1, len(idx) // 1500)
    fig.add_trace(go.Scatter(x=idx[::step], y=np.round(np.degrees(demo.theta[::step]), 2), mode="lines",
                             line=dict(color="rgba(120,120,120,0.5)", width=1),
                             name=lab(labels, "stored", "stored")), 1, 1)
    for key, ids, color in (("consecutive", demo.recent, "#d62728"), ("sampled", demo.uniform, "#1f77b4")):
        name = lab(labels, key, key)
        fig.add_trace(go.Scatter(x=ids, y=np.round(np.degrees(demo.theta[ids]), 2), mode="markers", name=name,
                                 legendgroup=key, marker=dict(color=color, size=6)), 1, 1)
        fig.add_trace(go.Scatter(x=np.arange(len(ids)), y=np.round(np.degrees(demo.theta[ids]), 2),
                                 mode="lines+markers", name=name, legendgroup=key, showlegend=False,
                                 line=dict(color=color)), 1, 2)
    fig.update_xaxes(title_text=lab(labels, "buffer_index", "index in the buffer"), row=1, col=1)
    fig.update_xaxes(title_text=lab(labels, "batch_index", "position in the batch"), row=1, col=2)
    fig.update_yaxes(title_text=lab(labels, "theta", "θ (deg)"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_max_bias(mb: MaxBias, labels: dict | None = None) -> go.Figure:
    """The mean error of max over noisy estimates (one set: DQN's max) and of Double's estimate (choose with one
    set, evaluate with another), with the exact σ·E[max Z]; every action's true value is 0."""
    x = [str(n) for n in mb.n_actions]
    fig = go.Figure([
        go.Bar(x=x, y=np.round(mb.single, 4), name=lab(labels, "single", "max"), marker_color=COLORS["dqn"]),
        go.Bar(x=x, y=np.round(mb.double, 4), name=lab(labels, "double", "double"), marker_color=COLORS["double"]),
        go.Scatter(x=x, y=np.round(mb.exact, 4), mode="markers", name=lab(labels, "exact", "exact"),
                   marker=dict(symbol="line-ew-open", size=28, color="black", line=dict(width=2)))])
    fig.update_layout(height=300, barmode="group", margin=dict(l=10, r=10, t=30, b=10), xaxis_type="category",
                      xaxis_title=lab(labels, "n_actions", "actions"), yaxis_title=lab(labels, "bias", "bias"),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def plot_schedule(steps: np.ndarray, eps: np.ndarray, learning_starts: int, labels: dict | None = None) -> go.Figure:
    """ε against environment steps, with the step where gradient steps begin."""
    fig = go.Figure(go.Scatter(x=steps, y=np.round(eps, 4), mode="lines", line=dict(color="#ff7f0e"),
                               name="ε"))
    fig.add_vline(x=learning_starts, line_dash="dot", line_color="grey",
                  annotation_text=lab(labels, "learning_starts", "learning starts"))
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=20, b=10), yaxis=dict(range=[0, 1.05]),
                      xaxis_title=lab(labels, "env_steps", "environment steps"), yaxis_title="ε")
    return fig


def plot_curves(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], labels: dict | None = None) -> go.Figure:
    """Three panels over environment steps: episode return (mean of the last 20), Huber loss, and the
    over-estimation measure: max_a Q(s, a) (solid) against the discounted return actually collected (dotted) on
    the greedy policy's states, with the bootstrapping ceiling (1 − γⁿ)/(1 − γ) after n target copies (grey,
    dashed, when `q_ceiling` is given). `curves[model][metric] = (steps, values)`; a model without q_max stays
    out of the third panel; legend names from `labels["model_<model>"]`."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[lab(labels, k, k) for k in ("return", "loss", "estimate")])
    for key, per in curves.items():
        color = COLORS.get(key, "black")
        name = lab(labels, f"model_{key}", key)
        for j, (m, dash, legend) in enumerate((("return", "solid", True), ("loss", "solid", False),
                                               ("q_max", "solid", False), ("true_return", "dot", False))):
            if m not in per:                                  # a model may leave the estimate panel out
                continue
            x, y = per[m]
            step = max(1, len(x) // 150)
            title = name if m != "true_return" else f"{name}: {lab(labels, 'true_return', 'true')}"
            fig.add_trace(go.Scatter(x=x[::step], y=np.round(y[::step], 4), name=title, showlegend=legend or
                                     m == "true_return", legendgroup=key if m != "true_return" else key + "t",
                                     line=dict(color=color, dash=dash)), 1, min(j + 1, 3))
    ceiling = next((per["q_ceiling"] for per in curves.values() if "q_ceiling" in per), None)
    if ceiling is not None and len(ceiling[0]):
        x, y = ceiling
        step = max(1, len(x) // 150)
        fig.add_trace(go.Scatter(x=x[::step], y=np.round(y[::step], 3), name=lab(labels, "ceiling", "ceiling"),
                                 line=dict(color="grey", dash="dash", width=1)), 1, 3)
    fig.add_hline(y=195, line_dash="dot", line_color="grey", annotation_text="195", row=1, col=1)
    finite = [v for per in curves.values() for v in np.ravel(per["return"][1]) if np.isfinite(v)]
    fig.update_yaxes(range=[0, 1.08 * max([195.0, *finite])], row=1, col=1)
    fig.update_xaxes(title_text=lab(labels, "env_steps", "environment steps"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.35))
    return fig


def plot_q_slice(sl: QSliceResult, labels: dict | None = None) -> go.Figure:
    """The greedy action and max_a Q over the (θ, θ̇) plane at x = ẋ = 0, side by side."""
    deg = np.round(np.degrees(sl.theta), 2)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.15,
                        subplot_titles=(lab(labels, "greedy", "argmax Q"), lab(labels, "v", "max Q")))
    fig.add_trace(go.Heatmap(x=deg, y=np.round(sl.theta_dot, 3), z=sl.greedy, zmin=0, zmax=1,
                             colorscale=[[0, "#1f77b4"], [1, "#d62728"]], showscale=False), 1, 1)
    fig.add_trace(go.Heatmap(x=deg, y=np.round(sl.theta_dot, 3), z=np.round(sl.q_max, 2), colorscale="Viridis",
                             colorbar=dict(thickness=10)), 1, 2)
    fig.update_xaxes(title_text=lab(labels, "theta", "θ (deg)"))
    fig.update_yaxes(title_text=lab(labels, "theta_dot", "θ̇ (rad/s)"))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10))
    return fig
