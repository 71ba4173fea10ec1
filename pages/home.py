"""Home: every chapter of the syllabus by section; unbuilt chapters say "coming soon", never a broken link."""
import streamlit as st

from ui import chapter_page, t
from ui.chapters import SYLLABUS, is_built

st.title(t("common.app_title"))
st.markdown(t("chapters.home_intro"))

for section, stems in SYLLABUS.items():
    st.subheader(t(f"chapters.section.{section}"))
    for stem in stems:
        title, blurb = t(f"chapters.{stem}.title"), t(f"chapters.{stem}.blurb")
        if is_built(section, stem):
            st.page_link(chapter_page(section, stem), label=f"**{title}** — {blurb}", icon="▶️")
        else:
            st.markdown(f"⏳ **{title}** — {blurb} *({t('common.coming_soon')})*")
