"""Practice items for Generative › WGAN vs GAN, live (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    statement_choices, text)
from engine.generative import gan2d

S = "gan2d"
F32 = np.float32
LAMBDAS = (0.1, 0.5, 1.0, 5.0, 10.0)          # among the page's λ options


def _f3(v: float) -> str:
    return f"{v:.3f}"


def _critic(A: np.ndarray, c: np.ndarray, v: np.ndarray, b: float) -> gan2d.MLP:
    """The chapter's ReLU MLP with one hidden layer, f(x) = vᵀ ReLU(Ax + c) + b, weights set to the item's."""
    D = gan2d.MLP([A.shape[1], A.shape[0], 1], np.random.default_rng(0))
    D.params[0][...] = A.T                    # (in, out)
    D.params[1][...] = c
    D.params[2][...] = v[:, None]
    D.params[3][...] = b
    return D


# ------------------------------------------------------------------------------ the gradient penalty, by hand
def gp_value(rng: np.random.Generator) -> Item:
    """λ(‖∇f(x̂)‖ − 1)² for one real/fake pair and a two-unit ReLU critic; distractors: λ left out, the ReLU mask
    ignored, ‖∇f‖² for ‖∇f‖, pushing ‖∇f‖ to 0, ε on the wrong sample."""
    A = rng.integers(-2, 3, (2, 2)).astype(float)
    c = rng.integers(-1, 2, 2).astype(float)
    v = rng.choice([-2.0, -1.0, 1.0, 2.0], 2)
    x, xt = rng.integers(-2, 3, 2).astype(float), rng.integers(-2, 3, 2).astype(float)
    eps = float(rng.choice([0.25, 0.5, 0.75]))
    lam = float(rng.choice(LAMBDAS))
    if np.array_equal(x, xt) or np.any(np.all(A == 0, axis=1)):
        raise Redraw("the same point, or a dead unit")
    x_hat = eps * x + (1 - eps) * xt
    pre = A @ x_hat + c                                                    # (2,)
    if np.any(np.abs(pre) < 1e-9) or not np.any(pre > 0):
        raise Redraw("a unit on its kink, or no unit active")
    D = _critic(A, c, v, 0.0)
    real, fake, e = x[None].astype(F32), xt[None].astype(F32), np.array([[eps]], F32)
    gp, norm = gan2d.gradient_penalty(D, real, fake, e)                    # the chapter's engine
    right = lam * gp
    g_lin = np.linalg.norm(A.T @ v)                                        # mistakes, each computed
    gp_swapped, _ = gan2d.gradient_penalty(D, fake, real, e)
    n = float(norm[0])
    choices = numeric_choices(rng, right, text(S, "practice.gp.right"), [
        (lam * (g_lin - 1) ** 2, text(S, "practice.gp.no_mask")),
        (gp, text(S, "practice.gp.no_lambda")),
        (lam * (n ** 2 - 1) ** 2, text(S, "practice.gp.squared_norm")),
        (lam * n ** 2, text(S, "practice.gp.to_zero")),
        (lam * gp_swapped, text(S, "practice.gp.eps_swapped")),
        (lam * abs(n - 1), text(S, "practice.gp.no_square")),
    ], _f3)
    mask = (pre > 0).astype(int)
    grad = A.T @ (v * mask)
    vec = lambda a: "(" + ", ".join(f"{t:g}" for t in a) + ")"             # noqa: E731
    return Item(kind="compute",
                stem=text(S, "practice.gp.stem", A=f"[[{A[0, 0]:g}, {A[0, 1]:g}], [{A[1, 0]:g}, {A[1, 1]:g}]]",
                          c=vec(c), v=vec(v), x=vec(x), xt=vec(xt), eps=f"{eps:g}", lam=f"{lam:g}"),
                choices=choices,
                solution=text(S, "practice.gp.solution", eps=f"{eps:g}", x_hat=vec(x_hat), pre=vec(pre),
                              mask=vec(mask), grad=vec(grad), norm=f"{n:.4f}", gp=f"{gp:.4f}", lam=f"{lam:g}",
                              out=_f3(right)),
                setup={"gan2d.gp_lambda": [same(str(lam))]},     # a select_slider: a list of its labels
                params={"A": A.tolist(), "c": c.tolist(), "v": v.tolist(), "x": x.tolist(), "x_tilde": xt.tolist(),
                        "eps": eps, "lam": lam},
                answer=right, tolerance=0.0005)


# --------------------------------------------------------------------------- non-saturating generator gradient
def nonsat_gradient(rng: np.random.Generator) -> Item:
    """∂L_G/∂a of the non-saturating −log σ(a) at D's logit a on a generated sample; distractors: the saturating
    log(1 − σ(a)), the derivative with respect to D instead of a, the sign, σ'(a)."""
    a = round(float(rng.integers(-500, -4)) / 100, 2)                    # D rejects the sample: σ(a) < ½
    d = round(float(1 / (1 + np.exp(-a))), 4)                             # σ(a) as shown
    _, grad = gan2d.g_loss("gan", np.array([[a]], F32))                   # the chapter's engine, one sample
    right = float(grad[0, 0])
    if _f3(right) != _f3(-(1 - d)):
        raise Redraw("the shown σ(a) rounds the answer differently")
    _, _, d_fake = gan2d.d_loss("gan", np.array([[0.0]], F32), np.array([[a]], F32))
    sat = -float(d_fake[0, 0])                                             # ∂/∂a log(1 − σ(a)) = −σ(a)
    choices = numeric_choices(rng, right, text(S, "practice.nonsat.right"), [
        (sat, text(S, "practice.nonsat.saturating")),
        (-1 / d, text(S, "practice.nonsat.wrt_d")),
        (-right, text(S, "practice.nonsat.sign")),
        (d * (1 - d), text(S, "practice.nonsat.sigmoid_derivative")),
    ], _f3)
    return Item(kind="compute", stem=text(S, "practice.nonsat.stem", a=f"{a:.2f}", d=f"{d:.4f}"), choices=choices,
                solution=text(S, "practice.nonsat.solution", a=f"{a:.2f}", d=f"{d:.4f}", right=_f3(right),
                              sat=_f3(sat), ratio=f"{right / sat:.1f}" if sat else "∞"),
                params={"a": a}, answer=right, tolerance=0.0005)


