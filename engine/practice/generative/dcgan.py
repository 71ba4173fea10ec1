"""Practice items for Generative › DCGAN & Conditional GAN (format: engine/common/practice.py).

The course notes end their CGAN section with two exam questions (問題1, 問題2). Both are in this bank: `cgan_notes_q1`
and `cgan_notes_q2` give the notes' own question on a share of the seeds (問題1 with the notes' four statements
(a)–(d) and answer (b); 問題2 with the notes' stem, its four networks drawn as text since the notes' figure is not in
them), and on the other seeds variants built from the same statements and networks.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.common.practice import (Choice, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    pick_choices, text)
from engine.generative import dcgan

S = "dcgan"
NOTES_SHARE = 0.25        # share of the seeds that give the course notes' question verbatim
# setup values are URL values: a toggle's is "true" (its default, off, is left out), a select_slider's a list


# --------------------------------------------------------------------------------- transposed-conv output size
def tconv_size(rng: np.random.Generator) -> Item:
    """Output height of a ConvTranspose2d; distractors: the convolution's formula, +2p instead of −2p, H·s,
    output_padding forgotten."""
    h = int(rng.choice([2, 3, 4, 5, 7, 8, 14, 16]))
    k = int(rng.choice([2, 3, 4, 5]))
    s = int(rng.choice([1, 2, 2, 3]))
    p = int(rng.integers(0, min(k, 3)))
    op = int(rng.integers(0, s)) if rng.random() < 0.4 else 0         # output_padding < stride
    right = dcgan.conv_transpose_output_size(h, k, s, p, op)
    if right <= 0:
        raise Redraw("empty output")
    fmt = lambda v: f"{int(v)}"                                          # noqa: E731
    mistakes = [
        (dcgan.conv_output_size(h, k, s, p), text(S, "practice.tconv.conv_formula")),
        ((h - 1) * s + 2 * p + k + op, text(S, "practice.tconv.plus_padding")),
        (h * s, text(S, "practice.tconv.h_times_s")),
        (dcgan.conv_transpose_output_size(h, k, s, p, 0) if op else None, text(S, "practice.tconv.no_output_padding")),
        ((h - 1) * s + k + op, text(S, "practice.tconv.no_padding")),
        (h * s - 2 * p + k + op, text(S, "practice.tconv.h_not_minus_one")),
    ]
    mistakes = [(v, f) for v, f in mistakes if v is None or v > 0]
    choices = numeric_choices(rng, right, text(S, "practice.tconv.right"), mistakes, fmt)
    op_text = text(S, "practice.tconv.op", op=op) if op else text(S, "practice.tconv.no_op")
    return Item(kind="compute",
                stem=text(S, "practice.tconv.stem", h=h, k=k, s=s, p=p, op_text=op_text),
                choices=choices,
                solution=text(S, "practice.tconv.solution", h=h, k=k, s=s, p=p, op=op, a=(h - 1) * s, b=2 * p,
                              out=right),
                setup={},
                params={"h": h, "k": k, "s": s, "p": p, "output_padding": op}, answer=float(right), tolerance=0)


# ------------------------------------------------------------------------------ the notes' 問題1 and its variants
Q1_TRUE = ("notes_b", "g_takes_y", "d_takes_y", "same_z_other_class", "onehot_concat")
Q1_FALSE = ("notes_a", "notes_c", "notes_d", "y_only_g", "no_z", "unlabelled")


def cgan_notes_q1(rng: np.random.Generator) -> Item:
    """The course notes' 問題1 (CGAN: pick the correct statement; answer (b)) on a quarter of the seeds, verbatim in
    the notes' order (a)–(d); otherwise a variant from the same pool of statements (half of them 「誤っているもの」)."""
    notes = rng.random() < NOTES_SHARE
    why = {k: text(S, f"practice.q1.why.{k}") for k in Q1_FALSE}
    if notes:
        order = ("notes_a", "notes_b", "notes_c", "notes_d")
        choices = tuple(Choice(text(S, f"practice.q1.s.{k}", tag=f"({'abcd'[i]}) "), k == "notes_b",
                               text(S, "practice.q1.is_true") if k == "notes_b" else why[k])
                        for i, k in enumerate(order))
        return Item(kind="statement", stem=text(S, "practice.q1.stem_notes"), choices=choices,
                    solution=text(S, "practice.q1.solution_notes"), setup={"dcgan.arch_cond": "true"},
                    params={"notes": True})
    invert = bool(rng.integers(2))
    true = [(text(S, f"practice.q1.s.{k}", tag=""), k) for k in Q1_TRUE]
    false = [(text(S, f"practice.q1.s.{k}", tag=""), k) for k in Q1_FALSE]
    if invert:
        choices = pick_choices(rng, [(lbl, why[k]) for lbl, k in false],
                               [(lbl, text(S, "practice.q1.true_not_asked")) for lbl, _ in true])
    else:
        choices = pick_choices(rng, [(lbl, text(S, "practice.q1.is_true")) for lbl, _ in true],
                               [(lbl, why[k]) for lbl, k in false])
    return Item(kind="statement", stem=text(S, "practice.q1.stem_false" if invert else "practice.q1.stem_true"),
                choices=choices, solution=text(S, "practice.q1.solution"), setup={"dcgan.arch_cond": "true"},
                params={"notes": False})


