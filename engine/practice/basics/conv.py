"""Practice items for Basics › Convolution arithmetic (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.basics import conv as C
from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)

S = "conv"
K = "conv"                                   # the page's widget-key prefix
CHANNELS = (16, 32, 64, 128, 256, 512)       # the page's C_in / C_out select sliders
SIDES = (7, 14, 28, 56, 112)                 # the page's H_out = W_out select slider


def _int(v: float) -> str:
    return f"{int(v):,}"


def _size(v: float) -> str:
    """An output size as shown: an integer, or the unfloored fraction to two decimals."""
    return f"{int(v)}" if float(v) == int(v) else f"{v:.2f}"


# ---------------------------------------------------------------------------------------------- output size
def output_size(rng: np.random.Generator) -> Item:
    """Output width of a convolution (the STYLE.md model): distractors no padding, no floor, stride before
    padding, dilation ignored, padding on one side only, no +1."""
    n = int(rng.integers(8, 65))
    k, p, s = int(rng.choice([1, 2, 3, 3, 5, 7])), int(rng.integers(0, 5)), int(rng.integers(1, 5))
    d = int(rng.choice([1, 1, 2, 3]))
    steps = C.output_size_steps(n, k, p, s, d)
    if steps.out < 2:
        raise Redraw("the kernel does not fit")
    right = C.output_size(n, k, p, s, d)
    choices = numeric_choices(rng, right, text(S, "practice.size.right"), [
        (C.output_size(n, k, 0, s, d), text(S, "practice.size.no_padding")),
        (steps.exact, text(S, "practice.size.no_floor")),
        (C.output_size(n // s, k, p, 1, d), text(S, "practice.size.stride_first")),
        (C.output_size(n, k, p, s, 1), text(S, "practice.size.dilation_ignored")),
        ((n + p - steps.k_eff) // s + 1, text(S, "practice.size.one_side")),
        (steps.span // s, text(S, "practice.size.no_plus_one")),
        (-(-steps.span // s) + 1, text(S, "practice.size.ceil")),
    ], _size)
    return Item(kind="compute", stem=text(S, "practice.size.stem", n=n, k=k, p=p, s=s, d=d), choices=choices,
                solution=text(S, "practice.size.solution", n=n, k=k, p=p, s=s, d=d, k_eff=steps.k_eff,
                              span=steps.span, o=right,
                              tail=text(S, f"practice.size.tail_{'dropped' if steps.dropped else 'exact'}",
                                        exact=f"{steps.exact:.3g}", r=steps.dropped, s=s, span=steps.span)),
                setup={f"{K}.side": n, f"{K}.k": k, f"{K}.p": p, f"{K}.s": s, f"{K}.d": d,
                       f"{K}.colour": text(S, "colours.gray")},
                params={"n": n, "k": k, "p": p, "s": s, "d": d}, answer=float(right), tolerance=0)


# ------------------------------------------------------------------------------------------ parameter count
def param_count(rng: np.random.Generator) -> Item:
    """Parameters of one Conv2d (with bias, sometimes grouped): distractors no bias, k instead of k², groups
    ignored, a bias per weight kernel (C_in·C_out biases)."""
    c_in, c_out = int(rng.choice(CHANNELS[:5])), int(rng.choice(CHANNELS[:5]))
    k = int(rng.choice([1, 3, 3, 5, 7]))
    g = int(rng.choice([1, 1, 2, 4])) if min(c_in, c_out) >= 4 else 1
    right = C.conv_cost(c_in, c_out, k, 1, 1, g).params
    weights = k * k * (c_in // g) * c_out
    choices = numeric_choices(rng, right, text(S, "practice.params.right"), [
        (weights, text(S, "practice.params.no_bias")),
        (k * (c_in // g) * c_out + c_out, text(S, "practice.params.k_not_squared")),
        (k * k * c_in * c_out + c_out, text(S, "practice.params.groups_ignored")),
        (weights + c_in * c_out, text(S, "practice.params.bias_per_pair")),
        (k * k * c_in * c_out // (g * g) + c_out, text(S, "practice.params.groups_twice")),
    ], _int)
    stem_key = "practice.params.stem_groups" if g > 1 else "practice.params.stem"
    return Item(kind="compute", stem=text(S, stem_key, c_in=c_in, c_out=c_out, k=k, g=g), choices=choices,
                solution=text(S, "practice.params.solution", c_in=c_in, c_out=c_out, k=k, g=g, per=c_in // g,
                              w=_int(weights), p=_int(right)),
                setup={f"{K}.k": k, f"{K}.c_in": c_in, f"{K}.c_out": c_out},
                params={"c_in": c_in, "c_out": c_out, "k": k, "groups": g}, answer=float(right), tolerance=0)


def separable_macs(rng: np.random.Generator) -> Item:
    """Multiply–adds of a depthwise-separable convolution (no bias) on an H×W output: distractors the standard
    convolution's, the parameters (per pixel), the depthwise part alone, the pointwise part alone, the depthwise part
    with C_out kernels."""
    c_in, c_out = int(rng.choice(CHANNELS[:4])), int(rng.choice(CHANNELS[1:5]))
    k, hw = int(rng.choice([3, 3, 5, 7])), int(rng.choice(SIDES[:4]))
    sep = C.separable_cost(c_in, c_out, k, hw, hw, bias=False)
    right = sep.depthwise.macs + sep.pointwise.macs
    choices = numeric_choices(rng, right, text(S, "practice.sep.right"), [
        (sep.standard.macs, text(S, "practice.sep.standard")),
        (k * k * c_in + c_in * c_out, text(S, "practice.sep.no_hw")),
        (sep.depthwise.macs, text(S, "practice.sep.depthwise_only")),
        (sep.pointwise.macs, text(S, "practice.sep.pointwise_only")),
        ((k * k * c_out + c_in * c_out) * hw * hw, text(S, "practice.sep.dw_cout")),
    ], _int)
    return Item(kind="compute", stem=text(S, "practice.sep.stem", c_in=c_in, c_out=c_out, k=k, hw=hw),
                choices=choices,
                solution=text(S, "practice.sep.solution", c_in=c_in, c_out=c_out, k=k, hw=hw,
                              dw=_int(sep.depthwise.macs), pw=_int(sep.pointwise.macs), total=_int(right),
                              std=_int(sep.standard.macs), ratio=f"{sep.ratio:.3f}"),
                setup={f"{K}.k": k, f"{K}.c_in": c_in, f"{K}.c_out": c_out, f"{K}.hw": hw},
                params={"c_in": c_in, "c_out": c_out, "k": k, "hw": hw}, answer=float(right), tolerance=0)


# ----------------------------------------------------------------------------------------- receptive field
def receptive_field(rng: np.random.Generator) -> Item:
    """Receptive field of a stack of L identical layers (k, s, d constant or doubling), as on the page: distractors
    strides ignored, dilation ignored, each layer's own stride counted, L·k, the product of the kernels."""
    L, k, s = int(rng.integers(2, 6)), int(rng.integers(2, 8)), int(rng.choice([1, 2]))
    doubling = bool(rng.integers(2))
    stack = [(k, s, 2 ** l if doubling else 1) for l in range(L)]
    right = C.receptive_field(stack).r[-1]
    own = 1 + sum(d * (kk - 1) * s ** (l + 1) for l, (kk, ss, d) in enumerate(stack))
    choices = numeric_choices(rng, right, text(S, "practice.rf.right"), [
        (C.receptive_field([(kk, 1, d) for kk, _, d in stack]).r[-1], text(S, "practice.rf.no_stride")),
        (C.receptive_field([(kk, ss, 1) for kk, ss, _ in stack]).r[-1], text(S, "practice.rf.no_dilation")),
        (own, text(S, "practice.rf.own_stride")),
        (L * k, text(S, "practice.rf.sum_k")),
        (k ** L, text(S, "practice.rf.product")),
    ], _int)
    rows = "\n".join(f"| {l + 1} | {kk}×{kk} | {ss} | {d} |" for l, (kk, ss, d) in enumerate(stack))
    rf = C.receptive_field(stack)
    steps = " → ".join(f"$r_{{{l}}} = {r}$" for l, r in enumerate(rf.r))
    return Item(kind="compute", stem=text(S, "practice.rf.stem", L=L, rows=rows), choices=choices,
                solution=text(S, "practice.rf.solution", steps=steps, r=right,
                              jumps=", ".join(str(j) for j in rf.jump[:-1])),
                setup={f"{K}.rf_layers": L, f"{K}.rf_k": k, f"{K}.rf_s": s,
                       f"{K}.rf_d": text(S, "rf_dilations.doubling" if doubling else "rf_dilations.constant")},
                params={"layers": stack}, answer=float(right), tolerance=0)


