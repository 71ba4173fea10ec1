r"""GAN, WGAN (weight clipping) and WGAN-GP on 2-D targets, as deterministic generators of snapshots.

Losses (D outputs a logit for the GAN and a real-valued score, the *critic* f, for the WGANs):

$$\text{GAN:}\quad L_D = -\mathbb{E}_x[\log\sigma(D(x))] - \mathbb{E}_z[\log(1-\sigma(D(G(z))))],\quad
L_G = -\mathbb{E}_z[\log\sigma(D(G(z)))] \ \text{(non-saturating)}$$

$$\text{WGAN:}\quad L_D = -\mathbb{E}_x[f(x)] + \mathbb{E}_z[f(G(z))],\quad L_G = -\mathbb{E}_z[f(G(z))],
\quad w \leftarrow \mathrm{clip}(w, -c, c)$$

$$\text{WGAN-GP:}\quad L_D + \lambda\,\mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big],
\quad \hat x = \epsilon x + (1-\epsilon) G(z),\ \epsilon\sim U[0,1]$$

References
----------
Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (Eq. 1; the non-saturating G loss in Sec. 3).
Arjovsky, Chintala, Bottou, "Wasserstein GAN", ICML 2017 (Eq. 3, Algorithm 1).
Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017 (Eq. 3, Algorithm 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import numpy as np

from engine.common.optim import NumpyAdam, RMSProp   # the project's one NumPy Adam / RMSProp (= torch.optim)

Adam, RMSprop = NumpyAdam, RMSProp     # the names this chapter used before they moved to engine/common/optim.py

LOSSES = ("gan", "wgan", "wgan-gp")
TARGETS = ("ring", "moons", "spiral", "custom")
RING_STD = 0.1      # std of each of the 8 ring Gaussians (radius 2)
POOL = 8192         # target samples drawn once per run; batches index into it


# ------------------------------------------------------------------------------------------------ config

@dataclass(frozen=True)
class Config:
    """One model's training setup. Defaults per loss come from `default_config`."""
    loss: str = "gan"                    # "gan" | "wgan" | "wgan-gp"
    target: str = "ring"                 # "ring" | "moons" | "spiral" | "custom"
    points: np.ndarray | None = field(default=None, compare=False, repr=False)  # (N, 2) custom target
    z_dim: int = 2                       # latent size, z ~ N(0, I)
    hidden: int = 64                     # units per hidden layer (G and D alike)
    layers: int = 2                      # hidden layers (ReLU)
    batch_size: int = 128                # m in the papers' algorithms
    lr_g: float = 1e-3                   # generator learning rate
    lr_d: float = 1e-3                   # discriminator / critic learning rate
    n_critic: int = 1                    # D steps per G step
    clip_c: float = 0.05                 # WGAN weight clipping c
    gp_lambda: float = 0.5               # WGAN-GP λ
    snapshot_every: int = 25             # generator steps between snapshots (a snapshot, mostly its exact W1,
                                         # costs ~20 ms: ~30 GAN or ~6 WGAN-GP steps); small enough that one
                                         # round of the three models fits in a 0.5 s refresh with room to draw
    n_show: int = 256                    # generated points kept for display (fixed z); W1 uses all of them
    grid: int = 32                       # landscape resolution (grid × grid); the browser redraws 3 every refresh
    max_steps: int = 100_000             # the generator ends after this many G steps


