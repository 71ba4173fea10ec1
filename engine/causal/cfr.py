r"""Individual treatment effects: why correlation misleads, S/T-learners, TARNet and CFR (TARNet + IPM).

Potential outcomes $Y_0, Y_1$, treatment $t\in\{0,1\}$, $m_t(x) = \mathbb E[Y_t\mid x]$ and the individual (conditional)
treatment effect $\tau(x) = m_1(x) - m_0(x)$. The error of an estimate $\hat\tau$:

$$\epsilon_{PEHE} = \int (\hat\tau(x) - \tau(x))^2 p(x)\,dx,\qquad \epsilon_{ATE} = |\mathbb E[\hat\tau] - \mathbb E[\tau]|$$

CFR learns a representation $\Phi$ and two heads $h_0, h_1$ minimising

$$\frac1n\sum_i w_i\,(h_{t_i}(\Phi(x_i)) - y_i)^2 + \alpha\,\mathrm{IPM}_G(\{\Phi(x_i)\}_{t_i=0}, \{\Phi(x_i)\}_{t_i=1}),\qquad
w_i = \frac{t_i}{2u} + \frac{1-t_i}{2(1-u)},\ u = \frac1n\sum_i t_i$$

(plus weight decay in the paper), because $\epsilon_{PEHE} \le 2(\epsilon_F^{t=0} + \epsilon_F^{t=1} + B_\Phi\,
\mathrm{IPM}_G(p_\Phi^{t=1}, p_\Phi^{t=0}) - 2\sigma_Y^2)$ (Theorem 1). TARNet is CFR with $\alpha = 0$.

References
----------
Shalit, Johansson, Sontag, "Estimating individual treatment effect: generalization bounds and algorithms",
ICML 2017 (Eq. 2 PEHE, Theorem 1, Eq. 7 objective with w_i, Algorithm 1).
Hill, "Bayesian Nonparametric Modeling for Causal Inference", JCGS 2011 (IHDP, response surface B).
Cuturi, "Sinkhorn Distances", NeurIPS 2013 (entropic optimal transport).
Gretton et al., "A Kernel Two-Sample Test", JMLR 2012 (Eq. 5, biased MMD²).
Künzel et al., "Metalearners for estimating heterogeneous treatment effects", PNAS 2019 (S- and T-learners).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from engine.common import optim

DATASETS = ("ihdp", "synthetic")
MODELS = ("s_learner", "t_learner", "tarnet", "cfr")
IPMS = ("wass", "mmd")
IHDP_CSV = Path(__file__).resolve().parents[2] / "assets" / "data" / "ihdp_sim.csv"
IHDP_CONTINUOUS = ("bw", "b.head", "preterm", "birth.o", "nnhealth", "momage")
IHDP_BINARY = ("sex", "twin", "b.marr", "mom.lths", "mom.hs", "mom.scoll", "cig", "first", "booze", "drugs",
               "work.dur", "prenatal", "site1", "site2", "site3", "site4", "site5", "site6", "site7")


# ------------------------------------------------------------------------------------------------ data

@dataclass(frozen=True)
class Data:
    """Covariates, treatment, factual outcome and both noiseless potential outcomes, with a train/test split."""
    name: str
    X: np.ndarray = field(repr=False)       # (n, d) covariates (continuous ones standardised)
    t: np.ndarray = field(repr=False)       # (n,) 0/1 treatment
    y: np.ndarray = field(repr=False)       # (n,) factual outcome y = Y_t
    y_cf: np.ndarray = field(repr=False)    # (n,) counterfactual outcome Y_{1−t} (never seen by a model)
    mu0: np.ndarray = field(repr=False)     # (n,) m_0(x) (noiseless)
    mu1: np.ndarray = field(repr=False)     # (n,) m_1(x)
    train: np.ndarray = field(repr=False)   # (n_train,) indices
    test: np.ndarray = field(repr=False)    # (n_test,) indices

    @property
    def tau(self) -> np.ndarray:
        return self.mu1 - self.mu0


def _split(n: int, rng: np.random.Generator, test_frac: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    k = int(round(n * test_frac))
    return np.sort(perm[k:]), np.sort(perm[:k])


def ihdp_covariates() -> tuple[np.ndarray, np.ndarray]:
    """IHDP (Hill 2011) as Hill builds it: the 985 children of the vendored file minus the treated children of
    non-white mothers → 747 children, 139 treated; 25 covariates (6 continuous, standardised; 19 binary — site 8 is
    the reference level). Returns (X (747, 25), t (747,))."""
    import csv

    with open(IHDP_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = [r for r in rows if not (r["treat"] == "1" and r["momwhite"] == "0")]
    X = np.array([[float(r[c]) for c in IHDP_CONTINUOUS + IHDP_BINARY] for r in keep])   # (747, 25)
    X[:, :6] = (X[:, :6] - X[:, :6].mean(0)) / X[:, :6].std(0)
    t = np.array([int(r["treat"]) for r in keep])
    return X, t


def ihdp(seed: int = 0) -> Data:
    r"""IHDP with Hill's (2011) response surface B (the setting Shalit et al. use, NPCI's setting "A"):
    $\beta_j \in \{0, .1, .2, .3, .4\}$ with probabilities $(.6, .1, .1, .1, .1)$, $W$ = 0.5 everywhere,
    $m_0(x) = \exp((x + W)^\top\beta)$, $m_1(x) = x^\top\beta - \omega$ with ω set so that the average effect on
    the treated is 4, $Y_t \sim N(m_t(x), 1)$. One draw per seed (the paper averages 1000 draws)."""
    rng = np.random.default_rng(seed)
    X, t = ihdp_covariates()
    n, d = X.shape
    beta = rng.choice([0.0, 0.1, 0.2, 0.3, 0.4], size=d, p=[0.6, 0.1, 0.1, 0.1, 0.1])   # (d,)
    mu0 = np.exp((X + 0.5) @ beta)                                                      # (n,)
    lin = X @ beta
    omega = np.mean(lin[t == 1] - mu0[t == 1]) - 4.0                                    # CATT = 4
    mu1 = lin - omega
    y0 = mu0 + rng.standard_normal(n)
    y1 = mu1 + rng.standard_normal(n)
    y, y_cf = np.where(t == 1, y1, y0), np.where(t == 1, y0, y1)
    tr, te = _split(n, rng)
    return Data("ihdp", X, t, y, y_cf, mu0, mu1, tr, te)


def synthetic(seed: int = 0, n: int = 1000) -> Data:
    r"""A 2-D confounded set: $x \sim N(0, I_2)$; $x_1$ (the confounder) raises both the chance of treatment,
    $P(t=1\mid x) = \sigma(2x_1)$, and the outcome, $m_0(x) = 2x_1 + \sin(2x_2)$; the effect is
    $\tau(x) = 1 + x_2$ (true average 1); $Y_t \sim N(m_t(x), 0.5^2)$."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))                                                     # (n, 2)
    t = (rng.random(n) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    mu0 = 2 * X[:, 0] + np.sin(2 * X[:, 1])
    mu1 = mu0 + 1 + X[:, 1]
    y0 = mu0 + 0.5 * rng.standard_normal(n)
    y1 = mu1 + 0.5 * rng.standard_normal(n)
    y, y_cf = np.where(t == 1, y1, y0), np.where(t == 1, y0, y1)
    tr, te = _split(n, rng)
    return Data("synthetic", X, t, y, y_cf, mu0, mu1, tr, te)


def load(name: str, seed: int = 0) -> Data:
    return {"ihdp": ihdp, "synthetic": synthetic}[name](seed)


@dataclass(frozen=True)
class Naive:
    """What a correlation says against the truth."""
    naive: float           # mean(y | t=1) − mean(y | t=0)
    ate: float             # mean τ(x) over the sample (from the known m_0, m_1)
    att: float             # mean τ(x) over the treated
    x1_treated: float      # mean confounder among the treated
    x1_control: float      # … among the controls


def naive_vs_true(d: Data) -> Naive:
    r"""The naive difference of means $\bar y_{t=1} - \bar y_{t=0}$ against the true $ATE = \frac1n\sum_i\tau(x_i)$."""
    t1 = d.t == 1
    return Naive(float(d.y[t1].mean() - d.y[~t1].mean()), float(d.tau.mean()), float(d.tau[t1].mean()),
                 float(d.X[t1, 0].mean()), float(d.X[~t1, 0].mean()))


# ------------------------------------------------------------------------------------------------ metrics

def pehe(tau_hat: np.ndarray, tau: np.ndarray) -> float:
    r"""$\sqrt{\epsilon_{PEHE}} = \sqrt{\frac1n\sum_i(\hat\tau(x_i) - \tau(x_i))^2}$ (Shalit et al. Eq. 2, empirical)."""
    return float(np.sqrt(np.mean((np.asarray(tau_hat) - np.asarray(tau)) ** 2)))


def ate_error(tau_hat: np.ndarray, tau: np.ndarray) -> float:
    r"""$\epsilon_{ATE} = |\frac1n\sum_i\hat\tau(x_i) - \frac1n\sum_i\tau(x_i)|$."""
    return float(abs(np.mean(tau_hat) - np.mean(tau)))


def sample_weights(t: np.ndarray) -> np.ndarray:
    r"""$w_i = \frac{t_i}{2u} + \frac{1-t_i}{2(1-u)}$, $u = \frac1n\sum_i t_i$ (Shalit et al. Algorithm 1): each
    group carries half of the total weight."""
    t = np.asarray(t, float)
    u = t.mean()
    # w_i = t_i/(2u) + (1 − t_i)/(2(1 − u))
    return t / (2 * u) + (1 - t) / (2 * (1 - u))


def wasserstein(a, b, eps: float = 0.05, iters: int = 10):
    r"""Entropic approximation of the Wasserstein-1 distance between the uniform empirical measures of a (n, k) and
    b (m, k) with Euclidean ground cost $M_{ij} = \|a_i - b_j\|_2$ — the definition of
    `scipy.stats.wasserstein_distance_nd` with equal weights. Log-domain Sinkhorn (Cuturi 2013) with regulariser
    $\varepsilon\cdot\overline M$ finds a plan P; the value is $\langle P, M\rangle$. The plan is held fixed (no
    gradient through the iterations, as in Shalit et al.'s code) so the gradient reaches a and b through M only.
    With a small regulariser and many iterations it converges to W1; at the training setting (0.05, 10 iterations,
    cheap enough for every step) P does not yet have the right row sums, and the value can be far from W1 on
    either side (on a 5×5 grid shifted by one cell: 0.44 against W1 = 1). It is the loss term, a surrogate: the
    number reported as W1 is `wasserstein_exact`.
    Accepts numpy arrays or torch tensors; returns a float or a 0-d tensor accordingly."""
    import torch

    is_np = not isinstance(a, torch.Tensor)
    ta = torch.as_tensor(a, dtype=torch.float64) if is_np else a
    tb = torch.as_tensor(b, dtype=torch.float64) if is_np else b
    # M_ij = ‖a_i − b_j‖₂ (a small floor keeps the gradient of √· finite at 0)
    M = torch.sqrt(torch.cdist(ta, tb).pow(2) + 1e-12)                               # (n, m)
    with torch.no_grad():
        Md = M.detach()
        reg = eps * Md.mean().clamp_min(1e-12)
        n, m = Md.shape
        log_a = torch.full((n,), -np.log(n), dtype=Md.dtype)
        log_b = torch.full((m,), -np.log(m), dtype=Md.dtype)
        f = torch.zeros(n, dtype=Md.dtype)
        g = torch.zeros(m, dtype=Md.dtype)
        for _ in range(iters):
            f = reg * (log_a - torch.logsumexp((g[None, :] - Md) / reg, 1))
            g = reg * (log_b - torch.logsumexp((f[:, None] - Md) / reg, 0))
        P = torch.exp((f[:, None] + g[None, :] - Md) / reg)                            # (n, m) transport plan
    value = (P.to(M.dtype) * M).sum()
    return float(value) if is_np else value


def wasserstein_exact(a: np.ndarray, b: np.ndarray) -> float:
    r"""The exact Wasserstein-1 distance between the uniform empirical measures of a (n, k) and b (m, k) with
    Euclidean ground cost (the definition of `scipy.stats.wasserstein_distance_nd`):

    $$W_1 = \min_{\gamma\ge0,\ \gamma\mathbf 1 = \frac1n\mathbf 1,\ \gamma^\top\mathbf 1 = \frac1m\mathbf 1}
    \sum_{i,j}\gamma_{ij}\,\|a_i - b_j\|_2 .$$

    For n = m an optimal plan is a permutation (Birkhoff), found by `scipy.optimize.linear_sum_assignment`;
    otherwise the transport linear program is solved by `scipy.optimize.linprog` (HiGHS). No gradient: this is the
    number reported, not the loss term (see `wasserstein`)."""
    import scipy.sparse as sp
    from scipy.optimize import linear_sum_assignment, linprog

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    n, m = len(a), len(b)
    # M_ij = ‖a_i − b_j‖₂
    M = np.sqrt(np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0))   # (n, m)
    if n == m:
        r, c = linear_sum_assignment(M)
        return float(M[r, c].mean())
    # Σ_j γ_ij = 1/n (rows), Σ_i γ_ij = 1/m (columns); one equation is redundant (both sum to 1)
    rows = sp.kron(sp.eye(n, format="csr"), np.ones((1, m)), format="csr")
    cols = sp.kron(np.ones((1, n)), sp.eye(m, format="csr"), format="csr")
    A = sp.vstack([rows, cols[:-1]]).tocsr()
    beq = np.r_[np.full(n, 1 / n), np.full(m - 1, 1 / m)]
    res = linprog(M.ravel(), A_eq=A, b_eq=beq, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"transport LP failed: {res.message}")
    return float(res.fun)


