"""Practice items for Explainability › Grad-CAM (format: engine/common/practice.py).

The compute and code items work on a tiny layer (2 channels of 2×2 or 3×3) whose activations A^k and gradients
∂y^c/∂A^k are drawn as small numbers; the answer is the chapter engine's `cam_map` / `gradcam_weights` on them."""
from __future__ import annotations

import numpy as np
import torch

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.explainability import gradcam as E

S = "gradcam"


def _num(v: float, decimals: int) -> str:
    """v to `decimals` places, never "−0.00…" (a negative value that rounds to zero reads as 0)."""
    s = f"{v:.{decimals}f}"
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s


# α is a multiple of 0.025 and A an integer, so the map is exact at three decimals
fmt3 = lambda v: _num(v, 3)                                                     # noqa: E731


def _layer(rng, size: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A (2, size, size) in 0…5 (post-ReLU activations, integers) and G (2, size, size) in −2…2 (one decimal)."""
    a = rng.integers(0, 6, (2, size, size)).astype(float)
    g = np.round(rng.uniform(-2, 2, (2, size, size)), 1) + 0.0
    return a, g


def _mat(m: np.ndarray) -> str:
    rows = ["[" + ", ".join(f"{v:g}" for v in r) + "]" for r in m]
    return "[" + ", ".join(rows) + "]"


def _show(a: np.ndarray, g: np.ndarray) -> str:
    return "\n".join(f"- A^{k + 1} = {_mat(a[k])}, ∂y^c/∂A^{k + 1} = {_mat(g[k])}" for k in range(len(a)))


def _p(v: float) -> str:
    """A number as a factor in a worked product: exact (α = a sum of tenths / 4), negatives in parentheses."""
    s = f"{round(float(v), 4):g}"
    return f"({s})" if s.startswith("-") else s


def _engine(a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cam, alpha = E.cam_map(torch.tensor(a), torch.tensor(g))
    return cam.numpy(), alpha.numpy()


# ------------------------------------------------------------------------------------------------- compute
def map_value(rng: np.random.Generator) -> Item:
    """The Grad-CAM map at one cell of a 2-channel 2×2 layer; distractors: α as the sum (not the mean) of the
    gradients, the cell's own gradient instead of α, α as the max gradient, no ReLU."""
    a, g = _layer(rng)
    i, j = (int(v) for v in rng.integers(0, 2, 2))
    cam, alpha = _engine(a, g)
    right = float(cam[i, j])
    pre = float(alpha @ a[:, i, j])
    if pre <= 0 and rng.random() < 0.7:
        raise Redraw("mostly ask for a cell the ReLU lets through")
    z = a.shape[1] * a.shape[2]
    choices = numeric_choices(rng, right, text(S, "practice.map.right"), [
        (max(0.0, z * pre), text(S, "practice.map.sum")),
        (max(0.0, float(g[:, i, j] @ a[:, i, j])), text(S, "practice.map.pointwise")),
        (pre, text(S, "practice.map.no_relu")),
        (max(0.0, float(g.max(axis=(1, 2)) @ a[:, i, j])), text(S, "practice.map.max")),
        (max(0.0, float(a.mean(axis=(1, 2)) @ a[:, i, j])), text(S, "practice.map.activations")),
    ], fmt3)
    return Item(kind="compute", stem=text(S, "practice.map.stem", layer=_show(a, g), i=i + 1, j=j + 1),
                choices=choices,
                solution=text(S, "practice.map.solution", a1=_p(alpha[0]), a2=_p(alpha[1]),
                              s1=f"{g[0].sum():g}", s2=f"{g[1].sum():g}", x1=f"{a[0, i, j]:g}", x2=f"{a[1, i, j]:g}",
                              pre=f"{pre:.4f}", ans=fmt3(right), i=i + 1, j=j + 1,
                              cam=_mat(np.round(cam, 3))),
                params={"a": a.tolist(), "g": g.tolist(), "i": i, "j": j}, answer=right, tolerance=0.0005)


def last_layer_alpha(rng: np.random.Generator) -> Item:
    """At the last layer (GAP → one fc layer) Grad-CAM's α_k = w_k^c / Z. The engine's gradcam_weights on the
    autograd gradient of y^c = Σ_k w_k^c GAP(A^k) + b_c; distractors: w_k^c itself (CAM's weight), w_k^c · Z,
    w_k^c / h."""
    h, w = (int(v) for v in rng.choice([3, 4, 5, 7], 2))
    k = 3
    wc = np.round(rng.uniform(-3, 3, k), 1) + 0.0
    if np.any(np.abs(wc) < 0.3):
        raise Redraw("a near-zero weight")
    ch = int(rng.integers(k))
    a = torch.tensor(rng.uniform(0, 2, (k, h, w)), requires_grad=True)
    with torch.enable_grad():                          # whatever grad mode the calling thread is in
        y = (torch.tensor(wc) * a.mean(dim=(1, 2))).sum() + 0.5                # y^c = Σ_k w_k GAP(A^k) + b
        (grad,) = torch.autograd.grad(y, a)
    alpha = E.gradcam_weights(a.detach(), grad).numpy()
    right = float(alpha[ch])
    fmt = lambda v: f"{v:.4f}"                                                  # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.last.right"), [
        (float(wc[ch]), text(S, "practice.last.cam_weight")),
        (float(wc[ch]) * h * w, text(S, "practice.last.times_z")),
        (float(wc[ch]) / h, text(S, "practice.last.over_h")),
        (float(wc[ch]) / (h + w), text(S, "practice.last.over_sum")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.last.stem", h=h, w=w, k=k, ws=", ".join(f"{v:g}" for v in wc),
                                          ch=ch + 1),
                choices=choices, solution=text(S, "practice.last.solution", h=h, w=w, z=h * w, wk=f"{wc[ch]:g}",
                                               ans=fmt(right), ch=ch + 1),
                params={"h": h, "w": w, "weights": wc.tolist(), "channel": ch}, answer=right, tolerance=5e-5)


