"""Practice items for Engineering › Model compression (format: engine/common/practice.py). Every answer comes from
engine/engineering/compression.py: `qparams` / `quantize` / `dequantize` (torch's MinMaxObserver and
quantize_per_tensor in the tests), `soft_targets`, `shrunk_params` and `n_to_prune` (torch.nn.utils.prune's rule)."""
from __future__ import annotations

import math

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.engineering import compression as C

S = "compression"
AMOUNTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)       # on the page's amount slider
TEMPS = (2.0, 4.0, 8.0)                                       # on the page's T slider (T = 1 is no softening)


def _i(v: float) -> str:
    return f"{int(round(v))}"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def zero_point(rng: np.random.Generator) -> Item:
    """The scale and zero-point of an affine int8 quantisation from a range [lo, hi]; the question asks for z.
    Distractors: the uint8 zero-point, 256 levels instead of 255, the sign of lo/s flipped, truncation."""
    lo = -round(float(rng.uniform(0.1, 4.0)), 1)
    hi = round(float(rng.uniform(0.5, 6.0)), 1)
    qp = C.qparams(np.array([lo, hi], np.float32), "affine")
    right = qp.zero_point
    s = qp.scale
    s256 = (hi - lo) / 256
    mistakes = [
        (-round(lo / s), text(S, "practice.zp.uint8")),
        (-128 - round(lo / s256), text(S, "practice.zp.levels")),
        (-128 + round(lo / s), text(S, "practice.zp.sign")),
        (-128 - math.trunc(lo / s), text(S, "practice.zp.trunc")),
        (127 - round(hi / s), text(S, "practice.zp.from_hi")),
        (round(lo / s), text(S, "practice.zp.no_qmin")),
    ]
    if abs(lo / s - round(lo / s)) > 0.45:
        raise Redraw("lo/s too close to a half: rounding by hand is ambiguous")
    choices = numeric_choices(rng, right, text(S, "practice.zp.right"), mistakes, _i)
    return Item(kind="compute", stem=text(S, "practice.zp.stem", lo=lo, hi=hi),
                choices=choices,
                solution=text(S, "practice.zp.solution", lo=lo, hi=hi, s=f"{s:.6f}", r=f"{lo / s:.3f}",
                              z=right),
                setup={"compression.scheme": text(S, "schemes.affine")},
                params=dict(lo=lo, hi=hi), answer=float(right), tolerance=0.5)


def quantize_value(rng: np.random.Generator) -> Item:
    """q = clamp(round(x/s) + z, −128, 127) and ŵ for given s, z, x. Distractors: z left out, z subtracted, x·s,
    floor instead of round, no clamp."""
    s = float(rng.choice([0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5]))
    z = int(rng.integers(-40, 41))
    clip = rng.random() < 0.2
    r = float(rng.uniform(-150, 150)) if clip else float(rng.uniform(-100, 100))
    x = round(r * s, 3)
    if abs(x / s - math.floor(x / s) - 0.5) < 0.05:
        raise Redraw("x/s too close to a half")
    qp = C.QParams(s, z, 0.0, 0.0)
    right = int(C.quantize(np.array([x], np.float32), qp)[0])
    mistakes = [
        (max(-128, min(127, round(x / s))), text(S, "practice.qv.no_z")),
        (max(-128, min(127, round(x / s) - z)), text(S, "practice.qv.minus_z")),
        (round(x / s) + z, text(S, "practice.qv.no_clamp")),
        (max(-128, min(127, math.floor(x / s) + z)), text(S, "practice.qv.floor")),
        (max(-128, min(127, round(x * s) + z)), text(S, "practice.qv.times")),
        (max(-128, min(127, math.ceil(x / s) + z)), text(S, "practice.qv.floor")),
    ]
    choices = numeric_choices(rng, right, text(S, "practice.qv.right"), mistakes, _i)
    xh = float(C.dequantize(np.array([right]), qp)[0])
    return Item(kind="compute", stem=text(S, "practice.qv.stem", s=s, z=z, x=x), choices=choices,
                solution=text(S, "practice.qv.solution", s=s, z=z, x=x, r=f"{x / s:.3f}", raw=round(x / s) + z,
                              q=right, xh=f"{xh:.4g}"),
                params=dict(s=s, z=z, x=x), answer=float(right), tolerance=0.5)


