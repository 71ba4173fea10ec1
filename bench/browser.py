"""What a reader waits for, measured in Debian's Chromium against a real server started as README says
(`python app.py`), fresh: `python -m bench browser`.

For Home and then every chapter in SYLLABUS (in order, as a reader coming through Home would):
1. first visit: navigation → the script idle, and the websocket bytes the server sent for that run;
2. a later visit (after another page): navigation → idle;
3. a slider change (the page's first slider nudged one step with the keyboard) → idle.
Targets (issue #14): ≤ 2 s to idle on a warm server, ≤ 3 s for a torch chapter on the first visit after a start
(coming through Home), ≤ 1 s for a slider change on pages that compute in < 0.3 s on the server; ≤ 300 kB of
figures per run (the contract battery checks the figure JSON exactly; here: everything the websocket carried).
Set BENCH_CHAPTERS=stem1,stem2 to measure a subset.
"""
from __future__ import annotations

import os
import shutil
import time

from bench.common import streamlit_server

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
WARM_WAIT_S = 15.0          # a reader reading Home for a while: the warm-up thread finishes meanwhile


def _settle(page, timeout_ms: int = 180_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


class _Bytes:
    """Bytes received on the app's websocket since the last reset."""

    def __init__(self, page):
        self.n = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.n += len(payload) if isinstance(payload, (bytes, str)) else 0

    def take(self) -> int:
        n, self.n = self.n, 0
        return n


def _visit(page, bytes_, url: str) -> tuple[float, int]:
    bytes_.take()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_timeout(50)
    _settle(page)
    return time.perf_counter() - t0, bytes_.take()


def _nudge_slider(page) -> float | None:
    slider = page.locator("[data-testid='stMain'] [data-testid='stSlider'] input[type='range']").first
    if slider.count() == 0:
        return None
    slider.focus()
    t0 = time.perf_counter()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(50)
    _settle(page)
    return time.perf_counter() - t0


def main() -> None:
    from playwright.sync_api import sync_playwright

    from ui.chapters import built_pages

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Debian's chromium is not installed (apt-get install chromium): skipped")
        return
    only = set(filter(None, os.environ.get("BENCH_CHAPTERS", "").split(",")))
    chapters = [stem for _, stem, _ in built_pages() if not only or stem in only]
    rows = []
    with streamlit_server() as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        bytes_ = _Bytes(page)
        home_s, home_b = _visit(page, bytes_, f"{url}/?lang=en")
        print(f"{'Home (first request after start)':<34} {home_s:6.2f} s   {home_b / 1e3:8.1f} kB", flush=True)
        page.wait_for_timeout(WARM_WAIT_S * 1000)
        for stem in chapters:
            first_s, first_b = _visit(page, bytes_, f"{url}/{stem}?lang=en")
            slider_s = _nudge_slider(page)
            _visit(page, bytes_, f"{url}/home?lang=en")
            again_s, _ = _visit(page, bytes_, f"{url}/{stem}?lang=en")
            rows.append((stem, first_s, first_b, again_s, slider_s))
            print(f"{stem:<34} first {first_s:6.2f} s {first_b / 1e3:8.1f} kB · later {again_s:6.2f} s · slider "
                  + ("  —" if slider_s is None else f"{slider_s:5.2f} s"), flush=True)
        browser.close()
    worst_first = max(r[1] for r in rows) if rows else 0.0
    worst_again = max(r[3] for r in rows) if rows else 0.0
    worst_bytes = max(r[2] for r in rows) if rows else 0
    print(f"\nworst first visit {worst_first:.2f} s (target ≤ 3 s with torch) · worst later visit {worst_again:.2f} s "
          f"(target ≤ 2 s) · most bytes in one run {worst_bytes / 1e3:.0f} kB (figures ≤ 300 kB)")


if __name__ == "__main__":
    main()
