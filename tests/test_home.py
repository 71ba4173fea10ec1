"""Home and the app's entry point: every chapter of the syllabus is listed, unbuilt ones as "coming soon"."""
from __future__ import annotations

from conftest import assert_ok, run_page


def test_app_entrypoint_builds_navigation():
    at = run_page("app.py")
    assert_ok(at)
    # Home is the default page: every section of the syllabus is listed.
    from ui.chapters import SYLLABUS
    assert len(at.subheader) == len(SYLLABUS)


def test_home_lists_every_chapter_and_marks_unbuilt_ones():
    from ui.chapters import SYLLABUS, is_built
    from ui.i18n import lookup

    at = run_page("pages/home.py", lang="ja")
    assert_ok(at)
    text = " ".join(m.value for m in at.markdown)
    links = [link.proto.label for link in at.get("page_link")]
    for section, stems in SYLLABUS.items():
        for stem in stems:
            title = lookup(f"{stem}.title", "ja")
            if is_built(section, stem):
                assert any(title in label for label in links), stem
            else:
                assert title in text and lookup("common.coming_soon", "ja") in text, stem
