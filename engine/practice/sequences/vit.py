"""Practice items for Sequences & attention › Vision Transformer (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices, same,
                                    statement_choices, text)
from engine.sequences import vit as V

S = "vit"
K = "vit"                                    # the page's widget-key prefix
SIDES = (32, 48, 64, 96, 128, 160, 192, 224, 256, 384, 448, 512)
PATCH_SIZES = (4, 7, 8, 14, 16, 32)
WIDTHS = ((192, 3), (384, 6), (768, 12), (1024, 16), (64, 4), (256, 8))    # (D, heads) of ViT-Ti/S/B/L and small ones


def _int(v: float) -> str:
    return f"{int(round(v)):,}"


def _setup(h: int, w: int, p: int) -> dict:
    """The page's widgets for this case: the patch size when the page offers it, the side when the image is one
    of the page's squares."""
    setup = {}
    if p in V.PATCHES:
        setup[f"{K}.p"] = p
        if h == w and h in V.SIDES:
            setup[f"{K}.side"] = h
    return setup


def _image(rng: np.random.Generator) -> tuple[int, int, int]:
    p = int(rng.choice(PATCH_SIZES))
    sides = [s for s in SIDES if s % p == 0 and s >= 2 * p]
    h = int(rng.choice(sides))
    w = h if rng.random() < 0.5 else int(rng.choice(sides))
    return h, w, p


