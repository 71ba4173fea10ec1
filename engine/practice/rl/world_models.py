"""Practice items for RL › World Models (format: engine/common/practice.py)."""
from __future__ import annotations

import math

import numpy as np
import torch

from engine.common.practice import (statement_choices, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    text)
from engine.rl import world_models as wm

S = "world_models"


def controller_params(rng: np.random.Generator) -> Item:
    """Parameters of the linear controller C from [z; h] (or z alone) to A action outputs, W and b; distractors:
    the bias left out, h left out, one bias for all outputs, one output only, h counted twice (h and c of the
    LSTM)."""
    z_dim = int(rng.choice([8, 16, 32, 64]))
    hidden = int(rng.choice([64, 128, 256, 512]))
    A = int(rng.choice([1, 2, 3, 4]))
    use_h = bool(rng.random() < 0.8)
    right = A * wm.n_controller_params(z_dim, hidden, use_h)          # each output: one row of W and its bias
    D = z_dim + (hidden if use_h else 0)
    fmt = lambda v: f"{int(round(v)):,}"                                # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.params.right"), [
        (D * A, text(S, "practice.params.no_bias")),
        ((z_dim + 1) * A if use_h else (z_dim + hidden + 1) * A,
         text(S, "practice.params.no_h" if use_h else "practice.params.with_h")),
        (D * A + 1, text(S, "practice.params.one_bias")),
        (D + 1, text(S, "practice.params.one_output")),
        ((D + hidden + 1) * A if use_h else D * D + D, text(S, "practice.params.h_and_c" if use_h
                                                            else "practice.params.square")),
    ], fmt)
    inputs = text(S, "practice.params.zh" if use_h else "practice.params.z_only", z=z_dim, h=hidden)
    return Item(kind="compute",
                stem=text(S, "practice.params.stem", z=z_dim, h=hidden, A=A, inputs=inputs),
                choices=choices,
                solution=text(S, "practice.params.solution", D=D, A=A, W=D * A, n=fmt(right)),
                setup={}, params={"z_dim": z_dim, "hidden": hidden, "A": A, "use_h": use_h},
                answer=float(right), tolerance=0.5)


def _mdn_density(pi, mu, sigma, z) -> float:
    """p(z) of a 1-D mixture by the chapter's mdn_log_prob (one latent dimension, K components)."""
    t = lambda v: torch.tensor([list(v)], dtype=torch.float64)         # noqa: E731  (z_dim = 1, K)
    lp = wm.mdn_log_prob(t(np.log(pi)), t(mu), t(np.log(sigma)), torch.tensor([z], dtype=torch.float64))
    return float(torch.exp(lp))


def _normal(z, m, s) -> float:
    return math.exp(-0.5 * ((z - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def mdn_density(rng: np.random.Generator) -> Item:
    """Density of the next latent under M's mixture of K = 2 or 3 Gaussians (one dimension); distractors: the
    weights left out, the 1/σ left out, only the most likely component, σ² read as σ, the unweighted mean."""
    K = int(rng.integers(2, 4))
    while True:
        cuts = np.sort(rng.choice(np.arange(1, 10), K - 1, replace=False))
        pi = np.diff(np.r_[0, cuts, 10]) / 10                          # multiples of 0.1, sum 1
        if len(set(pi.tolist())) == K:
            break
    mu = np.round(rng.uniform(-2, 2, K), 1) + 0.0
    sigma = np.array([float(rng.choice([0.5, 1.0, 1.5, 2.0])) for _ in range(K)])
    z = round(float(rng.uniform(-2, 2)), 1) + 0.0
    right = _mdn_density(pi, mu, sigma, z)
    Ns = [_normal(z, m, s) for m, s in zip(mu, sigma)]
    fmt = lambda v: f"{v:.4f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.mdn.right"), [
        (sum(Ns), text(S, "practice.mdn.no_weights")),
        (sum(p * n * s for p, n, s in zip(pi, Ns, sigma)), text(S, "practice.mdn.no_sigma")),
        (pi[int(np.argmax(pi))] * Ns[int(np.argmax(pi))], text(S, "practice.mdn.top_only")),
        (_mdn_density(pi, mu, sigma ** 2, z), text(S, "practice.mdn.variance")),
        (float(np.mean(Ns)), text(S, "practice.mdn.mean")),
    ], fmt)
    rows = "\n".join(f"| {k + 1} | {pi[k]:.1f} | {mu[k]:g} | {sigma[k]:g} |" for k in range(K))
    terms = " + ".join(f"{pi[k]:.1f} × {Ns[k]:.4f}" for k in range(K))
    return Item(kind="compute", stem=text(S, "practice.mdn.stem", K=K, rows=rows, z=f"{z:g}"), choices=choices,
                solution=text(S, "practice.mdn.solution", z=f"{z:g}", terms=terms, p=fmt(right)),
                setup={}, params={"pi": pi.tolist(), "mu": mu.tolist(), "sigma": sigma.tolist(), "z": z},
                answer=right, tolerance=0.00005)


def _kl_floored(mu, logvar, tol) -> float:
    """The KL term of the chapter's vae_loss (per-frame floor, then the batch mean)."""
    x = torch.full((len(mu), 1), 0.5, dtype=torch.float64)
    _, kl = wm.vae_loss(x, x, torch.tensor(mu, dtype=torch.float64), torch.tensor(logvar, dtype=torch.float64),
                        kl_tolerance=tol)
    return float(kl)


def kl_floor(rng: np.random.Generator) -> Item:
    """V's KL term for a batch of two frames with a 2-D latent, floored per frame at kl_tolerance · z_dim and then
    averaged (the paper's code); distractors: the floor of the batch mean, no floor, the floor not times z_dim,
    log σ² read as σ², the ½ left out."""
    tol = 0.5
    mu = np.round(rng.uniform(-1.5, 1.5, (2, 2)), 1) + 0.0
    var = rng.choice([0.25, 0.5, 1.0, 2.0], size=(2, 2))
    logvar = np.log(var)
    right = _kl_floored(mu, logvar, tol)
    kl = (0.5 * (mu ** 2 + var - 1 - logvar)).sum(1)                  # per frame
    z_dim = 2
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.kl.right"), [
        (max(float(kl.mean()), tol * z_dim), text(S, "practice.kl.batch_floor")),
        (float(kl.mean()), text(S, "practice.kl.no_floor")),
        (float(np.maximum(kl, tol).mean()), text(S, "practice.kl.floor_per_dim")),
        (_kl_floored(mu, var, tol), text(S, "practice.kl.logvar")),
        (float(np.maximum(2 * kl, tol * z_dim).mean()), text(S, "practice.kl.no_half")),
    ], fmt)
    frames = "\n".join(f"| {b + 1} | ({mu[b, 0]:g}, {mu[b, 1]:g}) | ({var[b, 0]:g}, {var[b, 1]:g}) |" for b in range(2))
    return Item(kind="compute", stem=text(S, "practice.kl.stem", frames=frames, tol=tol, floor=tol * z_dim),
                choices=choices,
                solution=text(S, "practice.kl.solution", k1=f"{kl[0]:.4f}", k2=f"{kl[1]:.4f}",
                              f1=f"{max(kl[0], tol * z_dim):.4f}", f2=f"{max(kl[1], tol * z_dim):.4f}",
                              floor=tol * z_dim, v=fmt(right)),
                setup={}, params={"mu": mu.tolist(), "var": var.tolist(), "tol": tol}, answer=right,
                tolerance=0.0005)


