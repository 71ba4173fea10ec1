"""No cold start for the first reader: once the server has run the app once, a background thread imports the heavy
libraries and loads the shared models, so a reader who lands on Home and then opens a chapter finds them ready.

Started once per process (`st.cache_resource`), a second after the first script run so that Home itself is not
slowed; it only imports modules and fills the same `st.cache_resource` caches the pages use (the models stay
read-only and shared), and changes no setting; at the end it freezes the objects it made (`gc.freeze()`, once per
process) so that full garbage collections skip them. Works wherever app.py runs: `python app.py`, Docker, Streamlit
Community Cloud. A failure (no weights offline, say) is kept for the page that needs it to report.

A class arriving at a server that has just started (issue #29): twenty readers opening five chapters at once waited
up to ~50 s for a first page while the warm-up loaded, for every chapter, what only some need. So the warm-up gives
way to readers: between two steps it waits while a reader's script run is in progress (`reader_run`, app.py), up
to YIELD_S a step; each chapter loads what it needs when asked, once (imports, `st.cache_resource` and the
explanation store are single-flight), and the warm-up fills in the rest when the server is quiet. And a reader
never faces a page that does nothing: the first run of a chapter after a start imports what the page imports in a
helper thread while the page shows a progress bar naming the library being loaded (`loading_ui`)."""
from __future__ import annotations

import ast
import gc
import importlib
import math
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

DELAY_S = 1.0
YIELD_S = 20.0           # the longest the warm-up waits for readers' runs to end before its next step
SHOW_AFTER_S = 0.3       # loading_ui shows its bar only for imports that take longer than this
# What a reader may see loading, by top-level package (the first one being imported names the wait).
LIBRARIES = {"torch": "PyTorch", "torchvision": "torchvision", "transformers": "Transformers", "shap": "SHAP",
             "lime": "LIME", "sklearn": "scikit-learn", "skimage": "scikit-image", "scipy": "SciPy",
             "pandas": "pandas", "plotly": "Plotly", "PIL": "Pillow", "numpy": "NumPy"}
# Imported here, in the script's own thread, before the warm-up thread starts: plotly looks pandas and PIL up in
# sys.modules directly (without the import lock), so a page drawing a figure while another thread was half-way
# through importing pandas saw a partially initialised module ("pandas has no attribute Series").
IN_THREAD_FIRST = ("pandas", "PIL.Image")
# What the chapters import on their first run, heaviest first (torch ~0.5 GB RSS, torchvision ~2 s, shap ~3 s).
# scipy.stats (~1 s): GPT-3's power-law fit, CFR, the practice. Not torch._dynamo: no chapter builds a `torch.optim`
# optimiser any more (engine/common/optim.py; a test keeps it so), whose first one imported it (~3–6 s, ~150 MB).
MODULES = ("torch", "torchvision", "engine.common.classifier", "lime.lime_image", "lime.lime_tabular", "shap",
           "sklearn.linear_model", "skimage.segmentation", "scipy.stats")


def preload() -> float:
    """`python app.py` only (the launcher, before the server opens its port): import the heavy libraries every chapter
    shares, so a class that arrives the moment the server answers finds them loaded (issue #29: a cold first page
    waited ~15 s, most of it for torch, torchvision, LIME and SHAP to import while twenty readers' runs competed for
    the same two cores). The server answers ~10 s later instead; under `streamlit run app.py` (Community Cloud) the
    script runs only once a reader has come, so there the warm-up thread and `loading_ui` remain. Off with
    KICKS_PRELOAD=0. Returns the seconds it took."""
    t0 = time.perf_counter()
    for name in (*IN_THREAD_FIRST, *MODULES):
        try:
            importlib.import_module(name)
        except Exception:                   # the page that needs it reports the failure in the reader's language
            pass
    return time.perf_counter() - t0


def _bert_defaults() -> None:
    """What the BERT page computes at its defaults whatever the reader types (~4 s on 2 cores): the fine-tuning
    curve on MiniLM's sentence vectors and the tiny model's corpus, both in the page's own caches."""
    from engine.language.bert import PretrainConfig
    from ui import bert
    bert.finetune()
    cfg = PretrainConfig()
    bert.tiny_data(cfg.vocab_cap, cfg.max_sentences, None)


def _compression_defaults() -> None:
    """The compression chapter's base network, trained once per process (2–5 s) before any of its sections draws."""
    from engine.engineering.compression import trained_weights
    trained_weights(0)


def _docker_defaults() -> None:
    """The Docker chapter's walk of the project tree (its build context), once per process."""
    from engine.engineering.docker import project_files
    project_files()


def _loaders():
    """The shared models the pages load through `st.cache_resource` (in the order readers most often meet them),
    then the input-independent work of the slowest first runs (BERT's, and Grad-CAM's at its defaults)."""
    from ui import bert, gradcam, models
    return (models.mobilenet_v2, models.imagenet_categories, bert.minilm, _bert_defaults, gradcam.warm_defaults,
            _compression_defaults, _docker_defaults)


_READERS = [0]                     # readers' script runs in progress (app.py wraps each page run in reader_run)
_READERS_LOCK = threading.Lock()


@contextmanager
def reader_run():
    """Around a reader's page run: the warm-up does not start a step while one is in progress."""
    with _READERS_LOCK:
        _READERS[0] += 1
    try:
        yield
    finally:
        with _READERS_LOCK:
            _READERS[0] -= 1


