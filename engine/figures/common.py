"""Colour scales shared by the figure builders.

Named scales whose first stop is near-black hex (Magma, Inferno: "#000004") were drawn pink by the plotly.js
that Streamlit ships; the same scales given as explicit rgb() stops render correctly.
"""
from __future__ import annotations

from plotly.colors import hex_to_rgb, sequential


def rgb_scale(name: str) -> list[list]:
    """plotly's sequential scale `name` as [[position, "rgb(r, g, b)"], ...]."""
    stops = getattr(sequential, name)
    return [[i / (len(stops) - 1), "rgb({}, {}, {})".format(*hex_to_rgb(c))] for i, c in enumerate(stops)]


MAGMA = rgb_scale("Magma")
INFERNO = rgb_scale("Inferno")
