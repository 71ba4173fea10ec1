"""Log axes labelled with whole numbers (shared by chapters' figures).

plotly's own labels on a log axis spanning less than two decades abbreviate the in-between ticks to their leading
digit ("2 10 5 2 1 5", "9 8 7 6 5 4 3"), which a reader cannot decode; `common.decades` keeps those digits for
short spans. `log_axis` writes every label as a full number instead.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go


def log_ticks(values) -> list[float]:
    """Tick values for a log axis over `values`: powers of ten when the positive finite values span two decades or
    more, else the 1-2-5 sequence (0.02, 0.05, 0.1, 0.2, …); plotly shows only those inside the range."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    span = float(np.log10(v.max() / v.min())) if len(v) else 3.0
    mant = (1,) if span >= 2 else (1, 2, 5)
    return [m * 10.0 ** e for e in range(-9, 10) for m in mant]


def log_axis(fig: go.Figure, values, axis: str = "y", row=None, col=None) -> go.Figure:
    """Make `axis` ("x" or "y") of `fig` (or of subplot row/col) logarithmic with full-number labels."""
    ticks = log_ticks(values)
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], row=row, col=col)
    return fig
