r"""A one-hidden-layer ReLU MLP in NumPy with its gradient by hand (backprop written out): the optimisers chapter
trains it on the 14×14 digits, the distributed-training chapter splits its batch across workers.

$$ h = \mathrm{ReLU}(x W_1 + b_1),\quad z = h W_2 + b_2,\quad L = -\frac1B \sum_i \log \mathrm{softmax}(z_i)_{y_i} $$
"""
from __future__ import annotations

import math

import numpy as np


def mlp_init(sizes: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    """[W1, b1, W2, b2, …], W (fan_in, fan_out) from He's normal N(0, 2/fan_in), b = 0."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(0.0, math.sqrt(2.0 / fan_in), (fan_in, fan_out)), np.zeros(fan_out)]
    return params


def mlp_loss_grad(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    r"""Cross-entropy of a one-hidden-layer ReLU MLP and its gradient (backprop by hand).

    $$ h = \mathrm{ReLU}(x W_1 + b_1),\quad z = h W_2 + b_2,\quad
       L = -\frac1B \sum_i \log \mathrm{softmax}(z_i)_{y_i} $$"""
    W1, b1, W2, b2 = params
    B = len(y)
    a = x @ W1 + b1                                                    # (B, H)
    h = np.maximum(a, 0.0)                                             # (B, H)
    z = h @ W2 + b2                                                    # (B, 10)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)                                  # (B, 10) softmax
    loss = float(-np.log(p[np.arange(B), y] + 1e-300).mean())
    # ∂L/∂z = (softmax − onehot) / B
    dz = p
    dz[np.arange(B), y] -= 1.0
    dz /= B                                                            # (B, 10)
    dh = dz @ W2.T                                                     # (B, H)
    da = dh * (a > 0)                                                  # ReLU'
    return loss, [x.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)]


def mlp_accuracy(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    W1, b1, W2, b2 = params
    z = np.maximum(x @ W1 + b1, 0.0) @ W2 + b2                         # (N, 10)
    return float((z.argmax(axis=1) == y).mean())