# ----------------------------------------------------------------------------------------------- statement
_TRUE = ("any_layer", "cam_gap", "relu_positive", "last_equal", "guided_product", "coarse", "sanity")
_FALSE = ("pixels", "cam_any", "no_relu", "guided_learns", "guided_class", "finer_deeper", "retrain")


def statement(rng: np.random.Generator) -> Item:
    """CAM vs Grad-CAM vs Guided Backprop; distractors include the course notes' wording the page corrects
    (Guided Backprop "learns" by moving pixels; Grad-CAM scores pixels by their gradient)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


# ------------------------------------------------------------------------------------------- implementation
_IMPL_RIGHT = """def grad_cam(A, G):
    # A, G: (K, h, w) activations and gradients dy/dA
    alpha = G.mean(axis=(1, 2))
    cam = (alpha[:, None, None] * A).sum(axis=0)
    return np.maximum(cam, 0)"""
_IMPL_WRONG = {
    "channel_mean": _IMPL_RIGHT.replace("alpha = G.mean(axis=(1, 2))\n    cam = (alpha[:, None, None] * A).sum(axis=0)",
                                        "alpha = G.mean(axis=0)\n    cam = (alpha[None] * A).sum(axis=0)"),
    "no_relu": _IMPL_RIGHT.replace("return np.maximum(cam, 0)", "return cam"),
    "relu_first": _IMPL_RIGHT.replace("cam = (alpha[:, None, None] * A).sum(axis=0)\n    return np.maximum(cam, 0)",
                                      "cam = np.maximum(alpha[:, None, None] * A, 0).sum(axis=0)\n    return cam"),
    "activations": _IMPL_RIGHT.replace("alpha = G.mean(axis=(1, 2))", "alpha = A.mean(axis=(1, 2))"),
    "abs": _IMPL_RIGHT.replace("return np.maximum(cam, 0)", "return np.abs(cam)"),
    "sum": _IMPL_RIGHT.replace("alpha = G.mean(axis=(1, 2))", "alpha = G.sum(axis=(1, 2))"),
}


def implementation(rng: np.random.Generator) -> Item:
    """Which NumPy function returns the Grad-CAM map (before upsampling) of a 2-channel 3×3 layer?"""
    a, g = _layer(rng, 3)
    cam, _ = _engine(a, g)
    if not np.any(cam > 0):
        raise Redraw("an all-zero map")
    ex = Exec("grad_cam", (a, g), cam, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _IMPL_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a distractor agrees on this layer")
    choices = code_choices(rng, (_IMPL_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", layer=_show(a, g)), choices=choices,
                solution=text(S, "practice.impl.solution", cam=_mat(np.round(cam, 3))),
                params={"a": a.tolist(), "g": g.tolist()}, exec=ex)


# -------------------------------------------------------------------------------------------------- blank
_BLANK_CODE = """def grad_cam(A, y_fn):
    # A: (K, h, w) activations of the target layer; y_fn(A) -> the class score y^c (a scalar)
    A = A.clone().requires_grad_(True)
    (G,) = torch.autograd.grad(y_fn(A), A)
