r"""World Models on CartPole drawn as 64×64 images: V (a convolutional VAE), M (an MDN-RNN that predicts the next
latent as a mixture of Gaussians) and C (a linear controller optimised with CMA-ES), in the dream and in the real
environment.

V encodes a frame to $z$; M models $P(z_{t+1}\mid a_t, z_t, h_t)$ as a mixture of Gaussians per latent dimension
and predicts the end of the episode; C acts from $[z_t; h_t]$:

$$a_t = \mathbb 1\big[W\,[z_t;h_t] + b > 0\big]$$

References
----------
Ha & Schmidhuber, "Recurrent World Models Facilitate Policy Evolution", NeurIPS 2018 (arXiv:1803.10122, §2–§4,
Appendix A.1 for V's layer shapes); Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014 (Eq. 10, the
Gaussian KL); Bishop, "Mixture Density Networks", 1994; Hansen, "The CMA Evolution Strategy: A Tutorial", 2016.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from engine.common import cartpole, optim

SIZE = 64                                        # frames are SIZE × SIZE, one grey channel
PRETRAINED = Path(__file__).resolve().parents[2] / "assets" / "world_models" / "vm.pt"
MAX_STEPS = 200                                  # episode cap for C (real and dream)


# ------------------------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class Episodes:
    states: list            # per episode: (T+1, 4) s_0 … s_T
    actions: list           # per episode: (T,) int
    terminated: np.ndarray  # (E,) the episode ended by falling (not by the cap)


def collect_episodes(n_episodes: int, seed: int, max_steps: int = MAX_STEPS) -> Episodes:
    r"""Episodes of a noisy balancing policy: each episode mixes a hand-made controller
    ($a = \mathbb 1[\theta + 0.5\dot\theta + 0.05x + \epsilon > 0]$) with random actions at a rate drawn per
    episode, so the data shows both long balanced runs that drift along the track and quick falls."""
    rng = np.random.default_rng(seed)
    s = cartpole.reset_states(rng, n_episodes)                              # (E, 4)
    eps = rng.uniform(0.05, 1.0, n_episodes)                                # random-action rate per episode
    alive = np.ones(n_episodes, bool)
    states, actions = [s.copy()], []
    term = np.zeros(n_episodes, bool)
    for _ in range(max_steps):
        greedy = (s[:, 2] + 0.5 * s[:, 3] + 0.05 * s[:, 0] + 0.02 * rng.standard_normal(n_episodes) > 0)
        a = np.where(rng.random(n_episodes) < eps, rng.integers(0, 2, n_episodes), greedy).astype(int)
        s, t = cartpole.step_states(s, a)
        actions.append(a)
        states.append(s.copy())
        term |= alive & t
        alive &= ~t
        if not alive.any():
            break
    S, A = np.stack(states, 1), np.stack(actions, 1)                        # (E, T+1, 4), (E, T)
    out_s, out_a = [], []
    for e in range(n_episodes):
        done_at = np.flatnonzero(_fell(S[e, 1:]))
        T = int(done_at[0]) + 1 if len(done_at) else A.shape[1]
        out_s.append(S[e, :T + 1])
        out_a.append(A[e, :T])
    return Episodes(out_s, out_a, term)


def _fell(states: np.ndarray) -> np.ndarray:
    return (np.abs(states[:, 0]) > cartpole.X_THRESHOLD) | (np.abs(states[:, 2]) > cartpole.THETA_THRESHOLD)


def frames_of(states: np.ndarray) -> torch.Tensor:
    """Render states (N, 4) as frames. Returns (N, 1, 64, 64) float32 in [0, 1]."""
    return torch.from_numpy(cartpole.render(states, SIZE)).unsqueeze(1)


# ------------------------------------------------------------------------------------------------ V
class VAE(nn.Module):
    """The paper's V with a quarter of its channels: four 4×4 stride-2 convolutions (64→31→14→6→2), z, a dense
    layer and four stride-2 transposed convolutions of kernels 5, 5, 6, 6 (1→5→13→30→64), sigmoid output."""

    def __init__(self, z_dim: int = 8, ch: int = 8):
        super().__init__()
        self.z_dim = z_dim
        self.enc = nn.Sequential(nn.Conv2d(1, ch, 4, 2), nn.ReLU(), nn.Conv2d(ch, 2 * ch, 4, 2), nn.ReLU(),
                                 nn.Conv2d(2 * ch, 4 * ch, 4, 2), nn.ReLU(), nn.Conv2d(4 * ch, 8 * ch, 4, 2),
                                 nn.ReLU(), nn.Flatten())                   # (B, 8ch·2·2)
        self.mu = nn.Linear(32 * ch, z_dim)
        self.logvar = nn.Linear(32 * ch, z_dim)
        self.fc = nn.Linear(z_dim, 32 * ch)
        self.dec = nn.Sequential(nn.ConvTranspose2d(32 * ch, 4 * ch, 5, 2), nn.ReLU(),
                                 nn.ConvTranspose2d(4 * ch, 2 * ch, 5, 2), nn.ReLU(),
                                 nn.ConvTranspose2d(2 * ch, ch, 6, 2), nn.ReLU(),
                                 nn.ConvTranspose2d(ch, 1, 6, 2), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)                                                     # (B, 32ch)
        return self.mu(h), self.logvar(h)                                   # (B, z), (B, z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(self.fc(z)[:, :, None, None])                       # (B, 1, 64, 64)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        # z = μ + σ ε (reparameterisation)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * logvar) * eps                              # (B, z)
        return self.decode(z), mu, logvar


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""KL of $q(z\mid x)=\mathcal N(\mu,\sigma^2)$ from $\mathcal N(0, I)$, summed over latent dimensions.

    $$D_{KL} = \frac12\sum_j\left(\mu_j^2 + \sigma_j^2 - 1 - \ln\sigma_j^2\right)$$

    (Kingma & Welling 2014, Appendix B). Returns (B,).
    """
    # ½ Σ (μ² + σ² − 1 − log σ²)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)


