"""A chapter's deep link in Streamlit's legacy pages/-folder mode runs app.py here (ui/legacy_pages.py).
Written by scripts/page_stubs.py."""
if __name__ != "__main__":      # a page, never a module: `import compression` (tifffile) must not run it
    raise ImportError("a Streamlit page, not a module")
from ui.legacy_pages import frame  # noqa: E402

frame()
