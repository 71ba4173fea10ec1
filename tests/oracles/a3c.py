"""Reference adapters for the A2C/A3C chapter: a torch replica of the engine's actor-critic and
stable-baselines3's RolloutBuffer and A2C.train run on the engine's rollout (test-only)."""
from __future__ import annotations

import numpy as np
import torch


class Replica(torch.nn.Module):
    """The shared-trunk actor-critic with the engine's parameters, in torch (float64)."""

    def __init__(self, params):
        super().__init__()
        self.p = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(np.asarray(a, np.float64)))
                                         for a in params])

    def heads(self, obs: torch.Tensor):
        W1, b1, W_pi, b_pi, w_v, b_v = self.p
        h = torch.tanh(obs.double() @ W1 + b1)
        return h @ W_pi + b_pi, (h @ w_v + b_v)[:, 0]

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor):
        """stable-baselines3's ActorCriticPolicy.evaluate_actions signature: values, log_prob, entropy."""
        logits, values = self.heads(obs)
        dist = torch.distributions.Categorical(logits=logits)
        return values, dist.log_prob(actions), dist.entropy()


def sb3_returns(rewards, values, dones, last_values, gamma):
    """stable-baselines3's RolloutBuffer.compute_returns_and_advantage with gae_lambda=1 on a (k, n) rollout."""
    import gymnasium as gym
    from stable_baselines3.common.buffers import RolloutBuffer

    k, n = rewards.shape
    buf = RolloutBuffer(k, gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(2),
                        device="cpu", gamma=gamma, gae_lambda=1.0, n_envs=n)
    starts = np.vstack([np.zeros((1, n)), dones[:-1]])           # episode_start[t] = done at t − 1
    for t in range(k):
        buf.add(np.zeros((n, 4), np.float32), np.zeros((n, 1)), rewards[t], starts[t],
                torch.tensor(values[t]), torch.zeros(n))
    buf.compute_returns_and_advantage(torch.tensor(last_values), dones[-1].astype(bool))
    return buf.returns, buf.advantages


def sb3_a2c_losses(params, obs, actions, rewards, dones, last_obs, gamma, vf_coef, ent_coef):
    """Fill an A2C model's buffer with the rollout (values and log-probs from the replica), compute the returns,
    run A2C.train() once with the replica as the policy's evaluate_actions. Returns the logged
    policy_loss, value_loss, entropy_loss, the returns and advantages, and ∂loss/∂θ (the replica's .grad,
    which train()'s backward fills)."""
    import gymnasium as gym
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import Logger

    k, n = actions.shape
    env = make_vec_env("CartPole-v1", n_envs=n, seed=0)
    model = A2C("MlpPolicy", env, n_steps=k, gamma=gamma, gae_lambda=1.0, ent_coef=ent_coef, vf_coef=vf_coef,
                learning_rate=0.0, seed=0, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[]))
    rep = Replica(params)
    model.policy.evaluate_actions = rep.evaluate_actions
    buf = model.rollout_buffer
    buf.reset()
    starts = np.vstack([np.zeros((1, n)), dones[:-1]])
    with torch.no_grad():
        for t in range(k):
            o = torch.tensor(obs[t])
            v, lp, _ = rep.evaluate_actions(o, torch.tensor(actions[t]))
            buf.add(obs[t], actions[t][:, None], rewards[t], starts[t], v, lp)
        _, last_v = rep.heads(torch.tensor(last_obs))
    buf.compute_returns_and_advantage(last_v, dones[-1].astype(bool))
    returns, advantages = buf.returns.copy(), buf.advantages.copy()       # (k, n): train() flattens them
    model.train()
    logged = model.logger.name_to_value
    grads = [p.grad.numpy().copy() for p in rep.p]
    return dict(policy_loss=logged["train/policy_loss"], value_loss=logged["train/value_loss"],
                entropy_loss=logged["train/entropy_loss"], returns=returns,
                advantages=advantages, grads=grads)
