r"""LIME on images (superpixels) and on tables, with its internals exposed, and a stability measure across seeds.

LIME approximates the model $f$ near one input $x$ by a linear model $g(z') = w_g\cdot z'$ on an interpretable
representation $z'\in\{0,1\}^{d'}$ (which superpixels are kept), fitted on perturbed samples weighted by their
proximity to $x$:

$$\mathcal{L}(f, g, \pi_x) = \sum_{z, z'\in\mathcal{Z}} \pi_x(z)\,\big(f(z) - g(z')\big)^2,
  \qquad \pi_x(z) = \exp\!\big(-D(x, z)^2/\sigma^2\big)$$

The explanation itself is the ``lime`` library's (``LimeBase.explain_instance_with_data``: the weighted ridge fit);
the perturbed images are built as ``lime_image.LimeImageExplainer.data_labels`` builds them (same random draws from
the same ``RandomState``), only vectorised, so that the samples, distances and weights can be shown.
Note that ``lime`` uses $\sqrt{\exp(-d^2/\sigma^2)}$ as the sample weight, i.e. $\exp(-d^2/(2\sigma^2))$.

References
----------
Ribeiro, Singh, Guestrin, "Why Should I Trust You?": Explaining the Predictions of Any Classifier, KDD 2016
(Eq. 1 the objective, Eq. 2 the locally weighted square loss).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import numpy as np

PredictFn = Callable[[np.ndarray], np.ndarray]    # (N, H, W, 3) float images → (N, C) probabilities


def segment(rgb: np.ndarray, method: str = "slic", n_segments: int = 50, compactness: float = 10.0,
            kernel_size: float = 4.0, max_dist: float = 200.0, ratio: float = 0.2, seed: int = 0) -> np.ndarray:
    """Superpixels (H, W) int, labelled 0 … M−1 (LIME's interpretable features). SLIC (n_segments, compactness)
    or quickshift (kernel_size, max_dist, ratio: lime's defaults), from scikit-image."""
    from skimage.segmentation import quickshift, slic

    img = np.asarray(rgb)
    if method == "slic":
        labels = slic(img, n_segments=n_segments, compactness=compactness, start_label=0)
    elif method == "quickshift":
        labels = quickshift(img.astype(np.float64) / 255.0 if img.dtype == np.uint8 else img,
                            kernel_size=kernel_size, max_dist=max_dist, ratio=ratio, rng=seed)
    else:
        raise ValueError(f"unknown segmentation {method!r}")
    _, dense = np.unique(labels, return_inverse=True)
    return dense.reshape(labels.shape).astype(np.int64)


def mean_colour_image(rgb: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """LIME's default `hide_color=None`: every superpixel replaced by its mean colour. (H, W, 3) float."""
    img = np.asarray(rgb, dtype=np.float64)
    m = segments.max() + 1
    counts = np.bincount(segments.ravel(), minlength=m)[:, None]                      # (M, 1)
    sums = np.stack([np.bincount(segments.ravel(), img[..., c].ravel(), minlength=m) for c in range(3)], 1)
    return (sums / np.maximum(counts, 1))[segments]                                    # (H, W, 3)


def perturb(rgb: np.ndarray, fudged: np.ndarray, segments: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Images for binary masks z (N, M): superpixel j kept where z_j = 1, else taken from `fudged`.
    → (N, H, W, 3) in the common dtype of `rgb` and `fudged` (uint8 when both are: a quarter of the bytes to
    build and hand to the model, same values)."""
    keep = z[:, segments].astype(bool)[..., None]                                      # (N, H, W, 1)
    return np.where(keep, np.asarray(rgb)[None], np.asarray(fudged)[None])


def mask_distances(data: np.ndarray) -> np.ndarray:
    """D(x, z) as lime_image measures it: the cosine distance of each mask z' (N, M) to the original, all ones.
    (N,)"""
    import sklearn.metrics

    ones = np.ones((1, data.shape[1]))
    return sklearn.metrics.pairwise_distances(data, ones, metric="cosine").ravel()


def kernel_pi(d: np.ndarray, kernel_width: float) -> np.ndarray:
    r"""The paper's proximity $\pi_x(z) = \exp(-D(x, z)^2/\sigma^2)$."""
    return np.exp(-(np.asarray(d, dtype=float) ** 2) / kernel_width ** 2)


def sample_weight(d: np.ndarray, kernel_width: float) -> np.ndarray:
    r"""The weight lime_image gives a sample: $\sqrt{\pi_x(z)} = \exp(-D^2/(2\sigma^2))$ (its default kernel)."""
    return np.sqrt(kernel_pi(d, kernel_width))


def fit_surrogate(data: np.ndarray, y: np.ndarray, distances: np.ndarray, kernel_width: float,
                  seed: int = 0) -> tuple[float, np.ndarray, float, float]:
    """lime's `LimeBase.explain_instance_with_data` (feature_selection 'none'): Ridge(α = 1) on the masks (N, M)
    with sample weights `sample_weight(distances)`. → (intercept, coef (M,), weighted R², g(row 0))."""
    from lime import lime_base
    from sklearn.utils import check_random_state

    m = data.shape[1]
    base = lime_base.LimeBase(lambda d: sample_weight(d, kernel_width), random_state=check_random_state(seed))
    intercept, local_exp, score, local_pred = base.explain_instance_with_data(
        data, np.asarray(y, dtype=float)[:, None], distances, 0, m, feature_selection="none")
    coef = np.zeros(m)
    for j, w in local_exp:
        coef[j] = w
    return float(intercept), coef, float(score), float(np.ravel(local_pred)[0])


@dataclass(frozen=True)
class LimeResult:
    segments: np.ndarray     # (H, W) superpixel ids 0 … M−1
    data: np.ndarray         # (N, M) z' of each perturbed sample (row 0 = the original, all ones)
    probs: np.ndarray        # (N,) f(z): the model's probability of the target on each sample
    distances: np.ndarray    # (N,) D(x, z): cosine distance of z' to the all-ones vector
    weights: np.ndarray      # (N,) π_x(z) as lime applies it: sqrt(exp(−D²/σ²))
    coef: np.ndarray         # (M,) w_g, the surrogate's weight per superpixel
    intercept: float
    score: float             # weighted R² of the surrogate on the samples
    local_pred: float        # g(1): the surrogate at the original image
    kernel_width: float      # σ


def explain_image(predict_fn: PredictFn, rgb: np.ndarray, target: int, segments: np.ndarray,
                  num_samples: int = 1000, kernel_width: float = 0.25, seed: int = 0, batch_size: int = 100,
                  progress: Callable[[float], None] | None = None) -> LimeResult:
    """LIME for one image and one class, the way ``LimeImageExplainer.explain_instance(..., hide_color=None,
    labels=(target,), top_labels=None, num_features=M, random_seed=…)`` computes it, with feature_selection
    'none', returning every intermediate quantity."""
    from sklearn.utils import check_random_state

    random_state = check_random_state(seed)
    n_features = int(segments.max()) + 1                                               # M
    # the same draws as lime_image.data_labels
    data = random_state.randint(0, 2, num_samples * n_features).reshape((num_samples, n_features))   # (N, M)
    data[0, :] = 1
    fudged = mean_colour_image(rgb, segments)
    if np.asarray(rgb).dtype == np.uint8:   # lime writes the means into a copy of the image: truncated to uint8
        fudged = fudged.astype(np.uint8)
    probs = []
    for start in range(0, num_samples, batch_size):
        probs.append(predict_fn(perturb(rgb, fudged, segments, data[start:start + batch_size])))
        if progress is not None:
            progress(min(1.0, (start + batch_size) / num_samples))
    labels = np.concatenate(probs, axis=0)                                             # (N, C)
    distances = mask_distances(data)                                                   # D(x, z), cosine
    # weighted ridge with π_x(z) applied as sqrt(exp(−D²/σ²))   (lime_image's default kernel)
    intercept, coef, score, local_pred = fit_surrogate(data, labels[:, target], distances, kernel_width)
    return LimeResult(segments=segments, data=data, probs=labels[:, target], distances=distances,
                      weights=sample_weight(distances, kernel_width), coef=coef, intercept=intercept, score=score,
                      local_pred=local_pred, kernel_width=kernel_width)


def top_segments(coef: np.ndarray, k: int) -> frozenset[int]:
    """The k superpixels with the largest positive weight (what LIME's overlay shows)."""
    order = np.argsort(-coef, kind="stable")
    return frozenset(int(j) for j in order[:k])


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    r"""$J(A, B) = |A\cap B| / |A\cup B|$."""
    return len(a & b) / len(a | b) if a | b else 1.0


@dataclass(frozen=True)
class Stability:
    seeds: tuple[int, ...]   # (S,)
    tops: list               # (S,) frozenset of top-k superpixels per seed
    coefs: np.ndarray        # (S, M) surrogate weights per seed
    jaccard: np.ndarray      # (S, S) pairwise Jaccard of the top-k sets
    mean_jaccard: float      # mean over pairs s < t
    frequency: np.ndarray    # (M,) share of seeds in whose top-k each superpixel appears


def stability(predict_fn: PredictFn, rgb: np.ndarray, target: int, segments: np.ndarray, seeds: tuple[int, ...],
              num_samples: int = 200, kernel_width: float = 0.25, k: int = 5, batch_size: int = 100,
              progress: Callable[[float], None] | None = None) -> Stability:
    """Run LIME once per seed (same image, superpixels, settings) and measure how much the top-k agree."""
    coefs, tops = [], []
    for i, s in enumerate(seeds):
        sub = None if progress is None else (lambda f, i=i: progress((i + f) / len(seeds)))
        r = explain_image(predict_fn, rgb, target, segments, num_samples, kernel_width, s, batch_size, sub)
        coefs.append(r.coef)
        tops.append(top_segments(r.coef, k))
    n = len(seeds)
    jac = np.array([[jaccard(tops[a], tops[b]) for b in range(n)] for a in range(n)])
    pairs = [jac[a, b] for a, b in combinations(range(n), 2)]
    freq = np.zeros(int(segments.max()) + 1)
    for top in tops:
        freq[list(top)] += 1
    return Stability(seeds=tuple(seeds), tops=tops, coefs=np.stack(coefs), jaccard=jac,
                     mean_jaccard=float(np.mean(pairs)) if pairs else 1.0, frequency=freq / n)


# ---------------------------------------------------------------------------------------------------------------
# Tabular LIME (LimeTabularExplainer) on the shared tabular task of engine.common.classifier.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TabularLime:
    names: list[str]         # (F,) the conditions LIME reports, e.g. "worst radius > 18.8"
    weights: np.ndarray      # (F,) surrogate weights, sorted by |weight|
    intercept: float
    local_pred: float        # g(x)
    model_pred: float        # f(x), the model's probability of the explained class
    score: float             # weighted R²


def explain_tabular(predict_proba: Callable[[np.ndarray], np.ndarray], X_train: np.ndarray, x: np.ndarray,
                    feature_names: list[str], class_names: list[str], label: int = 1, num_features: int = 8,
                    num_samples: int = 2000, seed: int = 0, kernel_width: float | None = None) -> TabularLime:
    """``lime.lime_tabular.LimeTabularExplainer`` (quartile discretisation, its default) for one row."""
    from lime.lime_tabular import LimeTabularExplainer

    explainer = LimeTabularExplainer(X_train, feature_names=feature_names, class_names=class_names,
                                     kernel_width=kernel_width, random_state=seed, discretize_continuous=True)
    exp = explainer.explain_instance(x, predict_proba, labels=(label,), num_features=num_features,
                                     num_samples=num_samples)
    pairs = exp.as_list(label=label)
    return TabularLime(names=[p[0] for p in pairs], weights=np.array([p[1] for p in pairs]),
                       intercept=float(exp.intercept[label]), local_pred=float(np.ravel(exp.local_pred)[0]),
                       model_pred=float(predict_proba(x[None])[0, label]), score=float(exp.score))
