"""Practice (演習): E資格-style items made by the chapters' engines — practise a chapter or a section, a timed mock
exam, review of what was missed (FSRS), and the reader's progress (kept in their browser, downloadable)."""
import random
import time

import streamlit as st

from ui import t
from ui import practice as pr
from ui.legacy_pages import frame

if frame():               # a first session's /practice under `streamlit run`: app.py drew it (ui/legacy_pages.py)
    st.stop()

SECONDS_PER_ITEM = 72          # E資格: ~100 items in 120 minutes
ss = st.session_state

pr.restore()              # the progress this browser keeps, before anything is drawn
st.title(t("practice.title"))
st.markdown(t("practice.intro"))
chapters = pr.practice_chapters()
sections = [sec for sec in pr.SYLLABUS if any(pr.section_of(s) == sec for s in chapters)]
tab_practise, tab_exam, tab_review, tab_progress = st.tabs(
    [t("practice.tab.practise"), t("practice.tab.exam"), t("practice.tab.review"), t("practice.tab.progress")])

# ---- practise a chapter or a section --------------------------------------------------------------------------
with tab_practise:
    # labels made in this run (AppTest formats options outside the run, where the language is not readable)
    scope_labels = {**{f"section:{s}": f"{t('practice.whole_section')}: {t(f'chapters.section.{s}')}"
                       for s in sections}, **{s: t(f"{s}.title") for s in chapters}}
    scope = st.selectbox(t("practice.scope"), list(scope_labels), format_func=scope_labels.get,
                         index=len(sections) if chapters else 0, key="practice.scope")
    pool = [s for s in chapters if pr.section_of(s) == scope[8:]] if scope.startswith("section:") else [scope]
    if "practice.one" not in ss or ss["practice.one"][0] != scope:
        ss["practice.one"] = (scope, random.Random().randrange(10**9))
    shared = pr.shared_item(st.query_params.get("item"))        # ?item=<chapter>.<generator>.<seed>: one question
    if shared is not None and not ss.get("practice.shared_done"):
        it = shared
    else:
        if st.query_params.get("item") and shared is None:
            st.caption(t("practice.bad_item_link"))
        rng = random.Random(ss["practice.one"][1])
        stem = rng.choice(pool)
        it = pr.item(stem, rng.choice(pr.generator_names(stem)), rng.randrange(10**6))
    st.caption(f"{t(f'{it.chapter}.title')} · {t(f'practice.kind.{it.kind}')}")
    with st.container(border=True):
        pr.show_item(it, key=f"practice.one.{ss['practice.one'][1]}")
    st.caption(t("practice.share_item", uid=it.uid))
    if st.button(t("practice.next"), key="practice.next", icon=":material/arrow_forward:"):
        ss["practice.one"] = (scope, random.Random().randrange(10**9))
        ss["practice.shared_done"] = True
        st.rerun()


# ---- mock exam ----------------------------------------------------------------------------------------------
def assemble(n: int, secs: list[str], seed: int) -> list[tuple[str, str, int]]:
    """n items in sets of 3-4 on one chapter, chapters drawn across the chosen sections, as the exam does."""
    rng = random.Random(seed)
    pool = [s for s in chapters if pr.section_of(s) in secs] or list(chapters)
    out: list[tuple[str, str, int]] = []
    while len(out) < n:
        stem = rng.choice(pool)
        names = list(pr.generator_names(stem))
        rng.shuffle(names)
        for name in names[:min(rng.choice((3, 4)), n - len(out))]:
            out.append((stem, name, rng.randrange(10**6)))
    return out