# ------------------------------------------------------------------------------------------------ statements
TRUE = ("critic_loss", "g_loss", "no_sigmoid", "clip_capacity", "gp_interp", "gp_no_bn", "loss_tracks",
        "rmsprop")
FALSE = ("notes_d_loss", "notes_g_loss", "grad_clip", "gp_on_real", "gp_zero", "sigmoid", "gan_loss_quality",
         "saturating")


def wgan_statement(rng: np.random.Generator) -> Item:
    """WGAN (clipping), WGAN-GP and the non-saturating loss: pick the true statement, or (half the seeds) the false
    one; the false ones include the course notes' WGAN losses and 'gradient clipping'."""
    choices, invert = statement_choices(rng, S, "practice.wgan", TRUE, FALSE)
    return Item(kind="statement", stem=text(S, "practice.wgan.stem_false" if invert else "practice.wgan.stem_true"),
                choices=choices, solution=text(S, "practice.wgan.solution"))


# ------------------------------------------------------------------------------ the gradient penalty, a blank
_GP_CODE = """def gradient_penalty(W1, b1, w2, real, fake, eps):
    x_hat = eps * real + (1 - eps) * fake          # (B, d)
    mask = (x_hat @ W1 + b1) > 0                   # (B, h) active ReLUs of f(x) = ReLU(x W1 + b1) w2 + b2
    g = (mask * w2[:, 0]) @ W1.T                   # (B, d) ∇f(x̂)
    return np.mean((np.linalg.norm(g, axis=1) - 1) ** 2)"""
_BLANKS = {
    "x_hat": ("    x_hat = eps * real + (1 - eps) * fake          # (B, d)", {
        "midpoint": "x_hat = (real + fake) / 2",
        "real_only": "x_hat = real",
        "fake_only": "x_hat = fake",
        "eps_both": "x_hat = eps * real + eps * fake",
    }),
    "penalty": ("    return np.mean((np.linalg.norm(g, axis=1) - 1) ** 2)", {
        "to_zero": "return np.mean(np.linalg.norm(g, axis=1) ** 2)",
        "squared_norm": "return np.mean(((g ** 2).sum(1) - 1) ** 2)",
        "mean_first": "return (np.mean(np.linalg.norm(g, axis=1)) - 1) ** 2",
        "wrong_axis": "return np.mean((np.linalg.norm(g, axis=0) - 1) ** 2)",
    }),
}


def gp_blank(rng: np.random.Generator) -> Item:
    """Fill the interpolation line or the penalty line of WGAN-GP's penalty for a one-hidden-layer critic; every
    candidate is run on a drawn critic and batch and compared with the chapter's `gradient_penalty`."""
    which = "x_hat" if rng.integers(2) else "penalty"
    B, h = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    D = gan2d.MLP([2, h, 1], rng)                                          # nn.Linear-like init, float32
    real = np.round(rng.standard_normal((B, 2)), 2).astype(F32)
    fake = np.round(rng.standard_normal((B, 2)), 2).astype(F32)
    eps = np.round(rng.random((B, 1)), 2).astype(F32)
    gp, _ = gan2d.gradient_penalty(D, real, fake, eps)                     # the chapter's engine
    W1, b1, w2 = (np.array(p) for p in D.params[:3])
    ex = Exec("gradient_penalty", (W1, b1, w2, real, fake, eps), gp, atol=1e-5)
    line, wrong_lines = _BLANKS[which]
    code = _GP_CODE.replace(line, "    ____")
    wrong = [(w, text(S, f"practice.blank.{k}")) for k, w in wrong_lines.items()
             if not matches(execute(code.replace("____", w.strip()), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees with the engine")
    right = line.strip().split("  #")[0].strip()
    return Item(kind="blank", stem=text(S, f"practice.blank.stem_{which}", B=B, h=h), code=code,
                choices=code_choices(rng, (right, text(S, f"practice.blank.right_{which}")), wrong),
                solution=text(S, "practice.blank.solution", gp=f"{gp:.5f}", B=B),
                params={"W1": W1.tolist(), "b1": b1.tolist(), "w2": w2.tolist(), "b2": float(D.params[3][0]),
                        "real": real.tolist(), "fake": fake.tolist(), "eps": eps.tolist()},
                exec=ex)


GENERATORS = (gp_value, nonsat_gradient, wgan_statement, gp_blank)
