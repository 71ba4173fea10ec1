"""Figures of the GPT-3 chapter: plotly only, small (rounded numbers, few points)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.figures.common import INFERNO

_LAYOUT = dict(height=300, margin=dict(l=50, r=10, t=40, b=40))


def _show(c: str) -> str:
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(c, c)


def plot_step_distribution(step, labels: dict) -> go.Figure:
    """The model's top candidates at one step: its own probability (T = 1) and the one sampled from after the
    temperature / top-k / top-p cut; the drawn token outlined."""
    xs = [f"{i + 1}. {_show(c)}" for i, c in enumerate(step.candidates)]
    line = [3 if c == step.token else 0 for c in step.candidates]
    fig = go.Figure([
        go.Bar(x=xs, y=list(step.p_model), name=labels["p_model"], marker_color="#9ecae1"),
        go.Bar(x=xs, y=list(step.p_sample), name=labels["p_sample"], marker_color="#e6550d",
               marker_line=dict(width=line, color="black")),
    ])
    fig.update_layout(barmode="group", title=labels["dist_title"].format(token=_show(step.token)),
                      yaxis=dict(title=labels["prob"], range=[0, 1]), **_LAYOUT)
    return fig


def plot_logp(gen, labels: dict) -> go.Figure:
    """Running log-probability Σ log p(x_t | x_<t) of the generated tokens, and each token's own log p."""
    x = list(range(1, len(gen.steps) + 1))
    text = [_show(s.token) for s in gen.steps]
    fig = go.Figure([
        go.Scatter(x=x, y=[round(s.cum_logp, 3) for s in gen.steps], mode="lines", name=labels["cum_logp"]),
        go.Bar(x=x, y=[round(s.logp, 3) for s in gen.steps], name=labels["logp"], text=text,
               marker_color=["#d62728" if s.forced else "#7f7f7f" for s in gen.steps]),
    ])
    fig.update_layout(xaxis_title=labels["gen_step"], yaxis_title=labels["nats"], **_LAYOUT)
    return fig


def plot_attention(att: np.ndarray, tokens, labels: dict, title: str = "") -> go.Figure:
    """One head's attention (T, T): rows are queries t, columns keys s; the upper triangle is masked (zero)."""
    t = [f"{i}:{_show(c)}" for i, c in enumerate(tokens)]
    fig = go.Figure(go.Heatmap(z=np.round(att, 3), x=t, y=t, colorscale=INFERNO, zmin=0, zmax=1,
                               colorbar=dict(title="a")))
    # ticks at a readable 11 px: plotly thins a category axis's labels when they would overlap
    fig.update_layout(title=title, xaxis=dict(title=labels["key"], tickfont=dict(size=11)),
                      yaxis=dict(title=labels["query"], autorange="reversed", tickfont=dict(size=11)),
                      height=460, margin=dict(l=60, r=10, t=40, b=50))
    return fig


def plot_logit_diff(demo, labels: dict) -> go.Figure:
    """max |Δ logits| at each position after replacing one token: zero before it, non-zero from it on. The replaced
    position is marked by a dashed line and a label."""
    d = demo.diff_per_position
    colors = ["#2ca02c" if i < demo.changed_at else "#d62728" for i in range(len(d))]
    fig = go.Figure(go.Bar(x=list(range(len(d))), y=np.round(d, 4), marker_color=colors,
                           customdata=[_show(c) for c in demo.tokens],
                           hovertemplate="%{x}: %{customdata}<br>%{y}<extra></extra>"))
    fig.add_vline(x=demo.changed_at - 0.5, line=dict(dash="dash", color="black", width=1.5))
    fig.add_annotation(x=demo.changed_at - 0.5, y=1, yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
                       text=labels["replaced"].format(pos=demo.changed_at, new=_show(demo.new_token)),
                       font=dict(size=12))
    fig.update_layout(yaxis_title=labels["dlogit"], xaxis=dict(title=labels["position"], tickfont=dict(size=11)),
                      **{**_LAYOUT, "margin": dict(l=50, r=10, t=50, b=40)})
    return fig


