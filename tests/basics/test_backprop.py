"""Backpropagation: every node's gradient against torch.autograd on the same expression (random expressions and
values), the numerical check against torch's, the deep MLP's per-layer gradient norms against torch for every
activation × init, hostile typed input (always a coded ExprError, never an exception or an evaluation), the page
in both languages, and the practice items against torch."""
from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.basics import backprop as B

PAGE = "pages/basics/backprop.py"
TORCH_FN = {"exp": torch.exp, "log": torch.log, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh,
            "sigmoid": torch.sigmoid, "relu": torch.relu, "sqrt": torch.sqrt}
TORCH_BIN = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow}


def torch_graph(text: str, values: dict) -> tuple[torch.Tensor, dict, dict]:
    """The expression built in torch straight from Python's ast (independent of the engine's builder): the output,
    {(start, end): tensor} of every operation and constant (retain_grad), {name: leaf}."""
    tree = ast.parse(text, mode="eval")
    leaves = {n: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for n, v in values.items()}
    spans = {}

    def leaf(value: float, node) -> torch.Tensor:
        c = torch.tensor(float(value), dtype=torch.float64, requires_grad=True)
        spans[(node.col_offset, node.end_col_offset)] = c
        return c

    def go(node):
        if isinstance(node, ast.Constant):
            return leaf(node.value, node)
        if isinstance(node, ast.Name):
            return leaves[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return leaf(-node.operand.value, node)
        if isinstance(node, ast.UnaryOp):
            inner = go(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            out = -inner
        elif isinstance(node, ast.BinOp):
            out = TORCH_BIN[type(node.op)](go(node.left), go(node.right))
        else:
            out = TORCH_FN[node.func.id](go(node.args[0]))
        out.retain_grad()
        spans[(node.col_offset, node.end_col_offset)] = out
        return out

    out = go(tree.body)
    return out, spans, leaves


def assert_graph_equals_torch(text: str, values: dict) -> None:
    g = B.parse(text, values)
    out, spans, leaves = torch_graph(g.text, {n: values[n] for n in g.variables})
    out.backward()
    steps = B.backward(g)
    final = steps[-1].grads if steps else (1.0,)
    assert g.output.value == pytest.approx(out.item(), rel=1e-12, abs=1e-12)
    for node in g.nodes:
        ref = leaves[node.label] if node.op == "var" else spans[node.span]
        assert node.value == pytest.approx(ref.item(), rel=1e-12, abs=1e-12), (text, node)
        want = 0.0 if ref.grad is None else ref.grad.item()
        if math.isnan(want):        # d(a^c)/dc = a^c ln a does not exist for a < 0: only a constant exponent
            pow_node = next(n for n in g.nodes if n.op == "pow" and n.inputs[1] == node.id)
            assert node.op == "const" and g.nodes[pow_node.inputs[0]].value < 0 and node.value == int(node.value)
            continue
        got = final[node.id] if final[node.id] is not None else 0.0
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (text, node)


@pytest.mark.parametrize("name", list(B.PRESETS))
def test_presets_every_node_equals_autograd(name):
    rng = np.random.default_rng(0)
    for _ in range(10):
        values = {n: float(rng.uniform(-2, 2)) for n in B.VARIABLES}
        assert_graph_equals_torch(B.PRESETS[name], values)


def random_expression(rng: np.random.Generator, depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return str(rng.choice(list(B.VARIABLES[:4]))) if rng.random() < 0.75 else f"{rng.uniform(-3, 3):.2f}"
    kind = rng.integers(4)
    if kind == 0:
        fn = str(rng.choice(B.FUNCTIONS))
        return f"{fn}({random_expression(rng, depth - 1)})"
    if kind == 1:
        return f"-({random_expression(rng, depth - 1)})"
    if kind == 2 and rng.random() < 0.3:
        return f"({random_expression(rng, depth - 1)}) ** {int(rng.integers(0, 4))}"
    op = str(rng.choice(["+", "-", "*", "/"]))
    return f"({random_expression(rng, depth - 1)}) {op} ({random_expression(rng, depth - 1)})"


def test_random_expressions_every_node_equals_autograd():
    """Hundreds of random expressions at random values; the ones the engine refuses are refused with a code."""
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(400):
        text = random_expression(rng, int(rng.integers(1, 5)))
        values = {n: float(rng.uniform(-2, 2)) for n in B.VARIABLES}
        try:
            B.parse(text, values)
        except B.ExprError as err:
            assert err.code in CODES
            continue
        assert_graph_equals_torch(text, values)
        checked += 1
    assert checked > 250


def test_fan_out_sums_what_each_consumer_passes_back():
    g = B.parse("x * y + sin(x)", {"x": 0.7, "y": -1.3})
    steps = B.backward(g)
    into_x = [e.downstream for s in steps for e in s.edges if e.source == g.variables["x"]]
    assert len(into_x) == 2
    assert sum(into_x) == pytest.approx(-1.3 + math.cos(0.7))
    for s in steps:                         # downstream = upstream × local on every edge
        for e in s.edges:
            assert e.downstream == pytest.approx(s.upstream * e.local)


def test_steps_go_in_reverse_topological_order_and_each_upstream_is_final():
    g = B.parse(B.PRESETS["network"])
    steps = B.backward(g)
    final = steps[-1].grads
    assert [s.node for s in steps] == sorted((n.id for n in g.nodes if n.inputs), reverse=True)
    for s in steps:
        assert s.upstream == pytest.approx(final[s.node])


# ------------------------------------------------------------------------------------------ numerical check
def test_numerical_gradient_equals_central_difference_in_torch_and_autograd():
    text = B.PRESETS["logistic"]
    values = {"x": 0.3, "w": -1.1, "b": 0.4, "t": 1.0}
    g = B.parse(text, values)
    check = B.grad_check(g, h=1e-5)
    for i, name in enumerate(check.names):
        def f(v):
            vals = dict(values, **{name: v})
            return torch_graph(g.text, vals)[0].item()
        ref = (f(values[name] + 1e-5) - f(values[name] - 1e-5)) / 2e-5
        assert check.numerical[i] == pytest.approx(ref, rel=1e-8)
    out, _, leaves = torch_graph(g.text, values)
    out.backward()
    np.testing.assert_allclose(check.autograd, [leaves[n].grad.item() for n in check.names], rtol=1e-12)
    assert check.rel_error.max() < 1e-8
    np.testing.assert_allclose(check.rel_error, np.abs(check.autograd - check.numerical)
                               / (np.abs(check.autograd) + np.abs(check.numerical)))
    # the error is V-shaped in h: truncation (∝ h²) at large h, rounding at tiny h
    worst = check.rel_errors.max(axis=0)
    assert worst[0] > 1e-6 and worst[4] < 1e-9 and worst[-1] > worst[4]


# ------------------------------------------------------------------------------------------ deep MLP norms
def torch_mlp_norms(n_layers: int, act: str, init: str, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((B.BATCH, B.WIDTH)))
    g = torch.from_numpy(rng.standard_normal((B.BATCH, B.WIDTH)) / B.BATCH)
    rng_w = np.random.default_rng(seed + 1)
    layers = []
    for _ in range(n_layers):
        lin = torch.nn.Linear(B.WIDTH, B.WIDTH, bias=False).double()
        z = torch.from_numpy(rng_w.standard_normal((B.WIDTH, B.WIDTH)))     # (in, out); Linear holds (out, in)
        with torch.no_grad():
            if init == "zero":
                torch.nn.init.zeros_(lin.weight)
            else:
                std = {"normal": sigma, "xavier": math.sqrt(2 / (2 * B.WIDTH)), "he": math.sqrt(2 / B.WIDTH)}[init]
                lin.weight.copy_(z.T * std)
        if init == "xavier":
            gain_std = torch.nn.init.calculate_gain("linear") * math.sqrt(2 / (B.WIDTH + B.WIDTH))
            assert math.isclose(std, gain_std)
        if init == "he":            # torch's kaiming_normal_ (fan_in, relu) has the same std
            assert math.isclose(std, torch.nn.init.calculate_gain("relu") / math.sqrt(B.WIDTH))
        layers.append(lin)
    phi = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "gelu": lambda a: F.gelu(a, approximate="tanh")}[act]
    h = x
    for lin in layers:
        h = phi(lin(h))
    (g * h).sum().backward()
    return np.array([lin.weight.grad.norm().item() for lin in layers])


@pytest.mark.parametrize("act", B.ACTIVATIONS)
@pytest.mark.parametrize("init,sigma", [("zero", 0.0), ("normal", 0.05), ("normal", 1.0), ("xavier", 0.0),
                                        ("he", 0.0)])
def test_mlp_grad_norms_equal_torch(act, init, sigma):
    for n_layers in (1, 7, 30):
        ours = B.mlp_grad_norms(n_layers, act, init, sigma).norms
        # σ = 1 explodes: the last bit of each product grows with depth (≈ 1e-6 after 30 layers of saturated tanh)
        rtol = 1e-5 if sigma == 1.0 else 1e-8
        np.testing.assert_allclose(ours, torch_mlp_norms(n_layers, act, init, sigma), rtol=rtol, atol=1e-300)


def test_depth_sweep_equals_one_network_per_depth():
    sweep = B.depth_sweep(12, "he", max_layers=15)
    for act in B.ACTIVATIONS:
        np.testing.assert_allclose(sweep.per_layer[act], B.mlp_grad_norms(12, act, "he").norms, rtol=1e-10)
        ref = [B.mlp_grad_norms(d, act, "he").norms[0] for d in range(1, 16)]
        np.testing.assert_allclose(sweep.first[act], ref, rtol=1e-10)


def test_vanishing_and_exploding_as_the_page_says():
    sig = B.depth_sweep(30, "xavier").first["sigmoid"]
    assert sig[29] < 1e-12 * sig[0]                               # sigmoid + Xavier vanishes
    relu = B.depth_sweep(30, "he").first["relu"]
    assert 0.1 < relu[29] / relu[0] < 10                          # ReLU + He keeps its scale
    big = B.depth_sweep(30, "normal", sigma=1.0).first["relu"]
    assert big[29] > 1e15 * big[0]                                # σ = 1 explodes
    zero = B.depth_sweep(5, "zero").per_layer
    assert np.all(zero["tanh"] == 0) and np.all(zero["sigmoid"][:-1] == 0) and zero["sigmoid"][-1] > 0


def test_activation_derivatives_equal_autograd():
    a = torch.linspace(-6, 6, 241, dtype=torch.float64, requires_grad=True)
    for name, fn in (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu),
                     ("gelu", lambda v: F.gelu(v, approximate="tanh"))):
        y = fn(a)
        (d,) = torch.autograd.grad(y.sum(), a)
        val, der = B.activation(name, a.detach().numpy())
        np.testing.assert_allclose(val, y.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(der, d.numpy(), rtol=1e-10, atol=1e-12)   # GELU far left: cancellation


# ------------------------------------------------------------------------------------------ hostile input
def _balanced(n: int) -> str:
    """A sum of n ones as a balanced tree: shallow (log₂ n), short, but 2n − 1 nodes."""
    return "1" if n == 1 else f"({_balanced(n // 2)}+{_balanced(n - n // 2)})"


CODES = {"empty", "too_long", "too_deep", "too_many_nodes", "syntax", "unknown_name", "unknown_function",
         "not_allowed", "arguments", "constant", "exponent", "division_by_zero", "log_domain", "sqrt_domain",
         "pow_domain", "overflow"}

HOSTILE = [
    ("x" * 100_000, "too_long"), ("1+" * 50_000 + "1", "too_long"), ("", "empty"), ("   \n\t", "empty"),
    ("__import__('os').system('echo hi')", "not_allowed"), ("__import__('os')", "unknown_function"),
    ("x.__class__", "not_allowed"),
    ("().__class__.__bases__", "not_allowed"), ("lambda: 1", "not_allowed"), ("open('/etc/passwd')", "unknown_function"),
    ("q + 1", "unknown_name"), ("np", "unknown_name"), ("2 ** 10000", "exponent"), ("x ** 99", "exponent"),
    ("x / 0", "division_by_zero"), ("x / (y - y)", "division_by_zero"), ("log(0)", "log_domain"),
    ("sqrt(-x)", "sqrt_domain"), ("(" * 300 + "x" + ")" * 300, "too_long"), ("(" * 40 + "x" + ")" * 40, "too_deep"),
    ("sin(" * 30 + "x" + ")" * 30, "too_deep"), ("-" * 150 + "x", "too_deep"),
    ("exp(exp(exp(exp(x))))", "overflow"), ("2 ** (2 ** (2 ** (2 ** (2 ** z))))", "overflow"),
    ("x +", "syntax"), ("x = 1", "syntax"), ("\x00", "syntax"), ("'abc'", "not_allowed"), ("[x]", "not_allowed"),
    ("x if y else z", "not_allowed"), ("x @ y", "not_allowed"), ("x < y", "not_allowed"), ("True", "not_allowed"),
    ("1j", "not_allowed"), ("1e400", "constant"), ("10 ** 20", "exponent"), ("99999999999999999999", "constant"),
    ("sin(x, y)", "arguments"), ("exp(x=1)", "arguments"), ("f(x)", "unknown_function"), ("x.real", "not_allowed"),
    ("(-8) ** 0.5", "pow_domain"), ("y ** x", "pow_domain"), ("😀 + x", "syntax"),
    (_balanced(32), "too_many_nodes"), ("x; import os", "syntax"), ("{x}", "not_allowed"),
]


@pytest.mark.parametrize("text,code", HOSTILE)
def test_hostile_input_is_a_coded_error(text, code, monkeypatch):
    import builtins

    def refuse(*_a, **_k):
        raise AssertionError("the parser evaluated code")
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    with pytest.raises(B.ExprError) as info:
        B.parse(text, {"x": 1.0, "y": -2.0, "z": 3.0})
    assert info.value.code == code, (text[:40], info.value.code)


def test_typed_forms_a_learner_uses():
    assert B.parse("１＋ｘ×２", {"x": 3}).output.value == 7               # full-width IME input
    assert B.parse("x^2 − y", {"x": 3, "y": 1}).output.value == 8          # ^ and the minus sign
    assert B.parse("x ÷ 4", {"x": 2}).output.value == 0.5
    g = B.parse("-2 * x", {"x": 1})
    assert [n.op for n in g.nodes] == ["const", "var", "mul"] and g.nodes[0].value == -2


def test_every_error_code_has_words_in_both_languages():
    import tomllib

    with open("locales/backprop.toml", "rb") as fh:
        loc = tomllib.load(fh)
    for lang in ("en", "ja"):
        assert set(loc[lang]["errors"]) == CODES


# ------------------------------------------------------------------------------------------------ page
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_steps_types_and_refuses(lang):
    from conftest import assert_ok, run_page

    at = run_page(PAGE, lang=lang)
    assert_ok(at)
    assert not at.error
    n_charts = len(at.get("plotly_chart"))
    assert n_charts >= 4
    at.selectbox(key="backprop.preset").set_value("network").run()
    assert_ok(at)
    assert at.text_input(key="backprop.expr").value == B.PRESETS["network"]
    step = next(s for s in at.slider if s.key.startswith("backprop.step"))
    step.set_value(step.max).run()
    assert_ok(at)
    at.text_input(key="backprop.expr").set_value("__import__('os').system('x')").run()
    assert_ok(at)
    assert at.error and "__import__" in at.error[0].value
    assert len(at.get("plotly_chart")) >= 2                      # the gradient-norm charts still drawn
    at.text_input(key="backprop.expr").set_value("x * z / (y - y)").run()
    assert_ok(at)
    assert at.error
    at.text_input(key="backprop.expr").set_value("x * z + x").run()
    assert_ok(at)
    assert not at.error and len(at.get("plotly_chart")) == n_charts
    at.number_input(key="backprop.v.x").set_value(2.0).run()
    assert_ok(at)
    at.selectbox(key="backprop.init").set_value("normal").run()
    at.select_slider(key="backprop.sigma").set_value(1.0).run()
    at.slider(key="backprop.layers").set_value(50).run()
    assert_ok(at)


# ------------------------------------------------------------------------------------------------ practice
def test_practice_compute_answers_equal_torch():
    from engine.common import practice as P

    for seed in range(200):
        item = P.make("backprop", "chain_rule", seed)
        q = item.params
        out, _, leaves = torch_graph(q["expr"], {n: float(v) for n, v in q["values"].items()})
        out.backward()
        assert item.answer == pytest.approx(leaves[q["var"]].grad.item(), abs=1e-9)
        assert [c.label["en"] for c in item.choices if c.correct] == [f"{item.answer:.4g}"]
        item = P.make("backprop", "sigmoid_derivative", seed)
        x = torch.tensor(item.params["x"], dtype=torch.float64, requires_grad=True)
        (d,) = torch.autograd.grad(torch.sigmoid(x), x)
        assert item.answer == pytest.approx(d.item(), abs=1e-12)


def test_practice_snippets_expected_equal_autograd():
    from engine.common import practice as P

    for seed in range(0, 200, 2):
        item = P.make("backprop", "affine_backward", seed)
        x, W, dout = (torch.from_numpy(a) for a in item.exec.args)
        W.requires_grad_(True)
        (x @ W).backward(dout)
        np.testing.assert_allclose(item.exec.expected, W.grad.numpy(), atol=1e-12)
        ran = [P.matches(P.execute(item.snippet(i), item.exec), item.exec) for i in range(len(item.choices))]
        assert ran == [c.correct for c in item.choices]
        item = P.make("backprop", "node_backward_blank", seed)
        q = item.params
        x, y = (torch.tensor(q[k], dtype=torch.float64, requires_grad=True) for k in ("x", "y"))
        z = {"mul": torch.mul, "add": torch.add, "div": torch.div}[q["op"]](x, y)
        dx, dy = torch.autograd.grad(z, (x, y), torch.from_numpy(q["dout"]))
        np.testing.assert_allclose(np.asarray(item.exec.expected), np.stack([dx.numpy(), dy.numpy()]), atol=1e-12)
        ran = [P.matches(P.execute(item.snippet(i), item.exec), item.exec) for i in range(len(item.choices))]
        assert ran == [c.correct for c in item.choices]


def test_practice_statements_hold():
    """What the statement item calls true holds in torch; what it calls false fails."""
    a = torch.linspace(-8, 8, 1601, dtype=torch.float64, requires_grad=True)
    (ds,) = torch.autograd.grad(torch.sigmoid(a).sum(), a)
    (dt,) = torch.autograd.grad(torch.tanh(a).sum(), a)
    (dr,) = torch.autograd.grad(torch.relu(a).sum(), a)
    assert ds.max().item() == pytest.approx(0.25) and dt.max().item() == pytest.approx(1.0)   # sigmoid / tanh_quarter
    assert set(dr.unique().tolist()) == {0.0, 1.0}                                           # relu_one / relu_never
    # he_relu / xavier_tanh: the std torch's initialisers use
    w = torch.empty(256, 128)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert w.var().item() == pytest.approx(2 / 128, rel=0.05)
    torch.nn.init.xavier_normal_(w)
    assert w.var().item() == pytest.approx(2 / (128 + 256), rel=0.05)
    # zero_symmetry / input_side: in the chapter's deep MLP
    assert np.all(B.mlp_grad_norms(6, "tanh", "zero").norms == 0)
    sig = B.mlp_grad_norms(20, "sigmoid", "xavier").norms
    assert sig[0] < sig[-1] * 1e-6
    # check_central / forward_diff: central error ∝ h², forward ∝ h
    f, x0 = math.sin, 0.7
    for h in (1e-2, 1e-3):
        central = abs((f(x0 + h) - f(x0 - h)) / (2 * h) - math.cos(x0))
        forward = abs((f(x0 + h) - f(x0)) / h - math.cos(x0))
        assert central < forward / 10
    # clip_explode / clip_vanish: clipping only ever shrinks a gradient
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.tensor([1e-8, 0.0, 1e-8])
    torch.nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad.abs().max().item() == pytest.approx(1e-8)
