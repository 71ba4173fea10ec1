"""Practice (issue #24): the Practice page and the chapters' Check-yourself block, headlessly in both languages —
answers right and wrong, a 10-item mock exam to the end, review of the missed items, progress files good and bad,
and "open this case in the chapter" reproducing the item's case on the chapter page."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, assert_ok, run_page
from engine.common import practice as P

PAGE = "pages/practice.py"


def _answer(at, choice_of, prefix: str = "practice."):
    """Answer the item shown (choice_of(item) -> index) through its radio and Answer button."""
    radio = next(r for r in at.radio if r.key and r.key.startswith(prefix) and r.key.endswith(".choice")
                  and not r.disabled)
    key = radio.key[: -len(".choice")]
    radio.set_value(choice_of(key)).run()
    at.button(key=f"{key}.check").click().run()
    assert_ok(at)
    return key


def _shown_item(at):
    """The practise tab's item, rebuilt from its seed in session state (as the page draws it)."""
    import random

    from ui import practice as pr
    scope, seed = at.session_state["practice.one"]
    rng = random.Random(seed)
    chapters = pr.practice_chapters()
    pool = [s for s in chapters if pr.section_of(s) == scope[8:]] if scope.startswith("section:") else [scope]
    stem = rng.choice(pool)
    return pr.item(stem, rng.choice(pr.generator_names(stem)), rng.randrange(10**6))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_answer_right_and_wrong(lang):
    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    it = _shown_item(at)
    _answer(at, lambda key: it.correct_index)
    from ui.practice import _why
    assert at.success and _why(it.choices[it.correct_index].feedback[lang]) in at.success[0].value
    assert any(it.solution[lang][:30] in m.value for m in at.markdown)
    at.button(key="practice.next").click().run()
    it = _shown_item(at)
    wrong = next(i for i, c in enumerate(it.choices) if not c.correct)
    _answer(at, lambda key: wrong)
    assert at.error and it.choices[wrong].feedback[lang] in at.error[0].value       # the mistake is named
    answers = at.session_state["practice.progress"]["answers"]
    assert [a["correct"] for a in answers] == [True, False]
    # a miss makes an FSRS card due now: Review offers the same generator as a new variant
    assert f"{it.chapter}.{it.generator}" in at.session_state["practice.progress"]["cards"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_mock_exam_of_ten_items_to_the_end_then_review(lang):
    at = run_page(PAGE, lang=lang)
    at.number_input(key="practice.exam_n").set_value(10)
    at.multiselect(key="practice.exam_sections").set_value(["detection"]).run()
    at.button(key="practice.exam_start").click().run()
    assert_ok(at)
    exam = at.session_state["practice.exam"]
    assert len(exam["items"]) == 10
    from ui import practice as pr
    items = [pr.item(*k) for k in exam["items"]]
    for i, it in enumerate(items):          # right on even items, wrong on odd ones
        choice = it.correct_index if i % 2 == 0 else (it.correct_index + 1) % 4
        _answer(at, lambda key: choice, prefix="practice.exam.")
        assert not at.success and not at.error, "no feedback during the exam"
        if i < 9:
            at.button(key="practice.exam_next").click().run()
    at.button(key="practice.exam_finish").click().run()
    assert_ok(at)
    assert at.metric[0].value == "5 / 10"
    assert len(at.expander) >= 10
    last = {}                                       # each generator's last answer decides whether it is due now
    for i, it in enumerate(items):
        last[(it.chapter, it.generator)] = i % 2 == 1
    missed = {k for k, was_missed in last.items() if was_missed}
    due = {(c, g) for c, g, _ in pr.due_for_review(at.session_state["practice.progress"])}
    assert missed <= due


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("content,code", [
    (b"\xff\xfe not json", "not_json"), (b'{"format": "other"}', "foreign"),
    (b'{"format": "kicks-practice", "version": 99}', "version"),
    (b'{"format": "kicks-practice", "version": 1, "answers": [{"chapter": "boxes"}], "cards": {}}', "corrupt"),
    (b'{"format": "kicks-practice", "version": 1, "answers": [], "cards": {"boxes.iou_value": {"due": 3}}}',
     "corrupt"),
    (b"[" * 100_000, "not_json"), (b" " * 2_000_001, "too_big")])
def test_bad_progress_file_changes_nothing(lang, content, code):
    from ui.i18n import lookup

    at = run_page(PAGE, lang=lang)
    it = _shown_item(at)
    _answer(at, lambda key: it.correct_index)
    before = json.dumps(at.session_state["practice.progress"], sort_keys=True)
    at.file_uploader(key="practice.load").upload("progress.json", content, "application/json").run()
    assert_ok(at)
    expected = lookup(f"practice.errors.{code}", lang)
    assert at.error and at.error[-1].value.startswith(expected.split("{")[0])
    assert json.dumps(at.session_state["practice.progress"], sort_keys=True) == before


def test_good_progress_file_is_merged():
    at = run_page(PAGE, lang="ja")
    from ui import practice as pr
    prog = pr.empty_progress()
    prog["answers"].append({"chapter": "boxes", "generator": "iou_value", "seed": 3, "choice": 1, "correct": False,
                            "at": "2026-12-01T10:00:00+00:00"})
    at.file_uploader(key="practice.load").upload("p.json", pr.dumps(prog).encode(), "application/json").run()
    assert_ok(at)
    assert at.success and at.session_state["practice.progress"]["answers"] == prog["answers"]


def test_progress_round_trip_and_merge():
    from ui import practice as pr

    prog = pr.empty_progress()
    it = P.make("boxes", "iou_value", 3)
    prog["answers"].append({"chapter": "boxes", "generator": "iou_value", "seed": 3, "choice": 1,
                            "correct": it.correct_index == 1, "at": "2026-12-01T10:00:00+00:00"})
    from fsrs import Card, Rating, Scheduler
    card, _ = Scheduler(enable_fuzzing=False).review_card(Card(card_id=1), Rating.Again)
    prog["cards"]["boxes.iou_value"] = card.to_dict()
    text = pr.dumps(prog)
    back = pr.parse_progress(text.encode())
    assert back == json.loads(text)
    merged = pr.merge(back, back)
    assert merged["answers"] == back["answers"]                # duplicates once


def test_open_this_case_reproduces_the_item_on_the_chapter_page():
    """The item's setup, as query parameters, sets the chapter's widgets to the item's values."""
    from streamlit.testing.v1 import AppTest

    it = P.make("boxes", "iou_value", 7)
    at = AppTest.from_file(str(ROOT / "pages/detection/boxes.py"), default_timeout=120)
    at.query_params["lang"] = "en"
    for k, v in it.setup.items():
        at.query_params[k] = [str(x) for x in v]
    at.run()
    assert_ok(at)
    a, b = it.params["a"], it.params["b"]
    x = at.slider(key="boxes.truth.x.320x213").value
    assert x == (float(a[0]), float(a[2]))
    assert at.slider(key="boxes.pred.y.320x213").value == (float(b[1]), float(b[3]))
    iou = next(m for m in at.metric if m.label == "IoU")
    assert iou.value == f"{it.answer:.3f}"


def test_chapter_page_ends_with_check_yourself_in_both_languages():
    from ui.i18n import lookup
    for lang in ("en", "ja"):
        at = run_page("pages/detection/boxes.py", lang=lang)
        assert_ok(at)
        assert at.header[-1].value == lookup("practice.check_yourself", lang)
        _answer(at, lambda key: 0)
        assert at.success or at.error
