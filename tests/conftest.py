"""Shared test helpers: run a page headlessly in a chosen language."""
from __future__ import annotations

import io
import os
import sys

# As app.py does before any page imports torch: one intra-op thread per call (tests, like readers, share 2 cores).
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run_page(path: str | Path, *, lang: str = "en", timeout: float = 120):
    """AppTest of one page file (relative to the repo root), already run once."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    at.query_params["lang"] = lang
    return at.run()


def assert_ok(at) -> None:
    """No exception element and no uncaught error on the page."""
    assert not at.exception, [e.value for e in at.exception]


def wav_bytes(y: np.ndarray, sr: int, subtype: str = "PCM_16", fmt: str = "WAV") -> bytes:
    """Encode samples (n,) or (n, channels) in memory."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, y, sr, subtype=subtype, format=fmt)
    return buf.getvalue()


def box_png(h: int = 90, w: int = 120, box: tuple[int, int, int, int] = (20, 70, 30, 100)) -> bytes:
    """A PNG upload: a yellow box (rows box[0]:box[1], columns box[2]:box[3]) on black, h × w."""
    from PIL import Image
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[box[0]:box[1], box[2]:box[3]] = (250, 200, 30)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def tone() -> tuple[np.ndarray, int]:
    """A 1 s, 440 Hz + 1 kHz test tone at 16 kHz."""
    sr = 16000
    t = np.arange(sr) / sr
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), sr


@pytest.fixture(autouse=True)
def _grad_mode_is_left_on():
    """Autograd's grad mode is per thread: a test (or an engine generator suspended inside `torch.no_grad()`) that
    leaves it off breaks every later test that differentiates, far from the cause. Fail at the cause instead."""
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        assert torch.is_grad_enabled(), "this test left autograd's grad mode off in the main thread"


def figure_specs(at) -> list[str | bytes]:
    """The plotly JSON of every chart an AppTest run drew: st.plotly_chart's, and the live charts' (`ui.charts.live`,
    a components-v2 element whose data is the same JSON, as bytes)."""
    from ui.charts import LIVE_CHART

    return [e.proto.spec for e in at.get("plotly_chart")] + [
        e.proto.bytes for e in at.get("bidi_component") if e.proto.component_name == LIVE_CHART]
