"""Log axes labelled with whole numbers (engine/figures/logaxis.py)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.figures.logaxis import log_axis, log_ticks


def test_two_decades_or_more_label_the_powers_of_ten():
    ticks = log_ticks([0.003, 0.5, 2.0])
    assert 0.01 in ticks and 0.1 in ticks and 1.0 in ticks
    assert not any(np.isclose(t, 0.2) or np.isclose(t, 5) for t in ticks)


def test_less_than_two_decades_label_1_2_5():
    ticks = log_ticks([0.021, 0.2125])
    for t in (0.02, 0.05, 0.1, 0.2):
        assert any(np.isclose(t, v) for v in ticks), t


def test_labels_are_whole_numbers_not_leading_digits():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0.02, 0.21]))
    log_axis(fig, [0.02, 0.21])
    text = list(fig.layout.yaxis.ticktext)
    assert fig.layout.yaxis.type == "log"
    assert "0.02" in text and "0.05" in text and "0.2" in text       # never a bare "2" or "5" for 0.02, 0.05


def test_one_subplot_only_and_no_data():
    fig = make_subplots(rows=1, cols=2)
    log_axis(fig, [], row=1, col=2)                                  # no values yet: decades
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis.type != "log"
    assert "1" in list(fig.layout.yaxis2.ticktext)
