"""Practice items for Basics › Backpropagation (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.basics import backprop as B
from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)

S = "backprop"
K = "backprop"                               # the page's widget-key prefix

# small graphs with fan-out (the asked variable is read twice), a subtraction on one path
TEMPLATES = (("(x * y + z) * x", "x"), ("(x + y) * (x - z)", "x"), ("(x - y) * (y + z)", "y"),
             ("x * y - z * y", "y"), ("(x - z) * z + y * z", "z"), ("(y + z) * (x - y)", "y"))


def _g(v: float) -> str:
    return f"{v:.4g}"


def _setup(expr: str, values: dict) -> dict:
    return {f"{K}.expr": expr, **{f"{K}.v.{n}": float(v) for n, v in values.items()}}


# --------------------------------------------------------------------------------------- chain rule, fan-out
def chain_rule(rng: np.random.Generator) -> Item:
    """∂f/∂v through a small graph where v fans out: distractors one path only (forgot the sum at fan-out), a sign
    lost at the subtraction node, the output's value instead of a local derivative, the sign of the whole."""
    expr, var = TEMPLATES[rng.integers(len(TEMPLATES))]
    values = {n: int(rng.choice([-3, -2, -1, 1, 2, 3, 4])) for n in ("x", "y", "z")}
    graph = B.parse(expr, values)
    right = B.gradients(graph)[var]
    terms = [e.downstream for s in B.backward(graph) for e in s.edges if e.source == graph.variables[var]]
    signless = B.gradients(B.parse(expr.replace("-", "+"), values))[var]
    choices = numeric_choices(rng, right, text(S, "practice.chain.right", var=var), [
        (terms[0], text(S, "practice.chain.one_path")),
        (terms[-1], text(S, "practice.chain.one_path")),
        (signless, text(S, "practice.chain.sign")),
        (graph.output.value, text(S, "practice.chain.output")),
        (-right, text(S, "practice.chain.negated")),
        (right + graph.output.value, text(S, "practice.chain.output")),
    ], _g)
    vals = ", ".join(f"{n} = {v}" for n, v in values.items())
    shown = expr.replace("*", r"\cdot")                       # as an exam prints it
    return Item(kind="compute", stem=text(S, "practice.chain.stem", expr=shown, vals=vals, var=var), choices=choices,
                solution=text(S, "practice.chain.solution", var=var, m=len(terms),
                              terms=" + ".join(f"({_g(v)})" for v in terms), right=_g(right),
                              f=_g(graph.output.value)),
                setup=_setup(expr, values), params={"expr": expr, "var": var, "values": values},
                answer=float(right), tolerance=1e-6)


# ------------------------------------------------------------------------------------------ sigmoid'(x)
def sigmoid_derivative(rng: np.random.Generator) -> Item:
    """σ'(x) at a shown x: distractors σ(x) itself, 1 − σ(x), the formula applied to x instead of σ(x), σ(x)²."""
    x = round(float(rng.integers(-40, 41)) / 10, 1)
    graph = B.parse("sigmoid(x)", {"x": x})
    right = B.gradients(graph)["x"]
    s = graph.output.value
    choices = numeric_choices(rng, right, text(S, "practice.sigmoid.right"), [
        (s, text(S, "practice.sigmoid.value")),
        (x * (1 - x), text(S, "practice.sigmoid.on_x")),
        (1 - s, text(S, "practice.sigmoid.one_minus")),
        (s * s, text(S, "practice.sigmoid.squared")),
        (s * (1 + s), text(S, "practice.sigmoid.plus")),
    ], lambda v: f"{v:.4f}")
    return Item(kind="compute", stem=text(S, "practice.sigmoid.stem", x=x), choices=choices,
                solution=text(S, "practice.sigmoid.solution", x=x, s=f"{s:.4f}", right=f"{right:.4f}"),
                setup=_setup("sigmoid(x)", {"x": x}), params={"x": x}, answer=float(right), tolerance=5e-5)


# ------------------------------------------------------------------------------------------- statements
_TRUE = ("sigmoid_quarter", "relu_one", "he_relu", "xavier_tanh", "zero_symmetry", "input_side", "clip_explode",
         "check_central")
_FALSE = ("tanh_quarter", "he_sigmoid", "xavier_var", "zero_fine", "output_side", "relu_never", "clip_vanish",
          "forward_diff")


def gradient_statement(rng: np.random.Generator) -> Item:
    """Vanishing / exploding gradients, activations and initialisations, the gradient check: pick the true
    statement (or, half the seeds, the false one)."""
    choices, invert = statement_choices(rng, S, "practice.stmt", _TRUE, _FALSE)
    init = ("xavier", "he")[int(rng.integers(2))]
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"),
                setup={f"{K}.init": text(S, f"inits.{init}"), f"{K}.layers": 30})


# ------------------------------------------------------------------------------ a layer's backward, executed
_AFFINE = {
    "right": "def backward(x, W, dout):\n    # Y = x @ W;  x (N, D), W (D, M), dout = dL/dY (N, M)\n    return x.T @ dout",
    "dx": "def backward(x, W, dout):\n    # Y = x @ W;  x (N, D), W (D, M), dout = dL/dY (N, M)\n    return dout @ W.T",
    "transposed": "def backward(x, W, dout):\n    # Y = x @ W;  x (N, D), W (D, M), dout = dL/dY (N, M)\n"
                  "    return dout.T @ x",
    "bias": "def backward(x, W, dout):\n    # Y = x @ W;  x (N, D), W (D, M), dout = dL/dY (N, M)\n"
            "    return np.sum(dout, axis=0)",
    "forward": "def backward(x, W, dout):\n    # Y = x @ W;  x (N, D), W (D, M), dout = dL/dY (N, M)\n    return x @ W",
}


