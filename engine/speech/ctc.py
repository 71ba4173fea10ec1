r"""Connectionist Temporal Classification: collapse, trellis (α, β), loss, gradient, decoding.

Every quantity lives in log space. The recursions loop over frames only; all trellis states of a frame are
updated at once with vector operations, and α and β run in one batched loop (β is α of the time-reversed
problem on the reversed extended label sequence).

Notation follows Graves et al., "Connectionist Temporal Classification: Labelling Unsegmented Sequence Data
with Recurrent Neural Networks", ICML 2006: frame posteriors $y_t^k$, target $l$ of length
$U$, extended labels $l' = (-, l_1, -, l_2, \dots, l_U, -)$ of length $S = 2U + 1$, collapse
map $\mathcal{B}$ and its preimage $\mathcal{B}^{-1}(l)$ (the alignments of $l$).
``log_probs`` has shape ``(T, C)`` (frames × labels incl. blank) as in ``torch.nn.functional.ctc_loss``.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Sequence

import numpy as np

NEG_INF = -np.inf


# ----------------------------------------------------------------------------------------------- collapse B

def merge_repeats(path: Sequence[int]) -> list[int]:
    """First step of $\\mathcal{B}$: consecutive identical labels become one."""
    path = [int(k) for k in path]
    return [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]


def collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    r"""The collapse map $\mathcal{B}$: merge repeated labels, then remove blanks.

    $$\mathcal{B}(a, -, -, b, b, -, c, c) = (a, b, c)$$

    Graves et al. 2006, Sec. 3.1.
    """
    return [k for k in merge_repeats(path) if k != blank]


def extend(targets: Sequence[int], blank: int = 0) -> np.ndarray:
    r"""Extended label sequence $l' = (-, l_1, -, \dots, -, l_U, -)$, shape (2U+1,)."""
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)  # (U,)
    ext = np.full(2 * len(targets) + 1, blank, dtype=np.int64)  # (S,)
    ext[1::2] = targets
    return ext


