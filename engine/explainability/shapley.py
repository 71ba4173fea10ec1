r"""Shapley values, exactly (a small cooperative game), and SHAP on images and tables with the ``shap`` library.

For a game with players $N = \{1..M\}$ and coalition values $v(S)$, the Shapley value of player $i$ is its
marginal contribution averaged over all $M!$ orders of arrival, equivalently the weighted sum over coalitions
not containing $i$:

$$\phi_i = \frac{1}{M!}\sum_{\text{orders } R} \big[v(P_i^R \cup \{i\}) - v(P_i^R)\big]
        = \sum_{S\subseteq N\setminus\{i\}} \frac{|S|!\,(M-|S|-1)!}{M!}\,\big[v(S\cup\{i\}) - v(S)\big]$$

SHAP takes $v(S) = f_x(S)$, the model's output when only the features in $S$ are "present", so that
$g(z') = \phi_0 + \sum_i \phi_i z'_i$ with $\phi_0 = f_x(\emptyset)$ and $\phi_0 + \sum_i\phi_i = f(x)$.

References
----------
Shapley, "A Value for n-Person Games", 1953.
Lundberg & Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS 2017 (Eq. 1 additive feature
attribution; Eq. 8 the Shapley values written with $z'\subseteq x'$: there the weight reads
$(|z'|-1)!\,(M-|z'|)!/M!$ for $z'\ni i$, the same sum as above with $S = z'\setminus\{i\}$).
Lundberg et al., "From local explanations to global understanding with explainable AI for trees" (TreeSHAP), 2020.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, permutations
from math import factorial
from typing import Callable

import numpy as np

ValueFn = Callable[[frozenset], float]     # v(S) for a coalition S ⊆ {0 … n−1}


def coalitions(n_players: int) -> list[frozenset]:
    """Every coalition, by size then lexicographically: ∅, {0}, {1}, …, {0,1}, …, N. (2^n,)"""
    return [frozenset(c) for r in range(n_players + 1) for c in combinations(range(n_players), r)]


def shapley_values(value_fn: ValueFn, n_players: int) -> np.ndarray:
    r"""Exact Shapley values (n,), by the coalition sum (each v(S) evaluated once, 2^n calls):
    $\phi_i = \sum_{S\subseteq N\setminus i} \frac{|S|!(n-|S|-1)!}{n!}[v(S\cup i) - v(S)]$."""
    if n_players < 1:
        raise ValueError("a game needs at least one player")
    v = {s: float(value_fn(s)) for s in coalitions(n_players)}
    phi = np.zeros(n_players)
    for i in range(n_players):
        for s, vs in v.items():
            if i in s:
                continue
            # weight |S|!(n−|S|−1)!/n!  ×  marginal contribution v(S∪{i}) − v(S)
            phi[i] += factorial(len(s)) * factorial(n_players - len(s) - 1) / factorial(n_players) \
                * (v[s | {i}] - vs)
    return phi


@dataclass(frozen=True)
class Orderings:
    orders: np.ndarray         # (n!, n) each order of arrival of the players
    contributions: np.ndarray  # (n!, n) contribution[r, i] = v(P_i^R ∪ {i}) − v(P_i^R) in order r
    phi: np.ndarray            # (n,) mean over orders = the Shapley values


def shapley_by_orderings(value_fn: ValueFn, n_players: int) -> Orderings:
    """The definition, literally: every order of arrival, each player's marginal contribution when it joins."""
    orders = np.array(list(permutations(range(n_players))), dtype=int)                # (n!, n)
    contrib = np.zeros(orders.shape)
    for r, order in enumerate(orders):
        before: frozenset = frozenset()
        for i in order:
            contrib[r, i] = value_fn(before | {int(i)}) - value_fn(before)
            before = before | {int(i)}
    return Orderings(orders=orders, contributions=contrib, phi=contrib.mean(axis=0))


@dataclass(frozen=True)
class Term:
    coalition: frozenset   # S ⊆ N \ {i}
    weight: float          # |S|!(n−|S|−1)!/n!
    gain: float            # v(S ∪ {i}) − v(S)


