r"""Practice items (演習, issue #24): E資格-style questions made by a chapter's engine.

A chapter's generators live in `engine/practice/<section>/<stem>.py` (the same path as its engine and figures) and
are listed there in `GENERATORS`. A generator is a function `name(rng: np.random.Generator) -> Item`: it draws the
item's numbers from `rng`, shows them rounded, computes the answer **with the chapter's engine from the numbers as
shown**, and computes every distractor as the result of one named mistake. `make(stem, name, seed)` runs it with
`np.random.default_rng(seed)` and fills in `chapter`, `generator` and `seed`; a generator that drew a case where two
choices would look the same raises `Redraw` and is called again on the same (advanced) generator, so an item is a
pure function of its seed.

```python
def iou_value(rng):
    a, b = _two_boxes(rng)                                  # integers, as shown
    right = float(boxes.box_iou(a, b)[0, 0])                # the chapter's engine
    inter = ...; union_no_sub = area(a) + area(b)           # each mistake computed
    return Item(kind="compute", stem=text("boxes", "practice.iou.stem", a=..., b=...),
                choices=numeric_choices(rng, right, fmt2, right_fb, [(inter / union_no_sub, fb_union), ...]),
                solution=text(...), params={"a": a, "b": b}, answer=right, tolerance=0.005,
                setup={"boxes.a": ..., "boxes.b": ...})
```

Kinds, as in the exam: `compute` (a number), `statement` (pick the true / false statement or formula),
`implementation` (four snippets; each is *executed* on `exec.args`, exactly one returns `exec.expected`) and `blank`
(code with one line `____` missing; each candidate line is put in and, where `exec` is set, executed the same way).

Words come from the chapter's locale file, table `[en.practice]` / `[ja.practice]` (the same keys in both, like every
string): `text(stem, "practice.<key>", **fmt)` returns `{"en": ..., "ja": ...}` filled with `str.format` — so LaTeX
braces in those strings are doubled (`\frac{{a}}{{b}}`). Japanese stems are written as an exam writes them
(「〜を選べ。」). Formulas, numbers and code that read the same in both languages: `same(s)`.

`setup` maps the chapter page's own widget keys to the item's values: "open this case in the chapter" is the
chapter's URL with those keys as query parameters (the widgets are bound with `bind="query-params"`). Streamlit binds
a select box, radio, select slider, multiselect or segmented control by the option's *label* (what its format_func
shows), so for such a widget give the label as a Text: `text(stem, "graphs.grid")` — the same locale key the page's
`fmt("gcn.graphs")` looks up. Numbers, booleans (`"true"`) and plain strings go as they are; a range slider or a
multiselect takes a list. `tests/test_practice_links.py` opens every chapter's items' links and checks that the
page took every value.

The contract battery (`tests/test_contract.py`) runs every generator of every chapter over many seeds: exactly one
correct choice, four choices distinct as displayed, feedback on every choice, both languages filled, implementation
and blank snippets executed, ≥ 50 distinct variants. Each chapter's own test recomputes the answers from
`item.params` with an independent oracle (the reference library or a brute force), never with the generator's code.
"""
from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

LANGS = ("en", "ja")
KINDS = ("compute", "statement", "implementation", "blank")
BLANK = "____"                       # the missing line of a `blank` item's code
N_CHOICES = 4
LOCALES = Path(__file__).resolve().parent.parent.parent / "locales"

Text = dict          # {"en": str, "ja": str}


class Redraw(Exception):
    """The drawn case cannot make a good item (two choices would look the same): draw again."""


# ------------------------------------------------------------------------------------------------ the item
@dataclass(frozen=True)
class Choice:
    label: Text                   # as displayed: words, a formula ($...$), a number, or a code snippet
    correct: bool
    feedback: Text                # wrong: which mistake gives this; right: why it is right
    code: str | None = None       # implementation: the snippet; blank: the candidate line (label shows it)


@dataclass(frozen=True)
class Exec:
    """How a snippet is run: each snippet defines `func`; `func(*args)` is compared with `expected`."""
    func: str
    args: tuple
    expected: Any                 # the chapter engine's result on `args`
    atol: float = 1e-6


