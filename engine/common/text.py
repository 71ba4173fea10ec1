"""Text a reader types or uploads, read the same way in every chapter.

A Japanese IME types full-width digits, commas and minus signs (「１，２，３」, 「－１」, 「−0.5」), Excel saves CSV with a
UTF-8 byte-order mark (or, in Japanese Windows, as Shift_JIS), and lines end in CR LF. Everything here is numpy-free
and has no UI: a reason a text cannot be used is a `TextError` whose `code` the page translates with
`t(f"common.text.{code}", **err.params)` (locales/common.toml, table `text`).
"""
from __future__ import annotations

import re
import unicodedata

BOM = "\ufeff"
# Every character a reader may type for a minus sign: ASCII hyphen-minus's look-alikes (the minus sign, hyphens and
# dashes, the small and full-width hyphen-minus) and the katakana prolonged sound mark 「ー」 that an IME gives for
# the "-" key in kana mode. NFKC turns only the full-width "－" into "-"; the others stay unless mapped here.
MINUS_SIGNS = "\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe63\uff0d\u30fc\uff70"
_MINUS = str.maketrans({c: "-" for c in MINUS_SIGNS} | {"\u3001": ",", "\uff64": ","})   # 、 and ､ → ,
_SEPARATORS = re.compile(r"[,;\s]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


class TextError(ValueError):
    """Text a chapter cannot use. `code` is a key of locales/common.toml's `text` table, `params` fill its
    placeholders (`line`: 1-based line number, `token`: the offending word, `limit`: a bound)."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}")
        self.code, self.params = code, params


def strip_bom(text: str) -> str:
    """`text` without a leading UTF-8 byte-order mark (U+FEFF), which Excel writes at the start of a CSV."""
    return text[1:] if text.startswith(BOM) else text


def decode(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (with or without BOM), UTF-16 with its BOM, else Shift_JIS (cp932, Excel's
    Japanese CSV) when the bytes are valid cp932 and not UTF-8, else UTF-8 with U+FFFD for undecodable bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return strip_bom(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        decoded = data.decode("cp932")
        # Python's cp932 also maps the unused bytes 0x80, 0xA0, 0xFD-0xFF (to U+0080, U+F8F0-U+F8F3): not a CSV
        if not re.search("[\x80-\x9f\ue000-\uf8ff]", decoded):
            return decoded
    except UnicodeDecodeError:
        pass
    return strip_bom(data.decode("utf-8", errors="replace"))


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits, 「，」「．」「＋」 and the ideographic space become ASCII) and every minus-like
    sign (`MINUS_SIGNS`) becomes "-", 「、」 becomes ","; a leading BOM is dropped."""
    return unicodedata.normalize("NFKC", strip_bom(text)).translate(_MINUS)


def normalize_label(text: str) -> str:
    """A typed or uploaded label (a node id, a token): NFKC only, so 「ａｂｃ」 = "abc" and 「１２」 = "12", but 「ラーメン」
    keeps its 「ー」; a leading BOM dropped, blanks around it trimmed."""
    return unicodedata.normalize("NFKC", strip_bom(text)).strip()


def lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, line) of `text` after `strip_bom`, for CR LF, CR or LF line ends; blank lines kept
    (so the numbers are the ones an editor shows)."""
    return list(enumerate(strip_bom(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1))


def parse_number(token: str, *, line: int | None = None) -> float:
    """One number as a reader may type it ("-1.5", "１．５", "−2", "1e-3"); TextError "not_a_number" otherwise
    (`nan` and `inf` are not numbers here)."""
    s = normalize(token).strip()
    if not _NUMBER.fullmatch(s):
        raise TextError("not_a_number", token=token.strip(), **({} if line is None else {"line": line}))
    return float(s)


def is_integer(token: str) -> bool:
    """Whether `token` (after `normalize`) is an integer, of any size ("123", "-７", "18446744073709551617")."""
    return bool(_INTEGER.fullmatch(normalize(token).strip()))


def parse_int(token: str) -> int:
    """An integer of any size, read exactly (never through float): "１２３" → 123; TextError "not_an_integer"."""
    s = normalize(token).strip()
    if not _INTEGER.fullmatch(s):
        raise TextError("not_an_integer", token=token.strip())
    return int(s)


def parse_numbers(text: str, *, max_count: int | None = None, max_chars: int | None = None) -> list[float]:
    """Numbers separated by commas, semicolons, spaces or new lines, as typed with or without an IME:
    "-4, -2, 0, 1.5" = 「－４，－２，０，１．５」 = "-4 -2 0 1.5". TextError: "too_long" (more than `max_chars`
    characters), "empty", "too_many" (more than `max_count`), "not_a_number" (the first bad token)."""
    if max_chars is not None and len(text) > max_chars:
        raise TextError("too_long", limit=max_chars)
    tokens = [tok for tok in _SEPARATORS.split(normalize(text)) if tok]
    if not tokens:
        raise TextError("empty")
    if max_count is not None and len(tokens) > max_count:
        raise TextError("too_many", limit=max_count)
    return [parse_number(tok) for tok in tokens]
