"""Deep links on a server's first session under `streamlit run app.py` (how Streamlit Community Cloud starts the app).

Streamlit decides once per process, at its first session, that an app whose entry script has a `pages/` folder beside
it uses the legacy pages/-folder mode, and keeps that mode until an `st.navigation` call (app.py's) turns it off. In
that mode a script run serves the URL's page from the TOP-LEVEL `pages/*.py` files only (app.py is the page at `/`),
and a URL that names none of them gets a "Page not found" dialog. Nothing of ours runs before that first session
(`python app.py` turns the mode off in its launcher; `streamlit run` cannot), so `pages/` holds, for every built
chapter, `pages/<stem>.py` whose only code is `frame()` (written by `scripts/page_stubs.py`, checked by
tests/test_legacy_pages.py), and pages/home.py and pages/practice.py start with `if frame(): st.stop()`. There
`frame()` runs app.py itself: its frame (language switch, the real navigation) and its `st.navigation`, which ends
the legacy mode and routes the same URL to the real page, in the same script run. In every other run it does nothing.
"""
from __future__ import annotations

import types
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

APP = Path(__file__).resolve().parent.parent / "app.py"
# Every stub pages/<stem>.py is this text (the URL says which chapter app.py's navigation routes to).
STUB = ('"""A chapter\'s deep link in Streamlit\'s legacy pages/-folder mode runs app.py here (ui/legacy_pages.py).\n'
        'Written by scripts/page_stubs.py."""\n'
        "if __name__ != \"__main__\":      # a page, never a module: `import compression` (tifffile) must not run it\n"
        "    raise ImportError(\"a Streamlit page, not a module\")\n"
        "from ui.legacy_pages import frame  # noqa: E402\n\nframe()\n")


def frame() -> bool:
    """In the legacy pages/-folder mode: run app.py here and return True (the caller draws nothing more). In every
    other run (`st.navigation` is routing): do nothing and return False."""
    ctx = get_script_run_ctx()
    if not PagesManager.uses_pages_directory or ctx is None:
        return False
    # As Streamlit runs a main script (ScriptRunner, Page.run): app.py's compiled code from the script cache, in a
    # fresh `__main__` module, with the main script's hash active (a widget's id includes the active hash), as in
    # every later run. (The language switch answered a first click without that too: a keyed widget's state moves.)
    code = ctx.pages_manager.get_page_script_byte_code(str(APP))
    module = types.ModuleType("__main__")
    module.__dict__["__file__"] = str(APP)
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        exec(code, module.__dict__)  # noqa: S102
    return True
