"""Practice items for Explainability › SHAP (format: engine/common/practice.py)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.explainability import shapley as E

S = "shapley"


def _num(v: float, decimals: int) -> str:
    """v to `decimals` places, never "−0.00…" (a negative value that rounds to zero reads as 0)."""
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s

PLAYERS = "ABC"
N = 3
fmt2 = lambda v: _num(v, 2)                                                     # noqa: E731


def _name(s: frozenset) -> str:
    return "".join(PLAYERS[i] for i in sorted(s)) or "∅"


def _game(rng) -> dict[frozenset, float]:
    """A 3-player game with integer values: v(∅) = 0, singles 0–9, pairs and N at least as much as their parts'
    best (a game a payoff table could give)."""
    v = {frozenset(): 0.0}
    for i in range(N):
        v[frozenset({i})] = float(rng.integers(0, 10))
    for pair in ((0, 1), (0, 2), (1, 2)):
        best = max(v[frozenset({pair[0]})], v[frozenset({pair[1]})])
        v[frozenset(pair)] = float(best + rng.integers(0, 10))
    v[frozenset(range(N))] = float(max(v[frozenset(p)] for p in ((0, 1), (0, 2), (1, 2))) + rng.integers(0, 10))
    return v


def _table(v: dict) -> str:
    cols = [s for s in E.coalitions(N)]
    head = "| S | " + " | ".join(_name(s) for s in cols) + " |"
    rule = "|---|" + "---|" * len(cols)
    row = "| v(S) | " + " | ".join(f"{v[s]:g}" for s in cols) + " |"
    return "\n".join((head, rule, row))


def _setup(v: dict, i: int | None = None) -> dict:
    """The page's game: 3 players, each coalition's number input (key shapley.v3.<name>), the expanded player."""
    setup: dict = {"shapley.n_players": N}
    setup.update({f"shapley.v{N}.{_name(s)}": v[s] for s in E.coalitions(N)})
    if i is not None:
        setup["shapley.player"] = PLAYERS[i]
    return setup


def _set(s: frozenset) -> str:
    return "{" + ",".join(PLAYERS[j] for j in sorted(s)) + "}" if s else "∅"


def _frac(w: float) -> str:
    f = Fraction(w).limit_denominator(1000)
    return f"{f.numerator}/{f.denominator}"


def _terms_text(v: dict, i: int) -> str:
    terms = E.shapley_terms(E.table_game(v), N, i)
    rows = [f"- S = {_set(t.coalition)}: {_frac(t.weight)} × "
            f"[v({_name(t.coalition | {i})}) − v({_name(t.coalition)})] = {_frac(t.weight)} × "
            f"({v[t.coalition | {i}]:g} − {v[t.coalition]:g}) = {t.weight * t.gain:.4f}" for t in terms]
    return "\n".join(rows)


# ------------------------------------------------------------------------------------------------- compute
def phi_value(rng: np.random.Generator) -> Item:
    """φ_i of a 3-player game from its table; distractors: the four coalitions averaged without weights, the
    contribution when joining the empty coalition, when joining last, an equal split of v(N)."""
    v = _game(rng)
    i = int(rng.integers(N))
    game = E.table_game(v)
    phi = E.shapley_values(game, N)
    right = float(phi[i])
    terms = E.shapley_terms(game, N, i)
    full, alone = frozenset(range(N)), frozenset({i})
    choices = numeric_choices(rng, right, text(S, "practice.phi.right"), [
        (float(np.mean([t.gain for t in terms])), text(S, "practice.phi.unweighted")),
        (v[alone] - v[frozenset()], text(S, "practice.phi.first")),
        (v[full] - v[full - {i}], text(S, "practice.phi.last")),
        ((v[full] - v[frozenset()]) / N, text(S, "practice.phi.equal_split")),
        (float(sum(t.gain for t in terms)), text(S, "practice.phi.sum_no_weight")),
    ], fmt2)
    return Item(kind="compute", stem=text(S, "practice.phi.stem", table=_table(v), p=PLAYERS[i]), choices=choices,
                solution=text(S, "practice.phi.solution", p=PLAYERS[i], terms=_terms_text(v, i), phi=fmt2(right),
                              all=", ".join(f"φ_{PLAYERS[j]} = {phi[j]:.4f}" for j in range(N)),
                              total=f"{phi.sum():g}", vn=f"{v[full]:g}"),
                setup=_setup(v, i), params={"values": {_name(s): x for s, x in v.items()}, "player": i},
                answer=right, tolerance=0.005)


def efficiency(rng: np.random.Generator) -> Item:
    """SHAP's efficiency (local accuracy) φ0 + Σφ_i = f(x): the missing φ of a 4-feature explanation. The
    explanation is the exact SHAP of a linear model with a one-row background (engine: interventional value
    function + exact Shapley values); the numbers are then shown rounded and the answer computed from them."""
    m = 4
    w = np.round(rng.uniform(-2, 2, m), 1)
    x, mu = np.round(rng.uniform(-2, 2, m), 1), np.round(rng.uniform(-1, 1, m), 1)
    b = round(float(rng.uniform(-1, 1)), 1)
    f = lambda z: z @ w + b                                                     # noqa: E731
    phi = E.shapley_values(E.interventional_value_fn(f, x, mu[None]), m)
    phi0, fx = round(float(f(mu[None])[0]), 2) + 0.0, round(float(f(x[None])[0]), 2) + 0.0   # no −0.00
    shown = np.round(phi[:3], 2) + 0.0
    if np.all(shown >= 0):
        raise Redraw("no negative φ: the sign mistake would not show")
    j = 3
    right = fx - phi0 - float(shown.sum())
    choices = numeric_choices(rng, right, text(S, "practice.eff.right"), [
        (fx - float(shown.sum()), text(S, "practice.eff.no_phi0")),
        (fx + phi0 - float(shown.sum()), text(S, "practice.eff.plus_phi0")),
        (fx - phi0 - float(np.abs(shown).sum()), text(S, "practice.eff.abs")),
        ((fx - phi0) / m, text(S, "practice.eff.equal")),
    ], fmt2)
    rows = "\n".join(f"| x{k + 1} | {shown[k]:.2f} |" for k in range(3))
    return Item(kind="compute", stem=text(S, "practice.eff.stem", phi0=f"{phi0:.2f}", fx=f"{fx:.2f}", rows=rows,
                                          j=j + 1),
                choices=choices,
                solution=text(S, "practice.eff.solution", phi0=f"{phi0:.2f}", fx=f"{fx:.2f}",
                              s=f"{shown.sum():.2f}", ans=fmt2(right), j=j + 1,
                              sum=" + ".join(f"({p:.2f})" for p in shown)),
                params={"phi0": phi0, "fx": fx, "phi": shown.tolist()}, answer=right, tolerance=0.005)


def kernel_weight(rng: np.random.Generator) -> Item:
    """Kernel SHAP's weight π(z′) = (M − 1) / (C(M, |z′|)·|z′|·(M − |z′|)) of one coalition, or of all coalitions of
    that size together (engine shapley_kernel); distractors: the binomial forgotten, the Shapley-value weight
    |S|!(M − |S| − 1)!/M!, a uniform 1/C(M, |z′|), |z′| and M − |z′| added instead of multiplied."""
    from math import comb, factorial

    m = int(rng.integers(3, 11))
    k = int(rng.integers(1, m))
    total = bool(rng.integers(2))                       # ask for one coalition or for all of that size
    c = comb(m, k)
    one = E.shapley_kernel(m, k)
    right = one * c if total else one
    scale = c if total else 1
    fr = lambda v: str(Fraction(v).limit_denominator(10 ** 6))                 # noqa: E731
    first = ((one, text(S, "practice.kernel.one_not_all")) if total else          # C(M, k) not multiplied back
             ((m - 1) / (k * (m - k)), text(S, "practice.kernel.no_binom")))     # the binomial forgotten
    choices = numeric_choices(rng, right, text(S, "practice.kernel.right"), [
        first,
        (factorial(k) * factorial(m - k - 1) / factorial(m) * scale, text(S, "practice.kernel.shapley_weight")),
        (1 / c * scale, text(S, "practice.kernel.uniform")),
        ((m - 1) / (c * m) * scale, text(S, "practice.kernel.added")),
        (one * scale / (m - 1), text(S, "practice.kernel.no_m1")),
    ], fr)
    return Item(kind="compute", stem=text(S, "practice.kernel.stem_total" if total else "practice.kernel.stem_one",
                                          m=m, k=k),
                choices=choices,
                solution=text(S, "practice.kernel.solution_total" if total else "practice.kernel.solution_one",
                              m=m, k=k, c=c, mk=m - k, m1=m - 1, den=c * k * (m - k), one=fr(one), ans=fr(right),
                              mk2=k * (m - k)),
                params={"m": m, "k": k, "total": total}, answer=right, tolerance=5e-5)


# ----------------------------------------------------------------------------------------------- statement
_TRUE = ("efficiency", "symmetry", "null", "weight_share", "kernel_exact", "tree_exact", "order_free")
_FALSE = ("standalone", "equal_weights", "notes_weight", "sum_fx", "kernel_few", "lime_same", "depends_order")


def statement(rng: np.random.Generator) -> Item:
    """True statements about Shapley values / SHAP against misconceptions (incl. the notes' weight written over
    z′ ∋ i with |z′|!(M−|z′|−1)!/M!, which the page corrects)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={"shapley.n_players": N})


