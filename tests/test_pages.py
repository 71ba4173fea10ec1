"""Common tests (scikit-learn style): every page under pages/ runs headlessly, in both languages,
at default widget values and with every slider pushed to its minimum and maximum."""
from __future__ import annotations

import pytest

from conftest import ROOT, assert_ok, run_page

PAGES = sorted(p.relative_to(ROOT) for p in (ROOT / "pages").rglob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page_runs_at_defaults(page, lang):
    at = run_page(page, lang=lang)
    assert_ok(at)
    assert at.title, "every page shows a title"


@pytest.mark.parametrize("end", ["min", "max"])
@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page_runs_at_extreme_sliders(page, end):
    at = run_page(page)
    # A slider can appear only after another is moved, so sweep a few times; keys already set are kept.
    done: set[str] = set()
    for _ in range(3):
        todo = [s for s in at.slider if s.key not in done]
        if not todo:
            break
        for s in todo:
            value = s.min if end == "min" else s.max
            s.set_value((value, value) if isinstance(s.value, tuple) else value)
            done.add(s.key)
        at.run()
        assert_ok(at)


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_page_runs_at_extreme_select_sliders(page):
    at = run_page(page)
    for end in (0, -1):
        for s in at.select_slider:
            if not isinstance(s.value, tuple):
                s.set_value(s.options[end] if not s.options else type(s.value)(s.options[end])
                            if isinstance(s.value, (int, float)) else s.options[end])
        at.run()
        assert_ok(at)
