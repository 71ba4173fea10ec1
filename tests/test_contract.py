"""The contract battery (torchvision's op tester, scikit-learn's common tests): every chapter registered in
ui/chapters.py SYLLABUS whose page exists gets every check below, so the 26th chapter is tested the moment it is
registered and its page file exists.

Per chapter: its files in every layer; the engine imports neither streamlit nor plotly, the figures no streamlit;
the page runs in both languages at defaults, at every slider's ends and every select_slider's ends, and with whatever
a reader types (every text input and text area empty, blank, emoji, control characters, full-width Japanese and at
its longest; every number input at and beyond its ends: no exception, no section lost without a translated word
why, no metric arrow that contradicts its delta's sign); one page run
sends at most FIGURE_BUDGET bytes of plotly JSON and no WebGL trace; every locale key a run looks up exists in both
languages (keys built with f-strings included: they are recorded at run time); a page that trains gives the same
snapshots after two Steps in two fresh sessions, one in each language. Across chapters: no chapter imports another chapter's private names.
"""
from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, assert_ok, figure_specs, run_page
from ui import i18n
from ui.chapters import SYLLABUS, built_pages

FIGURE_BUDGET = 300_000          # bytes of plotly JSON per page run (CONTRIBUTING.md, "Budgets")
# Trace types plotly draws with WebGL. Streamlit re-mounts a chart whose figure changed, and each mount of one of these
# creates a WebGL context: ~0.4 s of Chromium's main thread per slider change on the Speech page where there is no GPU,
# and browsers cap the live contexts (~16). SVG traces draw a few thousand points faster than that.
WEBGL_TRACES = {"scattergl", "splom", "heatmapgl", "pointcloud", "scatter3d", "surface", "mesh3d", "cone",
                "streamtube", "isosurface", "volume", "scattermapbox", "choroplethmapbox", "densitymapbox",
                "parcoords"}
# Chapters allowed more than the budget, with the most they may send (none: every chapter fits).
OVER_BUDGET: dict[str, int] = {}

CHAPTERS = [(section, stem) for section, stem, _ in built_pages()]
IDS = [stem for _, stem in CHAPTERS]
ALL_STEMS = {stem for stems in SYLLABUS.values() for stem in stems}


def _page(section: str, stem: str) -> str:
    return f"pages/{section}/{stem}.py"


# --------------------------------------------------------------------------------------------------- files
@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_every_layer_exists(section, stem):
    for path in (f"engine/{section}/{stem}.py", f"engine/figures/{section}/{stem}.py",
                 f"tests/{section}/test_{stem}.py", f"bench/{section}/{stem}.py", f"locales/{stem}.toml"):
        assert (ROOT / path).is_file(), f"{stem}: {path} is missing"
    for lang in i18n.LANGS:
        assert i18n.lookup(f"{stem}.title", lang) and i18n.lookup(f"{stem}.blurb", lang)


def _imported_after(module: str, forbidden: tuple[str, ...]) -> list[str]:
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            f"print(','.join(m for m in {forbidden!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return [m for m in out.stdout.strip().split(",") if m]


@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_engine_is_math_only(section, stem):
    """librosa's rule: drawing lives in one place. The engine imports neither streamlit nor plotly; the figure
    builders import plotly but never streamlit."""
    assert _imported_after(f"engine.{section}.{stem}", ("streamlit", "plotly")) == []
    assert _imported_after(f"engine.figures.{section}.{stem}", ("streamlit",)) == []


COMMON_ENGINE = sorted(p for p in (ROOT / "engine" / "common").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", COMMON_ENGINE, ids=lambda p: p.stem)
def test_common_engine_is_math_only(path):
    assert _imported_after(f"engine.common.{path.stem}", ("streamlit", "plotly")) == []


def _owner(module: str) -> str | None:
    """The chapter stem a module belongs to (engine.<section>.<stem>, engine.figures.<section>.<stem>,
    pages.<section>.<stem>, bench.<section>.<stem>), or None for shared code."""
    parts = module.split(".")
    if parts[:2] in (["engine", "figures"], ["engine", "practice"]):
        parts = parts[1:]
    if len(parts) >= 3 and parts[0] in ("engine", "figures", "pages", "bench") and parts[2] in ALL_STEMS:
        return parts[2]
    return None


def test_no_chapter_imports_another_chapters_private_names():
    offences = []
    for path in [*ROOT.glob("engine/**/*.py"), *ROOT.glob("pages/**/*.py"), *ROOT.glob("ui/*.py")]:
        here = _owner(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                there = _owner(node.module)
                if there and there != here:
                    offences += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                                 if a.name.startswith("_")]
    assert not offences, offences


def _grad_blocks(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
                k in ast.unparse(item.context_expr)
                for item in node.items for k in ("no_grad", "inference_mode", "set_grad_enabled", "enable_grad")):
            yield node


def test_no_generator_yields_inside_a_grad_mode_block():
    """Grad mode is per thread; a generator suspended inside `with torch.no_grad():` leaves its caller's thread
    with gradients off until it is resumed or collected (CI once failed this way, far from the cause)."""
    offences = []
    for path in [*ROOT.glob("engine/**/*.py"), *ROOT.glob("pages/**/*.py"), *ROOT.glob("ui/*.py")]:
        for block in _grad_blocks(ast.parse(path.read_text(encoding="utf-8"))):
            offences += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(block)
                         if isinstance(n, (ast.Yield, ast.YieldFrom))]
    assert not offences, offences