def mmd2_rbf(a, b, sigma: float = 1.0):
    r"""The biased squared MMD with the RBF kernel $k(u, v) = \exp(-\|u-v\|^2 / (2\sigma^2))$ (Gretton et al. Eq. 5):
    $\frac1{n^2}\sum k(a_i,a_j) + \frac1{m^2}\sum k(b_i,b_j) - \frac2{nm}\sum k(a_i,b_j)$."""
    import torch

    is_np = not isinstance(a, torch.Tensor)
    ta = torch.as_tensor(a, dtype=torch.float64) if is_np else a
    tb = torch.as_tensor(b, dtype=torch.float64) if is_np else b

    def k(u, v):
        return torch.exp(-torch.cdist(u, v).pow(2) / (2 * sigma ** 2))                # (n, m)

    val = k(ta, ta).mean() + k(tb, tb).mean() - 2 * k(ta, tb).mean()
    return float(val) if is_np else val


def ipm(name: str, a, b):
    """The IPM term of CFR's loss: "wass" (the Sinkhorn surrogate of W1, `wasserstein`) or "mmd" (MMD², σ = 1)."""
    return wasserstein(a, b) if name == "wass" else mmd2_rbf(a, b)


# ------------------------------------------------------------------------------------------------ meta-learners (sklearn API)

