"""Practice (issue #24): `python -m bench practice`.

1. A 100-item mock exam assembled on the server (every item made, cold caches): target ≤ 1 s.
2. One answer → its feedback on the server (AppTest: the rerun after Answer), p95 over 10 items: target ≤ 0.3 s.
3. Figure data per item (plotly JSON sent with an item), the largest over every generator × 20 seeds: ≤ 100 kB.
4. In Debian's Chromium against `python app.py`: Answer clicked → the script idle with the feedback shown, median of
   5 items: target ≤ 1 s (skipped where chromium is absent).
"""
from __future__ import annotations

import random
import statistics
import time

from bench.common import report


def exam_assembly(seed: int = 0) -> float:
    """Seconds to make 100 items no cache holds (new seeds each call)."""
    from ui import practice as pr

    pr.item.cache_clear()
    chapters = pr.practice_chapters()
    rng = random.Random(seed)
    start = time.perf_counter()
    keys = []
    while len(keys) < 100:
        stem = rng.choice(chapters)
        for name in pr.generator_names(stem)[:4]:
            keys.append((stem, name, rng.randrange(10**6)))
    pr.item_list(keys[:100])
    return time.perf_counter() - start


def answer_to_feedback(n: int = 10) -> float:
    from streamlit.testing.v1 import AppTest

    from bench.common import ROOT
    times = []
    for i in range(n):
        at = AppTest.from_file(str(ROOT / "pages/practice.py"), default_timeout=120)
        at.query_params["lang"] = "ja"
        at.run()
        radio = next(r for r in at.radio if r.key.startswith("practice.one.") and r.key.endswith(".choice"))
        key = radio.key[: -len(".choice")]
        radio.set_value(i % 4).run()
        at.button(key=f"{key}.check")
        start = time.perf_counter()
        at.button(key=f"{key}.check").click().run()
        times.append(time.perf_counter() - start)
        assert at.success or at.error
    times.sort()
    return times[int(round(0.95 * (len(times) - 1)))]


def figure_bytes_per_item() -> int:
    import importlib
    import plotly.io as pio

    from engine.common import practice as P
    from ui import practice as pr
    worst = 0
    for stem in pr.practice_chapters():
        for name in pr.generator_names(stem):
            for seed in range(20):
                it = P.make(stem, name, seed)
                if it.figure:
                    figs = importlib.import_module(f"engine.figures.{pr.section_of(stem)}.{stem}")
                    fig = getattr(figs, it.figure[0])(**it.figure[1])
                    worst = max(worst, len(pio.to_json(fig)))
    return worst


def browser_answer_to_idle(n: int = 5) -> float | None:
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None:
        print("Debian's chromium is not installed (apt-get install chromium): browser timing skipped")
        return None
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM_ARGS, IDLE, _Bytes, _idle_since, _settle
    from bench.common import streamlit_server
    from engine.common import practice as P
    with streamlit_server() as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        bytes_ = _Bytes(page)
        times = []
        for seed in range(n):
            it = P.make("boxes", "iou_value", seed)
            page.goto(f"{url}/practice?lang=ja&item=boxes.iou_value.{seed}", wait_until="domcontentloaded",
                      timeout=180_000)
            _settle(page)
            page.get_by_text(f"({'ABCD'[it.correct_index]}) {it.choices[it.correct_index].label['ja']}",
                             exact=True).first.click()
            _settle(page)
            f0, t0 = bytes_.finished, time.perf_counter()
            page.get_by_role("button", name="解答する").first.click()
            _idle_since(page, bytes_, t0, f0)
            page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=30_000)
            times.append(time.perf_counter() - t0)
            page.wait_for_selector(IDLE)
        browser.close()
    return statistics.median(times)


def main() -> None:
    first = exam_assembly(0)              # the process's first exam also imports every chapter's engine
    print(f"first exam of a fresh process (imports every chapter's engine): {first:.2f} s")
    report("100-item mock exam assembled (new seeds, nothing cached)", min(exam_assembly(s) for s in (1, 2, 3)), 1.0)
    report("answer → feedback on the server, p95 of 10 (AppTest rerun)", answer_to_feedback(), 0.3)
    worst = figure_bytes_per_item()
    report("figure data per item, largest (bytes)", max(worst, 1), 100_000, unit="B")
    t = browser_answer_to_idle()
    if t is not None:
        report("answer → feedback shown and idle in Chromium, median of 5", t, 1.0)
