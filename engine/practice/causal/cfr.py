"""Practice items for Causal › Individual treatment effect (CFR) (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.causal import cfr as E
from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)

S = "cfr"


def _num(v: float, decimals: int) -> str:
    """v to `decimals` places, never "−0.00…" (a negative value that rounds to zero reads as 0)."""
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s


fmt2 = lambda v: _num(v, 2)                                                     # noqa: E731
fmt3 = lambda v: _num(v, 3)                                                     # noqa: E731


def _data(x, t, y0, y1) -> E.Data:
    """A hand-sized table as the engine's Data (both potential outcomes known, as in the page's synthetic set)."""
    t = np.asarray(t, int)
    y0, y1 = np.asarray(y0, float), np.asarray(y1, float)
    y = np.where(t == 1, y1, y0)
    idx = np.arange(len(t))
    return E.Data("table", np.asarray(x, float)[:, None], t, y, np.where(t == 1, y0, y1), y0, y1, idx, idx[:0])


# ------------------------------------------------------------------------------------------------- compute
def naive_vs_ate(rng: np.random.Generator) -> Item:
    """A confounded table of 8 units with both potential outcomes: the true ATE (engine naive_vs_true);
    distractors: the naive difference of observed means, the ATT, the ATC."""
    n = 8
    x = np.sort(rng.integers(0, 10, n))                             # the confounder
    t = (rng.random(n) < 0.15 + 0.08 * x).astype(int)               # larger x, more often treated
    if t.sum() < 2 or t.sum() > n - 2:
        raise Redraw("a group too small")
    y0 = x + rng.integers(0, 3, n)                                  # the confounder raises the outcome
    y1 = y0 + rng.integers(0, 4, n)                                 # τ_i ≥ 0, varying
    d = _data(x, t, y0, y1)
    nv = E.naive_vs_true(d)
    right = nv.ate
    atc = float(d.tau[t == 0].mean())
    choices = numeric_choices(rng, right, text(S, "practice.naive.right"), [
        (nv.naive, text(S, "practice.naive.naive")),
        (nv.att, text(S, "practice.naive.att")),
        (atc, text(S, "practice.naive.atc")),
    ], fmt3)
    rows = "\n".join(f"| {i + 1} | {x[i]} | {t[i]} | {y0[i]} | {y1[i]} |" for i in range(n))
    return Item(kind="compute", stem=text(S, "practice.naive.stem", rows=rows), choices=choices,
                solution=text(S, "practice.naive.solution", taus=", ".join(str(int(v)) for v in d.tau),
                              ate=fmt3(right), naive=fmt3(nv.naive), y1=f"{y1[t == 1].mean():.3f}",
                              y0=f"{y0[t == 0].mean():.3f}", n1=int(t.sum()), n0=int(n - t.sum())),
                params={"x": x.tolist(), "t": t.tolist(), "y0": y0.tolist(), "y1": y1.tolist()},
                answer=right, tolerance=0.0005)


def pehe_or_ate(rng: np.random.Generator) -> Item:
    """√ε_PEHE or ε_ATE of an estimate on 5 units (engine pehe / ate_error); distractors: the other metric, ε_PEHE
    without the root, the mean absolute error, the root of the sum."""
    n = 5
    tau = np.round(rng.uniform(-1, 3, n), 1) + 0.0
    tau_hat = np.round(tau + rng.uniform(-1.5, 1.5, n), 1) + 0.0
    which = "pehe" if rng.integers(2) else "ate"
    p, a = E.pehe(tau_hat, tau), E.ate_error(tau_hat, tau)
    right = p if which == "pehe" else a
    diff = tau_hat - tau
    choices = numeric_choices(rng, right, text(S, f"practice.pehe.right_{which}"), [
        (a if which == "pehe" else p, text(S, f"practice.pehe.other_{which}")),
        (p ** 2, text(S, "practice.pehe.no_root")),
        (float(np.abs(diff).mean()), text(S, "practice.pehe.mae")),
        (float(np.sqrt((diff ** 2).sum())), text(S, "practice.pehe.sum")),
        (float(diff.mean()), text(S, "practice.pehe.signed")),
    ], fmt3)
    rows = "\n".join(f"| {i + 1} | {tau[i]:g} | {tau_hat[i]:g} |" for i in range(n))
    return Item(kind="compute", stem=text(S, f"practice.pehe.stem_{which}", rows=rows), choices=choices,
                solution=text(S, f"practice.pehe.solution_{which}", d=", ".join(f"{v:.1f}" for v in diff),
                              d2=", ".join(f"{v:.2f}" for v in diff ** 2), m2=f"{np.mean(diff ** 2):.4f}",
                              mt=f"{tau.mean():.2f}", mh=f"{tau_hat.mean():.2f}", ans=fmt3(right)),
                params={"tau": tau.tolist(), "tau_hat": tau_hat.tolist(), "metric": which},
                answer=right, tolerance=0.0005)


def balancing_weight(rng: np.random.Generator) -> Item:
    """TARNet/CFR's sample weight w_i = t_i/(2u) + (1 − t_i)/(2(1 − u)) (engine sample_weights); distractors: 1/u,
    the other group's weight, u itself, no factor 2."""
    n = int(rng.choice([20, 40, 50, 80, 100, 200, 500, 1000]))
    n1 = int(rng.integers(max(1, n // 20), n // 2))
    treated = bool(rng.integers(2))
    t = np.r_[np.ones(n1), np.zeros(n - n1)]
    w = E.sample_weights(t)
    right = float(w[0] if treated else w[-1])
    other = float(w[-1] if treated else w[0])
    u = n1 / n
    mine = u if treated else 1 - u
    choices = numeric_choices(rng, right, text(S, "practice.weight.right"), [
        (1 / mine, text(S, "practice.weight.no_half")),
        (other, text(S, "practice.weight.other_group")),
        (mine, text(S, "practice.weight.share")),
        (1 / (2 * (1 - mine)), text(S, "practice.weight.swapped")),
        (1 / (2 * mine * n), text(S, "practice.weight.normalised")),
    ], fmt3)
    who = text(S, "practice.weight.treated" if treated else "practice.weight.control")
    return Item(kind="compute", stem=text(S, "practice.weight.stem", n=n, n1=n1, who=who),
                choices=choices,
                solution=text(S, "practice.weight.solution", n=n, n1=n1, u=f"{u:g}", w1=fmt3(float(w[0])),
                              w0=fmt3(float(w[-1])), ans=fmt3(right), s1=f"{n1 * float(w[0]):g}",
                              s0=f"{(n - n1) * float(w[-1]):g}"),
                params={"n": n, "n_treated": n1, "treated": treated}, answer=right, tolerance=0.0005)


def wasserstein_1d(rng: np.random.Generator) -> Item:
    """W1 between 4 treated and 4 control one-dimensional representations (engine wasserstein_exact); distractors:
    the difference of the means, the pairs in the listed order, the mean over all pairs, the largest sorted gap."""
    a = np.round(rng.uniform(-2, 3, 4), 1) + 0.0
    b = np.round(rng.uniform(-2, 3, 4), 1) + 0.0
    right = E.wasserstein_exact(a[:, None], b[:, None])
    sa, sb = np.sort(a), np.sort(b)
    choices = numeric_choices(rng, right, text(S, "practice.w1.right"), [
        (abs(float(a.mean() - b.mean())), text(S, "practice.w1.means")),
        (float(np.abs(a - b).mean()), text(S, "practice.w1.listed")),
        (float(np.abs(a[:, None] - b[None, :]).mean()), text(S, "practice.w1.all_pairs")),
        (float(np.abs(sa - sb).max()), text(S, "practice.w1.max")),
    ], fmt3)
    return Item(kind="compute", stem=text(S, "practice.w1.stem", a=", ".join(f"{v:g}" for v in a),
                                          b=", ".join(f"{v:g}" for v in b)),
                choices=choices,
                solution=text(S, "practice.w1.solution", sa=", ".join(f"{v:g}" for v in sa),
                              sb=", ".join(f"{v:g}" for v in sb),
                              gaps=", ".join(f"{v:.1f}" for v in np.abs(sa - sb)), ans=fmt3(right)),
                params={"a": a.tolist(), "b": b.tolist()}, answer=right, tolerance=0.0005)


# ----------------------------------------------------------------------------------------------- statement
_TRUE = ("fundamental", "naive_confounded", "pehe_needs_both", "ipm_distance", "bound", "t_learner", "s_learner",
         "alpha_large", "tarnet")
_FALSE = ("correlation_enough", "pehe_factual", "ipm_outcome", "alpha_always", "s_separate", "t_shared",
          "tarnet_ipm", "ate_individual")


def statement(rng: np.random.Generator) -> Item:
    """Counterfactual regression: ITE, PEHE, IPM, S/T-learner, TARNet against misconceptions."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


# ------------------------------------------------------------------------------------------- implementation
_T_RIGHT = """def t_learner(X, t, y):
    # one linear model per group; X: (n, d), t: (n,) in {0, 1}, y: (n,)
    def fit(mask):
        A = np.c_[np.ones(mask.sum()), X[mask]]
        return np.linalg.lstsq(A, y[mask], rcond=None)[0]
    b0, b1 = fit(t == 0), fit(t == 1)
    A = np.c_[np.ones(len(X)), X]
    return A @ b1 - A @ b0"""
_T_WRONG = {
    "s_learner": """def t_learner(X, t, y):
    # one linear model per group; X: (n, d), t: (n,) in {0, 1}, y: (n,)
    A = np.c_[np.ones(len(X)), X, t]
    b = np.linalg.lstsq(A, y, rcond=None)[0]
    return np.full(len(X), b[-1])""",
    "swapped": _T_RIGHT.replace("return A @ b1 - A @ b0", "return A @ b0 - A @ b1"),
    "pooled": _T_RIGHT.replace("b0, b1 = fit(t == 0), fit(t == 1)", "b0, b1 = fit(t == 0), fit(t >= 0)"),
    "no_intercept": _T_RIGHT.replace("A = np.c_[np.ones(mask.sum()), X[mask]]", "A = X[mask]")
                            .replace("A = np.c_[np.ones(len(X)), X]", "A = np.c_[X]"),
    "naive": """def t_learner(X, t, y):
    # one linear model per group; X: (n, d), t: (n,) in {0, 1}, y: (n,)
    return np.full(len(X), y[t == 1].mean() - y[t == 0].mean())""",
}


def _linear():
    from sklearn.linear_model import LinearRegression
    return LinearRegression()


def _table_data(rng, n: int = 10):
    x = np.round(rng.uniform(0, 4, n), 1)
    t = (rng.random(n) < 0.2 + 0.15 * x).astype(int)
    if t.sum() < 3 or t.sum() > n - 3 or len(set(x[t == 1].tolist())) < 2 or len(set(x[t == 0].tolist())) < 2:
        raise Redraw("each group needs two distinct x")
    y = np.round(1 + 0.8 * x + t * (0.5 + 0.5 * x) + rng.normal(0, 0.3, n), 1)
    return x, t, y


def implementation(rng: np.random.Generator) -> Item:
    """Which function is the (linear) T-learner's τ̂(x)? Run on a drawn table; the engine's t_learner with
    scikit-learn's LinearRegression is the reference."""
    x, t, y = _table_data(rng)
    X = x[:, None]
    expected = E.t_learner(X, t, y, _linear)(X)
    ex = Exec("t_learner", (X, t, y), expected, atol=1e-8)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _T_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a distractor agrees on this table")
    choices = code_choices(rng, (_T_RIGHT, text(S, "practice.impl.right")), wrong)
    rows = "\n".join(f"| {i + 1} | {x[i]:g} | {t[i]} | {y[i]:g} |" for i in range(len(x)))
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", rows=rows), choices=choices,
                solution=text(S, "practice.impl.solution", tau=", ".join(f"{v:.3f}" for v in expected)),
                params={"x": x.tolist(), "t": t.tolist(), "y": y.tolist()}, exec=ex)


# -------------------------------------------------------------------------------------------------- blank
_S_CODE = """def s_learner(X, t, y):
    # one linear model on [x, t]; X: (n, d), t: (n,) in {0, 1}, y: (n,)
    A = np.c_[np.ones(len(X)), X, t]
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    def mu(Z, tt):
        return np.c_[np.ones(len(Z)), Z, np.full(len(Z), tt)] @ beta
____"""
_S_LINES = {
    "right": "    return mu(X, 1) - mu(X, 0)",
    "reversed": "    return mu(X, 0) - mu(X, 1)",
    "factual": "    return mu(X, t) - mu(X, 1 - t)",
    "observed": "    return y - mu(X, 0)",
    "naive": "    return np.full(len(X), mu(X[t == 1], 1).mean() - mu(X[t == 0], 0).mean())",
}


def blank(rng: np.random.Generator) -> Item:
    """The S-learner's last line (τ̂(x) = μ̂(x, 1) − μ̂(x, 0)); the engine's s_learner with LinearRegression is
    the reference."""
    x, t, y = _table_data(rng)
    X = x[:, None]
    expected = E.s_learner(X, t, y, _linear)(X)
    ex = Exec("s_learner", (X, t, y), expected, atol=1e-8)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _S_LINES.items()
             if k != "right" and not matches(execute(_S_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees on this table")
    choices = code_choices(rng, (_S_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    rows = "\n".join(f"| {i + 1} | {x[i]:g} | {t[i]} | {y[i]:g} |" for i in range(len(x)))
    return Item(kind="blank", stem=text(S, "practice.blank.stem", rows=rows), choices=choices,
                code=_S_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", tau=f"{float(expected[0]):.3f}"),
                params={"x": x.tolist(), "t": t.tolist(), "y": y.tolist()}, exec=ex)


GENERATORS = (naive_vs_ate, pehe_or_ate, balancing_weight, wasserstein_1d, statement, implementation, blank)
