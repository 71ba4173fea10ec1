"""The language switch: from the URL, kept in session state, written back to the URL."""
from __future__ import annotations

from conftest import assert_ok, run_page


def test_url_language_is_used_and_written_back():
    at = run_page("app.py", lang="ja")
    assert_ok(at)
    assert at.session_state["lang"] == "ja"
    assert at.query_params["lang"] == ["ja"] or at.query_params["lang"] == "ja"
    assert at.title[0].value.startswith("kicks")
    assert any("音声" in h.value for h in at.subheader)


def test_switching_language_in_the_sidebar():
    at = run_page("app.py", lang="en")
    switch = at.sidebar.get("button_group")[0]
    switch.set_value("ja").run()
    assert_ok(at)
    assert at.session_state["lang"] == "ja"
    assert any("音声" in h.value for h in at.subheader)


def test_unknown_language_falls_back_to_english():
    at = run_page("app.py", lang="xx")
    assert_ok(at)
    assert at.session_state["lang"] == "en"
