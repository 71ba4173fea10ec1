"""Practice items for Language › BERT (format: engine/common/practice.py)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.language import bert as E

S = "bert"
KINDS = ("mask", "random", "kept", "loss")


# ------------------------------------------------------------------------------------------------- masking
class _Grid:
    """A stand-in for np.random.Generator whose two `random(shape)` draws are stratified grids, one along each
    axis: the engine's mask_tokens then turns exactly the share P(kind) of an (n, n) batch into each kind."""

    def __init__(self, n: int):
        self.calls = 0
        self.u = (np.arange(n) + 0.5) / n

    def random(self, shape):
        self.calls += 1
        return np.broadcast_to(self.u[:, None] if self.calls == 1 else self.u[None, :], shape).copy()

    def integers(self, lo, hi, size):
        return np.full(size, lo)


@lru_cache(maxsize=1)
def _shares() -> dict[str, float]:
    """P(kind) of one non-special token under the engine's mask_tokens (exact: the stratified grid of 1000² draws
    hits each threshold 0.15, 0.8, 0.9 on a grid line)."""
    n = 1000
    ids = np.full((n, n), 7)
    _, labels, kind = E.mask_tokens(ids, np.zeros((n, n), bool), _Grid(n), 100, 4)
    return {"mask": float((kind == 1).mean()), "random": float((kind == 2).mean()), "kept": float((kind == 3).mean()),
            "loss": float((labels != E.IGNORE).mean())}


def mask_count(rng: np.random.Generator) -> Item:
    """Expected number of tokens of a batch that become [MASK] / a random token / stay unchanged / carry the MLM
    loss; distractors: the 15 % alone, the 80 % alone, the specials counted, the wrong share of the chosen."""
    b, t = int(rng.choice([8, 16, 32, 64])), int(rng.choice([64, 128, 256, 512]))
    pair = bool(rng.integers(2))
    specials = 3 if pair else 2
    kind = KINDS[int(rng.integers(4))]
    n = b * (t - specials)
    sh = _shares()
    right = n * sh[kind]
    mistakes = {        # kind → (value, feedback key) for each typical mistake
        "mask": [(n * 0.15, "all_chosen"), (b * t * sh[kind], "specials"), (n * 0.15 * 0.1, "ten"),
                 (n * 0.8, "no_15")],
        "random": [(n * 0.15, "all_chosen"), (b * t * sh[kind], "specials"), (n * 0.15 * 0.8, "eighty"),
                   (n * 0.1, "no_15")],
        "kept": [(n * 0.15, "all_chosen"), (b * t * sh[kind], "specials"), (n * (0.85 + 0.15 * 0.1), "unchosen"),
                 (n * 0.1, "no_15")],
        "loss": [(n * 0.15 * 0.8, "only_mask"), (b * t * sh[kind], "specials"), (float(n), "every_token"),
                 (n * 0.15 * 0.9, "no_random")],
    }[kind]
    fmt = lambda v: f"{v:,.1f}"                                                 # noqa: E731
    choices = numeric_choices(rng, right, text(S, f"practice.count.right_{kind}"),
                              [(v, text(S, f"practice.count.{kind}_{k}")) for v, k in mistakes], fmt)
    return Item(kind="compute", stem=text(S, "practice.count.stem", b=b, t=t,
                                          what=text(S, f"practice.count.what_{kind}"),
                                          inp=text(S, "practice.count.pair" if pair else "practice.count.single")),
                choices=choices,
                solution=text(S, "practice.count.solution", b=b, t=t, sp=specials, n=f"{n:,}",
                              share=f"{sh[kind]:g}", rule=text(S, f"practice.count.rule_{kind}"), ans=fmt(right)),
                params={"batch": b, "seq_len": t, "specials": specials, "kind": kind}, answer=right, tolerance=0.05)


# ---------------------------------------------------------------------------------------------- truncation
_TOK = E.WordPiece(list(E.SPECIALS) + ["a", "b"])


