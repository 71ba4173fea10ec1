"""Charts that stay readable on a phone.

`panels(fig)` shows a one-row multi-panel figure (`make_subplots(rows=1, cols=n)`) as one chart per panel in
`st.columns`: side by side on a laptop, as the builder drew them; stacked, each at the full width, below ~640 px,
where Streamlit stacks columns (on a 390 px phone a 4-panel row left ~80 px per panel: titles over each other,
ticks colliding). The cut is `engine.figures.panels.split`; any other figure is shown as `st.plotly_chart` would.
"""
from __future__ import annotations

import functools

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from engine.figures import panels as _panels


def panels(fig: go.Figure, key: str | None = None, **kwargs) -> None:
    """`fig` one panel per column (keys `key.0`, `key.1`, …), its layout title above them as a caption."""
    figs = _panels.split(fig)
    if len(figs) == 1:
        st.plotly_chart(fig, key=key, **kwargs)
        return
    title = _panels.title_text(fig)
    if title:
        st.markdown(f"**{_escape(title)}**")
    for i, (col, panel) in enumerate(zip(st.columns(_panels.widths(fig), gap="small"), figs)):
        with col:
            st.plotly_chart(panel, key=None if key is None else f"{key}.{i}", **kwargs)


def _escape(text: str) -> str:
    """Plain text shown by st.markdown as it is (no emphasis, links or LaTeX from the figure's title)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|$<>~" else c for c in text)


# ------------------------------------------------------------------------------------------------- live charts
# While a model trains, the run's fragment redraws every chart about twice a second. `st.plotly_chart` (Streamlit
# 1.67) re-mounts a chart whose figure changed: the reader's zoom is lost at every refresh and the chart can flash
# empty. `live` draws the figure with a small components-v2 element instead: its node stays, and each refresh hands
# the existing plot the new figure with `Plotly.react`, with `layout.uirevision` set so a zoom, a pan or a legend
# choice survives (issue #25; `python -m bench livecharts` measures what a refresh costs the browser).
# plotly.js is Streamlit's own: the content-hashed chunk st.plotly_chart loads (`static/js/PlotlyChart.<hash>.js`,
# offline, served gzipped and `immutable` for a year), imported by its URL, so a first visit fetches it once over a
# cached route and a page that also has st.plotly_chart charts evaluates one plotly, not two. `plotly_loader()`, which
# the run object mounts in the sidebar once per script run, names that chunk, together with the drawing code (so each
# chart's element carries a 0.3 kB stub, not 3 kB of script, at every refresh); every chart waits for the library.
# Where that chunk cannot be found or imported (another Streamlit build), the loader falls back to the installed
# `plotly` package's plotly.min.js, sent as bytes once per session; should a page ever lack it (the one element that
# carried it replaced before it was drawn), the loader asks for it again.
LIVE_CHART = "kicks_live_chart"
_LIB_NAME = "kicks_plotly_lib"
_LIB_KEY = "charts.plotly_lib"
_SENT = "charts.plotly_sent"               # session state: this session's page has been sent plotly.js
_ASKED = "charts.plotly_asked"             # the last request for it the loader answered
_BYTES = "charts.plotly_bytes"             # session state: Streamlit's chunk failed here, send the package's bytes
_DEFAULT_HEIGHT = 450                       # plotly's own default, as st.plotly_chart uses it

# Streamlit's plotly theme, the part the figures rely on (st.plotly_chart applies it in the browser): the app's font,
# transparent backgrounds, light grid lines and Streamlit's categorical colours.
_LIB_JS = """
const THEME = {
  font: { family: '"Source Sans", sans-serif', color: "#31333F", size: 14 },
  paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
  colorway: ["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a", "#6d3fc0",
             "#d5dae5"],
  hoverlabel: { bgcolor: "#ffffff", bordercolor: "#d5dae5", font: { color: "#31333F" } },
  legend: { bgcolor: "rgba(0,0,0,0)" },
};
const AXIS = { gridcolor: "#e6eaf1", zerolinecolor: "#d5dae5", linecolor: "#d5dae5", automargin: true };
const IS_AXIS = /^[xy]axis\\d*$/;