def affine_backward(rng: np.random.Generator) -> Item:
    """Which function returns ∂L/∂W of Y = XW? Each snippet is run on the item's small arrays; distractors ∂L/∂X,
    the transposed product, the bias gradient, the forward pass."""
    n, d, m = (int(v) for v in rng.choice(np.arange(2, 6), 3, replace=False))
    x = np.round(rng.uniform(-2, 2, (n, d)), 1)
    W = np.round(rng.uniform(-1, 1, (d, m)), 1)
    dout = np.round(rng.uniform(-1, 1, (n, m)), 1)
    expected = B.linear_backward(x, W, dout)[1]
    ex = Exec("backward", (x, W, dout), expected, atol=1e-9)
    wrong = [(code, text(S, f"practice.affine.{name}")) for name, code in _AFFINE.items()
             if name != "right" and not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (_AFFINE["right"], text(S, "practice.affine.right")), wrong)
    return Item(kind="implementation", stem=text(S, "practice.affine.stem", n=n, d=d, m=m), choices=choices,
                solution=text(S, "practice.affine.solution", d=d, m=m, n=n), params={"x": x, "W": W, "dout": dout},
                exec=ex)


# ----------------------------------------------------------------------------- blank: a node's backward
_NODE = """class {cls}:
    def forward(self, x, y):
        self.x, self.y = x, y
        return {forward}

    def backward(self, dout):
{body}
        return dx, dy


def run(x, y, dout):
    layer = {cls}()
    layer.forward(x, y)
    return layer.backward(dout)"""
_LINES = {   # node -> (line for dx, line for dy, the mistakes on the blank line)
    "mul": ("dx = dout * self.y", "dy = dout * self.x",
            {"swapped": "dx = dout * self.x", "no_upstream": "dx = self.y", "as_add": "dx = dout",
             "output": "dx = dout * self.x * self.y"}),
    "add": ("dx = dout * 1", "dy = dout * 1",
            {"as_mul": "dx = dout * self.y", "no_upstream": "dx = np.ones_like(self.x)",
             "output": "dx = dout * (self.x + self.y)", "other": "dx = dout * self.x"}),
    "div": ("dx = dout / self.y", "dy = -dout * self.x / self.y ** 2",
            {"as_mul": "dx = dout * self.y", "no_upstream": "dx = 1 / self.y", "sign": "dx = -dout / self.y",
             "quotient_rule": "dx = dout * self.x / self.y ** 2"}),
}
_CLASS = {"mul": ("MulLayer", "x * y"), "add": ("AddLayer", "x + y"), "div": ("DivLayer", "x / y")}


def node_backward_blank(rng: np.random.Generator) -> Item:
    """The missing line of a multiply / add / divide node's backward (the chain rule at one node), executed on the
    item's arrays: distractors the inputs swapped, the upstream gradient forgotten, the other node's rule, the
    output used instead of the local derivative."""
    op = ("mul", "add", "div")[int(rng.integers(3))]
    blank_dy = bool(rng.integers(2))
    x = np.round(rng.uniform(-2, 2, 3), 1)
    y = np.round(rng.choice([-1, 1], 3) * rng.uniform(0.5, 2, 3), 1)
    dout = np.round(rng.uniform(-1, 1, 3), 1)
    value = B.forward_op(op, (x, y))
    local = B.local_grads(op, (x, y), value)
    expected = (dout * local[0], dout * local[1])                    # downstream = upstream × local
    dx_line, dy_line, mistakes = _LINES[op]
    right, keep = (dy_line, dx_line) if blank_dy else (dx_line, dy_line)
    if blank_dy:                       # the same mistakes, written for dy
        mistakes = {k: v.replace("dx =", "dy =").replace("self.y", "§").replace("self.x", "self.y")
                    .replace("§", "self.x") for k, v in mistakes.items()}
        if op == "div":
            mistakes = {"sign": "dy = dout * self.x / self.y ** 2", "no_upstream": "dy = -self.x / self.y ** 2",
                        "as_mul": "dy = dout * self.x", "quotient_rule": "dy = -dout / self.y"}
    lines = ("        ____", f"        {keep}") if not blank_dy else (f"        {keep}", "        ____")
    cls, forward = _CLASS[op]
    code = _NODE.format(cls=cls, forward=forward, body="\n".join(lines))
    ex = Exec("run", (x, y, dout), expected, atol=1e-9)
    wrong = [(line, text(S, f"practice.blank.{name}")) for name, line in mistakes.items()
             if line != right and not matches(execute(code.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("distractors agree with the right answer on this case")
    choices = code_choices(rng, (right, text(S, f"practice.blank.right_{op}")), wrong)
    return Item(kind="blank", stem=text(S, "practice.blank.stem", cls=cls, x=x.tolist(), y=y.tolist(),
                                        dout=dout.tolist()),
                choices=choices, code=code, solution=text(S, f"practice.blank.solution_{op}"),
                params={"op": op, "x": x, "y": y, "dout": dout}, exec=ex)


GENERATORS = (chain_rule, sigmoid_derivative, gradient_statement, affine_backward, node_backward_blank)
