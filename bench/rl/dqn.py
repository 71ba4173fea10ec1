"""DQN on CartPole: training speed against stable-baselines3 and time to solve, on one core.

Targets from issue #28: our training steps/s ≥ stable-baselines3's DQN on the same settings (network [64, 64],
batch, buffer, learning_starts, train_freq, target period, ε schedule, Adam, Huber, gradient clipping), and
CartPole solved (mean return ≥ 195 over the last 20 episodes) in ≤ 60 s on one core. torch.set_num_threads(1)
for both; the numpy side is pinned to one thread through the BLAS environment variables before numpy loads.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from bench.common import report  # noqa: E402
from engine.rl import dqn  # noqa: E402

STEPS = 8_000          # environment steps timed (the first learning_starts of them without gradient steps)
SEEDS = (0, 1, 2, 3, 4)
CAP_S = 120.0          # give up on a seed after this long


def _ours_steps_per_s(cfg: dqn.Config, double: bool) -> float:
    c = dqn.Config(**{**cfg.__dict__, "max_env_steps": STEPS, "snapshot_every": STEPS})
    t0 = time.perf_counter()
    for _ in dqn.train_dqn(c, double):
        pass
    return STEPS / (time.perf_counter() - t0)


def _sb3_steps_per_s(cfg: dqn.Config) -> float:
    import torch
    from stable_baselines3 import DQN

    model = DQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=[cfg.hidden, cfg.hidden]),
                learning_rate=cfg.learning_rate, buffer_size=cfg.buffer_size, learning_starts=cfg.learning_starts,
                batch_size=cfg.batch_size, gamma=cfg.gamma, train_freq=cfg.train_freq, gradient_steps=1,
                target_update_interval=cfg.target_update_interval, exploration_fraction=cfg.exploration_fraction,
                exploration_initial_eps=cfg.exploration_initial_eps,
                exploration_final_eps=cfg.exploration_final_eps, max_grad_norm=cfg.max_grad_norm, seed=0,
                device="cpu", verbose=0)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model.learn(total_timesteps=STEPS)
    return STEPS / (time.perf_counter() - t0)


def _time_to_solve(cfg: dqn.Config, double: bool) -> tuple[float, int]:
    t0 = time.perf_counter()
    for s in dqn.train_dqn(cfg, double):
        if s.episodes >= 20 and s.metrics["return"] >= 195:
            return time.perf_counter() - t0, s.step
        if time.perf_counter() - t0 > CAP_S:
            break
    return float("inf"), -1


def main() -> None:
    import torch

    torch.set_num_threads(1)
    cfg = dqn.Config()
    print(f"settings: {cfg}")
    t0 = time.perf_counter()
    for double in (False, True):
        next(dqn.train_dqn(cfg, double))
    report("first snapshots of DQN + Double DQN (step 0) / 1 s budget", time.perf_counter() - t0, 1.0)
    sb3 = _sb3_steps_per_s(cfg)
    ours = _ours_steps_per_s(cfg, double=False)
    ours_double = _ours_steps_per_s(cfg, double=True)
    print(f"training steps/s over {STEPS:,} env steps (one core): ours DQN {ours:,.0f}, ours Double DQN "
          f"{ours_double:,.0f}, stable-baselines3 DQN {sb3:,.0f}")
    report("DQN steps/s: stable-baselines3 / ours (ours ≥ SB3: ≤ 1)", sb3, ours, unit="1/s")
    for name, double in (("DQN", False), ("Double DQN", True)):
        res = [_time_to_solve(dqn.Config(seed=seed), double) for seed in SEEDS]
        secs = np.array([r[0] for r in res])
        print(f"{name}: seconds to mean return ≥ 195 (last 20 episodes), seeds {SEEDS[0]}–{SEEDS[-1]}: "
              + ", ".join(f"{s:.1f} s ({st:,} env steps)" for s, (_, st) in zip(secs, res)))
        report(f"{name} worst of {len(SEEDS)} seeds to solve / 60 s budget", float(secs.max()), 60.0)


if __name__ == "__main__":
    main()
