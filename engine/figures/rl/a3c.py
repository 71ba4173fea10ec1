"""Figures of the A2C / A3C chapter: one rollout's loss terms, the network with its shapes, the live curves, the
staleness of A3C's gradients, the learned policy and value over a state slice, and an episode replay."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.common import cartpole
from engine.figures.common import lab
from engine.rl.a3c import Episode, PolicySlice, Rollout

COLORS = {"A2C": "#1f77b4", "A3C": "#d62728"}


def plot_rollout(ro: Rollout, labels: dict | None = None) -> go.Figure:
    """Top: R_t, V(s_t) and A_t per step. Bottom: the three loss terms per step (their means are the loss)."""
    t = np.arange(len(ro.rewards))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=(lab(labels, "returns_panel", "returns"), lab(labels, "terms_panel", "terms")))
    fig.add_trace(go.Scatter(x=t, y=np.round(ro.returns, 4), name=lab(labels, "R", "R_t"), mode="lines+markers"), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=np.round(ro.values, 4), name=lab(labels, "V", "V(s_t)"), mode="lines+markers"), 1, 1)
    fig.add_trace(go.Bar(x=t, y=np.round(ro.advantages, 4), name=lab(labels, "A", "A_t"), opacity=0.5), 1, 1)
    for key, y, c in (("policy_term", ro.policy_term, "#2ca02c"), ("value_term", ro.value_term, "#9467bd"),
                      ("entropy_term", ro.entropy_term, "#ff7f0e")):
        fig.add_trace(go.Bar(x=t, y=np.round(y, 5), name=lab(labels, key, key), marker_color=c), 2, 1)
    fig.update_xaxes(title_text=lab(labels, "t", "t"), row=2, col=1)
    fig.update_layout(height=480, barmode="group", margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.15))
    return fig


def plot_network(hidden: int, labels: dict | None = None) -> go.Figure:
    """The shared-trunk actor-critic as boxes with the shapes of each tensor and weight."""
    boxes = [  # (x, y, text)
        (0.0, 0.5, f"s<br>(4,)"),
        (1.0, 0.5, f"{lab(labels, 'trunk', 'trunk')}<br>h = tanh(W₁s + b₁)<br>W₁ (4, {hidden})<br>h ({hidden},)"),
        (2.1, 0.85, f"{lab(labels, 'actor', 'actor')}<br>softmax(W_π h + b_π)<br>W_π ({hidden}, 2)<br>π(·|s) (2,)"),
        (2.1, 0.15, f"{lab(labels, 'critic', 'critic')}<br>w_vᵀh + b_v<br>w_v ({hidden}, 1)<br>V(s) (1,)"),
    ]
    fig = go.Figure()
    for x, y, text in boxes:
        fig.add_shape(type="rect", x0=x - 0.42, x1=x + 0.42, y0=y - 0.16, y1=y + 0.16,
                      line=dict(color="#555"), fillcolor="rgba(31,119,180,0.08)")
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=13, color="#222"))
    for (x0, y0), (x1, y1) in (((0.42, 0.5), (0.58, 0.5)), ((1.42, 0.55), (1.68, 0.85)), ((1.42, 0.45), (1.68, 0.15))):
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, text="")
    fig.update_xaxes(visible=False, range=[-0.5, 2.6])
    fig.update_yaxes(visible=False, range=[-0.1, 1.1])
    fig.update_layout(height=300, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    return fig


def plot_curves(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], labels: dict | None = None) -> go.Figure:
    """Four panels over environment steps: episode return (mean of the last 20), policy loss, value loss,
    entropy; one line per model. `curves[model][metric] = (steps, values)`."""
    metrics = ("return", "policy_loss", "value_loss", "entropy")
    fig = make_subplots(rows=1, cols=4, subplot_titles=[lab(labels, m, m) for m in metrics])
    for name, per in curves.items():
        for j, m in enumerate(metrics):
            x, y = per[m]
            step = max(1, len(x) // 150)                      # at most ~150 points per line
            fig.add_trace(go.Scatter(x=x[::step], y=np.round(y[::step], 4), name=name, legendgroup=name,
                                     showlegend=j == 0, line=dict(color=COLORS.get(name, "black"))), 1, j + 1)
    fig.add_hline(y=195, line_dash="dot", line_color="grey", annotation_text="195", row=1, col=1)
    # the 195 reference inside the panel: on autorange (returns ≪ 195) it was drawn across the panel's title
    finite = [v for per in curves.values() for v in np.ravel(per["return"][1]) if np.isfinite(v)]
    top = max([195.0, *finite])
    fig.update_yaxes(range=[0, 1.08 * top], row=1, col=1)
    fig.update_xaxes(title_text=lab(labels, "env_steps", "environment steps"))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.35))
    return fig


def plot_staleness(counts: np.ndarray, labels: dict | None = None) -> go.Figure:
    """How many of A3C's applied gradients were computed with θ′ that was 0, 1, 2, … updates old."""
    fig = go.Figure(go.Bar(x=np.arange(len(counts)), y=counts, marker_color=COLORS["A3C"]))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10),
                      title=dict(text=lab(labels, "staleness_title", "staleness"), font=dict(size=13)),
                      xaxis_title=lab(labels, "staleness_x", "staleness"), yaxis_title=lab(labels, "count", "count"))
    return fig


