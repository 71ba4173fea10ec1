"""Browser smoke test: the real server in Debian's Chromium (Playwright, no downloaded browser).

Home and the Speech page in both languages, a real file upload through the page's file input, the language
kept across a page change. Screenshots go to tests/artifacts/ (README shows copies in assets/screenshots/).
Skips with a reason where Chromium is absent.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from conftest import ROOT, wav_bytes

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "tests" / "artifacts"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(command: list[str], log_name: str = "server.log"):
    """A fresh server started with `command` (README's way: `python app.py`), yielded as its URL once healthy."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # The server's log goes to a file: an unread pipe fills up and blocks the server mid-test.
    log = open(ARTIFACTS / log_name, "wb")
    proc = subprocess.Popen(
        [*command, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.close()
        pytest.fail("streamlit did not become healthy: " + (ARTIFACTS / log_name).read_text(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


SERVE = [sys.executable, "app.py"]             # how make run, the Dockerfile and README start the app


@pytest.fixture(scope="module")
def server():
    yield from _start(SERVE)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def _open(page, url: str) -> None:
    """Load a URL and wait for the script run (generous: CI machines are small and may be busy)."""
    page.goto(url, timeout=120_000, wait_until="domcontentloaded")
    _settle(page)


def _settle(page, timeout=90_000):
    """Wait until the script has finished and the page has stopped changing."""
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=timeout)


def _no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']").first.inner_text()


@pytest.mark.parametrize("lang,heading", [("en", "Speech"), ("ja", "音声")])
def test_home_lists_chapters(server, page, lang, heading):
    _open(page, f"{server}/?lang={lang}")
    _no_exception(page)
    page.get_by_role("heading", name=heading).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / f"home_{lang}.png"), full_page=False)


@pytest.mark.parametrize("lang,title", [("en", "Spectrogram & MFCC"), ("ja", "スペクトログラムとMFCC")])
def test_speech_page_default_clip_and_upload(server, page, lang, title):
    _open(page, f"{server}/audio?lang={lang}")
    _no_exception(page)
    page.get_by_role("heading", name=title).first.wait_for()
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / f"audio_{lang}.png"), full_page=False)

    # upload a real file through the page's own file input
    upload_label = {"en": "Upload", "ja": "アップロード"}[lang]
    page.get_by_text(upload_label, exact=True).first.click()
    _settle(page)
    sr = 16000
    t = np.arange(sr) / sr
    data = wav_bytes((0.5 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), sr)
    page.locator("input[type='file']").first.set_input_files(
        files=[{"name": "tone.wav", "mimeType": "audio/wav", "buffer": data}])
    page.wait_for_function("document.querySelectorAll(\"[data-testid='stPlotlyChart']\").length >= 8",
                           timeout=90_000)
    _settle(page)
    _no_exception(page)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"audio_upload_{lang}.png"), full_page=False)


def test_language_survives_page_change(server, page):
    _open(page, f"{server}/?lang=ja")
    page.get_by_role("link", name="スペクトログラムとMFCC").first.click()
    page.wait_for_url("**/audio**", timeout=30_000)
    _settle(page)
    _no_exception(page)
    page.get_by_role("heading", name="スペクトログラムとMFCC").first.wait_for()
    page.wait_for_function("location.search.includes('lang=ja')", timeout=30_000)


def test_bad_upload_shows_one_message(server, page):
    _open(page, f"{server}/audio?lang=en")
    page.get_by_text("Upload", exact=True).first.click()
    _settle(page)
    page.locator("input[type='file']").first.set_input_files(
        files=[{"name": "fake.wav", "mimeType": "audio/wav", "buffer": b"this is not audio" * 20}])
    page.wait_for_selector("[data-testid='stAlertContentError']", timeout=60_000)
    _settle(page)
    _no_exception(page)
    assert "not audio we can read" in page.locator("[data-testid='stAlertContentError']").first.inner_text()


