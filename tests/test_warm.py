"""No cold start: the warm-up thread that app.py starts once per process imports the heavy libraries and fills
the shared models' caches, without touching any process-wide setting."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

PROBE = r"""
import os, sys, time
sys.path.insert(0, {root!r})
threads_before = os.environ.get("OMP_NUM_THREADS")
from ui import warm
assert "torch" not in sys.modules and "shap" not in sys.modules
status = warm.start()
assert warm.start() is status                       # once per process
t0 = time.time()
while not status["done"] and time.time() - t0 < 600:
    time.sleep(0.2)
assert status["done"], "warm-up did not finish"
missing = [m for m in warm.MODULES if m not in sys.modules]
assert not missing, missing
from ui import models
t1 = time.perf_counter(); model = models.mobilenet_v2(); took = time.perf_counter() - t1
assert took < 0.5, f"the shared model was not cached by the warm-up ({{took:.2f}} s)"
from ui import bert
t1 = time.perf_counter(); bert.finetune(); took = time.perf_counter() - t1
assert took < 0.5, f"the BERT page's fine-tuning curve was not cached by the warm-up ({{took:.2f}} s)"
assert os.environ.get("OMP_NUM_THREADS") == threads_before
import gc
assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()    # the loaded libraries are out of the GC's sight
print("ok", status["errors"])
"""


@pytest.mark.slow
def test_warm_up_imports_the_heavy_libraries_and_loads_the_shared_model():
    out = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok {}"), out.stdout


def test_streamlit_does_not_collect_all_garbage_after_every_run():
    """Streamlit's default `runner.postScriptGC` costs ~0.3 s of held GIL per script run once torch is loaded."""
    import tomllib
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["runner"]["postScriptGC"] is False


def test_page_imports_lists_a_page_scripts_top_level_imports(tmp_path):
    from ui import warm

    page = tmp_path / "page.py"
    page.write_text("import numpy as np, json\nfrom engine.common import classifier, digits\nfrom . import x\n"
                    "try:\n    import shap\nexcept ImportError:\n    shap = None\n"
                    "def f():\n    import torchvision\n", encoding="utf-8")
    assert warm.page_imports(page) == ("numpy", "json", "engine.common", "engine.common.classifier",
                                       "engine.common.digits", "shap")
    # every chapter: what the page imports first-hand is in the list (checked against the page's own source text)
    from ui.chapters import built_pages
    for _, stem, path in built_pages():
        names = warm.page_imports(path)
        assert names, stem
        for name in names:
            assert name.split(".")[-1] in path.read_text(encoding="utf-8"), (stem, name)


def test_the_warm_up_gives_way_to_a_reader_run_for_at_most_yield_s(monkeypatch):
    import threading
    import time

    from ui import warm

    status = {"yielded_s": 0.0}
    warm._give_way(status)
    assert status["yielded_s"] < 0.05                      # no reader: no wait

    def reader(seconds):
        with warm.reader_run():
            time.sleep(seconds)

    th = threading.Thread(target=reader, args=(0.6,))
    th.start()
    time.sleep(0.05)
    warm._give_way(status)
    th.join()
    assert 0.4 < status["yielded_s"] < 1.0                 # waited for the run to end
    monkeypatch.setattr(warm, "YIELD_S", 0.3)
    status["yielded_s"] = 0.0
    th = threading.Thread(target=reader, args=(1.5,))
    th.start()
    time.sleep(0.05)
    warm._give_way(status)
    assert 0.25 < status["yielded_s"] < 0.9                # but not longer than YIELD_S
    th.join()
    assert warm._READERS[0] == 0


@pytest.fixture
def bars(monkeypatch) -> list[tuple[float, str]]:
    """What ui.warm draws as progress bars, as (position, text); (-1, "") when a bar goes."""
    from ui import warm

    shown: list[tuple[float, str]] = []

    class Bar:
        def progress(self, value, text=""):
            shown.append((value, text))

        def empty(self):
            shown.append((-1.0, ""))

    class FakeSt:
        @staticmethod
        def progress(value, text=""):
            shown.append((value, text))
            return Bar()

    monkeypatch.setattr(warm, "st", FakeSt)
    return shown


def test_a_pages_first_run_shows_what_is_loading_while_its_imports_take_time(tmp_path, monkeypatch, bars):
    """loading_ui imports the page's modules in a helper thread and names the slow one in a moving progress bar."""
    import sys

    from ui import warm

    (tmp_path / "kicks_slow_probe_mod.py").write_text("import time\ntime.sleep(1.2)\n", encoding="utf-8")
    page = tmp_path / "page.py"
    page.write_text("import json\nimport kicks_slow_probe_mod\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    shown = bars
    warm.loading_ui(page)
    assert "kicks_slow_probe_mod" in sys.modules
    texts = [text for _, text in shown if text]
    assert len(texts) >= 2 and all("kicks_slow_probe_mod" in x and "2" in x for x in texts), texts
    assert shown[-1] == (-1.0, "")                         # the bar goes once the imports are done
    shown.clear()
    warm.loading_ui(page)                                   # once per process and page
    assert shown == []


def test_wait_for_shows_a_moving_bar_while_a_first_computation_takes_time(bars):
    """wait_for runs the work in a helper thread; past SHOW_AFTER_S the page shows a bar whose position grows and
    whose text names the work and the seconds so far; the bar goes at the end; the result and exceptions pass."""
    import threading
    import time

    from ui import warm

    shown = bars
    page_thread = threading.current_thread()
    ran_in: list = []

    def slow(x, y=0):
        ran_in.append(threading.current_thread())
        time.sleep(1.3)
        return x + y

    assert warm.wait_for(slow, 2, y=3, what="the probe work", expect_s=1.0) == 5
    assert ran_in and ran_in[0] is not page_thread
    bars = [(v, text) for v, text in shown if text]
    assert len(bars) >= 3, shown
    assert all("the probe work" in text for _, text in bars)
    values = [v for v, _ in bars]
    assert values == sorted(values) and values[-1] > values[0] and 0 < values[0] and values[-1] < 1
    assert shown[-1] == (-1.0, "")
    shown.clear()
    assert warm.wait_for(lambda: "quick", what="x") == "quick" and shown == []    # fast work: no bar at all

    def broken():
        raise KeyError("no such thing")

    with pytest.raises(KeyError, match="no such thing"):
        warm.wait_for(broken, what="x")

