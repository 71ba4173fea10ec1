"""Practice items for Explainability › LIME (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.explainability import lime_explain as E

S = "lime_explain"
WIDTHS = (0.25, 0.3, 0.4, 0.5, 0.75, 1.0)          # on the page's kernel-width slider (0.05 … 1.0, step 0.05)
fmt3 = lambda v: f"{v:.3f}"                                                     # noqa: E731


def _mask_str(z) -> str:
    return "(" + ", ".join(str(int(v)) for v in z) + ")"


# ------------------------------------------------------------------------------------------------- compute
def kernel_weight(rng: np.random.Generator) -> Item:
    """π_x(z) = exp(−D²/σ²) of one perturbed sample: D is the cosine distance of its mask z′ to the all-ones
    x′ (the engine's mask_distances), then the paper's kernel (kernel_pi). Distractors: D not squared, σ not squared,
    lime's applied weight √π (= exp(−D²/(2σ²))), D taken as the share of hidden superpixels."""
    m = int(rng.integers(6, 11))
    k = int(rng.integers(1, m))                               # kept superpixels, 1 … M−1
    z = np.zeros(m, dtype=int)
    z[rng.choice(m, k, replace=False)] = 1
    sigma = float(rng.choice(WIDTHS))
    d = float(E.mask_distances(z[None])[0])
    d_shown = round(d, 4)
    right = float(E.kernel_pi(d_shown, sigma))
    hamming = (m - k) / m
    choices = numeric_choices(rng, right, text(S, "practice.kernel.right"), [
        (float(np.exp(-d_shown / sigma ** 2)), text(S, "practice.kernel.no_square_d")),
        (float(np.exp(-d_shown ** 2 / sigma)), text(S, "practice.kernel.no_square_sigma")),
        (float(E.sample_weight(d_shown, sigma)), text(S, "practice.kernel.lime_sqrt")),
        (float(E.kernel_pi(hamming, sigma)), text(S, "practice.kernel.hamming")),
        (float(np.exp(-(1 - d_shown) ** 2 / sigma ** 2)), text(S, "practice.kernel.similarity")),
    ], fmt3)
    return Item(kind="compute", stem=text(S, "practice.kernel.stem", m=m, z=_mask_str(z), sigma=f"{sigma:g}"),
                choices=choices,
                solution=text(S, "practice.kernel.solution", k=k, m=m, d=f"{d_shown:.4f}", sigma=f"{sigma:g}",
                              d2=f"{d_shown ** 2:.4f}", s2=f"{sigma ** 2:g}", ans=fmt3(right),
                              lime=fmt3(float(E.sample_weight(d_shown, sigma)))),
                setup={"lime_explain.kernel_width": sigma},
                params={"z": z.tolist(), "sigma": sigma, "d": d_shown}, answer=right, tolerance=0.0005)


def stability_jaccard(rng: np.random.Generator) -> Item:
    """Two LIME runs (two seeds) give surrogate weights for M superpixels; the Jaccard index of their top-k sets
    (engine: top_segments = the k largest positive weights, jaccard). Distractors: |A ∩ B| / k, top-k by |w|,
    |A ∩ B| / (|A| + |B|), the Jaccard distance 1 − J."""
    m, k = 8, int(rng.integers(2, 5))
    w1 = rng.choice(np.arange(1, 41), m, replace=False) / 100 * rng.choice([-1, 1], m)      # distinct |w|
    w2 = np.round(w1 + rng.uniform(-0.15, 0.15, m), 2) + 0.0                  # + 0.0: no "−0.00"
    if any(len(set(np.abs(w).tolist())) < m for w in (w1, w2)):
        raise Redraw("ties")
    a, b = E.top_segments(w1, k), E.top_segments(w2, k)
    right = E.jaccard(a, b)
    a_abs = frozenset(int(j) for j in np.argsort(-np.abs(w1))[:k])
    b_abs = frozenset(int(j) for j in np.argsort(-np.abs(w2))[:k])
    fmt = lambda v: f"{v:.3f}"                                                  # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.jac.right"), [
        (len(a & b) / k, text(S, "practice.jac.over_k")),
        (E.jaccard(a_abs, b_abs), text(S, "practice.jac.abs")),
        (len(a & b) / (len(a) + len(b)), text(S, "practice.jac.sum")),
        (1 - right, text(S, "practice.jac.distance")),
    ], fmt)
    rows = "\n".join(f"| {j} | {w1[j]:+.2f} | {w2[j]:+.2f} |" for j in range(m))
    fs = lambda s: "{" + ", ".join(str(j) for j in sorted(s)) + "}"              # noqa: E731
    return Item(kind="compute", stem=text(S, "practice.jac.stem", rows=rows, k=k), choices=choices,
                solution=text(S, "practice.jac.solution", k=k, a=fs(a), b=fs(b), inter=fs(a & b), union=fs(a | b),
                              ni=len(a & b), nu=len(a | b), ans=fmt(right)),
                setup={"lime_explain.top_k": k},
                params={"w1": w1.tolist(), "w2": w2.tolist(), "k": k}, answer=right, tolerance=0.0005)


# ----------------------------------------------------------------------------------------------- statement
_TRUE = ("local", "superpixels", "model_agnostic", "small_sigma", "unstable", "lime_sqrt", "hidden_mean")
_FALSE = ("global", "notes_loss", "gradients", "large_sigma", "deterministic", "shapley_same", "pixels_features")


