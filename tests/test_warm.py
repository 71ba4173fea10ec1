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
