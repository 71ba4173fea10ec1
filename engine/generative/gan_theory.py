r"""GAN theory on a 1-D grid: the optimal discriminator, the value V(D*, G) = 2·JS − 2·log 2, and why the
Jensen–Shannon divergence gives no gradient when supports are disjoint while the Wasserstein-1 distance does.

Densities live on a uniform grid ``x`` (shape (N,)); a density is turned into probability masses by
normalising over the grid (the same normalisation ``scipy.spatial.distance.jensenshannon`` applies), so every
integral below is an exact finite sum and the identity $V(D^*, G) = 2\,JS - 2\log 2$ holds to rounding.

References
----------
Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (Prop. 1 and Theorem 1).
Arjovsky, Chintala, Bottou, "Wasserstein GAN", ICML 2017 (Example 1, Theorem 3).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

LOG2 = float(np.log(2.0))


def _masses(p: np.ndarray) -> np.ndarray:
    """Non-negative weights normalised to sum 1 along the last axis (scipy's convention)."""
    p = np.asarray(p, dtype=np.float64)
    if np.any(p < 0):
        raise ValueError("densities must be non-negative")
    total = p.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("a density must have positive mass")
    return p / total


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x·log y with 0·log 0 = 0 (the convention of every divergence below)."""
    out = np.zeros(np.broadcast(x, y).shape)
    nz = np.broadcast_to(x, out.shape) > 0
    out[nz] = np.broadcast_to(x, out.shape)[nz] * np.log(np.broadcast_to(y, out.shape)[nz])
    return out


# ------------------------------------------------------------------------------------------- densities

def mixture_pdf(x: np.ndarray, means: Sequence[float], stds: Sequence[float],
                weights: Sequence[float] | None = None) -> np.ndarray:
    r"""Gaussian mixture density $p(x) = \sum_k \pi_k\,\mathcal{N}(x; \mu_k, \sigma_k^2)$.

    Parameters
    ----------
    x : np.ndarray [shape=(N,)]  grid.
    means, stds, weights : length-K sequences; weights are normalised (equal when None).

    Returns
    -------
    np.ndarray [shape=(N,)]
    """
    x = np.asarray(x, dtype=np.float64)[:, None]  # (N, 1)
    mu = np.asarray(means, dtype=np.float64)[None, :]  # (1, K)
    sigma = np.asarray(stds, dtype=np.float64)[None, :]  # (1, K)
    pi = np.ones(mu.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    pi = pi / pi.sum()  # (K,)
    # N(x; mu, sigma^2) = exp(-(x-mu)^2 / 2 sigma^2) / (sigma sqrt(2 pi))
    comp = np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))  # (N, K)
    return comp @ pi  # (N,)


def uniform_pdf(x: np.ndarray, low: float, width: float) -> np.ndarray:
    """Uniform density on [low, low + width]; width 0 puts all mass on the grid point nearest to `low`
    (a Dirac delta, the WGAN paper's Example 1 in one dimension)."""
    x = np.asarray(x, dtype=np.float64)  # (N,)
    if width <= 0:
        p = np.zeros_like(x)
        p[int(np.argmin(np.abs(x - low)))] = 1.0
        return p
    return ((x >= low) & (x <= low + width)).astype(np.float64) / width


# ------------------------------------------------------------------------------ optimal D and the value V

def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    r"""The discriminator that maximises $V(D, G)$ for a fixed generator (Goodfellow et al. 2014, Prop. 1):

    $$D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}$$

    Pointwise maximiser of $a\log y + b\log(1-y)$ with $a = p_{data}(x)$, $b = p_g(x)$.
    Where both densities vanish D* is undefined; 1/2 is returned there.

    Parameters
    ----------
    p_data, p_g : np.ndarray [shape=(...)]  densities (or masses) on the same points.

    Returns
    -------
    np.ndarray [shape=(...)] in [0, 1].
    """
    a = np.asarray(p_data, dtype=np.float64)
    b = np.asarray(p_g, dtype=np.float64)
    s = a + b
    # D*(x) = p_data / (p_data + p_g)
    return np.divide(a, s, out=np.full(np.broadcast(a, b).shape, 0.5), where=s > 0)


def value(p_data: np.ndarray, p_g: np.ndarray, D: np.ndarray, one_minus_D: np.ndarray | None = None) -> float:
    r"""The GAN value function for densities on a grid, as masses:

    $$V(D, G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{x\sim p_g}[\log(1 - D(x))]$$

    Goodfellow et al. 2014, Eq. 1 (with the change of variables x = G(z)). `one_minus_D`, when given, is 1 − D
    computed without cancellation (at D*: p_g / (p_data + p_g), which stays > 0 where D* rounds to 1).
    """
    P, Q = _masses(p_data), _masses(p_g)  # (N,), (N,)
    D = np.asarray(D, dtype=np.float64)
    E = 1.0 - D if one_minus_D is None else np.asarray(one_minus_D, dtype=np.float64)
    # V = Σ P log D + Σ Q log(1 - D)
    return float(_xlogy(P, D).sum() + _xlogy(Q, E).sum())


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    r"""$KL(p\,\|\,q) = \sum_i p_i \log(p_i / q_i)$, natural log; inf where q = 0 < p."""
    P, Q = _masses(p), _masses(q)
    if np.any((P > 0) & (Q == 0)):
        return float("inf")
    return float((_xlogy(P, P) - _xlogy(P, np.where(P > 0, Q, 1.0))).sum())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    r"""Jensen–Shannon divergence in nats, the square of ``scipy.spatial.distance.jensenshannon``:

    $$JS(p\,\|\,q) = \tfrac12 KL\!\left(p \,\middle\|\, m\right) + \tfrac12 KL\!\left(q \,\middle\|\, m\right),$$
              \quad m = \tfrac{p + q}{2}

    Bounded by $\log 2$, reached exactly when the supports are disjoint.
    """
    P, Q = _masses(p), _masses(q)  # (N,), (N,)
    M = 0.5 * (P + Q)  # (N,)
    # JS = ½ KL(P‖M) + ½ KL(Q‖M)
    return float(max(0.0, 0.5 * kl_divergence(P, M) + 0.5 * kl_divergence(Q, M)))


def wasserstein1(x_samples: np.ndarray, y_samples: np.ndarray, x_weights: np.ndarray | None = None,
                 y_weights: np.ndarray | None = None) -> float:
    r"""Earth mover's (Wasserstein-1) distance between two 1-D empirical distributions, equal to
    ``scipy.stats.wasserstein_distance(x_samples, y_samples, x_weights, y_weights)``.

    $$W_1(P, Q) = \inf_{\gamma\in\Pi(P,Q)} \mathbb{E}_{(x,y)\sim\gamma}\,|x-y| = \int_{-\infty}^{\infty} |F_P(t) - F_Q(t)|\,dt$$

    In one dimension the optimal plan is monotone, so W1 is the area between the two CDFs
    (Arjovsky et al. 2017, Eq. 1; the CDF form is Vallender 1974).
    """
    u = np.asarray(x_samples, dtype=np.float64).ravel()  # (n,)
    v = np.asarray(y_samples, dtype=np.float64).ravel()  # (m,)
    uw = np.ones_like(u) if x_weights is None else np.asarray(x_weights, dtype=np.float64).ravel()
    vw = np.ones_like(v) if y_weights is None else np.asarray(y_weights, dtype=np.float64).ravel()
    t = np.sort(np.concatenate([u, v]))  # (n+m,) breakpoints of both step CDFs
    iu, iv = np.argsort(u), np.argsort(v)
    cu = np.concatenate([[0.0], np.cumsum(uw[iu])]) / uw.sum()  # (n+1,)
    cv = np.concatenate([[0.0], np.cumsum(vw[iv])]) / vw.sum()  # (m+1,)
    # F(t) just right of each breakpoint: the mass of samples <= t
    Fu = cu[np.searchsorted(u[iu], t[:-1], side="right")]  # (n+m-1,)
    Fv = cv[np.searchsorted(v[iv], t[:-1], side="right")]  # (n+m-1,)
    # W1 = ∫ |F_P(t) − F_Q(t)| dt
    return float(np.sum(np.abs(Fu - Fv) * np.diff(t)))


# ------------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Optimum:
    """Everything page 1 plots for one pair of densities."""
    x: np.ndarray          # (N,) grid
    p_data: np.ndarray     # (N,) density
    p_g: np.ndarray        # (N,) density
    D_star: np.ndarray     # (N,) optimal discriminator
    value: float           # V(D*, G), computed from the definition
    js: float              # JS(p_data‖p_g) in nats
    w1: float              # W1(p_data, p_g)


def optimum(x: np.ndarray, p_data: np.ndarray, p_g: np.ndarray) -> Optimum:
    r"""Optimal discriminator and value for $p_{data}$, $p_g$ on the grid ``x``.

    $$V(D^*, G) = 2\,JS(p_{data}\,\|\,p_g) - 2\log 2 \ \ge\ -2\log 2 \approx -1.386$$

    ``value`` is computed from the definition of V, ``js`` independently: the page shows both so the
    identity (Goodfellow et al. 2014, Theorem 1) can be read off.
    """
    D = optimal_discriminator(p_data, p_g)  # (N,)
    one_minus = optimal_discriminator(p_g, p_data)  # (N,) 1 − D* = p_g / (p_data + p_g), no cancellation
    return Optimum(x=np.asarray(x, dtype=np.float64), p_data=np.asarray(p_data, dtype=np.float64),
                   p_g=np.asarray(p_g, dtype=np.float64), D_star=D, value=value(p_data, p_g, D, one_minus),
                   js=js_divergence(p_data, p_g), w1=wasserstein1(x, x, p_data, p_g))


@dataclass(frozen=True)
class ShiftSweep:
    """JS and W1 as p_g = p_data shifted by θ sweeps past p_data (the WGAN argument)."""
    theta: np.ndarray      # (T,) shifts
    js: np.ndarray         # (T,) JS(p_data‖p_θ)
    w1: np.ndarray         # (T,) W1(p_data, p_θ)
    value: np.ndarray      # (T,) V(D*, G_θ) = 2 JS − 2 log 2
    djs: np.ndarray        # (T,) dJS/dθ (central differences)
    dw1: np.ndarray        # (T,) dW1/dθ


def shift_sweep(x: np.ndarray, p_data: np.ndarray, theta: np.ndarray) -> ShiftSweep:
    r"""Move a copy of ``p_data`` by each θ and measure both distances to the original.

    With the supports disjoint (a delta or a narrow uniform moved past its width),

    $$JS(P_0\,\|\,P_\theta) = \log 2, \qquad W_1(P_0, P_\theta) = |\theta|$$

    so the GAN's value is flat in θ (no gradient for the generator) while W1 points back towards θ = 0
    (Arjovsky et al. 2017, Example 1). The shift is done by resampling the density on the grid
    (exact for shifts that are multiples of the grid step).
    """
    x = np.asarray(x, dtype=np.float64)  # (N,)
    p = np.asarray(p_data, dtype=np.float64)  # (N,)
    theta = np.asarray(theta, dtype=np.float64)  # (T,)
    dx = x[1] - x[0]
    js, w1 = np.empty_like(theta), np.empty_like(theta)
    for i, th in enumerate(theta):
        k = int(round(th / dx))  # shift in grid steps
        q = np.zeros_like(p)
        if k >= 0:
            q[k:] = p[:len(p) - k]
        else:
            q[:k] = p[-k:]
        if q.sum() <= 0:   # shifted off the grid
            js[i], w1[i] = np.nan, np.nan
            continue
        js[i] = js_divergence(p, q)
        w1[i] = wasserstein1(x, x, p, q)
    return ShiftSweep(theta=theta, js=js, w1=w1, value=2 * js - 2 * LOG2,
                      djs=np.gradient(js, theta), dw1=np.gradient(w1, theta))


# ------------------------------------------------------------------------------------- the page's lessons
def grid_for(means: Sequence[float], stds: Sequence[float], step: float = 0.01, span: float = 6.0) -> np.ndarray:
    """A grid of `step` that holds every Gaussian component to ±6σ and at least [−6, 6], so that no density's
    mass falls off it (the identity V(D*, G) = 2·JS − 2·log 2 is then exact on the grid)."""
    mu, sd = np.asarray(means, float), np.asarray(stds, float)
    lo = min(-span, float(np.floor((mu - 6 * sd).min())))
    hi = max(span, float(np.ceil((mu + 6 * sd).max())))
    return np.round(np.arange(lo, hi + step / 2, step), 10)


def value_path(x: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, n: int = 41) -> tuple[np.ndarray, np.ndarray]:
    r"""$V(D^*, G)$ along the straight path $p_g \leftarrow (1-\alpha)\,p_g + \alpha\,p_{data}$, α from 0 to 1:
    it falls to $-2\log 2$ where the two densities meet. Returns (alpha (n,), values (n,))."""
    alpha = np.linspace(0.0, 1.0, n)
    vals = np.array([optimum(x, p_data, (1 - a) * p_g + a * p_data).value for a in alpha])
    return alpha, vals


@dataclass(frozen=True)
class Plateau:
    js_gap: float          # max |JS − log 2| over the shifts where the supports are apart
    js_slope: float        # max |dJS/dθ| there: the gradient a GAN generator would get


def plateau(sweep: ShiftSweep, width: float) -> Plateau:
    """How flat JS is once the supports of width `width` no longer overlap (|θ| > width, plus one grid step so the
    central differences do not straddle the edge)."""
    far = np.abs(sweep.theta) > width + 0.1
    if not far.any():
        return Plateau(float("nan"), 0.0)
    return Plateau(float(np.nanmax(np.abs(sweep.js[far] - LOG2))), float(np.nanmax(np.abs(sweep.djs[far]))))
