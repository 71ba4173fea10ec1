"""Practice items for RL › A3C / A2C (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (statement_choices, Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    text)
from engine.rl import a3c

S = "a3c"
GAMMAS = (0.9, 0.95, 0.97, 0.99)            # among the page's γ options (a3c.gamma)
BETAS = (0.01, 0.05, 0.1)                   # among the page's β options (a3c.beta)
ALPHAS = (0.25, 0.5, 1.0)


def _returns(rewards, v_first, v_last, gamma, dones=None) -> tuple[float, float]:
    """R_0 and A_0 of a k-step rollout by the engine's nstep_returns (values after step 0 do not enter A_0)."""
    k = len(rewards)
    values = np.zeros((k, 1))
    values[0, 0] = v_first
    d = np.zeros((k, 1)) if dones is None else np.asarray(dones, float)[:, None]
    ret, adv = a3c.nstep_returns(np.asarray(rewards, float)[:, None], values, d, np.array([v_last]), gamma)
    return float(ret[0, 0]), float(adv[0, 0])


def kstep_advantage(rng: np.random.Generator) -> Item:
    """Compute the k-step advantage A_t = R_t − V(s_t); distractors: R_t itself, no bootstrap, the bootstrap
    discounted by γ^(k−1), the bootstrap not discounted, rewards not discounted."""
    k = int(rng.integers(2, 5))
    gamma = float(rng.choice(GAMMAS))
    rewards = [int(r) for r in rng.integers(0, 3, size=k)]
    v0 = round(float(rng.uniform(0.5, 4.0)), 1)
    vk = round(float(rng.uniform(0.5, 4.0)), 1)
    R, A = _returns(rewards, v0, vk, gamma)
    _, no_boot = _returns(rewards, v0, 0.0, gamma)
    disc = sum(gamma ** i * r for i, r in enumerate(rewards))
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, A, text(S, "practice.kstep.right"), [
        (R, text(S, "practice.kstep.no_baseline")),
        (no_boot, text(S, "practice.kstep.no_bootstrap")),
        (disc + gamma ** (k - 1) * vk - v0, text(S, "practice.kstep.gamma_k_minus_1")),
        (disc + vk - v0, text(S, "practice.kstep.undiscounted_bootstrap")),
        (sum(rewards) + gamma ** k * vk - v0, text(S, "practice.kstep.undiscounted_rewards")),
    ], fmt)
    terms = " + ".join(f"{gamma}^{i}·{r}" for i, r in enumerate(rewards))
    return Item(kind="compute",
                stem=text(S, "practice.kstep.stem", k=k, km1=k - 1, gamma=gamma, rewards=", ".join(map(str, rewards)),
                          v0=v0, vk=vk),
                choices=choices,
                solution=text(S, "practice.kstep.solution", k=k, terms=terms, disc=f"{disc:.4f}", gamma=gamma,
                              vk=vk, boot=f"{gamma ** k * vk:.4f}", R=f"{R:.4f}", v0=v0, A=fmt(A)),
                setup={"a3c.gamma": gamma, "a3c.k_roll": k},
                params={"rewards": rewards, "gamma": gamma, "v0": v0, "vk": vk}, answer=A, tolerance=0.0005)


def _one_sample(p_left: float, action: int, R: float, V: float, alpha: float, beta: float) -> a3c.Loss:
    """The engine's loss on one sample whose network outputs exactly π = (p_left, 1 − p_left) and V: a trunk of
    width 1 with zero weights (h = tanh 0 = 0), the biases set to log π and V."""
    params = [np.zeros((a3c.OBS_DIM, 1)), np.zeros(1), np.zeros((1, a3c.N_ACTIONS)),
              np.log([p_left, 1.0 - p_left]), np.zeros((1, 1)), np.array([V])]
    return a3c.loss_and_grads(params, np.zeros((1, a3c.OBS_DIM)), np.array([action]), np.array([R]),
                              np.array([R - V]), alpha, beta)


def total_loss(rng: np.random.Generator) -> Item:
    """The total loss of one sample, L = −A log π(a|s) + α (R − V)² − β H; distractors: the entropy added, the
    policy term's sign, α left out, the return R used in place of the advantage."""
    p_left = round(float(rng.choice(np.arange(0.2, 0.85, 0.1))), 1)
    action = int(rng.integers(2))
    V = round(float(rng.uniform(0.5, 3.0)), 1)
    R = round(float(rng.uniform(0.5, 3.0)), 1)
    if abs(R - V) < 0.15:
        raise Redraw("no advantage")
    alpha, beta = float(rng.choice(ALPHAS)), float(rng.choice(BETAS))
    loss = _one_sample(p_left, action, R, V, alpha, beta)
    A = R - V
    pa = p_left if action == 0 else 1 - p_left
    pol, val, H = -A * np.log(pa), (R - V) ** 2, loss.entropy
    fmt = lambda v: f"{v:.4f}"                                          # noqa: E731
    choices = numeric_choices(rng, loss.total, text(S, "practice.loss.right"), [
        (pol + alpha * val + beta * H, text(S, "practice.loss.entropy_added")),
        (-pol + alpha * val - beta * H, text(S, "practice.loss.policy_sign")),
        (pol + val - beta * H, text(S, "practice.loss.no_alpha")),
        (-R * np.log(pa) + alpha * val - beta * H, text(S, "practice.loss.return_not_advantage")),
        (pol + alpha * abs(R - V) - beta * H, text(S, "practice.loss.abs_value")),
    ], fmt)
    act = text(S, "practice.loss.left" if action == 0 else "practice.loss.right_action")
    return Item(kind="compute",
                stem=text(S, "practice.loss.stem", p=p_left, q=round(1 - p_left, 1), act=act, R=R, V=V,
                          alpha=alpha, beta=beta),
                choices=choices,
                solution=text(S, "practice.loss.solution", A=f"{A:.1f}", pa=f"{pa:.1f}", lnpa=f"{np.log(pa):.4f}",
                              pol=f"{pol:.4f}", val=f"{val:.4f}", alpha=alpha, H=f"{H:.4f}", beta=beta,
                              L=fmt(loss.total)),
                setup={"a3c.beta": beta},
                params={"p_left": p_left, "action": action, "R": R, "V": V, "alpha": alpha, "beta": beta},
                answer=loss.total, tolerance=0.00005)


