"""Practice items for Detection › IoU, NMS & anchors (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    pick_choices, text)
from engine.detection import boxes as B

S = "boxes"
W, H = 320, 213            # the page's working image at its default photo (chelsea 451×300 → 320×213)


def _box(rng) -> tuple[int, int, int, int]:
    x1, y1 = int(rng.integers(0, W - 80)), int(rng.integers(0, H - 60))
    return x1, y1, int(x1 + rng.integers(20, 120)) if x1 + 120 <= W else W, int(min(H, y1 + rng.integers(20, 100)))


def _setup(a, b) -> dict:
    """The page's two box sliders (range sliders: [lo, hi]), keyed by the default image's size."""
    size = f"{W}x{H}"
    return {f"boxes.truth.x.{size}": [a[0], a[2]], f"boxes.truth.y.{size}": [a[1], a[3]],
            f"boxes.pred.x.{size}": [b[0], b[2]], f"boxes.pred.y.{size}": [b[1], b[3]]}


def iou_value(rng: np.random.Generator) -> Item:
    """Compute IoU of two boxes; distractors: the union without subtracting the intersection, the intersection
    over the smaller box, intersection over the truth box."""
    a, b = _box(rng), _box(rng)
    p = B.iou_parts(a, b)
    if p.inter <= 0:
        raise Redraw("apart")
    fmt = lambda v: f"{v:.3f}"                                         # noqa: E731
    choices = numeric_choices(rng, p.iou, text(S, "practice.iou.right"), [
        (p.inter / (p.area_a + p.area_b), text(S, "practice.iou.no_subtract")),
        (p.inter / min(p.area_a, p.area_b), text(S, "practice.iou.over_min")),
        (p.inter / p.area_a, text(S, "practice.iou.over_truth")),
        (p.inter / max(p.area_a, p.area_b), text(S, "practice.iou.over_max")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.iou.stem", a=str(a), b=str(b)), choices=choices,
                solution=text(S, "practice.iou.solution", area_a=f"{p.area_a:.0f}", area_b=f"{p.area_b:.0f}",
                              inter=f"{p.inter:.0f}", union=f"{p.union:.0f}", iou=fmt(p.iou)),
                setup=_setup(a, b), params={"a": a, "b": b}, answer=p.iou, tolerance=0.0005)


def nms_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about IoU and NMS, or (half the seeds) the false one."""
    true = [(text(S, f"practice.nms.true.{k}"), k) for k in
            ("greedy", "higher_thr_keeps_more", "classwise", "iou_scale", "union_formula")]
    false = [(text(S, f"practice.nms.false.{k}"), k) for k in
             ("lower_thr_keeps_more", "nms_merges", "iou_sum", "agnostic_same", "first_lowest", "iou_over_one")]
    invert = bool(rng.integers(2))
    if invert:      # the false statement is the answer; the true ones are wrong picks for this question
        choices = pick_choices(rng, [(lbl, text(S, f"practice.nms.why.{k}")) for lbl, k in false],
                               [(lbl, text(S, "practice.nms.true_not_asked")) for lbl, _ in true])
    else:
        choices = pick_choices(rng, [(lbl, text(S, "practice.nms.is_true")) for lbl, _ in true],
                               [(lbl, text(S, f"practice.nms.why.{k}")) for lbl, k in false])
    return Item(kind="statement", stem=text(S, "practice.nms.stem_false" if invert else "practice.nms.stem_true"),
                choices=choices, solution=text(S, "practice.nms.solution"),
                setup={"boxes.nms_threshold": 0.5})


