""""Open this case in the chapter" (issue #24 / #25), for every chapter that ships practice generators: every
generator's setup names widgets the page binds to the URL, with labels the page shows; and the item whose link sets
the most values opens the chapter's page with every one of them taken — in Japanese, as a learner clicks it."""
from __future__ import annotations

import pytest

from engine.common import practice as P
from test_url_contract import _app, _bound, _url_value
from ui.chapters import SYLLABUS, is_built

CHAPTERS, CASES = [], []
for section, stems in SYLLABUS.items():
    for stem in stems:
        if not is_built(section, stem) or not P.generators(stem):
            continue
        CHAPTERS.append((section, stem))
        # the end-to-end case: the item whose link sets the most values
        best = max(((len(P.make(stem, n, s).setup), n, s) for n in P.generators(stem) for s in range(4)),
                   key=lambda c: c[0])
        if best[0]:
            CASES.append((section, stem, best[1], best[2]))

SELECTS = ("selectbox", "radio", "select_slider", "multiselect", "button_group")


@pytest.mark.parametrize("section,stem", CHAPTERS, ids=[c[1] for c in CHAPTERS])
def test_every_setup_names_a_bound_widget_and_a_shown_label(section, stem):
    """Every generator over 20 seeds: each setup key is a widget the page binds to the URL, and a select-type
    widget's value is one of its labels as shown in Japanese (Streamlit binds those by label)."""
    from ui.practice import link_setup

    at = _app(f"pages/{section}/{stem}.py", lang="ja")
    assert not at.exception, [e.value for e in at.exception]
    bound = _bound(at)
    problems, dynamic = set(), {}
    for name in P.generators(stem):
        for seed in range(20):
            url = link_setup(P.make(stem, name, seed), "ja")
            for k, v in url.items():
                if k not in bound:                    # a widget that appears with other settings: checked below
                    dynamic.setdefault(name, url)
                    continue
                kind, w = bound[k]
                if kind in SELECTS:
                    for label in (v if isinstance(v, list) else [v]):
                        if label not in w.options and name not in dynamic:
                            dynamic[name] = url     # options that depend on other settings: checked below
    # items whose keys or labels depend on other settings of the same link: open the link and check it all
    for name, url in dynamic.items():
        page = _app(f"pages/{section}/{stem}.py", url, lang="ja")
        assert not page.exception, [e.value for e in page.exception]
        shown = {k: _url_value(kind, w) for k, (kind, w) in _bound(page).items()}
        problems |= {f"{name}: {k}={u!r} not taken (shown: {shown.get(k)!r})" for k, u in url.items()
                     if k not in shown or not _same(u, shown[k])}
    assert not problems, sorted(problems)


def _same(link, shown) -> bool:
    """A link value and the widget's own URL form: one value or a list of one; numbers compared as numbers."""
    a = link if isinstance(link, list) else [link]
    b = shown if isinstance(shown, list) else [shown]
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        try:
            if float(x) != float(y):
                return False
        except ValueError:
            if x != y:
                return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("section,stem,name,seed", CASES, ids=[f"{c[1]}.{c[2]}" for c in CASES])
def test_item_link_sets_every_value(section, stem, name, seed):
    from ui.practice import link_setup

    item = P.make(stem, name, seed)
    url = link_setup(item, "ja")
    at = _app(f"pages/{section}/{stem}.py", url, lang="ja")
    assert not at.exception, [e.value for e in at.exception]
    shown = {k: _url_value(kind, w) for k, (kind, w) in _bound(at).items()}
    missing = sorted(k for k in url if k not in shown)
    assert not missing, f"{stem}.{name}: no bound widget for setup keys {missing}"
    wrong = {k: (u, shown[k]) for k, u in url.items() if not _same(u, shown[k])}
    assert not wrong, f"{stem}.{name}: the page did not take (link, shown): {wrong}"
