"""Practice items for Speech › CTC (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Choice, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    shuffled, statement_choices, text)
from engine.speech import ctc

S = "ctc"
TOKENS = ("−", "a", "b", "c")                  # blank is id 0, as on the page


def _spell(ids) -> str:
    return " ".join(TOKENS[int(k)] for k in ids)


def _show(ids) -> str:
    return "[" + ", ".join(TOKENS[int(k)] for k in ids) + "]" if len(ids) else "∅"


def collapse_path(rng: np.random.Generator) -> Item:
    """𝓑 of a frame-label string. Distractors: blanks deleted before merging (repeats merged across a blank), the
    blanks kept, the repeats not merged."""
    T = int(rng.integers(7, 11))
    path = [int(k) for k in rng.choice(4, size=T, p=[0.35, 0.25, 0.25, 0.15])]
    right = ctc.collapse(path)
    no_blanks = [k for k in path if k != 0]
    wrong = [(ctc.merge_repeats(no_blanks), "blanks_first"), (ctc.merge_repeats(path), "blanks_kept"),
             (no_blanks, "no_merge")]
    shown = {_show(right)}
    choices = [Choice(same(_show(right)), True, text(S, "practice.collapse.right"))]
    for seq, key in wrong:
        if _show(seq) in shown:
            raise Redraw("a mistake gives the same sequence on this path")
        shown.add(_show(seq))
        choices.append(Choice(same(_show(seq)), False, text(S, f"practice.collapse.{key}")))
    if not right:
        raise Redraw("empty")
    typed = " ".join("-" if k == 0 else TOKENS[k] for k in path)
    return Item(kind="compute", stem=text(S, "practice.collapse.stem", path=_show(path)),
                choices=shuffled(rng, choices),
                solution=text(S, "practice.collapse.solution", path=_show(path),
                              merged=_show(ctc.merge_repeats(path)), final=_show(right)),
                setup={"ctc.path": typed}, params={"path": path})


def _target(rng) -> list[int]:
    """A target of 3–6 letters over a, b, c with at least one adjacent repeat."""
    while True:
        U = int(rng.integers(3, 7))
        tgt = [int(k) for k in rng.integers(1, 4, size=U)]
        if ctc.count_repeats(tgt) >= 1:
            return tgt


def min_frames(rng: np.random.Generator) -> Item:
    """The fewest frames that can carry a label sequence: U plus one blank between each pair of adjacent repeats.
    Distractors: U (no blank between repeats), 2U + 1 (the extended sequence l′), every repeated letter counted
    (not only adjacent ones), a blank between every pair of labels."""
    tgt = _target(rng)
    U, r = len(tgt), ctc.count_repeats(tgt)
    right = ctc.min_frames(tgt)
    dup_any = U + (U - len(set(tgt)))
    fmt = lambda v: f"{int(v)}"                                             # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.min.right"), [
        (U, text(S, "practice.min.no_blank")),
        (len(ctc.extend(tgt)), text(S, "practice.min.extended")),
        (dup_any, text(S, "practice.min.any_repeat")),
        (2 * U - 1, text(S, "practice.min.every_pair")),
    ], fmt)
    pairs = ", ".join(f"{TOKENS[a]}{TOKENS[b]}" for a, b in zip(tgt, tgt[1:]) if a == b)
    example = [k for i, k in enumerate(tgt) for k in ([0, k] if i and tgt[i - 1] == k else [k])]
    return Item(kind="compute", stem=text(S, "practice.min.stem", l=_show(tgt)), choices=choices,
                solution=text(S, "practice.min.solution", U=U, r=r, pairs=pairs, T=right, example=_show(example)),
                setup={}, params={"targets": tgt}, answer=float(right), tolerance=0)


def _matrix(rng, T: int) -> np.ndarray:
    """T rows of probabilities over (−, a, b), multiples of 0.1, each ≥ 0.1, summing to 1."""
    rows = []
    for _ in range(T):
        cut = np.sort(rng.choice(np.arange(1, 10), 2, replace=False))
        rows.append(np.diff(np.r_[0, cut, 10]) / 10)
    return np.array(rows)


def _table(y: np.ndarray) -> str:
    head = "| t | " + " | ".join(f"$y_t^{{{k}}}$" for k in TOKENS[:3]) + " |\n|---|---|---|---|\n"
    return head + "\n".join(f"| {t + 1} | " + " | ".join(f"{v:.1f}" for v in row) + " |" for t, row in enumerate(y))


def path_sum(rng: np.random.Generator) -> Item:
    """P(l|x) on a 3- or 4-frame matrix by summing its alignments (the forward algorithm gives the same).
    Distractors: the best path only, α_T(S) or α_T(S−1) alone (paths ending in a blank / in the last label), the
    paths without any blank only, the blanks-first collapse (a − a counted as a)."""
    case = int(rng.integers(4))
    tgt, T = [([1], 3), ([1, 2], 3), ([2, 1], 3), ([1, 1], 4)][case]
    y = _matrix(rng, T)
    logp = np.log(y)
    tab = ctc.alignment_table(logp, tgt)
    alpha = np.exp(ctc.forward(logp, tgt))                                  # (T, S)
    everything = np.array(np.meshgrid(*[range(3)] * T, indexing="ij")).reshape(T, -1).T      # (3^T, T)
    p_all = np.exp(logp[np.arange(T), everything].sum(axis=1))
    blanks_first = sum(p for path, p in zip(everything, p_all)
                       if ctc.merge_repeats([k for k in path if k != 0]) == tgt)
    no_blank = sum(p for path, p in zip(tab.paths, np.exp(tab.log_p)) if 0 not in path)
    fmt = lambda v: f"{v:.4f}"                                             # noqa: E731
    choices = numeric_choices(rng, tab.likelihood, text(S, "practice.sum.right"), [
        (float(np.exp(tab.log_p[0])), text(S, "practice.sum.best_path")),
        (float(alpha[-1, -1]), text(S, "practice.sum.end_blank_only")),
        (float(alpha[-1, -2]), text(S, "practice.sum.end_label_only")),
        (blanks_first or None, text(S, "practice.sum.blanks_first")),      # none such for l = [a, a]
        (no_blank, text(S, "practice.sum.no_blank")),
    ], fmt)
    lines = "\n".join(f"- {_show(path)}: " + " × ".join(f"{y[t, k]:.1f}" for t, k in enumerate(path))
                      + f" = {np.exp(lp):.4f}" for path, lp in zip(tab.paths, tab.log_p))
    return Item(kind="compute",
                stem=text(S, "practice.sum.stem", T=T, l=_show(tgt), table=_table(y)),
                choices=choices,
                solution=text(S, "practice.sum.solution", n=len(tab.paths), l=_show(tgt), lines=lines,
                              P=fmt(tab.likelihood)),
                setup={}, params={"y": y, "targets": tgt}, answer=tab.likelihood, tolerance=0.00005)


_TRUE = ("blank_repeats", "order", "sum_paths", "loss", "extended", "min_frames", "independence", "no_alignment",
         "greedy_not_best")
_FALSE = ("blanks_first", "best_path", "needs_alignment", "skip_repeat", "greedy_best", "longer_output",
          "blank_ends_only", "extended_U")


def ctc_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about CTC (or, half the seeds, the false one)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_ALPHA_CODE = """def ctc_prob(y, ext, blank):
    T, S = len(y), len(ext)
    alpha = np.zeros((T, S))
    alpha[0, 0] = y[0, ext[0]]
    alpha[0, 1] = y[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            a = alpha[t - 1, s] + (alpha[t - 1, s - 1] if s >= 1 else 0.0)
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                a += alpha[t - 1, s - 2]
            alpha[t, s] = a * y[t, ext[s]]
    return alpha[T - 1, S - 1] + alpha[T - 1, S - 2]"""
# the line that may be blanked -> {mistake: wrong line} (lines without indentation)
_ALPHA_WRONG = {
    "if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:": {
        "skip_repeats": "if s >= 2 and ext[s] != blank:",
        "skip_always": "if s >= 2:",
        "skip_into_blank": "if s >= 2 and ext[s] == blank:",
        "skip_only_repeats": "if s >= 2 and ext[s] != blank and ext[s] == ext[s - 2]:",
    },
    "alpha[t, s] = a * y[t, ext[s]]": {
        "state_index": "alpha[t, s] = a * y[t, s]",
        "add_emission": "alpha[t, s] = a + y[t, ext[s]]",
        "previous_frame": "alpha[t, s] = a * y[t - 1, ext[s]]",
        "no_emission": "alpha[t, s] = a",
    },
    "return alpha[T - 1, S - 1] + alpha[T - 1, S - 2]": {
        "end_blank": "return alpha[T - 1, S - 1]",
        "end_label": "return alpha[T - 1, S - 2]",
        "last_row_sum": "return alpha[T - 1].sum()",
        "last_column_sum": "return alpha[:, S - 1].sum()",
    },
}


def alpha_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of the forward recursion α_t(s) (the skip rule, the emission, or the end states);
    the candidates are executed on a drawn matrix and compared with the engine's P(l|x)."""
    T = int(rng.integers(5, 8))
    while True:
        tgt = [int(k) for k in rng.integers(1, 3, size=int(rng.integers(2, 4)))]
        if ctc.count_repeats(tgt) >= 1 and ctc.min_frames(tgt) < T:
            break
    y = _matrix(rng, T)
    P = float(np.exp(-ctc.ctc_loss(np.log(y), tgt)))
    ext = [int(k) for k in ctc.extend(tgt)]
    ex = Exec("ctc_prob", (y, ext, 0), P, atol=1e-9)
    right = list(_ALPHA_WRONG)[int(rng.integers(len(_ALPHA_WRONG)))]
    code = _ALPHA_CODE.replace(right, "____")
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _ALPHA_WRONG[right].items()
             if not matches(execute(code.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right probability on this matrix")
    choices = code_choices(rng, (right, text(S, "practice.blank.right")), wrong)
    rows = "\n".join(f"| {t + 1} | " + " | ".join(f"{v:.1f}" for v in row) + " |" for t, row in enumerate(y))
    return Item(kind="blank", stem=text(S, "practice.blank.stem", l=_show(tgt), ext=_show(ext), T=T, rows=rows),
                choices=choices, code=code,
                solution=text(S, "practice.blank.solution", line=right, P=f"{P:.6f}",
                              n=ctc.count_alignments(tgt, T)),
                setup={}, params={"y": y, "targets": tgt}, exec=ex)


GENERATORS = (collapse_path, min_frames, path_sum, ctc_statement, alpha_blank)