def s_learner(X, t, y, make: Callable) -> Callable[[np.ndarray], np.ndarray]:
    r"""S-learner: one model $\hat\mu(x, t)$ on $[x, t]$; $\hat\tau(x) = \hat\mu(x, 1) - \hat\mu(x, 0)$ (Künzel et al.).
    `make()` returns an unfitted scikit-learn regressor."""
    model = make().fit(np.column_stack([X, t]), y)
    return lambda Z: model.predict(np.column_stack([Z, np.ones(len(Z))])) - model.predict(
        np.column_stack([Z, np.zeros(len(Z))]))


def t_learner(X, t, y, make: Callable) -> Callable[[np.ndarray], np.ndarray]:
    r"""T-learner: $\hat\mu_0$ fitted on the controls, $\hat\mu_1$ on the treated; $\hat\tau = \hat\mu_1 - \hat\mu_0$."""
    m0 = make().fit(X[t == 0], y[t == 0])
    m1 = make().fit(X[t == 1], y[t == 1])
    return lambda Z: m1.predict(Z) - m0.predict(Z)


# ------------------------------------------------------------------------------------------------ live training

@dataclass(frozen=True)
class Config:
    """One model's training setup (full-batch Adam on the training split)."""
    model: str = "cfr"              # "s_learner" | "t_learner" | "tarnet" | "cfr"
    alpha: float = 1.0              # IPM weight α (CFR only)
    ipm: str = "wass"               # "wass" | "mmd"
    hidden: int = 64                # units of each hidden layer (Φ and heads)
    rep: int = 16                   # size of the representation Φ(x)
    lr: float = 2e-3
    weight_decay: float = 1e-3      # L2 on the weights (λ in the paper's objective)
    seed: int = 0                   # network initialisation
    max_steps: int = 1500
    snapshot_every: int = 25
    n_w1: int = 150                 # units per group on which W1 of Φ is reported exactly (fixed subsample)
    normalize: bool = False         # Φ(x) / ‖Φ(x)‖₂ (the "divide" option of Shalit et al.'s code)
    n_show: int = 300               # training points whose Φ is drawn


