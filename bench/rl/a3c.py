"""A2C / A3C on CartPole: environment speed and time to solve.

Targets from issue #18: the environment steps ≥ 20 000 steps/s; A2C with the default settings reaches a mean
return ≥ 195 over the last 20 episodes within 60 s (seed spread over 5 seeds). Reference in the same run:
gymnasium's own CartPole-v1 stepped one environment at a time.
"""
from __future__ import annotations

import time

import numpy as np

from bench.common import report
from engine.common import cartpole
from engine.rl import a3c


def _env_steps_per_s(n: int, steps: int = 2_000) -> float:
    rng = np.random.default_rng(0)
    env = cartpole.VecCartPole(n, rng)
    acts = rng.integers(0, 2, (steps, n))
    t0 = time.perf_counter()
    for a in acts:
        env.step(a)
    return n * steps / (time.perf_counter() - t0)


def _gymnasium_steps_per_s(steps: int = 20_000) -> float:
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    acts = np.random.default_rng(0).integers(0, 2, steps)
    t0 = time.perf_counter()
    for a in acts:
        _, _, term, trunc, _ = env.step(int(a))
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - t0)


def _time_to_solve(train, seed: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    for s in train(a3c.Config(seed=seed, max_env_steps=1_000_000)):
        if s.episodes >= 20 and s.metrics["return"] >= 195:
            return time.perf_counter() - t0, s.step
        if time.perf_counter() - t0 > 120:
            break
    return float("inf"), -1


def main() -> None:
    gym_sps = _gymnasium_steps_per_s()
    report("numpy CartPole, 8 envs (A2C default): 20 000 target / steps/s", 20_000, _env_steps_per_s(8), unit="1/s")
    print(f"numpy CartPole, 1 env (an A3C worker): {_env_steps_per_s(1):,.0f} steps/s; "
          f"gymnasium CartPole-v1, 1 env (reference): {gym_sps:,.0f} steps/s")
    for name, train in (("A2C", a3c.train_a2c), ("A3C (simulated)", a3c.train_a3c)):
        res = [_time_to_solve(train, seed) for seed in range(5)]
        secs = np.array([r[0] for r in res])
        print(f"{name}: seconds to mean return ≥ 195 (last 20 episodes), seeds 0–4: "
              + ", ".join(f"{s:.2f} s ({st:,} env steps)" for s, (_, st) in zip(secs, res)))
        report(f"{name} worst of 5 seeds to solve / 60 s budget", float(secs.max()), 60.0)


if __name__ == "__main__":
    main()
