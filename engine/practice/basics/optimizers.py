"""Practice items for Basics › Optimisers (format: engine/common/practice.py). Every answer comes from
engine/common/optim.py, the chapter's update rules."""
from __future__ import annotations

import math

import numpy as np

from engine.common import optim
from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    pick_choices, text)

S = "optimizers"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def _adam_from(theta, m, v, t, g, lr, b1, b2, eps) -> float:
    """θ after update t of Adam from state (m, v) after t − 1 updates: the engine's NumpyAdam."""
    p = np.array([theta])
    opt = optim.NumpyAdam(p, lr, betas=(b1, b2), eps=eps)
    opt.m[0][:] = m
    opt.v[0][:] = v
    opt.t = t - 1
    opt.step(np.array([g]))
    return float(p[0])


def adam_step(rng: np.random.Generator) -> Item:
    """One Adam update by hand with bias correction; distractors: no bias correction, ε inside the square root,
    v of the previous step, m not corrected."""
    t = int(rng.integers(1, 4))
    b1 = float(rng.choice([0.5, 0.8, 0.9]))
    b2 = float(rng.choice([0.9, 0.99]))
    eps = float(rng.choice([0.01, 0.1]))
    lr = float(rng.choice([0.1, 0.2, 0.5]))
    theta = round(float(rng.uniform(-2, 2)), 1)
    g = round(float(rng.uniform(-1.5, 1.5)), 1)
    if g == 0:
        raise Redraw("zero gradient")
    m_prev = 0.0 if t == 1 else round(float(rng.uniform(-0.5, 0.5)), 2)
    v_prev = 0.0 if t == 1 else round(float(rng.uniform(0.01, 0.3)), 2)
    right = _adam_from(theta, m_prev, v_prev, t, g, lr, b1, b2, eps)
    m = b1 * m_prev + (1 - b1) * g
    v = b2 * v_prev + (1 - b2) * g * g
    mh, vh = m / (1 - b1 ** t), v / (1 - b2 ** t)
    vh_prev = v_prev / (1 - b2 ** t)
    mistakes = [
        (theta - lr * m / (math.sqrt(v) + eps), text(S, "practice.adam.no_bias")),
        (theta - lr * mh / math.sqrt(vh + eps), text(S, "practice.adam.eps_inside")),
        (theta - lr * mh / (math.sqrt(vh_prev) + eps) if vh_prev > 0 else None, text(S, "practice.adam.v_prev")),
        (theta - lr * m / (math.sqrt(vh) + eps), text(S, "practice.adam.m_uncorrected")),
        (theta - lr * g / (math.sqrt(vh) + eps) * (1 - b1), text(S, "practice.adam.m_uncorrected")),
        (theta + lr * mh / (math.sqrt(vh) + eps), text(S, "practice.adam.sign")),
    ]
    choices = numeric_choices(rng, right, text(S, "practice.adam.right"), mistakes, _f4)
    return Item(kind="compute",
                stem=text(S, "practice.adam.stem", t=t, tm=t - 1, b1=b1, b2=b2, eps=eps, lr=lr, theta=theta, g=g,
                          m=m_prev, v=v_prev),
                choices=choices,
                solution=text(S, "practice.adam.solution", t=t, b1=b1, b2=b2, eps=eps, lr=lr, theta=theta, g=g,
                              m_prev=m_prev, v_prev=v_prev, m=f"{m:.6g}", v=f"{v:.6g}", mh=f"{mh:.6g}",
                              vh=f"{vh:.6g}", ans=_f4(right)),
                setup={"optimizers.beta1": b1},
                params=dict(t=t, b1=b1, b2=b2, eps=eps, lr=lr, theta=theta, g=g, m=m_prev, v=v_prev),
                answer=right, tolerance=5e-4)


def adagrad_lr(rng: np.random.Generator) -> Item:
    """AdaGrad's effective learning rate η/(√h + ε) after k gradients; distractors: h without the square root,
    the mean instead of the sum, h one step behind, η·√h."""
    k = int(rng.integers(2, 5))
    grads = [float(x) for x in rng.choice([-3, -2, -1, 1, 2, 3, 4], size=k)]
    lr = float(rng.choice([0.1, 0.5, 1.0]))
    p = np.zeros(1)
    opt = optim.AdaGrad(p, lr, eps=1e-8)
    for g in grads:
        opt.step(np.array([g]))
    right = float(opt.effective_lr()[0][0])
    h = sum(g * g for g in grads)
    h_prev = h - grads[-1] ** 2
    mistakes = [(lr / h, text(S, "practice.adagrad.no_sqrt")),
                (lr / math.sqrt(h / k), text(S, "practice.adagrad.mean")),
                (lr / math.sqrt(h_prev), text(S, "practice.adagrad.prev")),
                (lr * math.sqrt(h), text(S, "practice.adagrad.times")),
                (lr / abs(sum(grads)) if sum(grads) else None, text(S, "practice.adagrad.sum_g"))]
    choices = numeric_choices(rng, right, text(S, "practice.adagrad.right"), mistakes, _f4)
    gs = ", ".join(f"{g:g}" for g in grads)
    return Item(kind="compute", stem=text(S, "practice.adagrad.stem", k=k, gs=gs, lr=lr), choices=choices,
                solution=text(S, "practice.adagrad.solution", gs=gs, h=f"{h:g}", sq=f"{math.sqrt(h):.4f}", lr=lr,
                              ans=_f4(right)),
                params=dict(grads=grads, lr=lr), answer=right, tolerance=5e-4)