def soft_target(rng: np.random.Generator) -> Item:
    """The teacher's probability of one class at temperature T from three logits. Distractors: T ignored (the
    softmax), logits multiplied by T, exp(z/T) not normalised, z/T normalised without exp."""
    z = [int(v) for v in rng.choice(np.arange(-2, 6), 3, replace=False)]
    T = float(rng.choice(TEMPS))
    k = int(rng.integers(3))
    right = float(C.soft_targets(np.array(z, float), T)[k])
    e = np.exp(np.array(z, float) / T)
    pos = np.array(z, float) - min(z) + 1
    mistakes = [
        (float(C.soft_targets(np.array(z, float), 1.0)[k]), text(S, "practice.soft.no_T")),
        (float(C.soft_targets(np.array(z, float) * T, 1.0)[k]), text(S, "practice.soft.times_T")),
        (float(e[k]) if e[k] < 10 else None, text(S, "practice.soft.no_norm")),
        (float(pos[k] / pos.sum()), text(S, "practice.soft.linear")),
        (float(C.soft_targets(np.array(z, float), 1.0)[k]) / T, text(S, "practice.soft.div_T")),
        (1 / 3, text(S, "practice.soft.uniform")),
    ]
    choices = numeric_choices(rng, right, text(S, "practice.soft.right"), mistakes, _f4)
    zs = ", ".join(str(v) for v in z)
    return Item(kind="compute", stem=text(S, "practice.soft.stem", z=zs, T=f"{T:g}", zk=z[k]), choices=choices,
                solution=text(S, "practice.soft.solution", z=zs, T=f"{T:g}", zk=z[k],
                              e=", ".join(f"{v:.4f}" for v in e), total=f"{e.sum():.4f}", ans=_f4(right)),
                setup={"compression.T": T}, params=dict(z=z, T=T, k=k), answer=right, tolerance=5e-4)


def structured_params(rng: np.random.Generator) -> Item:
    """Parameters left after structured pruning of an MLP's hidden units, the pruned units removed. Distractors:
    the next layer's inputs not removed, biases forgotten, the output layer pruned too, the share applied to all
    parameters."""
    d = int(rng.choice([16, 20, 32, 64, 100]))
    h1, h2 = (int(v) for v in rng.choice([10, 20, 40, 50, 60, 80, 100], 2))
    c = int(rng.choice([3, 5, 10]))
    a = float(rng.choice(AMOUNTS))
    sizes = (d, h1, h2, c)
    right = C.shrunk_params(sizes, a)
    k1, k2 = h1 - C.n_to_prune(a, h1), h2 - C.n_to_prune(a, h2)
    total = d * h1 + h1 + h1 * h2 + h2 + h2 * c + c
    rows_only = d * k1 + k1 + h1 * k2 + k2 + h2 * c + c
    no_bias = d * k1 + k1 * k2 + k2 * c
    kc = c - C.n_to_prune(a, c)
    out_too = d * k1 + k1 + k1 * k2 + k2 + k2 * kc + kc
    mistakes = [(rows_only, text(S, "practice.sp.rows_only")), (no_bias, text(S, "practice.sp.no_bias")),
                (out_too, text(S, "practice.sp.out_too")), (round(total * (1 - a)), text(S, "practice.sp.share")),
                (total - right, text(S, "practice.sp.removed"))]
    choices = numeric_choices(rng, right, text(S, "practice.sp.right"), mistakes, _i)
    return Item(kind="compute", stem=text(S, "practice.sp.stem", d=d, h1=h1, h2=h2, c=c, pct=f"{100 * a:g}"),
                choices=choices,
                solution=text(S, "practice.sp.solution", d=d, h1=h1, h2=h2, c=c, k1=k1, k2=k2, pct=f"{100 * a:g}",
                              ans=right),
                setup={"compression.amount": a}, params=dict(sizes=list(sizes), amount=a), answer=float(right),
                tolerance=0.5)