# ------------------------------------------------------------------------------------------------ tokens
def tokens(rng: np.random.Generator) -> Item:
    """Tokens the encoder reads for an H×W image and patch size P (with [CLS]): distractors [CLS] forgotten, one
    axis only, HW/P (P not squared), the length of one patch vector."""
    h, w, p = _image(rng)
    right = V.n_tokens(h, w, p)
    choices = numeric_choices(rng, right, text(S, "practice.tokens.right"), [
        (V.n_tokens(h, w, p, cls=False), text(S, "practice.tokens.no_cls")),
        (h * w // p + 1, text(S, "practice.tokens.not_squared")),
        (h // p + w // p + 1, text(S, "practice.tokens.sum_axes")),
        (3 * p * p, text(S, "practice.tokens.patch_length")),
        (h // p + 1, text(S, "practice.tokens.one_axis")),
    ], _int)
    return Item(kind="compute", stem=text(S, "practice.tokens.stem", h=h, w=w, p=p), choices=choices,
                solution=text(S, "practice.tokens.solution", h=h, w=w, p=p, gh=h // p, gw=w // p, n=right - 1,
                              n1=right),
                setup=_setup(h, w, p), params={"h": h, "w": w, "p": p}, answer=float(right), tolerance=0)


# ------------------------------------------------------------------------------------------- attention cost
def attention_macs(rng: np.random.Generator) -> Item:
    """Multiply–adds of QKᵀ and AV in one layer (all heads) for a square image: 2N²D with N = (H/P)² + 1;
    distractors [CLS] forgotten, QKᵀ only, one head only (d_k instead of D), the projections' 4ND²."""
    h, _, p = _image(rng)
    d, heads = WIDTHS[int(rng.integers(len(WIDTHS)))]
    n = V.n_tokens(h, h, p)
    if n > 2000:
        raise Redraw("numbers too long to compare by eye")
    cost = V.layer_cost(n, d, 4 * d, heads)
    right = cost.scores
    choices = numeric_choices(rng, right, text(S, "practice.macs.right"), [
        (V.layer_cost(n - 1, d, 4 * d, heads).scores, text(S, "practice.macs.no_cls")),
        (right / 2, text(S, "practice.macs.qk_only")),
        (right / heads, text(S, "practice.macs.one_head")),
        (cost.qkv_out, text(S, "practice.macs.projections")),
        (2 * n * d, text(S, "practice.macs.linear")),
    ], _int)
    return Item(kind="compute", stem=text(S, "practice.macs.stem", h=h, p=p, d=d, heads=heads, dk=d // heads),
                choices=choices,
                solution=text(S, "practice.macs.solution", h=h, p=p, d=d, g=h // p, n=n, macs=_int(right),
                              half=_int(right / 2)),
                setup=_setup(h, h, p), params={"h": h, "p": p, "d": d, "heads": heads}, answer=float(right),
                tolerance=0)


# ---------------------------------------------------------------------------------------- embedding params
def embed_params(rng: np.random.Generator) -> Item:
    """Parameters of the patch embedding (Conv2d, kernel = stride = P, with bias): P²CD + D; distractors no bias,
    P not squared, C forgotten, the position embedding counted in, a dense layer over the whole image."""
    h, w, p = _image(rng)
    c = int(rng.choice([1, 3]))
    d = WIDTHS[int(rng.integers(len(WIDTHS)))][0]
    right = V.patch_embed_params(c, p, d)
    n = V.n_tokens(h, w, p)
    choices = numeric_choices(rng, right, text(S, "practice.params.right"), [
        (V.patch_embed_params(c, p, d, bias=False), text(S, "practice.params.no_bias")),
        (p * c * d + d, text(S, "practice.params.not_squared")),
        (p * p * d + d if c > 1 else None, text(S, "practice.params.no_channels")),
        (right + n * d, text(S, "practice.params.with_pos")),
        (h * w * c * d + d, text(S, "practice.params.whole_image")),
        (right * (n - 1), text(S, "practice.params.per_patch")),
    ], _int)
    return Item(kind="compute", stem=text(S, "practice.params.stem", h=h, w=w, c=c, p=p, d=d), choices=choices,
                solution=text(S, "practice.params.solution", c=c, p=p, d=d, w=_int(right - d), total=_int(right),
                              n=n, pos=_int(n * d)),
                setup={},                        # the page's embedding has D = 32, C = 3: not this case
                params={"h": h, "w": w, "c": c, "p": p, "d": d}, answer=float(right), tolerance=0)


# ------------------------------------------------------------------------------------------ implementation
_PATCHIFY_RIGHT = """def patchify(x, p):
    C, H, W = x.shape
    g = x.reshape(C, H // p, p, W // p, p)
    g = g.transpose(1, 3, 0, 2, 4)
    return g.reshape((H // p) * (W // p), C * p * p)"""
_PATCHIFY_WRONG = {
    "channels_last": _PATCHIFY_RIGHT.replace("transpose(1, 3, 0, 2, 4)", "transpose(1, 3, 2, 4, 0)"),
    "column_order": _PATCHIFY_RIGHT.replace("transpose(1, 3, 0, 2, 4)", "transpose(3, 1, 0, 2, 4)"),
    "patch_transposed": _PATCHIFY_RIGHT.replace("transpose(1, 3, 0, 2, 4)", "transpose(1, 3, 0, 4, 2)"),
    "no_transpose": _PATCHIFY_RIGHT.replace("    g = g.transpose(1, 3, 0, 2, 4)\n", ""),
    "strips": """def patchify(x, p):
    C, H, W = x.shape
    return x.reshape((H // p) * (W // p), C * p * p)""",
}
for _name, _code in _PATCHIFY_WRONG.items():          # every distractor differs from the right snippet
    assert _code != _PATCHIFY_RIGHT, _name


def patchify_implementation(rng: np.random.Generator) -> Item:
    """Which function cuts (C, H, W) into patches in the order of F.unfold and of a Conv2d weight (D, C, P, P)?
    Each snippet is run on a small seeded image."""
    c, p = int(rng.integers(1, 4)), int(rng.choice([2, 3, 4]))
    gh, gw = int(rng.integers(2, 4)), int(rng.integers(2, 5))
    if gh == gw:
        raise Redraw("a square grid hides the reading order")
    x = np.round(rng.uniform(-1, 1, (c, gh * p, gw * p)), 2)
    ex = Exec("patchify", (x, p), V.patchify(x, p), atol=1e-12)
    wrong = [(code, text(S, f"practice.impl.{name}")) for name, code in _PATCHIFY_WRONG.items()
             if not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (_PATCHIFY_RIGHT, text(S, "practice.impl.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.impl.stem", c=c, h=gh * p, w=gw * p, p=p),
                choices=choices,
                solution=text(S, "practice.impl.solution", n=gh * gw, cpp=c * p * p, gh=gh, gw=gw, c=c, p=p),
                params={"x": x, "p": p}, exec=ex)


# ------------------------------------------------------------------------------------------------ blank
_Z0_CODE = """def encoder_input(x, E, b, cls, pos, p):
    C, H, W = x.shape
    patches = x.reshape(C, H // p, p, W // p, p).transpose(1, 3, 0, 2, 4).reshape(-1, C * p * p)
    z = patches @ E.reshape(E.shape[0], -1).T + b
    ____
    return z + pos"""
_Z0_RIGHT = "z = np.concatenate([cls[None], z])"
_Z0_WRONG = {
    "cls_last": "z = np.concatenate([z, cls[None]])",
    "cls_added": "z = z + cls",
    "wrong_axis": "z = np.concatenate([cls[None], z], axis=1)",
    "pos_first": "z = np.concatenate([cls[None], z + pos[1:]])",
}


def z0_blank(rng: np.random.Generator) -> Item:
    """The missing line of z₀ = [x_class; x_p E] + E_pos: [CLS] in front. Executed on a small seeded case."""
    c, p = int(rng.integers(1, 4)), int(rng.choice([2, 3, 4]))
    gh, gw, d = int(rng.integers(1, 4)), int(rng.integers(2, 4)), int(rng.choice([2, 3, 4]))
    x = np.round(rng.uniform(0, 1, (c, gh * p, gw * p)), 2)
    E = np.round(rng.normal(0, 0.5, (d, c, p, p)), 2)
    b, cls = np.round(rng.normal(0, 0.5, d), 2), np.round(rng.normal(0, 1, d), 2)
    pos = np.round(rng.normal(0, 0.5, (gh * gw + 1, d)), 2)
    expected = V.encoder_input(V.patch_tokens(x, E, b, p), cls, pos)
    ex = Exec("encoder_input", (x, E, b, cls, pos, p), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.blank.{name}")) for name, code in _Z0_WRONG.items()
             if not matches(execute(_Z0_CODE.replace("____", code), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right z₀ on this case")
    choices = code_choices(rng, (_Z0_RIGHT, text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", c=c, h=gh * p, w=gw * p, p=p, d=d),
                code=_Z0_CODE, choices=choices,
                solution=text(S, "practice.blank.solution", n=gh * gw, n1=gh * gw + 1, d=d),
                params={"x": x, "E": E, "b": b, "cls": cls, "pos": pos, "p": p}, exec=ex)


# ------------------------------------------------------------------------------------------------ statements
_TRUE = ("conv", "inductive_bias", "cls", "pos_needed", "quartic", "pos_tied", "embed_size_free", "pre_norm")
_FALSE = ("overlap", "sinusoidal", "linear_cost", "double", "small_data", "embed_grows", "pos_optional", "cls_needed")


def vit_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about ViT (or, half the seeds, the false one): patch embedding = strided conv,
    inductive bias and data, [CLS], position embeddings, the cost of small patches."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


GENERATORS = (tokens, attention_macs, embed_params, patchify_implementation, z0_blank, vit_statement)