def default_config(loss: str, **overrides) -> Config:
    """The defaults of each loss: GAN with Adam and one D step; WGAN with RMSprop, clipping and n_critic = 5
    (Arjovsky et al., Algorithm 1); WGAN-GP with Adam(β1 = 0.5, β2 = 0.9) and n_critic = 5 (Gulrajani et al.).
    Learning rates are raised from the papers' image settings so that 2-D training moves within seconds."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}")
    base = {"gan": dict(lr_g=1e-3, lr_d=1e-3, n_critic=1),
            "wgan": dict(lr_g=5e-4, lr_d=5e-4, n_critic=5),
            "wgan-gp": dict(lr_g=1e-3, lr_d=1e-3, n_critic=5)}[loss]
    return Config(loss=loss, **{**base, **overrides})


# ------------------------------------------------------------------------------------------------ targets

def sample_target(target: str, n: int, rng: np.random.Generator, points: np.ndarray | None = None) -> np.ndarray:
    """n samples (n, 2) of a named 2-D target, all scaled to roughly [-2.5, 2.5]²."""
    if target == "ring":
        k = rng.integers(0, 8, n)
        ang = 2 * np.pi * k / 8
        return np.stack([2 * np.cos(ang), 2 * np.sin(ang)], 1) + RING_STD * rng.standard_normal((n, 2))
    if target == "moons":   # the two interleaving half circles of sklearn.datasets.make_moons
        upper = rng.random(n) < 0.5
        s = np.pi * rng.random(n)
        xy = np.where(upper[:, None], np.stack([np.cos(s), np.sin(s)], 1),
                      np.stack([1 - np.cos(s), 0.5 - np.sin(s)], 1))
        return 1.6 * (xy - [0.5, 0.25]) + 0.08 * rng.standard_normal((n, 2))
    if target == "spiral":
        s = np.sqrt(rng.random(n)) * 3 * np.pi   # uniform along the arm's area
        r = s / (3 * np.pi) * 2.3
        return np.stack([r * np.cos(s), r * np.sin(s)], 1) + 0.06 * rng.standard_normal((n, 2))
    if target == "custom":
        if points is None or len(points) == 0:
            raise ValueError("a custom target needs points")
        p = normalise_points(points)
        return p[rng.integers(0, len(p), n)] + 0.03 * rng.standard_normal((n, 2))
    raise ValueError(f"unknown target {target!r}")


def normalise_points(points: np.ndarray) -> np.ndarray:
    """Centre user points and scale the largest |coordinate| to 2 (the scale of the built-in targets)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)  # (N, 2)
    p = p - p.mean(0)
    scale = np.abs(p).max()
    return p * (2.0 / scale) if scale > 0 else p


MAX_POINTS = 5000