def vae_loss(x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             kl_tolerance: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Reconstruction and KL, each averaged over the batch.

    The KL follows the paper's code (``vae.py`` of hardmaru's WorldModelsExperiments): each frame's KL is floored
    at `kl_tolerance` per latent dimension, *then* averaged,

    $$\overline{D}_{KL} = \frac1B\sum_{b=1}^{B}\max\big(D_{KL}^{(b)},\ \text{kl\_tolerance}\cdot z_{\dim}\big).$$

    The reconstruction term is binary cross-entropy summed over pixels (our frames are in [0, 1]); the paper's
    code uses the squared error $\sum_{\text{pixels}}(x-\hat x)^2$ instead.
    """
    rec = F.binary_cross_entropy(recon, x, reduction="none").flatten(1).sum(1).mean()
    # mean_b max(KL_b, tol · z_dim): floor per frame, then average (not the floor of the batch mean)
    kl = torch.clamp(kl_standard_normal(mu, logvar), min=kl_tolerance * mu.shape[-1]).mean()
    return rec, kl


# ------------------------------------------------------------------------------------------------ M
class MDNRNN(nn.Module):
    r"""M: an LSTM on $[z_t; \text{onehot}(a_t)]$ whose output gives, for each latent dimension, a mixture of
    $K$ Gaussians for $z_{t+1}$, and a logit for "the episode ends at t+1"."""

    def __init__(self, z_dim: int = 8, hidden: int = 64, K: int = 5, n_actions: int = 2):
        super().__init__()
        self.z_dim, self.hidden, self.K, self.n_actions = z_dim, hidden, K, n_actions
        self.lstm = nn.LSTM(z_dim + n_actions, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 3 * K * z_dim + 1)

    def forward(self, z: torch.Tensor, a: torch.Tensor, state=None):
        """z (B, T, z_dim), a (B, T) int → logit_pi, mu, log_sigma (B, T, z_dim, K), done_logit (B, T), h (B, T, H),
        state."""
        x = torch.cat([z, F.one_hot(a, self.n_actions).float()], -1)       # (B, T, z+A)
        h, state = self.lstm(x, state)                                      # (B, T, H)
        out = self.head(h)                                                  # (B, T, 3Kz + 1)
        B, T = out.shape[:2]
        mix = out[..., :-1].reshape(B, T, self.z_dim, 3, self.K)
        return mix[..., 0, :], mix[..., 1, :], mix[..., 2, :], out[..., -1], h, state


def mdn_log_prob(logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor,
                 z_next: torch.Tensor) -> torch.Tensor:
    r"""Log-likelihood of $z_{t+1}$ under the factorised mixture, summed over latent dimensions.

    $$\log p(z_{t+1}) = \sum_j \log\sum_{k=1}^K \pi_{jk}\,\mathcal N(z_{t+1,j};\mu_{jk},\sigma_{jk}^2)$$

    logit_pi, mu, log_sigma : (..., z_dim, K); z_next : (..., z_dim). Returns (...).
    """
    log_pi = F.log_softmax(logit_pi, -1)
    z = z_next.unsqueeze(-1)                                                # (..., z_dim, 1)
    # log N(z; μ, σ²) = −½((z−μ)/σ)² − log σ − ½ log 2π
    log_n = -0.5 * ((z - mu) / log_sigma.exp()).pow(2) - log_sigma - 0.5 * math.log(2 * math.pi)
    # log Σ_k π_k N_k = logsumexp_k(log π_k + log N_k)
    return torch.logsumexp(log_pi + log_n, -1).sum(-1)


def sample_mdn(logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor, tau: float,
               generator: torch.Generator) -> torch.Tensor:
    r"""Sample $z_{t+1}$ at temperature τ (the paper's sampling): mixture weights $\mathrm{softmax}(\text{logits}/\tau)$,
    standard deviations $\sigma\sqrt\tau$. Inputs (B, z_dim, K); returns (B, z_dim)."""
    tau = max(tau, 1e-3)
    probs = F.softmax(logit_pi / tau, -1)                                   # (B, z, K)
    B, Z, K = probs.shape
    k = torch.multinomial(probs.reshape(-1, K), 1, generator=generator).reshape(B, Z, 1)
    m = mu.gather(-1, k)[..., 0]
    s = log_sigma.gather(-1, k)[..., 0].exp() * math.sqrt(tau)
    return m + s * torch.randn(m.shape, generator=generator)


# ------------------------------------------------------------------------------------------ V and M loaded
@dataclass(frozen=True)
class WorldModel:
    vae: VAE
    mdn: MDNRNN
    meta: dict              # how it was trained (steps, losses, data)


def build(meta: dict) -> tuple[VAE, MDNRNN]:
    return VAE(meta["z_dim"], meta["ch"]), MDNRNN(meta["z_dim"], meta["hidden"], meta["K"])


def load_pretrained(path: Path = PRETRAINED) -> WorldModel:
    """V and M from `scripts/world_models/train_vm.py` (eval mode; never trained further in the app)."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    vae, mdn = build(blob["meta"])
    vae.load_state_dict(blob["vae"])
    mdn.load_state_dict(blob["mdn"])
    return WorldModel(vae.eval(), mdn.eval(), dict(blob["meta"]))


@torch.no_grad()
def encode_states(vae: VAE, states: np.ndarray) -> torch.Tensor:
    """μ of q(z | frame) for states (N, 4) drawn as frames. Returns (N, z_dim)."""
    return vae.encode(frames_of(states))[0]


# ------------------------------------------------------------------------------------------ training V, M
@dataclass(frozen=True)
class VAESnapshot:
    step: int
    metrics: dict                 # reconstruction, kl (per frame)
    frames: np.ndarray            # (n_show, 64, 64) frames shown
    recons: np.ndarray            # (n_show, 64, 64) their reconstructions (decode μ)
    seconds: float = 0.0


@dataclass(frozen=True)
class VAEConfig:
    z_dim: int = 8                # latent size (paper: 32 CarRacing, 64 VizDoom)
    ch: int = 8                   # channels of the first conv (paper: 32)
    batch_size: int = 32
    lr: float = 1e-3
    n_episodes: int = 60          # data for the live retraining
    steps: int = 300              # optimiser steps
    snapshot_every: int = 5
    n_show: int = 6
    seed: int = 0


def vae_data(cfg: VAEConfig) -> np.ndarray:
    eps = collect_episodes(cfg.n_episodes, cfg.seed)
    return np.concatenate(eps.states)                                      # (N, 4)


def init_local(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """torch's default initialisation of every Linear / Conv / ConvTranspose layer (kaiming-uniform weights with
    a = √5, uniform biases in ±1/√fan_in), drawn from a local generator instead of the global one."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                fan_in = m.weight.shape[1] * m.weight[0][0].numel()        # torch's fan_in (dim 1 × kernel)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
    return module


def train_vae(cfg: VAEConfig, states: np.ndarray | None = None, vae: VAE | None = None) -> Iterator[VAESnapshot]:
    """Train V on frames of `states` (Adam); a snapshot every `snapshot_every` steps with reconstructions."""
    t0 = time.perf_counter()
    torch_gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng([cfg.seed, 1])
    states = vae_data(cfg) if states is None else states
    if vae is None:
        vae = init_local(VAE(cfg.z_dim, cfg.ch), torch.Generator().manual_seed(cfg.seed + 1))
    opt = optim.Adam(vae.parameters(), lr=cfg.lr)   # = torch.optim.Adam without its first-call import of torch._dynamo
    show = frames_of(states[rng.choice(len(states), cfg.n_show, replace=False)])
    rec_sum = kl_sum = 0.0
    n = 0

    def snap(step):
        with torch.no_grad():
            r = vae.decode(vae.encode(show)[0])
        m = {"reconstruction": rec_sum / max(n, 1), "kl": kl_sum / max(n, 1)}
        return VAESnapshot(step, m, show[:, 0].numpy(), r[:, 0].numpy().round(3), time.perf_counter() - t0)

    yield snap(0)
    for step in range(1, cfg.steps + 1):
        x = frames_of(states[rng.integers(0, len(states), cfg.batch_size)])  # (B, 1, 64, 64)
        recon, mu, logvar = vae(x, torch_gen)
        rec, kl = vae_loss(x, recon, mu, logvar)
        opt.zero_grad()
        (rec + kl).backward()
        opt.step()
        rec_sum, kl_sum, n = rec_sum + rec.item(), kl_sum + kl.item(), n + 1
        if step % cfg.snapshot_every == 0 or step == cfg.steps:
            yield snap(step)
            rec_sum = kl_sum = 0.0
            n = 0


def episodes_to_z(vae: VAE, eps: Episodes) -> list[torch.Tensor]:
    """Each episode's frames encoded: list of (T+1, z_dim)."""
    return [encode_states(vae, s) for s in eps.states]


def mdn_batch(zs: list[torch.Tensor], actions: list, terminated: np.ndarray, idx: np.ndarray):
    """Padded batch: z (B, T, z), a (B, T), z_next (B, T, z), done (B, T), mask (B, T)."""
    T = max(len(actions[i]) for i in idx)
    B, Z = len(idx), zs[0].shape[1]
    z, zn = torch.zeros(B, T, Z), torch.zeros(B, T, Z)
    a, done, mask = torch.zeros(B, T, dtype=torch.long), torch.zeros(B, T), torch.zeros(B, T)
    for b, i in enumerate(idx):
        L = len(actions[i])
        z[b, :L], zn[b, :L] = zs[i][:-1], zs[i][1:]
        a[b, :L] = torch.as_tensor(actions[i])
        mask[b, :L] = 1
        done[b, L - 1] = float(terminated[i])
    return z, a, zn, done, mask


def mdn_loss(mdn: MDNRNN, z, a, zn, done, mask, pos_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Negative log-likelihood of z_{t+1} per latent dimension and the done BCE (episode ends weighted by
    `pos_weight`), averaged over valid steps."""
    logit_pi, mu, log_sigma, done_logit, _, _ = mdn(z, a)
    nll = -(mdn_log_prob(logit_pi, mu, log_sigma, zn) * mask).sum() / mask.sum() / z.shape[-1]
    bce = (F.binary_cross_entropy_with_logits(done_logit, done, reduction="none", pos_weight=torch.tensor(pos_weight))
           * mask).sum() / mask.sum()
    return nll, bce


# ------------------------------------------------------------------------------------------------ C
def n_controller_params(z_dim: int, hidden: int, use_h: bool) -> int:
    """W is 1 × (z_dim + hidden) (or 1 × z_dim without h), plus b."""
    return z_dim + (hidden if use_h else 0) + 1


def controller_act(params: np.ndarray, z: torch.Tensor, h: torch.Tensor | None) -> np.ndarray:
    r"""$a = \mathbb 1[W[z;h] + b > 0]$ for a batch of controllers. params (B, D), z (B, z), h (B, H). Returns (B,)."""
    x = z if h is None else torch.cat([z, h], 1)                            # (B, D−1)
    w = torch.as_tensor(params, dtype=torch.float32)
    # a = W [z; h] + b, thresholded at 0 (two actions)
    out = (x * w[:, :-1]).sum(1) + w[:, -1]
    return (out > 0).numpy().astype(int)


def real_rollouts(wm: WorldModel, params: np.ndarray, rng: np.random.Generator, use_h: bool = True,
                  max_steps: int = MAX_STEPS, chunk: int = 10) -> Iterator[int]:
    """Episodes in the real CartPole, one per row of `params` (B, D): each step the frame is drawn and encoded by
    V, C acts from [z; h], M's LSTM updates h. A generator: yields the number of steps done every `chunk` steps
    (so a live page can redraw); its return value (StopIteration.value) is the returns (B,)."""
    B = len(params)
    done_steps = 0
    s = cartpole.reset_states(rng, B)
    alive = np.ones(B, bool)
    ret = np.zeros(B)
    state = None
    h = torch.zeros(B, wm.mdn.hidden)
    for t in range(max_steps):
        # no_grad per step, never around the yield: a generator suspended inside the block would leave the
        # caller's thread with gradients off
        with torch.no_grad():
            z = wm.vae.encode(frames_of(s))[0]                              # (B, z)
            a = controller_act(params, z, h if use_h else None)
            if use_h:
                _, _, _, _, hs, state = wm.mdn(z[:, None], torch.as_tensor(a)[:, None], state)
                h = hs[:, 0]
        s, fell = cartpole.step_states(s, a)
        ret += alive
        done_steps += int(alive.sum())
        alive &= ~fell
        if not alive.any():
            break
        if (t + 1) % chunk == 0:
            yield done_steps                                                # environment steps since last yield
            done_steps = 0
    if done_steps:
        yield done_steps
    return ret


def dream_rollouts(wm: WorldModel, params: np.ndarray, z0: torch.Tensor, tau: float, generator: torch.Generator,
                   use_h: bool = True, max_steps: int = MAX_STEPS, chunk: int = 25) -> Iterator[int]:
    """Episodes inside M: from z_0 (B, z), C acts, M samples z_{t+1} at temperature τ and whether the episode
    ends (Bernoulli of M's done probability); reward 1 per step, as in CartPole. A generator like
    `real_rollouts` (yields dream steps every `chunk` steps); its return value is the returns (B,)."""
    B = len(params)
    z, state = z0.clone(), None
    h = torch.zeros(B, wm.mdn.hidden)
    alive = torch.ones(B, dtype=torch.bool)
    ret = np.zeros(B)
    done_steps = 0
    for t in range(max_steps):
        with torch.no_grad():                                               # per step, not around the yield
            a = controller_act(params, z, h if use_h else None)
            logit_pi, mu, log_sigma, done_logit, hs, state = wm.mdn(z[:, None], torch.as_tensor(a)[:, None], state)
            h = hs[:, 0]
            ret += alive.numpy()
            done_steps += int(alive.sum())
            done = torch.rand(B, generator=generator) < torch.sigmoid(done_logit[:, 0])
            alive &= ~done
            if not alive.any():
                break
            z = sample_mdn(logit_pi[:, 0], mu[:, 0], log_sigma[:, 0], tau, generator)
        if (t + 1) % chunk == 0:
            yield done_steps
            done_steps = 0
    if done_steps:
        yield done_steps
    return ret


@dataclass(frozen=True)
class Dream:
    real: np.ndarray        # (T, 64, 64) frames of the real episode
    dream: np.ndarray       # (T, 64, 64) M's dreamed frames (decoded z) from the same start and actions
    z_real: np.ndarray      # (T, z) V's μ of the real frames
    z_dream: np.ndarray     # (T, z) dreamed z
    p_done: np.ndarray      # (T,) M's probability that the episode ends at each dreamed step


@torch.no_grad()
def dream_vs_real(wm: WorldModel, tau: float, seed: int, steps: int = 40) -> Dream:
    """A real episode of the data's noisy balancing policy (the longest of 8) and M's dream from the same first frame with the same
    actions: M samples every z_{t+1} from its own previous sample (never sees the real frames after t = 0)."""
    eps = collect_episodes(8, seed, max_steps=steps)
    e = int(np.argmax([len(a) for a in eps.actions]))                      # the longest of 8 episodes
    s, a = eps.states[e], eps.actions[e]
    T = len(a)
    z_real = encode_states(wm.vae, s[:T])                                   # (T, z)
    gen = torch.Generator().manual_seed(seed)
    z, state = z_real[:1], None
    zs, pd = [z[0]], []
    for t in range(T - 1):
        logit_pi, mu, log_sigma, done_logit, _, state = wm.mdn(z[:, None], torch.as_tensor(a[t:t + 1])[:, None], state)
        pd.append(float(torch.sigmoid(done_logit[0, 0])))
        z = sample_mdn(logit_pi[:, 0], mu[:, 0], log_sigma[:, 0], tau, gen)
        zs.append(z[0])
    z_dream = torch.stack(zs)
    return Dream(frames_of(s[:T])[:, 0].numpy(), wm.vae.decode(z_dream)[:, 0].numpy(), z_real.numpy(),
                 z_dream.numpy(), np.array([0.0] + pd))


@torch.no_grad()
def decode_latent(wm: WorldModel, z: np.ndarray) -> np.ndarray:
    """Frames decoded from latents (N, z). Returns (N, 64, 64)."""
    return wm.vae.decode(torch.as_tensor(np.atleast_2d(z), dtype=torch.float32))[:, 0].numpy()


@dataclass(frozen=True)
class Reconstructions:
    frames: np.ndarray      # (N, 64, 64)
    recons: np.ndarray      # (N, 64, 64) decode(μ)
    mu: np.ndarray          # (N, z)


@torch.no_grad()
def reconstruct(wm: WorldModel, seed: int, n: int = 6) -> Reconstructions:
    """n frames from one episode of the data policy and V's reconstructions of them."""
    eps = collect_episodes(4, seed)
    s = np.concatenate(eps.states)
    s = s[np.linspace(0, len(s) - 1, n).astype(int)]
    x = frames_of(s)
    mu, _ = wm.vae.encode(x)
    return Reconstructions(x[:, 0].numpy(), wm.vae.decode(mu)[:, 0].numpy(), mu.numpy())


# ------------------------------------------------------------------------------------------------ CMA-ES
class CMA:
    """A thin ask/tell wrapper around `cma.CMAEvolutionStrategy` that *minimises* f, with its own random
    generator (no global numpy seeding: cma's `randn` option is given a local `np.random.Generator`)."""

    def __init__(self, x0: np.ndarray, sigma0: float, seed: int, popsize: int | None = None):
        import cma

        rng = np.random.default_rng(seed)
        opts = {"seed": np.nan, "randn": lambda *shape: rng.standard_normal(shape), "verbose": -9,
                "verb_disp": 0, "verb_log": 0, "tolfun": 0, "tolx": 0, "tolfunhist": 0, "tolstagnation": 10**9}
        if popsize:
            opts["popsize"] = popsize
        self.es = cma.CMAEvolutionStrategy(np.asarray(x0, float), sigma0, opts)

    @property
    def popsize(self) -> int:
        return self.es.popsize

    def ask(self) -> np.ndarray:
        return np.array(self.es.ask())                                      # (popsize, D)

    def tell(self, X: np.ndarray, f: np.ndarray) -> None:
        self.es.tell(list(X), list(map(float, f)))

    @property
    def mean(self) -> np.ndarray:
        return np.array(self.es.mean)


def minimise(f, x0: np.ndarray, sigma0: float, seed: int, iterations: int) -> tuple[np.ndarray, float]:
    """Run the wrapper for `iterations` generations on f: R^D → R. Returns (best x, best f)."""
    es = CMA(x0, sigma0, seed)
    best_x, best_f = None, np.inf
    for _ in range(iterations):
        X = es.ask()
        fx = np.array([f(x) for x in X])
        es.tell(X, fx)
        if fx.min() < best_f:
            best_f, best_x = float(fx.min()), X[fx.argmin()].copy()
    return best_x, best_f


@dataclass(frozen=True)
class CConfig:
    mode: str = "dream"           # "dream" (C on [z;h] in M), "real" (C on [z;h] in CartPole), "z_only" (C on z)
    tau: float = 1.0              # M's temperature in the dream
    popsize: int = 16             # CMA-ES population
    episodes: int = 2             # rollouts per candidate (fitness = mean return)
    generations: int = 30
    sigma0: float = 0.5
    eval_episodes: int = 4        # real episodes for the real return of the CMA mean
    seed: int = 0


@dataclass(frozen=True)
class CSnapshot:
    step: int                     # environment (or dream) steps of the candidates' rollouts so far
    generation: int
    metrics: dict                 # best / mean fitness of the last generation, real return of the CMA mean
    params: np.ndarray            # (D,) the CMA mean: W and b
    seconds: float = 0.0


def _progress(it: Iterator[int], counter: list, count: bool, generation: int, mean: np.ndarray, t0: float):
    """Drive a rollout generator, yielding an in-progress snapshot (no metrics) at each of its yields and counting
    its steps into `counter[0]` when `count` (evaluation steps are not counted). Returns the rollout's return
    value."""
    while True:
        try:
            n = next(it)
        except StopIteration as stop:
            return stop.value
        if count:
            counter[0] += n
        yield CSnapshot(counter[0], generation, {}, mean, time.perf_counter() - t0)


def train_controller(cfg: CConfig, wm: WorldModel) -> Iterator[CSnapshot]:
    """CMA-ES on C: each generation asks `popsize` controllers, scores each by its mean return (in M's dream, or
    in the real environment through V and M), tells CMA-ES the negated returns. After every generation the CMA
    mean is played in the real environment: for `mode="dream"` that is the return of a controller that never saw
    the real environment. Rollouts yield every 10 (real) or 25 (dream) steps so a live page stays responsive."""
    t0 = time.perf_counter()
    use_h = cfg.mode != "z_only"
    D = n_controller_params(wm.mdn.z_dim, wm.mdn.hidden, use_h)
    es = CMA(np.zeros(D), cfg.sigma0, cfg.seed, cfg.popsize)
    rng = np.random.default_rng([cfg.seed, 1])
    gen = torch.Generator().manual_seed(cfg.seed)
    counter = [0]                                                           # environment / dream steps so far
    yield CSnapshot(0, 0, {"generation": 0.0, "best": 0.0, "mean": 0.0, "real_return": 0.0}, es.mean, 0.0)
    for g in range(1, cfg.generations + 1):
        X = es.ask()
        P = np.repeat(X, cfg.episodes, 0)                                    # (pop·episodes, D)
        if cfg.mode == "dream":
            z0 = encode_states(wm.vae, cartpole.reset_states(rng, len(P)))
            R = yield from _progress(dream_rollouts(wm, P, z0, cfg.tau, gen, use_h), counter, True, g - 1, es.mean,
                                     t0)
        else:
            R = yield from _progress(real_rollouts(wm, P, rng, use_h), counter, True, g - 1, es.mean, t0)
        fit = R.reshape(len(X), cfg.episodes).mean(1)
        es.tell(X, -fit)
        real = yield from _progress(real_rollouts(wm, np.repeat(es.mean[None], cfg.eval_episodes, 0), rng, use_h),
                                    counter, False, g - 1, es.mean, t0)
        metrics = {"generation": float(g), "best": float(fit.max()), "mean": float(fit.mean()),
                   "real_return": float(real.mean())}
        yield CSnapshot(counter[0], g, metrics, es.mean, time.perf_counter() - t0)