# ---------------------------------------------------------------------------------------------- page runs
def _figure_bytes(at) -> int:
    return sum(len(spec) for spec in figure_specs(at))


def _webgl_traces(at) -> set[str]:
    import json

    return {tr.get("type", "scatter") for spec in figure_specs(at)
            for tr in json.loads(spec).get("data", [])} & WEBGL_TRACES


def _recorded_run(path: str, lang: str):
    """Run a page with every locale lookup recorded; (AppTest, keys looked up)."""
    i18n.RECORDED = set()
    try:
        at = run_page(path, lang=lang)
        return at, set(i18n.RECORDED)
    finally:
        i18n.RECORDED = None


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_page_runs_at_defaults(section, stem, lang):
    at, keys = _recorded_run(_page(section, stem), lang)
    assert_ok(at)
    assert at.title, "every page shows a title"
    missing = sorted(f"{k} ({other})" for k in keys for other in i18n.LANGS if not i18n.exists(k, other))
    assert not missing, f"locale keys looked up by the page but missing: {missing}"
    budget = OVER_BUDGET.get(stem, FIGURE_BUDGET)
    sent = _figure_bytes(at)
    assert sent <= budget, f"{stem}: {sent:,} bytes of plotly JSON in one run (budget {budget:,})"
    assert not _webgl_traces(at), f"{stem}: WebGL traces {_webgl_traces(at)} (SVG ones: see WEBGL_TRACES)"
    assert not _metric_sign_errors(at), _metric_sign_errors(at)


@pytest.mark.parametrize("end", ["min", "max"])
@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_page_runs_at_extreme_sliders(section, stem, end):
    at = run_page(_page(section, stem))
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
        assert _figure_bytes(at) <= OVER_BUDGET.get(stem, FIGURE_BUDGET) * 2, "figures at extremes stay bounded"


