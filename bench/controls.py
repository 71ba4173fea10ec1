"""How fast the live-training controls answer, in Debian's Chromium against a real server (`python app.py`):
`python -m bench controls`.

On each chapter that trains (BENCH_CHAPTERS=stem1,... for a subset; default gan2d, ssl, a3c): press Train, let it
train for 2 s, then time the click → the status line saying so, for Pause ("Paused at step"), Step (the step
number moves) and Reset ("Paused at step 0"), REPEAT times each. Prints median and max per control. Target
(issue #12/#14): the status answers within 1 s.
"""
from __future__ import annotations

import os
import re
import shutil
import time

import numpy as np

from bench.common import streamlit_server

REPEAT = int(os.environ.get("BENCH_REPEAT", 5))
TARGET_S = 1.0
STATUS = re.compile(r"(Paused at step|Training…|Finished at step)[^\n]*")


def _status(page) -> str:
    text = page.locator("[data-testid='stMain']").inner_text(timeout=30_000)
    m = STATUS.search(text)
    return m.group(0) if m else ""


def _time_until(page, click, done, timeout_s: float = 30.0) -> float:
    t0 = time.perf_counter()
    click()
    while time.perf_counter() - t0 < timeout_s:
        if done(_status(page)):
            return time.perf_counter() - t0
        page.wait_for_timeout(20)
    return float("inf")


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Debian's chromium is not installed (apt-get install chromium): skipped")
        return
    chapters = [s for s in os.environ.get("BENCH_CHAPTERS", "gan2d,ssl,a3c").split(",") if s]
    with streamlit_server() as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for stem in chapters:
            page.goto(f"{url}/{stem}?lang=en", timeout=180_000)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=180_000)
            button = lambda label: page.get_by_role("button", name=label).first.click  # noqa: E731
            times = {"pause": [], "step": [], "reset": []}
            for _ in range(REPEAT):
                _time_until(page, button("▶ Train"), lambda s: s.startswith("Training"))
                page.wait_for_timeout(2000)
                times["pause"].append(_time_until(page, button("⏸ Pause"), lambda s: s.startswith("Paused")))
                before = _status(page)
                times["step"].append(_time_until(page, button("⏭ Step"), lambda s: s != before and s.startswith(
                    ("Paused", "Finished"))))
                times["reset"].append(_time_until(page, button("↺ Reset"), lambda s: s.startswith(
                    "Paused at step 0")))
            line = " · ".join(f"{k} median {np.median(v):.2f} s, max {max(v):.2f} s" for k, v in times.items())
            worst = max(max(v) for v in times.values())
            print(f"{stem:<16} {line}  → {'within' if worst <= TARGET_S else 'OVER'} the {TARGET_S:.0f} s target",
                  flush=True)
        browser.close()


if __name__ == "__main__":
    main()
