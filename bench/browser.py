"""What a reader waits for, measured in Debian's Chromium against a real server started as README says
(`python app.py`), fresh: `python -m bench browser`.

For Home and then every chapter in SYLLABUS (in order, as a reader coming through Home would):
1. first visit, following the sidebar's link as a reader does (same session, no reload): click → the script idle
   (the run's `script_finished` message has arrived and the page shows it), and the websocket bytes the server sent for it;
2. a later visit (Home in between), by the sidebar again; and the same page opened by its URL (a reload: a new
   session, the websocket connected again);
3. a slider change (the page's first slider nudged one step with the keyboard) → idle.
Targets (issue #14): ≤ 2 s to idle on a warm server, ≤ 3 s for a torch chapter on the first visit after a start
(coming through Home), ≤ 1 s for a slider change on pages that compute in < 0.3 s on the server; ≤ 300 kB of
figures per run (the contract battery checks the figure JSON exactly; here: everything the websocket carried).
Set BENCH_CHAPTERS=stem1,stem2 to measure a subset.

Screenshot mode (for checking every page by eye, issue #13): `python -m bench.browser --shots DIR [--width 1280]
[--lang en,ja] [--only home,ctc,...] [--narrow]` saves a full-page PNG of Home and every chapter at default settings
per language as DIR/<stem>_<lang>_<width>.png, each taken once the script run is idle and the charts and formulas
have rendered. `--narrow` is a phone (390 px wide) on the formula-heavy pages (NARROW_PAGES) unless --only says
otherwise. Nothing is asserted: the PNGs are for a human; the run prints one line per page (exception boxes and
error alerts counted).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from bench.common import streamlit_server

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
WARM_WAIT_S = 15.0          # a reader reading Home for a while: the warm-up thread finishes meanwhile
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NARROW_WIDTH = 390          # a phone
# Formula-heavy pages, looked at on a phone in --narrow mode.
NARROW_PAGES = ["gan_theory", "pix2pix", "vqvae", "ctc", "cfr", "gcn", "maml", "metric_learning", "gradcam",
                "shapley", "bert", "fcos"]


def _settle(page, timeout_ms: int = 180_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


class _Bytes:
    """Bytes received on the app's websocket since the last reset, and the script runs it saw finish (a
    `script_finished` ForwardMsg: the one sure sign that the run the click started is over)."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg = ForwardMsg
        self.n = 0
        self.finished = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if not isinstance(payload, (bytes, str)):
            return
        self.n += len(payload)
        if isinstance(payload, bytes):
            try:
                if self._msg.FromString(payload).WhichOneof("type") == "script_finished":
                    self.finished += 1
            except Exception:  # noqa: BLE001 — not a ForwardMsg
                pass

    def take(self) -> int:
        n, self.n = self.n, 0
        return n


def _idle_since(page, bytes_, t0: float, finished0: int, timeout_s: float = 180.0) -> float:
    """Seconds from t0 until a script run has finished since then and the page shows the script idle."""
    while bytes_.finished <= finished0:
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError("no script run finished")
        page.wait_for_timeout(10)
    page.wait_for_selector(IDLE, timeout=timeout_s * 1000)
    return time.perf_counter() - t0


def _visit(page, bytes_, url: str) -> tuple[float, int]:
    """Open a URL (a reload: a new session) → idle."""
    bytes_.take()
    f0, t0 = bytes_.finished, time.perf_counter()
    page.goto(url, wait_until="commit", timeout=180_000)
    return _idle_since(page, bytes_, t0, f0), bytes_.take()


def _click_to(page, bytes_, stem: str) -> tuple[float, int]:
    """Follow the sidebar's link to `stem` ("" for Home), as a reader does (same session, no reload) → idle."""
    link = page.locator(f"[data-testid='stSidebarNav'] a[href$='/{stem}']").first
    bytes_.take()
    f0, t0 = bytes_.finished, time.perf_counter()
    link.click(timeout=30_000)
    return _idle_since(page, bytes_, t0, f0), bytes_.take()


