"""engine/ is math only: importing any engine module must not import streamlit or plotly
(librosa's rule: plotting lives in one place). engine/figures/ may import plotly, never streamlit."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

ENGINE = sorted(p for p in (ROOT / "engine").rglob("*.py")
                if p.name != "__init__.py" and "figures" not in p.relative_to(ROOT / "engine").parts)
FIGURES = sorted(p for p in (ROOT / "engine" / "figures").rglob("*.py") if p.name != "__init__.py")


def _module(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported_after(module: str, forbidden: tuple[str, ...]) -> list[str]:
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            f"print(','.join(m for m in {forbidden!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [m for m in out.stdout.strip().split(",") if m]


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.stem)
def test_engine_module_imports_neither_streamlit_nor_plotly(path):
    assert _imported_after(_module(path), ("streamlit", "plotly")) == []


@pytest.mark.parametrize("path", FIGURES, ids=lambda p: p.stem)
def test_figure_module_does_not_import_streamlit(path):
    assert _imported_after(_module(path), ("streamlit",)) == []
