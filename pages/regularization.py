"""A chapter's deep link in Streamlit's legacy pages/-folder mode runs app.py here (ui/legacy_pages.py).
Written by scripts/page_stubs.py."""
from ui.legacy_pages import frame

frame()
