r"""Backpropagation: an expression the learner types, parsed safely into a computational graph; forward values and
local gradients on every node; the backward pass one node at a time (the chain rule: upstream × local = downstream,
summed where a value fans out); a central-difference gradient check; and the gradient norm per layer of a deep MLP
for each activation and initialisation (vanishing and exploding gradients).

The parser never calls `eval`: it reads Python's `ast` and accepts only numbers, the variables `VARIABLES`,
`+ - * / **` (and `^` for `**`), unary minus and the functions `FUNCTIONS`. Every reason an expression cannot be
used is an `ExprError` whose `code` the page translates (`t(f"backprop.errors.{code}", **err.params)`).

References
----------
Rumelhart, Hinton & Williams, Learning representations by back-propagating errors, Nature 1986.
Glorot & Bengio, Understanding the difficulty of training deep feedforward neural networks, AISTATS 2010 (Eq. 16).
He et al., Delving Deep into Rectifiers, ICCV 2015 (Eq. 10).
Hendrycks & Gimpel, Gaussian Error Linear Units (GELUs), 2016 (the tanh approximation, Sec. 2).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.common.text import normalize

VARIABLES = ("x", "y", "z", "w", "b", "t")        # the names a learner may use; each gets a number on the page
FUNCTIONS = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "sqrt")
MAX_CHARS = 200                                    # a typed expression longer than this is refused before parsing
MAX_DEPTH = 16                                     # nesting of operations (the graph's longest path)
MAX_NODES = 48                                     # operations + variables + constants
MAX_CONSTANT = 1e6                                 # |a number| typed
MAX_EXPONENT = 16                                  # |a constant exponent|
OPS = ("add", "sub", "mul", "div", "pow", "neg") + FUNCTIONS
SYMBOL = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−x"}

# Examples (the page's presets): the textbook graph, fan-out, one neuron, its logistic loss, a 2-2-1 network.
PRESETS = {
    "sum_product": "(x + y) * z",
    "fan_out": "x * y + sin(x)",
    "neuron": "sigmoid(w * x + b)",
    "logistic": "log(1 + exp(-t * (w * x + b)))",
    "network": "(1.5 * tanh(0.8 * x - 0.5 * y) - 1.2 * sigmoid(0.3 * x + 0.9 * y + b) - t) ** 2 / 2",
}
DEFAULT_VALUES = {"x": 1.0, "y": -2.0, "z": 3.0, "w": 0.5, "b": 0.1, "t": 1.0}


class ExprError(ValueError):
    """An expression the chapter cannot use. `code` is a key of locales/backprop.toml's `errors` table, `params`
    fill its placeholders."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}")
        self.code, self.params = code, params


# ------------------------------------------------------------------------------------------------ the graph
@dataclass(frozen=True)
class Node:
    id: int
    op: str                       # "var", "const" or one of OPS
    inputs: tuple[int, ...]       # ids of the nodes it reads
    label: str                    # what the graph shows: "x", "2", "×", "sin"
    span: tuple[int, int]         # (start, end) of its text in Graph.text; a variable: its first occurrence
    value: float                  # forward value
    local: tuple[float, ...]      # ∂ node / ∂ input_i at the forward values


@dataclass(frozen=True)
class Graph:
    text: str                     # the expression as parsed (normalised)
    nodes: tuple[Node, ...]       # topological order: every node after its inputs; the last is the output
    variables: dict               # name -> node id

    @property
    def output(self) -> Node:
        return self.nodes[-1]


@dataclass(frozen=True)
class Edge:
    source: int                   # the input node
    local: float                  # ∂ node / ∂ source
    downstream: float             # upstream × local, added to the source's gradient


@dataclass(frozen=True)
class Step:
    node: int                     # the node whose gradient is passed back
    upstream: float               # ∂ output / ∂ node (complete: every consumer has already passed back)
    edges: tuple[Edge, ...]
    grads: tuple                  # ∂ output / ∂ node for every node after this step; None where nothing arrived