def test_language_switch_in_sidebar(server, page):
    _open(page, f"{server}/?lang=en")
    page.get_by_role("heading", name="Speech").first.wait_for()
    page.get_by_text("日本語", exact=True).first.click()
    page.get_by_role("heading", name="音声").first.wait_for(timeout=60_000)
    page.wait_for_function("location.search.includes('lang=ja')", timeout=30_000)
    _settle(page)
    _no_exception(page)
    # the choice survives a page change, and a widget interaction on the new page
    page.get_by_role("link", name="スペクトログラムとMFCC").first.click()
    page.wait_for_url("**/audio**", timeout=30_000)
    _settle(page)
    page.get_by_text("ハミング窓", exact=True).first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_role("heading", name="スペクトログラムとMFCC").first.wait_for()
    # clicking the selected language again keeps it
    page.get_by_text("日本語", exact=True).first.click()
    _settle(page)
    _no_exception(page)
    page.get_by_role("heading", name="スペクトログラムとMFCC").first.wait_for()


@pytest.mark.parametrize("path,heading", [("ctc?lang=en", "CTC"), ("gan_theory?lang=ja", "GAN と最適な識別器")])
def test_deep_link_is_the_first_request_of_a_fresh_server(browser, path, heading):
    """The very first request after a start opens a chapter's URL: the chapter shows, with no "Page not found"
    dialog (Streamlit's legacy pages/-folder mode would run the process's first script run; app.py's launcher
    turns it off)."""
    for url in _start(SERVE, "server_deeplink.log"):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        try:
            _open(page, f"{url}/{path}")
            _no_exception(page)
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            assert page.get_by_text("Page not found").count() == 0
            assert page.locator("[role='dialog']").count() == 0
        finally:
            ctx.close()


@pytest.mark.parametrize("path,heading,switch_to", [
    ("gan_theory?lang=en&gan_theory.mu1=-3.0", "GAN & the optimal discriminator", ("日本語", "GAN と最適な識別器")),
    ("practice?lang=en", "Practice", None),
    ("home?lang=ja", "kicks — 動くディープラーニング", None)])
def test_deep_link_is_the_first_request_under_streamlit_run(browser, path, heading, switch_to):
    """Streamlit Community Cloud starts the app with `streamlit run app.py`, where nothing of ours runs before the
    first session, so that session's first run is Streamlit's legacy pages/-folder mode: the top-level stubs
    pages/<stem>.py, pages/home.py and pages/practice.py run app.py there (ui/legacy_pages.py). The very first
    request is a deep link: no "Page not found" dialog, the page's heading, the real navigation in the sidebar (every
    built chapter, titled in the reader's language, no stub's file name); a chapter's link keeps its setting
    (μ₁ = −3) and the language switch answers its first click."""
    from ui.chapters import built_pages

    for url in _start([sys.executable, "-m", "streamlit", "run", "app.py"], "server_deeplink_run.log"):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        try:
            _open(page, f"{url}/{path}")
            _no_exception(page)
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            assert page.get_by_text("Page not found").count() == 0
            assert page.locator("[role='dialog']").count() == 0
            links = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
            ja = path.endswith("lang=ja")
            assert len(links) == len(built_pages()) + 2, links                  # Home, Practice, the chapters
            assert ("スペクトログラムとMFCC" if ja else "Spectrogram & MFCC") in links, links
            assert not {"app", "audio", "gan theory", "home", "practice"} & {s.strip().lower() for s in links}, links
            if switch_to:
                thumb = page.locator("[data-testid='stSliderThumbValue']").first
                assert thumb.inner_text() == "-3.00"
                page.locator("[data-testid='stSidebar']").get_by_text(switch_to[0], exact=True).first.click()
                page.get_by_role("heading", name=switch_to[1]).first.wait_for(timeout=60_000)
                _settle(page)
                _no_exception(page)
                assert thumb.inner_text() == "-3.00"
        finally:
            ctx.close()