with tab_exam:
    exam = ss.get("practice.exam")
    if exam is None:
        c1, c2 = st.columns([1, 2])
        n = c1.number_input(t("practice.exam_n"), 10, 100, 20, 1, key="practice.exam_n")
        secs = c2.multiselect(t("practice.exam_sections"), sections, sections, key="practice.exam_sections",
                              format_func={s: t(f"chapters.section.{s}") for s in sections}.get)
        st.caption(t("practice.exam_pace", minutes=f"{int(n) * SECONDS_PER_ITEM / 60:.0f}", n=int(n)))
        if st.button(t("practice.exam_start"), type="primary", key="practice.exam_start", disabled=not chapters):
            ss["practice.exam"] = {"items": pr.item_list(assemble(int(n), secs, random.Random().randrange(10**9))),
                                   "answers": {}, "at": 0, "start": time.time(), "finished": False}
            st.rerun()
    else:
        items = [pr.item(*k) for k in exam["items"]]
        limit = len(items) * SECONDS_PER_ITEM
        if not exam["finished"]:
            @st.fragment(run_every=1.0)
            def countdown():
                left = limit - (time.time() - exam["start"])
                if left <= 0:
                    exam["finished"] = True
                    st.rerun(scope="app")
                st.progress(min(1.0, len(exam["answers"]) / len(items)),
                            text=t("practice.exam_status", done=len(exam["answers"]), n=len(items),
                                   left=f"{int(left) // 60}:{int(left) % 60:02d}"))
            countdown()
            i = exam["at"]
            it = items[i]
            st.subheader(t("practice.exam_item", i=i + 1, n=len(items)))
            st.caption(f"{t(f'{it.chapter}.title')} · {t(f'practice.kind.{it.kind}')}")
            with st.container(border=True):
                pr.show_item(it, key=f"practice.exam.{exam['start']}.{i}", reveal=False,
                             on_answer=lambda _it, c, i=i: exam["answers"].__setitem__(i, c))
            c1, c2, c3 = st.columns(3)
            if c1.button(t("practice.prev"), key="practice.exam_prev", disabled=i == 0, icon=":material/arrow_back:"):
                exam["at"] = i - 1
                st.rerun()
            if c2.button(t("practice.next"), key="practice.exam_next", disabled=i == len(items) - 1,
                         icon=":material/arrow_forward:"):
                exam["at"] = i + 1
                st.rerun()
            if c3.button(t("practice.exam_finish"), key="practice.exam_finish", type="primary"):
                exam["finished"] = True
                st.rerun()
        else:
            result = pr.exam_result(items, exam["answers"])
            st.metric(t("practice.exam_score"), f"{result.right} / {result.n}", f"{100 * result.right / result.n:.0f} %",
                      delta_color="off")
            st.table(pr.section_table(result))
            for i, it in enumerate(items):
                chosen = exam["answers"].get(i)
                mark = "✓" if chosen == it.correct_index else "✗"
                label = t("practice.exam_line", i=i + 1, mark=mark, chapter=t(f"{it.chapter}.title"),
                          yours="—" if chosen is None else pr.LETTERS[chosen], right=pr.LETTERS[it.correct_index])
                with st.expander(label):
                    st.markdown(it.stem[pr.lang()])
                    if it.code:
                        st.code(it.code, language="python")
                    pr.show_choices(it)
                    pr.show_result(it, chosen, key=f"practice.exam.result.{i}")
            if st.button(t("practice.exam_new"), key="practice.exam_new"):
                del ss["practice.exam"]
                st.rerun()

# ---- review -------------------------------------------------------------------------------------------------
with tab_review:
    due = pr.due_for_review()
    if not due:
        st.info(t("practice.review_none"))
    else:
        st.markdown(t("practice.review_intro", n=len(due)))
        stem, name, _ = due[0]
        if ss.get("practice.review", (None,))[0] != (stem, name):
            ss["practice.review"] = ((stem, name), random.Random().randrange(10**6))
        seed = ss["practice.review"][1]
        st.caption(f"{t(f'{stem}.title')} · {t(f'practice.kind.{pr.item(stem, name, seed).kind}')}")
        with st.container(border=True):
            pr.show_item(pr.item(stem, name, seed), key=f"practice.review.{stem}.{name}.{seed}")
        if st.button(t("practice.next"), key="practice.review_next", icon=":material/arrow_forward:"):
            ss["practice.review"] = (None,)
            st.rerun()

# ---- progress -----------------------------------------------------------------------------------------------
with tab_progress:
    st.markdown(t("practice.progress_intro"))
    table = pr.progress_table()
    if table:
        right, answered = map(sum, zip(*pr.scores().values()))
        st.markdown(t("practice.progress_total", right=right, n=answered))
        st.table(table)
    else:
        st.info(t("practice.progress_none"))
    st.download_button(t("practice.download"), pr.dumps(), file_name="kicks-progress.json", mime="application/json",
                       key="practice.download", icon=":material/download:")
    f = st.file_uploader(t("practice.load"), type=["json"], key="practice.load",
                         help=t("practice.load_help", mb=f"{pr.MAX_PROGRESS_BYTES / 1e6:.0f}"))
    if f is not None and ss.get("practice.loaded") != f.file_id:
        try:
            loaded = pr.parse_progress(f.read(pr.MAX_PROGRESS_BYTES + 1))
        except pr.ProgressError as err:
            st.error(t(f"practice.errors.{err.code}", **err.info))
        else:
            ss[pr.PROGRESS] = pr.merge(pr.progress(), loaded)
            ss["practice.loaded"] = f.file_id
            ss["practice.dirty"] = True
            st.success(t("practice.loaded", n=len(loaded["answers"])))

pr.sync_browser()
