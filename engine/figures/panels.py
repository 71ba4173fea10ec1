"""A row of subplots as one figure per panel, so that a narrow screen can stack them.

A figure made with `make_subplots(rows=1, cols=n)` keeps its n panels side by side at any width: on a 390 px phone
each panel is ~80 px wide, the titles print over each other and the axis titles and ticks collide. `split` cuts
such a figure into n figures, one per panel, each with its traces, axes, subplot title, shapes, annotations and
images, and the rest of the layout (height, margins, legend) unchanged; `ui.charts.panels` shows them in
`st.columns` (side by side on a laptop, stacked below ~640 px). Builders keep returning one figure, which their
tests inspect; only the page's way of showing it changes.
"""
from __future__ import annotations

import re

import plotly.graph_objects as go

_AXIS = re.compile(r"^([xy])axis(\d*)$")
_REF = re.compile(r"^([xy])(\d*)( domain)?$")


def _ref(letter: str, number: str) -> str:
    return f"{letter}{number if number not in ('', '1') else ''}"


def _columns(layout: dict) -> list[tuple[float, float, list[str]]]:
    """The figure's panels as (x0, x1, x refs) left to right, when its axes form one row of two or more panels;
    else []. Axes whose x domains are equal share a panel (an overlaid or secondary axis)."""
    xs, ys = {}, {}
    for name, axis in layout.items():
        m = _AXIS.match(name)
        if m:
            dom = tuple(round(float(v), 6) for v in (axis or {}).get("domain", (0.0, 1.0)))
            (xs if m[1] == "x" else ys)[_ref(m[1], m[2])] = dom
    if len(set(ys.values())) > 1:                    # several rows: a grid, left as it is
        return []
    panels: dict[tuple, list[str]] = {}
    for ref, dom in xs.items():
        panels.setdefault(dom, []).append(ref)
    if len(panels) < 2:
        return []
    return [(d[0], d[1], refs) for d, refs in sorted(panels.items())]


def widths(fig: go.Figure) -> list[float]:
    """The panels' relative widths (their x domains), for `st.columns`; [1.0] for a figure that is not a row."""
    cols = _columns(fig.layout.to_plotly_json())
    return [x1 - x0 for x0, x1, _ in cols] or [1.0]


def split(fig: go.Figure) -> list[go.Figure]:
    """One figure per panel of a one-row subplot grid, left to right; `[fig]` for any other figure (see
    `split_specs`). plotly's default template is left for each new figure to apply (passed in as a dict, every panel
    re-validated it: 3 of a panel's 3.5 ms)."""
    specs = split_specs(fig)
    if specs is None:
        return [fig]
    default = _default_template()
    out = []
    for spec in specs:
        layout = spec["layout"]
        if layout.get("template") == default:
            layout = {k: v for k, v in layout.items() if k != "template"}
        out.append(go.Figure({"data": spec["data"], "layout": layout}))
    return out