class PointsError(ValueError):
    """A CSV the page cannot train on; `code` names what was wrong (translated by the page), `params` its numbers."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}")
        self.code, self.params = code, params


def parse_points(text: str) -> np.ndarray:
    """User points from CSV text: one `x,y` row per line (commas, semicolons, tabs or spaces); a first line that is
    not two numbers (a header) is skipped. A UTF-8 byte-order mark (Excel's CSV) is dropped and full-width digits,
    commas and minus signs count as ASCII (`engine.common.text.normalize`). Raises PointsError saying what was
    wrong: no rows, one column only, non-numeric cells, too many rows, or fewer than 3 distinct finite points."""
    from engine.common.text import normalize

    rows, one_col, bad_cells, non_finite, lines = [], 0, 0, 0, 0
    for i, line in enumerate(normalize(text).splitlines()):
        parts = [q for q in line.replace(";", ",").replace("\t", ",").replace(" ", ",").split(",") if q]
        if not parts:
            continue
        lines += 1
        if len(parts) < 2:
            one_col += 1
            continue
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            bad_cells += lines > 1 or i > 0          # a header line is not an error
            continue
        if np.isfinite(x) and np.isfinite(y):
            rows.append((x, y))
        else:
            non_finite += 1
        if len(rows) > MAX_POINTS:
            raise PointsError("too_many", limit=MAX_POINTS)
    pts = np.array(rows, dtype=np.float64).reshape(-1, 2)  # (N, 2)
    if lines == 0:
        raise PointsError("empty")
    if not rows and one_col == lines:
        raise PointsError("one_column", lines=lines)
    if not rows:
        raise PointsError("no_numbers", lines=lines, bad=bad_cells)
    if len(np.unique(pts, axis=0)) < 3:
        raise PointsError("too_few", distinct=len(np.unique(pts, axis=0)), skipped=one_col + bad_cells + non_finite)
    return pts


def example_points(n: int = 200) -> np.ndarray:
    """A heart outline (n, 2), the default custom target: x = 16 sin³s, y = 13 cos s − 5 cos 2s − 2 cos 3s − cos 4s."""
    s = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 16 * np.sin(s) ** 3
    y = 13 * np.cos(s) - 5 * np.cos(2 * s) - 2 * np.cos(3 * s) - np.cos(4 * s)
    return np.stack([x, y], 1)


def _kmeans(pool: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's algorithm: centres (k, 2) and each point's cluster (n,)."""
    centres = pool[rng.choice(len(pool), k, replace=False)]  # (K, 2)
    for _ in range(30):
        assign = np.argmin(((pool[:, None] - centres[None]) ** 2).sum(-1), 1)  # (n,)
        centres = np.stack([pool[assign == j].mean(0) if np.any(assign == j) else centres[j] for j in range(k)])
    return centres, np.argmin(((pool[:, None] - centres[None]) ** 2).sum(-1), 1)


def silhouette(pool: np.ndarray, assign: np.ndarray) -> float:
    r"""Mean silhouette $s_i = (b_i - a_i)/\max(a_i, b_i)$ ($a$: mean distance within the own cluster, $b$: to the
    nearest other cluster); 1 for well separated clusters, near 0 when there are none."""
    d = np.sqrt(((pool[:, None] - pool[None]) ** 2).sum(-1))                    # (n, n)
    labels = np.unique(assign)
    if len(labels) < 2:
        return 0.0
    mean_to = np.stack([d[:, assign == c].sum(1) / np.maximum((assign == c).sum() - (assign == c), 1)
                        for c in labels], 1)                                    # (n, K): own cluster excludes i
    own = np.searchsorted(labels, assign)
    a = mean_to[np.arange(len(pool)), own]
    mean_to[np.arange(len(pool)), own] = np.inf
    b = mean_to.min(1)
    return float(np.mean((b - a) / np.maximum(np.maximum(a, b), 1e-12)))


MODES_MIN_SILHOUETTE = 0.5   # below this the reader's points have no clear clusters: mode coverage is not measured


def modes(target: str, pool: np.ndarray, rng: np.random.Generator, k: int = 8) -> tuple[np.ndarray, float]:
    """Mode centres (K, 2) and a coverage radius: the 8 ring means and 3σ; for other targets the k-means centres
    whose k (2 … 8) best separates the target's points (highest silhouette) and the 90th percentile of real points'
    distance to them. For the reader's own points, (0, 2) centres when no k reaches MODES_MIN_SILHOUETTE: their
    modes cannot be known, and the page hides the metric instead of scoring against made-up clusters."""
    if target == "ring":
        ang = 2 * np.pi * np.arange(8) / 8
        return np.stack([2 * np.cos(ang), 2 * np.sin(ang)], 1), 3 * RING_STD
    distinct = len(np.unique(pool, axis=0))
    if target != "custom":
        centres, _ = _kmeans(pool, min(k, distinct), rng)
    else:
        sample = pool[:400]
        best = max(((silhouette(sample, _kmeans(sample, j, np.random.default_rng(j))[1]), j)
                    for j in range(2, min(k, len(np.unique(sample, axis=0))) + 1)), default=(0.0, 0))
        if best[0] < MODES_MIN_SILHOUETTE:
            return np.zeros((0, 2)), 0.0
        centres, _ = _kmeans(pool, best[1], rng)
    d = np.sqrt(((pool[:, None] - centres[None]) ** 2).sum(-1)).min(1)  # (n,)
    return centres, float(np.quantile(d, 0.9))


def mode_coverage(samples: np.ndarray, centres: np.ndarray, radius: float, share: np.ndarray | None = None,
                  min_fraction: float = 0.2) -> tuple[int, float, np.ndarray, np.ndarray]:
    """How many modes hold samples: a sample counts for its nearest centre when within `radius`; a mode is
    covered when it holds at least `min_fraction` of its fair share (share_k · n). Returns
    (modes covered, fraction of high-quality samples, counts (K,), covered mask (K,)); no centres: (0, nan, …)."""
    if len(centres) == 0:
        return 0, float("nan"), np.zeros(0, int), np.zeros(0, bool)
    d2 = ((samples[:, None] - centres[None]) ** 2).sum(-1)  # (n, K)
    near = np.argmin(d2, 1)
    ok = np.sqrt(d2[np.arange(len(samples)), near]) <= radius
    counts = np.bincount(near[ok], minlength=len(centres))  # (K,)
    share = np.full(len(centres), 1 / len(centres)) if share is None else share
    mask = counts >= np.maximum(1, min_fraction * share * len(samples))  # (K,)
    return int(mask.sum()), float(ok.mean()), counts, mask


def sample_w1(a: np.ndarray, b: np.ndarray) -> float:
    r"""Exact W1 between two equal-size point clouds: the optimal assignment
    $\min_\pi \frac1n\sum_i \|a_i - b_{\pi(i)}\|$ (the optimal plan between uniform empirical measures of
    equal size is a permutation, Birkhoff–von Neumann)."""
    from scipy.optimize import linear_sum_assignment
    cost = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))  # (n, n)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