def _choose_label(widget, label: str) -> None:
    """Select `label` (an option as shown) on a select_slider, as the browser does: it sends the shown label, which
    Streamlit maps back to the option. AppTest's set_value wants the option itself, which it cannot list (its
    `options` are the labels): casting a label to the value's type broke on a numeric select_slider with a
    format_func ("1 k" is not an int)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    class Chosen(type(widget)):
        @property
        def _widget_state(self):
            ws = WidgetState()
            ws.id = self.id
            ws.string_array_value.data[:] = [label]
            return ws

    widget.__class__ = Chosen


@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_page_runs_at_extreme_select_sliders(section, stem):
    at = run_page(_page(section, stem))
    for end in (0, -1):
        for s in at.select_slider:
            if not isinstance(s.value, tuple):
                _choose_label(s, s.options[end])
        at.run()
        assert_ok(at)
        chosen = {s.key: s.options[end] for s in at.select_slider if s.key and not isinstance(s.value, tuple)}
        shown = {s.key: s.format_func(s.value) for s in at.select_slider if s.key in chosen}
        assert shown == {k: v for k, v in chosen.items() if k in shown}, "each select_slider took its end"


# ------------------------------------------------------------------------------------------- typed input
# What a reader can type (issue 29: clearing a BERT sentence raised an exception and the rest of the page vanished).
# Every text input and text area gets each of these, and every number input each end of its range and one step
# beyond (Streamlit drops a value out of range, as the browser refuses it), in both languages.
def _long_text(widget) -> str:
    n = widget.proto.max_chars or 10_000                        # the most a reader can type or paste
    unit = "ab 1, 2 東京\n" if widget.type == "text_area" else "ab 1, 2 東京 "
    return (unit * (n // len(unit) + 1))[:n]


HOSTILE_TEXT = {
    "empty": lambda w: "",
    "blank": lambda w: " \t\n  　",
    "emoji": lambda w: "😀 👍🏽 🎉 👨‍👩‍👧",
    "control": lambda w: "a\x00b\x07\x1b[31mc\r\nd\u200b\u202ee\ufeff",
    "fullwidth": lambda w: "「１，２，３」 東京 大阪 ＡＢＣ",
    "longest": _long_text,
}


def _number_ends(widget) -> dict:
    is_int = widget.proto.data_type == widget.proto.INT
    step = widget.step or 1
    lo = widget.min if widget.min is not None else -1e12
    hi = widget.max if widget.max is not None else 1e12
    ends = {"min": lo, "max": hi, "below": lo - step, "above": hi + step}
    return {k: int(v) if is_int else float(v) for k, v in ends.items()}


# Widget settings that reveal a chapter's other typed inputs (a toggle, a radio): one more pass with each.
REVEAL: dict[str, list[dict]] = {
    "bert": [{"bert.pair": True, "bert.corpus": "own"}],
    "ctc": [{"ctc.mode": "speech", "ctc.speech_target": "text"},      # random mode's box is matrix mode's
            {"ctc.mode": "speech", "ctc.speech_target": "phonemes"}],
    "docker": [{"docker.scenario": "text"}],
    "gpt3": [{"gpt3.model": "ja"}],
    "maml": [{"maml.new.mode": "own"}],
}


JAPANESE = __import__("re").compile(r"[\u3040-\u30ff\u4e00-\u9fff]")    # kana or kanji


def _typed_widgets(at) -> list:
    return [*at.text_input, *at.text_area, *at.number_input]


def _hostile_values(w) -> dict:
    return {k: f(w) for k, f in HOSTILE_TEXT.items()} if w.type != "number_input" else _number_ends(w)


def _headers(at) -> list[str]:
    return [h.value for h in at.header]


def _drive_typed_inputs(at, stem: str, reveal: dict) -> int:
    """Give every typed input each hostile value, rotating (input j gets value (i + j) mod n in run i, so one run
    mixes values) and alternating the language run by run (each input meets values in both; a run costs ~0.5-3 s and
    doubling them for every value in each language did not find more); inputs missed (hidden by an earlier refusal)
    get extra runs with the others back at their defaults. Returns the number of runs."""
    for key, value in reveal.items():
        at.session_state[key] = value
    expected = {}
    for lang in i18n.LANGS:                                    # the sections each language shows before any typing
        at.session_state["lang"] = lang
        at.run()
        assert_ok(at)
        expected[lang] = _headers(at)
    runs = 0
    done: dict[str, set[str]] = {}
    for i in range(12):
        lang = i18n.LANGS[i % len(i18n.LANGS)]
        at.session_state["lang"] = lang
        widgets = _typed_widgets(at)
        todo = {}
        for j, w in enumerate(widgets):
            name = w.key or w.label
            values = _hostile_values(w)
            left = [k for k in values if k not in done.setdefault(name, set())]
            if not left:
                continue
            rotated = list(values)[(i + j) % len(values)]
            todo[name] = (w, rotated if rotated in left else left[0], values)
        if not todo:
            break
        for name, (w, which, values) in todo.items():
            w.set_value(values[which])
            done[name].add(which)
        if i >= 6:                                             # extra runs: the inputs not set here at their defaults
            for w in widgets:
                if (w.key or w.label) not in todo:
                    w.set_value(w.proto.default if w.type != "number_input" or w.proto.HasField("default") else None)
        at.run()
        runs += 1
        setting = {name: which for name, (_, which, _) in todo.items()}
        assert not at.exception, (lang, setting, [(e.message, e.stack_trace[-3:]) for e in at.exception])
        assert not _metric_sign_errors(at), (lang, setting, _metric_sign_errors(at))
        empty = [d.proto.id for d in at.dataframe if len(d.value) == 0]
        assert not empty, f"{stem} ({lang}, {setting}): an empty table (Streamlit writes “empty”, in English)"
        lost = [h for h in expected[lang] if h not in _headers(at)]
        said = [e.value for e in (*at.error, *at.warning, *at.info)]
        assert not lost or said, f"{stem} ({lang}, {setting}): sections gone without a word why: {lost}"
        if lang == "ja":
            english = [m for m in said if not JAPANESE.search(m)]
            assert not english, f"{stem} ({setting}): messages not in Japanese: {english}"
    missed = {n: sorted(set(_hostile_values_by_name(at, n)) - v) for n, v in done.items()}
    assert not any(missed.values()), f"inputs that never got these values: {missed}"
    return runs


def _hostile_values_by_name(at, name: str) -> dict:
    for w in _typed_widgets(at):
        if (w.key or w.label) == name:
            return _hostile_values(w)
    return {}


def _metric_sign_errors(at) -> list[str]:
    """A metric's delta shows its direction from its first character (Streamlit reads "BWT −1.0" as a rise):
    every delta that shows a number must point the way of that number's sign."""
    import re

    from streamlit.proto.Metric_pb2 import Metric

    bad = []
    for m in at.metric:
        number = re.search(r"[-−+]?\d[\d,]*\.?\d*", m.proto.delta)
        if not number:
            continue
        text = number.group().replace("−", "-")
        value = float(text.replace(",", ""))
        want = (Metric.MetricDirection.NONE if value == 0 else
                Metric.MetricDirection.DOWN if value < 0 else Metric.MetricDirection.UP)
        if m.proto.direction != want:
            bad.append(f"{m.proto.label}: delta {m.proto.delta!r} drawn {Metric.MetricDirection.Name(m.proto.direction)}")
    return bad