def split_specs(fig: go.Figure) -> list[dict] | None:
    """The panels of a one-row subplot grid as figure JSON ({"data", "layout"}, template included), left to right;
    None for any other figure. The live charts send these as they are (no plotly objects built only to be turned
    back into JSON).

    Each panel's axes are renamed to `x`/`y` (`x2`/`y2` … for overlaid ones) with the full width as domain; its
    subplot title becomes its layout title, centred over the chart; annotations, shapes and images follow the axes
    they refer to, or, in paper coordinates, the panel whose domain holds their x (the nearest one otherwise), with
    x rescaled to the panel; colour bars placed in paper x likewise. The figure's own layout title is left out of
    every panel: `ui.charts.panels` prints it above them. An axis shared with another panel (`matches`) takes that
    axis' settings, tick labels and title included, and ranges on its own; axes grow the margins to fit their labels
    (`automargin`).
    """
    layout = fig.layout.to_plotly_json()
    cols = _columns(layout)
    if not cols:
        return None
    x_of_y = {}
    for name, axis in layout.items():
        m = _AXIS.match(name)
        if m and m[1] == "y":
            x_of_y[_ref("y", m[2])] = (axis or {}).get("anchor", "x")
    for name, axis in layout.items():                # overlaid y axes follow the axis they overlay
        m = _AXIS.match(name)
        if m and m[1] == "y" and (axis or {}).get("overlaying"):
            x_of_y[_ref("y", m[2])] = x_of_y.get(axis["overlaying"], x_of_y[_ref("y", m[2])])
    base = {k: v for k, v in layout.items()
            if not _AXIS.match(k) and k not in ("annotations", "shapes", "images", "title")}

    def column_of_paper(x: float) -> int:
        for i, (x0, x1, _) in enumerate(cols):
            if x0 - 1e-6 <= x <= x1 + 1e-6:
                return i
        return min(range(len(cols)), key=lambda i: min(abs(x - cols[i][0]), abs(x - cols[i][1])))

    # each trace's JSON made once: it lands in one panel (decided by its axes as the figure names them)
    data = [(tj, hasattr(tr, "xaxis"), tj.get("xaxis") or "x", tj.get("yaxis") or "y")
            for tr in fig.data for tj in [tr.to_plotly_json()]]
    specs = []
    for i, (x0, x1, xrefs) in enumerate(cols):
        yrefs = sorted((y for y, x in x_of_y.items() if x in xrefs), key=lambda r: int(r[1:] or 1))
        xrefs = sorted(xrefs, key=lambda r: int(r[1:] or 1))
        rename = {old: _ref(old[0], str(j + 1)) for refs in (xrefs, yrefs) for j, old in enumerate(refs)}

        def new_ref(ref, paper=None):
            """A reference renamed into this panel; `paper` for paper refs; None when it belongs elsewhere."""
            if ref in (None, "paper"):
                return paper
            m = _REF.match(ref)
            if not m:
                return ref
            old = _ref(m[1], m[2])
            return None if old not in rename else rename[old] + (m[3] or "")

        def rescale(x):
            return (x - x0) / (x1 - x0) if x1 > x0 else x

        panel = dict(base)
        for old, new in rename.items():
            src = layout.get(f"{old[0]}axis{old[1:]}") or {}
            shared = src.get("matches")
            if shared and shared not in rename:      # shared with another panel: its ticks and title, shown here
                other = layout.get(f"{shared[0]}axis{shared[1:]}") or {}
                src = {**other, **{k: v for k, v in src.items() if k != "showticklabels"}}
            axis = {k: v for k, v in src.items() if k not in ("domain", "anchor", "overlaying", "matches",
                                                               "scaleanchor", "position")}
            axis.setdefault("automargin", True)      # a panel's own tick labels and title fit inside it
            if old[0] == "y" and "domain" in src:
                axis["domain"] = src["domain"]
            for key in ("anchor", "overlaying", "matches", "scaleanchor"):
                if src.get(key) in rename:
                    axis[key] = rename[src[key]]
            panel[f"{new[0]}axis{new[1:]}"] = axis
        for kind in ("annotations", "shapes", "images"):
            kept = []
            for item in layout.get(kind, ()):
                item = dict(item)
                xref, yref = item.get("xref"), item.get("yref")
                if xref in (None, "paper"):
                    if column_of_paper(float(item.get("x", item.get("x0", 0.5)) or 0)) != i:
                        continue
                    for key in ("x", "x0", "x1"):
                        if isinstance(item.get(key), (int, float)):
                            item[key] = rescale(item[key])
                else:
                    item["xref"] = new_ref(xref)
                    if item["xref"] is None:
                        continue
                if yref not in (None, "paper"):
                    item["yref"] = new_ref(yref)
                    if item["yref"] is None:
                        continue
                if kind == "annotations" and "title" not in panel and _is_subplot_title(item):
                    # centred over the whole chart, not over its plot area (which a wide y-axis title pushes right:
                    # a title as wide as a narrow column was cut at the right edge)
                    panel["title"] = dict(text=item["text"], font=item.get("font", {}), x=0.5, xref="container",
                                          xanchor="center", y=1.0, yref="paper", yanchor="bottom", pad=dict(b=8))
                    continue
                kept.append(item)
            if kept:
                panel[kind] = kept
        traces = []
        for tj, has_axes, x_ref, y_ref in data:
            if not has_axes:                             # a trace without axes (pie, table): the first panel
                if i == 0:
                    traces.append(tj)
                continue
            if x_ref not in xrefs:
                continue
            tj["xaxis"] = rename[x_ref]
            tj["yaxis"] = rename.get(y_ref, "y")
            for owner in (tj, tj.get("marker") or {}):
                bar = owner.get("colorbar")
                if isinstance(bar, dict) and isinstance(bar.get("x"), (int, float)):
                    owner["colorbar"] = {**bar, "x": rescale(bar["x"])}
            traces.append(tj)
        _legend_below_axis_title(panel)
        specs.append({"data": traces, "layout": panel})
    return specs


def _default_template() -> dict | None:
    """plotly's default template (`pio.templates.default`) as a figure's layout carries it; None when unset."""
    import plotly.io as pio
    name = pio.templates.default
    if not name:
        return None
    cached = _TEMPLATES.get(name)
    if cached is None:
        cached = _TEMPLATES[name] = go.Figure().layout.to_plotly_json().get("template")
    return cached


_TEMPLATES: dict[str, dict] = {}


def _legend_below_axis_title(panel: dict) -> None:
    """A horizontal legend under the plot (y < 0, a fraction of the plot's height) moved below the x-axis title that
    `automargin` now shows there: its top ~70 px under the plot instead of where the builder, whose margins left
    no room for the title, put it (CFR's legend was written over "step")."""
    leg = panel.get("legend") or {}
    y = leg.get("y")
    if not (leg.get("orientation") == "h" and isinstance(y, (int, float)) and y < 0
            and (panel.get("xaxis", {}).get("title") or {}).get("text")):
        return
    plot_px = (panel.get("height") or 450) - ((panel.get("margin") or {}).get("t") or 80) - 120
    panel["legend"] = {**leg, "y": min(y, -70 / max(plot_px, 60)), "yanchor": "top"}


def _is_subplot_title(a: dict) -> bool:
    """An annotation as make_subplots writes a subplot title (already rescaled to its panel): centred on the
    panel, just above the top of its plot area, in paper coordinates, without an arrow; one line (a layout title
    anchored at its bottom runs its second line into the plot, an annotation does not)."""
    return ("<br>" not in str(a.get("text", "")) and a.get("xref") in (None, "paper") and a.get("yref") in (None, "paper") and a.get("showarrow") is False
            and a.get("yanchor") == "bottom" and a.get("xanchor") == "center"
            and abs(float(a.get("x", 0)) - 0.5) < 1e-6 and abs(float(a.get("y", 0)) - 1.0) < 1e-6)


def title_text(fig: go.Figure) -> str:
    """The figure's layout title as plain text ("" when none): tags dropped, `<br>` as a space."""
    text = fig.layout.title.text or ""
    return re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " ", text)).strip()
