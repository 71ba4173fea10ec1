"""Practice items for Basics › Initialisation & normalisation (format: engine/common/practice.py). Every answer comes
from engine/basics/init_norm.py."""
from __future__ import annotations

import math

import numpy as np

from engine.basics import init_norm as I
from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)

S = "init_norm"


def _f4(v: float) -> str:
    return f"{v:.4f}"


def init_std(rng: np.random.Generator) -> Item:
    """The σ of Xavier or He for a layer n_in → n_out; distractors: the other rule, the variance instead of σ,
    He with n_in + n_out, the uniform bound, 1/√n_in."""
    fan_in = int(rng.choice([32, 50, 64, 100, 128, 200, 256, 512, 784]))
    fan_out = int(rng.choice([10, 32, 64, 100, 128, 256, 300]))
    which = str(rng.choice(["xavier", "he"]))
    right = I.init_std(which, fan_in, fan_out)
    other = I.init_std("he" if which == "xavier" else "xavier", fan_in, fan_out)
    n = fan_in + fan_out if which == "xavier" else fan_in
    mistakes = [(other, text(S, f"practice.std.other_{which}")),
                (right ** 2, text(S, "practice.std.variance")),
                (math.sqrt(6.0 / n) if which == "xavier" else math.sqrt(2.0 / (fan_in + fan_out)),
                 text(S, f"practice.std.wrong_{which}")),
                (1.0 / math.sqrt(fan_in), text(S, "practice.std.lecun")),
                (math.sqrt(1.0 / (fan_in + fan_out)), text(S, "practice.std.half"))]
    choices = numeric_choices(rng, right, text(S, "practice.std.right"), mistakes, _f4)
    name = text(S, f"inits.{which}")
    return Item(kind="compute", stem=text(S, "practice.std.stem", name=name,
                                          n_in=fan_in, n_out=fan_out),
                choices=choices,
                solution=text(S, f"practice.std.solution_{which}", n_in=fan_in, n_out=fan_out, n=n, ans=_f4(right)),
                setup={"init_norm.init": name, "init_norm.width": 100},
                params=dict(which=which, fan_in=fan_in, fan_out=fan_out), answer=right, tolerance=5e-4)


def norm_count(rng: np.random.Generator) -> Item:
    """How many (μ, σ²) pairs a normalisation layer computes on an (N, C, H, W) batch; distractors: the counts of
    the other three kinds (each one confuses the axes)."""
    n = int(rng.choice([2, 4, 8, 16, 32]))
    c = int(rng.choice([6, 12, 16, 32, 64]))
    h = int(rng.choice([4, 7, 8, 14, 28]))
    groups = int(rng.choice([d for d in (2, 3, 4, 8) if c % d == 0 and d < c]))
    kind = str(rng.choice(I.NORMS))
    counts = {k: len(I.normalize(np.zeros((n, c, 1, 1)), k, groups).mean) for k in I.NORMS}
    right = counts[kind]
    mistakes = [(counts[k], text(S, f"practice.count.as_{k}")) for k in I.NORMS if k != kind]
    mistakes.append((right * h * h, text(S, "practice.count.per_pixel")))
    if len({v for v, _ in mistakes} | {right}) < 4:
        raise Redraw("counts coincide")
    choices = numeric_choices(rng, right, text(S, "practice.count.right"), mistakes, lambda v: f"{v:.0f}")
    name = text(S, f"norms.{kind}")
    return Item(kind="compute", stem=text(S, "practice.count.stem", name=name, n=n, c=c,
                                          h=h, g=groups),
                choices=choices,
                solution=text(S, f"practice.count.solution_{kind}", n=n, c=c, h=h, g=groups, ans=right),
                setup={"init_norm.kind": name} | ({"init_norm.groups": groups} if groups in (1, 2, 3, 6) and
                                                  kind == "group" else {}),
                params=dict(kind=kind, n=n, c=c, h=h, groups=groups), answer=float(right), tolerance=0.5)


