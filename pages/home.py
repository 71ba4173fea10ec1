"""Home: every chapter of the syllabus by section; unbuilt chapters say "coming soon", never a broken link."""
import streamlit as st

from ui import chapter_page, practice_page, t
from ui.chapters import SYLLABUS, is_built
from ui.legacy_pages import frame

if frame():                                       # a first session's /home under `streamlit run`: app.py drew it
    st.stop()

COLUMNS = 3

# A chapter's title wraps inside its card instead of ending in "…" (Streamlit keeps a page link on one line).
st.markdown("<style>[data-testid='stPageLink-NavLink'] span{white-space:normal}</style>", unsafe_allow_html=True)
st.title(t("common.app_title"))
st.markdown(t("chapters.home_intro"))
with st.container(border=True):                   # practice: E資格-style items on every chapter, made by its engine
    st.page_link(practice_page(), label=f"**{t('practice.title')}**", icon=":material/quiz:")
    st.caption(t("chapters.practice_blurb"))

for section, stems in SYLLABUS.items():
    st.subheader(t(f"chapters.section.{section}"))
    for i, stem in enumerate(stems):
        if i % COLUMNS == 0:                      # one row of columns per three cards: cards in a row share a height
            cols = st.columns(COLUMNS)
        title, blurb = t(f"{stem}.title"), t(f"{stem}.blurb")
        with cols[i % COLUMNS].container(border=True, height="stretch"):
            if is_built(section, stem):
                st.page_link(chapter_page(section, stem), label=f"**{title}**", icon=":material/play_arrow:")
            else:
                st.markdown(f"⏳ **{title}** :gray-badge[{t('common.coming_soon')}]")
            st.caption(blurb)