_TRUE = ("unstructured_kernels", "structured_dense", "zero_exact", "quarter", "t2_scale", "high_T_flat",
         "alpha_zero", "ptq_calib", "mask_held")
_FALSE = ("unstructured_fast", "t2_sharpen", "high_T_sharp", "same_arch", "error_full_step", "vq_same",
          "symmetric_relu", "qat_needed", "finetune_regrow")


def statement(rng: np.random.Generator) -> Item:
    """True / false statements on pruning, quantisation and distillation (incl. the course notes' 量子化, which is
    VQ-VAE's vector quantisation, not int8 weights); half the time the false one is asked for."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_QCODE = """def fake_quantize(x, qmin, qmax):
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    s = (hi - lo) / (qmax - qmin)
    z = int(np.clip(qmin - np.round(lo / s), qmin, qmax))
    q = np.clip(np.round(x / s) + z, qmin, qmax)
    return s * (q - z)"""
_QLINES = _QCODE.split("\n")[1:6]
_QWRONG = {
    0: ["lo, hi = x.min(), x.max()", "lo, hi = -np.abs(x).max(), np.abs(x).max()", "lo, hi = 0.0, x.max()"],
    1: ["s = (hi - lo) / (qmax - qmin + 1)", "s = (qmax - qmin) / (hi - lo)", "s = hi / (qmax - qmin)",
        "s = (hi - lo) / qmax"],
    2: ["z = int(np.clip(-np.round(lo / s), qmin, qmax))", "z = int(np.clip(qmin + np.round(lo / s), qmin, qmax))",
        "z = int(np.clip(qmax - np.round(hi / s) + 1, qmin, qmax))", "z = 0"],
    3: ["q = np.clip(np.round(x / s) - z, qmin, qmax)", "q = np.clip(np.floor(x / s) + z, qmin, qmax)",
        "q = np.clip(np.round(x * s) + z, qmin, qmax)", "q = np.clip(np.round(x / s + z * s), qmin, qmax)"],
    4: ["return s * q", "return (q - z) / s", "return s * (q + z)", "return q"],
}


def quant_blank(rng: np.random.Generator) -> Item:
    """Affine fake quantisation (quantise then dequantise) with one line missing; every candidate executed on
    drawn values and compared with the engine's dequantize(quantize(x))."""
    j = int(rng.integers(len(_QLINES)))
    qmin, qmax = ((-128, 127), (0, 255))[int(rng.integers(2))]
    lo, hi = sorted(float(v) for v in rng.uniform(-3, 3, 2))
    if rng.random() < 0.25:                                  # all positive (a ReLU output): 0 still in the range
        lo, hi = abs(lo) * 0.2, abs(hi) + 0.5
    x = np.round(rng.uniform(lo, hi, 6), 2)
    qp = C.qparams(x.astype(np.float32), "affine", qmin, qmax)
    expected = C.dequantize(C.quantize(x.astype(np.float32), qp), qp).astype(float)
    ex = Exec("fake_quantize", (x, qmin, qmax), expected, atol=1e-4)
    code = "\n".join([_QCODE.split("\n")[0]] + [("    ____" if i == j else ln) for i, ln in enumerate(_QLINES)])
    if not matches(execute(code.replace("____", _QLINES[j].strip()), ex), ex):
        raise Redraw("float64 and float32 round a value differently here")
    wrong = [(w, text(S, f"practice.blank.w{j}")) for w in _QWRONG[j]
             if not matches(execute(code.replace("____", w), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right answer here")
    choices = code_choices(rng, (_QLINES[j].strip(), text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", qmin=qmin, qmax=qmax,
                                        x=", ".join(f"{v:g}" for v in x)),
                choices=choices, code=code, solution=text(S, "practice.blank.solution", line=_QLINES[j].strip()),
                setup={"compression.scheme": text(S, "schemes.affine")},
                params=dict(line=j, x=x.tolist(), qmin=qmin, qmax=qmax), exec=ex)


GENERATORS = (zero_point, quantize_value, soft_target, structured_params, statement, quant_blank)