_POLICIES = ((0.25, 0.25, 0.25, 0.25), (0.85, 0.05, 0.05, 0.05))


def policy_entropy(rng: np.random.Generator) -> Item:
    """Compute H(π) in nats for a 3- or 4-action policy; distractors: log base 2, the sign dropped, Σ p² (a
    'purity' in place of the entropy), ln n of the uniform policy."""
    n = int(rng.integers(3, 5))
    while True:
        cuts = np.sort(rng.choice(np.arange(1, 20), n - 1, replace=False))
        p = np.diff(np.r_[0, cuts, 20]) / 20                             # multiples of 0.05, sum 1
        if len(set(p.tolist())) > 1:
            break
    H = a3c.entropy_of(p)
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, H, text(S, "practice.entropy.right"), [
        (H / np.log(2), text(S, "practice.entropy.bits")),
        (-H, text(S, "practice.entropy.sign")),
        (np.log(n), text(S, "practice.entropy.uniform")),
        (-float(np.sum(np.log(p))) / n, text(S, "practice.entropy.unweighted")),
        (1 - float(np.sum(p ** 2)), text(S, "practice.entropy.gini")),
    ], fmt)
    shown = ", ".join(f"{v:.2f}" for v in p)
    terms = " + ".join(f"{v:.2f}·ln {v:.2f}" for v in p)
    return Item(kind="compute", stem=text(S, "practice.entropy.stem", n=n, p=shown), choices=choices,
                solution=text(S, "practice.entropy.solution", terms=terms, H=fmt(H), n=n,
                              lnn=f"{np.log(n):.3f}"),
                setup={}, params={"p": [float(v) for v in p]}, answer=H, tolerance=0.0005)


def a2c_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about A3C / A2C (or, half the seeds, the false one); the false ones are the
    misconceptions the chapter corrects (the notes' Q for the advantage, the entropy's sign, π(a|θ) …)."""
    true = ("a3c_async", "a2c_sync", "advantage", "entropy_bonus", "on_policy", "bootstrap", "shared_net")
    false = ("replay", "true_q", "entropy_penalty", "a2c_stale", "gpu", "reinforce_value", "beta_greedy",
             "no_state")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_RET_CODE = """def kstep_returns(rewards, dones, last_value, gamma):
    R = last_value
    out = []
    for t in reversed(range(len(rewards))):
____
        out.append(R)
    return out[::-1]"""
_RET_LINES = {
    "right": "R = rewards[t] + gamma * (1 - dones[t]) * R",
    "no_done": "R = rewards[t] + gamma * R",
    "gamma_on_reward": "R = gamma * (rewards[t] + (1 - dones[t]) * R)",
    "no_gamma": "R = rewards[t] + (1 - dones[t]) * R",
    "done_keeps": "R = rewards[t] + gamma * dones[t] * R",
}


def returns_blank(rng: np.random.Generator) -> Item:
    """Fill the missing line of the backward k-step return (episode ends cut the bootstrap); candidates executed."""
    k = int(rng.integers(3, 6))
    rewards = [float(r) for r in rng.integers(0, 3, size=k)]
    dones = [0.0] * k
    if rng.integers(3):                                       # most cases: an episode ends inside the rollout
        dones[int(rng.integers(0, k - 1))] = 1.0
    gamma = float(rng.choice(GAMMAS))
    v_last = round(float(rng.uniform(0.5, 4.0)), 1)
    ret, _ = a3c.nstep_returns(np.array(rewards)[:, None], np.zeros((k, 1)), np.array(dones)[:, None],
                               np.array([v_last]), gamma)
    ex = Exec("kstep_returns", (rewards, dones, v_last, gamma), ret[:, 0], atol=1e-9)
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _RET_LINES.items()
             if key != "right" and not matches(execute(_RET_CODE.replace("____", "        " + line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right returns on this rollout")
    choices = code_choices(rng, (_RET_LINES["right"], text(S, "practice.blank.right")), wrong)
    code = _RET_CODE.replace("____", "        ____")
    return Item(kind="blank",
                stem=text(S, "practice.blank.stem", rewards=[int(r) for r in rewards], dones=[int(d) for d in dones], v=v_last,
                          gamma=gamma),
                choices=choices, code=code,
                solution=text(S, "practice.blank.solution", R=", ".join(f"{v:.4f}" for v in ret[:, 0])),
                setup={"a3c.gamma": gamma},
                params={"rewards": rewards, "dones": dones, "v_last": v_last, "gamma": gamma}, exec=ex)


GENERATORS = (kstep_advantage, total_loss, policy_entropy, a2c_statement, returns_blank)
