"""Practice (issue #24) on screen: one item, the chapters' "Check yourself" block, and the reader's progress.

Items come from the chapters' generators (`engine/practice/`, format in `engine/common/practice.py`); this module
only draws them and keeps score. Progress lives in the reader's own browser (local storage, through a small
components-v2 element) and in a file the reader can download and load again; nothing about a reader is stored on
the server. Missed generators are scheduled for review by FSRS (`fsrs`, Anki's scheduler).
"""
from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timezone
from functools import lru_cache

import streamlit as st

from engine.common import practice as P
from ui import chapter_page, lang, t
from ui.chapters import SYLLABUS, is_built

PROGRESS = "practice.progress"          # session state: the reader's progress (see empty_progress)
STORE = "kicks.practice.v1"             # the browser's local-storage key
FORMAT = "kicks-practice"
VERSION = 1
MAX_PROGRESS_BYTES = 2_000_000          # a progress file is refused above this, before it is decoded
MAX_ANSWERS = 3000                      # the oldest answers are dropped beyond this (the browser keeps ~5 MB)
LETTERS = "ABCD"


# ------------------------------------------------------------------------------------------------ items
# Sessions run on their own threads: the first calls import the chapters' generator modules and their engines, and
# generating an item may run torch; one lock keeps a first import from being seen half done by another session.
_MAKING = threading.RLock()


def item(stem: str, name: str, seed: int) -> P.Item:
    """The item (cached: an exam and its review ask for the same ones again)."""
    with _MAKING:
        return _item(stem, name, seed)


@lru_cache(maxsize=8192)
def _item(stem: str, name: str, seed: int) -> P.Item:
    return P.make(stem, name, seed)


item.cache_clear = _item.cache_clear


def section_of(stem: str) -> str:
    return next(sec for sec, stems in SYLLABUS.items() if stem in stems)


def practice_chapters() -> tuple[str, ...]:
    """Stems of the built chapters that ship generators, in syllabus order."""
    with _MAKING:
        return _practice_chapters()


@lru_cache(maxsize=None)
def _practice_chapters() -> tuple[str, ...]:
    return tuple(stem for sec, stems in SYLLABUS.items() for stem in stems
                 if is_built(sec, stem) and P.generators(stem))


def generator_names(stem: str) -> tuple[str, ...]:
    with _MAKING:
        return _generator_names(stem)


@lru_cache(maxsize=None)
def _generator_names(stem: str) -> tuple[str, ...]:
    return tuple(P.generators(stem))


def shared_item(uid) -> P.Item | None:
    """The item named by a link's `?item=<chapter>.<generator>.<seed>`, or None when the name is not one."""
    if not isinstance(uid, str) or len(uid) > 100:
        return None
    stem, _, rest = uid.partition(".")
    name, _, seed = rest.rpartition(".")
    if stem not in practice_chapters() or name not in generator_names(stem) or not seed.isdigit() or \
            not 0 <= int(seed) < 10**9:
        return None
    return item(stem, name, int(seed))


def link_setup(it: P.Item, language: str) -> dict[str, str | list[str]]:
    """The item's setup as URL values in `language`: a widget shown through a format_func is bound by its label, so
    a generator gives such a value as a Text (the label in both languages, from the chapter's locale)."""
    def one(x) -> str:
        if isinstance(x, dict):                 # a label, in the link's language
            return P.tr(x, language)
        if isinstance(x, (bool,)) or type(x).__name__ == "bool_":
            return "true" if x else "false"     # Streamlit's URL form of a checkbox / toggle
        return str(x)                           # numbers as Python writes them: "1.0" is also a select slider's label
    return {k: [one(x) for x in v] if isinstance(v, (list, tuple)) else one(v) for k, v in it.setup.items()}


def case_link(it: P.Item) -> None:
    """"Open this case in the chapter": the chapter's page with the item's settings as its bound query parameters."""
    params = {"lang": lang()}
    for k, v in link_setup(it, lang()).items():
        params[k] = v
    st.page_link(chapter_page(section_of(it.chapter), it.chapter), label=t("practice.open_case"),
                 icon=":material/open_in_new:", query_params=params)


