"""Practice items for Paradigms › Continual learning (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (statement_choices, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    text)
from engine.paradigms import continual

S = "continual"


def _matrix(rng: np.random.Generator) -> np.ndarray:
    """An accuracy matrix R (T, T) in %, integers: high on the diagonal, forgetting below it (some tasks recover a
    little), near chance above it (tasks not yet learnt)."""
    T = int(rng.integers(3, 5))
    R = np.zeros((T, T))
    for i in range(T):
        for j in range(T):
            if j == i:
                R[i, j] = rng.integers(85, 100)
            elif j < i:
                R[i, j] = max(0, R[i - 1, j] - rng.integers(-3, 30))
            else:
                R[i, j] = rng.integers(0, 15)
    return np.minimum(R, 100)


def _table(R: np.ndarray, row: str, col: str) -> str:
    """R as a markdown table; `row` / `col` are the row and column headers with a {} for the task number."""
    T = len(R)
    head = "| | " + " | ".join(col.format(j + 1) for j in range(T)) + " |"
    sep = "|---" * (T + 1) + "|"
    rows = [f"| {row.format(i + 1)} | " + " | ".join(f"{int(v)}" for v in R[i]) + " |" for i in range(T)]
    return "\n".join([head, sep] + rows)


def _tables(R):
    return {"en": _table(R, "after task {}", "task {}"), "ja": _table(R, "タスク {} 学習後", "タスク {}")}


def _forgetting(R: np.ndarray) -> float:
    """Chaudhry et al.'s forgetting measure: mean over old tasks of (best earlier accuracy − final accuracy)."""
    T = len(R)
    return float(np.mean([R[:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]))


def acc_value(rng: np.random.Generator) -> Item:
    """ACC after the last task from an accuracy matrix R; distractors: the diagonal's mean (accuracy right after
    learning each task), the previous row, the last column, the mean of every learnt entry (lower triangle)."""
    R = _matrix(rng)
    T = len(R)
    acc, _ = continual.acc_bwt(R)
    fmt = lambda v: f"{v:.2f}"                                          # noqa: E731
    choices = numeric_choices(rng, acc, text(S, "practice.acc.right"), [
        (float(np.mean(np.diag(R))), text(S, "practice.acc.diagonal")),
        (float(np.mean(R[T - 2])), text(S, "practice.acc.previous_row")),
        (float(np.mean(R[:, T - 1])), text(S, "practice.acc.column")),
        (float(np.mean(R[np.tril_indices(T)])), text(S, "practice.acc.lower")),
        (float(np.mean(R[T - 1, :T - 1])), text(S, "practice.acc.old_only")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.acc.stem", T=T, table=_tables(R)), choices=choices,
                solution=text(S, "practice.acc.solution", T=T, row=" + ".join(f"{int(v)}" for v in R[T - 1]),
                              acc=fmt(acc)),
                setup={}, params={"R": R.tolist()}, answer=acc, tolerance=0.005)


def bwt_value(rng: np.random.Generator) -> Item:
    """BWT after the last task; distractors: the sign flipped, divided by T (the last task's zero counted), the
    forgetting measure (best earlier accuracy, not R_jj), the last row against the first row."""
    R = _matrix(rng)
    T = len(R)
    _, bwt = continual.acc_bwt(R)
    diffs = [R[T - 1, j] - R[j, j] for j in range(T - 1)]
    fmt = lambda v: f"{v:+.2f}"                                         # noqa: E731
    choices = numeric_choices(rng, bwt, text(S, "practice.bwt.right"), [
        (-bwt, text(S, "practice.bwt.sign")),
        (float(np.sum(diffs)) / T, text(S, "practice.bwt.over_t")),
        (-_forgetting(R), text(S, "practice.bwt.forgetting")),
        (float(np.mean(R[T - 1, :T - 1] - R[0, :T - 1])), text(S, "practice.bwt.first_row")),
        (float(np.sum(diffs)), text(S, "practice.bwt.sum")),
    ], fmt)
    terms = " + ".join(f"({int(R[T - 1, j])} − {int(R[j, j])})" for j in range(T - 1))
    return Item(kind="compute", stem=text(S, "practice.bwt.stem", T=T, table=_tables(R)), choices=choices,
                solution=text(S, "practice.bwt.solution", T=T, Tm1=T - 1, terms=terms, bwt=fmt(bwt)),
                setup={}, params={"R": R.tolist()}, answer=bwt, tolerance=0.005)


def replay_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about forgetting, replay and the two scenarios (or, half the seeds, the false one)."""
    true = ("forgetting", "dgr_no_data", "scholar", "task_easier", "bwt_negative", "all_stored_joint",
            "small_generator", "r_zero")
    false = ("dgr_stores", "bwt_positive_forget", "task_harder", "joint_lower", "finetune_keeps", "acc_diag",
             "generator_labels", "r_one_real")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_METRICS_RIGHT = """def acc_bwt(R):
    T = len(R)
    acc = np.mean(R[T - 1])
    bwt = np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)])
    return acc, bwt"""
_METRICS_WRONG = {
    "acc_diag": _METRICS_RIGHT.replace("acc = np.mean(R[T - 1])", "acc = np.mean(np.diag(R))"),
    "acc_column": _METRICS_RIGHT.replace("acc = np.mean(R[T - 1])", "acc = np.mean(R[:, T - 1])"),
    "bwt_sign": _METRICS_RIGHT.replace("R[T - 1, j] - R[j, j]", "R[j, j] - R[T - 1, j]"),
    "bwt_all": _METRICS_RIGHT.replace("for j in range(T - 1)", "for j in range(T)"),
    "bwt_first": _METRICS_RIGHT.replace("R[T - 1, j] - R[j, j]", "R[T - 1, j] - R[0, j]"),
}


def metrics_implementation(rng: np.random.Generator) -> Item:
    """Which function returns (ACC, BWT) after the last task? Each snippet is run on a drawn R."""
    R = _matrix(rng)
    expected = np.array(continual.acc_bwt(R))
    ex = Exec("acc_bwt", (R,), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _METRICS_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree on this matrix")
    choices = code_choices(rng, (_METRICS_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", table=_tables(R)), choices=choices,
                solution=text(S, "practice.impl.solution", acc=f"{expected[0]:.2f}", bwt=f"{expected[1]:+.2f}"),
                setup={}, params={"R": R.tolist()}, exec=ex)


GENERATORS = (acc_value, bwt_value, replay_statement, metrics_implementation)