def running_mean(rng: np.random.Generator) -> Item:
    """One BatchNorm running-mean update in PyTorch's convention; distractors: Keras's momentum, no update (the
    batch mean alone), the plain average, the unbiased-variance confusion is not in play for a mean."""
    m = float(rng.choice([0.1, 0.2, 0.01, 0.3, 0.05]))
    running = round(float(rng.uniform(-2, 2)), 1)
    batch = [round(float(v), 1) for v in rng.uniform(-3, 3, size=int(rng.integers(3, 6)))]
    mu_b = float(np.mean(batch))
    right = I.running_update(running, mu_b, m)
    mistakes = [(m * running + (1 - m) * mu_b, text(S, "practice.running.keras")),
                (mu_b, text(S, "practice.running.batch_only")),
                (running, text(S, "practice.running.no_update")),
                ((running + mu_b) / 2, text(S, "practice.running.average")),
                ((1 - m) * running + m * float(np.sum(batch)), text(S, "practice.running.sum"))]
    if abs(mu_b - running) < 0.05:
        raise Redraw("batch mean ≈ running mean")
    choices = numeric_choices(rng, right, text(S, "practice.running.right"), mistakes, _f4)
    xs = ", ".join(f"{v:g}" for v in batch)
    return Item(kind="compute", stem=text(S, "practice.running.stem", m=m, r=running, xs=xs),
                choices=choices,
                solution=text(S, "practice.running.solution", m=m, r=running, xs=xs, mu=f"{mu_b:.4g}",
                              ans=_f4(right)),
                setup={"init_norm.momentum": m} if m in (0.01, 0.05, 0.1, 0.3) else {},
                params=dict(m=m, running=running, batch=batch), answer=right, tolerance=5e-4)


_TRUE = ("ln_batch_free", "bn_eval_running", "he_relu", "gn_between", "zero_symmetry", "bn_channel")
_FALSE = ("zero_ok", "ln_batch", "bn_eval_batch", "xavier_relu", "in_batch", "momentum_old")


def statement(rng: np.random.Generator) -> Item:
    """True statements about initialisation and normalisation vs the usual misconceptions."""
    choices, inverted = statement_choices(rng, S, "practice.st", _TRUE, _FALSE)
    return Item(kind="statement", stem=text(S, "practice.st.stem_false" if inverted else "practice.st.stem_true"),
                choices=choices, solution=text(S, "practice.st.solution"))


_SNIPPETS = {
    "right": "def layer_norm(x, eps):\n    mu = x.mean(axis=(1, 2, 3), keepdims=True)\n"
             "    var = x.var(axis=(1, 2, 3), keepdims=True)\n    return (x - mu) / np.sqrt(var + eps)",
    "batch": "def layer_norm(x, eps):\n    mu = x.mean(axis=(0, 2, 3), keepdims=True)\n"
             "    var = x.var(axis=(0, 2, 3), keepdims=True)\n    return (x - mu) / np.sqrt(var + eps)",
    "instance": "def layer_norm(x, eps):\n    mu = x.mean(axis=(2, 3), keepdims=True)\n"
                "    var = x.var(axis=(2, 3), keepdims=True)\n    return (x - mu) / np.sqrt(var + eps)",
    "ddof": "def layer_norm(x, eps):\n    mu = x.mean(axis=(1, 2, 3), keepdims=True)\n"
            "    var = x.var(axis=(1, 2, 3), ddof=1, keepdims=True)\n    return (x - mu) / np.sqrt(var + eps)",
    "std_eps": "def layer_norm(x, eps):\n    mu = x.mean(axis=(1, 2, 3), keepdims=True)\n"
               "    std = x.std(axis=(1, 2, 3), keepdims=True)\n    return (x - mu) / (std + eps)",
    "no_center": "def layer_norm(x, eps):\n    var = x.var(axis=(1, 2, 3), keepdims=True)\n"
                 "    return x / np.sqrt(var + eps)",
}


def layer_norm_code(rng: np.random.Generator) -> Item:
    """Which snippet is LayerNorm (no affine) on an (N, C, H, W) batch; each executed on the item's tensor."""
    n, c, h = int(rng.integers(2, 5)), int(rng.integers(2, 5)), int(rng.integers(2, 4))
    x = np.round(rng.normal(float(rng.uniform(-1, 1)), float(rng.uniform(0.5, 2)), (n, c, h, h)), 2)
    eps = float(rng.choice([1e-5, 0.01, 0.1]))
    ex = Exec("layer_norm", (x, eps), I.normalize(x, "layer", eps=eps).y, atol=1e-9)
    if not matches(execute(_SNIPPETS["right"], ex), ex):
        raise Redraw("the reference snippet disagrees")
    wrong = [(_SNIPPETS[k], text(S, f"practice.code.{k}")) for k in ("batch", "instance", "ddof", "std_eps",
                                                                      "no_center")
             if not matches(execute(_SNIPPETS[k], ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong snippet is right on this tensor")
    choices = code_choices(rng, (_SNIPPETS["right"], text(S, "practice.code.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.code.stem", shape=f"({n}, {c}, {h}, {h})", eps=eps),
                choices=choices, solution=text(S, "practice.code.solution"),
                setup={"init_norm.kind": text(S, "norms.layer")}, params=dict(shape=(n, c, h, h), eps=eps), exec=ex)


GENERATORS = (init_std, norm_count, running_mean, statement, layer_norm_code)