# ------------------------------------------------------------------------------------------- implementation
_IMPL_RIGHT = """from itertools import combinations
from math import factorial

def shapley(v, n, i):
    others = [j for j in range(n) if j != i]
    phi = 0.0
    for r in range(n):
        for S in combinations(others, r):
            S = frozenset(S)
            w = factorial(len(S)) * factorial(n - len(S) - 1) / factorial(n)
            phi += w * (v[S | {i}] - v[S])
    return phi"""
_IMPL_WRONG = {
    "unweighted": _IMPL_RIGHT.replace("w = factorial(len(S)) * factorial(n - len(S) - 1) / factorial(n)",
                                      "w = 1 / 2 ** (n - 1)"),
    "notes_weight": _IMPL_RIGHT.replace("w = factorial(len(S)) * factorial(n - len(S) - 1) / factorial(n)",
                                        "w = factorial(len(S) + 1) * factorial(n - len(S) - 1) / factorial(n)"),
    "sign": _IMPL_RIGHT.replace("(v[S | {i}] - v[S])", "(v[S] - v[S | {i}])"),
    "range": _IMPL_RIGHT.replace("for r in range(n):", "for r in range(n - 1):"),
    "no_diff": _IMPL_RIGHT.replace("(v[S | {i}] - v[S])", "v[S | {i}]"),
}


