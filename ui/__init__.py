"""Shared Streamlit helpers: language, input pickers, source viewer. Pages import from here only."""
from __future__ import annotations

import functools
import inspect

import streamlit as st

from ui import urlguard  # noqa: F401 — a link's non-finite number is ignored, not an exception (Streamlit 1.67)
from ui.i18n import DEFAULT_LANG, LANGS, lookup, table

LANG_NAMES = {"en": "English", "ja": "日本語"}


def lang() -> str:
    """The reader's language: session state, else `?lang=` in the URL, else English."""
    ss = st.session_state
    if ss.get("lang") not in LANGS:
        q = st.query_params.get("lang", DEFAULT_LANG)
        ss["lang"] = q if q in LANGS else DEFAULT_LANG
    return ss["lang"]


def t(key: str, **fmt) -> str:
    """The text of `key` in the reader's language, `{placeholders}` filled from `fmt`."""
    text = lookup(key, lang())
    return text.format(**fmt) if fmt else text


def labels(key: str) -> dict[str, str]:
    """All strings of the table `key` in the reader's language: the `labels=` argument of figure builders."""
    return table(key, lang())


def fmt(prefix: str):
    """A `format_func` for widgets: option `o` → `t(f"{prefix}.{o}")`, bound to the current language
    (AppTest calls format_func outside the script run, where session state is not readable)."""
    current = lang()
    return lambda option: lookup(f"{prefix}.{option}", current)


def chapter_page(section: str, stem: str) -> st.Page:
    """The `st.Page` of a chapter, titled in the reader's language (app.py's navigation and Home's links)."""
    from ui.chapters import page_path
    return st.Page(page_path(section, stem), title=t(f"{stem}.title"), url_path=stem)


def practice_page() -> st.Page:
    """The Practice page (app.py's navigation, Home's link)."""
    from ui.chapters import PAGES
    return st.Page(PAGES / "practice.py", title=t("practice.title"), icon=":material/quiz:", url_path="practice")


LANG_WIDGET = "_lang_widget"


def _on_lang_change() -> None:
    """Callback (runs before the script, where widget state may be written): adopt the new language,
    or re-select the current one when a click on it deselected it."""
    choice = st.session_state.get(LANG_WIDGET)
    if choice in LANGS:
        st.session_state["lang"] = choice
    else:
        st.session_state[LANG_WIDGET] = lang()


def lang_ui() -> str:
    """Sidebar language switch; keeps `?lang=` in the URL so links can be shared. Rendered by app.py.

    The chosen language lives in session state under "lang", apart from the widget's own key, so it can
    be set from the URL or the callback without touching an instantiated widget."""
    current = lang()
    if st.session_state.get(LANG_WIDGET) != current:
        st.session_state[LANG_WIDGET] = current       # before the widget exists in this run: allowed
    st.sidebar.segmented_control("Language / 言語", LANGS, format_func=LANG_NAMES.get, key=LANG_WIDGET,
                                 selection_mode="single", on_change=_on_lang_change)
    st.query_params["lang"] = current
    return current


def formula(key: str, **values) -> None:
    """Render the LaTeX string `t(key)` (from the language table, or the neutral [tex] one). `<<name>>` tokens are
    replaced by `values[name]` (LaTeX's own braces rule out `{name}`), so a formula can show the widgets' values."""
    tex = t(key)
    for name, value in values.items():
        tex = tex.replace(f"<<{name}>>", str(value))
    st.latex(tex)


def show_source(obj, label_key: str = "common.show_source") -> None:
    """An expander with the source code of an engine function or class."""
    with st.expander(t(label_key, name=getattr(obj, "__qualname__", str(obj)))):
        try:
            text = _source(obj)
        except TypeError:                      # an unhashable object: read it every time
            text = inspect.getsource(obj)
        st.code(text, language="python")


@functools.lru_cache(maxsize=512)
def _source(obj) -> str:
    """inspect.getsource, once per object: it re-reads and re-tokenises the module every time (~5 ms, several per
    page run); a reloaded module brings new objects, so an edited source shows."""
    return inspect.getsource(obj)


def signed(value: float, spec: str = ".1f", unit: str = "") -> str:
    """A `st.metric` delta: Streamlit reads its direction from the first character ("-" down, anything else up)
    and only "0" as no change, so the sign comes first and a value that rounds to zero is "0" (no arrow)."""
    text = f"{value:+{spec}}"
    return "0" if float(text) == 0 else text + unit


from ui.inputs import AudioClip, audio_input_ui, image_input_ui, show_upload_error  # noqa: E402

__all__ = ["AudioClip", "audio_input_ui", "chapter_page", "practice_page", "fmt", "formula", "image_input_ui", "labels", "lang", "lang_ui",
           "show_source", "show_upload_error", "signed", "t"]
