r"""Deep metric learning on real digits: a Siamese network with Hadsell's contrastive loss, the triplet hinge, and
Hoffer & Ailon's softmax-ratio triplet loss, trained side by side on the digits 0–6 and tested on 7–9, which the
networks never see.

The embedding $f_W: \mathbb{R}^{784}\to\mathbb{R}^d$ is one small MLP per loss; $D = \lVert f_W(x_1)-f_W(x_2)\rVert_2$.

References
----------
Hadsell, Chopra, LeCun, "Dimensionality Reduction by Learning an Invariant Mapping", CVPR 2006, Eq. 4.
Chopra, Hadsell, LeCun, "Learning a Similarity Metric Discriminatively", CVPR 2005 (the $L_G$ / $L_I$ naming).
Hoffer & Ailon, "Deep metric learning using Triplet network", SIMBAD 2015 (arXiv:1412.6622), Eqs. 1–2.
Schroff, Kalenichenko, Philbin, "FaceNet", CVPR 2015, Eq. 1 (triplet hinge) and §3.2 (semi-hard negatives).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator, Literal

import numpy as np
import torch
from torch import nn

from engine.common import optim

LOSSES = ("contrastive", "triplet", "ratio")
MINING = ("random", "semihard", "hard")
SEEN = tuple(range(7))                  # classes trained on
UNSEEN = (7, 8, 9)                      # classes only ever retrieved
Mining = Literal["random", "semihard", "hard"]


# ---------------------------------------------------------------------------------------------------- losses
def contrastive_loss(d: torch.Tensor, y: torch.Tensor, margin: float) -> torch.Tensor:
    r"""Hadsell et al.'s contrastive loss per pair, with their label convention ($Y=0$ similar, $Y=1$ dissimilar):

    $$L(W, Y, X_1, X_2) = (1-Y)\tfrac12 D_W^2 + Y\tfrac12\{\max(0, m - D_W)\}^2$$

    Parameters
    ----------
    d : torch.Tensor [shape=(P,)]  distances $D_W$ between the two embeddings of each pair.
    y : torch.Tensor [shape=(P,)]  0 for a similar pair (same class), 1 for a dissimilar one.
    margin : float  $m > 0$: dissimilar pairs further apart than $m$ cost nothing.

    Returns
    -------
    torch.Tensor [shape=(P,)]

    References
    ----------
    Hadsell, Chopra, LeCun, CVPR 2006, Eq. 4.
    """
    y = y.to(d.dtype)
    # L = (1 − Y) ½ D² + Y ½ max(0, m − D)²
    return (1 - y) * 0.5 * d ** 2 + y * 0.5 * torch.clamp(margin - d, min=0) ** 2


def triplet_margin_loss(d_ap: torch.Tensor, d_an: torch.Tensor, margin: float) -> torch.Tensor:
    r"""The triplet hinge (FaceNet; the course notes' $D(a,p)+\mathrm{margin}<D(a,n)$):

    $$L = \max(0,\ D(a,p) - D(a,n) + m)$$

    Parameters
    ----------
    d_ap, d_an : torch.Tensor [shape=(T,)]  anchor–positive and anchor–negative distances.
    margin : float  $m$.

    Returns
    -------
    torch.Tensor [shape=(T,)], 0 for every triplet already satisfying the margin.

    References
    ----------
    Schroff et al., FaceNet, CVPR 2015, Eq. 1 (there with squared distances; torch.nn.TripletMarginLoss uses plain ones,
    as here).
    """
    # L = max(0, D(a,p) − D(a,n) + m)
    return torch.clamp(d_ap - d_an + margin, min=0)


def ratio_loss(d_ap: torch.Tensor, d_an: torch.Tensor) -> torch.Tensor:
    r"""Hoffer & Ailon's softmax-ratio triplet loss:

    $$d_\pm = \frac{e^{\lVert f(x)-f(x^\pm)\rVert_2}}{e^{\lVert f(x)-f(x^+)\rVert_2}+e^{\lVert f(x)-f(x^-)\rVert_2}},\qquad
    L = \lVert (d_+,\ d_- - 1)\rVert_2^2 = 2\,d_+^2$$

    ($d_- - 1 = -d_+$, hence "const·$d_+^2$" in the course notes, the constant being 2.) No margin: the loss is
    never exactly 0, only small once $D(a,n) \gg D(a,p)$.

    Parameters
    ----------
    d_ap, d_an : torch.Tensor [shape=(T,)]

    Returns
    -------
    torch.Tensor [shape=(T,)]

    References
    ----------
    Hoffer & Ailon, arXiv:1412.6622, Eqs. 1 (the softmax of distances) and 2 (the loss).
    """
    d = torch.softmax(torch.stack([d_ap, d_an], 1), dim=1)                 # (T, 2): (d+, d−)
    # L = ||(d+, d− − 1)||²
    return d[:, 0] ** 2 + (d[:, 1] - 1) ** 2


def pairwise_distances(e: torch.Tensor) -> torch.Tensor:
    """Euclidean distances (B, B) between rows of e (B, d); exact zeros on the diagonal, finite gradients."""
    diff = e[:, None, :] - e[None, :, :]                                    # (B, B, d)
    sq = (diff ** 2).sum(-1)                                                # (B, B)
    return torch.sqrt(sq + 1e-12) * (sq > 0)


# ---------------------------------------------------------------------------------------------------- mining
def mine_triplets(dist: np.ndarray, labels: np.ndarray, margin: float, mining: Mining,
                  rng: np.random.Generator) -> np.ndarray:
    r"""One triplet per anchor of a batch: a random positive, and a negative chosen by `mining`.

    - random: any sample of another class;
    - semihard: a negative farther than the positive but inside the margin, $D(a,p) < D(a,n) < D(a,p)+m$ (FaceNet
      §3.2); the hardest such one; an anchor with none falls back to a random negative;
    - hard: the closest negative, $\arg\min_n D(a,n)$.

    Parameters
    ----------
    dist : np.ndarray [shape=(B, B)]  distances in the current embedding (no gradient needed).
    labels : np.ndarray [shape=(B,)]
    margin : float
    mining : "random" | "semihard" | "hard"
    rng : np.random.Generator

    Returns
    -------
    np.ndarray [shape=(T, 3)] int, rows (anchor, positive, negative); anchors without a positive are skipped.
    """
    out = []
    same = labels[:, None] == labels[None, :]                               # (B, B)
    for a in range(len(labels)):
        pos = np.flatnonzero(same[a] & (np.arange(len(labels)) != a))
        neg = np.flatnonzero(~same[a])
        if len(pos) == 0 or len(neg) == 0:
            continue
        p = int(rng.choice(pos))
        if mining == "hard":
            n = int(neg[np.argmin(dist[a, neg])])
        elif mining == "semihard":
            d_an = dist[a, neg]
            ok = (d_an > dist[a, p]) & (d_an < dist[a, p] + margin)
            n = int(neg[ok][np.argmin(d_an[ok])]) if ok.any() else int(rng.choice(neg))
        else:
            n = int(rng.choice(neg))
        out.append((a, p, n))
    return np.asarray(out, dtype=np.int64).reshape(-1, 3)


def sample_pairs(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs for the Siamese loss, half similar half dissimilar: (pairs (P, 2) int, y (P,) with 0 = similar)."""
    B = len(labels)
    same = labels[:, None] == labels[None, :]
    i_s, j_s = np.nonzero(np.triu(same, 1))
    i_d, j_d = np.nonzero(np.triu(~same, 1))
    k = min(len(i_s), len(i_d), B)
    s = rng.choice(len(i_s), k, replace=False)
    d = rng.choice(len(i_d), k, replace=False)
    pairs = np.concatenate([np.stack([i_s[s], j_s[s]], 1), np.stack([i_d[d], j_d[d]], 1)])
    y = np.concatenate([np.zeros(k, np.int64), np.ones(k, np.int64)])
    return pairs, y


# ---------------------------------------------------------------------------------------------------- retrieval
def recall_at_k(emb: np.ndarray, labels: np.ndarray, ks: tuple[int, ...] = (1, 5)) -> dict[int, float]:
    r"""Recall@k of retrieval (Song et al. 2016): a query counts as a hit when one of its $k$ nearest neighbours
    (Euclidean, the query itself excluded) has its class.

    $$\mathrm{R@}k = \frac1N\sum_{q}\mathbb{1}\big[\exists\, j \in \mathrm{NN}_k(q):\ y_j = y_q\big]$$

    Parameters
    ----------
    emb : np.ndarray [shape=(N, d)]
    labels : np.ndarray [shape=(N,)]

    Returns
    -------
    {k: recall in [0, 1]}
    """
    e = np.asarray(emb, np.float64)
    sq = (e ** 2).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * e @ e.T                             # (N, N)
    np.fill_diagonal(d2, np.inf)
    kmax = max(ks)
    nn_idx = np.argsort(d2, axis=1, kind="stable")[:, :kmax]               # (N, kmax)
    hit = labels[nn_idx] == labels[:, None]                                 # (N, kmax)
    return {k: float(hit[:, :k].any(1).mean()) for k in ks}


# ---------------------------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class Config:
    loss: str = "triplet"          # "contrastive" | "triplet" | "ratio"
    margin: float = 1.0            # m (contrastive, triplet; semi-hard mining)
    mining: str = "semihard"       # "random" | "semihard" | "hard" (triplet, ratio)
    dim: int = 8                   # embedding dimension d (2: drawn as it is; more: PCA to 2-D)
    hidden: int = 128              # MLP width
    batch_size: int = 140          # 20 per seen class
    lr: float = 1e-3               # Adam
    snapshot_every: int = 20       # optimiser steps per snapshot
    max_steps: int = 3000
    n_show: int = 30               # points per class drawn
    n_eval: int = 500              # unseen images per class used for recall@k (≤ 500)
    seed: int = 0


@dataclass(frozen=True)
class Snapshot:
    step: int
    emb: np.ndarray                # (10 n_show, 2) float32, embeddings drawn (first two coordinates / PCA)
    labels: np.ndarray             # (10 n_show,) int
    loss: float                    # mean training loss over the last snapshot's steps
    zero_share: float              # share of the trained pairs/triplets with loss exactly 0 (last batch)
    zero_share_random: float       # the same share for random triplets/pairs of that batch
    recall1: float                 # R@1 among unseen classes 7–9
    recall5: float
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


class Embedder(nn.Module):
    """x (B, 1, 28, 28) → f_W(x) (B, d): a two-layer MLP."""

    def __init__(self, dim: int, hidden: int, generator: torch.Generator):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2),
                                 nn.ReLU(), nn.Linear(hidden // 2, dim))
        with torch.no_grad():
            for m in self.net:
                if isinstance(m, nn.Linear):   # Kaiming-uniform like torch's default, from the local generator
                    bound = 1 / m.in_features ** 0.5
                    m.weight.copy_((torch.rand(m.weight.shape, generator=generator) * 2 - 1) * bound)
                    m.bias.copy_((torch.rand(m.bias.shape, generator=generator) * 2 - 1) * bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)                                                  # (B, d)


def _data() -> tuple[torch.Tensor, np.ndarray]:
    from engine.common.digits import mnist_5k_float
    x, y = mnist_5k_float()
    return torch.from_numpy(x), y


def batch_losses(emb: torch.Tensor, labels: np.ndarray, cfg: Config, rng: np.random.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(per-item losses of the mined pairs/triplets, per-item losses of random ones) for one batch of embeddings."""
    dist = pairwise_distances(emb)                                          # (B, B)
    if cfg.loss == "contrastive":
        pairs, y = sample_pairs(labels, rng)
        mined = contrastive_loss(dist[pairs[:, 0], pairs[:, 1]], torch.from_numpy(y), cfg.margin)
        return mined, mined.detach()
    dn = dist.detach().numpy()
    trip = mine_triplets(dn, labels, cfg.margin, cfg.mining, rng)
    rand = trip if cfg.mining == "random" else mine_triplets(dn, labels, cfg.margin, "random", rng)
    fn = (lambda ap, an: triplet_margin_loss(ap, an, cfg.margin)) if cfg.loss == "triplet" else ratio_loss
    mined = fn(dist[trip[:, 0], trip[:, 1]], dist[trip[:, 0], trip[:, 2]])
    random = fn(dist[rand[:, 0], rand[:, 1]], dist[rand[:, 0], rand[:, 2]]).detach()
    return mined, random


def train(cfg: Config, seed: int | None = None) -> Iterator[Snapshot]:
    """Train one embedding with `cfg.loss` on digits 0–6; every `snapshot_every` steps yield the drawn embeddings
    and recall@1/@5 among the unseen 7–9. Deterministic given the seed (local torch.Generator and numpy rng)."""
    seed = cfg.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    x, y = _data()
    by_class = {c: np.flatnonzero(y == c) for c in range(10)}
    show = np.concatenate([by_class[c][:cfg.n_show] for c in range(10)])
    ev = np.concatenate([by_class[c][:cfg.n_eval] for c in UNSEEN])
    train_idx = {c: by_class[c] for c in SEEN}
    net = Embedder(cfg.dim, cfg.hidden, g)
    opt = optim.Adam(net.parameters(), lr=cfg.lr)   # = torch.optim.Adam without its first-call torch._dynamo import
    per_class = max(2, cfg.batch_size // len(SEEN))
    proj = None
    step, t_total, losses = 0, 0.0, []
    zero = zero_r = float("nan")
    while True:
        t0 = time.perf_counter()
        with torch.no_grad():
            shown = net(x[show]).numpy()                                    # (10 n_show, d)
            r = recall_at_k(net(x[ev]).numpy(), y[ev])
        if cfg.dim > 2:
            if proj is None:                                                # a fixed PCA basis from step 0's spread,
                proj = _pca_basis(shown)                                    # refreshed if it degenerates
            shown = (shown - shown.mean(0)) @ proj
        t_total += time.perf_counter() - t0
        loss = float(np.mean(losses)) if losses else float("nan")
        yield Snapshot(step=step, emb=np.round(shown[:, :2], 3).astype(np.float32), labels=y[show].copy(),
                       loss=loss, zero_share=zero, zero_share_random=zero_r, recall1=r[1], recall5=r[5],
                       metrics={"loss": loss, "recall1": r[1], "recall5": r[5], "zero_share": zero},
                       seconds=t_total)
        if step >= cfg.max_steps:
            return
        t0 = time.perf_counter()
        losses = []
        for _ in range(cfg.snapshot_every):
            idx = np.concatenate([rng.choice(train_idx[c], per_class, replace=False) for c in SEEN])
            emb = net(x[idx])                                               # (B, d)
            mined, random = batch_losses(emb, y[idx], cfg, rng)
            loss_t = mined.mean()
            opt.zero_grad()
            loss_t.backward()
            opt.step()
            losses.append(loss_t.item())
            step += 1
        zero = float((mined.detach() == 0).float().mean())
        zero_r = float((random == 0).float().mean())
        t_total += time.perf_counter() - t0
        if cfg.dim > 2 and step % (10 * cfg.snapshot_every) == 0:
            proj = None


def _pca_basis(e: np.ndarray) -> np.ndarray:
    """(d, 2): the two leading principal directions of e (N, d), signs fixed (largest loading positive)."""
    c = e - e.mean(0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    v = vt[:2].T                                                           # (d, 2)
    return v * np.sign(v[np.argmax(np.abs(v), 0), [0, 1]])


def pixel_recall() -> dict[int, float]:
    """Recall@1/@5 among 7–9 on raw pixels (the baseline a learned metric has to beat)."""
    x, y = _data()
    ev = np.concatenate([np.flatnonzero(y == c) for c in UNSEEN])
    return recall_at_k(x[ev].reshape(len(ev), -1).numpy(), y[ev])


# ---------------------------------------------------------------------------------------------------- photos
@dataclass(frozen=True)
class Neighbours:
    index: np.ndarray              # (k,) gallery indices, nearest first
    distance: np.ndarray           # (k,) cosine distances 1 − cos


def embed_photos(model: nn.Module, rgbs: list[np.ndarray]) -> np.ndarray:
    """A pretrained metric: MobileNetV2's global-average-pooled features, L2-normalised, (N, 1280), of square RGB
    crops (S, S, 3) uint8."""
    from engine.common import classifier
    with torch.inference_mode():
        x = torch.cat([classifier.to_tensor(r) for r in rgbs])             # (N, 3, S, S)
        h = torch.nn.functional.adaptive_avg_pool2d(model.features(x), 1).flatten(1)   # (N, 1280)
    return torch.nn.functional.normalize(h, dim=1).numpy()


def nearest(query: np.ndarray, gallery: np.ndarray, k: int) -> Neighbours:
    r"""The $k$ gallery rows closest to `query` (d,) by cosine distance $1-\cos(q, g)$ (rows L2-normalised)."""
    d = 1.0 - gallery @ query                                               # (G,)
    idx = np.argsort(d, kind="stable")[:k]
    return Neighbours(index=idx, distance=d[idx])


def gallery_views(rgb: np.ndarray) -> list[np.ndarray]:
    """Three shots of one square photo (S, S, 3) for the gallery: mirrored, and two zoomed crops (the same subject
    seen again, as re-identification must match it)."""
    from PIL import Image
    s = rgb.shape[0]
    img = Image.fromarray(rgb)
    crops = [img.crop((0, 0, 3 * s // 4, 3 * s // 4)), img.crop((s // 4, s // 4, s, s))]
    return [np.ascontiguousarray(rgb[:, ::-1])] + [np.asarray(c.resize((s, s), Image.BILINEAR)) for c in crops]
