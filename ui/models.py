"""Shared models, loaded once per process (`st.cache_resource`) and never mutated per request.

Pages get the model object and pass it to engine functions, which run the trunk explicitly and differentiate with
`torch.autograd.grad` (no hooks), so many sessions can use one model at the same time.
"""
from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner=False)
def mobilenet_v2():
    """torchvision MobileNetV2, IMAGENET1K_V1 weights, eval mode, frozen parameters."""
    from engine.common import classifier

    return classifier.load_mobilenet_v2()


@st.cache_resource(show_spinner=False)
def efficientnet_lite0():
    """EfficientNet-Lite0 (optional second architecture), same input tensor and class order as MobileNetV2."""
    from engine.common import classifier

    return classifier.load_efficientnet_lite0()


MODELS = {"mobilenet_v2": mobilenet_v2, "efficientnet_lite0": efficientnet_lite0}


@st.cache_resource(show_spinner=False)
def imagenet_categories() -> tuple[str, ...]:
    from engine.common import classifier

    return tuple(classifier.categories())


def imagenet_names_note() -> None:
    """Say once, under a class picker, that ImageNet's class names stay English (there is no official Japanese set)."""
    from ui import t

    st.caption(t("common.shared.imagenet_names"))


def mobilenet_or_error(name: str = "mobilenet_v2"):
    """The shared model `name` (see MODELS), or None with the reason shown on the page (no weights, no network)."""
    from engine.common.classifier import WeightsUnavailable
    from ui import t, warm

    try:   # a moving bar while a server that has just started loads it (issue #29)
        return warm.wait_for(MODELS[name], what=t(f"common.shared.model.{name}"), expect_s=1.5)
    except WeightsUnavailable as err:
        st.error(t("common.shared.no_weights", reason=str(err)), icon=":material/warning:")
        return None


def classified_image_ui(stem: str, k: int = 5):
    """The shared model, the image picker and the model's top-k on the small input (LIME / SHAP pages):
    (model, photo, top), or None with the reason already shown on the page."""
    from engine.common import classifier
    from ui import image_input_ui

    model = mobilenet_or_error()
    image = image_input_ui(stem)
    if model is None or image is None:
        return None
    photo = classifier.preprocess(image, size=classifier.SMALL_INPUT)
    from ui import t
    # the same photo reads differently at another size: say why the confidence is not Grad-CAM's
    st.caption(t("common.shared.small_input", px=classifier.SMALL_INPUT))
    return model, photo, classifier.top_k(model, photo.x, k=k)


@st.cache_resource(show_spinner=False)
def breast_cancer_task():
    """The tabular task shared by the LIME and SHAP pages (fitted once per process)."""
    from engine.common import classifier

    return classifier.breast_cancer_task()


def cancer_name(name: str, kind: str = "features") -> str:
    """A feature or class name of that task in the reader's language, scikit-learn's name in brackets where the
    language's differs ("半径（平均） (mean radius)"); `kind` is "features" or "classes"."""
    from ui import t

    shown = t(f"common.cancer.{kind}.{name.replace(' ', '_')}")
    return name if shown == name else f"{shown} ({name})"


class _ResultStore:
    """A small process-wide LRU of finished explanations, keyed by (what, image hash, settings). Unlike
    `st.cache_data` it lets the computation drive a progress bar created on the page. Each key is computed once
    among readers (and the warm-up) asking for it at the same time (`flights`, ui/flight.py)."""

    def __init__(self, max_entries: int = 48):
        import threading
        from collections import OrderedDict

        from ui.flight import SingleFlight

        self.max_entries = max_entries
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.flights = SingleFlight()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.max_entries:
                self.items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _results() -> _ResultStore:
    return _ResultStore()


def array_key(a) -> str:
    """A short content hash of an array (part of a cache key)."""
    import hashlib

    import numpy as np

    a = np.ascontiguousarray(a)
    return hashlib.blake2b(a.tobytes() + repr((a.shape, a.dtype.str)).encode(), digest_size=16).hexdigest()


def prefill(key: tuple, compute) -> None:
    """`compute` into the same store without a progress bar (no page to draw it on: the warm-up thread); a reader
    who asks for the key meanwhile waits for it, watching its progress."""
    store = _results()
    store.flights.do(key, lookup=store.get, compute=compute, store=store.put)


def cached_with_progress(key: tuple, compute, text: str):
    """`compute(progress)` once per key (progress(fraction) drives a bar on the page); later calls with the same
    key return the stored result at once, so moving an unrelated slider never recomputes. A reader who asks while
    another reader (or the warm-up) computes it sees that computation's progress and gets its result."""
    store = _results()
    hit = store.get(key)
    if hit is not None:
        return hit
    bar = st.progress(0.0, text=text)
    result = store.flights.do(key, lookup=store.get, compute=compute, store=store.put,
                              progress=lambda f: bar.progress(f, text=text),
                              waiting=lambda f: bar.progress(f, text=text))
    bar.empty()
    return result
