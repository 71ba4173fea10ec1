"""kicks: the frame and router. Navigation is built from ui/chapters.py and the page files that exist."""
import os

# One intra-op thread per torch call, set once at start-up before any page imports torch: many sessions share
# a small CPU, and the chapters' small networks (live GAN training) run 10x faster without thread contention.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

from ui import chapter_page, lang_ui, t  # noqa: E402
from ui.chapters import PAGES, built_pages  # noqa: E402

st.set_page_config(page_title="kicks", page_icon="👟", layout="wide")
lang_ui()

home = st.Page(PAGES / "home.py", title=t("chapters.home"), icon="🏠", url_path="home", default=True)
sections: dict[str, list[st.Page]] = {"": [home]}
for section, stem, _ in built_pages():
    sections.setdefault(t(f"chapters.section.{section}"), []).append(chapter_page(section, stem))
st.navigation(sections).run()
