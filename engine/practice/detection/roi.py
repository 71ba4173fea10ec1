"""Practice items for Detection › Mask R-CNN & RoIAlign (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Choice, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    shuffled, statement_choices, text)
from engine.detection import roi as R

S = "roi"
STRIDE = 8                            # the page's feature stride: spatial_scale = 1/8


def _map_table(f: np.ndarray, axis: str) -> str:
    """A small map as a markdown table: columns x (or u) = 0…W−1, rows y = 0…H−1."""
    h, w = f.shape
    head = f"| {axis} | " + " | ".join(f"x = {j}" for j in range(w)) + " |\n|---|" + "---|" * w + "\n"
    return head + "\n".join(f"| y = {i} | " + " | ".join(f"{int(v)}" for v in row) + " |" for i, row in enumerate(f))


def _point(rng, hi: int) -> float:
    return float(rng.integers(1, 4 * hi)) / 4                 # in (0, hi), quarter steps


def _interp(f: np.ndarray, x: float, y: float) -> float:
    """The engine's bilinear interpolation of one channel at one point (index coordinates)."""
    val, _ = R.bilinear(f[None], np.array(x), np.array(y))
    return float(val[0])


def bilinear_value(rng: np.random.Generator) -> Item:
    """RoIAlign's bilinear sample F(x, y) on a 3×3 map. Distractors: the nearest value, the floored value
    (RoIPool's kind of rounding), x and y swapped, the plain mean of the four neighbours, the weights swapped."""
    f = rng.integers(0, 10, size=(3, 3)).astype(float)
    x, y = _point(rng, 2), _point(rng, 2)
    if x == int(x) and y == int(y):
        raise Redraw("a grid point: nothing to interpolate")
    right = _interp(f, x, y)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    lx, ly = x - x0, y - y0
    nearest = f[int(np.floor(y + 0.5)), int(np.floor(x + 0.5))]
    x1, y1 = min(x0 + 1, 2), min(y0 + 1, 2)
    fmt = lambda v: f"{v:.4f}"                                             # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.bilinear.right"), [
        (_interp(f, x0 + (1 - lx) if lx else x, y0 + (1 - ly) if ly else y), text(S, "practice.bilinear.swapped_w")),
        (nearest, text(S, "practice.bilinear.nearest")),
        (f[y0, x0], text(S, "practice.bilinear.floor")),
        (_interp(f.T, x, y), text(S, "practice.bilinear.xy")),
        (float(np.mean([f[y0, x0], f[y0, x1], f[y1, x0], f[y1, x1]])), text(S, "practice.bilinear.mean")),
    ], fmt)
    terms = (f"(1−{ly:g})(1−{lx:g})·{f[y0, x0]:g} + (1−{ly:g})·{lx:g}·{f[y0, x1]:g} + "
             f"{ly:g}·(1−{lx:g})·{f[y1, x0]:g} + {ly:g}·{lx:g}·{f[y1, x1]:g}")
    return Item(kind="compute", stem=text(S, "practice.bilinear.stem", x=f"{x:g}", y=f"{y:g}", table=_map_table(f, "F")),
                choices=choices,
                solution=text(S, "practice.bilinear.solution", x=f"{x:g}", y=f"{y:g}", x0=x0, y0=y0, x1=x1, y1=y1,
                              lx=f"{lx:g}", ly=f"{ly:g}", terms=terms, v=fmt(right)),
                setup={}, params={"f": f, "x": x, "y": y}, answer=right, tolerance=0.00005)


