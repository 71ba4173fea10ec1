"""Backpropagation targets, each printed as a ratio against a reference measured in this run:

1. Our backward pass (a Python loop over the graph's nodes, one chain-rule step each) against torch.autograd on the
   same graph (the 2-2-1 network preset and the logistic loss): parse + forward + backward vs building the tensors
   and calling .backward(). Scalars: both are interpreter-bound; ours should stay within a small factor.
2. The deep-MLP sweep (4 activations × depths 1 … 50, the page's "first snapshot" of section 3) ≤ 1 s, and one
   50-layer forward/backward against torch's.
3. Page rerun after a slider change (backward step, depth; every depth a new sweep), headless AppTest in a fresh
   process: p95 ≤ 1 s;
   the cold first render against 1 s is printed.
"""
from __future__ import annotations

import ast

import numpy as np

from bench.common import best_of, page_timings, report


def _torch_backward(tree, values):
    import torch

    fns = {"exp": torch.exp, "log": torch.log, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh,
           "sigmoid": torch.sigmoid, "relu": torch.relu, "sqrt": torch.sqrt}
    ops = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow}
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()}

    def go(node):
        if isinstance(node, ast.Constant):
            return torch.tensor(float(node.value), dtype=torch.float64)
        if isinstance(node, ast.Name):
            return leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            return -go(node.operand)
        if isinstance(node, ast.BinOp):
            return ops[type(node.op)](go(node.left), go(node.right))
        return fns[node.func.id](go(node.args[0]))

    go(tree.body).backward()
    return {n: t.grad.item() for n, t in leaves.items()}


def bench_graph() -> None:
    import torch

    from engine.basics import backprop as B

    torch.set_num_threads(1)
    for name in ("network", "logistic"):
        text = B.PRESETS[name]
        graph = B.parse(text)
        values = {n: graph.nodes[i].value for n, i in graph.variables.items()}
        tree = ast.parse(graph.text, mode="eval")
        ours = best_of(lambda: B.gradients(B.parse(text, values)), repeat=7, number=50)
        ref = best_of(lambda: _torch_backward(tree, values), repeat=7, number=50)
        report(f"{name} ({len(graph.nodes)} nodes): parse+backward / torch", 1e6 * ours, 1e6 * ref, unit="µs",
               target=5.0)
        backward_only = best_of(lambda: B.backward(graph), repeat=7, number=200)
        report(f"{name}: backward alone / torch autograd", 1e6 * backward_only, 1e6 * ref, unit="µs", target=1.0)


def bench_deep() -> None:
    import torch

    from engine.basics import backprop as B

    torch.set_num_threads(1)
    B.depth_sweep(20, "he")                       # warm the weight cache, as the page's second visit finds it
    for init in ("xavier", "normal"):
        sweep = best_of(lambda: B.depth_sweep(20, init, 0.05), repeat=3)
        report(f"depth sweep (4 activations × 1…50 layers, {init}) vs 1 s", sweep, 1.0, target=1.0)
    ours = best_of(lambda: B.mlp_grad_norms(50, "relu", "he"), repeat=5, number=5)
    x = torch.randn(B.BATCH, B.WIDTH, dtype=torch.float64)
    layers = [torch.nn.Linear(B.WIDTH, B.WIDTH, bias=False).double() for _ in range(50)]

    def ref():
        h = x
        for lin in layers:
            h = torch.relu(lin(h))
        h.sum().backward()
        return [lin.weight.grad.norm() for lin in layers]
    t = best_of(ref, repeat=5, number=5)
    report("one 50-layer MLP forward+backward / torch", ours, t, target=5.0)


def bench_page() -> None:
    res = page_timings("pages/basics/backprop.py", {
        "backprop.step": [2, 0, 1, 2, 0, 1, 2, 1], "backprop.layers": [10, 50, 1, 30, 40, 5, 2, 45]})
    report("cold first render (s) vs 1 s", res["cold"], 1.0, target=float("inf"))
    for key in ("backprop.step", "backprop.layers"):
        report(f"page rerun after {key.split('.')[1]} change, p95 (s) vs 1 s", float(np.percentile(res[key], 95)),
               1.0, target=1.0)


def main() -> None:
    bench_graph()
    bench_deep()
    bench_page()


if __name__ == "__main__":
    main()