def truncation(rng: np.random.Generator) -> Item:
    """Longest-first truncation of a pair (from B when both are equally long) by the engine's encode_input;
    distractors: only B cut ('only_second'), A cut when equal, the budget without the 3 special tokens, both cut by
    the same amount."""
    m = E.MAX_TOKENS                        # the page's own limit, so that the case opens there as it is
    la, lb = (int(v) for v in rng.integers(4, m, 2))
    if la + lb + 3 <= m:
        raise Redraw("no truncation needed")
    enc = E.encode_input(_TOK, " ".join(["a"] * la), " ".join(["b"] * lb), max_tokens=m)
    ka = enc.tokens.count("a")
    kb = enc.tokens.count("b")

    def longest_first(a: int, b: int, budget: int, b_on_tie: bool = True) -> tuple[int, int]:
        while a + b > budget:
            if a > b or (a == b and not b_on_tie):
                a -= 1
            else:
                b -= 1
        return a, b
    budget = m - 3
    only_b = (la, max(0, budget - la)) if budget - la >= 0 else None
    excess = la + lb - budget
    same = (la - (excess + 1) // 2, lb - excess // 2)
    fmt = lambda v: f"A {int(round(v)) // 1000}, B {int(round(v)) % 1000}"    # noqa: E731
    enc_v = lambda p: None if p is None or min(p) < 0 else float(p[0] * 1000 + p[1])  # noqa: E731
    choices = numeric_choices(rng, enc_v((ka, kb)), text(S, "practice.trunc.right"), [
        (enc_v(longest_first(la, lb, budget, b_on_tie=False)), text(S, "practice.trunc.a_on_tie")),
        (enc_v(only_b), text(S, "practice.trunc.only_b")),
        (enc_v(longest_first(la, lb, m)), text(S, "practice.trunc.no_specials")),
        (enc_v(same), text(S, "practice.trunc.split")),
        (enc_v(longest_first(la, lb, m - 2)), text(S, "practice.trunc.two_specials")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.trunc.stem", la=la, lb=lb, m=m), choices=choices,
                solution=text(S, "practice.trunc.solution", la=la, lb=lb, m=m, budget=budget, excess=excess,
                              ka=ka, kb=kb, ta=ka + 2, tb=kb + 1),
                setup={"bert.text_a": " ".join(["a"] * la), "bert.pair": True, "bert.text_b": " ".join(["b"] * lb)},
                params={"len_a": la, "len_b": lb, "max_tokens": m, "kept": (ka, kb)})


# ----------------------------------------------------------------------------------------------- parameters
@lru_cache(maxsize=128)
def _embedding_params(v: int, h: int, p: int) -> int:
    """The engine's count of an encoder with no layers and no pooler: its embedding block alone."""
    return E.count_parameters(E.BertConfig(vocab_size=v, hidden_size=h, num_hidden_layers=0, num_attention_heads=1,
                                           intermediate_size=4 * h, max_position_embeddings=p), pooler=False)


def embedding_params(rng: np.random.Generator) -> Item:
    """Parameters of BERT's embedding block: token V·H + position P·H + segment 2·H + LayerNorm 2·H; distractors:
    the token table alone, no segment table, sinusoidal (unlearned) positions, H·H per table."""
    v = int(rng.choice([30522, 28996, 32000, 21128, 119547]))
    h = int(rng.choice([128, 256, 384, 512, 768, 1024]))
    p = int(rng.choice([128, 256, 512]))
    right = _embedding_params(v, h, p)
    fmt = lambda x: f"{int(round(x)):,}"                                        # noqa: E731
    choices = numeric_choices(rng, float(right), text(S, "practice.emb.right"), [
        (v * h, text(S, "practice.emb.token_only")),
        (v * h + p * h + 2 * h, text(S, "practice.emb.no_ln")),
        (v * h + 2 * h + 2 * h, text(S, "practice.emb.sinusoidal")),
        (v * h + p * h + 2 * h + 2 * h + 3 * h * h, text(S, "practice.emb.qkv")),
        (v * h + p * h + 3 * h + 2 * h, text(S, "practice.emb.three_segments")),
    ], fmt)
    return Item(kind="compute", stem=text(S, "practice.emb.stem", v=f"{v:,}", h=h, p=p), choices=choices,
                solution=text(S, "practice.emb.solution", v=f"{v:,}", h=h, p=p, tok=f"{v * h:,}", pos=f"{p * h:,}",
                              seg=f"{2 * h:,}", ln=f"{2 * h:,}", ans=fmt(right)),
                params={"vocab_size": v, "hidden": h, "max_positions": p}, answer=float(right), tolerance=0.5)


# ------------------------------------------------------------------------------------------------ attention
def _engine_attention(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The engine's BertEncoder (1 layer, 1 head, H = d_k = 4) with W_Q, W_K solved so that its queries and keys
    are q and k on three tokens: its first attention map softmax(QKᵀ/√d_k), (T, T)."""
    t, d = q.shape
    cfg = E.BertConfig(vocab_size=8, hidden_size=d, num_hidden_layers=1, num_attention_heads=1,
                       intermediate_size=d, max_position_embeddings=8)
    model = E.BertEncoder(cfg).double()
    g = torch.Generator().manual_seed(0)
    ids = torch.arange(5, 5 + t)[None]
    with torch.no_grad():
        model.embeddings.word_embeddings.weight.copy_(torch.randn(8, d, generator=g, dtype=torch.float64))
        h0 = model.embed(ids, torch.zeros_like(ids))[-1][0]                               # (T, H) after LayerNorm
        sa = model.encoder.layer[0].attention.self
        for lin, target in ((sa.query, q), (sa.key, k)):
            w = torch.linalg.pinv(h0) @ torch.tensor(target, dtype=torch.float64)        # h0 @ w = target
            lin.weight.copy_(w.T)
            lin.bias.zero_()
        att = model(ids).attentions[0][0, 0]                                              # (T, T)
    return att.numpy()


def attention_weight(rng: np.random.Generator) -> Item:
    """One weight of softmax(QKᵀ/√d_k) (the engine's BertEncoder); distractors: no √d_k, divided by d_k, the
    softmax taken over the queries (column), the raw score normalised without exp."""
    t, d = 3, 4
    q = rng.integers(-2, 3, (t, d)).astype(float)
    k = rng.integers(-2, 3, (t, d)).astype(float)
    att = _engine_attention(q, k)
    i, j = (int(v) for v in rng.integers(0, t, 2))
    right = float(att[i, j])
    s = q @ k.T

    def sm(x, axis):                                                            # a softmax along `axis`
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    fmt3 = lambda v: f"{v:.3f}"                                                 # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.att.right"), [
        (float(sm(s, 1)[i, j]), text(S, "practice.att.no_scale")),
        (float(sm(s / d, 1)[i, j]), text(S, "practice.att.over_dk")),
        (float(sm(s / np.sqrt(d), 0)[i, j]), text(S, "practice.att.column")),
        (float(np.exp(s[i, j] / 2) / np.exp(s / 2).sum()), text(S, "practice.att.all")),
    ], fmt3)
    mat = lambda m: "; ".join("(" + ", ".join(f"{v:g}" for v in r) + ")" for r in m)  # noqa: E731
    return Item(kind="compute", stem=text(S, "practice.att.stem", q=mat(q), k=mat(k), i=i + 1, j=j + 1),
                choices=choices,
                solution=text(S, "practice.att.solution", i=i + 1, j=j + 1,
                              scores=", ".join(f"{v:g}" for v in s[i]),
                              scaled=", ".join(f"{v:g}" for v in s[i] / 2),
                              e=", ".join(f"{np.exp(v):.3f}" for v in s[i] / 2),
                              sum=f"{np.exp(s[i] / 2).sum():.3f}", ans=fmt3(right)),
                params={"q": q.tolist(), "k": k.tolist(), "i": i, "j": j}, answer=right, tolerance=0.0005)


# ----------------------------------------------------------------------------------------------- statement
_TRUE = ("rule_80_10_10", "loss_chosen", "three_embeddings", "cls", "bidirectional", "nsp_50", "truncate_b",
         "segment_ids")
_FALSE = ("masked_ln", "all_mask", "loss_all", "causal", "roberta_nsp", "sinusoidal", "truncate_a",
          "segment_position")


def statement(rng: np.random.Generator) -> Item:
    """BERT's pre-training and input against misconceptions (incl. the notes' 'Masked LN')."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"))


# -------------------------------------------------------------------------------------------------- blank
_MASK_CODE = """def mask_tokens(ids, special, seed, vocab_size, mask_id):
    rng = np.random.default_rng(seed)
    chosen = (rng.random(ids.shape) < 0.15) & ~special
    u = rng.random(ids.shape)
    to_mask = chosen & (u < 0.8)
____
    out = ids.copy()
    out[to_mask] = mask_id
    out[to_random] = rng.integers(5, vocab_size, int(to_random.sum()))
    labels = np.where(chosen, ids, -100)
    return np.concatenate([out, labels])"""
_MASK_LINES = {
    "right": "    to_random = chosen & (u >= 0.8) & (u < 0.9)",
    "rest_random": "    to_random = chosen & (u >= 0.8)",
    "overlap": "    to_random = chosen & (u < 0.1)",
    "unchosen": "    to_random = ~chosen & (u >= 0.8) & (u < 0.9)",
    "no_chosen": "    to_random = (u >= 0.8) & (u < 0.9)",
}


def blank(rng: np.random.Generator) -> Item:
    """BERT's 80/10/10 masking with the random-token line missing; candidates run on a drawn batch with the same
    generator state as the engine's mask_tokens."""
    seed = int(rng.integers(10_000))
    n = 40
    ids = np.arange(100, 100 + n)[None]
    special = np.zeros((1, n), bool)
    special[0, [0, n - 1]] = True
    out, labels, _ = E.mask_tokens(ids, special, np.random.default_rng(seed), 1000, 4, first_random_id=5)
    expected = np.concatenate([out, labels])
    ex = Exec("mask_tokens", (ids, special, seed, 1000, 4), expected, atol=0)
    wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _MASK_LINES.items()
             if k != "right" and not matches(execute(_MASK_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees on this batch")
    choices = code_choices(rng, (_MASK_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", seed=seed), choices=choices,
                code=_MASK_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", n_chosen=int((labels != E.IGNORE).sum()),
                              n_mask=int((out == 4).sum()),
                              n_random=int(((out != ids) & (out != 4)).sum())),
                params={"seed": seed}, exec=ex)


_WORDS = ("the", "cat", "sat", "on", "mat", "it", "was", "warm", "dog", "ran", "home", "a", "big", "red", "sun")
_WORD_TOK = E.WordPiece(list(E.SPECIALS) + list(_WORDS))
_SEG_CODE = """def segment_ids(tokens_a, tokens_b):
    tokens = ["[CLS]", *tokens_a, "[SEP]", *tokens_b, "[SEP]"]
____
    return np.array(types)"""
_SEG_LINES = {
    "right": "    types = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)",
    "first_sep_b": "    types = [0] * (len(tokens_a) + 1) + [1] * (len(tokens_b) + 2)",
    "last_sep_a": "    types = [0] * (len(tokens_a) + 2) + [1] * len(tokens_b) + [0]",
    "swapped": "    types = [1] * (len(tokens_a) + 2) + [0] * (len(tokens_b) + 1)",
    "no_specials": "    types = [0] * len(tokens_a) + [1] * len(tokens_b)",
    "cls_b": "    types = [1] + [0] * (len(tokens_a) + 1) + [1] * (len(tokens_b) + 1)",
}


def segment_blank(rng: np.random.Generator) -> Item:
    """The segment (token type) ids of [CLS] A [SEP] B [SEP], the line building them missing; the engine's
    encode_input on the same two sentences is the reference."""
    pet = lambda: str(rng.choice(("cat", "dog")))                               # noqa: E731
    thing = lambda: str(rng.choice(("mat", "sun", "home")))                     # noqa: E731
    adj = lambda: str(rng.choice(("big", "red", "warm")))                       # noqa: E731
    a = (f"the {pet()} sat on the {adj()} mat" if rng.integers(2) else f"a {adj()} {pet()} ran home").split()
    b = (f"it was {adj()}" if rng.integers(2) else f"the {thing()} was {adj()}").split()
    la, lb = len(a), len(b)
    enc = E.encode_input(_WORD_TOK, " ".join(a), " ".join(b))
    ex = Exec("segment_ids", (a, b), enc.token_type_ids, atol=0)
    wrong = [(line.strip(), text(S, f"practice.seg.{k}")) for k, line in _SEG_LINES.items()
             if k != "right" and not matches(execute(_SEG_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line agrees on this pair")
    choices = code_choices(rng, (_SEG_LINES["right"].strip(), text(S, "practice.seg.right")), wrong)
    return Item(kind="blank", stem=text(S, "practice.seg.stem", a=" ".join(a), b=" ".join(b)), choices=choices,
                code=_SEG_CODE.replace("____", "    ____"),
                solution=text(S, "practice.seg.solution", tokens=" ".join(enc.tokens),
                              ids=" ".join(str(int(v)) for v in enc.token_type_ids), na=la + 2, nb=lb + 1),
                setup={"bert.text_a": " ".join(a), "bert.pair": True, "bert.text_b": " ".join(b)},
                params={"a": a, "b": b}, exec=ex)


GENERATORS = (mask_count, truncation, embedding_params, attention_weight, statement, blank, segment_blank)