def statement(rng: np.random.Generator) -> Item:
    """LIME's surrogate, superpixels and kernel against misconceptions (incl. the notes' garbled loss)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


# ------------------------------------------------------------------------------------------- implementation
_IMPL_RIGHT = """def proximity(Z, sigma):
    # Z: (N, M) masks z' (1 = superpixel kept); x' = all ones
    cos = Z.sum(axis=1) / (np.sqrt(Z.sum(axis=1)) * np.sqrt(Z.shape[1]))
    D = 1 - cos
    return np.exp(-D ** 2 / sigma ** 2)"""
_IMPL_WRONG = {
    "hamming": _IMPL_RIGHT.replace("    cos = Z.sum(axis=1) / (np.sqrt(Z.sum(axis=1)) * np.sqrt(Z.shape[1]))\n"
                                   "    D = 1 - cos", "    D = 1 - Z.mean(axis=1)"),
    "similarity": _IMPL_RIGHT.replace("D = 1 - cos", "D = cos"),
    "no_square_sigma": _IMPL_RIGHT.replace("np.exp(-D ** 2 / sigma ** 2)", "np.exp(-D ** 2 / sigma)"),
    "no_square_d": _IMPL_RIGHT.replace("np.exp(-D ** 2 / sigma ** 2)", "np.exp(-D / sigma ** 2)"),
    "no_minus": _IMPL_RIGHT.replace("np.exp(-D ** 2 / sigma ** 2)", "np.exp(D ** 2 / sigma ** 2)"),
}


def implementation(rng: np.random.Generator) -> Item:
    """Which function returns the paper's π_x(z) for a batch of masks? Run on drawn masks."""
    n, m = 4, int(rng.integers(5, 9))
    z = rng.integers(0, 2, (n, m))
    z[z.sum(axis=1) == 0, 0] = 1                              # no empty mask (its cosine is undefined)
    sigma = float(rng.choice(WIDTHS))
    expected = E.kernel_pi(E.mask_distances(z), sigma)
    ex = Exec("proximity", (z.astype(float), sigma), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _IMPL_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a distractor agrees on these masks")
    choices = code_choices(rng, (_IMPL_RIGHT, text(S, "practice.impl.right")), wrong)
    masks = "\n".join(f"- z′{i + 1} = {_mask_str(r)}" for i, r in enumerate(z))
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", masks=masks, sigma=f"{sigma:g}"),
                choices=choices,
                solution=text(S, "practice.impl.solution", d=", ".join(f"{v:.4f}" for v in E.mask_distances(z)),
                              pi=", ".join(f"{v:.4f}" for v in expected)),
                setup={"lime_explain.kernel_width": sigma}, params={"z": z.tolist(), "sigma": sigma}, exec=ex)


# -------------------------------------------------------------------------------------------------- blank
_BLANK_CODE = """def lime_weights(Z, f, sigma):
    # Z: (N, M) masks, row 0 = x' (all ones); f: (N,) the model's probability on each sample
    D = 1 - Z @ Z[0] / (np.linalg.norm(Z, axis=1) * np.linalg.norm(Z[0]))
    pi = np.sqrt(np.exp(-D ** 2 / sigma ** 2))      # the sample weight lime applies
    X = np.c_[np.ones(len(Z)), Z]
    P = np.diag([0.0] + [1.0] * Z.shape[1])         # ridge penalty (alpha = 1), not on the intercept
____
    return beta[1:]"""
_BLANK_LINES = {
    "right": "    beta = np.linalg.solve(X.T @ (pi[:, None] * X) + P, X.T @ (pi * f))",
    "unweighted": "    beta = np.linalg.solve(X.T @ X + P, X.T @ f)",
    "one_side": "    beta = np.linalg.solve(X.T @ (pi[:, None] * X) + P, X.T @ f)",
    "inverse": "    beta = np.linalg.solve(X.T @ ((1 - pi)[:, None] * X) + P, X.T @ ((1 - pi) * f))",
    "per_sample": "    beta = np.linalg.solve(X.T @ (pi[:, None] * X) + P, X.T @ (pi * f)) / len(f)",
}


def blank(rng: np.random.Generator) -> Item:
    """The surrogate fit (lime's Ridge(α = 1) with sample weights), the solving line missing; run on drawn masks
    and model outputs; the engine's fit_surrogate is the reference."""
    n, m = 10, 3
    z = rng.integers(0, 2, (n, m))
    z[0] = 1
    z[z.sum(axis=1) == 0, int(rng.integers(m))] = 1
    f = np.round(rng.uniform(0, 1, n), 2)
    sigma = float(rng.choice(WIDTHS))
    _, coef, _, _ = E.fit_surrogate(z, f, E.mask_distances(z), sigma)
    ex = Exec("lime_weights", (z.astype(float), f, sigma), coef, atol=1e-8)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _BLANK_LINES.items()
             if k != "right" and not matches(execute(_BLANK_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees on these samples")
    choices = code_choices(rng, (_BLANK_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    rows = "\n".join(f"| {i} | {_mask_str(r)} | {v:.2f} |" for i, (r, v) in enumerate(zip(z, f)))
    return Item(kind="blank", stem=text(S, "practice.blank.stem", rows=rows, sigma=f"{sigma:g}"), choices=choices,
                code=_BLANK_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", w=", ".join(f"{v:.4f}" for v in coef)),
                setup={"lime_explain.kernel_width": sigma},
                params={"z": z.tolist(), "f": f.tolist(), "sigma": sigma}, exec=ex)


GENERATORS = (kernel_weight, stability_jaccard, statement, implementation, blank)