def shapley_terms(value_fn: ValueFn, n_players: int, i: int) -> list[Term]:
    """Each term of the weighted-sum formula for player i (2^(n−1) of them), to print with their numbers."""
    terms = []
    for s in coalitions(n_players):
        if i not in s:
            w = factorial(len(s)) * factorial(n_players - len(s) - 1) / factorial(n_players)
            terms.append(Term(coalition=s, weight=w, gain=float(value_fn(s | {i}) - value_fn(s))))
    return terms


def shapley_kernel(n_players: int, size: int) -> float:
    r"""Kernel SHAP's weight of one coalition z' with |z'| = `size` players present (Lundberg & Lee, Theorem 2):
    $\pi_x(z') = \frac{M-1}{\binom{M}{|z'|}\,|z'|\,(M-|z'|)}$; infinite for the empty and the full coalition
    (there it becomes the constraints φ0 = f(∅) and φ0 + Σφ = f(x))."""
    from math import comb

    if size in (0, n_players):
        return float("inf")
    return (n_players - 1) / (comb(n_players, size) * size * (n_players - size))


def table_game(values: dict[frozenset, float]) -> ValueFn:
    """A game given by its table of coalition values (missing coalitions are worth 0)."""
    return lambda s: float(values.get(frozenset(s), 0.0))


def prisoners_dilemma_game() -> dict[frozenset, float]:
    """The seed's 2-player payoff table read as a cooperative game: v(S) = total payoff when the players in S
    cooperate and the others defect. Both defect: 0; one cooperates: 0 + 3 = 3; both cooperate: 2 + 2 = 4."""
    return {frozenset(): 0.0, frozenset({0}): 3.0, frozenset({1}): 3.0, frozenset({0, 1}): 4.0}


# ---------------------------------------------------------------------------------------------------------------
# SHAP on a table: TreeExplainer (exact for trees) on the shared breast-cancer model.
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TabularShap:
    values: np.ndarray       # (n, F) φ_i per row and feature, in log-odds of the positive class
    base_value: float        # φ_0 = E[f(X)] under the explainer's background
    fx: np.ndarray           # (n,) f(x): the model's log-odds (decision_function) per row
    X: np.ndarray            # (n, F) the explained rows

    @property
    def additivity_gap(self) -> np.ndarray:
        """(n,) |φ_0 + Σ_i φ_i − f(x)|: zero up to float error when SHAP's efficiency property holds."""
        return np.abs(self.base_value + self.values.sum(axis=1) - self.fx)


def tree_shap(model, X: np.ndarray, background: np.ndarray | None = None) -> TabularShap:
    """``shap.TreeExplainer`` on a scikit-learn tree ensemble, raw (log-odds) output. With `background` the values
    are interventional (v(S) = mean over background rows of f(x_S, b_{−S})); without, tree-path-dependent."""
    import shap

    if background is None:
        explainer = shap.TreeExplainer(model)
    else:
        explainer = shap.TreeExplainer(model, data=background, feature_perturbation="interventional")
    values = np.asarray(explainer.shap_values(X, check_additivity=False))                # (n, F)
    base = float(np.ravel(explainer.expected_value)[0])
    return TabularShap(values=values, base_value=base, fx=np.asarray(model.decision_function(X)), X=np.asarray(X))


def interventional_value_fn(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                            background: np.ndarray) -> ValueFn:
    r"""$v(S) = \frac{1}{|B|}\sum_{b\in B} f(x_S, b_{\bar S})$: features in S from x, the others from each
    background row (the value function shap's interventional explainers use)."""
    def v(s: frozenset) -> float:
        z = background.copy()                                                          # (B, F)
        idx = list(s)
        z[:, idx] = x[idx]
        return float(np.mean(f(z)))
    return v


# ---------------------------------------------------------------------------------------------------------------
# SHAP on an image: shap's KernelExplainer over LIME's superpixels (the two side by side, same features).
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageShap:
    values: np.ndarray       # (M,) φ_j per superpixel, probability units
    base_value: float        # φ_0 = f(every superpixel hidden)
    fx: float                # f(x), the model's probability of the target
    nsamples: int            # coalitions evaluated
    exact: bool              # True when nsamples covered all 2^M coalitions (Kernel SHAP = exact Shapley values)

    @property
    def additivity_gap(self) -> float:
        """|φ_0 + Σ_j φ_j − f(x)|, zero up to float error (Kernel SHAP enforces it as a constraint)."""
        return abs(self.base_value + float(self.values.sum()) - self.fx)


