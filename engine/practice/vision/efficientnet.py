"""Practice items for Vision › EfficientNet & compound scaling (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.vision import efficientnet as E

S = "efficientnet"
K = "efficientnet"                 # the page's widget-key prefix
WHAT = ("flops", "resolution", "width", "depth")


def _bases(rng) -> tuple[float, float, float]:
    """The paper's α, β, γ half the time, otherwise bases on the page's slider grid (0.05 steps in [1, 1.5])."""
    if rng.integers(2):
        return E.PAPER_ALPHA, E.PAPER_BETA, E.PAPER_GAMMA
    while True:                     # near the paper's constraint α·β²·γ² ≈ 2
        a, b, g = (round(float(v), 2) for v in rng.choice(np.arange(1.05, 1.46, 0.05), 3))
        if 1.7 <= E.constraint_value(a, b, g) <= 2.3:
            return a, b, g


def compound_value(rng: np.random.Generator) -> Item:
    """Compound scaling at (α, β, γ, φ): the FLOPs factor (α·β²·γ²)^φ, the input side 224·γ^φ, the width β^φ or
    the depth α^φ. Distractors: the squares forgotten, a base swapped, φ multiplied instead of raised to, 2^φ."""
    alpha, beta, gamma = _bases(rng)
    phi = float(rng.choice(np.arange(1.0, 7.5, 0.5)))
    what = WHAT[int(rng.integers(len(WHAT)))]
    d, w, r = E.compound_scaling(alpha, beta, gamma, phi)
    c = E.constraint_value(alpha, beta, gamma)
    if what == "flops":
        right = E.flops_factor(alpha, beta, gamma, phi)
        fmt = lambda v: f"{v:.2f}"                                          # noqa: E731
        mistakes = [((alpha * beta * gamma) ** phi, "no_squares"),
                    (E.budget_target(phi), "two_phi"),
                    (c * phi, "times_phi"),
                    ((alpha ** 2 * beta * gamma) ** phi, "depth_squared"),
                    ((alpha * beta ** 2 * gamma) ** phi, "one_square")]
    elif what == "resolution":
        right = E.scaled_resolution(r)
        fmt = lambda v: f"{int(round(v))}"                                  # noqa: E731
        mistakes = [(E.scaled_resolution(gamma * phi), "times_phi"),
                    (E.scaled_resolution(gamma ** (2 * phi)), "squared"),
                    (E.scaled_resolution(beta ** phi), "wrong_base"),
                    (E.scaled_resolution(alpha ** phi), "wrong_base"),
                    (E.scaled_resolution(r ** 0.5), "sqrt")]
    else:
        right = w if what == "width" else d
        other = d if what == "width" else w
        base = beta if what == "width" else alpha
        fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
        mistakes = [(other, "wrong_base"), (base * phi, "times_phi"), (base ** (2 * phi), "squared"),
                    (r, "wrong_base"), (base ** (phi + 1), "phi_plus_one")]
    choices = numeric_choices(rng, right, text(S, f"practice.compound.right_{what}"),
                              [(v, text(S, f"practice.compound.{k}")) for v, k in mistakes], fmt)
    return Item(kind="compute",
                stem=text(S, f"practice.compound.stem_{what}", alpha=alpha, beta=beta, gamma=gamma, phi=phi),
                choices=choices,
                solution=text(S, "practice.compound.solution", alpha=alpha, beta=beta, gamma=gamma, phi=phi,
                              d=f"{d:.3f}", w=f"{w:.3f}", r=f"{r:.3f}", res=E.scaled_resolution(r), c=f"{c:.4f}",
                              flops=f"{E.flops_factor(alpha, beta, gamma, phi):.2f}",
                              two=f"{E.budget_target(phi):.2f}"),
                setup={f"{K}.alpha": alpha, f"{K}.beta": beta, f"{K}.gamma": gamma, f"{K}.phi": phi},
                params={"alpha": alpha, "beta": beta, "gamma": gamma, "phi": phi, "what": what},
                answer=float(right), tolerance=0.005 if what == "flops" else (0 if what == "resolution" else 0.0005))


# B0's MBConv stages 2–7 (Table 1): expand ratio, kernel, C_in of the first block, C_out
_B0 = {2: (6, 3, 16, 24), 3: (6, 5, 24, 40), 4: (6, 3, 40, 80), 5: (6, 5, 80, 112), 6: (6, 5, 112, 192),
       7: (6, 3, 192, 320)}


def _mbconv(e: int, k: int, c_in: int, c_out: int, *, full_dw=False, se_from_expanded=False, no_expand=False,
            se_no_bias=False) -> int:
    """Weights of an MBConv by the engine's conv_params (BN left out): expand 1×1, depthwise k×k, SE's two 1×1
    FCs (biases; C_in/4 squeeze channels, as torchvision), project 1×1. The flags are the typical mistakes."""
    ch = e * c_in
    sq = max(1, (ch if se_from_expanded else c_in) // 4)
    expand = 0 if no_expand else E.conv_params(c_in, ch, 1)
    dw = E.conv_params(ch, ch, k) if full_dw else E.conv_params(ch, ch, k, groups=ch)
    se = E.conv_params(ch, sq, 1, bias=not se_no_bias) + E.conv_params(sq, ch, 1, bias=not se_no_bias)
    return expand + dw + se + E.conv_params(ch, c_out, 1)


def mbconv_params(rng: np.random.Generator) -> Item:
    """Parameters of one MBConv block with SE (BN left out). Distractors: the depthwise convolution counted as an
    ordinary one, the SE squeeze computed from the expanded channels, the expand 1×1 forgotten, the SE biases
    forgotten."""
    if rng.integers(2):
        stage = int(rng.integers(2, 8))
        repeat = bool(rng.integers(2)) and stage != 7             # B0's stage 7 has a single block
        e, k, c_in, c_out = _B0[stage]
        if repeat:
            c_in = c_out
        # B0 (φ = 0); the stage select box and the first/repeat radio are bound by their labels (the page's
        # f"{i} · {operator}" and its `which` words)
        setup = {f"{K}.phi": 0.0, f"{K}.stage": f"{stage} · MBConv{e}, k{k}x{k}",
                 f"{K}.which": text(S, "which.repeat" if repeat else "which.first")}
    else:
        e, k = int(rng.choice((4, 6))), int(rng.choice((3, 5)))
        c_in, c_out = (int(v) for v in rng.choice((16, 24, 32, 40, 48, 64, 80), 2))
        setup = {}
    ch, sq = e * c_in, max(1, c_in // 4)
    right = _mbconv(e, k, c_in, c_out)
    fmt = lambda v: f"{int(v):,}"                                           # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.mbconv.right"), [
        (_mbconv(e, k, c_in, c_out, full_dw=True), text(S, "practice.mbconv.full_dw")),
        (_mbconv(e, k, c_in, c_out, se_from_expanded=True), text(S, "practice.mbconv.se_expanded")),
        (_mbconv(e, k, c_in, c_out, no_expand=True), text(S, "practice.mbconv.no_expand")),
        (_mbconv(e, k, c_in, c_out, se_no_bias=True), text(S, "practice.mbconv.se_no_bias")),
    ], fmt)
    parts = dict(expand=E.conv_params(c_in, ch, 1), dw=E.conv_params(ch, ch, k, groups=ch),
                 fc1=E.conv_params(ch, sq, 1, bias=True), fc2=E.conv_params(sq, ch, 1, bias=True),
                 project=E.conv_params(ch, c_out, 1))
    return Item(kind="compute",
                stem=text(S, "practice.mbconv.stem", e=e, k=k, c_in=c_in, c_out=c_out, ch=ch, sq=sq),
                choices=choices,
                solution=text(S, "practice.mbconv.solution", e=e, k=k, c_in=c_in, c_out=c_out, ch=ch, sq=sq,
                              total=fmt(right), **{n: f"{v:,}" for n, v in parts.items()}),
                setup=setup, params={"expand_ratio": e, "kernel": k, "c_in": c_in, "c_out": c_out},
                answer=float(right), tolerance=0)


_TRUE = ("flops_square", "two_phi", "grid_once", "se_sigmoid", "se_squeeze", "depthwise", "presets_rounded",
         "skip_rule", "projection_linear")
_FALSE = ("flops_linear", "width_double", "se_softmax", "se_max", "presets_exact", "research_each_phi",
          "depthwise_full", "b0_grid", "only_width_squared", "skip_always")


def effnet_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about compound scaling, MBConv and SE (or, half the seeds, the false one); the
    false ones include the course notes' shortcuts the page corrects (B0 from the grid search, width alone
    weighted more) and the belief that torchvision's B1–B7 are exactly α^φ, β^φ."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_SE_RIGHT = """def se(u, w1, b1, w2, b2):
    z = u.mean(axis=(1, 2))
    a = z @ w1.T + b1
    a = a / (1 + np.exp(-a))
    s = 1 / (1 + np.exp(-(a @ w2.T + b2)))
    return u * s[:, None, None]"""
_SE_WRONG = {
    "max_squeeze": _SE_RIGHT.replace("z = u.mean(axis=(1, 2))", "z = u.max(axis=(1, 2))"),
    "softmax": _SE_RIGHT.replace("s = 1 / (1 + np.exp(-(a @ w2.T + b2)))",
                                 "s = np.exp(a @ w2.T + b2)\n    s = s / s.sum()"),
    "no_gate": _SE_RIGHT.replace("s = 1 / (1 + np.exp(-(a @ w2.T + b2)))", "s = a @ w2.T + b2"),
    "spatial_squeeze": _SE_RIGHT.replace("z = u.mean(axis=(1, 2))", "z = u.mean(axis=0).ravel()"),
    "add_not_scale": _SE_RIGHT.replace("return u * s[:, None, None]", "return u + s[:, None, None]"),
    "sum_squeeze": _SE_RIGHT.replace("z = u.mean(axis=(1, 2))", "z = u.sum(axis=(1, 2))"),
}


def se_implementation(rng: np.random.Generator) -> Item:
    """Which function is EfficientNet's squeeze-and-excitation (GAP → FC → SiLU → FC → sigmoid → scale)? Each
    snippet is executed on a drawn feature map and weights and compared with the engine's squeeze_excitation."""
    import torch

    C, r, H = int(rng.choice((4, 6, 8))), 2, int(rng.choice((2, 3, 4)))
    if H * H == C:
        raise Redraw("the spatial squeeze would have the channel count's shape")
    cr = C // r
    u = np.round(rng.normal(size=(C, H, H)), 1)
    w1, w2 = np.round(rng.normal(size=(cr, C)), 1), np.round(rng.normal(size=(C, cr)), 1)
    b1, b2 = np.round(rng.normal(size=cr), 1), np.round(rng.normal(size=C), 1)
    t = lambda a: torch.tensor(a, dtype=torch.float64)                          # noqa: E731
    res = E.squeeze_excitation(t(u), t(w1)[:, :, None, None], t(b1), t(w2)[:, :, None, None], t(b2))
    ex = Exec("se", (u, w1, b1, w2, b2), res.x_tilde, atol=1e-9)
    wrong = [(code, text(S, f"practice.se.{k}")) for k, code in _SE_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (_SE_RIGHT, text(S, "practice.se.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.se.stem", C=C, H=H, cr=cr), choices=choices,
                solution=text(S, "practice.se.solution", z=", ".join(f"{v:.3f}" for v in res.z),
                              s=", ".join(f"{v:.3f}" for v in res.s)),
                setup={}, params={"u": u, "w1": w1, "b1": b1, "w2": w2, "b2": b2}, exec=ex)


GENERATORS = (compound_value, mbconv_params, effnet_statement, se_implementation)
