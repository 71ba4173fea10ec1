"""Reference adapters for the DQN chapter (test-only): stable-baselines3's DQN.train run once on the engine's
minibatch with the engine's weights, its ReplayBuffer, and a torch replica for Double DQN's target."""
from __future__ import annotations

import numpy as np
import torch


def to_sequential(params) -> torch.nn.Sequential:
    """The engine's θ = [W1 (4,H), b1, W2 (H,H), b2, W3 (H,2), b3] as torch Linear layers (float64)."""
    W1, b1, W2, b2, W3, b3 = (np.asarray(p, np.float64) for p in params)
    net = torch.nn.Sequential(torch.nn.Linear(*W1.shape), torch.nn.ReLU(), torch.nn.Linear(*W2.shape),
                              torch.nn.ReLU(), torch.nn.Linear(*W3.shape)).double()
    _load(net, params)
    return net


def _load(seq: torch.nn.Sequential, params) -> None:
    lins = [m for m in seq if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, (W, b) in zip(lins, zip(params[0::2], params[1::2])):
            lin.weight.copy_(torch.tensor(np.asarray(W, np.float64).T).to(lin.weight.dtype))
            lin.bias.copy_(torch.tensor(np.asarray(b, np.float64)).to(lin.bias.dtype))


def _params_of(seq: torch.nn.Sequential) -> list[np.ndarray]:
    out = []
    for lin in (m for m in seq if isinstance(m, torch.nn.Linear)):
        out += [lin.weight.detach().double().numpy().T.copy(), lin.bias.detach().double().numpy().copy()]
    return out


def sb3_dqn_train_step(params, target_params, obs, actions, rewards, next_obs, dones, *, gamma: float,
                       learning_rate: float, max_grad_norm: float) -> dict:
    """One `DQN.train(gradient_steps=1)` of stable-baselines3 with its Q-network and target network holding the
    engine's weights (in its own float32: its preprocessing casts observations to float32) and the replay buffer's `sample` returning exactly this minibatch.
    Returns the logged loss, the clipped gradients (`.grad` after train()) and θ after its Adam step."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.type_aliases import ReplayBufferSamples

    H = np.asarray(params[0]).shape[1]
    model = DQN("MlpPolicy", "CartPole-v1", policy_kwargs=dict(net_arch=[H, H]), learning_rate=learning_rate,
                gamma=gamma, max_grad_norm=max_grad_norm, learning_starts=0, seed=0, device="cpu")
    model.set_logger(Logger(folder=None, output_formats=[]))
    _load(model.q_net.q_net, params)
    _load(model.q_net_target.q_net, target_params)
    d = lambda a: torch.tensor(np.asarray(a, np.float32))                      # noqa: E731
    batch = ReplayBufferSamples(d(obs), torch.tensor(np.asarray(actions))[:, None], d(next_obs),
                                d(dones)[:, None], d(rewards)[:, None])
    model.replay_buffer.sample = lambda batch_size, env=None: batch
    model.train(gradient_steps=1, batch_size=len(obs))
    lins = [m for m in model.q_net.q_net if isinstance(m, torch.nn.Linear)]
    grads = []
    for lin in lins:
        grads += [lin.weight.grad.double().numpy().T.copy(), lin.bias.grad.double().numpy().copy()]
    return dict(loss=model.logger.name_to_value["train/loss"], grads=grads, params=_params_of(model.q_net.q_net))


def torch_double_dqn(params, target_params, obs, actions, rewards, next_obs, dones, gamma: float) -> dict:
    """Double DQN's loss written with torch (van Hasselt et al. 2016, Eq. 4): the online network picks a', the
    target network values it; Huber loss; autograd for ∂L/∂θ."""
    online, target = to_sequential(params), to_sequential(target_params)
    t = lambda a: torch.tensor(np.asarray(a, np.float64))                      # noqa: E731
    with torch.no_grad():
        a_star = online(t(next_obs)).argmax(1, keepdim=True)
        y = t(rewards) + gamma * (1 - t(dones)) * target(t(next_obs)).gather(1, a_star)[:, 0]
    q = online(t(obs)).gather(1, torch.tensor(np.asarray(actions))[:, None])[:, 0]
    loss = torch.nn.functional.huber_loss(q, y, delta=1.0)
    loss.backward()
    grads = []
    for lin in (m for m in online if isinstance(m, torch.nn.Linear)):
        grads += [lin.weight.grad.numpy().T.copy(), lin.bias.grad.numpy().copy()]
    return dict(loss=float(loss.detach()), targets=y.numpy(), grads=grads)


def sb3_replay_dones(transitions, capacity: int) -> np.ndarray:
    """stable-baselines3's ReplayBuffer (handle_timeout_termination=True) fed `transitions` =
    [(obs, next_obs, action, reward, terminated, truncated)]; returns the `dones` its samples carry for every
    stored index in order (a time-limit truncation must not count as done)."""
    import gymnasium as gym
    from stable_baselines3.common.buffers import ReplayBuffer

    buf = ReplayBuffer(capacity, gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(2),
                       device="cpu", handle_timeout_termination=True)
    for obs, nxt, a, r, term, trunc in transitions:
        buf.add(np.asarray(obs)[None], np.asarray(nxt)[None], np.array([[a]]), np.array([r]),
                np.array([term or trunc]), [{"TimeLimit.truncated": bool(trunc)}])
    return buf._get_samples(np.arange(len(transitions))).dones.numpy()[:, 0]
