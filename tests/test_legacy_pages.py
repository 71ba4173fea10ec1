"""Deep links in a server's first session under `streamlit run app.py` (Streamlit's legacy pages/-folder mode,
ui/legacy_pages.py): every built chapter has its stub pages/<stem>.py, Streamlit's legacy mode finds each under the
chapter's own URL, and a first run there draws the real page in app.py's frame without a "Page not found".
The same first visit in Chromium against `streamlit run app.py`: tests/test_browser.py."""
from __future__ import annotations

import ast

import pytest

from conftest import ROOT, assert_ok
from ui.chapters import PAGES, built_pages
from ui.legacy_pages import STUB

FRAMED = ("home.py", "practice.py")          # the real pages at pages/'s top level


def test_every_built_chapter_has_its_stub_and_nothing_else_is_at_the_top_level():
    """What Streamlit's legacy mode lists (streamlit.runtime.scriptrunner.script_runner._mpa_v1: pages/*.py, no
    dot files, no __init__.py) is Home, Practice and one identical stub per built chapter, named after its URL."""
    from streamlit.source_util import page_icon_and_name        # what st.Page infers a file's URL from

    listed = {p.name for p in PAGES.glob("*.py") if not p.name.startswith(".") and p.name != "__init__.py"}
    wanted = {f"{stem}.py" for _, stem, _ in built_pages()}
    missing, stale = wanted - listed, listed - wanted - set(FRAMED)
    assert not missing and not stale, f"run `python scripts/page_stubs.py` (missing {missing}, not chapters {stale})"
    assert not [n for n in wanted if (PAGES / n).read_text(encoding="utf-8") != STUB], "run scripts/page_stubs.py"
    # the legacy mode's URL for each stub is the chapter's URL in app.py's navigation (ui.chapter_page: the stem)
    assert [page_icon_and_name(PAGES / n)[1] for n in sorted(wanted)] == [n[:-3] for n in sorted(wanted)]


@pytest.mark.parametrize("name", FRAMED)
def test_home_and_practice_hand_a_legacy_run_to_app_py_first(name):
    """Their first statement after the imports is `if frame(): st.stop()` (nothing drawn before it)."""
    body = [n for n in ast.parse((PAGES / name).read_text(encoding="utf-8")).body
            if not isinstance(n, (ast.Import, ast.ImportFrom))
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]      # imports, docstring
    assert ast.unparse(body[0]) == "if frame():\n    st.stop()", ast.unparse(body[0])


@pytest.mark.parametrize("page,title,lang", [("pages/ctc.py", "CTC", "en"), ("pages/practice.py", "演習", "ja"),
                                             ("pages/home.py", "kicks — deep learning, moving", "en")])
def test_a_first_run_in_the_legacy_mode_draws_the_page_in_the_frame(monkeypatch, page, title, lang):
    """AppTest of app.py is a first session with pages/ beside it (it resets Streamlit's mode to "undecided"), so its
    first run is the legacy mode's; its first page is the URL's (by file name, as the legacy mode names pages).
    No "Page not found" is sent; the page's title and app.py's frame (the language switch) are drawn, once."""
    from streamlit.commands import navigation
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    sent = []
    monkeypatch.setattr(navigation, "send_page_not_found", lambda ctx: sent.append(ctx))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.switch_page(page).run()
    assert_ok(at)
    assert not sent
    assert PagesManager.uses_pages_directory is False                  # app.py's st.navigation ended the mode
    assert [t.value for t in at.title] == [title]
    assert len(at.sidebar.get("segmented_control")) == 1


def _module_names() -> set[str]:
    """Top-level names `import x` could mean besides a page: the standard library (3.11 and the newer ones' additions,
    e.g. 3.14's `compression` that tifffile tries) and every installed top-level module."""
    import pkgutil
    import sys
    return set(sys.stdlib_module_names) | {"compression"} | {m.name for m in pkgutil.iter_modules()
                                                             if not str(getattr(m.module_finder, "path", "")).startswith(str(PAGES))}


NAMED_LIKE_MODULES = [(s, st) for s, st, _ in built_pages() if st in _module_names()]


def test_the_pages_named_like_modules_are_found():
    assert {"ssl", "compression"} <= {stem for _, stem in NAMED_LIKE_MODULES}


@pytest.mark.parametrize("section,stem", NAMED_LIKE_MODULES)
def test_a_page_named_like_a_module_refuses_to_be_imported_as_it(section, stem):
    """Streamlit runs a page with its folder on sys.path: a page called like a module (ssl, compression) would be
    found by `import <stem>` and run inside another module's import. Such a page refuses (ImportError, which
    optional imports take as 'not installed')."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(stem, PAGES / section / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError, match="Streamlit page"):
        spec.loader.exec_module(module)
