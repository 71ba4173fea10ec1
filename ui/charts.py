"""Charts that stay readable on a phone.

`panels(fig)` shows a one-row multi-panel figure (`make_subplots(rows=1, cols=n)`) as one chart per panel in
`st.columns`: side by side on a laptop, as the builder drew them; stacked, each at the full width, below ~640 px,
where Streamlit stacks columns (on a 390 px phone a 4-panel row left ~80 px per panel: titles over each other,
ticks colliding). The cut is `engine.figures.panels.split`; any other figure is shown as `st.plotly_chart` would.
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from engine.figures import panels as _panels


def panels(fig: go.Figure, key: str | None = None, **kwargs) -> None:
    """`fig` one panel per column (keys `key.0`, `key.1`, …), its layout title above them as a caption."""
    figs = _panels.split(fig)
    if len(figs) == 1:
        st.plotly_chart(fig, key=key, **kwargs)
        return
    title = _panels.title_text(fig)
    if title:
        st.markdown(f"**{_escape(title)}**")
    for i, (col, panel) in enumerate(zip(st.columns(_panels.widths(fig), gap="small"), figs)):
        with col:
            st.plotly_chart(panel, key=None if key is None else f"{key}.{i}", **kwargs)


def _escape(text: str) -> str:
    """Plain text shown by st.markdown as it is (no emphasis, links or LaTeX from the figure's title)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|$<>~" else c for c in text)
