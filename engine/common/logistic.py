r"""Multinomial logistic regression by L-BFGS in numpy + scipy: the linear probe and linear head of several chapters
(BERT's [CLS] vs mean-pooled classifier, SSL's linear probe), scikit-learn's objective

$$\min_{W,b}\ \tfrac12\lVert W\rVert^2 + C\sum_i -\log\mathrm{softmax}(W x_i + b)_{y_i}$$

(the intercept is not penalised). Why not torch: `torch.optim`'s constructor imports `torch._dynamo` (~140 MB), and
torch's L-BFGS runs hundreds of tiny tensor ops, each releasing and re-taking the GIL: with 20 sessions in one server
a probe that takes 0.1 s alone took seconds. Here the loss and gradient are a few BLAS calls and the optimiser is
scipy's L-BFGS-B.
"""
from __future__ import annotations

import numpy as np


def fit_logistic(X: np.ndarray, y: np.ndarray, n_classes: int, C: float = 1.0, max_iter: int = 100,
                 gtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    r"""$W$ (K, D), $b$ (K,) minimising $\tfrac12\|W\|^2 + C\sum_i -\log \mathrm{softmax}(W x_i + b)_{y_i}$.

    Gradient: $\nabla_W = W + C\,(P - Y)^\top X$, $\nabla_b = C\,\mathbf{1}^\top(P - Y)$ with $P$ the softmax
    probabilities and $Y$ the one-hot labels."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax
    X = np.asarray(X, dtype=np.float64)                                                # (N, D)
    N, D = X.shape
    K = n_classes
    Y = np.eye(K)[np.asarray(y)]                                                       # (N, K) one-hot

    def f(theta):
        W, b = theta[:K * D].reshape(K, D), theta[K * D:]
        logp = log_softmax(X @ W.T + b, axis=1)                                        # (N, K)
        # ½‖W‖² + C Σ −log softmax(W x + b)_y
        loss = 0.5 * (W ** 2).sum() - C * (Y * logp).sum()
        R = C * (np.exp(logp) - Y)                                                     # (N, K) C (P − Y)
        return loss, np.concatenate([(W + R.T @ X).ravel(), R.sum(0)])

    res = minimize(f, np.zeros(K * D + K), jac=True, method="L-BFGS-B",
                   options=dict(maxiter=max_iter, gtol=gtol, ftol=1e-14, maxcor=20))
    return res.x[:K * D].reshape(K, D), res.x[K * D:]
