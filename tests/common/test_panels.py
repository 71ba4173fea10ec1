"""A row of subplots cut into one figure per panel (engine/figures/panels.py) and shown in columns (ui/charts.py).

The oracle is the figure itself: every trace, subplot title, shape, annotation and image of panel k of the original
is in figure k, with the same values, on the renamed axes; the axes keep their own settings."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from engine.figures.panels import split, title_text, widths


def _row(n: int = 3, **kw) -> go.Figure:
    fig = make_subplots(rows=1, cols=n, subplot_titles=[f"panel {c}" for c in range(1, n + 1)], **kw)
    for c in range(1, n + 1):
        fig.add_trace(go.Scatter(x=[0, 1, 2], y=[c, c + 1, c * 2], name=f"line {c}", showlegend=c == 1), 1, c)
        fig.update_yaxes(title_text=f"y{c}", range=[0, 10 * c], row=1, col=c)
        fig.update_xaxes(title_text=f"x{c}", row=1, col=c)
    fig.add_hline(y=5, row=1, col=2, annotation_text="five")
    fig.add_shape(type="rect", x0=0, x1=1, y0=0, y1=1, row=1, col=3)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h"))
    return fig


def test_each_panel_gets_its_traces_axes_title_and_shapes():
    fig = _row(3)
    panels = split(fig)
    assert len(panels) == 3
    for c, p in enumerate(panels, 1):
        assert [tr.name for tr in p.data] == [f"line {c}"]
        assert list(p.data[0].y) == [c, c + 1, c * 2] and p.data[0].xaxis in (None, "x")
        assert p.layout.yaxis.title.text == f"y{c}" and list(p.layout.yaxis.range) == [0, 10 * c]
        assert p.layout.xaxis.title.text == f"x{c}" and tuple(p.layout.xaxis.domain or (0, 1)) == (0, 1)
        # the subplot title is the panel's title, centred over the whole chart, just above its plot area
        assert f"panel {c}" not in [a.text for a in p.layout.annotations]
        assert p.layout.title.text == f"panel {c}" and p.layout.title.x == 0.5 and p.layout.title.xref == "container"
        assert p.layout.title.yref == "paper" and p.layout.title.y == 1 and p.layout.title.yanchor == "bottom"
        assert p.layout.title.font.size == fig.layout.annotations[0].font.size
        assert p.layout.height == 300 and p.layout.margin.t == 40 and p.layout.legend.orientation == "h"
        assert not any(k.startswith("xaxis") and k != "xaxis" for k in p.layout.to_plotly_json())
    # the hline and its label follow panel 2, the rectangle panel 3, with their references renamed
    assert [(s.xref, s.yref, s.y0) for s in panels[1].layout.shapes] == [("x domain", "y", 5)]
    assert "five" in [a.text for a in panels[1].layout.annotations]
    assert [(s.type, s.xref, s.yref) for s in panels[2].layout.shapes] == [("rect", "x", "y")]
    assert not panels[0].layout.shapes
    # nothing lost or duplicated
    assert sum(len(p.data) for p in panels) == len(fig.data)
    assert sum(len(p.layout.annotations) + 1 for p in panels) == len(fig.layout.annotations)


def test_widths_follow_the_column_widths():
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4])
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 2)
    w = widths(fig)
    assert len(w) == 2 and w[0] / w[1] == pytest.approx(1.5, rel=0.05)


def test_figures_that_are_not_a_row_are_left_alone():
    single = go.Figure(go.Scatter(x=[0, 1], y=[1, 2]))
    assert split(single) == [single] and widths(single) == [1.0]
    column = make_subplots(rows=2, cols=1)
    column.add_trace(go.Scatter(x=[0], y=[0]), 1, 1)
    assert split(column) == [column]
    grid = make_subplots(rows=2, cols=2)
    assert split(grid) == [grid]
    twin = make_subplots(specs=[[{"secondary_y": True}]])                # one panel, two y axes
    twin.add_trace(go.Scatter(x=[0], y=[0]))
    twin.add_trace(go.Scatter(x=[0], y=[5]), secondary_y=True)
    assert split(twin) == [twin]


def test_secondary_axes_stay_with_their_panel():
    fig = make_subplots(rows=1, cols=2, specs=[[{"secondary_y": True}, {"secondary_y": True}]])
    for c in (1, 2):
        fig.add_trace(go.Scatter(x=[0, 1], y=[c, c], name=f"a{c}"), 1, c)
        fig.add_trace(go.Scatter(x=[0, 1], y=[10 * c, 10 * c], name=f"b{c}"), 1, c, secondary_y=True)
    panels = split(fig)
    assert len(panels) == 2
    for c, p in enumerate(panels, 1):
        assert [(tr.name, tr.yaxis or "y") for tr in p.data] == [(f"a{c}", "y"), (f"b{c}", "y2")]
        assert p.layout.yaxis2.overlaying == "y" and p.layout.yaxis2.side == "right"


def test_a_shared_axis_shows_its_labels_in_every_panel_and_colour_bars_move_with_their_panel():
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True)
    fig.add_trace(go.Heatmap(z=[[0, 1], [1, 0]], colorbar=dict(x=0.43)), 1, 1)
    fig.add_trace(go.Heatmap(z=[[1, 0], [0, 1]]), 1, 2)
    fig.update_yaxes(title_text="y (cells)", row=1, col=1)
    assert fig.layout.yaxis2.showticklabels is False                   # side by side, panel 2 leans on panel 1's
    a, b = split(fig)
    assert b.layout.yaxis.matches is None and b.layout.yaxis.showticklabels is not False
    assert a.layout.yaxis.title.text == b.layout.yaxis.title.text == "y (cells)"
    assert a.layout.yaxis.automargin and b.layout.xaxis.automargin    # labels fit inside each panel
    x0, x1 = fig.layout.xaxis.domain
    assert a.data[0].colorbar.x == pytest.approx((0.43 - x0) / (x1 - x0))
    assert b.data[0].colorbar.x is None


def test_paper_annotations_go_to_the_panel_under_them_and_the_title_to_the_page():
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 2)
    fig.add_annotation(text="right", xref="paper", yref="paper", x=0.9, y=0.5, showarrow=False)
    fig.update_layout(title="Maps<br>compared <b>here</b>")
    a, b = split(fig)
    assert [x.text for x in b.layout.annotations] == ["right"] and not a.layout.annotations
    assert b.layout.annotations[0].x == pytest.approx((0.9 - fig.layout.xaxis2.domain[0])
                                                      / (fig.layout.xaxis2.domain[1] - fig.layout.xaxis2.domain[0]))
    assert a.layout.title.text is None and b.layout.title.text is None     # no subplot titles here
    assert title_text(fig) == "Maps compared here"


def test_split_figures_are_valid_json_of_bounded_size():
    fig = _row(4)
    panels = split(fig)
    whole = len(fig.to_json())
    parts = [len(p.to_json()) for p in panels]
    for p in panels:
        json.loads(p.to_json())
    # each part repeats the layout (template included), nothing else: at most a few kB more per panel
    assert sum(parts) <= whole + len(panels) * 12_000


def test_charts_panels_shows_one_chart_per_panel_in_columns():
    from streamlit.testing.v1 import AppTest

    def page():
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        from ui import charts

        fig = make_subplots(rows=1, cols=3)
        for c in (1, 2, 3):
            fig.add_trace(go.Scatter(x=[0, 1], y=[c, c]), 1, c)
        fig.update_layout(title="three panels")
        charts.panels(fig, key="demo")
        charts.panels(go.Figure(go.Scatter(x=[0], y=[0])), key="single")

    at = AppTest.from_function(page).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 4
    assert len(at.columns) == 3
    ys = [json.loads(c.proto.spec)["data"][0]["y"] for c in charts[:3]]
    assert [np.ravel(y).tolist() if not isinstance(y, dict) else y for y in ys] == [[1, 1], [2, 2], [3, 3]]
    assert at.markdown[0].value == "**three panels**"


def test_a_two_line_subplot_title_stays_an_annotation():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("one line", "first<br>second"))
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0]), 1, 2)
    a, b = split(fig)
    assert a.layout.title.text == "one line" and not a.layout.annotations
    assert b.layout.title.text is None and [x.text for x in b.layout.annotations] == ["first<br>second"]
    assert b.layout.annotations[0].x == pytest.approx(0.5) and b.layout.annotations[0].yanchor == "bottom"


def test_a_legend_under_the_plot_goes_below_the_x_axis_title():
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[0], y=[0], name="a"), 1, 1)
    fig.add_trace(go.Scatter(x=[0], y=[0], name="b"), 1, 2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_layout(height=330, margin=dict(t=40, b=5), legend=dict(orientation="h", y=-0.25))
    a, b = split(fig)
    plot_px = 330 - 40 - 120
    assert a.layout.legend.y == pytest.approx(-70 / plot_px) and a.layout.legend.yanchor == "top"
    assert b.layout.legend.y == -0.25                          # no x-axis title there: as the builder put it
    fig.update_layout(legend_y=-0.9)
    assert split(fig)[0].layout.legend.y == -0.9              # already far enough down


def _row_builders() -> dict[str, set[str]]:
    """{figure module stem: builders that draw a one-row grid of two or more panels}, read from the source."""
    import re

    from conftest import ROOT

    found: dict[str, set[str]] = {}
    for path in (ROOT / "engine" / "figures").rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        starts = [m.start() for m in re.finditer(r"^def ", src, re.M)] + [len(src)]
        for a, b in zip(starts, starts[1:]):
            body = src[a:b]
            if re.search(r"make_subplots\(\s*(rows=1,\s*cols=(?!1\b)|1,\s*(?!1\b)\w)", body):
                found.setdefault(path.stem, set()).add(re.match(r"def (\w+)", body)[1])
    return found


def test_every_page_shows_its_multi_panel_figures_through_charts_panels():
    """A one-row grid of panels passed to st.plotly_chart is unreadable on a phone: pages show them with
    ui.charts.panels (this list found the 26 of #29)."""
    import re

    from conftest import ROOT

    rows = _row_builders()
    assert "plot_matrices" in rows["continual"] and "plot_curves" in rows["a3c"]      # the reader finds them
    offenders = []
    for page in (ROOT / "pages").rglob("*.py"):
        src = page.read_text(encoding="utf-8")
        imported = dict(re.findall(r"from engine\.figures\.\w+ import (\w+) as (\w+)", src))
        for module, alias in imported.items():
            for fn in rows.get(module, ()):
                for m in re.finditer(rf"(\w+)\.plotly_chart\(\s*{alias}\.{fn}\(", src):
                    offenders.append(f"{page.relative_to(ROOT)}: {m[0]}")
    assert not offenders, ("one-row multi-panel figures shown with plotly_chart: use `charts.panels(fig, key=...)` "
                           f"(`from ui import charts`) so that a phone stacks the panels: {offenders}")


@pytest.mark.parametrize("template", [None, "plotly_white", "none"])
def test_each_panel_keeps_the_figures_template(template):
    """The default template is left for plotly to apply to each panel (no re-validation), any other one is carried
    over: every panel's template JSON equals the whole figure's."""
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[1, 2]), row=1, col=1)
    fig.add_trace(go.Heatmap(z=[[1, 2], [3, 4]]), row=1, col=2)
    if template is not None:
        fig.update_layout(template=template)
    whole = fig.layout.to_plotly_json().get("template")
    panels = split(fig)
    assert len(panels) == 2
    for panel in panels:
        assert panel.layout.to_plotly_json().get("template") == whole


def test_a_trace_lands_in_one_panel_whatever_its_axes_are_called():
    """The axis named `x` on the right: its trace goes to the right panel only (renaming the left panel's axes to
    x/y must not pull it in there too); split and split_specs agree."""
    from engine.figures.panels import split_specs
    fig = go.Figure(layout=dict(xaxis=dict(domain=[0.55, 1.0]), yaxis=dict(anchor="x"),
                                xaxis2=dict(domain=[0.0, 0.45]), yaxis2=dict(anchor="x2")))
    fig.add_trace(go.Scatter(x=[0, 1], y=[1, 2], name="right"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[2, 1], name="left", xaxis="x2", yaxis="y2"))
    specs = split_specs(fig)
    assert [[t["name"] for t in s["data"]] for s in specs] == [["left"], ["right"]]
    assert all(t["xaxis"] == "x" and t["yaxis"] == "y" for s in specs for t in s["data"])
    assert [[t.name for t in f.data] for f in split(fig)] == [["left"], ["right"]]