def roipool_bin(rng: np.random.Generator) -> Item:
    """One bin of RoIPool (2×2 output) on a 6×6 map at stride 8: the RoI rounded to cells, the bins split with
    floor/ceil, the max. Distractors: the RoI floored instead of rounded, the mean in place of the max, RoIAlign's
    value, the max over the whole RoI."""
    f = rng.integers(0, 20, size=(6, 6)).astype(float)
    x1, y1 = int(rng.integers(0, 17)), int(rng.integers(0, 17))
    box = (x1, y1, x1 + int(rng.integers(16, 30)), y1 + int(rng.integers(16, 30)))
    i, j = int(rng.integers(2)), int(rng.integers(2))
    pool = R.roi_pool(f[None], box, 2, 1 / STRIDE)
    right = float(pool.output[0, i, j])
    floored = np.floor(np.asarray(box) / STRIDE) * STRIDE
    bx0, by0, bx1, by1 = pool.bins[i, j]
    fmt = lambda v: f"{v:.2f}"                                             # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.pool.right"), [
        (float(R.roi_pool(f[None], floored, 2, 1 / STRIDE).output[0, i, j]), text(S, "practice.pool.floor")),
        (float(f[by0:by1, bx0:bx1].mean()), text(S, "practice.pool.mean")),
        (float(R.roi_align(f[None], box, 2, 1 / STRIDE, 2, True).output[0, i, j]), text(S, "practice.pool.align")),
        (float(R.roi_pool(f[None], box, 1, 1 / STRIDE).output[0, 0, 0]), text(S, "practice.pool.whole")),
    ], fmt)
    c = pool.roi_cells
    return Item(kind="compute",
                stem=text(S, "practice.pool.stem", box=str(box), i=i, j=j, table=_map_table(f, "F")),
                choices=choices,
                solution=text(S, "practice.pool.solution", scaled=", ".join(f"{v / STRIDE:g}" for v in box),
                              cells=", ".join(str(int(v)) for v in c), w=int(c[2] - c[0] + 1), h=int(c[3] - c[1] + 1),
                              i=i, j=j, x0=int(bx0), x1=int(bx1) - 1, y0=int(by0), y1=int(by1) - 1, v=fmt(right)),
                setup={}, params={"f": f, "box": box, "i": i, "j": j}, answer=right, tolerance=0.005)


# Mask R-CNN (torchvision's maskrcnn_resnet50_fpn) per-RoI head outputs, for R RoIs and K classes (background
# included): name -> (right shape, [(wrong shape, mistake)]). tests/detection/test_roi.py checks the right ones
# against the real model built with num_classes = K.
def _heads(R_: int, K: int) -> dict:
    return {
        "box_roi_pool": ((R_, 256, 7, 7), [((R_, 256, 14, 14), "pool_14"), ((R_, 256, 28, 28), "pool_28"),
                                           ((R_, 1024, 7, 7), "pool_1024")]),
        "box_head": ((R_, 1024), [((R_, 256, 7, 7), "head_no_fc"), ((R_, 12544), "head_flat"),
                                  ((R_, K), "head_classes")]),
        "cls_score": ((R_, K), [((R_, K - 1), "cls_no_bg"), ((R_, 4 * K), "cls_4k"), ((R_, 1), "cls_one")]),
        "bbox_pred": ((R_, 4 * K), [((R_, 4), "box_agnostic"), ((R_, K), "box_k"), ((R_, 4 * (K - 1)), "box_no_bg")]),
        "mask_roi_pool": ((R_, 256, 14, 14), [((R_, 256, 7, 7), "mpool_7"), ((R_, 256, 28, 28), "mpool_28"),
                                              ((R_, K, 14, 14), "mpool_k")]),
        "mask_predictor": ((R_, K, 28, 28), [((R_, 1, 28, 28), "mask_agnostic"), ((R_, K, 14, 14), "mask_14"),
                                             ((R_, 256, 28, 28), "mask_256")]),
    }


def _shape(s) -> str:
    return "(" + ", ".join(str(v) for v in s) + ")"


def head_shape(rng: np.random.Generator) -> Item:
    """The output shape of one stage of Mask R-CNN's heads for R RoIs and K classes. Distractors: the box branch's
    7×7 and the mask branch's 14×14 / 28×28 confused, a class-agnostic mask or box, the background forgotten."""
    R_, K = int(rng.integers(2, 65)), int(rng.choice((2, 3, 5, 11, 21, 81, 91)))
    name = list(_heads(R_, K))[int(rng.integers(6))]
    right, wrong = _heads(R_, K)[name]
    choices = [Choice(same(_shape(right)), True, text(S, "practice.heads.right"))]
    choices += [Choice(same(_shape(s)), False, text(S, f"practice.heads.{k}")) for s, k in wrong]
    if len({c.label["en"] for c in choices}) < 4:
        raise Redraw("two shapes coincide")
    return Item(kind="statement", stem=text(S, "practice.heads.stem", R=R_, K=K, stage=f"roi_heads.{name}"),
                choices=shuffled(rng, choices),
                solution=text(S, "practice.heads.solution", R=R_, K=K, K4=4 * K),
                setup={}, params={"R": R_, "K": K, "stage": name, "shape": right})


