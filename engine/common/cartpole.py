"""CartPole-v1 in numpy, many environments at once, and drawn as images (no pygame).

The dynamics are gymnasium's `CartPoleEnv.step` (Euler integration, the same constants, the same order of floating
point operations), stepped for a batch of environments in one call; a test checks it equals gymnasium's step by
step. Used by the RL chapters (A2C/A3C, World Models).

References
----------
Barto, Sutton & Anderson, "Neuronlike adaptive elements that can solve difficult learning control problems",
IEEE SMC 1983; gymnasium.envs.classic_control.cartpole.
"""
from __future__ import annotations

import math

import numpy as np

GRAVITY = 9.8
MASSCART = 1.0
MASSPOLE = 0.1
TOTAL_MASS = MASSPOLE + MASSCART
LENGTH = 0.5                       # half the pole's length
POLEMASS_LENGTH = MASSPOLE * LENGTH
FORCE_MAG = 10.0
TAU = 0.02                         # seconds between state updates
THETA_THRESHOLD = 12 * 2 * math.pi / 360
X_THRESHOLD = 2.4
MAX_EPISODE_STEPS = 500            # CartPole-v1's TimeLimit


def reset_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """Initial states, each component uniform in [−0.05, 0.05] (gymnasium's reset). Returns (n, 4) float64."""
    return rng.uniform(-0.05, 0.05, size=(n, 4))


def step_states(state: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""One Euler step of the cart-pole for a batch.

    $$\ddot\theta = \frac{g\sin\theta - \cos\theta\,\frac{F + m_p l\dot\theta^2\sin\theta}{m}}
    {l\left(\frac43 - \frac{m_p\cos^2\theta}{m}\right)},\qquad
    \ddot x = \frac{F + m_p l\dot\theta^2\sin\theta}{m} - \frac{m_p l\ddot\theta\cos\theta}{m}$$

    Parameters
    ----------
    state : np.ndarray [shape=(n, 4)] float64, (x, ẋ, θ, θ̇).
    action : np.ndarray [shape=(n,)] int, 1 pushes right, 0 pushes left.

    Returns
    -------
    next_state : np.ndarray [shape=(n, 4)] float64
    terminated : np.ndarray [shape=(n,)] bool, |x| > 2.4 or |θ| > 12°.
    """
    x, x_dot, theta, theta_dot = state.T                                  # (n,) each
    force = np.where(np.asarray(action) == 1, FORCE_MAG, -FORCE_MAG)
    costheta, sintheta = np.cos(theta), np.sin(theta)
    # temp = (F + m_p l θ̇² sin θ) / m
    temp = (force + POLEMASS_LENGTH * np.square(theta_dot) * sintheta) / TOTAL_MASS
    # θ̈ = (g sin θ − cos θ · temp) / (l (4/3 − m_p cos²θ / m))
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        LENGTH * (4.0 / 3.0 - MASSPOLE * np.square(costheta) / TOTAL_MASS))
    # ẍ = temp − m_p l θ̈ cos θ / m
    xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    nxt = np.stack([x + TAU * x_dot, x_dot + TAU * xacc, theta + TAU * theta_dot, theta_dot + TAU * thetaacc], 1)
    terminated = ((nxt[:, 0] < -X_THRESHOLD) | (nxt[:, 0] > X_THRESHOLD)
                  | (nxt[:, 2] < -THETA_THRESHOLD) | (nxt[:, 2] > THETA_THRESHOLD))
    return nxt, terminated


class VecCartPole:
    """n CartPole-v1 environments stepped together, auto-reset when an episode ends (terminated or 500 steps).

    `step` returns what gymnasium's vector envs return in their "same step" autoreset mode: the observation after
    the reset for finished environments, and the final observation of the finished episode separately.
    """

    def __init__(self, n: int, rng: np.random.Generator):
        self.n, self.rng = n, rng
        self.state = reset_states(rng, n)                                 # (n, 4) float64
        self.t = np.zeros(n, int)                                         # steps in the current episode

    def obs(self) -> np.ndarray:
        return self.state.astype(np.float32)                              # (n, 4)

    def step(self, action: np.ndarray):
        """Returns obs (n, 4) float32, reward (n,), terminated (n,), truncated (n,), final_obs (n, 4)."""
        nxt, terminated = step_states(self.state, action)
        self.t += 1
        truncated = (self.t >= MAX_EPISODE_STEPS) & ~terminated
        final_obs = nxt.astype(np.float32)
        done = terminated | truncated
        if done.any():
            nxt[done] = reset_states(self.rng, int(done.sum()))
            self.t[done] = 0
        self.state = nxt
        return self.obs(), np.ones(self.n), terminated, truncated, final_obs


def render(state: np.ndarray, size: int = 64, width: int | None = None) -> np.ndarray:
    """Draw cart-poles as grey-level images: track line, cart box and pole (what a camera would see).

    Parameters
    ----------
    state : np.ndarray [shape=(n, 4)] (x, ẋ, θ, θ̇); only x and θ are drawn.
    size : image height in pixels; `width` defaults to `size`.

    Returns
    -------
    np.ndarray [shape=(n, size, width)] float32 in [0, 1], 1 = ink.
    """
    width = width or size
    state = np.atleast_2d(state)
    x, theta = state[:, 0:1, None], state[:, 2:3, None]                   # (n, 1, 1)
    world = 2 * X_THRESHOLD * 1.1                                          # metres across the image
    scale = width / world
    cols = np.arange(width)[None, None, :] + 0.5                          # (1, 1, W)
    rows = np.arange(size)[None, :, None] + 0.5                           # (1, H, 1)
    track_y = 0.78 * size
    cart_x = width / 2 + x * scale                                         # (n, 1, 1) pixel centre of the cart
    cart_w, cart_h = 0.5 * scale, 0.3 * scale
    img = np.zeros((len(state), size, width), np.float32)
    img += (np.abs(rows - track_y) < 0.5).astype(np.float32) * 0.3
    cart = (np.abs(cols - cart_x) <= cart_w / 2) & (np.abs(rows - (track_y - cart_h / 2)) <= cart_h / 2)
    img = np.maximum(img, cart * 0.6)
    # the pole: points within half a thickness of the segment from the cart's top to its tip
    px, py = cart_x, track_y - cart_h                                      # pivot
    pole_len = 2 * LENGTH * scale * 2.0
    tx, ty = px + pole_len * np.sin(theta), py - pole_len * np.cos(theta)  # tip
    dx, dy = tx - px, ty - py
    u = np.clip(((cols - px) * dx + (rows - py) * dy) / (dx * dx + dy * dy), 0, 1)
    dist = np.hypot(cols - (px + u * dx), rows - (py + u * dy))
    thick = max(1.5, 0.12 * scale)
    img = np.maximum(img, np.clip(thick - dist + 0.5, 0, 1))
    return img.astype(np.float32)