def test_live_training_charts_stay_drawn_and_the_controls_answer(server, page):
    """The shared run object on the WGAN page: while training, no chart stays blank (Streamlit 1.67 re-mounts a
    plotly element whose figure changed, so a chart can lack its SVG for the moment Plotly takes to draw the new
    figure — on a busy CI machine a look caught two such moments — but never at two looks 350 ms apart; looking
    starts once two timer refreshes have followed the page rerun that starts the timer, which redraws them all);
    Pause, Step and Reset act and the status line says so."""
    _open(page, f"{server}/gan2d?lang=en")
    page.get_by_role("button", name=re.compile(r"Train$")).click()
    page.get_by_text("Training…").first.wait_for(timeout=30_000)
    seen: set[str] = set()
    for _ in range(240):                           # up to a minute on a busy CI machine
        seen.add(page.evaluate("""() => (document.querySelector("[data-testid='stMetricValue']") || {})
            .textContent || ''"""))
        if len(seen - {""}) >= 3:
            break
        page.wait_for_timeout(250)
    assert len(seen - {""}) >= 3, seen
    page.wait_for_timeout(500)
    looks = []
    for _ in range(12):
        page.wait_for_timeout(350)
        shown = page.evaluate("""() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'], .kicks-live-plot"))
            .filter(e => getComputedStyle(e.closest('[data-testid=stElementContainer]') || e).display !== 'none')
            .map(e => e.querySelectorAll('.main-svg').length)""")
        assert len(shown) >= 4, shown
        looks.append([n > 0 for n in shown[:4]])
    for before, after in zip(looks, looks[1:]):
        assert all(a or b for a, b in zip(before, after)), looks      # blank at two looks in a row: blanking
    page.get_by_role("button", name=re.compile(r"Pause$")).click()
    page.get_by_text("Paused at step").first.wait_for(timeout=30_000)
    page.get_by_role("button", name=re.compile(r"Step$")).click()
    _settle(page)
    page.get_by_role("button", name=re.compile(r"Reset$")).click()
    page.get_by_text("Paused at step 0").first.wait_for(timeout=30_000)
    _no_exception(page)


# ---- issue 13: the RoI image, the CTC language notice, formulas in Japanese mode -------------------------------------

def _figure_data(page, key: str) -> dict:
    """The data and axis ranges of the plotly chart with Streamlit key `key`, read from the drawn graph div."""
    css = ".st-key-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in key)
    graph = page.locator(f"{css} .js-plotly-plot").first
    graph.wait_for(timeout=60_000)
    return graph.evaluate("""gd => ({
        traces: gd.data.map(t => ({name: t.name || '', type: t.type, x: t.x ? Array.from(t.x) : null,
                                   y: t.y ? Array.from(t.y) : null})),
        shapes: (gd.layout.shapes || []).map(s => [s.x0, s.y0, s.x1, s.y1]),
        xrange: gd._fullLayout.xaxis.range, yrange: gd._fullLayout.yaxis.range,
        images: Array.from(gd.querySelectorAll('image')).map(i => {
            const r = i.getBoundingClientRect(); return [r.width, r.height]; })})""")