# ------------------------------------------------------------------------------------------------ networks
# Hand-written backpropagation in numpy: at this size (2-D points, 64 units, batches of 128) a training step is
# a few dozen small array operations, and numpy's per-operation cost is a fraction of autograd's graph
# bookkeeping, which made the torch version 3-7× slower than the 200 steps/s the live page needs. The tests
# check every gradient and optimiser step against torch autograd and torch.optim.

F32 = np.float32


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # σ(a) = (1 + tanh(a/2)) / 2, overflow-free for any a
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _softplus(a: np.ndarray) -> np.ndarray:
    # softplus(a) = log(1 + e^a), overflow-free
    return np.logaddexp(0.0, a)


class MLP:
    r"""ReLU MLP $A_l = H_{l-1}W_l + b_l,\ H_l = \mathrm{ReLU}(A_l)$, linear output, in float32.

    All parameters live in one flat vector ``flat`` (the optimisers update it in a few whole-vector operations);
    ``params`` are views into it, ``W`` (in, out) and ``b`` (out,) per layer, and ``grads`` the matching views
    into ``grad``. Initialised like ``nn.Linear``: U(−1/√fan_in, 1/√fan_in) for W and b, from ``rng``.
    """

    def __init__(self, sizes: list[int], rng: np.random.Generator):
        self.sizes = list(sizes)
        shapes = [s for fan_in, fan_out in zip(sizes[:-1], sizes[1:]) for s in ((fan_in, fan_out), (fan_out,))]
        n = sum(int(np.prod(s)) for s in shapes)
        self.flat = np.empty(n, F32)       # (P,) every parameter
        self.grad = np.zeros(n, F32)       # (P,) ∂L/∂θ, accumulated by backward()
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        at = 0
        for shape in shapes:
            size = int(np.prod(shape))
            self.params.append(self.flat[at:at + size].reshape(shape))
            self.grads.append(self.grad[at:at + size].reshape(shape))
            at += size
        for i, (fan_in, _) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1 / np.sqrt(fan_in)
            self.params[2 * i][...] = rng.uniform(-bound, bound, self.params[2 * i].shape)
            self.params[2 * i + 1][...] = rng.uniform(-bound, bound, self.params[2 * i + 1].shape)

    @property
    def n_layers(self) -> int:
        return len(self.params) // 2

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple[list[np.ndarray], list[np.ndarray]]]:
        """Output (B, out) and the cache for backward: each layer's input H_{l−1} and each ReLU mask M_l."""
        inputs, masks = [], []
        n = self.n_layers
        for i in range(n):
            inputs.append(x)
            # A_l = H_{l−1} W_l + b_l
            a = x @ self.params[2 * i]                                            # (B, out_l)
            a += self.params[2 * i + 1]
            if i < n - 1:
                mask = a > 0                                                      # (B, out_l) M_l
                a *= mask                                                         # H_l = ReLU(A_l)
                masks.append(mask)
            x = a
        return x, (inputs, masks)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[0]

    def backward(self, cache, d_out: np.ndarray, param_grads: bool = True) -> np.ndarray:
        r"""Backpropagate ∂L/∂out (B, out): adds ∂L/∂θ to ``grads`` (unless ``param_grads`` is False) and returns
        ∂L/∂x (B, in). $\partial W_l = H_{l-1}^\top \delta_l,\ \partial b_l = \mathbf 1^\top\delta_l,\
        \delta_{l-1} = (\delta_l W_l^\top)\odot M_{l-1}$."""
        inputs, masks = cache
        d = d_out
        for i in range(self.n_layers - 1, -1, -1):
            if param_grads:
                self.grads[2 * i] += inputs[i].T @ d                               # (in_l, out_l)
                self.grads[2 * i + 1] += d.sum(0)                                  # (out_l,)
            d = d @ self.params[2 * i].T                                           # (B, in_l)
            if i > 0:
                d *= masks[i - 1]
        return d