def wm_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about V, M, C and training in the dream (or, half the seeds, the false one); the
    false ones include the course notes' 'trained only inside the world model' for every task."""
    true = ("v_role", "m_role", "c_linear", "h_velocity", "tau_high", "vizdoom_dream", "cma")
    false = ("notes_all_dream", "c_deep", "m_deterministic", "v_supervised", "tau_low_safe", "z_enough",
             "backprop_c")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_MDN_CODE = """def mdn_log_prob(logit_pi, mu, log_sigma, z_next):
    log_pi = logit_pi - np.logaddexp.reduce(logit_pi, axis=-1, keepdims=True)
    z = z_next[..., None]
    log_n = -0.5 * ((z - mu) / np.exp(log_sigma)) ** 2 - log_sigma - 0.5 * np.log(2 * np.pi)
____"""
_MDN_LINES = {
    "right": "    return np.logaddexp.reduce(log_pi + log_n, axis=-1).sum(-1)",
    "no_weights": "    return np.logaddexp.reduce(log_n, axis=-1).sum(-1)",
    "sum_of_logs": "    return (log_pi + log_n).sum(-1).sum(-1)",
    "max": "    return (log_pi + log_n).max(-1).sum(-1)",
    "mean_dims": "    return np.logaddexp.reduce(log_pi + log_n, axis=-1).mean(-1)",
    "product": "    return np.log((np.exp(log_pi) * np.exp(log_n)).prod(-1)).sum(-1)",
}


def mdn_blank(rng: np.random.Generator) -> Item:
    """Fill the last line of M's mixture log-likelihood (log Σ_k π_k N_k per dimension, summed over dimensions);
    candidates executed (NumPy) on a drawn mixture; the expected value is the chapter's mdn_log_prob."""
    Z, K = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    logit = np.round(rng.normal(0, 1, (Z, K)), 1) + 0.0
    mu = np.round(rng.uniform(-2, 2, (Z, K)), 1) + 0.0
    log_sigma = np.round(rng.uniform(-0.7, 0.7, (Z, K)), 1) + 0.0
    z = np.round(rng.uniform(-2, 2, Z), 1) + 0.0
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)              # noqa: E731
    expected = float(wm.mdn_log_prob(t(logit), t(mu), t(log_sigma), t(z)))
    ex = Exec("mdn_log_prob", (logit, mu, log_sigma, z), expected, atol=1e-9)
    with np.errstate(all="ignore"):
        wrong = [(line.strip(), text(S, f"practice.blank.{k}")) for k, line in _MDN_LINES.items()
                 if k != "right" and not matches(execute(_MDN_CODE.replace("____", line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right value here")
    choices = code_choices(rng, (_MDN_LINES["right"].strip(), text(S, "practice.blank.right")), wrong)
    shown = lambda a: str(a.tolist())                                  # noqa: E731
    return Item(kind="blank", stem=text(S, "practice.blank.stem", Z=Z, K=K, logit=shown(logit), mu=shown(mu),
                                        ls=shown(log_sigma), z=shown(z)), choices=choices,
                code=_MDN_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", v=f"{expected:.4f}"),
                setup={}, params={"logit": logit.tolist(), "mu": mu.tolist(), "log_sigma": log_sigma.tolist(),
                                  "z": z.tolist()}, exec=ex)


GENERATORS = (controller_params, mdn_density, kl_floor, wm_statement, mdn_blank)