@dataclass(frozen=True)
class Item:
    kind: str                             # one of KINDS
    stem: Text                            # the question (markdown, $latex$)
    choices: tuple[Choice, ...]           # N_CHOICES, in display order, exactly one correct
    solution: Text                        # the worked solution with the item's own numbers
    setup: dict = field(default_factory=dict)     # chapter widget key -> value ("open this case")
    params: dict = field(default_factory=dict)    # the numbers as shown, for the tests' independent oracle
    code: str | None = None               # shown under the stem (blank: contains BLANK)
    answer: float | None = None           # compute: the value, for numeric input within `tolerance`
    tolerance: float | None = None
    exec: Exec | None = None              # implementation / blank: how the snippets are run
    figure: tuple[str, dict] | None = None  # (plot_* function of the chapter's figures module, kwargs)
    chapter: str = ""                     # filled by make()
    generator: str = ""
    seed: int = 0

    @property
    def uid(self) -> str:
        return f"{self.chapter}.{self.generator}.{self.seed}"

    @property
    def correct_index(self) -> int:
        return next(i for i, c in enumerate(self.choices) if c.correct)

    def snippet(self, i: int) -> str | None:
        """The code that choice `i` stands for when executed (the blank filled in, or the snippet itself)."""
        c = self.choices[i]
        if c.code is None:
            return None
        if self.kind == "blank" and self.code is not None:
            return self.code.replace(BLANK, c.code)
        return c.code


# ------------------------------------------------------------------------------------------------- words
@lru_cache(maxsize=None)
def _locale(stem: str) -> dict:
    with (LOCALES / f"{stem}.toml").open("rb") as fh:
        return tomllib.load(fh)


def _walk(node, path: str):
    for part in path.split("."):
        node = node[part]
    return node


def text(stem: str, key: str, **fmt) -> Text:
    """`{"en", "ja"}` of `key` in `locales/<stem>.toml`, filled with `fmt` (a value may itself be a Text)."""
    out = {}
    for lang in LANGS:
        template = _walk(_locale(stem)[lang], key)
        out[lang] = template.format(**{k: tr(v, lang) for k, v in fmt.items()})
    return out


def same(s: str) -> Text:
    """A string that reads the same in both languages (a number, a formula, code)."""
    return {lang: s for lang in LANGS}


def tr(value, lang: str) -> str:
    """The string of `value` in `lang` (a Text) or `value` itself (anything else, formatted with str)."""
    if isinstance(value, dict):
        return value[lang]
    return str(value)


def join(parts: Iterable, sep: str = "\n\n") -> Text:
    """Texts (or plain strings) joined language by language: a worked solution's steps."""
    parts = list(parts)
    return {lang: sep.join(tr(p, lang) for p in parts) for lang in LANGS}


# ------------------------------------------------------------------------------------------------ choices
def shuffled(rng: np.random.Generator, choices: Sequence[Choice]) -> tuple[Choice, ...]:
    order = rng.permutation(len(choices))
    return tuple(choices[i] for i in order)


def numeric_choices(rng: np.random.Generator, answer: float, right_feedback: Text,
                    mistakes: Sequence[tuple[float, Text]], fmt: Callable[[float], str]) -> tuple[Choice, ...]:
    """The right number and the first three mistakes that look different from it and from each other once
    formatted with `fmt` (mistakes listed most typical first; list more than three where some may coincide).
    Raises Redraw when fewer than three distinct mistakes remain."""
    shown = {fmt(answer)}
    picked = [Choice(same(fmt(answer)), True, right_feedback)]
    for value, feedback in mistakes:
        if value is None or not np.isfinite(value):
            continue
        label = fmt(value)
        if label in shown:
            continue
        shown.add(label)
        picked.append(Choice(same(label), False, feedback))
        if len(picked) == N_CHOICES:
            return shuffled(rng, picked)
    raise Redraw(f"only {len(picked) - 1} distinct mistakes for {fmt(answer)}")


def pick_choices(rng: np.random.Generator, right: Sequence[tuple[Text, Text]],
                 wrong: Sequence[tuple[Text, Text]], *, invert: bool = False) -> tuple[Choice, ...]:
    """Statement / formula items: one (label, feedback) drawn from `right`, three from `wrong`, shuffled.
    With `invert` the roles swap (「誤っているものを選べ」): one from `wrong` is the answer, three from `right`."""
    if invert:
        right, wrong = wrong, right
    r = right[rng.integers(len(right))]
    ws = [wrong[i] for i in rng.choice(len(wrong), N_CHOICES - 1, replace=False)]
    return shuffled(rng, [Choice(r[0], True, r[1])] + [Choice(w[0], False, w[1]) for w in ws])


