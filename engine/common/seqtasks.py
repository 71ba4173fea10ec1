"""Sequence-to-sequence toy tasks shared by the sequence chapters (seq2seq with attention, the Transformer).

Two tasks, both generated from an `np.random.Generator` (no data ships, nothing is downloaded):

- ``"dates"``: a date written as a person writes it → ISO 8601. Six source formats, English and Japanese::

      "5 December 2026"  "December 5, 2026"  "5 Dec 2026"  "Dec 5, 2026"  "05.12.2026"  "2026年12月5日"
      → "2026-12-05"

  (dates drawn uniformly between 1950-01-01 and 2049-12-31). The model must reorder fields, map month names to
  numbers and pad single digits, which is what makes attention visible: each output character looks at a
  different part of the input.
- ``"reverse"``: a string of 3–12 letters a–j → the same string reversed ("abcde" → "edcba"): the attention
  matrix is the anti-diagonal.

Token ids are the same in both vocabularies for the three specials: ``PAD = 0``, ``SOS = 1`` (the decoder's
first input, "start of sequence"), ``EOS = 2`` (end of sequence, the decoder's last target). A batch pads the
sources on the right with PAD and gives the decoder ``tgt_in = [SOS, y_1 … y_T]`` and
``tgt_out = [y_1 … y_T, EOS]`` (teacher forcing shifts the target by one).

numpy and the standard library only; a reader's text goes through `Task.prepare` (`engine.common.text`
normalisation, bounded length, every character checked against the vocabulary), whose failures are
`engine.common.text.TextError` codes ("empty", "too_long", "unknown_chars").
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from engine.common.text import TextError, normalize_label

PAD, SOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DATE_FORMATS = ("d_month_y", "month_d_y", "d_mon_y", "mon_d_y", "dd_mm_yyyy", "ja")
FIRST_DATE = _dt.date(1950, 1, 1)
LAST_DATE = _dt.date(2049, 12, 31)
REVERSE_LETTERS = "abcdefghij"
REVERSE_LENGTHS = (3, 12)          # inclusive


# ----------------------------------------------------------------------------------------------- vocabulary
@dataclass(frozen=True)
class Vocab:
    """Characters ↔ ids. Ids 0, 1, 2 are PAD, SOS, EOS; the characters follow in `chars` order."""
    chars: str

    @property
    def size(self) -> int:
        return len(SPECIALS) + len(self.chars)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token by id: the three specials' names, then the characters."""
        return SPECIALS + tuple(self.chars)

    @cached_property
    def index(self) -> dict[str, int]:
        """{character: id}."""
        return {c: i + len(SPECIALS) for i, c in enumerate(self.chars)}

    def encode(self, s: str) -> list[int]:
        """Ids of the characters of `s` (no SOS/EOS added); KeyError for a character outside the vocabulary."""
        index = self.index
        return [index[c] for c in s]

    def decode(self, ids: Sequence[int]) -> str:
        """The characters of `ids` up to the first EOS; PAD and SOS are skipped."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i >= len(SPECIALS):
                out.append(self.chars[i - len(SPECIALS)])
        return "".join(out)


# ------------------------------------------------------------------------------------------------ dates
def format_date(d: _dt.date, fmt: str) -> str:
    """`d` written in one of `DATE_FORMATS` ("5 December 2026", "December 5, 2026", "5 Dec 2026",
    "Dec 5, 2026", "05.12.2026", "2026年12月5日")."""
    month = MONTHS[d.month - 1]
    return {"d_month_y": f"{d.day} {month} {d.year}",
            "month_d_y": f"{month} {d.day}, {d.year}",
            "d_mon_y": f"{d.day} {month[:3]} {d.year}",
            "mon_d_y": f"{month[:3]} {d.day}, {d.year}",
            "dd_mm_yyyy": f"{d.day:02d}.{d.month:02d}.{d.year}",
            "ja": f"{d.year}年{d.month}月{d.day}日"}[fmt]


_MONTH_OF = {m.lower(): i + 1 for i, m in enumerate(MONTHS)} | {m[:3].lower(): i + 1 for i, m in enumerate(MONTHS)}
_DATE_PATTERNS = (
    (re.compile(r"(\d{1,2}) ([A-Za-z]+) (\d{4})"), ("d", "m", "y")),
    (re.compile(r"([A-Za-z]+) (\d{1,2}), ?(\d{4})"), ("m", "d", "y")),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), ("d", "mn", "y")),
    (re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"), ("y", "mn", "d")),
)


def parse_date(s: str) -> _dt.date | None:
    """The date `s` names in any of `DATE_FORMATS` (month names in any case), or None (not a date in these
    formats, or not a real day such as 31 February). The reference answer for a reader's own input."""
    for pattern, fields in _DATE_PATTERNS:
        m = pattern.fullmatch(s.strip())
        if not m:
            continue
        parts = dict(zip(fields, m.groups()))
        month = int(parts["mn"]) if "mn" in parts else _MONTH_OF.get(parts["m"].lower())
        if month is None:
            return None
        try:
            return _dt.date(int(parts["y"]), month, int(parts["d"]))
        except ValueError:
            return None
    return None


