"""Text corpora that ship with the app, shared by the chapters that train on text (GPT-3's tiny model, word2vec).

- `english_text()`: Python's own documentation topics (`pydoc_data.topics`, ~465 kB of English, ships with CPython).
- `japanese_text()`: the app's own Japanese — every string of every `[ja]` table of locales/*.toml, in file order
  (no Japanese corpus ships with Python or the installed packages). It grows as chapters add text.
"""
from __future__ import annotations

from pathlib import Path


def english_text() -> str:
    import pydoc_data.topics as topics
    return "\n\n".join(topics.topics[k] for k in sorted(topics.topics))


def japanese_text(root: Path | str | None = None) -> str:
    import tomllib
    root = Path(root) if root else Path(__file__).resolve().parents[2]
    parts: list[str] = []

    def walk(o) -> None:
        if isinstance(o, str):
            parts.append(o)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    for f in sorted((root / "locales").glob("*.toml")):
        walk(tomllib.loads(f.read_text(encoding="utf-8")).get("ja", {}))
    return "\n".join(parts)