def _nudge_slider(page, bytes_) -> float | None:
    """The page's first slider in the main area nudged one step → idle; None on a page without one (its sliders, if
    any, are in the sidebar). A count taken the moment the run is idle can miss a slider React has not drawn yet."""
    slider = page.locator("[data-testid='stMain'] [data-testid='stSlider'] input[type='range']").first
    try:
        slider.wait_for(state="attached", timeout=3_000)
    except Exception:  # noqa: BLE001 — playwright's TimeoutError: no slider in the main area
        return None
    slider.focus()
    f0, t0 = bytes_.finished, time.perf_counter()
    page.keyboard.press("ArrowRight")
    return _idle_since(page, bytes_, t0, f0)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _full_page_png(page, path: Path, width: int) -> None:
    """A PNG of the whole page: Streamlit scrolls inside its main container, not the document, so the viewport is
    grown to the container's height (charts re-lay out; wait for idle again) before the shot."""
    height = page.evaluate("""() => {
        const m = document.querySelector("[data-testid='stMain']") || document.body;
        const blocks = m.querySelector("[data-testid='stMainBlockContainer']") || m;
        return Math.ceil(Math.max(m.scrollHeight, blocks.scrollHeight + blocks.getBoundingClientRect().top));
    }""")
    page.set_viewport_size({"width": width, "height": min(max(int(height) + 40, 600), 30_000)})
    page.wait_for_timeout(800)
    _settle(page)
    page.wait_for_timeout(700)               # plotly's resize and KaTeX layout after the last run
    page.screenshot(path=str(path), full_page=True)


_OVERFLOW_JS = """() => {
  // elements sticking out past the right edge of the viewport, unless a scrolling or clipping box holds them
  const W = window.innerWidth, out = [];
  const main = document.querySelector("[data-testid='stMain']") || document.body;
  for (const el of main.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 1) continue;
    let held = false;
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === "auto" || ox === "scroll" || ox === "hidden" || ox === "clip") { held = true; break; }
    }
    if (held) continue;
    if (out.some(o => o.contains(el))) continue;
    out.push(el);
  }
  return out.slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${(e.className && e.className.baseVal === undefined
    ? e.className : "").toString().split(" ")[0]} +${Math.round(e.getBoundingClientRect().right - W)}px`
    + ` "${(e.innerText || e.textContent || "").slice(0, 40).replace(/\\s+/g, " ")}"`).concat(
    out.length > 5 ? [`… ${out.length - 5} more`] : []);
}"""


