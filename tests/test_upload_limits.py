"""The upload limit, said where the reader looks (issue 29: a file over 20 MB showed only the browser's red "!" while
the page went on saying "choose a file to continue"). Streamlit refuses such a file in the browser, before any script
sees it, so the page cannot react to it: the uploader's label and the waiting message state the limit instead, in
the reader's language, and the limit is the one the server enforces."""
from __future__ import annotations

import tomllib

import pytest

from conftest import ROOT, assert_ok, run_page
from engine.common import uploads

MB = uploads.MAX_BYTES // 2**20


def test_the_limit_said_is_the_limit_the_server_enforces():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["maxUploadSize"] == MB == 20


@pytest.mark.parametrize("lang,unit", [("en", "up to 20 MB"), ("ja", "20 MB まで")])
@pytest.mark.parametrize("page,key", [("pages/detection/boxes.py", "boxes"),          # image_input_ui
                                      ("pages/speech/audio.py", "audio")])           # audio_input_ui
def test_uploader_label_and_waiting_message_state_the_limit(page, key, lang, unit):
    at = run_page(page, lang=lang)
    at.radio(key=f"{key}.source").set_value("upload").run()
    assert_ok(at)
    uploader = at.get("file_uploader")[0]
    assert unit in uploader.proto.label and f"{MB} MB" in uploader.proto.help
    waiting = [i.value for i in at.info if f"{MB} MB" in i.value]
    assert len(waiting) == 1 and ("!" in waiting[0])
    if lang == "ja":                                          # the drop zone's English is Streamlit's: explained
        assert "Browse files" in uploader.proto.help and "ドラッグ" in uploader.proto.help