@dataclass(frozen=True)
class Snapshot:
    step: int
    model: str
    metrics: dict = field(default_factory=dict)   # factual RMSE, √PEHE in/out of sample, ATE error, IPM (below)
    phi2d: np.ndarray | None = field(default=None, repr=False)   # (n_show, 2) PCA of Φ (TARNet, CFR)
    t_show: np.ndarray | None = field(default=None, repr=False)  # (n_show,)
    tau_hat: np.ndarray | None = field(default=None, repr=False)  # (n_test,) τ̂ on the test split
    seconds: float = 0.0


def _mlp(sizes: list[int], gen) -> list:
    """Weights (in, out) and biases as leaf tensors, initialised like nn.Linear from `gen`."""
    import torch

    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(a)
        ps.append((torch.rand(a, b, generator=gen) * 2 - 1).mul_(bound).requires_grad_())
        ps.append((torch.rand(b, generator=gen) * 2 - 1).mul_(bound).requires_grad_())
    return ps


def _run(ps: list, x, last_linear: bool = True):
    import torch

    n = len(ps) // 2
    for i in range(n):
        x = x @ ps[2 * i] + ps[2 * i + 1]
        if i < n - 1 or not last_linear:
            x = torch.nn.functional.elu(x)
    return x


def _pca2(Z: np.ndarray) -> np.ndarray:
    """The 2-D principal-component projection (n, 2) with a fixed sign per axis."""
    Zc = Z - Z.mean(0)
    _, _, Vt = np.linalg.svd(Zc, full_matrices=False)
    P = Zc @ Vt[:2].T
    if P.shape[1] < 2:
        P = np.column_stack([P, np.zeros(len(P))])
    return P * np.where(np.sign(P[np.abs(P).argmax(0), [0, 1]]) < 0, -1, 1)