function themed(layout, user) {
  const out = Object.assign({}, THEME, layout);
  out.font = Object.assign({}, THEME.font, layout.font || {});
  let axes = 0;
  for (const k of Object.keys(out)) if (IS_AXIS.test(k)) { out[k] = Object.assign({}, AXIS, out[k]); axes += 1; }
  if (!axes) { out.xaxis = Object.assign({}, AXIS); out.yaxis = Object.assign({}, AXIS); }
  for (const [ax, range] of Object.entries(user)) out[ax] = Object.assign({}, out[ax], { range, autorange: false });
  delete out.width;
  out.autosize = true;
  return out;
}

function plotly() {                               // a promise of our plotly.js, one per page
  const w = window;
  if (!w.__kicksPlotly) {
    let done; w.__kicksPlotly = new Promise(r => { done = r; }); w.__kicksPlotly.done = done;
  }
  return w.__kicksPlotly;
}

function live(component) {                        // one chart: its node stays, new data goes to Plotly.react
  const { data, parentElement } = component;
  let gd = parentElement.querySelector(".kicks-live-plot");
  if (!gd) {
    gd = document.createElement("div");
    gd.className = "kicks-live-plot";
    parentElement.appendChild(gd);
  }
  const fig = JSON.parse(new TextDecoder().decode(data));
  const layout = fig.layout || {};
  gd.style.height = (layout.height || %d) + "px";
  gd.__kicksFig = fig;                            // the newest figure: a slow load draws only the latest
  plotly().then(P => {
    if (gd.__kicksFig !== fig || !gd.isConnected) return;
    P.react(gd, fig.data || [], themed(layout, gd.__kicksUser || {}), { displaylogo: false, responsive: false });
    if (!gd.__kicksUser) {                        // the reader's zoom and pan, kept over new data (uirevision
      gd.__kicksUser = {};                        // keeps them too, unless a redraw raced the reader's drag)
      gd.on("plotly_relayout", ev => {
        for (const [k, v] of Object.entries(ev)) {
          const m = k.match(/^([xy]axis\\d*)\\.(autorange|range(?:\\[([01])\\])?)$/);
          if (!m || !gd._fullLayout[m[1]]) continue;
          if (m[2] === "autorange") { if (v) delete gd.__kicksUser[m[1]]; continue; }
          const r = (gd.__kicksUser[m[1]] || gd._fullLayout[m[1]].range).slice();
          if (m[3] === undefined) { r[0] = v[0]; r[1] = v[1]; } else { r[+m[3]] = v; }
          gd.__kicksUser[m[1]] = r;
        }
      });
    }
    if (!gd.__kicksResize && window.ResizeObserver) {
      gd.__kicksResize = new ResizeObserver(() => {
        if (gd._fullLayout && gd.isConnected) P.Plots.resize(gd).catch(() => {});    // hidden: drawn when shown
      });
      gd.__kicksResize.observe(gd);
    }
  });
  return () => {                                  // unmounted: the page changed or the chart left the script
    if (gd.__kicksResize) { gd.__kicksResize.disconnect(); gd.__kicksResize = null; }
    if (window.__kicksPlotlyLib && gd._fullLayout) window.__kicksPlotlyLib.purge(gd);
  };
}

