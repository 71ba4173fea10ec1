"""engine/common/text.py: numbers and labels typed with a Japanese IME, BOMs, line ends, encodings. The oracle is
Python's float()/int() on the ASCII spelling of the same numbers."""
from __future__ import annotations

import random

import pytest

from engine.common import text

FULL = str.maketrans("0123456789,.+-e ", "０１２３４５６７８９，．＋－ｅ　")


def test_full_width_numbers_equal_their_ascii_spelling():
    rng = random.Random(0)
    for _ in range(300):
        xs = [rng.choice([rng.randint(-10**6, 10**6), round(rng.uniform(-50, 50), rng.randint(0, 6)),
                          rng.uniform(-1, 1) * 10 ** rng.randint(-8, 8)]) for _ in range(rng.randint(1, 8))]
        ascii_text = ", ".join(repr(x) if isinstance(x, float) else str(x) for x in xs)
        assert text.parse_numbers(ascii_text) == [float(tok) for tok in ascii_text.split(", ")]
        assert text.parse_numbers(ascii_text.translate(FULL)) == [float(tok) for tok in ascii_text.split(", ")]


@pytest.mark.parametrize("typed, expected", [
    ("１，２，３", [1.0, 2.0, 3.0]),
    ("－１", [-1.0]),
    ("−0.5 ‐2 –3 —4 ー5", [-0.5, -2.0, -3.0, -4.0, -5.0]),     # minus sign, hyphen, dashes, prolonged sound mark
    ("１、２、３", [1.0, 2.0, 3.0]),                              # the ideographic comma
    ("1;2\t3\n4　5", [1.0, 2.0, 3.0, 4.0, 5.0]),                 # semicolons, tabs, lines, the ideographic space
    ("\ufeff-4, -2, 0, 1.5, 3", [-4.0, -2.0, 0.0, 1.5, 3.0]),    # a BOM
    ("．５, ＋２, 1e-3, 1E3", [0.5, 2.0, 0.001, 1000.0]),
])
def test_parse_numbers(typed, expected):
    assert text.parse_numbers(typed) == expected


@pytest.mark.parametrize("typed, code, params", [
    ("", "empty", {}), (" ,, ", "empty", {}),
    ("1, two, 3", "not_a_number", {"token": "two"}),
    ("1, nan", "not_a_number", {"token": "nan"}), ("inf", "not_a_number", {"token": "inf"}),
    ("1..2", "not_a_number", {"token": "1..2"}),
    ("1 2 3 4", "too_many", {"limit": 3}),
])
def test_parse_numbers_errors(typed, code, params):
    with pytest.raises(text.TextError) as err:
        text.parse_numbers(typed, max_count=3)
    assert (err.value.code, err.value.params) == (code, params)


def test_too_long():
    with pytest.raises(text.TextError) as err:
        text.parse_numbers("1" * 11, max_chars=10)
    assert (err.value.code, err.value.params) == ("too_long", {"limit": 10})


def test_integers_of_any_size_are_exact():
    big = 2**64 + 1                                   # not a float, not an int64
    assert text.parse_int(str(big)) == big and text.parse_int(str(big).translate(FULL)) == big
    assert text.parse_int("－７") == -7 and text.is_integer("＋０３") and not text.is_integer("1.0")
    assert text.parse_int(str(2**53 + 1)) != text.parse_int(str(2**53))        # float would merge them
    with pytest.raises(text.TextError):
        text.parse_int("12a")


def test_labels_keep_their_text():
    assert text.normalize_label("\ufeff ａｌｉｃｅ ") == "alice"
    assert text.normalize_label("ラーメン") == "ラーメン" and text.normalize_label("東京") == "東京"
    assert text.normalize_label("ｶﾀｶﾅ") == "カタカナ"


def test_lines_number_as_an_editor_does():
    assert text.lines("\ufeffa\r\nb\rc\n\nd") == [(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp932"])
def test_decode(encoding):
    csv = "始点,終点\n東京,大阪\n"
    assert text.decode(csv.encode(encoding)) == csv
    assert text.decode(b"\xff\xfe\xff") is not None                       # never raises
    assert "\ufffd" in text.decode(b"a\x80\xff,b")
