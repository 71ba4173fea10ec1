"""Practice items for Basics › Regularisation (format: engine/common/practice.py). Every answer comes from
engine/basics/regularization.py."""
from __future__ import annotations

import numpy as np

from engine.basics import regularization as R
from engine.common import optim
from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)

S = "regularization"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def dropout_scale(rng: np.random.Generator) -> Item:
    """A kept unit's output under inverted dropout; distractors: the test-time scaling of the original paper used
    in training, division by p, multiplication by p, no scaling."""
    p = float(rng.choice([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 0.8]))
    h = round(float(rng.uniform(0.2, 5.0)), 1)
    right = float(R.inverted_dropout(np.array([h]), np.array([1.0]), p)[0])
    mistakes = [(h * (1 - p), text(S, "practice.scale.times_keep")), (h / p, text(S, "practice.scale.over_p")),
                (h * p, text(S, "practice.scale.times_p")), (h, text(S, "practice.scale.none"))]
    if len({round(v, 4) for v, _ in mistakes} | {round(right, 4)}) < 4:
        raise Redraw("coinciding values")
    return Item(kind="compute", stem=text(S, "practice.scale.stem", p=p, h=h),
                choices=numeric_choices(rng, right, text(S, "practice.scale.right"), mistakes, _f4),
                solution=text(S, "practice.scale.solution", p=p, h=h, keep=f"{1 - p:g}", ans=_f4(right)),
                setup={"regularization.dropout_p": p} if p in (0.1, 0.2, 0.3, 0.5) else {},
                params=dict(p=p, h=h), answer=right, tolerance=5e-4)


def penalized_1d(rng: np.random.Generator) -> Item:
    """The minimiser of (a/2)(w − w*)² + an L1 or L2 penalty; distractors: the other penalty, forgetting a,
    the unregularised w*, the soft threshold without a."""
    kind = str(rng.choice(["l1", "l2"]))
    a = float(rng.choice([1, 2, 4, 5]))
    w_star = round(float(rng.choice([-1, 1]) * rng.uniform(0.5, 3.0)), 1)
    lam = float(rng.choice([0.5, 1.0, 2.0, 3.0]))
    A, ws = np.array([[a]]), np.array([w_star])
    l1 = float(R.l1_solution(A, ws, lam)[0])
    l2 = float(R.l2_solution(A, ws, lam)[0])
    right = l1 if kind == "l1" else l2
    mistakes = [(l2 if kind == "l1" else l1, text(S, f"practice.pen.other_{kind}")),
                (w_star, text(S, "practice.pen.unregularised"))]
    if kind == "l1":
        mistakes += [(float(R.soft_threshold(np.array(w_star), lam)), text(S, "practice.pen.l1_no_a")),
                     (w_star - np.sign(w_star) * lam / a, text(S, "practice.pen.l1_no_clip"))]
    else:
        mistakes += [(w_star / (1 + lam), text(S, "practice.pen.l2_no_a")),
                     (a * w_star / (a + lam / 2), text(S, "practice.pen.l2_half"))]
    if abs(right) < 1e-12 and kind == "l2":
        raise Redraw("degenerate")
    return Item(kind="compute", stem=text(S, f"practice.pen.stem_{kind}", a=f"{a:g}", w=w_star, lam=f"{lam:g}"),
                choices=numeric_choices(rng, right, text(S, f"practice.pen.right_{kind}"), mistakes, _f4),
                solution=text(S, f"practice.pen.solution_{kind}", a=f"{a:g}", w=w_star, lam=f"{lam:g}",
                              t=f"{lam / a:.4g}", ans=_f4(right)),
                params=dict(kind=kind, a=a, w_star=w_star, lam=lam), answer=right, tolerance=5e-4)