# ----------------------------------------------------------------------------------- transposed convolution
def transposed_size(rng: np.random.Generator) -> Item:
    """Output side of ConvTranspose2d: distractors the convolution's formula, +2p instead of −2p, n·s, output_padding
    forgotten, the kernel's d(k − 1) forgotten."""
    n, k, s = int(rng.integers(2, 17)), int(rng.integers(2, 8)), int(rng.integers(1, 5))
    p, op = int(rng.integers(0, (k + 1) // 2 + 1)), int(rng.integers(0, s)) if s > 1 else 0
    right = C.transposed_output_size(n, k, p, s, 1, op)
    if right < 1:
        raise Redraw("no output")
    choices = numeric_choices(rng, right, text(S, "practice.tsize.right"), [
        (C.output_size(n, k, p, s), text(S, "practice.tsize.conv_formula")),
        ((n - 1) * s + 2 * p + (k - 1) + op + 1, text(S, "practice.tsize.plus_2p")),
        (n * s - 2 * p + (k - 1) + op + 1, text(S, "practice.tsize.n_times_s")),
        (C.transposed_output_size(n, k, p, s, 1, 0), text(S, "practice.tsize.no_output_padding")),
        ((n - 1) * s - 2 * p + op + 1, text(S, "practice.tsize.no_kernel")),
    ], _int)
    return Item(kind="compute", stem=text(S, "practice.tsize.stem", n=n, k=k, s=s, p=p, op=op), choices=choices,
                solution=text(S, "practice.tsize.solution", n=n, k=k, s=s, p=p, op=op, o=right),
                setup={f"{K}.t_k": k, f"{K}.t_s": s},
                params={"n": n, "k": k, "s": s, "p": p, "output_padding": op}, answer=float(right), tolerance=0)


# ------------------------------------------------------------------------------------------ im2col, executed
_IM2COL_RIGHT = """def im2col(x, k, s, p):
    C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    Ho = (H + 2*p - k) // s + 1
    Wo = (W + 2*p - k) // s + 1
    cols = np.zeros((C*k*k, Ho*Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, s*i:s*i+k, s*j:s*j+k]
            cols[:, i*Wo + j] = win.reshape(-1)
    return cols"""
_IM2COL_WRONG = {
    "channels_last": _IM2COL_RIGHT.replace("win.reshape(-1)", "win.transpose(1, 2, 0).reshape(-1)"),
    "no_stride": _IM2COL_RIGHT.replace("xp[:, s*i:s*i+k, s*j:s*j+k]", "xp[:, i:i+k, j:j+k]"),
    "no_padding": _IM2COL_RIGHT.replace("xp = np.pad(x, ((0, 0), (p, p), (p, p)))", "xp = x")
                               .replace("(H + 2*p - k)", "(H - k)").replace("(W + 2*p - k)", "(W - k)"),
    "column_order": _IM2COL_RIGHT.replace("cols[:, i*Wo + j]", "cols[:, j*Ho + i]"),
    "transposed": _IM2COL_RIGHT.replace("np.zeros((C*k*k, Ho*Wo))", "np.zeros((Ho*Wo, C*k*k))")
                               .replace("cols[:, i*Wo + j]", "cols[i*Wo + j, :]"),
}
for _name, _code in _IM2COL_WRONG.items():           # every distractor differs from the right snippet
    assert _code != _IM2COL_RIGHT, _name


def im2col_implementation(rng: np.random.Generator) -> Item:
    """Which function is im2col in torch.nn.functional.unfold's layout (rows (c, u, v), columns (i, j))? Each
    snippet is run on a small seeded input."""
    c, h, w = int(rng.integers(1, 4)), int(rng.integers(4, 8)), int(rng.integers(4, 8))
    k, s, p = int(rng.choice([2, 3])), int(rng.choice([1, 2])), int(rng.integers(0, 2))
    if h == w:
        raise Redraw("a square input hides the column order")
    x = np.round(rng.uniform(-1, 1, (c, h, w)), 2)
    expected = C.im2col(x, k, s, p)
    ex = Exec("im2col", (x, k, s, p), expected, atol=1e-12)
    wrong = [(code, text(S, f"practice.impl.{name}")) for name, code in _IM2COL_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (_IM2COL_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", c=c, h=h, w=w, k=k, s=s, p=p),
                choices=choices, solution=text(S, "practice.impl.solution", rows=expected.shape[0],
                                                cols=expected.shape[1], c=c, k=k,
                                                ho=C.output_size(h, k, p, s), wo=C.output_size(w, k, p, s)),
                setup={f"{K}.k": k, f"{K}.s": s, f"{K}.p": p, f"{K}.d": 1},
                params={"x": x, "k": k, "s": s, "p": p}, exec=ex)


# --------------------------------------------------------------------------------------------- statements
_TRUE = ("sep_ratio", "depthwise_groups", "tconv_shape", "checkerboard", "dilation_rf", "im2col_one_product",
         "pool_no_params", "cross_correlation")
_FALSE = ("tconv_inverse", "sep_same_params", "dilation_params", "pool_learns", "stride_rf_no", "im2col_less_memory",
          "checkerboard_even", "padding_params")


def conv_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about convolution arithmetic (or, half the seeds, the false one): depthwise-separable
    convolution, transposed convolution and its checkerboard, dilation, pooling, im2col."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


GENERATORS = (output_size, param_count, separable_macs, receptive_field, transposed_size, im2col_implementation,
              conv_statement)