# ------------------------------------------------------------------------------ the notes' 問題2 and its variants
NETWORKS = ("cgan", "gan", "y_g_only", "y_d_only", "y_fake_only", "y_real_only", "acgan", "z_to_d")
NOTES_Q2_WRONG = ("gan", "y_g_only", "y_d_only")       # the three wrong networks of the verbatim question


def cgan_notes_q2(rng: np.random.Generator) -> Item:
    """The course notes' 問題2 (which network is the CGAN's, at the discriminator's training step; answer: G and D
    both receive Y) on a quarter of the seeds; otherwise the CGAN or the plain GAN (the notes' 解説 contrasts the two)
    is asked for among three other networks."""
    notes = rng.random() < NOTES_SHARE
    target = "cgan" if notes or rng.integers(2) else "gan"
    others = [n for n in NETWORKS if n != target]
    wrong = list(NOTES_Q2_WRONG) if notes else [others[i] for i in rng.choice(len(others), 3, replace=False)]
    picked = [target] + wrong
    order = picked if notes else [picked[i] for i in rng.permutation(4)]
    choices = tuple(Choice(text(S, f"practice.q2.net.{n}", tag=f"({'abcd'[i]}) "), n == target,
                           text(S, "practice.q2.right" if n == target else
                                ("practice.q2.cgan_not_asked" if n == "cgan" else f"practice.q2.why.{n}")))
                    for i, n in enumerate(order))
    stem = "practice.q2.stem_notes" if notes else f"practice.q2.stem_{target}"
    return Item(kind="statement", stem=text(S, stem), choices=choices,
                solution=text(S, "practice.q2.solution_notes" if notes else "practice.q2.solution"),
                setup={"dcgan.arch_cond": "true"} if target == "cgan" else {},
                params={"notes": notes, "target": target})


# --------------------------------------------------------------------------------------- DCGAN's guidelines
G_TRUE = ("strided", "batchnorm", "no_fc", "g_relu_tanh", "d_leaky", "adam_beta1")
G_FALSE = ("maxpool", "sigmoid_out", "d_relu", "bn_everywhere", "unpool", "beta1_09")


def dcgan_guidelines(rng: np.random.Generator) -> Item:
    """Radford et al.'s architecture guidelines: pick the true statement or (half the seeds) the false one."""
    invert = bool(rng.integers(2))
    true = [(text(S, f"practice.guide.true.{k}"), k) for k in G_TRUE]
    false = [(text(S, f"practice.guide.false.{k}"), k) for k in G_FALSE]
    if invert:
        choices = pick_choices(rng, [(lbl, text(S, f"practice.guide.why.{k}")) for lbl, k in false],
                               [(lbl, text(S, "practice.guide.true_not_asked")) for lbl, _ in true])
    else:
        choices = pick_choices(rng, [(lbl, text(S, "practice.guide.is_true")) for lbl, _ in true],
                               [(lbl, text(S, f"practice.guide.why.{k}")) for lbl, k in false])
    return Item(kind="statement", stem=text(S, "practice.guide.stem_false" if invert else "practice.guide.stem_true"),
                choices=choices, solution=text(S, "practice.guide.solution"))