_TRUE = ("pool_rounds", "align_no_round", "align_bilinear", "mask_sigmoid", "mask_per_class", "box_7_mask_14",
         "fpn_level", "shift_smooth")
_FALSE = ("align_rounds", "pool_average", "mask_softmax", "mask_one", "large_fine", "pool_exact", "mask_56",
          "align_nearest")


def roi_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about RoIPool, RoIAlign and Mask R-CNN's mask branch (or, half the seeds, the false
    one)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_BIL_RIGHT = """def bilinear(f, x, y):
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    lx, ly = x - x0, y - y0
    return ((1 - ly) * (1 - lx) * f[y0, x0] + (1 - ly) * lx * f[y0, x0 + 1]
            + ly * (1 - lx) * f[y0 + 1, x0] + ly * lx * f[y0 + 1, x0 + 1])"""
_BIL_WRONG = {
    "swapped_weights": _BIL_RIGHT.replace("lx, ly = x - x0, y - y0", "lx, ly = x0 + 1 - x, y0 + 1 - y"),
    "transposed": _BIL_RIGHT.replace("f[y0, x0]", "f[x0, y0]").replace("f[y0, x0 + 1]", "f[x0 + 1, y0]")
                            .replace("f[y0 + 1, x0]", "f[x0, y0 + 1]").replace("f[y0 + 1, x0 + 1]", "f[x0 + 1, y0 + 1]"),
    "rounded": _BIL_RIGHT.replace("int(np.floor(x)), int(np.floor(y))", "int(np.round(x)), int(np.round(y))"),
    "nearest": _BIL_RIGHT.replace(
        """    return ((1 - ly) * (1 - lx) * f[y0, x0] + (1 - ly) * lx * f[y0, x0 + 1]
            + ly * (1 - lx) * f[y0 + 1, x0] + ly * lx * f[y0 + 1, x0 + 1])""",
        """    return f[y0 + int(ly >= 0.5), x0 + int(lx >= 0.5)]"""),
    "additive": _BIL_RIGHT.replace(
        """    return ((1 - ly) * (1 - lx) * f[y0, x0] + (1 - ly) * lx * f[y0, x0 + 1]
            + ly * (1 - lx) * f[y0 + 1, x0] + ly * lx * f[y0 + 1, x0 + 1])""",
        """    return ((1 - lx) * f[y0, x0] + lx * f[y0, x0 + 1]
            + (1 - ly) * f[y0, x0] + ly * f[y0 + 1, x0]) / 2"""),
}


def bilinear_implementation(rng: np.random.Generator) -> Item:
    """Which function is RoIAlign's bilinear sample? Each snippet is executed on a drawn 4×4 map at an interior
    point and compared with the engine's `bilinear`."""
    f = rng.integers(0, 10, size=(4, 4)).astype(float)
    x, y = float(rng.integers(1, 11)) / 4 + 0.125, float(rng.integers(1, 11)) / 4 + 0.125     # inside (0, 3)
    expected = _interp(f, x, y)
    ex = Exec("bilinear", (f, x, y), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.impl.{k}")) for k, code in _BIL_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (_BIL_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", x=f"{x:g}", y=f"{y:g}"), choices=choices,
                solution=text(S, "practice.impl.solution", v=f"{expected:.4f}", x=f"{x:g}", y=f"{y:g}"),
                setup={}, params={"f": f, "x": x, "y": y}, exec=ex)


GENERATORS = (bilinear_value, roipool_bin, head_shape, roi_statement, bilinear_implementation)
