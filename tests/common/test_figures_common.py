"""Shared figure helpers (engine/figures/common.py): what they send equals what the engine computed."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import pytest
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


SUBPLOT_CASES = [
    dict(rows=1, cols=3, subplot_titles=("a", "b", "c"), horizontal_spacing=0.08),
    dict(rows=2, cols=2, specs=[[{"secondary_y": True}, {}], [{"colspan": 2}, None]], vertical_spacing=0.1),
    dict(rows=1, cols=2, shared_yaxes=True, column_widths=[0.7, 0.3], subplot_titles=("左", "右")),
    dict(rows=3, cols=1, shared_xaxes=True, row_heights=[0.5, 0.25, 0.25], x_title="step", y_title="loss"),
    dict(rows=1, cols=2, specs=[[{"type": "xy"}, {"type": "domain"}]]),
]


@pytest.mark.parametrize("kwargs", SUBPLOT_CASES)
def test_cached_make_subplots_equals_plotlys(kwargs):
    """engine.figures.common.make_subplots (the grid's layout kept per argument set) against plotly's own: the same
    figure JSON, fresh and from the cache, the same grid, and traces and axes placed by row/col the same way; a
    figure changed by its caller leaves the next one untouched."""
    from plotly.subplots import make_subplots as plotlys

    from engine.figures.common import make_subplots

    def draw(make):
        fig = make(**kwargs)
        fig.add_trace(go.Scatter(x=[0, 1], y=[1, 2], name="t"), row=1, col=1)
        if kwargs.get("specs", [[{}]])[0][0].get("secondary_y"):
            fig.add_trace(go.Scatter(x=[0, 1], y=[3, 1]), row=1, col=1, secondary_y=True)
        fig.update_xaxes(title_text="x here", row=1, col=1)
        fig.update_layout(height=300)
        return fig

    want = draw(plotlys).to_plotly_json()
    for _ in range(2):                                   # a miss, then a hit
        got = draw(make_subplots)
        assert got.to_plotly_json() == want
        assert got._grid_ref == plotlys(**kwargs)._grid_ref
    fresh = make_subplots(**kwargs).to_plotly_json()
    assert fresh == plotlys(**kwargs).to_plotly_json()   # the changes above did not reach the cache
    assert make_subplots(2, 1).to_plotly_json() == plotlys(2, 1).to_plotly_json()   # positional arguments


def test_figure_modules_take_make_subplots_from_common():
    """Every figure builder uses the grid-caching make_subplots (plotly's own costs ~8 ms a figure per page run)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    direct = [str(p.relative_to(root)) for p in (root / "engine" / "figures").rglob("*.py")
              if p.name != "common.py" and "from plotly.subplots import" in p.read_text(encoding="utf-8")]
    assert direct == []
