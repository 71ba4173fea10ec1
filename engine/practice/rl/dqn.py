"""Practice items for RL › Q-learning & DQN (format: engine/common/practice.py)."""
from __future__ import annotations

import numpy as np

from engine.common.practice import (Exec, Item, Redraw, code_choices, execute, matches, numeric_choices,
                                    statement_choices, text)
from engine.rl import dqn

S = "dqn"
ALPHAS = (0.1, 0.2, 0.25, 0.5)                 # on the page's α slider (dqn.alpha, steps of 0.05)
Q_GAMMAS = (0.8, 0.9, 0.95, 0.99)              # among the page's grid-world γ options (dqn.q_gamma)
GAMMAS = (0.9, 0.95, 0.99)                     # the page's DQN γ options (dqn.gamma)
FRACTIONS = (0.05, 0.1, 0.2, 0.4)              # the page's exploration fractions (dqn.fraction)
ARROW_WORDS = ("up", "right", "down", "left")


def _table_net(values) -> list[np.ndarray]:
    """A network whose Q(e_i, ·) is row i of `values` (N, A) on the one-hot input e_i: W1 = W2 = I, b = 0, W3 =
    values (ReLU keeps the one-hot rows), so the engine's own q_values / td_targets run on exactly these numbers."""
    V = np.asarray(values, float)
    n = V.shape[0]
    return [np.eye(n), np.zeros(n), np.eye(n), np.zeros(n), V, np.zeros(V.shape[1])]


def q_update_value(rng: np.random.Generator) -> Item:
    """One Q-learning update by hand; distractors: SARSA's Q(s', a') of the action taken next, the target without α,
    no discount, the mean of Q(s', ·) instead of the max."""
    alpha, gamma = float(rng.choice(ALPHAS)), float(rng.choice(Q_GAMMAS))
    q_sa = round(float(rng.uniform(0, 1)), 2)
    q_next = np.round(rng.uniform(0, 1, 4), 2)
    r = float(rng.choice([0.0, 0.0, 1.0, -1.0]))
    a_next = int(rng.integers(4))
    if q_next[a_next] == q_next.max():
        raise Redraw("the action taken next is the greedy one: SARSA = Q-learning")
    right = dqn.q_update(q_sa, r, float(q_next.max()), False, alpha, gamma)
    target = r + gamma * q_next.max()
    fmt = lambda v: f"{v:.4f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.qup.right"), [
        (q_sa + alpha * (r + gamma * q_next[a_next] - q_sa), text(S, "practice.qup.sarsa")),
        (target, text(S, "practice.qup.no_alpha")),
        (q_sa + alpha * (r + q_next.max() - q_sa), text(S, "practice.qup.no_gamma")),
        (q_sa + alpha * (r + gamma * q_next.mean() - q_sa), text(S, "practice.qup.mean")),
        (q_sa + alpha * (target + q_sa), text(S, "practice.qup.sign")),
    ], fmt)
    shown = ", ".join(f"{v:.2f}" for v in q_next)
    return Item(kind="compute",
                stem=text(S, "practice.qup.stem", q_sa=f"{q_sa:.2f}", r=f"{r:g}", q_next=shown,
                          a_next=text(S, f"practice.dir.{ARROW_WORDS[a_next]}"), alpha=alpha, gamma=gamma),
                choices=choices,
                solution=text(S, "practice.qup.solution", m=f"{q_next.max():.2f}", r=f"{r:g}", gamma=gamma,
                              target=f"{target:.4f}", q_sa=f"{q_sa:.2f}", alpha=alpha, new=fmt(right)),
                setup={"dqn.alpha": alpha, "dqn.q_gamma": gamma},
                params={"q_sa": q_sa, "r": r, "q_next": q_next.tolist(), "a_next": a_next, "alpha": alpha,
                        "gamma": gamma},
                answer=right, tolerance=0.00005)


