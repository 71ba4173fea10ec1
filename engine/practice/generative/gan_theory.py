"""Practice items for Generative › GAN & the optimal discriminator (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Choice, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    shuffled, statement_choices, text)
from engine.generative import gan_theory as gt

S = "gan_theory"
CELLS = np.round(np.arange(-6.0, 6.0, 0.01) + 0.005, 4)   # cell centres: a uniform of width w holds 100·w of them


def _f3(v: float) -> str:
    return f"{v:.3f}"


# ------------------------------------------------------------------------------------------------ D*(x)
def dstar_value(rng: np.random.Generator) -> Item:
    """D*(x) at one point of the page's case, from the two densities as shown (3 decimals)."""
    mu1, mu2 = (round(float(v), 1) for v in rng.integers(-30, 31, 2) / 10)
    sd = round(float(rng.integers(8, 25)) * 0.05, 2)
    w = round(float(rng.integers(4, 17)) * 0.05, 2)
    mu_g = round(float(rng.integers(-25, 26)) / 10, 1)
    sd_g = round(float(rng.integers(10, 31)) * 0.05, 2)
    x0 = round(float(rng.integers(-25, 26)) / 10, 1)
    a = round(float(gt.mixture_pdf(np.array([x0]), [mu1, mu2], [sd, sd], [w, 1 - w])[0]), 3)
    b = round(float(gt.mixture_pdf(np.array([x0]), [mu_g], [sd_g])[0]), 3)
    if a < 0.02 or b < 0.02 or abs(a - b) < 0.005:
        raise Redraw("a density too small to read, or the two equal")
    d = float(gt.optimal_discriminator(a, b))                          # the chapter's engine, on the shown numbers
    choices = numeric_choices(rng, d, text(S, "practice.dstar.right"), [
        (float(gt.optimal_discriminator(b, a)), text(S, "practice.dstar.swapped")),
        (a / b, text(S, "practice.dstar.ratio")),
        (0.5, text(S, "practice.dstar.half")),
        (a, text(S, "practice.dstar.p_data_only")),
    ], _f3)
    return Item(kind="compute",
                stem=text(S, "practice.dstar.stem", mu1=mu1, mu2=mu2, sd=sd, w=w, w2=round(1 - w, 2), mu_g=mu_g,
                          sd_g=sd_g, x=x0, a=_f3(a), b=_f3(b)),
                choices=choices,
                solution=text(S, "practice.dstar.solution", a=_f3(a), b=_f3(b), s=_f3(a + b), d=_f3(d),
                              e=_f3(1 - d)),
                setup={"gan_theory.mu1": mu1, "gan_theory.mu2": mu2, "gan_theory.sd_data": sd, "gan_theory.weight": w,
                       "gan_theory.mu_g": mu_g, "gan_theory.sd_g": sd_g},     # "p_g = p_data" off: its default
                params={"x": x0, "p_data": a, "p_g": b, "mu1": mu1, "mu2": mu2, "sd": sd, "w": w, "mu_g": mu_g,
                        "sd_g": sd_g},
                answer=d, tolerance=0.0005)


# ---------------------------------------------------------------------------------------- V(D*, G), discrete
def _masses(rng: np.random.Generator, n: int) -> np.ndarray:
    """n masses, multiples of 0.1 and at least 0.1, summing to 1."""
    cuts = np.sort(rng.choice(np.arange(1, 10), n - 1, replace=False))
    return np.diff(np.concatenate([[0], cuts, [10]])) / 10


def value_discrete(rng: np.random.Generator) -> Item:
    """V(D*, G) for two distributions on three points, from its definition; distractors: JS itself, 2·JS, the floor
    −2 log 2, JS − log 2, the value in bits."""
    p, q = _masses(rng, 3), _masses(rng, 3)
    if np.allclose(p, q):
        raise Redraw("p_g = p_data")
    D = gt.optimal_discriminator(p, q)                                 # (3,)
    one_minus = gt.optimal_discriminator(q, p)                         # 1 − D*, no cancellation
    v = gt.value(p, q, D, one_minus)
    real_term = gt.value(p, q, D, np.ones(3))                          # Σ p log D* (the fake term is log 1 = 0)
    fake_term = v - real_term
    js = gt.js_divergence(p, q)
    choices = numeric_choices(rng, v, text(S, "practice.value.right"), [
        (js, text(S, "practice.value.js_itself")),
        (-2 * gt.LOG2, text(S, "practice.value.floor")),
        (2 * js, text(S, "practice.value.no_shift")),
        (js - gt.LOG2, text(S, "practice.value.halved")),
        (v / gt.LOG2, text(S, "practice.value.bits")),
    ], _f3)
    vec = lambda arr: "(" + ", ".join(f"{x:.1f}" for x in arr) + ")"          # noqa: E731
    dvec = "(" + ", ".join(_f3(d) for d in D) + ")"
    return Item(kind="compute", stem=text(S, "practice.value.stem", p=vec(p), q=vec(q)), choices=choices,
                solution=text(S, "practice.value.solution", d=dvec, real=_f3(real_term), fake=_f3(fake_term),
                              v=_f3(v), js=f"{js:.4f}", check=_f3(2 * js - 2 * gt.LOG2)),
                params={"p_data": p.tolist(), "p_g": q.tolist()}, answer=v, tolerance=0.0005)


