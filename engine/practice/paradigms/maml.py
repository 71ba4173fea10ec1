"""Practice items for Paradigms › MAML (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (statement_choices, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    text)
from engine.paradigms import maml

S = "maml"
ALPHAS = (0.05, 0.1, 0.15, 0.2, 0.25)          # multiples of the page's α slider step (0.05)
BS = (0.5, 1.0, 1.5, 2.0)                      # L(θ) = b (θ − c)²: curvature A = 2b


def _task(b: float, c_s: float, c_q: float) -> maml.Task2D:
    """The 1-D task L(θ) = b (θ − c)² as the engine's two-parameter quadratic ½(θ−c)ᵀA(θ−c): θ₁ is the item's θ,
    θ₂ stays at its minimiser 0 and plays no part."""
    A = np.diag([2.0 * b, 1.0])
    return maml.Task2D(A, np.array([c_s, 0.0]), 0.0, A, np.array([c_q, 0.0]), 0.0)


def _draw(rng):
    b = float(rng.choice(BS))
    alpha = float(rng.choice(ALPHAS))
    theta = round(float(rng.uniform(-3.0, 3.0)), 1) + 0.0
    c = int(rng.integers(-2, 4))
    if abs(theta - c) < 0.25:
        raise Redraw("θ at the minimum")
    return b, alpha, theta, c


def _g(v: float) -> str:
    return f"{v:g}"


def _p(v) -> str:
    """A number for a formula: negatives in parentheses."""
    v = float(v)
    return f"({v:g})" if v < 0 else f"{v:g}"


def _pf(v: float, d: int = 4) -> str:
    return f"({v:.{d}f})" if v < 0 else f"{v:.{d}f}"


def _minus(c: float) -> str:
    """'θ − c' written out: '− 2' or '+ 2'."""
    return f"- {c:g}" if c >= 0 else f"+ {-c:g}"


def inner_step(rng: np.random.Generator) -> Item:
    """θ′ after k = 1 or 2 inner gradient steps on L(θ) = b(θ − c)²; distractors: the derivative without its
    factor 2, the step taken uphill, the wrong number of steps, a jump to the minimiser."""
    b, alpha, theta, c = _draw(rng)
    k = int(rng.choice([1, 1, 2]))
    t = _task(b, c, c)
    right = float(maml.adapt_2d(t, np.array([theta, 0.0]), alpha, k)[0][0])
    other_k = float(maml.adapt_2d(t, np.array([theta, 0.0]), alpha, 2 if k == 1 else 1)[0][0])
    half = float(maml.adapt_2d(_task(b / 2, c, c), np.array([theta, 0.0]), alpha, k)[0][0])
    uphill = theta + alpha * 2 * b * (theta - c) if k == 1 else \
        float(maml.adapt_2d(_task(-b, c, c), np.array([theta, 0.0]), alpha, k)[0][0])
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.inner.right"), [
        (half, text(S, "practice.inner.no_factor2")),
        (uphill, text(S, "practice.inner.uphill")),
        (other_k, text(S, "practice.inner.steps")),
        (float(c), text(S, "practice.inner.jump")),
        (theta - alpha * (theta - c), text(S, "practice.inner.no_curvature")),
    ], fmt)
    step1 = float(maml.adapt_2d(t, np.array([theta, 0.0]), alpha, 1)[0][0])
    g0 = 2 * b * (theta - c)
    sol = text(S, "practice.inner.solution", b=_g(b), mc=_minus(c), pt=_p(theta), theta=theta, alpha=alpha,
               g0=_pf(g0), t1=f"{step1:.4f}")
    if k == 2:
        sol = {lang: sol[lang] + text(S, "practice.inner.solution2", b=_g(b), mc=_minus(c), t1=f"{step1:.4f}",
                                      pt1=_pf(step1), alpha=alpha, g1=_pf(2 * b * (step1 - c)), t2=fmt(right))[lang]
               for lang in sol}
    return Item(kind="compute", stem=text(S, "practice.inner.stem", b=_g(b), mc=_minus(c), theta=theta, alpha=alpha, k=k),
                choices=choices, solution=sol,
                setup={"maml.two.alpha": alpha, "maml.two.steps": k, "maml.two.th1": theta},
                params={"b": b, "c": c, "theta": theta, "alpha": alpha, "k": k}, answer=right, tolerance=0.0005)


def meta_gradient(rng: np.random.Generator) -> Item:
    """The exact MAML meta-gradient of one task after one inner step, (1 − αA)·A(θ′ − c_q); distractors: FOMAML
    (the factor dropped), the factor with +, the gradient at θ (no adaptation), the support minimiser in the
    query gradient, Reptile's θ − θ′."""
    b, alpha, theta, c_s = _draw(rng)
    c_q = c_s if rng.integers(2) else c_s + int(rng.choice([-1, 1]))
    t = _task(b, c_s, c_q)
    mg = maml.meta_gradient_2d([t], np.array([theta, 0.0]), alpha, 1, grid=3)
    right = float(mg.maml[0])
    A = 2 * b
    tp = float(mg.theta_prime[0, 0])
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.meta.right"), [
        (float(mg.first_order[0]), text(S, "practice.meta.fomaml")),
        ((1 + alpha * A) * A * (tp - c_q), text(S, "practice.meta.plus")),
        (A * (theta - c_q), text(S, "practice.meta.at_theta")),
        ((1 - alpha * A) * A * (tp - c_s), text(S, "practice.meta.support_min")),
        (float(mg.reptile[0]), text(S, "practice.meta.reptile")),
        ((1 - alpha * A) * A * (theta - c_q), text(S, "practice.meta.factor_at_theta")),
    ], fmt)
    same_loss = c_q == c_s
    return Item(kind="compute",
                stem=text(S, "practice.meta.stem_same" if same_loss else "practice.meta.stem_diff", b=_g(b),
                          ms=_minus(c_s), mq=_minus(c_q), theta=theta, alpha=alpha),
                choices=choices,
                solution=text(S, "practice.meta.solution", A=_g(A), theta=theta, pt=_p(theta), alpha=alpha,
                              ms=_minus(c_s), mq=_minus(c_q), tp=f"{tp:.4f}", ptp=_pf(tp),
                              gq=f"{float(mg.first_order[0]):.4f}", pgq=_pf(float(mg.first_order[0])),
                              f=f"{1 - alpha * A:.4f}",
                              g=fmt(right)),
                setup={"maml.two.alpha": alpha, "maml.two.steps": 1, "maml.two.th1": theta},
                params={"b": b, "c_s": c_s, "c_q": c_q, "theta": theta, "alpha": alpha}, answer=right,
                tolerance=0.0005)