def skip_allowed(ext: np.ndarray, blank: int = 0) -> np.ndarray:
    r"""Which states may be entered from two states below (skipping a blank): $l'_s \ne -$ and
    $l'_s \ne l'_{s-2}$. Shape (S,), bool."""
    ok = np.zeros(len(ext), dtype=bool)  # (S,)
    ok[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    return ok


def min_frames(targets: Sequence[int]) -> int:
    """The fewest frames that can carry `targets`: U plus one blank between each pair of repeated labels."""
    targets = list(targets)
    return len(targets) + sum(a == b for a, b in zip(targets, targets[1:]))


def count_alignments(targets: Sequence[int], T: int) -> int:
    r"""Closed form of $|\mathcal{B}^{-1}(l)|$ for $T$ frames.

    An alignment is $-^{b_0} l_1^{n_1} -^{b_1} \cdots l_U^{n_U} -^{b_U}$ with $n_u \ge 1$,
    $b_u \ge 0$ and $b_u \ge 1$ between the $r$ repeated pairs; distributing the
    $T - U - r$ free frames over the $2U+1$ segments gives

    $$|\mathcal{B}^{-1}(l)| = \binom{T + U - r}{2U}.$$
    """
    U, free = len(targets), T - min_frames(targets)
    return comb(free + 2 * U, 2 * U) if free >= 0 else 0


# -------------------------------------------------------------------------------------------- trellis α, β

def _emissions(log_probs: np.ndarray, ext: np.ndarray) -> np.ndarray:
    return np.asarray(log_probs, dtype=np.float64)[:, ext]  # (T, S): log y_t^{l'_s}


def _alpha_batch(emit: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """The forward recursion for a batch of trellises: emit (B, T, S), skip (B, S) → log α (B, T, S).

    The B rows are laid side by side in one flat row per frame, separated by one -inf pad state, so each frame
    is a handful of contiguous vector operations whatever B is. S = 2U+1 is odd, so every row starts at an even
    offset and label states (odd s) sit at odd positions: the skip term only touches those.
    """
    B, T, S = emit.shape
    L = B * (S + 1) - 1
    starts = np.arange(B) * (S + 1)  # (B,) offset of each row
    flat_emit = np.full((T, L), NEG_INF)  # (T, L), pads stay -inf
    flat_skip = np.zeros(L, dtype=bool)  # (L,)
    for b, o in enumerate(starts):
        flat_emit[:, o:o + S] = emit[b]
        flat_skip[o:o + S] = skip[b]
    out = np.full((T, L), NEG_INF)  # (T, L)
    # α_1(1) = y_1^-, α_1(2) = y_1^{l_1}, α_1(s) = 0 otherwise
    for o in starts:
        out[0, o:o + 2] = flat_emit[0, o:o + 2]
    skip_add = np.where(flat_skip[3::2], 0.0, NEG_INF)  # log of the skip indicator at odd positions ≥ 3
    tmp = np.empty_like(skip_add)
    # two frame buffers used in turn, their slices made once: each frame is then five vector operations
    bufs = (out[0].copy(), np.empty(L))
    views = [(b[1:], b[:-1], b[1:-2:2], b[3::2]) for b in bufs]
    for t in range(1, T):
        prev, cur = bufs[(t - 1) & 1], bufs[t & 1]  # (L,)
        p_s, p_before, p_skip, _ = views[(t - 1) & 1]
        c_s, _, _, c_skip = views[t & 1]
        # α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) [+ α_{t-1}(s-2) if skip_allowed(s)]) · y_t^{l'_s}
        cur[0] = prev[0]
        np.logaddexp(p_s, p_before, out=c_s)
        np.add(p_skip, skip_add, out=tmp)
        np.logaddexp(c_skip, tmp, out=c_skip)
        np.add(cur, flat_emit[t], out=cur)
        out[t] = cur
    return np.stack([out[:, o:o + S] for o in starts])  # (B, T, S)


def forward(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> np.ndarray:
    r"""Forward variables $\log\alpha_t(s)$, shape (T, 2U+1).

    $$\alpha_t(s) = \bigl(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
    + [\,l'_s \ne - \wedge l'_s \ne l'_{s-2}\,]\,\alpha_{t-1}(s-2)\bigr)\, y_t^{l'_s}$$

    with $\alpha_1(1) = y_1^-$, $\alpha_1(2) = y_1^{l_1}$. Graves et al. 2006, Sec. 4.1.
    """
    ext = extend(targets, blank)  # (S,)
    emit = _emissions(log_probs, ext)  # (T, S)
    return _alpha_batch(emit[None], skip_allowed(ext, blank)[None])[0]


def backward(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> np.ndarray:
    r"""Backward variables $\log\beta_t(s)$, shape (T, 2U+1), including the emission at frame t
    (Graves 2006's convention and torch's), so that
    $\sum_s \alpha_t(s)\beta_t(s) / y_t^{l'_s} = P(l|x)$ for every t.

    $$\beta_t(s) = \bigl(\beta_{t+1}(s) + \beta_{t+1}(s+1)
    + [\,l'_s \ne - \wedge l'_s \ne l'_{s+2}\,]\,\beta_{t+1}(s+2)\bigr)\, y_t^{l'_s}$$

    with $\beta_T(S) = y_T^-$, $\beta_T(S-1) = y_T^{l_U}$. Graves et al. 2006, Sec. 4.1.
    Computed as α of the problem reversed in time and in states.
    """
    ext = extend(targets, blank)[::-1]  # (S,) reversed
    emit = _emissions(log_probs, ext)[::-1]  # (T, S) reversed in time
    return _alpha_batch(emit[None], skip_allowed(ext, blank)[None])[0][::-1, ::-1].copy()


def _log_likelihood(log_alpha: np.ndarray) -> float:
    # P(l|x) = α_T(S) + α_T(S-1)
    last = log_alpha[-1, -2:] if log_alpha.shape[1] > 1 else log_alpha[-1, -1:]
    return float(np.logaddexp.reduce(last))


def ctc_loss(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> float:
    r"""CTC loss $-\log P(l|x)$, $P(l|x) = \sum_{\pi\in\mathcal{B}^{-1}(l)} \prod_t y_t^{\pi_t}$;
    ``inf`` when no alignment fits in T frames. Graves et al. 2006, Sec. 4.1–4.2."""
    if len(log_probs) < min_frames(targets):
        return float("inf")
    return -_log_likelihood(forward(log_probs, targets, blank))


@dataclass(frozen=True)
class CTCLattice:
    ext: np.ndarray            # (S,) extended labels l', S = 2U+1
    log_alpha: np.ndarray      # (T, S)
    log_beta: np.ndarray       # (T, S), includes y_t^{l'_s}
    log_emit: np.ndarray       # (T, S) log y_t^{l'_s}
    log_likelihood: float      # log P(l|x), -inf when infeasible

    @property
    def occupancy(self) -> np.ndarray:
        r"""$\gamma_t(s) = \alpha_t(s)\beta_t(s) / (y_t^{l'_s} P(l|x))$, shape (T, S); rows sum to 1."""
        if not np.isfinite(self.log_likelihood):
            return np.zeros_like(self.log_alpha)
        with np.errstate(invalid="ignore"):
            g = np.exp(self.log_alpha + self.log_beta - self.log_emit - self.log_likelihood)  # (T, S)
        return np.nan_to_num(g, nan=0.0)

    def log_likelihood_per_frame(self) -> np.ndarray:
        r"""$\log\sum_s \alpha_t(s)\beta_t(s)/y_t^{l'_s}$ for every t, shape (T,): all equal log P(l|x)."""
        with np.errstate(invalid="ignore"):
            return np.logaddexp.reduce(self.log_alpha + self.log_beta - self.log_emit, axis=1)


def lattice(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> CTCLattice:
    """α and β of one target in a single batched loop (the forward and the reversed problem side by side)."""
    ext = extend(targets, blank)  # (S,)
    emit = _emissions(log_probs, ext)  # (T, S)
    emit2 = np.stack([emit, emit[::-1, ::-1]])  # (2, T, S)
    skip2 = np.stack([skip_allowed(ext, blank), skip_allowed(ext[::-1], blank)])  # (2, S)
    both = _alpha_batch(emit2, skip2)  # (2, T, S)
    log_alpha, log_beta = both[0], both[1][::-1, ::-1].copy()
    ll = _log_likelihood(log_alpha) if len(emit) >= min_frames(targets) else NEG_INF
    return CTCLattice(ext=ext, log_alpha=log_alpha, log_beta=log_beta, log_emit=emit, log_likelihood=ll)


def label_occupancy(lat: CTCLattice, num_classes: int) -> np.ndarray:
    """Occupancy summed over the states of each label: shape (T, C)."""
    T = lat.log_alpha.shape[0]
    cell = np.arange(T)[:, None] * num_classes + lat.ext[None, :]  # (T, S): flat index of (t, l'_s)
    # γ_t(k) = Σ_{s: l'_s = k} γ_t(s)
    return np.bincount(cell.ravel(), weights=lat.occupancy.ravel(), minlength=T * num_classes).reshape(T, -1)


def gradient(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> np.ndarray:
    r"""Gradient of $-\log P(l|x)$ w.r.t. the logits $u_t^k$ under ``log_probs = log_softmax(u)``:

    $$\frac{\partial(-\log P(l|x))}{\partial u_t^k} = y_t^k$$
        - \frac{1}{P(l|x)} \sum_{s:\, l'_s = k} \frac{\alpha_t(s)\beta_t(s)}{y_t^k}

    Shape (T, C). Graves et al. 2006, Sec. 4.2. Zero when the target is infeasible.
    """
    lat = lattice(log_probs, targets, blank)
    if not np.isfinite(lat.log_likelihood):
        return np.zeros(np.shape(log_probs))
    y = np.exp(np.asarray(log_probs, dtype=np.float64))  # (T, C)
    return y - label_occupancy(lat, y.shape[1])


# ------------------------------------------------------------------------------------------------- paths

def path_log_prob(log_probs: np.ndarray, path: Sequence[int]) -> float:
    r"""$\log P(\pi|x) = \sum_t \log y_t^{\pi_t}$ (frames independent given x). Graves et al. 2006, Sec. 3.1."""
    lp = np.asarray(log_probs, dtype=np.float64)  # (T, C)
    return float(lp[np.arange(len(path)), np.asarray(path, dtype=np.int64)].sum())


@dataclass(frozen=True)
class Alignment:
    states: np.ndarray         # (T,) trellis state s_t (index into l')
    labels: np.ndarray         # (T,) frame labels π_t = l'_{s_t}
    log_prob: float            # log P(π|x)


def _viterbi(emit: np.ndarray, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max-product forward pass: emit (T, S), skip (S,) → log δ (T, S) and predecessor states (T, S)."""
    T, S = emit.shape
    skip_add = np.where(skip, 0.0, NEG_INF)  # (S,)
    delta = np.full((T, S), NEG_INF)  # (T, S)
    delta[0, :2] = emit[0, :2]
    back = np.zeros((T, S), dtype=np.int64)  # (T, S): predecessor state
    cand = np.full((3, S), NEG_INF)  # (3, S): stay, from s-1, from s-2
    for t in range(1, T):
        cand[0] = delta[t - 1]
        cand[1, 1:] = delta[t - 1, :-1]
        cand[2, 2:] = delta[t - 1, :-2] + skip_add[2:]
        # δ_t(s) = max(δ_{t-1}(s), δ_{t-1}(s-1), δ_{t-1}(s-2)) · y_t^{l'_s}
        arg = np.argmax(cand, axis=0)  # (S,)
        back[t] = np.arange(S) - arg
        delta[t] = cand[arg, np.arange(S)] + emit[t]
    return delta, back


def _backtrack(back: np.ndarray, t: int, s: int) -> np.ndarray:
    """States (t+1,) of the best path ending in state s at frame t."""
    states = np.empty(t + 1, dtype=np.int64)  # (t+1,)
    for u in range(t, -1, -1):
        states[u] = s
        s = back[u, s]
    return states


def best_alignment(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> Alignment | None:
    r"""Viterbi: the single most probable path $\arg\max_{\pi\in\mathcal{B}^{-1}(l)} P(\pi|x)$ (forced
    alignment); the α recursion with max in place of sum. None when infeasible."""
    ext = extend(targets, blank)  # (S,)
    emit = _emissions(log_probs, ext)  # (T, S)
    T, S = emit.shape
    if T < min_frames(targets):
        return None
    delta, back = _viterbi(emit, skip_allowed(ext, blank))
    ends = [S - 1] if S == 1 else [S - 2, S - 1]
    states = _backtrack(back, T - 1, ends[int(np.argmax(delta[-1, ends]))])
    labels = ext[states]
    return Alignment(states=states, labels=labels, log_prob=path_log_prob(log_probs, labels))


def best_alignment_through(log_probs: np.ndarray, targets: Sequence[int], t: int, s: int,
                           blank: int = 0) -> Alignment | None:
    r"""The most probable path of $\mathcal{B}^{-1}(l)$ that is in state s at frame t: a max-product
    pass forward to (t, s) and one backward from the end, joined there,

    $$\max_{\pi:\, \pi \text{ in } s \text{ at } t} P(\pi|x) = \delta_t(s)\,\bar\delta_t(s) / y_t^{l'_s}.$$

    None when no path of l passes through (t, s)."""
    ext = extend(targets, blank)  # (S,)
    emit = _emissions(log_probs, ext)  # (T, S)
    T, S = emit.shape
    if T < min_frames(targets) or not (0 <= t < T and 0 <= s < S):
        return None
    fwd, fback = _viterbi(emit, skip_allowed(ext, blank))
    bwd, bback = _viterbi(emit[::-1, ::-1], skip_allowed(ext[::-1], blank))  # the reversed problem
    if not (np.isfinite(fwd[t, s]) and np.isfinite(bwd[T - 1 - t, S - 1 - s])):
        return None
    head = _backtrack(fback, t, s)  # (t+1,) frames 0..t
    tail = S - 1 - _backtrack(bback, T - 1 - t, S - 1 - s)[::-1]  # (T-t,) frames t..T-1
    states = np.concatenate([head, tail[1:]])  # (T,)
    labels = ext[states]
    return Alignment(states=states, labels=labels, log_prob=path_log_prob(log_probs, labels))


def states_of(path: Sequence[int], targets: Sequence[int], blank: int = 0) -> np.ndarray:
    """The trellis states (T,) of an alignment π of l: walk l′ along the frame labels (π must be in B⁻¹(l))."""
    ext = extend(targets, blank)  # (S,)
    s, states = (0 if path[0] == blank else 1), []
    for k in path:
        while ext[s] != k:
            s += 1
        states.append(s)
    return np.array(states, dtype=np.int64)


def alignments(targets: Sequence[int], T: int, blank: int = 0, limit: int = 10_000) -> np.ndarray:
    r"""Every path of $\mathcal{B}^{-1}(l)$ with T frames, as frame labels (N, T), in trellis order.

    Walks the trellis frame by frame, keeping only states from which the end is still reachable.
    Raises ValueError when there are more than `limit` (see :func:`count_alignments`).
    """
    n = count_alignments(targets, T)
    if n > limit:
        raise ValueError(f"{n} alignments exceed the limit of {limit}")
    ext = extend(targets, blank)  # (S,)
    S = len(ext)
    if n == 0:
        return np.zeros((0, T), dtype=np.int64)
    reach = np.isfinite(backward(np.zeros((T, max(ext.max() + 1, blank + 1))), targets, blank))  # (T, S)
    skip = skip_allowed(ext, blank)  # (S,)
    paths = np.array([[s] for s in (0, 1) if s < S and reach[0, s]], dtype=np.int64)  # (N, 1) states
    for t in range(1, T):
        last = paths[:, -1:]  # (N, 1)
        nxt = last + np.arange(3)[None]  # (N, 3): stay, next, skip
        ok = (nxt < S) & reach[t, np.minimum(nxt, S - 1)]
        ok[:, 2] &= skip[np.minimum(nxt[:, 2], S - 1)]
        rows, cols = np.nonzero(ok)
        paths = np.concatenate([paths[rows], nxt[rows, cols][:, None]], axis=1)  # (N', t+1)
    return ext[paths]


# ---------------------------------------------------------------------------------------------- decoding

def greedy_decode(log_probs: np.ndarray, blank: int = 0) -> list[int]:
    r"""Best-path decoding: $\mathcal{B}(\arg\max_k y_t^k)$ frame by frame. Graves et al. 2006, Sec. 3.2."""
    return collapse(np.argmax(np.asarray(log_probs), axis=1), blank)


@dataclass(frozen=True)
class BeamStep:
    prefixes: tuple[tuple[int, ...], ...]   # (W,) kept prefixes after this frame, best first
    log_scores: np.ndarray                  # (W,) log(p_b + p_nb) of each


def beam_search_steps(log_probs: np.ndarray, beam_width: int, blank: int = 0) -> list[BeamStep]:
    r"""CTC prefix beam search (Hannun et al., "First-Pass Large Vocabulary Continuous Speech Recognition
    using Bi-Directional Recurrent DNNs", 2014, Algorithm 1, without a language model): each prefix keeps
    $p_b$ (paths ending in blank) and $p_{nb}$ (ending in its last label); per frame

    $$p_b(l) \mathrel{+}= (p_b(l) + p_{nb}(l))\, y_t^-,\quad
    p_{nb}(l) \mathrel{+}= p_{nb}(l)\, y_t^{l_{-1}},\quad
    p_{nb}(l{+}c) \mathrel{+}= \begin{cases} p_b(l)\, y_t^c & c = l_{-1} \\
    (p_b(l)+p_{nb}(l))\, y_t^c & \text{otherwise,}\end{cases}$$

    then the `beam_width` best prefixes by $p_b + p_{nb}$ are kept. Without pruning the score of a
    prefix at the last frame is exactly $P(l|x)$. Returns the beam after every frame.
    """
    lp = np.asarray(log_probs, dtype=np.float64)  # (T, C)
    T, C = lp.shape
    W = max(1, int(beam_width))
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}  # prefix → (log p_b, log p_nb)
    steps: list[BeamStep] = []
    not_blank = np.arange(C) != blank
    for t in range(T):
        y = lp[t]  # (C,)
        prefixes = list(beams)
        pb = np.array([beams[p][0] for p in prefixes])  # (B,)
        pnb = np.array([beams[p][1] for p in prefixes])  # (B,)
        total = np.logaddexp(pb, pnb)  # (B,)
        last = np.array([p[-1] if p else -1 for p in prefixes])  # (B,)
        has_last = last >= 0
        # staying on the prefix: a blank, or a repeat of its last label
        new_pb = total + y[blank]
        new_pnb = np.where(has_last, pnb + y[np.maximum(last, 0)], NEG_INF)
        # extending by c: (p_b + p_nb) y^c, but only p_b y^c when c repeats the last label
        ext = total[:, None] + y[None, :]  # (B, C)
        ext[:, ~not_blank] = NEG_INF
        rows = np.nonzero(has_last)[0]
        ext[rows, last[rows]] = pb[rows] + y[last[rows]]
        nxt: dict[tuple[int, ...], list[float]] = {p: [new_pb[i], new_pnb[i]] for i, p in enumerate(prefixes)}
        index = {p: i for i, p in enumerate(prefixes)}
        # extensions that land on a prefix already in the beam merge into it
        for p in prefixes:
            if p and p[:-1] in index:
                i = index[p[:-1]]
                nxt[p][1] = np.logaddexp(nxt[p][1], ext[i, p[-1]])
                ext[i, p[-1]] = NEG_INF
        # of the rest, only the W best extensions can make the beam
        flat = ext.ravel()
        k = min(W, int(np.isfinite(flat).sum()))
        if k:
            top = np.argpartition(-flat, k - 1)[:k]
            for j in top:
                i, c = divmod(int(j), C)
                nxt[prefixes[i] + (c,)] = [NEG_INF, float(flat[j])]
        scored = sorted(((float(np.logaddexp(*v)), p) for p, v in nxt.items()), key=lambda sp: -sp[0])[:W]
        beams = {p: tuple(nxt[p]) for _, p in scored}
        steps.append(BeamStep(prefixes=tuple(p for _, p in scored), log_scores=np.array([s for s, _ in scored])))
    return steps


def beam_search(log_probs: np.ndarray, beam_width: int, blank: int = 0) -> list[int]:
    """The best prefix of :func:`beam_search_steps` after the last frame."""
    steps = beam_search_steps(log_probs, beam_width, blank)
    return list(steps[-1].prefixes[0]) if steps else []


# ------------------------------------------------------------------------------------ frame probabilities

def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    r"""$\log y_t^k = u_t^k/\tau - \log\sum_j e^{u_t^j/\tau}$, over the last axis."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def random_logits(T: int, C: int, rng: np.random.Generator) -> np.ndarray:
    """Standard normal logits (T, C); divide by a temperature for peakier or flatter posteriors."""
    return rng.standard_normal((T, C))


# ------------------------------------------------------------------------------------- the page's lessons
BLANK_MARKS = frozenset({"-", "−", "_", "ε"})     # what a reader may type for the blank

# Frame-label sequence the logits favour, target, tie-breaking nudges (t, k, Δ): small matrices whose alignments
# tell a story (the course notes' example; a disagreement between greedy and beam search; a repeated label).
PRESETS: dict[str, tuple[str, str, tuple[tuple[int, int, float], ...]]] = {
    "abc": ("a - - b b - c c", "abc", ((1, 0, -1.5), (4, 0, 1.8), (6, 3, 2.0))),
    "disagree": ("- - -", "a", ((0, 1, 1.55), (1, 1, 1.55), (2, 1, 1.55))),
    "repeat": ("a a - a a", "aa", ((2, 1, 1.8),)),
}


@dataclass(frozen=True)
class Preset:
    logits: np.ndarray          # (T, C) editable logits u_t^k
    tokens: tuple[str, ...]     # (C,) "−" (blank, id 0) then the target's letters
    target: str                 # the target typed with spaces, e.g. "a b c"


def preset(name: str) -> Preset:
    """A preset's logits: 2.0 on the frame label each frame favours, plus the nudges that break ties."""
    frames, target, nudges = PRESETS[name]
    tokens = ("−", *sorted(set(target)))
    seq = ["−" if f in BLANK_MARKS else f for f in frames.split()]
    logits = np.zeros((len(seq), len(tokens)))  # (T, C)
    for i, f in enumerate(seq):
        logits[i, tokens.index(f)] = 2.0
    for i, k, d in nudges:
        logits[i, k] += d
    return Preset(logits=logits, tokens=tokens, target=" ".join(target))


def parse_frames(text: str) -> list[str]:
    """Frame labels typed with spaces (ASCII or the ideographic space); any blank mark becomes "−". Typed with a
    Japanese IME, full-width letters and the full-width hyphen count as their ASCII forms (「ａ　－　ｂ」 = "a - b")."""
    from engine.common.text import normalize_label

    return ["−" if tok in BLANK_MARKS else tok for tok in normalize_label(text).split()]


@dataclass(frozen=True)
class CollapseSteps:
    merged: list[str]           # repeats merged
    final: list[str]            # then blanks removed: B(π)


def collapse_steps(frames: Sequence[str]) -> CollapseSteps:
    """$\mathcal{B}$ in its two steps on typed frame labels ("−" is the blank)."""
    vocab = ["−"] + sorted({f for f in frames if f != "−"})
    ids = [vocab.index(f) for f in frames]
    return CollapseSteps(merged=[vocab[i] for i in merge_repeats(ids)], final=[vocab[i] for i in collapse(ids, 0)])


def count_repeats(targets: Sequence[int]) -> int:
    """r: neighbours with the same label, each needing a blank between them (so T ≥ U + r)."""
    return sum(a == b for a, b in zip(targets, targets[1:]))


@dataclass(frozen=True)
class AlignmentTable:
    paths: np.ndarray           # (N, T) every alignment π ∈ B⁻¹(l), most probable first
    log_p: np.ndarray           # (N,) log P(π|x) = Σ_t log y_t^{π_t}, descending
    total: float                # Σ_π P(π|x), summed path by path
    likelihood: float           # P(l|x) from the forward algorithm (the same number)


def alignment_table(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> AlignmentTable:
    r"""Every alignment with its probability, and their sum next to the forward algorithm's:

    $$P(l\mid x) = \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=1}^{T} y_t^{\pi_t} = \alpha_T(S) + \alpha_T(S-1)$$
    """
    T = len(log_probs)
    al = alignments(targets, T, blank)                               # (N, T)
    # log P(π|x) = Σ_t log y_t^{π_t}
    logp = log_probs[np.arange(T), al].sum(axis=1) if len(al) else np.zeros(0)   # (N,)
    order = np.argsort(-logp, kind="stable")
    return AlignmentTable(paths=al[order], log_p=logp[order], total=float(np.exp(logp).sum()),
                          likelihood=float(np.exp(_log_likelihood(forward(log_probs, targets, blank)))))


def speaking_probability(lat: CTCLattice) -> np.ndarray:
    """(T,) the probability, at each frame, of being on one of the target's labels rather than a blank:
    the occupancy summed over the odd states of $l'$."""
    return lat.occupancy[:, 1::2].sum(axis=1)


@dataclass(frozen=True)
class TorchCheck:
    loss_torch: float           # torch.nn.functional.ctc_loss(reduction="sum")
    loss_ours: float            # −log P(l|x) from our α
    max_grad_diff: float        # max |∂loss/∂u (torch autograd) − gradient()|


def check_with_torch(log_probs: np.ndarray, targets: Sequence[int], blank: int = 0) -> TorchCheck:
    """Our loss and gradient w.r.t. the logits against torch's CTC loss and autograd, on the same matrix."""
    import torch

    logits = torch.tensor(log_probs, dtype=torch.float64, requires_grad=True)       # (T, C)
    U = len(targets)
    loss = torch.nn.functional.ctc_loss(torch.log_softmax(logits, -1)[:, None],      # (T, 1, C)
                                        torch.tensor([list(targets)], dtype=torch.long).reshape(1, U),
                                        [len(log_probs)], [U], blank=blank, reduction="sum")
    (g,) = torch.autograd.grad(loss, logits)
    return TorchCheck(loss_torch=float(loss.detach()), loss_ours=ctc_loss(log_probs, targets, blank),
                      max_grad_diff=float(np.abs(g.numpy() - gradient(log_probs, targets, blank)).max()))


def prob_text(logp: float) -> str:
    """A probability from its log, as a power of ten where exp underflows."""
    return f"{np.exp(logp):.3g}" if logp > -600 else f"10^{logp / np.log(10):.1f}"


def count_text(n: int) -> str:
    """An exact count, or its order of magnitude when it has more than 12 digits."""
    if n < 10**12:
        return f"{n:,}"
    e = len(str(n)) - 1
    return f"≈ {int(str(n)[:3]) / 100:.2f} × 10^{e}"


@dataclass(frozen=True)
class Decoding:
    greedy: list[int]           # best path: argmax per frame, then B
    steps: list[BeamStep]       # prefix beam search, frame by frame
    beam: list[int]             # its best prefix after the last frame


def decode(log_probs: np.ndarray, beam_width: int, blank: int = 0) -> Decoding:
    """Greedy (best path) and prefix beam search on the same posteriors."""
    steps = beam_search_steps(log_probs, beam_width, blank)
    return Decoding(greedy=greedy_decode(log_probs, blank), steps=steps,
                    beam=list(steps[-1].prefixes[0]) if steps else [])
