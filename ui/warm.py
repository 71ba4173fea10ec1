"""No cold start for the first reader: once the server has run the app once, a background thread imports the heavy
libraries and loads the shared models, so a reader who lands on Home and then opens a chapter finds them ready.

Started once per process (`st.cache_resource`), a second after the first script run so that Home itself is not
slowed; it only imports modules and fills the same `st.cache_resource` caches the pages use (the models stay
read-only and shared), and changes no setting; at the end it freezes the objects it made (`gc.freeze()`, once per
process) so that full garbage collections skip them. Works wherever app.py runs: `python app.py`, Docker, Streamlit
Community Cloud. A failure (no weights offline, say) is kept for the page that needs it to report."""
from __future__ import annotations

import gc
import importlib
import threading
import time

import streamlit as st

DELAY_S = 1.0
# Imported here, in the script's own thread, before the warm-up thread starts: plotly looks pandas and PIL up in
# sys.modules directly (without the import lock), so a page drawing a figure while another thread was half-way
# through importing pandas saw a partially initialised module ("pandas has no attribute Series").
IN_THREAD_FIRST = ("pandas", "PIL.Image")
# What the chapters import on their first run, heaviest first (torch ~0.5 GB RSS, torchvision ~2 s, shap ~3 s).
MODULES = ("torch", "torchvision", "engine.common.classifier", "lime.lime_image", "lime.lime_tabular", "shap",
           "sklearn.linear_model", "skimage.segmentation")


def _bert_defaults() -> None:
    """What the BERT page computes at its defaults whatever the reader types (~4 s on 2 cores): the fine-tuning
    curve on MiniLM's sentence vectors and the tiny model's corpus, both in the page's own caches."""
    from engine.language.bert import PretrainConfig
    from ui import bert
    bert.finetune()
    cfg = PretrainConfig()
    bert.tiny_data(cfg.vocab_cap, cfg.max_sentences, None)


def _loaders():
    """The shared models the pages load through `st.cache_resource` (in the order readers most often meet them),
    then the input-independent work of the slowest first runs (BERT's, and Grad-CAM's at its defaults)."""
    from ui import bert, gradcam, models
    return (models.mobilenet_v2, models.imagenet_categories, bert.minilm, _bert_defaults, gradcam.warm_defaults)


@st.cache_resource(show_spinner=False)
def start() -> dict:
    """Start the warm-up once per process; returns its status dict (`done`, `seconds`, `errors`)."""
    status: dict = {"done": False, "seconds": 0.0, "errors": {}}
    for name in IN_THREAD_FIRST:
        importlib.import_module(name)

    def work() -> None:
        time.sleep(DELAY_S)
        t0 = time.perf_counter()
        for name in MODULES:
            try:
                importlib.import_module(name)
            except Exception as err:  # noqa: BLE001 — a page importing it will show the real error
                status["errors"][name] = repr(err)
        for load in _loaders():
            try:
                load()
            except Exception as err:  # noqa: BLE001 — e.g. weights unavailable offline: the page says so
                status["errors"][load.__name__] = repr(err)
        # Everything loaded so far lives as long as the process: out of the collector's sight, an automatic full
        # collection scans only what readers' runs create (~0.3 s → ~0 with ~570 000 objects).
        gc.freeze()
        status["seconds"] = time.perf_counter() - t0
        status["done"] = True

    threading.Thread(target=work, name="kicks-warm-up", daemon=True).start()
    return status
