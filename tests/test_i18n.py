"""One mechanism holds every string per language; a key missing in one language fails here."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT
from ui import i18n


@pytest.mark.parametrize("file", i18n.locale_files())
def test_same_keys_in_every_language(file):
    table = i18n.load(file)
    assert set(i18n.LANGS) <= set(table) <= {*i18n.LANGS, i18n.NEUTRAL}, \
        f"{file}.toml must have the tables {i18n.LANGS} (and optionally [{i18n.NEUTRAL}])"
    en = i18n.flat_keys(table["en"])
    for lang in i18n.LANGS:
        keys = i18n.flat_keys(table[lang])
        assert keys == en, f"{file}.toml: only in en: {sorted(en - keys)}, only in {lang}: {sorted(keys - en)}"


@pytest.mark.parametrize("file", i18n.locale_files())
def test_placeholders_agree_across_languages(file):
    table = i18n.load(file)
    for key in i18n.flat_keys(table["en"]):
        if "\\" in i18n.lookup(f"{file}.{key}", "en"):   # LaTeX: braces are not placeholders
            continue
        fields = {lang: set(re.findall(r"(?<!\{)\{([A-Za-z_]\w*)[^{}]*\}(?!\})", i18n.lookup(f"{file}.{key}", lang)))
                  for lang in i18n.LANGS}
        assert fields["en"] == fields["ja"], f"{file}.{key}: {fields}"


def _literal_keys():
    pattern = re.compile(r"""\bt\(\s*["']([a-z0-9_]+\.[A-Za-z0-9_.]+)["']""")
    for path in [*ROOT.glob("pages/**/*.py"), *ROOT.glob("ui/*.py"), ROOT / "app.py"]:
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            yield path.relative_to(ROOT), key


def test_every_literal_key_in_code_exists():
    missing = [(str(p), k) for p, k in _literal_keys() for lang in i18n.LANGS if not i18n.exists(k, lang)]
    assert not missing, missing


def test_every_chapter_has_title_and_blurb():
    from ui.chapters import SYLLABUS
    for stems in SYLLABUS.values():
        for stem in stems:
            for lang in i18n.LANGS:
                assert i18n.lookup(f"{stem}.title", lang)
                assert i18n.lookup(f"{stem}.blurb", lang)


def test_missing_key_raises_with_its_name():
    with pytest.raises(KeyError, match="common.no_such_key"):
        i18n.lookup("common.no_such_key", "en")


@pytest.mark.parametrize("file", i18n.locale_files())
def test_latex_is_not_double_escaped(file):
    """In a TOML literal string ('...') a backslash is literal: '\\\\frac' would reach st.latex as a line break."""
    table = i18n.load(file)
    for lang in i18n.LANGS:
        for key in i18n.flat_keys(table[lang]) | i18n.flat_keys(table.get(i18n.NEUTRAL, {})):
            value = i18n.lookup(f"{file}.{key}", lang)
            assert not re.search(r"\\\\[A-Za-z,;!]", value), f"{file}.{key} ({lang}): {value[:80]}"


@pytest.mark.parametrize("file", i18n.locale_files())
def test_formulas_live_once(file):
    """LaTeX that is the same in both languages belongs in [tex], not copied into [en] and [ja]; a [tex] key is not
    also a language key (it would never be read)."""
    table = i18n.load(file)
    en, ja = (i18n.flat_keys(table[lang]) for lang in i18n.LANGS)
    copied = [k for k in en & ja if "\\" in i18n.lookup(f"{file}.{k}", "en")
              and i18n.lookup(f"{file}.{k}", "en") == i18n.lookup(f"{file}.{k}", "ja")]
    assert not copied, f"{file}.toml: LaTeX copied verbatim into [en] and [ja]: {copied}"
    shadowed = i18n.flat_keys(table.get(i18n.NEUTRAL, {})) & (en | ja)
    assert not shadowed, f"{file}.toml: [tex] keys also in a language table: {sorted(shadowed)}"