def maml_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about MAML, FOMAML and Reptile (or, half the seeds, the false one); the false ones
    include the course notes' Reptile-as-MAML and Omniglot's '50 characters'."""
    true = ("second_order", "fomaml", "reptile", "query", "zero_steps", "memory", "agnostic")
    false = ("notes_reptile", "fomaml_hessian", "reptile_hessian", "support_outer", "omniglot", "alpha_learned",
             "zero_steps_wrong", "fomaml_memory")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_REPTILE_CODE = """def reptile_step(theta, tasks, alpha, eps, k):
    adapted = []
    for a, c in tasks:                  # task loss ½·a·(θ − c)²
        phi = theta
        for _ in range(k):
            phi = phi - alpha * a * (phi - c)
        adapted.append(phi)
____
    return theta"""
_REPTILE_LINES = {
    "right": "theta = theta + eps * (np.mean(adapted) - theta)",
    "away": "theta = theta - eps * (np.mean(adapted) - theta)",
    "no_diff": "theta = theta + eps * np.mean(adapted)",
    "replace": "theta = np.mean(adapted)",
    "last_only": "theta = theta + eps * (adapted[-1] - theta)",
    "gradient": "theta = theta - eps * np.mean([a * (p - c) for (a, c), p in zip(tasks, adapted)])",
}


def reptile_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of one Reptile meta-step (move θ toward the mean adapted θ′); candidates executed;
    the expected value is θ − ε·(the engine's Reptile direction θ − mean θ′)."""
    n = int(rng.integers(2, 4))
    tasks = [(float(2 * rng.choice(BS)), float(rng.integers(-2, 4))) for _ in range(n)]
    alpha = float(rng.choice(ALPHAS))
    eps = float(rng.choice([0.1, 0.2, 0.5]))
    k = int(rng.integers(1, 4))
    theta = round(float(rng.uniform(-3.0, 3.0)), 1) + 0.0
    mg = maml.meta_gradient_2d([_task(a / 2, c, c) for a, c in tasks], np.array([theta, 0.0]), alpha, k, grid=3)
    expected = theta - eps * float(mg.reptile[0])
    ex = Exec("reptile_step", (theta, tasks, alpha, eps, k), expected, atol=1e-9)
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _REPTILE_LINES.items()
             if key != "right" and not matches(execute(_REPTILE_CODE.replace("____", "    " + line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right θ here")
    choices = code_choices(rng, (_REPTILE_LINES["right"], text(S, "practice.blank.right")), wrong)
    shown = ", ".join(f"(a={a:g}, c={c:g})" for a, c in tasks)
    return Item(kind="blank",
                stem=text(S, "practice.blank.stem", tasks=shown, alpha=alpha, eps=eps, k=k, theta=theta),
                choices=choices, code=_REPTILE_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", tp=", ".join(f"{v:.4f}" for v in mg.theta_prime[:, 0]),
                              mean=f"{float(mg.theta_prime[:, 0].mean()):.4f}", theta=theta, pt=_p(theta), eps=eps,
                              new=f"{expected:.4f}"),
                setup={"maml.two.alpha": alpha, "maml.two.steps": k, "maml.two.th1": theta},
                params={"tasks": tasks, "alpha": alpha, "eps": eps, "k": k, "theta": theta}, exec=ex)


GENERATORS = (inner_step, meta_gradient, maml_statement, reptile_blank)
