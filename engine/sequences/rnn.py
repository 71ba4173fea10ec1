r"""RNN, LSTM and GRU one step at a time: every gate and state per step, backpropagation through time (the gradient
reaching each earlier step), gradient clipping by norm and by value, the bidirectional RNN, and the three cells
trained on a task that needs memory (recall the first symbol after a delay of distractors).

Weights are kept in PyTorch's layout (`weight_ih (G·H, D)`, `weight_hh (G·H, H)`, `bias_ih`, `bias_hh`, gates in
PyTorch's order: LSTM i, f, g, o; GRU r, z, n), so the oracle `torch.nn.RNN/LSTM/GRU` takes them as they are.

Notation (E資格): LSTM forget gate $f$, input gate $i$, output gate $o$, candidate $g$ (also written $\tilde c$),
cell state $c$; GRU update gate $z$, reset gate $r$, candidate $n$ (also $\tilde h$). PyTorch's GRU (this module's)
keeps the old state with weight $z$: $h_t = (1 - z_t)\odot n_t + z_t\odot h_{t-1}$; Cho et al. (2014) write the
same, some textbooks swap $z$ and $1 - z$ (then $z$ is the share of the *new* candidate).

References
----------
Elman, Cognitive Science 14, 1990 (the simple RNN); Hochreiter & Schmidhuber, Neural Computation 9(8), 1997 (LSTM);
Gers, Schmidhuber & Cummins, 2000 (the forget gate); Cho et al., EMNLP 2014, Eqs. 5–8 (GRU);
Schuster & Paliwal, IEEE TSP 45(11), 1997 (bidirectional RNN); Pascanu, Mikolov & Bengio, ICML 2013 (vanishing and
exploding gradients, clipping by norm); Jozefowicz, Zaremba & Sutskever, ICML 2015 (forget-gate bias at init).
"""
from __future__ import annotations

import math
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

KINDS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}              # blocks of H rows in weight_ih / weight_hh
GATE_NAMES = {"rnn": (), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
MAX_CHARS = 40                                       # characters of the learner's sentence run through the cell


# ------------------------------------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class CellParams:
    """One cell's weights in PyTorch's layout."""
    kind: str                    # "rnn", "lstm" or "gru"
    weight_ih: np.ndarray        # (G·H, D)
    weight_hh: np.ndarray        # (G·H, H)
    bias_ih: np.ndarray          # (G·H,)
    bias_hh: np.ndarray          # (G·H,)

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @property
    def input_size(self) -> int:
        return self.weight_ih.shape[1]

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


def init_params(kind: str, input_size: int, hidden_size: int, rng: np.random.Generator, *,
                recurrent_scale: float = 1.0, forget_bias: float = 0.0) -> CellParams:
    r"""PyTorch's initialisation, every weight and bias from $U(-k, k)$ with $k = 1/\sqrt{H}$, drawn from `rng`;
    `weight_hh` multiplied by `recurrent_scale`; `forget_bias` added to the LSTM's forget-gate rows of `bias_ih`
    (Jozefowicz et al. 2015 use 1; PyTorch's default is 0)."""
    G, H = GATES[kind], hidden_size
    k = 1.0 / math.sqrt(H)
    w_ih = rng.uniform(-k, k, (G * H, input_size))
    w_hh = rng.uniform(-k, k, (G * H, H)) * recurrent_scale
    b_ih = rng.uniform(-k, k, G * H)
    b_hh = rng.uniform(-k, k, G * H)
    if kind == "lstm":
        b_ih[H:2 * H] += forget_bias
    return CellParams(kind, w_ih, w_hh, b_ih, b_hh)


def n_parameters(kind: str, input_size: int, hidden_size: int, *, two_biases: bool = True) -> int:
    r"""Parameters of one layer: $G\,(H D + H^2 + 2H)$ with PyTorch's two bias vectors, $G\,(HD + H^2 + H)$ with one
    ($G$ = 1 RNN, 4 LSTM, 3 GRU)."""
    G, H, D = GATES[kind], hidden_size, input_size
    return G * (H * D + H * H + (2 if two_biases else 1) * H)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))           # σ(x) without overflow


# ---------------------------------------------------------------------------------------------- one step
@dataclass(frozen=True)
class Step:
    """What one cell step computes (every array (B, H))."""
    h: np.ndarray
    c: np.ndarray | None = None                       # LSTM only
    gates: dict = field(default_factory=dict)         # LSTM: i, f, g, o; GRU: r, z, n, hn (= W_hn h + b_hn)


