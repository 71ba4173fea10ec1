"""`ui.charts.live` (issue #25): what a live chart sends, and that every chapter that trains live draws with it.

The browser side (the same DOM node, no blank look, a zoom kept) is tests/test_browser_live.py.
"""
from __future__ import annotations

import ast
import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go

from conftest import ROOT, figure_specs


def st_file() -> str:
    import streamlit

    return streamlit.__file__


def test_a_live_chart_sends_the_figure_json_with_its_key_as_uirevision():
    from streamlit.testing.v1 import AppTest

    def page():
        import plotly.graph_objects as go
        import streamlit as st
        from plotly.subplots import make_subplots

        from ui import charts

        charts.plotly_loader()
        charts.live(go.Figure(go.Scatter(x=[0, 1, 2], y=[3.0, 1.0, 2.0]), layout={"height": 260}), key="one")
        fig = make_subplots(rows=1, cols=2)
        fig.add_trace(go.Scatter(x=[0, 1], y=[1, 1]), 1, 1)
        fig.add_trace(go.Scatter(x=[0, 1], y=[2, 2]), 1, 2)
        fig.update_layout(title="two panels")
        charts.live(fig, key="two", where=st.columns(2)[1])
        charts.live(go.Figure(go.Bar(x=[1], y=[1]), layout={"uirevision": "own"}), key="three")

    at = AppTest.from_function(page).run()
    assert not at.exception
    live = [e for e in at.get("bidi_component") if e.proto.component_name == "kicks_live_chart"]
    assert len(live) == 4 and len({e.proto.id for e in live}) == 4
    specs = [json.loads(s) for s in figure_specs(at)]
    assert len(specs) == 4 and not at.get("plotly_chart")                       # one + two panels + three
    one = specs[0]
    expected = go.Figure(go.Scatter(x=[0, 1, 2], y=[3.0, 1.0, 2.0]), layout={"height": 260}).to_plotly_json()
    assert one["data"][0]["x"] == expected["data"][0]["x"] == [0, 1, 2]
    assert one["layout"]["height"] == 260 and one["layout"]["uirevision"] == "one"
    assert [np.ravel(s["data"][0]["y"]).tolist() for s in specs[1:3]] == [[1, 1], [2, 2]]
    assert [s["layout"]["uirevision"] for s in specs[1:]] == ["two.0", "two.1", "own"]
    assert at.markdown[0].value == "**two panels**"
    # the library: Streamlit's own plotly chunk by name (a cached route), never 4.8 MB over the websocket
    from ui.charts import streamlit_plotly_chunk
    chunk = streamlit_plotly_chunk()
    assert chunk and (Path(st_file()).parent / "static" / "static" / "js" / chunk).stat().st_size > 1e6
    lib = [e for e in at.get("bidi_component") if e.proto.component_name == "kicks_plotly_lib"]
    assert len(lib) == 1 and json.loads(lib[0].proto.json) == {"chunk": chunk} and not lib[0].proto.bytes


def test_the_library_falls_back_to_the_plotly_package_when_the_chunk_will_not_import():
    """The page reports "bytes …" when Streamlit's chunk failed to import: from then on the session gets the
    installed plotly package's plotly.min.js once, and an empty element after that."""
    from streamlit.testing.v1 import AppTest

    def page():
        from ui import charts

        charts.plotly_loader()

    at = AppTest.from_function(page)
    at.session_state["charts.plotly_lib"] = {"asked": "bytes 123"}
    at.run()
    assert not at.exception
    lib = [e for e in at.get("bidi_component") if e.proto.component_name == "kicks_plotly_lib"]
    assert lib[0].proto.bytes == files(plotly).joinpath("package_data/plotly.min.js").read_bytes()
    at.run()                                    # a second run of the session: the library is not sent again
    lib = [e for e in at.get("bidi_component") if e.proto.component_name == "kicks_plotly_lib"]
    assert len(lib) == 1 and lib[0].proto.bytes == b""


def _live_draw_calls(path, root=ROOT) -> list[str]:
    """`.plotly_chart(` and `charts.panels(` calls inside the functions a page hands `training.live` (and the
    page's functions they call)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    funcs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    todo = [n.args[1].id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "live" and getattr(n.func.value, "id", "") == "training" and len(n.args) > 1
            and isinstance(n.args[1], ast.Name)]
    seen, bad = set(), []
    while todo:
        name = todo.pop()
        if name in seen or name not in funcs:
            continue
        seen.add(name)
        for n in ast.walk(funcs[name]):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in funcs:
                todo.append(n.func.id)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("plotly_chart",
                                                                                                 "panels"):
                bad.append(f"{path.relative_to(root)}:{n.lineno} in {name}")
    return bad


def test_every_live_chapter_draws_its_charts_with_charts_live():
    pages = [p for p in sorted((ROOT / "pages").rglob("*.py")) if "training.live(" in p.read_text(encoding="utf-8")]
    assert len(pages) >= 10
    bad = [b for p in pages for b in _live_draw_calls(p)]
    assert not bad, ("charts a live run redraws must be `charts.live(fig, key=...)` (updated in place; "
                     f"st.plotly_chart re-mounts them at every refresh): {bad}")


def test_the_draw_finder_finds_a_plotly_chart(tmp_path):
    src = tmp_path / "page.py"
    src.write_text("def helper(run):\n    st.plotly_chart(fig, key='a')\n\ndef draw(run):\n    helper(run)\n\n"
                   "training.live(run, draw)\n")
    assert _live_draw_calls(src, tmp_path) == ["page.py:2 in helper"]