def shots(out: Path, width: int, langs: list[str], only: list[str]) -> None:
    """Full-page screenshots of Home and every built chapter (or `only`) in each language, at default settings."""
    from playwright.sync_api import sync_playwright

    from ui.chapters import built_pages

    chromium = _chromium()
    if chromium is None:
        print("Debian's chromium is not installed (apt-get install chromium): skipped")
        return
    stems = ["home", *(stem for _, stem, _ in built_pages())]
    if only:
        stems = [s for s in stems if s in only]
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        for lang in langs:
            for stem in stems:
                # a fresh context per page: default settings, nothing left over from the page before
                ctx = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
                page = ctx.new_page()
                t0 = time.perf_counter()
                try:
                    # Home is the default page, served at the root (`/home` answers "Page not found")
                    path_ = "" if stem == "home" else stem
                    page.goto(f"{url}/{path_}?lang={lang}", wait_until="commit", timeout=180_000)
                    page.wait_for_timeout(300)
                    _settle(page)
                    page.wait_for_timeout(1500)      # charts and formulas draw after the run ends
                    _settle(page)
                    path = out / f"{stem}_{lang}_{width}.png"
                    wide = page.evaluate(_OVERFLOW_JS)        # before the viewport grows for the full-page shot
                    _full_page_png(page, path, width)
                    # the text a reader sees, charts' SVG text included, for a search for English left in Japanese
                    path.with_suffix(".txt").write_text(page.evaluate("""() => {
                        const m = document.querySelector("[data-testid='stMain']") || document.body;
                        const svg = Array.from(m.querySelectorAll('svg text')).map(e => e.textContent).join('\\n');
                        return m.innerText + '\\n--- chart text ---\\n' + svg; }"""))
                    exc = page.locator("[data-testid='stException']").count()
                    err = page.locator("[data-testid='stAlertContentError']").count()
                    print(f"{path.name:<40} {time.perf_counter() - t0:6.1f} s  exceptions {exc}  errors {err}  "
                          f"past the right edge {len(wide)}" + (f": {'; '.join(wide)}" if wide else ""), flush=True)
                except Exception as e:  # noqa: BLE001 - one page failing must not stop the others
                    print(f"{stem}_{lang}: FAILED {type(e).__name__}: {str(e)[:200]}", flush=True)
                finally:
                    ctx.close()
        browser.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.split("\n")[0])
    ap.add_argument("--shots", type=Path, help="save full-page screenshots into this folder instead of timing")
    ap.add_argument("--width", type=int, default=None, help="viewport width in px (default 1280; 390 with --narrow)")
    ap.add_argument("--lang", default="en,ja", help="languages, comma-separated")
    ap.add_argument("--only", default="", help="page stems (home, ctc, ...), comma-separated")
    ap.add_argument("--narrow", action="store_true", help="a phone's width on the formula-heavy pages")
    args = ap.parse_args(sys.argv[1:] if argv is None and __name__ == "__main__" else (argv or []))
    if args.shots is not None:
        only = [s for s in args.only.split(",") if s] or (NARROW_PAGES if args.narrow else [])
        width = args.width or (NARROW_WIDTH if args.narrow else 1280)
        shots(args.shots, width, [x for x in args.lang.split(",") if x], only)
        return
    timings()


def timings() -> None:
    from playwright.sync_api import sync_playwright

    from ui.chapters import built_pages

    chromium = _chromium()
    if chromium is None:
        print("Debian's chromium is not installed (apt-get install chromium): skipped")
        return
    only = set(filter(None, os.environ.get("BENCH_CHAPTERS", "").split(",")))
    chapters = [stem for _, stem, _ in built_pages() if not only or stem in only]
    rows = []
    with streamlit_server() as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        bytes_ = _Bytes(page)
        home_s, home_b = _visit(page, bytes_, f"{url}/?lang=en")
        print(f"{'Home (first request after start)':<34} {home_s:6.2f} s   {home_b / 1e3:8.1f} kB", flush=True)
        page.wait_for_timeout(WARM_WAIT_S * 1000)
        for stem in chapters:
            first_s, first_b = _click_to(page, bytes_, stem)        # from Home or the previous chapter
            slider_s = _nudge_slider(page, bytes_)
            _click_to(page, bytes_, "")                              # Home
            again_s, _ = _click_to(page, bytes_, stem)
            url_s, _ = _visit(page, bytes_, f"{url}/{stem}?lang=en")  # a reload: a new session
            rows.append((stem, first_s, first_b, again_s, slider_s, url_s))
            print(f"{stem:<34} first {first_s:6.2f} s {first_b / 1e3:8.1f} kB · later {again_s:6.2f} s · by URL "
                  f"{url_s:5.2f} s · slider " + ("  —" if slider_s is None else f"{slider_s:5.2f} s"), flush=True)
        browser.close()
    worst_first = max(r[1] for r in rows) if rows else 0.0
    worst_again = max(r[3] for r in rows) if rows else 0.0
    worst_bytes = max(r[2] for r in rows) if rows else 0
    worst_url = max(r[5] for r in rows) if rows else 0.0
    print(f"\nworst first visit {worst_first:.2f} s (target ≤ 3 s with torch) · worst later visit {worst_again:.2f} s "
          f"(target ≤ 2 s) · worst by URL (a reload, new session) {worst_url:.2f} s · most bytes in one run {worst_bytes / 1e3:.0f} kB (figures ≤ 300 kB)")


if __name__ == "__main__":
    main()