def _sigmoid(a):
    # σ(a) = 1 / (1 + e^{-a}), written so that neither branch overflows
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def forward_op(op: str, args: tuple):
    """The value of one node from its inputs' values (floats or arrays)."""
    a = args[0]
    if op == "add":
        return a + args[1]
    if op == "sub":
        return a - args[1]
    if op == "mul":
        return a * args[1]
    if op == "div":
        return a / args[1]
    if op == "pow":
        return np.power(a, args[1])
    if op == "neg":
        return -a
    if op == "sigmoid":
        return _sigmoid(a)
    if op == "relu":
        return np.maximum(a, 0.0)
    return getattr(np, op)(a)                       # exp, log, sin, cos, tanh, sqrt


def local_grads(op: str, args: tuple, value) -> tuple:
    r"""∂ node / ∂ input_i for each input, at the inputs' values and the node's own `value`.

    $$\frac{\partial (a b)}{\partial a} = b,\quad \frac{\partial (a/b)}{\partial b} = -\frac{a}{b^2},\quad
    \sigma'(a) = \sigma(a)(1-\sigma(a)),\quad \tanh'(a) = 1 - \tanh^2 a$$
    """
    a = args[0]
    if op == "add":
        return (np.ones_like(a), np.ones_like(args[1]))
    if op == "sub":
        return (np.ones_like(a), -np.ones_like(args[1]))
    if op == "mul":
        return (args[1], a)                                     # ∂(ab)/∂a = b, ∂(ab)/∂b = a
    if op == "div":
        b = args[1]
        return (1 / b, -a / b ** 2)                             # ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
    if op == "pow":
        b = args[1]
        # ∂a^b/∂a = b a^{b−1}; ∂a^b/∂b = a^b ln a (0 where a^b = 0, as torch.pow gives)
        d_exp = np.where(value == 0, 0.0, value * np.log(np.where(a > 0, a, 1.0)))
        return (b * np.power(a, b - 1), d_exp)
    if op == "neg":
        return (-np.ones_like(a),)
    if op == "exp":
        return (value,)                                         # (e^a)' = e^a
    if op == "log":
        return (1 / a,)
    if op == "sin":
        return (np.cos(a),)
    if op == "cos":
        return (-np.sin(a),)
    if op == "tanh":
        return (1 - value ** 2,)                                # tanh' = 1 − tanh²
    if op == "sigmoid":
        return (value * (1 - value),)                           # σ' = σ(1 − σ)
    if op == "relu":
        return ((a > 0) * 1.0,)                                 # 0 at a = 0, as torch
    if op == "sqrt":
        return (0.5 / value,)                                   # (√a)' = 1/(2√a)
    raise ValueError(op)


# ----------------------------------------------------------------------------------------------- the parser
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}   # "^" is read as "**"


def _prepare(text: str) -> str:
    s = normalize(text).replace("×", "*").replace("÷", "/").replace("·", "*").replace("^", "**").strip()
    return s


def parse(text: str, values: dict | None = None) -> Graph:
    """The computational graph of `text` at `values` (name -> number; missing names take `DEFAULT_VALUES`).

    Raises `ExprError` for every reason the text cannot be used; never anything else, never evaluates Python."""
    if not isinstance(text, str):
        raise ExprError("empty")
    if len(text) > 4 * MAX_CHARS:                              # before any work on it
        raise ExprError("too_long", limit=MAX_CHARS, n=len(text))
    s = _prepare(text)
    if not s:
        raise ExprError("empty")
    if len(s) > MAX_CHARS:
        raise ExprError("too_long", limit=MAX_CHARS, n=len(s))
    if _nesting(s) > MAX_DEPTH + 8:                            # cheap bound before the parser nests
        raise ExprError("too_deep", limit=MAX_DEPTH)
    try:
        tree = ast.parse(s, mode="eval")
    except (SyntaxError, ValueError):
        raise ExprError("syntax") from None
    except (RecursionError, MemoryError):
        raise ExprError("too_deep", limit=MAX_DEPTH) from None
    vals = {**DEFAULT_VALUES, **(values or {})}
    b = _Builder(s, vals)
    with np.errstate(all="ignore"):
        b.visit(tree.body, 0)
    if len(b.nodes) > MAX_NODES:
        raise ExprError("too_many_nodes", limit=MAX_NODES)
    return Graph(s, tuple(b.nodes), dict(b.variables))


