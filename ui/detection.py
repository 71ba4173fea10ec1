"""Widgets and cached models shared by the detection chapters (boxes, roi, fcos); their words live in common.toml."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ui import t

MAX_SIDE = 320      # the working image: every detection page computes on the picture at this size
MIN_BOX = 4         # pixels: a box never collapses (sliders pushed to one end)


def working_image(img, max_side: int = MAX_SIDE) -> np.ndarray:
    """The picked image at most `max_side` pixels on its longer side, as (H, W, 3) uint8."""
    from PIL import Image

    scale = min(1.0, max_side / max(img.size))
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return np.asarray(img.convert("RGB").resize(size, Image.BILINEAR) if scale < 1 else img.convert("RGB"))


def box_ui(key: str, label: str, width: int, height: int, default: tuple[float, float, float, float],
           step: float = 1.0) -> tuple[float, float, float, float]:
    """A box (x1, y1, x2, y2) in pixels from two range sliders; `default` in fractions of the image.
    The image size is part of the widget key, so a new image starts from the default box."""
    fx1, fy1, fx2, fy2 = default
    st.markdown(f"**{label}**")
    c1, c2 = st.columns(2)
    xs = (float(round(fx1 * width)), float(round(fx2 * width)))
    ys = (float(round(fy1 * height)), float(round(fy2 * height)))
    x1, x2 = c1.slider(t("common.shared.x_range"), 0.0, float(width), xs, step, key=f"{key}.x.{width}x{height}",
                          bind="query-params")
    y1, y2 = c2.slider(t("common.shared.y_range"), 0.0, float(height), ys, step, key=f"{key}.y.{width}x{height}",
                          bind="query-params")
    picked = (x1, y1, x2, y2)
    (x1, x2), (y1, y2) = _at_least(x1, x2, width), _at_least(y1, y2, height)
    if (x1, y1, x2, y2) != picked:     # a side below the minimum: the areas shown are the widened box's, say so
        st.caption(t("common.shared.min_box", min=MIN_BOX, w=f"{x2 - x1:.0f}", h=f"{y2 - y1:.0f}"))
    return x1, y1, x2, y2


def _at_least(lo: float, hi: float, size: int) -> tuple[float, float]:
    """Widen [lo, hi] to MIN_BOX pixels inside [0, size]."""
    if hi - lo >= MIN_BOX:
        return float(lo), float(hi)
    hi = min(max(hi, lo + MIN_BOX), float(size))
    return float(max(0.0, hi - MIN_BOX)), float(hi)


@st.cache_resource(show_spinner=False)
def mobilenet_trunk():
    """MobileNetV2's first blocks with ImageNet weights (shared, read-only: eval mode, no hooks)."""
    from engine.detection import roi
    return roi.mobilenet_v2_trunk()


@st.cache_resource(show_spinner=False)
def maskrcnn_untrained():
    """torchvision's Mask R-CNN, weights=None (random): only its shapes are shown."""
    from engine.detection import roi
    return roi.maskrcnn_untrained()