def _exec_game(v: dict) -> dict:
    return {frozenset(s): float(x) for s, x in v.items()}


def implementation(rng: np.random.Generator) -> Item:
    """Which function returns φ_i of a game given as {frozenset: value}? Run on the drawn 3-player game."""
    v = _game(rng)
    i = int(rng.integers(N))
    expected = float(E.shapley_values(E.table_game(v), N)[i])
    ex = Exec("shapley", (_exec_game(v), N, i), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _IMPL_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a distractor agrees on this game")
    choices = code_choices(rng, (_IMPL_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", table=_table(v), p=PLAYERS[i], i=i),
                choices=choices, solution=text(S, "practice.impl.solution", p=PLAYERS[i], phi=f"{expected:.4f}",
                                               terms=_terms_text(v, i)),
                setup=_setup(v, i), params={"values": {_name(s): x for s, x in v.items()}, "player": i}, exec=ex)


# -------------------------------------------------------------------------------------------------- blank
_BLANK_CODE = """from itertools import permutations

def shapley(v, n, i):
    total, count = 0.0, 0
    for order in permutations(range(n)):
        before = frozenset(order[:order.index(i)])
____
        count += 1
    return total / count"""
_BLANK_LINES = {
    "right": "        total += v[before | {i}] - v[before]",
    "no_diff": "        total += v[before | {i}]",
    "standalone": "        total += v[frozenset({i})] - v[frozenset()]",
    "after": "        total += v[frozenset(order)] - v[before]",
    "last": "        total += v[frozenset(order)] - v[frozenset(order) - {i}]",
}


def blank(rng: np.random.Generator) -> Item:
    """The definition over every order of arrival, with the marginal-contribution line missing."""
    v = _game(rng)
    i = int(rng.integers(N))
    expected = float(E.shapley_by_orderings(E.table_game(v), N).phi[i])
    ex = Exec("shapley", (_exec_game(v), N, i), expected, atol=1e-9)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _BLANK_LINES.items()
             if k != "right" and not matches(execute(_BLANK_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right value on this game")
    choices = code_choices(rng, (_BLANK_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    orders = E.shapley_by_orderings(E.table_game(v), N)
    rows = "\n".join(f"| {' → '.join(PLAYERS[k] for k in o)} | {c[i]:g} |"
                     for o, c in zip(orders.orders, orders.contributions))
    return Item(kind="blank", stem=text(S, "practice.blank.stem", table=_table(v), p=PLAYERS[i]), choices=choices,
                code=_BLANK_CODE.replace("____", "        ____"),
                solution=text(S, "practice.blank.solution", p=PLAYERS[i], rows=rows, phi=f"{expected:.4f}"),
                setup=_setup(v, i), params={"values": {_name(s): x for s, x in v.items()}, "player": i}, exec=ex)


GENERATORS = (phi_value, efficiency, kernel_weight, statement, implementation, blank)