def masked_value_fn(predict_fn: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray, segments: np.ndarray,
                    target: int, hidden: np.ndarray, batch_size: int = 50,
                    progress: Callable[[int], None] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """f(z) for binary masks z (N, M): superpixel j shown where z_j = 1, else taken from `hidden` (H, W, 3);
    returns the target's probability (N,). Batched; `progress(n_done)` after each batch."""
    img = np.asarray(rgb, dtype=np.float64)

    def f(z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(z)
        out = []
        for start in range(0, len(z), batch_size):
            keep = z[start:start + batch_size][:, segments].astype(bool)[..., None]    # (B, H, W, 1)
            out.append(predict_fn(np.where(keep, img[None], hidden[None]))[:, target])
            if progress is not None:
                progress(len(out[-1]))
        return np.concatenate(out)
    return f


def image_kernel_shap(predict_fn: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray, target: int,
                      segments: np.ndarray, hidden: np.ndarray, nsamples: int = 500, batch_size: int = 50,
                      progress: Callable[[float], None] | None = None) -> ImageShap:
    r"""Kernel SHAP (``shap.KernelExplainer``) with superpixels as players: $x' = \mathbf{1}$, background
    $\mathbf{0}$ (= `hidden`, e.g. LIME's mean colours). With nsamples ≥ 2^M − 2 every coalition is enumerated
    and the values are the exact Shapley values; below that shap samples coalitions from numpy's global
    generator (so, like LIME, a run is not exactly reproducible)."""
    import shap

    m = int(segments.max()) + 1
    budget = {"done": 0}

    def tick(n: int) -> None:
        budget["done"] += n
        if progress is not None:
            progress(min(1.0, budget["done"] / max(1, min(nsamples, 2 ** m))))

    f = masked_value_fn(predict_fn, rgb, segments, target, hidden, batch_size, tick)
    explainer = shap.KernelExplainer(f, np.zeros((1, m)))
    phi = np.asarray(explainer.shap_values(np.ones((1, m)), nsamples=nsamples, l1_reg=False, silent=True))
    fx = float(f(np.ones((1, m)))[0])
    return ImageShap(values=phi.reshape(-1)[:m], base_value=float(np.ravel(explainer.expected_value)[0]), fx=fx,
                     nsamples=int(explainer.nsamples), exact=bool(nsamples >= 2 ** m - 2))


@dataclass(frozen=True)
class RegionLabels:
    ids: np.ndarray     # (M,) the superpixel ids j, the names "#j" of the waterfall's steps
    rows: np.ndarray    # (M,) where "#j" is printed: the region's centroid row, or (when the centroid falls outside
    cols: np.ndarray    # (M,)  a crescent-shaped region) the region's pixel nearest to it; image pixel coordinates


def region_labels(segments: np.ndarray) -> RegionLabels:
    r"""A point inside every superpixel at which to print its id, so a figure can number the regions the way the
    waterfall names them. The point is the centroid

    $$(\bar r_j, \bar c_j) = \frac{1}{|S_j|}\sum_{(r, c) \in S_j} (r, c)$$

    when its nearest pixel lies in $S_j$, otherwise the pixel of $S_j$ closest to it."""
    ids = np.unique(segments)                                               # (M,)
    flat = segments.ravel()
    rr, cc = np.indices(segments.shape)                                     # (H, W) each
    counts = np.bincount(flat)
    # (r̄_j, c̄_j) = (1/|S_j|) Σ_{(r,c)∈S_j} (r, c)
    rbar = (np.bincount(flat, weights=rr.ravel()) / np.maximum(counts, 1))[ids]
    cbar = (np.bincount(flat, weights=cc.ravel()) / np.maximum(counts, 1))[ids]
    rows, cols = rbar.copy(), cbar.copy()
    h, w = segments.shape
    for k, j in enumerate(ids):
        r, c = min(h - 1, int(round(rbar[k]))), min(w - 1, int(round(cbar[k])))
        if segments[r, c] != j:                                             # centroid outside: nearest own pixel
            pr, pc = np.nonzero(segments == j)
            i = int(np.argmin((pr - rbar[k]) ** 2 + (pc - cbar[k]) ** 2))
            rows[k], cols[k] = pr[i], pc[i]
    return RegionLabels(ids=ids, rows=rows, cols=cols)
