"""The Grad-CAM page's computations, cached per process in `ui.models`' result store (a progress bar the first
time), and `warm_defaults()`: the page's first run at its defaults, which the warm-up (ui/warm.py) does before
the first reader arrives."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import streamlit as st

from engine.common import classifier
from engine.explainability import gradcam
from ui import t
from ui.models import array_key, cached_with_progress, prefill

MAPS = gradcam.METHODS
PATCH = 16   # px: the deletion curve removes 16×16 blocks (see gradcam.deletion_curve)
N_RANDOM = 4  # random orders averaged into the deletion test's reference curve
DELETION_CASES = (gradcam.DELETION_LESSON, gradcam.DELETION_COUNTER, "yours")
SANITY_METHOD = 1       # defaults of the page's widgets (index into MAPS, randomised blocks, deletion steps)
SANITY_STEPS = 2
DELETION_STEPS = 8

Job = tuple[tuple, Callable[[Callable[[float], None]], Any]]      # (cache key, compute(progress))


def _family(model, arch: str, rgb: np.ndarray, layer: str, target: int) -> Job:
    return (("gradcam.family", arch, array_key(rgb), layer, target),
            lambda progress: gradcam.explain_family(model, layer, classifier.to_tensor(rgb), target, progress=progress))


def _sanity(model, arch: str, rgb: np.ndarray, layer: str, target: int, method: str, steps: int) -> Job:
    return (("gradcam.sanity", arch, array_key(rgb), layer, target, method, steps),
            lambda progress: gradcam.sanity_check(model, layer, classifier.to_tensor(rgb), target, method,
                                                  steps=steps, seed=0, progress=progress))


def _deletion(model, arch: str, rgb: np.ndarray, layer: str, target: int, steps: int) -> Job:
    return (("gradcam.deletion", arch, array_key(rgb), layer, target, steps),
            lambda progress: gradcam.deletion_comparison(model, layer, classifier.to_tensor(rgb), target, steps, PATCH,
                                                         np.random.default_rng(0), n_random=N_RANDOM,
                                                         progress=progress))


def explain(model, arch: str, rgb: np.ndarray, layer: str, target: int):
    """Every map of the family for one (image, layer, class); opacity/colour never recompute."""
    return cached_with_progress(*_family(model, arch, rgb, layer, target), t("gradcam.progress.family", layer=layer))


def sanity(model, arch: str, rgb: np.ndarray, layer: str, target: int, method: str, steps: int):
    return cached_with_progress(*_sanity(model, arch, rgb, layer, target, method, steps),
                                t("gradcam.progress.sanity", steps=steps))


def deletion(model, arch: str, rgb: np.ndarray, layer: str, target: int, steps: int):
    return cached_with_progress(*_deletion(model, arch, rgb, layer, target, steps),
                                t("gradcam.progress.deletion", n=len(MAPS), r=N_RANDOM))


@st.cache_data(max_entries=4, show_spinner=False)
def sample_photo(name: str) -> np.ndarray:
    """A scikit-image photo at the model's input (H, W, 3) uint8, for the deletion test's fixed cases."""
    from ui.inputs import sample_image
    return classifier.preprocess(sample_image(name)).rgb


def top1(model, rgb: np.ndarray) -> int:
    """The model's own top-1 class on a photo (what the deletion test explains on its fixed cases)."""
    return int(classifier.top_k(model, classifier.to_tensor(rgb), k=1).indices[0])


def warm_defaults() -> None:
    """What a first visitor's run computes before touching anything (~2 s on 2 cores): MobileNetV2 on the first
    sample photo at its last layer for its top-1 class, the sanity check and the deletion test at their defaults."""
    from ui.inputs import DEFAULT_IMAGES, sample_image
    from ui.models import mobilenet_v2

    model, arch = mobilenet_v2(), "mobilenet_v2"
    rgb = classifier.preprocess(sample_image(DEFAULT_IMAGES[0])).rgb
    layer = classifier.conv_layers(model)[-1]
    target = top1(model, rgb)
    prefill(*_family(model, arch, rgb, layer, target))
    prefill(*_sanity(model, arch, rgb, layer, target, MAPS[SANITY_METHOD], SANITY_STEPS))
    case = sample_photo(DELETION_CASES[0])
    prefill(*_deletion(model, arch, case, layer, top1(model, case), DELETION_STEPS))