def double_target(rng: np.random.Generator) -> Item:
    """Double DQN's target from the online and target networks' Q(s', ·); distractors: DQN's max over θ⁻, the
    max over the online network (no target network), the roles swapped, γ left out."""
    gamma = float(rng.choice(GAMMAS))
    r = 1.0
    q_on = np.round(rng.uniform(0, 10, 3), 1)
    q_tg = np.round(rng.uniform(0, 10, 3), 1)
    if q_on.argmax() == q_tg.argmax() or len(set(q_on)) < 3 or len(set(q_tg)) < 3:
        raise Redraw("both networks prefer the same action: Double = DQN")
    one = np.zeros((1, 1))
    args = (_table_net(q_on[None]), _table_net(q_tg[None]), np.array([r]), one + 1, np.zeros(1), gamma)
    right = float(dqn.td_targets(*args, double=True)[0])
    plain = float(dqn.td_targets(*args, double=False)[0])
    fmt = lambda v: f"{v:.3f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.double.right"), [
        (plain, text(S, "practice.double.dqn")),
        (r + gamma * q_on.max(), text(S, "practice.double.online_only")),
        (r + gamma * q_on[q_tg.argmax()], text(S, "practice.double.swapped")),
        (r + q_tg[q_on.argmax()], text(S, "practice.double.no_gamma")),
    ], fmt)
    a_star = int(q_on.argmax())
    return Item(kind="compute",
                stem=text(S, "practice.double.stem", q_on=", ".join(f"{v:.1f}" for v in q_on),
                          q_tg=", ".join(f"{v:.1f}" for v in q_tg), r=f"{r:g}", gamma=gamma),
                choices=choices,
                solution=text(S, "practice.double.solution", a=a_star + 1, v=f"{q_tg[a_star]:.1f}", r=f"{r:g}",
                              gamma=gamma, y=fmt(right), plain=fmt(plain)),
                setup={"dqn.gamma": gamma},
                params={"q_online": q_on.tolist(), "q_target": q_tg.tolist(), "r": r, "gamma": gamma},
                answer=right, tolerance=0.0005)


def greedy_probability(rng: np.random.Generator) -> Item:
    """ε from the linear schedule at step t, then the probability that ε-greedy picks the greedy action;
    distractors: 1 − ε (forgetting the random pick can hit the greedy action), a non-greedy action's ε/|A|, the
    schedule falling to 0 instead of ε₁, ε itself."""
    frac = float(rng.choice(FRACTIONS))
    T, e0, e1 = 50_000, 1.0, 0.02
    n_act = int(rng.choice([2, 3, 4]))
    t = int(rng.integers(1, 40)) * 250
    if t >= frac * T:
        raise Redraw("past the schedule: ε = ε₁ for every mistake")
    eps = dqn.linear_epsilon(t, e0, e1, frac, T)
    right = float(dqn.epsilon_greedy_probs(np.r_[1.0, np.zeros(n_act - 1)], eps)[0])
    eps_to0 = e0 - t / (frac * T) * e0
    fmt = lambda v: f"{v:.4f}"                                          # noqa: E731
    choices = numeric_choices(rng, right, text(S, "practice.greedy.right"), [
        (1 - eps, text(S, "practice.greedy.no_share")),
        (eps / n_act, text(S, "practice.greedy.other_action")),
        (1 - eps_to0 + eps_to0 / n_act, text(S, "practice.greedy.to_zero")),
        (eps, text(S, "practice.greedy.epsilon")),
    ], fmt)
    return Item(kind="compute",
                stem=text(S, "practice.greedy.stem", T=f"{T:,}", f=f"{frac:.0%}", e0=e0, e1=e1, t=f"{t:,}", n=n_act,
                          fT=f"{int(frac * T):,}"),
                choices=choices,
                solution=text(S, "practice.greedy.solution", t=f"{t:,}", fT=f"{int(frac * T):,}",
                              eps=f"{eps:.4f}", n=n_act, p=fmt(right)),
                setup={"dqn.fraction": frac},
                params={"T": T, "fraction": frac, "e0": e0, "e1": e1, "t": t, "n_actions": n_act},
                answer=right, tolerance=0.00005)


def dqn_statement(rng: np.random.Generator) -> Item:
    """Pick the true statement about Q-learning / DQN (or, half the seeds, the false one); the false ones are the
    misconceptions the chapter corrects (replay 'eliminates' correlation, replay for on-policy methods, …)."""
    true = ("replay_offpolicy", "replay_decorrelate", "target_frozen", "double_select", "max_bias",
            "qlearning_offpolicy", "eps_greedy_prob", "timeout_bootstrap")
    false = ("replay_eliminates", "replay_onpolicy", "target_every_step", "double_two_nets", "double_max",
             "greedy_1_minus_eps", "sarsa_target", "underestimate", "timeout_done")
    choices, invert = statement_choices(rng, S, "practice.stmt", true, false)
    return Item(kind="statement", stem=text(S, "practice.stmt.stem_false" if invert else "practice.stmt.stem_true"),
                choices=choices, solution=text(S, "practice.stmt.solution"), setup={})


_TARGET_CODE = """def double_dqn_targets(q_next_online, q_next_target, rewards, dones, gamma):
    a_star = q_next_online.argmax(axis=1)
____
    return rewards + gamma * (1 - dones) * v_next"""
_TARGET_LINES = {
    "right": "v_next = q_next_target[np.arange(len(a_star)), a_star]",
    "dqn": "v_next = q_next_target.max(axis=1)",
    "online": "v_next = q_next_online.max(axis=1)",
    "swapped": "v_next = q_next_online[np.arange(len(a_star)), q_next_target.argmax(axis=1)]",
    "row_index": "v_next = q_next_target[a_star]",
}


