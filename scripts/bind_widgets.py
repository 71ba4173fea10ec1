"""Bind every chapter widget with a stable key to the URL (`bind="query-params"`, issue #25), in place.

`python scripts/bind_widgets.py [files...]` (default: pages/<section>/*.py and the chapter helpers in ui/) adds
`bind="query-params"` to each call of a Streamlit input widget that has a `key=` and no `bind=`. Keys made from data
(`hash(...)` of the settings) are bound too: the same data makes the same key. Run it again after adding a chapter; the
contract battery fails any chapter input with a key that is not bound (tests/test_contract.py, `UNBOUND`).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDGETS = {"slider", "select_slider", "selectbox", "radio", "toggle", "checkbox", "number_input", "text_input",
           "text_area", "multiselect", "segmented_control", "pills", "color_picker", "date_input", "time_input"}
SKIP_FILES = {"ui/__init__.py", "ui/practice.py", "ui/training.py", "ui/i18n.py", "ui/chapters.py"}
UNSTABLE: tuple[str, ...] = ()     # every key is bound: a data-made key is still the same for the same data


def bindable(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else None
    if name not in WIDGETS:
        return False
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    if "key" not in kw or "bind" in kw:
        return False
    key = ast.unparse(kw["key"])
    # an input picker's source (default / upload / microphone) stays out of the URL: a file cannot travel in a link
    return not key.rstrip("'\"").endswith(".source") and not any(u in key for u in UNSTABLE)


def bind_source(src: str, width: int = 120) -> tuple[str, int]:
    """`src` with every bindable call bound, and how many; a line that would pass `width` breaks before `bind=`."""
    tree = ast.parse(src)
    lines = src.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:            # ast columns count UTF-8 bytes
        return starts[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    calls = sorted((c for c in ast.walk(tree) if isinstance(c, ast.Call) and bindable(c)),
                   key=lambda c: (c.end_lineno, c.end_col_offset), reverse=True)   # last first: offsets stay valid
    for c in calls:
        end = offset(c.end_lineno, c.end_col_offset) - 1
        assert src[end] == ")", src[end - 20:end + 1]
        before = src[:end].rstrip()
        sep = " " if before.endswith(",") else ", "
        line_start = src.rfind("\n", 0, end) + 1
        if len(before[line_start:]) + len(sep) + len('bind="query-params")') > width:
            indent = len(lines[c.func.end_lineno - 1].encode()[:c.func.end_col_offset].decode()) + 1
            sep = ("" if before.endswith(",") else ",") + "\n" + " " * indent
        src = before + sep + 'bind="query-params"' + src[end:]
    return src, len(calls)


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted([*ROOT.glob("pages/*/*.py"), *ROOT.glob("ui/*.py")])
    total = 0
    for path in files:
        rel = path.resolve().relative_to(ROOT).as_posix()
        if rel in SKIP_FILES:
            continue
        src = path.read_text(encoding="utf-8")
        new, n = bind_source(src)
        if n:
            ast.parse(new)
            path.write_text(new, encoding="utf-8")
            total += n
            print(f"{rel}: {n} widget(s) bound")
    print(f"{total} widget(s) bound")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
