"""engine.common.logistic (BERT's linear head, SSL's linear probe) against scikit-learn's LogisticRegression."""
from __future__ import annotations

import numpy as np
import pytest

from engine.common.logistic import fit_logistic


@pytest.mark.parametrize("C", [0.5, 1.0, 10.0])
def test_fit_logistic_equals_scikit_learn(C):
    from scipy.special import softmax
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)           # three classes, unbalanced
    W, b = fit_logistic(X, y, 3, C=C)
    sk = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(softmax(X @ W.T + b, axis=1), sk.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(W, sk.coef_, atol=1e-3)


def test_an_unseen_class_gets_no_weight_from_the_data():
    """K larger than the labels seen (a probe's test set can hold a class its few labels miss): that row is driven
    by the penalty alone, W = 0, and its intercept goes down."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    y = (X[:, 0] > 0).astype(int)
    W, b = fit_logistic(X, y, 3)
    np.testing.assert_allclose(W[2], 0, atol=1e-6)
    assert b[2] < min(b[0], b[1])
