"""kicks: the frame and router. Navigation is built from ui/chapters.py and the page files that exist.

Start the server with `python app.py [streamlit options]` (`make run`, the Dockerfile and the tests do): it is
`streamlit run app.py` with one setting made before the first session. Streamlit decides once per process, at its
first session, whether an app uses its legacy `pages/`-folder mode (because `pages/` exists beside the entry script);
that first script run then only knows `pages/*.py` at the top level, so a reader whose very first request was a deep
link (`/ctc`) saw a "Page not found" dialog. This app routes with `st.navigation`, so the launcher turns that mode off.
Under plain `streamlit run app.py` (Streamlit Community Cloud) the stubs pages/<stem>.py run this file in that first
run instead (ui/legacy_pages.py).
"""
import os
import sys

# One intra-op thread per torch call, set once at start-up before any page imports torch: many sessions share
# a small CPU, and the chapters' small networks (live GAN training) run 10x faster without thread contention.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from streamlit import runtime  # noqa: E402

if __name__ == "__main__" and not runtime.exists():          # `python app.py`: launch the server, then return
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False                # routing is st.navigation's, never the pages/ folder's
    if os.environ.get("KICKS_PRELOAD", "1") != "0":          # heavy imports before the port opens (ui/warm.py)
        from ui.warm import preload
        print(f"kicks: libraries loaded in {preload():.1f} s; starting the server", file=sys.stderr, flush=True)
    sys.argv = ["streamlit", "run", os.path.abspath(__file__), *sys.argv[1:]]
    sys.exit(cli.main())

import streamlit as st  # noqa: E402

from ui import chapter_page, lang_ui, practice_page, share, t, warm  # noqa: E402
from ui.chapters import PAGES, built_pages  # noqa: E402

st.set_page_config(page_title="kicks", page_icon="👟", layout="wide")
# A formula wider than a phone (390 px) scrolls inside its own box instead of running off the page, and shows that
# it does: a shadow on each side where more of it is hidden (white covers that scroll with the formula hide a shadow
# once that end is in view) and a thin scrollbar.
# The whole syllabus in the sidebar scrolls inside a box of its own: at full height (26 chapters, ~1400 px) it
# pushed every chapter's own sidebar controls below the bottom of a laptop screen, where nobody found them.
st.markdown("<style>.katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:2px;"
            "scrollbar-width:thin;scrollbar-color:rgba(0,0,0,.3) transparent;"
            "background:linear-gradient(to right,#fff 30%,rgba(255,255,255,0)) left center/2.5rem 100% no-repeat local,"
            "linear-gradient(to left,#fff 30%,rgba(255,255,255,0)) right center/2.5rem 100% no-repeat local,"
            "radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.4),rgba(0,0,0,0)) left center/1.2rem 100% no-repeat,"
            "radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.4),rgba(0,0,0,0)) right center/1.2rem 100% "
            "no-repeat}"
            "[data-testid='stSidebarNavItems']{max-height:45vh;overflow-y:auto}"
            # A markdown table wider than a phone (CFR's results, Docker's rule table, SHAP's coalitions) scrolls
            # inside its own box instead of pushing the page sideways.
            "[data-testid='stMarkdownContainer'] table{display:block;max-width:100%;overflow-x:auto}"
            # Plotly's toolbar is always shown on a touch screen, over the top right of the chart, where the title
            # is: there, as with a mouse, it shows once the reader touches that chart (a tap is a hover), and is
            # hidden, not just transparent, until then (a tap on the title does not press an unseen button).
            "@media (hover:none){.js-plotly-plot .modebar-container{visibility:hidden}"
            ".js-plotly-plot:hover .modebar-container,.js-plotly-plot:focus-within .modebar-container"
            "{visibility:visible}}"
            # A live run's Train / Pause / Step / Reset and status line (ui/training.py) stay under the header while
            # the reader scrolls through that run's charts on a phone, where those fill several screens. The four
            # buttons are equally wide, in one row on a wider screen.
            "[class*='st-key-run_controls'] [data-testid='stHorizontalBlock']>div{flex:1 1 0}"
            "@media (max-width:640px){[data-testid='stLayoutWrapper']:has(>[class*='st-key-run_controls']){"
            "position:sticky;top:3.75rem;z-index:100;background:#fff;padding:.25rem 0;"
            "box-shadow:0 6px 6px -6px rgba(0,0,0,.25)}"
            # two by two (one row cut the labels, 一時停止 → 一時…)
            "[class*='st-key-run_controls'] [data-testid='stHorizontalBlock']{gap:.4rem}"
            "[class*='st-key-run_controls'] [data-testid='stHorizontalBlock']>div{flex:1 1 40%}"
            "[class*='st-key-run_controls'] button{min-height:2.25rem;padding-top:.2rem;padding-bottom:.2rem}}"
            "</style>",
            unsafe_allow_html=True)
lang_ui()

home = st.Page(PAGES / "home.py", title=t("chapters.home"), icon=":material/home:", url_path="", default=True)
# Home is `/`; `/home` (typed, or a first session's legacy route, ui/legacy_pages.py) is Home too, not "Page not found"
home_alias = st.Page(PAGES / "home.py", title=t("chapters.home"), url_path="home", visibility="hidden")
sections: dict[str, list[st.Page]] = {"": [home, practice_page(), home_alias]}
for section, stem, _ in built_pages():
    sections.setdefault(t(f"chapters.section.{section}"), []).append(chapter_page(section, stem))
warm.start()          # once per process: heavy imports and shared models in the background, after a short delay
page = st.navigation(sections, expanded=True)  # the whole syllabus, grouped by section (no "View more")
asked = share.url_settings()
if page.url_path not in ("home", "practice", ""):
    share.copy_link_ui()                        # a chapter's URL holds all its settings (issue #25)
with warm.reader_run():                         # the warm-up gives way to readers (issue #29)
    warm.loading_ui(getattr(page, "_page", None))   # after a start: what is loading, not a blank page
    page.run()
share.note_ignored(asked)