def decay_step(rng: np.random.Generator) -> Item:
    """One SGD step with weight decay (an L2 penalty (λ/2)w²); distractors: λ without η, no decay, the penalty λw²
    differentiated wrongly, the gradient's sign."""
    w = round(float(rng.uniform(-3, 3)), 1)
    g = round(float(rng.uniform(-2, 2)), 1)
    lr = float(rng.choice([0.1, 0.05, 0.2, 0.5]))
    lam = float(rng.choice([0.01, 0.1, 0.2, 0.5]))
    if w == 0:
        raise Redraw("w = 0")
    # the project's one SGD (engine/common/optim.py, = torch.optim.SGD(weight_decay=λ)): g ← g + λw, w ← w − ηg
    arr = np.array([w])
    optim.SGD([arr], lr, weight_decay=lam).step([np.array([g])])
    right = float(arr[0])
    mistakes = [(w - lr * g - lam * w, text(S, "practice.decay.no_eta")), (w - lr * g, text(S, "practice.decay.none")),
                (w - lr * (g + 2 * lam * w), text(S, "practice.decay.twice")),
                (w + lr * (g + lam * w), text(S, "practice.decay.sign")),
                (w - lr * (g + lam * w * w / 2), text(S, "practice.decay.penalty"))]
    return Item(kind="compute", stem=text(S, "practice.decay.stem", w=w, g=g, lr=lr, lam=lam),
                choices=numeric_choices(rng, right, text(S, "practice.decay.right"), mistakes, _f4),
                solution=text(S, "practice.decay.solution", w=w, g=g, lr=lr, lam=lam, ans=_f4(right)),
                params=dict(w=w, g=g, lr=lr, lam=lam), answer=right, tolerance=5e-4)


_TRUE = ("l1_sparse", "dropout_eval", "early_val", "augment_label", "l2_sgd_decay", "inverted")
_FALSE = ("l2_sparse", "dropout_eval_scale", "early_train", "augment_test", "l2_adam", "dropout_same_mask")


def statement(rng: np.random.Generator) -> Item:
    """True statements about regularisation vs the usual misconceptions."""
    choices, inverted = statement_choices(rng, S, "practice.st", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.st.stem_false" if inverted else "practice.st.stem_true"),
                choices=choices, solution=text(S, "practice.st.solution"))


_CODE = {
    "right": "def dropout(h, mask, p, train):\n    if train:\n        return h * mask / (1 - p)\n    return h",
    "original": "def dropout(h, mask, p, train):\n    if train:\n        return h * mask\n    return h * (1 - p)",
    "both": "def dropout(h, mask, p, train):\n    if train:\n        return h * mask / (1 - p)\n    return h / (1 - p)",
    "over_p": "def dropout(h, mask, p, train):\n    if train:\n        return h * mask / p\n    return h",
    "flipped": "def dropout(h, mask, p, train):\n    if train:\n        return h * (1 - mask) / (1 - p)\n    return h",
    "eval_mask": "def dropout(h, mask, p, train):\n    return h * mask / (1 - p)",
}


def dropout_code(rng: np.random.Generator) -> Item:
    """Which function is `nn.Dropout` (inverted dropout) given the mask; each run on the item's case, in training or
    in evaluation mode as drawn."""
    n = int(rng.integers(4, 8))
    h = np.round(rng.uniform(0.1, 3.0, n), 2)
    p = float(rng.choice([0.2, 0.25, 0.4, 0.5, 0.6]))
    mask = (rng.random(n) >= p).astype(float)
    if mask.all() or not mask.any():
        raise Redraw("a mask that keeps or drops everything")
    train = bool(rng.integers(2))
    ex = Exec("dropout", (h, mask, p, train), R.inverted_dropout(h, mask, p, train), atol=1e-9)
    wrong = [(_CODE[k], text(S, f"practice.code.{k}")) for k in ("original", "both", "over_p", "flipped", "eval_mask")
             if not matches(execute(_CODE[k], ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong snippet is right here")
    mode = text(S, "practice.code.mode_train" if train else "practice.code.mode_eval")
    return Item(kind="implementation",
                stem=text(S, "practice.code.stem", p=p, mode=mode,
                          h="[" + ", ".join(f"{v:g}" for v in h) + "]",
                          mask="[" + ", ".join(f"{v:g}" for v in mask) + "]"),
                choices=code_choices(rng, (_CODE["right"], text(S, "practice.code.right")), wrong),
                solution=text(S, "practice.code.solution"),
                setup={"regularization.dropout_p": p} if p in (0.2, 0.5) else {},
                params=dict(h=h.tolist(), mask=mask.tolist(), p=p, train=train), exec=ex)


GENERATORS = (dropout_scale, penalized_1d, decay_step, statement, dropout_code)