def _date_pairs(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    first, span = FIRST_DATE.toordinal(), LAST_DATE.toordinal() - FIRST_DATE.toordinal() + 1
    days = rng.integers(0, span, size=n)
    fmts = rng.integers(0, len(DATE_FORMATS), size=n)
    pairs = []
    for k, f in zip(days, fmts):
        d = _dt.date.fromordinal(first + int(k))
        pairs.append((format_date(d, DATE_FORMATS[int(f)]), d.isoformat()))
    return pairs


def _date_target(s: str) -> str | None:
    d = parse_date(s)
    return None if d is None else d.isoformat()


def _date_source_chars() -> str:
    chars = set("0123456789 ,.年月日")
    for m in MONTHS:
        chars |= set(m)
    return "".join(sorted(chars))


# ---------------------------------------------------------------------------------------------- reverse
def _reverse_pairs(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    lo, hi = REVERSE_LENGTHS
    lengths = rng.integers(lo, hi + 1, size=n)
    pairs = []
    for L in lengths:
        s = "".join(REVERSE_LETTERS[int(i)] for i in rng.integers(0, len(REVERSE_LETTERS), size=int(L)))
        pairs.append((s, s[::-1]))
    return pairs


def _reverse_target(s: str) -> str | None:
    return s[::-1] if s and len(s) <= REVERSE_LENGTHS[1] and set(s) <= set(REVERSE_LETTERS) else None


# ------------------------------------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class Task:
    """A seq2seq task: its vocabularies, the longest source/target (characters, EOS not counted), a sampler of
    (source, target) pairs and the exact answer for any source (None where it has none)."""
    name: str
    src_vocab: Vocab
    tgt_vocab: Vocab
    max_src_len: int
    max_tgt_len: int
    examples: tuple[str, ...]                                      # sources shown as defaults on the page
    _pairs: Callable[[np.random.Generator, int], list[tuple[str, str]]]
    _target: Callable[[str], str | None]

    def sample(self, rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
        """`n` (source, target) pairs drawn from `rng`."""
        return self._pairs(rng, n)

    def target(self, source: str) -> str | None:
        """The correct output for `source` (e.g. "2026-12-05" for "5 Dec 2026"), None if it has none."""
        return self._target(source)

    def prepare(self, text: str, *, max_chars: int = 200) -> str:
        """A reader's typed source made ready for the model: NFKC (full-width digits → ASCII, via
        `normalize_label`), runs of blanks → one space, for dates month names capitalised ("dec" → "Dec").
        TextError "too_long" (more than `max_chars` characters typed, or more than `max_src_len` after
        normalising), "empty", "unknown_chars" (`chars` = the characters outside the vocabulary, at most 10)."""
        if len(text) > max_chars:
            raise TextError("too_long", limit=self.max_src_len)
        s = " ".join(normalize_label(text).split())
        if self.name == "dates":
            s = re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize(), s)
        elif self.name == "reverse":
            s = s.lower()
        if not s:
            raise TextError("empty")
        if len(s) > self.max_src_len:
            raise TextError("too_long", limit=self.max_src_len)
        unknown = sorted(set(s) - set(self.src_vocab.chars))
        if unknown:
            shown = "".join(c if c.isprintable() else f"U+{ord(c):04X} " for c in unknown[:10])
            raise TextError("unknown_chars", chars=shown.strip())
        return s


TASKS: dict[str, Task] = {
    "dates": Task("dates", Vocab(_date_source_chars()), Vocab("0123456789-"), 18, 10,
                  ("5 December 2026", "2026年12月5日", "Dec 5, 2026", "05.12.2026"), _date_pairs, _date_target),
    "reverse": Task("reverse", Vocab(REVERSE_LETTERS), Vocab(REVERSE_LETTERS), REVERSE_LENGTHS[1],
                    REVERSE_LENGTHS[1], ("abcdefg", "jihgf", "aabbccdd"), _reverse_pairs, _reverse_target),
}


def get_task(name: str) -> Task:
    """The task called `name` ("dates" or "reverse")."""
    return TASKS[name]


# ----------------------------------------------------------------------------------------------- batches
@dataclass(frozen=True)
class Batch:
    """Padded int64 arrays for one minibatch (B pairs)."""
    src: np.ndarray          # (B, S) source ids, PAD on the right; S = longest source in the batch
    src_len: np.ndarray      # (B,) real length of each source
    tgt_in: np.ndarray       # (B, T + 1) decoder inputs [SOS, y_1 … y_T], PAD after
    tgt_out: np.ndarray      # (B, T + 1) decoder targets [y_1 … y_T, EOS], PAD after
    sources: tuple[str, ...]
    targets: tuple[str, ...]

    @property
    def src_mask(self) -> np.ndarray:
        """(B, S) True at real source positions (False at PAD)."""
        return self.src != PAD

    @property
    def tgt_mask(self) -> np.ndarray:
        """(B, T + 1) True where `tgt_out` is a real target (characters and EOS), False at PAD."""
        return self.tgt_out != PAD


def make_batch(task: Task, pairs: Sequence[tuple[str, str]]) -> Batch:
    """Encode and pad `pairs` [(source, target), …] into a `Batch`."""
    src_ids = [task.src_vocab.encode(s) for s, _ in pairs]
    tgt_ids = [task.tgt_vocab.encode(t) for _, t in pairs]
    B = len(pairs)
    S = max(1, max((len(s) for s in src_ids), default=1))
    T = max((len(t) for t in tgt_ids), default=0) + 1
    src = np.full((B, S), PAD, dtype=np.int64)
    tgt_in = np.full((B, T), PAD, dtype=np.int64)
    tgt_out = np.full((B, T), PAD, dtype=np.int64)
    for b, (s, t) in enumerate(zip(src_ids, tgt_ids)):
        src[b, :len(s)] = s
        tgt_in[b, 0] = SOS
        tgt_in[b, 1:len(t) + 1] = t
        tgt_out[b, :len(t)] = t
        tgt_out[b, len(t)] = EOS
    return Batch(src, np.array([len(s) for s in src_ids], dtype=np.int64), tgt_in, tgt_out,
                 tuple(s for s, _ in pairs), tuple(t for _, t in pairs))


def batches(task: Task, rng: np.random.Generator, batch_size: int):
    """An endless stream of fresh random batches (each pair drawn anew: no epoch, no overfitting to a set)."""
    while True:
        yield make_batch(task, task.sample(rng, batch_size))


def validation_set(task: Task, n: int = 256, seed: int = 12345) -> list[tuple[str, str]]:
    """A fixed held-out set of `n` pairs (its own seed, the same in every chapter that reports accuracy)."""
    return task.sample(np.random.default_rng(seed), n)


# ------------------------------------------------------------------------------------------------ metrics
def exact_match(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Share of predictions equal to their target, character for character (nothing else counts as right)."""
    if len(predictions) != len(targets):
        raise ValueError("predictions and targets differ in number")
    if not targets:
        return 0.0
    return sum(p == t for p, t in zip(predictions, targets)) / len(targets)


def char_accuracy(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Share of target characters predicted at their position: Σ_i #{j < len(t_i): p_i[j] = t_i[j]} / Σ_i len(t_i)
    (a prediction that is too short misses the rest; extra characters are not counted)."""
    if len(predictions) != len(targets):
        raise ValueError("predictions and targets differ in number")
    total = sum(len(t) for t in targets)
    if total == 0:
        return 0.0
    hits = sum(sum(a == b for a, b in zip(p, t)) for p, t in zip(predictions, targets))
    return hits / total