def cell_step(p: CellParams, x: np.ndarray, h: np.ndarray, c: np.ndarray | None = None) -> Step:
    r"""One step of the cell on a batch: `x (B, D)`, `h (B, H)`, `c (B, H)` (LSTM).

    RNN: $h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$

    LSTM: $f, i, o = \sigma(\cdot)$, $g = \tilde c_t = \tanh(\cdot)$ (each $W x_t + b + U h_{t-1}$),
    $c_t = f\odot c_{t-1} + i\odot g$, $h_t = o\odot\tanh(c_t)$

    GRU (PyTorch): $r, z = \sigma(\cdot)$, $n = \tanh(W_{in} x_t + b_{in} + r\odot(W_{hn} h_{t-1} + b_{hn}))$,
    $h_t = (1 - z)\odot n + z\odot h_{t-1}$
    """
    H = p.hidden_size
    gi = x @ p.weight_ih.T + p.bias_ih                 # (B, G·H)
    gh = h @ p.weight_hh.T + p.bias_hh                 # (B, G·H)
    if p.kind == "rnn":
        # h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        return Step(np.tanh(gi + gh))
    if p.kind == "lstm":
        a = gi + gh                                    # (B, 4H): i, f, g, o
        i, f = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])
        # c_t = f ⊙ c_{t-1} + i ⊙ g
        c_new = f * c + i * g
        # h_t = o ⊙ tanh(c_t)
        return Step(o * np.tanh(c_new), c_new, {"i": i, "f": f, "g": g, "o": o})
    if p.kind == "gru":
        r = _sigmoid(gi[:, :H] + gh[:, :H])
        z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        hn = gh[:, 2 * H:]                             # W_hn h_{t-1} + b_hn
        # n = tanh(W_in x + b_in + r ⊙ (W_hn h_{t-1} + b_hn))
        n = np.tanh(gi[:, 2 * H:] + r * hn)
        # h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
        return Step((1 - z) * n + z * h, None, {"r": r, "z": z, "n": n, "hn": hn})
    raise ValueError(f"unknown cell {p.kind!r}")


# ---------------------------------------------------------------------------------------------- a sequence
@dataclass(frozen=True)
class Trace:
    """A cell run over a batch of sequences; every array (B, T, H)."""
    kind: str
    h: np.ndarray                                     # h_1 … h_T
    c: np.ndarray | None                              # c_1 … c_T (LSTM)
    gates: dict                                       # name → (B, T, H)
    h0: np.ndarray                                    # (B, H) initial state
    c0: np.ndarray | None

    def at_step(self, t: int) -> dict[str, float]:
        """What the page says of step t (0-based) of sequence 0: ‖h_t‖, ‖c_t‖ (LSTM) and each gate's mean over
        the units."""
        out = {"h_norm": float(np.linalg.norm(self.h[0, t]))}
        if self.c is not None:
            out["c_norm"] = float(np.linalg.norm(self.c[0, t]))
        out.update({k: float(v[0, t].mean()) for k, v in self.gates.items() if k != "hn"})
        return out


