"""Practice items for Generative › Pix2Pix & CycleGAN (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.common.practice import (Choice, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    shuffled, statement_choices, text)
from engine.generative import pix2pix as pp

S = "pix2pix"
LAMBDAS_L1 = (1.0, 10.0, 100.0)          # the page's λ options (0 aside)


def _vec(a) -> str:
    return "(" + ", ".join(f"{float(t):g}" for t in np.ravel(a)) + ")"


# -------------------------------------------------------------------------------------- Pix2Pix's G objective
def p2p_loss_value(rng: np.random.Generator) -> Item:
    """L_G = −E[log D(x, G(x))] + λ·E|y − G(x)| over a 2×2 PatchGAN map and four pixels; distractors: λ on the
    adversarial term, the L1 summed, L2 for L1, the saturating log(1 − D), λ left out."""
    p = rng.choice(np.arange(0.1, 0.95, 0.05), 4).round(2)                 # D's patch outputs σ(logit)
    y = np.round(rng.uniform(-1, 1, 4), 1)
    g = np.round(rng.uniform(-1, 1, 4), 1)
    lam = float(rng.choice(LAMBDAS_L1))
    if np.allclose(y, g):
        raise Redraw("G(x) = y")
    logits = torch.tensor(np.log(p / (1 - p))).reshape(1, 1, 2, 2)       # the logits whose σ are the p shown
    fake, target = torch.tensor(g).reshape(1, 1, 2, 2), torch.tensor(y).reshape(1, 1, 2, 2)
    total, adv, l1 = (float(t) for t in pp.pix2pix_losses(logits, fake, target, lam))   # the chapter's engine
    l2 = float(((y - g) ** 2).mean())
    sat = float(np.log(1 - p).mean())
    choices = numeric_choices(rng, total, text(S, "practice.loss.right"), [
        (lam * adv + l1, text(S, "practice.loss.lambda_on_adv")),
        (adv + lam * 4 * l1, text(S, "practice.loss.l1_summed")),
        (adv + lam * l2, text(S, "practice.loss.l2")),
        (sat + lam * l1, text(S, "practice.loss.saturating")),
        (adv + l1, text(S, "practice.loss.no_lambda")),
    ], lambda v: f"{v:.3f}")
    return Item(kind="compute",
                stem=text(S, "practice.loss.stem", p=_vec(p), y=_vec(y), g=_vec(g), lam=f"{lam:g}"),
                choices=choices,
                solution=text(S, "practice.loss.solution", p=_vec(p), adv=f"{adv:.4f}", diff=_vec(np.abs(y - g)),
                              l1=f"{l1:.4f}", lam=f"{lam:g}", out=f"{total:.3f}"),
                setup={"pix2pix.lambda_l1": [same(str(lam))]},   # a select_slider: a list of its labels
                params={"p": p.tolist(), "y": y.tolist(), "g": g.tolist(), "lam": lam}, answer=total,
                tolerance=0.0005)


def _affine(a: float, b: float, var: str) -> str:
    """a·var + b as written by hand: 'x + 2', '−0.5y', '2x − 1'."""
    lead = {1.0: var, -1.0: f"−{var}"}.get(a, f"{a:g}{var}".replace("-", "−"))
    return lead if b == 0 else f"{lead} {'+' if b > 0 else '−'} {abs(b):g}"


# ------------------------------------------------------------------------------------- CycleGAN's two losses
def cycle_loss_value(rng: np.random.Generator) -> Item:
    """L_cyc or L_id for 1-D affine generators G(x) = ax + b, F(y) = cy + d on three points per domain;
    distractors: one direction only, the other loss, squared errors, G and F swapped."""
    a, c = (float(v) for v in rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], 2))
    b, d = (float(v) for v in rng.integers(-2, 3, 2))
    xs = rng.integers(-3, 4, 3).astype(float)
    ys = rng.integers(-3, 4, 3).astype(float)
    G = lambda t: a * t + b                                               # noqa: E731
    F = lambda t: c * t + d                                               # noqa: E731
    X, Y = torch.tensor(xs), torch.tensor(ys)
    cyc, ident = (float(t) for t in pp.cycle_losses(X, Y, G, F))          # the chapter's engine
    which = "cyc" if rng.integers(2) else "id"
    fwd = float(np.abs(F(G(xs)) - xs).mean())
    bwd = float(np.abs(G(F(ys)) - ys).mean())
    if which == "cyc":
        right = cyc
        mistakes = [(fwd, "forward_only"), (bwd, "backward_only"), (ident, "other_id"),
                    (float(((F(G(xs)) - xs) ** 2).mean() + ((G(F(ys)) - ys) ** 2).mean()), "squared"),
                    (float(np.abs(G(F(xs)) - xs).mean() + np.abs(F(G(ys)) - ys).mean()), "swapped")]
    else:
        right = ident
        mistakes = [(float(np.abs(G(xs) - xs).mean() + np.abs(F(ys) - ys).mean()), "id_wrong_domain"),
                    (cyc, "other_cyc"), (float(np.abs(G(ys) - ys).mean()), "id_one_side"),
                    (float(((G(ys) - ys) ** 2).mean() + ((F(xs) - xs) ** 2).mean()), "squared")]
    if right == 0:
        raise Redraw("a zero loss")
    choices = numeric_choices(rng, right, text(S, f"practice.cycle.right_{which}"),
                              [(v, text(S, f"practice.cycle.{k}")) for v, k in mistakes], lambda v: f"{v:.3f}")
    return Item(kind="compute",
                stem=text(S, f"practice.cycle.stem_{which}", g=_affine(a, b, "x"), f=_affine(c, d, "y"),
                          xs=_vec(xs), ys=_vec(ys)),
                choices=choices,
                solution=text(S, f"practice.cycle.solution_{which}", gx=_vec(G(xs)), fgx=_vec(F(G(xs))),
                              fy=_vec(F(ys)), gfy=_vec(G(F(ys))), fwd=f"{fwd:.4f}", bwd=f"{bwd:.4f}",
                              gy=_vec(G(ys)), fx=_vec(F(xs)), id1=f"{float(np.abs(G(ys) - ys).mean()):.4f}",
                              id2=f"{float(np.abs(F(xs) - xs).mean()):.4f}", out=f"{right:.3f}"),
                params={"a": a, "b": b, "c": c, "d": d, "x": xs.tolist(), "y": ys.tolist(), "which": which},
                answer=right, tolerance=0.0005)


# ------------------------------------------------------------------------------------------ U-Net skip shapes
def unet_shapes(rng: np.random.Generator) -> Item:
    """The shape entering a decoder stage of the chapter's U-Net (upsampled features ⊕ the skip of the same
    resolution); distractors: no concatenation, the skip of the other level, the wrong resolution."""
    C = int(rng.integers(2, 65))
    stage = "d2" if rng.integers(2) else "d1"
    with torch.device("meta"):                                            # shapes only: no weights drawn
        net = pp.UNet(skip=True, C=C)                                     # the chapter's engine
    first = getattr(net, stage)[0]                                        # the ConvTranspose2d of that stage
    ch = first.in_channels
    hw = {"d2": 2, "d1": 4}[stage]
    up, skip_other = {"d2": (2 * C, C), "d1": (C, 2 * C)}[stage]         # upsampled channels; the wrong skip
    fmt = lambda v: f"({int(v[0])}, {int(v[1])}, {int(v[1])})"            # noqa: E731
    shown = {fmt((ch, hw))}
    mistakes = [((up, hw), "no_concat"), ((up + skip_other, hw), "other_level"), ((ch, 2 * hw), "resolution"),
                ((ch, hw // 2), "resolution"), ((2 * ch, hw), "double")]
    picked = [Choice(same(fmt((ch, hw))), True, text(S, "practice.unet.right"))]
    for v, k in mistakes:
        if fmt(v) not in shown:
            shown.add(fmt(v))
            picked.append(Choice(same(fmt(v)), False, text(S, f"practice.unet.{k}")))
    return Item(kind="compute", stem=text(S, f"practice.unet.stem_{stage}", C=C, C2=2 * C, C4=4 * C),
                choices=shuffled(rng, picked[:4]),
                solution=text(S, f"practice.unet.solution_{stage}", C=C, C2=2 * C, ch=ch),
                params={"C": C, "stage": stage}, answer=float(ch), tolerance=0)


# ----------------------------------------------------------------------------------------------- statements
TRUE = ("p2p_paired", "cycle_unpaired", "four_nets", "patchgan", "l1_blur", "cycle_permutation", "id_in_y",
        "skip_no_params")
FALSE = ("cycle_needs_pairs", "d_sees_output_only", "l1_sharp", "cycle_identity", "id_in_x", "patch_one_score",
         "p2p_two_way")


def translation_statement(rng: np.random.Generator) -> Item:
    """Pix2Pix and CycleGAN: pick the true statement or (half the seeds) the false one."""
    choices, invert = statement_choices(rng, S, "practice.stmt", TRUE, FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


# ------------------------------------------------------------------------------- the cycle loss, a blank
_CYC_CODE = """def cycle_loss(x, y, G, F):        # x (n, 2) from X, y (n, 2) from Y; G: X→Y, F: Y→X
    ____
    return cyc"""
_CYC_LINES = {
    "right": "cyc = (F(G(x)) - x).abs().mean() + (G(F(y)) - y).abs().mean()",
    "forward_only": "cyc = (F(G(x)) - x).abs().mean()",
    "swapped": "cyc = (G(F(x)) - x).abs().mean() + (F(G(y)) - y).abs().mean()",
    "squared": "cyc = ((F(G(x)) - x) ** 2).mean() + ((G(F(y)) - y) ** 2).mean()",
    "wrong_target": "cyc = (F(G(x)) - y).abs().mean() + (G(F(y)) - x).abs().mean()",
    "identity": "cyc = (G(y) - y).abs().mean() + (F(x) - x).abs().mean()",
    "backward_only": "cyc = (G(F(y)) - y).abs().mean()",
    "summed": "cyc = (F(G(x)) - x).abs().sum() + (G(F(y)) - y).abs().sum()",
}


def cycle_blank(rng: np.random.Generator) -> Item:
    """Fill the cycle-consistency line; every candidate runs on two seeded linear generators and unpaired samples
    and is compared with the chapter's `cycle_losses`."""
    gen = torch.Generator().manual_seed(int(rng.integers(0, 10_000)))
    G, F = (pp.reinit(nn.Linear(2, 2), gen) for _ in range(2))
    n = int(rng.integers(3, 7))
    x, y, _, _ = pp.sample_domains(n, rng)
    x, y = torch.tensor(np.round(x, 2), dtype=torch.float32), torch.tensor(np.round(y, 2), dtype=torch.float32)
    with torch.no_grad():
        cyc, _ = pp.cycle_losses(x, y, G, F)                              # the chapter's engine
    ex = Exec("cycle_loss", (x, y, G, F), float(cyc), atol=1e-6)
    wrong = [(line, text(S, f"practice.blank.{k}")) for k, line in _CYC_LINES.items() if k != "right"
             and not matches(execute(_CYC_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees with the engine")
    return Item(kind="blank", stem=text(S, "practice.blank.stem", n=n), code=_CYC_CODE,
                choices=code_choices(rng, (_CYC_LINES["right"], text(S, "practice.blank.right")), wrong),
                solution=text(S, "practice.blank.solution", cyc=f"{float(cyc):.4f}", n=n),
                params={"x": x.tolist(), "y": y.tolist(), "G": [G.weight.tolist(), G.bias.tolist()],
                        "F": [F.weight.tolist(), F.bias.tolist()]},
                exec=ex)


GENERATORS = (p2p_loss_value, cycle_loss_value, unet_shapes, translation_statement, cycle_blank)
