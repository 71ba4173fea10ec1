"""Shared models, loaded once per process (`st.cache_resource`) and never mutated per request.

Pages get the model object and pass it to engine functions, which run the trunk explicitly and differentiate with
`torch.autograd.grad` (no hooks), so many sessions can use one model at the same time.
"""
from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner=False)
def mobilenet_v2():
    """torchvision MobileNetV2, IMAGENET1K_V1 weights, eval mode, frozen parameters."""
    from engine import classifier

    return classifier.load_mobilenet_v2()


@st.cache_resource(show_spinner=False)
def imagenet_categories() -> tuple[str, ...]:
    from engine import classifier

    return tuple(classifier.categories())


def mobilenet_or_error():
    """The shared model, or None with the reason shown on the page (no weights and no network)."""
    from engine.classifier import WeightsUnavailable
    from ui import t

    try:
        with st.spinner(t("gradcam.loading_model")):
            return mobilenet_v2()
    except WeightsUnavailable as err:
        st.error(t("gradcam.no_weights", reason=str(err)), icon="⚠️")
        return None
