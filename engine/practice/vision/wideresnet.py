"""Practice items for Vision › WideResNet (format: engine/common/practice.py)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.vision import wideresnet as W

S = "wideresnet"
K = "wideresnet"                       # the page's widget-key prefix
DEPTHS = tuple(range(10, 101, 6))      # the page's depth slider: 10, 16, …, 100 (d = 6N + 4)
GROUP_BASE = {2: 16, 3: 32, 4: 64}     # conv2, conv3, conv4: 16k, 32k, 64k channels


def _weights(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_params(rng: np.random.Generator) -> Item:
    """Weights of one 3×3 convolution inside a repeated block of group conv_g of WRN-d-k (C = 16·2^(g−2)·k in and
    out, no bias). Distractors: k applied linearly, the course notes' 16k for every group, 3 in place of 3² = 9, the
    whole block (two convolutions)."""
    depth = int(rng.choice(DEPTHS[1:7]))           # N ≥ 2, so every group has a repeated block
    k, g = int(rng.integers(2, 13)), int(rng.integers(2, 5))
    c = GROUP_BASE[g] * k
    with torch.device("meta"):                      # shapes only: counting needs no weights
        block = W.WideBasic(c, c, 1)               # the chapter's block, a repeated one (stride 1, C → C)
        notes = W.WideBasic(16 * k, 16 * k, 1)
    right = _weights(block.conv2)
    fmt = lambda v: f"{int(v):,}"                                           # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.conv.right", g=g), [
        (9 * GROUP_BASE[g] ** 2 * k, text(S, "practice.conv.k_linear")),
        (_weights(notes.conv2), text(S, "practice.conv.notes_16k")),
        (3 * c * c, text(S, "practice.conv.kernel_3")),
        (_weights(block.conv1) + _weights(block.conv2), text(S, "practice.conv.whole_block")),
        (9 * c, text(S, "practice.conv.depthwise")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.conv.stem", d=depth, k=k, g=g), choices=choices,
                solution=text(S, "practice.conv.solution", g=g, base=GROUP_BASE[g], k=k, c=c, w=fmt(right),
                              thin=fmt(9 * GROUP_BASE[g] ** 2), k2=k * k),
                setup={f"{K}.depth": depth, f"{K}.k": k}, params={"depth": depth, "k": k, "group": g},
                answer=float(right), tolerance=0)


def blocks_per_group(rng: np.random.Generator) -> Item:
    """N = (d − 4)/6 blocks per group of WRN-d-k. Distractors: the blocks of all three groups (d − 4)/2, the
    convolutions of one group (d − 4)/3, three convolutions per block (d − 4)/9, the bottleneck ResNet's
    ⌊(d − 2)/9⌋, d/2."""
    depth, k = int(rng.choice(DEPTHS)), int(rng.integers(1, 13))
    n = W.wrn_blocks_per_group(depth)
    fmt = lambda v: f"{int(v)}"                                             # noqa: E731
    choices = numeric_choices(rng, n, text(S, "practice.blocks.right"), [
        ((depth - 4) // 2, text(S, "practice.blocks.all_groups")),
        ((depth - 4) // 3, text(S, "practice.blocks.convs")),
        ((depth - 4) // 9 if (depth - 4) % 9 == 0 else None, text(S, "practice.blocks.three_convs")),
        ((depth - 2) // 9, text(S, "practice.blocks.bottleneck")),
        (depth // 2, text(S, "practice.blocks.half")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.blocks.stem", d=depth, k=k), choices=choices,
                solution=text(S, "practice.blocks.solution", d=depth, n=n, convs=6 * n, k=k, c2=16 * k, c3=32 * k,
                              c4=64 * k),
                setup={f"{K}.depth": depth, f"{K}.k": k}, params={"depth": depth, "k": k},
                answer=float(n), tolerance=0)


_TRUE = ("k_squared", "channels", "block_b33", "k1_resnet", "wrn_beats_1001", "rf_width", "shallow_parallel",
         "depth_formula")
_FALSE = ("notes_blocks_k", "notes_16k", "k_linear", "fewer_params", "rf_grows", "bottleneck", "depth_d6",
          "deeper_always")


def wrn_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about WideResNet (or, half the seeds, the false one); the false ones include the
    course notes' "Block × k" and 16k in every group, which the page corrects."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_COUNT_CODE = """def wrn_conv_weights(d, k):
    n = (d - 4) // 6
    total = 9 * 3 * 16
    c = 16
    for w in (16 * k, 32 * k, 64 * k):
        total += 9 * c * w + 9 * w * w + (c * w if c != w else 0)
        total += (n - 1) * 2 * 9 * w * w
        c = w
    return total"""
# the line that may be blanked -> {mistake: wrong line} (lines without indentation)
_COUNT_WRONG = {
    "n = (d - 4) // 6": {
        "n_all_groups": "n = (d - 4) // 2",
        "n_convs": "n = (d - 4) // 3",
        "n_bottleneck": "n = (d - 2) // 9",
    },
    "for w in (16 * k, 32 * k, 64 * k):": {
        "w_notes_16k": "for w in (16 * k, 16 * k, 16 * k):",
        "w_no_k": "for w in (16, 32, 64):",
        "w_k_squared": "for w in (16 * k * k, 32 * k * k, 64 * k * k):",
        "w_k_first_only": "for w in (16 * k, 32, 64):",
    },
    "total += 9 * c * w + 9 * w * w + (c * w if c != w else 0)": {
        "first_no_shortcut": "total += 9 * c * w + 9 * w * w",
        "first_as_repeat": "total += 9 * w * w + 9 * w * w",
        "first_shortcut_3x3": "total += 9 * c * w + 9 * w * w + (9 * c * w if c != w else 0)",
        "first_input_width": "total += 9 * c * c + 9 * c * w + (c * w if c != w else 0)",
    },
    "total += (n - 1) * 2 * 9 * w * w": {
        "rep_n": "total += n * 2 * 9 * w * w",
        "rep_one_conv": "total += (n - 1) * 9 * w * w",
        "rep_kernel_3": "total += (n - 1) * 2 * 3 * w * w",
        "rep_linear": "total += (n - 1) * 2 * 9 * w",
    },
}


@lru_cache(maxsize=128)
def _conv_weights(depth: int, k: int) -> int:
    """Convolution weights of the chapter's WRN-d-k (built on the meta device: shapes only)."""
    net = W.build("wrn", depth, k)
    return sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Conv2d))


def count_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of a function counting the convolution weights of WRN-d-k; the candidates are executed
    and compared with the convolutions of the chapter's own network (engine `build`, meta device)."""
    depth, k = int(rng.choice(DEPTHS[:6])), int(rng.integers(2, 11))
    expected = _conv_weights(depth, k)
    ex = Exec("wrn_conv_weights", (depth, k), expected, atol=0)
    right = list(_COUNT_WRONG)[int(rng.integers(len(_COUNT_WRONG)))]
    code = _COUNT_CODE.replace(right, "____")
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _COUNT_WRONG[right].items()
             if not matches(execute(code.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right count on this network")
    choices = code_choices(rng, (right, text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", d=depth, k=k), choices=choices, code=code,
                solution=text(S, "practice.blank.solution", line=right, d=depth, k=k, total=f"{expected:,}",
                              n=W.wrn_blocks_per_group(depth)),
                setup={f"{K}.depth": depth, f"{K}.k": k}, params={"depth": depth, "k": k}, exec=ex)


GENERATORS = (conv_params, blocks_per_group, wrn_statement, count_blank)