def show_item(it: P.Item, key: str, *, on_answer=None, reveal: bool = True) -> int | None:
    """Draw an item with its four choices and a Check button; after answering: right or wrong, the chosen
    choice's feedback, the worked solution and the link to the case. Returns the chosen index once answered."""
    L = lang()
    st.markdown(it.stem[L])
    if it.code:
        st.code(it.code, language="python")
    if it.figure:
        import importlib
        name, kwargs = it.figure
        figs = importlib.import_module(f"engine.figures.{section_of(it.chapter)}.{it.chapter}")
        st.plotly_chart(getattr(figs, name)(**kwargs), key=f"{key}.fig")
    code_like = it.kind in ("implementation",)
    if code_like:                      # snippets are too long for radio labels: shown lettered, picked by letter
        cols = st.columns(2)
        for i, c in enumerate(it.choices):
            with cols[i % 2]:
                st.markdown(f"**({LETTERS[i]})**")
                st.code(c.code, language="python")
    done = st.session_state.get(f"{key}.answered")
    choice = st.radio(t("practice.your_answer"), range(len(it.choices)), index=None, key=f"{key}.choice",
                      format_func=(lambda i: f"({LETTERS[i]})") if code_like else
                      (lambda i: f"({LETTERS[i]}) {it.choices[i].label[L]}"),
                      horizontal=code_like, disabled=done is not None)
    if done is None:
        if st.button(t("practice.check"), key=f"{key}.check", disabled=choice is None, type="primary"):
            st.session_state[f"{key}.answered"] = done = int(choice)
            record(it, done)
            if on_answer:
                on_answer(it, done)
    if done is not None and reveal:
        show_result(it, done, key)
    return done


def show_choices(it: P.Item) -> None:
    """The four choices, lettered (snippets as code blocks)."""
    for i, c in enumerate(it.choices):
        if c.code is not None and "\n" in c.code:
            st.markdown(f"**({LETTERS[i]})**")
            st.code(c.code, language="python")
        else:
            st.markdown(f"({LETTERS[i]}) {c.label[lang()]}")


_RIGHT_PREFIXES = ("Right: ", "Right — ", "Right. ", "Correct: ", "正解: ", "正解：", "正解。", "正解 — ")


def _why(feedback: str) -> str:
    """A right choice's feedback without its own "Right:" (the message already says so)."""
    for prefix in _RIGHT_PREFIXES:
        if feedback.startswith(prefix):
            return feedback[len(prefix):]
    return feedback


def show_result(it: P.Item, chosen: int | None, key: str) -> None:
    L = lang()
    right = it.correct_index
    if chosen == right:
        st.success(t("practice.right", letter=LETTERS[right]) + " " + _why(it.choices[right].feedback[L]),
                   icon=":material/check_circle:")
    else:
        picked = t("practice.no_answer") if chosen is None else (
            t("practice.wrong", letter=LETTERS[chosen]) + " " + it.choices[chosen].feedback[L])
        st.error(picked, icon=":material/cancel:")
        st.info(t("practice.right_was", letter=LETTERS[right]) + " " + _why(it.choices[right].feedback[L]))
    with st.expander(t("practice.solution"), expanded=True):
        st.markdown(it.solution[L])
    case_link(it)


# ---------------------------------------------------------------------------------------------- progress
def empty_progress() -> dict:
    return {"format": FORMAT, "version": VERSION, "answers": [], "cards": {}}


def progress() -> dict:
    ss = st.session_state
    if PROGRESS not in ss:
        ss[PROGRESS] = empty_progress()
    return ss[PROGRESS]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _scheduler():
    from fsrs import Scheduler
    return Scheduler(enable_fuzzing=False)


def _card_id(gen_key: str) -> int:
    import zlib
    return zlib.crc32(gen_key.encode()) + 1


def record(it: P.Item, choice: int) -> None:
    """Add an answer; a missed generator gets an FSRS card (Again), and each later answer to it reviews the card."""
    from fsrs import Card, Rating

    prog = progress()
    correct = choice == it.correct_index
    prog["answers"].append({"chapter": it.chapter, "generator": it.generator, "seed": it.seed, "choice": choice,
                            "correct": correct, "at": _now().isoformat(timespec="seconds")})
    del prog["answers"][:-MAX_ANSWERS]
    gen_key = f"{it.chapter}.{it.generator}"
    if gen_key in prog["cards"] or not correct:
        card = Card.from_dict(prog["cards"][gen_key]) if gen_key in prog["cards"] else Card(card_id=_card_id(gen_key))
        card, _ = _scheduler().review_card(card, Rating.Good if correct else Rating.Again, _now())
        prog["cards"][gen_key] = card.to_dict()
    st.session_state["practice.dirty"] = True