____
    return torch.relu((alpha[:, None, None] * A.detach()).sum(dim=0))"""
_BLANK_LINES = {
    "right": "    alpha = G.mean(dim=(1, 2))",
    "activations": "    alpha = A.detach().mean(dim=(1, 2))",
    "channel_mean": "    alpha = G.mean(dim=0)",
    "max": "    alpha = G.amax(dim=(1, 2))",
    "sum": "    alpha = G.sum(dim=(1, 2))",
}


def blank(rng: np.random.Generator) -> Item:
    """Grad-CAM with autograd on a tiny head y^c = Σ_{k,i,j} W_kij ReLU(A_kij) (the gradient differs from cell to
    cell), the line computing α missing."""
    a, _ = _layer(rng, 2)
    wts = np.round(rng.uniform(-1, 1, a.shape), 1) + 0.0
    at = torch.tensor(a, requires_grad=True)
    with torch.enable_grad():                          # whatever grad mode the calling thread is in
        y = (torch.tensor(wts) * torch.relu(at)).sum()
        (grad,) = torch.autograd.grad(y, at)
    cam, _ = E.cam_map(at.detach(), grad)
    if not bool((cam > 0).any()):
        raise Redraw("an all-zero map")
    y_fn = _Head(wts)
    ex = Exec("grad_cam", (torch.tensor(a), y_fn), cam.numpy(), atol=1e-9)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _BLANK_LINES.items()
             if k != "right" and not matches(execute(_BLANK_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees on this layer")
    choices = code_choices(rng, (_BLANK_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", a=" ; ".join(f"A^{k + 1} = {_mat(a[k])}"
                                                                                for k in range(2)),
                                        w=" ; ".join(f"W^{k + 1} = {_mat(wts[k])}" for k in range(2))),
                choices=choices, code=_BLANK_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", g=" ; ".join(_mat(grad[k].numpy()) for k in range(2)),
                              alpha=", ".join(f"{v:.3f}" for v in grad.mean(dim=(1, 2)).numpy()),
                              cam=_mat(np.round(cam.numpy(), 3))),
                params={"a": a.tolist(), "w": wts.tolist()}, exec=ex)


class _Head:
    """y^c = Σ W ⊙ ReLU(A): a callable that deep-copies cleanly (Exec deep-copies its arguments)."""

    def __init__(self, w: np.ndarray):
        self.w = np.asarray(w, dtype=float)

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        return (torch.tensor(self.w) * torch.relu(a)).sum()

    def __repr__(self) -> str:
        return f"_Head({self.w.tolist()})"


GENERATORS = (map_value, last_layer_alpha, statement, implementation, blank)