def plot_policy(sl: PolicySlice, labels: dict | None = None) -> go.Figure:
    """π(left | θ, θ̇) and V(θ, θ̇) at x = ẋ = 0, side by side."""
    deg = np.degrees(sl.theta)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab(labels, "p_left", "π(left|s)"), lab(labels, "V", "V(s)")),
                        horizontal_spacing=0.15)
    fig.add_trace(go.Heatmap(x=np.round(deg, 2), y=np.round(sl.theta_dot, 3), z=np.round(sl.p_left, 3), zmin=0,
                             zmax=1, colorscale="RdBu", colorbar=dict(x=0.43, thickness=10)), 1, 1)
    fig.add_trace(go.Heatmap(x=np.round(deg, 2), y=np.round(sl.theta_dot, 3), z=np.round(sl.value, 2),
                             colorscale="Viridis", colorbar=dict(thickness=10)), 1, 2)
    fig.update_xaxes(title_text=lab(labels, "theta", "θ (deg)"))
    fig.update_yaxes(title_text=lab(labels, "theta_dot", "θ̇ (rad/s)"))          # each panel: a phone stacks them
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def _cart_xy(s: np.ndarray) -> tuple[list, list, list, list]:
    x, th = float(s[0]), float(s[2])
    w, h = 0.25, 0.15
    cx = [round(v, 3) for v in (x - w, x + w, x + w, x - w, x - w)]
    cy = [0, 0, h, h, 0]
    pole = 1.0                                            # 2 l, the pole's full length
    px = [round(x, 3), round(x + pole * np.sin(th), 3)]
    py = [h, round(h + pole * np.cos(th), 3)]
    return cx, cy, px, py


def plot_episode(ep: Episode, labels: dict | None = None, max_frames: int = 120) -> go.Figure:
    """The episode drawn frame by frame (plotly animation, play button and slider): cart, pole, π(left|s_t)."""
    T = ep.length
    idx = np.unique(np.linspace(0, T - 1, min(T, max_frames)).astype(int)) if T else np.array([0])
    def traces(i):
        cx, cy, px, py = _cart_xy(ep.states[i])
        return [go.Scatter(x=cx, y=cy, fill="toself", mode="lines", line=dict(color="#444")),
                go.Scatter(x=px, y=py, mode="lines", line=dict(color="#c8702f", width=6))]
    lim = cartpole.X_THRESHOLD
    frames = [go.Frame(data=traces(i), name=str(i),
                       layout=dict(title_text=lab(labels, "frame", "t = {t}, π(left) = {p}").format(
                           t=i, p=f"{ep.p_left[i]:.2f}" if T else "–"))) for i in idx]
    fig = go.Figure(data=traces(int(idx[0])), frames=frames)
    fig.add_shape(type="line", x0=-lim, x1=lim, y0=0, y1=0, line=dict(color="grey"))
    fig.update_layout(
        height=300, showlegend=False, margin=dict(l=10, r=10, t=40, b=10),
        title=dict(text=lab(labels, "episode_title", "episode"), font=dict(size=13)),
        xaxis=dict(range=[-lim - 0.3, lim + 0.3]), yaxis=dict(range=[-0.2, 1.3], scaleanchor="x", visible=False),
        updatemenus=[dict(type="buttons", x=0, y=-0.05, buttons=[
            dict(label="▶", method="animate", args=[None, dict(frame=dict(duration=40, redraw=False),
                                                               fromcurrent=True, transition=dict(duration=0))]),
            dict(label="⏸", method="animate", args=[[None], dict(mode="immediate", frame=dict(duration=0))])])],
        sliders=[dict(steps=[dict(method="animate", label=str(i), args=[[str(i)], dict(mode="immediate",
                 frame=dict(duration=0, redraw=False))]) for i in idx], x=0.1, len=0.9, y=-0.05)])
    return fig
