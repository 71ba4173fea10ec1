"""Shared figure helpers (engine/figures/common.py): what they send equals what the engine computed."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from engine.figures import common as C


def test_heat_traces_picture_and_hover_grid_come_from_the_array():
    yy, xx = np.mgrid[0:50, 0:300]
    z = 2.5 * np.sin(xx / 40) * np.cos(yy / 15)           # smooth, like a spectrogram at display size
    traces, images = C.heat_traces(z, np.arange(300) * 0.01, np.arange(50) * 2.0, colorscale="Viridis",
                                   zmin=-3, zmax=3, hovertemplate="%{z}")
    pic = np.asarray(Image.open(io.BytesIO(base64.b64decode(images[0]["source"].split(",", 1)[1]))))
    assert pic.shape[:2] == (50, 300)                              # one pixel per cell (under the pixel cap)
    lut = C.colour_lut("Viridis")
    expected = lut[np.clip((z - -3) / 6 * 255, 0, 255).astype(np.uint8)][::-1]   # top row = highest y
    assert np.abs(pic.astype(int) - expected.astype(int)).mean() < 6   # JPEG: close, not exact
    hover = np.asarray(traces[0].z)
    assert hover.shape == (16, 60)                                 # ≤ 24 × 64 cells: blocks of 3 × 5
    np.testing.assert_allclose(hover, z[:48].reshape(16, 3, 60, 5).mean(axis=(1, 3)), atol=0.051)
    assert images[0]["sizex"] == 3.0 and images[0]["sizey"] == 100.0


def test_decades_labels_powers_of_ten_only_and_sci_tex():
    fig = C.decades(go.Figure(go.Scatter(x=[1, 10, 1000], y=[1, 2, 3]), layout=dict(xaxis_type="log", yaxis_type="linear")))
    assert fig.layout.xaxis.dtick == 1 and fig.layout.yaxis.dtick is None
    narrow = C.decades(go.Figure(go.Scatter(x=[1, 4.3], y=[1, 2]), layout=dict(xaxis_type="log")))
    assert narrow.layout.xaxis.dtick == "D2"                      # within a decade: 1, 2, 5 labelled
    assert C.sci_tex(0.00282) == r"2.82\times10^{-3}" and C.sci_tex(0.5) == "0.5"