def statement_choices(rng: np.random.Generator, stem: str, prefix: str, true: Sequence[str],
                      false: Sequence[str]) -> tuple[tuple[Choice, ...], bool]:
    """A statement item's choices from the locale keys `<prefix>.true.<k>` / `<prefix>.false.<k>` (with
    `<prefix>.why.<k>` saying why a false one is false, `<prefix>.is_true` and `<prefix>.true_not_asked`): half the
    seeds ask for the true statement, half for the false one. Returns (choices, inverted)."""
    invert = bool(rng.integers(2))
    wrong = [(text(stem, f"{prefix}.false.{k}"), text(stem, f"{prefix}.why.{k}")) for k in false]
    if invert:
        return pick_choices(rng, wrong, [(text(stem, f"{prefix}.true.{k}"), text(stem, f"{prefix}.true_not_asked"))
                                         for k in true]), True
    return pick_choices(rng, [(text(stem, f"{prefix}.true.{k}"), text(stem, f"{prefix}.is_true")) for k in true],
                        wrong), False


def code_choices(rng: np.random.Generator, right: tuple[str, Text],
                 wrong: Sequence[tuple[str, Text]], *, fence: str = "python") -> tuple[Choice, ...]:
    """Implementation / blank items: (code, feedback) pairs; the label shows the code (fenced for a snippet,
    inline for one line)."""
    def choice(code: str, feedback: Text, correct: bool) -> Choice:
        label = f"```{fence}\n{code}\n```" if "\n" in code else f"`{code}`"
        return Choice(same(label), correct, feedback, code=code)
    ws = [wrong[i] for i in rng.choice(len(wrong), N_CHOICES - 1, replace=False)] if len(wrong) > 3 else list(wrong)
    return shuffled(rng, [choice(*right, True)] + [choice(c, f, False) for c, f in ws])


# ---------------------------------------------------------------------------------------------- execution
def execute(code: str, ex: Exec):
    """Run a snippet: define it in a fresh namespace with numpy (np), torch and torch.nn.functional (F) available,
    then call `ex.func(*ex.args)` on copies of the arguments. Errors are returned, not raised (a distractor may
    fail: that is its mistake)."""
    import copy

    ns: dict[str, Any] = {"np": np}
    if "torch" in code or "F." in code:
        import torch
        import torch.nn.functional as F
        ns.update(torch=torch, F=F)
    try:
        exec(compile(code, "<snippet>", "exec"), ns)            # noqa: S102 — our own snippets, never user text
        return ns[ex.func](*copy.deepcopy(ex.args))
    except Exception as err:                                    # the snippet's own failure is its answer
        return err


def matches(result, ex: Exec) -> bool:
    """Does a snippet's result equal the engine's (same shape, within atol)?"""
    if isinstance(result, Exception):
        return False
    try:
        if hasattr(result, "detach"):
            result = result.detach().cpu().numpy()
        got, want = np.asarray(result, dtype=float), np.asarray(ex.expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == want.shape and bool(np.allclose(got, want, atol=ex.atol, rtol=0, equal_nan=False))


# ----------------------------------------------------------------------------------------------- registry
def module_name(section: str, stem: str) -> str:
    return f"engine.practice.{section}.{stem}"


PRACTICE = LOCALES.parent / "engine" / "practice"


def generators(stem: str) -> dict[str, Callable[[np.random.Generator], Item]]:
    """{name: generator} of a chapter, in its module's order; {} when the chapter has none yet."""
    found = sorted(PRACTICE.glob(f"*/{stem}.py"))       # stems are unique across sections
    if not found:
        return {}
    module = importlib.import_module(module_name(found[0].parent.name, stem))
    return {g.__name__: g for g in module.GENERATORS}


MAX_REDRAWS = 50


def make(stem: str, name: str, seed: int) -> Item:
    """The item of generator `name` of chapter `stem` for `seed` (deterministic)."""
    gen = generators(stem)[name]
    rng = np.random.default_rng(seed)
    for _ in range(MAX_REDRAWS):
        try:
            item = gen(rng)
            break
        except Redraw:
            continue
    else:
        raise RuntimeError(f"{stem}.{name}: no item after {MAX_REDRAWS} draws for seed {seed}")
    return replace(item, chapter=stem, generator=name, seed=int(seed))