def _nesting(s: str) -> int:
    """The deepest nesting of brackets in `s`."""
    depth = deepest = 0
    for c in s:
        depth += (c in "([{") - (c in ")]}")
        deepest = max(deepest, depth)
    return deepest


class _Builder:
    def __init__(self, text: str, values: dict):
        self.text, self.values = text, values
        self.nodes: list[Node] = []
        self.variables: dict[str, int] = {}

    def _add(self, op, inputs, label, node) -> int:
        if len(self.nodes) >= MAX_NODES:
            raise ExprError("too_many_nodes", limit=MAX_NODES)
        args = tuple(self.nodes[i].value for i in inputs)
        if op in ("var", "const"):
            value, local = float(label if op == "const" else self.values[label]), ()
        else:
            self._check_domain(op, args, node)
            value = float(forward_op(op, tuple(np.float64(a) for a in args)))
            local = tuple(float(g) for g in local_grads(op, tuple(np.float64(a) for a in args), np.float64(value)))
            if not np.isfinite(value) or not all(np.isfinite(local)):
                raise ExprError("overflow", part=self._part(node))
        span = (node.col_offset, node.end_col_offset)
        self.nodes.append(Node(len(self.nodes), op, tuple(inputs), label if op != "const" else _num(value), span,
                               value, local))
        return len(self.nodes) - 1

    def _part(self, node) -> str:
        part = self.text[node.col_offset:node.end_col_offset]
        return part if len(part) <= 40 else part[:37] + "…"

    def _check_domain(self, op, args, node):
        part = self._part(node)
        if op == "div" and args[1] == 0:
            raise ExprError("division_by_zero", part=part)
        if op == "log" and args[0] <= 0:
            raise ExprError("log_domain", part=part, a=_num(args[0]))
        if op == "sqrt" and args[0] <= 0:
            raise ExprError("sqrt_domain", part=part, a=_num(args[0]))
        if op == "pow":
            base, exponent = args
            exp_node = self._last_exponent
            if exp_node.op == "const":
                if abs(exponent) > MAX_EXPONENT:
                    raise ExprError("exponent", limit=MAX_EXPONENT, part=part)
                if base < 0 and exponent != int(exponent):
                    raise ExprError("pow_domain", part=part)
                if base == 0 and exponent < 1 and exponent != 0:
                    raise ExprError("pow_domain", part=part)
            elif base <= 0:                                     # a variable exponent needs ln(base)
                raise ExprError("pow_domain", part=part)

    def visit(self, node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise ExprError("too_deep", limit=MAX_DEPTH)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ExprError("not_allowed", part=self._part(node))
            if not abs(v) <= MAX_CONSTANT:                      # also refuses nan / inf literals
                raise ExprError("constant", limit=_num(MAX_CONSTANT), part=self._part(node))
            return self._add("const", (), v, node)
        if isinstance(node, ast.Name):
            if node.id not in VARIABLES:
                raise ExprError("unknown_name", name=node.id[:20], names=", ".join(VARIABLES))
            if node.id not in self.variables:
                self.variables[node.id] = self._add("var", (), node.id, node)
            return self.variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = self.visit(node.left, depth + 1)
            right = self.visit(node.right, depth + 1)
            op = _BINOPS[type(node.op)]
            self._last_exponent = self.nodes[right]
            return self._add(op, (left, right), SYMBOL[op], node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.visit(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return inner
            if self.nodes[inner].op == "const":                 # "-2" is a number, not an operation
                c = self.nodes.pop()
                return self._add("const", (), -c.value, node)
            return self._add("neg", (inner,), "−", node)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ExprError("not_allowed", part=self._part(node))
            name = node.func.id
            if name not in FUNCTIONS:
                raise ExprError("unknown_function", name=name[:20], names=", ".join(FUNCTIONS))
            if len(node.args) != 1 or node.keywords:
                raise ExprError("arguments", name=name)
            inner = self.visit(node.args[0], depth + 1)
            return self._add(name, (inner,), name, node)
        raise ExprError("not_allowed", part=self._part(node))


def _num(v: float) -> str:
    """A number as the graph shows it: an integer without '.0', else 4 significant digits."""
    v = float(v)
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else f"{v:.4g}"


# ----------------------------------------------------------------------------------------------- backward
def backward(graph: Graph) -> list[Step]:
    r"""The backward pass, one step per non-leaf node from the output back (reverse topological order).

    At node $f$ with inputs $a_i$ the chain rule passes back
    $$\underbrace{\frac{\partial L}{\partial a_i}}_{\text{downstream}} \mathrel{+}=
      \underbrace{\frac{\partial L}{\partial f}}_{\text{upstream}}\;
      \underbrace{\frac{\partial f}{\partial a_i}}_{\text{local}}$$
    and a node read by several consumers (fan-out) sums what each passes back.
    """
    n = len(graph.nodes)
    grads: list = [None] * n
    grads[-1] = 1.0                                             # ∂L/∂L = 1
    steps = []
    for node in reversed(graph.nodes):
        if not node.inputs:
            continue
        upstream = grads[node.id] if grads[node.id] is not None else 0.0
        edges = []
        for src, local in zip(node.inputs, node.local):
            down = upstream * local                             # downstream = upstream × local
            grads[src] = down if grads[src] is None else grads[src] + down   # summed at fan-out
            edges.append(Edge(src, local, down))
        steps.append(Step(node.id, upstream, tuple(edges), tuple(grads)))
    return steps


def fan_out(graph: Graph) -> list[int]:
    """How many nodes read each node (a variable used twice: 2, so its gradient is a sum of 2 terms)."""
    count = [0] * len(graph.nodes)
    for node in graph.nodes:
        for i in node.inputs:
            count[i] += 1
    return count


def gradients(graph: Graph) -> dict[str, float]:
    """∂ output / ∂ variable for every variable of the graph (0 when the output does not depend on it)."""
    last = backward(graph)
    final = last[-1].grads if last else (1.0,) * len(graph.nodes)
    return {name: float(final[i] or 0.0) for name, i in graph.variables.items()}


def evaluate(graph: Graph, values: dict) -> float:
    """The output at other variable values (the same graph, numbers changed; nan where a node's domain ends)."""
    out: list[float] = []
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            if node.op == "var":
                out.append(float(values[node.label]))
            elif node.op == "const":
                out.append(node.value)
            else:
                out.append(float(forward_op(node.op, tuple(np.float64(out[i]) for i in node.inputs))))
    return out[-1]


@dataclass(frozen=True)
class GradCheck:
    names: tuple[str, ...]
    autograd: np.ndarray          # (V,) backward's gradient
    numerical: np.ndarray         # (V,) central difference at h
    rel_error: np.ndarray         # (V,)
    h: float
    hs: np.ndarray                # (H,) the sweep of step sizes
    rel_errors: np.ndarray        # (V, H) relative error at each h


def relative_error(a, b):
    r"""$$\text{rel} = \frac{|a-b|}{\max(|a|+|b|,\ 10^{-12})}$$"""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)


def numerical_gradient(graph: Graph, values: dict, h: float) -> dict[str, float]:
    r"""Central differences, one variable at a time:
    $$\frac{\partial f}{\partial x} \approx \frac{f(x+h) - f(x-h)}{2h}$$"""
    out = {}
    for name in graph.variables:
        plus, minus = dict(values), dict(values)
        plus[name] += h
        minus[name] -= h
        out[name] = (evaluate(graph, plus) - evaluate(graph, minus)) / (2 * h)   # (f(x+h) − f(x−h)) / 2h
    return out


HS = 10.0 ** -np.arange(1, 13)                                  # 1e-1 … 1e-12


def grad_check(graph: Graph, h: float = 1e-5) -> GradCheck:
    """Backward's gradient next to the central difference at `h`, and the relative error over `HS`."""
    values = {name: graph.nodes[i].value for name, i in graph.variables.items()}
    names = tuple(graph.variables)
    auto = gradients(graph)
    a = np.array([auto[n] for n in names])
    num = numerical_gradient(graph, values, h)
    nm = np.array([num[n] for n in names])
    sweep = np.array([[numerical_gradient(graph, values, float(hh))[n] for hh in HS] for n in names]).reshape(
        len(names), len(HS))
    return GradCheck(names, a, nm, relative_error(a, nm), h, HS.copy(), relative_error(a[:, None], sweep))


# ------------------------------------------------------------------------- vanishing and exploding gradients
ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
INITS = ("zero", "normal", "xavier", "he")
WIDTH = 64                      # units per hidden layer
BATCH = 32                      # random inputs per forward pass
MAX_LAYERS = 50

_GELU_C = np.sqrt(2 / np.pi)


def activation(name: str, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The activation and its derivative. GELU is the tanh approximation
    $$\mathrm{GELU}(a) \approx \tfrac12 a\left(1+\tanh\left[\sqrt{2/\pi}\,(a + 0.044715 a^3)\right]\right)$$"""
    if name == "sigmoid":
        s = _sigmoid(a)
        return s, s * (1 - s)
    if name == "tanh":
        th = np.tanh(a)
        return th, 1 - th ** 2
    if name == "relu":
        return np.maximum(a, 0), (a > 0) * 1.0
    if name == "gelu":
        u = _GELU_C * (a + 0.044715 * a ** 3)
        th = np.tanh(u)
        d = 0.5 * (1 + th) + 0.5 * a * (1 - th ** 2) * _GELU_C * (1 + 3 * 0.044715 * a ** 2)
        return 0.5 * a * (1 + th), d
    raise ValueError(name)


def init_std(init: str, fan_in: int, fan_out: int, sigma: float = 0.01) -> float:
    r"""Standard deviation of a normal initialisation.

    $$\text{Xavier: } \sigma = \sqrt{\frac{2}{n_\text{in}+n_\text{out}}},\qquad \text{He: } \sigma = \sqrt{\frac{2}{n_\text{in}}}$$
    """
    if init == "zero":
        return 0.0
    if init == "normal":
        return float(sigma)
    if init == "xavier":
        return float(np.sqrt(2 / (fan_in + fan_out)))       # Glorot & Bengio, normal form of Eq. 16
    if init == "he":
        return float(np.sqrt(2 / fan_in))                   # He et al., Eq. 10
    raise ValueError(init)


def init_weights(n_layers: int, init: str, sigma: float, seed: int) -> list[np.ndarray]:
    """The weights W_1 … W_L, each (WIDTH, WIDTH), from a generator of their own (the same draws for every init:
    standard normals scaled by the init's σ)."""
    std = init_std(init, WIDTH, WIDTH, sigma)
    return [z * std for z in _standard_normals(seed)[:n_layers]]


@lru_cache(maxsize=4)
def _standard_normals(seed: int) -> tuple[np.ndarray, ...]:
    """MAX_LAYERS standard normal (WIDTH, WIDTH) matrices: a network of L layers takes the first L."""
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((WIDTH, WIDTH)) for _ in range(MAX_LAYERS))


def linear_backward(x: np.ndarray, W: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Backward of $Y = XW$: $\partial L/\partial X = \delta W^\top$, $\partial L/\partial W = X^\top \delta$."""
    dx = dout @ W.T                                          # (B, D_in)
    dW = x.T @ dout                                          # (D_in, D_out)
    return dx, dW


@dataclass(frozen=True)
class MLPGrads:
    norms: np.ndarray             # (L,) ‖∂L/∂W_l‖_F, layer 1 (input side) first
    act_std: np.ndarray           # (L,) standard deviation of each layer's activations


def mlp_grad_norms(n_layers: int, act: str, init: str, sigma: float = 0.01, seed: int = 0) -> MLPGrads:
    r"""Forward and backward through $L$ layers $h_l = \phi(h_{l-1} W_l)$ (no biases) on random inputs; the loss is
    $\mathcal{L} = \frac1B\sum g \odot h_L$ with a fixed random $g$, so $\partial\mathcal{L}/\partial h_L = g/B$.

    $$\delta_l = \left(\delta_{l+1} W_{l+1}^\top\right) \odot \phi'(a_l),\qquad
      \frac{\partial \mathcal{L}}{\partial W_l} = h_{l-1}^\top \delta_l$$
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, WIDTH))                 # (B, D)
    g = rng.standard_normal((BATCH, WIDTH)) / BATCH         # ∂L/∂h_L  (B, D)
    Ws = init_weights(n_layers, init, sigma, seed + 1)
    hs, ds = [x], []
    with np.errstate(all="ignore"):
        for W in Ws:
            h, d = activation(act, hs[-1] @ W)               # h_l = φ(h_{l−1} W_l)
            hs.append(h)
            ds.append(d)
        delta = g
        norms = np.zeros(n_layers)
        for l in range(n_layers - 1, -1, -1):
            delta = delta * ds[l]                            # δ_l = (∂L/∂h_l) ⊙ φ'(a_l)
            delta_in, dW = linear_backward(hs[l], Ws[l], delta)
            norms[l] = np.sqrt(np.sum(dW ** 2))              # ‖∂L/∂W_l‖_F
            delta = delta_in
    return MLPGrads(norms, np.array([h.std() for h in hs[1:]]))


@dataclass(frozen=True)
class DepthSweep:
    depths: np.ndarray            # (D,) 1 … max_layers
    first: dict                   # activation -> (D,) ‖∂L/∂W_1‖ of a network that deep
    per_layer: dict               # activation -> (L,) norms of the network of `n_layers` layers


def depth_sweep(n_layers: int, init: str, sigma: float = 0.01, seed: int = 0,
                max_layers: int = MAX_LAYERS) -> DepthSweep:
    """Per activation: the first layer's gradient norm for every depth 1 … max_layers, and every layer's norm for
    the network of `n_layers` layers — each network exactly `mlp_grad_norms`'s. The networks share their first
    layers (the same draws), so one forward pass serves all depths and their backward passes run side by side."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, WIDTH))                 # (B, D), as mlp_grad_norms draws them
    g = rng.standard_normal((BATCH, WIDTH)) / BATCH
    Ws = init_weights(max_layers, init, sigma, seed + 1)
    first, per_layer = {}, {}
    with np.errstate(all="ignore"):
        for act in ACTIVATIONS:
            hs, ds = [x], []
            for W in Ws:
                h, d = activation(act, hs[-1] @ W)
                hs.append(h)
                ds.append(d)
            delta = np.zeros((max_layers, BATCH, WIDTH))     # (K, B, D): network k has k + 1 layers
            norms = np.zeros((max_layers, max_layers))        # (K, L)
            for l in range(max_layers - 1, -1, -1):
                delta[l] = g                                  # the network of l + 1 layers starts here
                delta[l:] *= ds[l]                            # δ_l = (∂L/∂h_l) ⊙ φ'(a_l)
                dW = hs[l].T @ delta[l:]                      # (K', D, D): h_{l−1}ᵀ δ_l
                norms[l:, l] = np.sqrt(np.sum(dW ** 2, axis=(1, 2)))
                delta[l:] = delta[l:] @ Ws[l].T
            first[act] = norms[:, 0].copy()
            per_layer[act] = norms[n_layers - 1, :n_layers].copy()
    return DepthSweep(np.arange(1, max_layers + 1), first, per_layer)