TYPED = [(section, stem) for section, stem in CHAPTERS
         if any(w in (ROOT / _page(section, stem)).read_text(encoding="utf-8") or
                (ROOT / f"ui/{stem}.py").is_file() and w in (ROOT / f"ui/{stem}.py").read_text(encoding="utf-8")
                for w in ("text_input", "text_area", "number_input"))]


@pytest.mark.parametrize("section,stem", TYPED, ids=[stem for _, stem in TYPED])
def test_page_survives_whatever_is_typed(section, stem):
    """Every text input and text area empty, blank, emoji, control characters, full-width Japanese, at its longest;
    every number input at and beyond its ends; in both languages: no exception, no section of the page lost, and
    no metric whose arrow contradicts its sign. Chapters with inputs behind a toggle or radio get a second pass
    (REVEAL)."""
    from streamlit import config

    shown = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")         # the failure names the error, not a redaction
    try:
        at = run_page(_page(section, stem))
        assert_ok(at)
        _drive_typed_inputs(at, stem, {})
        for reveal in REVEAL.get(stem, []):
            _drive_typed_inputs(run_page(_page(section, stem)), stem, reveal)
    finally:
        config.set_option("client.showErrorDetails", shown)


# ------------------------------------------------------------------------------------------------ training
def _runs(at) -> dict:
    from ui.training import Run
    return {k: v for k, v in at.session_state.items() if isinstance(v, Run)}


def _same(a, b, path="snapshot") -> list[str]:
    """Where two snapshots differ (wall-clock fields excepted)."""
    from ui.training import WALL_CLOCK_FIELDS
    import torch

    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return [d for f in dataclasses.fields(a) if f.name not in WALL_CLOCK_FIELDS
                for d in _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")]
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"]
        return [d for k in a if k not in WALL_CLOCK_FIELDS for d in _same(a[k], b[k], f"{path}[{k!r}]")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, torch.Tensor):
        a, b = a.detach().cpu().numpy(), b.detach().cpu().numpy()
    if isinstance(a, np.ndarray):
        ok = a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        return [] if ok else [f"{path}: arrays differ"]
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return []
    try:
        return [] if a == b else [f"{path}: {a!r} vs {b!r}"]
    except Exception:                                        # noqa: BLE001 — objects without equality
        return []


def _two_steps(path: str, lang: str = "en"):
    at = run_page(path, lang=lang)
    assert_ok(at)
    runs = _runs(at)
    for key in runs:
        for _ in range(2):
            at.button(key=f"{key}.step").click().run()
            assert_ok(at)
            assert not _metric_sign_errors(at), _metric_sign_errors(at)
    return _runs(at)


@pytest.mark.parametrize("section,stem", CHAPTERS, ids=IDS)
def test_training_is_deterministic_given_its_seed(section, stem):
    first = _two_steps(_page(section, stem))
    if not first:
        pytest.skip(f"{stem} trains nothing live")
    # in the other language: step 0 is shared by every reader of a config whatever their language
    # (ui.training.first_snapshots), so what trains must not depend on it
    second = _two_steps(_page(section, stem), "ja")
    assert set(first) == set(second)
    for key, run in first.items():
        assert run.pulls > 0, f"{key}: Step advanced nothing"
        diffs = _same(run.snaps, second[key].snaps, key)
        assert not diffs, diffs[:5]


def test_every_cache_is_bounded():
    """Cached data per process stays bounded (issue #14): every `st.cache_data` has `max_entries` or `ttl`, and
    every `st.cache_resource` of a function that takes arguments has `max_entries` (a singleton is bounded)."""
    unbounded = []
    for path in [*ROOT.glob("pages/**/*.py"), *ROOT.glob("ui/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("cache_data", "cache_resource")):
                continue
            kws = {k.arg for k in node.keywords}
            if node.func.attr == "cache_data" and not kws & {"max_entries", "ttl"}:
                unbounded.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.args.args:
                for dec in fn.decorator_list:
                    if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                            and dec.func.attr == "cache_resource"
                            and "max_entries" not in {k.arg for k in dec.keywords}):
                        unbounded.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}")
    assert not unbounded, unbounded