# ------------------------------------------------------------------------- the CGAN's conditioning, a blank
_G_CODE = """def g_input(z, y):                # z (n, z_dim), y (n,) labels 0-9
    ____
    return z                       # what G's first Linear layer receives"""
_G_LINES = {
    "right": "z = torch.cat([z, F.one_hot(y, 10).float()], 1)",
    "swapped": "z = torch.cat([F.one_hot(y, 10).float(), z], 1)",
    "ignored": "z = torch.cat([z, torch.zeros(len(y), 10)], 1)",
    "scalar": "z = torch.cat([z, y.float()[:, None]], 1)",
    "batch_dim": "z = torch.cat([z, F.one_hot(y, 10).float()], 0)",
}
_D_CODE = """def d_input(x, y):                # x (n, 1, 8, 8) images, y (n,) labels 0-9
    planes = F.one_hot(y, 10).float()[:, :, None, None].expand(-1, -1, 8, 8)   # (n, 10, 8, 8)
    ____
    return x                       # what D's first convolution receives"""
_D_LINES = {
    "right": "x = torch.cat([x, planes], 1)",
    "swapped": "x = torch.cat([planes, x], 1)",
    "added": "x = x + planes",
    "batch_dim": "x = torch.cat([x, planes], 0)",
    "one_plane": "x = torch.cat([x, planes.sum(1, keepdim=True)], 1)",
}


def cgan_blank(rng: np.random.Generator) -> Item:
    """Fill the line that gives the condition y to the CGAN's generator (one-hot concatenated to z) or discriminator
    (10 constant planes stacked on the image); every candidate is run and compared with the chapter's
    `condition_latent` / `condition_image`, which its Generator and Discriminator call."""
    player = "g" if rng.integers(2) else "d"
    n = int(rng.integers(2, 5))
    y = torch.as_tensor(rng.integers(0, 10, n), dtype=torch.int64)
    if player == "g":
        z_dim = int(rng.choice([2, 4, 8, 16, 32]))
        data = torch.as_tensor(np.round(rng.standard_normal((n, z_dim)), 2), dtype=torch.float32)
        expected = dcgan.condition_latent(data, y).numpy()                 # (n, z_dim + 10)
        code, lines, func = _G_CODE, _G_LINES, "g_input"
    else:
        z_dim = 0
        data = torch.as_tensor(np.round(rng.uniform(-1, 1, (n, 1, 8, 8)), 2), dtype=torch.float32)
        expected = dcgan.condition_image(data, y).numpy()                  # (n, 11, 8, 8)
        code, lines, func = _D_CODE, _D_LINES, "d_input"
    ex = Exec(func, (data, y), expected, atol=0)
    wrong = [(line, text(S, f"practice.blank.{player}.{k}")) for k, line in lines.items() if k != "right"
             and not matches(execute(code.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees with the engine")
    shape = f"({n}, {z_dim + 10})" if player == "g" else f"({n}, 11, 8, 8)"
    return Item(kind="blank", stem=text(S, f"practice.blank.{player}.stem", z_dim=z_dim, n=n, y=str(y.tolist())),
                code=code,
                choices=code_choices(rng, (lines["right"], text(S, f"practice.blank.{player}.right")), wrong),
                solution=text(S, f"practice.blank.{player}.solution", z_dim=z_dim, d=z_dim + 10, n=n, shape=shape,
                              y=str(y.tolist())),
                setup={"dcgan.z_dim": [z_dim], "dcgan.arch_cond": "true"} if player == "g"
                else {"dcgan.arch_cond": "true"},
                params={"player": player, "y": y.tolist(), "data": data.numpy().tolist()}, exec=ex)


GENERATORS = (tconv_size, cgan_notes_q1, cgan_notes_q2, dcgan_guidelines, cgan_blank)
