"""Figures of the Docker chapter: the layer stack with what rebuilds, the build context with and without
.dockerignore. Plotly only."""
from __future__ import annotations

import plotly.graph_objects as go

from engine.engineering.docker import BuildContext, Simulation

CACHED = "rgb(120,160,200)"
REBUILT = "rgb(214,96,77)"


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def plot_layers(sim: Simulation, *, labels: dict[str, str]) -> go.Figure:
    """One bar per step, bottom-up like an image's layers: length = MB it adds (log axis), colour = cached,
    rebuilt or skipped (a stage the last one does not need); the hover shows the first 12 hex digits of the step's cache key."""
    steps = sim.steps
    names = [f"{i + 1}. {_short(s.instr.text)}" for i, s in enumerate(steps)]
    sizes = [max(s.size_mb + s.download_mb * (s.instr.cmd == "FROM"), 0.001) for s in steps]
    state = [labels["skipped"] if not s.used else labels["cached"] if s.cached else labels["rebuilt"]
             for s in steps]
    colours = ["rgb(190,190,190)" if not s.used else CACHED if s.cached else REBUILT for s in steps]
    hover = [f"{labels['key']}: {s.key[:12]}<br>{labels['size']}: {s.size_mb:.3g} MB<br>{st}"
             for s, st in zip(steps, state)]
    fig = go.Figure(go.Bar(x=[round(v, 3) for v in sizes], y=names, orientation="h", marker_color=colours,
                           hovertext=hover, hoverinfo="text", text=state,
                           textposition="outside", cliponaxis=False))
    fig.update_layout(height=80 + 28 * len(steps), margin=dict(l=10, r=80, t=30, b=40), showlegend=False,
                      xaxis=dict(type="log", title=labels["size_axis"]),
                      yaxis=dict(autorange="reversed", automargin=True), title=labels["layers_title"])
    return fig


def plot_context(ctx: BuildContext, *, labels: dict[str, str]) -> go.Figure:
    """Two bars, MB sent to the builder without and with .dockerignore, plus the biggest ignored entries."""
    names = [labels["without"], labels["with"]] + [f"− {n}" for n, _ in ctx.ignored_top]
    values = [ctx.all_bytes / 2**20, ctx.total_bytes / 2**20] + [b / 2**20 for _, b in ctx.ignored_top]
    colours = [REBUILT, CACHED] + ["rgb(190,190,190)"] * len(ctx.ignored_top)
    fig = go.Figure(go.Bar(x=names, y=[round(v, 3) for v in values], marker_color=colours,
                           text=[f"{v:.2f} MB" for v in values], textposition="outside"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=40), yaxis_title="MB",
                      title=labels["context_title"])
    return fig
