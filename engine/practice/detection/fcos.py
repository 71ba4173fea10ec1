"""Practice items for Detection › FPN, focal loss & FCOS (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.detection import fcos as F

S = "fcos"
W, H = 320, 213            # the page's working image at its default photo (chelsea 451×300 → 320×213)


def _box_setup(box) -> dict:
    """The page's ground-truth box sliders (range sliders [lo, hi]), keyed by the default image's size."""
    return {f"fcos.box.x.{W}x{H}": [float(box[0]), float(box[2])], f"fcos.box.y.{W}x{H}": [float(box[1]), float(box[3])]}


def focal_value(rng: np.random.Generator) -> Item:
    """The focal loss of one prediction p for a label y with γ and α. Distractors: α forgotten, α used for a
    negative (not 1 − α), the modulating factor (1 − p)^γ with p in place of p_t, plain (α-weighted) cross-entropy,
    log base 10."""
    p = round(float(rng.choice(np.arange(0.05, 0.96, 0.05))), 2)
    y = int(rng.integers(2))
    gamma = float(rng.choice((0.5, 1.0, 2.0, 3.0)))
    alpha = float(rng.choice((0.25, 0.5, 0.75)))
    logit = np.log(p / (1 - p))
    right = float(F.focal_loss(logit, y, alpha, gamma))
    p_t = p if y == 1 else 1 - p
    a_t = alpha if y == 1 else 1 - alpha
    fmt = lambda v: f"{v:.4f}"                                              # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.focal.right"), [
        (float(F.focal_curve(p_t, gamma)), text(S, "practice.focal.no_alpha")),
        (float(F.focal_curve(p_t, gamma, alpha)) if y == 0 else None, text(S, "practice.focal.alpha_for_neg")),
        (float(a_t * (1 - p) ** gamma * -np.log(p_t)) if y == 0 else None, text(S, "practice.focal.wrong_pt")),
        (float(F.focal_curve(p_t, 0.0, a_t)), text(S, "practice.focal.no_modulation")),
        (right / np.log(10), text(S, "practice.focal.log10")),
        (float(a_t * p_t ** gamma * -np.log(p_t)), text(S, "practice.focal.pt_power")),
    ], fmt)
    return Item(kind="compute",
                stem=text(S, "practice.focal.stem", p=f"{p:.2f}", y=y, gamma=f"{gamma:g}", alpha=f"{alpha:g}"),
                choices=choices,
                solution=text(S, "practice.focal.solution_pos" if y == 1 else "practice.focal.solution_neg",
                              p=f"{p:.2f}", pt=f"{p_t:.2f}", at=f"{a_t:g}", gamma=f"{gamma:g}",
                              mod=f"{(1 - p_t) ** gamma:.4f}", ce=f"{-np.log(p_t):.4f}", fl=fmt(right)),
                setup={"fcos.gamma": gamma, "fcos.alpha": alpha},
                params={"p": p, "y": y, "gamma": gamma, "alpha": alpha}, answer=right, tolerance=0.00005)


def centerness_value(rng: np.random.Generator) -> Item:
    """Centre-ness of a location inside a box from l*, t*, r*, b*. Distractors: the square root forgotten, the
    arithmetic mean of the two ratios, min/max over all four distances, the ratios inverted per axis (l/r, t/b)."""
    x0, y0 = int(rng.integers(0, W - 60)), int(rng.integers(0, H - 50))
    box = (x0, y0, int(rng.integers(x0 + 60, W + 1)), int(rng.integers(y0 + 50, H + 1)))
    x, y = int(rng.integers(box[0] + 1, box[2])), int(rng.integers(box[1] + 1, box[3]))
    d = F.ltrb(np.array([x, y], dtype=float), box)
    l, t, r, b = (float(v) for v in d)
    right = float(F.centerness(d))
    hr, vr = min(l, r) / max(l, r), min(t, b) / max(t, b)
    fmt = lambda v: f"{v:.3f}"                                              # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.ctr.right"), [
        (hr * vr, text(S, "practice.ctr.no_sqrt")),
        ((hr + vr) / 2, text(S, "practice.ctr.mean")),
        (min(l, t, r, b) / max(l, t, r, b), text(S, "practice.ctr.all_four")),
        (np.sqrt((l / r) * (t / b)), text(S, "practice.ctr.inverted")),
        (np.sqrt(min(l, t) / max(l, t) * min(r, b) / max(r, b)), text(S, "practice.ctr.pairs")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.ctr.stem", box=str(box), x=x, y=y), choices=choices,
                solution=text(S, "practice.ctr.solution", x=x, y=y, x0=box[0], y0=box[1], x1=box[2], y1=box[3],
                              l=f"{l:g}", t=f"{t:g}", r=f"{r:g}", b=f"{b:g}", hr=f"{hr:.4f}", vr=f"{vr:.4f}",
                              c=fmt(right)),
                setup=_box_setup(box), params={"box": box, "x": x, "y": y}, answer=right, tolerance=0.0005)


def fpn_level(rng: np.random.Generator) -> Item:
    """The FPN level k = ⌊4 + log₂(√(wh)/224)⌋ (clipped to P2…P5) of a box after the image is resized to a shorter
    side S. Distractors: the box not resized, rounding instead of the floor, √ forgotten, the clip forgotten, k₀ = 5."""
    short = int(rng.integers(10, 43)) * 32                             # the page's input-size slider, 320 … 1344
    x0, y0 = int(rng.integers(0, 200)), int(rng.integers(0, 150))
    box = (x0, y0, int(rng.integers(x0 + 12, W + 1)), int(rng.integers(y0 + 12, H + 1)))
    bl = F.box_level(box, short, H, W)
    raw = 4 + np.log2(bl.side / 224)
    w0, h0 = box[2] - box[0], box[3] - box[1]
    fmt = lambda v: f"P{int(v)}"                                           # noqa: E731
    choices = numeric_choices(rng, bl.level, text(S, "practice.fpn.right"), [
        (int(F.fpn_level(w0, h0)), text(S, "practice.fpn.no_resize")),
        (int(np.clip(np.round(raw), 2, 5)), text(S, "practice.fpn.rounded")),
        (int(np.clip(np.floor(4 + np.log2(bl.width * bl.height / 224)), 2, 5)), text(S, "practice.fpn.no_sqrt")),
        (int(np.floor(raw + 1e-6)), text(S, "practice.fpn.no_clip")),
        (int(F.fpn_level(bl.width, bl.height, k0=5)), text(S, "practice.fpn.k0_5")),
        (int(np.clip(np.floor(4 + np.log2(max(bl.width, bl.height) / 224)), 2, 5)), text(S, "practice.fpn.longer")),
    ], fmt)
    scale = short / H
    return Item(kind="compute", stem=text(S, "practice.fpn.stem", box=str(box), short=short, W=W, H=H),
                choices=choices,
                solution=text(S, "practice.fpn.solution", short=short, H=H, scale=f"{scale:.4f}", w0=w0, h0=h0,
                              w=f"{bl.width:.1f}", h=f"{bl.height:.1f}", side=f"{bl.side:.1f}", raw=f"{raw:.3f}",
                              k=bl.level),
                setup={**_box_setup(box), "fcos.input_size": short},
                params={"box": box, "short": short}, answer=float(bl.level), tolerance=0)


_TRUE = ("gamma0_ce", "easy_down", "alpha_pos", "anchor_free", "ctr_score", "ctr_range", "level_range",
         "imbalance", "fpn_all")
_FALSE = ("gamma_easy_up", "alpha_pos_more", "anchors_9", "ctr_border", "ctr_train_only", "fpn_last",
          "largest_box", "focal_two_stage")


def fcos_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about FPN, the focal loss and FCOS (or, half the seeds, the false one)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_FOCAL_CODE = """def focal_loss(logits, targets, alpha, gamma):
    p = 1 / (1 + np.exp(-logits))
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return -alpha_t * (1 - p_t) ** gamma * np.log(p_t)"""
_FOCAL_WRONG = {
    "p_t = p * targets + (1 - p) * (1 - targets)": {
        "pt_is_p": "p_t = p",
        "pt_swapped": "p_t = (1 - p) * targets + p * (1 - targets)",
        "pt_one_minus": "p_t = 1 - p",
    },
    "alpha_t = alpha * targets + (1 - alpha) * (1 - targets)": {
        "alpha_all": "alpha_t = alpha",
        "alpha_swapped": "alpha_t = (1 - alpha) * targets + alpha * (1 - targets)",
        "alpha_pos_only": "alpha_t = alpha * targets",
    },
    "return -alpha_t * (1 - p_t) ** gamma * np.log(p_t)": {
        "pt_power": "return -alpha_t * p_t ** gamma * np.log(p_t)",
        "no_minus": "return alpha_t * (1 - p_t) ** gamma * np.log(p_t)",
        "gamma_outside": "return -alpha_t * (1 - p_t) * gamma * np.log(p_t)",
        "log_one_minus": "return -alpha_t * (1 - p_t) ** gamma * np.log(1 - p_t)",
    },
}


def focal_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of the sigmoid focal loss; the candidates are executed on drawn logits and labels
    and compared with the engine's focal_loss (= torchvision.ops.sigmoid_focal_loss)."""
    n = 6
    logits = np.round(rng.normal(0, 2, size=n), 1)
    targets = rng.integers(0, 2, size=n).astype(float)
    if targets.min() == targets.max():
        raise Redraw("both labels are needed")
    gamma = float(rng.choice((1.0, 2.0, 3.0)))
    alpha = float(rng.choice((0.25, 0.75)))
    expected = F.focal_loss(logits, targets, alpha, gamma)
    ex = Exec("focal_loss", (logits, targets, alpha, gamma), expected, atol=1e-9)
    right = list(_FOCAL_WRONG)[int(rng.integers(len(_FOCAL_WRONG)))]
    code = _FOCAL_CODE.replace(right, "____")
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _FOCAL_WRONG[right].items()
             if not matches(execute(code.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right loss on this batch")
    choices = code_choices(rng, (right, text(S, "practice.blank.right")), wrong)
    return Item(kind="blank",
                stem=text(S, "practice.blank.stem", logits=", ".join(f"{v:g}" for v in logits),
                          targets=", ".join(str(int(v)) for v in targets), alpha=f"{alpha:g}", gamma=f"{gamma:g}"),
                choices=choices, code=code,
                solution=text(S, "practice.blank.solution", line=right,
                              loss=", ".join(f"{v:.4f}" for v in expected)),
                setup={"fcos.gamma": gamma, "fcos.alpha": alpha},
                params={"logits": logits, "targets": targets, "alpha": alpha, "gamma": gamma}, exec=ex)


GENERATORS = (focal_value, centerness_value, fpn_level, fcos_statement, focal_blank)