def double_blank(rng: np.random.Generator) -> Item:
    """Fill the line of Double DQN's target that evaluates the online network's choice with the target network;
    candidates executed on a batch of three transitions, the expected result from the engine's td_targets."""
    n, A = 3, 2
    gamma = float(rng.choice(GAMMAS))
    q_on = np.round(rng.uniform(0, 5, (n, A)), 1)
    q_tg = np.round(rng.uniform(0, 5, (n, A)), 1)
    rewards = np.ones(n)
    dones = np.zeros(n)
    dones[int(rng.integers(n))] = float(rng.integers(2))
    y = dqn.td_targets(_table_net(q_on), _table_net(q_tg), rewards, np.eye(n), dones, gamma, double=True)
    ex = Exec("double_dqn_targets", (q_on, q_tg, rewards, dones, gamma), y, atol=1e-9)
    wrong = [(line, text(S, f"practice.blank.{key}")) for key, line in _TARGET_LINES.items()
             if key != "right" and not matches(execute(_TARGET_CODE.replace("____", "    " + line), ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong line gives the right targets on this batch")
    choices = code_choices(rng, (_TARGET_LINES["right"], text(S, "practice.blank.right")), wrong)
    mat = lambda m: "[" + ", ".join("[" + ", ".join(f"{v:.1f}" for v in row) + "]" for row in m) + "]"  # noqa: E731
    return Item(kind="blank",
                stem=text(S, "practice.blank.stem", q_on=mat(q_on), q_tg=mat(q_tg),
                          dones=[int(d) for d in dones], gamma=gamma),
                choices=choices, code=_TARGET_CODE.replace("____", "    ____"),
                solution=text(S, "practice.blank.solution", y=", ".join(f"{v:.3f}" for v in y)),
                setup={"dqn.gamma": gamma},
                params={"q_online": q_on.tolist(), "q_target": q_tg.tolist(), "rewards": rewards.tolist(),
                        "dones": dones.tolist(), "gamma": gamma},
                exec=ex)


_HUBER = {
    "right": """def huber_loss(q_sa, y):
    d = q_sa - y
    return np.mean(np.where(np.abs(d) < 1, 0.5 * d ** 2, np.abs(d) - 0.5))""",
    "mse": """def huber_loss(q_sa, y):
    d = q_sa - y
    return np.mean(0.5 * d ** 2)""",
    "swapped": """def huber_loss(q_sa, y):
    d = q_sa - y
    return np.mean(np.where(np.abs(d) < 1, np.abs(d) - 0.5, 0.5 * d ** 2))""",
    "no_half": """def huber_loss(q_sa, y):
    d = q_sa - y
    return np.mean(np.where(np.abs(d) < 1, 0.5 * d ** 2, np.abs(d)))""",
    "clip_error": """def huber_loss(q_sa, y):
    d = np.clip(q_sa - y, -1, 1)
    return np.mean(0.5 * d ** 2)""",
    "sum": """def huber_loss(q_sa, y):
    d = q_sa - y
    return np.sum(np.where(np.abs(d) < 1, 0.5 * d ** 2, np.abs(d) - 0.5))""",
}


def huber_implementation(rng: np.random.Generator) -> Item:
    """Which NumPy function is DQN's loss (Huber / smooth L1 with δ = 1, mean over the batch)? Each snippet is run
    on the item's Q(s, a) and targets; distractors: the squared error, the two branches swapped, the −½ left out,
    the TD error clipped before squaring (the loss whose gradient is clipped, not the Huber loss), a sum."""
    n = int(rng.integers(3, 6))
    q_sa = np.round(rng.uniform(0, 4, n), 1)
    y = np.round(q_sa + rng.choice([-1, 1], n) * rng.uniform(0.1, 3.0, n), 1)
    d = q_sa - y
    if not ((np.abs(d) < 1).any() and (np.abs(d) >= 1).any()):
        raise Redraw("both branches of the Huber loss should be exercised")
    want = float(dqn.huber(d).mean())
    ex = Exec("huber_loss", (q_sa, y), want, atol=1e-9)
    wrong = [(code, text(S, f"practice.huber.{key}")) for key, code in _HUBER.items()
             if key != "right" and not matches(execute(code, ex), ex)]
    if len(wrong) < 3:
        raise Redraw("a wrong snippet gives the right loss on this batch")
    choices = code_choices(rng, (_HUBER["right"], text(S, "practice.huber.right")), wrong)
    return Item(kind="implementation",
                stem=text(S, "practice.huber.stem", q=", ".join(f"{v:.1f}" for v in q_sa),
                          y=", ".join(f"{v:.1f}" for v in y)),
                choices=choices,
                solution=text(S, "practice.huber.solution", d=", ".join(f"{v:.1f}" for v in d), L=f"{want:.4f}"),
                setup={}, params={"q_sa": q_sa.tolist(), "y": y.tolist()}, exec=ex)


GENERATORS = (q_update_value, double_target, greedy_probability, dqn_statement, double_blank, huber_implementation)