export default function(component) {
  const { data, setStateValue } = component;
  const w = window;
  w.__kicksLive = live;
  for (const go of (w.__kicksLiveQ || []).splice(0)) go(live);
  const p = plotly();
  if (w.__kicksPlotlyLib || p.loading) return;
  if (data && data.chunk) {                       // Streamlit's own plotly chunk, next to its main bundle
    p.loading = true;
    const main = Array.from(document.querySelectorAll("script[type=module][src]"))
      .find(s => /\/static\/js\/index\.[\w-]+\.js$/.test(s.src));
    const url = new URL(data.chunk, main ? main.src : new URL("static/js/", document.baseURI)).href;
    import(/* @vite-ignore */ url).then(() => {
      if (!w.Plotly || !w.Plotly.react) throw new Error("no Plotly");
      w.__kicksPlotlyLib = w.Plotly;
      p.done(w.__kicksPlotlyLib);
    }).catch(() => { p.loading = false; setStateValue("asked", "bytes " + Date.now()); });
    return;
  }
  if (!data || !data.byteLength) {                // sent before and never evaluated on this page: ask again
    if (!p.asked) { p.asked = true; setStateValue("asked", String(Date.now())); }
    return;
  }
  // A classic script, so that the UMD bundle sets window.Plotly; ours is kept apart and window.Plotly given back:
  // Streamlit's own plotly (st.plotly_chart's) may be or become window.Plotly, and a plot must only ever be handled
  // by the instance that drew it (another one's relayout left a live chart that no longer took new data).
  p.loading = true;
  const before = w.Plotly;
  const url = URL.createObjectURL(new Blob([data], { type: "text/javascript" }));
  const s = document.createElement("script");
  s.src = url;
  s.onload = () => {
    URL.revokeObjectURL(url);
    w.__kicksPlotlyLib = w.Plotly;
    if (before !== undefined) w.Plotly = before;
    p.done(w.__kicksPlotlyLib);
  };
  document.head.appendChild(s);
}
""" % _DEFAULT_HEIGHT

_CHART_JS = """
export default function(component) {
  const w = window; let undo = null, gone = false;
  const go = live => { if (!gone) undo = live(component); };
  if (w.__kicksLive) go(w.__kicksLive); else (w.__kicksLiveQ = w.__kicksLiveQ || []).push(go);
  return () => { gone = true; if (undo) undo(); };
}
"""

_lib = st.components.v2.component(_LIB_NAME, js=_LIB_JS, html="<span></span>")
_chart = st.components.v2.component(LIVE_CHART, js=_CHART_JS, isolate_styles=False)


@functools.cache
def streamlit_plotly_chunk() -> str | None:
    """The file name of Streamlit's own plotly.js chunk (what st.plotly_chart loads), or None if there is not one."""
    from pathlib import Path

    found = sorted((Path(st.__file__).parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


@functools.cache
def _plotly_js() -> bytes:
    from importlib.resources import files

    return files("plotly").joinpath("package_data/plotly.min.js").read_bytes()


def plotly_loader() -> None:
    """plotly.js and the drawing code for the live charts (see above): one empty element in the sidebar per script
    run, mounted by the run object before its fragment, carrying the library the first time in a session."""
    from streamlit.errors import StreamlitDuplicateElementKey

    ss = st.session_state
    state = ss.get(_LIB_KEY)
    asked = state.get("asked") if hasattr(state, "get") else None
    if asked and asked != ss.get(_ASKED):          # the page says it never got the library
        ss[_ASKED], ss[_SENT] = asked, False
        if str(asked).startswith("bytes"):        # Streamlit's chunk would not import here
            ss[_BYTES] = True
    chunk = None if ss.get(_BYTES) else streamlit_plotly_chunk()
    try:
        with st.sidebar:                   # out of the chapter's flow: a 0-px element still gets a gap
            _lib(key=_LIB_KEY, data={"chunk": chunk} if chunk else b"" if ss.get(_SENT) else _plotly_js(),
                 default={"asked": None}, on_asked_change=lambda: None, height=0)
    except StreamlitDuplicateElementKey:   # a page with several runs: mounted by the first
        return
    ss[_SENT] = True


def live(fig: go.Figure, key: str, where=None) -> None:
    """A chart that a live-training refresh updates in place (see above), in the container `where` (a column;
    default: where the script is). Multi-panel rows are split as `panels` splits them, one live chart per panel
    (keys `key.0`, `key.1`, …)."""
    if where is not None:
        with where:
            live(fig, key)
        return
    specs = _panels.split_specs(fig)          # the panels' JSON: no plotly objects built only to be serialised
    if specs is None:
        _live_one(fig.to_plotly_json(), key)
        return
    title = _panels.title_text(fig)
    if title:
        st.markdown(f"**{_escape(title)}**")
    for i, (col, spec) in enumerate(zip(st.columns(_panels.widths(fig), gap="small"), specs)):
        with col:
            _live_one(spec, f"{key}.{i}")


def _live_one(spec: dict, key: str) -> None:
    # The figure's JSON ({"data", "layout"}) as bytes, as st.plotly_chart sends it (a dict would go through
    # json.dumps once more, with spaces); `uirevision` is the chart's key unless the figure has its own.
    layout = spec.setdefault("layout", {})
    layout.setdefault("uirevision", key)
    _chart(key=key, data=pio.to_json(spec, validate=False).encode(),
           height=int(layout.get("height") or _DEFAULT_HEIGHT))