def gradient_penalty(D: MLP, real: np.ndarray, fake: np.ndarray, eps: np.ndarray,
                     weight: float = 0.0) -> tuple[float, np.ndarray]:
    r"""WGAN-GP's penalty (Gulrajani et al. 2017, Eq. 3) for a ReLU-MLP critic, with its gradient by hand:

    $$\mathrm{GP} = \mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big],\qquad$$
              \hat x = \epsilon x + (1-\epsilon)\tilde x

    With the ReLU masks $M_l$ fixed at $\hat x$ the input gradient is a product of matrices,
    $\nabla_x f = W_1 (M_1 \odot (W_2 (M_2 \odot \cdots (M_L \odot w_{L+1}))))$, so the penalty's
    gradient with respect to every W is a second backward pass through that product (the double
    backpropagation autograd does with ``create_graph=True``; biases get none). With ``weight`` > 0,
    ``weight · ∂GP/∂θ`` is added to ``D.grads``. For a linear critic f(x) = wᵀx the penalty is (‖w‖ − 1)².

    Parameters
    ----------
    real, fake : np.ndarray [shape=(B, d)]
    eps : np.ndarray [shape=(B, 1)] in [0, 1]

    Returns
    -------
    (penalty, gradient norms ‖∇f(x̂)‖ (B,))
    """
    x_hat = eps * real + (1 - eps) * fake                                          # (B, d)
    _, (_, masks) = D.forward(x_hat)
    L = D.n_layers - 1                                                             # hidden layers
    W = D.params[0::2]
    # U_L = M_L ⊙ w_{L+1}ᵀ, then U_{l−1} = M_{l−1} ⊙ (U_l W_lᵀ): the backward pass of f(x̂) in (B, h_l) rows
    us = [masks[L - 1] * W[L][:, 0]] if L > 0 else []
    for l in range(L - 1, 0, -1):
        us.insert(0, masks[l - 1] * (us[0] @ W[l].T))
    grad = us[0] @ W[0].T if L > 0 else np.broadcast_to(W[0][:, 0], x_hat.shape)  # (B, d) ∇f(x̂)
    norm = np.sqrt((grad * grad).sum(1))                                           # (B,)
    # GP = E[(‖∇f(x̂)‖ − 1)²]
    gp = float(np.mean((norm - 1) ** 2))
    if weight:
        B = len(x_hat)
        # ∂GP/∂∇f = 2(‖g‖ − 1) g / (B‖g‖)
        d_grad = (weight * 2 / B) * ((norm - 1) / np.maximum(norm, 1e-12))[:, None] * grad   # (B, d)
        if L == 0:
            D.grads[0][:, 0] += d_grad.sum(0)
            return gp, norm
        D.grads[0] += d_grad.T @ us[0]                                             # ∂W_1
        d_u = d_grad @ W[0]                                                        # (B, h_1)
        for l in range(1, L):
            d_v = masks[l - 1] * d_u                                               # through M_l
            D.grads[2 * l] += d_v.T @ us[l]                                        # ∂W_{l+1}
            d_u = d_v @ W[l]                                                       # (B, h_{l+1})
        D.grads[2 * L][:, 0] += (masks[L - 1] * d_u).sum(0)                       # ∂w_{L+1}
    return gp, norm


