"""Write `pages/<stem>.py`, the same few lines for every built chapter, and remove those of chapters no longer built.

`python scripts/page_stubs.py` after adding a chapter (tests/test_legacy_pages.py fails until it has run). Why they
exist: ui/legacy_pages.py (a server's first session under `streamlit run app.py` serves only top-level pages/*.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui.chapters import PAGES, built_pages  # noqa: E402
from ui.legacy_pages import STUB  # noqa: E402

FRAMED = {"home.py", "practice.py"}          # real pages at the top level: they start with `if frame(): st.stop()`


def main() -> None:
    wanted = {f"{stem}.py" for _, stem, _ in built_pages()}
    for path in sorted(PAGES.glob("*.py")):
        if path.name not in wanted | FRAMED and path.read_text(encoding="utf-8") == STUB:
            path.unlink()
            print(f"removed {path.relative_to(ROOT)}")
    for name in sorted(wanted):
        path = PAGES / name
        if not path.is_file() or path.read_text(encoding="utf-8") != STUB:
            path.write_text(STUB, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