def run(p: CellParams, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> Trace:
    """The cell over `x (B, T, D)` from `h0` (zeros by default), keeping every state and gate."""
    B, T, _ = x.shape
    H = p.hidden_size
    h = np.zeros((B, H)) if h0 is None else np.asarray(h0, float)
    c = (np.zeros((B, H)) if c0 is None else np.asarray(c0, float)) if p.kind == "lstm" else None
    hs, cs, gates = [], [], {}
    h_init, c_init = h, c
    for t in range(T):
        s = cell_step(p, x[:, t], h, c)
        h, c = s.h, s.c
        hs.append(h)
        cs.append(c)
        for k, v in s.gates.items():
            gates.setdefault(k, []).append(v)
    stack = (lambda a: np.stack(a, axis=1)) if T else (lambda a: np.zeros((B, 0, H)))
    return Trace(p.kind, stack(hs), stack(cs) if p.kind == "lstm" else None,
                 {k: stack(v) for k, v in gates.items()}, h_init, c_init)


@dataclass(frozen=True)
class BiTrace:
    """A bidirectional layer: the forward cell reads x_1 … x_T, the backward one x_T … x_1; both (B, T, H) in the
    original time order; `output` (B, T, 2H) = [h→_t ; h←_t] (torch.nn.RNN(bidirectional=True)'s output)."""
    forward: Trace
    backward: Trace
    output: np.ndarray


def bidirectional(p_fwd: CellParams, p_bwd: CellParams, x: np.ndarray) -> BiTrace:
    """Both directions over `x (B, T, D)`; the backward trace is flipped back into the original order."""
    fwd = run(p_fwd, x)
    back = run(p_bwd, x[:, ::-1])
    flip = lambda a: None if a is None else a[:, ::-1]              # noqa: E731
    bwd = Trace(back.kind, flip(back.h), flip(back.c), {k: flip(v) for k, v in back.gates.items()}, back.h0, back.c0)
    return BiTrace(fwd, bwd, np.concatenate([fwd.h, bwd.h], axis=-1))


# ---------------------------------------------------------------------------------------------- BPTT
@dataclass(frozen=True)
class BPTT:
    r"""Backpropagation through time of $L = \sum_j h_{T,j}$ (summed over the batch).

    `grad_x[:, t]` is $\partial L / \partial x_t$, what reaches step t's input; `grad_h[:, t]` is
    $\partial L/\partial h_t$ (for the LSTM the part through $h_t$ only, the cell state carries the rest);
    `grads` the parameters' gradients, in `CellParams.arrays()` order."""
    trace: Trace
    grad_x: np.ndarray                                # (B, T, D)
    grad_h: np.ndarray                                # (B, T, H)
    grads: tuple[np.ndarray, ...]                     # dW_ih, dW_hh, db_ih, db_hh
    loss: float

    @property
    def input_norms(self) -> np.ndarray:
        """(T,) mean over the batch of ‖∂L/∂x_t‖."""
        return np.linalg.norm(self.grad_x, axis=-1).mean(axis=0)


def bptt(p: CellParams, x: np.ndarray) -> BPTT:
    r"""The forward pass over `x (B, T, D)` and the backward pass by hand, step by step from T down to 1.

    RNN: $\delta a_t = \delta h_t \odot (1 - h_t^2)$, $\delta h_{t-1} = W_{hh}^\top \delta a_t$, so the gradient
    reaching step t carries the product $\prod_{s>t} W_{hh}^\top \mathrm{diag}(1 - h_s^2)$: it vanishes (or
    explodes) geometrically in T − t. LSTM: $\delta c_{t-1} = \delta c_t \odot f_t$ — multiplied by the forget gate
    only, no weight matrix, no tanh′ (the constant error carousel)."""
    tr = run(p, x)
    B, T, D = x.shape
    H = p.hidden_size
    w_ih, w_hh = p.weight_ih, p.weight_hh
    d_wih, d_whh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    d_bih, d_bhh = np.zeros_like(p.bias_ih), np.zeros_like(p.bias_hh)
    grad_x, grad_h = np.zeros((B, T, D)), np.zeros((B, T, H))
    dh = np.ones((B, H))                               # ∂L/∂h_T for L = Σ h_T
    dc = np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        grad_h[:, t] = dh
        h_prev = tr.h[:, t - 1] if t else tr.h0
        if p.kind == "rnn":
            # δa_t = δh_t ⊙ (1 − h_t²)
            da = dh * (1 - tr.h[:, t] ** 2)           # (B, H)
            dgi = dgh = da
        elif p.kind == "lstm":
            i, f, g, o = (tr.gates[k][:, t] for k in "ifgo")
            c, c_prev = tr.c[:, t], (tr.c[:, t - 1] if t else tr.c0)
            tc = np.tanh(c)
            # δc_t = δc_t(from t+1) + δh_t ⊙ o ⊙ (1 − tanh² c_t)
            dct = dc + dh * o * (1 - tc ** 2)
            da = np.concatenate([dct * g * i * (1 - i), dct * c_prev * f * (1 - f),
                                 dct * i * (1 - g ** 2), dh * tc * o * (1 - o)], axis=1)   # (B, 4H)
            dgi = dgh = da
            # δc_{t-1} = δc_t ⊙ f_t
            dc = dct * f
        else:
            r, z, n, hn = (tr.gates[k][:, t] for k in ("r", "z", "n", "hn"))
            dn = dh * (1 - z)
            dz = dh * (h_prev - n)
            dan = dn * (1 - n ** 2)
            dar = dan * hn * r * (1 - r)
            daz = dz * z * (1 - z)
            dgi = np.concatenate([dar, daz, dan], axis=1)          # (B, 3H)
            dgh = np.concatenate([dar, daz, dan * r], axis=1)      # (B, 3H)
        grad_x[:, t] = dgi @ w_ih
        d_wih += dgi.T @ x[:, t]
        d_whh += dgh.T @ h_prev
        d_bih += dgi.sum(axis=0)
        d_bhh += dgh.sum(axis=0)
        dh_prev = dgh @ w_hh
        if p.kind == "gru":
            dh_prev = dh_prev + dh * z                 # the direct path z ⊙ h_{t-1}
        dh = dh_prev
    loss = float(tr.h[:, -1].sum()) if T else 0.0
    return BPTT(tr, grad_x, grad_h, (d_wih, d_whh, d_bih, d_bhh), loss)


@dataclass(frozen=True)
class Vanishing:
    """‖∂L/∂x_t‖ for each cell (mean over a batch of random sequences), L = Σ h_T."""
    T: int
    norms: dict                                       # kind → (T,)
    grads: dict                                       # kind → the parameters' gradients (for the clipping demo)

    def ratio(self, kind: str) -> float:
        """‖∂L/∂x_1‖ / ‖∂L/∂x_T‖: how much of the last step's gradient reaches the first step."""
        return float(self.norms[kind][0] / self.norms[kind][-1])


def vanishing(T: int, *, hidden_size: int = 16, input_size: int = 4, batch: int = 8, recurrent_scale: float = 1.0,
              forget_bias: float = 0.0, seed: int = 0) -> Vanishing:
    """Each cell with PyTorch's initialisation (recurrent weights × `recurrent_scale`) on the same N(0, 1) inputs:
    the gradient norm that reaches every earlier step."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, T, input_size))
    norms, grads = {}, {}
    for kind in KINDS:
        p = init_params(kind, input_size, hidden_size, np.random.default_rng([seed, GATES[kind]]),
                        recurrent_scale=recurrent_scale, forget_bias=forget_bias)
        b = bptt(p, x)
        norms[kind], grads[kind] = b.input_norms, b.grads
    return Vanishing(T, norms, grads)


# ---------------------------------------------------------------------------------------------- clipping
@dataclass(frozen=True)
class Clipped:
    grads: tuple[np.ndarray, ...]
    total_norm: float                                 # ‖g‖ before clipping (all parameters together)
    clipped_norm: float
    cosine: float                                     # cos(g, clipped g): 1 = same direction


def clip_by_norm(grads, max_norm: float, eps: float = 1e-6) -> Clipped:
    r"""$g \leftarrow g \cdot \min\bigl(1, \frac{\text{max\_norm}}{\lVert g\rVert + \epsilon}\bigr)$ over all
    parameters together (torch.nn.utils.clip_grad_norm_, ε = 10⁻⁶): the direction is kept."""
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    # coefficient = max_norm / (‖g‖ + ε), at most 1
    coef = min(1.0, max_norm / (total + eps))
    return _clipped(grads, [g * coef for g in grads], total)


def clip_by_value(grads, clip_value: float) -> Clipped:
    r"""$g_k \leftarrow \max(-c, \min(c, g_k))$ element by element (torch.nn.utils.clip_grad_value_): the
    direction changes whenever some components are cut and others not."""
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    return _clipped(grads, [np.clip(g, -clip_value, clip_value) for g in grads], total)


def _clipped(grads, out, total: float) -> Clipped:
    a = np.concatenate([np.ravel(g) for g in grads])
    b = np.concatenate([np.ravel(g) for g in out])
    nb = float(np.linalg.norm(b))
    cos = float(a @ b / (total * nb)) if total > 0 and nb > 0 else 1.0
    return Clipped(tuple(out), total, nb, cos)


# ---------------------------------------------------------------------------------------------- the sentence
class SentenceError(ValueError):
    """A sentence the cell cannot read; `code` is a key of the chapter's `errors` table."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def characters(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """The characters the cell reads: NFKC, control and format characters (category C*) and surrounding blanks
    removed, at most `max_chars` (the rest is cut). SentenceError "empty" when nothing is left."""
    s = unicodedata.normalize("NFKC", text)
    s = "".join(ch for ch in s if not unicodedata.category(ch).startswith("C") or ch == " ")
    s = " ".join(s.split())
    if not s:
        raise SentenceError("empty")
    return list(s[:max_chars])


def embed(chars: list[str], dim: int, seed: int = 0) -> np.ndarray:
    """(T, dim): each character's fixed random vector N(0, 1/dim), drawn from a generator seeded with its code point
    (the same character, the same vector, in every sentence) — a stand-in for a learned embedding."""
    out = np.empty((len(chars), dim))
    for t, ch in enumerate(chars):
        out[t] = np.random.default_rng([seed, ord(ch)]).normal(0.0, 1.0 / math.sqrt(dim), dim)
    return out


def sentence_trace(text: str, kind: str, hidden_size: int, *, dim: int = 8, seed: int = 0,
                   forget_bias: float = 0.0) -> tuple[list[str], Trace]:
    """The learner's sentence, character by character, through one (untrained, PyTorch-initialised) cell."""
    chars = characters(text)
    x = embed(chars, dim, seed)[None]                                 # (1, T, dim)
    p = init_params(kind, dim, hidden_size, np.random.default_rng([seed, 7, GATES[kind]]), forget_bias=forget_bias)
    return chars, run(p, x)


def sentence_bidirectional(text: str, kind: str, hidden_size: int, *, dim: int = 8, seed: int = 0) \
        -> tuple[list[str], BiTrace]:
    chars = characters(text)
    x = embed(chars, dim, seed)[None]
    rng = np.random.default_rng([seed, 11, GATES[kind]])
    return chars, bidirectional(init_params(kind, dim, hidden_size, rng), init_params(kind, dim, hidden_size, rng), x)


NUMBER_LIMIT = 100.0                                 # |x_t| of a typed number sequence


def numbers(text: str, max_count: int = MAX_CHARS) -> list[float]:
    """A typed number sequence ("1, 0, 0, -0.5", 「１，０，０」): engine.common.text.parse_numbers, at most
    `max_count` numbers, each within ±NUMBER_LIMIT. Raises engine.common.text.TextError with the reason's code."""
    from engine.common.text import TextError, parse_numbers
    values = parse_numbers(text, max_count=max_count, max_chars=10 * max_count)
    for v in values:
        if abs(v) > NUMBER_LIMIT:
            raise TextError("out_of_range", token=f"{v:g}", low=f"{-NUMBER_LIMIT:g}", high=f"{NUMBER_LIMIT:g}")
    return values


def numbers_trace(values: list[float], kind: str, hidden_size: int, *, seed: int = 0) -> Trace:
    """A number sequence, one number x_t (D = 1) per step, through one (untrained, PyTorch-initialised) cell."""
    x = np.asarray(values, float).reshape(1, -1, 1)                   # (1, T, 1)
    return run(init_params(kind, 1, hidden_size, np.random.default_rng([seed, 13, GATES[kind]])), x)


def numbers_bidirectional(values: list[float], kind: str, hidden_size: int, *, seed: int = 0) -> BiTrace:
    x = np.asarray(values, float).reshape(1, -1, 1)
    rng = np.random.default_rng([seed, 17, GATES[kind]])
    return bidirectional(init_params(kind, 1, hidden_size, rng), init_params(kind, 1, hidden_size, rng), x)


# ---------------------------------------------------------------------------------------------- the memory task
@dataclass(frozen=True)
class MemoryConfig:
    delay: int = 40              # D: distractors between the symbol and the answer
    symbols: int = 8             # K: symbols to remember (chance = 1/K)
    embed: int = 16              # E: each token's learned vector (N(0, 1) at init, as torch.nn.Embedding)
    hidden: int = 32             # H
    batch: int = 64
    lr: float = 0.01             # Adam's η
    clip: float = 1.0            # clip_grad_norm_'s max_norm
    forget_bias: float = 3.0     # added to the LSTM's forget-gate bias at init
    steps: int = 3000
    every: int = 10              # updates between two snapshots (one pull ≲ 0.3 s on a busy core: Pause answers)
    n_test: int = 256            # held-out sequences
    seed: int = 0


TARGET_ACC = 0.95


def memory_batch(cfg: MemoryConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(tokens (n, D + 1), targets (n,)): a symbol in 0 … K − 1 first, then D distractors drawn from K other tokens
    (K … 2K − 1); the answer, read at the last step, is the first symbol. The cell has to keep the symbol and
    *not* write the distractors over it."""
    y = rng.integers(0, cfg.symbols, n)
    x = rng.integers(cfg.symbols, 2 * cfg.symbols, (n, cfg.delay + 1))
    x[:, 0] = y
    return x, y


@dataclass(frozen=True)
class MemorySnapshot:
    step: int
    kind: str
    steps: np.ndarray            # (S,) updates of the recorded points
    loss: np.ndarray             # (S,) mean training loss since the previous point (step 0: on the test set)
    acc: np.ndarray              # (S,) held-out accuracy
    grad_norm: np.ndarray        # (S,) mean ‖g‖ before clipping since the previous point (step 0: nan)
    reached: int | None          # first step with acc ≥ TARGET_ACC
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


def train_memory(cfg: MemoryConfig, kind: str) -> Iterator[MemorySnapshot]:
    """An embedding (2K tokens → E), one cell and a linear read-out of its last state learn the memory task with
    Adam and clipping by norm; one snapshot every `cfg.every` updates. Every weight drawn with numpy from the
    config's seed (the cell's by `init_params`), so every run of one config is the same."""
    import torch
    import torch.nn.functional as F

    K, V, E, H = cfg.symbols, 2 * cfg.symbols, cfg.embed, cfg.hidden
    rng = np.random.default_rng([cfg.seed, GATES[kind]])
    p = init_params(kind, E, H, rng, forget_bias=cfg.forget_bias)
    emb = torch.nn.Embedding(V, E)
    cell = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](E, H, batch_first=True)
    head = torch.nn.Linear(H, K)
    k = 1.0 / math.sqrt(H)
    with torch.no_grad():
        emb.weight.copy_(torch.as_tensor(rng.normal(size=(V, E))))
        for name, a in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), p.arrays()):
            getattr(cell, name).copy_(torch.as_tensor(a))
        head.weight.copy_(torch.as_tensor(rng.uniform(-k, k, (K, H))))
        head.bias.copy_(torch.as_tensor(rng.uniform(-k, k, K)))
    params = [*emb.parameters(), *cell.parameters(), *head.parameters()]
    from engine.common import optim
    opt = optim.Adam(params, lr=cfg.lr)     # = torch.optim.Adam, without its first-call import of torch._dynamo (~4 s)
    x_te, y_te = memory_batch(cfg, cfg.n_test, np.random.default_rng([cfg.seed, 99]))
    x_te_t = torch.as_tensor(x_te)
    y_te_t = torch.as_tensor(y_te)
    data_rng = np.random.default_rng([cfg.seed, 5])

    def logits(tokens):
        out, _ = cell(emb(tokens))                                     # (B, D + 1, H)
        return head(out[:, -1])                                        # (B, K)

    def evaluate() -> tuple[float, float]:
        with torch.no_grad():
            z = logits(x_te_t)
            return float(F.cross_entropy(z, y_te_t)), float((z.argmax(1) == y_te_t).float().mean())

    S = cfg.steps // cfg.every + 2
    steps, loss, acc, gn = np.zeros(S, np.int64), np.empty(S), np.empty(S), np.full(S, np.nan)
    loss[0], acc[0] = evaluate()
    n, done, reached = 1, 0, None
    t0 = time.perf_counter()

    def snapshot() -> MemorySnapshot:
        views = [steps[:n], loss[:n], acc[:n], gn[:n]]
        for v in views:
            v.flags.writeable = False
        return MemorySnapshot(done, kind, *views, reached, {"loss": float(loss[n - 1]), "acc": float(acc[n - 1])},
                              time.perf_counter() - t0)

    yield snapshot()
    while done < cfg.steps:
        stop = min(cfg.steps, done + cfg.every)
        tot, tot_g = 0.0, 0.0
        for _ in range(done, stop):
            xb, yb = memory_batch(cfg, cfg.batch, data_rng)
            l = F.cross_entropy(logits(torch.as_tensor(xb)), torch.as_tensor(yb))
            opt.zero_grad()
            l.backward()
            tot_g += float(torch.nn.utils.clip_grad_norm_(params, cfg.clip))
            opt.step()
            tot += float(l.detach())
        steps[n] = stop
        loss[n], gn[n] = tot / (stop - done), tot_g / (stop - done)
        acc[n] = evaluate()[1]
        if reached is None and acc[n] >= TARGET_ACC:
            reached = stop
        n += 1
        done = stop
        yield snapshot()