def plot_icl_accuracy(ev, labels: dict) -> go.Figure:
    """Accuracy against the number of examples in the prompt, the model's and the best possible (Bayes-optimal over
    the task family), overall and on the questions whose key is not among the examples; chance dotted."""
    x = list(ev.shots)
    r = lambda v: [None if v_ != v_ else round(v_, 3) for v_ in v]          # noqa: E731 (nan → gap)
    fig = go.Figure([
        go.Scatter(x=x, y=r(ev.accuracy), mode="lines+markers", name=labels["accuracy"],
                   line=dict(color="#1f77b4", width=3)),
        go.Scatter(x=x, y=r(ev.optimum), mode="lines", name=labels["optimum"],
                   line=dict(color="#1f77b4", dash="dash")),
        go.Scatter(x=x, y=r(ev.accuracy_new), mode="lines+markers", name=labels["acc_new"],
                   line=dict(color="#e6550d", width=2)),
        go.Scatter(x=x, y=r(ev.optimum_new), mode="lines", name=labels["optimum_new"],
                   line=dict(color="#e6550d", dash="dash")),
        go.Scatter(x=[0, max(x)], y=[round(ev.chance, 4)] * 2, mode="lines", line=dict(dash="dot", color="gray"),
                   name=labels["chance"]),
    ])
    fig.update_layout(xaxis=dict(title=labels["shots"], dtick=1), yaxis=dict(title=labels["accuracy"],
                      range=[0, 1.05]), **_LAYOUT)
    return fig


def plot_icl_curves(curves: dict, labels: dict) -> go.Figure:
    """Training curves {name: (steps, values)}."""
    fig = go.Figure([go.Scatter(x=list(s), y=[round(v, 3) for v in y], mode="lines", name=labels.get(k, k))
                     for k, (s, y) in curves.items()])
    fig.update_layout(xaxis_title=labels["step"], yaxis=dict(range=[0, 1.05]), **_LAYOUT)
    return fig


def plot_heads(induction: np.ndarray, previous: np.ndarray, labels: dict) -> go.Figure:
    """Two head scores per layer and head: attention from each value to the key just before it (previous-token
    head) and from the question to the value after its matching key (induction / copy head)."""
    from engine.figures.common import make_subplots
    L, H = induction.shape
    fig = make_subplots(1, 2, subplot_titles=(labels["previous_title"], labels["induction_title"]),
                        horizontal_spacing=0.12)
    for col, z in ((1, previous), (2, induction)):
        fig.add_trace(go.Heatmap(z=np.round(z, 2), x=[f"h{h + 1}" for h in range(H)],
                                 y=[f"L{l + 1}" for l in range(L)], colorscale=INFERNO, zmin=0, zmax=1,
                                 text=np.round(z, 2), texttemplate="%{text}", showscale=col == 2), 1, col)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=260, margin=dict(l=40, r=10, t=60, b=30))
    return fig


def plot_scaling(rows: list[dict], fit, labels: dict, live: tuple[float, float] | None = None) -> go.Figure:
    """Validation loss against non-embedding parameters on log–log axes, with the fitted power law."""
    n = np.array([r["n_params"] for r in rows], float)
    y = np.array([r["val_loss"] for r in rows], float)
    grid = np.geomspace(n.min() / 1.5, n.max() * 1.5, 20)
    traces = [go.Scatter(x=n, y=y, mode="markers", marker=dict(size=10), name=labels["sweep"]),
              go.Scatter(x=grid, y=np.round((fit.n_c / grid) ** fit.alpha, 4), mode="lines",
                         name=labels["fit"].format(alpha=fit.alpha))]
    if live is not None:
        traces.append(go.Scatter(x=[live[0]], y=[live[1]], mode="markers", marker=dict(size=14, symbol="star"),
                                 name=labels["live"]))
    fig = go.Figure(traces)
    fig.update_layout(xaxis=dict(type="log", title=labels["n_params"]), yaxis=dict(type="log", title=labels["loss"]),
                      **_LAYOUT)
    return fig


def plot_kaplan(ours_n: np.ndarray, gpt3_n: float, labels: dict) -> go.Figure:
    """Kaplan et al.'s L(N) = (N_c/N)^α from 10³ to 10¹², with GPT-3 175B on it and our sweep's sizes marked."""
    from engine.language.gpt3 import kaplan_loss
    grid = np.geomspace(1e3, 1e12, 30)
    fig = go.Figure([
        go.Scatter(x=grid, y=np.round(kaplan_loss(grid), 4), mode="lines", name=labels["kaplan"]),
        go.Scatter(x=[gpt3_n], y=[round(float(kaplan_loss(gpt3_n)), 4)], mode="markers+text", text=["GPT-3"],
                   textposition="top center", marker=dict(size=12), name="GPT-3 175B"),
        go.Scatter(x=ours_n, y=np.round(kaplan_loss(ours_n), 4), mode="markers", name=labels["our_sizes"]),
    ])
    fig.update_layout(xaxis=dict(type="log", title=labels["n_params"]), yaxis=dict(type="log", title=labels["loss"]),
                      **_LAYOUT)
    return fig