# ------------------------------------------------------------------------------------------ JS and W1, shifted
def _pair(js: float, w1: float) -> str:
    return f"JS = {js:.3f},  W₁ = {w1:.2f}"


def shift_js_w1(rng: np.random.Generator) -> Item:
    """JS and W1 between a uniform of width w and its copy moved by θ (the page's section 3), from the engine's
    sweep on a grid whose cells hold the uniform exactly."""
    w = float(rng.choice([0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0]))
    theta = round(float(rng.integers(1, 41)) * 0.05, 2)              # 0.05 … 2.00
    p0 = gt.uniform_pdf(CELLS, -w / 2, w)
    sweep = gt.shift_sweep(CELLS, p0, np.array([0.0, theta]))        # (two shifts: the sweep takes slopes)
    js, w1 = float(sweep.js[1]), float(sweep.w1[1])
    mistakes = [((gt.LOG2, w1), "saturate"), ((0.0, w1), "zero"), ((js / gt.LOG2, w1), "bits"),
                ((js, w1 ** 2), "squared"), ((js, gt.LOG2), "w1_flat"), ((2 * js - 2 * gt.LOG2, w1), "value")]
    right = _pair(js, w1)
    picked, shown = [Choice(same(right), True, text(S, "practice.shift.right"))], {right}
    for (j, d), key in mistakes:
        label = _pair(j, d)
        if label not in shown:
            shown.add(label)
            picked.append(Choice(same(label), False, text(S, f"practice.shift.{key}")))
        if len(picked) == 4:
            break
    if len(picked) < 4:
        raise Redraw("mistakes coincide")
    overlap = max(0.0, 1 - theta / w) if w > 0 else 0.0
    return Item(kind="compute",
                stem=text(S, "practice.shift.stem_delta" if w == 0 else "practice.shift.stem", w=f"{w:g}",
                          half=f"{w / 2:g}",
                          theta=f"{theta:.2f}"),
                choices=shuffled(rng, picked),
                solution=text(S, "practice.shift.solution_delta" if w == 0 else "practice.shift.solution",
                              theta=f"{theta:.2f}", overlap=f"{overlap:.2f}", share=f"{1 - overlap:.2f}", js=_f3(js),
                              w1=f"{w1:.2f}"),
                setup={"gan_theory.width": w, "gan_theory.theta_max": float(min(3.0, np.ceil(theta / 0.5) * 0.5))},
                params={"w": w, "theta": theta, "js": js, "w1": w1}, answer=js, tolerance=0.0005)


# ----------------------------------------------------------------------------------------------- statements
TRUE = ("dstar", "value", "floor", "js_bound", "w1_shift", "clip")
FALSE = ("dstar_swapped", "floor_zero", "dstar_one", "js_notes", "js_grad", "grad_clip", "w1_flat")


def theory_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about D*, V(D*, G), JS and W1, or (half the seeds) the false one; the false ones
    include the course notes' JS formula (a symmetrised KL) and their 'gradient clipping'."""
    choices, invert = statement_choices(rng, S, "practice.theory", TRUE, FALSE)
    return Item(kind="statement",
                stem=text(S, "practice.theory.stem_false" if invert else "practice.theory.stem_true"),
                choices=choices, solution=text(S, "practice.theory.solution"))


# ------------------------------------------------------------------------------------------ JS, implemented
_JS_RIGHT = """def js(p, q):
    m = (p + q) / 2
    return 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))"""
_JS_WRONG = {
    "notes_symmetric_kl": """def js(p, q):
    return 0.5 * (np.sum(p * np.log(p / q)) + np.sum(q * np.log(q / p)))""",
    "kl_only": """def js(p, q):
    return np.sum(p * np.log(p / q))""",
    "m_not_halved": _JS_RIGHT.replace("m = (p + q) / 2", "m = p + q"),
    "log2": _JS_RIGHT.replace("np.log(", "np.log2("),
    "ratio_flipped": _JS_RIGHT.replace("np.log(p / m)", "np.log(m / p)").replace("np.log(q / m)", "np.log(m / q)"),
}


def js_implementation(rng: np.random.Generator) -> Item:
    """Which function returns JS(p‖q) in nats? Each snippet is run on two strictly positive mass vectors."""
    n = int(rng.integers(3, 6))
    p = rng.multinomial(20 - n, np.ones(n) / n) + 1                    # at least 1/20 everywhere: no log 0
    q = rng.multinomial(20 - n, np.ones(n) / n) + 1
    if np.array_equal(p, q):
        raise Redraw("p = q")
    p, q = p / 20, q / 20
    expected = gt.js_divergence(p, q)
    ex = Exec("js", (p, q), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{name}")) for name, code in _JS_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a distractor agrees with the engine")
    fmt = lambda arr: "[" + ", ".join(f"{v:.2f}" for v in arr) + "]"           # noqa: E731
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", p=fmt(p), q=fmt(q)),
                choices=code_choices(rng, (_JS_RIGHT, text(S, "practice.impl.right")), wrong),
                solution=text(S, "practice.impl.solution", js=f"{expected:.4f}",
                              bound=f"{gt.LOG2:.4f}"),
                params={"p": p.tolist(), "q": q.tolist()}, exec=ex)


GENERATORS = (dstar_value, value_discrete, shift_js_w1, theory_statement, js_implementation)