def train(d: Data, cfg: Config) -> Iterator[Snapshot]:
    r"""Train one model on d's training split; every `snapshot_every` steps evaluate $\sqrt{\epsilon_{PEHE}}$ and
    $\epsilon_{ATE}$ on both splits against the known effects. Outcomes are standardised with the training mean
    and std for training and mapped back for every reported number.

    - S-learner: $\hat\mu([x, t])$, one MLP.   - T-learner: two MLPs, each on its own group.
    - TARNet: $h_t(\Phi(x))$ with the weights $w_i$.   - CFR: TARNet $+\ \alpha\,\mathrm{IPM}(\Phi_{t=0}, \Phi_{t=1})$."""
    import torch

    gen = torch.Generator().manual_seed(cfg.seed)
    Xtr = torch.as_tensor(d.X[d.train], dtype=torch.float32)        # (n, d)
    Xte = torch.as_tensor(d.X[d.test], dtype=torch.float32)
    ttr = d.t[d.train]
    y_mean, y_std = float(d.y[d.train].mean()), float(d.y[d.train].std())
    ytr = torch.as_tensor((d.y[d.train] - y_mean) / y_std, dtype=torch.float32)  # (n,)
    tt = torch.as_tensor(ttr, dtype=torch.float32)
    w = torch.as_tensor(sample_weights(ttr), dtype=torch.float32)   # (n,)
    if cfg.model in ("s_learner", "t_learner"):
        w = torch.ones_like(w)
    dim, h = d.X.shape[1], cfg.hidden
    if cfg.model == "s_learner":
        nets = {"mu": _mlp([dim + 1, h, h, h, 1], gen)}
    elif cfg.model == "t_learner":
        nets = {"mu0": _mlp([dim, h, h, h, 1], gen), "mu1": _mlp([dim, h, h, h, 1], gen)}
    else:
        nets = {"phi": _mlp([dim, h, cfg.rep], gen), "h0": _mlp([cfg.rep, h, 1], gen), "h1": _mlp([cfg.rep, h, 1], gen)}
    params = [p for ps in nets.values() for p in ps]
    opt = optim.Adam(params, lr=cfg.lr)   # = torch.optim.Adam without its first-call import of torch._dynamo
    weights = [p for ps in nets.values() for p in ps[0::2]]
    alpha = cfg.alpha if cfg.model == "cfr" else 0.0
    show = np.linspace(0, len(d.train) - 1, min(cfg.n_show, len(d.train))).astype(int)
    # the units on which W1 is reported: k treated and k control training units, k = min(n_t, n_c, n_w1), drawn once.
    # Between two uniform sets of equal size an optimal transport plan is a matching, so W1 is exact and cheap there
    # (a linear program on all units, 421 × 379 on the synthetic set, took seconds per snapshot).
    pick = np.random.default_rng([cfg.seed, 29])
    i_t, i_c = np.flatnonzero(ttr > 0), np.flatnonzero(ttr == 0)
    k = min(len(i_t), len(i_c), cfg.n_w1)
    w1_t, w1_c = np.sort(pick.choice(i_t, k, replace=False)), np.sort(pick.choice(i_c, k, replace=False))

    def outcomes(X):
        """(μ̂0, μ̂1, Φ or None) in standardised units."""
        if cfg.model == "s_learner":
            one, zero = torch.ones(len(X), 1), torch.zeros(len(X), 1)
            return (_run(nets["mu"], torch.cat([X, zero], 1))[:, 0], _run(nets["mu"], torch.cat([X, one], 1))[:, 0],
                    None)
        if cfg.model == "t_learner":
            return _run(nets["mu0"], X)[:, 0], _run(nets["mu1"], X)[:, 0], None
        phi = _run(nets["phi"], X, last_linear=False)               # (n, rep) Φ(x), ELU output
        if cfg.normalize:
            # Φ(x) / ‖Φ(x)‖₂ (cfrnet's normalization="divide"): the IPM cannot fall by shrinking Φ
            phi = phi / torch.sqrt((phi ** 2).sum(1, keepdim=True) + 1e-12)
        return _run(nets["h0"], phi)[:, 0], _run(nets["h1"], phi)[:, 0], phi

    def factual_loss(need_ipm: bool = True):
        m0, m1, phi = outcomes(Xtr)
        pred = torch.where(tt > 0, m1, m0)                           # (n,) h_{t_i}(Φ(x_i))
        # (1/n) Σ w_i (h_{t_i}(Φ(x_i)) − y_i)²
        loss_f = (w * (pred - ytr) ** 2).mean()
        dist = ipm(cfg.ipm, phi[tt > 0], phi[tt == 0]) if phi is not None and need_ipm else None
        return loss_f, pred, dist

    secs = 0.0

    def snap(step: int) -> Snapshot:
        with torch.no_grad():
            _, pred, dist = factual_loss()
            m0tr, m1tr, phi = outcomes(Xtr)
            m0te, m1te, _ = outcomes(Xte)
        tau_tr = (m1tr - m0tr).numpy().astype(np.float64) * y_std
        tau_te = (m1te - m0te).numpy().astype(np.float64) * y_std
        fact = float(np.sqrt(np.mean((pred.numpy() * y_std + y_mean - d.y[d.train]) ** 2)))
        metrics = {"factual_rmse": fact, "pehe_in": pehe(tau_tr, d.tau[d.train]), "pehe_out": pehe(tau_te, d.tau[d.test]),
                   "ate_in": ate_error(tau_tr, d.tau[d.train]), "ate_out": ate_error(tau_te, d.tau[d.test])}
        phi2d = t_show = None
        if phi is not None:
            # "wass": ipm = the exact W1 on the fixed subsample (k treated, k control), ipm_loss = the loss's
            # Sinkhorn surrogate on the same units, to show how far it is; "mmd": both the MMD² of all units (exact)
            # spread of Φ: √(mean_i ‖Φ(x_i) − mean Φ‖²), so that a fall of the IPM by mere shrinking shows
            metrics["phi_spread"] = float(torch.sqrt(((phi - phi.mean(0)) ** 2).sum(1).mean()))
            if cfg.ipm != "wass":
                metrics["ipm"] = metrics["ipm_loss"] = float(dist)
            else:
                ph = phi.numpy().astype(np.float64)
                metrics["ipm"] = wasserstein_exact(ph[w1_t], ph[w1_c])
                metrics["ipm_loss"] = wasserstein(ph[w1_t], ph[w1_c])
            phi2d = _pca2(phi.numpy()[show].astype(np.float64))
            t_show = ttr[show]
        return Snapshot(step, cfg.model, metrics, phi2d, t_show, tau_te, secs)

    yield snap(0)
    for step in range(1, cfg.max_steps + 1):
        t0 = time.perf_counter()
        loss_f, _, dist = factual_loss(alpha > 0)
        loss = loss_f + cfg.weight_decay * sum((p ** 2).sum() for p in weights)
        if alpha > 0:
            loss = loss + alpha * dist
        opt.zero_grad()
        loss.backward()
        opt.step()
        secs += time.perf_counter() - t0
        if step % cfg.snapshot_every == 0 or step == cfg.max_steps:
            yield snap(step)


def synthetic_curves(n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The synthetic set's $m_0$ and $m_1$ along the confounder $x_1 \in [-3, 3]$ at $x_2 = 0$:
    (x1 (n,), m0 (n,), m1 (n,))."""
    x1 = np.linspace(-3, 3, n)
    m0 = 2 * x1 + np.sin(0.0)
    return x1, m0, m0 + 1.0


