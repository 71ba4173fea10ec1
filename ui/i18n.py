"""Strings per language: `locales/<file>.toml`, tables `[en]` and `[ja]` with the same keys.

Pure Python (no streamlit) so tests can check the key sets without a server.
A key is "<file>.<path>": `lookup("audio.intro", "ja")` reads `locales/audio.toml` → `[ja]` → `intro`;
further dots walk nested tables (`ctc.title` → `[ja.ctc] title`).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "locales"
LANGS = ("en", "ja")
DEFAULT_LANG = "en"
NEUTRAL = "tex"      # the language-neutral table (formulas)
# When a set, every key looked up is added to it: the contract tests record what a page run asked for.
RECORDED: set[str] | None = None


@lru_cache(maxsize=None)
def load(file: str) -> dict[str, dict]:
    """The parsed `locales/<file>.toml`: {"en": {...}, "ja": {...}}."""
    path = LOCALES / f"{file}.toml"
    if not path.is_file():
        raise KeyError(f"no locale file {path.name}")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def lookup(key: str, lang: str) -> str:
    """The text of `key` in `lang`; KeyError names the missing key."""
    if RECORDED is not None:
        RECORDED.add(key)
    file, _, path = key.partition(".")
    data = load(file)
    node = _walk(data.get(lang, {}), path)
    if node is None:
        node = _walk(data.get(NEUTRAL, {}), path)
    if node is None:
        raise KeyError(f"missing string {key!r} for language {lang!r}")
    if not isinstance(node, str):
        raise KeyError(f"{key!r} is a table, not a string")
    return node


def _walk(node, path: str):
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def table(key: str, lang: str) -> dict[str, str]:
    """Every string directly under the table `key` (e.g. "audio.labels"), for figure builders' label dicts."""
    file, _, path = key.partition(".")
    node = load(file).get(lang, {})
    for part in filter(None, path.split(".")):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if not isinstance(node, dict) or not node:
        raise KeyError(f"missing table {key!r} for language {lang!r}")
    return {k: v for k, v in node.items() if isinstance(v, str)}


def exists(key: str, lang: str = DEFAULT_LANG) -> bool:
    try:
        lookup(key, lang)
    except KeyError:
        return False
    return True


def flat_keys(table: dict, prefix: str = "") -> set[str]:
    """Every dotted key path of the string leaves under `table`."""
    keys: set[str] = set()
    for k, v in table.items():
        path = f"{prefix}{k}"
        keys |= flat_keys(v, path + ".") if isinstance(v, dict) else {path}
    return keys


def locale_files() -> list[str]:
    return sorted(p.stem for p in LOCALES.glob("*.toml"))