def d_loss(loss: str, d_real: np.ndarray, d_fake: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Discriminator / critic loss (without the gradient penalty) and its gradients w.r.t. the two outputs.

    GAN, the negated value (Goodfellow et al. 2014, Eq. 1) with D = σ(logit):
    $L_D = -\mathbb{E}_x[\log\sigma(D(x))] - \mathbb{E}_z[\log(1-\sigma(D(G(z))))]$;
    WGAN / WGAN-GP (Arjovsky et al. 2017, Algorithm 1): $L_D = -\mathbb{E}_x[f(x)] + \mathbb{E}_z[f(G(z))]$.

    d_real, d_fake : np.ndarray [shape=(B, 1)] logits / critic scores. Returns (L_D, ∂L/∂d_real, ∂L/∂d_fake).
    """
    m_r, m_f = len(d_real), len(d_fake)
    if loss == "gan":
        # L_D = −E[log σ(D(x))] − E[log(1 − σ(D(G(z))))];  −log σ(a) = softplus(−a), −log(1 − σ(a)) = softplus(a)
        value = float(_softplus(-d_real).mean() + _softplus(d_fake).mean())
        # d softplus(−a)/da = −σ(−a),  d softplus(a)/da = σ(a)
        return value, (-_sigmoid(-d_real) / m_r).astype(F32), (_sigmoid(d_fake) / m_f).astype(F32)
    # L_D = −E[f(x)] + E[f(G(z))]
    value = float(d_fake.mean() - d_real.mean())
    return value, np.full_like(d_real, -1 / m_r), np.full_like(d_fake, 1 / m_f)


def g_loss(loss: str, d_fake: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Generator loss and its gradient w.r.t. D's output: the non-saturating
    $-\mathbb{E}_z[\log\sigma(D(G(z)))]$ for the GAN (Goodfellow et al. 2014, Sec. 3) and
    $-\mathbb{E}_z[f(G(z))]$ for the WGANs."""
    m = len(d_fake)
    if loss == "gan":
        # L_G = −E[log σ(D(G(z)))] = E[softplus(−D(G(z)))]
        return float(_softplus(-d_fake).mean()), (-_sigmoid(-d_fake) / m).astype(F32)
    # L_G = −E[f(G(z))]
    return float(-d_fake.mean()), np.full_like(d_fake, -1 / m)


# ------------------------------------------------------------------------------------------------ training

@dataclass(frozen=True)
class Snapshot:
    """The state of one model after `step` generator steps, plus its whole history."""
    loss: str
    step: int                    # generator steps done
    samples: np.ndarray          # (n_show, 2) G(z) for a fixed z
    real: np.ndarray             # (n_show, 2) target samples (fixed for the run)
    grid_x: np.ndarray           # (grid,) coordinates of the landscape (same on both axes)
    landscape: np.ndarray        # (grid, grid) σ(D) for the GAN, the critic f for WGANs; [row = y, col = x]
    centres: np.ndarray          # (K, 2) mode centres
    counts: np.ndarray           # (K,) samples near each mode
    covered: np.ndarray          # (K,) bool, mode holds ≥ 20 % of its fair share
    modes_covered: int
    quality: float               # fraction of samples within a mode's radius
    w1: float                    # exact W1(G(z), target) on n_show points
    grad_norm: float             # mean ‖∇x D‖ at interpolates between real and fake
    clipped: float               # fraction of critic weights at ±c (WGAN only, else 0)
    hist_step: np.ndarray        # (S,) generator step of each logged point
    hist_d: np.ndarray           # (S,) D / critic loss (WGANs: without the penalty, so −hist_d estimates W1)
    hist_g: np.ndarray           # (S,) generator loss
    hist_w1: np.ndarray          # (S,) exact sample W1 at each snapshot
    hist_modes: np.ndarray       # (S,) modes covered at each snapshot
    seconds: float               # compute time spent in training steps so far


def train(config: Config, seed: int = 0) -> Iterator[Snapshot]:
    """Train one model, yielding a `Snapshot` at step 0 and every `config.snapshot_every` generator steps.

    Deterministic for a given (config, seed): the target pool, the networks, noise and ε all come from a numpy
    generator seeded with `seed` (no global RNG); the same seed gives G and D the same initial weights across
    losses, so the three models start from one point and differ only by their loss.
    """
    import time

    cfg = config
    if cfg.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}")
    rng = np.random.default_rng(seed)
    pool = sample_target(cfg.target, POOL, rng, cfg.points)                        # (POOL, 2) float64
    pool32 = pool.astype(F32)
    real_show = pool[:cfg.n_show]
    centres, radius = modes(cfg.target, pool[:2000], np.random.default_rng(seed))
    share = (np.bincount(np.argmin(((pool[:2000, None] - centres[None]) ** 2).sum(-1), 1),
                         minlength=len(centres)) / 2000.0) if len(centres) else np.zeros(0)

    G = MLP([cfg.z_dim] + [cfg.hidden] * cfg.layers + [2], rng)
    D = MLP([2] + [cfg.hidden] * cfg.layers + [1], rng)
    if cfg.loss == "wgan":
        opt_g, opt_d = RMSProp(G.flat, cfg.lr_g), RMSProp(D.flat, cfg.lr_d)       # α = 0.99, ε = 1e-8
        np.clip(D.flat, -cfg.clip_c, cfg.clip_c, out=D.flat)
    else:
        betas = (0.5, 0.999) if cfg.loss == "gan" else (0.5, 0.9)
        opt_g, opt_d = NumpyAdam(G.flat, cfg.lr_g, betas), NumpyAdam(D.flat, cfg.lr_d, betas)

    z_show = rng.standard_normal((cfg.n_show, cfg.z_dim), dtype=F32)               # (n_show, z_dim) fixed
    extent = float(np.abs(pool).max() * 1.25)
    grid_x = np.linspace(-extent, extent, cfg.grid)
    gx, gy = np.meshgrid(grid_x, grid_x)
    grid_pts = np.stack([gx.ravel(), gy.ravel()], 1).astype(F32)                   # (grid², 2)
    m = cfg.batch_size
    hist_step: list[int] = []
    hist_d: list[float] = []
    hist_g: list[float] = []
    hist_w1: list[float] = []
    hist_modes: list[int] = []
    acc_d, acc_g, acc_n = 0.0, 0.0, 0
    seconds = 0.0

    def d_step() -> float:
        x = pool32[rng.integers(0, POOL, m)]                                      # (m, 2) real batch
        fake = G(rng.standard_normal((m, cfg.z_dim), dtype=F32))                  # (m, 2), G held fixed
        out, cache = D.forward(np.concatenate([x, fake]))                          # (2m, 1) both halves at once
        loss, d_real, d_fake = d_loss(cfg.loss, out[:m], out[m:])
        D.grad[:] = 0
        D.backward(cache, np.concatenate([d_real, d_fake]))
        if cfg.loss == "wgan-gp":
            # ∂/∂θ of L_D + λ E[(‖∇f(x̂)‖ − 1)²]
            gradient_penalty(D, x, fake, rng.random((m, 1), dtype=F32), weight=cfg.gp_lambda)
        opt_d.step(D.grad)
        if cfg.loss == "wgan":
            # w ← clip(w, −c, c)
            np.clip(D.flat, -cfg.clip_c, cfg.clip_c, out=D.flat)
        return loss

    def g_step() -> float:
        fake, g_cache = G.forward(rng.standard_normal((m, cfg.z_dim), dtype=F32))  # (m, 2)
        out, d_cache = D.forward(fake)                                              # (m, 1)
        loss, d_out = g_loss(cfg.loss, out)
        G.grad[:] = 0
        G.backward(g_cache, D.backward(d_cache, d_out, param_grads=False))         # through D into G only
        opt_g.step(G.grad)
        return loss

    def snapshot(step: int) -> Snapshot:
        samples = G(z_show).astype(np.float64)                                    # (n_show, 2)
        land = D(grid_pts).reshape(cfg.grid, cfg.grid)                             # (grid, grid)
        if cfg.loss == "gan":
            land = _sigmoid(land)
        eps = np.random.default_rng([seed, step]).random((cfg.n_show, 1), dtype=F32)
        _, norms = gradient_penalty(D, real_show.astype(F32), samples.astype(F32), eps)
        covered, quality, counts, mask = mode_coverage(samples, centres, radius, share)
        w1 = sample_w1(samples[:256], real_show[:256])
        hist_w1.append(w1)
        hist_modes.append(covered)
        clipped = float((np.abs(D.flat) >= cfg.clip_c * 0.999).mean()) if cfg.loss == "wgan" else 0.0
        return Snapshot(loss=cfg.loss, step=step, samples=samples, real=real_show, grid_x=grid_x,
                        landscape=land.astype(np.float64), centres=centres, counts=counts, covered=mask,
                        modes_covered=covered, quality=quality, w1=w1, grad_norm=float(norms.mean()),
                        clipped=clipped, hist_step=np.array(hist_step, dtype=np.int64),
                        hist_d=np.array(hist_d), hist_g=np.array(hist_g), hist_w1=np.array(hist_w1),
                        hist_modes=np.array(hist_modes, dtype=np.int64), seconds=seconds)

    # step 0: losses of the untrained pair, measured without updating
    f0 = D(G(rng.standard_normal((m, cfg.z_dim), dtype=F32)))
    r0 = D(pool32[:m])
    hist_d.append(d_loss(cfg.loss, r0, f0)[0])
    hist_g.append(g_loss(cfg.loss, f0)[0])
    hist_step.append(0)
    yield snapshot(0)
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        for _ in range(cfg.n_critic):
            acc_d += d_step() / cfg.n_critic
        acc_g += g_step()
        acc_n += 1
        seconds += time.perf_counter() - t0
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            hist_step.append(step)
            hist_d.append(acc_d / acc_n)
            hist_g.append(acc_g / acc_n)
            acc_d, acc_g, acc_n = 0.0, 0.0, 0
            yield snapshot(step)


