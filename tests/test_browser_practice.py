"""Practice in Debian's Chromium (issue #24): an answered item survives a reload (the browser's local storage), and
"open this case in the chapter" opens the chapter with the item's values."""
from __future__ import annotations

import pytest

from engine.common import practice as P
from test_browser import CHROMIUM, _no_exception, _open, _settle, browser, page, server  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]
ITEM = ("boxes", "iou_value", 7)


def test_answer_survives_reload_and_opens_its_case(server, page):  # noqa: F811
    it = P.make(*ITEM)
    _open(page, f"{server}/practice?lang=ja&item={'.'.join(map(str, ITEM))}")
    _no_exception(page)
    page.get_by_text(it.stem["ja"][:20]).first.wait_for(timeout=60_000)
    page.get_by_text(f"({'ABCD'[it.correct_index]}) {it.choices[it.correct_index].label['ja']}",
                     exact=True).first.click()
    _settle(page)
    page.get_by_role("button", name="解答する").first.click()
    page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=60_000)
    _settle(page)
    page.wait_for_function("(localStorage.getItem('kicks.practice.v1') || '').includes('iou_value')",
                           timeout=30_000)

    page.reload(wait_until="domcontentloaded")                      # a new session: the server forgot it
    _settle(page)
    page.get_by_role("tab", name="学習記録").click()
    page.get_by_text("解答 1 問のうち正解 1 問。").first.wait_for(timeout=30_000)   # restored from local storage
    _no_exception(page)

    # the case link of an answered item: the chapter with the item's boxes, and the same IoU
    page.get_by_role("tab", name="演習").click()
    page.get_by_role("button", name="解答する").first.wait_for(timeout=30_000)
    page.get_by_text(f"({'ABCD'[it.correct_index]}) {it.choices[it.correct_index].label['ja']}",
                     exact=True).first.click()
    _settle(page)
    page.get_by_role("button", name="解答する").first.click()
    _settle(page)
    page.get_by_role("link", name="この設定で章を開く").first.click()
    page.wait_for_url("**/boxes**", timeout=60_000)
    _settle(page)
    _no_exception(page)
    page.wait_for_function(
        f"[...document.querySelectorAll(\"[data-testid='stMetricValue']\")].some(e => e.innerText.trim() === "
        f"'{it.answer:.3f}')", timeout=60_000)
    assert "boxes.truth.x.320x213" in page.url
