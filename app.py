"""kicks: the frame and router. Navigation is built from ui/chapters.py and the page files that exist."""
import streamlit as st

from ui import chapter_page, lang_ui, t
from ui.chapters import PAGES, built_pages

st.set_page_config(page_title="kicks", page_icon="👟", layout="wide")
lang_ui()

home = st.Page(PAGES / "home.py", title=t("chapters.home"), icon="🏠", url_path="home", default=True)
sections: dict[str, list[st.Page]] = {"": [home]}
for section, stem, _ in built_pages():
    sections.setdefault(t(f"chapters.section.{section}"), []).append(chapter_page(section, stem))
st.navigation(sections).run()