def _give_way(status: dict) -> None:
    """Wait (up to YIELD_S) until no reader's run is in progress; the time waited adds to status["yielded_s"]."""
    t0 = time.perf_counter()
    while _READERS[0] > 0 and time.perf_counter() - t0 < YIELD_S:
        time.sleep(0.1)
    status["yielded_s"] += time.perf_counter() - t0


@st.cache_resource(show_spinner=False)
def start() -> dict:
    """Start the warm-up once per process; returns its status dict (`done`, `seconds` of work, `yielded_s` waited
    for readers, `steps` {name: seconds}, `errors`)."""
    status: dict = {"done": False, "seconds": 0.0, "yielded_s": 0.0, "steps": {}, "errors": {}}
    for name in IN_THREAD_FIRST:
        importlib.import_module(name)

    def step(name: str, fn) -> None:
        _give_way(status)
        t1 = time.perf_counter()
        try:
            fn()
        except Exception as err:  # noqa: BLE001 — a page importing or loading it will show the real error
            status["errors"][name] = repr(err)
        status["steps"][name] = time.perf_counter() - t1

    def work() -> None:
        time.sleep(DELAY_S)
        t0 = time.perf_counter()
        for name in MODULES:
            step(name, lambda name=name: importlib.import_module(name))
        for load in _loaders():
            step(load.__name__, load)
        # Everything loaded so far lives as long as the process: out of the collector's sight, an automatic full
        # collection scans only what readers' runs create (~0.3 s → ~0 with ~570 000 objects).
        gc.freeze()
        status["seconds"] = time.perf_counter() - t0 - status["yielded_s"]
        status["done"] = True

    threading.Thread(target=work, name="kicks-warm-up", daemon=True).start()
    return status


# ------------------------------------------------------------------------------- a chapter's first run
_IMPORTED: set[str] = set()        # page files whose imports a loading_ui pass has completed in this process


def page_imports(path: str | Path) -> tuple[str, ...]:
    """The modules a page script imports at its top level (in `if` / `try` / `with` blocks too, not inside
    functions), in order: `import a.b` gives "a.b", `from a import b` gives "a" and "a.b" (b may be a module)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    out: list[str] = []

    def visit(body) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                out.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.append(node.module)
                out.extend(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return tuple(dict.fromkeys(out))


def _importing(name: str) -> bool:
    """`name` is in sys.modules but still being imported (by some thread)."""
    spec = getattr(sys.modules.get(name), "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _run_with_bar(work, name: str, shown) -> None:
    """`work()` in a helper thread; from SHOW_AFTER_S on, every quarter second, a progress bar at `shown(elapsed)`
    = (position, text); the bar goes when the work ends."""
    helper = threading.Thread(target=work, name=name, daemon=True)
    t0 = time.perf_counter()
    helper.start()
    bar = None
    while True:
        helper.join(0.25)
        if not helper.is_alive():
            break
        elapsed = time.perf_counter() - t0
        if elapsed < SHOW_AFTER_S:
            continue
        frac, text = shown(elapsed)
        if bar is None:
            bar = st.progress(frac, text=text)
        else:
            bar.progress(frac, text=text)
    if bar is not None:
        bar.empty()


def loading_ui(path) -> None:
    """Before a page's first run in this process (`path`: its file; anything else is ignored): import what the page imports in a helper thread, and while that
    takes longer than SHOW_AFTER_S show a progress bar naming the library being loaded and how far the page's
    imports are ("Starting up: loading PyTorch — 2 of 9, 12 s"), instead of a page that does nothing. Readers who
    arrive at once share the imports (Python's import lock); a failing import is left for the page to report."""
    if not isinstance(path, (str, Path)) or str(path) in _IMPORTED or not Path(path).is_file():
        return
    from ui import t

    names = page_imports(path)
    where = {"i": 0}

    def work() -> None:
        for i, name in enumerate(names):
            where["i"] = i
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 — `from a import b` where b is not a module, or a real error
                pass

    def shown(elapsed: float) -> tuple[float, str]:
        i = where["i"]
        what = next((label for lib, label in LIBRARIES.items() if _importing(lib)), names[i].split(".")[0])
        return i / len(names), t("common.shared.starting_up", what=what, n=i + 1, total=len(names), s=round(elapsed))

    _run_with_bar(work, "kicks-page-imports", shown)
    _IMPORTED.add(str(path))


# ------------------------------------------------------------------------------- a long first computation
def wait_for(fn, *args, what: str, expect_s: float = 3.0, **kwargs):
    """`fn(*args, **kwargs)`, run in a helper thread while the page shows, after SHOW_AFTER_S, a progress bar that
    moves every quarter second: "Preparing {what} (12 s so far; once per server, shared by every reader)". For the
    few first computations that every reader of a chapter waits on (single-flight in the engine or in a Streamlit
    cache, often already started by the warm-up): on a server that has just started they take tens of seconds
    under a class's load, and a page that says nothing for that long looks broken (issue #29). The bar's position
    is 1 − exp(−t / expect_s) (how long it takes alone on a quiet server): it moves, never claims to be done.
    `fn` must not draw anything (it runs without the page's context). Returns its result, raises its exception;
    if the reader leaves, the work still finishes for the next one."""
    from ui import t

    box: dict = {}

    def work() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 — re-raised in the page's thread
            box["error"] = err

    def shown(elapsed: float) -> tuple[float, str]:
        return 1.0 - math.exp(-elapsed / max(expect_s, 0.1)), t("common.shared.preparing", what=what, s=round(elapsed))

    _run_with_bar(work, "kicks-first-computation", shown)
    if "error" in box:
        raise box["error"]
    return box["value"]
