"""What a live-training refresh costs the browser (issue #25): `python -m bench livecharts`.

A real server (`python app.py`) in Debian's Chromium. On each chapter of LIVE_CHAPTERS (BENCH_CHAPTERS=a,b to pick
others): open it, press Train, let two refreshes pass, then for WINDOW_S seconds count the refreshes (the script runs
that finished: `script_finished` messages on the websocket), the websocket bytes, and the main thread's time from
Chrome's DevTools `Performance.getMetrics` (TaskDuration: all main-thread tasks; ScriptDuration: JavaScript;
LayoutDuration + RecalcStyleDuration: layout). Printed per refresh. The charts' in-place updates (`ui.charts.live`:
one plot per chart, `Plotly.react` with new data) are what it measures; to compare with `st.plotly_chart`, run it in
a checkout from before that change (`git worktree add /tmp/before e36221a`, copy this file there). Nothing is
asserted: the machine's load moves these numbers, so compare runs taken one after the other.
"""
from __future__ import annotations

import os
import re
import time

from bench.browser import CHROMIUM_ARGS, _Bytes, _chromium, _settle
from bench.common import streamlit_server

LIVE_CHAPTERS = ["gan2d", "a3c"]
WINDOW_S = 10.0
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def _metrics(cdp) -> dict[str, float]:
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: got.get(k, 0.0) for k in METRICS}


def measure(page, cdp, bytes_, url: str, stem: str, window_s: float = WINDOW_S) -> dict[str, float]:
    """Train `stem` and measure `window_s` seconds of refreshes: per-refresh main-thread ms, kB, refresh count."""
    page.goto(f"{url}/{stem}?lang=en", wait_until="commit", timeout=180_000)
    _settle(page)
    page.get_by_role("button", name=re.compile(r"Train$")).first.click()
    page.get_by_text("Training…").first.wait_for(timeout=60_000)
    f0 = bytes_.finished
    while bytes_.finished < f0 + 2:                 # the page rerun that set the timer, then a timer refresh
        page.wait_for_timeout(50)
    m0, n0, b0 = _metrics(cdp), bytes_.finished, bytes_.take()
    t0 = time.perf_counter()
    page.wait_for_timeout(window_s * 1000)
    m1, n1, b1 = _metrics(cdp), bytes_.finished, bytes_.take()
    wall = time.perf_counter() - t0
    page.get_by_role("button", name=re.compile(r"Pause$")).first.click()
    _settle(page)
    n = max(n1 - n0, 1)
    out = {k: (m1[k] - m0[k]) * 1000 / n for k in METRICS}
    out.update(refreshes=n1 - n0, kB=b1 / 1e3 / n, busy=(m1["TaskDuration"] - m0["TaskDuration"]) / wall)
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    if chromium is None:
        print("Debian's chromium is not installed (apt-get install chromium): skipped")
        return
    stems = [s for s in os.environ.get("BENCH_CHAPTERS", "").split(",") if s] or LIVE_CHAPTERS
    with streamlit_server() as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        bytes_ = _Bytes(page)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{url}/?lang=en", wait_until="commit", timeout=180_000)
        _settle(page)
        for stem in stems:
            r = measure(page, cdp, bytes_, url, stem)
            print(f"{stem:<10} {r['refreshes']:3d} refreshes in {WINDOW_S:.0f} s · per refresh: main thread "
                  f"{r['TaskDuration']:6.1f} ms (script {r['ScriptDuration']:6.1f}, layout+style "
                  f"{r['LayoutDuration'] + r['RecalcStyleDuration']:5.1f}) · websocket {r['kB']:6.1f} kB · "
                  f"main thread busy {100 * r['busy']:4.1f} %", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