def due_for_review(prog: dict | None = None, now: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """(chapter, generator, due) of the missed generators whose review is due, earliest first."""
    from fsrs import Card, State

    prog = prog or progress()
    now = now or _now()
    out = []
    for gen_key, d in prog["cards"].items():
        chapter, _, name = gen_key.partition(".")
        if chapter not in practice_chapters() or name not in generator_names(chapter):
            continue
        card = Card.from_dict(d)
        # learning / relearning cards (a miss of minutes ago) come back in the same sitting, as in Anki
        if card.due <= now or card.state in (State.Learning, State.Relearning):
            out.append((chapter, name, card.due))
    return sorted(out, key=lambda x: x[2])


def scores(prog: dict | None = None) -> dict[str, tuple[int, int]]:
    """{chapter: (right, answered)} over every recorded answer."""
    out: dict[str, list[int]] = {}
    for a in (prog or progress())["answers"]:
        s = out.setdefault(a["chapter"], [0, 0])
        s[0] += bool(a["correct"])
        s[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


class ProgressError(ValueError):
    """A progress file that cannot be loaded; `code` is a key of practice.errors."""

    def __init__(self, code: str, **info):
        super().__init__(code)
        self.code, self.info = code, info


def parse_progress(raw: bytes | str) -> dict:
    """A progress file → a clean progress dict; every defect → ProgressError (bounded before decoding)."""
    from fsrs import Card

    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    if len(raw) > MAX_PROGRESS_BYTES:
        raise ProgressError("too_big", mb=MAX_PROGRESS_BYTES / 1e6)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ProgressError("not_json") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProgressError("foreign")
    if data.get("version") != VERSION:
        raise ProgressError("version", version=str(data.get("version"))[:20])
    answers, cards = data.get("answers"), data.get("cards")
    if not isinstance(answers, list) or not isinstance(cards, dict) or len(answers) > MAX_ANSWERS * 4:
        raise ProgressError("corrupt")
    clean = empty_progress()
    known = set(practice_chapters())
    for a in answers:
        if not (isinstance(a, dict) and isinstance(a.get("chapter"), str) and isinstance(a.get("generator"), str)
                and type(a.get("seed")) is int and type(a.get("choice")) is int and 0 <= a["choice"] < P.N_CHOICES
                and isinstance(a.get("correct"), bool) and isinstance(a.get("at"), str)):
            raise ProgressError("corrupt")
        try:
            datetime.fromisoformat(a["at"])
        except ValueError:
            raise ProgressError("corrupt") from None
        if a["chapter"] in known:           # answers of chapters this version no longer has are dropped, not refused
            clean["answers"].append({k: a[k] for k in ("chapter", "generator", "seed", "choice", "correct", "at")})
    for gen_key, d in cards.items():
        try:
            card = Card.from_dict(d)
        except Exception:                   # fsrs raises KeyError/TypeError/ValueError for a malformed card
            raise ProgressError("corrupt") from None
        if not isinstance(gen_key, str) or card.due is None:
            raise ProgressError("corrupt")
        clean["cards"][gen_key] = card.to_dict()
    del clean["answers"][:-MAX_ANSWERS]
    return clean


def merge(into: dict, other: dict) -> dict:
    """Answers of both (duplicates once, in time order); for a card in both, the later review wins."""
    from fsrs import Card

    seen = {json.dumps(a, sort_keys=True) for a in into["answers"]}
    answers = into["answers"] + [a for a in other["answers"] if json.dumps(a, sort_keys=True) not in seen]
    answers.sort(key=lambda a: a["at"])
    cards = dict(into["cards"])
    for k, d in other["cards"].items():
        mine = cards.get(k)
        if mine is None or (Card.from_dict(d).last_review or _now().min.replace(tzinfo=timezone.utc)) > \
                (Card.from_dict(mine).last_review or _now().min.replace(tzinfo=timezone.utc)):
            cards[k] = d
    return {**empty_progress(), "answers": answers[-MAX_ANSWERS:], "cards": cards}


def dumps(prog: dict | None = None) -> str:
    return json.dumps(prog or progress(), ensure_ascii=False, separators=(",", ":"))


_STORE_JS = """
export default function(component) {
  const { data, setStateValue } = component;
  const KEY = data.key;
  if (!window.__kicksPracticeSent) {           // once per page load: hand the stored progress to the server
    window.__kicksPracticeSent = true;
    let stored = null;
    try { stored = window.localStorage.getItem(KEY); } catch (e) { stored = null; }
    setStateValue("stored", stored === null ? "" : stored);
  }
  if (data.save) {
    try { window.localStorage.setItem(KEY, data.save); } catch (e) { /* private mode or full: kept in the file */ }
  }
}
"""
_store = st.components.v2.component("kicks_practice_store", js=_STORE_JS, html="<span></span>")


def _restore(stored) -> None:
    """Merge the progress the browser handed over (once per session)."""
    ss = st.session_state
    if stored is None or ss.get("practice.restored"):
        return
    ss["practice.restored"] = True
    if stored:
        try:
            ss[PROGRESS] = merge(parse_progress(stored), progress())
        except ProgressError:
            st.warning(t("practice.errors.browser_corrupt"))


def restore() -> None:
    """Call at the top of a page that shows progress: what the browser handed over in the run before is merged
    before anything is drawn (the element that reads it is mounted at the end of the page by `sync_browser`)."""
    state = st.session_state.get(STORE_WIDGET)
    _restore(state.get("stored") if hasattr(state, "get") else None)


STORE_WIDGET = "practice_store"


def sync_browser() -> None:
    """Keep the reader's progress in their browser: read it once per page load (merged into this session), write
    it back after each answer. Call once per run, at the end of every page that shows practice."""
    ss = st.session_state
    save = dumps() if ss.get("practice.dirty") and ss.get("practice.restored") else None
    try:
        result = _store(key=STORE_WIDGET, data={"key": STORE, "save": save}, default={"stored": None},
                        on_stored_change=lambda: None, height=1)
    except Exception as err:            # noqa: BLE001 — the element that talks to the browser failed: keep the page
        import logging
        logging.getLogger(__name__).warning("progress not synced with the browser: %r", err)
        return
    was_restored = ss.get("practice.restored")
    _restore(getattr(result, "stored", None))
    if not was_restored and ss.get("practice.restored") and ss.get("practice.dirty"):
        st.rerun()                           # write the merged progress back now
    elif save is not None:
        ss["practice.dirty"] = False


# ------------------------------------------------------------------------------------------ check yourself
def check_yourself(stem: str, n: int = 3) -> None:
    """The end of a chapter: `n` items of its generators (a new draw on "New questions")."""
    names = generator_names(stem) if stem in practice_chapters() else ()
    if not names:
        return
    ss = st.session_state
    st.divider()
    st.header(t("practice.check_yourself"), anchor="check-yourself")
    draw_key = f"practice.{stem}.draw"
    if draw_key not in ss:
        ss[draw_key] = random.Random().randrange(10**6)
    draw = ss[draw_key]
    rng = random.Random(draw)
    picked = rng.sample(names, min(n, len(names)))
    for i, name in enumerate(picked):
        with st.container(border=True):
            st.caption(t("practice.question_n", n=i + 1, total=len(picked)))
            show_item(item(stem, name, rng.randrange(10**6)), key=f"practice.{stem}.{draw}.{i}")
    if st.button(t("practice.new_questions"), key=f"practice.{stem}.new", icon=":material/refresh:"):
        ss[draw_key] = random.Random().randrange(10**6)
        st.rerun()
    sync_browser()


# ---------------------------------------------------------------------------------------------- mock exam
def item_list(keys: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Make every item of an exam now (so a broken one shows at the start, and later reruns hit the cache)."""
    for k in keys:
        item(*k)
    return keys


class ExamResult:
    def __init__(self, items: list[P.Item], answers: dict[int, int]):
        self.n = len(items)
        self.right = sum(answers.get(i) == it.correct_index for i, it in enumerate(items))
        self.by_section: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            s = self.by_section.setdefault(section_of(it.chapter), [0, 0])
            s[0] += answers.get(i) == it.correct_index
            s[1] += 1


def exam_result(items: list[P.Item], answers: dict[int, int]) -> ExamResult:
    return ExamResult(items, answers)


def section_table(result: ExamResult) -> list[dict]:
    return [{t("practice.col.section"): t(f"chapters.section.{sec}"), t("practice.col.right"): r,
             t("practice.col.items"): n, t("practice.col.share"): f"{100 * r / n:.0f} %"}
            for sec, (r, n) in result.by_section.items()]


def progress_table() -> list[dict]:
    rows = []
    due = {(c, g) for c, g, _ in due_for_review()}
    for stem, (r, n) in sorted(scores().items(), key=lambda kv: list(practice_chapters()).index(kv[0])
                                if kv[0] in practice_chapters() else 999):
        rows.append({t("practice.col.chapter"): t(f"{stem}.title"), t("practice.col.right"): r,
                     t("practice.col.items"): n, t("practice.col.share"): f"{100 * r / n:.0f} %",
                     t("practice.col.due"): sum(c == stem for c, _ in due)})
    return rows
