"""Shareable setups (issue #25), for every chapter in SYLLABUS whose page exists.

1. Every input widget of a chapter that has a stable key is bound to the URL (`bind="query-params"`;
   `scripts/bind_widgets.py` adds it).
2. Round trip: every bound widget set to a value that is not its default, the URL that the browser would show built
   from those values (Streamlit's own encoding: numbers without a trailing .0, options by their displayed label,
   booleans as true/false, repeated keys for ranges and lists), opened in a fresh session: the same widget values and
   the same figure data.
3. Hostile query strings (unknown keys, wrong types, NaN, infinities, out of range, 5 000 characters) on every bound
   key: the page runs with no exception and every bound widget keeps its default.
"""
from __future__ import annotations

import json
import math

import pytest

from conftest import ROOT, assert_ok, figure_specs
from ui.chapters import built_pages

CHAPTERS = [(section, stem) for section, stem, _ in built_pages()]
IDS = [stem for _, stem in CHAPTERS]
INPUTS = ("slider", "select_slider", "selectbox", "radio", "multiselect", "checkbox", "toggle", "number_input",
          "text_input", "text_area", "button_group")
NOT_SETUP = ("practice", "_lang_widget", "train.", ".run.")     # the practice block and run controls are no setup
# An input picker's `<stem>.source` (default / upload / microphone) is not in the URL: a file cannot travel in a link.
# Values no widget of a chapter takes (a checkbox takes "true", a slider over [-3, 3] takes "-1": those are not hostile).
HOSTILE = ["NaN", "nan", "inf", "-inf", "1e309", "999999999", "-999999999", "abc", "", "[1,2]", "😀", "x" * 5000]


def _app(path: str, query: dict | None = None, lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=180)
    at.query_params["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def _widgets(at):
    for kind in INPUTS:
        for w in at.get(kind):
            key = getattr(w, "key", None) or ""
            if key and not any(s in key for s in NOT_SETUP) and not key.endswith(".source"):
                yield kind, w


def _bound(at) -> dict:
    return {w.key: (kind, w) for kind, w in _widgets(at) if w.proto.query_param_key}


def _num(v) -> str:
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return str(int(v))
    return str(v)


def _formatted(w, v) -> str:
    try:
        return str(w.format_func(v)) if getattr(w, "format_func", None) else str(v)
    except (KeyError, IndexError, TypeError):   # a format_func over the options as shown: the value is one
        return str(v)


def _url_value(kind: str, w):
    """The widget's value as Streamlit writes it into the URL."""
    v = w.value
    if kind == "slider":
        return [_num(x) for x in v] if isinstance(v, (list, tuple)) else _num(v)
    if kind == "select_slider":
        return [_formatted(w, x) for x in v] if isinstance(v, (list, tuple)) else [_formatted(w, v)]
    if kind in ("selectbox", "radio"):
        return _formatted(w, v)
    if kind in ("multiselect", "button_group"):
        return _labels(w, v)
    if kind in ("checkbox", "toggle"):
        return str(bool(v)).lower()
    if kind == "number_input":
        return _num(v)
    return v


def _labels(w, v) -> list[str]:
    vals = v if isinstance(v, (list, tuple)) else ([] if v is None else [v])
    return [_formatted(w, x) for x in vals]


def _nudged(kind: str, w):
    """A URL value for `w` that is not its current value (Streamlit's encoding), or None where there is none."""
    v = w.value
    if kind == "slider":
        lo, hi, step = w.min, w.max, w.step
        if isinstance(v, (list, tuple)):
            a, b = v
            new = (a, b + step) if b + step <= hi else (a - step, b) if a - step >= lo else None
            return None if new is None or new[0] > new[1] else [_num(type(a)(x)) for x in new]
        new = v + step if v + step <= hi else v - step
        return _num(type(v)(new)) if lo <= new <= hi and new != v else None
    if kind in ("selectbox", "radio", "select_slider", "multiselect", "button_group"):
        opts = list(w.options)
        current = _labels(w, v)
        if kind == "select_slider" and isinstance(v, (list, tuple)):
            i, j = opts.index(current[0]), opts.index(current[1])
            return [opts[i], opts[j - 1]] if j - 1 >= i and j > i else None
        others = [o for o in opts if o not in current]
        if not others:
            return None
        return [others[0]] if kind in ("multiselect", "button_group", "select_slider") else others[0]
    if kind in ("checkbox", "toggle"):
        return str(not bool(v)).lower()
    if kind == "number_input":
        step = w.step or 1
        new = v + step if w.max is None or v + step <= w.max else v - step
        return None if w.min is not None and new < w.min else _num(new)
    if kind in ("text_input", "text_area"):
        return (v or "") + " a"
    return None


def _figures(at) -> list:
    out = []
    for raw in figure_specs(at):
        spec = json.loads(raw)
        for tr in spec.get("data", []):
            tr.pop("uid", None)
        out.append(spec.get("data"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_a_link_reproduces_the_setup_and_hostile_links_fall_back(section, stem):
    page = f"pages/{section}/{stem}.py"
    at = _app(page)
    assert_ok(at)
    unbound = sorted(w.key for _, w in _widgets(at) if not w.proto.query_param_key )
    assert not unbound, f"{stem}: inputs with a key but no URL binding {unbound} (run scripts/bind_widgets.py)"
    bound = _bound(at)
    defaults = {k: w.value for k, (_, w) in bound.items()}
    url = {k: u for k, (kind, w) in bound.items() if not w.disabled and (u := _nudged(kind, w)) is not None}
    first, second = _app(page, url), _app(page, url)            # two readers open the same link
    assert_ok(first)
    opened = _bound(first)
    shown = {k: _url_value(kind, w) for k, (kind, w) in opened.items()}
    # a select whose options depend on another nudged setting (the photo's top classes) cannot take a label of the
    # old options: a reader's own link never holds one, so those are not failures
    not_taken = {k: (u, shown.get(k)) for k, u in url.items() if k in shown and shown[k] != u
                 and not (opened[k][0] in ("selectbox", "radio", "select_slider", "multiselect", "button_group")
                          and not set(u if isinstance(u, list) else [u]) <= set(opened[k][1].options))}
    assert not not_taken, f"{stem}: the page did not take these link values (link, shown): {not_taken}"
    # the maker's page had these values, and a page is a function of its widgets' values: two readers of the link
    # see the same values and the same figures
    assert {k: _url_value(kind, w) for k, (kind, w) in _bound(second).items()} == shown
    assert _figures(first) == _figures(second), f"{stem}: the same link draws different figures"

    hostile = {k: HOSTILE[i % len(HOSTILE)] for i, (k, (kind, _)) in enumerate(bound.items())
               if kind not in ("text_input", "text_area")}
    hostile.update({"no_such_key": "1", "x" * 300: "y" * 5000})
    bad = _app(page, hostile, lang="ja")
    assert_ok(bad)
    changed = {k: w.value for k, (kind, w) in _bound(bad).items() if k in defaults and w.value != defaults[k]
               and kind not in ("text_input", "text_area")}        # a text box takes any text: that is its value
    assert not changed, f"{stem}: hostile link values were taken: {changed}"
