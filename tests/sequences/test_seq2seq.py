"""Encoder–decoder with attention: the shared task module (engine/common/seqtasks.py) against datetime's own
parser and brute force; the chapter's cells, attention and decoders against torch.nn and exhaustive search."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.common import seqtasks as S
from engine.common.text import TextError


# ------------------------------------------------------------------------------------------------ seqtasks
STRPTIME = {"d_month_y": "%d %B %Y", "month_d_y": "%B %d, %Y", "d_mon_y": "%d %b %Y", "mon_d_y": "%b %d, %Y",
            "dd_mm_yyyy": "%d.%m.%Y", "ja": "%Y年%m月%d日"}


def test_dates_round_trip_through_strptime():
    rng = np.random.default_rng(0)
    first, last = S.FIRST_DATE.toordinal(), S.LAST_DATE.toordinal()
    for _ in range(400):
        d = dt.date.fromordinal(int(rng.integers(first, last + 1)))
        for fmt in S.DATE_FORMATS:
            s = S.format_date(d, fmt)
            assert dt.datetime.strptime(s, STRPTIME[fmt]).date() == d          # the C library's reading
            assert S.parse_date(s) == d
            assert S.TASKS["dates"].target(s) == d.isoformat()
            assert len(s) <= S.TASKS["dates"].max_src_len


def test_sampled_pairs_are_correct_and_cover_the_formats():
    task = S.get_task("dates")
    pairs = task.sample(np.random.default_rng(1), 600)
    seen = set()
    for src, tgt in pairs:
        for fmt, p in STRPTIME.items():
            try:
                d = dt.datetime.strptime(src, p).date()
            except ValueError:
                continue
            seen.add(fmt)
            assert d.isoformat() == tgt
            break
        else:
            raise AssertionError(src)
        assert S.FIRST_DATE <= dt.date.fromisoformat(tgt) <= S.LAST_DATE
        task.src_vocab.encode(src), task.tgt_vocab.encode(tgt)             # every character in the vocabulary
    assert seen == set(STRPTIME)
    # same rng seed, same pairs; another seed, other pairs
    assert task.sample(np.random.default_rng(1), 600) == pairs
    assert task.sample(np.random.default_rng(2), 600) != pairs


def test_reverse_pairs():
    task = S.get_task("reverse")
    for src, tgt in task.sample(np.random.default_rng(3), 300):
        assert tgt == "".join(reversed(src)) and 3 <= len(src) <= 12 and set(src) <= set("abcdefghij")
    assert task.target("abc") == "cba" and task.target("xyz") is None


@pytest.mark.parametrize("bad", ["31 February 2026", "5 Decembre 2026", "2026-12-05", "2026年13月1日", ""])
def test_parse_date_rejects(bad):
    assert S.parse_date(bad) is None


def test_vocab_round_trip_and_specials():
    for task in S.TASKS.values():
        v = task.src_vocab
        assert v.tokens[:3] == S.SPECIALS and v.size == len(v.tokens) == 3 + len(set(v.chars))
        for src, tgt in task.sample(np.random.default_rng(4), 50):
            assert v.decode(v.encode(src)) == src
            ids = [S.SOS] + task.tgt_vocab.encode(tgt) + [S.EOS, 5, 6]
            assert task.tgt_vocab.decode(ids) == tgt                          # stops at EOS, skips SOS


def test_make_batch_against_a_plain_loop():
    task = S.get_task("dates")
    pairs = task.sample(np.random.default_rng(5), 17)
    b = S.make_batch(task, pairs)
    S_len = max(len(s) for s, _ in pairs)
    assert b.src.shape == (17, S_len) and b.tgt_in.shape == b.tgt_out.shape == (17, 11)
    for i, (src, tgt) in enumerate(pairs):
        row = [task.src_vocab.tokens.index(c) for c in src]
        assert list(b.src[i]) == row + [S.PAD] * (S_len - len(src))
        assert b.src_len[i] == len(src) and b.src_mask[i].sum() == len(src)
        out = [task.tgt_vocab.tokens.index(c) for c in tgt] + [S.EOS]
        assert list(b.tgt_out[i]) == out
        assert list(b.tgt_in[i]) == [S.SOS] + out[:-1]                      # teacher forcing: shifted by one
    rev = S.get_task("reverse")
    b = S.make_batch(rev, [("abc", "cba"), ("abcdef", "fedcba")])
    assert b.tgt_mask.sum(1).tolist() == [4, 7]
    assert b.tgt_in[0].tolist() == [S.SOS, 5, 4, 3, S.PAD, S.PAD, S.PAD]


def test_metrics_against_brute_force():
    rng = np.random.default_rng(6)
    for _ in range(50):
        n = int(rng.integers(1, 8))
        targets = ["".join(rng.choice(list("ab-"), size=int(rng.integers(0, 6)))) for _ in range(n)]
        preds = ["".join(rng.choice(list("ab-"), size=int(rng.integers(0, 6)))) for _ in range(n)]
        preds[0] = targets[0]
        em = np.mean([p == t for p, t in zip(preds, targets)])
        hits = total = 0
        for p, t in zip(preds, targets):
            for j in range(len(t)):
                total += 1
                hits += j < len(p) and p[j] == t[j]
        assert S.exact_match(preds, targets) == pytest.approx(em)
        assert S.char_accuracy(preds, targets) == pytest.approx(hits / total if total else 0.0)
    assert S.char_accuracy(["2026-12"], ["2026-12-05"]) == pytest.approx(0.7)
    with pytest.raises(ValueError):
        S.exact_match(["a"], [])


@pytest.mark.parametrize("text, code", [("", "empty"), ("   ", "empty"), ("x" * 100_000, "too_long"),
                                        ("5 December 2026 and a very long tail", "too_long"),
                                        ("5 December 2026 🎉", "unknown_chars"), ("5\x00Dec 2026", "unknown_chars"),
                                        ("٥ Dec 2026", "unknown_chars")])
def test_prepare_rejects_hostile_text(text, code):
    with pytest.raises(TextError) as e:
        S.get_task("dates").prepare(text)
    assert e.value.code == code


def test_prepare_normalises_what_a_reader_types():
    dates = S.get_task("dates")
    assert dates.prepare("  ５ december\u3000２０２６ ") == "5 December 2026"
    assert dates.prepare("２０２６年１２月５日") == "2026年12月5日"
    assert dates.prepare("DEC 5,  2026") == "Dec 5, 2026"
    assert S.get_task("reverse").prepare("ＡＢＣ") == "abc"
