"""Figures of the live WGAN-vs-GAN chapter: samples over the critic landscape, and curves per model."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from engine.figures.common import make_subplots

from engine.figures.common import lab
from engine.generative.gan2d import Snapshot, loss_signal

COLORS = {"gan": "#d62728", "wgan": "#1f77b4", "wgan-gp": "#2ca02c"}



def plot_model(snap: Snapshot, labels: dict | None = None, height: int = 360) -> go.Figure:
    """D's landscape as a heatmap (σ(D) for the GAN, the critic f for WGANs), real points in grey,
    generated points in the model's colour, mode centres as crosses."""
    land_name = lab(labels, "landscape_gan" if snap.loss == "gan" else "landscape_critic", "D")
    fig = go.Figure(go.Heatmap(x=snap.grid_x, y=snap.grid_x, z=snap.landscape, colorscale="RdBu_r",
                               showscale=True, colorbar=dict(title=land_name, thickness=10, len=0.8),
                               **({"zmin": 0.0, "zmax": 1.0} if snap.loss == "gan" else {}), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=snap.real[:, 0], y=snap.real[:, 1], mode="markers", name=lab(labels, "real", "real"),
                             marker=dict(size=3, color="rgba(60,60,60,0.45)")))
    fig.add_trace(go.Scatter(x=snap.samples[:, 0], y=snap.samples[:, 1], mode="markers",
                             name=lab(labels, "fake", "G(z)"),
                             marker=dict(size=4, color=COLORS.get(snap.loss, "black"), line=dict(width=0.5, color="white"))))
    fig.add_trace(go.Scatter(x=snap.centres[:, 0], y=snap.centres[:, 1], mode="markers",
                             name=lab(labels, "modes", "modes"),
                             marker=dict(symbol="x", size=9, color=["black" if c else "orange" for c in snap.covered])))
    lim = [float(snap.grid_x[0]), float(snap.grid_x[-1])]
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5), showlegend=False,
                      title=dict(text=lab(labels, snap.loss, snap.loss), font=dict(size=14)),
                      # both axes keep the map's square: on y alone the range grew and left a gap above the ticks
                      xaxis=dict(range=lim, constrain="domain"),
                      yaxis=dict(range=lim, scaleanchor="x", constrain="domain"))
    return fig


def plot_curves(snaps: dict[str, Snapshot], labels: dict | None = None) -> go.Figure:
    """Three panels over generator steps: what D's loss says (GAN: L_D; WGANs: −L_D, the critic's estimate of
    W1), the true W1 between samples and target, and modes covered."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=(lab(labels, "loss_panel", "loss"),
                                                        lab(labels, "w1_panel", "W1"),
                                                        lab(labels, "modes_panel", "modes")))
    for name, s in snaps.items():
        c = COLORS.get(name, "black")
        y = loss_signal(s)
        label = lab(labels, name, name)
        fig.add_trace(go.Scatter(x=s.hist_step, y=y, name=label, line=dict(color=c), legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=s.hist_step, y=s.hist_w1, name=label, line=dict(color=c), legendgroup=name,
                                 showlegend=False), 1, 2)
        fig.add_trace(go.Scatter(x=s.hist_step, y=s.hist_modes, name=label, line=dict(color=c, shape="hv"),
                                 legendgroup=name, showlegend=False), 1, 3)
    fig.update_xaxes(title_text=lab(labels, "step", "generator step"))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def plot_tracking(snap: Snapshot, labels: dict | None = None) -> go.Figure:
    """One model: its loss signal (x) against the true sample W1 (y) at every snapshot. A tight increasing
    cloud means the loss tracks sample quality."""
    fig = go.Figure(go.Scatter(x=loss_signal(snap), y=snap.hist_w1, mode="markers",
                               marker=dict(color=snap.hist_step, colorscale="Viridis", size=6,
                                           colorbar=dict(title=lab(labels, "step", "step"), thickness=8))))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10),
                      title=dict(text=lab(labels, snap.loss, snap.loss), font=dict(size=13)),
                      xaxis_title=lab(labels, "loss_gan" if snap.loss == "gan" else "loss_wgan", "loss"),
                      yaxis_title="W1")
    return fig