_IOU_RIGHT = """def iou(a, b):
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter)"""
_IOU_WRONG = {
    "no_clip": _IOU_RIGHT.replace("max(0, min(a[2], b[2]) - max(a[0], b[0]))", "min(a[2], b[2]) - max(a[0], b[0])")
                         .replace("max(0, min(a[3], b[3]) - max(a[1], b[1]))", "min(a[3], b[3]) - max(a[1], b[1])"),
    "no_subtract": _IOU_RIGHT.replace("(area_a + area_b - inter)", "(area_a + area_b)"),
    "swapped_minmax": _IOU_RIGHT.replace("min(a[2], b[2]) - max(a[0], b[0])", "max(a[2], b[2]) - min(a[0], b[0])")
                                .replace("min(a[3], b[3]) - max(a[1], b[1])", "max(a[3], b[3]) - min(a[1], b[1])"),
    "wh_as_corner": _IOU_RIGHT.replace("area_a = (a[2] - a[0]) * (a[3] - a[1])", "area_a = a[2] * a[3]")
                              .replace("area_b = (b[2] - b[0]) * (b[3] - b[1])", "area_b = b[2] * b[3]"),
}


def iou_implementation(rng: np.random.Generator) -> Item:
    """Which function computes IoU? Each snippet is run on two boxes that are apart (the clip matters) or overlap."""
    a, b = _box(rng), _box(rng)
    expected = float(B.box_iou(a, b)[0, 0])
    ex = Exec("iou", (a, b), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{name}")) for name, code in _IOU_WRONG.items()
             if not matches(execute(code, ex), ex)]            # a distractor that happens to be right is left out
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (_IOU_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", a=str(a), b=str(b)), choices=choices,
                solution=text(S, "practice.impl.solution", iou=f"{expected:.4f}"), setup=_setup(a, b),
                params={"a": a, "b": b}, exec=ex)


_NMS_CODE = """def nms(boxes, scores, thr):
    order = np.argsort(-scores)
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        ious = np.array([iou(boxes[i], boxes[j]) for j in order[1:]])
____
    return keep

def iou(a, b):
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)"""
_NMS_LINES = {
    "right": "        order = order[1:][ious <= thr]",
    "keep_overlapping": "        order = order[1:][ious > thr]",
    "iou_vs_score": "        order = order[1:][scores[order[1:]] <= thr]",
    "no_advance": "        order = order[1:]",
}


def nms_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of greedy NMS; the candidates are executed on a drawn scene."""
    n = int(rng.integers(5, 9))
    base = np.array([_box(rng) for _ in range(2)], dtype=float)
    boxes = np.array([base[rng.integers(2)] + rng.integers(-12, 13, size=4) for _ in range(n)], dtype=float)
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 8)
    scores = np.round(rng.uniform(0.3, 0.99, size=n), 2)
    if len(set(scores.tolist())) < n:
        raise Redraw("tied scores")
    thr = float(rng.choice([0.3, 0.4, 0.5, 0.6, 0.7]))
    keep = B.nms(boxes, scores, thr)
    ex = Exec("nms", (boxes, scores, thr), np.asarray(keep, dtype=float), atol=0)
    lines = {k: v for k, v in _NMS_LINES.items() if k != "right"}
    wrong = [(line, text(S, f"practice.blank.{k}")) for k, line in lines.items()
             if not matches(execute(_NMS_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right answer on this scene")
    choices = code_choices(rng, (_NMS_LINES["right"].strip(), text(S, "practice.blank.right")),
                           [(c.strip(), f) for c, f in wrong])
    code = _NMS_CODE.replace("____", "        ____")
    rows = "\n".join(f"| {i} | {tuple(int(v) for v in bx)} | {s:.2f} |" for i, (bx, s) in enumerate(zip(boxes, scores)))
    return Item(kind="blank", stem=text(S, "practice.blank.stem", thr=f"{thr:.1f}", rows=rows), choices=choices,
                code=code, solution=text(S, "practice.blank.solution", keep=str(list(map(int, keep)))),
                setup={"boxes.nms_threshold": thr}, params={"boxes": boxes, "scores": scores, "thr": thr},
                exec=Exec("nms", ex.args, ex.expected, atol=0))


GENERATORS = (iou_value, nms_statement, iou_implementation, nms_blank)