_RIGHT = ("adamw_decoupled", "l2_scaled", "same_sgd", "adamw_torch", "adagrad_decays")
_WRONG = ("same_adam", "adamw_grad", "l2_uniform", "eps_inside", "bias_v_only", "rmsprop_bias", "adagrad_grows")


def weight_decay_statement(rng: np.random.Generator) -> Item:
    """Statements about Adam/AdamW weight decay vs L2 and the adaptive rules; half the time the false one."""
    invert = bool(rng.integers(2))
    right = [(text(S, f"practice.wd.s_{k}"), text(S, f"practice.wd.f_{k}")) for k in _RIGHT]
    wrong = [(text(S, f"practice.wd.s_{k}"), text(S, f"practice.wd.f_{k}")) for k in _WRONG]
    return Item(kind="statement", stem=text(S, "practice.wd.stem_false" if invert else "practice.wd.stem_true"),
                choices=pick_choices(rng, right, wrong, invert=invert), solution=text(S, "practice.wd.solution"))


_CODE = """def adam(theta, g, m, v, t, lr, b1, b2, eps):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta"""
_LINES = _CODE.split("\n")[1:6]          # the five update lines, each can be the blank
_WRONG_LINES = {
    0: ["m = b1 * m + (1 - b1) * g * g", "m = b1 * m + g", "m = (1 - b1) * m + b1 * g"],
    1: ["v = b2 * v + (1 - b2) * g", "v = b2 * v + (1 - b2) * np.abs(g)", "v = (1 - b2) * v + b2 * g * g"],
    2: ["m_hat = m / (1 - b1) ** t", "m_hat = m * (1 - b1 ** t)", "m_hat = m / (1 - b1 * t)"],
    3: ["v_hat = v / (1 - b2) ** t", "v_hat = v * (1 - b2 ** t)", "v_hat = v / (1 - b2 * t)"],
    4: ["theta = theta - lr * m_hat / np.sqrt(v_hat + eps)", "theta = theta - lr * m / (np.sqrt(v) + eps)",
        "theta = theta + lr * m_hat / (np.sqrt(v_hat) + eps)", "theta = theta - lr * m_hat / (v_hat + eps)"],
}


def adam_blank(rng: np.random.Generator) -> Item:
    """Adam's update with one line missing; candidates executed against the engine's NumpyAdam on drawn data."""
    j = int(rng.integers(len(_LINES)))
    n = 4
    theta = np.round(rng.normal(size=n), 2)
    g = np.round(rng.normal(size=n), 2)
    t = int(rng.integers(2, 6))
    m = np.round(rng.normal(size=n) * 0.3, 2)
    v = np.round(rng.uniform(0.01, 0.5, size=n), 2)
    lr, b1 = float(rng.choice([0.1, 0.01, 0.001])), float(rng.choice([0.8, 0.9, 0.95]))
    b2, eps = float(rng.choice([0.99, 0.999])), float(rng.choice([1e-3, 1e-2]))
    p = theta.copy()
    opt = optim.NumpyAdam(p, lr, betas=(b1, b2), eps=eps)
    opt.m[0][:], opt.v[0][:], opt.t = m, v, t - 1
    opt.step(g)
    ex = Exec("adam", (theta, g, m, v, t, lr, b1, b2, eps), p.copy(), atol=1e-9)
    code = "\n".join([_CODE.split("\n")[0]] + [("    ____" if i == j else ln) for i, ln in enumerate(_LINES)]
                     + _CODE.split("\n")[6:])
    wrong = [(w, text(S, f"practice.blank.w{j}")) for w in _WRONG_LINES[j]
             if not matches(execute(code.replace("____", w), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right answer here")
    choices = code_choices(rng, (_LINES[j].strip(), text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", t=t, lr=lr, b1=b1, b2=b2, eps=eps), choices=choices, code=code,
                solution=text(S, "practice.blank.solution", line=_LINES[j].strip()),
                params=dict(line=j, t=t), exec=ex)


GENERATORS = (adam_step, adagrad_lr, weight_decay_statement, adam_blank)