def train_all(configs: dict[str, Config], seed: int = 0) -> Iterator[dict[str, Snapshot]]:
    """Several models in lockstep: one dict {name: Snapshot} per round, each model advanced by its own
    `snapshot_every` generator steps. Stops when the first model stops."""
    its = {k: train(c, seed) for k, c in configs.items()}
    while True:
        try:
            yield {k: next(it) for k, it in its.items()}
        except StopIteration:
            return


def loss_signal(snap: Snapshot) -> np.ndarray:
    """What each model's D reports over time: L_D for the GAN, −L_D for WGANs (the critic's W1 estimate,
    Arjovsky et al. 2017, Sec. 4: it should fall as samples improve)."""
    return snap.hist_d if snap.loss == "gan" else -snap.hist_d


def loss_quality_correlation(snap: Snapshot, skip: int = 1) -> float:
    """Pearson correlation between `loss_signal` and the true sample W1 over the snapshots after the first
    `skip` (NaN while fewer than 3 points or either is constant)."""
    y, w = loss_signal(snap)[skip:], snap.hist_w1[skip:]
    if len(y) < 3 or np.std(y) == 0 or np.std(w) == 0:
        return float("nan")
    return float(np.corrcoef(y, w)[0, 1])


def with_target(config: Config, target: str, points: np.ndarray | None = None) -> Config:
    """A copy of `config` on another target."""
    return replace(config, target=target, points=points)
