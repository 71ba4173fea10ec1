"""Live charts updated in place (issue #25), in Debian's Chromium against the real server (`python app.py`).

While two chapters train (`ui.training`'s run, charts drawn with `ui.charts.live`), for 10 s, a look every 350 ms:
every chart is the same DOM node it was when training started (tagged with a JS property), none is without its
plot, and the plots receive new data in place (Plotly's `plotly_react` fires on the tagged node). A zoom (the x
range set by `Plotly.relayout` in the page, as a reader's drag does) survives three refreshes. Skips where Chromium
is absent, as tests/test_browser.py does.
"""
from __future__ import annotations

import re

import pytest

from test_browser import CHROMIUM, _no_exception, _open, browser, page, server  # noqa: F401 — fixtures

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
]

TAG = """() => {
  const plots = Array.from(document.querySelectorAll('.kicks-live-plot'));
  plots.forEach((gd, i) => {
    gd.__kicksTag = i; gd.__kicksPlots = 0;
    gd.on('plotly_react', () => { gd.__kicksPlots += 1; });    // a Plotly.react done: new data in place
  });
  window.__kicksTagged = plots;
  return plots.length;
}"""
WATCH = """async ([css, looks, every]) => {
  const gd = css && document.querySelector(css);  // the zoom: the chart's x range set as a reader's drag sets it
  let zoom = null;
  if (gd) {
    const r = gd._fullLayout.xaxis.range;
    zoom = [r[0], r[0] + (r[1] - r[0]) / 2];
    await window.__kicksPlotlyLib.relayout(gd, {'xaxis.range': zoom});   // the plot's own plotly, as a drag
    await new Promise(ok => setTimeout(ok, 50));  // the relayout's own redraw is not a refresh
  }
  const zoomPlots = gd ? gd.__kicksPlots : 0, out = [];
  for (let i = 0; i < looks; i++) {             // the looks run in the page: none waits for the test's process
    await new Promise(ok => setTimeout(ok, every));
    const now = Array.from(document.querySelectorAll('.kicks-live-plot'));
    out.push({
      same: now.length === window.__kicksTagged.length && now.every((g, j) => g === window.__kicksTagged[j]),
      connected: window.__kicksTagged.every(g => g.isConnected),
      drawn: now.map(g => !!g._fullLayout && g.querySelectorAll('.main-svg').length > 0),
      plots: window.__kicksTagged.map(g => g.__kicksPlots),
    });
  }
  const keys = window.__kicksTagged.map(g => ((g.closest('[class*=st-key-]') || {}).className || '').match(/st-key-\\S+/));
  return {looks: out, zoom, range: gd ? gd._fullLayout.xaxis.range : null, zoomPlots: gd ? gd.__kicksPlots - zoomPlots : 0,
          keys: keys.map(m => m && m[0])};
}"""


def _step(page) -> int:
    text = page.get_by_text(re.compile(r"Training… step [\d,]+")).first.inner_text()
    return int(re.search(r"step ([\d,]+)", text)[1].replace(",", ""))


@pytest.mark.parametrize("stem,zoomed", [("gan2d", "gan2d.fig.curves"), ("a3c", "a3c.fig.curves")])
def test_live_charts_keep_their_node_their_plot_and_the_readers_zoom(server, page, stem, zoomed):
    _open(page, f"{server}/{stem}?lang=en")
    page.wait_for_function("document.querySelectorAll('.kicks-live-plot .main-svg').length >= 2", timeout=60_000)
    page.get_by_role("button", name=re.compile(r"Train$")).first.click()
    page.get_by_text("Training…").first.wait_for(timeout=30_000)
    first = _step(page)
    page.wait_for_function(                     # the rerun that starts the timer is over: refreshes have begun
        f"""() => {{ const m = document.body.innerText.match(/Training… step ([\\d,]+)/);
                    return m && parseInt(m[1].replace(/,/g, '')) > {first}; }}""", timeout=60_000)
    page.wait_for_timeout(600)
    n = page.evaluate(TAG)
    assert n >= 2, n
    css = zoomed and ".st-key-" + re.sub(r"[^\w-]", "-", f"{zoomed}.0") + " .kicks-live-plot"   # its first panel
    seen = page.evaluate(WATCH, [css, 28, 350])                                         # 10 s, a look every 350 ms
    looks = seen["looks"]
    assert all(look["same"] and look["connected"] for look in looks), "a live chart was replaced by a new node"
    blank = [i for i, look in enumerate(looks) if not all(look["drawn"])]
    assert not blank, f"looks {blank} found a chart without its plot: {[looks[i]['drawn'] for i in blank]}"
    updated = looks[-1]["plots"]
    assert min(updated) >= 3, f"every chart received new data in place at least three times: {dict(zip(seen['keys'], updated))}"
    if zoomed:
        assert seen["zoomPlots"] >= 3, "three refreshes drew the zoomed chart"
        assert seen["range"] == pytest.approx(seen["zoom"]), "the reader's zoom survived the refreshes"
    page.get_by_role("button", name=re.compile(r"Pause$")).first.click()
    page.get_by_text("Paused at step").first.wait_for(timeout=30_000)
    _no_exception(page)