@pytest.mark.parametrize("lang,roi_name", [("en", "RoI (image pixels)"), ("ja", "RoI (画像のピクセル)")])
def test_roi_page_shows_the_image_with_the_roi_in_pixels(server, page, lang, roi_name):
    """The RoI page draws the picture itself (on screen, not only the feature map) with the RoI in image pixels
    (the sliders' default box: fractions 0.27, 0.2, 0.53, 0.55 of the picture), and the feature map beside it
    carries the same RoI divided by the stride (8 px per cell)."""
    _open(page, f"{server}/roi?lang={lang}")
    _no_exception(page)
    chart = page.locator(".st-key-roi-fig_image").first
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    img = _figure_data(page, "roi.fig_image")
    W, H = img["xrange"][1], img["yrange"][0]                   # x over [0, W], y down over [H, 0]: pixels
    assert img["xrange"][0] == 0 and img["yrange"][1] == 0 and W > 100 and H > 100
    assert img["images"] and min(img["images"][0]) > 100, img["images"]     # the photo is drawn, and large
    roi = next(t for t in img["traces"] if t["name"] == roi_name)
    x1, x2, y1, y2 = min(roi["x"]), max(roi["x"]), min(roi["y"]), max(roi["y"])
    assert (x1, y1, x2, y2) == (round(0.27 * W), round(0.2 * H), round(0.53 * W), round(0.55 * H))
    fmap = _figure_data(page, "roi.fig_feature_map")
    assert fmap["shapes"] and fmap["shapes"][0] == pytest.approx([x1 / 8, y1 / 8, x2 / 8, y2 / 8])
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    chart.screenshot(path=str(ARTIFACTS / f"roi_image_{lang}.png"))


@pytest.mark.parametrize("lang,speech,notice,foreign", [
    ("en", "Real speech", "English only", "what an English model hears"),
    ("ja", "実際の音声", "英語だけ", "英語のモデルにどう聞こえるか")])
def test_ctc_speech_mode_says_the_recogniser_is_english_only(server, page, lang, speech, notice, foreign):
    """CTC in speech mode says plainly what the recogniser knows (English only), in the page's language; the
    Japanese sample is marked as what an English model hears."""
    _open(page, f"{server}/ctc?lang={lang}")
    page.get_by_text(speech, exact=True).first.click()
    info = page.locator("[data-testid='stAlertContentInfo']").filter(has_text=notice).first
    info.wait_for(timeout=60_000)
    _settle(page)
    _no_exception(page)
    info.scroll_into_view_if_needed()
    assert info.is_visible()
    page.screenshot(path=str(ARTIFACTS / f"ctc_speech_{lang}.png"), full_page=False)
    # the Japanese sample: picked from the sample list, it gets the "what an English model hears" warning
    page.locator(".st-key-ctc-sample [role='combobox']").first.click()
    page.get_by_role("option").filter(has_text="こんにちは世界").first.click()
    warning = page.locator("[data-testid='stAlertContentWarning']").filter(has_text=foreign).first
    warning.wait_for(timeout=90_000)
    _settle(page)
    _no_exception(page)
    warning.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"ctc_speech_japanese_sample_{lang}.png"), full_page=False)


RAW_TEX = ("$$", "\\frac", "\\sum", "\\mathrm", "\\text", "\\left", "\\qquad")


@pytest.mark.parametrize("path", ["audio", "gan_theory"])
def test_japanese_page_renders_its_formulas(server, page, path):
    """In Japanese mode every formula is typeset by KaTeX: KaTeX elements are there, none is a KaTeX error box,
    and no raw LaTeX ($$, \\frac, …) is left in the text outside them."""
    _open(page, f"{server}/{path}?lang=ja")
    _no_exception(page)
    page.wait_for_selector(".katex", timeout=60_000)
    found = page.evaluate("""() => {
        const main = document.querySelector("[data-testid='stMain']").cloneNode(true);
        const n = main.querySelectorAll('.katex').length, displays = main.querySelectorAll('.katex-display').length;
        const errors = main.querySelectorAll('.katex-error').length;
        main.querySelectorAll('.katex, pre, code').forEach(e => e.remove());    // source listings may hold TeX
        return {n, displays, errors, text: main.textContent};
    }""")
    assert found["n"] > 5 and found["displays"] > 2, found["n"]
    assert found["errors"] == 0
    left = [s for s in RAW_TEX if s in found["text"]]
    assert not left, (left, found["text"][:500])
    page.locator(".katex-display").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"formulas_ja_{path}.png"), full_page=False)
